-- What a new user runs into (issue 10): error dates as Graph writes them,
-- run_until's checks and reasons, the raising form `must`, unapplied
-- outcomes, page iterators, time arithmetic, and argument errors that
-- name the caller's line.
local crosstenant = require "crosstenant"
local time = require "crosstenant.time"
local F = require "spec.support.fixtures"

local THIS = debug.getinfo(1, "S").short_src

--- The error `fn` raises, and the line `fn` is written on (fn is a
-- one-line function that makes the call).
local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "no error raised")
  return err, debug.getinfo(fn, "S").linedefined
end

--- Asserts `fn` raises exactly "<this file>:<its line>: <msg>".
local function raises_here(msg, fn)
  local err, line = raised(fn)
  assert.are.equal(THIS .. ":" .. line .. ": " .. msg, err)
end

local function new_job(graph, over)
  return assert(graph:create_job(F.job_body(over)))
end

describe("innerError.date", function()
  -- Graph writes "2023-07-07T11:13:19": UTC, whole seconds, no offset
  local function check(body, want)
    assert.are.equal(want, body.error.innerError.date)
    assert.matches('"date":"' .. want .. '"', crosstenant.encode(body), 1,
                   true)
  end

  it("has no offset in a method's error, at a whole second", function()
    local graph = F.graph()
    local _, err = graph:get_job("nope")
    check(err.body, "2025-11-06T09:00:00")
  end)

  it("drops the clock's fraction and follows the clock", function()
    local graph = F.graph { now = "2025-11-06T09:00:00.9999999+01:00" }
    local _, err = graph:create_job(F.job_body { resources = {} })
    assert.are.equal(400, err.status)
    check(err.body, "2025-11-06T08:00:00")
    graph:advance("P1DT0.5S")
    _, err = graph:validate_job("nope")
    check(err.body, "2025-11-07T08:00:01")
  end)

  it("has no offset on every refusal of graph:request", function()
    local graph = F.graph { require_token = false }
    local job = new_job(graph)
    local cases = {
      { 404, "GET", F.JOBS .. "/nope" },
      { 405, "PUT", F.JOBS },
      { 400, "POST", F.JOBS, "{" },
      { 409, "POST", F.JOBS, F.job_body() },
      { 409, "POST", F.JOBS .. "/" .. job.id .. "/migrate" },
      { 400, "GET", F.JOBS .. "?$top=0" },
      { 401, "GET", F.JOBS, nil, { Authorization = "Bearer x" } },
    }
    for _, c in ipairs(cases) do
      local status, body = graph:request(c[2], c[3], c[4], c[5])
      assert.are.equal(c[1], status, c[2] .. " " .. c[3])
      check(body, "2025-11-06T09:00:00")
    end
  end)

  it("has no offset in must's raised error", function()
    local graph = F.graph()
    local err = raised(function() graph:must("get_job", "nope") end)
    check(err.body, "2025-11-06T09:00:00")
  end)
end)

