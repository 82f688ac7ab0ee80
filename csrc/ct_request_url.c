/*
** ct_request_url.c -- the target of a request: scheme and host against
** the base URL, the path split and percent-decoded, the version prefix,
** the query string set apart; then the route (case-insensitive
** segments, the job key plain or in parentheses, $count) and the
** operation of each route and method.
*/
#include <string.h>

#include "ct_request_int.h"

static int hexval(int c) {
  if (is_digit(c)) return c - '0';
  c = lower(c);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/*
** Percent-decoding: every '%' takes two hex digits; `plus` also turns
** '+' into a space (query strings).  Writes into a (out has room for n
** bytes); returns the length, or -1 on a bad escape.
*/
long ct_rq_unescape(const char *s, size_t n, char *out, int plus) {
  size_t i, k = 0;
  if (!plus && memchr(s, '%', n) == NULL) {   /* nothing to decode */
    memcpy(out, s, n);
    return (long)n;
  }
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      int h, l;
      if (n - i < 3) return -1;
      h = hexval((unsigned char)s[i + 1]);
      l = hexval((unsigned char)s[i + 2]);
      if (h < 0 || l < 0) return -1;
      out[k++] = (char)(h * 16 + l);
      i += 2;
    } else {
      out[k++] = (plus && c == '+') ? ' ' : c;
    }
  }
  return (long)k;
}

/* ---------- the URL ---------- */

/* scheme and host of the base URL */
static void base_parts(str base, str *scheme, str *host) {
  size_t i = 0;
  while (i < base.n && base.p[i] != ':') i++;
  scheme->p = base.p;
  scheme->n = i;
  host->p = base.p + (i + 3 <= base.n ? i + 3 : base.n);
  host->n = base.n - (size_t)(host->p - base.p);
}

static int ieq_str(const char *a, size_t n, str b) {
  size_t i;
  if (n != b.n) return 0;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b.p[i]))
      return 0;
  return 1;
}

int ct_rq_parse_url(rq *q, url *u) {
  const char *s = q->req->target, *rest = s, *path;
  size_t n = q->req->target_len, i, restn = n, pathn;
  u->nsegs = 0;
  if (n > 0 && is_alpha((unsigned char)s[0])) {
    i = 1;
    while (i < n && (is_alnum((unsigned char)s[i]) || s[i] == '+' ||
                     s[i] == '.' || s[i] == '-')) i++;
    if (i + 3 <= n && memcmp(s + i, "://", 3) == 0) {
      size_t h = i + 3, e = h;
      str scheme, host;
      base_parts(q->base, &scheme, &host);
      while (e < n && s[e] != '/' && s[e] != '?' && s[e] != '#') e++;
      if (!ieq_str(s, i, scheme) || !ieq_str(s + h, e - h, host)) {
        ct_buf m;
        int r;
        ct_buf_init(&m);
        ct_buf_adds(&m, "Unknown host or scheme in '");
        ct_buf_add(&m, s, upto(n, 200));
        ct_buf_adds(&m, "'; the model answers ");
        ct_buf_add(&m, q->base.p, q->base.n);
        ct_buf_adds(&m, ".");
        r = ct_rq_fail(q, 404, "itemNotFound", NULL, m.p ? m.p : "", m.len);
        ct_buf_free(&m);
        return r;
      }
      rest = s + e;
      restn = n - e;
    }
  }
  {
    const char *hash = restn ? memchr(rest, '#', restn) : NULL, *qm;
    if (hash != NULL) restn = (size_t)(hash - rest);
    qm = restn ? memchr(rest, '?', restn) : NULL;
    i = qm != NULL ? (size_t)(qm - rest) : restn;
  }
  path = rest;
  pathn = i;
  u->qs.p = i < restn ? rest + i + 1 : rest + restn;
  u->qs.n = i < restn ? restn - i - 1 : 0;
  if (pathn == 0 || path[0] != '/') {
    ct_buf m;
    int r;
    ct_buf_init(&m);
    ct_buf_adds(&m, "The URL must start with '/' or '");
    ct_buf_add(&m, q->base.p, q->base.n);
    ct_buf_adds(&m, "/'.");
    r = ct_rq_fail(q, 400, "invalidRequest", NULL, m.p ? m.p : "", m.len);
    ct_buf_free(&m);
    return r;
  }
  u->nsegs = 1;
  {
    const char *at = path + 1, *end = path + pathn;
    while ((at = memchr(at, '/', (size_t)(end - at))) != NULL) {
      u->nsegs++;
      at++;
    }
  }
  u->segs = ct_arena_alloc(&q->a, u->nsegs * sizeof(str));
  if (u->segs == NULL) return -2;
  u->nsegs = 0;
  i = 1;
  for (;;) {
    size_t b = i;
    long k;
    char *d;
    const char *slash = memchr(path + i, '/', pathn - i);
    i = slash != NULL ? (size_t)(slash - path) : pathn;
    d = ct_arena_alloc(&q->a, i - b + 1);
    if (d == NULL) return -2;
    k = ct_rq_unescape(path + b, i - b, d, 0);
    if (k < 0)
      return ct_rq_fail3(q, 400, "invalidRequest", NULL,
                         "The URL has a bad percent-escape in '", path + b,
                         upto(i - b, 200), "'.");
    d[k] = '\0';
    u->segs[u->nsegs].p = d;
    u->segs[u->nsegs].n = (size_t)k;
    u->nsegs++;
    if (i >= pathn) break;
    i++;
  }
  q->version = "beta";
  if (u->nsegs > 0 && (ieq(u->segs[0].p, u->segs[0].n, "beta") ||
                       ieq(u->segs[0].p, u->segs[0].n, "v1.0"))) {
    q->version = lower((unsigned char)u->segs[0].p[0]) == 'b' ? "beta"
                                                             : "v1.0";
    u->segs++;
    u->nsegs--;
  }
  return 0;
}

