/*
 * ct_http.c -- HTTP/1.1 and HTTPS listeners over GNU libmicrohttpd (see
 * ct_http.h).  One epoll set watches the epoll descriptor of each daemon;
 * when one is ready, MHD_run_wait(d, 0) lets that daemon do its work,
 * which calls on_access for each request, one at a time.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ct_http.h"

struct ct_httpd_response {
  int status;
  char *hdr;                  /* "name\0value\0" pairs */
  size_t hlen, hcap;
  char *body;
  size_t blen;
  double delay;               /* seconds */
  int oom;
};

/* the state of one request, from the URI log callback to completion */
typedef struct conn_req {
  char *target;
  size_t target_len;
  char *body;
  size_t len, cap;
  size_t skipped;             /* bytes over max_body thrown away */
  int seen_headers;
  int too_large;
  double start;
  /* a delayed answer: queued when the connection is resumed */
  struct MHD_Response *pending;
  unsigned pending_status;
  double due;                 /* monotonic seconds */
  char method[16];            /* for the log line, truncated */
  struct MHD_Connection *conn;
  struct conn_req *prev, *next;   /* in the server's suspended list */
  int suspended;
} conn_req;

typedef struct listener {
  struct MHD_Daemon *d;
  int port;
  int tls;
  struct ct_httpd_server *srv;
} listener;

struct ct_httpd_server {
  listener l[2];              /* plain, HTTPS */
  int ep;                     /* epoll set of the daemons' descriptors */
  char host[256];             /* for a request without Host: host:port */
  int host_v6;
  FILE *log;
  size_t max_body;
  conn_req *suspended;        /* connections whose answer waits */
  /* set for the duration of ct_httpd_run */
  ct_httpd_handler handler;
  void *ctx;
  /* who writes the errors the server answers itself; NULL: own_error */
  ct_httpd_error on_error;
  void *error_ctx;
  uint64_t rng;               /* fresh_guid's state */
};

double ct_httpd_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- responses */

int ct_httpd_response_status(ct_httpd_response *res, int status) {
  if (status < 100 || status > 599) return -1;
  res->status = status;
  return 0;
}

int ct_httpd_response_header(ct_httpd_response *res, const char *name,
                            const char *value) {
  size_t nl = strlen(name), vl = strlen(value);
  if (nl == 0 || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
    return -1;
  if (res->hlen + nl + vl + 2 > res->hcap) {
    size_t cap = res->hcap ? res->hcap : 256;
    char *p;
    while (cap < res->hlen + nl + vl + 2) cap *= 2;
    p = realloc(res->hdr, cap);
    if (!p) { res->oom = 1; return -1; }
    res->hdr = p;
    res->hcap = cap;
  }
  memcpy(res->hdr + res->hlen, name, nl + 1);
  res->hlen += nl + 1;
  memcpy(res->hdr + res->hlen, value, vl + 1);
  res->hlen += vl + 1;
  return 0;
}

int ct_httpd_response_body(ct_httpd_response *res, const char *data,
                          size_t len) {
  char *p = malloc(len ? len : 1);
  if (!p) { res->oom = 1; return -1; }
  if (len) memcpy(p, data, len);
  free(res->body);
  res->body = p;
  res->blen = len;
  return 0;
}

int ct_httpd_response_delay(ct_httpd_response *res, double seconds) {
  if (!(seconds >= 0 && seconds <= CT_HTTPD_MAX_DELAY)) return -1;
  res->delay = seconds;
  return 0;
}

static void response_free(ct_httpd_response *res) {
  free(res->hdr);
  free(res->body);
}

/* a fresh version 4 GUID (splitmix64 over the server's own state; not
   the store's sequence, which a request the server refuses never
   reaches), lower case, 36 characters and a NUL */
static uint64_t next_random(ct_httpd_server *srv) {
  uint64_t z = (srv->rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void fresh_guid(ct_httpd_server *srv, char out[37]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  uint64_t hi = next_random(srv), lo = next_random(srv);
  int i, k = 0;
  for (i = 0; i < 8; i++) {
    b[i] = (unsigned char)(hi >> (8 * i));
    b[8 + i] = (unsigned char)(lo >> (8 * i));
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);     /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);     /* RFC 4122 variant */
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
    out[k++] = hex[b[i] >> 4];
    out[k++] = hex[b[i] & 15];
  }
  out[k] = '\0';
}

/* s as a JSON string's contents: ", \ and control characters escaped,
   bytes past ASCII as '?' (always valid UTF-8); returns the end */
static char *json_ascii(char *out, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = (char)c;
    } else if (c < 0x20) {
      out += sprintf(out, "\\u%04x", c);
    } else {
      *out++ = c < 0x80 ? (char)c : '?';
    }
  }
  return out;
}

