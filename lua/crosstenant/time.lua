--- Time arithmetic on the model's ISO 8601 text, as `crosstenant.time`.
--
-- The same rules as the model's timestamps and durations: date-times
-- carry `Z` or a `±hh:mm` offset of at most 14:00 and 0 to 7 fractional
-- digits; durations are ISO 8601 with weeks, days, hours, minutes and
-- seconds (months and years have no fixed length and are refused, as
-- `graph:advance` refuses them).  Results are UTC text as the model
-- writes it: whole seconds, or 7 fractional digits when there is a
-- fraction.  Seconds are Lua numbers: integers when whole, floats
-- otherwise (a float near today's epoch seconds holds about a microsecond:
-- `add` and `diff` work on the text and keep every 100-ns tick).
--
-- Wrong arguments raise, naming the caller's line (`bad argument #1 to
-- 'time.parse' (...)`).
--
-- @module crosstenant.time
-- @usage
-- local time = require "crosstenant.time"   -- or crosstenant.time
-- time.add("2025-11-06T09:00:00Z", "P1D")   --> "2025-11-07T09:00:00Z"
-- time.add("2025-11-06T09:00:00Z", -90)     --> "2025-11-06T08:58:30Z"
-- time.diff("2025-11-07T09:00:00Z", "2025-11-06T09:00:00Z")  --> 86400
-- time.parse("1970-01-02T00:00:00+01:00")   --> 82800
-- time.format(0)                            --> "1970-01-01T00:00:00Z"
-- time.duration(93784)                      --> "P1DT2H3M4S"
local core = require "crosstenant.core"
local caller = require "crosstenant.caller"

local M = {}

local TICKS = 10000000                          -- 100-ns ticks a second
local MIN_TICKS = -621355968000000000           -- 0001-01-01T00:00:00Z
local MAX_TICKS = 2534023007999999999           -- 9999-12-31T23:59:59.9999999Z
M.TICKS = TICKS

local function argerror(n, name, what)
  caller.argerror(n, "time." .. name, what)
end

-- ticks of an ISO 8601 date-time argument
local function ticks_of(s, n, name)
  if type(s) ~= "string" then
    argerror(n, name, "string expected, got " .. type(s))
  end
  local t, why = core.time_parse(s)
  if not t then
    argerror(n, name, "'" .. s .. "' is not an ISO 8601 date-time: " .. why)
  end
  return t
end

--- ISO 8601 text for a number of ticks (7 digits when there is a
-- fraction); raises when outside the years 0001 to 9999.
-- @local
function M.text(t, n, name)
  if t < MIN_TICKS or t > MAX_TICKS then
    caller.argerror(n, name, "the result is outside the years 0001 to 9999")
  end
  return core.time_format(t, t % TICKS ~= 0 and 7 or 0)
end

-- seconds for a number of ticks: an integer when whole
local function seconds(t)
  if t % TICKS == 0 then return t // TICKS end
  return t / TICKS
end

--- The ticks of a duration argument: seconds (any sign, when `signed`)
-- or ISO 8601 text (a leading `-` when `signed`).  Raises with the
-- argument's number and the function's name.
-- @local
function M.duration_ticks(d, n, name, signed)
  local function bad(what) caller.argerror(n, name, what) end
  if type(d) == "number" then
    if d ~= d or d == math.huge or d == -math.huge then
      bad("seconds must be a finite number")
    end
    if not signed and d < 0 then
      bad("seconds must be >= 0")
    end
    local t = d * TICKS
    if t >= 2^63 or t < -2^63 then bad("more than 10,000 years") end
    return math.floor(t + 0.5)
  elseif type(d) == "string" then
    local neg, body = false, d
    if d:sub(1, 2) == "-P" then
      if not signed then
        bad("a negative duration is not supported: '" .. d .. "'")
      end
      neg, body = true, d:sub(2)
    end
    local t = core.duration_parse(body)
    if not t then
      -- months and years: a valid duration the model does not support
      local date, rest = body:match("^P([^T]*)(.*)$")
      if date then
        local left, ym = date:gsub("^%d+Y", "", 1)
        local left2, m = left:gsub("^%d+M", "", 1)
        if ym + m > 0 and (left2 .. rest == "" or
                           core.duration_parse("P" .. left2 .. rest)) then
          bad("'" .. d .. "' has months or years, which have no fixed " ..
              "length and are not supported: use weeks, days or hours " ..
              "(such as P30D)")
        end
      end
      -- the right shape with every digit 0 parses: the numbers overflow
      if core.duration_parse((body:gsub("%d", "0"))) then
        bad("'" .. d .. "' is more than 10,000 years")
      end
      bad("not an ISO 8601 duration: '" .. d .. "'")
    end
    return neg and -t or t
  end
  bad("number or string expected, got " .. type(d))
end

--- Epoch seconds of an ISO 8601 date-time.
-- @tparam string iso a date-time with `Z` or a `±hh:mm` offset (at most
--   14:00), 0 to 7 fractional digits
-- @treturn number seconds since 1970-01-01T00:00:00Z (an integer when
--   whole; negative before 1970)
-- @raise `bad argument #1 to 'time.parse' ('x' is not an ISO 8601
--   date-time: <why>)`, or a string was expected
-- @usage time.parse("2025-11-06T09:00:00Z")  --> 1762419600
function M.parse(iso)
  return seconds(ticks_of(iso, 1, "parse"))
end

--- ISO 8601 UTC text of epoch seconds.
-- @tparam number secs seconds since 1970-01-01T00:00:00Z (a fraction is
--   kept to 100 ns)
-- @treturn string `YYYY-MM-DDThh:mm:ssZ`, or with 7 fractional digits
-- @raise `bad argument #1 to 'time.format' (number expected, got
--   string)`, or the result is outside the years 0001 to 9999
-- @usage time.format(1762419600.5)  --> "2025-11-06T09:00:00.5000000Z"
function M.format(secs)
  if type(secs) ~= "number" then
    argerror(1, "format", "number expected, got " .. type(secs))
  end
  if secs ~= secs then
    argerror(1, "format", "seconds must be a finite number")
  end
  if secs * TICKS >= 2^63 or secs * TICKS < -2^63 then
    argerror(1, "format", "the result is outside the years 0001 to 9999")
  end
  local t = math.type(secs) == "integer" and secs * TICKS
            or math.floor(secs * TICKS + 0.5)
  return M.text(t, 1, "time.format")
end

--- A date-time plus a duration.
-- @tparam string iso an ISO 8601 date-time (see `parse`)
-- @tparam number|string d seconds (negative goes back), or an ISO 8601
--   duration such as `"P1D"`, `"PT1H30M"` or `"-P1W"`; months and years
--   are not supported
-- @treturn string the sum as UTC text
-- @raise on a bad date-time, a bad duration (`bad argument #2 to
--   'time.add' ('P1M' has months or years, which have no fixed length and
--   are not supported: use weeks, days or hours (such as P30D))`), or a
--   result outside the years 0001 to 9999
-- @usage time.add("2025-11-06T10:00:00+01:00", "PT1H")
--   --> "2025-11-06T10:00:00Z"
function M.add(iso, d)
  local t = ticks_of(iso, 1, "add")
  local dt = M.duration_ticks(d, 2, "time.add", true)
  if (dt > 0 and t > MAX_TICKS - dt) or (dt < 0 and t < MIN_TICKS - dt) then
    argerror(2, "add", "the result is outside the years 0001 to 9999")
  end
  return M.text(t + dt, 2, "time.add")
end

--- The seconds from `b` to `a` (`a - b`).
-- @tparam string a an ISO 8601 date-time
-- @tparam string b an ISO 8601 date-time
-- @treturn number seconds, negative when `a` is before `b` (an integer
--   when whole)
-- @raise when either is not an ISO 8601 date-time
-- @usage time.diff(job.completeAfterDateTime, graph:now())
function M.diff(a, b)
  return seconds(ticks_of(a, 1, "diff") - ticks_of(b, 2, "diff"))
end

--- An ISO 8601 duration for a number of seconds, in days, hours,
-- minutes and seconds: `"PT0S"`, `"P1DT2H3M4S"`, `"-PT1.5S"`.
-- @tparam number secs seconds (a fraction is kept to 100 ns)
-- @treturn string the duration
-- @raise `bad argument #1 to 'time.duration' (number expected, got nil)`,
--   `(seconds must be a finite number)` or `(more than 10,000 years)`
-- @usage time.duration(5400)  --> "PT1H30M"
function M.duration(secs)
  if type(secs) ~= "number" then
    argerror(1, "duration", "number expected, got " .. type(secs))
  end
  if secs ~= secs or secs == math.huge or secs == -math.huge then
    argerror(1, "duration", "seconds must be a finite number")
  end
  -- the ticks must fit in an integer (an integer product would wrap)
  if secs >= 2^63 / TICKS or secs <= -2^63 / TICKS then
    argerror(1, "duration", "more than 10,000 years")
  end
  local t = math.type(secs) == "integer" and secs * TICKS
            or math.floor(secs * TICKS + 0.5)
  local sign = ""
  if t < 0 then sign, t = "-", -t end
  local s, frac = t // TICKS, t % TICKS
  local d, h = s // 86400, s % 86400 // 3600
  local m, sec = s % 3600 // 60, s % 60
  local out = { sign, "P" }
  if d > 0 then out[#out + 1] = d .. "D" end
  if h > 0 or m > 0 or sec > 0 or frac > 0 or d == 0 then
    out[#out + 1] = "T"
    if h > 0 then out[#out + 1] = h .. "H" end
    if m > 0 then out[#out + 1] = m .. "M" end
    if sec > 0 or frac > 0 or (h == 0 and m == 0) then
      local f = frac > 0 and ("." .. ("%07d"):format(frac):gsub("0+$", ""))
                or ""
      out[#out + 1] = sec .. f .. "S"
    end
  end
  return table.concat(out)
end

return M
