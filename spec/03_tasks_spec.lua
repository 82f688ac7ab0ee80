-- Tasks: the seed endpoint (create), list, get and cancel.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local SEED_REQUEST = [[{
  "@odata.type": "#microsoft.graph.crossTenantMigrationTask",
  "taskType": "user",
  "lastUpdatedDateTime": "2025-11-06T09:06:34.4773205Z",
  "currentStatus": [
    {
      "@odata.type": "microsoft.graph.crossTenantMigrationServiceStatusDetails"
    }
  ]
}]]

local function keys_of(t)
  local k = {}
  for name in pairs(t) do k[#k + 1] = name end
  table.sort(k)
  return k
end

describe("POST .../crossTenantMigrationJobs/{id}/users (the seed)", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  -- behavior.md: an entry without `service` is 400, so the seed's own
  -- example body (one entry carrying only @odata.type) is refused, with
  -- the index and the job's services in the message
  it("refuses the seed's example request: its entry names no service",
     function()
    local before = F.snapshot(graph)
    local status, body = graph:request("POST",
      "https://graph.microsoft.com/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs/" .. job.id .. "/users", SEED_REQUEST,
      { ["Content-Type"] = "application/json" })
    assert.are.equal(400, status)
    assert.are.equal("invalidRequest", body.error.code)
    assert.are.equal("invalidProperty", body.error.innerError.code)
    assert.are.equal("Property 'currentStatus[0]' names no service; each " ..
      "entry names one of the job's services: ODSP, Meeting, Teams, " ..
      "Exchange.", body.error.message)
    assert.are.equal(before, F.snapshot(graph))
  end)

  it("answers the seed's request with a service named: 201, every service",
     function()
    local req = SEED_REQUEST:gsub('"@odata.type": "microsoft.graph.' ..
      'crossTenantMigrationServiceStatusDetails"',
      '%0, "service": "ODSP"')
    local status, body, headers = graph:request("POST",
      "https://graph.microsoft.com/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs/" .. job.id .. "/users", req,
      { ["Content-Type"] = "application/json" })
    assert.are.equal(201, status)
    assert.are.same({ "@odata.context", "@odata.type", "currentStatus", "id",
                      "lastUpdatedDateTime", "taskType" }, keys_of(body))
    assert.are.equal("#microsoft.graph.crossTenantMigrationTask",
                     body["@odata.type"])
    assert.are.equal("user", body.taskType)
    assert.are.equal("2025-11-06T09:06:34.4773205Z", body.lastUpdatedDateTime)
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$",
                   body.id)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
      "solutions/migrations/crossTenantMigrationJobs('" .. job.id ..
      "')/users/$entity", body["@odata.context"])
    local SSD = "microsoft.graph.crossTenantMigrationServiceStatusDetails"
    local want = {}
    for i, svc in ipairs { "ODSP", "Meeting", "Teams", "Exchange" } do
      want[i] = { ["@odata.type"] = SSD, service = svc,
                  status = "notStarted", message = "", errors = {} }
    end
    assert.are.same(want, body.currentStatus)
    assert.are.equal("https://graph.microsoft.com/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs/" .. job.id .. "/users/" .. body.id,
      headers.Location)
    assert.are.equal("application/json", headers["content-type"])
    -- appended to the job's resources, and listed
    local got = assert(graph:get_job(job.id))
    assert.are.equal(body.id, got.resources[4])
    local page = assert(graph:list_tasks(job.id))
    assert.are.equal(body.id, page.value[4].id)
  end)

  it("writes the seed response as JSON in the documented order", function()
    local function entry(svc)
      return '{"@odata.type":"microsoft.graph.crossTenantMigrationService' ..
        'StatusDetails","service":"' .. svc .. '","status":"notStarted",' ..
        '"message":"","errors":[]}'
    end
    local _, body = graph:request("POST", F.JOBS .. "/" .. job.id .. "/users",
      { taskType = "user", id = F.TASK,
        lastUpdatedDateTime = "2025-11-06T11:26:00Z",
        currentStatus = { { service = "exchange", status = "syncing",
          message = "copying", errors = { { code = "E1", message = "m" } } } } })
    assert.are.equal('{"@odata.context":"https://graph.microsoft.com/beta/' ..
      '$metadata#solutions/migrations/crossTenantMigrationJobs(\'' .. job.id ..
      '\')/users/$entity","@odata.type":"#microsoft.graph.' ..
      'crossTenantMigrationTask","id":"' .. F.TASK .. '","taskType":"user",' ..
      '"lastUpdatedDateTime":"2025-11-06T11:26:00Z","currentStatus":[' ..
      entry("ODSP") .. "," .. entry("Meeting") .. "," .. entry("Teams") ..
      ',{"@odata.type":"microsoft.graph.crossTenantMigrationServiceStatus' ..
      'Details","service":"Exchange","status":"syncing","message":"copying",' ..
      '"errors":[{"code":"E1","message":"m"}]}]}', crosstenant.encode(body))
  end)

  it("uses the given id, lowercased, and keeps taskType as sent", function()
    local task = assert(graph:create_task(job.id, { id = F.TASK:upper(),
      taskType = "User", lastUpdatedDateTime = "2025-11-06T09:00:00Z" }))
    assert.are.equal(F.TASK, task.id)
    assert.are.equal("User", task.taskType)
    -- without currentStatus, the job's services, notStarted
    assert.are.equal(4, #task.currentStatus)
    assert.are.equal("User", assert(graph:get_task(job.id, F.TASK)).taskType)
  end)

  it("sends a validatePassed job back to submitted", function()
    local g = F.graph { timings = { validate_submitted = 1,
      validate_processing = 1, validate_in_progress = 1 } }
    local j = assert(g:create_job(F.job_body()))
    g:validate_job(j.id)
    g:advance(5)
    assert.are.equal("validatePassed", assert(g:get_job(j.id)).status)
    assert(g:create_task(j.id, { id = F.TASK, taskType = "user",
      lastUpdatedDateTime = "2025-11-06T09:00:00Z" }))
    assert.are.equal("submitted", assert(g:get_job(j.id)).status)
  end)

  local function task(over)
    local t = { id = F.TASK, taskType = "user",
                lastUpdatedDateTime = "2025-11-06T09:00:00Z" }
    for k, v in pairs(over or {}) do
      if v == false then t[k] = nil else t[k] = v end
    end
    return t
  end

  local cases = {
    { "a missing taskType", { taskType = false },
      "Property 'taskType' is required." },
    { "a taskType other than user", { taskType = "group" },
      "Property 'taskType' has an unsupported value 'group'; supported: user." },
    { "a missing lastUpdatedDateTime", { lastUpdatedDateTime = false },
      "Property 'lastUpdatedDateTime' is required." },
    { "an hour 24", { lastUpdatedDateTime = "2025-11-06T24:00:00Z" },
      "Property 'lastUpdatedDateTime' is not a valid DateTimeOffset: " ..
      "'2025-11-06T24:00:00Z' (hour out of range)." },
    { "an id that is not a GUID", { id = "user-1" },
      "Property 'id' is not a valid GUID: 'user-1'." },
    { "an unknown service",
      { currentStatus = { { service = "Yammer" } } },
      "Property 'currentStatus[0].service' has an unsupported value " ..
      "'Yammer'; supported: ODSP, Meeting, Teams, Exchange." },
    { "an unknown status",
      { currentStatus = { { service = "Teams", status = "done" } } },
      "Property 'currentStatus[0].status' has an unsupported value 'done'; " ..
      "supported: notStarted, valid, invalid, error, inProgress, completed, " ..
      "failed, cancelled, pendingCancel, syncing, synced, finalizing, " ..
      "forceComplete, unknownFutureValue." },
    { "a repeated service",
      { currentStatus = { { service = "Teams" }, { service = "teams" } } },
      "Property 'currentStatus[1].service' repeats 'Teams'; each of the " ..
      "job's services (ODSP, Meeting, Teams, Exchange) may be named once." },
    { "a wrong entry type",
      { currentStatus = { { ["@odata.type"] = "#microsoft.graph.error" } } },
      "Property 'currentStatus[0].@odata.type' is '#microsoft.graph.error', " ..
      "but the body must be of type '#microsoft.graph." ..
      "crossTenantMigrationServiceStatusDetails'." },
    { "an unknown entry property",
      { currentStatus = { { service = "Teams", colour = 1 } } },
      "Property 'currentStatus[0].colour' does not exist on type " ..
      "'microsoft.graph.crossTenantMigrationServiceStatusDetails'." },
    { "errors that are not objects",
      { currentStatus = { { service = "Teams", errors = { "oops" } } } },
      "Property 'currentStatus[0].errors[0]' must be an object, not a string." },
    { "an error code that is a number",
      { currentStatus = { { service = "Teams", errors = { { code = 5 } } } } },
      "Property 'currentStatus[0].errors[0].code' must be a string, not a " ..
      "number." },
    { "a wrong body type", { ["@odata.type"] = "#microsoft.graph.user" },
      "Property '@odata.type' is '#microsoft.graph.user', but the body must " ..
      "be of type '#microsoft.graph.crossTenantMigrationTask'." },
  }
  for _, c in ipairs(cases) do
    it("refuses " .. c[1] .. " with 400 and changes nothing", function()
      local before = F.snapshot(graph)
      F.rejects(400, "invalidRequest", c[3], "invalidProperty")(
        graph:create_task(job.id, task(c[2])))
      assert.are.equal(before, F.snapshot(graph))
    end)
  end

  it("refuses a fifth entry: it repeats a service", function()
    local five = {}
    for i, svc in ipairs { "ODSP", "Meeting", "Teams", "Exchange", "Teams" } do
      five[i] = { service = svc }
    end
    F.rejects(400, "invalidRequest", "Property 'currentStatus[4].service' " ..
      "repeats 'Teams'; each of the job's services (ODSP, Meeting, Teams, " ..
      "Exchange) may be named once.", "invalidProperty")(
      graph:create_task(job.id, task { currentStatus = five }))
  end)

  it("answers 404 for an unknown job", function()
    F.rejects(404, "itemNotFound",
      "crossTenantMigrationJob 'missing' was not found.")(
      graph:create_task("missing", task()))
  end)

  it("refuses a user already in the job", function()
    F.rejects(409, "notAllowed", "User '" .. F.RESOURCES[1] ..
      "' is already in job '" .. job.id .. "'.")(
      graph:create_task(job.id, task { id = F.RESOURCES[1] }))
  end)

  it("refuses a user cancelled out of the job", function()
    assert(graph:cancel_task(job.id, F.RESOURCES[1]))
    F.rejects(409, "notAllowed", "User '" .. F.RESOURCES[1] ..
      "' was cancelled out of job '" .. job.id .. "' and can't be added to " ..
      "it again.")(graph:create_task(job.id, task { id = F.RESOURCES[1] }))
  end)

  it("refuses a user in another active job of the tenant", function()
    local other = assert(graph:create_job(F.job_body {
      displayName = "other", resources = { F.TASK } }))
    F.rejects(409, "notAllowed", "User '" .. F.TASK .. "' is already in " ..
      "active job '" .. other.id .. "'; a user can be in only one active " ..
      "job at a time.")(graph:create_task(job.id, task()))
  end)

  it("refuses a job that has started migrating", function()
    graph:validate_job(job.id)
    F.rejects(409, "notAllowed", "Users can't be added to the job because " ..
      "the current status is validateSubmitted; users can be added while " ..
      "the job is submitted, validatePassed or validateFailed: wait until " ..
      "validation finishes (validatePassed or validateFailed).")(
      graph:create_task(job.id, task()))
  end)

  it("holds at most 2,000 users", function()
    local big = assert(graph:create_job(F.job_body { displayName = "big",
      resources = F.users(2000, "bbbbbbbb") }))
    F.rejects(400, "invalidRequest", "Job '" .. big.id .. "' already holds " ..
      "2000 users, the most a job can hold.")(graph:create_task(big.id, task()))
  end)

  it("raises on wrong Lua types", function()
    assert.has_error(function() graph:create_task(42) end,
      "bad argument #1 to 'create_task' (string expected, got number)")
    assert.has_error(function() graph:create_task(job.id, true) end,
      "bad argument #2 to 'create_task' (table or string expected, got " ..
      "boolean)")
  end)
end)

