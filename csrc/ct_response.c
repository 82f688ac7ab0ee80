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

#define TASK_TYPE "#microsoft.graph.crossTenantMigrationTask"
#define SSD_TYPE "microsoft.graph.crossTenantMigrationServiceStatusDetails"

/* property indexes of ct_type_job and ct_type_task (their order) */
enum { J_ID, J_DISPLAYNAME, J_JOBTYPE, J_SOURCETENANTID, J_TARGETTENANTID,
       J_COMPLETEAFTER, J_STATUS, J_MESSAGE, J_CREATED, J_CREATEDBY,
       J_UPDATED, J_EXCHANGE, J_WORKLOADS, J_RESOURCETYPE, J_RESOURCES };
enum { T_ID, T_TASKTYPE, T_UPDATED, T_CURRENTSTATUS };

typedef struct w {
  ct_buf *b;
  int first;               /* no member written yet in this object */
} w;

static void key(w *o, const char *k) {
  if (!o->first) ct_buf_addc(o->b, ',');
  o->first = 0;
  ct_buf_json_string(o->b, k, strlen(k));
  ct_buf_addc(o->b, ':');
}

static void str_m(w *o, const char *k, const char *v) {
  key(o, k);
  ct_buf_json_string(o->b, v, strlen(v));
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
  ct_buf_json_string(o->b, s, 36);
}

static void time_m(w *o, const char *k, int64_t ticks, int digits) {
  char s[29];
  ct_time t;
  size_t n;
  t.ticks = ticks;
  t.digits = digits;
  n = ct_time_format(&t, s);
  key(o, k);
  ct_buf_json_string(o->b, s, n);
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
  ct_buf_addc(b, '{');
  if (context != NULL && context->len > 0) {
    key(&o, "@odata.context");
    ct_buf_json_string(b, context->p, context->len);
  }
  if (seed) str_m(&o, "@odata.type", TASK_TYPE);
  guid_m(&o, "id", &t->id);
  if (keep(select, T_TASKTYPE)) {
    size_t n;
    const char *tt = ct_task_type(t, &n);
    nstr_m(&o, "taskType", tt, n);
  }
  if (keep(select, T_UPDATED))
    time_m(&o, "lastUpdatedDateTime", t->updated, t->digits);
  if (keep(select, T_CURRENTSTATUS)) {
    key(&o, "currentStatus");
    ct_buf_addc(b, '[');
    for (i = 0; i < t->n; i++) {
      size_t k, ne = t->extra ? t->extra->nerrors[i] : 0;
      w e;
      e.b = b;
      e.first = 1;
      if (i > 0) ct_buf_addc(b, ',');
      ct_buf_addc(b, '{');
      if (seed) str_m(&e, "@odata.type", SSD_TYPE);
      str_m(&e, "service", ct_service_name(t->svc[i]));
      str_m(&e, "status", ct_svc_status_name(t->st[i]));
      {
        size_t n;
        const char *m = ct_task_message(t, i, &n);
        nstr_m(&e, "message", m, n);
      }
      key(&e, "errors");
      ct_buf_addc(b, '[');
      for (k = 0; k < ne; k++) {
        w x;
        x.b = b;
        x.first = 1;
        if (k > 0) ct_buf_addc(b, ',');
        ct_buf_addc(b, '{');
        lstr_m(&x, "code", &t->extra->errors[i][k].code);
        lstr_m(&x, "message", &t->extra->errors[i][k].message);
        ct_buf_addc(b, '}');
      }
      ct_buf_adds(b, "]}");
    }
    ct_buf_addc(b, ']');
  }
  ct_buf_addc(b, '}');
}

