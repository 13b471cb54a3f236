/* Races against the sentry's single read of path arguments.
 *
 * 1. flip: a thread flips a path buffer between two strings A and B while the
 *    main thread calls open, stat, lstat, newfstatat, statx, access and
 *    openat on it, for up to 100000 calls or 2 seconds. The flip is a single
 *    byte that is either '\0' (the string is A = DIR/f) or 'X' (the string
 *    is B = DIR/fX...long...), so any read of the buffer, the kernel's or the
 *    sentry's, sees A or B and nothing else; the strings are placed across a
 *    page boundary, the flipping byte at the end of the first page or at the
 *    start of the second, because the sentry reads strings page by page.
 *    Every call must return the result for A or for B (the inode, compared
 *    with stat of both made before the race); an error (ENOENT from a mixed
 *    string, ENAMETOOLONG, EFAULT, ...) is a failure. Both must be seen.
 * 2. dirfd: a thread dup2()s one of two directories over the dirfd that the
 *    main thread passes to openat; the result must be one of the two files.
 * 3. unmap: a thread unmaps, remaps (mremap of a prepared page), protects
 *    and unprotects the page holding (part of) the path while the main thread
 *    opens it: every open gives the file or EFAULT, nothing else.
 * 4. kill: children that loop on open/stat are SIGKILLed mid-call.
 * After each part, usbox must still answer (an open and a stat work).
 *
 * The same expectations hold natively (--native), which shows they are the
 * kernel's own semantics.
 *
 * usage: race [--native] [--seconds S] */
#include "attack.h"

#include <fcntl.h>
#include <linux/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>

#define PAGE 4096
#define MAX_CALLS 100000

static double race_seconds = 2.0;
static char dir[64];
static char path_a[128], path_b[512];
static struct stat st_a, st_b;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int make_file(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  close(fd);
  return 0;
}

/* ---- 1. flip ---- */

struct flip_buf {
  char *str;    /* the path string (A when *toggle == '\0') */
  char *toggle; /* the one byte that flips */
};

static atomic_bool stop_flag;

static void *flipper(void *arg)
{
  struct flip_buf *bufs = arg;
  unsigned spin = 0;
  while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
    for (int i = 0; i < 3; i++)
      __atomic_store_n(bufs[i].toggle, 'X', __ATOMIC_RELAXED);
    for (unsigned k = 0; k < (spin & 63); k++)
      __asm__ volatile("pause");
    for (int i = 0; i < 3; i++)
      __atomic_store_n(bufs[i].toggle, '\0', __ATOMIC_RELAXED);
    for (unsigned k = 0; k < ((spin * 7) & 63); k++)
      __asm__ volatile("pause");
    spin++;
  }
  return NULL;
}

struct tally {
  long calls, a, b, bad;
  char first_bad[256];
};

static void classify(struct tally *t, const char *op, long ret, int err, ino_t ino, dev_t dev)
{
  t->calls++;
  if (ret >= 0 && dev == st_a.st_dev && ino == st_a.st_ino) {
    t->a++;
  } else if (ret >= 0 && dev == st_b.st_dev && ino == st_b.st_ino) {
    t->b++;
  } else {
    if (t->bad++ == 0)
      snprintf(t->first_bad, sizeof t->first_bad, "%s returned %ld%s%s (inode %lu)", op, ret,
               ret < 0 ? " " : "", ret < 0 ? errname(err) : "", (unsigned long)ino);
  }
}

