/*
** lencode.c -- crosstenant.encode: a Lua value as Graph's JSON text.
**
** Objects are written with their keys in Graph's documented order (one
** rank per name, made from the core's lists: make_order below), unknown
** keys after them sorted by bytes; a table with a sequence part is an
** array; an empty table is [].
**
** Speed: the names and constant values the binding builds results from
** are Lua strings made once (lct_strings, and the names here); Lua keeps
** one copy of each short string and these are anchored for the module's
** life, so a key or value string found by its address in `known` is one
** of them: its rank is known and it needs no escape scan.  A string not
** found by address is looked up by its bytes, so the result never
** depends on that.  An object is read in one lua_next pass (its scalar
** values read as they come, only tables kept on the stack), and the
** text is written into a buffer the encoder keeps from call to call.
** Everything lives in the encoder userdata, upvalue 1 of encode.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_json.h"
#include "ct_schema.h"
#include "lcore.h"

/*
** Graph's documented property order, one rank per name for every type
** (the types' orders never disagree), made when the module opens from
** the core's lists: the schema's property lists (ct_schema.c), each
** merged into the order so far, and the names of the response envelope
** and the error body around them (below, as ct_response.c writes them).
** Unknown keys follow the names, sorted by bytes.
*/
#define MAXNAMES 64           /* ranks fit a 64-bit mask */

static const char *const HEAD[] = {
  "@odata.context", "@odata.count", "@odata.nextLink", "@odata.type",
  "error", NULL
};
static const char *const ERROR_BODY[] = {   /* error, then innerError */
  "code", "message", "target", "details", "innerError", "date",
  "request-id", "client-request-id", NULL
};
static const char *const TAIL[] = { "value", NULL };

#define NKEYS MAXNAMES        /* the rank of a key that is no name */
#define NSLOTS 256            /* address table: a power of two, > 2x use */
#define SMALL 32              /* members of an object read in one pass */
#define KEEP_CAP 65536        /* buffer kept between calls up to this */

typedef struct known {
  const char *p;              /* the Lua string's bytes; NULL: free slot */
  unsigned rank;              /* of a name, NKEYS if not a name */
} known;

typedef struct encoder {
  ct_buf buf;                 /* the text; reset at each call */
  known slot[NSLOTS];
  unsigned nkeys;             /* names ranked */
  const char *name[MAXNAMES]; /* by rank, as anchored Lua strings */
  size_t namelen[MAXNAMES];
} encoder;

/* one member of an object: its key, rank and value */
enum { V_STR, V_INT, V_NUM, V_TRUE, V_FALSE, V_LIGHT, V_TABLE, V_OTHER };
typedef struct member {
  const char *k;
  size_t kn;
  unsigned rank;
  int vt;                     /* V_... */
  int plain;                  /* V_STR: known to need no escape */
  union {
    struct { const char *s; size_t n; } s;
    lua_Integer i;
    lua_Number d;
    const void *u;
    int slot;                 /* V_TABLE: stack slot; V_OTHER: type */
  } v;
} member;

static size_t slot_of(const char *p) {
  uint64_t h = (uint64_t)(uintptr_t)p * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 56) & (NSLOTS - 1);
}

static const known *find(const encoder *e, const char *p) {
  size_t h = slot_of(p);
  while (e->slot[h].p) {
    if (e->slot[h].p == p) return &e->slot[h];
    h = (h + 1) & (NSLOTS - 1);
  }
  return NULL;
}

/* 1 if added, 0 if there already (its rank kept), -1 if full */
static int add_known(encoder *e, const char *p, unsigned rank) {
  size_t h = slot_of(p), used = 0;
  while (e->slot[h].p) {
    if (e->slot[h].p == p) return 0;
    if (++used == NSLOTS / 2) return -1;
    h = (h + 1) & (NSLOTS - 1);
  }
  e->slot[h].p = p;
  e->slot[h].rank = rank;
  return 1;
}

/* the rank of a key not found by address: by its bytes */
static unsigned rank_of_bytes(const encoder *e, const char *k, size_t n) {
  unsigned r;
  for (r = 0; r < e->nkeys; r++)
    if (e->namelen[r] == n && memcmp(e->name[r], k, n) == 0) return r;
  return NKEYS;
}

