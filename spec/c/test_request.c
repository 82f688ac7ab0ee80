/*
** test_request.c -- the request path (ct_request.c, ct_response.c)
** driven through ct_request.h with no Lua: JSON text in, status,
** headers and JSON text out.  URLs, routes, 404/405, tokens and
** permissions, query options and pages, bodies, the error body, the
** per-request base URL, the methods' entry (ct_request_op), and that a
** refused request changes nothing.
** Prints one line per failed check, then "N passed, N failed"; exits
** non-zero when anything failed.
*/
#include "check.h"
#include "ct_json.h"
#include "ct_request.h"
#include "ct_store.h"
#include "ct_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW "2025-11-06T09:00:00Z"
#define TARGET "87654321-4321-4321-4321-210987654321"
#define OTHER "11111111-1111-4111-8111-111111111111"
#define SOURCE "12345678-1234-1234-1234-123456789012"
#define U1 "4dd550d9-9ea2-4e71-a16b-60b1d1c4f506"
#define U2 "63f15b55-f61a-49cb-a599-2e3d233afb2c"
#define JOBS "/beta/solutions/migrations/crossTenantMigrationJobs"
#define READ "CrossTenantContentMigration.Read.All"
#define WRITE "CrossTenantContentMigration.ReadWrite.All"

#define JOB_BODY(name, users) \
  "{\"displayName\":\"" name "\",\"completeAfterDateTime\":" \
  "\"2025-12-09T22:48:03.092Z\",\"sourceTenantId\":\"" SOURCE "\"," \
  "\"resourceType\":\"Users\",\"resources\":[" users "]," \
  "\"workloads\":[\"Teams\",\"ODSP\"]}"

/* one exchange: the response and its body text, NUL-terminated */
typedef struct ex {
  ct_http_response res;
  int status;
  const char *body;
  const char *location;
} ex;

typedef struct opts {
  const char *auth, *crid, *base;
  int token_required;
  int head_as_get;
} opts;

static ct_store *new_store(void)
{
  ct_options o;
  ct_time now;
  const char *why;
  ct_store *s;
  memset(&o, 0, sizeof o);
  o.seed = 7;
  o.has_seed = 1;
  o.strict = 1;
  if (ct_time_parse(NOW, strlen(NOW), &now, &why) != 0) exit(2);
  o.now = now.ticks;
  s = ct_store_new(&o);
  if (s == NULL) exit(2);
  return s;
}

static void nul(ct_buf *b)
{
  ct_buf_addc(b, '\0');
  b->len--;
}

static void send(ct_store *s, ex *x, const char *method, const char *target,
                 const char *body, const opts *o)
{
  ct_http_request req;
  ct_http_header h[2];
  ct_caller dflt;
  size_t nh = 0;
  memset(&req, 0, sizeof req);
  memset(&dflt, 0, sizeof dflt);
  ct_guid_parse(TARGET, 36, &dflt.tenant);
  dflt.upn = "admin@fabrikam.onmicrosoft.com";
  dflt.nupn = strlen(dflt.upn);
  req.method = method;
  req.method_len = strlen(method);
  req.target = target;
  req.target_len = strlen(target);
  if (body != NULL) {
    req.body_kind = CT_BODY_TEXT;
    req.body = body;
    req.body_len = strlen(body);
  }
  if (o != NULL && o->auth != NULL) {
    h[nh].name = "Authorization";
    h[nh].name_len = 13;
    h[nh].value = o->auth;
    h[nh].value_len = strlen(o->auth);
    nh++;
  }
  if (o != NULL && o->crid != NULL) {
    h[nh].name = "Client-Request-Id";
    h[nh].name_len = 17;
    h[nh].value = o->crid;
    h[nh].value_len = strlen(o->crid);
    nh++;
  }
  req.headers = h;
  req.nheaders = nh;
  req.base_url = o != NULL ? o->base : NULL;
  req.default_caller = o != NULL && o->token_required ? NULL : &dflt;
  req.head_as_get = o != NULL && o->head_as_get;
  ct_http_response_init(&x->res);
  x->status = ct_request(s, &req, &x->res);
  nul(&x->res.body);
  nul(&x->res.location);
  x->body = x->res.body.p ? x->res.body.p : "";
  x->location = x->res.location.p ? x->res.location.p : "";
}

