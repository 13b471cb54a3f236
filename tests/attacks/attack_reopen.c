/* Re-opening an inherited fd for more than it was opened for. usbox is
 * started with stdin redirected from a host file that the view does not
 * show writable (and stdout to another host file); the agent holds fd 0
 * read-only, fd 1 write-only. Through /proc/self/fd/0, /dev/stdin,
 * /dev/fd/0, /proc/thread-self/fd/0, a child's /proc/PID/fd/0 and a racing
 * dup2 the agent asks for write access, truncation or read access to
 * stdout: the kernel would grant it natively (root owns the file), usbox
 * must not. Reading stdin through /dev/stdin must still work.
 *
 *   attack_reopen --stdin-text TEXT --writable DIR [--seconds S] [--metadata]
 *
 * TEXT is the start of stdin's content; DIR a writable directory (the
 * allowed side of the dup2 race). --metadata: instead, change the file's
 * mode, times, xattrs and size through the fd the agent holds and through
 * /proc/self/fd/0 (a separate run, on another host file: these end with a
 * truncation). The script checks the host file's checksum, mode, times and
 * xattrs afterwards. Every re-open that works writes a marker into the
 * file, so the host check sees it too. */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static struct stat stdin_st;
static bool is_stdin_file(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_dev == stdin_st.st_dev && st.st_ino == stdin_st.st_ino;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The open must fail; if it gave an fd, the attack is completed (a marker
 * written) so that the host check sees it as well. */
static void must_not_open(const char *name, const char *path, int flags)
{
  errno = 0;
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0) {
    ok(name);
    return;
  }
  const char *what = is_stdin_file(fd) ? "stdin's host file" : "another file";
  if ((flags & O_ACCMODE) != O_RDONLY && write(fd, "PWNED-BY-REOPEN\n", 16) < 0) {
  }
  fail(name, "open(%s, 0%o) gave fd %d on %s", path, flags, fd, what);
  close(fd);
}

static void reopen_for_writing(void)
{
  must_not_open("open /proc/self/fd/0 O_RDWR", "/proc/self/fd/0", O_RDWR);
  must_not_open("open /proc/self/fd/0 O_WRONLY", "/proc/self/fd/0", O_WRONLY);
  must_not_open("open /proc/self/fd/0 O_RDONLY|O_TRUNC", "/proc/self/fd/0", O_RDONLY | O_TRUNC);
  must_not_open("open /dev/stdin O_WRONLY|O_TRUNC", "/dev/stdin", O_WRONLY | O_TRUNC);
  must_not_open("open /dev/stdin O_RDWR|O_APPEND", "/dev/stdin", O_RDWR | O_APPEND);
  must_not_open("open /dev/fd/0 O_RDWR", "/dev/fd/0", O_RDWR);
  must_not_open("open /proc/thread-self/fd/0 O_WRONLY|O_APPEND", "/proc/thread-self/fd/0",
                O_WRONLY | O_APPEND);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/0", (int)getpid());
  must_not_open("open /proc/<own pid>/fd/0 O_RDWR", path, O_RDWR);
  /* relative to a dirfd of /proc/self/fd */
  int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  errno = 0;
  int fd = dfd >= 0 ? openat(dfd, "0", O_WRONLY | O_CLOEXEC) : -1;
  if (check("openat(/proc/self/fd dirfd, \"0\", O_WRONLY)", fd < 0, "gave fd %d on %s", fd,
            is_stdin_file(fd) ? "stdin's host file" : "another file") == false) {
    if (write(fd, "PWNED-BY-REOPEN\n", 16) < 0) {
    }
    close(fd);
  }
  if (dfd >= 0)
    close(dfd);
  /* stdout is held write-only: no reading it back, no read-write */
  must_not_open("open /proc/self/fd/1 O_RDONLY (stdout is write-only)", "/proc/self/fd/1",
                O_RDONLY);
  must_not_open("open /dev/stdout O_RDWR", "/dev/stdout", O_RDWR);
}

