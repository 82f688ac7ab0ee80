/*
** ct_store.c -- the store and the rules of every job and task operation.
** Every operation validates everything first and allocates everything it
** needs before it changes anything, so a refused call (or one that runs
** out of memory) leaves the store exactly as it was.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct_change.h"
#include "ct_life.h"
#include "ct_schema.h"
#include "ct_store.h"

#define MAX_USERS CT_JOB_MAX_USERS

/* property names, from the schema's one list of each type */
#define JOBP(i) ct_job_props[CT_JOB_##i].name
#define TASKP(i) ct_task_props[CT_TASK_##i].name
#define STATUSP(i) ct_status_props[CT_STATUS_##i].name
#define ERRORP(i) ct_error_props[CT_ERROR_##i].name
#define EXCHANGEP(i) ct_exchange_props[CT_EXCHANGE_##i].name

static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* a[0..n) and b[0..m) equal, ASCII case-insensitively */
static int ieqn(const char *a, size_t n, const char *b, size_t m) {
  size_t i;
  if (m != n) return 0;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
  return 1;
}

/* ---------- errors ---------- */

void ct_err_start(ct_err *e, int status, const char *code,
                  const char *inner, ct_msg *m) {
  e->status = status;
  e->code = code;
  e->inner = inner;
  ct_msg_init(m, e->message, sizeof e->message);
}

void ct_err_vset(ct_err *e, int status, const char *code, const char *inner,
                 const char *fmt, va_list ap) {
  ct_msg m;
  ct_err_start(e, status, code, inner, &m);
  ct_msg_vaddf(&m, fmt, ap);
}

void ct_err_set(ct_err *e, int status, const char *code, const char *inner,
                const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ct_err_vset(e, status, code, inner, fmt, ap);
  va_end(ap);
}

static void *oom(ct_err *e) {
  ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
  return NULL;
}

/* a stored copy of s[0..n) (which may hold NULs); 0, or -1 when out
   of memory (d is then absent) */
static int sdup(ct_str *d, const char *s, size_t n) {
  d->p = ct_malloc(n + 1);
  d->n = d->p != NULL ? n : 0;
  if (d->p == NULL) return -1;
  if (n) memcpy(d->p, s, n);
  d->p[n] = '\0';
  return 0;
}

static void sfree(ct_str *d) {
  free(d->p);
  d->p = NULL;
  d->n = 0;
}

