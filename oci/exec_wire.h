/* `usbox exec ID` <-> the container's monitor: ROOT/ID/exec.sock, a
 * SOCK_SEQPACKET socket only the monitor's user can connect to. One
 * connection per process started; closing it kills that process. */
#ifndef USBOX_OCI_EXEC_WIRE_H
#define USBOX_OCI_EXEC_WIRE_H

#include <stdint.h>

#include "sentry/init_ctl.h"

#define OCI_EXEC_SOCKET "exec.sock"
#define OCI_EXEC_MAGIC 0x75786531u      /* "uxe1" */
#define OCI_EXEC_HOOK_MAGIC 0x75786831u /* "uxh1" */
#define OCI_EXEC_MAX_JSON (64 * 1024)

/* client -> monitor, first: the process object's JSON text follows; the
 * client's fds 0-2 are attached unless the process has a terminal. With
 * OCI_EXEC_HOOK_MAGIC (a createContainer or startContainer hook, which
 * names the file to execute apart from its args) that file's absolute
 * path, NUL-terminated, comes between the two. */
struct oci_exec_hello {
  uint32_t magic;
  uint32_t json_len;
};

/* client -> monitor, then: a signal for the process */
struct oci_exec_signal {
  uint32_t magic;
  int32_t signo;
};

/* monitor -> client: the init's events (sentry/init_ctl.h), with a message
 * when the monitor itself refused (event INIT_EV_FAILED) */
struct oci_exec_reply {
  struct init_exec_event ev;
  char msg[256];
};

/* The client's side (oci/exec.c), shared by `exec` and the hooks that run
 * inside the container (oci/hooks_inside.c). */
struct oci_runtime;
/* A connection to the monitor of container id: the socket, or -1 (err). */
int oci_exec_connect(const struct oci_runtime *rt, const char *id, usbox_err_t *err);
struct oci_exec_request {
  const char *json;  /* the process object */
  const char *path;  /* a hook's file to execute, or NULL */
  const int *stdio;  /* its fds 0-2, or NULL: it has a terminal */
  int npreserve;     /* --preserve-fds: this process's 3..npreserve+2 go too */
};
int oci_exec_send(int sock, const struct oci_exec_request *r, usbox_err_t *err);
/* A reply; 0 at EOF (the monitor is gone), -1 on error. *fd: attached. */
int oci_exec_recv(int sock, struct oci_exec_reply *r, int *fd);

#endif
