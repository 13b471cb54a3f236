/* Network family: every call that names a destination is performed by the
 * sentry, on its own copy of the address, and decided by the network policy
 * (netstack-shim/rules.h) first. Never CONTINUE for those: another thread of
 * the agent could change the sockaddr between the check and the kernel's
 * second read (invariant 1).
 *
 * The agent lives in a network namespace of its own (netstack-shim/netns.c)
 * with only a loopback. The sentry takes the agent's socket with
 * pidfd_getfd; a connect or send on it happens in the socket's namespace:
 *  - the sandbox's own loopback (its dev servers) and its resolver (on the
 *    host's nameserver addresses, inside): performed on the agent's
 *    socket, in the sandbox;
 *  - a destination a rule allows: the sentry makes a socket like the agent's
 *    in its own namespace (the host's), copies the options the agent set,
 *    performs the call on it and installs it in place of the agent's fd
 *    (SECCOMP_ADDFD_FLAG_SETFD, as dup2). From then on the socket is a host
 *    one ("host-side"), and the same rules still apply to what it does;
 *  - anything else: EACCES.
 * Unix socket paths are resolved in the view (hidden and unbound paths are
 * unreachable) and reached through /proc/self/fd/N of the sentry's own fd;
 * abstract names are the sandbox namespace's own. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/deputy.h"
#include "common/log.h"
#include "netstack-shim/learned.h"
#include "netstack-shim/msg.h"
#include "netstack-shim/resolver.h"
#include "netstack-shim/rules.h"
#include "netstack-shim/sockaddr.h"
#include "policy/policy.h"
#include "sentry/audit.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"
#include "sentry/sys_net.h"
#include "sentry/task.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
#ifndef SECCOMP_ADDFD_FLAG_SETFD
#define SECCOMP_ADDFD_FLAG_SETFD (1UL << 0)
#endif

#define NET_SEND_MAX (4u << 20) /* bytes of one send the sentry copies */
#define NET_CTL_MAX 65536       /* control data of one sendmsg */
#define NET_IOV_MAX 1024        /* UIO_MAXIOV */
#define MMSGHDR_SIZE 64         /* struct mmsghdr on x86_64 */

struct net_state {
  const struct net_policy *policy;
  bool filtered;
  struct net_learned_cache learned;
  struct net_resolver *resolver;
  struct net_dest resolvers[NET_MAX_RESOLVERS]; /* its addresses, port 53 */
  size_t nresolvers;
  uint64_t host_cookie; /* SO_NETNS_COOKIE of the sentry's (the host's) namespace */
  struct audit *audit;
};

/* One sandbox per usbox process; set before the receivers start. */
static struct net_state *net_state;

/* ---- audit text: the destination and the rule, for the dispatcher ---- */

static __thread char audit_dest[200];
static __thread char audit_why[400];

__attribute__((format(printf, 2, 3))) static void note_dest(struct sentry_call *call,
                                                            const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(audit_dest, sizeof audit_dest, fmt, ap);
  va_end(ap);
  call->audit_arg = audit_dest;
}

__attribute__((format(printf, 2, 3))) static void note_rule(struct sentry_call *call,
                                                            const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(audit_why, sizeof audit_why, fmt, ap);
  va_end(ap);
  call->audit_rule = audit_why;
}

/* ---- the agent's socket ---- */

struct sock_info {
  int domain, type, protocol;
  bool host;      /* lives in the host's namespace (the sentry moved it there) */
  bool listening; /* SO_ACCEPTCONN */
};

/* The agent's fd in the sentry: the same open file (pidfd_getfd). */
static int take_fd(struct sentry_call *call, int fd)
{
  int r = call_task(call);
  if (r < 0)
    return r;
  if (fd < 0)
    return -EBADF;
  if (call->task->pidfd >= 0)
    return task_getfd(call, fd);
  /* No thread pidfd (Linux < 6.9): task_getfd would reopen through /proc,
   * and an O_PATH fd of a socket is no socket. The process's pidfd gives
   * the very file; the call_validate that follows proves the process is
   * still the agent's (its thread is still waiting for this answer). */
  cleanup_close int pidfd = (int)syscall(SYS_pidfd_open, call->task->tgid, 0);
  if (pidfd < 0)
    return errno == ESRCH ? -ESRCH : -errno;
  int local = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
  return local < 0 ? -errno : local;
}

static int get_int_opt(int s, int level, int name, int *out)
{
  socklen_t len = sizeof *out;
  return getsockopt(s, level, name, out, &len) < 0 ? -errno : 0;
}

static int sock_info(int s, struct sock_info *si)
{
  struct stat st;
  if (fstat(s, &st) < 0)
    return -errno;
  if (!S_ISSOCK(st.st_mode))
    return -ENOTSOCK;
  int listening = 0, r;
  if ((r = get_int_opt(s, SOL_SOCKET, SO_DOMAIN, &si->domain)) < 0 ||
      (r = get_int_opt(s, SOL_SOCKET, SO_TYPE, &si->type)) < 0 ||
      (r = get_int_opt(s, SOL_SOCKET, SO_PROTOCOL, &si->protocol)) < 0)
    return r;
  get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN, &listening);
  si->listening = listening != 0;
  uint64_t cookie;
  socklen_t len = sizeof cookie;
  if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
    return -errno;
  /* where the socket is, not where it was made: a socket the agent received
   * from outside is host-side too */
  si->host = cookie == net_state->host_cookie;
  return 0;
}

struct net_call {
  struct sentry_call *call;
  int fd;   /* the agent's number for it */
  int sock; /* the sentry's copy */
  struct sock_info si;
  /* capabilities the deputy holds beyond the agent's for this call: only
   * CAP_SYS_ADMIN, for SCM_CREDENTIALS that check_creds found to be the
   * agent's own (the kernel accepts a pid other than the sender's only
   * with it, and the sender here is the sentry) */
  uint64_t vouched_caps;
};

