/*
** ct_change.c -- changes as data: apply, encode as a journal row, replay
** (see ct_change.h for the rows).
*/
#include <stdio.h>
#include <string.h>

#include "ct_change.h"

static const char *const op_names[CT_CH__COUNT] = {
  "createJob", "updateJob", "deleteJob", "validateJob", "migrateJob",
  "cancelJob", "createTask", "cancelTask", "advance", "fail", "addFault"
};

const char *ct_change_name(int kind) {
  return (kind >= 0 && kind < CT_CH__COUNT) ? op_names[kind] : "unknown";
}

/* ---------- apply ---------- */

static ct_job *job_of(ct_store *s, const ct_change *op, ct_err *e) {
  if (op->byname)
    return ct_job_find_name(s, &op->caller, op->job, op->joblen, e);
  return ct_job_find(s, &op->caller, op->job, op->joblen, e);
}

int ct_change_apply(ct_store *s, const ct_change *op, ct_change_result *r, ct_err *e) {
  ct_change_result spare;
  ct_job *j = NULL;
  int rc = 0;
  if (r == NULL) r = &spare;
  r->job = NULL;
  r->task = NULL;
  switch (op->kind) {
    case CT_CH_JOB_CREATE:
      r->job = ct_job_create(s, &op->caller, op->body, e);
      return r->job != NULL ? 0 : -1;
    case CT_CH_ADVANCE:
      ct_store_advance(s, op->until);
      return 0;
    case CT_CH_FAIL:
      return ct_store_fail(s, &op->user, op->service, op->phase, op->status,
                           op->code, op->ncode, op->message, op->nmessage,
                           e);
    case CT_CH_FAULT_ADD:
      switch (ct_fault_add(&s->faultstate, op->status, op->retry_after,
                           op->times, op->method, op->path, op->pathlen)) {
        case 0: return 0;
        case -2:
          ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
          return -1;
        default:
          ct_err_set(e, 400, "invalidRequest", NULL,
                     "A value of the fault is out of range.");
          return -1;
      }
    default:
      break;
  }
  if (op->kind < 0 || op->kind >= CT_CH__COUNT) {
    ct_err_set(e, 500, "generalException", NULL, "Unknown operation %d.",
               op->kind);
    return -1;
  }
  j = job_of(s, op, e);
  if (j == NULL) return -1;
  r->job = j;
  switch (op->kind) {
    case CT_CH_JOB_UPDATE: rc = ct_job_update(s, j, op->body, e); break;
    case CT_CH_JOB_DELETE: rc = ct_job_delete(s, j, e); break;
    case CT_CH_JOB_VALIDATE: rc = ct_job_validate(s, j, e); break;
    case CT_CH_JOB_MIGRATE: rc = ct_job_migrate(s, j, e); break;
    case CT_CH_JOB_CANCEL: rc = ct_job_cancel(s, j, e); break;
    case CT_CH_TASK_CREATE:
      r->task = ct_task_create(s, j, op->body, e);
      rc = r->task != NULL ? 0 : -1;
      break;
    default:                       /* CT_CH_TASK_CANCEL */
      r->task = ct_task_find(j, op->task, op->tasklen, e);
      rc = r->task != NULL ? ct_task_cancel(s, j, r->task, e) : -1;
      break;
  }
  if (rc != 0) r->job = NULL, r->task = NULL;
  return rc;
}

int ct_change_noop(const ct_store *s, const ct_change *op) {
  int64_t due;
  if (op->kind != CT_CH_ADVANCE || op->until > s->now) return 0;
  due = ct_store_next_due(s);
  return due < 0 || due > op->until;
}

/* ---------- encode ---------- */

static void member(ct_buf *b, const char *name) {
  ct_buf_addc(b, ',');
  ct_buf_json_string(b, name, strlen(name));
  ct_buf_addc(b, ':');
}

static void guid_member(ct_buf *b, const char *name, const ct_guid *g) {
  char s[37];
  ct_guid_format(g, s);
  member(b, name);
  ct_buf_json_string(b, s, 36);
}

static void str_member(ct_buf *b, const char *name, const char *s) {
  member(b, name);
  ct_buf_json_string(b, s, strlen(s));
}

