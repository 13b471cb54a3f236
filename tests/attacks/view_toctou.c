/* TOCTOU on path arguments: a thread flips a path buffer between an allowed
 * file and a forbidden one while the main thread opens, stats and unlinks
 * through that buffer. The sentry must read the path once and act on what it
 * read: whatever it was, the forbidden file is never reached.
 *
 *   view_toctou --allowed PATH --forbidden PATH --forbidden-id DEV:INO
 *               --kind hidden|readonly [--secret MARKER] [--seconds S]
 *
 * kind hidden:   the forbidden file is hidden in the view. Never may an open
 *                or stat return its inode (taken on the host, passed in), nor
 *                a read return the secret marker; unlinking it must fail.
 * kind readonly: the forbidden file is on a --ro bind. Never may an open for
 *                writing (O_WRONLY|O_TRUNC) return it, nor may unlink or
 *                truncate reach it (the script also checks it on the host).
 *
 * Every check also requires that both sides of the race were hit (the
 * allowed file was reached, the forbidden one was refused), so a flipper
 * that never raced would fail the run instead of passing it. */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>

static char path_buf[PATH_MAX];
static const char *side_a, *side_b;
static atomic_bool stop;
static atomic_long flips;

static void *flipper(void *arg)
{
  (void)arg;
  size_t la = strlen(side_a) + 1, lb = strlen(side_b) + 1;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    memcpy((char *)path_buf, side_a, la);
    __asm__ volatile("" ::: "memory");
    memcpy((char *)path_buf, side_b, lb);
    __asm__ volatile("" ::: "memory");
    atomic_fetch_add_explicit(&flips, 1, memory_order_relaxed);
  }
  return NULL;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool same_id(const struct stat *st, dev_t dev, ino_t ino)
{
  return st->st_dev == dev && st->st_ino == ino;
}

/* Recreate the allowed file (it may have been unlinked or truncated). */
static void restore_allowed(const char *path, const char *content)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, content, strlen(content)) < 0) {
    }
    close(fd);
  }
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *allowed = NULL, *forbidden = NULL, *secret = NULL, *kind = NULL, *idtext = NULL;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--allowed") == 0)
      allowed = argv[i + 1];
    else if (strcmp(argv[i], "--forbidden") == 0)
      forbidden = argv[i + 1];
    else if (strcmp(argv[i], "--forbidden-id") == 0)
      idtext = argv[i + 1];
    else if (strcmp(argv[i], "--secret") == 0)
      secret = argv[i + 1];
    else if (strcmp(argv[i], "--kind") == 0)
      kind = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
  }
  unsigned long long dev_u, ino_u;
  if (allowed == NULL || forbidden == NULL || idtext == NULL || kind == NULL ||
      sscanf(idtext, "%llu:%llu", &dev_u, &ino_u) != 2) {
    fprintf(stderr, "usage: view_toctou --allowed P --forbidden P --forbidden-id DEV:INO "
                    "--kind hidden|readonly [--secret S] [--seconds S]\n");
    return 2;
  }
  bool hidden = strcmp(kind, "hidden") == 0;
  dev_t fdev = (dev_t)dev_u;
  ino_t fino = (ino_t)ino_u;
  static const char allowed_content[] = "ALLOWED-CONTENT\n";
  restore_allowed(allowed, allowed_content);

  /* the allowed file must be reachable, the forbidden one not, before racing */
  struct stat st;
  int r = stat(allowed, &st);
  check("allowed file reachable without a race", r == 0, "stat: %s", errname(errno));
  r = stat(forbidden, &st);
  if (hidden)
    check("forbidden file hidden without a race", r < 0 && errno == ENOENT, "stat gave %s",
          r == 0 ? "success" : errname(errno));
  else
    check("read-only file visible without a race", r == 0 && same_id(&st, fdev, fino),
          "stat gave %s", r == 0 ? "another inode" : errname(errno));

  side_a = allowed;
  side_b = forbidden;
  strcpy(path_buf, allowed);
  pthread_t th;
  if (pthread_create(&th, NULL, flipper, NULL) != 0) {
    fail("flipper thread", "pthread_create failed");
    return attack_finish("view_toctou");
  }

  long opened_allowed = 0, refused = 0, violations = 0, stats_allowed = 0, unlinked = 0,
       wopened = 0, iterations = 0;
  char first_violation[512] = "";
