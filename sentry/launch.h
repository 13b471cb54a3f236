/* Starting the agent: what happens in the agent process between fork and
 * execve (its namespace, its filter), and how its listener and the view's
 * mount fds reach the sentry. */
#ifndef USBOX_SENTRY_LAUNCH_H
#define USBOX_SENTRY_LAUNCH_H

#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "limits/limits.h"
#include "platform/seccomp_filter.h"
#include "policy/policy.h"
#include "netstack-shim/netns.h"
#include "vfs/vfs.h"
#include "vfs/dev_alias.h"
#include "sentry/tty_relay.h"

/* What usbox inherited, restored in the agent so it starts as it would have
 * natively (a program started under nohup keeps SIGHUP ignored, and so on). */
struct inherited {
  sigset_t mask;
  struct sigaction sigpipe;
  /* the open-file limit usbox was given: the agent's (usbox raises its own
   * soft limit to the hard one: its fds for the agent's threads are not the
   * agent's to count) */
  struct rlimit nofile;
};

/* Signals usbox forwards to the agent when a process sends them to usbox
 * (the sandbox's init passes them on). */
extern const int launch_forwarded[];
extern const size_t launch_nforwarded;

struct launch {
  const struct inherited *inherited;
  bool new_user;         /* the clone makes a user namespace (no root) */
  /* the sentry holds no capability in the user namespace this process's
   * memory belongs to (new_user, or usbox itself moved into one: a
   * forked mm keeps its creator's): the init is dumpable when the sentry
   * must read or take from it */
  bool foreign_mm;
  uid_t uid;             /* usbox's ids, mapped to themselves there */
  gid_t gid;
  const char *hostname;  /* of the sandbox's UTS namespace */
  bool uts_ipc_made;     /* those and the IPC one are this process's already */
  const struct limits *limits; /* rlimits the first process applies */
  const char *program;
  char **argv;
  char *const *envp; /* the agent's environment (policy/env.h), not usbox's */
  const struct bpf_program *bpf;
  const struct bpf_program *profile; /* the seccomp profile's filter, or NULL */
  unsigned profile_flags;
  const struct policy *policy;
  const struct tty_relay *tty; /* which of fds 0-2 get the agent's own pty */
  char cwd[PATH_MAX]; /* where the agent starts (a view path) */
  /* where it starts if cwd is not in the view (its home), or NULL: then
   * that is an error (a directory the policy named) */
  const char *cwd_fallback;
  int placed_r;       /* parent -> child: it is in the sandbox's cgroups, go on */
  int hidden_r;       /* parent -> child: the finished hidden paths (launch_send_hidden) */
  int ready_w;        /* child -> parent: struct launch_report */
  int ack_r;          /* parent -> child: the sentry is serving (a byte), then the
                         go for the agent (another) */
  int status_w;       /* agent -> parent: errno of a failed execve (CLOEXEC) */
  int exit_w;         /* init -> parent: the agent's wait status */
  int ctl_fd;         /* the init's end of sentry/init_ctl.h's channel, or -1 */
  int preserve_fds;   /* fds 3..preserve_fds+2 pass to the agent (OCI --preserve-fds) */
  const int *own_fds; /* usbox's caller's own fds: closed in the child at once */
  size_t nown_fds;
};

/* Sent by the agent process once its namespace and filter are in place (or
 * not: then status < 0 and msg says why). fd numbers are the child's; the
 * parent takes them with pidfd_getfd. */
struct launch_report {
  int status;
  char msg[300];
  int listener;
  int nmounts;
  int mounts[VFS_MAX_MOUNTS]; /* in vfs_mount_dests() order */
  struct netns_fds net;       /* the sandbox resolver's sockets (none: --net host) */
  /* the hidden paths' parents as the view shows them (-1: too many to
   * report; the sentry asks the gofer instead) */
  int nparents;
  struct vfs_hidden_parent parents[VFS_MAX_REPORTED_HIDDEN];
  int pty_master; /* the agent's pty (sentry/tty_relay.h), or -1 */
  int naliases;   /* --overlay: how its mounts show the host's objects */
  struct vfs_dev_alias aliases[VFS_MAX_DEV_ALIASES];
};
/* one write to a pipe, read whole by one read (atomic up to PIPE_BUF) */
_Static_assert(sizeof(struct launch_report) <= 4096, "the launch report must fit in PIPE_BUF");

/* The view's hidden paths, as policy_expand_hidden left them, to the
 * sandbox's first process, which masks them last in building the view
 * (the parent may resolve them while the child makes its namespaces): a
 * 64-bit length, then the paths, each ending in a NUL. 0 or -1 with err. */
int launch_send_hidden(const struct policy *p, int fd, usbox_err_t *err);

/* Start the sandbox's first process (pid 1 of a new pid namespace; with
 * l->new_user, in a new user namespace too). Returns its pid, 0 in it, or -1. */
pid_t launch_clone(const struct launch *l);

/* In that process: namespaces, the view, the filter, the report; then it
 * forks the agent and stays as the sandbox's init. */
_Noreturn void launch_agent_child(const struct launch *l);

/* What the parent takes from the report: its own fds. */
struct launch_fds {
  int listener;
  int mounts[VFS_MAX_MOUNTS]; /* in vfs_mount_dests() order */
  int nmounts;
  struct netns_fds net; /* none with --net host */
  /* the hidden paths' parents (nparents -1: not reported) */
  struct vfs_hidden_parent parents[VFS_MAX_REPORTED_HIDDEN];
  int nparents;
  int pty_master; /* -1: no relay */
  int naliases;
  struct vfs_dev_alias aliases[VFS_MAX_DEV_ALIASES];
};

/* Parent side: read the report and take the fds (all or none). */
int launch_take_fds(pid_t child, int ready_r, struct launch_fds *out, usbox_err_t *err);
/* A write to the first process found it gone (EPIPE: it failed before it
 * read): its report says why. Always -1, with err set. */
int launch_child_gone(int ready_r, usbox_err_t *err);

/* The OCI process's oomScoreAdj on the calling process, if it names one
 * (its children inherit it). */
int launch_set_oom_score_adj(const struct policy_process *proc, usbox_err_t *err);

#endif