static void net_call_end(struct net_call *nc)
{
  if (nc->sock >= 0)
    close(nc->sock);
}
#define cleanup_net_call __attribute__((cleanup(net_call_end)))

/* Take the agent's socket and check the call is still pending: every read
 * of agent memory the decision uses must be done before this. */
static int net_call_begin(struct sentry_call *call, int fd, struct net_call *nc)
{
  nc->call = call;
  nc->fd = fd;
  nc->sock = take_fd(call, fd);
  if (nc->sock < 0)
    return nc->sock;
  if (call_validate(call) < 0)
    return -ESRCH;
  return sock_info(nc->sock, &nc->si);
}

/* Whether fd is close-on-exec in the agent (to keep it so when replaced). */
static bool fd_cloexec(pid_t tid, int fd)
{
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)tid, fd);
  cleanup_fclose FILE *f = fopen(path, "re");
  unsigned long flags;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "flags: %lo", &flags) == 1)
      return (flags & O_CLOEXEC) != 0;
  return false;
}

/* Put src in the agent's table at number target, as dup2 would; the call is
 * answered later. */
static int replace_fd(struct sentry_call *call, int target, int src)
{
  struct seccomp_notif_addfd a = {
      .id = call->id,
      .flags = SECCOMP_ADDFD_FLAG_SETFD,
      .srcfd = (uint32_t)src,
      .newfd = (uint32_t)target,
      .newfd_flags = fd_cloexec(call->tid, target) ? O_CLOEXEC : 0,
  };
  return ioctl(call->sentry->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 ? -errno : 0;
}

/* ---- acting as the agent ---- */

/* The sentry acts on a socket as the agent thread (common/deputy.h): its
 * fs ids (the owner of a socket made for it, search and write permission on
 * a unix socket's path), its groups and effective capabilities (a port
 * below 1024 needs CAP_NET_BIND_SERVICE, as for the agent), its umask (the
 * mode of a unix socket file). Unix and netlink peers also see ids: the
 * peer credentials of a unix connect (SO_PEERCRED: the connecting thread's
 * effective ids) and the sender of a message (its real ids), so there the
 * real and effective ids are the agent's too; without that an agent running
 * as another user than usbox would show usbox's ids to the host's services. */
static unsigned deputy_flags(const struct sock_info *si)
{
  bool peer_ids = si->domain == AF_UNIX || si->domain == AF_NETLINK;
  return DEPUTY_UMASK | (peer_ids ? DEPUTY_IDS : 0);
}

/* ---- performing: the action on a socket, with an address ---- */

typedef long (*net_act_fn)(int sock, const struct sockaddr *sa, socklen_t len, void *ctx);

static long act_connect(int sock, const struct sockaddr *sa, socklen_t len, void *ctx)
{
  (void)ctx;
  return connect(sock, sa, len);
}

struct send_ctx {
  struct msghdr *m;
  int flags;
};

static long act_send(int sock, const struct sockaddr *sa, socklen_t len, void *ctx)
{
  struct send_ctx *s = ctx;
  s->m->msg_name = (void *)sa;
  s->m->msg_namelen = sa != NULL ? len : 0;
  /* SIGPIPE would go to the sentry: the agent gets it from send_result */
  return sendmsg(sock, s->m, s->flags | MSG_NOSIGNAL);
}

/* A blocking connect or send waits for the network: the watchdog may
 * interrupt it (EINTR) if the agent goes away or has a signal to take, as
 * the kernel would. Nothing is answered to the agent meanwhile. */
static long act_interruptible(net_act_fn act, int sock, const struct sockaddr *sa, socklen_t len,
                              void *ctx)
{
  sentry_interruptible(true);
  long n = act(sock, sa, len, ctx);
  int e = errno;
  sentry_interruptible(false);
  errno = e;
  return n;
}

/* Act on the agent's own socket (the sentry's copy of it). */
static int net_deputy_enter(struct net_call *nc)
{
  struct deputy_creds c;
  int r = task_deputy_creds(nc->call, 0, &c);
  if (r < 0)
    return r;
  c.cap_eff |= nc->vouched_caps;
  return deputy_enter(&c, deputy_flags(&nc->si));
}

static struct sc_result perform(struct net_call *nc, net_act_fn act, const struct sockaddr *sa,
                                socklen_t len, void *ctx)
{
  int r = net_deputy_enter(nc);
  if (r < 0)
    return sc_fail(r);
  long n = act_interruptible(act, nc->sock, sa, len, ctx);
  int e = errno;
  deputy_leave();
  return n < 0 ? sc_errno(e) : sc_ok(n);
}

/* Options the agent may have set before connecting, copied to the socket
 * that replaces its own (best effort: what the kernel refuses is left). */
static const struct {
  int level, name;
} copied_opts[] = {
    {SOL_SOCKET, SO_KEEPALIVE},      {SOL_SOCKET, SO_LINGER},
    {SOL_SOCKET, SO_RCVTIMEO},       {SOL_SOCKET, SO_SNDTIMEO},
    {SOL_SOCKET, SO_REUSEADDR},      {SOL_SOCKET, SO_REUSEPORT},
    {SOL_SOCKET, SO_OOBINLINE},      {SOL_SOCKET, SO_PRIORITY},
    {SOL_SOCKET, SO_BROADCAST},      {SOL_SOCKET, SO_RCVLOWAT},
    {SOL_SOCKET, SO_TIMESTAMP},      {SOL_SOCKET, SO_TIMESTAMPNS},
    {SOL_SOCKET, SO_ZEROCOPY},       {IPPROTO_TCP, TCP_NODELAY},
    {IPPROTO_TCP, TCP_KEEPIDLE},     {IPPROTO_TCP, TCP_KEEPINTVL},
    {IPPROTO_TCP, TCP_KEEPCNT},      {IPPROTO_TCP, TCP_USER_TIMEOUT},
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT}, {IPPROTO_TCP, TCP_FASTOPEN_CONNECT},
    {IPPROTO_TCP, TCP_CONGESTION},   {IPPROTO_TCP, TCP_SYNCNT},
    {IPPROTO_TCP, TCP_LINGER2},      {IPPROTO_TCP, TCP_CORK},
    {IPPROTO_IP, IP_TOS},            {IPPROTO_IP, IP_TTL},
    {IPPROTO_IP, IP_MTU_DISCOVER},   {IPPROTO_IP, IP_RECVERR},
    {IPPROTO_IP, IP_PKTINFO},        {IPPROTO_IP, IP_RECVTOS},
    {IPPROTO_IP, IP_RECVTTL},        {IPPROTO_IP, IP_MULTICAST_TTL},
    {IPPROTO_IP, IP_MULTICAST_LOOP}, {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT},
    {IPPROTO_IPV6, IPV6_V6ONLY},     {IPPROTO_IPV6, IPV6_TCLASS},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS}, {IPPROTO_IPV6, IPV6_MTU_DISCOVER},
    {IPPROTO_IPV6, IPV6_RECVERR},    {IPPROTO_IPV6, IPV6_RECVPKTINFO},
    {IPPROTO_IPV6, IPV6_RECVTCLASS}, {IPPROTO_IPV6, IPV6_RECVHOPLIMIT},
    {IPPROTO_UDP, UDP_SEGMENT},      {IPPROTO_UDP, UDP_GRO},
};

