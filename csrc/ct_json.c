/*
** ct_json.c -- strict JSON reader into an arena tree, and the growable
** byte buffer with its JSON writers.  See ct_json.h for the contract.
*/
#include "ct_json.h"
#include "ct_util.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==================== arena ==================== */

#define ARENA_CHUNK 65536          /* payload bytes of an ordinary chunk */
#define ARENA_FIRST 2048           /* the first: most bodies are small */

struct ct_arena_chunk {
  ct_arena_chunk *next;
  char *start;                     /* first 16-byte aligned payload byte */
  size_t used, cap;                /* payload bytes used / usable */
};

/* a chunk with `cap` usable bytes, aligned whatever malloc gives */
static ct_arena_chunk *chunk_new(size_t cap)
{
  ct_arena_chunk *c;
  size_t mis;
  if (cap > (size_t)-1 - sizeof *c - 16) return NULL;
  c = ct_malloc(sizeof *c + cap + 15);
  if (!c) return NULL;
  mis = (size_t)((uintptr_t)(c + 1) & 15);
  c->start = (char *)(c + 1) + (mis ? 16 - mis : 0);
  c->next = NULL;
  c->used = 0;
  c->cap = cap;
  return c;
}

void ct_arena_init(ct_arena *a)
{
  a->head = NULL;
}

void *ct_arena_alloc(ct_arena *a, size_t n)
{
  ct_arena_chunk *c = a->head;
  size_t need;
  if (n > (size_t)-1 - 64) return NULL;
  need = n ? (n + 15) & ~(size_t)15 : 16;
  if (c && c->cap - c->used >= need) {
    void *r = c->start + c->used;
    c->used += need;
    return r;
  }
  if (need > ARENA_CHUNK / 4) {
    /* big: a chunk of its own, kept behind the head so the head's
       free space stays in use */
    c = chunk_new(need);
    if (!c) return NULL;
    c->used = need;
    if (a->head) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      a->head = c;
    }
    return c->start;
  }
  /* chunks double from ARENA_FIRST: a small body costs a small malloc */
  {
    size_t cap = a->head ? a->head->cap * 2 : ARENA_FIRST;
    if (cap > ARENA_CHUNK) cap = ARENA_CHUNK;
    while (cap < need) cap *= 2;     /* need <= ARENA_CHUNK / 4 here */
    c = chunk_new(cap);
  }
  if (!c) return NULL;
  c->next = a->head;
  a->head = c;
  c->used = need;
  return c->start;
}

