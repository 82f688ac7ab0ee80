/*
** test_util.c -- standalone tests for ct_json.c and ct_util.c.
** Prints one line per failed check, then "N passed, N failed"; exits
** non-zero when anything failed.
*/
#include "check.h"
#include "ct_json.h"
#include "ct_util.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* print up to 70 bytes of s, non-printables as \xNN */
static void show(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n && i < 70; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f) putchar(c);
    else printf("\\x%02x", c);
  }
  if (n > 70) printf("...(%lu bytes)", (unsigned long)n);
}

/* ==================== JSON reader ==================== */

/* n bytes in a block of exactly n bytes (no NUL), so that the
   sanitizers and valgrind catch any read past the end */
static char *exact_copy(const char *s, size_t n)
{
  char *c;
  if (!s) return NULL;
  c = malloc(n ? n : 1);
  if (!c) {
    perror("malloc");
    exit(2);
  }
  if (n) memcpy(c, s, n);
  return c;
}

/* parse, expecting success; the tree lives in a */
static const ct_jval *jok(tally *t, int line, ct_arena *a, const char *s,
                          size_t n)
{
  ct_jval *v = NULL;
  ct_jerr e;
  char *copy = exact_copy(s, n);
  int r = ct_json_parse(a, copy, n, &v, &e);
  free(copy);
  check(t, r == 0 && v != NULL, line, "parse succeeds");
  if (r != 0) {
    printf("  input: ");
    show(s, n);
    printf("\n  error: %d %lu %s\n", e.status, (unsigned long)e.offset,
           e.message);
    return NULL;
  }
  return v;
}

/* parse, expecting exactly this error */
static void jerr(tally *t, int line, const char *s, size_t n, int status,
                 size_t off, const char *msg)
{
  ct_arena a;
  ct_jval dummy, *v = &dummy;    /* must be reset to NULL */
  ct_jerr e;
  int r, ok;
  char *copy = exact_copy(s, n);
  ct_arena_init(&a);
  memset(&e, 0, sizeof e);
  r = ct_json_parse(&a, copy, n, &v, &e);
  free(copy);
  ok = r == -1 && v == NULL && e.status == status && e.offset == off &&
       strcmp(e.message, msg) == 0;
  check(t, ok, line, "parse fails as expected");
  if (!ok) {
    printf("  input: ");
    show(s, n);
    printf("\n  want: %d %lu %s\n  got:  r=%d %d %lu %s\n", status,
           (unsigned long)off, msg, r, e.status, (unsigned long)e.offset,
           r ? e.message : "(none)");
  }
  ct_arena_free(&a);
}

#define JOK(a, lit) jok(t, __LINE__, a, lit, sizeof(lit) - 1)
#define JERR(lit, st, off, msg) \
  jerr(t, __LINE__, lit, sizeof(lit) - 1, st, off, msg)

static void test_valid_docs(tally *t)
{
  ct_arena a;
  const ct_jval *v, *m;
  ct_arena_init(&a);

  v = JOK(&a, "null");
  CHECK(v && v->kind == CT_JNULL && v->key == NULL);
  v = JOK(&a, "true");
  CHECK(v && v->kind == CT_JTRUE);
  v = JOK(&a, "false");
  CHECK(v && v->kind == CT_JFALSE);
  v = JOK(&a, " \t\r\n42 \t\r\n");
  CHECK(v && v->kind == CT_JINT && v->u.i == 42);
  v = JOK(&a, "\"hello\"");
  CHECK(v && v->kind == CT_JSTR && v->len == 5 &&
        strcmp(v->u.s, "hello") == 0);
  v = JOK(&a, "\"\"");
  CHECK(v && v->kind == CT_JSTR && v->len == 0 && v->u.s[0] == '\0');
  v = JOK(&a, "[]");
  CHECK(v && v->kind == CT_JARR && v->len == 0);
  v = JOK(&a, "{}");
  CHECK(v && v->kind == CT_JOBJ && v->len == 0);
  v = JOK(&a, "[ ]");
  CHECK(v && v->kind == CT_JARR && v->len == 0);
  v = JOK(&a, "{ \n}");
  CHECK(v && v->kind == CT_JOBJ && v->len == 0);

  v = JOK(&a, "[1, 2.5, \"x\", true, false, null, [], {}]");
  CHECK(v && v->kind == CT_JARR && v->len == 8);
  if (v && v->len == 8) {
    CHECK(v->u.items[0].kind == CT_JINT && v->u.items[0].u.i == 1);
    CHECK(v->u.items[1].kind == CT_JNUM && v->u.items[1].u.d == 2.5);
    CHECK(v->u.items[2].kind == CT_JSTR && v->u.items[2].len == 1);
    CHECK(v->u.items[3].kind == CT_JTRUE);
    CHECK(v->u.items[4].kind == CT_JFALSE);
    CHECK(v->u.items[5].kind == CT_JNULL);
    CHECK(v->u.items[6].kind == CT_JARR && v->u.items[6].len == 0);
    CHECK(v->u.items[7].kind == CT_JOBJ && v->u.items[7].len == 0);
    CHECK(v->u.items[0].key == NULL && v->u.items[7].key == NULL);
  }

  v = JOK(&a, "{\"a\":[1,{\"b\":null}],\"c\":\"d\",\"e\":{\"f\":-1.5e3}}");
  CHECK(v && v->kind == CT_JOBJ && v->len == 3);
  if (v && v->len == 3) {
    m = &v->u.items[0];
    CHECK(m->key && strcmp(m->key, "a") == 0 && m->keylen == 1);
    CHECK(m->kind == CT_JARR && m->len == 2);
    if (m->kind == CT_JARR && m->len == 2) {
      const ct_jval *o = &m->u.items[1];
      CHECK(o->kind == CT_JOBJ && o->len == 1);
      CHECK(o->len == 1 && strcmp(o->u.items[0].key, "b") == 0);
      CHECK(o->len == 1 && o->u.items[0].kind == CT_JNULL);
    }
    m = &v->u.items[1];
    CHECK(strcmp(m->key, "c") == 0 && m->kind == CT_JSTR);
    CHECK(strcmp(m->u.s, "d") == 0);
    m = &v->u.items[2];
    CHECK(strcmp(m->key, "e") == 0 && m->kind == CT_JOBJ);
    m = ct_json_get(m, "f");
    CHECK(m && m->kind == CT_JNUM && m->u.d == -1500.0);
  }

  /* members keep document order */
  v = JOK(&a, "{\"z\":1,\"y\":2,\"x\":3}");
  CHECK(v && v->len == 3 && strcmp(v->u.items[0].key, "z") == 0 &&
        strcmp(v->u.items[2].key, "x") == 0);

  /* nested objects may reuse a key; same key at different levels ok */
  v = JOK(&a, "{\"a\":{\"a\":1},\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}");
  CHECK(v && v->len == 3);

  /* one arena can hold many trees */
  v = JOK(&a, "[[[[1]]]]");
  CHECK(v && v->u.items[0].u.items[0].u.items[0].u.items[0].u.i == 1);
  ct_arena_free(&a);
  ct_arena_free(&a);   /* idempotent */
}

static void test_numbers(tally *t)
{
  static const struct { const char *s; int64_t i; } ints[] = {
    {"0", 0}, {"-0", 0}, {"1", 1}, {"-1", -1}, {"123", 123},
    {"9223372036854775807", INT64_MAX},
    {"-9223372036854775808", INT64_MIN},
    {"9223372036854775806", INT64_MAX - 1},
    {"-9223372036854775807", -INT64_MAX},
    {"[7]", 7},
  };
  static const struct { const char *s; double d; } nums[] = {
    {"1.0", 1.0}, {"0.5", 0.5}, {"-0.25", -0.25},
    {"9223372036854775808", 9223372036854775808.0},
    {"-9223372036854775809", -9223372036854775809.0},
    {"18446744073709551616", 18446744073709551616.0},
    {"1e2", 100.0}, {"1E2", 100.0}, {"1e+2", 100.0}, {"1E-2", 0.01},
    {"2.5E3", 2500.0}, {"0e0", 0.0}, {"0.0", 0.0}, {"1e-400", 0.0},
    {"123456789012345678901234567890", 1.2345678901234568e29},
    {"1.7976931348623157e308", DBL_MAX},
    {"4.9e-324", 4.9e-324}, {"0.1", 0.1},
  };
  ct_arena a;
  const ct_jval *v;
  size_t i;
  ct_arena_init(&a);
  for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    v = jok(t, __LINE__, &a, ints[i].s, strlen(ints[i].s));
    if (v && v->kind == CT_JARR) v = &v->u.items[0];
    CHECK(v && v->kind == CT_JINT && v->u.i == ints[i].i);
    if (!(v && v->kind == CT_JINT)) printf("  input: %s\n", ints[i].s);
  }
  for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    v = jok(t, __LINE__, &a, nums[i].s, strlen(nums[i].s));
    CHECK(v && v->kind == CT_JNUM && v->u.d == nums[i].d);
    if (!(v && v->kind == CT_JNUM)) printf("  input: %s\n", nums[i].s);
  }
  v = JOK(&a, "-0");
  CHECK(v && v->kind == CT_JINT && v->u.i == 0);
  v = JOK(&a, "-0.0");
  CHECK(v && v->kind == CT_JNUM && v->u.d == 0 && signbit(v->u.d));
  v = JOK(&a, "-0e0");
  CHECK(v && v->kind == CT_JNUM && signbit(v->u.d));
  ct_arena_free(&a);

  JERR("1e400", 400, 0, "number out of range at position 0");
  JERR("-1e400", 400, 0, "number out of range at position 0");
  JERR("[1, 1e400]", 400, 4, "number out of range at position 4");
  JERR("1.5e99999", 400, 0, "number out of range at position 0");
  JERR("NaN", 400, 0, "unexpected character 'N' at position 0");
  JERR("nan", 400, 1, "unexpected character 'a' at position 1");
  JERR("[Infinity]", 400, 1, "unexpected character 'I' at position 1");
  JERR("-Infinity", 400, 1, "unexpected character 'I' at position 1");
  JERR("0x10", 400, 1, "unexpected character 'x' at position 1");
  JERR("[0x10]", 400, 2, "unexpected character 'x' at position 2");
  JERR("01", 400, 0, "leading zero in number at position 0");
  JERR("-01", 400, 1, "leading zero in number at position 1");
  JERR("[00]", 400, 1, "leading zero in number at position 1");
  JERR("+1", 400, 0, "unexpected character '+' at position 0");
  JERR(".5", 400, 0, "unexpected character '.' at position 0");
  JERR("1.e5", 400, 2, "unexpected character 'e' at position 2");
  JERR("1ex", 400, 2, "unexpected character 'x' at position 2");
  JERR("1e+x", 400, 3, "unexpected character 'x' at position 3");
  JERR("-x", 400, 1, "unexpected character 'x' at position 1");
  JERR("1.5.5", 400, 3, "unexpected character '.' at position 3");
  JERR("- 1", 400, 1, "unexpected character ' ' at position 1");
}

