/* Reading and writing the agent's memory. Every read is counted on the call;
 * call_validate() must follow the last read before the sentry acts on what
 * it read (invariant 2): SECCOMP_IOCTL_NOTIF_ID_VALID, or the check of the
 * caller's task record made after the reads, which proves the same
 * (sentry/task.h call_task). The VFS entry points call it themselves, so a
 * handler cannot act on unchecked memory by forgetting. */
#ifndef USBOX_SENTRY_AGENT_MEM_H
#define USBOX_SENTRY_AGENT_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentry/handler.h"

/* NUL-terminated string into buf; returns its length, or -EFAULT,
 * -ENAMETOOLONG (no NUL within size), -ESRCH (task gone). */
ssize_t agent_read_string(struct sentry_call *call, uint64_t addr, char *buf, size_t size);
/* Read a path argument into call->path[slot]: the kernel's rules (EFAULT,
 * ENAMETOOLONG, ENOENT for ""); returns length or -errno. */
ssize_t agent_read_path(struct sentry_call *call, int slot, uint64_t addr);
/* Exactly len bytes, or -EFAULT / -ESRCH. */
int agent_read(struct sentry_call *call, uint64_t addr, void *buf, size_t len);
int agent_write(struct sentry_call *call, uint64_t addr, const void *buf, size_t len);
/* 0 if the notification is still pending, -ENOENT if it is gone. */
int call_validate(struct sentry_call *call);

#endif
