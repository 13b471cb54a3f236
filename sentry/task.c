#include "common/log.h"
#include "sentry/task.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/deputy.h"
#include "common/proc_status.h"
#include "platform/unotify.h"
#include "sentry/sentry.h"
#include "vfs/vfs.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define TASK_SWEEP_MIN 256

void task_cache_init(struct task_cache *cache)
{
  memset(cache, 0, sizeof *cache);
  cache->sweep_at = TASK_SWEEP_MIN;
  pthread_mutex_init(&cache->lock, NULL);
}

static void task_free(struct task *t)
{
  if (t->pidfd >= 0)
    close(t->pidfd);
  free(t->cwd_view);
  free(t);
}

/* Lock held for these three. */
static void cwd_untrack(struct task_cache *cache, const struct task *t)
{
  for (unsigned i = 0; i < cache->nchanging; i++)
    if (cache->changing[i] == t) {
      cache->changing[i] = cache->changing[--cache->nchanging];
      return;
    }
}

/* t's thread has a chdir in flight, made by notification id. Lock held. */
static void cwd_track(struct task_cache *cache, struct task *t, uint64_t id)
{
  t->cwd_changing = true;
  t->cwd_change_id = id;
  if (cache->nchanging < TASK_CWD_TRACKED)
    cache->changing[cache->nchanging++] = t;
}

/* The thread's chdir or fchdir is done: it made a later call, or it
 * ended. */
static void cwd_settle(struct task_cache *cache, struct task *t)
{
  if (!t->cwd_changing)
    return;
  t->cwd_changing = false;
  cwd_untrack(cache, t);
  if (cache->vfs != NULL)
    vfs_cwd_settled(cache->vfs);
}

void task_cache_destroy(struct task_cache *cache)
{
  if (!usbox_frees_memory())
    return;
  for (size_t b = 0; b < TASK_BUCKETS; b++) {
    struct task *t = cache->buckets[b];
    while (t != NULL) {
      struct task *next = t->next;
      task_free(t);
      t = next;
    }
    cache->buckets[b] = NULL;
  }
  pthread_mutex_destroy(&cache->lock);
}

void task_cache_invalidate(struct task_cache *cache)
{
  __atomic_add_fetch(&cache->gen, 1, __ATOMIC_ACQ_REL);
}

static bool pidfd_exited(int pidfd)
{
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  return poll(&p, 1, 0) > 0;
}

/* pidfd_exited for the call's cached record, and in the same system call
 * whether the walk cache's watch fd has events (call->watch_events): the
 * check every call makes of its caller also tells the cache whether the
 * host changed a directory it keeps (vfs/dcache.h). */
static bool call_pidfd_exited(struct sentry_call *call, int pidfd)
{
  struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
                        {.fd = call->sentry->vfs.dcache.watch_fd, .events = POLLIN}};
  int n = poll(p, 2, 0);
  if (n < 0 || (p[1].revents & POLLIN))
    call->watch_events = true; /* (a failed poll: read them to be sure) */
  /* a failed poll proves nothing: the record is read again */
  return n < 0 || p[0].revents != 0;
}

/* Unlink t from its bucket (lock held). */
static void unlink_task(struct task_cache *cache, struct task *t)
{
  struct task **pp = &cache->buckets[(unsigned)t->tid % TASK_BUCKETS];
  while (*pp != NULL && *pp != t)
    pp = &(*pp)->next;
  if (*pp == t) {
    *pp = t->next;
    cache->count--;
  }
  t->dead = true;
  cwd_settle(cache, t);
  if (t->refs == 0)
    task_free(t);
}

/* Drop the records of threads that exited (their pidfd says so), and past
 * TASK_CACHE_MAX any record no call holds: a program that makes 100,000
 * short-lived threads must not leave 100,000 pidfds in usbox. The next sweep
 * comes when the cache has doubled since (amortised: one poll per record
 * added). Lock held. */
static void sweep(struct task_cache *cache)
{
  bool full = cache->count >= TASK_CACHE_MAX;
  for (size_t b = 0; b < TASK_BUCKETS; b++) {
    struct task *t = cache->buckets[b];
    while (t != NULL) {
      struct task *next = t->next;
      /* a record whose thread's chdir may still be in flight stays until
       * the thread's next call or its end (cwd_settle) */
      if ((full && t->refs == 0 && !t->cwd_changing) || t->pidfd < 0 || pidfd_exited(t->pidfd))
        unlink_task(cache, t);
      t = next;
    }
  }
  cache->sweep_at = cache->count * 2 > TASK_SWEEP_MIN ? cache->count * 2 : TASK_SWEEP_MIN;
  if (cache->sweep_at > TASK_CACHE_MAX)
    cache->sweep_at = TASK_CACHE_MAX;
}

