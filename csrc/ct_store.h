/*
** ct_store.h -- the model's store: tenants, jobs and tasks as compact C
** records, the rules of every operation, and the model clock.  No Lua.
**
** Ownership: the store owns every record; a pointer returned by a find
** or create function stays valid until the next call that may remove a
** job (ct_store_advance) or the store is freed.
** Errors: a function that can be refused takes a ct_err * and returns
** NULL / -1 after filling it; a refused call changes nothing.
*/
#ifndef CT_STORE_H
#define CT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ct_enums.h"
#include "ct_fault.h"
#include "ct_json.h"
#include "ct_util.h"

/* the most users (tasks) one job holds */
#define CT_JOB_MAX_USERS 2000

/* ---------- errors ---------- */
typedef struct ct_err {
  int status;           /* HTTP status */
  const char *code;     /* Graph error code, e.g. "invalidRequest" */
  const char *inner;    /* more specific code for innerError, or NULL */
  char message[512];
} ct_err;

/* fill `e`: the message from fmt (ct_msg_addf) */
void ct_err_set(ct_err *e, int status, const char *code, const char *inner,
                const char *fmt, ...) CT_PRINTF(5, 6);
void ct_err_vset(ct_err *e, int status, const char *code, const char *inner,
                 const char *fmt, va_list ap);
/* fill `e` with an empty message, and start `m` on it: the message is
   then built piece by piece (ct_msg_addf, ct_msg_quote) */
void ct_err_start(ct_err *e, int status, const char *code,
                  const char *inner, ct_msg *m);

/* ---------- records ---------- */
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

/* an open-addressing map from GUID to a word */
typedef struct ct_gmap_slot { ct_guid key; uintptr_t val; } ct_gmap_slot;
typedef struct ct_gmap {
  ct_gmap_slot *slots;
  uint8_t *used;
  size_t cap, count;
} ct_gmap;

struct ct_tenant;
struct ct_job;
struct ct_change;
struct ct_change_result;

/* a job's task index: slots hold position + 1, keys are read from the
   tasks themselves (4 bytes a slot) */
typedef struct ct_tmap {
  uint32_t *slots;
  size_t cap, count;
} ct_tmap;

/* a tenant's active users: each slot names a job and a task position */
typedef struct ct_umap_slot {
  struct ct_job *job;          /* NULL: empty */
  uint32_t pos;
} ct_umap_slot;
typedef struct ct_umap {
  ct_umap_slot *slots;
  size_t cap, count;
} ct_umap;

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

/* ---------- the store ---------- */
typedef struct ct_timings {       /* seconds each lifecycle step takes */
  double validate_submitted, validate_processing, validate_in_progress;
  double processing, sync, cutover, cancel, delete_pending, deleted;
  double validation_expiry;
} ct_timings;

/* the timings, as crosstenant.new's `timings` option names them, in the
   struct's order: the one list of them (crosstenant.TIMINGS) */
enum { CT_TIMING__COUNT = 10 };
extern const char *const ct_timing_names[CT_TIMING__COUNT + 1];
/* timing `i` of `t` (ct_timing_names[i]); NULL when out of range */
double *ct_timing_at(ct_timings *t, int i);

typedef struct ct_fault ct_fault;

typedef struct ct_store {
  ct_gmap tenants;                 /* tenant id -> ct_tenant* */
  uint64_t nextseq;
  uint64_t rng[2];                 /* xorshift128+ state: ids, failures */
  uint64_t rng_seed;
  int64_t now;                     /* model clock, ticks */
  int strict;
  double failure_rate[2];           /* by phase: validate, migrate */
  int sticky;                       /* failure_rate draws are per entry:
                                       see ct_store_sticky_draw */
  ct_timings timings;
  /* due jobs: a binary min-heap on (due, seq) */
  ct_job **heap;
  size_t nheap, capheap;
  ct_gmap faults;                  /* user id -> ct_fault list */
  uint64_t nfaults;                 /* scripted outcomes made, ever */
  size_t ntasks_total;
  uint64_t nrequests;               /* request ids are made from this */
  uint64_t ntransitions;            /* status changes made, ever */
  /* throttling and transient faults of requests (429/503/504): rules,
     rates, budget, callers' Retry-After windows (ct_fault.h) */
  ct_fault_state faultstate;
  /* the front end's defaults (the caller of a request without a token),
     kept here so a snapshot holds them; set by ct_store_set_defaults */
  ct_guid default_tenant;
  char *default_user;               /* NULL: "" */
  int require_token;
  /* change sink: called after every change the store accepts through
     its operations (ct_job_*, ct_task_*, ct_store_fail,
     ct_store_advance when it does something), with the change as data
     (ct_change.h); NULL: none.  A store file journals them. */
  void (*on_change)(void *ud, const struct ct_change *c,
                    const struct ct_change_result *r);
  void *change_ud;
  /* event sink: called for every lifecycle transition (may be NULL) */
  void (*on_job)(void *ud, const ct_job *job, int old, int new_);
  void (*on_task)(void *ud, const ct_job *job, const ct_task *task,
                  int service, int old, int new_);
  void *event_ud;
} ct_store;

typedef struct ct_options {
  uint64_t seed;
  int has_seed;
  int64_t now;           /* ticks */
  int strict;
  double failure_rate[2];   /* 0..1, by phase: validate, migrate */
  int sticky;               /* draw each (user, service, phase) once */
} ct_options;

