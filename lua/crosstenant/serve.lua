--- crosstenant.serve: `graph:serve`, the store over HTTP and HTTPS.
--
-- The listeners are C (csrc/ct_http.c, GNU libmicrohttpd in the calling
-- thread; csrc/lserve.c binds it); each request comes here, one at a time,
-- as (method, target, scheme, host, headers, body) and is answered by
-- graph:request under the server's own service root (scheme://Host/), or
-- by the control namespace /_crosstenant/....  In the manual clock
-- mode without --latency, lserve.c answers Graph requests in C, with no
-- Lua at all, as long as no Lua observer is registered (Server:bind; see
-- the top of csrc/lserve.c): what Server:answer does here, it does there,
-- and both write the one journal the server keeps in C.
local ct = require "crosstenant"
local core = require "crosstenant.core"
local httpd = require "crosstenant.httpd"   -- loads libmicrohttpd

local M = {}

--- What Graph writes as Content-Type on a JSON body.
M.JSON_TYPE = httpd.JSON_TYPE    -- one definition, csrc/ct_http.h
--- The control namespace's own JSON.
M.CONTROL_TYPE = "application/json; charset=utf-8"
--- Entries the request journal keeps (the oldest go first).
M.JOURNAL_MAX = httpd.JOURNAL_MAX
--- The longest latency an answer can be given, in seconds.
M.MAX_LATENCY = 600
--- How often, in wall milliseconds, due transitions run in real and xN.
M.TICK_MS = 1000

local CONTROL = "/_crosstenant"

-- Options -------------------------------------------------------------------

local OPTIONS = {
  host = "string", port = "number", https_port = "number", tls = "string",
  cert = "string", key = "string", clock = "string", on_listen = "function",
  quiet = "boolean", latency = "table", data = "string",
}

local function opt_error(msg)
  error("graph:serve: " .. msg, 4)
end

--- The speed of a clock mode: 0 for manual, 1 for real, N for xN; nil
-- for anything else.
function M.clock_rate(mode)
  if mode == "manual" then return 0 end
  if mode == "real" then return 1 end
  local n = mode:match("^x(%d+%.?%d*)$")
  n = n and tonumber(n)
  if n and n > 0 and n < 1e9 then return n end
  return nil
end

local function read_file(path, what)
  local f, err = io.open(path, "rb")
  if not f then return nil, "can't read the " .. what .. " '" .. path ..
                            "' (" .. tostring(err) .. ")" end
  local s = f:read("a")
  f:close()
  return s
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Makes the directory `dir` and the missing ones above it (as `mkdir
-- -p`, without a child process).  Returns true, or nil + "can't make the
-- directory 'DIR' (REASON)".
function M.mkdir(dir)
  local ok, why = core.mkdir(dir)
  if ok then return true end
  return nil, "can't make the directory '" .. dir .. "' (" .. why .. ")"
end

-- the certificate files of a TLS directory
local TLS_FILES = { "cert.pem", "key.pem", "ca.pem", "ca-key.pem" }

--- What the TLS directory `dir` (`graph:serve{tls=}`, `--tls DIR`,
-- `crosstenant cert DIR`) holds: "use" (cert.pem and key.pem: served as
-- they are), "issue" (ca.pem and its key ca-key.pem, no cert.pem or
-- key.pem: a certificate is issued from that CA), "make" (none of the
-- four, or no directory: a new CA and certificate are made).  Anything
-- else is refused, since making a new CA would overwrite or ignore the
-- user's: returns nil + a one-line message naming what is missing.
function M.tls_state(dir)
  local has = {}
  for _, name in ipairs(TLS_FILES) do
    has[name] = exists(dir .. "/" .. name)
  end
  local where = "the TLS directory '" .. dir .. "' "
  if has["cert.pem"] ~= has["key.pem"] then
    local got = has["cert.pem"] and "cert.pem" or "key.pem"
    local lacks = has["cert.pem"] and "key.pem" or "cert.pem"
    return nil, where .. "has " .. got .. " but no " .. lacks ..
                "; it needs both, or neither to have them made"
  end
  if has["cert.pem"] then return "use" end
  if has["ca.pem"] and not has["ca-key.pem"] then
    return nil, where .. "has ca.pem but not its key ca-key.pem, so no " ..
                "certificate can be issued from it; add ca-key.pem, or " ..
                "cert.pem and key.pem"
  end
  if has["ca-key.pem"] and not has["ca.pem"] then
    return nil, where .. "has ca-key.pem but no ca.pem; add the CA's " ..
                "certificate as ca.pem, or remove ca-key.pem"
  end
  return has["ca.pem"] and "issue" or "make"
