/*
** ct_schema.c -- Graph types as descriptor tables, and their validator.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ct_schema.h"


static const char *const resource_type_values[] = { "Users", NULL };
static const char *const task_type_values[] = { "user", NULL };

/*
** The types' properties in their documented order (the order responses
** write them in), indexed by the enums of ct_schema.h: the one list of
** each type's property names.
*/
const ct_prop ct_error_props[CT_ERROR__COUNT] = {
  [CT_ERROR_CODE] = { "code", CT_K_STRING, 0, NULL, NULL },
  [CT_ERROR_MESSAGE] = { "message", CT_K_STRING, 0, NULL, NULL },
};
const ct_type ct_type_error = {
  "microsoft.graph.error", ct_error_props, CT_ERROR__COUNT
};

const ct_prop ct_status_props[CT_STATUS__COUNT] = {
  [CT_STATUS_SERVICE] =
    { "service", CT_K_STRING, 0, NULL, ct_service_names },
  [CT_STATUS_STATUS] =
    { "status", CT_K_STRING, 0, NULL, ct_svc_status_names },
  [CT_STATUS_MESSAGE] =
    { "message", CT_K_STRING, CT_P_NULLABLE, NULL, NULL },
  [CT_STATUS_ERRORS] =
    { "errors", CT_K_OBJECTS, 0, &ct_type_error, NULL },
};
const ct_type ct_type_status_details = {
  "microsoft.graph.crossTenantMigrationServiceStatusDetails",
  ct_status_props, CT_STATUS__COUNT
};

const ct_prop ct_exchange_props[CT_EXCHANGE__COUNT] = {
  [CT_EXCHANGE_SOURCEENDPOINT] =
    { "sourceEndpoint", CT_K_STRING, CT_P_REQUIRED, NULL, NULL },
  [CT_EXCHANGE_TARGETDELIVERYDOMAIN] =
    { "targetDeliveryDomain", CT_K_STRING, CT_P_REQUIRED, NULL, NULL },
};
const ct_type ct_type_exchange_settings = {
  "microsoft.graph.exchangeOnlineCrossTenantMigrationSettings",
  ct_exchange_props, CT_EXCHANGE__COUNT
};

const ct_prop ct_task_props[CT_TASK__COUNT] = {
  [CT_TASK_ID] = { "id", CT_K_GUID, 0, NULL, NULL },
  [CT_TASK_TASKTYPE] =
    { "taskType", CT_K_STRING, CT_P_REQUIRED, NULL, task_type_values },
  [CT_TASK_LASTUPDATED] =
    { "lastUpdatedDateTime", CT_K_TIME, CT_P_REQUIRED, NULL, NULL },
  [CT_TASK_CURRENTSTATUS] =
    { "currentStatus", CT_K_OBJECTS, 0, &ct_type_status_details, NULL },
};
const ct_type ct_type_task = {
  "microsoft.graph.crossTenantMigrationTask", ct_task_props,
  CT_TASK__COUNT
};

const ct_prop ct_job_props[CT_JOB__COUNT] = {
  [CT_JOB_ID] = { "id", CT_K_GUID, CT_P_READONLY, NULL, NULL },
  [CT_JOB_DISPLAYNAME] =
    { "displayName", CT_K_STRING, CT_P_REQUIRED, NULL, NULL },
  [CT_JOB_JOBTYPE] =
    { "jobType", CT_K_STRING, CT_P_READONLY, NULL, NULL },
  [CT_JOB_SOURCETENANTID] =
    { "sourceTenantId", CT_K_GUID, CT_P_REQUIRED, NULL, NULL },
  [CT_JOB_TARGETTENANTID] =
    { "targetTenantId", CT_K_GUID, CT_P_READONLY, NULL, NULL },
  [CT_JOB_COMPLETEAFTER] =
    { "completeAfterDateTime", CT_K_TIME, CT_P_REQUIRED | CT_P_UPDATABLE,
      NULL, NULL },
  [CT_JOB_STATUS] = { "status", CT_K_STRING, CT_P_READONLY, NULL, NULL },
  [CT_JOB_MESSAGE] =
    { "message", CT_K_STRING, CT_P_READONLY | CT_P_NULLABLE, NULL, NULL },
  [CT_JOB_CREATED] =
    { "createdDateTime", CT_K_TIME, CT_P_READONLY, NULL, NULL },
  [CT_JOB_CREATEDBY] =
    { "createdBy", CT_K_STRING, CT_P_READONLY, NULL, NULL },
  [CT_JOB_UPDATED] =
    { "lastUpdatedDateTime", CT_K_TIME, CT_P_READONLY, NULL, NULL },
  [CT_JOB_EXCHANGE] =
    { "exchangeSettings", CT_K_OBJECT, CT_P_NULLABLE,
      &ct_type_exchange_settings, NULL },
  [CT_JOB_WORKLOADS] =
    { "workloads", CT_K_STRINGS, 0, NULL, ct_workload_names },
  [CT_JOB_RESOURCETYPE] =
    { "resourceType", CT_K_STRING, CT_P_REQUIRED, NULL,
      resource_type_values },
  [CT_JOB_RESOURCES] =
    { "resources", CT_K_GUIDS, CT_P_REQUIRED, NULL, NULL },
  [CT_JOB_USERS] =
    { "users", CT_K_OBJECTS, CT_P_READONLY, &ct_type_task, NULL },
};
const ct_type ct_type_job = {
  "microsoft.graph.crossTenantMigrationJob", ct_job_props,
  CT_JOB__COUNT
};

