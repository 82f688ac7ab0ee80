/*
** lcore.c -- crosstenant.core: the one binding between Lua and the core.
** It turns Lua values into core calls and core records into Lua tables
** (Graph's JSON text from Lua values: lencode.c).  Everything it holds
** lives in the store userdata; there is no C global state.
**
** Error policy: a wrong Lua type in an argument raises (luaL_argerror);
** data the model rejects returns nil plus an error table
** { status = 400, code = "invalidRequest", inner = ..., message = ... }.
*/
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_json.h"
#include "ct_change.h"
#include "ct_schema.h"
#include "ct_store.h"
#include "ct_util.h"

#include "lcore.h"

#define STORE LCT_STORE

/* ---------- the userdata ---------- */

/* the address names the store metatable in the registry too: a lookup
   by pointer (lua_rawgetp) instead of by name; it holds no state */
static const char store_mt_key = 0;

box *lct_checkbox(lua_State *L) {
  box *b = (box *)lua_touserdata(L, 1);
  int same = 0;
  if (b != NULL && lua_getmetatable(L, 1)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &store_mt_key);
    same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!same) b = (box *)luaL_checkudata(L, 1, STORE);   /* raises */
  if (b->s == NULL) luaL_error(L, "attempt to use a closed store");
  return b;
}

static int store_close(lua_State *L) {
  box *b = (box *)luaL_checkudata(L, 1, STORE);
  lct_detach(b, lua_toboolean(L, lua_upvalueindex(1)));
  ct_store_free(b->s);          /* idempotent: NULL after the first */
  b->s = NULL;
  lct_request_close(b);
  free(b->ev);
  b->ev = NULL;
  b->nev = b->capev = 0;
  return 0;
}

static void on_event(box *b, const ct_job *j, const ct_task *t, int service,
                     int old, int new_) {
  event *e;
  if (b->nev == b->capev) {
    size_t cap = b->capev ? b->capev * 2 : 64;
    event *p = realloc(b->ev, cap * sizeof *p);
    if (p == NULL) {
      b->ev_oom = 1;
      return;
    }
    b->ev = p;
    b->capev = cap;
  }
  e = &b->ev[b->nev++];
  e->job = j->id;
  if (t != NULL) e->user = t->id;
  e->time = b->s->now;
  e->kind = (int8_t)(t != NULL);
  e->service = (int8_t)service;
  e->old = (int8_t)old;
  e->new_ = (int8_t)new_;
}

static void on_job(void *ud, const ct_job *j, int old, int new_) {
  on_event((box *)ud, j, NULL, -1, old, new_);
}

static void on_task(void *ud, const ct_job *j, const ct_task *t,
                    int service, int old, int new_) {
  on_event((box *)ud, j, t, service, old, new_);
}

static double opt_number(lua_State *L, int t, const char *k, double d) {
  double v;
  lua_getfield(L, t, k);
  v = lua_isnil(L, -1) ? d : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* core.new{ seed =, now =, strict =, timings = {},
   failure_rate = x | { validate =, migrate =, sticky = } } */
static int core_new(lua_State *L) {
  ct_options o;
  box *b;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&o, 0, sizeof o);
  lua_getfield(L, 1, "seed");
  if (!lua_isnil(L, -1)) {
    o.has_seed = 1;
    o.seed = (uint64_t)luaL_checkinteger(L, -1);
  }
  lua_getfield(L, 1, "now");
  o.now = (int64_t)luaL_checkinteger(L, -1);
  lua_getfield(L, 1, "strict");
  o.strict = lua_toboolean(L, -1);
  lua_pop(L, 3);
  lua_getfield(L, 1, "failure_rate");
  if (lua_istable(L, -1)) {
    o.failure_rate[0] = opt_number(L, lua_gettop(L), "validate", 0);
    o.failure_rate[1] = opt_number(L, lua_gettop(L), "migrate", 0);
    lua_getfield(L, -1, "sticky");
    o.sticky = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else {
    o.failure_rate[0] = o.failure_rate[1] = luaL_optnumber(L, -1, 0);
  }
  lua_pop(L, 1);
  b = (box *)lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, STORE);
  b->s = ct_store_new(&o);
  if (b->s == NULL) return luaL_error(L, "not enough memory");
  b->s->event_ud = b;
  lua_getfield(L, 1, "tenant");
  if (!lua_isnil(L, -1)) {
    ct_guid g;
    size_t n;
    const char *t = luaL_checklstring(L, -1, &n);
    lua_getfield(L, 1, "user");
    lua_getfield(L, 1, "require_token");
    if (ct_guid_parse(t, n, &g) != 0)
      return luaL_error(L, "option 'tenant' must be a GUID");
    if (ct_store_set_defaults(b->s, &g, luaL_optstring(L, -2, ""),
                              lua_toboolean(L, -1)) != 0)
      return luaL_error(L, "not enough memory");
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "timings");
  if (lua_istable(L, -1)) {
    int i = lua_gettop(L), k;
    for (k = 0; k < CT_TIMING__COUNT; k++) {
      double *v = ct_timing_at(&b->s->timings, k);
      *v = opt_number(L, i, ct_timing_names[k], *v);
    }
  }
  lua_pop(L, 1);
  return 1;
}

/* ---------- errors to Lua ---------- */

int lct_push_err(lua_State *L, const ct_err *e) {
  lua_pushnil(L);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, e->status);
  lua_setfield(L, -2, "status");
  lua_pushstring(L, e->code);
  lua_setfield(L, -2, "code");
  if (e->inner != NULL) {
    lua_pushstring(L, e->inner);
    lua_setfield(L, -2, "inner");
  }
  lua_pushstring(L, e->message);
  lua_setfield(L, -2, "message");
  return 2;
}

/* ---------- Lua values to the core's JSON tree ---------- */

typedef struct conv {
  lua_State *L;
  ct_arena *a;
  ct_err *e;
} conv;

