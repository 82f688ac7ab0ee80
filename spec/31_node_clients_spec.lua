-- The official JavaScript clients (spec/node: @microsoft/microsoft-graph-
-- client 3.0.7 and the Kiota pipeline with @microsoft/msgraph-beta-sdk's
-- models, pinned in package-lock.json, installed by `npm ci` from the
-- test target) drive a whole migration against `crosstenant serve`, over
-- http and over https (NODE_EXTRA_CA_CERTS, --require-token: the token
-- graph-client sends to a custom host over https is checked); and
-- graph-client's RetryHandler against scripted 429s (spec/node/retry.mjs).
local crosstenant = require "crosstenant"
local S = require "spec.support.server"

-- node spec/node/migrate.mjs BASE; returns the exit status and stdout
local function migrate(base, env)
  local dir = S.tmpdir()
  local p = io.popen("cd spec/node && env -u LD_PRELOAD " .. (env or "") ..
                     " node migrate.mjs " .. base .. " 2>" .. dir .. "/err")
  local out = p:read("a")
  local _, _, code = p:close()
  return code, out .. (S.slurp(dir .. "/err") or "")
end

local STEPS = {
  "create job", "add 24 users", "validate, advance, validatePassed",
  "migrate", "cancel", "ODataError 409 notAllowed", "delete",
  "ODataError 404 itemNotFound", "journal",
}

local function has_steps(out)
  for _, s in ipairs(STEPS) do
    assert.truthy(out:find("\nok " .. s, 1, true) or
                  out:find("^ok " .. s:gsub("%p", "%%%0")), s .. "\n" .. out)
  end
end

describe("the Graph JavaScript clients against crosstenant serve", function()
  teardown(S.cleanup)

  it("drive a whole migration over http", function()
    local srv = S.start { args = "--quiet" }
    local code, out = migrate(srv.base)
    assert.are.equal(0, code, out)
    has_steps(out)
    assert.truthy(out:find("\nok Kiota pages over tasks: 25\n", 1, true), out)
    S.stopped(srv)
  end)

  it("drive a whole migration over https with a token", function()
    local dir = S.tmpdir()   -- empty: the certificate is made there
    local srv = S.start { args = "--quiet --require-token --https-port 0 " ..
                          "--tls " .. dir, lines = 2 }
    local code, out = migrate(srv.urls[2], "NODE_EXTRA_CA_CERTS=" .. dir ..
                              "/ca.pem")
    assert.are.equal(0, code, out)
    has_steps(out)
    assert.truthy(out:find("^ok no Authorization without customHosts " ..
                           "%(401%)\n"), out)
    assert.truthy(out:find("\nok PageIterator over tasks: 25\n", 1, true),
                  out)
    S.stopped(srv)
  end)

  it("drive a whole migration over https without --require-token",
     function()
    local dir = S.tmpdir()
    local srv = S.start { args = "--quiet --https-port 0 --tls " .. dir,
                          lines = 2 }
    local code, out = migrate(srv.urls[2], "NODE_EXTRA_CA_CERTS=" .. dir ..
                              "/ca.pem")
    assert.are.equal(0, code, out)
    has_steps(out)
    assert.truthy(out:find("^ok no Authorization without customHosts " ..
                           "%(not seen: "), out)
    S.stopped(srv)
  end)

  it("retry a scripted 429 after its Retry-After (graph-client's " ..
     "RetryHandler), and the journal shows the wait", function()
    local srv = S.start { args = "--quiet" }
    local dir = S.tmpdir()
    local p = io.popen("cd spec/node && env -u LD_PRELOAD node retry.mjs " ..
                       srv.base .. " 1 2>" .. dir .. "/err")
    local out = p:read("a")
    local _, _, code = p:close()
    out = out .. (S.slurp(dir .. "/err") or "")
    assert.are.equal(0, code, out)
    assert.are.equal("ok create retried after 429\n" ..
                     "ok list retried after 429: 1 job\nok faults used\n", out)
    local j = crosstenant.decode(S.curl("GET", srv.base ..
                                        "/_crosstenant/requests").body).value
    local JOBS = "/beta/solutions/migrations/crossTenantMigrationJobs"
    assert.are.same({ { "POST", JOBS, 429, true, 1 },
                      { "POST", JOBS, 201 },
                      { "GET", JOBS, 429, true, 1 },
                      { "GET", JOBS, 200 } },
                    { { j[1].method, j[1].url, j[1].status, j[1].throttled,
                        j[1]["retry-after"] },
                      { j[2].method, j[2].url, j[2].status, j[2].throttled },
                      { j[3].method, j[3].url, j[3].status, j[3].throttled,
                        j[3]["retry-after"] },
                      { j[4].method, j[4].url, j[4].status, j[4].throttled } })
    -- each retry came at least Retry-After wall seconds after its 429
    assert.is_true(j[2].received - j[1].received >= 1,
                   j[2].received - j[1].received)
    assert.is_true(j[4].received - j[3].received >= 1,
                   j[4].received - j[3].received)
    S.stopped(srv)
  end)
end)
