/* /proc/self names the agent, never usbox.
 *
 * The sentry opens files for the agent, in its own process: a /proc/self or
 * /proc/thread-self resolved by the kernel there would name usbox, and
 * /proc/self/fd/N would be usbox's fd N (the seccomp listener!), /proc/self/mem
 * usbox's memory. The VFS maps them to the agent (docs/architecture.md, "Path
 * resolution"). Every way of spelling them is tried here, each compared with
 * what the agent knows of itself (getpid, gettid, its own fds and inodes, its
 * own memory and environment). The same checks hold natively (--native).
 *
 * usage: proc_escape [--native] */
#include "attack.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static int orig_argc;
static char **orig_argv;

static char tmpdir[64];
static char tmpfile_path[128];
static int tmp_fd = -1;
static struct stat tmp_st;
static char exe_path[4096];
static struct stat exe_st;
static volatile uint64_t marker = 0x6167656e74216d65ULL;

static pid_t tid(void)
{
  return (pid_t)syscall(SYS_gettid);
}

static bool same_inode(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The "Name:" field of a /proc status file read from fd (closed). */
static long status_field(int fd, const char *field)
{
  if (fd < 0)
    return -1;
  char buf[8192];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char key[32];
  snprintf(key, sizeof key, "\n%s:", field);
  char *p = strstr(buf, key);
  return p != NULL ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void expect_pid_status(const char *name, int fd, int err, const char *field, long want)
{
  if (fd < 0) {
    fail(name, "open failed: %s", errname(err));
    return;
  }
  long got = status_field(fd, field);
  check(name, got == want, "%s: %ld, want %ld%s", field, got, want,
        got != want && got > 0 ? " (another process: usbox?)" : "");
}

#define STATUS_CHECK(name, field, want, expr)                                                      \
  do {                                                                                             \
    errno = 0;                                                                                     \
    int fd_ = (int)(expr);                                                                         \
    expect_pid_status(name, fd_, errno, field, want);                                              \
  } while (0)

static void expect_link(const char *name, const char *path, const char *want)
{
  char buf[4096];
  errno = 0;
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  if (n < 0) {
    fail(name, "readlink(%s): %s, want \"%s\"", path, errname(errno), want);
    return;
  }
  buf[n] = '\0';
  check(name, strcmp(buf, want) == 0, "readlink(%s) = \"%s\", want \"%s\"", path, buf, want);
}

static void expect_same_file(const char *name, const char *path, const struct stat *want)
{
  struct stat st;
  errno = 0;
  if (stat(path, &st) < 0) {
    fail(name, "stat(%s): %s", path, errname(errno));
    return;
  }
  check(name, same_inode(&st, want), "stat(%s) is inode %lu on %lx, want %lu on %lx", path,
        (unsigned long)st.st_ino, (unsigned long)st.st_dev, (unsigned long)want->st_ino,
        (unsigned long)want->st_dev);
}

static long openat2_resolve(int dirfd, const char *path, int flags, uint64_t resolve)
{
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)flags;
  how.resolve = resolve;
  return syscall(__NR_openat2, dirfd, path, &how, sizeof how);
}

/* ---- /proc/self and /proc/thread-self themselves ---- */

static void check_self_links(void)
{
  char want[64];
  snprintf(want, sizeof want, "%d", (int)getpid());
  expect_link("readlink-proc-self", "/proc/self", want);
  snprintf(want, sizeof want, "%d/task/%d", (int)getpid(), (int)tid());
  expect_link("readlink-proc-thread-self", "/proc/thread-self", want);

  struct stat st;
  errno = 0;
  int r = lstat("/proc/self", &st);
  check("lstat-proc-self-is-symlink", r == 0 && S_ISLNK(st.st_mode),
        "lstat: %d %s, mode %o: want a symlink", r, r < 0 ? errname(errno) : "", st.st_mode);

  char mine[64];
  snprintf(mine, sizeof mine, "/proc/%d", (int)getpid());
  struct stat want_st;
  if (stat(mine, &want_st) < 0)
    fail("stat-proc-self", "stat(%s): %s", mine, strerror(errno));
  else
    expect_same_file("stat-proc-self", "/proc/self", &want_st);
}

/* ---- status, through every spelling ---- */

static void check_status(void)
{
  pid_t pid = getpid();
  STATUS_CHECK("proc-self-status-pid", "Pid", pid, open("/proc/self/status", O_RDONLY));
  STATUS_CHECK("proc-self-status-ppid", "PPid", getppid(), open("/proc/self/status", O_RDONLY));
  STATUS_CHECK("proc-thread-self-status-pid", "Pid", tid(),
               open("/proc/thread-self/status", O_RDONLY));
  STATUS_CHECK("proc-self-dotdot", "Pid", pid, open("/proc/self/../self/status", O_RDONLY));
  STATUS_CHECK("proc-self-slashes-dots", "Pid", pid, open("/proc//./self/./status", O_RDONLY));
  STATUS_CHECK("proc-self-task-tid", "Pid", tid(), ({
                 char p[96];
                 snprintf(p, sizeof p, "/proc/self/task/%d/status", (int)tid());
                 open(p, O_RDONLY);
               }));

  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0) {
    fail("proc-dirfd", "open /proc: %s", strerror(errno));
  } else {
    STATUS_CHECK("openat-procfd-self", "Pid", pid, openat(procfd, "self/status", O_RDONLY));
    STATUS_CHECK("openat-procfd-thread-self", "Pid", tid(),
                 openat(procfd, "thread-self/status", O_RDONLY));
    int selffd = openat(procfd, "self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    STATUS_CHECK("openat-selfdirfd-status", "Pid", pid, openat(selffd, "status", O_RDONLY));
    if (selffd >= 0)
      close(selffd);
    /* openat2 with resolve flags: the kernel's walk of "self" in the
     * sentry's process would name the sentry */
    STATUS_CHECK("openat2-beneath-procfd-self", "Pid", pid,
                 openat2_resolve(procfd, "self/status", O_RDONLY, RESOLVE_BENEATH));
    STATUS_CHECK("openat2-no-xdev-procfd-self", "Pid", pid,
                 openat2_resolve(procfd, "self/status", O_RDONLY, RESOLVE_NO_XDEV));
    STATUS_CHECK("openat2-in-root-procfd-self", "Pid", pid,
                 openat2_resolve(procfd, "self/status", O_RDONLY, RESOLVE_IN_ROOT));
    close(procfd);
  }
  STATUS_CHECK("openat2-plain", "Pid", pid,
               openat2_resolve(AT_FDCWD, "/proc/self/status", O_RDONLY, 0));
  STATUS_CHECK("openat2-no-magiclinks-self", "Pid", pid,
               openat2_resolve(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_MAGICLINKS));
  STATUS_CHECK("openat2-no-magiclinks-thread-self", "Pid", tid(),
               openat2_resolve(AT_FDCWD, "/proc/thread-self/status", O_RDONLY,
                               RESOLVE_NO_MAGICLINKS));

  /* relative to the cwd */
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) != NULL && chdir("/proc") == 0) {
    STATUS_CHECK("cwd-proc-relative-self", "Pid", pid, open("self/status", O_RDONLY));
    if (chdir(cwd) < 0)
      note("chdir back: %s", strerror(errno));
  } else {
    fail("cwd-proc-relative-self", "chdir /proc: %s", strerror(errno));
  }

  /* through an ordinary symlink to /proc/self */
  char link[160], via[192];
  snprintf(link, sizeof link, "%s/me", tmpdir);
  snprintf(via, sizeof via, "%s/status", link);
  if (symlink("/proc/self", link) < 0)
    fail("symlink-to-proc-self", "symlink: %s", strerror(errno));
  else
    STATUS_CHECK("symlink-to-proc-self", "Pid", pid, open(via, O_RDONLY));
  unlink(link);
}

