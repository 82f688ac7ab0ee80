/*
** ct_request.c -- the request path: target, token, route, query
** options, body, operation, answer.  Order of the checks (each refusal
** answers at once): duplicate headers, the caller (401), the URL (400,
** 404), the route (404), the method (405), permissions (403), the query
** string (400), then the operation's own checks.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_query.h"
#include "ct_request_int.h"
#include "ct_schema.h"

#define JOBS "solutions/migrations/crossTenantMigrationJobs"
#define DEFAULT_TOP 20
#define MAX_TOP 999

/* ---------- text ---------- */

/* the bytes a nextLink leaves as they are */
static int link_safe(int c) {
  return is_alnum(c) || (c != '\0' && strchr("-._~$',()*:@/", c) != NULL);
}

static void add_escaped(ct_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (link_safe(c)) {
      ct_buf_addc(b, (char)c);
    } else {
      char e[3];
      e[0] = '%';
      e[1] = hex[c >> 4];
      e[2] = hex[c & 15];
      ct_buf_add(b, e, 3);
    }
  }
}

/* text as UTF-8: each byte that starts no valid sequence becomes '?' */
static void add_clean(ct_buf *b, const char *s, size_t n) {
  size_t i = 0;
  if (ct_utf8_valid(s, n)) {
    ct_buf_add(b, s, n);
    return;
  }
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0x80 || (i + k <= n && ct_utf8_valid(s + i, k))) {
      ct_buf_add(b, s + i, k);
      i += k;
    } else {
      ct_buf_addc(b, '?');
      i++;
    }
  }
}

/* ---------- the response ---------- */

void ct_http_response_init(ct_http_response *res) {
  memset(res, 0, sizeof *res);
  ct_buf_init(&res->client_request_id);
  ct_buf_init(&res->location);
  ct_buf_init(&res->body);
  ct_buf_init(&res->r.context);
  ct_buf_init(&res->r.next_link);
  ct_buf_init(&res->r.message);
  ct_buf_init(&res->r.client_request_id);
}

void ct_http_response_reset(ct_http_response *res) {
  ct_buf *bufs[7];
  size_t i;
  bufs[0] = &res->client_request_id;
  bufs[1] = &res->location;
  bufs[2] = &res->body;
  bufs[3] = &res->r.context;
  bufs[4] = &res->r.next_link;
  bufs[5] = &res->r.message;
  bufs[6] = &res->r.client_request_id;
  free(res->r.jobs);
  free(res->r.tasks);
  for (i = 0; i < 7; i++) {
    ct_buf keep = *bufs[i];
    if (keep.oom) {                 /* a buffer that failed starts over */
      ct_buf_free(&keep);
      ct_buf_init(&keep);
    }
    keep.len = 0;
    if (keep.p != NULL) keep.p[0] = '\0';
    *bufs[i] = keep;
  }
  {
    ct_buf b[7];
    for (i = 0; i < 7; i++) b[i] = *bufs[i];
    memset(res, 0, sizeof *res);
    res->client_request_id = b[0];
    res->location = b[1];
    res->body = b[2];
    res->r.context = b[3];
    res->r.next_link = b[4];
    res->r.message = b[5];
    res->r.client_request_id = b[6];
  }
}

void ct_http_response_free(ct_http_response *res) {
  ct_buf_free(&res->client_request_id);
  ct_buf_free(&res->location);
  ct_buf_free(&res->body);
  ct_buf_free(&res->r.context);
  ct_buf_free(&res->r.next_link);
  ct_buf_free(&res->r.message);
  ct_buf_free(&res->r.client_request_id);
  free(res->r.jobs);
  free(res->r.tasks);
  res->r.jobs = NULL;
  res->r.tasks = NULL;
}

/* ---------- the request under way ---------- */

/* the system query options Graph knows, and the ones each op takes */
enum qopt {
  Q_FILTER, Q_SELECT, Q_ORDERBY, Q_COUNT, Q_EXPAND, Q_SKIP, Q_TOP,
  Q_SKIPTOKEN, Q_SEARCH, Q_FORMAT, Q_APPLY, Q_COMPUTE, Q__COUNT
};
static const char *const qopt_names[Q__COUNT] = {
  "$filter", "$select", "$orderby", "$count", "$expand", "$skip", "$top",
  "$skiptoken", "$search", "$format", "$apply", "$compute"
};
#define QB(x) (1u << (x))
#define Q_LIST (QB(Q_FILTER) | QB(Q_SELECT) | QB(Q_ORDERBY) | QB(Q_COUNT) | \
                QB(Q_SKIP) | QB(Q_TOP) | QB(Q_SKIPTOKEN))
