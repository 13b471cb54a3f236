/* A seccomp profile (Docker/OCI format, parsed by policy/seccomp_profile.c)
 * as a second BPF filter, installed in the agent on top of usbox's own.
 *
 * The kernel runs every filter a task has and keeps the most restrictive
 * answer (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE >
 * LOG > ALLOW), so this filter can only take calls away: its ALLOW or LOG
 * never overrides usbox's USER_NOTIF or ERRNO, while its ERRNO, TRAP or KILL
 * beats usbox's USER_NOTIF. It has no USER_NOTIF and no TRACE of its own
 * (the parser refuses the one and turns the other into ENOSYS), so the
 * sentry stays the only supervisor. docs/architecture.md says more. */
#ifndef USBOX_PLATFORM_PROFILE_FILTER_H
#define USBOX_PLATFORM_PROFILE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "platform/seccomp_filter.h"

enum profile_act {
  PROFILE_ALLOW,
  PROFILE_LOG,
  PROFILE_ERRNO, /* with errno_ret */
  PROFILE_TRAP,
  PROFILE_KILL_THREAD,
  PROFILE_KILL_PROCESS,
};

struct profile_action {
  enum profile_act kind;
  int errno_ret; /* PROFILE_ERRNO: 1..4095 */
};

enum profile_op { PROFILE_NE, PROFILE_LT, PROFILE_LE, PROFILE_EQ, PROFILE_GE, PROFILE_GT, PROFILE_MASKED_EQ };

/* One argument test, as libseccomp's SCMP_CMP: for MASKED_EQ, value is the
 * mask and value_two the datum. */
struct profile_arg {
  unsigned index; /* 0..5 */
  enum profile_op op;
  uint64_t value;
  uint64_t value_two;
};

#define PROFILE_MAX_ARGS 8
#define PROFILE_NAME_MAX 64

/* One syscall name of one entry that applies here (includes/excludes
 * already decided). All args must match (AND), except that tests of the
 * same argument index are alternatives (OR), as runc and crun read them. */
struct profile_rule {
  char name[PROFILE_NAME_MAX];
  struct profile_action action;
  struct profile_arg args[PROFILE_MAX_ARGS];
  size_t nargs;
  size_t entry; /* index in the profile's "syscalls", for messages */
};

#define PROFILE_FLAG_LOG (1u << 0) /* SECCOMP_FILTER_FLAG_LOG */

struct seccomp_profile {
  struct profile_action default_action;
  struct profile_rule *rules;
  size_t nrules;
  unsigned flags; /* PROFILE_FLAG_* */
};

/* (policy/seccomp_profile.c) */
void seccomp_profile_free(struct seccomp_profile *p);

struct profile_build_stats {
  size_t skipped; /* names this kernel's x86_64 does not have (libseccomp's view) */
};

/* Compile with libseccomp into out (malloc'd: usbox_filter_free). Names
 * libseccomp does not know for x86_64 are skipped, as runc and crun do. */
int profile_filter_build(const struct seccomp_profile *p, struct bpf_program *out,
                         struct profile_build_stats *stats, usbox_err_t *err);

/* Installed by unotify_install_profile (platform/unotify.h). */

#endif
