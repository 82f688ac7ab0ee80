/*
** fuzz_snap.c -- libFuzzer target for the store image reader (ct_snap.c).
**
** Byte 0 picks the form of the rest:
**   odd:  the rest is a whole image, header and checksum included (the
**         header checks: magic, format, flags, lengths, checksum);
**   even: the rest is an image's body (its sections); the harness adds a
**         valid header and checksum, so the section readers see every
**         input rather than checksum failures.
** Checks, any failure aborts:
**   - ct_snap_read returns a store or NULL with a non-empty message;
**   - a store read writes an image that reads back to a store writing
**     the very same image (images are canonical);
**   - the store read can run its lifecycle for 30 days of model time and
**     still writes an image that reads back (a loaded store is a store
**     the core can work with).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_snap.h"
#include "ct_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *msg)
{
  fprintf(stderr, "fuzz_snap: %s%s%s\n", what, msg ? ": " : "",
          msg ? msg : "");
  abort();
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
  int i;
  for (i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* an image around a body: header, body, checksum */
static unsigned char *wrap(const uint8_t *body, size_t n, size_t *len)
{
  unsigned char *p = malloc(CT_SNAP_HEADER + n + 8);
  if (p == NULL) die("out of memory", NULL);
  memcpy(p, CT_SNAP_MAGIC, 8);
  put_le(p + 8, CT_SNAP_FORMAT, 4);
  put_le(p + 12, 0, 4);
  put_le(p + 16, n, 8);
  if (n > 0) memcpy(p + CT_SNAP_HEADER, body, n);
  put_le(p + CT_SNAP_HEADER + n, ct_snap_checksum(p + CT_SNAP_HEADER, n), 8);
  *len = CT_SNAP_HEADER + n + 8;
  return p;
}

/* s's image reads back to a store whose image is the same */
static void round_trip(const ct_store *s)
{
  unsigned char *a, *b;
  size_t na, nb;
  char msg[300];
  ct_store *r;
  if (ct_snap_write(s, &a, &na) != 0) die("write failed", NULL);
  r = ct_snap_read(a, na, msg, sizeof msg);
  if (r == NULL) die("a store's own image does not read back", msg);
  if (ct_snap_write(r, &b, &nb) != 0) die("write failed", NULL);
  if (na != nb || memcmp(a, b, na) != 0) die("images are not canonical", NULL);
  free(a);
  free(b);
  ct_store_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  unsigned char *img = NULL;
  size_t len;
  char msg[300];
  ct_store *s;
  if (size == 0) return 0;
  if (data[0] & 1) {
    s = ct_snap_read(data + 1, size - 1, msg, sizeof msg);
  } else {
    img = wrap(data + 1, size - 1, &len);
    s = ct_snap_read(img, len, msg, sizeof msg);
  }
  free(img);
  if (s == NULL) {
    if (msg[0] == '\0') die("refused with no message", NULL);
    return 0;
  }
  round_trip(s);
  ct_store_advance(s, s->now + 30LL * 86400 * CT_TICKS_PER_SEC <
                        253402300799LL * CT_TICKS_PER_SEC
                        ? s->now + 30LL * 86400 * CT_TICKS_PER_SEC
                        : s->now);
  round_trip(s);
  ct_store_free(s);
  return 0;
}
