/*
** fuzz_request.c -- libFuzzer target for graph:request, the whole path
** from a request's text to the store and back, through Lua.
**
** The input is up to 4 requests, split by a line holding only "%%";
** each is a method line, a URL line (path or whole URL, query string
** and all), header lines "Name: value" up to an empty line, then the
** body text (no empty line: no body).  The method ADVANCE moves the
** model clock by the URL line (seconds or an ISO 8601 duration).  The
** checks are in fuzz/lua/fuzz_request.lua; see docs/hardening.md.
*/
#include "embed.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  embed_open("fuzz_request");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  embed_run(data, size);
  return 0;
}
