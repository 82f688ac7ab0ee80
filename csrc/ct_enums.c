/*
** ct_enums.c -- the wire names of Graph's enums: one list each.
** See ct_enums.h.
*/
#include <string.h>

#include "ct_enums.h"

const char *const ct_job_status_names[CT_JS__COUNT + 1] = {
  "submitted", "approved", "processing", "cuttingOver", "inProgress",
  "completed", "completedWithErrors", "failed", "cancelled",
  "pendingCancel", "adminActionRequired", "validateSubmitted",
  "validateProcessing", "validateInProgress", "validatePassed",
  "validateFailed", "pendingDelete", "deleted", "unknownFutureValue", NULL
};
const char *const ct_job_type_names[CT_JT__COUNT + 1] = {
  "validate", "migrate", "unknownFutureValue", NULL
};
const char *const ct_svc_status_names[CT_SS__COUNT + 1] = {
  "notStarted", "valid", "invalid", "error", "inProgress", "completed",
  "failed", "cancelled", "pendingCancel", "syncing", "synced",
  "finalizing", "forceComplete", "unknownFutureValue", NULL
};
const char *const ct_service_names[CT_SVC__COUNT + 1] = {
  "ODSP", "Meeting", "Teams", "Exchange", NULL
};
const char *const ct_workload_names[CT_WL__COUNT + 1] = {
  "Teams", "Exchange", "ODSP", NULL
};

const unsigned char ct_job_status_order[CT_JS_ORDER_COUNT] = {
  CT_JS_SUBMITTED, CT_JS_VALIDATESUBMITTED, CT_JS_VALIDATEPROCESSING,
  CT_JS_VALIDATEINPROGRESS, CT_JS_VALIDATEPASSED, CT_JS_VALIDATEFAILED,
  CT_JS_PROCESSING, CT_JS_INPROGRESS, CT_JS_CUTTINGOVER, CT_JS_COMPLETED,
  CT_JS_COMPLETEDWITHERRORS, CT_JS_FAILED, CT_JS_PENDINGCANCEL,
  CT_JS_CANCELLED, CT_JS_PENDINGDELETE, CT_JS_DELETED, CT_JS_APPROVED,
  CT_JS_ADMINACTIONREQUIRED
};
const unsigned char ct_svc_status_order[CT_SS_ORDER_COUNT] = {
  CT_SS_NOTSTARTED, CT_SS_INPROGRESS, CT_SS_VALID, CT_SS_INVALID,
  CT_SS_ERROR, CT_SS_SYNCING, CT_SS_SYNCED, CT_SS_FINALIZING,
  CT_SS_COMPLETED, CT_SS_FAILED, CT_SS_PENDINGCANCEL, CT_SS_CANCELLED,
  CT_SS_FORCECOMPLETE
};

static const char *name_of(const char *const *names, int count, int i) {
  return (i >= 0 && i < count) ? names[i] : "unknown";
}
const char *ct_job_status_name(int s) {
  return name_of(ct_job_status_names, CT_JS__COUNT, s);
}
const char *ct_job_type_name(int t) {
  return name_of(ct_job_type_names, CT_JT__COUNT, t);
}
const char *ct_svc_status_name(int s) {
  return name_of(ct_svc_status_names, CT_SS__COUNT, s);
}
const char *ct_service_name(int s) {
  return name_of(ct_service_names, CT_SVC__COUNT, s);
}
const char *ct_workload_name(int w) {
  return name_of(ct_workload_names, CT_WL__COUNT, w);
}

static int lower(int c) {
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int ct_names_find(const char *const *names, const char *s, size_t n,
                  int exact) {
  int i;
  for (i = 0; names[i] != NULL; i++) {
    const char *v = names[i];
    size_t k;
    if (strlen(v) != n) continue;
    if (exact) {
      if (memcmp(v, s, n) == 0) return i;
      continue;
    }
    for (k = 0; k < n && lower((unsigned char)v[k]) ==
                          lower((unsigned char)s[k]); k++) ;
    if (k == n) return i;
  }
  return -1;
}

int ct_job_status_find(const char *s, size_t n) {
  return ct_names_find(ct_job_status_names, s, n, 0);
}
int ct_svc_status_find(const char *s, size_t n) {
  return ct_names_find(ct_svc_status_names, s, n, 0);
}
int ct_service_find(const char *s, size_t n) {
  return ct_names_find(ct_service_names, s, n, 0);
}
int ct_workload_find(const char *s, size_t n) {
  return ct_names_find(ct_workload_names, s, n, 0);
}

int ct_job_status_final(int s) {
  return s == CT_JS_COMPLETED || s == CT_JS_COMPLETEDWITHERRORS ||
         s == CT_JS_FAILED || s == CT_JS_CANCELLED;
}
