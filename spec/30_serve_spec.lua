-- `crosstenant serve`: the API over HTTP and HTTPS, driven with curl.
-- Every Graph answer is compared byte for byte with what graph:request
-- answers for the same calls on a twin store made with the same options
-- (seed 1, the default clock), under the server's own service root.
local crosstenant = require "crosstenant"
local S = require "spec.support.server"
local F = require "spec.support.fixtures"

local JSON_TYPE = S.JSON_TYPE
local JOBS = F.JOBS

local function twin()
  return crosstenant.new { seed = 1, now = "2025-11-06T09:00:00Z",
                           failure_rate = 0, strict = true,
                           require_token = false }
end

-- the same call to the server (curl) and to the twin; asserts the status,
-- the body's bytes and every header the twin answers, and returns both
local function same(srv, g, method, target, body, extra, url)
  local r = S.curl(method, url or (srv.base .. target), body, extra)
  local status, tbody, th = g:_request_at(srv.base, method, target,
                                          body, {})
  assert.are.equal(status, r.status)
  local want = type(tbody) == "table" and crosstenant.encode(tbody) or
               tbody or ""
  assert.are.equal(want, r.body)
  for k, v in pairs(th) do
    if k == "Content-Type" and v == "application/json" then v = JSON_TYPE end
    assert.are.equal(v, r.headers[k:lower()], k)
  end
  return r, tbody
end

-- the seed's body of POST .../users
local function task_body(id)
  return '{"@odata.type":"#microsoft.graph.crossTenantMigrationTask",' ..
         '"id":"' .. id .. '","taskType":"user","lastUpdatedDateTime":' ..
         '"2025-11-06T11:26:00Z","currentStatus":[{"@odata.type":' ..
         '"microsoft.graph.crossTenantMigrationServiceStatusDetails",' ..
         '"service":"ODSP"}]}'
end

local function decode(s)
  return assert(crosstenant.decode(s))
end

