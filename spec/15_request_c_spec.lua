-- The core's request path (csrc/ct_request.c) against the request path
-- as it was written in Lua (spec/support/lua_request.lua, the oracle):
-- the same requests on three twin stores -- the oracle, the core writing
-- JSON text (core:request_text), the core building tables (graph:request)
-- -- give the same status, the same headers and byte-identical bodies.
-- The requests: the shapes of the request specs (URLs, methods, tokens,
-- query options, bodies, errors) and a seeded random walk like
-- spec/12_random_spec.lua's.  Then the rules the oracle predates:
-- property names in query options match case-insensitively, and the base
-- URL is the caller's.
--
-- CT_DIFF_STEPS sets the walk's length (default 800).
local crosstenant = require "crosstenant"
local oracle = require "spec.support.lua_request"
local F = require "spec.support.fixtures"

local encode = crosstenant.encode
local null = crosstenant.null
local JOBS = F.JOBS
local STEPS = math.tointeger(tonumber(os.getenv("CT_DIFF_STEPS") or "")) or
              800

-- Three twins --------------------------------------------------------------

local function plain_headers(h)
  local keys, out = {}, {}
  for k in pairs(h) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = k .. ": " .. tostring(h[k]) end
  return table.concat(out, "\n")
end

local function text_of(body)
  if type(body) == "table" then return encode(body) end
  return body
end

local Twins = {}
Twins.__index = Twins

local function twins(opts)
  return setmetatable({ F.graph(opts), F.graph(opts), F.graph(opts) }, Twins)
end

--- Sends one request to all three and checks they agree; returns the
-- oracle's status and body (a table) for the caller to go on with.
function Twins:send(method, url, body, headers, where)
  local a, b, c = self[1], self[2], self[3]
  local sa, ba, ha = oracle.request(a, method, url, body, headers)
  local sb, bb, hb = b._core:request_text(method, url, body, headers,
    not b._require_token and b._tenant or nil, b._user)
  local sc, bc, hc = c:request(method, url, body, headers)
  where = (where or "") .. " " .. method .. " " .. url:sub(1, 120)
  assert.are.equal(sa, sb, where .. ": status (text)")
  assert.are.equal(sa, sc, where .. ": status (tables)")
  assert.are.equal(text_of(ba), bb, where .. ": body (text)")
  assert.are.equal(text_of(ba), text_of(bc), where .. ": body (tables)")
  assert.are.equal(plain_headers(ha), plain_headers(hb), where ..
                   ": headers (text)")
  assert.are.equal(plain_headers(ha), plain_headers(hc), where ..
                   ": headers (tables)")
  return sa, ba
end

function Twins:advance(d)
  for i = 1, 3 do self[i]:advance(d) end
end

function Twins:each(fn)
  for i = 1, 3 do fn(self[i]) end
end

-- The shapes of the request specs ------------------------------------------

local function auth(claims) return { Authorization = F.token(claims) } end

