/* __attribute__((cleanup)) helpers so error paths cannot leak (crun, bubblewrap).
 * "Steal" a value to return it: `int ret = fd; fd = -1; return ret;` or steal_fd(&fd). */
#ifndef USBOX_COMMON_CLEANUP_H
#define USBOX_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void usbox_freep(void *p)
{
  free(*(void **)p);
}
static inline void usbox_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}
static inline void usbox_fclosep(FILE **f)
{
  if (*f != NULL)
    fclose(*f);
}

#define cleanup_free __attribute__((cleanup(usbox_freep)))
#define cleanup_close __attribute__((cleanup(usbox_closep)))
static inline void usbox_closedirp(DIR **d)
{
  if (*d != NULL)
    closedir(*d);
}

#define cleanup_fclose __attribute__((cleanup(usbox_fclosep)))
#define cleanup_closedir __attribute__((cleanup(usbox_closedirp)))

static inline int steal_fd(int *fd)
{
  int ret = *fd;
  *fd = -1;
  return ret;
}
static inline void *steal_ptr(void *pp)
{
  void **p = pp;
  void *ret = *p;
  *p = NULL;
  return ret;
}

#endif