/* where a value sits, as a chain to the root: text only for a message */
typedef struct lpath {
  const struct lpath *up;
  const char *name;           /* NULL: an index */
  size_t namelen, index;
} lpath;

static size_t lpath_text(const lpath *p, char *out, size_t cap) {
  size_t k;
  int w;
  if (p == NULL) return 0;
  k = lpath_text(p->up, out, cap);
  if (k + 1 >= cap) return k;
  if (p->name != NULL) {
    /* at most 60 bytes of the name, control bytes (NUL too) as '?' */
    size_t i, m = p->namelen > 60 ? 60 : p->namelen;
    if (k && k + 1 < cap) out[k++] = '.';
    for (i = 0; i < m && k + 1 < cap; i++) {
      unsigned char c = (unsigned char)p->name[i];
      out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[k] = '\0';
    return k;
  } else
    w = snprintf(out + k, cap - k, "[%zu]", p->index);
  if (w > 0) k += (size_t)w < cap - k ? (size_t)w : cap - k - 1;
  return k;
}

static int conv_fail(conv *c, int status, const char *fmt,
                     const lpath *at) {
  char where[160];
  where[0] = '\0';
  lpath_text(at, where, sizeof where);
  ct_err_set(c->e, status, "invalidRequest", NULL, fmt, where);
  return -1;
}

static int from_lua(conv *c, int idx, ct_jval *out, int depth,
                    const lpath *path);

#define ONE_PASS 16

/*
** A table with no sequence part (every Graph object) read in one
** lua_next pass, its members converted as they come into a small array.
** Errors rank as in the two passes of from_table: a key that is no name
** first, then the first member's own error (a bad name or value; later
** members are then only checked for such keys).  Returns 0, -1 with
** *c->e set, or 1 when the table has more than ONE_PASS members (read
** it in two passes).
*/
static int object_one_pass(conv *c, int idx, ct_jval *out, int depth,
                           const lpath *path) {
  lua_State *L = c->L;
  ct_jval tmp[ONE_PASS];
  size_t n = 0;
  int failed = 0;
  lpath sub;
  sub.up = path;
  sub.index = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return conv_fail(c, 400, "The body has a table key that is neither "
                       "a name nor a sequence index at '%s'.", path);
    }
    if (n == ONE_PASS) {
      lua_pop(L, 2);
      return 1;
    }
    if (!failed) {
      size_t kl;
      const char *k = lua_tolstring(L, -2, &kl);
      if (kl > CT_LIMIT_STRING || !ct_utf8_valid(k, kl)) {
        conv_fail(c, kl > CT_LIMIT_STRING ? 413 : 400,
                  "The body has a property name that is too long or "
                  "not valid UTF-8 at '%s'.", path);
        failed = 1;
      } else {
        tmp[n].key = k;
        tmp[n].keylen = kl;
        sub.name = k;
        sub.namelen = kl;
        failed = from_lua(c, lua_gettop(L), &tmp[n], depth + 1, &sub) != 0;
      }
    }
    n++;
    lua_pop(L, 1);
  }
  if (n == 0) {
    out->kind = CT_JEMPTY;
    out->len = 0;
    out->u.items = NULL;
    return 0;
  }
  if (failed) return -1;
  out->len = n;
  out->u.items = ct_arena_alloc(c->a, n * sizeof(ct_jval));
  if (out->u.items == NULL)
    return conv_fail(c, 500, "Out of memory at '%s'.", path);
  memcpy(out->u.items, tmp, n * sizeof(ct_jval));
  out->kind = CT_JOBJ;
  return 0;
}

/*
** Strings and names are not copied: they point into the Lua strings,
** which the body table anchors for the whole call.
*/
static int from_table(conv *c, int idx, ct_jval *out, int depth,
                      const lpath *path) {
  lua_State *L = c->L;
  size_t n = 0, len = lua_rawlen(L, idx), i;
  int strkeys = 0, intkeys = 0;
  lpath sub;
  sub.up = path;
  sub.name = NULL;
  sub.namelen = 0;
  sub.index = 0;
  if (depth >= CT_LIMIT_DEPTH)
    return conv_fail(c, 413, "The body nests deeper than 16 at '%s'.",
                     path);
  luaL_checkstack(L, 4, NULL);
  if (len == 0) {
    int r = object_one_pass(c, idx, out, depth, path);
    if (r != 1) return r;
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    n++;
    if (lua_type(L, -2) == LUA_TSTRING) strkeys = 1;
    else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
             (size_t)lua_tointeger(L, -2) <= len)
      intkeys = 1;
    else {
      lua_pop(L, 2);
      return conv_fail(c, 400, "The body has a table key that is neither "
                       "a name nor a sequence index at '%s'.", path);
    }
    lua_pop(L, 1);
  }
  if (n > CT_LIMIT_ITEMS)
    return conv_fail(c, 413, "The body has more than 10000 items at '%s'.",
                     path);
  if (n == 0) {
    out->kind = CT_JEMPTY;
    out->len = 0;
    out->u.items = NULL;
    return 0;
  }
  if (strkeys && intkeys)
    return conv_fail(c, 400, "The body has a table that mixes names and "
                     "sequence items at '%s'.", path);
  out->len = n;
  out->u.items = ct_arena_alloc(c->a, n * sizeof(ct_jval));
  if (out->u.items == NULL)
    return conv_fail(c, 500, "Out of memory at '%s'.", path);
  if (intkeys) {
    if (n != len)
      return conv_fail(c, 400, "The body has a sequence with holes at "
                       "'%s'.", path);
    out->kind = CT_JARR;
    for (i = 0; i < n; i++) {
      int r;
      sub.index = i;
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      out->u.items[i].key = NULL;
      r = from_lua(c, lua_gettop(L), &out->u.items[i], depth + 1, &sub);
      lua_pop(L, 1);
      if (r != 0) return -1;
    }
    return 0;
  }
  out->kind = CT_JOBJ;
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t kl;
    const char *k = lua_tolstring(L, -2, &kl);
    ct_jval *m = &out->u.items[i++];
    if (kl > CT_LIMIT_STRING || !ct_utf8_valid(k, kl)) {
      lua_pop(L, 2);
      return conv_fail(c, kl > CT_LIMIT_STRING ? 413 : 400,
                       "The body has a property name that is too long or "
                       "not valid UTF-8 at '%s'.", path);
    }
    m->key = k;
    m->keylen = kl;
    sub.name = k;
    sub.namelen = kl;
    if (from_lua(c, lua_gettop(L), m, depth + 1, &sub) != 0) {
      lua_pop(L, 2);
      return -1;
    }
    lua_pop(L, 1);
  }
  return 0;
}

