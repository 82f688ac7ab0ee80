/*
** test_alloc.c -- the core's out-of-memory paths, reached by making an
** allocation fail (ct_alloc_fail_at, compiled in with
** -DCT_ALLOC_TESTING for the C tests only; see ct_util.h).
**
** For each mutating call: run it on a fresh store with allocation N
** failing, for N = 1, 2, ... until the call makes fewer than N
** allocations.  Every failed run must be Graph's 500 generalException
** "Out of memory." and leave the store exactly as it was (a dump of
** every record, compared as text) -- except a request whose change was
** made before its answer ran out of memory (README, "Out of memory");
** a run that works must match a run with no failure at all.  Under
** `make ctest-asan` nothing may leak.  Two modes: allocation N and
** every later one fail (cleanup must not need memory), and allocation
** N alone fails (the code must not go on after one failure as if it had
** worked).  And the lifecycle, which cannot refuse: out of memory as it
** records a failure, the statuses move as with memory.
** Prints one line per failed check, then "N passed, N failed"; exits
** non-zero when anything failed.
*/
#include "check.h"
#include "ct_json.h"
#include "ct_request.h"
#include "ct_store.h"
#include "ct_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW "2025-11-06T09:00:00Z"
#define TARGET "87654321-4321-4321-4321-210987654321"
#define SOURCE "12345678-1234-1234-1234-123456789012"
#define OOM_MESSAGE "Out of memory."
/* no call here needs more allocations than this */
#define MAX_ALLOCS 200

static ct_arena arena;            /* every parsed body, freed at the end */

static const ct_jval *json(const char *text)
{
  return check_json(&arena, text);
}

static ct_options options(void)
{
  ct_options o;
  ct_time now;
  memset(&o, 0, sizeof o);
  o.seed = 7;
  o.has_seed = 1;
  ct_time_parse(NOW, strlen(NOW), &now, NULL);
  o.now = now.ticks;
  return o;
}

static ct_caller caller(void)
{
  ct_caller c;
  ct_guid_parse(TARGET, 36, &c.tenant);
  c.upn = "admin@fabrikam.onmicrosoft.com";
  c.nupn = strlen(c.upn);
  return c;
}

/* a job body named `name` with n users "<prefix><i>-0000-4000-8000-..." */
static const ct_jval *job_body(const char *name, int prefix, int n)
{
  char body[4096], res[2048];
  size_t k = 0;
  int i;
  res[0] = '\0';
  for (i = 0; i < n; i++)
    k += (size_t)snprintf(res + k, sizeof res - k,
                          "%s\"%04x%04x-0000-4000-8000-000000000001\"",
                          i ? "," : "", prefix, i);
  snprintf(body, sizeof body,
           "{\"displayName\":\"%s\",\"completeAfterDateTime\":"
           "\"2025-12-09T22:48:03.092Z\",\"sourceTenantId\":\"" SOURCE "\","
           "\"resourceType\":\"Users\",\"resources\":[%s],"
           "\"exchangeSettings\":{\"sourceEndpoint\":\"e\","
           "\"targetDeliveryDomain\":\"d\"}}", name, res);
  return json(body);
}

/* ==================== a dump of every record ==================== */

static void add_guid(ct_buf *b, const ct_guid *g)
{
  char id[37];
  ct_guid_format(g, id);
  ct_buf_add(b, id, 36);
}

static void add_num(ct_buf *b, const char *name, long long v)
{
  char n[64];
  snprintf(n, sizeof n, " %s=%lld", name, v);
  ct_buf_adds(b, n);
}

static void add_str(ct_buf *b, const char *name, const ct_str *s)
{
  ct_buf_addc(b, ' ');
  ct_buf_adds(b, name);
  ct_buf_addc(b, '=');
  if (s->p == NULL) ct_buf_adds(b, "(absent)");
  else ct_buf_json_string(b, s->p, s->n);
}