void ct_arena_free(ct_arena *a)
{
  ct_arena_chunk *c = a->head;
  while (c) {
    ct_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
}

void ct_arena_reset(ct_arena *a)
{
  ct_arena_chunk *keep = a->head, *c;
  if (keep == NULL) return;
  if (keep->cap > ARENA_CHUNK) {    /* a big chunk of its own: no reuse */
    ct_arena_free(a);
    return;
  }
  c = keep->next;
  while (c) {
    ct_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  keep->next = NULL;
  keep->used = 0;
}

/* ==================== UTF-8 ==================== */

/*
** Length (2..4) of the well-formed sequence at s, whose lead byte is
** >= 0x80 and which has n >= 1 bytes available; 0 if ill-formed; -1 if
** well-formed so far but cut short by the end (Unicode table 3-7).
*/
static int utf8_seq(const unsigned char *s, size_t n)
{
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  int need, i;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c == 0xE0) {
    need = 3; lo = 0xA0;              /* no overlongs */
  } else if (c == 0xED) {
    need = 3; hi = 0x9F;              /* no surrogates */
  } else if (c >= 0xE1 && c <= 0xEF) {
    need = 3;
  } else if (c == 0xF0) {
    need = 4; lo = 0x90;              /* no overlongs */
  } else if (c >= 0xF1 && c <= 0xF3) {
    need = 4;
  } else if (c == 0xF4) {
    need = 4; hi = 0x8F;              /* <= U+10FFFF */
  } else {
    return 0;
  }
  for (i = 1; i < need; i++) {
    if ((size_t)i >= n) return -1;
    if (s[i] < lo || s[i] > hi) return 0;
    lo = 0x80;
    hi = 0xBF;
  }
  return need;
}

int ct_utf8_valid(const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  {                       /* all ASCII (most text): eight bytes at a time */
    uint64_t w, any = 0;
    for (; n - i >= 8; i += 8) {
      memcpy(&w, u + i, 8);
      any |= w;
    }
    for (; i < n; i++) any |= u[i];
    if (!(any & UINT64_C(0x8080808080808080))) return 1;
    i = 0;
  }
  while (i < n) {
    int k;
    if (u[i] < 0x80) {
      uint64_t w;
      i++;
      /* ASCII runs eight bytes at a time */
      while (n - i >= 8) {
        memcpy(&w, u + i, 8);
        if (w & UINT64_C(0x8080808080808080)) break;
        i += 8;
      }
      continue;
    }
    k = utf8_seq(u + i, n - i);
    if (k <= 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

/* ==================== reader ==================== */

#define SMALL_OBJ 8          /* members checked for duplicates linearly */

/* per-depth hash of member indices (+1; 0 = empty) for duplicate keys */
typedef struct dupset {
  uint32_t *slot;
  size_t cap;                /* allocated slots */
  size_t live;               /* slots in use by the current object */
} dupset;

typedef struct parser {
  ct_arena *a;
  const unsigned char *s;
  size_t len, pos;
  ct_jerr *err;
  ct_jval *stk;              /* members of the containers still open */
  size_t top, stkcap;
  ct_jval stk0[48];          /* the stack while it fits (no malloc) */
  int dups;                  /* some dup[].slot was allocated */
  dupset dup[CT_LIMIT_DEPTH];
  const char *str;           /* the string read last: in s, or sbuf */
  size_t slen;               /* its bytes */
  char sbuf[CT_LIMIT_STRING + 8];   /* a string with escapes, decoded */
} parser;

static int fail(parser *p, int status, size_t off, const char *fmt, ...)
  CT_PRINTF(4, 5);

/* fill the error: message from fmt, then " at position N"; returns -1 */
static int fail(parser *p, int status, size_t off, const char *fmt, ...)
{
  ct_jerr *e = p->err;
  ct_msg m;
  va_list ap;
  e->status = status;
  e->offset = off;
  ct_msg_init(&m, e->message, sizeof e->message);
  va_start(ap, fmt);
  ct_msg_vaddf(&m, fmt, ap);
  va_end(ap);
  ct_msg_addf(&m, " at position %lu", (unsigned long)off);
  return -1;
}

/* a byte as shown in a message: itself if printable ASCII, else \xNN */
static const char *showc(char out[8], unsigned char c)
{
  if (c >= 0x20 && c < 0x7F) {
    out[0] = (char)c;
    out[1] = '\0';
  } else {
    static const char hex[] = "0123456789abcdef";
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
    out[4] = '\0';
  }
  return out;
}

static int fail_eoi(parser *p)
{
  return fail(p, 400, p->len, "unexpected end of input");
}

static int fail_char(parser *p, size_t at)
{
  char c[8];
  if (at >= p->len) return fail_eoi(p);
  return fail(p, 400, at, "unexpected character '%s'", showc(c, p->s[at]));
}

static int fail_oom(parser *p)
{
  return fail(p, 500, p->pos, "out of memory");
}

static void skip_ws(parser *p)
{
  while (p->pos < p->len) {
    unsigned char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

/* append a finished member to the stack of open containers */
static int push(parser *p, const ct_jval *v)
{
  if (p->top == p->stkcap) {
    size_t cap = p->stkcap * 2;
    ct_jval *q = ct_realloc(p->stk == p->stk0 ? NULL : p->stk,
                            cap * sizeof *q);
    if (!q) return fail_oom(p);
    if (p->stk == p->stk0) memcpy(q, p->stk0, sizeof p->stk0);
    p->stk = q;
    p->stkcap = cap;
  }
  p->stk[p->top++] = *v;
  return 0;
}

/* move the members above `base` into the arena as v's items */
static int close_container(parser *p, ct_jval *v, ct_jkind kind,
                           size_t base)
{
  size_t n = p->top - base;
  v->kind = kind;
  v->len = n;
  v->u.items = NULL;
  if (n) {
    v->u.items = ct_arena_alloc(p->a, n * sizeof *v->u.items);
    if (!v->u.items) return fail_oom(p);
    memcpy(v->u.items, p->stk + base, n * sizeof *v->u.items);
  }
  p->top = base;
  return 0;
}

/* ---------- strings ---------- */

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* the 4 hex digits after "\u" at i: value, -1 bad hex, -2 cut short */
static long hex4(const parser *p, size_t i)
{
  long v = 0;
  size_t k;
  for (k = i + 2; k < i + 6; k++) {
    int h;
    if (k >= p->len) return -2;
    h = hexval(p->s[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* add n bytes to the decoded string; 413 past the limit */
static int sput(parser *p, size_t quote, const char *b, size_t n)
{
  if (p->slen + n > CT_LIMIT_STRING)
    return fail(p, 413, quote, "string longer than %d bytes",
                CT_LIMIT_STRING);
  memcpy(p->sbuf + p->slen, b, n);
  p->slen += n;
  return 0;
}

/* decode the escape at i ('\\'); sets *adv to the bytes consumed */
static int escape(parser *p, size_t quote, size_t i, size_t *adv)
{
  char o[4];
  long cp, lo;
  size_t n;
  if (i + 1 >= p->len) return fail(p, 400, quote, "unterminated string");
  *adv = 2;
  switch (p->s[i + 1]) {
  case '"': o[0] = '"'; break;
  case '\\': o[0] = '\\'; break;
  case '/': o[0] = '/'; break;
  case 'b': o[0] = '\b'; break;
  case 'f': o[0] = '\f'; break;
  case 'n': o[0] = '\n'; break;
  case 'r': o[0] = '\r'; break;
  case 't': o[0] = '\t'; break;
  case 'u':
    cp = hex4(p, i);
    if (cp == -2) return fail(p, 400, quote, "unterminated string");
    if (cp < 0) return fail(p, 400, i, "invalid \\u escape");
    *adv = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail(p, 400, i, "unpaired surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      /* a high surrogate must be followed by \u and a low one */
      if (i + 6 >= p->len) return fail(p, 400, quote, "unterminated string");
      if (p->s[i + 6] != '\\') return fail(p, 400, i, "unpaired surrogate");
      if (i + 7 >= p->len) return fail(p, 400, quote, "unterminated string");
      if (p->s[i + 7] != 'u') return fail(p, 400, i, "unpaired surrogate");
      lo = hex4(p, i + 6);
      if (lo == -2) return fail(p, 400, quote, "unterminated string");
      if (lo < 0) return fail(p, 400, i + 6, "invalid \\u escape");
      if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(p, 400, i, "unpaired surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      *adv = 12;
    }
    if (cp < 0x80) {
      o[0] = (char)cp;
      n = 1;
    } else if (cp < 0x800) {
      o[0] = (char)(0xC0 | (cp >> 6));
      o[1] = (char)(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      o[0] = (char)(0xE0 | (cp >> 12));
      o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
      o[2] = (char)(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      o[0] = (char)(0xF0 | (cp >> 18));
      o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
      o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
      o[3] = (char)(0x80 | (cp & 0x3F));
      n = 4;
    }
    return sput(p, quote, o, n);
  default:
    return fail(p, 400, i, "invalid escape");
  }
  return sput(p, quote, o, 1);
}

/* read the string whose quote is at p->pos: str/slen, p->pos after it */
/* the length of the run of ASCII bytes at s that are neither control
   characters, '"' nor '\\' (eight at a time while they last) */
static size_t ascii_run(const unsigned char *s, size_t n)
{
  const uint64_t ones = UINT64_C(0x0101010101010101);
  const uint64_t high = UINT64_C(0x8080808080808080);
  size_t i = 0;
  while (n - i >= 8) {
    uint64_t w, q, bs;
    memcpy(&w, s + i, 8);
    q = w ^ (ones * '"');
    bs = w ^ (ones * '\\');
    if ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
         ((bs - ones) & ~bs)) & high)
      break;
    i += 8;
  }
  while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' &&
         s[i] != '\\')
    i++;
  return i;
}

static int scan_string(parser *p)
{
  size_t quote = p->pos, i = quote + 1, run;
  /* the common case: plain ASCII up to the closing quote, read in place */
  run = ascii_run(p->s + i, p->len - i);
  if (i + run < p->len && p->s[i + run] == '"' && run <= CT_LIMIT_STRING) {
    p->str = (const char *)p->s + i;
    p->slen = run;
    p->pos = i + run + 1;
    return 0;
  }
  p->str = p->sbuf;
  p->slen = 0;
  for (;;) {
    unsigned char c;
    if (i >= p->len) return fail(p, 400, quote, "unterminated string");
    c = p->s[i];
    if (c == '"') break;
    if (c == '\\') {
      size_t adv = 0;
      if (escape(p, quote, i, &adv) < 0) return -1;
      i += adv;
    } else if (c < 0x20) {
      char b[8];
      return fail(p, 400, i, "control character '%s' in string",
                  showc(b, c));
    } else if (c < 0x80) {
      /* a run of plain ASCII at once */
      run = i + 1 + ascii_run(p->s + i + 1, p->len - i - 1);
      if (sput(p, quote, (const char *)p->s + i, run - i) < 0) return -1;
      i = run;
    } else {
      int k = utf8_seq(p->s + i, p->len - i);
      if (k < 0) return fail(p, 400, quote, "unterminated string");
      if (k == 0) return fail(p, 400, i, "invalid UTF-8");
      if (sput(p, quote, (const char *)p->s + i, (size_t)k) < 0) return -1;
      i += (size_t)k;
    }
  }
  p->pos = i + 1;
  return 0;
}

/* copy the string read last into the arena, NUL-terminated */
static const char *keep_string(parser *p)
{
  char *r = ct_arena_alloc(p->a, p->slen + 1);
  if (!r) return NULL;
  memcpy(r, p->str, p->slen);
  r[p->slen] = '\0';
  return r;
}

/* ---------- numbers ---------- */

static int isdig(parser *p, size_t i)
{
  return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

/* strtod on s[a..b), written with the locale's decimal point */
static int to_double(parser *p, size_t a, size_t b, double *out)
{
  char small[128], *buf = small, *end;
  const char *dp = localeconv()->decimal_point;
  size_t dpl = (dp && *dp) ? strlen(dp) : 1, n = 0, i;
  int whole;
  if (!dp || !*dp) dp = ".";
  if (b - a > sizeof small - dpl - 1) {
    buf = ct_malloc(b - a + dpl + 1);
    if (!buf) return fail_oom(p);
  }
  for (i = a; i < b; i++) {
    if (p->s[i] == '.') {
      memcpy(buf + n, dp, dpl);
      n += dpl;
    } else {
      buf[n++] = (char)p->s[i];
    }
  }
  buf[n] = '\0';
  *out = strtod(buf, &end);
  whole = (size_t)(end - buf) == n;
  if (buf != small) free(buf);
  if (!whole) return fail(p, 400, a, "invalid number");
  if (!isfinite(*out)) return fail(p, 400, a, "number out of range");
  return 0;
}

static int parse_number(parser *p, ct_jval *v)
{
  size_t st = p->pos, i = st, d0;
  int neg = 0, isint = 1;
  if (p->s[i] == '-') {
    neg = 1;
    i++;
  }
  d0 = i;
  if (i >= p->len) return fail_eoi(p);
  if (p->s[i] == '0') {
    i++;
    if (isdig(p, i)) return fail(p, 400, i - 1, "leading zero in number");
  } else if (isdig(p, i)) {
    while (isdig(p, i)) i++;
  } else {
    return fail_char(p, i);
  }
  if (i < p->len && p->s[i] == '.') {
    isint = 0;
    i++;
    if (!isdig(p, i)) return fail_char(p, i);
    while (isdig(p, i)) i++;
  }
  if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
    isint = 0;
    i++;
    if (i < p->len && (p->s[i] == '+' || p->s[i] == '-')) i++;
    if (!isdig(p, i)) return fail_char(p, i);
    while (isdig(p, i)) i++;
  }
  p->pos = i;
  if (isint) {
    /* magnitude up to 2^63 for a negative, 2^63-1 otherwise */
    uint64_t m = 0, lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
    size_t k;
    for (k = d0; k < i; k++) {
      unsigned dg = (unsigned)(p->s[k] - '0');
      if (m > (lim - dg) / 10) break;
      m = m * 10 + dg;
    }
    if (k == i) {
      v->kind = CT_JINT;
      if (!neg) v->u.i = (int64_t)m;
      else if (m == (uint64_t)1 << 63) v->u.i = INT64_MIN;
      else v->u.i = -(int64_t)m;
      return 0;
    }
  }
  v->kind = CT_JNUM;
  return to_double(p, st, i, &v->u.d);
}

/* ---------- literals ---------- */

static int parse_lit(parser *p, const char *w, ct_jkind kind, ct_jval *v)
{
  size_t i;
  for (i = 0; w[i]; i++) {
    if (p->pos + i >= p->len) return fail_eoi(p);
    if (p->s[p->pos + i] != (unsigned char)w[i])
      return fail_char(p, p->pos + i);
  }
  p->pos += i;
  v->kind = kind;
  return 0;
}

/* ---------- duplicate keys ---------- */

static uint32_t key_hash(const char *k, size_t n)
{
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)k[i];
    h *= 16777619u;
  }
  return h;
}

static int key_same(const ct_jval *m, const char *k, size_t n)
{
  return m->keylen == n && memcmp(m->key, k, n) == 0;
}

/* put member index `idx` (its key k/n) into d; 0 if new, 1 if seen */
static int dup_probe(const parser *p, dupset *d, size_t base,
                     const char *k, size_t n, size_t idx)
{
  size_t mask = d->live - 1, h = key_hash(k, n) & mask;
  while (d->slot[h]) {
    if (key_same(&p->stk[base + d->slot[h] - 1], k, n)) return 1;
    h = (h + 1) & mask;
  }
  d->slot[h] = (uint32_t)(idx + 1);
  return 0;
}

/*
** Record the key read last (str/slen) as member `count` of the object
** whose members start at `base`: 0 if new, 1 if already there, -1 out
** of memory.
*/
static int key_add(parser *p, int depth, size_t base, size_t count)
{
  dupset *d = &p->dup[depth - 1];
  size_t j;
  if (count < SMALL_OBJ) {
    for (j = 0; j < count; j++)
      if (key_same(&p->stk[base + j], p->str, p->slen)) return 1;
    return 0;
  }
  if (count == SMALL_OBJ || (count + 1) * 2 > d->live) {
    /* (re)build the table for this object, twice as big */
    size_t live = count == SMALL_OBJ ? 32 : d->live * 2;
    if (live > d->cap) {
      uint32_t *q = ct_realloc(d->slot, live * sizeof *q);
      if (!q) return -1;
      p->dups = 1;
      d->slot = q;
      d->cap = live;
    }
    d->live = live;
    memset(d->slot, 0, live * sizeof *d->slot);
    for (j = 0; j < count; j++) {
      const ct_jval *m = &p->stk[base + j];
      dup_probe(p, d, base, m->key, m->keylen, j);
    }
  }
  return dup_probe(p, d, base, p->str, p->slen, count);
}

/* a key for a message: at most ~60 bytes, each shown by showc */
static const char *show_key(char out[96], const char *k, size_t n)
{
  size_t i, o = 0;
  for (i = 0; i < n && o < 60; i++) {
    char c[8];
    size_t l = strlen(showc(c, (unsigned char)k[i]));
    memcpy(out + o, c, l);
    o += l;
  }
  if (i < n) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
  return out;
}

/* ---------- values ---------- */

static int parse_value(parser *p, ct_jval *v, int depth);

static int parse_array(parser *p, ct_jval *v, int depth)
{
  size_t base = p->top;
  p->pos++;
  skip_ws(p);
  if (p->pos >= p->len) return fail_eoi(p);
  if (p->s[p->pos] != ']') {
    for (;;) {
      ct_jval m;
      size_t comma;
      m.key = NULL;
      m.keylen = 0;
      if (p->top - base == CT_LIMIT_ITEMS)
        return fail(p, 413, p->pos, "more than %d items", CT_LIMIT_ITEMS);
      if (parse_value(p, &m, depth) < 0 || push(p, &m) < 0) return -1;
      skip_ws(p);
      if (p->pos >= p->len) return fail_eoi(p);
      if (p->s[p->pos] == ']') break;
      if (p->s[p->pos] != ',') return fail_char(p, p->pos);
      comma = p->pos++;
      skip_ws(p);
      if (p->pos >= p->len) return fail_eoi(p);
      if (p->s[p->pos] == ']') return fail(p, 400, comma, "trailing comma");
    }
  }
  p->pos++;
  return close_container(p, v, CT_JARR, base);
}

static int parse_object(parser *p, ct_jval *v, int depth)
{
  size_t base = p->top;
  p->pos++;
  skip_ws(p);
  if (p->pos >= p->len) return fail_eoi(p);
  if (p->s[p->pos] != '}') {
    for (;;) {
      ct_jval m;
      size_t kpos = p->pos, comma;
      int r;
      if (p->s[kpos] != '"') return fail_char(p, kpos);
      if (p->top - base == CT_LIMIT_ITEMS)
        return fail(p, 413, kpos, "more than %d items", CT_LIMIT_ITEMS);
      if (scan_string(p) < 0) return -1;
      r = key_add(p, depth, base, p->top - base);
      if (r < 0) return fail_oom(p);
      if (r > 0) {
        char k[96];
        return fail(p, 400, kpos, "duplicate property '%s'",
                    show_key(k, p->str, p->slen));
      }
      m.keylen = p->slen;
      m.key = keep_string(p);
      if (!m.key) return fail_oom(p);
      skip_ws(p);
      if (p->pos >= p->len) return fail_eoi(p);
      if (p->s[p->pos] != ':') return fail_char(p, p->pos);
      p->pos++;
      skip_ws(p);
      if (parse_value(p, &m, depth) < 0 || push(p, &m) < 0) return -1;
      skip_ws(p);
      if (p->pos >= p->len) return fail_eoi(p);
      if (p->s[p->pos] == '}') break;
      if (p->s[p->pos] != ',') return fail_char(p, p->pos);
      comma = p->pos++;
      skip_ws(p);
      if (p->pos >= p->len) return fail_eoi(p);
      if (p->s[p->pos] == '}') return fail(p, 400, comma, "trailing comma");
    }
  }
  p->pos++;
  return close_container(p, v, CT_JOBJ, base);
}

/*
** Parse the value at p->pos (whitespace already skipped) into v; `depth`
** is the number of containers around it.  v->key is left alone.
*/
static int parse_value(parser *p, ct_jval *v, int depth)
{
  unsigned char c;
  v->len = 0;
  if (p->pos >= p->len) return fail_eoi(p);
  c = p->s[p->pos];
  switch (c) {
  case '[':
  case '{':
    if (depth >= CT_LIMIT_DEPTH)
      return fail(p, 413, p->pos, "nesting deeper than %d",
                  CT_LIMIT_DEPTH);
    return c == '[' ? parse_array(p, v, depth + 1)
                    : parse_object(p, v, depth + 1);
  case '"':
    if (scan_string(p) < 0) return -1;
    v->kind = CT_JSTR;
    v->len = p->slen;
    v->u.s = keep_string(p);
    return v->u.s ? 0 : fail_oom(p);
  case 't': return parse_lit(p, "true", CT_JTRUE, v);
  case 'f': return parse_lit(p, "false", CT_JFALSE, v);
  case 'n': return parse_lit(p, "null", CT_JNULL, v);
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    return fail_char(p, p->pos);
  }
}

static int parse_text(ct_arena *a, const char *text, size_t len,
                      ct_jval **out, ct_jerr *err, size_t limit);

int ct_json_parse(ct_arena *a, const char *text, size_t len,
                  ct_jval **out, ct_jerr *err)
{
  return parse_text(a, text, len, out, err, CT_LIMIT_BODY);
}

int ct_json_parse_any_size(ct_arena *a, const char *text, size_t len,
                           ct_jval **out, ct_jerr *err)
{
  return parse_text(a, text, len, out, err, (size_t)-1);
}

static int parse_text(ct_arena *a, const char *text, size_t len,
                      ct_jval **out, ct_jerr *err, size_t limit)
{
  parser p;
  ct_jerr spare;
  ct_jval *root;
  int i, r = -1;
  if (!err) err = &spare;
  *out = NULL;
  if (len > limit) {
    err->status = 413;
    err->offset = CT_LIMIT_BODY;
    ct_msg m;
    ct_msg_init(&m, err->message, sizeof err->message);
    ct_msg_addf(&m, "body larger than %d bytes", CT_LIMIT_BODY);
    return -1;
  }
  p.a = a;
  p.s = (const unsigned char *)text;
  p.len = len;
  p.pos = 0;
  p.err = err;
  p.stk = p.stk0;
  p.top = 0;
  p.stkcap = sizeof p.stk0 / sizeof p.stk0[0];
  p.dups = 0;
  p.str = p.sbuf;
  p.slen = 0;
  for (i = 0; i < CT_LIMIT_DEPTH; i++) {
    p.dup[i].slot = NULL;
    p.dup[i].cap = p.dup[i].live = 0;
  }
  root = ct_arena_alloc(a, sizeof *root);
  if (!root) {
    fail_oom(&p);
  } else {
    root->key = NULL;
    root->keylen = 0;
    skip_ws(&p);
    if (parse_value(&p, root, 0) == 0) {
      skip_ws(&p);
      if (p.pos < p.len) {
        fail_char(&p, p.pos);
      } else {
        *out = root;
        r = 0;
      }
    }
  }
  if (p.stk != p.stk0) free(p.stk);
  if (p.dups)
    for (i = 0; i < CT_LIMIT_DEPTH; i++) free(p.dup[i].slot);
  return r;
}

const ct_jval *ct_json_get(const ct_jval *obj, const char *key)
{
  size_t i, n;
  if (!obj || obj->kind != CT_JOBJ || !key) return NULL;
  n = strlen(key);
  for (i = 0; i < obj->len; i++)
    if (key_same(&obj->u.items[i], key, n)) return &obj->u.items[i];
  return NULL;
}

/* ==================== buffer ==================== */

void ct_buf_init(ct_buf *b)
{
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

void ct_buf_free(ct_buf *b)
{
  free(b->p);
  ct_buf_init(b);
}

/* room for n more bytes and a NUL; 0, or -1 with oom set */
static int buf_room(ct_buf *b, size_t n)
{
  size_t need, cap;
  char *q;
  if (b->oom) return -1;
  if (n > (size_t)-1 - 1 - b->len) {
    b->oom = 1;
    return -1;
  }
  need = b->len + n + 1;
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  q = ct_realloc(b->p, cap);
  if (!q) {
    b->oom = 1;
    return -1;
  }
  b->p = q;
  b->cap = cap;
  return 0;
}

/* the content stays NUL-terminated (not counted in len) */
void ct_buf_reserve(ct_buf *b, size_t n)
{
  if (b->cap < n + 1) (void)buf_room(b, n - b->len);
}

void ct_buf_add(ct_buf *b, const char *s, size_t n)
{
  if (n != 0 && b->len + n < b->cap && !b->oom && n < b->cap) {  /* room */
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return;
  }
  if (buf_room(b, n) < 0) return;
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void ct_buf_adds(ct_buf *b, const char *s)
{
  ct_buf_add(b, s, strlen(s));
}

void ct_buf_addc(ct_buf *b, char c)
{
  if (b->len + 1 < b->cap && !b->oom) {
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return;
  }
  ct_buf_add(b, &c, 1);
}

/* eight bytes at a time while no byte is < 0x20, '"' or '\\' */
size_t ct_json_plain_run(const char *s, size_t n)
{
  const uint64_t ones = UINT64_C(0x0101010101010101);
  const uint64_t high = UINT64_C(0x8080808080808080);
  size_t i = 0;
  uint64_t w, q, bs;
  while (n - i >= 8) {
    memcpy(&w, s + i, 8);
    q = w ^ (ones * '"');
    bs = w ^ (ones * '\\');
    if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
         ((bs - ones) & ~bs)) & high)
      break;
    i += 8;
  }
  if (i < n && n >= 8 && n - i < 8) {   /* the last eight bytes at once */
    memcpy(&w, s + n - 8, 8);
    q = w ^ (ones * '"');
    bs = w ^ (ones * '\\');
    if (!((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
           ((bs - ones) & ~bs)) & high))
      return n;
  }
  for (; i < n; i++) {
    unsigned char r = (unsigned char)s[i];
    if (r < 0x20 || r == '"' || r == '\\') break;
  }
  return i;
}

void ct_buf_json_string(ct_buf *b, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i = 0, run;
  /* the common case, nothing to escape: one copy */
  run = ct_json_plain_run(s, n);
  if (run == n) {
    char *p;
    if (buf_room(b, n + 2) < 0) return;
    p = b->p + b->len;
    p[0] = '"';
    if (n) memcpy(p + 1, s, n);
    p[n + 1] = '"';
    p[n + 2] = '\0';
    b->len += n + 2;
    return;
  }
  ct_buf_addc(b, '"');
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    char e[6];
    run = i + ct_json_plain_run(s + i, n - i);
    if (run > i) {
      ct_buf_add(b, s + i, run - i);
      i = run;
      continue;
    }
    e[0] = '\\';
    switch (c) {
    case '"': e[1] = '"'; break;
    case '\\': e[1] = '\\'; break;
    case '\b': e[1] = 'b'; break;
    case '\f': e[1] = 'f'; break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    default:
      e[1] = 'u';
      e[2] = '0';
      e[3] = '0';
      e[4] = hex[c >> 4];
      e[5] = hex[c & 15];
      ct_buf_add(b, e, 6);
      i++;
      continue;
    }
    ct_buf_add(b, e, 2);
    i++;
  }
  ct_buf_addc(b, '"');
}

void ct_buf_json_int(ct_buf *b, int64_t v)
{
  char t[24];
  size_t n = sizeof t;
  /* magnitude as unsigned, so INT64_MIN works */
  uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    t[--n] = (char)('0' + m % 10);
    m /= 10;
  } while (m);
  if (v < 0) t[--n] = '-';
  ct_buf_add(b, t + n, sizeof t - n);
}

/*
** Shortest decimal digits that read back to v (trying 1..17), then laid
** out as fixed notation for exponents -4..15, else d.ddde[-]N; fixed
** notation always has a fraction so the value reads back as a float.
*/
void ct_buf_json_number(ct_buf *b, double v)
{
  char e[48], dig[24], out[48];
  int prec, nd = 0, ex, j, k, o = 0;
  const char *q;
  if (!isfinite(v)) {
    ct_buf_adds(b, "null");      /* not representable in JSON */
    return;
  }
  if (v == 0) {
    ct_buf_adds(b, signbit(v) ? "-0.0" : "0.0");
    return;
  }
  for (prec = 1; prec < 17; prec++) {
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    if (strtod(e, NULL) == v) break;
  }
  if (prec == 17) snprintf(e, sizeof e, "%.16e", v);
  /* digits up to the 'e' (skipping sign and decimal point), exponent */
  for (q = e; *q && *q != 'e'; q++)
    if (*q >= '0' && *q <= '9' && nd < 20) dig[nd++] = *q;
  ex = *q ? atoi(q + 1) : 0;
  while (nd > 1 && dig[nd - 1] == '0') nd--;
  if (v < 0) out[o++] = '-';
  if (ex >= -4 && ex < 16) {
    if (ex < 0) {
      out[o++] = '0';
      out[o++] = '.';
      for (k = -1; k > ex; k--) out[o++] = '0';
      for (k = 0; k < nd; k++) out[o++] = dig[k];
    } else {
      for (k = 0; k <= ex; k++) out[o++] = k < nd ? dig[k] : '0';
      out[o++] = '.';
      if (nd <= ex + 1) out[o++] = '0';
      for (k = ex + 1; k < nd; k++) out[o++] = dig[k];
    }
  } else {
    out[o++] = dig[0];
    if (nd > 1) {
      out[o++] = '.';
      for (k = 1; k < nd; k++) out[o++] = dig[k];
    }
    out[o++] = 'e';
    if (ex < 0) {
      out[o++] = '-';
      ex = -ex;
    }
    k = o;
    do {
      out[o++] = (char)('0' + ex % 10);
      ex /= 10;
    } while (ex);
    /* the exponent digits came out backwards */
    for (j = 0; j < (o - k) / 2; j++) {
      char t = out[k + j];
      out[k + j] = out[o - 1 - j];
      out[o - 1 - j] = t;
    }
  }
  ct_buf_add(b, out, (size_t)o);
}

void ct_buf_json_tree(ct_buf *b, const ct_jval *v) {
  size_t i;
  switch (v->kind) {
    case CT_JNULL: ct_buf_adds(b, "null"); break;
    case CT_JFALSE: ct_buf_adds(b, "false"); break;
    case CT_JTRUE: ct_buf_adds(b, "true"); break;
    case CT_JINT: ct_buf_json_int(b, v->u.i); break;
    case CT_JNUM: ct_buf_json_number(b, v->u.d); break;
    case CT_JSTR: ct_buf_json_string(b, v->u.s, v->len); break;
    case CT_JARR:
      ct_buf_addc(b, '[');
      for (i = 0; i < v->len; i++) {
        if (i > 0) ct_buf_addc(b, ',');
        ct_buf_json_tree(b, &v->u.items[i]);
      }
      ct_buf_addc(b, ']');
      break;
    case CT_JOBJ:
      ct_buf_addc(b, '{');
      for (i = 0; i < v->len; i++) {
        if (i > 0) ct_buf_addc(b, ',');
        ct_buf_json_string(b, v->u.items[i].key, v->u.items[i].keylen);
        ct_buf_addc(b, ':');
        ct_buf_json_tree(b, &v->u.items[i]);
      }
      ct_buf_addc(b, '}');
      break;
    default:                       /* CT_JEMPTY: read back as empty */
      ct_buf_adds(b, "[]");
      break;
  }
}
