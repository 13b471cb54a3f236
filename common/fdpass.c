#include "common/fdpass.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void fdpass_attach(struct msghdr *hdr, union fdpass_cmsg *cm, int fd)
{
  if (fd < 0) {
    hdr->msg_control = NULL;
    hdr->msg_controllen = 0;
    return;
  }
  hdr->msg_control = cm->buf;
  hdr->msg_controllen = sizeof cm->buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(hdr);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

void fdpass_expect(struct msghdr *hdr, union fdpass_cmsg *cm)
{
  hdr->msg_control = cm->buf;
  hdr->msg_controllen = sizeof cm->buf;
}

int fdpass_received(struct msghdr *hdr)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR(hdr); c != NULL; c = CMSG_NXTHDR(hdr, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  return -1;
}

ssize_t fdpass_sendmsg(int sock, const struct msghdr *hdr)
{
  ssize_t n;
  do
    n = sendmsg(sock, hdr, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

int fdpass_send_one(int sock, int fd)
{
  char byte = 'c';
  struct iovec iov = {&byte, 1};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, fd);
  ssize_t n = fdpass_sendmsg(sock, &hdr);
  return n == 1 ? 0 : n < 0 ? (int)n : -EIO;
}

void fdpass_attach_many(struct msghdr *hdr, union fdpass_cmsg_many *cm, const int *fds, size_t n)
{
  if (n == 0 || n > FDPASS_MAX) {
    hdr->msg_control = NULL;
    hdr->msg_controllen = 0;
    return;
  }
  hdr->msg_control = cm->buf;
  hdr->msg_controllen = CMSG_SPACE(sizeof(int) * n);
  struct cmsghdr *c = CMSG_FIRSTHDR(hdr);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
}

void fdpass_expect_many(struct msghdr *hdr, union fdpass_cmsg_many *cm)
{
  hdr->msg_control = cm->buf;
  hdr->msg_controllen = sizeof cm->buf;
}

size_t fdpass_received_many(struct msghdr *hdr, int *fds, size_t max)
{
  size_t got = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(hdr); c != NULL; c = CMSG_NXTHDR(hdr, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (got < max)
        fds[got++] = fd;
      else
        close(fd);
    }
  }
  return got;
}

int fdpass_recv_record(int sock, void *buf, size_t len, int *fd)
{
  struct iovec iov = {.iov_base = buf, .iov_len = len};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_expect(&hdr, &cm);
  ssize_t n;
  do
    n = recvmsg(sock, &hdr, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  *fd = n > 0 ? fdpass_received(&hdr) : -1;
  if (n <= 0)
    return (int)n;
  if ((size_t)n != len) {
    if (*fd >= 0)
      close(*fd), *fd = -1;
    return -1;
  }
  return 1;
}
