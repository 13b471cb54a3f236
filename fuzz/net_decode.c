/* What the sentry decodes of the agent's network calls, on arbitrary bytes:
 * socket addresses (netstack-shim/sockaddr.c, rules.c), msghdr lengths and
 * control messages (msg.c), netlink requests. The sentry runs exactly these
 * functions on its copies of agent memory (netstack-shim/route.c,
 * msgcopy.c), so an agent controls every byte given to them here.
 *
 * Input: one selector byte, then the bytes the agent passed:
 *   0 an AF_UNIX address      1 an AF_INET/AF_INET6 address
 *   2 a control buffer        3 a struct msghdr, then iovecs
 *   4 a NETLINK_ROUTE message
 * Each is compared with the kernel's own reading of it, written out again
 * here from the kernel's code (net/unix/af_unix.c, net/core/scm.c,
 * net/socket.c, net/netlink/af_netlink.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "netstack-shim/msg.h"
#include "netstack-shim/rules.h"
#include "netstack-shim/sockaddr.h"

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "net_decode: invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#define SUN_OFF offsetof(struct sockaddr_un, sun_path)

/* ---- AF_UNIX ---- */

/* The kernel: unix_validate_addr, then in its sockaddr_storage copy a NUL
 * at addr_len (unix_mkname_bsd) and strlen of sun_path, or the abstract
 * name's addr_len - 3 bytes. */
static int kernel_unix(const uint8_t *b, size_t len, bool *abstract, char name[130], size_t *n)
{
  if (len <= SUN_OFF || len > sizeof(struct sockaddr_un))
    return -EINVAL;
  sa_family_t f;
  memcpy(&f, b, sizeof f);
  if (f != AF_UNIX)
    return -EINVAL;
  char k[sizeof(struct sockaddr_storage) + 1] = {0};
  memcpy(k, b, len);
  k[len] = '\0';
  *abstract = k[SUN_OFF] == '\0';
  *n = *abstract ? len - SUN_OFF - 1 : strlen(k + SUN_OFF);
  memcpy(name, k + SUN_OFF + (*abstract ? 1 : 0), *n);
  return 0;
}

static void unix_addr(const uint8_t *b, size_t len)
{
  struct net_unix_addr ua;
  int r = net_unix_addr_decode(b, len, &ua);
  bool abstract = false;
  char name[130];
  size_t n = 0;
  int want = kernel_unix(b, len, &abstract, name, &n);
  CHECK(r == want);
  if (r == 0) {
    CHECK(ua.kind == (abstract ? NET_UNIX_ABSTRACT : NET_UNIX_PATH));
    CHECK(ua.len == n && memcmp(ua.name, name, n) == 0);
    CHECK(ua.name[ua.len] == '\0'); /* terminated, in every kind */
    if (ua.kind == NET_UNIX_PATH)
      CHECK(ua.len >= 1 && ua.len <= NET_UNIX_PATH_MAX && strlen(ua.name) == ua.len);
    else
      CHECK(ua.len <= NET_UNIX_PATH_MAX - 1);
  }
  /* as the sentry calls it, on a sockaddr_storage: what lies past the
   * length changes nothing */
  if (net_addrlen_check((int)len) == 0) {
    struct sockaddr_storage ss;
    memset(&ss, 0xff, sizeof ss);
    memcpy(&ss, b, len);
    struct net_unix_addr again;
    CHECK(net_unix_addr_decode(&ss, len, &again) == r);
    CHECK(r != 0 || memcmp(&again, &ua, sizeof ua) == 0);
  }
}

/* ---- AF_INET, AF_INET6 ---- */

static void inet_dest(const struct sockaddr_storage *ss, size_t len, int proto)
{
  struct net_dest d, again;
  int r = net_dest_from_sockaddr(ss, len, proto, &d);
  if (ss->ss_family == AF_INET)
    CHECK(r == (len < sizeof(struct sockaddr_in) ? -EINVAL : 0));
  else if (ss->ss_family == AF_INET6)
    CHECK(r == (len < 24 ? -EINVAL : 0));
  else
    CHECK(r == -EAFNOSUPPORT);
  if (r < 0)
    return;
  CHECK(d.proto == proto);
  CHECK(d.addr.family == AF_INET || d.addr.family == AF_INET6);
  uint16_t port;
  memcpy(&port, (const uint8_t *)ss + 2, sizeof port); /* sin_port and sin6_port */
  CHECK(d.port == ntohs(port));
  static const uint8_t zero[16];
  CHECK(memcmp(d.addr.b, zero, d.addr.family == AF_INET ? 4 : 16) != 0); /* never "any" */
  /* what the sentry connects to (normalised) is what it checked */
  struct sockaddr_storage norm = *ss;
  net_sockaddr_normalize(&norm);
  CHECK(net_dest_from_sockaddr(&norm, len, proto, &again) == 0);
  CHECK(net_addr_equal(&again.addr, &d.addr) && again.port == d.port);
  struct sockaddr_storage twice = norm;
  net_sockaddr_normalize(&twice);
  CHECK(memcmp(&twice, &norm, sizeof norm) == 0);
  char text[8], full[128];
  net_dest_format(&d, text, sizeof text); /* truncated, never past the buffer */
  net_dest_format(&d, full, sizeof full);
  CHECK(strlen(text) < sizeof text && strlen(full) < sizeof full);
}

