/*
** core_bench.c -- the C core alone, no interpreter: JSON parse, task and
** job creates, lookups, memory per task and a 100,000-user migration,
** on the same inputs as bench/bench.lua; then state that lasts: the
** image of a 1,000,000-task store written and read (ct_snap), saved to
** and opened from an SQLite file (ct_db), and journal rows appended.  Set beside the Lua figures it
** shows how much of each cost is Lua's (the binding and the tables).
**
** Built by `make bench` with the strict warning set and linked with the
** core's objects (csrc/ct_*.c) only.  Usage: core_bench [rounds]
** Times are CPU time (CLOCK_PROCESS_CPUTIME_ID), median of the rounds.
*/
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct_db.h"
#include "ct_json.h"
#include "ct_request.h"
#include "ct_snap.h"
#include "ct_store.h"
#include "ct_util.h"

#define PER_JOB 2000
#define MAX_ROUNDS 31

static int rounds = 7;
static unsigned long long sink;    /* every checksum ends here */

static const char *const NOW = "2025-11-06T09:00:00Z";
static const char *const LUT = "2025-11-06T09:06:34.4773205Z";
static const char *const SSD =
  "microsoft.graph.crossTenantMigrationServiceStatusDetails";
static const char *const TASK_TYPE =
  "#microsoft.graph.crossTenantMigrationTask";

/* ---------- helpers ---------- */

static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (p == NULL) {
    fprintf(stderr, "core_bench: out of memory\n");
    exit(1);
  }
  return p;
}

static void die(const char *what, const ct_err *e) {
  fprintf(stderr, "core_bench: %s: %d %s: %s\n", what, e->status, e->code,
          e->message);
  exit(1);
}

