/*
** ct_query.c -- OData $filter / $orderby: parser, evaluator, pages.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_query.h"
#include "ct_schema.h"

#define MAX_FILTER 8192      /* bytes of $filter / $orderby text */
#define MAX_DEPTH 32         /* nesting of parentheses and not */
#define MAX_KEYS 8           /* $orderby keys */

/* ---------- values ---------- */

enum { V_NULL, V_BOOL, V_INT, V_NUM, V_STR, V_TIME, V_ENUM, V_GUID };
enum { E_JOBSTATUS, E_JOBTYPE, E_SVCSTATUS };

typedef struct val {
  int t, en;           /* type; enum type for V_ENUM */
  int64_t i;           /* V_BOOL, V_INT, V_TIME ticks, V_ENUM member */
  double d;            /* V_NUM */
  const char *s;       /* V_STR */
  size_t n;
  ct_guid g;           /* V_GUID */
} val;

/* ---------- properties ---------- */

enum {
  F_ID, F_DISPLAYNAME, F_JOBTYPE, F_SOURCE, F_TARGET, F_CAD, F_STATUS,
  F_MESSAGE, F_CREATED, F_CREATEDBY, F_UPDATED, F_RESOURCETYPE,
  F_TID, F_TASKTYPE, F_TUPDATED,
  F_SERVICE, F_SSTATUS, F_SMESSAGE
};

/* a property $filter and $orderby read: the schema's (its name), the
   record field, the value type */
typedef struct qprop {
  const ct_prop *sp;           /* NULL: the end of a list */
  int field, t, en;
} qprop;

#define QNAME(q) ((q)->sp->name)
#define CURRENT_STATUS (ct_task_props[CT_TASK_CURRENTSTATUS].name)

static const qprop job_props[] = {
  { &ct_job_props[CT_JOB_ID], F_ID, V_GUID, 0 },
  { &ct_job_props[CT_JOB_DISPLAYNAME], F_DISPLAYNAME, V_STR, 0 },
  { &ct_job_props[CT_JOB_JOBTYPE], F_JOBTYPE, V_ENUM, E_JOBTYPE },
  { &ct_job_props[CT_JOB_SOURCETENANTID], F_SOURCE, V_GUID, 0 },
  { &ct_job_props[CT_JOB_TARGETTENANTID], F_TARGET, V_GUID, 0 },
  { &ct_job_props[CT_JOB_COMPLETEAFTER], F_CAD, V_TIME, 0 },
  { &ct_job_props[CT_JOB_STATUS], F_STATUS, V_ENUM, E_JOBSTATUS },
  { &ct_job_props[CT_JOB_MESSAGE], F_MESSAGE, V_STR, 0 },
  { &ct_job_props[CT_JOB_CREATED], F_CREATED, V_TIME, 0 },
  { &ct_job_props[CT_JOB_CREATEDBY], F_CREATEDBY, V_STR, 0 },
  { &ct_job_props[CT_JOB_UPDATED], F_UPDATED, V_TIME, 0 },
  { &ct_job_props[CT_JOB_RESOURCETYPE], F_RESOURCETYPE, V_STR, 0 },
  { NULL, 0, 0, 0 }
};
static const qprop task_props[] = {
  { &ct_task_props[CT_TASK_ID], F_TID, V_GUID, 0 },
  { &ct_task_props[CT_TASK_TASKTYPE], F_TASKTYPE, V_STR, 0 },
  { &ct_task_props[CT_TASK_LASTUPDATED], F_TUPDATED, V_TIME, 0 },
  { NULL, 0, 0, 0 }
};
static const qprop entry_props[] = {
  { &ct_status_props[CT_STATUS_SERVICE], F_SERVICE, V_STR, 0 },
  { &ct_status_props[CT_STATUS_STATUS], F_SSTATUS, V_ENUM, E_SVCSTATUS },
  { &ct_status_props[CT_STATUS_MESSAGE], F_SMESSAGE, V_STR, 0 },
  { NULL, 0, 0, 0 }
};

static const char *enum_type_name(int en) {
  return en == E_JOBSTATUS ? CT_ENUM_JOB_STATUS
       : en == E_JOBTYPE ? CT_ENUM_JOB_TYPE
       : CT_ENUM_SVC_STATUS;
}

/* a member by name: statuses in any case, job types exactly */
static int enum_find(int en, const char *s, size_t n) {
  if (en == E_JOBSTATUS) return ct_job_status_find(s, n);
  if (en == E_SVCSTATUS) return ct_svc_status_find(s, n);
  return ct_names_find(ct_job_type_names, s, n, 1);
}

/* ---------- the tree ---------- */

enum { N_OR, N_AND, N_NOT, N_CMP, N_IN, N_STARTS, N_ANY, N_ALL, N_CONST };
enum { OP_EQ, OP_NE, OP_GT, OP_GE, OP_LT, OP_LE };

typedef struct operand {
  int isprop;
  const qprop *p;      /* isprop */
  val lit;             /* !isprop */
} operand;

typedef struct node node;
struct node {
  int kind, op, boolval;
  node *a, *b;
  operand l, r;
  val *list;           /* N_IN */
  size_t nlist;
};

typedef struct okey { const qprop *p; int desc; } okey;

struct ct_query {
  int target;
  ct_arena arena;
  node *filter;        /* NULL: every item */
  okey keys[MAX_KEYS];
  int nkeys;
  uint32_t hash;       /* of the option texts: tokens belong to a query */
};

/* ---------- the parser ---------- */

typedef struct parser {
  const char *s;
  size_t n, i;
  ct_query *q;
  ct_err *e;
  const char *opt;     /* "$filter" or "$orderby" */
  const char *var;     /* lambda variable, or NULL */
  size_t nvar;
  int depth;
} parser;

