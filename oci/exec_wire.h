/* `usbox exec ID` <-> the container's monitor: ROOT/ID/exec.sock, a
 * SOCK_SEQPACKET socket only the monitor's user can connect to. One
 * connection per process started; closing it kills that process. */
#ifndef USBOX_OCI_EXEC_WIRE_H
#define USBOX_OCI_EXEC_WIRE_H

#include <stdint.h>

#include "sentry/init_ctl.h"

#define OCI_EXEC_SOCKET "exec.sock"
#define OCI_EXEC_MAGIC 0x75786531u /* "uxe1" */
#define OCI_EXEC_MAX_JSON (64 * 1024)

/* client -> monitor, first: the process object's JSON text follows; the
 * client's fds 0-2 are attached unless the process has a terminal */
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

#endif
