/* runc's --preserve-fds N (create, run, exec): fds 3..N+2 of the runtime's
 * own process pass to the container's process at the same numbers, as
 * podman's --preserve-fds, conmon and systemd's socket activation
 * (LISTEN_FDS) use them.
 *
 * Why this is safe, and what it grants. An fd passed in is a capability the
 * engine grants on purpose, as with runc: the container may use the open
 * file, pipe, socket or terminal as the engine handed it (its reads and
 * writes are the kernel's, a socket of the host's network namespace stays
 * one). It is an fd the sentry did not open, like the stdio usbox is given,
 * and the sentry treats it as such: it is outside the view
 * (vfs_held_place), so every change through it that the sentry performs
 * (fchmod, fchown, xattrs, truncate through /proc/self/fd/N) is refused
 * with EROFS, and a re-open through /proc/self/fd/N gets at most its
 * access.
 *
 * Directories are refused (here, before anything starts). A walk relative
 * to one (openat(fd, ...), the other *at calls) would be confined: it
 * starts only where the view shows that very directory at the name the
 * kernel gives it (vfs/walk.c start_at_dirfd), else ENOENT. But fchdir is
 * the kernel's, unchecked, and the calls the kernel resolves from the
 * working directory (execve, chdir, a unix bind's name) would then start
 * in the host's mount namespace, outside every mask and bind of the view.
 * The sentry refuses those from a working directory outside the view
 * (task_cwd_in_view) for a directory that arrives another way (over a
 * socket passed in), but a second thread's fchdir can race that check
 * (docs/security.md, What remains): none is handed in here. What engines
 * pass (sockets, pipes, files, terminals) is never a directory. */
#include "oci/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int oci_preserve_parse(const char *text, int *n, usbox_err_t *err)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v > OCI_PRESERVE_MAX)
    return usbox_err_set(err, 0, "--preserve-fds %s: a number from 0 to %d is needed", text,
                         OCI_PRESERVE_MAX);
  *n = (int)v;
  return 0;
}

int oci_preserve_check(int n, int max, usbox_err_t *err)
{
  if (n > max)
    return usbox_err_set(err, 0, "--preserve-fds %d: at most %d fds pass this way", n, max);
  for (int fd = 3; fd < 3 + n; fd++) {
    struct stat st;
    if (fcntl(fd, F_GETFD) < 0 || fstat(fd, &st) < 0)
      return usbox_err_set(err, EBADF, "--preserve-fds %d: fd %d is not open", n, fd);
    if (S_ISDIR(st.st_mode))
      return usbox_err_set(err, 0,
                           "--preserve-fds %d: fd %d is a directory: usbox passes none into a "
                           "container (its working directory could leave the view)",
                           n, fd);
    /* nothing usbox runs meanwhile (hooks, helpers) inherits it: only the
     * container's process gets it, at its execve (sentry/launch.c) */
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      return usbox_err_set(err, errno, "--preserve-fds %d: fd %d", n, fd);
  }
  return 0;
}

void oci_preserve_drop(int n)
{
  if (n > 0)
    syscall(SYS_close_range, 3U, (unsigned)(2 + n), 0U);
}
