/* execve races: execve and chdir are the calls the kernel performs itself
 * after the sentry checked its own copy of the path (CONTINUE), so a thread
 * that swaps the path in between is resolved by the kernel, in the agent's
 * mount namespace. That namespace must mirror the view: a program that is
 * hidden, or outside the view, never runs.
 *
 *   view_exec_race --allowed PROG --forbidden PROG --marker TEXT [--seconds S]
 *                  [--chdir-forbidden DIR]
 *
 * Each round forks a child; the child starts a thread that flips the path
 * buffer between the two programs and calls execve(buffer) until one
 * succeeds. The parent reads the child's output: the allowed program prints
 * ALLOWED-RAN, the forbidden one would print TEXT. TEXT must never appear;
 * both sides must have been hit (the allowed program ran, an execve of the
 * forbidden one failed).
 *
 * With --forbidden-visible, the forbidden program is one the view shows but
 * a rule refuses (an exec rule, tests/integration/test_exec_rules.sh).
 *
 * With --chdir-forbidden DIR, the same race on chdir: between "/" and DIR; a
 * chdir that succeeds must never leave the process in DIR (its inode, taken
 * by the script on the host, is DIR's id given as --chdir-id DEV:INO). */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
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
    memcpy(path_buf, side_a, la);
    __asm__ volatile("" ::: "memory");
    memcpy(path_buf, side_b, lb);
    __asm__ volatile("" ::: "memory");
    atomic_fetch_add_explicit(&flips, 1, memory_order_relaxed);
  }
  return NULL;
}

/* Until the flipper is really running, the buffer holds the first side. */
static void wait_for_flips(void)
{
  while (atomic_load(&flips) < 1000)
    sched_yield();
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct counters {
  atomic_long exec_failed; /* execve calls that failed in children */
  atomic_long gave_up;     /* children where no execve succeeded */
};

static void exec_race(const char *allowed, const char *forbidden, const char *marker, double seconds)
{
  struct counters *cnt = mmap(NULL, sizeof *cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                              -1, 0);
  if (cnt == MAP_FAILED) {
    fail("exec race setup", "mmap: %s", errname(errno));
    return;
  }
  memset(cnt, 0, sizeof *cnt);
  long rounds = 0, allowed_ran = 0, marker_seen = 0, odd = 0;
  char odd_text[256] = "";
  double end = now() + seconds;
  while (now() < end && !(attack_native && marker_seen > 0)) {
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
      fail("exec race setup", "pipe: %s", errname(errno));
      return;
    }
    pid_t pid = attack_fork();
    if (pid == 0) {
      dup2(pfd[1], 1);
      side_a = allowed;
      side_b = forbidden;
      strcpy(path_buf, allowed);
      pthread_t th;
      if (pthread_create(&th, NULL, flipper, NULL) != 0)
        _exit(3);
      wait_for_flips();
      char *const args[] = {path_buf, NULL};
      char *const env[] = {"PATH=/usr/bin:/bin", NULL};
      for (int i = 0; i < 2000; i++) {
        execve(path_buf, args, env);
        atomic_fetch_add(&cnt->exec_failed, 1);
      }
      atomic_fetch_add(&cnt->gave_up, 1);
      _exit(4);
    }
    close(pfd[1]);
    char out[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof out - 1 && (n = read(pfd[0], out + got, sizeof out - 1 - got)) > 0)
      got += (size_t)n;
    out[got] = '\0';
    close(pfd[0]);
    wait_status(pid);
    rounds++;
    if (strstr(out, marker) != NULL)
      marker_seen++;
    else if (strstr(out, "ALLOWED-RAN") != NULL)
      allowed_ran++;
    else if (got > 0 && odd++ == 0)
      snprintf(odd_text, sizeof odd_text, "%.200s", out);
  }
  note("exec race %s vs %s: %ld rounds, %ld allowed runs, %ld failed execve, %ld children gave up",
       allowed, forbidden, rounds, allowed_ran, atomic_load(&cnt->exec_failed),
       atomic_load(&cnt->gave_up));
  if (odd > 0)
    note("%ld rounds printed something else, e.g. %s", odd, odd_text);
  char name[PATH_MAX + 64];
  snprintf(name, sizeof name, "exec race: %s never ran", forbidden);
  check(name, marker_seen == 0, "its marker appeared in %ld of %ld rounds", marker_seen, rounds);
  check("exec race: the allowed program ran", allowed_ran > 0, "in none of %ld rounds", rounds);
  check("exec race: an execve of the forbidden program failed", atomic_load(&cnt->exec_failed) > 0,
        "every execve succeeded");
  munmap(cnt, sizeof *cnt);
}

