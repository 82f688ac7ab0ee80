/*
** test_snap.c -- standalone tests for the store image (ct_snap.c) with
** no Lua: a store driven through every kind of change writes an image
** that reads back to the same store (the same image again, and the same
** answers to the same calls afterwards); bad images of every kind (empty,
** foreign, truncated at every byte, flipped bytes with and without a
** fixed checksum, a newer format, unknown sections) are refused with the
** exact message and nothing leaks; and every allocation the reader and
** the writer make is made to fail once (malloc, calloc and realloc are
** wrapped at link time, see the Makefile), which must give "out of
** memory" and leak nothing.
** Prints one line per failed check, then "N passed, N failed".
*/
#include "check.h"
#include "ct_json.h"
#include "ct_life.h"
#include "ct_snap.h"
#include "ct_store.h"
#include "ct_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- allocation failure injection (--wrap) ---------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t k);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t k);
void *__wrap_realloc(void *p, size_t n);

static long alloc_countdown = -1;   /* fail the allocation that hits 0 */
static long alloc_calls;

static int alloc_fails(void)
{
  alloc_calls++;
  if (alloc_countdown < 0) return 0;
  return alloc_countdown-- == 0;
}

void *__wrap_malloc(size_t n)
{
  return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t k)
{
  return alloc_fails() ? NULL : __real_calloc(n, k);
}

