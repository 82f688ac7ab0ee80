--- bench/ir.lua -- measures 1 and 2 of bench.lua as instruction counts:
-- one side (the model, its floor, or the setup alone) in a loop of
-- 19,990 calls, to run under callgrind, whose counts do not move with the
-- machine's load:
--
--   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
--     lua5.4 bench/ir.lua create_task model      (and floor, none)
--
-- Ir per call = (Ir of `model` - Ir of `none`) / 19,990; likewise the
-- floor.  `request floor` is cjson.decode + cjson.encode of the model's
-- bodies, made before as in bench.lua: its baseline is `request prep`,
-- the setup with those bodies made.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local U = dofile(dir .. "/util.lua")
local crosstenant = require "crosstenant"
local cjson = require "cjson"

local measure, side = arg[1], arg[2]
local N = 19990
local g = crosstenant.new { seed = 1, now = U.NOW }
local ids = {}
for k = 1, 10 do
  ids[k] = assert(g:create_job(U.job_body("ir " .. k, 0x10000000, k, 1))).id
end
local sum = 0

if measure == "create_task" then
  local props, jobof = {}, {}
  for i = 1, N do
    jobof[i] = (i - 1) % 10 + 1
    props[i] = U.task_props(U.guid(0x11000000, jobof[i], i))
  end
  local TT, SSD, CTX_END = U.TASK_TYPE, U.SSD_TYPE, "')/users/$entity"
  U.collect()
  if side == "model" then
    for i = 1, N do
      local t = assert(g:create_task(ids[jobof[i]], props[i]))
      sum = sum + #t.id + #t.currentStatus[1].status
    end
  elseif side == "floor" then         -- bench.lua's floor of measure 1
    for i = 1, N do
      local p = props[i]
      local t = {
        ["@odata.context"] = U.CONTEXT .. ids[jobof[i]] .. CTX_END,
        ["@odata.type"] = TT, id = p.id, taskType = p.taskType,
        lastUpdatedDateTime = p.lastUpdatedDateTime,
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
    end
  end
elseif measure == "request" then
  local texts, urls, jobof, bodies = {}, {}, {}, {}
  for k = 1, 10 do urls[k] = U.JOBS_URL .. ids[k] .. "/users" end
  for i = 1, N do
    jobof[i] = (i - 1) % 10 + 1
    texts[i] = U.task_text(U.guid(0x11000000, jobof[i], i))
  end
  if side == "floor" or side == "prep" then  -- the model's bodies
    for i = 1, N do
      local _, body = g:request("POST", urls[jobof[i]], texts[i])
      bodies[i] = body
    end
  end
  U.collect()
  if side == "model" then
    local encode = crosstenant.encode
    for i = 1, N do
      local status, body = g:request("POST", urls[jobof[i]], texts[i])
      sum = sum + status + #encode(body)
    end
  elseif side == "floor" then
    for i = 1, N do
      sum = sum + #cjson.decode(texts[i]).id + #cjson.encode(bodies[i])
    end
  end
else
  io.stderr:write("usage: lua5.4 bench/ir.lua create_task|request " ..
                  "model|floor|none|prep\n")
  os.exit(2)
end
print(measure, side, sum)
