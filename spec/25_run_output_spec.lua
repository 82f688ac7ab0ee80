-- `crosstenant run` (issue 10): the scenario's output never reaches the
-- JSON report, error objects get the scenario's position, and the report
-- warns about scripted outcomes that never applied.  The command runs as
-- a process, as in 10_cli_spec.lua.
local crosstenant = require "crosstenant"

local function shell_out(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("l")
  p:close()
  return s
end

local ROOT = shell_out("pwd")
local CORE = assert(package.searchpath("crosstenant.core", package.cpath))
local CPATH = (CORE:gsub("^%./", ROOT .. "/")
                   :gsub("crosstenant/core%.so$", "?.so"))
-- the tree's Lua first, then the default path (argparse, from Debian)
local ENV = "env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH='" .. ROOT ..
            "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;' LUA_CPATH='" ..
            CPATH .. "' "

local temps = {}

local function scenario(text)
  local path = os.tmpname()
  temps[#temps + 1] = path
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function run(args)
  local errfile = os.tmpname()
  local pipe = assert(io.popen(ENV .. "lua5.4 bin/crosstenant " .. args ..
                               " 2>" .. errfile, "r"))
  local out = pipe:read("a")
  local _, _, code = pipe:close()
  local f = assert(io.open(errfile, "rb"))
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return { out = out, err = err, code = code }
end

local U1 = "aaaaaaaa-0000-4000-8000-000000000001"
local U9 = "aaaaaaaa-0000-4000-8000-000000000009"

-- one ODSP user; outcomes that can't apply, and one that does
local JOB = [[
local job = assert(graph:create_job { displayName = "w",
  completeAfterDateTime = graph:now("P1D"),
  sourceTenantId = "12345678-1234-1234-1234-123456789012",
  resourceType = "Users", resources = { "]] .. U1 .. [[" },
  workloads = { "ODSP" } })
]]

local PRINTS = [[
print("via print", 1)
io.write("via io.write\n")
io.output():write("via io.output\n")
io.stdout:write("via io.stdout\n")
local out = io.output()
out:write("via a saved io.output\n")
]] .. JOB .. [[
print("job " .. job.displayName)
]]

describe("crosstenant run: the scenario's output", function()
  teardown(function()
    for _, p in ipairs(temps) do os.remove(p) end
  end)

  local LINES = "via print\t1\nvia io.write\nvia io.output\nvia io.stdout\n" ..
                "via a saved io.output\njob w\n"

  it("stays off stdout with --json: the report decodes", function()
    local s = scenario(PRINTS)
    local r = run("run --json --progress=never " .. s)
    assert.are.equal(0, r.code)
    local report = assert(crosstenant.decode(r.out))
    assert.are.equal(s, report.scenario)
    assert.are.equal(1, report.jobs.total)
    assert.are.equal(LINES, r.err)
  end)

  it("stays off stdout with --quiet", function()
    local r = run("run --quiet " .. scenario(PRINTS))
    assert.are.equal(0, r.code)
    assert.are.equal(LINES, r.err)
    assert.are.equal("== crosstenant report: ", r.out:sub(1, 23))
  end)

  it("goes to stdout before the text report", function()
    local r = run("run --progress=never " .. scenario(PRINTS))
    assert.are.equal(0, r.code)
    assert.are.equal(LINES .. "\n== crosstenant report: ",
                     r.out:sub(1, #LINES + 24))
    assert.are.equal("", r.err)
  end)

  it("leaves io.output and io.stdout as they were after the scenario",
     function()
    -- the report is still on stdout after a scenario that set its own
    -- default output and closed it
    local s = scenario([[
local f = assert(io.open(os.tmpname(), "w"))
io.output(f)
io.write("to the file\n")
f:close()
]])
    local r = run("run --json " .. s)
    assert.are.equal(0, r.code)
    assert.truthy(crosstenant.decode(r.out))
  end)
end)

describe("crosstenant run: child processes' output", function()
  -- os.execute and io.popen children inherit descriptor 1: with --json
  -- and --quiet it points at stderr while the scenario runs
  local CHILD = [[
io.write("lua first\n")
os.execute("echo child via os.execute")
local p = assert(io.popen("echo child via popen 1>&2; echo read back"))
print(p:read("l"))
p:close()
]] .. JOB

  it("stays off stdout with --json: the report decodes", function()
    local r = run("run --json --progress=never " .. scenario(CHILD))
    assert.are.equal(0, r.code)
    assert.are.equal(1, assert(crosstenant.decode(r.out)).jobs.total)
    assert.are.equal("lua first\nchild via os.execute\n" ..
                     "child via popen\nread back\n", r.err)
  end)

  it("stays off stdout with --quiet", function()
    local r = run("run --quiet " .. scenario(CHILD))
    assert.are.equal(0, r.code)
    assert.are.equal("== crosstenant report: ", r.out:sub(1, 23))
    assert.are.equal("lua first\nchild via os.execute\n" ..
                     "child via popen\nread back\n", r.err)
  end)

  it("goes to stdout without them, and stdout is back after an error",
     function()
    local r = run("run --progress=never " .. scenario(CHILD))
    assert.are.equal(0, r.code)
    -- Lua's stdout is buffered on a pipe, the child's line is not: the
    -- order between them is the C library's
    assert.truthy(r.out:find("child via os.execute\n", 1, true))
    assert.truthy(r.out:find("lua first\n", 1, true))
    assert.truthy(r.out:find("read back\n\n== crosstenant report: ", 1,
                             true))
    assert.are.equal("child via popen\n", r.err)
    r = run("run --json " .. scenario("os.execute('echo x')\nerror('no')\n"))
    assert.are.equal(1, r.code)
    assert.are.equal("", r.out)
  end)
end)

describe("crosstenant run: errors", function()
  it("gives a Graph error object the scenario's line", function()
    local s = scenario("local x = 1\nassert(graph:get_job('nope'))\n")
    local r = run("run --progress=never " .. s)
    assert.are.equal(1, r.code)
    assert.are.equal("crosstenant: " .. s .. ":2: 404 itemNotFound: " ..
                     "crossTenantMigrationJob 'nope' was not found.\n", r.err)
  end)

  it("gives graph:must's error its own line, once", function()
    local s = scenario("\n\ngraph:must('get_job', 'nope')\n")
    local r = run("run --json " .. s)
    assert.are.equal(1, r.code)
    assert.are.equal("", r.out)
    assert.are.equal("crosstenant: " .. s .. ":3: 404 itemNotFound: " ..
                     "crossTenantMigrationJob 'nope' was not found.\n", r.err)
  end)

  it("gives run_until's reason through assert, with the line", function()
    local s = scenario(JOB .. "assert(graph:run_until(job.id, " ..
                       "{ 'validatePassed' }, 'PT1H'))\n")
    local r = run("run --progress=never " .. s)
    assert.are.equal(1, r.code)
    assert.matches("^crosstenant: " .. s:gsub("%p", "%%%0") .. ":6: job " ..
                   "'%x+%-[%x-]+' is still submitted at " ..
                   "2025%-11%-06T10:00:00Z %(waited PT1H for " ..
                   "validatePassed%)\n$", r.err)
  end)

  it("names the line of a misspelt status inside a helper of the scenario",
     function()
    local s = scenario(JOB .. "local function wait(st)\n" ..
                       "  local ok = graph:run_until(job.id, { st })\n" ..
                       "  return ok\nend\n" ..
                       "wait('validatepassed')\n")
    local r = run("run " .. s)
    assert.are.equal(1, r.code)
    assert.are.equal("crosstenant: " .. s .. ":7: bad argument #2 to " ..
                     "'run_until' ('validatepassed' is not a job status; " ..
                     "did you mean 'validatePassed'?)\n", r.err)
  end)

  it("gives another error object the scenario's line", function()
    local s = scenario("\nerror(setmetatable({}, { __tostring = " ..
                       "function() return 'mine' end }))\n")
    assert.are.equal("crosstenant: " .. s .. ":2: mine\n",
                     run("run " .. s).err)
  end)
end)

describe("crosstenant run: unapplied outcomes", function()
  local SCRIPT = JOB .. [[
graph:fail { user = "]] .. U9 .. [[", service = "ODSP" }
graph:fail { user = "]] .. U1 .. [[", service = "Exchange",
             code = "MailboxNotFound", message = "No mailbox." }
graph:fail { user = "]] .. U1 .. [[", service = "ODSP" }
graph:fail { user = "]] .. U1 .. [[", service = "ODSP", phase = "migrate",
             status = "error", code = "C", message = "m" }
assert(graph:validate_job(job.id))
assert(graph:run_until(job.id, { "validateFailed" }, "P1D"))
]]

  it("warns in the text report", function()
    local r = run("run -q " .. scenario(SCRIPT))
    assert.are.equal(0, r.code)
    local tail = r.out:match("\nwarning: .*$")
    assert.are.equal("\nwarning: 3 scripted outcomes were never applied " ..
      "(graph:pending()):\n" ..
      "  " .. U9 .. "  ODSP  validate  invalid  scriptedFailure: " ..
      "Scripted failure.  (the user is in no job)\n" ..
      "  " .. U1 .. "  Exchange  validate  invalid  MailboxNotFound: " ..
      "No mailbox.  (no job of the user migrates Exchange)\n" ..
      "  " .. U1 .. "  ODSP  migrate  error  C: m  (the user's ODSP was " ..
      "not migrated after it was scripted)\n", tail)
  end)

  it("lists them in the JSON report", function()
    local r = run("run --json " .. scenario(SCRIPT))
    assert.are.equal(0, r.code)
    local report = assert(crosstenant.decode(r.out))
    assert.are.same({
      { user = U9, service = "ODSP", phase = "validate", status = "invalid",
        code = "scriptedFailure", message = "Scripted failure.",
        reason = "the user is in no job" },
      { user = U1, service = "Exchange", phase = "validate",
        status = "invalid", code = "MailboxNotFound", message = "No mailbox.",
        reason = "no job of the user migrates Exchange" },
      { user = U1, service = "ODSP", phase = "migrate", status = "error",
        code = "C", message = "m",
        reason = "the user's ODSP was not migrated after it was scripted" },
    }, report.unappliedOutcomes)
  end)

  it("says nothing when every outcome applied", function()
    local s = scenario(JOB .. [[
graph:fail { user = "]] .. U1 .. [[", service = "ODSP" }
assert(graph:validate_job(job.id))
assert(graph:run_until(job.id, { "validateFailed" }, "P1D"))
]])
    local r = run("run -q " .. s)
    assert.is_nil(r.out:find("warning", 1, true))
    local report = assert(crosstenant.decode(run("run --json " .. s).out))
    assert.are.same({}, report.unappliedOutcomes)
    assert.are.equal('"unappliedOutcomes":[]',
      run("run --json " .. s).out:match('"unappliedOutcomes":%[%]'))
  end)
end)

describe("examples/demo.lua", function()
  it("runs as its header and make demo-http say", function()
    local p = assert(io.popen(ENV .. "lua5.4 examples/demo.lua 2>&1"))
    local out = p:read("a")
    local _, _, code = p:close()
    assert.are.equal(0, code, out)
    assert.matches("model clock: 2025-11-06T09:00:00Z", out, 1, true)
    local f = assert(io.open("examples/demo.lua"))
    local head = f:read("a"):sub(1, 600)
    f:close()
    assert.matches("make demo-http", head, 1, true)
    local mk = assert(io.open("Makefile")):read("a")
    assert.matches("\ndemo%-http:[^\n]*\n[^\n]*\n[^\n]*examples/demo%.lua", mk)
  end)
end)