static const unsigned op_takes[OP__NONE] = {
  Q_LIST | QB(Q_EXPAND),              /* list_jobs */
  0, QB(Q_SELECT) | QB(Q_EXPAND),     /* create_job, get_job */
  0, 0, 0, 0, 0,                      /* update .. cancel_job */
  Q_LIST,                             /* list_tasks */
  0, QB(Q_SELECT), 0,                 /* create_task, get_task, cancel */
  QB(Q_FILTER), QB(Q_FILTER)          /* the two $counts */
};

typedef struct qpair { str name, value; } qpair;

typedef struct query {
  qpair *opts;            /* the $ options, in order */
  size_t nopts;
  str raw[Q__COUNT];      /* decoded values of known ones; NULL: absent */
  size_t skip, top;
  int has_top, count, expand;
  uint32_t select;        /* property bits; 0: all */
  uint8_t names[32];      /* selected property indexes, in order */
  size_t nnames;
} query;

/*
** Every refusal goes through here: the Graph error body, with a fresh
** request id (as the Lua layer did: a refusal inside an operation draws
** a second id after the one the request drew).  Returns -1.
*/
static int fail_id(rq *q, int status, const char *code, const char *inner,
                   const char *msg, size_t n, const char *id) {
  ct_http_response *res = q->res;
  ct_result *r = &res->r;
  ct_guid g;
  ct_time t;
  char when[29];
  int64_t now = q->s->now;
  res->status = status;
  res->content_type = "application/json";
  res->location.len = 0;
  r->shape = CT_R_ERROR;
  r->code = code;
  r->inner = inner;
  r->message.len = 0;
  add_clean(&r->message, msg, n);
  if (id != NULL) {
    memcpy(r->request_id, id, 36);
    r->request_id[36] = '\0';
  } else {
    ct_store_request_id(q->s, &g);
    ct_guid_format(&g, r->request_id);
  }
  memcpy(res->request_id, r->request_id, sizeof r->request_id);
  /* whole seconds, floored; written without the offset, as Graph does */
  t.ticks = now - ((now % CT_TICKS_PER_SEC) + CT_TICKS_PER_SEC) %
                  CT_TICKS_PER_SEC;
  t.digits = 0;
  ct_time_format(&t, when);
  memcpy(r->date, when, 19);
  r->date[19] = '\0';
  r->client_request_id.len = 0;
  res->client_request_id.len = 0;
  if (q->crid.p != NULL) {
    add_clean(&r->client_request_id, q->crid.p, q->crid.n);
    ct_buf_add(&res->client_request_id, q->crid.p, q->crid.n);
  } else {
    ct_buf_add(&r->client_request_id, r->request_id, 36);
    ct_buf_add(&res->client_request_id, r->request_id, 36);
  }
  return -1;
}

int ct_rq_fail(rq *q, int status, const char *code, const char *inner,
               const char *msg, size_t n) {
  return fail_id(q, status, code, inner, msg, n, NULL);
}

static int fail_err(rq *q, const ct_err *e) {
  return ct_rq_fail(q, e->status, e->code, e->inner, e->message,
                    strlen(e->message));
}

/* a refusal whose message is prefix + the value quoted + suffix */
int ct_rq_fail3(rq *q, int status, const char *code, const char *inner,
                const char *pre, const char *s, size_t n,
                const char *post) {
                ct_buf m;
  int r;
  ct_buf_init(&m);
  ct_buf_adds(&m, pre);
  ct_buf_add(&m, s, n);
  ct_buf_adds(&m, post);
  r = ct_rq_fail(q, status, code, inner, m.p ? m.p : "", m.len);
  ct_buf_free(&m);
  return r;
}

static int bad_request(rq *q, const char *msg) {
  return ct_rq_fail(q, 400, "invalidRequest", NULL, msg, strlen(msg));
}

static int query_error3(rq *q, const char *pre, const char *s, size_t n,
                        const char *post) {
  return ct_rq_fail3(q, 400, "invalidRequest", "invalidQueryOption", pre,
                     s, n, post);
}

int ct_rq_not_found_seg(rq *q, str seg) {
  return ct_rq_fail3(q, 404, "itemNotFound", NULL,
                     "Resource not found for the segment '", seg.p, seg.n,
                     "'.");
}

/* ---------- query options ---------- */

static int qopt_find(const char *s, size_t n) {
  int i;
  for (i = 0; i < Q__COUNT; i++)
    if (ieq(s, n, qopt_names[i])) return i;
  return -1;
}

/* the documented name of a property, found case-insensitively */
static int prop_find(const ct_type *t, size_t nprops, const char *s,
                     size_t n) {
  size_t i;
  for (i = 0; i < nprops; i++) {
    const char *p = t->props[i].name;
    size_t k;
    if (strlen(p) != n) continue;
    for (k = 0; k < n && lower((unsigned char)p[k]) ==
                         lower((unsigned char)s[k]); k++) ;
    if (k == n) return (int)i;
  }
  return -1;
}