/* One call on the racing buffer, chosen by i. */
static void racing_call(struct tally *t, const char *p, long i)
{
  struct stat st;
  memset(&st, 0, sizeof st);
  long r;
  int e;
  switch (i % 7) {
  case 0: {
    r = syscall(SYS_open, p, O_RDONLY | O_CLOEXEC);
    e = errno;
    if (r >= 0) {
      fstat((int)r, &st);
      close((int)r);
    }
    classify(t, "open", r, e, st.st_ino, st.st_dev);
    break;
  }
  case 1:
    r = syscall(SYS_stat, p, &st);
    classify(t, "stat", r, errno, st.st_ino, st.st_dev);
    break;
  case 2:
    r = syscall(SYS_lstat, p, &st);
    classify(t, "lstat", r, errno, st.st_ino, st.st_dev);
    break;
  case 3:
    r = syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0);
    classify(t, "newfstatat", r, errno, st.st_ino, st.st_dev);
    break;
  case 4: {
    struct statx stx;
    memset(&stx, 0, sizeof stx);
    r = syscall(SYS_statx, AT_FDCWD, p, 0, STATX_INO, &stx);
    classify(t, "statx", r, errno, (ino_t)stx.stx_ino,
             r == 0 ? makedev(stx.stx_dev_major, stx.stx_dev_minor) : 0);
    break;
  }
  case 5:
    /* access gives no inode: a success is counted as "one of them" */
    r = syscall(SYS_access, p, R_OK);
    e = errno;
    if (r == 0)
      t->calls++; /* exists: A or B, which one it cannot say */
    else
      classify(t, "access", r, e, 0, 0);
    break;
  default: {
    r = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    e = errno;
    if (r >= 0) {
      fstat((int)r, &st);
      close((int)r);
    }
    classify(t, "openat", r, e, st.st_ino, st.st_dev);
    break;
  }
  }
}

/* Lay a path out in a fresh two-page mapping with its flipping byte at page
 * offset `toggle_off` from the boundary (-1: last byte of the first page, 0:
 * first byte of the second). */
static int layout(struct flip_buf *fb, const char *b_string, size_t toggle_index, long toggle_off)
{
  char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return -1;
  char *toggle = m + PAGE + toggle_off;
  char *start = toggle - toggle_index;
  size_t len = strlen(b_string);
  if (start < m || start + len + 1 > m + 2 * PAGE)
    return -1;
  memcpy(start, b_string, len + 1);
  start[toggle_index] = '\0'; /* begins as A */
  fb->str = start;
  fb->toggle = start + toggle_index;
  return 0;
}

static void part_flip(void)
{
  /* A = DIR/f, B = DIR/fXXXX... : the byte after "f" flips */
  size_t toggle_index = strlen(path_a);
  const char *rel_b = path_b + strlen(dir) + 1; /* "fX...", relative to DIR */
  struct flip_buf bufs[3];
  if (layout(&bufs[0], path_b, toggle_index, -1) < 0 ||
      layout(&bufs[1], path_b, toggle_index, 0) < 0 || layout(&bufs[2], rel_b, 1, -1) < 0) {
    fail("flip-setup", "laying out the buffers failed");
    return;
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == NULL || chdir(dir) < 0) {
    fail("flip-setup", "chdir %s: %s", dir, strerror(errno));
    return;
  }
  atomic_store(&stop_flag, false);
  pthread_t t;
  if (pthread_create(&t, NULL, flipper, bufs) != 0) {
    fail("flip-setup", "pthread_create failed");
    return;
  }
  struct tally tally;
  memset(&tally, 0, sizeof tally);
  double start = now();
  long i;
  for (i = 0; i < MAX_CALLS; i++) {
    racing_call(&tally, bufs[i % 3].str, i / 3);
    if ((i & 255) == 0 && now() - start > race_seconds)
      break;
  }
  double took = now() - start;
  atomic_store(&stop_flag, true);
  pthread_join(t, NULL);
  if (chdir(cwd) < 0)
    note("chdir back: %s", strerror(errno));
  note("flip: %ld calls in %.2fs: %ld A, %ld B, %ld other", tally.calls, took, tally.a, tally.b,
       tally.bad);
  check("flip-every-result-is-A-or-B", tally.bad == 0,
        "%ld of %ld calls saw neither A nor B; first: %s", tally.bad, tally.calls,
        tally.first_bad);
  check("flip-saw-both", tally.a > 0 && tally.b > 0,
        "A %ld times, B %ld times: the race never flipped the result", tally.a, tally.b);
  for (int k = 0; k < 3; k++)
    munmap((char *)((uintptr_t)bufs[k].str & ~(uintptr_t)(PAGE - 1)), 2 * PAGE);
}

/* ---- 2. dirfd swapped under openat ---- */

static int dirfd_target, dir_one, dir_two;

