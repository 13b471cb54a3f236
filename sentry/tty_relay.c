#include "sentry/tty_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void tty_relay_probe(struct tty_relay *t)
{
  memset(t, 0, sizeof *t);
  t->in_fd = t->out_fd = t->master = t->stop[0] = t->stop[1] = -1;
  int first = -1;
  for (int fd = 0; fd < 3; fd++)
    if (isatty(fd)) {
      t->mask |= 1u << fd;
      if (first < 0)
        first = fd;
    }
  if (first < 0)
    return;
  t->have_termios = tcgetattr(first, &t->initial) == 0;
  t->have_size = ioctl(first, TIOCGWINSZ, &t->size) == 0;
}

static int write_all(int fd, const char *buf, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

/* What the master holds now (it is non-blocking), to the caller. Returns
 * false once the agent's side is closed (EIO) or the caller's is gone. */
static bool pass_output(struct tty_relay *t)
{
  char buf[4096];
  for (;;) {
    ssize_t n = read(t->master, buf, sizeof buf);
    if (n > 0) {
      if (write_all(t->out_fd, buf, (size_t)n) < 0)
        return false;
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EINTR);
  }
}

/* After the agent ended: the pty passes what it was written through a
 * work queue, so output can still arrive after the last writer is gone.
 * Until the master says the other side is closed and empty (EIO), or
 * nothing came for 200 ms (something else holds it open). */
static void drain_output(struct tty_relay *t)
{
  struct pollfd pf = {.fd = t->master, .events = POLLIN};
  while (poll(&pf, 1, 200) > 0 && pass_output(t))
    ;
}

/* Input waits in pending until the pty takes it (a full pty input queue
 * must not stop the output from being read). */
struct pending {
  char buf[4096];
  size_t off, len;
};

static bool pass_input(struct tty_relay *t, struct pending *in)
{
  if (in->len == 0) {
    ssize_t n = read(t->in_fd, in->buf, sizeof in->buf);
    if (n <= 0)
      return n < 0 && errno == EINTR; /* EOF: the caller's terminal is gone */
    in->off = 0;
    in->len = (size_t)n;
  }
  ssize_t w = write(t->master, in->buf + in->off, in->len);
  if (w > 0) {
    in->off += (size_t)w;
    in->len -= (size_t)w;
  }
  return w >= 0 || errno == EAGAIN || errno == EINTR;
}

static void *relay_main(void *p)
{
  struct tty_relay *t = p;
  struct pending in = {.len = 0};
  bool reading = t->in_fd >= 0;
  for (;;) {
    struct pollfd pf[3] = {
        {.fd = t->master, .events = POLLIN | (in.len > 0 ? POLLOUT : 0)},
        {.fd = t->stop[0], .events = POLLIN},
        {.fd = reading && in.len == 0 ? t->in_fd : -1, .events = POLLIN}};
    if (poll(pf, 3, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pass_output(t))
      break;
    if (pf[1].revents) { /* the agent ended: what is left, then stop */
      drain_output(t);
      break;
    }
    if ((pf[2].revents || (pf[0].revents & POLLOUT)) && reading && !pass_input(t, &in))
      reading = false;
  }
  return NULL;
}

int tty_relay_start(struct tty_relay *t, int master, usbox_err_t *err)
{
  t->master = master;
  t->out_fd = (t->mask & 2) ? 1 : (t->mask & 4) ? 2 : 0;
  /* input only from a terminal we are in the foreground of: reading, or
   * setting raw mode, from the background would stop usbox (SIGTTIN/OU) */
  if ((t->mask & 1) && tcgetpgrp(0) == getpgrp())
    t->in_fd = 0;
  if (fcntl(master, F_SETFL, O_NONBLOCK) < 0 || pipe2(t->stop, O_CLOEXEC) < 0)
    return usbox_err_set(err, errno, "setting up the terminal relay");
  if (t->in_fd >= 0 && t->have_termios) {
    struct termios raw = t->initial;
    cfmakeraw(&raw);
    /* the agent's terminal does the echo, the line editing, ^C: the
     * caller's passes keys through untouched */
    t->raw = tcsetattr(t->in_fd, TCSADRAIN, &raw) == 0;
  }
  int r = pthread_create(&t->thread, NULL, relay_main, t);
  if (r != 0) {
    tty_relay_finish(t);
    return usbox_err_set(err, r, "starting the terminal relay");
  }
  t->running = true;
  return 0;
}

void tty_relay_resize(struct tty_relay *t)
{
  struct winsize ws;
  if (t->master >= 0 && ioctl(t->out_fd, TIOCGWINSZ, &ws) == 0)
    ioctl(t->master, TIOCSWINSZ, &ws);
}

void tty_relay_finish(struct tty_relay *t)
{
  if (t->running) {
    ssize_t w = write(t->stop[1], "s", 1);
    (void)w;
    pthread_join(t->thread, NULL);
    t->running = false;
  }
  if (t->raw && tcsetattr(t->in_fd, TCSADRAIN, &t->initial) < 0)
    usbox_warn("restoring the terminal's settings: %s", strerror(errno));
  t->raw = false;
  for (int *fd = &t->stop[0]; fd <= &t->stop[1]; fd++)
    if (*fd >= 0)
      close(*fd), *fd = -1;
  if (t->master >= 0)
    close(t->master);
  t->master = -1;
}
