-- 02_fix_validation.lua -- validation fails for a few users, the admin
-- fixes them, validates again and migrates.
--
--   lua5.4 bin/crosstenant run examples/02_fix_validation.lua
--
-- graph:fail scripts the failures: three users' Exchange mailboxes are not
-- ready and one user's Teams check errors.  The job ends validateFailed,
-- with the codes and messages on the users' currentStatus entries.  A
-- scripted failure applies once, so "fixing" the users is simply
-- validating again: the job passes, then migrates with completeAfterDateTime
-- already due (it cuts over as soon as the mailboxes are synced).
local graph = ...
assert(type(graph) == "table" and graph.create_job,
       "run me with: crosstenant run examples/02_fix_validation.lua")

local USERS = 120
local SOURCE = "12345678-1234-1234-1234-123456789012"

local users = {}
for i = 1, USERS do
  users[i] = string.format("0c1a0000-0000-4000-8000-%012d", 200 + i)
end

local job = assert(graph:create_job {
  displayName = "fix-validation batch",
  completeAfterDateTime = graph:now(),   -- cut over as soon as synced
  sourceTenantId = SOURCE,
  resourceType = "Users",
  resources = users,
  exchangeSettings = { sourceEndpoint = "EXOHandler",
                       targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
})

-- what the source tenant's admin has not prepared yet
local problems = {
  { user = users[7], service = "Exchange", code = "MailboxNotFound",
    message = "The target mail user was not found." },
  { user = users[31], service = "Exchange", code = "MissingExchangeGuid",
    message = "The target mail user has no ExchangeGuid." },
  { user = users[64], service = "Exchange", code = "ArchiveMismatch",
    message = "The source mailbox has an archive; the target has none." },
  { user = users[99], service = "Teams", status = "error",
    code = "TeamsServiceUnavailable",
    message = "The Teams prerequisite check could not run." },
}
for _, p in ipairs(problems) do
  assert(graph:fail { user = p.user, service = p.service, phase = "validate",
                      status = p.status or "invalid", code = p.code,
                      message = p.message })
end

local DONE = { "validatePassed", "validateFailed" }

-- every user with a failed entry, in the job's order
local function failed_users()
  local out = {}
  for task in graph:tasks(job.id, { top = 999 }) do   -- follows the pages
    for _, entry in ipairs(task.currentStatus) do
      if entry.errors[1] then
        out[#out + 1] = string.format("%s %s %s: %s: %s", task.id,
          entry.service, entry.status, entry.errors[1].code,
          entry.errors[1].message)
      end
    end
  end
  return out
end

print("validate " .. job.displayName)
assert(graph:validate_job(job.id))
assert(graph:run_until(job.id, DONE, "P1D"))
local j = assert(graph:get_job(job.id))
assert(j.status == "validateFailed", "expected validateFailed, got " ..
                                    j.status)
print(j.status .. ": " .. j.message)
local bad = failed_users()
for _, line in ipairs(bad) do print("  " .. line) end
assert(#bad == #problems)

print("fixed the users; validate again")
assert(graph:validate_job(job.id))
assert(graph:run_until(job.id, DONE, "P1D"))
j = assert(graph:get_job(job.id))
assert(j.status == "validatePassed", j.message)
assert(#failed_users() == 0)
print(j.status .. ": " .. j.message)

print("migrate")
assert(graph:migrate_job(job.id))
assert(graph:run_until(job.id, { "completed", "completedWithErrors",
                                 "failed" }, "P7D"))
j = assert(graph:get_job(job.id))
assert(j.status == "completed", j.message)
print(j.status .. ": " .. j.message)
