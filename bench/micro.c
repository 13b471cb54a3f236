/* micro: system-call micro benchmarks, the same binary natively, under
 * `usbox exec` and under `runsc do`, so sandbox start-up is not measured.
 *
 *   micro [--iterations N] [--batches B] [--warmup-ms MS] [--batch-ms MS]
 *         [--dir DIR] [--csv] [--list] [CASE...]
 *
 * Each case runs a warm-up (at least --warmup-ms, default 50 ms), then B
 * batches (default 7) of N operations. Without --iterations, N is chosen from
 * the warm-up so that a batch lasts about --batch-ms (default 30 ms). For each
 * case it prints the median ns/op over the batches, and the fastest and
 * slowest batch. Any failing call is fatal (exit 1): a benchmark that quietly
 * measures an error path measures something else.
 *
 * Calls that libc could hide or cache are made with syscall(2); the loops do
 * nothing but the operation. Temporary files live in --dir (default: a fresh
 * mktemp directory under /tmp, removed at exit), which must be writable.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dir[4096];
static bool g_dir_is_ours;
static char g_existing[4200]; /* a 64 KiB file that exists for the whole run */
static char g_scratch[4200];  /* created and removed by create+write+unlink */
static char g_buf[4096] __attribute__((aligned(4096)));

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "micro: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, ": %s\n", strerror(e));
  exit(1);
}

static inline uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- cases: each runs its operation n times ---------------------------- */

struct ctx {
  int fd;       /* pread/pwrite: the open file */
  int to_child; /* pipe ping-pong */
  int from_child;
  pid_t child;
  int listen_fd; /* tcp */
  struct sockaddr_in addr;
};

static void run_getpid(struct ctx *c, long n)
{
  (void)c;
  for (long i = 0; i < n; i++)
    if (syscall(SYS_getpid) <= 0)
      die("getpid");
}

static void run_clock_gettime(struct ctx *c, long n)
{
  (void)c;
  struct timespec ts;
  for (long i = 0; i < n; i++)
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) /* vDSO: what programs call */
      die("clock_gettime");
}

static void run_clock_gettime_sys(struct ctx *c, long n)
{
  (void)c;
  struct timespec ts;
  for (long i = 0; i < n; i++)
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
      die("clock_gettime syscall");
}

static void run_open_close(struct ctx *c, long n)
{
  (void)c;
  for (long i = 0; i < n; i++) {
    long fd = syscall(SYS_openat, AT_FDCWD, g_existing, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      die("openat %s", g_existing);
    if (syscall(SYS_close, fd) != 0)
      die("close");
  }
}

static void run_stat(struct ctx *c, long n)
{
  (void)c;
  struct stat st;
  for (long i = 0; i < n; i++)
    if (syscall(SYS_newfstatat, AT_FDCWD, g_existing, &st, 0) != 0)
      die("newfstatat %s", g_existing);
}

static void setup_rw(struct ctx *c)
{
  c->fd = open(g_existing, O_RDWR | O_CLOEXEC);
  if (c->fd < 0)
    die("open %s", g_existing);
}

static void teardown_fd(struct ctx *c) { close(c->fd); }

static void run_pread(struct ctx *c, long n)
{
  for (long i = 0; i < n; i++)
    if (syscall(SYS_pread64, c->fd, g_buf, sizeof g_buf, 0L) != (long)sizeof g_buf)
      die("pread64");
}

static void run_pwrite(struct ctx *c, long n)
{
  for (long i = 0; i < n; i++)
    if (syscall(SYS_pwrite64, c->fd, g_buf, sizeof g_buf, 4096L) != (long)sizeof g_buf)
      die("pwrite64");
}

static void run_create_write_unlink(struct ctx *c, long n)
{
  (void)c;
  for (long i = 0; i < n; i++) {
    long fd = syscall(SYS_openat, AT_FDCWD, g_scratch, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      die("openat O_CREAT %s", g_scratch);
    if (syscall(SYS_write, fd, g_buf, sizeof g_buf) != (long)sizeof g_buf)
      die("write");
    if (syscall(SYS_close, fd) != 0)
      die("close");
    if (syscall(SYS_unlinkat, AT_FDCWD, g_scratch, 0) != 0)
      die("unlinkat %s", g_scratch);
  }
}

static void run_mmap_munmap(struct ctx *c, long n)
{
  (void)c;
  for (long i = 0; i < n; i++) {
    void *p = (void *)syscall(SYS_mmap, NULL, 4096L, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
    if (p == MAP_FAILED)
      die("mmap");
    *(volatile char *)p = 1; /* one page fault: memory a program maps, it uses */
    if (syscall(SYS_munmap, p, 4096L) != 0)
      die("munmap");
  }
}

static void reap(pid_t pid)
{
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      die("waitpid");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    errno = 0;
    die("child %d ended with status 0x%x", pid, st);
  }
}

static void run_fork_wait(struct ctx *c, long n)
{
  (void)c;
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0)
      _exit(0);
    reap(pid);
  }
}