int task_parse_status(const char *text, struct task *out)
{
  struct proc_status st;
  int r = proc_status_parse(text, &st);
  if (r < 0)
    return r;
  out->tgid = st.tgid;
  out->ns_tid = st.ns_tid, out->ns_tgid = st.ns_tgid;
  out->umask = st.umask;
  out->creds = st.creds;
  out->cap_eff = st.cap_eff;
  return 0;
}

static int read_status(pid_t tid, struct task *out)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n <= 0)
    return n < 0 ? -errno : -ESRCH;
  buf[n] = '\0';
  return task_parse_status(buf, out);
}

/* Build a fresh record for tid, outside the lock. */
static struct task *task_load(pid_t tid, unsigned gen, int *err)
{
  struct task *t = calloc(1, sizeof *t);
  if (t == NULL) {
    *err = -ENOMEM;
    return NULL;
  }
  t->tid = tid;
  t->gen = gen;
  /* The pidfd first: if the thread is alive now, the status read below is
   * its own, and the pidfd will tell us when the tid stops being its. */
  t->pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
  if (t->pidfd < 0 && errno == ESRCH) {
    free(t);
    *err = -ESRCH;
    return NULL;
  }
  int r = read_status(tid, t);
  if (r < 0) {
    task_free(t);
    *err = r;
    return NULL;
  }
  if (t->ns_tid == 0)
    t->ns_tid = tid;
  return t;
}

/* Whether notification id came after proven: the kernel numbers one
 * listener's notifications in the order it makes them. */
static bool notified_after(uint64_t id, uint64_t proven)
{
  return (int64_t)(id - proven) > 0;
}

/* A record of the caller that must stay cached as it is: one whose
 * thread has a chdir in flight that this call, an older one of the thread
 * (interrupted, still in a receiver's hands), precedes. The record stays
 * until a call after the chdir, or the thread's end, settles it; this call
 * gets a record of its own, not cached. */
static bool holds_later_chdir(const struct task *t, const struct sentry_call *call)
{
  return t->cwd_changing && !notified_after(call->id, t->cwd_change_id);
}

/* The cached record of the caller, still its thread's and current, or
 * NULL: none, or a stale one unlinked, or one that must stay (*keep). Lock
 * held. */
static struct task *cached_task(struct sentry_call *call, unsigned gen, bool *keep)
{
  struct task_cache *cache = &call->sentry->tasks;
  struct task *t = cache->buckets[(unsigned)call->tid % TASK_BUCKETS];
  while (t != NULL && t->tid != call->tid)
    t = t->next;
  *keep = false;
  if (t == NULL)
    return NULL;
  bool exited = t->pidfd < 0 || call_pidfd_exited(call, t->pidfd);
  /* a call made after its chdir comes after the chdir returned */
  if (t->cwd_changing && (exited || !holds_later_chdir(t, call)))
    cwd_settle(cache, t);
  if (!exited && t->gen == gen)
    return t;
  if (!exited && holds_later_chdir(t, call)) {
    *keep = true;
    return NULL;
  }
  unlink_task(cache, t);
  return NULL;
}

/* Put a record read now in the cache, unless it must not replace the one
 * there (keep, or one another receiver put there meanwhile that holds a
 * later chdir): then it serves this call only. Lock held. */
static void insert_task(struct task_cache *cache, struct task *t, const struct sentry_call *call,
                        bool keep)
{
  struct task **bucket = &cache->buckets[(unsigned)t->tid % TASK_BUCKETS];
  for (struct task *old = *bucket; old != NULL && !keep; old = old->next)
    if (old->tid == t->tid) {
      keep = holds_later_chdir(old, call);
      if (!keep)
        unlink_task(cache, old); /* another receiver raced us to it */
      break;
    }
  if (keep || t->pidfd < 0) { /* without a pidfd the record cannot be trusted later */
    t->dead = true;
    return;
  }
  if (cache->count >= cache->sweep_at)
    sweep(cache);
  t->next = *bucket;
  *bucket = t;
  cache->count++;
}