/* $select: names of the type (any case), or '*'; 0, or -1 refused */
static int check_select(rq *q, str v, int jobs, query *o) {
  const ct_type *t = jobs ? &ct_type_job : &ct_type_task;
  /* a job's `users` is not selectable: it comes with $expand */
  size_t nprops = jobs ? CT_JOB_USERS : CT_TASK__COUNT, i = 0;
  uint32_t set = 0;
  if (v.n == 0)
    return query_error3(q, "Invalid $select: it is empty.", "", 0, "");
  o->nnames = 0;
  for (;;) {
    size_t b = i, e;
    int k;
    while (i < v.n && v.p[i] != ',') i++;
    e = i;
    while (b < e && is_space((unsigned char)v.p[b])) b++;
    while (e > b && is_space((unsigned char)v.p[e - 1])) e--;
    if (e - b == 1 && v.p[b] == '*') {
      o->select = 0;
      o->nnames = 0;
      return 0;
    }
    k = prop_find(t, nprops, v.p + b, e - b);
    if (k < 0)
      return query_error3(q, "Invalid $select: unknown property '",
                          v.p + b, upto(e - b, 60), "'.");
    if (!(set & (1u << k))) {
      set |= 1u << k;
      o->names[o->nnames++] = (uint8_t)k;
    }
    if (i >= v.n) break;
    i++;
  }
  o->select = set;
  return 0;
}

/* a non-negative decimal integer below 2^63, as Lua's tonumber reads it */
static int read_count(str v, size_t *out) {
  uint64_t x = 0;
  size_t i;
  if (v.n == 0) return -1;
  for (i = 0; i < v.n; i++) {
    unsigned d;
    if (!is_digit((unsigned char)v.p[i])) return -1;
    d = (unsigned)(v.p[i] - '0');
    if (x > (UINT64_C(0x7fffffffffffffff) - d) / 10) return -1;
    x = x * 10 + d;
  }
  if (x > (uint64_t)SIZE_MAX) x = SIZE_MAX;
  *out = (size_t)x;
  return 0;
}

/*
** Split and decode the query string into o->opts (names lower case,
** with `$`; on beta the `$` may be left out of a known option, as Graph
** allows).  Parameters that are not OData options are ignored.
*/
static int parse_query(rq *q, str qs, query *o) {
  size_t i = 0, cap = 1;
  memset(o, 0, sizeof *o);
  if (qs.n == 0) return 0;
  for (i = 0; i < qs.n; i++) cap += qs.p[i] == '&';
  o->opts = ct_arena_alloc(&q->a, cap * sizeof *o->opts);
  if (o->opts == NULL) return -2;
  i = 0;
  while (i < qs.n) {
    size_t b = i, eqp, e, k;
    long kn, vn;
    char *kd, *vd;
    while (i < qs.n && qs.p[i] != '&') i++;
    e = i;
    if (i < qs.n) i++;
    if (e == b) continue;
    for (eqp = b; eqp < e && qs.p[eqp] != '='; eqp++) ;
    kd = ct_arena_alloc(&q->a, eqp - b + 2);
    vd = ct_arena_alloc(&q->a, (eqp < e ? e - eqp - 1 : 0) + 1);
    if (kd == NULL || vd == NULL) return -2;
    kd[0] = '$';
    kn = ct_rq_unescape(qs.p + b, eqp - b, kd + 1, 1);
    vn = eqp < e ? ct_rq_unescape(qs.p + eqp + 1, e - eqp - 1, vd, 1) : 0;
    if (kn < 0 || vn < 0)
      return query_error3(q, "The query string has a bad percent-escape "
                          "in '", qs.p + b, upto(e - b, 60), "'.");
    vd[vn] = '\0';
    for (k = 1; k <= (size_t)kn; k++)
      kd[k] = (char)lower((unsigned char)kd[k]);
    if (kn > 0 && kd[1] == '$') {
      kd++;
    } else if (strcmp(q->version, "beta") != 0 ||
               qopt_find(kd, (size_t)kn + 1) < 0) {
      continue;                     /* not an OData option: ignored */
    } else {
      kn++;
    }
    for (k = 0; k < o->nopts; k++)
      if (o->opts[k].name.n == (size_t)kn &&
          memcmp(o->opts[k].name.p, kd, (size_t)kn) == 0)
        return query_error3(q, "Query option '", kd, (size_t)kn,
                            "' is given twice.");
    o->opts[o->nopts].name.p = kd;
    o->opts[o->nopts].name.n = (size_t)kn;
    o->opts[o->nopts].value.p = vd;
    o->opts[o->nopts].value.n = (size_t)vn;
    o->nopts++;
  }
  return 0;
}

