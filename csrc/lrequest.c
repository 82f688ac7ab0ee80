/*
** lrequest.c -- crosstenant.core's face of the request path
** (ct_request.h): store methods that answer one Graph request with the
** body as Lua tables built from the core's records (`request`) or as
** the JSON text the core writes (`request_text`).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"

#include "ct_fault.h"
#include "ct_request.h"
#include "ct_schema.h"
#include "ct_serve.h"
#include "ct_util.h"
#include "lcore.h"

/*
** Everything one call holds.  The store's box keeps one and reuses it
** from call to call (no allocation, no finalizer per request).  It is
** busy while a call reads from it; a call that starts meanwhile (from
** a finalizer the collector runs during the first) gets a fresh one in
** a userdata instead.  A call cut short by a raise (out of memory) leaves
** the box's busy: later calls take fresh ones, and the store's close
** frees it.
*/
typedef struct lct_call {
  ct_arena a;
  ct_http_response res;
  ct_err body_err;
  int busy;
  int own;                 /* 1: the box's; 0: a userdata's */
} call;

/* the end of a call: the arena empties (its first chunk kept), the
   response's buffers stay */
static void call_end(call *c) {
  ct_arena_reset(&c->a);
  c->busy = 0;
}

static int call_gc(lua_State *L) {
  call *c = (call *)lua_touserdata(L, 1);
  ct_arena_free(&c->a);
  ct_http_response_free(&c->res);
  return 0;
}

void lct_request_close(box *b) {
  if (b->call != NULL) {
    ct_arena_free(&b->call->a);
    ct_http_response_free(&b->call->res);
    free(b->call);
    b->call = NULL;
  }
}

static call *new_call(lua_State *L, box *b) {
  call *c = b->call;
  if (c == NULL) {
    c = b->call = (call *)calloc(1, sizeof *c);
    if (c == NULL) luaL_error(L, "not enough memory");
    ct_arena_init(&c->a);
    ct_http_response_init(&c->res);
    c->own = 1;
  }
  if (c->busy) {                    /* nested: a call of its own */
    c = (call *)lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    ct_arena_init(&c->a);
    ct_http_response_init(&c->res);
    if (luaL_newmetatable(L, "crosstenant.call")) {
      lua_pushcfunction(L, call_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);        /* stays on the stack: anchored */
  } else {
    ct_arena_reset(&c->a);
    /* the response: ct_request_run and ct_request_op reset it (its
       buffers keep their memory) */
  }
  c->busy = 1;
  return c;
}

/* the headers table at idx: raises unless names are strings and values
   strings or numbers */
static void check_headers(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int t = lua_type(L, -1);
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "bad argument #4 to 'request' (header names must be "
                 "strings)");
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
      luaL_error(L, "bad argument #4 to 'request' (header '%s' must be a "
                 "string)", lua_tostring(L, -2));
    lua_pop(L, 1);
  }
}

/* the headers table at idx as an array in the arena; names and values
   stay anchored by the table (numbers are copied as text) */
static ct_http_header *read_headers(lua_State *L, int idx, call *c,
                                    size_t *n) {
  size_t cap = 0, k = 0;
  ct_http_header *h;
  *n = 0;
  if (lua_isnoneornil(L, idx)) return NULL;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    cap++;
    lua_pop(L, 1);
  }
  h = cap ? ct_arena_alloc(&c->a, cap * sizeof *h) : NULL;
  if (cap && h == NULL) luaL_error(L, "not enough memory");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "bad argument #4 to 'request' (header names must be "
                 "strings)");
    h[k].name = lua_tolstring(L, -2, &h[k].name_len);
    if (lua_type(L, -1) == LUA_TSTRING) {
      h[k].value = lua_tolstring(L, -1, &h[k].value_len);
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      size_t vn;
      const char *v = lua_tolstring(L, -1, &vn);   /* converts the copy */
      char *d = ct_arena_alloc(&c->a, vn + 1);
      if (d == NULL) luaL_error(L, "not enough memory");
      memcpy(d, v, vn + 1);
      h[k].value = d;
      h[k].value_len = vn;
    } else {
      luaL_error(L, "bad argument #4 to 'request' (header '%s' must be a "
                 "string)", h[k].name);
    }
    k++;
    lua_pop(L, 1);
  }
  *n = k;
  return h;
}

/* the tenant GUID text (s, n) of an argument, parsed once for the calls that
   pass the same tenant again (the store's default); 0, or -1 when it is
   no GUID */
