/* In the container's monitor: `exec` requests (oci/exec_wire.h) turned
 * into the init's (sentry/init_ctl.h), and the init's events passed back.
 * One thread, one poll over the listening socket, the init's channel and
 * every client. The process object is parsed here again, by the same code
 * as the client's (oci/spec.c): the client's parse is for its error
 * messages, this one is what is acted on. */
#include "oci/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "oci/exec_wire.h"
#include "oci/spec.h"

#define MAX_CLIENTS 64

struct client {
  int fd;      /* -1: gone (its process, if it runs, was told to die) */
  uint32_t id; /* 0: free slot */
  bool started;
};

struct server {
  const struct oci_runtime *rt;
  int listen_fd;
  int ctl;
  uid_t peer_uid[2]; /* the owner and root, as SO_PEERCRED shows them here */
  char sock_path[PATH_MAX];
  uint32_t next_id;
  struct client clients[MAX_CLIENTS];
};

static void reply(int fd, uint32_t event, uint32_t id, int32_t value, uint32_t stage,
                  const char *msg, int attach)
{
  struct oci_exec_reply r = {.ev = {.event = event, .id = id, .value = value, .stage = stage}};
  snprintf(r.msg, sizeof r.msg, "%s", msg != NULL ? msg : "");
  struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg cm;
  fdpass_attach(&hdr, &cm, attach);
  fdpass_sendmsg(fd, &hdr);
}

/* The client of process id (0: a free slot). */
static struct client *find(struct server *s, uint32_t id)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i].id == id && (id != 0 || s->clients[i].fd < 0))
      return &s->clients[i];
  return NULL;
}

static void drop(struct client *c)
{
  if (c->fd >= 0)
    close(c->fd);
  *c = (struct client){.fd = -1};
}

/* A hello of n bytes in buf (one byte more to spare): the process
 * object's text, NUL-terminated in place, and a hook's path (else NULL).
 * 0, or -1 when it is malformed. */
static int parse_hello(char *buf, size_t n, const char **json, const char **path)
{
  struct oci_exec_hello h;
  if (n < sizeof h)
    return -1;
  memcpy(&h, buf, sizeof h);
  bool hook = h.magic == OCI_EXEC_HOOK_MAGIC;
  if ((h.magic != OCI_EXEC_MAGIC && !hook) || h.json_len > n - sizeof h)
    return -1;
  size_t path_len = n - sizeof h - h.json_len; /* with its NUL */
  char *p = buf + sizeof h;
  if (hook ? path_len < 2 || p[0] != '/' || memchr(p, '\0', path_len) != p + path_len - 1
           : path_len != 0)
    return -1;
  *path = hook ? p : NULL;
  *json = p + path_len;
  buf[n] = '\0';
  return 0;
}

/* The request, parsed and sent to the init with the client's stdio. */
static int forward_request(struct server *s, struct client *c, const char *json, const char *path,
                           const int *fds, size_t nfds, usbox_err_t *err)
{
  struct oci_spec spec;
  struct policy p;
  policy_init(&p);
  p.keep_caps = ~0ull; /* unchanged unless the process names its capabilities */
  int rc = oci_spec_parse_process(json, &spec, &p, err);
  /* the client's stdio (unless a terminal), then its --preserve-fds */
  size_t nstdio = rc == 0 && spec.terminal ? 0 : 3;
  if (rc == 0 && nfds < nstdio)
    rc = usbox_err_set(err, EINVAL, "the process's stdio fds are missing");
  for (size_t i = nstdio; rc == 0 && i < nfds; i++) { /* as the client checked them */
    struct stat st;
    if (fstat(fds[i], &st) == 0 && S_ISDIR(st.st_mode))
      rc = usbox_err_set(err, EINVAL, "--preserve-fds: fd %zu is a directory", i - nstdio + 3);
  }
  if (rc == 0) {
    struct init_exec_spec e = {.id = c->id, .argv = spec.args, .envp = spec.env, .path = path,
                               .cwd = p.process.cwd, .tty = spec.terminal, .proc = &p.process,
                               .set_caps = p.keep_caps != ~0ull, .keep_caps = p.keep_caps,
                               .preserved = fds + nstdio, .npreserve = nfds - nstdio};
    rc = init_ctl_send_exec(s->ctl, &e, fds, err);
  }
  oci_spec_free(&spec);
  policy_free(&p);
  return rc;
}

/* A new client: its hello (sent right after connect), then the request. */
static void accept_client(struct server *s)
{
  int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct ucred cred;
  socklen_t len = sizeof cred;
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  static char buf[sizeof(struct oci_exec_hello) + PATH_MAX + OCI_EXEC_MAX_JSON + 1];
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr hdr = {.msg_iov = &iov, .msg_iovlen = 1};
  union fdpass_cmsg_many cm;
  fdpass_expect_many(&hdr, &cm);
  ssize_t n = recvmsg(fd, &hdr, MSG_CMSG_CLOEXEC);
  int fds[FDPASS_MAX];
  size_t nfds = n > 0 ? fdpass_received_many(&hdr, fds, FDPASS_MAX) : 0;
  const char *json = NULL, *path = NULL;
  struct client *c = find(s, 0);
  usbox_err_t err = {0};
  /* only the container's owner (root's state directory is 0700 anyway) */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
      (cred.uid != s->peer_uid[0] && cred.uid != s->peer_uid[1]))
    usbox_err_set(&err, EPERM, "exec: not the container's owner");
  else if (n <= 0 || (hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
           parse_hello(buf, (size_t)n, &json, &path) < 0)
    usbox_err_set(&err, EINVAL, "exec: a malformed request");
  else if (c == NULL)
    usbox_err_set(&err, EAGAIN, "exec: too many processes started at once");
  if (err.msg[0] == '\0') {
    *c = (struct client){.fd = fd, .id = ++s->next_id != 0 ? s->next_id : ++s->next_id};
    if (forward_request(s, c, json, path, fds, nfds, &err) < 0)
      *c = (struct client){.fd = -1};
  }
  for (size_t i = 0; i < nfds; i++)
    close(fds[i]);
  if (err.msg[0] != '\0') {
    reply(fd, INIT_EV_FAILED, 0, err.code, INIT_STAGE_REQUEST, err.msg, -1);
    close(fd);
  }
}