static void dump_task(ct_buf *b, const ct_job *j, size_t i)
{
  const ct_task *k = &j->tasks[i];
  ct_job *holder = NULL;
  size_t pos = (size_t)-1;
  int x;
  unsigned e;
  ct_buf_adds(b, "\n  task ");
  add_guid(b, &k->id);
  add_num(b, "updated", k->updated);
  add_num(b, "digits", k->digits);
  add_num(b, "cancelled", k->cancelled);
  add_num(b, "retry", k->retry);
  /* the indexes find it where it is */
  add_num(b, "indexed", ct_tmap_get(&j->index, j->tasks, &k->id, &pos) &&
                          pos == i);
  add_num(b, "held", ct_umap_get(&j->tenant->users, &k->id, &holder) &&
                       holder == j);
  for (x = 0; x < k->n; x++) {
    add_num(b, "svc", k->svc[x]);
    add_num(b, "st", k->st[x]);
    if (k->extra == NULL) continue;
    add_str(b, "message", &k->extra->message[x]);
    for (e = 0; e < k->extra->nerrors[x]; e++) {
      add_str(b, "code", &k->extra->errors[x][e].code);
      add_str(b, "text", &k->extra->errors[x][e].message);
    }
  }
  if (k->extra != NULL) add_str(b, "taskType", &k->extra->taskType);
}

static void dump_job(ct_buf *b, ct_store *s, const ct_job *j)
{
  ct_caller c;
  ct_err e;
  uintptr_t v = 0;
  size_t i;
  c.tenant = j->tenant->id;
  c.upn = "";
  c.nupn = 0;
  ct_buf_adds(b, "\n job ");
  add_guid(b, &j->id);
  add_num(b, "seq", (long long)j->seq);
  add_str(b, "displayName", &j->displayName);
  add_str(b, "createdBy", &j->createdBy);
  add_str(b, "resourceType", &j->resourceType);
  add_str(b, "sourceEndpoint", &j->sourceEndpoint);
  add_str(b, "targetDeliveryDomain", &j->targetDeliveryDomain);
  ct_buf_adds(b, " message=");
  ct_buf_adds(b, j->message);
  ct_buf_adds(b, " source=");
  add_guid(b, &j->sourceTenantId);
  add_num(b, "completeAfter", j->completeAfter.ticks);
  add_num(b, "created", j->created.ticks);
  add_num(b, "updated", j->updated.ticks);
  add_num(b, "validatedAt", j->validatedAt);
  add_num(b, "due", j->due);
  add_num(b, "status", j->status);
  add_num(b, "jobType", j->jobType);
  add_num(b, "exchange", j->hasExchangeSettings);
  add_num(b, "waiting", j->waiting);
  for (i = 0; i < j->nworkloads; i++) add_num(b, "wl", j->workloads[i]);
  add_num(b, "ntasks", (long long)j->ntasks);
  add_num(b, "indexcount", (long long)j->index.count);
  /* found by id and by name */
  add_num(b, "byid", ct_gmap_get(&j->tenant->byid, &j->id, &v) &&
                       v == (uintptr_t)j);
  add_num(b, "byname", ct_job_find_name(s, &c, j->displayName.p,
                                        j->displayName.n, &e) == j);
  for (i = 0; i < j->ntasks; i++) dump_task(b, j, i);
}

static int by_id(const void *a, const void *b)
{
  const ct_tenant *x = *(ct_tenant *const *)a, *y = *(ct_tenant *const *)b;
  return memcmp(x->id.b, y->id.b, 16);
}