/* a table of malformed documents with their exact errors */
static void test_syntax_errors(tally *t)
{
  static const struct {
    const char *s;
    int st;
    size_t off;
    const char *msg;
  } bad[] = {
    /* truncated at each kind of position */
    {"", 400, 0, "unexpected end of input at position 0"},
    {"   ", 400, 3, "unexpected end of input at position 3"},
    {"[", 400, 1, "unexpected end of input at position 1"},
    {"[1", 400, 2, "unexpected end of input at position 2"},
    {"[1,", 400, 3, "unexpected end of input at position 3"},
    {"[1, ", 400, 4, "unexpected end of input at position 4"},
    {"{", 400, 1, "unexpected end of input at position 1"},
    {"{\"a\"", 400, 4, "unexpected end of input at position 4"},
    {"{\"a\" ", 400, 5, "unexpected end of input at position 5"},
    {"{\"a\":", 400, 5, "unexpected end of input at position 5"},
    {"{\"a\":1", 400, 6, "unexpected end of input at position 6"},
    {"{\"a\":1,", 400, 7, "unexpected end of input at position 7"},
    {"{\"a", 400, 1, "unterminated string at position 1"},
    {"\"abc", 400, 0, "unterminated string at position 0"},
    {"[\"ab\\", 400, 1, "unterminated string at position 1"},
    {"\"\\u12", 400, 0, "unterminated string at position 0"},
    {"\"\\uD800", 400, 0, "unterminated string at position 0"},
    {"\"\\uD800\\", 400, 0, "unterminated string at position 0"},
    {"\"\\uD800\\u12", 400, 0, "unterminated string at position 0"},
    {"\"\xe2\x82", 400, 0, "unterminated string at position 0"},
    {"tr", 400, 2, "unexpected end of input at position 2"},
    {"nul", 400, 3, "unexpected end of input at position 3"},
    {"fals", 400, 4, "unexpected end of input at position 4"},
    {"-", 400, 1, "unexpected end of input at position 1"},
    {"1.", 400, 2, "unexpected end of input at position 2"},
    {"1e", 400, 2, "unexpected end of input at position 2"},
    {"1e+", 400, 3, "unexpected end of input at position 3"},
    {"[[[", 400, 3, "unexpected end of input at position 3"},
    /* trailing commas, comments, stray characters */
    {"[1,]", 400, 2, "trailing comma at position 2"},
    {"[1, ]", 400, 2, "trailing comma at position 2"},
    {"{\"a\":1,}", 400, 6, "trailing comma at position 6"},
    {"[1]//c", 400, 3, "unexpected character '/' at position 3"},
    {"/*c*/1", 400, 0, "unexpected character '/' at position 0"},
    {"[1 /*x*/]", 400, 3, "unexpected character '/' at position 3"},
    {"# c\n1", 400, 0, "unexpected character '#' at position 0"},
    {"'a'", 400, 0, "unexpected character ''' at position 0"},
    {"[1 2]", 400, 3, "unexpected character '2' at position 3"},
    {"{\"a\" 1}", 400, 5, "unexpected character '1' at position 5"},
    {"{\"a\"=1}", 400, 4, "unexpected character '=' at position 4"},
    {"{1:2}", 400, 1, "unexpected character '1' at position 1"},
    {"{a:2}", 400, 1, "unexpected character 'a' at position 1"},
    {"{\"a\":1 \"b\":2}", 400, 7, "unexpected character '\"' at position 7"},
    {"{\"a\":1]", 400, 6, "unexpected character ']' at position 6"},
    {"[1}", 400, 2, "unexpected character '}' at position 2"},
    {"]", 400, 0, "unexpected character ']' at position 0"},
    {"{,}", 400, 1, "unexpected character ',' at position 1"},
    {"[,1]", 400, 1, "unexpected character ',' at position 1"},
    {"[1,,2]", 400, 3, "unexpected character ',' at position 3"},
    {"tru e", 400, 3, "unexpected character ' ' at position 3"},
    {"truE", 400, 3, "unexpected character 'E' at position 3"},
    {"True", 400, 0, "unexpected character 'T' at position 0"},
    {"undefined", 400, 0, "unexpected character 'u' at position 0"},
    /* trailing garbage */
    {"1 2", 400, 2, "unexpected character '2' at position 2"},
    {"{}}", 400, 2, "unexpected character '}' at position 2"},
    {"[]x", 400, 2, "unexpected character 'x' at position 2"},
    {"nullnull", 400, 4, "unexpected character 'n' at position 4"},
    {"\"a\"\"b\"", 400, 3, "unexpected character '\"' at position 3"},
    {"1\x0c", 400, 1, "unexpected character '\\x0c' at position 1"},
    {"\xef\xbb\xbf" "1", 400, 0,
     "unexpected character '\\xef' at position 0"},
    /* non-printable bytes are shown as \xNN */
    {"\x01", 400, 0, "unexpected character '\\x01' at position 0"},
    {"\xff", 400, 0, "unexpected character '\\xff' at position 0"},
    {"\x7f", 400, 0, "unexpected character '\\x7f' at position 0"},
    {"\"a\nb\"", 400, 2, "control character '\\x0a' in string at position 2"},
    {"\"\t\"", 400, 1, "control character '\\x09' in string at position 1"},
    {"\"\x1f\"", 400, 1, "control character '\\x1f' in string at position 1"},
    /* escapes */
    {"\"\\x41\"", 400, 1, "invalid escape at position 1"},
    {"\"\\U0041\"", 400, 1, "invalid escape at position 1"},
    {"\"\\'\"", 400, 1, "invalid escape at position 1"},
    {"\"\\a\"", 400, 1, "invalid escape at position 1"},
    {"\"\\u12G4\"", 400, 1, "invalid \\u escape at position 1"},
    {"\"\\u\"", 400, 1, "invalid \\u escape at position 1"},
    {"\"ab\\u-123\"", 400, 3, "invalid \\u escape at position 3"},
    {"\"\\uD800\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uD800x\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uD800\\uD800\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uD800\\n\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uDBFF\\uE000\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uD800\\u0041\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uDC00\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"a\\uDFFF\"", 400, 2, "unpaired surrogate at position 2"},
    {"\"\\uDC00\\uD800\"", 400, 1, "unpaired surrogate at position 1"},
    {"\"\\uD800\\u12G4\"", 400, 7, "invalid \\u escape at position 7"},
    /* invalid UTF-8 */
    {"\"\xc0\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xc1\xbf\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xe0\x80\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xe0\x9f\xbf\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf0\x80\x80\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf0\x8f\xbf\xbf\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xed\xa0\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xed\xbf\xbf\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xed\xa0\xbd\xed\xb8\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf4\x90\x80\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf5\x80\x80\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf8\x88\x80\x80\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xff\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xfe\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\x80\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"ab\xc3\"", 400, 3, "invalid UTF-8 at position 3"},
    {"\"\xe2\x82\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xf0\x9f\x98\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xe2\x28\xa1\"", 400, 1, "invalid UTF-8 at position 1"},
    {"\"\xc3\xa9\xa9\"", 400, 3, "invalid UTF-8 at position 3"},
    {"[\"a\", \"\xc3\"]", 400, 7, "invalid UTF-8 at position 7"},
    {"{\"\xc3\":1}", 400, 2, "invalid UTF-8 at position 2"},
    /* duplicate keys */
    {"{\"id\":1,\"id\":2}", 400, 8, "duplicate property 'id' at position 8"},
    {"{\"id\":1,\"x\":{},\"id\":{}}", 400, 15,
     "duplicate property 'id' at position 15"},
    {"{\"a\":1,\"\\u0061\":2}", 400, 7,
     "duplicate property 'a' at position 7"},
    {"{\"\\n\":1,\"\\n\":2}", 400, 8,
     "duplicate property '\\x0a' at position 8"},
    {"{\"a\":{\"b\":1,\"b\":2}}", 400, 12,
     "duplicate property 'b' at position 12"},
    {"{\"\":1,\"\":2}", 400, 6, "duplicate property '' at position 6"},
    {"{\"caf\xc3\xa9\":1,\"caf\xc3\xa9\":2}", 400, 11,
     "duplicate property 'caf\\xc3\\xa9' at position 11"},
    /* the first duplicate in text order is reported */
    {"{\"a\":1,\"b\":2,\"b\":3,\"a\":4}", 400, 13,
     "duplicate property 'b' at position 13"},
    {"{\"a\":1,\"a\":2,", 400, 7, "duplicate property 'a' at position 7"},
  };
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    jerr(t, __LINE__, bad[i].s, strlen(bad[i].s), bad[i].st, bad[i].off,
         bad[i].msg);

  /* NUL bytes in the text (lengths given explicitly) */
  jerr(t, __LINE__, "[1]\0", 4, 400, 3,
       "unexpected character '\\x00' at position 3");
  jerr(t, __LINE__, "\"a\0b\"", 5, 400, 2,
       "control character '\\x00' in string at position 2");
  jerr(t, __LINE__, "\0", 1, 400, 0,
       "unexpected character '\\x00' at position 0");
  /* the text is not NUL-terminated: only len bytes are read */
  jerr(t, __LINE__, "[1]", 2, 400, 2, "unexpected end of input at position 2");
  jerr(t, __LINE__, "\"ab\"", 3, 400, 0, "unterminated string at position 0");
  jerr(t, __LINE__, "true", 3, 400, 3,
       "unexpected end of input at position 3");
  jerr(t, __LINE__, "12", 0, 400, 0, "unexpected end of input at position 0");
  jerr(t, __LINE__, NULL, 0, 400, 0, "unexpected end of input at position 0");
}

