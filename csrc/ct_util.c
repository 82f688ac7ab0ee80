/*
** ct_util.c -- the core's allocator, GUIDs, RFC 3339 date-times and
** ISO 8601 durations.  See ct_util.h for the contract.
*/
#include "ct_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==================== memory ==================== */

#ifdef CT_ALLOC_TESTING
/*
** The one exception to "no globals holding state": a per-process
** failure counter for the C tests' out-of-memory runs.  It is compiled
** only with -DCT_ALLOC_TESTING, which the module and the benchmarks are
** never built with, and it holds no store state.
*/
static long alloc_fail_at;      /* 0: never fail */
static int alloc_and_after;
static long alloc_count;

void ct_alloc_fail_at(long nth, int and_after)
{
  alloc_fail_at = nth;
  alloc_and_after = and_after;
  alloc_count = 0;
}

long ct_alloc_count(void)
{
  return alloc_count;
}

/* 1 when this allocation is to fail */
static int alloc_fails(void)
{
  alloc_count++;
  return alloc_fail_at > 0 &&
         (alloc_and_after ? alloc_count >= alloc_fail_at
                          : alloc_count == alloc_fail_at);
}
#else
#define alloc_fails() 0
#endif

void *ct_malloc(size_t n)
{
  return alloc_fails() ? NULL : malloc(n);
}

void *ct_calloc(size_t count, size_t size)
{
  return alloc_fails() ? NULL : calloc(count, size);
}

void *ct_realloc(void *p, size_t n)
{
  return alloc_fails() ? NULL : realloc(p, n);
}

/* ==================== messages ==================== */

void ct_msg_init(ct_msg *m, char *buf, size_t cap)
{
  m->p = buf;
  m->cap = cap;
  m->len = 0;
  buf[0] = '\0';
}

void ct_msg_vaddf(ct_msg *m, const char *fmt, va_list ap)
{
  int w;
  if (m->len + 1 >= m->cap) return;          /* full */
  w = vsnprintf(m->p + m->len, m->cap - m->len, fmt, ap);
  if (w < 0) m->p[m->len] = '\0';
  else if ((size_t)w >= m->cap - m->len) m->len = m->cap - 1;
  else m->len += (size_t)w;
}

void ct_msg_addf(ct_msg *m, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  ct_msg_vaddf(m, fmt, ap);
  va_end(ap);
}

