-- bench/wrk_post.lua -- wrk script of `make bench-server`: POST
-- .../users with the seed's body, a new user id each time, filling the
-- jobs listed in IDS_FILE (its first line, the list job, is skipped) one
-- after the other, 1,999 users each.  An answer that is not 2xx shows in
-- wrk's "Non-2xx or 3xx responses" line, which bench/serve_bench.lua
-- reads.
--
--   wrk -t1 -c4 -d5s -s bench/wrk_post.lua URL -- IDS_FILE
local jobs, n, per = {}, 0, 1999
local LUT = "2025-11-06T09:06:34.4773205Z"
local HEADERS = { ["Content-Type"] = "application/json" }

function init(args)
  local first = true
  for line in io.lines(args[1]) do
    if first then first = false else jobs[#jobs + 1] = line end
  end
end

function request()
  local job = jobs[math.floor(n / per) + 1]
  n = n + 1
  local id = string.format("22000000-0000-4000-8000-%012x", n)
  return wrk.format("POST", "/beta/solutions/migrations/" ..
    "crossTenantMigrationJobs/" .. job .. "/users", HEADERS,
    '{"@odata.type":"#microsoft.graph.crossTenantMigrationTask","id":"' ..
    id .. '","taskType":"user","lastUpdatedDateTime":"' .. LUT ..
    '","currentStatus":[{"@odata.type":"microsoft.graph.' ..
    'crossTenantMigrationServiceStatusDetails","service":"ODSP"}]}')
end