/* ---------- random numbers: splitmix64 seeding, xorshift128+ ---------- */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rng_next(ct_store *s) {
  uint64_t a = s->rng[0], b = s->rng[1];
  s->rng[0] = b;
  a ^= a << 23;
  s->rng[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
  return s->rng[1] + b;
}

double ct_store_random(ct_store *s) {
  return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

double ct_store_sticky_draw(const ct_store *s, const ct_guid *user,
                            int service, int phase) {
  /* splitmix64 over the seed, then each 8 bytes of the user's id, the
     service and the phase: a hash, not the ids' generator, so drawing
     never changes the ids the store makes */
  uint64_t x = s->rng_seed ^ 0x6a09e667f3bcc909ULL, a = 0, b = 0, h;
  int i;
  for (i = 0; i < 8; i++) {
    a |= (uint64_t)user->b[i] << (8 * i);
    b |= (uint64_t)user->b[8 + i] << (8 * i);
  }
  h = splitmix(&x);
  x = h ^ a;
  h = splitmix(&x);
  x = h ^ b;
  h = splitmix(&x);
  x = h ^ ((uint64_t)(unsigned)service << 8 | (uint64_t)(unsigned)phase);
  h = splitmix(&x);
  return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static void guid_from(ct_guid *g, uint64_t a, uint64_t b) {
  int i;
  for (i = 0; i < 8; i++) {
    g->b[i] = (uint8_t)(a >> (8 * i));
    g->b[8 + i] = (uint8_t)(b >> (8 * i));
  }
  g->b[6] = (uint8_t)((g->b[6] & 0x0f) | 0x40);   /* version 4 */
  g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}

void ct_store_newguid(ct_store *s, ct_guid *g) {
  uint64_t a = rng_next(s);
  guid_from(g, a, rng_next(s));
}

/* The request ids: the (2n+1)th and (2n+2)th draws of a splitmix64
   stream whose start is the seed mixed by splitmix64 first, so request n
   costs no walk through the n before it.  Mixing the seed keeps the
   streams of nearby seeds apart: a start of seed ^ salt, stepped by 2,
   made seed 7's ids seed 1's shifted by one request. */
void ct_store_request_id(ct_store *s, ct_guid *g) {
  uint64_t x = s->rng_seed ^ 0x5bd1e9955bd1e995ULL, a;
  x = splitmix(&x) + 2 * s->nrequests++ * 0x9e3779b97f4a7c15ULL;
  a = splitmix(&x);
  guid_from(g, a, splitmix(&x));
}

/* ---------- the store ---------- */

void ct_store_default_timings(ct_timings *t) {
  t->validate_submitted = 60;        /* queued */
  t->validate_processing = 120;      /* setting up */
  t->validate_in_progress = 600;     /* prerequisite checks */
  t->processing = 300;               /* setting up the migration */
  t->sync = 4 * 3600.0;              /* initial mailbox sync */
  t->cutover = 1800;                 /* finalizing and moving content */
  t->cancel = 60;
  t->delete_pending = 3600;
  t->deleted = 3600;
  t->validation_expiry = 7 * 86400.0;
}

const char *const ct_timing_names[CT_TIMING__COUNT + 1] = {
  "validate_submitted", "validate_processing", "validate_in_progress",
  "processing", "sync", "cutover", "cancel", "delete_pending", "deleted",
  "validation_expiry", NULL
};

double *ct_timing_at(ct_timings *t, int i) {
  static const size_t at[CT_TIMING__COUNT] = {
    offsetof(ct_timings, validate_submitted),
    offsetof(ct_timings, validate_processing),
    offsetof(ct_timings, validate_in_progress),
    offsetof(ct_timings, processing), offsetof(ct_timings, sync),
    offsetof(ct_timings, cutover), offsetof(ct_timings, cancel),
    offsetof(ct_timings, delete_pending), offsetof(ct_timings, deleted),
    offsetof(ct_timings, validation_expiry)
  };
  if (i < 0 || i >= CT_TIMING__COUNT) return NULL;
  return (double *)(void *)((char *)t + at[i]);
}

double ct_timing_value(const ct_timings *t, int i) {
  ct_timings c = *t;
  double *v = ct_timing_at(&c, i);
  return v != NULL ? *v : 0;
}

ct_store *ct_store_new(const ct_options *o) {
  ct_store *s = ct_calloc(1, sizeof *s);
  uint64_t x;
  if (s == NULL) return NULL;
  ct_gmap_init(&s->tenants);
  ct_gmap_init(&s->faults);
  x = o->has_seed ? o->seed
                  : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32) ^
                      (uint64_t)(uintptr_t)s;
  s->rng_seed = x;
  s->rng[0] = splitmix(&x);
  s->rng[1] = splitmix(&x);
  s->now = o->now;
  s->strict = o->strict;
  s->failure_rate[0] = o->failure_rate[0];
  s->failure_rate[1] = o->failure_rate[1];
  s->sticky = o->sticky;
  s->nextseq = 1;
  ct_store_default_timings(&s->timings);
  ct_fault_init(&s->faultstate, s->rng_seed);
  return s;
}

static void free_extra(ct_task_extra *x) {
  int i;
  size_t k;
  if (x == NULL) return;
  sfree(&x->taskType);
  for (i = 0; i < CT_SVC__COUNT; i++) {
    sfree(&x->message[i]);
    for (k = 0; k < x->nerrors[i]; k++) {
      sfree(&x->errors[i][k].code);
      sfree(&x->errors[i][k].message);
    }
    free(x->errors[i]);
  }
  free(x);
}

static void free_job(ct_job *j) {
  size_t i;
  for (i = 0; i < j->ntasks; i++) free_extra(j->tasks[i].extra);
  free(j->tasks);
  ct_tmap_free(&j->index);
  sfree(&j->displayName);
  sfree(&j->createdBy);
  sfree(&j->resourceType);
  sfree(&j->sourceEndpoint);
  sfree(&j->targetDeliveryDomain);
  free(j);
}

struct ct_name_entry {
  struct ct_name_entry *next;
  uint64_t hash;
  ct_job *job;
};

typedef struct ct_fault_rec {
  struct ct_fault_rec *next;
  int service, phase, status;
  ct_str code, message;
  uint64_t seq;                 /* script order, for ct_store_faults */
} ct_fault_rec;

static void free_tenant(ct_tenant *t) {
  size_t i;
  for (i = 0; i < t->njobs; i++) free_job(t->jobs[i]);
  free(t->jobs);
  for (i = 0; i < t->capnames; i++) {
    struct ct_name_entry *n = t->names[i];
    while (n != NULL) {
      struct ct_name_entry *next = n->next;
      free(n);
      n = next;
    }
  }
  free(t->names);
  ct_gmap_free(&t->byid);
  ct_umap_free(&t->users);
  free(t);
}

void ct_store_free(ct_store *s) {
  size_t i;
  if (s == NULL) return;
  for (i = 0; i < s->tenants.cap; i++)
    if (s->tenants.used[i]) free_tenant((ct_tenant *)s->tenants.slots[i].val);
  ct_gmap_free(&s->tenants);
  for (i = 0; i < s->faults.cap; i++) {
    ct_fault_rec *f;
    if (!s->faults.used[i]) continue;
    f = (ct_fault_rec *)s->faults.slots[i].val;
    while (f != NULL) {
      ct_fault_rec *next = f->next;
      sfree(&f->code);
      sfree(&f->message);
      free(f);
      f = next;
    }
  }
  ct_gmap_free(&s->faults);
  ct_fault_free(&s->faultstate);
  free(s->heap);
  free(s->default_user);
  free(s);
}

int ct_store_set_defaults(ct_store *s, const ct_guid *tenant,
                          const char *user, int require_token) {
  size_t n = strlen(user);
  char *u = ct_malloc(n + 1);
  if (u == NULL) return -1;
  memcpy(u, user, n + 1);
  free(s->default_user);
  s->default_user = u;
  s->default_tenant = *tenant;
  s->require_token = require_token != 0;
  return 0;
}

/* the caller's tenant; created on first write when `create` */
static ct_tenant *tenant_of(ct_store *s, const ct_caller *c, int create) {
  uintptr_t v;
  ct_tenant *t;
  if (ct_gmap_get(&s->tenants, &c->tenant, &v)) return (ct_tenant *)v;
  if (!create) return NULL;
  t = ct_calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->id = c->tenant;
  ct_gmap_init(&t->byid);
  ct_umap_init(&t->users);
  if (ct_gmap_put(&s->tenants, &c->tenant, (uintptr_t)t) != 0) {
    free(t);
    return NULL;
  }
  return t;
}

/* room in the tenant's job list for one more */
static int jobs_reserve(ct_tenant *t) {
  size_t cap;
  ct_job **p;
  if (t->njobs < t->capjobs) return 0;
  cap = t->capjobs ? t->capjobs * 2 : 8;
  p = ct_realloc(t->jobs, cap * sizeof *p);
  if (p == NULL) return -1;
  t->jobs = p;
  t->capjobs = cap;
  return 0;
}

/* ---------- display names: ASCII case-insensitive chained hash ---------- */

static uint64_t name_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (uint64_t)lower((unsigned char)s[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

static ct_job *name_get(const ct_tenant *t, const char *s, size_t n) {
  uint64_t h;
  struct ct_name_entry *e;
  if (t->capnames == 0) return NULL;
  h = name_hash(s, n);
  for (e = t->names[h & (t->capnames - 1)]; e != NULL; e = e->next)
    if (e->hash == h &&
        ieqn(s, n, e->job->displayName.p, e->job->displayName.n))
      return e->job;
  return NULL;
}

/* grow the bucket array so one more name keeps the load under 1 */
static int name_reserve(ct_tenant *t) {
  size_t cap, i;
  struct ct_name_entry **b;
  if (t->nnames + 1 <= t->capnames) return 0;
  cap = t->capnames ? t->capnames * 2 : 16;
  b = ct_calloc(cap, sizeof *b);
  if (b == NULL) return -1;
  for (i = 0; i < t->capnames; i++) {
    struct ct_name_entry *e = t->names[i];
    while (e != NULL) {
      struct ct_name_entry *next = e->next;
      e->next = b[e->hash & (cap - 1)];
      b[e->hash & (cap - 1)] = e;
      e = next;
    }
  }
  free(t->names);
  t->names = b;
  t->capnames = cap;
  return 0;
}

static void name_link(ct_tenant *t, struct ct_name_entry *e, ct_job *j) {
  e->job = j;
  e->hash = name_hash(j->displayName.p, j->displayName.n);
  e->next = t->names[e->hash & (t->capnames - 1)];
  t->names[e->hash & (t->capnames - 1)] = e;
  t->nnames++;
}

static void name_unlink(ct_tenant *t, ct_job *j) {
  uint64_t h = name_hash(j->displayName.p, j->displayName.n);
  struct ct_name_entry **p = &t->names[h & (t->capnames - 1)];
  for (; *p != NULL; p = &(*p)->next) {
    if ((*p)->job == j) {
      struct ct_name_entry *e = *p;
      *p = e->next;
      free(e);
      t->nnames--;
      return;
    }
  }
}

/* ---------- finding jobs and tasks ---------- */

/* a value as a message shows it: 80 bytes at most, then "..." */
static void quote(char *out, size_t cap, const char *s, size_t n) {
  ct_msg m;
  ct_msg_init(&m, out, cap);
  ct_msg_quote(&m, s, n, 80, 1);
}

static void *job_404(const char *key, size_t n, ct_err *e) {
  char q[100];
  quote(q, sizeof q, key, n);
  ct_err_set(e, 404, "itemNotFound", NULL,
             "crossTenantMigrationJob '%s' was not found.", q);
  return NULL;
}

ct_job *ct_job_find(ct_store *s, const ct_caller *c, const char *key,
                    size_t n, ct_err *e) {
  ct_tenant *t = tenant_of(s, c, 0);
  ct_guid g;
  uintptr_t v;
  ct_job *j;
  if (t == NULL) return job_404(key, n, e);
  if (ct_guid_parse(key, n, &g) == 0 && ct_gmap_get(&t->byid, &g, &v))
    return (ct_job *)v;
  j = name_get(t, key, n);
  return j != NULL ? j : job_404(key, n, e);
}

ct_job *ct_job_find_name(ct_store *s, const ct_caller *c, const char *name,
                         size_t n, ct_err *e) {
  ct_tenant *t = tenant_of(s, c, 0);
  ct_job *j = t != NULL ? name_get(t, name, n) : NULL;
  return j != NULL ? j : job_404(name, n, e);
}

ct_task *ct_task_find(ct_job *j, const char *key, size_t n, ct_err *e) {
  ct_guid g;
  size_t v;
  char q[100], id[37];
  if (ct_guid_parse(key, n, &g) == 0 &&
      ct_tmap_get(&j->index, j->tasks, &g, &v))
    return &j->tasks[v];
  quote(q, sizeof q, key, n);
  ct_guid_format(&j->id, id);
  ct_err_set(e, 404, "itemNotFound", NULL,
             "crossTenantMigrationTask '%s' was not found in job '%s'.", q,
             id);
  return NULL;
}

const char *ct_task_type(const ct_task *t, size_t *n) {
  if (t->extra && t->extra->taskType.p) {
    *n = t->extra->taskType.n;
    return t->extra->taskType.p;
  }
  *n = 4;
  return "user";
}

const char *ct_task_message(const ct_task *t, int i, size_t *n) {
  if (t->extra && t->extra->message[i].p) {
    *n = t->extra->message[i].n;
    return t->extra->message[i].p;
  }
  *n = 0;
  return "";
}

/* ---------- reading a checked body ---------- */

static int is_blank(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return 0;
  return 1;
}

static size_t items_len(const ct_jval *v) {
  return (v != NULL && v->kind == CT_JARR) ? v->len : 0;
}

/* the user `g` is held by an active job other than `self`: 409; the
   message starts with "resources[<index>]: " when index >= 0 */
static int user_busy(const ct_tenant *t, const ct_guid *g, const ct_job *self,
                     long index, ct_err *e) {
  ct_job *v;
  char id[37], jid[37];
  ct_msg m;
  if (!ct_umap_get(&t->users, g, &v) || v == self) return 0;
  ct_guid_format(g, id);
  ct_guid_format(&v->id, jid);
  ct_err_start(e, 409, "notAllowed", NULL, &m);
  if (index >= 0) ct_msg_addf(&m, "resources[%ld]: ", index);
  ct_msg_addf(&m, "User '%s' is already in active job '%s'; a user can be "
              "in only one active job at a time.", id, jid);
  return -1;
}

/* ---------- create a job ---------- */

static int has_workload(const uint8_t *wls, size_t n, int w) {
  size_t i;
  for (i = 0; i < n; i++)
    if (wls[i] == w) return 1;
  return 0;
}

/* a task's entries for a job's workloads, in the docs' order: ODSP,
   Meeting, Teams, Exchange (the Teams workload yields Meeting and Teams) */
static void default_entries(const ct_job *j, ct_task *k) {
  static const uint8_t need[CT_SVC__COUNT] = {
    CT_WL_ODSP, CT_WL_TEAMS, CT_WL_TEAMS, CT_WL_EXCHANGE
  };
  int w;
  k->n = 0;
  for (w = 0; w < CT_SVC__COUNT; w++) {
    if (has_workload(j->workloads, j->nworkloads, need[w])) {
      k->svc[k->n] = (uint8_t)w;
      k->st[k->n] = CT_SS_NOTSTARTED;
      k->n++;
    }
  }
}

/* a create body, read and checked (job_read) */
typedef struct job_in {
  const ct_jval *name, *rt, *res, *ex;
  ct_guid source;
  ct_time when;
  uint8_t wls[CT_WL__COUNT];
  size_t nwl, nres;
} job_in;

static void *refuse_property(ct_err *e, const char *fmt, ...)
  CT_PRINTF(2, 3);
/* 400 invalidRequest / invalidProperty; returns NULL */
static void *refuse_property(ct_err *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ct_err_vset(e, 400, "invalidRequest", "invalidProperty", fmt, ap);
  va_end(ap);
  return NULL;
}

/* workloads: omitted means all three, in order; no repeats.  0 or -1 */
static int read_workloads(const ct_jval *wl, job_in *in, ct_err *e) {
  int seen[CT_WL__COUNT] = { 0, 0, 0 };
  size_t i;
  in->nwl = 0;
  if (wl == NULL || wl->kind == CT_JNULL) {
    for (i = 0; i < CT_WL__COUNT; i++) in->wls[in->nwl++] = (uint8_t)i;
    return 0;
  }
  for (i = 0; i < items_len(wl); i++) {
    const ct_jval *w = &wl->u.items[i];
    int k = ct_workload_find(w->u.s, w->len);
    if (seen[k]) {
      refuse_property(e, "Property 'workloads[%zu]' repeats '%s'.", i,
                      ct_workload_names[k]);
      return -1;
    }
    seen[k] = 1;
    in->wls[in->nwl++] = (uint8_t)k;
  }
  return 0;
}

/*
** Check a create body against the schema and the rules that need no
** store (in this order: the schema, displayName, sourceTenantId,
** workloads, exchangeSettings, resources), and read it into *in.
** 0, or -1 with *e set.
*/
static int job_read(const ct_store *s, const ct_caller *c,
                    const ct_jval *body, job_in *in, ct_err *e) {
  const ct_jval *src, *cad;
  const char *why;
  char tid[37];
  size_t i;
  int has_exchange = 0;
  if (ct_schema_check(&ct_type_job, body, s->strict, CT_CHECK_CREATE, e))
    return -1;
  in->name = ct_json_get(body, JOBP(DISPLAYNAME));
  src = ct_json_get(body, JOBP(SOURCETENANTID));
  cad = ct_json_get(body, JOBP(COMPLETEAFTER));
  in->rt = ct_json_get(body, JOBP(RESOURCETYPE));
  in->res = ct_json_get(body, JOBP(RESOURCES));
  in->ex = ct_json_get(body, JOBP(EXCHANGE));
  if (in->ex != NULL && in->ex->kind == CT_JNULL) in->ex = NULL;
  if (is_blank(in->name->u.s, in->name->len)) {
    refuse_property(e, "Property 'displayName' must not be empty.");
    return -1;
  }
  ct_guid_parse(src->u.s, src->len, &in->source);
  if (ct_guid_eq(&in->source, &c->tenant)) {
    ct_guid_format(&c->tenant, tid);
    refuse_property(e, "Property 'sourceTenantId' must differ from the "
                    "target tenant '%s'.", tid);
    return -1;
  }
  ct_time_parse(cad->u.s, cad->len, &in->when, &why);
  if (read_workloads(ct_json_get(body, JOBP(WORKLOADS)), in, e) != 0)
    return -1;
  for (i = 0; i < in->nwl; i++) has_exchange |= in->wls[i] == CT_WL_EXCHANGE;
  if (has_exchange && in->ex == NULL) {
    refuse_property(e, "Property 'exchangeSettings' is required when the "
                    "Exchange workload is selected.");
    return -1;
  }
  in->nres = items_len(in->res);
  if (in->nres < 1 || in->nres > MAX_USERS) {
    refuse_property(e, "Property 'resources' must hold 1 to %d user ids; "
                    "it holds %zu.", MAX_USERS, in->nres);
    return -1;
  }
  return 0;
}

/*
** The job of a checked body, built off to the side: its tasks (each
** user once, none held by another active job of tenant `t`, which may
** be NULL) and its strings.  Linked nowhere yet.  NULL with *e set.
*/
static ct_job *job_build(const ct_tenant *t, const ct_caller *c,
                         const job_in *in, ct_err *e) {
  ct_job *j = ct_calloc(1, sizeof *j);
  size_t i;
  if (j == NULL) return oom(e);
  ct_tmap_init(&j->index);
  j->tasks = ct_calloc(in->nres, sizeof *j->tasks);
  j->captasks = in->nres;
  if (j->tasks == NULL ||
      ct_tmap_reserve(&j->index, j->tasks, in->nres) != 0)
    goto out_of_memory;
  for (i = 0; i < in->nres; i++) {
    const ct_jval *r = &in->res->u.items[i];
    ct_task *k = &j->tasks[i];
    ct_guid_parse(r->u.s, r->len, &k->id);
    if (ct_tmap_get(&j->index, j->tasks, &k->id, NULL)) {
      char id[37];
      ct_guid_format(&k->id, id);
      refuse_property(e, "Property 'resources[%zu]' repeats '%s'.", i, id);
      goto refused;
    }
    if (t != NULL && user_busy(t, &k->id, NULL, (long)i, e) != 0)
      goto refused;
    ct_tmap_put(&j->index, j->tasks, i);   /* reserved: cannot fail */
  }
  j->ntasks = in->nres;
  if (sdup(&j->displayName, in->name->u.s, in->name->len) != 0 ||
      sdup(&j->createdBy, c->upn, c->nupn) != 0 ||
      sdup(&j->resourceType, in->rt->u.s, in->rt->len) != 0)
    goto out_of_memory;
  if (in->ex != NULL) {
    const ct_jval *se = ct_json_get(in->ex, EXCHANGEP(SOURCEENDPOINT));
    const ct_jval *td = ct_json_get(in->ex, EXCHANGEP(TARGETDELIVERYDOMAIN));
    j->hasExchangeSettings = 1;
    if (sdup(&j->sourceEndpoint, se->u.s, se->len) != 0 ||
        sdup(&j->targetDeliveryDomain, td->u.s, td->len) != 0)
      goto out_of_memory;
  }
  return j;
out_of_memory:
  oom(e);
refused:
  free_job(j);
  return NULL;
}

/*
** Room everywhere a job of `nres` users will be linked -- the caller's
** tenant (made here when new), the schedule, the tenant's maps and job
** list -- and its name entry, so linking cannot fail.  The tenant, or
** NULL when out of memory (*e set; a tenant made here is gone again).
*/
static ct_tenant *job_room(ct_store *s, const ct_caller *c, ct_tenant *t,
                           size_t nres, struct ct_name_entry **ne,
                           ct_err *e) {
  ct_tenant *made = NULL;
  if (t == NULL) t = made = tenant_of(s, c, 1);
  *ne = ct_malloc(sizeof **ne);
  if (t != NULL && *ne != NULL && ct_life_reserve(s) == 0 &&
      ct_gmap_reserve(&t->byid, 1) == 0 &&
      ct_umap_reserve(&t->users, nres) == 0 && name_reserve(t) == 0 &&
      jobs_reserve(t) == 0)
    return t;
  free(*ne);
  *ne = NULL;
  if (made != NULL) {
    ct_gmap_del(&s->tenants, &made->id);
    free_tenant(made);
  }
  return oom(e);
}

/* give the built job its id, fields and tasks' entries, and link it
   into tenant `t` (room made): nothing fails */
static void job_link(ct_store *s, ct_tenant *t, ct_job *j,
                     struct ct_name_entry *ne, const job_in *in) {
  size_t i;
  ct_store_newguid(s, &j->id);
  while (ct_gmap_get(&t->byid, &j->id, NULL)) ct_store_newguid(s, &j->id);
  j->seq = s->nextseq++;
  j->tenant = t;
  j->sourceTenantId = in->source;
  j->completeAfter = in->when;
  j->created = j->updated = ct_life_now(s);
  j->status = CT_JS_SUBMITTED;
  j->jobType = CT_JT_VALIDATE;
  j->message[0] = '\0';
  j->due = -1;
  j->validatedAt = CT_NEVER_VALIDATED;
  j->nworkloads = (uint8_t)in->nwl;
  memcpy(j->workloads, in->wls, in->nwl);
  for (i = 0; i < j->ntasks; i++) {
    ct_task *k = &j->tasks[i];
    k->updated = j->created.ticks;
    k->digits = (uint8_t)j->created.digits;
    default_entries(j, k);
    ct_umap_put(&t->users, j, i);
  }
  t->jobs[t->njobs++] = j;
  ct_gmap_put(&t->byid, &j->id, (uintptr_t)j);
  name_link(t, ne, j);
  s->ntasks_total += j->ntasks;
}

static ct_job *job_create_(ct_store *s, const ct_caller *c,
                           const ct_jval *body, ct_err *e) {
  job_in in;
  ct_tenant *t;
  ct_job *j;
  struct ct_name_entry *ne;
  if (job_read(s, c, body, &in, e) != 0) return NULL;
  t = tenant_of(s, c, 0);
  if (t != NULL && name_get(t, in.name->u.s, in.name->len) != NULL) {
    char q[100];
    quote(q, sizeof q, in.name->u.s, in.name->len);
    ct_err_set(e, 409, "nameAlreadyExists", NULL,
               "A job named '%s' already exists in this tenant.", q);
    return NULL;
  }
  j = job_build(t, c, &in, e);
  if (j == NULL) return NULL;
  t = job_room(s, c, t, in.nres, &ne, e);
  if (t == NULL) {
    free_job(j);
    return NULL;
  }
  job_link(s, t, j, ne, &in);
  return j;
}

/* ---------- update, delete and the job actions ---------- */

/*
** Wrong-status 409s name the statuses the action is allowed from and
** the next step, so a script's author knows what to do (issue 10).
*/
enum ct_action {
  A_VALIDATE, A_MIGRATE, A_CANCEL, A_DELETE, A_PATCH, A_ADDUSER,
  A_CANCELUSER
};

#define RUNNING_STATUSES "submitted, validateSubmitted, validateProcessing, " \
  "validateInProgress, validatePassed, validateFailed, processing or " \
  "inProgress"

static const char *const allowed_text[] = {
  /* A_VALIDATE */
  "validation starts from submitted or validateFailed, or from "
  "validatePassed once that validation has expired",
  /* A_MIGRATE */
  "migration starts from validatePassed, failed or completedWithErrors",
  /* A_CANCEL */
  "a job can be cancelled while it is " RUNNING_STATUSES,
  /* A_DELETE */
  "only a job that is completed, completedWithErrors, failed or cancelled "
  "can be deleted",
  /* A_PATCH */
  "completeAfterDateTime can be changed while the job is "
  RUNNING_STATUSES,
  /* A_ADDUSER */
  "users can be added while the job is submitted, validatePassed or "
  "validateFailed",
  /* A_CANCELUSER */
  "users can be cancelled while the job is " RUNNING_STATUSES
};

static int64_t expiry_ticks(const ct_store *s) {
  return (int64_t)(s->timings.validation_expiry * CT_TICKS_PER_SEC);
}

/* a validatePassed job whose validation is older than the expiry */
static int validation_expired(const ct_store *s, const ct_job *j) {
  return j->status == CT_JS_VALIDATEPASSED &&
         s->now - j->validatedAt > expiry_ticks(s);
}

/* the expiry as words: "7 days", "90 seconds" */
static void expiry_text(const ct_store *s, char *span, size_t cap) {
  double x = s->timings.validation_expiry;
  if (x >= 86400 && x == (double)(int64_t)(x / 86400) * 86400)
    snprintf(span, cap, "%.0f day%s", x / 86400, x == 86400 ? "" : "s");
  else
    snprintf(span, cap, "%g second%s", x, x == 1 ? "" : "s");
}

/* the next step for `action` refused in the job's current status */
static const char *next_step(const ct_store *s, const ct_job *j,
                             int action, char *buf, size_t cap) {
  switch (j->status) {
    case CT_JS_SUBMITTED:
      if (action == A_MIGRATE)
        return j->validatedAt != CT_NEVER_VALIDATED
                 ? "validate the job again: a user was added after "
                   "validation"
                 : "validate the job first";
      return "cancel the job first";                    /* A_DELETE */
    case CT_JS_VALIDATESUBMITTED: case CT_JS_VALIDATEPROCESSING:
    case CT_JS_VALIDATEINPROGRESS:
      if (action == A_DELETE) return "cancel the job first";
      return "wait until validation finishes (validatePassed or "
             "validateFailed)";
    case CT_JS_VALIDATEPASSED: {
      char span[48];
      if (action == A_DELETE) return "cancel the job first";
      expiry_text(s, span, sizeof span);
      snprintf(buf, cap, "migrate the job; it can be validated again once "
               "its validation is more than %s old, or after a user is "
               "added", span);
      return buf;
    }
    case CT_JS_VALIDATEFAILED:
      if (action == A_DELETE) return "cancel the job first";
      return "fix the users whose validation failed (or cancel them out "
             "of the job), then validate the job again";
    case CT_JS_PROCESSING: case CT_JS_INPROGRESS:
      if (action == A_MIGRATE) return "the migration is already running";
      if (action == A_ADDUSER) return "add the user to a new job";
      if (action == A_DELETE)
        return "cancel the job first, or wait until the migration finishes";
      return "wait until the migration finishes";
    case CT_JS_CUTTINGOVER:
      if (action == A_ADDUSER) return "add the user to a new job";
      return "the migration is cutting over; wait until it finishes";
    case CT_JS_COMPLETED:
      if (action == A_ADDUSER) return "add the user to a new job";
      return "every user has migrated; the job is finished";
    case CT_JS_COMPLETEDWITHERRORS: case CT_JS_FAILED:
      if (action == A_ADDUSER) return "add the user to a new job";
      return "the job is finished; migrate it again to retry the users "
             "that failed";
    case CT_JS_PENDINGCANCEL:
      if (action == A_CANCEL) return "the job is already being cancelled";
      if (action == A_DELETE)
        return "wait until it is cancelled, then delete it";
      return "the job is being cancelled; create a new job for its users";
    case CT_JS_CANCELLED:
      if (action == A_CANCEL) return "the job is already cancelled";
      return "the job was cancelled; create a new job for its users";
    case CT_JS_PENDINGDELETE: case CT_JS_DELETED:
      return "the job is being deleted";
    default:
      return "the job's status does not allow it";
  }
}

/* "<what> because the current status is <st>; <allowed>: <next step>." */
static int conflict(const ct_store *s, ct_err *e, int action,
                    const char *what, const ct_job *j) {
  char buf[200];
  ct_err_set(e, 409, "notAllowed", NULL,
             "%s because the %scurrent status is %s; %s: %s.", what,
             action == A_CANCELUSER ? "job's " : "",
             ct_job_status_name(j->status), allowed_text[action],
             next_step(s, j, action, buf, sizeof buf));
  return -1;
}

/* completeAfterDateTime, as text, for a message */
static void cad_text(const ct_job *j, char out[29]) {
  ct_time_format(&j->completeAfter, out);
}

static int cad_passed(const ct_store *s, const ct_job *j) {
  return s->now >= j->completeAfter.ticks;
}

static int job_update_(ct_store *s, ct_job *j, const ct_jval *body,
                       ct_err *e) {
  const ct_jval *cad;
  ct_time when;
  const char *why;
  if (ct_schema_check(&ct_type_job, body, s->strict, CT_CHECK_UPDATE, e))
    return -1;
  cad = ct_json_get(body, JOBP(COMPLETEAFTER));
  if (cad == NULL) return 0;                 /* nothing to change */
  if (j->status == CT_JS_CUTTINGOVER || ct_job_status_final(j->status) ||
      j->status == CT_JS_PENDINGCANCEL || j->status == CT_JS_PENDINGDELETE ||
      j->status == CT_JS_DELETED)
    return conflict(s, e, A_PATCH, "completeAfterDateTime can't be changed",
                    j);
  ct_time_parse(cad->u.s, cad->len, &when, &why);
  j->completeAfter = when;
  j->updated = ct_life_now(s);
  /* a synced job waiting for the old time reconsiders at once */
  if (j->status == CT_JS_INPROGRESS && j->waiting)
    ct_life_schedule(s, j, when.ticks > s->now ? when.ticks : s->now);
  return 0;
}

static int job_delete_(ct_store *s, ct_job *j, ct_err *e) {
  if (!ct_job_status_final(j->status))
    return conflict(s, e, A_DELETE, "The job can't be deleted", j);
  /* a final job is off the schedule: make room before it goes back on */
  if (ct_life_reserve(s) != 0) { oom(e); return -1; }
  ct_life_job_status(s, j, CT_JS_PENDINGDELETE,
                     "The job is being deleted.");
  ct_life_schedule(s, j, s->now + (int64_t)(s->timings.delete_pending *
                                            CT_TICKS_PER_SEC));
  return 0;
}

/* every entry of every task still in the job back to notStarted */
static void reset_tasks(ct_store *s, ct_job *j, int keep_completed) {
  size_t i;
  int k;
  for (i = 0; i < j->ntasks; i++) {
    ct_task *t = &j->tasks[i];
    int done = 1;
    if (t->cancelled) continue;
    for (k = 0; k < t->n; k++) done &= t->st[k] == CT_SS_COMPLETED;
    t->retry = (uint8_t)!(keep_completed && done);
    if (!t->retry) continue;
    for (k = 0; k < t->n; k++)
      if (!(keep_completed && t->st[k] == CT_SS_COMPLETED))
        ct_life_task_status(s, j, t, k, CT_SS_NOTSTARTED);
  }
}

static int job_validate_(ct_store *s, ct_job *j, ct_err *e) {
  if (j->status != CT_JS_SUBMITTED && j->status != CT_JS_VALIDATEFAILED &&
      !validation_expired(s, j))
    return conflict(s, e, A_VALIDATE, "Validation can't be started", j);
  if (ct_life_reserve(s) != 0) { oom(e); return -1; }
  j->jobType = CT_JT_VALIDATE;
  reset_tasks(s, j, 0);
  ct_life_job_status(s, j, CT_JS_VALIDATESUBMITTED,
                     "Validation job has been submitted successfully");
  ct_life_schedule(s, j, s->now + (int64_t)(s->timings.validate_submitted *
                                            CT_TICKS_PER_SEC));
  return 0;
}

static int job_migrate_(ct_store *s, ct_job *j, ct_err *e) {
  if (j->status != CT_JS_VALIDATEPASSED && j->status != CT_JS_FAILED &&
      j->status != CT_JS_COMPLETEDWITHERRORS)
    return conflict(s, e, A_MIGRATE, "Migration can't be started", j);
  if (validation_expired(s, j)) {
    ct_time v;
    char when[29], span[48];
    v.ticks = j->validatedAt;
    v.digits = 0;
    ct_time_format(&v, when);
    expiry_text(s, span, sizeof span);
    ct_err_set(e, 409, "notAllowed", NULL,
               "Migration can't be started: validation passed more than %s "
               "ago (on %s), and its results have expired: validate again.",
               span, when);
    return -1;
  }
  if (ct_life_reserve(s) != 0) { oom(e); return -1; }
  j->jobType = CT_JT_MIGRATE;
  reset_tasks(s, j, j->status != CT_JS_VALIDATEPASSED);
  ct_life_job_status(s, j, CT_JS_PROCESSING,
                     "Migration job has been submitted successfully");
  ct_life_schedule(s, j, s->now + (int64_t)(s->timings.processing *
                                            CT_TICKS_PER_SEC));
  return 0;
}

static int job_cancel_(ct_store *s, ct_job *j, ct_err *e) {
  size_t i;
  int k;
  switch (j->status) {
    case CT_JS_SUBMITTED: case CT_JS_VALIDATESUBMITTED:
    case CT_JS_VALIDATEPROCESSING: case CT_JS_VALIDATEINPROGRESS:
    case CT_JS_VALIDATEPASSED: case CT_JS_VALIDATEFAILED:
    case CT_JS_PROCESSING: case CT_JS_INPROGRESS:
      break;
    default:
      return conflict(s, e, A_CANCEL, "Cancellation is not possible", j);
  }
  if (cad_passed(s, j)) {
    char when[29];
    cad_text(j, when);
    ct_err_set(e, 409, "notAllowed", NULL,
               "Cancellation is not possible because completeAfterDateTime "
               "(%s) has passed; a job can be cancelled only before it: set "
               "a later completeAfterDateTime (PATCH) first.", when);
    return -1;
  }
  if (ct_life_reserve(s) != 0) { oom(e); return -1; }
  for (i = 0; i < j->ntasks; i++) {
    ct_task *t = &j->tasks[i];
    if (t->cancelled) continue;
    for (k = 0; k < t->n; k++)
      if (t->st[k] != CT_SS_COMPLETED)
        ct_life_task_status(s, j, t, k, CT_SS_PENDINGCANCEL);
  }
  ct_life_job_status(s, j, CT_JS_PENDINGCANCEL,
                     "cancellation request has been accepted for the "
                     "migration job");
  ct_life_schedule(s, j, s->now + (int64_t)(s->timings.cancel *
                                            CT_TICKS_PER_SEC));
  return 0;
}

/* ---------- tasks ---------- */

/* the services of a task's entries, as text: "ODSP, Meeting, Teams" */
static void services_text(const ct_task *t, char *out, size_t cap) {
  ct_msg m;
  int i;
  ct_msg_init(&m, out, cap);
  for (i = 0; i < t->n; i++)
    ct_msg_addf(&m, "%s%s", i ? ", " : "", ct_service_name(t->svc[i]));
}

/*
** Apply a checked currentStatus collection to `t`, which already holds
** one notStarted entry per service of its job (behavior.md: a task
** always tracks every service of its job's workloads).  Each entry names
** one of those services, at most once, and sets its starting status,
** message and errors.  Returns 0; -1 with *e set (400) for an entry that
** names no service, a service outside the job's, or one twice; -2 when
** out of memory.
*/
static int read_entries(ct_task *t, const ct_jval *cs, ct_err *e) {
  size_t i, k, n = items_len(cs);
  int at[CT_SVC__COUNT], seen[CT_SVC__COUNT] = { 0, 0, 0, 0 };
  char list[64];
  for (i = 0; i < n; i++) {
    const ct_jval *en = &cs->u.items[i];
    const ct_jval *sv = ct_json_get(en, STATUSP(SERVICE));
    const ct_jval *st = ct_json_get(en, STATUSP(STATUS));
    int svc = sv ? ct_service_find(sv->u.s, sv->len) : -1, x;
    if (svc < 0) {
      services_text(t, list, sizeof list);
      ct_err_set(e, 400, "invalidRequest", "invalidProperty",
                 "Property 'currentStatus[%zu]' names no service; each "
                 "entry names one of the job's services: %s.", i, list);
      return -1;
    }
    for (x = 0; x < t->n && t->svc[x] != svc; x++) ;
    if (x == t->n) {
      services_text(t, list, sizeof list);
      ct_err_set(e, 400, "invalidRequest", "invalidProperty",
                 "Property 'currentStatus[%zu].service' is '%s', which is "
                 "not one of the job's services: %s.", i,
                 ct_service_name(svc), list);
      return -1;
    }
    if (seen[x]) {
      services_text(t, list, sizeof list);
      ct_err_set(e, 400, "invalidRequest", "invalidProperty",
                 "Property 'currentStatus[%zu].service' repeats '%s'; each "
                 "of the job's services (%s) may be named once.", i,
                 ct_service_name(svc), list);
      return -1;
    }
    seen[x] = 1;
    at[i] = x;           /* i < t->n here: every entry names a new one */
    t->st[x] = (uint8_t)(st ? ct_svc_status_find(st->u.s, st->len)
                            : CT_SS_NOTSTARTED);
  }
  for (i = 0; i < n; i++) {
    const ct_jval *en = &cs->u.items[i];
    const ct_jval *msg = ct_json_get(en, STATUSP(MESSAGE));
    const ct_jval *errs = ct_json_get(en, STATUSP(ERRORS));
    size_t ne = items_len(errs);
    int x = at[i];
    if ((msg == NULL || msg->kind != CT_JSTR || msg->len == 0) && ne == 0)
      continue;
    if (t->extra == NULL &&
        (t->extra = ct_calloc(1, sizeof *t->extra)) == NULL)
      return -2;
    if (msg != NULL && msg->kind == CT_JSTR && msg->len > 0 &&
        sdup(&t->extra->message[x], msg->u.s, msg->len) != 0)
      return -2;
    if (ne == 0) continue;
    if (ne > UINT16_MAX) ne = UINT16_MAX;
    t->extra->errors[x] = ct_calloc(ne, sizeof(ct_errinfo));
    if (t->extra->errors[x] == NULL) return -2;
    t->extra->nerrors[x] = (uint16_t)ne;
    for (k = 0; k < ne; k++) {
      const ct_jval *c = ct_json_get(&errs->u.items[k], ERRORP(CODE));
      const ct_jval *m = ct_json_get(&errs->u.items[k], ERRORP(MESSAGE));
      ct_errinfo *y = &t->extra->errors[x][k];
      if (sdup(&y->code, c ? c->u.s : "", c ? c->len : 0) != 0 ||
          sdup(&y->message, m ? m->u.s : "", m ? m->len : 0) != 0)
        return -2;
    }
  }
  return 0;
}

/* the user `t->id` may join job `j`: in no task of it, held by no other
   active job.  0, or -1 with *e set (409) */
static int task_user_free(const ct_job *j, const ct_task *t, ct_err *e) {
  char uid[37], jid[37];
  size_t at;
  if (ct_tmap_get(&j->index, j->tasks, &t->id, &at)) {
    ct_guid_format(&t->id, uid);
    ct_guid_format(&j->id, jid);
    if (j->tasks[at].cancelled)
      ct_err_set(e, 409, "notAllowed", NULL,
                 "User '%s' was cancelled out of job '%s' and can't be "
                 "added to it again.", uid, jid);
    else
      ct_err_set(e, 409, "notAllowed", NULL,
                 "User '%s' is already in job '%s'.", uid, jid);
    return -1;
  }
  return user_busy(j->tenant, &t->id, j, -1, e);
}

/*
** A new task's entries (one per service of job `j`, as the body's
** currentStatus sets them) and its taskType when not spelled "user".
** 0, or -1 with *e set; t->extra is then freed.
*/
static int task_detail(const ct_job *j, ct_task *t, const ct_jval *tt,
                       const ct_jval *cs, ct_err *e) {
  int r;
  default_entries(j, t);
  r = read_entries(t, cs, e);
  if (r == 0 && !(tt->len == 4 && memcmp(tt->u.s, "user", 4) == 0)) {
    if ((t->extra == NULL &&
         (t->extra = ct_calloc(1, sizeof *t->extra)) == NULL) ||
        sdup(&t->extra->taskType, tt->u.s, tt->len) != 0)
      r = -2;
  }
  if (r == 0) return 0;
  free_extra(t->extra);
  t->extra = NULL;
  if (r == -2) oom(e);
  return -1;
}

/* room for one more task in job `j` and its user in the tenant's map,
   so linking cannot fail.  0, or -1 with *e set */
static int task_room(ct_job *j, ct_err *e) {
  if (j->ntasks == j->captasks) {
    size_t cap = j->captasks ? j->captasks * 2 : 4;
    ct_task *p;
    if (cap > MAX_USERS) cap = MAX_USERS;
    p = ct_realloc(j->tasks, cap * sizeof *p);
    if (p == NULL) {
      oom(e);
      return -1;
    }
    j->tasks = p;
    j->captasks = cap;
  }
  if (ct_tmap_reserve(&j->index, j->tasks, 1) != 0 ||
      ct_umap_reserve(&j->tenant->users, 1) != 0) {
    oom(e);
    return -1;
  }
  return 0;
}

static ct_task *task_create_(ct_store *s, ct_job *j, const ct_jval *body,
                             ct_err *e) {
  ct_fields f;                /* the body's values, as the check read them */
  const ct_jval *id;
  ct_task t;
  ct_tenant *tn = j->tenant;
  if (j->status != CT_JS_SUBMITTED && j->status != CT_JS_VALIDATEFAILED &&
      j->status != CT_JS_VALIDATEPASSED) {
    conflict(s, e, A_ADDUSER, "Users can't be added to the job", j);
    return NULL;
  }
  if (ct_schema_read(&ct_type_task, body, s->strict, CT_CHECK_CREATE, &f,
                     e))
    return NULL;
  id = f.at[CT_TASK_ID];
  memset(&t, 0, sizeof t);
  t.updated = f.val[CT_TASK_LASTUPDATED].time.ticks;   /* required */
  t.digits = (uint8_t)f.val[CT_TASK_LASTUPDATED].time.digits;
  if (id != NULL) {
    t.id = f.val[CT_TASK_ID].guid;
    if (task_user_free(j, &t, e) != 0) return NULL;
  }
  if (j->ntasks >= MAX_USERS) {
    char jid[37];
    ct_guid_format(&j->id, jid);
    ct_err_set(e, 400, "invalidRequest", NULL,
               "Job '%s' already holds %d users, the most a job can hold.",
               jid, MAX_USERS);
    return NULL;
  }
  if (task_detail(j, &t, f.at[CT_TASK_TASKTYPE], f.at[CT_TASK_CURRENTSTATUS],
                  e) != 0)
    return NULL;
  if (task_room(j, e) != 0) {
    free_extra(t.extra);
    return NULL;
  }
  if (id == NULL) {        /* made last: a refused request uses no id */
    do ct_store_newguid(s, &t.id);
    while (ct_tmap_get(&j->index, j->tasks, &t.id, NULL) ||
           ct_umap_get(&tn->users, &t.id, NULL));
  }
  j->tasks[j->ntasks] = t;
  ct_tmap_put(&j->index, j->tasks, j->ntasks);
  ct_umap_put(&tn->users, j, j->ntasks);
  j->ntasks++;
  s->ntasks_total++;
  j->updated = ct_life_now(s);
  if (j->status == CT_JS_VALIDATEPASSED)   /* the new user is unvalidated */
    ct_life_job_status(s, j, CT_JS_SUBMITTED,
                       "A user was added; validate the job again.");
  return &j->tasks[j->ntasks - 1];
}

static int task_cancel_(ct_store *s, ct_job *j, ct_task *t, ct_err *e) {
  int k, done = 1;
  char uid[37], when[29];
  for (k = 0; k < t->n; k++) done &= t->st[k] == CT_SS_COMPLETED;
  ct_guid_format(&t->id, uid);
  /* the docs' text ("Cancel is not possible. Current status is <user
     status>"), then why and what next */
  if (t->cancelled) {
    ct_err_set(e, 409, "notAllowed", NULL,
               "Cancel is not possible. Current status is cancelled: user "
               "'%s' was already cancelled out of the job.", uid);
    return -1;
  }
  if (done) {
    ct_err_set(e, 409, "notAllowed", NULL,
               "Cancel is not possible. Current status is completed: every "
               "service of user '%s' has migrated.", uid);
    return -1;
  }
  if (ct_job_status_final(j->status) || j->status == CT_JS_PENDINGCANCEL ||
      j->status == CT_JS_PENDINGDELETE || j->status == CT_JS_DELETED ||
      j->status == CT_JS_CUTTINGOVER) {
    char head[120];
    snprintf(head, sizeof head, "Cancel is not possible for user '%s'",
             uid);
    return conflict(s, e, A_CANCELUSER, head, j);
  }
  if (cad_passed(s, j)) {
    cad_text(j, when);
    ct_err_set(e, 409, "notAllowed", NULL,
               "Cancel is not possible for user '%s' because the job's "
               "completeAfterDateTime (%s) has passed; users can be "
               "cancelled only before it: set a later completeAfterDateTime "
               "(PATCH) first.", uid, when);
    return -1;
  }
  t->cancelled = 1;
  for (k = 0; k < t->n; k++)
    if (t->st[k] != CT_SS_COMPLETED)
      ct_life_task_status(s, j, t, k, CT_SS_CANCELLED);
  ct_umap_del(&j->tenant->users, &t->id);
  j->updated = ct_life_now(s);
  return 0;
}

/* ---------- scripted outcomes ---------- */

static int store_fail_(ct_store *s, const ct_guid *user, int service,
                       int phase,
                  int status, const char *code, size_t ncode,
                  const char *message, size_t nmessage, ct_err *e) {
  ct_fault_rec *f = ct_calloc(1, sizeof *f), *head = NULL, **p;
  uintptr_t v;
  int bad;
  if (f == NULL) { oom(e); return -1; }
  f->service = service;
  f->seq = s->nfaults;
  f->phase = phase;
  f->status = status;
  bad = sdup(&f->code, code, ncode) | sdup(&f->message, message, nmessage);
  if (ct_gmap_get(&s->faults, user, &v)) head = (ct_fault_rec *)v;
  if (bad ||
      (head == NULL && ct_gmap_put(&s->faults, user, (uintptr_t)f) != 0)) {
    sfree(&f->code);
    sfree(&f->message);
    free(f);
    { oom(e); return -1; }
  }
  if (head != NULL) {           /* append: faults apply in script order */
    for (p = &head->next; *p != NULL; p = &(*p)->next) ;
    *p = f;
  }
  s->nfaults++;
  return 0;
}

static int fault_order(const void *a, const void *b) {
  uint64_t x = ((const ct_fault_info *)a)->seq;
  uint64_t y = ((const ct_fault_info *)b)->seq;
  return x < y ? -1 : x > y;
}

size_t ct_store_faults(const ct_store *s, ct_fault_info *out, size_t cap) {
  size_t i, n = 0;
  for (i = 0; i < s->faults.cap; i++) {
    const ct_fault_rec *f;
    if (!s->faults.used[i]) continue;
    for (f = (const ct_fault_rec *)s->faults.slots[i].val; f != NULL;
         f = f->next, n++) {
      ct_fault_info *o;
      if (n >= cap) continue;
      o = &out[n];
      o->user = s->faults.slots[i].key;
      o->service = f->service;
      o->phase = f->phase;
      o->status = f->status;
      o->code = f->code;
      o->message = f->message;
      o->seq = f->seq;
    }
  }
  if (n > 0 && n <= cap) qsort(out, n, sizeof *out, fault_order);
  return n;
}

int ct_store_take_fault(ct_store *s, const ct_guid *user, int service,
                        int phase, ct_str *code, ct_str *message) {
  uintptr_t v;
  ct_fault_rec *head, **p;
  if (s->faults.count == 0 || !ct_gmap_get(&s->faults, user, &v)) return -1;
  head = (ct_fault_rec *)v;
  for (p = &head; *p != NULL; p = &(*p)->next) {
    ct_fault_rec *f = *p;
    int st;
    if (f->service != service || f->phase != phase) continue;
    *p = f->next;
    if (head == NULL) ct_gmap_del(&s->faults, user);
    else ct_gmap_put(&s->faults, user, (uintptr_t)head); /* key exists */
    st = f->status;
    *code = f->code;
    *message = f->message;
    free(f);
    return st;
  }
  return -1;
}

/* ---------- leaving the store ---------- */

void ct_life_release_users(ct_job *j) {
  size_t i;
  ct_job *v;
  for (i = 0; i < j->ntasks; i++) {
    const ct_guid *g = &j->tasks[i].id;
    if (ct_umap_get(&j->tenant->users, g, &v) && v == j)
      ct_umap_del(&j->tenant->users, g);
  }
}

void ct_life_remove_job(ct_store *s, ct_job *j) {
  ct_tenant *t = j->tenant;
  size_t i;
  ct_life_schedule(s, j, -1);
  ct_life_release_users(j);
  for (i = 0; i < t->njobs && t->jobs[i] != j; i++) ;
  if (i < t->njobs) {
    memmove(&t->jobs[i], &t->jobs[i + 1], (t->njobs - i - 1) * sizeof j);
    t->njobs--;
  }
  ct_gmap_del(&t->byid, &j->id);
  name_unlink(t, j);
  s->ntasks_total -= j->ntasks;
  free_job(j);
}

/* ---------- for the snapshot reader and writer (ct_snap.c) ---------- */

void ct_store_free_job(ct_job *j) {
  free_job(j);
}

void ct_store_free_extra(ct_task_extra *x) {
  free_extra(x);
}

ct_tenant *ct_store_tenant(ct_store *s, const ct_guid *id, int create) {
  ct_caller c;
  c.tenant = *id;
  c.upn = "";
  return tenant_of(s, &c, create);
}

int ct_store_link_job(ct_store *s, ct_tenant *t, ct_job *j) {
  struct ct_name_entry *ne;
  int64_t due = j->due;
  if (ct_gmap_get(&t->byid, &j->id, NULL)) return 1;
  if (name_get(t, j->displayName.p, j->displayName.n) != NULL) return 2;
  ne = ct_malloc(sizeof *ne);
  if (ne == NULL || ct_life_reserve(s) != 0 ||
      ct_gmap_reserve(&t->byid, 1) != 0 || name_reserve(t) != 0) {
    free(ne);
    return -1;
  }
  if (t->njobs == t->capjobs) {
    size_t cap = t->capjobs ? t->capjobs * 2 : 8;
    ct_job **p = ct_realloc(t->jobs, cap * sizeof *p);
    if (p == NULL) {
      free(ne);
      return -1;
    }
    t->jobs = p;
    t->capjobs = cap;
  }
  j->tenant = t;
  t->jobs[t->njobs++] = j;
  ct_gmap_put(&t->byid, &j->id, (uintptr_t)j);     /* reserved */
  name_link(t, ne, j);
  s->ntasks_total += j->ntasks;
  j->due = -1;
  if (due >= 0) ct_life_schedule(s, j, due);        /* reserved */
  return 0;
}

void ct_store_faults_of(const ct_store *s, const ct_guid *user,
                        ct_fault_fn *fn, void *ud) {
  uintptr_t v;
  const ct_fault_rec *f;
  if (!ct_gmap_get(&s->faults, user, &v)) return;
  for (f = (const ct_fault_rec *)v; f != NULL; f = f->next)
    fn(ud, user, f->service, f->phase, f->status, &f->code, &f->message);
}

/* ---------- the operations, telling the change sink ---------- */

/* tell the sink (when there is one) what was just accepted */
static void changed(ct_store *s, ct_change *ch, ct_job *j, ct_task *t) {
  ct_change_result r;
  if (s->on_change == NULL) return;
  if (j != NULL && ch->kind != CT_CH_JOB_CREATE) {
    ch->caller.tenant = j->tenant->id;
    ch->caller.upn = "";
    ch->caller.nupn = 0;
  }
  r.job = j;
  r.task = t;
  s->on_change(s->change_ud, ch, &r);
}

static void change_init(ct_change *ch, int kind) {
  memset(ch, 0, sizeof *ch);
  ch->kind = kind;
}

ct_job *ct_job_create(ct_store *s, const ct_caller *c, const ct_jval *body,
                      ct_err *e) {
  ct_job *j = job_create_(s, c, body, e);
  if (j != NULL && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, CT_CH_JOB_CREATE);
    ch.caller = *c;
    ch.body = body;
    changed(s, &ch, j, NULL);
  }
  return j;
}

int ct_job_update(ct_store *s, ct_job *j, const ct_jval *body, ct_err *e) {
  int rc = job_update_(s, j, body, e);
  if (rc == 0 && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, CT_CH_JOB_UPDATE);
    ch.body = body;
    changed(s, &ch, j, NULL);
  }
  return rc;
}

/* an action on a job: the same wrapper for each */
static int job_action(ct_store *s, ct_job *j, ct_err *e, int kind,
                      int (*f)(ct_store *, ct_job *, ct_err *)) {
  int rc = f(s, j, e);
  if (rc == 0 && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, kind);
    changed(s, &ch, j, NULL);
  }
  return rc;
}

int ct_job_delete(ct_store *s, ct_job *j, ct_err *e) {
  return job_action(s, j, e, CT_CH_JOB_DELETE, job_delete_);
}

int ct_job_validate(ct_store *s, ct_job *j, ct_err *e) {
  return job_action(s, j, e, CT_CH_JOB_VALIDATE, job_validate_);
}

int ct_job_migrate(ct_store *s, ct_job *j, ct_err *e) {
  return job_action(s, j, e, CT_CH_JOB_MIGRATE, job_migrate_);
}

int ct_job_cancel(ct_store *s, ct_job *j, ct_err *e) {
  return job_action(s, j, e, CT_CH_JOB_CANCEL, job_cancel_);
}

ct_task *ct_task_create(ct_store *s, ct_job *j, const ct_jval *body,
                        ct_err *e) {
  ct_task *t = task_create_(s, j, body, e);
  if (t != NULL && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, CT_CH_TASK_CREATE);
    ch.body = body;
    changed(s, &ch, j, t);
  }
  return t;
}

int ct_task_cancel(ct_store *s, ct_job *j, ct_task *t, ct_err *e) {
  int rc = task_cancel_(s, j, t, e);
  if (rc == 0 && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, CT_CH_TASK_CANCEL);
    changed(s, &ch, j, t);
  }
  return rc;
}

int ct_store_fail(ct_store *s, const ct_guid *user, int service, int phase,
                  int status, const char *code, size_t ncode,
                  const char *message, size_t nmessage, ct_err *e) {
  int rc = store_fail_(s, user, service, phase, status, code, ncode,
                       message, nmessage, e);
  if (rc == 0 && s->on_change != NULL) {
    ct_change ch;
    change_init(&ch, CT_CH_FAIL);
    ch.user = *user;
    ch.service = service;
    ch.phase = phase;
    ch.status = status;
    ch.code = code;
    ch.ncode = ncode;
    ch.message = message;
    ch.nmessage = nmessage;
    changed(s, &ch, NULL, NULL);
  }
  return rc;
}
