-- Starting `crosstenant serve` as a child process for the specs, and
-- talking to it with curl.
--
-- The child runs `lua5.4 bin/crosstenant serve --port 0 ...` with the
-- Lua path of the tree and the core this suite loaded (the flavour under
-- test: plain, asan or cov); under `make asan` it inherits LD_PRELOAD and
-- ASAN_OPTIONS, so it runs under ASan too.  CT_SERVE_WRAP (set by `make
-- valgrind`) is put before lua5.4 for servers started with wrap = true.
-- Every wait is bounded; a server is stopped by its pid (SIGTERM) and its
-- exit status is checked.
local S = {}

local function shell_out(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return s
end

function S.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function S.spew(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function S.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

S.ROOT = shell_out("pwd"):gsub("\n$", "")
local CORE = assert(package.searchpath("crosstenant.core", package.cpath))
local CPATH = CORE:gsub("^%./", S.ROOT .. "/")
                  :gsub("crosstenant/core%.so$", "?.so")
-- Under `make asan` the suite preloads libasan (never the module: see the
-- Makefile); a server child keeps libasan only, and loads the ASan build
-- of the module through LUA_CPATH.
local preload = os.getenv("LD_PRELOAD") or ""
local asan = preload:match("%S*libasan[^%s]*")
-- Its leak check is off: LeakSanitizer's tracer crashed (signal 11) now
-- and then at a server's exit here; leaks of a server are valgrind's, in
-- `make valgrind` (spec 32).
S.ENV = "env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH='" .. S.ROOT ..
        "/lua/?.lua;" .. S.ROOT .. "/lua/?/init.lua;;' LUA_CPATH='" ..
        CPATH .. "' " .. (asan and ("LD_PRELOAD='" .. asan .. "' " ..
        "ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1 ")
        or "")

-- Helper commands run without the preload of `make asan`: curl hangs at
-- exit under libasan (p11-kit), mktemp reports leaks of its own.  `env`
-- execs, so it never exits itself.
local PLAIN = "env -u LD_PRELOAD "
S.PLAIN = PLAIN

function S.sleep(s)
  os.execute(PLAIN .. "sleep " .. s)
end

local tmpdirs = {}

--- A fresh temporary directory, removed by S.cleanup().
function S.tmpdir()
  local d = shell_out(PLAIN .. "mktemp -d"):gsub("\n$", "")
  tmpdirs[#tmpdirs + 1] = d
  return d
end

local started = {}

--- Kills (by pid) every server a failed test left running, then removes
-- the temporary directories.
function S.cleanup()
  for _, srv in ipairs(started) do
    if srv.pid then os.execute("kill -KILL " .. srv.pid .. " 2>/dev/null") end
  end
  started = {}
  for _, d in ipairs(tmpdirs) do
    os.execute(PLAIN .. "rm -rf " .. S.quote(d))
  end
  tmpdirs = {}
end

local Server = {}
Server.__index = Server

--- Starts `crosstenant serve --port 0 <args>` and waits (at most
-- `wait` seconds) for its `listening on` lines.  opts: args (shell
-- text), lines (listeners to wait for, default 1), wrap (run under
-- CT_SERVE_WRAP), prefix (a command put before lua5.4, after the
-- environment), wait (seconds).  Returns the server: urls, port,
-- https_port, dir, pid.
function S.start(opts)
  opts = opts or {}
  local dir = S.tmpdir()
  local self = setmetatable({ dir = dir, out = dir .. "/out",
                              err = dir .. "/err" }, Server)
  local wrap = (opts.prefix or "") ..
               (opts.wrap and os.getenv("CT_SERVE_WRAP") or "")
  local cmd = S.ENV .. wrap .. " lua5.4 bin/crosstenant serve --port 0 " ..
              (opts.args or "")
  -- the subshell waits for the server and writes its exit status
  os.execute("( " .. cmd .. " >" .. self.out .. " 2>" .. self.err ..
             " </dev/null & echo $! >" .. dir .. "/pid; wait $!; echo $? >" ..
             dir .. "/rc ) >/dev/null 2>&1 &")
  local want = opts.lines or 1
  local limit = opts.wait or (wrap ~= "" and 120 or 20)
  local t = 0
  while t < limit do
    local out = S.slurp(self.out) or ""
    local urls = {}
    for url in out:gmatch("listening on (%S+)\n") do urls[#urls + 1] = url end
    if #urls >= want then
      self.urls = urls
      self.pid = tonumber((S.slurp(dir .. "/pid") or ""):match("%d+"))
      for _, u in ipairs(urls) do
        local scheme, port = u:match("^(%a+)://.*:(%d+)$")
        if scheme == "http" then self.port = tonumber(port)
        else self.https_port = tonumber(port) end
      end
      self.base = urls[1]
      started[#started + 1] = self
      return self
    end
    if S.slurp(dir .. "/rc") then
      error("the server exited: " .. (S.slurp(self.err) or ""))
    end
    S.sleep(0.05)
    t = t + 0.05
  end
  local pid = (S.slurp(dir .. "/pid") or ""):match("%d+")
  if pid then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
  error("no `listening on` line within " .. limit .. " s: " ..
        (S.slurp(self.err) or ""))
end

--- Sends `sig` (default TERM) and waits for the exit; returns the exit
-- status, stdout and stderr.
function Server:stop(sig, limit)
  if not self.pid then return nil end
  os.execute("kill -" .. (sig or "TERM") .. " " .. self.pid)
  limit = limit or 120
  local t = 0
  while t < limit do
    local rc = S.slurp(self.dir .. "/rc")
    if rc and rc:match("%d") then
      self.pid = nil
      return tonumber(rc:match("%d+")), S.slurp(self.out), S.slurp(self.err)
    end
    S.sleep(0.05)
    t = t + 0.05
  end
  os.execute("kill -KILL " .. self.pid)
  error("the server did not stop within " .. limit .. " s")
end

--- Stops `srv` (SIGTERM, or `sig`) and asserts it exited 0, with its
-- stderr as the message otherwise.
function S.stopped(srv, sig)
  local rc, _, err = srv:stop(sig)
  assert(rc == 0, "the server exited " .. tostring(rc) .. ": " ..
                  tostring(err))
end

--- The server's stderr so far.
function Server:log()
  return S.slurp(self.err) or ""
end

-- the last header block of a curl -D file: status line and headers
local function parse_headers(text)
  local blocks = {}
  for block in (text or ""):gsub("\r", ""):gmatch("(HTTP/[^\n]*\n.-)\n\n") do
    blocks[#blocks + 1] = block
  end
  local last = blocks[#blocks] or ""
  local h, list = {}, {}
  for line in last:gmatch("[^\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then
      h[k:lower()] = v
      list[#list + 1] = k:lower()
    end
  end
  return h, list
end

--- curl `method url` with an optional body and extra curl arguments;
-- returns { status =, headers = (lower-case names), names = (in order),
-- body = }.
function S.curl(method, url, body, extra)
  local dir = S.tmpdir()
  -- curl runs without the sanitizer preload of `make asan`
  local args = { PLAIN .. "curl -sS --max-time 30 -X " .. method,
                 "-o " .. dir .. "/body", "-D " .. dir .. "/head",
                 "-w '%{http_code}'" }
  if body then
    S.spew(dir .. "/req", body)
    args[#args + 1] = "--data-binary @" .. dir .. "/req"
    args[#args + 1] = "-H 'Content-Type: application/json'"
  end
  if extra then args[#args + 1] = extra end
  args[#args + 1] = S.quote(url)
  local code = shell_out(table.concat(args, " ") .. " 2>" .. dir .. "/err")
  local h, names = parse_headers(S.slurp(dir .. "/head"))
  local r = { status = tonumber(code), headers = h, names = names,
              body = S.slurp(dir .. "/body") or "",
              err = S.slurp(dir .. "/err") }
  os.execute(PLAIN .. "rm -rf " .. S.quote(dir))
  return r
end

--- Runs `lua5.4 bin/crosstenant ARGS` (shell text) to its end, in the
-- tree's environment (S.ENV), bounded by `timeout` seconds when given.
-- Returns { code = exit status, out = stdout, err = stderr }.
function S.command(args, timeout)
  local dir = S.tmpdir()
  local p = assert(io.popen(S.ENV .. (timeout and ("timeout " .. timeout ..
                            " ") or "") .. "lua5.4 bin/crosstenant " ..
                            args .. " 2>" .. dir .. "/err"))
  local out = p:read("a")
  local _, _, code = p:close()
  return { code = code, out = out, err = S.slurp(dir .. "/err") }
end

-- Graph's Content-Type of a JSON answer, spelt out here (not read from
-- the module) so the specs pin the bytes the server sends
S.JSON_TYPE = "application/json;odata.metadata=minimal;" ..
              "odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
-- a lowercase GUID, whole
S.GUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-" ..
         "%x%x%x%x%x%x%x%x%x%x%x%x$"

--- A server running `scenario` (Lua text whose `graph` is the store), or
-- none when nil, with extra command-line `args`; `wrap`: a command the
-- server runs under (valgrind in `make valgrind`).  As S.start.
function S.start_scenario(scenario, args, wrap)
  if not scenario then return S.start { args = args or "", wrap = wrap } end
  local dir = S.tmpdir()
  S.spew(dir .. "/s.lua", "local graph = ...\n" .. scenario)
  return S.start { args = (args or "") .. " " .. dir .. "/s.lua",
                   wrap = wrap }
end

return S
