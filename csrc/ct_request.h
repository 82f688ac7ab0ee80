/*
** ct_request.h -- Graph's HTTP interface over the store: one request in
** (method, target, headers, body), one response out (status, headers,
** body), with no Lua.  This is the request path `graph:request` and the
** HTTP server both use; behavior.md is its contract.
**
** It owns: URL parsing and percent-decoding, case-insensitive segments,
** the alternate key, 404 and 405, bearer tokens (the JWT payload read by
** the core's JSON reader), scopes and tenants, query options, the
** operation, the Graph error body, Location, request-id and
** client-request-id, $count as text.
**
** A front end (the HTTP server) answers one request so:
**
**   ct_http_request req = {0};            (C99: memset to 0)
**   req.method = "POST"; req.method_len = 4;
**   req.target = raw_target; ...          (path and query, as received)
**   req.headers = h; req.nheaders = n;    (repeated names folded first,
**                                          "a, b", as RFC 9110 allows)
**   req.body_kind = len ? CT_BODY_TEXT : CT_BODY_NONE; req.body = ...;
**   req.base_url = "http://127.0.0.1:8080";
**   req.default_caller = tokens_required ? NULL : &caller;
**   ct_http_response_init(&res);          (once; each call empties it)
**   if (ct_request(store, &req, &res) < 0) answer 500;
**   send res.status, Content-Type (res.content_type, if any),
**   request-id, client-request-id, Location (if res.location.len),
**   Retry-After (if res.retry_after, decimal seconds),
**   and res.body (res.body.len bytes; none for CT_R_NONE).
**   ct_http_response_free(&res);          (at the end)
**
** Memory: the response owns everything it holds; free it with
** ct_http_response_free.  Its record pointers (ct_result.job, .jobs,
** ...) stay valid until the next call that may remove a job
** (ct_store_advance) -- long enough to write or convert the answer.
*/
#ifndef CT_REQUEST_H
#define CT_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ct_json.h"
#include "ct_store.h"

/* the base URL written into links when the request names none */
#define CT_BASE_URL "https://graph.microsoft.com"

typedef struct ct_http_header {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} ct_http_header;

enum ct_body_kind {
  CT_BODY_NONE,   /* no body at all */
  CT_BODY_TEXT,   /* `body`, `body_len`: JSON text, parsed when needed */
  CT_BODY_TREE    /* `body_tree`, already read (a binding's table) */
};

typedef struct ct_http_request {
  const char *method;           /* any case; need not be NUL-terminated */
  size_t method_len;
  /* "/solutions/...", "/beta/...", "/v1.0/..." or an absolute URL, with
     its query string (raw, percent-encoded) */
  const char *target;
  size_t target_len;
  const ct_http_header *headers;  /* names any case; a name given twice
                                     with different values is a 400 */
  size_t nheaders;
  int body_kind;                /* enum ct_body_kind */
  const char *body;             /* CT_BODY_TEXT */
  size_t body_len;
  /* CT_BODY_TREE: the tree (kind CT_JEMPTY for an empty table), or NULL
     when the binding could not read the value: body_err then says why,
     and that error is the answer once the operation reads its body */
  const ct_jval *body_tree;
  const ct_err *body_err;
  /* "scheme://host[:port]", no trailing slash; NULL: CT_BASE_URL.
     Written into @odata.context, @odata.nextLink and Location; an
     absolute target must name this scheme and host. */
  const char *base_url;
  /* who calls when the request has no Authorization header (read and
     write permissions); NULL: a token is required (401 without one) */
  const ct_caller *default_caller;
  /* throttling and transient faults (ct_fault.h), decided once the
     caller and the URL are known, before the route: `no_faults` 1 never
     refuses (a tool's own reads); `fault_now` (ticks) is the clock they
     decide on when `has_fault_now` (a server: the wall clock), else the
     model clock */
  int no_faults;
  int has_fault_now;
  int64_t fault_now;
  /* 1: HEAD is routed as GET (an HTTP server, which then sends the
     answer without its body, RFC 9110 9.3.2); 0: HEAD is a 405 */
  int head_as_get;
  /* optional scratch memory for the call (parsing, query options): left
     reset (ct_arena_reset) when the call returns, so a front end that
     passes the same arena each time mallocs nothing for small bodies;
     NULL: the call uses an arena of its own.  A CT_BODY_TREE body may
     live in it. */
  ct_arena *scratch;
} ct_http_request;

/* what a response body holds: the records, before any JSON is written */
enum ct_shape {
  CT_R_NONE,         /* no body (202 delete, 204 update) */
  CT_R_TEXT,         /* a $count: `count`, as text/plain */
  CT_R_ERROR,        /* Graph's error body */
  CT_R_JOB,          /* `job` (with `users` when `expand`) */
  CT_R_TASK,         /* `task` of `job` (seed form when `seed`) */
  CT_R_JOBS,         /* collection: `jobs[nitems]` */
  CT_R_TASKS,        /* collection: `tasks[nitems]` of `job` */
  CT_R_JOB_CANCEL,   /* {id, displayName, status: pendingCancel, message} */
  CT_R_TASK_CANCEL   /* {status: Accepted, message} for `task` of `job` */
};

