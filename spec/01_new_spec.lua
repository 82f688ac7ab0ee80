-- crosstenant.new: options, independence of stores, reproducible ids.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

describe("crosstenant.new", function()
  it("makes a store on the documented defaults", function()
    local g = crosstenant.new()
    local job = assert(g:create_job(F.job_body()))
    assert.are.equal(F.TARGET, job.targetTenantId)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", job.createdBy)
    -- strict by default
    F.rejects(400, "invalidRequest", "Property 'status' is read-only and " ..
      "can't be set.", "invalidProperty")(
      g:create_job(F.job_body { displayName = "x", status = "completed" }))
  end)

  it("starts the clock at `now`", function()
    local g = crosstenant.new { now = "2025-11-06T10:00:00+01:00" }
    assert.are.equal("2025-11-06T09:00:00Z", g:now())
  end)

  it("starts the clock at the real time by default", function()
    local before = os.time()
    local g = crosstenant.new()
    local y, mo, d, h, mi, s = g:now():match(
      "^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
    assert.is_not_nil(y)
    local t = os.time { year = tonumber(y), month = tonumber(mo),
      day = tonumber(d), hour = tonumber(h), min = tonumber(mi),
      sec = tonumber(s), isdst = false }
    local offset = os.time(os.date("!*t", before)) - before
    assert.is_true(math.abs(t - offset - before) <= 2)
  end)

  it("takes tenant and user", function()
    local g = crosstenant.new { tenant = "11111111-2222-4333-8444-555555555555",
                                user = "ops@contoso.com" }
    local job = assert(g:create_job(F.job_body()))
    assert.are.equal("11111111-2222-4333-8444-555555555555", job.targetTenantId)
    assert.are.equal("ops@contoso.com", job.createdBy)
  end)

  local bad = {
    { { colour = 1 }, "crosstenant.new: unknown option 'colour'" },
    { { strict = "yes" }, "crosstenant.new: option 'strict' must be a boolean" },
    { { tenant = "contoso" }, "crosstenant.new: option 'tenant' must be a GUID" },
    { { seed = 1.5 }, "crosstenant.new: option 'seed' must be an integer" },
    { { now = "yesterday" },
      "crosstenant.new: option 'now' is not a DateTimeOffset (invalid format)" },
    { { failure_rate = 2 },
      "crosstenant.new: option 'failure_rate' must be between 0 and 1" },
    { { timings = { nap = 1 } }, "crosstenant.new: unknown timing 'nap'" },
  }
  for _, b in ipairs(bad) do
    it("raises on " .. b[2], function()
      assert.has_error(function() crosstenant.new(b[1]) end, b[2])
    end)
  end

  it("raises when options are not a table", function()
    assert.has_error(function() crosstenant.new(5) end,
      "crosstenant.new: options must be a table")
  end)

  it("makes the same ids from the same seed and calls", function()
    local function run()
      local g = F.graph { seed = 99 }
      local a = assert(g:create_job(F.job_body()))
      local t = assert(g:create_task(a.id, { taskType = "user",
        lastUpdatedDateTime = F.NOW }))
      return a.id .. " " .. t.id
    end
    assert.are.equal(run(), run())
    local other = F.graph { seed = 100 }
    assert.are_not.equal(run():sub(1, 36),
                         assert(other:create_job(F.job_body())).id)
  end)

  it("makes the same ids whatever requests were refused between", function()
    local g1, g2 = F.graph { seed = 5 }, F.graph { seed = 5 }
    g2:create_job(F.job_body { displayName = false })       -- refused
    g2:request("GET", F.JOBS .. "/nope")                    -- refused
    assert.are.equal(assert(g1:create_job(F.job_body())).id,
                     assert(g2:create_job(F.job_body())).id)
  end)

  it("keeps two stores apart", function()
    local g1, g2 = F.graph(), F.graph()
    local job = assert(g1:create_job(F.job_body()))
    F.rejects(404, "itemNotFound", "crossTenantMigrationJob '" .. job.id ..
      "' was not found.")(g2:get_job(job.id))
    assert(g2:create_job(F.job_body()))
    g1:advance(3600)
    assert.are.equal("2025-11-06T10:00:00Z", g1:now())
    assert.are.equal("2025-11-06T09:00:00Z", g2:now())
  end)

  it("closes, and a closed store raises", function()
    local g = F.graph()
    g:close()
    g:close()     -- idempotent
    assert.has_error(function() g:get_job("x") end,
                     "attempt to use a closed store")
  end)

  it("works as a to-be-closed variable", function()
    local g
    do
      local s <close> = F.graph()
      g = s
      assert(s:create_job(F.job_body()))
    end
    assert.has_error(function() g:get_job("x") end,
                     "attempt to use a closed store")
  end)
end)
