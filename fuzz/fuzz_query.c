/*
** fuzz_query.c -- libFuzzer target for the OData query core (ct_query.c):
** the $filter / $orderby parser, the evaluator and the pages with their
** $skiptoken cursors, over a small fixed store built through ct_store.h.
**
** Input: byte 0 picks the collection (bit 0: jobs or a job's tasks),
** whether a $filter (bit 1) and an $orderby (bit 2) are given, and the
** page size (bits 3-7: 1..32); byte 1 is $skip (0..255, 255: a huge
** one); the rest is "<filter>\n<orderby>\n<token>" (a missing part is
** empty).
**
** Checks: a refused query is 400 invalidRequest / invalidQueryOption
** with a printable "Invalid $filter: ..." or "Invalid $orderby: ..."
** message; an accepted one matches every item without crashing, its
** count equals the matches, the pages followed through their
** $skiptoken give exactly the one-page answer (each match once, in the
** same order), and $skip gives that answer's tail; a token of another
** query, or the input's own token, is refused or read without harm.
** Any failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_json.h"
#include "ct_query.h"
#include "ct_store.h"
#include "ct_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ct_store *store;
static ct_caller caller;
static ct_job *jobs_job;        /* the job whose tasks are queried */
static ct_tenant *tenant;
static size_t huge_skip = (size_t)-1 / 2;   /* byte 1 == 255 */
static int lenient_ctrl;                    /* CT_FUZZ_LENIENT=ctrl */

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_query: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

static ct_job *make_job(const char *name, const char *prefix, int n,
                        const char *workloads)
{
  char body[4096], res[1200];
  size_t k = 0;
  int i;
  ct_arena a;
  ct_jval *v;
  ct_jerr je;
  ct_err e;
  ct_job *j;
  for (i = 0; i < n; i++)
    k += (size_t)snprintf(res + k, sizeof res - k, "%s\"%s-0000-4000-8000-"
                          "%012d\"", i ? "," : "", prefix, i + 1);
  snprintf(body, sizeof body,
           "{\"displayName\":\"%s\",\"completeAfterDateTime\":"
           "\"2025-12-09T22:48:03.092Z\",\"sourceTenantId\":"
           "\"12345678-1234-1234-1234-123456789012\",\"resourceType\":"
           "\"Users\",\"resources\":[%s],\"workloads\":%s,"
           "\"exchangeSettings\":{\"sourceEndpoint\":\"e\","
           "\"targetDeliveryDomain\":\"d\"}}", name, res, workloads);
  ct_arena_init(&a);
  if (ct_json_parse(&a, body, strlen(body), &v, &je) != 0)
    die("setup body", je.message);
  j = ct_job_create(store, &caller, v, &e);
  ct_arena_free(&a);
  if (j == NULL) die("setup job", e.message);
  return j;
}

