/* /proc as a way out of the view. The sentry walks /proc itself; a mistake
 * there would resolve a path as the sentry or the gofer (host processes),
 * or follow a host process's magic links out of the view.
 *
 *  - /proc/1/root, /proc/1/cwd, /proc/PPID/... (host processes do not
 *    exist in the sandbox's pid namespace; its PID 1, the agent's parent,
 *    is usbox's init, not the agent's to inspect): open, chdir, openat2
 *    through them fail with EACCES;
 *    nothing under them reaches /etc/shadow;
 *  - /proc/self/mem reached by many spellings (openat2 with RESOLVE flags,
 *    /proc/thread-self, /dev/fd/.., /proc/self/root/proc/self, a dirfd of
 *    /proc) is the agent's own memory: its bytes at the address of a marker
 *    are the marker; opened for writing, a write changes the agent's marker;
 *  - the memory of processes outside the sandbox (usbox) cannot be opened;
 *  - a child of the agent is in the sandbox: its /proc links are its view.
 *
 *   view_proc_escape [--native] [--shadow-id DEV:INO]
 *
 * With --native the checks that show what the kernel allows without the
 * sandbox run instead (e.g. /proc/1/root/etc/shadow opens as root). */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static char marker[64] __attribute__((aligned(64))) = "VIEW-PROC-MARKER-0123456789";
static dev_t shadow_dev;
static ino_t shadow_ino;
static bool have_shadow_id;

static long do_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
  struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC, .mode = 0, .resolve = resolve};
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* An fd that must not be /etc/shadow. */
static bool is_shadow(int fd)
{
  struct stat st;
  return have_shadow_id && fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == shadow_dev &&
         st.st_ino == shadow_ino;
}

/* A path call that the sandbox must refuse (with want, if not 0), that
 * natively (as root) succeeds. */
static void refused(const char *name, long r, int err, int want)
{
  char n[512];
  snprintf(n, sizeof n, "%s", name);
  if (attack_native) {
    note("natively, %s: %s", n, r >= 0 ? "succeeds" : errname(err));
  } else if (want != 0) {
    judge(n, ERR(want), r, err);
  } else {
    check(n, r < 0, "succeeded (%ld)", r);
  }
  if (r >= 0 && !attack_native && r > 2 && r < 65536)
    close((int)r);
}

static void host_process_links(pid_t pid, const char *who)
{
  char p[256], n[512];
  static const char *const subs[] = {"root/etc/shadow", "root", "cwd", "root/etc/hostname",
                                     "task/PID/root/etc/shadow", "fd/0", "exe", NULL};
  for (int i = 0; subs[i] != NULL; i++) {
    char sub[128];
    if (strncmp(subs[i], "task/PID/", 9) == 0)
      snprintf(sub, sizeof sub, "task/%d/%s", (int)pid, subs[i] + 9);
    else
      snprintf(sub, sizeof sub, "%s", subs[i]);
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, sub);
    errno = 0;
    long r = open(p, O_RDONLY | O_CLOEXEC);
    int e = errno;
    if (r >= 0 && is_shadow((int)r) && !attack_native) {
      fail("host /proc magic link", "open(%s) is /etc/shadow", p);
      close((int)r);
      continue;
    }
    snprintf(n, sizeof n, "open %s of %s", sub, who);
    refused(n, r, e, EACCES);
    /* openat2 with every resolve flag that could matter */
    static const unsigned long long flags[] = {0, RESOLVE_NO_MAGICLINKS, RESOLVE_IN_ROOT};
    for (int f = 0; f < 3; f++) {
      errno = 0;
      r = do_openat2(AT_FDCWD, p, O_RDONLY, flags[f]);
      e = errno;
      if (r >= 0 && is_shadow((int)r) && !attack_native) {
        fail("host /proc magic link", "openat2(%s, resolve=%llx) is /etc/shadow", p, flags[f]);
        close((int)r);
        continue;
      }
      if (!attack_native) {
        snprintf(n, sizeof n, "openat2 %s of %s resolve=0x%llx", sub, who, flags[f]);
        check(n, r < 0, "succeeded");
        if (r >= 0)
          close((int)r);
      } else if (r >= 0) {
        close((int)r);
      }
    }
  }
  /* chdir and a dirfd of /proc/PID */
  snprintf(p, sizeof p, "/proc/%d/root", (int)pid);
  errno = 0;
  long r = chdir(p);
  int e = errno;
  snprintf(n, sizeof n, "chdir %s of %s", "root", who);
  refused(n, r, e, EACCES);
  if (r == 0) {
    int fd = open("etc/shadow", O_RDONLY | O_CLOEXEC);
    if (!attack_native)
      check("after chdir into a host root, etc/shadow is not there", fd < 0 || !is_shadow(fd),
            "it is /etc/shadow");
    if (fd >= 0)
      close(fd);
    if (chdir("/") < 0) {
    }
  }
  snprintf(p, sizeof p, "/proc/%d", (int)pid);
  int pd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pd >= 0) {
    errno = 0;
    r = openat(pd, "root/etc/shadow", O_RDONLY | O_CLOEXEC);
    e = errno;
    snprintf(n, sizeof n, "openat(/proc/%s dirfd, root/etc/shadow)", who);
    refused(n, r, e, EACCES);
    errno = 0;
    r = do_openat2(pd, "root/etc/shadow", O_RDONLY, RESOLVE_BENEATH);
    e = errno;
    if (!attack_native) {
      snprintf(n, sizeof n, "openat2(/proc/%s dirfd, root/etc/shadow, RESOLVE_BENEATH)", who);
      check(n, r < 0, "succeeded");
    }
    if (r >= 0)
      close((int)r);
    close(pd);
  } else if (attack_native) {
    fail("dirfd of /proc/PID", "open %s: %s", p, errname(errno));
  } else {
    snprintf(n, sizeof n, "dirfd of /proc/PID of %s", who);
    judge(n, ERR(EACCES), -1, errno);
  }
}