static void write_job(ct_buf *b, const ct_job *j, const ct_buf *context,
                      uint32_t select, int expand) {
  w o;
  size_t i;
  o.b = b;
  o.first = 1;
  ct_buf_addc(b, '{');
  if (context != NULL && context->len > 0) {
    key(&o, "@odata.context");
    ct_buf_json_string(b, context->p, context->len);
  }
  guid_m(&o, "id", &j->id);
  if (keep(select, J_DISPLAYNAME)) lstr_m(&o, "displayName", &j->displayName);
  if (keep(select, J_JOBTYPE))
    str_m(&o, "jobType", ct_job_type_name(j->jobType));
  if (keep(select, J_SOURCETENANTID))
    guid_m(&o, "sourceTenantId", &j->sourceTenantId);
  if (keep(select, J_TARGETTENANTID))
    guid_m(&o, "targetTenantId", &j->tenant->id);
  if (keep(select, J_COMPLETEAFTER))
    time_m(&o, "completeAfterDateTime", j->completeAfter.ticks,
           j->completeAfter.digits);
  if (keep(select, J_STATUS))
    str_m(&o, "status", ct_job_status_name(j->status));
  if (keep(select, J_MESSAGE)) str_m(&o, "message", j->message);
  if (keep(select, J_CREATED))
    time_m(&o, "createdDateTime", j->created.ticks, j->created.digits);
  if (keep(select, J_CREATEDBY)) lstr_m(&o, "createdBy", &j->createdBy);
  if (keep(select, J_UPDATED))
    time_m(&o, "lastUpdatedDateTime", j->updated.ticks, j->updated.digits);
  if (keep(select, J_EXCHANGE)) {
    key(&o, "exchangeSettings");
    if (j->hasExchangeSettings) {
      w x;
      x.b = b;
      x.first = 1;
      ct_buf_addc(b, '{');
      lstr_m(&x, "sourceEndpoint", &j->sourceEndpoint);
      lstr_m(&x, "targetDeliveryDomain", &j->targetDeliveryDomain);
      ct_buf_addc(b, '}');
    } else {
      ct_buf_adds(b, "null");
    }
  }
  if (keep(select, J_WORKLOADS)) {
    key(&o, "workloads");
    ct_buf_addc(b, '[');
    for (i = 0; i < j->nworkloads; i++) {
      const char *s = ct_workload_name(j->workloads[i]);
      if (i > 0) ct_buf_addc(b, ',');
      ct_buf_json_string(b, s, strlen(s));
    }
    ct_buf_addc(b, ']');
  }
  if (keep(select, J_RESOURCETYPE))
    lstr_m(&o, "resourceType", &j->resourceType);
  if (keep(select, J_RESOURCES)) {
    key(&o, "resources");
    ct_buf_addc(b, '[');
    for (i = 0; i < j->ntasks; i++) {
      char s[37];
      ct_guid_format(&j->tasks[i].id, s);
      if (i > 0) ct_buf_addc(b, ',');
      ct_buf_json_string(b, s, 36);
    }
    ct_buf_addc(b, ']');
  }
  if (expand) {
    key(&o, "users");
    ct_buf_addc(b, '[');
    for (i = 0; i < j->ntasks; i++) {
      if (i > 0) ct_buf_addc(b, ',');
      write_task(b, &j->tasks[i], NULL, 0, 0);
    }
    ct_buf_addc(b, ']');
  }
  ct_buf_addc(b, '}');
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
      for (i = 0; i < r->nitems; i++) {
        if (i > 0) ct_buf_addc(b, ',');
        if (r->shape == CT_R_JOBS)
          write_job(b, r->jobs[i], NULL, r->select, r->expand);
        else
          write_task(b, r->tasks[i], NULL, 0, r->select);
      }
      ct_buf_adds(b, "]}");
      break;
    case CT_R_JOB_CANCEL:
      ct_buf_addc(b, '{');
      guid_m(&o, "id", &r->job->id);
      lstr_m(&o, "displayName", &r->job->displayName);
      str_m(&o, "status", "pendingCancel");
      str_m(&o, "message", r->job->message);
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