static bool opt_applies(int level, const struct sock_info *si)
{
  switch (level) {
  case IPPROTO_TCP:
    return si->type == SOCK_STREAM;
  case IPPROTO_UDP:
    return si->type == SOCK_DGRAM;
  case IPPROTO_IPV6:
    return si->domain == AF_INET6;
  default:
    return true;
  }
}

static void copy_options(int from, int to, const struct sock_info *si)
{
  for (size_t i = 0; i < sizeof copied_opts / sizeof copied_opts[0]; i++) {
    if (!opt_applies(copied_opts[i].level, si))
      continue;
    char buf[64];
    socklen_t len = sizeof buf;
    if (getsockopt(from, copied_opts[i].level, copied_opts[i].name, buf, &len) == 0)
      setsockopt(to, copied_opts[i].level, copied_opts[i].name, buf, len);
  }
  /* the kernel reports buffer sizes doubled (its bookkeeping): halve them */
  static const int sizes[] = {SO_RCVBUF, SO_SNDBUF};
  for (size_t i = 0; i < 2; i++) {
    int v;
    if (get_int_opt(from, SOL_SOCKET, sizes[i], &v) == 0) {
      v /= 2;
      setsockopt(to, SOL_SOCKET, sizes[i], &v, sizeof v);
    }
  }
}

/* A socket like the agent's, in the sentry's own (the host's) namespace,
 * owned by the agent's fs uid (as routing and the host's firewall see it):
 * made inside the deputy scope of the caller. */
static int host_socket(struct net_call *nc)
{
  int fl = fcntl(nc->sock, F_GETFL);
  int type = nc->si.type | SOCK_CLOEXEC | (fl >= 0 && (fl & O_NONBLOCK) ? SOCK_NONBLOCK : 0);
  int h = socket(nc->si.domain, type, nc->si.protocol);
  if (h < 0)
    return -errno;
  copy_options(nc->sock, h, &nc->si);
  return h;
}

static bool stream_connected(int sock)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  return getpeername(sock, (struct sockaddr *)&ss, &len) == 0;
}

/* The agent's socket is in the sandbox's namespace, where the host's
 * network is not: act on a host socket like it and put that one in place
 * of the agent's. If the act fails, the agent keeps its own socket. */
static struct sc_result move_to_host(struct net_call *nc, net_act_fn act,
                                     const struct sockaddr *sa, socklen_t len, void *ctx)
{
  /* the kernel's answer for a stream socket that is already in use */
  if (nc->si.type == SOCK_STREAM && (nc->si.listening || stream_connected(nc->sock)))
    return sc_errno(EISCONN);
  int r = net_deputy_enter(nc);
  if (r < 0)
    return sc_fail(r);
  cleanup_close int h = host_socket(nc);
  long n = h < 0 ? h : act_interruptible(act, h, sa, len, ctx);
  int e = errno;
  deputy_leave();
  if (h < 0)
    return sc_fail(h);
  if (n < 0 && e != EINPROGRESS)
    return sc_errno(e);
  r = replace_fd(nc->call, nc->fd, h);
  if (r < 0)
    return r == -ENOENT ? sc_gone() : sc_errno(-r);
  return n < 0 ? sc_errno(EINPROGRESS) : sc_ok(n);
}

/* ---- destinations ---- */

static struct net_decision decide_inet(struct sentry_call *call, const struct net_dest *d)
{
  const struct net_policy *p = net_state->policy;
  uint64_t now = net_now();
  struct net_learned found[16];
  size_t n = net_learned_find(&net_state->learned, &d->addr, now, found, 16);
  struct net_decision dec =
      net_decide(p->rules, p->nrules, found, n, net_state->resolvers, net_state->nresolvers, d,
                 now);
  char text[128];
  net_dest_format(d, text, sizeof text);
  note_dest(call, "%s", text);
  if (dec.rule >= 0 && dec.learned >= 0)
    note_rule(call, "net-allow %s (%s resolved here)", p->rules[dec.rule].text,
              found[dec.learned].name);
  else if (dec.rule >= 0)
    note_rule(call, "net-allow %s", p->rules[dec.rule].text);
  else
    note_rule(call, "%s", dec.why);
  return dec;
}

