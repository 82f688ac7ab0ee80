-- OData query options on the job and task collections: $filter, $select,
-- $orderby, $count (and /$count), $expand, $skip, $top, $skiptoken.
local crosstenant = require "crosstenant"
local F = require "spec.support.fixtures"

local JOBS = F.JOBS

local function get(graph, url)
  local status, body, headers = graph:request("GET", url)
  return status, body, headers
end

-- every item of a collection, following nextLinks
local function all(graph, url)
  local out = {}
  while url do
    local status, page = get(graph, url)
    assert.are.equal(200, status, url)
    for _, v in ipairs(page.value) do out[#out + 1] = v end
    url = page["@odata.nextLink"]
  end
  return out
end

local function names(items)
  local t = {}
  for i, v in ipairs(items) do t[i] = v.displayName end
  return t
end

local function esc(s)
  return (s:gsub("[ '%%&#+]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- five jobs a minute apart; job2 validating, job4 cancelled
local function five()
  local g = F.graph { timings = { validate_submitted = 1000, cancel = 1 } }
  local jobs = {}
  for i = 1, 5 do
    g:advance(60)
    jobs[i] = assert(g:create_job(F.job_body { displayName = "job" .. i,
      resources = { F.users(5)[i] },
      completeAfterDateTime = "2025-12-0" .. i .. "T00:00:00Z" }))
  end
  assert(g:validate_job("job2"))
  assert(g:cancel_job("job4"))
  g:advance(2)
  return g, jobs
end

describe("$filter on jobs", function()
  local g, jobs
  before_each(function() g, jobs = five() end)

  local cases = {
    { "status eq 'submitted'", { "job5", "job3", "job1" } },
    { "status ne 'submitted'", { "job4", "job2" } },
    { "status eq microsoft.graph.crossTenantMigrationJobStatus'cancelled'",
      { "job4" } },
    { "displayName eq 'job3'", { "job3" } },
    { "displayName gt 'job3'", { "job5", "job4" } },
    { "displayName ge 'job3'", { "job5", "job4", "job3" } },
    { "displayName lt 'job3'", { "job2", "job1" } },
    { "displayName le 'job3'", { "job3", "job2", "job1" } },
    { "createdDateTime gt 2025-11-06T09:03:00Z", { "job5", "job4" } },
    { "completeAfterDateTime le 2025-12-02T00:00:00Z", { "job2", "job1" } },
    { "status eq 'submitted' and displayName ne 'job1'", { "job5", "job3" } },
    { "displayName eq 'job1' or displayName eq 'job5'", { "job5", "job1" } },
    { "not (status eq 'submitted')", { "job4", "job2" } },
    -- and binds tighter than or
    { "displayName eq 'job1' or displayName eq 'job2' and status eq " ..
      "'submitted'", { "job1" } },
    { "(displayName eq 'job1' or displayName eq 'job2') and status eq " ..
      "'submitted'", { "job1" } },
    { "displayName in ('job2', 'job4', 'nope')", { "job4", "job2" } },
    { "status in ('cancelled', 'validateSubmitted')", { "job4", "job2" } },
    { "startswith(displayName, 'job') and not startswith(displayName, " ..
      "'job1')", { "job5", "job4", "job3", "job2" } },
    { "jobType eq 'validate'", { "job5", "job4", "job3", "job2", "job1" } },
    { "sourceTenantId eq " .. F.SOURCE, { "job5", "job4", "job3", "job2",
                                           "job1" } },
    { "targetTenantId eq '" .. F.TARGET:upper() .. "'",
      { "job5", "job4", "job3", "job2", "job1" } },
    { "createdBy eq 'admin@fabrikam.onmicrosoft.com' and resourceType eq " ..
      "'Users'", { "job5", "job4", "job3", "job2", "job1" } },
    { "message eq 'The job was cancelled.'", { "job4" } },
    { "message eq null", {} },
    { "true", { "job5", "job4", "job3", "job2", "job1" } },
  }
  for _, c in ipairs(cases) do
    it("answers " .. c[1], function()
      local got = all(g, JOBS .. "?$filter=" .. esc(c[1]))
      assert.are.same(c[2], names(got))
    end)
  end

  it("matches a job's id, bare or quoted", function()
    local got = all(g, JOBS .. "?$filter=id%20eq%20" .. jobs[3].id)
    assert.are.same({ "job3" }, names(got))
    got = all(g, JOBS .. "?filter=id%20eq%20'" .. jobs[3].id .. "'")
    assert.are.same({ "job3" }, names(got))
  end)

  it("agrees with graph:list_jobs", function()
    local page = assert(g:list_jobs { filter = "status eq 'submitted'",
                                      orderby = "displayName", top = 2 })
    assert.are.same({ "job1", "job3" }, names(page.value))
    local _, body = get(g, JOBS .. "?$filter=" .. esc("status eq 'submitted'")
                        .. "&$orderby=displayName&$top=2")
    assert.are.same(page.value, body.value)
  end)
end)

describe("$filter errors", function()
  local g
  before_each(function() g = five() end)
  local errors = {
    { "colour eq 'x'", "Invalid $filter: unknown property 'colour' at " ..
      "position 0." },
    { "status eq 5", "Invalid $filter: 'status' is an enum and can't be " ..
      "compared with a number at position 7." },
    { "displayName eq 'abc", "Invalid $filter: unterminated string at " ..
      "position 15." },
    { "status eq 'bogus'", "Invalid $filter: 'bogus' is not a " ..
      "crossTenantMigrationJobStatus value at position 7." },
    { "status", "Invalid $filter: expected an operator but the text ended " ..
      "at position 6." },
    { "(status eq 'submitted'", "Invalid $filter: expected ')' but the " ..
      "text ended at position 22." },
    { "status eq 'submitted' xor true", "Invalid $filter: unexpected 'xor' " ..
      "at position 22." },
    { "createdDateTime gt '2025-01-01T00:00:00Z'", "Invalid $filter: " ..
      "'createdDateTime' is a DateTimeOffset and can't be compared with a " ..
      "string at position 16." },
    { "id gt " .. F.SOURCE, "Invalid $filter: GUIDs can only be compared " ..
      "with eq or ne at position 3." },
    { "id eq 'nope'", "Invalid $filter: 'nope' is not a GUID, as 'id' needs " ..
      "at position 3." },
    { "endswith(displayName, 'x')", "Invalid $filter: unsupported function " ..
      "'endswith' at position 0." },
    { "currentStatus/any(s: s/status eq 'failed')", "Invalid $filter: " ..
      "unknown property 'currentStatus' at position 0." },
    { "", "Invalid $filter: the expression is empty at position 0." },
  }
  for _, e in ipairs(errors) do
    it("refuses '" .. e[1] .. "'", function()
      local status, body = get(g, JOBS .. "?$filter=" .. esc(e[1]))
      assert.are.equal(400, status)
      assert.are.equal("invalidRequest", body.error.code)
      assert.are.equal("invalidQueryOption", body.error.innerError.code)
      assert.are.equal(e[2], body.error.message)
    end)
  end

  it("refuses options the operation does not take", function()
    local status, body = get(g, JOBS .. "/job1?$filter=" ..
                             esc("status eq 'submitted'"))
    assert.are.equal(400, status)
    assert.are.equal("Query option '$filter' is not supported on this " ..
                     "request.", body.error.message)
    status, body = get(g, JOBS .. "?$search=job")
    assert.are.equal(400, status)
    assert.are.equal("Query option '$search' is not supported.",
                     body.error.message)
    status, body = get(g, JOBS .. "/job1/users?$expand=users")
    assert.are.equal(400, status)
    assert.are.equal("Query option '$expand' is not supported on this " ..
                     "request.", body.error.message)
  end)

  it("refuses a bad $orderby, $select, $expand and $skip", function()
    local bad = {
      { "$orderby=colour", "Invalid $orderby: unknown property 'colour' " ..
        "at position 0." },
      { "$orderby=status%20sideways", "Invalid $orderby: expected ',' or " ..
        "the end, not 'sideways' at position 7." },
      { "$orderby=status,status", "Invalid $orderby: 'status' is given " ..
        "twice at position 7." },
      { "$select=status,colour", "Invalid $select: unknown property " ..
        "'colour'." },
      { "$expand=owner", "Invalid $expand: only 'users' can be expanded, " ..
        "without nested options; not 'owner'." },
      { "$skip=-1", "Query option '$skip' must be an integer of 0 or more, " ..
        "not '-1'." },
    }
    for _, b in ipairs(bad) do
      local status, body = get(g, JOBS .. "?" .. b[1])
      assert.are.equal(400, status, b[1])
      assert.are.equal(b[2], body.error.message)
      assert.are.equal("invalidQueryOption", body.error.innerError.code)
    end
  end)

  it("refuses the $ left out on v1.0 by ignoring nothing silently", function()
    -- on v1.0 `filter` without `$` is not an OData option: ignored
    local status, body = get(g, "/v1.0/solutions/migrations/" ..
      "crossTenantMigrationJobs?filter=" .. esc("status eq 'cancelled'"))
    assert.are.equal(200, status)
    assert.are.equal(5, #body.value)
  end)
end)

describe("$select, $orderby, $count, $expand, $skip", function()
  local g, jobs
  before_each(function() g, jobs = five() end)

  it("selects properties and names them in @odata.context", function()
    local _, body = get(g, JOBS .. "?$select=displayName,status&$top=1")
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#solutions/" ..
      "migrations/crossTenantMigrationJobs(displayName,status)",
      body["@odata.context"])
    assert.are.same({ id = jobs[5].id, displayName = "job5",
                      status = "submitted" }, body.value[1])
    local _, one = get(g, JOBS .. "/job3?$select=status")
    assert.are.same({ ["@odata.context"] = "https://graph.microsoft.com/" ..
      "beta/$metadata#solutions/migrations/crossTenantMigrationJobs" ..
      "(status)/$entity", id = jobs[3].id, status = "submitted" }, one)
  end)

  it("selects task properties on list and get", function()
    local _, body = get(g, JOBS .. "/job1/users?$select=taskType")
    assert.are.same({ { id = F.users(5)[1], taskType = "user" } }, body.value)
    local _, t = get(g, JOBS .. "/job1/users/" .. F.users(5)[1] ..
                     "?$select=lastUpdatedDateTime")
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#solutions/" ..
      "migrations/crossTenantMigrationJobs('" .. jobs[1].id ..
      "')/users(lastUpdatedDateTime)/$entity", t["@odata.context"])
    assert.is_nil(t.currentStatus)
  end)

  it("orders by one or more properties", function()
    assert.are.same({ "job1", "job2", "job3", "job4", "job5" },
      names(all(g, JOBS .. "?$orderby=displayName")))
    assert.are.same({ "job5", "job4", "job3", "job2", "job1" },
      names(all(g, JOBS .. "?$orderby=displayName%20desc&$top=2")))
    -- enums order by their members' order: submitted, ..., cancelled,
    -- ..., validateSubmitted
    assert.are.same({ "job5", "job3", "job1", "job4", "job2" },
      names(all(g, JOBS .. "?$orderby=status%20asc,createdDateTime%20desc" ..
                "&$top=1")))
  end)

  it("counts the matches on the first page, and answers /$count", function()
    local _, body = get(g, JOBS .. "?$filter=" ..
      esc("status eq 'submitted'") .. "&$count=true&$top=1")
    assert.are.equal(3, body["@odata.count"])
    local _, p2 = get(g, body["@odata.nextLink"])
    assert.is_nil(p2["@odata.count"])
    local status, text, headers = get(g, JOBS .. "/$count?$filter=" ..
                                      esc("status ne 'submitted'"))
    assert.are.equal(200, status)
    assert.are.equal("2", text)
    assert.are.equal("text/plain", headers["Content-Type"])
    status, text = get(g, JOBS .. "/job1/users/$count")
    assert.are.equal(200, status)
    assert.are.equal("1", text)
  end)

  it("expands users on get and list", function()
    local _, one = get(g, JOBS .. "/job2?$expand=users")
    assert.are.equal(1, #one.users)
    assert.are.equal(F.users(5)[2], one.users[1].id)
    local _, list = get(g, JOBS .. "?$expand=users&$select=displayName")
    for _, j in ipairs(list.value) do
      assert.are.equal(1, #j.users)
      assert.is_nil(j.status)
    end
  end)

  it("skips matches", function()
    assert.are.same({ "job3", "job2", "job1" },
      names(all(g, JOBS .. "?$skip=2&$top=2")))
  end)
end)

describe("$filter on tasks", function()
  local g, job
  before_each(function()
    g = F.graph { timings = { validate_submitted = 1, validate_processing = 1,
                              validate_in_progress = 1 } }
    job = assert(g:create_job(F.job_body { resources = F.users(30) }))
    for i = 1, 30, 3 do
      g:fail { user = F.users(30)[i], service = "Exchange",
               phase = "validate", status = "invalid", code = "X",
               message = "m" }
    end
    g:fail { user = F.users(30)[2], service = "Teams", phase = "validate",
             status = "error", code = "Y", message = "n" }
    g:validate_job(job.id)
    g:advance(5)
  end)

  it("finds the users that failed on Exchange with a lambda", function()
    local got = all(g, JOBS .. "/" .. job.id .. "/users?$filter=" ..
      esc("currentStatus/any(s: s/service eq 'Exchange' and s/status eq " ..
          "'invalid')") .. "&$top=3")
    local ids = {}
    for _, t in ipairs(got) do ids[#ids + 1] = t.id end
    local want = {}
    for i = 1, 30, 3 do want[#want + 1] = F.users(30)[i] end
    assert.are.same(want, ids)
  end)

  it("takes all() and not", function()
    local ok = all(g, JOBS .. "/" .. job.id .. "/users?$filter=" ..
      esc("currentStatus/all(x: x/status eq 'valid')"))
    assert.are.equal(19, #ok)
    local bad = all(g, JOBS .. "/" .. job.id .. "/users?$filter=" ..
      esc("not currentStatus/all(x: x/status eq 'valid')"))
    assert.are.equal(11, #bad)
    local any = all(g, JOBS .. "/" .. job.id .. "/users?$filter=" ..
      esc("currentStatus/any()"))
    assert.are.equal(30, #any)
  end)

  it("orders tasks and pages them", function()
    local got = all(g, JOBS .. "/" .. job.id .. "/users?$orderby=id%20desc" ..
                    "&$top=7")
    assert.are.equal(30, #got)
    assert.are.equal(F.users(30)[30], got[1].id)
    assert.are.equal(F.users(30)[1], got[30].id)
  end)

  it("agrees with graph:list_tasks", function()
    local page = assert(g:list_tasks(job.id, { ["$filter"] =
      "currentStatus/any(s: s/status eq 'error')", count = true }))
    assert.are.equal(1, page["@odata.count"])
    assert.are.equal(F.users(30)[2], page.value[1].id)
    assert.are.same({ { code = "Y", message = "n" } },
                    page.value[1].currentStatus[3].errors)
  end)

  it("refuses a property the entries do not have", function()
    local status, body = get(g, JOBS .. "/" .. job.id .. "/users?$filter=" ..
      esc("currentStatus/any(s: s/colour eq 'x')"))
    assert.are.equal(400, status)
    assert.are.equal("Invalid $filter: unknown property 'colour' of " ..
      "crossTenantMigrationServiceStatusDetails at position 23.",
      body.error.message)
  end)
end)

describe("paging", function()
  it("returns each match once, in order, while jobs are added", function()
    local g = F.graph()
    for i = 1, 40 do
      assert(g:create_job(F.job_body { displayName = string.format("n%03d",
        i * 2), resources = { F.users(200)[i] } }))
    end
    local url = JOBS .. "?$orderby=displayName&$top=7&$filter=" ..
                esc("startswith(displayName, 'n')")
    local seen, order, extra = {}, {}, 100
    while url do
      local status, page = get(g, url)
      assert.are.equal(200, status)
      for _, j in ipairs(page.value) do
        assert.is_nil(seen[j.displayName], "twice: " .. j.displayName)
        seen[j.displayName] = true
        order[#order + 1] = j.displayName
      end
      -- add jobs on both sides of the cursor between pages
      for _ = 1, 2 do
        extra = extra + 1
        assert(g:create_job(F.job_body {
          displayName = string.format("n%03d", (extra * 37) % 40 * 2 + 1),
          resources = { F.users(200)[extra] } }))
      end
      url = page["@odata.nextLink"]
    end
    for i = 1, 40 do
      assert.is_true(seen[string.format("n%03d", i * 2)])
    end
    local sorted = { table.unpack(order) }
    table.sort(sorted)
    assert.are.same(sorted, order)
  end)

  it("refuses a token of another query", function()
    local g = five()
    local _, page = get(g, JOBS .. "?$top=1")
    local token = page["@odata.nextLink"]:match("%$skiptoken=(.*)$")
    local status, body = get(g, JOBS .. "?$orderby=displayName&$skiptoken=" ..
                             token)
    assert.are.equal(400, status)
    assert.matches("is not valid for this collection and query%.$",
                   body.error.message)
  end)
end)

describe("$filter against plain Lua", function()
  it("gives the same answers over many jobs", function()
    local g = F.graph { seed = 11, timings = { validate_submitted = 30 } }
    for i = 1, 300 do
      g:advance(i % 7)
      local j = assert(g:create_job(F.job_body {
        displayName = string.format("%s-%03d", ({ "alpha", "beta", "gamma" })
                                    [i % 3 + 1], i),
        resources = { F.users(300)[i] },
        completeAfterDateTime = string.format("2026-01-%02dT00:00:00Z",
                                              i % 28 + 1) }))
      if i % 4 == 0 then g:validate_job(j.id) end
      if i % 9 == 0 then g:cancel_job(j.id) end
    end
    g:advance(40)
    local every = all(g, JOBS .. "?$top=999")
    local preds = {
      { "status eq 'submitted'", function(j) return j.status == "submitted" end },
      { "startswith(displayName, 'beta') and status ne 'cancelled'",
        function(j) return j.displayName:sub(1, 4) == "beta" and
                           j.status ~= "cancelled" end },
      { "completeAfterDateTime ge 2026-01-15T00:00:00Z or displayName lt " ..
        "'alpha-100'", function(j)
          return j.completeAfterDateTime >= "2026-01-15T00:00:00Z" or
                 j.displayName < "alpha-100" end },
      { "not (status in ('validateProcessing', 'cancelled'))", function(j)
          return j.status ~= "validateProcessing" and j.status ~= "cancelled"
        end },
      { "createdDateTime lt 2025-11-06T09:10:00Z", function(j)
          return j.createdDateTime < "2025-11-06T09:10:00Z" end },
    }
    for _, p in ipairs(preds) do
      local want = {}
      for _, j in ipairs(every) do
        if p[2](j) then want[#want + 1] = j.id end
      end
      local got = {}
      for _, j in ipairs(all(g, JOBS .. "?$top=13&$filter=" .. esc(p[1]))) do
        got[#got + 1] = j.id
      end
      assert.are.same(want, got, p[1])
      local _, c = get(g, JOBS .. "/$count?$filter=" .. esc(p[1]))
      assert.are.equal(tostring(#want), c)
    end
    -- orderby against table.sort
    local byname = all(g, JOBS .. "?$orderby=displayName%20desc&$top=50")
    local want = {}
    for _, j in ipairs(every) do want[#want + 1] = j.displayName end
    table.sort(want, function(a, b) return a > b end)
    assert.are.same(want, names(byname))
  end)
end)

describe("crosstenant.encode of query results", function()
  it("writes a selected collection in order", function()
    local g = five()
    local _, body = get(g, JOBS .. "?$select=status&$top=1&$count=true")
    local text = crosstenant.encode(body)
    assert.matches('^{"@odata.context":"[^"]+","@odata.count":5,' ..
                   '"@odata.nextLink":"[^"]+","value":%[{"id":"[^"]+",' ..
                   '"status":"submitted"}%]}$', text)
  end)
end)

-- behavior.md: property names in $select, $filter and $orderby match
-- case-insensitively, as Graph's OData stack does on its directory
-- resources; the response (and @odata.context) uses the documented
-- spelling.  Keywords, enum members and string values keep their rules.
describe("query property names, case-insensitively", function()
  local graph, jobs
  before_each(function() graph, jobs = five() end)

  it("$select=DisplayName selects displayName, spelled as documented",
     function()
    local status, body = get(graph, JOBS .. "?$select=DisplayName,STATUS")
    assert.are.equal(200, status)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
      "solutions/migrations/crossTenantMigrationJobs(displayName,status)",
      body["@odata.context"])
    local keys = {}
    for k in pairs(body.value[1]) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "displayName", "id", "status" }, keys)
    assert.are.equal("job5", body.value[1].displayName)
    -- the same through the method, and on one job
    local page = assert(graph:list_jobs { select = "displayname" })
    assert.are.equal("job5", page.value[1].displayName)
    assert.is_nil(page.value[1].status)
    status, body = get(graph, JOBS .. "/" .. jobs[1].id ..
                       "?$select=CreatedBy&$expand=Users")
    assert.are.equal(200, status)
    assert.are.equal("admin@fabrikam.onmicrosoft.com", body.createdBy)
    assert.are.equal(1, #body.users)
    assert.is_nil(body.displayName)
  end)

  it("$select on tasks: TaskType, CURRENTSTATUS", function()
    local status, body = get(graph, JOBS .. "/" .. jobs[1].id ..
                             "/users?$select=TaskType,CURRENTSTATUS")
    assert.are.equal(200, status)
    assert.are.equal("https://graph.microsoft.com/beta/$metadata#" ..
      "solutions/migrations/crossTenantMigrationJobs('" .. jobs[1].id ..
      "')/users(taskType,currentStatus)", body["@odata.context"])
    assert.are.equal("user", body.value[1].taskType)
    assert.are.equal(4, #body.value[1].currentStatus)
    assert.is_nil(body.value[1].lastUpdatedDateTime)
  end)

  it("$filter and $orderby take any case of a property name", function()
    assert.are.same({ "job3" }, names(all(graph, JOBS ..
      "?$filter=" .. esc("DISPLAYNAME eq 'job3'"))))
    assert.are.same({ "job1", "job2", "job3", "job4", "job5" },
      names(all(graph, JOBS .. "?$orderby=" .. esc("CompleteAfterDateTime"))))
    assert.are.same({ "job2" }, names(all(graph, JOBS .. "?$filter=" ..
      esc("Status eq 'validateSubmitted' and startswith(displayname, 'job')"))))
    local page = assert(graph:list_jobs { filter = "createddatetime ge " ..
      "2025-11-06T09:03:00Z", orderby = "DisplayName desc" })
    assert.are.same({ "job5", "job4", "job3" }, names(page.value))
  end)

  it("matches a task's properties and its entries' in any case", function()
    local url = JOBS .. "/" .. jobs[1].id .. "/users?$filter=" ..
      esc("CurrentStatus/any(s: s/SERVICE eq 'Exchange' and " ..
          "s/Status eq 'notStarted') and TaskType eq 'user'")
    local items = all(graph, url)
    assert.are.equal(1, #items)
    assert.are.equal(F.users(5)[1], items[1].id)
  end)

  it("keeps the rules of values: strings compare exactly", function()
    assert.are.same({}, names(all(graph, JOBS .. "?$filter=" ..
      esc("displayName eq 'JOB3'"))))
  end)

  it("still refuses an unknown property, naming it as given", function()
    local status, body = get(graph, JOBS .. "?$filter=" ..
                             esc("DisplayNames eq 'x'"))
    assert.are.equal(400, status)
    assert.are.equal("Invalid $filter: unknown property 'DisplayNames' at " ..
                     "position 0.", body.error.message)
    status, body = get(graph, JOBS .. "?$select=DisplayNames")
    assert.are.equal(400, status)
    assert.are.equal("Invalid $select: unknown property 'DisplayNames'.",
                     body.error.message)
    status, body = get(graph, JOBS .. "?$orderby=" ..
                       esc("displayname,DisplayName"))
    assert.are.equal(400, status)
    assert.are.equal("Invalid $orderby: 'displayName' is given twice at " ..
                     "position 12.", body.error.message)
  end)
end)
