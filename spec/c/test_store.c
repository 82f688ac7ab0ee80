/*
** test_store.c -- standalone tests for the store, its maps, the schema
** validator, the lifecycle and the query core (ct_store.c, ct_map.c,
** ct_schema.c, ct_life.c, ct_query.c), driven through their C API with
** no Lua.  They reach the branches the busted suite does not: the maps
** against a model under random operations (wrap-around clusters and
** backward-shift deletion), refusals in every job status, entries and
** errors of tasks, scripted faults, the event callbacks, and query
** texts of every kind.  Out-of-memory paths are in test_alloc.c.
** Prints one line per failed check, then "N passed, N failed"; exits
** non-zero when anything failed.
*/
#include "check.h"
#include "ct_json.h"
#include "ct_life.h"
#include "ct_query.h"
#include "ct_schema.h"
#include "ct_store.h"
#include "ct_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a check on an error: status and the exact message */
/* the statuses a job runs in, as the 409 messages list them */
#define RUNSTATES "submitted, validateSubmitted, validateProcessing, " \
  "validateInProgress, validatePassed, validateFailed, processing or " \
  "inProgress"

#define CHECK_ERR(e, st, msg) \
  check_err(t, __LINE__, (e), (st), (msg))

static void check_err(tally *t, int line, const ct_err *e, int status,
                      const char *msg)
{
  int ok = e->status == status && strcmp(e->message, msg) == 0;
  check(t, ok, line, "error as expected");
  if (!ok)
    printf("  want: %d %s\n  got:  %d %s\n", status, msg, e->status,
           e->message);
}

static uint64_t next_rand(uint64_t *x)
{
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * 0x2545F4914F6CDD1DULL;
}

/* ==================== fixtures ==================== */

#define NOW "2025-11-06T09:00:00Z"
#define TARGET "87654321-4321-4321-4321-210987654321"
#define SOURCE "12345678-1234-1234-1234-123456789012"
#define SEC CT_TICKS_PER_SEC

static ct_arena arena;            /* every parsed body, freed at the end */

static const ct_jval *json(const char *text)
{
  return check_json(&arena, text);
}

static ct_store *new_store(int strict, double failure_rate)
{
  ct_options o;
  ct_time now;
  ct_store *s;
  memset(&o, 0, sizeof o);
  o.seed = 7;
  o.has_seed = 1;
  o.strict = strict;
  o.failure_rate[CT_PHASE_VALIDATE] = failure_rate;
  o.failure_rate[CT_PHASE_MIGRATE] = failure_rate;
  ct_time_parse(NOW, strlen(NOW), &now, NULL);
  o.now = now.ticks;
  s = ct_store_new(&o);
  if (s == NULL) exit(2);
  return s;
}

static ct_caller caller_of(const char *tenant)
{
  ct_caller c;
  ct_guid_parse(tenant, 36, &c.tenant);
  c.upn = "admin@fabrikam.onmicrosoft.com";
  c.nupn = strlen(c.upn);
  return c;
}

/* a job body: `name`, users "<prefix>-0000-4000-8000-00000000000<i>" */
static const ct_jval *job_body(const char *name, const char *prefix, int n,
                               const char *workloads, const char *cad)
{
  char body[2048], res[1024];
  size_t k = 0;
  int i;
  res[0] = '\0';
  for (i = 0; i < n; i++)
    k += (size_t)snprintf(res + k, sizeof res - k,
                          "%s\"%s-0000-4000-8000-%012d\"", i ? "," : "",
                          prefix, i + 1);
  snprintf(body, sizeof body,
           "{\"displayName\":\"%s\",\"completeAfterDateTime\":\"%s\","
           "\"sourceTenantId\":\"" SOURCE "\",\"resourceType\":\"Users\","
           "\"resources\":[%s],\"workloads\":%s,\"exchangeSettings\":"
           "{\"sourceEndpoint\":\"e\",\"targetDeliveryDomain\":\"d\"}}",
           name, cad ? cad : "2025-12-09T22:48:03.092Z", res,
           workloads ? workloads : "[\"Teams\",\"Exchange\",\"ODSP\"]");
  return json(body);
}

static ct_job *make_job(tally *t, ct_store *s, const ct_caller *c,
                        const char *name, const char *prefix, int n,
                        const char *workloads, const char *cad)
{
  ct_err e;
  ct_job *j = ct_job_create(s, c, job_body(name, prefix, n, workloads, cad),
                            &e);
  CHECK(j != NULL);
  if (j == NULL) printf("  %s\n", e.message);
  return j;
}

static void advance(ct_store *s, double seconds)
{
  ct_store_advance(s, s->now + (int64_t)(seconds * SEC));
}

/* ==================== enums ==================== */

static void test_enums(tally *t)
{
  int st, n_active = 0, n_final = 0;
  CHECK(strcmp(ct_job_status_name(-1), "unknown") == 0);
  CHECK(strcmp(ct_job_status_name(CT_JS__COUNT), "unknown") == 0);
  CHECK(strcmp(ct_svc_status_name(99), "unknown") == 0);
  CHECK(strcmp(ct_job_type_name(CT_JT_MIGRATE), "migrate") == 0);
  CHECK(strcmp(ct_job_type_name(3), "unknown") == 0);
  CHECK(strcmp(ct_service_name(CT_SVC_MEETING), "Meeting") == 0);
  CHECK(strcmp(ct_workload_name(CT_WL_ODSP), "ODSP") == 0);
  CHECK(strcmp(ct_workload_name(-2), "unknown") == 0);
  CHECK(ct_job_status_find("VALIDATEPASSED", 14) == CT_JS_VALIDATEPASSED);
  CHECK(ct_job_status_find("validate", 8) == -1);
  CHECK(ct_svc_status_find("Synced", 6) == CT_SS_SYNCED);
  CHECK(ct_service_find("odsp", 4) == CT_SVC_ODSP);
  CHECK(ct_service_find("odspx", 5) == -1);
  for (st = 0; st < CT_JS__COUNT; st++) {
    n_final += ct_job_status_final(st);
    n_active += ct_life_job_active(st);
  }
  CHECK(n_final == 4);
  CHECK(n_active == CT_JS__COUNT - 4);
  /* the one lists: complete, in their enums' order, NULL-terminated */
  CHECK(ct_job_status_names[CT_JS__COUNT] == NULL &&
        strcmp(ct_job_status_names[CT_JS_VALIDATEPASSED], "validatePassed")
          == 0);
  CHECK(ct_job_type_names[CT_JT__COUNT] == NULL);
  CHECK(ct_svc_status_names[CT_SS__COUNT] == NULL);
  CHECK(ct_service_names[CT_SVC__COUNT] == NULL);
  CHECK(ct_workload_names[CT_WL__COUNT] == NULL);
  for (st = 0; st < CT_JS__COUNT; st++) CHECK(ct_job_status_names[st]);
  for (st = 0; st < CT_SS__COUNT; st++) CHECK(ct_svc_status_names[st]);
  CHECK(ct_workload_find("exchange", 8) == CT_WL_EXCHANGE);
  CHECK(ct_names_find(ct_job_type_names, "Migrate", 7, 1) == -1);
  CHECK(ct_names_find(ct_job_type_names, "Migrate", 7, 0) == CT_JT_MIGRATE);
  CHECK(ct_type_job.nprops == CT_JOB__COUNT &&
        ct_type_task.nprops == CT_TASK__COUNT);
  for (st = 0; st < CT_JOB__COUNT; st++) CHECK(ct_job_props[st].name);
  for (st = 0; st < CT_TASK__COUNT; st++) CHECK(ct_task_props[st].name);
  for (st = 0; st < CT_STATUS__COUNT; st++) CHECK(ct_status_props[st].name);
  CHECK(strcmp(ct_job_props[CT_JOB_USERS].name, "users") == 0);
  CHECK(strcmp(ct_task_props[CT_TASK_CURRENTSTATUS].name,
               "currentStatus") == 0);
  {
    ct_timings tm;
    double sum = 0;
    ct_store_default_timings(&tm);
    CHECK(ct_timing_names[CT_TIMING__COUNT] == NULL);
    CHECK(ct_timing_at(&tm, -1) == NULL &&
          ct_timing_at(&tm, CT_TIMING__COUNT) == NULL);
    for (st = 0; st < CT_TIMING__COUNT; st++) sum += *ct_timing_at(&tm, st);
    CHECK(sum == 60 + 120 + 600 + 300 + 4 * 3600.0 + 1800 + 60 + 3600 +
                 3600 + 7 * 86400.0);
    CHECK(ct_timing_at(&tm, 0) == &tm.validate_submitted &&
          ct_timing_at(&tm, CT_TIMING__COUNT - 1) == &tm.validation_expiry);
    CHECK(ct_timing_value(&tm, CT_TIMING__COUNT - 1) == 7 * 86400.0 &&
          ct_timing_value(&tm, CT_TIMING__COUNT) == 0);
  }
  CHECK(!ct_life_job_active(CT_JS_DELETED));
  CHECK(!ct_life_job_active(CT_JS_PENDINGDELETE));
  CHECK(ct_life_job_active(CT_JS_FAILED));
}

/* ==================== maps ==================== */

#define NKEYS 40

static void key_of(unsigned k, ct_guid *g)
{
  memset(g, 0, sizeof *g);
  g->b[0] = (uint8_t)k;
  g->b[9] = (uint8_t)(k * 13);
}

