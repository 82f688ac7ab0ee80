/*
** ct_request_int.h -- internal to the request path (ct_request.c,
** ct_request_url.c, ct_request_auth.c): the request under way, and the
** helpers the three share.  Not a public API.
*/
#ifndef CT_REQUEST_INT_H
#define CT_REQUEST_INT_H

#include <stdint.h>
#include <string.h>

#include "ct_json.h"
#include "ct_request.h"
#include "ct_store.h"

#define READ_SCOPE "CrossTenantContentMigration.Read.All"
#define WRITE_SCOPE "CrossTenantContentMigration.ReadWrite.All"

/* bytes with a length (not NUL-terminated) */
typedef struct str { const char *p; size_t n; } str;

static inline int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}
static inline int is_space(int c) {  /* Lua's %s: C's isspace, C locale */
  return c == ' ' || (c >= '\t' && c <= '\r');
}
static inline int is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(int c) { return is_alpha(c) || is_digit(c); }

/* case-insensitive: the n bytes of s equal NUL-terminated lowercase w */
static inline int ieq(const char *s, size_t n, const char *w) {
  size_t i;
  for (i = 0; i < n; i++)
    if (w[i] == '\0' || lower((unsigned char)s[i]) != w[i]) return 0;
  return w[n] == '\0';
}
static inline int eq(const char *s, size_t n, const char *w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* at most `max` bytes of s, as Lua's s:sub(1, max) */
static inline size_t upto(size_t n, size_t max) {
  return n < max ? n : max;
}

#define OP_LIST_JOBS CT_OP_LIST_JOBS
#define OP_CREATE_JOB CT_OP_CREATE_JOB
#define OP_GET_JOB CT_OP_GET_JOB
#define OP_UPDATE_JOB CT_OP_UPDATE_JOB
#define OP_DELETE_JOB CT_OP_DELETE_JOB
#define OP_VALIDATE CT_OP_VALIDATE
#define OP_MIGRATE CT_OP_MIGRATE
#define OP_CANCEL_JOB CT_OP_CANCEL_JOB
#define OP_LIST_TASKS CT_OP_LIST_TASKS
#define OP_CREATE_TASK CT_OP_CREATE_TASK
#define OP_GET_TASK CT_OP_GET_TASK
#define OP_CANCEL_TASK CT_OP_CANCEL_TASK
#define OP_COUNT_JOBS CT_OP_COUNT_JOBS
#define OP_COUNT_TASKS CT_OP_COUNT_TASKS
#define OP__NONE CT_OP__COUNT

typedef struct who {
  ct_caller c;
  str app;                /* the token's appid or azp; "" by default */
  int read, write;
  str *scopes;            /* the token's permissions, for a 403 */
  size_t nscopes;
} who;

typedef struct rq {
  ct_store *s;
  const ct_http_request *req;
  ct_http_response *res;
  ct_arena a;
  str crid;               /* client-request-id; p == NULL: none */
  str auth;               /* Authorization; p == NULL: none */
  str base;
  const char *version;    /* "beta" or "v1.0" */
  int no_headers;         /* ct_request_op: no Location to write */
} rq;

typedef struct url {
  str *segs;              /* decoded path segments, in the arena */
  size_t nsegs;
  str qs;                 /* the raw query string */
} url;

enum kind {
  K_JOBS, K_JOB, K_VALIDATE, K_MIGRATE, K_CANCEL, K_USERS, K_USER,
  K_USERCANCEL, K_JOBSCOUNT, K_USERSCOUNT
};

typedef struct route {
  int kind;
  str job, task;
  int byname;
} route;

/* ct_request.c: every refusal (the Graph error body, a fresh request
   id); each returns -1 */
int ct_rq_fail(rq *q, int status, const char *code, const char *inner,
               const char *msg, size_t n);
/* the message is pre + the n bytes of s + post */
int ct_rq_fail3(rq *q, int status, const char *code, const char *inner,
                const char *pre, const char *s, size_t n, const char *post);
int ct_rq_not_found_seg(rq *q, str seg);

/* ct_request_url.c: percent-decoding into out (room for n bytes), '+'
   as space when `plus`; the length, or -1 on a bad escape */
long ct_rq_unescape(const char *s, size_t n, char *out, int plus);
/* the target into segments and query string; 0, -1 refused, -2 OOM */
int ct_rq_parse_url(rq *q, url *u);
/* the route of the segments; 0, -1 refused (404), -2 OOM */
int ct_rq_find_route(rq *q, const url *u, route *r);
/* the operation of a route for GET, POST, PATCH, DELETE (0..3), or -1;
   and what a 405 lists */
int ct_rq_route_op(int kind, int method);
const char *ct_rq_route_allows(int kind);

/* ct_request_auth.c: client-request-id and Authorization (0, or -1 for
   a name given twice with different values) */
int ct_rq_read_headers(rq *q);
/* the caller from the token or the defaults; 0, -1 refused, -2 OOM */
int ct_rq_read_caller(rq *q, who *w);
/* the 403 for a caller without the permission */
int ct_rq_deny(rq *q, const who *w, int write);

#endif
