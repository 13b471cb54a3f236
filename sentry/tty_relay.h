/* The agent's own terminal. When usbox's stdin, stdout or stderr is a
 * terminal, the agent does not get it: it gets a pty of the sandbox's own
 * devpts (opened inside the view by the sandbox's first process, which
 * makes it its controlling terminal), and usbox relays between that pty's
 * master and the caller's terminal, as `docker run -t`, ssh and runsc do.
 * So no ioctl of the agent reaches the caller's terminal: a line
 * discipline, termios, a stopped output (TCXONC), exclusive mode
 * (TIOCEXCL) all stay inside and end with the sandbox. Window size changes
 * (SIGWINCH) are passed on; the caller's terminal is in raw mode while the
 * agent runs in the foreground and restored after. */
#ifndef USBOX_SENTRY_TTY_RELAY_H
#define USBOX_SENTRY_TTY_RELAY_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "common/error.h"

struct tty_relay {
  /* found before the sandbox starts (tty_relay_probe) */
  unsigned mask;          /* bit i: the caller's fd i is a terminal (0: no relay) */
  struct termios initial; /* the caller terminal's settings, for the agent's */
  bool have_termios;
  struct winsize size;
  bool have_size;
  /* while relaying */
  int in_fd;  /* the caller's terminal, read for input (-1: not in the foreground) */
  int out_fd; /* where the agent's terminal output goes */
  int master; /* the agent's pty, or -1 */
  bool raw;   /* in_fd was put in raw mode; initial is restored at the end */
  int stop[2];
  pthread_t thread;
  bool running;
};

/* Which of fds 0-2 are terminals, and their settings. */
void tty_relay_probe(struct tty_relay *t);

/* Relay between the caller's terminal and master (taken over). */
int tty_relay_start(struct tty_relay *t, int master, usbox_err_t *err);

/* SIGWINCH: the caller's window size to the agent's pty (the kernel then
 * signals the pty's foreground process group). */
void tty_relay_resize(struct tty_relay *t);

/* The agent is gone: pass on what its pty still holds, stop, restore the
 * caller's terminal. Idempotent. */
void tty_relay_finish(struct tty_relay *t);

#endif
