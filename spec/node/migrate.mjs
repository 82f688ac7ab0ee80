// A whole cross-tenant migration driven by Microsoft's own JavaScript
// clients against `crosstenant serve` (spec/31_node_clients_spec.lua):
//
//   node migrate.mjs BASE        BASE = http://127.0.0.1:PORT or
//                                       https://localhost:PORT
//
// @microsoft/microsoft-graph-client 3 (.api(), PageIterator, GraphError)
// and the Kiota pipeline (@microsoft/kiota-http-fetchlibrary with the
// models of @microsoft/msgraph-beta-sdk; its `solutions` request builders
// are not on npm, so RequestInformation is built here).  Prints one line
// per step ("ok <step>") and exits 0, or prints the failure and exits 1.
import { Client, PageIterator } from "@microsoft/microsoft-graph-client";
import { HttpMethod, RequestInformation } from "@microsoft/kiota-abstractions";
import { FetchRequestAdapter } from "@microsoft/kiota-http-fetchlibrary";
import {
  JsonParseNodeFactory,
  JsonSerializationWriterFactory,
} from "@microsoft/kiota-serialization-json";
import {
  createCrossTenantMigrationJobFromDiscriminatorValue,
  createCrossTenantMigrationTaskCollectionResponseFromDiscriminatorValue,
  createCrossTenantMigrationTaskFromDiscriminatorValue,
  serializeCrossTenantMigrationTask,
} from "@microsoft/msgraph-beta-sdk/models/index.js";
import { createODataErrorFromDiscriminatorValue } from "@microsoft/msgraph-beta-sdk/models/oDataErrors/index.js";

const BASE = process.argv[2];
const HTTPS = BASE.startsWith("https://");
const HOST = new URL(BASE).hostname;
const JOBS = "/solutions/migrations/crossTenantMigrationJobs";
const TARGET = "87654321-4321-4321-4321-210987654321";
const SOURCE = "12345678-1234-1234-1234-123456789012";

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

function step(name) {
  console.log("ok " + name);
}

// an unsigned JWT: the model reads its claims, nobody checks a signature
function b64url(s) {
  return Buffer.from(s).toString("base64url");
}
const TOKEN = b64url('{"alg":"none","typ":"JWT"}') + "." +
  b64url(JSON.stringify({
    tid: TARGET, upn: "admin@fabrikam.onmicrosoft.com",
    scp: "CrossTenantContentMigration.ReadWrite.All", exp: 4102444800,
  })) + ".";

// graph-client 3 sends Authorization to a host that is not Graph's only
// when the URL is https and the host is in customHosts
const client = Client.init({
  baseUrl: BASE + "/",
  defaultVersion: "beta",
  customHosts: new Set([HOST]),
  authProvider: (done) => done(null, TOKEN),
});

// Kiota: an authentication provider that always adds the token
const auth = {
  authenticateRequest: async (request) => {
    request.headers.add("Authorization", "Bearer " + TOKEN);
  },
};
const adapter = new FetchRequestAdapter(auth, new JsonParseNodeFactory(),
                                        new JsonSerializationWriterFactory());
adapter.baseUrl = BASE + "/beta";
const ERRORS = { XXX: createODataErrorFromDiscriminatorValue };

function request(method, template, params = {}) {
  const ri = new RequestInformation(method, "{+baseurl}" + template);
  for (const [k, v] of Object.entries(params)) ri.pathParameters[k] = v;
  ri.headers.tryAdd("Accept", "application/json");
  return ri;
}

