#ifndef USBOX_COMMON_LOG_H
#define USBOX_COMMON_LOG_H

#include <stdbool.h>

/* 0 quiet, 1 warnings (default), 2 -v summary, 3 -vv debug */
extern int usbox_verbosity;

void usbox_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usbox_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usbox_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -vv: a start-up step ended (time since the first mark) */
void usbox_phase(const char *what);

/* The process is ending: what is left is tearing down and exiting
 * (supervisor_exec sets it once the sandbox is gone; both its callers,
 * `usbox exec` and the OCI monitor, exit after it). Teardown then leaves
 * memory to the exit instead of freeing it piece by piece: after a fork
 * every page a free writes is write-protected, so each is a page fault,
 * ~10 us on this kind of VM. Fds are still closed and files flushed
 * where that has an effect. Under the sanitizers memory is still freed,
 * so that leak reports keep their meaning. */
void usbox_set_ending(void);
/* true: free memory as usual */
bool usbox_frees_memory(void);

#endif
