/*
** test_fault.c -- standalone tests for ct_fault.c: rules, path patterns,
** Retry-After windows, the budget, seeded rates, and the state inside
** the store.  Prints one line per failed check, then "N passed, N
** failed"; exits non-zero when anything failed.
*/
#include "check.h"
#include "ct_fault.h"
#include "ct_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 10000000LL
#define T0 (1762419600LL * SEC)         /* 2025-11-06T09:00:00Z */

static const char JOBS[] = "/crossTenantMigrationJobs";
static const char USERS[] = "/crossTenantMigrationJobs/abc/users";
static const char ME[] = "87654321-4321-4321-4321-210987654321/";

static int add(ct_fault_state *f, int status, int retry, int64_t times,
               const char *method, const char *path)
{
  return ct_fault_add(f, status, retry, times, method, path,
                      path ? strlen(path) : 0);
}

static int decide(ct_fault_state *f, int64_t now, const char *method,
                  const char *path, const char *caller, ct_fault_answer *a)
{
  return ct_fault_decide(f, now, method, path, path ? strlen(path) : 0,
                         caller, strlen(caller), a);
}

static int match(const char *pattern, const char *path)
{
  return ct_fault_path_match(pattern, strlen(pattern), path, strlen(path));
}

static void test_paths(tally *t)
{
  CHECK(match("/crossTenantMigrationJobs", "/crossTenantMigrationJobs"));
  CHECK(match("/crossTenantMigrationJobs", "/CROSSTENANTMIGRATIONJOBS"));
  CHECK(match("/crossTenantMigrationJobs/*/users", USERS));
  CHECK(match("/crossTenantMigrationJobs/*/users",
              "/crosstenantmigrationjobs/My Job/USERS"));
  CHECK(match("/*", "/crossTenantMigrationJobs"));
  CHECK(match("/*/*", "/crossTenantMigrationJobs/x"));
  CHECK(!match("/*", "/crossTenantMigrationJobs/x"));
  CHECK(!match("/crossTenantMigrationJobs/*/users", JOBS));
  CHECK(!match("/crossTenantMigrationJobs/*/users",
               "/crossTenantMigrationJobs/a/b/users"));
  CHECK(!match("/crossTenantMigrationJobs/*/users",
               "/crossTenantMigrationJobs/a/users/x"));
  CHECK(!match("/crossTenantMigrationJobs/*/users",
               "/crossTenantMigrationJobs//users"));   /* '*' is not empty */
  CHECK(!match("/crossTenantMigrationJobs", "/crossTenantMigrationJob"));
  CHECK(!match("/crossTenantMigrationJob", "/crossTenantMigrationJobs"));
  CHECK(!match("/a*", "/abc"));                    /* '*' only as a segment */
  CHECK(match("/a*", "/A*"));
  CHECK(!match("/x", ""));
  CHECK(!match("/x", "x"));
}

static void test_add(tally *t)
{
  ct_fault_state f;
  ct_fault_init(&f, 1);
  CHECK(!ct_fault_armed(&f));
  CHECK(f.retry_after == 1);
  CHECK(add(&f, 500, 1, 1, NULL, NULL) == -1);
  CHECK(add(&f, 418, 1, 1, NULL, NULL) == -1);
  CHECK(add(&f, 429, 0, 1, NULL, NULL) == -1);
  CHECK(add(&f, 429, -3, 1, NULL, NULL) == -1);
  CHECK(add(&f, 429, CT_FAULT_MAX_RETRY + 1, 1, NULL, NULL) == -1);
  CHECK(add(&f, 429, 1, 0, NULL, NULL) == -1);
  CHECK(add(&f, 429, 1, -1, NULL, NULL) == -1);
  CHECK(add(&f, 429, 1, 1, "PUT", NULL) == -1);
  CHECK(add(&f, 429, 1, 1, "GETTING", NULL) == -1);
  CHECK(add(&f, 429, 1, 1, "", NULL) == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "/") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "x") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "/a/") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "/a//b") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "/a?b") == -1);
  CHECK(add(&f, 429, 1, 1, NULL, "/a#b") == -1);
  CHECK(ct_fault_add(&f, 429, 1, 1, NULL, "/a\0b", 4) == -1);
  CHECK(f.nrules == 0 && !ct_fault_armed(&f));
  CHECK(add(&f, 429, 10, 2, "post", USERS) == 0);
  CHECK(add(&f, 504, CT_FAULT_MAX_RETRY, 1, NULL, NULL) == 0);
  CHECK(f.nrules == 2 && ct_fault_armed(&f));
  CHECK(strcmp(f.rules[0].method, "POST") == 0);
  CHECK(strcmp(f.rules[0].path, USERS) == 0);
  CHECK(f.rules[0].pathlen == strlen(USERS));
  CHECK(f.rules[1].method[0] == '\0' && f.rules[1].path == NULL);
  ct_fault_free(&f);
  CHECK(f.nrules == 0 && f.rules == NULL);
  ct_fault_free(&f);                        /* twice is fine */
  ct_fault_free(NULL);
}

