-- `crosstenant serve --latency`: each Graph answer waits a seeded draw of
-- wall time with its connection suspended, while the other connections
-- go on; and the request journal's marks (received, latency, throttled,
-- faulted, retry-after).  Concurrency is shown by order, not by timing a
-- request: an answer still waiting while later requests are answered.
local crosstenant = require "crosstenant"
local serve = require "crosstenant.serve"
local S = require "spec.support.server"

local JOBS = "/solutions/migrations/crossTenantMigrationJobs"

local function journal(srv)
  local r = S.curl("GET", srv.base .. "/_crosstenant/requests")
  assert.are.equal(200, r.status)
  return assert(crosstenant.decode(r.body)).value, r.body
end

-- starts `curl GET url` in the background; returns the file that gets
-- its status once it has the whole answer
local function background_get(url)
  local dir = S.tmpdir()
  os.execute("( " .. S.PLAIN .. "curl -s --max-time 60 -o /dev/null -w " ..
             "'%{http_code}' " .. S.quote(url) .. " >" .. dir ..
             "/status.part 2>/dev/null; mv " .. dir .. "/status.part " ..
             dir .. "/status ) >/dev/null 2>&1 &")
  return dir .. "/status"
end

-- waits (bounded) until the journal holds n entries
local function journaled(srv, n)
  for _ = 1, 600 do
    local j = journal(srv)
    if #j >= n then return j end
    S.sleep(0.05)
  end
  error("the journal never held " .. n .. " entries")
end

-- waits (bounded) for the files of background_get
local function statuses(files)
  local out = {}
  for i, f in ipairs(files) do
    for _ = 1, 1200 do
      out[i] = S.slurp(f)
      if out[i] then break end
      S.sleep(0.05)
    end
  end
  return out
end