static struct sc_result go_inet(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                                net_act_fn act, void *ctx)
{
  struct net_dest d;
  int proto = nc->si.type == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
  int r = net_dest_from_sockaddr(sa, len, proto, &d);
  if (r < 0)
    return sc_errno(-r);
  /* what is connected to is what was checked: 0.0.0.0 and :: become
   * loopback here, not whatever source address the socket is bound to */
  net_sockaddr_normalize(sa);
  struct net_decision dec = decide_inet(nc->call, &d);
  switch (dec.verdict) {
  case NET_HOST:
    return nc->si.host ? perform(nc, act, (struct sockaddr *)sa, len, ctx)
                       : move_to_host(nc, act, (struct sockaddr *)sa, len, ctx);
  case NET_SANDBOX:
    /* a host-side socket would reach the host's loopback, not the sandbox's */
    if (nc->si.host) {
      note_rule(nc->call, "a socket on the host's side cannot reach the sandbox's loopback");
      return sc_errno(EACCES);
    }
    return perform(nc, act, (struct sockaddr *)sa, len, ctx);
  case NET_DENY:
    break;
  }
  return sc_errno(EACCES);
}

/* A unix path, reached through the view: resolve it there (hidden and
 * unbound paths do not exist), then connect through /proc/self/fd/N of the
 * sentry's own fd of that socket inode. */
static struct sc_result unix_by_path(struct net_call *nc, const char *path, net_act_fn act,
                                     void *ctx)
{
  note_dest(nc->call, "unix %s", path);
  note_rule(nc->call, "the view");
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = vfs_lookup(&nc->call->fs, AT_FDCWD, path, 0, &node);
  if (r < 0)
    return sc_fail(r);
  if (!S_ISSOCK(node.st.st_mode))
    return sc_errno(ECONNREFUSED); /* as the kernel for a path that is no socket */
  cleanup_close int fd = vfs_open_resolved(&nc->call->fs, &node, 0);
  if (fd < 0)
    return sc_fail(fd);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "/proc/self/fd/%d", fd);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
  return perform(nc, act, (struct sockaddr *)&un, len, ctx);
}

static struct sc_result go_unix(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                                net_act_fn act, void *ctx)
{
  struct net_unix_addr ua;
  int r = net_unix_addr_decode(sa, len, &ua);
  if (r == 0 && ua.kind == NET_UNIX_PATH)
    return unix_by_path(nc, ua.name, act, ctx);
  /* abstract names are per network namespace: the sandbox's own, unless the
   * socket came from the host's side. An address the kernel refuses goes
   * the same way: the kernel answers it (EINVAL, or what a stream socket
   * says of any address) before it names anything. */
  if (r == 0)
    note_dest(nc->call, "unix @%.*s", (int)ua.len, ua.name);
  else
    note_dest(nc->call, "unix (an invalid address of %u bytes)", (unsigned)len);
  if (nc->si.host) {
    note_rule(nc->call, "abstract names of the host are unreachable");
    return sc_errno(ECONNREFUSED);
  }
  note_rule(nc->call, "the sandbox's own abstract names");
  return perform(nc, act, (struct sockaddr *)sa, len, ctx);
}

/* Where a connect or a send with an address goes. connect says which: an
 * AF_UNSPEC address means different things to the two. */
static struct sc_result route(struct net_call *nc, struct sockaddr_storage *sa, socklen_t len,
                              net_act_fn act, void *ctx, bool connecting)
{
  bool inet = nc->si.domain == AF_INET || nc->si.domain == AF_INET6;
  if (inet && len >= (socklen_t)sizeof(sa_family_t) && sa->ss_family == AF_UNSPEC) {
    if (connecting) {
      /* dissolves the association: no destination; the sentry's own clean
       * AF_UNSPEC address, so nothing else is read from the agent's */
      note_dest(nc->call, "AF_UNSPEC (disconnect)");
      struct sockaddr_storage unspec = {.ss_family = AF_UNSPEC};
      return perform(nc, act, (struct sockaddr *)&unspec, len, ctx);
    }
    /* udp_sendmsg reads an AF_UNSPEC name as AF_INET; IPv6 sockets ignore
     * it (send to the connected peer) */
    if (nc->si.domain == AF_INET6)
      return route(nc, NULL, 0, act, ctx, false);
    sa->ss_family = AF_INET;
  }
  if (sa == NULL) {
    note_dest(nc->call, "the connected peer");
    note_rule(nc->call, "checked when it was connected");
    return perform(nc, act, NULL, 0, ctx);
  }
  if (inet && (sa->ss_family == AF_INET || sa->ss_family == AF_INET6))
    return go_inet(nc, sa, len, act, ctx);
  if (nc->si.domain == AF_UNIX && sa->ss_family == AF_UNIX)
    return go_unix(nc, sa, len, act, ctx);
  /* a family the socket does not take (the kernel refuses it), or netlink
   * addresses (the kernel of the socket's own namespace) */
  note_dest(nc->call, "family %d", sa->ss_family);
  if (nc->si.host) {
    note_rule(nc->call, "a socket on the host's side reaches only what rules allow");
    return sc_errno(EACCES);
  }
  return perform(nc, act, (struct sockaddr *)sa, len, ctx);
}

/* ---- reading the agent's arguments ---- */

static int read_sockaddr(struct sentry_call *call, uint64_t addr, int len,
                         struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  int r = net_addrlen_check(len);
  if (r < 0)
    return r;
  return len == 0 ? 0 : agent_read(call, addr, ss, (size_t)len);
}

/* One message to send, copied out of the agent. */
struct msg_copy {
  struct msghdr m;
  struct sockaddr_storage name;
  socklen_t namelen;
  bool has_name;
  bool truncated; /* more than NET_SEND_MAX bytes were asked */
  struct iovec iov;
  uint8_t *data;
  uint8_t *ctl;
  size_t ctllen;
  int taken[NET_SCM_MAX_FD]; /* the agent's fds it passes, taken into the sentry */
  int ntaken;
  bool vouched_creds; /* SCM_CREDENTIALS checked to be the agent's own */
};

static void msg_copy_release(struct msg_copy *mc)
{
  free(mc->data);
  free(mc->ctl);
  for (int i = 0; i < mc->ntaken; i++)
    close(mc->taken[i]);
  mc->data = mc->ctl = NULL;
  mc->ntaken = 0;
}
#define cleanup_msg __attribute__((cleanup(msg_copy_release)))