static int from_lua(conv *c, int idx, ct_jval *out, int depth,
                    const lpath *path) {
  lua_State *L = c->L;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      if (n > CT_LIMIT_STRING)
        return conv_fail(c, 413, "The body has a string longer than 4096 "
                         "bytes at '%s'.", path);
      if (!ct_utf8_valid(s, n))
        return conv_fail(c, 400, "The body has a string that is not valid "
                         "UTF-8 at '%s'.", path);
      out->kind = CT_JSTR;
      out->u.s = s;
      out->len = n;
      return 0;
    }
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out->kind = CT_JINT;
        out->u.i = (int64_t)lua_tointeger(L, idx);
      } else {
        double d = lua_tonumber(L, idx);
        if (!isfinite(d))
          return conv_fail(c, 400, "The body has a number that is not "
                           "finite at '%s'.", path);
        out->kind = CT_JNUM;
        out->u.d = d;
      }
      return 0;
    case LUA_TBOOLEAN:
      out->kind = lua_toboolean(L, idx) ? CT_JTRUE : CT_JFALSE;
      return 0;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) {   /* cjson.null */
        out->kind = CT_JNULL;
        return 0;
      }
      break;
    case LUA_TTABLE:
      return from_table(c, idx, out, depth, path);
    default:
      break;
  }
  {
    char where[160];
    where[0] = '\0';
    lpath_text(path, where, sizeof where);
    ct_err_set(c->e, 400, "invalidRequest", NULL,
               "The body has a %s, which JSON can't hold, at '%s'.",
               luaL_typename(L, idx), where);
  }
  return -1;
}

/*
** The body argument at `idx`: JSON text, a table, or nil (absent).
** Returns the tree (in arena `a`), or NULL with *e set.
*/
const ct_jval *lct_body_arg(lua_State *L, int idx, ct_arena *a,
                            ct_err *e) {
  ct_jval *v;
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    ct_jerr je;
    if (ct_json_parse(a, s, n, &v, &je) != 0) {
      ct_err_set(e, je.status, "invalidRequest", NULL,
                 "The request body is not valid JSON: %s.", je.message);
      return NULL;
    }
    return v;
  }
  if (lua_istable(L, idx)) {
    conv c;
    c.L = L;
    c.a = a;
    c.e = e;
    v = ct_arena_alloc(a, sizeof *v);
    if (v == NULL) {
      ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
      return NULL;
    }
    v->key = NULL;
    if (from_lua(&c, idx, v, 0, NULL) != 0) return NULL;
    return v;
  }
  if (lua_isnoneornil(L, idx)) {
    ct_err_set(e, 400, "invalidRequest", NULL,
               "A request body is required.");
    return NULL;
  }
  luaL_typeerror(L, idx, "string or table");
  return NULL;
}

/* ---------- core records to Lua tables ---------- */

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* a stored string, whole: it may hold NULs */
static void set_lstr(lua_State *L, const char *k, const ct_str *v) {
  lua_pushlstring(L, v->p, v->n);
  lua_setfield(L, -2, k);
}

static void set_guid(lua_State *L, const char *k, const ct_guid *g) {
  char s[37];
  ct_guid_format(g, s);
  lua_pushlstring(L, s, 36);
  lua_setfield(L, -2, k);
}

static void set_time(lua_State *L, const char *k, int64_t ticks,
                     int digits) {
  char s[29];
  ct_time t;
  size_t n;
  t.ticks = ticks;
  t.digits = digits;
  n = ct_time_format(&t, s);
  lua_pushlstring(L, s, n);
  lua_setfield(L, -2, k);
}

void lct_push_job(lua_State *L, const ct_job *j) {
  size_t i;
  lua_createtable(L, 0, 16);
  set_guid(L, "id", &j->id);
  set_lstr(L, "displayName", &j->displayName);
  set_str(L, "jobType", ct_job_type_name(j->jobType));
  set_guid(L, "sourceTenantId", &j->sourceTenantId);
  set_guid(L, "targetTenantId", &j->tenant->id);
  set_time(L, "completeAfterDateTime", j->completeAfter.ticks,
           j->completeAfter.digits);
  set_str(L, "status", ct_job_status_name(j->status));
  set_str(L, "message", j->message);
  set_time(L, "createdDateTime", j->created.ticks, j->created.digits);
  set_lstr(L, "createdBy", &j->createdBy);
  set_time(L, "lastUpdatedDateTime", j->updated.ticks, j->updated.digits);
  if (j->hasExchangeSettings) {
    lua_createtable(L, 0, 2);
    set_lstr(L, "sourceEndpoint", &j->sourceEndpoint);
    set_lstr(L, "targetDeliveryDomain", &j->targetDeliveryDomain);
  } else {
    lua_pushlightuserdata(L, NULL);
  }
  lua_setfield(L, -2, "exchangeSettings");
  lua_createtable(L, j->nworkloads, 0);
  for (i = 0; i < j->nworkloads; i++) {
    lua_pushstring(L, ct_workload_name(j->workloads[i]));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "workloads");
  set_lstr(L, "resourceType", &j->resourceType);
  lua_createtable(L, (int)j->ntasks, 0);
  for (i = 0; i < j->ntasks; i++) {
    char s[37];
    ct_guid_format(&j->tasks[i].id, s);
    lua_pushlstring(L, s, 36);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "resources");
}

