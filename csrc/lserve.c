/*
** lserve.c -- crosstenant.httpd, the HTTP server binding: a server
** userdata over ct_http (csrc/ct_http.c) whose request handler is a Lua
** function.  A module apart from crosstenant.core, so that only a process
** that serves loads libmicrohttpd, GnuTLS and p11-kit.
**
**   httpd.http_server{ host=, port=, https_port=, cert=, key=, log= }
**       -> server | nil, message
**   server:ports()                 -> http port | nil, https port | nil
**   server:run(handler, tick, tick_ms, ready) -> signal number that
**                                  stopped it; ready() runs once the
**                                  signals are caught
**   server:run_constant(body)      the same, answering `body` to every
**                                  request in C (the HTTP layer's ceiling)
**   server:close()                 (also __gc and __close; idempotent)
**   server:graph{ api=, store=, core=, tenant=, upn=, c_path=, started= }
**                                  the store Graph requests go to in C
**   server:journal_add(json)       appends an entry (a JSON object's text)
**   server:journal_json()          -> '{"value":[entries...]}'
**   server:journal_clear()
**   httpd.monotonic()              -> seconds on a monotonic clock
**   httpd.JOURNAL_MAX              entries the journal keeps
**   httpd.JSON_TYPE                Graph's Content-Type of a JSON body
**
** The C path.  Once server:graph{} named the store (api and store: the
** two light userdata of core's s:serve_api(), see ct_serve.h; core: the
** store's userdata, kept referenced here), and c_path is true, a Graph
** request is answered in C: ct_request through the core's table, under
** base_url scheme://Host, the default caller (tenant, upn; none when
** tenant is nil: a token is required), the wall clock for faults, the
** Content-Type Graph writes, HEAD routed as GET, and an entry in the
** journal.  The Lua handler answers instead (and journals through
** journal_add) whatever only Lua can do: the control namespace
** /_crosstenant, a store with Lua observers (s:record(true)), and every
** request when c_path is false (serve.lua: the real and xN clocks,
** --latency).  Both paths answer the same bytes (headers in one order,
** put_headers) and share one journal, in arrival order; the errors the
** listener answers itself (413, the Host 400, 500: graph_error) are
** journaled too.
**
** handler(method, target, scheme, host, headers, body) returns status,
** body (string or nil), a table of response headers and, optionally, a
** delay in seconds: the answer then waits with its connection suspended
** while the others go on (ct_httpd_response_delay).  It runs under
** lua_pcall: a Lua error never unwinds through libmicrohttpd; it is
** written to stderr and the request is answered 500 in Graph's shape.
**
** Signals: SIGINT and SIGTERM stop server:run.  A signal handler can only
** reach a global, so the one piece of global state of the module is the
** sig_atomic_t `stop_signal` below (set by the handler, read by the loop,
** reset by each run).  The previous handlers are restored when run ends.
*/
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_http.h"
#include "ct_serve.h"

#define SERVER "crosstenant.http_server"

/* the only global: what a signal handler may touch (see the top) */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
  stop_signal = sig;
}

#define JSON_TYPE CT_HTTPD_JSON_TYPE

#define JOURNAL_MAX 10000     /* entries; the oldest go first */

/* the request journal: a ring of entries, each a JSON object's text;
   the C path's leave out the value of "received" (at byte `at`), which
   is written when the journal is read (a double's shortest text costs
   more than the rest of the entry) */
typedef struct jentry {
  char *p;
  size_t n;
  size_t at;                  /* NO_NUMBER: the text is whole */
  double received;
} jentry;

#define NO_NUMBER ((size_t)-1)

typedef struct journal {
  jentry *e;                  /* JOURNAL_MAX slots, or NULL while empty */
  size_t first, count;
} journal;

/* the store the C path answers from (server:graph{}) */
typedef struct graph_conf {
  const ct_serve_api *api;    /* NULL: no store named yet */
  void *store;
  int c_path;                 /* 0: every request takes the Lua path */
  int has_caller;             /* 0: a token is required */
  ct_caller caller;
  char *upn;                  /* caller.upn's memory */
  double started;             /* monotonic seconds, for `received` */
  ct_buf entry;               /* scratch for one journal entry */
} graph_conf;

