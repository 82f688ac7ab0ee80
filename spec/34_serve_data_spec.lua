-- `crosstenant serve --data DIR`: the store that lasts over HTTP (a
-- restart resumes it, a kill -9 loses nothing acknowledged), and the
-- control namespace's snapshots.  Each server is a child process on port
-- 0, waited for with a bound, stopped by its pid.
local crosstenant = require "crosstenant"
local S = require "spec.support.server"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS
local SNAPS = "/_crosstenant/snapshots"

local decode = crosstenant.decode

local function body_of(t) return crosstenant.encode(t) end

-- the store `crosstenant serve` makes with its default options
local function twin()
  return crosstenant.new { seed = 1, now = "2025-11-06T09:00:00Z",
                           failure_rate = 0, strict = true,
                           require_token = false }
end

local function start(data, wrap)
  return S.start { args = "-q --data " .. S.quote(data), wrap = wrap }
end

-- a listing without its @odata.context (the port changes on a restart)
local function jobs_of(text)
  local rest = text:match('^{"@odata%.context":"[^"]*",(.*)$')
  assert(rest, text)
  return rest
end

-- the job listing (every job: $top past the count) and the clock
local function state_of(srv)
  local r = S.curl("GET", srv.base .. JOBS .. "?$top=999")
  assert.are.equal(200, r.status)
  local c = S.curl("GET", srv.base .. "/_crosstenant/clock")
  return jobs_of(r.body), decode(c.body).now
end

local function twin_state(g, base)
  local status, body = g:_request_at(base, "GET", JOBS .. "?$top=999")
  assert.are.equal(200, status)
  return jobs_of(crosstenant.encode(body)), g:now()
end

local function assert_error(r, status, code, message)
  assert.are.equal(status, r.status)
  local e = decode(r.body).error
  assert.are.equal(code, e.code)
  assert.are.equal(message, e.message)
end