describe("graph:get_task and graph:list_tasks", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body { resources = F.users(45) }))
  end)

  it("gets one task with its context", function()
    local t = assert(graph:get_task(job.id, F.users(45)[3]))
    assert.are.equal(F.users(45)[3], t.id)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#solutions/" ..
      "migrations/crossTenantMigrationJobs('" .. job.id .. "')/users/$entity",
      t["@odata.context"])
  end)

  -- the binding keeps the last Lua string made for a context text in one
  -- of 64 slots (lcore.c, lct_push_text): with 80 jobs some share a slot,
  -- and each task must still name its own job, whichever path made it
  it("names each task's own job in its context, over many jobs", function()
    local jobs, base = {}, "https://graph.microsoft.com/beta/$metadata#" ..
      "solutions/migrations/crossTenantMigrationJobs('"
    for k = 1, 80 do
      jobs[k] = assert(graph:create_job(F.job_body {
        displayName = "context " .. k,
        resources = F.users(1, string.format("%08x", k)) })).id
    end
    for round = 1, 2 do
      for k = 1, 80 do
        local user = string.format("%08x-0000-4000-8000-%012x", k, round + 1)
        local t = assert(graph:create_task(jobs[k], {
          taskType = "user", id = user,
          lastUpdatedDateTime = "2025-11-06T09:06:34Z" }))
        assert.are.equal(base .. jobs[k] .. "')/users/$entity",
                         t["@odata.context"])
        t = assert(graph:get_task(jobs[k], user))
        assert.are.equal(base .. jobs[k] .. "')/users/$entity",
                         t["@odata.context"])
        local page = assert(graph:list_tasks(jobs[k]))
        assert.are.equal(base .. jobs[k] .. "')/users",
                         page["@odata.context"])
      end
    end
  end)

  -- the binding reuses the caller's own id and lastUpdatedDateTime
  -- strings only when they are the text the store answers with
  -- (lcore.c, push_same): other spellings come back as the store has them
  it("answers a created task's id and time as stored, however sent",
     function()
    local cases = {
      { "AAAAAAAA-0000-4000-8000-0000000000AA", "2025-11-06T10:06:34+01:00",
        "aaaaaaaa-0000-4000-8000-0000000000aa", "2025-11-06T09:06:34Z" },
      { "aaaaaaaa-0000-4000-8000-0000000000ab", "2025-11-06T09:06:34.50Z",
        "aaaaaaaa-0000-4000-8000-0000000000ab", "2025-11-06T09:06:34.50Z" },
      { "aaaaaaaa-0000-4000-8000-0000000000ac", "2025-11-06t09:06:34z",
        "aaaaaaaa-0000-4000-8000-0000000000ac", "2025-11-06T09:06:34Z" },
    }
    for _, c in ipairs(cases) do
      local t = assert(graph:create_task(job.id, {
        taskType = "user", id = c[1], lastUpdatedDateTime = c[2] }))
      assert.are.equal(c[3], t.id)
      assert.are.equal(c[4], t.lastUpdatedDateTime)
      local again = assert(graph:get_task(job.id, c[3]))
      assert.are.equal(c[4], again.lastUpdatedDateTime)
    end
  end)

  it("answers 404 for a user not in the job", function()
    F.rejects(404, "itemNotFound", "crossTenantMigrationTask '" .. F.TASK ..
      "' was not found in job '" .. job.id .. "'.")(
      graph:get_task(job.id, F.TASK))
  end)

  it("lists 20 a page, in the order users were added", function()
    local page = assert(graph:list_tasks(job.id))
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#solutions/" ..
      "migrations/crossTenantMigrationJobs('" .. job.id .. "')/users",
      page["@odata.context"])
    assert.are.equal(20, #page.value)
    assert.is_string(page["@odata.nextLink"])
    local n = 0
    local users = F.users(45)
    while page do
      for _, t in ipairs(page.value) do
        n = n + 1
        assert.are.equal(users[n], t.id)
      end
      local link = page["@odata.nextLink"]
      page = nil
      if link then
        local status
        status, page = graph:request("GET", link)
        assert.are.equal(200, status)
      end
    end
    assert.are.equal(45, n)
  end)

  it("takes top and count", function()
    local page = assert(graph:list_tasks(job.id, { top = 50, count = true }))
    assert.are.equal(45, #page.value)
    assert.are.equal(45, page["@odata.count"])
    assert.is_nil(page["@odata.nextLink"])
  end)

  it("refuses a bad top", function()
    F.rejects(400, "invalidRequest", "Query option '$top' must be an " ..
      "integer from 1 to 999, not '0'.", "invalidQueryOption")(
      graph:list_tasks(job.id, { ["$top"] = 0 }))
  end)
end)

