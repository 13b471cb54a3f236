#include "netstack-shim/rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- addresses ---- */

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int net_addr_parse(const char *text, struct net_addr *out)
{
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, text, out->b) == 1) {
    out->family = AF_INET;
    return 0;
  }
  if (inet_pton(AF_INET6, text, out->b) == 1) {
    out->family = AF_INET6;
    /* one spelling per address: the mapped form is the IPv4 address */
    if (memcmp(out->b, v4mapped_prefix, 12) == 0) {
      memmove(out->b, out->b + 12, 4);
      memset(out->b + 4, 0, 12);
      out->family = AF_INET;
    }
    return 0;
  }
  return -1;
}

bool net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
  size_t n = a->family == AF_INET ? 4 : 16;
  return a->family == b->family && memcmp(a->b, b->b, n) == 0;
}

bool net_addr_is_loopback(const struct net_addr *a)
{
  static const uint8_t v6_loopback[16] = {[15] = 1};
  if (a->family == AF_INET)
    return a->b[0] == 127;
  return memcmp(a->b, v6_loopback, 16) == 0;
}

static bool addr_is_unspecified(const struct net_addr *a)
{
  static const uint8_t zero[16] = {0};
  return memcmp(a->b, zero, a->family == AF_INET ? 4 : 16) == 0;
}

void net_addr_format(const struct net_addr *a, char *out, size_t size)
{
  if (inet_ntop(a->family, a->b, out, (socklen_t)size) == NULL && size > 0)
    out[0] = '\0';
}

void net_dest_format(const struct net_dest *d, char *out, size_t size)
{
  char a[INET6_ADDRSTRLEN];
  net_addr_format(&d->addr, a, sizeof a);
  const char *proto = d->proto == IPPROTO_UDP ? "udp" : "tcp";
  if (d->addr.family == AF_INET6)
    snprintf(out, size, "%s [%s]:%u", proto, a, d->port);
  else
    snprintf(out, size, "%s %s:%u", proto, a, d->port);
}

int net_dest_from_sockaddr(const struct sockaddr_storage *sa, size_t len, int proto,
                           struct net_dest *out)
{
  memset(out, 0, sizeof *out);
  out->proto = proto;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    if (len < sizeof *in)
      return -EINVAL;
    out->addr.family = AF_INET;
    memcpy(out->addr.b, &in->sin_addr, 4);
    out->port = ntohs(in->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    if (len < 24) /* SIN6_LEN_RFC2133: the kernel's minimum */
      return -EINVAL;
    out->addr.family = AF_INET6;
    memcpy(out->addr.b, &in6->sin6_addr, 16);
    out->port = ntohs(in6->sin6_port);
    if (memcmp(out->addr.b, v4mapped_prefix, 12) == 0) {
      memmove(out->addr.b, out->addr.b + 12, 4);
      memset(out->addr.b + 4, 0, 12);
      out->addr.family = AF_INET;
    }
  } else {
    return -EAFNOSUPPORT;
  }
  /* the kernel connects the unspecified address to the local host */
  if (addr_is_unspecified(&out->addr)) {
    if (out->addr.family == AF_INET)
      out->addr.b[0] = 127, out->addr.b[3] = 1;
    else
      out->addr.b[15] = 1;
  }
  return 0;
}

void net_sockaddr_normalize(struct sockaddr_storage *sa)
{
  if (sa->ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)sa;
    if (in->sin_addr.s_addr == htonl(INADDR_ANY))
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (sa->ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
    uint8_t *b = in6->sin6_addr.s6_addr;
    static const uint8_t zero[16] = {0};
    if (memcmp(b, zero, 16) == 0)
      b[15] = 1; /* :: -> ::1 */
    else if (memcmp(b, v4mapped_prefix, 12) == 0 && memcmp(b + 12, zero, 4) == 0)
      b[12] = 127, b[15] = 1; /* ::ffff:0.0.0.0 -> ::ffff:127.0.0.1 */
  }
}

/* ---- names ---- */

int net_name_canon(const char *in, char *out, size_t size)
{
  size_t len = strlen(in);
  if (len > 0 && in[len - 1] == '.')
    len--; /* the root label: "example.com." is "example.com" */
  if (len == 0 || len > 253 || len >= size)
    return -1;
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '.') {
      if (label == 0)
        return -1;
      label = 0;
    } else if (isalnum(c) || c == '-' || c == '_') {
      if (++label > 63)
        return -1;
    } else {
      return -1;
    }
    out[i] = (char)tolower(c);
  }
  if (label == 0)
    return -1;
  out[len] = '\0';
  return 0;
}

