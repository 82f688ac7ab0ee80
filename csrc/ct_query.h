/*
** ct_query.h -- OData $filter and $orderby over jobs and tasks, and the
** pages they give.  The expressions are parsed once into a tree held by
** the query; evaluation reads the core's records directly.  No Lua.
**
** Supported $filter grammar (keywords lower case, as OData writes them):
**   expr    := and ('or' and)*
**   and     := unary ('and' unary)*
**   unary   := 'not' unary | primary
**   primary := '(' expr ')' | operand op operand | operand 'in' '(' lits ')'
**            | 'startswith' '(' prop ',' string ')'
**            | 'currentStatus' '/' ('any'|'all') '(' [var ':' expr] ')'
**            | 'true' | 'false'
**   op      := eq | ne | gt | ge | lt | le
**   operand := prop | var '/' prop | literal
**   literal := 'text' ('' escapes a quote) | integer | decimal | true
**            | false | null | GUID | DateTimeOffset
**            | Namespace.EnumType'member'
** $orderby := prop [asc|desc] (',' prop [asc|desc])*
*/
#ifndef CT_QUERY_H
#define CT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "ct_store.h"

enum ct_qtarget { CT_Q_JOBS, CT_Q_TASKS };

typedef struct ct_query ct_query;

/*
** Parse `filter` and `orderby` (either may be NULL) for jobs or tasks.
** Returns the query, or NULL with *e set: 400 invalidRequest, inner
** invalidQueryOption, a message naming the option, the token and its
** position ("Invalid $filter: unknown property 'x' at position 0.").
*/
ct_query *ct_query_new(int target, const char *filter, size_t nfilter,
                       const char *orderby, size_t norderby, ct_err *e);
void ct_query_free(ct_query *q);   /* NULL is fine */

int ct_query_match_job(const ct_query *q, const ct_job *j);
int ct_query_match_task(const ct_query *q, const ct_task *t);

/*
** One page.  `token` (NULL: first page) is a $skiptoken this query made;
** `skip` matches are passed over first; the array indexes of up to `top`
** items (in the tenant's job array, or in the job's tasks) go to outi[].  `next` receives a token for
** the next page (nothing when this is the last); *count, when not NULL,
** the number of matches in the whole collection.  Returns the number of
** items, or -1 with *e set (a token that is not this query's).
*/
long ct_query_jobs(const ct_query *q, ct_job *const *jobs, size_t njobs,
                   const char *token, size_t skip, size_t top,
                   size_t *outi, ct_buf *next, size_t *count, ct_err *e);
/* the 400 for a $skiptoken of n bytes that is not this query's (for a
   caller that refuses one before paging, e.g. one holding a NUL) */
void ct_query_bad_token(const char *t, size_t n, ct_err *e);

long ct_query_tasks(const ct_query *q, const ct_job *j, const char *token,
                    size_t skip, size_t top, size_t *outi, ct_buf *next,
                    size_t *count, ct_err *e);

#endif