static const char *in_dir(const char *dir, const char *name)
{
  static char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* A name of stdin's file in the writable directory would make it writable
 * there: a hard link must not be made (and if it is, it is written). */
static void link_in(const char *name, const char *path, long r)
{
  if (check(name, r < 0, "the link was made"))
    return;
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    note("%s: and it opened for writing (%s)", name,
         is_stdin_file(fd) ? "stdin's host file" : "another file");
    if (write(fd, "PWNED-BY-LINK\n", 14) < 0) {
    }
    close(fd);
  }
  unlink(path);
}

/* Other ways to the same object: an O_PATH fd of it, a symlink of the
 * agent's own to /proc/self/fd/0, hard links into the writable directory. */
static void reopen_indirect(const char *dir)
{
  char n[64];
  int p = open("/proc/self/fd/0", O_PATH | O_CLOEXEC);
  if (p >= 0) {
    snprintf(n, sizeof n, "/proc/self/fd/%d", p);
    must_not_open("re-open an O_PATH fd of stdin O_RDWR", n, O_RDWR);
    close(p);
  }
  const char *l = in_dir(dir, "stdin-symlink");
  unlink(l);
  if (symlink("/proc/self/fd/0", l) == 0)
    must_not_open("open my symlink to /proc/self/fd/0 O_WRONLY", l, O_WRONLY);
  l = in_dir(dir, "stdin-hardlink");
  unlink(l);
  link_in("hard link stdin's file in: linkat(/proc/self/fd/0, AT_SYMLINK_FOLLOW)", l,
          linkat(AT_FDCWD, "/proc/self/fd/0", AT_FDCWD, l, AT_SYMLINK_FOLLOW));
  link_in("hard link stdin's file in: linkat(0, \"\", AT_EMPTY_PATH)", l,
          linkat(0, "", AT_FDCWD, l, AT_EMPTY_PATH));
}

/* A child holds the same stdin; the parent goes through the child's fd. */
static void through_a_child(void)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    fail("child's fd setup", "pipe: %s", errname(errno));
    return;
  }
  pid_t pid = attack_fork();
  if (pid == 0) {
    char c;
    close(p[1]);
    if (read(p[0], &c, 1) < 0) {
    }
    _exit(0);
  }
  close(p[0]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
  must_not_open("open /proc/<child>/fd/0 O_RDWR", path, O_RDWR);
  must_not_open("open /proc/<child>/fd/0 O_WRONLY|O_TRUNC", path, O_WRONLY | O_TRUNC);
  close(p[1]);
  wait_status(pid);
}

/* ---- the dup2 race: fd 0 swapped between stdin and a writable file ---- */

static int saved_stdin, own_file;
static atomic_bool stop;
static atomic_long swaps;

static void *swapper(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    dup2(own_file, 0);
    dup2(saved_stdin, 0);
    atomic_fetch_add_explicit(&swaps, 1, memory_order_relaxed);
  }
  return NULL;
}

static void dup2_race(const char *dir, double seconds)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/reopen-own", dir);
  own_file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  saved_stdin = fcntl(0, F_DUPFD_CLOEXEC, 10);
  if (own_file < 0 || saved_stdin < 0) {
    fail("dup2 race setup", "%s: %s", path, errname(errno));
    return;
  }
  pthread_t th;
  if (pthread_create(&th, NULL, swapper, NULL) != 0) {
    fail("dup2 race setup", "pthread_create failed");
    return;
  }
  long rounds = 0, own = 0, refused = 0, leaks = 0;
  double end = now() + seconds;
  while (now() < end && !(attack_native && leaks > 0)) {
    const char *p = rounds++ % 2 ? "/proc/self/fd/0" : "/dev/stdin";
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      refused++;
      continue;
    }
    if (is_stdin_file(fd)) {
      leaks++;
      if (write(fd, "PWNED-BY-DUP2-RACE\n", 19) < 0) {
      }
    } else {
      own++;
    }
    close(fd);
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  dup2(saved_stdin, 0);
  note("dup2 race: %ld rounds, %ld swaps, %ld opened the writable file, %ld refused", rounds,
       atomic_load(&swaps), own, refused);
  check("dup2 race: stdin's host file never opened for writing", leaks == 0, "%ld times", leaks);
  check("dup2 race: the writable file was re-opened", own > 0, "never");
  check("dup2 race: a re-open was refused", refused > 0, "never");
}