/* 400 "Invalid <option>: <fmt> at position <at>."; returns -1 */
static int perr(parser *p, size_t at, const char *fmt, ...) CT_PRINTF(3, 4);
static int perr(parser *p, size_t at, const char *fmt, ...) {
  ct_msg m;
  va_list ap;
  ct_err_start(p->e, 400, "invalidRequest", "invalidQueryOption", &m);
  ct_msg_addf(&m, "Invalid %s: ", p->opt);
  va_start(ap, fmt);
  ct_msg_vaddf(&m, fmt, ap);
  va_end(ap);
  ct_msg_addf(&m, " at position %zu.", at);
  return -1;
}

/* a token quoted for a message: at most 60 bytes, control bytes as ? */
static const char *tok(parser *p, size_t at, size_t n, char *buf) {
  ct_msg m;
  ct_msg_init(&m, buf, 64);
  if (at < p->n)                          /* never past the text */
    ct_msg_quote(&m, p->s + at, n > p->n - at ? p->n - at : n, 60, 0);
  return buf;
}

/* a decoded literal quoted for a message, as tok() quotes the text */
static const char *lit_text(const val *v, char *buf) {
  ct_msg m;
  ct_msg_init(&m, buf, 64);
  ct_msg_quote(&m, v->s, v->n, 60, 0);
  return buf;
}

static void skip_ws(parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
    p->i++;
}

static int is_ident(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* length of the word at the cursor ([A-Za-z_][A-Za-z0-9_.]*) */
static size_t word_len(const parser *p) {
  size_t k = p->i;
  if (k >= p->n || !(is_ident((unsigned char)p->s[k]) &&
                     !(p->s[k] >= '0' && p->s[k] <= '9')))
    return 0;
  while (k < p->n && (is_ident((unsigned char)p->s[k]) || p->s[k] == '.'))
    k++;
  return k - p->i;
}

static int word_is(const parser *p, const char *w) {
  size_t n = strlen(w);
  return word_len(p) == n && memcmp(p->s + p->i, w, n) == 0;
}

static int expect(parser *p, char c) {
  char buf[64];
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == c) {
    p->i++;
    return 0;
  }
  if (p->i >= p->n) {
    buf[0] = c;
    buf[1] = '\0';
    return perr(p, p->i, "expected '%s' but the text ended", buf);
  }
  return perr(p, p->i, "unexpected '%s'", tok(p, p->i, 1, buf));
}

/* 'text' with '' for a quote, copied into the arena */
static int read_string(parser *p, val *v) {
  size_t start = p->i, k = p->i + 1, m = 0;
  char *out;
  for (;;) {
    if (k >= p->n) return perr(p, start, "unterminated string");
    if (p->s[k] == '\'') {
      if (k + 1 < p->n && p->s[k + 1] == '\'') { k += 2; m++; continue; }
      break;
    }
    k++;
    m++;
  }
  out = ct_arena_alloc(&p->q->arena, m + 1);
  if (out == NULL) return perr(p, start, "out of memory");
  m = 0;
  for (k = start + 1; p->s[k] != '\'' || (k + 1 < p->n &&
                                          p->s[k + 1] == '\''); k++) {
    out[m++] = p->s[k];
    if (p->s[k] == '\'') k++;
  }
  out[m] = '\0';
  v->t = V_STR;
  v->s = out;
  v->n = m;
  p->i = k + 1;
  return 0;
}

/* a literal that is not a string: GUID, DateTimeOffset, number */
static int read_bare(parser *p, val *v) {
  size_t start = p->i, k = p->i;
  const char *why;
  ct_time t;
  char buf[64];
  if (p->i + 36 <= p->n && ct_guid_parse(p->s + p->i, 36, &v->g) == 0 &&
      (p->i + 36 == p->n || !is_ident((unsigned char)p->s[p->i + 36]))) {
    v->t = V_GUID;
    p->i += 36;
    return 0;
  }
  while (k < p->n && (is_ident((unsigned char)p->s[k]) || p->s[k] == ':' ||
                      p->s[k] == '.' || p->s[k] == '-' || p->s[k] == '+'))
    k++;
  p->i = k;
  if (ct_time_parse(p->s + start, k - start, &t, &why) == 0) {
    v->t = V_TIME;
    v->i = t.ticks;
    return 0;
  }
  if (k - start >= 19 && p->s[start + 4] == '-' && p->s[start + 7] == '-' &&
      (p->s[start + 10] == 'T' || p->s[start + 10] == 't')) {
    /* shaped like a date-time: say what is wrong with it */
    return perr(p, start, "'%s' is not a valid DateTimeOffset (%s)",
                tok(p, start, k - start, buf), why);
  }
  if (k - start < sizeof buf) {
    char *end;
    memcpy(buf, p->s + start, k - start);
    buf[k - start] = '\0';
    if (strspn(buf + (buf[0] == '-'), "0123456789") ==
        strlen(buf + (buf[0] == '-')) && strlen(buf) > (size_t)(buf[0] == '-')) {
      v->t = V_INT;
      v->i = strtoll(buf, &end, 10);
      return 0;
    }
    v->d = strtod(buf, &end);
    if (*end == '\0' && end != buf) {
      v->t = V_NUM;
      return 0;
    }
  }
  return perr(p, start, "'%s' is not a literal",
              tok(p, start, k - start ? k - start : 1, buf));
}

/* s[0..n) and the NUL-terminated w equal, ASCII case-insensitively */
static int same_name(const char *s, size_t n, const char *w) {
  size_t k;
  for (k = 0; k < n; k++) {
    int a = (unsigned char)s[k], b = (unsigned char)w[k];
    if (b == '\0') return 0;
    if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
    if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
    if (a != b) return 0;
  }
  return w[n] == '\0';
}

