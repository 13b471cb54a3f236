/* File descriptors across the sandbox boundary.
 *
 *  - No fd of usbox (the seccomp listener, pidfds, its root fd, its signalfd,
 *    the handoff pipes) and no fd that usbox itself inherited reaches the
 *    agent: /proc/self/fd lists 0, 1, 2 and the listing's own fd only, and
 *    fcntl(F_GETFD) says EBADF for every other number below 1024. The script
 *    passes an extra fd N to usbox (--inherited N): in the sandbox it must be
 *    closed, natively it is there (the contrast shows the script really
 *    passed one).
 *  - fds the sentry injects honour O_CLOEXEC exactly (open, openat, openat2,
 *    creat, the /proc/self/fd slow walk, O_PATH), and survive or not an
 *    execve accordingly.
 *  - injection at high numbers: each of 2000 opens gives the lowest free
 *    number (consecutive ones, in the sandbox), also when one far up is freed.
 *  - RLIMIT_NOFILE: with a limit of 64, opens fail with EMFILE exactly at
 *    the limit, again and again, without side effects (O_CREAT creates
 *    nothing, O_TRUNC truncates nothing, as natively: the kernel takes the fd
 *    number before it opens), and usbox keeps working.
 *
 * usage: fd_leak [--native] [--inherited N]
 *        fd_leak --exec-child KEEP DROP INO   (internal: after execve) */
#include "attack.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef __NR_openat2
#define __NR_openat2 437
#endif

static char dir[64];
static char file[128];
static struct stat file_st;

static bool fd_open(int fd)
{
  return fcntl(fd, F_GETFD) >= 0;
}

/* ---- nothing inherited ---- */

static void check_listing(int inherited)
{
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) {
    fail("proc-self-fd-lists-only-stdio", "opendir /proc/self/fd: %s", strerror(errno));
    return;
  }
  int own = dirfd(d);
  char extra[512] = "";
  size_t used = 0;
  int n_extra = 0;
  bool saw_inherited = false;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    int fd = atoi(de->d_name);
    if (fd == inherited)
      saw_inherited = true;
    if (fd <= 2 || fd == own || (attack_native && fd == inherited))
      continue;
    char target[256] = "?";
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 1] = '\0';
    if (used < sizeof extra - 1)
      used += (size_t)snprintf(extra + used, sizeof extra - used, " %d -> %s;", fd, target);
    n_extra++;
  }
  closedir(d);
  if (attack_native) {
    if (inherited >= 0)
      check("inherited-fd-present-native", saw_inherited,
            "fd %d given by the script is not open natively", inherited);
    return;
  }
  check("proc-self-fd-lists-only-stdio", n_extra == 0, "%d extra fds open:%s", n_extra, extra);
  if (inherited >= 0)
    check("inherited-fd-closed", !saw_inherited && !fd_open(inherited),
          "fd %d that usbox inherited reached the agent", inherited);
  /* the same without /proc: every number below 1024 */
  char open_fds[256] = "";
  used = 0;
  for (int fd = 3; fd < 1024; fd++)
    if (fd_open(fd) && used < sizeof open_fds - 1)
      used += (size_t)snprintf(open_fds + used, sizeof open_fds - used, " %d", fd);
  check("fcntl-finds-no-fd-above-2", used == 0, "open fds:%s", open_fds);
}

/* ---- O_CLOEXEC ---- */

static void expect_cloexec(const char *name, int fd, int err, bool want)
{
  if (fd < 0) {
    fail(name, "open failed: %s", errname(err));
    return;
  }
  int flags = fcntl(fd, F_GETFD);
  struct stat st;
  bool same = fstat(fd, &st) == 0;
  check(name, flags >= 0 && ((flags & FD_CLOEXEC) != 0) == want && same,
        "F_GETFD = %d (FD_CLOEXEC %s), want it %s", flags,
        flags >= 0 && (flags & FD_CLOEXEC) ? "set" : "clear", want ? "set" : "clear");
  close(fd);
}

#define OPEN_CHECK(name, want, expr)                                                               \
  do {                                                                                             \
    errno = 0;                                                                                     \
    int fd_ = (int)(expr);                                                                         \
    expect_cloexec(name, fd_, errno, want);                                                        \
  } while (0)

static long openat2_flags(int dirfd, const char *path, int flags)
{
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)flags;
  return syscall(__NR_openat2, dirfd, path, &how, sizeof how);
}

