--- Writes the seed corpora fuzz/corpus/<target>/ from the spec's fixtures
-- (graph-api-facts §4, the seed page, spec/support/fixtures.lua).  Run
-- from the tree's root after `make`:
--
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;./fuzz/lua/?.lua;./spec/?.lua' \
--   LUA_CPATH='./build/plain/?.so' lua5.4 fuzz/make_seeds.lua
--
-- Files are named seed-*; crash inputs kept as regressions are named
-- crash-* and are not touched.
local crosstenant = require "crosstenant"
local H = require "fuzz_request"

local encode = crosstenant.encode

local function write(target, name, text)
  os.execute("mkdir -p fuzz/corpus/" .. target)
  local f = assert(io.open("fuzz/corpus/" .. target .. "/seed-" .. name, "wb"))
  f:write(text)
  f:close()
end

local B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function b64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    for k = 1, 2 + (b and 1 or 0) + (c and 1 or 0) do
      local v = (n >> (18 - 6 * (k - 1))) & 63
      out[#out + 1] = B:sub(v + 1, v + 1)
    end
  end
  return table.concat(out)
end
local function token(claims)
  local payload = type(claims) == "string" and claims or encode(claims)
  return "Bearer " .. b64url('{"alg":"none","typ":"JWT"}') .. "." ..
         b64url(payload) .. "."
end

local TARGET = "87654321-4321-4321-4321-210987654321"
local OTHER = "11111111-1111-4111-8111-111111111111"
local WRITE = "CrossTenantContentMigration.ReadWrite.All"
local READ = "CrossTenantContentMigration.Read.All"
local R1 = "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506"
local U2 = "aaaaaaaa-0000-4000-8000-000000000001"

local g = H.new_graph()
local ids = {}
for _, j in ipairs(g:list_jobs().value) do ids[j.displayName] = j.id end
local J, J2 = ids.fuzzjob, ids.fuzzjob2

local JOB_BODY = [[{
  "displayName": "xtmigration_user_req_1",
  "completeAfterDateTime": "2025-12-09T22:48:03.092Z",
  "exchangeSettings": {
    "targetDeliveryDomain": "xtmigration.onmicrosoft.com",
    "sourceEndpoint": "sampleEndpointText"
  },
  "resources": [
    "bbbbbbbb-9ea2-4e71-a16b-60b1d1c4f506",
    "63f15b55-f61a-49cb-a599-2e3d233afb2c"
  ],
  "resourceType": "Users",
  "sourceTenantId": "12345678-1234-1234-1234-123456789012",
  "workloads": ["Teams", "Exchange", "ODSP"]
}]]
local SEED_TASK = [[{
  "@odata.type": "#microsoft.graph.crossTenantMigrationTask",
  "taskType": "String",
  "lastUpdatedDateTime": "String (timestamp)",
  "currentStatus": [
    {
      "@odata.type": "microsoft.graph.crossTenantMigrationServiceStatusDetails"
    }
  ]
}]]
local TASK = [[{"@odata.type":"#microsoft.graph.crossTenantMigrationTask",]] ..
  [["id":"6a88de8d-7027-44c1-8674-03f826aa1704","taskType":"user",]] ..
  [["lastUpdatedDateTime":"2025-11-06T11:26:00Z","currentStatus":[]] ..
  [[{"service":"Exchange","status":"notStarted","message":null,]] ..
  [["errors":[{"code":"E1","message":"m"}]},{"service":"teams"}]}]]
local PATCH = [[{"completeAfterDateTime":"2025-05-22T17:14:52Z"}]]

local P = "/beta/solutions/migrations/crossTenantMigrationJobs"
local V1 = "https://graph.microsoft.com/v1.0/solutions/migrations/" ..
           "crossTenantMigrationJobs"

-- method, url, headers (list of "Name: value"), body (nil: none)
local function req(method, url, headers, body)
  local t = { method, url }
  for _, h in ipairs(headers or {}) do t[#t + 1] = h end
  if body then
    t[#t + 1] = ""
    t[#t + 1] = body
  end
  return table.concat(t, "\n")
end
local function seq(...) return table.concat({ ... }, "\n%%\n") end

local requests = {
  list = req("GET", P .. "?$top=1&$count=true"),
  list_beta_nodollar = req("GET", P .. "?top=2&count=true&foo=bar"),
  list_skiptoken = req("GET", P .. "?$top=1&$skiptoken=J1.9e3779b3"),
  create = req("POST", P, { "Content-Type: application/json" }, JOB_BODY),
  create_v1 = req("POST", V1, { "client-request-id: abc" }, JOB_BODY),
  create_bad = req("POST", P, {}, '{"displayName":'),
  get_id = req("GET", P .. "/" .. J),
  get_name = req("get", P .. "/fuzzjob"),
  get_altkey = req("GET", "/solutions/migrations/crossTenantMigrationJobs" ..
                   "(displayName='fuzzjob')"),
  get_altid = req("GET", "/v1.0/solutions/migrations/" ..
                  "crossTenantMigrationJobs('" .. J .. "')"),
  patch = req("PATCH", P .. "/" .. J, {}, PATCH),
  patch_bad = req("PATCH", P .. "/" .. J, {}, '{"displayName":"x"}'),
  delete = req("DELETE", "/beta/solutions/migrations/" ..
               "crosstenantmigrationjobs/" .. J),
  validate = req("POST", P .. "/" .. J .. "/validate"),
  migrate = req("POST", P .. "/" .. J2 .. "/migrate", {}, "{}"),
  cancel = req("POST", P .. "/" .. J .. "/cancel"),
  users = req("GET", P .. "/" .. J .. "/users?$top=2"),
  user = req("GET", P .. "/" .. J .. "/users/" .. R1),
  user_cancel = req("POST", P .. "/" .. J .. "/users/" .. R1 .. "/cancel"),
  task_seed = req("POST", P .. "/" .. J .. "/users", {}, SEED_TASK),
  task_full = req("POST", P .. "/fuzzjob/users", {}, TASK),
  task_v2 = req("POST", P .. "/" .. J2 .. "/users", {},
                '{"taskType":"User","lastUpdatedDateTime":' ..
                '"2025-11-06T11:26:00.1234567+02:00"}'),
  token_write = req("POST", P, { "Authorization: " ..
    token { tid = TARGET, upn = "a@b", scp = WRITE } }, JOB_BODY),
  token_other = req("GET", P .. "/otherjob", { "authorization: " ..
    token { tid = OTHER, oid = U2, roles = { READ } } }),
  token_exp = req("GET", P, { "Authorization: " ..
    token { tid = TARGET, scp = READ, exp = 1762419600 } }),
  token_junk = req("GET", P, { "Authorization: Bearer junk" }),
  headers_dup = req("GET", P, { "client-request-id: a",
                                "Client-Request-Id: b" }),
  not_found = req("GET", "/beta/solutions/migrations/x/..//%2F"),
  method_405 = req("PUT", P .. "/" .. J, {}, JOB_BODY),
  lifecycle = seq(req("POST", P .. "/" .. J .. "/validate"),
                  req("ADVANCE", "P1D"),
                  req("POST", P .. "/" .. J .. "/migrate"),
                  req("ADVANCE", "P60D")),
  lifecycle2 = seq(req("POST", P .. "/" .. J2 .. "/migrate"),
                   req("ADVANCE", "PT5H"),
                   req("POST", P .. "/" .. J2 .. "/users/" .. U2 ..
                       "/cancel"),
                   req("GET", P .. "/" .. J2 .. "/users")),
  q_filter = req("GET", P ..
                 "?$filter=startswith(displayName,'fuzz')%20and%20" ..
                 "status%20in%20('submitted','validatePassed')&$select=" ..
                 "displayName,status&$orderby=displayName%20desc&$count=true"),
  q_expand = req("GET", P .. "/fuzzjob?$expand=users&$select=id,resources"),
  q_count = req("GET", P .. "/$count?$filter=createdDateTime%20ge%20" ..
                "2025-11-06T00:00:00Z"),
  q_users = req("GET", P .. "/" .. J .. "/users?$filter=currentStatus/any" ..
                "(s:s/service%20eq%20'Exchange'%20and%20s/status%20eq%20" ..
                "'notStarted')&$top=1&$skip=1&$orderby=id"),
  q_users_count = req("GET", P .. "/" .. J .. "/users/$count?filter=" ..
                      "taskType%20eq%20'user'"),
  q_bad = req("GET", P .. "?$filter=status%20eq%207&$search=x"),
  delete_flow = seq(req("POST", P .. "/" .. J .. "/cancel"),
                    req("ADVANCE", "3600"),
                    req("DELETE", P .. "/" .. J),
                    req("ADVANCE", "PT1H30M")),
}
for name, text in pairs(requests) do write("request", name, text) end

local times = {
  "2025-11-06T09:06:34.4773205Z", "2025-11-06T11:26:00Z",
  "2024-12-09T22:48:03.092Z", "2025-05-22T17:14:52+05:30",
  "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59.9999999-00:01",
  "2024-02-29t12:00:00z", "2023-02-29T12:00:00Z", "2025-11-06T24:00:00Z",
  "2025-11-06T09:00:00.Z", "2025-11-06T09:00:00.00000000Z", "P1DT2H3M4.5S",
  "P2W", "PT0.0000001S",
}
for i, t in ipairs(times) do write("time", ("%02d"):format(i), t) end

local guids = {
  "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
  "ADD14989-2B21-4001-81BD-A18B0BAC1DEA",
  "{0d1d9dbb-7676-4731-a601-5e8406fd7bcf}",
  "00000000-0000-0000-0000-000000000000",
  "5c316328-abcb-31a2-2bb7-53f15eea730c ", "5c316328abcb31a22bb753f15eea730c",
}
for i, s in ipairs(guids) do write("guid", ("%02d"):format(i), s) end
-- map programs: puts, deletes, gets on colliding keys
write("guid", "map1", "\x01\x05\x41\x06\x81\x00\xc1\x01\x02\x07\xc2\x00")
write("guid", "map2", string.rep("\x10\x01\x50\x02\x90\x00\xd0\x03", 8))

local jsons = {
  job = JOB_BODY, seed_task = SEED_TASK, task = TASK, patch = PATCH,
  numbers = "[0,-0,1,-1,1.0,1e2,1E-2,0.5,-0.0,9223372036854775807," ..
            "-9223372036854775808,9223372036854775808,1e308,5e-324,2.5e-3]",
  strings = '["caf\\u00e9 \\ud83d\\ude00 \\n\\t\\"\\\\\\/\\b\\f\\r",' ..
            '"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80","\\u0000"]',
  nested = '{"a":[{"b":[[{"c":{}}]],"d":[]}],"e":null,"f":true,"g":false}',
  error = '{"error":{"code":"invalidRequest","message":"m",' ..
          '"innerError":{"date":"2025-11-06T09:00:00Z",' ..
          '"request-id":"x","client-request-id":"y"}}}',
  many_keys = '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,' ..
              '"j":10,"k":11}',
}
for name, text in pairs(jsons) do
  write("json", name, text)
  write("encode", name, text)
end
write("json", "bad_trailing", '{"a":1,}')
write("json", "bad_escape", '"\\ud800"')
write("encode", "list", encode(g:list_jobs()))

-- fuzz_query: byte 0 = tasks | filter << 1 | orderby << 2 | (top-1) << 3,
-- byte 1 = $skip, then "filter\norderby\ntoken"
local function q(tasks, top, skip, filter, orderby, tok)
  local b0 = (tasks and 1 or 0) | (filter and 2 or 0) | (orderby and 4 or 0)
             | ((top - 1) << 3)
  return string.char(b0, skip) .. (filter or "") .. "\n" .. (orderby or "")
         .. (tok and "\n" .. tok or "")
end
local queries = {
  q(false, 2, 0, "startswith(displayName,'a') or status eq 'validatePassed'",
    "displayName desc"),
  q(false, 1, 1, "createdDateTime ge 2025-11-06T00:00:00Z and not (jobType" ..
    " eq microsoft.graph.crossTenantMigrationJobType'migrate')", "status"),
  q(false, 3, 0, "id eq a5981dc6-8ca0-4098-84fd-3d5b1282a191 or " ..
    "sourceTenantId ne '12345678-1234-1234-1234-123456789012'", nil),
  q(false, 2, 0, "status in ('submitted', 'validatePassed') and " ..
    "message ne null", "lastUpdatedDateTime asc,displayName"),
  q(true, 2, 0, "currentStatus/any(s: s/service eq 'Exchange' and " ..
    "s/status in ('failed', 'invalid'))", "lastUpdatedDateTime desc"),
  q(true, 1, 2, "currentStatus/all(x: x/status eq 'notStarted') or " ..
    "currentStatus/any()", "id"),
  q(true, 4, 0, "taskType eq 'User' or lastUpdatedDateTime lt " ..
    "2025-01-01T00:00:00Z", "taskType,id desc", "T1~00000000~1"),
  q(false, 2, 0, "status eq 7", nil),
  q(false, 2, 0, "(((true)))", "createdBy", "J1~deadbeef~3~s61"),
}
for i, text in ipairs(queries) do write("query", ("%02d"):format(i), text) end

-- snap: images of small stores, whole (byte 0 odd) and as bodies (even:
-- the harness adds the header and checksum)
do
  local function images()
    local out = {}
    local g = crosstenant.new { seed = 1, now = "2025-11-06T09:00:00Z" }
    out.empty = g:snapshot()
    local job = assert(g:create_job {
      displayName = "fuzzjob", completeAfterDateTime = "2025-11-06T09:00:01Z",
      sourceTenantId = "12345678-1234-1234-1234-123456789012",
      resourceType = "Users", workloads = { "Exchange", "ODSP" },
      exchangeSettings = { sourceEndpoint = "e", targetDeliveryDomain = "d" },
      resources = { "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
                    "63f15b55-f61a-49cb-a599-2e3d233afb2c" } })
    out.submitted = g:snapshot()
    assert(g:create_task(job.id, { taskType = "User",
      lastUpdatedDateTime = "2025-11-06T09:00:00.5Z",
      currentStatus = { { service = "ODSP", status = "failed", message = "m",
                          errors = { { code = "c", message = "x" } } } } }))
    assert(g:fail { user = "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
                    service = "ODSP", code = "E", message = "no" })
    assert(g:validate_job(job.id))
    g:advance(90)
    out.validating = g:snapshot()
    g:advance(86400)
    local two = assert(g:create_job {
      displayName = "two", completeAfterDateTime = "2025-11-06T09:00:01Z",
      sourceTenantId = "12345678-1234-1234-1234-123456789012",
      resourceType = "Users", workloads = { "Teams" },
      resources = { "41d94bac-3a53-47d6-a89e-583830104e15" } })
    assert(g:validate_job(two.id))
    g:advance(3600)
    assert(g:migrate_job(two.id))
    g:advance(400)
    out.migrating = g:snapshot()
    g:advance(86400)
    assert(g:delete_job(two.id))
    out.deleting = g:snapshot()
    local f = crosstenant.new { seed = 2, now = "2025-11-06T09:00:00Z",
                                fault_rate = { [503] = 0.3 }, retry_after = 2,
                                throttle = { requests = 2, per = 10 } }
    f:fault { status = 429, times = 3, method = "POST",
              path = "/crossTenantMigrationJobs/*/users" }
    for _ = 1, 4 do
      f:request("GET", "/beta/solutions/migrations/crossTenantMigrationJobs")
    end
    out.faults = f:snapshot()
    return out
  end
  for name, img in pairs(images()) do
    write("snap", "image-" .. name, "\1" .. img)
    write("snap", "body-" .. name, "\0" .. img:sub(25, -9))
  end
end
print("seeds written")