typedef struct server_box {
  ct_httpd_server *srv;
  int running;
  graph_conf graph;
  journal j;
} server_box;

static server_box *check_server(lua_State *L) {
  server_box *b = luaL_checkudata(L, 1, SERVER);
  if (!b->srv) luaL_argerror(L, 1, "the server is closed");
  return b;
}

/* an optional string field of the options table at index 1 */
static const char *opt_string(lua_State *L, const char *name) {
  const char *s = NULL;
  int t = lua_getfield(L, 1, name);
  if (t == LUA_TSTRING) s = lua_tostring(L, -1);
  else if (t != LUA_TNIL)
    luaL_error(L, "bad argument #1 to 'http_server' (field '%s' must be a "
               "string)", name);
  lua_pop(L, 1);               /* the table keeps the string alive */
  return s;
}

/* an optional port field: -1 when absent */
static int opt_port(lua_State *L, const char *name) {
  lua_Integer n = -1;
  int t = lua_getfield(L, 1, name);
  if (t != LUA_TNIL) {
    int isnum;
    n = lua_tointegerx(L, -1, &isnum);
    if (!isnum || n < 0 || n > 65535)
      luaL_error(L, "bad argument #1 to 'http_server' (field '%s' must be "
                 "a port from 0 to 65535)", name);
  }
  lua_pop(L, 1);
  return (int)n;
}

static int l_http_server(lua_State *L) {
  ct_httpd_config cfg;
  server_box *b;
  char err[256];
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&cfg, 0, sizeof cfg);
  cfg.host = opt_string(L, "host");
  cfg.port = opt_port(L, "port");
  cfg.https_port = opt_port(L, "https_port");
  cfg.cert_pem = opt_string(L, "cert");
  cfg.key_pem = opt_string(L, "key");
  lua_getfield(L, 1, "log");
  cfg.log = lua_toboolean(L, -1) ? stderr : NULL;
  lua_pop(L, 1);
  b = lua_newuserdatauv(L, sizeof *b, 1);   /* uservalue: the store */
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, SERVER);
  b->srv = ct_httpd_open(&cfg, err, sizeof err);
  if (!b->srv) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

static int l_ports(lua_State *L) {
  server_box *b = check_server(L);
  int i;
  for (i = 0; i < 2; i++) {
    int p = ct_httpd_port(b->srv, i);
    if (p < 0) luaL_pushfail(L);
    else lua_pushinteger(L, p);
  }
  return 2;
}

/* ---------------------------------------------------------- the journal */

static void journal_clear(journal *j) {
  size_t i;
  if (j->e)
    for (i = 0; i < j->count; i++) free(j->e[(j->first + i) % JOURNAL_MAX].p);
  free(j->e);
  j->e = NULL;
  j->first = j->count = 0;
}

/* appends a copy of the n bytes at p, `received` to be written at byte
   `at` (NO_NUMBER: none); -1 out of memory (nothing kept) */
static int journal_add(journal *j, const char *p, size_t n, size_t at,
                       double received) {
  char *copy;
  size_t slot;
  if (!j->e && !(j->e = calloc(JOURNAL_MAX, sizeof *j->e))) return -1;
  if (!(copy = malloc(n ? n : 1))) return -1;
  memcpy(copy, p, n);
  if (j->count == JOURNAL_MAX) {
    slot = j->first;
    free(j->e[slot].p);
    j->first = (j->first + 1) % JOURNAL_MAX;
  } else {
    slot = (j->first + j->count++) % JOURNAL_MAX;
  }
  j->e[slot].p = copy;
  j->e[slot].n = n;
  j->e[slot].at = at;
  j->e[slot].received = received;
  return 0;
}

static server_box *check_open(lua_State *L) {
  return luaL_checkudata(L, 1, SERVER);
}