static void test_strings(tally *t)
{
  ct_arena a;
  const ct_jval *v;
  ct_arena_init(&a);
  v = JOK(&a, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
  CHECK(v && v->len == 8 && memcmp(v->u.s, "\"\\/\b\f\n\r\t", 9) == 0);
  v = JOK(&a, "\"\\u0041\\u00e9\\u00E9\\u20ac\"");
  CHECK(v && v->len == 8 &&
        memcmp(v->u.s, "A\xc3\xa9\xc3\xa9\xe2\x82\xac", 9) == 0);
  v = JOK(&a, "\"\\uD83D\\uDE00\"");
  CHECK(v && v->len == 4 && memcmp(v->u.s, "\xf0\x9f\x98\x80", 5) == 0);
  v = JOK(&a, "\"\\ud83d\\ude00\"");
  CHECK(v && v->len == 4 && memcmp(v->u.s, "\xf0\x9f\x98\x80", 5) == 0);
  v = JOK(&a, "\"\\uD800\\uDC00\"");
  CHECK(v && v->len == 4 && memcmp(v->u.s, "\xf0\x90\x80\x80", 5) == 0);
  v = JOK(&a, "\"\\uDBFF\\uDFFF\"");
  CHECK(v && v->len == 4 && memcmp(v->u.s, "\xf4\x8f\xbf\xbf", 5) == 0);
  v = JOK(&a, "\"\\u07ff\\u0800\\uffff\"");
  CHECK(v && v->len == 8 &&
        memcmp(v->u.s, "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 9) == 0);
  /* U+0000 is kept; the value stays NUL-terminated besides */
  v = JOK(&a, "\"a\\u0000b\"");
  CHECK(v && v->kind == CT_JSTR && v->len == 3 && v->u.s[0] == 'a' &&
        v->u.s[1] == '\0' && v->u.s[2] == 'b' && v->u.s[3] == '\0');
  v = JOK(&a, "{\"a\\u0000b\":1}");
  CHECK(v && v->len == 1 && v->u.items[0].keylen == 3 &&
        memcmp(v->u.items[0].key, "a\0b", 4) == 0);
  CHECK(v && ct_json_get(v, "a") == NULL);
  /* raw UTF-8 of every length, and the boundaries */
  v = JOK(&a, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  CHECK(v && v->len == 9);
  v = JOK(&a, "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
              "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
  CHECK(v && v->len == 24);
  v = JOK(&a, "\"\x7f\"");
  CHECK(v && v->len == 1 && v->u.s[0] == 0x7f);
  ct_arena_free(&a);
}

/* a document of `count` copies of `item` between open and close */
static char *repeat(const char *open, const char *item, size_t count,
                    const char *last, const char *close, size_t *len)
{
  size_t lo = strlen(open), li = strlen(item), ll = strlen(last);
  size_t lc = strlen(close), i, n = 0;
  char *s = malloc(lo + li * count + ll + lc + 1);
  if (!s) {
    perror("malloc");
    exit(2);
  }
  memcpy(s, open, lo);
  n = lo;
  for (i = 0; i < count; i++) {
    memcpy(s + n, item, li);
    n += li;
  }
  memcpy(s + n, last, ll);
  n += ll;
  memcpy(s + n, close, lc);
  n += lc;
  s[n] = '\0';
  *len = n;
  return s;
}

/* {"k0":0,"k1":1,...} with count members; *pos gets the last key's
   offset; when dup >= 0 the last key is "k<dup>" instead */
static char *object_of(size_t count, long dup, size_t *len, size_t *pos)
{
  char *s = malloc(count * 24 + 16);
  size_t n = 0, i;
  if (!s) {
    perror("malloc");
    exit(2);
  }
  s[n++] = '{';
  for (i = 0; i < count; i++) {
    long k = (dup >= 0 && i == count - 1) ? dup : (long)i;
    if (i) s[n++] = ',';
    *pos = n;
    n += (size_t)sprintf(s + n, "\"k%ld\":%lu", k, (unsigned long)i);
  }
  s[n++] = '}';
  s[n] = '\0';
  *len = n;
  return s;
}

#define LONG0 "string longer than 4096 bytes at position 0"
#define LONG1 "string longer than 4096 bytes at position 1"
#define BIG "body larger than 1048576 bytes"

static void test_limits(tally *t)
{
  ct_arena a;
  const ct_jval *v;
  char *s, msg[160];
  size_t n, pos, i;
  ct_arena_init(&a);

  /* strings: 4096 decoded bytes is fine, 4097 is 413 */
  s = repeat("\"", "a", 4096, "", "\"", &n);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->kind == CT_JSTR && v->len == 4096);
  free(s);
  s = repeat("\"", "a", 4097, "", "\"", &n);
  jerr(t, __LINE__, s, n, 413, 0, LONG0);
  free(s);
  s = repeat("[\"", "a", 5000, "", "", &n);   /* unterminated too */
  jerr(t, __LINE__, s, n, 413, 1, LONG1);
  free(s);
  s = repeat("\"", "\\u00e9", 2048, "", "\"", &n);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->len == 4096);
  free(s);
  s = repeat("\"", "\\u00e9", 2048, "a", "\"", &n);
  jerr(t, __LINE__, s, n, 413, 0, LONG0);
  free(s);
  s = repeat("\"", "a", 4094, "\xc3\xa9", "\"", &n);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->len == 4096);
  free(s);
  s = repeat("\"", "a", 4095, "\xc3\xa9", "\"", &n);
  jerr(t, __LINE__, s, n, 413, 0, LONG0);
  free(s);
  s = repeat("\"", "a", 4095, "\\uD83D\\uDE00", "\"", &n);
  jerr(t, __LINE__, s, n, 413, 0, LONG0);
  free(s);
  s = repeat("{\"", "k", 4096, "", "\":1}", &n);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->len == 1 && v->u.items[0].keylen == 4096);
  free(s);
  s = repeat("{\"", "k", 4097, "", "\":1}", &n);
  jerr(t, __LINE__, s, n, 413, 1, LONG1);
  free(s);

  /* items: 10000 is fine, the 10001st is 413 at its first byte */
  s = repeat("[", "1,", 9999, "1", "]", &n);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->kind == CT_JARR && v->len == 10000);
  CHECK(v && v->len == 10000 && v->u.items[9999].u.i == 1);
  free(s);
  s = repeat("[", "1,", 10000, "1", "]", &n);
  jerr(t, __LINE__, s, n, 413, 20001,
       "more than 10000 items at position 20001");
  free(s);
  s = repeat("[", "\"a\",", 10000, "\"a\"", "]", &n);
  jerr(t, __LINE__, s, n, 413, 40001,
       "more than 10000 items at position 40001");
  free(s);
  s = repeat("[", "[],", 10000, "", "]", &n);   /* trailing comma wins */
  jerr(t, __LINE__, s, n, 400, n - 2, "trailing comma at position 30000");
  free(s);
  s = object_of(10000, -1, &n, &pos);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->kind == CT_JOBJ && v->len == 10000);
  CHECK(v && ct_json_get(v, "k0") && ct_json_get(v, "k0")->u.i == 0);
  CHECK(v && ct_json_get(v, "k9999") && ct_json_get(v, "k9999")->u.i == 9999);
  CHECK(v && ct_json_get(v, "k10000") == NULL);
  free(s);
  s = object_of(10001, -1, &n, &pos);
  sprintf(msg, "more than 10000 items at position %lu", (unsigned long)pos);
  jerr(t, __LINE__, s, n, 413, pos, msg);
  free(s);

  /* duplicates in big objects (the hashed path), at several sizes */
  {
    static const size_t sizes[] = {2, 8, 9, 10, 33, 100, 1000, 10000};
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      long d;
      for (d = 0; d < (long)sizes[i] - 1; d += (long)sizes[i] / 3 + 1) {
        s = object_of(sizes[i], d, &n, &pos);
        sprintf(msg, "duplicate property 'k%ld' at position %lu", d,
                (unsigned long)pos);
        jerr(t, __LINE__, s, n, 400, pos, msg);
        free(s);
      }
    }
  }
  /* a long duplicated key is cut short in the message */
  s = repeat("{\"", "x", 300, "\":1,\"", "", &n);
  {
    char *s2 = malloc(2 * n + 16);
    size_t n2;
    if (!s2) exit(2);
    memcpy(s2, s, n);
    memcpy(s2 + n, s + 2, 300);
    memcpy(s2 + n + 300, "\":2}", 5);
    n2 = n + 304;
    {
      ct_jerr e;
      ct_jval *r;
      ct_arena b;
      ct_arena_init(&b);
      CHECK(ct_json_parse(&b, s2, n2, &r, &e) == -1);
      CHECK(e.status == 400 && e.offset == 306);
      CHECK(strncmp(e.message, "duplicate property 'xxxx", 24) == 0);
      CHECK(strstr(e.message, "...' at position 306") != NULL);
      CHECK(strlen(e.message) < sizeof e.message);
      ct_arena_free(&b);
    }
    free(s2);
  }
  free(s);
  /* a long key full of control characters still fits */
  s = repeat("{\"", "\\u0001", 300, "\":1,\"", "", &n);
  {
    ct_jerr e;
    ct_jval *r;
    ct_arena b;
    char *s2 = malloc(2 * n + 16);
    if (!s2) exit(2);
    memcpy(s2, s, n);
    memcpy(s2 + n, s + 2, 1800);
    memcpy(s2 + n + 1800, "\":2}", 4);
    ct_arena_init(&b);
    CHECK(ct_json_parse(&b, s2, n + 1804, &r, &e) == -1);
    CHECK(e.status == 400 && e.offset == n - 1);
    CHECK(strncmp(e.message, "duplicate property '\\x01\\x01", 28) == 0);
    CHECK(strstr(e.message, "...' at position ") != NULL);
    ct_arena_free(&b);
    free(s2);
  }
  free(s);

  /* depth: 16 is fine, the 17th opener is 413 at its offset */
  s = repeat("", "[", 16, "", "", &n);
  {
    char *s2 = repeat(s, "]", 16, "", "", &n);
    v = jok(t, __LINE__, &a, s2, n);
    CHECK(v && v->kind == CT_JARR);
    free(s2);
  }
  free(s);
  s = repeat("", "[", 17, "", "", &n);
  {
    char *s2 = repeat(s, "]", 17, "", "", &n);
    jerr(t, __LINE__, s2, n, 413, 16, "nesting deeper than 16 at position 16");
    free(s2);
  }
  free(s);
  s = repeat("", "{\"a\":", 16, "1", "", &n);
  {
    char *s2 = repeat(s, "}", 16, "", "", &n);
    v = jok(t, __LINE__, &a, s2, n);
    CHECK(v && v->kind == CT_JOBJ);
    free(s2);
  }
  free(s);
  s = repeat("", "{\"a\":", 17, "1", "", &n);
  {
    char *s2 = repeat(s, "}", 17, "", "", &n);
    jerr(t, __LINE__, s2, n, 413, 80, "nesting deeper than 16 at position 80");
    free(s2);
  }
  free(s);
  s = repeat("", "[{\"a\":", 8, "[", "", &n);    /* 17 levels */
  jerr(t, __LINE__, s, n, 413, 48, "nesting deeper than 16 at position 48");
  free(s);
  s = repeat("", "[", 200000, "", "", &n);       /* no deep recursion */
  jerr(t, __LINE__, s, n, 413, 16, "nesting deeper than 16 at position 16");
  free(s);
  s = repeat("[", "[1],", 50, "{}", "]", &n);    /* wide, not deep */
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->len == 51);
  free(s);

  /* body: exactly 1 MiB is fine, one more byte is 413, checked first */
  s = repeat("1", " ", CT_LIMIT_BODY - 1, "", "", &n);
  CHECK(n == CT_LIMIT_BODY);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->kind == CT_JINT && v->u.i == 1);
  free(s);
  s = repeat("1", " ", CT_LIMIT_BODY, "", "", &n);
  jerr(t, __LINE__, s, n, 413, CT_LIMIT_BODY, BIG);
  free(s);
  s = repeat("", "x", CT_LIMIT_BODY + 1, "", "", &n);
  jerr(t, __LINE__, s, n, 413, CT_LIMIT_BODY, BIG);
  free(s);
  /* a 1 MiB document of many small strings */
  s = repeat("[", "\"abcdefghijklmnopqrstuvwxyz01234567890abcdefghijklmnop"
             "qrstuvwxyz01234567890abcdefghijk\",", 9999, "1", "]", &n);
  CHECK(n < CT_LIMIT_BODY);
  v = jok(t, __LINE__, &a, s, n);
  CHECK(v && v->len == 10000 && v->u.items[0].len == 85);
  free(s);
  ct_arena_free(&a);
}