/* the GUID map against an array, under random put/get/del/reserve */
static void test_gmap(tally *t)
{
  ct_gmap m;
  uintptr_t model[NKEYS], v;
  int present[NKEYS], bad = 0, k;
  size_t count = 0, maxcap = 0;
  uint64_t x = 99;
  ct_guid g;
  ct_gmap_init(&m);
  key_of(1, &g);
  CHECK(!ct_gmap_get(&m, &g, &v));
  ct_gmap_del(&m, &g);                     /* on an empty map */
  CHECK(m.count == 0);
  memset(present, 0, sizeof present);
  for (k = 0; k < 40000; k++) {
    uint64_t r = next_rand(&x);
    unsigned key = (unsigned)(r >> 8) % NKEYS;
    key_of(key, &g);
    switch (r % 7) {
    case 0: case 1: case 2:
      if (ct_gmap_put(&m, &g, (uintptr_t)r) != 0) bad++;
      if (!present[key]) count++;
      present[key] = 1;
      model[key] = (uintptr_t)r;
      break;
    case 3: case 4: case 5:
      ct_gmap_del(&m, &g);
      if (present[key]) count--;
      present[key] = 0;
      break;
    default:
      if (ct_gmap_reserve(&m, (size_t)(r >> 40) % 4) != 0) bad++;
      if (ct_gmap_get(&m, &g, NULL) != present[key]) bad++;
      if (present[key] && (!ct_gmap_get(&m, &g, &v) || v != model[key]))
        bad++;
    }
    if (m.count != count) bad++;
    if (m.cap > maxcap) maxcap = m.cap;
  }
  CHECK(bad == 0);
  CHECK(maxcap >= 16);
  for (k = 0; k < NKEYS; k++) {
    key_of((unsigned)k, &g);
    if (ct_gmap_get(&m, &g, &v) != present[k] ||
        (present[k] && v != model[k]))
      bad++;
  }
  CHECK(bad == 0);
  ct_gmap_free(&m);
  ct_gmap_free(&m);                        /* idempotent */
  CHECK(m.cap == 0 && m.slots == NULL);
}

/* the user map: slots name (job, position); keys are the tasks' ids */
static void test_umap(tally *t)
{
  ct_job a, b;
  ct_task ta[NKEYS], tb[NKEYS];
  ct_umap m;
  ct_job *held[NKEYS], *who;
  int k, bad = 0;
  size_t count = 0;
  uint64_t x = 5;
  ct_guid g;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(ta, 0, sizeof ta);
  memset(tb, 0, sizeof tb);
  for (k = 0; k < NKEYS; k++) {
    key_of((unsigned)k, &ta[k].id);
    key_of((unsigned)k, &tb[k].id);
    held[k] = NULL;
  }
  a.tasks = ta;
  b.tasks = tb;
  ct_umap_init(&m);
  key_of(3, &g);
  CHECK(!ct_umap_get(&m, &g, &who));
  ct_umap_del(&m, &g);
  for (k = 0; k < 40000; k++) {
    uint64_t r = next_rand(&x);
    unsigned key = (unsigned)(r >> 8) % NKEYS;
    ct_job *j = (r >> 20) & 1 ? &a : &b;
    key_of(key, &g);
    switch (r % 5) {
    case 0: case 1:
      if (ct_umap_reserve(&m, 1) != 0) bad++;
      ct_umap_put(&m, j, key);             /* a second put replaces */
      if (!held[key]) count++;
      held[key] = j;
      break;
    case 2: case 3:
      ct_umap_del(&m, &g);
      if (held[key]) count--;
      held[key] = NULL;
      break;
    default:
      if (ct_umap_get(&m, &g, NULL) != (held[key] != NULL)) bad++;
      if (held[key] && (!ct_umap_get(&m, &g, &who) || who != held[key]))
        bad++;
    }
    if (m.count != count) bad++;
  }
  CHECK(bad == 0);
  ct_umap_free(&m);
  CHECK(m.cap == 0);
}

static void test_tmap(tally *t)
{
  ct_task tasks[300];
  ct_tmap m;
  size_t pos, i;
  int bad = 0;
  ct_guid g;
  memset(tasks, 0, sizeof tasks);
  ct_tmap_init(&m);
  key_of(1, &g);
  CHECK(!ct_tmap_get(&m, tasks, &g, &pos));
  for (i = 0; i < 300; i++) {
    tasks[i].id.b[0] = (uint8_t)i;
    tasks[i].id.b[1] = (uint8_t)(i >> 8);
    if (ct_tmap_reserve(&m, tasks, 1) != 0) bad++;
    ct_tmap_put(&m, tasks, i);
  }
  for (i = 0; i < 300; i++)
    if (!ct_tmap_get(&m, tasks, &tasks[i].id, &pos) || pos != i) bad++;
  CHECK(ct_tmap_get(&m, tasks, &tasks[7].id, NULL));
  g = tasks[0].id;
  g.b[5] = 1;
  CHECK(!ct_tmap_get(&m, tasks, &g, NULL));
  CHECK(bad == 0);
  CHECK(m.count == 300 && m.cap >= 600);
  ct_tmap_free(&m);
}

/* ==================== schema ==================== */

static void test_schema(tally *t)
{
  ct_err e;
  ct_jval empty, obj, member, str;
  /* an empty Lua table where a string or an object is expected */
  memset(&empty, 0, sizeof empty);
  empty.kind = CT_JEMPTY;
  memset(&member, 0, sizeof member);
  member.kind = CT_JEMPTY;
  member.key = "displayName";
  member.keylen = 11;
  memset(&obj, 0, sizeof obj);
  obj.kind = CT_JOBJ;
  obj.len = 1;
  obj.u.items = &member;
  CHECK(ct_schema_check(&ct_type_job, &obj, 1, CT_CHECK_CREATE, &e) != 0);
  CHECK_ERR(&e, 400, "Property 'displayName' must be a string, not an "
            "empty table.");
  member.key = "exchangeSettings";
  member.keylen = 16;
  CHECK(ct_schema_check(&ct_type_job, &obj, 1, CT_CHECK_CREATE, &e) != 0);
  CHECK_ERR(&e, 400, "Property 'exchangeSettings.sourceEndpoint' is "
            "required.");
  member.key = "resources";
  member.keylen = 9;
  CHECK(ct_schema_check(&ct_type_job, &obj, 1, CT_CHECK_CREATE, &e) != 0);
  CHECK_ERR(&e, 400, "Property 'displayName' is required.");
  /* the whole body an empty table: an empty object */
  CHECK(ct_schema_check(&ct_type_job, &empty, 1, CT_CHECK_UPDATE, &e) == 0);
  memset(&str, 0, sizeof str);
  str.kind = CT_JSTR;
  str.u.s = "x";
  str.len = 1;
  CHECK(ct_schema_check(&ct_type_task, &str, 1, CT_CHECK_CREATE, &e) != 0);
  CHECK_ERR(&e, 400, "The request body must be a JSON object, not a "
            "string.");

  /* quoting: control bytes and DEL as '?', past 64 bytes cut with ... */
  CHECK(ct_schema_check(&ct_type_task, json("{\"taskType\":\"us\\u007fer\","
        "\"lastUpdatedDateTime\":\"" NOW "\"}"), 1, CT_CHECK_CREATE, &e));
  CHECK_ERR(&e, 400, "Property 'taskType' has an unsupported value "
            "'us?er'; supported: user.");
  CHECK(ct_schema_check(&ct_type_task, json("{\"id\":\"0123456789012345678"
        "90123456789012345678901234567890123456789012345678901234567890\"}"),
        1, CT_CHECK_CREATE, &e));
  CHECK_ERR(&e, 400, "Property 'id' is not a valid GUID: '012345678901234567"
            "8901234567890123456789012345678901234567890123...'.");
  /* @odata.type: with or without '#', and a wrong one */
  CHECK(ct_schema_check(&ct_type_task, json("{\"@odata.type\":\"microsoft."
        "graph.crossTenantMigrationTask\",\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\"}"), 1, CT_CHECK_CREATE, &e) == 0);
  CHECK(ct_schema_check(&ct_type_task, json("{\"@odata.type\":\"#microsoft."
        "graph.crossTenantMigrationJob\"}"), 1, CT_CHECK_CREATE, &e) != 0);
  CHECK_ERR(&e, 400, "Property '@odata.type' is '#microsoft.graph."
            "crossTenantMigrationJob', but the body must be of type "
            "'#microsoft.graph.crossTenantMigrationTask'.");
  CHECK(ct_schema_check(&ct_type_task, json("{\"@odata.type\":\"\"}"), 1,
                        CT_CHECK_CREATE, &e) != 0);
  /* not strict: read-only members are skipped */
  CHECK(ct_schema_check(&ct_type_job, json("{\"status\":5,\"id\":null}"), 0,
                        CT_CHECK_UPDATE, &e) == 0);
  CHECK(ct_schema_check(&ct_type_job, json("{\"status\":5}"), 1,
                        CT_CHECK_UPDATE, &e) != 0);
  CHECK_ERR(&e, 400, "Property 'status' is read-only and can't be set.");
  /* ct_schema_read: each property's member and its parsed value, the
     values the store keeps (read once); read-only members ignored are
     not recorded */
  {
    ct_fields f;
    ct_guid g;
    ct_time tm;
    const char *why;
    const ct_jval *body = json("{\"taskType\":\"user\",\"id\":"
      "\"4dd550d9-9ea2-4e71-a16b-000000000002\",\"lastUpdatedDateTime\":"
      "\"2025-11-06T09:06:34.4773205Z\"}");
    memset(&f, 0xff, sizeof f);         /* the read sets what it reports */
    CHECK(ct_schema_read(&ct_type_task, body, 1, CT_CHECK_CREATE, &f, &e)
          == 0);
    CHECK(f.at[CT_TASK_TASKTYPE] == &body->u.items[0]);
    CHECK(f.at[CT_TASK_ID] == &body->u.items[1]);
    CHECK(f.at[CT_TASK_LASTUPDATED] == &body->u.items[2]);
    CHECK(f.at[CT_TASK_CURRENTSTATUS] == NULL);
    CHECK(f.parsed == ((1u << CT_TASK_ID) | (1u << CT_TASK_LASTUPDATED)));
    CHECK(ct_guid_parse("4dd550d9-9ea2-4e71-a16b-000000000002", 36, &g) == 0);
    CHECK(memcmp(&f.val[CT_TASK_ID].guid, &g, sizeof g) == 0);
    CHECK(ct_time_parse("2025-11-06T09:06:34.4773205Z", 28, &tm, &why) == 0);
    CHECK(f.val[CT_TASK_LASTUPDATED].time.ticks == tm.ticks &&
          f.val[CT_TASK_LASTUPDATED].time.digits == 7);
    /* the same refusals as ct_schema_check, "required" included */
    CHECK(ct_schema_read(&ct_type_task, json("{\"taskType\":\"user\"}"), 1,
                         CT_CHECK_CREATE, &f, &e) != 0);
    CHECK_ERR(&e, 400, "Property 'lastUpdatedDateTime' is required.");
    CHECK(ct_schema_read(&ct_type_job, json("{\"status\":5,\"displayName\":"
          "\"x\"}"), 0, CT_CHECK_UPDATE, &f, &e) != 0);
    CHECK_ERR(&e, 400, "Property 'displayName' can't be updated; only "
              "completeAfterDateTime can.");
    CHECK(ct_schema_read(&ct_type_job, json("{\"status\":5,"
          "\"completeAfterDateTime\":\"" NOW "\"}"), 0, CT_CHECK_UPDATE,
          &f, &e) == 0);
    CHECK(f.at[CT_JOB_STATUS] == NULL && f.at[CT_JOB_COMPLETEAFTER] != NULL);
    CHECK(f.parsed == 1u << CT_JOB_COMPLETEAFTER);
  }
  CHECK(ct_schema_prop(&ct_type_job, "nope") == NULL);
  CHECK(ct_schema_prop(&ct_type_job, "workloads") != NULL);
  {
    static const char *const v[] = { "Alpha", "beta", NULL };
    CHECK(ct_schema_value_index(v, "BETA", 4) == 1);
    CHECK(ct_schema_value_index(v, "alph", 4) == -1);
    CHECK(ct_schema_value_index(v, "ALPHA", 5) == 0);
  }
}