ct_store *ct_store_new(const ct_options *o);   /* NULL: out of memory */
/* the front end's defaults: tenant, UPN (copied), whether requests need a
   token; -1 when out of memory (nothing changed) */
int ct_store_set_defaults(ct_store *s, const ct_guid *tenant,
                          const char *user, int require_token);
void ct_store_free(ct_store *s);               /* NULL is fine */
void ct_store_default_timings(ct_timings *t);

/* who calls: the request's tenant and UPN */
typedef struct ct_caller {
  ct_guid tenant;
  const char *upn;      /* `nupn` bytes; may hold NULs */
  size_t nupn;
} ct_caller;

/* a fresh random GUID from the store's generator */
void ct_store_newguid(ct_store *s, ct_guid *g);

/* jobs */
ct_job *ct_job_create(ct_store *s, const ct_caller *c, const ct_jval *body,
                      ct_err *e);
/* by id (GUID text) or by displayName (case-insensitive); 404 otherwise */
ct_job *ct_job_find(ct_store *s, const ct_caller *c, const char *key,
                    size_t n, ct_err *e);
/* only by displayName, for the alternate key form */
ct_job *ct_job_find_name(ct_store *s, const ct_caller *c, const char *name,
                         size_t n, ct_err *e);
/*
** The actions.  A refusal for the job's status is 409 notAllowed whose
** message names the status, where the action is allowed and the next
** step.  validate: from submitted, validateFailed, or validatePassed once
** that validation is older than timings.validation_expiry; migrate: from
** validatePassed (not expired), failed, completedWithErrors.
*/
int ct_job_update(ct_store *s, ct_job *j, const ct_jval *body, ct_err *e);
int ct_job_delete(ct_store *s, ct_job *j, ct_err *e);
int ct_job_validate(ct_store *s, ct_job *j, ct_err *e);
int ct_job_migrate(ct_store *s, ct_job *j, ct_err *e);
int ct_job_cancel(ct_store *s, ct_job *j, ct_err *e);

/*
** tasks.  ct_task_create: the task tracks every service of the job's
** workloads, in the docs' order (as a task made with the job); each
** currentStatus entry sets the status, message and errors of the service
** it names; an entry with no service, a service outside the job's or a
** repeat is 400 naming the index and the job's services.  409 outside
** submitted, validatePassed (which goes back to submitted) and
** validateFailed, or for a user already held.
*/
ct_task *ct_task_create(ct_store *s, ct_job *j, const ct_jval *body,
                        ct_err *e);
ct_task *ct_task_find(ct_job *j, const char *key, size_t n, ct_err *e);
int ct_task_cancel(ct_store *s, ct_job *j, ct_task *t, ct_err *e);
/* a task's taskType and entry `entry`'s message; *n gets the length */
const char *ct_task_type(const ct_task *t, size_t *n);
const char *ct_task_message(const ct_task *t, int entry, size_t *n);

/* scripted outcome for one user and service */
enum ct_phase { CT_PHASE_VALIDATE, CT_PHASE_MIGRATE };
int ct_store_fail(ct_store *s, const ct_guid *user, int service, int phase,
                  int status, const char *code, size_t ncode,
                  const char *message, size_t nmessage, ct_err *e);

/* a scripted outcome not applied yet (strings owned by the store) */
typedef struct ct_fault_info {
  ct_guid user;
  int service, phase, status;
  ct_str code, message;             /* length-counted, as stored */
  uint64_t seq;                     /* script order */
} ct_fault_info;

/* the scripted outcomes not applied yet: returns how many there are and
   fills `out` with up to `cap` of them; when all fit, in script order */
size_t ct_store_faults(const ct_store *s, ct_fault_info *out, size_t cap);

/* a request id: a GUID from a generator apart from the ids' one, so
   answering a request never changes the ids the store makes later */
void ct_store_request_id(ct_store *s, ct_guid *g);

/* run every transition due up to `until` (ticks), in time order */
void ct_store_advance(ct_store *s, int64_t until);
/* the time of the next due transition, or -1 */
int64_t ct_store_next_due(const ct_store *s);

/* GUID map (also used by the binding) */
void ct_gmap_init(ct_gmap *m);
void ct_gmap_free(ct_gmap *m);
int ct_gmap_get(const ct_gmap *m, const ct_guid *k, uintptr_t *val);
int ct_gmap_put(ct_gmap *m, const ct_guid *k, uintptr_t val); /* -1: OOM */
/* room for `extra` more keys, so the next puts cannot fail; -1: OOM */
int ct_gmap_reserve(ct_gmap *m, size_t extra);

/* task index (reserve, then put cannot fail) */
void ct_tmap_init(ct_tmap *m);
void ct_tmap_free(ct_tmap *m);
int ct_tmap_get(const ct_tmap *m, const ct_task *tasks, const ct_guid *k,
                size_t *pos);
int ct_tmap_reserve(ct_tmap *m, const ct_task *tasks, size_t extra);
void ct_tmap_put(ct_tmap *m, const ct_task *tasks, size_t pos);

/* active users (reserve, then put cannot fail; put replaces) */
void ct_umap_init(ct_umap *m);
void ct_umap_free(ct_umap *m);
int ct_umap_get(const ct_umap *m, const ct_guid *k, ct_job **job);
int ct_umap_reserve(ct_umap *m, size_t extra);
void ct_umap_put(ct_umap *m, ct_job *job, size_t pos);
void ct_umap_del(ct_umap *m, const ct_guid *k);
void ct_gmap_del(ct_gmap *m, const ct_guid *k);

#endif