static void test_get(tally *t)
{
  ct_arena a;
  const ct_jval *v, *m;
  ct_arena_init(&a);
  v = JOK(&a, "{\"id\":1,\"name\":\"x\",\"idx\":2,\"\":3,\"Id\":4}");
  CHECK(v != NULL);
  m = ct_json_get(v, "id");
  CHECK(m && m->kind == CT_JINT && m->u.i == 1 && m->keylen == 2);
  m = ct_json_get(v, "idx");
  CHECK(m && m->u.i == 2);
  m = ct_json_get(v, "Id");
  CHECK(m && m->u.i == 4);
  m = ct_json_get(v, "");
  CHECK(m && m->u.i == 3);
  m = ct_json_get(v, "name");
  CHECK(m && m->kind == CT_JSTR && strcmp(m->u.s, "x") == 0);
  CHECK(ct_json_get(v, "i") == NULL);
  CHECK(ct_json_get(v, "ID") == NULL);
  CHECK(ct_json_get(v, "names") == NULL);
  CHECK(ct_json_get(NULL, "id") == NULL);
  v = JOK(&a, "[{\"id\":1}]");
  CHECK(v && ct_json_get(v, "id") == NULL);
  v = JOK(&a, "\"id\"");
  CHECK(v && ct_json_get(v, "id") == NULL);
  v = JOK(&a, "{}");
  CHECK(v && ct_json_get(v, "id") == NULL);
  ct_arena_free(&a);
}

static void test_arena(tally *t)
{
  ct_arena a;
  size_t i, bad = 0;
  char *p;
  ct_arena_init(&a);
  CHECK(a.head == NULL);
  for (i = 0; i < 3000; i++) {
    size_t n = i % 7 == 0 ? i * 37 : i % 97;
    p = ct_arena_alloc(&a, n);
    if (!p || ((size_t)(uintptr_t)p & 15) != 0) bad++;
    if (p && n) memset(p, (int)(i & 0xff), n);
  }
  CHECK(bad == 0);
  p = ct_arena_alloc(&a, 0);
  CHECK(p != NULL && ((size_t)(uintptr_t)p & 15) == 0);
  p = ct_arena_alloc(&a, 5u << 20);
  CHECK(p != NULL && ((size_t)(uintptr_t)p & 15) == 0);
  if (p) memset(p, 1, 5u << 20);
  CHECK(ct_arena_alloc(&a, (size_t)-1) == NULL);
  CHECK(ct_arena_alloc(&a, (size_t)-1 - 20) == NULL);
  ct_arena_free(&a);
  CHECK(a.head == NULL);
  ct_arena_free(&a);
  p = ct_arena_alloc(&a, 10);    /* usable again after a free */
  CHECK(p != NULL);
  ct_arena_free(&a);
}

/* ==================== buffer writers ==================== */

static int buf_is(const ct_buf *b, const char *want)
{
  size_t n = strlen(want);
  return !b->oom && b->len == n && memcmp(b->p, want, n) == 0;
}

