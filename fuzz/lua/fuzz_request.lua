--- Harness of fuzz/fuzz_request.c: one input, up to 4 requests against a
-- fresh store that holds a few jobs in two tenants.  Input format:
--
--   METHOD                       (ADVANCE: move the clock by the URL line)
--   URL                          (path or whole URL, with query string)
--   Name: value                  (header lines, up to an empty line)
--
--   body text                    (no empty line above: no body at all)
--   %%                           (a line holding only %% starts the next)
--
-- graph:request never raises for data: the C side calls this function
-- under lua_pcall and any error is a finding.  Checked after every
-- request: the status is one the model documents; the body, headers and
-- error envelope have their shape; the body encodes to valid UTF-8
-- JSON; a refused request (status >= 400) leaves every tenant's full
-- listing byte-identical; every listed job can be fetched and its
-- resources are its tasks.  At the end, the successful requests alone
-- are replayed on a new store with the same seed: same answers, same
-- final listing (a refused request uses no ids).
local crosstenant = require "crosstenant"
local core = require "crosstenant.core"

local encode = crosstenant.encode
local TICKS = 10000000

local NOW = "2025-11-06T09:00:00Z"
local SOURCE = "12345678-1234-1234-1234-123456789012"
local TARGET = "87654321-4321-4321-4321-210987654321"
local OTHER = "11111111-1111-4111-8111-111111111111"
local RESOURCES = {
  "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
  "63f15b55-f61a-49cb-a599-2e3d233afb2c",
  "41d94bac-3a53-47d6-a89e-583830104e15",
}

local function fail(fmt, ...)
  error("fuzz_request: " .. fmt:format(...), 0)
end

-- CT_FUZZ_LENIENT=utf8 (a comma list) turns a check for a known, reported
-- bug into a count on stderr, so a long campaign gets past it; replays
-- and `make fuzz` run every check.
local LENIENT = {}
for name in (os.getenv("CT_FUZZ_LENIENT") or ""):gmatch("[^,%s]+") do
  LENIENT[name] = 0
end

local function known(name, fmt, ...)
  if LENIENT[name] then
    LENIENT[name] = LENIENT[name] + 1
    if LENIENT[name] & (LENIENT[name] - 1) == 0 then   -- 1, 2, 4, 8, ...
      io.stderr:write(("fuzz_request: known issue '%s' seen %d times\n")
                      :format(name, LENIENT[name]))
    end
    return
  end
  fail(fmt, ...)
end

local function job_body(name, resources, workloads)
  return {
    displayName = name,
    completeAfterDateTime = "2025-12-09T22:48:03.092Z",
    exchangeSettings = {
      targetDeliveryDomain = "xtmigration.onmicrosoft.com",
      sourceEndpoint = "sampleEndpointText",
    },
    resources = resources,
    resourceType = "Users",
    sourceTenantId = SOURCE,
    workloads = workloads,
  }
end

--- The starting store: "fuzzjob" (submitted, 3 users, every workload),
-- "fuzzjob2" (validatePassed, 2 users, Teams) in the default tenant,
-- "otherjob" in tenant OTHER.  Seeded: the same ids every time.
local function new_graph()
  local g = crosstenant.new { seed = 1, now = NOW }
  assert(g:create_job(job_body("fuzzjob", RESOURCES)))
  local j2 = assert(g:create_job(job_body("fuzzjob2", {
    "aaaaaaaa-0000-4000-8000-000000000001",
    "aaaaaaaa-0000-4000-8000-000000000002" }, { "Teams" })))
  assert(g:validate_job(j2.id))
  g:advance(3600)
  assert(g._core:job_create(OTHER, "o@other", job_body("otherjob",
    { RESOURCES[1] })))
  return g
end

-- Input ---------------------------------------------------------------------

--- the line at `pos`: text, next position, whether a newline ended it
local function line_at(s, pos)
  if pos > #s then return nil, pos, false end
  local nl = s:find("\n", pos, true)
  if not nl then return s:sub(pos), #s + 1, false end
  return s:sub(pos, nl - 1), nl + 1, true
end