/*
** The constant strings a task is built from (keys, type names, enum
** texts), made into Lua strings once, when the module opens, and kept
** in a registry table by number: a task then sets each field with
** lua_rawset on an interned key, without interning a C string per field
** (lua_setfield) or per value (lua_pushstring).  The address of
** `strings_key` names the table in the registry; it holds no state.
*/
static const char strings_key = 0;

#define S_SS (LCT_S_SVC + CT_SVC__COUNT)
#define S__END (S_SS + CT_SS__COUNT)

/* the strings no Graph type owns; NULL: read from the schema's one list
   of names (csrc/ct_schema.c), by push_fixed */
static const char *const fixed_strings[LCT_S_SVC] = {
  NULL, "@odata.type", NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, "", NULL, "@odata.context", "request-id",
  "client-request-id", "Content-Type", "Location", "application/json"
};

/* pushes constant string i (i < LCT_S_SVC) */
static void push_fixed(lua_State *L, int i) {
  const char *s = fixed_strings[i];
  switch (i) {
    case LCT_S_ID: s = ct_task_props[CT_TASK_ID].name; break;
    case LCT_S_TASKTYPE: s = ct_task_props[CT_TASK_TASKTYPE].name; break;
    case LCT_S_LUT: s = ct_task_props[CT_TASK_LASTUPDATED].name; break;
    case LCT_S_CURRENTSTATUS:
      s = ct_task_props[CT_TASK_CURRENTSTATUS].name;
      break;
    case LCT_S_SERVICE: s = ct_status_props[CT_STATUS_SERVICE].name; break;
    case LCT_S_STATUS: s = ct_status_props[CT_STATUS_STATUS].name; break;
    case LCT_S_MESSAGE: s = ct_status_props[CT_STATUS_MESSAGE].name; break;
    case LCT_S_ERRORS: s = ct_status_props[CT_STATUS_ERRORS].name; break;
    case LCT_S_CODE: s = ct_error_props[CT_ERROR_CODE].name; break;
    case LCT_S_TASK_TYPE:            /* the seed page's "#" form */
      lua_pushfstring(L, "#%s", ct_type_task.name);
      return;
    case LCT_S_SSD_TYPE: s = ct_type_status_details.name; break;
    case LCT_S_USER:                 /* the one taskType there is */
      s = ct_task_props[CT_TASK_TASKTYPE].values[0];
      break;
    default: break;
  }
  lua_pushstring(L, s);
}

#define STRINGS_NAME "crosstenant.strings"

int lct_strings(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &strings_key) != LUA_TTABLE) {
    /* another copy of this library opened the module (its functions
       interposed, as under LD_PRELOAD): its table, found by name */
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, STRINGS_NAME);
  }
  return lua_gettop(L);
}

/*
** Slots after the constant strings keep the last Lua string made for a
** text by lct_push_text: the @odata.context of every task created in a
** job is the same text, made into a string once instead of per call (a
** long string: an allocation, a copy, and the collector's work later).
** Strings are values in Lua; which copy a table holds is invisible.
*/
#define S_TEXTS S__END
#define TEXT_SLOTS 64

static void open_strings(lua_State *L) {
  int i;
  lua_createtable(L, S__END + TEXT_SLOTS, 0);
  for (i = 1; i < S__END; i++) {
    if (i < LCT_S_SVC) push_fixed(L, i);
    else if (i < S_SS) lua_pushstring(L, ct_service_name(i - LCT_S_SVC));
    else lua_pushstring(L, ct_svc_status_name(i - S_SS));
    lua_rawseti(L, -2, i);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, STRINGS_NAME);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &strings_key);
}

/* the slot of a text: eight bytes from its end and eight from its
   middle, mixed (any slot is correct: a hit compares the bytes) */
static int text_slot(const char *p, size_t n) {
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    memcpy(&a, p + n - 8, 8);
    memcpy(&b, p + (n - 8) / 2, 8);
  } else {
    memcpy(&a, p, n);
  }
  a = (a ^ (b * 0x9e3779b97f4a7c15u) ^ n) * 0xff51afd7ed558ccdu;
  return (int)(a >> 58);                    /* 0 .. TEXT_SLOTS - 1 */
}

void lct_push_text(lua_State *L, int strs, const char *p, size_t n) {
  int slot = S_TEXTS + 1 + text_slot(p, n);
  size_t have;
  const char *s;
  if (lua_rawgeti(L, strs, slot) == LUA_TSTRING) {
    s = lua_tolstring(L, -1, &have);
    if (have == n && memcmp(s, p, n) == 0) return;
  }
  lua_pop(L, 1);
  lua_pushlstring(L, p, n);
  lua_pushvalue(L, -1);
  lua_rawseti(L, strs, slot);
}

/* table[strings[key]] = strings[val] for the table on the top */
static void sset(lua_State *L, int strs, int key, int val) {
  lua_rawgeti(L, strs, key);
  lua_rawgeti(L, strs, val);
  lua_rawset(L, -3);
}

/*
** Pushes the text (p, n) as a Lua string: the value of key `key` in the
** table at `from` when that is a string of the same bytes (a caller's own
** string, already made), else a new one.  from 0: always a new one.
*/
static void push_same(lua_State *L, int strs, int from, int key,
                      const char *p, size_t n) {
  if (from != 0) {
    size_t have;
    const char *s;
    lua_rawgeti(L, strs, key);
    if (lua_rawget(L, from) == LUA_TSTRING) {
      s = lua_tolstring(L, -1, &have);
      if (have == n && memcmp(s, p, n) == 0) return;
    }
    lua_pop(L, 1);
  }
  lua_pushlstring(L, p, n);
}

/* a task; `seed` adds the @odata.type annotations the seed page shows;
   `props` (a stack index, 0: none) is the table it was created from,
   whose id and lastUpdatedDateTime strings serve when they are the
   same text */
