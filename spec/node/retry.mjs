// @microsoft/microsoft-graph-client's default middleware (its
// RetryHandler) against scripted throttling of `crosstenant serve`
// (spec/31_node_clients_spec.lua):
//
//   node retry.mjs BASE RETRY_AFTER
//
// Scripts a 429 with Retry-After RETRY_AFTER seconds on the create, then
// on the list (POST /_crosstenant/faults); the client must retry each
// once, after waiting, and succeed, and the create must have made one job.
// Prints one line per step ("ok <step>") and exits 0, or prints the
// failure and exits 1.  The spec reads the request journal afterwards.
import { Client } from "@microsoft/microsoft-graph-client";

const BASE = process.argv[2];
const RETRY_AFTER = Number(process.argv[3]);
const JOBS = "/solutions/migrations/crossTenantMigrationJobs";

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

function step(name) {
  console.log("ok " + name);
}

async function control(path, body) {
  const res = await fetch(BASE + "/_crosstenant" + path, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  check(res.ok, "control " + path + ": " + res.status);
  return res.json();
}

// the default middleware chain: authentication, RetryHandler (3 retries,
// Retry-After honoured), redirects, telemetry
const client = Client.init({
  baseUrl: BASE + "/",
  defaultVersion: "beta",
  authProvider: (done) => done(null, "token"),
});

async function main() {
  await control("/faults", { status: 429, retry_after: RETRY_AFTER,
                             method: "POST",
                             path: "/crossTenantMigrationJobs" });
  const job = await client.api(JOBS).post({
    displayName: "retried batch",
    completeAfterDateTime: "2025-12-09T22:48:03Z",
    sourceTenantId: "12345678-1234-1234-1234-123456789012",
    resourceType: "Users",
    resources: ["4dd550d9-9ea2-4e71-a16b-60b1d1c4f506"],
    workloads: ["ODSP"],
  });
  check(job.status === "submitted", "submitted: " + job.status);
  step("create retried after 429");

  await control("/faults", { status: 429, retry_after: RETRY_AFTER,
                             method: "GET" });
  const list = await client.api(JOBS).get();
  check(list.value.length === 1 && list.value[0].id === job.id,
        "one job, the one created: " + JSON.stringify(list.value));
  step("list retried after 429: 1 job");

  const faults = await control("/faults");
  check(faults.value.length === 0, "the scripted faults are used");
  step("faults used");
}

main().then(() => process.exit(0), (e) => {
  console.log("FAILED: " + (e && e.stack || e));
  process.exit(1);
});
