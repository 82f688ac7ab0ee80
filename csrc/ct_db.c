/*
** ct_db.c -- the store file: SQLite holding the last image and the
** journal since (see ct_db.h).  Each journal row carries its sequence
** number and a checksum of both, and the snapshot row names the first
** sequence number of the journal after it, so a damaged, missing or
** reordered row is an error rather than a quietly different store.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "ct_db.h"
#include "ct_change.h"
#include "ct_snap.h"

struct ct_db {
  sqlite3 *h;
  sqlite3_stmt *append;
  char *path;
  size_t rows;                /* journal rows since the last fold */
  size_t jbytes;              /* their bytes */
  size_t ibytes;              /* the image's bytes, at the last fold */
  sqlite3_int64 next;         /* the next row's sequence number */
  int in_tx;
};

static int say(char *msg, size_t cap, const char *path, const char *what) {
  snprintf(msg, cap, "%s%s", path, what);
  return -1;
}

static int sql_fail(sqlite3 *h, const char *path, char *msg, size_t cap) {
  int code = sqlite3_errcode(h) & 0xff;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    return say(msg, cap, path, " is in use by another store");
  if (code == SQLITE_NOTADB)
    return say(msg, cap, path, " is not a crosstenant store");
  snprintf(msg, cap, "%s: %s", path, sqlite3_errmsg(h));
  return -1;
}

static int exec(sqlite3 *h, const char *sql, const char *path, char *msg,
                size_t cap) {
  if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
    return sql_fail(h, path, msg, cap);
  return 0;
}

/* one integer from a query (a pragma) */
static int query_int(sqlite3 *h, const char *sql, sqlite3_int64 *v,
                     const char *path, char *msg, size_t cap) {
  sqlite3_stmt *st;
  int rc;
  if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
    return sql_fail(h, path, msg, cap);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return say(msg, cap, path, ": no answer");
    return sql_fail(h, path, msg, cap);
  }
  *v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return 0;
}

static uint64_t row_sum(sqlite3_int64 seq, const void *op, size_t n) {
  unsigned char b[8];
  int i;
  for (i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)seq >> (8 * i));
  return ct_snap_checksum(b, 8) ^ ct_snap_checksum(op, n);
}

/*
** Connect to `path`: refuse what is not a file; create it when absent
** and `create`.  Sets *created.  The connection holds the file alone, in
** WAL mode.
*/
static sqlite3 *db_connect(const char *path, int create, int full,
                        int *created, char *msg, size_t cap) {
  struct stat st;
  sqlite3 *h = NULL;
  sqlite3_int64 v;
  int flags = SQLITE_OPEN_READWRITE;
  char sql[80];
  *created = 0;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      say(msg, cap, path, " is a directory");
      return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
      say(msg, cap, path, " is not a regular file");
      return NULL;
    }
    if (st.st_size == 0) {
      say(msg, cap, path, " is empty: not a crosstenant store");
      return NULL;
    }
  } else if (errno == ENOENT && create) {
    *created = 1;
    flags |= SQLITE_OPEN_CREATE;
  } else {
    snprintf(msg, cap, "%s: %s", path, strerror(errno));
    return NULL;
  }
  if (sqlite3_open_v2(path, &h, flags, NULL) != SQLITE_OK) {
    if (h == NULL) snprintf(msg, cap, "%s: out of memory", path);
    else sql_fail(h, path, msg, cap);
    sqlite3_close(h);
    return NULL;
  }
  sqlite3_extended_result_codes(h, 0);
  if (exec(h, "PRAGMA locking_mode=EXCLUSIVE", path, msg, cap) != 0)
    goto fail;
  if (!*created) {
    if (query_int(h, "PRAGMA application_id", &v, path, msg, cap) != 0)
      goto fail;
    if (v != CT_DB_APPLICATION_ID) {
      say(msg, cap, path, " is not a crosstenant store");
      goto fail;
    }
    if (query_int(h, "PRAGMA user_version", &v, path, msg, cap) != 0)
      goto fail;
    if (v > CT_DB_FORMAT) {
      snprintf(msg, cap, "%s: store format %lld is newer than this "
               "crosstenant (%d)", path, (long long)v, CT_DB_FORMAT);
      goto fail;
    }
    if (v < 1) {
      snprintf(msg, cap, "%s: corrupt store: format %lld", path,
               (long long)v);
      goto fail;
    }
  }
  if (exec(h, "PRAGMA journal_mode=WAL", path, msg, cap) != 0) goto fail;
  snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", full ? "FULL"
                                                          : "NORMAL");
  if (exec(h, sql, path, msg, cap) != 0) goto fail;
  /* take the file now: a second store on it is refused at once */
  if (exec(h, "BEGIN IMMEDIATE; COMMIT", path, msg, cap) != 0) goto fail;
  return h;
