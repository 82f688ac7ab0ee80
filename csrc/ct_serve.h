/*
** ct_serve.h -- the seam between crosstenant.core and the server module
** (crosstenant.httpd): what the server's C handler calls to answer a
** Graph request with no Lua at all.
**
** Why a table of function pointers: the two are separate shared objects
** on purpose (only a process that serves loads libmicrohttpd and GnuTLS;
** GnuTLS inside the core crashed LeakSanitizer at exit), and linking the
** core's objects into httpd.so a second time would give two copies of
** the request path with two views of one store.  So the core hands out,
** through the store method `s:serve_api()`, a light userdata to the one
** static const ct_serve_api below and another to the store's box; the
** server checks `version` and `size` before it uses either, and keeps
** the store's userdata referenced while it holds the box pointer.
**
** No Lua here; every function runs without a Lua state and never raises.
** `store` is the core's store box (opaque to the server).
*/
#ifndef CT_SERVE_H
#define CT_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "ct_json.h"
#include "ct_request.h"

#define CT_SERVE_API_VERSION 1

typedef struct ct_serve_api {
  unsigned version;             /* CT_SERVE_API_VERSION */
  size_t size;                  /* sizeof(ct_serve_api) */

  /* 1 when a Graph request can be answered in C now: the store is open,
     no Lua observer is registered (they must see each change), and no
     answer is under way; 0: the server takes its Lua path */
  int (*ready)(void *store);

  /* ct_request on the store with `req` (its scratch is the store's
     own): returns the response, valid until `done`, with *rc its
     status, -1 out of memory (no body), or -2 when a change could not
     be written to the store's file: the store is then closed (memory
     and file would differ) and err[errlen] says why; NULL (rc -1) when
     the store is closed or busy.  Call `done` after it in every case. */
  const ct_http_response *(*answer)(void *store, ct_http_request *req,
                                    int *rc, char *err, size_t errlen);

  /* ct_request_error on the store: a Graph error the server answers
     itself (see ct_request.h).  Returns the response (valid until
     `done`), or NULL when the store is closed or busy or out of
     memory.  Call `done` after it in every case. */
  const ct_http_response *(*error)(void *store, int status,
                                   const char *code, const char *message,
                                   const char *crid, size_t crid_len,
                                   const char *request_id);

  /* ends an `answer` or `error` */
  void (*done)(void *store);

  /* the model clock as graph:now() writes it (whole seconds unless it
     has a fraction, then 7 digits); the length, 0 when closed */
  size_t (*now_text)(void *store, char out[29]);

  /* a tenant GUID's text; 0, or -1 when it is none */
  int (*guid_parse)(const char *s, size_t n, ct_guid *out);

  /* the core's JSON writers (ct_json.h), for the server's journal, so
     that it writes what crosstenant.encode writes */
  void (*buf_add)(ct_buf *b, const char *s, size_t n);
  void (*buf_free)(ct_buf *b);
  void (*json_string)(ct_buf *b, const char *s, size_t n);
  void (*json_int)(ct_buf *b, int64_t v);
  void (*json_number)(ct_buf *b, double v);
} ct_serve_api;

#endif