static void done(ex *x)
{
  ct_http_response_free(&x->res);
}

/* the error message of an error body, compared exactly */
static int message_is(const ex *x, const char *msg)
{
  const char *m = x->res.r.message.p;
  return x->res.r.shape == CT_R_ERROR && m != NULL &&
         x->res.r.message.len == strlen(msg) &&
         memcmp(m, msg, strlen(msg)) == 0;
}

#define CHECK_ERR(x, st, msg) do { \
    int ok_ = (x)->status == (st) && message_is((x), (msg)); \
    check(t, ok_, __LINE__, "error " #st ": " msg); \
    if (!ok_) printf("  got: %d %s\n", (x)->status, (x)->body); \
  } while (0)

/* one request expected to answer `st` with message `msg` */
static void refused(tally *t, int line, ct_store *s, const char *m,
                    const char *target, const char *body, const opts *o,
                    int st, const char *msg)
{
  ex x;
  int ok;
  send(s, &x, m, target, body, o);
  ok = x.status == st && message_is(&x, msg);
  check(t, ok, line, msg);
  if (!ok) printf("  got: %d %s\n", x.status, x.body);
  done(&x);
}
#define REFUSED(m, target, body, o, st, msg) \
  refused(t, __LINE__, s, (m), (target), (body), (o), (st), (msg))

