/*
** ct_response.c -- the body of an answered request as Graph's JSON:
** the documented property order (the order of the schema tables),
** empty collections as [], integers as integers.  The same bytes
** crosstenant.encode writes for the Lua tables of the same records.
*/
#include <stdio.h>
#include <string.h>

#include "ct_request.h"
#include "ct_schema.h"

/* property names, from the schema's one list of each type */
#define JOB(i) ct_job_props[CT_JOB_##i].name
#define TASK(i) ct_task_props[CT_TASK_##i].name
#define STATUS(i) ct_status_props[CT_STATUS_##i].name
#define ERROR(i) ct_error_props[CT_ERROR_##i].name
#define EXCHANGE(i) ct_exchange_props[CT_EXCHANGE_##i].name

typedef struct w {
  ct_buf *b;
  int first;               /* no member written yet in this object */
} w;

/* one byte: ct_buf_addc's fast path, inline (the writer's structure) */
static void put(ct_buf *b, char c) {
  if (b->len + 1 < b->cap && !b->oom) {
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return;
  }
  ct_buf_addc(b, c);
}

/* `"s"` for a name of the model's own (a property or an enum value:
   plain ASCII, nothing to escape), in one copy */
static void name(ct_buf *b, const char *s, size_t n, int comma,
                 int colon) {
  size_t need = n + 2 + (size_t)comma + (size_t)colon;
  char *p;
  if (b->oom || b->len + need >= b->cap) {
    if (comma) ct_buf_addc(b, ',');
    ct_buf_json_string(b, s, n);
    if (colon) ct_buf_addc(b, ':');
    return;
  }
  p = b->p + b->len;
  if (comma) *p++ = ',';
  *p++ = '"';
  memcpy(p, s, n);
  p += n;
  *p++ = '"';
  if (colon) *p++ = ':';
  *p = '\0';
  b->len += need;
}

static void key(w *o, const char *k) {
  name(o->b, k, strlen(k), !o->first, 1);
  o->first = 0;
}

static void str_m(w *o, const char *k, const char *v) {
  key(o, k);
  ct_buf_json_string(o->b, v, strlen(v));
}

/* a member whose value is an enum's name (plain ASCII) */
static void enum_m(w *o, const char *k, const char *v) {
  key(o, k);
  name(o->b, v, strlen(v), 0, 0);
}

/* bytes with a length: a stored string may hold NULs */
static void nstr_m(w *o, const char *k, const char *v, size_t n) {
  key(o, k);
  ct_buf_json_string(o->b, v, n);
}

static void lstr_m(w *o, const char *k, const ct_str *v) {
  nstr_m(o, k, v->p ? v->p : "", v->n);
}

static void guid_m(w *o, const char *k, const ct_guid *g) {
  char s[37];
  ct_guid_format(g, s);
  key(o, k);
  name(o->b, s, 36, 0, 0);          /* hex digits and dashes */
}

static void time_m(w *o, const char *k, int64_t ticks, int digits) {
  char s[29];
  ct_time t;
  size_t n;
  t.ticks = ticks;
  t.digits = digits;
  n = ct_time_format(&t, s);
  key(o, k);
  name(o->b, s, n, 0, 0);           /* digits, '-', ':', 'T', '.', 'Z' */
}

/* "@odata.type": "[#]<the type's name>" */
static void type_m(w *o, const ct_type *t, int hash) {
  key(o, "@odata.type");
  ct_buf_adds(o->b, hash ? "\"#" : "\"");
  ct_buf_adds(o->b, t->name);      /* plain ASCII: nothing to escape */
  ct_buf_addc(o->b, '"');
}

static int keep(uint32_t select, int prop) {
  return select == 0 || (select & (1u << prop)) != 0;
}

