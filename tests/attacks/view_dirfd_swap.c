/* dirfd swap race: a thread keeps replacing the directory behind one fd
 * number (dup2) while the main thread makes *at calls relative to that fd
 * number. The sentry takes the directory's identity (pidfd_getfd) and its
 * view path (/proc/TID/fd/N) separately; if it ever combined the identity
 * of one with the path of the other, a name that is forbidden under one
 * directory would be resolved under the other's rules.
 *
 *   view_dirfd_swap --dir-a A --dir-b B --name REL --forbidden-id DEV:INO
 *                   --kind hidden|readonly [--secret S] [--seconds S]
 *
 * A/REL is an ordinary writable file holding ALLOWED-CONTENT. B/REL is the
 * forbidden file: hidden (kind hidden: never opened or stat'ed, its secret
 * never read) or on a read-only bind (kind readonly: never opened for
 * writing, truncated or unlinked). Both sides must be hit. */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>

#define SWAP_FD 100

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

static const char allowed_content[] = "ALLOWED-CONTENT\n";

static void restore(int dirfd, const char *name)
{
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, allowed_content, sizeof allowed_content - 1) < 0) {
    }
    close(fd);
  }
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *a = NULL, *b = NULL, *name = NULL, *idtext = NULL, *kind = NULL, *secret = NULL;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir-a") == 0)
      a = argv[i + 1];
    else if (strcmp(argv[i], "--dir-b") == 0)
      b = argv[i + 1];
    else if (strcmp(argv[i], "--name") == 0)
      name = argv[i + 1];
    else if (strcmp(argv[i], "--forbidden-id") == 0)
      idtext = argv[i + 1];
    else if (strcmp(argv[i], "--kind") == 0)
      kind = argv[i + 1];
    else if (strcmp(argv[i], "--secret") == 0)
      secret = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  unsigned long long dev_u, ino_u;
  if (a == NULL || b == NULL || name == NULL || idtext == NULL || kind == NULL ||
      sscanf(idtext, "%llu:%llu", &dev_u, &ino_u) != 2) {
    fprintf(stderr, "usage: view_dirfd_swap --dir-a A --dir-b B --name REL --forbidden-id DEV:INO "
                    "--kind hidden|readonly [--secret S] [--seconds S]\n");
    return 2;
  }
  bool hidden = strcmp(kind, "hidden") == 0;
  dev_t fdev = (dev_t)dev_u;
  ino_t fino = (ino_t)ino_u;
  fd_a = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  fd_b = open(b, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_a < 0 || fd_b < 0) {
    fail("setup", "opening the directories: %s", errname(errno));
    return attack_finish("view_dirfd_swap");
  }
  restore(fd_a, name);
  struct stat st;
  int r = fstatat(fd_b, name, &st, 0);
  if (hidden)
    check("B/REL is hidden without a race", r < 0 && errno == ENOENT, "fstatat gave %s",
          r == 0 ? "success" : errname(errno));
  else
    check("B/REL is the read-only file without a race", r == 0 && st.st_dev == fdev && st.st_ino == fino,
          "fstatat gave %s", r == 0 ? "another inode" : errname(errno));

  if (dup2(fd_a, SWAP_FD) < 0) {
    fail("setup", "dup2: %s", errname(errno));
    return attack_finish("view_dirfd_swap");
  }
  pthread_t th;
  if (pthread_create(&th, NULL, swapper, NULL) != 0) {
    fail("swapper thread", "pthread_create failed");
    return attack_finish("view_dirfd_swap");
  }
  long reached = 0, refused = 0, violations = 0, rounds = 0, unlinked = 0;
  char first[256] = "";
#define VIOLATION(...)                                                                             \
  do {                                                                                             \
    if (violations++ == 0)                                                                         \
      snprintf(first, sizeof first, __VA_ARGS__);                                                  \
  } while (0)
  double end = now() + seconds;
  /* natively (the detector's check) the first violation is the answer */
  while (now() < end && !(attack_native && violations > 0)) {
    rounds++;
    int fd = openat(SWAP_FD, name, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[256] = {0};
      ssize_t n = read(fd, buf, sizeof buf - 1);
      if (hidden && fstat(fd, &st) == 0 && st.st_dev == fdev && st.st_ino == fino)
        VIOLATION("openat O_RDONLY gave the hidden file");
      if (n > 0 && secret != NULL && strstr(buf, secret) != NULL)
        VIOLATION("read the secret");
      if (n >= 0 && strcmp(buf, allowed_content) == 0)
        reached++;
      close(fd);
    } else if (errno == ENOENT || errno == EBADF) {
      refused++;
    }
    if (fstatat(SWAP_FD, name, &st, 0) == 0 && hidden && st.st_dev == fdev && st.st_ino == fino)
      VIOLATION("fstatat gave the hidden file");
    fd = openat(SWAP_FD, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0) {
      if (fstat(fd, &st) == 0 && st.st_dev == fdev && st.st_ino == fino)
        VIOLATION("openat O_WRONLY|O_TRUNC gave the %s file", kind);
      else if (write(fd, allowed_content, sizeof allowed_content - 1) < 0) {
      }
      close(fd);
    } else if (errno == EROFS || errno == ENOENT) {
      refused++;
    }
    if (rounds % 8 == 0) {
      if (unlinkat(SWAP_FD, name, 0) == 0) {
        unlinked++;
        restore(fd_a, name);
      } else {
        refused++;
      }
    }
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("%ld rounds, %ld swaps, %ld reached the allowed file, %ld refused, %ld unlinked", rounds,
       atomic_load(&swaps), reached, refused, unlinked);
  check("the forbidden file was never reached through the swapped dirfd", violations == 0,
        "%ld times; first: %s", violations, first);
  check("the race reached the allowed file", reached > 0, "never");
  check("the race hit the forbidden side", refused > 0, "never");
  r = fstatat(fd_b, name, &st, 0);
  if (hidden)
    check("B/REL is still hidden", r < 0 && errno == ENOENT, "fstatat gave %s",
          r == 0 ? "success" : errname(errno));
  else
    check("B/REL is still the read-only file", r == 0 && st.st_dev == fdev && st.st_ino == fino,
          "fstatat gave %s", r == 0 ? "another inode" : errname(errno));
  return attack_finish("view_dirfd_swap");
}
