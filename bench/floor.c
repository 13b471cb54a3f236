/* The floor of an emulated call: what the kernel mechanisms usbox is built
 * on cost by themselves, with no policy, no VFS and no gofer.
 *
 * A child installs a seccomp user-notify filter for one system call and
 * makes it in a loop; the parent is a one-thread supervisor that does, per
 * call, only what any supervisor that keeps invariant 1 must do (read the
 * arguments once from the agent's memory, check the notification is still
 * live, act on its own copy, write the result back, answer):
 *
 *   null  RECV, SEND (return 0): the notification round trip alone
 *   stat  RECV, process_vm_readv (the path), ID_VALID, statx,
 *         process_vm_writev (struct stat), SEND
 *   open  RECV, process_vm_readv (the path), ID_VALID, openat,
 *         ADDFD|SEND, close (the child then closes the fd: a real system
 *         call, as in bench/micro's open_close)
 *   create  bench/micro's create_write_unlink, its openat(O_CREAT|O_EXCL)
 *         and unlinkat answered: RECV, process_vm_readv, ID_VALID, then
 *         openat, ADDFD|SEND, close (a writable fd: a supervisor's execve
 *         must wait for that close, or an execve of the file would fail
 *         with ETXTBSY; no execve here), or unlinkat, SEND; the write and
 *         close are the kernel's
 *
 *   floor [--batches B] [--batch-ms MS] [--warmup-ms MS] [--no-sync-wake]
 *         [--proc-mem] [--two-step] [--dir DIR] [CASE...]
 *
 * --proc-mem reads and writes the agent's memory with pread/pwrite on
 * /proc/PID/mem opened once, instead of process_vm_readv/writev.
 * --two-step answers an open or a create with ADDFD and then a plain SEND
 * of the fd number, instead of ADDFD with SECCOMP_ADDFD_FLAG_SEND.
 *
 * Prints one line per case in bench/micro's format (median ns per call over
 * the batches, min, max), so bench/run can show it beside usbox. Pin it
 * with taskset for the pinned mode: the child and the supervisor then share
 * the CPU, as the agent and the sentry do. SYNC_WAKE_UP is set on the
 * listener, as usbox does. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"


#define MAX_BATCHES 64

struct options {
  int batches;
  double batch_ms, warmup_ms;
  int sync_wake;
  int proc_mem; /* read and write the agent's memory with pread/pwrite on /proc/PID/mem */
  int two_step; /* open, create: ADDFD, then SEND with the fd number (not ADDFD|SEND) */
};

static int g_two_step;

static int g_mem_fd = -1; /* /proc/PID/mem of the child, with --proc-mem */

static _Noreturn void die(const char *what)
{
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- the agent side ---- */

/* nr and nr2 (the same for one call) go to the supervisor. */
static int install_filter(int nr, int nr2)
{
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  int fd = notify_install(code, sizeof code / sizeof code[0]);
  if (fd < 0)
    die("seccomp");
  return fd;
}

static void send_fd(int sock, int fd)
{
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  char byte = 0;
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) < 0)
    die("sendmsg");
}

