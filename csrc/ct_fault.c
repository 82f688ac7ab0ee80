/*
** ct_fault.c -- throttling and transient faults (see ct_fault.h for the
** order of the decisions).  No Lua, no clock, no globals.
*/
#include "ct_fault.h"
#include "ct_util.h"

#include <stdlib.h>
#include <string.h>

#define TICKS 10000000LL            /* 100-ns ticks a second */

/* Graph's texts: the 429 as Graph sends it (error.code
   activityLimitReached, innerError.code throttledRequest); 503 and 504
   with the descriptions of Graph's error page */
static const char *const CODE[CT_FAULT__COUNT] = {
  "activityLimitReached", "serviceNotAvailable", "gatewayTimeout"
};
static const char *const MESSAGE[CT_FAULT__COUNT] = {
  "The request has been throttled",
  "The service is not available. Try the request again after a delay. "
  "There may be a Retry-After header.",
  "The server, while acting as a proxy, did not receive a timely "
  "response from the upstream server it needed to access in attempting "
  "to complete the request."
};
static const int STATUS[CT_FAULT__COUNT] = { 429, 503, 504 };

/* ---------- the generator: splitmix64 seeding, xorshift128+ ---------- */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double draw(ct_fault_state *f) {
  uint64_t a = f->rng[0], b = f->rng[1];
  f->rng[0] = b;
  a ^= a << 23;
  f->rng[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
  return (double)((f->rng[1] + b) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---------- the state ---------- */

void ct_fault_init(ct_fault_state *f, uint64_t seed) {
  uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;   /* not the ids' sequence */
  memset(f, 0, sizeof *f);
  f->retry_after = 1;
  f->rng[0] = splitmix(&x);
  f->rng[1] = splitmix(&x);
}

void ct_fault_free(ct_fault_state *f) {
  size_t i;
  if (f == NULL) return;
  for (i = 0; i < f->nrules; i++) free(f->rules[i].path);
  for (i = 0; i < f->ncallers; i++) free(f->callers[i].key);
  free(f->rules);
  free(f->callers);
  f->rules = NULL;
  f->callers = NULL;
  f->nrules = f->caprules = f->ncallers = f->capcallers = 0;
}

int ct_fault_index(int status) {
  switch (status) {
    case 429: return CT_FAULT_429;
    case 503: return CT_FAULT_503;
    case 504: return CT_FAULT_504;
    default: return -1;
  }
}

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int upper(int c) {
  return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* the method in upper case into out[8], or -1 when it is not one of
   Graph's four */
static int method_norm(const char *m, char out[8]) {
  static const char *const known[] = { "GET", "POST", "PATCH", "DELETE" };
  size_t i, n = strlen(m);
  if (n >= 8) return -1;
  for (i = 0; i <= n; i++) out[i] = (char)upper((unsigned char)m[i]);
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(out, known[i]) == 0) return 0;
  return -1;
}

static int pattern_ok(const char *p, size_t n) {
  size_t i;
  if (n < 2 || n > CT_FAULT_MAX_PATH || p[0] != '/' || p[n - 1] == '/')
    return 0;
  for (i = 0; i < n; i++) {
    if (p[i] == '?' || p[i] == '#' || p[i] == '\0') return 0;
    if (p[i] == '/' && i + 1 < n && p[i + 1] == '/') return 0;
  }
  return 1;
}

int ct_fault_add(ct_fault_state *f, int status, int retry_after,
                 int64_t times, const char *method, const char *path,
                 size_t pathlen) {
  ct_fault_rule r;
  memset(&r, 0, sizeof r);
  if (ct_fault_index(status) < 0 || retry_after < 1 ||
      retry_after > CT_FAULT_MAX_RETRY || times < 1)
    return -1;
  if (method != NULL && method_norm(method, r.method) != 0) return -1;
  if (path != NULL && !pattern_ok(path, pathlen)) return -1;
  r.status = status;
  r.retry_after = retry_after;
  r.times = times;
  if (f->nrules == f->caprules) {
    size_t cap = f->caprules ? f->caprules * 2 : 4;
    ct_fault_rule *p = ct_realloc(f->rules, cap * sizeof *p);
    if (p == NULL) return -2;
    f->rules = p;
    f->caprules = cap;
  }
  if (path != NULL) {
    r.path = ct_malloc(pathlen + 1);
    if (r.path == NULL) return -2;
    memcpy(r.path, path, pathlen);
    r.path[pathlen] = '\0';
    r.pathlen = pathlen;
  }
  f->rules[f->nrules++] = r;
  return 0;
}

int ct_fault_set_rates(ct_fault_state *f,
                       const double rate[CT_FAULT__COUNT], int retry_after) {
  double sum = 0;
  int i;
  for (i = 0; i < CT_FAULT__COUNT; i++) {
    if (!(rate[i] >= 0 && rate[i] <= 1)) return -1;    /* NaN too */
    sum += rate[i];
  }
  if (sum > 1 + 1e-9 || retry_after < 1 ||
      retry_after > CT_FAULT_MAX_RETRY)
    return -1;
  for (i = 0; i < CT_FAULT__COUNT; i++) f->rate[i] = rate[i];
  f->retry_after = retry_after;
  return 0;
}

int ct_fault_set_budget(ct_fault_state *f, int64_t requests, double per) {
  if (requests == 0) {
    f->budget_requests = 0;
    f->budget_per = 0;
    return 0;
  }
  if (requests < 0 || !(per > 0 && per <= CT_FAULT_MAX_PER)) return -1;
  f->budget_requests = requests;
  f->budget_per = (int64_t)(per * (double)TICKS + 0.5);
  if (f->budget_per < 1) f->budget_per = 1;
  return 0;
}

static int has_rates(const ct_fault_state *f) {
  return f->rate[0] > 0 || f->rate[1] > 0 || f->rate[2] > 0;
}

int ct_fault_armed(const ct_fault_state *f) {
  return f->nrules > 0 || f->ncallers > 0 || f->budget_requests > 0 ||
         has_rates(f);
}

/* ---------- paths ---------- */

int ct_fault_path_match(const char *pattern, size_t plen, const char *path,
                        size_t len) {
  size_t i = 0, j = 0;
  if (plen == 0 || len == 0 || pattern[0] != '/' || path[0] != '/') return 0;
  while (i < plen && j < len) {
    size_t ps, pe, s, e;
    ps = ++i;                               /* past the '/' */
    while (i < plen && pattern[i] != '/') i++;
    pe = i;
    s = ++j;
    while (j < len && path[j] != '/') j++;
    e = j;
    if (e == s) return 0;                   /* an empty segment */
    if (pe - ps == 1 && pattern[ps] == '*') continue;
    if (pe - ps != e - s) return 0;
    for (; ps < pe; ps++, s++)
      if (lower((unsigned char)pattern[ps]) != lower((unsigned char)path[s]))
        return 0;
  }
  return i == plen && j == len;
}

static int rule_matches(const ct_fault_rule *r, const char *method,
                        const char *path, size_t pathlen) {
  if (r->method[0] != '\0' &&
      (method == NULL || strcmp(r->method, method) != 0))
    return 0;
  if (r->path == NULL) return 1;
  return path != NULL &&
         ct_fault_path_match(r->path, r->pathlen, path, pathlen);
}

/* ---------- callers ---------- */

static int caller_idle(const ct_fault_state *f, const ct_fault_caller *c,
                       int64_t now) {
  return c->retry_until <= now &&
         (f->budget_requests == 0 ||
          now - c->window_start >= f->budget_per ||
          now < c->window_start);
}

static ct_fault_caller *caller_find(ct_fault_state *f, const char *key,
                                    size_t n) {
  size_t i;
  for (i = 0; i < f->ncallers; i++) {
    ct_fault_caller *c = &f->callers[i];
    if (c->keylen == n && memcmp(c->key, key, n) == 0) return c;
  }
  return NULL;
}

/* drop the callers that remember nothing that still matters at `now` */
static void callers_prune(ct_fault_state *f, int64_t now) {
  size_t i, k = 0;
  for (i = 0; i < f->ncallers; i++) {
    if (caller_idle(f, &f->callers[i], now)) free(f->callers[i].key);
    else f->callers[k++] = f->callers[i];
  }
  f->ncallers = k;
}

static ct_fault_caller *caller_add(ct_fault_state *f, const char *key,
                                   size_t n, int64_t now) {
  ct_fault_caller *c;
  char *k;
  if (f->ncallers == f->capcallers) callers_prune(f, now);
  if (f->ncallers == f->capcallers) {
    size_t cap = f->capcallers ? f->capcallers * 2 : 8;
    c = ct_realloc(f->callers, cap * sizeof *c);
    if (c == NULL) return NULL;
    f->callers = c;
    f->capcallers = cap;
  }
  k = ct_malloc(n + 1);
  if (k == NULL) return NULL;
  if (n > 0) memcpy(k, key, n);
  k[n] = '\0';
  c = &f->callers[f->ncallers++];
  memset(c, 0, sizeof *c);
  c->key = k;
  c->keylen = n;
  return c;
}

/* whole seconds from now to `until` (> now), rounded up, at least 1 */
static int seconds_left(int64_t until, int64_t now) {
  int64_t left = (until - now + TICKS - 1) / TICKS;
  if (left < 1) left = 1;
  if (left > CT_FAULT_MAX_RETRY) left = CT_FAULT_MAX_RETRY;
  return (int)left;
}

/* answer `status`; the caller's window runs to `until` at least */
static int refuse(ct_fault_state *f, ct_fault_caller *c, int status,
                  int retry_after, int64_t until, ct_fault_answer *out) {
  int i = ct_fault_index(status);
  f->refused[i]++;
  out->status = status;
  out->retry_after = retry_after;
  out->code = CODE[i];
  out->inner = i == CT_FAULT_429 ? "throttledRequest" : NULL;
  out->message = MESSAGE[i];
  if (c != NULL && until > c->retry_until) c->retry_until = until;
  return status;
}

/* the caller's record, made when missing; NULL out of memory */
static ct_fault_caller *caller_get(ct_fault_state *f, ct_fault_caller *c,
                                   const char *key, size_t n, int64_t now) {
  return c != NULL ? c : caller_add(f, key, n, now);
}

int ct_fault_decide(ct_fault_state *f, int64_t now, const char *method,
                    const char *path, size_t pathlen, const char *caller,
                    size_t callerlen, ct_fault_answer *out) {
  ct_fault_caller *c;
  double u = 0;
  size_t i;
  int rates = has_rates(f);
  if (!ct_fault_armed(f)) return 0;
  if (rates) u = draw(f);                          /* 0: one per request */
  c = caller_find(f, caller, callerlen);
  if (c != NULL && c->retry_until > now)           /* 1: retried early */
    return refuse(f, c, 429, seconds_left(c->retry_until, now), 0,
                  out);
  for (i = 0; i < f->nrules; i++) {                /* 2: scripted */
    ct_fault_rule *r = &f->rules[i];
    if (rule_matches(r, method, path, pathlen)) {
      int status = r->status, retry = r->retry_after;
      if (--r->times == 0) {
        free(r->path);
        memmove(r, r + 1, (f->nrules - i - 1) * sizeof *r);
        f->nrules--;
      }
      c = caller_get(f, c, caller, callerlen, now);
      return refuse(f, c, status, retry,
                    now + (int64_t)retry * TICKS, out);
    }
  }
  if (f->budget_requests > 0) {                    /* 3: the budget */
    c = caller_get(f, c, caller, callerlen, now);
    if (c != NULL) {
      if (c->window_count == 0 || now < c->window_start ||
          now - c->window_start >= f->budget_per) {
        c->window_start = now;
        c->window_count = 0;
      }
      if (c->window_count >= f->budget_requests) {
        int64_t until = c->window_start + f->budget_per;
        return refuse(f, c, 429, seconds_left(until, now), until, out);
      }
      c->window_count++;
    }
  }
  if (rates) {                                     /* 4: the draw */
    double edge = 0;
    int k;
    for (k = 0; k < CT_FAULT__COUNT; k++) {
      edge += f->rate[k];
      if (f->rate[k] > 0 && u < edge) {
        c = caller_get(f, c, caller, callerlen, now);
        return refuse(f, c, STATUS[k], f->retry_after,
                      now + (int64_t)f->retry_after * TICKS, out);
      }
    }
  }
  return 0;
}
