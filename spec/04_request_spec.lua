-- graph:request: URLs, routing, methods, headers, query options, bodies
-- and the error envelope.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS

describe("graph:request", function()
  local graph, job
  before_each(function()
    graph = F.graph()
    job = assert(graph:create_job(F.job_body()))
  end)

  describe("URLs", function()
    local forms = {
      "/solutions/migrations/crossTenantMigrationJobs/%s",
      "/beta/solutions/migrations/crossTenantMigrationJobs/%s",
      "/v1.0/solutions/migrations/crossTenantMigrationJobs/%s",
      "https://graph.microsoft.com/beta/solutions/migrations/crossTenantMigrationJobs/%s",
      "https://GRAPH.microsoft.com/v1.0/Solutions/Migrations/CROSSTENANTMIGRATIONJOBS/%s",
      "/beta/solutions/migrations/crosstenantmigrationjobs/%s?",
    }
    for _, form in ipairs(forms) do
      it("takes " .. form, function()
        local status, body = graph:request("GET", form:format(job.id))
        assert.are.equal(200, status)
        assert.are.equal(job.id, body.id)
      end)
    end

    it("writes the version of the request into @odata.context", function()
      local _, body = graph:request("GET",
        "/v1.0/solutions/migrations/crossTenantMigrationJobs/" .. job.id)
      assert.are.equal("https://graph.microsoft.com/v1.0/$metadata#" ..
        "solutions/migrations/crossTenantMigrationJobs/$entity",
        body["@odata.context"])
    end)

    it("addresses a job by displayName and by the alternate key", function()
      local s1, b1 = graph:request("GET", JOBS .. "/xtmigration_user_req_1")
      assert.are.equal(200, s1)
      assert.are.equal(job.id, b1.id)
      local s2, b2 = graph:request("GET", "/beta/solutions/migrations/" ..
        "crossTenantMigrationJobs(displayName='xtmigration_user_req_1')")
      assert.are.equal(200, s2)
      assert.are.equal(job.id, b2.id)
      local s3, b3 = graph:request("GET", "/beta/solutions/migrations/" ..
        "crossTenantMigrationJobs(displayName='xtmigration_user_req_1')/users")
      assert.are.equal(200, s3)
      assert.are.equal(3, #b3.value)
      local s4, b4 = graph:request("GET", "/beta/solutions/migrations/" ..
        "crossTenantMigrationJobs('" .. job.id .. "')")
      assert.are.equal(200, s4)
      assert.are.equal(job.id, b4.id)
    end)

    it("decodes percent-escapes in a segment", function()
      local g = F.graph()
      local j = assert(g:create_job(F.job_body { displayName = "a/b c" }))
      local status, body = g:request("GET", JOBS .. "/a%2Fb%20c")
      assert.are.equal(200, status)
      assert.are.equal(j.id, body.id)
    end)

    local unknown = {
      { "/beta/solutions/migrations/crossTenantMigrationJobs/" .. "%s/frobnicate",
        "frobnicate" },
      { "/beta/solutions/other", "other" },
      { "/beta/users", "users" },
      { "/beta/solutions/migrations/crossTenantMigrationJobs//users", "" },
      { "/beta/solutions/migrations/crossTenantMigrationJobs/%s/", "" },
      { "/beta/solutions/migrations/crossTenantMigrationJobs/%s/users/x/y", "y" },
      { "/beta/solutions/migrations/crossTenantMigrationJobs/../x", "x" },
      { "/v2.0/solutions/migrations/crossTenantMigrationJobs", "v2.0" },
    }
    for _, u in ipairs(unknown) do
      it("answers 404 for " .. u[1], function()
        local status, body = graph:request("GET", u[1]:format(job.id))
        assert.are.equal(404, status)
        assert.are.equal("itemNotFound", body.error.code)
        assert.are.equal("Resource not found for the segment '" .. u[2] ..
                         "'.", body.error.message)
      end)
    end

    it("answers 404 for another host", function()
      local status, body = graph:request("GET",
        "https://example.com/beta/solutions/migrations/crossTenantMigrationJobs")
      assert.are.equal(404, status)
      assert.matches("^Unknown host or scheme", body.error.message)
    end)

    it("answers 400 for a bad percent-escape", function()
      local status, body = graph:request("GET", JOBS .. "/a%zz")
      assert.are.equal(400, status)
      assert.are.equal("The URL has a bad percent-escape in 'a%zz'.",
                       body.error.message)
    end)
  end)

  describe("methods", function()
    it("takes the method in any case", function()
      local status = graph:request("get", JOBS .. "/" .. job.id)
      assert.are.equal(200, status)
    end)

    local wrong = {
      { "PUT", "/%s", "DELETE, GET, PATCH" },
      { "POST", "/%s", "DELETE, GET, PATCH" },
      { "DELETE", "", "GET, POST" },
      { "GET", "/%s/validate", "POST" },
      { "GET", "/%s/migrate", "POST" },
      { "DELETE", "/%s/cancel", "POST" },
      { "PATCH", "/%s/users", "GET, POST" },
      { "DELETE", "/%s/users/" .. F.RESOURCES[1], "GET" },
      { "GET", "/%s/users/" .. F.RESOURCES[1] .. "/cancel", "POST" },
    }
    for _, w in ipairs(wrong) do
      it("answers 405 for " .. w[1] .. " on " .. w[2], function()
        local status, body = graph:request(w[1], JOBS .. w[2]:format(job.id))
        assert.are.equal(405, status)
        assert.are.equal("notSupported", body.error.code)
        assert.are.equal("The method '" .. w[1] .. "' is not allowed on " ..
          "this resource; it takes " .. w[3] .. ".", body.error.message)
      end)
    end
  end)

  describe("responses", function()
    it("answers create with 201, the job and a Location", function()
      local status, body, headers = graph:request("POST", JOBS,
        F.job_body { displayName = "new", resources = F.users(2) })
      assert.are.equal(201, status)
      assert.are.equal("new", body.displayName)
      assert.are.equal("https://graph.microsoft.com/beta/solutions/" ..
        "migrations/crossTenantMigrationJobs/" .. body.id, headers.Location)
      assert.are.equal(headers.Location, headers.location)
    end)

    it("answers PATCH with 204, no body, text/plain", function()
      local status, body, headers = graph:request("PATCH", JOBS .. "/" ..
        job.id, '{"completeAfterDateTime":"2025-05-22T17:14:52Z"}')
      assert.are.equal(204, status)
      assert.is_nil(body)
      assert.are.equal("text/plain", headers["Content-Type"])
    end)

    it("answers cancel with 202 and the cancel response", function()
      local status, body = graph:request("POST", JOBS .. "/" .. job.id ..
                                         "/cancel")
      assert.are.equal(202, status)
      assert.are.equal("pendingCancel", body.status)
    end)

    it("echoes client-request-id in the headers and error body", function()
      local status, body, headers = graph:request("GET", JOBS .. "/nope",
        nil, { ["CLIENT-REQUEST-ID"] = "abc-123" })
      assert.are.equal(404, status)
      assert.are.equal("abc-123", headers["client-request-id"])
      local inner = body.error.innerError
      assert.are.equal("abc-123", inner["client-request-id"])
      assert.are.equal(inner["request-id"], headers["request-id"])
      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", inner["request-id"])
      assert.are.equal("2025-11-06T09:00:00", inner.date)
      assert.are.equal('{"error":{"code":"itemNotFound","message":' ..
        '"crossTenantMigrationJob \'nope\' was not found.","innerError":{' ..
        '"date":"2025-11-06T09:00:00","request-id":"' ..
        inner["request-id"] .. '","client-request-id":"abc-123"}}}',
        crosstenant.encode(body))
    end)

    it("uses the request-id as client-request-id when none is sent",
       function()
      local _, body, headers = graph:request("GET", JOBS .. "/nope")
      local inner = body.error.innerError
      assert.are.equal(inner["request-id"], inner["client-request-id"])
      assert.are.equal(inner["request-id"], headers["client-request-id"])
      local _, b2 = graph:request("GET", JOBS .. "/nope")
      assert.are_not.equal(inner["request-id"],
                           b2.error.innerError["request-id"])
    end)

    it("puts the specific code in innerError.code", function()
      local status, body = graph:request("PATCH", JOBS .. "/" .. job.id,
                                         { displayName = "x" })
      assert.are.equal(400, status)
      assert.are.equal("invalidRequest", body.error.code)
      assert.are.equal("propertyNotUpdateable", body.error.innerError.code)
    end)

    it("refuses duplicated headers that disagree", function()
      local status, body = graph:request("GET", JOBS, nil,
        { Authorization = F.token { tid = F.TARGET, scp = F.READ },
          authorization = "Bearer x" })
      assert.are.equal(400, status)
      assert.matches("is given more than once", body.error.message)
    end)

    it("refuses a body on a request that takes none", function()
      local status, body = graph:request("POST", JOBS .. "/" .. job.id ..
                                         "/validate", { x = 1 })
      assert.are.equal(400, status)
      assert.are.equal("This request takes no body.", body.error.message)
      assert.are.equal(200, (graph:request("POST", JOBS .. "/" .. job.id ..
                                           "/validate", "{}")))
    end)

    it("refuses a missing body on create", function()
      local status, body = graph:request("POST", JOBS)
      assert.are.equal(400, status)
      assert.are.equal("A request body is required.", body.error.message)
    end)

    it("refuses bodies past the size limits with 413", function()
      local status, body = graph:request("POST", JOBS,
        '"' .. string.rep("a", 1024 * 1024) .. '"')
      assert.are.equal(413, status)
      assert.are.equal("invalidRequest", body.error.code)
      status = graph:request("POST", JOBS,
        F.job_body { displayName = string.rep("n", 4097) })
      assert.are.equal(413, status)
    end)

    it("raises on wrong argument types", function()
      assert.has_error(function() graph:request(1, "/x") end,
        "bad argument #1 to 'request' (string expected, got number)")
      assert.has_error(function() graph:request("GET", nil) end,
        "bad argument #2 to 'request' (string expected, got nil)")
      assert.has_error(function() graph:request("GET", "/x", 5) end,
        "bad argument #3 to 'request' (string, table or nil expected, got " ..
        "number)")
      assert.has_error(function() graph:request("GET", "/x", nil, "h") end,
        "bad argument #4 to 'request' (table or nil expected, got string)")
    end)
  end)

  describe("query options", function()
    it("pages jobs newest first, 20 a page, with an opaque skiptoken",
       function()
      local g = F.graph()
      local ids = {}
      for i = 1, 45 do
        g:advance(1)
        ids[i] = assert(g:create_job(F.job_body { displayName = "job" .. i,
          resources = { F.users(45)[i] } })).id
      end
      local status, page = g:request("GET", JOBS)
      assert.are.equal(200, status)
      assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
        "solutions/migrations/crossTenantMigrationJobs", page["@odata.context"])
      assert.are.equal(20, #page.value)
      assert.are.equal(ids[45], page.value[1].id)
      local link = page["@odata.nextLink"]
      assert.matches("^https://graph.microsoft.com/beta/solutions/" ..
        "migrations/crossTenantMigrationJobs%?%$skiptoken=", link)
      local n, seen = 20, {}
      for _, j in ipairs(page.value) do seen[j.id] = true end
      while link do
        status, page = g:request("GET", link)
        assert.are.equal(200, status)
        for _, j in ipairs(page.value) do
          n = n + 1
          assert.are.equal(ids[46 - n], j.id)
          assert.is_nil(seen[j.id])
          seen[j.id] = true
        end
        link = page["@odata.nextLink"]
      end
      assert.are.equal(45, n)
    end)

    it("keeps $top in the nextLink and takes top without '$' on beta",
       function()
      local g = F.graph()
      for i = 1, 5 do
        assert(g:create_job(F.job_body { displayName = "j" .. i,
          resources = { F.users(5)[i] } }))
      end
      local _, page = g:request("GET", JOBS .. "?top=2&$count=true")
      assert.are.equal(2, #page.value)
      assert.are.equal(5, page["@odata.count"])
      assert.matches("%$top=2&%$skiptoken=", page["@odata.nextLink"])
      local _, p2 = g:request("GET", page["@odata.nextLink"])
      assert.are.equal(2, #p2.value)
      assert.is_nil(p2["@odata.count"])
    end)

    local errors = {
      { "?$top=0", "Query option '$top' must be an integer from 1 to 999, " ..
                   "not '0'." },
      { "?$top=1000", "Query option '$top' must be an integer from 1 to " ..
                      "999, not '1000'." },
      { "?$top=abc", "Query option '$top' must be an integer from 1 to " ..
                     "999, not 'abc'." },
      { "?$count=maybe", "Query option '$count' must be true or false, not " ..
                         "'maybe'." },
      { "?$frobnicate=1", "Query option '$frobnicate' is not supported." },
      { "?$top=1&$top=2", "Query option '$top' is given twice." },
      { "?$skiptoken=garbage", "The $skiptoken value 'garbage' is not " ..
                               "valid for this collection and query." },
    }
    for _, e in ipairs(errors) do
      it("refuses " .. e[1], function()
        local status, body = graph:request("GET", JOBS .. e[1])
        assert.are.equal(400, status)
        assert.are.equal("invalidRequest", body.error.code)
        assert.are.equal("invalidQueryOption", body.error.innerError.code)
        assert.are.equal(e[2], body.error.message)
      end)
    end

    it("refuses query options on a write", function()
      local status, body = graph:request("POST", JOBS .. "?$top=1",
                                         F.job_body { displayName = "q" })
      assert.are.equal(400, status)
      assert.are.equal("Query options are not allowed on a POST request.",
                       body.error.message)
    end)

    it("refuses list options on a single item", function()
      local status, body = graph:request("GET", JOBS .. "/" .. job.id ..
                                         "?$top=1")
      assert.are.equal(400, status)
      assert.are.equal("Query option '$top' is not supported on this " ..
                       "request.", body.error.message)
    end)

    it("ignores parameters that are not OData options", function()
      assert.are.equal(200, (graph:request("GET", JOBS .. "?foo=bar")))
    end)
  end)
end)
