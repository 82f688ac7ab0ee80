/*
** ct_map.c -- the GUID map: open addressing with linear probing and
** backward-shift deletion, so lookups stay O(1) with no tombstones.
*/
#include <stdlib.h>
#include <string.h>

#include "ct_store.h"

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
  m->slots = malloc(cap * sizeof *m->slots);
  m->used = calloc(cap, 1);
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