static void inet_sockaddr(const uint8_t *b, size_t len)
{
  int r = net_addrlen_check((int)len);
  CHECK(r == (len > sizeof(struct sockaddr_storage) ? -EINVAL : 0));
  if (r < 0)
    return;
  /* read_sockaddr: a zeroed sockaddr_storage with the agent's bytes */
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  memcpy(&ss, b, len);
  inet_dest(&ss, len, IPPROTO_TCP);
  inet_dest(&ss, len, IPPROTO_UDP);
}

/* ---- control messages ---- */

enum { K_END = 0 };

/* __scm_send: for_each_cmsghdr, CMSG_OK first (so the kernel's next never
 * runs on a bad length), then the SOL_SOCKET kinds. 1 with the message's
 * kind, 0 at the end, -EINVAL. */
static int kernel_cmsg(uint8_t *ctl, size_t len, struct cmsghdr **c, size_t *fds, size_t *nfds)
{
  size_t off;
  if (*c == NULL)
    off = 0;
  else
    off = (size_t)((uint8_t *)*c - ctl) + CMSG_ALIGN((*c)->cmsg_len);
  if (off + sizeof(struct cmsghdr) > len)
    return K_END;
  *c = (struct cmsghdr *)(ctl + off);
  if ((*c)->cmsg_len < sizeof(struct cmsghdr) || (*c)->cmsg_len > len - off)
    return -EINVAL;
  *nfds = 0;
  if ((*c)->cmsg_level == SOL_SOCKET && (*c)->cmsg_type == SCM_RIGHTS) {
    *nfds = ((*c)->cmsg_len - sizeof(struct cmsghdr)) / sizeof(int);
    if (*nfds > 253 || *fds + *nfds > 253)
      return -EINVAL;
    *fds += *nfds;
    return NET_CMSG_RIGHTS;
  }
  if ((*c)->cmsg_level == SOL_SOCKET && (*c)->cmsg_type == SCM_CREDENTIALS)
    return (*c)->cmsg_len == CMSG_LEN(sizeof(struct ucred)) ? NET_CMSG_CREDS : -EINVAL;
  return net_cmsg_allowed((*c)->cmsg_level, (*c)->cmsg_type) ? NET_CMSG_OTHER : -EINVAL;
}

/* net_cmsg_next alone: every header inside the buffer, and the walk ends
 * (each step moves on by at least a header). */
static void cmsg_next_walk(uint8_t *ctl, size_t len)
{
  size_t steps = 0;
  for (struct cmsghdr *c = net_cmsg_next(ctl, len, NULL); c != NULL;
       c = net_cmsg_next(ctl, len, c)) {
    size_t off = (size_t)((uint8_t *)c - ctl);
    CHECK(off % sizeof(size_t) == 0 && off + sizeof *c <= len);
    CHECK(++steps <= len / sizeof *c);
  }
}

/* The sentry's prepare_control, with the agent's fds swapped as take_rights
 * swaps them, against the kernel's walk. */