void ct_change_encode(const ct_store *s, const ct_change *op, const ct_change_result *r,
                  ct_buf *b) {
  ct_buf_adds(b, "{\"op\":");
  ct_buf_json_string(b, ct_change_name(op->kind), strlen(ct_change_name(op->kind)));
  if (op->kind == CT_CH_ADVANCE) {
    member(b, "until");
    ct_buf_json_int(b, op->until);
  } else if (op->kind == CT_CH_FAULT_ADD) {
    const ct_fault_rule *x = &s->faultstate.rules[s->faultstate.nrules - 1];
    member(b, "status");
    ct_buf_json_int(b, x->status);
    member(b, "retryAfter");
    ct_buf_json_int(b, x->retry_after);
    member(b, "times");
    ct_buf_json_int(b, x->times);
    str_member(b, "method", x->method);
    if (x->path == NULL) {
      member(b, "path");
      ct_buf_adds(b, "null");
    } else if (ct_utf8_valid(x->path, x->pathlen)) {
      member(b, "path");
      ct_buf_json_string(b, x->path, x->pathlen);
    } else {
      static const char hex[] = "0123456789abcdef";
      size_t i;
      member(b, "pathHex");
      ct_buf_addc(b, '"');
      for (i = 0; i < x->pathlen; i++) {
        ct_buf_addc(b, hex[(unsigned char)x->path[i] >> 4]);
        ct_buf_addc(b, hex[(unsigned char)x->path[i] & 15]);
      }
      ct_buf_addc(b, '"');
    }
  } else if (op->kind == CT_CH_FAIL) {
    guid_member(b, "user", &op->user);
    str_member(b, "service", ct_service_name(op->service));
    str_member(b, "phase", op->phase == CT_PHASE_VALIDATE ? "validate"
                                                           : "migrate");
    str_member(b, "status", ct_svc_status_name(op->status));
    member(b, "code");
    ct_buf_json_string(b, op->code, op->ncode);
    member(b, "message");
    ct_buf_json_string(b, op->message, op->nmessage);
  } else {
    guid_member(b, "tenant", &op->caller.tenant);
    member(b, "upn");
    ct_buf_json_string(b, op->caller.upn ? op->caller.upn : "",
                       op->caller.upn ? op->caller.nupn : 0);
    if (op->kind != CT_CH_JOB_CREATE) guid_member(b, "job", &r->job->id);
    if (op->kind == CT_CH_TASK_CANCEL) guid_member(b, "task", &r->task->id);
    if (op->kind == CT_CH_JOB_CREATE || op->kind == CT_CH_JOB_UPDATE ||
        op->kind == CT_CH_TASK_CREATE) {
      member(b, "body");
      ct_buf_json_tree(b, op->body);
    }
  }
  member(b, "requests");
  ct_buf_json_int(b, (int64_t)s->nrequests);
  ct_buf_addc(b, '}');
}

/* ---------- decode and replay ---------- */

/* an empty array or object read back is an empty Lua table was: both */
static void empties(ct_jval *v) {
  size_t i;
  if (v->kind != CT_JARR && v->kind != CT_JOBJ) return;
  if (v->len == 0) {
    v->kind = CT_JEMPTY;
    return;
  }
  for (i = 0; i < v->len; i++) empties(&v->u.items[i]);
}

static const char *str_of(const ct_jval *row, const char *name) {
  const ct_jval *v = ct_json_get(row, name);
  return (v != NULL && v->kind == CT_JSTR) ? v->u.s : NULL;
}

/* a string member's length (it may hold NULs) */
static size_t len_of(const ct_jval *row, const char *name) {
  const ct_jval *v = ct_json_get(row, name);
  return (v != NULL && v->kind == CT_JSTR) ? v->len : 0;
}