fail:
  sqlite3_close(h);
  if (*created) remove(path);
  return NULL;
}

static int put_image(sqlite3 *h, const ct_store *s, sqlite3_int64 next,
                     size_t *size, const char *path, char *msg,
                     size_t cap) {
  unsigned char *img;
  size_t n;
  sqlite3_stmt *st;
  int rc;
  if (ct_snap_write(s, &img, &n) != 0) {
    snprintf(msg, cap, "%s: out of memory", path);
    return -1;
  }
  if (sqlite3_prepare_v2(h, "INSERT OR REPLACE INTO snapshot(id, image, "
                         "next) VALUES (1, ?, ?)", -1, &st, NULL)
      != SQLITE_OK) {
    free(img);
    return sql_fail(h, path, msg, cap);
  }
  sqlite3_bind_blob64(st, 1, img, n, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, next);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  free(img);
  if (rc != SQLITE_DONE) return sql_fail(h, path, msg, cap);
  *size = n;
  return 0;
}

static const char *const schema =
  "PRAGMA application_id=1129599828;"        /* 0x43545354 'CTST' */
  "PRAGMA user_version=1;"
  "CREATE TABLE IF NOT EXISTS snapshot(id INTEGER PRIMARY KEY "
  "CHECK (id = 1), image BLOB NOT NULL, next INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS journal(seq INTEGER PRIMARY KEY, "
  "op TEXT NOT NULL, sum INTEGER NOT NULL);";

/* in one transaction: the schema when new, the image (*size: its
   bytes, set only when committed), no journal */
static int write_image(sqlite3 *h, int created, const ct_store *s,
                       sqlite3_int64 next, size_t *size, const char *path,
                       char *msg, size_t cap) {
  size_t n = 0;
  if (exec(h, "BEGIN IMMEDIATE", path, msg, cap) != 0) return -1;
  if ((created && exec(h, schema, path, msg, cap) != 0) ||
      exec(h, "DELETE FROM journal", path, msg, cap) != 0 ||
      put_image(h, s, next, &n, path, msg, cap) != 0 ||
      exec(h, "COMMIT", path, msg, cap) != 0) {
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  *size = n;
  return 0;
}

/* the image and the journal into a new store */
static ct_store *load(ct_db *db, char *msg, size_t cap) {
  sqlite3_stmt *st;
  ct_store *s = NULL;
  char why[300];
  int rc;
  if (sqlite3_prepare_v2(db->h, "SELECT image, next FROM snapshot WHERE "
                         "id = 1", -1, &st, NULL) != SQLITE_OK) {
    sql_fail(db->h, db->path, msg, cap);
    return NULL;
  }
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const void *img = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    db->next = sqlite3_column_int64(st, 1);
    db->ibytes = n;
    s = ct_snap_read(img != NULL ? img : "", n, why, sizeof why);
    if (s == NULL) snprintf(msg, cap, "%s: %s", db->path, why);
  } else if (rc == SQLITE_DONE) {
    say(msg, cap, db->path, ": corrupt store: no snapshot");
  } else {
    sql_fail(db->h, db->path, msg, cap);
  }
  sqlite3_finalize(st);
  if (s == NULL) return NULL;
  if (sqlite3_prepare_v2(db->h, "SELECT seq, op, sum FROM journal ORDER BY "
                         "seq", -1, &st, NULL) != SQLITE_OK) {
    sql_fail(db->h, db->path, msg, cap);
    ct_store_free(s);
    return NULL;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    sqlite3_int64 seq = sqlite3_column_int64(st, 0);
    const char *op = (const char *)sqlite3_column_text(st, 1);
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    uint64_t sum = (uint64_t)sqlite3_column_int64(st, 2);
    if (seq != db->next) {
      snprintf(msg, cap, "%s: corrupt store: journal row %lld is missing",
               db->path, (long long)db->next);
      break;
    }
    if (op == NULL || sum != row_sum(seq, op, n)) {
      snprintf(msg, cap, "%s: corrupt store: journal row %lld: checksum "
               "mismatch", db->path, (long long)seq);
      break;
    }
    if (ct_change_replay(s, op, n, why, sizeof why) != 0) {
      snprintf(msg, cap, "%s: corrupt store: journal row %lld: %s",
               db->path, (long long)seq, why);
      break;
    }
    db->next++;
    db->rows++;
    db->jbytes += n;
  }
  if (rc != SQLITE_DONE) {
    if (rc != SQLITE_ROW) sql_fail(db->h, db->path, msg, cap);
    sqlite3_finalize(st);
    ct_store_free(s);
    return NULL;
  }
  sqlite3_finalize(st);
  return s;
}

