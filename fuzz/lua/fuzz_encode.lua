--- Harness of fuzz/fuzz_encode.c: one input, JSON text.
-- crosstenant.decode -> crosstenant.encode -> (crosstenant.decode and
-- cjson.decode) must give back the same value; any difference raises,
-- which the C side turns into a crash.
local crosstenant = require "crosstenant"
local core = require "crosstenant.core"
local cjson = require "cjson"

local null = crosstenant.null

local function fail(path, fmt, ...)
  error(("fuzz_encode: at %s: " .. fmt):format(path, ...), 0)
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function same_zero_sign(a, b)
  return a ~= 0 or 1 / a == 1 / b
end

--- Our own round trip: the same value and the same number subtypes.
local function same_exact(a, b, path)
  if type(a) ~= type(b) then
    fail(path, "%s came back as %s", type(a), type(b))
  end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then
      fail(path, "%s %s came back as %s %s", math.type(a), a, math.type(b), b)
    end
    if a ~= b or not same_zero_sign(a, b) then
      fail(path, "%.17g came back as %.17g", a, b)
    end
  elseif type(a) == "table" then
    if count(a) ~= count(b) then fail(path, "member counts differ") end
    for k, v in pairs(a) do same_exact(v, b[k], path .. "/" .. tostring(k)) end
  elseif a ~= b then
    fail(path, "%q came back as %q", tostring(a), tostring(b))
  end
end

--- cjson reads every number as a float: an integer n compares with the
-- double nearest to it (n + 0.0, rounded the way strtod rounds), which
-- equals n itself only when |n| <= 2^53.
local function same_cjson(a, c, path)
  if a == null then
    if c ~= cjson.null then fail(path, "null came back as %s", tostring(c)) end
    return
  end
  if type(a) ~= type(c) then
    fail(path, "%s came back from cjson as %s", type(a), type(c))
  end
  if type(a) == "number" then
    local want = math.type(a) == "integer" and a + 0.0 or a
    if c ~= want or not same_zero_sign(want, c) then
      fail(path, "%s came back from cjson as %.17g", tostring(a), c)
    end
    if math.type(a) == "integer" and a >= -2^53 and a <= 2^53 and c ~= a then
      fail(path, "integer %d lost precision within 2^53", a)
    end
  elseif type(a) == "table" then
    if count(a) ~= count(c) then fail(path, "cjson member counts differ") end
    for k, v in pairs(a) do
      same_cjson(v, c[k], path .. "/" .. tostring(k))
    end
  elseif a ~= c then
    fail(path, "%q came back from cjson as %q", tostring(a), tostring(c))
  end
end

return function(data)
  local v, msg, status = crosstenant.decode(data)
  if v == nil then
    if type(msg) ~= "string" or msg == "" then fail("/", "no message") end
    if status ~= 400 and status ~= 413 then
      fail("/", "status %s for %s", tostring(status), msg)
    end
    return
  end
  local text = crosstenant.encode(v)
  if not core.utf8_valid(text) then fail("/", "encode wrote invalid UTF-8") end
  local back, err = crosstenant.decode(text)
  if back == nil then fail("/", "our decode refused our encode: %s", err) end
  same_exact(v, back, "")
  if crosstenant.encode(back) ~= text then fail("/", "encode is not stable") end
  local ok, c = pcall(cjson.decode, text)
  if not ok then fail("/", "cjson refused our encode: %s", c) end
  same_cjson(v, c, "")
end