static void test_buf(tally *t)
{
  ct_buf b;
  size_t i;
  ct_buf_init(&b);
  CHECK(b.p == NULL && b.len == 0 && b.oom == 0);
  ct_buf_add(&b, "abc", 3);
  ct_buf_adds(&b, "de");
  ct_buf_addc(&b, 'f');
  ct_buf_add(&b, NULL, 0);
  ct_buf_addc(&b, '\0');
  CHECK(b.len == 7 && memcmp(b.p, "abcdef", 7) == 0);
  ct_buf_free(&b);
  CHECK(b.p == NULL && b.len == 0);
  ct_buf_free(&b);
  for (i = 0; i < 100000; i++) ct_buf_adds(&b, "0123456789");
  CHECK(b.len == 1000000 && !b.oom && memcmp(b.p + 999990, "0123456789",
                                             10) == 0);
  ct_buf_free(&b);
  /* once oom is set, writes stop */
  ct_buf_adds(&b, "ab");
  b.oom = 1;
  ct_buf_adds(&b, "cd");
  ct_buf_json_int(&b, 5);
  CHECK(b.len == 2 && memcmp(b.p, "ab", 2) == 0);
  ct_buf_free(&b);
  CHECK(b.oom == 0);

  ct_buf_json_string(&b, "", 0);
  CHECK(buf_is(&b, "\"\""));
  ct_buf_free(&b);
  ct_buf_json_string(&b, "plain text", 10);
  CHECK(buf_is(&b, "\"plain text\""));
  ct_buf_free(&b);
  ct_buf_json_string(&b, "a\"b\\c/d\b\f\n\r\t", 12);
  CHECK(buf_is(&b, "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\""));
  ct_buf_free(&b);
  ct_buf_json_string(&b, "\x01\x1f\x00\x7f\x20", 5);
  CHECK(buf_is(&b, "\"\\u0001\\u001f\\u0000\x7f \""));
  ct_buf_free(&b);
  ct_buf_json_string(&b, "caf\xc3\xa9 \xf0\x9f\x98\x80", 10);
  CHECK(buf_is(&b, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""));
  ct_buf_free(&b);
  ct_buf_json_string(&b, "\x0b\x1b", 2);
  CHECK(buf_is(&b, "\"\\u000b\\u001b\""));
  ct_buf_free(&b);
  /* what the writer makes, the reader takes back */
  {
    char all[256];
    ct_arena a;
    ct_jval *v;
    ct_jerr e;
    for (i = 0; i < 128; i++) all[i] = (char)i;
    ct_buf_json_string(&b, all, 128);
    ct_arena_init(&a);
    CHECK(ct_json_parse(&a, b.p, b.len, &v, &e) == 0);
    CHECK(v && v->kind == CT_JSTR && v->len == 128 &&
          memcmp(v->u.s, all, 128) == 0);
    ct_arena_free(&a);
    ct_buf_free(&b);
  }

  ct_buf_json_int(&b, 0);
  CHECK(buf_is(&b, "0"));
  ct_buf_free(&b);
  ct_buf_json_int(&b, -1);
  ct_buf_addc(&b, ' ');
  ct_buf_json_int(&b, 42);
  ct_buf_addc(&b, ' ');
  ct_buf_json_int(&b, -1234567890123LL);
  CHECK(buf_is(&b, "-1 42 -1234567890123"));
  ct_buf_free(&b);
  ct_buf_json_int(&b, INT64_MAX);
  CHECK(buf_is(&b, "9223372036854775807"));
  ct_buf_free(&b);
  ct_buf_json_int(&b, INT64_MIN);
  CHECK(buf_is(&b, "-9223372036854775808"));
  ct_buf_free(&b);
  ct_buf_json_int(&b, INT64_MIN + 1);
  CHECK(buf_is(&b, "-9223372036854775807"));
  ct_buf_free(&b);
}

/* the writer's text for v */
static const char *num_text(ct_buf *b, double v)
{
  b->len = 0;
  ct_buf_json_number(b, v);
  ct_buf_addc(b, '\0');
  return b->oom ? "(oom)" : b->p;
}

/* deterministic 64-bit generator (xorshift64*) */
static uint64_t next_rand(uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717u;
}

/* v's text reads back exactly, through strtod and through the parser */
static int round_trips(ct_buf *b, ct_arena *a, double v)
{
  const char *s = num_text(b, v);
  double back = strtod(s, NULL);
  ct_jval *j;
  ct_jerr e;
  if (back != v || signbit(back) != signbit(v)) return 0;
  if (ct_json_parse(a, s, strlen(s), &j, &e) != 0) return 0;
  return j->kind == CT_JNUM && j->u.d == v &&
         signbit(j->u.d) == signbit(v);
}

static void test_numbers_out(tally *t)
{
  static const struct { double v; const char *s; } cases[] = {
    {1.0, "1.0"}, {0.1, "0.1"}, {-0.0, "-0.0"}, {0.0, "0.0"},
    {1e300, "1e300"}, {-1e300, "-1e300"}, {100.0, "100.0"},
    {1.5, "1.5"}, {-2.5, "-2.5"}, {123.456, "123.456"},
    {1e15, "1000000000000000.0"}, {1e16, "1e16"}, {1e23, "1e23"},
    {0.0001, "0.0001"}, {0.00001, "1e-5"}, {1.5e-7, "1.5e-7"},
    {1.0 / 3, "0.3333333333333333"}, {2.0 / 3, "0.6666666666666666"},
    {9007199254740992.0, "9007199254740992.0"},
    {123456789.125, "123456789.125"}, {5e-324, "5e-324"},
    {DBL_MAX, "1.7976931348623157e308"}, {DBL_MIN, "2.2250738585072014e-308"},
    {0.30000000000000004, "0.30000000000000004"}, {-1e-300, "-1e-300"},
    {1234.5e10, "12345000000000.0"},
    {12345678901234567.0, "1.2345678901234568e16"},
  };
  ct_buf b;
  ct_arena a;
  size_t i, bad = 0;
  uint64_t seed = 0x9e3779b97f4a7c15u;
  ct_buf_init(&b);
  ct_arena_init(&a);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *s = num_text(&b, cases[i].v);
    CHECK(strcmp(s, cases[i].s) == 0);
    if (strcmp(s, cases[i].s) != 0)
      printf("  want %s got %s\n", cases[i].s, s);
    CHECK(round_trips(&b, &a, cases[i].v));
  }
  /* non-finite values cannot be written as numbers */
  CHECK(strcmp(num_text(&b, HUGE_VAL), "null") == 0);
  CHECK(strcmp(num_text(&b, -HUGE_VAL), "null") == 0);
  CHECK(strcmp(num_text(&b, nan("")), "null") == 0);
  /* integral doubles stay floats */
  for (i = 0; i < 2000; i++) {
    double v = (double)i * 1000.0 - 1e6;
    const char *s = num_text(&b, v);
    if (!strchr(s, '.') && !strchr(s, 'e')) bad++;
    if (!round_trips(&b, &a, v)) bad++;
  }
  CHECK(bad == 0);
  /* random bit patterns, powers of ten and two, and neighbours */
  bad = 0;
  for (i = 0; i < 20000; i++) {
    uint64_t bits = next_rand(&seed);
    double v;
    memcpy(&v, &bits, sizeof v);
    if (!isfinite(v)) continue;
    if (!round_trips(&b, &a, v)) {
      if (bad++ < 5) printf("  no round trip: %.17g -> %s\n", v, b.p);
    }
    if (i % 10 == 0) ct_arena_free(&a);
  }
  for (i = 0; i <= 633; i++) {
    double p10 = pow(10.0, (double)i - 325);
    if (!round_trips(&b, &a, p10)) bad++;
    if (!round_trips(&b, &a, nextafter(p10, 0))) bad++;
    if (!round_trips(&b, &a, nextafter(p10, HUGE_VAL))) bad++;
  }
  ct_arena_free(&a);
  for (i = 0; i <= 2097; i++) {
    double p2 = ldexp(1.0, (int)i - 1074);
    if (!round_trips(&b, &a, p2)) bad++;
    if (!round_trips(&b, &a, -p2)) bad++;
    if (!round_trips(&b, &a, p2 * 1.5)) bad++;
  }
  for (i = 0; i < 2000; i++) {
    double v = (double)(next_rand(&seed) % 1000000) / 1000.0;
    if (!round_trips(&b, &a, v)) bad++;
    if (strlen(num_text(&b, v)) > 11) bad++;     /* shortest form */
  }
  CHECK(bad == 0);
  ct_arena_free(&a);
  ct_buf_free(&b);
}

/* with a comma decimal point in force, numbers still use '.' */
static void test_locale(tally *t)
{
  static const char *const names[] = {
    "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE"
  };
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (setlocale(LC_NUMERIC, names[i])) break;
  if (i < sizeof names / sizeof names[0] &&
      strcmp(localeconv()->decimal_point, ".") != 0) {
    ct_arena a;
    ct_buf b;
    const ct_jval *v;
    ct_arena_init(&a);
    ct_buf_init(&b);
    v = JOK(&a, "[1.5, 2e-1, 0.1]");
    CHECK(v && v->len == 3 && v->u.items[0].u.d == 1.5 &&
          v->u.items[1].u.d == 0.2 && v->u.items[2].u.d == 0.1);
    CHECK(strcmp(num_text(&b, 1.5), "1.5") == 0);
    CHECK(strcmp(num_text(&b, 1e-300), "1e-300") == 0);
    ct_arena_free(&a);
    ct_buf_free(&b);
  }
  setlocale(LC_NUMERIC, "C");
}

