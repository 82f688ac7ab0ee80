/*
** ct_request_auth.c -- who calls: the request's headers
** (client-request-id, Authorization), the bearer token (a JWT whose
** base64url payload the core's JSON reader reads: tid, upn or oid, scp
** or roles, exp; the signature is not checked), or the store's
** defaults; and the 403 for missing permissions.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_request_int.h"

/* ---------- headers ---------- */

/* the two headers the path reads; a name given twice with different
   values is refused, naming the later spelling */
int ct_rq_read_headers(rq *q) {
  const ct_http_request *req = q->req;
  size_t i, k;
  for (i = 0; i < req->nheaders; i++) {
    const ct_http_header *h = &req->headers[i];
    for (k = 0; k < i; k++) {
      const ct_http_header *o = &req->headers[k];
      size_t j;
      if (o->name_len != h->name_len) continue;
      for (j = 0; j < h->name_len &&
                  lower((unsigned char)o->name[j]) ==
                  lower((unsigned char)h->name[j]); j++) ;
      if (j < h->name_len) continue;
      if (o->value_len != h->value_len ||
          memcmp(o->value, h->value, h->value_len) != 0) {
        q->crid.p = NULL;
        return ct_rq_fail3(q, 400, "invalidRequest", NULL, "Header '", h->name,
                           h->name_len, "' is given more than once with "
                           "different values.");
      }
    }
    if (ieq(h->name, h->name_len, "client-request-id")) {
      q->crid.p = h->value ? h->value : "";
      q->crid.n = h->value_len;
    } else if (ieq(h->name, h->name_len, "authorization")) {
      q->auth.p = h->value ? h->value : "";
      q->auth.n = h->value_len;
    }
  }
  return 0;
}

/* ---------- the caller: token or defaults ---------- */

static int unauthenticated(rq *q, const char *msg) {
  return ct_rq_fail(q, 401, "unauthenticated", NULL, msg, strlen(msg));
}

static int b64val(int c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (is_digit(c)) return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/* base64url without padding into arena memory; NULL when malformed */
static char *b64url(rq *q, const char *s, size_t n, size_t *outn) {
  char *out;
  size_t i, k = 0;
  uint32_t bits = 0;
  int nbits = 0;
  if (n % 4 == 1) return NULL;
  out = ct_arena_alloc(&q->a, n + 1);
  if (out == NULL) return NULL;
  for (i = 0; i < n; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0) return NULL;
    bits = (bits << 6) | (uint32_t)v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out[k++] = (char)((bits >> nbits) & 0xff);
    }
  }
  *outn = k;
  return out;
}

static int tok_char(int c) { return is_alnum(c) || c == '_' || c == '-'; }

static int str_cmp(const void *a, const void *b) {
  const str *x = (const str *)a, *y = (const str *)b;
  size_t n = x->n < y->n ? x->n : y->n;
  int c = memcmp(x->p, y->p, n);
  if (c != 0) return c;
  return x->n < y->n ? -1 : x->n > y->n;
}

/* add a permission, once */
static int add_scope(rq *q, who *w, const char *p, size_t n, size_t cap) {
  size_t i;
  for (i = 0; i < w->nscopes; i++)
    if (w->scopes[i].n == n && memcmp(w->scopes[i].p, p, n) == 0) return 0;
  if (w->nscopes == cap) return 0;
  w->scopes[w->nscopes].p = p;
  w->scopes[w->nscopes].n = n;
  w->nscopes++;
  if (eq(p, n, WRITE_SCOPE)) w->write = 1;
  if (eq(p, n, READ_SCOPE)) w->read = 1;
  (void)q;
  return 0;
}

