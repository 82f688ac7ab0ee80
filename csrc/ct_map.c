/*
** ct_map.c -- the GUID map: open addressing with linear probing and
** backward-shift deletion, so lookups stay O(1) with no tombstones.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_map.h"
#include "ct_records.h"
#include "ct_util.h"

void ct_gmap_init(ct_gmap *m) {
  m->slots = NULL;
  m->used = NULL;
  m->cap = m->count = 0;
}

void ct_gmap_free(ct_gmap *m) {
  free(m->slots);
  free(m->used);
  ct_gmap_init(m);
}

static size_t home(const ct_gmap *m, const ct_guid *k) {
  return (size_t)ct_guid_hash(k) & (m->cap - 1);
}

int ct_gmap_get(const ct_gmap *m, const ct_guid *k, uintptr_t *val) {
  size_t i;
  if (m->cap == 0) return 0;
  for (i = home(m, k); m->used[i]; i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(&m->slots[i].key, k)) {
      if (val) *val = m->slots[i].val;
      return 1;
    }
  }
  return 0;
}

static void insert(ct_gmap *m, const ct_guid *k, uintptr_t val) {
  size_t i;
  for (i = home(m, k); m->used[i]; i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(&m->slots[i].key, k)) {
      m->slots[i].val = val;
      return;
    }
  }
  m->used[i] = 1;
  m->slots[i].key = *k;
  m->slots[i].val = val;
  m->count++;
}

/* make room for `extra` more keys without a later allocation */
int ct_gmap_reserve(ct_gmap *m, size_t extra) {
  size_t need = m->count + extra, cap = m->cap ? m->cap : 8, i;
  ct_gmap old = *m;
  while (need * 2 > cap) cap *= 2;    /* load factor at most 1/2 */
  if (cap == m->cap) return 0;
  m->slots = ct_malloc(cap * sizeof *m->slots);
  m->used = ct_calloc(cap, 1);
  if (m->slots == NULL || m->used == NULL) {
    free(m->slots);
    free(m->used);
    *m = old;
    return -1;
  }
  m->cap = cap;
  m->count = 0;
  for (i = 0; i < old.cap; i++)
    if (old.used[i]) insert(m, &old.slots[i].key, old.slots[i].val);
  free(old.slots);
  free(old.used);
  return 0;
}

int ct_gmap_put(ct_gmap *m, const ct_guid *k, uintptr_t val) {
  size_t i;
  for (i = m->cap ? home(m, k) : 0; m->cap && m->used[i];
       i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(&m->slots[i].key, k)) {   /* replacing never fails */
      m->slots[i].val = val;
      return 0;
    }
  }
  if (ct_gmap_reserve(m, 1) != 0) return -1;
  insert(m, k, val);
  return 0;
}

