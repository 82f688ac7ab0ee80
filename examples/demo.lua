-- demo.lua -- a whole migration on the model's built-in defaults:
-- create a batch of users, validate it, fix a failure, migrate, and watch
-- the service walk its documented statuses on the model clock.
--
--   make demo-http
--
-- which runs, from the source tree after `make`:
--
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/plain/?.so;;' \
--     lua5.4 examples/demo.lua
--
-- (`make demo` runs another example, a scenario through the crosstenant
-- command: examples/01_clean_migration.lua.)
local crosstenant = require "crosstenant"

local graph = crosstenant.new { seed = 42, now = "2025-11-06T09:00:00Z" }

local function say(fmt, ...) io.write(string.format(fmt, ...), "\n") end

local function show(status, body)
  say("  -> %d %s", status, body and crosstenant.encode(body):sub(1, 160)
                                  .. (#crosstenant.encode(body) > 160 and "..." or "")
                                  or "(no body)")
end

-- 50 users, ids made reproducibly from a counter
local users = {}
for i = 1, 50 do
  users[i] = string.format("4dd550d9-9ea2-4e71-a16b-%012x", i)
end

say("model clock: %s", graph:now())
say("POST /beta/solutions/migrations/crossTenantMigrationJobs")
local status, job = graph:request("POST",
  "/beta/solutions/migrations/crossTenantMigrationJobs", {
    displayName = "Contoso_migration_job",
    completeAfterDateTime = "2025-11-07T09:00:00Z",
    sourceTenantId = "12345678-1234-1234-1234-123456789012",
    resourceType = "Users",
    resources = users,
    workloads = { "Teams", "Exchange", "ODSP" },
    exchangeSettings = { sourceEndpoint = "EXOHandler",
                         targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
  })
show(status, job)
assert(status == 201, "create failed")

-- the seed endpoint: add one more user to the batch
local extra = "6a88de8d-7027-44c1-8674-03f826aa1704"
say("POST .../crossTenantMigrationJobs/{id}/users")
status = graph:request("POST", "/beta/solutions/migrations/" ..
  "crossTenantMigrationJobs/" .. job.id .. "/users", [[{
    "@odata.type": "#microsoft.graph.crossTenantMigrationTask",
    "id": "]] .. extra .. [[",
    "taskType": "user",
    "lastUpdatedDateTime": "2025-11-06T09:00:00Z",
    "currentStatus": []
  }]])
say("  -> %d", status)

-- one user's mailbox fails validation the first time
graph:fail { user = users[7], service = "Exchange", phase = "validate",
             status = "invalid", code = "MailboxNotFound",
             message = "The target mailbox was not found." }

graph:on("job", function(j, old, new)
  say("  [%s] job %s: %s -> %s", graph:now(), j.displayName, old, new)
end)

say("validate")
show(graph:request("POST", "/v1.0/solutions/migrations/" ..
  "crossTenantMigrationJobs/" .. job.id .. "/validate"))
graph:run_until(job.id, { "validatePassed", "validateFailed" }, "P1D")
local t = graph:get_task(job.id, users[7])
say("  user 7 Exchange: %s (%s)", t.currentStatus[4].status,
    t.currentStatus[4].errors[1].code)

say("fixed the mailbox; validate again")
graph:validate_job(job.id)
graph:run_until(job.id, { "validatePassed", "validateFailed" }, "P1D")

say("migrate")
show(graph:request("POST", "/beta/solutions/migrations/" ..
  "crossTenantMigrationJobs/" .. job.id .. "/migrate"))
graph:run_until(job.id, { "completed", "completedWithErrors", "failed" },
                "P7D")

local page = graph:list_tasks(job.id, { top = 5 })
say("first 5 users:")
for _, task in ipairs(page.value) do
  local st = {}
  for _, s in ipairs(task.currentStatus) do
    st[#st + 1] = s.service .. "=" .. s.status
  end
  say("  %s %s", task.id, table.concat(st, " "))
end
local final = graph:get_job(job.id)
say("job %s: %s, \"%s\"", final.displayName, final.status, final.message)
say("model clock: %s", graph:now())

say("DELETE the finished job")
show(graph:request("DELETE", "/beta/solutions/migrations/" ..
  "crosstenantmigrationjobs/" .. job.id))
graph:advance("PT3H")
show(graph:request("GET", "/beta/solutions/migrations/" ..
  "crossTenantMigrationJobs/" .. job.id))