/* a property by name: property names match case-insensitively, as on
   Graph's directory resources (keywords and enum members do not) */
static const qprop *find_prop(const qprop *props, const char *s, size_t n) {
  for (; props->sp != NULL; props++)
    if (same_name(s, n, QNAME(props))) return props;
  return NULL;
}

static const char *type_name(int t) {
  switch (t) {
    case V_NULL: return "null";
    case V_BOOL: return "a boolean";
    case V_INT: case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_TIME: return "a DateTimeOffset";
    case V_ENUM: return "an enum";
    default: return "a GUID";
  }
}

static int parse_or(parser *p, node **out);

/* an operand: a property (of the item or of the lambda variable) or a
   literal; `at` receives where it started */
static int parse_operand(parser *p, operand *o, size_t *at) {
  size_t w;
  char buf[64];
  skip_ws(p);
  *at = p->i;
  memset(o, 0, sizeof *o);
  if (p->i >= p->n) return perr(p, p->i, "expected an operand but the "
                                "text ended");
  if (p->s[p->i] == '\'') return read_string(p, &o->lit);
  w = word_len(p);
  if (w > 0 && p->i + w < p->n && p->s[p->i + w] == '\'') {
    /* Namespace.EnumType'member' */
    const char *dot = NULL;
    size_t k, start = p->i;
    int en = -1;
    for (k = 0; k < w; k++) if (p->s[p->i + k] == '.') dot = p->s + p->i + k;
    if (dot != NULL) {
      size_t tn = (size_t)(p->s + p->i + w - dot - 1);
      int c;
      for (c = E_JOBSTATUS; c <= E_SVCSTATUS; c++)
        if (strlen(enum_type_name(c)) == tn &&
            memcmp(dot + 1, enum_type_name(c), tn) == 0) en = c;
    }
    if (en < 0)
      return perr(p, start, "unknown enum type '%s'", tok(p, start, w, buf));
    p->i += w;
    if (read_string(p, &o->lit) != 0) return -1;
    o->lit.t = V_ENUM;
    o->lit.en = en;
    o->lit.i = enum_find(en, o->lit.s, o->lit.n);
    if (o->lit.i < 0) {
      char lb[64];
      return perr(p, start, "'%s' is not a %s value", lit_text(&o->lit, lb),
                  enum_type_name(en));
    }
    return 0;
  }
  if (w > 0 && !(p->i + 36 <= p->n &&
                 ct_guid_parse(p->s + p->i, 36, &o->lit.g) == 0)) {
    const qprop *props = p->q->target == CT_Q_JOBS ? job_props : task_props;
    const qprop *pr;
    size_t start = p->i;
    if (word_is(p, "true") || word_is(p, "false") || word_is(p, "null")) {
      o->lit.t = word_is(p, "null") ? V_NULL : V_BOOL;
      o->lit.i = word_is(p, "true");
      p->i += w;
      return 0;
    }
    if (p->var != NULL && w == p->nvar &&
        memcmp(p->s + p->i, p->var, w) == 0) {
      size_t pw;
      p->i += w;
      if (p->i >= p->n || p->s[p->i] != '/')
        return perr(p, p->i, "expected '/' after the lambda variable");
      p->i++;
      pw = word_len(p);
      pr = find_prop(entry_props, p->s + p->i, pw);
      if (pr == NULL)
        return perr(p, p->i, "unknown property '%s' of %s",
                    tok(p, p->i, pw ? pw : 1, buf),
                    ct_type_status_details.name + strlen("microsoft.graph."));
      p->i += pw;
      o->isprop = 1;
      o->p = pr;
      return 0;
    }
    pr = find_prop(props, p->s + p->i, w);
    if (pr == NULL)
      return perr(p, start, "unknown property '%s'", tok(p, start, w, buf));
    p->i += w;
    o->isprop = 1;
    o->p = pr;
    return 0;
  }
  return read_bare(p, &o->lit);
}

static int optype(const operand *o) { return o->isprop ? o->p->t : o->lit.t; }

/*
** Check that l and r can be compared with `op`; turn a string literal
** into the property's enum member or GUID.
*/
static int typecheck(parser *p, operand *l, operand *r, int op,
                     size_t at) {
  operand *prop = l->isprop ? l : r, *lit = l->isprop ? r : l;
  if (!l->isprop && !r->isprop) {
    if (optype(l) != optype(r) &&
        !((optype(l) == V_INT || optype(l) == V_NUM) &&
          (optype(r) == V_INT || optype(r) == V_NUM)))
      goto mismatch;
    return 0;
  }
  if (l->isprop && r->isprop) {
    if (l->p->t != r->p->t || l->p->en != r->p->en) goto mismatch;
    return 0;
  }
  if (lit->lit.t == V_NULL) {
    if (op != OP_EQ && op != OP_NE)
      return perr(p, at, "null can only be compared with eq or ne");
    return 0;
  }
  switch (prop->p->t) {
    case V_STR:
      if (lit->lit.t != V_STR) goto mismatch;
      return 0;
    case V_TIME:
      if (lit->lit.t != V_TIME) goto mismatch;
      return 0;
    case V_GUID:
      if (lit->lit.t == V_STR) {
        if (ct_guid_parse(lit->lit.s, lit->lit.n, &lit->lit.g) != 0) {
          char lb[64];
          return perr(p, at, "'%s' is not a GUID, as '%s' needs",
                      lit_text(&lit->lit, lb), QNAME(prop->p));
        }
        lit->lit.t = V_GUID;
      }
      if (lit->lit.t != V_GUID) goto mismatch;
      return 0;
    default:   /* V_ENUM */
      if (lit->lit.t == V_STR) {
        int k = enum_find(prop->p->en, lit->lit.s, lit->lit.n);
        if (k < 0) {
          char lb[64];
          return perr(p, at, "'%s' is not a %s value",
                      lit_text(&lit->lit, lb), enum_type_name(prop->p->en));
        }
        lit->lit.t = V_ENUM;
        lit->lit.en = prop->p->en;
        lit->lit.i = k;
      }
      if (lit->lit.t != V_ENUM || lit->lit.en != prop->p->en) goto mismatch;
      return 0;
  }
mismatch:
  return perr(p, at, "%s%s%s is %s and can't be compared with %s",
              l->isprop ? "'" : "",
              l->isprop ? QNAME(l->p) : type_name(optype(l)),
              l->isprop ? "'" : "", type_name(optype(l)),
              type_name(optype(r)));
}