/* fd must be the agent's own memory: read the marker through it, then, if
 * it is writable, write a new marker and see it in our own memory. */
static void check_mem_fd(const char *name, int fd, bool writable)
{
  char buf[sizeof marker];
  ssize_t n = pread(fd, buf, sizeof buf, (off_t)(uintptr_t)marker);
  if (!check(name, n == (ssize_t)sizeof buf && memcmp(buf, marker, sizeof buf) == 0,
             "pread at the marker's address gave %zd bytes%s", n,
             n > 0 ? " that are not the marker" : ""))
    return;
  if (writable) {
    char fresh[sizeof marker];
    snprintf(fresh, sizeof fresh, "WRITTEN-THROUGH-MEM-%d", (int)getpid());
    n = pwrite(fd, fresh, strlen(fresh) + 1, (off_t)(uintptr_t)marker);
    char wname[600];
    snprintf(wname, sizeof wname, "%s: a write lands in the agent's memory", name);
    __asm__ volatile("" ::: "memory");
    check(wname, n == (ssize_t)strlen(fresh) + 1 && strcmp(marker, fresh) == 0,
          "pwrite gave %zd, marker now \"%.30s\"", n, marker);
    snprintf(marker, sizeof marker, "VIEW-PROC-MARKER-0123456789");
  }
}