static void db_free(ct_db *db) {
  if (db == NULL) return;
  sqlite3_finalize(db->append);
  sqlite3_close(db->h);
  free(db->path);
  free(db);
}

ct_db *ct_db_open(const char *path, const ct_store *fresh, int full,
                  ct_store **out, char *msg, size_t cap) {
  ct_db *db = ct_calloc(1, sizeof *db);
  int created;
  *out = NULL;
  if (db == NULL || (db->path = ct_malloc(strlen(path) + 1)) == NULL) {
    free(db);
    snprintf(msg, cap, "%s: out of memory", path);
    return NULL;
  }
  memcpy(db->path, path, strlen(path) + 1);
  db->next = 1;
  db->h = db_connect(path, 1, full, &created, msg, cap);
  if (db->h == NULL) {
    db_free(db);
    return NULL;
  }
  if (created) {
    if (write_image(db->h, 1, fresh, db->next, &db->ibytes, path, msg,
                    cap) != 0) {
      db_free(db);
      remove(path);
      return NULL;
    }
  } else if ((*out = load(db, msg, cap)) == NULL) {
    db_free(db);
    return NULL;
  }
  if (sqlite3_prepare_v2(db->h, "INSERT INTO journal(seq, op, sum) VALUES "
                         "(?, ?, ?)", -1, &db->append, NULL) != SQLITE_OK) {
    sql_fail(db->h, path, msg, cap);
    ct_store_free(*out);
    *out = NULL;
    db_free(db);
    return NULL;
  }
  return db;
}

int ct_db_append(ct_db *db, const char *row, size_t n, char *msg,
                 size_t cap) {
  int rc;
  sqlite3_bind_int64(db->append, 1, db->next);
  sqlite3_bind_text64(db->append, 2, row, n, SQLITE_STATIC, SQLITE_UTF8);
  sqlite3_bind_int64(db->append, 3, (sqlite3_int64)row_sum(db->next, row,
                                                           n));
  rc = sqlite3_step(db->append);
  sqlite3_reset(db->append);
  sqlite3_clear_bindings(db->append);
  if (rc != SQLITE_DONE) return sql_fail(db->h, db->path, msg, cap);
  db->next++;
  db->rows++;
  db->jbytes += n;
  return 0;
}

int ct_db_begin(ct_db *db, char *msg, size_t cap) {
  if (db->in_tx) return 0;
  if (exec(db->h, "BEGIN IMMEDIATE", db->path, msg, cap) != 0) return -1;
  db->in_tx = 1;
  return 0;
}

int ct_db_commit(ct_db *db, char *msg, size_t cap) {
  if (!db->in_tx) return 0;
  db->in_tx = 0;
  if (exec(db->h, "COMMIT", db->path, msg, cap) != 0) {
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

size_t ct_db_rows(const ct_db *db) {
  return db->rows;
}

int ct_db_fold_due(const ct_db *db) {
  return db->rows >= CT_DB_FOLD_ROWS && db->jbytes >= db->ibytes;
}

const char *ct_db_path(const ct_db *db) {
  return db->path;
}

int ct_db_fold(ct_db *db, const ct_store *s, char *msg, size_t cap) {
  if (db->in_tx && ct_db_commit(db, msg, cap) != 0) return -1;
  if (write_image(db->h, 0, s, db->next, &db->ibytes, db->path, msg, cap)
      != 0)
    return -1;
  db->rows = 0;
  db->jbytes = 0;
  return 0;
}

void ct_db_close(ct_db *db) {
  if (db != NULL && db->in_tx) {
    char msg[8];
    ct_db_commit(db, msg, sizeof msg);
  }
  db_free(db);
}

int ct_db_save(const char *path, const ct_store *s, char *msg, size_t cap) {
  int created, rc;
  sqlite3_int64 next = 1;
  size_t size;
  sqlite3 *h = db_connect(path, 1, 1, &created, msg, cap);
  if (h == NULL) return -1;
  /* the journal's numbering goes on, so rows of a store that had the
     file before can never be taken for this one's */
  if (!created &&
      query_int(h, "SELECT coalesce(max(seq) + 1, (SELECT next FROM "
                "snapshot WHERE id = 1), 1) FROM journal", &next, path, msg,
                cap) != 0) {
    sqlite3_close(h);
    return -1;
  }
  rc = write_image(h, created, s, next, &size, path, msg, cap);
  sqlite3_close(h);
  if (rc != 0 && created) remove(path);
  return rc;
}