/* room for n more bytes (and the NUL ct_buf keeps); raises when out of
   memory (the buffer stays with the encoder, nothing leaks) */
static char *room(lua_State *L, ct_buf *b, size_t n) {
  if (b->cap - b->len <= n) {
    ct_buf_reserve(b, b->len + n);
    if (b->oom || b->cap - b->len <= n)
      luaL_error(L, "not enough memory");
  }
  return b->p + b->len;
}

static void put(lua_State *L, ct_buf *b, const char *s, size_t n) {
  memcpy(room(L, b, n), s, n);
  b->len += n;
}

static void putc1(lua_State *L, ct_buf *b, char c) {
  *room(L, b, 1) = c;
  b->len++;
}

/* a string value or key: quoted, escaped unless known plain */
static void put_string(lua_State *L, ct_buf *b, const char *s, size_t n,
                       int plain) {
  if (plain || ct_json_plain_run(s, n) == n) {
    char *p = room(L, b, n + 2);
    p[0] = '"';
    memcpy(p + 1, s, n);
    p[n + 1] = '"';
    b->len += n + 2;
  } else {
    ct_buf_json_string(b, s, n);
    if (b->oom) luaL_error(L, "not enough memory");
  }
}

/* the lowest set bit's index (de Bruijn) */
static unsigned low_bit(uint64_t m) {
  static const unsigned char idx[64] = {
    0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
    62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
    63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
    46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6
  };
  return idx[((m & (~m + 1)) * UINT64_C(0x03f79d71b4cb0a89)) >> 58];
}

static void enc_value(lua_State *L, const encoder *e, ct_buf *b, int idx,
                      int depth);

/* a key, its rank, and the stack slot of its value (the generic path) */
typedef struct okey { const char *k; size_t n; unsigned rank; int slot; }
  okey;

static int okey_cmp(const void *a, const void *b) {
  const okey *x = (const okey *)a, *y = (const okey *)b;
  size_t n;
  int c;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  n = x->n < y->n ? x->n : y->n;
  c = memcmp(x->k, y->k, n);
  if (c != 0) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

static unsigned key_rank(const encoder *e, const char *k, size_t n) {
  const known *w = find(e, k);
  return w ? w->rank : rank_of_bytes(e, k, n);
}

static void put_key(lua_State *L, const encoder *e, ct_buf *b,
                    const char *k, size_t n, unsigned rank) {
  if (rank < NKEYS) {              /* a Graph name: nothing to escape */
    char *p = room(L, b, n + 3);
    p[0] = '"';
    memcpy(p + 1, k, n);
    p[n + 1] = '"';
    p[n + 2] = ':';
    b->len += n + 3;
  } else {
    put_string(L, b, k, n, find(e, k) != NULL);
    putc1(L, b, ':');
  }
}

/* the value of member m (read in the one pass) */
static void put_member_value(lua_State *L, const encoder *e, ct_buf *b,
                             const member *m, int depth);

/* members sorted: unknown keys by bytes, as okey_cmp orders them */
static int member_before(const member *x, const member *y) {
  size_t n = x->kn < y->kn ? x->kn : y->kn;
  int c = memcmp(x->k, y->k, n);
  return c != 0 ? c < 0 : x->kn < y->kn;
}

/* an object of at most SMALL members, read in one pass from the stack
   top (lua_next left its first key there); 1 if written, 0 if it has
   more members (the stack back to `base`, nothing written) */
static int enc_object(lua_State *L, const encoder *e, ct_buf *b, int idx,
                      int depth, int base) {
  member m[SMALL];
  unsigned char at[64], other[SMALL];
  uint64_t mask = 0;
  size_t n = 0, nother = 0, i;
  do {
    member *x;
    int t;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "encode: a table key must be a string or a "
                 "sequence index");
    if (n == SMALL) {
      lua_settop(L, base);
      return 0;
    }
    x = &m[n];
    x->k = lua_tolstring(L, -2, &x->kn);   /* anchored by the table */
    x->rank = key_rank(e, x->k, x->kn);
    t = lua_type(L, -1);
    switch (t) {
    case LUA_TSTRING: {
      const known *w;
      x->vt = V_STR;
      x->v.s.s = lua_tolstring(L, -1, &x->v.s.n);
      w = find(e, x->v.s.s);
      x->plain = w != NULL;
      lua_pop(L, 1);
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        x->vt = V_INT;
        x->v.i = lua_tointeger(L, -1);
      } else {
        x->vt = V_NUM;
        x->v.d = lua_tonumber(L, -1);
      }
      lua_pop(L, 1);
      break;
    case LUA_TBOOLEAN:
      x->vt = lua_toboolean(L, -1) ? V_TRUE : V_FALSE;
      lua_pop(L, 1);
      break;
    case LUA_TLIGHTUSERDATA:
      x->vt = V_LIGHT;
      x->v.u = lua_touserdata(L, -1);
      lua_pop(L, 1);
      break;
    case LUA_TTABLE:
      x->vt = V_TABLE;
      lua_insert(L, -2);           /* the value stays, below the key */
      x->v.slot = lua_gettop(L) - 1;
      break;
    default:
      x->vt = V_OTHER;
      x->v.slot = t;
      lua_pop(L, 1);
    }
    if (x->rank < NKEYS) {
      mask |= (uint64_t)1 << x->rank;
      at[x->rank] = (unsigned char)n;
    } else {                       /* insertion sort of the unknown keys */
      size_t j = nother;
      while (j > 0 && member_before(x, &m[other[j - 1]])) {
        other[j] = other[j - 1];
        j--;
      }
      other[j] = (unsigned char)n;
      nother++;
    }
    n++;
  } while (lua_next(L, idx) != 0);
  putc1(L, b, '{');
  i = 0;
  while (mask) {
    unsigned r = low_bit(mask);
    const member *x = &m[at[r]];
    mask &= mask - 1;
    if (i++ > 0) putc1(L, b, ',');
    put_key(L, e, b, x->k, x->kn, r);
    put_member_value(L, e, b, x, depth);
  }
  for (n = 0; n < nother; n++) {
    const member *x = &m[other[n]];
    if (i++ > 0) putc1(L, b, ',');
    put_key(L, e, b, x->k, x->kn, NKEYS);
    put_member_value(L, e, b, x, depth);
  }
  putc1(L, b, '}');
  lua_settop(L, base);             /* the tables kept */
  return 1;
}