describe("graph:run_until", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
  end)

  local unknown = {
    { "validatepassed", "did you mean 'validatePassed'?" },
    { "Completed", "did you mean 'completed'?" },
    { "canceled", "did you mean 'cancelled'?" },
    { "validatePased", "did you mean 'validatePassed'?" },
    { "complete", "did you mean 'completed'?" },
  }
  for _, c in ipairs(unknown) do
    it("raises on '" .. c[1] .. "': " .. c[2], function()
      raises_here("bad argument #2 to 'run_until' ('" .. c[1] .. "' is not " ..
                  "a job status; " .. c[2] .. ")",
        function() graph:run_until(job.id, { "failed", c[1] }, "P1D") end)
      assert.are.equal(F.NOW, graph:now())
    end)
  end

  it("lists the job statuses for a name far from all of them", function()
    raises_here("bad argument #2 to 'run_until' ('done' is not a job " ..
      "status; job statuses: submitted, validateSubmitted, " ..
      "validateProcessing, validateInProgress, validatePassed, " ..
      "validateFailed, processing, inProgress, cuttingOver, completed, " ..
      "completedWithErrors, failed, pendingCancel, cancelled, " ..
      "pendingDelete, deleted, approved, adminActionRequired)",
      function() graph:run_until(job.id, { "done" }) end)
  end)

  it("raises on an empty set and a status that is not a string", function()
    raises_here("bad argument #2 to 'run_until' (no job status given)",
      function() graph:run_until(job.id, {}, "P1D") end)
    raises_here("bad argument #2 to 'run_until' (status #2 is a number, " ..
                "not a string)",
      function() graph:run_until(job.id, { "failed", 5 }) end)
    assert.are.equal(F.NOW, graph:now())
  end)

  it("gives false and why: the job is still in its status", function()
    local ok, why = graph:run_until(job.id, { "validatePassed" }, "P1D")
    assert.is_false(ok)
    assert.are.equal("job '" .. job.id .. "' is still submitted at " ..
                     "2025-11-07T09:00:00Z (waited P1D for validatePassed)",
                     why)
  end)

  it("gives false and why: the job moved to another status", function()
    assert(graph:validate_job(job.id))
    local ok, why = graph:run_until(job.id, { "completed", "failed",
                                              "completedWithErrors" }, 600)
    assert.is_false(ok)
    assert.are.equal("job '" .. job.id .. "' is validateInProgress at " ..
                     "2025-11-06T09:10:00Z (waited PT10M for completed, " ..
                     "failed or completedWithErrors)", why)
  end)

  it("gives false and why: the job is gone", function()
    assert(graph:cancel_job(job.id))
    graph:advance("PT5M")
    assert(graph:delete_job(job.id))
    local ok, why = graph:run_until(job.displayName, { "completed" }, "P1D")
    assert.is_false(ok)
    assert.are.equal("job '" .. job.displayName .. "' no longer exists at " ..
                     "2025-11-07T09:05:00Z (waited P1D for completed)", why)
  end)

  it("gives false and why for a predicate, after 30 days by default",
     function()
    local ok, why = graph:run_until(function() return false end)
    assert.is_false(ok)
    assert.are.equal("the condition did not hold at 2025-12-06T09:00:00Z " ..
                     "(waited P30D)", why)
    assert.are.equal("2025-12-06T09:00:00Z", graph:now())
  end)

  it("waits 30 days for a job by default", function()
    local ok, why = graph:run_until(job.id, { "completed" })
    assert.is_false(ok)
    assert.are.equal("job '" .. job.id .. "' is still submitted at " ..
                     "2025-12-06T09:00:00Z (waited P30D for completed)", why)
  end)

  it("answers true alone when the status is reached", function()
    assert(graph:validate_job(job.id))
    assert.are.same({ true }, { graph:run_until(job.id,
                                                { "validatePassed" }) })
    assert.are.equal("2025-11-06T09:13:00Z", graph:now())
  end)
end)

describe("graph:must", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("returns what the method returns", function()
    local job = graph:must("create_job", F.job_body())
    assert.are.equal("submitted", job.status)
    assert.are.same(graph:get_job(job.id), graph:must("get_job", job.id))
    local status, body, headers = graph:must("request", "GET",
                                             F.JOBS .. "/" .. job.id)
    assert.are.equal(200, status)
    assert.are.equal(job.id, body.id)
    assert.truthy(headers["request-id"])
    assert.is_true(graph:must("update_job", job.id, {}))
  end)

  it("raises the Error, naming the caller's line", function()
    local err, line = raised(function() graph:must("get_job", "nope") end)
    assert.are.equal(crosstenant.Error, getmetatable(err))
    assert.are.equal(404, err.status)
    assert.are.equal("itemNotFound", err.code)
    assert.are.equal(THIS .. ":" .. line, err.where)
    assert.are.equal(THIS .. ":" .. line .. ": 404 itemNotFound: " ..
                     "crossTenantMigrationJob 'nope' was not found.",
                     tostring(err))
  end)

  it("raises for a refused request", function()
    local err, line = raised(function()
      graph:must("request", "GET", F.JOBS .. "?$top=0") end)
    assert.are.equal(400, err.status)
    assert.are.equal("invalidQueryOption", err.inner)
    assert.are.equal(THIS .. ":" .. (line + 1) .. ": 400 invalidRequest: " ..
                     "Query option '$top' must be an integer from 1 to " ..
                     "999, not '0'.", tostring(err))
  end)

  it("raises run_until's reason", function()
    local job = new_job(graph)
    raises_here("run_until: job '" .. job.id .. "' is still submitted " ..
                "at 2025-11-06T10:00:00Z (waited PT1H for validatePassed)",
      function() graph:must("run_until", job.id, { "validatePassed" }, 3600) end)
  end)

  it("raises on a name that is not a method", function()
    raises_here("bad argument #1 to 'must' ('get_jobs' is not a method " ..
                "of the store)", function() graph:must("get_jobs", "x") end)
    raises_here("bad argument #1 to 'must' ('_error' is not a method " ..
                "of the store)", function() graph:must("_error", {}) end)
    raises_here("bad argument #1 to 'must' (string expected, got nil)",
                function() graph:must() end)
  end)
end)

