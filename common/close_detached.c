/* The last close of an fd off the exit path (close_detached.h). */
#include "common/close_detached.h"

#include <fcntl.h>
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

void close_detached(int fd)
{
  if (fd < 0)
    return;
  int gate[2];
  if (pipe2(gate, O_CLOEXEC) < 0) {
    close(fd);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
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
