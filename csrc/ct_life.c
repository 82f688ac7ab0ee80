/*
** ct_life.c -- the model clock and the migration lifecycle.
** Each job with something pending sits once in a min-heap keyed on
** (due, seq); advancing the clock pops due jobs in time order and runs
** one step each, so the cost follows the transitions, not the store size.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_change.h"
#include "ct_life.h"


/* ---------- the heap ---------- */

static int before(const ct_job *a, const ct_job *b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(ct_store *s, size_t i, ct_job *j) {
  s->heap[i] = j;
  j->heappos = i;
}

static void sift_up(ct_store *s, size_t i) {
  ct_job *j = s->heap[i];
  while (i > 0 && before(j, s->heap[(i - 1) / 2])) {
    heap_set(s, i, s->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(s, i, j);
}

static void sift_down(ct_store *s, size_t i) {
  ct_job *j = s->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->nheap) break;
    if (c + 1 < s->nheap && before(s->heap[c + 1], s->heap[c])) c++;
    if (!before(s->heap[c], j)) break;
    heap_set(s, i, s->heap[c]);
    i = c;
  }
  heap_set(s, i, j);
}

int ct_life_reserve(ct_store *s) {
  ct_job **p;
  size_t cap;
  if (s->nheap < s->capheap) return 0;
  cap = s->capheap ? s->capheap * 2 : 16;
  p = ct_realloc(s->heap, cap * sizeof *p);
  if (p == NULL) return -1;
  s->heap = p;
  s->capheap = cap;
  return 0;
}

static void unschedule(ct_store *s, ct_job *j) {
  size_t i = j->heappos;
  ct_job *last;
  if (j->due < 0) return;
  j->due = -1;
  last = s->heap[--s->nheap];
  if (last == j) return;
  heap_set(s, i, last);
  sift_down(s, i);
  sift_up(s, last->heappos);
}

void ct_life_schedule(ct_store *s, ct_job *j, int64_t due) {
  unschedule(s, j);
  if (due < 0) return;
  /* room was made by ct_life_reserve when the job was created: every
     job holds at most one place */
  j->due = due;
  heap_set(s, s->nheap++, j);
  sift_up(s, s->nheap - 1);
}

int64_t ct_store_next_due(const ct_store *s) {
  return s->nheap ? s->heap[0]->due : -1;
}

/* ---------- setters ---------- */

ct_time ct_life_now(const ct_store *s) {
  ct_time t;
  t.ticks = s->now;
  t.digits = (s->now % CT_TICKS_PER_SEC) != 0 ? 7 : 0;
  return t;
}

int ct_life_job_active(int st) {
  return st != CT_JS_COMPLETED && st != CT_JS_CANCELLED &&
         st != CT_JS_PENDINGDELETE && st != CT_JS_DELETED;
}

void ct_life_job_status(ct_store *s, ct_job *j, int st, const char *fmt,
                        ...) {
  int old = j->status;
  if (fmt != NULL) {
    va_list ap;
    ct_msg m;
    ct_msg_init(&m, j->message, sizeof j->message);
    va_start(ap, fmt);
    ct_msg_vaddf(&m, fmt, ap);
    va_end(ap);
  }
  j->status = (uint8_t)st;
  j->updated = ct_life_now(s);
  if (old != st) s->ntransitions++;
  if (ct_life_job_active(old) && !ct_life_job_active(st))
    ct_life_release_users(j);
  if (s->on_job != NULL && old != st) s->on_job(s->event_ud, j, old, st);
}

static void clear_detail(ct_task *t, int i) {
  size_t k;
  if (t->extra == NULL) return;
  free(t->extra->message[i].p);
  t->extra->message[i].p = NULL;
  t->extra->message[i].n = 0;
  for (k = 0; k < t->extra->nerrors[i]; k++) {
    free(t->extra->errors[i][k].code.p);
    free(t->extra->errors[i][k].message.p);
  }
  free(t->extra->errors[i]);
  t->extra->errors[i] = NULL;
  t->extra->nerrors[i] = 0;
}

void ct_life_task_status(ct_store *s, ct_job *j, ct_task *t, int i,
                         int st) {
  int old = t->st[i];
  if (st == CT_SS_NOTSTARTED) clear_detail(t, i);
  if (old == st) return;
  t->st[i] = (uint8_t)st;
  s->ntransitions++;
  t->updated = s->now;
  t->digits = (uint8_t)ct_life_now(s).digits;
  if (s->on_task != NULL) s->on_task(s->event_ud, j, t, t->svc[i], old, st);
}

/* attach one error to entry i; takes ownership of code and message */
static void set_error(ct_task *t, int i, ct_str code, ct_str message) {
  ct_errinfo *e;
  clear_detail(t, i);
  if (t->extra == NULL) t->extra = ct_calloc(1, sizeof *t->extra);
  e = t->extra ? ct_malloc(sizeof *e) : NULL;
  if (e == NULL || code.p == NULL || message.p == NULL) {
    /* out of memory: the status still holds */
    free(e);
    free(code.p);
    free(message.p);
    return;
  }
  e->code = code;
  e->message = message;
  t->extra->errors[i] = e;
  t->extra->nerrors[i] = 1;
}

/* a stored copy of a message from fmt; r.p NULL when out of memory */
static ct_str text(const char *fmt, ...) CT_PRINTF(1, 2);
static ct_str text(const char *fmt, ...) {
  char buf[256];
  ct_str r;
  ct_msg m;
  va_list ap;
  ct_msg_init(&m, buf, sizeof buf);
  va_start(ap, fmt);
  ct_msg_vaddf(&m, fmt, ap);
  va_end(ap);
  r.n = m.len;                    /* our own text: no NULs in it */
  r.p = ct_malloc(r.n + 1);
  if (r.p != NULL) memcpy(r.p, buf, r.n + 1);
  else r.n = 0;
  return r;
}

/*
** The outcome of a phase for entry i of task t: a scripted fault, else
** a seeded random failure, else `ok`.
*/
static void outcome(ct_store *s, ct_job *j, ct_task *t, int i, int phase,
                    int ok, int bad, int draw) {
  ct_str code = { NULL, 0 }, msg = { NULL, 0 };
  char id[37];
  double rate = s->failure_rate[phase];
  int st = ct_store_take_fault(s, &t->id, t->svc[i], phase, &code, &msg);
  if (st < 0 && draw && rate > 0 &&
      (s->sticky ? ct_store_sticky_draw(s, &t->id, t->svc[i], phase)
                 : ct_store_random(s)) < rate) {
    ct_guid_format(&t->id, id);
    st = bad;
    code = text("%s", phase == CT_PHASE_VALIDATE ? "validationFailed"
                                                 : "migrationFailed");
    msg = text("%s %s failed for user %s.", ct_service_name(t->svc[i]),
               phase == CT_PHASE_VALIDATE ? "validation" : "migration", id);
  }
  if (st < 0) {
    ct_life_task_status(s, j, t, i, ok);
    return;
  }
  ct_life_task_status(s, j, t, i, st);
  set_error(t, i, code, msg);
}

/* ---------- one step of a job ---------- */

static void after(ct_store *s, ct_job *j, double seconds) {
  ct_life_schedule(s, j, s->now + (int64_t)(seconds * CT_TICKS_PER_SEC));
}

#define EACH_TASK(j, t) \
  for (t = (j)->tasks; t < (j)->tasks + (j)->ntasks; t++) \
    if (!t->cancelled)

static int failed_status(int st) {
  return st == CT_SS_INVALID || st == CT_SS_ERROR || st == CT_SS_FAILED;
}

static void finish_validation(ct_store *s, ct_job *j) {
  ct_task *t;
  size_t bad = 0, all = 0;
  int i;
  EACH_TASK(j, t) {
    int failed = 0;
    for (i = 0; i < t->n; i++) {
      outcome(s, j, t, i, CT_PHASE_VALIDATE, CT_SS_VALID, CT_SS_INVALID, 1);
      failed |= failed_status(t->st[i]);
    }
    bad += (size_t)failed;
    all++;
  }
  if (all == 0) {
    /* every user was cancelled out: nothing passed */
    ct_life_job_status(s, j, CT_JS_VALIDATEFAILED,
                       "Validation failed: every user was cancelled out of "
                       "the job; add users and validate again.");
  } else if (bad == 0) {
    j->validatedAt = s->now;
    ct_life_job_status(s, j, CT_JS_VALIDATEPASSED,
                       "Validation has completed successfully with no "
                       "failures.");
  } else {
    ct_life_job_status(s, j, CT_JS_VALIDATEFAILED,
                       "Validation failed for %zu of %zu users.", bad, all);
  }
}

static void start_cutover(ct_store *s, ct_job *j) {
  ct_task *t;
  int i;
  EACH_TASK(j, t) {
    if (!t->retry) continue;
    for (i = 0; i < t->n; i++) {
      int st = t->st[i];
      if (t->svc[i] == CT_SVC_EXCHANGE) {
        if (st == CT_SS_SYNCED)
          ct_life_task_status(s, j, t, i, CT_SS_FINALIZING);
      } else if (st == CT_SS_NOTSTARTED) {
        ct_life_task_status(s, j, t, i, CT_SS_INPROGRESS);
      }
    }
  }
  j->waiting = 0;
  ct_life_job_status(s, j, CT_JS_CUTTINGOVER,
                     "Mailboxes are cutting over and content is moving.");
  after(s, j, s->timings.cutover);
}

static void finish_migration(ct_store *s, ct_job *j) {
  ct_task *t;
  size_t ok = 0, bad = 0;
  int i;
  EACH_TASK(j, t) {
    int failed = 0;
    for (i = 0; t->retry && i < t->n; i++) {
      int st = t->st[i];
      /* Exchange drew its random outcome at the end of its sync: one
         draw per user, service and phase */
      if (st == CT_SS_FINALIZING || st == CT_SS_INPROGRESS)
        outcome(s, j, t, i, CT_PHASE_MIGRATE, CT_SS_COMPLETED,
                CT_SS_FAILED, t->svc[i] != CT_SVC_EXCHANGE);
    }
    for (i = 0; i < t->n; i++) failed |= failed_status(t->st[i]);
    if (failed) bad++;
    else ok++;
  }
  if (ok + bad == 0)
    /* every user was cancelled out while it ran: nobody migrated */
    ct_life_job_status(s, j, CT_JS_CANCELLED,
                       "No user was migrated: every user was cancelled out "
                       "of the job.");
  else if (bad == 0)
    ct_life_job_status(s, j, CT_JS_COMPLETED,
                       "The batch and all of its users have been "
                       "successfully migrated with no failures.");
  else if (ok == 0)
    ct_life_job_status(s, j, CT_JS_FAILED, bad == 1
                       ? "The only user failed to migrate."
                       : "All %zu users failed to migrate.", bad);
  else
    ct_life_job_status(s, j, CT_JS_COMPLETEDWITHERRORS,
                       "%zu of %zu users failed to migrate.", bad, ok + bad);
}

static void step(ct_store *s, ct_job *j) {
  ct_task *t;
  int i, syncing = 0;
  switch (j->status) {
    case CT_JS_VALIDATESUBMITTED:
      ct_life_job_status(s, j, CT_JS_VALIDATEPROCESSING,
                         "Validation is being set up.");
      after(s, j, s->timings.validate_processing);
      break;
    case CT_JS_VALIDATEPROCESSING:
      EACH_TASK(j, t)
        for (i = 0; i < t->n; i++)
          ct_life_task_status(s, j, t, i, CT_SS_INPROGRESS);
      ct_life_job_status(s, j, CT_JS_VALIDATEINPROGRESS,
                         "Prerequisite checks are running.");
      after(s, j, s->timings.validate_in_progress);
      break;
    case CT_JS_VALIDATEINPROGRESS:
      finish_validation(s, j);
      break;
    case CT_JS_PROCESSING:
      EACH_TASK(j, t)
        for (i = 0; t->retry && i < t->n; i++)
          if (t->svc[i] == CT_SVC_EXCHANGE && t->st[i] == CT_SS_NOTSTARTED) {
            ct_life_task_status(s, j, t, i, CT_SS_SYNCING);
            syncing = 1;
          }
      /* with no mailbox to sync, the job goes straight to its gate */
      ct_life_job_status(s, j, CT_JS_INPROGRESS, syncing
                         ? "Mailboxes are syncing."
                         : "No mailbox to sync; waiting for "
                           "completeAfterDateTime.");
      after(s, j, syncing ? s->timings.sync : 0);
      break;
    case CT_JS_INPROGRESS:
      EACH_TASK(j, t)
        for (i = 0; i < t->n; i++)
          if (t->st[i] == CT_SS_SYNCING) {
            outcome(s, j, t, i, CT_PHASE_MIGRATE, CT_SS_SYNCED,
                    CT_SS_FAILED, 1);
            syncing = 1;
          }
      if (s->now >= j->completeAfter.ticks) {
        start_cutover(s, j);
      } else {
        if (syncing)
          ct_life_job_status(s, j, CT_JS_INPROGRESS,
                             "Mailboxes are synced; waiting for "
                             "completeAfterDateTime.");
        j->waiting = 1;
        ct_life_schedule(s, j, j->completeAfter.ticks);
      }
      break;
    case CT_JS_CUTTINGOVER:
      finish_migration(s, j);
      break;
    case CT_JS_PENDINGCANCEL:
      EACH_TASK(j, t)
        for (i = 0; i < t->n; i++)
          if (t->st[i] == CT_SS_PENDINGCANCEL)
            ct_life_task_status(s, j, t, i, CT_SS_CANCELLED);
      ct_life_job_status(s, j, CT_JS_CANCELLED, "The job was cancelled.");
      break;
    case CT_JS_PENDINGDELETE:
      ct_life_job_status(s, j, CT_JS_DELETED, "The job was deleted.");
      after(s, j, s->timings.deleted);
      break;
    case CT_JS_DELETED:
      ct_life_remove_job(s, j);
      break;
    default:
      break;
  }
}

static void advance_(ct_store *s, int64_t until) {
  while (s->nheap > 0 && s->heap[0]->due <= until) {
    ct_job *j = s->heap[0];
    if (j->due > s->now) s->now = j->due;
    unschedule(s, j);
    step(s, j);
  }
  if (until > s->now) s->now = until;
}

void ct_store_advance(ct_store *s, int64_t until) {
  /* nothing due and the clock stays: no change to tell */
  int noop = until <= s->now && (s->nheap == 0 || s->heap[0]->due > until);
  advance_(s, until);
  if (!noop && s->on_change != NULL) {
    ct_change ch;
    ct_change_result r;
    memset(&ch, 0, sizeof ch);
    ch.kind = CT_CH_ADVANCE;
    ch.until = until;
    r.job = NULL;
    r.task = NULL;
    s->on_change(s->change_ud, &ch, &r);
  }
}
