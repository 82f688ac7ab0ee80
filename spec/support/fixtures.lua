-- Shared fixtures for the specs: the docs' example values (graph-api-facts
-- §4), a job body builder, tokens, and a full snapshot of a store.
local crosstenant = require "crosstenant"
local assert = require "luassert"

local F = {}

F.SOURCE = "12345678-1234-1234-1234-123456789012"
F.TARGET = "87654321-4321-4321-4321-210987654321"
F.RESOURCES = {
  "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506",
  "63f15b55-f61a-49cb-a599-2e3d233afb2c",
  "41d94bac-3a53-47d6-a89e-583830104e15",
}
F.TASK = "6a88de8d-7027-44c1-8674-03f826aa1704"
F.JOBS = "/beta/solutions/migrations/crossTenantMigrationJobs"
F.NOW = "2025-11-06T09:00:00Z"

--- A store on fixed defaults (seeded, clock at F.NOW); `opts` adds to them.
function F.graph(opts)
  local o = { seed = 7, now = F.NOW }
  for k, v in pairs(opts or {}) do o[k] = v end
  return crosstenant.new(o)
end

--- The newest create request of the docs, with `over` applied (a value
-- of false removes the property).
function F.job_body(over)
  local b = {
    displayName = "xtmigration_user_req_1",
    completeAfterDateTime = "2025-12-09T22:48:03.092Z",
    exchangeSettings = {
      targetDeliveryDomain = "xtmigration.onmicrosoft.com",
      sourceEndpoint = "sampleEndpointText",
    },
    resources = { F.RESOURCES[1], F.RESOURCES[2], F.RESOURCES[3] },
    resourceType = "Users",
    sourceTenantId = F.SOURCE,
    workloads = { "Teams", "Exchange", "ODSP" },
  }
  for k, v in pairs(over or {}) do
    if v == false then b[k] = nil else b[k] = v end
  end
  return b
end

--- n distinct user GUIDs, made from a prefix and a counter.
function F.users(n, prefix)
  local t = {}
  for i = 1, n do
    t[i] = string.format("%s-0000-4000-8000-%012x", prefix or "aaaaaaaa", i)
  end
  return t
end

-- base64url without padding
local B = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
function F.b64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for k = 1, chars do
      local v = (n >> (18 - 6 * (k - 1))) & 63
      out[#out + 1] = B:sub(v + 1, v + 1)
    end
  end
  return table.concat(out)
end

--- An unsigned JWT with the given claims (a table encoded as JSON, or a
-- JSON text as is).
function F.token(claims)
  local payload = type(claims) == "string" and claims
                  or crosstenant.encode(claims)
  return "Bearer " .. F.b64url('{"alg":"none","typ":"JWT"}') .. "." ..
         F.b64url(payload) .. "."
end

F.WRITE = "CrossTenantContentMigration.ReadWrite.All"
F.READ = "CrossTenantContentMigration.Read.All"

--- The whole visible state of a store for a tenant (every job, then
-- every task of every job), as JSON text: equal text, equal store.
function F.snapshot(graph, tenant)
  local headers = tenant and { Authorization = F.token {
    tid = tenant, upn = "x@y", scp = F.READ } } or nil
  local out = {}
  local url = F.JOBS .. "?$top=999"
  while url do
    local status, page = graph:request("GET", url, nil, headers)
    assert(status == 200, "snapshot: list jobs gave " .. status)
    for _, job in ipairs(page.value) do
      out[#out + 1] = crosstenant.encode(job)
      local turl = F.JOBS .. "/" .. job.id .. "/users?$top=999"
      while turl do
        local s2, tp = graph:request("GET", turl, nil, headers)
        assert(s2 == 200, "snapshot: list tasks gave " .. s2)
        for _, t in ipairs(tp.value) do
          out[#out + 1] = crosstenant.encode(t)
        end
        turl = tp["@odata.nextLink"]
      end
    end
    url = page["@odata.nextLink"]
  end
  out[#out + 1] = graph:now()
  return table.concat(out, "\n")
end

--- Asserts an error result: nil plus an error with this status, code and
-- message (and inner code when given).
function F.rejects(status, code, message, inner)
  return function(r, err)
    assert(r == nil, "expected a rejection, got a result")
    assert(err, "expected an error object")
    assert.are.same({ status = status, code = code, message = message,
                      inner = inner },
                    { status = err.status, code = err.code,
                      message = err.message, inner = err.inner })
  end
end

return F
