/* One fd alongside a message on a unix socket (SCM_RIGHTS): the one place
 * usbox's own channels (the gofer's control socket and connections) build
 * and read that control message. The agent's own SCM_RIGHTS messages are
 * netstack-shim/msg.c's. */
#ifndef USBOX_COMMON_FDPASS_H
#define USBOX_COMMON_FDPASS_H

#include <sys/socket.h>
#include <sys/types.h>

/* Room for one fd's control message. */
union fdpass_cmsg {
  char buf[CMSG_SPACE(sizeof(int))];
  struct cmsghdr align;
};

/* Room for up to FDPASS_MAX fds (the gofer's walk-cache replies). */
#define FDPASS_MAX 40
union fdpass_cmsg_many {
  char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
  struct cmsghdr align;
};

/* Send fds[0..n) (n <= FDPASS_MAX; nothing attached when n is 0). */
void fdpass_attach_many(struct msghdr *hdr, union fdpass_cmsg_many *cm, const int *fds, size_t n);
/* Make hdr ready to receive up to FDPASS_MAX fds. */
void fdpass_expect_many(struct msghdr *hdr, union fdpass_cmsg_many *cm);
/* The fds a received message carried, in order, into fds (up to max); the
 * count. Any beyond max are closed: nothing received stays open unseen. */
size_t fdpass_received_many(struct msghdr *hdr, int *fds, size_t max);

/* Send fd with hdr's data (nothing attached when fd < 0). */
void fdpass_attach(struct msghdr *hdr, union fdpass_cmsg *cm, int fd);
/* Make hdr ready to receive one fd. */
void fdpass_expect(struct msghdr *hdr, union fdpass_cmsg *cm);
/* The fd a received message carried, or -1. A control message of another
 * shape (more fds than one) is not taken: the kernel installs no more fds
 * than the buffer holds, so nothing is left open behind it. */
int fdpass_received(struct msghdr *hdr);
/* One record of exactly len bytes into buf, with at most one fd (*fd, or
 * -1), close-on-exec, again after EINTR: 1, 0 at EOF, -1 on error or a
 * record of another size (its fd closed). */
int fdpass_recv_record(int sock, void *buf, size_t len, int *fd);
/* sendmsg(MSG_NOSIGNAL), again after EINTR: bytes sent or -errno. */
ssize_t fdpass_sendmsg(int sock, const struct msghdr *hdr);
/* One byte and fd: a new connection handed over a control socket. 0 or -errno. */
int fdpass_send_one(int sock, int fd);

#endif