static void enc_table(lua_State *L, const encoder *e, ct_buf *b, int idx,
                      int depth) {
  size_t len = lua_rawlen(L, idx), n = 0, i;
  int strkeys = 0, base;
  okey small[SMALL], *keys;
  if (depth > 100) luaL_error(L, "encode: table nested too deep (cycle?)");
  luaL_checkstack(L, SMALL + 6, NULL);
  if (len == 0) {
    /* no sequence part: an object or {}; read it in one pass when it is
       small (every Graph object) */
    base = lua_gettop(L);
    lua_pushnil(L);
    if (lua_next(L, idx) == 0) {
      put(L, b, "[]", 2);
      return;
    }
    if (enc_object(L, e, b, idx, depth, base)) return;
  }
  /* a sequence, or a big object: two passes */
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    n++;
    if (lua_type(L, -2) == LUA_TSTRING) strkeys = 1;
    else if (!(lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
               (size_t)lua_tointeger(L, -2) <= len))
      luaL_error(L, "encode: a table key must be a string or a sequence "
                 "index");
    lua_pop(L, 1);
  }
  if (!strkeys) {           /* a sequence; empty tables are [] */
    if (n != len) luaL_error(L, "encode: a sequence has holes");
    putc1(L, b, '[');
    for (i = 1; i <= len; i++) {
      if (i > 1) putc1(L, b, ',');
      lua_rawgeti(L, idx, (lua_Integer)i);
      enc_value(L, e, b, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
    }
    putc1(L, b, ']');
    return;
  }
  if (n != 0 && len != 0)
    luaL_error(L, "encode: a table mixes names and sequence items");
  keys = n <= SMALL ? small
                    : (okey *)lua_newuserdatauv(L, n * sizeof *keys, 0);
  base = lua_gettop(L);
  luaL_checkstack(L, (int)n + 4, NULL);
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    keys[i].k = lua_tolstring(L, -2, &keys[i].n);  /* anchored by idx */
    keys[i].rank = key_rank(e, keys[i].k, keys[i].n);
    keys[i].slot = base + (int)i + 1;
    i++;
    lua_insert(L, -2);      /* the value stays, below the key */
  }
  qsort(keys, n, sizeof *keys, okey_cmp);
  putc1(L, b, '{');
  for (i = 0; i < n; i++) {
    if (i > 0) putc1(L, b, ',');
    put_key(L, e, b, keys[i].k, keys[i].n, keys[i].rank);
    enc_value(L, e, b, keys[i].slot, depth + 1);
  }
  putc1(L, b, '}');
  lua_settop(L, base - (n <= SMALL ? 0 : 1));   /* values (and keys) */
}

