/*
** lstate.c -- crosstenant.core's state that lasts: store images
** (ct_snap) and store files (ct_db), and the one place every change
** goes through on its way to the journal (lct_run).
**
** Error policy as elsewhere: a wrong Lua type raises; a bad image or
** file returns nil and a message.
*/
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "ct_db.h"
#include "ct_change.h"
#include "ct_snap.h"

#include "lcore.h"

void lct_detach(box *b, int fold) {
  char msg[8];
  if (b->db == NULL) return;
  /* a fold that fails leaves the journal, which holds every change */
  if (fold && b->s != NULL && !b->jfail && ct_db_rows(b->db) > 0)
    ct_db_fold(b->db, b->s, msg, sizeof msg);
  if (b->s != NULL) {
    b->s->on_change = NULL;
    b->s->change_ud = NULL;
  }
  ct_db_close(b->db);
  b->db = NULL;
}

/* one accepted change into the journal, committed before the call that
   made it returns; a failure is kept for lct_journal_check to raise */
static void journal(box *b, const ct_change *ch, const ct_change_result *r) {
  ct_buf row;
  int rc;
  if (b->db == NULL || b->jfail) return;
  ct_buf_init(&row);
  ct_change_encode(b->s, ch, r, &row);
  if (row.oom) {
    rc = -1;
    strcpy(b->jmsg, "out of memory");
  } else {
    rc = ct_db_append(b->db, row.p, row.len, b->jmsg, sizeof b->jmsg);
  }
  ct_buf_free(&row);
  if (rc != 0) {
    b->jfail = 1;
    return;
  }
  if (ct_db_fold_due(b->db)) {
    char msg[8];
    ct_db_fold(b->db, b->s, msg, sizeof msg);   /* else: next time */
  }
}

static void on_change(void *ud, const ct_change *ch,
                      const ct_change_result *r) {
  journal((box *)ud, ch, r);
}

int lct_journal_close(box *b) {
  if (!b->jfail) return 0;
  /* memory holds a change the file does not: stop here */
  lct_detach(b, 0);
  ct_store_free(b->s);
  b->s = NULL;
  b->jfail = 0;
  return 1;
}

void lct_journal_check(lua_State *L, box *b) {
  if (lct_journal_close(b))
    luaL_error(L, "crosstenant: a change could not be written to the "
               "store's file (%s); the store is closed", b->jmsg);
}

int lct_run(lua_State *L, box *b, const ct_change *op, ct_change_result *r,
            ct_err *e) {
  ct_change_result spare;
  if (r == NULL) r = &spare;
  /* the core tells on_change of its own operations; a fault rule is the
     fault state's, so it is journaled here */
  if (ct_change_apply(b->s, op, r, e) != 0) return -1;
  if (op->kind == CT_CH_FAULT_ADD) journal(b, op, r);
  lct_journal_check(L, b);
  return 0;
}

/* s:snapshot() -> the store's image */
static int s_snapshot(lua_State *L) {
  box *b = lct_checkbox(L);
  unsigned char *img;
  size_t n;
  if (ct_snap_write(b->s, &img, &n) != 0)
    return luaL_error(L, "not enough memory");
  lua_pushlstring(L, (const char *)img, n);
  free(img);
  return 1;
}

/* s:defaults() -> tenant, user, require_token, strict, retry_after */
static int s_defaults(lua_State *L) {
  box *b = lct_checkbox(L);
  char id[37];
  ct_guid_format(&b->s->default_tenant, id);
  lua_pushlstring(L, id, 36);
  lua_pushstring(L, b->s->default_user ? b->s->default_user : "");
  lua_pushboolean(L, b->s->require_token);
  lua_pushboolean(L, b->s->strict);
  lua_pushinteger(L, b->s->faultstate.retry_after);
  return 5;
}

