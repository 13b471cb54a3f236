/* The addresses the agent passes to connect, bind, sendto and sendmsg, read
 * as the kernel reads them: pure functions over the sentry's own copy (a
 * byte buffer and its length), which answer a decoded result or -errno.
 * The sentry decides with these (route.c, msgcopy.c, sentry/sys_net.c), so the code that is
 * fuzzed (fuzz/net_decode.c) and unit-tested (tests/unit/test_net_sockaddr.c)
 * is the code that runs. */
#ifndef USBOX_NETSTACK_SOCKADDR_H
#define USBOX_NETSTACK_SOCKADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define NET_UNIX_PATH_MAX 108 /* sizeof(struct sockaddr_un.sun_path) */

/* move_addr_to_kernel: the address length connect, bind and sendto take is
 * 0..sizeof(struct sockaddr_storage); anything else is EINVAL. 0 or
 * -EINVAL. */
int net_addrlen_check(int len);

/* __copy_msghdr: the length of a msghdr's name the kernel takes. No name
 * (a NULL pointer, or length 0) is 0; a negative length is -EINVAL; a
 * length past sizeof(struct sockaddr_storage) is clamped to it (unlike
 * sendto's, which is EINVAL). */
int net_msg_namelen(const void *name, int namelen);

/* The bytes a message carries (the sum of its iovec lengths): 0 and *total,
 * or -EINVAL for a length that is negative as ssize_t or a sum that wraps. */
int net_iov_total(const struct iovec *iov, size_t n, size_t *total);

enum net_unix_kind {
  NET_UNIX_PATH = 1, /* a file system name */
  NET_UNIX_ABSTRACT, /* sun_path[0] == '\0': a name of the network namespace */
};

struct net_unix_addr {
  enum net_unix_kind kind;
  /* PATH: strlen(name), 1..NET_UNIX_PATH_MAX.
   * ABSTRACT: the bytes after the leading NUL, 0..NET_UNIX_PATH_MAX - 1. */
  size_t len;
  /* PATH: the name the kernel resolves, NUL-terminated.
   * ABSTRACT: the name's bytes (NULs are part of it), then a NUL. */
  char name[NET_UNIX_PATH_MAX + 1];
};

/* An AF_UNIX address of len bytes at sa, as unix_validate_addr and
 * unix_mkname_bsd read it: len must be more than offsetof(sun_path) and at
 * most sizeof(struct sockaddr_un) (else -EINVAL; bind's autobind at exactly
 * offsetof(sun_path) is the caller's case), the family AF_UNIX (else
 * -EINVAL). A path ends at len, or at its first NUL before that. Reads no
 * byte at or past sa + len. 0 or -EINVAL. */
int net_unix_addr_decode(const void *sa, size_t len, struct net_unix_addr *out);

#endif
