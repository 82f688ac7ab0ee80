--- crosstenant.caller: the position of the code that called into the
-- library, for argument errors and raised Graph errors.
--
-- An argument error names the caller's file and line, as `luaL_argerror`
-- does for a C function, however deep inside the library it is found:
-- the level given to `error` is that of the first Lua function outside
-- the library's own files (this folder) and outside C (pcall, the
-- generic for's iterator call).
-- @module crosstenant.caller
-- @local

local M = {}

-- the library's files: every source in this file's folder
local HERE = debug.getinfo(1, "S").source:match("^(@.*[/\\])[^/\\]*$")

local function ours(info)
  return info.what == "C" or
         (HERE ~= nil and info.source:sub(1, #HERE) == HERE)
end

--- The level, counted as `error` counts it from the function that calls
-- `level` (1 is that function), of the first frame outside the library,
-- or nil when there is none.
function M.level()
  local lvl = 2              -- getinfo(lvl + 1): the caller's caller
  while true do
    local info = debug.getinfo(lvl + 1, "S")
    if info == nil then return nil end
    if not ours(info) then return lvl end
    lvl = lvl + 1
  end
end

--- "file:line:" of the first frame outside the library, or nil.
function M.where()
  local lvl = 2
  while true do
    local info = debug.getinfo(lvl, "Sl")
    if info == nil then return nil end
    if not ours(info) and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline
    end
    lvl = lvl + 1
  end
end

--- Raises `msg` (a string) at the caller's position.
function M.raise(msg)
  error(msg, M.level() or 0)
end

--- Raises "bad argument #n to 'name' (what)" at the caller's position.
function M.argerror(n, name, what)
  error(string.format("bad argument #%d to '%s' (%s)", n, name, what),
        M.level() or 0)
end

return M