/* base64url without padding */
static void b64url(const char *in, char *out)
{
  static const char B[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t n = strlen(in), i, k = 0;
  for (i = 0; i < n; i += 3) {
    unsigned a = (unsigned char)in[i];
    unsigned b = i + 1 < n ? (unsigned char)in[i + 1] : 0;
    unsigned c = i + 2 < n ? (unsigned char)in[i + 2] : 0;
    unsigned v = (a << 16) | (b << 8) | c;
    size_t chars = 2 + (i + 1 < n) + (i + 2 < n), j;
    for (j = 0; j < chars; j++) out[k++] = B[(v >> (18 - 6 * j)) & 63];
  }
  out[k] = '\0';
}

/* "Bearer h.p." for a JSON payload */
static char *token(char *out, const char *payload)
{
  char p[512];
  b64url(payload, p);
  sprintf(out, "Bearer eyJhbGciOiJub25lIn0.%s.", p);
  return out;
}

/* the whole store as the API lists it, for "a refusal changes nothing" */
static char *listing(ct_store *s)
{
  ex x;
  char *copy;
  send(s, &x, "GET", JOBS "?$top=999&$expand=users", NULL, NULL);
  copy = malloc(strlen(x.body) + 1);
  if (copy == NULL) exit(2);
  strcpy(copy, x.body);
  done(&x);
  return copy;
}

/* ==================== tests ==================== */

static void test_create_and_get(tally *t)
{
  ct_store *s = new_store();
  ex x;
  char id[37], url[256];
  send(s, &x, "POST", JOBS, JOB_BODY("wave 1", "\"" U1 "\",\"" U2 "\""),
       NULL);
  CHECK(x.status == 201);
  CHECK(strcmp(x.res.content_type, "application/json") == 0);
  CHECK(strncmp(x.body, "{\"@odata.context\":\"https://graph.microsoft.com"
                "/beta/$metadata#solutions/migrations/crossTenantMigration"
                "Jobs/$entity\",\"id\":\"", 123) == 0);
  memcpy(id, x.body + 123, 36);
  id[36] = '\0';
  CHECK(strncmp(x.location, "https://graph.microsoft.com" JOBS "/", 79)
        == 0 && strcmp(x.location + 79, id) == 0);
  CHECK(strstr(x.body, "\"workloads\":[\"Teams\",\"ODSP\"],\"resourceType\""
               ":\"Users\",\"resources\":[\"" U1 "\",\"" U2 "\"]}") != NULL);
  CHECK(strstr(x.body, "\"exchangeSettings\":null") != NULL);
  done(&x);

  /* by id, by name, by the alternate key: the same job */
  snprintf(url, sizeof url, "%s/%s", JOBS, id);
  send(s, &x, "GET", url, NULL, NULL);
  CHECK(x.status == 200 && strstr(x.body, id) != NULL);
  done(&x);
  send(s, &x, "get", JOBS "/WAVE%201", NULL, NULL);
  CHECK(x.status == 200 && strstr(x.body, id) != NULL);
  done(&x);
  send(s, &x, "GET", "https://graph.microsoft.com/v1.0/solutions/migrations"
       "/crossTenantMigrationJobs(displayName='wave%201')/users", NULL, NULL);
  CHECK(x.status == 200);
  CHECK(strncmp(x.body, "{\"@odata.context\":\"https://graph.microsoft.com"
                "/v1.0/$metadata#", 62) == 0);
  CHECK(strstr(x.body, "\"value\":[{\"id\":\"" U1 "\",\"taskType\":\"user\","
               "\"lastUpdatedDateTime\":\"2025-11-06T09:00:00Z\","
               "\"currentStatus\":[{\"service\":\"ODSP\",\"status\":"
               "\"notStarted\",\"message\":\"\",\"errors\":[]},") != NULL);
  done(&x);

  /* $count as text */
  send(s, &x, "GET", JOBS "/$count", NULL, NULL);
  CHECK(x.status == 200 && strcmp(x.body, "1") == 0 &&
        strcmp(x.res.content_type, "text/plain") == 0);
  done(&x);
  snprintf(url, sizeof url, "%s/%s/users/$count", JOBS, id);
  send(s, &x, "GET", url, NULL, NULL);
  CHECK(x.status == 200 && strcmp(x.body, "2") == 0);
  done(&x);

  /* a task, created and read back */
  snprintf(url, sizeof url, "%s/%s/users", JOBS, id);
  send(s, &x, "POST", url, "{\"taskType\":\"user\",\"lastUpdatedDateTime\":"
       "\"2025-11-06T09:30:00Z\",\"id\":\"6a88de8d-7027-44c1-8674-"
       "03f826aa1704\"}", NULL);
  CHECK(x.status == 201);
  CHECK(strstr(x.body, "\"@odata.type\":\"#microsoft.graph.crossTenant"
               "MigrationTask\",\"id\":\"6a88de8d-7027-44c1-8674-"
               "03f826aa1704\"") != NULL);
  CHECK(strstr(x.location, "/users/6a88de8d-7027-44c1-8674-03f826aa1704")
        != NULL);
  done(&x);

  /* PATCH: 204, no body; DELETE of an active job: 409 */
  snprintf(url, sizeof url, "%s/%s", JOBS, id);
  send(s, &x, "PATCH", url, "{\"completeAfterDateTime\":"
       "\"2025-12-10T00:00:00Z\"}", NULL);
  CHECK(x.status == 204 && x.res.body.len == 0 &&
        x.res.r.shape == CT_R_NONE);
  done(&x);
  send(s, &x, "DELETE", url, NULL, NULL);
  CHECK(x.status == 409 && x.res.r.shape == CT_R_ERROR);
  done(&x);
  snprintf(url, sizeof url, "%s/%s/cancel", JOBS, id);
  send(s, &x, "POST", url, NULL, NULL);
  CHECK(x.status == 202 && strstr(x.body, "\"status\":\"pendingCancel\"")
        != NULL);
  done(&x);
  ct_store_free(s);
}

static void test_errors(tally *t)
{
  ct_store *s = new_store();
  ex x;
  opts o;
  char *before, *after;
  memset(&o, 0, sizeof o);
  send(s, &x, "POST", JOBS, JOB_BODY("a", "\"" U1 "\""), NULL);
  CHECK(x.status == 201);
  done(&x);
  before = listing(s);

  /* the error body: date in whole UTC seconds with no offset, ids */
  o.crid = "abc-123";
  send(s, &x, "GET", JOBS "/nope", NULL, &o);
  CHECK(x.status == 404);
  {
    char want[512];
    snprintf(want, sizeof want, "{\"error\":{\"code\":\"itemNotFound\","
             "\"message\":\"crossTenantMigrationJob 'nope' was not found.\","
             "\"innerError\":{\"date\":\"2025-11-06T09:00:00\","
             "\"request-id\":\"%s\",\"client-request-id\":\"abc-123\"}}}",
             x.res.request_id);
    CHECK(strcmp(x.body, want) == 0);
    CHECK(x.res.client_request_id.len == 7);
  }
  done(&x);
  /* a client-request-id that is not UTF-8: echoed as sent in the
     header, made valid in the body */
  o.crid = "\xff" "ok";
  send(s, &x, "GET", JOBS "/nope", NULL, &o);
  CHECK(strstr(x.body, "\"client-request-id\":\"?ok\"") != NULL);
  CHECK(x.res.client_request_id.len == 3 &&
        x.res.client_request_id.p[0] == '\xff');
  done(&x);
  o.crid = NULL;

  REFUSED("GET", JOBS "/x/frobnicate", NULL, NULL, 404,
          "Resource not found for the segment 'frobnicate'.");
  REFUSED("GET", "/beta/users", NULL, NULL, 404,
          "Resource not found for the segment 'users'.");
  REFUSED("GET", JOBS "//users", NULL, NULL, 404,
          "Resource not found for the segment ''.");
  REFUSED("GET", "/v2.0/solutions", NULL, NULL, 404,
          "Resource not found for the segment 'v2.0'.");
  REFUSED("GET", JOBS "/x/users/y/z", NULL, NULL, 404,
          "Resource not found for the segment 'z'.");
  REFUSED("GET", JOBS "/%ff", NULL, NULL, 404,
          "crossTenantMigrationJob '?' was not found.");
  REFUSED("GET", JOBS "/a%zz", NULL, NULL, 400,
          "The URL has a bad percent-escape in 'a%zz'.");
  REFUSED("GET", "solutions", NULL, NULL, 400,
          "The URL must start with '/' or 'https://graph.microsoft.com/'.");
  REFUSED("GET", "https://example.com/beta", NULL, NULL, 404,
          "Unknown host or scheme in 'https://example.com/beta'; the model "
          "answers https://graph.microsoft.com.");
  REFUSED("PUT", JOBS "/a", NULL, NULL, 405, "The method 'PUT' is not "
          "allowed on this resource; it takes DELETE, GET, PATCH.");
  REFUSED("delete", JOBS, NULL, NULL, 405, "The method 'DELETE' is not "
          "allowed on this resource; it takes GET, POST.");
  {
    /* a 405 names the methods in Allow; no other answer has one */
    opts head;
    memset(&head, 0, sizeof head);
    send(s, &x, "PUT", JOBS "/a", NULL, NULL);
    check(t, x.status == 405 && x.res.allow != NULL &&
          strcmp(x.res.allow, "DELETE, GET, PATCH") == 0, __LINE__,
          "405 Allow: DELETE, GET, PATCH");
    done(&x);
    send(s, &x, "GET", JOBS, NULL, NULL);
    check(t, x.status == 200 && x.res.allow == NULL, __LINE__,
          "200 without Allow");
    done(&x);
    /* HEAD: a 405 unless routed as GET (a server's) */
    send(s, &x, "HEAD", JOBS, NULL, NULL);
    check(t, x.status == 405 && message_is(&x, "The method 'HEAD' is not "
          "allowed on this resource; it takes GET, POST."), __LINE__,
          "HEAD is a 405 in-process");
    done(&x);
    head.head_as_get = 1;
    send(s, &x, "HEAD", JOBS, NULL, &head);
    check(t, x.status == 200 && x.res.allow == NULL, __LINE__,
          "HEAD routed as GET");
    done(&x);
    send(s, &x, "head", JOBS "/a/validate", NULL, &head);
    check(t, x.status == 405 && strcmp(x.res.allow, "POST") == 0 &&
          message_is(&x, "The method 'HEAD' is not allowed on this "
                     "resource; it takes POST."), __LINE__,
          "HEAD routed as GET on a POST path: 405");
    done(&x);
  }
  REFUSED("GET", JOBS "?$top=0", NULL, NULL, 400, "Query option '$top' "
          "must be an integer from 1 to 999, not '0'.");
  REFUSED("GET", JOBS "?$skip=x", NULL, NULL, 400, "Query option '$skip' "
          "must be an integer of 0 or more, not 'x'.");
  REFUSED("GET", JOBS "?$count=maybe", NULL, NULL, 400, "Query option "
          "'$count' must be true or false, not 'maybe'.");
  REFUSED("GET", JOBS "?$Frob=1", NULL, NULL, 400,
          "Query option '$frob' is not supported.");
  REFUSED("GET", JOBS "?$search=x", NULL, NULL, 400,
          "Query option '$search' is not supported.");
  REFUSED("GET", JOBS "?top=1&$TOP=2", NULL, NULL, 400,
          "Query option '$top' is given twice.");
  REFUSED("GET", JOBS "?$top=%g1", NULL, NULL, 400,
          "The query string has a bad percent-escape in '$top=%g1'.");
  REFUSED("GET", JOBS "/a?$top=1", NULL, NULL, 400,
          "Query option '$top' is not supported on this request.");
  REFUSED("GET", JOBS "?$select=", NULL, NULL, 400,
          "Invalid $select: it is empty.");
  REFUSED("GET", JOBS "?$select=status,colour", NULL, NULL, 400,
          "Invalid $select: unknown property 'colour'.");
  REFUSED("GET", JOBS "?$expand=tasks", NULL, NULL, 400, "Invalid $expand: "
          "only 'users' can be expanded, without nested options; not "
          "'tasks'.");
  REFUSED("GET", JOBS "?$skiptoken=garbage", NULL, NULL, 400, "The "
          "$skiptoken value 'garbage' is not valid for this collection and "
          "query.");
  REFUSED("POST", JOBS "?$top=1", JOB_BODY("b", "\"" U2 "\""), NULL, 400,
          "Query options are not allowed on a POST request.");
  REFUSED("POST", JOBS "/a/validate", "{\"x\":1}", NULL, 400,
          "This request takes no body.");
  REFUSED("POST", JOBS, NULL, NULL, 400, "A request body is required.");
  REFUSED("POST", JOBS, "{\"a\":", NULL, 400, "The request body is not "
          "valid JSON: unexpected end of input at position 5.");
  REFUSED("POST", JOBS, JOB_BODY("A", "\"" U2 "\""), NULL, 409,
          "A job named 'A' already exists in this tenant.");
  after = listing(s);
  CHECK(strcmp(before, after) == 0);
  free(before);
  free(after);
  ct_store_free(s);
}

static void test_tokens(tally *t)
{
  ct_store *s = new_store();
  opts o;
  char tok[1024];
  ex x;
  memset(&o, 0, sizeof o);
  o.token_required = 1;
  REFUSED("GET", JOBS, NULL, &o, 401, "Access token is empty.");
  REFUSED("GET", "/nowhere", NULL, &o, 401, "Access token is empty.");
  o.auth = "Basic abc";
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The Authorization header must be 'Bearer <token>'.");
  o.auth = "Bearer a.b";
  REFUSED("GET", JOBS, NULL, &o, 401, "The access token is malformed: it "
          "is not a JWT with a JSON object payload.");
  o.auth = token(tok, "[1]");
  REFUSED("GET", JOBS, NULL, &o, 401, "The access token is malformed: it "
          "is not a JWT with a JSON object payload.");
  o.auth = token(tok, "{\"upn\":\"a\"}");
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The access token has no valid 'tid' claim.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"exp\":1762419600}");
  REFUSED("GET", JOBS, NULL, &o, 401, "The access token has expired.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"exp\":1.5}");
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The access token's 'exp' claim must be an integer.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"oid\":null}");
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The access token's 'oid' claim must be a string.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"scp\":[]}");
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The access token's 'scp' claim must be a string.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"roles\":{\"a\":1}}");
  REFUSED("GET", JOBS, NULL, &o, 401,
          "The access token's 'roles' claim must be an array of strings.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"scp\":\"b a b\","
                 "\"roles\":[\"" READ "\"]}");
  REFUSED("POST", JOBS, JOB_BODY("x", "\"" U1 "\""), &o, 403,
          "Missing permissions on the request. The API requires one of '"
          WRITE "'. Permissions on the request: '" READ " a b'.");
  REFUSED("GET", JOBS "/nope", NULL, &o, 404,
          "crossTenantMigrationJob 'nope' was not found.");
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"scp\":\"User.Read\"}");
  REFUSED("GET", JOBS, NULL, &o, 403, "Missing permissions on the request. "
          "The API requires one of '" READ ", " WRITE "'. Permissions on "
          "the request: 'User.Read'.");
  /* the token's tenant and user make the job; another tenant sees none */
  o.auth = token(tok, "{\"tid\":\"" OTHER "\",\"upn\":\"ops@other\","
                 "\"scp\":\"" WRITE "\",\"exp\":1762419601}");
  send(s, &x, "POST", JOBS, JOB_BODY("mine", "\"" U1 "\""), &o);
  CHECK(x.status == 201);
  CHECK(strstr(x.body, "\"targetTenantId\":\"" OTHER "\"") != NULL);
  CHECK(strstr(x.body, "\"createdBy\":\"ops@other\"") != NULL);
  done(&x);
  o.auth = token(tok, "{\"tid\":\"" TARGET "\",\"roles\":[\"" READ "\"]}");
  send(s, &x, "GET", JOBS "/mine", NULL, &o);
  CHECK(x.status == 404);
  done(&x);
  ct_store_free(s);
}

