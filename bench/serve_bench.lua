--- bench/serve_bench.lua -- `make bench-server`: `crosstenant serve`
-- under wrk, next to the same listener answering a constant body with
-- the model bypassed (bench/serve_ceiling.lua: the HTTP layer's ceiling),
-- in one run, on loopback, wrk with 1 thread and 4 connections.
--
--   lua5.4 bench/serve_bench.lua [--seconds=5]
--
-- GET: a 20-task page (.../{id}/users); POST: .../users with the seed's
-- body, a new user each time (bench/wrk_post.lua).  The ceiling answers
-- the same bytes as the GET.  Prints req/s, the ratios to the ceiling
-- beside their targets (GET >= 0.5x, POST >= 0.4x), POST with --data
-- (every answer after its commit) against the same in memory (>= 0.5x),
-- and the server's RSS
-- sampled around the runs: flat over GET runs (nothing is kept per
-- request), and over POSTs growing by the store's own new users.
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
dofile(dir .. "/util.lua")
local ROOT = dir .. "/.."

local SECONDS = 5
for _, a in ipairs(arg) do
  local v = a:match("^%-%-seconds=(%d+)$")
  if v then SECONDS = tonumber(v)
  else
    io.stderr:write("usage: lua5.4 bench/serve_bench.lua [--seconds=N]\n")
    os.exit(2)
  end
end

local function sh(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return s
end

local tmp = sh("mktemp -d"):gsub("\n$", "")
local pids = {}

local function cleanup()
  for _, pid in ipairs(pids) do os.execute("kill " .. pid .. " 2>/dev/null") end
  os.execute("rm -rf '" .. tmp .. "'")
end

local function fail(msg)
  io.stderr:write("bench-server: ", msg, "\n")
  cleanup()
  os.exit(1)
end

-- starts `cmd` in the background; waits (at most 30 s) for its
-- `listening on URL` line; returns pid, URL
local function start(name, cmd)
  local out = tmp .. "/" .. name .. ".out"
  local pid = sh(cmd .. " >" .. out .. " 2>" .. tmp .. "/" .. name ..
                 ".err </dev/null & echo $!"):match("%d+")
  pids[#pids + 1] = pid
  for _ = 1, 600 do
    local f = io.open(out)
    local s = f and f:read("a") or ""
    if f then f:close() end
    local url = s:match("listening on (%S+)")
    if url then return pid, url end
    os.execute("sleep 0.05")
  end
  fail(name .. " did not start: " .. sh("cat " .. tmp .. "/" .. name ..
                                        ".err"))
end

local function rss(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local WRK = "wrk -t1 -c4 -d" .. SECONDS .. "s"

-- one wrk run; returns req/s and the number of requests
local function wrk(what, url, script)
  local cmd = WRK .. (script and (" -s " .. ROOT .. "/bench/wrk_post.lua")
                      or "") .. " '" .. url .. "'" ..
              (script and (" -- " .. script) or "")
  local out = sh(cmd .. " 2>&1")
  local rate = tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  local n = tonumber(out:match("(%d+) requests in"))
  if not rate then fail(what .. ": no figure from wrk:\n" .. out) end
  local bad = out:match("Non%-2xx or 3xx responses: (%d+)")
  if bad then fail(what .. ": " .. bad .. " answers were not 2xx") end
  local errs = out:match("Socket errors: ([^\n]*)")
  io.write(string.format("  %-34s %9.0f req/s  (%d requests%s)\n", what,
                         rate, n, errs and (", socket errors: " .. errs)
                         or ""))
  io.stdout:flush()
  return rate, n
end

local LUA = "cd " .. ROOT .. " && exec lua5.4 "
local ids = tmp .. "/ids"
local model_pid, model = start("model", LUA .. "bin/crosstenant serve " ..
                               "--port 0 --quiet bench/serve_seed.lua -- " ..
                               ids)
local list_job = io.lines(ids)()
local list = model .. "/beta/solutions/migrations/crossTenantMigrationJobs/"
             .. list_job .. "/users"
local post = model .. "/beta/solutions/migrations/crossTenantMigrationJobs/"
os.execute("curl -s -o " .. tmp .. "/body '" .. list .. "'")
local body = io.open(tmp .. "/body"):read("a")
local _, ntasks = body:gsub('"taskType"', "")
if ntasks ~= 20 then fail("the list is not 20 tasks: " .. body:sub(1, 200)) end
local _, ceiling = start("ceiling", LUA .. "bench/serve_ceiling.lua " ..
                         tmp .. "/body")

io.write(string.format("bench-server: %s, loopback, %d s a run\n", WRK,
                       SECONDS))
io.write("  GET body: ", #body, " bytes (20 tasks)\n")
wrk("warm-up: model GET", list)
local rss0 = rss(model_pid)
local c_get = wrk("ceiling GET (constant, C)", ceiling .. "/x")
local m_get = wrk("crosstenant serve GET 20 tasks", list)
local rss1 = rss(model_pid)
local m_get2 = wrk("crosstenant serve GET 20 tasks", list)
local rss2 = rss(model_pid)
local c_post = wrk("ceiling POST (constant, C)", ceiling .. "/x", ids)
local m_post, n_post = wrk("crosstenant serve POST .../users", post ..
                           "x/users", ids)
local rss3 = rss(model_pid)
m_get = math.max(m_get, m_get2)
-- the same server with --data: every POST committed to DIR/store.db
-- before its answer (a new store, seeded the same way)
local ids2 = tmp .. "/ids2"
local _, durable = start("durable", LUA .. "bin/crosstenant serve " ..
                         "--port 0 --quiet --data " .. tmp .. "/data " ..
                         "bench/serve_seed.lua -- " .. ids2)
local d_post = wrk("serve --data POST .../users", durable ..
                   "/beta/solutions/migrations/crossTenantMigrationJobs/" ..
                   "x/users", ids2)

io.write("\n")
io.write(string.format("  GET  %.2fx the ceiling (target >= 0.5x)%s\n",
                       m_get / c_get, m_get / c_get >= 0.5 and ""
                       or "  BELOW TARGET"))
io.write(string.format("  POST %.2fx the ceiling (target >= 0.4x)%s\n",
                       m_post / c_post, m_post / c_post >= 0.4 and ""
                       or "  BELOW TARGET"))
io.write(string.format("  POST with --data %.2fx the same in memory " ..
                       "(target >= 0.5x)%s\n", d_post / m_post,
                       d_post / m_post >= 0.5 and "" or "  BELOW TARGET"))
io.write(string.format("  RSS of the server: %d KiB after warm-up, %d " ..
                       "and %d KiB after each GET run (%+d KiB)\n", rss0,
                       rss1, rss2, rss2 - rss1))
io.write(string.format("  RSS after %d POSTs: %d KiB (%+d KiB, %.0f bytes " ..
                       "a new user: the store's own)\n", n_post, rss3,
                       rss3 - rss2, (rss3 - rss2) * 1024 / n_post))
cleanup()
