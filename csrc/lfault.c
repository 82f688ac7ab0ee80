/*
** lfault.c -- the store methods for throttling and transient faults
** (ct_fault.h): scripted rules, rates, the budget, and the decision the
** request path asks for.  The Lua layer (init.lua) checks arguments and
** words the errors; a value that reaches here out of range still raises.
*/
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_fault.h"
#include "ct_store.h"

#include "lcore.h"

/* s:fault_add(status, retry_after, times, method|nil, path|nil) */
static int s_fault_add(lua_State *L) {
  box *b = lct_checkbox(L);
  int status = (int)luaL_checkinteger(L, 2);
  int retry = (int)luaL_checkinteger(L, 3);
  int64_t times = (int64_t)luaL_checkinteger(L, 4);
  const char *method = luaL_optstring(L, 5, NULL);
  size_t n = 0;
  const char *path = luaL_optlstring(L, 6, NULL, &n);
  ct_change op;
  ct_err e;
  memset(&op, 0, sizeof op);
  op.kind = CT_CH_FAULT_ADD;      /* through lct_run: a store file keeps it */
  op.status = status;
  op.retry_after = retry;
  op.times = times;
  op.method = method;
  op.path = path;
  op.pathlen = n;
  if (lct_run(L, b, &op, NULL, &e) != 0) {
    if (e.status == 500) return luaL_error(L, "not enough memory");
    return luaL_error(L, "fault_add: a value is out of range");
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* s:fault_rates(rate429, rate503, rate504, retry_after) */
static int s_fault_rates(lua_State *L) {
  box *b = lct_checkbox(L);
  double r[CT_FAULT__COUNT];
  int i;
  for (i = 0; i < CT_FAULT__COUNT; i++) r[i] = luaL_checknumber(L, 2 + i);
  if (ct_fault_set_rates(&b->s->faultstate, r,
                         (int)luaL_checkinteger(L, 5)) != 0)
    return luaL_error(L, "fault_rates: a value is out of range");
  return 0;
}

/* s:fault_budget(requests, per_seconds); requests 0 removes it */
static int s_fault_budget(lua_State *L) {
  box *b = lct_checkbox(L);
  if (ct_fault_set_budget(&b->s->faultstate,
                          (int64_t)luaL_checkinteger(L, 2),
                          luaL_optnumber(L, 3, 0)) != 0)
    return luaL_error(L, "fault_budget: a value is out of range");
  return 0;
}

static int s_fault_armed(lua_State *L) {
  box *b = lct_checkbox(L);
  lua_pushboolean(L, ct_fault_armed(&b->s->faultstate));
  return 1;
}

/*
** s:fault_decide(method, path|nil, caller[, now]) -> nil when the request
** goes on, else status, retry_after, code, inner|nil, message.  `now` is
** in ticks and defaults to the model clock.
*/
static int s_fault_decide(lua_State *L) {
  box *b = lct_checkbox(L);
  const char *method = luaL_checkstring(L, 2);
  size_t np = 0, nc;
  const char *path = luaL_optlstring(L, 3, NULL, &np);
  const char *caller = luaL_checklstring(L, 4, &nc);
  int64_t now = (int64_t)luaL_optinteger(L, 5, (lua_Integer)b->s->now);
  ct_fault_answer a;
  if (ct_fault_decide(&b->s->faultstate, now, method, path, np, caller, nc,
                      &a) == 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushinteger(L, a.status);
  lua_pushinteger(L, a.retry_after);
  lua_pushstring(L, a.code);
  if (a.inner != NULL) lua_pushstring(L, a.inner);
  else lua_pushnil(L);
  lua_pushstring(L, a.message);
  return 5;
}

/* s:fault_list(): the scripted rules not yet used up, oldest first */
static int s_fault_list(lua_State *L) {
  box *b = lct_checkbox(L);
  const ct_fault_state *f = &b->s->faultstate;
  size_t i;
  lua_createtable(L, (int)f->nrules, 0);
  for (i = 0; i < f->nrules; i++) {
    const ct_fault_rule *r = &f->rules[i];
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, r->retry_after);
    lua_setfield(L, -2, "retry_after");
    lua_pushinteger(L, (lua_Integer)r->times);
    lua_setfield(L, -2, "times");
    if (r->method[0] != '\0') {
      lua_pushstring(L, r->method);
      lua_setfield(L, -2, "method");
    }
    if (r->path != NULL) {
      lua_pushlstring(L, r->path, r->pathlen);
      lua_setfield(L, -2, "path");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* s:fault_counts(): { [429] = n, [503] = n, [504] = n } refused so far */
static int s_fault_counts(lua_State *L) {
  static const int status[CT_FAULT__COUNT] = { 429, 503, 504 };
  box *b = lct_checkbox(L);
  int i;
  lua_createtable(L, 0, CT_FAULT__COUNT);
  for (i = 0; i < CT_FAULT__COUNT; i++) {
    lua_pushinteger(L, (lua_Integer)b->s->faultstate.refused[i]);
    lua_rawseti(L, -2, status[i]);
  }
  return 1;
}

static const luaL_Reg fault_methods[] = {
  { "fault_add", s_fault_add },
  { "fault_armed", s_fault_armed },
  { "fault_budget", s_fault_budget },
  { "fault_counts", s_fault_counts },
  { "fault_decide", s_fault_decide },
  { "fault_list", s_fault_list },
  { "fault_rates", s_fault_rates },
  { NULL, NULL }
};

void lct_fault_open(lua_State *L) {
  luaL_setfuncs(L, fault_methods, 0);
}