static node *new_node(parser *p, int kind) {
  node *n = ct_arena_alloc(&p->q->arena, sizeof *n);
  if (n != NULL) {
    memset(n, 0, sizeof *n);
    n->kind = kind;
  }
  return n;
}

static const char *const op_names[] = { "eq", "ne", "gt", "ge", "lt", "le" };

static int parse_lambda(parser *p, node **out, size_t at) {
  int all;
  size_t w;
  char buf[64];
  node *n;
  p->i += strlen(CURRENT_STATUS);
  if (p->q->target != CT_Q_TASKS)
    return perr(p, at, "unknown property '%s'", CURRENT_STATUS);
  if (p->var != NULL)
    return perr(p, at, "a lambda can't be nested in a lambda");
  if (expect(p, '/') != 0) return -1;
  all = word_is(p, "all");
  if (!all && !word_is(p, "any"))
    return perr(p, p->i, "expected any or all after 'currentStatus/', "
                "not '%s'", tok(p, p->i, word_len(p) ? word_len(p) : 1,
                                buf));
  p->i += 3;
  if (expect(p, '(') != 0) return -1;
  n = new_node(p, all ? N_ALL : N_ANY);
  if (n == NULL) return perr(p, at, "out of memory");
  skip_ws(p);
  if (p->i < p->n && p->s[p->i] == ')') {
    if (all) return perr(p, p->i, "all() needs a lambda expression");
    p->i++;
    *out = n;                 /* any(): the collection is not empty */
    return 0;
  }
  w = word_len(p);
  if (w == 0) return perr(p, p->i, "expected a lambda variable");
  p->var = p->s + p->i;
  p->nvar = w;
  p->i += w;
  if (expect(p, ':') != 0 || parse_or(p, &n->a) != 0) return -1;
  p->var = NULL;
  if (expect(p, ')') != 0) return -1;
  *out = n;
  return 0;
}

static int parse_primary(parser *p, node **out) {
  node *n;
  operand l, r;
  size_t at, opat, w;
  int op;
  char buf[64];
  skip_ws(p);
  at = p->i;
  if (p->i < p->n && p->s[p->i] == '(') {
    p->i++;
    if (++p->depth > MAX_DEPTH)
      return perr(p, at, "nesting deeper than %d", MAX_DEPTH);
    if (parse_or(p, out) != 0) return -1;
    p->depth--;
    return expect(p, ')');
  }
  if (word_is(p, "startswith")) {
    p->i += 10;
    n = new_node(p, N_STARTS);
    if (n == NULL) return perr(p, at, "out of memory");
    if (expect(p, '(') != 0 || parse_operand(p, &n->l, &opat) != 0)
      return -1;
    if (!n->l.isprop || n->l.p->t != V_STR)
      return perr(p, opat, "startswith needs a string property first");
    if (expect(p, ',') != 0 || parse_operand(p, &n->r, &opat) != 0)
      return -1;
    if (n->r.isprop || n->r.lit.t != V_STR)
      return perr(p, opat, "startswith needs a string literal second");
    if (expect(p, ')') != 0) return -1;
    *out = n;
    return 0;
  }
  if (word_len(p) == strlen(CURRENT_STATUS) &&
      same_name(p->s + p->i, strlen(CURRENT_STATUS), CURRENT_STATUS))
    return parse_lambda(p, out, at);
  w = word_len(p);
  if (w > 0 && p->i + w < p->n && p->s[p->i + w] == '(' &&
      !word_is(p, "not"))
    return perr(p, at, "unsupported function '%s'", tok(p, at, w, buf));
  if (parse_operand(p, &l, &at) != 0) return -1;
  skip_ws(p);
  opat = p->i;
  if (word_is(p, "in")) {
    size_t cap = 8;
    p->i += 2;
    n = new_node(p, N_IN);
    if (n == NULL) return perr(p, at, "out of memory");
    n->l = l;
    n->list = ct_arena_alloc(&p->q->arena, cap * sizeof(val));
    if (n->list == NULL || expect(p, '(') != 0) return -1;
    for (;;) {
      size_t lat;
      if (n->nlist == cap) {
        val *grown = ct_arena_alloc(&p->q->arena, 2 * cap * sizeof(val));
        if (grown == NULL) return perr(p, at, "out of memory");
        memcpy(grown, n->list, cap * sizeof(val));
        n->list = grown;
        cap *= 2;
      }
      if (parse_operand(p, &r, &lat) != 0) return -1;
      if (r.isprop) return perr(p, lat, "'in' takes only literals");
      if (typecheck(p, &l, &r, OP_EQ, lat) != 0) return -1;
      n->list[n->nlist++] = r.lit;
      skip_ws(p);
      if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
      break;
    }
    if (expect(p, ')') != 0) return -1;
    *out = n;
    return 0;
  }
  for (op = 0; op < 6; op++) if (word_is(p, op_names[op])) break;
  if (op == 6) {
    if (!l.isprop && l.lit.t == V_BOOL) {     /* true / false alone */
      n = new_node(p, N_CONST);
      if (n == NULL) return perr(p, at, "out of memory");
      n->boolval = (int)l.lit.i;
      *out = n;
      return 0;
    }
    if (p->i >= p->n)
      return perr(p, p->i, "expected an operator but the text ended");
    w = word_len(p);
    return perr(p, p->i, "expected an operator (eq, ne, gt, ge, lt, le, "
                "in), not '%s'", tok(p, p->i, w ? w : 1, buf));
  }
  p->i += 2;
  if (parse_operand(p, &r, &at) != 0) return -1;
  if (typecheck(p, &l, &r, op, opat) != 0) return -1;
  if (op != OP_EQ && op != OP_NE &&
      ((l.isprop && l.p->t == V_GUID) || (r.isprop && r.p->t == V_GUID)))
    return perr(p, opat, "GUIDs can only be compared with eq or ne");
  n = new_node(p, N_CMP);
  if (n == NULL) return perr(p, at, "out of memory");
  n->op = op;
  n->l = l;
  n->r = r;
  *out = n;
  return 0;
}