static int tenant_arg(box *b, const char *s, size_t n, ct_guid *out) {
  if (b->has_tenant && n == 36 && memcmp(s, b->tenant_text, 36) == 0) {
    *out = b->tenant;
    return 0;
  }
  if (ct_guid_parse(s, n, out) != 0) return -1;
  memcpy(b->tenant_text, s, 36);
  b->tenant = *out;
  b->has_tenant = 1;
  return 0;
}

/*
** Arguments of s:request and s:request_text: (method, url, body,
** headers, tenant, upn, base, fault_now, no_faults, head_as_get).
** tenant nil: a token is required; base nil: https://graph.microsoft.com;
** fault_now nil: faults decide on the model clock; no_faults: never
** refused; head_as_get: HEAD is routed as GET (the server's Lua path).
*/
static call *answer(lua_State *L, box *b) {
  ct_http_request req;
  ct_caller dflt;
  call *c;
  size_t tn;
  const char *tenant;
  memset(&req, 0, sizeof req);
  req.method = luaL_checklstring(L, 2, &req.method_len);
  req.target = luaL_checklstring(L, 3, &req.target_len);
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TTABLE);
  tenant = luaL_optlstring(L, 6, NULL, &tn);
  if (tenant != NULL) {
    if (tenant_arg(b, tenant, tn, &dflt.tenant) != 0)
      luaL_argerror(L, 6, "tenant must be a GUID");
    dflt.upn = luaL_optlstring(L, 7, "", &dflt.nupn);
    req.default_caller = &dflt;
  }
  req.base_url = luaL_optstring(L, 8, NULL);
  if (!lua_isnoneornil(L, 9)) {
    req.has_fault_now = 1;
    req.fault_now = (int64_t)luaL_checkinteger(L, 9);
  }
  req.no_faults = lua_toboolean(L, 10);
  req.head_as_get = lua_toboolean(L, 11);
  if (!lua_isnoneornil(L, 4) && lua_type(L, 4) != LUA_TSTRING &&
      !lua_istable(L, 4))
    luaL_typeerror(L, 4, "string, table or nil");
  check_headers(L, 5);              /* every raise before new_call */
  c = new_call(L, b);
  req.scratch = &c->a;
  req.headers = read_headers(L, 5, c, &req.nheaders);
  switch (lua_type(L, 4)) {
    case LUA_TNONE:
    case LUA_TNIL:
      req.body_kind = CT_BODY_NONE;
      break;
    case LUA_TSTRING:
      req.body_kind = CT_BODY_TEXT;
      req.body = lua_tolstring(L, 4, &req.body_len);
      break;
    case LUA_TTABLE:
      req.body_kind = CT_BODY_TREE;
      req.body_tree = lct_body_arg(L, 4, &c->a, &c->body_err);
      req.body_err = &c->body_err;
      break;
    default:
      luaL_typeerror(L, 4, "string, table or nil");
  }
  if (ct_request_run(b->s, &req, &c->res) < 0)
    luaL_error(L, "not enough memory");
  lct_journal_check(L, b);        /* a store file that failed raises */
  return c;
}

static void set_lstr(lua_State *L, const char *k, const char *v, size_t n) {
  lua_pushlstring(L, v, n);
  lua_setfield(L, -2, k);
}

/* the headers, their names (and application/json) interned once */
static void push_headers(lua_State *L, const ct_http_response *res) {
  int strs = lct_strings(L);
  lua_createtable(L, 0, 4);
  lua_rawgeti(L, strs, LCT_S_REQUEST_ID);
  lua_pushlstring(L, res->request_id, 36);
  lua_rawgeti(L, strs, LCT_S_CLIENT_REQUEST_ID);
  if (res->client_request_id.len == 36 &&
      memcmp(res->client_request_id.p, res->request_id, 36) == 0)
    lua_pushvalue(L, -2);            /* none was sent: the same string */
  else
    lua_pushlstring(L, res->client_request_id.p
                       ? res->client_request_id.p : "",
                    res->client_request_id.len);
  lua_rawset(L, -5);
  lua_rawset(L, -3);
  if (res->content_type != NULL) {
    lua_rawgeti(L, strs, LCT_S_CONTENT_TYPE);
    if (strcmp(res->content_type, "application/json") == 0)
      lua_rawgeti(L, strs, LCT_S_APP_JSON);
    else
      lua_pushstring(L, res->content_type);
    lua_rawset(L, -3);
  }
  if (res->location.len > 0) {
    lua_rawgeti(L, strs, LCT_S_LOCATION);
    lua_pushlstring(L, res->location.p, res->location.len);
    lua_rawset(L, -3);
  }
  lua_remove(L, strs);
  if (res->retry_after > 0) {
    lua_pushfstring(L, "%d", res->retry_after);
    lua_setfield(L, -2, "Retry-After");
  }
  if (res->allow != NULL) {
    lua_pushstring(L, res->allow);
    lua_setfield(L, -2, "Allow");
  }
}

