/* The syscall table (see syscalls.def): what usbox does with each x86_64
 * call. Data only: the filter generator (platform/, tools/), the sentry and
 * `usbox syscalls` read it; the sentry binds the EMUL entries to its
 * handlers itself (sentry/dispatch.c). */
#ifndef USBOX_TABLE_SYSCALL_TABLE_H
#define USBOX_TABLE_SYSCALL_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Upper bound (exclusive) of the numbers the table may name; numbers at or
 * above it, and holes below it, get ENOSYS. */
#define SC_NR_LIMIT 512

enum sc_disposition {
  SC_PASS, /* kernel performs it */
  SC_EMUL, /* sentry performs it (its handler: sentry/handler.h) */
  SC_DENY, /* errno, in BPF or through the sentry when auditing */
};

struct syscall_entry {
  int nr;
  const char *name;
  enum sc_disposition disposition;
  int deny_errno;         /* SC_DENY */
  const char *family;     /* file, process, net, memory, ... */
  const char *note;       /* why; shown by `usbox syscalls` */
};

extern const struct syscall_entry usbox_syscall_table[];
extern const size_t usbox_syscall_count;

/* NULL when the number is not in the table. */
const struct syscall_entry *syscall_by_nr(long nr);
const struct syscall_entry *syscall_by_name(const char *name);
const char *syscall_disposition_name(enum sc_disposition d);
/* "EPERM", "ENOSYS", ... or the number as text. */
const char *errno_name(int err, char buf[16]);

#endif