/* server:journal_add(json): an entry the Lua path wrote */
static int l_journal_add(lua_State *L) {
  server_box *b = check_open(L);
  size_t n;
  const char *p = luaL_checklstring(L, 2, &n);
  if (journal_add(&b->j, p, n, NO_NUMBER, 0) != 0)
    return luaL_error(L, "not enough memory");
  return 0;
}

/* server:journal_json() -> {"value":[...]}, oldest first */
static int l_journal_json(lua_State *L) {
  server_box *b = check_open(L);
  const ct_serve_api *api = b->graph.api;
  luaL_Buffer out;
  ct_buf num;
  size_t i;
  memset(&num, 0, sizeof num);
  luaL_buffinit(L, &out);
  luaL_addstring(&out, "{\"value\":[");
  for (i = 0; i < b->j.count; i++) {
    const jentry *e = &b->j.e[(b->j.first + i) % JOURNAL_MAX];
    if (i > 0) luaL_addchar(&out, ',');
    if (e->at == NO_NUMBER || !api) {
      luaL_addlstring(&out, e->p, e->n);
      continue;
    }
    num.len = 0;
    api->json_number(&num, e->received);
    if (num.oom) {
      api->buf_free(&num);
      return luaL_error(L, "not enough memory");
    }
    luaL_addlstring(&out, e->p, e->at);
    luaL_addlstring(&out, num.p, num.len);
    luaL_addlstring(&out, e->p + e->at, e->n - e->at);
  }
  if (api) api->buf_free(&num);
  luaL_addstring(&out, "]}");
  luaL_pushresult(&out);
  return 1;
}

static int l_journal_clear(lua_State *L) {
  journal_clear(&check_open(L)->j);
  return 0;
}

/* ---------------------------------------------------------- the store */

static void graph_release(graph_conf *g) {
  if (g->api) g->api->buf_free(&g->entry);
  free(g->upn);
  memset(g, 0, sizeof *g);
}

static void c_journal(server_box *b, const char *time, size_t tn,
                      const ct_httpd_request *req, double received,
                      const ct_http_response *r);

/* the errors the listener answers itself (413, the Host 400, 500),
   written by the store: its clock, its error body; and journaled, as
   every answer to a request is.  -1 when there is no store to write
   them */
static int graph_error(void *ctx, int status, const char *code,
                       const char *message, const char *crid,
                       const char *request_id, const char *method,
                       const char *target, size_t target_len,
                       ct_httpd_response *res) {
  server_box *b = ctx;
  graph_conf *g = &b->graph;
  const ct_http_response *r;
  ct_httpd_request req;
  char time[29];
  size_t tn;
  double received;
  int rc = -1;
  if (!g->api) return -1;
  tn = g->api->now_text(g->store, time);
  received = floor((ct_httpd_monotonic() - g->started) * 1000 + 0.5) / 1000;
  r = g->api->error(g->store, status, code, message, crid,
                    crid ? strlen(crid) : 0, request_id);
  if (r && r->body.p &&
      ct_httpd_response_status(res, r->status) == 0 &&
      ct_httpd_response_header(res, "request-id", r->request_id) == 0 &&
      ct_httpd_response_header(res, "client-request-id",
                               r->client_request_id.p
                               ? r->client_request_id.p : "") == 0 &&
      ct_httpd_response_header(res, "Content-Type", JSON_TYPE) == 0 &&
      ct_httpd_response_body(res, r->body.p, r->body.len) == 0) {
    memset(&req, 0, sizeof req);
    req.method = method;
    req.target = target;
    req.target_len = target_len;
    c_journal(b, time, tn, &req, received, r);
    rc = 0;
  }
  g->api->done(g->store);
  return rc;
}

/* server:graph{ api =, store =, core =, tenant =, upn =, c_path =,
   started = }: the store Graph requests go to (see the top) */