static void *dirfd_swapper(void *arg)
{
  while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
    dup3(dir_one, dirfd_target, O_CLOEXEC);
    dup3(dir_two, dirfd_target, O_CLOEXEC);
  }
  return NULL;
}

static void part_dirfd(void)
{
  char d1[128], d2[128], f1[160], f2[160];
  snprintf(d1, sizeof d1, "%s/d1", dir);
  snprintf(d2, sizeof d2, "%s/d2", dir);
  snprintf(f1, sizeof f1, "%s/g", d1);
  snprintf(f2, sizeof f2, "%s/g", d2);
  struct stat s1, s2;
  if (mkdir(d1, 0700) < 0 || mkdir(d2, 0700) < 0 || make_file(f1) < 0 || make_file(f2) < 0 ||
      stat(f1, &s1) < 0 || stat(f2, &s2) < 0) {
    fail("dirfd-setup", "creating %s, %s: %s", f1, f2, strerror(errno));
    return;
  }
  /* O_RDONLY, not O_PATH: O_PATH opens are checked by fd_leak */
  dir_one = open(d1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dir_two = open(d2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dirfd_target = open(d1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_one < 0 || dir_two < 0 || dirfd_target < 0) {
    fail("dirfd-setup", "opening the directories: %s", strerror(errno));
    return;
  }
  atomic_store(&stop_flag, false);
  pthread_t t;
  if (pthread_create(&t, NULL, dirfd_swapper, NULL) != 0) {
    fail("dirfd-setup", "pthread_create failed");
    return;
  }
  long calls = 0, one = 0, two = 0, bad = 0;
  char first_bad[128] = "";
  double start = now();
  while (now() - start < race_seconds / 2 && calls < MAX_CALLS / 2) {
    int fd = (int)syscall(SYS_openat, dirfd_target, "g", O_RDONLY | O_CLOEXEC);
    int e = errno;
    struct stat st;
    calls++;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == s1.st_ino && st.st_dev == s1.st_dev)
      one++;
    else if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == s2.st_ino && st.st_dev == s2.st_dev)
      two++;
    else if (bad++ == 0)
      snprintf(first_bad, sizeof first_bad, "openat returned %d%s%s", fd, fd < 0 ? " " : "",
               fd < 0 ? errname(e) : " (another file)");
    if (fd >= 0)
      close(fd);
  }
  atomic_store(&stop_flag, true);
  pthread_join(t, NULL);
  note("dirfd: %ld calls: %ld d1/g, %ld d2/g, %ld other", calls, one, two, bad);
  check("dirfd-every-result-is-one-of-the-two", bad == 0, "%ld of %ld: first: %s", bad, calls,
        first_bad);
  check("dirfd-saw-both", one > 0 && two > 0, "d1/g %ld times, d2/g %ld times", one, two);
  close(dir_one);
  close(dir_two);
  close(dirfd_target);
  unlink(f1);
  unlink(f2);
  rmdir(d1);
  rmdir(d2);
}

/* ---- 3. the page under the path goes away ---- */

static char *region;  /* two pages: the second one is the victim */
static char *staging; /* a page prepared with the victim's content */
static char victim_content[PAGE];

static void *unmapper(void *arg)
{
  char *victim = region + PAGE;
  unsigned n = 0;
  while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
    switch (n++ % 4) {
    case 0:
      munmap(victim, PAGE);
      break;
    case 1: /* back, in one step, with its content (never half-written) */
      if (mmap(staging, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) == MAP_FAILED)
        return (void *)1;
      memcpy(staging, victim_content, PAGE);
      if (mremap(staging, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, victim) == MAP_FAILED)
        return (void *)2;
      break;
    case 2:
      mprotect(victim, PAGE, PROT_NONE);
      break;
    case 3:
      mprotect(victim, PAGE, PROT_READ | PROT_WRITE);
      break;
    }
  }
  return NULL;
}