local function shapes(jid)
  local J = JOBS .. "/" .. jid
  local U = F.RESOURCES[1]
  local big = string.rep("x", 300)
  return {
    -- URL forms and segments
    { "GET", J }, { "GET", "/solutions/migrations/crossTenantMigrationJobs/" ..
      jid }, { "GET", "/v1.0/solutions/migrations/crossTenantMigrationJobs/" ..
      jid }, { "GET", "https://graph.microsoft.com/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs/" .. jid },
    { "GET", "https://GRAPH.microsoft.com/v1.0/Solutions/Migrations/" ..
      "CROSSTENANTMIGRATIONJOBS/" .. jid },
    { "GET", "/beta/solutions/migrations/crosstenantmigrationjobs/" .. jid ..
      "?" }, { "GET", J .. "#frag" }, { "GET", J .. "?x=1#frag" },
    { "GET", JOBS .. "/xtmigration_user_req_1" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs(" ..
      "displayName='xtmigration_user_req_1')" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs(" ..
      "displayName='xtmigration_user_req_1')/users" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs( " ..
      "DisplayName = 'xtmigration_user_req_1' )/users/" .. U },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs('" .. jid ..
      "')" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs('it''s')" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs(x)" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs('')" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs()" },
    { "GET", J .. "/frobnicate" }, { "GET", "/beta/solutions/other" },
    { "GET", "/beta/users" }, { "GET", JOBS .. "//users" },
    { "GET", J .. "/" }, { "GET", J .. "/users/x/y" },
    { "GET", J .. "/users/" .. U .. "/cancel/more" },
    { "GET", JOBS .. "/../x" }, { "GET", "/v2.0/solutions/migrations/" ..
      "crossTenantMigrationJobs" }, { "GET", "/" }, { "GET", "" },
    { "GET", "/beta" }, { "GET", "/beta/" }, { "GET", "beta/solutions" },
    { "GET", "https://example.com/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs" },
    { "GET", "http://graph.microsoft.com/beta/x" },
    { "GET", "https://graph.microsoft.com:443/beta/x" },
    { "GET", "https://graph.microsoft.com" },
    { "GET", "https://graph.microsoft.com?x" },
    { "GET", JOBS .. "/a%zz" }, { "GET", JOBS .. "/a%2" },
    { "GET", JOBS .. "/a%2Fb%20c" }, { "GET", JOBS .. "/%ff%fe" },
    { "GET", JOBS .. "/" .. big }, { "GET", JOBS .. "/" .. big .. "%zz" },
    { "GET", JOBS .. "/$count" }, { "GET", JOBS .. "/%24count" },
    { "GET", J .. "/users/$count" }, { "GET", J .. "/users/$COUNT" },
    { "GET", JOBS .. "/$count?$filter=status%20eq%20'submitted'" },
    { "GET", JOBS .. "/$count?$top=1" },
    { "GET", J .. "/users/$count?$filter=id%20eq%20'" .. U .. "'" },
    { "GET", "/beta/solutions/migrations/crossTenantMigrationJobs/$count/x" },
    -- methods
    { "get", J }, { "PUT", J }, { "POST", J }, { "DELETE", JOBS },
    { "GET", J .. "/validate" }, { "GET", J .. "/migrate" },
    { "DELETE", J .. "/cancel" }, { "PATCH", J .. "/users" },
    { "DELETE", J .. "/users/" .. U }, { "GET", J .. "/users/" .. U ..
      "/cancel" }, { "OPTIONS", JOBS }, { "", JOBS }, { "pAtCh", JOBS },
    { "POST", JOBS .. "/$count" },
    -- headers
    { "GET", J .. "/nope", nil, { ["CLIENT-REQUEST-ID"] = "abc-123" } },
    { "GET", J .. "/nope", nil, { ["client-request-id"] = "\xff\xfeok" } },
    { "GET", J, nil, { ["client-request-id"] = "" } },
    { "GET", J, nil, { ["client-request-id"] = 42 } },
    { "GET", JOBS, nil, { Authorization = F.token { tid = F.TARGET,
      scp = F.READ }, authorization = "Bearer x" } },
    { "GET", JOBS, nil, { Accept = "a", accept = "a" } },
    -- bodies
    { "POST", J .. "/validate", { x = 1 } }, { "POST", J .. "/validate",
      " { } " }, { "POST", J .. "/migrate", {} }, { "POST", J .. "/cancel",
      "\t\n" }, { "GET", J, "x" }, { "DELETE", J, { 1 } },
    { "POST", JOBS }, { "POST", JOBS, "" }, { "POST", JOBS, '{"a":' },
    { "POST", JOBS, '"' .. string.rep("a", 1024 * 1024) .. '"' },
    { "POST", JOBS, F.job_body { displayName = string.rep("n", 4097) } },
    { "POST", JOBS, { f = print } }, { "POST", JOBS, { [true] = 1 } },
    { "POST", JOBS, { 1, nil, 3 } }, { "POST", JOBS, { 1, x = 2 } },
    { "POST", JOBS, F.job_body { displayName = "new", resources = F.users(2) } },
    { "POST", JOBS, F.job_body { displayName = "new", status = "x" } },
    { "POST", JOBS, encode(F.job_body { displayName = "text",
      resources = F.users(1, "dddddddd") }) },
    { "PATCH", J, '{"completeAfterDateTime":"2025-05-22T17:14:52Z"}' },
    { "PATCH", J, { displayName = "x" } }, { "PATCH", J },
    { "PATCH", J, { completeAfterDateTime = "2025-11-10T10:00:00+15:00" } },
    { "POST", J .. "/users", { taskType = "user",
      lastUpdatedDateTime = "2025-11-06T09:30:00Z", id = F.TASK } },
    { "POST", J .. "/users", { taskType = "group",
      lastUpdatedDateTime = "2025-11-06T09:30:00Z" } },
    { "POST", J .. "/users", '{"taskType":"user","lastUpdatedDateTime":' ..
      '"2025-11-06T09:30:00Z","currentStatus":[{"service":"Teams",' ..
      '"status":"failed","message":"m","errors":[{"code":"c",' ..
      '"message":"e"}]}]}' },
    { "GET", J .. "/users/" .. F.TASK }, { "GET", J .. "/users/nope" },
    { "POST", J .. "/users/" .. U .. "/cancel" },
    { "POST", J .. "/users/" .. U .. "/cancel" },
    -- query options
    { "GET", JOBS .. "?$top=0" }, { "GET", JOBS .. "?$top=1000" },
    { "GET", JOBS .. "?$top=abc" }, { "GET", JOBS .. "?$top=" },
    { "GET", JOBS .. "?$top=0001" }, { "GET", JOBS .. "?$top=99999999999999999999" },
    { "GET", JOBS .. "?$skip=-1" }, { "GET", JOBS .. "?$skip=1" },
    { "GET", JOBS .. "?$skip=9223372036854775807" },
    { "GET", JOBS .. "?$skip=9223372036854775808" },
    { "GET", JOBS .. "?$count=maybe" }, { "GET", JOBS .. "?$count=TRUE" },
    { "GET", JOBS .. "?$count=false" }, { "GET", JOBS .. "?$frobnicate=1" },
    { "GET", JOBS .. "?$top=1&$top=2" }, { "GET", JOBS .. "?$TOP=1&$top=2" },
    { "GET", JOBS .. "?top=1&$top=2" }, { "GET", "/v1.0/" .. JOBS:sub(7) ..
      "?top=1" }, { "GET", JOBS .. "?$skiptoken=garbage" },
    { "GET", JOBS .. "?$search=x" }, { "GET", JOBS .. "?$format=json" },
    { "GET", JOBS .. "?$apply=x" }, { "GET", JOBS .. "?compute=x" },
    { "GET", JOBS .. "?foo=bar&&&=&x" }, { "GET", JOBS .. "?$top=%zz" },
    { "GET", JOBS .. "?%zz=1" }, { "GET", JOBS .. "?$filter=a+b" },
    { "POST", JOBS .. "?$top=1", F.job_body { displayName = "q" } },
    { "POST", JOBS .. "?$nope=1", F.job_body { displayName = "q" } },
    { "POST", JOBS .. "?foo=1", F.job_body { displayName = "q2",
      resources = F.users(1, "eeeeeeee") } },
    { "GET", J .. "?$top=1" }, { "GET", J .. "?$select=status" },
    { "GET", J .. "?$select=status,displayName,status" },
    { "GET", J .. "?$select= status , id " }, { "GET", J .. "?$select=*" },
    { "GET", J .. "?$select=status,*" }, { "GET", J .. "?$select=bogus,*" },
    { "GET", J .. "?$select=" }, { "GET", J .. "?$select=," },
    { "GET", J .. "?$select=users" }, { "GET", J .. "?$expand=users" },
    { "GET", J .. "?$expand=%20users%20" }, { "GET", J .. "?$expand=Users" },
    { "GET", J .. "?$expand=users($select=id)" },
    { "GET", J .. "?$expand=users&$select=displayName" },
    { "GET", JOBS .. "?$expand=users&$select=displayName&$top=1&$count=true" },
    { "GET", JOBS .. "?$select=status&$top=1&$count=true" },
    { "GET", JOBS .. "?$filter=status%20eq%20'submitted'&$orderby=" ..
      "displayName%20desc&$top=1&$count=true&$select=displayName" },
    { "GET", JOBS .. "?$filter=status%20eq%20" }, { "GET", JOBS ..
      "?$orderby=colour" }, { "GET", JOBS .. "?$filter=" },
    { "GET", J .. "/users?$select=taskType&$top=1&$count=true" },
    { "GET", J .. "/users?$select=currentStatus,lastUpdatedDateTime" },
    { "GET", J .. "/users?$expand=users" },
    { "GET", J .. "/users?$filter=currentStatus/any(s:s/status%20eq%20" ..
      "'notStarted')&$orderby=id%20desc&$top=2" },
    { "GET", J .. "/users/" .. U .. "?$select=taskType" },
    { "GET", J .. "/users/" .. U .. "?$top=1" },
    { "GET", JOBS .. "?$skiptoken=" },
    -- tokens
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = F.READ } },
    { "POST", JOBS, F.job_body { displayName = "t1",
      resources = F.users(1, "ffffffff") }, auth { tid = F.TARGET,
      upn = "ops@x", scp = F.WRITE } },
    { "POST", JOBS, F.job_body(), auth { tid = F.TARGET, scp = F.READ ..
      " User.Read  " .. F.READ } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = "User.Read" } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, roles = { F.READ, "B", "A" } } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, roles = {} } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, roles = { 1 } } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, roles = F.WRITE } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, roles = { x = F.WRITE } } },
    { "GET", JOBS, nil, auth('{"tid":"87654321-4321-4321-4321-210987654321",' ..
      '"roles":{}}') },
    { "GET", JOBS, nil, auth('{"tid":"87654321-4321-4321-4321-210987654321",' ..
      '"roles":[null]}') },
    { "GET", JOBS, nil, auth { tid = "contoso", scp = F.WRITE } },
    { "GET", JOBS, nil, auth { tid = 5 } }, { "GET", JOBS, nil,
      auth { upn = "a@b" } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = { F.WRITE } } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, upn = 7 } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, oid = false } },
    { "GET", JOBS, nil, auth('{"tid":"87654321-4321-4321-4321-210987654321",' ..
      '"upn":null}') },
    { "GET", JOBS, nil, auth('{"tid":"87654321-4321-4321-4321-210987654321",' ..
      '"exp":null,"scp":"' .. F.READ .. '"}') },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = F.READ, exp = 1 } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = F.READ, exp = 1.5 } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = F.READ,
      exp = 1762419600 } },
    { "GET", JOBS, nil, auth { tid = F.TARGET, scp = F.READ,
      exp = 1762419601 } },
    { "GET", JOBS, nil, auth "[]" }, { "GET", JOBS, nil, auth "[1]" },
    { "GET", JOBS, nil, auth '"x"' }, { "GET", JOBS, nil, auth "{" },
    { "GET", JOBS, nil, { Authorization = "Bearer not-a-jwt" } },
    { "GET", JOBS, nil, { Authorization = "Basic abc" } },
    { "GET", JOBS, nil, { Authorization = "" } },
    { "GET", JOBS, nil, { Authorization = "Bearer" } },
    { "GET", JOBS, nil, { Authorization = "Bearer " } },
    { "GET", JOBS, nil, { Authorization = "Bearer\ta.b.c" } },
    { "GET", JOBS, nil, { Authorization = "bearer   a.b.c  \t" } },
    { "GET", JOBS, nil, { Authorization = "BEARER a.b.c d" } },
    { "GET", JOBS, nil, { Authorization = "Bearer a.b" } },
    { "GET", JOBS, nil, { Authorization = "Bearer a.b.c.d" } },
    { "GET", JOBS, nil, { Authorization = "Bearer a.e30.c" } },
    { "GET", JOBS, nil, { Authorization = "Bearer a.e30=.c" } },
    { "GET", JOBS, nil, { Authorization = "Bearer a.e.c" } },
    { "GET", JOBS, nil, { Authorization = "Bearer .e30." } },
    { "GET", "/beta/nowhere", nil, { Authorization = "Bearer x" } },
    -- the actions, in an order that walks the statuses
    { "POST", J .. "/validate" }, { "POST", J .. "/validate" },
    { "POST", J .. "/migrate" }, { "DELETE", J },
    { "POST", J .. "/cancel" }, { "POST", J .. "/cancel" },
  }