static void write_task(ct_buf *b, const ct_task *t, const ct_buf *context,
                       int seed, uint32_t select) {
  w o;
  int i;
  o.b = b;
  o.first = 1;
  put(b, '{');
  if (context != NULL && context->len > 0) {
    key(&o, "@odata.context");
    ct_buf_json_string(b, context->p, context->len);
  }
  if (seed) type_m(&o, &ct_type_task, 1);
  guid_m(&o, TASK(ID), &t->id);
  if (keep(select, CT_TASK_TASKTYPE)) {
    size_t n;
    const char *tt = ct_task_type(t, &n);
    nstr_m(&o, TASK(TASKTYPE), tt, n);
  }
  if (keep(select, CT_TASK_LASTUPDATED))
    time_m(&o, TASK(LASTUPDATED), t->updated, t->digits);
  if (keep(select, CT_TASK_CURRENTSTATUS)) {
    key(&o, TASK(CURRENTSTATUS));
    put(b, '[');
    for (i = 0; i < t->n; i++) {
      size_t k, ne = t->extra ? t->extra->nerrors[i] : 0;
      w e;
      e.b = b;
      e.first = 1;
      if (i > 0) put(b, ',');
      put(b, '{');
      if (seed) type_m(&e, &ct_type_status_details, 0);
      enum_m(&e, STATUS(SERVICE), ct_service_name(t->svc[i]));
      enum_m(&e, STATUS(STATUS), ct_svc_status_name(t->st[i]));
      {
        size_t n;
        const char *m = ct_task_message(t, i, &n);
        nstr_m(&e, STATUS(MESSAGE), m, n);
      }
      key(&e, STATUS(ERRORS));
      put(b, '[');
      for (k = 0; k < ne; k++) {
        w x;
        x.b = b;
        x.first = 1;
        if (k > 0) put(b, ',');
        put(b, '{');
        lstr_m(&x, ERROR(CODE), &t->extra->errors[i][k].code);
        lstr_m(&x, ERROR(MESSAGE), &t->extra->errors[i][k].message);
        put(b, '}');
      }
      ct_buf_adds(b, "]}");
    }
    put(b, ']');
  }
  put(b, '}');
}

/*
** The ordinary task of a collection -- every property, no annotation,
** no `extra` (taskType "user", messages "", errors []) -- is most of a
** list's bytes: written from fixed fragments built once per answer from
** the schema's names, into room reserved once, with no escaping (its
** values are GUIDs, times and enum names).  The same bytes write_task
** writes (spec/15 and spec/30 compare them with crosstenant.encode).
*/
typedef struct frags {
  char open[24], type[64], cs[40], svc[24], st[24], tail[48];
  size_t nopen, ntype, ncs, nsvc, nst, ntail;
  int ok;                  /* 0: a name did not fit; use write_task */
  /* the last lastUpdatedDateTime written (the tasks of one POST share
     it): its text is reused while the next task's is the same */
  int64_t ticks;
  int digits;              /* -1: none yet */
  char when[29];
  size_t nwhen;
  /* whole currentStatus entries, {"service":..,"status":..,"message":"",
     "errors":[]}, made the first time a (service, status) pair is met */
  signed char slot[CT_SVC__COUNT][CT_SS__COUNT];   /* -1: not made */
  int nentries;
  struct { char text[128]; size_t n; } entry[16];
} frags;

/* the concatenation of up to five strings into out[room] (NUL-ended);
   its length, or 0 with *ok = 0 when it does not fit */
static size_t frag(char *out, size_t room, const char *const *parts,
                   int *ok) {
  size_t len = 0, n;
  for (; *parts; parts++) {
    n = strlen(*parts);
    if (len + n >= room) {
      *ok = 0;
      return 0;
    }
    memcpy(out + len, *parts, n);
    len += n;
  }
  out[len] = '\0';
  return len;
}