/* the options of operation `op`: allowed, and well formed */
static int check_query(rq *q, int op, query *o) {
  size_t k;
  for (k = 0; k < o->nopts; k++) {
    str v = o->opts[k].value, name = o->opts[k].name;
    int i = qopt_find(name.p, name.n);
    if (i < 0 || i >= Q_SEARCH)
      return query_error3(q, "Query option '", name.p, name.n,
                          "' is not supported.");
    o->raw[i] = v;
    if (!(op_takes[op] & QB(i)))
      return query_error3(q, "Query option '", qopt_names[i],
                          strlen(qopt_names[i]),
                          "' is not supported on this request.");
    switch (i) {
      case Q_TOP: {
        size_t t;
        if (read_count(v, &t) != 0 || t < 1 || t > MAX_TOP)
          return query_error3(q, "Query option '$top' must be an integer "
                              "from 1 to 999, not '", v.p, upto(v.n, 60),
                              "'.");
        o->top = t;
        o->has_top = 1;
        break;
      }
      case Q_SKIP:
        if (read_count(v, &o->skip) != 0)
          return query_error3(q, "Query option '$skip' must be an integer "
                              "of 0 or more, not '", v.p, upto(v.n, 60),
                              "'.");
        break;
      case Q_COUNT:
        if (ieq(v.p, v.n, "true")) o->count = 1;
        else if (!ieq(v.p, v.n, "false"))
          return query_error3(q, "Query option '$count' must be true or "
                              "false, not '", v.p, upto(v.n, 60), "'.");
        break;
      case Q_SELECT:
        if (check_select(q, v, op == OP_LIST_JOBS || op == OP_GET_JOB,
                         o) != 0)
          return -1;
        break;
      case Q_EXPAND: {
        size_t b = 0, e = v.n;
        while (b < e && is_space((unsigned char)v.p[b])) b++;
        while (e > b && is_space((unsigned char)v.p[e - 1])) e--;
        if (!ieq(v.p + b, e - b, "users"))
          return query_error3(q, "Invalid $expand: only 'users' can be "
                              "expanded, without nested options; not '",
                              v.p, upto(v.n, 60), "'.");
        o->expand = 1;
        break;
      }
      default:
        break;              /* $filter, $orderby, $skiptoken: read later */
    }
  }
  return 0;
}

/* ---------- bodies ---------- */

/* an action that takes no body accepts none, blanks, {} or {} as a table */
static int no_body(const ct_http_request *req) {
  size_t i = 0, n = req->body_len;
  const char *s = req->body;
  switch (req->body_kind) {
    case CT_BODY_NONE: return 1;
    case CT_BODY_TREE:
      return req->body_tree != NULL && req->body_tree->kind == CT_JEMPTY;
    default: break;
  }
  while (i < n && is_space((unsigned char)s[i])) i++;
  if (i == n) return 1;
  if (s[i] != '{') return 0;
  i++;
  while (i < n && is_space((unsigned char)s[i])) i++;
  if (i == n || s[i] != '}') return 0;
  i++;
  while (i < n && is_space((unsigned char)s[i])) i++;
  return i == n;
}

static const ct_jval *body_of(rq *q, ct_err *e) {
  const ct_http_request *req = q->req;
  ct_jval *v;
  ct_jerr je;
  switch (req->body_kind) {
    case CT_BODY_TEXT:
      if (ct_json_parse(&q->a, req->body ? req->body : "", req->body_len,
                        &v, &je) != 0) {
        if (je.status == 500)
          ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
        else
          ct_err_set(e, je.status, "invalidRequest", NULL,
                     "The request body is not valid JSON: %s.", je.message);
        return NULL;
      }
      return v;
    case CT_BODY_TREE:
      if (req->body_tree == NULL) *e = *req->body_err;
      return req->body_tree;
    default:
      ct_err_set(e, 400, "invalidRequest", NULL,
                 "A request body is required.");
      return NULL;
  }
}

/* ---------- the operations ---------- */

static void add_base(rq *q, ct_buf *b) {
  ct_buf_add(b, q->base.p, q->base.n);
  ct_buf_addc(b, '/');
  ct_buf_adds(b, q->version);
  ct_buf_addc(b, '/');
}

/* @odata.context: base/version/$metadata#what */
static void context(rq *q, const char *what, const char *jid,
                    const char *tail, const query *o) {
  ct_buf *b = &q->res->r.context;
  size_t i;
  add_base(q, b);
  ct_buf_adds(b, "$metadata#");
  ct_buf_adds(b, what);
  if (jid != NULL) {
    ct_buf_adds(b, "('");
    ct_buf_add(b, jid, 36);
    ct_buf_adds(b, "')/users");
  }
  if (o != NULL && o->select != 0) {
    const ct_type *t = jid != NULL ? &ct_type_task : &ct_type_job;
    ct_buf_addc(b, '(');
    for (i = 0; i < o->nnames; i++) {
      if (i > 0) ct_buf_addc(b, ',');
      ct_buf_adds(b, t->props[o->names[i]].name);
    }
    ct_buf_addc(b, ')');
  }
  if (tail != NULL) ct_buf_adds(b, tail);
}

