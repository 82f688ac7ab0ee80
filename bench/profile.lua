--- bench/profile.lua -- one model operation in a loop, nothing else, to run
-- under a profiler (the setup is small next to the loop):
--
--   valgrind --tool=callgrind --callgrind-out-file=build/cg.out \
--     lua5.4 bench/profile.lua create_task
--   callgrind_annotate --inclusive=yes build/cg.out | head -60
--
-- operations: create_task, request, create_job, get_task, advance.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local U = dofile(dir .. "/util.lua")
local crosstenant = require "crosstenant"

local op = arg[1]
local g = crosstenant.new { seed = 1, now = U.NOW }
local sum = 0

local function jobs(n, users, space)
  local ids = {}
  for k = 1, n do
    ids[k] = assert(g:create_job(U.job_body(op .. " " .. k, space, k,
                                            users))).id
  end
  return ids
end

if op == "create_task" or op == "request" then
  local ids = jobs(10, 1, 0x10000000)
  local inputs = {}
  for k = 1, 10 do
    for n = 1, 1999 do
      local id = U.guid(0x11000000, k, n)
      inputs[#inputs + 1] = { k, op == "request" and U.task_text(id)
                                  or U.task_props(id) }
    end
  end
  for _, input in ipairs(inputs) do
    local k, props = input[1], input[2]
    if op == "request" then
      local status, body = g:request("POST", U.JOBS_URL .. ids[k] .. "/users",
                                     props)
      sum = sum + status + #crosstenant.encode(body)
    else
      sum = sum + #assert(g:create_task(ids[k], props)).id
    end
  end
elseif op == "create_job" then
  local bodies = {}
  for k = 1, 10 do
    bodies[k] = U.job_body("create_job " .. k, 0x50000000, k, 2000)
  end
  for k = 1, 10 do sum = sum + #assert(g:create_job(bodies[k])).resources end
elseif op == "get_task" then
  local ids = jobs(50, 2000, 0x41000000)
  math.randomseed(42)
  for _ = 1, 50000 do
    local k = math.random(50)
    local t = assert(g:get_task(ids[k], U.guid(0x41000000, k,
                                                math.random(2000))))
    sum = sum + #t.id
  end
elseif op == "advance" then
  local ids = jobs(10, 2000, 0x60000000)
  for _, id in ipairs(ids) do assert(g:validate_job(id)) end
  g:advance("PT1H")
  for _, id in ipairs(ids) do assert(g:migrate_job(id)) end
  sum = sum + #g:advance("PT6H")
else
  io.stderr:write("usage: lua5.4 bench/profile.lua create_task|request|" ..
                  "create_job|get_task|advance\n")
  os.exit(2)
end
print(op, sum)