static void run_fork_exec_wait(struct ctx *c, long n)
{
  (void)c;
  static char *const argv[] = {"/bin/true", NULL};
  static char *const envp[] = {"PATH=/usr/bin:/bin", NULL};
  for (long i = 0; i < n; i++) {
    pid_t pid = fork();
    if (pid < 0)
      die("fork");
    if (pid == 0) {
      execve(argv[0], argv, envp);
      _exit(127);
    }
    reap(pid);
  }
}

static void setup_pipe(struct ctx *c)
{
  int down[2], up[2];
  if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0)
    die("pipe2");
  c->child = fork();
  if (c->child < 0)
    die("fork");
  if (c->child == 0) {
    close(down[1]);
    close(up[0]);
    char b;
    for (;;) {
      ssize_t r = read(down[0], &b, 1);
      if (r == 0)
        _exit(0);
      if (r != 1 || write(up[1], &b, 1) != 1)
        _exit(1);
    }
  }
  close(down[0]);
  close(up[1]);
  c->to_child = down[1];
  c->from_child = up[0];
}

static void run_pipe(struct ctx *c, long n)
{
  char b = 'x';
  for (long i = 0; i < n; i++) {
    if (syscall(SYS_write, c->to_child, &b, 1L) != 1)
      die("pipe write");
    if (syscall(SYS_read, c->from_child, &b, 1L) != 1)
      die("pipe read");
  }
}

static void teardown_pipe(struct ctx *c)
{
  close(c->to_child);
  close(c->from_child);
  reap(c->child);
}

static void setup_tcp(struct ctx *c)
{
  c->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->listen_fd < 0)
    die("socket");
  int one = 1;
  setsockopt(c->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&c->addr, 0, sizeof c->addr);
  c->addr.sin_family = AF_INET;
  c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof c->addr;
  if (bind(c->listen_fd, (struct sockaddr *)&c->addr, sizeof c->addr) != 0)
    die("bind 127.0.0.1:0");
  if (getsockname(c->listen_fd, (struct sockaddr *)&c->addr, &len) != 0)
    die("getsockname");
  if (listen(c->listen_fd, 128) != 0)
    die("listen");
}

static void run_tcp(struct ctx *c, long n)
{
  for (long i = 0; i < n; i++) {
    long cfd = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0)
      die("socket");
    if (syscall(SYS_connect, cfd, &c->addr, (long)sizeof c->addr) != 0)
      die("connect 127.0.0.1:%d", ntohs(c->addr.sin_port));
    long afd = syscall(SYS_accept4, c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (afd < 0)
      die("accept4");
    /* The server closes first, so TIME_WAIT is on the listening port's side
     * and the client's ephemeral ports are not used up. */
    if (syscall(SYS_close, afd) != 0 || syscall(SYS_close, cfd) != 0)
      die("close");
  }
}

