/* The first bytes a client sends on a connection a name rule allowed: the
 * name they carry. A TLS ClientHello's server name (SNI, RFC 6066), or an
 * HTTP/1 request's Host (and the host of an absolute or CONNECT target,
 * which must agree with it). Pure functions over a byte buffer: no I/O, no
 * allocation; every read is bounds-checked (tests/unit/test_net_peek.c,
 * fuzz/net_decode.c). */
#ifndef USBOX_NETSTACK_PEEK_H
#define USBOX_NETSTACK_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netstack-shim/rules.h"

/* Whatever a client says first, it is judged within this many bytes: a
 * ClientHello of a few KiB (post-quantum key shares included), request
 * headers of a few KiB. */
#define NET_PEEK_MAX 16384

enum net_peek_verdict {
  NET_PEEK_MORE, /* not enough bytes yet to say */
  NET_PEEK_NAME, /* a name was found: out->name */
  NET_PEEK_BAD,  /* no name a rule can check: out->why says why */
};

enum net_peek_proto { NET_PEEK_UNKNOWN, NET_PEEK_TLS, NET_PEEK_HTTP };

struct net_peek {
  enum net_peek_proto proto;
  char name[NET_NAME_MAX]; /* canonical (net_name_canon), when NET_PEEK_NAME */
  bool ech;                /* the ClientHello carries encrypted_client_hello */
  char why[160];           /* NET_PEEK_BAD: one line, printable */
};

/* Judge the first len bytes the client sent. At NET_PEEK_MAX bytes or
 * more, the answer is never NET_PEEK_MORE. */
enum net_peek_verdict net_peek_name(const uint8_t *buf, size_t len, struct net_peek *out);

#endif
