/*
** ct_records.h -- the store's records: tenants, jobs and tasks as
** compact C structs, and the length-counted strings they hold.  No Lua.
** The store owns every record (ct_store.h says how long a pointer to
** one stays valid).
*/
#ifndef CT_RECORDS_H
#define CT_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "ct_enums.h"
#include "ct_map.h"
#include "ct_util.h"

/*
** A stored string: length-counted, because JSON strings may hold U+0000
** and the contract keeps them whole.  `p` is also NUL-terminated (for
** messages only: never strlen it); p == NULL means absent (or JSON null
** where the property is nullable).
*/
typedef struct ct_str { char *p; size_t n; } ct_str;

typedef struct ct_errinfo { ct_str code, message; } ct_errinfo;

/* the rarely-used parts of a task, allocated only when non-default */
typedef struct ct_task_extra {
  ct_str taskType;                   /* p NULL: "user" */
  ct_str message[CT_SVC__COUNT];     /* per entry; p NULL: "" */
  ct_errinfo *errors[CT_SVC__COUNT]; /* per entry; NULL: [] */
  uint16_t nerrors[CT_SVC__COUNT];
} ct_task_extra;

typedef struct ct_task {
  ct_guid id;
  int64_t updated;         /* lastUpdatedDateTime, ticks */
  ct_task_extra *extra;
  uint8_t digits;          /* fractional digits of `updated` */
  uint8_t n;               /* currentStatus entries */
  uint8_t cancelled;       /* cancelled out of its job */
  uint8_t retry;           /* runs in the current migrate attempt */
  uint8_t svc[CT_SVC__COUNT];    /* entry i: its service */
  uint8_t st[CT_SVC__COUNT];     /* entry i: its status */
} ct_task;

struct ct_tenant;

/* ct_job.validatedAt of a job whose validation never passed */
#define CT_NEVER_VALIDATED INT64_MIN

typedef struct ct_job {
  ct_guid id;
  uint64_t seq;                     /* creation order in the store */
  struct ct_tenant *tenant;
  ct_str displayName;
  char message[160];                /* set by the service */
  ct_str createdBy;
  ct_str resourceType;
  ct_str sourceEndpoint, targetDeliveryDomain;  /* p NULL: null */
  ct_guid sourceTenantId;
  ct_time completeAfter, created, updated;
  int64_t validatedAt;              /* when validation last passed,
                                       ticks; CT_NEVER_VALIDATED: never */
  int64_t due;                      /* next lifecycle step; -1: none */
  size_t heappos;
  uint8_t status, jobType, hasExchangeSettings;
  uint8_t waiting;                  /* synced, waiting for completeAfter */
  uint8_t nworkloads, workloads[CT_WL__COUNT];
  /* tasks, in the order users were added; `index` maps id -> position */
  ct_task *tasks;
  size_t ntasks, captasks;
  ct_tmap index;
} ct_job;

typedef struct ct_tenant {
  ct_guid id;
  ct_job **jobs;        /* by seq, oldest first */
  size_t njobs, capjobs;
  ct_gmap byid;         /* job id -> job */
  ct_umap users;        /* user id -> job holding it actively */
  /* displayName (ASCII case-folded) -> job: chained hash */
  struct ct_name_entry **names;
  size_t capnames, nnames;
} ct_tenant;

#endif
