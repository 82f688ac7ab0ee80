-- failure_rate = { validate =, migrate =, sticky = true }: each (user,
-- service, phase) entry is drawn once and keeps its outcome on every later
-- validation or migration attempt in the store (issue 10, item 9); without
-- sticky every attempt draws again, as before.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local FAST = { validate_submitted = 1, validate_processing = 1,
  validate_in_progress = 1, processing = 1, sync = 1, cutover = 1,
  cancel = 1 }

local function store(seed, rate)
  return F.graph { seed = seed, failure_rate = rate, timings = FAST }
end

local function new_job(graph, n, over)
  local body = F.job_body { resources = F.users(n, "5a5a5a5a") }
  for k, v in pairs(over or {}) do body[k] = v end
  return assert(graph:create_job(body))
end

-- "user/service=status:code:message" of every entry that is not `ok`
local function failures(graph, job, ok)
  local out = {}
  local page = assert(graph:list_tasks(job.id, { top = 999 }))
  for _, t in ipairs(page.value) do
    for _, e in ipairs(t.currentStatus) do
      if e.status ~= ok and e.status ~= "cancelled" then
        local err = e.errors[1] or {}
        out[#out + 1] = t.id .. "/" .. e.service .. "=" .. e.status .. ":" ..
          tostring(err.code) .. ":" .. tostring(err.message)
      end
    end
  end
  return out
end

local function validate(graph, job)
  assert(graph:validate_job(job.id))
  assert.is_true(graph:run_until(job.id, { "validatePassed",
                                           "validateFailed" }, "P1D"))
  return assert(graph:get_job(job.id)).status
end

-- the users with at least one entry not `ok`
local function failed_users(graph, job, ok)
  local seen, out = {}, {}
  for _, f in ipairs(failures(graph, job, ok)) do
    local u = f:match("^([^/]+)/")
    if not seen[u] then
      seen[u] = true
      out[#out + 1] = u
    end
  end
  return out
end

describe("failure_rate with sticky = true", function()
  it("gives each entry the same validation outcome on every attempt",
     function()
    local graph = store(5, { validate = 0.1, sticky = true })
    local job = new_job(graph, 20)
    assert.are.equal("validateFailed", validate(graph, job))
    local first = failures(graph, job, "valid")
    assert.is_true(#first > 0)
    for _ = 1, 3 do
      assert.are.equal("validateFailed", validate(graph, job))
      assert.are.same(first, failures(graph, job, "valid"))
    end
  end)

  it("draws per (user, service) entry: a user can fail one service only",
     function()
    local graph = store(5, { validate = 0.5, sticky = true })
    local job = new_job(graph, 10)
    validate(graph, job)
    local mixed = false
    local page = assert(graph:list_tasks(job.id))
    for _, t in ipairs(page.value) do
      local bad, good = 0, 0
      for _, e in ipairs(t.currentStatus) do
        if e.status == "valid" then good = good + 1 else bad = bad + 1 end
      end
      mixed = mixed or (bad > 0 and good > 0)
    end
    assert.is_true(mixed)
  end)

  it("lets 'cancel the invalid users and validate again' pass", function()
    -- 100 users, every workload: at 1% per entry a fresh draw passes a
    -- whole validation only about 2% of the time
    local graph = store(9, { validate = 0.01, sticky = true })
    local job = new_job(graph, 100)
    assert.are.equal("validateFailed", validate(graph, job))
    local bad = failed_users(graph, job, "valid")
    assert.is_true(#bad > 0 and #bad < 20)
    for _, u in ipairs(bad) do assert(graph:cancel_task(job.id, u)) end
    assert.are.equal("validatePassed", validate(graph, job))
    assert.are.same({}, failures(graph, job, "valid"))
  end)

  it("keeps the outcome for the same user in another job of the store",
     function()
    local graph = store(5, { validate = 0.3, sticky = true })
    local job = new_job(graph, 6)
    validate(graph, job)
    local first = failures(graph, job, "valid")
    assert.is_true(#first > 0)
    assert(graph:cancel_job(job.id))
    graph:advance(5)
    local again = new_job(graph, 6, { displayName = "again" })
    validate(graph, again)
    assert.are.same(first, failures(graph, again, "valid"))
  end)

  it("keeps a failed migration entry failed on every retry", function()
    local graph = store(5, { migrate = 0.3, sticky = true })
    local job = new_job(graph, 10, { completeAfterDateTime = F.NOW })
    assert.are.equal("validatePassed", validate(graph, job))
    assert(graph:migrate_job(job.id))
    assert.is_true(graph:run_until(job.id, { "completedWithErrors" }, "P1D"))
    local first = failures(graph, job, "completed")
    assert.is_true(#first > 0)
    for _ = 1, 2 do
      assert(graph:migrate_job(job.id))
      assert.is_true(graph:run_until(job.id, { "completedWithErrors" },
                                     "P1D"))
      assert.are.same(first, failures(graph, job, "completed"))
    end
  end)

  it("is the same for the same seed and differs for another", function()
    local function run(seed)
      local graph = store(seed, { validate = 0.2, migrate = 0.2,
                                  sticky = true })
      local job = new_job(graph, 8)
      validate(graph, job)
      return table.concat(failures(graph, job, "valid"), "\n")
    end
    assert.are.equal(run(21), run(21))
    assert.are_not.equal(run(21), run(22))
  end)

  it("never changes the ids the store makes", function()
    local function ids(rate)
      local graph = store(3, rate)
      local job = new_job(graph, 5)
      validate(graph, job)
      local later = new_job(graph, 1, { displayName = "later",
        resources = { F.TASK } })
      local t = assert(graph:create_task(later.id, { taskType = "user",
        lastUpdatedDateTime = F.NOW }))
      return job.id .. later.id .. t.id
    end
    assert.are.equal(ids(0), ids { validate = 0.5, sticky = true })
  end)

  it("lets a scripted failure take precedence, once", function()
    local graph = store(5, { validate = 0, sticky = true })
    local job = new_job(graph, 2)
    local u = F.users(1, "5a5a5a5a")[1]
    assert(graph:fail { user = u, service = "Teams", code = "C",
                        message = "m" })
    assert.are.equal("validateFailed", validate(graph, job))
    assert.are.same({ u .. "/Teams=invalid:C:m" },
                    failures(graph, job, "valid"))
    assert.are.equal("validatePassed", validate(graph, job))
  end)
end)

describe("failure_rate without sticky (the default)", function()
  it("draws again on every validation", function()
    local graph = store(5, { validate = 0.1 })
    local job = new_job(graph, 20)
    validate(graph, job)
    local first = failures(graph, job, "valid")
    validate(graph, job)
    assert.are_not.same(first, failures(graph, job, "valid"))
  end)

  it("is the same as sticky = false", function()
    local function run(rate)
      local graph = store(5, rate)
      local job = new_job(graph, 20)
      validate(graph, job)
      validate(graph, job)
      return F.snapshot(graph)
    end
    assert.are.equal(run { validate = 0.1 },
                     run { validate = 0.1, sticky = false })
  end)
end)

describe("crosstenant.new's failure_rate option", function()
  it("refuses a sticky that is not a boolean", function()
    assert.has_error(function()
      crosstenant.new { failure_rate = { validate = 0.1, sticky = 1 } }
    end, "crosstenant.new: option 'failure_rate.sticky' must be a boolean")
  end)

  it("names the keys it takes", function()
    assert.has_error(function()
      crosstenant.new { failure_rate = { valdate = 0.1 } }
    end, "crosstenant.new: option 'failure_rate' takes validate, migrate " ..
         "and sticky, not 'valdate'")
  end)
end)