/* reads_proven_by_record: a cached record's pidfd, polled after the call's
 * reads, is of a live thread T, and T made the notification `proven_id`
 * that preceded this one (call N, by the tid's caller C). T held the tid
 * from before proven_id was made until now; C held it when N was made,
 * later; a tid names one live thread at a time, so C is T and was alive
 * throughout: every read by tid went to C. That is what ID_VALID proves
 * (the caller is alive, its memory what was read); the call may since
 * have been interrupted, which its answer finds out, as after ID_VALID.
 * A thread exec'ing in C's thread group can take C's tid (de_thread), but
 * only after the sentry answered the execve, whose check bumps the cache
 * generation first (sys_exec.c): the record is read anew, with ID_VALID. */
int call_task(struct sentry_call *call)
{
  if (call->task != NULL)
    return 0;
  struct task_cache *cache = &call->sentry->tasks;
  unsigned gen = __atomic_load_n(&cache->gen, __ATOMIC_ACQUIRE);
  bool keep = false;
  pthread_mutex_lock(&cache->lock);
  struct task *t = cached_task(call, gen, &keep);
  if (t != NULL) {
    t->refs++;
    call->task = t;
    if (notified_after(call->id, t->proven_id))
      call->unchecked_reads = 0; /* reads_proven_by_record */
    pthread_mutex_unlock(&cache->lock);
    return 0;
  }
  pthread_mutex_unlock(&cache->lock);

  int err = 0;
  call->watch_events = true; /* no poll made: the cache reads its events */
  t = task_load(call->tid, gen, &err);
  if (t == NULL)
    return err;
  /* The caller was alive with this tid when it made the call and, if
   * ID_VALID says the call is still pending now, is alive still: then it
   * held the tid when pidfd_open took it, and the record (and its status
   * read) is the caller's, not a thread's that took a recycled tid. */
  if (unotify_id_valid(call->sentry->listener, call->id) < 0) {
    task_free(t);
    return -ESRCH;
  }
  t->proven_id = call->id;
  call->unchecked_reads = 0; /* the same ID_VALID follows every read so far */
  pthread_mutex_lock(&cache->lock);
  insert_task(cache, t, call, keep);
  t->refs = 1;
  call->task = t;
  pthread_mutex_unlock(&cache->lock);
  return 0;
}

void task_put(struct task_cache *cache, struct task *task)
{
  if (task == NULL)
    return;
  pthread_mutex_lock(&cache->lock);
  if (--task->refs == 0 && task->dead)
    task_free(task);
  pthread_mutex_unlock(&cache->lock);
}

int task_getfd(struct sentry_call *call, int fd)
{
  int r = call_task(call);
  if (r < 0)
    return r;
  if (fd < 0)
    return -EBADF;
  if (call->task->pidfd >= 0) {
    int local = (int)syscall(SYS_pidfd_getfd, call->task->pidfd, fd, 0);
    /* a ptrace check, as process_vm_readv's (agent_mem.c) */
    if (local < 0 && errno == EPERM && deputy_unlinger())
      local = (int)syscall(SYS_pidfd_getfd, call->task->pidfd, fd, 0);
    return local < 0 ? -errno : local;
  }
  deputy_unlinger(); /* /proc/TID/fd: a ptrace check on the effective set */
  /* No thread pidfd (kernel < 6.9): reopen through /proc, which gives the
   * same file but not the same open file description. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)call->tid, fd);
  int local = open(path, O_PATH | O_CLOEXEC);
  return local < 0 ? (errno == ENOENT ? -EBADF : -errno) : local;
}

/* The soft RLIMIT_FSIZE of the thread's process, from /proc/TID/limits
 * ("Max file size   unlimited   unlimited   bytes"): limits change without
 * the sentry seeing it (setrlimit is the kernel's), so it is read when an
 * operation needs it. */
static uint64_t read_fsize_limit(pid_t tid)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/limits", (int)tid);
  cleanup_fclose FILE *f = fopen(path, "re");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "Max file size", 13) != 0)
      continue;
    const char *v = line + 13;
    v += strspn(v, " ");
    if (strncmp(v, "unlimited", 9) == 0)
      return DEPUTY_NO_FSIZE_LIMIT;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return end == v || errno != 0 ? 0 : n; /* unreadable: the strictest */
  }
  return 0;
}

int task_deputy_creds(struct sentry_call *call, unsigned what, struct deputy_creds *out)
{
  if (call->tid == 0) { /* the sentry's own call (vfs_set_agent...) */
    deputy_own_creds(out);
    return 0;
  }
  int r = call_task(call);
  if (r < 0)
    return r;
  const struct task *t = call->task;
  const struct proc_ids *c = &t->creds;
  memset(out, 0, sizeof *out);
  out->fsuid = c->fsuid, out->fsgid = c->fsgid;
  out->uid = c->uid, out->gid = c->gid;
  out->euid = c->euid, out->egid = c->egid;
  out->umask = t->umask;
  out->ngroups = c->ngroups; /* -1 (too many to track): deputy_enter refuses */
  for (int i = 0; i < c->ngroups && i < DEPUTY_MAX_GROUPS; i++)
    out->groups[i] = c->groups[i];
  out->cap_eff = t->cap_eff;
  out->fsize_limit = (what & TASK_CREDS_FSIZE) ? read_fsize_limit(call->tid)
                                               : DEPUTY_NO_FSIZE_LIMIT;
  return 0;
}

