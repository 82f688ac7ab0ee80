-- The `crosstenant` command, run as a process from the repository root:
-- `lua5.4 bin/crosstenant ...`, stdout and stderr captured apart.  The
-- child loads the core this suite loads (the build flavour under test,
-- plain, asan or cov) through LUA_PATH/LUA_CPATH; one test runs it with
-- neither, as a user would, to check that the launcher finds the tree.
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
local UNSET = "env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "
-- the tree's Lua first, then the default path (argparse, from Debian)
local ENV = UNSET .. "LUA_PATH='" .. ROOT .. "/lua/?.lua;" .. ROOT ..
            "/lua/?/init.lua;;' LUA_CPATH='" .. CPATH .. "' "

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spew(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local temps = {}

--- A scenario file with this text; removed after the suite.
local function scenario(text)
  local path = os.tmpname()
  temps[#temps + 1] = path
  spew(path, text)
  return path
end

--- Runs `lua5.4 bin/crosstenant <args>` (args is shell text); answers
-- { out =, err =, code = }.  `env` replaces the environment settings,
-- `bin` the path of the command.
local function run(args, env, bin)
  local errfile = os.tmpname()
  local pipe = assert(io.popen((env or ENV) .. "lua5.4 " ..
                               (bin or "bin/crosstenant") .. " " .. args ..
                               " 2>" .. errfile, "r"))
  local out = pipe:read("a")
  local _, _, code = pipe:close()
  local err = slurp(errfile)
  os.remove(errfile)
  return { out = out, err = err, code = code }
end

local SOURCE = "12345678-1234-1234-1234-123456789012"
local U1 = "aaaaaaaa-0000-4000-8000-000000000001"
local U2 = "aaaaaaaa-0000-4000-8000-000000000002"

-- two users, ODSP and Exchange; U2's ODSP fails at the cutover
local SMALL = [[
local U = { "]] .. U1 .. [[", "]] .. U2 .. [[" }
local job = assert(graph:create_job { displayName = "cli batch",
  completeAfterDateTime = graph:now(), sourceTenantId = "]] .. SOURCE .. [[",
  resourceType = "Users", resources = U, workloads = { "Exchange", "ODSP" },
  exchangeSettings = { sourceEndpoint = "e",
                       targetDeliveryDomain = "d.onmicrosoft.com" } })
graph:fail { user = U[2], service = "ODSP", phase = "migrate",
             code = "SiteLocked", message = "The site is read-only." }
print("validating " .. job.displayName)
assert(graph:validate_job(job.id))
assert(graph:run_until(job.id, { "validatePassed" }, "P1D"))
assert(graph:migrate_job(job.id))
graph:advance("P1D")
]]

-- 3 jobs of 20 users, validation and migration with the store's failure
-- rate; whatever fails stays failed
local RANDOM = [[
local jobs = {}
for b = 1, 3 do
  local users = {}
  for i = 1, 20 do
    users[i] = string.format("bbbbbbbb-0000-4000-8000-%06d%06d", b, i)
  end
  jobs[b] = assert(graph:create_job { displayName = "random " .. b,
    completeAfterDateTime = graph:now(), sourceTenantId = "]] .. SOURCE .. [[",
    resourceType = "Users", resources = users,
    exchangeSettings = { sourceEndpoint = "e", targetDeliveryDomain = "d" } })
  assert(graph:validate_job(jobs[b].id))
end
graph:advance("PT1H")
for _, job in ipairs(jobs) do graph:migrate_job(job.id) end
graph:advance("P1D")
]]

describe("crosstenant (the command)", function()
  local small, random
  setup(function()
    small = scenario(SMALL)
    random = scenario(RANDOM)
  end)
  teardown(function()
    for _, p in ipairs(temps) do os.remove(p) end
  end)

  it("loads the module and the core under test", function()
    local s = scenario([[
      print(package.searchpath("crosstenant", package.path))
      print(package.searchpath("crosstenant.core", package.cpath))
    ]])
    local r = run("run --quiet " .. s)
    assert.are.equal(0, r.code)
    assert.are.equal(ROOT .. "/lua/crosstenant/init.lua\n" ..
                     CORE:gsub("^%./", ROOT .. "/") .. "\n", r.err)
  end)

  it("finds the tree's module and plain build without LUA_PATH", function()
    local so = io.open("build/plain/crosstenant/core.so")
    if not so then
      pending("needs build/plain/crosstenant/core.so")
      return
    end
    so:close()
    local s = scenario([[
      print(package.searchpath("crosstenant", package.path))
      print(package.searchpath("crosstenant.core", package.cpath))
    ]])
    local r = run("run --quiet " .. s, UNSET ..
                  "-u LUA_PATH -u LUA_CPATH ")
    assert.are.equal(0, r.code)
    assert.are.equal("bin/../lua/crosstenant/init.lua\n" ..
                     "bin/../build/plain/crosstenant/core.so\n", r.err)
    r = run("--version", "cd / && " .. UNSET .. "-u LUA_PATH -u LUA_CPATH ",
            ROOT .. "/bin/crosstenant")
    assert.are.same({ 0, crosstenant._VERSION .. "\n" }, { r.code, r.out })
  end)

  it("prints progress lines, the scenario's output and the report",
     function()
    local r = run("run " .. small)
    assert.are.equal(0, r.code)
    assert.are.equal("", r.err)
    assert.are.equal([[
validating cli batch
[+PT0S] 2025-11-06T09:00:00Z  1 job: validateSubmitted 1
[+PT1M] 2025-11-06T09:01:00Z  1 job: validateProcessing 1
[+PT3M] 2025-11-06T09:03:00Z  1 job: validateInProgress 1
[+PT13M] 2025-11-06T09:13:00Z  1 job: validatePassed 1
[+PT18M] 2025-11-06T09:18:00Z  1 job: inProgress 1
[+PT4H18M] 2025-11-06T13:18:00Z  1 job: cuttingOver 1
[+PT4H48M] 2025-11-06T13:48:00Z  1 job: completedWithErrors 1

== crosstenant report: ]] .. small .. "\n" .. [[
seed 1, failure rate 0
model time 2025-11-06T09:00:00Z to 2025-11-07T09:13:00Z: P1DT13M (87180 s)

jobs: 1
  completedWithErrors       1

users: 2
               ODSP  Exchange
  completed       1         2
  failed          1         0

failures: 1
  cli batch  ]] .. U2 .. [[  ODSP  failed  SiteLocked: The site is read-only.
]], r.out)
  end)

  it("prints the report alone with --quiet; the scenario's output goes " ..
     "to stderr", function()
    local r = run("run --quiet " .. small)
    assert.are.equal(0, r.code)
    assert.are.equal("validating cli batch\n", r.err)
    assert.are.equal("== crosstenant report: " .. small .. "\n",
                     r.out:match("^[^\n]*\n"))
    -- the same report as with progress: watching changes nothing
    local full = run("run " .. small).out
    assert.are.equal(r.out, full:sub(-#r.out))
    assert.are.equal(r.out, run("run -q " .. small).out)
  end)

  it("prints no progress with --progress=never", function()
    local r = run("run --progress=never " .. small)
    assert.are.equal(0, r.code)
    assert.are.equal("validating cli batch\n\n== crosstenant report: ",
                     r.out:sub(1, 45))
    assert.is_nil(r.out:find("[+", 1, true))
  end)

  it("draws a live line with \\r under --progress always", function()
    local r = run("run --progress always " .. small)
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("\r[+PT1M] 2025-11-06T09:01:00Z  1 job: " ..
                             "validateProcessing 1", 1, true))
    assert.is_nil(r.out:find("validateProcessing 1\n", 1, true))
    assert.truthy(r.out:find("completedWithErrors 1\n\n== crosstenant " ..
                             "report", 1, true))
  end)

  it("prints the report as JSON with --json, and nothing else on stdout",
     function()
    local r = run("run --json " .. small)
    assert.are.equal(0, r.code)
    assert.are.equal("\n", r.out:sub(-1))
    local rep = assert(crosstenant.decode(r.out:sub(1, -2)))
    assert.are.equal(crosstenant.encode(rep), r.out:sub(1, -2))
    assert.are.same({ small, 1, 0, "2025-11-06T09:00:00Z",
                      "2025-11-07T09:13:00Z", 87180, "P1DT13M" },
                    { rep.scenario, rep.seed, rep.failureRate, rep.start,
                      rep["end"], rep.modelSeconds, rep.modelDuration })
    assert.are.equal(1, rep.jobs.total)
    assert.are.equal(1, rep.jobs.byStatus.completedWithErrors)
    assert.are.equal(0, rep.jobs.byStatus.completed)
    local job = rep.jobs.list[1]
    assert.are.same({ "cli batch", "completedWithErrors", "migrate", 2,
                      "1 of 2 users failed to migrate." },
                    { job.displayName, job.status, job.jobType, job.users,
                      job.message })
    assert.are.equal(2, rep.users.total)
    assert.are.equal(2, rep.users.byService.Exchange.completed)
    assert.are.equal(1, rep.users.byService.ODSP.completed)
    assert.are.equal(1, rep.users.byService.ODSP.failed)
    assert.are.equal(0, rep.users.byService.Teams.completed)
    assert.are.same({ { job = job.id, displayName = "cli batch", user = U2,
                        service = "ODSP", status = "failed",
                        code = "SiteLocked",
                        message = "The site is read-only." } }, rep.failures)
    -- progress and the scenario's output went to stderr
    assert.truthy(r.err:find("^validating cli batch\n%[%+PT0S%]"))
  end)

  it("gives the same bytes for the same seed, and others for another",
     function()
    local a = run("run --seed 5 --failure-rate 0.02 " .. random)
    local b = run("run --failure-rate=0.02 --seed=5 " .. random)
    assert.are.equal(0, a.code)
    assert.are.equal(a.out, b.out)
    assert.truthy(a.out:find("seed 5, failure rate 0.02\n", 1, true))
    local rep = crosstenant.decode(run("run --json --seed 5 " ..
                                       "--failure-rate 0.02 " .. random).out)
    assert.is_true(#rep.failures > 0)
    assert.are.equal(3, rep.jobs.total)
    assert.are.equal(60, rep.users.total)
    for _, f in ipairs(rep.failures) do
      assert.truthy(f.code == "validationFailed" or
                    f.code == "migrationFailed", f.code)
    end
    local c = run("run --seed 6 --failure-rate 0.02 " .. random)
    assert.are_not.equal(a.out, c.out)
  end)

  it("starts the clock at --now", function()
    local r = run("run --quiet --now 2026-01-02T03:04:05+01:00 " .. small)
    assert.are.equal(0, r.code)
    assert.truthy(r.out:find("\nmodel time 2026-01-02T02:04:05Z to " ..
                             "2026-01-03T02:17:05Z: P1DT13M (87180 s)\n", 1,
                             true))
  end)

  it("passes the store and the ARGs to the script", function()
    local s = scenario([[
      local g, a, b = ...
      print(select("#", ...), g == graph, getmetatable(g) ==
            require("crosstenant").Graph, a, b)
    ]])
    local r = run("run --quiet " .. s .. " one -- --two")
    assert.are.equal(0, r.code)
    assert.are.equal("3\ttrue\ttrue\tone\t--two\n", r.err)
  end)

  it("runs from any directory", function()
    local r = run("run --quiet " .. small, "cd / && " .. ENV,
                  ROOT .. "/bin/crosstenant")
    assert.are.same({ 0, "validating cli batch\n" }, { r.code, r.err })
    assert.truthy(r.out:find("\nfailures: 1\n", 1, true))
  end)

  it("prints usage with --help and exits 0", function()
    local r = run("run --help")
    assert.are.equal(0, r.code)
    assert.are.equal("Usage: crosstenant run [options] SCENARIO.lua " ..
                     "[ARG...]\n", r.out:match("^[^\n]*\n"))
    assert.truthy(r.out:find("\n   --failure-rate X ", 1, true))
    assert.are.equal(r.out, run("run -h").out)
    assert.are.equal("", r.err)
    r = run("--help")
    assert.are.equal(0, r.code)
    assert.are.equal("Usage: crosstenant [-h] [--version] [<command>] ...\n",
                     r.out:match("^[^\n]*\n"))
    for _, cmd in ipairs { "run", "serve", "cert" } do
      assert.truthy(r.out:find("\n   " .. cmd .. " ", 1, true), cmd)
    end
  end)

  describe("exits 1 when the scenario raises", function()
    it("with the error and its position on stderr, no report", function()
      local s = scenario("print('before')\nerror('boom')\n")
      local r = run("run --progress=never " .. s)
      assert.are.equal(1, r.code)
      assert.are.equal("before\n", r.out)
      assert.are.equal("crosstenant: " .. s .. ":2: boom\n", r.err)
    end)

    it("with an error object's text", function()
      local s = scenario("error(select(2, graph:get_job('nope')))\n")
      local r = run("run " .. s)
      assert.are.equal(1, r.code)
      assert.are.equal("crosstenant: " .. s .. ":1: 404 itemNotFound: " ..
                       "crossTenantMigrationJob 'nope' was not found.\n", r.err)
      s = scenario("error({})\n")
      assert.are.equal("crosstenant: " .. s .. ":1: (error object is a " ..
                       "table value)\n", run("run " .. s).err)
    end)

    it("with the scenario's position for bad arguments", function()
      local s = scenario("graph:advance(1)\ngraph:advance(-1)\n")
      local r = run("run " .. s)
      assert.are.equal(1, r.code)
      assert.are.equal("crosstenant: " .. s .. ":2: bad argument #1 to " ..
                       "'advance' (seconds must be >= 0)\n", r.err)
      s = scenario("\ngraph:run_until('x')\n")
      r = run("run --json " .. s)
      assert.are.same({ 1, "", "crosstenant: " .. s .. ":2: bad argument " ..
                        "#2 to 'run_until' (table expected, got nil)\n" },
                      { r.code, r.out, r.err })
    end)

    it("when the scenario does not compile", function()
      local s = scenario("local x = = 1\n")
      local r = run("run " .. s)
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      assert.are.equal("crosstenant: " .. s .. ":1: unexpected symbol " ..
                       "near '='\n", r.err)
    end)
  end)

  describe("exits 2 on a usage error", function()
    local cases = {
      { "", "missing command" },
      { "walk x.lua", "unknown command 'walk'" },
      { "run", "missing SCENARIO.lua" },
      { "run --colour x.lua", "unknown option '--colour'" },
      { "run -x x.lua", "unknown option '-x'" },
      { "run --seed", "option '--seed' requires an argument" },
      { "run --seed 1.5 x.lua", "--seed must be an integer, not '1.5'" },
      { "run --failure-rate 2 x.lua",
        "--failure-rate must be a number from 0 to 1, not '2'" },
      { "run --failure-rate=lots x.lua",
        "--failure-rate must be a number from 0 to 1, not 'lots'" },
      { "run --progress=sometimes x.lua",
        "--progress must be auto, always or never, not 'sometimes'" },
      { "run --json=yes x.lua", "option '--json' does not take arguments" },
      -- a negative number after a flag that takes a value is its value
      { "run --failure-rate -1 x.lua",
        "--failure-rate must be a number from 0 to 1, not '-1'" },
      { "run --retry-after -3 x.lua", "--retry-after must be a whole " ..
        "number of seconds from 1 to 86400, not '-3'" },
      { "run --seed -1.5 x.lua", "--seed must be an integer, not '-1.5'" },
      { "run --throttle 0/1s x.lua", "--throttle needs 1 request or more " ..
        "per window, not '0/1s'" },
      { "run --fault-rate 429=2 x.lua", "--fault-rate's rates must be " ..
        "from 0 to 1, not 2 (in '429=2')" },
    }
    for _, c in ipairs(cases) do
      it(c[2], function()
        local r = run(c[1])
        assert.are.same({ 2, "", "crosstenant: " .. c[2] .. "\n" ..
                          "Try 'crosstenant --help'.\n" },
                        { r.code, r.out, r.err })
      end)
    end

    it("takes a negative --seed as the seed, and `--` ends the options",
       function()
      local r = run("run --json --seed -5 " .. small .. " -- --seed -7")
      assert.are.equal(0, r.code, r.err)
      assert.are.equal(-5, crosstenant.decode(r.out).seed)
    end)

    it("--now that is not a date-time", function()
      local r = run("run --now yesterday " .. small)
      assert.are.same({ 2, "", "crosstenant: --now must be an ISO 8601 " ..
                        "date-time, not 'yesterday' (invalid format)\n" ..
                        "Try 'crosstenant --help'.\n" },
                      { r.code, r.out, r.err })
    end)

    it("a scenario that can't be read", function()
      local r = run("run /nonexistent/scenario.lua")
      assert.are.same({ 2, "", "crosstenant: can't read scenario " ..
                        "'/nonexistent/scenario.lua'\n" },
                      { r.code, r.out, r.err })
    end)
  end)

  describe("the examples", function()
    it("01_clean_migration migrates 500 users", function()
      local r = run("run --json examples/01_clean_migration.lua")
      assert.are.equal(0, r.code)
      local rep = assert(crosstenant.decode(r.out))
      assert.are.same({ 2, 2, 500, 0, "P1DT30M" },
                      { rep.jobs.total, rep.jobs.byStatus.completed,
                        rep.users.total, #rep.failures, rep.modelDuration })
      for _, svc in ipairs { "ODSP", "Meeting", "Teams", "Exchange" } do
        assert.are.equal(500, rep.users.byService[svc].completed)
      end
    end)

    it("02_fix_validation fails validation, then passes and completes",
       function()
      local r = run("run --quiet examples/02_fix_validation.lua")
      assert.are.equal(0, r.code)
      assert.truthy(r.err:find("validateFailed: Validation failed for 4 " ..
                               "of 120 users.\n", 1, true))
      assert.truthy(r.out:find("\njobs: 1\n  completed       1\n\nusers: " ..
                               "120\n", 1, true))
      assert.truthy(r.out:find("\nfailures: 0\n$"))
    end)

    it("03_failures_and_retry retries until every user completed",
       function()
      local r = run("run --quiet examples/03_failures_and_retry.lua")
      assert.are.equal(0, r.code)
      assert.truthy(r.err:find("retry batch 4, migration 1: failed: All 2 " ..
                               "users failed to migrate.\n", 1, true))
      assert.truthy(r.err:find("retry batch 1, migration 3: completed", 1,
                               true))
      assert.truthy(r.out:find("\njobs: 4\n  completed       4\n\nusers: " ..
                               "62\n", 1, true))
      r = run("run --quiet --failure-rate 0.01 " ..
              "examples/03_failures_and_retry.lua")
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("\nfailures: 0\n$"))
    end)
  end)
end)
