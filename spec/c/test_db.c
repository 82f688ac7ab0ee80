/*
** test_db.c -- the store file (ct_db.c) and changes as data (ct_change.c),
** with no Lua, as a server would call them: ops applied with
** ct_change_apply and journaled with ct_change_encode + ct_db_append come back
** on ct_db_open as the very same store (with and without a fold, rows
** grouped in one transaction too); a refused op has no row; bad files
** (a directory, empty, foreign, another application's database, a newer
** format, a damaged, missing or unreplayable journal row, a file held by
** another connection) are refused with the exact message.
** Prints one line per failed check, then "N passed, N failed".
*/
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "ct_db.h"
#include "ct_json.h"
#include "ct_change.h"
#include "ct_snap.h"
#include "ct_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TARGET "87654321-4321-4321-4321-210987654321"
#define SOURCE "12345678-1234-1234-1234-123456789012"

static ct_arena arena;
static char dir[64];

static const ct_jval *json(const char *text)
{
  return check_json(&arena, text);
}

static ct_store *new_store(void)
{
  ct_options o;
  ct_store *s;
  ct_guid g;
  memset(&o, 0, sizeof o);
  o.seed = 9;
  o.has_seed = 1;
  o.strict = 1;
  o.now = 17623872000000000LL;       /* 2025-11-06T00:00:00Z */
  s = ct_store_new(&o);
  ct_guid_parse(TARGET, 36, &g);
  if (s == NULL || ct_store_set_defaults(s, &g, "a@b", 0) != 0) exit(2);
  return s;
}

static void path_of(char *out, size_t cap, const char *name)
{
  snprintf(out, cap, "%s/%s", dir, name);
}

static void cleanup(const char *path)
{
  char p[200];
  remove(path);
  snprintf(p, sizeof p, "%s-wal", path);
  remove(p);
  snprintf(p, sizeof p, "%s-shm", path);
  remove(p);
}

static int same_image(const ct_store *a, const ct_store *b)
{
  unsigned char *p, *q;
  size_t n, m;
  int same;
  if (ct_snap_write(a, &p, &n) != 0) return 0;
  if (ct_snap_write(b, &q, &m) != 0) {
    free(p);
    return 0;
  }
  same = n == m && memcmp(p, q, n) == 0;
  free(p);
  free(q);
  return same;
}

/* apply an op and, when accepted and not a no-op, journal it */
static int run(ct_store *s, ct_db *db, const ct_change *op, ct_change_result *r)
{
  ct_err e;
  ct_buf b;
  char msg[300];
  int noop = ct_change_noop(s, op), rc;
  if (ct_change_apply(s, op, r, &e) != 0) {
    if (getenv("CT_DEBUG")) printf("  refused: %s\n", e.message);
    return -1;
  }
  if (noop || db == NULL) return 0;
  ct_buf_init(&b);
  ct_change_encode(s, op, r, &b);
  rc = b.oom ? -2 : ct_db_append(db, b.p, b.len, msg, sizeof msg);
  if (rc != 0) printf("  append: %s\n", msg);
  ct_buf_free(&b);
  return rc == 0 ? 0 : -2;
}

static ct_caller caller(void)
{
  ct_caller c;
  ct_guid_parse(TARGET, 36, &c.tenant);
  c.upn = "admin@fabrikam.onmicrosoft.com";
  c.nupn = strlen(c.upn);
  return c;
}

