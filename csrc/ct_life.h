/*
** ct_life.h -- internal to the core: the lifecycle's scheduler and the
** status setters that keep timestamps, indexes and events in step.
*/
#ifndef CT_LIFE_H
#define CT_LIFE_H

#include "ct_store.h"

/* room in the heap for one more job, so scheduling cannot fail */
int ct_life_reserve(ct_store *s);
/* run `j`'s next step at `due` (ticks); -1 takes it off the schedule */
void ct_life_schedule(ct_store *s, ct_job *j, int64_t due);
/* set a job's status and message (printf-style; NULL keeps it) */
void ct_life_job_status(ct_store *s, ct_job *j, int st, const char *fmt,
                        ...) CT_PRINTF(4, 5);
/* set entry `i` of task `t`; stamps lastUpdatedDateTime when it changes */
void ct_life_task_status(ct_store *s, ct_job *j, ct_task *t, int i,
                         int st);
/* the clock as a DateTimeOffset */
ct_time ct_life_now(const ct_store *s);
/* 1 while a job's users are held by it (not completed, cancelled,
   pendingDelete or deleted) */
int ct_life_job_active(int status);
/* drop a job's users from the tenant's active-user index */
void ct_life_release_users(ct_job *j);
/* take a job off the store for good (after `deleted`) */
void ct_life_remove_job(ct_store *s, ct_job *j);
/* a uniform draw in [0, 1) from the store's seeded generator */
double ct_store_random(ct_store *s);
/* the sticky draw of (user, service, phase): uniform in [0, 1), made
   from the store's seed and the entry alone, so it is the same on every
   attempt in the store and needs no memory */
double ct_store_sticky_draw(const ct_store *s, const ct_guid *user,
                            int service, int phase);
/* take the first scripted outcome for (user, service, phase), if any:
   its status, or -1; *code and *message then belong to the caller */
int ct_store_take_fault(ct_store *s, const ct_guid *user, int service,
                        int phase, ct_str *code, ct_str *message);


/* ---------- for the snapshot reader and writer (ct_snap.c) ---------- */
void ct_store_free_job(ct_job *j);            /* a job not linked anywhere */
void ct_store_free_extra(ct_task_extra *x);   /* NULL is fine */
/* the tenant with id `id`; created (empty) when `create`; NULL: absent
   or out of memory */
ct_tenant *ct_store_tenant(ct_store *s, const ct_guid *id, int create);
/*
** Link a job built off to the side (its tasks and task index complete,
** `due` its next step or -1) into tenant `t`: the job list (last), the
** id and name indexes and the schedule.  Not the active-user index.
** Returns 0; 1 when the id, 2 when the name is taken; -1 when out of
** memory.  On any failure nothing is linked and the job is the caller's.
*/
int ct_store_link_job(ct_store *s, ct_tenant *t, ct_job *j);
/* each scripted outcome not yet applied for `user`, in script order */
typedef void ct_fault_fn(void *ud, const ct_guid *user, int service,
                         int phase, int status, const ct_str *code,
                         const ct_str *message);
void ct_store_faults_of(const ct_store *s, const ct_guid *user,
                        ct_fault_fn *fn, void *ud);

#endif