/* every record the store holds, as text (the caller frees it) */
static char *dump(ct_store *s, int with_requests)
{
  ct_buf b;
  ct_tenant *ts[16];
  size_t i, k, n = 0;
  ct_buf_init(&b);
  add_num(&b, "nextseq", (long long)s->nextseq);
  add_num(&b, "rng0", (long long)s->rng[0]);
  add_num(&b, "rng1", (long long)s->rng[1]);
  add_num(&b, "now", s->now);
  add_num(&b, "ntasks", (long long)s->ntasks_total);
  add_num(&b, "ntransitions", (long long)s->ntransitions);
  add_num(&b, "tenants", (long long)s->tenants.count);
  add_num(&b, "faults", (long long)s->faults.count);
  if (with_requests) add_num(&b, "nrequests", (long long)s->nrequests);
  add_num(&b, "nheap", (long long)s->nheap);
  for (i = 0; i < s->nheap; i++) {
    ct_buf_addc(&b, ' ');
    add_guid(&b, &s->heap[i]->id);
  }
  for (i = 0; i < s->tenants.cap && n < 16; i++)
    if (s->tenants.used[i]) ts[n++] = (ct_tenant *)s->tenants.slots[i].val;
  qsort(ts, n, sizeof ts[0], by_id);
  for (i = 0; i < n; i++) {
    ct_buf_adds(&b, "\ntenant ");
    add_guid(&b, &ts[i]->id);
    add_num(&b, "njobs", (long long)ts[i]->njobs);
    add_num(&b, "byid", (long long)ts[i]->byid.count);
    add_num(&b, "users", (long long)ts[i]->users.count);
    add_num(&b, "names", (long long)ts[i]->nnames);
    for (k = 0; k < ts[i]->njobs; k++) dump_job(&b, s, ts[i]->jobs[k]);
  }
  if (b.oom) exit(2);
  return b.p;
}

/* ==================== the loop ==================== */

/* a store in a known state, then one call under test: 0 when it worked,
   else -1 with *e set */
typedef struct oom_case {
  const char *what;
  void (*setup)(ct_store *s);
  int (*op)(ct_store *s, ct_err *e);
  int with_requests;        /* 0: the call may draw request ids */
  /* 1: memory may run out after the change was made (writing the
     answer of a request): the change then stays, and the answer is
     still the 500 (README: "Out of memory") */
  int may_commit;
} oom_case;

static ct_store *fresh(const oom_case *c)
{
  ct_options o = options();
  ct_store *s = ct_store_new(&o);
  if (s == NULL) exit(2);
  if (c->setup != NULL) c->setup(s);
  return s;
}

/*
** Run the case with allocation N failing -- alone, or N and every later
** one when `and_after` -- for N = 1, 2, ... until the call makes fewer
** than N allocations, each on a fresh store.  A call that meets the
** failure must be a 500 generalException "Out of memory." and change
** nothing; one that works (or absorbs the failure) must leave the store
** as a run with no failure does.  Returns how many runs met a failure.
*/
static long oom_loop(tally *t, const oom_case *c, int and_after)
{
  ct_store *s = fresh(c);
  ct_err e;
  char *want, *before, *after;
  long n, met = 0;
  if (c->op(s, &e) != 0) {
    printf("FAIL %s: does not work with memory: %s\n", c->what, e.message);
    t->fail++;
  }
  want = dump(s, c->with_requests);
  ct_store_free(s);
  for (n = 1; n <= MAX_ALLOCS; n++) {
    int r, ok, reached;
    s = fresh(c);
    before = dump(s, c->with_requests);
    memset(&e, 0, sizeof e);          /* unset: status 0, code NULL */
    ct_alloc_fail_at(n, and_after);
    r = c->op(s, &e);
    reached = ct_alloc_count() >= n;
    ct_alloc_fail_at(0, 0);
    after = dump(s, c->with_requests);
    if (r == 0) {
      ok = strcmp(after, want) == 0;
      check(t, ok, __LINE__, c->what);
      if (!ok) printf("  %s, allocation %ld failing: worked, but made a "
                      "different store:\nwant:%s\ngot:%s\n", c->what, n,
                      want, after);
    } else {
      ok = e.status == 500 && e.code != NULL &&
           strcmp(e.code, "generalException") == 0 &&
           strcmp(e.message, OOM_MESSAGE) == 0;
      check(t, ok, __LINE__, c->what);
      if (!ok)
        printf("  %s, allocation %ld failing: %d %s %s\n", c->what, n,
               e.status, e.code ? e.code : "(unset)", e.message);
      ok = strcmp(before, after) == 0 ||
           (c->may_commit && strcmp(after, want) == 0);
      check(t, ok, __LINE__, c->what);
      if (!ok)
        printf("  %s, allocation %ld failing changed the store:\n"
               "before:%s\nafter:%s\n", c->what, n, before, after);
    }
    free(before);
    free(after);
    ct_store_free(s);
    if (!reached) break;
    met++;
  }
  free(want);
  check(t, met > 0 && n <= MAX_ALLOCS, __LINE__, c->what);
  return met;
}

