-- crosstenant.encode and crosstenant.decode: Graph's JSON, exactly.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local encode, decode = crosstenant.encode, crosstenant.decode

describe("crosstenant.encode", function()
  it("writes a job in the documented property order", function()
    local g = F.graph()
    local job = assert(g:create_job(F.job_body()))
    local text = encode(job)
    local order = {}
    for k in text:gmatch('"([%w@.]+)":') do order[#order + 1] = k end
    assert.are.same({ "@odata.context", "id", "displayName", "jobType",
      "sourceTenantId", "targetTenantId", "completeAfterDateTime", "status",
      "message", "createdDateTime", "createdBy", "lastUpdatedDateTime",
      "exchangeSettings", "sourceEndpoint", "targetDeliveryDomain",
      "workloads", "resourceType", "resources" }, order)
  end)

  it("writes empty collections as []", function()
    assert.are.equal('{"value":[]}', encode { value = {} })
    assert.are.equal('[]', encode {})
  end)

  it("keeps integers integers and floats floats", function()
    assert.are.equal('[1,-2,9007199254740993,1.5,1.0]',
                     encode { 1, -2, 9007199254740993, 1.5, 1.0 })
    assert.are.equal('[9223372036854775807]', encode { math.maxinteger })
  end)

  it("writes null, booleans and escapes", function()
    assert.are.equal('{"a":null,"b":true,"c":"q\\"\\\\\\n\\u0001"}',
      encode { a = crosstenant.null, b = true, c = 'q"\\\n\1' })
  end)

  -- the order comes from the core's lists (crosstenant.schema): a table
  -- holding every property of a type, and unknown keys, is written in
  -- the schema's order, the unknown keys after it by name
  it("orders each type's properties as crosstenant.schema lists them",
     function()
    for name, t in pairs(crosstenant.schema) do
      local tbl = { ["~x"] = 1, ["0y"] = 2, ["@odata.type"] = t.type }
      for _, p in ipairs(t.properties) do tbl[p] = 1 end
      local order = {}
      for k in encode(tbl):gmatch('"([^"]+)":') do order[#order + 1] = k end
      local want = { "@odata.type" }
      for _, p in ipairs(t.properties) do want[#want + 1] = p end
      want[#want + 1] = "0y"
      want[#want + 1] = "~x"
      assert.are.same(want, order, name)
    end
  end)

  it("orders the envelope and the error body as Graph writes them",
     function()
    assert.are.equal('{"@odata.context":"c","@odata.count":1,' ..
      '"@odata.nextLink":"n","value":[]}',
      encode { value = {}, ["@odata.nextLink"] = "n", ["@odata.count"] = 1,
               ["@odata.context"] = "c" })
    assert.are.equal('{"error":{"code":"c","message":"m","target":"t",' ..
      '"details":[],"innerError":{"date":"d","request-id":"r",' ..
      '"client-request-id":"q"}}}',
      encode { error = { innerError = { ["client-request-id"] = "q",
        ["request-id"] = "r", date = "d" }, details = {}, target = "t",
        message = "m", code = "c" } })
  end)

  it("reads keys and values whatever strings made them", function()
    -- names and values built at run time (not the module's own strings)
    local k = ("Type"):gsub("^", "task")
    local v = ("notStarted"):sub(1)
    local esc = ("a\"b"):sub(1)
    assert.are.equal('{"id":"x","taskType":"notStarted","status":"a\\"b",' ..
                     '"service\\n":1}',
      encode { [k] = v, id = "x", status = esc, ["service\n"] = 1 })
  end)

  it("keeps working after the module is opened again", function()
    local core = require "crosstenant.core"
    local old = core.encode
    package.loaded["crosstenant.core"] = nil
    assert.are_not.equal(old, require("crosstenant.core").encode)
    package.loaded["crosstenant.core"] = core
    collectgarbage()
    collectgarbage()
    -- fresh strings may now sit where the second opening's strings were
    local junk = {}
    for i = 1, 2000 do junk[i] = ("x\"%d"):format(i) end
    assert.are.equal('{"status":"notStarted","x\\"1":"x\\"2"}',
                     old { status = "notStarted", [junk[1]] = junk[2] })
  end)

  it("writes a table of more than 32 members in the same order", function()
    local t, want = { id = "i", status = "s" }, { '"id":"i"', '"status":"s"' }
    for i = 1, 40 do
      t[("k%02d"):format(i)] = i
      want[#want + 1] = ('"k%02d":%d'):format(i, i)
    end
    assert.are.equal("{" .. table.concat(want, ",") .. "}", encode(t))
  end)

  it("puts unknown keys after the known ones, by name", function()
    assert.are.equal('{"id":"1","alpha":2,"zeta":1}',
                     encode { zeta = 1, alpha = 2, id = "1" })
  end)

  it("raises on values JSON can't hold", function()
    assert.has_error(function() encode { f = print } end,
                     "encode: can't encode a function")
    assert.has_error(function() encode { 0 / 0 } end,
                     "encode: number is not finite")
    assert.has_error(function() encode { [1] = 1, [3] = 3 } end)
    local t = {}
    t.self = t
    assert.has_error(function() encode(t) end,
                     "encode: table nested too deep (cycle?)")
  end)

  it("writes text that lua-cjson reads back to the same values", function()
    local cjson = require "cjson"
    local g = F.graph()
    local job = assert(g:create_job(F.job_body()))
    job.exchangeSettings = crosstenant.null
    local back = cjson.decode(encode(job))
    assert.are.equal(cjson.null, back.exchangeSettings)
    back.exchangeSettings = crosstenant.null
    assert.are.same(job, back)
    assert.are.equal(crosstenant.null, cjson.null)
  end)

  it("round-trips through decode", function()
    local g = F.graph()
    local job = assert(g:create_job(F.job_body()))
    assert.are.same(job, decode(encode(job)))
  end)
end)

describe("crosstenant.decode", function()
  it("keeps integers and nulls", function()
    local v = decode('{"a":1,"b":1.0,"c":null,"d":[]}')
    assert.are.equal("integer", math.type(v.a))
    assert.are.equal("float", math.type(v.b))
    assert.are.equal(crosstenant.null, v.c)
    assert.are.same({}, v.d)
  end)

  it("answers nil and the position on bad JSON", function()
    local v, msg = decode('[1,]')
    assert.is_nil(v)
    assert.are.equal("trailing comma at position 2", msg)
  end)
end)
