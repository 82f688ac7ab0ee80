--- bench/mem.lua -- memory per task, in a process of its own.
--
--   lua5.4 bench/mem.lua model [tasks]   a store holding `tasks` tasks
--   lua5.4 bench/mem.lua floor [tasks]   the same tasks as Lua tables
--
-- Prints one line: "<what> tasks=<n> bytes=<RSS growth> per_task=<b>
-- lua_kb=<Lua heap growth>".  bench.lua runs both through io.popen so
-- neither pollutes the other (or the timings).
--
-- model: create_job calls of 2,000 users with all workloads, as one
--   tenant's store holds them (500 jobs for 1,000,000 tasks); the job
--   tables the calls return are dropped.
-- floor: the same tasks as list_tasks returns them ($top=999 pages),
--   kept in one Lua sequence.  Each batch of 2,000 is listed from a
--   store of its own that is closed before the next, so what stays is
--   the tables alone (plus the sequence that holds them: 16 B a task).
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local U = dofile(dir .. "/util.lua")
local crosstenant = require "crosstenant"

local what = arg[1]
local ntasks = math.tointeger(tonumber(arg[2] or "1000000"))
local PER_JOB = 2000
if (what ~= "model" and what ~= "floor") or not ntasks or
   ntasks % PER_JOB ~= 0 then
  io.stderr:write("usage: lua5.4 bench/mem.lua model|floor [tasks]\n",
                  "  tasks: a multiple of 2000 (default 1000000)\n")
  os.exit(2)
end
local njobs = ntasks // PER_JOB
local SPACE = 0x30000000

-- what the run needs besides the tasks, allocated before the baseline
local keep = what == "floor" and {} or nil
local graph = what == "model" and
              crosstenant.new { seed = 1, now = U.NOW } or nil
U.collect()
local rss0, kb0 = U.rss(), collectgarbage("count")

if what == "model" then
  for k = 1, njobs do
    local job, err = graph:create_job(U.job_body("mem " .. k, SPACE, k,
                                                 PER_JOB))
    if not job then error(tostring(err)) end
    if k % 25 == 0 then collectgarbage("collect") end
  end
else
  local n = 0
  for k = 1, njobs do
    local g = crosstenant.new { seed = 1, now = U.NOW }
    local job = assert(g:create_job(U.job_body("mem " .. k, SPACE, k,
                                               PER_JOB)))
    local tok
    repeat
      local page = assert(g:list_tasks(job.id, { top = 999,
                                                 skiptoken = tok }))
      for _, t in ipairs(page.value) do
        n = n + 1
        keep[n] = t
      end
      local link = page["@odata.nextLink"]
      tok = link and link:match("%$skiptoken=([^&]+)")
    until not tok
    g:close()
    if k % 25 == 0 then collectgarbage("collect") end
  end
  assert(n == ntasks, "listed " .. n .. " tasks")
end

U.collect()
local grown = U.rss() - rss0
local lua_kb = collectgarbage("count") - kb0
-- the result must be alive here, or it was measured for nothing
if graph then
  local page = assert(graph:list_jobs { count = true, top = 1 })
  assert(page["@odata.count"] == njobs)
end
if keep then assert(#keep == ntasks and keep[ntasks].id) end
print(string.format("%s tasks=%d bytes=%d per_task=%.1f lua_kb=%.0f",
                    what, ntasks, grown, grown / ntasks, lua_kb))
