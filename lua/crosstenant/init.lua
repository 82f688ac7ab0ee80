--- crosstenant: a local model of Microsoft Graph's cross-tenant migration
-- API.  The store and every rule live in the C core (crosstenant.core);
-- this module holds the Lua-facing API: options, the methods, error
-- objects and the model clock.  `graph:request` and every method run
-- the core's request path (csrc/ct_request.h), one implementation per
-- operation.
local core = require "crosstenant.core"

local M = {
  _VERSION = "crosstenant 0.1.0",
  null = core.null,            -- JSON null, the same sentinel as cjson.null
}

local DEFAULTS = {
  tenant = "87654321-4321-4321-4321-210987654321",
  user = "admin@fabrikam.onmicrosoft.com",
  strict = true,
  require_token = false,
}

local TICKS = 10000000         -- 100-ns ticks a second
local MAX_TIMING = 1000 * 366 * 86400   -- seconds: a thousand years
local MAX_SPAN = 10000 * 366 * 86400    -- one advance: the clock's range

local Graph = {}
Graph.__index = Graph

-- Errors ------------------------------------------------------------------

local Error = {}
Error.__index = Error
Error.__tostring = function(e)
  return string.format("%d %s: %s", e.status, e.code, e.message)
end

--- Builds the Graph error body and the error object for a core error.
-- `ctx` carries the request's client-request-id, if any.
-- a message quotes what the request carried: keep it valid UTF-8 by
-- turning each byte that does not start a valid sequence into '?'
local function clean(s)
  if core.utf8_valid(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. "?"
    i = bad + 1
  end
  return table.concat(out)
end

function Graph:_error(err, client_request_id)
  -- like Graph, client-request-id is the request-id when none was sent
  local request_id = self._core:request_id()
  local inner = {
    -- UTC, whole seconds, no offset: as Graph writes it (behavior.md)
    date = core.time_format(self._core:now() // TICKS * TICKS, 0):sub(1, 19),
    ["request-id"] = request_id,
    ["client-request-id"] = client_request_id and clean(client_request_id)
                            or request_id,
  }
  if err.inner then inner.code = err.inner end
  local message = clean(err.message)
  local body = { error = { code = err.code, message = message,
                           innerError = inner } }
  return setmetatable({ status = err.status, code = err.code,
                        message = message, inner = err.inner,
                        body = body }, Error)
end

M.Error = Error

-- Arguments ---------------------------------------------------------------

local function check_arg(n, name, v, want, ...)
  local t = type(v)
  if t == want then return end       -- the common case, without select
  for i = 1, select("#", ...) do
    if t == select(i, ...) then return end
  end
  error(string.format("bad argument #%d to '%s' (%s expected, got %s)",
                      n, name, table.concat({ want, ... }, " or "), t), 3)
end

-- Options -----------------------------------------------------------------

local OPTIONS = {
  tenant = "string", user = "string", strict = "boolean", seed = "number",
  now = "string", require_token = "boolean", failure_rate = "number|table",
  timings = "table", fault_rate = "table", retry_after = "number",
  throttle = "table",
}

local TIMINGS = {
  validate_submitted = true, validate_processing = true,
  validate_in_progress = true, processing = true, sync = true,
  cutover = true, cancel = true, delete_pending = true, deleted = true,
  validation_expiry = true,
}

-- a Graph around a core store, its defaults read from the core
local function wrap(c)
  local tenant, user, require_token, strict, retry_after = c:defaults()
  return setmetatable({
    _core = c,
    _tenant = tenant,
    _user = user,
    _strict = strict,
    _require_token = require_token,
    _handlers = { job = {}, task = {} },
    _caller_key = tenant .. "/",      -- the default caller: no app id
    _retry_after = retry_after,
  }, Graph)
end

local MAX_RETRY = 86400        -- seconds: a Retry-After at most
local FAULT_STATUSES = { [429] = true, [503] = true, [504] = true }

-- a whole number (integer or integral float) as an integer, else nil
local function whole(v)
  return type(v) == "number" and math.tointeger(v) or nil
end

-- opt_error for check_fault_options: two levels further from the caller
-- (check_fault_options, new_store, then crosstenant.new or .open)
local function fopt_error(msg, who)
  error("crosstenant." .. who .. ": " .. msg, 5)
end

-- The fault options (fault_rate, retry_after, throttle), checked: the
-- rates by status, the Retry-After of rate faults, the budget or nil.
local function check_fault_options(opts, who)
  local retry = opts.retry_after
  if retry ~= nil then
    retry = whole(retry)
    if not retry or retry < 1 or retry > MAX_RETRY then
      fopt_error("option 'retry_after' must be a whole number of seconds " ..
                 "from 1 to " .. MAX_RETRY, who)
    end
  end
  local rates = { [429] = 0, [503] = 0, [504] = 0 }
  if opts.fault_rate then
    local sum = 0
    for k, r in pairs(opts.fault_rate) do
      if math.type(k) ~= "integer" or not FAULT_STATUSES[k] then
        fopt_error("option 'fault_rate' takes the statuses 429, 503 and " ..
                   "504 as keys, not " .. (type(k) == "string" and
                                           "'" .. k .. "'" or tostring(k)),
                   who)
      end
      if type(r) ~= "number" or not (r >= 0 and r <= 1) then
        fopt_error("option 'fault_rate[" .. k .. "]' must be between 0 " ..
                   "and 1", who)
      end
      rates[k] = r
      sum = sum + r
    end
    if sum > 1 + 1e-9 then          -- 0.1 + 0.2 + 0.7 is 1 here
      fopt_error("option 'fault_rate': the rates add up to more than 1", who)
    end
  end
  local budget
  if opts.throttle then
    for k in pairs(opts.throttle) do
      if k ~= "requests" and k ~= "per" then
        fopt_error("option 'throttle' takes requests and per, not '" ..
                  tostring(k) .. "'", who)
      end
    end
    local n, per = whole(opts.throttle.requests), opts.throttle.per
    if not n or n < 1 then
      fopt_error("option 'throttle.requests' must be a whole number of 1 " ..
                 "or more", who)
    end
    if type(per) ~= "number" or not (per > 0 and per <= MAX_RETRY) then
      fopt_error("option 'throttle.per' must be a number of seconds above " ..
                 "0 and at most " .. MAX_RETRY, who)
    end
    budget = { n, per }
  end
  return { rates = rates, retry_after = retry or 1, budget = budget }
end

-- the store crosstenant.new (or .open, `who`) makes from `opts`; errors
-- blame the caller of that function
local function new_store(opts, who)
  local function opt_error(msg)
    error("crosstenant." .. who .. ": " .. msg, 4)
  end
  if opts ~= nil and type(opts) ~= "table" then
    opt_error("options must be a table")
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then opt_error("unknown option '" .. tostring(k) .. "'") end
    if not want:find(type(v), 1, true) then
      opt_error("option '" .. k .. "' must be a " ..
                want:gsub("|", " or a "))
    end
  end
  local tenant = core.guid(opts.tenant or DEFAULTS.tenant)
  if not tenant then opt_error("option 'tenant' must be a GUID") end
  local seed = opts.seed
  if seed ~= nil and math.type(seed) ~= "integer" then
    opt_error("option 'seed' must be an integer")
  end
  local now
  if opts.now then
    local ticks, why = core.time_parse(opts.now)
    if not ticks then
      opt_error("option 'now' is not a DateTimeOffset (" .. why .. ")")
    end
    now = ticks
  else
    now = os.time() * TICKS
  end
  -- one rate for both phases, or { validate = x, migrate = y,
  -- sticky = true|false }: sticky draws each (user, service, phase) once
  local rate = opts.failure_rate or 0
  local function check_rate(r, what)
    if type(r) ~= "number" or r < 0 or r > 1 or r ~= r then
      opt_error("option '" .. what .. "' must be between 0 and 1")
    end
  end
  if type(rate) == "table" then
    for k, r in pairs(rate) do
      if k == "sticky" then
        if type(r) ~= "boolean" then
          opt_error("option 'failure_rate.sticky' must be a boolean")
        end
      elseif k ~= "validate" and k ~= "migrate" then
        opt_error("option 'failure_rate' takes validate, migrate and " ..
                  "sticky, not '" .. tostring(k) .. "'")
      else
        check_rate(r, "failure_rate." .. k)
      end
    end
  else
    check_rate(rate, "failure_rate")
  end
  if opts.timings then
    for k, v in pairs(opts.timings) do
      if not TIMINGS[k] then opt_error("unknown timing '" .. tostring(k) .. "'") end
      -- at most 1,000 years: far past any scenario, and the clock (100-ns
      -- ticks in 64 bits, to the year 9999) holds every sum of them
      if type(v) ~= "number" or v < 0 or v ~= v or v > MAX_TIMING then
        opt_error("timing '" .. k .. "' must be a number of seconds from " ..
                  "0 to " .. MAX_TIMING)
      end
    end
  end
  local faults = check_fault_options(opts, who)
  local strict = opts.strict
  if strict == nil then strict = DEFAULTS.strict end
  local require_token = opts.require_token
  if require_token == nil then require_token = DEFAULTS.require_token end
  local c = core.new { seed = seed, now = now, strict = strict,
                       failure_rate = rate, timings = opts.timings,
                       tenant = tenant, user = opts.user or DEFAULTS.user,
                       require_token = require_token }
  c:fault_rates(faults.rates[429], faults.rates[503], faults.rates[504],
                faults.retry_after)
  if faults.budget then c:fault_budget(faults.budget[1], faults.budget[2]) end
  return wrap(c)
end

--- Creates a store.  Every option is optional; an unknown one raises.
-- opts: tenant (GUID string), user (UPN), strict (boolean), seed
-- (integer), now (DateTimeOffset text), require_token (boolean),
-- failure_rate (0..1, or { validate =, migrate = }), timings (seconds
-- per lifecycle step), fault_rate ({ [429] =, [503] =, [504] = }),
-- retry_after (seconds), throttle ({ requests =, per = seconds }).
-- Returns the store (a Graph).
function M.new(opts)
  local g = new_store(opts, "new")   -- not a tail call: errors name the
  return g                           -- caller's line
end

-- State that lasts ----------------------------------------------------------

--- The whole store as a string (a versioned binary image): tenants, jobs,
-- tasks, the clock, pending transitions, scripted outcomes, the seeded
-- generators, timings and options.  Observers (graph:on) are not in it.
function Graph:snapshot()
  return self._core:snapshot()
end

--- A new, independent store from an image graph:snapshot() made.
-- Returns the store, or nil and a message for an image that is not one
-- ("not a crosstenant snapshot", "truncated at byte N", "snapshot format
-- 3 is newer than this crosstenant (1)", "corrupt snapshot: ...").
-- Raises when `image` is not a string.
function M.restore(image)
  check_arg(1, "restore", image, "string")
  local c, err = core.restore(image)
  if not c then return nil, err end
  return wrap(c)
end

--- Writes the store's image to an SQLite store file at `path` (string),
-- in one transaction: a new file, or one that is a crosstenant store
-- (replaced).  Returns true, or nil and a message (the file is then as
-- it was); a file that is not a crosstenant store is never overwritten.
function Graph:save(path)
  check_arg(1, "save", path, "string")
  return self._core:save(path)
end

--- A store backed by the SQLite file at `path` (string).  An absent file
-- is created, holding a new store made with `opts` (as crosstenant.new);
-- an existing one is resumed as it was left (its own options hold;
-- `opts` are checked but not used).  Every accepted change is committed
-- to the file before the call that made it returns.  graph:close()
-- folds the journal into a fresh image.  Returns the store, or nil and
-- a message for a file that is not a crosstenant store (or a newer,
-- truncated or corrupt one, an empty file, a directory).
function M.open(path, opts)
  check_arg(1, "open", path, "string")
  local g = new_store(opts, "open")
  local ok, err = g._core:open_file(path)
  if not ok then
    g._core:close()
    return nil, err
  end
  local fresh = wrap(g._core)
  return fresh
end


-- Throttling and transient faults -----------------------------------------

--- Decides whether a request is refused with 429, 503 or 504 (see
-- csrc/ct_fault.h for the order of the decisions), on the model clock.
-- `method` (upper case) and `path` (under /solutions/migrations, or nil)
-- name the Graph request; `caller` is "tenant/appid" ("tenant/" for the
-- store's default caller).  Returns nil when the request goes on, else
-- the error object (status, code, inner, message, body, retry_after in
-- whole seconds).  It consumes a request id, as every answer does.
-- A server sets `graph._fault_now` to a function giving the wall clock
-- in ticks (100 ns since 1970): windows and budgets then run on it.
function Graph:_fault_check(method, path, caller, client_request_id)
  if self._faults_off then return nil end
  local now = self._fault_now
  local status, retry, code, inner, message = self._core:fault_decide(
    method, path, caller, now and now())
  if not status then return nil end
  local e = self:_error({ status = status, code = code, inner = inner,
                          message = message }, client_request_id)
  e.retry_after = retry
  return e
end

-- each method counts as its Graph request, from the default caller
local function refused(self, method, path)
  if not self._core:fault_armed() then return nil end
  return self:_fault_check(method, path, self._caller_key)
end

--- Runs fn(...) with faults off: what the tool itself reads (a report,
-- progress) is not a request of the scenario's and is never refused.
function Graph:_unfaulted(fn, ...)
  local was = self._faults_off
  self._faults_off = true
  local r = table.pack(pcall(fn, ...))
  self._faults_off = was
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

local FAULT_FIELDS = { status = true, retry_after = true, times = true,
                       method = true, path = true }
local FAULT_METHODS = { GET = true, POST = true, PATCH = true,
                        DELETE = true }

-- a path pattern under /solutions/migrations: "/" and segments, none
-- empty; the prefixes that can never match are refused
local function pattern_ok(p)
  if #p < 2 or #p > 2048 or p:sub(1, 1) ~= "/" or p:sub(-1) == "/" or
     p:find("//", 1, true) or p:find("[?#\0]") then
    return false
  end
  local first = p:match("^/([^/]*)"):lower()
  return first ~= "solutions" and first ~= "beta" and first ~= "v1.0"
end

--- Scripts a fault: the next `times` requests (default 1) that match
-- `method` and `path` (both optional) are answered `status` (429, 503 or
-- 504) with Retry-After `retry_after` seconds (default: the store's
-- retry_after option, 1 unless set).  `path` is a pattern under
-- /solutions/migrations; `*` matches one segment; case-insensitive.
-- Requests and the methods alike count.  Returns true.
function Graph:fault(spec)
  check_arg(1, "fault", spec, "table")
  local function bad(what)
    error("bad argument #1 to 'fault' (" .. what .. ")", 3)
  end
  for k in pairs(spec) do
    if not FAULT_FIELDS[k] then bad("unknown field '" .. tostring(k) .. "'") end
  end
  local status = whole(spec.status)
  if not status or not FAULT_STATUSES[status] then
    bad("field 'status' must be 429, 503 or 504")
  end
  local retry = spec.retry_after
  if retry == nil then
    retry = self._retry_after
  else
    retry = whole(retry)
    if not retry or retry < 1 or retry > MAX_RETRY then
      bad("field 'retry_after' must be a whole number of seconds from 1 " ..
          "to " .. MAX_RETRY)
    end
  end
  local times = spec.times
  if times == nil then
    times = 1
  else
    times = whole(times)
    if not times or times < 1 then
      bad("field 'times' must be a whole number of 1 or more")
    end
  end
  local method = spec.method
  if method ~= nil then
    if type(method) ~= "string" or not FAULT_METHODS[method:upper()] then
      bad("field 'method' must be GET, POST, PATCH or DELETE")
    end
    method = method:upper()
  end
  local path = spec.path
  if path ~= nil and (type(path) ~= "string" or not pattern_ok(path)) then
    bad("field 'path' must be a path under /solutions/migrations, such " ..
        "as '/crossTenantMigrationJobs/*/users'")
  end
  self._core:fault_add(status, retry, times, method, path)
  return true
end

--- The scripted faults not yet used up, oldest first: a list of
-- { status =, retry_after =, times = (uses left), method =?, path =? }.
function Graph:faults()
  return self._core:fault_list()
end

--- How many requests were refused, by status: { [429] =, [503] =,
-- [504] = }.
function Graph:fault_counts()
  return self._core:fault_counts()
end

-- Methods: each answers what `request` answers, as a table, or nil + err --

function Graph:_fail(err)
  return nil, self:_error(err)
end

-- hand observers the changes a request or method just made
function Graph:_flush()
  if #self._handlers.job > 0 or #self._handlers.task > 0 then
    self:_dispatch(self._core:take_events())
  end
end

-- the error object of a refusal the core answered with `body`
local function core_refusal(status, body)
  local e = body.error
  return nil, setmetatable({ status = status, code = e.code,
                             message = e.message,
                             inner = e.innerError.code, body = body }, Error)
end

-- one operation of the core's request path, for the store's own caller
-- (the same code `request` runs once it has routed the URL)
local function op(self, name, job, task, body, query)
  local status, res = self._core:op(name, self._tenant, self._user, job,
                                    task, body, query)
  if status >= 400 then return core_refusal(status, res) end
  return res == nil or res     -- 202 and 204 have no body: true
end

-- the query table of list_jobs / list_tasks as a query string: names
-- with or without `$`, values as text, integers or booleans
local function escape(s)
  return (s:gsub("[^%w%-._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function query_string(self, t)
  if t == nil then return nil end
  local parts, seen = {}, {}
  for k, v in pairs(t) do
    if type(k) ~= "string" then
      return nil, self:_error { status = 400, code = "invalidRequest",
        inner = "invalidQueryOption",
        message = "Query option names must be strings." }
    end
    local name = k:sub(1, 1) == "$" and k or "$" .. k
    if seen[name] then
      return nil, self:_error { status = 400, code = "invalidRequest",
        inner = "invalidQueryOption",
        message = "Query option '" .. name .. "' is given twice." }
    end
    seen[name] = true
    if type(v) == "number" or type(v) == "boolean" then
      v = tostring(math.tointeger(v) or v)
    elseif type(v) ~= "string" then
      return nil, self:_error { status = 400, code = "invalidRequest",
        inner = "invalidQueryOption",
        message = "Query option '" .. name .. "' must be text, a number " ..
                  "or a boolean." }
    end
    parts[#parts + 1] = escape(name) .. "=" .. escape(v)
  end
  return table.concat(parts, "&")
end

-- Each method counts as its Graph request for throttling and faults
-- (`refused`, from the store's default caller), then runs the core's
-- operation.
local J = "/crossTenantMigrationJobs"

function Graph:create_job(props)
  check_arg(1, "create_job", props, "table", "string")
  local refusal = refused(self, "POST", J)
  if refusal then return nil, refusal end
  return op(self, "create_job", nil, nil, props)
end

function Graph:get_job(id)
  check_arg(1, "get_job", id, "string")
  local refusal = refused(self, "GET", J .. "/" .. id)
  if refusal then return nil, refusal end
  return op(self, "get_job", id)
end

function Graph:update_job(id, patch)
  check_arg(1, "update_job", id, "string")
  check_arg(2, "update_job", patch, "table", "string")
  local refusal = refused(self, "PATCH", J .. "/" .. id)
  if refusal then return nil, refusal end
  local ok, err = op(self, "update_job", id, nil, patch)
  if ok == nil then return nil, err end
  return true
end

function Graph:delete_job(id)
  check_arg(1, "delete_job", id, "string")
  local refusal = refused(self, "DELETE", J .. "/" .. id)
  if refusal then return nil, refusal end
  local ok, err = op(self, "delete_job", id)
  if ok == nil then return nil, err end
  self:_flush()
  return true
end

local function action(name, opname)
  local verb = name:gsub("_job$", "")
  return function(self, id)
    check_arg(1, name, id, "string")
    local refusal = refused(self, "POST", J .. "/" .. id .. "/" .. verb)
    if refusal then return nil, refusal end
    local r, err = op(self, opname, id)
    if not r then return nil, err end
    self:_flush()
    return r
  end
end

Graph.validate_job = action("validate_job", "validate")
Graph.migrate_job = action("migrate_job", "migrate")
Graph.cancel_job = action("cancel_job", "cancel_job")

function Graph:create_task(job_id, props)
  check_arg(1, "create_task", job_id, "string")
  check_arg(2, "create_task", props, "table", "string")
  local refusal = refused(self, "POST", J .. "/" .. job_id .. "/users")
  if refusal then return nil, refusal end
  local task, err = op(self, "create_task", job_id, nil, props)
  if not task then return nil, err end
  self:_flush()
  return task
end

function Graph:get_task(job_id, task_id)
  check_arg(1, "get_task", job_id, "string")
  check_arg(2, "get_task", task_id, "string")
  local refusal = refused(self, "GET", J .. "/" .. job_id .. "/users/" ..
                                       task_id)
  if refusal then return nil, refusal end
  return op(self, "get_task", job_id, task_id)
end

function Graph:cancel_task(job_id, task_id)
  check_arg(1, "cancel_task", job_id, "string")
  check_arg(2, "cancel_task", task_id, "string")
  local refusal = refused(self, "POST", J .. "/" .. job_id .. "/users/" ..
                                        task_id .. "/cancel")
  if refusal then return nil, refusal end
  local r, err = op(self, "cancel_task", job_id, task_id)
  if not r then return nil, err end
  self:_flush()
  return r
end

function Graph:list_jobs(query)
  check_arg(1, "list_jobs", query, "table", "nil")
  local refusal = refused(self, "GET", J)
  if refusal then return nil, refusal end
  local qs, err = query_string(self, query)
  if err then return nil, err end
  return op(self, "list_jobs", nil, nil, nil, qs)
end

function Graph:list_tasks(job_id, query)
  check_arg(1, "list_tasks", job_id, "string")
  check_arg(2, "list_tasks", query, "table", "nil")
  local refusal = refused(self, "GET", J .. "/" .. job_id .. "/users")
  if refusal then return nil, refusal end
  local qs, err = query_string(self, query)
  if err then return nil, err end
  return op(self, "list_tasks", job_id, nil, nil, qs)
end

-- response headers: names are case-insensitive both ways
local Headers = {}
Headers.__index = function(t, k)
  if type(k) ~= "string" then return nil end
  local lk = k:lower()
  for name, v in pairs(t) do
    if name:lower() == lk then return v end
  end
  return nil
end
M.Headers = Headers

--- Answers one Graph request as the service would: returns the status,
-- the body (a table, the text of a `$count`, or nil) and the headers
-- (names case-insensitive).  The request path is the core's
-- (ct_request.h), the one the HTTP server answers with.
function Graph:request(method, url, body, headers)
  check_arg(1, "request", method, "string")
  check_arg(2, "request", url, "string")
  if body ~= nil and type(body) ~= "string" and type(body) ~= "table" then
    error("bad argument #3 to 'request' (string, table or nil expected, " ..
          "got " .. type(body) .. ")", 2)
  end
  check_arg(4, "request", headers, "table", "nil")
  local now = self._fault_now        -- a server's wall clock, if set
  local status, rbody, rheaders = self._core:request(method, url, body,
    headers, not self._require_token and self._tenant or nil, self._user,
    nil, now and now(), self._faults_off)
  setmetatable(rheaders, Headers)
  self:_flush()
  return status, rbody, rheaders
end

-- The model clock ---------------------------------------------------------

-- a duration argument (argument #n of `name`) in ticks
local function duration_ticks(d, name, n)
  local where = "bad argument #" .. n .. " to '" .. name .. "' ("
  if type(d) == "number" then
    if d ~= d or d < 0 or d == math.huge then
      error(where .. "seconds must be >= 0)", 3)
    end
    if d > MAX_SPAN then error(where .. "more than 10,000 years)", 3) end
    return math.floor(d * TICKS + 0.5)
  elseif type(d) == "string" then
    local t = core.duration_parse(d)
    if not t then
      error(where .. "not an ISO 8601 duration: '" .. d .. "')", 3)
    end
    if t > MAX_SPAN * TICKS then
      error(where .. "more than 10,000 years)", 3)
    end
    return t
  end
  error(where .. "number or string expected, got " .. type(d) .. ")", 3)
end

--- The model clock, as ISO 8601 UTC text.
function Graph:now()
  local t = self._core:now()
  return core.time_format(t, t % TICKS ~= 0 and 7 or 0)
end

function Graph:_dispatch(events)
  local hj, ht = self._handlers.job, self._handlers.task
  if #hj == 0 and #ht == 0 then return end
  for _, ev in ipairs(events) do
    if ev.type == "job" then
      if #hj > 0 then
        local job = self._core:job_get(self._tenant, ev.job, false)
        for _, fn in ipairs(hj) do fn(job or ev, ev.old, ev.new) end
      end
    elseif #ht > 0 then
      local task = self._core:task_get(self._tenant, ev.job, false, ev.user)
      if task then task["@job"] = nil end
      for _, fn in ipairs(ht) do
        fn(ev.job, task or ev, ev.service, ev.old, ev.new)
      end
    end
  end
end

-- Runs the transitions due up to `stop`.  With observers, it stops at
-- each due time and hands them that instant's events while the jobs are
-- as the events left them; either way it returns every event.
function Graph:_advance_to(stop)
  local c = self._core
  if #self._handlers.job == 0 and #self._handlers.task == 0 then
    return c:advance(stop, true)
  end
  local all = {}
  repeat
    local due = c:next_due()
    local to = (due and due < stop) and due or stop
    local events = c:advance(to, true)
    self:_dispatch(events)
    table.move(events, 1, #events, #all + 1, all)
  until to == stop
  return all
end

--- Moves the clock forward by `d` (seconds or an ISO 8601 duration) and
-- runs every transition due in that span; returns the events (with
-- want_events == false, only how many there were: no tables are built).
function Graph:advance(d, want_events)
  local ticks = duration_ticks(d, "advance", 1)
  if want_events == false then
    if #self._handlers.job > 0 or #self._handlers.task > 0 then
      return #self:_advance_to(self._core:now() + ticks)
    end
    return self._core:advance(self._core:now() + ticks, false)
  end
  return self:_advance_to(self._core:now() + ticks)
end

--- Advances until pred(graph) holds or `limit` has passed; returns
-- whether pred held.  pred may be a job id and a set of statuses.
function Graph:run_until(pred, a, b)
  local limit
  local nlimit = 2
  if type(pred) == "string" then
    check_arg(2, "run_until", a, "table")
    local id, set = pred, {}
    for _, s in ipairs(a) do set[s] = true end
    if not self._core:job_get(self._tenant, id, false) then
      error("bad argument #1 to 'run_until' (no job '" .. id .. "')", 2)
    end
    nlimit = 3
    pred = function(g)
      local job = g._core:job_get(g._tenant, id, false)
      return job ~= nil and set[job.status] == true
    end
    limit = b
  else
    check_arg(1, "run_until", pred, "function")
    limit = a
  end
  local stop = self._core:now() + duration_ticks(limit or "P30D",
                                                 "run_until", nlimit)
  while true do
    if pred(self) then return true end
    local due = self._core:next_due()
    if not due or due > stop then
      self:_advance_to(stop)
      return pred(self) and true or false
    end
    self:_advance_to(due)
  end
end

--- Scripts an outcome for one user and service in one phase.
function Graph:fail(spec)
  check_arg(1, "fail", spec, "table")
  for k in pairs(spec) do
    if not ({ user = 1, service = 1, phase = 1, status = 1, code = 1,
              message = 1 })[k] then
      error("bad argument #1 to 'fail' (unknown field '" .. tostring(k)
            .. "')", 2)
    end
  end
  local function bad(field, what)
    error("bad argument #1 to 'fail' (field '" .. field .. "' " .. what ..
          ")", 3)
  end
  if type(spec.user) ~= "string" or not core.guid(spec.user) then
    bad("user", "must be a user's GUID")
  end
  local services = { odsp = "ODSP", meeting = "Meeting", teams = "Teams",
                     exchange = "Exchange" }
  if type(spec.service) ~= "string" or not services[spec.service:lower()] then
    bad("service", "must be ODSP, Meeting, Teams or Exchange")
  end
  local phase = spec.phase or "validate"
  if phase ~= "validate" and phase ~= "migrate" then
    bad("phase", "must be validate or migrate")
  end
  local status = spec.status or (phase == "validate" and "invalid" or "failed")
  local allowed = phase == "validate" and { invalid = 1, error = 1 }
                  or { failed = 1, error = 1 }
  if not allowed[status] then
    bad("status", phase == "validate" and "must be invalid or error"
                  or "must be failed or error")
  end
  for _, f in ipairs { "code", "message" } do
    if spec[f] ~= nil and type(spec[f]) ~= "string" then
      bad(f, "must be a string")
    end
  end
  local ok, err = self._core:fail(spec.user, spec.service, phase, status,
                                  spec.code or "scriptedFailure",
                                  spec.message or "Scripted failure.")
  if not ok then return self:_fail(err) end
  return true
end

--- Observes transitions: "job" (job, old, new), "task" (job_id, task,
-- service, old, new).
function Graph:on(event, fn)
  check_arg(1, "on", event, "string")
  check_arg(2, "on", fn, "function")
  local list = self._handlers[event]
  if not list then
    error("bad argument #1 to 'on' (event must be 'job' or 'task')", 2)
  end
  list[#list + 1] = fn
  self._core:record(true)
  return self
end

function Graph:close()
  self._core:close()
end
Graph.__close = Graph.close

-- JSON --------------------------------------------------------------------

--- Any table the model returned, as the exact JSON Graph sends.
function M.encode(t)
  return core.encode(t)
end

--- JSON text to Lua values, with the model's strict reader (integers
-- stay integers, null is crosstenant.null); nil + message on bad input.
function M.decode(s)
  check_arg(1, "decode", s, "string")
  return core.decode(s)
end

M.Graph = Graph
return M
