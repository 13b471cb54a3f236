/* Platform seccomp user-notify: installing the filter in the agent, and the
 * listener ioctls the sentry uses. */
#ifndef USBOX_PLATFORM_UNOTIFY_H
#define USBOX_PLATFORM_UNOTIFY_H

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "platform/seccomp_filter.h"
#include "platform/seccomp_uapi.h"

/* Agent side, after no_new_privs: install the filter and return the listener
 * fd. Async-signal-safe (runs between fork and exec). *killable says whether
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV was accepted. */
int unotify_install(const struct bpf_program *prog, bool *killable);

/* Agent side, right before execve: a seccomp profile's filter
 * (platform/profile_filter.h) on top of usbox's. flags: PROFILE_FLAG_*.
 * Async-signal-safe. Returns 0 or -errno. */
int unotify_install_profile(const struct bpf_program *prog, unsigned flags);

/* Sentry side. All return 0 or -errno. */
struct unotify_sizes {
  size_t notif;
  size_t resp;
};
int unotify_sizes(struct unotify_sizes *out);
int unotify_set_sync_wakeup(int listener);
int unotify_recv(int listener, struct seccomp_notif *req);
int unotify_id_valid(int listener, uint64_t id);
int unotify_respond(int listener, uint64_t id, int64_t val, int err, bool cont);
/* Install srcfd in the target and answer the call with its number
 * (ADDFD|SEND: atomic). Returns the target's fd number or -errno. */
int unotify_addfd_send(int listener, uint64_t id, int srcfd, bool cloexec);
/* Install srcfd without answering (the call is answered later). */
int unotify_addfd(int listener, uint64_t id, int srcfd, bool cloexec);

#endif