/* ==================== the calls ==================== */

static const char *const TASK_FULL =
  "{\"id\":\"c0000000-0000-4000-8000-000000000001\",\"taskType\":\"User\","
  "\"lastUpdatedDateTime\":\"2025-11-06T08:00:00.5Z\","
  "\"currentStatus\":[{\"service\":\"Teams\",\"status\":\"invalid\","
  "\"message\":\"no licence\",\"errors\":[{\"code\":\"E1\",\"message\":"
  "\"first\"},{\"code\":\"E2\",\"message\":\"second\"}]},"
  "{\"service\":\"ODSP\",\"status\":\"valid\",\"message\":\"ok\"}]}";
static const char *const TASK_NO_ID =
  "{\"taskType\":\"user\",\"lastUpdatedDateTime\":\"2025-11-06T08:00:00Z\","
  "\"currentStatus\":[]}";

static const ct_jval *task_full, *task_no_id, *job_one, *job_next;

static ct_job *job_named(ct_store *s, const char *name)
{
  ct_caller c = caller();
  ct_err e;
  ct_job *j = ct_job_find(s, &c, name, strlen(name), &e);
  if (j == NULL) exit(2);
  return j;
}

static void make_job(ct_store *s, const char *name, int prefix, int n)
{
  ct_caller c = caller();
  ct_err e;
  if (ct_job_create(s, &c, job_body(name, prefix, n), &e) == NULL) {
    printf("setup: %s\n", e.message);
    exit(2);
  }
}

static int op_job_create(ct_store *s, ct_err *e)
{
  ct_caller c = caller();
  return ct_job_create(s, &c, job_one, e) != NULL ? 0 : -1;
}

static void setup_16_jobs(ct_store *s)
{
  char name[16];
  int i;
  for (i = 0; i < 16; i++) {
    snprintf(name, sizeof name, "job %d", i);
    make_job(s, name, 0xa000 + i, 1 + i % 3);
  }
}

static int op_job_create_17th(ct_store *s, ct_err *e)
{
  ct_caller c = caller();
  return ct_job_create(s, &c, job_next, e) != NULL ? 0 : -1;
}

static void setup_job_of_4(ct_store *s)
{
  make_job(s, "four", 0xb000, 4);
}

static int op_task_full(ct_store *s, ct_err *e)
{
  return ct_task_create(s, job_named(s, "four"), task_full, e) != NULL
           ? 0 : -1;
}

static int op_task_no_id(ct_store *s, ct_err *e)
{
  return ct_task_create(s, job_named(s, "four"), task_no_id, e) != NULL
           ? 0 : -1;
}

/* a job whose validation passed: a new user sends it back to submitted */
static void setup_validated(ct_store *s)
{
  ct_err e;
  make_job(s, "four", 0xb000, 4);
  if (ct_job_validate(s, job_named(s, "four"), &e) != 0) exit(2);
  ct_store_advance(s, s->now + 3600 * CT_TICKS_PER_SEC);
  if (job_named(s, "four")->status != CT_JS_VALIDATEPASSED) exit(2);
}

static void setup_fault(ct_store *s)
{
  ct_guid u;
  ct_err e;
  ct_guid_parse("b0000000-0000-4000-8000-000000000001", 36, &u);
  if (ct_store_fail(s, &u, CT_SVC_TEAMS, CT_PHASE_VALIDATE, CT_SS_INVALID,
                    "E0", 2, "first", 5, &e) != 0)
    exit(2);
}

