-- 01_clean_migration.lua -- a clean migration of 500 users.
--
--   lua5.4 bin/crosstenant run examples/01_clean_migration.lua   (make demo)
--
-- The users go in batches (a job holds at most 2,000 users; smaller
-- batches are easier to follow and to retry).  Each batch is validated,
-- then migrated with a cutover a day after the start: mailboxes sync in
-- the meantime, the batch waits for completeAfterDateTime, cuts over and
-- completes.  Nothing fails: the report shows every user completed.
local graph = ...
assert(type(graph) == "table" and graph.create_job,
       "run me with: crosstenant run examples/01_clean_migration.lua")

local USERS = 500
local BATCH = 250                       -- at most 2,000 (the API's limit)
local SOURCE = "12345678-1234-1234-1234-123456789012"

-- user ids made from a counter, so every run migrates the same users
local users = {}
for i = 1, USERS do
  users[i] = string.format("0c1a0000-0000-4000-8000-%012d", i)
end

local cutover = graph:now("P1D")        -- the clock plus a day
local jobs = {}
for first = 1, USERS, BATCH do
  local batch = table.move(users, first, math.min(first + BATCH - 1, USERS),
                           1, {})
  local job = assert(graph:create_job {
    displayName = string.format("clean batch %d", #jobs + 1),
    completeAfterDateTime = cutover,
    sourceTenantId = SOURCE,
    resourceType = "Users",
    resources = batch,
    workloads = { "Teams", "Exchange", "ODSP" },
    exchangeSettings = { sourceEndpoint = "EXOHandler",
                         targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
  })
  jobs[#jobs + 1] = job
  print(string.format("created %s: %d users, cutover after %s",
                      job.displayName, #batch, cutover))
end

local function all_in(statuses)
  local want = {}
  for _, s in ipairs(statuses) do want[s] = true end
  return function(g)
    for _, job in ipairs(jobs) do
      if not want[assert(g:get_job(job.id)).status] then return false end
    end
    return true
  end
end

for _, job in ipairs(jobs) do assert(graph:validate_job(job.id)) end
assert(graph:run_until(all_in { "validatePassed", "validateFailed" }, "P1D"),
       "validation did not finish within a day")
for _, job in ipairs(jobs) do
  local j = assert(graph:get_job(job.id))
  assert(j.status == "validatePassed", j.displayName .. ": " .. j.message)
end

for _, job in ipairs(jobs) do assert(graph:migrate_job(job.id)) end
for _, job in ipairs(jobs) do
  assert(graph:run_until(job.id, { "completed", "completedWithErrors",
                                   "failed" }, "P7D"),
         job.displayName .. " did not finish within 7 days")
  local j = assert(graph:get_job(job.id))
  assert(j.status == "completed", j.displayName .. ": " .. j.message)
end
print(string.format("all %d users migrated", USERS))
