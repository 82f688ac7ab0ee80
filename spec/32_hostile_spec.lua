-- Hostile clients (spec/node/hostile.mjs) against `crosstenant serve`:
-- oversize bodies (413 in Graph's shape, never read whole), a slow client,
-- 300 parallel connections, a disconnect mid-body, garbage, a huge
-- header.  The server answers the next request correctly each time, a
-- refused request changes nothing, and it exits 0 on SIGTERM.  Under
-- `make valgrind` this server runs under valgrind (CT_SERVE_WRAP); under
-- `make asan` it runs the ASan build.
local crosstenant = require "crosstenant"
local S = require "spec.support.server"
local F = require "spec.support.fixtures"

describe("crosstenant serve against hostile clients", function()
  teardown(S.cleanup)

  it("answers each with the right error or not at all, and goes on",
     function()
    local srv = S.start { wrap = true }
    local r = S.curl("POST", srv.base .. F.JOBS,
                     crosstenant.encode(F.job_body()))
    assert.are.equal(201, r.status)
    local before = S.curl("GET", srv.base .. F.JOBS .. "?$expand=users")
    assert.are.equal(200, before.status)

    local dir = S.tmpdir()
    local p = io.popen("cd spec/node && env -u LD_PRELOAD node hostile.mjs " ..
                       srv.port .. " 2>" .. dir .. "/err")
    local out = p:read("a")
    local _, _, code = p:close()
    out = out .. (S.slurp(dir .. "/err") or "")
    assert.are.equal(0, code, out)
    for _, case in ipairs {
      "oversize body by Content-Length (413)",
      "oversize body with Expect: 100-continue (413)",
      "oversize chunked body (413)", "slow client answered",
      "300 parallel connections", "disconnect mid-body",
      "garbage on the socket", "huge header" } do
      assert.truthy(out:find("ok " .. case, 1, true), case .. "\n" .. out)
    end

    -- nothing changed
    local after = S.curl("GET", srv.base .. F.JOBS .. "?$expand=users")
    assert.are.equal(before.body, after.body)
    local log = srv:log()
    assert.truthy(log:find("\nPOST " .. F.JOBS .. " 413 ", 1, true), log)
    local rc, _, err = srv:stop()
    assert.are.equal(0, rc, err)
  end)
end)
