/* Symlink swap race: a thread keeps exchanging a directory component with a
 * symlink to a forbidden place (hidden, or read-only) while the main thread
 * creates entries through that path. Whatever the walk meets, an entry may
 * land in the real directory, never in the forbidden one.
 *
 *   view_symlink_swap --dir D --target T [--seconds S]
 *
 * D is a writable directory in the view. The program makes D/real (a
 * directory) and D/swap -> T (a symlink), and a thread exchanges them with
 * renameat2(RENAME_EXCHANGE), so D/real is by turns the directory and the
 * symlink. The main thread creates D/real/NAME with open(O_CREAT|O_EXCL),
 * mkdir, mkfifo, symlink, link and rename. The script checks on the host
 * that T's source did not change; the program checks that entries did land
 * in the real directory and that some calls met the symlink. */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static char real_path[PATH_MAX], swap_path[PATH_MAX];
static atomic_bool stop;
static atomic_long swaps, swap_errors;
static int last_swap_errno;

static void *swapper(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    if (syscall(SYS_renameat2, AT_FDCWD, real_path, AT_FDCWD, swap_path, RENAME_EXCHANGE) == 0) {
      atomic_fetch_add(&swaps, 1);
    } else {
      last_swap_errno = errno;
      atomic_fetch_add(&swap_errors, 1);
    }
  }
  return NULL;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *dir = NULL, *target = NULL;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "--target") == 0)
      target = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  if (dir == NULL || target == NULL) {
    fprintf(stderr, "usage: view_symlink_swap --dir D --target T [--seconds S]\n");
    return 2;
  }
  snprintf(real_path, sizeof real_path, "%s/real", dir);
  snprintf(swap_path, sizeof swap_path, "%s/swap", dir);
  if (mkdir(real_path, 0755) < 0 || symlink(target, swap_path) < 0) {
    fail("setup", "mkdir/symlink in %s: %s", dir, errname(errno));
    return attack_finish("view_symlink_swap");
  }
  /* a file to link and rename from, outside the swapped component */
  char src[PATH_MAX];
  snprintf(src, sizeof src, "%s/src-file", dir);
  int sfd = open(src, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (sfd < 0) {
    fail("setup", "creating %s: %s", src, errname(errno));
    return attack_finish("view_symlink_swap");
  }
  close(sfd);

  /* without a race, through the symlink itself: refused */
  char probe[PATH_MAX + 32];
  snprintf(probe, sizeof probe, "%s/probe", swap_path);
  int r = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  check("creating through the symlink is refused", r < 0, "open O_CREAT succeeded");
  if (r >= 0)
    close(r);
  note("through the symlink: %s", r < 0 ? errname(errno) : "created");

  pthread_t th;
  if (pthread_create(&th, NULL, swapper, NULL) != 0) {
    fail("swapper thread", "pthread_create failed");
    return attack_finish("view_symlink_swap");
  }
  long made = 0, refused = 0, i = 0;
  double end = now() + seconds;
  char p[PATH_MAX + 64];
  while (now() < end) {
    i++;
    snprintf(p, sizeof p, "%s/f%ld", real_path, i);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) {
      made++;
      if (write(fd, "x", 1) < 0) {
      }
      close(fd);
    } else {
      refused++;
    }
    snprintf(p, sizeof p, "%s/d%ld", real_path, i);
    mkdir(p, 0755) == 0 ? made++ : refused++;
    snprintf(p, sizeof p, "%s/p%ld", real_path, i);
    mkfifo(p, 0644) == 0 ? made++ : refused++;
    snprintf(p, sizeof p, "%s/s%ld", real_path, i);
    symlink("x", p) == 0 ? made++ : refused++;
    snprintf(p, sizeof p, "%s/l%ld", real_path, i);
    link(src, p) == 0 ? made++ : refused++;
    snprintf(p, sizeof p, "%s/r%ld", real_path, i);
    if (rename(src, p) == 0) {
      made++;
      rename(p, src); /* back, if the same component is a directory again */
      if (access(src, F_OK) < 0) {
        sfd = open(src, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (sfd >= 0)
          close(sfd);
      }
    } else {
      refused++;
    }
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("%ld rounds, %ld swaps (%ld failed, last %s), %ld entries made, %ld refused", i,
       atomic_load(&swaps), atomic_load(&swap_errors),
       atomic_load(&swap_errors) ? errname(last_swap_errno) : "-", made, refused);
  check("the swapper swapped", atomic_load(&swaps) > 10, "%ld swaps", atomic_load(&swaps));
  check("entries landed in the real directory", made > 0, "none was made");
  check("some calls met the symlink and were refused", refused > 0, "none was refused");
  return attack_finish("view_symlink_swap");
}
