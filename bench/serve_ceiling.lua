--- bench/serve_ceiling.lua -- the HTTP layer's ceiling for `make
-- bench-server`: the same listener as `crosstenant serve` (csrc/ct_http.c)
-- answering every request 200 with the bytes of BODY_FILE, in C, with
-- the model and Lua bypassed.
--
--   lua5.4 bench/serve_ceiling.lua BODY_FILE
--
-- Prints `listening on http://127.0.0.1:PORT`; stops on SIGINT/SIGTERM.
local dir = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."
dofile(dir .. "/util.lua")            -- the in-tree module paths
local httpd = require "crosstenant.httpd"
local f = assert(io.open(assert(arg[1], "usage: BODY_FILE"), "rb"))
local body = f:read("a")
f:close()
local srv = assert(httpd.http_server { host = "127.0.0.1", port = 0 })
print("listening on http://127.0.0.1:" .. srv:ports())
io.stdout:flush()
srv:run_constant(body)
srv:close()
