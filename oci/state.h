/* A container's state directory, ROOT/ID (runc's --root): state.json, the
 * start FIFO, and how its status is read back. The container's monitor is
 * the usbox process that runs its sentry (it outlives `create`); its pid and
 * start time identify it, so a recycled pid is never taken for it. */
#ifndef USBOX_OCI_STATE_H
#define USBOX_OCI_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

#define OCI_DEFAULT_ROOT "/run/usbox"
#define OCI_VERSION "1.2.0"

struct oci_state {
  char id[256];
  pid_t pid;                     /* the monitor (the container's pid for engines) */
  unsigned long long start_time; /* of that pid (/proc/PID/stat field 22) */
  pid_t init_pid;                /* the sandbox's first process (its pid namespace) */
  char bundle[PATH_MAX];
  char rootfs[PATH_MAX];
  char created[40];  /* RFC 3339, UTC */
  char *annotations; /* JSON object text */
  char *hooks;       /* the config's hooks, JSON text (poststop runs at delete) */
  char freezer[PATH_MAX]; /* the sandbox's freezer cgroup (limits/freezer.h), "" if none */
  uid_t owner;
};

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_STOPPED, OCI_PAUSED };

const char *oci_status_name(enum oci_status s);

/* ROOT/ID into out (the id checked). */
int oci_state_dir(const char *root, const char *id, char *out, size_t size, usbox_err_t *err);

/* Make ROOT (0700) and ROOT/ID; EEXIST: the id is taken. */
int oci_state_create_dir(const char *root, const char *id, usbox_err_t *err);

/* Write state.json (atomically: a temporary file renamed over it). */
int oci_state_write(const char *root, const struct oci_state *st, usbox_err_t *err);

/* Read state.json; ENOENT: no such container. */
int oci_state_read(const char *root, const char *id, struct oci_state *st, usbox_err_t *err);
void oci_state_free(struct oci_state *st);

/* Whether the monitor still runs, whether it waits for its start, whether
 * its processes are frozen. */
enum oci_status oci_state_status(const char *root, const struct oci_state *st);

/* The OCI state object (runtime-spec "state") as JSON text; free() it. */
char *oci_state_json(const struct oci_state *st, enum oci_status status);

/* Remove ROOT/ID and what is in it (state.json, the start FIFO, the exec
 * socket). */
int oci_state_remove(const char *root, const char *id, usbox_err_t *err);

/* --pid-file: pid written to path atomically (a temporary file renamed). */
int oci_write_pid_file(const char *path, pid_t pid, usbox_err_t *err);

/* /proc/PID/stat's start time, 0 if the process is gone. */
unsigned long long oci_process_start_time(pid_t pid);

/* Whether pid is the process that started at start_time, ended and not
 * yet reaped: its pid is still its own. */
bool oci_process_zombie(pid_t pid, unsigned long long start_time);

/* The names in ROOT that are containers, for `list`; *n set. */
char **oci_state_list(const char *root, size_t *n);

#endif