describe("crosstenant serve", function()
  teardown(S.cleanup)

  describe("Graph paths over HTTP", function()
    local srv, g
    setup(function()
      srv = S.start()
      g = twin()
    end)
    teardown(function()
      S.stopped(srv)
    end)

    it("prints one listening line on stdout", function()
      assert.are.equal(1, #srv.urls)
      assert.truthy(srv.urls[1]:match("^http://127%.0%.0%.1:%d+$"))
    end)

    it("answers a whole migration as graph:request does", function()
      local body = crosstenant.encode(F.job_body { workloads = false })
      local r, job = same(srv, g, "POST", JOBS, body)
      assert.are.equal(201, r.status)
      assert.are.equal(srv.base .. JOBS .. "/" .. job.id, r.headers.location)
      assert.are.equal(srv.base .. "/beta/$metadata#solutions/migrations/" ..
                       "crossTenantMigrationJobs/$entity",
                       decode(r.body)["@odata.context"])
      local path = JOBS .. "/" .. job.id
      same(srv, g, "GET", path)
      r = same(srv, g, "PATCH", path,
               '{"completeAfterDateTime":"2025-12-10T00:00:00Z"}')
      assert.are.same({ 204, "" }, { r.status, r.body })
      local users = F.users(25, "cccccccc")
      for i = 1, 25 do
        r = same(srv, g, "POST", path .. "/users", task_body(users[i]))
        assert.are.equal(201, r.status)
      end
      assert.are.equal(srv.base .. path .. "/users/" .. users[25],
                       r.headers.location)
      same(srv, g, "POST", path .. "/validate")
      -- the clock through the control namespace, the twin by hand
      local a = S.curl("POST", srv.base .. "/_crosstenant/clock/advance",
                       '{"by":"PT1H"}')
      assert.are.equal(200, a.status)
      g:advance("PT1H")
      assert.are.equal(g:now(), decode(a.body).now)
      r = same(srv, g, "GET", path)
      assert.are.equal("validatePassed", decode(r.body).status)
      same(srv, g, "POST", path .. "/migrate")
      -- a page of 20 with a nextLink naming the server, and the next one
      r = same(srv, g, "GET", path .. "/users")
      local page = decode(r.body)
      assert.are.equal(20, #page.value)
      local link = page["@odata.nextLink"]
      assert.are.equal(srv.base .. path .. "/users?$skiptoken=",
                       link:match("^(.-%$skiptoken=)"))
      r = same(srv, g, "GET", link:sub(#srv.base + 1))
      assert.are.equal(8, #decode(r.body).value)   -- 3 resources + 25
      -- an absolute request target naming the server is accepted
      same(srv, g, "GET", link, nil, "--request-target " .. S.quote(link),
           srv.base .. "/")
      r = same(srv, g, "GET", path .. "/users/$count")
      assert.are.same({ "28", "text/plain" },
                      { r.body, r.headers["content-type"] })
      same(srv, g, "GET", path .. "/users/" .. users[3])
      r = same(srv, g, "POST", path .. "/users/" .. users[3] .. "/cancel")
      assert.are.equal(202, r.status)
      r = same(srv, g, "POST", path .. "/cancel")
      assert.are.equal(202, r.status)
      same(srv, g, "GET", JOBS .. "?$top=1&$count=true")
      same(srv, g, "GET", JOBS .. "/$count")
      -- pendingCancel: a 409 until the cancel is through
      r = same(srv, g, "DELETE", path)
      assert.are.equal(409, r.status)
      assert.are.equal(200, S.curl("POST", srv.base ..
                                   "/_crosstenant/clock/advance",
                                   '{"by":"P1D"}').status)
      g:advance("P1D")
      r = same(srv, g, "DELETE", path)
      assert.are.same({ 202, "" }, { r.status, r.body })
      same(srv, g, "GET", path)
    end)

    it("answers Graph's errors as graph:request does", function()
      local r = same(srv, g, "GET", JOBS .. "/nope")
      assert.are.equal(404, r.status)
      assert.are.equal("itemNotFound", decode(r.body).error.code)
      r = same(srv, g, "PUT", JOBS)
      assert.are.equal(405, r.status)
      r = same(srv, g, "POST", JOBS, '{"displayName":')
      assert.are.equal(400, r.status)
      r = same(srv, g, "GET", JOBS .. "?$top=0")
      assert.are.equal(400, r.status)
      r = same(srv, g, "GET", "/beta/me")
      assert.are.equal(404, r.status)
      -- another host in an absolute target is not the server
      local other = "https://example.com" .. JOBS
      r = same(srv, g, "GET", other, nil, "--request-target " ..
               S.quote(other), srv.base .. "/")
      assert.are.equal(404, r.status)
      -- the same client-request-id comes back
      r = S.curl("GET", srv.base .. JOBS .. "/nope", nil,
                 "-H 'client-request-id: abc-123'")
      assert.are.equal("abc-123", r.headers["client-request-id"])
      g:request("GET", JOBS .. "/nope", nil, {})   -- keep the twin in step
    end)

    it("names its own address in links of a request without Host",
       function()
      local r = S.curl("GET", srv.base .. JOBS, nil, "--http1.0 -H 'Host:'")
      assert.are.equal(200, r.status)
      assert.are.equal(srv.base .. "/beta/$metadata#solutions/migrations/" ..
                       "crossTenantMigrationJobs",
                       decode(r.body)["@odata.context"])
      g:request("GET", JOBS)   -- keep the twin in step
    end)

    it("refuses 400 an HTTP/1.1 Host that is absent or not host[:port]",
       function()
      -- its value would be written into Location and @odata links
      for _, extra in ipairs { "-H 'Host;'", "-H 'Host: evil.test/x?'",
                               "-H 'Host: a\"b'", "-H 'Host: a b'" } do
        local r = S.curl("GET", srv.base .. JOBS, nil, extra)
        assert.are.equal(400, r.status, extra)
        local e = decode(r.body).error
        assert.are.equal("invalidRequest", e.code)
        assert.are.equal("The Host header is missing, repeated or not " ..
                         "host[:port].", e.message)
      end
      -- refused before the store: the next request is the twin's next
      assert.are.equal(200, same(srv, g, "GET", JOBS).status)
    end)

    it("logs each request on stderr: method, target, status, ms", function()
      S.curl("GET", srv.base .. JOBS .. "?$top=2")
      g:request("GET", JOBS .. "?$top=2")
      local log = "\n" .. srv:log()
      local function line(text)
        return "\n" .. text:gsub("%p", "%%%0") .. " %d+%.%d ms\n"
      end
      assert.truthy(log:find(line("GET " .. JOBS .. "?$top=2 200")), log)
      assert.truthy(log:find(line("POST " .. JOBS .. " 201")), log)
    end)
  end)

  describe("the control namespace", function()
    local srv
    setup(function() srv = S.start { args = "--quiet" } end)
    teardown(function() S.stopped(srv) end)

    local function ctl(method, path, body)
      local r = S.curl(method, srv.base .. "/_crosstenant" .. path, body)
      return r, r.body ~= "" and decode(r.body) or nil
    end

    it("reports health and the clock", function()
      local r, b = ctl("GET", "/health")
      assert.are.same({ 200, "application/json; charset=utf-8", "ok" },
                      { r.status, r.headers["content-type"], b.status })
      assert.are.equal('{"status":"ok","now":"2025-11-06T09:00:00Z"}', r.body)
      r, b = ctl("GET", "/clock")
      assert.are.same({ 200, { now = "2025-11-06T09:00:00Z" } },
                      { r.status, b })
    end)

    it("answers an absolute target that names the server", function()
      local url = srv.base .. "/_crosstenant/health"
      local r = S.curl("GET", srv.base .. "/", nil,
                       "--request-target " .. S.quote(url))
      assert.are.same({ 200, '{"status":"ok","now":"2025-11-06T09:00:00Z"}' },
                      { r.status, r.body })
      -- another host's control path is not the server's: a Graph 404
      r = S.curl("GET", srv.base .. "/", nil, "--request-target " ..
                 S.quote("http://example.com/_crosstenant/health"))
      assert.are.equal(404, r.status)
      assert.truthy(decode(r.body).error.message:find(
                      "Unknown host or scheme", 1, true))
    end)

    it("advances the clock by a duration or seconds", function()
      local r, b = ctl("POST", "/clock/advance", '{"by":"PT2H"}')
      assert.are.same({ 200, '{"now":"2025-11-06T11:00:00Z","events":0}',
                        0 }, { r.status, r.body, b.events })
      r, b = ctl("POST", "/clock/advance", '{"by":90}')
      assert.are.same({ 200, "2025-11-06T11:01:30Z", 0 },
                      { r.status, b.now, b.events })
      -- transitions run: a job validated then advanced moves on
      local job = decode(S.curl("POST", srv.base .. JOBS,
                                crosstenant.encode(F.job_body())).body)
      S.curl("POST", srv.base .. JOBS .. "/" .. job.id .. "/validate")
      r, b = ctl("POST", "/clock/advance", '{"by":"PT1H"}')
      assert.are.equal(200, r.status)
      assert.truthy(b.events > 0)
    end)

    it("refuses bad advances with 400 in Graph's shape, clock unmoved",
       function()
      local before = select(2, ctl("GET", "/clock")).now
      local cases = {
        { nil, "This request needs a JSON object body." },
        { "[1]", "The body is not a JSON object." },
        { '{"by":"two hours"}', "'by' is not a duration the clock can " ..
          "move: not an ISO 8601 duration: 'two hours'." },
        { '{"by":-5}', "'by' is not a duration the clock can move: " ..
          "seconds must be >= 0." },
        { '{"by":true}', "'by' must be an ISO 8601 duration such as " ..
          "\"PT2H\" or a number of seconds." },
        { '{"by":"PT1H","x":1}', "Unknown property 'x'; advance takes 'by'." },
      }
      for _, c in ipairs(cases) do
        local r, b = ctl("POST", "/clock/advance", c[1])
        assert.are.same({ 400, "invalidRequest", c[2] },
                        { r.status, b.error.code, b.error.message })
        assert.truthy(b.error.innerError["request-id"])
      end
      assert.are.equal(before, select(2, ctl("GET", "/clock")).now)
    end)

    it("answers 404 and 405 of its own", function()
      local r, b = ctl("GET", "/nothing")
      assert.are.same({ 404, "itemNotFound", "No control endpoint " ..
                        "'/_crosstenant/nothing'; see README.md, \"Serving " ..
                        "over HTTP\"." },
                      { r.status, b.error.code, b.error.message })
      r, b = ctl("DELETE", "/clock")
      assert.are.same({ 405, "notSupported", "GET" },
                      { r.status, b.error.code, r.headers.allow })
      assert.are.equal("The method 'DELETE' is not allowed on " ..
                       "/_crosstenant/clock; it takes GET.", b.error.message)
      r = ctl("GET", "/requests/x")
      assert.are.equal(404, r.status)
    end)

    it("scripts outcomes (201) and refuses bad ones (400)", function()
      local r, b = ctl("POST", "/outcomes", '{"user":"' .. F.RESOURCES[1] ..
                       '","service":"ODSP","phase":"migrate"}')
      assert.are.equal(201, r.status)
      assert.are.same({ user = F.RESOURCES[1], service = "ODSP",
                        phase = "migrate", status = "failed",
                        code = "scriptedFailure",
                        message = "Scripted failure." }, b)
      r, b = ctl("POST", "/outcomes", '{"user":"x","service":"ODSP"}')
      assert.are.same({ 400, "Bad outcome: field 'user' must be a user's " ..
                        "GUID." }, { r.status, b.error.message })
      r, b = ctl("POST", "/outcomes", '{"user":"' .. F.RESOURCES[1] ..
                 '","service":"ODSP","colour":"red"}')
      assert.are.same({ 400, "Bad outcome: unknown field 'colour'." },
                      { r.status, b.error.message })
    end)

    it("journals the Graph requests received, and clears them", function()
      local r = ctl("DELETE", "/requests")
      assert.are.same({ 204, "" }, { r.status, r.body })
      S.curl("GET", srv.base .. JOBS .. "?$top=1", nil,
             "-H 'client-request-id: c-1'")
      S.curl("GET", srv.base .. JOBS .. "/nope")
      local b
      r, b = ctl("GET", "/requests")
      assert.are.equal(200, r.status)
      assert.are.equal(2, #b.value)
      assert.are.same({ "GET", JOBS .. "?$top=1", 200, "c-1" },
                      { b.value[1].method, b.value[1].url, b.value[1].status,
                        b.value[1]["client-request-id"] })
      assert.are.same({ JOBS .. "/nope", 404 },
                      { b.value[2].url, b.value[2].status })
      assert.truthy(b.value[2]["request-id"]:match("^%x+%-"))
      assert.are.equal(select(2, ctl("GET", "/clock")).now, b.value[1].time)
      assert.truthy(r.body:find('^{"value":%[{"time":"[^"]+","method":"GET",'
                                .. '"url":'))
      ctl("DELETE", "/requests")
      assert.are.equal('{"value":[]}', ctl("GET", "/requests").body)
    end)

    it("resets to an empty store with the same options", function()
      S.curl("POST", srv.base .. JOBS, crosstenant.encode(F.job_body()))
      local r, b = ctl("POST", "/reset")
      assert.are.same({ 200, "2025-11-06T09:00:00Z" }, { r.status, b.now })
      r = S.curl("GET", srv.base .. JOBS)
      assert.are.equal('{"@odata.context":"' .. srv.base .. '/beta/' ..
                       '$metadata#solutions/migrations/' ..
                       'crossTenantMigrationJobs","value":[]}', r.body)
      -- the same seed: the first job of a reset store has the same id
      local g = twin()
      local job = g:create_job(F.job_body())
      r = S.curl("POST", srv.base .. JOBS, crosstenant.encode(F.job_body()))
      assert.are.equal(job.id, decode(r.body).id)
    end)
  end)

  describe("request ids of the control namespace", function()
    local srv
    setup(function() srv = S.start { args = "--quiet" } end)
    teardown(function() S.stopped(srv) end)

    it("come from the server's own sequence, not the store's", function()
      -- the server's store has seed 1, as the twin
      local ids = require("crosstenant.serve").control_request_ids(1)
      local g = twin()
      local ctl = srv.base .. "/_crosstenant"
      -- a success, a refusal, a 404, a 405 and a 204, before any Graph call
      local r = S.curl("GET", ctl .. "/health")
      local id = ids()
      assert.are.same({ 200, id, id },
                      { r.status, r.headers["request-id"],
                        r.headers["client-request-id"] })
      r = S.curl("POST", ctl .. "/clock/advance", '{"by":true}')
      id = ids()
      local e = decode(r.body).error
      assert.are.same({ 400, "invalidRequest", "'by' must be an ISO 8601 " ..
                        "duration such as \"PT2H\" or a number of seconds.",
                        id, id, id, id, JSON_TYPE },
                      { r.status, e.code, e.message, r.headers["request-id"],
                        r.headers["client-request-id"],
                        e.innerError["request-id"],
                        e.innerError["client-request-id"],
                        r.headers["content-type"] })
      r = S.curl("GET", ctl .. "/nothing")
      assert.are.same({ 404, ids() }, { r.status, r.headers["request-id"] })
      r = S.curl("PUT", ctl .. "/clock")
      id = ids()
      assert.are.same({ 405, "GET", id, id },
                      { r.status, r.headers.allow, r.headers["request-id"],
                        decode(r.body).error.innerError["request-id"] })
      r = S.curl("DELETE", ctl .. "/requests")
      id = ids()
      assert.are.same({ 204, "", id, id },
                      { r.status, r.body, r.headers["request-id"],
                        r.headers["client-request-id"] })
      -- the Graph answers' ids are those of a twin that saw none of them
      r = same(srv, g, "GET", JOBS .. "/nope")
      assert.are.equal(404, r.status)
      r = same(srv, g, "GET", JOBS)
      assert.are.equal(200, r.status)
      -- and the control sequence went on where it was
      r = S.curl("GET", ctl .. "/clock")
      assert.are.equal(ids(), r.headers["request-id"])
    end)

    it("echo the client-request-id sent, in the headers and the error",
       function()
      local ctl = srv.base .. "/_crosstenant"
      local r = S.curl("GET", ctl .. "/health", nil,
                       "-H 'client-request-id: tool-7'")
      assert.are.equal(200, r.status)
      assert.are.equal("tool-7", r.headers["client-request-id"])
      assert.truthy(r.headers["request-id"]:match(
        "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$"))
      assert.are_not.equal("tool-7", r.headers["request-id"])
      r = S.curl("POST", ctl .. "/outcomes", '{"user":"x","service":"ODSP"}',
                 "-H 'Client-Request-Id: tool-8'")
      local e = decode(r.body).error
      assert.are.same({ 400, "Bad outcome: field 'user' must be a user's " ..
                        "GUID.", "tool-8", "tool-8",
                        r.headers["request-id"] },
                      { r.status, e.message, r.headers["client-request-id"],
                        e.innerError["client-request-id"],
                        e.innerError["request-id"] })
      r = S.curl("DELETE", ctl .. "/requests", nil,
                 "-H 'client-request-id: tool-9'")
      assert.are.same({ 204, "tool-9" },
                      { r.status, r.headers["client-request-id"] })
      -- control requests are never journaled
      assert.are.equal('{"value":[]}', S.curl("GET", ctl .. "/requests").body)
    end)
  end)

  describe("throttling and transient faults", function()
    it("takes --throttle: past the budget, 429 with Retry-After", function()
      local srv = S.start { args = "--quiet --throttle 2/600s" }
      assert.are.equal(200, S.curl("GET", srv.base .. JOBS).status)
      assert.are.equal(200, S.curl("GET", srv.base .. JOBS).status)
      local r = S.curl("GET", srv.base .. JOBS)
      local b = decode(r.body)
      assert.are.same({ 429, "activityLimitReached", "throttledRequest" },
                      { r.status, b.error.code, b.error.innerError.code })
      assert.truthy(tonumber(r.headers["retry-after"]) > 0)
      -- the control namespace is never throttled
      assert.are.equal(200, S.curl("GET", srv.base ..
                                   "/_crosstenant/health").status)
      S.stopped(srv)
    end)

    it("scripts faults through /_crosstenant/faults", function()
      local srv = S.start { args = "--quiet --retry-after 3" }
      local ctl = srv.base .. "/_crosstenant/faults"
      local r = S.curl("POST", ctl, '{"status":503,"retry_after":5,' ..
                       '"path":"/crossTenantMigrationJobs"}')
      assert.are.same({ 201, '{"status":503,"retry_after":5,"times":1,' ..
                        '"path":"/crossTenantMigrationJobs"}' },
                      { r.status, r.body })
      r = S.curl("GET", ctl)
      assert.are.equal('{"value":[{"status":503,"retry_after":5,' ..
                       '"times":1,"path":"/crossTenantMigrationJobs"}]}',
                       r.body)
      r = S.curl("GET", srv.base .. JOBS)
      assert.are.same({ 503, "5", "serviceNotAvailable" },
                      { r.status, r.headers["retry-after"],
                        decode(r.body).error.code })
      assert.are.equal('{"value":[]}', S.curl("GET", ctl).body)
      -- the store's retry_after is the default of a scripted fault
      r = S.curl("POST", ctl, '{"status":504,"method":"get"}')
      assert.are.equal('{"status":504,"retry_after":3,"times":1,' ..
                       '"method":"GET"}', r.body)
      r = S.curl("POST", ctl, '{"status":500}')
      assert.are.same({ 400, "Bad fault: field 'status' must be 429, 503 " ..
                        "or 504." }, { r.status, decode(r.body).error.message })
      r = S.curl("GET", srv.base .. "/_crosstenant/requests")
      local j = decode(r.body).value
      assert.are.same({ 1, 503 }, { #j, j[1].status })
      S.stopped(srv)
    end)

    it("refuses bad fault options with one line", function()
      local dir = S.tmpdir()
      for _, c in ipairs {
        { "--throttle 5", "--throttle must be REQUESTS/SECONDS such as " ..
          "100/10s, not '5'" },
        { "--throttle 0/1s", "--throttle needs 1 request or more per " ..
          "window, not '0/1s'" },
        { "--throttle 5/0s", "--throttle needs a window above 0 and at " ..
          "most 86400 seconds, not '5/0s'" },
        { "--throttle 5/86401s", "--throttle needs a window above 0 and " ..
          "at most 86400 seconds, not '5/86401s'" },
        { "--fault-rate 500=0.1", "--fault-rate takes the statuses 429, " ..
          "503 and 504, not 500 (in '500=0.1')" },
        { "--fault-rate 429=1.5", "--fault-rate's rates must be from 0 to " ..
          "1, not 1.5 (in '429=1.5')" },
        { "--fault-rate 429=0.6,503=0.5", "--fault-rate's rates add up to " ..
          "more than 1 in '429=0.6,503=0.5'" },
        { "--fault-rate 429=x", "--fault-rate must be STATUS=RATE[,...] " ..
          "such as 429=0.05,503=0.01, not '429=x'" },
        { "--retry-after soon", "--retry-after must be a whole number of " ..
          "seconds from 1 to 86400, not 'soon'" },
        { "--retry-after 0", "--retry-after must be a whole number of " ..
          "seconds from 1 to 86400, not '0'" },
        { "--retry-after 86401", "--retry-after must be a whole number of " ..
          "seconds from 1 to 86400, not '86401'" },
        -- a negative number is the flag's value, not an unknown option
        { "--retry-after -3", "--retry-after must be a whole number of " ..
          "seconds from 1 to 86400, not '-3'" },
      } do
        local p = io.popen(S.ENV .. "lua5.4 bin/crosstenant serve " .. c[1] ..
                           " 2>" .. dir .. "/err")
        local out = p:read("a")
        local _, _, code = p:close()
        assert.are.same({ 2, "", "crosstenant: " .. c[2] .. "\n" ..
                          "Try 'crosstenant --help'.\n" },
                        { code, out, S.slurp(dir .. "/err") })
      end
    end)
  end)

  describe("HTTPS", function()
    it("serves https://localhost with a certificate of its local CA",
       function()
      local dir = S.tmpdir()   -- empty: the certificate is made there
      local srv = S.start { args = "--https-port 0 --tls " .. dir, lines = 2 }
      assert.truthy(srv.urls[2]:match("^https://localhost:%d+$"))
      local url = srv.urls[2]
      local r = S.curl("GET", url .. JOBS, nil, "--cacert " .. dir ..
                       "/ca.pem")
      assert.are.equal(200, r.status)
      assert.are.equal(url .. "/beta/$metadata#solutions/migrations/" ..
                       "crossTenantMigrationJobs",
                       decode(r.body)["@odata.context"])
      assert.are.equal(JSON_TYPE, r.headers["content-type"])
      -- without the CA, curl refuses the certificate
      r = S.curl("GET", url .. JOBS)
      assert.are.equal(0, r.status)
      -- plain HTTP still answers on its own port
      assert.are.equal(200, S.curl("GET", srv.urls[1] .. JOBS).status)
      S.stopped(srv)
      -- a second start reuses the certificate
      local cert = S.slurp(dir .. "/cert.pem")
      srv = S.start { args = "--https-port 0 --tls " .. dir, lines = 2 }
      assert.are.equal(cert, S.slurp(dir .. "/cert.pem"))
      S.stopped(srv, "INT")
    end)

    it("takes --cert and --key; `crosstenant cert DIR` makes them",
       function()
      local dir = S.tmpdir()
      local p = io.popen(S.ENV .. "lua5.4 bin/crosstenant cert " .. dir)
      local out = p:read("a")
      assert.truthy(p:close())
      assert.are.equal("made " .. dir .. "/ca.pem, " .. dir .. "/cert.pem " ..
                       "and " .. dir .. "/key.pem\n", out)
      p = io.popen(S.PLAIN .. "openssl x509 -noout -ext subjectAltName " ..
                   "-in " .. dir .. "/cert.pem && " .. S.PLAIN ..
                   "openssl verify -CAfile " .. dir ..
                   "/ca.pem " .. dir .. "/cert.pem 2>&1")
      out = p:read("a")
      p:close()
      assert.truthy(out:find("DNS:localhost, IP Address:127.0.0.1, " ..
                             "IP Address:0:0:0:0:0:0:0:1", 1, true), out)
      assert.truthy(out:find(": OK\n", 1, true), out)
      local srv = S.start { args = "--https-port 0 --cert " .. dir ..
                            "/cert.pem --key " .. dir .. "/key.pem",
                            lines = 2 }
      local r = S.curl("GET", srv.urls[2] .. "/_crosstenant/health", nil,
                       "--cacert " .. dir .. "/ca.pem")
      assert.are.equal(200, r.status)
      S.stopped(srv)
    end)

    it("refuses a --cert and --key that do not match, before listening",
       function()
      local a, b = S.tmpdir(), S.tmpdir()
      for _, d in ipairs { a, b } do
        local p = io.popen(S.ENV .. "lua5.4 bin/crosstenant cert " .. d)
        p:read("a")
        assert.truthy(p:close())
      end
      local junk = S.tmpdir() .. "/junk.pem"
      S.spew(junk, "not a PEM file\n")
      -- the port is free: the refusal is about the pair, never the port
      local free = S.start { args = "--quiet" }
      local port = free.port
      S.stopped(free)
      local cases = {
        { a .. "/cert.pem", b .. "/key.pem", "the certificate '" .. a ..
          "/cert.pem' and the key '" .. b .. "/key.pem' do not match (the " ..
          "key is not the certificate's)" },
        { junk, a .. "/key.pem", "the certificate '" .. junk .. "' is not " ..
          "a PEM certificate openssl can read" },
        { a .. "/cert.pem", junk, "the key '" .. junk .. "' is not a PEM " ..
          "private key openssl can read without a pass phrase" },
        -- a certificate where the key should be
        { a .. "/cert.pem", a .. "/cert.pem", "the key '" .. a ..
          "/cert.pem' is not a PEM private key openssl can read without a " ..
          "pass phrase" },
      }
      for _, c in ipairs(cases) do
        local dir = S.tmpdir()
        local p = io.popen(S.ENV .. "timeout 60 lua5.4 bin/crosstenant " ..
                           "serve --port " .. port .. " --https-port 0 " ..
                           "--cert " .. c[1] .. " --key " .. c[2] .. " 2>" ..
                           dir .. "/err")
        local out = p:read("a")
        local _, _, code = p:close()
        assert.are.same({ 1, "", "crosstenant: " .. c[3] .. "\n" },
                        { code, out, S.slurp(dir .. "/err") })
      end
      -- graph:serve returns the same words, before it listens
      local script = S.tmpdir() .. "/serve.lua"
      S.spew(script, "local g = require('crosstenant').new {}\n" ..
             "print(g:serve { port = 0, https_port = 0, cert = arg[1], " ..
             "key = arg[2] })\n")
      local p = io.popen(S.ENV .. "timeout 60 lua5.4 " .. script .. " " ..
                         a .. "/cert.pem " .. b .. "/key.pem 2>&1")
      local out = p:read("a")
      p:close()
      assert.are.equal("nil\t" .. cases[1][3] .. "\n", out)
    end)

    it("names the host it listens on in its https line", function()
      local serve = require "crosstenant.serve"
      assert.are.same({ "localhost", "localhost", "localhost", "127.0.0.2",
                        "[::2]", "0.0.0.0", "127.0.0.1", "[::1]",
                        "example.test" },
                      { serve.url_host(nil, true),
                        serve.url_host("::1", true),
                        serve.url_host("localhost", true),
                        serve.url_host("127.0.0.2", true),
                        serve.url_host("::2", true),
                        serve.url_host("0.0.0.0", true),
                        serve.url_host(nil), serve.url_host("::1"),
                        serve.url_host("example.test", true) })
      local dir = S.tmpdir()
      -- 127.0.0.2: the line names it, and it answers there; the --tls
      -- certificate does not cover it (README: serve your own)
      local srv = S.start { args = "-q --host 127.0.0.2 --https-port 0 " ..
                            "--tls " .. dir, lines = 2 }
      assert.are.same({ "http://127.0.0.2:" .. srv.port,
                        "https://127.0.0.2:" .. srv.https_port }, srv.urls)
      local r = S.curl("GET", srv.urls[2] .. "/_crosstenant/health", nil,
                       "--cacert " .. dir .. "/ca.pem")
      assert.are.equal(0, r.status)         -- refused: not in the certificate
      r = S.curl("GET", "https://localhost:" .. srv.https_port ..
                 "/_crosstenant/health", nil, "--cacert " .. dir ..
                 "/ca.pem --resolve localhost:" .. srv.https_port ..
                 ":127.0.0.2")
      assert.are.equal(200, r.status)       -- it is there
      assert.are.equal(200, S.curl("GET", srv.urls[1] ..
                                   "/_crosstenant/health").status)
      S.stopped(srv)
      -- ::1: the https line names localhost, which the certificate covers
      srv = S.start { args = "-q --host ::1 --https-port 0 --tls " .. dir,
                      lines = 2 }
      assert.are.same({ "http://[::1]:" .. srv.port,
                        "https://localhost:" .. srv.https_port }, srv.urls)
      r = S.curl("GET", srv.urls[2] .. "/_crosstenant/health", nil,
                 "--cacert " .. dir .. "/ca.pem")
      assert.are.equal(200, r.status)
      S.stopped(srv)
    end)
  end)

  describe("a TLS directory of the user's", function()
    -- `crosstenant ARGS`, which must exit at once (bounded all the same)
    local function run(args) return S.command(args, 60) end

    -- the files of `dir`, name -> bytes
    local function files(dir)
      local p = io.popen(S.PLAIN .. "ls -A " .. S.quote(dir))
      local t = {}
      for name in p:lines() do t[name] = S.slurp(dir .. "/" .. name) end
      p:close()
      return t
    end

    -- a CA of the user's in `dir`: ca.pem and its key ca-key.pem
    local function user_ca(dir)
      assert(os.execute(S.PLAIN .. "openssl req -x509 -newkey ec " ..
        "-pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " .. dir ..
        "/ca-key.pem -out " .. dir .. "/ca.pem -days 30 " ..
        "-subj '/CN=a user CA' -addext 'basicConstraints=critical,CA:TRUE' " ..
        "-addext 'keyUsage=critical,keyCertSign,cRLSign' >/dev/null 2>&1"))
    end

    -- `openssl verify` of dir/cert.pem against dir/ca.pem, and its SAN
    local function verified(dir)
      local p = io.popen(S.PLAIN .. "openssl x509 -noout -ext " ..
                         "subjectAltName -in " .. dir .. "/cert.pem && " ..
                         S.PLAIN .. "openssl verify -CAfile " .. dir ..
                         "/ca.pem " .. dir .. "/cert.pem 2>&1")
      local out = p:read("a")
      p:close()
      return out:find("DNS:localhost, IP Address:127.0.0.1, " ..
                      "IP Address:0:0:0:0:0:0:0:1", 1, true) ~= nil and
             out:find(dir .. "/cert.pem: OK\n", 1, true) ~= nil
    end

    it("is refused, with one line and nothing written, when a new CA " ..
       "would overwrite or ignore the user's", function()
      local CA_NO_KEY = "has ca.pem but not its key ca-key.pem, so no " ..
        "certificate can be issued from it; add ca-key.pem, or cert.pem " ..
        "and key.pem"
      local cases = {
        { { "ca.pem" }, CA_NO_KEY },
        { { "ca.pem", "ca-key.pem", "cert.pem" }, "has cert.pem but no " ..
          "key.pem; it needs both, or neither to have them made" },
        { { "key.pem" }, "has key.pem but no cert.pem; it needs both, or " ..
          "neither to have them made" },
        { { "ca-key.pem" }, "has ca-key.pem but no ca.pem; add the CA's " ..
          "certificate as ca.pem, or remove ca-key.pem" },
      }
      for _, c in ipairs(cases) do
        local dir = S.tmpdir()
        for _, name in ipairs(c[1]) do
          S.spew(dir .. "/" .. name, "the user's " .. name .. "\n")
        end
        local before = files(dir)
        local want = "crosstenant: the TLS directory '" .. dir .. "' " ..
                     c[2] .. "\n"
        -- refused before the store file is made
        local data = S.tmpdir() .. "/data"
        local r = run("serve --port 0 --https-port 0 --tls " .. dir ..
                      " --data " .. data)
        assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
        assert.are.same(before, files(dir))
        assert.is_nil(io.open(data, "rb"))
        r = run("cert " .. dir)
        assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
        assert.are.same(before, files(dir))
        -- graph:serve, before it listens (in a child: a server that
        -- did listen would block)
        local script = S.tmpdir() .. "/serve.lua"
        S.spew(script, "local g = require('crosstenant').new {}\n" ..
               "print(g:serve { port = 0, https_port = 0, tls = arg[1] })\n")
        local p = io.popen(S.ENV .. "timeout 60 lua5.4 " .. script .. " " ..
                           dir .. " 2>&1")
        local out = p:read("a")
        p:close()
        assert.are.equal("nil\t" .. want:match("^crosstenant: (.*)$"), out)
        assert.are.same(before, files(dir))
      end
    end)

    it("issues the certificate from ca.pem and ca-key.pem", function()
      local dir = S.tmpdir()
      user_ca(dir)
      local ca = files(dir)
      local srv = S.start { args = "-q --https-port 0 --tls " .. dir,
                            lines = 2 }
      local r = S.curl("GET", srv.urls[2] .. "/_crosstenant/health", nil,
                       "--cacert " .. dir .. "/ca.pem")
      assert.are.equal(200, r.status)
      S.stopped(srv)
      local now = files(dir)
      assert.are.same({ ca["ca.pem"], ca["ca-key.pem"] },
                      { now["ca.pem"], now["ca-key.pem"] })
      assert.truthy(now["cert.pem"] and now["key.pem"])
      assert.is_true(verified(dir))
      -- `crosstenant cert` overwrites nothing
      r = run("cert " .. dir)
      assert.are.same({ 1, "", "crosstenant: the TLS directory '" .. dir ..
                        "' has cert.pem and key.pem already; remove them " ..
                        "to make new ones\n" }, { r.code, r.out, r.err })
      assert.are.same(now, files(dir))
      -- and issues from the user's CA too
      os.remove(dir .. "/cert.pem")
      os.remove(dir .. "/key.pem")
      r = run("cert " .. dir)
      assert.are.same({ 0, "made " .. dir .. "/cert.pem and " .. dir ..
                        "/key.pem from " .. dir .. "/ca.pem\n", "" },
                      { r.code, r.out, r.err })
      assert.are.same({ ca["ca.pem"], ca["ca-key.pem"] },
                      { files(dir)["ca.pem"], files(dir)["ca-key.pem"] })
      assert.is_true(verified(dir))
    end)

    it("is left as it was when openssl can't issue from it", function()
      local dir, other = S.tmpdir(), S.tmpdir()
      user_ca(dir)
      user_ca(other)
      -- a key that is not the CA's
      S.spew(dir .. "/ca-key.pem", S.slurp(other .. "/ca-key.pem"))
      local before = files(dir)
      local want = "crosstenant: openssl could not issue a certificate " ..
                   "from '" .. dir .. "/ca.pem' with the key '" .. dir ..
                   "/ca-key.pem'\n"
      local r = run("serve --port 0 --https-port 0 --tls " .. dir)
      assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
      assert.are.same(before, files(dir))
      r = run("cert " .. dir)
      assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
      assert.are.same(before, files(dir))
    end)

    it("that can't be made is one line of ours, exit 1", function()
      local file = S.tmpdir() .. "/file"
      S.spew(file, "a regular file\n")
      local want = "crosstenant: can't make the directory '" .. file ..
                   "/tls' (Not a directory)\n"
      local r = run("serve --port 0 --https-port 0 --tls " .. file .. "/tls")
      assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
      r = run("cert " .. file .. "/tls")
      assert.are.same({ 1, "", want }, { r.code, r.out, r.err })
      assert.are.equal("a regular file\n", S.slurp(file))
    end)
  end)

  describe("the command", function()
    local run = S.command

    it("exits 2 with one line on a usage error", function()
      local cases = {
        { "serve --port x", "--port must be a port from 0 to 65535, not 'x'" },
        { "serve --port 70000", "--port must be a port from 0 to 65535, " ..
          "not '70000'" },
        { "serve --https-port 0", "--https-port needs --tls DIR or --cert " ..
          "and --key" },
        { "serve --cert a.pem", "--cert and --key go together" },
        { "serve --tls d --cert a --key b", "--tls or --cert/--key, not both" },
        { "serve --clock fast", "--clock must be manual, real or xN (N " ..
          "model seconds per wall second, e.g. x3600), not 'fast'" },
        { "serve --colour", "unknown option '--colour'" },
        { "cert", "missing DIR" },
        { "serve --now yesterday", "--now must be an ISO 8601 date-time, " ..
          "not 'yesterday' (invalid format)" },
        { "serve --throttle 0/1s", "--throttle needs 1 request or more " ..
          "per window, not '0/1s'" },
        -- a negative number after a flag that takes a value is its value
        { "serve --port -1", "--port must be a port from 0 to 65535, " ..
          "not '-1'" },
        { "serve --port=-1", "--port must be a port from 0 to 65535, " ..
          "not '-1'" },
        { "serve --https-port -443 --tls d", "--https-port must be a port " ..
          "from 0 to 65535, not '-443'" },
        { "serve --failure-rate -0.5", "--failure-rate must be a number " ..
          "from 0 to 1, not '-0.5'" },
        { "serve --latency -5ms", "--latency must be MIN-MAX or one " ..
          "duration in ms or s (0 needs no unit), at most 600s, such as " ..
          "20-200ms, 50ms, 0.1-0.5s or 0, not '-5ms'" },
        -- after `--`, words go to the script; options before it still count
        { "serve --port -1 x.lua -- --port -1", "--port must be a port " ..
          "from 0 to 65535, not '-1'" },
        -- a word that is not a number is still read as an option
        { "serve --port -x", "unknown option '-x'" },
      }
      for _, c in ipairs(cases) do
        local r = run(c[1])
        assert.are.same({ 2, "", "crosstenant: " .. c[2] .. "\n" ..
                          "Try 'crosstenant --help'.\n" },
                        { r.code, r.out, r.err })
      end
    end)

    it("exits 1 when the port is taken", function()
      local srv = S.start { args = "--quiet" }
      local r = run("serve --port " .. srv.port)
      assert.are.same({ 1, "" }, { r.code, r.out })
      assert.are.equal("crosstenant: can't listen on 127.0.0.1 port " ..
                       srv.port .. ": the port is taken or the address is " ..
                       "not local\n", r.err)
      S.stopped(srv)
    end)

    it("runs the scenario first, with its arguments, then serves its store",
       function()
      local dir = S.tmpdir()
      S.spew(dir .. "/s.lua", [[
        local name = ...
        assert(graph == select(1, ...) or true)
        local job = assert(graph:create_job { displayName = select(2, ...),
          completeAfterDateTime = graph:now(), sourceTenantId = "]] ..
          F.SOURCE .. [[", resourceType = "Users",
          resources = { "]] .. F.RESOURCES[1] .. [[" },
          workloads = { "ODSP" } })
        print("made " .. job.id)
      ]])
      local srv = S.start { args = "--quiet " .. dir .. "/s.lua -- batch-7" }
      local r = S.curl("GET", srv.base .. JOBS)
      local page = decode(r.body)
      assert.are.equal(1, #page.value)
      assert.are.equal("batch-7", page.value[1].displayName)
      local rc, out, err = srv:stop()
      assert.are.same({ 0, "listening on " .. srv.base .. "\n",
                        "made " .. page.value[1].id .. "\n" },
                      { rc, out, err })
    end)

    it("answers 500 when Lua fails in a request, and goes on", function()
      local dir = S.tmpdir()
      -- a Lua error on the Graph path once the core answered
      S.spew(dir .. "/s.lua", [[
        local graph = ...
        graph:on("job", function() end)
        graph._flush = function() error("flush broke") end
      ]])
      local srv = S.start { args = dir .. "/s.lua" }
      local r = S.curl("POST", srv.base .. JOBS,
                       crosstenant.encode(F.job_body()))
      local b = decode(r.body)
      assert.are.same({ 500, "generalException", "The server failed to " ..
                        "answer this request; see its log." },
                      { r.status, b.error.code, b.error.message })
      assert.truthy(srv:log():find("flush broke", 1, true))
      r = S.curl("GET", srv.base .. "/_crosstenant/health")
      assert.are.equal(200, r.status)
      S.stopped(srv)
    end)

    it("moves the model clock with the wall clock with --clock x36000",
       function()
      local srv = S.start { args = "--quiet --clock x36000" }
      local job = decode(S.curl("POST", srv.base .. JOBS,
                                crosstenant.encode(F.job_body())).body)
      S.curl("POST", srv.base .. JOBS .. "/" .. job.id .. "/validate")
      -- 10 model hours a wall second: validation is over a second later
      S.sleep(1.2)
      local r = S.curl("GET", srv.base .. JOBS .. "/" .. job.id)
      assert.are.equal("validatePassed", decode(r.body).status)
      local now = decode(S.curl("GET", srv.base .. "/_crosstenant/clock")
                         .body).now
      assert.truthy(now >= "2025-11-06T12:00:00Z", now)
      S.stopped(srv)
    end)
  end)
end)