static int read_data(struct sentry_call *call, const struct iovec *iov, size_t n,
                     struct msg_copy *mc)
{
  size_t total;
  int r = net_iov_total(iov, n, &total);
  if (r < 0)
    return r;
  mc->truncated = total > NET_SEND_MAX;
  if (mc->truncated)
    total = NET_SEND_MAX; /* a stream takes it as a short write; else EMSGSIZE */
  mc->data = malloc(total > 0 ? total : 1);
  if (mc->data == NULL)
    return -ENOMEM;
  size_t got = 0;
  for (size_t i = 0; i < n && got < total; i++) {
    size_t take = iov[i].iov_len < total - got ? iov[i].iov_len : total - got;
    r = take > 0 ? agent_read(call, (uint64_t)(uintptr_t)iov[i].iov_base, mc->data + got, take)
                 : 0;
    if (r < 0)
      return r;
    got += take;
  }
  mc->iov = (struct iovec){.iov_base = mc->data, .iov_len = total};
  mc->m.msg_iov = &mc->iov;
  mc->m.msg_iovlen = 1;
  return 0;
}

/* The agent's struct msghdr `um` (its pointers are the agent's): name,
 * data and control data into mc. */
static int read_msg(struct sentry_call *call, const struct msghdr *um, struct msg_copy *mc)
{
  memset(&mc->m, 0, sizeof mc->m);
  int namelen = net_msg_namelen(um->msg_name, (int)um->msg_namelen);
  if (namelen < 0)
    return namelen;
  mc->has_name = namelen > 0;
  if (mc->has_name) {
    mc->namelen = (socklen_t)namelen;
    int r = read_sockaddr(call, (uint64_t)(uintptr_t)um->msg_name, namelen, &mc->name);
    if (r < 0)
      return r;
  }
  if (um->msg_iovlen > NET_IOV_MAX)
    return -EMSGSIZE;
  struct iovec iov[NET_IOV_MAX];
  int r = um->msg_iovlen > 0 ? agent_read(call, (uint64_t)(uintptr_t)um->msg_iov, iov,
                                          um->msg_iovlen * sizeof iov[0])
                             : 0;
  if (r < 0 || (r = read_data(call, iov, um->msg_iovlen, mc)) < 0)
    return r;
  if (um->msg_controllen > 0) {
    if (um->msg_controllen > NET_CTL_MAX)
      return -ENOBUFS;
    mc->ctllen = um->msg_controllen;
    if ((mc->ctl = malloc(mc->ctllen)) == NULL)
      return -ENOMEM;
    if ((r = agent_read(call, (uint64_t)(uintptr_t)um->msg_control, mc->ctl, mc->ctllen)) < 0)
      return r;
    mc->m.msg_control = mc->ctl;
    mc->m.msg_controllen = mc->ctllen;
  }
  return 0;
}

/* ---- control messages ---- */

/* SCM_RIGHTS names the agent's fds; the sentry sends: each becomes the
 * sentry's copy of the same file (the receiver gets what the agent meant).
 * net_cmsg_step counted them; n is checked again against taken[]. */
static int take_rights(struct sentry_call *call, struct msg_copy *mc, struct cmsghdr *c, size_t n)
{
  if (n > NET_SCM_MAX_FD - (size_t)mc->ntaken)
    return -EINVAL;
  uint8_t *p = CMSG_DATA(c);
  for (size_t i = 0; i < n; i++) {
    int fd;
    memcpy(&fd, p + i * sizeof fd, sizeof fd);
    int local = take_fd(call, fd);
    if (local < 0)
      return local == -ESRCH ? local : -EBADF;
    mc->taken[mc->ntaken++] = local;
    memcpy(p + i * sizeof local, &local, sizeof local);
  }
  return 0;
}

/* Whether the sentry may vouch for the agent's pid in SCM_CREDENTIALS: the
 * kernel accepts a pid other than the sender's only with CAP_SYS_ADMIN,
 * which a usbox run without root does not have. */
static bool can_vouch_pid(void)
{
  static int can = -1;
  if (can < 0) {
    struct deputy_creds own;
    deputy_own_creds(&own);
    can = (own.cap_eff >> CAP_SYS_ADMIN) & 1;
  }
  return can == 1;
}

/* SCM_CREDENTIALS: only the agent's own (what the kernel allows an
 * unprivileged sender), its pid put in the sentry's pid namespace, where the
 * kernel reads it (the sentry's own pid where it cannot vouch: a receiver
 * then sees usbox's pid, never a refusal the agent would not get). Anything
 * else would be the sentry's privilege. */
static int check_creds(struct sentry_call *call, struct cmsghdr *c, struct ucred u)
{
  const struct task *t = call->task;
  const struct proc_ids *ids = &t->creds;
  if (u.pid != t->ns_tgid || (u.uid != ids->uid && u.uid != ids->euid && u.uid != ids->suid) ||
      (u.gid != ids->gid && u.gid != ids->egid && u.gid != ids->sgid))
    return -EPERM;
  u.pid = can_vouch_pid() ? t->tgid : getpid();
  memcpy(CMSG_DATA(c), &u, sizeof u);
  return 0;
}

/* A unix message the agent sends without SCM_CREDENTIALS carries, to a
 * receiver that asks (SO_PASSCRED), the sender's pid and real ids: the
 * kernel would put the sentry's, so the agent's are added explicitly. */
static int add_own_creds(struct sentry_call *call, struct msg_copy *mc)
{
  size_t add = CMSG_SPACE(sizeof(struct ucred));
  uint8_t *ctl = realloc(mc->ctl, mc->ctllen + add);
  if (ctl == NULL)
    return -ENOMEM;
  memset(ctl + mc->ctllen, 0, add);
  struct cmsghdr *c = (struct cmsghdr *)(ctl + mc->ctllen);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
  const struct task *t = call->task;
  struct ucred u = {.pid = t->tgid, .uid = t->creds.uid, .gid = t->creds.gid};
  memcpy(CMSG_DATA(c), &u, sizeof u);
  mc->ctl = ctl;
  mc->ctllen += add;
  mc->m.msg_control = ctl;
  mc->m.msg_controllen = mc->ctllen;
  mc->vouched_creds = true;
  return 0;
}