describe("graph:cancel_task", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  it("answers Accepted and cancels the user's services", function()
    assert.are.same({ status = "Accepted",
      message = "Cancellation request for user id: " .. F.RESOURCES[2] ..
                " from batch: " .. job.id .. " was accepted." },
      assert(graph:cancel_task(job.id, F.RESOURCES[2])))
    local t = assert(graph:get_task(job.id, F.RESOURCES[2]))
    for _, s in ipairs(t.currentStatus) do
      assert.are.equal("cancelled", s.status)
    end
    -- the user is free for another job
    assert(graph:create_job(F.job_body { displayName = "second",
      resources = { F.RESOURCES[2] } }))
  end)

  it("answers 404 for a user not in the job", function()
    F.rejects(404, "itemNotFound", "crossTenantMigrationTask '" .. F.TASK ..
      "' was not found in job '" .. job.id .. "'.")(
      graph:cancel_task(job.id, F.TASK))
  end)

  it("refuses a task already cancelled", function()
    assert(graph:cancel_task(job.id, F.RESOURCES[2]))
    F.rejects(409, "notAllowed", "Cancel is not possible. Current status " ..
      "is cancelled: user '" .. F.RESOURCES[2] .. "' was already " ..
      "cancelled out of the job.")(graph:cancel_task(job.id, F.RESOURCES[2]))
  end)

  it("refuses once completeAfterDateTime has passed", function()
    graph:advance("P40D")
    F.rejects(409, "notAllowed", "Cancel is not possible for user '" ..
      F.RESOURCES[2] .. "' because the job's completeAfterDateTime " ..
      "(2025-12-09T22:48:03.092Z) has passed; users can be cancelled only " ..
      "before it: set a later completeAfterDateTime (PATCH) first.")(
      graph:cancel_task(job.id, F.RESOURCES[2]))
  end)
end)