static void frags_init(frags *f) {
  const char *open[] = { "{\"", TASK(ID), "\":\"", NULL };
  const char *type[] = { "\",\"", TASK(TASKTYPE), "\":\"user\",\"",
                         TASK(LASTUPDATED), "\":\"", NULL };
  const char *cs[] = { "\",\"", TASK(CURRENTSTATUS), "\":[", NULL };
  const char *svc[] = { "{\"", STATUS(SERVICE), "\":\"", NULL };
  const char *st[] = { "\",\"", STATUS(STATUS), "\":\"", NULL };
  const char *tail[] = { "\",\"", STATUS(MESSAGE), "\":\"\",\"",
                         STATUS(ERRORS), "\":[]}", NULL };
  f->ok = 1;
  f->digits = -1;
  memset(f->slot, -1, sizeof f->slot);
  f->nentries = 0;
  f->nopen = frag(f->open, sizeof f->open, open, &f->ok);
  f->ntype = frag(f->type, sizeof f->type, type, &f->ok);
  f->ncs = frag(f->cs, sizeof f->cs, cs, &f->ok);
  f->nsvc = frag(f->svc, sizeof f->svc, svc, &f->ok);
  f->nst = frag(f->st, sizeof f->st, st, &f->ok);
  f->ntail = frag(f->tail, sizeof f->tail, tail, &f->ok);
}