static int l_graph(lua_State *L) {
  server_box *b = check_server(L);
  graph_conf g;
  const ct_serve_api *api;
  const char *tenant, *upn;
  size_t tn, un;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 2, "api");
  lua_getfield(L, 2, "store");
  lua_getfield(L, 2, "core");
  api = lua_touserdata(L, 3);
  if (lua_type(L, 3) != LUA_TLIGHTUSERDATA || !api ||
      api->version != CT_SERVE_API_VERSION ||
      api->size != sizeof(ct_serve_api))
    return luaL_error(L, "bad argument #1 to 'graph' (field 'api' is not "
                      "this version's s:serve_api())");
  if (lua_type(L, 4) != LUA_TLIGHTUSERDATA || lua_type(L, 5) !=
      LUA_TUSERDATA)
    return luaL_error(L, "bad argument #1 to 'graph' (fields 'store' and "
                      "'core' must be s:serve_api()'s store and s)");
  lua_getfield(L, 2, "tenant");
  lua_getfield(L, 2, "upn");
  lua_getfield(L, 2, "c_path");
  lua_getfield(L, 2, "started");
  tenant = lua_isnil(L, 6) ? NULL : luaL_checklstring(L, 6, &tn);
  upn = luaL_optlstring(L, 7, "", &un);
  memset(&g, 0, sizeof g);
  g.api = api;
  g.store = lua_touserdata(L, 4);
  g.c_path = lua_toboolean(L, 8);
  g.started = luaL_optnumber(L, 9, ct_httpd_monotonic());
  if (tenant) {
    if (api->guid_parse(tenant, tn, &g.caller.tenant) != 0)
      return luaL_error(L, "bad argument #1 to 'graph' (field 'tenant' "
                        "must be a GUID)");
    g.has_caller = 1;
  }
  if (!(g.upn = malloc(un + 1))) return luaL_error(L, "not enough memory");
  memcpy(g.upn, upn, un + 1);
  g.caller.upn = g.upn;
  g.caller.nupn = un;
  graph_release(&b->graph);
  b->graph = g;
  lua_pushvalue(L, 5);
  lua_setiuservalue(L, 1, 1);          /* keeps the store alive */
  ct_httpd_set_error(b->srv, graph_error, b);
  return 0;
}

/* ---------------------------------------------------------- the handler */

typedef struct call {
  server_box *box;
  lua_State *L;
  int handler;                /* stack indices in server:run's frame */
  int tick;
  const ct_httpd_request *req;
  ct_httpd_response *res;
} call;

/* the headers every answer starts with, in this order (ct_http.h) */
static const char *const header_order[] = {
  "request-id", "client-request-id", "Content-Type", "Location",
  "Retry-After", "Allow", NULL
};

static int is_ordered(const char *name) {
  int i;
  for (i = 0; header_order[i]; i++)
    if (strcmp(header_order[i], name) == 0) return 1;
  return 0;
}

/* a string or number header value at the top; 1 if usable */
static int header_value(lua_State *L) {
  return lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER;
}

static int put_header(lua_State *L, ct_httpd_response *res,
                      const char *name) {
  const char *v = lua_tostring(L, -1);
  if (ct_httpd_response_header(res, name, v) != 0)
    return luaL_error(L, "bad response header '%s'", name);
  return 0;
}

/* the Lua handler's header table (at the top) into res: header_order's
   names first, then the others by name (byte order), so that an answer
   goes out in the same order as the C path's (ct_http.h) */
