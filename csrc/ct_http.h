/*
 * ct_http.h -- HTTP/1.1 and HTTPS listeners over GNU libmicrohttpd, run
 * in the calling thread, that hand each complete request to a handler.
 *
 * No Lua here.  The server collects a request (method, raw target, Host,
 * headers, body of at most max_body bytes), calls the handler once, and
 * sends what the handler put into the response.  Requests are answered
 * one at a time, in arrival order: libmicrohttpd runs with MHD_USE_EPOLL
 * and no thread of its own, driven by MHD_run_wait() from ct_httpd_run().
 * An answer the handler delays (ct_httpd_response_delay) waits with its
 * connection suspended; the loop's wait ends at the earliest one due.
 *
 * The handler is the seam between HTTP and the model: lserve.c's
 * answers a Graph request by calling the core's request path
 * (ct_request.h, through ct_serve.h's table) with req.base_url =
 * scheme://host, and calls a Lua function through lua_pcall for what
 * only Lua can do.  The types are ct_httpd_* so as not to clash with
 * ct_request.h's ct_http_request and ct_http_header.
 */
#ifndef CT_HTTPD_H
#define CT_HTTPD_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#define CT_HTTPD_MAX_BODY (1024u * 1024u)   /* bytes: 1 MiB */
/* what Graph writes as Content-Type on a JSON body (serve.lua's
   M.JSON_TYPE is this, read from httpd.JSON_TYPE) */
#define CT_HTTPD_JSON_TYPE "application/json;odata.metadata=minimal;" \
  "odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
#define CT_HTTPD_MAX_DELAY 600.0             /* seconds an answer waits */

typedef struct ct_httpd_header {
  const char *name;
  const char *value;
} ct_httpd_header;

/* One complete request.  Every pointer is valid during the handler call
 * only.  Strings are NUL-terminated; target and body also carry their
 * length (the body may hold NUL bytes). */
typedef struct ct_httpd_request {
  const char *method;         /* as sent: "GET", "POST", ... */
  const char *target;         /* raw request target: path and query */
  size_t target_len;
  const char *scheme;         /* "http" or "https" */
  const char *host;           /* the Host header, or the listener's */
  /* in arrival order; a name repeated (in any case, RFC 9110 5.1) comes
     once, at its first place and spelling, its values joined by ", " */
  const ct_httpd_header *headers;
  size_t nheaders;
  const char *body;           /* "" when none */
  size_t body_len;
} ct_httpd_request;

/* What the handler answers; opaque, filled with the functions below. */
typedef struct ct_httpd_response ct_httpd_response;

/* Sets the status (100..599); returns 0, or -1 when out of range. */
int ct_httpd_response_status(ct_httpd_response *res, int status);
/* Adds a header (name and value are copied; CR or LF in either is
 * refused); returns 0, or -1 on a bad header or out of memory. */
int ct_httpd_response_header(ct_httpd_response *res, const char *name,
                            const char *value);
/* Sets the body (copied); returns 0, or -1 out of memory. */
int ct_httpd_response_body(ct_httpd_response *res, const char *data,
                          size_t len);
/* Delays the answer by `seconds` of wall time (0 to CT_HTTPD_MAX_DELAY):
 * the connection is suspended (MHD_suspend_connection), the others go
 * on, and the loop resumes it and sends the answer once it is due.  No
 * sleep anywhere.  Returns 0, or -1 when out of range. */
int ct_httpd_response_delay(ct_httpd_response *res, double seconds);

/* Answers one request into `res`.  Returns 0 when `res` is the answer;
 * anything else makes the server answer 500 in Graph's error shape (and
 * log the failure).  A handler must not raise through the server: a
 * Lua handler runs under lua_pcall. */
typedef int (*ct_httpd_handler)(void *ctx, const ct_httpd_request *req,
                               ct_httpd_response *res);

/* Writes into `res` the Graph error the server answers itself (413 for
 * a body over the limit, 400 for a bad Host, 500 when the handler
 * failed): `status`, `code`, `message`, the fresh `request_id` (36
 * characters), the client-request-id sent (NULL: none), and the request
 * it refuses (`method`, the raw `target` of `target_len` bytes: for a
 * journal).  Returns 0, or anything else to let the server write it
 * alone (with the wall clock as innerError.date).
 * Every answer's headers go in one order: request-id, client-request-id,
 * Content-Type, Location, Retry-After, Allow, then any other by name
 * (lserve.c's put_headers for the Lua handler's); libmicrohttpd puts
 * Date (and Connection when it closes) before them, Content-Length
 * after. */
typedef int (*ct_httpd_error)(void *ctx, int status, const char *code,
                              const char *message,
                              const char *client_request_id,
                              const char *request_id, const char *method,
                              const char *target, size_t target_len,
                              ct_httpd_response *res);

/* Called between requests, at least every tick_ms milliseconds while
 * ct_httpd_run waits (e.g. to run a model clock's due transitions). */
typedef void (*ct_httpd_tick)(void *ctx);

typedef struct ct_httpd_config {
  const char *host;           /* listen address; NULL: 127.0.0.1 */
  int port;                   /* plain HTTP: 0 any free port, -1 none */
  int https_port;             /* HTTPS: 0 any free port, -1 none */
  const char *cert_pem;       /* HTTPS certificate chain, PEM text */
  const char *key_pem;        /* HTTPS private key, PEM text */
  FILE *log;                  /* request log (method target status ms),
                                 NULL for none */
  size_t max_body;            /* bytes; 0: CT_HTTPD_MAX_BODY */
  unsigned connection_limit;  /* 0: 1000 */
  unsigned timeout_s;         /* idle connection timeout; 0: 30 s */
} ct_httpd_config;

typedef struct ct_httpd_server ct_httpd_server;

/* Opens the listeners of `cfg`.  Returns the server, or NULL with a
 * message in err[errlen] (address in use, bad address, bad TLS key...). */
ct_httpd_server *ct_httpd_open(const ct_httpd_config *cfg, char *err,
                             size_t errlen);

/* The port a listener is bound to (tls 0: plain, 1: HTTPS), -1 if none. */
int ct_httpd_port(const ct_httpd_server *srv, int tls);

/* Serves until *stop becomes nonzero (a signal handler sets it; see
 * lserve.c).  `tick` may be NULL; tick_ms <= 0 means no tick.  Returns
 * 0, or -1 with errno set when waiting failed. */
int ct_httpd_run(ct_httpd_server *srv, ct_httpd_handler handler,
                ct_httpd_tick tick, void *ctx, int tick_ms,
                volatile sig_atomic_t *stop);

/* Who writes the errors the server answers itself (see ct_httpd_error);
 * fn NULL: the server alone. */
void ct_httpd_set_error(ct_httpd_server *srv, ct_httpd_error fn,
                        void *ctx);

/* Closes the listeners and every connection; NULL is fine. */
void ct_httpd_close(ct_httpd_server *srv);

/* Seconds on a monotonic clock (for request timings and model clocks). */
double ct_httpd_monotonic(void);

#endif