/* Graph's error shape, written here when no store can write it (the
   ceiling's listener, a closed store): innerError.date is the wall
   clock, whole seconds, without an offset, as the store's errors are
   written.  Fills res; -1 out of memory. */
static int own_error(ct_httpd_response *res, int status, const char *code,
                     const char *message, const char *crid,
                     const char *id) {
  char date[32], *buf, *p;
  time_t t = time(NULL);
  struct tm tm;
  size_t n = strlen(code) + strlen(message) + 200 +
             (crid ? 6 * strlen(crid) : 36);
  int rc;
  gmtime_r(&t, &tm);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  buf = malloc(n);
  if (!buf) return -1;
  p = buf + sprintf(buf, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\","
                    "\"innerError\":{\"date\":\"%s\",\"request-id\":\"%s\","
                    "\"client-request-id\":\"", code, message, date, id);
  p = crid ? json_ascii(p, crid) : p + sprintf(p, "%s", id);
  p += sprintf(p, "\"}}}");
  res->status = status;
  rc = ct_httpd_response_body(res, buf, (size_t)(p - buf));
  free(buf);
  /* the headers in the order of every answer (ct_http.h) */
  if (rc != 0 ||
      ct_httpd_response_header(res, "request-id", id) != 0 ||
      ct_httpd_response_header(res, "client-request-id",
                               crid ? crid : id) != 0 ||
      ct_httpd_response_header(res, "Content-Type",
                               CT_HTTPD_JSON_TYPE) != 0)
    return -1;
  return 0;
}

static void log_line(ct_httpd_server *srv, const char *method,
                     const conn_req *r, int status) {
  if (!srv->log) return;
  fprintf(srv->log, "%s %.*s %d %.1f ms\n", method,
          (int)(r && r->target_len < 2000 ? r->target_len : 0),
          r && r->target ? r->target : "", status,
          r ? (ct_httpd_monotonic() - r->start) * 1e3 : 0.0);
  fflush(srv->log);
}

static struct MHD_Response *to_mhd(ct_httpd_response *res);

/* an answer the server gives itself (413, the Host 400, 500): Graph's
   error, written by the store through the error hook when there is one,
   with a fresh request-id and the client-request-id echoed */
static enum MHD_Result queue_error(ct_httpd_server *srv,
                                   struct MHD_Connection *c,
                                   const char *method, const conn_req *r,
                                   int status, const char *code,
                                   const char *message) {
  ct_httpd_response res;
  struct MHD_Response *resp;
  enum MHD_Result ok;
  char id[37];
  const char *crid = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "client-request-id");
  fresh_guid(srv, id);
  memset(&res, 0, sizeof res);
  res.status = status;
  if (!srv->on_error ||
      srv->on_error(srv->error_ctx, status, code, message, crid, id,
                    method, r ? r->target : "", r ? r->target_len : 0,
                    &res) != 0 || res.oom || res.status != status) {
    response_free(&res);
    memset(&res, 0, sizeof res);
    if (own_error(&res, status, code, message, crid, id) != 0) {
      response_free(&res);
      return MHD_NO;
    }
  }
  resp = to_mhd(&res);
  response_free(&res);
  if (!resp) return MHD_NO;
  ok = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  log_line(srv, method, r, status);
  return ok;
}

void ct_httpd_set_error(ct_httpd_server *srv, ct_httpd_error fn,
                        void *ctx) {
  srv->on_error = fn;
  srv->error_ctx = ctx;
}

/* ---------------------------------------------------------- requests */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  conn_req *r = calloc(1, sizeof *r);
  (void)cls;
  (void)c;
  if (!r) return NULL;
  r->target_len = strlen(uri);
  r->target = malloc(r->target_len + 1);
  if (!r->target) { free(r); return NULL; }
  memcpy(r->target, uri, r->target_len + 1);
  r->start = ct_httpd_monotonic();
  return r;
}

static void unlink_suspended(ct_httpd_server *srv, conn_req *r) {
  if (!r->suspended) return;
  if (r->prev) r->prev->next = r->next;
  else srv->suspended = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  r->suspended = 0;
}