static void part_unmap(void)
{
  region = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  staging = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED || staging == MAP_FAILED) {
    fail("unmap-setup", "mmap: %s", strerror(errno));
    return;
  }
  /* path 1 crosses into the victim page; path 2 lies inside it */
  size_t len = strlen(path_a);
  char *cross = region + PAGE - len / 2;
  memcpy(cross, path_a, len + 1);
  char *inside = region + PAGE + 512;
  memcpy(inside, path_a, len + 1);
  memcpy(victim_content, region + PAGE, PAGE);

  atomic_store(&stop_flag, false);
  pthread_t t;
  if (pthread_create(&t, NULL, unmapper, NULL) != 0) {
    fail("unmap-setup", "pthread_create failed");
    return;
  }
  long calls = 0, opened = 0, efault = 0, bad = 0;
  char first_bad[128] = "";
  double start = now();
  while (now() - start < race_seconds / 2 && calls < MAX_CALLS / 2) {
    const char *p = (calls & 1) ? cross : inside;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
    int e = errno;
    struct stat st;
    calls++;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == st_a.st_ino && st.st_dev == st_a.st_dev)
      opened++;
    else if (fd < 0 && e == EFAULT)
      efault++;
    else if (bad++ == 0)
      snprintf(first_bad, sizeof first_bad, "openat(%s) returned %d%s%s",
               p == cross ? "crossing" : "inside", fd, fd < 0 ? " " : "",
               fd < 0 ? errname(e) : " (another file)");
    if (fd >= 0)
      close(fd);
  }
  atomic_store(&stop_flag, true);
  void *tret = NULL;
  pthread_join(t, &tret);
  note("unmap: %ld calls: %ld opened, %ld EFAULT, %ld other", calls, opened, efault, bad);
  check("unmap-thread-worked", tret == NULL, "mmap/mremap in the unmapping thread failed (%ld)",
        (long)(intptr_t)tret);
  check("unmap-every-result-is-file-or-EFAULT", bad == 0, "%ld of %ld: first: %s", bad, calls,
        first_bad);
  check("unmap-saw-both", opened > 0 && efault > 0, "opened %ld, EFAULT %ld", opened, efault);
  munmap(region, 2 * PAGE);
  munmap(staging, PAGE);
}

/* ---- 4. callers killed mid-call ---- */

static void part_kill(void)
{
  int killed = 0;
  for (int i = 0; i < 40; i++) {
    pid_t pid = attack_fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      for (;;) {
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path_a, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
          close(fd);
        struct stat st;
        syscall(SYS_newfstatat, AT_FDCWD, path_b, &st, 0);
      }
    }
    struct timespec ts = {0, (long)(i % 10) * 200000L};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st = wait_status(pid);
    if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
      killed++;
  }
  check("kill-mid-call", killed == 40, "%d of 40 children ended by SIGKILL", killed);
}

/* usbox still serves calls */
static void still_answers(const char *after)
{
  char name[64];
  snprintf(name, sizeof name, "usbox-answers-after-%s", after);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path_a, O_RDONLY | O_CLOEXEC);
  struct stat st, st2;
  bool good = fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == st_a.st_ino &&
              stat(path_b, &st2) == 0 && st2.st_ino == st_b.st_ino;
  check(name, good, "open(A)=%d, stat(B): %s", fd, strerror(errno));
  if (fd >= 0)
    close(fd);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      race_seconds = atof(argv[++i]);
    else {
      fprintf(stderr, "race: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  snprintf(dir, sizeof dir, "/tmp/usbox-race-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    fail("setup", "mkdtemp: %s", strerror(errno));
    return attack_finish("race");
  }
  snprintf(path_a, sizeof path_a, "%s/f", dir);
  /* B's name is long, so that B reaches well into the second page */
  char longname[230];
  memset(longname, 'b', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  snprintf(path_b, sizeof path_b, "%s/fX%s", dir, longname);
  if (make_file(path_a) < 0 || make_file(path_b) < 0 || stat(path_a, &st_a) < 0 ||
      stat(path_b, &st_b) < 0) {
    fail("setup", "creating %s and %s: %s", path_a, path_b, strerror(errno));
    return attack_finish("race");
  }

  part_flip();
  still_answers("flip");
  part_dirfd();
  still_answers("dirfd");
  part_unmap();
  still_answers("unmap");
  part_kill();
  still_answers("kill");

  unlink(path_a);
  unlink(path_b);
  rmdir(dir);
  return attack_finish("race");
}