static void test_utf8(tally *t)
{
  CHECK(ct_utf8_valid("", 0));
  CHECK(ct_utf8_valid("plain", 5));
  CHECK(ct_utf8_valid("a\0b", 3));
  CHECK(ct_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
  CHECK(ct_utf8_valid("\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf", 10));
  CHECK(!ct_utf8_valid("\xc0\x80", 2));
  CHECK(!ct_utf8_valid("\xe0\x80\x80", 3));
  CHECK(!ct_utf8_valid("\xf0\x8f\xbf\xbf", 4));
  CHECK(!ct_utf8_valid("\xed\xa0\x80", 3));
  CHECK(!ct_utf8_valid("\xf4\x90\x80\x80", 4));
  CHECK(!ct_utf8_valid("\xf5\x80\x80\x80", 4));
  CHECK(!ct_utf8_valid("\x80", 1));
  CHECK(!ct_utf8_valid("\xff", 1));
  CHECK(!ct_utf8_valid("\xc3", 1));
  CHECK(!ct_utf8_valid("\xe2\x82", 2));
  CHECK(!ct_utf8_valid("\xf0\x9f\x98", 3));
  CHECK(!ct_utf8_valid("ab\xc3" "a", 4));
  /* only n bytes are looked at */
  CHECK(!ct_utf8_valid("\xc3\xa9", 1));
  CHECK(ct_utf8_valid("a\xff", 1));
}

/* ==================== GUIDs ==================== */

static void test_guid(tally *t)
{
  static const char *const bad[] = {
    "{00112233-4455-6677-8899-aabbccddeeff}",
    "00112233-4455-6677-8899-aabbccddeef",
    "00112233-4455-6677-8899-aabbccddeeff0",
    "00112233-4455-6677-8899-aabbccddeefg",
    "0011223g-4455-6677-8899-aabbccddeeff",
    "001122334-455-6677-8899-aabbccddeeff",
    "00112233-44556-677-8899-aabbccddeeff",
    "00112233-4455-66778-899-aabbccddeeff",
    "00112233-4455-6677-8899a-abbccddeeff",
    "00112233_4455_6677_8899_aabbccddeeff",
    "00112233445566778899aabbccddeeff0000",
    " 0112233-4455-6677-8899-aabbccddeeff",
    "00112233-4455-6677-8899-aabbccddeef ",
    "0x112233-4455-6677-8899-aabbccddeeff",
    "-0112233-4455-6677-8899-aabbccddeeff",
    "00112233-4455-6677-8899--abbccddeeff",
    "",
  };
  ct_guid g, h, keep;
  char out[37];
  size_t i;
  CHECK(ct_guid_parse("00112233-4455-6677-8899-aabbccddeeff", 36, &g) == 0);
  for (i = 0; i < 16; i++) CHECK(g.b[i] == i * 0x11);
  ct_guid_format(&g, out);
  CHECK(strcmp(out, "00112233-4455-6677-8899-aabbccddeeff") == 0);
  CHECK(ct_guid_parse("00112233-4455-6677-8899-AABBCCDDEEFF", 36, &h) == 0);
  CHECK(ct_guid_eq(&g, &h));
  CHECK(ct_guid_hash(&g) == ct_guid_hash(&h));
  CHECK(ct_guid_parse("00112233-4455-6677-8899-AaBbCcDdEeFf", 36, &h) == 0);
  CHECK(ct_guid_eq(&g, &h));
  CHECK(ct_guid_parse("6B8E1B0F-2B3C-4D5E-9F70-81A2B3C4D5E6", 36, &h) == 0);
  ct_guid_format(&h, out);
  CHECK(strcmp(out, "6b8e1b0f-2b3c-4d5e-9f70-81a2b3c4d5e6") == 0);
  CHECK(strlen(out) == 36);
  CHECK(!ct_guid_eq(&g, &h));
  CHECK(ct_guid_hash(&g) != ct_guid_hash(&h));
  CHECK(!ct_guid_is_nil(&g));
  /* only n bytes count */
  CHECK(ct_guid_parse("00112233-4455-6677-8899-aabbccddeeffXYZ", 36,
                      &h) == 0 && ct_guid_eq(&g, &h));
  CHECK(ct_guid_parse("00112233-4455-6677-8899-aabbccddeeff", 35, &h) == -1);
  CHECK(ct_guid_parse(NULL, 36, &h) == -1);
  keep = g;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int r = ct_guid_parse(bad[i], strlen(bad[i]), &g);
    CHECK(r == -1);
    if (r != -1) printf("  accepted: %s\n", bad[i]);
  }
  CHECK(ct_guid_eq(&g, &keep));     /* untouched on failure */
  CHECK(ct_guid_parse("00000000-0000-0000-0000-000000000000", 36, &g) == 0);
  CHECK(ct_guid_is_nil(&g));
  ct_guid_format(&g, out);
  CHECK(strcmp(out, "00000000-0000-0000-0000-000000000000") == 0);
  CHECK(ct_guid_parse("00000000-0000-0000-0000-000000000001", 36, &h) == 0);
  CHECK(!ct_guid_is_nil(&h) && !ct_guid_eq(&g, &h));
  CHECK(ct_guid_hash(&g) != ct_guid_hash(&h));
  /* format/parse round trip over varied bytes */
  {
    uint64_t seed = 12345;
    int bad_rt = 0, k;
    for (k = 0; k < 1000; k++) {
      uint64_t r1 = next_rand(&seed), r2 = next_rand(&seed);
      memcpy(g.b, &r1, 8);
      memcpy(g.b + 8, &r2, 8);
      ct_guid_format(&g, out);
      if (ct_guid_parse(out, 36, &h) != 0 || !ct_guid_eq(&g, &h)) bad_rt++;
    }
    CHECK(bad_rt == 0);
  }
}

/* ==================== time ==================== */

#define TPS CT_TICKS_PER_SEC