static int put_headers(lua_State *L, ct_httpd_response *res) {
  int t = lua_gettop(L), i;
  const char *last = NULL;
  for (i = 0; header_order[i]; i++) {
    lua_getfield(L, t, header_order[i]);
    if (header_value(L)) {
      lua_pushvalue(L, -1);          /* lua_tostring may convert it */
      put_header(L, res, header_order[i]);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  /* the rest: the least name greater than the last one sent, each time
     (a handful of headers at most) */
  for (;;) {
    const char *next = NULL;
    lua_pushnil(L);
    while (lua_next(L, t)) {
      if (lua_type(L, -2) == LUA_TSTRING && header_value(L)) {
        const char *k = lua_tostring(L, -2);
        if (!is_ordered(k) && (!last || strcmp(k, last) > 0) &&
            (!next || strcmp(k, next) < 0))
          next = k;                  /* a key of the table: stays alive */
      }
      lua_pop(L, 1);
    }
    if (!next) break;
    lua_getfield(L, t, next);
    lua_pushvalue(L, -1);
    put_header(L, res, next);
    lua_pop(L, 2);
    last = next;
  }
  return 0;
}

/* protected: handler at 1, the call at 2; fills the response */
static int call_handler(lua_State *L) {
  call *c = lua_touserdata(L, 2);
  const ct_httpd_request *req = c->req;
  size_t i, len;
  const char *body;
  lua_Integer status;
  int isnum;
  lua_pushvalue(L, 1);
  lua_pushstring(L, req->method);
  lua_pushlstring(L, req->target, req->target_len);
  lua_pushstring(L, req->scheme);
  lua_pushstring(L, req->host);
  lua_createtable(L, 0, (int)req->nheaders);
  for (i = 0; i < req->nheaders; i++) {
    /* each name once: the listener folded repeats (ct_http.h) */
    lua_pushstring(L, req->headers[i].value);
    lua_setfield(L, -2, req->headers[i].name);
  }
  lua_pushlstring(L, req->body, req->body_len);
  lua_call(L, 6, 4);
  if (!lua_isnil(L, -1)) {
    lua_Number delay = lua_tonumberx(L, -1, &isnum);
    if (!isnum || ct_httpd_response_delay(c->res, (double)delay) != 0)
      return luaL_error(L, "the request handler returned a bad delay");
  }
  lua_pop(L, 1);
  status = lua_tointegerx(L, -3, &isnum);
  if (!isnum || ct_httpd_response_status(c->res, (int)status) != 0)
    return luaL_error(L, "the request handler returned a bad status");
  if (!lua_isnil(L, -2)) {
    body = lua_tolstring(L, -2, &len);
    if (!body) return luaL_error(L, "the request handler returned a body "
                                 "that is not a string");
    if (ct_httpd_response_body(c->res, body, len) != 0)
      return luaL_error(L, "out of memory");
  }
  if (lua_istable(L, -1)) return put_headers(L, c->res);
  return 0;
}

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static void report(lua_State *L, const char *what) {
  fprintf(stderr, "crosstenant: %s: %s\n", what, lua_tostring(L, -1));
  fflush(stderr);
  lua_pop(L, 1);
}

/* the ct_http handler: the Lua handler, protected */
static int lua_handler(void *ctx, const ct_httpd_request *req,
                       ct_httpd_response *res) {
  call *c = ctx;
  lua_State *L = c->L;
  int base = lua_gettop(L);
  c->req = req;
  c->res = res;
  lua_pushcfunction(L, traceback);
  lua_pushcfunction(L, call_handler);
  lua_pushvalue(L, c->handler);
  lua_pushlightuserdata(L, c);
  if (lua_pcall(L, 2, 0, base + 1) != LUA_OK) {
    report(L, "error in a request (answered 500)");
    lua_settop(L, base);
    return -1;
  }
  lua_settop(L, base);
  return 0;
}

/* 1 when the target's path is the control namespace: /_crosstenant or
   under it, also as an absolute target naming the server (base) */
static int is_control(const char *t, size_t n, const char *base,
                      size_t bn) {
  static const char ctl[] = "/_crosstenant";
  size_t path = strcspn(t, "?#"), i, k = sizeof ctl - 1;
  if (path > n) path = n;
  if (path >= bn + 1 && t[bn] == '/') {
    for (i = 0; i < bn; i++) {
      int a = (unsigned char)t[i], c = (unsigned char)base[i];
      if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
      if (a != c) break;
    }
    if (i == bn) {
      t += bn;
      path -= bn;
    }
  }
  return path >= k && memcmp(t, ctl, k) == 0 && (path == k || t[k] == '/');
}

/* the request's headers for ct_request (each name once: the listener
   folded repeats), or NULL out of memory */
static ct_http_header *c_headers(const ct_httpd_request *req) {
  ct_http_header *h = malloc((req->nheaders ? req->nheaders : 1) * sizeof *h);
  size_t i;
  if (!h) return NULL;
  for (i = 0; i < req->nheaders; i++) {
    h[i].name = req->headers[i].name;
    h[i].name_len = strlen(h[i].name);
    h[i].value = req->headers[i].value;
    h[i].value_len = strlen(h[i].value);
  }
  return h;
}

/* one journal entry, written as serve.lua's Lua path writes it:
   {"time","method","url","status","request-id","client-request-id",
   "received"[,"throttled"|"faulted","retry-after"]} */
static void c_journal(server_box *b, const char *time, size_t tn,
                      const ct_httpd_request *req, double received,
                      const ct_http_response *r) {
  graph_conf *g = &b->graph;
  const ct_serve_api *api = g->api;
  ct_buf *e = &g->entry;
  size_t at;
  e->len = 0;
  e->oom = 0;
  api->buf_add(e, "{\"time\":", 8);
  api->json_string(e, time, tn);
  api->buf_add(e, ",\"method\":", 10);
  api->json_string(e, req->method, strlen(req->method));
  api->buf_add(e, ",\"url\":", 7);
  api->json_string(e, req->target, req->target_len);
  api->buf_add(e, ",\"status\":", 10);
  api->json_int(e, r->status);
  api->buf_add(e, ",\"request-id\":", 14);
  api->json_string(e, r->request_id, 36);
  api->buf_add(e, ",\"client-request-id\":", 21);
  api->json_string(e, r->client_request_id.p ? r->client_request_id.p : "",
                   r->client_request_id.len);
  api->buf_add(e, ",\"received\":", 12);
  at = e->len;                /* the number goes here when read */
  if (r->retry_after > 0) {
    if (r->status == 429) api->buf_add(e, ",\"throttled\":true", 17);
    else api->buf_add(e, ",\"faulted\":true", 15);
    api->buf_add(e, ",\"retry-after\":", 15);
    api->json_int(e, r->retry_after);
  }
  api->buf_add(e, "}", 1);
  if (e->oom || journal_add(&b->j, e->p, e->len, at, received) != 0) {
    fprintf(stderr, "crosstenant: out of memory: a request is missing "
            "from the journal\n");
    fflush(stderr);
  }
}

/* the answer of a store's response into res; -1 out of memory */
static int c_respond(const ct_http_response *r, ct_httpd_response *res) {
  char num[16];
  if (ct_httpd_response_status(res, r->status) != 0 ||
      ct_httpd_response_header(res, "request-id", r->request_id) != 0 ||
      ct_httpd_response_header(res, "client-request-id",
                               r->client_request_id.p
                               ? r->client_request_id.p : "") != 0)
    return -1;
  if (r->content_type &&
      ct_httpd_response_header(res, "Content-Type",
                               strcmp(r->content_type, "application/json")
                               == 0 ? JSON_TYPE : r->content_type) != 0)
    return -1;
  if (r->location.len > 0 &&
      ct_httpd_response_header(res, "Location", r->location.p) != 0)
    return -1;
  if (r->retry_after > 0) {
    snprintf(num, sizeof num, "%d", r->retry_after);
    if (ct_httpd_response_header(res, "Retry-After", num) != 0) return -1;
  }
  if (r->allow &&
      ct_httpd_response_header(res, "Allow", r->allow) != 0)
    return -1;
  if (r->r.shape != CT_R_NONE &&
      ct_httpd_response_body(res, r->body.p ? r->body.p : "",
                             r->body.len) != 0)
    return -1;
  return 0;
}

/* the ct_http handler: a Graph request in C, anything else in Lua */
static int graph_handler(void *ctx, const ct_httpd_request *req,
                         ct_httpd_response *res) {
  call *c = ctx;
  graph_conf *g = &c->box->graph;
  const ct_serve_api *api = g->api;
  ct_http_request hr;
  ct_http_header *h;
  const ct_http_response *r;
  char base[320], time[29], err[480];
  size_t tn;
  double received;
  int bn, rc;
  if (!api || !g->c_path || !api->ready(g->store))
    return lua_handler(ctx, req, res);
  bn = snprintf(base, sizeof base, "%s://%s", req->scheme, req->host);
  if (bn < 0 || (size_t)bn >= sizeof base ||
      is_control(req->target, req->target_len, base, (size_t)bn))
    return lua_handler(ctx, req, res);
  if (!(h = c_headers(req))) return lua_handler(ctx, req, res);
  tn = api->now_text(g->store, time);
  /* wall seconds since the server started, to the millisecond */
  received = floor((ct_httpd_monotonic() - g->started) * 1000 + 0.5) / 1000;
  memset(&hr, 0, sizeof hr);
  hr.method = req->method;
  hr.method_len = strlen(req->method);
  hr.target = req->target;
  hr.target_len = req->target_len;
  hr.headers = h;
  hr.nheaders = req->nheaders;
  hr.body_kind = req->body_len ? CT_BODY_TEXT : CT_BODY_NONE;
  hr.body = req->body;
  hr.body_len = req->body_len;
  hr.base_url = base;
  hr.default_caller = g->has_caller ? &g->caller : NULL;
  /* faults decide on the wall clock (serve.lua's wall_ticks) */
  hr.has_fault_now = 1;
  hr.fault_now = (int64_t)floor(ct_httpd_monotonic() * 10000000);
  hr.head_as_get = 1;        /* libmicrohttpd leaves a HEAD's body out */
  r = api->answer(g->store, &hr, &rc, err, sizeof err);
  free(h);
  if (rc == -2) {
    /* the store is closed: the listener answers 500 */
    fprintf(stderr, "crosstenant: error in %s %.*s: %s\n", req->method,
            (int)(req->target_len < 2000 ? req->target_len : 2000),
            req->target, err);
    fflush(stderr);
    api->done(g->store);
    return -1;
  }
  if (!r || rc < 0) {
    /* as the Lua path: logged, a 500 in Graph's shape, journaled */
    fprintf(stderr, "crosstenant: error in %s %.*s: not enough memory\n",
            req->method,
            (int)(req->target_len < 2000 ? req->target_len : 2000),
            req->target);
    fflush(stderr);
    api->done(g->store);
    r = api->error(g->store, 500, "generalException", "The server failed "
                   "to answer this request; see its log.", NULL, 0, NULL);
    if (!r) {
      api->done(g->store);
      return -1;
    }
  }
  rc = c_respond(r, res);
  if (rc == 0) c_journal(c->box, time, tn, req, received, r);
  api->done(g->store);
  return rc;
}

static int call_tick(lua_State *L) {
  lua_pushvalue(L, 1);
  lua_call(L, 0, 0);
  return 0;
}

static void lua_tick(void *ctx) {
  call *c = ctx;
  lua_State *L = c->L;
  int base = lua_gettop(L);
  lua_pushcfunction(L, traceback);
  lua_pushcfunction(L, call_tick);
  lua_pushvalue(L, c->tick);
  if (lua_pcall(L, 1, 0, base + 1) != LUA_OK) report(L, "error in the timer");
  lua_settop(L, base);
}

/* the signal handlers of a run, and the ones they replace */
typedef struct signals {
  struct sigaction old_int, old_term, old_pipe;
} signals;

static void signals_catch(signals *sg) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  stop_signal = 0;
  sigaction(SIGINT, &sa, &sg->old_int);
  sigaction(SIGTERM, &sa, &sg->old_term);
  sa.sa_handler = SIG_IGN;            /* a peer gone: an error, not death */
  sigaction(SIGPIPE, &sa, &sg->old_pipe);
}

/* restores the handlers; returns the signal that stopped the run */
static int signals_restore(signals *sg) {
  int sig = stop_signal;
  sigaction(SIGINT, &sg->old_int, NULL);
  sigaction(SIGTERM, &sg->old_term, NULL);
  sigaction(SIGPIPE, &sg->old_pipe, NULL);
  stop_signal = 0;
  return sig;
}

static int run_result(lua_State *L, int rc, int sig) {
  if (rc != 0) {
    luaL_pushfail(L);
    lua_pushstring(L, "waiting for connections failed");
    return 2;
  }
  lua_pushinteger(L, sig);
  return 1;
}

static int l_run(lua_State *L) {
  server_box *b = check_server(L);
  call c;
  signals sg;
  lua_Integer tick_ms = luaL_optinteger(L, 4, 0);
  int rc, sig;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TFUNCTION);
  luaL_argcheck(L, tick_ms >= 0 && tick_ms <= 3600000, 4,
                "milliseconds from 0 to 3600000 expected");
  if (!lua_isnoneornil(L, 5)) luaL_checktype(L, 5, LUA_TFUNCTION);
  if (b->running) return luaL_error(L, "the server is already running");
  lua_settop(L, 5);
  c.box = b;
  c.L = L;
  c.handler = 2;
  c.tick = 3;
  c.req = NULL;
  c.res = NULL;
  signals_catch(&sg);
  /* ready(): once SIGINT/SIGTERM are caught, so a signal sent as soon
   * as the listening line is out stops the loop instead of Lua */
  if (lua_isfunction(L, 5)) {
    c.tick = 5;
    lua_tick(&c);
    c.tick = 3;
  }
  b->running = 1;
  rc = ct_httpd_run(b->srv, graph_handler,
                   lua_isfunction(L, 3) ? lua_tick : NULL, &c,
                   (int)tick_ms, &stop_signal);
  b->running = 0;
  sig = signals_restore(&sg);
  return run_result(L, rc, sig);
}