/* ==================== jobs ==================== */

typedef struct seen_events {
  int jobs, tasks, same;
} seen_events;

static void on_job(void *ud, const ct_job *j, int old, int new_)
{
  seen_events *s = (seen_events *)ud;
  (void)j;
  s->jobs++;
  if (old == new_) s->same++;
}

static void on_task(void *ud, const ct_job *j, const ct_task *k, int svc,
                    int old, int new_)
{
  seen_events *s = (seen_events *)ud;
  (void)j;
  (void)k;
  (void)svc;
  s->tasks++;
  if (old == new_) s->same++;
}

static void test_job_rules(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET), other = caller_of(SOURCE);
  ct_err e;
  ct_job *j, *k;
  char jid[37], buf[600];

  /* an unknown tenant: 404 by id and by name, nothing listed */
  CHECK(ct_job_find(s, &c, "x", 1, &e) == NULL);
  CHECK_ERR(&e, 404, "crossTenantMigrationJob 'x' was not found.");
  CHECK(ct_job_find_name(s, &c, "x", 1, &e) == NULL);
  CHECK_ERR(&e, 404, "crossTenantMigrationJob 'x' was not found.");

  /* blank names: spaces, tabs, CR and LF */
  CHECK(ct_job_create(s, &c, job_body(" \\t\\r\\n", "aaaaaaaa", 1, NULL,
                                      NULL), &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'displayName' must not be empty.");
  CHECK(ct_job_create(s, &c, job_body("", "aaaaaaaa", 1, NULL, NULL), &e) ==
        NULL);
  /* the source tenant must differ */
  CHECK(ct_job_create(s, &other, job_body("n", "aaaaaaaa", 1, NULL, NULL),
                      &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'sourceTenantId' must differ from the target "
            "tenant '" SOURCE "'.");
  /* workloads omitted: all three, so exchangeSettings is needed */
  CHECK(ct_job_create(s, &c, json("{\"displayName\":\"w\","
        "\"completeAfterDateTime\":\"" NOW "\",\"sourceTenantId\":\"" SOURCE
        "\",\"resourceType\":\"Users\",\"resources\":["
        "\"aaaaaaaa-0000-4000-8000-000000000001\"]}"), &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'exchangeSettings' is required when the "
            "Exchange workload is selected.");
  CHECK(ct_job_create(s, &c, job_body("w", "aaaaaaaa", 1,
                                      "[\"ODSP\",\"odsp\"]", NULL), &e) ==
        NULL);
  CHECK_ERR(&e, 400, "Property 'workloads[1]' repeats 'ODSP'.");
  CHECK(ct_job_create(s, &c, job_body("w", "aaaaaaaa", 0, NULL, NULL), &e) ==
        NULL);
  CHECK_ERR(&e, 400, "Property 'resources' must hold 1 to 2000 user ids; it "
            "holds 0.");

  j = make_job(t, s, &c, "Alpha", "aaaaaaaa", 2, NULL, NULL);
  if (j == NULL) goto done;
  ct_guid_format(&j->id, jid);
  CHECK(ct_job_find(s, &c, jid, 36, &e) == j);
  CHECK(ct_job_find(s, &c, "ALPHA", 5, &e) == j);
  CHECK(ct_job_find_name(s, &c, "alpha", 5, &e) == j);
  CHECK(ct_job_find_name(s, &c, jid, 36, &e) == NULL);
  CHECK(ct_job_find(s, &other, "Alpha", 5, &e) == NULL);
  /* a key quoted in the message: control bytes and DEL as '?', 80 bytes */
  CHECK(ct_job_find(s, &c, "a\x01" "b\x7f", 4, &e) == NULL);
  CHECK_ERR(&e, 404, "crossTenantMigrationJob 'a?b?' was not found.");
  memset(buf, 'k', 100);
  CHECK(ct_job_find(s, &c, buf, 100, &e) == NULL);
  CHECK(strlen(e.message) == strlen("crossTenantMigrationJob '' was not "
        "found.") + 83);
  CHECK(ct_job_find_name(s, &other, "Alpha", 5, &e) == NULL);
  /* names are unique per tenant, case-insensitively */
  CHECK(ct_job_create(s, &c, job_body("aLPHA", "bbbbbbbb", 1, NULL, NULL),
                      &e) == NULL);
  CHECK_ERR(&e, 409, "A job named 'aLPHA' already exists in this tenant.");
  /* users: one active job at a time */
  CHECK(ct_job_create(s, &c, job_body("beta", "aaaaaaaa", 1, NULL, NULL),
                      &e) == NULL);
  snprintf(buf, sizeof buf, "resources[0]: User 'aaaaaaaa-0000-4000-8000-"
           "000000000001' is already in active job '%s'; a user can be in "
           "only one active job at a time.", jid);
  CHECK_ERR(&e, 409, buf);

  /* actions in the wrong status */
  CHECK(ct_job_migrate(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "Migration can't be started because the current "
            "status is submitted; migration starts from validatePassed, "
            "failed or completedWithErrors: validate the job first.");
  CHECK(ct_job_delete(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "The job can't be deleted because the current status "
            "is submitted; only a job that is completed, completedWithErrors,"
            " failed or cancelled can be deleted: cancel the job first.");
  CHECK(ct_job_update(s, j, json("{}"), &e) == 0);
  CHECK(ct_job_update(s, j, json("{\"displayName\":\"x\"}"), &e) != 0);
  CHECK_ERR(&e, 400, "Property 'displayName' can't be updated; only "
            "completeAfterDateTime can.");
  CHECK(ct_job_validate(s, j, &e) == 0);
  CHECK(ct_job_validate(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "Validation can't be started because the current "
            "status is validateSubmitted; validation starts from submitted or "
            "validateFailed, or from validatePassed once that validation has "
            "expired: wait until validation finishes (validatePassed or "
            "validateFailed).");
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEPASSED);
  /* validation expires after 7 days */
  advance(s, 8 * 86400);
  CHECK(ct_job_migrate(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "Migration can't be started: validation passed more "
            "than 7 days ago (on 2025-11-06T09:13:00Z), and its results have "
            "expired: validate again.");
  /* which may now be validated again, and passes again */
  CHECK(ct_job_validate(s, j, &e) == 0);
  CHECK(j->status == CT_JS_VALIDATESUBMITTED);
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEPASSED);
  CHECK(ct_job_validate(s, j, &e) != 0);        /* fresh: not again */
  CHECK(e.status == 409);

  /* cancel: entries already completed stay completed */
  k = make_job(t, s, &c, "gamma", "cccccccc", 1, "[\"ODSP\",\"Teams\"]",
               "2026-01-01T00:00:00Z");
  if (k != NULL) {
    CHECK(ct_task_create(s, k, json("{\"taskType\":\"user\","
          "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":["
          "{\"service\":\"ODSP\",\"status\":\"completed\"},"
          "{\"service\":\"Teams\",\"status\":\"inProgress\"}]}"), &e) != NULL);
    CHECK(k->tasks[1].n == 3);
    CHECK(ct_job_cancel(s, k, &e) == 0);
    CHECK(k->tasks[1].st[0] == CT_SS_COMPLETED);
    CHECK(k->tasks[1].st[1] == CT_SS_PENDINGCANCEL);
    CHECK(k->tasks[1].st[2] == CT_SS_PENDINGCANCEL);
    CHECK(ct_job_cancel(s, k, &e) != 0);
    CHECK_ERR(&e, 409, "Cancellation is not possible because the current "
              "status is pendingCancel; a job can be cancelled while it is "
              RUNSTATES ": the job is already being cancelled.");
    CHECK(ct_job_update(s, k, json("{\"completeAfterDateTime\":\"" NOW
                                   "\"}"), &e) != 0);
    CHECK_ERR(&e, 409, "completeAfterDateTime can't be changed because the "
              "current status is pendingCancel; completeAfterDateTime can be "
              "changed while the job is " RUNSTATES ": the job is being "
              "cancelled; create a new job for its users.");
    advance(s, 120);
    CHECK(k->status == CT_JS_CANCELLED);
    CHECK(k->tasks[1].st[0] == CT_SS_COMPLETED);
    CHECK(k->tasks[1].st[1] == CT_SS_CANCELLED);
    /* deleted, then gone */
    CHECK(ct_job_delete(s, k, &e) == 0);
    CHECK(k->status == CT_JS_PENDINGDELETE);
    advance(s, 3600);
    CHECK(k->status == CT_JS_DELETED);
    advance(s, 3600);
    CHECK(ct_job_find(s, &c, "gamma", 5, &e) == NULL);
    CHECK(ct_store_next_due(s) == -1);
  }
done:
  ct_store_free(s);
}

/* many jobs in one tenant: names share buckets, removed in any order */
static void test_many_jobs(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *jobs[40];
  int i, bad = 0;
  char name[16], prefix[9];
  for (i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "job %d", i);
    snprintf(prefix, sizeof prefix, "%08x", 0xa0000000u + (unsigned)i);
    jobs[i] = make_job(t, s, &c, name, prefix, 1, "[\"Teams\"]", NULL);
    if (jobs[i] == NULL) goto done;
    if (ct_job_cancel(s, jobs[i], &e) != 0) bad++;
  }
  advance(s, 120);
  /* delete in a scattered order, a second apart */
  for (i = 0; i < 40; i++) {
    if (ct_job_delete(s, jobs[(i * 17) % 40], &e) != 0) bad++;
    advance(s, 1);
  }
  CHECK(bad == 0);
  advance(s, 2 * 3600);
  CHECK(ct_store_next_due(s) == -1);
  for (i = 0; i < 40; i++) {
    snprintf(name, sizeof name, "job %d", i);
    if (ct_job_find(s, &c, name, strlen(name), &e) != NULL) bad++;
  }
  CHECK(bad == 0);
  CHECK(s->ntasks_total == 0);
done:
  ct_store_free(s);
}

/* ==================== tasks ==================== */

static void test_tasks(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *j, *k;
  ct_task *x;
  char jid[37], buf[600];
  j = make_job(t, s, &c, "tasks", "dddddddd", 1, NULL, NULL);
  if (j == NULL) goto done;
  ct_guid_format(&j->id, jid);

  /* entries set the services they name, in any order; the task holds
     every service of the job, in the docs' order */
  x = ct_task_create(s, j, json("{\"taskType\":\"User\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":["
        "{\"service\":\"exchange\",\"status\":\"failed\","
        "\"message\":\"m\\u0000n\"},{\"service\":\"Teams\","
        "\"message\":\"\",\"errors\":[{},{\"code\":\"E\"}]}]}"), &e);
  CHECK(x != NULL);
  if (x != NULL) {
    size_t n;
    const char *m;
    CHECK(x->n == 4);
    CHECK(x->svc[0] == CT_SVC_ODSP && x->svc[1] == CT_SVC_MEETING &&
          x->svc[2] == CT_SVC_TEAMS && x->svc[3] == CT_SVC_EXCHANGE);
    CHECK(x->st[0] == CT_SS_NOTSTARTED && x->st[1] == CT_SS_NOTSTARTED &&
          x->st[2] == CT_SS_NOTSTARTED && x->st[3] == CT_SS_FAILED);
    m = ct_task_type(x, &n);
    CHECK(n == 4 && memcmp(m, "User", 4) == 0);
    CHECK(x->extra && x->extra->nerrors[2] == 2);
    CHECK(x->extra && x->extra->errors[2][0].code.n == 0 &&
          x->extra->errors[2][1].code.n == 1 &&
          x->extra->errors[2][1].message.n == 0);
    m = ct_task_message(x, 3, &n);      /* whole, NUL included */
    CHECK(n == 3 && memcmp(m, "m\0n", 3) == 0);
    m = ct_task_message(x, 0, &n);
    CHECK(n == 0 && strcmp(m, "") == 0);
  }
  /* an entry without a service, outside the job's, or repeated: 400 */
  CHECK(ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":[{\"service\":"
        "\"ODSP\"},{}]}"), &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'currentStatus[1]' names no service; each "
            "entry names one of the job's services: ODSP, Meeting, Teams, "
            "Exchange.");
  CHECK(ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":[{\"service\":"
        "\"ODSP\"},{\"service\":\"Meeting\"},{\"service\":\"Teams\"},"
        "{\"service\":\"Exchange\"},{\"service\":\"odsp\"}]}"), &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'currentStatus[4].service' repeats 'ODSP'; "
            "each of the job's services (ODSP, Meeting, Teams, Exchange) "
            "may be named once.");
  CHECK(ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":["
        "{\"service\":\"teams\"},{\"service\":\"Teams\"}]}"), &e) == NULL);
  CHECK_ERR(&e, 400, "Property 'currentStatus[1].service' repeats 'Teams'; "
            "each of the job's services (ODSP, Meeting, Teams, Exchange) "
            "may be named once.");
  /* a user already in the job, and one held by another job */
  CHECK(ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"id\":"
        "\"DDDDDDDD-0000-4000-8000-000000000001\"}"), &e) == NULL);
  snprintf(buf, sizeof buf, "User 'dddddddd-0000-4000-8000-000000000001' is "
           "already in job '%s'.", jid);
  CHECK_ERR(&e, 409, buf);
  k = make_job(t, s, &c, "other", "eeeeeeee", 1, "[\"ODSP\"]", NULL);
  if (k == NULL) goto done;
  CHECK(ct_task_create(s, k, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"id\":"
        "\"dddddddd-0000-4000-8000-000000000001\"}"), &e) == NULL);
  CHECK(e.status == 409);

  /* task cancel: then it can't come back, and the user is free */
  x = ct_task_find(j, "dddddddd-0000-4000-8000-000000000001", 36, &e);
  CHECK(x != NULL);
  if (x == NULL) goto done;
  CHECK(ct_task_cancel(s, j, x, &e) == 0);
  CHECK(ct_task_cancel(s, j, x, &e) != 0);
  CHECK_ERR(&e, 409, "Cancel is not possible. Current status is cancelled: "
            "user 'dddddddd-0000-4000-8000-000000000001' was already "
            "cancelled out of the job.");
  CHECK(ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"id\":"
        "\"dddddddd-0000-4000-8000-000000000001\"}"), &e) == NULL);
  snprintf(buf, sizeof buf, "User 'dddddddd-0000-4000-8000-000000000001' was "
           "cancelled out of job '%s' and can't be added to it again.", jid);
  CHECK_ERR(&e, 409, buf);
  CHECK(ct_task_create(s, k, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"id\":"
        "\"dddddddd-0000-4000-8000-000000000001\"}"), &e) != NULL);
  /* a task whose entries all completed can't be cancelled */
  x = ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":["
        "{\"service\":\"ODSP\",\"status\":\"completed\"},{\"service\":"
        "\"Meeting\",\"status\":\"completed\"},{\"service\":\"Teams\","
        "\"status\":\"completed\"},{\"service\":\"Exchange\",\"status\":"
        "\"completed\"}]}"), &e);
  CHECK(x != NULL);
  if (x != NULL) {
    CHECK(ct_task_cancel(s, j, x, &e) != 0);
    char xid[37];
    ct_guid_format(&x->id, xid);
    snprintf(buf, sizeof buf, "Cancel is not possible. Current status is "
             "completed: every service of user '%s' has migrated.", xid);
    CHECK_ERR(&e, 409, buf);
  }
  /* an empty currentStatus: every service, notStarted; cancellable */
  x = ct_task_create(s, j, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\",\"currentStatus\":[]}"), &e);
  CHECK(x != NULL && x->n == 4 && x->st[0] == CT_SS_NOTSTARTED &&
        x->st[3] == CT_SS_NOTSTARTED);
  if (x != NULL) CHECK(ct_task_cancel(s, j, x, &e) == 0);
  CHECK(ct_task_find(j, "nope", 4, &e) == NULL);
  snprintf(buf, sizeof buf, "crossTenantMigrationTask 'nope' was not found "
           "in job '%s'.", jid);
  CHECK_ERR(&e, 404, buf);

  /* a task in a running job: refused with the job's status */
  CHECK(ct_job_validate(s, k, &e) == 0);
  CHECK(ct_task_create(s, k, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\"}"), &e) == NULL);
  CHECK_ERR(&e, 409, "Users can't be added to the job because the current "
            "status is validateSubmitted; users can be added while the job is "
            "submitted, validatePassed or validateFailed: wait until "
            "validation finishes (validatePassed or validateFailed).");
  /* adding to a validatePassed job sends it back to submitted */
  advance(s, 3600);
  CHECK(k->status == CT_JS_VALIDATEPASSED);
  CHECK(ct_task_create(s, k, json("{\"taskType\":\"user\","
        "\"lastUpdatedDateTime\":\"" NOW "\"}"), &e) != NULL);
  CHECK(k->status == CT_JS_SUBMITTED);
