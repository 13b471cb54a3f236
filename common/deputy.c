/* The deputy's credential switch (deputy.h says what and why). The order of
 * the steps matters, and each is explained where it happens. */
#include "common/deputy.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* What a thread has: its own credentials (loaded once) and what it has now. */
struct thread_creds {
  uid_t ruid, euid, fsuid;
  gid_t rgid, egid, fsgid;
  int ngroups;
  gid_t groups[DEPUTY_MAX_GROUPS];
  uint32_t eff[2], prm[2], inh[2];
  mode_t umask;
};

enum {
  CHANGED_GROUPS = 0x1,
  CHANGED_IDS = 0x2,
  CHANGED_FSGID = 0x4,
  CHANGED_FSUID = 0x8,
  CHANGED_CAPS = 0x10,
  CHANGED_UMASK = 0x20,
};

static __thread struct {
  bool loaded;
  bool umask_loaded;
  bool active;
  /* deputy_linger_allow: a scope that changed only the effective set may
   * leave it changed (lingering), and the next scope starts from it */
  bool may_linger;
  bool lingering;
  unsigned changed;
  uint32_t now_eff[2]; /* the effective set the thread has now (own.eff unless changed) */
  struct thread_creds own;
} self;

static _Noreturn void restore_failed(const char *what)
{
  /* A thread of usbox with credentials nobody knows must not serve another
   * call: end usbox, and with it the sandbox (fail closed). */
  fprintf(stderr, "usbox: restoring a thread's own credentials failed (%s): %s\n", what,
          strerror(errno));
  abort();
}

static int cap_get(uint32_t eff[2], uint32_t prm[2], uint32_t inh[2])
{
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0)
    return -errno;
  for (int i = 0; i < 2; i++)
    eff[i] = d[i].effective, prm[i] = d[i].permitted, inh[i] = d[i].inheritable;
  return 0;
}

/* This thread's effective set (raw capset: this thread only; the permitted
 * and inheritable sets stay the thread's own, so it can always come back). */