static int64_t pow10i(int n)
{
  int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

/* parse s; expect ticks and digits; the format of it is `back` */
static void time_ok(tally *t, int line, const char *s, int64_t ticks,
                    int digits, const char *back)
{
  ct_time tm;
  const char *why = "(unset)";
  char out[29];
  int r = ct_time_parse(s, strlen(s), &tm, &why);
  int ok = r == 0 && tm.ticks == ticks && tm.digits == digits;
  check(t, ok, line, "time parses");
  if (!ok) {
    printf("  input %s: r=%d why=%s ticks=%lld digits=%d\n", s, r,
           r ? why : "-", r ? 0LL : (long long)tm.ticks, r ? 0 : tm.digits);
    return;
  }
  ok = ct_time_format(&tm, out) == strlen(back) && strcmp(out, back) == 0;
  check(t, ok, line, "time formats");
  if (!ok) printf("  input %s: formatted %s want %s\n", s, out, back);
}

static void time_bad(tally *t, int line, const char *s, const char *reason)
{
  ct_time tm = {123, 4};
  const char *why = NULL;
  int r = ct_time_parse(s, strlen(s), &tm, &why);
  int ok = r == -1 && why && strcmp(why, reason) == 0 && tm.ticks == 123;
  check(t, ok, line, "time rejected");
  if (!ok) printf("  input %s: r=%d why=%s want %s\n", s, r,
                  why ? why : "(null)", reason);
}

#define TOK(s, ticks, d, back) time_ok(t, __LINE__, s, ticks, d, back)
#define TBAD(s, why) time_bad(t, __LINE__, s, why)

static void test_time(tally *t)
{
  ct_time tm;
  char out[29];
  TOK("2025-11-06T09:06:34.4773205Z", 1762419994 * TPS + 4773205, 7,
      "2025-11-06T09:06:34.4773205Z");
  TOK("2024-12-09T22:48:03.092Z", 1733784483 * TPS + 920000, 3,
      "2024-12-09T22:48:03.092Z");
  TOK("2025-11-06T11:26:00Z", 1762428360 * TPS, 0, "2025-11-06T11:26:00Z");
  TOK("2025-11-06T11:26:00.000Z", 1762428360 * TPS, 0,
      "2025-11-06T11:26:00Z");
  TOK("2025-11-06T11:26:00.0000000Z", 1762428360 * TPS, 0,
      "2025-11-06T11:26:00Z");
  TOK("2025-11-06T11:26:00.4500Z", 1762428360 * TPS + 4500000, 4,
      "2025-11-06T11:26:00.4500Z");
  TOK("2025-11-06T11:26:00.0000001Z", 1762428360 * TPS + 1, 7,
      "2025-11-06T11:26:00.0000001Z");
  TOK("2025-11-06T11:26:00.5Z", 1762428360 * TPS + 5000000, 1,
      "2025-11-06T11:26:00.5Z");
  /* offsets are normalised to UTC */
  TOK("2025-11-06T14:56:00+05:30", 1762421160 * TPS, 0,
      "2025-11-06T09:26:00Z");
  TOK("2025-11-06T01:26:00-08:00", 1762421160 * TPS, 0,
      "2025-11-06T09:26:00Z");
  TOK("2025-11-06T09:26:00+00:00", 1762421160 * TPS, 0,
      "2025-11-06T09:26:00Z");
  TOK("2025-11-06T09:26:00-00:00", 1762421160 * TPS, 0,
      "2025-11-06T09:26:00Z");
  TOK("2025-01-01T02:00:00.25+05:00", 1735678800 * TPS + 2500000, 2,
      "2024-12-31T21:00:00.25Z");
  TOK("2024-12-31T23:00:00-14:00", 1735736400 * TPS, 0,
      "2025-01-01T13:00:00Z");
  TOK("2025-01-01T13:00:00+14:00", 1735686000 * TPS, 0,
      "2024-12-31T23:00:00Z");
  TOK("2025-01-01T13:00:00+13:59", 1735686060 * TPS, 0,
      "2024-12-31T23:01:00Z");
  TOK("2025-11-06t11:26:00z", 1762428360 * TPS, 0, "2025-11-06T11:26:00Z");
  TOK("2025-11-06t11:26:00.1z", 1762428360 * TPS + 1000000, 1,
      "2025-11-06T11:26:00.1Z");
  /* calendar */
  TOK("1970-01-01T00:00:00Z", 0, 0, "1970-01-01T00:00:00Z");
  TOK("1969-12-31T23:59:59.9999999Z", -1, 7, "1969-12-31T23:59:59.9999999Z");
  TOK("2024-02-29T00:00:00Z", 19782 * 86400 * TPS, 0,
      "2024-02-29T00:00:00Z");
  TOK("2000-02-29T12:00:00Z", (11016 * 86400 + 43200) * TPS, 0,
      "2000-02-29T12:00:00Z");
  TOK("2024-12-31T23:59:59Z", 1735689599 * TPS, 0, "2024-12-31T23:59:59Z");
  TOK("0001-01-01T00:00:00Z", -719162LL * 86400 * TPS, 0,
      "0001-01-01T00:00:00Z");
  TOK("9999-12-31T23:59:59.9999999Z", 2932897LL * 86400 * TPS - 1, 7,
      "9999-12-31T23:59:59.9999999Z");
  TOK("1600-02-29T00:00:00Z", -135081LL * 86400 * TPS, 0,
      "1600-02-29T00:00:00Z");

  TBAD("2023-02-29T00:00:00Z", "day out of range");
  TBAD("1900-02-29T00:00:00Z", "day out of range");
  TBAD("2100-02-29T00:00:00Z", "day out of range");
  TBAD("2024-02-30T00:00:00Z", "day out of range");
  TBAD("2024-04-31T00:00:00Z", "day out of range");
  TBAD("2024-01-32T00:00:00Z", "day out of range");
  TBAD("2024-01-00T00:00:00Z", "day out of range");
  TBAD("2024-13-01T00:00:00Z", "month out of range");
  TBAD("2024-00-01T00:00:00Z", "month out of range");
  TBAD("2024-01-01T24:00:00Z", "hour out of range");
  TBAD("2024-01-01T23:60:00Z", "minute out of range");
  TBAD("2024-01-01T23:59:60Z", "second out of range");
  TBAD("2024-01-01T00:00:00.12345678Z", "too many fractional digits");
  TBAD("2024-01-01T00:00:00+24:00", "offset beyond 14:00");
  TBAD("2024-01-01T00:00:00+14:01", "offset beyond 14:00");
  TBAD("2024-01-01T00:00:00-14:01", "offset beyond 14:00");
  TBAD("2024-01-01T00:00:00+15:00", "offset beyond 14:00");
  TBAD("2024-12-31T23:00:00-23:59", "offset beyond 14:00");
  TBAD("2024-01-01T00:00:00+05:60", "offset out of range");
  TBAD("2024-01-01T00:00:00", "missing offset");
  TBAD("2024-01-01T00:00:00.123", "missing offset");
  TBAD("0000-01-01T00:00:00Z", "year out of range");
  TBAD("0001-01-01T00:00:00+00:01", "date out of range");
  TBAD("9999-12-31T23:59:59-00:01", "date out of range");
  TBAD("", "invalid format");
  TBAD("hello", "invalid format");
  TBAD("garbage garbage garbage", "invalid format");
  TBAD("2025-11-06", "invalid format");
  TBAD("2025-11-06T11:26Z", "invalid format");
  TBAD("2025-11-06 11:26:00Z", "invalid format");
  TBAD("2025-11-06X11:26:00Z", "invalid format");
  TBAD("2025-1-06T11:26:00Z", "invalid format");
  TBAD("25-11-06T11:26:00Z", "invalid format");
  TBAD("+2025-11-06T11:26:00Z", "invalid format");
  TBAD("20a5-11-06T11:26:00Z", "invalid format");
  TBAD("2025/11/06T11:26:00Z", "invalid format");
  TBAD("2025-11-06T11.26.00Z", "invalid format");
  TBAD("2025-11-06T11:26:00.Z", "invalid format");
  TBAD("2025-11-06T11:26:00,5Z", "invalid format");
  TBAD("2025-11-06T11:26:00Z ", "invalid format");
  TBAD(" 2025-11-06T11:26:00Z", "invalid format");
  TBAD("2025-11-06T11:26:00ZZ", "invalid format");
  TBAD("2025-11-06T11:26:00UTC", "invalid format");
  TBAD("2025-11-06T11:26:00+05:3", "invalid format");
  TBAD("2025-11-06T11:26:00+0530", "invalid format");
  TBAD("2025-11-06T11:26:00+05:30Z", "invalid format");
  TBAD("2025-11-06T11:26:00+5:30", "invalid format");
  TBAD("2025-11-06T11:26:00-", "invalid format");
  TBAD("2025-11-06T11:26:00z+01:00", "invalid format");
  TBAD("-025-11-06T11:26:00Z", "invalid format");
  /* only n bytes are read; why may be NULL */
  CHECK(ct_time_parse("2025-11-06T11:26:00Zjunk", 20, &tm, NULL) == 0);
  CHECK(tm.ticks == 1762428360 * TPS);
  CHECK(ct_time_parse("2025-11-06T11:26:00Z", 19, &tm, NULL) == -1);
  CHECK(ct_time_parse(NULL, 0, &tm, NULL) == -1);

  /* format: digits are the leading ones of the tick fraction */
  tm.ticks = 1762419994 * TPS + 4773205;
  tm.digits = 3;
  CHECK(ct_time_format(&tm, out) == 24 &&
        strcmp(out, "2025-11-06T09:06:34.477Z") == 0);
  tm.digits = 0;
  CHECK(ct_time_format(&tm, out) == 20 &&
        strcmp(out, "2025-11-06T09:06:34Z") == 0);
  tm.digits = 7;
  CHECK(ct_time_format(&tm, out) == 28 &&
        strcmp(out, "2025-11-06T09:06:34.4773205Z") == 0);
  tm.ticks = -719162LL * 86400 * TPS - 1;       /* clamped, still fits */
  CHECK(ct_time_format(&tm, out) == 28 &&
        strcmp(out, "0001-01-01T00:00:00.0000000Z") == 0);
  tm.ticks = INT64_MAX;
  tm.digits = 99;
  CHECK(ct_time_format(&tm, out) == 28 &&
        strcmp(out, "9999-12-31T23:59:59.9999999Z") == 0);

  /* format -> parse round trip across the whole range */
  {
    uint64_t seed = 777;
    int bad = 0, k;
    int64_t span = 2932897LL * 86400 * TPS + 719162LL * 86400 * TPS;
    int64_t unit, cut;
    for (k = 0; k < 20000; k++) {
      ct_time a, b;
      a.ticks = (int64_t)(next_rand(&seed) % (uint64_t)span) -
                719162LL * 86400 * TPS;
      a.digits = 7;
      ct_time_format(&a, out);
      if (ct_time_parse(out, strlen(out), &b, NULL) != 0 ||
          b.ticks != a.ticks) bad++;
      /* fewer digits: the fraction is cut, not rounded */
      a.digits = k % 8;
      ct_time_format(&a, out);
      unit = pow10i(7 - a.digits);
      cut = a.ticks - ((a.ticks % unit) + unit) % unit;
      if (ct_time_parse(out, strlen(out), &b, NULL) != 0 || b.ticks != cut)
        bad++;
    }
    CHECK(bad == 0);
  }
}

static void dur_ok(tally *t, int line, const char *s, int64_t want)
{
  int64_t got = -7;
  int r = ct_duration_parse(s, strlen(s), &got);
  check(t, r == 0 && got == want, line, "duration parses");
  if (r != 0 || got != want)
    printf("  input %s: r=%d got %lld want %lld\n", s, r, (long long)got,
           (long long)want);
}

static void dur_bad(tally *t, int line, const char *s)
{
  int64_t got = -7;
  int r = ct_duration_parse(s, strlen(s), &got);
  check(t, r == -1 && got == -7, line, "duration rejected");
  if (r != -1) printf("  input %s: accepted as %lld\n", s, (long long)got);
}

#define DOK(s, v) dur_ok(t, __LINE__, s, v)
#define DBAD(s) dur_bad(t, __LINE__, s)

static void test_duration(tally *t)
{
  int64_t v;
  DOK("PT2H", 2 * 3600 * TPS);
  DOK("P7D", 7 * 86400 * TPS);
  DOK("PT0.5S", TPS / 2);
  DOK("P1DT2H3M4S", (86400 + 2 * 3600 + 3 * 60 + 4) * TPS);
  DOK("P2W", 14 * 86400 * TPS);
  DOK("PT1M", 60 * TPS);
  DOK("PT90M", 90 * 60 * TPS);
  DOK("PT0S", 0);
  DOK("P0D", 0);
  DOK("PT1.1234567S", TPS + 1234567);
  DOK("PT0.0000001S", 1);
  DOK("PT10S", 10 * TPS);
  DOK("P1DT0.25S", 86400 * TPS + TPS / 4);
  DOK("PT1H30M", 5400 * TPS);
  DOK("P1DT1M", (86400 + 60) * TPS);
  DOK("P10675199D", 10675199LL * 86400 * TPS);
  DBAD("P");
  DBAD("PT");
  DBAD("P1Y");
  DBAD("P1M");
  DBAD("P1Y2M3D");
  DBAD("1D");
  DBAD("PT1.12345678S");
  DBAD("");
  DBAD("P1DT");
  DBAD("PT1H2H");
  DBAD("PT2M1H");
  DBAD("P1DT1S2M");
  DBAD("P1D2D");
  DBAD("P1W1D");
  DBAD("P1D1W");
  DBAD("P1WT1H");
  DBAD("PT1W");
  DBAD("PTT1H");
  DBAD("P1DTT1H");
  DBAD("PT.5S");
  DBAD("PT1.S");
  DBAD("PT1.5H");
  DBAD("P1.5D");
  DBAD("P-1D");
  DBAD("-P1D");
  DBAD("p1d");
  DBAD("PT1h");
  DBAD("PT1H ");
  DBAD(" PT1H");
  DBAD("P1");
  DBAD("PT1");
  DBAD("PD");
  DBAD("PTS");
  DBAD("PT0,5S");
  DBAD("P10675200D");
  DBAD("P99999999999999999999D");
  DBAD("PT9223372036854775807S");
  DBAD("P1H");
  DBAD("P1S");
  DBAD("T1H");
  /* only n bytes are read */
  CHECK(ct_duration_parse("PT2H", 3, &v) == -1);
  CHECK(ct_duration_parse("PT2Hxx", 4, &v) == 0 && v == 2 * 3600 * TPS);
  CHECK(ct_duration_parse(NULL, 0, &v) == -1);
}

/* ==================== calendar ==================== */

static void test_civil(tally *t)
{
  int64_t z, y, py = 0;
  unsigned m, d, pm = 0, pd = 0;
  int bad = 0, first = 1;
  CHECK(ct_days_from_civil(1970, 1, 1) == 0);
  CHECK(ct_days_from_civil(2000, 3, 1) == 11017);
  CHECK(ct_days_from_civil(1, 1, 1) == -719162);
  CHECK(ct_days_from_civil(9999, 12, 31) == 2932896);
  CHECK(ct_days_from_civil(2024, 2, 29) == 19782);
  CHECK(ct_days_from_civil(1969, 12, 31) == -1);
  CHECK(ct_days_from_civil(0, 3, 1) == -719468);
  ct_civil_from_days(0, &y, &m, &d);
  CHECK(y == 1970 && m == 1 && d == 1);
  ct_civil_from_days(-1, &y, &m, &d);
  CHECK(y == 1969 && m == 12 && d == 31);
  ct_civil_from_days(19782, &y, &m, &d);
  CHECK(y == 2024 && m == 2 && d == 29);
  ct_civil_from_days(-719468, &y, &m, &d);
  CHECK(y == 0 && m == 3 && d == 1);
  /* every day over +-8000 years: consecutive and invertible */
  for (z = -3650000; z <= 3650000; z++) {
    ct_civil_from_days(z, &y, &m, &d);
    if (ct_days_from_civil(y, m, d) != z) bad++;
    if (m < 1 || m > 12 || d < 1 || d > 31) bad++;
    if (!first) {
      int next = (y == py && m == pm && d == pd + 1) ||
                 (y == py && m == pm + 1 && d == 1) ||
                 (y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31);
      if (!next) bad++;
      if (d == 1 && !(pd >= 28)) bad++;
    }
    py = y;
    pm = m;
    pd = d;
    first = 0;
  }
  CHECK(bad == 0);
  /* far away, sparsely */
  bad = 0;
  for (y = -1000000000; y <= 1000000000; y += 9876543) {
    for (m = 1; m <= 12; m++) {
      int64_t y2;
      unsigned m2, d2;
      z = ct_days_from_civil(y, m, 28);
      ct_civil_from_days(z, &y2, &m2, &d2);
      if (y2 != y || m2 != m || d2 != 28) bad++;
    }
  }
  CHECK(bad == 0);
  /* 400 years are always 146097 days */
  CHECK(ct_days_from_civil(2400, 1, 1) - ct_days_from_civil(2000, 1, 1) ==
        146097);
  CHECK(ct_days_from_civil(-400, 1, 1) - ct_days_from_civil(-800, 1, 1) ==
        146097);
}

/* ==================== mutation fuzzing ==================== */

static int same_tree(const ct_jval *x, const ct_jval *y)
{
  size_t i;
  if (x->kind != y->kind || x->len != y->len) return 0;
  switch (x->kind) {
  case CT_JINT: return x->u.i == y->u.i;
  case CT_JNUM:
    return x->u.d == y->u.d && signbit(x->u.d) == signbit(y->u.d);
  case CT_JSTR: return memcmp(x->u.s, y->u.s, x->len + 1) == 0;
  case CT_JARR:
  case CT_JOBJ:
    for (i = 0; i < x->len; i++) {
      const ct_jval *a = &x->u.items[i], *b = &y->u.items[i];
      if (x->kind == CT_JOBJ &&
          (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen)))
        return 0;
      if (!same_tree(a, b)) return 0;
    }
    return 1;
  default: return 1;
  }
}