done:
  ct_store_free(s);
}

/* task cancel is refused in each status past the point of no return */
static void test_task_cancel_states(tally *t)
{
  static const int states[] = { CT_JS_PENDINGCANCEL, CT_JS_PENDINGDELETE,
                                CT_JS_DELETED, CT_JS_CUTTINGOVER,
                                CT_JS_COMPLETED, CT_JS_FAILED };
  static const char *const names[] = {
    "pendingCancel: the job is being cancelled; create a new job for its "
    "users",
    "pendingDelete: the job is being deleted",
    "deleted: the job is being deleted",
    "cuttingOver: the migration is cutting over; wait until it finishes",
    "completed: every user has migrated; the job is finished",
    "failed: the job is finished; migrate it again to retry the users that "
    "failed" };
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *j = make_job(t, s, &c, "states", "ffffffff", 1, "[\"ODSP\"]",
                       "2026-01-01T00:00:00Z");
  size_t i;
  char want[512], st[40];
  if (j == NULL) goto done;
  for (i = 0; i < sizeof states / sizeof states[0]; i++) {
    j->status = (uint8_t)states[i];
    CHECK(ct_task_cancel(s, j, &j->tasks[0], &e) != 0);
    /* names[i] is "<status>: <next step>" */
    snprintf(st, sizeof st, "%.*s", (int)strcspn(names[i], ":"), names[i]);
    snprintf(want, sizeof want, "Cancel is not possible for user "
             "'ffffffff-0000-4000-8000-000000000001' because the job's "
             "current status is %s; users can be cancelled while the job is "
             RUNSTATES "%s.", st, names[i] + strlen(st));
    CHECK_ERR(&e, 409, want);
  }
  /* past completeAfterDateTime */
  j->status = CT_JS_INPROGRESS;
  s->now += 400 * 86400 * SEC;
  CHECK(ct_task_cancel(s, j, &j->tasks[0], &e) != 0);
  CHECK_ERR(&e, 409, "Cancel is not possible for user "
            "'ffffffff-0000-4000-8000-000000000001' because the job's "
            "completeAfterDateTime (2026-01-01T00:00:00Z) has passed; users "
            "can be cancelled only before it: set a later "
            "completeAfterDateTime (PATCH) first.");
  CHECK(ct_job_cancel(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "Cancellation is not possible because "
            "completeAfterDateTime (2026-01-01T00:00:00Z) has passed; a job "
            "can be cancelled only before it: set a later "
            "completeAfterDateTime (PATCH) first.");
  j->status = CT_JS_SUBMITTED;
done:
  ct_store_free(s);
}

/* ==================== lifecycle ==================== */

static void test_lifecycle(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  seen_events ev = { 0, 0, 0 };
  ct_guid u1, u2;
  ct_job *j;
  int64_t due;
  s->on_job = on_job;
  s->on_task = on_task;
  s->event_ud = &ev;
  j = make_job(t, s, &c, "life", "abababab", 2,
               "[\"Exchange\",\"Teams\",\"ODSP\"]", "2025-11-20T00:00:00Z");
  if (j == NULL) goto done;
  ct_guid_parse("abababab-0000-4000-8000-000000000001", 36, &u1);
  ct_guid_parse("abababab-0000-4000-8000-000000000002", 36, &u2);
  /* scripted faults: two for one user (kept in order), one that never
     matches a phase, then validation fails for u1 */
  CHECK(ct_store_fail(s, &u1, CT_SVC_EXCHANGE, CT_PHASE_VALIDATE,
                      CT_SS_INVALID, "MailboxNotFound", 15, "no mailbox", 10,
                      &e) == 0);
  CHECK(ct_store_fail(s, &u1, CT_SVC_EXCHANGE, CT_PHASE_MIGRATE,
                      CT_SS_FAILED, "SyncFailed", 10, "sync", 4, &e) == 0);
  CHECK(ct_store_fail(s, &u1, CT_SVC_ODSP, CT_PHASE_MIGRATE, CT_SS_ERROR,
                      "E", 1, "odsp", 4, &e) == 0);
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEFAILED);
  CHECK(strcmp(j->message, "Validation failed for 1 of 2 users.") == 0);
  CHECK(j->tasks[0].extra != NULL && j->tasks[0].extra->nerrors[3] == 1);
  /* the job's status set again to itself: no event, message kept */
  ev.same = 0;
  ct_life_job_status(s, j, CT_JS_VALIDATEFAILED, NULL);
  CHECK(ev.same == 0);
  CHECK(strcmp(j->message, "Validation failed for 1 of 2 users.") == 0);
  /* validate again: the errors are cleared; passes this time */
  CHECK(ct_job_validate(s, j, &e) == 0);
  CHECK(j->tasks[0].extra->nerrors[3] == 0);
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEPASSED);
  CHECK(ct_job_migrate(s, j, &e) == 0);
  advance(s, 300);
  CHECK(j->status == CT_JS_INPROGRESS);
  /* a PATCH while syncing, then sync ends before completeAfter: waiting */
  CHECK(ct_job_update(s, j, json("{\"completeAfterDateTime\":"
                                 "\"2025-11-25T00:00:00Z\"}"), &e) == 0);
  advance(s, 4 * 3600);
  CHECK(j->status == CT_JS_INPROGRESS && j->waiting);
  due = ct_store_next_due(s);
  /* moving completeAfter while waiting reschedules the job at once */
  CHECK(ct_job_update(s, j, json("{\"completeAfterDateTime\":"
                                 "\"2025-11-01T00:00:00Z\"}"), &e) == 0);
  CHECK(ct_store_next_due(s) < due);
  advance(s, 1);
  CHECK(j->status == CT_JS_CUTTINGOVER);
  CHECK(ct_job_update(s, j, json("{\"completeAfterDateTime\":\"" NOW "\"}"),
                      &e) != 0);
  advance(s, 3600);
  CHECK(j->status == CT_JS_COMPLETEDWITHERRORS);
  CHECK(strcmp(j->message, "1 of 2 users failed to migrate.") == 0);
  /* a retry runs only the user that did not complete */
  CHECK(ct_job_migrate(s, j, &e) == 0);
  CHECK(j->tasks[0].retry == 1 && j->tasks[1].retry == 0);
  advance(s, 300 + 4 * 3600 + 3600 + 10);
  CHECK(j->status == CT_JS_COMPLETED);
  CHECK(ev.jobs > 10 && ev.tasks > 20 && ev.same == 0);

  /* a step on a job that has nothing to do does nothing */
  ct_life_schedule(s, j, s->now + 10);
  advance(s, 20);
  CHECK(j->status == CT_JS_COMPLETED);
  CHECK(ct_store_next_due(s) == -1);
