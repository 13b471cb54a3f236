/* Churn for test_reliability.sh (issue 16): many short-lived processes and
 * threads, each making an emulated call, and threads SIGKILLed by the
 * thousand in the middle of calls. Between phases it prints "mark NAME"
 * and waits for a line on stdin, so that the test can sample usbox's fd
 * count and memory from outside at known points.
 *
 *   churn PROCS THREADS KILL_ROUNDS
 *
 * Phases: a tenth of the processes and threads ("warm"), the rest
 * ("churned"), then KILL_ROUNDS processes of 50 threads looping on stat,
 * each SIGKILLed after a few ms ("killed"), then one more stat. Exits 0 if
 * every call it made did what it should. Plain C: a small process forks
 * in a fraction of the time an interpreter does. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH "/etc/hostname"
#define BATCH 100
#define SPINNERS 50

static int failures;

static void *stat_once(void *arg)
{
  struct stat st;
  if (stat(PATH, &st) < 0)
    __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
  return arg;
}

/* vfork: a process of its own (its own pid, a new task for usbox) without
 * copying the parent's page tables, which is most of a fork's cost here */
static void procs(long n)
{
  for (volatile long i = 0; i < n; i++) {
    pid_t pid = vfork();
    if (pid == 0) {
      struct stat st;
      _exit(syscall(SYS_newfstatat, AT_FDCWD, PATH, &st, 0) == 0 ? 0 : 1);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      failures++;
  }
}

static void threads(long n)
{
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  for (long done = 0; done < n; done += BATCH) {
    pthread_t t[BATCH];
    int started = 0;
    for (int i = 0; i < BATCH; i++)
      if (pthread_create(&t[started], &attr, stat_once, NULL) == 0)
        started++;
      else
        failures++;
    for (int i = 0; i < started; i++)
      pthread_join(t[i], NULL);
  }
  pthread_attr_destroy(&attr);
}

static void *spin(void *arg)
{
  for (;;)
    stat_once(arg);
  return NULL;
}

static void killed(long rounds)
{
  for (long r = 0; r < rounds; r++) {
    pid_t pid = fork();
    if (pid == 0) {
      pthread_t t;
      for (int i = 0; i < SPINNERS; i++)
        pthread_create(&t, NULL, spin, NULL);
      spin(NULL);
    }
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    kill(pid, SIGKILL);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status))
      failures++;
  }
}

static void mark(const char *name)
{
  printf("mark %s\n", name);
  fflush(stdout);
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL)
    exit(2);
}

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: churn PROCS THREADS KILL_ROUNDS\n");
    return 2;
  }
  long np = atol(argv[1]), nt = atol(argv[2]), rounds = atol(argv[3]);
  procs(np / 10);
  threads(nt / 10);
  mark("warm");
  procs(np - np / 10);
  threads(nt - nt / 10);
  mark("churned");
  killed(rounds);
  mark("killed");
  stat_once(NULL);
  printf("failures %d\n", failures);
  return failures == 0 ? 0 : 1;
}
