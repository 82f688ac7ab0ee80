/*
** ct_json.h -- a strict JSON reader into an arena-allocated tree, and
** the small growable buffer every writer in the core uses.
**
** Why our own reader rather than lua-cjson: the contract needs exact
** control that cjson 2.1.0 does not give -- integers kept apart from
** floats, UTF-8 and surrogates checked, duplicate keys refused, the
** byte offset of every error, and the model's size limits (413) kept
** apart from syntax errors (400).  It also keeps the core free of Lua.
*/
#ifndef CT_JSON_H
#define CT_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Size limits from behavior.md ("Bodies"). */
#define CT_LIMIT_BODY   (1024 * 1024)   /* bytes of request body */
#define CT_LIMIT_STRING 4096            /* bytes of one decoded string */
#define CT_LIMIT_ITEMS  10000           /* members of one array/object */
#define CT_LIMIT_DEPTH  16              /* nesting of arrays/objects */

/* ---------- arena: every tree node and string lives here ---------- */
typedef struct ct_arena_chunk ct_arena_chunk;
typedef struct ct_arena {
  ct_arena_chunk *head;
} ct_arena;

void ct_arena_init(ct_arena *a);
/* returns NULL when out of memory; memory is 16-byte aligned */
void *ct_arena_alloc(ct_arena *a, size_t n);
void ct_arena_free(ct_arena *a);   /* idempotent */
/* empty the arena for reuse: every allocation goes, the newest ordinary
   chunk stays (a caller answering many small bodies mallocs nothing) */
void ct_arena_reset(ct_arena *a);

/* ---------- the tree ---------- */
typedef enum ct_jkind {
  CT_JNULL, CT_JFALSE, CT_JTRUE, CT_JINT, CT_JNUM, CT_JSTR, CT_JARR,
  CT_JOBJ,
  CT_JEMPTY   /* an empty Lua table: an empty array or an empty object */
} ct_jkind;

typedef struct ct_jval ct_jval;
struct ct_jval {
  ct_jkind kind;
  size_t len;            /* CT_JSTR: bytes; CT_JARR/CT_JOBJ: members */
  union {
    int64_t i;           /* CT_JINT */
    double d;            /* CT_JNUM (always finite) */
    const char *s;       /* CT_JSTR: NUL-terminated, may hold NULs */
    ct_jval *items;      /* CT_JARR/CT_JOBJ: `len` members, in order */
  } u;
  const char *key;       /* member of an object: its name (NUL-terminated) */
  size_t keylen;
};

/* ---------- errors ---------- */
typedef struct ct_jerr {
  int status;            /* 400 (syntax, encoding, duplicate key) or 413 */
  size_t offset;         /* byte offset in the text where it went wrong */
  char message[160];     /* e.g. "unexpected character 'x' at position 12" */
} ct_jerr;

/*
** Parse `len` bytes of `text` (need not be NUL-terminated).  Returns 0
** and sets *out, or -1 and fills *err.  Rules:
**  - RFC 8259 only: no NaN/Infinity, no hex, no comments, no trailing
**    commas, no leading zeros, whitespace = space, tab, CR, LF;
**  - a number with no fraction and no exponent that fits int64 is
**    CT_JINT, any other number CT_JNUM; a number that overflows a
**    double (1e400) is a 400 "number out of range";
**  - strings must be valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF);
**    \u escapes must pair surrogates correctly; a decoded string may
**    hold U+0000;
**  - a repeated key in one object is a 400 naming the key;
**  - 413 past CT_LIMIT_BODY (checked first), CT_LIMIT_STRING,
**    CT_LIMIT_ITEMS, CT_LIMIT_DEPTH;
**  - only whitespace may follow the value.
** Messages name the position as "at position N" (0-based byte offset).
*/
int ct_json_parse(ct_arena *a, const char *text, size_t len,
                  ct_jval **out, ct_jerr *err);

/* the same, with no limit on the whole text's size (the other limits
   hold): for journal rows, whose bodies a Lua table may make larger */
int ct_json_parse_any_size(ct_arena *a, const char *text, size_t len,
                           ct_jval **out, ct_jerr *err);

/* find a member of an object by exact name; NULL when absent */
const ct_jval *ct_json_get(const ct_jval *obj, const char *key);

/* ---------- growable byte buffer ---------- */
typedef struct ct_buf {
  char *p;
  size_t len, cap;
  int oom;               /* set once an allocation failed; writes stop */
} ct_buf;

void ct_buf_init(ct_buf *b);
void ct_buf_free(ct_buf *b);     /* idempotent */
void ct_buf_add(ct_buf *b, const char *s, size_t n);
/* room for `n` bytes in all (one allocation instead of many doublings) */
void ct_buf_reserve(ct_buf *b, size_t n);
void ct_buf_adds(ct_buf *b, const char *s);
void ct_buf_addc(ct_buf *b, char c);
/* a JSON string literal, quotes included: escapes ", \, control
   characters (\b \f \n \r \t, else \u00XX); other bytes as they are */
void ct_buf_json_string(ct_buf *b, const char *s, size_t n);
/* the length of the run at s that a JSON string holds as it is (no byte
   < 0x20, '"' or '\\'): n when nothing needs an escape */
size_t ct_json_plain_run(const char *s, size_t n);
void ct_buf_json_int(ct_buf *b, int64_t v);
/* shortest text that reads back to the same double ("%.17g" at worst);
   integral values within 2^53 print without ".0" is NOT wanted: they
   print as e.g. "1.0" so that a float stays a float */
void ct_buf_json_number(ct_buf *b, double v);
/* a tree as JSON text, members in the tree's order; CT_JEMPTY as [] */
void ct_buf_json_tree(ct_buf *b, const ct_jval *v);

/* 1 if the n bytes are valid UTF-8 (same rules as the parser), else 0 */
int ct_utf8_valid(const char *s, size_t n);

#endif