/* the options a nextLink keeps, in a stable order */
static const int link_order[] = { Q_FILTER, Q_SELECT, Q_ORDERBY, Q_EXPAND,
                                  Q_COUNT, Q_TOP };

static void next_link(rq *q, const char *jid, const query *o,
                      const ct_buf *token) {
  ct_buf *b = &q->res->r.next_link;
  size_t i;
  add_base(q, b);
  ct_buf_adds(b, JOBS);
  if (jid != NULL) {
    ct_buf_addc(b, '/');
    ct_buf_add(b, jid, 36);
    ct_buf_adds(b, "/users");
  }
  ct_buf_addc(b, '?');
  for (i = 0; i < sizeof link_order / sizeof link_order[0]; i++) {
    str v = o->raw[link_order[i]];
    if (v.p == NULL) continue;
    ct_buf_adds(b, qopt_names[link_order[i]]);
    ct_buf_addc(b, '=');
    add_escaped(b, v.p, v.n);
    ct_buf_addc(b, '&');
  }
  ct_buf_adds(b, "$skiptoken=");
  add_escaped(b, token->p, token->len);
}

static ct_job *find_job(rq *q, const who *w, const route *r, ct_err *e) {
  if (r->byname)
    return ct_job_find_name(q->s, &w->c, r->job.p, r->job.n, e);
  return ct_job_find(q->s, &w->c, r->job.p, r->job.n, e);
}

static ct_tenant *tenant_of(ct_store *s, const ct_guid *g) {
  uintptr_t v;
  return ct_gmap_get(&s->tenants, g, &v) ? (ct_tenant *)v : NULL;
}

static str raw_or_null(const query *o, int i, size_t *n) {
  *n = o->raw[i].n;
  return o->raw[i];
}

/* one page of jobs or of a job's tasks (top 0 with count: a $count) */
static int list(rq *q, const who *w, const route *r, int tasks,
                const query *o, int counting) {
  ct_result *res = &q->res->r;
  ct_err e;
  ct_query *cq;
  ct_job *j = NULL;
  ct_tenant *t = NULL;
  ct_buf next;
  size_t *out, count = 0, nf, no, top;
  str f = raw_or_null(o, Q_FILTER, &nf), ob = raw_or_null(o, Q_ORDERBY, &no);
  str tok = o->raw[Q_SKIPTOKEN];
  int want_count = counting || (o->count && tok.p == NULL);
  long k, i;
  if (tasks) {
    j = find_job(q, w, r, &e);
    if (j == NULL) return fail_err(q, &e);
  }
  if (counting) ob.p = NULL, tok.p = NULL;
  /* a $skiptoken holding a NUL is no token of ours: refused whole */
  if (tok.p != NULL && memchr(tok.p, 0, tok.n) != NULL) {
    ct_query_bad_token(tok.p, tok.n, &e);
    return fail_err(q, &e);
  }
  cq = ct_query_new(tasks ? CT_Q_TASKS : CT_Q_JOBS, f.p, nf, ob.p, no, &e);
  if (cq == NULL) return fail_err(q, &e);
  if (!tasks) t = tenant_of(q->s, &w->c.tenant);
  top = counting ? 0 : o->has_top ? o->top : DEFAULT_TOP;
  out = ct_malloc((top + 1) * sizeof *out);
  ct_buf_init(&next);
  if (out == NULL) {
    ct_query_free(cq);
    return -2;
  }
  if (tasks)
    k = ct_query_tasks(cq, j, tok.p, counting ? 0 : o->skip, top, out,
                       &next, want_count ? &count : NULL, &e);
  else
    k = ct_query_jobs(cq, t ? t->jobs : NULL, t ? t->njobs : 0, tok.p,
                      counting ? 0 : o->skip, top, out, &next,
                      want_count ? &count : NULL, &e);
  ct_query_free(cq);
  if (k < 0) {
    free(out);
    ct_buf_free(&next);
    return fail_err(q, &e);
  }
  if (counting) {
    free(out);
    ct_buf_free(&next);
    res->shape = CT_R_TEXT;
    res->count = count;
    q->res->status = 200;
    q->res->content_type = "text/plain";
    return 0;
  }
  if (tasks) {
    res->tasks = ct_malloc(((size_t)k + 1) * sizeof *res->tasks);
    if (res->tasks != NULL)
      for (i = 0; i < k; i++) res->tasks[i] = &j->tasks[out[i]];
  } else {
    res->jobs = ct_malloc(((size_t)k + 1) * sizeof *res->jobs);
    if (res->jobs != NULL)
      for (i = 0; i < k; i++) res->jobs[i] = t->jobs[out[i]];
  }
  free(out);
  if (tasks ? res->tasks == NULL : res->jobs == NULL) {
    ct_buf_free(&next);
    return -2;
  }
  res->nitems = (size_t)k;
  res->shape = tasks ? CT_R_TASKS : CT_R_JOBS;
  res->job = j;
  res->select = o->select;
  res->expand = o->expand;
  res->has_count = want_count;
  res->count = count;
  {
    char jid[37];
    if (j != NULL) ct_guid_format(&j->id, jid);
    context(q, JOBS, j ? jid : NULL, NULL, o);
    if (next.len > 0 && !next.oom) next_link(q, j ? jid : NULL, o, &next);
  }
  ct_buf_free(&next);
  q->res->status = 200;
  q->res->content_type = "application/json";
  return 0;
}

