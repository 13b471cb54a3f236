/* The last close of an fd off the exit path (close_detached.h). */
#include "common/close_detached.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The child outlives this process by a grace period: it must not pass for
 * it (ps, pgrep -f 'the agent's command' after usbox returned). It shares
 * this process's memory (below), so its command line is this process's
 * argument strings, where /proc/self/stat's fields 48 and 49 (arg_start,
 * arg_end) say they are: they are blanked for good, this process being at
 * its end. Returns the area's length, 0 if not found. */
static size_t title_area(char **area)
{
  char stat[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
  if (fd >= 0)
    close(fd);
  if (n <= 0)
    return 0;
  stat[n] = '\0';
  char *field = strrchr(stat, ')'); /* the end of field 2, the name */
  for (int k = 2; field != NULL && k < 48; k++)
    field = strchr(field + 1, ' '); /* before field k + 1 */
  if (field == NULL)
    return 0;
  char *end;
  unsigned long start = strtoul(field + 1, &end, 10), stop = strtoul(end, NULL, 10);
  if (start == 0 || stop <= start || stop - start > (1UL << 20))
    return 0;
  *area = (char *)start;
  return stop - start;
}

/* What the child is given, in memory this process never writes again. */
struct closer {
  int keep[CLOSE_DETACHED_MAX + 1]; /* the fds to close, then the gate: ascending */
  int nkeep, gate;
  char stack[]; /* the child's: its top is the end of the mapping */
};

#define CLOSER_SIZE (64 * 1024)

/* The child: raw system calls on its own stack only. It shares the
 * parent's memory, its TLS included, so it calls nothing that takes a lock
 * or keeps state (no cancellation point, no allocation, nothing a
 * sanitizer instruments); syscall() writes the parent's errno word on an
 * error, which nothing reads any more. Signals stay blocked as they were
 * (usbox takes them through a signalfd), so no handler runs here. */
__attribute__((no_sanitize("address", "undefined"))) static int closer_main(void *arg)
{
  const struct closer *c = arg;
  syscall(SYS_prctl, PR_SET_NAME, "usbox-close", 0, 0, 0);
  unsigned int from = 0; /* every fd but the kept ones (ascending) */
  for (int i = 0; i < c->nkeep; i++) {
    if ((unsigned int)c->keep[i] > from)
      syscall(SYS_close_range, from, (unsigned int)c->keep[i] - 1, 0U);
    from = (unsigned int)c->keep[i] + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0U);
  char byte;
  while (syscall(SYS_read, c->gate, &byte, 1) > 0)
    ;
  for (int i = 0; i < c->nkeep; i++)
    if (c->keep[i] != c->gate)
      syscall(SYS_close, c->keep[i]); /* the slow part, with nobody waiting */
  syscall(SYS_exit_group, 0);
  return 0;
}

/* fds[0..n) but the negative ones and gate, ascending, into c. */
static void keep_sorted(struct closer *c, const int *fds, size_t n, int gate)
{
  c->nkeep = 0, c->gate = gate;
  for (size_t i = 0; i <= n && i <= CLOSE_DETACHED_MAX; i++) {
    int fd = i == n || i == CLOSE_DETACHED_MAX ? gate : fds[i];
    if (fd < 0)
      continue;
    int at = c->nkeep++;
    while (at > 0 && c->keep[at - 1] > fd)
      c->keep[at] = c->keep[at - 1], at--;
    c->keep[at] = fd;
  }
}

/* The child shares this process's memory (CLONE_VM) instead of copying
 * it: a fork of usbox at its end copied its page tables (~0.4-1.7 ms on
 * the reference VM), and the memory's own release moves to the child's
 * exit, off this process's. Without CLONE_FILES it has its own copy of the
 * fd table, so the fds' last references are its. */
void close_detached(const int *fds, size_t n)
{
  if (n > CLOSE_DETACHED_MAX)
    n = CLOSE_DETACHED_MAX; /* (the rest closed here) */
  int gate[2] = {-1, -1};
  struct closer *c = MAP_FAILED;
  if (pipe2(gate, O_CLOEXEC) == 0)
    c = mmap(NULL, CLOSER_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
             -1, 0);
  char *area = NULL;
  size_t len = c == MAP_FAILED ? 0 : title_area(&area);
  if (len > 0)
    memset(area, 0, len);
  if (c != MAP_FAILED) {
    keep_sorted(c, fds, n, gate[0]);
    /* if it fails, the closes below are the last ones, slowly */
    clone(closer_main, (char *)c + CLOSER_SIZE, CLONE_VM | SIGCHLD, c);
  }
  for (size_t i = 0; i < n; i++) /* with the child alive, only references are dropped here */
    if (fds[i] >= 0)
      close(fds[i]);
  for (int i = 0; i < 2; i++)
    if (gate[i] >= 0)
      close(gate[i]);
}
