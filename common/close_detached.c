/* The last close of an fd off the exit path (close_detached.h). */
#include "common/close_detached.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every fd but keep_a and keep_b (keep_a < keep_b). */
static void close_all_but(int keep_a, int keep_b)
{
  if (keep_a > 0)
    syscall(SYS_close_range, 0U, (unsigned)keep_a - 1, 0U);
  if (keep_b > keep_a + 1)
    syscall(SYS_close_range, (unsigned)keep_a + 1, (unsigned)keep_b - 1, 0U);
  syscall(SYS_close_range, (unsigned)keep_b + 1, ~0U, 0U);
}

/* The child outlives this process by a grace period: it must not pass for
 * it (ps, pgrep -f 'the agent's command' after usbox returned). It is
 * born with its argument strings blanked: they are blanked here around
 * the fork and put back, where /proc/self/stat's fields 48 and 49
 * (arg_start, arg_end) say they are. Returns the area's length, 0 if not
 * found. */
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

/* fork, with the child's argument strings blank from its start */
static pid_t fork_untitled(void)
{
  char *area = NULL;
  size_t len = title_area(&area);
  char *saved = len > 0 ? malloc(len) : NULL;
  if (saved != NULL) {
    memcpy(saved, area, len);
    memset(area, 0, len);
  }
  pid_t pid = fork();
  if (pid != 0 && saved != NULL) {
    memcpy(area, saved, len);
    free(saved);
  }
  return pid;
}

void close_detached(int fd)
{
  if (fd < 0)
    return;
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) {
    close(fd);
    return;
  }
  pid_t pid = fork_untitled();
  if (pid == 0) {
    prctl(PR_SET_NAME, "usbox-close");
    /* plain system calls only (the parent may have had threads); wait
     * until the parent has dropped its reference (it closes the gate's
     * write end after fd, or exits), so that this close is the last */
    close_all_but(fd < gate[0] ? fd : gate[0], fd < gate[0] ? gate[0] : fd);
    char byte;
    while (read(gate[0], &byte, 1) > 0)
      ;
    close(fd); /* the slow part, with nobody waiting */
    _exit(0);
  }
  close(fd); /* with the child alive, only a reference is dropped here */
  close(gate[0]);
  close(gate[1]);
}