static void test_rules(tally *t)
{
  ct_fault_state f;
  ct_fault_answer a;
  int64_t now = T0;
  ct_fault_init(&f, 1);
  CHECK(add(&f, 429, 3, 2, "POST", "/crossTenantMigrationJobs/*/users")
        == 0);
  CHECK(add(&f, 503, 2, 1, NULL, NULL) == 0);
  /* a GET of the users does not match the first rule: the second does */
  CHECK(decide(&f, now, "GET", USERS, ME, &a) == 503);
  CHECK(a.status == 503 && a.retry_after == 2 &&
        strcmp(a.code, "serviceNotAvailable") == 0 && a.inner == NULL);
  CHECK(strcmp(a.message, "The service is not available. Try the request "
               "again after a delay. There may be a Retry-After header.")
        == 0);
  CHECK(f.nrules == 1 && f.rules[0].times == 2);
  /* the caller's window: 2 s; another caller goes on */
  CHECK(decide(&f, now, "POST", JOBS, "other/", &a) == 0);
  now += 2 * SEC;
  CHECK(decide(&f, now, "POST", USERS, ME, &a) == 429);
  CHECK(a.retry_after == 3 && strcmp(a.code, "activityLimitReached") == 0 &&
        strcmp(a.inner, "throttledRequest") == 0 &&
        strcmp(a.message, "The request has been throttled") == 0);
  CHECK(f.nrules == 1 && f.rules[0].times == 1);
  now += 3 * SEC;
  /* a path outside /solutions/migrations (NULL) never matches a path */
  CHECK(decide(&f, now, "POST", NULL, ME, &a) == 0);
  CHECK(decide(&f, now, "POST", USERS, ME, &a) == 429);
  CHECK(f.nrules == 0);
  now += 3 * SEC;
  CHECK(decide(&f, now, "POST", USERS, ME, &a) == 0);
  CHECK(f.refused[CT_FAULT_429] == 2 && f.refused[CT_FAULT_503] == 1 &&
        f.refused[CT_FAULT_504] == 0);
  ct_fault_free(&f);
}

