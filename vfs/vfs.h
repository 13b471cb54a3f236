/* The sandbox's filesystem view and path resolution.
 *
 * Every path the agent passes is resolved here, on the sentry's copy of the
 * string, to a sentry-owned fd; handlers then act on that fd (fstat on it,
 * mkdirat in it, inject it). Nothing hands an agent string to a kernel call
 * that would resolve it in the sentry's context.
 *
 * In this release the view is the host's own tree (identity view); the mount
 * table, read-only binds and hidden paths come with the VFS issue and plug
 * into vfs_walk_slow()/resolve_fast() below.
 *
 * Resolution: a fast walk by the kernel (openat2 with RESOLVE_NO_MAGICLINKS),
 * whose result is trusted only if it could not have passed through
 * /proc/self or /proc/thread-self (which would name the *sentry*): a walk
 * that ends on procfs, hits a magic link, or fails after following any
 * symlink is redone component by component (vfs_walk_slow), which maps
 * self/thread-self to the agent's own pids and follows /proc magic links of
 * the agent's processes. */
#ifndef USBOX_VFS_VFS_H
#define USBOX_VFS_VFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"

struct sentry_call;

#define VFS_MAX_DEVS 64

struct vfs {
  int root_fd; /* O_PATH of the view's root */
  /* filesystems seen so far, and whether each is a procfs */
  struct {
    dev_t dev;
    bool procfs;
  } devs[VFS_MAX_DEVS];
  atomic_int ndevs;
  pthread_mutex_t devs_lock;
};

int vfs_init(struct vfs *v, usbox_err_t *err);
void vfs_destroy(struct vfs *v);

/* lookup flags */
#define VFS_NOFOLLOW 0x1   /* do not follow a trailing symlink */
#define VFS_EMPTY_PATH 0x2 /* "" names dirfd itself (AT_EMPTY_PATH) */
#define VFS_DIRECTORY 0x4  /* must be a directory */

/* Resolve to a sentry-owned O_PATH fd in *out, and its stat in *st (which may
 * be NULL). 0 or -errno. */
int vfs_lookup(struct sentry_call *call, int dirfd, const char *path, int vflags, int *out,
               struct stat *st);

/* Open as the agent asked, with openat2(2) semantics (the open and openat
 * handlers normalise their flags to what openat2 accepts first); *out is the
 * sentry-owned fd to inject. 0 or -errno. */
struct open_how;
int vfs_open(struct sentry_call *call, int dirfd, const char *path, const struct open_how *how,
             int *out);

/* The directory that holds path's last component (O_PATH, *parent) and that
 * component (*last points into path, trailing slashes kept so the kernel
 * applies their meaning). 0 or -errno. */
int vfs_lookup_parent(struct sentry_call *call, int dirfd, const char *path, int *parent,
                      const char **last);

/* The agent's dirfd argument as the kernel reads it (an int). */
static inline int vfs_dirfd_arg(unsigned long long arg)
{
  return (int)(unsigned int)arg;
}

/* Split helpers (unit-tested). dir receives the directory part ("." or "/"
 * when there is none); returns a pointer to the last component in path. */
const char *vfs_split_last(const char *path, char *dir, size_t dirsize);

#endif