/* a few changes of every kind on s (journaled to db when not NULL) */
static void changes(tally *t, ct_store *s, ct_db *db, int round)
{
  ct_change op;
  ct_change_result r;
  char body[600], id[37], name[32];
  int i;
  for (i = 0; i < 3; i++) {
    memset(&op, 0, sizeof op);
    op.kind = CT_CH_JOB_CREATE;
    op.caller = caller();
    snprintf(body, sizeof body, "{\"displayName\":\"r%d j%d\",\"complete"
             "AfterDateTime\":\"2025-12-06T00:30:00Z\",\"sourceTenantId\":\""
             SOURCE "\",\"resourceType\":\"Users\",\"workloads\":[\"ODSP\","
             "\"Teams\"],\"resources\":[\"cccccccc-0000-4000-8000-%012d\"]}",
             round, i, round * 10 + i);
    op.body = json(body);
    CHECK(run(s, db, &op, &r) == 0);
    ct_guid_format(&r.job->id, id);
    snprintf(name, sizeof name, "r%d j%d", round, i);
    memset(&op, 0, sizeof op);
    op.caller = caller();
    op.job = i == 1 ? name : id;          /* by name, resolved to the id */
    op.joblen = strlen(op.job);
    op.byname = i == 1;
    op.kind = CT_CH_TASK_CREATE;
    op.body = json("{\"taskType\":\"user\",\"lastUpdatedDateTime\":"
                   "\"2025-11-06T00:00:00Z\",\"currentStatus\":[{\"service"
                   "\":\"ODSP\"},{\"service\":\"Teams\",\"errors\":[]}]}");
    CHECK(run(s, db, &op, &r) == 0);
    op.body = NULL;
    op.kind = i == 2 ? CT_CH_JOB_CANCEL : CT_CH_JOB_VALIDATE;
    CHECK(run(s, db, &op, &r) == 0);
    /* refused: validating twice; nothing written */
    op.kind = CT_CH_JOB_VALIDATE;
    if (i != 2) CHECK(run(s, db, &op, &r) == -1);
  }
  memset(&op, 0, sizeof op);
  op.kind = CT_CH_FAIL;
  ct_guid_parse("cccccccc-0000-4000-8000-000000000099", 36, &op.user);
  op.service = CT_SVC_TEAMS;
  op.phase = CT_PHASE_MIGRATE;
  op.status = CT_SS_ERROR;
  op.code = "c\"o\0de";               /* a NUL kept */
  op.ncode = 6;
  op.message = "m\nessage";
  op.nmessage = 8;
  CHECK(run(s, db, &op, NULL) == 0);
  memset(&op, 0, sizeof op);
  op.kind = CT_CH_FAULT_ADD;
  op.status = 503;
  op.retry_after = 7;
  op.times = 2;
  op.method = "post";
  op.path = "/crossTenantMigrationJobs/*/\xff";   /* not UTF-8 */
  op.pathlen = strlen(op.path);
  CHECK(run(s, db, &op, NULL) == 0);
  s->nrequests += 3;           /* requests read: the next row carries it */
  memset(&op, 0, sizeof op);
  op.kind = CT_CH_ADVANCE;
  op.until = s->now + 3600LL * 10000000;
  CHECK(run(s, db, &op, NULL) == 0);
  op.until = s->now;                              /* nothing due: no row */
  CHECK(ct_change_noop(s, &op));
}

static void test_journal(tally *t)
{
  char path[128], msg[300];
  ct_store *s = new_store(), *twin = new_store(), *back = NULL;
  ct_db *db;
  size_t rows;
  path_of(path, sizeof path, "j.db");
  cleanup(path);
  db = ct_db_open(path, s, 0, &back, msg, sizeof msg);
  CHECK(db != NULL && back == NULL);
  if (db == NULL) {
    printf("  %s\n", msg);
    goto done;
  }
  changes(t, s, db, 1);
  changes(t, twin, NULL, 1);
  rows = ct_db_rows(db);
  CHECK(rows == 12);
  /* a second connection is refused while the first holds the file */
  CHECK(ct_db_open(path, s, 0, &back, msg, sizeof msg) == NULL);
  {
    char want[300];
    snprintf(want, sizeof want, "%s is in use by another store", path);
    CHECK_MSG(msg, want);
  }
  ct_db_close(db);                    /* no fold */
  db = ct_db_open(path, NULL, 0, &back, msg, sizeof msg);
  CHECK(db != NULL && back != NULL);
  if (db == NULL) {
    printf("  %s\n", msg);
    goto done;
  }
  CHECK(ct_db_rows(db) == rows);
  CHECK(same_image(back, twin));
  /* more changes, grouped in one transaction, then a fold */
  CHECK(ct_db_begin(db, msg, sizeof msg) == 0);
  changes(t, back, db, 2);
  CHECK(ct_db_commit(db, msg, sizeof msg) == 0);
  changes(t, twin, NULL, 2);
  CHECK(ct_db_rows(db) == 2 * rows);
  CHECK(ct_db_fold(db, back, msg, sizeof msg) == 0);
  CHECK(ct_db_rows(db) == 0);
  changes(t, back, db, 3);
  changes(t, twin, NULL, 3);
  ct_db_close(db);
  ct_store_free(back);
  back = NULL;
  db = ct_db_open(path, NULL, 0, &back, msg, sizeof msg);
  CHECK(db != NULL && back != NULL && ct_db_rows(db) == rows);
  if (back != NULL) CHECK(same_image(back, twin));
  ct_db_close(db);
done:
  ct_store_free(back);
  ct_store_free(s);
  ct_store_free(twin);
  cleanup(path);
}