static int prepare_control(struct sentry_call *call, struct msg_copy *mc)
{
  int r = call_task(call);
  if (r < 0)
    return r;
  struct net_cmsg m = {.hdr = NULL};
  while ((r = net_cmsg_step(mc->ctl, mc->ctllen, &m)) > 0) {
    if (m.kind == NET_CMSG_RIGHTS)
      r = take_rights(call, mc, m.hdr, m.nfds);
    else if (m.kind == NET_CMSG_CREDS)
      mc->vouched_creds = (r = check_creds(call, m.hdr, m.creds)) == 0;
    if (r < 0)
      return r;
  }
  return r;
}

/* ---- sending ---- */

static struct sc_result send_result(struct net_call *nc, struct sc_result res, int flags)
{
  /* the kernel sends SIGPIPE to the sending thread with EPIPE; the sentry
   * asked for none, so the agent's thread gets it here */
  if (res.outcome == SC_RETURN && res.err == EPIPE && !(flags & MSG_NOSIGNAL) &&
      nc->call->task != NULL)
    syscall(SYS_tgkill, nc->call->task->tgid, nc->call->tid, SIGPIPE);
  return res;
}

static struct sc_result send_one(struct net_call *nc, struct msg_copy *mc, int flags)
{
  if (mc->truncated && nc->si.type != SOCK_STREAM)
    return sc_errno(EMSGSIZE);
  int r = mc->ctl != NULL ? prepare_control(nc->call, mc) : 0;
  if (r < 0)
    return sc_fail(r);
  if (nc->si.domain == AF_UNIX && !mc->vouched_creds && can_vouch_pid() &&
      (r = call_task(nc->call)) == 0 && (r = add_own_creds(nc->call, mc)) < 0)
    return sc_fail(r);
  nc->vouched_caps = mc->vouched_creds && can_vouch_pid() ? 1ull << CAP_SYS_ADMIN : 0;
  if (nc->si.domain == AF_NETLINK && !net_netlink_reads_only(mc->data, mc->iov.iov_len)) {
    note_dest(nc->call, "netlink");
    note_rule(nc->call, "netlink requests that change the network are denied");
    return sc_errno(EPERM);
  }
  struct send_ctx ctx = {&mc->m, flags};
  /* A TCP socket ignores the address (unless MSG_FASTOPEN, which connects
   * to it): send to the connected peer, as the kernel would. */
  bool tcp = nc->si.type == SOCK_STREAM && nc->si.domain != AF_UNIX;
  if (!mc->has_name || (tcp && !(flags & MSG_FASTOPEN)))
    return send_result(nc, route(nc, NULL, 0, act_send, &ctx, false), flags);
  return send_result(nc, route(nc, &mc->name, mc->namelen, act_send, &ctx, false), flags);
}

/* ---- handlers ---- */

/* --net host: no filtering, and nothing of the agent's memory is read: the
 * kernel performs the call (documented as unsafe). */
static bool unfiltered(void)
{
  return net_state != NULL && !net_state->filtered;
}

/* Started before the receivers: without it no network call is answered
 * (fail closed). */
#define NET_READY_OR_FAIL()                                                                       \
  do {                                                                                           \
    if (net_state == NULL)                                                                       \
      return sc_errno(ENETDOWN);                                                                 \
  } while (0)

struct sc_result sys_socket(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  int domain = ARG_INT(call, 0), type = ARG_INT(call, 1) & 0xf, protocol = ARG_INT(call, 2);
  note_dest(call, "domain %d type %d protocol %d", domain, type, protocol);
  int err = 0;
  const char *why = net_socket_check(domain, type, protocol, &err);
  if (why != NULL) {
    note_rule(call, "%s", why);
    return sc_errno(err);
  }
  /* Decided on register values only; the socket is made in the caller's
   * namespace, the sandbox's, where it reaches nothing by itself. */
  return sc_kernel_must_perform();
}

struct sc_result sys_socketpair(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  int domain = ARG_INT(call, 0);
  note_dest(call, "domain %d", domain);
  /* Decided on the family (a register): unix pairs connect nothing outside
   * the sandbox; another family would only make the kernel load its module
   * (and refuse: no other family has pairs worth having). */
  if (domain == AF_UNIX)
    return sc_kernel_must_perform();
  note_rule(call, "only unix socket pairs");
  bool known = domain == AF_INET || domain == AF_INET6 || domain == AF_NETLINK;
  return sc_errno(known ? EOPNOTSUPP : EAFNOSUPPORT);
}

