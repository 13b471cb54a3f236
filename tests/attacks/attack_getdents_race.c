/* No window on listings: a thread keeps replacing the directory behind one
 * fd number (dup2) while the main thread lists that fd number with
 * getdents64 and getdents. The directory A holds a hidden name, B is
 * innocent. If usbox decided on one directory (its identity, taken with
 * pidfd_getfd) and let the kernel list the fd number again, the kernel
 * could list A unfiltered: the hidden name must never appear.
 *
 *   attack_getdents_race --dir-a A --dir-b B --hidden NAME --seen-a NAME
 *                        --seen-b NAME [--seconds S]
 *
 * seen-a and seen-b are visible names of A and B: both must be listed
 * during the race (both sides hit). Natively nothing is hidden, and the
 * hidden name appears (the detector). */
#include "attack.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <time.h>

#define SWAP_FD 200

static int fd_a, fd_b;
static atomic_bool stop;
static atomic_long swaps;

static void *swapper(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    dup2(fd_a, SWAP_FD);
    dup2(fd_b, SWAP_FD);
    atomic_fetch_add_explicit(&swaps, 1, memory_order_relaxed);
  }
  return NULL;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the legacy getdents record (x86_64): the name after reclen */
struct linux_dirent {
  unsigned long d_ino;
  unsigned long d_off;
  unsigned short d_reclen;
  char d_name[];
};

struct seen {
  bool hidden, a, b;
};

/* Walk one buffer of records; legacy says which layout. */
static void scan(const char *buf, long n, bool legacy, const char *names[3], struct seen *s)
{
  for (long off = 0; off < n;) {
    const char *name;
    unsigned short reclen;
    if (legacy) {
      const struct linux_dirent *d = (const void *)(buf + off);
      name = d->d_name;
      reclen = d->d_reclen;
    } else {
      const struct dirent64 *d = (const void *)(buf + off);
      name = d->d_name;
      reclen = d->d_reclen;
    }
    if (reclen == 0)
      break;
    s->hidden |= strcmp(name, names[0]) == 0;
    s->a |= strcmp(name, names[1]) == 0;
    s->b |= strcmp(name, names[2]) == 0;
    off += reclen;
  }
}

/* Everything fd lists from the start, through fd number n. */
static struct seen list_all(int rewind_fd, int n, bool legacy, const char *names[3])
{
  struct seen s = {0};
  char buf[4096];
  lseek(rewind_fd, 0, SEEK_SET);
  long got;
  while ((got = syscall(legacy ? SYS_getdents : SYS_getdents64, n, buf, sizeof buf)) > 0)
    scan(buf, got, legacy, names, &s);
  return s;
}

static void race(const char *names[3], double seconds)
{
  if (dup2(fd_a, SWAP_FD) < 0) {
    fail("race setup", "dup2: %s", errname(errno));
    return;
  }
  pthread_t th;
  if (pthread_create(&th, NULL, swapper, NULL) != 0) {
    fail("race setup", "pthread_create failed");
    return;
  }
  long rounds = 0, lists_a = 0, lists_b = 0, leaks = 0, leaks_legacy = 0;
  double end = now() + seconds;
  /* natively, run until both calls have shown the leak (the detector wants
   * each) and the swap has shown B (a race, not just A), or the time is up */
  while (now() < end && !(attack_native && leaks > 0 && leaks_legacy > 0 && lists_b > 0)) {
    bool legacy = rounds++ % 2;
    /* both open files rewound: whichever the fd number names is listed whole */
    lseek(fd_b, 0, SEEK_SET);
    struct seen s = list_all(fd_a, SWAP_FD, legacy, names);
    lists_a += s.a;
    lists_b += s.b;
    if (s.hidden)
      *(legacy ? &leaks_legacy : &leaks) += 1;
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("getdents race: %ld rounds, %ld swaps, %ld listings showed A, %ld showed B", rounds,
       atomic_load(&swaps), lists_a, lists_b);
  check("getdents64 race: the hidden name never listed", leaks == 0, "listed %ld times", leaks);
  check("getdents race: the hidden name never listed", leaks_legacy == 0, "listed %ld times",
        leaks_legacy);
  check("getdents race: A was listed", lists_a > 0, "never");
  check("getdents race: B was listed", lists_b > 0, "never");
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *a = NULL, *b = NULL, *names[3] = {NULL, NULL, NULL};
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir-a") == 0)
      a = argv[i + 1];
    else if (strcmp(argv[i], "--dir-b") == 0)
      b = argv[i + 1];
    else if (strcmp(argv[i], "--hidden") == 0)
      names[0] = argv[i + 1];
    else if (strcmp(argv[i], "--seen-a") == 0)
      names[1] = argv[i + 1];
    else if (strcmp(argv[i], "--seen-b") == 0)
      names[2] = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  if (a == NULL || b == NULL || names[0] == NULL || names[1] == NULL || names[2] == NULL) {
    fprintf(stderr, "usage: attack_getdents_race --dir-a A --dir-b B --hidden NAME --seen-a NAME "
                    "--seen-b NAME [--seconds S]\n");
    return 2;
  }
  fd_a = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fd_b = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_a < 0 || fd_b < 0) {
    fail("setup", "opening the directories: %s", errname(errno));
    return attack_finish("attack_getdents_race");
  }
  /* without a race: A lists its visible name, never the hidden one */
  struct seen s = list_all(fd_a, fd_a, false, names);
  check("A without a race: the hidden name is not listed", !s.hidden, "it is");
  check("A without a race: its visible name is listed", s.a, "it is not");
  race(names, seconds);
  s = list_all(fd_a, fd_a, true, names);
  check("A after the race: the hidden name is not listed", !s.hidden, "it is");
  return attack_finish("attack_getdents_race");
}