static void on_completed(void *cls, struct MHD_Connection *c,
                         void **con_cls, enum MHD_RequestTerminationCode t) {
  conn_req *r = *con_cls;
  (void)c;
  (void)t;
  if (r) {
    unlink_suspended(cls, r);
    if (r->pending) MHD_destroy_response(r->pending);
    free(r->target);
    free(r->body);
    free(r);
    *con_cls = NULL;
  }
}

typedef struct header_list {
  ct_httpd_header *h;
  size_t n, cap;
  int oom;
  char **own;                 /* joined values, NULL where MHD's */
} header_list;

/* folds a repeated header name (compared without case, RFC 9110 5.1)
   into its first place, its values joined by ", " in arrival order (RFC
   9110 5.3); -1 out of memory */
static int fold_headers(header_list *hl) {
  size_t i, k, out = 0;
  for (i = 0; i < hl->n; i++) {
    size_t a, b;
    char *p;
    for (k = 0; k < out; k++)
      if (strcasecmp(hl->h[k].name, hl->h[i].name) == 0) break;
    if (k == out) {
      hl->h[out++] = hl->h[i];
      continue;
    }
    /* the first repeat: no allocation for a request without one */
    if (!hl->own && !(hl->own = calloc(hl->n, sizeof *hl->own))) return -1;
    a = strlen(hl->h[k].value);
    b = strlen(hl->h[i].value);
    if (!(p = malloc(a + b + 3))) return -1;
    memcpy(p, hl->h[k].value, a);
    memcpy(p + a, ", ", 2);
    memcpy(p + a + 2, hl->h[i].value, b + 1);
    free(hl->own[k]);
    hl->own[k] = p;
    hl->h[k].value = p;
  }
  hl->n = out;
  return 0;
}

static void header_list_free(header_list *hl) {
  size_t i;
  if (hl->own)
    for (i = 0; i < hl->n; i++) free(hl->own[i]);
  free(hl->own);
  free(hl->h);
}

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value) {
  header_list *hl = cls;
  (void)kind;
  if (hl->n == hl->cap) {
    size_t cap = hl->cap ? hl->cap * 2 : 16;
    ct_httpd_header *p = realloc(hl->h, cap * sizeof *p);
    if (!p) { hl->oom = 1; return MHD_NO; }
    hl->h = p;
    hl->cap = cap;
  }
  hl->h[hl->n].name = key;
  hl->h[hl->n].value = value ? value : "";
  hl->n++;
  return MHD_YES;
}

/* the handler's answer as an MHD response; NULL out of memory */
static struct MHD_Response *to_mhd(ct_httpd_response *res) {
  struct MHD_Response *resp;
  size_t i = 0;
  resp = MHD_create_response_from_buffer_with_free_callback(
      res->blen, res->body, free);
  if (!resp) return NULL;
  res->body = NULL;           /* the response owns it now */
  while (i < res->hlen) {
    const char *name = res->hdr + i;
    const char *value = name + strlen(name) + 1;
    if (MHD_add_response_header(resp, name, value) != MHD_YES) {
      MHD_destroy_response(resp);
      return NULL;
    }
    i = (size_t)(value + strlen(value) + 1 - res->hdr);
  }
  return resp;
}