/* ---- the agent's memory and command line, not usbox's ---- */

static void expect_marker(const char *name, int fd, int err)
{
  if (fd < 0) {
    fail(name, "open failed: %s", errname(err));
    return;
  }
  uint64_t got = 0;
  ssize_t n = pread(fd, &got, sizeof got, (off_t)(uintptr_t)&marker);
  int e = errno;
  close(fd);
  check(name, n == (ssize_t)sizeof got && got == marker,
        "pread at our marker's address: %zd%s%s, value %#llx: not our memory (usbox's?)", n,
        n < 0 ? " " : "", n < 0 ? errname(e) : "", (unsigned long long)got);
}

static void check_memory_and_cmdline(void)
{
  errno = 0;
  int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  expect_marker("proc-self-mem-is-ours", fd, errno);
  errno = 0;
  fd = (int)openat2_resolve(AT_FDCWD, "/proc/self/mem", O_RDONLY | O_CLOEXEC,
                            RESOLVE_NO_MAGICLINKS);
  expect_marker("openat2-proc-self-mem-is-ours", fd, errno);

  /* cmdline: our argv as the kernel gave it (usbox's would start with
   * "usbox exec"; its environment is the agent's, so environ tells nothing) */
  char want[8192];
  size_t wlen = 0;
  for (int i = 0; i < orig_argc && wlen < sizeof want; i++) {
    size_t l = strlen(orig_argv[i]) + 1;
    if (wlen + l > sizeof want)
      break;
    memcpy(want + wlen, orig_argv[i], l);
    wlen += l;
  }
  const char *how[] = {"open", "openat2-no-magiclinks"};
  for (int k = 0; k < 2; k++) {
    char name[64];
    snprintf(name, sizeof name, "proc-self-cmdline-is-ours-%s", how[k]);
    errno = 0;
    fd = k == 0 ? open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC)
                : (int)openat2_resolve(AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC,
                                       RESOLVE_NO_MAGICLINKS);
    if (fd < 0) {
      fail(name, "open: %s", errname(errno));
      continue;
    }
    char got[8192];
    size_t glen = 0;
    ssize_t n;
    while (glen < sizeof got && (n = read(fd, got + glen, sizeof got - glen)) > 0)
      glen += (size_t)n;
    close(fd);
    bool same = glen == wlen && memcmp(got, want, wlen) == 0;
    for (size_t i = 0; i + 1 < glen; i++) /* printable, for the message */
      if (got[i] == '\0')
        got[i] = ' ';
    got[glen > 0 ? glen - 1 : 0] = '\0';
    check(name, same, "read \"%s\": another process's command line", got);
  }
}

