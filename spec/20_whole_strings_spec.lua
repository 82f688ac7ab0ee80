-- Strings are kept whole (behavior.md, "Validation, everywhere"): every
-- character JSON can carry, U+0000 included, survives storage and comes
-- back identical; a name with a NUL is not the name cut at the NUL.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local NAME = "wave\0two"
local JNAME = "wave\\u0000two"          -- the same, as JSON text

-- a job body as JSON text with `name` (JSON-escaped) as its displayName
local function job_json(jname, over)
  local b = F.job_body(over)
  b.displayName = "@NAME@"
  return (crosstenant.encode(b):gsub("@NAME@", jname))
end

local function list_names(graph, query)
  local page = assert(graph:list_jobs(query))
  local out = {}
  for i, j in ipairs(page.value) do out[i] = j.displayName end
  return out
end

describe("a displayName holding U+0000", function()
  local graph
  before_each(function() graph = F.graph() end)

  local ways = {
    ["a JSON body"] = function(g) return g:create_job(job_json(JNAME)) end,
    ["a Lua table"] = function(g)
      return g:create_job(F.job_body { displayName = NAME })
    end,
    ["graph:request with JSON"] = function(g)
      local status, body = g:request("POST", F.JOBS, job_json(JNAME))
      assert.are.equal(201, status)
      return body
    end,
    ["graph:request with a table"] = function(g)
      local status, body = g:request("POST", F.JOBS,
                                     F.job_body { displayName = NAME })
      assert.are.equal(201, status)
      return body
    end,
  }
  for way, create in pairs(ways) do
    it("comes back whole when created from " .. way, function()
      local job = assert(create(graph))
      assert.are.equal(NAME, job.displayName)
      assert.are.equal(NAME, assert(graph:get_job(job.id)).displayName)
      assert.are.same({ NAME }, list_names(graph))
      assert.matches('"displayName":"wave\\u0000two"',
                     crosstenant.encode(job), 1, true)
    end)
  end

  it("is written as \\u0000 over graph:request", function()
    local job = assert(graph:create_job(job_json(JNAME)))
    local status, body = graph:request("GET", F.JOBS .. "/" .. job.id)
    assert.are.equal(200, status)
    assert.are.equal(NAME, body.displayName)
    assert.truthy(crosstenant.encode(body):find('"wave\\u0000two"', 1, true))
  end)

  it("does not hold the name cut at the NUL: 'wave' is free", function()
    local first = assert(graph:create_job(job_json(JNAME)))
    F.rejects(404, "itemNotFound",
      "crossTenantMigrationJob 'wave' was not found.")(graph:get_job("wave"))
    local second = assert(graph:create_job(F.job_body { displayName = "wave",
      resources = F.users(1, "bbbbbbbb") }))
    assert.are.equal("wave", second.displayName)
    assert.are.equal(first.id, assert(graph:get_job(NAME)).id)
    assert.are.equal(second.id, assert(graph:get_job("wave")).id)
    -- and the other way round: 'wave' first, then the longer name
    local g2 = F.graph()
    assert(g2:create_job(F.job_body { displayName = "wave" }))
    assert(g2:create_job(F.job_body { displayName = NAME,
      resources = F.users(1, "bbbbbbbb") }))
  end)

  it("is unique on the whole name, case-insensitively", function()
    assert(graph:create_job(job_json(JNAME)))
    local before = F.snapshot(graph)
    F.rejects(409, "nameAlreadyExists", "A job named 'WAVE?TWO' already " ..
      "exists in this tenant.")(graph:create_job(F.job_body {
        displayName = "WAVE\0TWO", resources = F.users(1, "bbbbbbbb") }))
    assert.are.equal(before, F.snapshot(graph))
    -- a different character after the NUL is a different name
    assert(graph:create_job(F.job_body { displayName = "wave\0twO!",
      resources = F.users(1, "cccccccc") }))
  end)

  it("addresses the job by name, in the path and the alternate key",
     function()
    local job = assert(graph:create_job(job_json(JNAME)))
    local status, body = graph:request("GET", F.JOBS .. "/wave%00two")
    assert.are.equal(200, status)
    assert.are.equal(job.id, body.id)
    status, body = graph:request("GET", F.JOBS ..
                                 "(displayName='wave%00two')")
    assert.are.equal(200, status)
    assert.are.equal(job.id, body.id)
    status = graph:request("GET", F.JOBS .. "(displayName='wave')")
    assert.are.equal(404, status)
    status, body = graph:request("GET", F.JOBS .. "/" .. job.id ..
                                 "/users")
    assert.are.equal(200, status)
    assert.are.equal(3, #body.value)
  end)

  it("matches $filter eq, startswith and $orderby on the whole name",
     function()
    assert(graph:create_job(job_json(JNAME)))
    assert(graph:create_job(F.job_body { displayName = "wave",
      resources = F.users(1, "bbbbbbbb") }))
    assert(graph:create_job(F.job_body { displayName = "wave\0one",
      resources = F.users(1, "cccccccc") }))
    assert.are.same({ NAME },
      list_names(graph, { filter = "displayName eq 'wave\0two'" }))
    assert.are.same({ "wave" },
      list_names(graph, { filter = "displayName eq 'wave'" }))
    assert.are.same({ "wave\0one", NAME },
      list_names(graph, { filter = "startswith(displayName, 'wave\0')",
                          orderby = "displayName" }))
    assert.are.same({ "wave", "wave\0one", NAME },
      list_names(graph, { orderby = "displayName" }))
    local status, body = graph:request("GET", F.JOBS ..
      "?$filter=displayName%20eq%20'wave%00two'")
    assert.are.equal(200, status)
    assert.are.equal(1, #body.value)
    assert.are.equal(NAME, body.value[1].displayName)
  end)
end)

describe("other stored strings holding U+0000", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("keeps exchangeSettings whole", function()
    local text = crosstenant.encode(F.job_body()):gsub(
      '"sampleEndpointText"', '"ep\\u0000x"'):gsub(
      '"xtmigration.onmicrosoft.com"', '"a\\u0000b.example"')
    local job = assert(graph:create_job(text))
    assert.are.same({ sourceEndpoint = "ep\0x",
                      targetDeliveryDomain = "a\0b.example" },
                    assert(graph:get_job(job.id)).exchangeSettings)
    local t = assert(graph:create_job(F.job_body { displayName = "t",
      resources = F.users(1, "bbbbbbbb"),
      exchangeSettings = { sourceEndpoint = "\0", targetDeliveryDomain =
        "d\0" } }))
    assert.are.same({ sourceEndpoint = "\0", targetDeliveryDomain = "d\0" },
                    assert(graph:get_job(t.id)).exchangeSettings)
  end)

  it("keeps createdBy from a token's upn whole", function()
    local g = F.graph { require_token = true }
    local token = F.token('{"tid":"' .. F.TARGET .. '","upn":"a\\u0000b@x",' ..
                          '"scp":"' .. F.WRITE .. '"}')
    local status, body = g:request("POST", F.JOBS, F.job_body(),
                                   { Authorization = token })
    assert.are.equal(201, status)
    assert.are.equal("a\0b@x", body.createdBy)
    local _, page = g:request("GET", F.JOBS .. "?$filter=createdBy%20eq%20" ..
                              "'a%00b@x'", nil, { Authorization = token })
    assert.are.equal(1, #page.value)
  end)

  it("refuses a resourceType or taskType that only starts right", function()
    local text = crosstenant.encode(F.job_body()):gsub('"Users"',
                                                       '"Users\\u0000"')
    F.rejects(400, "invalidRequest", "Property 'resourceType' has an " ..
      "unsupported value 'Users?'; supported: Users.", "invalidProperty")(
      graph:create_job(text))
    local job = assert(graph:create_job(F.job_body()))
    F.rejects(400, "invalidRequest", "Property 'taskType' has an " ..
      "unsupported value 'user?'; supported: user.", "invalidProperty")(
      graph:create_task(job.id, { taskType = "user\0",
        lastUpdatedDateTime = F.NOW }))
  end)

  it("refuses a property name with a NUL in it", function()
    local text = crosstenant.encode(F.job_body()):gsub('"workloads"',
                                                       '"workloads\\u0000"')
    F.rejects(400, "invalidRequest", "Property 'workloads?' does not exist " ..
      "on type 'microsoft.graph.crossTenantMigrationJob'.",
      "invalidProperty")(graph:create_job(text))
    local body = F.job_body()
    body["resources\0"], body.resources = body.resources, nil
    F.rejects(400, "invalidRequest", "Property 'resources?' does not exist " ..
      "on type 'microsoft.graph.crossTenantMigrationJob'.",
      "invalidProperty")(graph:create_job(body))
  end)

  local function entry_body(json)
    local cs = '[{"service":"Exchange","status":"syncing",' ..
      '"message":"m\\u0000n","errors":[{"code":"c\\u0000d",' ..
      '"message":"e\\u0000f"}]}]'
    if json then
      return '{"taskType":"user","lastUpdatedDateTime":"' .. F.NOW ..
             '","currentStatus":' .. cs .. '}'
    end
    return { taskType = "user", lastUpdatedDateTime = F.NOW,
             currentStatus = { { service = "Exchange", status = "syncing",
               message = "m\0n",
               errors = { { code = "c\0d", message = "e\0f" } } } } }
  end
  for _, json in ipairs { true, false } do
    it("keeps a task entry's message and errors whole (" ..
       (json and "JSON" or "table") .. ")", function()
      local job = assert(graph:create_job(F.job_body()))
      local t = assert(graph:create_task(job.id, entry_body(json)))
      local e = t.currentStatus[4]
      assert.are.same({ "m\0n", "c\0d", "e\0f" },
                      { e.message, e.errors[1].code, e.errors[1].message })
      e = assert(graph:get_task(job.id, t.id)).currentStatus[4]
      assert.are.same({ "m\0n", "c\0d", "e\0f" },
                      { e.message, e.errors[1].code, e.errors[1].message })
      local page = assert(graph:list_tasks(job.id, {
        filter = "currentStatus/any(s: s/message eq 'm\0n')" }))
      assert.are.equal(1, #page.value)
      assert.are.equal(t.id, page.value[1].id)
      assert.truthy(crosstenant.encode(e):find('"message":"m\\u0000n"', 1,
                                               true))
    end)
  end

  it("keeps a scripted outcome's code and message whole", function()
    local g = F.graph { timings = { validate_submitted = 1,
      validate_processing = 1, validate_in_progress = 1 } }
    local job = assert(g:create_job(F.job_body()))
    assert(g:fail { user = F.RESOURCES[1], service = "ODSP",
                    code = "Bad\0Code", message = "no\0site" })
    assert(g:validate_job(job.id))
    assert.is_true(g:run_until(job.id, { "validateFailed" }, "P1D"))
    local e = assert(g:get_task(job.id, F.RESOURCES[1])).currentStatus[1]
    assert.are.same({ { code = "Bad\0Code", message = "no\0site" } },
                    e.errors)
  end)
end)

describe("a $skiptoken holding U+0000", function()
  it("is refused whole, not read up to the NUL", function()
    local graph = F.graph()
    for i = 1, 3 do
      assert(graph:create_job(F.job_body { displayName = "j" .. i,
        resources = F.users(1, string.format("%08x", i)) }))
    end
    local page = assert(graph:list_jobs { top = 1 })
    local token = page["@odata.nextLink"]:match("%$skiptoken=([^&]+)")
    assert(graph:list_jobs { top = 1, skiptoken = token })
    F.rejects(400, "invalidRequest", "The $skiptoken value '" .. token ..
      "?x' is not valid for this collection and query.",
      "invalidQueryOption")(graph:list_jobs { top = 1,
                                              skiptoken = token .. "\0x" })
    -- the same for a job's tasks
    local job = assert(graph:create_job(F.job_body()))
    page = assert(graph:list_tasks(job.id, { top = 1 }))
    token = page["@odata.nextLink"]:match("%$skiptoken=([^&]+)")
    assert(graph:list_tasks(job.id, { top = 1, skiptoken = token }))
    F.rejects(400, "invalidRequest", "The $skiptoken value '" .. token ..
      "?' is not valid for this collection and query.",
      "invalidQueryOption")(graph:list_tasks(job.id, { top = 1,
                                                       skiptoken = token .. "\0" }))
  end)
end)
