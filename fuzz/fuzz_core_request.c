/*
** fuzz_core_request.c -- libFuzzer target for the core's request path
** (ct_request.h) with no Lua: the C twin of fuzz_request.c, on the same
** input format and corpus.
**
** The input is up to 4 requests, split by a line holding only "%%";
** each is a method line, a URL line, header lines "Name: value" up to an
** empty line, then the body text (no empty line: no body).  The method
** ADVANCE moves the model clock by the URL line (whole seconds or an ISO
** 8601 duration).  Checked after every request: ct_request returns (no
** out-of-memory), the status is one the model documents, a JSON body is
** valid JSON (and so valid UTF-8) by the core's strict reader, a $count
** is digits, and a refused request (status >= 400) leaves both tenants'
** full listings byte-identical.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_json.h"
#include "ct_request.h"
#include "ct_store.h"
#include "ct_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW "2025-11-06T09:00:00Z"
#define TARGET "87654321-4321-4321-4321-210987654321"
#define OTHER "11111111-1111-4111-8111-111111111111"
#define JOBS "/beta/solutions/migrations/crossTenantMigrationJobs"

static void finding(const char *what, const char *detail)
{
  fprintf(stderr, "fuzz_core_request: %s\n%s\n", what, detail ? detail : "");
  abort();
}

static void make_job(ct_store *s, const ct_caller *c, const char *text)
{
  ct_arena a;
  ct_jval *v;
  ct_jerr je;
  ct_err e;
  ct_arena_init(&a);
  if (ct_json_parse(&a, text, strlen(text), &v, &je) != 0 ||
      ct_job_create(s, c, v, &e) == NULL)
    finding("setup", text);
  ct_arena_free(&a);
}

/* one tenant's jobs and tasks, as the API lists them */
static void listing(ct_store *s, const ct_caller *c, ct_buf *out)
{
  ct_http_request req;
  ct_http_response res;
  memset(&req, 0, sizeof req);
  req.method = "GET";
  req.method_len = 3;
  req.target = JOBS "?$top=999&$expand=users";
  req.target_len = strlen(req.target);
  req.default_caller = c;
  ct_http_response_init(&res);
  if (ct_request(s, &req, &res) != 200) finding("listing", res.body.p);
  ct_buf_add(out, res.body.p, res.body.len);
  ct_http_response_free(&res);
}

/* the next line of [*p, end): its start and length; *p moves past it */
static const char *next_line(const char **p, const char *end, size_t *n)
{
  const char *s = *p, *nl;
  if (s >= end) return NULL;
  nl = memchr(s, '\n', (size_t)(end - s));
  *n = (size_t)((nl ? nl : end) - s);
  *p = nl ? nl + 1 : end;
  return s;
}

static int status_ok(int st)
{
  static const int known[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405,
                               409, 413 };
  size_t i;
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    if (known[i] == st) return 1;
  return 0;
}

