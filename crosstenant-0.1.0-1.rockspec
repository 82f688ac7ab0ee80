rockspec_format = "3.0"
package = "crosstenant"
version = "0.1.0-1"
source = {
   url = "git+https://example.invalid/crosstenant.git",
   tag = "v0.1.0",
}
description = {
   summary = "A model of Microsoft Graph's cross-tenant migration API",
   detailed = [[
A Lua 5.4 module with a C core that models the cross-tenant migration
jobs and tasks of Microsoft Graph: validation, store and JSON as Graph
returns it.
]],
   license = "MIT",
}
dependencies = {
   "lua >= 5.4, < 5.5",
   -- the command's parser (Debian lua-argparse)
   "argparse",
}
-- the module reads and writes JSON itself (exact integers, key order, []);
-- the specs use lua-cjson to check that what it writes reads back
test_dependencies = {
   "lua-cjson",
   "busted",
}
build = {
   type = "builtin",
   modules = {
      ["crosstenant.core"] = {
         sources = {
            "csrc/ct_enums.c",
            "csrc/ct_fault.c",
            "csrc/ct_db.c",
            "csrc/ct_json.c",
            "csrc/ct_life.c",
            "csrc/ct_map.c",
            "csrc/ct_change.c",
            "csrc/ct_query.c",
            "csrc/ct_request.c",
            "csrc/ct_request_auth.c",
            "csrc/ct_request_url.c",
            "csrc/ct_response.c",
            "csrc/ct_schema.c",
            "csrc/ct_snap.c",
            "csrc/ct_store.c",
            "csrc/ct_util.c",
            "csrc/lcore.c",
            "csrc/lencode.c",
            "csrc/lfault.c",
            "csrc/lquery.c",
            "csrc/lrequest.c",
            "csrc/lstate.c",
            "csrc/lschema.c",
         },
         incdirs = { "csrc" },
         -- SQLite for durable stores
         libraries = { "sqlite3" },
      },
      -- the HTTP server apart: only a process that serves loads
      -- libmicrohttpd (HTTP, and HTTPS through GnuTLS)
      ["crosstenant.httpd"] = {
         sources = { "csrc/ct_http.c", "csrc/lserve.c" },
         incdirs = { "csrc" },
         libraries = { "microhttpd" },
      },
      crosstenant = "lua/crosstenant/init.lua",
      ["crosstenant.cli"] = "lua/crosstenant/cli.lua",
      ["crosstenant.caller"] = "lua/crosstenant/caller.lua",
      ["crosstenant.time"] = "lua/crosstenant/time.lua",
      ["crosstenant.serve"] = "lua/crosstenant/serve.lua",
   },
   install = {
      bin = { crosstenant = "bin/crosstenant" },
   },
}
test = {
   type = "command",
   command = "make test",
}
