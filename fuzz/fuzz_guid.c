/*
** fuzz_guid.c -- libFuzzer target for ct_guid_parse / ct_guid_format,
** and for the GUID map (ct_map.c) that every index of the store uses.
**
** 1. The whole input as GUID text: when accepted, it has 36 bytes and
**    formatting gives the input lowercased; parsing that again gives the
**    same 16 bytes and an equal hash.
** 2. The input as a program of map operations (put, get, delete,
**    reserve) on a handful of keys that collide on purpose, checked
**    against a plain array after every step: lookups, counts, the load
**    factor, and that every stored key is reachable.
** Any failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_store.h"
#include "ct_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
  fprintf(stderr, "fuzz_guid: %s\n", what);
  abort();
}

static int lower(int c)
{
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static void round_trip(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  ct_guid g, h;
  char out[37], again[37];
  size_t i;
  if (ct_guid_parse(s, size, &g) != 0) return;
  if (size != 36) die("accepted a GUID that is not 36 bytes");
  ct_guid_format(&g, out);
  if (strlen(out) != 36) die("format wrote other than 36 characters");
  for (i = 0; i < 36; i++)
    if (out[i] != lower((unsigned char)s[i]))
      die("format is not the input lowercased");
  if (ct_guid_parse(out, 36, &h) != 0) die("format wrote an unparsable GUID");
  if (!ct_guid_eq(&g, &h)) die("round trip changed the GUID");
  if (ct_guid_hash(&g) != ct_guid_hash(&h)) die("hash is not stable");
  ct_guid_format(&h, again);
  if (strcmp(out, again) != 0) die("format is not stable");
  if (ct_guid_is_nil(&g) != (strcmp(out, "00000000-0000-0000-0000-"
                                         "000000000000") == 0))
    die("ct_guid_is_nil disagrees with the text");
}

/* keys: 64 GUIDs that differ in one byte, so many share home slots */
#define NKEYS 64

static void key_of(unsigned k, ct_guid *g)
{
  memset(g, 0, sizeof *g);
  g->b[15] = (uint8_t)k;
  g->b[3] = (uint8_t)(k * 7);
}

static void map_program(const uint8_t *data, size_t size)
{
  ct_gmap m;
  uintptr_t model[NKEYS];
  int present[NKEYS];
  size_t i, count = 0;
  unsigned k;
  ct_gmap_init(&m);
  memset(present, 0, sizeof present);
  memset(model, 0, sizeof model);
  for (i = 0; i + 1 < size; i += 2) {
    unsigned op = data[i] >> 6;
    ct_guid g;
    uintptr_t v = 0;
    k = data[i] % NKEYS;
    key_of(k, &g);
    switch (op) {
    case 0:
    case 1:                               /* put */
      if (ct_gmap_put(&m, &g, data[i + 1]) != 0) die("put failed");
      if (!present[k]) count++;
      present[k] = 1;
      model[k] = data[i + 1];
      break;
    case 2:                               /* delete */
      ct_gmap_del(&m, &g);
      if (present[k]) count--;
      present[k] = 0;
      break;
    default:                              /* reserve, then get */
      if (ct_gmap_reserve(&m, data[i + 1] % 16) != 0) die("reserve failed");
      if (ct_gmap_get(&m, &g, &v) != present[k]) die("get disagrees");
      if (present[k] && v != model[k]) die("get gave another value");
      break;
    }
    if (m.count != count) die("count disagrees");
    if (m.cap && m.count * 2 > m.cap) die("load factor over 1/2");
  }
  for (k = 0; k < NKEYS; k++) {
    ct_guid g;
    uintptr_t v = 0;
    key_of(k, &g);
    if (ct_gmap_get(&m, &g, &v) != present[k]) die("final get disagrees");
    if (present[k] && v != model[k]) die("final value disagrees");
  }
  ct_gmap_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  round_trip(data, size);
  map_program(data, size);
  return 0;
}