/* An event of the init's for a client. 0, or -1 when the init is gone. */
static int from_init(struct server *s)
{
  struct init_exec_event ev;
  int fd;
  int rc = init_ctl_recv_event(s->ctl, &ev, &fd);
  if (rc <= 0)
    return rc == 0 || errno != EINTR ? -1 : 0;
  struct client *c = find(s, ev.id);
  if (c != NULL && c->fd >= 0)
    reply(c->fd, ev.event, ev.id, ev.value, ev.stage, NULL, fd);
  if (fd >= 0)
    close(fd);
  if (c == NULL)
    return 0;
  if (ev.event == INIT_EV_STARTED) {
    c->started = true;
    if (c->fd < 0) /* its client went while it started */
      init_ctl_send_signal(s->ctl, c->id, SIGKILL);
  }
  if (ev.event == INIT_EV_EXIT || ev.event == INIT_EV_FAILED)
    drop(c);
  return 0;
}

/* A client's signal, or its end: then its process is killed (the waiter
 * an engine watches was killed, or `usbox exec` was). */
static void from_client(struct server *s, struct client *c)
{
  struct oci_exec_signal sig;
  ssize_t n = recv(c->fd, &sig, sizeof sig, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n == (ssize_t)sizeof sig && sig.magic == OCI_EXEC_MAGIC && sig.signo > 0 && sig.signo < 65) {
    init_ctl_send_signal(s->ctl, c->id, sig.signo);
    return;
  }
  close(c->fd);
  c->fd = -1;
  if (c->started)
    init_ctl_send_signal(s->ctl, c->id, SIGKILL);
}

/* The sandbox ended: every process in it was killed with it. */
static void sandbox_gone(struct server *s)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (s->clients[i].id != 0) {
      if (s->clients[i].fd >= 0)
        reply(s->clients[i].fd, INIT_EV_EXIT, s->clients[i].id, SIGKILL, 0, NULL, -1);
      drop(&s->clients[i]);
    }
  close(s->listen_fd);
  close(s->ctl);
  unlink(s->sock_path);
}

static void *serve(void *arg)
{
  struct server *s = arg;
  for (;;) {
    struct pollfd p[2 + MAX_CLIENTS];
    p[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    p[1] = (struct pollfd){.fd = s->ctl, .events = POLLIN};
    for (int i = 0; i < MAX_CLIENTS; i++)
      p[2 + i] = (struct pollfd){.fd = s->clients[i].fd, .events = POLLIN};
    if (poll(p, 2 + MAX_CLIENTS, -1) < 0)
      continue;
    if (p[1].revents != 0 && from_init(s) < 0)
      break;
    for (int i = 0; i < MAX_CLIENTS; i++)
      if (p[2 + i].revents != 0 && s->clients[i].fd == p[2 + i].fd)
        from_client(s, &s->clients[i]);
    if (p[0].revents & POLLIN)
      accept_client(s);
  }
  sandbox_gone(s);
  free(s);
  return NULL;
}

int oci_exec_server_bind(const char *dir, usbox_err_t *err)
{
  /* bound through the directory's fd: a long --root still fits sun_path */
  cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/" OCI_EXEC_SOCKET, dirfd);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  /* 0600, the owner's alone: set after the bind rather than with umask,
   * which is the whole process's; no one else reaches it meanwhile: its
   * directory is 0700 (oci/state.c) */
  int rc = dirfd < 0 || fd < 0 ? -1 : bind(fd, (struct sockaddr *)&addr, sizeof addr);
  if (rc == 0)
    rc = fchmodat(dirfd, OCI_EXEC_SOCKET, 0600, 0);
  if (rc < 0 || listen(fd, 16) < 0) {
    usbox_err_set(err, errno, "the exec socket %s/%s", dir, OCI_EXEC_SOCKET);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

int oci_exec_server_start(const struct oci_exec_server_options *o, usbox_err_t *err)
{
  struct server *s = calloc(1, sizeof *s);
  if (s != NULL) {
    *s = (struct server){.rt = o->rt, .ctl = o->init_ctl, .listen_fd = o->listen_fd,
                         .peer_uid = {o->peer_uid[0], o->peer_uid[1]}};
    for (int i = 0; i < MAX_CLIENTS; i++)
      s->clients[i].fd = -1;
    snprintf(s->sock_path, sizeof s->sock_path, "%s/" OCI_EXEC_SOCKET, o->dir);
  }
  pthread_t t;
  if (s == NULL || (errno = pthread_create(&t, NULL, serve, s)) != 0) {
    usbox_err_set(err, s == NULL ? ENOMEM : errno, "the exec server");
    free(s);
    close(o->init_ctl);
    close(o->listen_fd);
    return -1;
  }
  pthread_detach(t);
  return 0;
}
