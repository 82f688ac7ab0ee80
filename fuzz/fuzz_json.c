/*
** fuzz_json.c -- libFuzzer target for the strict JSON reader
** (ct_json_parse) and the JSON writers of ct_buf.
**
** For an accepted input: every string and key is valid UTF-8 and within
** CT_LIMIT_STRING, every container within CT_LIMIT_ITEMS and the tree
** within CT_LIMIT_DEPTH, keys of an object are distinct and found by
** ct_json_get; the tree written back with ct_buf_json_string / _int /
** _number parses again to the same tree (kinds, integers, doubles to the
** bit, strings, keys, order), and writing that tree gives the same text.
** For a rejected input: status 400 or 413, an offset within the input,
** a printable message ending " at position <offset>".
** Any failed check aborts.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_json: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

static int same_tree(const ct_jval *x, const ct_jval *y)
{
  size_t i;
  if (x->kind != y->kind || x->len != y->len) return 0;
  switch (x->kind) {
  case CT_JINT: return x->u.i == y->u.i;
  case CT_JNUM:
    return memcmp(&x->u.d, &y->u.d, sizeof x->u.d) == 0;
  case CT_JSTR: return memcmp(x->u.s, y->u.s, x->len + 1) == 0;
  case CT_JARR:
  case CT_JOBJ:
    for (i = 0; i < x->len; i++) {
      const ct_jval *a = &x->u.items[i], *b = &y->u.items[i];
      if (x->kind == CT_JOBJ &&
          (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen + 1)))
        return 0;
      if (!same_tree(a, b)) return 0;
    }
    return 1;
  default: return 1;
  }
}

/* the invariants of an accepted tree; `depth` counts containers above */
static void check_tree(const ct_jval *v, int depth)
{
  size_t i, j;
  switch (v->kind) {
  case CT_JNUM:
    if (!isfinite(v->u.d)) die("a number that is not finite", NULL);
    break;
  case CT_JSTR:
    if (v->len > CT_LIMIT_STRING) die("a string past the limit", NULL);
    if (v->u.s[v->len] != '\0') die("a string not NUL-terminated", NULL);
    if (!ct_utf8_valid(v->u.s, v->len)) die("a string not UTF-8", NULL);
    break;
  case CT_JARR:
  case CT_JOBJ:
    if (depth + 1 > CT_LIMIT_DEPTH) die("nesting past the limit", NULL);
    if (v->len > CT_LIMIT_ITEMS) die("a container past the limit", NULL);
    for (i = 0; i < v->len; i++) {
      const ct_jval *m = &v->u.items[i];
      if (v->kind == CT_JOBJ) {
        if (m->key == NULL) die("an object member without a key", NULL);
        if (m->keylen > CT_LIMIT_STRING) die("a key past the limit", NULL);
        if (!ct_utf8_valid(m->key, m->keylen)) die("a key not UTF-8", NULL);
        if (strlen(m->key) == m->keylen &&
            ct_json_get(v, m->key) != m)
          die("ct_json_get does not find a member", m->key);
        if (v->len <= 64)     /* keep it linear in practice */
          for (j = 0; j < i; j++)
            if (v->u.items[j].keylen == m->keylen &&
                memcmp(v->u.items[j].key, m->key, m->keylen) == 0)
              die("a repeated key was accepted", m->key);
      } else if (m->key != NULL) {
        die("an array item with a key", NULL);
      }
      check_tree(m, depth + 1);
    }
    break;
  case CT_JNULL:
  case CT_JFALSE:
  case CT_JTRUE:
  case CT_JINT:
    break;
  default:                /* CT_JEMPTY is a binding's, never the parser's */
    die("the parser made a node of an unknown kind", NULL);
  }
}

static void check_error(const ct_jerr *e, size_t n)
{
  char tail[48];
  size_t ml = strlen(e->message), tl, i;
  if (e->status != 400 && e->status != 413)
    die("an error status other than 400/413", e->message);
  if (e->offset > n) die("an error offset past the input", e->message);
  for (i = 0; i < ml; i++)
    if (e->message[i] < 0x20 || e->message[i] > 0x7e)
      die("an error message that is not printable ASCII", NULL);
  if (n > CT_LIMIT_BODY) return;        /* "body larger than ..." */
  snprintf(tail, sizeof tail, " at position %lu", (unsigned long)e->offset);
  tl = strlen(tail);
  if (ml <= tl || strcmp(e->message + ml - tl, tail) != 0)
    die("an error message without its position", e->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ct_arena a;
  ct_jval *v = NULL, *w = NULL;
  ct_jerr e;
  ct_buf b, b2;
  ct_arena_init(&a);
  memset(&e, 0, sizeof e);
  if (ct_json_parse(&a, (const char *)data, size, &v, &e) != 0) {
    if (v != NULL) die("a rejection left *out set", NULL);
    check_error(&e, size);
    ct_arena_free(&a);
    return 0;
  }
  if (v == NULL) die("an acceptance without a tree", NULL);
  check_tree(v, 0);
  ct_buf_init(&b);
  ct_buf_init(&b2);
  ct_buf_json_tree(&b, v);
  if (b.oom) die("the writer ran out of memory", NULL);
  /* the writer may be longer than the input (1e5 -> 100000.0) */
  if (b.len <= CT_LIMIT_BODY) {
    if (ct_json_parse(&a, b.p, b.len, &w, &e) != 0)
      die("the written text does not parse", e.message);
    if (!same_tree(v, w)) die("the tree changed through the writer", b.p);
    ct_buf_json_tree(&b2, w);
    if (b2.len != b.len || memcmp(b.p, b2.p, b.len) != 0)
      die("the writer is not stable", b.p);
  }
  ct_buf_free(&b);
  ct_buf_free(&b2);
  ct_arena_free(&a);
  return 0;
}
