/*
** ct_fault.h -- throttling and transient faults, as Graph answers them:
** 429 activityLimitReached (inner code throttledRequest), 503
** serviceNotAvailable, 504 gatewayTimeout, each with a Retry-After in
** whole seconds.  Plain C, no Lua, no clock of its own: every decision
** takes `now` (100-ns ticks since 1970-01-01, as ct_time), so the Lua
** front end decides on the model clock and a server on the wall clock.
**
** What decides, in this order, for one request (ct_fault_decide):
**   0. the seeded draw: when any rate is set, exactly one number is drawn
**      for every request decided, whatever its answer, so the sequence
**      of draws depends only on the seed and the number of requests;
**   1. the caller's Retry-After window: a caller (an opaque key: the
**      token's tenant and app id, or the default caller) that got an
**      answer with Retry-After and comes back before it has passed is
**      throttled again (429) with the time left, rounded up to whole
**      seconds; the window is not extended;
**   2. the scripted rules, oldest first: the first rule whose method and
**      path pattern match answers; its `times` counts down and the rule
**      goes at zero;
**   3. the budget: more than `requests` requests of one caller in a
**      window of `per` seconds (a fixed window opened by the caller's
**      first request after the last one closed) are throttled until the
**      window closes;
**   4. the draw of step 0 against the rates (429, then 503, then 504).
** Every answer with a Retry-After opens the caller's window (step 1).
** A request refused in step 1 or 2 does not count against the budget.
**
** The state is one struct of plain data (ct_fault_state) with no
** pointers into anything else; its owned blocks are `rules[i].path` and
** `callers[i].key`.  A snapshot writes every field listed there.
*/
#ifndef CT_FAULT_H
#define CT_FAULT_H

#include <stddef.h>
#include <stdint.h>

/* the statuses a fault can answer with, and their index in the arrays */
enum { CT_FAULT_429, CT_FAULT_503, CT_FAULT_504, CT_FAULT__COUNT };

#define CT_FAULT_MAX_RETRY 86400      /* seconds: Retry-After at most */
#define CT_FAULT_MAX_PER 86400.0      /* seconds: a budget window at most */
#define CT_FAULT_MAX_PATH 2048        /* bytes of a path pattern */

/* one scripted fault: the next `times` matching requests get `status` */
typedef struct ct_fault_rule {
  int status;              /* 429, 503 or 504 */
  int retry_after;         /* seconds, 1..CT_FAULT_MAX_RETRY */
  int64_t times;           /* uses left, >= 1 */
  char method[8];          /* "GET", "POST", "PATCH", "DELETE"; "": any */
  char *path;              /* pattern under /solutions/migrations; NULL:
                              any path.  Owned, NUL-terminated. */
  size_t pathlen;
} ct_fault_rule;

/* what the store remembers of one caller */
typedef struct ct_fault_caller {
  char *key;               /* owned, `keylen` bytes plus a NUL */
  size_t keylen;
  int64_t retry_until;     /* ticks: throttled before this; 0: none */
  int64_t window_start;    /* ticks: the budget window's opening */
  int64_t window_count;    /* requests counted in that window */
} ct_fault_caller;

typedef struct ct_fault_state {
  ct_fault_rule *rules;    /* scripted, oldest first */
  size_t nrules, caprules;
  double rate[CT_FAULT__COUNT];   /* by status index; sum <= 1 */
  int retry_after;         /* seconds: rate faults and rules without one */
  int64_t budget_requests; /* 0: no budget */
  int64_t budget_per;      /* ticks */
  uint64_t rng[2];         /* xorshift128+, apart from the ids' one */
  ct_fault_caller *callers;
  size_t ncallers, capcallers;
  uint64_t refused[CT_FAULT__COUNT];   /* answers given, by status */
} ct_fault_state;

/* a refusal: what the request is answered with */
typedef struct ct_fault_answer {
  int status;              /* 429, 503 or 504 */
  int retry_after;         /* seconds, >= 1: the Retry-After header */
  const char *code;        /* error.code */
  const char *inner;       /* innerError.code, or NULL */
  const char *message;     /* error.message (static text) */
} ct_fault_answer;

/* an empty state (no rules, rates, budget or callers), its generator
   seeded from `seed` (the store's seed) apart from the store's own */
void ct_fault_init(ct_fault_state *f, uint64_t seed);
/* frees what the state owns and leaves it empty; f may be NULL */
void ct_fault_free(ct_fault_state *f);

/* the index of a status (CT_FAULT_429...), or -1 for any other */
int ct_fault_index(int status);

/*
** Adds a scripted rule after the others.  method: NULL or one of GET,
** POST, PATCH, DELETE (any case; kept upper case).  path: NULL, or a
** pattern of `pathlen` bytes: '/' then segments separated by '/', none
** empty, at most CT_FAULT_MAX_PATH bytes, no '?' or '#'; a segment "*"
** matches any one segment, the others match case-insensitively (ASCII).
** Returns 0; -1 for a value out of range (nothing changes); -2 out of
** memory (nothing changes).
*/
int ct_fault_add(ct_fault_state *f, int status, int retry_after,
                 int64_t times, const char *method, const char *path,
                 size_t pathlen);

/* rates (0..1 each, sum <= 1) by status index, and the Retry-After of
   rate faults in seconds; -1 (nothing changes) when out of range */
int ct_fault_set_rates(ct_fault_state *f,
                       const double rate[CT_FAULT__COUNT], int retry_after);
/* the budget: `requests` >= 1 in `per` seconds (0 < per <=
   CT_FAULT_MAX_PER); requests == 0 removes it; -1 when out of range */
int ct_fault_set_budget(ct_fault_state *f, int64_t requests, double per);

/* 1 when some rule, rate, budget or caller window can refuse a request:
   when 0, ct_fault_decide would answer 0 and change nothing */
int ct_fault_armed(const ct_fault_state *f);

/* 1 when `path` (segments under /solutions/migrations, "/a/b") matches
   `pattern` as ct_fault_add describes */
int ct_fault_path_match(const char *pattern, size_t plen, const char *path,
                        size_t len);

/*
** Decides one request at `now` (ticks).  method: upper case; path: the
** request's path under /solutions/migrations, percent-decoded, without
** the query ("/crossTenantMigrationJobs/{id}/users"), or NULL when the
** path is not under it (then only rules without a path match); caller:
** an opaque key of `callerlen` bytes.  Returns 0 (go on) or the status
** of the refusal, with *out filled.  Out of memory while remembering a
** caller, the request goes on unrefused by the budget.
*/
int ct_fault_decide(ct_fault_state *f, int64_t now, const char *method,
                    const char *path, size_t pathlen, const char *caller,
                    size_t callerlen, ct_fault_answer *out);

#endif