static void check_cloexec(void)
{
  OPEN_CHECK("open-cloexec", true, syscall(SYS_open, file, O_RDONLY | O_CLOEXEC, 0));
  OPEN_CHECK("open-no-cloexec", false, syscall(SYS_open, file, O_RDONLY, 0));
  OPEN_CHECK("openat-cloexec", true, syscall(SYS_openat, AT_FDCWD, file, O_RDWR | O_CLOEXEC, 0));
  OPEN_CHECK("openat-no-cloexec", false, syscall(SYS_openat, AT_FDCWD, file, O_RDWR, 0));
  OPEN_CHECK("openat2-cloexec", true, openat2_flags(AT_FDCWD, file, O_RDONLY | O_CLOEXEC));
  OPEN_CHECK("openat2-no-cloexec", false, openat2_flags(AT_FDCWD, file, O_RDONLY));
  char created[160];
  snprintf(created, sizeof created, "%s/created", dir);
  OPEN_CHECK("creat-no-cloexec", false, syscall(SYS_creat, created, 0600));
  OPEN_CHECK("open-ocreat-cloexec", true,
             syscall(SYS_open, created, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  unlink(created);
  OPEN_CHECK("opendir-cloexec", true,
             syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  OPEN_CHECK("opendir-no-cloexec", false,
             syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY, 0));
  /* without O_CREAT/O_TMPFILE the kernel ignores the mode argument (raw
   * syscall users such as Go pass one anyway), directories included */
  OPEN_CHECK("opendir-mode-arg-ignored", true,
             syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0755));
  OPEN_CHECK("open-mode-arg-ignored", true, syscall(SYS_open, file, O_RDONLY | O_CLOEXEC, 0644));
  /* through the slow walk: our own fd, by /proc/self/fd/N */
  int held = open(file, O_RDONLY | O_CLOEXEC);
  char self_path[64];
  snprintf(self_path, sizeof self_path, "/proc/self/fd/%d", held);
  OPEN_CHECK("proc-self-fd-cloexec", true, syscall(SYS_open, self_path, O_RDONLY | O_CLOEXEC, 0));
  OPEN_CHECK("proc-self-fd-no-cloexec", false, syscall(SYS_open, self_path, O_RDONLY, 0));
  close(held);
  /* O_PATH: a descriptor for the path only, opened like any other */
  OPEN_CHECK("opath-cloexec", true, syscall(SYS_open, file, O_PATH | O_CLOEXEC, 0));
  OPEN_CHECK("opath-no-cloexec", false, syscall(SYS_open, file, O_PATH, 0));
  OPEN_CHECK("opath-dir", true,
             syscall(SYS_openat, AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
}

/* fds without O_CLOEXEC survive execve, those with it do not. */
static void check_exec(const char *self)
{
  int keep = (int)syscall(SYS_open, file, O_RDONLY, 0);
  int drop = (int)syscall(SYS_open, file, O_RDONLY | O_CLOEXEC, 0);
  if (keep < 0 || drop < 0) {
    fail("exec-honours-cloexec", "open: %s", strerror(errno));
    return;
  }
  char k[16], dr[16], ino[32];
  snprintf(k, sizeof k, "%d", keep);
  snprintf(dr, sizeof dr, "%d", drop);
  snprintf(ino, sizeof ino, "%lu", (unsigned long)file_st.st_ino);
  pid_t pid = attack_fork();
  if (pid == 0) {
    char *argv[] = {(char *)self, "--exec-child", k, dr, ino, NULL};
    execv(self, argv);
    _exit(99);
  }
  int st = pid > 0 ? wait_status(pid) : -1;
  char sdesc[64];
  describe_status(sdesc, sizeof sdesc, st);
  check("exec-honours-cloexec", st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
        "after execve: %s (1: the fd without O_CLOEXEC is gone or another file, 2: the fd "
        "with O_CLOEXEC survived, 99: execve failed)",
        sdesc);
  close(keep);
  close(drop);
}

static int exec_child(char **argv)
{
  int keep = atoi(argv[0]), drop = atoi(argv[1]);
  unsigned long ino = strtoul(argv[2], NULL, 10);
  struct stat st;
  if (fstat(keep, &st) < 0 || st.st_ino != ino)
    return 1;
  if (fd_open(drop))
    return 2;
  return 0;
}

/* ---- many fds ---- */

static int raise_nofile(rlim_t want)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    return -1;
  if (rl.rlim_cur >= want)
    return 0;
  if (rl.rlim_max < want)
    rl.rlim_max = want; /* root may raise the hard limit */
  rl.rlim_cur = want;
  return setrlimit(RLIMIT_NOFILE, &rl);
}

static void check_many(void)
{
  enum { N = 2000 };
  if (raise_nofile(N + 100) < 0) {
    fail("open-2000-fds", "cannot raise RLIMIT_NOFILE to %d: %s", N + 100, strerror(errno));
    return;
  }
  static int fds[N];
  int opened = 0, not_lowest = 0, wrong_file = 0, err = 0;
  int lowest = 0; /* the lowest free number: what the next open must give */
  for (int i = 0; i < N; i++) {
    while (fd_open(lowest))
      lowest++;
    fds[i] = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    if (fds[i] < 0) {
      err = errno;
      break;
    }
    opened++;
    if (fds[i] != lowest)
      not_lowest++;
    struct stat st;
    if (fstat(fds[i], &st) < 0 || st.st_ino != file_st.st_ino)
      wrong_file++;
  }
  check("open-2000-fds", opened == N && not_lowest == 0 && wrong_file == 0,
        "%d opened (stopped by %s), %d not the lowest free number, %d not the file", opened,
        opened < N ? errname(err) : "nothing", not_lowest, wrong_file);
  if (opened == N) {
    check("high-fd-numbers", fds[N - 1] >= N, "last fd %d", fds[N - 1]);
    /* the lowest free number is reused, even far up */
    int hole = fds[1500];
    close(hole);
    int again = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    check("lowest-free-fd-reused", again == hole, "closed %d, open returned %d", hole, again);
    if (again >= 0 && again != hole)
      close(again);
    fds[1500] = -1;
  }
  for (int i = 0; i < opened; i++)
    if (fds[i] >= 0)
      close(fds[i]);
}

static void check_emfile(void)
{
  struct rlimit saved;
  getrlimit(RLIMIT_NOFILE, &saved);
  struct rlimit small = {64, saved.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &small) < 0) {
    fail("emfile-at-limit", "setrlimit 64: %s", strerror(errno));
    return;
  }
  int fds[80];
  int n = 0, err = 0;
  while (n < 80) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
      break;
    }
    fds[n++] = fd;
  }
  check("emfile-at-limit", n > 0 && n < 80 && err == EMFILE && fds[n - 1] == 63,
        "%d opened, last fd %d, then %s; want EMFILE after fd 63", n, n > 0 ? fds[n - 1] : -1,
        errname(err));
  /* again and again: the sentry must not lose an fd or its footing each time */
  int other = 0;
  int first_other = 0;
  for (int i = 0; i < 500; i++) {
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
      close(fd);
      other++;
    } else if (errno != EMFILE && other++ == 0) {
      first_other = errno;
    }
  }
  check("emfile-repeated", other == 0, "%d of 500 opens at the limit did not fail with EMFILE "
        "(first: %s)", other, first_other ? errname(first_other) : "success");

  /* no side effects when no fd can be had */
  char created[160];
  snprintf(created, sizeof created, "%s/emfile-created", dir);
  errno = 0;
  long r = syscall(SYS_openat, AT_FDCWD, created, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int e = errno;
  struct stat st;
  bool exists = stat(created, &st) == 0;
  check("emfile-ocreat-creates-nothing", r == -1 && e == EMFILE && !exists,
        "open(O_CREAT|O_EXCL) at the limit: %ld %s, and the file %s", r, errname(e),
        exists ? "was created anyway (a retry with O_EXCL now fails with EEXIST)"
               : "does not exist");
  unlink(created);
  errno = 0;
  r = syscall(SYS_openat, AT_FDCWD, file, O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
  e = errno;
  bool kept = stat(file, &st) == 0 && st.st_size > 0;
  check("emfile-otrunc-truncates-nothing", r == -1 && e == EMFILE && kept,
        "open(O_TRUNC) at the limit: %ld %s, and the file %s", r, errname(e),
        kept ? "kept its content" : "was truncated anyway (data lost)");

  /* one fd free again: the next open gets it */
  if (n > 0) {
    int last = fds[--n];
    close(last);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
    check("open-after-emfile", fd == last, "closed %d, open returned %d (%s)", last, fd,
          fd < 0 ? strerror(errno) : "ok");
    if (fd >= 0)
      close(fd);
  }
  for (int i = 0; i < n; i++)
    close(fds[i]);
  setrlimit(RLIMIT_NOFILE, &saved);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
  check("usbox-answers-after-emfile", fd >= 0 && fstat(fd, &st) == 0 &&
                                          st.st_ino == file_st.st_ino,
        "open: %d %s", fd, fd < 0 ? strerror(errno) : "");
  if (fd >= 0)
    close(fd);
}

int main(int argc, char **argv)
{
  if (argc == 5 && strcmp(argv[1], "--exec-child") == 0)
    return exec_child(argv + 2);
  argc = attack_init(argc, argv);
  int inherited = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--inherited") == 0 && i + 1 < argc)
      inherited = atoi(argv[++i]);
    else {
      fprintf(stderr, "fd_leak: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  /* first, before this program opens anything */
  check_listing(inherited);

  snprintf(dir, sizeof dir, "/tmp/usbox-fd-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    fail("setup", "mkdtemp: %s", strerror(errno));
    return attack_finish("fd_leak");
  }
  snprintf(file, sizeof file, "%s/file", dir);
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, "content\n", 8) != 8 || fstat(fd, &file_st) < 0) {
    fail("setup", "creating %s: %s", file, strerror(errno));
    return attack_finish("fd_leak");
  }
  close(fd);

  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fail("setup", "readlink /proc/self/exe: %s", strerror(errno));
    return attack_finish("fd_leak");
  }
  self[n] = '\0';

  check_cloexec();
  check_exec(self);
  check_many();
  check_emfile();

  unlink(file);
  rmdir(dir);
  return attack_finish("fd_leak");
}
