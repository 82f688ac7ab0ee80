/*
** ct_snap.h -- the store as a versioned binary image, and back.  No Lua.
**
** An image holds the whole store: every tenant, job and task with every
** field, the clock, the schedule, scripted outcomes not yet applied, the
** seeded generators (ids and request ids), timings, options, counters
** and the front end's defaults.  Indexes are not written: the reader
** rebuilds them.  Observers and event hooks are not part of a store's
** state and are not kept.
**
** Layout (integers little-endian):
**
**   magic    8 bytes  "\x89CTSNAP\n"
**   format   u32      CT_SNAP_FORMAT
**   flags    u32      0
**   length   u64      bytes of the body
**   body     a sequence of sections: tag (4 ASCII bytes), u64 length,
**            that many bytes
**   checksum u64      ct_snap_checksum of the body
**
** Tags follow PNG's rule: a tag whose first letter is upper case is
** critical (a reader that does not know it refuses the image); lower
** case is ancillary (skipped by a reader that does not know it).
**
** Adding a section (state kept by a new part of the store): write a
** writer `int wr(const ct_store *, ct_snap_w *)` and a reader
** `int rd(ct_store *, ct_snap_r *)` with the primitives below (they
** check every length and name the field at fault), and add one line to
** the `sections` table in ct_snap.c.  A reader sees the store as the
** sections before it left it; it must not leave half-made state that
** ct_store_free cannot free.  A new critical section makes images that
** an older crosstenant refuses with a clear message; bump CT_SNAP_FORMAT
** when the meaning of an existing section changes.
*/
#ifndef CT_SNAP_H
#define CT_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include "ct_store.h"

#define CT_SNAP_FORMAT 1
#define CT_SNAP_MAGIC "\x89" "CTSNAP\n"
#define CT_SNAP_HEADER 24          /* magic, format, flags, length */

/*
** The whole store as an image.  Returns 0 with *out (malloc'd, the
** caller frees it) and *len; -1 when out of memory.
*/
int ct_snap_write(const ct_store *s, unsigned char **out, size_t *len);

/*
** A new, independent store from an image.  Returns it, or NULL with a
** message in msg[cap]: "not a crosstenant snapshot", "truncated at byte
** N", "snapshot format 3 is newer than this crosstenant (1)", "corrupt
** snapshot: <field> ... at byte N", "out of memory".  Never loads half:
** on any error nothing is left allocated.
*/
ct_store *ct_snap_read(const void *image, size_t len, char *msg,
                       size_t cap);

/* the image's checksum over n bytes (64-bit, not cryptographic) */
uint64_t ct_snap_checksum(const void *p, size_t n);

/* ---------- primitives for section writers and readers ---------- */

typedef struct ct_snap_w {
  unsigned char *p;
  size_t len, cap;
  int oom;                  /* set once an allocation failed */
} ct_snap_w;

void ct_snap_w_u8(ct_snap_w *w, unsigned v);
void ct_snap_w_u16(ct_snap_w *w, unsigned v);
void ct_snap_w_u32(ct_snap_w *w, uint32_t v);
void ct_snap_w_u64(ct_snap_w *w, uint64_t v);
void ct_snap_w_i64(ct_snap_w *w, int64_t v);
void ct_snap_w_f64(ct_snap_w *w, double v);
void ct_snap_w_guid(ct_snap_w *w, const ct_guid *g);
/* u32 length, then the bytes; NULL is written as length 0xffffffff */
void ct_snap_w_str(ct_snap_w *w, const char *s);
/* n bytes that may hold NULs, as a string is written (NULL: null) */
void ct_snap_w_bytes(ct_snap_w *w, const char *p, size_t n);
/* a stored string (ct_str: p NULL is null), NULs kept */
void ct_snap_w_cstr(ct_snap_w *w, const ct_str *s);

typedef struct ct_snap_r {
  const unsigned char *p;   /* the section's body */
  size_t n, at;             /* its length; the read position */
  size_t base;              /* offset of p in the image, for messages */
  char *msg;
  size_t cap;
} ct_snap_r;

/*
** Each returns 0, or -1 with the message set ("corrupt snapshot: <field>
** runs past the end of its section at byte N").  `field` names what is
** read, e.g. "job.status".
*/
int ct_snap_r_u8(ct_snap_r *r, const char *field, unsigned *v);
int ct_snap_r_u16(ct_snap_r *r, const char *field, unsigned *v);
int ct_snap_r_u32(ct_snap_r *r, const char *field, uint32_t *v);
int ct_snap_r_u64(ct_snap_r *r, const char *field, uint64_t *v);
int ct_snap_r_i64(ct_snap_r *r, const char *field, int64_t *v);
/* a finite double */
int ct_snap_r_f64(ct_snap_r *r, const char *field, double *v);
int ct_snap_r_guid(ct_snap_r *r, const char *field, ct_guid *g);
/*
** A string as ct_snap_w_str wrote it, malloc'd and NUL-terminated (NULL
** when written as NULL and `nullable`); at most `max` bytes, no NUL
** inside.  -1 with the message set, also when out of memory.
*/
int ct_snap_r_str(ct_snap_r *r, const char *field, size_t max,
                  int nullable, char **s);
/* the same for bytes ct_snap_w_bytes wrote: NULs allowed, *n set */
int ct_snap_r_bytes(ct_snap_r *r, const char *field, size_t max,
                    int nullable, char **s, size_t *n);
/* a ct_str as ct_snap_w_cstr wrote it (NULs kept; p NULL for null) */
int ct_snap_r_cstr(ct_snap_r *r, const char *field, size_t max,
                   int nullable, ct_str *s);
/* -1 with "corrupt snapshot: <field> <what> at byte N" (N: the field's
   start, `back` bytes before the read position) */
int ct_snap_r_bad(ct_snap_r *r, const char *field, const char *what,
                  size_t back);
/* -1 with "out of memory" */
int ct_snap_r_oom(ct_snap_r *r);
/* 1 when at least n * each bytes are left (a count is plausible) */
int ct_snap_r_room(const ct_snap_r *r, uint64_t n, size_t each);

#endif