static int parse_unary(parser *p, node **out) {
  skip_ws(p);
  if (word_is(p, "not")) {
    node *n = new_node(p, N_NOT);
    size_t at = p->i;
    if (n == NULL) return perr(p, p->i, "out of memory");
    p->i += 3;
    if (++p->depth > MAX_DEPTH)
      return perr(p, at, "nesting deeper than %d", MAX_DEPTH);
    if (parse_unary(p, &n->a) != 0) return -1;
    p->depth--;
    *out = n;
    return 0;
  }
  return parse_primary(p, out);
}

static int parse_and(parser *p, node **out) {
  if (parse_unary(p, out) != 0) return -1;
  for (;;) {
    node *n;
    skip_ws(p);
    if (!word_is(p, "and")) return 0;
    p->i += 3;
    n = new_node(p, N_AND);
    if (n == NULL) return perr(p, p->i, "out of memory");
    n->a = *out;
    if (parse_unary(p, &n->b) != 0) return -1;
    *out = n;
  }
}

static int parse_or(parser *p, node **out) {
  if (parse_and(p, out) != 0) return -1;
  for (;;) {
    node *n;
    skip_ws(p);
    if (!word_is(p, "or")) return 0;
    p->i += 2;
    n = new_node(p, N_OR);
    if (n == NULL) return perr(p, p->i, "out of memory");
    n->a = *out;
    if (parse_and(p, &n->b) != 0) return -1;
    *out = n;
  }
}

static int parse_orderby(parser *p) {
  const qprop *props = p->q->target == CT_Q_JOBS ? job_props : task_props;
  char buf[64];
  for (;;) {
    size_t w, at;
    const qprop *pr;
    int k;
    skip_ws(p);
    at = p->i;
    w = word_len(p);
    if (w == 0) {
      if (p->i >= p->n)
        return perr(p, p->i, "expected a property but the text ended");
      return perr(p, p->i, "expected a property, not '%s'",
                  tok(p, p->i, 1, buf));
    }
    pr = find_prop(props, p->s + p->i, w);
    if (pr == NULL)
      return perr(p, at, "unknown property '%s'", tok(p, at, w, buf));
    for (k = 0; k < p->q->nkeys; k++)
      if (p->q->keys[k].p == pr)
        return perr(p, at, "'%s' is given twice", QNAME(pr));
    if (p->q->nkeys == MAX_KEYS)
      return perr(p, at, "more than %d keys", MAX_KEYS);
    p->i += w;
    p->q->keys[p->q->nkeys].p = pr;
    p->q->keys[p->q->nkeys].desc = 0;
    skip_ws(p);
    if (word_is(p, "desc") || word_is(p, "asc")) {
      p->q->keys[p->q->nkeys].desc = word_is(p, "desc");
      p->i += word_len(p);
      skip_ws(p);
    }
    p->q->nkeys++;
    if (p->i >= p->n) return 0;
    if (p->s[p->i] != ',')
      return perr(p, p->i, "expected ',' or the end, not '%s'",
                  tok(p, p->i, word_len(p) ? word_len(p) : 1, buf));
    p->i++;
  }
}

