-- 03_failures_and_retry.lua -- migrations that fail for some users, and
-- retries that run only those users again.
--
--   lua5.4 bin/crosstenant run examples/03_failures_and_retry.lua
--   lua5.4 bin/crosstenant run --failure-rate 0.01 \
--     examples/03_failures_and_retry.lua
--
-- Scripted failures (graph:fail, phase "migrate") make three batches end
-- completedWithErrors and a fourth, whose every user fails, end failed.
-- Each is migrated again (migrate is allowed from completedWithErrors and
-- failed): only the users that did not complete run, the others keep their
-- completed entries.  One user is scripted to fail twice, so its batch
-- needs two retries; scripted failures apply once each, in script order.
--
-- Random failures come from the store's failure rate, an option of the
-- command (--failure-rate), not of the script.  The rate applies to each
-- user and service in validation as well as in migration, so a batch of n
-- users passes validation with probability (1 - rate)^(4n): the batches
-- here are small (20 users) and validation is retried until it passes.
-- Without --failure-rate only the scripted failures happen.
local graph = ...
assert(type(graph) == "table" and graph.create_job,
       "run me with: crosstenant run examples/03_failures_and_retry.lua")

local SOURCE = "12345678-1234-1234-1234-123456789012"
local MAX_VALIDATIONS = 30
local MAX_MIGRATIONS = 10

local function user(batch, i)
  return string.format("0c1a0000-0000-4000-8000-%06d%06d", 300 + batch, i)
end

local function new_job(name, users)
  return assert(graph:create_job {
    displayName = name,
    completeAfterDateTime = graph:now(),   -- cut over as soon as synced
    sourceTenantId = SOURCE,
    resourceType = "Users",
    resources = users,
    exchangeSettings = { sourceEndpoint = "EXOHandler",
                         targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
  })
end

local jobs = {}
for b = 1, 3 do
  local users = {}
  for i = 1, 20 do users[i] = user(b, i) end
  jobs[#jobs + 1] = new_job("retry batch " .. b, users)
end
jobs[#jobs + 1] = new_job("retry batch 4", { user(4, 1), user(4, 2) })

-- the scripted outcomes of the migrations
local function fail(u, service, code, message, status)
  assert(graph:fail { user = u, service = service, phase = "migrate",
                      status = status or "failed", code = code,
                      message = message })
end
fail(user(1, 5), "Exchange", "MailboxLocked",
     "The source mailbox is locked by another move request.")
fail(user(1, 5), "Exchange", "MailboxLocked",              -- again, once
     "The source mailbox is locked by another move request.")
fail(user(1, 12), "ODSP", "SiteLocked", "The OneDrive site is read-only.",
     "error")
fail(user(2, 8), "Teams", "ChatImportBelowThreshold",
     "Teams migration for the user failed a quality threshold.")
fail(user(3, 20), "Meeting", "MeetingRecreateFailed",
     "Meetings could not be recreated in the target tenant.")
fail(user(4, 1), "Exchange", "TargetMailboxFull",
     "The target mailbox is full.")
fail(user(4, 2), "Exchange", "TargetMailboxFull",
     "The target mailbox is full.")

local FINAL = { "completed", "completedWithErrors", "failed" }

-- ids of the users with an entry that is not completed
local function unfinished(job)
  local out = {}
  for task in graph:tasks(job.id, { top = 999 }) do   -- follows the pages
    for _, entry in ipairs(task.currentStatus) do
      if entry.status ~= "completed" then
        out[#out + 1] = task.id
        break
      end
    end
  end
  return out
end

-- waits until every job of `list` is in one of `statuses`
local function wait_all(list, statuses, limit)
  local want = {}
  for _, s in ipairs(statuses) do want[s] = true end
  assert(graph:run_until(function(g)
    for _, job in ipairs(list) do
      if not want[assert(g:get_job(job.id)).status] then return false end
    end
    return true
  end, limit), "the jobs did not finish within " .. limit)
end

-- validation rounds: the batches that failed (randomly) validate again
local pending = jobs
for round = 1, MAX_VALIDATIONS do
  for _, job in ipairs(pending) do assert(graph:validate_job(job.id)) end
  wait_all(pending, { "validatePassed", "validateFailed" }, "P1D")
  local again = {}
  for _, job in ipairs(pending) do
    local j = assert(graph:get_job(job.id))
    if j.status == "validateFailed" then
      print(string.format("%s, validation %d: %s", j.displayName, round,
                          j.message))
      again[#again + 1] = job
    end
  end
  pending = again
  if #pending == 0 then break end
end
assert(#pending == 0, "validation did not pass in " .. MAX_VALIDATIONS ..
       " rounds; lower --failure-rate")

-- migration rounds: the batches that did not complete are migrated again
pending = jobs
for attempt = 1, MAX_MIGRATIONS do
  for _, job in ipairs(pending) do
    local before = attempt > 1 and unfinished(job)
    assert(graph:migrate_job(job.id))
    if before then
      -- only the users that did not complete run again
      local again = unfinished(job)
      assert(table.concat(before, " ") == table.concat(again, " "))
      print(string.format("%s: retrying %d of %d users: %s", job.displayName,
                          #again, #job.resources, table.concat(again, ", ")))
    end
  end
  wait_all(pending, FINAL, "P7D")
  local again = {}
  for _, job in ipairs(pending) do
    local j = assert(graph:get_job(job.id))
    print(string.format("%s, migration %d: %s: %s", j.displayName, attempt,
                        j.status, j.message))
    if j.status ~= "completed" then again[#again + 1] = job end
  end
  pending = again
  if #pending == 0 then break end
end
assert(#pending == 0, "the migrations did not complete in " ..
       MAX_MIGRATIONS .. " attempts")
