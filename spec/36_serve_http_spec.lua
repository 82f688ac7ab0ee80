-- `crosstenant serve` and the finer points of HTTP a new user met: an
-- observer's error, the server's own 500, repeated header names, 405
-- with Allow, HEAD and OPTIONS, the journal of the listener's refusals,
-- one header order on both paths, and Host's port.
local crosstenant = require "crosstenant"
local S = require "spec.support.server"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS
local JSON_TYPE, GUID = S.JSON_TYPE, S.GUID

local function decode(s)
  return assert(crosstenant.decode(s))
end

-- a server running `scenario` (spec/support/server.lua)
local start = S.start_scenario

-- the store a server without options serves, in-process
local function twin()
  return crosstenant.new { seed = 1, now = F.NOW, failure_rate = 0,
                           strict = true, require_token = false }
end

local OBSERVED = [[
  graph:on("job", function() end)
  graph:on("task", function() end)
]]

-- makes the Lua request path fail: what is still answered is C's
local NO_LUA_PATH = [[
  getmetatable(graph._core).__index.request_text = function()
    error("the Lua request path answered")
  end
]]

local function journal(srv)
  local r = S.curl("GET", srv.base .. "/_crosstenant/requests")
  assert.are.equal(200, r.status)
  return decode(r.body).value
end

local function jobs(srv)
  return decode(S.curl("GET", srv.base .. JOBS).body).value
end

