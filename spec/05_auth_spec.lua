-- Tokens, permissions and tenants.
local F = require "spec.support.fixtures"

local JOBS = F.JOBS
local OTHER = "11111111-2222-4333-8444-555555555555"

local function auth(claims) return { Authorization = F.token(claims) } end

describe("tokens and permissions", function()
  local graph
  before_each(function() graph = F.graph() end)

  it("uses the store's defaults when there is no token", function()
    local status, body = graph:request("POST", JOBS, F.job_body())
    assert.are.equal(201, status)
    assert.are.equal(F.TARGET, body.targetTenantId)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", body.createdBy)
  end)

  it("takes tenant and user from the token", function()
    local status, body = graph:request("POST", JOBS, F.job_body(),
      auth { tid = OTHER, upn = "ops@contoso.com", scp = F.WRITE })
    assert.are.equal(201, status)
    assert.are.equal(OTHER, body.targetTenantId)
    assert.are.equal("ops@contoso.com", body.createdBy)
  end)

  it("takes oid when there is no upn, and roles for application calls",
     function()
    local status, body = graph:request("POST", JOBS, F.job_body(),
      auth { tid = OTHER, oid = "app-object-id", roles = { F.WRITE } })
    assert.are.equal(201, status)
    assert.are.equal("app-object-id", body.createdBy)
  end)

  it("keeps tenants apart: another tenant's job is 404", function()
    local _, job = graph:request("POST", JOBS, F.job_body())
    local status, body = graph:request("GET", JOBS .. "/" .. job.id, nil,
      auth { tid = OTHER, scp = F.READ })
    assert.are.equal(404, status)
    assert.are.equal("crossTenantMigrationJob '" .. job.id ..
                     "' was not found.", body.error.message)
    local _, list = graph:request("GET", JOBS, nil,
                                  auth { tid = OTHER, scp = F.READ })
    assert.are.same({}, list.value)
    -- the same name and users are fine in another tenant
    assert.are.equal(201, (graph:request("POST", JOBS, F.job_body(),
      auth { tid = OTHER, scp = F.WRITE })))
  end)

  it("lets Read.All read but not write (403)", function()
    local h = auth { tid = F.TARGET, upn = "r@x", scp = F.READ }
    assert.are.equal(200, (graph:request("GET", JOBS, nil, h)))
    local status, body = graph:request("POST", JOBS, F.job_body(), h)
    assert.are.equal(403, status)
    assert.are.equal("accessDenied", body.error.code)
    assert.are.equal("Missing permissions on the request. The API requires " ..
      "one of '" .. F.WRITE .. "'. Permissions on the request: '" .. F.READ ..
      "'.", body.error.message)
  end)

  it("lets ReadWrite.All read", function()
    assert.are.equal(200, (graph:request("GET", JOBS, nil,
      auth { tid = F.TARGET, scp = "openid " .. F.WRITE })))
  end)

  it("answers 403 to a token without the permissions", function()
    local status, body = graph:request("GET", JOBS, nil,
      auth { tid = F.TARGET, scp = "User.Read" })
    assert.are.equal(403, status)
    assert.are.equal("Missing permissions on the request. The API requires " ..
      "one of '" .. F.READ .. ", " .. F.WRITE .. "'. Permissions on the " ..
      "request: 'User.Read'.", body.error.message)
  end)

  local malformed = {
    { "a header without Bearer", "Basic abc",
      "The Authorization header must be 'Bearer <token>'." },
    { "a token that is not a JWT", "Bearer not-a-jwt",
      "The access token is malformed: it is not a JWT with a JSON object " ..
      "payload." },
    { "a payload that is not JSON", "Bearer e30." .. F.b64url("nope") .. ".",
      "The access token is malformed: it is not a JWT with a JSON object " ..
      "payload." },
    { "a payload that is an array", "Bearer e30." .. F.b64url("[1]") .. ".",
      "The access token is malformed: it is not a JWT with a JSON object " ..
      "payload." },
    { "no tid", F.token { upn = "a@b", scp = F.WRITE },
      "The access token has no valid 'tid' claim." },
    { "a tid that is not a GUID", F.token { tid = "contoso", scp = F.WRITE },
      "The access token has no valid 'tid' claim." },
    { "a tid that is a number", F.token { tid = 5, scp = F.WRITE },
      "The access token has no valid 'tid' claim." },
    { "scp that is not a string", F.token { tid = F.TARGET, scp = { F.WRITE } },
      "The access token's 'scp' claim must be a string." },
    { "roles that are not an array", F.token { tid = F.TARGET, roles = F.WRITE },
      "The access token's 'roles' claim must be an array of strings." },
    { "a upn that is not a string", F.token { tid = F.TARGET, upn = 7 },
      "The access token's 'upn' claim must be a string." },
    { "an expired token", F.token { tid = F.TARGET, scp = F.WRITE,
                                    exp = 1700000000 },
      "The access token has expired." },
  }
  for _, m in ipairs(malformed) do
    it("answers 401 to " .. m[1], function()
      local status, body = graph:request("GET", JOBS, nil,
                                         { Authorization = m[2] })
      assert.are.equal(401, status)
      assert.are.equal("unauthenticated", body.error.code)
      assert.are.equal(m[3], body.error.message)
    end)
  end

  it("answers 401 without a token when tokens are required", function()
    local g = F.graph { require_token = true }
    local status, body = g:request("GET", JOBS)
    assert.are.equal(401, status)
    assert.are.equal("Access token is empty.", body.error.message)
    assert.are.equal(200, (g:request("GET", JOBS, nil,
      auth { tid = F.TARGET, scp = F.READ })))
  end)

  it("checks the token before the path", function()
    local g = F.graph { require_token = true }
    assert.are.equal(401, (g:request("GET", "/beta/nowhere")))
  end)
end)