static void test_pages_and_select(tally *t)
{
  ct_store *s = new_store();
  ex x;
  int i, seen = 0;
  char url[1024], users[64];
  for (i = 0; i < 7; i++) {
    char body[512];
    s->now += CT_TICKS_PER_SEC;
    snprintf(users, sizeof users, "\"aaaaaaaa-0000-4000-8000-%012d\"", i);
    snprintf(body, sizeof body, "{\"displayName\":\"job %d\","
             "\"completeAfterDateTime\":\"2025-12-09T22:48:03Z\","
             "\"sourceTenantId\":\"" SOURCE "\",\"resourceType\":\"Users\","
             "\"resources\":[%s],\"workloads\":[\"ODSP\"]}", i, users);
    send(s, &x, "POST", JOBS, body, NULL);
    CHECK(x.status == 201);
    done(&x);
  }
  /* pages of 3 through the links the path writes, each job once */
  snprintf(url, sizeof url, "%s", JOBS "?$top=3&$count=true&"
           "$select=displayName,STATUS");
  while (url[0] != '\0') {
    const char *p;
    send(s, &x, "GET", url, NULL, NULL);
    CHECK(x.status == 200);
    if (seen == 0)
      CHECK(strncmp(x.body, "{\"@odata.context\":\"https://graph.microsoft"
                    ".com/beta/$metadata#solutions/migrations/crossTenant"
                    "MigrationJobs(displayName,status)\",\"@odata.count\":7,"
                    "\"@odata.nextLink\":\"https://graph.microsoft.com/beta/"
                    "solutions/migrations/crossTenantMigrationJobs?$select="
                    "displayName,STATUS&$count=true&$top=3&$skiptoken=",
                    301) == 0);
    for (p = x.body; (p = strstr(p, "\"displayName\":\"job ")) != NULL; p++)
      seen++;
    CHECK(strstr(x.body, "\"jobType\"") == NULL);
    url[0] = '\0';
    if (x.res.r.next_link.len > 0 && x.res.r.next_link.len < sizeof url) {
      memcpy(url, x.res.r.next_link.p, x.res.r.next_link.len);
      url[x.res.r.next_link.len] = '\0';
    }
    done(&x);
  }
  CHECK(seen == 7);
  /* $filter and $orderby, and $expand */
  send(s, &x, "GET", JOBS "?$filter=displayName%20eq%20'job%203'&"
       "$expand=users&$select=resources", NULL, NULL);
  CHECK(x.status == 200);
  CHECK(strstr(x.body, "\"value\":[{\"id\":\"") != NULL);
  CHECK(strstr(x.body, "\"resources\":[\"aaaaaaaa-0000-4000-8000-"
               "000000000003\"],\"users\":[{\"id\":\"aaaaaaaa-0000-4000-"
               "8000-000000000003\",\"taskType\":\"user\"") != NULL);
  done(&x);
  ct_store_free(s);
}

