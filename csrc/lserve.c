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
**   httpd.monotonic()              -> seconds on a monotonic clock
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

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_http.h"

#define SERVER "crosstenant.http_server"

/* the only global: what a signal handler may touch (see the top) */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
  stop_signal = sig;
}

typedef struct server_box {
  ct_httpd_server *srv;
  int running;
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
  b = lua_newuserdatauv(L, sizeof *b, 0);
  b->srv = NULL;
  b->running = 0;
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

/* ---------------------------------------------------------- the handler */

typedef struct call {
  lua_State *L;
  int handler;                /* stack indices in server:run's frame */
  int tick;
  const ct_httpd_request *req;
  ct_httpd_response *res;
} call;

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
    /* a repeated header: its values joined, as RFC 9110 allows */
    if (lua_getfield(L, -1, req->headers[i].name) == LUA_TSTRING) {
      lua_pushliteral(L, ", ");
      lua_pushstring(L, req->headers[i].value);
      lua_concat(L, 3);
    } else {
      lua_pop(L, 1);
      lua_pushstring(L, req->headers[i].value);
    }
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
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) == LUA_TSTRING &&
          (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER)) {
        lua_pushvalue(L, -1);
        if (ct_httpd_response_header(c->res, lua_tostring(L, -3),
                                    lua_tostring(L, -1)) != 0)
          return luaL_error(L, "bad response header '%s'",
                            lua_tostring(L, -3));
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
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
  rc = ct_httpd_run(b->srv, lua_handler,
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
  return 0;
}

static int l_monotonic(lua_State *L) {
  lua_pushnumber(L, ct_httpd_monotonic());
  return 1;
}

static const luaL_Reg server_methods[] = {
  { "close", l_close },
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
  return 1;
}
