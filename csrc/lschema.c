/*
** lschema.c -- the core's lists of Graph's names as Lua tables: each
** enum's members (and the statuses in lifecycle order), the services
** and workloads, the timings, and each type's properties in their
** documented order.  Built from the same C
** lists the validator, the writer and the query parser read
** (ct_enums.h, ct_schema.h, ct_store.h), so Lua never keeps a copy.
*/
#include "lua.h"
#include "lauxlib.h"

#include "ct_enums.h"
#include "ct_schema.h"
#include "ct_store.h"

#include "lcore.h"

/* a sequence of the NULL-terminated names */
static void push_names(lua_State *L, const char *const *names) {
  int i, n = 0;
  while (names[n] != NULL) n++;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* a sequence of names[order[i]] */
static void push_order(lua_State *L, const char *const *names,
                       const unsigned char *order, int n) {
  int i;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[order[i]]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* { type = "microsoft.graph....", properties = { names in order } } */
static void push_type(lua_State *L, const ct_type *t) {
  size_t i;
  lua_createtable(L, 0, 2);
  lua_pushstring(L, t->name);
  lua_setfield(L, -2, "type");
  lua_createtable(L, (int)t->nprops, 0);
  for (i = 0; i < t->nprops; i++) {
    lua_pushstring(L, t->props[i].name);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "properties");
}

void lct_schema_open(lua_State *L) {
  static const struct { const char *field; const char *const *names; }
  lists[] = {
    { "JOB_STATUSES", ct_job_status_names },
    { "JOB_TYPES", ct_job_type_names },
    { "SERVICE_STATUSES", ct_svc_status_names },
    { "SERVICES", ct_service_names },
    { "WORKLOADS", ct_workload_names },
    { "TIMINGS", ct_timing_names },
  };
  static const struct { const char *field; const ct_type *type; }
  types[] = {
    { "job", &ct_type_job },
    { "task", &ct_type_task },
    { "statusDetails", &ct_type_status_details },
    { "error", &ct_type_error },
    { "exchangeSettings", &ct_type_exchange_settings },
  };
  size_t i;
  for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    push_names(L, lists[i].names);
    lua_setfield(L, -2, lists[i].field);
  }
  push_order(L, ct_job_status_names, ct_job_status_order,
             CT_JS_ORDER_COUNT);
  lua_setfield(L, -2, "JOB_STATUS_ORDER");
  push_order(L, ct_svc_status_names, ct_svc_status_order,
             CT_SS_ORDER_COUNT);
  lua_setfield(L, -2, "SERVICE_STATUS_ORDER");
  lua_createtable(L, 0, (int)(sizeof types / sizeof types[0]));
  for (i = 0; i < sizeof types / sizeof types[0]; i++) {
    push_type(L, types[i].type);
    lua_setfield(L, -2, types[i].field);
  }
  lua_setfield(L, -2, "schema");
}
