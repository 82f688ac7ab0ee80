-- Wrong-status 409s name the statuses the action is allowed from and the
-- next step (issue 10): validate, migrate, cancel, delete, PATCH, add a
-- user and cancel a user, from every status a job reaches.
local F = require "spec.support.fixtures"

local RUNNING = "submitted, validateSubmitted, validateProcessing, " ..
  "validateInProgress, validatePassed, validateFailed, processing or " ..
  "inProgress"

local ALLOWED = {
  validate = "validation starts from submitted or validateFailed, or from " ..
    "validatePassed once that validation has expired",
  migrate = "migration starts from validatePassed, failed or " ..
    "completedWithErrors",
  cancel = "a job can be cancelled while it is " .. RUNNING,
  delete = "only a job that is completed, completedWithErrors, failed or " ..
    "cancelled can be deleted",
  patch = "completeAfterDateTime can be changed while the job is " ..
    RUNNING,
  add = "users can be added while the job is submitted, validatePassed or " ..
    "validateFailed",
  cancel_user = "users can be cancelled while the job is " .. RUNNING,
}

local WHAT = {
  validate = "Validation can't be started",
  migrate = "Migration can't be started",
  cancel = "Cancellation is not possible",
  delete = "The job can't be deleted",
  patch = "completeAfterDateTime can't be changed",
  add = "Users can't be added to the job",
}

local WAIT_VALIDATION = "wait until validation finishes (validatePassed " ..
  "or validateFailed)"
local CANCEL_FIRST = "cancel the job first"
local NEW_JOB = "add the user to a new job"

-- the next step, by status, with the actions that differ
local NEXT = {
  submitted = { migrate = "validate the job first", delete = CANCEL_FIRST },
  validateSubmitted = { default = WAIT_VALIDATION, delete = CANCEL_FIRST },
  validateProcessing = { default = WAIT_VALIDATION, delete = CANCEL_FIRST },
  validateInProgress = { default = WAIT_VALIDATION, delete = CANCEL_FIRST },
  validatePassed = { default = "migrate the job; it can be validated again " ..
    "once its validation is more than 7 days old, or after a user is added",
    delete = CANCEL_FIRST },
  validateFailed = { default = "fix the users whose validation failed (or " ..
    "cancel them out of the job), then validate the job again",
    delete = CANCEL_FIRST },
  processing = { default = "wait until the migration finishes",
    migrate = "the migration is already running", add = NEW_JOB,
    delete = "cancel the job first, or wait until the migration finishes" },
  inProgress = { default = "wait until the migration finishes",
    migrate = "the migration is already running", add = NEW_JOB,
    delete = "cancel the job first, or wait until the migration finishes" },
  cuttingOver = { default = "the migration is cutting over; wait until it " ..
    "finishes", add = NEW_JOB },
  completed = { default = "every user has migrated; the job is finished",
    add = NEW_JOB },
  completedWithErrors = { default = "the job is finished; migrate it again " ..
    "to retry the users that failed", add = NEW_JOB },
  failed = { default = "the job is finished; migrate it again to retry " ..
    "the users that failed", add = NEW_JOB },
  pendingCancel = { default = "the job is being cancelled; create a new " ..
    "job for its users", cancel = "the job is already being cancelled",
    delete = "wait until it is cancelled, then delete it" },
  cancelled = { default = "the job was cancelled; create a new job for " ..
    "its users", cancel = "the job is already cancelled" },
  pendingDelete = { default = "the job is being deleted" },
  deleted = { default = "the job is being deleted" },
}

-- which actions each status refuses (the rest are allowed)
local ALLOWS = {
  validate = { submitted = true, validateFailed = true },
  migrate = { validatePassed = true, failed = true,
              completedWithErrors = true },
  cancel = { submitted = true, validateSubmitted = true,
             validateProcessing = true, validateInProgress = true,
             validatePassed = true, validateFailed = true, processing = true,
             inProgress = true },
  delete = { completed = true, completedWithErrors = true, failed = true,
             cancelled = true },
  add = { submitted = true, validatePassed = true, validateFailed = true },
}
ALLOWS.patch = ALLOWS.cancel
ALLOWS.cancel_user = ALLOWS.cancel

local U = F.users(3, "cfcfcfcf")