static enum MHD_Result answer(listener *l, struct MHD_Connection *c,
                              const char *method, conn_req *r) {
  ct_httpd_server *srv = l->srv;
  ct_httpd_request req;
  ct_httpd_response res;
  header_list hl;
  struct MHD_Response *resp;
  enum MHD_Result ok;
  char host[300];
  const char *h;
  int rc;

  memset(&hl, 0, sizeof hl);
  MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, &hl);
  if (hl.oom || fold_headers(&hl) != 0) {
    header_list_free(&hl);
    return queue_error(srv, c, method, r, 500, "generalException",
                       "The server is out of memory.");
  }
  h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  if (!h || !*h) {
    /* HTTP/1.0 without Host: the listener's address (HTTPS: the name the
     * certificate is for) */
    if (l->tls) snprintf(host, sizeof host, "localhost:%d", l->port);
    else snprintf(host, sizeof host, srv->host_v6 ? "[%s]:%d" : "%s:%d",
                  srv->host, l->port);
    h = host;
  }
  memset(&req, 0, sizeof req);
  req.method = method;
  req.target = r->target;
  req.target_len = r->target_len;
  req.scheme = l->tls ? "https" : "http";
  req.host = h;
  req.headers = hl.h;
  req.nheaders = hl.n;
  req.body = r->body ? r->body : "";
  req.body_len = r->len;

  memset(&res, 0, sizeof res);
  res.status = 200;
  rc = srv->handler(srv->ctx, &req, &res);
  header_list_free(&hl);
  if (rc != 0 || res.oom) {
    response_free(&res);
    return queue_error(srv, c, method, r, 500, "generalException",
                       "The request handler failed; see the server log.");
  }
  resp = to_mhd(&res);
  if (!resp) {
    response_free(&res);
    return queue_error(srv, c, method, r, 500, "generalException",
                       "The server is out of memory.");
  }
  if (res.delay > 0) {
    /* the answer waits with its connection suspended: the loop resumes
     * it when due (resume_due), and on_access then queues it */
    r->pending = resp;
    r->pending_status = (unsigned)res.status;
    r->due = ct_httpd_monotonic() + res.delay;
    snprintf(r->method, sizeof r->method, "%s", method);
    r->conn = c;
    r->prev = NULL;
    r->next = srv->suspended;
    if (srv->suspended) srv->suspended->prev = r;
    srv->suspended = r;
    r->suspended = 1;
    response_free(&res);
    MHD_suspend_connection(c);
    return MHD_YES;
  }
  ok = MHD_queue_response(c, (unsigned)res.status, resp);
  MHD_destroy_response(resp);
  log_line(srv, method, r, res.status);
  response_free(&res);
  return ok;
}

/* a delayed answer, once its connection is resumed */
static enum MHD_Result send_pending(ct_httpd_server *srv,
                                    struct MHD_Connection *c, conn_req *r) {
  struct MHD_Response *resp = r->pending;
  enum MHD_Result ok;
  r->pending = NULL;
  ok = MHD_queue_response(c, r->pending_status, resp);
  MHD_destroy_response(resp);
  log_line(srv, r->method, r, (int)r->pending_status);
  return ok;
}

/* RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, with two, or
 * with one that is not host[:port] -- its value is written into links */
static enum MHD_Result count_host(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value) {
  (void)kind;
  (void)value;
  if (strcasecmp(key, "Host") == 0) ++*(int *)cls;
  return MHD_YES;
}

/* 1 when h is host[:port] (RFC 3986 3.2.2-3.2.3): an IP literal in
   brackets or a reg-name (no ':'), then at most a ':' and a port of 1
   to 5 digits from 0 to 65535 */
