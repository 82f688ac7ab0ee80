-- State that lasts: graph:snapshot / crosstenant.restore (forks), and
-- graph:save / crosstenant.open (a store backed by an SQLite file).
--
--  * a store with jobs in every status, several tenants, scripted
--    outcomes not yet applied and a seeded failure rate is snapshot and
--    restored; the same 500 random requests and clock moves on both give
--    byte-identical answers, listings and images;
--  * bad images (cut at every 1/50th, flipped bytes, a newer format, empty,
--    foreign) give nil and the exact message, never a crash, never half a
--    store;
--  * a file-backed store journals every accepted change before the call
--    returns, writes nothing for a refused one, comes back identical
--    after a clean close and after the process is killed (kill -9), and
--    refuses bad files with a message.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local encode = crosstenant.encode
local JOBS = F.JOBS

local TIMINGS = {
  validate_submitted = 1000, validate_processing = 1000,
  validate_in_progress = 1000, processing = 1000, sync = 1000,
  cutover = 1000, cancel = 1000, delete_pending = 1000, deleted = 1000,
}
local OTHER = "11111111-1111-4111-8111-111111111111"
local PAST = "2025-11-06T09:00:01Z"       -- cutover may start at once
local LATER = "2025-12-09T22:48:03.092Z"

local EVERY_STATUS = {
  "submitted", "validateSubmitted", "validateProcessing",
  "validateInProgress", "validatePassed", "validateFailed", "processing",
  "inProgress", "cuttingOver", "completed", "completedWithErrors",
  "failed", "pendingCancel", "cancelled", "pendingDelete", "deleted",
}