static void location(rq *q, const ct_job *j, const ct_task *t) {
  char id[37];
  ct_buf *b = &q->res->location;
  if (q->no_headers) return;
  add_base(q, b);
  ct_buf_adds(b, JOBS);
  ct_buf_addc(b, '/');
  ct_guid_format(&j->id, id);
  ct_buf_add(b, id, 36);
  if (t != NULL) {
    ct_buf_adds(b, "/users/");
    ct_guid_format(&t->id, id);
    ct_buf_add(b, id, 36);
  }
}

static int answer(rq *q, int status, int shape, ct_job *j, ct_task *t) {
  q->res->status = status;
  q->res->r.shape = shape;
  q->res->r.job = j;
  q->res->r.task = t;
  q->res->content_type = shape == CT_R_NONE ? NULL : "application/json";
  return 0;
}

static int dispatch(rq *q, const who *w, int op, const route *r,
                    const query *o, int draw_id) {
  ct_err e;
  ct_job *j = NULL;
  ct_task *t;
  const ct_jval *body;
  char jid[37];
  ct_guid g;
  if (draw_id) {
    ct_store_request_id(q->s, &g);
    ct_guid_format(&g, q->res->request_id);
  }
  q->res->client_request_id.len = 0;
  if (q->crid.p != NULL)
    ct_buf_add(&q->res->client_request_id, q->crid.p, q->crid.n);
  else
    ct_buf_add(&q->res->client_request_id, q->res->request_id, 36);
  if (q->res->client_request_id.oom) return -2;   /* before any change */
  switch (op) {
    case OP_LIST_JOBS: return list(q, w, r, 0, o, 0);
    case OP_LIST_TASKS: return list(q, w, r, 1, o, 0);
    case OP_COUNT_JOBS: return list(q, w, r, 0, o, 1);
    case OP_COUNT_TASKS: return list(q, w, r, 1, o, 1);
    case OP_CREATE_JOB:
      body = body_of(q, &e);
      if (body == NULL || (j = ct_job_create(q->s, &w->c, body, &e)) == NULL)
        return fail_err(q, &e);
      context(q, JOBS, NULL, "/$entity", NULL);
      location(q, j, NULL);
      return answer(q, 201, CT_R_JOB, j, NULL);
    default:
      break;
  }
  j = find_job(q, w, r, &e);
  if (j == NULL) return fail_err(q, &e);
  switch (op) {
    case OP_GET_JOB:
      context(q, JOBS, NULL, "/$entity", o);
      q->res->r.select = o->select;
      q->res->r.expand = o->expand;
      return answer(q, 200, CT_R_JOB, j, NULL);
    case OP_UPDATE_JOB:
      body = body_of(q, &e);
      if (body == NULL || ct_job_update(q->s, j, body, &e) != 0)
        return fail_err(q, &e);
      answer(q, 204, CT_R_NONE, j, NULL);
      q->res->content_type = "text/plain";
      return 0;
    case OP_DELETE_JOB:
      if (ct_job_delete(q->s, j, &e) != 0) return fail_err(q, &e);
      return answer(q, 202, CT_R_NONE, NULL, NULL);
    case OP_VALIDATE:
    case OP_MIGRATE:
      if ((op == OP_VALIDATE ? ct_job_validate : ct_job_migrate)(
              q->s, j, &e) != 0)
        return fail_err(q, &e);
      context(q, "microsoft.graph.crossTenantMigrationJob", NULL, NULL,
              NULL);
      return answer(q, 200, CT_R_JOB, j, NULL);
    case OP_CANCEL_JOB:
      if (ct_job_cancel(q->s, j, &e) != 0) return fail_err(q, &e);
      return answer(q, 202, CT_R_JOB_CANCEL, j, NULL);
    case OP_CREATE_TASK:
      body = body_of(q, &e);
      if (body == NULL || (t = ct_task_create(q->s, j, body, &e)) == NULL)
        return fail_err(q, &e);
      ct_guid_format(&j->id, jid);
      context(q, JOBS, jid, "/$entity", NULL);
      location(q, j, t);
      q->res->r.seed = 1;
      return answer(q, 201, CT_R_TASK, j, t);
    case OP_GET_TASK:
    case OP_CANCEL_TASK:
      t = ct_task_find(j, r->task.p, r->task.n, &e);
      if (t == NULL) return fail_err(q, &e);
      if (op == OP_CANCEL_TASK) {
        if (ct_task_cancel(q->s, j, t, &e) != 0) return fail_err(q, &e);
        return answer(q, 202, CT_R_TASK_CANCEL, j, t);
      }
      ct_guid_format(&j->id, jid);
      context(q, JOBS, jid, "/$entity", o);
      q->res->r.select = o->select;
      return answer(q, 200, CT_R_TASK, j, t);
    default:
      return -2;
  }
}

