-- luacheck configuration (Debian's luacheck 1.1.0 runs on Lua 5.1 but
-- checks 5.4 code correctly with std = "lua54").
std = "lua54"
exclude_files = { "build/", ".luarocks/", "lua_modules/" }

files["spec"] = { std = "+busted" }
files["spec/support"] = { std = "lua54" }
files["examples"] = { globals = { "graph" } }
files["spec/support/fixtures.lua"] = { std = "+busted" }
-- wrk's script API (LuaJIT inside wrk): init and request are its hooks
files["bench/wrk_post.lua"] = { std = "luajit", globals = { "wrk", "init",
                                                            "request" } }
