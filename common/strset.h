/* A set of strings with their insertion numbers: open addressing on FNV-1a,
 * for lookups on the hot path (a hidden path, a directory holding hidden
 * names) that a linear scan of a few hundred entries made slow. The set
 * keeps pointers to the caller's strings (they must outlive it). */
#ifndef USBOX_COMMON_STRSET_H
#define USBOX_COMMON_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strset {
  struct strset_slot {
    const char *s; /* NULL: empty */
    size_t len;
    uint64_t hash;
    size_t value;
  } *slots;
  size_t cap; /* a power of two, at least twice the count */
  size_t count;
};

/* FNV-1a of len bytes, continuing from h (start with STRSET_HASH_INIT). */
#define STRSET_HASH_INIT 0xcbf29ce484222325ull
static inline uint64_t strset_hash(uint64_t h, const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

int strset_init(struct strset *set, size_t expected);
void strset_free(struct strset *set);
/* Insert s[0..len) with value unless present; *value gets the stored one.
 * 0, or -1 without memory. */
int strset_insert(struct strset *set, const char *s, size_t len, size_t *value);
/* The value of s[0..len), hashed as hash, or false. */
bool strset_find(const struct strset *set, const char *s, size_t len, uint64_t hash,
                 size_t *value);

#endif