/* drop the properties $select left out of the table on the top */
static void unselect(lua_State *L, const ct_type *t, size_t nprops,
                     uint32_t select) {
  size_t i;
  if (select == 0) return;
  for (i = 1; i < nprops; i++) {
    if (select & (1u << i)) continue;
    lua_pushnil(L);
    lua_setfield(L, -2, t->props[i].name);
  }
}

static void push_job(lua_State *L, const ct_job *j, uint32_t select,
                     int expand) {
  size_t i;
  lct_push_job(L, j);
  unselect(L, &ct_type_job, ct_type_job.nprops - 1, select);
  if (expand) {
    lua_createtable(L, (int)j->ntasks, 0);
    for (i = 0; i < j->ntasks; i++) {
      lct_push_task(L, &j->tasks[i], 0, 0);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "users");
  }
}

static void push_context(lua_State *L, const ct_buf *b) {
  int strs;
  if (b->len == 0) return;
  strs = lct_strings(L);
  lua_rawgeti(L, strs, LCT_S_ODATA_CONTEXT);
  lct_push_text(L, strs, b->p, b->len);    /* the same for a job's tasks */
  lua_rawset(L, -4);
  lua_pop(L, 1);
}

/* the body of a response; `props` (a stack index, 0: none) is the table
   a created task was made from (lct_push_task) */