describe("graph:pending", function()
  local graph
  before_each(function() graph = F.graph() end)
  local U = F.users(3, "cccccccc")

  it("is empty on a new store", function()
    assert.are.same({}, graph:pending())
  end)

  it("lists the outcomes not applied, in script order, with fail's fields",
     function()
    assert(graph:fail { user = U[2]:upper(), service = "exchange" })
    assert(graph:fail { user = U[1], service = "ODSP", phase = "migrate",
                        status = "error", code = "C", message = "m" })
    assert(graph:fail { user = U[2], service = "Teams", phase = "migrate" })
    local want = {
      { user = U[2], service = "Exchange", phase = "validate",
        status = "invalid", code = "scriptedFailure",
        message = "Scripted failure." },
      { user = U[1], service = "ODSP", phase = "migrate", status = "error",
        code = "C", message = "m" },
      { user = U[2], service = "Teams", phase = "migrate", status = "failed",
        code = "scriptedFailure", message = "Scripted failure." },
    }
    assert.are.same(want, graph:pending())
    -- each scripts the same outcome again
    local again = F.graph()
    for _, p in ipairs(graph:pending()) do assert(again:fail(p)) end
    assert.are.same(want, again:pending())
  end)

  it("drops an outcome once applied, keeps those that can't apply",
     function()
    local job = new_job(graph, { resources = { U[1] }, workloads = { "ODSP" },
                                 exchangeSettings = false })
    assert(graph:fail { user = U[1], service = "ODSP" })          -- applies
    assert(graph:fail { user = U[1], service = "Exchange" })      -- no Exchange
    assert(graph:fail { user = U[3], service = "ODSP" })          -- in no job
    assert(graph:fail { user = U[1], service = "ODSP", phase = "migrate" })
    assert(graph:validate_job(job.id))
    assert(graph:run_until(job.id, { "validateFailed" }, "P1D"))
    local left = {}
    for _, p in ipairs(graph:pending()) do
      left[#left + 1] = p.user .. " " .. p.service .. " " .. p.phase
    end
    assert.are.same({ U[1] .. " Exchange validate", U[3] .. " ODSP validate",
                      U[1] .. " ODSP migrate" }, left)
  end)

  it("gives fresh tables: changing one changes nothing", function()
    assert(graph:fail { user = U[1], service = "ODSP" })
    graph:pending()[1].service = "Teams"
    assert.are.equal("ODSP", graph:pending()[1].service)
  end)
end)

describe("iterators and nextLinks", function()
  local graph, jobs, job
  local U = F.users(45, "dddddddd")
  before_each(function()
    graph = F.graph()
    jobs = {}
    for i = 1, 5 do
      jobs[i] = new_job(graph, { displayName = "wave " .. i,
                                 resources = { U[i] } })
    end
    local rest = table.move(U, 6, 45, 1, {})
    job = new_job(graph, { displayName = "big", resources = rest })
  end)

  local function ids(list)
    local t = {}
    for i, x in ipairs(list) do t[i] = x.id end
    return t
  end

  it("jobs() follows the pages, newest first", function()
    local seen = {}
    for j in graph:jobs { top = 2 } do seen[#seen + 1] = j end
    assert.are.same(ids(assert(graph:list_jobs { top = 999 }).value),
                    ids(seen))
    assert.are.equal(6, #seen)
    assert.are.equal("big", seen[1].displayName)
  end)

  it("jobs() keeps the query on every page", function()
    local names = {}
    for j in graph:jobs { filter = "startswith(displayName,'wave')",
                          orderby = "displayName", top = 2,
                          select = "displayName" } do
      names[#names + 1] = j.displayName
      assert.is_nil(j.status)
    end
    assert.are.same({ "wave 1", "wave 2", "wave 3", "wave 4", "wave 5" },
                    names)
  end)

  it("tasks() follows the pages, in the order users were added", function()
    local seen = {}
    for t in graph:tasks(job.id) do seen[#seen + 1] = t.id end   -- 20 a page
    assert.are.same(table.move(U, 6, 45, 1, {}), seen)
    seen = {}
    for t in graph:tasks("big", "$top=7") do seen[#seen + 1] = t.id end
    assert.are.equal(40, #seen)
  end)

  it("can be left early, and works with <close> held elsewhere", function()
    local n = 0
    do
      local g <close> = F.graph()
      new_job(g)
      for _ in g:jobs() do
        n = n + 1
        if n == 1 then break end
      end
    end
    for _ in graph:tasks(job.id, { top = 1 }) do
      n = n + 1
      if n == 2 then break end
    end
    assert.are.equal(2, n)
  end)

  it("raise the Error of a bad query or a missing job at the caller",
     function()
    local err, line = raised(function() for _ in graph:jobs { top = 0 } do end end)
    assert.are.equal(400, err.status)
    assert.are.equal(THIS .. ":" .. line, err.where)
    err, line = raised(function() for _ in graph:tasks("nope") do end end)
    assert.are.equal(404, err.status)
    assert.are.equal(THIS .. ":" .. line, err.where)
    raises_here("bad argument #1 to 'jobs' (table, string or nil " ..
                "expected, got number)", function() graph:jobs(5) end)
    raises_here("bad argument #1 to 'tasks' (string expected, got nil)",
                function() graph:tasks() end)
  end)

  it("list_jobs takes the nextLink itself", function()
    local first = assert(graph:list_jobs { top = 2, count = true })
    local link = first["@odata.nextLink"]
    local second = assert(graph:list_jobs(link))
    assert.are.same({ jobs[4].id, jobs[3].id }, ids(second.value))
    local status, body = graph:request("GET", link)   -- as a client would
    assert.are.equal(200, status)
    assert.are.same(body, second)
  end)

  it("list_tasks takes the nextLink itself, and a query string", function()
    local first = assert(graph:list_tasks(job.id, { top = 30 }))
    local second = assert(graph:list_tasks("big", first["@odata.nextLink"]))
    assert.are.same(table.move(U, 36, 45, 1, {}), ids(second.value))
    assert.is_nil(second["@odata.nextLink"])
    local q = assert(graph:list_tasks(job.id, "$top=3&filter=id eq " .. U[7]))
    assert.are.same({ U[7] }, ids(q.value))
  end)

  it("refuses a link of another collection and a bad escape", function()
    local link = assert(graph:list_tasks(job.id, { top = 1 }))
                 ["@odata.nextLink"]
    local other = jobs[1]
    local r, err = graph:list_tasks(other.id, link)
    assert.is_nil(r)
    assert.are.equal(400, err.status)
    assert.are.equal("invalidQueryOption", err.inner)
    assert.are.equal("The link '" .. link .. "' is not a page of this " ..
                     "collection.", err.message)
    r, err = graph:list_jobs(link)
    assert.is_nil(r)
    assert.are.equal("The link '" .. link .. "' is not a page of this " ..
                     "collection.", err.message)
    r, err = graph:list_jobs("$top=%zz")
    assert.is_nil(r)
    assert.are.equal("The query string has a bad percent-escape in " ..
                     "'$top=%zz'.", err.message)
    r, err = graph:list_jobs("$top=1&top=2")
    assert.is_nil(r)
    assert.are.equal("Query option '$top' is given twice.", err.message)
    r, err = graph:list_tasks("nope", link)
    assert.is_nil(r)
    assert.are.equal(404, err.status)
  end)
end)

describe("time arithmetic", function()
  it("graph:now adds a duration or seconds", function()
    local graph = F.graph()
    assert.are.equal("2025-11-07T09:00:00Z", graph:now("P1D"))
    assert.are.equal("2025-11-06T10:30:00Z", graph:now("PT1H30M"))
    assert.are.equal("2025-11-13T09:00:00Z", graph:now("P1W"))
    assert.are.equal("2025-11-06T08:59:00Z", graph:now(-60))
    assert.are.equal("2025-11-05T09:00:00Z", graph:now("-P1D"))
    assert.are.equal("2025-11-06T09:00:00.5000000Z", graph:now(0.5))
    assert.are.equal(F.NOW, graph:now())          -- the clock did not move
  end)

  it("graph:now refuses months, years and non-durations", function()
    local graph = F.graph()
    raises_here("bad argument #1 to 'now' ('P1M' has months or years, " ..
      "which have no fixed length and are not supported: use weeks, days " ..
      "or hours (such as P30D))", function() graph:now("P1M") end)
    raises_here("bad argument #1 to 'now' (not an ISO 8601 duration: " ..
                "'1 day')", function() graph:now("1 day") end)
    raises_here("bad argument #1 to 'now' (number or string expected, got " ..
                "table)", function() graph:now({}) end)
    raises_here("bad argument #1 to 'now' (the result is outside the " ..
                "years 0001 to 9999)", function() graph:now("P3000000D") end)
  end)

  it("is crosstenant.time", function()
    assert.are.equal(time, crosstenant.time)
  end)

  it("parse gives epoch seconds, with offsets and fractions", function()
    assert.are.equal(0, time.parse("1970-01-01T00:00:00Z"))
    assert.are.equal(math.tointeger(1762419600),
                     time.parse("2025-11-06T09:00:00Z"))
    assert.are.equal("integer", math.type(time.parse(F.NOW)))
    assert.are.equal(82800, time.parse("1970-01-02T00:00:00+01:00"))
    assert.are.equal(1762419600 + 50400,
                     time.parse("2025-11-06T09:00:00-14:00"))
    assert.are.equal(-0.25, time.parse("1969-12-31T23:59:59.75Z"))
    assert.are.equal(-62135596800, time.parse("0001-01-01T00:00:00Z"))
  end)

  it("format writes UTC as the model does", function()
    assert.are.equal("1970-01-01T00:00:00Z", time.format(0))
    assert.are.equal("2025-11-06T09:00:00Z", time.format(1762419600))
    assert.are.equal("2025-11-06T09:00:00.5000000Z",
                     time.format(1762419600.5))
    assert.are.equal("1969-12-31T23:59:59Z", time.format(-1))
    for _, s in ipairs { "2025-11-06T09:00:00Z", "2025-02-28T23:59:59.1250000Z",
                         "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z" } do
      assert.are.equal(s, time.format(time.parse(s)))
    end
  end)

  it("add and diff", function()
    assert.are.equal("2025-11-07T09:00:00Z", time.add(F.NOW, "P1D"))
    assert.are.equal("2024-03-01T00:00:00Z",
                     time.add("2024-02-28T00:00:00Z", "P2D"))  -- leap year
    assert.are.equal("2025-11-06T08:58:30Z", time.add(F.NOW, -90))
    assert.are.equal("2025-11-06T10:00:00Z",
                     time.add("2025-11-06T10:00:00+01:00", "PT1H"))
    assert.are.equal("2025-10-30T09:00:00Z", time.add(F.NOW, "-P1W"))
    assert.are.equal(86400, time.diff("2025-11-07T09:00:00Z", F.NOW))
    assert.are.equal(-1.5, time.diff(F.NOW, "2025-11-06T09:00:01.5Z"))
    -- on the text, every 100-ns tick counts
    assert.are.equal("2025-11-06T09:00:00.0000001Z", time.add(F.NOW, 1e-7))
    assert.are.equal(1e-7, time.diff("2025-11-06T09:00:00.1234568Z",
                                     "2025-11-06T09:00:00.1234567Z"))
    assert.are.equal(0, time.diff("2025-11-06T10:00:00+01:00", F.NOW))
  end)

  it("duration writes days, hours, minutes and seconds", function()
    assert.are.equal("PT0S", time.duration(0))
    assert.are.equal("P1DT2H3M4S", time.duration(93784))
    assert.are.equal("PT1H30M", time.duration(5400))
    assert.are.equal("P30D", time.duration(30 * 86400))
    assert.are.equal("-PT1.5S", time.duration(-1.5))
    assert.are.equal(5400 * 10000000,
      require("crosstenant.core").duration_parse(time.duration(5400)))
  end)

  it("raise on bad arguments, naming the caller's line", function()
    raises_here("bad argument #1 to 'time.parse' ('2025-13-01T00:00:00Z' " ..
      "is not an ISO 8601 date-time: " ..
      select(2, require("crosstenant.core").time_parse("2025-13-01T00:00:00Z")) ..
      ")", function() time.parse("2025-13-01T00:00:00Z") end)
    raises_here("bad argument #1 to 'time.parse' (string expected, got nil)",
                function() time.parse() end)
    raises_here("bad argument #1 to 'time.format' (number expected, got " ..
                "string)", function() time.format("0") end)
    raises_here("bad argument #1 to 'time.format' (the result is outside " ..
                "the years 0001 to 9999)", function() time.format(1e12) end)
    raises_here("bad argument #2 to 'time.add' ('P1Y' has months or years, " ..
      "which have no fixed length and are not supported: use weeks, days " ..
      "or hours (such as P30D))", function() time.add(F.NOW, "P1Y") end)
    raises_here("bad argument #2 to 'time.add' (seconds must be a finite " ..
                "number)", function() time.add(F.NOW, 0 / 0) end)
    raises_here("bad argument #2 to 'time.add' (the result is outside the " ..
                "years 0001 to 9999)",
                function() time.add("9999-12-31T00:00:00Z", "P1D") end)
    raises_here("bad argument #2 to 'time.diff' (string expected, got " ..
                "number)", function() time.diff(F.NOW, 5) end)
    raises_here("bad argument #1 to 'time.duration' (number expected, got " ..
                "nil)", function() time.duration() end)
    -- not a number's type for NaN, and no wrapped integer for a huge one
    raises_here("bad argument #1 to 'time.duration' (seconds must be a " ..
                "finite number)", function() time.duration(0 / 0) end)
    raises_here("bad argument #1 to 'time.duration' (seconds must be a " ..
                "finite number)", function() time.duration(-math.huge) end)
    raises_here("bad argument #1 to 'time.duration' (more than 10,000 " ..
                "years)", function() time.duration(1e15) end)
    raises_here("bad argument #1 to 'time.duration' (more than 10,000 " ..
                "years)", function() time.duration(1000000000000000) end)
    raises_here("bad argument #1 to 'time.format' (seconds must be a " ..
                "finite number)", function() time.format(0 / 0) end)
    assert.are.equal("P10000000DT1S", time.duration(864000000001))
  end)
end)

describe("argument errors name the caller's line", function()
  local graph = F.graph()
  local job = new_job(graph)
  local cases = {
    { "crosstenant.new: options must be a table",
      function() crosstenant.new(5) end },
    { "crosstenant.new: option 'failure_rate' must be between 0 and 1",
      function() crosstenant.new { failure_rate = 5 } end },
    { "crosstenant.new: option 'failure_rate.validate' must be between 0 " ..
      "and 1", function() crosstenant.new { failure_rate = { validate = 2 } } end },
    { "crosstenant.new: unknown option 'colour'",
      function() crosstenant.new { colour = 1 } end },
    { "crosstenant.new: option 'seed' must be an integer",
      function() crosstenant.new { seed = 1.5 } end },
    { "crosstenant.new: option 'tenant' must be a GUID",
      function() crosstenant.new { tenant = "x" } end },
    { "crosstenant.new: unknown timing 'soon'",
      function() crosstenant.new { timings = { soon = 1 } } end },
    { "crosstenant.new: option 'retry_after' must be a whole number of " ..
      "seconds from 1 to 86400",
      function() crosstenant.new { retry_after = 0 } end },
    { "crosstenant.new: option 'fault_rate' takes the statuses 429, 503 " ..
      "and 504 as keys, not 500",
      function() crosstenant.new { fault_rate = { [500] = 1 } } end },
    { "bad argument #1 to 'fault' (field 'status' must be 429, 503 or 504)",
      function() graph:fault { status = 500 } end },
    { "bad argument #2 to 'request' (string expected, got nil)",
      function() graph:request("GET", nil) end },
    { "bad argument #1 to 'request' (string expected, got number)",
      function() graph:request(1, "/x") end },
    { "bad argument #3 to 'request' (string, table or nil expected, got " ..
      "number)", function() graph:request("GET", "/x", 5) end },
    { "bad argument #4 to 'request' (table or nil expected, got string)",
      function() graph:request("GET", "/x", nil, "h") end },
    { "bad argument #4 to 'request' (header names must be strings)",
      function() graph:request("GET", "/x", nil, { "h" }) end },
    { "bad argument #4 to 'request' (header 'a' must be a string)",
      function() graph:request("GET", "/x", nil, { a = {} }) end },
    { "bad argument #1 to 'create_job' (table or string expected, got nil)",
      function() graph:create_job() end },
    { "bad argument #1 to 'get_job' (string expected, got number)",
      function() graph:get_job(5) end },
    { "bad argument #2 to 'update_job' (table or string expected, got " ..
      "number)", function() graph:update_job(job.id, 5) end },
    { "bad argument #1 to 'delete_job' (string expected, got nil)",
      function() graph:delete_job() end },
    { "bad argument #1 to 'validate_job' (string expected, got nil)",
      function() graph:validate_job() end },
    { "bad argument #1 to 'migrate_job' (string expected, got nil)",
      function() graph:migrate_job() end },
    { "bad argument #1 to 'cancel_job' (string expected, got nil)",
      function() graph:cancel_job() end },
    { "bad argument #2 to 'create_task' (table or string expected, got nil)",
      function() graph:create_task(job.id) end },
    { "bad argument #2 to 'get_task' (string expected, got nil)",
      function() graph:get_task(job.id) end },
    { "bad argument #2 to 'cancel_task' (string expected, got nil)",
      function() graph:cancel_task(job.id) end },
    { "bad argument #1 to 'list_jobs' (table, string or nil expected, got " ..
      "number)", function() graph:list_jobs(5) end },
    { "bad argument #2 to 'list_tasks' (table, string or nil expected, got " ..
      "boolean)", function() graph:list_tasks(job.id, true) end },
    { "bad argument #1 to 'advance' ('P1M' has months or years, which have " ..
      "no fixed length and are not supported: use weeks, days or hours " ..
      "(such as P30D))", function() graph:advance("P1M") end },
    { "bad argument #1 to 'advance' (seconds must be >= 0)",
      function() graph:advance(-1) end },
    { "bad argument #1 to 'run_until' (function expected, got nil)",
      function() graph:run_until() end },
    { "bad argument #1 to 'run_until' (no job 'nope')",
      function() graph:run_until("nope", { "failed" }) end },
    { "bad argument #3 to 'run_until' (not an ISO 8601 duration: 'soon')",
      function() graph:run_until(job.id, { "failed" }, "soon") end },
    { "bad argument #1 to 'fail' (unknown field 'reason')",
      function() graph:fail { user = F.TASK, service = "ODSP", reason = 1 } end },
    { "bad argument #1 to 'fail' (field 'service' must be ODSP, Meeting, " ..
      "Teams or Exchange)", function() graph:fail { user = F.TASK } end },
    { "bad argument #1 to 'on' (event must be 'job' or 'task')",
      function() graph:on("jobs", print) end },
    { "bad argument #1 to 'decode' (string expected, got nil)",
      function() crosstenant.decode() end },
    { "encode: number is not finite",
      function() crosstenant.encode { 0 / 0 } end },
    { "encode: can't encode a function",
      function() crosstenant.encode { f = print } end },
  }
  local closed = F.graph()
  closed:close()
  local uses = {
    function() closed:get_job("x") end,
    function() closed:now() end,
    function() closed:advance(1) end,
    function() closed:request("GET", F.JOBS) end,
    function() closed:list_jobs() end,
    function() for _ in closed:jobs() do end end,
    function() closed:pending() end,
    function() closed:must("get_job", "x") end,
  }
  for i, fn in ipairs(uses) do
    cases[#cases + 1] = { "attempt to use a closed store", fn,
                          "a closed store, use #" .. i }
  end
  it("closing twice is fine", function()
    closed:close()
    closed:close()
  end)
  for _, c in ipairs(cases) do
    it(c[3] or c[1], function() raises_here(c[1], c[2]) end)
  end

  it("nothing changed: the clock and the store", function()
    assert.are.equal(F.NOW, graph:now())
    assert.are.equal(1, #assert(graph:list_jobs()).value)
  end)
end)

describe("the module under another Lua", function()
  local lua51 = io.popen("command -v lua5.1"):read("l")

  it("refuses Lua 5.1 with a sentence, not a syntax error", function()
    if not lua51 then
      pending("lua5.1 is not installed")
      return
    end
    local path = assert(package.searchpath("crosstenant", package.path))
    local dir = path:gsub("crosstenant/init%.lua$", "")
    local p = assert(io.popen("lua5.1 -e \"package.path='" .. dir ..
      "?.lua;" .. dir .. "?/init.lua'; require 'crosstenant'\" 2>&1"))
    local out = p:read("a")
    local _, _, code = p:close()
    assert.are.equal(1, code)
    assert.matches("crosstenant needs Lua 5.4, but this is Lua 5.1: run " ..
                   "scripts with lua5.4 and busted as `lua5.4 $(command -v " ..
                   "busted)`", out, 1, true)
  end)
end)
