/*
** ct_store.h -- the model's store: the rules of every operation on its
** tenants, jobs and tasks, errors, options and the model clock.  No Lua.
** It includes the headers of the parts, so one include gives them all:
** ct_enums.h (Graph's enums and their names), ct_records.h (the
** records), ct_map.h (the maps), ct_util.h (allocator, messages, GUIDs,
** times), ct_json.h and ct_fault.h.
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
#include "ct_map.h"
#include "ct_records.h"
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

struct ct_change;            /* ct_change.h */
struct ct_change_result;

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
/* its value, seconds; 0 when out of range */
double ct_timing_value(const ct_timings *t, int i);

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

#endif
