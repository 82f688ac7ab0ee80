-- Throttling and transient faults: graph:fault, graph:faults, the
-- fault_rate / retry_after / throttle options, in graph:request and in
-- the methods, and the run report's count of refused requests.
local crosstenant = require "crosstenant"
local cli = require "crosstenant.cli"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS

local THROTTLED = "The request has been throttled"
local UNAVAILABLE = "The service is not available. Try the request again " ..
  "after a delay. There may be a Retry-After header."
local TIMEOUT = "The server, while acting as a proxy, did not receive a " ..
  "timely response from the upstream server it needed to access in " ..
  "attempting to complete the request."

-- the store's whole visible state, read with faults off
local function state(graph)
  return graph:_unfaulted(F.snapshot, graph)
end

-- the keys of a table, sorted
local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function token(tid, app)
  return { Authorization = F.token { tid = tid, upn = "ops@contoso.com",
                                     scp = F.WRITE, appid = app } }
end

describe("throttling and transient faults", function()
  local graph
  before_each(function()
    graph = F.graph()
  end)

  describe("the answer", function()
    local kinds = {
      { 429, "activityLimitReached", "throttledRequest", THROTTLED },
      { 503, "serviceNotAvailable", nil, UNAVAILABLE },
      { 504, "gatewayTimeout", nil, TIMEOUT },
    }
    for _, k in ipairs(kinds) do
      it("is Graph's " .. k[1] .. " " .. k[2] .. " with Retry-After",
         function()
        graph:fault { status = k[1], retry_after = 7 }
        local status, body, h = graph:request("GET", JOBS, nil,
          { ["client-request-id"] = "my-id-1" })
        assert.are.equal(k[1], status)
        assert.are.same({ "code", "innerError", "message" },
                        keys(body.error))
        assert.are.same({ k[2], k[4], k[3] },
          { body.error.code, body.error.message, body.error.innerError.code })
        local inner = body.error.innerError
        assert.are.same(k[3] and { "client-request-id", "code", "date",
                                   "request-id" }
                        or { "client-request-id", "date", "request-id" },
                        keys(inner))
        -- the model clock, as every error writes it
        assert.truthy(inner.date:find("^2025%-11%-06T09:00:00Z?$"))
        assert.are.equal("my-id-1", inner["client-request-id"])
        assert.are.equal("7", h["Retry-After"])
        assert.are.equal("7", h["retry-after"])
        assert.are.equal(inner["request-id"], h["request-id"])
        assert.are.equal("my-id-1", h["client-request-id"])
        assert.are.equal("application/json", h["Content-Type"])
        assert.truthy(inner["request-id"]:match(
          "^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"))
        -- the same JSON Graph sends, key order included
        local text = crosstenant.encode(body)
        assert.are.equal('{"error":{"code":"' .. k[2] .. '","message":"' ..
                         k[4] .. '","innerError":{' ..
                         (k[3] and '"code":"' .. k[3] .. '",' or "") ..
                         '"date":"' .. inner.date .. '","request-id":"' ..
                         inner["request-id"] .. '","client-request-id":' ..
                         '"my-id-1"}}}', text)
      end)
    end

    it("is nil, err from a method, with err.retry_after", function()
      graph:fault { status = 503, retry_after = 5 }
      local job, err = graph:create_job(F.job_body())
      assert.is_nil(job)
      assert.are.same({ 503, "serviceNotAvailable", UNAVAILABLE, 5 },
                      { err.status, err.code, err.message, err.retry_after })
      assert.is_nil(err.inner)
      assert.are.equal("serviceNotAvailable", err.body.error.code)
      assert.are.equal("503 serviceNotAvailable: " .. UNAVAILABLE,
                       tostring(err))
    end)

    it("uses a request id and no other id: the ids made later are the " ..
       "same", function()
      local plain = F.graph()
      graph:fault { status = 429, retry_after = 1 }
      local _, err = graph:create_job(F.job_body())
      assert.are.equal(429, err.status)
      graph:advance(1)
      plain:advance(1)
      local a = assert(graph:create_job(F.job_body()))
      local b = assert(plain:create_job(F.job_body()))
      assert.are.equal(b.id, a.id)
      -- the refusal took a request id: the next answer's differs
      local _, _, h1 = graph:request("GET", JOBS)
      local _, _, h2 = plain:request("GET", JOBS)
      assert.are_not.equal(h2["request-id"], h1["request-id"])
    end)
  end)

  describe("a refused request changes nothing", function()
    it("a throttled create leaves the store as it was", function()
      local job = assert(graph:create_job(F.job_body()))
      local before = state(graph)
      graph:fault { status = 429, retry_after = 30, times = 3 }
      local st = graph:request("POST", JOBS, F.job_body {
        displayName = "second" })
      assert.are.equal(429, st)
      graph:advance(30)
      local t, err = graph:create_task(job.id, { taskType = "user",
        lastUpdatedDateTime = F.NOW, id = F.TASK })
      assert.is_nil(t)
      assert.are.equal(429, err.status)
      graph:advance(30)
      st = graph:request("POST", JOBS .. "/" .. job.id .. "/validate")
      assert.are.equal(429, st)
      -- only the clock moved
      local after = state(graph)
      assert.are.equal(before:gsub("\n[^\n]*$", ""),
                       (after:gsub("\n[^\n]*$", "")))
      assert.are.equal("2025-11-06T09:01:00Z", graph:now())
      assert.are.equal("submitted", graph:_unfaulted(graph.get_job, graph,
                                                     job.id).status)
    end)
  end)

  -- Graph:create_task asks the core once: with faults armed the core does
  -- nothing and says so (status 0), the fault path decides, and only then
  -- is the task created, once
  it("creates a task once while a rule for other requests is armed",
     function()
    local job = assert(graph:create_job(F.job_body()))
    graph:fault { status = 503, retry_after = 1, method = "GET",
                  path = "/crossTenantMigrationJobs" }
    local t = assert(graph:create_task(job.id, { taskType = "user",
      lastUpdatedDateTime = F.NOW, id = F.TASK }))
    assert.are.equal(F.TASK, t.id)
    assert.are.equal(4, #t.currentStatus)
    local _, err = graph:create_task(job.id, { taskType = "user",
      lastUpdatedDateTime = F.NOW, id = F.TASK })
    assert.are.equal(409, err.status)
    assert.are.equal("User '" .. F.TASK .. "' is already in job '" ..
                     job.id .. "'.", err.message)
    assert.are.equal(1, #graph:faults())
    assert.are.equal(4, #graph:_unfaulted(graph.get_job, graph,
                                          job.id).resources)
  end)

  describe("Retry-After", function()
    it("throttles a retry before it has passed with the time left, " ..
       "rounded up, and lets one after it through", function()
      graph:fault { status = 429, retry_after = 10 }
      assert.are.equal(429, (graph:request("GET", JOBS)))
      graph:advance(3)
      local st, body, h = graph:request("GET", JOBS)
      assert.are.same({ 429, "7", "activityLimitReached", "throttledRequest" },
        { st, h["Retry-After"], body.error.code, body.error.innerError.code })
      graph:advance(2.5)
      st, body, h = graph:request("POST", JOBS, F.job_body())
      assert.are.same({ 429, "5", THROTTLED },
                      { st, h["Retry-After"], body.error.message })
      graph:advance(4.4)
      local _, err = graph:get_job("x")
      assert.are.same({ 429, 1 }, { err.status, err.retry_after })
      graph:advance(0.1)            -- exactly 10 s after the answer
      st = graph:request("GET", JOBS)
      assert.are.equal(200, st)
      -- the early retries were refused, not faults of their own
      assert.are.same({}, graph:faults())
      assert.are.same({ [429] = 4, [503] = 0, [504] = 0 },
                      graph:fault_counts())
    end)

    it("after a 503 or 504 too: an early retry is throttled (429)",
       function()
      graph:fault { status = 504, retry_after = 4 }
      assert.are.equal(504, (graph:request("GET", JOBS)))
      graph:advance(1)
      local st, body, h = graph:request("GET", JOBS)
      assert.are.same({ 429, "activityLimitReached", "3" },
                      { st, body.error.code, h["Retry-After"] })
      graph:advance(3)
      assert.are.equal(200, (graph:request("GET", JOBS)))
    end)

    it("holds per caller: the token's tenant and app, or the default " ..
       "caller", function()
      local T1 = "11111111-1111-4111-8111-111111111111"
      local T2 = "22222222-2222-4222-8222-222222222222"
      graph:fault { status = 429, retry_after = 60 }
      assert.are.equal(429, (graph:request("GET", JOBS, nil,
                                           token(T1, "app-a"))))
      -- the same tenant and app: throttled
      assert.are.equal(429, (graph:request("GET", JOBS, nil,
                                           token(T1, "app-a"))))
      -- another app, another tenant, the default caller: not
      assert.are.equal(200, (graph:request("GET", JOBS, nil,
                                           token(T1, "app-b"))))
      assert.are.equal(200, (graph:request("GET", JOBS, nil,
                                           token(T2, "app-a"))))
      assert.are.equal(200, (graph:request("GET", JOBS)))
      assert.truthy(graph:list_jobs())
      -- the app of a v2 token is its azp claim
      graph:fault { status = 503, retry_after = 60 }
      local h = { Authorization = F.token { tid = T2, scp = F.WRITE,
                                            azp = "app-c" } }
      assert.are.equal(503, (graph:request("GET", JOBS, nil, h)))
      assert.are.equal(429, (graph:request("GET", JOBS, nil, h)))
      assert.are.equal(429, (graph:request("GET", JOBS, nil,
                                           token(T2, "app-c"))))
    end)

    it("the methods and requests without a token are one caller",
       function()
      graph:fault { status = 429, retry_after = 5 }
      local _, err = graph:list_jobs()
      assert.are.equal(429, err.status)
      local st, _, h = graph:request("GET", JOBS)
      assert.are.same({ 429, "5" }, { st, h["Retry-After"] })
    end)

    it("runs on graph._fault_now when a server sets it (the wall " ..
       "clock), not on the model clock", function()
      local wall = 1000 * 10000000               -- ticks
      graph._fault_now = function() return wall end
      graph:fault { status = 429, retry_after = 10 }
      assert.are.equal(429, (graph:request("GET", JOBS)))
      graph:advance(3600)                        -- the model clock: no
      local st, _, h = graph:request("GET", JOBS)
      assert.are.same({ 429, "10" }, { st, h["Retry-After"] })
      wall = wall + 9 * 10000000 + 1
      st, _, h = graph:request("GET", JOBS)
      assert.are.same({ 429, "1" }, { st, h["Retry-After"] })
      wall = wall + 9999999
      assert.are.equal(200, (graph:request("GET", JOBS)))
    end)

    it("rejects an appid claim that is not a string (401)", function()
      local st, body = graph:request("GET", JOBS, nil, {
        Authorization = F.token { tid = F.TARGET, scp = F.WRITE,
                                  appid = 5 } })
      assert.are.same({ 401, "unauthenticated",
                        "The access token's 'appid' claim must be a string." },
                      { st, body.error.code, body.error.message })
    end)
  end)

  describe("scripted faults", function()
    it("count down `times`, and graph:faults() shows what is left",
       function()
      graph:fault { status = 429, retry_after = 2, times = 2,
                    method = "post", path = "/crossTenantMigrationJobs" }
      graph:fault { status = 503 }
      assert.are.same({
        { status = 429, retry_after = 2, times = 2, method = "POST",
          path = "/crossTenantMigrationJobs" },
        { status = 503, retry_after = 1, times = 1 },
      }, graph:faults())
      assert.are.equal(429, (graph:request("POST", JOBS, F.job_body())))
      assert.are.same({ 429, 1 }, { graph:faults()[1].status,
                                    graph:faults()[1].times })
      graph:advance(2)
      -- a GET does not match the first: the second answers it
      assert.are.equal(503, (graph:request("GET", JOBS)))
      assert.are.same({ { status = 429, retry_after = 2, times = 1,
                          method = "POST",
                          path = "/crossTenantMigrationJobs" } },
                      graph:faults())
      graph:advance(1)
      assert.are.equal(429, (graph:request("POST", JOBS, F.job_body())))
      assert.are.same({}, graph:faults())
      graph:advance(2)
      assert.are.equal(201, (graph:request("POST", JOBS, F.job_body())))
      assert.are.same({ [429] = 2, [503] = 1, [504] = 0 },
                      graph:fault_counts())
    end)

    it("take retry_after from the store's option when not given",
       function()
      local g = F.graph { retry_after = 9 }
      g:fault { status = 504 }
      assert.are.equal(9, g:faults()[1].retry_after)
      local st, _, h = g:request("GET", JOBS)
      assert.are.same({ 504, "9" }, { st, h["Retry-After"] })
    end)

    describe("match method and path", function()
      local job
      before_each(function()
        job = assert(graph:create_job(F.job_body()))
        graph:fault { status = 429, retry_after = 1, times = 100,
                      method = "POST",
                      path = "/crossTenantMigrationJobs/*/users" }
      end)

      -- each request at a fresh second, so no Retry-After is running
      local function try(method, url, body)
        graph:advance(1)
        return (graph:request(method, url, body))
      end

      local task = { taskType = "user", lastUpdatedDateTime = F.NOW }

      it("matches the path case-insensitively, `*` as one segment",
         function()
        assert.are.equal(429, try("POST", JOBS .. "/" .. job.id ..
                                          "/users", task))
        assert.are.equal(429, try("post", "/v1.0/SOLUTIONS/Migrations/" ..
          "CROSSTENANTMIGRATIONJOBS/" .. job.id .. "/USERS", task))
        assert.are.equal(429, try("POST", JOBS ..
                                          "/xtmigration_user_req_1/users",
                                  task))
        -- a 404 path of that shape is refused too: faults come first
        assert.are.equal(429, try("POST", JOBS .. "/no-such-job/users",
                                  task))
        assert.are.equal(96, graph:faults()[1].times)
      end)

      it("leaves other methods, shorter and longer paths alone",
         function()
        assert.are.equal(200, try("GET", JOBS .. "/" .. job.id .. "/users"))
        assert.are.equal(201, try("POST", JOBS, F.job_body {
          displayName = "other", resources = F.users(1) }))
        assert.are.equal(200, try("POST", JOBS .. "/" .. job.id ..
                                          "/validate"))
        assert.are.equal(404, try("POST", JOBS .. "/" .. job.id ..
                                          "/users/" .. F.RESOURCES[1] ..
                                          "/x"))
        assert.are.equal(202, try("POST", JOBS .. "/" .. job.id ..
                                          "/users/" .. F.RESOURCES[1] ..
                                          "/cancel"))
        -- the alternate key is one segment of another shape (the job
        -- is validating now: 409)
        assert.are.equal(409, try("POST", JOBS ..
          "(displayName='xtmigration_user_req_1')/users", task))
        assert.are.equal(100, graph:faults()[1].times)
      end)

      it("a rule with a path never matches outside " ..
         "/solutions/migrations; one without does", function()
        graph:fault { status = 503, retry_after = 1 }
        assert.are.equal(503, try("POST", "/beta/users", task))
        assert.are.equal(404, try("POST", "/beta/users", task))
        assert.are.equal(100, graph:faults()[1].times)
      end)

      it("counts each method as its Graph method and path", function()
        local calls = {
          { "POST", "/crossTenantMigrationJobs", function(g)
            return g:create_job(F.job_body { displayName = "m",
                                             resources = F.users(1) })
          end },
          { "GET", "/crossTenantMigrationJobs", function(g)
            return g:list_jobs() end },
          { "GET", "/crossTenantMigrationJobs/*", function(g)
            return g:get_job(job.id) end },
          { "PATCH", "/crossTenantMigrationJobs/*", function(g)
            return g:update_job(job.id, { completeAfterDateTime = F.NOW })
          end },
          { "DELETE", "/crossTenantMigrationJobs/*", function(g)
            return g:delete_job(job.id) end },
          { "POST", "/crossTenantMigrationJobs/*/validate", function(g)
            return g:validate_job(job.id) end },
          { "POST", "/crossTenantMigrationJobs/*/migrate", function(g)
            return g:migrate_job(job.id) end },
          { "POST", "/crossTenantMigrationJobs/*/cancel", function(g)
            return g:cancel_job(job.id) end },
          { "GET", "/crossTenantMigrationJobs/*/users", function(g)
            return g:list_tasks(job.id) end },
          { "POST", "/crossTenantMigrationJobs/*/users", function(g)
            return g:create_task(job.id, task) end },
          { "GET", "/crossTenantMigrationJobs/*/users/*", function(g)
            return g:get_task(job.id, F.RESOURCES[1]) end },
          { "POST", "/crossTenantMigrationJobs/*/users/*/cancel", function(g)
            return g:cancel_task(job.id, F.RESOURCES[1]) end },
        }
        for _, c in ipairs(calls) do
          local what = c[1] .. " " .. c[2]
          local g = F.graph()
          job = assert(g:create_job(F.job_body()))
          g:fault { status = 504, retry_after = 1, method = c[1],
                    path = c[2] }
          -- every other method leaves the rule alone
          for _, o in ipairs(calls) do
            if o ~= c then
              local r, err = o[3](g)
              assert.is_true(r ~= nil or err.status ~= 504, what)
              assert.are.equal(1, #g:faults(), what)
            end
          end
          local r, err = c[3](g)
          assert.is_nil(r, what)
          assert.are.same({ 504, 1 }, { err.status, err.retry_after })
          assert.are.same({}, g:faults(), what)
        end
      end)
    end)
  end)

  describe("seeded rates", function()
    -- statuses of n requests, waiting out each Retry-After
    local function sequence(seed, n)
      local g = F.graph { seed = seed, fault_rate = { [429] = 0.2,
                                                      [503] = 0.1,
                                                      [504] = 0.05 },
                          retry_after = 3 }
      local out = {}
      for i = 1, n do
        local st, _, h = g:request("GET", JOBS)
        out[i] = st
        if st ~= 200 then
          assert.are.equal("3", h["Retry-After"])
          g:advance(3)
        end
      end
      return out, g
    end

    it("give the same sequence for the same seed, another for another",
       function()
      local a, g = sequence(11, 300)
      local b = sequence(11, 300)
      local c = sequence(12, 300)
      assert.are.same(a, b)
      assert.are_not.same(a, c)
      local n = { [200] = 0, [429] = 0, [503] = 0, [504] = 0 }
      for _, st in ipairs(a) do n[st] = n[st] + 1 end
      assert.is_true(n[429] > 0 and n[503] > 0 and n[504] > 0)
      assert.are.same({ [429] = n[429], [503] = n[503], [504] = n[504] },
                      g:fault_counts())
    end)

    it("never change the ids the store makes", function()
      local g = F.graph { fault_rate = { [503] = 0.5 }, retry_after = 1 }
      local plain = F.graph()
      local refused = 0
      for i = 1, 20 do
        local body = F.job_body { displayName = "job " .. i,
                                  resources = F.users(2, ("%08x"):format(i)) }
        local job, err = g:create_job(body)
        while not job do
          assert.are.equal(503, err.status)
          refused = refused + 1
          g:advance(1)
          job, err = g:create_job(body)
        end
        local want = assert(plain:create_job(body))
        assert.are.equal(want.id, job.id)
      end
      assert.is_true(refused > 0)
    end)

    it("a rate of 1 refuses every request", function()
      local g = F.graph { fault_rate = { [504] = 1 } }
      for _ = 1, 5 do
        local st, _, h = g:request("GET", JOBS)
        assert.are.same({ 504, "1" }, { st, h["Retry-After"] })
        g:advance(1)
      end
    end)
  end)

  describe("the budget", function()
    it("throttles past `requests` in `per` seconds until the window " ..
       "closes", function()
      local g = F.graph { throttle = { requests = 3, per = 10 } }
      assert.are.equal(200, (g:request("GET", JOBS)))
      g:advance(2)
      assert.are.equal(200, (g:request("GET", JOBS)))
      assert.truthy(g:list_jobs())
      local st, body, h = g:request("GET", JOBS)
      assert.are.same({ 429, "8", "activityLimitReached", "throttledRequest" },
        { st, h["Retry-After"], body.error.code, body.error.innerError.code })
      g:advance(7.5)
      st, body, h = g:request("GET", JOBS)
      assert.are.same({ 429, "1", "throttledRequest" },
                      { st, h["Retry-After"], body.error.innerError.code })
      g:advance(0.5)                -- the window closes
      for _ = 1, 3 do assert.are.equal(200, (g:request("GET", JOBS))) end
      assert.are.equal(429, (g:request("GET", JOBS)))
    end)

    it("is kept per caller", function()
      local g = F.graph { throttle = { requests = 1, per = 60 } }
      local T1 = "11111111-1111-4111-8111-111111111111"
      assert.are.equal(200, (g:request("GET", JOBS)))
      assert.are.equal(429, (g:request("GET", JOBS)))
      assert.are.equal(200, (g:request("GET", JOBS, nil, token(T1, "a"))))
      assert.are.equal(200, (g:request("GET", JOBS, nil, token(T1, "b"))))
      assert.are.equal(429, (g:request("GET", JOBS, nil, token(T1, "a"))))
    end)

    it("comes after unauthenticated requests: a 401 is not counted",
       function()
      local g = F.graph { require_token = true,
                          throttle = { requests = 1, per = 60 } }
      assert.are.equal(401, (g:request("GET", JOBS)))
      assert.are.equal(401, (g:request("GET", JOBS)))
      assert.are.equal(200, (g:request("GET", JOBS, nil,
                                       token(F.TARGET, "a"))))
      assert.are.equal(429, (g:request("GET", JOBS, nil,
                                       token(F.TARGET, "a"))))
    end)
  end)

  describe("argument errors", function()
    local bad = {
      { nil, "bad argument #1 to 'fault' (table expected, got nil)" },
      { { status = 500 }, "bad argument #1 to 'fault' (field 'status' " ..
        "must be 429, 503 or 504)" },
      { { status = 418 }, "bad argument #1 to 'fault' (field 'status' " ..
        "must be 429, 503 or 504)" },
      { { status = "429" }, "bad argument #1 to 'fault' (field 'status' " ..
        "must be 429, 503 or 504)" },
      { {}, "bad argument #1 to 'fault' (field 'status' must be 429, 503 " ..
        "or 504)" },
      { { status = 429, retry_after = 0 }, "bad argument #1 to 'fault' " ..
        "(field 'retry_after' must be a whole number of seconds from 1 to " ..
        "86400)" },
      { { status = 429, retry_after = -5 }, "bad argument #1 to 'fault' " ..
        "(field 'retry_after' must be a whole number of seconds from 1 to " ..
        "86400)" },
      { { status = 429, retry_after = 1.5 }, "bad argument #1 to 'fault' " ..
        "(field 'retry_after' must be a whole number of seconds from 1 to " ..
        "86400)" },
      { { status = 429, retry_after = 86401 }, "bad argument #1 to " ..
        "'fault' (field 'retry_after' must be a whole number of seconds " ..
        "from 1 to 86400)" },
      { { status = 429, times = 0 }, "bad argument #1 to 'fault' (field " ..
        "'times' must be a whole number of 1 or more)" },
      { { status = 429, times = -1 }, "bad argument #1 to 'fault' (field " ..
        "'times' must be a whole number of 1 or more)" },
      { { status = 429, method = "PUT" }, "bad argument #1 to 'fault' " ..
        "(field 'method' must be GET, POST, PATCH or DELETE)" },
      { { status = 429, method = 1 }, "bad argument #1 to 'fault' " ..
        "(field 'method' must be GET, POST, PATCH or DELETE)" },
      { { status = 429, colour = 1 }, "bad argument #1 to 'fault' " ..
        "(unknown field 'colour')" },
    }
    local PATH = "bad argument #1 to 'fault' (field 'path' must be a path " ..
                 "under /solutions/migrations, such as " ..
                 "'/crossTenantMigrationJobs/*/users')"
    for _, p in ipairs { "crossTenantMigrationJobs", "/", "",
                         "/crossTenantMigrationJobs/",
                         "/crossTenantMigrationJobs//users",
                         "/crossTenantMigrationJobs?$top=1",
                         "/solutions/migrations/crossTenantMigrationJobs",
                         "/beta/solutions/migrations", 5 } do
      bad[#bad + 1] = { { status = 429, path = p }, PATH }
    end
    for _, b in ipairs(bad) do
      it("raises " .. b[2] .. " for " ..
         (b[1] and crosstenant.encode(b[1]) or "nil"), function()
        assert.has_error(function() graph:fault(b[1]) end, b[2])
        assert.are.same({}, graph:faults())
      end)
    end

    it("names the caller's line", function()
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, msg = pcall(function() graph:fault { status = 500 } end)
      assert.is_false(ok)
      assert.are.equal("spec/14_faults_spec.lua:" .. line .. ": bad " ..
                       "argument #1 to 'fault' (field 'status' must be " ..
                       "429, 503 or 504)", msg)
      line = debug.getinfo(1, "l").currentline + 1
      ok, msg = pcall(function() crosstenant.new { retry_after = 0 } end)
      assert.is_false(ok)
      assert.are.equal("spec/14_faults_spec.lua:" .. line .. ": " ..
                       "crosstenant.new: option 'retry_after' must be a " ..
                       "whole number of seconds from 1 to 86400", msg)
    end)

    local bad_new = {
      { { fault_rate = { [500] = 0.1 } }, "option 'fault_rate' takes the " ..
        "statuses 429, 503 and 504 as keys, not 500" },
      { { fault_rate = { ["429"] = 0.1 } }, "option 'fault_rate' takes " ..
        "the statuses 429, 503 and 504 as keys, not '429'" },
      { { fault_rate = { [429] = 1.5 } }, "option 'fault_rate[429]' must " ..
        "be between 0 and 1" },
      { { fault_rate = { [503] = -0.1 } }, "option 'fault_rate[503]' must " ..
        "be between 0 and 1" },
      { { fault_rate = { [504] = 0 / 0 } }, "option 'fault_rate[504]' " ..
        "must be between 0 and 1" },
      { { fault_rate = { [429] = 0.6, [503] = 0.5 } }, "option " ..
        "'fault_rate': the rates add up to more than 1" },
      { { fault_rate = 0.1 }, "option 'fault_rate' must be a table" },
      { { retry_after = 0 }, "option 'retry_after' must be a whole number " ..
        "of seconds from 1 to 86400" },
      { { retry_after = 2.5 }, "option 'retry_after' must be a whole " ..
        "number of seconds from 1 to 86400" },
      { { throttle = { requests = 0, per = 10 } }, "option " ..
        "'throttle.requests' must be a whole number of 1 or more" },
      { { throttle = { per = 10 } }, "option 'throttle.requests' must be " ..
        "a whole number of 1 or more" },
      { { throttle = { requests = 5 } }, "option 'throttle.per' must be a " ..
        "number of seconds above 0 and at most 86400" },
      { { throttle = { requests = 5, per = 0 } }, "option 'throttle.per' " ..
        "must be a number of seconds above 0 and at most 86400" },
      { { throttle = { requests = 5, per = -1 } }, "option " ..
        "'throttle.per' must be a number of seconds above 0 and at most " ..
        "86400" },
      { { throttle = { requests = 5, per = 10, burst = 2 } }, "option " ..
        "'throttle' takes requests and per, not 'burst'" },
    }
    for _, b in ipairs(bad_new) do
      it("crosstenant.new raises " .. b[2], function()
        assert.has_error(function() crosstenant.new(b[1]) end,
                         "crosstenant.new: " .. b[2])
      end)
    end

    it("takes rates that add up to 1 in floating point", function()
      local g = crosstenant.new { fault_rate = { [429] = 0.1, [503] = 0.2,
                                                 [504] = 0.7 } }
      for _ = 1, 20 do
        assert.are_not.equal(200, (g:request("GET", JOBS)))
        g:advance(1)
      end
    end)
  end)

  it("is off by default: a store never refuses on its own", function()
    for _ = 1, 200 do assert.are.equal(200, (graph:request("GET", JOBS))) end
    assert.are.same({ [429] = 0, [503] = 0, [504] = 0 },
                    graph:fault_counts())
  end)

  describe("the run report", function()
    it("counts the refused requests, and reads the store unrefused",
       function()
      local g = F.graph { throttle = { requests = 2, per = 3600 } }
      local start = g:now()
      assert(g:create_job(F.job_body()))
      g:fault { status = 503, retry_after = 1 }
      assert.are.equal(503, (g:request("GET", JOBS)))
      g:advance(1)
      assert.are.equal(200, (g:request("GET", JOBS)))
      assert.are.equal(429, (g:request("GET", JOBS)))   -- over budget
      local r = cli.report(g, { scenario = "s.lua", seed = 7,
                                failureRate = 0, start = start })
      assert.are.same({ refused = 2, throttled = 1, serviceNotAvailable = 1,
                        gatewayTimeout = 0 }, r.requests)
      assert.are.equal(1, r.jobs.total)
      assert.are.equal(3, r.users.total)
      -- reading for the report refused nothing and counted nothing
      assert.are.same({ [429] = 1, [503] = 1, [504] = 0 }, g:fault_counts())
      local text = cli.format(r)
      assert.truthy(text:find("\nrefused requests: 2 -- 429 throttled 1, " ..
                              "503 serviceNotAvailable 1, 504 " ..
                              "gatewayTimeout 0\n", 1, true))
      local json = crosstenant.decode(crosstenant.encode(r))
      assert.are.equal(1, json.requests.throttled)
    end)

    it("of examples/04_throttling.lua counts its four refusals, with " ..
       "progress or without", function()
      -- the command as a process, on the build under test
      local core = assert(package.searchpath("crosstenant.core",
                                             package.cpath))
      local h = assert(io.popen("pwd"))
      local pwd = h:read("l")
      h:close()
      local env = "env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH='" ..
                  pwd .. "/lua/?.lua;" .. pwd .. "/lua/?/init.lua;;' " ..
                  "LUA_CPATH='" .. core:gsub("^%./", pwd .. "/")
                                       :gsub("crosstenant/core%.so$", "?.so")
                  .. "' "
      local function run(args)
        local p = assert(io.popen(env .. "lua5.4 bin/crosstenant run " ..
                                  args .. " examples/04_throttling.lua " ..
                                  "2>/dev/null"))
        local out = p:read("a")
        local ok = p:close()
        assert.is_true(ok, out)
        return out
      end
      local text = run("--progress never")
      assert.truthy(text:find("\nrefused requests: 4 -- 429 throttled 2, " ..
                              "503 serviceNotAvailable 1, 504 " ..
                              "gatewayTimeout 1\n", 1, true))
      assert.truthy(text:find("create_job: attempt 2: 429 " ..
                              "activityLimitReached, retrying after 10 s\n",
                              1, true))
      assert.truthy(text:find("\njobs: 1\n  completed       1\n", 1, true))
      -- watching the progress reads the store: it refuses nothing more
      local watched = run("--progress auto")
      assert.are.equal(text:match("== crosstenant report.*$"),
                       watched:match("== crosstenant report.*$"))
      local r = crosstenant.decode(run("--json"))
      assert.are.same({ refused = 4, throttled = 2, serviceNotAvailable = 1,
                        gatewayTimeout = 1 }, r.requests)
    end)

    it("prints no line when nothing was refused", function()
      local r = cli.report(graph, { scenario = "s.lua", seed = 7,
                                    failureRate = 0, start = graph:now() })
      assert.are.same({ refused = 0, throttled = 0, serviceNotAvailable = 0,
                        gatewayTimeout = 0 }, r.requests)
      assert.is_nil(cli.format(r):find("refused", 1, true))
    end)
  end)
end)
