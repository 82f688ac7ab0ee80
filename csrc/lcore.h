/*
** lcore.h -- shared by the binding files of crosstenant.core (lcore.c
** and each lxxx.c that adds functions to it).  Stack effects: the
** lct_push_* functions push one value; lct_push_err pushes two (nil and
** the error table) and returns 2.  lct_checkbox and lct_job_arg raise
** on a wrong Lua type (luaL_argerror); they never raise for data.
*/
#ifndef LCORE_H
#define LCORE_H

#include "lua.h"

#include "ct_json.h"
#include "ct_change.h"
#include "ct_store.h"

struct ct_db;

#define LCT_STORE "crosstenant.store"

/* one transition seen during ct_store_advance */
typedef struct event {
  ct_guid job, user;
  int64_t time;
  int8_t kind;         /* 0 job, 1 task */
  int8_t service, old, new_;
} event;

/* the store userdata */
typedef struct box {
  ct_store *s;
  event *ev;           /* events of the advance under way */
  size_t nev, capev;
  int ev_oom;
  int record;          /* observers registered: record every change */
  struct lct_call *call;   /* lrequest.c's scratch, reused; NULL: none */
  struct ct_db *db;    /* the store's file, or NULL */
  int jfail;           /* a change could not be journaled: jmsg says why */
  char jmsg[400];
  /* the tenant s:op parsed last, as text and GUID (the methods pass the
     store's default tenant on every call) */
  int has_tenant;
  char tenant_text[36];
  ct_guid tenant;
} box;

/*
** Constant strings made into Lua strings once (lcore.c): lct_strings
** pushes their table and returns its stack index; lua_rawgeti(L, idx,
** LCT_S_...) pushes one.  Keys set with lua_rawset this way skip the
** interning of a C string that lua_setfield does on every call.
*/
enum {
  LCT_S_ODATA_TYPE = 1, LCT_S_ID, LCT_S_TASKTYPE, LCT_S_LUT,
  LCT_S_CURRENTSTATUS, LCT_S_SERVICE, LCT_S_STATUS, LCT_S_MESSAGE,
  LCT_S_ERRORS, LCT_S_CODE, LCT_S_TASK_TYPE, LCT_S_SSD_TYPE, LCT_S_EMPTY,
  LCT_S_USER, LCT_S_ODATA_CONTEXT, LCT_S_REQUEST_ID,
  LCT_S_CLIENT_REQUEST_ID, LCT_S_CONTENT_TYPE, LCT_S_LOCATION,
  LCT_S_APP_JSON,
  LCT_S_SVC             /* then the services, then the service statuses */
};
int lct_strings(lua_State *L);
/* pushes the text (p, n) as a Lua string: the one made last for the same
   text when the strings table at `strs` still holds it (lcore.c) */
void lct_push_text(lua_State *L, int strs, const char *p, size_t n);

/* the store at stack index 1; raises when it is not one, or closed */
box *lct_checkbox(lua_State *L);
int lct_push_err(lua_State *L, const ct_err *e);
void lct_push_job(lua_State *L, const ct_job *j);
/* a task; `seed`: with the @odata.type annotations; `props`: the stack
   index of the table it was made from (its strings reused), or 0 */
void lct_push_task(lua_State *L, const ct_task *t, int seed, int props);
/* the job named by (tenant, key, byname) at idx..idx+2, or NULL + *e */
ct_job *lct_job_arg(lua_State *L, ct_store *s, int idx, ct_err *e);
/* a request body (JSON text or table) at idx, as a tree in `a` */
const ct_jval *lct_body_arg(lua_State *L, int idx, ct_arena *a, ct_err *e);

/*
** lquery.c: adds the query functions to the table on the stack top:
** the store methods (methods = 1) or the module's functions (0).
*/
void lct_query_open(lua_State *L, int methods);

/* lfault.c: adds the fault methods (fault_add, fault_decide, ...) to the
   store methods' table on the stack top */
void lct_fault_open(lua_State *L);
/* lrequest.c: adds op, request and request_text to the store methods
   on the stack top; the store's metatable, just below them, becomes
   s:op's upvalue (its quick check of the store) */
void lct_request_open(lua_State *L);
/* lschema.c: adds the core's lists of names (JOB_STATUSES, SERVICES,
   TIMINGS, schema, ...) to the module table on the stack top */
void lct_schema_open(lua_State *L);
/* lencode.c: sets `encode` in the table on the top (after open_strings) */
void lct_encode_open(lua_State *L);
/* frees the request scratch of a store being closed (idempotent) */
void lct_request_close(box *b);
/*
** lstate.c: snapshots and durable stores; adds to the table on the
** stack top the store methods (methods = 1) or the module's functions.
*/
void lct_state_open(lua_State *L, int methods);
/*
** Run one change on the store and, when it has a file, journal it before
** returning (folding the journal now and then).  Returns 0, or -1 with
** *e set when the change is refused (nothing written).  Raises when the
** file cannot be written: the store is closed then, since memory and
** file would differ.
*/
int lct_run(lua_State *L, box *b, const ct_change *op, ct_change_result *r,
            ct_err *e);
/* let go of the store's file, folding the journal first when `fold` */
void lct_detach(box *b, int fold);
/*
** After any call that may change the store: raises when a change could
** not be journaled (the store is closed then, since memory and file
** would differ); else does nothing.
*/
void lct_journal_check(lua_State *L, box *b);
/* lct_journal_check without Lua: when a change could not be journaled,
   closes the store (b->jmsg says why) and returns 1; else 0 */
int lct_journal_close(box *b);

#endif
