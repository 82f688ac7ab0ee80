-- The lifecycle on the model clock: every transition and gate of
-- validation, migration, cancel and retry, scripted and seeded failures,
-- events and observers, timings, advance and run_until.  Times are exact:
-- default timings unless a test sets its own (validate_submitted 60 s,
-- validate_processing 120, validate_in_progress 600, processing 300,
-- sync 14400, cutover 1800, cancel 60, validation_expiry 7 days).
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local U = F.users(3)     -- aaaaaaaa-0000-4000-8000-00000000000{1,2,3}
local CAD = "2025-11-06T15:00:00Z"

local function new_job(graph, over)
  local o = { resources = { U[1], U[2], U[3] }, completeAfterDateTime = CAD }
  for k, v in pairs(over or {}) do o[k] = v end
  return assert(graph:create_job(F.job_body(o)))
end

local function job_of(graph, job)
  return assert(graph:get_job(job.id))
end

-- the statuses of a task's entries, in entry order
local function statuses(graph, job, user)
  local t = assert(graph:get_task(job.id, user))
  local out = {}
  for i, e in ipairs(t.currentStatus) do out[i] = e.status end
  return out
end

local function entry(graph, job, user, service)
  local t = assert(graph:get_task(job.id, user))
  for _, e in ipairs(t.currentStatus) do
    if e.service == service then return e end
  end
end

local function updated(graph, job, user)
  return assert(graph:get_task(job.id, user)).lastUpdatedDateTime
end

local function all(s) return { s, s, s, s } end

-- validate from submitted, run to validatePassed (09:13 with defaults)
local function validated(graph, job)
  assert(graph:validate_job(job.id))
  assert.is_true(graph:run_until(job.id, { "validatePassed" }, "P1D"))
end

local FINAL = { "completed", "completedWithErrors", "failed" }