bool net_rule_matches_name(const struct net_rule *r, const char *name)
{
  if (r->kind == NET_HOST_NAME)
    return strcmp(r->name, name) == 0;
  if (r->kind != NET_HOST_SUFFIX)
    return false;
  /* "*.example.com" is every name ending in ".example.com", not the bare
   * suffix (and not "badexample.com") */
  size_t n = strlen(name), s = strlen(r->name);
  return n > s + 1 && name[n - s - 1] == '.' && strcmp(name + n - s, r->name) == 0;
}

bool net_rule_matches_port(const struct net_rule *r, uint16_t port)
{
  return port != 0 && port >= r->port_lo && port <= r->port_hi;
}

bool net_rule_matches_addr(const struct net_rule *r, const struct net_addr *a)
{
  /* "localhost" is the host's loopback as the host's /etc/hosts spells it:
   * 127.0.0.1 and ::1 */
  if (r->kind == NET_HOST_LOCALHOST) {
    static const uint8_t v6_loopback[16] = {[15] = 1};
    return a->family == AF_INET ? memcmp(a->b, (const uint8_t[]){127, 0, 0, 1}, 4) == 0
                                : memcmp(a->b, v6_loopback, 16) == 0;
  }
  if (r->kind != NET_HOST_IP || r->addr.family != a->family)
    return false;
  int full = r->prefix / 8, rest = r->prefix % 8;
  if (memcmp(r->addr.b, a->b, (size_t)full) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (r->addr.b[full] & mask) == (a->b[full] & mask);
}

/* ---- parsing a rule ---- */

static int parse_u16(const char *s, size_t len, uint16_t *out)
{
  if (len == 0 || len > 5)
    return -1;
  unsigned v = 0;
  for (size_t i = 0; i < len; i++) {
    if (!isdigit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return -1;
  *out = (uint16_t)v;
  return 0;
}

static int parse_port(const char *spec, const char *p, struct net_rule *r, usbox_err_t *err)
{
  if (strcmp(p, "*") == 0) {
    r->port_lo = 1, r->port_hi = 65535;
    return 0;
  }
  const char *dash = strchr(p, '-');
  size_t len = strlen(p);
  if (dash == NULL ? parse_u16(p, len, &r->port_lo) < 0
                   : parse_u16(p, (size_t)(dash - p), &r->port_lo) < 0 ||
                         parse_u16(dash + 1, strlen(dash + 1), &r->port_hi) < 0)
    return usbox_err_set(err, EINVAL,
                         "--net-allow %s: the port must be 1-65535, a range A-B or *", spec);
  if (dash == NULL)
    r->port_hi = r->port_lo;
  if (r->port_lo > r->port_hi)
    return usbox_err_set(err, EINVAL, "--net-allow %s: the port range is backwards", spec);
  return 0;
}

/* host is an address or CIDR (no brackets): fill r->addr and r->prefix. */
static int parse_ip(const char *spec, const char *host, struct net_rule *r, usbox_err_t *err)
{
  char text[128];
  snprintf(text, sizeof text, "%s", host);
  char *slash = strchr(text, '/');
  if (slash != NULL)
    *slash = '\0';
  if (net_addr_parse(text, &r->addr) < 0)
    return usbox_err_set(err, EINVAL, "--net-allow %s: %s is not an IP address", spec, text);
  bool mapped = strchr(text, ':') != NULL && r->addr.family == AF_INET;
  int max = r->addr.family == AF_INET ? 32 : 128;
  r->prefix = max;
  if (slash != NULL) {
    char *end;
    long n = strtol(slash + 1, &end, 10);
    /* a mapped CIDR (::ffff:10.0.0.0/104) counts its prefix over 128 bits */
    long lim = mapped ? 128 : max;
    if (slash[1] == '\0' || *end != '\0' || n < 0 || n > lim || (mapped && n < 96))
      return usbox_err_set(err, EINVAL, "--net-allow %s: the prefix length must be 0-%d",
                           spec, max);
    r->prefix = mapped ? (int)n - 96 : (int)n;
  }
  if (slash == NULL && addr_is_unspecified(&r->addr))
    return usbox_err_set(err, EINVAL,
                         "--net-allow %s: %s is no destination (0.0.0.0/0 or ::/0 mean every "
                         "address)",
                         spec, text);
  /* host bits of a CIDR are cleared, as routing tables do */
  for (int bit = r->prefix; bit < max; bit++)
    r->addr.b[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
  r->kind = NET_HOST_IP;
  return 0;
}

static bool looks_numeric(const char *host)
{
  /* a name made only of digits and dots is a mistyped address, not a name */
  for (const char *c = host; *c != '\0'; c++)
    if (!isdigit((unsigned char)*c) && *c != '.' && *c != '/')
      return false;
  return true;
}

static int parse_host(const char *spec, const char *host, struct net_rule *r, usbox_err_t *err)
{
  if (host[0] == '\0')
    return usbox_err_set(err, EINVAL, "--net-allow %s: no host", spec);
  if (strchr(host, ':') != NULL || looks_numeric(host))
    return parse_ip(spec, host, r, err);
  const char *name = host;
  r->kind = NET_HOST_NAME;
  if (strncmp(host, "*.", 2) == 0) {
    r->kind = NET_HOST_SUFFIX;
    name = host + 2;
  }
  if (strcmp(host, "*") == 0)
    return usbox_err_set(err, EINVAL,
                         "--net-allow %s: use 0.0.0.0/0 and ::/0 to allow every address", spec);
  if (net_name_canon(name, r->name, sizeof r->name) < 0 || strchr(name, '*') != NULL)
    return usbox_err_set(err, EINVAL,
                         "--net-allow %s: %s is not an IP address, CIDR, domain name or *.domain",
                         spec, host);
  /* no DNS answer for "localhost" ever reaches a rule (the host's /etc/hosts
   * answers it): it means the host's loopback, as 127.0.0.1 and [::1] do */
  if (r->kind == NET_HOST_NAME && strcmp(r->name, "localhost") == 0)
    r->kind = NET_HOST_LOCALHOST;
  return 0;
}

int net_rule_parse(const char *spec, struct net_rule *out, usbox_err_t *err)
{
  memset(out, 0, sizeof *out);
  snprintf(out->text, sizeof out->text, "%s", spec);
  out->port_lo = 1, out->port_hi = 65535;
  if (strlen(spec) >= 280)
    return usbox_err_set(err, EINVAL, "--net-allow: rule too long");
  char host[300], body[300];
  const char *port = NULL;
  /* the protocol clause last: HOST[:PORT]/any-protocol ("/" in a CIDR
   * comes before the port, so only the last "/" can be it) */
  snprintf(body, sizeof body, "%s", spec);
  char *clause = strrchr(body, '/');
  if (clause != NULL && strcmp(clause, "/any-protocol") == 0) {
    *clause = '\0';
    out->any_protocol = true;
  }
  spec = body;
  if (spec[0] == '[') {
    /* [v6], [v6]:port, [v6/N]:port, [v6]/N, [v6]/N:port */
    const char *close = strchr(spec, ']');
    if (close == NULL)
      return usbox_err_set(err, EINVAL, "--net-allow %s: missing ']'", spec);
    int n = snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1), spec + 1);
    const char *after = close + 1;
    if (*after == '/') {
      size_t plen = strcspn(after, ":");
      snprintf(host + n, sizeof host - (size_t)n, "%.*s", (int)plen, after);
      after += plen;
    }
    if (*after == ':')
      port = after + 1;
    else if (*after != '\0')
      return usbox_err_set(err, EINVAL, "--net-allow %s: unexpected text after ']'", spec);
  } else {
    const char *colon = strchr(spec, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
      snprintf(host, sizeof host, "%s", spec); /* a bare IPv6 address: no port */
    } else {
      snprintf(host, sizeof host, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
      port = colon ? colon + 1 : NULL;
    }
  }
  if (parse_host(spec, host, out, err) < 0)
    return -1;
  if (port != NULL && parse_port(spec, port, out, err) < 0)
    return -1;
  if (out->any_protocol && out->kind != NET_HOST_NAME && out->kind != NET_HOST_SUFFIX)
    return usbox_err_set(err, EINVAL,
                         "--net-allow %s: /any-protocol is for name rules (an address rule "
                         "checks no name)",
                         out->text);
  return 0;
}

/* ---- the decision ---- */

struct net_decision net_decide(const struct net_rule *rules, size_t nrules,
                               const struct net_learned *learned, size_t nlearned,
                               const struct net_dest *resolvers, size_t nresolvers,
                               const struct net_dest *d, uint64_t now)
{
  /* the sandbox's own resolver: always reached there, whatever a rule says
   * about the nameserver's address (names must go through it to be learned) */
  for (size_t i = 0; i < nresolvers; i++)
    if (d->port == resolvers[i].port && net_addr_equal(&d->addr, &resolvers[i].addr))
      return (struct net_decision){NET_SANDBOX, -1, -1, "the sandbox's resolver", {0}, 0};
  for (size_t i = 0; i < nrules; i++)
    if (net_rule_matches_addr(&rules[i], &d->addr) && net_rule_matches_port(&rules[i], d->port))
      return (struct net_decision){NET_HOST, (int)i, -1, NULL, {0}, 0};
  /* a name rule allows only what that name resolved to, here, recently;
   * and, unless it says /any-protocol, only a TCP connection carrying a name
   * it names (checked on its first bytes) */
  struct net_decision inspect = {NET_INSPECT, -1, -1, NULL, {0}, 0};
  for (size_t i = 0; i < nlearned; i++) {
    const struct net_learned *l = &learned[i];
    if (l->expires <= now || l->rule < 0 || (size_t)l->rule >= nrules)
      continue;
    if (!net_addr_equal(&l->addr, &d->addr) || !net_rule_matches_port(&rules[l->rule], d->port))
      continue;
    if (rules[l->rule].any_protocol)
      return (struct net_decision){NET_HOST, l->rule, (int)i, NULL, {0}, 0};
    bool seen = false;
    for (int k = 0; k < inspect.nnames; k++)
      seen |= inspect.names[k] == l->rule;
    if (inspect.rule < 0)
      inspect.rule = l->rule, inspect.learned = (int)i;
    if (!seen && inspect.nnames < NET_DECISION_NAMES)
      inspect.names[inspect.nnames++] = l->rule;
  }
  if (inspect.rule >= 0)
    return inspect;
  if (net_addr_is_loopback(&d->addr))
    return (struct net_decision){NET_SANDBOX, -1, -1, "the sandbox's own loopback", {0}, 0};
  return (struct net_decision){NET_DENY, -1, -1, "no --net-allow rule allows it", {0}, 0};
}

/* ---- which sockets ---- */

/* inet_create and inet6_create: the protocol's range, then the (type,
 * protocol) pair looked up in the family's table, then CAP_NET_RAW for raw
 * sockets. usbox allows TCP, UDP and UDP-Lite only; what it refuses beyond the
 * kernel gets the errno the kernel gives a caller without the right
 * (EPERM, EACCES) or without the protocol (EPROTONOSUPPORT). */
static const char *inet_check(int domain, int type, int protocol, int *err)
{
  if (protocol < 0 || protocol >= 263 /* IPPROTO_MAX */) {
    *err = EINVAL;
    return "no such protocol";
  }
  int ping = domain == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  switch (type) {
  case SOCK_STREAM:
    if (protocol == 0 || protocol == IPPROTO_TCP)
      return NULL;
    break;
  case SOCK_DGRAM:
    /* UDP-Lite too, on the sandbox's own loopback only (route.c) */
    if (protocol == 0 || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE)
      return NULL;
    if (protocol == ping) {
      *err = EACCES; /* as when ping_group_range excludes the caller */
      return "ICMP sockets are denied";
    }
    break;
  case SOCK_RAW:
    if (protocol == 0) /* the raw entry matches any protocol but 0 */
      break;
    *err = EPERM;
    return "raw sockets are denied";
  default:
    *err = ESOCKTNOSUPPORT; /* no entry of that type at all */
    return "only TCP and UDP are allowed";
  }
  *err = EPROTONOSUPPORT;
  return "only TCP and UDP are allowed";
}

/* netlink_create: the type, then the protocol's range; usbox allows
 * NETLINK_ROUTE only and refuses the others as a kernel without them. */
static const char *netlink_check(int type, int protocol, int *err)
{
  if (type != SOCK_RAW && type != SOCK_DGRAM) {
    *err = ESOCKTNOSUPPORT;
    return "netlink sockets are raw or datagram";
  }
  if (protocol == 0 /* NETLINK_ROUTE */)
    return NULL;
  *err = EPROTONOSUPPORT;
  return "netlink other than NETLINK_ROUTE is denied";
}

const char *net_socket_check(int domain, int type, int protocol, int *err)
{
  if (domain == AF_UNIX)
    return NULL; /* paths go through the view; abstract names are the sandbox's
                  * own; the kernel checks the rest */
  /* __sys_socket_create: flags other than CLOEXEC and NONBLOCK; then
   * __sock_create: the family's range, the type's range, SOCK_PACKET on
   * AF_INET meaning AF_PACKET; then the family's own create */
  if ((type & ~0xf) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) {
    *err = EINVAL;
    return "unknown socket type flags";
  }
  type &= 0xf;
  if (domain < 0 || domain >= 46 /* AF_MAX */) {
    *err = EAFNOSUPPORT;
    return "no such socket family";
  }
  if (type >= 11 /* SOCK_MAX */) {
    *err = EINVAL;
    return "no such socket type";
  }
  if (domain == AF_INET && type == SOCK_PACKET)
    domain = AF_PACKET;
  switch (domain) {
  case AF_INET:
  case AF_INET6:
    return inet_check(domain, type, protocol, err);
  case AF_NETLINK:
    return netlink_check(type, protocol, err);
  case AF_PACKET:
    *err = EPERM; /* packet_create asks for CAP_NET_RAW first */
    return "packet sockets are denied";
  default:
    *err = EAFNOSUPPORT;
    return "socket family denied";
  }
}