struct sc_result sys_connect(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  struct sockaddr_storage sa;
  int len = ARG_INT(call, 2);
  int r = read_sockaddr(call, call->args[1], len, &sa);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(call, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  if (len < (int)sizeof(sa_family_t))
    return sc_errno(EINVAL);
  return route(&nc, &sa, (socklen_t)len, act_connect, NULL, true);
}

static long act_bind(int sock, const struct sockaddr *sa, socklen_t len, void *ctx)
{
  (void)ctx;
  return bind(sock, sa, len);
}

struct bind_in_agent_fs {
  struct net_call *nc;
  const struct sockaddr_un *un;
  socklen_t len;
  struct sc_result res;
};

static int bind_here(void *p)
{
  struct bind_in_agent_fs *b = p;
  b->res = perform(b->nc, act_bind, (const struct sockaddr *)b->un, b->len, NULL);
  return 0;
}

/* A unix socket bound at a path: the file is created where the view says
 * (a read-only or hidden place refuses, as for mknod). The kernel keeps the
 * name a socket was bound with, and getsockname, getpeername and accept
 * return it: so the bind is made with the agent's own name, resolved from
 * the agent thread's root and working directory (task_in_agent_fs), as the
 * agent itself, on the sentry's copy of the name. Where usbox cannot move
 * its thread there (no CAP_SYS_CHROOT: usbox without root), it binds in the
 * directory the view resolved, through /proc/self/fd/N: the right place,
 * but the kernel then keeps that name. */
static struct sc_result unix_bind_path(struct net_call *nc, const char *path)
{
  struct sentry_call *call = nc->call;
  note_dest(call, "unix %s", path);
  note_rule(call, "the view");
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  int r = vfs_lookup_parent(&call->fs, AT_FDCWD, path, &parent, name);
  if (r == 0)
    r = vfs_check_entry(&call->sentry->vfs, &parent, name, VFS_CREATE, 0);
  if (r < 0)
    return r == -EEXIST ? sc_errno(EADDRINUSE) : sc_fail(r);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  size_t plen = strlen(path);
  if (plen >= sizeof un.sun_path)
    return sc_errno(EINVAL);
  memcpy(un.sun_path, path, plen + 1);
  struct bind_in_agent_fs b = {
      .nc = nc, .un = &un, .len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1)};
  r = task_in_agent_fs(call, bind_here, &b);
  if (r == 0)
    return b.res;
  if (r != -EOPNOTSUPP)
    return sc_fail(r);
  cleanup_close int dfd = vfs_open_resolved(&call->fs, &parent, O_DIRECTORY);
  if (dfd < 0)
    return sc_fail(dfd);
  int n = snprintf(un.sun_path, sizeof un.sun_path, "/proc/self/fd/%d/%s", dfd, name);
  if (n < 0 || (size_t)n >= sizeof un.sun_path)
    return sc_errno(ENAMETOOLONG);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
  return perform(nc, act_bind, (struct sockaddr *)&un, len, NULL);
}

/* The local address as given (0.0.0.0 stays 0.0.0.0 here), for the audit. */
static void note_local(struct sentry_call *call, const struct sockaddr_storage *sa,
                       socklen_t len, int type)
{
  const char *proto = type == SOCK_DGRAM ? "udp" : "tcp";
  char a[INET6_ADDRSTRLEN];
  if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
    note_dest(call, "%s %s:%u", proto, a, ntohs(in->sin_port));
  } else if (sa->ss_family == AF_INET6 && len >= 24) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
    note_dest(call, "%s [%s]:%u", proto, a, ntohs(in6->sin6_port));
  } else {
    note_dest(call, "family %d", sa->ss_family);
  }
}

/* A port below 1024 needs CAP_NET_BIND_SERVICE in the sandbox's network
 * namespace. The deputy holds the agent's capabilities, so the kernel
 * decides that for a usbox run as root; a usbox run without root owns the
 * sandbox's user namespace, and its owner has every capability there
 * whatever its effective set: the sentry checks the agent's itself. */
static bool privileged_port(struct net_call *nc, const struct sockaddr_storage *sa, socklen_t len)
{
  if (nc->si.domain != AF_INET && nc->si.domain != AF_INET6)
    return false;
  unsigned port = 0;
  if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in))
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  else if (sa->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  if (port == 0 || port >= 1024 || call_task(nc->call) < 0) /* the namespace's default start */
    return false;
  return !(nc->call->task->cap_eff & (1ull << CAP_NET_BIND_SERVICE));
}