static void test_windows(tally *t)
{
  ct_fault_state f;
  ct_fault_answer a;
  ct_fault_init(&f, 1);
  CHECK(add(&f, 504, 10, 1, NULL, NULL) == 0);
  CHECK(decide(&f, T0, "GET", JOBS, ME, &a) == 504);
  CHECK(strcmp(a.code, "gatewayTimeout") == 0 && a.inner == NULL &&
        a.retry_after == 10);
  CHECK(f.ncallers == 1 && f.callers[0].retry_until == T0 + 10 * SEC);
  CHECK(ct_fault_armed(&f));              /* a window is running */
  /* early retries: 429 with the time left, rounded up */
  CHECK(decide(&f, T0 + 3 * SEC, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 7 && strcmp(a.inner, "throttledRequest") == 0);
  CHECK(decide(&f, T0 + 55 * SEC / 10, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 5);
  CHECK(decide(&f, T0 + 10 * SEC - 1, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 1);
  /* the window is not extended by the early retries */
  CHECK(f.callers[0].retry_until == T0 + 10 * SEC);
  CHECK(decide(&f, T0 + 10 * SEC, "GET", JOBS, ME, &a) == 0);
  CHECK(f.refused[CT_FAULT_429] == 3 && f.refused[CT_FAULT_504] == 1);
  /* an idle caller is dropped when room is needed */
  {
    char key[32];
    int i;
    for (i = 0; i < 100; i++) {
      CHECK(add(&f, 429, 1, 1, NULL, NULL) == 0);
      snprintf(key, sizeof key, "caller-%d/", i);
      CHECK(decide(&f, T0 + (100 + 2 * i) * SEC, "GET", JOBS, key, &a)
            == 429);
    }
    CHECK(f.ncallers <= 8);
    CHECK(decide(&f, T0 + 298 * SEC, "GET", JOBS, "caller-99/", &a) == 429);
    CHECK(decide(&f, T0 + 299 * SEC, "GET", JOBS, "caller-99/", &a) == 0);
  }
  /* a caller whose window still runs is never dropped */
  {
    char key[32];
    int i;
    for (i = 0; i < 20; i++) {
      CHECK(add(&f, 503, 100, 1, NULL, NULL) == 0);
      snprintf(key, sizeof key, "busy-%d/", i);
      CHECK(decide(&f, T0 + 1000 * SEC, "GET", JOBS, key, &a) == 503);
    }
    CHECK(f.ncallers >= 20);
    for (i = 0; i < 20; i++) {
      snprintf(key, sizeof key, "busy-%d/", i);
      CHECK(decide(&f, T0 + 1099 * SEC, "GET", JOBS, key, &a) == 429);
      CHECK(a.retry_after == 1);
    }
  }
  ct_fault_free(&f);
}

static void test_budget(tally *t)
{
  ct_fault_state f;
  ct_fault_answer a;
  int i;
  ct_fault_init(&f, 1);
  CHECK(ct_fault_set_budget(&f, -1, 10) == -1);
  CHECK(ct_fault_set_budget(&f, 3, 0) == -1);
  CHECK(ct_fault_set_budget(&f, 3, -1) == -1);
  CHECK(ct_fault_set_budget(&f, 3, CT_FAULT_MAX_PER + 1) == -1);
  CHECK(!ct_fault_armed(&f));
  CHECK(ct_fault_set_budget(&f, 3, 10) == 0);
  CHECK(ct_fault_armed(&f) && f.budget_per == 10 * SEC);
  for (i = 0; i < 3; i++)
    CHECK(decide(&f, T0 + i * SEC, "GET", JOBS, ME, &a) == 0);
  CHECK(decide(&f, T0 + 2 * SEC, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 8 && strcmp(a.code, "activityLimitReached") == 0);
  CHECK(decide(&f, T0 + 2 * SEC, "GET", JOBS, "b/", &a) == 0);  /* per caller */
  CHECK(decide(&f, T0 + 95 * SEC / 10, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 1);
  /* the window closes at T0 + 10 s: a new one opens */
  for (i = 0; i < 3; i++)
    CHECK(decide(&f, T0 + 10 * SEC, "GET", JOBS, ME, &a) == 0);
  CHECK(decide(&f, T0 + 10 * SEC, "GET", JOBS, ME, &a) == 429);
  CHECK(a.retry_after == 10);
  /* three refusals: two by the budget, one by the window between */
  CHECK(f.refused[CT_FAULT_429] == 3);
  CHECK(ct_fault_set_budget(&f, 0, 0) == 0);
  CHECK(decide(&f, T0 + 20 * SEC, "GET", JOBS, ME, &a) == 0);
  ct_fault_free(&f);
}

/* the statuses of n requests one second apart, each waiting out its
   Retry-After of 1 s */
static void run_rates(uint64_t seed, int n, int *out)
{
  ct_fault_state f;
  ct_fault_answer a;
  double r[CT_FAULT__COUNT] = { 0.2, 0.1, 0.05 };
  int i;
  ct_fault_init(&f, seed);
  ct_fault_set_rates(&f, r, 1);
  for (i = 0; i < n; i++)
    out[i] = decide(&f, T0 + i * SEC, "GET", JOBS, ME, &a);
  ct_fault_free(&f);
}

static void test_rates(tally *t)
{
  enum { N = 400 };
  static int a[N], b[N], c[N];
  int i, n[4] = { 0, 0, 0, 0 };
  double bad[CT_FAULT__COUNT] = { 0.6, 0.5, 0 };
  double nan_[CT_FAULT__COUNT] = { 0, 0, 0 };
  double one[CT_FAULT__COUNT] = { 0.1, 0.2, 0.7 };
  ct_fault_state f;
  ct_fault_answer ans;
  run_rates(42, N, a);
  run_rates(42, N, b);
  run_rates(43, N, c);
  CHECK(memcmp(a, b, sizeof a) == 0);
  CHECK(memcmp(a, c, sizeof a) != 0);
  for (i = 0; i < N; i++) {
    if (a[i] == 0) n[0]++;
    else if (a[i] == 429) n[1]++;
    else if (a[i] == 503) n[2]++;
    else if (a[i] == 504) n[3]++;
  }
  CHECK(n[0] + n[1] + n[2] + n[3] == N);
  CHECK(n[1] > 0 && n[2] > 0 && n[3] > 0 && n[0] > N / 2);

  ct_fault_init(&f, 1);
  CHECK(ct_fault_set_rates(&f, bad, 1) == -1);
  nan_[1] = 0.0 / 0.0;
  CHECK(ct_fault_set_rates(&f, nan_, 1) == -1);
  CHECK(ct_fault_set_rates(&f, one, 0) == -1);
  CHECK(!ct_fault_armed(&f));
  CHECK(ct_fault_set_rates(&f, one, 4) == 0);    /* 1 in floating point */
  for (i = 0; i < 20; i++) {
    CHECK(decide(&f, T0 + 4 * i * SEC, "GET", JOBS, ME, &ans) != 0);
    CHECK(ans.retry_after == 4);
  }
  ct_fault_free(&f);
}

/* one draw per request, whatever answers it: a store whose first request
   is refused by a rule draws the same numbers as one without the rule */
static void test_one_draw(tally *t)
{
  ct_fault_state f, g;
  ct_fault_answer a;
  double r[CT_FAULT__COUNT] = { 0.01, 0, 0 };
  int i;
  ct_fault_init(&f, 9);
  ct_fault_init(&g, 9);
  ct_fault_set_rates(&f, r, 1);
  ct_fault_set_rates(&g, r, 1);
  CHECK(add(&g, 503, 30, 1, NULL, NULL) == 0);
  for (i = 0; i < 10; i++) {
    decide(&f, T0 + i * SEC, "GET", JOBS, ME, &a);
    decide(&g, T0 + i * SEC, "GET", JOBS, ME, &a);   /* window: 429 */
  }
  CHECK(f.rng[0] == g.rng[0] && f.rng[1] == g.rng[1]);
  ct_fault_free(&f);
  ct_fault_free(&g);
}

/* the store owns one state, seeded from its seed, apart from the ids */
static void test_store(tally *t)
{
  ct_options o;
  ct_store *s1, *s2;
  ct_guid g1, g2;
  ct_fault_answer a;
  double r[CT_FAULT__COUNT] = { 0.5, 0, 0 };
  int i;
  memset(&o, 0, sizeof o);
  o.has_seed = 1;
  o.seed = 5;
  o.now = T0;
  s1 = ct_store_new(&o);
  s2 = ct_store_new(&o);
  CHECK(s1 != NULL && s2 != NULL);
  if (s1 == NULL || s2 == NULL) return;
  CHECK(!ct_fault_armed(&s1->faultstate));
  CHECK(s1->faultstate.rng[0] == s2->faultstate.rng[0]);
  CHECK(s1->faultstate.rng[0] != s1->rng[0]);
  ct_fault_set_rates(&s1->faultstate, r, 1);
  CHECK(add(&s1->faultstate, 429, 5, 3, NULL, "/x/*") == 0);
  for (i = 0; i < 50; i++)
    ct_fault_decide(&s1->faultstate, T0 + i * SEC, "GET", JOBS,
                    strlen(JOBS), ME, strlen(ME), &a);
  ct_store_newguid(s1, &g1);
  ct_store_newguid(s2, &g2);
  CHECK(ct_guid_eq(&g1, &g2));                    /* faults change no id */
  ct_store_free(s1);                              /* frees the rules too */
  ct_store_free(s2);
}

int main(void)
{
  tally tt = { 0, 0 }, *t = &tt;
  test_paths(t);
  test_add(t);
  test_rules(t);
  test_windows(t);
  test_budget(t);
  test_rates(t);
  test_one_draw(t);
  test_store(t);
  return tally_report(t);
}