/* resident set size in bytes, from /proc/self/statm */
static long long rss(void) {
  long long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  if (fscanf(f, "%lld %lld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident * (long long)sysconf(_SC_PAGESIZE);
}

/* the same GUIDs as bench/util.lua's U.guid(space, job, n) */
static void guid_text(char out[37], unsigned space, unsigned job,
                      unsigned n) {
  snprintf(out, 37, "%08x-0000-4000-8000-%04x%08x", space, job & 0xffffu,
           n);
}

static char *task_text(const char *id) {
  char *s = xmalloc(512);
  snprintf(s, 512, "{\"@odata.type\":\"%s\",\"id\":\"%s\",\"taskType\":"
           "\"user\",\"lastUpdatedDateTime\":\"%s\",\"currentStatus\":"
           "[{\"@odata.type\":\"%s\",\"service\":\"ODSP\"}]}", TASK_TYPE,
           id, LUT, SSD);
  return s;
}

/* the JSON text of U.job_body(name, space, job, n) */
static char *job_text(const char *name, unsigned space, unsigned job,
                      unsigned n) {
  size_t cap = 512 + (size_t)n * 40, k;
  char *s = xmalloc(cap);
  unsigned i;
  k = (size_t)snprintf(s, cap, "{\"displayName\":\"%s\","
    "\"completeAfterDateTime\":\"%s\",\"exchangeSettings\":{"
    "\"targetDeliveryDomain\":\"fabrikam.onmicrosoft.com\","
    "\"sourceEndpoint\":\"sampleEndpointText\"},\"resourceType\":\"Users\","
    "\"sourceTenantId\":\"12345678-1234-1234-1234-123456789012\","
    "\"workloads\":[\"Teams\",\"Exchange\",\"ODSP\"],\"resources\":[",
    name, NOW);
  for (i = 1; i <= n; i++) {
    char g[37];
    guid_text(g, space, job, i);
    k += (size_t)snprintf(s + k, cap - k, "%s\"%s\"", i > 1 ? "," : "", g);
  }
  snprintf(s + k, cap - k, "]}");
  return s;
}

static const ct_jval *parse(ct_arena *a, const char *text) {
  ct_jval *v;
  ct_jerr je;
  if (ct_json_parse(a, text, strlen(text), &v, &je) != 0) {
    fprintf(stderr, "core_bench: bad JSON: %s\n", je.message);
    exit(1);
  }
  return v;
}

static ct_store *new_store(void) {
  ct_options o;
  ct_time t;
  const char *why;
  memset(&o, 0, sizeof o);
  o.seed = 1;
  o.has_seed = 1;
  ct_time_parse(NOW, strlen(NOW), &t, &why);
  o.now = t.ticks;
  o.strict = 1;
  return ct_store_new(&o);
}

static ct_caller caller;

static ct_job *make_job(ct_store *s, const char *text) {
  ct_arena a;
  ct_err e;
  ct_job *j;
  ct_arena_init(&a);
  j = ct_job_create(s, &caller, parse(&a, text), &e);
  ct_arena_free(&a);
  if (j == NULL) die("ct_job_create", &e);
  return j;
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  long long n;
  if (f == NULL) return -1;
  fseek(f, 0, SEEK_END);
  n = (long long)ftell(f);
  fclose(f);
  return n;
}

/* ---------- the table ---------- */

static void line(const char *what, double ns, const char *extra) {
  printf("| %s | %.0f | %.0f | %s |\n", what, ns, 1e9 / ns, extra);
  fflush(stdout);
}

/* ---------- measures ---------- */

/* ct_json_parse of one text, `n` times a round */
static void bench_parse(const char *what, const char *text, int n) {
  double t[MAX_ROUNDS];
  size_t len = strlen(text);
  int r, i;
  char extra[64];
  for (r = 0; r < rounds; r++) {
    double t0 = cpu();
    for (i = 0; i < n; i++) {
      ct_arena a;
      ct_arena_init(&a);
      sink += parse(&a, text)->len;
      ct_arena_free(&a);
    }
    t[r] = (cpu() - t0) / n * 1e9;
  }
  snprintf(extra, sizeof extra, "%zu bytes: %.0f MB/s", len,
           (double)len / median(t, rounds) * 1e3);
  line(what, median(t, rounds), extra);
}

/* ct_task_create in 10 jobs of 1 user, 1,999 each; `preparsed`: the
   trees are made before the clock starts */
static void bench_task_create(int preparsed) {
  enum { NJOBS = 10, PER = PER_JOB - 1, N = NJOBS * PER };
  static char *texts[N], *jobs[NJOBS];
  double t[MAX_ROUNDS];
  int r, i, k;
  for (k = 0; k < NJOBS; k++) {
    char name[64], g[37];
    snprintf(name, sizeof name, "create_task %d", k + 1);
    jobs[k] = job_text(name, 0x10000000u, (unsigned)k + 1, 1);
    for (i = 0; i < PER; i++) {
      guid_text(g, 0x11000000u, (unsigned)k + 1, (unsigned)i + 1);
      texts[k * PER + i] = task_text(g);
    }
  }
  for (r = 0; r < rounds; r++) {
    ct_store *s = new_store();
    ct_job *j[NJOBS];
    ct_arena all;
    const ct_jval **trees = xmalloc(N * sizeof *trees);
    double t0;
    ct_arena_init(&all);
    for (k = 0; k < NJOBS; k++) j[k] = make_job(s, jobs[k]);
    if (preparsed)
      for (i = 0; i < N; i++) trees[i] = parse(&all, texts[i]);
    t0 = cpu();
    for (i = 0; i < N; i++) {
      ct_err e;
      ct_task *task;
      if (preparsed) {
        task = ct_task_create(s, j[i / PER], trees[i], &e);
      } else {
        ct_arena a;
        ct_arena_init(&a);
        task = ct_task_create(s, j[i / PER], parse(&a, texts[i]), &e);
        ct_arena_free(&a);
      }
      if (task == NULL) die("ct_task_create", &e);
      sink += task->n + task->id.b[15];
    }
    t[r] = (cpu() - t0) / N * 1e9;
    ct_arena_free(&all);
    free(trees);
    ct_store_free(s);
  }
  line(preparsed ? "ct_task_create (tree made before)"
                 : "ct_json_parse + ct_task_create (seed text)",
       median(t, rounds), "19,990 a round");
  for (i = 0; i < N; i++) free(texts[i]);
  for (k = 0; k < NJOBS; k++) free(jobs[k]);
}

/*
** The core's request path alone, JSON text in, JSON text out:
** ct_request on POST .../users with the seed task text (10 jobs, 1,999
** each), against its floor: ct_json_parse of the same request text plus
** the writer on the response the path gave (parsed before the clock).
** Prints both and their ratio: the HTTP server's ceiling.
*/
static void bench_request(void) {
  enum { NJOBS = 10, PER = PER_JOB - 1, N = NJOBS * PER };
  static char *texts[N], *jobs[NJOBS], *urls[NJOBS];
  static char *answers[N];
  double tm[MAX_ROUNDS], tf[MAX_ROUNDS], m, f;
  int r, i, k;
  char extra[96];
  for (k = 0; k < NJOBS; k++) {
    char name[64], g[37];
    snprintf(name, sizeof name, "request %d", k + 1);
    jobs[k] = job_text(name, 0x20000000u, (unsigned)k + 1, 1);
    for (i = 0; i < PER; i++) {
      guid_text(g, 0x21000000u, (unsigned)k + 1, (unsigned)i + 1);
      texts[k * PER + i] = task_text(g);
    }
  }
  for (r = 0; r < rounds; r++) {
    ct_store *s = new_store();
    ct_http_response res;
    ct_http_request req;
    double t0;
    for (k = 0; k < NJOBS; k++) {
      char id[37];
      ct_guid_format(&make_job(s, jobs[k])->id, id);
      if (urls[k] == NULL) urls[k] = xmalloc(128);
      snprintf(urls[k], 128, "/beta/solutions/migrations/"
               "crossTenantMigrationJobs/%s/users", id);
    }
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.method_len = 4;
    req.body_kind = CT_BODY_TEXT;
    req.default_caller = &caller;
    ct_http_response_init(&res);
    t0 = cpu();
    for (i = 0; i < N; i++) {
      req.target = urls[i / PER];
      req.target_len = strlen(req.target);
      req.body = texts[i];
      req.body_len = strlen(texts[i]);
      ct_http_response_reset(&res);
      if (ct_request(s, &req, &res) != 201) {
        fprintf(stderr, "core_bench: request gave %d: %s\n", res.status,
                res.body.p ? res.body.p : "");
        exit(1);
      }
      sink += res.body.len;
      if (r == 0) {
        answers[i] = xmalloc(res.body.len + 1);
        memcpy(answers[i], res.body.p, res.body.len + 1);
      }
    }
    tm[r] = (cpu() - t0) / N * 1e9;
    ct_http_response_free(&res);
    ct_store_free(s);
  }
  for (r = 0; r < rounds; r++) {
    ct_arena all;
    const ct_jval **trees = xmalloc(N * sizeof *trees);
    ct_buf out;
    double t0;
    ct_arena_init(&all);
    ct_buf_init(&out);
    for (i = 0; i < N; i++) trees[i] = parse(&all, answers[i]);
    t0 = cpu();
    for (i = 0; i < N; i++) {
      ct_arena a;
      ct_arena_init(&a);
      sink += parse(&a, texts[i])->len;
      ct_arena_free(&a);
      out.len = 0;
      ct_buf_json_tree(&out, trees[i]);  /* the floor's writer */
      sink += out.len;
    }
    tf[r] = (cpu() - t0) / N * 1e9;
    ct_buf_free(&out);
    ct_arena_free(&all);
    free(trees);
  }
  m = median(tm, rounds);
  f = median(tf, rounds);
  line("ct_json_parse + the writer, same texts (floor)", f, "");
  snprintf(extra, sizeof extra, "%.2fx its floor", m / f);
  line("ct_request POST .../users, text in, text out", m, extra);
  for (i = 0; i < N; i++) {
    free(texts[i]);
    free(answers[i]);
  }
  for (k = 0; k < NJOBS; k++) {
    free(jobs[k]);
    free(urls[k]);
  }
}

static void bench_job_create(int preparsed) {
  enum { NJOBS = 10 };
  char *texts[NJOBS];
  double t[MAX_ROUNDS];
  int r, k;
  for (k = 0; k < NJOBS; k++) {
    char name[64];
    snprintf(name, sizeof name, "create_job %d", k + 1);
    texts[k] = job_text(name, 0x50000000u, (unsigned)k + 1, PER_JOB);
  }
  for (r = 0; r < rounds; r++) {
    ct_store *s = new_store();
    ct_arena all;
    const ct_jval *trees[NJOBS];
    double t0;
    ct_arena_init(&all);
    if (preparsed)
      for (k = 0; k < NJOBS; k++) trees[k] = parse(&all, texts[k]);
    t0 = cpu();
    for (k = 0; k < NJOBS; k++) {
      ct_job *j;
      ct_err e;
      if (preparsed) {
        j = ct_job_create(s, &caller, trees[k], &e);
        if (j == NULL) die("ct_job_create", &e);
      } else {
        j = make_job(s, texts[k]);
      }
      sink += j->ntasks;
    }
    t[r] = (cpu() - t0) / NJOBS * 1e9;
    ct_arena_free(&all);
    ct_store_free(s);
  }
  line(preparsed ? "ct_job_create, 2,000 users (tree made before)"
                 : "ct_json_parse + ct_job_create, 2,000 users",
       median(t, rounds), "10 a round");
  for (k = 0; k < NJOBS; k++) free(texts[k]);
}

/* a store of njobs x per tasks; its job ids as text in ids[] */
static ct_store *big_store(int njobs, int per, unsigned space,
                           char (*ids)[37]) {
  ct_store *s = new_store();
  int k;
  for (k = 0; k < njobs; k++) {
    char name[64], *text;
    ct_job *j;
    snprintf(name, sizeof name, "big %d", k + 1);
    text = job_text(name, space, (unsigned)k + 1, (unsigned)per);
    j = make_job(s, text);
    free(text);
    ct_guid_format(&j->id, ids[k]);
  }
  return s;
}

/* ct_job_find + ct_task_find by id text, random pairs */
static double lookups(ct_store *s, int njobs, int per, unsigned space,
                      char (*ids)[37]) {
  enum { M = 200000 };
  char (*jk)[37] = xmalloc(M * sizeof *jk);
  char (*tk)[37] = xmalloc(M * sizeof *tk);
  double t[MAX_ROUNDS];
  int r, i;
  unsigned x = 42;
  for (i = 0; i < M; i++) {
    int k, n;
    x = x * 1103515245u + 12345u;
    k = (int)((x >> 8) % (unsigned)njobs);
    x = x * 1103515245u + 12345u;
    n = (int)((x >> 8) % (unsigned)per);
    memcpy(jk[i], ids[k], 37);
    guid_text(tk[i], space, (unsigned)k + 1, (unsigned)n + 1);
  }
  for (r = 0; r < rounds; r++) {
    double t0 = cpu();
    for (i = 0; i < M; i++) {
      ct_err e;
      ct_job *j = ct_job_find(s, &caller, jk[i], 36, &e);
      ct_task *task = j ? ct_task_find(j, tk[i], 36, &e) : NULL;
      if (task == NULL) die("lookup", &e);
      sink += task->st[0] + task->id.b[15];
    }
    t[r] = (cpu() - t0) / M * 1e9;
  }
  free(jk);
  free(tk);
  return median(t, rounds);
}

static unsigned long long nevents;
static void count_job(void *ud, const ct_job *j, int old, int new_) {
  (void)ud; (void)j; (void)old; (void)new_;
  nevents++;
}
static void count_task(void *ud, const ct_job *j, const ct_task *t,
                       int service, int old, int new_) {
  (void)ud; (void)j; (void)t; (void)service; (void)old; (void)new_;
  nevents++;
}

static void bench_migration(void) {
  enum { NJOBS = 50 };
  double t[MAX_ROUNDS], ev = 0;
  int r, k, R = rounds < 3 ? rounds : 3;
  for (r = 0; r < R; r++) {
    ct_store *s = new_store();
    ct_job *j[NJOBS];
    ct_err e;
    double t0;
    for (k = 0; k < NJOBS; k++) {
      char name[64], *text;
      snprintf(name, sizeof name, "migrate %d", k + 1);
      text = job_text(name, 0x60000000u, (unsigned)k + 1, PER_JOB);
      j[k] = make_job(s, text);
      free(text);
      if (ct_job_validate(s, j[k], &e) != 0) die("validate", &e);
    }
    ct_store_advance(s, s->now + 3600 * CT_TICKS_PER_SEC);
    for (k = 0; k < NJOBS; k++)
      if (ct_job_migrate(s, j[k], &e) != 0) die("migrate", &e);
    s->on_job = count_job;
    s->on_task = count_task;
    nevents = 0;
    t0 = cpu();
    ct_store_advance(s, s->now + 6 * 3600 * CT_TICKS_PER_SEC);
    t[r] = cpu() - t0;
    for (k = 0; k < NJOBS; k++)
      if (j[k]->status != CT_JS_COMPLETED) {
        fprintf(stderr, "core_bench: job not completed\n");
        exit(1);
      }
    ev = (double)nevents;
    sink += nevents;
    ct_store_free(s);
  }
  {
    double m = median(t, R);
    char extra[96];
    snprintf(extra, sizeof extra, "%.3f s, %.0f events, %.1f M events/s",
             m, ev, ev / m / 1e6);
    line("ct_store_advance, 100,000 users migrate -> completed",
         m / ev * 1e9, extra);
  }
}

/*
** State that lasts, on the 1,000,000-task store: ct_snap_write and
** ct_snap_read (CPU time, median of the rounds; the floor is a memcpy
** of the image, the least any writer of those bytes does), the image
** and the SQLite file per task beside the store's memory per task, and
** journal rows (one createTask row each) appended with a commit each
** and 100 to a commit.
*/
static void bench_state(ct_store *big, double mem_per_task) {
  double tw[MAX_ROUNDS], tr[MAX_ROUNDS], tm[MAX_ROUNDS], t0, ts, to;
  unsigned char *img = NULL, *copy;
  size_t n = 0;
  char msg[300], path[64];
  double ntasks = (double)big->ntasks_total;
  int r;
  for (r = 0; r < rounds; r++) {
    free(img);
    t0 = cpu();
    if (ct_snap_write(big, &img, &n) != 0) {
      fprintf(stderr, "core_bench: snapshot: out of memory\n");
      exit(1);
    }
    tw[r] = cpu() - t0;
  }
  copy = xmalloc(n);
  for (r = 0; r < rounds; r++) {
    ct_store *s;
    t0 = cpu();
    memcpy(copy, img, n);
    tm[r] = cpu() - t0;
    sink += copy[n / 2];
    t0 = cpu();
    s = ct_snap_read(img, n, msg, sizeof msg);
    tr[r] = cpu() - t0;
    if (s == NULL) {
      fprintf(stderr, "core_bench: restore: %s\n", msg);
      exit(1);
    }
    sink += s->ntasks_total;
    ct_store_free(s);
  }
  free(copy);
  snprintf(path, sizeof path, "/tmp/ct_bench_%ld.db", (long)getpid());
  remove(path);
  t0 = wall();
  if (ct_db_save(path, big, msg, sizeof msg) != 0) {
    fprintf(stderr, "core_bench: save: %s\n", msg);
    exit(1);
  }
  ts = wall() - t0;
  {
    ct_store *s = NULL;
    ct_db *db;
    t0 = wall();
    db = ct_db_open(path, NULL, 0, &s, msg, sizeof msg);
    to = wall() - t0;
    if (db == NULL || s == NULL) {
      fprintf(stderr, "core_bench: open: %s\n", msg);
      exit(1);
    }
    ct_db_close(db);
    ct_store_free(s);
  }
  printf("\n| state that lasts, %.0f tasks | s | floor (memcpy) s | "
         "target |\n|---|--:|--:|---|\n", ntasks);
  printf("| ct_snap_write (graph:snapshot) | %.3f | %.3f | <= 1 s |\n",
         median(tw, rounds), median(tm, rounds));
  printf("| ct_snap_read (crosstenant.restore) | %.3f | %.3f | <= 1 s |\n",
         median(tr, rounds), median(tm, rounds));
  printf("| ct_db_save (graph:save), once, wall time | %.3f | | |\n", ts);
  printf("| ct_db_open of that file (crosstenant.open), once, wall time "
         "| %.3f | | |\n", to);
  printf("\n| bytes per task | B | / memory |\n|---|--:|--:|\n");
  printf("| store in memory (RSS growth) | %.1f | 1.00 |\n", mem_per_task);
  printf("| image (graph:snapshot) | %.1f | %.2f |\n", (double)n / ntasks,
         (double)n / ntasks / mem_per_task);
  printf("| SQLite file (graph:save) | %.1f | %.2f (target <= 1.5) |\n",
         (double)file_size(path) / ntasks,
         (double)file_size(path) / ntasks / mem_per_task);
  remove(path);
  free(img);

  /* journal rows: a small store on a file, one createTask row each */
  {
    enum { ROWS = 2000 };
    ct_store *s = new_store(), *none = NULL;
    ct_db *db;
    ct_buf row;
    double one, batched;
    int i;
    ct_buf_init(&row);
    ct_buf_adds(&row, "{\"op\":\"createTask\",\"tenant\":\"87654321-4321-"
                "4321-4321-210987654321\",\"upn\":\"\",\"job\":\"a5981dc6-"
                "8ca0-4098-84fd-3d5b1282a191\",\"body\":{\"taskType\":\"user"
                "\",\"lastUpdatedDateTime\":\"2025-11-06T09:06:34Z\"},"
                "\"requests\":12}");
    remove(path);
    db = ct_db_open(path, s, 0, &none, msg, sizeof msg);
    if (db == NULL || row.oom) {
      fprintf(stderr, "core_bench: journal: %s\n", msg);
      exit(1);
    }
    t0 = wall();
    for (i = 0; i < ROWS; i++)
      if (ct_db_append(db, row.p, row.len, msg, sizeof msg) != 0) {
        fprintf(stderr, "core_bench: append: %s\n", msg);
        exit(1);
      }
    one = (wall() - t0) / ROWS;
    t0 = wall();
    for (i = 0; i < ROWS; i++) {
      if (i % 100 == 0) ct_db_begin(db, msg, sizeof msg);
      ct_db_append(db, row.p, row.len, msg, sizeof msg);
      if (i % 100 == 99) ct_db_commit(db, msg, sizeof msg);
    }
    batched = (wall() - t0) / ROWS;
    printf("\n| journal row (ct_db_append), wall time | us/row |\n"
           "|---|--:|\n");
    printf("| a commit each (synchronous=NORMAL) | %.1f |\n", one * 1e6);
    printf("| 100 rows to a commit | %.1f |\n", batched * 1e6);
    ct_db_close(db);
    ct_buf_free(&row);
    ct_store_free(s);
    remove(path);
  }
}

int main(int argc, char **argv) {
  long long rss0, rss_big;
  char (*bigids)[37] = xmalloc(500 * sizeof *bigids);
  char smallid[1][37];
  ct_store *big, *small;
  double l1m, l1k;
  char extra[96];

  if (argc > 1) rounds = atoi(argv[1]);
  if (rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "usage: core_bench [rounds 1..%d]\n", MAX_ROUNDS);
    return 2;
  }
  ct_guid_parse("87654321-4321-4321-4321-210987654321", 36, &caller.tenant);
  caller.upn = "admin@fabrikam.onmicrosoft.com";
  caller.nupn = strlen(caller.upn);

  printf("\ncrosstenant core_bench (C only): %d rounds, median CPU time\n\n",
         rounds);
  printf("| operation | ns/op | ops/s | |\n|---|--:|--:|---|\n");

  /* memory first, while the heap is fresh */
  rss0 = rss();
  big = big_store(500, PER_JOB, 0x41000000u, bigids);
  rss_big = rss() - rss0;
  snprintf(extra, sizeof extra, "%.1f B/task (RSS growth)",
           (double)rss_big / (500.0 * PER_JOB));
  small = big_store(1, 1000, 0x40000000u, smallid);
  l1k = lookups(small, 1, 1000, 0x40000000u, smallid);
  l1m = lookups(big, 500, PER_JOB, 0x41000000u, bigids);
  line("ct_job_find + ct_task_find, 1,000 tasks", l1k, "");
  line("ct_job_find + ct_task_find, 1,000,000 tasks", l1m, extra);
  bench_state(big, (double)(rss_big) / (500.0 * PER_JOB));
  ct_store_free(big);
  ct_store_free(small);
  free(bigids);

  {
    char g[37], *t, *j;
    guid_text(g, 0x11000000u, 1, 1);
    t = task_text(g);
    j = job_text("parse", 0x50000000u, 1, PER_JOB);
    bench_parse("ct_json_parse, seed task text", t, 200000);
    bench_parse("ct_json_parse, job text with 2,000 users", j, 200);
    free(t);
    free(j);
  }
  bench_task_create(0);
  bench_task_create(1);
  bench_request();
  bench_job_create(0);
  bench_job_create(1);
  bench_migration();
  printf("\nchecksum %llu\n", sink);
  return 0;
}