describe("crosstenant serve --data", function()
  after_each(S.cleanup)

  it("resumes the store and its clock after a restart", function()
    local data = S.tmpdir() .. "/data"
    local srv = start(data, true)
    local r = S.curl("POST", srv.base .. JOBS, body_of(F.job_body()))
    assert.are.equal(201, r.status)
    local id = decode(r.body).id
    r = S.curl("POST", srv.base .. JOBS .. "/" .. id .. "/validate")
    assert.are.equal(200, r.status)
    r = S.curl("POST", srv.base .. "/_crosstenant/clock/advance",
               '{"by":"PT2H"}')
    assert.are.equal(200, r.status)
    -- refused: writes nothing
    r = S.curl("POST", srv.base .. JOBS, '{"displayName":')
    assert.are.equal(400, r.status)
    local jobs, now = state_of(srv)
    S.stopped(srv)
    -- SIGTERM folded the journal into the image
    local held = assert(crosstenant.open(data .. "/store.db"))
    assert.are.equal(0, held._core:journal_rows())
    assert.are.equal(now, held:now())
    held:close()
    srv = start(data, true)
    local jobs2, now2 = state_of(srv)
    assert.are.equal(now, now2)
    assert.are.equal("2025-11-06T11:00:00Z", now2)
    assert.are.equal(jobs, jobs2)
    assert.are.equal(1, #decode("{" .. jobs2).value)
    -- and it goes on from there: the next id is the twin's next id
    local g = twin()
    assert.are.equal(201, (g:_request_at(srv.base, "POST", JOBS,
                                         body_of(F.job_body()), {})))
    g:_request_at(srv.base, "POST", JOBS .. "/" .. id .. "/validate")
    g:advance("PT2H", false)
    local second = body_of(F.job_body { displayName = "second",
                                        resources = F.users(3, "bbbbbbbb") })
    local st, want = g:_request_at(srv.base, "POST", JOBS, second, {})
    assert.are.equal(201, st)
    r = S.curl("POST", srv.base .. JOBS, second)
    assert.are.equal(201, r.status)
    assert.are.equal(want.id, decode(r.body).id)
    S.stopped(srv)
    g:close()
  end)

  it("answers 500 and acknowledges nothing once a write fails", function()
    -- a file size limit (SIGXFSZ ignored: the write fails with EFBIG)
    -- makes the journal's WAL unwritable after a few commits
    local data = S.tmpdir() .. "/d"
    local limit = "sh -c 'trap \"\" XFSZ; ulimit -f 160; exec \"$0\" " ..
                  "\"$@\"' "
    local srv = S.start { args = "-q --data " .. S.quote(data),
                          prefix = limit }
    local made, r = 0, nil
    for i = 1, 400 do
      r = S.curl("POST", srv.base .. JOBS, body_of(F.job_body {
                   displayName = "j" .. i,
                   resources = F.users(3, string.format("%08x", i)) }))
      if r.status ~= 201 then break end
      made = made + 1
    end
    assert.is_true(made > 0)
    assert_error(r, 500, "generalException",
                 "The request handler failed; see the server log.")
    -- the store is closed: nothing more is acknowledged
    r = S.curl("GET", srv.base .. JOBS)
    assert.are.equal(500, r.status)
    assert.are.equal("generalException", decode(r.body).error.code)
    r = S.curl("POST", srv.base .. "/_crosstenant/clock/advance",
               '{"by":"PT1H"}')
    assert.are.equal(500, r.status)
    assert.matches("could not be written to the store's file",
                   srv:log(), 1, true)
    srv:stop("KILL")
    -- without the limit: every acknowledged job, not the refused one
    srv = start(data)
    local jobs, now = state_of(srv)
    local list = decode("{" .. jobs).value
    assert.are.equal(made, #list)
    local names = {}
    for _, j in ipairs(list) do names[j.displayName] = true end
    for i = 1, made do assert.is_true(names["j" .. i], "j" .. i) end
    assert.is_nil(names["j" .. (made + 1)])
    assert.are.equal("2025-11-06T09:00:00Z", now)
    S.stopped(srv)
  end)

  it("says in one line of its own why DIR can't be made, exit 1",
     function()
    local function run(args)
      local r = S.command("serve --port 0 -q " .. args, 60)
      return { r.code, r.out, r.err }
    end
    local file = S.tmpdir() .. "/file"
    S.spew(file, "a regular file\n")
    -- under a regular file: no `mkdir: ...` line before ours
    assert.are.same({ 1, "", "crosstenant: can't make the directory '" ..
                      file .. "/data' (Not a directory)\n" },
                    run("--data " .. S.quote(file .. "/data")))
    assert.are.same({ 1, "", "crosstenant: can't make the directory '" ..
                      file .. "' (Not a directory)\n" },
                    run("--data " .. S.quote(file)))
    assert.are.equal("a regular file\n", S.slurp(file))
    -- its snapshots directory taken by a file
    local data = S.tmpdir()
    S.spew(data .. "/snapshots", "not a directory\n")
    assert.are.same({ 1, "", "crosstenant: can't make the directory '" ..
                      data .. "/snapshots' (Not a directory)\n" },
                    run("--data " .. S.quote(data)))
  end)

  it("refuses a store file that is not one, exit 1", function()
    local data = S.tmpdir()
    S.spew(data .. "/store.db", "not a database at all, just text\n")
    local ok, err = pcall(start, data)
    assert.is_false(ok)
    assert.matches("store.db is not a crosstenant store", err, 1, true)
  end)
end)

describe("/_crosstenant/snapshots", function()
  after_each(S.cleanup)

  local function exercise(srv)
    local r = S.curl("GET", srv.base .. SNAPS)
    assert.are.equal(200, r.status)
    assert.are.same({ value = {} }, decode(r.body))
    r = S.curl("POST", srv.base .. JOBS, body_of(F.job_body()))
    local id = decode(r.body).id
    r = S.curl("POST", srv.base .. SNAPS)
    assert.are.equal(201, r.status)
    local snap = decode(r.body)
    assert.are.equal("1", snap.id)
    assert.are.equal("2025-11-06T09:00:00Z", snap.now)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$",
                   snap.createdDateTime)
    local jobs = state_of(srv)
    -- change the store, then go back
    S.curl("POST", srv.base .. "/_crosstenant/clock/advance", '{"by":"PT1H"}')
    S.curl("DELETE", srv.base .. JOBS .. "/" .. id)
    r = S.curl("POST", srv.base .. SNAPS .. "/1/restore")
    assert.are.equal(204, r.status)
    assert.are.equal("", r.body)
    local jobs2, now2 = state_of(srv)
    assert.are.equal(jobs, jobs2)
    assert.are.equal("2025-11-06T09:00:00Z", now2)
    r = S.curl("GET", srv.base .. SNAPS)
    assert.are.same({ value = { snap } }, decode(r.body))
    -- errors, in Graph's shape; none of them changes the store
    assert_error(S.curl("POST", srv.base .. SNAPS .. "/7/restore"), 404,
                 "itemNotFound", "No snapshot '7'.")
    r = S.curl("GET", srv.base .. SNAPS .. "/1/restore")
    assert_error(r, 405, "notSupported", "The method 'GET' is not " ..
                 "allowed on /_crosstenant/snapshots/1/restore; it takes " ..
                 "POST.")
    assert.are.equal("POST", r.headers.allow)
    assert_error(S.curl("DELETE", srv.base .. SNAPS), 405, "notSupported",
                 "The method 'DELETE' is not allowed on " ..
                 "/_crosstenant/snapshots; it takes GET, POST.")
    assert_error(S.curl("POST", srv.base .. SNAPS, '{"name":"x"}'), 400,
                 "invalidRequest",
                 "Unknown property 'name'; this request takes none.")
    assert_error(S.curl("POST", srv.base .. SNAPS .. "/1/restore", "[1]"),
                 400, "invalidRequest", "The body is not a JSON object.")
    assert_error(S.curl("GET", srv.base .. SNAPS .. "/1"), 404,
                 "itemNotFound", "No control endpoint " ..
                 "'/_crosstenant/snapshots/1'; see README.md, \"Serving " ..
                 "over HTTP\".")
    r = S.curl("GET", srv.base .. SNAPS)
    assert.are.same({ value = { snap } }, decode(r.body))
    assert.are.equal(jobs, (state_of(srv)))
    return snap, jobs
  end

  it("in memory: take, list, restore; errors", function()
    local srv = S.start { args = "-q", wrap = true }
    exercise(srv)
    S.stopped(srv)
  end)

  it("with --data: kept in DIR, a restore lasts", function()
    local data = S.tmpdir() .. "/d"
    local srv = start(data, true)
    local snap, jobs = exercise(srv)
    -- a restore then a kill -9: the file holds the restored store
    S.curl("POST", srv.base .. "/_crosstenant/clock/advance", '{"by":"PT3H"}')
    assert.are.equal(204, S.curl("POST", srv.base .. SNAPS ..
                                 "/1/restore").status)
    srv:stop("KILL")
    -- killed: the restore was folded into the image, nothing after it
    local held = assert(crosstenant.open(data .. "/store.db"))
    assert.are.equal(0, held._core:journal_rows())
    assert.are.equal("2025-11-06T09:00:00Z", held:now())
    held:close()
    srv = start(data, true)
    local jobs2, now2 = state_of(srv)
    assert.are.equal(jobs, jobs2)
    assert.are.equal("2025-11-06T09:00:00Z", now2)
    local r = S.curl("GET", srv.base .. SNAPS)
    assert.are.same({ value = { snap } }, decode(r.body))
    -- a damaged snapshot file is a 500 that says so; the store goes on
    S.spew(data .. "/snapshots/1.snap", "garbage")
    assert_error(S.curl("POST", srv.base .. SNAPS .. "/1/restore"), 500,
                 "generalException", "The server could not read the " ..
                 "snapshot: snapshot '1': not a crosstenant snapshot.")
    assert.are.equal(jobs, (state_of(srv)))
    -- the next id goes on
    r = S.curl("POST", srv.base .. SNAPS)
    assert.are.equal("2", decode(r.body).id)
    -- a reset lasts too
    assert.are.equal(200, S.curl("POST", srv.base ..
                                 "/_crosstenant/reset").status)
    srv:stop("KILL")
    srv = start(data, true)
    assert.are.equal('"value":[]}', (state_of(srv)))
    S.stopped(srv)
  end)
end)

describe("crosstenant serve --data under kill -9", function()
  after_each(S.cleanup)

  -- 20 rounds: a stream of requests from one curl, a kill -9 at a seeded
  -- moment, a restart.  Every answered request is replayed on a twin;
  -- the restarted server must hold exactly the twin's state, or the
  -- twin's plus the one request that was under way when the kill came
  -- (committed, not answered).  The servers run unwrapped: 20 starts
  -- under valgrind would take minutes.
  it("loses nothing acknowledged, keeps nothing half done", function()
    local rng_state = 13
    local function rand(n)           -- a small LCG: the same on every Lua
      rng_state = (rng_state * 1103515245 + 12345) % 2147483648
      return rng_state % n
    end
    local dir = S.tmpdir()
    local data = dir .. "/d"
    local g = twin()
    local srv = start(data)
    local cut, acked = 0, 0
    for round = 1, 20 do
      -- the plan, its ids from a copy of the twin
      local planner = assert(crosstenant.restore(g:snapshot()))
      local ids = {}
      do
        local _, list = planner:_request_at("http://x", "GET",
                                            JOBS .. "?$top=999")
        for _, j in ipairs(list.value) do ids[#ids + 1] = j.id end
      end
      local ops = {}
      for i = 1, 100 do
        local k = rand(10)
        local op
        if k < 3 then
          op = { "POST", JOBS, body_of(F.job_body {
                   displayName = "r" .. round .. "-" .. i }) }
        elseif k < 4 then
          op = { "POST", JOBS, '{"displayName":"half"' }   -- refused
        elseif k < 8 and #ids > 0 then
          op = { "POST", JOBS .. "/" .. ids[rand(#ids) + 1] .. "/validate" }
        else
          op = { "POST", "/_crosstenant/clock/advance",
                 '{"by":"PT' .. (rand(30) + 1) .. 'M"}', advance = true }
        end
        if op.advance then
          planner:advance(decode(op[3]).by, false)
        else
          local st, b = planner:_request_at("http://x", op[1], op[2], op[3],
                                            {})
          if st == 201 and op[2] == JOBS then ids[#ids + 1] = b.id end
        end
        ops[i] = op
      end
      planner:close()
      -- one curl, the requests one after the other on one connection
      local args = {}
      for i, op in ipairs(ops) do
        if i > 1 then args[#args + 1] = "--next" end
        args[#args + 1] = "-s -o /dev/null -w '%{http_code}\\n' -X " .. op[1]
        if op[3] then
          local f = dir .. "/b" .. i
          S.spew(f, op[3])
          args[#args + 1] = "-H 'Content-Type: application/json' " ..
                            "--data-binary @" .. f
        end
        args[#args + 1] = S.quote(srv.base .. op[2])
      end
      os.remove(dir .. "/done")
      os.execute("( " .. S.PLAIN .. "curl " .. table.concat(args, " ") ..
                 " >" .. dir .. "/codes 2>/dev/null; echo >" .. dir ..
                 "/done ) >/dev/null 2>&1 &")
      S.sleep(string.format("%.3f", 0.005 + rand(60) / 1000))
      srv:stop("KILL")
      local t = 0
      while not S.slurp(dir .. "/done") and t < 30 do
        S.sleep(0.05)
        t = t + 0.05
      end
      assert(S.slurp(dir .. "/done"), "curl did not finish")
      local codes = {}
      for c in (S.slurp(dir .. "/codes") or ""):gmatch("%d+") do
        codes[#codes + 1] = tonumber(c)
      end
      srv = start(data)
      -- replay what was answered; the first unanswered one is pending
      local pending
      for i, op in ipairs(ops) do
        local c = codes[i] or 0
        if pending then
          assert.are.equal(0, c, "an answer after a kill")
        elseif c == 0 then
          pending = op
          cut = cut + 1
        else
          acked = acked + 1
          if op.advance then
            assert.are.equal(200, c)
            g:advance(decode(op[3]).by, false)
          else
            local st = g:_request_at(srv.base, op[1], op[2], op[3], {})
            assert.are.equal(st, c, op[1] .. " " .. op[2])
          end
        end
      end
      local jobs, now = state_of(srv)
      local tjobs, tnow = twin_state(g, srv.base)
      if (jobs ~= tjobs or now ~= tnow) and pending then
        -- committed before the kill, never answered: wholly there
        if pending.advance then
          g:advance(decode(pending[3]).by, false)
        else
          g:_request_at(srv.base, pending[1], pending[2], pending[3], {})
        end
        tjobs, tnow = twin_state(g, srv.base)
      end
      assert.are.equal(tnow, now, "round " .. round)
      assert.are.equal(tjobs, jobs, "round " .. round)
    end
    S.stopped(srv)
    g:close()
    assert.is_true(acked > 0)
    if os.getenv("CT_DEBUG") then print("cut", cut, "acked", acked) end
  end)
end)