static void test_base_and_ops(tally *t)
{
  ct_store *s = new_store();
  ex x;
  opts o;
  ct_op_request op;
  ct_http_response res;
  memset(&o, 0, sizeof o);
  o.base = "http://127.0.0.1:8080";
  send(s, &x, "POST", "HTTP://127.0.0.1:8080" JOBS, JOB_BODY("b", "\"" U1
       "\""), &o);
  CHECK(x.status == 201);
  CHECK(strncmp(x.location, "http://127.0.0.1:8080/beta/solutions/", 37)
        == 0);
  CHECK(strncmp(x.body, "{\"@odata.context\":\"http://127.0.0.1:8080/beta/"
                "$metadata#", 56) == 0);
  done(&x);
  REFUSED("GET", "https://graph.microsoft.com" JOBS, NULL, &o, 404,
          "Unknown host or scheme in 'https://graph.microsoft.com" JOBS
          "'; the model answers http://127.0.0.1:8080.");

  /* the methods' entry: the same operation, no URL, no token */
  memset(&op, 0, sizeof op);
  op.op = CT_OP_GET_JOB;
  ct_guid_parse(TARGET, 36, &op.caller.tenant);
  op.caller.upn = "u";
  op.caller.nupn = 1;
  op.job = "B";
  op.job_len = 1;
  ct_http_response_init(&res);
  CHECK(ct_request_op(s, &op, &res) == 200);
  CHECK(res.r.shape == CT_R_JOB && res.r.job->displayName.n == 1 &&
        res.r.job->displayName.p[0] == 'b');
  ct_http_response_free(&res);
  op.op = CT_OP_LIST_JOBS;
  op.query = "$top=1000";
  op.query_len = 9;
  ct_http_response_init(&res);
  CHECK(ct_request_op(s, &op, &res) == 400);
  ct_http_response_free(&res);
  op.op = CT_OP_CREATE_JOB;
  op.query = NULL;
  ct_http_response_init(&res);
  CHECK(ct_request_op(s, &op, &res) == 400 &&
        strcmp(res.r.message.p, "A request body is required.") == 0);
  ct_http_response_free(&res);
  ct_store_free(s);
}

