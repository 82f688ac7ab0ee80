--- bench/serve_seed.lua -- the scenario `make bench-server` serves:
--
--   crosstenant serve --port 0 --quiet bench/serve_seed.lua -- IDS_FILE
--
-- one job of 20 users (the GET: a 20-task page), then 400 jobs of one
-- user that the POSTs fill (1,999 more users each: 799,600 POSTs before
-- a job is full).  Writes the list job's id, then the others', one a
-- line, to IDS_FILE for bench/wrk_post.lua.
local graph, file = ...
local dir = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")) or "."
local U = dofile(dir .. "/util.lua")
local out = assert(io.open(assert(file, "usage: -- IDS_FILE"), "w"))
local list = assert(graph:create_job(U.job_body("list", 0x20000000, 1, 20)))
out:write(list.id, "\n")
for k = 1, 400 do
  local job = assert(graph:create_job(U.job_body("post " .. k, 0x21000000,
                                                 k, 1)))
  out:write(job.id, "\n")
end
out:close()