local function parse_request(s)
  local r = { headers = {} }
  local pos, nl
  r.method, pos = line_at(s, 1)
  r.url, pos, nl = line_at(s, pos)
  r.method, r.url = r.method or "", r.url or ""
  if not nl then return r end
  while true do
    local line
    line, pos, nl = line_at(s, pos)
    if line == nil then return r end          -- no empty line: no body
    if line == "" then break end
    if #r.headers < 4 then
      local name, value = line:match("^([^:]*):[ \t]*(.*)$")
      r.headers[#r.headers + 1] = { name or line, value or "" }
    end
    if not nl then return r end
  end
  r.body = s:sub(pos)
  return r
end

local function parse_input(data)
  local reqs, pos = {}, 1
  while #reqs < 4 do
    local a, b = data:find("\n%%\n", pos, true)
    if not a then
      reqs[#reqs + 1] = parse_request(data:sub(pos))
      break
    end
    reqs[#reqs + 1] = parse_request(data:sub(pos, a - 1))
    pos = b + 1
  end
  return reqs
end

-- Tenants ------------------------------------------------------------------

local B64 = {}
do
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" ..
                "0123456789-_"
  for i = 1, #chars do B64[chars:byte(i)] = i - 1 end
end

local function b64url(s)
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    local v = B64[s:byte(i)]
    if not v then return nil end
    bits = ((bits << 6) | v) & 0xffffff
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xff)
    end
  end
  return table.concat(out)
end

--- the tenant a token names, if it names one: its store gets listed too
local function token_tenant(value)
  local payload = value:match("%.([%w_-]*)%.")
  local text = payload and b64url(payload)
  local claims = text and core.decode(text)
  if type(claims) == "table" and type(claims.tid) == "string" then
    return core.guid(claims.tid)
  end
  return nil
end

-- Listings and invariants ---------------------------------------------------

local function sorted_keys(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return t
end

--- Every job of tenant `t`, then the tasks of job `id`, through the
-- core's pages (default order: jobs newest first, tasks as added).
local function all_jobs(c, t)
  local out, token = {}, nil
  repeat
    local jobs, nxt = c:query_jobs(t, { top = 500, token = token })
    if not jobs then fail("listing jobs failed: %s", nxt.message) end
    table.move(jobs, 1, #jobs, #out + 1, out)
    token = nxt
  until not token
  return out
end

local function all_tasks(c, t, id)
  local out, token = {}, nil
  repeat
    local tasks, nxt = c:query_tasks(t, id, false, { top = 500,
                                                    token = token })
    if not tasks then fail("a listed job's tasks can't be listed") end
    table.move(tasks, 1, #tasks, #out + 1, out)
    token = nxt
  until not token
  return out
end

--- Every job and task of every tenant in `tenants`, the clock, the next
-- due time and the store's counts, as one text.
local function snapshot(g, tenants)
  local c = g._core
  local st = c:stats()
  local out = { tostring(c:now()), tostring(c:next_due()),
                tostring(st.tasks), tostring(st.tenants) }
  for _, t in ipairs(sorted_keys(tenants)) do
    out[#out + 1] = "tenant " .. t
    for _, job in ipairs(all_jobs(c, t)) do
      out[#out + 1] = encode(job)
      for _, task in ipairs(all_tasks(c, t, job.id)) do
        out[#out + 1] = encode(task)
      end
    end
  end
  return table.concat(out, "\n")
end

--- Every listed job can be fetched, and its resources are its tasks.
local function check_jobs(g, tenants)
  local c = g._core
  for t in pairs(tenants) do
    for _, job in ipairs(all_jobs(c, t)) do
      local again = c:job_get(t, job.id, false)
      if not again or encode(again) ~= encode(job) then
        fail("listed job %s can't be fetched as listed", job.id)
      end
      local tasks = all_tasks(c, t, job.id)
      if #tasks ~= #job.resources then
        fail("job %s: %d resources, %d tasks", job.id, #job.resources,
             #tasks)
      end
      for i, task in ipairs(tasks) do
        if task.id ~= job.resources[i] then
          fail("job %s: resources[%d] is not task %d", job.id, i - 1, i)
        end
      end
    end
  end
end

-- Responses -----------------------------------------------------------------

local ERROR_CODES = {
  [400] = { invalidRequest = true }, [401] = { unauthenticated = true },
  [403] = { accessDenied = true }, [404] = { itemNotFound = true },
  [405] = { notSupported = true },
  [409] = { nameAlreadyExists = true, notAllowed = true },
  [413] = { invalidRequest = true },
}
local INNER = { invalidProperty = true, propertyNotUpdateable = true,
                invalidQueryOption = true }
local OK = { [200] = true, [201] = true, [202] = true, [204] = true }

local function check_response(r, status, body, headers)
  local what = ("%q %q"):format(r.method:sub(1, 20), r.url:sub(1, 80))
  if math.type(status) ~= "integer" then
    fail("%s: status is %s", what, tostring(status))
  end
  if type(headers) ~= "table" or
     not core.guid(tostring(headers["request-id"])) then
    fail("%s: no request-id header", what)
  end
  if status >= 400 then
    local codes = ERROR_CODES[status]
    if not codes then fail("%s: unexpected status %d", what, status) end
    local e = type(body) == "table" and body.error
    if type(e) ~= "table" or not codes[e.code] then
      fail("%s: %d with error code %s", what, status,
           tostring(type(e) == "table" and e.code))
    end
    if type(e.message) ~= "string" or e.message == "" then
      fail("%s: %d without a message", what, status)
    end
    local inner = e.innerError
    if type(inner) ~= "table" or type(inner.date) ~= "string" or
       inner["request-id"] ~= headers["request-id"] or
       type(inner["client-request-id"]) ~= "string" or
       (inner.code ~= nil and not INNER[inner.code]) then
      fail("%s: a malformed innerError", what)
    end
  elseif not OK[status] then
    fail("%s: unexpected status %d", what, status)
  elseif status == 204 and body ~= nil then
    fail("%s: 204 with a body", what)
  elseif status ~= 204 and status ~= 202 and type(body) ~= "table" and
         not (status == 200 and type(body) == "string" and
              body:match("^%d+$")) then        -- /$count is text/plain
    fail("%s: %d without a body", what, status)
  end
  if body ~= nil then
    local ok, text = pcall(encode, body)
    if not ok then fail("%s: the body can't be encoded: %s", what, text) end
    if not core.utf8_valid(text) then
      known("utf8", "%s: the %d body is not valid UTF-8: %s", what, status,
            text:sub(1, 300))
    end
  end
end

-- The run -------------------------------------------------------------------

local LIMIT = 30 * 366 * 86400 * TICKS    -- ~30 years of ticks

--- ADVANCE: seconds or an ISO 8601 duration, within ~30 years (the clock
-- itself is not what this target explores); false when not taken.
local function advance(g, arg)
  local n = math.tointeger(tonumber(arg))
  if n and n >= 0 and n <= LIMIT // TICKS then
    g:advance(n)
    return true
  end
  local ticks = core.duration_parse(arg)
  if ticks and ticks <= LIMIT then
    g:advance(arg)
    return true
  end
  return false
end

local function headers_of(r)
  local h = {}
  for _, nv in ipairs(r.headers) do
    local name, value = nv[1], nv[2]
    -- the same name twice: the table keeps the first value, and the
    -- second one goes in under another spelling when there is one
    if h[name] == nil then h[name] = value
    elseif h[name:upper()] == nil then h[name:upper()] = value
    elseif h[name:lower()] == nil then h[name:lower()] = value end
  end
  return h
end

local function run(data)
  local reqs = parse_input(data)
  local g = new_graph()
  local tenants = { [TARGET] = true, [OTHER] = true }
  local done = {}
  for _, r in ipairs(reqs) do
    if r.method == "ADVANCE" then
      if advance(g, r.url) then done[#done + 1] = { advance = r.url } end
    else
      local h = headers_of(r)
      for name, value in pairs(h) do
        if name:lower() == "authorization" then
          local t = token_tenant(value)
          if t then tenants[t] = true end
        end
      end
      local before = snapshot(g, tenants)
      local status, body, headers = g:request(r.method, r.url, r.body, h)
      check_response(r, status, body, headers)
      if status >= 400 then
        if snapshot(g, tenants) ~= before then
          fail("%q %q was refused (%d) but changed the store",
               r.method:sub(1, 20), r.url:sub(1, 80), status)
        end
      else
        done[#done + 1] = { r = r, h = h, status = status,
                            body = body and encode(body) }
      end
    end
    check_jobs(g, tenants)
  end
  -- the successful requests alone give the same answers and store
  local final = snapshot(g, tenants)
  g:close()
  local g2 = new_graph()
  for i, d in ipairs(done) do
    if d.advance then
      advance(g2, d.advance)
    else
      local status, body = g2:request(d.r.method, d.r.url, d.r.body, d.h)
      if status ~= d.status or (body and encode(body)) ~= d.body then
        fail("replaying success %d without the refusals gave %d, not %d", i,
             status, d.status)
      end
    end
  end
  if snapshot(g2, tenants) ~= final then
    fail("the successful requests alone made another store")
  end
  g2:close()
end

-- callable; new_graph and parse_input are for fuzz/make_seeds.lua
return setmetatable({ new_graph = new_graph, parse_input = parse_input },
                    { __call = function(_, data) return run(data) end })