done:
  ct_store_free(s);
}

/* the seeded failure rate: every outcome fails, with the rate's message */
static void test_failure_rate(tally *t)
{
  ct_store *s = new_store(1, 1.0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *j = make_job(t, s, &c, "doomed", "acacacac", 1, "[\"ODSP\"]",
                       NULL);
  if (j == NULL) goto done;
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEFAILED);
  CHECK(j->tasks[0].st[0] == CT_SS_INVALID);
  CHECK(j->tasks[0].extra && strcmp(j->tasks[0].extra->errors[0][0].message.p,
        "ODSP validation failed for user acacacac-0000-4000-8000-"
        "000000000001.") == 0);
  /* a job whose every user failed: failed; cancel then refused */
  s->failure_rate[CT_PHASE_VALIDATE] = 0;
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  CHECK(ct_job_migrate(s, j, &e) == 0);
  advance(s, 40 * 86400);             /* past completeAfterDateTime */
  CHECK(j->status == CT_JS_FAILED);
  CHECK(strcmp(j->message, "The only user failed to migrate.") == 0);
  CHECK(ct_job_cancel(s, j, &e) != 0);
  CHECK_ERR(&e, 409, "Cancellation is not possible because the current "
            "status is failed; a job can be cancelled while it is " RUNSTATES
            ": the job is finished; migrate it again to retry the users that "
            "failed.");
done:
  ct_store_free(s);
}

