/* A probe for OCI containers (tests/integration/test_oci.sh), whose busybox
 * images have no libc: linked static (tests/CMakeLists.txt, oci_*.c). One
 * line per step, "NAME: RESULT" (RESULT is ok, a value or the errno's
 * name), for the script to compare.
 *
 *   oci_probe mq-send NAME MSG   mq_open(O_CREAT) NAME and send MSG
 *   oci_probe mq-open NAME       whether the queue NAME exists
 *   oci_probe dir FD             what a directory fd the container holds
 *                                reaches (below)
 *   oci_probe unix-echo PATH     a unix socket bound at PATH, connected to,
 *                                a byte through it
 *   oci_probe recv-dir SOCK      the same for a directory fd received on
 *                                the socket SOCK (SCM_RIGHTS), as a host
 *                                process at the other end of a socket the
 *                                engine passed in (--preserve-fds) may send
 *
 * The directory steps: walks relative to the fd (openat with "..", a name
 * in it, "."), its listing, then fchdir to it and what the working
 * directory then reaches: a relative open, a unix socket bound by a
 * relative name (with the directory's host path made in the container's
 * own /tmp first, so that the view has a writable place of that name),
 * chdir(".."). The script checks the answers and that the host did not
 * change. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void say(const char *name, int rc)
{
  if (rc < 0)
    printf("%s: %s\n", name, strerrorname_np(errno));
  else
    printf("%s: ok\n", name);
  fflush(stdout);
}

/* open and print the first line of what it reaches */
static void try_open(const char *name, int dirfd, const char *path)
{
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return say(name, -1);
  char buf[128] = "";
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  printf("%s: read %s\n", name, n < 0 ? strerrorname_np(errno) : buf);
  close(fd);
}

/* getdents64 on the fd itself (glibc's readdir takes ENOENT for the end) */
static void listing(int dirfd)
{
  char buf[4096];
  long n = syscall(SYS_getdents64, dirfd, buf, sizeof buf);
  if (n < 0)
    return say("listing", -1);
  printf("listing:");
  for (long at = 0; at < n;) {
    struct dirent64 *e = (struct dirent64 *)(buf + at);
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      printf(" %s", e->d_name);
    at += e->d_reclen;
  }
  printf("\n");
}

/* mkdir -p, inside the container's view */
static void make_path(const char *path)
{
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *c = buf + 1; *c != '\0'; c++)
    if (*c == '/') {
      *c = '\0';
      mkdir(buf, 0755);
      *c = '/';
    }
  mkdir(buf, 0755);
}

/* the kernel's text (glibc's getcwd refuses one that is not absolute) */
static void raw_getcwd(char *cwd, size_t size)
{
  if (syscall(SYS_getcwd, cwd, size) < 0)
    snprintf(cwd, size, "(%s)", strerrorname_np(errno));
}

static void cwd_steps(int dirfd)
{
  say("fchdir", fchdir(dirfd));
  char cwd[4096];
  raw_getcwd(cwd, sizeof cwd);
  printf("getcwd: %s\n", cwd);
  try_open("cwd secret", AT_FDCWD, "secret");
  /* the kernel names an unreachable working directory "(unreachable)/..." */
  const char *host = strchr(cwd, '/');
  if (host != NULL)
    make_path(host); /* in the view: the same path, in the container's /tmp */
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  strcpy(un.sun_path, "sock");
  say("bind relative", bind(s, (struct sockaddr *)&un, sizeof un));
  say("mkdir relative", mkdir("made", 0755));
  say("chdir ..", chdir(".."));
  raw_getcwd(cwd, sizeof cwd);
  printf("getcwd after: %s\n", cwd);
}

static int dir_attack(int dirfd)
{
  struct stat st;
  if (fstat(dirfd, &st) < 0)
    return say("fstat", -1), 1;
  printf("fstat: %s\n", S_ISDIR(st.st_mode) ? "directory" : "not a directory");
  try_open("dotdot shadow", dirfd, "../../../../../../../../../etc/shadow");
  try_open("secret", dirfd, "secret");
  say("dot", faccessat(dirfd, ".", F_OK, 0));
  listing(dirfd);
  cwd_steps(dirfd);
  return 0;
}

static int recv_dir(int sock)
{
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } cm;
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
                       .msg_controllen = sizeof cm.buf};
  if (recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC) < 0)
    return say("recvmsg", -1), 1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&hdr);
  if (c == NULL || c->cmsg_type != SCM_RIGHTS)
    return printf("recvmsg: no fd\n"), 1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  printf("recvmsg: ok\n");
  return dir_attack(fd);
}

/* A unix stream socket bound at path, a connection to it, a byte through
 * it: the sentry binds and connects for the container (in a user
 * namespace: from inside it, test_oci.sh) */
static int unix_echo(const char *path)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
  int rc = bind(l, (struct sockaddr *)&a, sizeof a);
  say("unix-bind", rc);
  if (rc < 0 || listen(l, 1) < 0)
    return 1;
  say("unix-connect", connect(c, (struct sockaddr *)&a, sizeof a));
  int s = accept(l, NULL, NULL);
  char byte = 0;
  say("unix-echo", s >= 0 && write(c, "x", 1) == 1 && read(s, &byte, 1) == 1 && byte == 'x' ? 0 : -1);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 3 && strcmp(argv[1], "unix-echo") == 0)
    return unix_echo(argv[2]);
  if (argc == 4 && strcmp(argv[1], "mq-send") == 0) {
    struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t q = mq_open(argv[2], O_CREAT | O_RDWR, 0600, &a);
    int rc = q < 0 ? -1 : mq_send(q, argv[3], strlen(argv[3]), 0);
    say("mq-send", rc);
    return rc < 0;
  }
  if (argc == 3 && strcmp(argv[1], "mq-open") == 0) {
    mqd_t q = mq_open(argv[2], O_RDONLY);
    say("mq-open", q < 0 ? -1 : 0);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "dir") == 0)
    return dir_attack(atoi(argv[2]));
  if (argc == 3 && strcmp(argv[1], "recv-dir") == 0)
    return recv_dir(atoi(argv[2]));
  fprintf(stderr,
          "usage: oci_probe mq-send NAME MSG | mq-open NAME | dir FD | recv-dir SOCK | unix-echo PATH\n");
  return 2;
}
