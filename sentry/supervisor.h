/* `usbox exec`: start the agent under the sentry and wait for it. */
#ifndef USBOX_SENTRY_SUPERVISOR_H
#define USBOX_SENTRY_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

/* podman's exit codes for errors of the runtime itself */
#define USBOX_EXIT_ERROR 125       /* usbox failed (bad flag, setup) */
#define USBOX_EXIT_CANNOT_EXEC 126 /* program found but not executable */
#define USBOX_EXIT_NOT_FOUND 127   /* program not found */
#define USBOX_EXIT_TIMEOUT 124     /* --timeout ran out (as timeout(1)) */

#include "common/userns.h"
#include "platform/seccomp_filter.h"
#include "policy/policy.h"

/* OCI create/start (oci/): the sandbox is built and the sentry serving,
 * then the agent waits for its start. */
struct exec_gate {
  /* the agent's fds 0-2 are a pty of its own, whose master goes to created()
   * instead of being relayed to usbox's terminal (runc's --console-socket) */
  bool console;
  /* Everything is up; the agent has not run. sandbox_pid is the sandbox's
   * first process; pty_master is -1 unless console (then created() owns
   * it). init_ctl is the monitor's end of sentry/init_ctl.h's channel
   * (created() owns it, whatever it returns). 0: wait for the start; -1
   * (err set): tear down. */
  int (*created)(void *ctx, pid_t sandbox_pid, int pty_master, int init_ctl, usbox_err_t *err);
  /* Block until the start: 0. A signal usbox gets meanwhile (read from
   * sigfd) ends the wait: its number, and the sandbox goes. -1: error. */
  int (*wait_start)(void *ctx, int sigfd, usbox_err_t *err);
  /* After a start: the agent has executed, or could not. NULL: nothing. */
  void (*started)(void *ctx);
  /* With exec_config.userns: usbox has just become the user namespace's
   * root (one thread still); the namespaces it must own are made here.
   * NULL: nothing to do. */
  int (*in_userns)(void *ctx, usbox_err_t *err);
  void *ctx;
};

struct exec_config {
  char **argv;            /* program and its arguments */
  char *const *envp;      /* the agent's whole environment (policy/env.h), built
                             before the start and never changed after */
  const struct policy *policy; /* finished (policy_finish), or policy_finish_rules'd
                                * with expand_hidden set */
  /* Not NULL (the same policy): its hidden paths are still the rules;
   * supervisor_exec expands them (policy_expand_hidden) while the sandbox's
   * first process makes its namespaces. */
  struct policy *expand_hidden;
  const char *audit_path; /* --audit FILE, or NULL */
  uint64_t audit_max;     /* --audit-max: cap on its size (0: the default) */
  bool count_denials;     /* -v: route denials through the sentry to count them */
  const struct exec_gate *gate; /* NULL: the agent starts at once */
  const char *test_pass;  /* --TESTONLY-pass NAME,...: syscalls the sentry hands to
                             the kernel unchecked (tests of the backstops only) */
  unsigned test_hold_writable_ms; /* --TESTONLY-hold-writable (sentry.h) */
  /* a seccomp profile's filter (platform/profile_filter.h), installed in the
   * agent on top of usbox's right before its execve; or NULL */
  const struct bpf_program *profile;
  unsigned profile_flags; /* PROFILE_FLAG_* */
  /* the caller has made or joined the sandbox's UTS and IPC namespaces and
   * set its host name (an OCI monitor, which holds a pod's): the sandbox's
   * first process keeps them */
  bool uts_ipc_made;
  /* OCI --preserve-fds N: usbox's fds 3..N+2 (none a directory:
   * oci/preserve.c) pass to the agent at the same numbers; 0 otherwise */
  int preserve_fds;
  /* OCI linux.uidMappings/gidMappings: once its cgroups are made, usbox
   * enters a user namespace with these maps and runs the whole sandbox
   * from it as its root (sentry/userns_entry.c); NULL: the host's */
  const struct userns_config *userns;
  /* fds the caller holds for itself (an OCI monitor's exec socket, start
   * FIFO, console connection, kept log): the sandbox's first process,
   * a fork of usbox that never executes, closes them at its start */
  const int *own_fds;
  size_t nown_fds;
};

/* Returns the exit code usbox should exit with: the agent's status, 128+N
 * if it was killed by signal N, or one of the codes above. */
int supervisor_exec(const struct exec_config *cfg);

/* cfg->userns: the step above, with the sandbox's cgroups delegated to the
 * namespace's root first (limits/limits.h). */
struct limits;
int supervisor_enter_userns(const struct exec_config *cfg, struct limits *limits,
                            usbox_err_t *err);

/* execvp's search, done before starting anything so that errors are clear.
 * Fills resolved; returns 0, USBOX_EXIT_NOT_FOUND or USBOX_EXIT_CANNOT_EXEC
 * (with a message in err). */
#include "common/error.h"
int supervisor_find_program(const char *name, const char *path_env, char *resolved,
                            size_t size, usbox_err_t *err);

#endif
