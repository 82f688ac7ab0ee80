--- bench/util.lua -- what bench.lua and mem.lua share: the in-tree module
-- paths, a clock, medians, RSS, and the inputs (GUIDs, job bodies, the
-- seed's task properties), made the same way for the model and its floor.
local U = {}

-- The folder holding this file, and the checkout above it.
U.dir = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."
U.root = U.dir .. "/.."

-- The in-tree build first, whatever LUA_PATH / LUA_CPATH say.
package.path = U.root .. "/lua/?.lua;" .. U.root .. "/lua/?/init.lua;" ..
               package.path
package.cpath = U.root .. "/build/plain/?.so;" .. package.cpath

U.clock = os.clock             -- CPU seconds of this process

U.NOW = "2025-11-06T09:00:00Z"
U.SOURCE = "12345678-1234-1234-1234-123456789012"
U.LUT = "2025-11-06T09:06:34.4773205Z"   -- the seed's lastUpdatedDateTime
U.TASK_TYPE = "#microsoft.graph.crossTenantMigrationTask"
U.SSD_TYPE = "microsoft.graph.crossTenantMigrationServiceStatusDetails"
U.CONTEXT = "https://graph.microsoft.com/beta/$metadata#" ..
            "solutions/migrations/crossTenantMigrationJobs('"
U.JOBS_URL = "https://graph.microsoft.com/beta/solutions/migrations/" ..
             "crossTenantMigrationJobs/"

--- A distinct lowercase GUID for (space, job, n): every input of a run is
-- made here, so no two jobs ever share a user by accident.
function U.guid(space, job, n)
  return string.format("%08x-0000-4000-8000-%04x%08x", space, job, n)
end

--- A job body with `n` users from space/job, all workloads, and a
-- completeAfterDateTime of the model's start (no waiting for it).
function U.job_body(name, space, job, n)
  local res = {}
  for i = 1, n do res[i] = U.guid(space, job, i) end
  return {
    displayName = name,
    completeAfterDateTime = U.NOW,
    exchangeSettings = { targetDeliveryDomain = "fabrikam.onmicrosoft.com",
                         sourceEndpoint = "sampleEndpointText" },
    resources = res,
    resourceType = "Users",
    sourceTenantId = U.SOURCE,
    workloads = { "Teams", "Exchange", "ODSP" },
  }
end

--- The seed's task properties (taskType, lastUpdatedDateTime, id) and
-- the seed's one currentStatus entry, naming its service (an entry
-- without one is a 400).
function U.task_props(id)
  return { taskType = "user", lastUpdatedDateTime = U.LUT, id = id,
           currentStatus = { { ["@odata.type"] = U.SSD_TYPE,
                               service = "ODSP" } } }
end

--- The same properties as the JSON text a client would send.
function U.task_text(id)
  return '{"@odata.type":"' .. U.TASK_TYPE .. '","id":"' .. id ..
         '","taskType":"user","lastUpdatedDateTime":"' .. U.LUT ..
         '","currentStatus":[{"@odata.type":"' .. U.SSD_TYPE ..
         '","service":"ODSP"}]}'
end

function U.median(t)
  local s = table.move(t, 1, #t, 1, {})
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

local PAGE
--- Resident set size of this process in bytes (/proc/self/statm).
function U.rss()
  if not PAGE then
    local p = io.popen("getconf PAGESIZE")
    PAGE = p and tonumber(p:read("l")) or 4096
    if p then p:close() end
  end
  local f = assert(io.open("/proc/self/statm", "r"))
  local _, resident = f:read("n", "n")
  f:close()
  return resident * PAGE
end

--- A full collection, twice (finalizers may free more on the second).
function U.collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

return U