#define VIOLATION(...)                                                                             \
  do {                                                                                             \
    if (violations++ == 0)                                                                         \
      snprintf(first_violation, sizeof first_violation, __VA_ARGS__);                              \
  } while (0)

  double end = now() + seconds;
  while (now() < end && !(attack_native && violations > 0)) {
    iterations++;
    /* open O_RDONLY, fstat, read */
    int fd = open(path_buf, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[256] = {0};
      ssize_t n = read(fd, buf, sizeof buf - 1);
      if (fstat(fd, &st) == 0 && hidden && same_id(&st, fdev, fino))
        VIOLATION("open O_RDONLY returned the hidden inode");
      if (n > 0 && secret != NULL && strstr(buf, secret) != NULL)
        VIOLATION("read returned the secret: %.60s", buf);
      if (n >= 0 && strcmp(buf, allowed_content) == 0)
        opened_allowed++;
      close(fd);
    } else if (errno == ENOENT) {
      refused++;
    }
    /* stat, lstat, statx */
    if (stat(path_buf, &st) == 0) {
      if (hidden && same_id(&st, fdev, fino))
        VIOLATION("stat returned the hidden inode");
      else
        stats_allowed++;
    }
    if (lstat(path_buf, &st) == 0 && hidden && same_id(&st, fdev, fino))
      VIOLATION("lstat returned the hidden inode");
    struct statx sx;
    if (syscall(SYS_statx, AT_FDCWD, path_buf, 0, STATX_INO, &sx) == 0 && hidden &&
        sx.stx_ino == fino && makedev(sx.stx_dev_major, sx.stx_dev_minor) == fdev)
      VIOLATION("statx returned the hidden inode");
    /* open for writing with O_TRUNC */
    fd = open(path_buf, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd >= 0) {
      wopened++;
      if (fstat(fd, &st) == 0 && same_id(&st, fdev, fino))
        VIOLATION("open O_WRONLY|O_TRUNC returned the %s file", kind);
      else if (write(fd, allowed_content, sizeof allowed_content - 1) < 0) {
      }
      close(fd);
    } else if (errno == EROFS || errno == ENOENT) {
      refused++;
    }
    /* truncate by path */
    if (truncate(path_buf, 0) == 0)
      restore_allowed(allowed, allowed_content);
    /* unlink, every 8th round (then the allowed file is recreated) */
    if (iterations % 8 == 0) {
      if (unlink(path_buf) == 0) {
        unlinked++;
        restore_allowed(allowed, allowed_content);
      } else if (errno == ENOENT || errno == EROFS) {
        refused++;
      }
    }
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  note("%ld rounds, %ld flips, %ld allowed opens, %ld allowed stats, %ld opens for writing, %ld "
       "unlinks, %ld refusals",
       iterations, atomic_load(&flips), opened_allowed, stats_allowed, wopened, unlinked, refused);

  check("the forbidden file was never reached", violations == 0, "%ld times; first: %s",
        violations, first_violation);
  check("the race reached the allowed file", opened_allowed > 0 && stats_allowed > 0,
        "%ld opens, %ld stats of the allowed file", opened_allowed, stats_allowed);
  check("the race hit the forbidden side", refused > 0, "no call was refused");

  /* the forbidden file afterwards, as the view shows it */
  r = stat(forbidden, &st);
  if (hidden)
    check("the hidden file is still hidden", r < 0 && errno == ENOENT, "stat gave %s",
          r == 0 ? "success" : errname(errno));
  else
    check("the read-only file is still there", r == 0 && same_id(&st, fdev, fino),
          "stat gave %s", r == 0 ? "another inode" : errname(errno));
  return attack_finish("view_toctou");
}
