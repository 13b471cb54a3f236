/* What the sentry knows of each agent thread: its thread group, a pidfd that
 * proves the tid still names the same thread, and the umask and credentials
 * the kernel would use for its file operations.
 *
 * The sentry performs file operations for the agent, so it must perform them
 * as the agent: with its fsuid/fsgid/groups and umask. These are read from
 * /proc/TID/status once per thread and cached. The cache is dropped for all
 * threads (a generation bump) whenever any agent thread changes its umask or
 * credentials (those calls notify the sentry: sys_cred_change), and an entry
 * is dropped when its pidfd shows the thread has exited, so a recycled tid
 * never inherits another thread's record. */
#ifndef USBOX_SENTRY_TASK_H
#define USBOX_SENTRY_TASK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/deputy.h"
#include "common/proc_status.h"
#include "sentry/handler.h"

#define TASK_MAX_GROUPS PROC_MAX_GROUPS

struct task {
  pid_t tid;
  pid_t tgid;
  pid_t ns_tid, ns_tgid; /* as the agent's own pid namespace numbers them */
  int pidfd; /* of the thread (PIDFD_THREAD); -1 if the kernel cannot */
  /* The notification that proved pidfd is the thread that made it: its
   * ID_VALID followed the pidfd_open (call_task). */
  uint64_t proven_id;
  mode_t umask;
  struct proc_ids creds;
  uint64_t cap_eff; /* effective capabilities */
  unsigned gen;
  int refs;
  bool dead;
  /* A chdir or fchdir of this thread the kernel performs after the
   * sentry's answer (task_cwd_changing): settled at the thread's next
   * call, or when its record goes (vfs_cwd_settled). */
  bool cwd_changing;
  uint64_t cwd_change_id; /* that chdir's notification */
  char *cwd_view; /* the name of its working directory the VFS keeps (NULL: none) */
  uint64_t cwd_epoch; /* and that name's epoch and directory */
  dev_t cwd_dev;
  ino_t cwd_ino;
  struct task *next;
};

#define TASK_BUCKETS 1024
#define TASK_CWD_TRACKED 16

struct task_cache {
  pthread_mutex_t lock;
  struct vfs *vfs; /* told of working directory changes (vfs_cwd_changing) */
  /* Records whose thread's chdir is in flight, so that one that exits
   * without another call is found (task_cwd_settle_exited); past the
   * array, found at their next call or by a sweep. */
  struct task *changing[TASK_CWD_TRACKED];
  unsigned nchanging;
  struct task *buckets[TASK_BUCKETS];
  unsigned gen;
  size_t count;
  size_t sweep_at; /* at this many records, the exited ones are dropped */
};

/* Records kept at most: past it, records no call holds are dropped (a live
 * thread's is read again at its next call). Exited threads' records (and
 * their pidfds) go at every sweep. */
#define TASK_CACHE_MAX 4096

void task_cache_init(struct task_cache *cache);
void task_cache_destroy(struct task_cache *cache);
/* Forget every cached umask and credential (an agent thread changed one). */
void task_cache_invalidate(struct task_cache *cache);

/* The calling thread's record (call->task), looked up or read on first use.
 * Returns 0, -ESRCH if the thread is gone, or another -errno. Either way it
 * proves the agent memory read so far in the call is the caller's, as
 * ID_VALID would (call->unchecked_reads = 0): a record read now by an
 * ID_VALID after its pidfd_open; a cached one by its pidfd still open on a
 * live thread, proven by a notification older than this one. */
int call_task(struct sentry_call *call);
void task_put(struct task_cache *cache, struct task *task);

/* The calling thread is about to have the kernel move its working
 * directory (a chdir or fchdir answered with CONTINUE): the VFS stops
 * trusting kept names until the thread's next call (vfs_cwd_changing). */
void task_cwd_changing(struct sentry_call *call);
/* The name of the thread's working directory the VFS keeps with its record
 * (vfs_caller_ops.cwd_get/cwd_put): 0 or -1 (none). */
int task_cwd_get(struct sentry_call *call, struct vfs_cwd *out);
/* Settle the changes of threads that exited since (a poll of each pidfd in
 * task_cache.changing). */
void task_cwd_settle_exited(struct sentry_call *call);
void task_cwd_put(struct sentry_call *call, const struct vfs_cwd *in);

/* Parse the fields usbox needs from a /proc/PID/status text (unit-tested). */
int task_parse_status(const char *text, struct task *out);

/* Take the agent's fd `fd` into the sentry (pidfd_getfd). Returns the new
 * sentry-owned fd or -errno (EBADF if the agent has no such fd). */
int task_getfd(struct sentry_call *call, int fd);

/* The thread's credentials as the deputy takes them (common/deputy.h): its
 * fs ids, real and effective ids, groups, umask and effective capabilities
 * (cached, read again after any agent thread changes one); with
 * TASK_CREDS_FSIZE also its RLIMIT_FSIZE, read now. A call of the sentry's
 * own (tid 0) gets the sentry thread's own credentials. 0 or -errno. */
#define TASK_CREDS_FSIZE 0x1
int task_deputy_creds(struct sentry_call *call, unsigned what, struct deputy_creds *out);

/* An operation the sentry performs itself as the agent thread: expr must
 * give 0 (or a length) or -errno, and is evaluated before deputy_leave can
 * change errno. The one deputy path the VFS uses too (VFS_AS_CALLER, with
 * the call's credentials from its VFS context, sentry/vfs_caller.c). */
#define AS_AGENT(call, where, flags, expr) VFS_AS_CALLER(&(call)->fs, (where), (flags), (expr))

/* Run fn(ctx) with this receiver thread's root and working directory those
 * of the agent thread (in the agent's mount namespace, which mirrors the
 * view): a call the kernel must resolve itself, with the agent's string
 * (bind of a unix path, whose name the kernel stores as given), resolves as
 * it would for the agent, never beyond its root. Needs CAP_SYS_CHROOT;
 * without it (usbox without root) fn runs in a child of this thread in the
 * sandbox's user namespace, where usbox may chroot, with the agent's
 * capabilities (fn must then make plain system calls only: nothing that
 * allocates or locks); ctx (ctx_size bytes) is copied back from it. -EOPNOTSUPP
 * if neither can be done. Returns fn's result or -errno. The thread is back
 * at its own root and cwd afterwards. */
int task_in_agent_fs(struct sentry_call *call, int (*fn)(void *), void *ctx, size_t ctx_size);
/* Whether the agent thread's working directory is on a mount of the view
 * (task_in_agent_fs refuses one that is not): 0, -ENOENT (outside the
 * view: fchdir to a directory the agent was handed from outside), or
 * -ESRCH when the thread is gone. */
int task_cwd_in_view(struct sentry_call *call);

/* Send sig to the calling agent thread (what the kernel sends the caller
 * itself: SIGXFSZ, SIGPIPE). */
void task_signal(struct sentry_call *call, int sig);

#endif
