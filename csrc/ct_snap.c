/*
** ct_snap.c -- the store as a versioned binary image, and back (see
** ct_snap.h for the layout and how to add a section).  The reader
** checks every length before it reads and every value before it keeps
** it, builds a new store off to the side and frees all of it on the
** first error, so a bad image never loads half.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_life.h"
#include "ct_snap.h"

/* ---------- checksum ---------- */

static uint64_t load64(const unsigned char *p) {
  uint64_t v = 0;
  int i;
  for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t rotl(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}

uint64_t ct_snap_checksum(const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *)data;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
  unsigned char tail[8];
  while (n >= 8) {
    h = rotl(h ^ (load64(p) * 0xff51afd7ed558ccdULL), 29) *
        0xc4ceb9fe1a85ec53ULL;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    memset(tail, 0, sizeof tail);
    memcpy(tail, p, n);
    h = rotl(h ^ (load64(tail) * 0xff51afd7ed558ccdULL), 29) *
        0xc4ceb9fe1a85ec53ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

/* ---------- writing ---------- */

static int w_reserve(ct_snap_w *w, size_t n) {
  size_t cap;
  unsigned char *p;
  if (w->oom) return -1;
  if (w->cap - w->len >= n) return 0;
  cap = w->cap ? w->cap : 256;
  while (cap - w->len < n) {
    if (cap > ((size_t)-1) / 2) { w->oom = 1; return -1; }
    cap *= 2;
  }
  p = ct_realloc(w->p, cap);
  if (p == NULL) { w->oom = 1; return -1; }
  w->p = p;
  w->cap = cap;
  return 0;
}

static void w_le(ct_snap_w *w, uint64_t v, int n) {
  int i;
  if (w_reserve(w, (size_t)n) != 0) return;
  for (i = 0; i < n; i++) w->p[w->len++] = (unsigned char)(v >> (8 * i));
}

static void w_bytes(ct_snap_w *w, const void *s, size_t n) {
  if (n == 0 || w_reserve(w, n) != 0) return;
  memcpy(w->p + w->len, s, n);
  w->len += n;
}

void ct_snap_w_u8(ct_snap_w *w, unsigned v) { w_le(w, v, 1); }
void ct_snap_w_u16(ct_snap_w *w, unsigned v) { w_le(w, v, 2); }
void ct_snap_w_u32(ct_snap_w *w, uint32_t v) { w_le(w, v, 4); }
void ct_snap_w_u64(ct_snap_w *w, uint64_t v) { w_le(w, v, 8); }
void ct_snap_w_i64(ct_snap_w *w, int64_t v) { w_le(w, (uint64_t)v, 8); }

void ct_snap_w_f64(ct_snap_w *w, double v) {
  uint64_t u;
  memcpy(&u, &v, sizeof u);
  w_le(w, u, 8);
}

void ct_snap_w_guid(ct_snap_w *w, const ct_guid *g) {
  w_bytes(w, g->b, 16);
}

void ct_snap_w_str(ct_snap_w *w, const char *s) {
  ct_snap_w_bytes(w, s, s != NULL ? strlen(s) : 0);
}

void ct_snap_w_cstr(ct_snap_w *w, const ct_str *s) {
  ct_snap_w_bytes(w, s->p, s->n);
}

void ct_snap_w_bytes(ct_snap_w *w, const char *p, size_t n) {
  if (p == NULL) {
    ct_snap_w_u32(w, 0xffffffffu);
    return;
  }
  ct_snap_w_u32(w, (uint32_t)n);
  w_bytes(w, p, n);
}

/* ---------- reading ---------- */

int ct_snap_r_bad(ct_snap_r *r, const char *field, const char *what,
                  size_t back) {
  snprintf(r->msg, r->cap, "corrupt snapshot: %s %s at byte %zu", field,
           what, r->base + r->at - back);
  return -1;
}

int ct_snap_r_oom(ct_snap_r *r) {
  snprintf(r->msg, r->cap, "out of memory");
  return -1;
}

int ct_snap_r_room(const ct_snap_r *r, uint64_t n, size_t each) {
  return each == 0 || n <= (uint64_t)(r->n - r->at) / each;
}

static int r_le(ct_snap_r *r, const char *field, int n, uint64_t *v) {
  int i;
  if (r->n - r->at < (size_t)n)
    return ct_snap_r_bad(r, field, "runs past the end of its section", 0);
  *v = 0;
  for (i = n - 1; i >= 0; i--) *v = (*v << 8) | r->p[r->at + (size_t)i];
  r->at += (size_t)n;
  return 0;
}

int ct_snap_r_u8(ct_snap_r *r, const char *field, unsigned *v) {
  uint64_t x = 0;
  if (r_le(r, field, 1, &x) != 0) return -1;
  *v = (unsigned)x;
  return 0;
}

int ct_snap_r_u16(ct_snap_r *r, const char *field, unsigned *v) {
  uint64_t x = 0;
  if (r_le(r, field, 2, &x) != 0) return -1;
  *v = (unsigned)x;
  return 0;
}

int ct_snap_r_u32(ct_snap_r *r, const char *field, uint32_t *v) {
  uint64_t x = 0;
  if (r_le(r, field, 4, &x) != 0) return -1;
  *v = (uint32_t)x;
  return 0;
}

int ct_snap_r_u64(ct_snap_r *r, const char *field, uint64_t *v) {
  return r_le(r, field, 8, v);
}

int ct_snap_r_i64(ct_snap_r *r, const char *field, int64_t *v) {
  uint64_t x = 0;
  if (r_le(r, field, 8, &x) != 0) return -1;
  *v = (int64_t)x;
  return 0;
}

int ct_snap_r_f64(ct_snap_r *r, const char *field, double *v) {
  uint64_t x = 0;
  if (r_le(r, field, 8, &x) != 0) return -1;
  memcpy(v, &x, sizeof *v);
  if (!isfinite(*v)) return ct_snap_r_bad(r, field, "is not finite", 8);
  return 0;
}

int ct_snap_r_guid(ct_snap_r *r, const char *field, ct_guid *g) {
  if (r->n - r->at < 16)
    return ct_snap_r_bad(r, field, "runs past the end of its section", 0);
  memcpy(g->b, r->p + r->at, 16);
  r->at += 16;
  return 0;
}

static int r_bytes(ct_snap_r *r, const char *field, size_t max,
                   int nullable, int nul_ok, char **s, size_t *len) {
  uint32_t n;
  *s = NULL;
  *len = 0;
  if (ct_snap_r_u32(r, field, &n) != 0) return -1;
  if (n == 0xffffffffu) {
    if (nullable) return 0;
    return ct_snap_r_bad(r, field, "is null", 4);
  }
  if (n > max) return ct_snap_r_bad(r, field, "is too long", 4);
  if (r->n - r->at < n)
    return ct_snap_r_bad(r, field, "runs past the end of its section", 4);
  if (!nul_ok && n > 0 && memchr(r->p + r->at, 0, n) != NULL)
    return ct_snap_r_bad(r, field, "holds a NUL byte", 4);
  *s = ct_malloc((size_t)n + 1);
  if (*s == NULL) return ct_snap_r_oom(r);
  if (n > 0) memcpy(*s, r->p + r->at, n);
  (*s)[n] = '\0';
  *len = n;
  r->at += n;
  return 0;
}

int ct_snap_r_str(ct_snap_r *r, const char *field, size_t max,
                  int nullable, char **s) {
  size_t n;
  return r_bytes(r, field, max, nullable, 0, s, &n);
}

int ct_snap_r_bytes(ct_snap_r *r, const char *field, size_t max,
                    int nullable, char **s, size_t *n) {
  return r_bytes(r, field, max, nullable, 1, s, n);
}

int ct_snap_r_cstr(ct_snap_r *r, const char *field, size_t max,
                   int nullable, ct_str *s) {
  return r_bytes(r, field, max, nullable, 1, &s->p, &s->n);
}

/* ---------- checks shared by the sections ---------- */

/* the clock's range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.9999999Z
   (days from 1970-01-01: ct_days_from_civil(1, 1, 1) and (10000, 1, 1);
   test_snap checks them) */
#define DAY_FIRST (-719162LL)
#define DAY_END 2932897LL
static int ticks_ok(int64_t t) {
  return t >= DAY_FIRST * 86400 * CT_TICKS_PER_SEC &&
         t < DAY_END * 86400 * CT_TICKS_PER_SEC;
}

static int r_ticks(ct_snap_r *r, const char *field, int64_t *t) {
  if (ct_snap_r_i64(r, field, t) != 0) return -1;
  if (!ticks_ok(*t)) return ct_snap_r_bad(r, field, "is out of range", 8);
  return 0;
}

static void w_time(ct_snap_w *w, const ct_time *t) {
  ct_snap_w_i64(w, t->ticks);
  ct_snap_w_u8(w, (unsigned)t->digits);
}

static int r_time(ct_snap_r *r, const char *field, ct_time *t) {
  unsigned d;
  if (r_ticks(r, field, &t->ticks) != 0 ||
      ct_snap_r_u8(r, field, &d) != 0)
    return -1;
  if (d > 7) return ct_snap_r_bad(r, field, "has more than 7 digits", 1);
  t->digits = (int)d;
  return 0;
}

/* ---------- section STOR: clock, generators, options, counters ---------- */

#define MAX_SECONDS (10000.0 * 366 * 86400)   /* a timing, at most */

static int wr_store(const ct_store *s, ct_snap_w *w) {
  const ct_timings *t = &s->timings;
  int i;
  ct_snap_w_u64(w, s->nextseq);
  ct_snap_w_u64(w, s->rng[0]);
  ct_snap_w_u64(w, s->rng[1]);
  ct_snap_w_u64(w, s->rng_seed);
  ct_snap_w_i64(w, s->now);
  ct_snap_w_u8(w, s->strict != 0);
  ct_snap_w_u8(w, s->sticky != 0);
  ct_snap_w_f64(w, s->failure_rate[0]);
  ct_snap_w_f64(w, s->failure_rate[1]);
  for (i = 0; i < CT_TIMING__COUNT; i++)     /* ct_timing_names' order */
    ct_snap_w_f64(w, ct_timing_value(t, i));
  ct_snap_w_u64(w, s->nrequests);
  ct_snap_w_u64(w, s->ntransitions);
  ct_snap_w_guid(w, &s->default_tenant);
  ct_snap_w_str(w, s->default_user);
  ct_snap_w_u8(w, s->require_token != 0);
  return w->oom ? -1 : 0;
}

static int r_seconds(ct_snap_r *r, const char *field, double *v) {
  if (ct_snap_r_f64(r, field, v) != 0) return -1;
  if (*v < 0 || *v > MAX_SECONDS)
    return ct_snap_r_bad(r, field, "is out of range", 8);
  return 0;
}

/* every timing, in ct_timing_names' order; field "timings.<name>" */
static int r_timings(ct_snap_r *r, ct_timings *t) {
  char field[64];
  int i;
  for (i = 0; i < CT_TIMING__COUNT; i++) {
    snprintf(field, sizeof field, "timings.%s", ct_timing_names[i]);
    if (r_seconds(r, field, ct_timing_at(t, i)) != 0) return -1;
  }
  return 0;
}

static int rd_store(ct_store *s, ct_snap_r *r) {
  ct_timings *t = &s->timings;
  unsigned u;
  int i;
  if (ct_snap_r_u64(r, "store.nextseq", &s->nextseq) != 0 ||
      ct_snap_r_u64(r, "store.rng", &s->rng[0]) != 0 ||
      ct_snap_r_u64(r, "store.rng", &s->rng[1]) != 0 ||
      ct_snap_r_u64(r, "store.rng_seed", &s->rng_seed) != 0 ||
      r_ticks(r, "store.now", &s->now) != 0 ||
      ct_snap_r_u8(r, "store.strict", &u) != 0)
    return -1;
  if (s->nextseq == 0)
    return ct_snap_r_bad(r, "store.nextseq", "is 0", 8 * 5 + 1);
  if (s->rng[0] == 0 && s->rng[1] == 0)
    return ct_snap_r_bad(r, "store.rng", "is all zero", 8 * 4 + 1);
  if (u > 1) return ct_snap_r_bad(r, "store.strict", "is not 0 or 1", 1);
  s->strict = (int)u;
  if (ct_snap_r_u8(r, "store.sticky", &u) != 0) return -1;
  if (u > 1) return ct_snap_r_bad(r, "store.sticky", "is not 0 or 1", 1);
  s->sticky = (int)u;
  for (i = 0; i < 2; i++) {
    if (ct_snap_r_f64(r, "store.failure_rate", &s->failure_rate[i]) != 0)
      return -1;
    if (!(s->failure_rate[i] >= 0 && s->failure_rate[i] <= 1))
      return ct_snap_r_bad(r, "store.failure_rate", "is not in [0, 1]", 8);
  }
  if (r_timings(r, t) != 0 ||
      ct_snap_r_u64(r, "store.nrequests", &s->nrequests) != 0 ||
      ct_snap_r_u64(r, "store.ntransitions", &s->ntransitions) != 0 ||
      ct_snap_r_guid(r, "store.default_tenant", &s->default_tenant) != 0 ||
      ct_snap_r_str(r, "store.default_user", CT_LIMIT_STRING, 1,
                    &s->default_user) != 0 ||
      ct_snap_r_u8(r, "store.require_token", &u) != 0)
    return -1;
  if (u > 1)
    return ct_snap_r_bad(r, "store.require_token", "is not 0 or 1", 1);
  s->require_token = (int)u;
  return 0;
}

/* ---------- section TNNT: tenants, jobs, tasks ---------- */

/* task flags */
#define TF_CANCELLED 1u
#define TF_RETRY     2u
#define TF_HELD      4u      /* in its tenant's active-user index */
#define TF_EXTRA     8u
#define TF_ALL       15u

static int extra_used(const ct_task *t) {
  int i;
  if (t->extra == NULL) return 0;
  if (t->extra->taskType.p != NULL) return 1;
  for (i = 0; i < t->n; i++)
    if (t->extra->message[i].p != NULL || t->extra->nerrors[i] > 0) return 1;
  return 0;
}

/*
** Whether the tenant's active-user index holds task t of job j.  The
** core keeps it so that it holds exactly the tasks not cancelled of the
** jobs still active; when a tenant's count agrees (by_rule), that rule
** answers without a lookup, else the index itself does.
*/
static int held(const ct_job *j, const ct_task *t, int by_rule) {
  ct_job *holder;
  if (by_rule) return !t->cancelled && ct_life_job_active(j->status);
  return ct_umap_get(&j->tenant->users, &t->id, &holder) && holder == j;
}

static int rule_holds(const ct_tenant *tn) {
  size_t k, i, n = 0;
  for (k = 0; k < tn->njobs; k++) {
    const ct_job *j = tn->jobs[k];
    if (!ct_life_job_active(j->status)) continue;
    for (i = 0; i < j->ntasks; i++) n += !j->tasks[i].cancelled;
  }
  return n == tn->users.count;
}

static void wr_task(const ct_job *j, const ct_task *t, int by_rule,
                    ct_snap_w *w) {
  unsigned flags = 0;
  int i;
  size_t k;
  if (t->cancelled) flags |= TF_CANCELLED;
  if (t->retry) flags |= TF_RETRY;
  if (held(j, t, by_rule)) flags |= TF_HELD;
  if (extra_used(t)) flags |= TF_EXTRA;
  /* the fixed part, at most 16 + 8 + 3 + 4 bytes, in one go */
  if (w_reserve(w, 16 + 8 + 3 + CT_SVC__COUNT) == 0) {
    unsigned char *p = w->p + w->len;
    uint64_t u = (uint64_t)t->updated;
    memcpy(p, t->id.b, 16);
    for (i = 0; i < 8; i++) p[16 + i] = (unsigned char)(u >> (8 * i));
    p[24] = t->digits;
    p[25] = (unsigned char)flags;
    p[26] = t->n;
    for (i = 0; i < t->n; i++)
      p[27 + i] = (unsigned char)(t->svc[i] << 4 | t->st[i]);
    w->len += 27 + (size_t)t->n;
  }
  if (!(flags & TF_EXTRA)) return;
  ct_snap_w_cstr(w, &t->extra->taskType);
  for (i = 0; i < t->n; i++) {
    ct_snap_w_cstr(w, &t->extra->message[i]);
    ct_snap_w_u16(w, t->extra->nerrors[i]);
    for (k = 0; k < t->extra->nerrors[i]; k++) {
      ct_snap_w_cstr(w, &t->extra->errors[i][k].code);
      ct_snap_w_cstr(w, &t->extra->errors[i][k].message);
    }
  }
}

static void wr_job(const ct_job *j, int by_rule, ct_snap_w *w) {
  size_t i;
  ct_snap_w_guid(w, &j->id);
  ct_snap_w_u64(w, j->seq);
  ct_snap_w_cstr(w, &j->displayName);
  ct_snap_w_str(w, j->message);
  ct_snap_w_cstr(w, &j->createdBy);
  ct_snap_w_cstr(w, &j->resourceType);
  ct_snap_w_u8(w, j->hasExchangeSettings != 0);
  if (j->hasExchangeSettings) {
    ct_snap_w_cstr(w, &j->sourceEndpoint);
    ct_snap_w_cstr(w, &j->targetDeliveryDomain);
  }
  ct_snap_w_guid(w, &j->sourceTenantId);
  w_time(w, &j->completeAfter);
  w_time(w, &j->created);
  w_time(w, &j->updated);
  ct_snap_w_i64(w, j->validatedAt);
  ct_snap_w_i64(w, j->due);
  ct_snap_w_u8(w, j->status);
  ct_snap_w_u8(w, j->jobType);
  ct_snap_w_u8(w, j->waiting);
  ct_snap_w_u8(w, j->nworkloads);
  for (i = 0; i < j->nworkloads; i++) ct_snap_w_u8(w, j->workloads[i]);
  ct_snap_w_u32(w, (uint32_t)j->ntasks);
  for (i = 0; i < j->ntasks; i++) wr_task(j, &j->tasks[i], by_rule, w);
}

static int guid_cmp(const void *a, const void *b) {
  return memcmp(a, b, sizeof(ct_guid));
}

/* the keys of a GUID map, sorted, so equal stores write equal images */
static ct_guid *sorted_keys(const ct_gmap *m) {
  ct_guid *keys = ct_malloc((m->count ? m->count : 1) * sizeof *keys);
  size_t i, n = 0;
  if (keys == NULL) return NULL;
  for (i = 0; i < m->cap; i++)
    if (m->used[i]) keys[n++] = m->slots[i].key;
  qsort(keys, n, sizeof *keys, guid_cmp);
  return keys;
}

static int wr_tenants(const ct_store *s, ct_snap_w *w) {
  ct_guid *keys = sorted_keys(&s->tenants);
  size_t i, k;
  if (keys == NULL) return -1;
  ct_snap_w_u32(w, (uint32_t)s->tenants.count);
  for (i = 0; i < s->tenants.count; i++) {
    uintptr_t v;
    const ct_tenant *t;
    ct_gmap_get(&s->tenants, &keys[i], &v);
    t = (const ct_tenant *)v;
    int by_rule;
    ct_snap_w_guid(w, &t->id);
    ct_snap_w_u32(w, (uint32_t)t->njobs);
    by_rule = rule_holds(t);
    for (k = 0; k < t->njobs; k++) wr_job(t->jobs[k], by_rule, w);
  }
  free(keys);
  return w->oom ? -1 : 0;
}

static int rd_task(ct_snap_r *r, ct_task *t, unsigned *flagsp) {
  unsigned u, flags, seen = 0;
  int i;
  size_t k;
  /* the common case: the fixed part is there and every value is sane */
  if (r->n - r->at >= 27 + CT_SVC__COUNT) {
    const unsigned char *p = r->p + r->at;
    int64_t upd = (int64_t)load64(p + 16);
    unsigned n = p[26];
    flags = p[25];
    if (ticks_ok(upd) && p[24] <= 7 && !(flags & ~TF_ALL) &&
        n <= CT_SVC__COUNT) {
      for (i = 0; i < (int)n; i++) {
        unsigned svc = p[27 + i] >> 4, st = p[27 + i] & 15;
        if (svc >= CT_SVC__COUNT || (seen & (1u << svc)) ||
            st >= CT_SS__COUNT)
          break;
        seen |= 1u << svc;
        t->svc[i] = (uint8_t)svc;
        t->st[i] = (uint8_t)st;
      }
      if (i == (int)n) {
        memcpy(t->id.b, p, 16);
        t->updated = upd;
        t->digits = p[24];
        t->cancelled = (uint8_t)((flags & TF_CANCELLED) != 0);
        t->retry = (uint8_t)((flags & TF_RETRY) != 0);
        t->n = (uint8_t)n;
        *flagsp = flags;
        r->at += 27 + n;
        if (!(flags & TF_EXTRA)) return 0;
        goto extra;
      }
    }
    seen = 0;                 /* the slow path below names the fault */
  }
  if (ct_snap_r_guid(r, "task.id", &t->id) != 0 ||
      r_ticks(r, "task.lastUpdatedDateTime", &t->updated) != 0 ||
      ct_snap_r_u8(r, "task.digits", &u) != 0)
    return -1;
  if (u > 7) return ct_snap_r_bad(r, "task.digits", "is more than 7", 1);
  t->digits = (uint8_t)u;
  if (ct_snap_r_u8(r, "task.flags", &flags) != 0) return -1;
  if (flags & ~TF_ALL)
    return ct_snap_r_bad(r, "task.flags", "has unknown bits", 1);
  t->cancelled = (uint8_t)((flags & TF_CANCELLED) != 0);
  t->retry = (uint8_t)((flags & TF_RETRY) != 0);
  *flagsp = flags;
  if (ct_snap_r_u8(r, "task.currentStatus", &u) != 0) return -1;
  if (u > CT_SVC__COUNT)
    return ct_snap_r_bad(r, "task.currentStatus", "has too many entries",
                         1);
  t->n = (uint8_t)u;
  for (i = 0; i < t->n; i++) {
    unsigned svc, st;
    if (ct_snap_r_u8(r, "task.currentStatus", &u) != 0) return -1;
    svc = u >> 4;
    st = u & 15;
    if (svc >= CT_SVC__COUNT || (seen & (1u << svc)))
      return ct_snap_r_bad(r, "task.currentStatus.service",
                           "is unknown or repeated", 1);
    if (st >= CT_SS__COUNT)
      return ct_snap_r_bad(r, "task.currentStatus.status", "is unknown", 1);
    seen |= 1u << svc;
    t->svc[i] = (uint8_t)svc;
    t->st[i] = (uint8_t)st;
  }
  if (!(flags & TF_EXTRA)) return 0;
extra:
  t->extra = ct_calloc(1, sizeof *t->extra);
  if (t->extra == NULL) return ct_snap_r_oom(r);
  if (ct_snap_r_cstr(r, "task.taskType", CT_LIMIT_STRING, 1,
                     &t->extra->taskType) != 0)
    return -1;
  for (i = 0; i < t->n; i++) {
    unsigned ne;
    if (ct_snap_r_cstr(r, "task.currentStatus.message", CT_LIMIT_STRING, 1,
                       &t->extra->message[i]) != 0 ||
        ct_snap_r_u16(r, "task.currentStatus.errors", &ne) != 0)
      return -1;
    if (ne == 0) continue;
    if (!ct_snap_r_room(r, ne, 8))
      return ct_snap_r_bad(r, "task.currentStatus.errors",
                           "count is larger than the section", 2);
    t->extra->errors[i] = ct_calloc(ne, sizeof(ct_errinfo));
    if (t->extra->errors[i] == NULL) return ct_snap_r_oom(r);
    t->extra->nerrors[i] = (uint16_t)ne;
    for (k = 0; k < ne; k++) {
      ct_errinfo *x = &t->extra->errors[i][k];
      if (ct_snap_r_cstr(r, "task.currentStatus.errors.code",
                         CT_LIMIT_STRING, 0, &x->code) != 0 ||
          ct_snap_r_cstr(r, "task.currentStatus.errors.message",
                         CT_LIMIT_STRING, 0, &x->message) != 0)
        return -1;
    }
  }
  return 0;
}

/* what the job reader hands back besides the job */
typedef struct held_ref { ct_job *job; uint32_t pos; } held_ref;
typedef struct job_ctx {
  uint64_t *seqs;                 /* every job's seq, to check them */
  size_t nseqs, capseqs;
  uint64_t lastseq;               /* of the tenant's previous job */
  held_ref *held;                 /* the tenant's held users so far */
  size_t nheld, capheld;
} job_ctx;

static int rd_job_fields(ct_store *s, ct_snap_r *r, ct_job *j,
                         job_ctx *cx) {
  char *msg = NULL;
  unsigned u, i;
  if (ct_snap_r_guid(r, "job.id", &j->id) != 0 ||
      ct_snap_r_u64(r, "job.seq", &j->seq) != 0)
    return -1;
  if (j->seq == 0 || j->seq >= s->nextseq || j->seq <= cx->lastseq)
    return ct_snap_r_bad(r, "job.seq", "is out of order", 8);
  cx->lastseq = j->seq;
  if (ct_snap_r_cstr(r, "job.displayName", CT_LIMIT_STRING, 0,
                     &j->displayName) != 0)
    return -1;
  if (ct_snap_r_str(r, "job.message", sizeof j->message - 1, 0, &msg) != 0)
    return -1;
  memcpy(j->message, msg, strlen(msg) + 1);
  free(msg);
  if (ct_snap_r_cstr(r, "job.createdBy", CT_LIMIT_BODY, 0,
                     &j->createdBy) != 0 ||
      ct_snap_r_cstr(r, "job.resourceType", CT_LIMIT_STRING, 0,
                     &j->resourceType) != 0 ||
      ct_snap_r_u8(r, "job.exchangeSettings", &u) != 0)
    return -1;
  if (u > 1)
    return ct_snap_r_bad(r, "job.exchangeSettings", "is not 0 or 1", 1);
  j->hasExchangeSettings = (uint8_t)u;
  if (u && (ct_snap_r_cstr(r, "job.exchangeSettings.sourceEndpoint",
                           CT_LIMIT_STRING, 0, &j->sourceEndpoint) != 0 ||
            ct_snap_r_cstr(r, "job.exchangeSettings.targetDeliveryDomain",
                           CT_LIMIT_STRING, 0,
                           &j->targetDeliveryDomain) != 0))
    return -1;
  if (ct_snap_r_guid(r, "job.sourceTenantId", &j->sourceTenantId) != 0 ||
      r_time(r, "job.completeAfterDateTime", &j->completeAfter) != 0 ||
      r_time(r, "job.createdDateTime", &j->created) != 0 ||
      r_time(r, "job.lastUpdatedDateTime", &j->updated) != 0 ||
      ct_snap_r_i64(r, "job.validatedAt", &j->validatedAt) != 0 ||
      ct_snap_r_i64(r, "job.due", &j->due) != 0)
    return -1;
  if (j->validatedAt != CT_NEVER_VALIDATED && !ticks_ok(j->validatedAt))
    return ct_snap_r_bad(r, "job.validatedAt", "is out of range", 16);
  if (j->due != -1 && !ticks_ok(j->due))
    return ct_snap_r_bad(r, "job.due", "is out of range", 8);
  if (ct_snap_r_u8(r, "job.status", &u) != 0) return -1;
  if (u >= CT_JS__COUNT) return ct_snap_r_bad(r, "job.status", "is unknown", 1);
  j->status = (uint8_t)u;
  if (ct_snap_r_u8(r, "job.jobType", &u) != 0) return -1;
  if (u > CT_JT_UNKNOWNFUTUREVALUE)
    return ct_snap_r_bad(r, "job.jobType", "is unknown", 1);
  j->jobType = (uint8_t)u;
  if (ct_snap_r_u8(r, "job.waiting", &u) != 0) return -1;
  if (u > 1) return ct_snap_r_bad(r, "job.waiting", "is not 0 or 1", 1);
  j->waiting = (uint8_t)u;
  if (ct_snap_r_u8(r, "job.workloads", &u) != 0) return -1;
  if (u > CT_WL__COUNT)
    return ct_snap_r_bad(r, "job.workloads", "has too many entries", 1);
  j->nworkloads = (uint8_t)u;
  for (i = 0; i < j->nworkloads; i++) {
    unsigned k, w;
    if (ct_snap_r_u8(r, "job.workloads", &w) != 0) return -1;
    if (w >= CT_WL__COUNT)
      return ct_snap_r_bad(r, "job.workloads", "is unknown", 1);
    for (k = 0; k < i; k++)
      if (j->workloads[k] == w)
        return ct_snap_r_bad(r, "job.workloads", "repeats a workload", 1);
    j->workloads[i] = (uint8_t)w;
  }
  if (cx->nseqs == cx->capseqs) {
    size_t cap = cx->capseqs ? cx->capseqs * 2 : 64;
    uint64_t *p = ct_realloc(cx->seqs, cap * sizeof *p);
    if (p == NULL) return ct_snap_r_oom(r);
    cx->seqs = p;
    cx->capseqs = cap;
  }
  cx->seqs[cx->nseqs++] = j->seq;
  return 0;
}

/* one job, linked into tenant t; its held users into t's user index */
static int rd_job(ct_store *s, ct_snap_r *r, ct_tenant *t, job_ctx *cx) {
  ct_job *j = ct_calloc(1, sizeof *j);
  unsigned char held[CT_JOB_MAX_USERS];
  uint32_t n, i;
  size_t nheld = 0;
  int rc;
  if (j == NULL) return ct_snap_r_oom(r);
  ct_tmap_init(&j->index);
  j->due = -1;
  if (rd_job_fields(s, r, j, cx) != 0 ||
      ct_snap_r_u32(r, "job.tasks", &n) != 0)
    goto fail;
  if (n > CT_JOB_MAX_USERS) {
    ct_snap_r_bad(r, "job.tasks", "holds more than 2000 users", 4);
    goto fail;
  }
  if (!ct_snap_r_room(r, n, 16 + 8 + 3)) {
    ct_snap_r_bad(r, "job.tasks", "count is larger than the section", 4);
    goto fail;
  }
  j->tasks = ct_calloc(n ? n : 1, sizeof *j->tasks);
  j->captasks = n ? n : 1;
  if (j->tasks == NULL || ct_tmap_reserve(&j->index, j->tasks, n) != 0) {
    ct_snap_r_oom(r);
    goto fail;
  }
  for (i = 0; i < n; i++) {
    ct_task *k = &j->tasks[i];
    size_t start = r->at;
    unsigned flags = 0;
    j->ntasks = i + 1;            /* a half-read task is freed with the job */
    if (rd_task(r, k, &flags) != 0) goto fail;
    if (ct_tmap_get(&j->index, j->tasks, &k->id, NULL)) {
      ct_snap_r_bad(r, "task.id", "repeats in its job", r->at - start);
      goto fail;
    }
    ct_tmap_put(&j->index, j->tasks, i);      /* reserved */
    held[i] = (unsigned char)((flags & TF_HELD) != 0);
    nheld += held[i];
  }
  rc = ct_store_link_job(s, t, j);
  if (rc != 0) {
    if (rc < 0) ct_snap_r_oom(r);
    else ct_snap_r_bad(r, rc == 1 ? "job.id" : "job.displayName",
                       "repeats in its tenant", 0);
    goto fail;
  }
  /* linked: from here on the store frees the job */
  if (cx->nheld + nheld > cx->capheld) {
    size_t cap = cx->capheld ? cx->capheld : 256;
    held_ref *p;
    while (cap < cx->nheld + nheld) cap *= 2;
    p = ct_realloc(cx->held, cap * sizeof *p);
    if (p == NULL) return ct_snap_r_oom(r);
    cx->held = p;
    cx->capheld = cap;
  }
  for (i = 0; i < n; i++) {
    if (!held[i]) continue;
    cx->held[cx->nheld].job = j;
    cx->held[cx->nheld].pos = i;
    cx->nheld++;
  }
  return 0;
fail:
  ct_store_free_job(j);
  return -1;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int rd_tenants(ct_store *s, ct_snap_r *r) {
  uint32_t nt, nj, i, k;
  job_ctx cx;
  int rc = -1;
  memset(&cx, 0, sizeof cx);
  if (ct_snap_r_u32(r, "tenants", &nt) != 0) return -1;
  if (!ct_snap_r_room(r, nt, 20))
    return ct_snap_r_bad(r, "tenants", "count is larger than the section",
                         4);
  for (i = 0; i < nt; i++) {
    ct_guid id;
    ct_tenant *t;
    if (ct_snap_r_guid(r, "tenant.id", &id) != 0) goto done;
    if (ct_store_tenant(s, &id, 0) != NULL) {
      ct_snap_r_bad(r, "tenant.id", "repeats", 16);
      goto done;
    }
    t = ct_store_tenant(s, &id, 1);
    if (t == NULL) {
      ct_snap_r_oom(r);
      goto done;
    }
    if (ct_snap_r_u32(r, "tenant.jobs", &nj) != 0) goto done;
    if (!ct_snap_r_room(r, nj, 100)) {
      ct_snap_r_bad(r, "tenant.jobs", "count is larger than the section", 4);
      goto done;
    }
    cx.lastseq = 0;
    cx.nheld = 0;
    for (k = 0; k < nj; k++) {
      if (rd_job(s, r, t, &cx) != 0) goto done;
    }
    /* the tenant's active users, indexed at once */
    if (ct_umap_reserve(&t->users, cx.nheld) != 0) {
      ct_snap_r_oom(r);
      goto done;
    }
    for (k = 0; k < cx.nheld; k++) {
      size_t before = t->users.count;
      ct_umap_put(&t->users, cx.held[k].job, cx.held[k].pos);  /* reserved */
      if (t->users.count == before) {         /* it replaced another */
        ct_snap_r_bad(r, "task.flags", "hold a user that another job holds",
                      0);
        goto done;
      }
    }
  }
  if (cx.nseqs > 1) {
    qsort(cx.seqs, cx.nseqs, sizeof *cx.seqs, u64_cmp);
    for (i = 1; i < cx.nseqs; i++)
      if (cx.seqs[i] == cx.seqs[i - 1]) {
        ct_snap_r_bad(r, "job.seq", "repeats across tenants", 0);
        goto done;
      }
  }
  rc = 0;
done:
  free(cx.seqs);
  free(cx.held);
  return rc;
}

/* ---------- section FALT: scripted outcomes not yet applied ---------- */

typedef struct fault_w {
  ct_snap_w *w;
  uint32_t n;
} fault_w;

static void count_fault(void *ud, const ct_guid *user, int service,
                        int phase, int status, const ct_str *code,
                        const ct_str *message) {
  (void)user; (void)service; (void)phase; (void)status; (void)code;
  (void)message;
  ((fault_w *)ud)->n++;
}

static void put_fault(void *ud, const ct_guid *user, int service, int phase,
                      int status, const ct_str *code,
                      const ct_str *message) {
  ct_snap_w *w = ((fault_w *)ud)->w;
  (void)user;
  ct_snap_w_u8(w, (unsigned)service);
  ct_snap_w_u8(w, (unsigned)phase);
  ct_snap_w_u8(w, (unsigned)status);
  ct_snap_w_cstr(w, code);
  ct_snap_w_cstr(w, message);
}

static int wr_faults(const ct_store *s, ct_snap_w *w) {
  ct_guid *keys = sorted_keys(&s->faults);
  size_t i;
  if (keys == NULL) return -1;
  ct_snap_w_u32(w, (uint32_t)s->faults.count);
  for (i = 0; i < s->faults.count; i++) {
    fault_w fw;
    fw.w = w;
    fw.n = 0;
    ct_store_faults_of(s, &keys[i], count_fault, &fw);
    ct_snap_w_guid(w, &keys[i]);
    ct_snap_w_u32(w, fw.n);
    ct_store_faults_of(s, &keys[i], put_fault, &fw);
  }
  free(keys);
  return w->oom ? -1 : 0;
}

static int rd_faults(ct_store *s, ct_snap_r *r) {
  uint32_t nu, nf, i, k;
  if (ct_snap_r_u32(r, "faults", &nu) != 0) return -1;
  if (!ct_snap_r_room(r, nu, 20))
    return ct_snap_r_bad(r, "faults", "count is larger than the section", 4);
  for (i = 0; i < nu; i++) {
    ct_guid user;
    if (ct_snap_r_guid(r, "fault.user", &user) != 0) return -1;
    if (ct_gmap_get(&s->faults, &user, NULL))
      return ct_snap_r_bad(r, "fault.user", "repeats", 16);
    if (ct_snap_r_u32(r, "fault.count", &nf) != 0) return -1;
    if (nf == 0) return ct_snap_r_bad(r, "fault.count", "is 0", 4);
    if (!ct_snap_r_room(r, nf, 11))
      return ct_snap_r_bad(r, "fault.count",
                           "is larger than the section", 4);
    for (k = 0; k < nf; k++) {
      unsigned svc, phase, st;
      char *code = NULL, *message = NULL;
      size_t ncode = 0, nmessage = 0;
      ct_err e;
      int rc;
      if (ct_snap_r_u8(r, "fault.service", &svc) != 0) return -1;
      if (svc >= CT_SVC__COUNT)
        return ct_snap_r_bad(r, "fault.service", "is unknown", 1);
      if (ct_snap_r_u8(r, "fault.phase", &phase) != 0) return -1;
      if (phase > CT_PHASE_MIGRATE)
        return ct_snap_r_bad(r, "fault.phase", "is unknown", 1);
      if (ct_snap_r_u8(r, "fault.status", &st) != 0) return -1;
      if (st != CT_SS_ERROR &&
          st != (phase == CT_PHASE_VALIDATE ? CT_SS_INVALID : CT_SS_FAILED))
        return ct_snap_r_bad(r, "fault.status", "is not a failure", 1);
      if (ct_snap_r_bytes(r, "fault.code", CT_LIMIT_BODY, 0, &code,
                          &ncode) != 0)
        return -1;
      if (ct_snap_r_bytes(r, "fault.message", CT_LIMIT_BODY, 0, &message,
                          &nmessage) != 0) {
        free(code);
        return -1;
      }
      rc = ct_store_fail(s, &user, (int)svc, (int)phase, (int)st, code,
                         ncode, message, nmessage, &e);
      free(code);
      free(message);
      if (rc != 0) return ct_snap_r_oom(r);
    }
  }
  return 0;
}

/* ---------- section FLTS: throttling and transient faults ---------- */
/* every field of ct_fault_state (ct_fault.h), capcallers included: the
   callers are pruned when the array is full, so its size is behaviour */

#define MAX_CALLERS (1u << 20)

static int wr_faultstate(const ct_store *s, ct_snap_w *w) {
  const ct_fault_state *f = &s->faultstate;
  size_t i;
  int k;
  ct_snap_w_u32(w, (uint32_t)f->nrules);
  for (i = 0; i < f->nrules; i++) {
    const ct_fault_rule *x = &f->rules[i];
    ct_snap_w_u32(w, (uint32_t)x->status);
    ct_snap_w_u32(w, (uint32_t)x->retry_after);
    ct_snap_w_i64(w, x->times);
    ct_snap_w_str(w, x->method);
    ct_snap_w_bytes(w, x->path, x->pathlen);
  }
  for (k = 0; k < CT_FAULT__COUNT; k++) ct_snap_w_f64(w, f->rate[k]);
  ct_snap_w_u32(w, (uint32_t)f->retry_after);
  ct_snap_w_i64(w, f->budget_requests);
  ct_snap_w_i64(w, f->budget_per);
  ct_snap_w_u64(w, f->rng[0]);
  ct_snap_w_u64(w, f->rng[1]);
  ct_snap_w_u32(w, (uint32_t)f->ncallers);
  ct_snap_w_u32(w, (uint32_t)f->capcallers);
  for (i = 0; i < f->ncallers; i++) {
    const ct_fault_caller *c = &f->callers[i];
    ct_snap_w_bytes(w, c->key, c->keylen);
    ct_snap_w_i64(w, c->retry_until);
    ct_snap_w_i64(w, c->window_start);
    ct_snap_w_i64(w, c->window_count);
  }
  for (k = 0; k < CT_FAULT__COUNT; k++) ct_snap_w_u64(w, f->refused[k]);
  return w->oom ? -1 : 0;
}

static int rd_faultstate(ct_store *s, ct_snap_r *r) {
  ct_fault_state *f = &s->faultstate;
  uint32_t n, i, st, retry, ncallers, cap;
  double rate[CT_FAULT__COUNT];
  int k, rc;
  if (ct_snap_r_u32(r, "faultstate.rules", &n) != 0) return -1;
  if (!ct_snap_r_room(r, n, 24))
    return ct_snap_r_bad(r, "faultstate.rules",
                         "count is larger than the section", 4);
  for (i = 0; i < n; i++) {
    int64_t times;
    char *method = NULL, *path = NULL;
    size_t plen;
    if (ct_snap_r_u32(r, "faultrule.status", &st) != 0 ||
        ct_snap_r_u32(r, "faultrule.retry_after", &retry) != 0 ||
        ct_snap_r_i64(r, "faultrule.times", &times) != 0 ||
        ct_snap_r_str(r, "faultrule.method", 7, 0, &method) != 0)
      return -1;
    if (ct_snap_r_bytes(r, "faultrule.path", CT_FAULT_MAX_PATH, 1, &path,
                        &plen) != 0) {
      free(method);
      return -1;
    }
    rc = ct_fault_add(f, (int)(st > 1000 ? 0 : st),
                      (int)(retry > CT_FAULT_MAX_RETRY ? 0 : retry), times,
                      method[0] ? method : NULL, path, plen);
    if (rc == 0 && strcmp(f->rules[f->nrules - 1].method, method) != 0)
      rc = -1;                       /* a method in another case */
    free(method);
    free(path);
    if (rc == -2) return ct_snap_r_oom(r);
    if (rc != 0) return ct_snap_r_bad(r, "faultrule", "is out of range", 0);
  }
  for (k = 0; k < CT_FAULT__COUNT; k++)
    if (ct_snap_r_f64(r, "faultstate.rate", &rate[k]) != 0) return -1;
  if (ct_snap_r_u32(r, "faultstate.retry_after", &retry) != 0) return -1;
  if (ct_fault_set_rates(f, rate, (int)(retry > CT_FAULT_MAX_RETRY
                                          ? 0 : retry)) != 0)
    return ct_snap_r_bad(r, "faultstate.rate", "is out of range", 4);
  if (ct_snap_r_i64(r, "faultstate.budget_requests",
                    &f->budget_requests) != 0 ||
      ct_snap_r_i64(r, "faultstate.budget_per", &f->budget_per) != 0)
    return -1;
  if (f->budget_requests < 0 ||
      (f->budget_requests == 0) != (f->budget_per == 0) ||
      f->budget_per < 0 ||
      f->budget_per > (int64_t)CT_FAULT_MAX_PER * CT_TICKS_PER_SEC)
    return ct_snap_r_bad(r, "faultstate.budget", "is out of range", 16);
  if (ct_snap_r_u64(r, "faultstate.rng", &f->rng[0]) != 0 ||
      ct_snap_r_u64(r, "faultstate.rng", &f->rng[1]) != 0 ||
      ct_snap_r_u32(r, "faultstate.callers", &ncallers) != 0 ||
      ct_snap_r_u32(r, "faultstate.capcallers", &cap) != 0)
    return -1;
  if (cap < ncallers || cap > MAX_CALLERS || (cap & (cap - 1)) != 0 ||
      (cap != 0 && cap < 8))
    return ct_snap_r_bad(r, "faultstate.capcallers", "is not a capacity", 4);
  if (!ct_snap_r_room(r, ncallers, 28))
    return ct_snap_r_bad(r, "faultstate.callers",
                         "count is larger than the section", 8);
  if (cap > 0) {
    f->callers = ct_calloc(cap, sizeof *f->callers);
    if (f->callers == NULL) return ct_snap_r_oom(r);
    f->capcallers = cap;
  }
  for (i = 0; i < ncallers; i++) {
    ct_fault_caller *c = &f->callers[i];
    if (ct_snap_r_bytes(r, "faultcaller.key", CT_LIMIT_BODY, 0, &c->key,
                        &c->keylen) != 0)
      return -1;
    f->ncallers = i + 1;             /* its key is the state's to free */
    if (ct_snap_r_i64(r, "faultcaller.retry_until", &c->retry_until) != 0 ||
        ct_snap_r_i64(r, "faultcaller.window_start",
                      &c->window_start) != 0 ||
        ct_snap_r_i64(r, "faultcaller.window_count",
                      &c->window_count) != 0)
      return -1;
    if (c->window_count < 0)
      return ct_snap_r_bad(r, "faultcaller.window_count", "is negative", 8);
  }
  for (k = 0; k < CT_FAULT__COUNT; k++)
    if (ct_snap_r_u64(r, "faultstate.refused", &f->refused[k]) != 0)
      return -1;
  return 0;
}

/* ---------- the sections, in the order they are written ---------- */

typedef struct section {
  char tag[5];
  int (*write)(const ct_store *s, ct_snap_w *w);
  int (*read)(ct_store *s, ct_snap_r *r);
} section;

/* critical sections (upper-case first letter) must all be present */
static const section sections[] = {
  { "STOR", wr_store, rd_store },
  { "TNNT", wr_tenants, rd_tenants },
  { "FALT", wr_faults, rd_faults },
  { "FLTS", wr_faultstate, rd_faultstate },
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static void w_patch(ct_snap_w *w, size_t at, uint64_t v, int n) {
  int i;
  for (i = 0; i < n; i++) w->p[at + (size_t)i] = (unsigned char)(v >> (8 * i));
}

int ct_snap_write(const ct_store *s, unsigned char **out, size_t *len) {
  ct_snap_w w;
  size_t i, start;
  uint64_t sum;
  memset(&w, 0, sizeof w);
  *out = NULL;
  *len = 0;
  /* most of an image is its tasks: about 30 bytes each */
  if (w_reserve(&w, 4096 + s->ntasks_total * 34) != 0) return -1;
  w_bytes(&w, CT_SNAP_MAGIC, 8);
  ct_snap_w_u32(&w, CT_SNAP_FORMAT);
  ct_snap_w_u32(&w, 0);
  ct_snap_w_u64(&w, 0);             /* body length, patched below */
  start = w.len;
  for (i = 0; i < NSECTIONS; i++) {
    size_t at;
    w_bytes(&w, sections[i].tag, 4);
    at = w.len;
    ct_snap_w_u64(&w, 0);
    if (w.oom || sections[i].write(s, &w) != 0) {
      free(w.p);
      return -1;
    }
    w_patch(&w, at, (uint64_t)(w.len - at - 8), 8);
  }
  if (w_reserve(&w, 8) != 0) {
    free(w.p);
    return -1;
  }
  w_patch(&w, 16, (uint64_t)(w.len - start), 8);
  sum = ct_snap_checksum(w.p + start, w.len - start);
  ct_snap_w_u64(&w, sum);
  *out = w.p;
  *len = w.len;
  return 0;
}

static int critical(const char *tag) {
  return tag[0] >= 'A' && tag[0] <= 'Z';
}

static void tag_text(const unsigned char *p, char out[5]) {
  int i;
  for (i = 0; i < 4; i++)
    out[i] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\'') ? (char)p[i]
                                                            : '?';
  out[4] = '\0';
}

ct_store *ct_snap_read(const void *image, size_t len, char *msg,
                       size_t cap) {
  const unsigned char *p = (const unsigned char *)image;
  uint64_t body, sum, seclen;
  uint32_t format, flags;
  size_t at, next = 0, i;
  int seen[NSECTIONS];
  ct_options o;
  ct_store *s;
  ct_snap_r r;
  if (len == 0) {
    snprintf(msg, cap, "not a crosstenant snapshot: the image is empty");
    return NULL;
  }
  if (memcmp(p, CT_SNAP_MAGIC, len < 8 ? len : 8) != 0) {
    snprintf(msg, cap, "not a crosstenant snapshot");
    return NULL;
  }
  if (len < CT_SNAP_HEADER) {
    snprintf(msg, cap, "truncated at byte %zu", len);
    return NULL;
  }
  format = (uint32_t)(load64(p + 8) & 0xffffffffu);
  flags = (uint32_t)(load64(p + 8) >> 32);
  body = load64(p + 16);
  if (format > CT_SNAP_FORMAT) {
    snprintf(msg, cap, "snapshot format %lu is newer than this crosstenant "
             "(%d)", (unsigned long)format, CT_SNAP_FORMAT);
    return NULL;
  }
  if (format == 0 || flags != 0) {
    snprintf(msg, cap, "corrupt snapshot: %s at byte %d",
             format == 0 ? "format 0" : "unknown header flags",
             format == 0 ? 8 : 12);
    return NULL;
  }
  if (body > len - CT_SNAP_HEADER || len - CT_SNAP_HEADER - body < 8) {
    snprintf(msg, cap, "truncated at byte %zu", len);
    return NULL;
  }
  if (len - CT_SNAP_HEADER - body > 8) {
    snprintf(msg, cap, "corrupt snapshot: %zu bytes after the end at byte "
             "%zu", (size_t)(len - CT_SNAP_HEADER - body - 8),
             (size_t)(CT_SNAP_HEADER + body + 8));
    return NULL;
  }
  sum = load64(p + CT_SNAP_HEADER + body);
  if (sum != ct_snap_checksum(p + CT_SNAP_HEADER, (size_t)body)) {
    snprintf(msg, cap, "corrupt snapshot: checksum mismatch at byte %zu",
             (size_t)(CT_SNAP_HEADER + body));
    return NULL;
  }

  memset(&o, 0, sizeof o);
  o.has_seed = 1;
  s = ct_store_new(&o);
  if (s == NULL) {
    snprintf(msg, cap, "out of memory");
    return NULL;
  }
  memset(seen, 0, sizeof seen);
  at = CT_SNAP_HEADER;
  while (at < CT_SNAP_HEADER + body) {
    size_t left = (size_t)(CT_SNAP_HEADER + body - at);
    char tag[5];
    int k = -1;
    if (left < 12) {
      snprintf(msg, cap, "corrupt snapshot: section header runs past the "
               "end at byte %zu", at);
      goto fail;
    }
    tag_text(p + at, tag);
    seclen = load64(p + at + 4);
    if (seclen > left - 12) {
      snprintf(msg, cap, "corrupt snapshot: section '%s' runs past the end "
               "at byte %zu", tag, at + 4);
      goto fail;
    }
    for (i = 0; i < NSECTIONS; i++)
      if (memcmp(p + at, sections[i].tag, 4) == 0) k = (int)i;
    if (k < 0) {
      if (critical(tag)) {
        snprintf(msg, cap, "snapshot section '%s' is unknown to this "
                 "crosstenant (format %d)", tag, CT_SNAP_FORMAT);
        goto fail;
      }
    } else {
      if (seen[k] || (size_t)k < next) {
        snprintf(msg, cap, "corrupt snapshot: section '%s' %s at byte %zu",
                 tag, seen[k] ? "repeats" : "is out of order", at);
        goto fail;
      }
      /* the ones before it must have come */
      for (i = 0; i < (size_t)k; i++)
        if (!seen[i] && critical(sections[i].tag)) {
          snprintf(msg, cap, "corrupt snapshot: section '%s' is missing "
                   "before '%s' at byte %zu", sections[i].tag, tag, at);
          goto fail;
        }
      seen[k] = 1;
      next = (size_t)k + 1;
      r.p = p + at + 12;
      r.n = (size_t)seclen;
      r.at = 0;
      r.base = at + 12;
      r.msg = msg;
      r.cap = cap;
      if (sections[k].read(s, &r) != 0) goto fail;
      if (r.at != r.n) {
        snprintf(msg, cap, "corrupt snapshot: section '%s' has %zu bytes "
                 "left over at byte %zu", tag, r.n - r.at, r.base + r.at);
        goto fail;
      }
    }
    at += 12 + (size_t)seclen;
  }
  for (i = 0; i < NSECTIONS; i++)
    if (!seen[i] && critical(sections[i].tag)) {
      snprintf(msg, cap, "corrupt snapshot: section '%s' is missing",
               sections[i].tag);
      goto fail;
    }
  return s;
fail:
  ct_store_free(s);
  return NULL;
}
