/* An fd of this process's as a path, /proc/self/fd/N: to reopen the very
 * object it holds, or read its name, through its own link (no name looked
 * up again). One helper for the sentry, the VFS and the gofer. */
#ifndef USBOX_COMMON_FDPATH_H
#define USBOX_COMMON_FDPATH_H

#include <stdio.h>

struct fdpath {
  char s[40];
};

static inline struct fdpath fdpath_of(int fd)
{
  struct fdpath p;
  snprintf(p.s, sizeof p.s, "/proc/self/fd/%d", fd);
  return p;
}

#endif