int ct_rq_read_caller(rq *q, who *w) {
  const char *s = q->auth.p, *tok, *payload, *text;
  size_t n = q->auth.n, i = 6, t0, tn, dots[2], nd = 0, plen, cap;
  ct_jval *claims;
  const ct_jval *v;
  ct_jerr je;
  memset(w, 0, sizeof *w);
  if (s == NULL) {
    if (q->req->default_caller == NULL)
      return unauthenticated(q, "Access token is empty.");
    w->c = *q->req->default_caller;
    w->app.p = "";
    w->read = w->write = 1;
    return 0;
  }
  /* "Bearer" (any case), spaces, the token, optional trailing space */
  if (n < 8 || !ieq(s, 6, "bearer") || s[6] != ' ')
    goto not_bearer;
  while (i < n && s[i] == ' ') i++;
  t0 = i;
  while (i < n && !is_space((unsigned char)s[i])) i++;
  tn = i - t0;
  while (i < n && is_space((unsigned char)s[i])) i++;
  if (tn == 0 || i < n) goto not_bearer;
  tok = s + t0;
  for (i = 0; i < tn; i++) {
    if (tok[i] == '.') {
      if (nd == 2) goto malformed;
      dots[nd++] = i;
    } else if (!tok_char((unsigned char)tok[i])) {
      goto malformed;
    }
  }
  if (nd != 2) goto malformed;
  payload = tok + dots[0] + 1;
  text = b64url(q, payload, dots[1] - dots[0] - 1, &plen);
  if (text == NULL) goto malformed;
  if (ct_json_parse(&q->a, text, plen, &claims, &je) != 0) goto malformed;
  if (!(claims->kind == CT_JOBJ ||
        (claims->kind == CT_JARR && claims->len == 0)))
    goto malformed;
  v = claims->kind == CT_JOBJ ? ct_json_get(claims, "tid") : NULL;
  if (v == NULL || v->kind != CT_JSTR ||
      ct_guid_parse(v->u.s, v->len, &w->c.tenant) != 0)
    return unauthenticated(q, "The access token has no valid 'tid' "
                           "claim.");
  v = ct_json_get(claims, "exp");
  if (v != NULL) {
    int64_t now = q->s->now, secs;
    if (v->kind != CT_JINT)
      return unauthenticated(q, "The access token's 'exp' claim must be "
                             "an integer.");
    secs = now / CT_TICKS_PER_SEC;
    if (now % CT_TICKS_PER_SEC < 0) secs--;
    if (v->u.i <= secs)
      return unauthenticated(q, "The access token has expired.");
  }
  w->c.upn = "";
  w->c.nupn = 0;
  w->app.p = "";
  v = ct_json_get(claims, "upn");
  if (v != NULL && v->kind != CT_JSTR)
    return unauthenticated(q, "The access token's 'upn' claim must be a "
                           "string.");
  {
    const ct_jval *oid = ct_json_get(claims, "oid");
    if (oid != NULL && oid->kind != CT_JSTR)
      return unauthenticated(q, "The access token's 'oid' claim must be "
                             "a string.");
    if (v != NULL) w->c.upn = v->u.s, w->c.nupn = v->len;
    else if (oid != NULL) w->c.upn = oid->u.s, w->c.nupn = oid->len;
  }
  {
    /* the app, for the fault windows: v1 tokens carry appid, v2 azp */
    const ct_jval *appid = ct_json_get(claims, "appid");
    const ct_jval *azp = ct_json_get(claims, "azp");
    if (appid != NULL && appid->kind != CT_JSTR)
      return unauthenticated(q, "The access token's 'appid' claim must "
                             "be a string.");
    if (azp != NULL && azp->kind != CT_JSTR)
      return unauthenticated(q, "The access token's 'azp' claim must be "
                             "a string.");
    if (appid != NULL) w->app.p = appid->u.s, w->app.n = appid->len;
    else if (azp != NULL) w->app.p = azp->u.s, w->app.n = azp->len;
  }
  {
    const ct_jval *scp = ct_json_get(claims, "scp");
    const ct_jval *roles = ct_json_get(claims, "roles");
    cap = 0;
    if (scp != NULL) {
      if (scp->kind != CT_JSTR)
        return unauthenticated(q, "The access token's 'scp' claim must "
                               "be a string.");
      cap += scp->len / 2 + 1;
    }
    if (roles != NULL) {
      if (!(roles->kind == CT_JARR ||
            (roles->kind == CT_JOBJ && roles->len == 0)))
        return unauthenticated(q, "The access token's 'roles' claim "
                               "must be an array of strings.");
      if (roles->kind == CT_JARR) {
        for (i = 0; i < roles->len; i++)
          if (roles->u.items[i].kind != CT_JSTR)
            return unauthenticated(q, "The access token's 'roles' claim "
                                   "must be an array of strings.");
        cap += roles->len;
      }
    }
    w->scopes = cap ? ct_arena_alloc(&q->a, cap * sizeof(str)) : NULL;
    if (cap && w->scopes == NULL) return -2;
    if (scp != NULL) {
      const char *p = scp->u.s;
      size_t m = scp->len, k = 0;
      while (k < m) {
        size_t b;
        while (k < m && is_space((unsigned char)p[k])) k++;
        b = k;
        while (k < m && !is_space((unsigned char)p[k])) k++;
        if (k > b) add_scope(q, w, p + b, k - b, cap);
      }
    }
    if (roles != NULL && roles->kind == CT_JARR)
      for (i = 0; i < roles->len; i++)
        add_scope(q, w, roles->u.items[i].u.s, roles->u.items[i].len, cap);
  }
  if (w->write) w->read = 1;
  return 0;
not_bearer:
  return unauthenticated(q, "The Authorization header must be 'Bearer "
                         "<token>'.");
malformed:
  return unauthenticated(q, "The access token is malformed: it is not a "
                         "JWT with a JSON object payload.");
}

int ct_rq_deny(rq *q, const who *w, int write) {
  ct_buf m;
  size_t i;
  int r;
  ct_buf_init(&m);
  ct_buf_adds(&m, "Missing permissions on the request. The API requires "
              "one of '");
  ct_buf_adds(&m, write ? WRITE_SCOPE : READ_SCOPE ", " WRITE_SCOPE);
  ct_buf_adds(&m, "'. Permissions on the request: '");
  if (w->nscopes > 1) qsort(w->scopes, w->nscopes, sizeof(str), str_cmp);
  for (i = 0; i < w->nscopes; i++) {
    if (i > 0) ct_buf_addc(&m, ' ');
    ct_buf_add(&m, w->scopes[i].p, w->scopes[i].n);
  }
  ct_buf_adds(&m, "'.");
  r = ct_rq_fail(q, 403, "accessDenied", NULL, m.p ? m.p : "", m.len);
  ct_buf_free(&m);
  return r;
}