describe("crosstenant serve, an observer's error", function()
  teardown(S.cleanup)

  it("keeps the change and answers the store's answer, logged with " ..
     "its traceback", function()
    local srv = start([[
      graph:on("job", function(_, _, new)
        if new == "validateSubmitted" then error("observer boom") end
      end)
    ]], "--quiet", true)
    local g = twin()
    local body = crosstenant.encode(F.job_body())
    local r = S.curl("POST", srv.base .. JOBS, body)
    local ts, _, th = g:_request_at(srv.base, "POST", JOBS, body, {})
    assert.are.same({ ts, th["request-id"] },
                    { r.status, r.headers["request-id"] })
    local id = decode(r.body).id
    local path = JOBS .. "/" .. id .. "/validate"
    r = S.curl("POST", srv.base .. path, nil,
               "-H 'client-request-id: mine-123'")
    local tb
    ts, tb, th = g:_request_at(srv.base, "POST", path, nil,
                               { ["client-request-id"] = "mine-123" })
    assert.are.equal(ts, r.status)
    assert.are.equal(200, r.status)
    assert.are.equal("mine-123", r.headers["client-request-id"])
    assert.are.equal(th["request-id"], r.headers["request-id"])
    assert.are.equal(crosstenant.encode(tb), r.body)
    assert.are.equal("validateSubmitted", decode(r.body).status)
    -- the log: one line, then the traceback
    local log = srv:log()
    local line = "crosstenant: error in an observer (the change stands; " ..
                 "the client gets the store's answer): "
    local at = log:find(line, 1, true)
    assert.truthy(at, log)
    assert.truthy(log:find("observer boom\nstack traceback:\n", at, true),
                  log)
    -- the server goes on, one id for one id with the twin
    r = S.curl("POST", srv.base .. path)
    ts, tb, th = g:_request_at(srv.base, "POST", path, nil, {})
    assert.are.same({ 409, 409, th["request-id"], crosstenant.encode(tb) },
                    { ts, r.status, r.headers["request-id"], r.body })
    S.stopped(srv)
  end)

  it("never stops the other observers", function()
    local srv = start([[
      local seen = {}
      graph:on("job", function() error("first fails") end)
      graph:on("job", function(job, _, new) seen[#seen + 1] = new end)
      graph:on("task", function() error("task observer fails") end)
      -- the control namespace's reset is Lua's: it tells what was seen
      local fail = graph.fail
      graph.fail = function(self, t)
        if t.user == "seen" then
          return nil, { status = 418, code = "seen",
                        message = table.concat(seen, ",") }
        end
        return fail(self, t)
      end
    ]], "--quiet")
    local job = decode(S.curl("POST", srv.base .. JOBS,
                              crosstenant.encode(F.job_body())).body)
    assert.are.equal(200, S.curl("POST", srv.base .. JOBS .. "/" .. job.id ..
                                 "/validate").status)
    local r = S.curl("POST", srv.base .. "/_crosstenant/outcomes",
                     '{"user":"seen"}')
    assert.are.same({ 418, "validateSubmitted" },
                    { r.status, decode(r.body).error.message })
    S.stopped(srv)
  end)

  it("is logged when the clock moves a job too", function()
    local srv = start([[
      graph:on("job", function(_, _, new)
        if new == "validatePassed" then error("late boom") end
      end)
    ]], "--quiet")
    local job = decode(S.curl("POST", srv.base .. JOBS,
                              crosstenant.encode(F.job_body())).body)
    S.curl("POST", srv.base .. JOBS .. "/" .. job.id .. "/validate")
    local r = S.curl("POST", srv.base .. "/_crosstenant/clock/advance",
                     '{"by":"P1D"}')
    assert.are.equal(200, r.status)
    assert.truthy(srv:log():find("late boom", 1, true))
    r = S.curl("GET", srv.base .. JOBS .. "/" .. job.id)
    assert.are.equal("validatePassed", decode(r.body).status)
    S.stopped(srv)
  end)
end)

describe("crosstenant serve, its own 500", function()
  teardown(S.cleanup)

  it("takes a request-id of its own and echoes client-request-id",
     function()
    -- a Lua error on the Graph path once the core answered
    local srv = start(OBSERVED .. [[
      local flush, n = graph._flush, 0
      graph._flush = function(self)
        n = n + 1
        if n % 2 == 1 then error("flush broke") end
        return flush(self)
      end
    ]], "--quiet", true)
    local g = twin()
    local body = crosstenant.encode(F.job_body())
    local r = S.curl("POST", srv.base .. JOBS, body,
                     "-H 'client-request-id: mine-1'")
    local _, _, th = g:_request_at(srv.base, "POST", JOBS, body, {})
    local e = decode(r.body).error
    local id = r.headers["request-id"]
    assert.are.same({ 500, "generalException", "The server failed to " ..
                      "answer this request; see its log.", "mine-1",
                      "mine-1", id, JSON_TYPE },
                    { r.status, e.code, e.message,
                      r.headers["client-request-id"],
                      e.innerError["client-request-id"],
                      e.innerError["request-id"],
                      r.headers["content-type"] })
    assert.truthy(id:match(GUID), id)
    assert.are_not.equal(th["request-id"], id)
    -- the store's sequence is the twin's: the next id is the twin's next
    r = S.curl("GET", srv.base .. JOBS)
    _, _, th = g:_request_at(srv.base, "GET", JOBS, nil, {})
    assert.are.equal(th["request-id"], r.headers["request-id"])
    -- without client-request-id, it is the request-id
    r = S.curl("POST", srv.base .. JOBS, crosstenant.encode(
      F.job_body { displayName = "b" }))
    assert.are.same({ 500, r.headers["request-id"] },
                    { r.status, r.headers["client-request-id"] })
    local v = journal(srv)
    assert.are.same({ "POST", 500, id, "mine-1" },
                    { v[1].method, v[1].status, v[1]["request-id"],
                      v[1]["client-request-id"] })
    assert.truthy(srv:log():find("flush broke", 1, true))
    S.stopped(srv)
  end)
end)

describe("crosstenant serve, a repeated header name", function()
  teardown(S.cleanup)

  for _, path in ipairs { "C", "Lua" } do
    it("is folded without regard to case on the " .. path .. " path",
       function()
      local srv = start(path == "C" and NO_LUA_PATH or OBSERVED, "--quiet")
      for _, extra in ipairs {
        "-H 'client-request-id: a' -H 'client-request-id: b'",
        "-H 'Client-Request-Id: a' -H 'client-request-id: b'",
        "-H 'CLIENT-REQUEST-ID: a' -H 'x-other: 1' -H 'client-Request-id: b'",
      } do
        local r = S.curl("GET", srv.base .. JOBS, nil, extra)
        assert.are.same({ 200, "a, b" },
                        { r.status, r.headers["client-request-id"] }, extra)
      end
      -- an Authorization sent twice is one value "t1, t2": not a token
      local r = S.curl("GET", srv.base .. JOBS, nil,
                       "-H 'Authorization: Bearer x' " ..
                       "-H 'authorization: Bearer y'")
      assert.are.equal(401, r.status)
      assert.is_nil(srv:log():find("Lua request path", 1, true))
      S.stopped(srv)
    end)
  end
end)

describe("crosstenant serve, methods", function()
  teardown(S.cleanup)

  it("answers 405 with Allow, as graph:request does", function()
    local g = twin()
    local s, b, h = g:request("PUT", JOBS)
    assert.are.same({ 405, "notSupported", "The method 'PUT' is not " ..
                      "allowed on this resource; it takes GET, POST.",
                      "GET, POST" },
                    { s, b.error.code, b.error.message, h.Allow })
    s, b, h = g:request("GET", JOBS)
    assert.are.same({}, b.value)
    assert.are.same({ 200 }, { s, h.Allow })
    for _, path in ipairs { "C", "Lua" } do
      local srv = start(path == "Lua" and OBSERVED or nil, "--quiet")
      local job = decode(S.curl("POST", srv.base .. JOBS,
                                crosstenant.encode(F.job_body())).body)
      for _, c in ipairs {
        { "PUT", JOBS, "GET, POST" },
        { "OPTIONS", JOBS, "GET, POST" },
        { "POST", JOBS .. "/" .. job.id, "DELETE, GET, PATCH" },
        { "GET", JOBS .. "/" .. job.id .. "/validate", "POST" },
        { "HEAD", JOBS .. "/" .. job.id .. "/cancel", "POST" },
      } do
        local r = S.curl(c[1], srv.base .. c[2], nil,
                         c[1] == "HEAD" and "-I" or nil)
        assert.are.same({ 405, c[3] }, { r.status, r.headers.allow },
                        path .. " " .. c[1] .. " " .. c[2])
        if c[1] ~= "HEAD" then
          local e = decode(r.body).error
          assert.are.same({ "notSupported", "The method '" .. c[1] ..
                            "' is not allowed on this resource; it takes " ..
                            c[3] .. "." }, { e.code, e.message })
        end
      end
      -- nothing changed: the job is as it was made
      local list = jobs(srv)
      assert.are.same({ 1, "submitted" }, { #list, list[1].status })
      S.stopped(srv)
    end
  end)

  it("answers HEAD as GET without the body, journaled as HEAD",
     function()
    for _, path in ipairs { "C", "Lua" } do
      local srv = start(path == "Lua" and OBSERVED or nil, "--quiet")
      S.curl("POST", srv.base .. JOBS, crosstenant.encode(F.job_body()))
      local get = S.curl("GET", srv.base .. JOBS)
      local head = S.curl("HEAD", srv.base .. JOBS, nil, "-I")
      -- (curl -I writes the head where the body would go: no byte after)
      assert.are.same({ 200, JSON_TYPE, get.headers["content-length"] },
                      { head.status, head.headers["content-type"],
                        head.headers["content-length"] }, path)
      assert.are.equal("\r\n\r\n", head.body:sub(-4), path)
      assert.is_nil(head.body:find("{", 1, true), path)
      assert.are.same(get.names, head.names, path)
      local v = journal(srv)
      assert.are.same({ "HEAD", JOBS, 200 },
                      { v[3].method, v[3].url, v[3].status }, path)
      -- the control namespace too
      head = S.curl("HEAD", srv.base .. "/_crosstenant/health", nil, "-I")
      assert.are.same({ 200, "\r\n\r\n" },
                      { head.status, head.body:sub(-4) }, path)
      assert.is_nil(head.body:find("{", 1, true), path)
      assert.are.equal(1, #jobs(srv))
      S.stopped(srv)
    end
  end)
end)

describe("crosstenant serve, the listener's refusals", function()
  teardown(S.cleanup)

  it("are journaled and change nothing", function()
    local srv = start(nil, "--quiet", true)
    local big = string.rep("x", 1024 * 1024 + 1)
    local r = S.curl("POST", srv.base .. JOBS, big,
                     "-H 'client-request-id: big-1'")
    assert.are.equal(413, r.status)
    local id413 = r.headers["request-id"]
    r = S.curl("GET", srv.base .. JOBS .. "?a=1", nil, "-H 'Host: a b'")
    assert.are.equal(400, r.status)
    local v = journal(srv)
    assert.are.same({ { "POST", JOBS, 413, id413, "big-1" },
                      { "GET", JOBS .. "?a=1", 400, r.headers["request-id"],
                        r.headers["request-id"] } },
                    { { v[1].method, v[1].url, v[1].status, v[1]["request-id"],
                        v[1]["client-request-id"] },
                      { v[2].method, v[2].url, v[2].status, v[2]["request-id"],
                        v[2]["client-request-id"] } })
    assert.are.same({}, jobs(srv))
    S.stopped(srv)
  end)
end)

describe("crosstenant serve, Host", function()
  teardown(S.cleanup)

  it("is refused when its port is not a port", function()
    local srv = start(nil, "--quiet")
    for _, c in ipairs {
      { "h:99999999", 400 }, { "h:65536", 400 }, { "h:123456", 400 },
      { "a:b:c", 400 }, { "h:", 400 }, { "h:8x", 400 }, { ":80", 400 },
      { "[::1", 400 }, { "[::1]x", 400 },
      { "h:65535", 200 }, { "h:0", 200 }, { "h", 200 },
      { "[::1]:8080", 200 }, { "127.0.0.1:1", 200 },
    } do
      local r = S.curl("GET", srv.base .. JOBS .. "?$top=1", nil,
                       "-H 'Host: " .. c[1] .. "'")
      assert.are.equal(c[2], r.status, c[1])
      if c[2] == 400 then
        assert.are.equal("The Host header is missing, repeated or not " ..
                         "host[:port].", decode(r.body).error.message)
      end
    end
    S.stopped(srv)
  end)
end)

describe("crosstenant serve, the header order", function()
  teardown(S.cleanup)

  -- status line and header names in order, Date aside, from curl -D
  local function head(srv, method, target, body, extra)
    local dir = S.tmpdir()
    local args = S.PLAIN .. "curl -sS --max-time 30 -o /dev/null -D " ..
                 dir .. "/head -X " .. method
    if body then
      S.spew(dir .. "/req", body)
      args = args .. " --data-binary @" .. dir .. "/req"
    end
    os.execute(args .. " " .. (extra or "") .. " " ..
               S.quote(srv.base .. target) .. " 2>/dev/null")
    local text = (S.slurp(dir .. "/head") or ""):gsub("\r", "")
    local lines = {}
    for line in text:gmatch("[^\n]+") do
      local name = line:match("^([^:]+):")
      if not name then lines[#lines + 1] = line
      elseif name ~= "Date" then lines[#lines + 1] = name end
    end
    return table.concat(lines, "\n")
  end

  it("is one on both paths, byte for byte, every time", function()
    local c = start(nil, "--quiet")
    local lua = start(OBSERVED, "--quiet")
    local body = crosstenant.encode(F.job_body())
    local big = string.rep("x", 1024 * 1024 + 1)
    local cases = {
      { "POST", JOBS, body, nil, "HTTP/1.1 201 Created\nrequest-id\n" ..
        "client-request-id\nContent-Type\nLocation\nContent-Length" },
      { "GET", JOBS, nil, nil, "HTTP/1.1 200 OK\nrequest-id\n" ..
        "client-request-id\nContent-Type\nContent-Length" },
      { "GET", JOBS .. "/nope", nil, nil, "HTTP/1.1 404 Not Found\n" ..
        "request-id\nclient-request-id\nContent-Type\nContent-Length" },
      { "PUT", JOBS, nil, nil, "HTTP/1.1 405 Method Not Allowed\n" ..
        "request-id\nclient-request-id\nContent-Type\nAllow\n" ..
        "Content-Length" },
      { "POST", JOBS .. "/xtmigration_user_req_1/validate", nil, nil,
        "HTTP/1.1 200 OK\nrequest-id\nclient-request-id\nContent-Type\n" ..
        "Content-Length" },
      { "DELETE", JOBS .. "/xtmigration_user_req_1", nil, nil,
        "HTTP/1.1 409 Conflict\nrequest-id\nclient-request-id\n" ..
        "Content-Type\nContent-Length" },
      { "POST", JOBS, big, nil, "HTTP/1.1 413 Content Too Large\n" ..
        "Connection\nrequest-id\nclient-request-id\nContent-Type\n" ..
        "Content-Length" },
      { "GET", "/_crosstenant/health", nil, nil, "HTTP/1.1 200 OK\n" ..
        "request-id\nclient-request-id\nContent-Type\nContent-Length" },
      { "PUT", "/_crosstenant/health", nil, nil,
        "HTTP/1.1 405 Method Not Allowed\nrequest-id\nclient-request-id\n" ..
        "Content-Type\nAllow\nContent-Length" },
    }
    for round = 1, 2 do
      for _, k in ipairs(cases) do
        local a = head(c, k[1], k[2], k[3], k[4])
        local b = head(lua, k[1], k[2], k[3], k[4])
        local where = round .. " " .. k[1] .. " " .. k[2]
        -- (the second round's writes are refused: the same head order)
        if round == 1 then assert.are.equal(k[5], a, where) end
        assert.are.equal(a, b, where)
      end
    end
    S.stopped(c)
    S.stopped(lua)
  end)
end)