static void write_file(const char *path, const char *text, size_t n)
{
  FILE *f = fopen(path, "wb");
  if (f == NULL) exit(2);
  if (n > 0 && fwrite(text, 1, n, f) != n) exit(2);
  fclose(f);
}

/* an SQL statement on a closed store file, as an outside tool would */
static void sql(const char *path, const char *stmt)
{
  sqlite3 *h;
  if (sqlite3_open(path, &h) != SQLITE_OK ||
      sqlite3_exec(h, stmt, NULL, NULL, NULL) != SQLITE_OK) {
    printf("sql failed: %s\n", sqlite3_errmsg(h));
    exit(2);
  }
  sqlite3_close(h);
}

static void refused(tally *t, int line, const char *path, const char *want)
{
  char msg[400];
  ct_store *s = new_store(), *back = NULL;
  ct_db *db = ct_db_open(path, s, 0, &back, msg, sizeof msg);
  check(t, db == NULL && back == NULL, line, "the file is refused");
  if (db == NULL) check_msg(t, line, msg, want);
  ct_db_close(db);
  ct_store_free(back);
  ct_store_free(s);
}

#define REFUSED(path, want) refused(t, __LINE__, (path), (want))

static void test_bad_files(tally *t)
{
  char path[128], want[300], msg[300];
  ct_store *s = new_store(), *back = NULL;
  ct_db *db;
  path_of(path, sizeof path, "bad.db");

  snprintf(want, sizeof want, "%s is a directory", dir);
  REFUSED(dir, want);
  cleanup(path);
  write_file(path, "", 0);
  snprintf(want, sizeof want, "%s is empty: not a crosstenant store", path);
  REFUSED(path, want);
  write_file(path, "hello, world, this is not a database at all......", 50);
  snprintf(want, sizeof want, "%s is not a crosstenant store", path);
  REFUSED(path, want);
  /* a save over it is refused too, and leaves it alone */
  CHECK(ct_db_save(path, s, msg, sizeof msg) == -1);
  CHECK_MSG(msg, want);
  cleanup(path);
  sql(path, "CREATE TABLE t(x)");             /* another application's */
  REFUSED(path, want);

  /* a good file, then spoilt in each way */
  cleanup(path);
  db = ct_db_open(path, s, 0, &back, msg, sizeof msg);
  CHECK(db != NULL);
  changes(t, s, db, 1);
  ct_db_close(db);
  sql(path, "PRAGMA user_version=3");
  snprintf(want, sizeof want, "%s: store format 3 is newer than this "
           "crosstenant (1)", path);
  REFUSED(path, want);
  sql(path, "PRAGMA user_version=1");
  sql(path, "UPDATE journal SET op = replace(op, 'r1 j0', 'r1 j9') "
            "WHERE seq = 1");
  snprintf(want, sizeof want, "%s: corrupt store: journal row 1: checksum "
           "mismatch", path);
  REFUSED(path, want);
  sql(path, "UPDATE journal SET op = replace(op, 'r1 j9', 'r1 j0') "
            "WHERE seq = 1");
  sql(path, "DELETE FROM journal WHERE seq = 5");
  snprintf(want, sizeof want, "%s: corrupt store: journal row 5 is missing",
           path);
  REFUSED(path, want);
  sql(path, "DELETE FROM snapshot");
  snprintf(want, sizeof want, "%s: corrupt store: no snapshot", path);
  REFUSED(path, want);
  sql(path, "INSERT INTO snapshot VALUES (1, x'89435453', 1)");
  snprintf(want, sizeof want, "%s: truncated at byte 4", path);
  REFUSED(path, want);
  {
    /* a row that checks out but that the store refuses on replay */
    char stmt[600];
    const char *row = "{\"op\":\"validateJob\",\"tenant\":\"" TARGET "\","
                      "\"upn\":\"\",\"job\":\"00000000-0000-4000-8000-"
                      "000000000000\",\"requests\":0}";
    unsigned char *img;
    size_t n, i, k;
    char hex[4096];
    ct_store *fresh = new_store();
    uint64_t sum;
    unsigned char b[8];
    if (ct_snap_write(fresh, &img, &n) != 0 || 2 * n + 1 > sizeof hex)
      exit(2);
    for (i = 0, k = 0; i < n; i++) k += (size_t)sprintf(hex + k, "%02x", img[i]);
    memset(b, 0, sizeof b);
    b[0] = 1;                      /* row 1, little-endian */
    sum = ct_snap_checksum(b, 8) ^ ct_snap_checksum(row, strlen(row));
    snprintf(stmt, sizeof stmt, "DELETE FROM journal; DELETE FROM snapshot;"
             " INSERT INTO journal VALUES (1, '%s', %lld);", row,
             (long long)sum);
    sql(path, stmt);
    {
      char *ins = malloc(2 * n + 100);
      if (ins == NULL) exit(2);
      snprintf(ins, 2 * n + 100, "INSERT INTO snapshot VALUES (1, x'%s', 1)",
               hex);
      sql(path, ins);
      free(ins);
    }
    free(img);
    ct_store_free(fresh);
    snprintf(want, sizeof want, "%s: corrupt store: journal row 1: journal "
             "row 'validateJob' is refused on replay: crossTenantMigrationJob"
             " '00000000-0000-4000-8000-000000000000' was not found.", path);
    REFUSED(path, want);
  }
  ct_store_free(back);
  ct_store_free(s);
  cleanup(path);
}

