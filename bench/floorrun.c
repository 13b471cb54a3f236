/* floorrun: the floor of a whole command under seccomp user notification.
 *
 *   floorrun [--threads N] [--stats] --notify NR[,NR...] -- CMD [ARGS...]
 *
 * bench/floor measures one call in a loop; real programs make each call
 * once, between stretches of their own work, and pay cold caches and
 * wake-ups a loop never sees. This runs CMD with a filter that sends the
 * listed system calls (bench/run passes the ones usbox's filter sends to
 * its sentry: `usbox syscalls`, ACTION emulate) to a minimal supervisor of
 * N threads (default: one per CPU, at most 4, as usbox's receivers) that
 * does for each only what any supervisor keeping usbox's invariant 1 must:
 *
 *   - a call whose arguments it knows (the path, fd, stat, readlink,
 *     access, xattr, directory-listing and mutation calls below): read its
 *     strings and input structs once from the agent's memory, check the
 *     notification is live, make the call itself on its own copies (an
 *     agent fd through pidfd_getfd, a relative path through /proc/TID/cwd or
 *     /proc/TID/fd/N), write the outputs back and answer; an open's fd goes
 *     in with ADDFD|SEND;
 *   - any other listed call (execve, chdir, sockets, set*id, umask, ...):
 *     check the notification is live and let the kernel continue it.
 *
 * There is no policy, no view, no credential switch (the supervisor has the
 * command's credentials), no cache and no gofer, and the calls it continues
 * cost a round trip only: what it measures is a lower bound for any sandbox
 * that sends these calls to a supervisor. bench/run runs it inside the
 * namespaces usbox makes (unshare), so the end-to-end goals' floor has the
 * namespaces' cost too.
 *
 * floorrun is no sandbox: what it continues, and what it makes for the
 * command with the command's own credentials, is what the command could
 * do itself. It measures; it confines nothing.
 *
 * Exit status: the command's (128+N for signal N); 125 for floorrun's own
 * errors, 2 for a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

#define MAX_NOTIFY 250 /* a BPF jump reaches 255 instructions */
#define MAX_THREADS 4
#define MAX_BUF (1 << 20) /* the largest output or input buffer copied */

static _Noreturn void die(const char *what)
{
  fprintf(stderr, "floorrun: %s: %s\n", what, strerror(errno));
  exit(125);
}

/* ---- what each known call's arguments are ----
 * One letter per argument:
 *   D  a directory fd for the next P (AT_FDCWD, or an agent fd)
 *   P  a path: read, and made relative to the agent's cwd or D
 *   S  a string taken as it is (a symlink's target, an xattr name)
 *   F  an agent fd (pidfd_getfd)
 *   I  a number, passed as it is
 *   o  an output struct of `fixed` bytes, written back on success
 *   i  an input struct of `fixed` bytes (or NULL)
 *   b  an output buffer whose size is the next argument, written back
 *   v  an input buffer whose size is the next argument
 * An open's result is an fd of the supervisor's, injected (cloexec: the
 * flags argument, or the open_how's). */
struct call_spec {
  int nr;
  const char *args;
  unsigned fixed;
  int opens;      /* 1: the result is an fd to inject */
  int flags_arg;  /* the open flags' argument, -1 none, -2 the open_how */
};