/* ---------- helpers ---------- */

int ct_schema_value_index(const char *const *values, const char *s,
                          size_t n) {
  return ct_names_find(values, s, n, 0);
}

const ct_prop *ct_schema_prop(const ct_type *t, const char *name) {
  return ct_schema_propn(t, name, strlen(name));
}

const ct_prop *ct_schema_propn(const ct_type *t, const char *name,
                               size_t n) {
  size_t i;
  if (n == 0) return NULL;                 /* no property is unnamed */
  for (i = 0; i < t->nprops; i++)          /* first bytes compared first */
    if (t->props[i].name[0] == name[0] && strlen(t->props[i].name) == n &&
        memcmp(t->props[i].name, name, n) == 0)
      return &t->props[i];
  return NULL;
}

/* a value quoted for a message: at most 64 bytes, control bytes as ? */
static void quote(char *out, size_t cap, const char *s, size_t n) {
  ct_msg m;
  ct_msg_init(&m, out, cap);
  ct_msg_quote(&m, s, n, 64, 1);
}

static void list_values(char *out, size_t cap, const char *const *values) {
  ct_msg m;
  int i;
  ct_msg_init(&m, out, cap);
  for (i = 0; values[i] != NULL; i++)
    ct_msg_addf(&m, "%s%s", i ? ", " : "", values[i]);
}

static const char *kind_name(unsigned kind) {
  switch (kind) {
    case CT_K_STRING: return "a string";
    case CT_K_GUID: return "a string holding a GUID";
    case CT_K_TIME: return "a string holding a DateTimeOffset";
    case CT_K_OBJECT: return "an object";
    default: return "a collection";
  }
}

static const char *jkind_name(int k) {
  switch (k) {
    case CT_JNULL: return "null";
    case CT_JFALSE: case CT_JTRUE: return "a boolean";
    case CT_JINT: case CT_JNUM: return "a number";
    case CT_JSTR: return "a string";
    case CT_JARR: return "a collection";
    case CT_JOBJ: return "an object";
    default: return "an empty table";
  }
}

/*
** Where a value sits in the body, as a chain up to the root: made on the
** C stack as the checker descends and written out only for a message,
** so a valid body costs no text formatting.
*/
typedef struct path {
  const struct path *up;
  const char *name;          /* a member's name, or NULL for an index */
  size_t namelen, index;
} path;

static size_t path_text(const path *p, char *out, size_t cap) {
  size_t k;
  char tmp[24];
  const char *piece;
  size_t n;
  if (p == NULL) return 0;
  k = path_text(p->up, out, cap);
  if (p->name != NULL) {
    char q[80];
    quote(q, sizeof q, p->name, p->namelen);
    if (k > 0 && k + 1 < cap) out[k++] = '.';
    piece = q;
    n = strlen(q);
    if (k + n >= cap) n = cap - k - 1;
    memcpy(out + k, piece, n);
    k += n;
  } else {
    int w = snprintf(tmp, sizeof tmp, "[%zu]", p->index);
    n = w > 0 ? (size_t)w : 0;
    if (k + n >= cap) n = cap - k - 1;
    memcpy(out + k, tmp, n);
    k += n;
  }
  out[k] = '\0';
  return k;
}

