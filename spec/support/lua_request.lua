--- The request path as it was written in Lua (lua/crosstenant/http.lua
-- before the core answered requests), kept as the oracle of the
-- differential spec (spec/15_request_c_spec.lua): the C path must answer
-- every request byte for byte as this one does.  Test code only.
-- URL parsing, routing, tokens and permissions, query options, and the
-- shape of every response (status, body table, headers).
local core = require "crosstenant.core"

local M = {}

local JOBS = "solutions/migrations/crossTenantMigrationJobs"
local ct = {}
function ct.context(version, what)
  return "https://graph.microsoft.com/" .. version .. "/$metadata#" .. what
end
function ct.task_entity(task, version, selection)
  local jid = task["@job"]
  task["@job"] = nil
  task["@odata.context"] = ct.context(version, JOBS .. "('" .. jid ..
                                      "')/users" .. (selection or "") ..
                                      "/$entity")
  return jid
end
local READ = "CrossTenantContentMigration.Read.All"
local WRITE = "CrossTenantContentMigration.ReadWrite.All"
local DEFAULT_TOP, MAX_TOP = 20, 999

-- Headers: names are case-insensitive both ways --------------------------

local Headers = {}
Headers.__index = function(t, k)
  if type(k) ~= "string" then return nil end
  local lk = k:lower()
  for name, v in pairs(t) do
    if name:lower() == lk then return v end
  end
  return nil
end

local function response_headers(client_request_id, request_id, extra)
  local h = setmetatable({ ["request-id"] = request_id,
                           ["client-request-id"] = client_request_id
                                                   or request_id }, Headers)
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

-- Errors -------------------------------------------------------------------

local function fail(graph, req, status, code, message, inner)
  local e = graph:_error({ status = status, code = code, message = message,
                           inner = inner }, req.client_request_id)
  return e
end

local function answer_error(req, e)
  return e.status, e.body,
         response_headers(req.client_request_id,
                          e.body.error.innerError["request-id"],
                          { ["Content-Type"] = "application/json",
                            -- throttling and transient faults
                            ["Retry-After"] = e.retry_after and
                                              tostring(e.retry_after) })
end

-- Query options -----------------------------------------------------------

local function query_error(msg)
  return nil, { status = 400, code = "invalidRequest",
                inner = "invalidQueryOption", message = msg }
end

-- every system query option Graph knows; the ones each operation takes
local KNOWN = { ["$filter"] = true, ["$select"] = true, ["$orderby"] = true,
                ["$count"] = true, ["$expand"] = true, ["$skip"] = true,
                ["$top"] = true, ["$skiptoken"] = true, ["$search"] = true,
                ["$format"] = true, ["$apply"] = true, ["$compute"] = true }
local function set(...)
  local t = {}
  for _, k in ipairs { ... } do t[k] = true end
  return t
end
local TAKES = {
  list_jobs = set("$filter", "$select", "$orderby", "$count", "$expand",
                  "$skip", "$top", "$skiptoken"),
  get_job = set("$select", "$expand"),
  list_tasks = set("$filter", "$select", "$orderby", "$count", "$skip",
                   "$top", "$skiptoken"),
  get_task = set("$select"),
  count_jobs = set("$filter"),
  count_tasks = set("$filter"),
}

-- properties $select may name, per type, by lowercased name: query
-- property names match case-insensitively (behavior.md, as Graph's OData
-- stack on directory resources); the response uses the documented spelling
local function spellings(...)
  local t = {}
  for _, k in ipairs { ... } do t[k:lower()] = k end
  return t
end
local JOB_PROPS = spellings("id", "displayName", "jobType", "sourceTenantId",
  "targetTenantId", "completeAfterDateTime", "status", "message",
  "createdDateTime", "createdBy", "lastUpdatedDateTime", "exchangeSettings",
  "workloads", "resourceType", "resources")
local TASK_PROPS = spellings("id", "taskType", "lastUpdatedDateTime",
                       "currentStatus")

