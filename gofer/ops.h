/* The gofer's operations (ops.c), called by its loop (gofer.c). */
#ifndef USBOX_GOFER_OPS_H
#define USBOX_GOFER_OPS_H

#include <stdbool.h>

#include "gofer/gofer.h"
#include "gofer/protocol.h"

struct gofer_state {
  struct gofer_mount mounts[GOFER_MAX_MOUNTS];
  size_t nmounts;
};

/* A decoded, validated request. */
struct gofer_call {
  const struct gofer_req *req;
  const char *path, *path2;
  const void *data;
  int in_fd; /* an fd that came with the request (INOTIFY), or -1 */
};

/* The result to send back. */
struct gofer_result {
  struct gofer_rep rep;
  char data[GOFER_MAX_DATA];
  int out_fd; /* to send (and then close), or -1 */
  int keep_fds[GOFER_MAX_KEEP + 1]; /* GOFER_WALK_KEEP: rep.nkeep of them, sent and closed */
  /* set when the operation must be finished asynchronously: an open that
   * may block (a FIFO, a device). The loop submits it to io_uring. */
  bool async_open;
  int async_dirfd;
  char async_name[NAME_MAX + 2];
  uint64_t async_flags, async_mode;
};

/* Check a request's shape (sizes, strings, mount, op); 0 or -errno. */
int gofer_decode(const struct gofer_state *g, const void *msg, size_t len, int in_fd,
                 struct gofer_call *out);
/* Perform it with the caller's identity; fills res. */
void gofer_perform(struct gofer_state *g, const struct gofer_call *c, struct gofer_result *res);
/* A single-entry operation (MKDIR, MKNOD, UNLINK, SYMLINK: op, flags,
 * args and umask from q; data: a symlink's target) on (dir, name), done as
 * the gofer does it, by whoever holds dir: the caller has entered the
 * deputy already. 0 or -errno. */
long gofer_entry_act(int op, int dir, const char *name, const struct gofer_req *q,
                     const void *data);
/* One step of the gofer's walk: name looked up in dir, O_PATH, nothing
 * followed, never above dir (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS). The fd (close-on-exec) or -errno. Whoever takes
 * the same step on a directory of the gofer's (the sentry's walk cache)
 * takes it with this, as the deputy. */
long gofer_step(int dir, const char *name);
/* What an object operation read (READLINK's text, STATFS's struct statfs,
 * an xattr's value or names): into buf, at most cap bytes; len of them, and
 * val as the reply's. */
struct gofer_object_out {
  char *buf;
  size_t cap;
  uint32_t len;
  int64_t val;
};
/* What an object operation takes besides its request: data (UTIMENS's
 * two timespecs, q->data_len of them, or none; SETXATTR's value,
 * q->data_len bytes), name (GETXATTR, SETXATTR, REMOVEXATTR: the
 * attribute), obj (TRUNCATE: the object's attributes as the walk read
 * them, for the RLIMIT_FSIZE check). */
struct gofer_object_in {
  const void *data;
  const char *name;
  const struct statx *obj;
};
/* An object operation on fd, the object the gofer's walk reached, done as
 * the gofer does it, by whoever holds fd: CHMOD, CHOWN, UTIMENS, ACCESS,
 * SETXATTR, REMOVEXATTR, TRUNCATE (args from q; q->ident's fsize_limit is
 * the agent's RLIMIT_FSIZE), READLINK, STATFS, GETXATTR and LISTXATTR
 * (q->arg0 the size asked, 0 for the length only) into out. The caller has
 * entered the deputy already, with gofer_deputy_flags(q). 0 or -errno
 * (-EINVAL for another op). */
long gofer_object_act(int op, int fd, const struct gofer_req *q, const struct gofer_object_in *in,
                      struct gofer_object_out *out);
/* Whether gofer_object_act takes op (a caller that must decide before it
 * has an fd asks this). */
bool gofer_object_act_takes(int op);
/* The deputy flags a request runs with (common/deputy.h): the real ids for
 * access(2)'s check and walk. */
int gofer_deputy_flags(const struct gofer_req *q);
/* A two-entry operation (RENAME with q->flags, LINK) from (dir, name) to
 * (dir2, name2), done as the gofer does it, by whoever holds both
 * directories: the caller has entered the deputy already. 0 or -errno. */
long gofer_entry2_act(int op, int dir, const char *name, int dir2, const char *name2,
                      const struct gofer_req *q);
/* Close the fds a result holds (after it was sent, or when it cannot be). */
void gofer_result_release(struct gofer_result *res);

#endif
