--- crosstenant.cli: the `crosstenant` command.
--
--   crosstenant run [options] SCENARIO.lua [ARG...]
--
-- Runs a scenario script against a fresh store (the global `graph`, also
-- the script's first argument), shows progress while the model clock
-- moves, and ends with a report of the store: jobs by status, users by
-- status per service, failures with their codes and messages, and the
-- model time taken.  Everything in the report comes from the model, so the
-- same options and script give the same bytes.
--
--   crosstenant serve [options] [SCENARIO.lua [-- scenario args]]
--   crosstenant cert DIR
--
-- serve: the store over HTTP and HTTPS (graph:serve); cert: a local CA
-- and a certificate for localhost.  See `crosstenant <command> --help`.
local argparse = require "argparse"
local crosstenant = require "crosstenant"
local caller = require "crosstenant.caller"
local core = require "crosstenant.core"

local M = {}

M.DEFAULT_SEED = 1
M.DEFAULT_NOW = "2025-11-06T09:00:00Z"
M.MAX_FAILURE_ROWS = 50      -- text report; --json lists every failure

-- the notes under `crosstenant run --help`
local RUN_EPILOG = [[
The scenario's own output (print, io.write, io.output(), io.stdout, child
processes) goes to stdout, or to stderr with --json or --quiet; progress
goes to stderr with --json.  The report warns about outcomes scripted with graph:fail
that never applied.  Options may come anywhere before `--`; what follows
`--` goes to the script.

Exit status: 0 when the scenario ran to its end, 1 when it raised (the
error is on stderr), 2 for a usage error or a scenario that can't be read.]]

local SERVE_EPILOG = [[
Once listening, stdout gets one line per listener:
`listening on http://127.0.0.1:PORT` and `listening on https://localhost:PORT`
(the https line names --host as given unless it is 127.0.0.1, ::1 or
localhost; the --tls certificate covers only those three, so on another
address serve one of your own with --cert and --key).
The request log (method, target, status, milliseconds) goes to stderr.
Control endpoints under /_crosstenant/ move the clock, script outcomes,
reset the store and list the requests received (see README.md).
SIGINT or SIGTERM stops the server (exit 0).]]

-- Status orders: the lifecycle's, for reports and progress -------------
-- The core's lists (crosstenant.JOB_STATUS_ORDER, SERVICES,
-- SERVICE_STATUS_ORDER): every status but unknownFutureValue, in the
-- order a migration runs through them.

local JOB_STATUSES = crosstenant.JOB_STATUS_ORDER
local SERVICES = crosstenant.SERVICES
local SERVICE_STATUSES = crosstenant.SERVICE_STATUS_ORDER

local FAILED = { invalid = true, error = true, failed = true }

-- rank of each status in its order; unknown ones sort after, by name
local function ranks(list)
  local r = {}
  for i, s in ipairs(list) do r[s] = i end
  return r
end
local JOB_RANK, SERVICE_RANK = ranks(JOB_STATUSES), ranks(SERVICES)
local STATUS_RANK = ranks(SERVICE_STATUSES)

local function sorted_keys(t, rank)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = rank[a] or math.huge, rank[b] or math.huge
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return keys
end

-- Time: the model's ISO 8601 text as 100-ns ticks, and durations --------

local TICKS = 10000000

-- days from 1970-01-01 to a proleptic Gregorian date
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

--- Ticks since the epoch of a UTC timestamp as the model writes it.
function M.ticks(iso)
  local y, mo, d, h, mi, s, frac = iso:match(
    "^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$")
  if not y then error("not a model timestamp: '" .. iso .. "'", 2) end
  local days = days_from_civil(tonumber(y), tonumber(mo), tonumber(d))
  local secs = ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60 +
               tonumber(s)
  return secs * TICKS + math.tointeger(tonumber((frac .. "0000000"):sub(1, 7)))
end

--- An ISO 8601 duration for a number of ticks: "PT0S", "P1DT2H30M", ...
function M.duration(ticks)
  local secs, frac = ticks // TICKS, ticks % TICKS
  local d, h = secs // 86400, secs % 86400 // 3600
  local m, s = secs % 3600 // 60, secs % 60
  local out = { "P" }
  if d > 0 then out[#out + 1] = d .. "D" end
  if h > 0 or m > 0 or s > 0 or frac > 0 or d == 0 then
    out[#out + 1] = "T"
    if h > 0 then out[#out + 1] = h .. "H" end
    if m > 0 then out[#out + 1] = m .. "M" end
    if s > 0 or frac > 0 or (h == 0 and m == 0) then
      local f = frac > 0 and ("." .. ("%07d"):format(frac):gsub("0+$", ""))
                or ""
      out[#out + 1] = s .. f .. "S"
    end
  end
  return table.concat(out)
end

local function seconds(ticks)
  if ticks % TICKS == 0 then return ticks // TICKS end
  return ticks / TICKS
end

-- Walking the store: every job, every task, through the public API ------

local function skiptoken(page)
  local link = page["@odata.nextLink"]
  return link and link:match("[?&]%$skiptoken=([^&]+)")
end

local function check(r, err, what)
  if r == nil then error(what .. ": " .. tostring(err), 0) end
  return r
end

--- Every job of the store's default tenant, oldest first.  What the tool
-- reads is never refused by the scenario's faults, nor counted by them.
function M.jobs(graph)
  local jobs, token = {}, nil
  repeat
    local page, err = graph:_unfaulted(graph.list_jobs, graph,
                                       { top = 999, skiptoken = token })
    check(page, err, "listing jobs")
    for _, job in ipairs(page.value) do jobs[#jobs + 1] = job end
    token = skiptoken(page)
  until not token
  -- the list is newest first
  for i = 1, #jobs // 2 do
    jobs[i], jobs[#jobs + 1 - i] = jobs[#jobs + 1 - i], jobs[i]
  end
  return jobs
end

--- Calls fn(task) for every task of a job, in the order users were added.
function M.each_task(graph, job_id, fn)
  local token
  repeat
    local page, err = graph:_unfaulted(graph.list_tasks, graph, job_id,
                                       { top = 999, skiptoken = token })
    check(page, err, "listing the users of job " .. job_id)
    for _, task in ipairs(page.value) do fn(task) end
    token = skiptoken(page)
  until not token
end

-- The report --------------------------------------------------------------

--- The report of a store as a table (what --json prints).  `info` carries
-- scenario, seed, failureRate and start (the clock when the run began).
function M.report(graph, info)
  local finish = graph:now()
  local elapsed = M.ticks(finish) - M.ticks(info.start)
  local by_status = {}
  for _, s in ipairs(JOB_STATUSES) do by_status[s] = 0 end
  local by_service = {}
  for _, svc in ipairs(SERVICES) do
    by_service[svc] = {}
    for _, s in ipairs(SERVICE_STATUSES) do by_service[svc][s] = 0 end
  end
  local list, failures, users = {}, {}, 0
  local tracked = {}           -- user -> { service -> true } over every job
  for _, job in ipairs(M.jobs(graph)) do
    by_status[job.status] = (by_status[job.status] or 0) + 1
    local n = 0
    M.each_task(graph, job.id, function(task)
      n = n + 1
      local svc = tracked[task.id] or {}
      tracked[task.id] = svc
      for _, entry in ipairs(task.currentStatus) do
        svc[entry.service] = true
        local row = by_service[entry.service]
        if not row then
          row = {}
          by_service[entry.service] = row
        end
        row[entry.status] = (row[entry.status] or 0) + 1
        local e = entry.errors[1]
        if FAILED[entry.status] or e then
          failures[#failures + 1] = {
            job = job.id, displayName = job.displayName, user = task.id,
            service = entry.service, status = entry.status,
            code = e and e.code, message = e and e.message,
          }
        end
      end
    end)
    users = users + n
    list[#list + 1] = {
      id = job.id, displayName = job.displayName, jobType = job.jobType,
      status = job.status, message = job.message, users = n,
      lastUpdatedDateTime = job.lastUpdatedDateTime,
    }
  end
  local refused = graph:fault_counts()
  -- scripted outcomes never applied, with why they could not apply
  local unapplied = {}
  for _, p in ipairs(graph:pending()) do
    local svc = tracked[p.user]
    if not svc then
      p.reason = "the user is in no job"
    elseif not svc[p.service] then
      p.reason = "no job of the user migrates " .. p.service
    else
      p.reason = "the user's " .. p.service .. " was not " ..
                 (p.phase == "validate" and "validated" or "migrated") ..
                 " after it was scripted"
    end
    unapplied[#unapplied + 1] = p
  end
  return {
    scenario = info.scenario,
    seed = info.seed,
    failureRate = info.failureRate,
    start = info.start,
    ["end"] = finish,
    modelSeconds = seconds(elapsed),
    modelDuration = M.duration(elapsed),
    jobs = { total = #list, byStatus = by_status, list = list },
    users = { total = users, byService = by_service },
    failures = failures,
    -- throttling and transient faults: the requests refused
    requests = { refused = refused[429] + refused[503] + refused[504],
                 throttled = refused[429],
                 serviceNotAvailable = refused[503],
                 gatewayTimeout = refused[504] },
    unappliedOutcomes = unapplied,
  }
end

local function pad(s, n, right)
  s = tostring(s)
  if #s >= n then return s end
  return right and (" "):rep(n - #s) .. s or s .. (" "):rep(n - #s)
end

--- The report as text, one string ending in a newline.
function M.format(r)
  local out = {}
  local function say(fmt, ...) out[#out + 1] = fmt:format(...) end
  say("== crosstenant report: %s", r.scenario)
  say("seed %d, failure rate %s", r.seed, tostring(r.failureRate))
  say("model time %s to %s: %s (%s s)", r.start, r["end"], r.modelDuration,
      tostring(r.modelSeconds))
  local q = r.requests
  if q and q.refused > 0 then
    say("refused requests: %d -- 429 throttled %d, 503 serviceNotAvailable " ..
        "%d, 504 gatewayTimeout %d", q.refused, q.throttled,
        q.serviceNotAvailable, q.gatewayTimeout)
  end

  say("")
  say("jobs: %d", r.jobs.total)
  local width = 0
  for s, n in pairs(r.jobs.byStatus) do
    if n > 0 and #s > width then width = #s end
  end
  for _, s in ipairs(sorted_keys(r.jobs.byStatus, JOB_RANK)) do
    local n = r.jobs.byStatus[s]
    if n > 0 then say("  %s  %s", pad(s, width), pad(n, 6, true)) end
  end

  say("")
  say("users: %d", r.users.total)
  local services, statuses, seen = {}, {}, {}
  for _, svc in ipairs(sorted_keys(r.users.byService, SERVICE_RANK)) do
    local any = false
    for s, n in pairs(r.users.byService[svc]) do
      if n > 0 then
        any = true
        seen[s] = true
      end
    end
    if any then services[#services + 1] = svc end
  end
  for _, s in ipairs(sorted_keys(seen, STATUS_RANK)) do
    statuses[#statuses + 1] = s
  end
  if #services > 0 then
    local w = 0
    for _, s in ipairs(statuses) do if #s > w then w = #s end end
    local cols = {}
    for i, svc in ipairs(services) do cols[i] = math.max(#svc, 6) end
    local head = { "  " .. pad("", w) }
    for i, svc in ipairs(services) do
      head[#head + 1] = pad(svc, cols[i], true)
    end
    say("%s", table.concat(head, "  "))
    for _, s in ipairs(statuses) do
      local row = { "  " .. pad(s, w) }
      for i, svc in ipairs(services) do
        row[#row + 1] = pad(r.users.byService[svc][s] or 0, cols[i], true)
      end
      say("%s", table.concat(row, "  "))
    end
  end

  say("")
  say("failures: %d", #r.failures)
  local shown = math.min(#r.failures, M.MAX_FAILURE_ROWS)
  local wn, ws, wt = 0, 0, 0
  for i = 1, shown do
    local f = r.failures[i]
    wn = math.max(wn, #f.displayName)
    ws = math.max(ws, #f.service)
    wt = math.max(wt, #f.status)
  end
  for i = 1, shown do
    local f = r.failures[i]
    local what = f.code and (f.code .. ": " .. f.message) or "(no error)"
    say("  %s  %s  %s  %s  %s", pad(f.displayName, wn), f.user,
        pad(f.service, ws), pad(f.status, wt), what)
  end
  if #r.failures > shown then
    say("  ... and %d more (--json lists every failure)",
        #r.failures - shown)
  end
  local un = r.unappliedOutcomes or {}
  if #un > 0 then
    say("")
    say("warning: %d scripted outcome%s never applied (graph:pending()):",
        #un, #un == 1 and " was" or "s were")
    for _, p in ipairs(un) do
      say("  %s  %s  %s  %s  %s: %s  (%s)", p.user, p.service, p.phase,
          p.status, p.code, p.message, p.reason)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- Progress ------------------------------------------------------------------

-- A progress line says, at a model instant, how many jobs are in each
-- status.  It is printed when those counts differ from the last line's,
-- looked at only at model instants (never on a wall-clock timer), so the
-- lines are the same on every run.  `live` rewrites one line on a
-- terminal with \r; `lines` prints plain lines.

local Progress = {}
Progress.__index = Progress

local function new_progress(mode, out, start)
  return setmetatable({ mode = mode, out = out, start = M.ticks(start),
                        last = nil, width = 0 }, Progress)
end

local function count_text(statuses)
  local counts, total = {}, 0
  for _, s in pairs(statuses) do
    counts[s] = (counts[s] or 0) + 1
    total = total + 1
  end
  local parts = {}
  for _, s in ipairs(sorted_keys(counts, JOB_RANK)) do
    parts[#parts + 1] = s .. " " .. counts[s]
  end
  return ("%d job%s%s%s"):format(total, total == 1 and "" or "s",
                                 total > 0 and ": " or "",
                                 table.concat(parts, ", "))
end

function Progress:show(now, statuses)
  local text = count_text(statuses)
  if text == self.last then return end
  self.last = text
  self.shown = true
  local line = ("[+%s] %s  %s"):format(
    M.duration(M.ticks(now) - self.start), now, text)
  if self.mode == "live" then
    self:draw(line)
  else
    self.out:write(line, "\n")
  end
  self.out:flush()
end

function Progress:draw(line)
  local n = #line
  self.line = line
  if n < self.width then line = line .. (" "):rep(self.width - n) end
  self.width = n
  self.out:write("\r", line)
end

--- Clears the live line before other output on the same terminal ...
function Progress:clear()
  if self.mode == "live" and self.width > 0 then
    self.out:write("\r", (" "):rep(self.width), "\r")
    self.out:flush()
    self.width = 0
  end
end

--- ... and draws it again below that output.
function Progress:restore()
  if self.mode == "live" and self.width == 0 and self.line then
    self:draw(self.line)
    self.out:flush()
  end
end

--- Ends the live line: the report starts on a line of its own.
function Progress:finish()
  if self.mode == "live" and self.width > 0 then
    self.out:write("\n")
    self.out:flush()
    self.width = 0
  end
end

local function statuses_of(graph)
  local st = {}
  for _, job in ipairs(M.jobs(graph)) do st[job.id] = job.status end
  return st
end

-- The store's clock only moves through advance and run_until: the
-- command wraps advance on this one store, and run_until calls the
-- store's `_watch` hook before its condition is asked.  advance: the job
-- events it returns are replayed instant by instant from the statuses
-- before (the statuses after, rolled back).  run_until: the progress
-- looks at the jobs at every due instant.  Errors keep the scenario's
-- position: argument errors name the first frame outside the library,
-- so advance re-raises them as they are.
local function instrument(graph, progress)
  local advance = crosstenant.Graph.advance
  function graph.advance(self, d)
    local ok, events = pcall(advance, self, d)
    if not ok then error(events, 0) end
    if self ~= graph then return events end
    local jobs = {}
    for _, ev in ipairs(events) do
      if ev.type == "job" then jobs[#jobs + 1] = ev end
    end
    if #jobs == 0 then return events end
    local after = statuses_of(self)
    local st = {}
    for id, s in pairs(after) do st[id] = s end
    for i = #jobs, 1, -1 do st[jobs[i].job] = jobs[i].old end
    local i = 1
    while i <= #jobs do
      local t = jobs[i].time
      while i <= #jobs and jobs[i].time == t do
        st[jobs[i].job] = jobs[i].new
        i = i + 1
      end
      progress:show(t, st)
    end
    progress:show(self:now(), after)
    return events
  end
  graph._watch = function(g)
    progress:show(g:now(), statuses_of(g))
  end
end

-- Options -------------------------------------------------------------------
--
-- The command line is parsed by lua-argparse (the parser luacheck uses):
-- subcommands run, serve and cert, generated --help.  A usage error is
-- one line saying what is wrong, then the hint `Try 'crosstenant
-- --help'.`, on stderr, and exit status 2.  Every value is checked here,
-- so the message names the flag (--throttle), never the store's option
-- key (throttle.requests).

-- the store's bounds the flags share (crosstenant.new checks them too)
local MAX_RETRY = 86400       -- seconds: --retry-after, --throttle's window
local FAULT_STATUSES = { [429] = true, [503] = true, [504] = true }

-- converters: the value, or nil + the message of a usage error
local function seed_arg(value)
  local v = value:match("^%-?%d+$") and math.tointeger(tonumber(value))
  if not v then return nil, "--seed must be an integer, not '" .. value .. "'" end
  return v
end

local function rate_arg(value)
  local v = tonumber(value)
  if not v or v ~= v or v < 0 or v > 1 then
    return nil, "--failure-rate must be a number from 0 to 1, not '" ..
                value .. "'"
  end
  return v
end

local function progress_arg(value)
  if value ~= "auto" and value ~= "always" and value ~= "never" then
    return nil, "--progress must be auto, always or never, not '" ..
                value .. "'"
  end
  return value
end

local function port_arg(name)
  return function(value)
    local v = value:match("^%d+$") and math.tointeger(tonumber(value))
    if not v or v > 65535 then
      return nil, name .. " must be a port from 0 to 65535, not '" ..
                  value .. "'"
    end
    return v
  end
end

local function clock_arg(value)
  if not require("crosstenant.serve").clock_rate(value) then
    return nil, "--clock must be manual, real or xN (N model seconds per " ..
                "wall second, e.g. x3600), not '" .. value .. "'"
  end
  return value
end

-- --throttle N/Ss: a budget of N requests per S seconds a caller
local function throttle_arg(value)
  local n, per = value:match("^(%d+)/(%d+%.?%d*)s?$")
  n, per = math.tointeger(tonumber(n)), tonumber(per)
  if not n or not per then
    return nil, "--throttle must be REQUESTS/SECONDS such as 100/10s, " ..
                "not '" .. value .. "'"
  end
  if n < 1 then
    return nil, "--throttle needs 1 request or more per window, not '" ..
                value .. "'"
  end
  if not (per > 0 and per <= MAX_RETRY) then
    return nil, "--throttle needs a window above 0 and at most " ..
                MAX_RETRY .. " seconds, not '" .. value .. "'"
  end
  return { requests = n, per = per }
end

-- --fault-rate 429=0.05,503=0.01: seeded transient faults by status
local function fault_rate_arg(value)
  local rates, sum = {}, 0
  for item in (value .. ","):gmatch("([^,]*),") do
    local st, given = item:match("^%s*(%d+)%s*=%s*([%d.]+)%s*$")
    local r
    st, r = math.tointeger(tonumber(st)), tonumber(given)
    if not st or not r then
      return nil, "--fault-rate must be STATUS=RATE[,...] such as " ..
                  "429=0.05,503=0.01, not '" .. value .. "'"
    end
    if not FAULT_STATUSES[st] then
      return nil, "--fault-rate takes the statuses 429, 503 and 504, " ..
                  "not " .. st .. " (in '" .. value .. "')"
    end
    if r > 1 then
      return nil, "--fault-rate's rates must be from 0 to 1, not " .. given ..
                  " (in '" .. value .. "')"
    end
    rates[st] = r
    sum = sum + r
  end
  if sum > 1 + 1e-9 then            -- 0.1 + 0.2 + 0.7 is 1 here
    return nil, "--fault-rate's rates add up to more than 1 in '" ..
                value .. "'"
  end
  return rates
end

local function retry_after_arg(value)
  local v = value:match("^%d+$") and math.tointeger(tonumber(value))
  if not v or v < 1 or v > MAX_RETRY then
    return nil, "--retry-after must be a whole number of seconds from 1 " ..
                "to " .. MAX_RETRY .. ", not '" .. value .. "'"
  end
  return v
end

-- --latency 20-200ms, 50ms, 0.1-0.5s, 0-0: {min, max} in seconds.  A
-- duration is a number and a unit, ms or s; a MIN without one takes
-- MAX's (20-200ms); zero needs none (0, 0-0, 0-200ms), any other number
-- without a unit is refused (is 50 seconds or milliseconds?).
local function latency_arg(value)
  -- seconds, or nil; `unit` "" takes `default`
  local function secs(n, unit, default)
    n = tonumber(n)
    if unit == "" then unit = default or "" end
    if not n then return nil end
    if unit == "ms" then return n / 1000 end
    if unit == "s" then return n end
    if unit == "" and n == 0 then return 0 end
    return nil
  end
  local lo, hi
  local a, ua, b, ub = value:match("^(%d+%.?%d*)(m?s?)%-(%d+%.?%d*)(m?s?)$")
  if a then
    lo, hi = secs(a, ua, ub), secs(b, ub)
  else
    a, ua = value:match("^(%d+%.?%d*)(m?s?)$")
    lo = a and secs(a, ua)
    hi = lo
  end
  if not lo or not hi or lo > hi or
     hi > require("crosstenant.serve").MAX_LATENCY then
    return nil, "--latency must be MIN-MAX or one duration in ms or s " ..
                "(0 needs no unit), at most 600s, such as 20-200ms, 50ms, " ..
                "0.1-0.5s or 0, not '" .. value .. "'"
  end
  return { lo, hi }
end

-- the options run and serve share: the store's
local function store_options(cmd)
  cmd:option("--seed", "seed of the store's ids and failures",
             tostring(M.DEFAULT_SEED)):argname("N"):convert(seed_arg)
  cmd:option("--now", "start of the model clock", M.DEFAULT_NOW)
     :argname("ISO")
  cmd:option("--failure-rate", "seeded random failures per user and " ..
             "service, 0 to 1; it applies to validation and migration", "0")
     :argname("X"):convert(rate_arg)
  cmd:flag("--loose", "accept what Graph tolerates but the docs do not " ..
           "show (the store's strict = false)")
  cmd:flag("--require-token", "answer 401 to a request without a bearer " ..
           "token")
end

-- the fault options run and serve share (the store's throttle,
-- fault_rate and retry_after)
local function fault_options(cmd)
  cmd:option("--throttle", "a budget of REQUESTS per SECONDS a caller " ..
             "(e.g. 100/10s); past it, 429 with Retry-After")
     :argname("N/Ss"):convert(throttle_arg)
  cmd:option("--fault-rate", "seeded transient faults by status, " ..
             "e.g. 429=0.05,503=0.01 (429, 503, 504)")
     :argname("S=R,..."):convert(fault_rate_arg)
  cmd:option("--retry-after", "the Retry-After of seeded faults, in " ..
             "seconds (default 1)"):argname("N"):convert(retry_after_arg)
end

local function make_parser(state)
  local p = argparse("crosstenant", "A local model of Microsoft Graph's " ..
                     "cross-tenant migration API.")
  p:add_help(false)
  p:flag("-h --help", "show this help and exit")
     :action(function() state.help = state.help or p:get_help() end)
  p:flag("--version", "show the version and exit")
     :action(function() state.version = true end)
  p:command_target("command")
  p:require_command(false)
  p:help_max_width(79)

  local run = p:command("run", "run a scenario script and print a report")
  run:summary("Runs SCENARIO.lua against a fresh crosstenant store and " ..
              "prints a report.")
  run:description([[
Runs SCENARIO.lua against a fresh crosstenant store and prints a report:
jobs by status, users by status per service, failures with their codes and
messages, and the model time taken.  The store is the global `graph` and
the script's first argument (`...`); the ARGs follow it.]])
  run:usage("Usage: crosstenant run [options] SCENARIO.lua [ARG...]")
  run:epilog(RUN_EPILOG)
  run:add_help(false)
  run:flag("-h --help", "show this help and exit")
     :action(function() state.help = run:get_help() end)
  run:argument("scenario", "the scenario script"):argname("SCENARIO.lua")
     :args("?")
  run:argument("script_args", "arguments for the script"):argname("ARG")
     :args("*")
  store_options(run)
  fault_options(run)
  run:option("--progress", "auto: a live line on a terminal, plain lines " ..
             "otherwise; always: the live line; never: no progress", "auto")
     :argname("MODE"):convert(progress_arg)
  run:flag("-q --quiet", "no progress: the report only on stdout")
  run:flag("--json", "the report as JSON on stdout and nothing else")

  local serve = p:command("serve", "serve the API over HTTP and HTTPS")
  serve:summary("Serves the API over HTTP and HTTPS.")
  serve:description([[
Serves a store over HTTP (and HTTPS) until SIGINT or SIGTERM.  The
scenario, if given, runs first with the store as `...` and the global
`graph`; then the server serves that store.]])
  serve:usage("Usage: crosstenant serve [options] [SCENARIO.lua " ..
              "[-- scenario args]]")
  serve:epilog(SERVE_EPILOG)
  serve:add_help(false)
  serve:flag("-h --help", "show this help and exit")
     :action(function() state.help = serve:get_help() end)
  serve:argument("scenario", "a scenario script to run first")
     :argname("SCENARIO.lua"):args("?")
  serve:argument("script_args", "arguments for the script"):argname("ARG")
     :args("*")
  serve:option("--host", "listen address", "127.0.0.1"):argname("ADDR")
  serve:option("--port", "plain HTTP port (0 = any free port)", "8080")
     :argname("N"):convert(port_arg("--port"))
  serve:option("--https-port", "HTTPS port (0 = any free port); needs " ..
               "--tls DIR or --cert/--key"):argname("N")
     :convert(port_arg("--https-port"))
  serve:option("--tls", "use DIR/cert.pem + DIR/key.pem, creating a " ..
               "local CA (DIR/ca.pem) and a certificate for localhost, " ..
               "127.0.0.1 and ::1 there when absent (from DIR/ca.pem " ..
               "and its key DIR/ca-key.pem when both are there)")
     :argname("DIR")
  serve:option("--cert", "a certificate of your own (PEM)"):argname("FILE")
  serve:option("--key", "its private key (PEM)"):argname("FILE")
  serve:option("--clock", "manual (time moves only when told), real " ..
               "(from --now at wall speed) or xN (N model seconds per " ..
               "wall second, e.g. x3600)", "manual"):argname("MODE")
     :convert(clock_arg)
  store_options(serve)
  fault_options(serve)
  serve:option("--latency", "each Graph answer waits a seeded draw in " ..
               "this range of wall time, e.g. 20-200ms, 50ms, 0.1-0.5s, " ..
               "0-0 (MIN without a unit takes MAX's; 0 needs none; at " ..
               "most 600s; other connections go on)"):argname("MIN-MAX")
     :convert(latency_arg)
  serve:option("--data", "keep the store in DIR/store.db (resumed when " ..
               "it exists; every acknowledged change committed) and the " ..
               "snapshots in DIR/snapshots"):argname("DIR")
  serve:flag("-q --quiet", "no request log")

  local cert = p:command("cert", "make a local CA and a certificate " ..
                         "for localhost")
  cert:summary("Makes a local CA and a certificate for localhost.")
  cert:description([[
Makes DIR/ca.pem (a local CA), DIR/cert.pem and DIR/key.pem (a
certificate it signed for localhost, 127.0.0.1 and ::1) with openssl.
With DIR/ca.pem and its key DIR/ca-key.pem there, makes only cert.pem
and key.pem, signed by that CA.  Overwrites nothing: a DIR holding
cert.pem or key.pem, ca.pem without its key ca-key.pem, or ca-key.pem
without ca.pem, is refused with one line on stderr (exit 1), and left as
it is.]])
  cert:usage("Usage: crosstenant cert DIR")
  cert:add_help(false)
  cert:flag("-h --help", "show this help and exit")
     :action(function() state.help = cert:get_help() end)
  cert:argument("dir", "the directory"):argname("DIR"):args("?")
  return p
end

-- the options that take a value
local VALUED = {}
for _, name in ipairs { "seed", "now", "failure-rate", "progress", "host",
                        "port", "https-port", "tls", "cert", "key", "clock",
                        "throttle", "fault-rate", "retry-after", "latency",
                        "data" } do
  VALUED["--" .. name] = true
end

-- argparse reads any word that starts with "-" as an option, so
-- `--port -1` was "unknown option '-1'".  As Python's argparse does, a
-- word that looks like a negative number after an option that takes a
-- value is that value: `--port -1` is read as `--port=-1`, and the
-- option's own check says what is wrong with it (`--seed -5` is a seed).
-- Words after `--` go to the script as they are.
local function negative_values(argv)
  local out, i = {}, 1
  while i <= #argv do
    local a, nxt = argv[i], argv[i + 1]
    if a == "--" then
      table.move(argv, i, #argv, #out + 1, out)
      break
    end
    if VALUED[a] and type(nxt) == "string" and
       (nxt:match("^%-%d") or nxt:match("^%-%.%d")) then
      out[#out + 1] = a .. "=" .. nxt
      i = i + 2
    else
      out[#out + 1] = a
      i = i + 1
    end
  end
  return out
end

--- Parses the arguments: the options table (command = "run", "serve" or
-- "cert"; help = text to print; version = true), or nil + a message.
function M.parse(argv)
  local state = {}
  local p = make_parser(state)
  local ok, r = p:pparse(negative_values(argv))
  if state.help then return { help = state.help } end
  if state.version then return { version = true } end
  if not ok then
    -- argparse may add a second line ("Did you mean ...?"): one line only
    return nil, (r:match("^[^\n]*"))
  end
  local o = {
    command = r.command, scenario = r.scenario, script_args = r.script_args,
    seed = r.seed, now = r.now, failure_rate = r.failure_rate,
    loose = r.loose, require_token = r.require_token, quiet = r.quiet,
    progress = r.progress, json = r.json, host = r.host, port = r.port,
    https_port = r.https_port, tls = r.tls, cert = r.cert, key = r.key,
    clock = r.clock, dir = r.dir, throttle = r.throttle,
    fault_rate = r.fault_rate, retry_after = r.retry_after,
    latency = r.latency, data = r.data,
  }
  if not o.command then return nil, "missing command" end
  if o.command == "run" and not o.scenario then
    return nil, "missing SCENARIO.lua"
  end
  if o.command == "cert" and not o.dir then return nil, "missing DIR" end
  if o.command == "serve" then
    if (o.cert == nil) ~= (o.key == nil) then
      return nil, "--cert and --key go together"
    end
    if o.tls and o.cert then
      return nil, "--tls or --cert/--key, not both"
    end
    if o.https_port and not (o.tls or o.cert) then
      return nil, "--https-port needs --tls DIR or --cert and --key"
    end
  end
  return o
end

-- Running -----------------------------------------------------------------

local function is_tty(fd)
  return os.execute("test -t " .. fd) == true
end

local function message_of(e)
  if type(e) == "string" then return e end
  local mt = getmetatable(e)
  if mt and mt.__tostring then return tostring(e) end
  return "(error object is a " .. type(e) .. " value)"
end

-- The message handler of the scenario: an error object (a Graph error
-- from `assert(graph:get_job(...))`, or any table) carries no position:
-- it gets the scenario's (the first frame outside the library), as
-- `file:line: message`.  Strings keep theirs (Lua 5.4's assert and error
-- add it).
local function with_position(e)
  if type(e) == "string" then return e end
  if getmetatable(e) == crosstenant.Error then
    if not e.where then e.where = caller.where() end
    return tostring(e)
  end
  local where = caller.where()
  return (where and where .. ": " or "") .. message_of(e)
end

-- Runs the chunk with the store as the global `graph` and `...`, with
-- print and io.write sent to `out` (after clearing a live progress line).
-- When `out` is not stdout (--json, --quiet), the default output file
-- (io.output(), io.write) and io.stdout itself point to `out` while the
-- scenario runs, so nothing it writes through Lua reaches stdout.
local function run_script(chunk, graph, o, out, progress)
  local saved = { graph = rawget(_G, "graph"), print = print,
                  write = io.write, stdout = io.stdout,
                  output = io.output() }
  if out ~= saved.stdout then
    io.output(out)
    rawset(io, "stdout", out)
    -- descriptor 1 too, for child processes (os.execute, io.popen)
    saved.stdout:flush()
    saved.fd = core.stdout_to_stderr()
  end
  rawset(_G, "graph", graph)
  rawset(_G, "print", function(...)
    progress:clear()
    o.wrote = o.wrote or out == saved.stdout
    local n = select("#", ...)
    for k = 1, n do
      if k > 1 then out:write("\t") end
      out:write(tostring((select(k, ...))))
    end
    out:write("\n")
    progress:restore()
  end)
  rawset(io, "write", function(...)
    progress:clear()
    o.wrote = o.wrote or out == saved.stdout
    local r, e = out:write(...)
    local n = select("#", ...)
    local last = n > 0 and select(n, ...)
    if type(last) == "string" and last:sub(-1) == "\n" then
      progress:restore()
    end
    return r, e
  end)
  local ok, err = xpcall(chunk, with_position, graph,
                         table.unpack(o.script_args))
  rawset(_G, "graph", saved.graph)
  rawset(_G, "print", saved.print)
  rawset(io, "write", saved.write)
  rawset(io, "stdout", saved.stdout)
  pcall(io.output, saved.output)     -- unless the scenario closed it
  out:flush()
  if saved.fd then core.stdout_restore(saved.fd) end
  return ok, err
end

--- The command: `argv` as the launcher's `arg`; returns the exit code.
-- Serving ---------------------------------------------------------------------

-- the scenario file compiled, or nil and the exit code after saying why
-- on stderr (2: can't be read, 1: doesn't compile)
local function load_scenario(path)
  local chunk, lerr = loadfile(path)
  if chunk then return chunk end
  local f = io.open(path, "r")
  if not f then
    io.stderr:write("crosstenant: can't read scenario '", path, "'\n")
    return nil, 2
  end
  f:close()
  io.stderr:write("crosstenant: ", lerr, "\n")
  return nil, 1
end

-- crosstenant.new's options from the parsed command line (run and serve)
local function store_options_of(o)
  return { seed = o.seed or M.DEFAULT_SEED, now = o.now or M.DEFAULT_NOW,
           failure_rate = o.failure_rate or 0, strict = not o.loose,
           require_token = o.require_token or false,
           throttle = o.throttle, fault_rate = o.fault_rate,
           retry_after = o.retry_after }
end

-- a command that could not do its work: one line on stderr; exit code 1
local function failed(err)
  io.stderr:write("crosstenant: ", tostring(err), "\n")
  return 1
end

-- crosstenant.new or .open raised `err` on the store's options from the
-- command line: one line and the usage hint on stderr; the exit code (2)
local function options_refused(err, opts)
  local msg = tostring(err)
  local why = msg:match("option 'now' is not a DateTimeOffset %((.*)%)$")
  if why then
    io.stderr:write("crosstenant: --now must be an ISO 8601 date-time, ",
                    "not '", opts.now, "' (", why, ")\n")
  else
    -- the store's own words (the flags' converters check --throttle,
    -- --fault-rate and --retry-after first, so these name no flag's key)
    io.stderr:write("crosstenant: ", msg:match("crosstenant%.%a+: (.*)$") or
                    msg, "\n")
  end
  io.stderr:write("Try 'crosstenant --help'.\n")
  return 2
end

--- `crosstenant cert DIR`: the exit code.
function M.cert(o)
  local state, err = require("crosstenant.serve").make_cert(o.dir)
  if not state then return failed(err) end
  if state == "issue" then
    io.stdout:write("made ", o.dir, "/cert.pem and ", o.dir, "/key.pem ",
                    "from ", o.dir, "/ca.pem\n")
  else
    io.stdout:write("made ", o.dir, "/ca.pem, ", o.dir, "/cert.pem and ",
                    o.dir, "/key.pem\n")
  end
  return 0
end

--- `crosstenant serve`: runs the scenario, if any, then serves the store
-- until SIGINT or SIGTERM; the exit code.
function M.serve(o)
  local stdout, stderr = io.stdout, io.stderr
  local chunk
  if o.scenario then
    local code
    chunk, code = load_scenario(o.scenario)
    if not chunk then return code end
  end
  local serve = require "crosstenant.serve"
  if o.tls and o.https_port then
    -- a TLS directory that can't be used is refused before anything is
    -- made: the store file, the scenario's effects
    local state, terr = serve.tls_state(o.tls)
    if not state then return failed(terr) end
  end
  local opts = store_options_of(o)
  local ok, graph, resumed
  if o.data then
    -- the store file: resumed when it exists (its own options hold; the
    -- scenario ran when it was made), else made from the options
    local path = o.data .. "/store.db"
    local f = io.open(path, "rb")
    resumed = f ~= nil
    if f then f:close()
    else
      local made, merr = serve.mkdir(o.data)
      if not made then return failed(merr) end
    end
    local ferr
    ok, graph, ferr = pcall(crosstenant.open, path, opts)
    if ok and not graph then return failed(ferr) end
    if ok then graph._opts = opts end
  else
    ok, graph = pcall(crosstenant.new, opts)
  end
  if not ok then return options_refused(graph, opts) end
  if chunk and not resumed then
    -- the scenario's output goes to stderr: stdout carries the
    -- `listening on` lines
    local ran, serr = run_script(chunk, graph, o, stderr,
                                 new_progress("off", stderr, graph:now()))
    if not ran then
      stderr:write("crosstenant: ", message_of(serr), "\n")
      graph:close()
      return 1
    end
  end
  local served, err = graph:serve {
    host = o.host, port = o.port, https_port = o.https_port, tls = o.tls,
    cert = o.cert, key = o.key, clock = o.clock, quiet = o.quiet or false,
    latency = o.latency, data = o.data,
    on_listen = function(urls)
      for _, url in ipairs(urls) do stdout:write("listening on ", url, "\n") end
      stdout:flush()
    end,
  }
  graph:close()
  if not served then return failed(err) end
  return 0
end

function M.main(argv)
  local stdout, stderr = io.stdout, io.stderr
  local o, err = M.parse(argv or {})
  if not o then
    stderr:write("crosstenant: ", err, "\n",
                 "Try 'crosstenant --help'.\n")
    return 2
  end
  if o.help then
    stdout:write(o.help, "\n")
    return 0
  end
  if o.version then
    stdout:write(crosstenant._VERSION, "\n")
    return 0
  end
  if o.command == "serve" then return M.serve(o) end
  if o.command == "cert" then return M.cert(o) end

  local chunk, code = load_scenario(o.scenario)
  if not chunk then return code end

  local opts = store_options_of(o)
  local ok, graph = pcall(crosstenant.new, opts)
  if not ok then return options_refused(graph, opts) end

  local pstream = o.json and stderr or stdout
  local mode = o.quiet and "never" or o.progress
  if mode == "auto" then
    mode = is_tty(o.json and 2 or 1) and "live" or "lines"
  elseif mode == "always" then
    mode = "live"
  else
    mode = "off"
  end
  local start = graph:now()
  local progress = new_progress(mode, pstream, start)
  if mode ~= "off" then instrument(graph, progress) end
  local out = (o.json or o.quiet) and stderr or stdout

  local ran, serr = run_script(chunk, graph, o, out, progress)
  progress:finish()
  if not ran then
    stderr:write("crosstenant: ", message_of(serr), "\n")
    graph:close()
    return 1
  end
  local report = M.report(graph, {
    scenario = o.scenario, seed = opts.seed, failureRate = opts.failure_rate,
    start = start })
  graph:close()
  if o.json then
    stdout:write(crosstenant.encode(report), "\n")
  else
    -- a blank line after the progress and the scenario's own output
    if o.wrote or (progress.shown and pstream == stdout) then
      stdout:write("\n")
    end
    stdout:write(M.format(report))
  end
  stdout:flush()
  return 0
end

return M