/* ---------------------------------------------------------- the ceiling */

typedef struct constant {
  const char *body;
  size_t len;
} constant;

static int constant_handler(void *ctx, const ct_httpd_request *req,
                            ct_httpd_response *res) {
  const constant *k = ctx;
  (void)req;
  if (ct_httpd_response_header(res, "Content-Type", "application/json") != 0)
    return -1;
  return ct_httpd_response_body(res, k->body, k->len);
}

/* server:run_constant(body): answers every request 200 with `body`, in
 * C, the model and Lua bypassed: the HTTP layer's ceiling (make
 * bench-server).  Returns as server:run does. */
static int l_run_constant(lua_State *L) {
  server_box *b = check_server(L);
  constant k;
  signals sg;
  int rc, sig;
  k.body = luaL_checklstring(L, 2, &k.len);
  if (b->running) return luaL_error(L, "the server is already running");
  signals_catch(&sg);
  b->running = 1;
  rc = ct_httpd_run(b->srv, constant_handler, NULL, &k, 0, &stop_signal);
  b->running = 0;
  sig = signals_restore(&sg);
  return run_result(L, rc, sig);
}

static int l_close(lua_State *L) {
  server_box *b = luaL_checkudata(L, 1, SERVER);
  if (b->running) return luaL_error(L, "the server is running");
  ct_httpd_close(b->srv);
  b->srv = NULL;
  graph_release(&b->graph);
  journal_clear(&b->j);
  return 0;
}