/* 400 "Property '<path>' <fmt>" with innerError `inner`; returns -1 */
static int vrefuse(ct_err *e, const path *at, const char *inner,
                   const char *fmt, va_list ap) {
  char where[256];
  ct_msg m;
  where[0] = '\0';
  path_text(at, where, sizeof where);
  ct_err_start(e, 400, "invalidRequest", inner, &m);
  ct_msg_addf(&m, "Property '%s' ", where);
  ct_msg_vaddf(&m, fmt, ap);
  return -1;
}

static int refuse(ct_err *e, const path *at, const char *inner,
                  const char *fmt, ...) CT_PRINTF(4, 5);
static int refuse(ct_err *e, const path *at, const char *inner,
                  const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrefuse(e, at, inner, fmt, ap);
  va_end(ap);
  return -1;
}

/* the common case: innerError invalidProperty */
static int bad(ct_err *e, const path *at, const char *fmt, ...)
  CT_PRINTF(3, 4);
static int bad(ct_err *e, const path *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vrefuse(e, at, "invalidProperty", fmt, ap);
  va_end(ap);
  return -1;
}

static int check_type(const ct_type *t, const ct_jval *v, int strict,
                      int mode, const path *at, ct_fields *out, ct_err *e);

/* a single scalar of kind `kind`; a GUID or time parsed into *val when
   val is not NULL */
static int check_scalar(const ct_prop *p, unsigned kind, const ct_jval *v,
                        const path *at, ct_scalar *val, ct_err *e) {
  char q[80];
  ct_scalar tmp;
  if (val == NULL) val = &tmp;
  if (v->kind != CT_JSTR)
    return bad(e, at, "must be %s, not %s.", kind_name(kind),
               jkind_name(v->kind));
  if (kind == CT_K_GUID) {
    if (ct_guid_parse(v->u.s, v->len, &val->guid) != 0) {
      quote(q, sizeof q, v->u.s, v->len);
      return bad(e, at, "is not a valid GUID: '%s'.", q);
    }
  } else if (kind == CT_K_TIME) {
    const char *why = "invalid format";
    if (ct_time_parse(v->u.s, v->len, &val->time, &why) != 0) {
      quote(q, sizeof q, v->u.s, v->len);
      return bad(e, at, "is not a valid DateTimeOffset: '%s' (%s).",
                 q, why);
    }
  } else if (p->values != NULL &&
             ct_schema_value_index(p->values, v->u.s, v->len) < 0) {
    char list[200];
    quote(q, sizeof q, v->u.s, v->len);
    list_values(list, sizeof list, p->values);
    return bad(e, at, "has an unsupported value '%s'; supported: %s.",
               q, list);
  }
  return 0;
}

/* a member's value; a scalar's parse kept in *val (may be NULL) */
static int check_value(const ct_prop *p, const ct_jval *v, int strict,
                       int mode, const path *at, ct_scalar *val,
                       ct_err *e) {
  size_t i;
  if (v->kind == CT_JNULL) {
    if (p->flags & CT_P_NULLABLE) return 0;
    return bad(e, at, "must not be null.");
  }
  switch (p->kind) {
    case CT_K_STRING: case CT_K_GUID: case CT_K_TIME:
      return check_scalar(p, p->kind, v, at, val, e);
    case CT_K_OBJECT:
      if (v->kind != CT_JOBJ && v->kind != CT_JEMPTY)
        return bad(e, at, "must be an object, not %s.",
                   jkind_name(v->kind));
      return check_type(p->sub, v, strict, mode, at, NULL, e);
    default:   /* collections */
      if (v->kind == CT_JEMPTY) return 0;
      if (v->kind != CT_JARR)
        return bad(e, at, "must be a collection, not %s.",
                   jkind_name(v->kind));
      for (i = 0; i < v->len; i++) {
        const ct_jval *item = &v->u.items[i];
        path sub;
        sub.up = at;
        sub.name = NULL;
        sub.namelen = 0;
        sub.index = i;
        if (p->kind == CT_K_OBJECTS) {
          if (item->kind != CT_JOBJ && item->kind != CT_JEMPTY)
            return bad(e, &sub, "must be an object, not %s.",
                       jkind_name(item->kind));
          if (check_type(p->sub, item, strict, mode, &sub, NULL, e) != 0)
            return -1;
        } else {
          unsigned k = p->kind == CT_K_GUIDS ? CT_K_GUID : CT_K_STRING;
          if (item->kind == CT_JNULL)
            return bad(e, &sub, "must not be null.");
          if (check_scalar(p, k, item, &sub, NULL, e) != 0) return -1;
        }
      }
      return 0;
  }
}