void lct_push_task(lua_State *L, const ct_task *t, int seed, int props) {
  int i, strs;
  size_t n;
  const char *s;
  char text[37];
  ct_time when;
  if (props != 0 && lua_type(L, props) != LUA_TTABLE) props = 0;
  strs = lct_strings(L);
  lua_createtable(L, 0, 6);        /* and @odata.context, when it has one */
  if (seed) sset(L, strs, LCT_S_ODATA_TYPE, LCT_S_TASK_TYPE);
  lua_rawgeti(L, strs, LCT_S_ID);
  ct_guid_format(&t->id, text);
  push_same(L, strs, props, LCT_S_ID, text, 36);
  lua_rawset(L, -3);
  if (t->extra && t->extra->taskType.p) {
    lua_rawgeti(L, strs, LCT_S_TASKTYPE);
    lua_pushlstring(L, t->extra->taskType.p, t->extra->taskType.n);
    lua_rawset(L, -3);
  } else {
    sset(L, strs, LCT_S_TASKTYPE, LCT_S_USER);
  }
  lua_rawgeti(L, strs, LCT_S_LUT);
  when.ticks = t->updated;
  when.digits = t->digits;
  n = ct_time_format(&when, text);
  push_same(L, strs, props, LCT_S_LUT, text, n);
  lua_rawset(L, -3);
  lua_rawgeti(L, strs, LCT_S_CURRENTSTATUS);
  lua_createtable(L, t->n, 0);
  for (i = 0; i < t->n; i++) {
    size_t k, ne = t->extra ? t->extra->nerrors[i] : 0;
    lua_createtable(L, 0, 5);
    if (seed) sset(L, strs, LCT_S_ODATA_TYPE, LCT_S_SSD_TYPE);
    sset(L, strs, LCT_S_SERVICE, LCT_S_SVC + t->svc[i]);
    sset(L, strs, LCT_S_STATUS, S_SS + t->st[i]);
    s = ct_task_message(t, i, &n);
    if (n == 0) {
      sset(L, strs, LCT_S_MESSAGE, LCT_S_EMPTY);
    } else {
      lua_rawgeti(L, strs, LCT_S_MESSAGE);
      lua_pushlstring(L, s, n);
      lua_rawset(L, -3);
    }
    lua_rawgeti(L, strs, LCT_S_ERRORS);
    lua_createtable(L, (int)ne, 0);
    for (k = 0; k < ne; k++) {
      const ct_errinfo *y = &t->extra->errors[i][k];
      lua_createtable(L, 0, 2);
      lua_rawgeti(L, strs, LCT_S_CODE);
      lua_pushlstring(L, y->code.p, y->code.n);
      lua_rawset(L, -3);
      lua_rawgeti(L, strs, LCT_S_MESSAGE);
      lua_pushlstring(L, y->message.p, y->message.n);
      lua_rawset(L, -3);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_rawset(L, -3);
    lua_rawseti(L, -2, i + 1);
  }
  lua_rawset(L, -3);
  lua_remove(L, strs);
}

/* ---------- arguments ---------- */

static void caller_arg(lua_State *L, int idx, ct_caller *c) {
  size_t n;
  const char *s = luaL_checklstring(L, idx, &n);
  if (ct_guid_parse(s, n, &c->tenant) != 0)
    luaL_argerror(L, idx, "tenant must be a GUID");
  c->upn = luaL_optlstring(L, idx + 1, "", &c->nupn);
}

/* the job named by (tenant, key, byname) at idx..idx+2 */
ct_job *lct_job_arg(lua_State *L, ct_store *s, int idx, ct_err *e) {
  ct_caller c;
  size_t n;
  const char *key;
  caller_arg(L, idx, &c);
  key = luaL_checklstring(L, idx + 1, &n);
  if (lua_toboolean(L, idx + 2)) return ct_job_find_name(s, &c, key, n, e);
  return ct_job_find(s, &c, key, n, e);
}

/* ---------- store methods ---------- */

/* s:job_create(tenant, upn, body) */
static int s_job_create(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_caller c;
  ct_arena a;
  ct_err e;
  const ct_jval *body;
  ct_job *j = NULL;
  caller_arg(L, 2, &c);
  ct_arena_init(&a);
  body = lct_body_arg(L, 4, &a, &e);
  if (body != NULL) {
    ct_change op;
    ct_change_result r;
    memset(&op, 0, sizeof op);
    op.kind = CT_CH_JOB_CREATE;
    op.caller = c;
    op.body = body;
    if (lct_run(L, b, &op, &r, &e) == 0) j = r.job;
  }
  ct_arena_free(&a);
  if (j == NULL) return lct_push_err(L, &e);
  lct_push_job(L, j);
  return 1;
}

/* an op on the job named by (tenant, key, byname) at 2..4 */
static void job_op(lua_State *L, int kind, ct_change *op) {
  memset(op, 0, sizeof *op);
  op->kind = kind;
  caller_arg(L, 2, &op->caller);
  op->caller.upn = "";
  op->caller.nupn = 0;
  op->job = luaL_checklstring(L, 3, &op->joblen);
  op->byname = lua_toboolean(L, 4);
}

/* s:job_get(tenant, key, byname) */
static int s_job_get(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_job *j = lct_job_arg(L, b->s, 2, &e);
  if (j == NULL) return lct_push_err(L, &e);
  lct_push_job(L, j);
  return 1;
}

/* s:job_update(tenant, key, byname, body) */
static int s_job_update(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_arena a;
  const ct_jval *body;
  int r = -1;
  ct_job *j = lct_job_arg(L, b->s, 2, &e);
  if (j == NULL) return lct_push_err(L, &e);
  ct_arena_init(&a);
  body = lct_body_arg(L, 5, &a, &e);
  if (body != NULL) {
    ct_change op;
    job_op(L, CT_CH_JOB_UPDATE, &op);
    op.body = body;
    r = lct_run(L, b, &op, NULL, &e);
  }
  ct_arena_free(&a);
  if (r != 0) return lct_push_err(L, &e);
  lua_pushboolean(L, 1);
  return 1;
}

static int do_action(lua_State *L, int kind, int push) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_change op;
  ct_change_result r;
  ct_job *j;
  job_op(L, kind, &op);
  if (lct_run(L, b, &op, &r, &e) != 0) return lct_push_err(L, &e);
  j = r.job;
  if (push == 1) lct_push_job(L, j);
  else if (push == 2) {
    lua_createtable(L, 0, 4);
    set_guid(L, "id", &j->id);
    set_lstr(L, "displayName", &j->displayName);
    set_str(L, "status", "pendingCancel");
    set_str(L, "message", j->message);
  } else lua_pushboolean(L, 1);
  return 1;
}