/* s:save(path) -> true | nil, message */
static int s_save(lua_State *L) {
  box *b = lct_checkbox(L);
  const char *path = luaL_checkstring(L, 2);
  char msg[400];
  if (b->db != NULL && strcmp(ct_db_path(b->db), path) == 0) {
    /* its own file: the image is the fold */
    if (ct_db_fold(b->db, b->s, msg, sizeof msg) != 0) goto fail;
  } else if (ct_db_save(path, b->s, msg, sizeof msg) != 0) {
    goto fail;
  }
  lua_pushboolean(L, 1);
  return 1;
fail:
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/*
** s:open_file(path, full) -> true | nil, message: back the store with
** the file at path.  A new file gets the store as it is; an existing
** one replaces the store with the one it holds.
*/
static int s_open_file(lua_State *L) {
  box *b = lct_checkbox(L);
  const char *path = luaL_checkstring(L, 2);
  int full = lua_toboolean(L, 3);
  ct_store *loaded = NULL;
  char msg[400];
  ct_db *db;
  if (b->db != NULL) return luaL_error(L, "the store already has a file");
  db = ct_db_open(path, b->s, full, &loaded, msg, sizeof msg);
  if (db == NULL) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  if (loaded != NULL) {
    loaded->on_job = b->s->on_job;
    loaded->on_task = b->s->on_task;
    loaded->event_ud = b;
    ct_store_free(b->s);
    b->s = loaded;
  }
  b->db = db;
  b->jfail = 0;
  b->s->on_change = on_change;
  b->s->change_ud = b;
  lua_pushboolean(L, 1);
  return 1;
}

/* s:fold() -> true | nil, message: the journal into a fresh image */
static int s_fold(lua_State *L) {
  box *b = lct_checkbox(L);
  char msg[400];
  if (b->db != NULL && ct_db_fold(b->db, b->s, msg, sizeof msg) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/*
** s:adopt(other) -> true | nil, message: the store becomes `other`'s
** state (a server's reset, or a restored snapshot), `other` is closed.
** With a file, the new state is folded into it first (one transaction):
** when that fails, nothing changes and the message says why.  The
** store's observers and its file stay.
*/
static int s_adopt(lua_State *L) {
  box *b = lct_checkbox(L);
  box *o = (box *)luaL_checkudata(L, 2, LCT_STORE);
  ct_store *ns = o->s;
  char msg[400];
  if (ns == NULL) return luaL_argerror(L, 2, "the store is closed");
  if (o == b) return luaL_argerror(L, 2, "the store itself");
  if (o->db != NULL) return luaL_argerror(L, 2, "the store has a file");
  if (b->db != NULL && ct_db_fold(b->db, ns, msg, sizeof msg) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  o->s = NULL;
  ns->on_job = b->s->on_job;
  ns->on_task = b->s->on_task;
  ns->event_ud = b;
  ns->on_change = b->s->on_change;
  ns->change_ud = b->s->change_ud;
  ct_store_free(b->s);
  b->s = ns;
  lua_pushboolean(L, 1);
  return 1;
}

/* s:journal_rows() -> rows in the journal since the last fold, or nil */
static int s_journal_rows(lua_State *L) {
  box *b = lct_checkbox(L);
  if (b->db == NULL) return 0;
  lua_pushinteger(L, (lua_Integer)ct_db_rows(b->db));
  return 1;
}

/* core.restore(image) -> store | nil, message */
static int core_restore(lua_State *L) {
  size_t n;
  const char *img = luaL_checklstring(L, 1, &n);
  char msg[400];
  box *b = (box *)lua_newuserdatauv(L, sizeof *b, 0);  /* first: it may raise */
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, LCT_STORE);
  b->s = ct_snap_read(img, n, msg, sizeof msg);
  if (b->s == NULL) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  b->s->event_ud = b;
  return 1;
}

static const luaL_Reg state_methods[] = {
  { "adopt", s_adopt },
  { "defaults", s_defaults },
  { "fold", s_fold },
  { "journal_rows", s_journal_rows },
  { "open_file", s_open_file },
  { "save", s_save },
  { "snapshot", s_snapshot },
  { NULL, NULL }
};

static const luaL_Reg state_funcs[] = {
  { "restore", core_restore },
  { NULL, NULL }
};

void lct_state_open(lua_State *L, int methods) {
  luaL_setfuncs(L, methods ? state_methods : state_funcs, 0);
}