static int recv_fd(int sock)
{
  char cbuf[CMSG_SPACE(sizeof(int))];
  char byte;
  struct iovec iov = {&byte, 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf};
  if (recvmsg(sock, &msg, 0) <= 0)
    die("recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  int fd;
  if (c == NULL || c->cmsg_type != SCM_RIGHTS)
    die("no listener fd");
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

/* The probe's paths start a page: read_path reads to the end of the
 * path's page only, and a path on the stack crossed a page now and then
 * (the stack's offset in its page is random), failing that run's case. */
static char g_path[4096] __attribute__((aligned(4096)));
static char g_scratch[4096] __attribute__((aligned(4096))); /* the create case's: g_path + ".new" */

static void one_create(void)
{
  static char data[4096];
  long fd = syscall(SYS_openat, AT_FDCWD, g_scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    die("openat(O_CREAT|O_EXCL)");
  memset(data, 'u', sizeof data);
  if (write((int)fd, data, sizeof data) != (ssize_t)sizeof data)
    die("write");
  close((int)fd);
  if (syscall(SYS_unlinkat, AT_FDCWD, g_scratch, 0) != 0)
    die("unlinkat");
}

static void one_call(const char *which, const char *path)
{
  struct stat st;
  if (strcmp(which, "create") == 0) {
    one_create();
  } else if (strcmp(which, "null") == 0) {
    if (syscall(SYS_getppid) != 0)
      die("the null call was not answered by the supervisor");
  } else if (strcmp(which, "stat") == 0) {
    if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
      die("newfstatat");
  } else {
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      die("openat");
    close((int)fd);
  }
}

/* Calls per batch from the warm-up's rate, then the batches; the medians
 * and extremes per call go to out (ns). */
static void agent_loop(const char *which, const char *path, const struct options *o,
                       double out[3])
{
  double t0 = now_ns();
  long warm = 0;
  while (now_ns() - t0 < o->warmup_ms * 1e6)
    one_call(which, path), warm++;
  long per = (long)((double)warm / o->warmup_ms * o->batch_ms) + 1;
  double v[MAX_BATCHES];
  for (int b = 0; b < o->batches; b++) {
    double s = now_ns();
    for (long i = 0; i < per; i++)
      one_call(which, path);
    v[b] = (now_ns() - s) / (double)per;
  }
  for (int i = 1; i < o->batches; i++)
    for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
      double t = v[j];
      v[j] = v[j - 1], v[j - 1] = t;
    }
  out[0] = v[o->batches / 2], out[1] = v[0], out[2] = v[o->batches - 1];
}

/* ---- the supervisor side ---- */

/* The path argument, read once: up to the end of its page first, as a
 * supervisor that does not know its length must (a longer read could
 * fault on an unmapped next page). */
static int read_path(pid_t pid, unsigned long addr, char *buf, size_t size)
{
  size_t first = 4096 - (addr & 4095);
  struct iovec local = {buf, first < size ? first : size};
  struct iovec remote = {(void *)addr, local.iov_len};
  ssize_t n = g_mem_fd >= 0 ? pread(g_mem_fd, buf, local.iov_len, (off_t)addr)
                            : process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n <= 0 || memchr(buf, '\0', (size_t)n) == NULL)
    return -1; /* (a path across the page end: not in this probe) */
  return 0;
}

static void answer(int listener, struct seccomp_notif *req, const char *which)
{
  struct seccomp_notif_resp resp = {.id = req->id};
  char path[4096];
  if (strcmp(which, "null") != 0 &&
      (read_path((pid_t)req->pid, req->data.args[1], path, sizeof path) < 0 ||
       ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)) {
    resp.error = -ENOENT;
  } else if (strcmp(which, "stat") == 0) {
    struct stat st;
    struct statx stx;
    if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx) < 0) {
      resp.error = -errno;
    } else {
      memset(&st, 0, sizeof st); /* the conversion usbox does is not the cost */
      st.st_ino = stx.stx_ino, st.st_mode = stx.stx_mode, st.st_size = (off_t)stx.stx_size;
      struct iovec local = {&st, sizeof st}, remote = {(void *)req->data.args[2], sizeof st};
      ssize_t n = g_mem_fd >= 0 ? pwrite(g_mem_fd, &st, sizeof st, (off_t)req->data.args[2])
                                : process_vm_writev((pid_t)req->pid, &local, 1, &remote, 1, 0);
      if (n != (ssize_t)sizeof st)
        resp.error = -EFAULT;
    }
  } else if (strcmp(which, "create") == 0 && req->data.nr == SYS_unlinkat) {
    if (unlinkat(AT_FDCWD, path, (int)req->data.args[2]) < 0)
      resp.error = -errno;
  } else if (strcmp(which, "create") == 0) {
    int fd = open(path, (int)req->data.args[2], (mode_t)req->data.args[3]);
    struct seccomp_notif_addfd add = {.id = req->id,
                                      .flags = g_two_step ? 0 : SECCOMP_ADDFD_FLAG_SEND,
                                      .srcfd = (unsigned)fd, .newfd_flags = O_CLOEXEC};
    int target = fd < 0 ? -errno : ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    if (fd >= 0)
      close(fd); /* a supervisor's execve check waits for this close (usbox's does) */
    if (target >= 0 && !g_two_step)
      return; /* answered by the ADDFD */
    resp.val = target >= 0 ? target : 0;
    resp.error = target >= 0 ? 0 : fd < 0 ? target : -EBADF;
  } else if (strcmp(which, "open") == 0) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct seccomp_notif_addfd add = {.id = req->id,
                                      .flags = g_two_step ? 0 : SECCOMP_ADDFD_FLAG_SEND,
                                      .srcfd = (unsigned)fd, .newfd_flags = O_CLOEXEC};
    int target = fd < 0 ? -1 : ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
    if (target >= 0 && !g_two_step) {
      close(fd);
      return; /* answered by the ADDFD */
    }
    if (target >= 0) { /* a plain SEND: woken on this CPU (SYNC_WAKE_UP) */
      close(fd);
      resp.val = target;
      ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
      return;
    }
    resp.error = fd < 0 ? -errno : -EBADF;
    if (fd >= 0)
      close(fd);
  }
  ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* the agent may be gone: ignored */
}