/* an error is well formed: known status, offset within the text, a
   printable message that ends with " at position <offset>" */
static int good_error(const ct_jerr *e, size_t n)
{
  char tail[48];
  size_t ml = strlen(e->message), tl, i;
  if (e->status != 400 && e->status != 413) return 0;
  if (e->offset > n) return 0;
  for (i = 0; i < ml; i++)
    if (e->message[i] < 0x20 || e->message[i] > 0x7e) return 0;
  sprintf(tail, " at position %lu", (unsigned long)e->offset);
  tl = strlen(tail);
  return ml > tl && strcmp(e->message + ml - tl, tail) == 0;
}

static void test_fuzz(tally *t)
{
  static const char *const seeds[] = {
    "{\"id\":\"6b8e1b0f-2b3c-4d5e-9f70-81a2b3c4d5e6\",\"n\":[1,-2,3.5e-3,"
    "true,false,null],\"o\":{\"a\":{},\"b\":[]}}",
    "[\"caf\\u00e9 \\ud83d\\ude00 \\n\\t\\\"\\\\\",\"\xc3\xa9\xe2\x82\xac"
    "\xf0\x9f\x98\x80\",0,-0,1e2,1E-2,0.5,9223372036854775807]",
    "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,"
    "\"i\":9,\"j\":10}",
    " [ [ [ { \"x\" : [ 1 , 2 ] } ] ] ] ",
    "\"\\u0000\\/\\b\\f\\r\"",
  };
  static const char interesting[] = "\"\\{}[],:0-.eE+u \x00\x80\xc3\xed\xff";
  uint64_t seed = 42;
  ct_buf b;
  int bad_err = 0, bad_rt = 0, oks = 0, errs = 0, k;
  ct_buf_init(&b);
  for (k = 0; k < 30000; k++) {
    const char *sd = seeds[k % (int)(sizeof seeds / sizeof seeds[0])];
    size_t n = strlen(sd), m, j;
    char buf[256], *copy;
    ct_arena a;
    ct_jval *v, *w;
    ct_jerr e;
    int muts = 1 + (int)(next_rand(&seed) % 4);
    memcpy(buf, sd, n);
    while (muts--) {
      uint64_t r = next_rand(&seed);
      size_t at = n ? (size_t)(r >> 8) % n : 0;
      unsigned char c = (r & 1) ? (unsigned char)(r >> 40)
        : (unsigned char)interesting[(r >> 40) % (sizeof interesting - 1)];
      switch (r % 5) {
      case 0: if (n) buf[at] = (char)c; break;          /* replace */
      case 1:                                           /* insert */
        if (n < sizeof buf) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = (char)c;
          n++;
        }
        break;
      case 2:                                           /* delete */
        if (n) {
          memmove(buf + at, buf + at + 1, n - at - 1);
          n--;
        }
        break;
      case 3: n = at; break;                            /* truncate */
      default:                                          /* duplicate */
        m = (size_t)(r >> 24) % 8;
        for (j = 0; j < m && n < sizeof buf && at + j < n; j++) {
          memmove(buf + at + 1, buf + at, n - at);
          n++;
        }
        break;
      }
    }
    copy = exact_copy(buf, n);
    ct_arena_init(&a);
    if (ct_json_parse(&a, copy, n, &v, &e) == 0) {
      oks++;
      b.len = 0;
      ct_buf_json_tree(&b, v);
      if (ct_json_parse(&a, b.p, b.len, &w, &e) != 0 || !same_tree(v, w))
        bad_rt++;
    } else {
      errs++;
      if (v != NULL || !good_error(&e, n)) {
        if (bad_err++ < 5) {
          printf("  bad error for ");
          show(buf, n);
          printf(": %d %lu %s\n", e.status, (unsigned long)e.offset,
                 e.message);
        }
      }
    }
    ct_arena_free(&a);
    free(copy);
  }
  ct_buf_free(&b);
  CHECK(bad_err == 0);
  CHECK(bad_rt == 0);
  CHECK(oks > 1000 && errs > 1000);
}

/* the message formatter: pieces appended, cut at the buffer's size */
static void test_msg(tally *t)
{
  char buf[16], big[64];
  ct_msg m;
  ct_msg_init(&m, buf, sizeof buf);
  CHECK(buf[0] == '\0' && m.len == 0);
  ct_msg_addf(&m, "Invalid %s: ", "$x");
  ct_msg_addf(&m, "at %d", 7);
  CHECK(m.len == 15 && strcmp(buf, "Invalid $x: at ") == 0);
  ct_msg_addf(&m, "more");                 /* full: nothing changes */
  CHECK(m.len == 15 && strcmp(buf, "Invalid $x: at ") == 0);
  ct_msg_init(&m, big, sizeof big);
  ct_msg_quote(&m, "a\0b\x7f\n", 5, 80, 1);
  CHECK(strcmp(big, "a?b??") == 0 && m.len == 5);
  ct_msg_quote(&m, "abcdef", 6, 3, 1);
  CHECK(strcmp(big, "a?b??abc...") == 0);
  ct_msg_quote(&m, "abcdef", 6, 3, 0);
  CHECK(strcmp(big, "a?b??abc...abc") == 0);
  ct_msg_init(&m, buf, 4);
  ct_msg_quote(&m, "abcdef", 6, 80, 1);
  CHECK(strcmp(buf, "abc") == 0 && m.len == 3);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  test_msg(t);
  test_valid_docs(t);
  test_numbers(t);
  test_syntax_errors(t);
  test_strings(t);
  test_limits(t);
  test_get(t);
  test_arena(t);
  test_buf(t);
  test_numbers_out(t);
  test_locale(t);
  test_utf8(t);
  test_guid(t);
  test_time(t);
  test_duration(t);
  test_civil(t);
  test_fuzz(t);
  return tally_report(t);
}