static void push_body(lua_State *L, const ct_result *r, int props) {
  size_t i;
  switch (r->shape) {
    case CT_R_TEXT: {
      char s[24];
      int n = snprintf(s, sizeof s, "%lu", (unsigned long)r->count);
      lua_pushlstring(L, s, (size_t)n);
      return;
    }
    case CT_R_ERROR:
      lua_createtable(L, 0, 1);
      lua_createtable(L, 0, 3);
      lua_pushstring(L, r->code);
      lua_setfield(L, -2, "code");
      set_lstr(L, "message", r->message.p ? r->message.p : "",
               r->message.len);
      lua_createtable(L, 0, 4);
      lua_pushstring(L, r->date);
      lua_setfield(L, -2, "date");
      set_lstr(L, "request-id", r->request_id, 36);
      set_lstr(L, "client-request-id", r->client_request_id.p
                                       ? r->client_request_id.p : "",
               r->client_request_id.len);
      if (r->inner != NULL) {
        lua_pushstring(L, r->inner);
        lua_setfield(L, -2, "code");
      }
      lua_setfield(L, -2, "innerError");
      lua_setfield(L, -2, "error");
      return;
    case CT_R_JOB:
      push_job(L, r->job, r->select, r->expand);
      push_context(L, &r->context);
      return;
    case CT_R_TASK:
      lct_push_task(L, r->task, r->seed, props);
      unselect(L, &ct_type_task, ct_type_task.nprops, r->select);
      push_context(L, &r->context);
      return;
    case CT_R_JOBS:
    case CT_R_TASKS:
      lua_createtable(L, 0, 4);
      push_context(L, &r->context);
      if (r->has_count) {
        lua_pushinteger(L, (lua_Integer)r->count);
        lua_setfield(L, -2, "@odata.count");
      }
      if (r->next_link.len > 0)
        set_lstr(L, "@odata.nextLink", r->next_link.p, r->next_link.len);
      lua_createtable(L, (int)r->nitems, 0);
      for (i = 0; i < r->nitems; i++) {
        if (r->shape == CT_R_JOBS) {
          push_job(L, r->jobs[i], r->select, r->expand);
        } else {
          lct_push_task(L, r->tasks[i], 0, 0);
          unselect(L, &ct_type_task, ct_type_task.nprops, r->select);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      lua_setfield(L, -2, "value");
      return;
    case CT_R_JOB_CANCEL: {
      char id[37];
      lua_createtable(L, 0, 4);
      ct_guid_format(&r->job->id, id);
      set_lstr(L, "id", id, 36);
      lua_pushlstring(L, r->job->displayName.p, r->job->displayName.n);
      lua_setfield(L, -2, "displayName");
      lua_pushstring(L, "pendingCancel");
      lua_setfield(L, -2, "status");
      lua_pushstring(L, r->job->message);
      lua_setfield(L, -2, "message");
      return;
    }
    case CT_R_TASK_CANCEL: {
      char uid[37], jid[37];
      ct_guid_format(&r->task->id, uid);
      ct_guid_format(&r->job->id, jid);
      lua_createtable(L, 0, 2);
      lua_pushstring(L, "Accepted");
      lua_setfield(L, -2, "status");
      lua_pushfstring(L, "Cancellation request for user id: %s from "
                      "batch: %s was accepted.", uid, jid);
      lua_setfield(L, -2, "message");
      return;
    }
    default:
      lua_pushnil(L);
  }
}

/* s:request(method, url, body, headers, tenant, upn, base, fault_now,
   no_faults)
   -> status, body (table, $count text or nil), headers */
static int s_request(lua_State *L) {
  box *b = lct_checkbox(L);
  call *c = answer(L, b);
  lua_pushinteger(L, c->res.status);
  push_body(L, &c->res.r, 0);
  push_headers(L, &c->res);
  call_end(c);
  return 3;
}

/* s:request_text(...) -> status, body text (nil when none), headers */
static int s_request_text(lua_State *L) {
  box *b = lct_checkbox(L);
  call *c = answer(L, b);
  ct_response_write(&c->res, &c->res.body);
  if (c->res.body.oom) return luaL_error(L, "not enough memory");
  lua_pushinteger(L, c->res.status);
  if (c->res.r.shape == CT_R_NONE) lua_pushnil(L);
  else lua_pushlstring(L, c->res.body.p, c->res.body.len);
  push_headers(L, &c->res);
  call_end(c);
  return 3;
}

/* the operations by name, in enum ct_op's order */
static const char *const op_names[] = {
  "list_jobs", "create_job", "get_job", "update_job", "delete_job",
  "validate", "migrate", "cancel_job", "list_tasks", "create_task",
  "get_task", "cancel_task", "count_jobs", "count_tasks", NULL
};

/* the operation named at idx (luaL_checkoption, lengths compared first;
   create_task, the method run most, tried first) */
static int op_arg(lua_State *L, int idx) {
  size_t n, i;
  const char *name = luaL_checklstring(L, idx, &n);
  if (n == 11 && memcmp(name, op_names[CT_OP_CREATE_TASK], 11) == 0)
    return CT_OP_CREATE_TASK;
  for (i = 0; op_names[i] != NULL; i++)
    if (strlen(op_names[i]) == n && memcmp(op_names[i], name, n) == 0)
      return (int)i;
  return luaL_checkoption(L, idx, NULL, op_names);   /* raises */
}

/* s:op(name, tenant, upn, job, task, body, query, unless_faults) ->
   status, body: one operation for the store's own caller, as the
   methods run it.  unless_faults true: when faults are armed, nothing
   is done and the status is 0 (the caller asks the fault path first,
   then calls again without it; one call when none are armed) */
/* the store at 1, checked against the metatable s:op holds as its
   upvalue (no registry lookup); lct_checkbox raises, or finds it when
   the upvalue is not the store's metatable (another copy of this
   library) */
static box *op_box(lua_State *L) {
  box *b = (box *)lua_touserdata(L, 1);
  if (b != NULL && lua_getmetatable(L, 1)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    if (same && b->s != NULL) return b;
  }
  return lct_checkbox(L);
}

static int s_op(lua_State *L) {
  box *b = op_box(L);
  ct_op_request req;
  size_t n;
  const char *tenant;
  call *c;
  if (lua_toboolean(L, 9) && ct_fault_armed(&b->s->faultstate)) {
    lua_pushinteger(L, 0);
    return 1;
  }
  memset(&req, 0, sizeof req);
  req.op = op_arg(L, 2);
  tenant = luaL_checklstring(L, 3, &n);
  if (tenant_arg(b, tenant, n, &req.caller.tenant) != 0)
    return luaL_argerror(L, 3, "tenant must be a GUID");
  req.caller.upn = luaL_optlstring(L, 4, "", &req.caller.nupn);
  req.job = luaL_optlstring(L, 5, NULL, &req.job_len);
  req.task = luaL_optlstring(L, 6, NULL, &req.task_len);
  req.query = luaL_optlstring(L, 8, NULL, &req.query_len);
  c = new_call(L, b);
  req.http.scratch = &c->a;
  switch (lua_type(L, 7)) {
    case LUA_TSTRING:
      req.http.body_kind = CT_BODY_TEXT;
      req.http.body = lua_tolstring(L, 7, &req.http.body_len);
      break;
    case LUA_TTABLE:
      req.http.body_kind = CT_BODY_TREE;
      req.http.body_tree = lct_body_arg(L, 7, &c->a, &c->body_err);
      req.http.body_err = &c->body_err;
      break;
    default:
      req.http.body_kind = CT_BODY_NONE;
  }
  if (ct_request_op(b->s, &req, &c->res) < 0)
    return luaL_error(L, "not enough memory");
  lct_journal_check(L, b);        /* a store file that failed raises */
  lua_pushinteger(L, c->res.status);
  push_body(L, &c->res.r, req.op == CT_OP_CREATE_TASK ? 7 : 0);
  call_end(c);
  return 2;
}

/* ---------- the server's C entry (ct_serve.h) ---------- */

/* the box's call for a C caller: no Lua, so no nested call can start;
   NULL when out of memory or when one is under way */
static call *c_call(box *b) {
  call *c = b->call;
  if (c == NULL) {
    c = b->call = (call *)calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    ct_arena_init(&c->a);
    ct_http_response_init(&c->res);
    c->own = 1;
  }
  if (c->busy) return NULL;
  ct_arena_reset(&c->a);
  ct_http_response_reset(&c->res);
  c->busy = 1;
  return c;
}

static int api_ready(void *store) {
  box *b = (box *)store;
  return b->s != NULL && !b->record && (b->call == NULL || !b->call->busy);
}

static const ct_http_response *api_answer(void *store, ct_http_request *req,
                                          int *rc, char *err,
                                          size_t errlen) {
  box *b = (box *)store;
  call *c;
  *rc = -1;
  if (b->s == NULL || (c = c_call(b)) == NULL) return NULL;
  req->scratch = &c->a;
  *rc = ct_request(b->s, req, &c->res);
  if (lct_journal_close(b)) {
    snprintf(err, errlen, "crosstenant: a change could not be written to "
             "the store's file (%s); the store is closed", b->jmsg);
    *rc = -2;
  }
  return &c->res;
}

static const ct_http_response *api_error(void *store, int status,
                                         const char *code,
                                         const char *message,
                                         const char *crid, size_t crid_len,
                                         const char *request_id) {
  box *b = (box *)store;
  call *c;
  if (b->s == NULL || (c = c_call(b)) == NULL) return NULL;
  if (ct_request_error(b->s, status, code, message, crid, crid_len,
                       request_id, &c->res) < 0)
    return NULL;
  return &c->res;
}

static void api_done(void *store) {
  box *b = (box *)store;
  if (b->call != NULL && b->call->busy) call_end(b->call);
}

static size_t api_now_text(void *store, char out[29]) {
  box *b = (box *)store;
  ct_time t;
  if (b->s == NULL) return 0;
  t.ticks = b->s->now;
  t.digits = t.ticks % CT_TICKS_PER_SEC != 0 ? 7 : 0;
  return ct_time_format(&t, out);
}

static const ct_serve_api serve_api = {
  CT_SERVE_API_VERSION, sizeof(ct_serve_api),
  api_ready, api_answer, api_error, api_done, api_now_text,
  ct_guid_parse, ct_buf_add, ct_buf_free, ct_buf_json_string,
  ct_buf_json_int, ct_buf_json_number
};

/* s:serve_api() -> the C entry of the server (light userdata to a
   static const ct_serve_api), the store's box (light userdata): see
   ct_serve.h.  The caller keeps `s` referenced while it uses the box. */
static int s_serve_api(lua_State *L) {
  box *b = lct_checkbox(L);
  /* a light userdata is a void *: the table stays const (read only) */
  lua_pushlightuserdata(L, (void *)(uintptr_t)&serve_api);
  lua_pushlightuserdata(L, b);
  return 2;
}

static const luaL_Reg request_methods[] = {
  { "serve_api", s_serve_api },
  { "request", s_request },
  { "request_text", s_request_text },
  { NULL, NULL }
};

void lct_request_open(lua_State *L) {
  luaL_setfuncs(L, request_methods, 0);
  lua_pushvalue(L, -2);              /* the store's metatable */
  lua_pushcclosure(L, s_op, 1);      /* the methods run it on every call */
  lua_setfield(L, -2, "op");
}
