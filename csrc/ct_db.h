/*
** ct_db.h -- a store that lasts: an SQLite file holding the store's last
** image (ct_snap) and a journal of the changes made since (ct_change rows).
** No Lua; callable per request from any front end.
**
** The file (SQLite 3, WAL mode, one connection holding it exclusively):
**   PRAGMA application_id = 0x43545354 ('CTST'), user_version = 1
**   snapshot(id INTEGER PRIMARY KEY CHECK (id = 1), image BLOB NOT NULL)
**   journal(seq INTEGER PRIMARY KEY, op TEXT NOT NULL)
** Opening reads the image and replays the journal in seq order.  Every
** accepted change is one journal row, committed (ct_db_append) before
** the front end answers; a refused change writes nothing.  ct_db_fold
** replaces the image and empties the journal in one transaction.
**
** Durability: synchronous=NORMAL in WAL mode: a committed row survives
** the process being killed at any moment; an operating-system crash or
** power loss may lose the last commits (synchronous=FULL on request).
**
** Messages name the file: "<path> is a directory", "<path> is empty:
** not a crosstenant store", "<path> is not a crosstenant store", "<path>:
** store format 3 is newer than this crosstenant (1)", "<path> is in use
** by another store", "<path>: truncated at byte N" (an image's message),
** "<path>: journal row 12: ...", "<path>: <SQLite's message>".
*/
#ifndef CT_DB_H
#define CT_DB_H

#include <stddef.h>

#include "ct_store.h"

#define CT_DB_FORMAT 1
#define CT_DB_APPLICATION_ID 0x43545354
/* a front end folds the journal when it holds at least this many rows
   and at least as many bytes as the image (ct_db_fold_due) */
#define CT_DB_FOLD_ROWS 10000

typedef struct ct_db ct_db;

/*
** Open the store file at `path`.  When there is no file, one is created
** holding `fresh`'s image and *out is set to NULL (the caller goes on
** with `fresh`).  When there is one, *out is a new store: the file's
** image with its journal replayed (`fresh` is not used).  `full`: commit
** with synchronous=FULL.  Returns the handle, or NULL with msg set and
** nothing left open or allocated.
*/
ct_db *ct_db_open(const char *path, const ct_store *fresh, int full,
                  ct_store **out, char *msg, size_t cap);

/*
** Journal one row (ct_change_encode's text) and commit it, unless inside
** ct_db_begin/ct_db_commit, where the rows share the commit.  Returns 0,
** or -1 with msg set (the row is not in the file).
*/
int ct_db_append(ct_db *db, const char *row, size_t n, char *msg,
                 size_t cap);

/* group the next appends into one transaction (a server's loop turn) */
int ct_db_begin(ct_db *db, char *msg, size_t cap);
int ct_db_commit(ct_db *db, char *msg, size_t cap);

/* rows in the journal since the last fold */
size_t ct_db_rows(const ct_db *db);

/*
** 1 when the front end should fold now: the journal holds at least
** CT_DB_FOLD_ROWS rows and at least as many bytes as the image written
** by the last fold (or read at open).  A fold rewrites the whole image,
** so with a growing store a fixed row count would make its cost per row
** grow with the store; this way a row pays for at most about its own
** bytes of image, and opening replays a journal no larger than the
** image.  0 otherwise.
*/
int ct_db_fold_due(const ct_db *db);

/*
** Replace the image with `s`'s and empty the journal, in one
** transaction.  Returns 0, or -1 with msg set (the file is unchanged).
*/
int ct_db_fold(ct_db *db, const ct_store *s, char *msg, size_t cap);

/* close the file (no fold); NULL is fine */
void ct_db_close(ct_db *db);

/* the path given to ct_db_open */
const char *ct_db_path(const ct_db *db);

/*
** Write `s`'s image to the store file at `path` in one transaction: a
** new file, or one that is a crosstenant store (its image replaced, its
** journal emptied).  Any other file is refused and left alone.
** Returns 0, or -1 with msg set.
*/
int ct_db_save(const char *path, const ct_store *s, char *msg, size_t cap);

#endif
