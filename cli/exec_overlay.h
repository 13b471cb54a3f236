/* --overlay and --session around one `usbox exec` run (docs/overlay.md):
 * before the policy is finished (the sessions directory is hidden), once
 * it is (the session opened and locked, mount points usbox will make in
 * it noted), and at the end (what the host had recorded; an anonymous
 * session removed). */
#ifndef USBOX_CLI_EXEC_OVERLAY_H
#define USBOX_CLI_EXEC_OVERLAY_H

#include "common/error.h"
#include "overlay/session.h"
#include "policy/policy.h"

struct overlay_run {
  const char *session_name; /* --session, or NULL */
  struct session session;
  bool open;
};

int overlay_run_prepare(struct policy *p, struct overlay_run *run, usbox_err_t *err);
int overlay_run_start(struct policy *p, struct overlay_run *run, usbox_err_t *err);
/* code: usbox's exit code; a session this run made and nothing wrote in is
 * removed when the start failed. verbose: say where the session is. */
void overlay_run_end(struct overlay_run *run, int code, bool verbose);

#endif