static void self_mem(void)
{
  char p[256];
  pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
  int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int selffd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0 || selffd < 0) {
    fail("open /proc", "%s", errname(errno));
    return;
  }
  struct {
    const char *name;
    int dirfd;
    const char *path;
    unsigned long long resolve;
    bool via_openat2;
  } ways[] = {
      {"open /proc/self/mem", AT_FDCWD, "/proc/self/mem", 0, false},
      {"open /proc/thread-self/mem", AT_FDCWD, "/proc/thread-self/mem", 0, false},
      {"open /proc/PID/mem", AT_FDCWD, NULL, 0, false},
      {"open /proc/self/task/TID/mem", AT_FDCWD, NULL, 0, false},
      {"open /dev/fd/../mem", AT_FDCWD, "/dev/fd/../mem", 0, false},
      {"open /proc/self/root/proc/self/mem", AT_FDCWD, "/proc/self/root/proc/self/mem", 0, false},
      {"open /proc/self/cwd/../../../../proc/self/mem", AT_FDCWD,
       "/proc/self/cwd/../../../../../../../../proc/self/mem", 0, false},
      {"openat(/proc, self/mem)", procfd, "self/mem", 0, false},
      {"openat(/proc/self, mem)", selffd, "mem", 0, false},
      {"openat2 /proc/self/mem resolve=0", AT_FDCWD, "/proc/self/mem", 0, true},
      {"openat2 /proc/self/mem RESOLVE_NO_MAGICLINKS", AT_FDCWD, "/proc/self/mem",
       RESOLVE_NO_MAGICLINKS, true},
      {"openat2(/proc, self/mem, RESOLVE_NO_XDEV)", procfd, "self/mem", RESOLVE_NO_XDEV, true},
      {"openat2(/proc, self/mem, RESOLVE_BENEATH)", procfd, "self/mem", RESOLVE_BENEATH, true},
      {"openat2(/proc, /self/mem, RESOLVE_IN_ROOT)", procfd, "/self/mem", RESOLVE_IN_ROOT, true},
      {"openat2(/proc, thread-self/mem, RESOLVE_BENEATH)", procfd, "thread-self/mem",
       RESOLVE_BENEATH, true},
      {"openat2(/proc/self, mem, RESOLVE_BENEATH)", selffd, "mem", RESOLVE_BENEATH, true},
  };
  char pidmem[64], taskmem[64];
  snprintf(pidmem, sizeof pidmem, "/proc/%d/mem", (int)pid);
  snprintf(taskmem, sizeof taskmem, "/proc/self/task/%d/mem", (int)tid);
  ways[2].path = pidmem;
  ways[3].path = taskmem;
  int write_refusals = 0;
  for (size_t i = 0; i < sizeof ways / sizeof ways[0]; i++) {
    for (int w = 0; w < 2; w++) {
      int flags = w ? O_RDWR : O_RDONLY;
      errno = 0;
      long fd = ways[i].via_openat2 ? do_openat2(ways[i].dirfd, ways[i].path, flags, ways[i].resolve)
                                    : openat(ways[i].dirfd, ways[i].path, flags | O_CLOEXEC);
      int e = errno;
      char name[300];
      snprintf(name, sizeof name, "%s %s", ways[i].name, w ? "O_RDWR" : "O_RDONLY");
      if (fd >= 0) {
        check_mem_fd(name, (int)fd, w != 0);
        close((int)fd);
      } else if (w) {
        /* /proc is read-only in the view: a refusal to write is safe */
        check(name, e == EROFS || e == EACCES, "failed with %s", errname(e));
        if ((e == EROFS || e == EACCES) && write_refusals++ == 0)
          note("%s: %s (/proc is read-only in the view: writes to the agent's own memory "
               "through it are refused)", name, errname(e));
      } else {
        fail(name, "failed with %s; the agent's own memory must open", errname(e));
      }
    }
  }
  /* RESOLVE_NO_SYMLINKS: /proc/self is a symlink, natively ELOOP */
  errno = 0;
  long r = do_openat2(AT_FDCWD, "/proc/self/mem", O_RDONLY, RESOLVE_NO_SYMLINKS);
  judge("openat2 /proc/self/mem RESOLVE_NO_SYMLINKS", ERR(ELOOP), r, errno);
  if (r >= 0)
    close((int)r);
  snprintf(p, sizeof p, "/proc/%d/mem", (int)pid);
  errno = 0;
  r = do_openat2(AT_FDCWD, "/proc/self/root/proc/self/mem", O_RDONLY, RESOLVE_NO_MAGICLINKS);
  judge("openat2 /proc/self/root/... RESOLVE_NO_MAGICLINKS", ERR(ELOOP), r, errno);
  if (r >= 0)
    close((int)r);
  errno = 0;
  r = do_openat2(AT_FDCWD, "/proc/self/mem", O_RDONLY, RESOLVE_NO_XDEV);
  judge("openat2 /proc/self/mem RESOLVE_NO_XDEV (/proc is another mount)", ERR(EXDEV), r, errno);
  if (r >= 0)
    close((int)r);
  errno = 0;
  r = do_openat2(procfd, "self/root/etc/hostname", O_RDONLY, RESOLVE_BENEATH);
  judge("openat2(/proc, self/root/..., RESOLVE_BENEATH)", ERR(EXDEV), r, errno);
  if (r >= 0)
    close((int)r);
  close(procfd);
  close(selffd);
}