void task_signal(struct sentry_call *call, int sig)
{
  deputy_unlinger(); /* kill's permission may ask for CAP_KILL */
  if (call->task != NULL)
    syscall(SYS_tgkill, call->task->tgid, call->tid, sig);
}

/* This thread's own root and working directory, to come back to. */
static __thread int own_root = -1, own_cwd = -1;
static bool chroot_unavailable;

static void back_to_own_fs(void)
{
  if (fchdir(own_root) < 0 || chroot(".") < 0 || fchdir(own_cwd) < 0) {
    /* a receiver whose root is the agent's would resolve its own paths
     * (/proc/TID/...) there: end usbox rather (fail closed) */
    fprintf(stderr, "usbox: a receiver could not return to its own root: %s\n",
            strerror(errno));
    abort();
  }
}

/* The child of in_agent_userns: in the sandbox's user namespace usbox, its
 * owner, has every capability; it takes the agent thread's root and cwd
 * there, then keeps no capability but the agent's (the deputy inside fn
 * sees the thread's own, copied from usbox, and changes nothing more). */
static int agent_userns_child(int userns, int root, int cwd, uint64_t caps, int (*fn)(void *),
                              void *ctx)
{
  if (setns(userns, CLONE_NEWUSER) < 0 || fchdir(root) < 0 || chroot(".") < 0 ||
      fchdir(cwd) < 0)
    return -errno;
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {{.effective = (uint32_t)caps, .permitted = (uint32_t)caps},
                                        {.effective = (uint32_t)(caps >> 32),
                                         .permitted = (uint32_t)(caps >> 32)}};
  if (syscall(SYS_capset, &h, d) < 0)
    return -errno;
  return fn(ctx);
}

/* Without CAP_SYS_CHROOT here (usbox without root), fn runs in a child
 * that joins the sandbox's user namespace (agent_userns_child); ctx is
 * shared with it, ctx_size bytes, so fn's results come back. fn must be
 * async-signal-safe (bind_here is: the deputy and bind). -EOPNOTSUPP
 * where there is no such namespace (usbox as root without CAP_SYS_CHROOT). */
