#ifndef USBOX_COMMON_LOG_H
#define USBOX_COMMON_LOG_H

/* 0 quiet, 1 warnings (default), 2 -v summary, 3 -vv debug */
extern int usbox_verbosity;

void usbox_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usbox_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void usbox_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* -vv: a start-up step ended (time since the first mark) */
void usbox_phase(const char *what);

#endif
