-- The core's lists of Graph's names, exported as crosstenant.JOB_STATUSES,
-- JOB_TYPES, SERVICE_STATUSES, SERVICES, WORKLOADS, TIMINGS and schema:
-- their content, and that the writer, $select, the validator, the
-- options and run_until read the same lists.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

describe("crosstenant's lists of names", function()
  it("hold each Graph enum's members in the SDK's order", function()
    assert.are.same({
      "submitted", "approved", "processing", "cuttingOver", "inProgress",
      "completed", "completedWithErrors", "failed", "cancelled",
      "pendingCancel", "adminActionRequired", "validateSubmitted",
      "validateProcessing", "validateInProgress", "validatePassed",
      "validateFailed", "pendingDelete", "deleted", "unknownFutureValue",
    }, crosstenant.JOB_STATUSES)
    assert.are.same({ "validate", "migrate", "unknownFutureValue" },
                    crosstenant.JOB_TYPES)
    assert.are.same({
      "notStarted", "valid", "invalid", "error", "inProgress", "completed",
      "failed", "cancelled", "pendingCancel", "syncing", "synced",
      "finalizing", "forceComplete", "unknownFutureValue",
    }, crosstenant.SERVICE_STATUSES)
    assert.are.same({ "ODSP", "Meeting", "Teams", "Exchange" },
                    crosstenant.SERVICES)
    assert.are.same({ "Teams", "Exchange", "ODSP" }, crosstenant.WORKLOADS)
  end)

  -- the core's own argument check names the services from the same list
  it("name the services in the core's refusal of an unknown one", function()
    local graph = F.graph()
    local ok, err = pcall(graph._core.fail, graph._core, F.TASK, "SharePoint",
                          "migrate", "failed", "x", "y")
    assert.is_false(ok)
    assert.matches("bad argument #3 to '[^']*' %(service must be ODSP, " ..
                   "Meeting, Teams or Exchange%)", err)
  end)

  it("hold the timings crosstenant.new takes, and only those", function()
    assert.are.same({
      "validate_submitted", "validate_processing", "validate_in_progress",
      "processing", "sync", "cutover", "cancel", "delete_pending",
      "deleted", "validation_expiry",
    }, crosstenant.TIMINGS)
    local timings = {}
    for i, k in ipairs(crosstenant.TIMINGS) do timings[k] = i end
    local graph = F.graph { timings = timings }
    local job = assert(graph:create_job(F.job_body()))
    assert(graph:validate_job(job.id))
    -- validate_submitted 1 s, validate_processing 2 s, in progress 3 s
    assert.is_false(graph:run_until(job.id, { "validatePassed" }, "PT5S"))
    assert.is_true(graph:run_until(job.id, { "validatePassed" }, "PT1S"))
  end)

  it("give each type's properties in the order a response writes them",
     function()
    local s = crosstenant.schema
    assert.are.equal("microsoft.graph.crossTenantMigrationJob", s.job.type)
    assert.are.same({
      "id", "displayName", "jobType", "sourceTenantId", "targetTenantId",
      "completeAfterDateTime", "status", "message", "createdDateTime",
      "createdBy", "lastUpdatedDateTime", "exchangeSettings", "workloads",
      "resourceType", "resources", "users",
    }, s.job.properties)
    assert.are.same({ "id", "taskType", "lastUpdatedDateTime",
                      "currentStatus" }, s.task.properties)
    assert.are.same({ "service", "status", "message", "errors" },
                    s.statusDetails.properties)
    assert.are.same({ "code", "message" }, s.error.properties)
    assert.are.same({ "sourceEndpoint", "targetDeliveryDomain" },
                    s.exchangeSettings.properties)
    assert.are.equal(
      "microsoft.graph.crossTenantMigrationServiceStatusDetails",
      s.statusDetails.type)

    -- the JSON text of a job with its users: every property, in order
    local graph = F.graph()
    local job = assert(graph:create_job(F.job_body()))
    local status, body = graph:request("GET", F.JOBS .. "/" .. job.id ..
                                       "?$expand=users")
    assert.are.equal(200, status)
    local text = crosstenant.encode(body)
    local at = 0
    for _, p in ipairs(s.job.properties) do
      local k = text:find('"' .. p .. '":', at + 1, true)
      assert.is_truthy(k, p)
      assert.is_true(k > at, p)
      at = k
    end
    for _, p in ipairs(s.task.properties) do
      assert.is_truthy(text:find('"' .. p .. '":', 1, true), p)
    end
  end)

  it("name what $select accepts: every job property but users", function()
    local graph = F.graph()
    local job = assert(graph:create_job(F.job_body()))
    for _, p in ipairs(crosstenant.schema.job.properties) do
      local status, body = graph:request("GET", F.JOBS .. "/" .. job.id ..
                                         "?$select=" .. p)
      if p == "users" then
        assert.are.equal(400, status)
        assert.are.equal("Invalid $select: unknown property 'users'.",
                         body.error.message)
      else
        assert.are.equal(200, status, p)
        assert.is_not_nil(body[p], p)
      end
    end
  end)

  it("are what the validator accepts for a workload and a service",
     function()
    local graph = F.graph()
    for i, w in ipairs(crosstenant.WORKLOADS) do
      local body = F.job_body { displayName = "w" .. i, workloads = { w },
                                resources = F.users(1, "bbbbbbb" .. i) }
      assert(graph:create_job(body))
    end
    local _, err = graph:create_job(F.job_body {
      workloads = { "SharePoint" } })
    assert.are.equal(
      "Property 'workloads[0]' has an unsupported value 'SharePoint'; " ..
      "supported: Teams, Exchange, ODSP.", err.message)
  end)
end)

describe("the lifecycle orders", function()
  it("hold every status but unknownFutureValue, as a migration runs",
     function()
    assert.are.same({
      "submitted", "validateSubmitted", "validateProcessing",
      "validateInProgress", "validatePassed", "validateFailed", "processing",
      "inProgress", "cuttingOver", "completed", "completedWithErrors",
      "failed", "pendingCancel", "cancelled", "pendingDelete", "deleted",
      "approved", "adminActionRequired",
    }, crosstenant.JOB_STATUS_ORDER)
    assert.are.same({
      "notStarted", "inProgress", "valid", "invalid", "error", "syncing",
      "synced", "finalizing", "completed", "failed", "pendingCancel",
      "cancelled", "forceComplete",
    }, crosstenant.SERVICE_STATUS_ORDER)
  end)

  it("are the list run_until names for an unknown status", function()
    local graph = F.graph()
    local job = assert(graph:create_job(F.job_body()))
    local ok, err = pcall(graph.run_until, graph, job.id, { "done" }, "P1D")
    assert.is_false(ok)
    assert.is_truthy(err:find("job statuses: " ..
      table.concat(crosstenant.JOB_STATUS_ORDER, ", ") .. ")", 1, true))
    assert.are.equal(F.NOW, graph:now())        -- the clock did not move
  end)
end)