/* one response reused for many requests answers each as a fresh one */
static void test_reuse(tally *t)
{
  ct_store *s = new_store();
  ct_http_request req;
  ct_http_response res;
  ct_caller dflt;
  ex fresh;
  const char *targets[] = { JOBS "/nope", JOBS "/$count", JOBS "?$top=1",
                            JOBS "/nope" };
  size_t i;
  memset(&req, 0, sizeof req);
  ct_guid_parse(TARGET, 36, &dflt.tenant);
  dflt.upn = "admin@fabrikam.onmicrosoft.com";
  dflt.nupn = strlen(dflt.upn);
  req.method = "GET";
  req.method_len = 3;
  req.default_caller = &dflt;
  ct_http_response_init(&res);
  for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    ct_store *twin = new_store();
    int same;
    req.target = targets[i];
    req.target_len = strlen(targets[i]);
    CHECK(ct_request(s, &req, &res) > 0);
    send(twin, &fresh, "GET", targets[i], NULL, NULL);
    /* the request ids differ (the stores drew different numbers of
       them); everything else is the same */
    same = res.status == fresh.status && res.body.len == fresh.res.body.len
           && res.r.shape == fresh.res.r.shape &&
           res.r.context.len == fresh.res.r.context.len;
    CHECK(same);
    done(&fresh);
    ct_store_free(twin);
  }
  ct_http_response_free(&res);
  ct_http_response_free(&res);          /* idempotent */
  ct_store_free(s);
}