end

--- Makes the certificate of a TLS directory with Debian's `openssl`
-- command: DIR/cert.pem (for localhost, 127.0.0.1 and ::1) and its key
-- DIR/key.pem, signed by the CA DIR/ca.pem with its key DIR/ca-key.pem
-- when both are there (they are left as they are), else by a new local
-- CA written to DIR/ca.pem whose key is thrown away once it signed (so
-- that CA signs nothing else).  DIR is made when absent.  A directory
-- that holds cert.pem or key.pem already, or ca.pem without ca-key.pem
-- (M.tls_state), is refused and left as it is; so is one where openssl
-- fails (what it wrote is removed).
-- Returns the state it started from ("make" or "issue"), or nil + a
-- one-line message.
function M.make_cert(dir)
  local state, serr = M.tls_state(dir)
  if not state then return nil, serr end
  if state == "use" then
    return nil, "the TLS directory '" .. dir .. "' has cert.pem and " ..
                "key.pem already; remove them to make new ones"
  end
  local ok, err = M.mkdir(dir)
  if not ok then return nil, err end
  local q = shell_quote
  local ca, ca_key = dir .. "/ca.pem", dir .. "/ca-key.pem"
  local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
  local ext, csr = os.tmpname(), os.tmpname()
  local f = io.open(ext, "w")
  if not f then return nil, "can't write the temporary file '" .. ext .. "'" end
  f:write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n",
          "basicConstraints=critical,CA:FALSE\n",
          "keyUsage=critical,digitalSignature,keyEncipherment\n",
          "extendedKeyUsage=serverAuth\n")
  f:close()
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
  local steps = {}
  if state == "make" then
    steps[1] = "openssl req -x509 " .. ec .. "-keyout " .. q(ca_key) ..
      " -out " .. q(ca) .. " -days 3650" ..
      " -subj '/CN=crosstenant local CA'" ..
      " -addext 'basicConstraints=critical,CA:TRUE'" ..
      " -addext 'keyUsage=critical,keyCertSign,cRLSign'"
  end
  steps[#steps + 1] = "openssl req " .. ec .. "-keyout " .. q(key) ..
    " -out " .. q(csr) .. " -subj '/CN=localhost'"
  -- -passin: a CA key with a pass phrase fails instead of prompting
  steps[#steps + 1] = "openssl x509 -req -in " .. q(csr) .. " -CA " ..
    q(ca) .. " -CAkey " .. q(ca_key) .. " -passin pass:" ..
    " -set_serial 0x" .. string.format("%08x", os.time()) ..
    " -days 825 -extfile " .. q(ext) .. " -out " .. q(cert)
  ok = os.execute("(umask 077 && " .. table.concat(steps, " && ") ..
                  ") </dev/null >/dev/null 2>&1")
  os.remove(ext)
  os.remove(csr)
  if state == "make" then os.remove(ca_key) end
  if not ok then
    os.remove(cert)
    os.remove(key)
    if state == "make" then
      os.remove(ca)
      return nil, "openssl could not make a certificate in '" .. dir .. "'"
    end
    return nil, "openssl could not issue a certificate from '" .. ca ..
                "' with the key '" .. ca_key .. "'"
  end
  return state
end

--- The host of a `listening on` URL for a listen address: the address
-- as given (an IPv6 one in brackets), except that an https URL on a
-- loopback default (127.0.0.1, ::1, localhost) names localhost, the name
-- the --tls certificate is made for (it covers localhost, 127.0.0.1 and
-- ::1 only: on another address, serve a certificate of your own).
-- `host` (string, default "127.0.0.1"), `tls` (boolean: for https).
function M.url_host(host, tls)
  host = host or "127.0.0.1"
  if tls and (host == "127.0.0.1" or host == "::1" or
              host == "localhost") then
    return "localhost"
  end
  return host:find(":", 1, true) and "[" .. host .. "]" or host
end

--- Whether a certificate and a private key go together, with Debian's
-- `openssl` command: the public key of the certificate and the one of
-- the key are compared.  `cert` and `key` are PEM file paths (a key
-- with a pass phrase is not asked for: it is refused).
-- Returns true, or nil + a one-line message that says which: the
-- certificate can't be read as one, the key can't, or they do not match.
function M.check_cert_key(cert, key)
  local q = shell_quote
  local function public_key(cmd)
    local p = io.popen("(" .. cmd .. ") </dev/null 2>/dev/null", "r")
    if not p then return nil end
    local out = p:read("a")
    local ok, _, code = p:close()
    if code == 127 then return nil, "no openssl" end
    return ok and out:find("-----BEGIN PUBLIC KEY-----", 1, true) and out
           or nil
  end
  local from_cert, none = public_key("openssl x509 -noout -pubkey -in " ..
                                     q(cert))
  if none then
    return nil, "can't check the certificate '" .. cert .. "' against " ..
                "the key '" .. key .. "': no openssl command"
  end
  if not from_cert then
    return nil, "the certificate '" .. cert .. "' is not a PEM " ..
                "certificate openssl can read"
  end
  local from_key = public_key("openssl pkey -pubout -passin pass: -in " ..
                              q(key))
  if not from_key then
    return nil, "the key '" .. key .. "' is not a PEM private key " ..
                "openssl can read without a pass phrase"
  end
  if from_cert ~= from_key then
    return nil, "the certificate '" .. cert .. "' and the key '" .. key ..
                "' do not match (the key is not the certificate's)"
  end
  return true
end

-- splitmix64 over `seed` (0 when nil) xor `salt`: a function that gives
-- the next 64-bit draw
local function splitmix(seed, salt)
  local state = (seed or 0) ~ salt
  return function()
    state = state + 0x9e3779b97f4a7c15
    local z = state
    z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
    z = (z ~ (z >> 27)) * 0x94d049bb133111eb
    return z ~ (z >> 31)
  end
end

--- The latency draws, in whole milliseconds: splitmix64 over the seed,
-- each draw uniform in [min_ms, max_ms] (integers, inclusive).  Returns
-- a function that gives the next draw; the same seed gives the same
-- sequence.
function M.latency_draws(seed, min_ms, max_ms)
  local draw = splitmix(seed, 0x2545f4914f6cdd1d)
  return function()
    return min_ms + (draw() >> 11) % (max_ms - min_ms + 1)
  end
end

--- The request ids of the control namespace's answers: version 4 GUIDs
-- (lower case, as Graph writes request-id) from splitmix64 over the
-- seed, a sequence apart from the store's, so control calls leave the
-- request ids of Graph answers as a store that never saw them would
-- give.  Returns a function that gives the next id; the same seed gives
-- the same sequence.
function M.control_request_ids(seed)
  local draw = splitmix(seed, 0x6a09e667f3bcc909)
  return function()
    local a, b = draw(), draw()
    return string.format("%08x-%04x-4%03x-%04x-%012x", a >> 32,
                         (a >> 16) & 0xffff, a & 0xfff,
                         ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffff)
  end
end

-- The answer helpers -----------------------------------------------------------

--- What the server writes on stderr when a scenario's observer raises
-- while it serves: one line, then the traceback.  The change the
-- observer was told about stands, and the client gets the store's own
-- answer (README, "Serving over HTTP").
function M.observer_error(err)
  io.stderr:write("crosstenant: error in an observer (the change stands; ",
                  "the client gets the store's answer): ", tostring(err),
                  "\n")
  io.stderr:flush()
end

-- the client-request-id a request sent (header names any case), or nil
local function client_request_id(headers)
  for k, v in pairs(headers or {}) do
    if k:lower() == "client-request-id" then return v end
  end
  return nil
end

local function json_answer(status, text)
  return status, text, { ["Content-Type"] = M.CONTROL_TYPE }
end

-- JSON of an object with its keys in the given order
local function ordered(t, keys)
  local parts = {}
  for _, k in ipairs(keys) do
    if t[k] ~= nil then
      parts[#parts + 1] = ct.encode(k) .. ":" .. ct.encode(t[k])
    end
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The server ------------------------------------------------------------------

local Server = {}
Server.__index = Server

-- a control request's refusal, in Graph's error shape, with the ids of
-- the control request being answered (self.ids, set by Server:control)
function Server:refuse(status, code, message, extra)
  local ids = self.ids
  local e = self.graph:_error({ status = status, code = code,
                                message = message }, ids.client, ids.request)
  local h = { ["Content-Type"] = M.JSON_TYPE }
  for k, v in pairs(extra or {}) do h[k] = v end
  return status, ct.encode(e.body), h
end

-- runs the transitions due by the wall clock (real and xN modes)
function Server:sync()
  if self.rate == 0 then return end
  local now = httpd.monotonic()
  local d = (now - self.wall) * self.rate
  if d > 0 then
    self.wall = now
    self.graph:advance(d, false)
  end
end

local JOURNAL_KEYS = { "time", "method", "url", "status", "request-id",
                       "client-request-id", "received", "latency",
                       "throttled", "faulted", "retry-after" }

-- the journal is the server's, in C: the C path writes there too
function Server:journal_add(entry)
  self.srv:journal_add(ordered(entry, JOURNAL_KEYS))
end

-- tells the listener which store Graph requests go to, and whether it
-- may answer them in C: only in the manual clock without latency (the
-- real and xN clocks sync in Lua before each answer; latency draws in
-- Lua); Lua observers it checks itself, per request
function Server:bind()
  local g = self.graph
  local api, store = g._core:serve_api()
  self.srv:graph { api = api, store = store, core = g._core,
                   tenant = not g._require_token and g._tenant or nil,
                   upn = g._user, c_path = self.rate == 0 and
                                           not self.latency,
                   started = self.started }
end

-- the control namespace: route -> { METHOD = function(self, body) }
local ROUTES = {}

ROUTES["/health"] = {
  GET = function(self)
    return json_answer(200, ordered({ status = "ok",
                                      now = self.graph:now() },
                                    { "status", "now" }))
  end,
}

ROUTES["/clock"] = {
  GET = function(self)
    return json_answer(200, ordered({ now = self.graph:now() }, { "now" }))
  end,
}

-- the JSON object body of a control request, or nil + an answer
local function object_body(self, body, required)
  if body == "" or body:match("^%s*$") then
    if required then
      return nil, self:refuse(400, "invalidRequest",
                              "This request needs a JSON object body.")
    end
    return {}
  end
  local t, err = core.decode(body)
  if type(t) ~= "table" or (t[1] ~= nil) then
    return nil, self:refuse(400, "invalidRequest",
                            "The body is not a JSON object" ..
                            (err and (": " .. tostring(err)) or "") .. ".")
  end
  return t
end

ROUTES["/clock/advance"] = {
  POST = function(self, body)
    local t, s, b, h = object_body(self, body, true)
    if not t then return s, b, h end
    for k in pairs(t) do
      if k ~= "by" then
        return self:refuse(400, "invalidRequest",
                           "Unknown property '" .. tostring(k) ..
                           "'; advance takes 'by'.")
      end
    end
    local by = t.by
    if type(by) ~= "string" and type(by) ~= "number" then
      return self:refuse(400, "invalidRequest",
                         "'by' must be an ISO 8601 duration such as " ..
                         "\"PT2H\" or a number of seconds.")
    end
    local ok, n = pcall(self.graph.advance, self.graph, by, false)
    if not ok then
      local why = tostring(n):match("%((.*)%)$") or tostring(n)
      return self:refuse(400, "invalidRequest",
                         "'by' is not a duration the clock can move: " ..
                         why .. ".")
    end
    return json_answer(200, ordered({ now = self.graph:now(), events = n },
                                    { "now", "events" }))
  end,
}

local OUTCOME_KEYS = { "user", "service", "phase", "status", "code",
                       "message" }

ROUTES["/outcomes"] = {
  POST = function(self, body)
    local t, s, b, h = object_body(self, body, true)
    if not t then return s, b, h end
    local ok, r, err = pcall(self.graph.fail, self.graph, t)
    if not ok then
      local why = tostring(r):match("bad argument #1 to 'fail' %((.*)%)$")
      return self:refuse(400, "invalidRequest",
                         "Bad outcome: " .. (why or tostring(r)) .. ".")
    end
    if not r then
      return self:refuse(err.status, err.code, err.message)
    end
    local phase = t.phase or "validate"
    local out = { user = t.user, service = t.service, phase = phase,
                  status = t.status or (phase == "validate" and "invalid"
                                        or "failed"),
                  code = t.code or "scriptedFailure",
                  message = t.message or "Scripted failure." }
    return json_answer(201, ordered(out, OUTCOME_KEYS))
  end,
}

local FAULT_KEYS = { "status", "retry_after", "times", "method", "path" }

ROUTES["/faults"] = {
  GET = function(self)
    local parts = {}
    for _, f in ipairs(self.graph:faults()) do
      parts[#parts + 1] = ordered(f, FAULT_KEYS)
    end
    return json_answer(200, '{"value":[' .. table.concat(parts, ",") .. ']}')
  end,
  POST = function(self, body)
    local t, s, b, h = object_body(self, body, true)
    if not t then return s, b, h end
    local ok, r = pcall(self.graph.fault, self.graph, t)
    if not ok then
      local why = tostring(r):match("bad argument #1 to 'fault' %((.*)%)$")
      return self:refuse(400, "invalidRequest",
                         "Bad fault: " .. (why or tostring(r)) .. ".")
    end
    local list = self.graph:faults()
    return json_answer(201, ordered(list[#list], FAULT_KEYS))
  end,
}

ROUTES["/reset"] = {
  POST = function(self, body)
    local _, s, b, h = object_body(self, body, false)
    if s then return s, b, h end
    local ok, err = self:reset()
    if not ok then return self:failed(err) end
    return json_answer(200, ordered({ now = self.graph:now() }, { "now" }))
  end,
}

ROUTES["/requests"] = {
  GET = function(self)
    return json_answer(200, self.srv:journal_json())
  end,
  DELETE = function(self)
    self.srv:journal_clear()
    return 204, nil, {}
  end,
}

-- Snapshots: POST /snapshots takes one, POST /snapshots/{id}/restore
-- makes the served store that state, GET /snapshots lists them.  In
-- memory, or with `data` in DIR/snapshots: ID.snap (the image) and
-- index.json (the list), each written to a temporary file then renamed.

local SNAPSHOT_KEYS = { "id", "createdDateTime", "now" }

local function write_atomic(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, werr or cerr
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

-- the snapshot list kept in `dir`, or an empty one
local function load_index(dir)
  local text = read_file(dir .. "/index.json", "index")
  local t = text and core.decode(text)
  local list = {}
  if type(t) == "table" and type(t.value) == "table" then
    for _, e in ipairs(t.value) do
      if type(e) == "table" and type(e.id) == "string" then
        list[#list + 1] = { id = e.id, createdDateTime = e.createdDateTime,
                            now = e.now }
      end
    end
  end
  return list
end

local function index_json(list)
  local parts = {}
  for _, e in ipairs(list) do parts[#parts + 1] = ordered(e, SNAPSHOT_KEYS) end
  return '{"value":[' .. table.concat(parts, ",") .. ']}'
end

function Server:failed(err, what)
  io.stderr:write("crosstenant: ", tostring(err), "\n")
  return self:refuse(500, "generalException",
                     (what or "The server could not keep this change") ..
                     ": " .. tostring(err) .. ".")
end

-- a control request that takes no properties: nil, or an answer
local function no_properties(self, body)
  local t, s, b, h = object_body(self, body, false)
  if not t then return s, b, h end
  local k = next(t)
  if k ~= nil then
    return self:refuse(400, "invalidRequest",
                       "Unknown property '" .. tostring(k) ..
                       "'; this request takes none.")
  end
  return nil
end

ROUTES["/snapshots"] = {
  GET = function(self)
    return json_answer(200, index_json(self.snapshots))
  end,
  POST = function(self, body)
    local s, b, h = no_properties(self, body)
    if s then return s, b, h end
    local id = tostring(self.next_snapshot)
    local e = { id = id, now = self.graph:now(),
                createdDateTime = os.date("!%Y-%m-%dT%H:%M:%SZ") }
    local image = self.graph:snapshot()
    if self.snapdir then
      local list = { table.unpack(self.snapshots) }
      list[#list + 1] = e
      local ok, err = write_atomic(self.snapdir .. "/" .. id .. ".snap",
                                   image)
      if ok then
        ok, err = write_atomic(self.snapdir .. "/index.json",
                               index_json(list))
      end
      if not ok then return self:failed(err) end
    else
      self.images[id] = image
    end
    self.next_snapshot = self.next_snapshot + 1
    self.snapshots[#self.snapshots + 1] = e
    return json_answer(201, ordered(e, SNAPSHOT_KEYS))
  end,
}

-- POST /snapshots/{id}/restore
local RESTORE = {
  POST = function(self, body, id)
    local found
    for _, e in ipairs(self.snapshots) do
      if e.id == id then found = e end
    end
    if not found then
      return self:refuse(404, "itemNotFound",
                         "No snapshot '" .. id:sub(1, 100) .. "'.")
    end
    local s, b, h = no_properties(self, body)
    if s then return s, b, h end
    local image, err = self.images[id], nil
    if not image then
      image, err = read_file(self.snapdir .. "/" .. id .. ".snap",
                             "snapshot")
    end
    local g
    if image then g, err = ct.restore(image) end
    if not g then
      return self:failed("snapshot '" .. id .. "': " .. err,
                         "The server could not read the snapshot")
    end
    local ok, rerr = self:replace(g)
    if not ok then return self:failed(rerr) end
    return 204, nil, {}
  end,
}

-- the wall clock in the model's ticks, for the fault windows: clients
-- wait Retry-After in wall seconds, whatever the clock mode
local function wall_ticks()
  return math.floor(httpd.monotonic() * 10000000)
end

-- the served store becomes `fresh`'s state (fresh is used up); with a
-- store file, folded into it before this returns.  true, or nil + message
-- (nothing changed)
function Server:replace(fresh)
  local g = self.graph
  local c, opts = g._core, g._opts
  local ok, err = c:adopt(fresh._core)
  if not ok then return nil, err end
  c:record(false)
  for k in pairs(g) do rawset(g, k, nil) end
  for k, v in pairs(fresh) do rawset(g, k, v) end
  g._core, g._opts = c, fresh._opts or opts
  g._fault_now = wall_ticks
  g._observer_error = M.observer_error
  self.wall = httpd.monotonic()
  self:bind()
  return true
end

--- Replaces the store by an empty one made with the same options (its
-- observers, scripted outcomes and scripted faults go too).  With a
-- store file, the file holds the empty store before this returns.
-- Returns true, or nil + message (the store is as it was).
function Server:reset()
  local g = self.graph
  local fresh = ct.new(g._opts or { tenant = g._tenant, user = g._user,
                                    strict = g._strict,
                                    require_token = g._require_token })
  return self:replace(fresh)
end

-- the control namespace's answer, without its request ids
function Server:control_answer(method, path, body)
  local sub = path:sub(#CONTROL + 1)
  local r, arg = ROUTES[sub], nil
  if not r then
    arg = sub:match("^/snapshots/([^/]+)/restore$")
    if arg then r = RESTORE end
  end
  if not r then
    return self:refuse(404, "itemNotFound",
                       "No control endpoint '" .. path:sub(1, 200) ..
                       "'; see README.md, \"Serving over HTTP\".")
  end
  -- HEAD is answered as GET, without the body (libmicrohttpd leaves it)
  local fn = r[method] or (method == "HEAD" and r.GET)
  if not fn then
    local allow = {}
    for m in pairs(r) do allow[#allow + 1] = m end
    table.sort(allow)
    allow = table.concat(allow, ", ")
    return self:refuse(405, "notSupported",
                       "The method '" .. method:sub(1, 40) .. "' is not " ..
                       "allowed on " .. path .. "; it takes " .. allow .. ".",
                       { Allow = allow })
  end
  return fn(self, body, arg)
end

--- Answers a request to the control namespace: status, body, headers.
-- Every answer carries request-id, from the server's own sequence
-- (M.control_request_ids), and client-request-id: the one the client
-- sent, else the request-id (as Graph's answers do).
function Server:control(method, path, body, headers)
  local client = client_request_id(headers)
  self.ids = { request = self.control_id(), client = client }
  local status, out, h = self:control_answer(method, path, body)
  h["request-id"] = self.ids.request
  h["client-request-id"] = client or self.ids.request
  self.ids = nil
  return status, out, h
end

-- one Graph request through the core's request path (ct_request.h), the
-- body as the JSON text the core writes; observers see its changes
local function graph_answer(graph, base, method, target, body, headers)
  local now = graph._fault_now
  local status, text, h = graph._core:request_text(method, target, body,
    headers, not graph._require_token and graph._tenant or nil, graph._user,
    base, now and now(), graph._faults_off, true)
  graph:_flush()
  return status, text, h
end

--- Answers one request: the ct_httpd handler (see csrc/lserve.c).
function Server:answer(method, target, scheme, host, headers, body)
  local path = target:match("^[^?#]*")
  local base = scheme .. "://" .. host
  -- an absolute target naming the server reaches the control namespace too
  if path:sub(1, #base + 1):lower() == base:lower() .. "/" then
    path = path:sub(#base + 1)
  end
  if path == CONTROL or path:sub(1, #CONTROL + 1) == CONTROL .. "/" then
    self:sync()
    return self:control(method, path, body, headers)
  end
  local graph = self.graph
  self:sync()
  local time = graph:now()
  -- wall seconds since the server started, to the millisecond
  local received = math.floor((httpd.monotonic() - self.started) * 1000 +
                              0.5) / 1000
  local ok, status, out, h = xpcall(graph_answer, debug.traceback, graph,
                                    base, method, target,
                                    body ~= "" and body or nil, headers)
  if ok then
    if h["Content-Type"] == "application/json" then
      h["Content-Type"] = M.JSON_TYPE
    end
  else
    -- the server's own 500: a request-id of the server's sequence (not
    -- the store's), the client-request-id echoed when sent
    io.stderr:write("crosstenant: error in ", method, " ", target, ": ",
                    tostring(status), "\n")
    io.stderr:flush()
    self.ids = { request = self.control_id(),
                 client = client_request_id(headers) }
    status, out, h = self:refuse(500, "generalException",
                                 "The server failed to answer this " ..
                                 "request; see its log.")
    h["request-id"] = self.ids.request
    h["client-request-id"] = self.ids.client or self.ids.request
    self.ids = nil
  end
  -- a fault's answer carries Retry-After (whole seconds): 429 is
  -- throttled, 503 and 504 faulted
  local retry = tonumber(h["Retry-After"])
  local delay = self.latency and self.latency() / 1000 or nil
  self:journal_add({ time = time, received = received, method = method,
                     url = target, status = status,
                     ["request-id"] = h["request-id"],
                     ["client-request-id"] = h["client-request-id"],
                     latency = delay,
                     throttled = retry and status == 429 or nil,
                     faulted = retry and status ~= 429 or nil,
                     ["retry-after"] = retry and math.tointeger(retry) or
                                       retry })
  return status, out, h, delay
end

--- Serves `graph` until SIGINT or SIGTERM.  opts (all optional):
--   host (string, default "127.0.0.1"), port (integer, plain HTTP,
--   default 8080, 0 = any free port), https_port (integer, 0 = any free
--   port; needs tls or cert and key), tls (string: a directory with
--   cert.pem and key.pem; when both are absent they are made, from
--   ca.pem and ca-key.pem if there, else with a new local CA; see
--   M.tls_state for what is refused), cert and key
--   (strings: PEM file paths), clock ("manual" (default), "real" or "xN":
--   N model seconds per wall second), quiet (boolean: no request log on
--   stderr), on_listen (function(urls), called once listening, urls a
--   list of "http://HOST:PORT" / "https://HOST:PORT", HOST as
--   M.url_host gives it: "http://127.0.0.1:PORT",
--   "https://localhost:PORT" on the default host),
--   latency ({min, max}, numbers of seconds, 0 <= min <= max <= 600:
--   each Graph answer waits a draw in whole milliseconds from that range,
--   seeded by the store's seed (0 when it has none); the control
--   namespace is never delayed; the connection waits suspended, the
--   others go on).
--   data (string: a directory; the control namespace's snapshots are
--   kept in DATA/snapshots instead of memory; a store from
--   crosstenant.open(DATA .. "/store.db") makes the store itself last).
-- Returns true once stopped by a signal; raises on bad options; returns
-- nil + message when it can't listen, make a directory, or make or read
-- the certificate, or the certificate and key do not match (M.check_cert_key;
-- nothing on disk changed by a refused TLS directory).
function M.serve(graph, opts)
  if opts ~= nil and type(opts) ~= "table" then
    opt_error("options must be a table")
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then opt_error("unknown option '" .. tostring(k) .. "'") end
    if type(v) ~= want then opt_error("option '" .. k .. "' must be a " ..
                                      want) end
  end
  for _, k in ipairs { "port", "https_port" } do
    local p = opts[k]
    if p ~= nil and (math.type(p) ~= "integer" or p < 0 or p > 65535) then
      opt_error("option '" .. k .. "' must be a port from 0 to 65535")
    end
  end
  local rate = M.clock_rate(opts.clock or "manual")
  if not rate then
    opt_error("option 'clock' must be manual, real or xN (N model " ..
              "seconds per wall second), not '" .. opts.clock .. "'")
  end
  if (opts.cert == nil) ~= (opts.key == nil) then
    opt_error("options 'cert' and 'key' go together")
  end
  if opts.tls and opts.cert then
    opt_error("option 'tls' or options 'cert' and 'key', not both")
  end
  if opts.https_port and not (opts.tls or opts.cert) then
    opt_error("option 'https_port' needs 'tls' or 'cert' and 'key'")
  end
  local lat = opts.latency
  if lat then
    local lo, hi = lat[1], lat[2]
    if type(lo) ~= "number" or type(hi) ~= "number" or lo < 0 or
       lo > hi or hi > M.MAX_LATENCY or #lat ~= 2 or next(lat, #lat) then
      opt_error("option 'latency' must be {min, max}: seconds, 0 <= min " ..
                "<= max <= " .. M.MAX_LATENCY)
    end
  end
  local cert_pem, key_pem
  if opts.https_port then
    local cert, key = opts.cert, opts.key
    if opts.tls then
      cert, key = opts.tls .. "/cert.pem", opts.tls .. "/key.pem"
      local state, serr = M.tls_state(opts.tls)
      if not state then return nil, serr end
      if state ~= "use" then
        local ok, err = M.make_cert(opts.tls)
        if not ok then return nil, err end
      end
    end
    local err
    cert_pem, err = read_file(cert, "certificate")
    if not cert_pem then return nil, err end
    key_pem, err = read_file(key, "key")
    if not key_pem then return nil, err end
    -- checked before listening: the listener can't tell a key that is
    -- not the certificate's from a port that is taken
    local matched, merr = M.check_cert_key(cert, key)
    if not matched then return nil, merr end
  end
  local srv, err = httpd.http_server {
    host = opts.host or "127.0.0.1",
    port = opts.port or 8080,
    https_port = opts.https_port, cert = cert_pem, key = key_pem,
    log = not opts.quiet,
  }
  if not srv then return nil, err end
  local http_port, https_port = srv:ports()
  local urls = {}
  if http_port then
    urls[#urls + 1] = "http://" .. M.url_host(opts.host) .. ":" .. http_port
  end
  if https_port then
    urls[#urls + 1] = "https://" .. M.url_host(opts.host, true) .. ":" ..
                      https_port
  end
  local snapdir
  if opts.data then
    snapdir = opts.data .. "/snapshots"
    local made, merr = M.mkdir(snapdir)
    if not made then
      srv:close()
      return nil, merr
    end
  end
  local fault_now, observer_error = graph._fault_now, graph._observer_error
  graph._fault_now = wall_ticks
  graph._observer_error = M.observer_error
  local self = setmetatable({ graph = graph, rate = rate,
                              wall = httpd.monotonic(),
                              started = httpd.monotonic(), srv = srv,
                              snapdir = snapdir, images = {},
                              snapshots = snapdir and load_index(snapdir)
                                          or {} }, Server)
  self.control_id = M.control_request_ids(graph._opts and graph._opts.seed)
  if lat then
    self.latency = M.latency_draws(graph._opts and graph._opts.seed,
                                   math.floor(lat[1] * 1000 + 0.5),
                                   math.floor(lat[2] * 1000 + 0.5))
  end
  self.next_snapshot = 1
  for _, e in ipairs(self.snapshots) do
    local n = math.tointeger(tonumber(e.id))
    if n and n >= self.next_snapshot then self.next_snapshot = n + 1 end
  end
  self:bind()
  local function handler(...) return self:answer(...) end
  local tick = rate > 0 and function() self:sync() end or nil
  -- on_listen runs once SIGINT/SIGTERM stop the loop, not Lua
  local on_listen = opts.on_listen
  local ready = on_listen and function() on_listen(urls) end
  local ok, rerr = srv:run(handler, tick, rate > 0 and M.TICK_MS or 0,
                           ready)
  srv:close()
  graph._fault_now = fault_now
  graph._observer_error = observer_error
  if not ok then return nil, rerr end
  return true
end

return M
