/* The few DNS message operations the sandbox's resolver needs (RFC 1035):
 * read the question of a query, build an error answer to it, and read the
 * A/AAAA records of an upstream answer that belong to the question's name
 * (directly or through its CNAME chain). Pure functions over byte buffers,
 * unit-tested in tests/unit/test_net_dns.c. Every read is bounds-checked and
 * compression pointers are followed a bounded number of times. */
#ifndef USBOX_NETSTACK_DNS_H
#define USBOX_NETSTACK_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "netstack-shim/rules.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_REFUSED 5

#define DNS_MAX_MSG 65535

struct dns_question {
  uint16_t id;
  uint16_t flags;
  char name[NET_NAME_MAX + 2]; /* as sent, dotted, lower case; "" for the root */
  uint16_t qtype, qclass;
  size_t end; /* offset just past the question */
};

/* A query: QR clear, opcode QUERY, exactly one question. 0 or -EINVAL. The
 * name is decoded as text; a label holding '.', NUL or non-printing bytes
 * is refused (-EINVAL): such a name cannot match a rule. */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_question *q);

/* An answer to query q with no records and rcode (NXDOMAIN, SERVFAIL...):
 * the query's header and question, QR and RA set, RD as asked. Returns its
 * length, or 0 if out is too small. */
size_t dns_build_error(const uint8_t *query, const struct dns_question *q, int rcode,
                       uint8_t *out, size_t cap);

/* The answer for a name of the sandbox's own (its host name): A
 * 127.0.0.1 or AAAA ::1 (TTL 0), no record for other types, as the host's
 * /etc/hosts answers for the host's name. Its length, or 0 if out is too
 * small. */
size_t dns_build_loopback(const uint8_t *query, const struct dns_question *q, uint8_t *out,
                          size_t cap);

typedef void (*dns_addr_fn)(void *ctx, const struct net_addr *a, uint32_t ttl);

/* Check that msg answers q (same id, QR set, the same question), then call
 * fn (if not NULL) for each A/AAAA record of class IN in the answer section
 * whose owner is q's name or a name q's name is a CNAME (chain) of. Returns
 * the rcode (>= 0), or -EINVAL if msg is not an answer to q or is
 * malformed. */
int dns_parse_response(const uint8_t *msg, size_t len, const struct dns_question *q,
                       dns_addr_fn fn, void *ctx);

#endif
