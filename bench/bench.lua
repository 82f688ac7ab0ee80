--- bench/bench.lua -- `make bench`: each figure of the model next to its
-- floor, measured in the same process on the same inputs, so the ratios
-- hold on a noisy machine.
--
--   lua5.4 bench/bench.lua [--rounds=7] [--only=1,2,3,4,5,6]
--                          [--one-process] [--verbose]
--
-- Each measure (1, 2, 4, 5, 6) runs in a fresh child process of its own
-- (this script with --child), its model and floor rounds alternating in
-- that process; memory (3) runs bench/mem.lua in two more children.  A
-- measure run after others inherits their Lua heap, string table and
-- malloc state, which moved measure 5's ratio between 0.5 and 1.9 (see
-- docs/performance.md); --one-process runs them all here regardless.
-- --only picks measures (for profiling one); --verbose prints each
-- round.
--
-- ns/op is the median over the rounds of (CPU seconds of a round / ops
-- in it), from os.clock().  Model and floor rounds alternate, so a slow
-- spell of the machine hits both.  Every result is consumed (a checksum
-- of a field), inputs are built before the clock starts and are the
-- same for the model and its floor, and nothing is kept from one
-- iteration to the next.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local U = dofile(dir .. "/util.lua")
local crosstenant = require "crosstenant"
local cjson = require "cjson"

local ROUNDS, LIST, CHILD, ONE, VERBOSE = 7, "1,2,3,4,5,6", false, false,
                                          false
for _, a in ipairs(arg) do
  local k, v = a:match("^%-%-(%w[%w-]*)=?(.*)$")
  if k == "rounds" and math.tointeger(tonumber(v)) then
    ROUNDS = math.tointeger(tonumber(v))
  elseif k == "only" and v:match("^[%d,]+$") then LIST = v
  elseif k == "child" then CHILD = true
  elseif k == "one-process" then ONE = true
  elseif k == "verbose" then VERBOSE = true
  else
    io.stderr:write("usage: lua5.4 bench/bench.lua [--rounds=N] ",
                    "[--only=1,2,...] [--one-process] [--verbose]\n")
    os.exit(2)
  end
end
if ROUNDS < 1 then ROUNDS = 1 end
local ONLY = {}
for n in LIST:gmatch("%d+") do ONLY[tonumber(n)] = true end
local LUA = arg[-1] or "lua5.4"   -- the interpreter running this script
local clock, median, guid = U.clock, U.median, U.guid
local PER_JOB = 2000

local rows = {}
local sink = 0          -- every checksum ends here, and is printed
local spread = 0        -- the last compare's model rounds: (max-min)/median

