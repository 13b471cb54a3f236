/* Resource limits of the sandbox: memory, processes, CPU, open files, wall
 * time. Enforced with cgroup v2 where its controllers are available, else
 * with the cgroup v1 controllers, else (without root or delegation) with
 * rlimits where an rlimit can express the limit, with a warning. A limit
 * that cannot be enforced at all is an error unless best-effort was asked.
 *
 * The sandbox's cgroups are named usbox-<pid of usbox>, a small tree with
 * leaves for the agent, the gofer and usbox (cgroup.c); whatever a usbox that was SIGKILLed left behind
 * is removed by the next start. */
#ifndef USBOX_LIMITS_LIMITS_H
#define USBOX_LIMITS_LIMITS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct limits_config {
  uint64_t memory; /* bytes, 0: none */
  long pids;       /* 0: none */
  double cpus;     /* CPUs' worth of time, 0: none */
  double timeout;  /* seconds of wall time, 0: none */
  double grace;    /* seconds between SIGTERM and SIGKILL at the timeout */
  long nofile;     /* RLIMIT_NOFILE, 0: unchanged */
  bool best_effort;
  /* OCI containers: every controller's cgroup is made, without a limit
   * where none is asked, so that `update` can set one later (one that
   * cannot be made is left out, silently) */
  bool updatable;
};

#define LIMITS_DEFAULT_GRACE 5.0

void limits_config_init(struct limits_config *c);

/* Parsers for the flags (--memory 64M, --pids 100, --cpus 0.5,
 * --timeout 30, --nofile 1024, --limits strict|best-effort). */
int limits_parse_memory(struct limits_config *c, const char *text, usbox_err_t *err);
/* A size flag's value ("64M", "1G", "512k", bytes; at least 4k). */
int limits_parse_size(const char *flag, const char *text, uint64_t *out, usbox_err_t *err);
int limits_parse_pids(struct limits_config *c, const char *text, usbox_err_t *err);
int limits_parse_cpus(struct limits_config *c, const char *text, usbox_err_t *err);
int limits_parse_timeout(struct limits_config *c, const char *text, usbox_err_t *err);
int limits_parse_grace(struct limits_config *c, const char *text, usbox_err_t *err);
int limits_parse_nofile(struct limits_config *c, const char *text, usbox_err_t *err);
int limits_parse_mode(struct limits_config *c, const char *text, usbox_err_t *err);

enum limits_controller { LIMITS_MEMORY, LIMITS_PIDS, LIMITS_CPU, LIMITS_NCONTROLLERS };

struct limits {
  struct limits_config config;
  char v2[PATH_MAX];                       /* the sandbox's v2 cgroup, or "" */
  char v1[LIMITS_NCONTROLLERS][PATH_MAX];  /* its v1 cgroup per controller, or "" */
  bool on_v2[LIMITS_NCONTROLLERS];         /* that limit is v2's */
  bool rlimit_memory, rlimit_pids;         /* fallbacks the child applies */
  /* where usbox was started (to go back to), and whether it is in its
   * sandbox's cgroups now (limits_enter_self) */
  char home_v2[PATH_MAX];
  char home_v1[LIMITS_NCONTROLLERS][PATH_MAX];
  bool self_in;
  /* limits_delegate was called: usbox runs as another user from then on
   * and leaves removing the cgroups to its caller (an OCI `delete`) */
  bool delegated;
};

/* Before the sandbox starts (nothing on the host changes on failure). */
int limits_create(struct limits *l, const struct limits_config *c, usbox_err_t *err);

/* usbox itself joins the sandbox's cgroups (their "usbox" leaf), so that
 * its work for the sandbox counts against the sandbox's --cpus;
 * limits_destroy takes it back out. */
int limits_enter_self(struct limits *l, usbox_err_t *err);

/* Before usbox enters a user namespace whose root is host uid:gid (an OCI
 * monitor with uidMappings): the files through which it moves processes
 * into its leaves become that user's, as a cgroup manager delegates a
 * subtree. Only the membership files: the limits stay root's. */
int limits_delegate(struct limits *l, uid_t uid, gid_t gid, usbox_err_t *err);

/* The sandbox's first process joins the cgroups' "sandbox/agent" leaf (its
 * children follow). */
int limits_attach(struct limits *l, pid_t pid, usbox_err_t *err);

/* The gofer joins "sandbox/gofer": what it makes for the agent counts
 * against --memory with the agent's own. */
int limits_attach_gofer(struct limits *l, pid_t pid, usbox_err_t *err);

/* Whether the memory limit killed a process of the sandbox. */
bool limits_oom_killed(const struct limits *l);

/* Kill whatever is left in the cgroups and remove them (idempotent). */
void limits_destroy(struct limits *l);

/* Remove the cgroups of sandboxes whose usbox is gone (below this
 * process's own cgroups): what limits_create does first, for `usbox
 * delete` of a container whose monitor was killed. */
void limits_remove_stale(void);

/* Remove the cgroups of the sandbox whose usbox process was usbox_pid,
 * which the caller knows is dead: `usbox delete` once the monitor is a
 * zombie (whose pid cannot be taken by another process; the limits check
 * of limits_remove_stale would still see it alive until its parent reaps
 * it, which may be seconds: some pid 1s reap on a timer). */
void limits_remove_of(pid_t usbox_pid);

/* `update` of a running sandbox: the limits of controllers marked in
 * which, from c (0: no limit), written into the cgroups of the sandbox
 * whose usbox process is usbox_pid (found through its /proc/PID/cgroup).
 * 0, or -1 with err (ENOENT: that sandbox has no cgroup for it). */
int limits_update(pid_t usbox_pid, const struct limits_config *c,
                  const bool which[LIMITS_NCONTROLLERS], usbox_err_t *err);

/* In the sandbox's first process, before it drops its capabilities: the
 * rlimit fallbacks, and a hard open-file limit raised to --nofile if that
 * is higher (the caller sets --nofile itself last, after usbox's own
 * start-up there). Plain system calls only. */
int limits_apply_in_child(const struct limits *l, usbox_err_t *err);
/* The --memory fallback (RLIMIT_AS), last of the child's set-up: building
 * the view allocates, and an address-space limit is the agent's, not that
 * of usbox's own start-up code. */
int limits_apply_memory_in_child(const struct limits *l, usbox_err_t *err);

#endif