/* sticky draws: a function of (seed, user, service, phase) alone */
static void test_sticky_draws(tally *t)
{
  ct_store *s = new_store(1, 0.5), *s2 = new_store(1, 0.5);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_guid u, v;
  double d;
  int i, same = 1;
  uint8_t first[8];
  ct_job *j;
  ct_guid_parse("abcdabcd-0000-4000-8000-000000000001", 36, &u);
  ct_guid_parse("abcdabcd-0000-4000-8000-000000000002", 36, &v);
  d = ct_store_sticky_draw(s, &u, CT_SVC_ODSP, CT_PHASE_VALIDATE);
  CHECK(d >= 0 && d < 1);
  CHECK(d == ct_store_sticky_draw(s2, &u, CT_SVC_ODSP, CT_PHASE_VALIDATE));
  CHECK(d != ct_store_sticky_draw(s, &v, CT_SVC_ODSP, CT_PHASE_VALIDATE));
  CHECK(d != ct_store_sticky_draw(s, &u, CT_SVC_TEAMS, CT_PHASE_VALIDATE));
  CHECK(d != ct_store_sticky_draw(s, &u, CT_SVC_ODSP, CT_PHASE_MIGRATE));
  s2->rng_seed ^= 1;            /* another seed, another draw */
  CHECK(d != ct_store_sticky_draw(s2, &u, CT_SVC_ODSP, CT_PHASE_VALIDATE));
  /* in the lifecycle: the same outcomes on a second validation */
  s->sticky = 1;
  j = make_job(t, s, &c, "sticky", "abcdabcd", 2, NULL, NULL);
  if (j == NULL) goto done;
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  for (i = 0; i < 8; i++) first[i] = j->tasks[i / 4].st[i % 4];
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  for (i = 0; i < 8; i++) same &= first[i] == j->tasks[i / 4].st[i % 4];
  CHECK(same);
  CHECK(j->status == CT_JS_VALIDATEFAILED);
done:
  ct_store_free(s);
  ct_store_free(s2);
}

/* a cancelled task is skipped by every later step */
static void test_cancelled_task_in_lifecycle(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *j = make_job(t, s, &c, "skip", "adadadad", 2, "[\"Teams\"]",
                       "2026-01-01T00:00:00Z");
  if (j == NULL) goto done;
  CHECK(ct_task_cancel(s, j, &j->tasks[1], &e) == 0);
  CHECK(ct_job_validate(s, j, &e) == 0);
  advance(s, 3600);
  CHECK(j->status == CT_JS_VALIDATEPASSED);
  CHECK(j->tasks[1].st[0] == CT_SS_CANCELLED);
  CHECK(ct_job_cancel(s, j, &e) == 0);
  advance(s, 120);
  CHECK(j->status == CT_JS_CANCELLED);
  CHECK(j->tasks[0].st[0] == CT_SS_CANCELLED);
done:
  ct_store_free(s);
}

/* ==================== queries ==================== */

typedef struct qcase {
  int target;
  const char *filter, *orderby;
  const char *error;          /* NULL: accepted */
} qcase;

static void test_query_texts(tally *t)
{
  static const qcase cases[] = {
    { CT_Q_JOBS, "status eq 'submitted'", NULL, NULL },
    { CT_Q_JOBS, "status eq microsoft.graph.crossTenantMigrationJobStatus"
      "'failed'", NULL, NULL },
    { CT_Q_JOBS, "jobType eq 'migrate' or jobType eq 'validate' or jobType "
      "eq 'unknownFutureValue'", NULL, NULL },
    { CT_Q_JOBS, "jobType eq 'nope'", NULL,
      "Invalid $filter: 'nope' is not a crossTenantMigrationJobType value "
      "at position 8." },
    { CT_Q_JOBS, "status eq 7", NULL,
      "Invalid $filter: 'status' is an enum and can't be compared with a "
      "number at position 7." },
    { CT_Q_JOBS, "not (displayName ne 'a') and true", "displayName desc,"
      " status asc", NULL },
    { CT_Q_JOBS, "createdDateTime gt 2025-11-06T09:00:00.5+01:00 and "
      "lastUpdatedDateTime le 2025-11-07T00:00:00Z", "createdDateTime",
      NULL },
    { CT_Q_JOBS, "id eq 'a5981dc6-8ca0-4098-84fd-3d5b1282a191'", NULL, NULL },
    { CT_Q_JOBS, "id gt a5981dc6-8ca0-4098-84fd-3d5b1282a191", NULL, "" },
    { CT_Q_JOBS, "sourceTenantId in (12345678-1234-1234-1234-123456789012, "
      "'87654321-4321-4321-4321-210987654321')", NULL, NULL },
    { CT_Q_JOBS, "message eq null or message ne null", NULL, NULL },
    { CT_Q_JOBS, "displayName eq 'it''s'", NULL, NULL },
    { CT_Q_JOBS, "displayName eq 'open", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName, 'al')", NULL, NULL },
    { CT_Q_JOBS, "startswith(status, 'al')", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName 'al')", NULL, "" },
    { CT_Q_JOBS, "displayName eq 1.5e3", NULL, "" },
    { CT_Q_JOBS, "createdDateTime eq 2025-13-01T00:00:00Z", NULL, "" },
    { CT_Q_JOBS, "createdDateTime eq 'text'", NULL, "" },
    { CT_Q_JOBS, "1 eq 1", NULL, NULL },
    { CT_Q_JOBS, "1 lt 2.5 and -3 ge -4 and 1.5 le 2", NULL, NULL },
    { CT_Q_JOBS, "true eq false", NULL, NULL },
    { CT_Q_JOBS, "null eq null", NULL, NULL },
    { CT_Q_JOBS, "color eq 'red'", NULL, "" },
    { CT_Q_JOBS, "", NULL, "Invalid $filter: the expression is empty at "
      "position 0." },
    { CT_Q_JOBS, "   ", NULL, "" },
    { CT_Q_JOBS, "(status eq 'failed'", NULL, "" },
    { CT_Q_JOBS, "status eq 'failed')", NULL, "" },
    { CT_Q_JOBS, "status eq", NULL, "" },
    { CT_Q_JOBS, "status", NULL, "" },
    { CT_Q_JOBS, "status xx 'a'", NULL, "" },
    { CT_Q_JOBS, "status in ()", NULL, "" },
    { CT_Q_JOBS, "status in ('a'", NULL, "" },
    { CT_Q_JOBS, "status in 'a'", NULL, "" },
    { CT_Q_JOBS, "not", NULL, "" },
    { CT_Q_JOBS, "a and", NULL, "" },
    { CT_Q_JOBS, "currentStatus/any()", NULL, "" },
    { CT_Q_JOBS, "((((((((((((((((((((((((((((((((((true))))))))))))))))"
      "))))))))))))))))))", NULL, "" },
    { CT_Q_JOBS, "@", NULL, "" },
    { CT_Q_JOBS, NULL, "status desc, displayName", NULL },
    { CT_Q_JOBS, NULL, "", "" },
    { CT_Q_JOBS, NULL, "color", "" },
    { CT_Q_JOBS, NULL, "status sideways", "" },
    { CT_Q_JOBS, NULL, "status,", "" },
    { CT_Q_JOBS, NULL, "a,b,c,d,e,f,g,h,i", "" },
    { CT_Q_JOBS, NULL, "id,displayName,jobType,sourceTenantId,"
      "targetTenantId,completeAfterDateTime,status,message,createdBy", "" },
    { CT_Q_TASKS, "currentStatus/any(s: s/service eq 'Exchange' and "
      "s/status in ('failed', 'invalid'))", "lastUpdatedDateTime desc",
      NULL },
    { CT_Q_TASKS, "currentStatus/all(e: e/message eq '' or e/status eq "
      "microsoft.graph.crossTenantMigrationServiceStatus'completed')", "id",
      NULL },
    { CT_Q_TASKS, "currentStatus/any()", "taskType", NULL },
    { CT_Q_TASKS, "currentStatus/any(s: x/status eq 'failed')", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s s/status eq 'failed')", NULL, "" },
    { CT_Q_TASKS, "currentStatus/some(s: true)", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: currentStatus/any(t: true))", NULL,
      "" },
    { CT_Q_TASKS, "s/status eq 'failed'", NULL, "" },
    { CT_Q_TASKS, "status eq 'failed'", NULL, "" },
    { CT_Q_TASKS, "taskType eq 'user' and lastUpdatedDateTime lt "
      "2030-01-01T00:00:00Z", NULL, NULL },
    { CT_Q_TASKS, NULL, "lastUpdatedDateTime,taskType desc,id", NULL },
    { CT_Q_TASKS, NULL, "currentStatus", "" },
    /* enum members of every length, literals of every shape */
    { CT_Q_JOBS, "jobType eq 'migrat' or jobType ne 'validatx'", NULL, "" },
    { CT_Q_JOBS, "jobType eq 'unknownFutureValuX'", NULL, "" },
    { CT_Q_JOBS, "displayName eq \x01\x7f", NULL, "" },
    { CT_Q_JOBS, "\tstatus\teq\t'failed'\t", NULL, NULL },
    { CT_Q_JOBS, "9status eq 'failed'", NULL, "" },
    { CT_Q_JOBS, "id eq a5981dc6-8ca0-4098-84fd-3d5b1282a191x", NULL, "" },
    { CT_Q_JOBS, "id eq 'not-a-guid'", NULL, "" },
    { CT_Q_JOBS, "a5981dc6-8ca0-4098-84fd-3d5b1282a191 lt id", NULL, "" },
    { CT_Q_JOBS, "a5981dc6-8ca0-4098-84fd-3d5b1282a191 eq id", NULL, NULL },
    { CT_Q_JOBS, "status eq microsoft.graph.nope'failed'", NULL, "" },
    { CT_Q_JOBS, "status eq microsoft.graph.crossTenantMigrationJobStatus"
      "'nope'", NULL, "" },
    { CT_Q_JOBS, "status eq microsoft.graph.crossTenantMigrationJobType"
      "'migrate'", NULL, "" },
    { CT_Q_JOBS, "status eq microsoft.graph.crossTenantMigrationJobStatus"
      "'failed", NULL, "" },
    { CT_Q_JOBS, "'a' eq 'b'", NULL, NULL },
    { CT_Q_JOBS, "'a' eq 1", NULL, "" },
    { CT_Q_JOBS, "1 eq 'a'", NULL, "" },
    { CT_Q_JOBS, "displayName eq createdBy", NULL, NULL },
    { CT_Q_JOBS, "createdDateTime lt lastUpdatedDateTime", NULL, NULL },
    { CT_Q_JOBS, "displayName eq status", NULL, "" },
    { CT_Q_JOBS, "false", NULL, NULL },
    { CT_Q_JOBS, "displayName", NULL, "" },
    { CT_Q_JOBS, "displayName eq", NULL, "" },
    { CT_Q_JOBS, "displayName #", NULL, "" },
    { CT_Q_JOBS, "startswith", NULL, "" },
    { CT_Q_JOBS, "startswith(", NULL, "" },
    { CT_Q_JOBS, "startswith('a','b')", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName, displayName)", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName, 5)", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName,'a'", NULL, "" },
    { CT_Q_JOBS, "startswith(displayName,", NULL, "" },
    { CT_Q_JOBS, "endswith(displayName,'a')", NULL, "" },
    { CT_Q_JOBS, "status in ('submitted' 'failed')", NULL, "" },
    { CT_Q_JOBS, "status in (status)", NULL, "" },
    { CT_Q_JOBS, "status in ('submitted','failed','cancelled','completed',"
      "'inProgress','processing','validatePassed','validateFailed',"
      "'deleted','pendingDelete')", NULL, NULL },
    { CT_Q_JOBS, "not not not not not not not not not not not not not not "
      "not not not not not not not not not not not not not not not not not "
      "not not not true", NULL, "" },
    { CT_Q_JOBS, "true or", NULL, "" },
    { CT_Q_JOBS, NULL, "displayName asc desc", "" },
    { CT_Q_JOBS, NULL, "displayName;", "" },
    { CT_Q_JOBS, NULL, " displayName , status desc ", NULL },
    { CT_Q_TASKS, "currentStatus", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any", NULL, "" },
    { CT_Q_TASKS, "currentStatus/all()", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(: true)", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: true", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: s)", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: s/nope eq 'a')", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: s/status eq s/service)", NULL, "" },
    { CT_Q_TASKS, "currentStatus/any(s: s/message eq null and "
      "startswith(s/service, 'Ex'))", NULL, NULL },
  };
  size_t i;
  char f[9000];
  ct_err e;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const qcase *c = &cases[i];
    ct_query *q = ct_query_new(c->target, c->filter,
                               c->filter ? strlen(c->filter) : 0,
                               c->orderby, c->orderby ? strlen(c->orderby)
                                                      : 0, &e);
    int ok = c->error == NULL ? q != NULL
           : q == NULL && e.status == 400 &&
             strcmp(e.inner, "invalidQueryOption") == 0 &&
             (c->error[0] == '\0' || strcmp(e.message, c->error) == 0);
    check(t, ok, __LINE__, "query text accepted or refused as expected");
    if (!ok)
      printf("  case %zu: %s | %s\n  got: %s\n", i,
             c->filter ? c->filter : "-", c->orderby ? c->orderby : "-",
             q ? "accepted" : e.message);
    ct_query_free(q);
  }
  /* past 8192 bytes */
  memset(f, 'a', sizeof f);
  CHECK(ct_query_new(CT_Q_JOBS, f, sizeof f, NULL, 0, &e) == NULL);
  CHECK(ct_query_new(CT_Q_JOBS, NULL, 0, f, sizeof f, &e) == NULL);
  ct_query_free(NULL);
}