static void teardown_tcp(struct ctx *c) { close(c->listen_fd); }

struct bench_case {
  const char *name;
  const char *what;
  void (*setup)(struct ctx *);
  void (*run)(struct ctx *, long);
  void (*teardown)(struct ctx *);
};

static const struct bench_case cases[] = {
    {"getpid", "syscall(SYS_getpid), allowed in BPF", NULL, run_getpid, NULL},
    {"clock_gettime", "clock_gettime(CLOCK_MONOTONIC) through the vDSO", NULL, run_clock_gettime, NULL},
    {"clock_gettime_sys", "clock_gettime as a real system call", NULL, run_clock_gettime_sys, NULL},
    {"open_close", "openat(existing file, O_RDONLY) + close", NULL, run_open_close, NULL},
    {"stat", "newfstatat(existing file)", NULL, run_stat, NULL},
    {"pread_4k", "pread64 4 KiB at offset 0 (page cache)", setup_rw, run_pread, teardown_fd},
    {"pwrite_4k", "pwrite64 4 KiB at offset 4096 (page cache)", setup_rw, run_pwrite, teardown_fd},
    {"create_write_unlink", "openat(O_CREAT|O_EXCL) + write 4 KiB + close + unlinkat", NULL,
     run_create_write_unlink, NULL},
    {"mmap_munmap", "mmap 4 KiB anonymous, touch it, munmap", NULL, run_mmap_munmap, NULL},
    {"fork_wait", "fork, child _exit(0), waitpid", NULL, run_fork_wait, NULL},
    {"fork_exec_wait", "fork, child execve(/bin/true), waitpid", NULL, run_fork_exec_wait, NULL},
    {"pipe_pingpong", "1 byte there and back between two processes (one round trip)", setup_pipe,
     run_pipe, teardown_pipe},
    {"tcp_connect", "TCP 127.0.0.1: socket + connect + accept4 + close both", setup_tcp, run_tcp,
     teardown_tcp},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- driver --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void cleanup_dir(void)
{
  unlink(g_scratch);
  unlink(g_existing);
  if (g_dir_is_ours)
    rmdir(g_dir);
}

static void on_signal(int sig)
{
  cleanup_dir();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void usage(FILE *f)
{
  fprintf(f, "usage: micro [--iterations N] [--batches B] [--warmup-ms MS] [--batch-ms MS]\n"
             "             [--dir DIR] [--csv] [--list] [CASE...]\n"
             "cases (default: all):\n");
  for (size_t i = 0; i < NCASES; i++)
    fprintf(f, "  %-20s %s\n", cases[i].name, cases[i].what);
}

static long parse_long(const char *opt, const char *s, long min)
{
  char *end;
  errno = 0;
  long v = strtol(s ? s : "", &end, 10);
  if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || v < min) {
    fprintf(stderr, "micro: %s needs a number >= %ld\n", opt, min);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv)
{
  long iterations = 0, batches = 7, warmup_ms = 50, batch_ms = 30;
  bool csv = false;
  const char *dir = NULL;
  bool selected[NCASES] = {0};
  int nselected = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--iterations") || !strcmp(a, "-n"))
      iterations = parse_long(a, i + 1 < argc ? argv[++i] : NULL, 1);
    else if (!strcmp(a, "--batches") || !strcmp(a, "-b"))
      batches = parse_long(a, i + 1 < argc ? argv[++i] : NULL, 1);
    else if (!strcmp(a, "--warmup-ms"))
      warmup_ms = parse_long(a, i + 1 < argc ? argv[++i] : NULL, 0);
    else if (!strcmp(a, "--batch-ms"))
      batch_ms = parse_long(a, i + 1 < argc ? argv[++i] : NULL, 1);
    else if (!strcmp(a, "--dir"))
      dir = i + 1 < argc ? argv[++i] : (usage(stderr), exit(2), NULL);
    else if (!strcmp(a, "--csv"))
      csv = true;
    else if (!strcmp(a, "--list")) {
      for (size_t k = 0; k < NCASES; k++)
        printf("%s\n", cases[k].name);
      return 0;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (a[0] == '-') {
      fprintf(stderr, "micro: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else {
      size_t k;
      for (k = 0; k < NCASES; k++)
        if (!strcmp(a, cases[k].name))
          break;
      if (k == NCASES) {
        fprintf(stderr, "micro: unknown case %s\n", a);
        usage(stderr);
        return 2;
      }
      if (!selected[k])
        nselected++;
      selected[k] = true;
    }
  }
  if (nselected == 0)
    for (size_t k = 0; k < NCASES; k++)
      selected[k] = true;

  if (dir) {
    snprintf(g_dir, sizeof g_dir, "%s", dir);
  } else {
    snprintf(g_dir, sizeof g_dir, "/tmp/micro.XXXXXX");
    if (mkdtemp(g_dir) == NULL)
      die("mkdtemp %s", g_dir);
    g_dir_is_ours = true;
  }
  snprintf(g_existing, sizeof g_existing, "%s/micro-existing.%d", g_dir, (int)getpid());
  snprintf(g_scratch, sizeof g_scratch, "%s/micro-scratch.%d", g_dir, (int)getpid());
  atexit(cleanup_dir);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  {
    memset(g_buf, 'u', sizeof g_buf);
    int fd = open(g_existing, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      die("create %s (is --dir writable?)", g_existing);
    for (int k = 0; k < 16; k++)
      if (write(fd, g_buf, sizeof g_buf) != (ssize_t)sizeof g_buf)
        die("write %s", g_existing);
    close(fd);
  }

  if (csv)
    printf("case,median_ns,min_ns,max_ns,iterations,batches\n");
  else
    printf("%-20s %12s %12s %12s %10s %7s\n", "case", "median ns/op", "min", "max", "iters",
           "batches");
  fflush(stdout);

  double *per_op = calloc((size_t)batches, sizeof *per_op);
  if (per_op == NULL)
    die("calloc");
  for (size_t k = 0; k < NCASES; k++) {
    if (!selected[k])
      continue;
    const struct bench_case *bc = &cases[k];
    struct ctx c;
    memset(&c, 0, sizeof c);
    if (bc->setup)
      bc->setup(&c);

    /* Warm-up: at least 3 operations and warmup_ms; it also sizes the batch. */
    long done = 0, step = 1;
    uint64_t t0 = now_ns(), elapsed = 0;
    while (done < 3 || elapsed < (uint64_t)warmup_ms * 1000000u) {
      bc->run(&c, step);
      done += step;
      elapsed = now_ns() - t0;
      if (step < 1 << 20)
        step *= 2;
    }
    long n = iterations;
    if (n == 0) {
      double est = (double)elapsed / (double)done;
      n = (long)((double)batch_ms * 1e6 / (est > 1 ? est : 1));
      if (n < 3)
        n = 3;
      if (n > 50000000)
        n = 50000000;
    }
    for (long b = 0; b < batches; b++) {
      uint64_t s = now_ns();
      bc->run(&c, n);
      per_op[b] = (double)(now_ns() - s) / (double)n;
    }
    if (bc->teardown)
      bc->teardown(&c);

    qsort(per_op, (size_t)batches, sizeof *per_op, cmp_double);
    double med = batches % 2 ? per_op[batches / 2]
                             : (per_op[batches / 2 - 1] + per_op[batches / 2]) / 2;
    if (csv)
      printf("%s,%.1f,%.1f,%.1f,%ld,%ld\n", bc->name, med, per_op[0], per_op[batches - 1], n,
             batches);
    else
      printf("%-20s %12.1f %12.1f %12.1f %10ld %7ld\n", bc->name, med, per_op[0],
             per_op[batches - 1], n, batches);
    fflush(stdout);
  }
  free(per_op);
  return 0;
}
