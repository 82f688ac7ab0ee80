/*
** lquery.c -- OData query options for crosstenant.core ($filter,
** $select, $orderby, ...).  For now the list endpoints take $top,
** $skiptoken and $count, which the Lua layer handles; this file is where
** the query functions join the module.
*/
#include "lauxlib.h"

#include "lcore.h"

void lct_query_open(lua_State *L, int methods) {
  (void)L;
  (void)methods;
}