static int in_agent_userns(struct sentry_call *call, int root, int cwd, int (*fn)(void *),
                           void *ctx, size_t ctx_size)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)call->task->tgid);
  cleanup_close int userns = open(path, O_RDONLY | O_CLOEXEC);
  struct stat mine, theirs;
  if (userns < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  if (stat("/proc/self/ns/user", &mine) < 0 || fstat(userns, &theirs) < 0)
    return -errno;
  if (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
    return -EOPNOTSUPP; /* usbox's own: nothing more to gain there */
  struct deputy_creds own;
  deputy_own_creds(&own); /* loaded before the fork: ids as the host sees them */
  struct shared {
    int r;
    _Alignas(max_align_t) unsigned char ctx[]; /* ctx is any struct */
  } *sh = mmap(NULL, sizeof *sh + ctx_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
               -1, 0);
  if (sh == MAP_FAILED)
    return -errno;
  memcpy(sh->ctx, ctx, ctx_size);
  sh->r = -ECHILD;
  /* CLONE_FILES: the child shares usbox's fd table rather than copying it,
   * so no file another thread is closing (an agent's new script, open for
   * writing) stays open in the child (ETXTBSY for the agent's execve). A
   * raw clone: the child makes plain system calls only (fn too: nothing
   * that allocates or locks), then _exit. */
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    sh->r = agent_userns_child(userns, root, cwd, call->task->cap_eff, fn, sh->ctx);
    _exit(0);
  }
  int r = pid < 0 ? -errno : 0;
  /* the supervisor's reaper may take the status first: the shared page
   * is final once the child is gone either way */
  while (pid > 0 && waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
    ;
  if (r == 0) {
    memcpy(ctx, sh->ctx, ctx_size);
    r = sh->r;
  }
  munmap(sh, sizeof *sh + ctx_size);
  return r;
}

/* The agent thread's working directory must be one of the view: an fd it
 * was handed from outside (a directory as stdin, one a host process sent
 * over a socket) lets fchdir, which the kernel performs unchecked, put it
 * on a mount of the host's, outside every mask and bind of the view, and
 * the VFS, which resolves relative names from the kernel's name for it,
 * would not see that (the name is the host's, read as a view path). A
 * working directory outside the view holds nothing the view shows:
 * -ENOENT. */
static int cwd_fd_in_view(struct sentry_call *call, int cwd)
{
  return vfs_held_place(&call->fs, cwd) == VFS_HELD_IN_VIEW ? 0 : -ENOENT;
}

int task_cwd_in_view(struct sentry_call *call)
{
  deputy_unlinger(); /* /proc/TID/cwd: a ptrace check on the effective set */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cwd", (int)call->tid);
  cleanup_close int cwd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  return cwd_fd_in_view(call, cwd);
}

int task_in_agent_fs(struct sentry_call *call, int (*fn)(void *), void *ctx, size_t ctx_size)
{
  deputy_unlinger(); /* /proc/PID/{root,cwd} and chroot need the thread's own set */
  int r = call_task(call);
  if (r < 0)
    return r;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int)call->task->tgid);
  cleanup_close int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%d/cwd", (int)call->tid);
  cleanup_close int cwd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0 || cwd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  /* checked on the very fd fn runs in: no later fchdir of the agent's
   * changes where that is */
  if ((r = cwd_fd_in_view(call, cwd)) < 0)
    return r;
  if (chroot_unavailable)
    return in_agent_userns(call, root, cwd, fn, ctx, ctx_size);
  if (own_root < 0 && (own_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return -errno;
  if (own_cwd < 0 && (own_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    return -errno;
  /* the thread's own fs_struct (receivers unshare CLONE_FS): only it moves */
  if (fchdir(root) < 0)
    return -errno;
  if (chroot(".") < 0) {
    r = -errno;
    if (r == -EPERM)
      chroot_unavailable = true; /* usbox without CAP_SYS_CHROOT */
    if (fchdir(own_cwd) < 0) /* the root did not move */
      back_to_own_fs();
    return r == -EPERM ? in_agent_userns(call, root, cwd, fn, ctx, ctx_size) : r;
  }
  if (fchdir(cwd) < 0) {
    r = -errno;
    back_to_own_fs();
    return r;
  }
  r = fn(ctx);
  back_to_own_fs();
  return r;
}

void task_cwd_changing(struct sentry_call *call)
{
  struct task_cache *cache = &call->sentry->tasks;
  if (call_task(call) < 0 || cache->vfs == NULL)
    return; /* no record: the call is not answered (its caller is gone) */
  pthread_mutex_lock(&cache->lock);
  if (!call->task->cwd_changing && !call->task->dead) {
    cwd_track(cache, call->task, call->id);
    vfs_cwd_changing(cache->vfs);
  }
  pthread_mutex_unlock(&cache->lock);
}

int task_cwd_get(struct sentry_call *call, struct vfs_cwd *out)
{
  struct task_cache *cache = &call->sentry->tasks;
  if (call_task(call) < 0)
    return -1;
  pthread_mutex_lock(&cache->lock);
  const struct task *t = call->task;
  int r = -1;
  if (t->cwd_view != NULL) {
    out->epoch = t->cwd_epoch, out->dev = t->cwd_dev, out->ino = t->cwd_ino;
    snprintf(out->view, sizeof out->view, "%s", t->cwd_view);
    r = 0;
  }
  pthread_mutex_unlock(&cache->lock);
  return r;
}

void task_cwd_put(struct sentry_call *call, const struct vfs_cwd *in)
{
  struct task_cache *cache = &call->sentry->tasks;
  if (call_task(call) < 0)
    return;
  char *view = strdup(in->view);
  if (view == NULL)
    return;
  pthread_mutex_lock(&cache->lock);
  struct task *t = call->task;
  free(t->cwd_view);
  t->cwd_view = view;
  t->cwd_epoch = in->epoch, t->cwd_dev = in->dev, t->cwd_ino = in->ino;
  pthread_mutex_unlock(&cache->lock);
}

void task_cwd_settle_exited(struct sentry_call *call)
{
  struct task_cache *cache = &call->sentry->tasks;
  pthread_mutex_lock(&cache->lock);
  for (unsigned i = cache->nchanging; i-- > 0;) {
    struct task *t = cache->changing[i];
    if (t->pidfd < 0 || pidfd_exited(t->pidfd))
      cwd_settle(cache, t); /* its record goes at the next sweep */
  }
  pthread_mutex_unlock(&cache->lock);
}