static int op_fault(ct_store *s, ct_err *e)
{
  ct_guid u;
  ct_guid_parse("b0000000-0000-4000-8000-000000000001", 36, &u);
  return ct_store_fail(s, &u, CT_SVC_ODSP, CT_PHASE_MIGRATE, CT_SS_FAILED,
                       "E\0" "1", 3, "second", 6, e);
}


/* the whole request path, text in and out: POST a job */
static int op_request(ct_store *s, ct_err *e)
{
  static const char body[] =
    "{\"displayName\":\"posted\",\"completeAfterDateTime\":"
    "\"2025-12-09T22:48:03.092Z\",\"sourceTenantId\":\"" SOURCE "\","
    "\"resourceType\":\"Users\",\"resources\":"
    "[\"d0000000-0000-4000-8000-000000000001\"],"
    "\"workloads\":[\"Teams\",\"ODSP\"]}";
  static const char target[] =
    "/beta/solutions/migrations/crossTenantMigrationJobs";
  ct_http_request req;
  ct_http_response res;
  ct_caller c = caller();
  int r;
  memset(&req, 0, sizeof req);
  req.method = "POST";
  req.method_len = 4;
  req.target = target;
  req.target_len = sizeof target - 1;
  req.body_kind = CT_BODY_TEXT;
  req.body = body;
  req.body_len = sizeof body - 1;
  req.default_caller = &c;
  ct_http_response_init(&res);
  r = ct_request(s, &req, &res);
  if (r == 201) {
    ct_http_response_free(&res);
    return 0;
  }
  if (r < 0 && res.status == 500) {      /* no usable body */
    ct_err_set(e, 500, "generalException", NULL, OOM_MESSAGE);
  } else if (res.r.shape == CT_R_ERROR) {
    e->status = res.status;
    e->code = res.r.code;
    snprintf(e->message, sizeof e->message, "%s",
             res.r.message.p ? res.r.message.p : "");
  } else {
    e->status = res.status;
  }
  ct_http_response_free(&res);
  return -1;
}

static const oom_case cases[] = {
  { "job create, new tenant", NULL, op_job_create, 1, 0 },
  { "job create, 17th job", setup_16_jobs, op_job_create_17th, 1, 0 },
  { "task create, entries and taskType", setup_job_of_4, op_task_full, 1,
    0 },
  { "task create, id made", setup_job_of_4, op_task_no_id, 1, 0 },
  { "task create, validatePassed", setup_validated, op_task_full, 1, 0 },
  { "fault scripted, second", setup_fault, op_fault, 1, 0 },
  { "request POST job", setup_job_of_4, op_request, 0, 1 },
};

static void test_calls(tally *t)
{
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    long a = oom_loop(t, &cases[i], 1), b = oom_loop(t, &cases[i], 0);
    printf("%-36s %3ld allocations\n", cases[i].what, a);
    CHECK(a == b);
  }
}

/*
** The job and task actions never allocate: the room they need (a place
** in the schedule) was made when the job was created.  So they cannot
** run out of memory, with every allocation failing.
*/
static void test_no_allocation(tally *t)
{
  ct_store *s;
  ct_job *j;
  ct_err e;
  ct_options o = options();
  const ct_jval *later = json("{\"completeAfterDateTime\":"
                              "\"2026-01-01T00:00:00Z\"}");
  s = ct_store_new(&o);
  setup_job_of_4(s);
  j = job_named(s, "four");
  ct_alloc_fail_at(1, 1);
  CHECK(ct_job_update(s, j, later, &e) == 0);
  CHECK(ct_job_validate(s, j, &e) == 0);
  CHECK(ct_job_cancel(s, j, &e) == 0);
  CHECK(ct_task_cancel(s, j, &j->tasks[0], &e) != 0);   /* refused */
  CHECK(e.status == 409);
  ct_store_advance(s, s->now + 3600 * CT_TICKS_PER_SEC);
  CHECK(j->status == CT_JS_CANCELLED);
  CHECK(ct_job_delete(s, j, &e) == 0);
  CHECK(ct_alloc_count() == 0);
  ct_alloc_fail_at(0, 0);
  ct_store_free(s);
}