local function row(r)
  rows[#rows + 1] = r
  r.seq = #rows
  if r.ns then r.spread = spread end
  io.stderr:write(string.format("  %-58s %s\n", r.name,
                  r.ns and string.format("%.0f ns/op", r.ns) or
                  r.mem and string.format("%.1f B/task", r.mem) or
                  r.extra))
end

local function new_graph()
  return crosstenant.new { seed = 1, now = U.NOW }
end

--- Runs model(round) and floor(round) alternately ROUNDS times, after
-- one untimed warm-up round of each (round 0: the heap grows to size);
-- each returns seconds, ops, checksum.  Returns the median ns/op of each.
local function compare(model, floor)
  local m, f = {}, {}
  for r = 0, ROUNDS do
    U.collect()
    local s, n, sum = model(r)
    if r > 0 then m[r] = s / n * 1e9 end
    sink = sink + sum
    if floor then
      U.collect()
      s, n, sum = floor(r)
      if r > 0 then f[r] = s / n * 1e9 end
      sink = sink + sum
    end
  end
  if VERBOSE then
    local fmt = string.rep(" %.0f", ROUNDS)
    io.stderr:write("   model rounds:", fmt:format(table.unpack(m)), "\n")
    if floor then
      io.stderr:write("   floor rounds:", fmt:format(table.unpack(f)), "\n")
    end
  end
  spread = (math.max(table.unpack(m)) - math.min(table.unpack(m))) /
           median(m) * 100
  return median(m), floor and median(f) or nil
end

local M = {}             -- the measures, by number

-- 1. create_task, seed form ----------------------------------------------
-- Per round a fresh store, 10 jobs of 1 user, then 1,999 create_task
-- calls in each (19,990 calls).  The floor builds the identical result
-- table from the same properties table.
M[1] = function()
  io.stderr:write("1. create_task\n")
  local NJOBS, PER = 10, PER_JOB - 1
  local bodies, props, jobof = {}, {}, {}
  for k = 1, NJOBS do
    bodies[k] = U.job_body("create_task " .. k, 0x10000000, k, 1)
    for n = 1, PER do
      local i = (k - 1) * PER + n
      props[i] = U.task_props(guid(0x11000000, k, n))
      jobof[i] = k
    end
  end
  local N = #props
  local ids                       -- the job ids of the current round
  local first                     -- round 1's first result, to compare

  local function model(r)
    local g = new_graph()
    ids = {}
    for k = 1, NJOBS do ids[k] = assert(g:create_job(bodies[k])).id end
    local sum = 0
    local t0 = clock()
    for i = 1, N do
      local t, err = g:create_task(ids[jobof[i]], props[i])
      if not t then error(tostring(err)) end
      sum = sum + #t.id + #t.currentStatus[1].status
      if i == 1 and r == 0 then first = t end
    end
    local s = clock() - t0
    g:close()
    return s, N, sum
  end

  local CTX_END = "')/users/$entity"
  local TT, SSD = U.TASK_TYPE, U.SSD_TYPE
  local floor_first
  local function floor(r)
    local sum = 0
    local t0 = clock()
    for i = 1, N do
      local p = props[i]
      local t = {
        ["@odata.context"] = U.CONTEXT .. ids[jobof[i]] .. CTX_END,
        ["@odata.type"] = TT,
        id = p.id,
        taskType = p.taskType,
        lastUpdatedDateTime = p.lastUpdatedDateTime,
        -- every service of the job's workloads (all three)
        currentStatus = {
          { ["@odata.type"] = SSD, service = "ODSP", status = "notStarted",
            message = "", errors = {} },
          { ["@odata.type"] = SSD, service = "Meeting",
            status = "notStarted", message = "", errors = {} },
          { ["@odata.type"] = SSD, service = "Teams", status = "notStarted",
            message = "", errors = {} },
          { ["@odata.type"] = SSD, service = "Exchange",
            status = "notStarted", message = "", errors = {} } },
      }
      sum = sum + #t.id + #t.currentStatus[1].status
      if i == 1 and r == 0 then floor_first = t end
    end
    return clock() - t0, N, sum
  end

  local m, f = compare(model, floor)
  -- the floor builds the very table the model returns
  assert(crosstenant.encode(first) == crosstenant.encode(floor_first),
         "create_task: the floor's table differs from the model's")
  row { n = 1, name = "graph:create_task (seed properties, 1 entry)",
        ns = m, floor = f, floor_name = "same table, plain Lua",
        target = 2.0 }
end

-- 2. graph:request POST .../users + encode -------------------------------
M[2] = function()
  io.stderr:write("2. request POST .../users\n")
  local NJOBS, PER = 10, PER_JOB - 1
  local bodies, texts, jobof = {}, {}, {}
  for k = 1, NJOBS do
    bodies[k] = U.job_body("request " .. k, 0x20000000, k, 1)
    for n = 1, PER do
      local i = (k - 1) * PER + n
      texts[i] = U.task_text(guid(0x21000000, k, n))
      jobof[i] = k
    end
  end
  local N = #texts
  local responses = {}            -- the model's bodies, for the floor

  local function model()
    local g = new_graph()
    local urls = {}
    for k = 1, NJOBS do
      urls[k] = U.JOBS_URL .. assert(g:create_job(bodies[k])).id .. "/users"
    end
    local encode = crosstenant.encode
    local sum = 0
    local t0 = clock()
    for i = 1, N do
      local status, body = g:request("POST", urls[jobof[i]], texts[i])
      if status ~= 201 then error(encode(body)) end
      local json = encode(body)
      responses[i] = body
      sum = sum + status + #json
    end
    local s = clock() - t0
    g:close()
    return s, N, sum
  end

  local function floor()
    local decode, encode = cjson.decode, cjson.encode
    local sum = 0
    local t0 = clock()
    for i = 1, N do
      local req = decode(texts[i])
      local json = encode(responses[i])
      sum = sum + 201 + #json + #req.id
    end
    return clock() - t0, N, sum
  end

  local m, f = compare(model, floor)
  row { n = 2, name = 'graph:request("POST", ".../users", json) + encode',
        ns = m, floor = f, floor_name = "cjson.decode + cjson.encode",
        target = 1.3 }
end

-- 5. create_job with 2,000 users -----------------------------------------
-- Per round a fresh store and 10 jobs.  The floor builds, from the same
-- resources list, the 2,000 task tables the job holds (as list_tasks
-- returns them: four currentStatus entries with all workloads).
M[5] = function()
  io.stderr:write("5. create_job\n")
  local NJOBS = 10
  local bodies = {}
  for k = 1, NJOBS do
    bodies[k] = U.job_body("create_job " .. k, 0x50000000, k, PER_JOB)
  end

  local function model()
    local g = new_graph()
    local sum = 0
    local t0 = clock()
    for k = 1, NJOBS do
      local job, err = g:create_job(bodies[k])
      if not job then error(tostring(err)) end
      sum = sum + #job.resources + #job.resources[PER_JOB]
    end
    local s = clock() - t0
    g:close()
    return s, NJOBS, sum
  end

  local NOW = U.NOW
  local function floor()
    local sum = 0
    local t0 = clock()
    for k = 1, NJOBS do
      local tasks = {}
      for n, id in ipairs(bodies[k].resources) do
        tasks[n] = {
          id = id, taskType = "user", lastUpdatedDateTime = NOW,
          currentStatus = {
            { service = "ODSP", status = "notStarted", message = "",
              errors = {} },
            { service = "Meeting", status = "notStarted", message = "",
              errors = {} },
            { service = "Teams", status = "notStarted", message = "",
              errors = {} },
            { service = "Exchange", status = "notStarted", message = "",
              errors = {} },
          },
        }
      end
      sum = sum + #tasks + #tasks[PER_JOB].id
    end
    return clock() - t0, NJOBS, sum
  end

  local m, f = compare(model, floor)
  row { n = 5, name = "graph:create_job (2,000 users, all workloads)",
        ns = m, floor = f, floor_name = "2,000 task tables, plain Lua",
        target = 2.0 }
end

-- 4. get_task and list_tasks at 1,000 vs 1,000,000 tasks -----------------
-- A small store (1 job of 1,000) and a big one (500 jobs of 2,000, made
-- by create_job); the same random draw of positions for both sizes.
M[4] = function()
  io.stderr:write("4. lookups: building a store of 1,000,000 tasks\n")
  local small = new_graph()
  local sjob = assert(small:create_job(U.job_body("small", 0x40000000, 1,
                                                  1000))).id
  local big = new_graph()
  local bjobs = {}
  local t0 = clock()
  for k = 1, 500 do
    bjobs[k] = assert(big:create_job(U.job_body("big " .. k, 0x41000000, k,
                                                PER_JOB))).id
    if k % 50 == 0 then collectgarbage("collect") end
  end
  local build = clock() - t0
  io.stderr:write(string.format("   built in %.2f s\n", build))

  math.randomseed(42)
  local NLOOK = 20000
  local sj, st, bj, bt = {}, {}, {}, {}
  for i = 1, NLOOK do
    sj[i], st[i] = sjob, guid(0x40000000, 1, math.random(1000))
    local k = math.random(500)
    bj[i], bt[i] = bjobs[k], guid(0x41000000, k, math.random(PER_JOB))
  end

  local function gets(g, jobs, tasks)
    return function()
      local sum = 0
      local t = clock()
      for i = 1, NLOOK do
        local task, err = g:get_task(jobs[i], tasks[i])
        if not task then error(tostring(err)) end
        sum = sum + #task.id
      end
      return clock() - t, NLOOK, sum
    end
  end
  local g1k, g1m = compare(gets(small, sj, st), gets(big, bj, bt))
  row { n = 4, name = "graph:get_task, 1,000,000 vs 1,000 tasks", ns = g1m,
        floor = g1k, floor_name = "the same at 1,000 tasks", target = 1.5 }

  -- the $skiptoken of the last 100-item page, from a walk of nextLinks
  local last
  do
    local tok, link
    repeat
      local page = assert(big:list_tasks(bjobs[1], { top = 100,
                                                     skiptoken = tok }))
      last = tok
      link = page["@odata.nextLink"]
      tok = link and link:match("%$skiptoken=([^&]+)")
    until not tok
  end
  local P = 1000
  local pj = {}
  for i = 1, P do pj[i] = bjobs[math.random(500)] end
  local FIRST, LAST = { top = 100 }, { top = 100, skiptoken = last }
  local function pages(g, job_of, q)
    return function()
      local sum = 0
      local t = clock()
      for i = 1, P do
        local page, err = g:list_tasks(job_of(i), q)
        if not page then error(tostring(err)) end
        sum = sum + #page.value + #page.value[100].id
      end
      return clock() - t, P, sum
    end
  end
  local p1k, p1m = compare(pages(small, function() return sjob end, FIRST),
                           pages(big, function(i) return pj[i] end, FIRST))
  row { n = 4, name = "list_tasks first 100-page, 1,000,000 vs 1,000",
        ns = p1m, floor = p1k, floor_name = "the same at 1,000 tasks",
        target = 1.5 }
  local pfirst, plast = compare(
    pages(big, function(i) return pj[i] end, FIRST),
    pages(big, function(i) return pj[i] end, LAST))
  row { n = 4, name = "list_tasks last 100-page vs first (1,000,000)",
        ns = plast, floor = pfirst, floor_name = "the first page",
        target = 1.5 }

  -- OData pages (issue: query options): the last page of a filtered and
  -- of an ordered job list against the first, over the 500 jobs
  local function last_token(q)
    local tok, prev
    repeat
      local r = {}
      for k, v in pairs(q) do r[k] = v end
      r.skiptoken = tok
      local page = assert(big:list_jobs(r))
      prev = tok
      local link = page["@odata.nextLink"]
      tok = link and link:match("%$skiptoken=([^&]+)")
    until not tok
    return prev
  end
  local function jpages(q)
    return function()
      local sum = 0
      local t = clock()
      for _ = 1, 200 do
        local page, err = big:list_jobs(q)
        if not page then error(tostring(err)) end
        sum = sum + #page.value
      end
      return clock() - t, 200, sum
    end
  end
  for _, q in ipairs {
    { top = 20, filter = "startswith(displayName, 'big') and " ..
                         "status eq 'submitted'" },
    { top = 20, orderby = "displayName desc" },
  } do
    local lq = {}
    for k, v in pairs(q) do lq[k] = v end
    lq.skiptoken = last_token(q)
    local f, l = compare(jpages(q), jpages(lq))
    row { n = 4, name = "list_jobs last 20-page vs first, " ..
                        (q.filter and "$filter" or "$orderby") ..
                        " (500 jobs)",
          ns = l, floor = f, floor_name = "the first page", target = 1.5 }
  end
  small:close()
  big:close()
end

-- 6. a 100,000-user migration, migrate -> completed ----------------------
-- 50 jobs of 2,000 users are validated (untimed), then migrated; the
-- clock is advanced once past every step; all jobs must end completed.
M[6] = function()
  io.stderr:write("6. migration of 100,000 users\n")
  local NJOBS = 50
  local bodies = {}
  for k = 1, NJOBS do
    bodies[k] = U.job_body("migrate " .. k, 0x60000000, k, PER_JOB)
  end
  local R = math.min(ROUNDS, 3)
  local secs, evs, rates = {}, {}, {}
  for r = 1, R do
    U.collect()
    local g = new_graph()
    local ids = {}
    for k = 1, NJOBS do ids[k] = assert(g:create_job(bodies[k])).id end
    for k = 1, NJOBS do assert(g:validate_job(ids[k])) end
    assert(g:run_until(ids[NJOBS], { "validatePassed" }, "PT1H"))
    for k = 1, NJOBS do assert(g:migrate_job(ids[k])) end
    U.collect()
    local t0 = clock()
    local events = g:advance("PT6H")
    local n = #events
    secs[r] = clock() - t0
    for k = 1, NJOBS do
      assert(g:get_job(ids[k]).status == "completed", "not completed")
    end
    evs[r] = n
    rates[r] = n / secs[r]
    sink = sink + n
    g:close()
  end
  row { n = 6, name = "graph:advance, 100,000 users migrate -> completed",
        extra = string.format("%.2f s, %d events, %.2f M events/s",
                              median(secs), evs[1], median(rates) / 1e6) }
end

-- 3. memory per task, in child processes ---------------------------------
M[3] = function()
  io.stderr:write("3. memory (child processes, about 20 s)\n")
  local function child(what)
    local p = assert(io.popen(string.format("%q %q %s", LUA,
                                            dir .. "/mem.lua", what)))
    local out = p:read("a")
    p:close()
    local per = tonumber(out:match("per_task=([%d.]+)"))
    if not per then error("mem.lua " .. what .. ": " .. out) end
    return per, out
  end
  local m = child("model")
  local f = child("floor")
  row { n = 3, name = "memory per task, 1,000,000 tasks (RSS growth)",
        mem = m, floor_mem = f, floor_name = "list_tasks tables, kept",
        target = 1 / 3, limit = 160 }
end

-- the driver -----------------------------------------------------------------
local ORDER = { 1, 2, 5, 4, 6, 3 }

-- a row as Lua source, for a child to hand to its parent
local function dump(r)
  local parts = {}
  for k, v in pairs(r) do
    parts[#parts + 1] = string.format("[%q] = %q", k, v)
  end
  return "{ " .. table.concat(parts, ", ") .. " },"
end

if CHILD then
  for _, n in ipairs(ORDER) do
    if ONLY[n] then M[n]() end
  end
  io.write(string.format("return { checksum = %q, rows = {\n", sink))
  for _, r in ipairs(rows) do io.write(dump(r), "\n") end
  io.write("} }\n")
  os.exit(0)
end

for _, n in ipairs(ORDER) do
  if ONLY[n] and (ONE or n == 3) then
    M[n]()
  elseif ONLY[n] then
    local p = assert(io.popen(string.format(
      "%q %q --child --only=%d --rounds=%d%s", LUA, arg[0], n, ROUNDS,
      VERBOSE and " --verbose" or "")))
    local out = p:read("a")
    local ok = p:close()
    local chunk = ok and load(out, "=child", "t", {})
    if not chunk then error("bench: measure " .. n .. " failed") end
    local res = chunk()
    for _, r in ipairs(res.rows) do
      rows[#rows + 1] = r
      r.seq = #rows
    end
    sink = sink + res.checksum
  end
end

-- the table -----------------------------------------------------------------
table.sort(rows, function(a, b)
  if a.n ~= b.n then return a.n < b.n end
  return a.seq < b.seq
end)
local cpu = "?"
do
  local f = io.open("/proc/cpuinfo", "r")
  if f then
    cpu = f:read("a"):match("model name%s*:%s*([^\n]+)") or cpu
    f:close()
  end
  local p = io.popen("nproc")
  if p then
    cpu = cpu .. ", " .. (p:read("l") or "?") .. " CPUs"
    p:close()
  end
end
print()
print(string.format("crosstenant bench: %d rounds, median ns/op (CPU time), " ..
                    "%s; %s", ROUNDS, ONE and "one process" or
                    "a process per measure", cpu))
print()
print("| # | operation | ns/op | spread | floor | floor ns/op | ratio | " ..
      "target | |")
print("|---|---|--:|--:|---|--:|--:|---|---|")
local missed = 0
for _, r in ipairs(rows) do
  local ns, fns, ratio, target, ok
  if r.mem then
    ns = string.format("%.1f B/task", r.mem)
    fns = string.format("%.1f B/task", r.floor_mem)
    ratio = r.mem / r.floor_mem
    target = string.format("<= %d B, <= 1/3", r.limit)
    ok = r.mem <= r.limit and ratio <= r.target
  elseif r.ns then
    ns = string.format("%.0f", r.ns)
    fns = string.format("%.0f", r.floor)
    ratio = r.ns / r.floor
    target = string.format("<= %.1f", r.target)
    ok = ratio <= r.target
  end
  if r.extra then
    print(string.format("| %d | %s | %s | | | | | report | |", r.n, r.name,
                        r.extra))
  else
    if not ok then missed = missed + 1 end
    print(string.format("| %d | %s | %s | %s | %s | %s | %.2f | %s | %s |",
                        r.n, r.name, ns,
                        r.spread and string.format("%.0f%%", r.spread) or "",
                        r.floor_name, fns, ratio, target,
                        ok and "ok" or "MISSED"))
  end
end
print()
print("spread: (slowest - fastest) / median of the model's rounds.")
print(string.format("%d target(s) missed; checksum %d", missed, sink))
