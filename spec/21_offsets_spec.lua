-- Timestamps carry an offset of at most 14:00 either way (behavior.md,
-- "Timestamps"; .NET's DateTimeOffset and Graph's OData stack), in
-- bodies and in $filter literals alike.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local function bad_time(prop, value, why)
  return "Property '" .. prop .. "' is not a valid DateTimeOffset: '" ..
         value .. "' (" .. why .. ")."
end

describe("a DateTimeOffset's offset", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  for _, v in ipairs { "+14:00", "-14:00", "+13:59", "-00:30" } do
    it("takes " .. v .. " in a PATCH and writes UTC", function()
      assert(graph:update_job(job.id, {
        completeAfterDateTime = "2025-11-10T10:00:00" .. v }))
      local h, m = v:match("(%d%d):(%d%d)")
      local secs = (tonumber(h) * 60 + tonumber(m)) * 60
      if v:sub(1, 1) == "+" then secs = -secs end
      local want = os.date("!%Y-%m-%dT%H:%M:%SZ",
        os.time { year = 2025, month = 11, day = 10, hour = 10 } + secs -
        (os.time { year = 1970, month = 1, day = 1, hour = 0 }))
      assert.are.equal(want,
        assert(graph:get_job(job.id)).completeAfterDateTime)
    end)
  end

  local refusals = {
    { "PATCH completeAfterDateTime", "+15:00", "completeAfterDateTime",
      function(g, j, t)
        return g:update_job(j.id, { completeAfterDateTime = t })
      end },
    { "PATCH completeAfterDateTime (JSON)", "+14:01", "completeAfterDateTime",
      function(g, j, t)
        return g:update_job(j.id, '{"completeAfterDateTime":"' .. t .. '"}')
      end },
    { "POST a job's completeAfterDateTime", "-14:01", "completeAfterDateTime",
      function(g, _, t)
        return g:create_job(F.job_body { displayName = "other",
          resources = F.users(1, "bbbbbbbb"), completeAfterDateTime = t })
      end },
    { "POST a task's lastUpdatedDateTime", "+23:59", "lastUpdatedDateTime",
      function(g, j, t)
        return g:create_task(j.id, { taskType = "user",
                                     lastUpdatedDateTime = t })
      end },
  }
  for _, c in ipairs(refusals) do
    it("refuses " .. c[2] .. " in " .. c[1] .. " with 400, changing nothing",
       function()
      local before = F.snapshot(graph)
      local t = "2025-11-10T10:00:00" .. c[2]
      F.rejects(400, "invalidRequest", bad_time(c[3], t, "offset beyond 14:00"),
                "invalidProperty")(c[4](graph, job, t))
      assert.are.equal(before, F.snapshot(graph))
    end)
  end

  it("refuses +14:01 over graph:request with the error body", function()
    local status, body = graph:request("PATCH", F.JOBS .. "/" .. job.id,
      '{"completeAfterDateTime":"2025-11-10T10:00:00+14:01"}')
    assert.are.equal(400, status)
    assert.are.equal("invalidRequest", body.error.code)
    assert.are.equal("invalidProperty", body.error.innerError.code)
    assert.are.equal(bad_time("completeAfterDateTime",
      "2025-11-10T10:00:00+14:01", "offset beyond 14:00"), body.error.message)
  end)

  it("refuses an offset beyond 14:00 for the store's clock", function()
    assert.has_error(function()
      crosstenant.new { now = "2025-11-06T09:00:00+15:00" }
    end, "crosstenant.new: option 'now' is not a DateTimeOffset " ..
         "(offset beyond 14:00)")
  end)
end)

describe("a $filter DateTimeOffset literal's offset", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  local function q(s) return (s:gsub(" ", "%%20"):gsub("%+", "%%2B")) end

  it("takes +14:00 and -14:00", function()
    local status, body = graph:request("GET", F.JOBS .. "?$filter=" ..
      q("createdDateTime ge 2025-11-06T23:00:00+14:00"))
    assert.are.equal(200, status)
    assert.are.equal(1, #body.value)    -- 09:00Z ge 09:00Z
    status, body = graph:request("GET", F.JOBS .. "?$filter=" ..
      q("createdDateTime ge 2025-11-05T19:00:01-14:00"))
    assert.are.equal(200, status)
    assert.are.equal(0, #body.value)    -- 09:00Z ge 09:00:01Z: no
  end)

  local cases = {
    { "jobs, ge", F.JOBS, "createdDateTime ge 2025-11-06T09:00:00+15:00" },
    { "jobs, in a list", F.JOBS,
      "completeAfterDateTime in (2025-11-06T09:00:00Z, " ..
      "2025-11-06T09:00:00-14:01)" },
    { "tasks", nil, "lastUpdatedDateTime lt 2025-11-06T09:00:00+14:01" },
  }
  for _, c in ipairs(cases) do
    it("refuses an offset beyond 14:00 (" .. c[1] .. ") with 400", function()
      local url = (c[2] or (F.JOBS .. "/" .. job.id .. "/users")) ..
                  "?$filter=" .. q(c[3])
      local status, body = graph:request("GET", url)
      assert.are.equal(400, status)
      assert.are.equal("invalidRequest", body.error.code)
      assert.are.equal("invalidQueryOption", body.error.innerError.code)
      local lit = c[3]:match("(%d%d%d%d%-[%d%-T:]+[%+%-]1%d:%d%d)")
      local at = c[3]:find(lit, 1, true) - 1
      assert.are.equal("Invalid $filter: '" .. lit .. "' is not a valid " ..
        "DateTimeOffset (offset beyond 14:00) at position " .. at .. ".",
        body.error.message)
    end)
  end

  it("refuses it through graph:list_jobs and graph:list_tasks", function()
    F.rejects(400, "invalidRequest", "Invalid $filter: " ..
      "'2025-11-06T09:00:00+15:00' is not a valid DateTimeOffset (offset " ..
      "beyond 14:00) at position 23.", "invalidQueryOption")(
      graph:list_jobs { filter = "lastUpdatedDateTime gt " ..
                                 "2025-11-06T09:00:00+15:00" })
    F.rejects(400, "invalidRequest", "Invalid $filter: " ..
      "'2025-11-06T09:00:00-15:00' is not a valid DateTimeOffset (offset " ..
      "beyond 14:00) at position 23.", "invalidQueryOption")(
      graph:list_tasks(job.id, { filter = "lastUpdatedDateTime gt " ..
                                          "2025-11-06T09:00:00-15:00" }))
  end)
end)