static uint32_t fnv(uint32_t h, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

ct_query *ct_query_new(int target, const char *filter, size_t nfilter,
                       const char *orderby, size_t norderby, ct_err *e) {
  ct_query *q = ct_calloc(1, sizeof *q);
  parser p;
  if (q == NULL) {
    ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
    return NULL;
  }
  q->target = target;
  ct_arena_init(&q->arena);
  q->hash = fnv(fnv(2166136261u + (uint32_t)target, filter ? filter : "",
                    filter ? nfilter : 0), "|", 1);
  q->hash = fnv(q->hash, orderby ? orderby : "", orderby ? norderby : 0);
  memset(&p, 0, sizeof p);
  p.q = q;
  p.e = e;
  if (filter != NULL) {
    p.s = filter;
    p.n = nfilter;
    p.opt = "$filter";
    if (nfilter > MAX_FILTER) {
      perr(&p, MAX_FILTER, "longer than %d bytes", MAX_FILTER);
      goto fail;
    }
    skip_ws(&p);
    if (p.i >= p.n) {
      perr(&p, p.i, "the expression is empty");
      goto fail;
    }
    if (parse_or(&p, &q->filter) != 0) goto fail;
    skip_ws(&p);
    if (p.i < p.n) {
      char buf[64];
      size_t w = word_len(&p);
      perr(&p, p.i, "unexpected '%s'", tok(&p, p.i, w ? w : 1, buf));
      goto fail;
    }
  }
  if (orderby != NULL) {
    p.s = orderby;
    p.n = norderby;
    p.i = 0;
    p.opt = "$orderby";
    if (norderby > MAX_FILTER) {
      perr(&p, MAX_FILTER, "longer than %d bytes", MAX_FILTER);
      goto fail;
    }
    if (parse_orderby(&p) != 0) goto fail;
  }
  return q;
fail:
  ct_query_free(q);
  return NULL;
}

void ct_query_free(ct_query *q) {
  if (q == NULL) return;
  ct_arena_free(&q->arena);
  free(q);
}

/* ---------- evaluation ---------- */

typedef struct ectx {
  const ct_job *job;
  const ct_task *task;
  int entry;
} ectx;

static val field(int f, const ectx *c) {
  val v;
  memset(&v, 0, sizeof v);
  switch (f) {
    case F_ID: v.t = V_GUID; v.g = c->job->id; break;
    case F_DISPLAYNAME: v.t = V_STR; v.s = c->job->displayName.p;
      v.n = c->job->displayName.n; break;
    case F_JOBTYPE: v.t = V_ENUM; v.en = E_JOBTYPE; v.i = c->job->jobType;
      break;
    case F_SOURCE: v.t = V_GUID; v.g = c->job->sourceTenantId; break;
    case F_TARGET: v.t = V_GUID; v.g = c->job->tenant->id; break;
    case F_CAD: v.t = V_TIME; v.i = c->job->completeAfter.ticks; break;
    case F_STATUS: v.t = V_ENUM; v.en = E_JOBSTATUS; v.i = c->job->status;
      break;
    case F_MESSAGE: v.t = V_STR; v.s = c->job->message;
      v.n = strlen(c->job->message); break;     /* the service's text */
    case F_CREATED: v.t = V_TIME; v.i = c->job->created.ticks; break;
    case F_CREATEDBY: v.t = V_STR; v.s = c->job->createdBy.p;
      v.n = c->job->createdBy.n; break;
    case F_UPDATED: v.t = V_TIME; v.i = c->job->updated.ticks; break;
    case F_RESOURCETYPE: v.t = V_STR; v.s = c->job->resourceType.p;
      v.n = c->job->resourceType.n; break;
    case F_TID: v.t = V_GUID; v.g = c->task->id; break;
    case F_TASKTYPE: v.t = V_STR; v.s = ct_task_type(c->task, &v.n); break;
    case F_TUPDATED: v.t = V_TIME; v.i = c->task->updated; break;
    case F_SERVICE: v.t = V_STR;
      v.s = ct_service_name(c->task->svc[c->entry]); v.n = strlen(v.s);
      break;
    case F_SSTATUS: v.t = V_ENUM; v.en = E_SVCSTATUS;
      v.i = c->task->st[c->entry]; break;
    default: v.t = V_STR; v.s = ct_task_message(c->task, c->entry, &v.n);
      break;
  }
  return v;
}

static val eval_operand(const operand *o, const ectx *c) {
  return o->isprop ? field(o->p->field, c) : o->lit;
}

/* -1, 0, 1; 2 when the two can't be ordered (null against a value) */
static int cmpval(const val *a, const val *b) {
  if (a->t == V_NULL || b->t == V_NULL) return a->t == b->t ? 0 : 2;
  switch (a->t) {
    case V_STR: {
      size_t n = a->n < b->n ? a->n : b->n;
      int r = memcmp(a->s, b->s, n);
      if (r != 0) return r < 0 ? -1 : 1;
      return a->n < b->n ? -1 : a->n > b->n;
    }
    case V_GUID: {
      int r = memcmp(a->g.b, b->g.b, 16);
      return r < 0 ? -1 : r > 0;
    }
    case V_NUM: case V_INT: {
      double x = a->t == V_NUM ? a->d : (double)a->i;
      double y = b->t == V_NUM ? b->d : (double)b->i;
      return x < y ? -1 : x > y;
    }
    default:
      return a->i < b->i ? -1 : a->i > b->i;
  }
}

static int test_op(int op, int r) {
  if (r == 2) return op == OP_NE;
  switch (op) {
    case OP_EQ: return r == 0;
    case OP_NE: return r != 0;
    case OP_GT: return r > 0;
    case OP_GE: return r >= 0;
    case OP_LT: return r < 0;
    default: return r <= 0;
  }
}

static int eval(const node *n, ectx *c) {
  val a, b;
  size_t k;
  int i;
  switch (n->kind) {
    case N_OR: return eval(n->a, c) || eval(n->b, c);
    case N_AND: return eval(n->a, c) && eval(n->b, c);
    case N_NOT: return !eval(n->a, c);
    case N_CONST: return n->boolval;
    case N_CMP:
      a = eval_operand(&n->l, c);
      b = eval_operand(&n->r, c);
      return test_op(n->op, cmpval(&a, &b));
    case N_IN:
      a = eval_operand(&n->l, c);
      for (k = 0; k < n->nlist; k++)
        if (cmpval(&a, &n->list[k]) == 0) return 1;
      return 0;
    case N_STARTS:
      a = eval_operand(&n->l, c);
      b = eval_operand(&n->r, c);
      return a.n >= b.n && memcmp(a.s, b.s, b.n) == 0;
    case N_ANY:
      if (n->a == NULL) return c->task->n > 0;
      for (i = 0; i < c->task->n; i++) {
        c->entry = i;
        if (eval(n->a, c)) return 1;
      }
      return 0;
    default:   /* N_ALL */
      for (i = 0; i < c->task->n; i++) {
        c->entry = i;
        if (!eval(n->a, c)) return 0;
      }
      return 1;
  }
}

int ct_query_match_job(const ct_query *q, const ct_job *j) {
  ectx c;
  if (q == NULL || q->filter == NULL) return 1;
  c.job = j;
  c.task = NULL;
  c.entry = 0;
  return eval(q->filter, &c);
}

int ct_query_match_task(const ct_query *q, const ct_task *t) {
  ectx c;
  if (q == NULL || q->filter == NULL) return 1;
  c.job = NULL;
  c.task = t;
  c.entry = 0;
  return eval(q->filter, &c);
}

/* ---------- order and cursors ---------- */

/* where a page starts: the last item given and its sort key */
typedef struct cursor {
  uint64_t pos;                 /* job seq, or task index */
  val keys[MAX_KEYS];
} cursor;

static void item_keys(const ct_query *q, const ectx *c, val *out) {
  int k;
  for (k = 0; k < q->nkeys; k++) out[k] = field(q->keys[k].p->field, c);
}

/* order of (keys a, pos a) against (keys b, pos b): negative, 0, positive */
static int cmp_keys(const ct_query *q, const val *ka, uint64_t pa,
                    const val *kb, uint64_t pb) {
  int k;
  for (k = 0; k < q->nkeys; k++) {
    int r = cmpval(&ka[k], &kb[k]);
    if (r != 0) return q->keys[k].desc ? -r : r;
  }
  if (pa == pb) return 0;
  /* the default order breaks ties: jobs newest first, tasks as added */
  if (q->target == CT_Q_JOBS) return pa > pb ? -1 : 1;
  return pa < pb ? -1 : 1;
}

static void hex_add(ct_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    ct_buf_addc(b, hex[(unsigned char)s[i] >> 4]);
    ct_buf_addc(b, hex[(unsigned char)s[i] & 15]);
  }
}