static void foreign_mem(pid_t pid, const char *who)
{
  char p[64], n[256];
  snprintf(p, sizeof p, "/proc/%d/mem", (int)pid);
  errno = 0;
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  int e = errno;
  snprintf(n, sizeof n, "the memory of %s cannot be opened", who);
  if (attack_native) {
    note("natively, open %s: %s", p, fd >= 0 ? "opened" : errname(e));
  } else {
    /* if it opens, show what it gives: the first bytes of its first mapping */
    char mpath[64], line[256] = "", buf[4] = {0};
    ssize_t got = -1;
    unsigned long long start = 0;
    snprintf(mpath, sizeof mpath, "/proc/%d/maps", (int)pid);
    FILE *maps = fd >= 0 ? fopen(mpath, "re") : NULL;
    if (maps != NULL) {
      if (fgets(line, sizeof line, maps) != NULL && sscanf(line, "%llx-", &start) == 1)
        got = pread(fd, buf, sizeof buf, (off_t)start);
      fclose(maps);
    }
    check(n, fd < 0, "open(%s) succeeded; pread at %#llx gave %zd bytes%s", p, start, got,
          got == 4 && memcmp(buf, "\x7f" "ELF", 4) == 0 ? " (\\x7fELF: the program's ELF header)" : "");
  }
  if (fd >= 0)
    close(fd);
  snprintf(p, sizeof p, "/proc/%d/task/%d/mem", (int)pid, (int)pid);
  errno = 0;
  fd = open(p, O_RDONLY | O_CLOEXEC);
  snprintf(n, sizeof n, "the memory of %s cannot be opened through task/", who);
  if (!attack_native)
    check(n, fd < 0, "open(%s) succeeded", p);
  if (fd >= 0)
    close(fd);
}

static void child_links(void)
{
  int pfd[2];
  if (pipe(pfd) < 0)
    return;
  pid_t c = attack_fork();
  if (c == 0) {
    close(pfd[1]);
    char b;
    if (read(pfd[0], &b, 1) < 0) {
    }
    _exit(0);
  }
  close(pfd[0]);
  char p[128], buf[PATH_MAX];
  snprintf(p, sizeof p, "/proc/%d/root", (int)c);
  ssize_t n = readlink(p, buf, sizeof buf - 1);
  if (n >= 0)
    buf[n] = '\0';
  check("a child's /proc/PID/root is the view root", n == 1 && buf[0] == '/', "readlink gave %s",
        n < 0 ? errname(errno) : buf);
  snprintf(p, sizeof p, "/proc/%d/root/etc/shadow", (int)c);
  errno = 0;
  long r = open(p, O_RDONLY | O_CLOEXEC);
  int e = errno;
  if (attack_native)
    judge("a child's root/etc/shadow", SUCCEEDS, r, e);
  else
    judge("a child's root/etc/shadow is hidden", ERR(ENOENT), r, e);
  if (r >= 0)
    close((int)r);
  snprintf(p, sizeof p, "/proc/%d/mem", (int)c);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    check_mem_fd("a child's /proc/PID/mem is its memory (a copy of ours)", fd, false);
    close(fd);
  } else {
    fail("a child's /proc/PID/mem", "open: %s", errname(errno));
  }
  close(pfd[1]);
  wait_status(c);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--shadow-id") == 0) {
      unsigned long long d, ino;
      if (sscanf(argv[i + 1], "%llu:%llu", &d, &ino) == 2) {
        shadow_dev = (dev_t)d;
        shadow_ino = (ino_t)ino;
        have_shadow_id = true;
      }
    }
  }
  /* a symlink to /proc/1/root in a writable place (the cwd) */
  unlink("p1root");
  if (symlink("/proc/1/root", "p1root") == 0) {
    errno = 0;
    long r = open("p1root/etc/shadow", O_RDONLY | O_CLOEXEC);
    refused("open through a symlink to /proc/1/root", r, errno, EACCES);
    unlink("p1root");
  } else {
    fail("symlink to /proc/1/root", "%s (the cwd must be writable)", errname(errno));
  }
  host_process_links(1, "PID 1");
  host_process_links(getppid(), "usbox (the parent)");
  self_mem();
  foreign_mem(getppid(), "usbox (the parent)");
  foreign_mem(1, "PID 1");
  child_links();
  return attack_finish("view_proc_escape");
}
