-- 04_throttling.lua -- a migration tool's retry loop against Graph's
-- throttling and transient faults.
--
--   lua5.4 bin/crosstenant run examples/04_throttling.lua
--
-- Scripted faults refuse the first create (twice, 429), the validate
-- (503) and one poll of the job (504).  Every call goes through `call`,
-- which waits each refusal's Retry-After on the model clock and tries
-- again, as a client must: a retry before Retry-After has passed would
-- be throttled again.  The job then validates, migrates and completes;
-- the report counts the four refused requests.
local graph = ...
assert(type(graph) == "table" and graph.create_job,
       "run me with: crosstenant run examples/04_throttling.lua")

local SOURCE = "12345678-1234-1234-1234-123456789012"
local MAX_ATTEMPTS = 10

--- Calls graph:<name>(...) until it is not refused; a refusal (429, 503,
-- 504) carries err.retry_after, in seconds, to wait.  Other errors raise.
local function call(name, ...)
  for attempt = 1, MAX_ATTEMPTS do
    local r, err = graph[name](graph, ...)
    if r ~= nil then return r end
    if not err.retry_after then error(name .. ": " .. tostring(err), 2) end
    print(string.format("%s: attempt %d: %d %s, retrying after %d s",
                        name, attempt, err.status, err.code,
                        err.retry_after))
    graph:advance(err.retry_after)
  end
  error(name .. ": still refused after " .. MAX_ATTEMPTS .. " attempts", 2)
end

graph:fault { status = 429, retry_after = 10, times = 2, method = "POST",
              path = "/crossTenantMigrationJobs" }
graph:fault { status = 503, retry_after = 5, method = "POST",
              path = "/crossTenantMigrationJobs/*/validate" }
graph:fault { status = 504, retry_after = 2, method = "GET",
              path = "/crossTenantMigrationJobs/*" }

local users = {}
for i = 1, 10 do users[i] = string.format("0c1a0000-0000-4000-8000-4%011d", i) end

local job = call("create_job", {
  displayName = "throttled batch",
  completeAfterDateTime = graph:now(),     -- cut over as soon as synced
  sourceTenantId = SOURCE,
  resourceType = "Users",
  resources = users,
  exchangeSettings = { sourceEndpoint = "EXOHandler",
                       targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
})
print("created " .. job.displayName .. " at " .. graph:now())

--- Polls the job every minute until its status is one of `want`.
local function wait_for(want)
  local set = {}
  for _, s in ipairs(want) do set[s] = true end
  for _ = 1, 24 * 60 do
    local j = call("get_job", job.id)
    if set[j.status] then return j end
    graph:advance(60)
  end
  error("job did not reach " .. table.concat(want, " or ") .. " in a day")
end

call("validate_job", job.id)
local j = wait_for { "validatePassed", "validateFailed" }
assert(j.status == "validatePassed", j.message)
print("validated at " .. graph:now())

call("migrate_job", job.id)
j = wait_for { "completed", "completedWithErrors", "failed" }
print(j.displayName .. ": " .. j.status .. " at " .. graph:now())
assert(#graph:faults() == 0, "every scripted fault was used")
