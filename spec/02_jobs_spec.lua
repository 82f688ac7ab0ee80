-- Jobs: create, get, update, delete and the actions, through the methods.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local function bad(message, inner)
  return F.rejects(400, "invalidRequest", message, inner or "invalidProperty")
end

describe("graph:create_job", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("answers the job as the docs' create example shows it", function()
    local job = assert(graph:create_job(F.job_body()))
    assert.are.equal(
      "https://graph.microsoft.com/beta/$metadata#solutions/migrations/" ..
      "crossTenantMigrationJobs/$entity", job["@odata.context"])
    assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", job.id)
    assert.are.equal(36, #job.id)
    assert.are.equal("xtmigration_user_req_1", job.displayName)
    assert.are.equal("validate", job.jobType)
    assert.are.equal("submitted", job.status)
    assert.are.equal("", job.message)
    assert.are.equal(F.SOURCE, job.sourceTenantId)
    assert.are.equal(F.TARGET, job.targetTenantId)
    assert.are.equal("2025-12-09T22:48:03.092Z", job.completeAfterDateTime)
    assert.are.equal("2025-11-06T09:00:00Z", job.createdDateTime)
    assert.are.equal(job.createdDateTime, job.lastUpdatedDateTime)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", job.createdBy)
    assert.are.same({ sourceEndpoint = "sampleEndpointText",
                      targetDeliveryDomain = "xtmigration.onmicrosoft.com" },
                    job.exchangeSettings)
    assert.are.same({ "Teams", "Exchange", "ODSP" }, job.workloads)
    assert.are.equal("Users", job.resourceType)
    assert.are.same(F.RESOURCES, job.resources)
    local keys = {}
    for k in pairs(job) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "@odata.context", "completeAfterDateTime", "createdBy",
      "createdDateTime", "displayName", "exchangeSettings", "id", "jobType",
      "lastUpdatedDateTime", "message", "resourceType", "resources",
      "sourceTenantId", "status", "targetTenantId", "workloads" }, keys)
  end)

  it("makes one task per resource with an entry per service", function()
    local job = assert(graph:create_job(F.job_body()))
    local page = assert(graph:list_tasks(job.id))
    assert.are.equal(3, #page.value)
    for i, task in ipairs(page.value) do
      assert.are.equal(F.RESOURCES[i], task.id)
      assert.are.equal("user", task.taskType)
      assert.are.equal(job.createdDateTime, task.lastUpdatedDateTime)
      assert.are.same({
        { service = "ODSP", status = "notStarted", message = "", errors = {} },
        { service = "Meeting", status = "notStarted", message = "", errors = {} },
        { service = "Teams", status = "notStarted", message = "", errors = {} },
        { service = "Exchange", status = "notStarted", message = "", errors = {} },
      }, task.currentStatus)
    end
  end)

  it("takes workloads case-insensitively and yields only their services",
     function()
    local job = assert(graph:create_job(F.job_body {
      workloads = { "teams" }, exchangeSettings = false }))
    assert.are.same({ "Teams" }, job.workloads)
    assert.are.equal(crosstenant.null, job.exchangeSettings)
    local task = assert(graph:get_task(job.id, F.RESOURCES[1]))
    assert.are.equal(2, #task.currentStatus)
    assert.are.equal("Meeting", task.currentStatus[1].service)
    assert.are.equal("Teams", task.currentStatus[2].service)
  end)

  it("means all three workloads when workloads is omitted", function()
    local job = assert(graph:create_job(F.job_body { workloads = false }))
    assert.are.same({ "Teams", "Exchange", "ODSP" }, job.workloads)
  end)

  it("stores GUIDs lowercase and resourceType as sent", function()
    local job = assert(graph:create_job(F.job_body {
      resourceType = "users",
      sourceTenantId = F.SOURCE:upper(),
      resources = { F.RESOURCES[1]:upper() } }))
    assert.are.equal(F.SOURCE, job.sourceTenantId)
    assert.are.same({ F.RESOURCES[1] }, job.resources)
    assert.are.equal("users", job.resourceType)
  end)

  it("normalises completeAfterDateTime to UTC", function()
    local job = assert(graph:create_job(F.job_body {
      completeAfterDateTime = "2025-12-09T23:48:03.5+01:00" }))
    assert.are.equal("2025-12-09T22:48:03.5Z", job.completeAfterDateTime)
  end)

  it("accepts JSON text as well as a table", function()
    local job = assert(graph:create_job(crosstenant.encode(F.job_body())))
    assert.are.equal("xtmigration_user_req_1", job.displayName)
  end)

  it("refuses a displayName already used in the tenant, in any case",
     function()
    assert(graph:create_job(F.job_body()))
    F.rejects(409, "nameAlreadyExists",
      "A job named 'XTMIGRATION_user_req_1' already exists in this tenant.")(
      graph:create_job(F.job_body {
        displayName = "XTMIGRATION_user_req_1",
        resources = F.users(1) }))
  end)

  it("refuses a user already in another active job", function()
    local first = assert(graph:create_job(F.job_body()))
    F.rejects(409, "notAllowed",
      "resources[1]: User '" .. F.RESOURCES[2] .. "' is already in active " ..
      "job '" .. first.id .. "'; a user can be in only one active job at " ..
      "a time.")(graph:create_job(F.job_body {
        displayName = "second", resources = { F.users(1)[1], F.RESOURCES[2] } }))
  end)

  local cases = {
    { "a missing displayName", { displayName = false },
      "Property 'displayName' is required." },
    { "a blank displayName", { displayName = "  " },
      "Property 'displayName' must not be empty." },
    { "a missing completeAfterDateTime", { completeAfterDateTime = false },
      "Property 'completeAfterDateTime' is required." },
    { "a missing sourceTenantId", { sourceTenantId = false },
      "Property 'sourceTenantId' is required." },
    { "a missing resourceType", { resourceType = false },
      "Property 'resourceType' is required." },
    { "missing resources", { resources = false },
      "Property 'resources' is required." },
    { "a sourceTenantId that is not a GUID", { sourceTenantId = "contoso" },
      "Property 'sourceTenantId' is not a valid GUID: 'contoso'." },
    { "a braced GUID", { sourceTenantId = "{" .. F.SOURCE .. "}" },
      "Property 'sourceTenantId' is not a valid GUID: '{" .. F.SOURCE .. "}'." },
    { "the caller's own tenant as the source", { sourceTenantId = F.TARGET },
      "Property 'sourceTenantId' must differ from the target tenant '" ..
      F.TARGET .. "'." },
    { "a resourceType other than Users", { resourceType = "Groups" },
      "Property 'resourceType' has an unsupported value 'Groups'; " ..
      "supported: Users." },
    { "an unknown workload", { workloads = { "Teams", "Yammer" } },
      "Property 'workloads[1]' has an unsupported value 'Yammer'; " ..
      "supported: Teams, Exchange, ODSP." },
    { "a repeated workload", { workloads = { "Teams", "teams" } },
      "Property 'workloads[1]' repeats 'Teams'." },
    { "Exchange without exchangeSettings", { exchangeSettings = false },
      "Property 'exchangeSettings' is required when the Exchange workload " ..
      "is selected." },
    { "null exchangeSettings with Exchange",
      { exchangeSettings = crosstenant.null },
      "Property 'exchangeSettings' is required when the Exchange workload " ..
      "is selected." },
    { "exchangeSettings without sourceEndpoint",
      { exchangeSettings = { targetDeliveryDomain = "x.com" } },
      "Property 'exchangeSettings.sourceEndpoint' is required." },
    { "empty resources", { resources = {} },
      "Property 'resources' must hold 1 to 2000 user ids; it holds 0." },
    { "2,001 resources", { resources = F.users(2001) },
      "Property 'resources' must hold 1 to 2000 user ids; it holds 2001." },
    { "a repeated resource",
      { resources = { F.RESOURCES[1], F.RESOURCES[2], F.RESOURCES[1]:upper() } },
      "Property 'resources[2]' repeats '" .. F.RESOURCES[1] .. "'." },
    { "a resource that is not a GUID", { resources = { F.RESOURCES[1], "bob" } },
      "Property 'resources[1]' is not a valid GUID: 'bob'." },
    { "a number where a string belongs", { displayName = 42 },
      "Property 'displayName' must be a string, not a number." },
    { "a string where a collection belongs", { resources = F.RESOURCES[1] },
      "Property 'resources' must be a collection, not a string." },
    { "null where null is not allowed", { displayName = crosstenant.null },
      "Property 'displayName' must not be null." },
    { "an impossible date", { completeAfterDateTime = "2025-02-30T00:00:00Z" },
      "Property 'completeAfterDateTime' is not a valid DateTimeOffset: " ..
      "'2025-02-30T00:00:00Z' (day out of range)." },
    { "an unknown property", { color = "blue" },
      "Property 'color' does not exist on type " ..
      "'microsoft.graph.crossTenantMigrationJob'." },
    { "a read-only property", { status = "completed" },
      "Property 'status' is read-only and can't be set." },
    { "a wrong @odata.type", { ["@odata.type"] = "#microsoft.graph.user" },
      "Property '@odata.type' is '#microsoft.graph.user', but the body must " ..
      "be of type '#microsoft.graph.crossTenantMigrationJob'." },
  }
  for _, c in ipairs(cases) do
    it("refuses " .. c[1] .. " with 400 and changes nothing", function()
      local before = F.snapshot(graph)
      bad(c[3])(graph:create_job(F.job_body(c[2])))
      assert.are.equal(before, F.snapshot(graph))
    end)
  end

  it("accepts @odata.type with or without '#'", function()
    assert(graph:create_job(F.job_body {
      ["@odata.type"] = "microsoft.graph.crossTenantMigrationJob" }))
    assert(graph:create_job(F.job_body { displayName = "b",
      resources = F.users(1),
      ["@odata.type"] = "#microsoft.graph.crossTenantMigrationJob" }))
  end)

  it("ignores read-only properties when the store is not strict", function()
    local g = F.graph { strict = false }
    local job = assert(g:create_job(F.job_body {
      status = "completed", id = F.RESOURCES[1], createdBy = "mallory" }))
    assert.are.equal("submitted", job.status)
    assert.are_not.equal(F.RESOURCES[1], job.id)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", job.createdBy)
  end)

  it("refuses malformed JSON with the parser's position", function()
    F.rejects(400, "invalidRequest",
      "The request body is not valid JSON: unexpected character 'x' at " ..
      "position 15.")(graph:create_job('{"displayName":x}'))
  end)

  it("raises on a wrong Lua type", function()
    assert.has_error(function() graph:create_job(42) end,
      "bad argument #1 to 'create_job' (table or string expected, got number)")
  end)
end)

describe("graph:get_job", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  it("finds a job by id, in any case", function()
    local got = assert(graph:get_job(job.id:upper()))
    assert.are.same(job, got)
  end)

  it("finds a job by displayName, case-insensitively", function()
    local got = assert(graph:get_job("XTMIGRATION_USER_REQ_1"))
    assert.are.equal(job.id, got.id)
  end)

  it("answers 404 for an unknown job", function()
    F.rejects(404, "itemNotFound",
      "crossTenantMigrationJob 'nope' was not found.")(graph:get_job("nope"))
  end)

  it("hands out copies: changing a result never changes the store", function()
    local got = assert(graph:get_job(job.id))
    got.status = "completed"
    got.resources[1] = "x"
    got.exchangeSettings.sourceEndpoint = "y"
    assert.are.same(job, assert(graph:get_job(job.id)))
  end)
end)

describe("graph:update_job", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  it("changes completeAfterDateTime and answers true", function()
    graph:advance(90)
    assert.is_true(graph:update_job(job.id, {
      completeAfterDateTime = "2025-05-22T17:14:52Z" }))
    local got = assert(graph:get_job(job.id))
    assert.are.equal("2025-05-22T17:14:52Z", got.completeAfterDateTime)
    assert.are.equal("2025-11-06T09:01:30Z", got.lastUpdatedDateTime)
  end)

  it("refuses any other writable property as not updateable", function()
    F.rejects(400, "invalidRequest",
      "Property 'displayName' can't be updated; only completeAfterDateTime " ..
      "can.", "propertyNotUpdateable")(
      graph:update_job(job.id, { displayName = "renamed" }))
  end)

  it("refuses read-only and unknown properties", function()
    bad("Property 'status' is read-only and can't be set.")(
      graph:update_job(job.id, { status = "completed" }))
    bad("Property 'foo' does not exist on type " ..
        "'microsoft.graph.crossTenantMigrationJob'.")(
      graph:update_job(job.id, { foo = 1 }))
  end)

  it("refuses a bad timestamp", function()
    bad("Property 'completeAfterDateTime' is not a valid DateTimeOffset: " ..
        "'2025-13-01T00:00:00Z' (month out of range).")(
      graph:update_job(job.id, { completeAfterDateTime = "2025-13-01T00:00:00Z" }))
  end)

  it("refuses once the job is final", function()
    graph:cancel_job(job.id)
    graph:advance("PT5M")
    F.rejects(409, "notAllowed",
      "completeAfterDateTime can't be changed because the current status " ..
      "is cancelled; completeAfterDateTime can be changed while the job " ..
      "is submitted, validateSubmitted, validateProcessing, " ..
      "validateInProgress, validatePassed, validateFailed, processing or " ..
      "inProgress: the job was cancelled; create a new job for its users.")(
      graph:update_job(job.id, {
        completeAfterDateTime = "2026-01-01T00:00:00Z" }))
  end)
end)

describe("the job actions", function()
  local graph, job
  before_each(function()
    graph = F.graph { timings = { validate_submitted = 10,
      validate_processing = 10, validate_in_progress = 10, processing = 10,
      sync = 60, cutover = 60, cancel = 10, delete_pending = 10,
      deleted = 10 } }
    job = assert(graph:create_job(F.job_body {
      completeAfterDateTime = "2025-11-06T10:00:00Z" }))
  end)

  it("validate answers the job in validateSubmitted", function()
    local r = assert(graph:validate_job(job.id))
    assert.are.equal("validateSubmitted", r.status)
    assert.are.equal("validate", r.jobType)
    assert.are.equal("Validation job has been submitted successfully",
                     r.message)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
                     "microsoft.graph.crossTenantMigrationJob",
                     r["@odata.context"])
  end)

  it("validate refuses outside submitted and validateFailed", function()
    assert(graph:validate_job(job.id))
    F.rejects(409, "notAllowed", "Validation can't be started because the " ..
      "current status is validateSubmitted; validation starts from " ..
      "submitted or validateFailed, or from validatePassed once that " ..
      "validation has expired: wait until validation finishes " ..
      "(validatePassed or validateFailed).")(graph:validate_job(job.id))
  end)

  it("walks validation to validatePassed on the clock", function()
    assert(graph:validate_job(job.id))
    local seen = {}
    graph:on("job", function(_, _, new) seen[#seen + 1] = new end)
    graph:advance(30)
    assert.are.same({ "validateProcessing", "validateInProgress",
                      "validatePassed" }, seen)
    local got = assert(graph:get_job(job.id))
    assert.are.equal("Validation has completed successfully with no " ..
                     "failures.", got.message)
    local task = assert(graph:get_task(job.id, F.RESOURCES[1]))
    for _, s in ipairs(task.currentStatus) do
      assert.are.equal("valid", s.status)
    end
  end)

  it("migrate refuses before validation passed", function()
    F.rejects(409, "notAllowed", "Migration can't be started because the " ..
      "current status is submitted; migration starts from validatePassed, " ..
      "failed or completedWithErrors: validate the job first.")(
      graph:migrate_job(job.id))
  end)

  it("migrate refuses when validation passed more than 7 days ago", function()
    graph:validate_job(job.id)
    graph:advance(30)
    graph:advance("P7DT1S")
    F.rejects(409, "notAllowed", "Migration can't be started: validation " ..
      "passed more than 7 days ago (on 2025-11-06T09:00:30Z), and its " ..
      "results have expired: validate again.")(graph:migrate_job(job.id))
  end)

  it("migrates through the documented statuses to completed", function()
    graph:validate_job(job.id)
    graph:advance(30)
    local r = assert(graph:migrate_job(job.id))
    assert.are.equal("processing", r.status)
    assert.are.equal("migrate", r.jobType)
    assert.are.equal("Migration job has been submitted successfully",
                     r.message)
    local seen = {}
    graph:on("job", function(_, _, new) seen[#seen + 1] = new end)
    graph:advance("PT2H")
    assert.are.same({ "inProgress", "cuttingOver", "completed" }, seen)
    local task = assert(graph:get_task(job.id, F.RESOURCES[2]))
    for _, s in ipairs(task.currentStatus) do
      assert.are.equal("completed", s.status)
    end
  end)

  it("waits for completeAfterDateTime before cutting over", function()
    graph:validate_job(job.id)
    graph:advance(30)
    graph:migrate_job(job.id)
    graph:advance(120)    -- synced at 09:01:40, due at 10:00
    local got = assert(graph:get_job(job.id))
    assert.are.equal("inProgress", got.status)
    local task = assert(graph:get_task(job.id, F.RESOURCES[1]))
    assert.are.equal("synced", task.currentStatus[4].status)
    assert.are.equal("notStarted", task.currentStatus[1].status)
    -- moving the time into the past makes it due at once
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-01T00:00:00Z" }))
    graph:advance(1)
    assert.are.equal("cuttingOver", assert(graph:get_job(job.id)).status)
  end)

  it("cancel answers pendingCancel, then the job is cancelled", function()
    local r = assert(graph:cancel_job(job.id))
    assert.are.same({ id = job.id, displayName = job.displayName,
      status = "pendingCancel",
      message = "cancellation request has been accepted for the migration " ..
                "job" }, r)
    graph:advance(10)
    local got = assert(graph:get_job(job.id))
    assert.are.equal("cancelled", got.status)
    local task = assert(graph:get_task(job.id, F.RESOURCES[3]))
    for _, s in ipairs(task.currentStatus) do
      assert.are.equal("cancelled", s.status)
    end
  end)

  it("cancel refuses once completeAfterDateTime has passed", function()
    graph:advance("PT2H")
    F.rejects(409, "notAllowed", "Cancellation is not possible because " ..
      "completeAfterDateTime (2025-11-06T10:00:00Z) has passed; a job can " ..
      "be cancelled only before it: set a later completeAfterDateTime " ..
      "(PATCH) first.")(graph:cancel_job(job.id))
  end)

  it("cancel refuses a final job", function()
    graph:cancel_job(job.id)
    graph:advance(10)
    F.rejects(409, "notAllowed", "Cancellation is not possible because " ..
      "the current status is cancelled; a job can be cancelled while it " ..
      "is submitted, validateSubmitted, validateProcessing, " ..
      "validateInProgress, validatePassed, validateFailed, processing or " ..
      "inProgress: the job is already cancelled.")(graph:cancel_job(job.id))
  end)

  it("delete refuses a job that is not final", function()
    F.rejects(409, "notAllowed", "The job can't be deleted because the " ..
      "current status is submitted; only a job that is completed, " ..
      "completedWithErrors, failed or cancelled can be deleted: cancel " ..
      "the job first.")(graph:delete_job(job.id))
  end)

  it("delete walks pendingDelete, deleted, then 404", function()
    graph:cancel_job(job.id)
    graph:advance(10)
    assert.is_true(graph:delete_job(job.id))
    assert.are.equal("pendingDelete", assert(graph:get_job(job.id)).status)
    graph:advance(10)
    assert.are.equal("deleted", assert(graph:get_job(job.id)).status)
    graph:advance(10)
    F.rejects(404, "itemNotFound", "crossTenantMigrationJob '" .. job.id ..
      "' was not found.")(graph:get_job(job.id))
    -- the name and the users are free again
    assert(graph:create_job(F.job_body()))
  end)

  it("frees the users of a cancelled job for a new job", function()
    graph:cancel_job(job.id)
    graph:advance(10)
    assert(graph:create_job(F.job_body { displayName = "again" }))
  end)
end)