/* ---- fds ---- */

static void check_fds(void)
{
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", tmp_fd);
  errno = 0;
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  struct stat st;
  check("proc-self-fd-same-file", fd >= 0 && fstat(fd, &st) == 0 && same_inode(&st, &tmp_st),
        "open(%s): %d %s", p, fd, fd < 0 ? errname(errno) : "(another file)");
  if (fd >= 0)
    close(fd);
  expect_same_file("stat-proc-self-fd", p, &tmp_st);
  expect_link("readlink-proc-self-fd", p, tmpfile_path);
  snprintf(p, sizeof p, "/dev/fd/%d", tmp_fd);
  expect_same_file("dev-fd-same-file", p, &tmp_st);
  snprintf(p, sizeof p, "/proc/thread-self/fd/%d", tmp_fd);
  expect_same_file("proc-thread-self-fd-same-file", p, &tmp_st);

  /* numbers the agent does not have (usbox has some of them) */
  int tried = 0, wrong = 0;
  char first_wrong[160] = "";
  for (int n = 3; n <= 20; n++) {
    if (fcntl(n, F_GETFD) >= 0)
      continue;
    tried++;
    const char *dirs[] = {"/proc/self/fd", "/dev/fd", "/proc/thread-self/fd"};
    for (int k = 0; k < 3; k++) {
      snprintf(p, sizeof p, "%s/%d", dirs[k], n);
      errno = 0;
      int o = open(p, O_RDONLY | O_CLOEXEC);
      int oe = errno;
      errno = 0;
      int s = stat(p, &st);
      int se = errno;
      char lbuf[256];
      errno = 0;
      ssize_t l = readlink(p, lbuf, sizeof lbuf - 1);
      int le = errno;
      errno = 0;
      int a = access(p, F_OK);
      int ae = errno;
      if (!(o < 0 && oe == ENOENT && s < 0 && se == ENOENT && l < 0 && le == ENOENT && a < 0 &&
            ae == ENOENT)) {
        if (wrong++ == 0) {
          if (l >= 0)
            lbuf[l] = '\0';
          snprintf(first_wrong, sizeof first_wrong,
                   "%s: open %d %s, stat %d %s, readlink %s, access %d %s", p, o, errname(oe), s,
                   errname(se), l >= 0 ? lbuf : errname(le), a, errname(ae));
        }
      }
      if (o >= 0)
        close(o);
    }
  }
  check("proc-self-fd-not-ours-is-ENOENT", tried > 0 && wrong == 0,
        "%d of %d numbers reached a file: first %s", wrong, tried * 3, first_wrong);

  /* stdio */
  const char *names[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
  for (int k = 0; k < 3; k++) {
    struct stat want;
    char name[64];
    snprintf(name, sizeof name, "dev-std%s-is-fd%d", k == 0 ? "in" : k == 1 ? "out" : "err", k);
    if (fstat(k, &want) < 0) {
      fail(name, "fstat(%d): %s", k, strerror(errno));
      continue;
    }
    expect_same_file(name, names[k], &want);
  }

  /* a pipe reopened by its /proc/self/fd link is the same pipe */
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0) {
    fail("proc-self-fd-pipe", "pipe: %s", strerror(errno));
  } else {
    snprintf(p, sizeof p, "/proc/self/fd/%d", pfd[0]);
    errno = 0;
    int r = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char c = 0;
    bool good = r >= 0 && write(pfd[1], "z", 1) == 1 && read(r, &c, 1) == 1 && c == 'z';
    check("proc-self-fd-pipe", good, "open(%s): %d %s, read '%c'", p, r,
          r < 0 ? errname(errno) : "", c ? c : '?');
    if (r >= 0)
      close(r);
    close(pfd[0]);
    close(pfd[1]);
  }
  /* sockets cannot be reopened: ENXIO, as natively */
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    fail("proc-self-fd-socket", "socketpair: %s", strerror(errno));
  } else {
    snprintf(p, sizeof p, "/proc/self/fd/%d", sv[0]);
    errno = 0;
    int r = open(p, O_RDWR | O_CLOEXEC);
    judge("proc-self-fd-socket", ERR(ENXIO), r, errno);
    if (r >= 0)
      close(r);
    close(sv[0]);
    close(sv[1]);
  }
}