static void one(ct_store *s, const ct_caller *dflt, const ct_caller *other,
                const char *p, const char *end)
{
  ct_http_request req;
  ct_http_response res;
  ct_http_header h[16];
  size_t n, nh = 0;
  const char *m, *u, *l;
  ct_buf before, after;
  memset(&req, 0, sizeof req);
  if ((m = next_line(&p, end, &n)) == NULL) return;
  req.method = m;
  req.method_len = n;
  if ((u = next_line(&p, end, &n)) == NULL) return;
  req.target = u;
  req.target_len = n;
  if (req.method_len == 7 && memcmp(m, "ADVANCE", 7) == 0) {
    int64_t ticks = 0;
    char digits[24];
    if (n < sizeof digits && n > 0 && strspn(u, "0123456789") >= n) {
      memcpy(digits, u, n);
      digits[n] = '\0';
      ticks = (int64_t)strtoll(digits, NULL, 10) * CT_TICKS_PER_SEC;
    } else if (ct_duration_parse(u, n, &ticks) != 0) {
      return;
    }
    if (ticks > 0 && ticks < (int64_t)400 * 86400 * CT_TICKS_PER_SEC)
      ct_store_advance(s, s->now + ticks);
    return;
  }
  while ((l = next_line(&p, end, &n)) != NULL && n > 0) {
    const char *colon = memchr(l, ':', n);
    if (colon == NULL || nh == sizeof h / sizeof h[0]) continue;
    h[nh].name = l;
    h[nh].name_len = (size_t)(colon - l);
    h[nh].value = colon + 1;
    h[nh].value_len = n - h[nh].name_len - 1;
    while (h[nh].value_len > 0 && h[nh].value[0] == ' ') {
      h[nh].value++;
      h[nh].value_len--;
    }
    nh++;
  }
  req.headers = h;
  req.nheaders = nh;
  if (l != NULL) {                  /* an empty line: a body follows */
    req.body_kind = CT_BODY_TEXT;
    req.body = p;
    req.body_len = (size_t)(end - p);
  }
  req.default_caller = dflt;
  ct_buf_init(&before);
  ct_buf_init(&after);
  listing(s, dflt, &before);
  listing(s, other, &before);
  ct_http_response_init(&res);
  if (ct_request(s, &req, &res) < 0) finding("out of memory", NULL);
  if (!status_ok(res.status)) finding("an undocumented status", res.body.p);
  if (res.r.shape == CT_R_TEXT) {
    if (res.body.len == 0 ||
        strspn(res.body.p, "0123456789") != res.body.len)
      finding("a $count that is not digits", res.body.p);
  } else if (res.r.shape != CT_R_NONE) {
    ct_arena a;
    ct_jval *v;
    ct_jerr je;
    ct_arena_init(&a);
    if (ct_json_parse(&a, res.body.p, res.body.len, &v, &je) != 0 &&
        je.status != 413)
      finding("a body that is not valid JSON", res.body.p);
    ct_arena_free(&a);
  }
  if (res.status >= 400) {
    listing(s, dflt, &after);
    listing(s, other, &after);
    if (before.len != after.len ||
        memcmp(before.p, after.p, before.len) != 0)
      finding("a refused request changed the store", res.body.p);
  }
  ct_http_response_free(&res);
  ct_buf_free(&before);
  ct_buf_free(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  ct_options o;
  ct_time now;
  const char *why;
  ct_caller dflt, other;
  ct_store *s;
  int k;
  memset(&o, 0, sizeof o);
  o.seed = 1;
  o.has_seed = 1;
  o.strict = 1;
  ct_time_parse(NOW, strlen(NOW), &now, &why);
  o.now = now.ticks;
  s = ct_store_new(&o);
  if (s == NULL) return 0;
  ct_guid_parse(TARGET, 36, &dflt.tenant);
  dflt.upn = "admin@fabrikam.onmicrosoft.com";
  dflt.nupn = strlen(dflt.upn);
  ct_guid_parse(OTHER, 36, &other.tenant);
  other.upn = "other@contoso.com";
  other.nupn = strlen(other.upn);
  make_job(s, &dflt, "{\"displayName\":\"fuzzjob\",\"completeAfterDateTime\":"
           "\"2025-12-09T22:48:03.092Z\",\"sourceTenantId\":\"12345678-1234-"
           "1234-1234-123456789012\",\"resourceType\":\"Users\",\"resources\":"
           "[\"4dd550d9-9ea2-4e71-a16b-60b1d1c4f506\",\"63f15b55-f61a-49cb-"
           "a599-2e3d233afb2c\"],\"workloads\":[\"Teams\",\"ODSP\"]}");
  make_job(s, &other, "{\"displayName\":\"otherjob\",\"completeAfterDateTime\""
           ":\"2025-12-09T22:48:03Z\",\"sourceTenantId\":\"12345678-1234-"
           "1234-1234-123456789012\",\"resourceType\":\"Users\",\"resources\":"
           "[\"41d94bac-3a53-47d6-a89e-583830104e15\"],\"workloads\":"
           "[\"ODSP\"]}");
  for (k = 0; k < 4 && p < end; k++) {
    const char *sep = p, *stop = end;
    /* the request ends at a line holding only %% */
    while (sep < end) {
      const char *nl = memchr(sep, '\n', (size_t)(end - sep));
      const char *le = nl ? nl : end;
      if (le - sep == 2 && sep[0] == '%' && sep[1] == '%') {
        stop = sep;
        break;
      }
      if (nl == NULL) break;
      sep = nl + 1;
    }
    one(s, &dflt, &other, p, stop > p && stop[-1] == '\n' && stop < end
                               ? stop - 1 : stop);
    if (stop >= end) break;
    p = memchr(stop, '\n', (size_t)(end - stop));
    if (p == NULL) break;
    p++;
  }
  ct_store_free(s);
  return 0;
}
