/* What bench/floor and bench/floorrun share: the user-notify constants an
 * older libc's headers may lack (platform/seccomp_uapi.h), and the child's
 * half of the mechanism (its filter, with a listener for the supervisor).
 * Each bench program is still one .c file and links nothing of usbox's. */
#ifndef USBOX_BENCH_NOTIFY_H
#define USBOX_BENCH_NOTIFY_H

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../platform/seccomp_uapi.h" /* header-only; relative: bench/run may compile alone */

/* no_new_privs, then the filter of len instructions with a new listener:
 * the listener's fd, or -1 with errno set. */
static inline int notify_install(struct sock_filter *code, unsigned short len)
{
  struct sock_fprog prog = {.len = len, .filter = code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                      &prog);
}

#endif