static int guid_of(const ct_jval *row, const char *name, ct_guid *g) {
  const char *s = str_of(row, name);
  return s != NULL && ct_guid_parse(s, strlen(s), g) == 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int bad_row(char *msg, size_t cap, const char *what) {
  snprintf(msg, cap, "bad journal row: %s", what);
  return -1;
}

int ct_change_replay(ct_store *s, const char *text, size_t n, char *msg,
                 size_t cap) {
  ct_arena a;
  ct_jval *row;
  ct_jerr je;
  ct_change op;
  ct_err e;
  const ct_jval *v, *req;
  const char *name, *jid, *tid;
  char key[37], tkey[37];
  int rc = -1, k;
  ct_arena_init(&a);
  memset(&op, 0, sizeof op);
  if (ct_json_parse_any_size(&a, text, n, &row, &je) != 0) {
    snprintf(msg, cap, "bad journal row: %s", je.message);
    goto done;
  }
  if (row->kind != CT_JOBJ) {
    bad_row(msg, cap, "not an object");
    goto done;
  }
  name = str_of(row, "op");
  for (k = 0; name != NULL && k < CT_CH__COUNT; k++)
    if (strcmp(name, op_names[k]) == 0) break;
  if (name == NULL || k == CT_CH__COUNT) {
    bad_row(msg, cap, "unknown 'op'");
    goto done;
  }
  op.kind = k;
  req = ct_json_get(row, "requests");
  if (req == NULL || req->kind != CT_JINT || req->u.i < 0) {
    bad_row(msg, cap, "no 'requests' counter");
    goto done;
  }
  if (k == CT_CH_FAULT_ADD) {
    const ct_jval *st = ct_json_get(row, "status");
    const ct_jval *ra = ct_json_get(row, "retryAfter");
    const ct_jval *tm = ct_json_get(row, "times");
    const ct_jval *p = ct_json_get(row, "path");
    const char *hx = str_of(row, "pathHex");
    op.method = str_of(row, "method");
    if (st == NULL || st->kind != CT_JINT || ra == NULL ||
        ra->kind != CT_JINT || tm == NULL || tm->kind != CT_JINT ||
        op.method == NULL || (p == NULL && hx == NULL) ||
        st->u.i > 1000 || ra->u.i > 1000000 || ra->u.i < 0) {
      bad_row(msg, cap, "an 'addFault' row lacks a member");
      goto done;
    }
    op.status = (int)st->u.i;
    op.retry_after = (int)ra->u.i;
    op.times = tm->u.i;
    if (op.method[0] == '\0') op.method = NULL;
    if (hx != NULL) {
      size_t i, hn = strlen(hx);
      char *pb = ct_arena_alloc(&a, hn / 2 + 1);
      if (pb == NULL || hn % 2 != 0) {
        bad_row(msg, cap, "a bad 'pathHex'");
        goto done;
      }
      for (i = 0; i < hn / 2; i++) {
        int hi = hexval(hx[2 * i]), lo = hexval(hx[2 * i + 1]);
        if (hi < 0 || lo < 0) {
          bad_row(msg, cap, "a bad 'pathHex'");
          goto done;
        }
        pb[i] = (char)(hi << 4 | lo);
      }
      op.path = pb;
      op.pathlen = hn / 2;
    } else if (p->kind == CT_JSTR) {
      op.path = p->u.s;
      op.pathlen = p->len;
    } else if (p->kind != CT_JNULL) {
      bad_row(msg, cap, "a bad 'path'");
      goto done;
    }
  } else if (k == CT_CH_ADVANCE) {
    v = ct_json_get(row, "until");
    if (v == NULL || v->kind != CT_JINT) {
      bad_row(msg, cap, "no 'until'");
      goto done;
    }
    op.until = v->u.i;
  } else if (k == CT_CH_FAIL) {
    const char *svc = str_of(row, "service"), *ph = str_of(row, "phase");
    const char *st = str_of(row, "status");
    op.code = str_of(row, "code");
    op.ncode = len_of(row, "code");
    op.message = str_of(row, "message");
    op.nmessage = len_of(row, "message");
    if (!guid_of(row, "user", &op.user) || svc == NULL || ph == NULL ||
        st == NULL || op.code == NULL || op.message == NULL) {
      bad_row(msg, cap, "a 'fail' row lacks a member");
      goto done;
    }
    op.service = ct_service_find(svc, strlen(svc));
    op.phase = strcmp(ph, "migrate") == 0 ? CT_PHASE_MIGRATE
                                          : CT_PHASE_VALIDATE;
    op.status = ct_svc_status_find(st, strlen(st));
    if (op.service < 0 || op.status < 0) {
      bad_row(msg, cap, "a 'fail' row names an unknown service or status");
      goto done;
    }
  } else {
    op.caller.upn = str_of(row, "upn");
    op.caller.nupn = len_of(row, "upn");
    if (!guid_of(row, "tenant", &op.caller.tenant) || op.caller.upn == NULL) {
      bad_row(msg, cap, "no 'tenant' or 'upn'");
      goto done;
    }
    if (k != CT_CH_JOB_CREATE) {
      ct_guid g;
      jid = str_of(row, "job");
      if (jid == NULL || ct_guid_parse(jid, strlen(jid), &g) != 0) {
        bad_row(msg, cap, "no 'job'");
        goto done;
      }
      ct_guid_format(&g, key);
      op.job = key;
      op.joblen = 36;
    }
    if (k == CT_CH_TASK_CANCEL) {
      ct_guid g;
      tid = str_of(row, "task");
      if (tid == NULL || ct_guid_parse(tid, strlen(tid), &g) != 0) {
        bad_row(msg, cap, "no 'task'");
        goto done;
      }
      ct_guid_format(&g, tkey);
      op.task = tkey;
      op.tasklen = 36;
    }
    if (k == CT_CH_JOB_CREATE || k == CT_CH_JOB_UPDATE ||
        k == CT_CH_TASK_CREATE) {
      ct_jval *body = NULL;
      size_t i;
      for (i = 0; i < row->len; i++)
        if (strcmp(row->u.items[i].key, "body") == 0)
          body = &row->u.items[i];
      if (body == NULL) {
        bad_row(msg, cap, "no 'body'");
        goto done;
      }
      empties(body);
      op.body = body;
    }
  }
  if (ct_change_apply(s, &op, NULL, &e) != 0) {
    snprintf(msg, cap, "journal row '%s' is refused on replay: %s", name,
             e.message);
    goto done;
  }
  s->nrequests = (uint64_t)req->u.i;
  rc = 0;
done:
  ct_arena_free(&a);
  return rc;
}
