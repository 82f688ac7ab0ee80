-- What users really send: malformed JSON, nulls, wrong types, odd numbers,
-- oversized strings and bodies, bad UTF-8, duplicate keys, deep nesting,
-- odd URLs, methods, headers and tokens.  Each goes through graph:request
-- against one store; every refusal asserts the exact status, code,
-- message and innerError.code, and that the full listing of the store is
-- byte-identical afterwards.  Limits are tested at the limit and one past.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS
local null = crosstenant.null
local encode = crosstenant.encode
local NOT_JSON = "The request body is not valid JSON: "
local JOB_TYPE = "microsoft.graph.crossTenantMigrationJob"

local users = F.users

--- the task body the seed documents, with `over` applied
local function task_body(over)
  local b = { taskType = "user", lastUpdatedDateTime = F.NOW }
  for k, v in pairs(over or {}) do b[k] = v end
  return b
end

describe("graph:request with adversarial input", function()
  local graph, job

  setup(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  --- Sends r = { method, url, body, headers, status, code, message,
  -- inner } and asserts the refusal and an unchanged store.
  local function refuses(r)
    local before = F.snapshot(graph)
    local status, body = graph:request(r[1], r[2], r[3], r[4])
    assert.are.same({ status = r[5], code = r[6], message = r[7],
                      inner = r[8] },
                    { status = status,
                      code = type(body) == "table" and body.error and
                             body.error.code,
                      message = type(body) == "table" and body.error and
                                body.error.message,
                      inner = type(body) == "table" and body.error and
                              body.error.innerError.code })
    assert.are.equal(before, F.snapshot(graph), "the store changed")
  end

  local function bad_json(url, text, message, status, method)
    refuses { method or "POST", url, text, nil, status or 400,
              "invalidRequest", NOT_JSON .. message .. "." }
  end

  local function bad_property(url, body, message, method)
    refuses { method or "POST", url, body, nil, 400, "invalidRequest",
              message, "invalidProperty" }
  end

  -- ------------------------------------------------------------------
  describe("malformed JSON", function()
    local cases = {
      { "after {", '{x}', "unexpected character 'x' at position 1" },
      { "cut after {", '{', "unexpected end of input at position 1" },
      { "after a key", '{"displayName" "a"}',
        "unexpected character '\"' at position 15" },
      { "cut after a key", '{"displayName"',
        "unexpected end of input at position 14" },
      { "after :", '{"displayName":}',
        "unexpected character '}' at position 15" },
      { "cut after :", '{"displayName":',
        "unexpected end of input at position 15" },
      { "after a value", '{"displayName":"a" "b":1}',
        "unexpected character '\"' at position 19" },
      { "a trailing comma in an object", '{"displayName":"a",}',
        "trailing comma at position 18" },
      { "a trailing comma in an array", '{"resources":[1,]}',
        "trailing comma at position 15" },
      { "a missing comma in an array", '{"resources":[1 2]}',
        "unexpected character '2' at position 16" },
      { "a leading comma in an array", '{"resources":[,1]}',
        "unexpected character ',' at position 14" },
      { "cut in an array", '{"resources":[',
        "unexpected end of input at position 14" },
      { "cut in a string", '{"displayName":"ab',
        "unterminated string at position 15" },
      { "a raw newline in a string", '{"displayName":"a\nb"}',
        "control character '\\x0a' in string at position 17" },
      { "an unknown escape", '{"displayName":"\\x"}',
        "invalid escape at position 16" },
      { "a cut escape", '{"displayName":"\\',
        "unterminated string at position 15" },
      { "a short \\u escape", '{"displayName":"\\u12"}',
        "invalid \\u escape at position 16" },
      { "a \\u escape cut by the end", '{"displayName":"\\u12',
        "unterminated string at position 15" },
      { "a high surrogate cut by the end", '{"displayName":"\\ud83d\\',
        "unterminated string at position 15" },
      { "a high surrogate and a short escape",
        '{"displayName":"\\ud83d\\u"}', "invalid \\u escape at position 22" },
      { "garbage after the value", '{} x',
        "unexpected character 'x' at position 3" },
      { "an empty body", '', "unexpected end of input at position 0" },
      { "a blank body", '   ', "unexpected end of input at position 3" },
      { "a leading zero", '{"a":01}', "leading zero in number at position 5" },
      { "a lone minus", '{"a":-}', "unexpected character '}' at position 6" },
      { "a bare decimal point", '{"a":1.}',
        "unexpected character '}' at position 7" },
      { "an empty exponent", '{"a":1e}',
        "unexpected character '}' at position 7" },
      { "single quotes", "{'a':1}", "unexpected character ''' at position 1" },
      { "a comment", '{/* x */}', "unexpected character '/' at position 1" },
      { "a byte order mark", '\xef\xbb\xbf{}',
        "unexpected character '\\xef' at position 0" },
      { "True in capitals", '{"a":True}',
        "unexpected character 'T' at position 5" },
      { "nul cut short", '{"a":nul}',
        "unexpected character '}' at position 8" },
    }
    for _, c in ipairs(cases) do
      it("refuses " .. c[1] .. " with its position", function()
        bad_json(JOBS, c[2], c[3])
      end)
    end

    it("refuses it the same way on task create and PATCH", function()
      bad_json(JOBS .. "/" .. job.id .. "/users", '{"taskType":',
               "unexpected end of input at position 12")
      bad_json(JOBS .. "/" .. job.id, '{"completeAfterDateTime" 1}',
               "unexpected character '1' at position 25", 400, "PATCH")
    end)

    local not_objects = {
      { "[1,2]", "a collection" }, { '"text"', "a string" },
      { "42", "a number" }, { "4.5", "a number" }, { "null", "null" },
      { "true", "a boolean" },
    }
    for _, c in ipairs(not_objects) do
      it("refuses valid JSON that is not an object: " .. c[1], function()
        refuses { "POST", JOBS, c[1], nil, 400, "invalidRequest",
                  "The request body must be a JSON object, not " .. c[2] ..
                  "." }
      end)
    end
  end)

  -- ------------------------------------------------------------------
  describe("JSON null", function()
    local required = { "displayName", "completeAfterDateTime",
                       "sourceTenantId", "resourceType", "resources",
                       "workloads" }
    for _, p in ipairs(required) do
      it("refuses null for the job's " .. p, function()
        bad_property(JOBS, encode(F.job_body { [p] = null }),
                     "Property '" .. p .. "' must not be null.")
      end)
    end

    local readonly = { "id", "jobType", "targetTenantId", "status",
                       "message", "createdDateTime", "createdBy",
                       "lastUpdatedDateTime", "users" }
    for _, p in ipairs(readonly) do
      it("refuses the read-only " .. p .. ", even null", function()
        bad_property(JOBS, encode(F.job_body { [p] = null }),
                     "Property '" .. p .. "' is read-only and can't be set.")
      end)
    end

    it("takes null exchangeSettings only without Exchange", function()
      bad_property(JOBS, encode(F.job_body { exchangeSettings = null }),
                   "Property 'exchangeSettings' is required when the " ..
                   "Exchange workload is selected.")
      local status, body = graph:request("POST", JOBS, encode(F.job_body {
        displayName = "no exchange", exchangeSettings = null,
        workloads = { "Teams" }, resources = users(1, "e0000000") }))
      assert.are.equal(201, status)
      assert.are.equal(null, body.exchangeSettings)
    end)

    it("refuses null inside exchangeSettings, resources and workloads",
       function()
      bad_property(JOBS, encode(F.job_body { exchangeSettings = {
        sourceEndpoint = null, targetDeliveryDomain = "d" } }),
        "Property 'exchangeSettings.sourceEndpoint' must not be null.")
      bad_property(JOBS, encode(F.job_body { resources = { null } }),
                   "Property 'resources[0]' must not be null.")
      bad_property(JOBS, encode(F.job_body { workloads = { "Teams", null } }),
                   "Property 'workloads[1]' must not be null.")
    end)

    it("refuses null for completeAfterDateTime in a PATCH", function()
      bad_property(JOBS .. "/" .. job.id, '{"completeAfterDateTime":null}',
                   "Property 'completeAfterDateTime' must not be null.",
                   "PATCH")
    end)

    local task_props = { "id", "taskType", "lastUpdatedDateTime",
                         "currentStatus" }
    for _, p in ipairs(task_props) do
      it("refuses null for the task's " .. p, function()
        bad_property(JOBS .. "/" .. job.id .. "/users",
                     encode(task_body { [p] = null }),
                     "Property '" .. p .. "' must not be null.")
      end)
    end

    it("refuses null for @odata.type", function()
      bad_property(JOBS .. "/" .. job.id .. "/users",
                   encode(task_body { ["@odata.type"] = null }),
                   "Property '@odata.type' must be a string, not null.")
    end)

    local entry = {
      { { null }, "currentStatus[0]' must be an object, not null." },
      { { { service = null } }, "currentStatus[0].service' must not be null." },
      { { { status = null } }, "currentStatus[0].status' must not be null." },
      { { { errors = null } }, "currentStatus[0].errors' must not be null." },
      { { { errors = { null } } },
        "currentStatus[0].errors[0]' must be an object, not null." },
      { { { errors = { { code = null } } } },
        "currentStatus[0].errors[0].code' must not be null." },
      { { { errors = { { message = null } } } },
        "currentStatus[0].errors[0].message' must not be null." },
    }
    for i, c in ipairs(entry) do
      it("refuses null inside currentStatus (" .. i .. ")", function()
        bad_property(JOBS .. "/" .. job.id .. "/users",
                     encode(task_body { currentStatus = c[1] }),
                     "Property '" .. c[2])
      end)
    end

    it("takes null for a currentStatus entry's message (nullable)", function()
      local g = F.graph()
      local j = assert(g:create_job(F.job_body()))
      local status, body = g:request("POST", JOBS .. "/" .. j.id .. "/users",
        encode(task_body { currentStatus = { { service = "ODSP",
          message = null } } }))
      assert.are.equal(201, status)
      assert.are.equal("", body.currentStatus[1].message)
    end)
  end)

  -- ------------------------------------------------------------------
  describe("types", function()
    local wrong = {
      { "displayName", 5, "must be a string, not a number." },
      { "displayName", 1.0, "must be a string, not a number." },
      { "displayName", -1, "must be a string, not a number." },
      { "displayName", true, "must be a string, not a boolean." },
      { "displayName", { a = 1 }, "must be a string, not an object." },
      { "displayName", { "a" }, "must be a string, not a collection." },
      { "completeAfterDateTime", 1762419600,
        "must be a string holding a DateTimeOffset, not a number." },
      { "completeAfterDateTime", "1762419600",
        "is not a valid DateTimeOffset: '1762419600' (invalid format)." },
      { "completeAfterDateTime", "2025-02-29T00:00:00Z",
        "is not a valid DateTimeOffset: '2025-02-29T00:00:00Z' (day out of " ..
        "range)." },
      { "sourceTenantId", 12345678,
        "must be a string holding a GUID, not a number." },
      { "sourceTenantId", "{12345678-1234-1234-1234-123456789012}",
        "is not a valid GUID: '{12345678-1234-1234-1234-123456789012}'." },
      { "resourceType", 1, "must be a string, not a number." },
      { "resources", F.RESOURCES[1], "must be a collection, not a string." },
      { "resources", { a = F.RESOURCES[1] },
        "must be a collection, not an object." },
      { "workloads", "Teams", "must be a collection, not a string." },
      { "exchangeSettings", "x", "must be an object, not a string." },
      { "exchangeSettings", { "x" }, "must be an object, not a collection." },
    }
    for _, c in ipairs(wrong) do
      it(("refuses %s = %s (%s)"):format(c[1], encode(c[2]), math.type(c[2])
         or type(c[2])), function()
        bad_property(JOBS, encode(F.job_body { [c[1]] = c[2] }),
                     "Property '" .. c[1] .. "' " .. c[3])
      end)
    end

    it("refuses numbers inside string collections", function()
      bad_property(JOBS, encode(F.job_body { resources = { 1.0 } }),
        "Property 'resources[0]' must be a string holding a GUID, not a " ..
        "number.")
      bad_property(JOBS, encode(F.job_body { workloads = { "Teams", 2 } }),
        "Property 'workloads[1]' must be a string, not a number.")
    end)

    it("refuses wrong types in a task", function()
      local url = JOBS .. "/" .. job.id .. "/users"
      bad_property(url, encode(task_body { taskType = 1 }),
                   "Property 'taskType' must be a string, not a number.")
      bad_property(url, encode(task_body { lastUpdatedDateTime = 0 }),
        "Property 'lastUpdatedDateTime' must be a string holding a " ..
        "DateTimeOffset, not a number.")
      bad_property(url, '{"taskType":"user","lastUpdatedDateTime":' ..
        '"2025-11-06T09:00:00Z","currentStatus":{}}',
        "Property 'currentStatus' must be a collection, not an object.")
      bad_property(url, encode(task_body { currentStatus = { { errors =
        "e" } } }),
        "Property 'currentStatus[0].errors' must be a collection, not a " ..
        "string.")
      bad_property(url, encode(task_body { id = 42 }),
        "Property 'id' must be a string holding a GUID, not a number.")
    end)

    it("refuses 1e400 and -1e400 as out of range", function()
      bad_json(JOBS, '{"displayName":1e400}',
               "number out of range at position 15")
      bad_json(JOBS, '{"displayName":-1e400}',
               "number out of range at position 15")
    end)

    it("reads 1e-400 and huge integers as numbers, then refuses the type",
       function()
      bad_property(JOBS, '{"displayName":1e-400}',
                   "Property 'displayName' must be a string, not a number.")
      bad_property(JOBS, '{"displayName":99999999999999999999999}',
                   "Property 'displayName' must be a string, not a number.")
      bad_property(JOBS, '{"displayName":-9223372036854775809}',
                   "Property 'displayName' must be a string, not a number.")
    end)

    local tokens = {
      { "NaN", "unexpected character 'N' at position 15" },
      { "Infinity", "unexpected character 'I' at position 15" },
      { "-Infinity", "unexpected character 'I' at position 16" },
      { "0x1F", "unexpected character 'x' at position 16" },
      { "+1", "unexpected character '+' at position 15" },
      { ".5", "unexpected character '.' at position 15" },
    }
    for _, c in ipairs(tokens) do
      it("refuses the number token " .. c[1], function()
        bad_json(JOBS, '{"displayName":' .. c[1] .. '}', c[2])
      end)
    end

    local queries = {
      { "?$top=abc", "Query option '$top' must be an integer from 1 to 999, " ..
        "not 'abc'." },
      { "?$top=1.0", "Query option '$top' must be an integer from 1 to " ..
        "999, not '1.0'." },
      { "?$top=1e2", "Query option '$top' must be an integer from 1 to " ..
        "999, not '1e2'." },
      { "?$top=0", "Query option '$top' must be an integer from 1 to 999, " ..
        "not '0'." },
      { "?$top=1000", "Query option '$top' must be an integer from 1 to " ..
        "999, not '1000'." },
      { "?$top=-1", "Query option '$top' must be an integer from 1 to 999, " ..
        "not '-1'." },
      { "?$top=99999999999999999999", "Query option '$top' must be an " ..
        "integer from 1 to 999, not '99999999999999999999'." },
      { "?$top=", "Query option '$top' must be an integer from 1 to 999, " ..
        "not ''." },
      { "?$skip=-1", "Query option '$skip' must be an integer of 0 or more, " ..
        "not '-1'." },
      { "?$count=1", "Query option '$count' must be true or false, not '1'." },
      { "?$top=1&$top=2", "Query option '$top' is given twice." },
      { "?$top=1&%24TOP=2", "Query option '$top' is given twice." },
    }
    for _, c in ipairs(queries) do
      it("refuses the query " .. c[1], function()
        refuses { "GET", JOBS .. c[1], nil, nil, 400, "invalidRequest", c[2],
                  "invalidQueryOption" }
      end)
    end
  end)

  -- ------------------------------------------------------------------
  describe("strings, UTF-8 and keys", function()
    it("takes a displayName of exactly 4096 bytes", function()
      local name = string.rep("n", 4096)
      local status, body = graph:request("POST", JOBS, encode(F.job_body {
        displayName = name, resources = users(1, "e1000000") }))
      assert.are.equal(201, status)
      assert.are.equal(name, body.displayName)
    end)

    it("refuses a string of 4097 bytes with 413", function()
      bad_json(JOBS, encode(F.job_body { displayName = string.rep("n",
               4097) }), "string longer than 4096 bytes at position 15", 413)
    end)

    it("counts decoded bytes: 2048 é are 4096 bytes, one more is 413",
       function()
      local status = graph:request("POST", JOBS, encode(F.job_body {
        displayName = string.rep("é", 2048), resources = users(1,
        "e2000000") }))
      assert.are.equal(201, status)
      bad_json(JOBS, '{"displayName":"' .. string.rep("\\u00e9", 2048) ..
               'x"}', "string longer than 4096 bytes at position 15", 413)
    end)

    it("refuses a key of 4097 bytes with 413", function()
      bad_json(JOBS, '{"' .. string.rep("k", 4097) .. '":1}',
               "string longer than 4096 bytes at position 1", 413)
    end)

    it("refuses a Lua string of 4097 bytes with 413", function()
      refuses { "POST", JOBS, F.job_body { displayName = string.rep("n",
                4097) }, nil, 413, "invalidRequest",
                "The body has a string longer than 4096 bytes at " ..
                "'displayName'." }
    end)

    local invalid = {
      { "a stray continuation byte", "a\x80b" },
      { "0xff", "a\xffb" },
      { "an overlong '/'", "a\xc0\xafb" },
      { "an encoded surrogate", "a\xed\xa0\x80b" },
      { "a code point past U+10FFFF", "a\xf4\x90\x80\x80b" },
      { "a sequence cut by the quote", "a\xc3" },
    }
    for _, c in ipairs(invalid) do
      it("refuses invalid UTF-8: " .. c[1], function()
        bad_json(JOBS, '{"displayName":"' .. c[2] .. '"}',
                 "invalid UTF-8 at position 17")
        refuses { "POST", JOBS, F.job_body { displayName = c[2] }, nil, 400,
                  "invalidRequest", "The body has a string that is not " ..
                  "valid UTF-8 at 'displayName'." }
      end)
    end

    it("refuses invalid UTF-8 outside strings and in keys", function()
      bad_json(JOBS, '{\xff:1}', "unexpected character '\\xff' at position 1")
      bad_json(JOBS, '{"a\xffb":1}', "invalid UTF-8 at position 3")
    end)

    local surrogates = {
      { "a lone high surrogate", '\\ud83d', "unpaired surrogate at " ..
        "position 16" },
      { "a lone low surrogate", '\\udc00',
        "unpaired surrogate at position 16" },
      { "a high surrogate and a letter", '\\ud83d\\u0041',
        "unpaired surrogate at position 16" },
      { "two high surrogates", '\\ud83d\\ud83d',
        "unpaired surrogate at position 16" },
      { "a high surrogate and text", '\\ud83dx',
        "unpaired surrogate at position 16" },
    }
    for _, c in ipairs(surrogates) do
      it("refuses escaped surrogates: " .. c[1], function()
        bad_json(JOBS, '{"displayName":"' .. c[2] .. '"}', c[3])
      end)
    end

    it("takes a correctly paired surrogate escape", function()
      local text = encode(F.job_body { resources = users(1, "e3000000") })
        :gsub('"displayName":"[^"]*"', '"displayName":"\\ud83d\\ude80"')
      local status, body = graph:request("POST", JOBS, text)
      assert.are.equal(201, status)
      assert.are.equal("\xf0\x9f\x9a\x80", body.displayName)
    end)

    it("refuses duplicate keys, naming the key and where it repeats",
       function()
      bad_json(JOBS, '{"displayName":"a","displayName":"b"}',
               "duplicate property 'displayName' at position 19")
      bad_json(JOBS, '{"exchangeSettings":{"sourceEndpoint":"a",' ..
               '"sourceEndpoint":"a"}}',
               "duplicate property 'sourceEndpoint' at position 42")
      bad_json(JOBS, '{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,' ..
               '"i":9,"e":0}', "duplicate property 'e' at position 55")
    end)

    it("treats keys that differ in case as different, and unknown",
       function()
      bad_property(JOBS, '{"displayName":"a","DisplayName":"b"}',
                   "Property 'DisplayName' does not exist on type '" ..
                   JOB_TYPE .. "'.")
    end)
  end)

  -- ------------------------------------------------------------------
  describe("nesting, items and body size", function()
    it("parses 16 levels of nesting and refuses 17 with 413", function()
      refuses { "POST", JOBS, string.rep("[", 16) .. string.rep("]", 16), nil,
                400, "invalidRequest",
                "The request body must be a JSON object, not a collection." }
      bad_json(JOBS, string.rep("[", 17) .. string.rep("]", 17),
               "nesting deeper than 16 at position 16", 413)
    end)

    it("refuses 10,000 levels of nesting with 413", function()
      bad_json(JOBS, string.rep("[", 10000) .. string.rep("]", 10000),
               "nesting deeper than 16 at position 16", 413)
      bad_json(JOBS, string.rep('{"a":', 10000) .. "1" ..
               string.rep("}", 10000), "nesting deeper than 16 at position 80",
               413)
    end)

    it("refuses a Lua table nested 17 deep with 413, not 16", function()
      local function nest(n)
        local t = { x = 1 }
        for _ = 2, n do t = { a = t } end
        return t
      end
      refuses { "POST", JOBS, nest(16), nil, 400, "invalidRequest",
                "Property 'a' does not exist on type '" .. JOB_TYPE .. "'.",
                "invalidProperty" }
      refuses { "POST", JOBS, nest(17), nil, 413, "invalidRequest",
                "The body nests deeper than 16 at '" ..
                string.rep("a", 16, ".") .. "'." }
    end)

    local function resources_text(n, prefix)
      local ids = {}
      for i = 1, n do
        ids[i] = ('"%s-0000-4000-8000-%012x"'):format(prefix, i)
      end
      return '{"resources":[' .. table.concat(ids, ",") .. "]}"
    end

    it("reads 10,000 items and refuses 10,001 with 413", function()
      -- 10,000 parse, then the job's own rule (2,000 users) refuses
      bad_property(JOBS, encode(F.job_body { resources = users(10000,
        "f0000000") }), "Property 'resources' must hold 1 to 2000 user ids; " ..
        "it holds 10000.")
      -- item 10,001 starts after '{"resources":[' and 10,000 of 39 bytes
      bad_json(JOBS, resources_text(10001, "f0000000"),
               "more than 10000 items at position " .. (14 + 39 * 10000), 413)
      refuses { "POST", JOBS, F.job_body { resources = users(10001,
                "f0000000") }, nil, 413, "invalidRequest",
                "The body has more than 10000 items at 'resources'." }
    end)

    it("refuses an object of 10,001 members with 413", function()
      local m = {}
      for i = 1, 10001 do m[i] = ('"k%05d":1'):format(i) end
      bad_json(JOBS, "{" .. table.concat(m, ",") .. "}",
               "more than 10000 items at position " .. (1 + 11 * 10000), 413)
    end)

    it("takes a body of exactly 1 MiB and refuses 1 MiB + 1 with 413",
       function()
      local text = encode(F.job_body { displayName = "one mebibyte",
                                       resources = users(1, "e4000000") })
      local padded = text .. string.rep(" ", 1024 * 1024 - #text)
      assert.are.equal(1024 * 1024, #padded)
      refuses { "POST", JOBS, padded .. " ", nil, 413, "invalidRequest",
                NOT_JSON .. "body larger than 1048576 bytes." }
      assert.are.equal(201, (graph:request("POST", JOBS, padded)))
    end)
  end)

  -- ------------------------------------------------------------------
  describe("the 2,000-user limit", function()
    local big
    setup(function() big = F.graph() end)

    it("takes 2,000 resources and refuses 2,001 (400, not 413)", function()
      local before = F.snapshot(big)
      local status, body = big:request("POST", JOBS, F.job_body {
        displayName = "2001", resources = users(2001, "d0000000") })
      assert.are.equal(400, status)
      assert.are.equal("Property 'resources' must hold 1 to 2000 user ids; " ..
                       "it holds 2001.", body.error.message)
      assert.are.equal("invalidProperty", body.error.innerError.code)
      assert.are.equal(before, F.snapshot(big))
      status = big:request("POST", JOBS, F.job_body { displayName = "2000",
        resources = users(2000, "d0000000") })
      assert.are.equal(201, status)
    end)

    it("refuses a task past 2,000 users in a job", function()
      local j = assert(big:create_job(F.job_body { displayName = "1999",
        resources = users(1999, "d1000000") }))
      local url = JOBS .. "/" .. j.id .. "/users"
      assert.are.equal(201, (big:request("POST", url, task_body())))
      local before = F.snapshot(big)
      local status, body = big:request("POST", url, task_body())
      assert.are.equal(400, status)
      assert.are.same({ "invalidRequest", "Job '" .. j.id .. "' already " ..
                        "holds 2000 users, the most a job can hold." },
                      { body.error.code, body.error.message })
      assert.is_nil(body.error.innerError.code)
      assert.are.equal(before, F.snapshot(big))
    end)
  end)

  -- ------------------------------------------------------------------
  describe("URLs", function()
    local function not_found(url, seg)
      refuses { "GET", url, nil, nil, 404, "itemNotFound",
                "Resource not found for the segment '" .. seg .. "'." }
    end

    it("does not normalise '..'", function()
      not_found(JOBS .. "/../crossTenantMigrationJobs",
                "crossTenantMigrationJobs")
      refuses { "GET", JOBS .. "/..", nil, nil, 404, "itemNotFound",
                "crossTenantMigrationJob '..' was not found." }
      refuses { "GET", JOBS .. "/%2E%2E", nil, nil, 404, "itemNotFound",
                "crossTenantMigrationJob '..' was not found." }
      not_found("/beta/solutions/migrations/../migrations", "..")
    end)

    it("keeps %2F inside a segment", function()
      refuses { "GET", JOBS .. "/x%2Fusers", nil, nil, 404, "itemNotFound",
                "crossTenantMigrationJob 'x/users' was not found." }
      refuses { "GET", JOBS .. "/" .. job.id .. "%2fvalidate", nil, nil, 404,
                "itemNotFound", "crossTenantMigrationJob '" .. job.id ..
                "/validate' was not found." }
    end)

    it("refuses bad percent-escapes and shows %00 as ?", function()
      refuses { "GET", JOBS .. "/a%2", nil, nil, 400, "invalidRequest",
                "The URL has a bad percent-escape in 'a%2'." }
      refuses { "GET", JOBS .. "/%zz", nil, nil, 400, "invalidRequest",
                "The URL has a bad percent-escape in '%zz'." }
      refuses { "GET", JOBS .. "/a%00b", nil, nil, 404, "itemNotFound",
                "crossTenantMigrationJob 'a?b' was not found." }
    end)

    it("treats double and trailing slashes as empty segments", function()
      not_found("/beta//solutions/migrations/crossTenantMigrationJobs", "")
      not_found("//beta/solutions/migrations/crossTenantMigrationJobs", "")
      not_found("/beta/solutions//migrations/crossTenantMigrationJobs", "")
      not_found(JOBS .. "/", "")
      not_found(JOBS .. "//users", "")
      not_found(JOBS .. "/" .. job.id .. "//", "")
      not_found(JOBS .. "/" .. job.id .. "/users/", "")
      not_found(JOBS .. "/" .. job.id .. "/users//cancel", "")
    end)

    it("finds a unicode displayName, raw or escaped, case-folding ASCII only",
       function()
      local g = F.graph()
      local name = "Émigration ✈ wave"
      local j = assert(g:create_job(F.job_body { displayName = name }))
      assert.are.equal(j.id, select(2, g:request("GET", JOBS .. "/" ..
                                                 name)).id)
      assert.are.equal(j.id, select(2, g:request("GET", JOBS ..
        "/%C3%89migration%20%E2%9C%88%20wave")).id)
      assert.are.equal(j.id, select(2, g:request("GET", JOBS ..
                                                 "/Émigration ✈ WAVE")).id)
      local status, body = g:request("GET", JOBS .. "/émigration ✈ wave")
      assert.are.equal(404, status)
      assert.are.equal("crossTenantMigrationJob 'émigration ✈ wave' was " ..
                       "not found.", body.error.message)
    end)

    it("answers 404 for a 10 KiB job id, quoting 80 bytes of it", function()
      refuses { "GET", JOBS .. "/" .. string.rep("a", 10240), nil, nil, 404,
                "itemNotFound", "crossTenantMigrationJob '" ..
                string.rep("a", 80) .. "...' was not found." }
    end)

    it("answers 404 for a 10 KiB task id, quoting 80 bytes of it", function()
      refuses { "GET", JOBS .. "/" .. job.id .. "/users/" ..
                string.rep("b", 10240), nil, nil, 404, "itemNotFound",
                "crossTenantMigrationTask '" .. string.rep("b", 80) ..
                "...' was not found in job '" .. job.id .. "'." }
    end)

    it("answers 404 for a 10 KiB unknown segment", function()
      local status, body = graph:request("GET", "/beta/solutions/" ..
                                         string.rep("s", 10240))
      assert.are.equal(404, status)
      assert.are.equal("itemNotFound", body.error.code)
      assert.matches("^Resource not found for the segment 'sss", body.error
                     .message)
    end)

    it("refuses query options on POST, PATCH and DELETE", function()
      refuses { "POST", JOBS .. "?$top=1", F.job_body(), nil, 400,
                "invalidRequest", "Query options are not allowed on a POST " ..
                "request.", "invalidQueryOption" }
      refuses { "DELETE", JOBS .. "/" .. job.id .. "?x=1&$filter=a", nil, nil,
                400, "invalidRequest", "Query options are not allowed on a " ..
                "DELETE request.", "invalidQueryOption" }
    end)
  end)

  -- ------------------------------------------------------------------
  describe("methods", function()
    it("takes a method in any case", function()
      assert.are.equal(200, (graph:request("gEt", JOBS .. "/" .. job.id)))
      assert.are.equal(200, (graph:request("get", JOBS)))
      assert.are.equal(201, (graph:request("pOsT", JOBS, F.job_body {
        displayName = "odd case", resources = users(1, "e5000000") })))
    end)

    local odd = {
      { "HEAD", "GET, POST" }, { "OPTIONS", "GET, POST" },
      { "PUT", "GET, POST" }, { "", "GET, POST" }, { " GET", "GET, POST" },
      { "GET\0", "GET, POST" }, { "G ET", "GET, POST" },
    }
    for _, c in ipairs(odd) do
      it(("answers 405 for the method %q"):format(c[1]), function()
        refuses { c[1], JOBS, nil, nil, 405, "notSupported",
                  "The method '" .. c[1]:upper() .. "' is not allowed on " ..
                  "this resource; it takes " .. c[2] .. "." }
      end)
    end
  end)

  -- ------------------------------------------------------------------
  describe("headers", function()
    it("reads names in any case", function()
      local status, _, headers = graph:request("GET", JOBS, nil,
        { ["CLIENT-request-ID"] = "odd-1", AUTHORIZATION = F.token {
          tid = F.TARGET, scp = F.READ } })
      assert.are.equal(200, status)
      assert.are.equal("odd-1", headers["client-request-id"])
      -- AUTHORIZATION was read: another tenant sees nothing
      local _, body = graph:request("GET", JOBS .. "/" .. job.id, nil,
        { aUtHoRiZaTiOn = F.token { tid = "11111111-1111-4111-8111-" ..
          "111111111111", scp = F.READ } })
      assert.are.equal("crossTenantMigrationJob '" .. job.id ..
                       "' was not found.", body.error.message)
    end)

    it("takes the same header twice with the same value", function()
      assert.are.equal(200, (graph:request("GET", JOBS, nil,
        { ["client-request-id"] = "x", ["Client-Request-Id"] = "x" })))
    end)

    it("refuses the same header twice with different values", function()
      local before = F.snapshot(graph)
      local status, body = graph:request("GET", JOBS, nil,
        { ["client-request-id"] = "a", ["Client-Request-Id"] = "b" })
      assert.are.equal(400, status)
      assert.are.equal("invalidRequest", body.error.code)
      -- which spelling is named follows the table's order
      local names = {
        ["Header 'client-request-id' is given more than once with " ..
         "different values."] = true,
        ["Header 'Client-Request-Id' is given more than once with " ..
         "different values."] = true,
      }
      assert.is_true(names[body.error.message], body.error.message)
      assert.are.equal(before, F.snapshot(graph))
    end)

    it("echoes a numeric client-request-id as text", function()
      local _, body = graph:request("GET", JOBS .. "/nope", nil,
                                    { ["client-request-id"] = 42 })
      assert.are.equal("42", body.error.innerError["client-request-id"])
    end)

    it("reads a duplicated Authorization with the same value once",
       function()
      refuses { "POST", JOBS, F.job_body(), { Authorization = "Bearer a",
                ["AUTHORIZATION"] = "Bearer a" }, 401, "unauthenticated",
                "The access token is malformed: it is not a JWT with a JSON " ..
                "object payload." }
    end)
  end)

  -- ------------------------------------------------------------------
  describe("tokens", function()
    local function unauthenticated(auth, message)
      refuses { "POST", JOBS, F.job_body { displayName = "t" },
                { Authorization = auth }, 401, "unauthenticated", message }
    end
    local MALFORMED = "The access token is malformed: it is not a JWT with " ..
                      "a JSON object payload."
    local HEADER = "The Authorization header must be 'Bearer <token>'."

    local not_jwts = {
      { "junk", "Bearer junk", MALFORMED },
      { "two parts", "Bearer a.b", MALFORMED },
      { "four parts", "Bearer a.b.c.d", MALFORMED },
      { "bad base64url", "Bearer a.!!!.c", MALFORMED },
      { "base64 with padding", "Bearer eyJ9.e30=.x", MALFORMED },
      { "a payload of one char", "Bearer a.e.c", MALFORMED },
      { "a payload that is not JSON", "Bearer a." .. F.b64url("tid") .. ".",
        MALFORMED },
      { "a JSON array payload", F.token "[1]", MALFORMED },
      { "a JSON string payload", F.token '"x"', MALFORMED },
      { "a JSON null payload", F.token "null", MALFORMED },
      { "a payload with a duplicate claim", F.token '{"tid":"' .. F.TARGET ..
        '","tid":"' .. F.TARGET .. '"}', MALFORMED },
      { "Basic auth", "Basic dXNlcjpwYXNz", HEADER },
      { "Bearer alone", "Bearer", HEADER },
      { "Bearer and a space", "Bearer ", HEADER },
      { "two tokens", "Bearer a.b.c d.e.f", HEADER },
      { "an empty value", "", HEADER },
    }
    for _, c in ipairs(not_jwts) do
      it("refuses a token that is not a JWT: " .. c[1], function()
        unauthenticated(c[2], c[3])
      end)
    end

    it("takes the scheme in any case and spaces around the token", function()
      local tok = F.token { tid = F.TARGET, scp = F.READ }:sub(8)
      for _, auth in ipairs { "bearer " .. tok, "BEARER  " .. tok,
                              "Bearer " .. tok .. "  " } do
        assert.are.equal(200, (graph:request("GET", JOBS, nil,
                                             { Authorization = auth })))
      end
    end)

    local claims = {
      { "no tid", { scp = F.WRITE }, "The access token has no valid 'tid' " ..
        "claim." },
      { "a numeric tid", { tid = 1, scp = F.WRITE }, "The access token has " ..
        "no valid 'tid' claim." },
      { "a tid that is no GUID", { tid = "contoso.com", scp = F.WRITE },
        "The access token has no valid 'tid' claim." },
      { "a braced tid", { tid = "{" .. F.TARGET .. "}", scp = F.WRITE },
        "The access token has no valid 'tid' claim." },
      { "a tid array", { tid = { F.TARGET }, scp = F.WRITE },
        "The access token has no valid 'tid' claim." },
      { "a string exp", { tid = F.TARGET, scp = F.WRITE, exp = "1893456000" },
        "The access token's 'exp' claim must be an integer." },
      { "a float exp", { tid = F.TARGET, scp = F.WRITE, exp = 1893456000.5 },
        "The access token's 'exp' claim must be an integer." },
      { "a null exp", '{"tid":"' .. F.TARGET .. '","scp":"' .. F.WRITE ..
        '","exp":null}', "The access token's 'exp' claim must be an integer." },
      { "an exp in the past", { tid = F.TARGET, scp = F.WRITE,
        exp = 1762419599 }, "The access token has expired." },
      { "an exp of now", { tid = F.TARGET, scp = F.WRITE, exp = 1762419600 },
        "The access token has expired." },
      { "a numeric upn", { tid = F.TARGET, scp = F.WRITE, upn = 7 },
        "The access token's 'upn' claim must be a string." },
      { "a null upn", '{"tid":"' .. F.TARGET .. '","scp":"' .. F.WRITE ..
        '","upn":null}', "The access token's 'upn' claim must be a string." },
      { "a boolean upn", { tid = F.TARGET, scp = F.WRITE, upn = false },
        "The access token's 'upn' claim must be a string." },
      { "an object oid", { tid = F.TARGET, scp = F.WRITE, oid = { a = 1 } },
        "The access token's 'oid' claim must be a string." },
      { "an array scp", { tid = F.TARGET, scp = { F.WRITE } },
        "The access token's 'scp' claim must be a string." },
      { "a string roles", { tid = F.TARGET, roles = F.WRITE },
        "The access token's 'roles' claim must be an array of strings." },
      { "an object roles", { tid = F.TARGET, roles = { a = F.WRITE } },
        "The access token's 'roles' claim must be an array of strings." },
      { "numeric roles", { tid = F.TARGET, roles = { 1 } },
        "The access token's 'roles' claim must be an array of strings." },
    }
    for _, c in ipairs(claims) do
      it("refuses a JWT with " .. c[1], function()
        unauthenticated(F.token(c[2]), c[3])
      end)
    end

    it("takes an exp far in the future (past 2^63 ticks)", function()
      -- 922337203686 s after 1970 is 9.2e18 ticks: beyond int64 as ticks
      local status = graph:request("GET", JOBS, nil, { Authorization =
        F.token { tid = F.TARGET, scp = F.READ, exp = 922337203686 } })
      assert.are.equal(200, status)
    end)

    it("answers 403 for a JWT without permissions", function()
      local function denied(c, have)
        refuses { "POST", JOBS, F.job_body { displayName = "t" },
                  { Authorization = F.token(c) }, 403, "accessDenied",
                  "Missing permissions on the request. The API requires " ..
                  "one of '" .. F.WRITE .. "'. Permissions on the request: '" ..
                  have .. "'." }
      end
      denied({ tid = F.TARGET }, "")
      denied({ tid = F.TARGET, scp = "" }, "")
      denied({ tid = F.TARGET, roles = {} }, "")
      denied({ tid = F.TARGET, scp = "User.Read  " .. F.READ },
             F.READ .. " User.Read")
      denied({ tid = F.TARGET, scp = F.WRITE:lower() }, F.WRITE:lower())
    end)
  end)

  -- ------------------------------------------------------------------
  describe("huge $skip with $orderby", function()
    -- Run in a child lua5.4 (same module paths, same LD_PRELOAD under
    -- `make asan`): a memory error there fails this test, not the suite.
    local function child(query)
      local code = ([[
        local ct = require "crosstenant"
        local g = ct.new { seed = 1, now = "2025-11-06T09:00:00Z" }
        local P = "/beta/solutions/migrations/crossTenantMigrationJobs"
        local b = { displayName = "a", completeAfterDateTime =
          "2026-01-01T00:00:00Z", sourceTenantId =
          "12345678-1234-1234-1234-123456789012", resourceType = "Users",
          resources = { "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506" },
          workloads = { "Teams" } }
        assert(g:request("POST", P, b) == 201)
        local s, body = g:request("GET", P .. "?%s")
        io.write(s, " ", body.value and #body.value or body.error.message)
      ]]):format(query)
      local function sh(v) return "'" .. v:gsub("'", "'\\''") .. "'" end
      local cmd = ("LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s 2>&1"):format(
        sh(package.path), sh(package.cpath), sh(code))
      local p = assert(io.popen(cmd))
      local out = p:read("a")
      local ok, how, rc = p:close()
      return out, ok and 0 or rc, how
    end

    it("answers an empty page for $skip past 2^55 (no overflow)", function()
      local out, rc = child("$orderby=displayName&$skip=39755913951960220")
      assert.are.same({ "200 0", 0 }, { out:sub(1, 200), rc })
    end)

    it("answers an empty page for $skip=100000000 (no 500)", function()
      local out, rc = child("$orderby=displayName&$skip=100000000")
      assert.are.same({ "200 0", 0 }, { out:sub(1, 200), rc })
    end)

    it("answers without ordering for a huge $skip too", function()
      local out, rc = child("$skip=9223372036854775807")
      assert.are.same({ "200 0", 0 }, { out:sub(1, 200), rc })
    end)
  end)

  -- ------------------------------------------------------------------
  describe("$filter literals holding control bytes", function()
    -- messages elsewhere show control bytes as '?' (and never cut the
    -- text at a NUL); $filter's type errors quote the literal raw
    local cases = {
      { "status%20eq%20'%01'", "Invalid $filter: '?' is not a " ..
        "crossTenantMigrationJobStatus value at position 7." },
      { "id%20eq%20'a%00b'", "Invalid $filter: 'a?b' is not a GUID, as " ..
        "'id' needs at position 3." },
      { "status%20eq%20'a%09b'", "Invalid $filter: 'a?b' is not a " ..
        "crossTenantMigrationJobStatus value at position 7." },
    }
    for _, c in ipairs(cases) do
      it("shows them as ? in " .. c[1], function()
        refuses { "GET", JOBS .. "?$filter=" .. c[1], nil, nil, 400,
                  "invalidRequest", c[2], "invalidQueryOption" }
      end)
    end
  end)

  -- ------------------------------------------------------------------
  describe("forged $skiptoken", function()
    -- a token is "T1~<query hash>~<position>"; a position that does not
    -- fit 64 bits must not wrap around to the first page
    for _, pos in ipairs { "18446744073709551615",
                           "99999999999999999999999" } do
      it("refuses a task token whose position is " .. pos, function()
        local _, page = graph:request("GET", JOBS .. "/" .. job.id ..
                                      "/users?$top=1")
        local link = page["@odata.nextLink"]
        assert.is_string(link)
        local token = link:match("%$skiptoken=(.*)$")
                          :gsub("~%d+$", "~" .. pos)
        refuses { "GET", JOBS .. "/" .. job.id ..
                  "/users?$top=1&$skiptoken=" .. token, nil, nil, 400,
                  "invalidRequest",
                  "The $skiptoken value '" .. token .. "' is not valid for " ..
                  "this collection and query.", "invalidQueryOption" }
      end)
    end
  end)

  -- ------------------------------------------------------------------
  describe("Lua table bodies", function()
    local cases = {
      { { displayName = print }, "The body has a function, which JSON " ..
        "can't hold, at 'displayName'." },
      { { exchangeSettings = { sourceEndpoint = io.stdout } },
        "The body has a userdata, which JSON can't hold, at " ..
        "'exchangeSettings.sourceEndpoint'." },
      { { resources = { F.RESOURCES[1], nil, F.RESOURCES[2] } },
        nil },                                     -- a hole: see below
      { { displayName = 0 / 0 }, "The body has a number that is not " ..
        "finite at 'displayName'." },
      { { resources = { [1] = F.RESOURCES[1], x = 1 } },
        "The body has a table that mixes names and sequence items at " ..
        "'resources'." },
    }
    for i, c in ipairs(cases) do
      if c[2] then
        it("refuses a table body holding what JSON can't (" .. i .. ")",
           function()
          refuses { "POST", JOBS, c[1], nil, 400, "invalidRequest", c[2] }
        end)
      end
    end

    it("answers the same through the methods (nil + err)", function()
      local before = F.snapshot(graph)
      F.rejects(400, "invalidRequest", "The body has a function, which " ..
                "JSON can't hold, at 'displayName'.")(
        graph:create_job(F.job_body { displayName = print }))
      F.rejects(413, "invalidRequest", NOT_JSON .. "nesting deeper than 16 " ..
                "at position 16.")(graph:create_task(job.id,
                string.rep("[", 17) .. string.rep("]", 17)))
      F.rejects(400, "invalidRequest", "Property 'taskType' must not be " ..
                "null.", "invalidProperty")(graph:create_task(job.id,
                encode(task_body { taskType = null })))
      assert.are.equal(before, F.snapshot(graph))
    end)

    it("refuses a sequence with a hole", function()
      local before = F.snapshot(graph)
      local status, body = graph:request("POST", JOBS, F.job_body {
        resources = { F.RESOURCES[1], nil, F.RESOURCES[2] } })
      assert.are.equal(400, status)
      -- which of the two messages depends on the border Lua's # picks
      assert.matches("^The body has a ", body.error.message)
      assert.matches(" at 'resources'%.$", body.error.message)
      assert.are.equal(before, F.snapshot(graph))
    end)

    it("refuses a top-level table that is not an object", function()
      -- the path of the top level is shown as '' (a vague message)
      for _, b in ipairs { { 1, 2, a = 3 }, { [1.5] = 1 } } do
        local status, body = graph:request("POST", JOBS, b)
        assert.are.equal(400, status)
        assert.matches("^The body has a table ", body.error.message)
      end
      refuses { "POST", JOBS, { F.RESOURCES[1] }, nil, 400,
                "invalidRequest",
                "The request body must be a JSON object, not a collection." }
    end)
  end)

  -- ------------------------------------------------------------------
  describe("store options", function()
    -- 1e12 s is 1e19 ticks: past int64, so (int64_t)(seconds * 1e7) in
    -- the core is undefined behaviour (the job then never leaves
    -- validateSubmitted).  The option must be refused, as other bad
    -- timings are.
    it("refuses a timing that the model clock can't hold", function()
      assert.has_error(function()
        crosstenant.new { timings = { validate_submitted = 1e12 } }
      end)
      assert.has_error(function()
        crosstenant.new { timings = { sync = 9e11 } }  -- now + 9e18 ticks
      end)
    end)

    it("takes a timing of a century", function()
      local g = F.graph { timings = { validate_submitted = 100 * 366 *
                                      86400 } }
      local j = assert(g:create_job(F.job_body()))
      assert(g:validate_job(j.id))
      g:advance("P36600D")
      assert.are.equal("validateProcessing", g:get_job(j.id).status)
    end)
  end)

  -- ------------------------------------------------------------------
  describe("error bodies", function()
    it("are valid UTF-8 JSON whatever bytes the request carried", function()
      local cases = {
        JOBS .. "/%FF",                                 -- job key
        "/beta/solutions/%FF",                          -- unknown segment
        JOBS .. "?$skiptoken=%FF",                      -- token
        JOBS .. "?$top=%FF",                            -- option value
        JOBS .. "/" .. string.rep("a", 79) .. "%C3%A9", -- cut at 80 bytes
      }
      local core = require "crosstenant.core"
      local bad = {}
      for _, url in ipairs(cases) do
        local status, body = graph:request("GET", url)
        assert.is_true(status >= 400)
        local text = encode(body)
        if not core.utf8_valid(text) then
          bad[#bad + 1] = url .. " -> " ..
                          body.error.message:gsub("[\128-\255]", "?")
        end
      end
      assert.are.same({}, bad)
    end)

    it("are valid UTF-8 JSON whatever client-request-id was sent", function()
      local status, body = graph:request("GET", JOBS .. "/nope", nil,
                                         { ["client-request-id"] = "a\xffb" })
      assert.are.equal(404, status)
      assert.is_true(require("crosstenant.core").utf8_valid(encode(body)),
                     encode(body))
    end)
  end)
end)
