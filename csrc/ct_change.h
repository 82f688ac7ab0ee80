/*
** ct_change.h -- every change to a store as data: apply it, write it as one
** line of canonical JSON (a journal row), read it back and replay it.
** No Lua.
**
** A front end (the Lua binding, an HTTP server) turns each mutating call
** into a ct_change and runs it with ct_change_apply; when the store is durable
** it then journals ct_change_encode's text (ct_db_append) before answering.
** Opening the file replays each row with ct_change_replay, through the same
** ct_change_apply, so the store comes back exactly as it was.
**
** Journal rows (JSON objects, members in this order):
**   {"op":"createJob","tenant":T,"upn":U,"body":{...},"requests":N}
**   {"op":"updateJob","tenant":T,"upn":U,"job":J,"body":{...},"requests":N}
**   {"op":"deleteJob"|"validateJob"|"migrateJob"|"cancelJob",
**    "tenant":T,"upn":U,"job":J,"requests":N}
**   {"op":"createTask","tenant":T,"upn":U,"job":J,"body":{...},"requests":N}
**   {"op":"cancelTask","tenant":T,"upn":U,"job":J,"task":K,"requests":N}
**   {"op":"advance","until":TICKS,"requests":N}
**   {"op":"fail","user":G,"service":S,"phase":P,"status":X,"code":C,
**    "message":M,"requests":N}
**   {"op":"addFault","status":429|503|504,"retryAfter":SECONDS,
**    "times":N,"method":"POST"|"","path":PATTERN|null,"requests":N}
**    (a path that is not valid UTF-8 is "pathHex": its bytes in hex)
** T, J, K, G are GUIDs (J and K the ids the call resolved, whatever key
** it named the job by); body is the request body as the core checked
** it; TICKS are 100-ns ticks since 1970; N is the store's request
** counter after the call (request ids are made from it; reads and
** refusals in between advance it without a row).
*/
#ifndef CT_CHANGE_H
#define CT_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "ct_json.h"
#include "ct_store.h"

enum ct_change_kind {
  CT_CH_JOB_CREATE, CT_CH_JOB_UPDATE, CT_CH_JOB_DELETE, CT_CH_JOB_VALIDATE,
  CT_CH_JOB_MIGRATE, CT_CH_JOB_CANCEL, CT_CH_TASK_CREATE, CT_CH_TASK_CANCEL,
  CT_CH_ADVANCE, CT_CH_FAIL, CT_CH_FAULT_ADD, CT_CH__COUNT
};

typedef struct ct_change {
  int kind;
  ct_caller caller;            /* job and task ops */
  const char *job;             /* the job's key: id, or name when byname */
  size_t joblen;
  int byname;
  const char *task;            /* cancelTask: the task's key */
  size_t tasklen;
  const ct_jval *body;         /* createJob, updateJob, createTask */
  int64_t until;               /* advance: run up to this time, ticks */
  ct_guid user;                /* fail */
  int service, phase, status;
  const char *code, *message;  /* `ncode`, `nmessage` bytes (NULs kept) */
  size_t ncode, nmessage;
  /* addFault (ct_fault_add; status above): a scripted throttle or fault */
  int retry_after;
  int64_t times;
  const char *method;          /* NULL: any */
  const char *path;            /* NULL: any */
  size_t pathlen;
} ct_change;

typedef struct ct_change_result {
  ct_job *job;                 /* the job the op made or acted on */
  ct_task *task;               /* createTask, cancelTask */
} ct_change_result;

/* the op's name in a row ("createJob", ...) */
const char *ct_change_name(int kind);

/*
** Run an op.  Returns 0 (and fills *r when not NULL), or -1 with *e set:
** the op was refused and changed nothing.
*/
int ct_change_apply(ct_store *s, const ct_change *op, ct_change_result *r, ct_err *e);

/*
** 1 when the op, run now, would change nothing and needs no row: an
** advance that does not move the clock and has nothing due.  Ask
** before ct_change_apply.
*/
int ct_change_noop(const ct_store *s, const ct_change *op);

/*
** The row for an op ct_change_apply accepted (r its result), appended to b
** (no newline).  b->oom tells of a failed allocation.
*/
void ct_change_encode(const ct_store *s, const ct_change *op, const ct_change_result *r,
                  ct_buf *b);

/*
** Replay one row on s: read it, apply it, set the request counter.
** Returns 0, or -1 with a message (a bad row, or one the store refuses,
** which a journal made by ct_change_encode never holds).
*/
int ct_change_replay(ct_store *s, const char *row, size_t n, char *msg,
                 size_t cap);

#endif
