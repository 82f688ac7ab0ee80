-- Each documented example (graph-api-facts.md §4), replayed through
-- graph:request with the docs' own values.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local BASE = "https://graph.microsoft.com/beta/solutions/migrations/"
local CTX = "https://graph.microsoft.com/beta/$metadata#"

-- the newest create request of the docs, verbatim
local CREATE = [[{
  "displayName": "xtmigration_user_req_1",
  "completeAfterDateTime": "2024-12-09T22:48:03.092Z",
  "exchangeSettings": {
    "targetDeliveryDomain": "xtmigration.onmicrosoft.com",
    "sourceEndpoint": "sampleEndpointText"
  },
  "resources": [
    "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
    "63f15b55-f61a-49cb-a599-2e3d233afb2c",
    "41d94bac-3a53-47d6-a89e-583830104e15"
  ],
  "resourceType": "Users",
  "sourceTenantId": "12345678-1234-1234-1234-123456789012",
  "workloads": ["Teams", "Exchange", "ODSP"]
}]]

local FAST = { validate_submitted = 60, validate_processing = 60,
  validate_in_progress = 60, processing = 60, sync = 600, cutover = 600,
  cancel = 60, delete_pending = 3600, deleted = 3600 }

local HEADERS = { ["Content-Type"] = "application/json" }

describe("the docs' examples", function()
  local graph, job
  before_each(function()
    graph = F.graph { timings = FAST }
    local status
    status, job = graph:request("POST", BASE .. "crossTenantMigrationJobs",
                                CREATE, HEADERS)
    assert.are.equal(201, status)
  end)

  local function completed_job()
    assert.are.equal(200, (graph:request("POST", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/validate")))
    assert.is_true(graph:run_until(job.id, { "validatePassed" }, "P1D"))
    assert.are.equal(200, (graph:request("POST", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/migrate")))
    assert.is_true(graph:run_until(job.id, { "completed" }, "P1D"))
  end

  it("Create: 201 with the job", function()
    assert.are.equal(CTX .. "solutions/migrations/crossTenantMigrationJobs/" ..
                     "$entity", job["@odata.context"])
    assert.are.equal("validate", job.jobType)
    assert.are.equal("submitted", job.status)
    assert.are.equal("", job.message)
    assert.are.equal("2024-12-09T22:48:03.092Z", job.completeAfterDateTime)
    assert.are.equal(F.TARGET, job.targetTenantId)
    assert.are.equal("Users", job.resourceType)
    assert.are.same(F.RESOURCES, job.resources)
    assert.are.same({ "Teams", "Exchange", "ODSP" }, job.workloads)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", job.createdBy)
  end)

  it("List: 200 with the collection", function()
    local status, body = graph:request("GET", BASE .. "crossTenantMigrationJobs")
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "solutions/migrations/crossTenantMigrationJobs",
                     body["@odata.context"])
    assert.are.equal(1, #body.value)
    assert.are.same(job.id, body.value[1].id)
  end)

  it("Get job: 200 with the job", function()
    local status, body = graph:request("GET", BASE ..
      "crossTenantMigrationJobs/" .. job.id)
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "solutions/migrations/crossTenantMigrationJobs/" ..
                     "$entity", body["@odata.context"])
    job["@odata.context"] = nil
    body["@odata.context"] = nil
    assert.are.same(job, body)
  end)

  it("Update: 204, text/plain", function()
    local status, body, headers = graph:request("PATCH", BASE ..
      "crossTenantMigrationJobs/" .. job.id,
      '{"completeAfterDateTime": "2025-05-22T17:14:52Z"}', HEADERS)
    assert.are.equal(204, status)
    assert.is_nil(body)
    assert.are.equal("text/plain", headers["Content-Type"])
  end)

  it("validate: 200 with the job in validateSubmitted", function()
    local status, body = graph:request("POST", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/validate")
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "microsoft.graph.crossTenantMigrationJob",
                     body["@odata.context"])
    assert.are.equal("validateSubmitted", body.status)
    assert.are.equal("validate", body.jobType)
    assert.are.equal("Validation job has been submitted successfully",
                     body.message)
  end)

  it("migrate: 200 with the job in processing", function()
    graph:request("POST", BASE .. "crossTenantMigrationJobs/" .. job.id ..
                  "/validate")
    graph:run_until(job.id, { "validatePassed" }, "P1D")
    local status, body = graph:request("POST", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/migrate")
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "microsoft.graph.crossTenantMigrationJob",
                     body["@odata.context"])
    assert.are.equal("processing", body.status)
    assert.are.equal("migrate", body.jobType)
    assert.are.equal("Migration job has been submitted successfully",
                     body.message)
  end)

  it("List users of a completed job: every service completed", function()
    completed_job()
    local status, body = graph:request("GET", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/users")
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "solutions/migrations/crossTenantMigrationJobs('" ..
                     job.id .. "')/users", body["@odata.context"])
    assert.are.equal(3, #body.value)
    for _, task in ipairs(body.value) do
      local got = {}
      for _, s in ipairs(task.currentStatus) do
        got[#got + 1] = { service = s.service, status = s.status,
                          message = s.message, errors = s.errors }
      end
      assert.are.same({
        { service = "ODSP", status = "completed", message = "", errors = {} },
        { service = "Meeting", status = "completed", message = "", errors = {} },
        { service = "Teams", status = "completed", message = "", errors = {} },
        { service = "Exchange", status = "completed", message = "",
          errors = {} },
      }, got)
    end
    local final = assert(graph:get_job(job.id))
    assert.are.equal("The batch and all of its users have been successfully " ..
                     "migrated with no failures.", final.message)
  end)

  it("Get task: 200 with the task", function()
    local status, body = graph:request("GET", BASE ..
      "crossTenantMigrationJobs/" .. job.id .. "/users/" .. F.RESOURCES[1])
    assert.are.equal(200, status)
    assert.are.equal(CTX .. "solutions/migrations/crossTenantMigrationJobs('" ..
      job.id .. "')/users/$entity", body["@odata.context"])
    assert.are.equal(F.RESOURCES[1], body.id)
  end)

  it("Delete: 202 on the lowercase path, once final", function()
    completed_job()
    local status, body = graph:request("DELETE", BASE ..
      "crosstenantmigrationjobs/" .. job.id)
    assert.are.equal(202, status)
    assert.is_nil(body)
  end)

  it("Cancel job: 202 with the cancel response", function()
    local g = F.graph()
    local _, j = g:request("POST", BASE .. "crossTenantMigrationJobs",
      F.job_body { displayName = "Contoso_migration_job" })
    local status, body = g:request("POST", BASE .. "crossTenantMigrationJobs/"
                                   .. j.id .. "/cancel")
    assert.are.equal(202, status)
    assert.are.equal('{"id":"' .. j.id .. '","displayName":' ..
      '"Contoso_migration_job","status":"pendingCancel","message":' ..
      '"cancellation request has been accepted for the migration job"}',
      crosstenant.encode(body))
  end)

  it("Cancel task: 202 with Accepted", function()
    local g = F.graph()
    local _, j = g:request("POST", BASE .. "crossTenantMigrationJobs",
      F.job_body { resources = { F.TASK } })
    local status, body = g:request("POST", BASE .. "crossTenantMigrationJobs/"
                                   .. j.id .. "/users/" .. F.TASK .. "/cancel")
    assert.are.equal(202, status)
    assert.are.equal('{"status":"Accepted","message":"Cancellation request ' ..
      'for user id: ' .. F.TASK .. ' from batch: ' .. j.id ..
      ' was accepted."}', crosstenant.encode(body))
  end)
end)
