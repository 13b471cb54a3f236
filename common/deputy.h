/* The deputy: the one code path through which usbox acts for an agent
 * thread (DEVELOPERS.md, invariant 2: the deputy never has more rights than
 * the agent).
 *
 * usbox's sentry and gofer run as root with every capability, because their
 * own work needs it (pidfd_getfd, process_vm_*, the gofer's mount roots).
 * Every host operation they perform *for* the agent (a walk, an open, a
 * chmod, a bind, a connect, a /proc read) runs between deputy_enter() and
 * deputy_leave(): the calling thread then has the agent thread's fsuid,
 * fsgid, supplementary groups and effective capabilities (its umask and real
 * and effective ids where the operation needs them), so the kernel itself
 * refuses what it would refuse the agent. deputy_leave() puts the thread's
 * own credentials back, whatever happened: a thread of usbox is never left
 * acting as someone else (it could not do its own work, or it would do the
 * next agent's with the wrong rights). A restore that fails aborts usbox:
 * the sandbox dies with it (fail closed) rather than go on with a thread
 * whose rights nobody knows.
 *
 * Everything here is per thread (raw system calls: glibc's wrappers of
 * setgroups and set*id would change every thread of the process).
 *
 * The struct is also the gofer protocol's identity field (fixed-width
 * types): the sentry fills it once, the gofer applies it with the same code. */
#ifndef USBOX_COMMON_DEPUTY_H
#define USBOX_COMMON_DEPUTY_H

#include <stdbool.h>
#include <stdint.h>

#define DEPUTY_MAX_GROUPS 64
#define DEPUTY_NO_FSIZE_LIMIT UINT64_MAX

struct deputy_creds {
  uint32_t fsuid, fsgid;      /* what file access is checked as */
  uint32_t uid, gid;          /* real ids: access(2), and DEPUTY_IDS */
  uint32_t euid, egid;        /* effective ids: DEPUTY_IDS (peer credentials) */
  uint32_t umask;             /* DEPUTY_UMASK */
  int32_t ngroups;            /* 0..DEPUTY_MAX_GROUPS */
  uint32_t groups[DEPUTY_MAX_GROUPS];
  uint64_t cap_eff;           /* the agent's effective capabilities (bit N: capability N) */
  uint64_t fsize_limit;       /* RLIMIT_FSIZE (soft), where an operation can grow a file */
};

/* The capabilities that override file permissions and ownership. The
 * deputy uses them only where the view lets the agent write: a root agent
 * that holds them (a container's root: tar -x, chown, chmod of others'
 * files) overrides nothing on the read-only host it sees. */
#define DEPUTY_OVERRIDE_CAPS                                                                       \
  ((1ull << 0) /* CAP_CHOWN */ | (1ull << 1) /* CAP_DAC_OVERRIDE */ |                               \
   (1ull << 2) /* CAP_DAC_READ_SEARCH */ | (1ull << 3) /* CAP_FOWNER */ |                          \
   (1ull << 4) /* CAP_FSETID */)
#define DEPUTY_CAP_FSETID (1ull << 4)

/* Scope creds to where an operation acts: outside a writable place none of
 * DEPUTY_OVERRIDE_CAPS; on the host's files (a bind) no CAP_FSETID either,
 * so that a chown clears setuid and setgid bits as the kernel does for a
 * caller without it (no setuid file is ever made on the host). */
static inline void deputy_scope(struct deputy_creds *c, bool writable, bool host_backed)
{
  if (!writable)
    c->cap_eff &= ~DEPUTY_OVERRIDE_CAPS;
  else if (host_backed)
    c->cap_eff &= ~DEPUTY_CAP_FSETID;
}

/* What deputy_enter takes on besides fs ids, groups and capabilities. */
#define DEPUTY_IDS 0x1      /* real and effective uid/gid (the thread's saved ids stay) */
#define DEPUTY_UMASK 0x2    /* the umask (the thread must have its own fs_struct) */
#define DEPUTY_REAL_IDS 0x4 /* access(2) without AT_EACCESS: fs ids = the real ids, and no
                             * capability unless the real uid is root (as the kernel's
                             * access_override_creds) */

/* Take on creds for this thread. 0, or -EPERM when they cannot be taken
 * (more groups than tracked, an id the thread may not assume): the thread
 * is then back to its own credentials and the caller must not act. */
int deputy_enter(const struct deputy_creds *creds, unsigned flags);
/* Whether creds taken with DEPUTY_REAL_IDS are the same as without (real
 * ids equal to the fs ids, and a non-root real uid holds no capability):
 * then what access(2) checks with the real ids, the effective ids check
 * too. */
static inline bool deputy_real_same(const struct deputy_creds *c)
{
  return c->uid == c->fsuid && c->gid == c->fsgid && (c->uid == 0 || c->cap_eff == 0);
}

/* Back to the thread's own credentials (aborts if that fails); but see
 * deputy_linger_allow. */
void deputy_leave(void);

/* Lingering. Two capset calls around every scope are most of what a
 * scope costs a root agent without capabilities (its ids are usbox's own;
 * only the effective set differs). On a thread that allows it, a scope
 * that changed nothing but the effective set (and the umask, which goes
 * back) leaves that set in place; the next scope with the same set makes
 * no system call, one with another set makes one.
 *
 * Why that is safe: a lingering thread has its own ids, fs ids and groups
 * and an effective set that is a subset of its own (the agent's, less
 * what the thread is not permitted): whatever it does meanwhile it does
 * with at most its own rights, and never with more than a scope of the
 * agent's would have. What can fail is its own work that needs its own
 * capabilities (ptrace-checked reads of the agent's /proc entries,
 * process_vm_*, pidfd_getfd, chroot): such code calls deputy_unlinger()
 * first, or on EPERM and tries again. A thread allows lingering only
 * while it runs code audited for that (sentry/dispatch.c). */
void deputy_linger_allow(bool on); /* off: the own set back now */
/* The thread's own effective set back if a scope's lingers (outside a
 * scope; aborts if that fails). Whether it did: a call that failed for
 * want of a capability is then worth trying again. */
bool deputy_unlinger(void);
/* Whether this thread is inside deputy_enter .. deputy_leave. */
bool deputy_active(void);

/* The creds of this thread itself, outside any deputy scope (a call usbox
 * makes for its own sake, sent to the gofer). */
void deputy_own_creds(struct deputy_creds *out);

#endif