void ct_msg_quote(ct_msg *m, const char *s, size_t n, size_t max,
                  int ellipsis)
{
  size_t i, k = n > max ? max : n;
  for (i = 0; i < k && m->len + 1 < m->cap; i++) {
    unsigned char c = (unsigned char)s[i];
    m->p[m->len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  m->p[m->len] = '\0';
  if (ellipsis && n > max) ct_msg_addf(m, "...");
}

/* ==================== GUIDs ==================== */

/* hex digit values by byte; 0xFF: not a hex digit */
static const unsigned char hexv[256] = {
#define X16 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, \
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF
  X16, X16, X16,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
  0xFF, 10, 11, 12, 13, 14, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
  0xFF, 0xFF, X16,
  0xFF, 10, 11, 12, 13, 14, 15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
  0xFF, 0xFF, X16,
  X16, X16, X16, X16, X16, X16, X16, X16
#undef X16
};

/* where each byte's two hex digits start in the 36-character text */
static const unsigned char guid_at[16] = {
  0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34
};

/* bytes are kept in text order (not the Windows mixed-endian layout) */
int ct_guid_parse(const char *s, size_t n, ct_guid *out)
{
  const unsigned char *u = (const unsigned char *)s;
  ct_guid g;
  unsigned bad = 0;
  size_t i;
  if (!s || n != 36) return -1;
  if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
    return -1;
  /* every group has an even length, so pairs never straddle a dash */
  for (i = 0; i < 16; i++) {
    unsigned hi = hexv[u[guid_at[i]]], lo = hexv[u[guid_at[i] + 1]];
    bad |= hi | lo;
    g.b[i] = (uint8_t)(hi << 4 | (lo & 15));
  }
  if (bad & 0xF0) return -1;
  *out = g;
  return 0;
}

void ct_guid_format(const ct_guid *g, char out[37])
{
  /* the two hex digits of every byte value */
  static const char pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
  size_t i;
  for (i = 0; i < 16; i++) memcpy(out + guid_at[i], pairs + 2 * g->b[i], 2);
  out[8] = out[13] = out[18] = out[23] = '-';
  out[36] = '\0';
}

int ct_guid_eq(const ct_guid *a, const ct_guid *b)
{
  return memcmp(a->b, b->b, sizeof a->b) == 0;
}

int ct_guid_is_nil(const ct_guid *g)
{
  size_t i;
  for (i = 0; i < sizeof g->b; i++)
    if (g->b[i]) return 0;
  return 1;
}

/* the two halves multiplied in, then a final mix so low bits spread */
uint64_t ct_guid_hash(const ct_guid *g)
{
  uint64_t a, b, h;
  memcpy(&a, g->b, 8);
  memcpy(&b, g->b + 8, 8);
  h = (a ^ 0x9e3779b97f4a7c15u) * 0xbf58476d1ce4e5b9u;
  h ^= (b ^ (h >> 29)) * 0x94d049bb133111ebu;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  return h;
}

/* ==================== calendar ==================== */

/*
** Proleptic Gregorian day numbers (H. Hinnant's algorithms).  Valid for
** any date whose day number is well inside int64 (|year| < 2^50 or so).
*/
int64_t ct_days_from_civil(int64_t y, unsigned m, unsigned d)
{
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;                                   /* [0, 399] */
  doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
  return era * 146097 + doe - 719468;
}

void ct_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;                                /* [0, 146096] */
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);         /* [0, 365] */
  mp = (5 * doy + 2) / 153;                              /* [0, 11] */
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
  static const unsigned char dim[12] =
    {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ==================== time ==================== */

#define TICKS_PER_DAY (86400 * CT_TICKS_PER_SEC)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.9999999Z */
#define TIME_MIN (-719162 * TICKS_PER_DAY)
#define TIME_MAX (2932897 * TICKS_PER_DAY - 1)

static const int64_t pow10_tab[8] =
  {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

/* n decimal digits at s as a number, or -1 */
static long digits_at(const char *s, int n)
{
  long v = 0;
  int i;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

static int time_fail(const char **why, const char *reason)
{
  if (why) *why = reason;
  return -1;
}

int ct_time_parse(const char *s, size_t n, ct_time *out, const char **why)
{
  long y, mo, d, h, mi, sec, oh = 0, om = 0;
  int64_t frac = 0, ticks;
  int nd = 0, sign = 0;
  size_t i = 19;
  if (!s || n < 19) return time_fail(why, "invalid format");
  y = digits_at(s, 4);
  mo = digits_at(s + 5, 2);
  d = digits_at(s + 8, 2);
  h = digits_at(s + 11, 2);
  mi = digits_at(s + 14, 2);
  sec = digits_at(s + 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 ||
      s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return time_fail(why, "invalid format");
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
      if (nd == 7) return time_fail(why, "too many fractional digits");
      frac = frac * 10 + (s[i] - '0');
      nd++;
    }
    if (nd == 0) return time_fail(why, "invalid format");
    frac *= pow10_tab[7 - nd];
  }
  if (i >= n) return time_fail(why, "missing offset");
  if (s[i] == 'Z' || s[i] == 'z') {
    i++;
  } else if (s[i] == '+' || s[i] == '-') {
    sign = s[i] == '+' ? 1 : -1;
    if (n - i < 6 || s[i + 3] != ':' ||
        (oh = digits_at(s + i + 1, 2)) < 0 ||
        (om = digits_at(s + i + 4, 2)) < 0)
      return time_fail(why, "invalid format");
    i += 6;
  } else {
    return time_fail(why, "invalid format");
  }
  if (i != n) return time_fail(why, "invalid format");
  if (y < 1) return time_fail(why, "year out of range");
  if (mo < 1 || mo > 12) return time_fail(why, "month out of range");
  if (d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo))
    return time_fail(why, "day out of range");
  if (h > 23) return time_fail(why, "hour out of range");
  if (mi > 59) return time_fail(why, "minute out of range");
  if (sec > 59) return time_fail(why, "second out of range");
  if (om > 59) return time_fail(why, "offset out of range");
  /* .NET's DateTimeOffset and Graph's OData stack stop at 14:00 */
  if (oh * 60 + om > 14 * 60) return time_fail(why, "offset beyond 14:00");
  ticks = ct_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
          h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
  ticks = ticks * CT_TICKS_PER_SEC + frac;
  /* the offset may carry it past 0001..9999 in UTC */
  if (ticks < TIME_MIN || ticks > TIME_MAX)
    return time_fail(why, "date out of range");
  out->ticks = ticks;
  out->digits = frac ? nd : 0;
  return 0;
}

/* n decimal digits of v, zero-padded, at out */
static void put_digits(char *out, int64_t v, int n)
{
  while (n-- > 0) {
    out[n] = (char)('0' + v % 10);
    v /= 10;
  }
}

/* ticks out of 0001..9999 are clamped; digits out of 0..7 likewise */
size_t ct_time_format(const ct_time *t, char out[29])
{
  int64_t ticks = t->ticks, days, rem, y, sod;
  unsigned m, d;
  int digits = t->digits < 0 ? 0 : t->digits > 7 ? 7 : t->digits;
  size_t n = 19;
  if (ticks < TIME_MIN) ticks = TIME_MIN;
  if (ticks > TIME_MAX) ticks = TIME_MAX;
  days = ticks / TICKS_PER_DAY;
  rem = ticks % TICKS_PER_DAY;
  if (rem < 0) {
    rem += TICKS_PER_DAY;
    days--;
  }
  ct_civil_from_days(days, &y, &m, &d);
  sod = rem / CT_TICKS_PER_SEC;
  put_digits(out, y, 4);
  out[4] = '-';
  put_digits(out + 5, m, 2);
  out[7] = '-';
  put_digits(out + 8, d, 2);
  out[10] = 'T';
  put_digits(out + 11, sod / 3600, 2);
  out[13] = ':';
  put_digits(out + 14, sod / 60 % 60, 2);
  out[16] = ':';
  put_digits(out + 17, sod % 60, 2);
  if (digits) {
    out[n++] = '.';
    put_digits(out + n, rem % CT_TICKS_PER_SEC / pow10_tab[7 - digits],
               digits);
    n += (size_t)digits;
  }
  out[n++] = 'Z';
  out[n] = '\0';
  return n;
}

/* ==================== durations ==================== */

#define INT64_TOP 9223372036854775807LL

/*
** "P" then either "nW", or "[nD][T[nH][nM][n[.f]S]]" with at least one
** part, each at most once and in that order; f is 1..7 digits.
*/
int ct_duration_parse(const char *s, size_t n, int64_t *ticks)
{
  int64_t total = 0;
  size_t i = 1;
  int stage = 0, intime = 0, tparts = 0, parts = 0;
  if (!s || n < 2 || s[0] != 'P') return -1;
  while (i < n) {
    int64_t v = 0, frac = 0, unit;
    int nd = 0, nf = -1, next;
    if (s[i] == 'T') {
      if (intime) return -1;
      intime = 1;
      i++;
      continue;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
      if (v > (INT64_TOP - 9) / 10) return -1;
      v = v * 10 + (s[i] - '0');
    }
    if (nd == 0 || i >= n) return -1;
    if (s[i] == '.') {
      for (i++, nf = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (nf == 7) return -1;
        frac = frac * 10 + (s[i] - '0');
        nf++;
      }
      if (nf == 0 || i >= n) return -1;
      frac *= pow10_tab[7 - nf];
    }
    switch (s[i]) {
    case 'W': next = intime ? 0 : 5; unit = 7 * TICKS_PER_DAY; break;
    case 'D': next = intime ? 0 : 1; unit = TICKS_PER_DAY; break;
    case 'H': next = intime ? 2 : 0; unit = 3600 * CT_TICKS_PER_SEC; break;
    case 'M': next = intime ? 3 : 0; unit = 60 * CT_TICKS_PER_SEC; break;
    case 'S': next = intime ? 4 : 0; unit = CT_TICKS_PER_SEC; break;
    default: return -1;
    }
    /* W stands alone; the rest in order; only seconds take a fraction */
    if (next == 0 || next <= stage || (next == 5 && parts)) return -1;
    if (nf >= 0 && next != 4) return -1;
    if (v > (INT64_TOP - frac) / unit) return -1;
    v = v * unit + frac;
    if (v > INT64_TOP - total) return -1;
    total += v;
    stage = next;
    parts++;
    tparts += intime;
    i++;
  }
  if (!parts || (intime && !tparts)) return -1;
  *ticks = total;
  return 0;
}