/* ---- exe, cwd, root ---- */

static void check_exe_cwd_root(void)
{
  expect_link("readlink-proc-self-exe", "/proc/self/exe", exe_path);
  expect_same_file("stat-proc-self-exe", "/proc/self/exe", &exe_st);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == NULL) {
    fail("readlink-proc-self-cwd", "getcwd: %s", strerror(errno));
    return;
  }
  expect_link("readlink-proc-self-cwd", "/proc/self/cwd", cwd);
  if (chdir(tmpdir) == 0) {
    expect_link("readlink-proc-self-cwd-after-chdir", "/proc/self/cwd", tmpdir);
    struct stat st;
    errno = 0;
    int fd = open("/proc/self/cwd/file", O_RDONLY | O_CLOEXEC);
    check("open-via-proc-self-cwd", fd >= 0 && fstat(fd, &st) == 0 && same_inode(&st, &tmp_st),
          "open(/proc/self/cwd/file): %d %s", fd, fd < 0 ? errname(errno) : "(another file)");
    if (fd >= 0)
      close(fd);
    if (chdir(cwd) < 0)
      note("chdir back: %s", strerror(errno));
  } else {
    fail("readlink-proc-self-cwd-after-chdir", "chdir %s: %s", tmpdir, strerror(errno));
  }
  expect_link("readlink-proc-self-root", "/proc/self/root", "/");

  /* chdir is performed by the kernel, in the agent: it lands in our own entry */
  if (chdir("/proc/self") == 0) {
    char now[256];
    char want[64];
    snprintf(want, sizeof want, "/proc/%d", (int)getpid());
    bool good = getcwd(now, sizeof now) != NULL && strcmp(now, want) == 0;
    check("chdir-proc-self", good, "cwd %s, want %s", good ? now : "?", want);
    if (chdir(cwd) < 0)
      note("chdir back: %s", strerror(errno));
  } else {
    fail("chdir-proc-self", "chdir: %s", strerror(errno));
  }

  /* execve of /proc/self/exe runs this program again */
  pid_t pid = attack_fork();
  if (pid == 0) {
    char *argv[] = {exe_path, "--exit", "23", NULL};
    execv("/proc/self/exe", argv);
    _exit(99);
  }
  int st = pid > 0 ? wait_status(pid) : -1;
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  check("execve-proc-self-exe", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 23,
        "child %s, want exit 23", sdesc);
}

