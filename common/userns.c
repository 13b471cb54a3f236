#include "common/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/nsfs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"

int64_t userns_to_host(const struct userns_map *maps, size_t n, uint32_t inside)
{
  for (size_t i = 0; i < n; i++)
    if (inside >= maps[i].inside && inside - maps[i].inside < maps[i].count)
      return (int64_t)maps[i].outside + (inside - maps[i].inside);
  return -1;
}

int64_t userns_to_inside(const struct userns_map *maps, size_t n, uint32_t outside)
{
  for (size_t i = 0; i < n; i++)
    if (outside >= maps[i].outside && outside - maps[i].outside < maps[i].count)
      return (int64_t)maps[i].inside + (outside - maps[i].outside);
  return -1;
}

static bool overlap(uint32_t a, uint32_t alen, uint32_t b, uint32_t blen)
{
  return (uint64_t)a < (uint64_t)b + blen && (uint64_t)b < (uint64_t)a + alen;
}

int userns_check_maps(const struct userns_map *maps, size_t n, const char *what,
                      usbox_err_t *err)
{
  for (size_t i = 0; i < n; i++) {
    const struct userns_map *m = &maps[i];
    if (m->count == 0 || (uint64_t)m->inside + m->count > UINT32_MAX ||
        (uint64_t)m->outside + m->count > UINT32_MAX)
      return usbox_err_set(err, EINVAL, "%s[%zu]: an empty range or one past 2^32-1", what, i);
    for (size_t j = 0; j < i; j++)
      if (overlap(m->inside, m->count, maps[j].inside, maps[j].count) ||
          overlap(m->outside, m->count, maps[j].outside, maps[j].count))
        return usbox_err_set(err, EINVAL, "%s[%zu] overlaps %s[%zu]", what, i, what, j);
  }
  return 0;
}

static int write_map(pid_t pid, const char *file, const struct userns_map *maps, size_t n)
{
  char path[64], text[USERNS_MAX_MAPS * 36];
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof text; i++)
    len += (size_t)snprintf(text + len, sizeof text - len, "%u %u %u\n", maps[i].inside,
                            maps[i].outside, maps[i].count);
  if (len >= sizeof text)
    return -E2BIG;
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  /* the whole map in one write, as the kernel requires */
  if (fd < 0 || write(fd, text, len) != (ssize_t)len)
    return -errno;
  return 0;
}

/* The maps are written from outside: a process may not write its own
 * beyond its own id. A child forked before the unshare stays in the
 * parent namespace, where it has the rights to (it is what the parent
 * was: root there). It writes them when the parent says it has moved. */
static _Noreturn void map_writer(const struct userns_config *u, pid_t target, int go_r)
{
  char go;
  if (read(go_r, &go, 1) != 1)
    _exit(1);
  int e = write_map(target, "uid_map", u->uid, u->nuid);
  if (e == 0)
    e = write_map(target, "gid_map", u->gid, u->ngid);
  _exit(e == 0 ? 0 : (-e & 0x7f) + 0x80);
}

static int run_map_writer(const struct userns_config *u, usbox_err_t *err)
{
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "pipe2");
  pid_t self = getpid(), writer = fork();
  if (writer < 0) {
    close(go[0]), close(go[1]);
    return usbox_err_set(err, errno, "fork");
  }
  if (writer == 0) {
    close(go[1]);
    map_writer(u, self, go[0]);
  }
  close(go[0]);
  int rc = unshare(CLONE_NEWUSER) < 0 ? -errno : 0;
  if (rc == 0 && write(go[1], "g", 1) != 1)
    rc = -errno;
  close(go[1]); /* on failure: EOF, the writer goes */
  int status = 0;
  while (waitpid(writer, &status, 0) < 0 && errno == EINTR)
    ;
  if (rc < 0)
    return usbox_err_set(err, -rc, "unshare(CLONE_NEWUSER)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return usbox_err_set(err, WIFEXITED(status) && WEXITSTATUS(status) >= 0x80
                                  ? WEXITSTATUS(status) - 0x80 : 0,
                         "writing the user namespace's uid and gid maps");
  return 0;
}