async function control(path, body) {
  const res = await fetch(BASE + "/_crosstenant" + path, {
    method: body === undefined ? "GET" : "POST",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  check(res.ok, "control " + path + ": " + res.status);
  return res.json();
}

async function expectODataError(promise, status, code) {
  try {
    await promise;
  } catch (e) {
    // the beta SDK's ODataError: the body's `error` is `errorEscaped`
    const main = e.errorEscaped;
    check(main !== undefined, "an ODataError: " + e);
    check(e.responseStatusCode === status,
          "status " + e.responseStatusCode + " is " + status);
    check(main.code === code, "code " + main.code + " is " + code);
    check(typeof main.message === "string" && main.message.length > 0,
          "a message");
    check(typeof main.innerError?.additionalData?.["request-id"] === "string" ||
          typeof main.innerError?.requestId === "string", "a request-id");
    return e;
  }
  throw new Error("expected an ODataError " + status);
}

async function main() {
  await control("/reset", {});
  // the customHosts trap: without it, graph-client sends no token; it
  // shows as a 401 only on a server with --require-token (else the
  // store's default caller answers a request without one)
  if (HTTPS) {
    const bare = Client.init({
      baseUrl: BASE + "/", defaultVersion: "beta",
      authProvider: (done) => done(null, TOKEN),
    });
    let failed = null;
    try {
      await bare.api(JOBS).get();
    } catch (e) {
      failed = e;
    }
    if (failed === null) {
      step("no Authorization without customHosts (not seen: this server " +
           "takes requests without a token; --require-token shows the 401)");
    } else {
      check(failed.statusCode === 401,
            "401 without customHosts: " + failed.statusCode);
      check(failed.code === "unauthenticated",
            "unauthenticated: " + failed.code);
      step("no Authorization without customHosts (401)");
    }
  }

  // create a job (graph-client)
  const job = await client.api(JOBS).post({
    displayName: "node batch",
    completeAfterDateTime: "2025-12-09T22:48:03Z",
    sourceTenantId: SOURCE,
    resourceType: "Users",
    resources: ["4dd550d9-9ea2-4e71-a16b-60b1d1c4f506"],
    workloads: ["ODSP", "Exchange"],
    exchangeSettings: { sourceEndpoint: "e",
                        targetDeliveryDomain: "d.onmicrosoft.com" },
  });
  check(job.status === "submitted", "submitted: " + job.status);
  check(job["@odata.context"].startsWith(BASE + "/beta/$metadata#"),
        "context names the server: " + job["@odata.context"]);
  step("create job " + job.id);

  // add users (Kiota, the beta SDK's task model)
  for (let i = 1; i <= 24; i++) {
    const ri = request(HttpMethod.POST, JOBS + "/{id}/users", { id: job.id });
    ri.setContentFromParsable(adapter, "application/json", {
      id: "dddddddd-0000-4000-8000-" + String(i).padStart(12, "0"),
      taskType: "user",
      lastUpdatedDateTime: new Date("2025-11-06T09:00:00Z"),
      currentStatus: [],
    }, serializeCrossTenantMigrationTask);
    const task = await adapter.send(
      ri, createCrossTenantMigrationTaskFromDiscriminatorValue, ERRORS);
    check(task.id.endsWith(String(i).padStart(12, "0")), "task id");
  }
  step("add 24 users");

  const v = await client.api(JOBS + "/" + job.id + "/validate").post({});
  check(v.status === "validateSubmitted", "validateSubmitted: " + v.status);
  const adv = await control("/clock/advance", { by: "PT1H" });
  check(adv.events > 0, "events");
  const ri = request(HttpMethod.GET, JOBS + "/{id}", { id: job.id });
  const got = await adapter.send(
    ri, createCrossTenantMigrationJobFromDiscriminatorValue, ERRORS);
  check(got.status === "validatePassed", "validatePassed: " + got.status);
  check(got.completeAfterDateTime instanceof Date, "a Date");
  step("validate, advance, validatePassed");

  const m = await client.api(JOBS + "/" + job.id + "/migrate").post({});
  check(m.status === "processing" || m.status === "inProgress",
        "migrating: " + m.status);
  step("migrate");

  // page through the 25 tasks, 20 a page
  let ids = [];
  if (HTTPS) {
    // graph-client follows an absolute @odata.nextLink only when it is
    // https: PageIterator over https
    const first = await client.api(JOBS + "/" + job.id + "/users").get();
    check(first["@odata.nextLink"].startsWith(BASE + "/beta/"), "nextLink");
    const it = new PageIterator(client, first, (t) => { ids.push(t.id); return true; });
    await it.iterate();
    step("PageIterator over tasks: " + ids.length);
  } else {
    let next = null;
    do {
      const page_ri = next
        ? Object.assign(new RequestInformation(HttpMethod.GET), { URL: next })
        : request(HttpMethod.GET, JOBS + "/{id}/users", { id: job.id });
      page_ri.headers.tryAdd("Accept", "application/json");
      const page = await adapter.send(page_ri,
        createCrossTenantMigrationTaskCollectionResponseFromDiscriminatorValue,
        ERRORS);
      ids = ids.concat(page.value.map((t) => t.id));
      next = page.odataNextLink;
      check(!next || next.startsWith(BASE + "/beta/"), "nextLink " + next);
    } while (next);
    step("Kiota pages over tasks: " + ids.length);
  }
  check(ids.length === 25 && new Set(ids).size === 25, "25 tasks");

  const c = await client.api(JOBS + "/" + job.id + "/cancel").post({});
  check(c.status === "Accepted" || typeof c === "object", "cancel");
  step("cancel");

  // a 409: no delete while the cancel is pending (Kiota, ODataError)
  const del = request(HttpMethod.DELETE, JOBS + "/{id}", { id: job.id });
  await expectODataError(adapter.sendNoResponseContent(del, ERRORS), 409,
                         "notAllowed");
  step("ODataError 409 notAllowed");
  await control("/clock/advance", { by: "P1D" });
  await adapter.sendNoResponseContent(
    request(HttpMethod.DELETE, JOBS + "/{id}", { id: job.id }), ERRORS);
  step("delete");

  // a 404: ODataError from Kiota, GraphError from graph-client
  await expectODataError(adapter.send(
    request(HttpMethod.GET, JOBS + "/{id}", { id: "no-such-job" }),
    createCrossTenantMigrationJobFromDiscriminatorValue, ERRORS), 404,
    "itemNotFound");
  try {
    await client.api(JOBS + "/no-such-job").get();
    throw new Error("expected a GraphError");
  } catch (e) {
    check(e.statusCode === 404 && e.code === "itemNotFound",
          "GraphError 404: " + e.statusCode + " " + e.code);
  }
  step("ODataError 404 itemNotFound");

  const journal = await control("/requests");
  check(journal.value.length > 30, "journal");
  step("journal " + journal.value.length);
}

main().then(() => process.exit(0), (e) => {
  console.log("FAILED: " + (e && e.stack || e));
  process.exit(1);
});
