/*
** ct_util.h -- the core's allocator, GUIDs and DateTimeOffset values, as
** Graph writes them.  Pure functions, no state, no Lua.
*/
#ifndef CT_UTIL_H
#define CT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CT_PRINTF(f, a)
#endif

/* ---------- memory ---------- */
/*
** Every allocation of the core (csrc/ct_*.c) goes through these, with
** the C library's contract (NULL when out of memory; free() releases).
** Built with -DCT_ALLOC_TESTING (the C tests only: see the Makefile),
** they can be told to fail, so each out-of-memory path can be tested.
*/
void *ct_malloc(size_t n);
void *ct_calloc(size_t count, size_t size);
void *ct_realloc(void *p, size_t n);

#ifdef CT_ALLOC_TESTING
/*
** Test hook: make the `nth` allocation from now on (1 = the next one)
** fail -- alone, or with every later one too when `and_after` -- until
** the hook is set again; nth 0 turns failures off.  ct_alloc_count()
** tells how many allocations were asked for since ct_alloc_fail_at.
*/
void ct_alloc_fail_at(long nth, int and_after);
long ct_alloc_count(void);
#endif

/* ---------- messages ---------- */
/*
** The one formatter of the core's messages (errors, a job's message):
** text appended into a fixed buffer the caller owns, cut at its size,
** always NUL-terminated.  A message is built piece by piece, so no
** caller pads a format with "%s", "" to fit a helper.
*/
typedef struct ct_msg {
  char *p;
  size_t cap, len;       /* len < cap; p[len] == '\0' */
} ct_msg;

/* start an empty message in buf[cap] (cap >= 1) */
void ct_msg_init(ct_msg *m, char *buf, size_t cap);
void ct_msg_addf(ct_msg *m, const char *fmt, ...) CT_PRINTF(2, 3);
void ct_msg_vaddf(ct_msg *m, const char *fmt, va_list ap);
/*
** s[0..n) as a message shows a value: at most `max` bytes, control
** bytes (and DEL, and NUL) as '?', then "..." when `ellipsis` and it
** was cut.
*/
void ct_msg_quote(ct_msg *m, const char *s, size_t n, size_t max,
                  int ellipsis);

/* ---------- GUIDs ---------- */
typedef struct ct_guid { uint8_t b[16]; } ct_guid;

/*
** Parse exactly 36 bytes "8-4-4-4-12" hex digits, any case.  No braces,
** no surrounding space, no other length.  Returns 0 or -1.
*/
int ct_guid_parse(const char *s, size_t n, ct_guid *out);
/* writes 36 lowercase characters plus a NUL into out[37] */
void ct_guid_format(const ct_guid *g, char out[37]);
int ct_guid_eq(const ct_guid *a, const ct_guid *b);
int ct_guid_is_nil(const ct_guid *g);
uint64_t ct_guid_hash(const ct_guid *g);

/* ---------- time ---------- */
/*
** A DateTimeOffset is held as 100-ns ticks since 1970-01-01T00:00:00Z
** (int64; years 0001..9999 fit) plus how many fractional digits to
** write back (0..7).
*/
typedef struct ct_time {
  int64_t ticks;
  int digits;       /* 0..7: digits written after the seconds */
} ct_time;

#define CT_TICKS_PER_SEC 10000000LL

/*
** Parse an RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.f{1,7}](Z|+hh:mm|-hh:mm).
** 'T' and 'Z' may be lower case.  Year 0001..9999; the day must exist in
** that month (leap years per the Gregorian rules); hour 00..23, minute
** 00..59, second 00..59 (no leap second); offset minutes 00..59 and
** the offset at most 14:00 either way (as .NET's DateTimeOffset).  The result is normalised to UTC.  `digits` is the count of
** fractional digits given, or 0 when every given digit is zero.
** Returns 0, or -1 and sets *why to a short static reason
** ("invalid format", "day out of range", "hour out of range", ...).
*/
int ct_time_parse(const char *s, size_t n, ct_time *out, const char **why);

/*
** Write as "YYYY-MM-DDTHH:MM:SS[.fffffff]Z" with t->digits fractional
** digits (the leading ones of the 7-digit tick fraction).  out must
** hold 29 bytes; returns the length written (without the NUL).
*/
size_t ct_time_format(const ct_time *t, char out[29]);

/*
** Parse an ISO 8601 duration as used by the scenario engine: "PnDTnHnMnS"
** with optional parts, also "PnW"; seconds may have up to 7 fractional
** digits.  No years or months (their length is not fixed).  Returns 0
** and sets *ticks, or -1.
*/
int ct_duration_parse(const char *s, size_t n, int64_t *ticks);

/* days since 1970-01-01 for a civil date, and back */
int64_t ct_days_from_civil(int64_t y, unsigned m, unsigned d);
void ct_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