/* one page of jobs, as pointers (the core gives indexes in tn->jobs) */
static long qjobs(const ct_query *q, const ct_tenant *tn, const char *token,
                  size_t skip, size_t top, ct_job **out, ct_buf *next,
                  size_t *count, ct_err *e)
{
  size_t idx[16];
  long k, i;
  if (top > 15) top = 15;
  k = ct_query_jobs(q, tn->jobs, tn->njobs, token, skip, top, idx, next,
                    count, e);
  for (i = 0; i < k; i++) out[i] = tn->jobs[idx[i]];
  return k;
}

/* queries evaluated on a store: pages, cursors, $skip, tokens */
static void test_query_pages(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *jobs[6], *out[8], *tj;
  ct_tenant *tn;
  uintptr_t v;
  ct_buf next;
  ct_query *q;
  size_t count, outi[8];
  long k;
  int i;
  char name[8], prefix[9];
  for (i = 0; i < 6; i++) {
    snprintf(name, sizeof name, "q%c", 'a' + (5 - i));
    snprintf(prefix, sizeof prefix, "%08x", 0xb0000000u + (unsigned)i);
    jobs[i] = make_job(t, s, &c, name, prefix, 1, "[\"ODSP\"]", NULL);
    if (jobs[i] == NULL) goto done;
    advance(s, 1);
  }
  if (!ct_gmap_get(&s->tenants, &c.tenant, &v)) goto done;
  tn = (ct_tenant *)v;
  ct_buf_init(&next);
  /* by displayName ascending: qa (newest) .. qf */
  q = ct_query_new(CT_Q_JOBS, "startswith(displayName,'q')", 27,
                   "displayName", 11, &e);
  CHECK(q != NULL);
  if (q != NULL) {
    k = qjobs(q, tn, NULL, 1, 2, out, &next,
                      &count, &e);
    CHECK(k == 2 && count == 6 && out[0] == jobs[4] && out[1] == jobs[3]);
    CHECK(next.len > 0);
    if (next.len > 0) {
      char *tok = malloc(next.len + 1);
      memcpy(tok, next.p, next.len + 1);
      next.len = 0;
      k = qjobs(q, tn, tok, 0, 8, out, &next,
                        NULL, &e);
      CHECK(k == 3 && out[0] == jobs[2] && out[2] == jobs[0]);
      /* the same token on another query: refused */
      {
        ct_query *q2 = ct_query_new(CT_Q_JOBS, NULL, 0, "displayName desc",
                                    16, &e);
        CHECK(qjobs(q2, tn, tok, 0, 8, out, &next,
                            NULL, &e) < 0);
        CHECK(e.status == 400);
        ct_query_free(q2);
      }
      free(tok);
    }
    /* tokens of a wrong shape */
    CHECK(qjobs(q, tn, "J1~", 0, 2, out, &next,
                        NULL, &e) < 0);
    CHECK(qjobs(q, tn, "garbage\x01", 0, 2, out,
                        &next, NULL, &e) < 0);
    CHECK_ERR(&e, 400, "The $skiptoken value 'garbage?' is not valid for "
              "this collection and query.");
    /* tokens of this query, cut or changed */
    {
      ct_buf tb;
      size_t n;
      char bad[200];
      ct_buf_init(&tb);
      CHECK(qjobs(q, tn, NULL, 0, 1, out, &tb,
                          NULL, &e) == 1);
      n = tb.len;
      if (n > 4 && n < sizeof bad - 4) {
        static const char *const tails[] = { "~", "0", "g1", "x" };
        size_t z;
        memcpy(bad, tb.p, n + 1);
        bad[n - 1] = '\0';                      /* odd hex digits */
        CHECK(qjobs(q, tn, bad, 0, 1, out, &next,
                            NULL, &e) < 0);
        memcpy(bad, tb.p, n + 1);
        bad[n - 1] = 'g';                        /* not hex */
        CHECK(qjobs(q, tn, bad, 0, 1, out, &next,
                            NULL, &e) < 0);
        for (z = 0; z < sizeof tails / sizeof tails[0]; z++) {
          snprintf(bad, sizeof bad, "%s%s", tb.p, tails[z]);
          CHECK(qjobs(q, tn, bad, 0, 1, out, &next,
                              NULL, &e) < 0);
        }
        /* the key's kind changed: 's' to 'i' */
        memcpy(bad, tb.p, n + 1);
        {
          char *tilde = strrchr(bad, '~');
          if (tilde) tilde[1] = 'i';
        }
        CHECK(qjobs(q, tn, bad, 0, 1, out, &next,
                            NULL, &e) < 0);
        /* the position not a number */
        memcpy(bad, tb.p, n + 1);
        {
          char *p2 = strchr(bad, '~');
          if (p2) p2 = strchr(p2 + 1, '~');
          if (p2) p2[1] = 'z';
        }
        CHECK(qjobs(q, tn, bad, 0, 1, out, &next,
                            NULL, &e) < 0);
      }
      ct_buf_free(&tb);
    }
    /* a huge $skip: nothing, and no huge allocation */
    k = qjobs(q, tn, NULL, (size_t)-1 / 2, 5, out,
                      &next, NULL, &e);
    CHECK(k == 0);
    ct_query_free(q);
  }
  /* an integer key (status) and a GUID key (id) in tokens */
  {
    static const char *const orders[] = { "status desc", "id",
                                          "createdDateTime" };
    size_t z;
    for (z = 0; z < 3; z++) {
      ct_buf tb;
      ct_query *qo = ct_query_new(CT_Q_JOBS, NULL, 0, orders[z],
                                  strlen(orders[z]), &e);
      CHECK(qo != NULL);
      if (qo == NULL) continue;
      ct_buf_init(&tb);
      k = qjobs(qo, tn, NULL, 0, 2, out, &tb, NULL,
                        &e);
      CHECK(k == 2 && tb.len > 0);
      if (tb.len > 0) {
        char *tok = malloc(tb.len + 8);
        memcpy(tok, tb.p, tb.len + 1);
        next.len = 0;
        CHECK(qjobs(qo, tn, tok, 0, 8, out, &next,
                            NULL, &e) == 4);
        strcat(tok, "~i1");                   /* one key too many */
        CHECK(qjobs(qo, tn, tok, 0, 8, out, &next,
                            NULL, &e) < 0);
        free(tok);
      }
      ct_buf_free(&tb);
      ct_query_free(qo);
    }
  }
  /* every job property read by a filter */
  {
    static const char *const filters[] = {
      "targetTenantId eq 87654321-4321-4321-4321-210987654321",
      "createdBy eq 'admin@fabrikam.onmicrosoft.com' and resourceType eq "
      "'Users'",
      "message eq '' and completeAfterDateTime gt 2025-12-01T00:00:00Z",
      "null ne message and jobType eq 'validate'",
      "startswith(displayName, 'qa-longer-than-the-name')",
    };
    static const size_t want[] = { 6, 6, 6, 6, 0 };
    size_t z;
    for (z = 0; z < 5; z++) {
      ct_query *qf = ct_query_new(CT_Q_JOBS, filters[z], strlen(filters[z]),
                                  NULL, 0, &e);
      CHECK(qf != NULL);
      if (qf == NULL) continue;
      CHECK(qjobs(qf, tn, NULL, 0, 8, out, &next,
                          &count, &e) >= 0 && count == want[z]);
      ct_query_free(qf);
    }
  }
  /* the default order, newest first, through tokens */
  q = ct_query_new(CT_Q_JOBS, NULL, 0, NULL, 0, &e);
  if (q != NULL) {
    next.len = 0;
    k = qjobs(q, tn, NULL, 0, 4, out, &next, NULL,
                      &e);
    CHECK(k == 4 && out[0] == jobs[5] && next.len > 0);
    if (next.len > 0) {
      char *tok = malloc(next.len + 1);
      memcpy(tok, next.p, next.len + 1);
      next.len = 0;
      k = qjobs(q, tn, tok, 0, 4, out, &next,
                        NULL, &e);
      CHECK(k == 2 && out[1] == jobs[0] && next.len == 0);
      free(tok);
    }
    CHECK(ct_query_match_job(q, jobs[0]));
    ct_query_free(q);
  }
  /* tasks: ordered by id descending, then the default order */
  tj = jobs[0];
  for (i = 0; i < 3; i++)
    CHECK(ct_task_create(s, tj, json("{\"taskType\":\"user\","
          "\"lastUpdatedDateTime\":\"" NOW "\"}"), &e) != NULL);
  q = ct_query_new(CT_Q_TASKS, "taskType eq 'user'", 18, "id desc", 7, &e);
  if (q != NULL) {
    next.len = 0;
    k = ct_query_tasks(q, tj, NULL, 0, 2, outi, &next, &count, &e);
    CHECK(k == 2 && count == 4 && next.len > 0);
    if (next.len > 0) {
      char *tok = malloc(next.len + 1);
      size_t more[8];
      memcpy(tok, next.p, next.len + 1);
      next.len = 0;
      k = ct_query_tasks(q, tj, tok, 0, 8, more, &next, NULL, &e);
      CHECK(k == 2 && next.len == 0);
      free(tok);
    }
    CHECK(ct_query_tasks(q, tj, "T1~00000000~0", 0, 2, outi, &next, NULL,
                         &e) < 0);
    next.len = 0;                     /* a count alone: top 0 */
    CHECK(ct_query_tasks(q, tj, NULL, 0, 0, outi, &next, &count, &e) == 0 &&
          count == 4);
    CHECK(ct_query_match_task(q, &tj->tasks[0]));
    ct_query_free(q);
  }
  q = ct_query_new(CT_Q_TASKS, NULL, 0, NULL, 0, &e);
  if (q != NULL) {
    next.len = 0;
    k = ct_query_tasks(q, tj, NULL, 1, 2, outi, &next, NULL, &e);
    CHECK(k == 2 && outi[0] == 1 && outi[1] == 2 && next.len > 0);
    if (next.len > 0) {
      char *tok = malloc(next.len + 1);
      memcpy(tok, next.p, next.len + 1);
      next.len = 0;
      k = ct_query_tasks(q, tj, tok, 0, 2, outi, &next, NULL, &e);
      CHECK(k == 1 && outi[0] == 3);
      free(tok);
    }
    ct_query_free(q);
  }
  ct_buf_free(&next);
done:
  ct_store_free(s);
}