/* a scripted fault answers before the route, with Retry-After, and
   changes nothing */
static void test_faults(tally *t)
{
  ct_store *s = new_store();
  ex x;
  char *before, *after;
  send(s, &x, "POST", JOBS, JOB_BODY("f", "\"" U1 "\""), NULL);
  CHECK(x.status == 201);
  done(&x);
  before = listing(s);
  CHECK(ct_fault_add(&s->faultstate, 429, 7, 1, "POST",
                     "/crossTenantMigrationJobs", 25) == 0);
  send(s, &x, "POST", JOBS, JOB_BODY("g", "\"" U2 "\""), NULL);
  CHECK(x.status == 429 && x.res.retry_after == 7);
  CHECK(strstr(x.body, "\"code\":\"activityLimitReached\"") != NULL);
  CHECK(strstr(x.body, "\"innerError\":{\"code\":\"throttledRequest\"")
        != NULL);
  done(&x);
  /* the caller's window: refused again before 7 s have passed */
  send(s, &x, "GET", JOBS "/nowhere/x/y/z", NULL, NULL);
  CHECK(x.status == 429 && x.res.retry_after == 7);
  done(&x);
  s->now += 8 * CT_TICKS_PER_SEC;     /* past the window: the clock
                                         alone moves nothing */
  after = listing(s);
  CHECK(strcmp(before, after) == 0);  /* the refusals changed nothing */
  free(before);
  free(after);
  send(s, &x, "POST", JOBS, JOB_BODY("g", "\"" U2 "\""), NULL);
  CHECK(x.status == 201 && x.res.retry_after == 0);
  done(&x);
  ct_store_free(s);
}

