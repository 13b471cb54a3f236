/* usbox as an OCI runtime (runc's command-line contract): the global
 * options every verb shares, the runtime's log, and the container's life:
 * create (the monitor, which runs the sandbox, outlives it), start, kill,
 * delete. docs/oci.md. */
#ifndef USBOX_OCI_RUNTIME_H
#define USBOX_OCI_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "limits/limits.h"

/* usbox's policy for every container (docs/oci.md), if the file exists */
#define OCI_DEFAULTS_FILE "/etc/usbox/oci.json"

/* runc's exit code for any error */
#define OCI_EXIT_ERROR 1

struct oci_runtime {
  const char *root; /* --root: the state directories (OCI_DEFAULT_ROOT) */
  const char *log;  /* --log FILE, or NULL (stderr only) */
  bool log_json;    /* --log-format json */
  bool debug;       /* --debug */
};

/* One line to the log (and to stderr for "error", or with --debug). */
void oci_log(const struct oci_runtime *rt, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error: logged, on stderr; returns OCI_EXIT_ERROR. */
int oci_fail(const struct oci_runtime *rt, const usbox_err_t *err);

struct oci_create_options {
  const char *id;
  const char *bundle;         /* default "." */
  const char *pid_file;       /* NULL: none */
  const char *console_socket; /* NULL: stdio are the container's */
  int preserve_fds;           /* --preserve-fds N: fds 3..3+N-1 pass too */
};

/* --preserve-fds N (oci/preserve.c): fds 3..N+2 of this process pass to the
 * container's process at the same numbers. */
#define OCI_PRESERVE_MAX 4096
/* N from its text (digits only, at most OCI_PRESERVE_MAX). */
int oci_preserve_parse(const char *text, int *n, usbox_err_t *err);
/* Each of the N fds is open and is not a directory (refused: see
 * preserve.c); each is made close-on-exec here, so that only the
 * container's process gets it. At most max of them. */
int oci_preserve_check(int n, int max, usbox_err_t *err);
/* This process's copies go (the container holds them now): a pipe passed
 * in ends when the container closes its end. */
void oci_preserve_drop(int n);

/* Build the container and leave it waiting for its start. *monitor: the
 * monitor's pid (its exit status is the container's). */
int oci_create(const struct oci_runtime *rt, const struct oci_create_options *o, pid_t *monitor,
               usbox_err_t *err);
int oci_start(const struct oci_runtime *rt, const char *id, usbox_err_t *err);
/* The start FIFO's byte: the created container's process goes, or its
 * start is called off (a hook inside the container failed) and the
 * monitor takes the sandbox down. */
#define OCI_START_GO '1'
#define OCI_START_CALL_OFF '0'
/* Write it (go: OCI_START_GO) and wait until the monitor has taken it. */
int oci_release(const struct oci_runtime *rt, const char *id, bool go, usbox_err_t *err);
/* sig to the container's process (all of the sandbox's with all) */
int oci_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, usbox_err_t *err);
int oci_delete(const struct oci_runtime *rt, const char *id, bool force, usbox_err_t *err);
/* Freeze (pause) or thaw (resume) the container's processes. */
int oci_pause(const struct oci_runtime *rt, const char *id, bool pause, usbox_err_t *err);

/* runc's update: the resources to change (set[k]: change limit k; a value
 * of 0 in limits is "no limit"). */
struct oci_update {
  struct limits_config limits;
  bool set[LIMITS_NCONTROLLERS];
};
int oci_update(const struct oci_runtime *rt, const char *id, const struct oci_update *u,
               usbox_err_t *err);

/* runc's console socket: connect to path and send the pty master, with
 * the name "/dev/ptmx" as the message. */
int oci_send_console(const char *path, int master, usbox_err_t *err);
/* The same in two steps: the connection (made while the caller still has
 * the host's rights: a monitor about to enter a user namespace), then the
 * send on it. */
int oci_console_connect(const char *path, usbox_err_t *err);
int oci_console_send(int sock, int master, const char *path, usbox_err_t *err);

struct oci_exec_options {
  const char *id;
  const char *process_json;   /* the process object's text (--process FILE or built) */
  const char *console_socket; /* with a terminal: where its master goes */
  const char *pid_file;
  bool detach;        /* return once it runs (a waiter process stays for it) */
  bool ignore_paused; /* runc's --ignore-paused */
  int preserve_fds;   /* --preserve-fds N: fds 3..N+2 pass too (OCI_EXEC_MAX_PRESERVE) */
};

/* Start a process in a running container. Without detach, waits for it:
 * *exit_code is its exit code (128+N if killed by signal N). */
int oci_exec(const struct oci_runtime *rt, const struct oci_exec_options *o, int *exit_code,
             usbox_err_t *err);

/* In the monitor, early (with the host's rights: the socket is made in the
 * state directory, root's): the listening exec socket of the container
 * whose state directory is dir, 0600. Returns it, or -1. */
int oci_exec_server_bind(const char *dir, usbox_err_t *err);

struct oci_exec_server_options {
  const struct oci_runtime *rt;
  const char *dir;  /* the state directory (the socket is unlinked at the end) */
  int listen_fd;    /* from oci_exec_server_bind: owned from here on */
  int init_ctl;     /* the monitor's end of the init's channel: owned too */
  /* who may connect: the container's owner and the host's root, as
   * SO_PEERCRED shows them to the monitor (in a user namespace, an id
   * the maps do not reach shows as the overflow uid) */
  uid_t peer_uid[2];
};
/* Then, once the sandbox is up: serve `exec` (a thread). */
int oci_exec_server_start(const struct oci_exec_server_options *o, usbox_err_t *err);

/* The monitor keeps the --log file open from here on (it may lose the
 * right to open it: a user namespace). Returns that fd, or -1. */
int oci_log_hold(const struct oci_runtime *rt);

/* "TERM", "SIGTERM", "15", "RTMIN+3": the number, or -1 */
int oci_signal_number(const char *name);
/* The pids of the container's processes (host pids); *n set; free() it. */
pid_t *oci_container_pids(const struct oci_runtime *rt, const char *id, size_t *n, usbox_err_t *err);

#endif