typedef struct ct_result {
  int shape;
  ct_buf context;          /* @odata.context; empty: none */
  ct_buf next_link;        /* @odata.nextLink; empty: none */
  int has_count;           /* @odata.count present */
  size_t count;            /* @odata.count, or the CT_R_TEXT count */
  /* $select: bit i set keeps property i of ct_type_job / ct_type_task
     (id and annotations are always kept); 0 keeps everything */
  uint32_t select;
  int expand;              /* jobs carry `users` (every task) */
  int seed;                /* tasks carry @odata.type annotations */
  ct_job *job;
  ct_task *task;
  ct_job **jobs;           /* CT_R_JOBS, owned array */
  ct_task **tasks;         /* CT_R_TASKS, owned array */
  size_t nitems;
  /* CT_R_ERROR */
  const char *code;        /* static text */
  const char *inner;       /* innerError.code, static text or NULL */
  ct_buf message;          /* valid UTF-8 (bad bytes became '?') */
  char date[20];           /* "YYYY-MM-DDTHH:MM:SS", UTC, no offset */
  char request_id[37];
  ct_buf client_request_id;   /* valid UTF-8 */
} ct_result;

typedef struct ct_http_response {
  int status;
  const char *content_type;     /* static; NULL: no Content-Type */
  char request_id[37];          /* the request-id header */
  ct_buf client_request_id;     /* header: as sent, else request_id */
  ct_buf location;              /* Location header; empty: none */
  int retry_after;              /* Retry-After header, seconds; 0: none */
  const char *allow;            /* static; a 405's Allow header (the
                                   methods the path takes); NULL: none */
  ct_buf body;                  /* ct_request: the body text */
  ct_result r;                  /* the body as records */
} ct_http_response;

/* the operations, one implementation each (request path and methods) */
enum ct_op {
  CT_OP_LIST_JOBS, CT_OP_CREATE_JOB, CT_OP_GET_JOB, CT_OP_UPDATE_JOB,
  CT_OP_DELETE_JOB, CT_OP_VALIDATE, CT_OP_MIGRATE, CT_OP_CANCEL_JOB,
  CT_OP_LIST_TASKS, CT_OP_CREATE_TASK, CT_OP_GET_TASK, CT_OP_CANCEL_TASK,
  CT_OP_COUNT_JOBS, CT_OP_COUNT_TASKS, CT_OP__COUNT
};

/* one operation, already routed: what a method call names */
typedef struct ct_op_request {
  int op;                       /* enum ct_op */
  ct_caller caller;             /* with read and write permissions */
  const char *job;              /* job key (id or displayName) */
  size_t job_len;
  int byname;                   /* the key is only a displayName */
  const char *task;             /* task key (user id) */
  size_t task_len;
  /* query options as a URL's query string (percent-encoded, names with
     `$`); NULL: none */
  const char *query;
  size_t query_len;
  /* the body (body_kind, body, body_len, body_tree, body_err) and
     base_url are read from here; the rest is ignored */
  ct_http_request http;
} ct_op_request;

void ct_http_response_init(ct_http_response *res);
void ct_http_response_free(ct_http_response *res);   /* idempotent */
/* empty an answered response for the next request, keeping the memory
   of its buffers (a front end answering many requests reuses one) */
void ct_http_response_reset(ct_http_response *res);

/*
** Answer one request: empties `res` (keeping its buffers' memory) and
** fills it (status, headers, records) without writing the body text.
** A refused request changes nothing in the store (it only draws request
** ids).  Returns res->status, or -1 when memory ran out (res is then a
** 500 with no usable body).
*/
int ct_request_run(ct_store *s, const ct_http_request *req,
                   ct_http_response *res);

/*
** Run one operation for a known caller, on /beta, without a URL, a
** token, response headers (no Location) or a request id of its own (a
** refusal draws one for its error body, as every refusal does): the
** methods' entry.  Returns as ct_request_run.
*/
int ct_request_op(ct_store *s, const ct_op_request *req,
                  ct_http_response *res);

/*
** Write the body of an answered request into `out`: Graph's JSON with
** the documented property order, or the $count as text, or nothing.
** `out` has oom set when memory ran out.
*/
void ct_response_write(const ct_http_response *res, ct_buf *out);

/*
** ct_request_run, then the body text into res->body: the whole request
** path, text in, text out.  Returns res->status, or -1 when out of memory.
*/
int ct_request(ct_store *s, const ct_http_request *req,
               ct_http_response *res);

/*
** A Graph error the front end answers itself, written as every refusal
** of the request path is (body text in res->body, headers in res): for
** a request refused before it reaches the store (a body over the limit,
** a bad Host) or that failed (500).  `request_id`: the 36 characters of
** the id to use, or NULL to draw one from the store's sequence as a
** refusal does; `crid` (crid_len bytes) the client-request-id sent, or
** NULL (it is then the request id).  innerError.date is the store's
** clock, whole seconds, no offset.  The store is not changed (but for
** the id drawn when request_id is NULL).  Returns `status`, or -1 when
** out of memory.
*/
int ct_request_error(ct_store *s, int status, const char *code,
                     const char *message, const char *crid,
                     size_t crid_len, const char *request_id,
                     ct_http_response *res);

/* The header names a response carries, for front ends that write them */
#define CT_H_REQUEST_ID "request-id"
#define CT_H_CLIENT_REQUEST_ID "client-request-id"
#define CT_H_LOCATION "Location"
#define CT_H_CONTENT_TYPE "Content-Type"

#endif