static void supervise(int listener, const char *which)
{
  for (;;) {
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      if (errno == EINTR)
        continue;
      return; /* ENOENT: the child is gone */
    }
    answer(listener, &req, which);
  }
}

static void run_case(const char *which, const char *path, const struct options *o)
{
  int sv[2], res[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(res, O_CLOEXEC) < 0)
    die("socketpair");
  int nr = strcmp(which, "null") == 0 ? SYS_getppid
           : strcmp(which, "stat") == 0 ? SYS_newfstatat
                                        : SYS_openat;
  int nr2 = strcmp(which, "create") == 0 ? SYS_unlinkat : nr;
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    int listener = install_filter(nr, nr2);
    send_fd(sv[1], listener);
    close(listener);
    char go;
    if (read(sv[1], &go, 1) != 1) /* the supervisor is listening */
      _exit(1);
    double out[3];
    agent_loop(which, path, o, out);
    _exit(write(res[1], out, sizeof out) == sizeof out ? 0 : 1);
  }
  int listener = recv_fd(sv[0]);
  if (o->proc_mem) {
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", (int)pid);
    if ((g_mem_fd = open(mem, O_RDWR | O_CLOEXEC)) < 0)
      die(mem);
  }
  if (o->sync_wake)
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0);
  if (write(sv[0], "g", 1) != 1)
    die("starting the child");
  close(res[1]);
  supervise(listener, which);
  close(listener);
  if (g_mem_fd >= 0)
    close(g_mem_fd), g_mem_fd = -1;
  double out[3];
  int st;
  ssize_t got = read(res[0], out, sizeof out);
  waitpid(pid, &st, 0);
  if (got != (ssize_t)sizeof out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "floor: the %s case failed\n", which);
    exit(1);
  }
  printf("%-20s %12.1f %12.1f %12.1f %10d %7d\n", which, out[0], out[1], out[2], 0, o->batches);
  close(sv[0]), close(sv[1]), close(res[0]);
}

int main(int argc, char **argv)
{
  struct options o = {.batches = 7, .batch_ms = 30, .warmup_ms = 50, .sync_wake = 1};
  const char *cases[4];
  const char *dir = "/tmp";
  int ncases = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc)
      o.batches = atoi(argv[++i]);
    else if (strcmp(argv[i], "--batch-ms") == 0 && i + 1 < argc)
      o.batch_ms = atof(argv[++i]);
    else if (strcmp(argv[i], "--warmup-ms") == 0 && i + 1 < argc)
      o.warmup_ms = atof(argv[++i]);
    else if (strcmp(argv[i], "--no-sync-wake") == 0)
      o.sync_wake = 0;
    else if (strcmp(argv[i], "--proc-mem") == 0)
      o.proc_mem = 1;
    else if (strcmp(argv[i], "--two-step") == 0)
      g_two_step = o.two_step = 1;
    else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if ((strcmp(argv[i], "null") == 0 || strcmp(argv[i], "stat") == 0 ||
              strcmp(argv[i], "open") == 0 || strcmp(argv[i], "create") == 0) && ncases < 4)
      cases[ncases++] = argv[i];
    else {
      fprintf(stderr, "usage: floor [--batches B] [--batch-ms MS] [--warmup-ms MS] "
                      "[--no-sync-wake] [--proc-mem] [--two-step] [--dir DIR] "
                      "[null|stat|open|create...]\n");
      return 2;
    }
  }
  if (o.batches < 1 || o.batches > MAX_BATCHES || o.batch_ms <= 0 || o.warmup_ms <= 0) {
    fprintf(stderr, "floor: --batches is 1..%d, the times positive\n", MAX_BATCHES);
    return 2;
  }
  if (ncases == 0)
    cases[0] = "null", cases[1] = "stat", cases[2] = "open", cases[3] = "create", ncases = 4;
  /* a file like bench/micro's: in its directory (/tmp: two components deep) */
  char *path = g_path;
  if (snprintf(path, sizeof g_path, "%s/floor-existing.%d", dir, (int)getpid()) >= (int)sizeof g_path - 8)
    die("--dir is too long");
  snprintf(g_scratch, sizeof g_scratch, "%s.new", path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    die("creating the probe's file");
  close(fd);
  printf("%-20s %12s %12s %12s %10s %7s\n", "case", "median ns/op", "min", "max", "iters",
         "batches");
  fflush(stdout);
  for (int i = 0; i < ncases; i++) {
    run_case(cases[i], path, &o);
    fflush(stdout);
  }
  unlink(path);
  return 0;
}