static void put_number(lua_State *L, ct_buf *b, lua_Number d) {
  if (!isfinite(d)) luaL_error(L, "encode: number is not finite");
  ct_buf_json_number(b, d);
}

static void put_member_value(lua_State *L, const encoder *e, ct_buf *b,
                             const member *m, int depth) {
  switch (m->vt) {
  case V_STR: put_string(L, b, m->v.s.s, m->v.s.n, m->plain); break;
  case V_INT: ct_buf_json_int(b, (int64_t)m->v.i); break;
  case V_NUM: put_number(L, b, m->v.d); break;
  case V_TRUE: put(L, b, "true", 4); break;
  case V_FALSE: put(L, b, "false", 5); break;
  case V_LIGHT:
    if (m->v.u != NULL)
      luaL_error(L, "encode: can't encode a light userdata");
    put(L, b, "null", 4);
    break;
  case V_TABLE: enc_table(L, e, b, m->v.slot, depth + 1); break;
  default:
    luaL_error(L, "encode: can't encode a %s", lua_typename(L, m->v.slot));
  }
}

static void enc_value(lua_State *L, const encoder *e, ct_buf *b, int idx,
                      int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      put_string(L, b, s, n, find(e, s) != NULL);
      break;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        ct_buf_json_int(b, (int64_t)lua_tointeger(L, idx));
      else
        put_number(L, b, lua_tonumber(L, idx));
      break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) put(L, b, "true", 4);
      else put(L, b, "false", 5);
      break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) {
        put(L, b, "null", 4);
        break;
      }
      luaL_error(L, "encode: can't encode a light userdata");
      break;
    case LUA_TTABLE:
      enc_table(L, e, b, idx, depth);
      break;
    default:
      luaL_error(L, "encode: can't encode a %s", luaL_typename(L, idx));
  }
}

/*
** encode(value) -> string: Graph's JSON text of `value` (see the top of
** this file).  Raises on a value JSON has no text for.
*/
static int core_encode(lua_State *L) {
  encoder *e = (encoder *)lua_touserdata(L, lua_upvalueindex(1));
  ct_buf *b = &e->buf;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  b->len = 0;
  b->oom = 0;
  enc_value(L, e, b, 1, 0);
  if (b->oom) return luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->p, b->len);
  if (b->cap > KEEP_CAP) ct_buf_free(b);
  return 1;
}

static int encoder_gc(lua_State *L) {
  encoder *e = (encoder *)lua_touserdata(L, 1);
  ct_buf_free(&e->buf);
  return 0;
}

/* ---------- the order of names, from the core's lists ---------- */

typedef struct order {
  const char *name[MAXNAMES];
  size_t n;
} order;

static size_t pos_of(const order *o, const char *s) {
  size_t i;
  for (i = 0; i < o->n; i++)
    if (strcmp(o->name[i], s) == 0) return i;
  return o->n;
}

static int insert_at(order *o, size_t at, const char *s) {
  if (o->n == MAXNAMES) return -1;
  memmove(o->name + at + 1, o->name + at, (o->n - at) * sizeof *o->name);
  o->name[at] = s;
  o->n++;
  return 0;
}