static char *copy(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

#define NAME_MAX_LEN 64    /* room for a service's or a status's name */

/* the entry of (svc, st) as text, made once per answer; NULL when it
   can't be kept (then the caller writes it piece by piece) */
static const char *entry_text(frags *f, int svc, int st, size_t *n) {
  int k;
  if (svc < 0 || svc >= CT_SVC__COUNT || st < 0 || st >= CT_SS__COUNT)
    return NULL;
  k = f->slot[svc][st];
  if (k < 0) {
    const char *a = ct_service_name(svc), *b = ct_svc_status_name(st);
    size_t na = strlen(a), nb = strlen(b);
    char *p;
    if (f->nentries == (int)(sizeof f->entry / sizeof f->entry[0]) ||
        f->nsvc + na + f->nst + nb + f->ntail >= sizeof f->entry[0].text)
      return NULL;
    k = f->nentries++;
    p = copy(f->entry[k].text, f->svc, f->nsvc);
    p = copy(p, a, na);
    p = copy(p, f->st, f->nst);
    p = copy(p, b, nb);
    p = copy(p, f->tail, f->ntail);
    f->entry[k].n = (size_t)(p - f->entry[k].text);
    f->slot[svc][st] = (signed char)k;
  }
  *n = f->entry[k].n;
  return f->entry[k].text;
}

static void write_task_plain(ct_buf *b, const ct_task *t, frags *f) {
  size_t need = f->nopen + 37 + f->ntype + 29 + f->ncs + 3 +
                (size_t)t->n * (1 + f->nsvc + f->nst + f->ntail +
                                2 * NAME_MAX_LEN);
  char *p;
  ct_time tm;
  int i;
  ct_buf_reserve(b, b->len + need);
  if (b->oom || b->cap < b->len + need + 1) return;
  p = copy(b->p + b->len, f->open, f->nopen);
  ct_guid_format(&t->id, p);
  p = copy(p + 36, f->type, f->ntype);
  if (f->digits != t->digits || f->ticks != t->updated) {
    tm.ticks = f->ticks = t->updated;
    tm.digits = f->digits = t->digits;
    f->nwhen = ct_time_format(&tm, f->when);
  }
  p = copy(p, f->when, f->nwhen);
  p = copy(p, f->cs, f->ncs);
  for (i = 0; i < t->n; i++) {
    const char *svc, *st;
    size_t ns, nt;
    if (i > 0) *p++ = ',';
    if ((svc = entry_text(f, t->svc[i], t->st[i], &ns)) != NULL) {
      p = copy(p, svc, ns);
      continue;
    }
    svc = ct_service_name(t->svc[i]);
    st = ct_svc_status_name(t->st[i]);
    ns = strlen(svc);
    nt = strlen(st);
    if (ns > NAME_MAX_LEN || nt > NAME_MAX_LEN) {   /* never: the enums */
      b->oom = 1;
      return;
    }
    p = copy(p, f->svc, f->nsvc);
    p = copy(p, svc, ns);
    p = copy(p, f->st, f->nst);
    p = copy(p, st, nt);
    p = copy(p, f->tail, f->ntail);
  }
  *p++ = ']';
  *p++ = '}';
  *p = '\0';
  b->len = (size_t)(p - b->p);
}

static void write_job(ct_buf *b, const ct_job *j, const ct_buf *context,
                      uint32_t select, int expand) {
  w o;
  size_t i;
  o.b = b;
  o.first = 1;
  put(b, '{');
  if (context != NULL && context->len > 0) {
    key(&o, "@odata.context");
    ct_buf_json_string(b, context->p, context->len);
  }
  guid_m(&o, JOB(ID), &j->id);
  if (keep(select, CT_JOB_DISPLAYNAME))
    lstr_m(&o, JOB(DISPLAYNAME), &j->displayName);
  if (keep(select, CT_JOB_JOBTYPE))
    enum_m(&o, JOB(JOBTYPE), ct_job_type_name(j->jobType));
  if (keep(select, CT_JOB_SOURCETENANTID))
    guid_m(&o, JOB(SOURCETENANTID), &j->sourceTenantId);
  if (keep(select, CT_JOB_TARGETTENANTID))
    guid_m(&o, JOB(TARGETTENANTID), &j->tenant->id);
  if (keep(select, CT_JOB_COMPLETEAFTER))
    time_m(&o, JOB(COMPLETEAFTER), j->completeAfter.ticks,
           j->completeAfter.digits);
  if (keep(select, CT_JOB_STATUS))
    enum_m(&o, JOB(STATUS), ct_job_status_name(j->status));
  if (keep(select, CT_JOB_MESSAGE)) str_m(&o, JOB(MESSAGE), j->message);
  if (keep(select, CT_JOB_CREATED))
    time_m(&o, JOB(CREATED), j->created.ticks, j->created.digits);
  if (keep(select, CT_JOB_CREATEDBY))
    lstr_m(&o, JOB(CREATEDBY), &j->createdBy);
  if (keep(select, CT_JOB_UPDATED))
    time_m(&o, JOB(UPDATED), j->updated.ticks, j->updated.digits);
  if (keep(select, CT_JOB_EXCHANGE)) {
    key(&o, JOB(EXCHANGE));
    if (j->hasExchangeSettings) {
      w x;
      x.b = b;
      x.first = 1;
      put(b, '{');
      lstr_m(&x, EXCHANGE(SOURCEENDPOINT), &j->sourceEndpoint);
      lstr_m(&x, EXCHANGE(TARGETDELIVERYDOMAIN), &j->targetDeliveryDomain);
      put(b, '}');
    } else {
      ct_buf_adds(b, "null");
    }
  }
  if (keep(select, CT_JOB_WORKLOADS)) {
    key(&o, JOB(WORKLOADS));
    put(b, '[');
    for (i = 0; i < j->nworkloads; i++) {
      const char *s = ct_workload_name(j->workloads[i]);
      if (i > 0) put(b, ',');
      ct_buf_json_string(b, s, strlen(s));
    }
    put(b, ']');
  }
  if (keep(select, CT_JOB_RESOURCETYPE))
    lstr_m(&o, JOB(RESOURCETYPE), &j->resourceType);
  if (keep(select, CT_JOB_RESOURCES)) {
    key(&o, JOB(RESOURCES));
    put(b, '[');
    for (i = 0; i < j->ntasks; i++) {
      char s[37];
      ct_guid_format(&j->tasks[i].id, s);
      if (i > 0) put(b, ',');
      ct_buf_json_string(b, s, 36);
    }
    put(b, ']');
  }
  if (expand) {
    key(&o, JOB(USERS));
    put(b, '[');
    for (i = 0; i < j->ntasks; i++) {
      if (i > 0) put(b, ',');
      write_task(b, &j->tasks[i], NULL, 0, 0);
    }
    put(b, ']');
  }
  put(b, '}');
}

static void write_error(ct_buf *b, const ct_result *r) {
  w o, e, in;
  o.b = e.b = in.b = b;
  o.first = e.first = in.first = 1;
  ct_buf_addc(b, '{');
  key(&o, "error");
  ct_buf_addc(b, '{');
  str_m(&e, "code", r->code);
  key(&e, "message");
  ct_buf_json_string(b, r->message.p ? r->message.p : "", r->message.len);
  key(&e, "innerError");
  ct_buf_addc(b, '{');
  if (r->inner != NULL) str_m(&in, "code", r->inner);
  str_m(&in, "date", r->date);
  str_m(&in, "request-id", r->request_id);
  key(&in, "client-request-id");
  ct_buf_json_string(b, r->client_request_id.p ? r->client_request_id.p
                                               : "",
                     r->client_request_id.len);
  ct_buf_adds(b, "}}}");
}

void ct_response_write(const ct_http_response *res, ct_buf *b) {
  const ct_result *r = &res->r;
  size_t i;
  frags f;
  w o;
  o.b = b;
  o.first = 1;
  switch (r->shape) {
    case CT_R_TEXT: {
      char s[24];
      int n = snprintf(s, sizeof s, "%lu", (unsigned long)r->count);
      ct_buf_add(b, s, (size_t)n);
      break;
    }
    case CT_R_ERROR:
      write_error(b, r);
      break;
    case CT_R_JOB:
      write_job(b, r->job, &r->context, r->select, r->expand);
      break;
    case CT_R_TASK:
      write_task(b, r->task, &r->context, r->seed, r->select);
      break;
    case CT_R_JOBS:
    case CT_R_TASKS:
      ct_buf_addc(b, '{');
      key(&o, "@odata.context");
      ct_buf_json_string(b, r->context.p, r->context.len);
      if (r->has_count) {
        key(&o, "@odata.count");
        ct_buf_json_int(b, (int64_t)r->count);
      }
      if (r->next_link.len > 0) {
        key(&o, "@odata.nextLink");
        ct_buf_json_string(b, r->next_link.p, r->next_link.len);
      }
      key(&o, "value");
      ct_buf_addc(b, '[');
      if (r->shape == CT_R_TASKS && r->select == 0) frags_init(&f);
      else f.ok = 0;
      for (i = 0; i < r->nitems; i++) {
        if (i > 0) ct_buf_addc(b, ',');
        if (r->shape == CT_R_JOBS)
          write_job(b, r->jobs[i], NULL, r->select, r->expand);
        else if (f.ok && r->tasks[i]->extra == NULL)
          write_task_plain(b, r->tasks[i], &f);
        else
          write_task(b, r->tasks[i], NULL, 0, r->select);
      }
      ct_buf_adds(b, "]}");
      break;
    case CT_R_JOB_CANCEL:
      ct_buf_addc(b, '{');
      guid_m(&o, JOB(ID), &r->job->id);
      lstr_m(&o, JOB(DISPLAYNAME), &r->job->displayName);
      str_m(&o, JOB(STATUS), ct_job_status_name(CT_JS_PENDINGCANCEL));
      str_m(&o, JOB(MESSAGE), r->job->message);
      ct_buf_addc(b, '}');
      break;
    case CT_R_TASK_CANCEL: {
      char uid[37], jid[37];
      ct_guid_format(&r->task->id, uid);
      ct_guid_format(&r->job->id, jid);
      ct_buf_addc(b, '{');
      str_m(&o, "status", "Accepted");
      key(&o, "message");
      ct_buf_adds(b, "\"Cancellation request for user id: ");
      ct_buf_add(b, uid, 36);
      ct_buf_adds(b, " from batch: ");
      ct_buf_add(b, jid, 36);
      ct_buf_adds(b, " was accepted.\"}");
      break;
    }
    default:
      break;
  }
}
