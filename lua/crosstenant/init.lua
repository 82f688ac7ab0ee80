--- A local model of Microsoft Graph's cross-tenant migration API.
--
-- The store and every rule live in the C core (`crosstenant.core`); this
-- module holds the Lua-facing API: options, the methods, error objects
-- and the model clock.  `graph:request` and every method run the core's
-- request path (csrc/ct_request.h), one implementation per operation.
--
-- One error policy: a wrong argument type or value (a programming
-- mistake) raises `bad argument #n to 'name' (...)` naming the caller's
-- file and line; data the model refuses returns `nil, err`, where `err` is
-- an `Error`.  `graph:must` is the raising form of every method.
--
-- @module crosstenant
-- @usage local crosstenant = require "crosstenant"
-- local graph = crosstenant.new { seed = 42, now = "2025-11-06T09:00:00Z" }
-- local job, err = graph:get_job("nope")   --> nil, err (err.status == 404)

-- This file must stay readable by Lua 5.1 (no `//`, bitwise operators,
-- `goto` or attributes) up to the version check below, so that
-- `require "crosstenant"` from the wrong Lua (Debian's plain `busted` runs
-- Lua 5.1) fails with a sentence instead of a syntax error.
if _VERSION ~= "Lua 5.4" then
  error("crosstenant needs Lua 5.4, but this is " .. tostring(_VERSION) ..
        ": run scripts with lua5.4 and busted as " ..
        "`lua5.4 $(command -v busted)`", 2)
end

local core = require "crosstenant.core"
local caller = require "crosstenant.caller"
local time = require "crosstenant.time"

local M = {}

--- The version, `"crosstenant 0.1.0"`.
M._VERSION = "crosstenant 0.1.0"

--- JSON null in bodies and results: the same light userdata as
-- `cjson.null`.
M.null = core.null

--- Time arithmetic on ISO 8601 text: the `crosstenant.time` module.
M.time = time

--- Graph's names, as the core keeps them: one list of each, which the
-- validator, the writer, the query parser and `$select` read too.
-- Sequences of strings (treat them as read-only):
--
-- * `JOB_STATUSES`: crossTenantMigrationJobStatus members, the SDK's
--   order (`submitted`, `approved`, ..., `unknownFutureValue`)
-- * `JOB_TYPES`: crossTenantMigrationJobType (`validate`, `migrate`,
--   `unknownFutureValue`)
-- * `SERVICE_STATUSES`: crossTenantMigrationServiceStatus members
-- * `SERVICES`: the services of `currentStatus` entries, in the docs'
--   order (`ODSP`, `Meeting`, `Teams`, `Exchange`)
-- * `WORKLOADS`: a job's workloads (`Teams`, `Exchange`, `ODSP`)
-- * `TIMINGS`: the keys of `crosstenant.new`'s `timings` option
-- * `JOB_STATUS_ORDER`, `SERVICE_STATUS_ORDER`: the statuses in the order
--   a migration runs through them (the order reports and messages list
--   them in), `unknownFutureValue` left out
--
-- and `schema`: for each type (`job`, `task`, `statusDetails`, `error`,
-- `exchangeSettings`) `{ type = "microsoft.graph....", properties =
-- {...} }`, the properties in their documented order (the order of
-- every response).
M.JOB_STATUSES = core.JOB_STATUSES
M.JOB_STATUS_ORDER = core.JOB_STATUS_ORDER
M.SERVICE_STATUS_ORDER = core.SERVICE_STATUS_ORDER
M.JOB_TYPES = core.JOB_TYPES
M.SERVICE_STATUSES = core.SERVICE_STATUSES
M.SERVICES = core.SERVICES
M.WORKLOADS = core.WORKLOADS
M.TIMINGS = core.TIMINGS
M.schema = core.schema

-- a set of a list's names, lower-cased when `fold`: name -> name
local function name_set(list, fold)
  local set = {}
  for _, v in ipairs(list) do set[fold and v:lower() or v] = v end
  return set
end

-- "a", "a or b", "a, b or c"
local function either(list)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " or " .. list[#list]
end

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

--- A refusal, as methods return it (`nil, err`) and `must` raises it.
-- `tostring(err)` is one line: `404 itemNotFound: ...`, with
-- `file:line: ` first when `where` is set.
-- @table Error
-- @field status the HTTP status (integer)
-- @field code Graph's error code (`invalidRequest`, `itemNotFound`,
--   `notAllowed`, ...)
-- @field message the message, naming the property, value or status at
--   fault
-- @field inner `innerError.code`, or nil (`invalidProperty`,
--   `propertyNotUpdateable`, `invalidQueryOption`)
-- @field body the Graph error body: `{ error = { code, message,
--   innerError = { code?, date, ["request-id"],
--   ["client-request-id"] } } }`; `date` is UTC, whole seconds, no offset,
--   as Graph writes it (`"2025-11-06T09:00:00"`)
-- @field where `file:line` of the caller, set by `must`, the iterators
--   and `crosstenant run`; nil otherwise
local Error = {}
Error.__index = Error
Error.__tostring = function(e)
  return string.format("%s%d %s: %s", e.where and e.where .. ": " or "",
                       e.status, e.code, e.message)
end

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

