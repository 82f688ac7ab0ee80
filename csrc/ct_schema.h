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

/* a member of an object, NULL when absent or when read-only and ignored */
const ct_prop *ct_schema_prop(const ct_type *t, const char *name);
/* the same for a name of n bytes (which may hold NULs: then none) */
const ct_prop *ct_schema_propn(const ct_type *t, const char *name,
                               size_t n);

/* index of `s` in a NULL-terminated list, case-insensitively; -1 */
int ct_schema_value_index(const char *const *values, const char *s,
                          size_t n);

#endif
