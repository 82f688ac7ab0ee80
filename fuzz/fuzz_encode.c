/*
** fuzz_encode.c -- libFuzzer target for crosstenant.decode and
** crosstenant.encode, checked against lua-cjson.
**
** The input is JSON text.  When crosstenant.decode accepts it, the value
** is written with crosstenant.encode; crosstenant.decode must read that
** back to the same value with the same number subtypes, encode must be
** stable, and cjson.decode must read the same value.  cjson reads every
** number as a float, so an integer compares equal to its nearest double
** (exactly when |n| <= 2^53).  The checks are in
** fuzz/lua/fuzz_encode.lua.
*/
#include "embed.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  embed_open("fuzz_encode");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  embed_run(data, size);
  return 0;
}