-- Builds the Graph error body and the error object for a core error,
-- with the request's client-request-id, if any, and the store's next
-- request id unless `request_id` is given (the server's control
-- namespace has a sequence of its own).
function Graph:_error(err, client_request_id, request_id)
  -- like Graph, client-request-id is the request-id when none was sent
  request_id = request_id or self._core:request_id()
  local now = self._core:now()
  local inner = {
    -- as Graph writes it: UTC, whole seconds, no offset
    date = core.time_format(now - now % TICKS, 0):sub(1, -2),
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
  local list = { want, ... }
  caller.argerror(n, name, (#list > 2 and table.concat(list, ", ", 1,
                                                        #list - 1) ..
                              " or " .. list[#list]
                            or table.concat(list, " or ")) ..
                           " expected, got " .. t)
end

-- Options -----------------------------------------------------------------

local OPTIONS = {
  tenant = "string", user = "string", strict = "boolean", seed = "number",
  now = "string", require_token = "boolean", failure_rate = "number|table",
  timings = "table", fault_rate = "table", retry_after = "number",
  throttle = "table",
}

local TIMINGS = name_set(core.TIMINGS)
local SERVICE_BY_LOWER = name_set(core.SERVICES, true)
local SERVICES_TEXT = either(core.SERVICES)

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

-- opt_error for check_fault_options: the caller's line, as every
-- argument error (crosstenant.caller)
local function fopt_error(msg, who)
  caller.raise("crosstenant." .. who .. ": " .. msg)
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
    caller.raise("crosstenant." .. who .. ": " .. msg)
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

--- Creates a store: an empty model of the service, with its own clock.
-- Every option is optional; an unknown one raises.
-- @tparam[opt] table opts
--
-- - `tenant` (string GUID): the caller's tenant when a request carries no
--   token (default `87654321-4321-4321-4321-210987654321`)
-- - `user` (string): the caller's UPN, the jobs' `createdBy`
--   (default `admin@fabrikam.onmicrosoft.com`)
-- - `strict` (boolean, default true): false ignores read-only properties
--   in a body instead of answering 400
-- - `seed` (integer): the same seed and calls give the same ids and draws
--   (default: random)
-- - `now` (string): the model clock's start, an ISO 8601 date-time
--   (default: the real time)
-- - `require_token` (boolean, default false): requests without a usable
--   bearer token get 401
-- - `failure_rate` (number 0..1, or `{ validate = x, migrate = y }`):
--   seeded random failures per user, service and phase (default 0);
--   `sticky = true` in the table draws each (user, service, phase) once
-- - `timings` (table): seconds per lifecycle step (`validate_submitted`,
--   `validate_processing`, `validate_in_progress`, `processing`, `sync`,
--   `cutover`, `cancel`, `delete_pending`, `deleted`,
--   `validation_expiry`), 0 to 1,000 years each
-- - `fault_rate` (`{ [429] = x, [503] = y, [504] = z }`), `retry_after`
--   (whole seconds), `throttle` (`{ requests = n, per = seconds }`):
--   throttling and transient faults (see `Graph:fault`)
-- @treturn Graph the store
-- @raise `crosstenant.new: option 'failure_rate' must be between 0 and 1`,
--   `crosstenant.new: unknown option 'colour'`, ... at the caller's line
-- @usage local graph = crosstenant.new { seed = 42,
--   now = "2025-11-06T09:00:00Z", timings = { sync = 3600 } }
function M.new(opts)
  local g = new_store(opts, "new")   -- not a tail call: errors name the
  g._opts = opts                     -- caller's line; kept for a server's
  return g                           -- reset
end

-- State that lasts ----------------------------------------------------------

--- The whole store as a string (a versioned binary image): tenants, jobs,
-- tasks, the clock, pending transitions, scripted outcomes, the seeded
-- generators, timings and options.  Observers (graph:on) are not in it.
-- @function Graph:snapshot
-- @treturn string the image
-- @usage local image = graph:snapshot()
function Graph:snapshot()
  return self._core:snapshot()
end

--- A new, independent store from an image graph:snapshot() made.
-- Returns the store, or nil and a message for an image that is not one
-- ("not a crosstenant snapshot", "truncated at byte N", "snapshot format
-- 3 is newer than this crosstenant (1)", "corrupt snapshot: ...").
-- Raises when `image` is not a string.
-- @tparam string image what `Graph:snapshot` made
-- @treturn Graph the restored store
-- @return nil and the message
-- @raise `bad argument #1 to 'restore' (string expected, got nil)`
-- @usage local copy = assert(crosstenant.restore(graph:snapshot()))
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
-- @function Graph:save
-- @tparam string path the store file
-- @treturn boolean true
-- @return nil and the message
-- @raise `bad argument #1 to 'save' (string expected, got nil)`
-- @usage assert(graph:save("wave1.ctstore"))
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
-- @tparam string path the store file
-- @tparam[opt] table opts as `new`
-- @treturn Graph the store
-- @return nil and the message
-- @raise on argument types and options, as `new` (`crosstenant.open: ...`)
-- @usage local graph = assert(crosstenant.open("wave1.ctstore",
--   { seed = 1 }))
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

--- Graph
-- @type Graph

-- Throttling and transient faults -----------------------------------------

-- Decides whether a request is refused with 429, 503 or 504 (see
-- csrc/ct_fault.h for the order of the decisions), on the model clock.
-- `method` (upper case) and `path` (under /solutions/migrations, or nil)
-- name the Graph request; `who` is "tenant/appid" ("tenant/" for the
-- store's default caller).  Returns nil when the request goes on, else
-- the error object (status, code, inner, message, body, retry_after in
-- whole seconds).  It consumes a request id, as every answer does.
-- A server sets `graph._fault_now` to a function giving the wall clock
-- in ticks (100 ns since 1970): windows and budgets then run on it.
function Graph:_fault_check(method, path, who, client_request_id)
  if self._faults_off then return nil end
  local now = self._fault_now
  local status, retry, code, inner, message = self._core:fault_decide(
    method, path, who, now and now())
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

-- Runs fn(...) with faults off: what the tool itself reads (a report,
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
-- Requests and the methods alike count.
-- @tparam table spec `{ status = 429|503|504, retry_after = seconds,
--   times = n, method = "GET"|"POST"|"PATCH"|"DELETE", path = pattern }`
-- @treturn boolean true
-- @raise `bad argument #1 to 'fault' (field 'status' must be 429, 503 or
--   504)`, `(unknown field 'x')`, ... at the caller's line
-- @usage graph:fault { status = 429, retry_after = 5, times = 2,
--   method = "POST", path = "/crossTenantMigrationJobs/*/users" }
function Graph:fault(spec)
  check_arg(1, "fault", spec, "table")
  local function bad(what)
    caller.argerror(1, "fault", what)
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

--- The scripted faults (`fault`) not yet used up, oldest first.
-- @treturn table a sequence of `{ status, retry_after, times (uses left),
--   method?, path? }`
-- @usage for _, f in ipairs(graph:faults()) do print(f.status, f.times) end
function Graph:faults()
  return self._core:fault_list()
end

--- How many requests were refused, by status.
-- @treturn table `{ [429] = n, [503] = n, [504] = n }`
-- @usage local refused = graph:fault_counts()[429]
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

--- Creates a job (`POST /crossTenantMigrationJobs`) and one task per
-- resource.
-- @tparam table|string props the crossTenantMigrationJob: a Lua table or
--   JSON text with `displayName`, `completeAfterDateTime`,
--   `sourceTenantId`, `resourceType` (`"Users"`), `resources` (1 to 2,000
--   user GUIDs), optional `workloads` and `exchangeSettings` (required
--   with Exchange)
-- @treturn table the job as Graph answers it (201)
-- @return nil and an `Error` (400 invalidRequest naming the property,
--   409 nameAlreadyExists, 409 notAllowed for a user in another job)
-- @raise `bad argument #1 to 'create_job' (table or string expected, got
--   number)`
-- @usage local job = assert(graph:create_job {
--   displayName = "wave 1",
--   completeAfterDateTime = graph:now("P1D"),
--   sourceTenantId = "12345678-1234-1234-1234-123456789012",
--   resourceType = "Users",
--   resources = { "4dd550d9-9ea2-4e71-a16b-000000000001" },
--   exchangeSettings = { sourceEndpoint = "EXOHandler",
--                        targetDeliveryDomain = "fabrikam.onmicrosoft.com" },
-- })
function Graph:create_job(props)
  check_arg(1, "create_job", props, "table", "string")
  local refusal = refused(self, "POST", J)
  if refusal then return nil, refusal end
  return op(self, "create_job", nil, nil, props)
end

--- Gets a job (`GET /crossTenantMigrationJobs/{id}`).
-- @tparam string id the job's id or its displayName
-- @treturn table the job
-- @return nil and an `Error` (404 itemNotFound)
-- @raise `bad argument #1 to 'get_job' (string expected, got nil)`
-- @usage local job = assert(graph:get_job("wave 1"))
function Graph:get_job(id)
  check_arg(1, "get_job", id, "string")
  local refusal = refused(self, "GET", J .. "/" .. id)
  if refusal then return nil, refusal end
  return op(self, "get_job", id)
end

--- Updates a job's `completeAfterDateTime` (`PATCH`).
-- @tparam string id the job's id or displayName
-- @tparam table|string patch `{ completeAfterDateTime = "..." }` (any
--   other property is 400 propertyNotUpdateable)
-- @treturn boolean true (204)
-- @return nil and an `Error` (400, 404, 409 once cutting over)
-- @raise on argument types, like every method
-- @usage assert(graph:update_job(job.id,
--   { completeAfterDateTime = graph:now("PT2H") }))
function Graph:update_job(id, patch)
  check_arg(1, "update_job", id, "string")
  check_arg(2, "update_job", patch, "table", "string")
  local refusal = refused(self, "PATCH", J .. "/" .. id)
  if refusal then return nil, refusal end
  local ok, err = op(self, "update_job", id, nil, patch)
  if ok == nil then return nil, err end
  return true
end

--- Deletes a job in a final status (`DELETE`): `pendingDelete`, then
-- `deleted`, then gone as the clock moves.
-- @tparam string id the job's id or displayName
-- @treturn boolean true (202)
-- @return nil and an `Error` (404, 409 when not in a final status)
-- @raise on argument types
-- @usage assert(graph:delete_job(job.id))
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

--- Starts a validation (`POST .../validate`).
-- @function Graph:validate_job
-- @tparam string id the job's id or displayName
-- @treturn table the job, `validateSubmitted` (200)
-- @return nil and an `Error` (404, 409 in another status)
-- @raise on argument types
-- @usage assert(graph:validate_job(job.id))
Graph.validate_job = action("validate_job", "validate")

--- Starts the migration (`POST .../migrate`).
-- @function Graph:migrate_job
-- @tparam string id the job's id or displayName
-- @treturn table the job, `processing` (200)
-- @return nil and an `Error` (404, 409 outside validatePassed, failed and
--   completedWithErrors)
-- @raise on argument types
-- @usage assert(graph:migrate_job(job.id))
Graph.migrate_job = action("migrate_job", "migrate")

--- Cancels a job (`POST .../cancel`).
-- @function Graph:cancel_job
-- @tparam string id the job's id or displayName
-- @treturn table `{ id, displayName, status = "pendingCancel", message }`
--   (202)
-- @return nil and an `Error` (404, 409)
-- @raise on argument types
-- @usage assert(graph:cancel_job(job.id))
Graph.cancel_job = action("cancel_job", "cancel_job")

-- create_task is the hot path of `make bench`: the argument checks are
-- inline, and one call to the core both tells whether faults are armed
-- and, when none are, creates the task; the fault path's URL is made
-- only when faults are armed.

--- Adds a user to a job (`POST .../users`, the seed endpoint).
-- @tparam string job_id the job's id or displayName
-- @tparam table|string props the crossTenantMigrationTask: `taskType`
--   (`"user"`), `lastUpdatedDateTime`, optional `id` (the user's GUID)
--   and `currentStatus`
-- @treturn table the task (201)
-- @return nil and an `Error` (400, 404, 409)
-- @raise on argument types
-- @usage local task = assert(graph:create_task(job.id, {
--   taskType = "user", lastUpdatedDateTime = graph:now(),
--   id = "4dd550d9-9ea2-4e71-a16b-000000000002" }))
function Graph:create_task(job_id, props)
  if type(job_id) ~= "string" then
    check_arg(1, "create_task", job_id, "string")
  end
  local tp = type(props)
  if tp ~= "table" and tp ~= "string" then
    check_arg(2, "create_task", props, "table", "string")
  end
  local c = self._core
  local status, task = c:op("create_task", self._tenant, self._user, job_id,
                            nil, props, nil, true)
  if status == 0 then              -- faults are armed: may refuse first
    local refusal = refused(self, "POST", J .. "/" .. job_id .. "/users")
    if refusal then return nil, refusal end
    status, task = c:op("create_task", self._tenant, self._user, job_id, nil,
                        props)
  end
  if status >= 400 then return core_refusal(status, task) end
  local h = self._handlers            -- _flush's test, without its call
  if #h.job > 0 or #h.task > 0 then self:_flush() end
  return task
end

--- Gets a user's task (`GET .../users/{taskId}`).
-- @tparam string job_id the job's id or displayName
-- @tparam string task_id the user's GUID
-- @treturn table the task
-- @return nil and an `Error` (404)
-- @raise on argument types
-- @usage local task = assert(graph:get_task(job.id, user))
function Graph:get_task(job_id, task_id)
  check_arg(1, "get_task", job_id, "string")
  check_arg(2, "get_task", task_id, "string")
  local refusal = refused(self, "GET", J .. "/" .. job_id .. "/users/" ..
                                       task_id)
  if refusal then return nil, refusal end
  return op(self, "get_task", job_id, task_id)
end

--- Cancels one user's migration (`POST .../users/{taskId}/cancel`).
-- @tparam string job_id the job's id or displayName
-- @tparam string task_id the user's GUID
-- @treturn table `{ status = "Accepted", message }` (202)
-- @return nil and an `Error` (404, 409)
-- @raise on argument types
-- @usage assert(graph:cancel_task(job.id, user))
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

-- Lists and pages ---------------------------------------------------------

-- The query string of a string query: an @odata.nextLink, or a query
-- string ("$top=5&$filter=..."), read as a /beta request's by the core.
-- A link must name this collection: `tail` is its path's end, lower case.
local function link_query(self, link, tail)
  local path, qs = link:match("^([^?#]*)%?([^#]*)")
  if not path then path, qs = "", link end
  if path ~= "" and path:lower():sub(-#tail) ~= tail then
    return nil, self:_error { status = 400, code = "invalidRequest",
      inner = "invalidQueryOption",
      message = "The link '" .. link:sub(1, 200) .. "' is not a page of " ..
                "this collection." }
  end
  return qs
end

-- graph:request's headers, checked here so that the error names the
-- caller's line (the core checks them again)
local function check_headers(headers)
  for k, v in pairs(headers or {}) do
    if type(k) ~= "string" then
      caller.argerror(4, "request", "header names must be strings")
    end
    if type(v) ~= "string" and type(v) ~= "number" then
      caller.argerror(4, "request", "header '" .. k .. "' must be a string")
    end
  end
end

--- One page of the jobs (`GET /crossTenantMigrationJobs`), newest first.
-- @tparam[opt] table|string query OData options, names with or without
--   `$` (`{ filter = "status eq 'failed'", top = 50, orderby = ...,
--   select = ..., count = true, expand = "users", skip = 10 }`), or the
--   `@odata.nextLink` of a page (or a query string) to get the next page
-- @treturn table the collection: `["@odata.context"]`, `value` (the jobs),
--   `["@odata.nextLink"]` when there is more, `["@odata.count"]` with
--   `count = true`
-- @return nil and an `Error` (400 invalidRequest with inner code
--   invalidQueryOption)
-- @raise `bad argument #1 to 'list_jobs' (table or string or nil
--   expected, got number)`
-- @usage local page = assert(graph:list_jobs { top = 50 })
-- while page["@odata.nextLink"] do
--   page = assert(graph:list_jobs(page["@odata.nextLink"]))
-- end
function Graph:list_jobs(query)
  check_arg(1, "list_jobs", query, "table", "string", "nil")
  local refusal = refused(self, "GET", J)
  if refusal then return nil, refusal end
  local qs, err
  if type(query) == "string" then
    qs, err = link_query(self, query, "/crosstenantmigrationjobs")
  else
    qs, err = query_string(self, query)
  end
  if err then return nil, err end
  return op(self, "list_jobs", nil, nil, nil, qs)
end

--- One page of a job's tasks (`GET .../users`), in the order users were
-- added.
-- @tparam string job_id the job's id or displayName
-- @tparam[opt] table|string query OData options as for `list_jobs` (no
--   `expand`), or the `@odata.nextLink` of a page of this job's users
-- @treturn table the collection (as `list_jobs`)
-- @return nil and an `Error` (404, 400)
-- @raise on argument types
-- @usage local page = assert(graph:list_tasks(job.id, {
--   filter = "currentStatus/any(s: s/status eq 'failed')" }))
function Graph:list_tasks(job_id, query)
  check_arg(1, "list_tasks", job_id, "string")
  check_arg(2, "list_tasks", query, "table", "string", "nil")
  local refusal = refused(self, "GET", J .. "/" .. job_id .. "/users")
  if refusal then return nil, refusal end
  local qs, err
  if type(query) == "string" then
    local job, jerr = self._core:job_get(self._tenant, job_id, false)
    if not job then return self:_fail(jerr) end
    qs, err = link_query(self, query, "/crosstenantmigrationjobs/" ..
                                      job.id .. "/users")
  else
    qs, err = query_string(self, query)
  end
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

-- raise a Graph error at the caller's position (see Graph:must)
local function raise_error(e)
  e.where = caller.where()
  error(e, 0)
end

-- an iterator over the items of `first` and the pages after it
local function pages(first, next_page)
  local page, i = first, 0
  return function()
    i = i + 1
    local item = page.value[i]
    while item == nil do
      local link = page["@odata.nextLink"]
      if not link then return nil end
      local p, err = next_page(link)
      if not p then raise_error(err) end
      page, i = p, 1
      item = page.value[1]
    end
    return item
  end
end

--- Every job, following the pages: `for job in graph:jobs(query) do`.
-- Each page is fetched when the loop reaches it; the iterator holds no
-- resource, so breaking out of the loop needs no clean-up.
-- @tparam[opt] table|string query as for `list_jobs` (`top` sets the page
--   size)
-- @treturn function an iterator giving one job table a call
-- @raise a bad query or a page that fails raises the `Error` (its
--   `where` names the caller's line); argument types as `list_jobs`
-- @usage for job in graph:jobs { filter = "status eq 'failed'" } do
--   print(job.displayName)
-- end
function Graph:jobs(query)
  check_arg(1, "jobs", query, "table", "string", "nil")
  local first, err = self:list_jobs(query)
  if not first then raise_error(err) end
  return pages(first, function(link) return self:list_jobs(link) end)
end

--- Every task of a job, following the pages:
-- `for task in graph:tasks(job_id, query) do`.
-- @tparam string job_id the job's id or displayName
-- @tparam[opt] table|string query as for `list_tasks`
-- @treturn function an iterator giving one task table a call
-- @raise a missing job (404), a bad query or a failing page raises the
--   `Error`, naming the caller's line; argument types as `list_tasks`
-- @usage for task in graph:tasks(job.id) do print(task.id) end
function Graph:tasks(job_id, query)
  check_arg(1, "tasks", job_id, "string")
  check_arg(2, "tasks", query, "table", "string", "nil")
  local first, err = self:list_tasks(job_id, query)
  if not first then raise_error(err) end
  return pages(first, function(link) return self:list_tasks(job_id, link) end)
end

--- Any request of the documented HTTP API, as Graph answers it.  Never
-- raises for data: every refusal is an answer.
-- @tparam string method `GET`, `POST`, `PATCH` or `DELETE`
-- @tparam string url the path (`/beta/solutions/...`), with a version or
--   as a whole `https://graph.microsoft.com/...` URL, with a query string
-- @tparam[opt] string|table body JSON text or a Lua table
-- @tparam[opt] table headers header names to values (`Authorization`,
--   `client-request-id`, ...)
-- @treturn integer the HTTP status
-- @treturn table|string|nil the body (a table; the text of `/$count`; nil
--   for 202/204 without a body)
-- @treturn table the response headers, read case-insensitively
--   (`request-id`, `client-request-id`, `Content-Type`, and as the answer
--   has them `Location`, `Retry-After`, and a 405's `Allow`: the methods
--   the path takes)
-- @raise `bad argument #2 to 'request' (string expected, got nil)`
-- @usage local status, body = graph:request("GET",
--   "/beta/solutions/migrations/crossTenantMigrationJobs?$top=5")
function Graph:request(method, url, body, headers)
  -- the checks inline, check_arg only to raise (the hot path of the bench)
  if type(method) ~= "string" then
    check_arg(1, "request", method, "string")
  end
  if type(url) ~= "string" then check_arg(2, "request", url, "string") end
  local tb = type(body)
  if tb ~= "string" and tb ~= "table" and tb ~= "nil" then
    check_arg(3, "request", body, "string", "table", "nil")
  end
  if headers ~= nil then
    if type(headers) ~= "table" then
      check_arg(4, "request", headers, "table", "nil")
    end
    check_headers(headers)
  end
  local now = self._fault_now        -- a server's wall clock, if set
  local status, rbody, rheaders = self._core:request(method, url, body,
    headers, not self._require_token and self._tenant or nil, self._user,
    nil, now and now(), self._faults_off)
  setmetatable(rheaders, Headers)
  self:_flush()
  return status, rbody, rheaders
end

-- graph:request answered under another service root: `base` is
-- "scheme://host[:port]" (graph:serve passes the server's own, from the
-- request's Host), written into @odata.context, @odata.nextLink and
-- Location, and the one an absolute request URL must name.  Internal.
function Graph:_request_at(base, method, url, body, headers)
  local now = self._fault_now
  local status, rbody, rheaders = self._core:request(method, url, body,
    headers, not self._require_token and self._tenant or nil, self._user,
    base, now and now(), self._faults_off)
  setmetatable(rheaders, Headers)
  self:_flush()
  return status, rbody, rheaders
end

--- Serves the store over HTTP and HTTPS until SIGINT or SIGTERM: every
-- Graph path answers as `Graph:request` does, under the server's own
-- base URL, beside a control namespace (`/_crosstenant/...`).
-- @tparam[opt] table opts `host`, `port`, `https_port`, `tls`, `cert`,
--   `key`, `clock` (`"manual"`, `"real"` or `"xN"`), `quiet`,
--   `on_listen` (a function given the list of URLs once listening); see
--   README.md, "Serving over HTTP"
-- @treturn boolean true once stopped by a signal
-- @return nil and a message when it can't listen or read a certificate
-- @raise `graph:serve: unknown option 'x'`, ... for bad options
-- @usage graph:serve { port = 0, on_listen = function(urls) print(urls[1]) end }
function Graph:serve(opts)
  return require("crosstenant.serve").serve(self, opts)
end

-- raise for a method's failure: an Error, a refused request, a reason
local function must_fail(name, err)
  if getmetatable(err) == Error then raise_error(err) end
  caller.raise(name .. ": " .. tostring(err))
end

local function must_check(name, first, ...)
  if name == "request" then
    if first >= 400 then
      local body = ...
      local e = type(body) == "table" and body.error or {}
      must_fail(name, setmetatable({
        status = first, code = e.code or "unknown",
        message = e.message or "(no error body)",
        inner = e.innerError and e.innerError.code, body = body }, Error))
    end
  elseif first == nil or first == false then
    must_fail(name, (...))
  end
  return first, ...
end

--- Calls method `name` and raises when it fails, naming the caller's
-- line: the raising form of every method, for scripts and tests.
-- A failure is a nil or false first result (the `Error`, or the reason
-- `run_until` gives), or for `request` a status of 400 or more.
-- @tparam string name a method of the store (`"get_job"`, `"request"`,
--   `"run_until"`, ...)
-- @param ... the method's arguments
-- @return what the method returns
-- @raise the method's `Error`, its `where` set to the caller's
--   `file:line` (so `tostring(err)` reads `demo.lua:12: 404
--   itemNotFound: ...`); for a false from `run_until`, the string
--   `demo.lua:12: run_until: job '...' is still submitted at ...`;
--   `bad argument #1 to 'must' ('get_jobs' is not a method of the
--   store)` for an unknown name
-- @usage local job = graph:must("get_job", "wave 1")
-- graph:must("run_until", job.id, { "validatePassed" }, "P1D")
function Graph:must(name, ...)
  check_arg(1, "must", name, "string")
  local fn = self[name]
  if type(fn) ~= "function" or name:sub(1, 1) == "_" or name == "must" then
    caller.argerror(1, "must", "'" .. name .. "' is not a method of the " ..
                    "store")
  end
  return must_check(name, fn(self, ...))
end

-- The model clock ---------------------------------------------------------

-- a duration argument (argument #n of `name`) in ticks, >= 0
local function duration_ticks(d, name, n)
  local t = time.duration_ticks(d, n, name, false)
  if t > MAX_SPAN * TICKS then
    caller.argerror(n, name, "more than 10,000 years")
  end
  return t
end

--- The model clock as ISO 8601 UTC text, or the clock plus a duration.
-- @tparam[opt] number|string d seconds (negative goes back) or an ISO
--   8601 duration (`"P1D"`, `"PT2H30M"`, `"-PT1H"`; months and years are
--   not supported)
-- @treturn string `"2025-11-06T09:00:00Z"` (7 fractional digits when the
--   clock has a fraction)
-- @raise `bad argument #1 to 'now' ('P1M' has months or years, ...)`
-- @usage graph:now()        --> "2025-11-06T09:00:00Z"
-- graph:now("P1D")          --> "2025-11-07T09:00:00Z"
function Graph:now(d)
  local t = self._core:now()
  if d ~= nil then
    t = t + time.duration_ticks(d, 1, "now", true)
    return time.text(t, 1, "now")
  end
  return core.time_format(t, t % TICKS ~= 0 and 7 or 0)
end

-- When the store has `_observer_error` (a function(message) that the
-- server sets: an observer's error must not change a client's answer),
-- each observer runs protected: its error, with a traceback, goes there
-- and the other observers and events go on.  Else the error is raised.
function Graph:_dispatch(events)
  local hj, ht = self._handlers.job, self._handlers.task
  if #hj == 0 and #ht == 0 then return end
  local on_error = self._observer_error
  local function call(fn, ...)
    if not on_error then return fn(...) end
    local ok, err = xpcall(fn, debug.traceback, ...)
    if not ok then on_error(err) end
  end
  for _, ev in ipairs(events) do
    if ev.type == "job" then
      if #hj > 0 then
        local job = self._core:job_get(self._tenant, ev.job, false)
        for _, fn in ipairs(hj) do call(fn, job or ev, ev.old, ev.new) end
      end
    elseif #ht > 0 then
      local task = self._core:task_get(self._tenant, ev.job, false, ev.user)
      if task then task["@job"] = nil end
      for _, fn in ipairs(ht) do
        call(fn, ev.job, task or ev, ev.service, ev.old, ev.new)
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

--- Moves the clock forward and runs every transition due in that span,
-- in time order.
-- @tparam number|string d seconds (>= 0) or an ISO 8601 duration
--   (`"PT2H"`, `"P1DT12H"`, `"P1W"`; months and years are not supported:
--   their length varies)
-- @tparam[opt] boolean want_events false: count the events, build no
--   tables
-- @treturn table|integer the events (`{ type = "job"|"task", job, user?,
--   service?, old, new, time }`), or their number
-- @raise `bad argument #1 to 'advance' ('P1M' has months or years, which
--   have no fixed length and are not supported: use weeks, days or hours
--   (such as P30D))`; `(not an ISO 8601 duration: 'x')`; `(seconds must
--   be >= 0)`; `(a negative duration is not supported: '-PT1H')`
-- @usage graph:advance("PT2H")
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

-- Job statuses (crossTenantMigrationJobStatus) for run_until's checks,
-- in the order a migration runs through them: the core's list
local JOB_STATUSES = core.JOB_STATUS_ORDER

-- edit distance, for "did you mean"
local function distance(a, b)
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

-- the closest status to an unknown name, or nil
local function did_you_mean(name)
  local low, best, bestd = name:lower(), nil, 3
  for _, s in ipairs(JOB_STATUSES) do
    if s:lower() == low then return s end
    local d = distance(low, s:lower())
    if d < bestd then best, bestd = s, d end
  end
  return best
end

local KNOWN_STATUS = {}
for _, s in ipairs(JOB_STATUSES) do KNOWN_STATUS[s] = true end

-- the set of job statuses of run_until's argument #2 (raises)
local function status_set(list)
  local set, names = {}, {}
  for i, s in ipairs(list) do
    if type(s) ~= "string" then
      caller.argerror(2, "run_until", "status #" .. i .. " is a " ..
                      type(s) .. ", not a string")
    end
    if not KNOWN_STATUS[s] then
      local hint = did_you_mean(s)
      caller.argerror(2, "run_until", "'" .. s .. "' is not a job status" ..
        (hint and ("; did you mean '" .. hint .. "'?") or
         ("; job statuses: " .. table.concat(JOB_STATUSES, ", "))))
    end
    if not set[s] then names[#names + 1] = s end
    set[s] = true
  end
  if #names == 0 then
    caller.argerror(2, "run_until", "no job status given")
  end
  return set, names
end

--- Advances the clock, instant by instant, until a condition holds or a
-- limit has passed.  Two forms: a job and the statuses to wait for, or a
-- predicate.
-- @tparam string|function pred a job's id (or displayName), or
--   `function(graph) -> boolean`, asked before the clock moves and after
--   each instant at which something was due
-- @tparam[opt] table statuses with a job: the job statuses to wait for,
--   spelled as Graph spells them (`{ "validatePassed", "validateFailed" }`)
-- @tparam[opt="P30D"] number|string limit seconds or an ISO 8601 duration;
--   **30 days** when omitted; the clock stops at most this far ahead
-- @treturn boolean true as soon as the condition holds (the clock stops
--   at that instant)
-- @return false and the reason when the limit passed first (the clock is
--   then at the limit): `job '<id>' is still submitted at
--   2025-11-07T09:00:00Z (waited P1D for validatePassed)` (`is
--   validateFailed at` when the status changed; `no longer exists at` for
--   a job gone); with a predicate, `the condition did not hold at ...
--   (waited P1D)`
-- @raise `bad argument #2 to 'run_until' ('validatepassed' is not a job
--   status; did you mean 'validatePassed'?)`; `bad argument #1 to
--   'run_until' (no job 'x')`; a bad limit as `advance` (as argument #3,
--   or #2 with a predicate)
-- @usage assert(graph:run_until(job.id, { "validatePassed" }, "P1D"))
-- local ok, why = graph:run_until(function(g)
--   return g:get_job(job.id).status == "completed" end, "P7D")
function Graph:run_until(pred, statuses, limit)
  local a, b = statuses, limit
  local nlimit, why
  if type(pred) == "string" then
    check_arg(2, "run_until", a, "table")
    local set, names = status_set(a)
    local id = pred
    local first = self._core:job_get(self._tenant, id, false)
    if not first then
      caller.argerror(1, "run_until", "no job '" .. id .. "'")
    end
    nlimit, limit = 3, b
    pred = function(g)
      local job = g._core:job_get(g._tenant, id, false)
      return job ~= nil and set[job.status] == true
    end
    why = function(g, waited)
      local job = g._core:job_get(g._tenant, id, false)
      local tail = " at " .. g:now() .. " (waited " .. waited .. " for " ..
                   either(names) .. ")"
      if not job then return "job '" .. id .. "' no longer exists" .. tail end
      return "job '" .. id .. "' is " ..
             (job.status == first.status and "still " or "") .. job.status ..
             tail
    end
  else
    check_arg(1, "run_until", pred, "function")
    nlimit, limit = 2, a
    why = function(g, waited)
      return "the condition did not hold at " .. g:now() .. " (waited " ..
             waited .. ")"
    end
  end
  local span = duration_ticks(limit or "P30D", "run_until", nlimit)
  local stop = self._core:now() + span
  local watch = self._watch           -- the command's progress, if any
  while true do
    if watch then watch(self) end
    if pred(self) then return true end
    local due = self._core:next_due()
    if not due or due > stop then
      self:_advance_to(stop)
      if watch then watch(self) end
      if pred(self) then return true end
      return false, why(self, time.duration(span / TICKS))
    end
    self:_advance_to(due)
  end
end

--- Scripts an outcome for one user and service in one phase: the next
-- time that user's service goes through that phase, it ends with this
-- status, code and message.  Each outcome applies once, in script order.
-- A user in no job yet is accepted (the user may be added later);
-- `pending` lists the outcomes not applied yet.
-- @tparam table spec `{ user = guid, service = "Exchange"|"ODSP"|"Teams"|
--   "Meeting", phase = "validate"|"migrate" (default validate), status =
--   "invalid"|"error" (validate, default invalid) or "failed"|"error"
--   (migrate, default failed), code = "scriptedFailure", message =
--   "Scripted failure." }`
-- @treturn boolean true
-- @raise `bad argument #1 to 'fail' (unknown field 'reason')`, `(field
--   'user' must be a user's GUID)`, ...
-- @usage graph:fail { user = users[7], service = "Exchange",
--   code = "MailboxNotFound", message = "The target mail user was not found." }
function Graph:fail(spec)
  check_arg(1, "fail", spec, "table")
  for k in pairs(spec) do
    if not ({ user = 1, service = 1, phase = 1, status = 1, code = 1,
              message = 1 })[k] then
      caller.argerror(1, "fail", "unknown field '" .. tostring(k) .. "'")
    end
  end
  local function bad(field, what)
    caller.argerror(1, "fail", "field '" .. field .. "' " .. what)
  end
  if type(spec.user) ~= "string" or not core.guid(spec.user) then
    bad("user", "must be a user's GUID")
  end
  if type(spec.service) ~= "string" or
     not SERVICE_BY_LOWER[spec.service:lower()] then
    bad("service", "must be " .. SERVICES_TEXT)
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

--- The scripted outcomes (`fail`) not applied yet, in script order.
-- Each is a table with the fields of `fail`, all filled in (`user` in
-- lower case, `service` spelled as Graph spells it), so
-- `graph:fail(p)` scripts it again.
-- @treturn table a sequence of `{ user, service, phase, status, code,
--   message }` (empty when every outcome applied)
-- @usage for _, p in ipairs(graph:pending()) do
--   print(p.user, p.service, p.phase, "never applied")
-- end
function Graph:pending()
  return self._core:pending_outcomes()
end

--- Observes transitions.
-- @tparam string event `"job"`: `fn(job, old, new)`; `"task"`:
--   `fn(job_id, task, service, old, new)`
-- @tparam function fn the observer, run at each instant the clock stops
--   at, after that instant's transitions, and at once for what an action
--   changed
-- @treturn Graph the store (calls chain)
-- @raise `bad argument #1 to 'on' (event must be 'job' or 'task')`
-- @usage graph:on("job", function(job, old, new)
--   print(job.displayName, old, "->", new) end)
function Graph:on(event, fn)
  check_arg(1, "on", event, "string")
  check_arg(2, "on", fn, "function")
  local list = self._handlers[event]
  if not list then
    caller.argerror(1, "on", "event must be 'job' or 'task'")
  end
  list[#list + 1] = fn
  self._core:record(true)
  return self
end

--- Frees the store's memory now (also done by the garbage collector, and
-- at the end of the scope of a to-be-closed variable holding the store).
-- Calling it twice is fine; the store can't be used after it.
-- @usage local graph <close> = crosstenant.new()
-- What a closed store's `_core` becomes: every use raises at the
-- caller's line, closing again does nothing.
local function closed_use()
  caller.raise("attempt to use a closed store")
end
local function no_op() end
local CLOSED = setmetatable({}, { __index = function(_, k)
  return k == "close" and no_op or closed_use
end })

function Graph:close()
  self._core:close()
  self._core = CLOSED
end
Graph.__close = Graph.close

--- Functions
-- @section functions

--- Any table the model returned, as the exact JSON Graph sends
-- (documented key order, `[]` for empty collections, exact integers).
-- @tparam table t a table the model returned (or one built like it)
-- @treturn string JSON text
-- @raise on values JSON cannot carry (`encode: number is not finite`)
-- @usage print(crosstenant.encode(job))
function M.encode(t)
  local ok, json = pcall(core.encode, t)
  if ok then return json end
  -- called from pcall, the core's message has no position: add the
  -- caller's
  caller.raise(tostring(json))
end

--- JSON text to Lua values, with the model's strict reader.
-- @tparam string s JSON text
-- @return the value (integers stay integers, null is `crosstenant.null`)
-- @return nil and a message with the position on bad input
-- @raise `bad argument #1 to 'decode' (string expected, got nil)`
-- @usage local t = assert(crosstenant.decode('{"a":1}'))
function M.decode(s)
  check_arg(1, "decode", s, "string")
  return core.decode(s)
end

M.Graph = Graph
return M