-- a small xorshift64* of our own, apart from math.random
local function generator(seed)
  local x = seed ~ 0x5DEECE66D
  local r = {}
  function r.int(n)
    x = x ~ (x >> 12)
    x = x ~ (x << 25)
    x = x ~ (x >> 27)
    return ((x * 0x2545F4914F6CDD1D) >> 33) % n + 1
  end
  function r.pick(t) return t[r.int(#t)] end
  return r
end

local n_jobs = 0
local function new_job(g, over)
  n_jobs = n_jobs + 1
  local users = F.users(over and over.n or 1, string.format("%08x", n_jobs))
  local job = assert(g:create_job(F.job_body {
    displayName = "job " .. n_jobs, resources = users,
    completeAfterDateTime = over and over.cad or LATER,
    workloads = over and over.workloads or nil }))
  return job.id, users
end

local function status_of(g, id)
  local job = g:get_job(id)
  return job and job.status or "gone"
end

local function run_to(g, id, statuses)
  local set = {}
  for _, s in ipairs(statuses) do set[s] = true end
  assert(g:run_until(function(x) return set[status_of(x, id)] end, "P30D"))
end

--- A store with a job in every status (timings of 1,000 s a step), jobs
-- of a second tenant, tasks with messages and errors, scripted outcomes
-- not yet applied, and a seeded failure rate.  Returns the store and the
-- job ids by status.
local function every_status_store()
  local g = F.graph { timings = TIMINGS, seed = 99,
                      failure_rate = { validate = 0.02, migrate = 0.02 } }
  local by = {}
  local function validated(over)
    local id, users = new_job(g, over)
    assert(g:validate_job(id))
    run_to(g, id, { "validatePassed" })
    return id, users
  end
  local function migrated(over, want)
    local id, users = validated(over)
    assert(g:migrate_job(id))
    run_to(g, id, want or { "completed" })
    return id, users
  end
  -- the ones that stay
  by.submitted = new_job(g)
  by.validatePassed = validated()
  do
    local id, users = new_job(g)
    assert(g:fail { user = users[1], service = "ODSP", code = "E1",
                    message = "no licence" })
    assert(g:validate_job(id))
    run_to(g, id, { "validateFailed" })
    by.validateFailed = id
  end
  by.completed = migrated { cad = PAST }
  do
    local id, users = validated { cad = PAST, n = 2 }
    assert(g:fail { user = users[2], service = "Exchange", phase = "migrate" })
    assert(g:migrate_job(id))
    run_to(g, id, { "completedWithErrors" })
    by.completedWithErrors = id
    local fid, fusers = validated { cad = PAST }
    assert(g:fail { user = fusers[1], service = "ODSP", phase = "migrate",
                    status = "error", code = "X", message = "broke" })
    assert(g:migrate_job(fid))
    run_to(g, fid, { "failed" })
    by.failed = fid
  end
  by.cancelled = new_job(g)
  assert(g:cancel_job(by.cancelled))
  run_to(g, by.cancelled, { "cancelled" })
  -- a task added with entries, messages and errors
  assert(g:create_task(by.submitted, {
    taskType = "User", lastUpdatedDateTime = "2025-11-06T09:00:00.1234567Z",
    currentStatus = { { service = "ODSP", status = "failed", message = "m",
                        errors = { { code = "c1", message = "x" },
                                   { code = "c2", message = "\0y" } } } } }))
  -- the other tenant, through requests
  local tok = F.token { tid = OTHER, upn = "ops@other", scp = F.WRITE }
  local st, body = g:request("POST", JOBS, F.job_body {
    displayName = "other", resources = F.users(2, "0ddddddd") },
    { Authorization = tok })
  assert(st == 201, encode(body))
  -- scripted outcomes not yet applied
  assert(g:fail { user = F.users(1, "eeeeeeee")[1], service = "Teams",
                  phase = "migrate", code = "later", message = "pending" })
  -- the ones that move: started 2,500, 1,500 and 500 s before the end
  local completed = {}
  for i = 1, 2 do completed[i] = migrated { cad = PAST } end
  local passed = {}
  for i = 1, 3 do passed[i] = validated { cad = PAST } end
  local fresh = {}
  for i = 1, 4 do fresh[i] = new_job(g) end
  assert(g:migrate_job(passed[1]))          -- cuttingOver at the end
  by.cuttingOver = passed[1]
  assert(g:validate_job(fresh[1]))          -- validateInProgress
  by.validateInProgress = fresh[1]
  g:advance(1000)
  assert(g:delete_job(completed[1]))        -- deleted
  by.deleted = completed[1]
  assert(g:validate_job(fresh[2]))          -- validateProcessing
  by.validateProcessing = fresh[2]
  assert(g:migrate_job(passed[2]))          -- inProgress
  by.inProgress = passed[2]
  g:advance(1000)
  assert(g:validate_job(fresh[3]))
  by.validateSubmitted = fresh[3]
  assert(g:migrate_job(passed[3]))
  by.processing = passed[3]
  assert(g:cancel_job(fresh[4]))
  by.pendingCancel = fresh[4]
  assert(g:delete_job(completed[2]))
  by.pendingDelete = completed[2]
  g:advance(500)
  return g, by
end

-- Random requests -------------------------------------------------------------

local TENANTS = { F.TARGET, OTHER }
local TOKENS = {}
for _, t in ipairs(TENANTS) do
  TOKENS[t] = F.token { tid = t, upn = "ops@" .. t:sub(1, 8), scp = F.WRITE }
end
local USERS = F.users(30, "cccccccc")
local ADVANCES = { 10, 100, 500, 1000, 3000, 86400 }

--- Every job of a tenant with every task, as one text.
local function listing(g, tenant)
  local out = {}
  local url = JOBS .. "?$top=7&$count=true"
  while url do
    local st, page = g:request("GET", url, nil, { Authorization = TOKENS[tenant] })
    assert(st == 200)
    out[#out + 1] = encode(page)
    for _, job in ipairs(page.value) do
      local _, tasks = g:request("GET", JOBS .. "/" .. job.id .. "/users",
                                 nil, { Authorization = TOKENS[tenant] })
      out[#out + 1] = encode(tasks)
    end
    url = page["@odata.nextLink"]
  end
  return table.concat(out, "\n")
end

--- One random request or clock move, the same on every store given the
-- same generator state and the same jobs list.
local function random_step(r, g, names)
  local tenant = r.pick(TENANTS)
  local headers = { Authorization = TOKENS[tenant] }
  if tenant == F.TARGET and r.int(3) == 1 then headers = nil end
  local _, page = g:request("GET", JOBS .. "?$top=999", nil,
                            { Authorization = TOKENS[tenant] })
  local jobs = page.value
  local key = #jobs > 0 and r.pick(jobs).id or "nope"
  local url = JOBS .. "/" .. key
  local roll = r.int(10)
  if roll == 1 then
    local res = {}
    for i = 1, r.int(3) do res[i] = r.pick(USERS) end
    names[1] = names[1] + 1
    return g:request("POST", JOBS, F.job_body {
      displayName = "r" .. (r.int(4) == 1 and 1 or names[1]), resources = res,
      completeAfterDateTime = r.pick { PAST, LATER } }, headers)
  elseif roll == 2 then
    return g:request("POST", url .. "/users", {
      taskType = "user", lastUpdatedDateTime = F.NOW,
      id = r.int(2) == 1 and r.pick(USERS) or nil }, headers)
  elseif roll == 3 then
    return g:request("POST", url .. r.pick { "/validate", "/migrate",
                                             "/cancel" }, nil, headers)
  elseif roll == 4 then
    return g:request(r.pick { "DELETE", "GET" }, url, nil, headers)
  elseif roll == 5 then
    return g:request("PATCH", url, { completeAfterDateTime =
      r.pick { PAST, LATER, "2025-11-10T00:00:00Z" } }, headers)
  elseif roll == 6 then
    local k = #jobs > 0 and r.pick(jobs).resources or {}
    return g:request("POST", url .. "/users/" .. (k[1] or "x") .. "/cancel",
                     nil, headers)
  elseif roll == 7 then
    return g:request("POST", JOBS, '{"displayName":', headers)
  else
    return #g:advance(r.pick(ADVANCES))
  end
end

local function answer(status, body, headers)
  return encode { status = status, body = body or crosstenant.null,
                  headers = headers or crosstenant.null }
end

describe("graph:snapshot and crosstenant.restore", function()
  local g, by, image

  setup(function()
    g, by = every_status_store()
    image = g:snapshot()
  end)

  it("holds a store with a job in every status", function()
    for _, s in ipairs(EVERY_STATUS) do
      assert.are.equal(s, status_of(g, by[s]), s)
    end
    assert.is_true(#image > 1000)
    assert.are.equal("\137CTSNAP\n", image:sub(1, 8))
  end)

  it("gives a store that writes the same image and lists the same", function()
    local r = assert(crosstenant.restore(image))
    assert.is_true(image == r:snapshot())
    for _, t in ipairs(TENANTS) do
      assert.are.equal(listing(g, t), listing(r, t))
    end
    assert.are.equal(g:now(), r:now())
    assert.is_true(g:snapshot() == r:snapshot())   -- as many request ids
    -- the original is untouched by the fork's changes
    local before = g:snapshot()
    assert(r:validate_job(by.submitted))
    r:advance(86400)
    assert.are.equal("submitted", status_of(g, by.submitted))
    assert.is_true(before == g:snapshot())
  end)

  it("answers the same 500 random requests and clock moves byte for byte",
     function()
    local a = assert(crosstenant.restore(image))
    local b = assert(crosstenant.restore(image))
    local ra, rb = generator(20251129), generator(20251129)
    local na, nb = { 0 }, { 0 }
    local created, refused = 0, 0
    for i = 1, 500 do
      local x = answer(random_step(ra, a, na))
      local y = answer(random_step(rb, b, nb))
      assert.are.equal(x, y, "step " .. i)
      if x:find('"status":201') then created = created + 1 end
      if x:find('"status":4') then refused = refused + 1 end
    end
    assert.is_true(created > 20 and refused > 50)
    for _, t in ipairs(TENANTS) do
      assert.are.equal(listing(a, t), listing(b, t))
    end
    assert.is_true(a:snapshot() == b:snapshot())
  end)

  it("gives the original's answers: ids, request-ids, outcomes", function()
    local orig = every_status_store()
    local fork = assert(crosstenant.restore(orig:snapshot()))
    local ra, rb = generator(7), generator(7)
    local na, nb = { 0 }, { 0 }
    for i = 1, 200 do
      assert.are.equal(answer(random_step(ra, orig, na)),
                       answer(random_step(rb, fork, nb)), "step " .. i)
    end
    assert.is_true(orig:snapshot() == fork:snapshot())
  end)

  it("keeps options, defaults and timings, not observers", function()
    local o = crosstenant.new { seed = 5, now = F.NOW, strict = false,
                                tenant = OTHER, user = "me@x",
                                require_token = true,
                                timings = { cancel = 7 } }
    local seen = 0
    o:on("job", function() seen = seen + 1 end)
    local r = assert(crosstenant.restore(o:snapshot()))
    assert.are.same({ OTHER, "me@x", true, false },
                    { r._tenant, r._user, r._require_token, r._strict })
    -- require_token: a request without a token is 401
    assert.are.equal(401, (r:request("GET", JOBS)))
    -- strict = false: read-only properties are ignored
    local tok = F.token { tid = OTHER, upn = "me@x", scp = F.WRITE }
    local st = r:request("POST", JOBS, F.job_body { status = "completed" },
                         { Authorization = tok })
    assert.are.equal(201, st)
    local _, job = r:request("GET", JOBS .. "?$top=1", nil,
                             { Authorization = tok })
    local id = job.value[1].id
    assert.are.equal(202, (r:request("POST", JOBS .. "/" .. id .. "/cancel",
                                     nil, { Authorization = tok })))
    assert.are.equal(0, #r:advance(6))           -- cancel takes 7 s
    assert.is_true(#r:advance(1) > 0)
    assert.are.equal(0, seen)                    -- the original's observer
  end)

  it("keeps throttling and transient faults: rules, rates, windows, " ..
     "the fault generator", function()
    local o = F.graph { fault_rate = { [503] = 0.2 }, retry_after = 3,
                        throttle = { requests = 4, per = 60 } }
    o:fault { status = 429, times = 2, method = "POST",
              path = "/crossTenantMigrationJobs" }
    o:fault { status = 504, times = 5, path = "/crossTenantMigrationJobs/*" }
    for _ = 1, 5 do o:request("GET", JOBS) end  -- windows open, draws made
    local r = assert(crosstenant.restore(o:snapshot()))
    assert.is_true(o:snapshot() == r:snapshot())
    assert.are.same(o:faults(), r:faults())
    local refused = 0
    for i = 1, 60 do
      local post = i % 3 == 0
      local x = answer(o:request(post and "POST" or "GET", JOBS,
        post and F.job_body { displayName = "f" .. i } or nil))
      local y = answer(r:request(post and "POST" or "GET", JOBS,
        post and F.job_body { displayName = "f" .. i } or nil))
      assert.are.equal(x, y, "request " .. i)
      if x:find('"status":5') or x:find('"status":429') then
        refused = refused + 1
      end
      if i % 7 == 0 then
        o:advance(30)
        r:advance(30)
      end
    end
    assert.is_true(refused > 10)
    assert.are.same(o:fault_counts(), r:fault_counts())
    assert.is_true(o:snapshot() == r:snapshot())
  end)

  it("keeps strings whole, NULs included, in images and journals",
     function()
    local path = os.tmpname()
    os.remove(path)
    local w = assert(crosstenant.open(path, { seed = 1, now = F.NOW }))
    local job = assert(w:create_job(F.job_body { displayName = "a\0b",
      exchangeSettings = { sourceEndpoint = "e\0f",
                           targetDeliveryDomain = "d" } }))
    assert(w:create_task(job.id, { taskType = "User",
      lastUpdatedDateTime = F.NOW, currentStatus = { { service = "ODSP",
        message = "m\0n", errors = { { code = "c\0", message = "\0" } } } } }))
    assert(w:fail { user = F.users(1, "dddddddd")[1], service = "ODSP",
                    code = "x\0y", message = "\0" })
    local want = encode(w:list_tasks(job.id)) .. encode(w:get_job(job.id))
    local r = assert(crosstenant.restore(w:snapshot()))
    assert.are.equal(want, encode(r:list_tasks(job.id)) ..
                           encode(r:get_job(job.id)))
    getmetatable(w._core).__gc(w._core)         -- no fold: the journal
    local h = assert(crosstenant.open(path))
    assert.are.equal(want, encode(h:list_tasks(job.id)) ..
                           encode(h:get_job(job.id)))
    assert.is_true(r:snapshot() == h:snapshot())
    assert.is_truthy(encode(h:get_job(job.id)):find("a\\u0000b", 1, true))
    h:close()
    os.remove(path)
  end)

  it("raises for an argument that is not a string", function()
    assert.has_error(function() crosstenant.restore({}) end,
      "bad argument #1 to 'restore' (string expected, got table)")
    assert.has_error(function() crosstenant.restore() end,
      "bad argument #1 to 'restore' (string expected, got nil)")
  end)

  describe("refuses a bad image", function()
    local function refused(img, want)
      local r, err = crosstenant.restore(img)
      assert.is_nil(r)
      if want then assert.are.equal(want, err) end
      return err
    end

    it("empty, or foreign", function()
      refused("", "not a crosstenant snapshot: the image is empty")
      refused("SQLite format 3\0", "not a crosstenant snapshot")
      refused('{"value":[]}', "not a crosstenant snapshot")
      refused("\137CTS", "truncated at byte 4")
    end)

    it("cut at every 1/50th", function()
      for k = 1, 49 do
        local n = #image * k // 50
        refused(image:sub(1, n), "truncated at byte " .. n)
      end
    end)

    it("of a newer format", function()
      refused(image:sub(1, 8) .. "\3\0\0\0" .. image:sub(13),
              "snapshot format 3 is newer than this crosstenant (1)")
      refused(image:sub(1, 8) .. "\2\0\0\0" .. image:sub(13),
              "snapshot format 2 is newer than this crosstenant (1)")
    end)

    it("with bytes flipped", function()
      local r = generator(3)
      for _ = 1, 200 do
        local at = 24 + r.int(#image - 32)
        local b = image:byte(at) ~ (1 << (r.int(8) - 1))
        local bad = image:sub(1, at - 1) .. string.char(b) .. image:sub(at + 1)
        refused(bad, "corrupt snapshot: checksum mismatch at byte " ..
                (#image - 8))
      end
    end)
  end)
end)

-- Files ---------------------------------------------------------------------

local function tmpname()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".db"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function cleanup(path)
  os.remove(path)
  os.remove(path .. "-wal")
  os.remove(path .. "-shm")
end

describe("crosstenant.open", function()
  local path

  before_each(function() path = tmpname() end)
  after_each(function() cleanup(path) end)

  it("creates the file with a new store made from the options", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW }))
    assert.are.equal(F.NOW, g:now())
    assert.is_truthy(read_file(path))
    local ref = F.graph { seed = 3 }
    assert.is_true(ref:snapshot() == g:snapshot())
    g:close()
  end)

  it("commits each accepted change before it returns, and resumes " ..
     "exactly, clock and ids included", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW }))
    local id = new_job(g)
    assert(g:validate_job(id))
    g:advance(3600)
    assert(g:fail { user = F.users(1, "abababab")[1], service = "ODSP" })
    assert.are.equal(4, g._core:journal_rows())
    local image = g:snapshot()
    -- not closed: the journal alone holds the changes
    local again = select(2, pcall(crosstenant.open, path))
    assert.are.equal(path .. " is in use by another store", select(2,
      crosstenant.open(path)))
    assert.is_nil(again)
    -- let go of the file without folding, as the collector does
    getmetatable(g._core).__gc(g._core)
    local h = assert(crosstenant.open(path))
    assert.are.equal(4, h._core:journal_rows())
    assert.is_true(image == h:snapshot())
    -- the same next ids as a store that never stopped
    local ref = assert(crosstenant.restore(image))
    assert.are.equal(encode(ref:create_job(F.job_body { displayName = "n" })),
                     encode(h:create_job(F.job_body { displayName = "n" })))
    assert.are.equal(encode({ ref:request("GET", JOBS .. "/nope") }),
                     encode({ h:request("GET", JOBS .. "/nope") }))
    h:close()
    -- close folded the journal into the image
    local k = assert(crosstenant.open(path))
    assert.are.equal(0, k._core:journal_rows())
    assert.is_true(ref:snapshot() == k:snapshot())
    k:close()
  end)

  it("replays 400 random requests and clock moves to the very same " ..
     "store", function()
    local image = every_status_store():snapshot()
    local ref = assert(crosstenant.restore(image))
    assert.is_true(ref:save(path))
    local g = assert(crosstenant.open(path))
    local ra, rb = generator(99), generator(99)
    local na, nb = { 0 }, { 0 }
    local empties = 0
    for i = 1, 400 do
      assert.are.equal(answer(random_step(ra, ref, na)),
                       answer(random_step(rb, g, nb)), "step " .. i)
      -- scripted outcomes, some with bodies of empty tables
      if i % 50 == 0 then
        for _, x in ipairs { ref, g } do
          assert(x:fail { user = USERS[i // 50], service = "Exchange",
                          phase = "migrate", message = "m" .. i })
          local _, page = x:request("GET", JOBS .. "?$filter=status eq " ..
                                    "'submitted'&$top=1")
          if page.value[1] and x:create_task(page.value[1].id, {
               taskType = "user", lastUpdatedDateTime = F.NOW,
               currentStatus = { { service = "ODSP" },
                                 { service = "Teams", errors = {} } } }) then
            empties = empties + 1
          end
        end
      end
    end
    assert.is_true(g._core:journal_rows() > 150)
    assert.is_true(empties >= 4)
    local want = ref:snapshot()
    assert.is_true(want == g:snapshot())
    getmetatable(g._core).__gc(g._core)         -- no fold: the journal
    local h = assert(crosstenant.open(path))
    assert.is_true(want == h:snapshot())
    h:close()
  end)

  it("writes nothing for a refused request or method", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW }))
    local id = new_job(g)
    local rows = g._core:journal_rows()
    local wal = read_file(path .. "-wal")
    assert.are.equal(409, (g:request("POST", JOBS, F.job_body {
      displayName = "job " .. n_jobs })))
    assert.is_nil(g:migrate_job(id))
    assert.are.equal(400, (g:request("POST", JOBS, "{")))
    assert.are.equal(200, (g:request("GET", JOBS)))
    g:advance(0)                    -- nothing due, the clock stays
    assert.are.equal(rows, g._core:journal_rows())
    assert.are.equal(wal, read_file(path .. "-wal"))
    g:close()
  end)

  it("keeps every change acknowledged before a kill -9", function()
    local script = [[
      package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
      local ct = require "crosstenant"
      local F = require "spec.support.fixtures"
      local g = assert(ct.open(arg[1], { seed = 11, now = F.NOW }))
      for i = 1, 40 do
        local job = g:create_job(F.job_body { displayName = "k" .. i,
          resources = F.users(2, string.format("%08x", 0xa000 + i)) })
        if i % 3 == 0 then g:validate_job(job.id) end
        if i % 5 == 0 then g:advance(600) end
        io.stdout:write(i, "\n")
        io.stdout:flush()
        if i == tonumber(arg[2]) then
          local pid = io.open("/proc/self/stat"):read("a"):match("^%d+")
          os.execute("kill -9 " .. pid)
        end
      end
    ]]
    local file = os.tmpname()
    write_file(file, script)
    local cpath = package.cpath:match("[^;]*build/[^;]*") or package.cpath
    for _, kill_at in ipairs { 1, 17, 33 } do
      cleanup(path)
      local cmd = string.format("LUA_CPATH='%s;;' lua5.4 %s %s %d 2>&1",
                                cpath, file, path, kill_at)
      local p = io.popen(cmd)
      local out = p:read("a")
      p:close()
      local acked
      for n in out:gmatch("(%d+)\n") do acked = tonumber(n) end
      assert.are.equal(kill_at, acked, out)
      local g = assert(crosstenant.open(path))
      -- the same store as one that made the same calls and never died
      local ref = F.graph { seed = 11 }
      for i = 1, acked do
        local job = ref:create_job(F.job_body { displayName = "k" .. i,
          resources = F.users(2, string.format("%08x", 0xa000 + i)) })
        if i % 3 == 0 then ref:validate_job(job.id) end
        if i % 5 == 0 then ref:advance(600) end
      end
      assert.are.equal(F.snapshot(ref), F.snapshot(g))
      g:close()
    end
    os.remove(file)
  end)

  it("journals scripted faults and keeps the fault options", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW,
                                              fault_rate = { [429] = 0.1 },
                                              retry_after = 9 }))
    g:fault { status = 503, times = 4, method = "GET",
              path = "/crossTenantMigrationJobs/*/users" }
    g:fault { status = 429 }
    assert.are.equal(2, g._core:journal_rows())
    local faults = g:faults()
    getmetatable(g._core).__gc(g._core)         -- no fold: the journal
    local h = assert(crosstenant.open(path))
    assert.are.same(faults, h:faults())
    assert.are.equal(9, h._retry_after)
    h:close()
  end)

  it("uses the file's options, not the ones given, when resuming", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW,
                                              user = "first@x" }))
    g:close()
    local h = assert(crosstenant.open(path, { seed = 4, user = "second@x" }))
    assert.are.equal("first@x", h._user)
    assert.are.equal(F.NOW, h:now())
    h:close()
  end)

  it("raises for arguments of the wrong type", function()
    assert.has_error(function() crosstenant.open(1) end,
      "bad argument #1 to 'open' (string expected, got number)")
    assert.has_error(function() crosstenant.open(path, { colour = 1 }) end,
      "crosstenant.open: unknown option 'colour'")
  end)

  describe("refuses a bad file", function()
    local base

    setup(function()
      base = tmpname()
      local g = assert(crosstenant.open(base, { seed = 3, now = F.NOW }))
      for _ = 1, 5 do new_job(g) end
      g:close()
    end)
    teardown(function() cleanup(base) end)

    local function refused(want)
      local g, err = crosstenant.open(path)
      assert.is_nil(g)
      if want then assert.are.equal(want, err) end
      return err
    end

    it("a directory, an empty file, a foreign file", function()
      local dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir " .. dir))
      assert.are.same({ nil, dir .. " is a directory" },
                      { crosstenant.open(dir) })
      os.remove(dir)
      write_file(path, "")
      refused(path .. " is empty: not a crosstenant store")
      write_file(path, "hello, world\n" .. ("x"):rep(200))
      refused(path .. " is not a crosstenant store")
      assert.are.equal("hello, world\n", read_file(path):sub(1, 13))
    end)

    it("a newer format, another application's database", function()
      local db = read_file(base)
      -- user_version sits at byte 60, application_id at 68 (big-endian)
      write_file(path, db:sub(1, 60) .. "\0\0\0\2" .. db:sub(65))
      refused(path .. ": store format 2 is newer than this crosstenant (1)")
      write_file(path, db:sub(1, 68) .. "ABCD" .. db:sub(73))
      refused(path .. " is not a crosstenant store")
    end)

    it("cut at every 1/50th: an error, or the very same store", function()
      local db = read_file(base)
      local want = assert(crosstenant.open(base))
      local image = want:snapshot()
      want:close()
      local errs = 0
      for k = 1, 49 do
        write_file(path, db:sub(1, #db * k // 50))
        local g, err = crosstenant.open(path)
        if g then      -- only free pages were cut
          assert.is_true(image == g:snapshot())
          getmetatable(g._core).__gc(g._core)
        else
          errs = errs + 1
          assert.is_string(err)
        end
        cleanup(path)
      end
      assert.is_true(errs >= 25)
    end)

    it("with bytes flipped: an error, or the very same store", function()
      local db = read_file(base)
      local want = assert(crosstenant.open(base))
      local image = want:snapshot()
      want:close()
      local r = generator(5)
      local opened, errs = 0, 0
      for _ = 1, 60 do
        local at = 100 + r.int(#db - 100)
        local b = db:byte(at) ~ (1 << (r.int(8) - 1))
        write_file(path, db:sub(1, at - 1) .. string.char(b) .. db:sub(at + 1))
        local g, err = crosstenant.open(path)
        if g then
          opened = opened + 1
          assert.is_true(image == g:snapshot())
          getmetatable(g._core).__gc(g._core)
        else
          errs = errs + 1
          assert.is_string(err)
        end
        cleanup(path)
      end
      assert.are.equal(60, opened + errs)
    end)
  end)
end)

describe("graph:save", function()
  local path

  before_each(function() path = tmpname() end)
  after_each(function() cleanup(path) end)

  it("writes an image crosstenant.open resumes", function()
    local g = F.graph()
    new_job(g)
    assert.is_true(g:save(path))
    local h = assert(crosstenant.open(path))
    assert.is_true(g:snapshot() == h:snapshot())
    h:close()
    -- saved again over its own kind of file
    new_job(g)
    assert.is_true(g:save(path))
    h = assert(crosstenant.open(path))
    assert.is_true(g:snapshot() == h:snapshot())
    h:close()
  end)

  it("folds the journal when a store saves to its own file, and is " ..
     "refused a file another store holds", function()
    local g = assert(crosstenant.open(path, { seed = 3, now = F.NOW }))
    new_job(g)
    assert.are.equal(1, g._core:journal_rows())
    assert.is_true(g:save(path))
    assert.are.equal(0, g._core:journal_rows())
    assert.are.same({ nil, path .. " is in use by another store" },
                    { F.graph():save(path) })
    local image = g:snapshot()
    getmetatable(g._core).__gc(g._core)
    local h = assert(crosstenant.open(path))
    assert.are.equal(0, h._core:journal_rows())
    assert.is_true(image == h:snapshot())
    h:close()
  end)

  it("never overwrites a file that is not a crosstenant store", function()
    write_file(path, "precious")
    assert.are.same({ nil, path .. " is not a crosstenant store" },
                    { F.graph():save(path) })
    assert.are.equal("precious", read_file(path))
    assert.has_error(function() F.graph():save() end,
      "bad argument #1 to 'save' (string expected, got nil)")
  end)
end)
