-- A seeded random walk through the HTTP API: thousands of valid and
-- invalid requests from several tenants against one store, with the
-- clock moving, and the store's invariants checked after every step:
--
--  * a refused request (status >= 400) leaves every job and task of every
--    tenant byte-identical (crosstenant.encode of the full listings);
--  * every listed job can be fetched, as listed;
--  * a job's resources are its tasks' ids, in order, and /users/$count
--    and @odata.count agree with the listings;
--  * no user is in two active jobs of a tenant;
--  * the store's task count is the sum over the listings;
--  * $filter on a status gives exactly the listed jobs in that status,
--    and $orderby=displayName pages give each job once, in byte order;
-- and at the end, the successful requests replayed alone on a new store
-- with the same seed give the same answers and the same final store
-- (a refused request uses no ids).
--
-- CT_RANDOM_STEPS sets the number of steps (default 1500), CT_RANDOM_SEED
-- the walk's seed (default 20251106); a failure names both.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local encode = crosstenant.encode
local null = crosstenant.null
local JOBS = F.JOBS

local STEPS = math.tointeger(tonumber(os.getenv("CT_RANDOM_STEPS") or "")) or
              1500
local SEED = math.tointeger(tonumber(os.getenv("CT_RANDOM_SEED") or "")) or
             20251106