static int s_job_delete(lua_State *L) {
  return do_action(L, CT_CH_JOB_DELETE, 0);
}
static int s_job_validate(lua_State *L) {
  return do_action(L, CT_CH_JOB_VALIDATE, 1);
}
static int s_job_migrate(lua_State *L) {
  return do_action(L, CT_CH_JOB_MIGRATE, 1);
}
static int s_job_cancel(lua_State *L) {
  return do_action(L, CT_CH_JOB_CANCEL, 2);
}

/* s:task_create(tenant, key, byname, body, seedform) */
static int s_task_create(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_arena a;
  const ct_jval *body;
  ct_task *t = NULL;
  ct_job *j = lct_job_arg(L, b->s, 2, &e);
  if (j == NULL) return lct_push_err(L, &e);
  ct_arena_init(&a);
  body = lct_body_arg(L, 5, &a, &e);
  if (body != NULL) {
    ct_change op;
    ct_change_result r;
    job_op(L, CT_CH_TASK_CREATE, &op);
    op.body = body;
    if (lct_run(L, b, &op, &r, &e) == 0) {
      t = r.task;
      j = r.job;
    }
  }
  ct_arena_free(&a);
  if (t == NULL) return lct_push_err(L, &e);
  lct_push_task(L, t, lua_toboolean(L, 6), 5);
  set_guid(L, "@job", &j->id);        /* for the Lua layer's context */
  return 1;
}

static ct_task *task_arg(lua_State *L, box *b, ct_job **jp, ct_err *e) {
  size_t n;
  const char *key;
  ct_job *j = lct_job_arg(L, b->s, 2, e);
  *jp = j;
  if (j == NULL) return NULL;
  key = luaL_checklstring(L, 5, &n);
  return ct_task_find(j, key, n, e);
}

/* s:task_get(tenant, key, byname, taskkey) */
static int s_task_get(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_job *j;
  ct_task *t = task_arg(L, b, &j, &e);
  if (t == NULL) return lct_push_err(L, &e);
  lct_push_task(L, t, 0, 0);
  set_guid(L, "@job", &j->id);
  return 1;
}

/* s:task_cancel(tenant, key, byname, taskkey) */
static int s_task_cancel(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  ct_change op;
  ct_change_result r;
  char uid[37], jid[37];
  job_op(L, CT_CH_TASK_CANCEL, &op);
  op.task = luaL_checklstring(L, 5, &op.tasklen);
  if (lct_run(L, b, &op, &r, &e) != 0) return lct_push_err(L, &e);
  ct_guid_format(&r.task->id, uid);
  ct_guid_format(&r.job->id, jid);
  lua_createtable(L, 0, 2);
  set_str(L, "status", "Accepted");
  lua_pushfstring(L, "Cancellation request for user id: %s from batch: %s "
                  "was accepted.", uid, jid);
  lua_setfield(L, -2, "message");
  return 1;
}