static const struct call_spec SPECS[] = {
    {SYS_open, "PII", 0, 1, 1},          {SYS_stat, "Po", sizeof(struct stat), 0, -1},
    {SYS_lstat, "Po", sizeof(struct stat), 0, -1},
    {SYS_access, "PI", 0, 0, -1},        {SYS_truncate, "PI", 0, 0, -1},
    {SYS_getdents, "FbI", 0, 0, -1},     {SYS_rename, "PP", 0, 0, -1},
    {SYS_mkdir, "PI", 0, 0, -1},         {SYS_rmdir, "P", 0, 0, -1},
    {SYS_creat, "PI", 0, 1, -1},         {SYS_link, "PP", 0, 0, -1},
    {SYS_unlink, "P", 0, 0, -1},         {SYS_symlink, "SP", 0, 0, -1},
    {SYS_readlink, "PbI", 0, 0, -1},     {SYS_chmod, "PI", 0, 0, -1},
    {SYS_fchmod, "FI", 0, 0, -1},        {SYS_chown, "PII", 0, 0, -1},
    {SYS_fchown, "FII", 0, 0, -1},       {SYS_lchown, "PII", 0, 0, -1},
    {SYS_utime, "Pi", 16, 0, -1},        {SYS_mknod, "PII", 0, 0, -1},
    {SYS_statfs, "Po", 120, 0, -1},      {SYS_setxattr, "PSvII", 0, 0, -1},
    {SYS_lsetxattr, "PSvII", 0, 0, -1},  {SYS_fsetxattr, "FSvII", 0, 0, -1},
    {SYS_getxattr, "PSbI", 0, 0, -1},    {SYS_lgetxattr, "PSbI", 0, 0, -1},
    {SYS_listxattr, "PbI", 0, 0, -1},    {SYS_llistxattr, "PbI", 0, 0, -1},
    {SYS_removexattr, "PS", 0, 0, -1},   {SYS_lremovexattr, "PS", 0, 0, -1},
    {SYS_fremovexattr, "FS", 0, 0, -1},  {SYS_getdents64, "FbI", 0, 0, -1},
    {SYS_utimes, "Pi", 32, 0, -1},       {SYS_openat, "DPII", 0, 1, 2},
    {SYS_mkdirat, "DPI", 0, 0, -1},      {SYS_mknodat, "DPII", 0, 0, -1},
    {SYS_fchownat, "DPIII", 0, 0, -1},   {SYS_futimesat, "DPi", 32, 0, -1},
    {SYS_newfstatat, "DPoI", sizeof(struct stat), 0, -1},
    {SYS_unlinkat, "DPI", 0, 0, -1},     {SYS_renameat, "DPDP", 0, 0, -1},
    {SYS_linkat, "DPDPI", 0, 0, -1},     {SYS_symlinkat, "SDP", 0, 0, -1},
    {SYS_readlinkat, "DPbI", 0, 0, -1},  {SYS_fchmodat, "DPI", 0, 0, -1},
    {SYS_faccessat, "DPI", 0, 0, -1},    {SYS_utimensat, "DPiI", 32, 0, -1},
    {SYS_renameat2, "DPDPI", 0, 0, -1},  {SYS_statx, "DPIIo", 256, 0, -1},
    {SYS_openat2, "DPvI", 0, 1, -2},     {SYS_faccessat2, "DPII", 0, 0, -1},
};

static const struct call_spec *spec_for(int nr)
{
  for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++)
    if (SPECS[i].nr == nr)
      return &SPECS[i];
  return NULL;
}

/* ---- the agent's side ---- */

static int install_filter(const int *nrs, int n)
{
  struct sock_filter code[MAX_NOTIFY + 6];
  int k = 0;
  code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, arch));
  code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                           offsetof(struct seccomp_data, nr));
  /* entry i jumps to the notify return when equal: n - i - 1 entries and
   * the allow return lie between */
  for (int i = 0; i < n; i++)
    code[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i],
                                             (unsigned char)(n - i), 0);
  code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
  int fd = notify_install(code, (unsigned short)k);
  if (fd < 0)
    die("seccomp");
  return fd;
}

/* ---- the supervisor's side ---- */

static int g_listener = -1;

/* --stats: what the supervisor did, printed at the end */
static struct {
  unsigned long performed, continued, relative;
} g_stats;

/* pidfds of the agent's threads, kept for the run (tid reuse in a bench run
 * is not a concern of a floor; no lock: each slot is written once) */
#define PIDFD_SLOTS 4096
static int g_pidfd[PIDFD_SLOTS];
static pid_t g_pidfd_tid[PIDFD_SLOTS];
static pthread_mutex_t g_pidfd_lock = PTHREAD_MUTEX_INITIALIZER;

static int agent_fd(pid_t tid, int fd)
{
  pthread_mutex_lock(&g_pidfd_lock);
  unsigned slot = (unsigned)tid % PIDFD_SLOTS;
  if (g_pidfd_tid[slot] != tid) {
    if (g_pidfd_tid[slot] != 0)
      close(g_pidfd[slot]);
    g_pidfd[slot] = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
    g_pidfd_tid[slot] = g_pidfd[slot] >= 0 ? tid : 0;
  }
  /* taken under the lock: another thread's tid in the same slot would
   * close this pidfd, and its number could name something else */
  int local = g_pidfd_tid[slot] == tid ? (int)syscall(SYS_pidfd_getfd, g_pidfd[slot], fd, 0) : -1;
  int e = g_pidfd_tid[slot] == tid ? errno : ESRCH;
  pthread_mutex_unlock(&g_pidfd_lock);
  return local < 0 ? -e : local;
}