end

describe("the core's request path against the Lua oracle", function()
  it("answers every request shape of the request specs alike", function()
    local t = twins()
    local job
    t:each(function(g) job = assert(g:create_job(F.job_body())) end)
    for i, r in ipairs(shapes(job.id)) do
      t:send(r[1], r[2], r[3], r[4], "shape " .. i)
    end
    t:advance(3600)
    for i, r in ipairs(shapes(job.id)) do
      t:send(r[1], r[2], r[3], r[4], "shape " .. i .. " later")
    end
  end)

  it("answers alike when tokens are required", function()
    local t = twins { require_token = true }
    for i, r in ipairs(shapes("x")) do
      t:send(r[1], r[2], r[3], r[4], "shape " .. i)
    end
  end)

  it("pages alike through links it wrote", function()
    local t = twins()
    t:each(function(g)
      for i = 1, 25 do
        g:advance(1)
        assert(g:create_job(F.job_body { displayName = "job " .. i,
          resources = { F.users(25)[i] } }))
      end
    end)
    for _, first in ipairs { JOBS, JOBS .. "?$top=7&$count=true&$select=" ..
      "status,displayName", JOBS .. "?$orderby=displayName%20desc&top=4&" ..
      "$filter=startswith(displayName,'job%201')&$expand=users" } do
      local url = first
      while url do
        local _, page = t:send("GET", url)
        url = page["@odata.nextLink"]
      end
    end
  end)
end)