/* the recorded events as a table of tables; empties the buffer */
static void push_events(lua_State *L, box *b) {
  size_t i;
  lua_createtable(L, (int)b->nev, 0);
  for (i = 0; i < b->nev; i++) {
    const event *ev = &b->ev[i];
    lua_createtable(L, 0, 7);
    set_str(L, "type", ev->kind ? "task" : "job");
    set_guid(L, "job", &ev->job);
    set_time(L, "time", ev->time, (ev->time % CT_TICKS_PER_SEC) ? 7 : 0);
    if (ev->kind) {
      set_guid(L, "user", &ev->user);
      set_str(L, "service", ct_service_name(ev->service));
      set_str(L, "old", ct_svc_status_name(ev->old));
      set_str(L, "new", ct_svc_status_name(ev->new_));
    } else {
      set_str(L, "old", ct_job_status_name(ev->old));
      set_str(L, "new", ct_job_status_name(ev->new_));
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  b->nev = 0;
  if (b->capev > 4096) {      /* do not hold a big buffer between calls */
    free(b->ev);
    b->ev = NULL;
    b->capev = 0;
  }
}

/* events are recorded while someone wants them: during an advance that
   returns them, and always while observers are registered */
static void hooks(box *b, int on) {
  b->s->on_job = on ? on_job : NULL;
  b->s->on_task = on ? on_task : NULL;
}

/* s:advance(until_ticks, want_events) -> events | count of transitions */
static int s_advance(lua_State *L) {
  box *b = lct_checkbox(L);
  lua_Integer until = luaL_checkinteger(L, 2);
  int want = lua_toboolean(L, 3);
  uint64_t before = b->s->ntransitions;
  ct_change op;
  ct_err e;
  memset(&op, 0, sizeof op);
  op.kind = CT_CH_ADVANCE;
  op.until = (int64_t)until;
  hooks(b, want || b->record);
  lct_run(L, b, &op, NULL, &e);          /* an advance is never refused */
  hooks(b, b->record);
  if (!want) {
    lua_pushinteger(L, (lua_Integer)(b->s->ntransitions - before));
    return 1;
  }
  push_events(L, b);
  return 1;
}

/* s:take_events() -> the events recorded since the last take */
static int s_take_events(lua_State *L) {
  box *b = lct_checkbox(L);
  push_events(L, b);
  return 1;
}

/* s:record(on): record the events of every change, not only advances */
static int s_record(lua_State *L) {
  box *b = lct_checkbox(L);
  b->record = lua_toboolean(L, 2);
  if (!b->record) b->nev = 0;
  hooks(b, b->record);
  return 0;
}

static int s_now(lua_State *L) {
  box *b = lct_checkbox(L);
  lua_pushinteger(L, (lua_Integer)b->s->now);
  return 1;
}

static int s_next_due(lua_State *L) {
  box *b = lct_checkbox(L);
  int64_t d = ct_store_next_due(b->s);
  if (d < 0) lua_pushnil(L);
  else lua_pushinteger(L, (lua_Integer)d);
  return 1;
}

static int s_request_id(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_guid g;
  char s[37];
  ct_store_request_id(b->s, &g);
  ct_guid_format(&g, s);
  lua_pushlstring(L, s, 36);
  return 1;
}

/* s:fail(user, service, phase, status, code, message) */
static int s_fail(lua_State *L) {
  static const char *const phases[] = { "validate", "migrate", NULL };
  box *b = lct_checkbox(L);
  size_t n;
  const char *u = luaL_checklstring(L, 2, &n);
  const char *svc, *st, *code, *msg;
  size_t ns, nt, ncode, nmsg;
  int service, status, phase;
  ct_guid g;
  ct_err e;
  if (ct_guid_parse(u, n, &g) != 0)
    return luaL_argerror(L, 2, "user must be a GUID");
  svc = luaL_checklstring(L, 3, &ns);
  service = ct_service_find(svc, ns);
  if (service < 0) {              /* the names from the core's one list */
    char text[80];
    ct_msg m;
    int i;
    ct_msg_init(&m, text, sizeof text);
    ct_msg_addf(&m, "service must be ");
    for (i = 0; i < CT_SVC__COUNT; i++)
      ct_msg_addf(&m, "%s%s", i == 0 ? "" : i < CT_SVC__COUNT - 1 ? ", "
                                                                 : " or ",
                  ct_service_name(i));
    return luaL_argerror(L, 3, text);
  }
  phase = luaL_checkoption(L, 4, NULL, phases);
  st = luaL_checklstring(L, 5, &nt);
  status = ct_svc_status_find(st, nt);
  if (phase == CT_PHASE_VALIDATE ? (status != CT_SS_INVALID &&
                                    status != CT_SS_ERROR)
                                 : (status != CT_SS_FAILED &&
                                    status != CT_SS_ERROR))
    return luaL_argerror(L, 5, phase == CT_PHASE_VALIDATE
                                 ? "status must be invalid or error"
                                 : "status must be failed or error");
  code = luaL_checklstring(L, 6, &ncode);
  msg = luaL_checklstring(L, 7, &nmsg);
  {
    ct_change op;
    memset(&op, 0, sizeof op);
    op.kind = CT_CH_FAIL;
    op.user = g;
    op.service = service;
    op.phase = phase;
    op.status = status;
    op.code = code;
    op.ncode = ncode;
    op.message = msg;
    op.nmessage = nmsg;
    if (lct_run(L, b, &op, NULL, &e) != 0) return lct_push_err(L, &e);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* the scripted outcomes not applied yet, in script order, as tables
   with graph:fail's fields */
static int s_pending_outcomes(lua_State *L) {
  static const char *const phases[] = { "validate", "migrate" };
  box *b = lct_checkbox(L);
  size_t i, n = ct_store_faults(b->s, NULL, 0);
  ct_fault_info *f = NULL;
  if (n > 0) {
    f = lua_newuserdatauv(L, n * sizeof *f, 0);   /* the GC frees it */
    ct_store_faults(b->s, f, n);
  }
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 6);
    set_guid(L, "user", &f[i].user);
    set_str(L, "service", ct_service_name(f[i].service));
    set_str(L, "phase", phases[f[i].phase]);
    set_str(L, "status", ct_svc_status_name(f[i].status));
    set_lstr(L, "code", &f[i].code);
    set_lstr(L, "message", &f[i].message);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int s_stats(lua_State *L) {
  box *b = lct_checkbox(L);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)b->s->ntasks_total);
  lua_setfield(L, -2, "tasks");
  lua_pushinteger(L, (lua_Integer)b->s->tenants.count);
  lua_setfield(L, -2, "tenants");
  return 1;
}

/* ---------- small pure helpers for the Lua layer ---------- */

static int core_time_parse(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ct_time t;
  const char *why = "invalid format";
  if (ct_time_parse(s, n, &t, &why) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)t.ticks);
  lua_pushinteger(L, t.digits);
  return 2;
}

static int core_time_format(lua_State *L) {
  ct_time t;
  char s[29];
  size_t n;
  t.ticks = (int64_t)luaL_checkinteger(L, 1);
  t.digits = (int)luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, t.digits >= 0 && t.digits <= 7, 2, "0 to 7 digits");
  n = ct_time_format(&t, s);
  lua_pushlstring(L, s, n);
  return 1;
}

static int core_duration_parse(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int64_t ticks;
  if (ct_duration_parse(s, n, &ticks) != 0) return 0;
  lua_pushinteger(L, (lua_Integer)ticks);
  return 1;
}

/* a GUID in its stored form (lowercase), or nil */
static int core_guid(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ct_guid g;
  char out[37];
  if (ct_guid_parse(s, n, &g) != 0) return 0;
  ct_guid_format(&g, out);
  lua_pushlstring(L, out, 36);
  return 1;
}

static int core_utf8_valid(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushboolean(L, ct_utf8_valid(s, n));
  return 1;
}