/* ---- other threads and processes of the agent ---- */

struct thread_report {
  char link[128];
  long status_pid, thread_status_pid, self_status_pid;
  pid_t tid;
};

static void *thread_main(void *arg)
{
  struct thread_report *r = arg;
  r->tid = tid();
  ssize_t n = readlink("/proc/thread-self", r->link, sizeof r->link - 1);
  r->link[n > 0 ? n : 0] = '\0';
  r->thread_status_pid = status_field(open("/proc/thread-self/status", O_RDONLY), "Pid");
  r->self_status_pid = status_field(open("/proc/self/status", O_RDONLY), "Pid");
  return NULL;
}

static void check_threads_and_children(void)
{
  struct thread_report r;
  memset(&r, 0, sizeof r);
  pthread_t t;
  if (pthread_create(&t, NULL, thread_main, &r) != 0) {
    fail("thread-proc-thread-self", "pthread_create failed");
    return;
  }
  pthread_join(t, NULL);
  char want[64];
  snprintf(want, sizeof want, "%d/task/%d", (int)getpid(), (int)r.tid);
  check("thread-readlink-thread-self", strcmp(r.link, want) == 0, "\"%s\", want \"%s\"", r.link,
        want);
  check("thread-thread-self-status", r.thread_status_pid == r.tid, "Pid %ld, want %d",
        r.thread_status_pid, (int)r.tid);
  check("thread-self-status-is-process", r.self_status_pid == getpid(), "Pid %ld, want %d",
        r.self_status_pid, (int)getpid());

  struct child_result *res = shared_result();
  pid_t pid = attack_fork();
  if (pid == 0) {
    char link[64];
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    link[n > 0 ? n : 0] = '\0';
    res->ret = status_field(open("/proc/self/status", O_RDONLY), "Pid");
    res->err = n > 0 && atoi(link) == getpid();
    res->done = 1;
    _exit(0);
  }
  int st = pid > 0 ? wait_status(pid) : -1;
  check("child-proc-self-status", st >= 0 && res->done && res->ret == pid,
        "child %d saw Pid %ld", (int)pid, res->ret);
  check("child-readlink-proc-self", st >= 0 && res->done && res->err == 1,
        "readlink(/proc/self) in child %d did not give its pid", (int)pid);
}

int main(int argc, char **argv)
{
  orig_argc = argc;
  orig_argv = malloc(sizeof(char *) * (size_t)(argc + 1));
  if (orig_argv == NULL)
    return 2;
  memcpy(orig_argv, argv, sizeof(char *) * (size_t)(argc + 1));
  attack_init(argc, argv);
  ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
  /* our own path, without /proc: argv[0] as given */
  if (realpath(argv[0], exe_path) == NULL || stat(exe_path, &exe_st) < 0) {
    fail("setup", "realpath/stat of %s: %s (readlink gave %zd)", argv[0], strerror(errno), n);
    return attack_finish("proc_escape");
  }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/usbox-proc-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) {
    fail("setup", "mkdtemp: %s", strerror(errno));
    return attack_finish("proc_escape");
  }
  snprintf(tmpfile_path, sizeof tmpfile_path, "%s/file", tmpdir);
  tmp_fd = open(tmpfile_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (tmp_fd < 0 || fstat(tmp_fd, &tmp_st) < 0) {
    fail("setup", "creating %s: %s", tmpfile_path, strerror(errno));
    return attack_finish("proc_escape");
  }

  check_self_links();
  check_status();
  check_memory_and_cmdline();
  check_fds();
  check_exe_cwd_root();
  check_threads_and_children();

  close(tmp_fd);
  unlink(tmpfile_path);
  rmdir(tmpdir);
  return attack_finish("proc_escape");
}