-- a store and a job brought to `status` on the model clock:
-- validation takes 30 s, processing 10 s, the sync 100 s, the cutover
-- 100 s; completeAfterDateTime is 10 minutes after the start
local function at(status)
  local graph = F.graph { timings = { validate_submitted = 10,
    validate_processing = 10, validate_in_progress = 10, processing = 10,
    sync = 100, cutover = 100, cancel = 10, delete_pending = 10,
    deleted = 10 } }
  local job = assert(graph:create_job(F.job_body { resources = U,
    completeAfterDateTime = "2025-11-06T09:10:00Z" }))
  local function fail_users(n, phase)
    for i = 1, n do
      assert(graph:fail { user = U[i], service = "ODSP", phase = phase })
    end
  end
  local function migrated(failures)
    fail_users(failures, "migrate")
    assert(graph:validate_job(job.id))
    graph:advance(30)
    assert(graph:migrate_job(job.id))
    graph:advance(800)
  end
  local steps = {
    submitted = function() end,
    validateSubmitted = function() assert(graph:validate_job(job.id)) end,
    validateProcessing = function()
      assert(graph:validate_job(job.id)); graph:advance(10)
    end,
    validateInProgress = function()
      assert(graph:validate_job(job.id)); graph:advance(20)
    end,
    validatePassed = function()
      assert(graph:validate_job(job.id)); graph:advance(30)
    end,
    validateFailed = function()
      fail_users(1, "validate")
      assert(graph:validate_job(job.id)); graph:advance(30)
    end,
    processing = function()
      assert(graph:validate_job(job.id)); graph:advance(30)
      assert(graph:migrate_job(job.id))
    end,
    inProgress = function()
      assert(graph:validate_job(job.id)); graph:advance(30)
      assert(graph:migrate_job(job.id)); graph:advance(10)
    end,
    cuttingOver = function()
      assert(graph:validate_job(job.id)); graph:advance(30)
      assert(graph:migrate_job(job.id)); graph:advance(580)  -- 09:10:10
    end,
    completed = function() migrated(0) end,
    completedWithErrors = function() migrated(1) end,
    failed = function() migrated(3) end,
    pendingCancel = function() assert(graph:cancel_job(job.id)) end,
    cancelled = function()
      assert(graph:cancel_job(job.id)); graph:advance(10)
    end,
    pendingDelete = function()
      migrated(0); assert(graph:delete_job(job.id))
    end,
    deleted = function()
      migrated(0); assert(graph:delete_job(job.id)); graph:advance(10)
    end,
  }
  steps[status]()
  assert.are.equal(status, assert(graph:get_job(job.id)).status)
  return graph, job
end

local ACT = {
  validate = function(g, j) return g:validate_job(j.id) end,
  migrate = function(g, j) return g:migrate_job(j.id) end,
  cancel = function(g, j) return g:cancel_job(j.id) end,
  delete = function(g, j) return g:delete_job(j.id) end,
  patch = function(g, j)
    return g:update_job(j.id, { completeAfterDateTime = "2026-01-01T00:00:00Z" })
  end,
  add = function(g, j)
    return g:create_task(j.id, { taskType = "user",
                                 lastUpdatedDateTime = F.NOW })
  end,
  -- U[1] is the user whose migration fails in completedWithErrors/failed
  cancel_user = function(g, j) return g:cancel_task(j.id, U[1]) end,
}

local STATUSES = { "submitted", "validateSubmitted", "validateProcessing",
  "validateInProgress", "validatePassed", "validateFailed", "processing",
  "inProgress", "cuttingOver", "completed", "completedWithErrors", "failed",
  "pendingCancel", "cancelled", "pendingDelete", "deleted" }
local ACTIONS = { "validate", "migrate", "cancel", "delete", "patch", "add",
                  "cancel_user" }

local function expected(action, status)
  local n = NEXT[status]
  local step = n[action] or n.default
  if action == "cancel_user" then
    return "Cancel is not possible for user '" .. U[1] .. "' because the " ..
      "job's current status is " .. status .. "; " .. ALLOWED[action] ..
      ": " .. step .. "."
  end
  return WHAT[action] .. " because the current status is " .. status ..
    "; " .. ALLOWED[action] .. ": " .. step .. "."
end

describe("a wrong-status 409", function()
  for _, status in ipairs(STATUSES) do
    for _, action in ipairs(ACTIONS) do
      -- a completed job's users are all completed: the user's own 409
      local user_done = action == "cancel_user" and
        (status == "completed" or status == "pendingDelete" or
         status == "deleted")
      if not ALLOWS[action][status] and not user_done then
        it(action .. " from " .. status .. " names what is allowed and " ..
           "what next", function()
          local graph, job = at(status)
          local before = F.snapshot(graph)
          F.rejects(409, "notAllowed", expected(action, status))(
            ACT[action](graph, job))
          assert.are.equal(before, F.snapshot(graph))
        end)
      end
    end
  end

  it("answers the same over graph:request", function()
    local graph, job = at("validateInProgress")
    local status, body = graph:request("POST", F.JOBS .. "/" .. job.id ..
                                       "/migrate")
    assert.are.same({ 409, "notAllowed", expected("migrate",
                      "validateInProgress") },
                    { status, body.error.code, body.error.message })
    status, body = graph:request("POST", F.JOBS .. "/" .. job.id ..
                                 "/users/" .. U[3] .. "/cancel")
    assert.are.same({ 202, "Accepted" }, { status, body.status })
    status, body = graph:request("DELETE", F.JOBS .. "/" .. job.id)
    assert.are.same({ 409, expected("delete", "validateInProgress") },
                    { status, body.error.message })
  end)
end)

