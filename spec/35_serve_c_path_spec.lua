-- `crosstenant serve` answers Graph requests in C (csrc/lserve.c) when no
-- Lua is needed, and in Lua (serve.lua's Server:answer) otherwise: a Lua
-- observer registered, the real and xN clocks, --latency.
-- Both paths give the same bytes and write one journal, in arrival
-- order.  The answers the listener gives itself (413, the Host 400, its
-- 500) carry request-id and client-request-id, and the store's date.
local crosstenant = require "crosstenant"
local httpd = require "crosstenant.httpd"
local S = require "spec.support.server"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS
local JSON_TYPE, GUID = S.JSON_TYPE, S.GUID

local function decode(s)
  return assert(crosstenant.decode(s))
end

-- a server running `scenario` (spec/support/server.lua)
local start = S.start_scenario

-- makes the Lua request path fail: what is still answered is C's
local NO_LUA_PATH = [[
  getmetatable(graph._core).__index.request_text = function()
    error("the Lua request path answered")
  end
]]

local OBSERVED = [[
  graph:on("job", function() end)
  graph:on("task", function() end)
]]

-- the headers an answer is compared on, and the names it carries
local COMPARED = { "request-id", "client-request-id", "content-type",
                   "location", "retry-after" }

local function shape(r)
  local names = {}
  for _, k in ipairs(r.names) do
    if k ~= "date" then names[#names + 1] = k end
  end
  table.sort(names)
  local h = {}
  for _, k in ipairs(COMPARED) do h[k] = r.headers[k] end
  return { status = r.status, body = r.body, headers = h,
           names = table.concat(names, " ") }
end

-- the journal's entries without `received` (wall time)
local function journal(srv)
  local r = S.curl("GET", srv.base .. "/_crosstenant/requests")
  assert.are.equal(200, r.status)
  -- (an absolute target names the server: its port is the one thing
  -- two servers' journals may differ in)
  return (r.body:gsub(',"received":[%d.e+-]+', "")
                :gsub(srv.base:gsub("%p", "%%%0"), "BASE"))
end

describe("crosstenant serve, the C path", function()
  teardown(S.cleanup)

  it("answers Graph requests with no Lua request path at all", function()
    local srv = start(NO_LUA_PATH, nil, true)
    local r = S.curl("POST", srv.base .. JOBS,
                     crosstenant.encode(F.job_body()))
    assert.are.equal(201, r.status)
    local id = decode(r.body).id
    r = S.curl("GET", srv.base .. JOBS .. "/" .. id .. "/users?$top=2")
    assert.are.equal(200, r.status)
    assert.are.equal(2, #decode(r.body).value)
    assert.are.equal(JSON_TYPE, r.headers["content-type"])
    -- the control namespace stays Lua's
    r = S.curl("GET", srv.base .. "/_crosstenant/health")
    assert.are.same({ 200, "ok" }, { r.status, decode(r.body).status })
    assert.is_nil(srv:log():find("Lua request path", 1, true))
    S.stopped(srv)
  end)

  it("takes the Lua path while a Lua observer is registered", function()
    local srv = start(NO_LUA_PATH .. OBSERVED)
    local r = S.curl("POST", srv.base .. JOBS,
                     crosstenant.encode(F.job_body()))
    local e = decode(r.body).error
    assert.are.same({ 500, "generalException", "The server failed to " ..
                      "answer this request; see its log." },
                    { r.status, e.code, e.message })
    assert.truthy(srv:log():find("the Lua request path answered", 1, true))
    S.stopped(srv)
  end)

  it("answers the same bytes and headers as the Lua path", function()
    local c = start(nil, "--quiet")
    local lua = start(OBSERVED, "--quiet")
    local function both(method, target, body, extra, absolute)
      local a = S.curl(method, absolute and (c.base .. "/") or
                       (c.base .. target), body, extra and
                       extra:gsub("BASE", c.base))
      local b = S.curl(method, absolute and (lua.base .. "/") or
                       (lua.base .. target), body, extra and
                       extra:gsub("BASE", lua.base))
      -- the answers name their own server
      local sa, sb = shape(a), shape(b)
      sb.body = sb.body:gsub(lua.base:gsub("%p", "%%%0"), c.base)
      if sb.headers.location then
        sb.headers.location = sb.headers.location:gsub(
          lua.base:gsub("%p", "%%%0"), c.base)
      end
      assert.are.same(sa, sb, method .. " " .. target)
      return a
    end
    local body = crosstenant.encode(F.job_body())
    assert.are.equal(200, both("GET", JOBS).status)
    local r = both("POST", JOBS, body)
    assert.are.equal(201, r.status)
    assert.truthy(r.headers.location)
    local id = decode(r.body).id
    local job = JOBS .. "/" .. id
    assert.are.equal(200, both("GET", job).status)
    r = both("GET", JOBS .. "/$count")
    assert.are.same({ 200, "1" }, { r.status, r.body })
    assert.truthy(decode(both("GET", job .. "/users?$top=2&$count=true")
                         .body)["@odata.nextLink"])
    assert.are.equal(200, both("GET", job .. "/users/" .. F.RESOURCES[1])
                            .status)
    assert.are.equal(204, both("PATCH", job, '{"completeAfterDateTime":' ..
                               '"2025-12-10T00:00:00Z"}')
                            .status)
    assert.are.equal(200, both("POST", job .. "/validate").status)
    r = both("GET", job .. "/users", nil, "-H 'client-request-id: c-7'")
    assert.are.equal("c-7", r.headers["client-request-id"])
    assert.are.equal(200, both("GET", job, nil, "--request-target " ..
                               "'BASE" .. job .. "'", true).status)
    assert.are.equal(404, both("GET", JOBS .. "/nope").status)
    assert.are.equal(405, both("PUT", JOBS).status)
    assert.are.equal(400, both("POST", JOBS, '{"displayName":').status)
    assert.are.equal(400, both("GET", JOBS .. "?$top=0").status)
    assert.are.equal(409, both("DELETE", job).status)   -- validating
    local other = decode(both("POST", JOBS, crosstenant.encode(
      F.job_body { displayName = "other",
                   resources = F.users(2, "dddddddd") })).body).id
    both("POST", JOBS .. "/" .. other .. "/cancel")
    for _, srv in ipairs { c, lua } do
      S.curl("POST", srv.base .. "/_crosstenant/clock/advance", '{"by":"P1D"}')
    end
    assert.are.equal("cancelled", decode(both("GET", JOBS .. "/" .. other)
                                         .body).status)
    assert.are.equal(202, both("DELETE", JOBS .. "/" .. other).status)
    -- and the journals are the same, entry for entry
    assert.are.equal(journal(c), journal(lua))
    S.stopped(c)
    S.stopped(lua)
  end)

  it("keeps one journal, in arrival order, across the two paths and " ..
     "the listener's own refusals", function()
    -- Lua observers: the Lua path; once reset drops them: the C path
    local srv = start(OBSERVED, "--quiet", true)
    local big = string.rep("x", 1024 * 1024 + 1)
    local function send(method, target, crid, body, extra)
      return S.curl(method, srv.base .. target, body,
                    "-H 'client-request-id: " .. crid .. "'" ..
                    (extra or ""))
    end
    assert.are.equal(200, send("GET", JOBS, "c-1").status)
    assert.are.equal(400, send("GET", JOBS, "c-2", nil,
                               " -H 'Host: h:99999'").status)
    assert.are.equal(404, send("GET", JOBS .. "/nope", "c-3").status)
    assert.are.equal(200, S.curl("POST", srv.base .. "/_crosstenant/reset")
                            .status)
    assert.are.equal(200, send("GET", JOBS .. "?$top=1", "c-4").status)
    assert.are.equal(413, send("POST", JOBS, "c-5", big).status)
    assert.are.equal(200, send("GET", JOBS, "c-6").status)
    local r = S.curl("GET", srv.base .. "/_crosstenant/requests")
    local v = decode(r.body).value
    local got = {}
    for i, e in ipairs(v) do
      got[i] = { e.method, e.url, e.status, e["client-request-id"] }
      assert.truthy(e["request-id"]:match(GUID), e["request-id"])
      assert.are.equal(F.NOW, e.time)
    end
    assert.are.same({ { "GET", JOBS, 200, "c-1" }, { "GET", JOBS, 400, "c-2" },
                      { "GET", JOBS .. "/nope", 404, "c-3" },
                      { "GET", JOBS .. "?$top=1", 200, "c-4" },
                      { "POST", JOBS, 413, "c-5" },
                      { "GET", JOBS, 200, "c-6" } }, got)
    -- the same keys in the same order, whoever wrote the entry
    local keys = {}
    for entry in r.body:gmatch("{[^{}]*}") do
      keys[#keys + 1] = entry:gsub('"([^"]*)":[^,}]*', "%1"):gsub(
        '"[^"]*"', "")
    end
    assert.are.equal(6, #keys)
    for i = 1, 6 do
      assert.are.equal("{time,method,url,status,request-id," ..
                       "client-request-id,received}", keys[i], i)
    end
    for i = 2, 6 do
      assert.is_true(v[i].received >= v[i - 1].received)
    end
    S.stopped(srv)
  end)

  it("keeps the last JOURNAL_MAX entries of the journal", function()
    local srv = assert(httpd.http_server { host = "127.0.0.1", port = 0 })
    assert.are.equal(10000, httpd.JOURNAL_MAX)
    for i = 1, httpd.JOURNAL_MAX + 2 do
      srv:journal_add('{"n":' .. i .. '}')
    end
    local v = decode(srv:journal_json()).value
    assert.are.same({ 10000, 3, 10002 }, { #v, v[1].n, v[#v].n })
    srv:journal_clear()
    assert.are.equal('{"value":[]}', srv:journal_json())
    srv:close()
  end)
end)

describe("crosstenant serve, the listener's own errors", function()
  teardown(S.cleanup)

  -- the store's errors write innerError.date so: whole seconds, no offset
  local DATE = F.NOW:sub(1, 19)

  local function own_error(r, status, code, message, crid)
    assert.are.equal(status, r.status)
    local id = r.headers["request-id"]
    assert.truthy(id and id:match(GUID), id)
    assert.are.equal(crid or id, r.headers["client-request-id"])
    assert.are.equal(JSON_TYPE, r.headers["content-type"])
    assert.are.equal('{"error":{"code":"' .. code .. '","message":"' ..
                     message .. '","innerError":{"date":"' .. DATE ..
                     '","request-id":"' .. id .. '","client-request-id":"' ..
                     (crid or id) .. '"}}}', r.body)
  end

  it("answers 413 and the Host 400 as the store answers its errors",
     function()
    local srv = start(nil, "--quiet", true)
    local big = string.rep("x", 1024 * 1024 + 1)
    own_error(S.curl("POST", srv.base .. JOBS, big,
                     "-H 'client-request-id: big-1'"),
              413, "invalidRequest", "The request body is larger than 1 MiB.",
              "big-1")
    own_error(S.curl("POST", srv.base .. JOBS, big), 413, "invalidRequest",
              "The request body is larger than 1 MiB.")
    own_error(S.curl("GET", srv.base .. JOBS, nil,
                     "-H 'Host: a b' -H 'client-request-id: h-1'"),
              400, "invalidRequest", "The Host header is missing, " ..
              "repeated or not host[:port].", "h-1")
    local a = S.curl("GET", srv.base .. JOBS, nil, "-H 'Host;'")
    local b = S.curl("GET", srv.base .. JOBS, nil, "-H 'Host;'")
    own_error(a, 400, "invalidRequest", "The Host header is missing, " ..
              "repeated or not host[:port].")
    assert.are_not.equal(a.headers["request-id"], b.headers["request-id"])
    -- the ids are fresh, not the store's: its first answer is a twin's
    local g = crosstenant.new { seed = 1, now = F.NOW, failure_rate = 0,
                                strict = true, require_token = false }
    local _, _, th = g:_request_at(srv.base, "GET", JOBS, nil, {})
    assert.are.equal(th["request-id"],
                     S.curl("GET", srv.base .. JOBS).headers["request-id"])
    S.stopped(srv)
  end)

  it("answers 500 so when the Lua handler fails", function()
    -- the Lua path fails, and so does its own 500 (graph:_error)
    local srv = start(NO_LUA_PATH .. OBSERVED .. [[
      graph._error = function() error("no request id from Lua") end
    ]], "--quiet", true)
    own_error(S.curl("GET", srv.base .. JOBS, nil,
                     "-H 'client-request-id: f-1'"),
              500, "generalException", "The request handler failed; see " ..
              "the server log.", "f-1")
    assert.truthy(srv:log():find("no request id from Lua", 1, true))
    S.stopped(srv)
  end)
end)