static void chdir_race(const char *forbidden, dev_t fdev, ino_t fino, double seconds)
{
  side_a = "/";
  side_b = forbidden;
  strcpy(path_buf, "/");
  atomic_store(&stop, false);
  pthread_t th;
  if (pthread_create(&th, NULL, flipper, NULL) != 0) {
    fail("chdir race setup", "pthread_create");
    return;
  }
  wait_for_flips();
  long ok_count = 0, refused = 0, inside = 0;
  double end = now() + seconds;
  while (now() < end) {
    if (chdir(path_buf) == 0) {
      struct stat st;
      if (stat(".", &st) == 0 && st.st_dev == fdev && st.st_ino == fino)
        inside++;
      else
        ok_count++;
    } else {
      refused++;
    }
  }
  atomic_store(&stop, true);
  pthread_join(th, NULL);
  if (chdir("/") < 0) {
  }
  note("chdir race: %ld to /, %ld refused, %ld into the forbidden directory", ok_count, refused, inside);
  check("chdir race: never inside the forbidden directory", inside == 0, "%ld times", inside);
  check("chdir race: both sides were hit", ok_count > 0 && refused > 0, "%ld ok, %ld refused",
        ok_count, refused);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *allowed = NULL, *forbidden = NULL, *marker = NULL, *cdir = NULL, *cid = NULL;
  double seconds = 2.0;
  bool visible = false;
  for (int i = 1; i < argc; i += 2) {
    if (strcmp(argv[i], "--forbidden-visible") == 0)
      visible = true, i--;
    else if (i + 1 >= argc)
      break;
    else if (strcmp(argv[i], "--allowed") == 0)
      allowed = argv[i + 1];
    else if (strcmp(argv[i], "--forbidden") == 0)
      forbidden = argv[i + 1];
    else if (strcmp(argv[i], "--marker") == 0)
      marker = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--chdir-forbidden") == 0)
      cdir = argv[i + 1];
    else if (strcmp(argv[i], "--chdir-id") == 0)
      cid = argv[i + 1];
  }
  if (allowed == NULL || forbidden == NULL || marker == NULL) {
    fprintf(stderr, "usage: view_exec_race --allowed P --forbidden P --marker M [--seconds S] "
                    "[--forbidden-visible] [--chdir-forbidden DIR --chdir-id DEV:INO]\n");
    return 2;
  }
  /* without a race: the forbidden program is not there to run (or, by a
   * rule, is there and refused) */
  int r = access(forbidden, X_OK);
  if (visible)
    check("the forbidden program is visible", r == 0, "access: %s", errname(errno));
  else
    check("the forbidden program is not visible", r < 0 && errno == ENOENT, "access gave %s",
          r == 0 ? "success" : errname(errno));
  r = access(allowed, X_OK);
  check("the allowed program is visible", r == 0, "access: %s", errname(errno));
  exec_race(allowed, forbidden, marker, seconds);
  if (cdir != NULL && cid != NULL) {
    unsigned long long d, ino;
    if (sscanf(cid, "%llu:%llu", &d, &ino) == 2)
      chdir_race(cdir, (dev_t)d, (ino_t)ino, seconds / 2);
    else
      fail("chdir race", "bad --chdir-id %s", cid);
  }
  return attack_finish("view_exec_race");
}
