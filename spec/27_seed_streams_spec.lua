-- Seeded sequences of nearby seeds never overlap: the request ids and the
-- job ids of seeds 1..64 (a start of seed ^ salt stepped by 2 once made
-- seed 7's request ids seed 1's shifted by one request).  The same seed
-- still gives the same ids.
local F = require "spec.support.fixtures"
local crosstenant = require "crosstenant"

local N, SEEDS = 100, 64

local function request_ids(seed)
  local graph = crosstenant.new { seed = seed, now = F.NOW }
  local ids = {}
  for i = 1, N do
    local status, _, headers = graph:request("GET", F.JOBS .. "/nope")
    assert.are.equal(404, status)
    ids[i] = headers["request-id"]
  end
  graph:close()
  return ids
end

local function job_ids(seed)
  local graph = crosstenant.new { seed = seed, now = F.NOW }
  local ids = {}
  for i = 1, N do
    -- a user is in one active job at a time: one user of its own each
    ids[i] = assert(graph:create_job(F.job_body {
      displayName = "job " .. i,
      resources = { ("00000000-0000-4000-8000-%012d"):format(i) } })).id
  end
  graph:close()
  return ids
end

-- every id of every seed once: the seed that made each id first
local function assert_disjoint(make, what)
  local owner, count = {}, 0
  for seed = 1, SEEDS do
    for i, id in ipairs(make(seed)) do
      assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-" ..
                     "%x%x%x%x%x%x%x%x%x%x%x%x$", id)
      if owner[id] then
        error(("%s %s: seed %d's #%d, also seed %d's"):format(
          what, id, seed, i, owner[id]))
      end
      owner[id] = seed
      count = count + 1
    end
  end
  assert.are.equal(SEEDS * N, count)
end

describe("seeded sequences", function()
  it("seeds 1..64 give pairwise disjoint first-100 request ids", function()
    assert_disjoint(request_ids, "request-id")
  end)

  it("seeds 1..64 give pairwise disjoint first-100 job ids", function()
    assert_disjoint(job_ids, "job id")
  end)

  it("the same seed gives the same request ids and job ids", function()
    assert.are.same(request_ids(7), request_ids(7))
    assert.are.same(job_ids(7), job_ids(7))
  end)

  it("seed 7's request ids are not seed 1's shifted by one", function()
    local one, seven = request_ids(1), request_ids(7)
    local of_one = {}
    for _, id in ipairs(one) do of_one[id] = true end
    for i = 1, N do assert.is_nil(of_one[seven[i]]) end
  end)
end)
