/*
** ct_map.h -- the store's hash maps, keyed by GUID: the GUID map (a
** word per key: tenants, jobs by id, scripted faults), a job's task
** index and a tenant's active users.  Open addressing, linear probing,
** backward-shift deletion.  No Lua.  Reserve first, and a put that
** follows cannot fail.
*/
#ifndef CT_MAP_H
#define CT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "ct_util.h"

struct ct_task;              /* ct_records.h */
struct ct_job;

/* an open-addressing map from GUID to a word */
typedef struct ct_gmap_slot { ct_guid key; uintptr_t val; } ct_gmap_slot;
typedef struct ct_gmap {
  ct_gmap_slot *slots;
  uint8_t *used;
  size_t cap, count;
} ct_gmap;

/* a job's task index: slots hold position + 1, keys are read from the
   tasks themselves (4 bytes a slot) */
typedef struct ct_tmap {
  uint32_t *slots;
  size_t cap, count;
} ct_tmap;

/* a tenant's active users: each slot names a job and a task position */
typedef struct ct_umap_slot {
  struct ct_job *job;          /* NULL: empty */
  uint32_t pos;
} ct_umap_slot;
typedef struct ct_umap {
  ct_umap_slot *slots;
  size_t cap, count;
} ct_umap;

/* GUID map (also used by the binding) */
void ct_gmap_init(ct_gmap *m);
void ct_gmap_free(ct_gmap *m);
int ct_gmap_get(const ct_gmap *m, const ct_guid *k, uintptr_t *val);
int ct_gmap_put(ct_gmap *m, const ct_guid *k, uintptr_t val); /* -1: OOM */
/* room for `extra` more keys, so the next puts cannot fail; -1: OOM */
int ct_gmap_reserve(ct_gmap *m, size_t extra);
void ct_gmap_del(ct_gmap *m, const ct_guid *k);

/* task index (reserve, then put cannot fail) */
void ct_tmap_init(ct_tmap *m);
void ct_tmap_free(ct_tmap *m);
int ct_tmap_get(const ct_tmap *m, const struct ct_task *tasks,
                const ct_guid *k, size_t *pos);
int ct_tmap_reserve(ct_tmap *m, const struct ct_task *tasks, size_t extra);
void ct_tmap_put(ct_tmap *m, const struct ct_task *tasks, size_t pos);

/* active users (reserve, then put cannot fail; put replaces) */
void ct_umap_init(ct_umap *m);
void ct_umap_free(ct_umap *m);
int ct_umap_get(const ct_umap *m, const ct_guid *k, struct ct_job **job);
int ct_umap_reserve(ct_umap *m, size_t extra);
void ct_umap_put(ct_umap *m, struct ct_job *job, size_t pos);
void ct_umap_del(ct_umap *m, const ct_guid *k);

#endif