local function check_select(v, props)
  local list, seen = {}, {}
  if v == "" then return query_error("Invalid $select: it is empty.") end
  for name in (v .. ","):gmatch("([^,]*),") do
    local given = name:match("^%s*(.-)%s*$")
    if given == "*" then return { all = true } end
    local n = props[given:lower()]
    if not n then
      return query_error("Invalid $select: unknown property '" ..
                         given:sub(1, 60) .. "'.")
    end
    if not seen[n] then
      seen[n] = true
      list[#list + 1] = n
    end
  end
  return { names = list, set = seen }
end

--- Checks and normalises the query options of operation `op`: returns
-- { filter=, orderby=, select=, expand=, count=, skip=, top=,
-- skiptoken= } or nil + err.  `raw` maps names (with `$`) to text.
local function check_query(raw, op)
  local q = {}
  for name, v in pairs(raw) do
    if not KNOWN[name] or name == "$search" or name == "$format" or
       name == "$apply" or name == "$compute" then
      return query_error("Query option '" .. name .. "' is not supported.")
    end
    if not TAKES[op][name] then
      return query_error("Query option '" .. name .. "' is not supported " ..
                         "on this request.")
    end
    if name == "$top" or name == "$skip" then
      local n = v:match("^%d+$") and math.tointeger(tonumber(v))
      if name == "$top" and (not n or n < 1 or n > MAX_TOP) then
        return query_error("Query option '$top' must be an integer from 1 " ..
                           "to 999, not '" .. v:sub(1, 60) .. "'.")
      elseif name == "$skip" and not n then
        return query_error("Query option '$skip' must be an integer of 0 " ..
                           "or more, not '" .. v:sub(1, 60) .. "'.")
      end
      q[name:sub(2)] = n
    elseif name == "$count" then
      local l = v:lower()
      if l ~= "true" and l ~= "false" then
        return query_error("Query option '$count' must be true or false, " ..
                           "not '" .. v:sub(1, 60) .. "'.")
      end
      q.count = l == "true"
    elseif name == "$select" then
      local sel, err = check_select(v, (op == "list_jobs" or
                                        op == "get_job") and JOB_PROPS
                                        or TASK_PROPS)
      if not sel then return nil, err end
      if not sel.all then q.select = sel end
    elseif name == "$expand" then
      if v:lower():match("^%s*users%s*$") == nil then
        return query_error("Invalid $expand: only 'users' can be " ..
                           "expanded, without nested options; not '" ..
                           v:sub(1, 60) .. "'.")
      end
      q.expand = true
    else
      q[name:sub(2)] = v    -- filter, orderby, skiptoken: the core reads them
    end
  end
  q.raw = raw
  return q
end

--- The query table of list_jobs / list_tasks: names with or without `$`,
-- values as text, integers or booleans.
function M.query_from_table(t, op)
  local raw = {}
  for k, v in pairs(t or {}) do
    if type(k) ~= "string" then
      return query_error("Query option names must be strings.")
    end
    local name = k:sub(1, 1) == "$" and k or "$" .. k
    if raw[name] then
      return query_error("Query option '" .. name .. "' is given twice.")
    end
    if type(v) == "number" or type(v) == "boolean" then
      v = tostring(math.tointeger(v) or v)
    elseif type(v) ~= "string" then
      return query_error("Query option '" .. name .. "' must be text, a " ..
                         "number or a boolean.")
    end
    raw[name] = v
  end
  return check_query(raw, op or "list_jobs")
end

-- percent-decoding; nil when a '%' is not followed by two hex digits
local function unescape(s)
  if not s:find("%", 1, true) then return s end
  local good = true
  local out = s:gsub("%%(%x?%x?)", function(h)
    if #h < 2 then good = false return "" end
    return string.char(tonumber(h, 16))
  end)
  return good and out or nil
end

local function escape(s)
  return (s:gsub("[^%w%-%._~$',()*:@/]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function parse_query(qs, version)
  local raw = {}
  if qs == nil or qs == "" then return raw end
  for pair in (qs .. "&"):gmatch("([^&]*)&") do
    if pair ~= "" then
      local k, v = pair:match("^([^=]*)=(.*)$")
      if not k then k, v = pair, "" end
      k = unescape((k:gsub("%+", " ")))
      v = unescape((v:gsub("%+", " ")))
      if not k or not v then
        return query_error("The query string has a bad percent-escape in '" ..
                           pair:sub(1, 60) .. "'.")
      end
      local lk = k:lower()
      -- on beta the `$` may be left out, as Graph allows
      if lk:sub(1, 1) ~= "$" and version == "beta" and KNOWN["$" .. lk] then
        lk = "$" .. lk
      end
      if lk:sub(1, 1) == "$" then
        if raw[lk] then
          return query_error("Query option '" .. lk .. "' is given twice.")
        end
        raw[lk] = v
      end
      -- other parameters are not OData options: Graph ignores them
    end
  end
  return raw
end

-- Pages --------------------------------------------------------------------

-- the options a nextLink keeps, in a stable order
local LINK_ORDER = { "$filter", "$select", "$orderby", "$expand", "$count",
                     "$top" }

local function next_link(version, path, q, token)
  local parts = {}
  for _, name in ipairs(LINK_ORDER) do
    local v = q.raw and q.raw[name]
    if v then parts[#parts + 1] = name .. "=" .. escape(v) end
  end
  parts[#parts + 1] = "$skiptoken=" .. escape(token)
  return "https://graph.microsoft.com/" .. version .. "/" .. path .. "?" ..
         table.concat(parts, "&")
end

-- keep only the selected properties (and id and annotations)
local function apply_select(item, sel)
  if not sel then return item end
  for k in pairs(item) do
    if k ~= "id" and k:sub(1, 1) ~= "@" and k ~= "users" and
       not sel.set[k] then
      item[k] = nil
    end
  end
  return item
end

local function selection(sel)
  return sel and "(" .. table.concat(sel.names, ",") .. ")" or ""
end

-- every task of a job, for $expand=users
local function all_tasks(graph, tenant, jobid)
  local out, token = {}, nil
  repeat
    local items, nxt = graph._core:query_tasks(tenant, jobid, false,
                                               { top = 999, token = token })
    table.move(items, 1, #items, #out + 1, out)
    token = nxt
  until not token
  return out
end

--- One page of the caller's jobs: the collection body, or nil + err.
function M.list_jobs(graph, version, tenant, q, crid)
  local items, nxt, count = graph._core:query_jobs(tenant, {
    filter = q.filter, orderby = q.orderby, token = q.skiptoken,
    skip = q.skip, top = q.top or DEFAULT_TOP,
    count = q.count and not q.skiptoken })
  if not items then return nil, graph:_error(nxt, crid) end
  for _, job in ipairs(items) do
    if q.expand then job.users = all_tasks(graph, tenant, job.id) end
    apply_select(job, q.select)
  end
  local body = { ["@odata.context"] = ct.context(version, JOBS ..
                                                 selection(q.select)) }
  if count then body["@odata.count"] = count end
  if nxt then body["@odata.nextLink"] = next_link(version, JOBS, q, nxt) end
  body.value = items
  return body
end

--- One page of a job's tasks: the collection body, or nil + err.
function M.list_tasks(graph, version, tenant, key, byname, q, crid)
  local items, nxt, count, jobid = graph._core:query_tasks(tenant, key,
    byname, { filter = q.filter, orderby = q.orderby, token = q.skiptoken,
              skip = q.skip, top = q.top or DEFAULT_TOP,
              count = q.count and not q.skiptoken })
  if not items then return nil, graph:_error(nxt, crid) end
  for _, t in ipairs(items) do apply_select(t, q.select) end
  local body = { ["@odata.context"] = ct.context(version, JOBS .. "('" ..
    jobid .. "')/users" .. selection(q.select)) }
  if count then body["@odata.count"] = count end
  if nxt then
    body["@odata.nextLink"] = next_link(version, JOBS .. "/" .. jobid ..
                                        "/users", q, nxt)
  end
  body.value = items
  return body
end

--- The /$count of a collection: the number of matches, or nil + err.
local function count_of(graph, tenant, q, key, byname, crid)
  local items, err, count
  if key then
    items, err, count = graph._core:query_tasks(tenant, key, byname,
      { filter = q.filter, top = 0, count = true })
  else
    items, err, count = graph._core:query_jobs(tenant,
      { filter = q.filter, top = 0, count = true })
  end
  if not items then return nil, graph:_error(err, crid) end
  return count
end

-- Tokens -------------------------------------------------------------------

local B64 = {}
do
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  for i = 1, #chars do B64[chars:byte(i)] = i - 1 end
end

local function b64url_decode(s)
  if #s % 4 == 1 then return nil end
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    local v = B64[s:byte(i)]
    if not v then return nil end
    bits = (bits << 6) | v
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xff)
    end
  end
  return table.concat(out)
end

local function unauthenticated(graph, req, msg)
  return nil, fail(graph, req, 401, "unauthenticated", msg)
end

--- The caller from the Authorization header, or the store's defaults.
-- Returns { tenant =, upn =, read =, write = } or nil + err.
local function caller(graph, req)
  local auth = req.headers.authorization
  if auth == nil then
    if graph._require_token then
      return unauthenticated(graph, req, "Access token is empty.")
    end
    -- the store's defaults never change: one table serves every request
    local who = graph._default_caller
    if not who then
      who = { tenant = graph._tenant, upn = graph._user, read = true,
              write = true, app = "" }
      graph._default_caller = who
    end
    return who
  end
  local tok = auth:match("^[Bb][Ee][Aa][Rr][Ee][Rr] +(%S+)%s*$")
  if not tok then
    return unauthenticated(graph, req, "The Authorization header must be " ..
                           "'Bearer <token>'.")
  end
  local _, payload = tok:match("^([%w_-]*)%.([%w_-]*)%.[%w_-]*$")
  local text = payload and b64url_decode(payload)
  local claims = text and core.decode(text)
  if type(claims) ~= "table" or claims[1] ~= nil then
    return unauthenticated(graph, req, "The access token is malformed: it " ..
                           "is not a JWT with a JSON object payload.")
  end
  local tid = type(claims.tid) == "string" and core.guid(claims.tid)
  if not tid then
    return unauthenticated(graph, req, "The access token has no valid " ..
                           "'tid' claim.")
  end
  local exp = claims.exp
  if exp ~= nil then
    if math.type(exp) ~= "integer" then
      return unauthenticated(graph, req, "The access token's 'exp' claim " ..
                             "must be an integer.")
    end
    if exp <= graph._core:now() // 10000000 then
      return unauthenticated(graph, req, "The access token has expired.")
    end
  end
  for _, name in ipairs { "upn", "oid", "appid", "azp" } do
    if claims[name] ~= nil and type(claims[name]) ~= "string" then
      return unauthenticated(graph, req, "The access token's '" .. name ..
                             "' claim must be a string.")
    end
  end
  local who = claims.upn or claims.oid
  local perms = {}
  if claims.scp ~= nil then
    if type(claims.scp) ~= "string" then
      return unauthenticated(graph, req, "The access token's 'scp' claim " ..
                             "must be a string.")
    end
    for p in claims.scp:gmatch("%S+") do perms[p] = true end
  end
  if claims.roles ~= nil then
    if type(claims.roles) ~= "table" or next(claims.roles) ~= nil and
       #claims.roles == 0 then
      return unauthenticated(graph, req, "The access token's 'roles' claim " ..
                             "must be an array of strings.")
    end
    for _, r in ipairs(claims.roles) do
      if type(r) ~= "string" then
        return unauthenticated(graph, req, "The access token's 'roles' " ..
                               "claim must be an array of strings.")
      end
      perms[r] = true
    end
  end
  return { tenant = tid, upn = who or "", write = perms[WRITE] == true,
           read = perms[READ] == true or perms[WRITE] == true,
           scopes = perms,
           -- the app: v1 tokens carry appid, v2 tokens azp
           app = claims.appid or claims.azp or "" }
end

local function deny(graph, req, who, write)
  local need = write and WRITE or (READ .. ", " .. WRITE)
  local have = {}
  for p in pairs(who.scopes or {}) do have[#have + 1] = p end
  table.sort(have)
  return fail(graph, req, 403, "accessDenied",
              "Missing permissions on the request. The API requires one of '"
              .. need .. "'. Permissions on the request: '" ..
              table.concat(have, " ") .. "'.")
end

-- URLs ---------------------------------------------------------------------

local function not_found(graph, req, seg)
  return fail(graph, req, 404, "itemNotFound",
              "Resource not found for the segment '" .. seg .. "'.")
end

--- Splits a URL into version, decoded path segments and query string.
local function parse_url(graph, req, url)
  local rest = url
  local scheme, host, tail = url:match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  if scheme then
    if scheme:lower() ~= "https" or host:lower() ~= "graph.microsoft.com" then
      return nil, fail(graph, req, 404, "itemNotFound",
                       "Unknown host or scheme in '" .. url:sub(1, 200) ..
                       "'; the model answers https://graph.microsoft.com.")
    end
    rest = tail
  end
  local hash = rest:find("#", 1, true)
  if hash then rest = rest:sub(1, hash - 1) end
  local path, qs = rest:match("^([^?]*)%??(.*)$")
  if path:sub(1, 1) ~= "/" then
    return nil, fail(graph, req, 400, "invalidRequest",
                     "The URL must start with '/' or " ..
                     "'https://graph.microsoft.com/'.")
  end
  local segs = {}
  for seg in (path:sub(2) .. "/"):gmatch("([^/]*)/") do
    local d = unescape(seg)
    if not d then
      return nil, fail(graph, req, 400, "invalidRequest",
                       "The URL has a bad percent-escape in '" ..
                       seg:sub(1, 200) .. "'.")
    end
    segs[#segs + 1] = d
  end
  local version = "beta"
  local first = segs[1] and segs[1]:lower()
  if first == "beta" or first == "v1.0" then
    version = first
    table.remove(segs, 1)
  end
  return version, segs, qs
end

-- the job key in a path segment: "{id}", or the collection segment with an
-- alternate key: crossTenantMigrationJobs(displayName='x') or ('id')
local function key_in_parens(seg)
  local inner = seg:match("^[Cc][Rr][Oo][Ss][Ss][Tt][Ee][Nn][Aa][Nn][Tt]" ..
                          "[Mm][Ii][Gg][Rr][Aa][Tt][Ii][Oo][Nn][Jj][Oo]" ..
                          "[Bb][Ss]%((.*)%)$")
  if not inner then return nil end
  local name = inner:match("^%s*[Dd][Ii][Ss][Pp][Ll][Aa][Yy][Nn][Aa][Mm][Ee]"
                           .. "%s*=%s*'(.*)'%s*$")
  if name then return name:gsub("''", "'"), true end
  local id = inner:match("^%s*'(.*)'%s*$")
  if id then return id:gsub("''", "'"), false end
  return false
end

--- The path of a request under /solutions/migrations ("/a/b", decoded
-- segments), as fault rules match it; nil for a path not under it.
function M.fault_path(segs)
  local a, b = segs[1], segs[2]
  if not a or not b or a:lower() ~= "solutions" or
     b:lower() ~= "migrations" then
    return nil
  end
  return "/" .. table.concat(segs, "/", 3)
end

-- Routing ------------------------------------------------------------------

-- each route: methods it takes, whether it writes, whether it lists
local ROUTES = {
  jobs = { GET = "list_jobs", POST = "create_job" },
  job = { GET = "get_job", PATCH = "update_job", DELETE = "delete_job" },
  validate = { POST = "validate" },
  migrate = { POST = "migrate" },
  cancel = { POST = "cancel_job" },
  users = { GET = "list_tasks", POST = "create_task" },
  user = { GET = "get_task" },
  usercancel = { POST = "cancel_task" },
  jobscount = { GET = "count_jobs" },
  userscount = { GET = "count_tasks" },
}

local READS = { list_jobs = true, get_job = true, list_tasks = true,
                get_task = true, count_jobs = true, count_tasks = true }

--- Finds the route: kind, job key, byname, task key; or nil, err.
local function route(graph, req, segs)
  local function nf(i) return nil, not_found(graph, req, segs[i] or "") end
  if not segs[1] or segs[1]:lower() ~= "solutions" then return nf(1) end
  if not segs[2] or segs[2]:lower() ~= "migrations" then return nf(2) end
  local s3 = segs[3]
  if not s3 then return nf(3) end
  local r = { }
  local key, byname = key_in_parens(s3)
  if key == false then return nf(3) end
  local n = 4
  if key then
    r.job, r.byname = key, byname
  elseif s3:lower() == "crosstenantmigrationjobs" then
    if #segs == 3 then r.kind = "jobs" return r end
    if #segs == 4 and segs[4] == "$count" then r.kind = "jobscount" return r end
    r.job, r.byname = segs[4], false
    n = 5
  else
    return nf(3)
  end
  if r.job == "" then return nf(n - 1) end
  local rest = #segs - n + 1
  if rest == 0 then r.kind = "job" return r end
  local a = segs[n]:lower()
  if rest == 1 then
    if a == "validate" or a == "migrate" or a == "cancel" or a == "users" then
      r.kind = a
      return r
    end
    return nf(n)
  end
  if a ~= "users" then return nf(n) end
  r.task = segs[n + 1]
  if r.task == "" then return nf(n + 1) end
  if rest == 2 and r.task == "$count" then r.kind = "userscount" return r end
  if rest == 2 then r.kind = "user" return r end
  if rest == 3 and segs[n + 2]:lower() == "cancel" then
    r.kind = "usercancel"
    return r
  end
  return nf(n + 2)
end

-- Bodies -------------------------------------------------------------------

-- an action that takes no body: accept none, "", whitespace, {} or an
-- empty table
local function no_body(body)
  if body == nil then return true end
  if type(body) == "table" then return next(body) == nil end
  return body:match("^%s*$") ~= nil or body:match("^%s*{%s*}%s*$") ~= nil
end

-- The request ---------------------------------------------------------------

local function check_headers(headers)
  local h = {}
  for k, v in pairs(headers or {}) do
    if type(k) ~= "string" then
      error("bad argument #4 to 'request' (header names must be strings)", 3)
    end
    if type(v) ~= "string" and type(v) ~= "number" then
      error("bad argument #4 to 'request' (header '" .. k ..
            "' must be a string)", 3)
    end
    local lk = k:lower()
    if h[lk] ~= nil and h[lk] ~= tostring(v) then
      return nil, k
    end
    h[lk] = tostring(v)
  end
  return h
end

function M.request(graph, method, url, body, headers)
  if type(method) ~= "string" then
    error("bad argument #1 to 'request' (string expected, got " ..
          type(method) .. ")", 2)
  end
  if type(url) ~= "string" then
    error("bad argument #2 to 'request' (string expected, got " ..
          type(url) .. ")", 2)
  end
  if body ~= nil and type(body) ~= "string" and type(body) ~= "table" then
    error("bad argument #3 to 'request' (string, table or nil expected, " ..
          "got " .. type(body) .. ")", 2)
  end
  if headers ~= nil and type(headers) ~= "table" then
    error("bad argument #4 to 'request' (table or nil expected, got " ..
          type(headers) .. ")", 2)
  end
  local h, dup = check_headers(headers)
  local req = { client_request_id = h and h["client-request-id"],
                headers = h or {} }
  if not h then
    return answer_error(req, fail(graph, req, 400, "invalidRequest",
                                  "Header '" .. dup .. "' is given more " ..
                                  "than once with different values."))
  end
  method = method:upper()

  local who, err = caller(graph, req)
  if not who then return answer_error(req, err) end

  local version, segs, qs = parse_url(graph, req, url)
  if not version then return answer_error(req, segs) end

  -- Throttling and transient faults (csrc/ct_fault.h): the one place a
  -- request is refused with 429, 503 or 504.  The caller and the path
  -- are known; nothing else is checked yet and nothing has changed.
  if graph._core:fault_armed() then
    local e = graph:_fault_check(method, M.fault_path(segs),
                                 who.tenant .. "/" .. who.app,
                                 req.client_request_id)
    if e then return answer_error(req, e) end
  end

  local r
  r, err = route(graph, req, segs)
  if not r then return answer_error(req, err) end
  local op = ROUTES[r.kind][method]
  if not op then
    local m = {}
    for k in pairs(ROUTES[r.kind]) do m[#m + 1] = k end
    table.sort(m)
    local allow = table.concat(m, ", ")
    local s, b, eh = answer_error(req, fail(graph, req, 405, "notSupported",
      "The method '" .. method .. "' is not allowed on this resource; it " ..
      "takes " .. allow .. "."))
    -- RFC 9110 15.5.6: a 405 names the methods the resource takes
    eh.Allow = allow
    return s, b, eh
  end
  if READS[op] and not who.read or not READS[op] and not who.write then
    return answer_error(req, deny(graph, req, who, not READS[op]))
  end

  -- query options
  local raw
  raw, err = parse_query(qs, version)
  if not raw then return answer_error(req, graph:_error(err, req.client_request_id)) end
  if method ~= "GET" and next(raw) then
    return answer_error(req, fail(graph, req, 400, "invalidRequest",
      "Query options are not allowed on a " .. method .. " request.",
      "invalidQueryOption"))
  end
  local q
  if method == "GET" then q, err = check_query(raw, op) else q = {} end
  if not q then return answer_error(req, graph:_error(err, req.client_request_id)) end

  if method == "GET" or method == "DELETE" or op == "validate" or
     op == "migrate" or op == "cancel_job" or op == "cancel_task" then
    if not no_body(body) then
      return answer_error(req, fail(graph, req, 400, "invalidRequest",
        "This request takes no body."))
    end
  end

  return M.dispatch(graph, req, who, version, op, r, q, body)
end

local function ok(req, status, body, extra)
  local hdr = { ["Content-Type"] = body and "application/json" or nil }
  for k, v in pairs(extra or {}) do hdr[k] = v end
  return status, body, response_headers(req.client_request_id,
                                        req.request_id, hdr)
end

local ACTION_CONTEXT = "microsoft.graph.crossTenantMigrationJob"

function M.dispatch(graph, req, who, version, op, r, q, body)
  local c = graph._core
  local t = who.tenant
  req.request_id = c:request_id()
  local res, err
  local base = "https://graph.microsoft.com/" .. version .. "/" .. JOBS
  if op == "list_jobs" then
    res, err = M.list_jobs(graph, version, t, q, req.client_request_id)
    if not res then return answer_error(req, err) end
    return ok(req, 200, res)
  elseif op == "create_job" then
    res, err = c:job_create(t, who.upn, body)
    if not res then
      return answer_error(req, graph:_error(err, req.client_request_id))
    end
    res["@odata.context"] = ct.context(version, JOBS .. "/$entity")
    return ok(req, 201, res, { Location = base .. "/" .. res.id })
  elseif op == "get_job" then
    res, err = c:job_get(t, r.job, r.byname)
    if res then
      if q.expand then res.users = all_tasks(graph, t, res.id) end
      apply_select(res, q.select)
      res["@odata.context"] = ct.context(version, JOBS .. selection(q.select)
                                         .. "/$entity")
    end
  elseif op == "count_jobs" or op == "count_tasks" then
    res, err = count_of(graph, t, q, r.job, r.byname,
                        req.client_request_id)
    if not res then return answer_error(req, err) end
    return 200, tostring(res), response_headers(req.client_request_id,
      req.request_id, { ["Content-Type"] = "text/plain" })
  elseif op == "update_job" then
    res, err = c:job_update(t, r.job, r.byname, body)
    if res then
      return 204, nil, response_headers(req.client_request_id, req.request_id,
                                        { ["Content-Type"] = "text/plain" })
    end
  elseif op == "delete_job" then
    res, err = c:job_delete(t, r.job, r.byname)
    if res then return ok(req, 202, nil) end
  elseif op == "validate" or op == "migrate" then
    res, err = c["job_" .. op](c, t, r.job, r.byname)
    if res then res["@odata.context"] = ct.context(version, ACTION_CONTEXT) end
  elseif op == "cancel_job" then
    res, err = c:job_cancel(t, r.job, r.byname)
    if res then return ok(req, 202, res) end
  elseif op == "list_tasks" then
    res, err = M.list_tasks(graph, version, t, r.job, r.byname, q,
                             req.client_request_id)
    if not res then return answer_error(req, err) end
    return ok(req, 200, res)
  elseif op == "create_task" then
    res, err = c:task_create(t, r.job, r.byname, body, true)
    if res then
      local jid = ct.task_entity(res, version)
      return ok(req, 201, res, { Location = base .. "/" .. jid .. "/users/"
                                            .. res.id })
    end
  elseif op == "get_task" then
    res, err = c:task_get(t, r.job, r.byname, r.task)
    if res then
      apply_select(res, q.select)
      ct.task_entity(res, version, selection(q.select))
    end
  elseif op == "cancel_task" then
    res, err = c:task_cancel(t, r.job, r.byname, r.task)
    if res then return ok(req, 202, res) end
  end
  if not res then
    return answer_error(req, graph:_error(err, req.client_request_id))
  end
  return ok(req, 200, res)
end

return M