static void add_task(ct_job *j, const char *json)
{
  ct_arena a;
  ct_jval *v;
  ct_jerr je;
  ct_err e;
  ct_arena_init(&a);
  if (ct_json_parse(&a, json, strlen(json), &v, &je) != 0)
    die("setup task body", je.message);
  if (ct_task_create(store, j, v, &e) == NULL) die("setup task", e.message);
  ct_arena_free(&a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  ct_options o;
  ct_time now;
  ct_err e;
  ct_job *j;
  uintptr_t v;
  (void)argc;
  (void)argv;
  memset(&o, 0, sizeof o);
  o.seed = 1;
  o.has_seed = 1;
  o.strict = 1;
  if (ct_time_parse("2025-11-06T09:00:00Z", 20, &now, NULL) != 0)
    die("setup clock", NULL);
  o.now = now.ticks;
  store = ct_store_new(&o);
  if (store == NULL) die("setup store", NULL);
  ct_guid_parse("87654321-4321-4321-4321-210987654321", 36, &caller.tenant);
  caller.upn = "admin@fabrikam.onmicrosoft.com";
  caller.nupn = strlen(caller.upn);
  make_job("alpha", "aaaaaaaa", 3, "[\"Teams\",\"Exchange\",\"ODSP\"]");
  j = make_job("Beta", "bbbbbbbb", 2, "[\"Teams\"]");
  if (ct_job_validate(store, j, &e) != 0) die("setup validate", e.message);
  ct_store_advance(store, store->now + 3600 * CT_TICKS_PER_SEC);
  make_job("gamma''s", "cccccccc", 1, "[\"ODSP\"]");
  make_job("\\u00fcmlaut", "dddddddd", 1, "[\"Exchange\"]");
  j = make_job("epsilon", "eeeeeeee", 1, "[\"Teams\"]");
  if (ct_job_validate(store, j, &e) != 0) die("setup validate", e.message);
  ct_store_advance(store, store->now + 1);
  jobs_job = make_job("tasks", "ffffffff", 4,
                      "[\"Teams\",\"Exchange\",\"ODSP\"]");
  add_task(jobs_job, "{\"taskType\":\"User\",\"lastUpdatedDateTime\":"
           "\"2025-11-06T11:26:00.5Z\",\"currentStatus\":[{\"service\":"
           "\"Exchange\",\"status\":\"failed\",\"message\":\"m\","
           "\"errors\":[{\"code\":\"c\",\"message\":\"x\"}]},"
           "{\"service\":\"ODSP\",\"status\":\"completed\"}]}");
  add_task(jobs_job, "{\"taskType\":\"user\",\"lastUpdatedDateTime\":"
           "\"2024-01-01T00:00:00+01:00\",\"currentStatus\":[]}");
  add_task(jobs_job, "{\"taskType\":\"user\",\"lastUpdatedDateTime\":"
           "\"2025-11-06T09:00:00Z\",\"currentStatus\":[{\"service\":"
           "\"ODSP\"}]}");
  /* CT_FUZZ_LENIENT=skip: a known, reported bug (a huge $skip with
     $orderby overflows the candidate array); a campaign may step past
     it, replays do not */
  if (getenv("CT_FUZZ_LENIENT") && strstr(getenv("CT_FUZZ_LENIENT"), "skip"))
    huge_skip = 1000;
  /* ctrl: a control byte quoted raw in a message (reported) */
  if (getenv("CT_FUZZ_LENIENT") && strstr(getenv("CT_FUZZ_LENIENT"), "ctrl"))
    lenient_ctrl = 1;
  if (!ct_gmap_get(&store->tenants, &caller.tenant, &v))
    die("setup tenant", NULL);
  tenant = (ct_tenant *)v;
  return 0;
}

static void check_refusal(const ct_err *e)
{
  size_t i, n = strlen(e->message);
  if (e->status != 400 || strcmp(e->code, "invalidRequest") != 0 ||
      e->inner == NULL || strcmp(e->inner, "invalidQueryOption") != 0)
    die("a refusal that is not 400 invalidQueryOption", e->message);
  if (strncmp(e->message, "Invalid $filter: ", 17) != 0 &&
      strncmp(e->message, "Invalid $orderby: ", 18) != 0 &&
      strncmp(e->message, "The $skiptoken value '", 22) != 0)
    die("a refusal message of an unknown shape", e->message);
  if (n == 0 || e->message[n - 1] != '.') die("a message without its end",
                                              e->message);
  for (i = 0; i < n && !lenient_ctrl; i++)
    if ((unsigned char)e->message[i] < 0x20)
      die("a control byte in a message", e->message);
}

/* one page: item ids (job seq or task position) into out[]; -1 refused */
static long page(const ct_query *q, int tasks, const char *token,
                 size_t skip, size_t top, uint64_t *out, ct_buf *next,
                 size_t *count, ct_err *e)
{
  long k, i;
  next->len = 0;
  if (next->p) next->p[0] = '\0';
  if (tasks) {
    size_t *o = malloc((top + 1) * sizeof *o);
    if (o == NULL) die("out of memory", NULL);
    k = ct_query_tasks(q, jobs_job, token, skip, top, o, next, count, e);
    for (i = 0; i < k; i++) {
      if (o[i] >= jobs_job->ntasks) die("an index past the tasks", NULL);
      out[i] = o[i];
    }
    free(o);
  } else {
    size_t *o = malloc((top + 1) * sizeof *o);
    if (o == NULL) die("out of memory", NULL);
    k = ct_query_jobs(q, tenant->jobs, tenant->njobs, token, skip, top, o,
                      next, count, e);
    for (i = 0; i < k; i++) {
      if (o[i] >= tenant->njobs) die("an index past the jobs", NULL);
      out[i] = tenant->jobs[o[i]]->seq;
    }
    free(o);
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int tasks, has_filter, has_orderby;
  size_t top, skip, nitems, matches = 0, count = 0, got = 0, i;
  const char *rest, *nl, *nl2;
  size_t nrest, nfilter, norderby;
  char *token = NULL;
  ct_query *q;
  ct_err e;
  ct_buf next;
  uint64_t all[64], pg[64];
  long k, nall;

  if (size < 2) return 0;
  tasks = data[0] & 1;
  has_filter = (data[0] >> 1) & 1;
  has_orderby = (data[0] >> 2) & 1;
  top = (size_t)(data[0] >> 3) + 1;
  skip = data[1] == 255 ? huge_skip : data[1];
  rest = (const char *)data + 2;
  nrest = size - 2;
  nl = memchr(rest, '\n', nrest);
  nfilter = nl ? (size_t)(nl - rest) : nrest;
  norderby = 0;
  nl2 = NULL;
  if (nl) {
    nl2 = memchr(nl + 1, '\n', nrest - nfilter - 1);
    norderby = nl2 ? (size_t)(nl2 - nl - 1) : nrest - nfilter - 1;
  }
  if (nl2) {
    size_t nt = nrest - (size_t)(nl2 + 1 - rest);
    token = malloc(nt + 1);
    if (token == NULL) return 0;
    memcpy(token, nl2 + 1, nt);
    token[nt] = '\0';
  }

  q = ct_query_new(tasks ? CT_Q_TASKS : CT_Q_JOBS,
                   has_filter ? rest : NULL, nfilter,
                   has_orderby ? (nl ? nl + 1 : "") : NULL, norderby, &e);
  if (q == NULL) {
    check_refusal(&e);
    free(token);
    return 0;
  }
  nitems = tasks ? jobs_job->ntasks : tenant->njobs;
  for (i = 0; i < nitems; i++)
    matches += (size_t)(tasks ? ct_query_match_task(q, &jobs_job->tasks[i])
                              : ct_query_match_job(q, tenant->jobs[i]));
  ct_buf_init(&next);

  /* the whole answer in one page */
  nall = page(q, tasks, NULL, 0, 64, all, &next, &count, &e);
  if (nall < 0) die("a first page was refused", e.message);
  if (count != matches || (size_t)nall != matches)
    die("count, matches and the one-page answer disagree", NULL);
  if (next.len != 0) die("a nextLink after the whole answer", next.p);

  /* the same through pages of `top` */
  {
    char *tok = NULL;
    int guard = 0;
    do {
      k = page(q, tasks, tok, 0, top, pg, &next, NULL, &e);
      free(tok);
      tok = NULL;
      if (k < 0) die("a token this query made was refused", e.message);
      for (i = 0; i < (size_t)k; i++) {
        if (got >= (size_t)nall || pg[i] != all[got])
          die("the pages differ from the one-page answer", NULL);
        got++;
      }
      if (next.len) {
        tok = malloc(next.len + 1);
        if (tok == NULL) die("out of memory", NULL);
        memcpy(tok, next.p, next.len + 1);
      }
      if (++guard > 100) die("the pages do not end", NULL);
    } while (tok != NULL);
    if (got != (size_t)nall) die("the pages missed matches", NULL);
  }

  /* $skip: the tail of the one-page answer */
  k = page(q, tasks, NULL, skip, top, pg, &next, NULL, &e);
  if (k < 0) die("a page with $skip was refused", e.message);
  for (i = 0; i < (size_t)k; i++)
    if (skip + i >= (size_t)nall || pg[i] != all[skip + i])
      die("$skip did not give the tail of the answer", NULL);
  if ((size_t)k != (skip >= (size_t)nall ? 0
                    : ((size_t)nall - skip < top ? (size_t)nall - skip
                                                 : top)))
    die("$skip gave the wrong number of items", NULL);

  /* a token from the input, and one of the other collection */
  if (token != NULL) {
    k = page(q, tasks, token, 0, top, pg, &next, NULL, &e);
    if (k < 0) check_refusal(&e);
  }
  k = page(q, tasks, tasks ? "J1~00000000~1" : "T1~00000000~1", 0, top, pg,
           &next, NULL, &e);
  if (k >= 0) die("a token of another collection was taken", NULL);
  check_refusal(&e);

  ct_buf_free(&next);
  ct_query_free(q);
  free(token);
  return 0;
}