static void cmsg_buffer(const uint8_t *b, size_t len)
{
  uint8_t *ctl = malloc(len); /* the sentry's copy: malloc'd, exact size */
  memcpy(ctl, b, len);
  cmsg_next_walk(ctl, len);
  struct net_cmsg m = {.hdr = NULL};
  struct cmsghdr *kc = NULL;
  size_t kfds = 0, knfds = 0, steps = 0;
  int taken[NET_SCM_MAX_FD];
  size_t ntaken = 0;
  for (;;) {
    int r = net_cmsg_step(ctl, len, &m);
    int k = kernel_cmsg(ctl, len, &kc, &kfds, &knfds);
    CHECK(r <= 0 ? r == k : (int)m.kind == k);
    CHECK(++steps <= len / sizeof(struct cmsghdr) + 1);
    if (r <= 0)
      break;
    CHECK(m.hdr == kc);
    CHECK(m.hdr->cmsg_len >= sizeof(struct cmsghdr) &&
          m.hdr->cmsg_len <= len - (size_t)((uint8_t *)m.hdr - ctl));
    CHECK(m.total_fds == kfds && m.total_fds <= NET_SCM_MAX_FD);
    if (m.kind == NET_CMSG_RIGHTS) {
      CHECK(m.nfds == knfds && ntaken + m.nfds <= NET_SCM_MAX_FD);
      uint8_t *p = CMSG_DATA(m.hdr);
      CHECK(p + m.nfds * sizeof(int) <= ctl + len);
      for (size_t i = 0; i < m.nfds; i++) { /* take_rights: read, then replace */
        memcpy(&taken[ntaken], p + i * sizeof(int), sizeof(int));
        memcpy(p + i * sizeof(int), &taken[ntaken++], sizeof(int));
      }
    } else if (m.kind == NET_CMSG_CREDS) {
      CHECK(memcmp(&m.creds, CMSG_DATA(m.hdr), sizeof m.creds) == 0);
    }
  }
  free(ctl);
}

/* ---- msghdr ---- */

/* A struct msghdr as the agent wrote it, then as many iovecs as follow. */
static void msghdr_lengths(const uint8_t *b, size_t len)
{
  struct msghdr um;
  if (len < sizeof um)
    return;
  memcpy(&um, b, sizeof um);
  int namelen = (int)um.msg_namelen;
  /* sendto's length (a register) is refused where a msghdr's is clamped */
  CHECK(net_addrlen_check(namelen) == (namelen < 0 || namelen > 128 ? -EINVAL : 0));
  int r = net_msg_namelen(um.msg_name, namelen);
  if (um.msg_name == NULL)
    CHECK(r == 0);
  else if (namelen < 0)
    CHECK(r == -EINVAL);
  else
    CHECK(r == (namelen > 128 ? 128 : namelen));
  CHECK(r <= (int)sizeof(struct sockaddr_storage) && (r < 0 || net_addrlen_check(r) == 0));
  size_t n = (len - sizeof um) / sizeof(struct iovec);
  if (um.msg_iovlen < n)
    n = um.msg_iovlen;
  struct iovec *iov = malloc(n * sizeof *iov + 1);
  memcpy(iov, b + sizeof um, n * sizeof *iov);
  size_t total = 0, sum = 0;
  bool bad = false;
  for (size_t i = 0; i < n; i++)
    bad |= (ssize_t)iov[i].iov_len < 0 || __builtin_add_overflow(sum, iov[i].iov_len, &sum);
  int t = net_iov_total(iov, n, &total);
  CHECK(t == (bad ? -EINVAL : 0));
  CHECK(bad || total == sum);
  free(iov);
}

/* ---- netlink ---- */

/* netlink_rcv_skb: messages while a header fits; a length shorter than a
 * header or past the data ends it; each step NLMSG_ALIGN'd, at most what
 * is left. Whether every message acted on is a read (RTM_GET*, or control
 * below RTM_BASE). */
static bool kernel_reads_only(const uint8_t *b, size_t len)
{
  size_t off = 0;
  while (len - off >= NLMSG_HDRLEN) {
    struct nlmsghdr h;
    memcpy(&h, b + off, sizeof h);
    if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
      break;
    if (h.nlmsg_type >= RTM_BASE && (h.nlmsg_type & 3) != (RTM_GETLINK & 3))
      return false;
    size_t step = NLMSG_ALIGN(h.nlmsg_len);
    off += step < len - off ? step : len - off;
  }
  return true;
}

static void netlink(const uint8_t *b, size_t len)
{
  CHECK(net_netlink_reads_only(b, len) == kernel_reads_only(b, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  size_t len = size - 1;
  /* an exact-size copy: ASan sees a read past what the agent passed */
  uint8_t *b = malloc(len);
  memcpy(b, data + 1, len);
  switch (data[0] % 5) {
  case 0:
    unix_addr(b, len);
    break;
  case 1:
    inet_sockaddr(b, len);
    break;
  case 2:
    cmsg_buffer(b, len);
    break;
  case 3:
    msghdr_lengths(b, len);
    break;
  case 4:
    netlink(b, len);
    break;
  }
  free(b);
  return 0;
}
