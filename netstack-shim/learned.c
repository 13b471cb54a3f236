#include "netstack-shim/learned.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t net_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

int net_learned_init(struct net_learned_cache *c)
{
  c->entries = calloc(NET_LEARNED_MAX, sizeof *c->entries);
  c->n = 0;
  if (c->entries == NULL)
    return -ENOMEM;
  pthread_mutex_init(&c->lock, NULL);
  return 0;
}

void net_learned_destroy(struct net_learned_cache *c)
{
  if (c->entries == NULL)
    return;
  pthread_mutex_destroy(&c->lock);
  free(c->entries);
  c->entries = NULL;
  c->n = 0;
}

/* The slot to reuse when the cache is full: an expired entry, else the one
 * that expires first. */
static size_t victim(const struct net_learned_cache *c, uint64_t now)
{
  size_t best = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (c->entries[i].expires <= now)
      return i;
    if (c->entries[i].expires < c->entries[best].expires)
      best = i;
  }
  return best;
}

void net_learned_add(struct net_learned_cache *c, const struct net_addr *addr, int rule,
                     const char *name, uint64_t expires)
{
  pthread_mutex_lock(&c->lock);
  struct net_learned *slot = NULL;
  for (size_t i = 0; i < c->n && slot == NULL; i++)
    if (c->entries[i].rule == rule && net_addr_equal(&c->entries[i].addr, addr))
      slot = &c->entries[i];
  if (slot == NULL)
    slot = c->n < NET_LEARNED_MAX ? &c->entries[c->n++] : &c->entries[victim(c, net_now())];
  else if (slot->expires > expires)
    expires = slot->expires; /* a shorter TTL from another answer does not cut it short */
  slot->addr = *addr;
  slot->rule = rule;
  slot->expires = expires;
  snprintf(slot->name, sizeof slot->name, "%s", name);
  pthread_mutex_unlock(&c->lock);
}

size_t net_learned_find(struct net_learned_cache *c, const struct net_addr *addr, uint64_t now,
                        struct net_learned *out, size_t max)
{
  size_t n = 0;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->n && n < max; i++)
    if (c->entries[i].expires > now && net_addr_equal(&c->entries[i].addr, addr))
      out[n++] = c->entries[i];
  pthread_mutex_unlock(&c->lock);
  return n;
}