describe("validation on the clock", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
  end)

  it("walks validateSubmitted, validateProcessing, validateInProgress, " ..
     "validatePassed at 1, 3 and 13 minutes", function()
    local r = assert(graph:validate_job(job.id))
    assert.are.equal("validateSubmitted", r.status)
    assert.are.equal("validate", r.jobType)
    assert.are.same(all "notStarted", statuses(graph, job, U[1]))

    graph:advance(59)
    assert.are.equal("validateSubmitted", job_of(graph, job).status)
    graph:advance(1)
    local j = job_of(graph, job)
    assert.are.same({ "validateProcessing", "Validation is being set up.",
                      "2025-11-06T09:01:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    assert.are.same(all "notStarted", statuses(graph, job, U[1]))
    assert.are.equal("2025-11-06T09:00:00Z", updated(graph, job, U[1]))

    graph:advance(119)
    assert.are.equal("validateProcessing", job_of(graph, job).status)
    graph:advance(1)
    j = job_of(graph, job)
    assert.are.same({ "validateInProgress", "Prerequisite checks are running.",
                      "2025-11-06T09:03:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    for _, u in ipairs(U) do
      assert.are.same(all "inProgress", statuses(graph, job, u))
      assert.are.equal("2025-11-06T09:03:00Z", updated(graph, job, u))
    end

    graph:advance(599)
    assert.are.equal("validateInProgress", job_of(graph, job).status)
    graph:advance(1)
    j = job_of(graph, job)
    assert.are.same({ "validatePassed",
                      "Validation has completed successfully with no failures.",
                      "2025-11-06T09:13:00Z", "validate" },
                    { j.status, j.message, j.lastUpdatedDateTime, j.jobType })
    for _, u in ipairs(U) do
      assert.are.same(all "valid", statuses(graph, job, u))
      assert.are.equal("2025-11-06T09:13:00Z", updated(graph, job, u))
    end
  end)

  it("ends validateFailed: failed entries invalid or error with their " ..
     "error, the others valid", function()
    assert.is_true(graph:fail { user = U[1], service = "Exchange",
      phase = "validate", status = "invalid", code = "MailboxNotFound",
      message = "The target mailbox was not found." })
    assert.is_true(graph:fail { user = U[2], service = "Teams",
      phase = "validate", status = "error", code = "TeamsUnavailable",
      message = "The Teams check could not run." })
    assert(graph:validate_job(job.id))
    graph:advance("PT13M")
    local j = job_of(graph, job)
    assert.are.same({ "validateFailed", "Validation failed for 2 of 3 users.",
                      "2025-11-06T09:13:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    local t1 = assert(graph:get_task(job.id, U[1]))
    assert.are.same({
      { service = "ODSP", status = "valid", message = "", errors = {} },
      { service = "Meeting", status = "valid", message = "", errors = {} },
      { service = "Teams", status = "valid", message = "", errors = {} },
      { service = "Exchange", status = "invalid", message = "",
        errors = { { code = "MailboxNotFound",
                     message = "The target mailbox was not found." } } },
    }, t1.currentStatus)
    assert.are.same({ status = "error", service = "Teams", message = "",
                      errors = { { code = "TeamsUnavailable",
                                   message = "The Teams check could not run." } } },
                    entry(graph, job, U[2], "Teams"))
    assert.are.same({ "valid", "valid", "error", "valid" },
                    statuses(graph, job, U[2]))
    assert.are.same(all "valid", statuses(graph, job, U[3]))
  end)

  it("defaults a scripted failure to validate, invalid, scriptedFailure",
     function()
    assert.is_true(graph:fail { user = U[3], service = "ODSP" })
    assert(graph:validate_job(job.id))
    graph:advance("PT13M")
    assert.are.equal("validateFailed", job_of(graph, job).status)
    assert.are.same({ service = "ODSP", status = "invalid", message = "",
                      errors = { { code = "scriptedFailure",
                                   message = "Scripted failure." } } },
                    entry(graph, job, U[3], "ODSP"))
  end)

  it("applies each scripted failure once, in script order", function()
    graph:fail { user = U[1], service = "Exchange", code = "A", message = "a" }
    graph:fail { user = U[1], service = "Exchange", code = "B", message = "b" }
    local seen = {}
    for _ = 1, 3 do
      assert(graph:validate_job(job.id))
      assert.is_true(graph:run_until(job.id,
        { "validatePassed", "validateFailed" }, "P1D"))
      local e = entry(graph, job, U[1], "Exchange")
      seen[#seen + 1] = job_of(graph, job).status .. " " .. e.status .. " " ..
                        (e.errors[1] and e.errors[1].code or "-")
    end
    assert.are.same({ "validateFailed invalid A", "validateFailed invalid B",
                      "validatePassed valid -" }, seen)
  end)

  it("validating again sets every entry back to notStarted at once, " ..
     "errors cleared", function()
    graph:fail { user = U[1], service = "Exchange" }
    assert(graph:validate_job(job.id))
    graph:advance("PT13M")
    graph:advance(60)
    assert(graph:validate_job(job.id))
    assert.are.same({ service = "Exchange", status = "notStarted",
                      message = "", errors = {} },
                    entry(graph, job, U[1], "Exchange"))
    assert.are.equal("2025-11-06T09:14:00Z", updated(graph, job, U[1]))
    assert.are.equal("2025-11-06T09:14:00Z", updated(graph, job, U[2]))
    local j = job_of(graph, job)
    assert.are.same({ "validateSubmitted",
                      "Validation job has been submitted successfully",
                      "2025-11-06T09:14:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
  end)

  it("keeps migrate-phase failures for the migration", function()
    graph:fail { user = U[1], service = "Exchange", phase = "migrate" }
    validated(graph, job)
    assert.are.same(all "valid", statuses(graph, job, U[1]))
  end)

  it("leaves a cancelled task out of validation", function()
    assert(graph:cancel_task(job.id, U[2]))
    graph:fail { user = U[2], service = "Exchange" }
    validated(graph, job)
    assert.are.same(all "cancelled", statuses(graph, job, U[2]))
    assert.are.equal("2025-11-06T09:00:00Z", updated(graph, job, U[2]))
  end)
end)

describe("migration on the clock", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
    validated(graph, job)          -- 09:13
  end)

  it("syncs Exchange, waits for completeAfterDateTime, cuts over and " ..
     "completes", function()
    local r = assert(graph:migrate_job(job.id))
    assert.are.same({ "processing", "migrate",
                      "Migration job has been submitted successfully",
                      "2025-11-06T09:13:00Z" },
                    { r.status, r.jobType, r.message, r.lastUpdatedDateTime })
    -- the entries start again from notStarted
    assert.are.same(all "notStarted", statuses(graph, job, U[1]))

    graph:advance(299)
    assert.are.equal("processing", job_of(graph, job).status)
    graph:advance(1)                                       -- 09:18
    local j = job_of(graph, job)
    assert.are.same({ "inProgress", "Mailboxes are syncing.",
                      "2025-11-06T09:18:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    assert.are.same({ "notStarted", "notStarted", "notStarted", "syncing" },
                    statuses(graph, job, U[1]))
    assert.are.equal("2025-11-06T09:18:00Z", updated(graph, job, U[1]))

    graph:advance("PT3H59M59S")
    assert.are.equal("syncing", entry(graph, job, U[3], "Exchange").status)
    graph:advance(1)                                       -- 13:18
    j = job_of(graph, job)
    assert.are.same({ "inProgress",
                      "Mailboxes are synced; waiting for completeAfterDateTime.",
                      "2025-11-06T13:18:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    assert.are.same({ "notStarted", "notStarted", "notStarted", "synced" },
                    statuses(graph, job, U[3]))
    assert.are.equal("2025-11-06T13:18:00Z", updated(graph, job, U[3]))

    graph:advance("PT1H41M59S")                            -- 14:59:59
    assert.are.equal("inProgress", job_of(graph, job).status)
    assert.are.equal("2025-11-06T13:18:00Z", updated(graph, job, U[3]))
    graph:advance(1)                                       -- 15:00
    j = job_of(graph, job)
    assert.are.same({ "cuttingOver",
                      "Mailboxes are cutting over and content is moving.",
                      "2025-11-06T15:00:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    assert.are.same({ "inProgress", "inProgress", "inProgress", "finalizing" },
                    statuses(graph, job, U[2]))
    assert.are.equal("2025-11-06T15:00:00Z", updated(graph, job, U[2]))

    graph:advance(1799)
    assert.are.equal("cuttingOver", job_of(graph, job).status)
    graph:advance(1)                                       -- 15:30
    j = job_of(graph, job)
    assert.are.same({ "completed", "The batch and all of its users have " ..
                      "been successfully migrated with no failures.",
                      "2025-11-06T15:30:00Z", "migrate" },
                    { j.status, j.message, j.lastUpdatedDateTime, j.jobType })
    for _, u in ipairs(U) do
      assert.are.same(all "completed", statuses(graph, job, u))
      assert.are.equal("2025-11-06T15:30:00Z", updated(graph, job, u))
    end
  end)

  it("cuts over as soon as synced when completeAfterDateTime has passed",
     function()
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-06T09:00:00Z" }))
    assert(graph:migrate_job(job.id))
    local times = {}
    graph:on("job", function(_, _, new) times[#times + 1] = new .. " " ..
                                        graph:now() end)
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    assert.are.same({ "inProgress 2025-11-06T09:18:00Z",
                      "cuttingOver 2025-11-06T13:18:00Z",
                      "completed 2025-11-06T13:48:00Z" }, times)
  end)

  it("waits for a completeAfterDateTime moved later while synced", function()
    assert(graph:migrate_job(job.id))
    graph:advance("PT5H")                                  -- 14:13, synced
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-06T16:00:00Z" }))
    graph:advance("PT1H46M59S")                            -- 15:59:59
    assert.are.equal("inProgress", job_of(graph, job).status)
    graph:advance(1)
    assert.are.equal("cuttingOver", job_of(graph, job).status)
    assert.are.equal("2025-11-06T16:00:00Z",
                     job_of(graph, job).lastUpdatedDateTime)
  end)

  it("cuts over at once when a synced job's completeAfterDateTime is " ..
     "moved into the past", function()
    assert(graph:migrate_job(job.id))
    graph:advance("PT5H")                                  -- 14:13, synced
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-06T14:00:00Z" }))
    assert.are.equal("inProgress", job_of(graph, job).status)
    local events = graph:advance(0)
    assert.are.equal("cuttingOver", job_of(graph, job).status)
    assert.are.same({ type = "job", job = job.id,
                      time = "2025-11-06T14:13:00Z", old = "inProgress",
                      new = "cuttingOver" }, events[#events])
  end)

  it("allows migrate exactly 7 days after validation passed", function()
    graph:advance("P7D")
    assert.are.equal("processing", assert(graph:migrate_job(job.id)).status)
  end)

  it("refuses migrate once validation is more than 7 days old", function()
    graph:advance("P7DT1S")
    F.rejects(409, "notAllowed", "Migration can't be started: validation " ..
      "passed more than 7 days ago (on 2025-11-06T09:13:00Z), and its " ..
      "results have expired: validate again.")(graph:migrate_job(job.id))
    -- nothing moves: the job stays validatePassed
    assert.are.equal("validatePassed", job_of(graph, job).status)
  end)

  it("refuses migrate from every status but validatePassed, failed and " ..
     "completedWithErrors", function()
    assert(graph:migrate_job(job.id))
    local next_step = {
      processing = "the migration is already running",
      inProgress = "the migration is already running",
      cuttingOver = "the migration is cutting over; wait until it finishes",
      completed = "every user has migrated; the job is finished",
    }
    for _, step in ipairs { 0, 300, 14400, 6120, 1800 } do
      graph:advance(step)
      local st = job_of(graph, job).status
      F.rejects(409, "notAllowed", "Migration can't be started because " ..
        "the current status is " .. st .. "; migration starts from " ..
        "validatePassed, failed or completedWithErrors: " ..
        next_step[st] .. ".")(graph:migrate_job(job.id))
    end
    assert.are.equal("completed", job_of(graph, job).status)
  end)
end)

describe("the cancel window", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    graph:advance("PT1H")                       -- 10:13, syncing
  end)

  it("cancels an inProgress job before completeAfterDateTime", function()
    graph:advance("PT4H46M59S")                 -- 14:59:59
    local r = assert(graph:cancel_job(job.id))
    assert.are.equal("pendingCancel", r.status)
    assert.are.equal("pendingCancel", job_of(graph, job).status)
    assert.are.same(all "pendingCancel", statuses(graph, job, U[1]))
    local events = graph:advance(60)
    local j = job_of(graph, job)
    assert.are.same({ "cancelled", "The job was cancelled.",
                      "2025-11-06T15:00:59Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    assert.are.same(all "cancelled", statuses(graph, job, U[1]))
    assert.are.equal(13, #events)               -- 12 entries, then the job
    assert.are.same({ type = "job", job = job.id,
                      time = "2025-11-06T15:00:59Z", old = "pendingCancel",
                      new = "cancelled" }, events[13])
    -- the users are free for another job
    assert(graph:create_job(F.job_body { displayName = "again",
      resources = { U[1], U[2], U[3] } }))
  end)

  it("refuses job cancel from completeAfterDateTime on", function()
    graph:advance("PT4H47M")                    -- 15:00, cutting over
    F.rejects(409, "notAllowed", "Cancellation is not possible because " ..
      "the current status is cuttingOver; a job can be cancelled while it " ..
      "is submitted, validateSubmitted, validateProcessing, " ..
      "validateInProgress, validatePassed, validateFailed, processing or " ..
      "inProgress: the migration is cutting over; wait until it finishes.")(
      graph:cancel_job(job.id))
  end)

  it("refuses job cancel at completeAfterDateTime even while syncing",
     function()
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-06T10:13:00Z" }))
    F.rejects(409, "notAllowed", "Cancellation is not possible because " ..
      "completeAfterDateTime (2025-11-06T10:13:00Z) has passed; a job can " ..
      "be cancelled only before it: set a later completeAfterDateTime " ..
      "(PATCH) first.")(graph:cancel_job(job.id))
    F.rejects(409, "notAllowed", "Cancel is not possible for user '" ..
      U[1] .. "' because the job's completeAfterDateTime " ..
      "(2025-11-06T10:13:00Z) has passed; users can be cancelled only " ..
      "before it: set a later completeAfterDateTime (PATCH) first.")(
      graph:cancel_task(job.id, U[1]))
  end)

  it("cancels one task at once; the others migrate", function()
    assert.are.same({ status = "Accepted",
      message = "Cancellation request for user id: " .. U[2] ..
                " from batch: " .. job.id .. " was accepted." },
      (assert(graph:cancel_task(job.id, U[2]))))
    assert.are.same(all "cancelled", statuses(graph, job, U[2]))
    assert.are.equal("2025-11-06T10:13:00Z", updated(graph, job, U[2]))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    local j = job_of(graph, job)
    assert.are.same({ "completed", "2025-11-06T15:30:00Z" },
                    { j.status, j.lastUpdatedDateTime })
    assert.are.same(all "cancelled", statuses(graph, job, U[2]))
    assert.are.equal("2025-11-06T10:13:00Z", updated(graph, job, U[2]))
    assert.are.same(all "completed", statuses(graph, job, U[3]))
  end)

  -- every user cancelled out while the job migrates: no silent success
  it("ends cancelled, not completed, when every user was cancelled out",
     function()
    for _, u in ipairs(U) do assert(graph:cancel_task(job.id, u)) end
    assert.is_true(graph:run_until(job.id, { "cancelled", "completed" },
                                   "P1D"))
    local j = job_of(graph, job)
    assert.are.same({ "cancelled", "No user was migrated: every user was " ..
                      "cancelled out of the job.", "2025-11-06T15:30:00Z" },
                    { j.status, j.message, j.lastUpdatedDateTime })
    for _, u in ipairs(U) do
      assert.are.same(all "cancelled", statuses(graph, job, u))
    end
    -- a finished job: it can be deleted, not migrated again
    F.rejects(409, "notAllowed", "Migration can't be started because the " ..
      "current status is cancelled; migration starts from validatePassed, " ..
      "failed or completedWithErrors: the job was cancelled; create a new " ..
      "job for its users.")(graph:migrate_job(job.id))
    assert(graph:delete_job(job.id))
  end)
end)

describe("validation with every user cancelled out", function()
  it("fails, so that users can be added and validated", function()
    local graph = F.graph()
    local job = new_job(graph)
    for _, u in ipairs(U) do assert(graph:cancel_task(job.id, u)) end
    assert(graph:validate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "validatePassed",
                                             "validateFailed" }, "P1D"))
    local j = job_of(graph, job)
    assert.are.same({ "validateFailed", "Validation failed: every user was " ..
                      "cancelled out of the job; add users and validate " ..
                      "again." }, { j.status, j.message })
    local u4 = "aaaaaaaa-0000-4000-8000-000000000004"
    assert(graph:create_task(job.id, { id = u4, taskType = "user",
                                       lastUpdatedDateTime = graph:now() }))
    assert(graph:validate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "validatePassed" }, "P1D"))
  end)
end)

describe("failures and retry", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
  end)

  it("fails Exchange at the sync and other services at the cutover",
     function()
    graph:fail { user = U[1], service = "Exchange", phase = "migrate",
                 code = "MailboxLocked", message = "The mailbox is locked." }
    graph:fail { user = U[2], service = "ODSP", phase = "migrate",
                 status = "error", code = "SiteLocked",
                 message = "The site is read-only." }
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    local events = graph:advance("P1D")
    local failed = {}
    for _, ev in ipairs(events) do
      if ev.type == "task" and (ev.new == "failed" or ev.new == "error") then
        failed[#failed + 1] = { ev.time, ev.user, ev.service, ev.old, ev.new }
      end
    end
    assert.are.same({
      { "2025-11-06T13:18:00Z", U[1], "Exchange", "syncing", "failed" },
      { "2025-11-06T15:30:00Z", U[2], "ODSP", "inProgress", "error" },
    }, failed)
    local j = job_of(graph, job)
    assert.are.same({ "completedWithErrors",
                      "2 of 3 users failed to migrate." },
                    { j.status, j.message })
    assert.are.same({ "completed", "completed", "completed", "failed" },
                    statuses(graph, job, U[1]))
    assert.are.same({ service = "Exchange", status = "failed", message = "",
                      errors = { { code = "MailboxLocked",
                                   message = "The mailbox is locked." } } },
                    entry(graph, job, U[1], "Exchange"))
    assert.are.same({ "error", "completed", "completed", "completed" },
                    statuses(graph, job, U[2]))
    assert.are.same({ { code = "SiteLocked",
                        message = "The site is read-only." } },
                    entry(graph, job, U[2], "ODSP").errors)
    assert.are.same(all "completed", statuses(graph, job, U[3]))
  end)

  it("defaults a migrate failure to failed, scriptedFailure", function()
    graph:fail { user = U[3], service = "Teams", phase = "migrate" }
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    graph:advance("P1D")
    assert.are.same({ service = "Teams", status = "failed", message = "",
                      errors = { { code = "scriptedFailure",
                                   message = "Scripted failure." } } },
                    entry(graph, job, U[3], "Teams"))
  end)

  it("ends failed when every user failed", function()
    for _, u in ipairs(U) do
      graph:fail { user = u, service = "Meeting", phase = "migrate" }
    end
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    graph:advance("P1D")
    local j = job_of(graph, job)
    assert.are.same({ "failed", "All 3 users failed to migrate." },
                    { j.status, j.message })
    -- a retry from failed is allowed and runs every user
    assert(graph:migrate_job(job.id))
    assert.are.same({ "completed", "notStarted", "completed", "completed" },
                    statuses(graph, job, U[1]))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    assert.are.equal("completed", job_of(graph, job).status)
  end)

  it("retries only the users that did not complete", function()
    graph:fail { user = U[1], service = "Exchange", phase = "migrate" }
    graph:fail { user = U[2], service = "ODSP", phase = "migrate",
                 status = "error" }
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    graph:advance("P1D")                        -- 2025-11-07T09:13
    assert.are.equal("completedWithErrors", job_of(graph, job).status)

    local r = assert(graph:migrate_job(job.id))
    assert.are.same({ "processing", "migrate" }, { r.status, r.jobType })
    assert.are.same({ "completed", "completed", "completed", "notStarted" },
                    statuses(graph, job, U[1]))
    assert.are.same({ service = "ODSP", status = "notStarted", message = "",
                      errors = {} }, entry(graph, job, U[2], "ODSP"))
    assert.are.equal("2025-11-07T09:13:00Z", updated(graph, job, U[1]))
    assert.are.equal("2025-11-06T15:30:00Z", updated(graph, job, U[3]))

    local events = graph:advance("P1D")
    local seen = {}
    for _, ev in ipairs(events) do
      seen[#seen + 1] = ev.time:sub(12, 16) .. " " ..
        (ev.type == "job" and "job" or ev.user:sub(-1) .. " " .. ev.service)
        .. " " .. ev.old .. ">" .. ev.new
    end
    -- completeAfterDateTime has passed: the cutover follows the sync
    assert.are.same({
      "09:18 1 Exchange notStarted>syncing",
      "09:18 job processing>inProgress",
      "13:18 1 Exchange syncing>synced",
      "13:18 1 Exchange synced>finalizing",
      "13:18 2 ODSP notStarted>inProgress",
      "13:18 job inProgress>cuttingOver",
      "13:48 1 Exchange finalizing>completed",
      "13:48 2 ODSP inProgress>completed",
      "13:48 job cuttingOver>completed",
    }, seen)
    assert.are.same(all "completed", statuses(graph, job, U[1]))
    assert.are.same(all "completed", statuses(graph, job, U[2]))
    assert.are.equal("2025-11-06T15:30:00Z", updated(graph, job, U[3]))
    assert.are.equal("The batch and all of its users have been " ..
                     "successfully migrated with no failures.",
                     job_of(graph, job).message)
  end)

  it("refuses a retry of a completed job", function()
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    graph:advance("P1D")
    F.rejects(409, "notAllowed", "Migration can't be started because the " ..
      "current status is completed; migration starts from validatePassed, " ..
      "failed or completedWithErrors: every user has migrated; the job is " ..
      "finished.")(graph:migrate_job(job.id))
  end)
end)

describe("the failure_rate option", function()
  local function run(seed, rate)
    local graph = F.graph { seed = seed, failure_rate = rate }
    local job = new_job(graph)
    assert(graph:validate_job(job.id))
    local events = graph:advance("P1D")
    return F.snapshot(graph) .. "\n" .. crosstenant.encode(events), graph, job
  end

  it("gives the same state and events from the same seed", function()
    local a = run(11, 0.2)
    local b = run(11, 0.2)
    assert.are.equal(a, b)
    assert.are_not.equal(a, (run(12, 0.2)))
  end)

  it("fails validation entries with validationFailed and a message naming " ..
     "the service and user", function()
    local _, graph, job = run(3, 1)
    local j = job_of(graph, job)
    assert.are.same({ "validateFailed", "Validation failed for 3 of 3 users." },
                    { j.status, j.message })
    assert.are.same({ service = "Meeting", status = "invalid", message = "",
      errors = { { code = "validationFailed", message = "Meeting validation " ..
                   "failed for user " .. U[2] .. "." } } },
      entry(graph, job, U[2], "Meeting"))
  end)

  it("lets a scripted failure take precedence", function()
    local graph = F.graph { failure_rate = 1 }
    local job = new_job(graph)
    graph:fail { user = U[1], service = "ODSP", status = "error",
                 code = "Mine", message = "mine" }
    assert(graph:validate_job(job.id))
    graph:advance("PT13M")
    assert.are.same({ service = "ODSP", status = "error", message = "",
                      errors = { { code = "Mine", message = "mine" } } },
                    entry(graph, job, U[1], "ODSP"))
    assert.are.equal("invalid", entry(graph, job, U[1], "Exchange").status)
  end)

  it("fails migration entries with migrationFailed (seed 2)", function()
    local graph = F.graph { seed = 2, failure_rate = 0.5 }
    local job = new_job(graph, { resources = { U[1], U[2] },
      workloads = { "Exchange" }, completeAfterDateTime = F.NOW })
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    local j = job_of(graph, job)
    assert.are.same({ "completedWithErrors", "1 of 2 users failed to migrate." },
                    { j.status, j.message })
    assert.are.same({ service = "Exchange", status = "completed",
                      message = "", errors = {} },
                    entry(graph, job, U[1], "Exchange"))
    assert.are.same({ service = "Exchange", status = "failed", message = "",
      errors = { { code = "migrationFailed", message = "Exchange migration " ..
                   "failed for user " .. U[2] .. "." } } },
      entry(graph, job, U[2], "Exchange"))
  end)
end)

describe("events", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph, { resources = { U[1] }, workloads = { "Exchange" } })
  end)

  it("advance returns every transition in time order", function()
    assert(graph:validate_job(job.id))
    assert.are.same({
      { type = "job", job = job.id, time = "2025-11-06T09:01:00Z",
        old = "validateSubmitted", new = "validateProcessing" },
      { type = "task", job = job.id, user = U[1], service = "Exchange",
        time = "2025-11-06T09:03:00Z", old = "notStarted", new = "inProgress" },
      { type = "job", job = job.id, time = "2025-11-06T09:03:00Z",
        old = "validateProcessing", new = "validateInProgress" },
      { type = "task", job = job.id, user = U[1], service = "Exchange",
        time = "2025-11-06T09:13:00Z", old = "inProgress", new = "valid" },
      { type = "job", job = job.id, time = "2025-11-06T09:13:00Z",
        old = "validateInProgress", new = "validatePassed" },
    }, graph:advance("PT1H"))
    assert.are.same({}, graph:advance("PT1H"))
  end)

  it("returns only the clock's transitions from advance", function()
    assert(graph:validate_job(job.id))
    assert(graph:cancel_job(job.id))
    assert.are.same({
      { type = "task", job = job.id, user = U[1], service = "Exchange",
        time = "2025-11-06T09:01:00Z", old = "pendingCancel",
        new = "cancelled" },
      { type = "job", job = job.id, time = "2025-11-06T09:01:00Z",
        old = "pendingCancel", new = "cancelled" },
    }, graph:advance(60))
  end)

  it("calls job observers with (job, old, new) as the job is then", function()
    local calls = {}
    assert.are.equal(graph, graph:on("job", function(j, old, new)
      calls[#calls + 1] = { j.id, j.status, j.lastUpdatedDateTime, old, new,
                            graph:now(), j["@odata.context"] }
    end))
    assert(graph:validate_job(job.id))
    graph:advance("PT1H")
    assert.are.same({
      { job.id, "validateSubmitted", "2025-11-06T09:00:00Z",
        "submitted", "validateSubmitted", "2025-11-06T09:00:00Z" },
      { job.id, "validateProcessing", "2025-11-06T09:01:00Z",
        "validateSubmitted", "validateProcessing", "2025-11-06T09:01:00Z" },
      { job.id, "validateInProgress", "2025-11-06T09:03:00Z",
        "validateProcessing", "validateInProgress", "2025-11-06T09:03:00Z" },
      { job.id, "validatePassed", "2025-11-06T09:13:00Z",
        "validateInProgress", "validatePassed", "2025-11-06T09:13:00Z" },
    }, calls)
    assert.are.equal("2025-11-06T10:00:00Z", graph:now())
  end)

  it("calls task observers with (job_id, task, service, old, new)",
     function()
    local calls = {}
    graph:on("task", function(job_id, task, service, old, new)
      calls[#calls + 1] = { job_id, task.id, task.currentStatus[1].status,
                            task.lastUpdatedDateTime, service, old, new }
    end)
    assert(graph:validate_job(job.id))
    graph:advance("PT1H")
    assert.are.same({
      { job.id, U[1], "inProgress", "2025-11-06T09:03:00Z", "Exchange",
        "notStarted", "inProgress" },
      { job.id, U[1], "valid", "2025-11-06T09:13:00Z", "Exchange",
        "inProgress", "valid" },
    }, calls)
  end)

  it("calls observers in the order they were added, within run_until too",
     function()
    local order = {}
    graph:on("job", function(_, _, new) order[#order + 1] = "a " .. new end)
    graph:on("job", function(_, _, new) order[#order + 1] = "b " .. new end)
    assert(graph:validate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "validateInProgress" }, "P1D"))
    assert.are.same({ "a validateSubmitted", "b validateSubmitted",
                      "a validateProcessing", "b validateProcessing",
                      "a validateInProgress", "b validateInProgress" }, order)
    assert.are.equal("2025-11-06T09:03:00Z", graph:now())
  end)

  it("hands observers the state after the instant when several " ..
     "transitions share it", function()
    local g = F.graph { timings = { validate_submitted = 0,
      validate_processing = 0, validate_in_progress = 0 } }
    local j = new_job(g, { resources = { U[1] }, workloads = { "Exchange" } })
    local calls = {}
    g:on("job", function(jj, old, new)
      calls[#calls + 1] = jj.status .. " " .. old .. ">" .. new
    end)
    assert(g:validate_job(j.id))
    local events = g:advance(0)
    assert.are.equal(5, #events)
    assert.are.same({ "validateSubmitted submitted>validateSubmitted",
                      "validatePassed validateSubmitted>validateProcessing",
                      "validatePassed validateProcessing>validateInProgress",
                      "validatePassed validateInProgress>validatePassed" },
                    calls)
    assert.are.equal(F.NOW, g:now())
  end)

  it("returns the same events with observers as without", function()
    local plain = F.graph()
    local pj = new_job(plain, { resources = { U[1] }, workloads = { "Exchange" } })
    graph:on("task", function() end)
    assert(graph:validate_job(job.id))
    assert(plain:validate_job(pj.id))
    assert.are.same(plain:advance("P1D"), graph:advance("P1D"))
  end)

  it("refuses an unknown event and a non-function", function()
    assert.has_error(function() graph:on("jobs", print) end,
      "bad argument #1 to 'on' (event must be 'job' or 'task')")
    assert.has_error(function() graph:on("job", 5) end,
      "bad argument #2 to 'on' (function expected, got number)")
  end)
end)

describe("the timings option", function()
  it("sets the seconds of every step", function()
    local graph = F.graph { timings = { validate_submitted = 10,
      validate_processing = 20, validate_in_progress = 30, processing = 40,
      sync = 50, cutover = 60 } }
    local job = new_job(graph, { completeAfterDateTime = F.NOW })
    local seen = {}
    graph:on("job", function(_, _, new)
      seen[#seen + 1] = graph:now():sub(15, 19) .. " " .. new
    end)
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    assert.are.same({ "00:00 validateSubmitted", "00:10 validateProcessing",
                      "00:30 validateInProgress", "01:00 validatePassed",
                      "01:00 processing", "01:40 inProgress",
                      "02:30 cuttingOver", "03:30 completed" }, seen)
  end)

  it("takes fractions of a second; the clock then has 7 digits", function()
    local graph = F.graph { timings = { validate_submitted = 0.25 } }
    local job = new_job(graph)
    assert(graph:validate_job(job.id))
    local ev = graph:advance(1)
    assert.are.equal("2025-11-06T09:00:00.2500000Z", ev[1].time)
    assert.are.equal("2025-11-06T09:00:00.2500000Z",
                     job_of(graph, job).lastUpdatedDateTime)
    assert.are.equal("2025-11-06T09:00:01Z", graph:now())
  end)

  it("sets cancel, delete and validation expiry", function()
    local graph = F.graph { timings = { cancel = 5, delete_pending = 7,
      deleted = 11, validation_expiry = 3600 } }
    local job = new_job(graph)
    validated(graph, job)                       -- 09:13
    graph:advance(3600)
    assert(graph:migrate_job(job.id))           -- exactly the expiry: allowed
    assert(graph:cancel_job(job.id))
    graph:advance(5)
    assert.are.equal("cancelled", job_of(graph, job).status)
    assert(graph:delete_job(job.id))
    graph:advance(7)
    assert.are.equal("deleted", job_of(graph, job).status)
    graph:advance(10)
    assert.are.equal("deleted", job_of(graph, job).status)
    graph:advance(1)
    assert.is_nil((graph:get_job(job.id)))

    local other = new_job(graph, { displayName = "other" })
    validated(graph, other)
    graph:advance(3601)
    local ok, err = graph:migrate_job(other.id)
    assert.is_nil(ok)
    assert.are.same({ 409, "notAllowed" }, { err.status, err.code })
    assert.are.equal("Migration can't be started: validation passed more " ..
      "than 3600 seconds ago (on 2025-11-06T10:26:23Z), and its results " ..
      "have expired: validate again.", err.message)
  end)
end)

describe("graph:advance", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("takes seconds, fractions and ISO 8601 durations", function()
    assert.are.same({}, graph:advance(90))
    assert.are.equal("2025-11-06T09:01:30Z", graph:now())
    graph:advance(0.5)
    assert.are.equal("2025-11-06T09:01:30.5000000Z", graph:now())
    graph:advance(0.5)
    graph:advance("PT2H")
    assert.are.equal("2025-11-06T11:01:31Z", graph:now())
    graph:advance("P7D")
    assert.are.equal("2025-11-13T11:01:31Z", graph:now())
    graph:advance("P1DT2H30M15S")
    assert.are.equal("2025-11-14T13:31:46Z", graph:now())
    graph:advance("P1W")
    assert.are.equal("2025-11-21T13:31:46Z", graph:now())
    graph:advance(0)
    graph:advance("P0D")
    assert.are.equal("2025-11-21T13:31:46Z", graph:now())
  end)

  local bad = {
    { -1, "bad argument #1 to 'advance' (seconds must be >= 0)" },
    { 0 / 0, "bad argument #1 to 'advance' (seconds must be a finite number)" },
    { math.huge,
      "bad argument #1 to 'advance' (seconds must be a finite number)" },
    { -math.huge,
      "bad argument #1 to 'advance' (seconds must be a finite number)" },
    -- a duration of the right shape whose numbers overflow is one, too long
    { "PT99999999999999H", "bad argument #1 to 'advance' " ..
      "('PT99999999999999H' is more than 10,000 years)" },
    { "P99999999999W", "bad argument #1 to 'advance' " ..
      "('P99999999999W' is more than 10,000 years)" },
    { "PT1.12345678S", "bad argument #1 to 'advance' (not an ISO 8601 " ..
      "duration: 'PT1.12345678S')" },
    { "P1M", "bad argument #1 to 'advance' ('P1M' has months or years, " ..
             "which have no fixed length and are not supported: use " ..
             "weeks, days or hours (such as P30D))" },
    { "P1Y", "bad argument #1 to 'advance' ('P1Y' has months or years, " ..
             "which have no fixed length and are not supported: use " ..
             "weeks, days or hours (such as P30D))" },
    { "P1Y2M3DT4H", "bad argument #1 to 'advance' ('P1Y2M3DT4H' has " ..
             "months or years, which have no fixed length and are not " ..
             "supported: use weeks, days or hours (such as P30D))" },
    { "P1MT", "bad argument #1 to 'advance' (not an ISO 8601 duration: " ..
              "'P1MT')" },
    { "P1M1Y", "bad argument #1 to 'advance' (not an ISO 8601 duration: " ..
               "'P1M1Y')" },
    { "PT", "bad argument #1 to 'advance' (not an ISO 8601 duration: 'PT')" },
    { "-PT1H",
      "bad argument #1 to 'advance' (a negative duration is not supported: " ..
      "'-PT1H')" },
    { "2 hours",
      "bad argument #1 to 'advance' (not an ISO 8601 duration: '2 hours')" },
    { {}, "bad argument #1 to 'advance' (number or string expected, " ..
          "got table)" },
  }
  for _, b in ipairs(bad) do
    it("raises on " .. tostring(b[1]) .. ": " .. b[2], function()
      assert.has_error(function() graph:advance(b[1]) end, b[2])
      assert.are.equal(F.NOW, graph:now())
    end)
  end

  it("raises on nothing", function()
    assert.has_error(function() graph:advance() end,
      "bad argument #1 to 'advance' (number or string expected, got nil)")
  end)
end)

describe("graph:run_until", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = new_job(graph)
    assert(graph:validate_job(job.id))
  end)

  it("stops at the instant a predicate holds and answers true", function()
    local calls = 0
    assert.is_true(graph:run_until(function(g)
      calls = calls + 1
      assert.are.equal(graph, g)
      return job_of(g, job).status == "validateInProgress"
    end, "P1D"))
    assert.are.equal("2025-11-06T09:03:00Z", graph:now())
    assert.are.equal(3, calls)        -- at 09:00, 09:01 and 09:03
  end)

  it("answers false and stops at the limit when it never holds", function()
    assert.is_false(graph:run_until(function() return false end, "PT5M"))
    assert.are.equal("2025-11-06T09:05:00Z", graph:now())
    assert.are.equal("validateInProgress", job_of(graph, job).status)
    assert.is_false(graph:run_until(function() return false end, 30))
    assert.are.equal("2025-11-06T09:05:30Z", graph:now())
  end)

  it("does not move the clock when the predicate holds at once", function()
    assert.is_true(graph:run_until(function() return true end, "P1D"))
    assert.are.equal(F.NOW, graph:now())
  end)

  it("runs 30 days by default", function()
    assert.is_false(graph:run_until(function() return false end))
    assert.are.equal("2025-12-06T09:00:00Z", graph:now())
  end)

  it("takes a job id or displayName and a list of statuses", function()
    assert.is_true(graph:run_until(job.id, { "validateProcessing" }, "P1D"))
    assert.are.equal("2025-11-06T09:01:00Z", graph:now())
    assert.is_true(graph:run_until(job.displayName,
      { "validatePassed", "validateFailed" }, "P1D"))
    assert.are.equal("2025-11-06T09:13:00Z", graph:now())
    assert.is_false(graph:run_until(job.id, { "completed" }, "PT1H"))
    assert.are.equal("2025-11-06T10:13:00Z", graph:now())
  end)

  it("raises for a job that does not exist, and leaves the clock", function()
    assert.has_error(function()
      graph:run_until("nope", { "completed" }, "PT1M")
    end, "bad argument #1 to 'run_until' (no job 'nope')")
    assert.are.equal("2025-11-06T09:00:00Z", graph:now())
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() graph:run_until() end,
      "bad argument #1 to 'run_until' (function expected, got nil)")
    assert.has_error(function() graph:run_until(job.id) end,
      "bad argument #2 to 'run_until' (table expected, got nil)")
    assert.has_error(function() graph:run_until(job.id, "completed") end,
      "bad argument #2 to 'run_until' (table expected, got string)")
    assert.error_matches(function()
      graph:run_until(function() return false end, "soon")
    end, "bad argument #2 to 'run_until' %(not an ISO 8601 duration: " ..
         "'soon'%)$")
    assert.error_matches(function()
      graph:run_until(job.id, { "completed" }, -5)
    end, "%(seconds must be >= 0%)$")
    assert.are.equal(F.NOW, graph:now())
  end)
end)

describe("graph:fail", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("answers true", function()
    assert.is_true(graph:fail { user = U[1], service = "exchange",
      phase = "migrate", status = "error", code = "C", message = "m" })
  end)

  it("raises on an unknown field and a non-table", function()
    assert.has_error(function() graph:fail { user = U[1], service = "ODSP",
                                             reason = "x" } end,
      "bad argument #1 to 'fail' (unknown field 'reason')")
    assert.has_error(function() graph:fail(U[1]) end,
      "bad argument #1 to 'fail' (table expected, got string)")
  end)

  local bad = {
    { { user = "someone", service = "ODSP" },
      "field 'user' must be a user's GUID" },
    { { service = "ODSP" }, "field 'user' must be a user's GUID" },
    { { user = U[1], service = "Yammer" },
      "field 'service' must be ODSP, Meeting, Teams or Exchange" },
    { { user = U[1], service = "ODSP", phase = "cutover" },
      "field 'phase' must be validate or migrate" },
    { { user = U[1], service = "ODSP", status = "failed" },
      "field 'status' must be invalid or error" },
    { { user = U[1], service = "ODSP", phase = "migrate", status = "invalid" },
      "field 'status' must be failed or error" },
    { { user = U[1], service = "ODSP", code = 5 },
      "field 'code' must be a string" },
  }
  for _, b in ipairs(bad) do
    it("raises at the caller: " .. b[2], function()
      local ok, err = pcall(function() graph:fail(b[1]) end)
      assert.is_false(ok)
      assert.matches("09_lifecycle_spec%.lua:%d+: bad argument #1 to " ..
        "'fail' %(" .. b[2]:gsub("[%(%)%.%-']", "%%%0") .. "%)$", err)
    end)
  end
end)

describe("the lifecycle through graph:request", function()
  local BASE = F.JOBS .. "/"

  it("shows the statuses and refuses out-of-window actions", function()
    local graph = F.graph()
    local job = new_job(graph)
    local status, body = graph:request("POST", BASE .. job.id .. "/migrate")
    assert.are.same({ 409, "notAllowed", "Migration can't be started " ..
                      "because the current status is submitted; migration " ..
                      "starts from validatePassed, failed or " ..
                      "completedWithErrors: validate the job first." },
                    { status, body.error.code, body.error.message })
    status, body = graph:request("POST", BASE .. job.id .. "/validate")
    assert.are.same({ 200, "validateSubmitted" }, { status, body.status })
    graph:advance("PT3M")
    status, body = graph:request("GET", BASE .. job.id .. "/users?$top=1")
    assert.are.equal(200, status)
    assert.are.same(all "inProgress", {
      body.value[1].currentStatus[1].status,
      body.value[1].currentStatus[2].status,
      body.value[1].currentStatus[3].status,
      body.value[1].currentStatus[4].status })
    graph:advance("PT10M")
    status, body = graph:request("POST", BASE .. job.id .. "/migrate")
    assert.are.same({ 200, "processing", "migrate" },
                    { status, body.status, body.jobType })
    graph:advance("PT6H")                      -- 15:13: cutting over
    status, body = graph:request("GET", BASE .. job.displayName)
    assert.are.same({ 200, "cuttingOver", "2025-11-06T15:00:00Z" },
                    { status, body.status, body.lastUpdatedDateTime })
    status, body = graph:request("POST", BASE .. job.id .. "/cancel")
    local running = "submitted, validateSubmitted, validateProcessing, " ..
      "validateInProgress, validatePassed, validateFailed, processing or " ..
      "inProgress"
    assert.are.same({ 409, "Cancellation is not possible because the " ..
                      "current status is cuttingOver; a job can be " ..
                      "cancelled while it is " .. running .. ": the " ..
                      "migration is cutting over; wait until it finishes." },
                    { status, body.error.message })
    status, body = graph:request("PATCH", BASE .. job.id,
      { completeAfterDateTime = "2025-11-07T00:00:00Z" })
    assert.are.same({ 409, "completeAfterDateTime can't be changed because " ..
                      "the current status is cuttingOver; " ..
                      "completeAfterDateTime can be changed while the job " ..
                      "is " .. running .. ": the migration is cutting " ..
                      "over; wait until it finishes." },
                    { status, body.error.message })
    graph:advance("PT17M")
    status, body = graph:request("GET", BASE .. job.id .. "/users/" .. U[2])
    assert.are.same({ 200, "2025-11-06T15:30:00Z" },
                    { status, body.lastUpdatedDateTime })
    assert.are.same(all "completed", {
      body.currentStatus[1].status, body.currentStatus[2].status,
      body.currentStatus[3].status, body.currentStatus[4].status })
  end)
end)

describe("failure rates, expiry and retries in detail", function()
  it("takes a rate per phase", function()
    local graph = F.graph { seed = 3, failure_rate = { validate = 0,
                                                       migrate = 1 } }
    local job = new_job(graph, { completeAfterDateTime = F.NOW })
    validated(graph, job)
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    local got = job_of(graph, job)
    assert.are.equal("failed", got.status)
    assert.are.equal("All 3 users failed to migrate.", got.message)
    local e = entry(graph, job, U[1], "Exchange")
    assert.are.equal("failed", e.status)
    assert.are.same({ { code = "migrationFailed",
      message = "Exchange migration failed for user " .. U[1] .. "." } },
      e.errors)
  end)

  it("refuses a bad rate table", function()
    assert.has_error(function()
      crosstenant.new { failure_rate = { cutover = 0.1 } }
    end, "crosstenant.new: option 'failure_rate' takes validate, " ..
         "migrate and sticky, not 'cutover'")
    assert.has_error(function()
      crosstenant.new { failure_rate = { migrate = 2 } }
    end, "crosstenant.new: option 'failure_rate.migrate' must be between " ..
         "0 and 1")
    assert.has_error(function() crosstenant.new { failure_rate = "x" } end,
      "crosstenant.new: option 'failure_rate' must be a number or a table")
  end)

  it("names the configured validation expiry", function()
    local graph = F.graph { timings = { validation_expiry = 3600 } }
    local job = new_job(graph)
    validated(graph, job)
    graph:advance(3601)
    local _, err = graph:migrate_job(job.id)
    assert.are.equal("Migration can't be started: validation passed more " ..
      "than 3600 seconds ago (on 2025-11-06T09:13:00Z), and its results " ..
      "have expired: validate again.", err.message)
  end)

  it("skips the sync wait when a retry has no mailbox to sync", function()
    local graph = F.graph()
    local job = new_job(graph, { completeAfterDateTime = F.NOW })
    validated(graph, job)
    graph:fail { user = U[2], service = "Teams", phase = "migrate",
                 status = "failed", code = "T", message = "t" }
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    assert.are.equal("completedWithErrors", job_of(graph, job).status)
    assert(graph:migrate_job(job.id))
    local seen = {}
    graph:on("job", function(_, _, new)
      seen[#seen + 1] = new .. " " .. graph:now():sub(12, 19)
    end)
    local start = graph:now()
    assert.is_true(graph:run_until(job.id, FINAL, "P1D"))
    assert.are.equal("completed", job_of(graph, job).status)
    -- processing 5 minutes, then no 4-hour sync: straight to the cutover
    assert.are.same({ "inProgress 13:53:00",
      "cuttingOver 13:53:00", "completed 14:23:00" }, seen)
    assert.are.equal("2025-11-06T13:48:00Z", start)
  end)

  it("counts without building event tables", function()
    local graph = F.graph()
    local job = new_job(graph)
    assert(graph:validate_job(job.id))
    -- 3 job steps, and 3 users x 4 services to inProgress, then to valid
    assert.are.equal(3 + 12 + 12, graph:advance("PT1H", false))
  end)

  it("hands observers what actions change, at once", function()
    local graph = F.graph()
    local job = new_job(graph, { workloads = { "Exchange" } })
    local seen = {}
    graph:on("task", function(_, task, service, old, new)
      seen[#seen + 1] = task.id .. " " .. service .. " " .. old .. ">" .. new
    end)
    assert(graph:cancel_task(job.id, U[1]))
    assert.are.same({ U[1] .. " Exchange notStarted>cancelled" }, seen)
    local status = graph:request("POST", F.JOBS .. "/" .. job.id .. "/cancel")
    assert.are.equal(202, status)
    assert.are.same({ U[1] .. " Exchange notStarted>cancelled",
                      U[2] .. " Exchange notStarted>pendingCancel",
                      U[3] .. " Exchange notStarted>pendingCancel" }, seen)
  end)
end)