-- The random walk ------------------------------------------------------------

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
  function r.chance(p) return r.int(1000) <= p * 1000 end
  return r
end

local TENANTS = { F.TARGET, "11111111-1111-4111-8111-111111111111" }
local USERS = F.users(16, "cccccccc")
local NAMES = { "wave 1", "Wave 1", "wave 2", "émigration", "pilot", "o'neil" }
local TIMES = { "2025-11-06T09:30:00Z", "2025-11-06T12:00:00.5+01:00",
                "2025-11-20T08:00:00.1234567Z", "2025-11-05T00:00:00Z" }
local TOKENS = {}
for _, t in ipairs(TENANTS) do
  TOKENS[t] = { F.token { tid = t, upn = "ops@" .. t:sub(1, 8),
                          scp = F.WRITE },
                F.token { tid = t, oid = "reader", roles = { F.READ } } }
end

local function random_request(r, known)
  local tenant = r.pick(TENANTS)
  local headers = { Authorization = TOKENS[tenant][1] }
  if tenant == F.TARGET and r.chance(0.3) then headers = nil end
  if r.chance(0.1) then
    headers = headers or {}
    headers["client-request-id"] = r.pick { "c-1", "", "\xc3(" }
  end
  local jobs = known[tenant]
  local key
  if #jobs > 0 and r.chance(0.85) then
    local j = r.pick(jobs)
    key = r.pick { j.id, j.name, j.id:upper() }
  else
    key = r.pick { "nope", "00000000-0000-4000-8000-000000000000",
                   r.pick(NAMES) }
  end
  local job_url = r.chance(0.2) and
    "/v1.0/solutions/migrations/crossTenantMigrationJobs(displayName='" ..
    key:gsub("'", "''"):gsub(" ", "%%20") .. "')"
    or JOBS .. "/" .. key:gsub(" ", "%%20")
  local roll = r.int(100)
  if roll <= 18 then
    local res = {}
    for _ = 1, r.int(3) do res[#res + 1] = r.pick(USERS) end
    local body = {
      displayName = r.pick(NAMES), completeAfterDateTime = r.pick(TIMES),
      sourceTenantId = F.SOURCE, resourceType = "Users", resources = res,
      workloads = r.pick { { "Teams" }, { "ODSP", "Exchange" } },
      exchangeSettings = { sourceEndpoint = "e", targetDeliveryDomain = "d" },
    }
    local bad = r.int(10)
    if bad == 1 then body.displayName = null
    elseif bad == 2 then body.resources = { "not-a-guid" }
    elseif bad == 3 then body.color = "red" end
    if r.chance(0.3) then body = encode(body) end
    if bad == 4 then body = encode(body):sub(1, r.int(30)) end
    return "POST", JOBS, body, headers
  elseif roll <= 28 then
    local body = { taskType = "user", lastUpdatedDateTime = r.pick(TIMES) }
    if r.chance(0.7) then body.id = r.pick(USERS) end
    if r.chance(0.3) then
      body.currentStatus = { { service = r.pick { "Teams", "ODSP", "X" },
                               status = r.pick { "failed", "valid" } } }
    end
    return "POST", job_url .. "/users", body, headers
  elseif roll <= 34 then
    return "PATCH", job_url, r.chance(0.8) and
      { completeAfterDateTime = r.pick(TIMES) } or { displayName = "x" },
      headers
  elseif roll <= 42 then
    return "POST", job_url .. "/" .. r.pick { "validate", "migrate",
      "cancel" }, nil, headers
  elseif roll <= 46 then
    return "DELETE", job_url, nil, headers
  elseif roll <= 52 then
    return "POST", job_url .. "/users/" .. r.pick(USERS) .. "/cancel", nil,
      headers
  elseif roll <= 75 then
    if r.chance(0.3) then headers = { Authorization = TOKENS[tenant][2] } end
    return "GET", r.pick {
      job_url, job_url .. "/users?$top=2&$count=true",
      job_url .. "/users/" .. r.pick(USERS), job_url .. "/users/$count",
      job_url .. "?$expand=users&$select=status,resources",
      JOBS .. "?$top=3&$count=true&$orderby=displayName",
      JOBS .. "?$filter=status%20eq%20'" .. r.pick { "submitted",
        "validatePassed", "inProgress" } .. "'",
      JOBS .. "/$count", JOBS .. "?$top=0", job_url .. "?$skip=1" },
      nil, headers
  elseif roll <= 88 then
    return "ADVANCE", r.pick { 60, 600, 3600, 86400 }
  else
    return r.pick { "PUT", "GET", "POST" }, job_url .. r.pick { "/x", "",
      "/users/x/cancel" }, r.chance(0.5) and { x = 1 } or nil,
      { Authorization = r.pick { "Bearer junk", TOKENS[tenant][2] } }
  end
end

local function walk(t, r, steps)
  local known = {}
  for _, tn in ipairs(TENANTS) do known[tn] = {} end
  for step = 1, steps do
    local m, url, body, headers = random_request(r, known)
    if m == "ADVANCE" then
      t:advance(url)
    else
      local status, res = t:send(m, url, body, headers, "step " .. step)
      if m == "POST" and url == JOBS and status == 201 then
        local tn = F.TARGET
        local a = headers and headers.Authorization
        for k, v in pairs(TOKENS) do
          if v[1] == a then tn = k end
        end
        table.insert(known[tn], { id = res.id, name = res.displayName })
      end
    end
  end
end

describe("a seeded random walk through both request paths", function()
  it(("answers alike for %d steps"):format(STEPS), function()
    walk(twins { seed = 11, failure_rate = 0.05 }, generator(20251129),
         STEPS)
  end)

  it("answers alike with throttling and faults armed", function()
    local t = twins { seed = 5, fault_rate = { [429] = 0.1, [503] = 0.05 },
                      retry_after = 2, throttle = { requests = 30,
                                                    per = 60 } }
    t:each(function(g)
      g:fault { status = 504, method = "POST",
                path = "/crossTenantMigrationJobs/*/validate", times = 3 }
    end)
    walk(t, generator(7), math.max(100, STEPS // 2))
    local c1, c2, c3 = t[1]:fault_counts(), t[2]:fault_counts(),
                       t[3]:fault_counts()
    assert.is_true(c1[429] > 0 and c1[503] > 0 and c1[504] > 0)
    for _, st in ipairs { 429, 503, 504 } do
      assert.are.equal(c1[st], c2[st])
      assert.are.equal(c1[st], c3[st])
    end
  end)
end)

-- What the oracle predates -----------------------------------------------------

describe("the core's request path", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  -- s:op checks its store against the metatable it holds (lrequest.c,
  -- op_box): anything else is refused as lct_checkbox refuses it
  it("refuses to run an operation on anything but an open store",
     function()
    local op = graph._core.op
    local ok, err = pcall(op, {}, "create_task")
    assert.is_false(ok)
    assert.matches("crosstenant.store expected, got table", err, 1, true)
    ok, err = pcall(op, io.stdout, "create_task")
    assert.is_false(ok)
    assert.matches("crosstenant.store expected, got FILE*", err, 1, true)
    local other = F.graph()
    other._core:close()
    ok, err = pcall(op, other._core, "create_task")
    assert.is_false(ok)
    assert.matches("attempt to use a closed store", err, 1, true)
  end)

  it("matches query property names case-insensitively and writes the " ..
     "documented spelling", function()
    local status, body = graph:request("GET", JOBS .. "/" .. job.id ..
                                       "?$select=DISPLAYNAME,Status")
    assert.are.equal(200, status)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
      "solutions/migrations/crossTenantMigrationJobs(displayName,status)" ..
      "/$entity", body["@odata.context"])
    assert.are.equal(job.displayName, body.displayName)
    assert.is_nil(body.Status)
    assert.are.equal(job.status, body.status)
    local s2, b2 = graph:request("GET", JOBS .. "/" .. job.id ..
                                 "/users?$select=TASKTYPE,tasktype")
    assert.are.equal(200, s2)
    assert.are.equal("user", b2.value[1].taskType)
    assert.is_nil(b2.value[1].currentStatus)
    assert.matches("/users%(taskType%)$", b2["@odata.context"])
  end)

  it("still refuses an unknown property in $select", function()
    local status, body = graph:request("GET", JOBS .. "?$select=colour")
    assert.are.equal(400, status)
    assert.are.equal("Invalid $select: unknown property 'colour'.",
                     body.error.message)
  end)

  it("writes the caller's base URL into links and takes it in targets",
     function()
    local base = "http://127.0.0.1:8080"
    local s, body, h = graph._core:request_text("POST", base .. JOBS,
      encode(F.job_body { displayName = "b", resources = F.users(1) }), nil,
      F.TARGET, "u", base)
    assert.are.equal(201, s)
    local created = crosstenant.decode(body)
    assert.are.equal(base .. "/beta/$metadata#solutions/migrations/" ..
      "crossTenantMigrationJobs/$entity", created["@odata.context"])
    assert.are.equal(base .. JOBS .. "/" .. created.id, h.Location)
    local s2, page = graph._core:request("GET", "HTTP://127.0.0.1:8080" ..
      JOBS .. "?$top=1", nil, nil, F.TARGET, "u", base)
    assert.are.equal(200, s2)
    assert.matches("^http://127%.0%.0%.1:8080/beta/solutions/migrations/" ..
      "crossTenantMigrationJobs%?%$top=1&%$skiptoken=",
      page["@odata.nextLink"])
    local s3, err = graph._core:request("GET", "https://graph.microsoft.com" ..
      JOBS, nil, nil, F.TARGET, "u", base)
    assert.are.equal(404, s3)
    assert.are.equal("Unknown host or scheme in 'https://graph.microsoft." ..
      "com" .. JOBS .. "'; the model answers " .. base .. ".",
      err.error.message)
    local s4, e4 = graph._core:request("GET", "solutions", nil, nil,
      F.TARGET, "u", base)
    assert.are.equal(400, s4)
    assert.are.equal("The URL must start with '/' or '" .. base .. "/'.",
                     e4.error.message)
  end)

  it("answers on after a call that raised, and from a finalizer that runs " ..
     "during a request", function()
    assert.has_error(function()
      graph._core:request("GET", JOBS, nil, { [1] = "x" }, F.TARGET, "u")
    end, "bad argument #4 to 'request' (header names must be strings)")
    assert.has_error(function()
      graph._core:request("GET", JOBS, 5, nil, F.TARGET, "u")
    end)
    local inner
    for _ = 1, 200 do           -- garbage whose finalizer makes a request
      setmetatable({}, { __gc = function()
        inner = select(1, graph:request("GET", JOBS .. "/" .. job.id))
      end })
    end
    local status, body = graph:request("GET", JOBS .. "?$expand=users")
    collectgarbage()
    assert.are.equal(200, status)
    assert.are.equal(job.id, body.value[1].id)
    assert.are.equal(3, #body.value[1].users)
    assert.are.equal(200, inner)
    assert.are.equal(200, (graph:request("GET", JOBS .. "/" .. job.id)))
  end)

  it("writes $count as text/plain", function()
    local s, text, h = graph._core:request_text("GET", JOBS .. "/$count",
      nil, nil, F.TARGET, "u")
    assert.are.equal(200, s)
    assert.are.equal("1", text)
    assert.are.equal("text/plain", h["Content-Type"])
  end)

  it("runs the methods through the same operations", function()
    local t = assert(graph:get_task(job.id, F.RESOURCES[1]))
    local _, body = graph:request("GET", JOBS .. "/" .. job.id .. "/users/" ..
                                  F.RESOURCES[1])
    assert.are.equal(encode(body), encode(t))
    local list = assert(graph:list_jobs { top = 1, count = true,
                                          select = "STATUS" })
    assert.are.equal(1, list["@odata.count"])
    assert.is_nil(list.value[1].displayName)
    local _, e = graph:list_jobs { [1] = "x" }
    assert.are.equal("Query option names must be strings.", e.message)
    _, e = graph:list_jobs { top = 1, ["$top"] = 2 }
    assert.are.equal("Query option '$top' is given twice.", e.message)
    _, e = graph:list_jobs { top = {} }
    assert.are.equal("Query option '$top' must be text, a number or a " ..
                     "boolean.", e.message)
    _, e = graph:list_tasks(job.id, { expand = "users" })
    assert.are.equal("Query option '$expand' is not supported on this " ..
                     "request.", e.message)
  end)
end)