static int l_monotonic(lua_State *L) {
  lua_pushnumber(L, ct_httpd_monotonic());
  return 1;
}

static const luaL_Reg server_methods[] = {
  { "close", l_close },
  { "graph", l_graph },
  { "journal_add", l_journal_add },
  { "journal_clear", l_journal_clear },
  { "journal_json", l_journal_json },
  { "ports", l_ports },
  { "run", l_run },
  { "run_constant", l_run_constant },
  { NULL, NULL }
};

static const luaL_Reg serve_funcs[] = {
  { "http_server", l_http_server },
  { "monotonic", l_monotonic },
  { NULL, NULL }
};

/* crosstenant.httpd: a module apart from crosstenant.core, so that only a
   process that serves loads libmicrohttpd (and GnuTLS, p11-kit) */
LUAMOD_API int luaopen_crosstenant_httpd(lua_State *L);
LUAMOD_API int luaopen_crosstenant_httpd(lua_State *L) {
  luaL_checkversion(L);
  if (luaL_newmetatable(L, SERVER)) {
    luaL_newlib(L, server_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  luaL_newlib(L, serve_funcs);
  lua_pushinteger(L, JOURNAL_MAX);
  lua_setfield(L, -2, "JOURNAL_MAX");
  lua_pushliteral(L, JSON_TYPE);
  lua_setfield(L, -2, "JSON_TYPE");
  return 1;
}