/* ---------- the request ---------- */

/*
** ct_fault_decide for this request: the path under
** /solutions/migrations ("/" and the decoded segments after it; NULL
** when the path is not under it) and the caller as "tenant/app".
*/
static int fault_check(rq *q, const who *w, const char *method,
                       const url *u) {
  const ct_http_request *req = q->req;
  ct_fault_answer a;
  ct_buf path, caller;
  char tid[37];
  int st, under = u->nsegs >= 2 &&
                  ieq(u->segs[0].p, u->segs[0].n, "solutions") &&
                  ieq(u->segs[1].p, u->segs[1].n, "migrations");
  size_t i;
  ct_buf_init(&path);
  ct_buf_init(&caller);
  if (under) {
    ct_buf_addc(&path, '/');
    for (i = 2; i < u->nsegs; i++) {
      if (i > 2) ct_buf_addc(&path, '/');
      ct_buf_add(&path, u->segs[i].p, u->segs[i].n);
    }
  }
  ct_guid_format(&w->c.tenant, tid);
  ct_buf_add(&caller, tid, 36);
  ct_buf_addc(&caller, '/');
  ct_buf_add(&caller, w->app.p, w->app.n);
  if (path.oom || caller.oom) {
    ct_buf_free(&path);
    ct_buf_free(&caller);
    return -2;
  }
  st = ct_fault_decide(&q->s->faultstate,
                       req->has_fault_now ? req->fault_now : q->s->now,
                       method, under ? path.p : NULL, under ? path.len : 0,
                       caller.p, caller.len, &a);
  ct_buf_free(&path);
  ct_buf_free(&caller);
  if (st == 0) return 0;
  ct_rq_fail(q, a.status, a.code, a.inner, a.message, strlen(a.message));
  q->res->retry_after = a.retry_after;
  return -1;
}

static int method_index(const char *m, size_t n) {
  if (eq(m, n, "GET")) return 0;
  if (eq(m, n, "POST")) return 1;
  if (eq(m, n, "PATCH")) return 2;
  if (eq(m, n, "DELETE")) return 3;
  return -1;
}