static int check_odata_type(const ct_type *t, const ct_jval *v,
                            const path *at, ct_err *e) {
  const char *s;
  size_t n;
  char q[80];
  if (v->kind != CT_JSTR)
    return bad(e, at, "must be a string, not %s.", jkind_name(v->kind));
  s = v->u.s;
  n = v->len;
  if (n > 0 && s[0] == '#') { s++; n--; }
  if (n == strlen(t->name) && memcmp(s, t->name, n) == 0) return 0;
  quote(q, sizeof q, v->u.s, v->len);
  return bad(e, at, "is '%s', but the body must be of type '#%s'.", q,
             t->name);
}

/* the members of object `v` against type `t`; `out` (NULL: none) gets
   each property's member and parsed value */
static int check_type(const ct_type *t, const ct_jval *v, int strict,
                      int mode, const path *at, ct_fields *out,
                      ct_err *e) {
  size_t i;
  size_t n = v->kind == CT_JOBJ ? v->len : 0;
  path sub;
  sub.up = at;
  sub.index = 0;
  for (i = 0; i < n; i++) {
    const ct_jval *m = &v->u.items[i];
    const ct_prop *p;
    ct_scalar *val = NULL;
    sub.name = m->key;
    sub.namelen = m->keylen;
    if (m->keylen == 11 && memcmp(m->key, "@odata.type", 11) == 0) {
      if (check_odata_type(t, m, &sub, e) != 0) return -1;
      continue;
    }
    p = ct_schema_propn(t, m->key, m->keylen);   /* a NUL is no end */
    if (p == NULL) {
      refuse(e, &sub, "invalidProperty",
             "does not exist on type '%s'.", t->name);
      return -1;
    }

    if (p->flags & CT_P_READONLY) {
      if (!strict) continue;
      refuse(e, &sub, "invalidProperty", "is read-only and can't be set.");
      return -1;
    }
    if (mode == CT_CHECK_UPDATE && at == NULL &&
        !(p->flags & CT_P_UPDATABLE)) {
      refuse(e, &sub, "propertyNotUpdateable",
             "can't be updated; only completeAfterDateTime can.");
      return -1;
    }
    if (out != NULL && out->at[p - t->props] == NULL) {
      size_t k = (size_t)(p - t->props);
      out->at[k] = m;
      if ((p->kind == CT_K_GUID || p->kind == CT_K_TIME) &&
          m->kind == CT_JSTR) {
        val = &out->val[k];
        out->parsed |= 1u << k;
      }
    }
    if (check_value(p, m, strict, mode, &sub, val, e) != 0) return -1;
  }
  if (mode == CT_CHECK_CREATE || at != NULL) {
    for (i = 0; i < t->nprops; i++) {
      const ct_prop *p = &t->props[i];
      if ((p->flags & CT_P_REQUIRED) &&
          (out != NULL ? out->at[i] : ct_json_get(v, p->name)) == NULL) {
        sub.name = p->name;
        sub.namelen = strlen(p->name);
        refuse(e, &sub, "invalidProperty", "is required.");
        return -1;
      }
    }
  }
  return 0;
}

int ct_schema_check(const ct_type *t, const ct_jval *v, int strict,
                    int mode, ct_err *e) {
  return ct_schema_read(t, v, strict, mode, NULL, e);
}

int ct_schema_read(const ct_type *t, const ct_jval *v, int strict,
                   int mode, ct_fields *out, ct_err *e) {
  if (out != NULL) {
    memset(out->at, 0, t->nprops * sizeof out->at[0]);
    out->parsed = 0;
  }
  if (v->kind != CT_JOBJ && v->kind != CT_JEMPTY) {
    ct_err_set(e, 400, "invalidRequest", NULL,
               "The request body must be a JSON object, not %s.",
               jkind_name(v->kind));
    return -1;
  }
  return check_type(t, v, strict, mode, NULL, out, e);
}