-- a small xorshift64* of our own, so other specs' math.random calls do
-- not change the walk
local function generator(seed)
  local x = seed ~ 0x5DEECE66D
  if x == 0 then x = 1 end
  local r = {}
  function r.int(n)          -- 1..n
    x = x ~ (x >> 12)
    x = x ~ (x << 25)
    x = x ~ (x >> 27)
    local v = (x * 0x2545F4914F6CDD1D) >> 33
    return v % n + 1
  end
  function r.pick(t) return t[r.int(#t)] end
  function r.chance(p) return r.int(1000) <= p * 1000 end
  return r
end

local TENANTS = { F.TARGET, "11111111-1111-4111-8111-111111111111",
                  "22222222-2222-4222-8222-222222222222" }
local USERS = F.users(24, "cccccccc")
local NAMES = { "wave 1", "Wave 1", "wave 2", "WAVE 3", "wave 3",
                "émigration", "pilot", "Pilot", "finance", "sales",
                "it", "ops" }
local WORKLOADS = { { "Teams", "Exchange", "ODSP" }, { "Teams" },
                    { "ODSP" }, { "Exchange", "Teams" }, { "exchange" } }
local SERVICES = { "ODSP", "Meeting", "Teams", "Exchange", "teams" }
local SSTATUS = { "notStarted", "inProgress", "completed", "failed",
                  "synced", "valid" }
local ACTIVE_NOT = { completed = true, cancelled = true,
                     pendingDelete = true, deleted = true }
local TIMES = { "2025-11-06T09:30:00Z", "2025-11-06T12:00:00.5+01:00",
                "2025-11-07T00:00:00Z", "2025-11-20T08:00:00.1234567Z",
                "2025-12-09T22:48:03.092Z", "2026-03-01T00:00:00-05:00",
                "2025-11-05T00:00:00Z" }
local ADVANCES = { 30, 60, 120, 300, 600, 900, 1800, 3600, 4 * 3600,
                   86400, 8 * 86400 }

-- tokens are made once per tenant: making one costs more than a request
local WRITE_TOKENS, READ_TOKENS = {}, {}
for _, t in ipairs(TENANTS) do
  WRITE_TOKENS[t] = F.token { tid = t, upn = "ops@" .. t:sub(1, 8),
                              scp = F.WRITE }
  READ_TOKENS[t] = F.token { tid = t, oid = "reader", roles = { F.READ } }
end
local function write_token(tenant) return WRITE_TOKENS[tenant] end
local function read_token(tenant) return READ_TOKENS[tenant] end

-- Requests -------------------------------------------------------------------

--- A random request: { method, url, body, headers, tenant } where
-- tenant is the one whose jobs it may touch.
local function random_request(r, known)
  local tenant = r.pick(TENANTS)
  local headers = { Authorization = write_token(tenant) }
  if tenant == F.TARGET and r.chance(0.3) then headers = nil end
  local jobs = known[tenant]
  local jobkey
  if #jobs > 0 and r.chance(0.9) then
    local j = r.pick(jobs)
    jobkey = r.chance(0.8) and j.id or j.name
  else
    jobkey = r.pick { "nope", "00000000-0000-4000-8000-000000000000",
                      r.pick(NAMES) }
  end
  local job_url = JOBS .. "/" .. jobkey:gsub(" ", "%%20")
  local roll = r.int(100)
  local req = { tenant = tenant, headers = headers }

  if roll <= 18 then                                   -- create a job
    local res = {}
    for _ = 1, r.int(4) do res[#res + 1] = r.pick(USERS) end
    local body = {
      displayName = r.pick(NAMES), completeAfterDateTime = r.pick(TIMES),
      sourceTenantId = F.SOURCE, resourceType = r.pick { "Users", "users" },
      resources = res, workloads = r.pick(WORKLOADS),
      exchangeSettings = { sourceEndpoint = "e", targetDeliveryDomain = "d" },
    }
    local bad = r.int(12)
    if bad == 1 then body.displayName = null
    elseif bad == 2 then body.resources = { "not-a-guid" }
    elseif bad == 3 then body.completeAfterDateTime = "2025-02-30T00:00:00Z"
    elseif bad == 4 then body.status = "completed"
    elseif bad == 5 then body.color = "red"
    elseif bad == 6 then body.workloads = { "Teams", "teams" }
    elseif bad == 7 then body.sourceTenantId = tenant
    end
    req[1], req[2], req[3] = "POST", JOBS, body
    if bad == 8 then req[3] = encode(body):sub(1, r.int(40)) end
  elseif roll <= 28 then                               -- create a task
    local body = { taskType = r.pick { "user", "User" },
                   lastUpdatedDateTime = r.pick(TIMES) }
    if r.chance(0.7) then body.id = r.pick(USERS) end
    if r.chance(0.4) then
      local cs = {}
      for _ = 1, r.int(3) - 1 do
        cs[#cs + 1] = { service = r.pick(SERVICES), status = r.pick(SSTATUS),
                        message = r.chance(0.3) and "m" or nil,
                        errors = r.chance(0.2) and { { code = "c",
                                                       message = "x" } }
                                 or nil }
      end
      body.currentStatus = cs
    end
    if r.chance(0.08) then body.taskType = "group" end
    req[1], req[2], req[3] = "POST", job_url .. "/users", body
  elseif roll <= 36 then                               -- PATCH
    local body = { completeAfterDateTime = r.pick(TIMES) }
    if r.chance(0.15) then body = { displayName = "renamed" } end
    if r.chance(0.1) then body = {} end
    req[1], req[2], req[3] = "PATCH", job_url, body
  elseif roll <= 43 then
    req[1], req[2] = "POST", job_url .. "/validate"
  elseif roll <= 52 then
    req[1], req[2] = "POST", job_url .. "/migrate"
  elseif roll <= 57 then
    req[1], req[2] = "POST", job_url .. "/cancel"
  elseif roll <= 62 then
    req[1], req[2] = "DELETE", job_url
  elseif roll <= 67 then                               -- cancel a task
    req[1], req[2] = "POST", job_url .. "/users/" .. r.pick(USERS) ..
                     "/cancel"
  elseif roll <= 75 then                               -- reads
    req[1] = "GET"
    req[2] = r.pick { job_url, job_url .. "/users?$top=2",
                      job_url .. "/users/" .. r.pick(USERS),
                      JOBS .. "?$top=3&$count=true",
                      JOBS .. "?$filter=status%20eq%20'submitted'" }
    if r.chance(0.3) then req.headers = { Authorization =
      read_token(tenant) } end
  elseif roll <= 87 then                               -- the clock
    req[1], req[2] = "ADVANCE", r.pick(ADVANCES)
  else                                                 -- refusals
    local k = r.int(6)
    if k == 1 then
      req[1], req[2], req[3] = "POST", JOBS, '{"displayName":'
    elseif k == 2 then
      req[1], req[2] = "PUT", job_url
    elseif k == 3 then
      req[1], req[2], req[3] = "POST", JOBS, {}
      req.headers = { Authorization = read_token(tenant) }
    elseif k == 4 then
      req[1], req[2] = "POST", job_url .. "/validate"
      req.headers = { Authorization = "Bearer junk" }
    elseif k == 5 then
      req[1], req[2] = "GET", JOBS .. "?$top=0"
    else
      req[1], req[2], req[3] = "POST", job_url .. "/migrate", { x = 1 }
    end
  end
  return req
end

-- The store as the API shows it --------------------------------------------

local function get(graph, url, tenant)
  return graph:request("GET", url, nil,
                       { Authorization = read_token(tenant) })
end

--- Every job and task of every tenant: { text = <one text>, [tenant] =
-- { jobs = { {job=, tasks=} ... }, count = @odata.count } }
local function read_store(graph, r)
  local parts, state = { graph:now() }, {}
  for _, t in ipairs(TENANTS) do
    local s = { jobs = {} }
    state[t] = s
    -- pages of a random size, so paging is walked too
    local url = JOBS .. "?$count=true&$top=" .. r.int(9)
    while url do
      local status, page = get(graph, url, t)
      assert(status == 200, "listing jobs gave " .. status)
      s.count = s.count or page["@odata.count"]
      for _, job in ipairs(page.value) do
        local item = { job = job, tasks = {} }
        s.jobs[#s.jobs + 1] = item
        parts[#parts + 1] = encode(job)
        local turl = JOBS .. "/" .. job.id .. "/users?$top=999"
        while turl do
          local s2, tp = get(graph, turl, t)
          assert(s2 == 200, "listing tasks gave " .. s2)
          for _, task in ipairs(tp.value) do
            item.tasks[#item.tasks + 1] = task
            parts[#parts + 1] = encode(task)
          end
          turl = tp["@odata.nextLink"]
        end
      end
      url = page["@odata.nextLink"]
    end
  end
  state.text = table.concat(parts, "\n")
  return state
end

-- bytewise a < b (the query core compares strings by bytes)
local function bytes_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

--- $filter and $orderby over the listing of tenant `t`: a status filter
-- gives exactly the jobs in that status; ordered by displayName through
-- pages of 2, the same jobs come back once each, in byte order.
local function check_queries(graph, s, t, r, where)
  if #s.jobs == 0 then return end
  local status = s.jobs[r.int(#s.jobs)].job.status
  local want = {}
  for _, item in ipairs(s.jobs) do
    if item.job.status == status then want[#want + 1] = item.job.id end
  end
  local code, page = get(graph, JOBS .. "?$filter=status%20eq%20'" ..
                         status .. "'&$top=999", t)
  assert(code == 200, where .. ": $filter gave " .. code)
  local got = {}
  for i, job in ipairs(page.value) do got[i] = job.id end
  assert(table.concat(got, ",") == table.concat(want, ","), where ..
         ": $filter=status eq '" .. status .. "' differs from the listing")
  local url, seen, names = JOBS .. "?$orderby=displayName&$top=2", {}, {}
  while url do
    local c2, p2 = get(graph, url, t)
    assert(c2 == 200, where .. ": $orderby page gave " .. c2)
    for _, job in ipairs(p2.value) do
      assert(not seen[job.id], where .. ": $orderby gave " .. job.id ..
             " twice")
      seen[job.id] = true
      names[#names + 1] = job.displayName
    end
    url = p2["@odata.nextLink"]
  end
  assert(#names == #s.jobs, where .. ": $orderby gave " .. #names ..
         " jobs, the listing " .. #s.jobs)
  for i = 2, #names do
    assert(not bytes_less(names[i], names[i - 1]), where ..
           ": $orderby=displayName out of order")
  end
end

--- The invariants; `cancelled[jobid][user]` holds the tasks cancelled
-- out of their jobs (a task with no entries shows no sign of it).
local function check(graph, state, cancelled, where, r)
  local total = 0
  local qt = TENANTS[r.int(#TENANTS)]
  check_queries(graph, state[qt], qt, r, where)
  for _, t in ipairs(TENANTS) do
    local s = state[t]
    assert(s.count == #s.jobs, where .. ": @odata.count " ..
           tostring(s.count) .. " but " .. #s.jobs .. " jobs listed")
    local held, names, ids = {}, {}, {}
    for _, item in ipairs(s.jobs) do
      local job = item.job
      assert(not ids[job.id], where .. ": job " .. job.id .. " listed twice")
      ids[job.id] = true
      local lname = job.displayName:lower()
      assert(not names[lname], where .. ": name '" .. job.displayName ..
             "' twice in a tenant")
      names[lname] = true
      -- every listed job can be fetched, as listed
      local status, again = get(graph, JOBS .. "/" .. job.id, t)
      assert(status == 200, where .. ": listed job " .. job.id ..
             " gave " .. status)
      assert(encode(again):gsub('"@odata.context":"[^"]*",', "") ==
             encode(job), where .. ": job " .. job.id .. " fetched differs")
      -- resources are the tasks, in order; /users/$count agrees
      local tids = {}
      for i, task in ipairs(item.tasks) do tids[i] = task.id end
      assert(table.concat(tids, ",") == table.concat(job.resources, ","),
             where .. ": job " .. job.id .. " resources and users differ")
      local sc, n = get(graph, JOBS .. "/" .. job.id .. "/users/$count", t)
      assert(sc == 200 and n == tostring(#item.tasks), where ..
             ": /users/$count of " .. job.id .. " is " .. tostring(n))
      total = total + #item.tasks
      -- no user in two active jobs
      if not ACTIVE_NOT[job.status] then
        for _, task in ipairs(item.tasks) do
          if not (cancelled[job.id] and cancelled[job.id][task.id]) then
            assert(not held[task.id], where .. ": user " .. task.id ..
                   " is in active jobs " .. tostring(held[task.id]) ..
                   " and " .. job.id)
            held[task.id] = job.id
          end
        end
      end
    end
  end
  assert(graph._core:stats().tasks == total, where .. ": the store holds " ..
         graph._core:stats().tasks .. " tasks, the listings " .. total)
end

-- The walk -----------------------------------------------------------------

local function new_graph()
  return F.graph { seed = SEED, failure_rate = 0.04 }
end

local function send(graph, req)
  if req[1] == "ADVANCE" then
    graph:advance(req[2])
    return 0
  end
  return graph:request(req[1], req[2], req[3], req.headers)
end

describe("a seeded random walk through the API", function()
  it(("keeps the invariants for %d steps (seed %d)"):format(STEPS, SEED),
     function()
    local r = generator(SEED)
    local graph = new_graph()
    local known = {}
    for _, t in ipairs(TENANTS) do known[t] = {} end
    local cancelled = {}
    local done = {}              -- the successful requests, for the replay
    local counts = { ok = 0, refused = 0, advance = 0 }
    local state = read_store(graph, r)
    check(graph, state, cancelled, "start", r)
    for step = 1, STEPS do
      local req = random_request(r, known)
      local where = ("step %d (seed %d, %s %s)"):format(step, SEED,
        req[1], tostring(req[2]))
      local status, body = send(graph, req)
      local after = read_store(graph, r)
      if status >= 400 then
        counts.refused = counts.refused + 1
        assert(type(body) == "table" and body.error, where .. ": " ..
               status .. " without an error body")
        assert(after.text == state.text, where .. ": refused with " ..
               status .. " (" .. tostring(body.error.message) ..
               ") but the store changed")
      else
        if status == 0 then counts.advance = counts.advance + 1
        else counts.ok = counts.ok + 1 end
        done[#done + 1] = { req = req, status = status,
                            body = type(body) == "table" and encode(body) }
        if req[1] == "POST" and req[2] == JOBS then
          local list = known[req.tenant]
          list[#list + 1] = { id = body.id, name = body.displayName }
        elseif req[1] == "POST" and req[2]:match("/cancel$") and
               req[2]:match("/users/") then
          local jid = req[2]:match("/users/") and
                      body.message:match("from batch: (%S+) was accepted")
          local uid = req[2]:match("/users/([^/]+)/cancel$")
          cancelled[jid] = cancelled[jid] or {}
          cancelled[jid][uid] = true
        end
      end
      check(graph, after, cancelled, where, r)
      state = after
    end
    -- the walk did what it is for
    assert.is_true(counts.ok > STEPS // 10, "too few successes")
    assert.is_true(counts.refused > STEPS // 10, "too few refusals")

    -- the successful requests alone: same answers, same store
    local g2 = new_graph()
    local r2 = generator(SEED)
    for i, d in ipairs(done) do
      local status, body = send(g2, d.req)
      assert.are.same({ i, d.status, d.body },
                      { i, status, type(body) == "table" and encode(body) })
    end
    assert.are.equal(state.text, read_store(g2, r2).text)
  end)
end)