static int host_port_ok(const char *h) {
  static const char name[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%";
  size_t n;
  if (*h == '[') {
    n = strspn(h + 1, "0123456789abcdefABCDEF:.vV-._~!$&'()*+,;=");
    if (n == 0 || h[1 + n] != ']') return 0;
    h += n + 2;
  } else {
    n = strspn(h, name);
    if (n == 0) return 0;
    h += n;
  }
  if (*h == '\0') return 1;
  if (*h++ != ':') return 0;
  n = strspn(h, "0123456789");
  return n >= 1 && n <= 5 && h[n] == '\0' && strtol(h, NULL, 10) <= 65535;
}

static int host_ok(struct MHD_Connection *c, const char *version) {
  int n = 0;
  const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
  MHD_get_connection_values(c, MHD_HEADER_KIND, count_host, &n);
  if (n > 1) return 0;
  if (!h || !*h) return strcmp(version, MHD_HTTP_VERSION_1_1) != 0;
  return host_port_ok(h);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
                                 const char *url, const char *method,
                                 const char *version, const char *data,
                                 size_t *size, void **con_cls) {
  listener *l = cls;
  ct_httpd_server *srv = l->srv;
  conn_req *r = *con_cls;
  (void)url;
  if (!r) return MHD_NO;      /* out of memory in on_uri: drop it */
  if (r->pending) return send_pending(srv, c, r);
  if (!r->seen_headers) {
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "Content-Length");
    r->seen_headers = 1;
    if (!host_ok(c, version))
      return queue_error(srv, c, method, r, 400, "invalidRequest",
                         "The Host header is missing, repeated or not "
                         "host[:port].");
    if (cl) {
      char *end;
      unsigned long long n;
      errno = 0;
      n = strtoull(cl, &end, 10);
      if (errno == 0 && end != cl && n > srv->max_body) {
        /* answer now: the body is never read, the connection closes */
        return queue_error(srv, c, method, r, 413, "invalidRequest",
                           "The request body is larger than 1 MiB.");
      }
    }
    return MHD_YES;
  }
  if (*size != 0) {
    size_t n = *size;
    *size = 0;
    if (r->too_large || r->len + n > srv->max_body) {
      /* a chunked body past the limit: thrown away, answered 413 at
       * its end; a client that goes on far past it is cut off */
      r->too_large = 1;
      r->skipped += n;
      return r->skipped > 8 * srv->max_body ? MHD_NO : MHD_YES;
    }
    if (r->len + n + 1 > r->cap) {
      size_t cap = r->cap ? r->cap : 1024;
      char *p;
      while (cap < r->len + n + 1) cap *= 2;
      p = realloc(r->body, cap);
      if (!p) return MHD_NO;
      r->body = p;
      r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return MHD_YES;
  }
  if (r->too_large)
    return queue_error(srv, c, method, r, 413, "invalidRequest",
                       "The request body is larger than 1 MiB.");
  return answer(l, c, method, r);
}

/* ---------------------------------------------------------- listeners */

static void set_err(char *err, size_t n, const char *fmt, const char *a,
                    int port) {
  if (err && n) snprintf(err, n, fmt, a, port);
}

static int open_listener(ct_httpd_server *srv, listener *l, int tls,
                         int port, const ct_httpd_config *cfg,
                         const struct addrinfo *ai, char *err,
                         size_t errlen) {
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  struct sockaddr_storage sa;
  const union MHD_DaemonInfo *info;
  struct epoll_event ev;
  struct MHD_OptionItem tls_opts[3] = { { MHD_OPTION_END, 0, NULL },
    { MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL } };
  memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
  if (ai->ai_family == AF_INET6) {
    flags |= MHD_USE_IPv6;
    ((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
  } else {
    ((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
  }
  if (tls) flags |= MHD_USE_TLS;
  l->srv = srv;
  l->tls = tls;
  /* one call for both kinds: the HTTPS listener adds its certificate and
     key through an option array, which is empty for plain HTTP */
  if (tls) {
    tls_opts[0].option = MHD_OPTION_HTTPS_MEM_CERT;
    tls_opts[0].ptr_value = (void *)(uintptr_t)cfg->cert_pem;
    tls_opts[1].option = MHD_OPTION_HTTPS_MEM_KEY;
    tls_opts[1].ptr_value = (void *)(uintptr_t)cfg->key_pem;
  }
  l->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, l,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)srv,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)srv,
      MHD_OPTION_CONNECTION_LIMIT, cfg->connection_limit,
      MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      MHD_OPTION_ARRAY, tls_opts,
      MHD_OPTION_END);
  if (!l->d) {
    set_err(err, errlen, tls ? "can't listen (HTTPS) on %s port %d: the "
            "port is taken, the address is not local, or the certificate "
            "and key do not match" : "can't listen on %s port %d: the port "
            "is taken or the address is not local", srv->host, port);
    return -1;
  }
  info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
  l->port = info ? (int)info->port : port;
  info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
  if (!info) {
    set_err(err, errlen, "no epoll descriptor for %s port %d", srv->host,
            port);
    return -1;
  }
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = l;
  if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) != 0) {
    set_err(err, errlen, "epoll_ctl failed for %s port %d", srv->host,
            port);
    return -1;
  }
  return 0;
}

ct_httpd_server *ct_httpd_open(const ct_httpd_config *cfg, char *err,
                             size_t errlen) {
  ct_httpd_server *srv;
  struct addrinfo hints, *ai = NULL;
  const char *host = cfg->host ? cfg->host : "127.0.0.1";
  int rc;

  if (cfg->port < -1 || cfg->port > 65535 || cfg->https_port < -1 ||
      cfg->https_port > 65535 || (cfg->port < 0 && cfg->https_port < 0)) {
    set_err(err, errlen, "bad ports for %s (%d)", host, cfg->port);
    return NULL;
  }
  if (cfg->https_port >= 0 && (!cfg->cert_pem || !cfg->key_pem)) {
    set_err(err, errlen, "HTTPS on %s port %d needs a certificate and a "
            "key", host, cfg->https_port);
    return NULL;
  }
  if (strlen(host) >= sizeof srv->host) {
    set_err(err, errlen, "%.60s...: address too long%.0d", host, 0);
    return NULL;
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  rc = getaddrinfo(host, NULL, &hints, &ai);
  if (rc != 0 || !ai) {
    set_err(err, errlen, "can't resolve the address '%s'%.0d", host, 0);
    if (ai) freeaddrinfo(ai);
    return NULL;
  }
  srv = calloc(1, sizeof *srv);
  if (!srv) {
    freeaddrinfo(ai);
    set_err(err, errlen, "out of memory%s%.0d", "", 0);
    return NULL;
  }
  strcpy(srv->host, host);
  srv->host_v6 = ai->ai_family == AF_INET6;
  srv->log = cfg->log;
  srv->max_body = cfg->max_body ? cfg->max_body : CT_HTTPD_MAX_BODY;
  {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    srv->rng = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
               ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)srv;
  }
  srv->ep = epoll_create1(EPOLL_CLOEXEC);
  if (srv->ep < 0) {
    set_err(err, errlen, "epoll_create1 failed%s%.0d", "", 0);
    freeaddrinfo(ai);
    free(srv);
    return NULL;
  }
  {
    ct_httpd_config c = *cfg;
    if (!c.connection_limit) c.connection_limit = 1000;
    if (!c.timeout_s) c.timeout_s = 30;
    if ((c.port >= 0 && open_listener(srv, &srv->l[0], 0, c.port, &c, ai,
                                      err, errlen) != 0) ||
        (c.https_port >= 0 && open_listener(srv, &srv->l[1], 1,
                                            c.https_port, &c, ai, err,
                                            errlen) != 0)) {
      freeaddrinfo(ai);
      ct_httpd_close(srv);
      return NULL;
    }
  }
  freeaddrinfo(ai);
  return srv;
}