/*
** A $filter cut short, e.g. right after "currentStatus/" or after a
** lambda variable's "s/": the parser must not read past the text.  Each
** text is copied to a block of exactly its length, so the ASan flavour
** (make ctest-asan) sees any read past its end.  Kept last: an
** over-read aborts the ASan run.
*/
static void test_query_cut_texts(tally *t)
{
  static const char *const texts[] = {
    "currentStatus/", "currentStatus/any(s:s/", "currentStatus",
    "currentStatus/any", "status eq",
    "startswith(displayName,", "status in (", "not", "'abc", "(",
    "displayName eq 'x' and",
  };
  size_t i;
  ct_err e;
  for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    size_t n = strlen(texts[i]);
    char *exact = malloc(n);
    ct_query *q;
    if (exact == NULL) exit(2);
    memcpy(exact, texts[i], n);
    q = ct_query_new(CT_Q_TASKS, exact, n, NULL, 0, &e);
    CHECK(q == NULL && e.status == 400);
    ct_query_free(q);
    free(exact);
  }
}

/* ==================== unapplied scripted outcomes ==================== */

static void test_pending_faults(tally *t)
{
  ct_store *s = new_store(1, 0);
  ct_guid u[3];
  ct_fault_info f[4];
  ct_err e;
  char id[37];
  int i;
  for (i = 0; i < 3; i++) {
    snprintf(id, sizeof id, "cccccccc-0000-4000-8000-%012d", i + 1);
    ct_guid_parse(id, 36, &u[i]);
  }
  CHECK(ct_store_faults(s, f, 4) == 0);
  /* users spread over the map's slots: the order is the script's */
  CHECK(ct_store_fail(s, &u[2], CT_SVC_ODSP, CT_PHASE_VALIDATE,
                      CT_SS_INVALID, "A", 1, "a", 1, &e) == 0);
  CHECK(ct_store_fail(s, &u[0], CT_SVC_TEAMS, CT_PHASE_MIGRATE,
                      CT_SS_FAILED, "B", 1, "b", 1, &e) == 0);
  CHECK(ct_store_fail(s, &u[2], CT_SVC_EXCHANGE, CT_PHASE_MIGRATE,
                      CT_SS_ERROR, "C", 1, "c", 1, &e) == 0);
  CHECK(ct_store_fail(s, &u[1], CT_SVC_MEETING, CT_PHASE_VALIDATE,
                      CT_SS_ERROR, "D", 1, "d", 1, &e) == 0);
  CHECK(ct_store_faults(s, NULL, 0) == 4);
  CHECK(ct_store_faults(s, f, 2) == 4);        /* too small: the count */
  CHECK(ct_store_faults(s, f, 4) == 4);
  CHECK(memcmp(&f[0].user, &u[2], sizeof u[0]) == 0 &&
        f[0].service == CT_SVC_ODSP && f[0].phase == CT_PHASE_VALIDATE &&
        f[0].status == CT_SS_INVALID);
  CHECK(f[0].code.n == 1 && f[0].code.p[0] == 'A' &&
        f[0].message.n == 1 && f[0].message.p[0] == 'a');
  CHECK(memcmp(&f[1].user, &u[0], sizeof u[0]) == 0 &&
        f[1].code.n == 1 && f[1].code.p[0] == 'B' &&
        f[1].phase == CT_PHASE_MIGRATE);
  CHECK(memcmp(&f[2].user, &u[2], sizeof u[0]) == 0 &&
        f[2].code.n == 1 && f[2].code.p[0] == 'C' &&
        f[2].status == CT_SS_ERROR);
  CHECK(memcmp(&f[3].user, &u[1], sizeof u[0]) == 0 &&
        f[3].code.n == 1 && f[3].code.p[0] == 'D' &&
        f[3].service == CT_SVC_MEETING);
  ct_store_free(s);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  ct_arena_init(&arena);
  test_enums(t);
  test_gmap(t);
  test_umap(t);
  test_tmap(t);
  test_schema(t);
  test_job_rules(t);
  test_many_jobs(t);
  test_tasks(t);
  test_task_cancel_states(t);
  test_lifecycle(t);
  test_failure_rate(t);
  test_sticky_draws(t);
  test_cancelled_task_in_lifecycle(t);
  test_query_texts(t);
  test_query_pages(t);
  test_query_cut_texts(t);
  test_pending_faults(t);
  ct_arena_free(&arena);
  ct_store_free(NULL);
  return tally_report(t);
}
