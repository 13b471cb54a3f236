/* The channel between the monitor (usbox's supervisor of an OCI container)
 * and the sandbox's init: how a process is started in a running sandbox
 * (`usbox exec ID`, the engines' exec). The init forks it, so it is born
 * inside everything the container's process is inside (namespaces, view,
 * Landlock domain, usbox's filter, cgroups, no_new_privs, the bounding set)
 * and can only give things up on its way to execve: another user only if
 * the container's process could switch to it, fewer capabilities, its own
 * rlimits, umask and directory. docs/oci.md.
 *
 * A SOCK_SEQPACKET pair made before the sandbox: one message each way per
 * record. monitor -> init: struct init_exec_req (+ strings; + the stdio fds
 * when not a terminal) or a signal for one of them. init -> monitor: struct
 * init_exec_event (+ the pty master for INIT_EV_PTY). */
#ifndef USBOX_SENTRY_INIT_CTL_H
#define USBOX_SENTRY_INIT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/fdpass.h"
#include "platform/seccomp_filter.h"
#include "policy/policy.h"

/* the strings of one request (cwd, args, env), NUL-separated */
#define INIT_EXEC_MAX_STRINGS (96 * 1024)
#define INIT_EXEC_MAX_LIVE 128 /* processes started this way alive at once */
/* --preserve-fds of `exec`: the fds one message carries besides stdio */
#define INIT_EXEC_MAX_PRESERVE (FDPASS_MAX - 3)

enum init_op { INIT_OP_EXEC = 1, INIT_OP_SIGNAL = 2 };

enum {
  INIT_EXEC_TTY = 1u << 0,      /* a pty of the sandbox on 0-2; master sent back */
  INIT_EXEC_SET_USER = 1u << 1, /* uid, gid, groups below */
  INIT_EXEC_SET_CAPS = 1u << 2, /* keep only keep_caps */
  /* the file to execute is the string after cwd, and argv[0] only its
   * name (an OCI hook has a path and args, a process object args alone) */
  INIT_EXEC_PATH = 1u << 3,
};

struct init_exec_req {
  uint32_t op;
  uint32_t id;    /* the monitor's name for the process */
  int32_t signo;  /* INIT_OP_SIGNAL */
  uint32_t flags; /* INIT_EXEC_* */
  uint32_t uid, gid, ngroups;
  uint32_t groups[POLICY_MAX_GROUPS];
  int32_t umask; /* -1: the init's */
  uint64_t keep_caps;
  uint32_t nrlimits;
  struct init_rlimit {
    int32_t resource;
    uint64_t soft, hard;
  } rlimits[POLICY_MAX_RLIMITS];
  uint32_t argc, envc;
  uint32_t strings_len; /* bytes after the header: cwd, [path,] argv, env */
  /* fds attached after stdio, which become the process's 3..npreserve+2
   * (runc's --preserve-fds; at most INIT_EXEC_MAX_PRESERVE) */
  uint32_t npreserve;
};

enum init_event {
  INIT_EV_STARTED = 1, /* value: its pid in the sandbox */
  INIT_EV_FAILED = 2,  /* value: errno; stage: INIT_STAGE_* */
  INIT_EV_EXIT = 3,    /* value: its wait status */
  INIT_EV_PTY = 4,     /* the pty master is attached */
};

enum init_stage {
  INIT_STAGE_REQUEST = 1, /* the request itself (too many, malformed) */
  INIT_STAGE_TTY,
  INIT_STAGE_RLIMITS,
  INIT_STAGE_USER,
  INIT_STAGE_CAPS,
  INIT_STAGE_CWD,
  INIT_STAGE_PROFILE,
  INIT_STAGE_EXEC,
};

struct init_exec_event {
  uint32_t event;
  uint32_t id;
  int32_t value;
  uint32_t stage;
};

/* What a process to start is (the monitor's side). */
struct init_exec_spec {
  uint32_t id;
  char **argv; /* NULL-terminated, non-empty */
  char **envp; /* NULL-terminated */
  const char *cwd;
  const char *path; /* absolute: the file to execute; NULL: argv[0], searched in PATH */
  bool tty;
  const struct policy_process *proc; /* user (if set_user), umask, rlimits */
  bool set_caps;
  uint64_t keep_caps;
  const int *preserved; /* npreserve fds for its 3..npreserve+2 */
  size_t npreserve;
};

/* Monitor: send the request (with stdio[0..2] attached unless spec->tty,
 * then spec->preserved). 0, or -1 with err (too big: EINVAL; the init is
 * gone: EPIPE...). */
int init_ctl_send_exec(int ctl, const struct init_exec_spec *spec, const int stdio[3],
                       usbox_err_t *err);
/* Monitor: signo to process id. */
int init_ctl_send_signal(int ctl, uint32_t id, int signo);
/* Monitor: the next event (*fd: the attached fd or -1). 1, 0 at EOF (the
 * sandbox ended), -1 on error. */
int init_ctl_recv_event(int ctl, struct init_exec_event *ev, int *fd);
/* A stage's words for messages ("setting the user", ...). */
const char *init_stage_name(uint32_t stage);

/* A received request checked whole (sizes, counts, every string
 * NUL-terminated inside the message): out's argv and envp point into
 * strings. 0, or -EINVAL / -ENOMEM. */
struct init_request {
  const char *cwd;
  const char *path; /* INIT_EXEC_PATH: absolute; else NULL */
  char **argv, **envp;
};
int init_request_decode(const struct init_exec_req *h, char *strings, size_t len, size_t nfds,
                        struct init_request *out);
void init_request_free(struct init_request *r);

/* The init's side (sentry/init_serve.c, from launch.c's init loop): a
 * request arrived on ctl; fork and start the process. */
struct init_serve {
  int ctl;             /* -1 once the monitor is gone */
  sigset_t mask;       /* the signal mask the agent started with */
  const struct bpf_program *profile; /* the container's seccomp profile, or NULL */
  unsigned profile_flags;
  struct rlimit_default {
    unsigned long long soft, hard;
  } nofile; /* the agent's open-file limit, unless the request sets one */
  /* without root (the init in a user namespace of its own): dumpable while
   * a child shares or copies its memory until its execve, so that the
   * sentry, which is not root, can read that execve's arguments */
  bool dumpable_for_exec;
  struct {
    pid_t pid;
    uint32_t id;
  } live[INIT_EXEC_MAX_LIVE];
};
void init_serve_request(struct init_serve *s);
/* A reaped child: if it was one of these, its EXIT goes to the monitor. */
void init_serve_reaped(struct init_serve *s, pid_t pid, int status);

#endif
