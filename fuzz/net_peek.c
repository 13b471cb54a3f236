/* The first bytes of a connection only a name rule allows, as the relay
 * judges them (netstack-shim/peek.c): an agent controls every byte. The
 * judgement must be total (never MORE at NET_PEEK_MAX bytes), a name it
 * finds must be a canonical host name, and judging a prefix must never
 * find a name the whole input does not carry (the relay judges as bytes
 * arrive). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstack-shim/peek.h"
#include "netstack-shim/rules.h"

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "net_peek: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);      \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct net_peek whole, part;
  enum net_peek_verdict v = net_peek_name(data, size, &whole);
  if (size >= NET_PEEK_MAX)
    CHECK(v != NET_PEEK_MORE);
  if (v == NET_PEEK_NAME) {
    char canon[NET_NAME_MAX];
    CHECK(net_name_canon(whole.name, canon, sizeof canon) == 0);
    CHECK(strcmp(canon, whole.name) == 0);
  }
  if (v == NET_PEEK_BAD)
    CHECK(whole.why[0] != '\0' && strlen(whole.why) < sizeof whole.why);
  /* the relay stops at the first answer that is not MORE: that answer must
   * be the one the whole input gives, or the bytes after it never count */
  for (size_t n = 1; n < size && n < 64; n++) {
    enum net_peek_verdict pv = net_peek_name(data, n, &part);
    if (pv == NET_PEEK_NAME)
      CHECK(v == NET_PEEK_NAME && strcmp(part.name, whole.name) == 0);
    if (pv != NET_PEEK_MORE)
      break;
  }
  return 0;
}