/*
** Merge `list` (n names) into o, keeping its order: a name not yet in o
** goes right after the one before it in `list`; names before the first
** one already in o go right before it; a list with none in o goes after
** `after` (a name of o), or at the end when that is NULL.  -1 when the
** list disagrees with the order so far or o is full.
*/
static int merge(order *o, const char *const *list, size_t n,
                 const char *after) {
  size_t i, f, at;
  for (f = 0; f < n && pos_of(o, list[f]) == o->n; f++) {}
  if (f == n) {
    at = after ? pos_of(o, after) + 1 : o->n;
    if (at > o->n) return -1;
  } else {
    at = pos_of(o, list[f]);
  }
  for (i = 0; i < n; i++) {
    size_t p = pos_of(o, list[i]);
    if (p == o->n) {
      if (insert_at(o, at, list[i]) < 0) return -1;
      p = at;
    } else if (p < at) {
      return -1;                   /* placed before its predecessor */
    }
    at = p + 1;
  }
  return 0;
}

static int merge_nul(order *o, const char *const *list) {
  size_t n = 0;
  while (list[n] != NULL) n++;
  return merge(o, list, n, NULL);
}

/* a type's property names, merged; a type none of whose names is there
   yet goes after the property that holds it */
static int merge_type(order *o, const ct_type *t, const char *holder) {
  const char *names[MAXNAMES];
  size_t i;
  if (t->nprops > MAXNAMES) return -1;
  for (i = 0; i < t->nprops; i++) names[i] = t->props[i].name;
  return merge(o, names, t->nprops, holder);
}

/* the property of `in` whose values are of type `t` */
static const char *holder_of(const ct_type *in, const ct_type *t) {
  size_t i;
  for (i = 0; i < in->nprops; i++)
    if (in->props[i].sub == t) return in->props[i].name;
  return NULL;
}

static int make_order(order *o) {
  o->n = 0;
  return merge_nul(o, HEAD) < 0 ||
         merge_type(o, &ct_type_job, NULL) < 0 ||
         merge_type(o, &ct_type_task, holder_of(&ct_type_job,
                                                 &ct_type_task)) < 0 ||
         merge_type(o, &ct_type_status_details,
                    holder_of(&ct_type_task, &ct_type_status_details)) < 0 ||
         merge_type(o, &ct_type_error,
                    holder_of(&ct_type_status_details, &ct_type_error)) < 0 ||
         merge_nul(o, ERROR_BODY) < 0 ||
         merge_type(o, &ct_type_exchange_settings,
                    holder_of(&ct_type_job,
                              &ct_type_exchange_settings)) < 0 ||
         merge_nul(o, TAIL) < 0 ? -1 : 0;
}

/* remember the string at the top (anchored elsewhere) by its address */
static void know_top(lua_State *L, encoder *e) {
  size_t n;
  const char *p = lua_tolstring(L, -1, &n);
  if (ct_json_plain_run(p, n) == n &&
      add_known(e, p, rank_of_bytes(e, p, n)) < 0)
    luaL_error(L, "encode: too many known strings");
}

void lct_encode_open(lua_State *L) {
  encoder *e;
  order o;
  unsigned r;
  int strs, i, nstr;
  if (make_order(&o) < 0)
    luaL_error(L, "encode: the core's property lists disagree");
  /* user values: the names, and lct_strings' table (kept alive with the
     encoder, whose `known` holds their addresses) */
  e = (encoder *)lua_newuserdatauv(L, sizeof *e, 2);
  memset(e, 0, sizeof *e);
  ct_buf_init(&e->buf);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, encoder_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  ct_buf_reserve(&e->buf, 960);    /* below glibc's large-request size */
  lua_createtable(L, (int)o.n, 0);   /* anchors the names */
  for (r = 0; r < o.n; r++) {
    lua_pushstring(L, o.name[r]);
    e->name[r] = lua_tolstring(L, -1, &e->namelen[r]);
    e->nkeys = r + 1;
    know_top(L, e);
    lua_rawseti(L, -2, (lua_Integer)r + 1);
  }
  lua_setiuservalue(L, -2, 1);
  strs = lct_strings(L);
  nstr = (int)lua_rawlen(L, strs);
  for (i = 1; i <= nstr; i++) {
    if (lua_rawgeti(L, strs, i) == LUA_TSTRING) know_top(L, e);
    lua_pop(L, 1);
  }
  lua_setiuservalue(L, -2, 2);
  lua_pushcclosure(L, core_encode, 1);
  lua_setfield(L, -2, "encode");
}
