/*
** check.h -- the scaffolding every C test shares: a tally of passed and
** failed checks, CHECK(cond) and CHECK_MSG(got, want) (both need a
** `tally *t` in scope; a failure prints its line), and tally_report for
** main's last line, "N passed, N failed", and its exit status; and
** check_json, a fixture's JSON text parsed into an arena.
*/
#ifndef CT_SPEC_CHECK_H
#define CT_SPEC_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_json.h"

typedef struct tally {
  int pass, fail;
} tally;

static inline void check(tally *t, int ok, int line, const char *what)
{
  if (ok) {
    t->pass++;
  } else {
    t->fail++;
    printf("FAIL line %d: %s\n", line, what);
  }
}

#define CHECK(c) check(t, (c) != 0, __LINE__, #c)

/* got and want are the same string; prints both when not */
static inline void check_msg(tally *t, int line, const char *got,
                             const char *want)
{
  int ok = strcmp(got, want) == 0;
  check(t, ok, line, "message as expected");
  if (!ok) printf("  want: %s\n  got:  %s\n", want, got);
}

#define CHECK_MSG(got, want) check_msg(t, __LINE__, (got), (want))

/* prints "N passed, N failed"; the exit status: 1 when any failed */
static inline int tally_report(const tally *t)
{
  printf("%d passed, %d failed\n", t->pass, t->fail);
  return t->fail ? 1 : 0;
}

/* `text` (a fixture of the test's own, which must be valid JSON) parsed
   into `a`; a fixture that does not parse ends the test, exit status 2 */
static inline const ct_jval *check_json(ct_arena *a, const char *text)
{
  ct_jval *v;
  ct_jerr je;
  if (ct_json_parse(a, text, strlen(text), &v, &je) != 0) {
    printf("fixture JSON does not parse: %s\n  %s\n", je.message, text);
    exit(2);
  }
  return v;
}

#endif