static int run(rq *q) {
  const ct_http_request *req = q->req;
  char mbuf[16], *method;
  size_t mn = req->method_len, i;
  who w;
  url u;
  route r;
  query o;
  int op, mi, rc;
  memset(&u, 0, sizeof u);
  if ((rc = ct_rq_read_headers(q)) != 0) return rc;
  method = mn < sizeof mbuf ? mbuf : ct_arena_alloc(&q->a, mn + 1);
  if (method == NULL) return -2;
  for (i = 0; i < mn; i++) {
    char c = req->method[i];
    method[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
  }
  method[mn] = '\0';
  if ((rc = ct_rq_read_caller(q, &w)) != 0) return rc;
  if ((rc = ct_rq_parse_url(q, &u)) != 0) return rc;
  /* throttling and transient faults: the caller and the path are known,
     nothing else is checked yet and nothing has changed */
  if (!req->no_faults && ct_fault_armed(&q->s->faultstate) &&
      (rc = fault_check(q, &w, method, &u)) != 0)
    return rc;
  if ((rc = ct_rq_find_route(q, &u, &r)) != 0) return rc;
  mi = method_index(method, mn);
  if (mi < 0 && req->head_as_get && eq(method, mn, "HEAD")) mi = 0;
  op = ct_rq_route_op(r.kind, mi);
  if (op < 0) {
    ct_buf m;
    ct_buf_init(&m);
    ct_buf_adds(&m, "The method '");
    ct_buf_add(&m, method, mn);
    ct_buf_adds(&m, "' is not allowed on this resource; it takes ");
    ct_buf_adds(&m, ct_rq_route_allows(r.kind));
    ct_buf_adds(&m, ".");
    rc = ct_rq_fail(q, 405, "notSupported", NULL, m.p ? m.p : "", m.len);
    ct_buf_free(&m);
    /* RFC 9110 15.5.6: a 405 names the methods the resource takes */
    q->res->allow = ct_rq_route_allows(r.kind);
    return rc;
  }
  {
    int reads = op == OP_LIST_JOBS || op == OP_GET_JOB ||
                op == OP_LIST_TASKS || op == OP_GET_TASK ||
                op == OP_COUNT_JOBS || op == OP_COUNT_TASKS;
    if (reads ? !w.read : !w.write) return ct_rq_deny(q, &w, !reads);
  }
  /* (issue 12: a fault or throttling check goes here -- the caller and
     the operation are known, nothing has run yet) */
  if ((rc = parse_query(q, u.qs, &o)) != 0) return rc;
  if (mi != 0) {
    if (o.nopts > 0)
      return ct_rq_fail3(q, 400, "invalidRequest", "invalidQueryOption",
                         "Query options are not allowed on a ", method, mn,
                         " request.");
  } else if ((rc = check_query(q, op, &o)) != 0) {
    return rc;
  }
  if ((mi == 0 || mi == 3 || op == OP_VALIDATE || op == OP_MIGRATE ||
       op == OP_CANCEL_JOB || op == OP_CANCEL_TASK) && !no_body(req))
    return bad_request(q, "This request takes no body.");
  return dispatch(q, &w, op, &r, &o, 1);
}

/* the end of every call: out of memory anywhere is a 500 */
static int finish(rq *q, int rc) {
  ct_http_response *res = q->res;
  if (q->req->scratch != NULL) {
    ct_arena_reset(&q->a);
    *q->req->scratch = q->a;
  } else {
    ct_arena_free(&q->a);
  }
  if (rc == -2 || res->client_request_id.oom || res->location.oom ||
      res->r.context.oom || res->r.next_link.oom || res->r.message.oom ||
      res->r.client_request_id.oom) {
    res->status = 500;
    res->r.shape = CT_R_NONE;
    res->content_type = NULL;
    return -1;
  }
  return res->status;
}

int ct_request_run(ct_store *s, const ct_http_request *req,
                   ct_http_response *res) {
  rq q;
  int rc;
  ct_http_response_reset(res);      /* a response may be reused as is */
  memset(&q, 0, sizeof q);
  q.s = s;
  q.req = req;
  q.res = res;
  q.base.p = req->base_url ? req->base_url : CT_BASE_URL;
  q.base.n = strlen(q.base.p);
  q.version = "beta";
  ct_arena_init(&q.a);
  if (q.req->scratch != NULL) {      /* the caller's, moved in */
    q.a = *q.req->scratch;
    ct_arena_init(q.req->scratch);
  }
  rc = run(&q);
  return finish(&q, rc);
}

int ct_request_op(ct_store *s, const ct_op_request *req,
                  ct_http_response *res) {
  rq q;
  who w;
  route r;
  query o;
  str qs;
  int rc;
  ct_http_response_reset(res);
  memset(&q, 0, sizeof q);
  memset(&w, 0, sizeof w);
  memset(&r, 0, sizeof r);
  q.s = s;
  q.req = &req->http;
  q.res = res;
  q.base.p = req->http.base_url ? req->http.base_url : CT_BASE_URL;
  q.base.n = strlen(q.base.p);
  q.version = "beta";
  ct_arena_init(&q.a);
  if (q.req->scratch != NULL) {      /* the caller's, moved in */
    q.a = *q.req->scratch;
    ct_arena_init(q.req->scratch);
  }
  q.no_headers = 1;
  w.c = req->caller;
  w.read = w.write = 1;
  r.job.p = req->job ? req->job : "";
  r.job.n = req->job_len;
  r.byname = req->byname;
  r.task.p = req->task ? req->task : "";
  r.task.n = req->task_len;
  qs.p = req->query ? req->query : "";
  qs.n = req->query ? req->query_len : 0;
  if (req->op < 0 || req->op >= OP__NONE) rc = -2;
  else if ((rc = parse_query(&q, qs, &o)) == 0 &&
           (rc = check_query(&q, req->op, &o)) == 0)
    rc = dispatch(&q, &w, req->op, &r, &o, 0);
  return finish(&q, rc);
}

int ct_request(ct_store *s, const ct_http_request *req,
               ct_http_response *res) {
  int rc = ct_request_run(s, req, res);
  if (rc < 0) return rc;
  ct_response_write(res, &res->body);
  if (!res->body.oom) return rc;
  res->status = 500;                /* as ct_request_run's: no body */
  res->r.shape = CT_R_NONE;
  res->content_type = NULL;
  return -1;
}

int ct_request_error(ct_store *s, int status, const char *code,
                     const char *message, const char *crid,
                     size_t crid_len, const char *request_id,
                     ct_http_response *res) {
  rq q;
  ct_http_request req;
  ct_http_response_reset(res);
  memset(&q, 0, sizeof q);
  memset(&req, 0, sizeof req);
  q.s = s;
  q.req = &req;
  q.res = res;
  if (crid != NULL) {
    q.crid.p = crid;
    q.crid.n = crid_len;
  }
  fail_id(&q, status, code, NULL, message, strlen(message), request_id);
  ct_response_write(res, &res->body);
  if (res->client_request_id.oom || res->r.message.oom ||
      res->r.client_request_id.oom || res->body.oom) {
    res->status = 500;
    res->r.shape = CT_R_NONE;
    res->content_type = NULL;
    return -1;
  }
  return status;
}