/* the statuses of every entry of every task, and the job's, as text */
static void statuses(ct_store *s, char *out, size_t cap)
{
  ct_job *j = job_named(s, "four");
  ct_msg m;
  size_t i;
  int k;
  ct_msg_init(&m, out, cap);
  ct_msg_addf(&m, "%s:", ct_job_status_name(j->status));
  for (i = 0; i < j->ntasks; i++)
    for (k = 0; k < j->tasks[i].n; k++)
      ct_msg_addf(&m, " %s", ct_svc_status_name(j->tasks[i].st[k]));
}

/*
** The lifecycle cannot refuse: when memory runs out as it records a
** failure's code and message, the statuses still move exactly as with
** memory (only the error details are missing), and nothing leaks.
*/
static void test_advance(tally *t)
{
  char want[512], got[512];
  long n, met = 0;
  ct_options o = options();
  ct_store *s;
  ct_err e;
  o.failure_rate[CT_PHASE_VALIDATE] = 0.5;
  for (n = 0; n <= MAX_ALLOCS; n++) {
    long reached;
    s = ct_store_new(&o);
    setup_job_of_4(s);
    setup_fault(s);
    if (ct_job_validate(s, job_named(s, "four"), &e) != 0) exit(2);
    ct_alloc_fail_at(n, 1);
    ct_store_advance(s, s->now + 3600 * CT_TICKS_PER_SEC);
    reached = ct_alloc_count() >= n;
    ct_alloc_fail_at(0, 0);
    if (n == 0) {
      statuses(s, want, sizeof want);
    } else {
      statuses(s, got, sizeof got);
      check(t, strcmp(want, got) == 0, __LINE__, "advance out of memory");
      if (strcmp(want, got) != 0) printf("  want %s\n  got  %s\n", want, got);
    }
    ct_store_free(s);
    if (n == 0) continue;
    if (!reached) break;
    met++;
  }
  CHECK(met > 2 && strstr(want, "validateFailed:") == want);
  printf("%-36s %3ld allocations\n", "advance, failures recorded", met);
}

/* ct_store_new: NULL, and nothing leaks, until it has its memory */
static void test_store_new(tally *t)
{
  ct_options o = options();
  ct_store *s = NULL;
  long n;
  for (n = 1; n <= MAX_ALLOCS && s == NULL; n++) {
    ct_alloc_fail_at(n, 1);
    s = ct_store_new(&o);
    ct_alloc_fail_at(0, 0);
  }
  CHECK(s != NULL && n > 2);
  ct_store_free(s);
}

/* the hook itself: fail the n-th allocation, alone or from then on */
static void test_hook(tally *t)
{
  void *a, *b, *c;
  ct_alloc_fail_at(2, 0);
  a = ct_malloc(8);
  b = ct_calloc(2, 8);
  c = ct_realloc(NULL, 8);
  CHECK(a != NULL && b == NULL && c != NULL && ct_alloc_count() == 3);
  free(a);
  free(c);
  ct_alloc_fail_at(2, 1);
  a = ct_malloc(8);
  b = ct_calloc(2, 8);
  c = ct_realloc(NULL, 8);
  CHECK(a != NULL && b == NULL && c == NULL);
  free(a);
  ct_alloc_fail_at(0, 0);
  a = ct_malloc(8);
  CHECK(a != NULL && ct_alloc_count() == 1);
  free(a);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  ct_arena_init(&arena);
  task_full = json(TASK_FULL);
  task_no_id = json(TASK_NO_ID);
  job_one = job_body("one", 0xa000, 3);
  job_next = job_body("job 16", 0xf000, 2);
  test_hook(t);
  test_store_new(t);
  test_calls(t);
  test_no_allocation(t);
  test_advance(t);
  ct_arena_free(&arena);
  return tally_report(t);
}
