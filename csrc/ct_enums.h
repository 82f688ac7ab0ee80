/*
** ct_enums.h -- Graph's enums as C enums, and the one list of each
** one's wire names (the SDK's order; NULL-terminated), which the store,
** the validator, the writer, the query parser and the Lua binding
** (crosstenant.JOB_STATUSES, ...) all read.  No state, no Lua.
*/
#ifndef CT_ENUMS_H
#define CT_ENUMS_H

#include <stddef.h>

/* crossTenantMigrationJobStatus */
enum ct_job_status {
  CT_JS_SUBMITTED, CT_JS_APPROVED, CT_JS_PROCESSING, CT_JS_CUTTINGOVER,
  CT_JS_INPROGRESS, CT_JS_COMPLETED, CT_JS_COMPLETEDWITHERRORS,
  CT_JS_FAILED, CT_JS_CANCELLED, CT_JS_PENDINGCANCEL,
  CT_JS_ADMINACTIONREQUIRED, CT_JS_VALIDATESUBMITTED,
  CT_JS_VALIDATEPROCESSING, CT_JS_VALIDATEINPROGRESS, CT_JS_VALIDATEPASSED,
  CT_JS_VALIDATEFAILED, CT_JS_PENDINGDELETE, CT_JS_DELETED,
  CT_JS_UNKNOWNFUTUREVALUE, CT_JS__COUNT
};
/* crossTenantMigrationJobType */
enum ct_job_type {
  CT_JT_VALIDATE, CT_JT_MIGRATE, CT_JT_UNKNOWNFUTUREVALUE, CT_JT__COUNT
};
/* crossTenantMigrationServiceStatus */
enum ct_svc_status {
  CT_SS_NOTSTARTED, CT_SS_VALID, CT_SS_INVALID, CT_SS_ERROR,
  CT_SS_INPROGRESS, CT_SS_COMPLETED, CT_SS_FAILED, CT_SS_CANCELLED,
  CT_SS_PENDINGCANCEL, CT_SS_SYNCING, CT_SS_SYNCED, CT_SS_FINALIZING,
  CT_SS_FORCECOMPLETE, CT_SS_UNKNOWNFUTUREVALUE, CT_SS__COUNT
};
/* services, in the docs' order of currentStatus entries */
enum ct_service { CT_SVC_ODSP, CT_SVC_MEETING, CT_SVC_TEAMS,
                  CT_SVC_EXCHANGE, CT_SVC__COUNT };
/* workloads of a job, in the docs' order */
enum ct_workload { CT_WL_TEAMS, CT_WL_EXCHANGE, CT_WL_ODSP, CT_WL__COUNT };

/* the wire names, indexed by the enums above, NULL-terminated */
extern const char *const ct_job_status_names[CT_JS__COUNT + 1];
extern const char *const ct_job_type_names[CT_JT__COUNT + 1];
extern const char *const ct_svc_status_names[CT_SS__COUNT + 1];
extern const char *const ct_service_names[CT_SVC__COUNT + 1];
extern const char *const ct_workload_names[CT_WL__COUNT + 1];

/*
** The statuses in the order a migration runs through them, as enum
** values: the order reports and messages list them in
** (crosstenant.JOB_STATUS_ORDER, SERVICE_STATUS_ORDER).
** unknownFutureValue is left out.
*/
#define CT_JS_ORDER_COUNT (CT_JS__COUNT - 1)
#define CT_SS_ORDER_COUNT (CT_SS__COUNT - 1)
extern const unsigned char ct_job_status_order[CT_JS_ORDER_COUNT];
extern const unsigned char ct_svc_status_order[CT_SS_ORDER_COUNT];

/* Graph's names of the enum types, as $filter literals name them */
#define CT_ENUM_JOB_STATUS "crossTenantMigrationJobStatus"
#define CT_ENUM_JOB_TYPE "crossTenantMigrationJobType"
#define CT_ENUM_SVC_STATUS "crossTenantMigrationServiceStatus"

/* a name by its enum value; "unknown" when out of range */
const char *ct_job_status_name(int s);
const char *ct_job_type_name(int t);
const char *ct_svc_status_name(int s);
const char *ct_service_name(int s);
const char *ct_workload_name(int w);
/* ASCII case-insensitive lookups of s[0..n); -1 when unknown */
int ct_job_status_find(const char *s, size_t n);
int ct_svc_status_find(const char *s, size_t n);
int ct_service_find(const char *s, size_t n);
int ct_workload_find(const char *s, size_t n);
/* index of s[0..n) in a NULL-terminated list, ASCII case-insensitively
   (`exact`: byte for byte); -1 when absent */
int ct_names_find(const char *const *names, const char *s, size_t n,
                  int exact);
/* 1 for completed, completedWithErrors, failed, cancelled */
int ct_job_status_final(int s);

#endif