/* ---------- routing ---------- */

/* methods of each kind: GET, POST, PATCH, DELETE -> op */
static const signed char kind_ops[][4] = {
  { OP_LIST_JOBS, OP_CREATE_JOB, -1, -1 },
  { OP_GET_JOB, -1, OP_UPDATE_JOB, OP_DELETE_JOB },
  { -1, OP_VALIDATE, -1, -1 },
  { -1, OP_MIGRATE, -1, -1 },
  { -1, OP_CANCEL_JOB, -1, -1 },
  { OP_LIST_TASKS, OP_CREATE_TASK, -1, -1 },
  { OP_GET_TASK, -1, -1, -1 },
  { -1, OP_CANCEL_TASK, -1, -1 },
  { OP_COUNT_JOBS, -1, -1, -1 },
  { OP_COUNT_TASKS, -1, -1, -1 },
};
/* what a 405 lists, sorted */
static const char *const kind_allows[] = {
  "GET, POST", "DELETE, GET, PATCH", "POST", "POST", "POST", "GET, POST",
  "GET", "POST", "GET", "GET"
};

/*
** The collection segment with a key in parentheses:
** crossTenantMigrationJobs(displayName='x') or ('x').  Returns 1 with
** the key (quotes undoubled, in the arena), 0 when the segment is not
** of this form, -1 when it is but the key is malformed.
*/
static int key_in_parens(rq *q, str seg, str *key, int *byname) {
  static const char coll[] = "crosstenantmigrationjobs(";
  size_t cn = sizeof coll - 1, b, e, i, k;
  const char *s = seg.p;
  char *out;
  if (seg.n < cn + 1 || !ieq(s, cn, coll) || s[seg.n - 1] != ')')
    return 0;
  b = cn;
  e = seg.n - 1;                  /* inner is s[b, e) */
  i = b;
  while (i < e && is_space((unsigned char)s[i])) i++;
  *byname = 0;
  if (i + 11 <= e && ieq(s + i, 11, "displayname")) {
    size_t j = i + 11;
    while (j < e && is_space((unsigned char)s[j])) j++;
    if (j < e && s[j] == '=') {
      j++;
      while (j < e && is_space((unsigned char)s[j])) j++;
      i = j;
      *byname = 1;
    }
  }
  if (i >= e || s[i] != '\'') return -1;
  while (e > i + 1 && is_space((unsigned char)s[e - 1])) e--;
  if (e <= i + 1 || s[e - 1] != '\'') return -1;
  /* the key is s[i+1, e-1), with '' meaning ' */
  out = ct_arena_alloc(&q->a, e - i);
  if (out == NULL) return -2;
  k = 0;
  for (b = i + 1; b < e - 1; b++) {
    out[k++] = s[b];
    if (s[b] == '\'' && b + 1 < e - 1 && s[b + 1] == '\'') b++;
  }
  out[k] = '\0';
  key->p = out;
  key->n = k;
  return 1;
}

int ct_rq_find_route(rq *q, const url *u, route *r) {
  const str *sg = u->segs;
  size_t ns = u->nsegs, n = 4, rest;
  static const str empty = { "", 0 };
  int kp;
#define SEG(i) ((i) <= ns ? sg[(i) - 1] : empty)
#define NF(i) ct_rq_not_found_seg(q, SEG(i))
                                  memset(r, 0, sizeof *r);
  if (ns < 1 || !ieq(sg[0].p, sg[0].n, "solutions")) return NF(1);
  if (ns < 2 || !ieq(sg[1].p, sg[1].n, "migrations")) return NF(2);
  if (ns < 3) return NF(3);
  kp = key_in_parens(q, sg[2], &r->job, &r->byname);
  if (kp == -2) return -2;
  if (kp < 0) return NF(3);
  if (kp == 0) {
    if (!ieq(sg[2].p, sg[2].n, "crosstenantmigrationjobs")) return NF(3);
    if (ns == 3) {
      r->kind = K_JOBS;
      return 0;
    }
    if (ns == 4 && eq(sg[3].p, sg[3].n, "$count")) {
      r->kind = K_JOBSCOUNT;
      return 0;
    }
    r->job = sg[3];
    r->byname = 0;
    n = 5;
  }
  if (r->job.n == 0) return NF(n - 1);
  rest = ns + 1 - n;
  if (rest == 0) {
    r->kind = K_JOB;
    return 0;
  }
  {
    str a = sg[n - 1];
    if (rest == 1) {
      if (ieq(a.p, a.n, "validate")) r->kind = K_VALIDATE;
      else if (ieq(a.p, a.n, "migrate")) r->kind = K_MIGRATE;
      else if (ieq(a.p, a.n, "cancel")) r->kind = K_CANCEL;
      else if (ieq(a.p, a.n, "users")) r->kind = K_USERS;
      else return NF(n);
      return 0;
    }
    if (!ieq(a.p, a.n, "users")) return NF(n);
  }
  r->task = sg[n];
  if (r->task.n == 0) return NF(n + 1);
  if (rest == 2) {
    r->kind = eq(r->task.p, r->task.n, "$count") ? K_USERSCOUNT : K_USER;
    return 0;
  }
  if (rest == 3 && ieq(sg[n + 1].p, sg[n + 1].n, "cancel")) {
    r->kind = K_USERCANCEL;
    return 0;
  }
  return NF(n + 2);
#undef SEG
#undef NF
}

int ct_rq_route_op(int kind, int method) {
  return method < 0 ? -1 : kind_ops[kind][method];
}

const char *ct_rq_route_allows(int kind) {
  return kind_allows[kind];
}
