/* Error contract (after crun's): a fallible function takes `usbox_err_t *err`,
 * returns a negative value on failure and fills *err with an errno and one
 * line of context that reads as a sentence. Callers add context with
 * usbox_err_wrap(). The agent's errno, when a handler answers the agent, is
 * not an usbox_err_t: it is a field of the handler's result. */
#ifndef USBOX_COMMON_ERROR_H
#define USBOX_COMMON_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef struct usbox_err {
  int code;       /* errno value, 0 when none applies */
  char msg[512];  /* one line, no trailing newline */
} usbox_err_t;

/* Fill err (if non-NULL) and return -1. `code` may be 0. */
int usbox_err_set(usbox_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix the message already in err with more context; returns -1. */
int usbox_err_wrap(usbox_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "usbox: <msg>[: strerror]" on stderr, or hand "<msg>[: strerror]"
 * to usbox_err_sink when one is set (an OCI container's monitor, whose
 * stderr is the container's: oci/container.c). */
void usbox_err_print(const usbox_err_t *err);
extern void (*usbox_err_sink)(const char *line);
void usbox_err_clear(usbox_err_t *err);
/* Control characters of the message (quoted from input no one checked)
 * become '?': one printable line. Returns -1, for `return` at an error. */
int usbox_err_printable(usbox_err_t *err);

#endif
