/* Fair service between a sandbox's processes (issue 16): one process keeps
 * N threads making stat calls as fast as they can; another, the probe,
 * makes one stat every 2 ms and times each. Prints the probe's latencies
 * (mean, median, p99, max, in µs) and the load's calls per second.
 *
 *   fairness THREADS SAMPLES
 *
 * Natively a stat costs the same whoever else is busy, give or take the
 * CPUs' share; in a sandbox that serves calls one queue for all, the probe
 * waits behind the load's calls. bench/fairness-run runs it natively, in
 * usbox and in runsc and writes the table. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH "/etc/hostname"

static unsigned long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static unsigned long *load_calls; /* shared with the parent */

static void *spin(void *arg)
{
  (void)arg;
  struct stat st;
  for (;;) {
    stat(PATH, &st);
    __atomic_add_fetch(load_calls, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static int by_value(const void *a, const void *b)
{
  unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: fairness THREADS SAMPLES\n");
    return 2;
  }
  int nthreads = atoi(argv[1]), nsamples = atoi(argv[2]);
  load_calls = mmap(NULL, sizeof *load_calls, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                    -1, 0);
  unsigned long long *lat = calloc((size_t)nsamples, sizeof *lat);
  if (load_calls == MAP_FAILED || lat == NULL || nthreads < 1 || nsamples < 1)
    return 2;
  pid_t load = fork();
  if (load == 0) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t;
    for (int i = 1; i < nthreads; i++)
      pthread_create(&t, &attr, spin, NULL);
    spin(NULL);
  }
  nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL); /* the load gets going */
  unsigned long calls0 = __atomic_load_n(load_calls, __ATOMIC_RELAXED);
  unsigned long long t0 = now_ns();
  struct stat st;
  for (int i = 0; i < nsamples; i++) {
    unsigned long long a = now_ns();
    stat(PATH, &st);
    lat[i] = now_ns() - a;
    nanosleep(&(struct timespec){0, 2 * 1000 * 1000}, NULL);
  }
  double secs = (double)(now_ns() - t0) / 1e9;
  unsigned long calls = __atomic_load_n(load_calls, __ATOMIC_RELAXED) - calls0;
  kill(load, SIGKILL);
  waitpid(load, NULL, 0);
  qsort(lat, (size_t)nsamples, sizeof *lat, by_value);
  double sum = 0;
  for (int i = 0; i < nsamples; i++)
    sum += (double)lat[i];
  printf("mean_us %.1f p50_us %.1f p99_us %.1f max_us %.1f load_calls_per_s %.0f\n",
         sum / nsamples / 1e3, (double)lat[nsamples / 2] / 1e3,
         (double)lat[(size_t)nsamples * 99 / 100] / 1e3, (double)lat[nsamples - 1] / 1e3,
         (double)calls / secs);
  return 0;
}