/* parse JSON text into Lua values (for tokens): value | nil, message */
static void to_lua(lua_State *L, const ct_jval *v) {
  size_t i;
  luaL_checkstack(L, 3, NULL);
  switch (v->kind) {
    case CT_JNULL: lua_pushlightuserdata(L, NULL); break;
    case CT_JFALSE: lua_pushboolean(L, 0); break;
    case CT_JTRUE: lua_pushboolean(L, 1); break;
    case CT_JINT: lua_pushinteger(L, (lua_Integer)v->u.i); break;
    case CT_JNUM: lua_pushnumber(L, v->u.d); break;
    case CT_JSTR: lua_pushlstring(L, v->u.s, v->len); break;
    case CT_JARR:
      lua_createtable(L, (int)v->len, 0);
      for (i = 0; i < v->len; i++) {
        to_lua(L, &v->u.items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      break;
    case CT_JOBJ:
      lua_createtable(L, 0, (int)v->len);
      for (i = 0; i < v->len; i++) {
        lua_pushlstring(L, v->u.items[i].key, v->u.items[i].keylen);
        to_lua(L, &v->u.items[i]);
        lua_rawset(L, -3);
      }
      break;
    default:
      lua_newtable(L);
  }
}

static int arena_gc(lua_State *L) {
  ct_arena_free((ct_arena *)lua_touserdata(L, 1));
  return 0;
}

static int core_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  ct_arena *a = (ct_arena *)lua_newuserdatauv(L, sizeof *a, 0);
  ct_jval *v;
  ct_jerr je;
  ct_arena_init(a);
  luaL_setmetatable(L, "crosstenant.arena");
  if (ct_json_parse(a, s, n, &v, &je) != 0) {
    ct_arena_free(a);
    lua_pushnil(L);
    lua_pushstring(L, je.message);
    lua_pushinteger(L, je.status);
    return 3;
  }
  to_lua(L, v);
  ct_arena_free(a);
  return 1;
}

static const luaL_Reg store_methods[] = {
  { "advance", s_advance },
  { "fail", s_fail },
  { "job_cancel", s_job_cancel },
  { "job_create", s_job_create },
  { "job_delete", s_job_delete },
  { "job_get", s_job_get },
  { "job_migrate", s_job_migrate },
  { "job_update", s_job_update },
  { "job_validate", s_job_validate },
  { "next_due", s_next_due },
  { "now", s_now },
  { "pending_outcomes", s_pending_outcomes },
  { "record", s_record },
  { "request_id", s_request_id },
  { "stats", s_stats },
  { "task_cancel", s_task_cancel },
  { "task_create", s_task_create },
  { "take_events", s_take_events },
  { "task_get", s_task_get },
  { NULL, NULL }
};

/*
** stdout_to_stderr() -> saved descriptor, or nil: points descriptor 1 at
** descriptor 2 (flushing C's stdout first), so child processes and C code
** write to stderr too; stdout_restore(saved) undoes it.  For the command's
** --json and --quiet, where stdout must hold the report alone.
*/
static int core_stdout_to_stderr(lua_State *L) {
  int saved;
  fflush(stdout);
  saved = dup(1);
  if (saved < 0) return 0;
  if (dup2(2, 1) < 0) {
    close(saved);
    return 0;
  }
  lua_pushinteger(L, saved);
  return 1;
}

static int core_stdout_restore(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd > 2 && fd <= 1048576, 1, "not a saved descriptor");
  fflush(stdout);
  lua_pushboolean(L, dup2((int)fd, 1) >= 0);
  close((int)fd);
  return 1;
}

/* mkdir(2) of `p`, or 0 when it is a directory already; else errno */
static int make_one(const char *p) {
  struct stat st;
  int e;
  if (mkdir(p, 0777) == 0) return 0;
  e = errno;
  if (stat(p, &st) == 0) return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  return e;
}

/*
** mkdir(path) -> true, or nil + the system's reason ("Not a directory",
** "Permission denied"): makes the directory `path` and the missing ones
** above it (mode 0777 less the umask), as `mkdir -p` does but without a
** child process writing its own message.  An existing directory is
** true; an existing file of another kind is "Not a directory".
*/
static int core_mkdir(lua_State *L) {
  size_t n, i;
  const char *path = luaL_checklstring(L, 1, &n);
  char *p;
  int e = 0;
  luaL_argcheck(L, n > 0 && strlen(path) == n, 1,
                "not a path (empty, or with a zero byte)");
  p = (char *)lua_newuserdatauv(L, n + 1, 0);
  memcpy(p, path, n + 1);
  for (i = 1; i <= n && e == 0; i++) {
    if (i < n && p[i] != '/') continue;
    if (i < n && p[i - 1] == '/') continue;      /* "a//b" */
    p[i] = '\0';
    e = make_one(p);
    p[i] = path[i];
  }
  if (e != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, strerror(e));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg core_funcs[] = {
  { "decode", core_decode },
  { "duration_parse", core_duration_parse },
  { "guid", core_guid },
  { "mkdir", core_mkdir },
  { "new", core_new },
  { "stdout_restore", core_stdout_restore },
  { "stdout_to_stderr", core_stdout_to_stderr },
  { "time_format", core_time_format },
  { "time_parse", core_time_parse },
  { "utf8_valid", core_utf8_valid },
  { NULL, NULL }
};

int luaopen_crosstenant_core(lua_State *L);
int luaopen_crosstenant_core(lua_State *L) {
  luaL_checkversion(L);
  open_strings(L);
  if (luaL_newmetatable(L, STORE)) {
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &store_mt_key);
    luaL_newlib(L, store_methods);
    lct_query_open(L, 1);          /* the query functions, as methods */
    lct_fault_open(L);             /* throttling and transient faults */
    lct_request_open(L);           /* the request path, as methods */
    lct_state_open(L, 1);          /* snapshots and files, as methods */
    lua_pushboolean(L, 1);         /* close: fold the journal first */
    lua_pushcclosure(L, store_close, 1);
    lua_setfield(L, -2, "close");
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);            /* no fold when collected */
    lua_pushcclosure(L, store_close, 1);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 1);
    lua_pushcclosure(L, store_close, 1);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, "crosstenant.arena")) {
    lua_pushcfunction(L, arena_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, core_funcs);
  lct_encode_open(L);             /* encode, with its own state */
  lct_query_open(L, 0);
  lct_state_open(L, 0);
  lct_schema_open(L);             /* the lists of Graph's names */
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
