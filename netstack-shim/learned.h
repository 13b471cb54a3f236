/* What the sandbox's resolver learned: for each allowed name it answered,
 * the addresses upstream gave, under the rule that allowed the name, until
 * their TTL runs out. Shared by the resolver threads (writers) and the
 * sentry's connect/sendto handlers (readers). */
#ifndef USBOX_NETSTACK_LEARNED_H
#define USBOX_NETSTACK_LEARNED_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack-shim/rules.h"

#define NET_LEARNED_MAX 4096

struct net_learned_cache {
  pthread_mutex_t lock;
  struct net_learned *entries;
  size_t n;
};

int net_learned_init(struct net_learned_cache *c);
void net_learned_destroy(struct net_learned_cache *c);
/* Remember (or refresh) addr for name under rule until expires. When full,
 * expired entries go first, then the one closest to expiry. */
void net_learned_add(struct net_learned_cache *c, const struct net_addr *addr, int rule,
                     const char *name, uint64_t expires);
/* Copy the entries for addr that are still valid at now into out (at most
 * max); returns how many. */
size_t net_learned_find(struct net_learned_cache *c, const struct net_addr *addr, uint64_t now,
                        struct net_learned *out, size_t max);

/* Seconds on CLOCK_MONOTONIC (TTLs do not care about wall-clock jumps). */
uint64_t net_now(void);

#endif