-- behavior.md, "Create a task": a task always tracks every service of its
-- job's workloads, so a user can never be migrated with services missing.
describe("a created task tracks every service of its job", function()
  local graph, job
  local SSD = "microsoft.graph.crossTenantMigrationServiceStatusDetails"
  local URL
  before_each(function()
    graph = F.graph { timings = { validate_submitted = 1,
      validate_processing = 1, validate_in_progress = 1, processing = 1,
      cutover = 1 } }
    -- Teams and ODSP: the services are ODSP, Meeting, Teams
    job = assert(graph:create_job(F.job_body { workloads = { "Teams", "ODSP" },
      exchangeSettings = false, completeAfterDateTime = F.NOW }))
    URL = F.JOBS .. "/" .. job.id .. "/users"
  end)

  local function services(t)
    local out = {}
    for i, e in ipairs(t.currentStatus) do
      out[i] = e.service .. "=" .. e.status
    end
    return table.concat(out, " ")
  end

  local function body(cs)
    return { id = F.TASK, taskType = "user",
             lastUpdatedDateTime = "2025-11-06T09:00:00Z", currentStatus = cs }
  end

  -- each way in: the method, graph:request with a Lua table, with JSON
  local ways = {
    method = function(b) return graph:create_task(job.id, b) end,
    ["request (table)"] = function(b)
      local status, r = graph:request("POST", URL, b)
      if status == 201 then return r end
      return nil, r.error
    end,
    ["request (JSON)"] = function(b)
      local text = crosstenant.encode(b)
      if b.currentStatus and #b.currentStatus == 0 then
        text = text:gsub('"currentStatus":{}', '"currentStatus":[]')
      end
      local status, r = graph:request("POST", URL, text)
      if status == 201 then return r end
      return nil, r.error
    end,
  }
  for name, create in pairs(ways) do
    describe("through " .. name, function()
      it("gives an empty currentStatus every service, notStarted", function()
        local t = assert(create(body({})))
        assert.are.equal("ODSP=notStarted Meeting=notStarted " ..
                         "Teams=notStarted", services(t))
        assert.are.equal(SSD, t.currentStatus[2]["@odata.type"])
        assert.are.equal("", t.currentStatus[2].message)
        assert.are.same({}, t.currentStatus[2].errors)
      end)

      it("gives an omitted currentStatus every service, notStarted",
         function()
        local t = assert(create(body(nil)))
        assert.are.equal("ODSP=notStarted Meeting=notStarted " ..
                         "Teams=notStarted", services(t))
      end)

      it("sets the named services and keeps the docs' order", function()
        local t = assert(create(body {
          { service = "teams", status = "inProgress", message = "m",
            errors = { { code = "C", message = "x" } } },
          { service = "ODSP", message = crosstenant.null } }))
        assert.are.equal("ODSP=notStarted Meeting=notStarted " ..
                         "Teams=inProgress", services(t))
        assert.are.equal("m", t.currentStatus[3].message)
        assert.are.same({ { code = "C", message = "x" } },
                        t.currentStatus[3].errors)
        assert.are.equal("", t.currentStatus[1].message)
        local got = assert(graph:get_task(job.id, F.TASK))
        assert.are.equal(services(t), services(got))
      end)

      local refusals = {
        { "an entry without a service",
          { { service = "ODSP" }, { status = "notStarted" } },
          "Property 'currentStatus[1]' names no service; each entry names " ..
          "one of the job's services: ODSP, Meeting, Teams." },
        { "the seed's bare entry",
          { { ["@odata.type"] = "#" .. SSD } },
          "Property 'currentStatus[0]' names no service; each entry names " ..
          "one of the job's services: ODSP, Meeting, Teams." },
        { "a service outside the job's workloads",
          { { service = "Exchange", status = "syncing" } },
          "Property 'currentStatus[0].service' is 'Exchange', which is not " ..
          "one of the job's services: ODSP, Meeting, Teams." },
        { "a service named twice",
          { { service = "Meeting" }, { service = "ODSP" },
            { service = "meeting" } },
          "Property 'currentStatus[2].service' repeats 'Meeting'; each of " ..
          "the job's services (ODSP, Meeting, Teams) may be named once." },
      }
      for _, c in ipairs(refusals) do
        it("refuses " .. c[1] .. " with 400 and changes nothing", function()
          local before = F.snapshot(graph)
          local r, err = create(body(c[2]))
          assert.is_nil(r)
          assert.are.same({ 400, "invalidRequest", c[3] },
                          { err.status or 400, err.code, err.message })
          assert.are.equal(before, F.snapshot(graph))
        end)
      end
    end)
  end

  it("migrates a user added with [] in every service of the job", function()
    assert(graph:create_task(job.id, body({})))
    assert(graph:validate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "validatePassed" }, "P1D"))
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "completed" }, "P1D"))
    local t = assert(graph:get_task(job.id, F.TASK))
    assert.are.equal("ODSP=completed Meeting=completed Teams=completed",
                     services(t))
  end)

  it("tracks only Exchange on an Exchange job", function()
    local j = assert(graph:create_job(F.job_body { displayName = "ex",
      workloads = { "Exchange" },
      resources = { "bbbbbbbb-0000-4000-8000-000000000001" } }))
    local t = assert(graph:create_task(j.id, body {}))
    assert.are.equal("Exchange=notStarted", services(t))
    F.rejects(400, "invalidRequest", "Property 'currentStatus[0].service' " ..
      "is 'ODSP', which is not one of the job's services: Exchange.",
      "invalidProperty")(graph:create_task(j.id, {
        taskType = "user", lastUpdatedDateTime = F.NOW,
        currentStatus = { { service = "ODSP" } } }))
  end)
end)
