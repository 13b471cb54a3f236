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
 * abstract names are the sandbox namespace's own.
 *
 * The plumbing is netstack-shim's (hostsock.c: the socket and its move to
 * the host; msgcopy.c: what a send carries; route.c: where it goes; net.c:
 * the network's state): it knows the call only through a context of its
 * own (netstack-shim/ctx.h), which the handlers here fill from the call
 * (net_ctx_of). What is left here: reading the arguments, the calls decided
 * on registers, bind (the view decides where a unix socket's file goes) and
 * the result the agent gets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "netstack-shim/ctx.h"
#include "netstack-shim/hostsock.h"
#include "netstack-shim/msg.h"
#include "netstack-shim/msgcopy.h"
#include "netstack-shim/net.h"
#include "netstack-shim/relay.h"
#include "netstack-shim/route.h"
#include "netstack-shim/rules.h"
#include "netstack-shim/sockaddr.h"
#include "policy/policy.h"
#include "sentry/audit.h"
#include "sentry/report.h"
#include "sentry/sentry.h"
#include "sentry/sys_common.h"
#include "sentry/sys_net.h"
#include "sentry/task.h"

#ifndef SECCOMP_ADDFD_FLAG_SETFD
#define SECCOMP_ADDFD_FLAG_SETFD (1UL << 0)
#endif

#define MMSGHDR_SIZE 64 /* struct mmsghdr on x86_64 */

/* ---- audit text: the destination and the rule, for the dispatcher ---- */

static __thread char audit_dest[NET_NOTE_DEST_MAX];
static __thread char audit_why[NET_NOTE_RULE_MAX];

__attribute__((format(printf, 2, 3))) static void note_dest(struct sentry_call *call,
                                                            const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(audit_dest, sizeof audit_dest, fmt, ap);
  va_end(ap);
  call->audit_arg = audit_dest;
}

__attribute__((format(printf, 3, 0))) static void note_why(struct sentry_call *call,
                                                           bool allowed, const char *fmt,
                                                           va_list ap)
{
  vsnprintf(audit_why, sizeof audit_why, fmt, ap);
  call->audit_rule = audit_why;
  call->rule_allowed = allowed;
}

/* The rule that let the call through or chose where it goes. */
__attribute__((format(printf, 2, 3))) static void note_rule(struct sentry_call *call,
                                                            const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note_why(call, true, fmt, ap);
  va_end(ap);
}

/* The rule that refuses the call (handler.h: a refusal). */
__attribute__((format(printf, 2, 3))) static void note_refusal(struct sentry_call *call,
                                                               const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  note_why(call, false, fmt, ap);
  va_end(ap);
}

/* ---- the network's view of an intercepted call (netstack-shim/ctx.h) ---- */

static struct sentry_call *call_of(struct net_ctx *ctx)
{
  return ctx->owner;
}

static int call_net_read(struct net_ctx *ctx, uint64_t addr, void *buf, size_t len)
{
  return agent_read(call_of(ctx), addr, buf, len);
}

static int call_net_validate(struct net_ctx *ctx)
{
  return call_validate(call_of(ctx)) < 0 ? -ESRCH : 0;
}

/* The agent's fd in the sentry: the same open file (pidfd_getfd). */
static int call_net_getfd(struct net_ctx *ctx, int fd)
{
  struct sentry_call *call = call_of(ctx);
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
static int call_net_setfd(struct net_ctx *ctx, int target, int src)
{
  struct sentry_call *call = call_of(ctx);
  struct seccomp_notif_addfd a = {
      .id = call->id,
      .flags = SECCOMP_ADDFD_FLAG_SETFD,
      .srcfd = (uint32_t)src,
      .newfd = (uint32_t)target,
      .newfd_flags = fd_cloexec(call->tid, target) ? O_CLOEXEC : 0,
  };
  return ioctl(call->sentry->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 ? -errno : 0;
}

/* The thread's record first (call_task), so that call->task is there for
 * the ids: the deputy's credentials come from the same record. */
static int call_net_identify(struct net_ctx *ctx, struct net_caller *out)
{
  struct sentry_call *call = call_of(ctx);
  int r = call_task(call);
  if (r < 0 || (r = task_deputy_creds(call, 0, &out->creds)) < 0)
    return r;
  const struct task *t = call->task;
  out->tgid = t->tgid;
  out->ns_tgid = t->ns_tgid;
  out->uid = t->creds.uid, out->euid = t->creds.euid, out->suid = t->creds.suid;
  out->gid = t->creds.gid, out->egid = t->creds.egid, out->sgid = t->creds.sgid;
  return 0;
}

/* The view resolves the path (hidden and unbound paths do not exist), and
 * the sentry opens the socket's inode from the agent's root. */
static int call_net_open_unix(struct net_ctx *ctx, const char *path, bool *writable_place)
{
  struct sentry_call *call = call_of(ctx);
  cleanup_node struct vfs_node node = VFS_NODE_INIT;
  int r = vfs_lookup(&call->fs, AT_FDCWD, path, 0, &node);
  if (r < 0)
    return r;
  if (!S_ISSOCK(node.st.st_mode))
    return -ECONNREFUSED; /* as the kernel for a path that is no socket */
  *writable_place = node.mount != NULL && node.mount->writable;
  return vfs_open_resolved(&call->fs, &node, 0);
}

static void call_net_interruptible(struct net_ctx *ctx, bool on)
{
  (void)ctx;
  sentry_interruptible(on);
}

static void call_net_signal(struct net_ctx *ctx, int sig)
{
  task_signal(call_of(ctx), sig);
}

static void call_net_note(struct net_ctx *ctx, enum net_note what, const char *text)
{
  if (what == NET_NOTE_DEST)
    note_dest(call_of(ctx), "%s", text);
  else if (what == NET_NOTE_RULE)
    note_rule(call_of(ctx), "%s", text);
  else
    note_refusal(call_of(ctx), "%s", text);
}

static const struct net_caller_ops net_call_ops = {
    .read = call_net_read,
    .validate = call_net_validate,
    .getfd = call_net_getfd,
    .setfd = call_net_setfd,
    .identify = call_net_identify,
    .open_unix = call_net_open_unix,
    .interruptible = call_net_interruptible,
    .signal = call_net_signal,
    .note = call_net_note,
};

static struct net_ctx net_ctx_of(struct sentry_call *call)
{
  return (struct net_ctx){.ops = &net_call_ops, .owner = call};
}

/* What netstack-shim answers, as the agent gets it. */
static struct sc_result sc_of(struct net_result r)
{
  if (r.gone)
    return sc_gone();
  return r.err != 0 ? sc_errno(r.err) : sc_ok(r.val);
}

/* ---- handlers ---- */

/* Started before the receivers: without it no network call is answered
 * (fail closed). */
#define NET_READY_OR_FAIL()                                                                       \
  do {                                                                                           \
    if (!net_ready())                                                                            \
      return sc_errno(ENETDOWN);                                                                 \
  } while (0)

struct sc_result sys_socket(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  int domain = ARG_INT(call, 0), type = ARG_INT(call, 1), protocol = ARG_INT(call, 2);
  note_dest(call, "domain %d type %d protocol %d", domain, type, protocol);
  int err = 0;
  const char *why = net_socket_check(domain, type, protocol, &err);
  if (why != NULL) {
    note_refusal(call, "%s", why);
    return sc_errno(err);
  }
  /* Decided on register values only; the socket is made in the caller's
   * namespace, the sandbox's, where it reaches nothing by itself. */
  return sc_kernel_must_perform();
}

struct sc_result sys_socketpair(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  int domain = ARG_INT(call, 0), type = ARG_INT(call, 1), protocol = ARG_INT(call, 2);
  note_dest(call, "domain %d type %d protocol %d", domain, type, protocol);
  /* Decided on the family (a register): unix pairs connect nothing outside
   * the sandbox. Another family: the kernel makes the first socket as
   * socket() would (its errors first), then finds the family has no pairs
   * (EOPNOTSUPP). */
  if (domain == AF_UNIX)
    return sc_kernel_must_perform();
  int err = EOPNOTSUPP;
  const char *why = net_socket_check(domain, type, protocol, &err);
  note_refusal(call, "%s", why != NULL ? why : "only unix socket pairs");
  return sc_errno(err);
}

struct sc_result sys_connect(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  struct sockaddr_storage sa;
  int len = ARG_INT(call, 2);
  int r = net_read_sockaddr(&ctx, call->args[1], len, &sa);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(&ctx, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  if (len < (int)sizeof(sa_family_t))
    return sc_errno(EINVAL);
  return sc_of(net_route(&nc, &sa, (socklen_t)len, net_act_connect, NULL, true));
}

struct bind_in_agent_fs {
  struct net_call *nc;
  const struct sockaddr_un *un;
  socklen_t len;
  struct net_result res;
};

static int bind_here(void *p)
{
  struct bind_in_agent_fs *b = p;
  b->res = net_perform(b->nc, net_act_bind, (const struct sockaddr *)b->un, b->len, NULL);
  return 0;
}

/* A unix socket bound at a path: the file is created where the view says
 * (a read-only or hidden place refuses, as for mknod). The kernel keeps the
 * name a socket was bound with, and getsockname, getpeername and accept
 * return it: so the bind is made with the agent's own name, resolved from
 * the agent thread's root and working directory (task_in_agent_fs), as the
 * agent itself, on the sentry's copy of the name (usbox without root does
 * it from the sandbox's user namespace). Only where neither can be done
 * (root without CAP_SYS_CHROOT) does it bind in the directory the view
 * resolved, through /proc/self/fd/N: the right place, but the kernel then
 * keeps that name. */
static struct sc_result unix_bind_path(struct sentry_call *call, struct net_call *nc,
                                       const char *path)
{
  note_dest(call, "unix %s", path);
  note_rule(call, "the view");
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  int r = vfs_lookup_parent(&call->fs, AT_FDCWD, path, &parent, name);
  if (r == 0)
    r = vfs_check_entry(&call->fs, &parent, name, VFS_CREATE, 0);
  if (r < 0)
    return r == -EEXIST ? sc_errno(EADDRINUSE) : sc_fail(r);
  nc->writable_place = true; /* vfs_check_entry: the view lets the agent create there */
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  size_t plen = strlen(path);
  if (plen >= sizeof un.sun_path)
    return sc_errno(EINVAL);
  memcpy(un.sun_path, path, plen + 1);
  struct bind_in_agent_fs b = {
      .nc = nc, .un = &un, .len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1)};
  r = task_in_agent_fs(call, bind_here, &b, sizeof b);
  if (r == 0)
    return sc_of(b.res);
  if (r != -EOPNOTSUPP)
    return sc_fail(r);
  cleanup_close int dfd = vfs_open_resolved(&call->fs, &parent, O_DIRECTORY);
  if (dfd < 0)
    return sc_fail(dfd);
  int n = snprintf(un.sun_path, sizeof un.sun_path, "/proc/self/fd/%d/%s", dfd, name);
  if (n < 0 || (size_t)n >= sizeof un.sun_path)
    return sc_errno(ENAMETOOLONG);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
  return sc_of(net_perform(nc, net_act_bind, (struct sockaddr *)&un, len, NULL));
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
static bool privileged_port(struct sentry_call *call, const struct net_call *nc,
                            const struct sockaddr_storage *sa, socklen_t len)
{
  if (nc->si.domain != AF_INET && nc->si.domain != AF_INET6)
    return false;
  unsigned port = 0;
  if (sa->ss_family == AF_INET && len >= sizeof(struct sockaddr_in))
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  else if (sa->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  if (port == 0 || port >= 1024 || call_task(call) < 0) /* the namespace's default start */
    return false;
  return !(call->task->cap_eff & (1ull << CAP_NET_BIND_SERVICE));
}

struct sc_result sys_bind(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  struct sockaddr_storage sa;
  int len = ARG_INT(call, 2);
  int r = net_read_sockaddr(&ctx, call->args[1], len, &sa);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(&ctx, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  /* a host-side socket is already bound (it was connected); binding it
   * anew would be a port on the host's network */
  if (nc.si.host) {
    note_dest(call, "a socket on the host's side");
    note_refusal(call, "host-side sockets are not bound again");
    return sc_errno(EINVAL);
  }
  struct net_unix_addr ua;
  if (nc.si.domain == AF_UNIX && net_unix_addr_decode(&sa, (size_t)len, &ua) == 0 &&
      ua.kind == NET_UNIX_PATH)
    return unix_bind_path(call, &nc, ua.name);
  /* everything else binds in the sandbox's own namespace: its loopback, its
   * abstract names, its netlink; an autobind (just the family) or an
   * address the kernel refuses is the kernel's */
  note_local(call, &sa, (socklen_t)len, nc.si.type);
  note_rule(call, "the sandbox's own namespace");
  if (privileged_port(call, &nc, &sa, (socklen_t)len))
    return sc_errno(EACCES);
  return sc_of(net_perform(&nc, net_act_bind, (struct sockaddr *)&sa, (socklen_t)len, NULL));
}

struct sc_result sys_listen(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  cleanup_net_call struct net_call nc = {.sock = -1};
  int r = net_call_begin(&ctx, ARG_INT(call, 0), &nc);
  if (r < 0)
    return sc_fail(r);
  /* Performed on the sentry's copy, not continued: the fd number could name
   * another socket by the time the kernel looked again. A host-side socket
   * would listen on the host's network. */
  if (nc.si.host) {
    note_refusal(call, "host-side sockets do not listen: the sandbox's ports are its own");
    return sc_errno(EOPNOTSUPP);
  }
  return sc_syscall(listen(nc.sock, ARG_INT(call, 1)));
}

struct sc_result sys_sendto(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  /* No address: the kernel sends to the peer checked at connect (or fails);
   * nothing in agent memory decides where the data goes. */
  if (net_unfiltered() || call->args[4] == 0)
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
  mc.has_name = true;
  mc.namelen = (socklen_t)ARG_INT(call, 5);
  int r = net_read_sockaddr(&ctx, call->args[4], ARG_INT(call, 5), &mc.name);
  struct iovec iov = {.iov_base = (void *)(uintptr_t)call->args[1], .iov_len = call->args[2]};
  if (r == 0)
    r = net_read_data(&ctx, &iov, 1, &mc);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(&ctx, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  return sc_of(net_send(&nc, &mc, ARG_INT(call, 3)));
}

struct sc_result sys_sendmsg(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  struct msghdr um;
  cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
  int r = agent_read(call, call->args[1], &um, sizeof um);
  if (r == 0)
    r = net_read_msg(&ctx, &um, &mc);
  cleanup_net_call struct net_call nc = {.sock = -1};
  if (r < 0 || (r = net_call_begin(&ctx, ARG_INT(call, 0), &nc)) < 0)
    return sc_fail(r);
  return sc_of(net_send(&nc, &mc, ARG_INT(call, 2)));
}

struct sc_result sys_sendmmsg(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  unsigned vlen = ARG_UINT(call, 2);
  if (vlen > NET_IOV_MAX)
    vlen = NET_IOV_MAX; /* as the kernel: at most UIO_MAXIOV per call */
  if (vlen == 0)
    return sc_ok(0);
  uint64_t vec = call->args[1];
  struct net_ctx ctx = net_ctx_of(call);
  cleanup_net_call struct net_call nc = {.sock = -1};
  int r = net_call_begin(&ctx, ARG_INT(call, 0), &nc);
  if (r < 0)
    return sc_fail(r);
  unsigned sent = 0;
  struct sc_result res = sc_ok(0);
  for (; sent < vlen; sent++) {
    struct msghdr um;
    cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
    r = agent_read(call, vec + (uint64_t)sent * MMSGHDR_SIZE, &um, sizeof um);
    if (r == 0)
      r = net_read_msg(&ctx, &um, &mc);
    if (r == 0 && call_validate(call) < 0)
      return sent > 0 ? sc_ok(sent) : sc_gone();
    res = r < 0 ? sc_fail(r) : sc_of(net_send(&nc, &mc, ARG_INT(call, 3)));
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

/* getsockname and getpeername, performed on the sentry's copy of the
 * socket. A connection the relay carries (a name rule's, checked on its
 * first bytes) is connected to the relay inside the sandbox: it answers
 * what the agent's socket would natively, the destination and the address
 * of the sentry's socket on the host's network. */
static struct sc_result socket_name(struct sentry_call *call, bool local)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  struct net_ctx ctx = net_ctx_of(call);
  cleanup_close int sock = call_net_getfd(&ctx, ARG_INT(call, 0));
  if (sock < 0)
    return sc_fail(sock);
  struct sockaddr_storage ss;
  socklen_t slen = sizeof ss;
  if ((local ? getsockname(sock, (struct sockaddr *)&ss, &slen)
             : getpeername(sock, (struct sockaddr *)&ss, &slen)) < 0)
    return sc_errno(errno);
  struct net_relay *relay = net_relay_get();
  uint64_t cookie;
  socklen_t clen = sizeof cookie;
  if (relay != NULL && getsockopt(sock, SOL_SOCKET, SO_COOKIE, &cookie, &clen) == 0)
    net_relay_address(relay, cookie, local, &ss, &slen);
  /* as move_addr_to_user: the length in, at most that much out, the
   * address's own length back */
  int ulen;
  int r = agent_read(call, call->args[2], &ulen, sizeof ulen);
  if (r < 0)
    return sc_fail(r);
  if (ulen < 0)
    return sc_errno(EINVAL);
  size_t n = (size_t)ulen < slen ? (size_t)ulen : slen;
  if (n > 0 && (r = agent_write(call, call->args[1], &ss, n)) < 0)
    return sc_fail(r);
  int out = (int)slen;
  return write_out(call, 2, &out, sizeof out, 0);
}

struct sc_result sys_getsockname(struct sentry_call *call)
{
  return socket_name(call, true);
}

struct sc_result sys_getpeername(struct sentry_call *call)
{
  return socket_name(call, false);
}

struct sc_result sys_setsockopt(struct sentry_call *call)
{
  NET_READY_OR_FAIL();
  if (net_unfiltered())
    return sc_kernel_must_perform();
  int level = ARG_INT(call, 1), name = ARG_INT(call, 2);
  if (net_sockopt_denied(level, name)) {
    note_dest(call, "level %d option %d", level, name);
    note_refusal(call, "socket options that bypass the network policy are denied");
    return sc_errno(EPERM);
  }
  /* Decided on register values only (level, name), whatever the fd or the
   * value: the kernel performs it. */
  return sc_kernel_must_perform();
}

/* ---- start and stop: the policy's network part, for netstack-shim/net.c ---- */

/* Where the resolver's and the relay's decisions go (sys_net_start). */
static struct net_log {
  struct audit *audit;
  struct report *report;
} net_log;

/* A query the sandbox's resolver answered, or a connection the relay
 * checked, as an audit line (the resolver does not know which process
 * asked: pid 0) and, refused, in -v's report. */
static void audit_net(void *ctx, const struct net_audit_line *line)
{
  const struct net_log *log = ctx;
  struct audit_record rec = {
      .pid = line->pid,
      .syscall = line->syscall,
      .arg = line->arg,
      .decision = line->decision,
      .err = 0,
      .result = line->result,
      .rule = line->rule,
  };
  audit_write(log->audit, &rec);
  if (strcmp(line->decision, "deny") == 0)
    report_note(log->report, strcmp(line->syscall, "dns") == 0 ? REPORT_DNS : REPORT_NETWORK,
                line->arg, line->rule);
}

/* The policy keeps at most as many resolver addresses as the namespace
 * carries (policy/net.h, netstack-shim/netns.h). */
_Static_assert(NET_MAX_RESOLVERS == NETNS_MAX_RESOLVERS, "resolver address limits differ");

int sys_net_start(const struct policy *p, struct netns_fds *fds, struct audit *audit,
                  struct report *report, usbox_err_t *err)
{
  const struct net_policy *n = &p->net;
  net_log = (struct net_log){audit, report};
  bool logged = audit != NULL || report != NULL;
  struct net_config cfg = {
      .filtered = n->mode == NET_MODE_FILTERED,
      .rules = n->rules,
      .nrules = n->nrules,
      .upstream = n->upstream,
      .upstream_len = n->upstream_len,
      .resolvers = n->resolvers,
      .nresolvers = n->nresolvers,
      .resolver_port = NET_RESOLVER_PORT,
      .hostname = p->hostname,
      .audit = logged ? audit_net : NULL,
      .audit_ctx = &net_log,
  };
  return net_start(&cfg, fds, err);
}

void sys_net_stop(void)
{
  net_stop();
}
