/* Who the network works for: a context of its own, as the VFS has
 * (vfs/ctx.h). The socket plumbing here (hostsock.c, msgcopy.c, route.c)
 * knows the calling agent thread only through these few hooks, not the
 * sentry's types: the sentry fills one per intercepted call
 * (sentry/sys_net.c, net_ctx_of).
 *
 * What the hooks give: the caller's memory (its arguments), whether what
 * was read of it still stands, a copy of one of its fds and a way to put
 * one in its place, who the caller is now (for the deputy and for the
 * credentials a message may carry), its view's unix socket at a path, the
 * notices a blocking wait owes whoever runs it, the signal the kernel
 * would send it, and the audit text of the decision. */
#ifndef USBOX_NETSTACK_CTX_H
#define USBOX_NETSTACK_CTX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/deputy.h"

struct net_ctx;

/* The caller as the network needs to know it. */
struct net_caller {
  pid_t tgid;                /* its host thread group: the pid the kernel reads in
                              * SCM_CREDENTIALS the sentry sends */
  pid_t ns_tgid;             /* as the sandbox's pid namespace numbers it: the pid
                              * the agent itself writes there */
  uid_t uid, euid, suid;     /* the ids an unprivileged sender may name */
  gid_t gid, egid, sgid;     /* in SCM_CREDENTIALS */
  struct deputy_creds creds; /* what the deputy takes on for it */
};

/* What an audit note says (the dispatcher's audit line): the destination
 * (its "arg"); the rule that let the call through or chose where it goes
 * (its "rule"); or the rule that refuses it (its "rule", and the call is a
 * refusal: "deny" in the audit log, counted by -v). */
enum net_note { NET_NOTE_DEST, NET_NOTE_RULE, NET_NOTE_REFUSAL };
#define NET_NOTE_DEST_MAX 200
#define NET_NOTE_RULE_MAX 400

struct net_caller_ops {
  /* Exactly len bytes of the caller's memory at addr: 0, or -EFAULT /
   * -ESRCH. Every read must be followed by validate before acting on it. */
  int (*read)(struct net_ctx *ctx, uint64_t addr, void *buf, size_t len);
  /* The arguments read from the caller's memory still stand (the call is
   * still pending): 0, or -ESRCH (invariant 2). */
  int (*validate)(struct net_ctx *ctx);
  /* The caller's open file fd as a new fd of the sentry's (the same open
   * file, so a socket stays a socket): the fd, or -errno (-EBADF). */
  int (*getfd)(struct net_ctx *ctx, int fd);
  /* Put the sentry's src at number target in the caller's fd table, as
   * dup2 would (keeping its close-on-exec): 0, or -errno (-ENOENT: the
   * call is gone). */
  int (*setfd)(struct net_ctx *ctx, int target, int src);
  /* Who the caller is now: 0, -ESRCH when it is gone, or another -errno. */
  int (*identify)(struct net_ctx *ctx, struct net_caller *out);
  /* The caller's unix socket at path, as its view resolves it (hidden and
   * unbound paths do not exist): a new fd of the sentry's on that socket's
   * inode, or -errno (-ECONNREFUSED: the path names no socket). */
  int (*open_unix)(struct net_ctx *ctx, const char *path, bool *writable_place);
  /* (*writable_place: whether the socket is where the view lets the agent
   * write, so that the capabilities overriding file permissions count
   * there, common/deputy.h) */
  /* The wait about to start (on) or just ended (off) may be cut short by a
   * signal for the caller (a blocking connect or send). */
  void (*interruptible)(struct net_ctx *ctx, bool on);
  /* Send the caller what the kernel would (SIGPIPE). */
  void (*signal)(struct net_ctx *ctx, int sig);
  /* The decision's audit text (at most NET_NOTE_*_MAX bytes, NUL included):
   * a later note of the same kind replaces an earlier one. */
  void (*note)(struct net_ctx *ctx, enum net_note what, const char *text);
};

struct net_ctx {
  const struct net_caller_ops *ops;
  void *owner; /* the ops' own state */
};

/* What the caller is answered: a value, its errno, or nothing (it is
 * gone). The sentry turns it into its own result. */
struct net_result {
  bool gone;   /* the caller or its call went away: nothing to answer */
  int err;     /* the caller's errno, 0 on success */
  int64_t val; /* the return value when err == 0 */
};

static inline struct net_result net_ok(int64_t val)
{
  return (struct net_result){.gone = false, .err = 0, .val = val};
}
static inline struct net_result net_errno(int err)
{
  return (struct net_result){.gone = false, .err = err, .val = -1};
}
static inline struct net_result net_gone(void)
{
  return (struct net_result){.gone = true, .err = 0, .val = 0};
}
/* -errno from a helper to a result: -ESRCH means the caller is gone. */
static inline struct net_result net_fail(int neg)
{
  return neg == -ESRCH ? net_gone() : net_errno(-neg);
}

/* deputy_enter(flags) with the caller's credentials, and the capabilities
 * beyond its own that the sentry vouches for (each only where the kernel
 * would need it merely because the sentry, not the agent, makes the call):
 * every host operation performed for the caller happens between this and
 * deputy_leave(). 0 or -errno (then nothing is to be done). */
int net_deputy_enter(struct net_ctx *ctx, unsigned flags, uint64_t vouched_caps,
                     bool writable_place);

/* The audit text of the decision (ops->note), formatted. */
__attribute__((format(printf, 2, 3))) void net_note_dest(struct net_ctx *ctx, const char *fmt,
                                                          ...);
__attribute__((format(printf, 2, 3))) void net_note_rule(struct net_ctx *ctx, const char *fmt,
                                                          ...);
__attribute__((format(printf, 2, 3))) void net_note_refusal(struct net_ctx *ctx,
                                                             const char *fmt, ...);

#endif
