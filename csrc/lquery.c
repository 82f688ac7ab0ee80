/*
** lquery.c -- OData query options for crosstenant.core: the pages of
** jobs and tasks that $filter, $orderby, $skip, $top and $skiptoken
** select.  The Lua layer reads the query string and shapes the body
** ($select, $expand, @odata.*); everything about matching, order and
** cursors is in ct_query.c.
*/
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#include "ct_query.h"
#include "lcore.h"

/* the options table at idx: filter, orderby, token, skip, top, count */
typedef struct qopts {
  const char *filter, *orderby, *token;
  size_t nfilter, norderby, ntoken;
  lua_Integer skip, top;
  int count;
} qopts;

static const char *opt_str(lua_State *L, int idx, const char *k,
                           size_t *n) {
  const char *s;
  lua_getfield(L, idx, k);
  s = lua_isnil(L, -1) ? NULL : luaL_checklstring(L, -1, n);
  lua_pop(L, 1);          /* the string stays anchored in the table */
  return s;
}

static void read_opts(lua_State *L, int idx, qopts *o) {
  luaL_checktype(L, idx, LUA_TTABLE);
  o->filter = opt_str(L, idx, "filter", &o->nfilter);
  o->orderby = opt_str(L, idx, "orderby", &o->norderby);
  o->token = opt_str(L, idx, "token", &o->ntoken);
  lua_getfield(L, idx, "skip");
  o->skip = luaL_optinteger(L, -1, 0);
  lua_getfield(L, idx, "top");
  o->top = luaL_optinteger(L, -1, 20);
  lua_getfield(L, idx, "count");
  o->count = lua_toboolean(L, -1);
  lua_pop(L, 3);
  luaL_argcheck(L, o->skip >= 0, idx, "skip out of range");
  luaL_argcheck(L, o->top >= 0 && o->top <= 100000, idx,
                "top out of range");
}

/* a $skiptoken holding a NUL is no token of ours: refuse it whole
   rather than read it cut at the NUL */
static int token_cut(const qopts *o, ct_err *e) {
  if (o->token == NULL || memchr(o->token, 0, o->ntoken) == NULL) return 0;
  ct_query_bad_token(o->token, o->ntoken, e);
  return 1;
}

/* the query and the output buffers live in one userdata so that an
   error raised while pushing results frees them */
typedef struct qstate {
  ct_query *q;
  ct_buf next;
  void *out;
} qstate;

static int qstate_gc(lua_State *L) {
  qstate *st = (qstate *)lua_touserdata(L, 1);
  ct_query_free(st->q);
  st->q = NULL;
  ct_buf_free(&st->next);
  free(st->out);
  st->out = NULL;
  return 0;
}

static qstate *new_state(lua_State *L) {
  qstate *st = (qstate *)lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  ct_buf_init(&st->next);
  if (luaL_newmetatable(L, "crosstenant.query")) {
    lua_pushcfunction(L, qstate_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return st;
}

static void push_next(lua_State *L, qstate *st) {
  if (st->next.len > 0 && !st->next.oom)
    lua_pushlstring(L, st->next.p, st->next.len);
  else
    lua_pushnil(L);
}

/* s:query_jobs(tenant, opts) -> jobs, next|nil, count|nil */
static int s_query_jobs(lua_State *L) {
  box *b = lct_checkbox(L);
  size_t n;
  const char *tid = luaL_checklstring(L, 2, &n);
  ct_guid g;
  ct_err e;
  qopts o;
  qstate *st;
  uintptr_t v;
  ct_tenant *t = NULL;
  size_t count = 0;
  long k, i;
  if (ct_guid_parse(tid, n, &g) != 0)
    return luaL_argerror(L, 2, "tenant must be a GUID");
  read_opts(L, 3, &o);
  if (token_cut(&o, &e)) return lct_push_err(L, &e);
  st = new_state(L);
  st->q = ct_query_new(CT_Q_JOBS, o.filter, o.nfilter, o.orderby,
                       o.norderby, &e);
  if (st->q == NULL) return lct_push_err(L, &e);
  if (ct_gmap_get(&b->s->tenants, &g, &v)) t = (ct_tenant *)v;
  st->out = malloc(((size_t)o.top + 1) * sizeof(size_t));
  if (st->out == NULL) return luaL_error(L, "not enough memory");
  k = ct_query_jobs(st->q, t ? t->jobs : NULL, t ? t->njobs : 0, o.token,
                    (size_t)o.skip, (size_t)o.top, (size_t *)st->out,
                    &st->next, o.count ? &count : NULL, &e);
  if (k < 0) return lct_push_err(L, &e);
  lua_createtable(L, (int)k, 0);
  for (i = 0; i < k; i++) {
    lct_push_job(L, t->jobs[((size_t *)st->out)[i]]);
    lua_rawseti(L, -2, i + 1);
  }
  push_next(L, st);
  if (o.count) lua_pushinteger(L, (lua_Integer)count);
  else lua_pushnil(L);
  return 3;
}

/* s:query_tasks(tenant, key, byname, opts) -> tasks, next|nil,
   count|nil, jobid */
static int s_query_tasks(lua_State *L) {
  box *b = lct_checkbox(L);
  ct_err e;
  qopts o;
  qstate *st;
  size_t count = 0;
  long k, i;
  char jid[37];
  ct_job *j = lct_job_arg(L, b->s, 2, &e);
  read_opts(L, 5, &o);
  if (j == NULL || token_cut(&o, &e)) return lct_push_err(L, &e);
  st = new_state(L);
  st->q = ct_query_new(CT_Q_TASKS, o.filter, o.nfilter, o.orderby,
                       o.norderby, &e);
  if (st->q == NULL) return lct_push_err(L, &e);
  st->out = malloc(((size_t)o.top + 1) * sizeof(size_t));
  if (st->out == NULL) return luaL_error(L, "not enough memory");
  k = ct_query_tasks(st->q, j, o.token, (size_t)o.skip, (size_t)o.top,
                     (size_t *)st->out, &st->next,
                     o.count ? &count : NULL, &e);
  if (k < 0) return lct_push_err(L, &e);
  lua_createtable(L, (int)k, 0);
  for (i = 0; i < k; i++) {
    lct_push_task(L, &j->tasks[((size_t *)st->out)[i]], 0, 0);
    lua_rawseti(L, -2, i + 1);
  }
  push_next(L, st);
  if (o.count) lua_pushinteger(L, (lua_Integer)count);
  else lua_pushnil(L);
  ct_guid_format(&j->id, jid);
  lua_pushlstring(L, jid, 36);
  return 4;
}

static const luaL_Reg query_methods[] = {
  { "query_jobs", s_query_jobs },
  { "query_tasks", s_query_tasks },
  { NULL, NULL }
};

void lct_query_open(lua_State *L, int methods) {
  if (methods) luaL_setfuncs(L, query_methods, 0);
}
