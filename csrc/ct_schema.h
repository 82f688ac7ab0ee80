/*
** ct_schema.h -- the Graph types as data, and the one validator that
** reads them.  Each type is a table of property descriptors; a request
** body is checked against it before any operation looks at the values,
** so the operations only read values already known to be well formed.
*/
#ifndef CT_SCHEMA_H
#define CT_SCHEMA_H

#include "ct_json.h"
#include "ct_store.h"

enum ct_kind {
  CT_K_STRING,    /* String */
  CT_K_GUID,      /* String holding a GUID */
  CT_K_TIME,      /* DateTimeOffset */
  CT_K_STRINGS,   /* String collection */
  CT_K_GUIDS,     /* String collection of GUIDs */
  CT_K_OBJECT,    /* complex type `sub` */
  CT_K_OBJECTS    /* collection of complex type `sub` */
};

#define CT_P_REQUIRED 1u   /* must be present when creating */
#define CT_P_READONLY 2u   /* set by the service */
#define CT_P_NULLABLE 4u   /* JSON null accepted */
#define CT_P_UPDATABLE 8u  /* may appear in an update (PATCH) body */

typedef struct ct_type ct_type;
typedef struct ct_prop {
  const char *name;
  unsigned kind;
  unsigned flags;
  const ct_type *sub;           /* CT_K_OBJECT(S) */
  const char *const *values;    /* allowed values (case-insensitive),
                                   NULL-terminated; NULL: any */
} ct_prop;

struct ct_type {
  const char *name;             /* "microsoft.graph.crossTenantMigrationJob" */
  const ct_prop *props;
  size_t nprops;
};

/*
** Property indexes of each type, in its documented order (the order a
** response writes them; bit i of a $select set): the one list of the
** types' properties.  ct_<type>_props[i].name is the property's name.
*/
enum ct_job_prop {
  CT_JOB_ID, CT_JOB_DISPLAYNAME, CT_JOB_JOBTYPE, CT_JOB_SOURCETENANTID,
  CT_JOB_TARGETTENANTID, CT_JOB_COMPLETEAFTER, CT_JOB_STATUS,
  CT_JOB_MESSAGE, CT_JOB_CREATED, CT_JOB_CREATEDBY, CT_JOB_UPDATED,
  CT_JOB_EXCHANGE, CT_JOB_WORKLOADS, CT_JOB_RESOURCETYPE,
  CT_JOB_RESOURCES, CT_JOB_USERS, CT_JOB__COUNT
};
enum ct_task_prop {
  CT_TASK_ID, CT_TASK_TASKTYPE, CT_TASK_LASTUPDATED, CT_TASK_CURRENTSTATUS,
  CT_TASK__COUNT
};
enum ct_status_prop {       /* crossTenantMigrationServiceStatusDetails */
  CT_STATUS_SERVICE, CT_STATUS_STATUS, CT_STATUS_MESSAGE, CT_STATUS_ERRORS,
  CT_STATUS__COUNT
};
enum ct_error_prop { CT_ERROR_CODE, CT_ERROR_MESSAGE, CT_ERROR__COUNT };
enum ct_exchange_prop {
  CT_EXCHANGE_SOURCEENDPOINT, CT_EXCHANGE_TARGETDELIVERYDOMAIN,
  CT_EXCHANGE__COUNT
};

extern const ct_prop ct_job_props[CT_JOB__COUNT];
extern const ct_prop ct_task_props[CT_TASK__COUNT];
extern const ct_prop ct_status_props[CT_STATUS__COUNT];
extern const ct_prop ct_error_props[CT_ERROR__COUNT];
extern const ct_prop ct_exchange_props[CT_EXCHANGE__COUNT];

extern const ct_type ct_type_job;
extern const ct_type ct_type_task;
extern const ct_type ct_type_status_details;
extern const ct_type ct_type_error;
extern const ct_type ct_type_exchange_settings;

enum ct_check_mode { CT_CHECK_CREATE, CT_CHECK_UPDATE };

/*
** Check `v` against `t`: an object; no unknown property; `@odata.type`
** (if present) names `t`, with or without '#'; read-only properties
** refused when `strict`, else ignored; each value of its kind, nullable
** only where marked, in `values` where given; required ones present
** (create mode); only CT_P_UPDATABLE ones present (update mode).
** Returns 0, or -1 with *e set (400 invalidRequest, innerError code
** invalidProperty or propertyNotUpdateable).
*/
int ct_schema_check(const ct_type *t, const ct_jval *v, int strict,
                    int mode, ct_err *e);

/*
** What the check read at the top level of a body, so that an operation
** reads each value once (the validator's parse is the one the store
** keeps): at[i] is the first member naming property i of the type that
** it checked (NULL: absent, or read-only and ignored); for a GUID or
** DateTimeOffset property, bit i of `parsed` is set and val[i] holds the
** value.
*/
#define CT_FIELDS_MAX CT_JOB__COUNT      /* the most properties a type has */
typedef union ct_scalar { ct_guid guid; ct_time time; } ct_scalar;
typedef struct ct_fields {
  const ct_jval *at[CT_FIELDS_MAX];
  ct_scalar val[CT_FIELDS_MAX];
  uint32_t parsed;
} ct_fields;

/* ct_schema_check, filling *out (which may be NULL) as it goes; *out is
   meaningful only when it returns 0 */
int ct_schema_read(const ct_type *t, const ct_jval *v, int strict,
                   int mode, ct_fields *out, ct_err *e);

/* a member of an object, NULL when absent or when read-only and ignored */
const ct_prop *ct_schema_prop(const ct_type *t, const char *name);
/* the same for a name of n bytes (which may hold NULs: then none) */
const ct_prop *ct_schema_propn(const ct_type *t, const char *name,
                               size_t n);

/* index of `s` in a NULL-terminated list, case-insensitively; -1 */
int ct_schema_value_index(const char *const *values, const char *s,
                          size_t n);

#endif