describe("migrate after a user was added to a validatePassed job", function()
  it("says to validate again, because of the user", function()
    local graph, job = at("validatePassed")
    assert(graph:create_task(job.id, { taskType = "user",
                                       lastUpdatedDateTime = F.NOW }))
    local got = assert(graph:get_job(job.id))
    assert.are.same({ "submitted", "A user was added; validate the job " ..
                      "again." }, { got.status, got.message })
    F.rejects(409, "notAllowed", "Migration can't be started because the " ..
      "current status is submitted; migration starts from validatePassed, " ..
      "failed or completedWithErrors: validate the job again: a user was " ..
      "added after validation.")(graph:migrate_job(job.id))
    -- which works
    assert(graph:validate_job(job.id))
    graph:advance(30)
    assert(graph:migrate_job(job.id))
  end)
end)

describe("an expired validation", function()
  local graph, job
  before_each(function()
    graph, job = at("validatePassed")           -- passed at 09:00:30
    graph:advance("P7DT1S")
  end)

  it("refuses migrate, saying to validate again", function()
    F.rejects(409, "notAllowed", "Migration can't be started: validation " ..
      "passed more than 7 days ago (on 2025-11-06T09:00:30Z), and its " ..
      "results have expired: validate again.")(graph:migrate_job(job.id))
  end)

  it("can be validated again, then migrated", function()
    local r = assert(graph:validate_job(job.id))
    assert.are.same({ "validateSubmitted", "validate" },
                    { r.status, r.jobType })
    graph:advance(30)
    assert.are.equal("validatePassed", assert(graph:get_job(job.id)).status)
    assert(graph:update_job(job.id, {
      completeAfterDateTime = "2025-11-13T10:00:00Z" }))
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "completed" }, "P1D"))
  end)

  it("is not expired one tick before: validate is refused", function()
    local g, j = at("validatePassed")
    g:advance("P7D")                             -- exactly 7 days
    F.rejects(409, "notAllowed", expected("validate", "validatePassed"))(
      g:validate_job(j.id))
    assert(g:migrate_job(j.id))
  end)
end)

describe("a cancel refused after completeAfterDateTime", function()
  for _, status in ipairs { "submitted", "validatePassed", "validateFailed",
                            "inProgress" } do
    it("from " .. status .. " names the time, not a migration", function()
      local graph, job = at(status)
      -- completeAfterDateTime moved into the past: due at once, but the
      -- clock has not moved, so the status holds
      assert(graph:update_job(job.id, {
        completeAfterDateTime = "2025-11-06T09:00:00Z" }))
      assert.are.equal(status, assert(graph:get_job(job.id)).status)
      local _, err = graph:cancel_job(job.id)
      assert.are.equal("Cancellation is not possible because " ..
        "completeAfterDateTime (2025-11-06T09:00:00Z) has passed; a job " ..
        "can be cancelled only before it: set a later " ..
        "completeAfterDateTime (PATCH) first.", err.message)
      assert.is_nil(err.message:find("migration", 1, true))
      _, err = graph:cancel_task(job.id, U[3])
      assert.are.equal("Cancel is not possible for user '" .. U[3] ..
        "' because the job's completeAfterDateTime (2025-11-06T09:00:00Z) " ..
        "has passed; users can be cancelled only before it: set a later " ..
        "completeAfterDateTime (PATCH) first.", err.message)
      -- and the way out works
      assert(graph:update_job(job.id, {
        completeAfterDateTime = "2025-12-01T00:00:00Z" }))
      assert(graph:cancel_task(job.id, U[3]))
      assert(graph:cancel_job(job.id))
    end)
  end
end)

describe("a refused user cancel", function()
  it("names a user already cancelled", function()
    local graph, job = at("submitted")
    assert(graph:cancel_task(job.id, U[1]))
    F.rejects(409, "notAllowed", "Cancel is not possible. Current status " ..
      "is cancelled: user '" .. U[1] .. "' was already cancelled out of " ..
      "the job.")(graph:cancel_task(job.id, U[1]))
  end)

  it("names a user whose services all completed", function()
    local graph, job = at("completed")
    F.rejects(409, "notAllowed", "Cancel is not possible. Current status " ..
      "is completed: every service of user '" .. U[3] .. "' has " ..
      "migrated.")(graph:cancel_task(job.id, U[3]))
  end)
end)