/* "inside outside count" lines into maps */
static int parse_map(char *text, struct userns_map *maps, size_t *n)
{
  *n = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    unsigned long v[3];
    char *p = line, *end;
    for (int k = 0; k < 3; k++, p = end) {
      errno = 0;
      v[k] = strtoul(p, &end, 10);
      if (end == p || errno != 0 || v[k] > UINT32_MAX)
        return -1;
    }
    if (*n == USERNS_MAX_MAPS)
      return -1;
    maps[(*n)++] = (struct userns_map){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2]};
  }
  return 0;
}

/* In a child: join the namespace, send both of its maps as text. Read
 * from inside, a map's outside ids are its parent namespace's. */
static _Noreturn void send_maps(int ns, int out)
{
  if (setns(ns, CLONE_NEWUSER) < 0)
    _exit(1);
  static char text[2][USERNS_MAX_MAPS * 36 + 1];
  const char *files[2] = {"/proc/self/uid_map", "/proc/self/gid_map"};
  for (int i = 0; i < 2; i++) {
    int fd = open(files[i], O_RDONLY | O_CLOEXEC);
    ssize_t len = fd < 0 ? -1 : read(fd, text[i], sizeof text[i] - 1);
    if (len < 0)
      _exit(1);
  }
  _exit(write(out, text, sizeof text) == (ssize_t)sizeof text ? 0 : 1);
}

/* the namespace at fd is a child of the caller's */
static bool child_of_mine(int ns)
{
  struct stat mine, parent;
  cleanup_close int p = ioctl(ns, NS_GET_PARENT);
  return p >= 0 && fstat(p, &parent) == 0 && stat("/proc/self/ns/user", &mine) == 0 &&
         parent.st_ino == mine.st_ino && parent.st_dev == mine.st_dev;
}

int userns_read_maps(const char *path, struct userns_config *u, usbox_err_t *err)
{
  cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || ioctl(ns, NS_GET_NSTYPE) != CLONE_NEWUSER)
    return usbox_err_set(err, ns < 0 ? errno : EINVAL, "the user namespace %s", path);
  if (!child_of_mine(ns))
    return usbox_err_set(err, EINVAL, "the user namespace %s is not a child of usbox's", path);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "pipe2");
  pid_t child = fork();
  if (child == 0)
    send_maps(ns, pipefd[1]);
  close(pipefd[1]);
  static char text[2][USERNS_MAX_MAPS * 36 + 1];
  memset(text, 0, sizeof text);
  size_t got = 0;
  ssize_t n;
  while (child > 0 && got < sizeof text &&
         ((n = read(pipefd[0], (char *)text + got, sizeof text - got)) > 0 || (n < 0 && errno == EINTR)))
    got += n > 0 ? (size_t)n : 0;
  close(pipefd[0]);
  int status = 0;
  while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  text[0][sizeof text[0] - 1] = text[1][sizeof text[1] - 1] = '\0';
  if (child < 0 || got != sizeof text || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      parse_map(text[0], u->uid, &u->nuid) < 0 || parse_map(text[1], u->gid, &u->ngid) < 0)
    return usbox_err_set(err, 0, "reading the maps of the user namespace %s", path);
  u->path = path;
  return 0;
}

static int join(const char *path, usbox_err_t *err)
{
  cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWUSER) < 0)
    return usbox_err_set(err, errno, "joining the user namespace %s", path);
  return 0;
}

int userns_enter(const struct userns_config *u, usbox_err_t *err)
{
  if (u->path != NULL ? join(u->path, err) < 0 : run_map_writer(u, err) < 0)
    return -1;
  /* Safe: the ids are the new namespace's root, which the maps give a host
   * id each (checked when the config was read); raw calls, as the process
   * has one thread. Groups first, while CAP_SETGID is certain; then no
   * host group is left to lend its rights (setgroups is "allow": the maps
   * were written by a writer privileged over them). */
  if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, 0, 0, 0) < 0 ||
      syscall(SYS_setresuid, 0, 0, 0) < 0)
    return usbox_err_set(err, errno, "becoming root of the user namespace");
  return 0;
}