static int mem_read(pid_t tid, uint64_t addr, void *buf, size_t len)
{
  struct iovec local = {buf, len}, remote = {(void *)addr, len};
  return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

static int mem_write(pid_t tid, uint64_t addr, const void *buf, size_t len)
{
  struct iovec local = {(void *)buf, len}, remote = {(void *)addr, len};
  return process_vm_writev(tid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* A string, read once: up to the end of its page, then page by page (a
 * longer first read could fault on an unmapped next page). */
static int read_string(pid_t tid, uint64_t addr, char *buf, size_t size)
{
  size_t got = 0;
  while (got < size) {
    size_t chunk = 4096 - ((addr + got) & 4095);
    if (chunk > size - got)
      chunk = size - got;
    if (mem_read(tid, addr + got, buf + got, chunk) < 0)
      return -EFAULT;
    if (memchr(buf + got, '\0', chunk) != NULL)
      return 0;
    got += chunk;
  }
  return -ENAMETOOLONG;
}

/* One call's arguments in the supervisor's terms. */
struct local_call {
  uint64_t arg[6];
  char str[3][PATH_MAX + 64];
  int nstr;
  int fds[3];
  int nfds;
  void *out;
  size_t out_len;
  uint64_t out_addr;
  int out_sized; /* the output's length is the call's result */
  void *in;
};

/* A path relative to the agent's cwd or one of its fds, through /proc; its
 * /proc/self is the agent's. Returns 1 for a NULL path (the dirfd itself). */
static int local_path(pid_t tid, uint64_t addr, int64_t dirfd, struct local_call *lc, int *use_dirfd)
{
  char *s = lc->str[lc->nstr++];
  char raw[PATH_MAX];
  *use_dirfd = 0;
  if (addr == 0) { /* utimensat(fd, NULL, ...): the fd itself */
    if (dirfd == AT_FDCWD)
      return -EFAULT;
    int fd = agent_fd(tid, (int)dirfd);
    if (fd < 0)
      return fd;
    lc->fds[lc->nfds++] = fd;
    lc->nstr--;
    *use_dirfd = fd;
    return 1;
  }
  int r = read_string(tid, addr, raw, sizeof raw);
  if (r < 0)
    return r;
  const char *self = strncmp(raw, "/proc/self", 10) == 0           ? raw + 10
                     : strncmp(raw, "/proc/thread-self", 17) == 0 ? raw + 17
                                                                  : NULL;
  if (self != NULL && (*self == '/' || *self == '\0')) { /* the agent's, not ours */
    snprintf(s, sizeof lc->str[0], "/proc/%d%s", (int)tid, self);
  } else if (raw[0] == '/') {
    strcpy(s, raw);
  } else if (raw[0] == '\0' && dirfd != AT_FDCWD) { /* AT_EMPTY_PATH: the fd itself */
    int fd = agent_fd(tid, (int)dirfd);
    if (fd < 0)
      return fd;
    lc->fds[lc->nfds++] = fd;
    s[0] = '\0';
    *use_dirfd = fd;
  } else if (dirfd == AT_FDCWD) {
    __atomic_add_fetch(&g_stats.relative, 1, __ATOMIC_RELAXED);
    snprintf(s, sizeof lc->str[0], "/proc/%d/cwd/%s", (int)tid, raw);
  } else {
    __atomic_add_fetch(&g_stats.relative, 1, __ATOMIC_RELAXED);
    snprintf(s, sizeof lc->str[0], "/proc/%d/fd/%d/%s", (int)tid, (int)dirfd, raw);
  }
  return 0;
}

static int translate(const struct seccomp_notif *req, const struct call_spec *sp,
                     struct local_call *lc)
{
  pid_t tid = (pid_t)req->pid;
  const uint64_t *a = (const uint64_t *)req->data.args;
  memcpy(lc->arg, a, sizeof lc->arg);
  for (int i = 0; sp->args[i] != '\0'; i++) {
    int r = 0, dirfd_local = 0;
    switch (sp->args[i]) {
    case 'D':
      break; /* set with its path */
    case 'P':
      r = local_path(tid, a[i], i > 0 && sp->args[i - 1] == 'D' ? (int64_t)(int)a[i - 1] : AT_FDCWD,
                     lc, &dirfd_local);
      lc->arg[i] = r == 1 ? 0 : (uint64_t)(uintptr_t)lc->str[lc->nstr - 1];
      r = r == 1 ? 0 : r;
      if (i > 0 && sp->args[i - 1] == 'D')
        lc->arg[i - 1] = dirfd_local ? (uint64_t)dirfd_local : (uint64_t)(int64_t)AT_FDCWD;
      break;
    case 'S':
      r = read_string(tid, a[i], lc->str[lc->nstr], sizeof lc->str[0]);
      lc->arg[i] = (uint64_t)(uintptr_t)lc->str[lc->nstr++];
      break;
    case 'F':
      r = agent_fd(tid, (int)a[i]);
      if (r >= 0)
        lc->fds[lc->nfds++] = r, lc->arg[i] = (uint64_t)r, r = 0;
      break;
    case 'o':
    case 'b':
      lc->out_len = sp->args[i] == 'o' ? sp->fixed : a[i + 1] < MAX_BUF ? a[i + 1] : MAX_BUF;
      lc->out_sized = sp->args[i] == 'b';
      lc->out_addr = a[i];
      lc->out = a[i] != 0 ? calloc(1, lc->out_len + 1) : NULL;
      lc->arg[i] = (uint64_t)(uintptr_t)lc->out;
      if (sp->args[i] == 'b' && i + 1 < 6)
        lc->arg[i + 1] = lc->out_len;
      break;
    case 'i':
    case 'v': {
      size_t len = sp->args[i] == 'i' ? sp->fixed : a[i + 1] < MAX_BUF ? a[i + 1] : MAX_BUF;
      if (a[i] == 0)
        break;
      lc->in = malloc(len + 1);
      r = lc->in == NULL ? -ENOMEM : mem_read(tid, a[i], lc->in, len);
      lc->arg[i] = (uint64_t)(uintptr_t)lc->in;
      break;
    }
    default:
      break;
    }
    if (r < 0)
      return r;
  }
  return 0;
}

static void local_call_free(struct local_call *lc)
{
  for (int i = 0; i < lc->nfds; i++)
    close(lc->fds[i]);
  free(lc->out);
  free(lc->in);
}

/* The answer: val, or -err; with cont, the kernel makes the call instead
 * (only for calls chosen by number alone: serve()). */
static void respond(uint64_t id, int64_t val, int err, int cont)
{
  struct seccomp_notif_resp resp = {.id = id};
  if (cont)
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  else if (err)
    resp.error = -err;
  else
    resp.val = val;
  ioctl(g_listener, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* the agent may be gone: ignored */
}

static int open_cloexec(const struct call_spec *sp, const struct local_call *lc)
{
  if (sp->flags_arg == -2)
    return lc->in != NULL && (((const struct open_how *)lc->in)->flags & O_CLOEXEC);
  return sp->flags_arg >= 0 && (lc->arg[sp->flags_arg] & O_CLOEXEC);
}

/* ADDFD cannot inject O_PATH files (it takes them with fget): an O_PATH
 * open gets a read-only fd of the object instead, as usbox's. */
static bool path_to_readonly(const struct call_spec *sp, struct local_call *lc)
{
  const uint64_t keep = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  uint64_t *flags = sp->flags_arg >= 0 ? &lc->arg[sp->flags_arg]
                    : sp->flags_arg == -2 && lc->in != NULL ? (uint64_t *)&((struct open_how *)lc->in)->flags
                                                            : NULL;
  if (flags == NULL || !(*flags & O_PATH))
    return false;
  *flags = O_RDONLY | (*flags & keep);
  return true;
}

static void perform(const struct seccomp_notif *req, const struct call_spec *sp)
{
  struct local_call lc;
  memset(&lc, 0, sizeof lc);
  int r = translate(req, sp, &lc);
  if (r == 0 && ioctl(g_listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
    r = -ENOENT;
  bool was_path = r == 0 && sp->opens && path_to_readonly(sp, &lc);
  long ret = -1;
  if (r == 0) {
    ret = syscall(req->data.nr, lc.arg[0], lc.arg[1], lc.arg[2], lc.arg[3], lc.arg[4], lc.arg[5]);
    r = ret < 0 ? -errno : 0;
  }
  if (was_path && r == -ELOOP) /* O_PATH|O_NOFOLLOW reached a symlink */
    r = -EOPNOTSUPP;
  if (r == 0 && lc.out != NULL) {
    size_t len = lc.out_sized ? (size_t)ret : lc.out_len;
    if (len > lc.out_len)
      len = lc.out_len;
    if (len > 0 && mem_write((pid_t)req->pid, lc.out_addr, lc.out, len) < 0)
      r = -EFAULT;
  }
  if (r == 0 && sp->opens) {
    struct seccomp_notif_addfd add = {.id = req->id, .flags = SECCOMP_ADDFD_FLAG_SEND,
                                      .srcfd = (unsigned)ret,
                                      .newfd_flags = open_cloexec(sp, &lc) ? O_CLOEXEC : 0};
    int target = ioctl(g_listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    int e = errno;
    close((int)ret);
    local_call_free(&lc);
    if (target < 0 && e != ENOENT)
      respond(req->id, 0, e, 0);
    return;
  }
  local_call_free(&lc);
  respond(req->id, ret, r < 0 ? -r : 0, 0);
}

static void *serve(void *unused)
{
  (void)unused;
  for (;;) {
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(g_listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      struct pollfd p = {.fd = g_listener, .events = POLLIN};
      if (errno == EINTR || (errno == ENOENT && poll(&p, 1, -1) == 1 && !(p.revents & POLLHUP)))
        continue; /* ENOENT: that caller died while we received */
      return NULL; /* no process uses the filter any more */
    }
    const struct call_spec *sp = spec_for(req.data.nr);
    /* no emulation for it: continued on its number alone, no argument of
     * the command's read (floorrun measures; it confines nothing) */
    if (sp == NULL) {
      __atomic_add_fetch(&g_stats.continued, 1, __ATOMIC_RELAXED);
      if (ioctl(g_listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) == 0)
        respond(req.id, 0, 0, 1);
      continue;
    }
    __atomic_add_fetch(&g_stats.performed, 1, __ATOMIC_RELAXED);
    perform(&req, sp);
  }
}

static int parse_notify(const char *list, int *nrs)
{
  int n = 0;
  char *copy = strdup(list), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
    char *end;
    long v = strtol(t, &end, 10);
    if (*end != '\0' || v < 0 || v > 1023 || n == MAX_NOTIFY) {
      free(copy);
      return -1;
    }
    nrs[n++] = (int)v;
  }
  free(copy);
  return n;
}

static _Noreturn void usage(void)
{
  fprintf(stderr, "usage: floorrun [--threads N] [--stats] --notify NR[,NR...] -- CMD [ARGS...]\n");
  exit(2);
}

int main(int argc, char **argv)
{
  int nrs[MAX_NOTIFY], n = -1, i = 1, stats = 0;
  long threads = sysconf(_SC_NPROCESSORS_ONLN);
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--notify") == 0 && i + 1 < argc)
      n = parse_notify(argv[++i], nrs);
    else if (strcmp(argv[i], "--stats") == 0)
      stats = 1;
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atol(argv[++i]);
    else
      usage();
  }
  if (n < 0 || i + 1 >= argc || threads < 1)
    usage();
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  /* The notifications name threads by their ids in this pid namespace, and
   * relative paths go through /proc/TID: a /proc of another namespace
   * would name other processes (and make their cwd the command's). */
  char self[32] = "";
  ssize_t len = readlink("/proc/self", self, sizeof self - 1);
  if (len <= 0 || atoi(self) != (int)getpid()) {
    fprintf(stderr, "floorrun: /proc is not this pid namespace's (unshare --mount-proc)\n");
    return 125;
  }
  /* the listener's number goes up a pipe (write and read are never
   * notified); the supervisor takes the fd itself with pidfd_getfd */
  int up[2], down[2];
  if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0)
    die("pipe");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    int listener = install_filter(nrs, n);
    char go;
    if (write(up[1], &listener, sizeof listener) != sizeof listener ||
        read(down[0], &go, 1) != 1) /* the supervisor is listening */
      _exit(125);
    close(listener);
    execvp(argv[i + 1], argv + i + 1);
    fprintf(stderr, "floorrun: %s: %s\n", argv[i + 1], strerror(errno));
    _exit(127);
  }
  int child_listener;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0 || read(up[0], &child_listener, sizeof child_listener) != sizeof child_listener)
    die("the command's listener");
  g_listener = (int)syscall(SYS_pidfd_getfd, pidfd, child_listener, 0);
  if (g_listener < 0)
    die("pidfd_getfd");
  ioctl(g_listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0);
  for (long t = 0; t < threads; t++) {
    pthread_t th;
    if (pthread_create(&th, NULL, serve, NULL) != 0)
      die("starting a supervisor thread");
  }
  if (write(down[1], "g", 1) != 1)
    die("starting the command");
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      die("waitpid");
  if (stats)
    fprintf(stderr,
            "floorrun: %lu calls performed by the supervisor (%lu with a relative path, "
            "resolved through /proc/TID), %lu continued\n",
            __atomic_load_n(&g_stats.performed, __ATOMIC_RELAXED),
            __atomic_load_n(&g_stats.relative, __ATOMIC_RELAXED),
            __atomic_load_n(&g_stats.continued, __ATOMIC_RELAXED));
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