/* ct_request_error: the errors a front end answers itself */
static void test_front_end_errors(tally *t)
{
  ct_store *s = new_store(), *twin = new_store();
  ct_http_response res;
  char *before = listing(s), *after = listing(twin);   /* in step */
  const char *id = "0b0e4a51-7c1f-4e7e-9d4a-5c2b1e0f9a77";
  char want[512];
  ex x, y;
  free(after);
  ct_http_response_init(&res);
  /* a given id, the client-request-id echoed (header as sent, body
     cleaned to UTF-8), the store's clock in whole seconds */
  CHECK(ct_request_error(s, 413, "invalidRequest", "The request body is "
                         "larger than 1 MiB.", "c-\xff" "1", 4, id, &res)
        == 413);
  CHECK(res.status == 413);
  CHECK(strcmp(res.content_type, "application/json") == 0);
  CHECK(strcmp(res.request_id, id) == 0);
  CHECK(res.client_request_id.len == 4 &&
        memcmp(res.client_request_id.p, "c-\xff" "1", 4) == 0);
  CHECK(strcmp(res.body.p, "{\"error\":{\"code\":\"invalidRequest\","
               "\"message\":\"The request body is larger than 1 MiB.\","
               "\"innerError\":{\"date\":\"2025-11-06T09:00:00\","
               "\"request-id\":\"0b0e4a51-7c1f-4e7e-9d4a-5c2b1e0f9a77\","
               "\"client-request-id\":\"c-?1\"}}}") == 0);
  /* no client-request-id: it is the request id */
  CHECK(ct_request_error(s, 400, "invalidRequest", "Bad Host.", NULL, 0, id,
                         &res) == 400);
  snprintf(want, sizeof want, "{\"error\":{\"code\":\"invalidRequest\","
           "\"message\":\"Bad Host.\",\"innerError\":{\"date\":"
           "\"2025-11-06T09:00:00\",\"request-id\":\"%s\","
           "\"client-request-id\":\"%s\"}}}", id, id);
  CHECK(strcmp(res.body.p, want) == 0);
  CHECK(res.client_request_id.len == 36);
  /* a given id draws none: the store's next answer is its twin's */
  send(s, &x, "GET", JOBS, NULL, NULL);
  send(twin, &y, "GET", JOBS, NULL, NULL);
  CHECK(strcmp(x.res.request_id, y.res.request_id) == 0);
  done(&x);
  done(&y);
  /* no id given: the store's next one is drawn, as a refusal draws it */
  CHECK(ct_request_error(s, 500, "generalException", "Failed.", NULL, 0,
                         NULL, &res) == 500);
  send(twin, &y, "GET", JOBS, NULL, NULL);
  CHECK(strcmp(res.request_id, y.res.request_id) == 0);
  done(&y);
  after = listing(s);
  CHECK(strcmp(before, after) == 0);      /* nothing changed */
  free(before);
  free(after);
  ct_http_response_free(&res);
  ct_store_free(s);
  ct_store_free(twin);
}

int main(void)
{
  tally tt = {0, 0}, *t = &tt;
  test_create_and_get(t);
  test_errors(t);
  test_tokens(t);
  test_pages_and_select(t);
  test_base_and_ops(t);
  test_reuse(t);
  test_faults(t);
  test_front_end_errors(t);
  return tally_report(t);
}