static void test_save(tally *t)
{
  char path[128], msg[300];
  ct_store *s = new_store(), *back = NULL;
  ct_db *db;
  path_of(path, sizeof path, "save.db");
  cleanup(path);
  changes(t, s, NULL, 1);
  CHECK(ct_db_save(path, s, msg, sizeof msg) == 0);
  changes(t, s, NULL, 2);
  CHECK(ct_db_save(path, s, msg, sizeof msg) == 0);    /* replaced */
  db = ct_db_open(path, NULL, 0, &back, msg, sizeof msg);
  CHECK(db != NULL && back != NULL && ct_db_rows(db) == 0);
  if (back != NULL) CHECK(same_image(s, back));
  ct_db_close(db);
  ct_store_free(back);
  ct_store_free(s);
  cleanup(path);
}

/*
** when a fold is due: CT_DB_FOLD_ROWS rows and, beyond that, as many
** journal bytes as the image of the last fold (or of the open), so that
** a large store is not rewritten whole every CT_DB_FOLD_ROWS rows.  The
** rows are bytes only (the file is not opened again).
*/
static void test_fold_due(tally *t)
{
  char path[128], msg[300], *big;
  ct_store *s = new_store(), *none = NULL;
  unsigned char *img;
  size_t n, i;
  ct_db *db;
  path_of(path, sizeof path, "due.db");
  cleanup(path);
  changes(t, s, NULL, 1);
  if (ct_snap_write(s, &img, &n) != 0) exit(2);
  free(img);
  CHECK(n > 1 && n < CT_DB_FOLD_ROWS);
  db = ct_db_open(path, s, 0, &none, msg, sizeof msg);
  CHECK(db != NULL && none == NULL);
  if (db == NULL) goto done;
  /* empty rows: the row count is reached, the image's bytes are not */
  for (i = 0; i < CT_DB_FOLD_ROWS; i++)
    if (ct_db_append(db, "", 0, msg, sizeof msg) != 0) break;
  CHECK(i == CT_DB_FOLD_ROWS && ct_db_rows(db) == CT_DB_FOLD_ROWS);
  CHECK(ct_db_fold_due(db) == 0);
  /* one byte short of the image, then the image's size */
  big = malloc(n);
  if (big == NULL) exit(2);
  memset(big, 'x', n);
  CHECK(ct_db_append(db, big, n - 1, msg, sizeof msg) == 0);
  CHECK(ct_db_fold_due(db) == 0);
  CHECK(ct_db_append(db, big, 1, msg, sizeof msg) == 0);
  CHECK(ct_db_fold_due(db) == 1);
  free(big);
  /* a fold starts both counts again; small rows: the row count rules */
  CHECK(ct_db_fold(db, s, msg, sizeof msg) == 0);
  CHECK(ct_db_rows(db) == 0 && ct_db_fold_due(db) == 0);
  for (i = 0; i + 1 < CT_DB_FOLD_ROWS; i++)
    if (ct_db_append(db, "xx", 2, msg, sizeof msg) != 0) break;
  CHECK(ct_db_fold_due(db) == 0);
  CHECK(ct_db_append(db, "xx", 2, msg, sizeof msg) == 0);
  CHECK(ct_db_fold_due(db) == 1);
  ct_db_close(db);
done:
  ct_store_free(s);
  cleanup(path);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  snprintf(dir, sizeof dir, "/tmp/ct_test_db_%ld", (long)getpid());
  if (mkdir(dir, 0700) != 0) return 2;
  ct_arena_init(&arena);
  test_journal(t);
  test_bad_files(t);
  test_save(t);
  test_fold_due(t);
  ct_arena_free(&arena);
  rmdir(dir);
  return tally_report(t);
}