void ct_gmap_del(ct_gmap *m, const ct_guid *k) {
  size_t i, j, mask = m->cap - 1;
  if (m->cap == 0) return;
  for (i = home(m, k); m->used[i]; i = (i + 1) & mask)
    if (ct_guid_eq(&m->slots[i].key, k)) break;
  if (!m->used[i]) return;
  /* shift later members of the cluster back over the hole */
  for (j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
    size_t h = home(m, &m->slots[j].key);
    /* move j to i unless h lies cyclically in (i, j] */
    if ((j > i) ? (h <= i || h > j) : (h <= i && h > j)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->used[i] = 0;
  m->count--;
}

/* ---------- task index: GUID -> position in a job's task array ---------- */
/*
** Slots hold position + 1 (0: empty); the key is read from the task
** itself, so a slot is 4 bytes, not a copy of the 16-byte GUID.
*/

void ct_tmap_init(ct_tmap *m) {
  m->slots = NULL;
  m->cap = m->count = 0;
}

void ct_tmap_free(ct_tmap *m) {
  free(m->slots);
  ct_tmap_init(m);
}

int ct_tmap_get(const ct_tmap *m, const ct_task *tasks, const ct_guid *k,
                size_t *pos) {
  size_t i;
  if (m->cap == 0) return 0;
  for (i = (size_t)ct_guid_hash(k) & (m->cap - 1); m->slots[i];
       i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(&tasks[m->slots[i] - 1].id, k)) {
      if (pos) *pos = m->slots[i] - 1;
      return 1;
    }
  }
  return 0;
}

static void tmap_insert(ct_tmap *m, const ct_task *tasks, uint32_t pos) {
  size_t i = (size_t)ct_guid_hash(&tasks[pos].id) & (m->cap - 1);
  while (m->slots[i]) i = (i + 1) & (m->cap - 1);
  m->slots[i] = pos + 1;
  m->count++;
}

int ct_tmap_reserve(ct_tmap *m, const ct_task *tasks, size_t extra) {
  size_t need = m->count + extra, cap = m->cap ? m->cap : 8, i;
  ct_tmap old = *m;
  while (need * 2 > cap) cap *= 2;
  if (cap == m->cap) return 0;
  m->slots = ct_calloc(cap, sizeof *m->slots);
  if (m->slots == NULL) {
    *m = old;
    return -1;
  }
  m->cap = cap;
  m->count = 0;
  for (i = 0; i < old.cap; i++)
    if (old.slots[i]) tmap_insert(m, tasks, old.slots[i] - 1);
  free(old.slots);
  return 0;
}

void ct_tmap_put(ct_tmap *m, const ct_task *tasks, size_t pos) {
  tmap_insert(m, tasks, (uint32_t)pos);
}

/* ---------- user index: GUID -> the job holding the user ---------- */
/* a slot names (job, position); the key is that task's id */

void ct_umap_init(ct_umap *m) {
  m->slots = NULL;
  m->cap = m->count = 0;
}

void ct_umap_free(ct_umap *m) {
  free(m->slots);
  ct_umap_init(m);
}

static const ct_guid *ukey(const ct_umap_slot *s) {
  return &s->job->tasks[s->pos].id;
}

static size_t uhome(const ct_umap *m, const ct_guid *k) {
  return (size_t)ct_guid_hash(k) & (m->cap - 1);
}

int ct_umap_get(const ct_umap *m, const ct_guid *k, ct_job **job) {
  size_t i;
  if (m->cap == 0) return 0;
  for (i = uhome(m, k); m->slots[i].job; i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(ukey(&m->slots[i]), k)) {
      if (job) *job = m->slots[i].job;
      return 1;
    }
  }
  return 0;
}

static void umap_insert(ct_umap *m, ct_job *job, uint32_t pos) {
  const ct_guid *k = &job->tasks[pos].id;
  size_t i;
  for (i = uhome(m, k); m->slots[i].job; i = (i + 1) & (m->cap - 1)) {
    if (ct_guid_eq(ukey(&m->slots[i]), k)) {      /* replace */
      m->slots[i].job = job;
      m->slots[i].pos = pos;
      return;
    }
  }
  m->slots[i].job = job;
  m->slots[i].pos = pos;
  m->count++;
}

int ct_umap_reserve(ct_umap *m, size_t extra) {
  size_t need = m->count + extra, cap = m->cap ? m->cap : 8, i;
  ct_umap old = *m;
  while (need * 2 > cap) cap *= 2;
  if (cap == m->cap) return 0;
  m->slots = ct_calloc(cap, sizeof *m->slots);
  if (m->slots == NULL) {
    *m = old;
    return -1;
  }
  m->cap = cap;
  m->count = 0;
  for (i = 0; i < old.cap; i++)
    if (old.slots[i].job) umap_insert(m, old.slots[i].job, old.slots[i].pos);
  free(old.slots);
  return 0;
}

void ct_umap_put(ct_umap *m, ct_job *job, size_t pos) {
  umap_insert(m, job, (uint32_t)pos);
}

void ct_umap_del(ct_umap *m, const ct_guid *k) {
  size_t i, j, mask = m->cap - 1;
  if (m->cap == 0) return;
  for (i = uhome(m, k); m->slots[i].job; i = (i + 1) & mask)
    if (ct_guid_eq(ukey(&m->slots[i]), k)) break;
  if (!m->slots[i].job) return;
  for (j = (i + 1) & mask; m->slots[j].job; j = (j + 1) & mask) {
    size_t h = uhome(m, ukey(&m->slots[j]));
    if ((j > i) ? (h <= i || h > j) : (h <= i && h > j)) {
      m->slots[i] = m->slots[j];
      i = j;
    }
  }
  m->slots[i].job = NULL;
  m->count--;
}