void *__wrap_realloc(void *p, size_t n)
{
  return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* ---------- tally ---------- */

static uint64_t next_rand(uint64_t *x)
{
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * 0x2545F4914F6CDD1DULL;
}

static unsigned pick(uint64_t *x, unsigned n)
{
  return (unsigned)(next_rand(x) % n);
}

/* ---------- fixtures ---------- */

#define NOW "2025-11-06T09:00:00Z"
#define TARGET "87654321-4321-4321-4321-210987654321"
#define OTHER "11111111-2222-4333-8444-555555555555"
#define SOURCE "12345678-1234-1234-1234-123456789012"
#define SEC CT_TICKS_PER_SEC

static ct_arena arena;

static const ct_jval *json(const char *text)
{
  return check_json(&arena, text);
}

static ct_store *new_store(uint64_t seed, double rate)
{
  ct_options o;
  ct_time now;
  ct_store *s;
  ct_guid g;
  memset(&o, 0, sizeof o);
  o.seed = seed;
  o.has_seed = 1;
  o.strict = 1;
  o.failure_rate[0] = rate;
  o.failure_rate[1] = rate;
  ct_time_parse(NOW, strlen(NOW), &now, NULL);
  o.now = now.ticks;
  s = ct_store_new(&o);
  if (s == NULL) exit(2);
  {
    double rates[CT_FAULT__COUNT] = { 0.05, 0.02, 0.01 };
    if (rate > 0 && (ct_fault_set_rates(&s->faultstate, rates, 3) != 0 ||
                     ct_fault_set_budget(&s->faultstate, 5, 30) != 0))
      exit(2);
  }
  ct_guid_parse(TARGET, 36, &g);
  if (ct_store_set_defaults(s, &g, "admin@fabrikam.onmicrosoft.com", 0))
    exit(2);
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

/* the job at position k (mod count) of the tenant, or NULL */
static ct_job *some_job(ct_store *s, const ct_caller *c, unsigned k)
{
  ct_tenant *tn = ct_store_tenant(s, &c->tenant, 0);
  if (tn == NULL || tn->njobs == 0) return NULL;
  return tn->jobs[k % tn->njobs];
}

/*
** One random change, chosen by the driver's generator only, so two equal
** stores given equal generators get equal calls.  What happened goes to
** `log` (ids made, error messages), for comparing the two.
*/
static void drive(ct_store *s, uint64_t *x, int *names, ct_buf *log)
{
  static const char *const tenants[] = { TARGET, OTHER };
  static const char *const wl[] = {
    "[\"Teams\",\"Exchange\",\"ODSP\"]", "[\"ODSP\"]", "[\"Exchange\"]",
    "[\"Teams\",\"ODSP\"]"
  };
  ct_caller c = caller_of(tenants[pick(x, 2)]);
  ct_err e;
  ct_job *j = some_job(s, &c, pick(x, 1000));
  char body[1024], id[37];
  unsigned op = pick(x, 14);
  int r = 0;
  e.message[0] = '\0';
  switch (op) {
  case 0: case 1: {
    unsigned n = 1 + pick(x, 3), i, w = pick(x, 4);
    size_t k;
    k = (size_t)snprintf(body, sizeof body,
                         "{\"displayName\":\"job %d\",\"completeAfterDateTime"
                         "\":\"2025-11-0%uT12:00:00.5Z\",\"sourceTenantId\":\""
                         SOURCE "\",\"resourceType\":\"Users\",\"resources\":[",
                         (*names)++, 6 + pick(x, 3));
    for (i = 0; i < n; i++)
      k += (size_t)snprintf(body + k, sizeof body - k,
                            "%s\"aaaaaaaa-0000-4000-8000-%012u\"",
                            i ? "," : "", pick(x, 200));
    snprintf(body + k, sizeof body - k, "],\"workloads\":%s%s}", wl[w],
             w == 1 || w == 3 ? ""
                              : ",\"exchangeSettings\":{\"sourceEndpoint\":"
                                "\"e\",\"targetDeliveryDomain\":\"d\"}");
    j = ct_job_create(s, &c, json(body), &e);
    r = j ? 0 : -1;
    if (j) {
      ct_guid_format(&j->id, id);
      ct_buf_adds(log, id);
    }
    break;
  }
  case 2:
    if (j) r = ct_job_validate(s, j, &e);
    break;
  case 3:
    if (j) r = ct_job_migrate(s, j, &e);
    break;
  case 4:
    if (j) r = ct_job_cancel(s, j, &e);
    break;
  case 5:
    if (j) r = ct_job_delete(s, j, &e);
    break;
  case 6:
    if (j && j->ntasks > 0)
      r = ct_task_cancel(s, j, &j->tasks[pick(x, (unsigned)j->ntasks)], &e);
    break;
  case 7:
    if (j) {
      ct_task *k;
      snprintf(body, sizeof body, "{\"taskType\":\"%s\",\"lastUpdatedDateTime"
               "\":\"2025-11-06T09:00:00.123Z\"%s}",
               pick(x, 2) ? "user" : "User",
               pick(x, 2) ? "" : ",\"currentStatus\":[{\"message\":\"m\","
                                 "\"errors\":[{\"code\":\"c\",\"message\":"
                                 "\"x\"}]}]");
      k = ct_task_create(s, j, json(body), &e);
      r = k ? 0 : -1;
      if (k) {
        ct_guid_format(&k->id, id);
        ct_buf_adds(log, id);
      }
    }
    break;
  case 8:
    if (j) {
      snprintf(body, sizeof body, "{\"completeAfterDateTime\":\"2025-11-%02u"
               "T10:00:00Z\"}", 6 + pick(x, 4));
      r = ct_job_update(s, j, json(body), &e);
    }
    break;
  case 9: {
    ct_guid u;
    snprintf(id, sizeof id, "aaaaaaaa-0000-4000-8000-%012u", pick(x, 40));
    ct_guid_parse(id, 36, &u);
    r = ct_store_fail(s, &u, (int)pick(x, CT_SVC__COUNT), (int)pick(x, 2),
                      CT_SS_ERROR, "scripted", 8, "Scripted failure.", 17, &e);
    break;
  }
  case 12: {                           /* a scripted fault */
    static const char *const paths[] = {
      "/crossTenantMigrationJobs", "/crossTenantMigrationJobs/*/users", NULL
    };
    const char *p = paths[pick(x, 3)];
    r = ct_fault_add(&s->faultstate, pick(x, 2) ? 429 : 503,
                     1 + (int)pick(x, 30), 1 + (int64_t)pick(x, 3),
                     pick(x, 2) ? "POST" : NULL, p, p ? strlen(p) : 0);
    break;
  }
  case 13: {                           /* a request decided */
    ct_fault_answer a;
    char key[16];
    int st;
    snprintf(key, sizeof key, "t/app%u", pick(x, 12));
    st = ct_fault_decide(&s->faultstate, s->now, pick(x, 2) ? "POST" : "GET",
                         "/crossTenantMigrationJobs", 25, key, strlen(key),
                         &a);
    snprintf(body, sizeof body, "fault %d %d", st, st ? a.retry_after : 0);
    ct_buf_adds(log, body);
    break;
  }
  default:
    {
      static const int64_t spans[] = { 10, 60, 200, 700, 1800, 5 * 3600 };
      ct_store_advance(s, s->now + spans[pick(x, 6)] * SEC);
    }
    break;
  }
  if (r != 0) ct_buf_adds(log, e.message);
  ct_buf_addc(log, '\n');
}

static int image_of(const ct_store *s, unsigned char **p, size_t *n)
{
  return ct_snap_write(s, p, n);
}

static int same_image(const ct_store *a, const ct_store *b)
{
  unsigned char *p, *q;
  size_t n, m;
  int same;
  if (image_of(a, &p, &n) != 0) return 0;
  if (image_of(b, &q, &m) != 0) {
    free(p);
    return 0;
  }
  same = n == m && memcmp(p, q, n) == 0;
  free(p);
  free(q);
  return same;
}

/* a store with many jobs in many statuses, faults, extras */
static ct_store *busy_store(int steps)
{
  ct_store *s = new_store(42, 0.2);
  uint64_t x = 12345;
  int names = 0;
  ct_buf log;
  int i;
  ct_buf_init(&log);
  for (i = 0; i < steps; i++) drive(s, &x, &names, &log);
  ct_buf_free(&log);
  s->timings.cancel = 90;          /* a non-default timing is kept too */
  return s;
}

static void statuses_of(const ct_store *s, int *seen)
{
  size_t i, k;
  for (i = 0; i < s->tenants.cap; i++) {
    const ct_tenant *tn;
    if (!s->tenants.used[i]) continue;
    tn = (const ct_tenant *)s->tenants.slots[i].val;
    for (k = 0; k < tn->njobs; k++) seen[tn->jobs[k]->status] = 1;
  }
}

/* ==================== tests ==================== */

/* an image reads back to a store that writes the same image */
static int round_trips(tally *t, const ct_store *s)
{
  unsigned char *img, *again;
  size_t n, m;
  char msg[200];
  ct_store *r;
  int ok;
  if (image_of(s, &img, &n) != 0) return 0;
  r = ct_snap_read(img, n, msg, sizeof msg);
  if (r == NULL) {
    printf("  %s\n", msg);
    free(img);
    return 0;
  }
  ok = image_of(r, &again, &m) == 0;
  ok = ok && m == n && memcmp(img, again, n) == 0;
  if (ok) free(again);
  CHECK(r->now == s->now && r->nrequests == s->nrequests &&
        r->rng[0] == s->rng[0] && r->rng[1] == s->rng[1] &&
        r->ntasks_total == s->ntasks_total && r->nheap == s->nheap &&
        ct_store_next_due(r) == ct_store_next_due(s));
  ct_store_free(r);
  free(img);
  return ok;
}

static void test_round_trip(tally *t)
{
  ct_store *s = new_store(42, 0.2), *r;
  unsigned char *img;
  size_t n;
  char msg[200];
  int seen[CT_JS__COUNT], i, nseen = 0, names = 0, trips = 0;
  uint64_t x = 12345;
  ct_buf log;
  ct_buf_init(&log);
  memset(seen, 0, sizeof seen);
  s->timings.cancel = 90;          /* a non-default timing is kept too */
  /* every few changes: the image reads back to the same image */
  for (i = 1; i <= 600; i++) {
    drive(s, &x, &names, &log);
    statuses_of(s, seen);
    if (i % 10 == 0) trips += round_trips(t, s);
  }
  ct_buf_free(&log);
  CHECK(trips == 60);
  for (i = 0; i < CT_JS__COUNT; i++) nseen += seen[i];
  CHECK(nseen >= 14);                /* the images held varied stores */
  if (nseen < 14) {
    printf("  %d statuses:", nseen);
    for (i = 0; i < CT_JS__COUNT; i++)
      if (seen[i]) printf(" %s", ct_job_status_name(i));
    printf("\n");
  }
  CHECK(s->faults.count > 0);
  CHECK(s->faultstate.nrules > 0 && s->faultstate.ncallers > 0 &&
        s->faultstate.refused[CT_FAULT_429] > 0);
  CHECK(image_of(s, &img, &n) == 0);
  CHECK(memcmp(img, CT_SNAP_MAGIC, 8) == 0);
  r = ct_snap_read(img, n, msg, sizeof msg);
  CHECK(r != NULL);
  if (r == NULL) {
    printf("  %s\n", msg);
    goto done;
  }
  CHECK(r->timings.cancel == 90 && r->failure_rate[1] == 0.2);
  CHECK(r->default_user != NULL &&
        strcmp(r->default_user, "admin@fabrikam.onmicrosoft.com") == 0);
  {
    /* the same calls afterwards give the same answers and the same store */
    uint64_t x1 = 999, x2 = 999;
    int n1 = 1000, n2 = 1000;
    ct_buf l1, l2;
    ct_guid g1, g2;
    ct_buf_init(&l1);
    ct_buf_init(&l2);
    for (i = 0; i < 600; i++) {
      drive(s, &x1, &n1, &l1);
      drive(r, &x2, &n2, &l2);
    }
    CHECK(l1.len == l2.len && memcmp(l1.p, l2.p, l1.len) == 0);
    CHECK(l1.len > 600 * 5);
    CHECK(same_image(s, r));
    ct_store_request_id(s, &g1);
    ct_store_request_id(r, &g2);
    CHECK(ct_guid_eq(&g1, &g2));
    ct_store_newguid(s, &g1);
    ct_store_newguid(r, &g2);
    CHECK(ct_guid_eq(&g1, &g2));
    ct_buf_free(&l1);
    ct_buf_free(&l2);
  }
  ct_store_free(r);
done:
  free(img);
  ct_store_free(s);
}

static void test_empty_store(tally *t)
{
  ct_store *s = new_store(1, 0), *r;
  unsigned char *img;
  size_t n;
  char msg[200];
  /* the clock's range ct_snap.c holds as constants */
  CHECK(ct_days_from_civil(1, 1, 1) == -719162);
  CHECK(ct_days_from_civil(10000, 1, 1) == 2932897);
  free(s->default_user);
  s->default_user = NULL;
  s->sticky = 1;
  CHECK(image_of(s, &img, &n) == 0);
  r = ct_snap_read(img, n, msg, sizeof msg);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK(r->tenants.count == 0 && r->default_user == NULL);
    CHECK(r->sticky == 1);
    CHECK(same_image(s, r));
  }
  ct_store_free(r);
  free(img);
  ct_store_free(s);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
  int i;
  for (i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* recompute the checksum of a changed image */
static void fix_sum(unsigned char *p, size_t n)
{
  uint64_t body = 0;
  int i;
  for (i = 7; i >= 0; i--) body = (body << 8) | p[16 + i];
  if (body > n - CT_SNAP_HEADER - 8) return;
  put_le(p + CT_SNAP_HEADER + body,
         ct_snap_checksum(p + CT_SNAP_HEADER, (size_t)body), 8);
}

static void test_bad_images(tally *t)
{
  ct_store *s = busy_store(60), *r;
  unsigned char *img, *bad;
  size_t n, k;
  char msg[200], want[200];
  uint64_t x = 77;
  int refused = 0, loaded = 0, i;
  CHECK(image_of(s, &img, &n) == 0);
  bad = malloc(n + 16);
  if (bad == NULL) exit(2);

  CHECK(ct_snap_read("", 0, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "not a crosstenant snapshot: the image is empty");
  CHECK(ct_snap_read("SQLite format 3", 16, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "not a crosstenant snapshot");
  CHECK(ct_snap_read("{\"a\":1}", 7, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "not a crosstenant snapshot");

  /* cut at every byte: "truncated at byte N", never a crash */
  for (k = 1; k < n; k++) {
    r = ct_snap_read(img, k, msg, sizeof msg);
    snprintf(want, sizeof want, "truncated at byte %zu", k);
    if (r != NULL || strcmp(msg, want) != 0) {
      CHECK_MSG(msg, want);
      ct_store_free(r);
      break;
    }
  }
  CHECK(k == n);

  /* a newer format, an older impossible one, flags */
  memcpy(bad, img, n);
  put_le(bad + 8, 3, 4);
  CHECK(ct_snap_read(bad, n, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "snapshot format 3 is newer than this crosstenant (1)");
  put_le(bad + 8, 0, 4);
  CHECK(ct_snap_read(bad, n, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "corrupt snapshot: format 0 at byte 8");
  put_le(bad + 8, 1, 4);
  put_le(bad + 12, 1, 4);
  CHECK(ct_snap_read(bad, n, msg, sizeof msg) == NULL);
  CHECK_MSG(msg, "corrupt snapshot: unknown header flags at byte 12");

  /* trailing bytes */
  memcpy(bad, img, n);
  memset(bad + n, 0, 16);
  CHECK(ct_snap_read(bad, n + 3, msg, sizeof msg) == NULL);
  snprintf(want, sizeof want, "corrupt snapshot: 3 bytes after the end at "
           "byte %zu", n);
  CHECK_MSG(msg, want);

  /* one flipped byte in the body: the checksum says so */
  memcpy(bad, img, n);
  bad[CT_SNAP_HEADER + 40] ^= 0x10;
  CHECK(ct_snap_read(bad, n, msg, sizeof msg) == NULL);
  snprintf(want, sizeof want, "corrupt snapshot: checksum mismatch at byte "
           "%zu", n - 8);
  CHECK_MSG(msg, want);

  /* flipped bytes behind a fixed checksum: refused with a message, or a
     store that writes an image that reads back; never a crash */
  for (i = 0; i < 3000; i++) {
    int flips = 1 + (int)pick(&x, 3), f;
    memcpy(bad, img, n);
    for (f = 0; f < flips; f++)
      bad[CT_SNAP_HEADER + pick(&x, (unsigned)(n - CT_SNAP_HEADER - 8))] ^=
        (unsigned char)(1u << pick(&x, 8));
    fix_sum(bad, n);
    msg[0] = '\0';
    r = ct_snap_read(bad, n, msg, sizeof msg);
    if (r == NULL) {
      refused++;
      if (strncmp(msg, "corrupt snapshot: ", 18) != 0 &&
          strncmp(msg, "snapshot section '", 18) != 0) {
        CHECK_MSG(msg, "corrupt snapshot: ...");
      }
    } else {
      unsigned char *p2;
      size_t n2;
      ct_store *r2;
      loaded++;
      if (image_of(r, &p2, &n2) == 0) {
        r2 = ct_snap_read(p2, n2, msg, sizeof msg);
        if (r2 == NULL) CHECK_MSG(msg, "(a store's own image reads back)");
        ct_store_free(r2);
        free(p2);
      }
      ct_store_free(r);
    }
  }
  CHECK(refused > 1000);
  CHECK(refused + loaded == 3000);

  /* an unknown critical section is refused, an ancillary one skipped */
  {
    unsigned char *p = malloc(n + 20);
    uint64_t body;
    if (p == NULL) exit(2);
    memcpy(p, img, n - 8);
    body = n - 8 - CT_SNAP_HEADER;
    memcpy(p + n - 8, "XTRA", 4);
    put_le(p + n - 4, 0, 8);
    put_le(p + 16, body + 12, 8);
    put_le(p + n + 4, 0, 8);
    fix_sum(p, n + 12);
    CHECK(ct_snap_read(p, n + 12, msg, sizeof msg) == NULL);
    CHECK_MSG(msg, "snapshot section 'XTRA' is unknown to this crosstenant "
              "(format 1)");
    memcpy(p + n - 8, "xtra", 4);
    fix_sum(p, n + 12);
    r = ct_snap_read(p, n + 12, msg, sizeof msg);
    CHECK(r != NULL && same_image(r, s));
    ct_store_free(r);
    /* a missing critical section: the body cut after STOR */
    {
      uint64_t len0 = 0;
      for (i = 7; i >= 0; i--) len0 = (len0 << 8) | img[CT_SNAP_HEADER + 4 + i];
      memcpy(p, img, CT_SNAP_HEADER + 12 + len0);
      put_le(p + 16, 12 + len0, 8);
      fix_sum(p, CT_SNAP_HEADER + 12 + len0 + 8);
      CHECK(ct_snap_read(p, CT_SNAP_HEADER + 12 + len0 + 8, msg,
                         sizeof msg) == NULL);
      CHECK_MSG(msg, "corrupt snapshot: section 'TNNT' is missing");
    }
    free(p);
  }
  free(bad);
  free(img);
  ct_store_free(s);
}

/* a named field at fault: a job's status byte set past the enum */
static void test_field_named(tally *t)
{
  ct_store *s = new_store(3, 0);
  ct_caller c = caller_of(TARGET);
  ct_err e;
  ct_job *j;
  unsigned char *img;
  size_t n, k;
  char msg[200];
  j = ct_job_create(s, &c, json("{\"displayName\":\"zz\",\"completeAfter"
        "DateTime\":\"" NOW "\",\"sourceTenantId\":\"" SOURCE "\","
        "\"resourceType\":\"Users\",\"resources\":["
        "\"aaaaaaaa-0000-4000-8000-000000000001\"],\"workloads\":[\"ODSP\"]}"),
        &e);
  CHECK(j != NULL);
  j->status = CT_JS_VALIDATEFAILED;   /* 15: a byte easy to find */
  j->jobType = CT_JT_MIGRATE;
  CHECK(image_of(s, &img, &n) == 0);
  /* status, jobType, waiting=0, nworkloads=1, ODSP(2), ntasks=1 (u32) */
  for (k = CT_SNAP_HEADER; k + 9 < n; k++)
    if (img[k] == 15 && img[k + 1] == 1 && img[k + 2] == 0 &&
        img[k + 3] == 1 && img[k + 4] == 2 && img[k + 5] == 1)
      break;
  CHECK(k + 9 < n);
  if (k + 9 < n) {
    char want[200];
    img[k] = 40;
    fix_sum(img, n);
    CHECK(ct_snap_read(img, n, msg, sizeof msg) == NULL);
    snprintf(want, sizeof want, "corrupt snapshot: job.status is unknown "
             "at byte %zu", k);
    CHECK_MSG(msg, want);
  }
  free(img);
  ct_store_free(s);
}

static void test_out_of_memory(tally *t)
{
  ct_store *s = busy_store(120), *r;
  unsigned char *img, *p;
  size_t n, m;
  long k, calls;
  char msg[200];
  int fails = 0;
  CHECK(image_of(s, &img, &n) == 0);
  /* count the reader's allocations, then fail each one in turn */
  alloc_calls = 0;
  r = ct_snap_read(img, n, msg, sizeof msg);
  calls = alloc_calls;
  CHECK(r != NULL && calls > 50);
  ct_store_free(r);
  for (k = 0; k < calls; k++) {
    alloc_countdown = k;
    r = ct_snap_read(img, n, msg, sizeof msg);
    alloc_countdown = -1;
    if (r != NULL) {            /* the failed one was not needed */
      ct_store_free(r);
      continue;
    }
    fails++;
    if (strcmp(msg, "out of memory") != 0) {
      CHECK_MSG(msg, "out of memory");
      break;
    }
  }
  CHECK(fails > calls / 2);
  /* the writer: -1 and nothing kept */
  alloc_calls = 0;
  CHECK(image_of(s, &p, &m) == 0);
  free(p);
  calls = alloc_calls;
  for (k = 0; k < calls; k++) {
    alloc_countdown = k;
    p = NULL;
    if (image_of(s, &p, &m) == 0) free(p);
    else CHECK(p == NULL);
    alloc_countdown = -1;
  }
  free(img);
  ct_store_free(s);
}

/*
** Regression: deleting many final jobs without the clock moving put more
** jobs on the schedule than it had room for (a heap overflow, found
** while checking that a restored store's schedule has room enough).
*/
static void test_delete_many(tally *t)
{
  ct_store *s = new_store(5, 0), *r;
  ct_caller c = caller_of(TARGET);
  ct_job *jobs[40];
  ct_err e;
  char body[600], msg[200];
  unsigned char *img;
  size_t n;
  int i, ok = 1;
  for (i = 0; i < 40; i++) {
    snprintf(body, sizeof body, "{\"displayName\":\"d%d\",\"completeAfter"
             "DateTime\":\"2025-12-01T00:00:00Z\",\"sourceTenantId\":\""
             SOURCE "\",\"resourceType\":\"Users\",\"workloads\":[\"ODSP\"],"
             "\"resources\":[\"bbbbbbbb-0000-4000-8000-%012d\"]}", i, i);
    jobs[i] = ct_job_create(s, &c, json(body), &e);
    if (jobs[i] == NULL) { ok = 0; break; }
  }
  CHECK(ok);
  if (!ok) goto done;
  /* cancelled in small groups, so the schedule never holds many */
  for (i = 0; i < 40; i++) {
    ok &= ct_job_cancel(s, jobs[i], &e) == 0;
    if (i % 10 == 9) ct_store_advance(s, s->now + 3600 * SEC);
  }
  CHECK(ok && s->nheap == 0);
  /* the image of a store with 40 final jobs, read back, deletes all */
  CHECK(image_of(s, &img, &n) == 0);
  r = ct_snap_read(img, n, msg, sizeof msg);
  free(img);
  CHECK(r != NULL);
  for (i = 0; i < 40; i++) ok &= ct_job_delete(s, jobs[i], &e) == 0;
  CHECK(ok && s->nheap == 40);
  if (r != NULL) {
    ct_tenant *tn = ct_store_tenant(r, &c.tenant, 0);
    ok = tn != NULL && tn->njobs == 40;
    for (i = 0; ok && i < 40; i++) ok &= ct_job_delete(r, tn->jobs[i], &e) == 0;
    CHECK(ok && r->nheap == 40);
    CHECK(same_image(s, r));
    ct_store_free(r);
  }
done:
  ct_store_free(s);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  ct_arena_init(&arena);
  test_round_trip(t);
  test_empty_store(t);
  test_bad_images(t);
  test_field_named(t);
  test_out_of_memory(t);
  test_delete_many(t);
  ct_arena_free(&arena);
  return tally_report(t);
}
