#include "common/strset.h"

#include <stdlib.h>
#include <string.h>

int strset_init(struct strset *set, size_t expected)
{
  size_t cap = 16;
  while (cap < 2 * expected + 2)
    cap *= 2;
  set->slots = calloc(cap, sizeof *set->slots);
  set->cap = set->slots != NULL ? cap : 0;
  set->count = 0;
  return set->slots != NULL ? 0 : -1;
}

void strset_free(struct strset *set)
{
  free(set->slots);
  set->slots = NULL;
  set->cap = set->count = 0;
}

static struct strset_slot *slot_for(const struct strset *set, const char *s, size_t len,
                                    uint64_t hash)
{
  for (size_t i = (size_t)hash & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
    struct strset_slot *slot = &set->slots[i];
    if (slot->s == NULL ||
        (slot->hash == hash && slot->len == len && memcmp(slot->s, s, len) == 0))
      return slot;
  }
}

static int grow(struct strset *set)
{
  struct strset bigger;
  if (strset_init(&bigger, set->cap) < 0)
    return -1;
  for (size_t i = 0; i < set->cap; i++)
    if (set->slots[i].s != NULL)
      *slot_for(&bigger, set->slots[i].s, set->slots[i].len, set->slots[i].hash) = set->slots[i];
  bigger.count = set->count;
  free(set->slots);
  *set = bigger;
  return 0;
}

int strset_insert(struct strset *set, const char *s, size_t len, size_t *value)
{
  if (2 * (set->count + 1) > set->cap && grow(set) < 0)
    return -1;
  uint64_t hash = strset_hash(STRSET_HASH_INIT, s, len);
  struct strset_slot *slot = slot_for(set, s, len, hash);
  if (slot->s == NULL) {
    *slot = (struct strset_slot){.s = s, .len = len, .hash = hash, .value = *value};
    set->count++;
  }
  *value = slot->value;
  return 0;
}

bool strset_find(const struct strset *set, const char *s, size_t len, uint64_t hash,
                 size_t *value)
{
  if (set->cap == 0)
    return false;
  const struct strset_slot *slot = slot_for(set, s, len, hash);
  if (slot->s == NULL)
    return false;
  *value = slot->value;
  return true;
}