static int cap_set_effective(const uint32_t eff[2])
{
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  for (int i = 0; i < 2; i++)
    d[i] = (struct __user_cap_data_struct){
        .effective = eff[i], .permitted = self.own.prm[i], .inheritable = self.own.inh[i]};
  return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static void load_own(void)
{
  struct thread_creds *o = &self.own;
  uid_t suid;
  gid_t sgid;
  if (syscall(SYS_getresuid, &o->ruid, &o->euid, &suid) < 0 ||
      syscall(SYS_getresgid, &o->rgid, &o->egid, &sgid) < 0)
    restore_failed("reading the thread's ids");
  o->fsuid = (uid_t)setfsuid((uid_t)-1);
  o->fsgid = (gid_t)setfsgid((gid_t)-1);
  long n = syscall(SYS_getgroups, DEPUTY_MAX_GROUPS, o->groups);
  if (n < 0)
    restore_failed("reading the thread's groups");
  o->ngroups = (int)n;
  if (cap_get(o->eff, o->prm, o->inh) < 0)
    restore_failed("reading the thread's capabilities");
  self.now_eff[0] = o->eff[0], self.now_eff[1] = o->eff[1];
  self.loaded = true;
}

static bool same_groups(const struct deputy_creds *c)
{
  if (c->ngroups != self.own.ngroups)
    return false;
  for (int i = 0; i < c->ngroups; i++)
    if (c->groups[i] != self.own.groups[i])
      return false;
  return true;
}

/* The supplementary groups: first, while the thread still has its own
 * capabilities (setgroups needs CAP_SETGID). */
static int enter_groups(const struct deputy_creds *c)
{
  if (same_groups(c))
    return 0;
  gid_t g[DEPUTY_MAX_GROUPS];
  for (int i = 0; i < c->ngroups; i++)
    g[i] = c->groups[i];
  self.changed |= CHANGED_GROUPS;
  return syscall(SYS_setgroups, (size_t)c->ngroups, g) < 0 ? -EPERM : 0;
}

/* Real and effective ids (the peer credentials another process sees). The
 * saved ids stay the thread's own: that is what lets it come back. The
 * kernel then sets the fs ids to the effective ones and, for an effective
 * uid that leaves 0, clears the effective capabilities; both are set again
 * below. */
static int enter_ids(const struct deputy_creds *c)
{
  if (c->uid == self.own.ruid && c->euid == self.own.euid && c->gid == self.own.rgid &&
      c->egid == self.own.egid)
    return 0;
  self.changed |= CHANGED_IDS;
  if (syscall(SYS_setresgid, c->gid, c->egid, (gid_t)-1) < 0 ||
      syscall(SYS_setresuid, c->uid, c->euid, (uid_t)-1) < 0)
    return -EPERM;
  return 0;
}

/* The fs ids, each read back when set: setfs*id reports no error. Leaving
 * fsuid 0 clears the file capabilities of the effective set (set again
 * below). The ids the thread has now are known without asking (two system
 * calls saved on every scope): outside a scope its own (deputy_leave
 * restores them and checks, and nothing else in usbox changes a serving
 * thread's ids), and after enter_ids the kernel has set them to the new
 * effective ids (setresuid and setresgid set fsuid = euid, fsgid = egid). */
static int enter_fs_ids(const struct deputy_creds *c, uid_t fsuid, gid_t fsgid)
{
  bool ids_moved = self.changed & CHANGED_IDS;
  gid_t now_gid = ids_moved ? c->egid : self.own.fsgid;
  uid_t now_uid = ids_moved ? c->euid : self.own.fsuid;
  if (now_gid != fsgid) {
    self.changed |= CHANGED_FSGID;
    setfsgid(fsgid);
    if ((gid_t)setfsgid((gid_t)-1) != fsgid)
      return -EPERM;
  }
  if (now_uid != fsuid) {
    self.changed |= CHANGED_FSUID;
    setfsuid(fsuid);
    if ((uid_t)setfsuid((uid_t)-1) != fsuid)
      return -EPERM;
  }
  return 0;
}

/* Last: the effective capabilities are exactly the agent's, less what the
 * thread is not permitted (never more than either). Nothing to do when the
 * thread has exactly those already (its own, or a lingering scope's) and no
 * id change cleared them. */
static int enter_caps(uint64_t agent_caps)
{
  uint32_t want[2] = {(uint32_t)agent_caps & self.own.prm[0],
                      (uint32_t)(agent_caps >> 32) & self.own.prm[1]};
  bool ids_moved = self.changed & (CHANGED_IDS | CHANGED_FSUID);
  if (!ids_moved && want[0] == self.now_eff[0] && want[1] == self.now_eff[1])
    return 0;
  self.changed |= CHANGED_CAPS;
  if (cap_set_effective(want) < 0)
    return -EPERM;
  self.now_eff[0] = want[0], self.now_eff[1] = want[1];
  return 0;
}

/* The thread's own effective set again, after a lingering scope's. */
static bool drop_lingering(void)
{
  if (!self.lingering)
    return false;
  if (cap_set_effective(self.own.eff) < 0)
    restore_failed("capabilities");
  self.now_eff[0] = self.own.eff[0], self.now_eff[1] = self.own.eff[1];
  self.lingering = false;
  return true;
}

/* Whether creds need more than the effective set changed: ids, fs ids or
 * groups that are not the thread's own. */
static bool needs_more_than_caps(const struct deputy_creds *c, unsigned flags, uid_t fsuid,
                                 gid_t fsgid)
{
  const struct thread_creds *o = &self.own;
  if (fsuid != o->fsuid || fsgid != o->fsgid || !same_groups(c))
    return true;
  return (flags & DEPUTY_IDS) &&
         (c->uid != o->ruid || c->euid != o->euid || c->gid != o->rgid || c->egid != o->egid);
}

static void enter_umask(mode_t mask)
{
  if (!self.umask_loaded) {
    self.own.umask = umask(0);
    umask(self.own.umask);
    self.umask_loaded = true;
  }
  if (mask != self.own.umask) {
    self.changed |= CHANGED_UMASK;
    umask(mask);
  }
}

int deputy_enter(const struct deputy_creds *c, unsigned flags)
{
  if (self.active)
    restore_failed("a deputy scope inside another"); /* a bug of usbox's own */
  if (!self.loaded)
    load_own();
  if (c->ngroups < 0 || c->ngroups > DEPUTY_MAX_GROUPS)
    return -EPERM; /* more groups than usbox tracks: refuse rather than guess */
  self.active = true;
  self.changed = 0;
  bool real = flags & DEPUTY_REAL_IDS;
  uid_t fsuid = real ? c->uid : c->fsuid;
  gid_t fsgid = real ? c->gid : c->fsgid;
  /* access(2) with the real ids: a non-root real uid has no capability */
  uint64_t caps = real && c->uid != 0 ? 0 : c->cap_eff;
  /* a lingering effective set is reused only by a scope that changes
   * nothing else: setgroups and set*id need the thread's own first */
  if (self.lingering && needs_more_than_caps(c, flags, fsuid, fsgid))
    drop_lingering();
  int r = enter_groups(c);
  if (r == 0 && (flags & DEPUTY_IDS))
    r = enter_ids(c);
  if (r == 0)
    r = enter_fs_ids(c, fsuid, fsgid);
  if (r == 0)
    r = enter_caps(caps);
  if (r == 0 && (flags & DEPUTY_UMASK))
    enter_umask((mode_t)c->umask & 0777);
  if (r < 0)
    deputy_leave();
  return r;
}

/* deputy_leave for a scope that changed at most the effective set and the
 * umask, on a thread that may linger: the umask back, the set kept. */
static void leave_lingering(void)
{
  if (self.changed & CHANGED_UMASK)
    umask(self.own.umask);
  self.lingering = self.now_eff[0] != self.own.eff[0] || self.now_eff[1] != self.own.eff[1];
  self.changed = 0;
  self.active = false;
}

void deputy_leave(void)
{
  if (!self.active)
    return;
  const struct thread_creds *o = &self.own;
  unsigned ch = self.changed;
  if (self.may_linger && !(ch & ~(unsigned)(CHANGED_CAPS | CHANGED_UMASK))) {
    leave_lingering();
    return;
  }
  if (self.lingering) /* the set came from an earlier scope: it goes too */
    ch |= CHANGED_CAPS;
  /* the thread's own capabilities first: setgroups and set*id need them */
  if ((ch & (CHANGED_CAPS | CHANGED_IDS | CHANGED_FSUID)) && cap_set_effective(o->eff) < 0)
    restore_failed("capabilities");
  if (ch & CHANGED_IDS) {
    /* the effective set above is still permitted (the saved uid kept the
     * permitted set): with it, its own uid, then its own gids */
    if (syscall(SYS_setresuid, o->ruid, o->euid, (uid_t)-1) < 0 ||
        syscall(SYS_setresgid, o->rgid, o->egid, (gid_t)-1) < 0 || cap_set_effective(o->eff) < 0)
      restore_failed("ids");
  }
  if ((ch & CHANGED_GROUPS) && syscall(SYS_setgroups, (size_t)o->ngroups, o->groups) < 0)
    restore_failed("groups");
  if (ch & (CHANGED_IDS | CHANGED_FSGID | CHANGED_FSUID)) {
    setfsgid(o->fsgid);
    setfsuid(o->fsuid);
    if ((gid_t)setfsgid((gid_t)-1) != o->fsgid || (uid_t)setfsuid((uid_t)-1) != o->fsuid)
      restore_failed("fs ids");
    /* fsuid back to 0 raised the file capabilities: the effective set is
     * the thread's own again only if that is what it had */
    uint32_t eff[2] = {0}, prm[2] = {0}, inh[2] = {0};
    if (cap_get(eff, prm, inh) < 0 ||
        ((eff[0] != o->eff[0] || eff[1] != o->eff[1]) && cap_set_effective(o->eff) < 0))
      restore_failed("capabilities");
  }
  if (ch & CHANGED_UMASK)
    umask(o->umask);
  self.now_eff[0] = o->eff[0], self.now_eff[1] = o->eff[1];
  self.lingering = false;
  self.changed = 0;
  self.active = false;
}

bool deputy_unlinger(void)
{
  return !self.active && drop_lingering();
}

void deputy_linger_allow(bool on)
{
  if (!on)
    deputy_unlinger();
  self.may_linger = on;
}

bool deputy_active(void)
{
  return self.active;
}

void deputy_own_creds(struct deputy_creds *out)
{
  if (!self.loaded)
    load_own();
  const struct thread_creds *o = &self.own;
  memset(out, 0, sizeof *out);
  out->fsuid = o->fsuid, out->fsgid = o->fsgid;
  out->uid = o->ruid, out->gid = o->rgid;
  out->euid = o->euid, out->egid = o->egid;
  out->umask = 022;
  out->ngroups = o->ngroups;
  for (int i = 0; i < o->ngroups; i++)
    out->groups[i] = o->groups[i];
  out->cap_eff = (uint64_t)o->eff[0] | ((uint64_t)o->eff[1] << 32);
  out->fsize_limit = DEPUTY_NO_FSIZE_LIMIT;
}