static void make_token(const ct_query *q, uint64_t pos, const val *keys,
                       ct_buf *out) {
  char tmp[64];
  int k;
  snprintf(tmp, sizeof tmp, "%c1~%08x~%llu", q->target == CT_Q_JOBS ? 'J'
           : 'T', (unsigned)q->hash, (unsigned long long)pos);
  ct_buf_adds(out, tmp);
  for (k = 0; k < q->nkeys; k++) {
    const val *v = &keys[k];
    ct_buf_addc(out, '~');
    if (v->t == V_STR) {
      ct_buf_addc(out, 's');
      hex_add(out, v->s, v->n);
    } else if (v->t == V_GUID) {
      ct_buf_addc(out, 's');
      hex_add(out, (const char *)v->g.b, 16);
    } else {
      snprintf(tmp, sizeof tmp, "i%lld", (long long)v->i);
      ct_buf_adds(out, tmp);
    }
  }
}

static int hexv(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* read a token of this query into *cur (strings go to the arena `a`) */
static int read_token(const ct_query *q, const char *t, cursor *cur,
                      ct_arena *a, ct_err *e) {
  char want[40];
  size_t n = strlen(t), i;
  int k;
  char *end;
  snprintf(want, sizeof want, "%c1~%08x~", q->target == CT_Q_JOBS ? 'J'
           : 'T', (unsigned)q->hash);
  if (strncmp(t, want, strlen(want)) != 0) goto bad;
  i = strlen(want);
  if (t[i] < '0' || t[i] > '9') goto bad;
  errno = 0;
  cur->pos = strtoull(t + i, &end, 10);
  /* a forged position: saturated, or past every collection */
  if (errno == ERANGE || cur->pos == UINT64_MAX) goto bad;
  i = (size_t)(end - t);
  for (k = 0; k < q->nkeys; k++) {
    val *v = &cur->keys[k];
    int want_t = q->keys[k].p->t;
    memset(v, 0, sizeof *v);
    if (t[i] != '~') goto bad;
    i++;
    if (t[i] == 's' && (want_t == V_STR || want_t == V_GUID)) {
      size_t start = ++i, m;
      char *s;
      while (i < n && t[i] != '~') i++;
      if ((i - start) % 2 != 0) goto bad;
      m = (i - start) / 2;
      s = ct_arena_alloc(a, m + 1);
      if (s == NULL) goto bad;
      for (size_t x = 0; x < m; x++) {
        int hi = hexv(t[start + 2 * x]), lo = hexv(t[start + 2 * x + 1]);
        if (hi < 0 || lo < 0) goto bad;
        s[x] = (char)(hi * 16 + lo);
      }
      s[m] = '\0';
      if (want_t == V_GUID) {
        if (m != 16) goto bad;
        v->t = V_GUID;
        memcpy(v->g.b, s, 16);
      } else {
        v->t = V_STR;
        v->s = s;
        v->n = m;
      }
    } else if (t[i] == 'i' && want_t != V_STR && want_t != V_GUID) {
      i++;
      if (!(t[i] == '-' || (t[i] >= '0' && t[i] <= '9'))) goto bad;
      v->t = want_t;
      v->en = q->keys[k].p->en;
      v->i = strtoll(t + i, &end, 10);
      i = (size_t)(end - t);
    } else {
      goto bad;
    }
  }
  if (i != n) goto bad;
  return 0;
bad:
  ct_query_bad_token(t, n, e);
  return -1;
}

void ct_query_bad_token(const char *t, size_t n, ct_err *e) {
  char shown[70];
  size_t m = n > 60 ? 60 : n, x;
  for (x = 0; x < m; x++)
    shown[x] = ((unsigned char)t[x] < 0x20) ? '?' : t[x];
  shown[m] = '\0';
  ct_err_set(e, 400, "invalidRequest", "invalidQueryOption",
             "The $skiptoken value '%s' is not valid for this "
             "collection and query.", shown);
}

/* ---------- pages ---------- */

typedef struct cand {
  uint64_t pos;                /* job seq or task index */
  size_t index;                /* in the collection's array */
  val keys[MAX_KEYS];
} cand;

static int cand_cmp_q(const ct_query *q, const cand *a, const cand *b) {
  return cmp_keys(q, a->keys, a->pos, b->keys, b->pos);
}

/* insertion into a sorted array keeps the `cap` first candidates */
static void keep(const ct_query *q, cand *best, size_t *nbest, size_t cap,
                 const cand *c) {
  size_t i = *nbest;
  if (cap == 0) return;
  if (*nbest == cap) {
    if (cand_cmp_q(q, c, &best[cap - 1]) >= 0) return;
    i = cap - 1;
  } else {
    (*nbest)++;
  }
  while (i > 0 && cand_cmp_q(q, c, &best[i - 1]) < 0) {
    best[i] = best[i - 1];
    i--;
  }
  best[i] = *c;
}

/* how many candidates to keep: skip + top + 1, but never more than the
   collection holds (a huge $skip must not size an allocation) */
static size_t keep_cap(size_t skip, size_t top, size_t n) {
  size_t cap = n + 1;
  if (skip < cap && top < cap - skip) cap = skip + top + 1;
  return cap;
}

/*
** A collection seen the same way for jobs and tasks: item i is jobs[i]
** or job->tasks[i]; its position is the job's seq or the task's index;
** the default order is newest job first, tasks as added.
*/
typedef struct coll {
  const ct_query *q;
  ct_job *const *jobs;         /* jobs, or NULL for a job's tasks */
  const ct_job *job;
  size_t n;
} coll;

static void coll_ctx(const coll *c, size_t i, ectx *x) {
  x->job = c->jobs ? c->jobs[i] : c->job;
  x->task = c->jobs ? NULL : &c->job->tasks[i];
  x->entry = 0;
}

static int coll_match(const coll *c, size_t i) {
  return c->jobs ? ct_query_match_job(c->q, c->jobs[i])
                 : ct_query_match_task(c->q, &c->job->tasks[i]);
}

static uint64_t coll_pos(const coll *c, size_t i) {
  return c->jobs ? c->jobs[i]->seq : (uint64_t)i;
}

/* the array index of the o-th item in the default order */
static size_t coll_at(const coll *c, size_t o) {
  return c->jobs ? c->n - 1 - o : o;
}

/* where the default order resumes after the item at position `pos` */
static size_t coll_resume(const coll *c, uint64_t pos) {
  size_t lo = 0, hi = c->n;
  if (!c->jobs) return pos >= c->n ? c->n : (size_t)pos + 1;
  while (lo < hi) {            /* first job with seq >= pos */
    size_t mid = lo + (hi - lo) / 2;
    if (c->jobs[mid]->seq < pos) lo = mid + 1;
    else hi = mid;
  }
  return c->n - lo;
}

static long page(const coll *c, const char *token, size_t skip, size_t top,
                 size_t *out, ct_buf *next, size_t *count, ct_err *e) {
  const ct_query *q = c->q;
  cursor cur;
  ct_arena a;
  size_t i, k = 0, total = 0;
  int more = 0;
  ct_arena_init(&a);
  if (token != NULL && read_token(q, token, &cur, &a, e) != 0) {
    ct_arena_free(&a);
    return -1;
  }
  if (count != NULL)
    for (i = 0; i < c->n; i++) total += (size_t)coll_match(c, i);
  if (q->nkeys == 0) {
    size_t o = token != NULL ? coll_resume(c, cur.pos) : 0;
    for (; o < c->n; o++) {
      i = coll_at(c, o);
      if (!coll_match(c, i)) continue;
      if (skip > 0) { skip--; continue; }
      if (k == top) { more = 1; break; }
      out[k++] = i;
    }
    if (more && k > 0) make_token(q, coll_pos(c, out[k - 1]), NULL, next);
  } else {
    size_t cap = keep_cap(skip, top, c->n), nbest = 0;
    cand *best = ct_malloc(cap * sizeof *best);
    if (best == NULL) {
      ct_arena_free(&a);
      ct_err_set(e, 500, "generalException", NULL, "Out of memory.");
      return -1;
    }
    for (i = 0; i < c->n; i++) {
      cand cd;
      ectx x;
      if (!coll_match(c, i)) continue;
      coll_ctx(c, i, &x);
      cd.pos = coll_pos(c, i);
      cd.index = i;
      item_keys(q, &x, cd.keys);
      if (token != NULL &&
          cmp_keys(q, cur.keys, cur.pos, cd.keys, cd.pos) >= 0)
        continue;
      keep(q, best, &nbest, cap, &cd);
    }
    for (i = skip; i < nbest && k < top; i++) out[k++] = best[i].index;
    more = nbest > skip + k;
    if (more && k > 0) make_token(q, best[skip + k - 1].pos,
                                  best[skip + k - 1].keys, next);
    free(best);
  }
  ct_arena_free(&a);
  if (count != NULL) *count = total;
  return (long)k;
}

long ct_query_jobs(const ct_query *q, ct_job *const *jobs, size_t njobs,
                   const char *token, size_t skip, size_t top,
                   size_t *outi, ct_buf *next, size_t *count, ct_err *e) {
  coll c;
  c.q = q;
  c.jobs = jobs;
  c.job = NULL;
  c.n = jobs != NULL ? njobs : 0;
  return page(&c, token, skip, top, outi, next, count, e);
}

long ct_query_tasks(const ct_query *q, const ct_job *j, const char *token,
                    size_t skip, size_t top, size_t *outi, ct_buf *next,
                    size_t *count, ct_err *e) {
  coll c;
  c.q = q;
  c.jobs = NULL;
  c.job = j;
  c.n = j->ntasks;
  return page(&c, token, skip, top, outi, next, count, e);
}
