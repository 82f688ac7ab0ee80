/*
** fuzz_time.c -- libFuzzer target for ct_time_parse (and, on the same
** text, ct_duration_parse).
**
** Checks, for every input the parser accepts:
**  - the result is within 0001-01-01..9999-12-31 and digits is 0..7;
**  - ct_time_format gives "YYYY-MM-DDTHH:MM:SS[.f{digits}]Z";
**  - parsing that text again gives the same ticks and digits, and
**    formatting again gives the same text (format then parse is exact);
** and, for a rejection, that `why` is a short static reason.  Durations:
** an accepted one is never negative.  Any failed check aborts.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TICKS_PER_DAY (86400 * CT_TICKS_PER_SEC)
#define TIME_MIN (-719162 * TICKS_PER_DAY)
#define TIME_MAX (2932897 * TICKS_PER_DAY - 1)

static void die(const char *what, const uint8_t *data, size_t size)
{
  size_t i;
  fprintf(stderr, "fuzz_time: %s; input: '", what);
  for (i = 0; i < size && i < 80; i++) {
    unsigned c = data[i];
    if (c >= 0x20 && c < 0x7f) fputc((int)c, stderr);
    else fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "'\n");
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  const char *why = NULL;
  ct_time t, u;
  char out[29], again[29];
  size_t n, m;
  int64_t ticks;

  if (ct_time_parse(s, size, &t, &why) == 0) {
    if (t.ticks < TIME_MIN || t.ticks > TIME_MAX)
      die("accepted a time out of 0001..9999", data, size);
    if (t.digits < 0 || t.digits > 7) die("digits out of 0..7", data, size);
    n = ct_time_format(&t, out);
    if (n != (size_t)(20 + (t.digits ? t.digits + 1 : 0)) ||
        strlen(out) != n || out[n - 1] != 'Z')
      die("format wrote an unexpected shape", data, size);
    why = NULL;
    if (ct_time_parse(out, n, &u, &why) != 0)
      die("format wrote text the parser refuses", data, size);
    if (u.ticks != t.ticks) die("round trip changed the ticks", data, size);
    if (u.digits != t.digits) die("round trip changed digits", data, size);
    m = ct_time_format(&u, again);
    if (m != n || memcmp(out, again, n) != 0)
      die("formatting is not stable", data, size);
  } else if (why == NULL || strlen(why) == 0 || strlen(why) > 40) {
    die("rejected without a reason", data, size);
  }

  if (ct_duration_parse(s, size, &ticks) == 0 && ticks < 0)
    die("a negative duration", data, size);
  return 0;
}
