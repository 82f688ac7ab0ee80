-- A refused request changes nothing: the full listing of the store is the
-- same text before and after, for every kind of refusal on every endpoint.
local F = require "spec.support.fixtures"

local JOBS = F.JOBS

describe("a refused request", function()
  local graph, job, other
  before_each(function()
    graph = F.graph { timings = { validate_submitted = 10 } }
    job = assert(graph:create_job(F.job_body()))
    other = assert(graph:create_job(F.job_body { displayName = "other",
      resources = F.users(30) }))
    assert(graph:validate_job(other.id))
  end)

  local function requests()
    local j, o = job.id, other.id
    local r1 = F.RESOURCES[1]
    return {
      { "POST", JOBS, F.job_body(), 409 },                       -- name taken
      { "POST", JOBS, F.job_body { displayName = "n",
          resources = { F.users(1)[1] } }, 409 },                -- user busy
      { "POST", JOBS, '{"displayName":', 400 },                  -- bad JSON
      { "POST", JOBS, F.job_body { displayName = "z",
          resources = { F.users(3, "cccccccc")[1], "x" } }, 400 },
      { "POST", JOBS, F.job_body { displayName = "z",
          resources = { F.users(3, "cccccccc")[1],
                        F.users(3, "cccccccc")[1] } }, 400 },
      { "PATCH", JOBS .. "/" .. j, { status = "completed" }, 400 },
      { "PATCH", JOBS .. "/" .. j, { displayName = "q" }, 400 },
      { "PATCH", JOBS .. "/nope", { completeAfterDateTime = F.NOW }, 404 },
      { "DELETE", JOBS .. "/" .. j, nil, 409 },
      { "POST", JOBS .. "/" .. o .. "/validate", nil, 409 },
      { "POST", JOBS .. "/" .. j .. "/migrate", nil, 409 },
      { "POST", JOBS .. "/" .. j .. "/users", { taskType = "user",
          lastUpdatedDateTime = F.NOW, id = r1 }, 409 },
      { "POST", JOBS .. "/" .. j .. "/users", { taskType = "user",
          lastUpdatedDateTime = F.NOW, id = F.users(1)[1] }, 409 },
      { "POST", JOBS .. "/" .. j .. "/users", { taskType = "user",
          lastUpdatedDateTime = F.NOW, currentStatus = { { service = "x" } } },
        400 },
      { "POST", JOBS .. "/" .. o .. "/users", { taskType = "user",
          lastUpdatedDateTime = F.NOW }, 409 },
      { "POST", JOBS .. "/" .. j .. "/users/" .. F.TASK .. "/cancel", nil, 404 },
      { "PUT", JOBS .. "/" .. j, F.job_body(), 405 },
      { "POST", JOBS .. "?$top=1", F.job_body { displayName = "w" }, 400 },
      { "POST", JOBS, F.job_body { displayName = "w" }, 403,
        { Authorization = F.token { tid = F.TARGET, scp = F.READ } } },
      { "POST", JOBS, F.job_body { displayName = "w" }, 401,
        { Authorization = "Bearer junk" } },
    }
  end

  it("leaves the store exactly as it was, whatever was refused", function()
    for i, r in ipairs(requests()) do
      local before = F.snapshot(graph)
      local status = graph:request(r[1], r[2], r[3], r[5])
      assert.are.equal(r[4], status, "request " .. i .. " " .. r[1] .. " " ..
                       r[2])
      assert.are.equal(before, F.snapshot(graph), "request " .. i ..
                       " changed the store")
    end
  end)

  it("leaves the store as it was after a refused cancel", function()
    graph:advance("P60D")
    local before = F.snapshot(graph)
    assert.are.equal(409, (graph:request("POST", JOBS .. "/" .. job.id ..
                                         "/cancel")))
    assert.are.equal(409, (graph:request("POST", JOBS .. "/" .. job.id ..
      "/users/" .. F.RESOURCES[1] .. "/cancel")))
    assert.are.equal(before, F.snapshot(graph))
  end)
end)

describe("the store's invariants under a stream of requests", function()
  it("hold after each of a thousand seeded random requests", function()
    local graph = F.graph { seed = 3, timings = { validate_submitted = 5,
      validate_processing = 5, validate_in_progress = 5, processing = 5,
      sync = 20, cutover = 20, cancel = 5, delete_pending = 5, deleted = 5 } }
    local rng = 12345
    local function rand(n)
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng % n + 1
    end
    local pool = F.users(60, "dddddddd")
    local names = { "a", "b", "c", "d", "e" }
    local ops = { "create", "task", "validate", "migrate", "cancel",
                  "taskcancel", "delete", "advance", "patch", "get" }
    for _ = 1, 1000 do
      local op = ops[rand(#ops)]
      local _, list = graph:request("GET", JOBS .. "?$top=999")
      local jobs = list.value
      local j = jobs[rand(#jobs + 1)]
      local id = j and j.id or "missing"
      if op == "create" then
        local res = {}
        for k = 1, rand(4) do res[k] = pool[rand(#pool)] end
        graph:request("POST", JOBS, F.job_body { displayName = names[rand(5)],
          resources = res, completeAfterDateTime = "2025-11-06T12:00:00Z" })
      elseif op == "task" then
        graph:request("POST", JOBS .. "/" .. id .. "/users", {
          taskType = "user", id = pool[rand(#pool)],
          lastUpdatedDateTime = F.NOW })
      elseif op == "validate" or op == "migrate" or op == "cancel" then
        graph:request("POST", JOBS .. "/" .. id .. "/" .. op)
      elseif op == "taskcancel" then
        graph:request("POST", JOBS .. "/" .. id .. "/users/" ..
                      pool[rand(#pool)] .. "/cancel")
      elseif op == "delete" then
        graph:request("DELETE", JOBS .. "/" .. id)
      elseif op == "advance" then
        graph:advance(rand(30))
      elseif op == "patch" then
        graph:request("PATCH", JOBS .. "/" .. id,
                      { completeAfterDateTime = "2025-11-06T10:00:00Z" })
      else
        graph:request("GET", JOBS .. "/" .. id)
      end

      -- invariants
      _, list = graph:request("GET", JOBS .. "?$top=999&$count=true")
      assert.are.equal(#list.value, list["@odata.count"])
      local active = {}
      for _, job in ipairs(list.value) do
        local s, got = graph:request("GET", JOBS .. "/" .. job.id)
        assert.are.equal(200, s)
        assert.are.same(job.id, got.id)
        local _, users = graph:request("GET", JOBS .. "/" .. job.id ..
                                       "/users?$top=999")
        assert.are.equal(#job.resources, #users.value)
        for k, t in ipairs(users.value) do
          assert.are.equal(job.resources[k], t.id)
          local live = t.currentStatus[1] == nil or
                       t.currentStatus[1].status ~= "cancelled"
          if live and job.status ~= "completed" and job.status ~= "cancelled"
             and job.status ~= "pendingDelete" and job.status ~= "deleted" then
            assert.is_nil(active[t.id], "user " .. t.id .. " in two jobs")
            active[t.id] = job.id
          end
        end
      end
    end
  end)
end)