/* ---- metadata through the fd the agent holds ---- */

/* The file is not writable in the view; the fd came from the host, opened
 * read-only. Its mode, times, xattrs and size must stay what they are: the
 * view shows the host read-only, and the kernel's fchmod or futimens does
 * not ask how the fd was opened. truncate comes last. */
static void metadata_through_fd(void)
{
  struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1000000000}};
  errno = 0;
  check("fchmod(0, 0666) on stdin's host file", fchmod(0, 0666) < 0, "it worked");
  check("fchmod(0, 04755) on stdin's host file", fchmod(0, 04755) < 0, "it worked");
  check("futimens(0) on stdin's host file", futimens(0, ts) < 0, "it worked");
  check("utimensat(0, \"\", AT_EMPTY_PATH) on stdin's host file",
        utimensat(0, "", ts, AT_EMPTY_PATH) < 0, "it worked");
  check("fchmodat(0, \"\", 0600, AT_EMPTY_PATH) on stdin's host file",
        syscall(SYS_fchmodat2, 0, "", 0600, AT_EMPTY_PATH) < 0, "it worked");
  check("fsetxattr(0, user.*) on stdin's host file",
        fsetxattr(0, "user.usbox-attack", "x", 1, 0) < 0, "it worked");
  check("chmod(/proc/self/fd/0, 0666)", chmod("/proc/self/fd/0", 0666) < 0, "it worked");
  check("utimensat(/proc/self/fd/0)", utimensat(AT_FDCWD, "/proc/self/fd/0", ts, 0) < 0,
        "it worked");
  check("setxattr(/proc/self/fd/0, user.*)",
        setxattr("/proc/self/fd/0", "user.usbox-attack", "x", 1, 0) < 0, "it worked");
  check("truncate(/proc/self/fd/0)", truncate("/proc/self/fd/0", 0) < 0, "it worked");
}

/* ---- what must still work ---- */

static void read_back(const char *name, const char *path, const char *text)
{
  char buf[256] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
  check(name, n >= 0 && strncmp(buf, text, strlen(text)) == 0, "%s",
        fd < 0  ? errname(errno)
        : n < 0 ? "read failed"
                : "other content");
  if (fd >= 0)
    close(fd);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *text = NULL, *dir = NULL;
  double seconds = 2.0;
  bool metadata = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--metadata") == 0)
      metadata = true;
    else if (i + 1 >= argc)
      break;
    else if (strcmp(argv[i], "--stdin-text") == 0)
      text = argv[++i];
    else if (strcmp(argv[i], "--writable") == 0)
      dir = argv[++i];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[++i]);
  }
  if (text == NULL || dir == NULL) {
    fprintf(stderr, "usage: attack_reopen --stdin-text TEXT --writable DIR [--seconds S] "
                    "[--metadata]\n");
    return 2;
  }
  if (fstat(0, &stdin_st) < 0 || !S_ISREG(stdin_st.st_mode)) {
    fail("setup", "stdin must be a regular file");
    return attack_finish("attack_reopen");
  }
  read_back("read stdin through /dev/stdin", "/dev/stdin", text);
  read_back("read stdin through /proc/self/fd/0", "/proc/self/fd/0", text);
  if (metadata) {
    metadata_through_fd();
    return attack_finish("attack_reopen");
  }
  reopen_for_writing();
  reopen_indirect(dir);
  through_a_child();
  dup2_race(dir, seconds);
  read_back("stdin still readable through /dev/fd/0 afterwards", "/dev/fd/0", text);
  return attack_finish("attack_reopen");
}