describe("crosstenant serve --latency", function()
  teardown(S.cleanup)

  it("draws a seeded sequence of whole milliseconds in the range", function()
    local a, b = serve.latency_draws(7, 100, 300),
                 serve.latency_draws(7, 100, 300)
    local c = serve.latency_draws(8, 100, 300)
    local seen, differs = {}, false
    for _ = 1, 50 do
      local x = a()
      assert.are.equal(x, b())
      assert.is_true(math.type(x) == "integer" and x >= 100 and x <= 300, x)
      if c() ~= x then differs = true end
      seen[x] = true
    end
    assert.is_true(differs)
    assert.is_true(next(seen, next(seen)) ~= nil)   -- not one value
    local one = serve.latency_draws(7, 50, 50)
    assert.are.same({ 50, 50 }, { one(), one() })
  end)

  it("delays each Graph answer by the seed's draws, as journaled",
     function()
    local srv = S.start { args = "--quiet --seed 7 --latency 100-300ms",
                          wrap = true }
    for _ = 1, 3 do
      assert.are.equal(200, S.curl("GET", srv.base .. JOBS).status)
    end
    assert.are.equal(200, S.curl("GET", srv.base ..
                                 "/_crosstenant/health").status)
    local draw = serve.latency_draws(7, 100, 300)
    local j, body = journal(srv)
    assert.are.equal(3, #j)
    for i = 1, 3 do
      assert.are.equal(draw() / 1000, j[i].latency)
    end
    assert.truthy(body:find('"client%-request%-id":"[^"]+","received":' ..
                            '[%d.]+,"latency":[%d.]+}'), body)
    S.stopped(srv)
  end)

  it("answers other connections while an answer waits", function()
    local srv = S.start { args = "--quiet --latency 3s", wrap = true }
    -- A waits 3 s; the control namespace is never delayed
    local a = background_get(srv.base .. JOBS .. "?$top=1")
    journaled(srv, 1)
    local h = S.curl("GET", srv.base .. "/_crosstenant/health")
    assert.are.equal(200, h.status)
    assert.is_nil(S.slurp(a))           -- A still waits
    -- four Graph requests at once are all received before the first
    -- of them is answered: none waits for another's latency
    local files = {}
    for i = 1, 4 do files[i] = background_get(srv.base .. JOBS) end
    local j = journaled(srv, 5)
    assert.are.same({ "200", "200", "200", "200", "200" },
                    statuses { a, files[1], files[2], files[3], files[4] })
    local first, last = math.huge, -math.huge
    for i = 2, 5 do
      assert.are.equal(3, j[i].latency)
      first = math.min(first, j[i].received)
      last = math.max(last, j[i].received)
    end
    assert.is_true(last - first < 3, last - first)
    S.stopped(srv)
  end)

  it("stops cleanly while an answer waits", function()
    local srv = S.start { args = "--quiet --latency 600s", wrap = true }
    local a = background_get(srv.base .. JOBS)
    journaled(srv, 1)
    S.stopped(srv)
    -- the waiting connection was closed, not answered
    assert.are.equal("000", statuses({ a })[1])
  end)

  it("reads the grammar of --help: MIN takes MAX's unit, 0 needs none",
     function()
    local cli = require "crosstenant.cli"
    for _, c in ipairs {
      { "20-200ms", { 0.02, 0.2 } }, { "20ms-200ms", { 0.02, 0.2 } },
      { "50ms", { 0.05, 0.05 } }, { "0.1-0.5s", { 0.1, 0.5 } },
      { "1s-1500ms", { 1, 1.5 } }, { "0ms", { 0, 0 } }, { "0", { 0, 0 } },
      { "0-0", { 0, 0 } }, { "0-200ms", { 0, 0.2 } },
      { "0ms-0", { 0, 0 } }, { "600s", { 600, 600 } },
    } do
      local o, err = cli.parse { "serve", "--latency", c[1] }
      assert.is_nil(err)
      assert.are.same(c[2], o.latency, c[1])
    end
    -- and a server started with 0-0 answers at once, like 0ms
    local srv = S.start { args = "--quiet --latency 0-0" }
    assert.are.equal(200, S.curl("GET", srv.base .. "/beta" .. JOBS).status)
    local j = journal(srv)
    assert.are.same({ 1, 0 }, { #j, j[1].latency })
    S.stopped(srv)
  end)

  it("refuses a bad range with one line", function()
    local dir = S.tmpdir()
    for _, v in ipairs { "50", "200-20ms", "601s", "fast", "1-2h", "0-200",
                         "20ms-200", "5m", "-1s", "0-601s" } do
      local p = io.popen(S.ENV .. "lua5.4 bin/crosstenant serve --latency " ..
                         v .. " 2>" .. dir .. "/err")
      local out = p:read("a")
      local _, _, code = p:close()
      assert.are.same({ 2, "", "crosstenant: --latency must be MIN-MAX or " ..
                        "one duration in ms or s (0 needs no unit), at " ..
                        "most 600s, such as 20-200ms, 50ms, 0.1-0.5s or " ..
                        "0, not '" .. v .. "'\n" ..
                        "Try 'crosstenant --help'.\n" },
                      { code, out, S.slurp(dir .. "/err") })
    end
  end)

  it("refuses a bad graph:serve latency option", function()
    local g = crosstenant.new {}
    for _, v in ipairs { { 1 }, { 2, 1 }, { -1, 1 }, { 0, 601 },
                         { 0, "1" }, { 0, 1, 2 } } do
      local ok, err = pcall(g.serve, g, { port = 0, latency = v })
      assert.is_false(ok)
      assert.truthy(tostring(err):find("graph:serve: option 'latency' must " ..
                                       "be {min, max}: seconds, 0 <= min " ..
                                       "<= max <= 600", 1, true), err)
    end
    local ok, err = pcall(g.serve, g, { port = 0, latency = "1s" })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("option 'latency' must be a table",
                                     1, true), err)
    g:close()
  end)
end)

describe("the request journal of crosstenant serve", function()
  teardown(S.cleanup)

  it("marks throttled and faulted requests with their Retry-After",
     function()
    local srv = S.start { args = "--quiet --throttle 1/600s" }
    assert.are.equal(200, S.curl("GET", srv.base .. JOBS).status)
    local r = S.curl("GET", srv.base .. JOBS)
    assert.are.equal(429, r.status)
    local ra = tonumber(r.headers["retry-after"])
    -- a fresh store (same budget, the journal stays) and a scripted 504
    assert.are.equal(200, S.curl("POST", srv.base .. "/_crosstenant/reset",
                                 "{}").status)
    assert.truthy(S.curl("POST", srv.base .. "/_crosstenant/faults",
                         '{"status":504,"retry_after":7}').status == 201)
    r = S.curl("GET", srv.base .. JOBS)
    assert.are.same({ 504, "7" }, { r.status, r.headers["retry-after"] })
    local j, body = journal(srv)
    assert.are.equal(3, #j)
    assert.are.same({ 200, nil, nil, nil },
                    { j[1].status, j[1].throttled, j[1].faulted,
                      j[1]["retry-after"] })
    assert.are.same({ 429, true, nil, ra },
                    { j[2].status, j[2].throttled, j[2].faulted,
                      j[2]["retry-after"] })
    assert.are.same({ 504, nil, true, 7 },
                    { j[3].status, j[3].throttled, j[3].faulted,
                      j[3]["retry-after"] })
    assert.truthy(body:find('"status":429,[^}]*,"throttled":true,' ..
                            '"retry%-after":' .. ra .. '}'), body)
    assert.truthy(body:find('"status":504,[^}]*,"faulted":true,' ..
                            '"retry%-after":7}'), body)
    S.stopped(srv)
  end)
end)

describe("crosstenant run's fault options", function()
  teardown(S.cleanup)

  -- crosstenant run ARGS; returns the exit status, stdout and stderr
  local function run(args)
    local r = S.command("run " .. args)
    return r.code, r.out, r.err
  end

  it("take --fault-rate and --retry-after as serve does, seeded",
     function()
    local args = "--json --fault-rate 429=0.3,503=0.1 --retry-after 2 " ..
                 "examples/04_throttling.lua"
    local code, out, err = run(args)
    assert.are.equal(0, code, err)
    local q = assert(crosstenant.decode(out)).requests
    -- the example's own four scripted refusals, and the seeded ones
    assert.is_true(q.throttled > 2 and q.serviceNotAvailable > 1, out)
    assert.are.equal(q.refused, q.throttled + q.serviceNotAvailable +
                                q.gatewayTimeout)
    local code2, out2 = run(args)
    assert.are.same({ 0, out }, { code2, out2 })    -- the same sequence
    code, out = run("--json examples/04_throttling.lua")
    assert.are.equal(0, code)
    assert.are.same({ refused = 4, throttled = 2, serviceNotAvailable = 1,
                      gatewayTimeout = 1 },
                    assert(crosstenant.decode(out)).requests)
  end)

  it("refuse bad fault options with one line", function()
    for _, c in ipairs {
      { "--throttle 5", "--throttle must be REQUESTS/SECONDS such as " ..
        "100/10s, not '5'" },
      { "--fault-rate 500=0.1", "--fault-rate takes the statuses 429, " ..
        "503 and 504, not 500 (in '500=0.1')" },
      { "--throttle 0/10s", "--throttle needs 1 request or more per " ..
        "window, not '0/10s'" },
      { "--retry-after -3", "--retry-after must be a whole number of " ..
        "seconds from 1 to 86400, not '-3'" },
    } do
      assert.are.same({ 2, "", "crosstenant: " .. c[2] .. "\n" ..
                        "Try 'crosstenant --help'.\n" },
                      { run(c[1] .. " examples/04_throttling.lua") })
    end
  end)
end)