int ct_httpd_port(const ct_httpd_server *srv, int tls) {
  const listener *l = &srv->l[tls ? 1 : 0];
  return l->d ? l->port : -1;
}

/* resumes the suspended connections whose answer is due (all of them
 * when `all`); on_access then queues their answers */
static void resume_due(ct_httpd_server *srv, int all) {
  double now = ct_httpd_monotonic();
  conn_req *r = srv->suspended, *next;
  for (; r; r = next) {
    next = r->next;
    if (all || r->due <= now) {
      unlink_suspended(srv, r);
      MHD_resume_connection(r->conn);
    }
  }
}

/* how long to wait: the daemons' own timeouts, the tick, the earliest
 * delayed answer, and at most half a second so that a signal that came
 * just before the wait is seen */
static int wait_ms(ct_httpd_server *srv, int tick_ms) {
  int ms = 500, i;
  const conn_req *r;
  double now = ct_httpd_monotonic();
  if (tick_ms > 0 && tick_ms < ms) ms = tick_ms;
  for (r = srv->suspended; r; r = r->next) {
    double left = (r->due - now) * 1e3;
    if (left < ms) ms = left <= 0 ? 0 : (int)left + 1;
  }
  for (i = 0; i < 2; i++) {
    MHD_UNSIGNED_LONG_LONG t;
    if (srv->l[i].d && MHD_get_timeout(srv->l[i].d, &t) == MHD_YES &&
        t < (MHD_UNSIGNED_LONG_LONG)ms)
      ms = (int)t;
  }
  return ms;
}

int ct_httpd_run(ct_httpd_server *srv, ct_httpd_handler handler,
                ct_httpd_tick tick, void *ctx, int tick_ms,
                volatile sig_atomic_t *stop) {
  double next_tick = ct_httpd_monotonic() + tick_ms / 1e3;
  srv->handler = handler;
  srv->ctx = ctx;
  while (!*stop) {
    struct epoll_event ev[2];
    int n, i;
    n = epoll_wait(srv->ep, ev, 2, wait_ms(srv, tick ? tick_ms : 0));
    if (n < 0 && errno != EINTR) return -1;
    if (*stop) break;
    resume_due(srv, 0);
    /* let each daemon do its work: ready or not, its timeouts run too */
    for (i = 0; i < 2; i++)
      if (srv->l[i].d) MHD_run_wait(srv->l[i].d, 0);
    if (tick && tick_ms > 0 && ct_httpd_monotonic() >= next_tick) {
      tick(ctx);
      next_tick = ct_httpd_monotonic() + tick_ms / 1e3;
    }
  }
  srv->handler = NULL;
  srv->ctx = NULL;
  return 0;
}

void ct_httpd_close(ct_httpd_server *srv) {
  int i;
  if (!srv) return;
  /* libmicrohttpd refuses to stop with suspended connections: resumed,
   * they are closed with the daemon (their answers are dropped) */
  resume_due(srv, 1);
  for (i = 0; i < 2; i++)
    if (srv->l[i].d) MHD_stop_daemon(srv->l[i].d);
  if (srv->ep >= 0) close(srv->ep);
  free(srv);
}