struct sc_result sys_bind(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  struct sockaddr_storage sa;
  int len = ARG_INT(call, 2);
  int r = read_sockaddr(call, call->args[1], len, &sa);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(call, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  /* a host-side socket is already bound (it was connected); binding it
   * anew would be a port on the host's network */
  if (nc.si.host) {
    note_dest(call, "a socket on the host's side");
    note_rule(call, "host-side sockets are not bound again");
    return sc_errno(EINVAL);
  }
  struct net_unix_addr ua;
  if (nc.si.domain == AF_UNIX && net_unix_addr_decode(&sa, (size_t)len, &ua) == 0 &&
      ua.kind == NET_UNIX_PATH)
    return unix_bind_path(&nc, ua.name);
  /* everything else binds in the sandbox's own namespace: its loopback, its
   * abstract names, its netlink; an autobind (just the family) or an
   * address the kernel refuses is the kernel's */
  note_local(call, &sa, (socklen_t)len, nc.si.type);
  note_rule(call, "the sandbox's own namespace");
  if (privileged_port(&nc, &sa, (socklen_t)len))
    return sc_errno(EACCES);
  return perform(&nc, act_bind, (struct sockaddr *)&sa, (socklen_t)len, NULL);
}

struct sc_result sys_listen(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  cleanup_net_call struct net_call nc = {.sock = -1};
  int r = net_call_begin(call, ARG_INT(call, 0), &nc);
  if (r < 0)
    return sc_fail(r);
  /* Performed on the sentry's copy, not continued: the fd number could name
   * another socket by the time the kernel looked again. A host-side socket
   * would listen on the host's network. */
  if (nc.si.host) {
    note_rule(call, "host-side sockets do not listen: the sandbox's ports are its own");
    return sc_errno(EOPNOTSUPP);
  }
  return sc_syscall(listen(nc.sock, ARG_INT(call, 1)));
}

struct sc_result sys_sendto(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  /* No address: the kernel sends to the peer checked at connect (or fails);
   * nothing in agent memory decides where the data goes. */
  if (unfiltered() || call->args[4] == 0)
    return sc_kernel_must_perform();
  cleanup_msg struct msg_copy mc = {.ntaken = 0};
  mc.has_name = true;
  mc.namelen = (socklen_t)ARG_INT(call, 5);
  int r = read_sockaddr(call, call->args[4], ARG_INT(call, 5), &mc.name);
  struct iovec iov = {.iov_base = (void *)(uintptr_t)call->args[1], .iov_len = call->args[2]};
  if (r == 0)
    r = read_data(call, &iov, 1, &mc);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(call, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  return send_one(&nc, &mc, ARG_INT(call, 3));
}

struct sc_result sys_sendmsg(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  struct msghdr um;
  cleanup_msg struct msg_copy mc = {.ntaken = 0};
  int r = agent_read(call, call->args[1], &um, sizeof um);
  if (r == 0)
    r = read_msg(call, &um, &mc);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(call, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  return send_one(&nc, &mc, ARG_INT(call, 2));
}

struct sc_result sys_sendmmsg(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  unsigned vlen = ARG_UINT(call, 2);
  if (vlen > NET_IOV_MAX)
    vlen = NET_IOV_MAX; /* as the kernel: at most UIO_MAXIOV per call */
  if (vlen == 0)
    return sc_ok(0);
  uint64_t vec = call->args[1];
  cleanup_net_call struct net_call nc = {.sock = -1};
  int r = net_call_begin(call, ARG_INT(call, 0), &nc);
  if (r < 0)
    return sc_fail(r);
  unsigned sent = 0;
  struct sc_result res = sc_ok(0);
  for (; sent < vlen; sent++) {
    struct msghdr um;
    cleanup_msg struct msg_copy mc = {.ntaken = 0};
    r = agent_read(call, vec + (uint64_t)sent * MMSGHDR_SIZE, &um, sizeof um);
    if (r == 0)
      r = read_msg(call, &um, &mc);
    if (r == 0 && call_validate(call) < 0)
      return sent > 0 ? sc_ok(sent) : sc_gone();
    res = r < 0 ? sc_fail(r) : send_one(&nc, &mc, ARG_INT(call, 3));
    if (res.outcome != SC_RETURN || res.err != 0)
      break;
    unsigned len = (unsigned)res.val;
    if (agent_write(call, vec + (uint64_t)sent * MMSGHDR_SIZE + sizeof(struct msghdr), &len,
                    sizeof len) < 0)
      break;
  }
  /* as the kernel: the count if anything was sent, else the first error */
  return sent > 0 ? sc_ok(sent) : res;
}

struct sc_result sys_setsockopt(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (unfiltered())
    return sc_kernel_must_perform();
  int level = ARG_INT(call, 1), name = ARG_INT(call, 2);
  if (net_sockopt_denied(level, name)) {
    note_dest(call, "level %d option %d", level, name);
    note_rule(call, "socket options that bypass the network policy are denied");
    return sc_errno(EPERM);
  }
  /* Decided on register values only (level, name), whatever the fd or the
   * value: the kernel performs it. */
  return sc_kernel_must_perform();
}

/* ---- start and stop ---- */

static void log_dns(void *ctx, const char *name, bool allowed, const struct net_rule *rule,
                    int rcode)
{
  struct net_state *s = ctx;
  if (s->audit == NULL)
    return;
  char why[400];
  if (allowed)
    snprintf(why, sizeof why, "net-allow %s", rule->text);
  else
    snprintf(why, sizeof why, "no --net-allow rule names it: NXDOMAIN");
  struct audit_record rec = {
      .pid = 0, /* the resolver does not know which process asked */
      .syscall = "dns",
      .arg = name,
      .decision = allowed ? "emulate" : "deny",
      .err = 0,
      .result = rcode,
      .rule = why,
  };
  audit_write(s->audit, &rec);
}

static int netns_cookie(uint64_t *out, usbox_err_t *err)
{
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof *out;
  if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, out, &len) < 0)
    return usbox_err_set(err, errno,
                         "reading the network namespace cookie (the network filter needs "
                         "Linux 5.14 or later)");
  return 0;
}

static int start_filtered(struct net_state *s, const struct policy *p, struct netns_fds *fds,
                          usbox_err_t *err)
{
  if (fds->n < 0 || fds->n > NET_RESOLVER_MAX_FDS)
    return usbox_err_set(err, EINVAL, "bad resolver sockets from the agent process");
  if (netns_cookie(&s->host_cookie, err) < 0)
    return -1;
  if (net_learned_init(&s->learned) < 0)
    return usbox_err_set(err, ENOMEM, "allocating the network state");
  for (size_t i = 0; i < p->net.nresolvers && i < NET_MAX_RESOLVERS; i++)
    s->resolvers[s->nresolvers++] = (struct net_dest){
        .addr = p->net.resolvers[i], .port = NET_RESOLVER_PORT, .proto = IPPROTO_UDP};
  bool names = false;
  for (size_t i = 0; i < p->net.nrules; i++)
    names |= p->net.rules[i].kind != NET_HOST_IP;
  if (names && p->net.upstream_len == 0)
    usbox_warn("no DNS server in /etc/resolv.conf: allowed names will not resolve "
               "(--dns-upstream ADDR)");
  if (names && fds->n == 0)
    usbox_warn("the sandbox's resolver could not listen on the host's nameserver addresses: "
               "allowed names will not resolve");
  struct net_resolver_config rc = {
      .nfds = fds->n,
      .upstream = p->net.upstream,
      .upstream_len = p->net.upstream_len,
      .rules = p->net.rules,
      .nrules = p->net.nrules,
      .learned = &s->learned,
      .log = log_dns,
      .log_ctx = s,
  };
  memcpy(rc.udp_fd, fds->dns_udp, sizeof rc.udp_fd);
  memcpy(rc.tcp_fd, fds->dns_tcp, sizeof rc.tcp_fd);
  if (net_resolver_start(&s->resolver, &rc, err) < 0)
    return -1;
  fds->n = 0; /* the resolver's now */
  return 0;
}

int sys_net_start(const struct policy *p, struct netns_fds *fds, struct audit *audit,
                  usbox_err_t *err)
{
  struct net_state *s = calloc(1, sizeof *s);
  if (s == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the network state");
  s->policy = &p->net;
  s->filtered = p->net.mode == NET_MODE_FILTERED;
  s->audit = audit;
  if (s->filtered && start_filtered(s, p, fds, err) < 0) {
    net_learned_destroy(&s->learned);
    free(s);
    return -1;
  }
  net_state = s;
  return 0;
}

void sys_net_stop(void)
{
  struct net_state *s = net_state;
  if (s == NULL)
    return;
  net_resolver_stop(s->resolver);
  net_learned_destroy(&s->learned);
  net_state = NULL;
  free(s);
}
