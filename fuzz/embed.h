/*
** embed.h -- shared by the fuzz targets that embed Lua 5.4 with the
** module (fuzz_request.c, fuzz_encode.c).  Not part of the module build.
**
** embed_open(harness) makes one Lua state for the whole run: the
** standard libraries, package.path on the tree's lua/ folder (CT_ROOT,
** set by the Makefile to the source tree, or the CT_ROOT environment
** variable), crosstenant.core preloaded from the objects linked in (no
** .so is loaded), then fuzz/lua/<harness>.lua run, which returns the
** function (or callable table) each input is handed to.
**
** embed_run(data, size) calls that function with the input as a Lua
** string, under lua_pcall: the harness never raises for data, so an
** error there is a finding, printed and turned into abort() for
** libFuzzer.  A full collection after each input frees every store
** the input made, so a leak in the core shows up at once.
*/
#ifndef FUZZ_EMBED_H
#define FUZZ_EMBED_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#ifndef CT_ROOT
#define CT_ROOT "."
#endif

int luaopen_crosstenant_core(lua_State *L);

static lua_State *embed_L;
static int embed_fn = LUA_NOREF;

static const char *embed_root(void)
{
  const char *r = getenv("CT_ROOT");
  return (r != NULL && *r != '\0') ? r : CT_ROOT;
}

static void embed_open(const char *harness)
{
  lua_State *L = luaL_newstate();
  const char *root = embed_root();
  if (L == NULL) {
    fprintf(stderr, "fuzz: cannot make a Lua state\n");
    abort();
  }
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s/fuzz/lua/?.lua", root,
                  root, root);
  lua_setfield(L, -2, "path");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_crosstenant_core);
  lua_setfield(L, -2, "crosstenant.core");
  lua_pop(L, 2);
  lua_getglobal(L, "require");
  lua_pushstring(L, harness);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_isnil(L, -1)) {
    fprintf(stderr, "fuzz: loading harness '%s' from %s/fuzz/lua: %s\n",
            harness, root, lua_tostring(L, -1));
    abort();
  }
  embed_fn = luaL_ref(L, LUA_REGISTRYINDEX);
  embed_L = L;
}

static void embed_run(const uint8_t *data, size_t size)
{
  lua_State *L = embed_L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, embed_fn);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "fuzz: the harness raised: %s\n",
            msg ? msg : "(not a string)");
    abort();
  }
  lua_gc(L, LUA_GCCOLLECT, 0);
}

#endif
