/* The sandbox policy: what the agent's filesystem view looks like (and, in
 * later issues, its network and limits). Built from command-line flags and/or
 * a JSON file, validated completely before anything starts: a bad policy is
 * one clear line and exit 125, with nothing on the host changed. */
#ifndef USBOX_POLICY_POLICY_H
#define USBOX_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "limits/limits.h"
#include "policy/env.h"
#include "policy/exec_rules.h"
#include "policy/net.h"

enum mount_kind {
  MOUNT_BIND,  /* a host directory or file */
  MOUNT_TMPFS, /* fresh, private, gone at exit (the default /tmp) */
};

struct policy_mount {
  enum mount_kind kind;
  char *dest;   /* absolute, normalised view path */
  char *source; /* MOUNT_BIND: absolute host path (symlinks resolved) */
  bool writable;
  /* a copy-on-write bind (--overlay): the host's files read through, every
   * change kept in an upper layer (overlay/session.h); writable in the view */
  bool overlay;
  /* an overlay only so that mount points the host lacks can be made in it
   * (--rw ./p:/workspace on the read-only host); read-only once they are */
  bool points_only;
  bool from_preset; /* a preset's (medium's workspace): the same mount said again is one */
};

/* --overlay: what is not a --rw bind is copy-on-write (docs/overlay.md). */
enum overlay_mode {
  OVERLAY_NONE,
  OVERLAY_DISK,   /* upper layers in the session's directory on the host */
  OVERLAY_MEMORY, /* upper layers in a tmpfs of the sandbox, gone at exit */
};
struct policy_overlay {
  enum overlay_mode mode;
  uint64_t size; /* OVERLAY_MEMORY: the tmpfs's cap (0: as /tmp's) */
  char *dir;      /* OVERLAY_DISK: the session's directory (set by the caller) */
  bool userxattr; /* mounted in a user namespace: overlayfs's user.* xattrs */
  bool kept;      /* a named session: what the host had is recorded as the agent changes it */
  /* $HOME copy-on-write (memory, or the session's) when nothing else says
   * what it is: `usbox exec`'s default, not the OCI runtime's */
  bool cow_home;
};

/* A hidden object by identity (policy/hidden.c): whatever name reaches it. */
struct policy_hidden_id {
  dev_t dev;
  ino_t ino;
  size_t rule; /* the rule that hides it: an index into policy.hide_rules */
  bool dir;    /* a directory (no other name can reach it but a bind) */
  /* A non-directory hidden by its own path, with one link when found: that
   * path, where the sentry finds it again to be told of a second name
   * (vfs/vfs.c watch_hidden_files); NULL for any other. Owned. */
  char *one_link_path;
};

/* The agent process itself, where it differs from usbox's (the OCI
 * runtime's process.user, cwd and rlimits; docs/oci.md). */
#define POLICY_MAX_GROUPS 32
#define POLICY_MAX_RLIMITS 16
struct policy_process {
  bool set_user;  /* run as uid/gid/groups below, not usbox's ids */
  /* a uid other than 0 keeps the capabilities it is given (usbox exec
   * --user with --cap-add): kept across the switch and made ambient, so
   * the program's execve keeps them too */
  bool ambient_caps;
  uid_t uid;
  gid_t gid;
  size_t ngroups;
  gid_t groups[POLICY_MAX_GROUPS];
  char *cwd; /* the starting directory in the view (NULL: usbox's own) */
  size_t nrlimits;
  struct policy_rlimit {
    int resource;
    unsigned long long soft, hard;
  } rlimits[POLICY_MAX_RLIMITS]; /* set last, in the agent process, before execve */
  int umask; /* -1: usbox's */
  bool set_oom_score_adj;
  int oom_score_adj; /* -1000..1000, /proc/self/oom_score_adj of the agent */
  /* sysctls of the sandbox's own namespaces (net.*, IPC, mqueue), set
   * once it is in them (oci/spec.c allows only those) */
  size_t nsysctls;
  struct policy_sysctl {
    char *name; /* dotted: net.ipv4.ping_group_range */
    char *value;
  } *sysctls;
};

struct policy {
  struct policy_mount *mounts;
  size_t nmounts;
  /* Absolute paths that do not exist in the sandbox: the host paths of the
   * rules until policy_finish, then every view path where a hidden host
   * object (or one that may appear there) shows (policy_expand_hidden). */
  char **hidden;
  size_t nhidden;
  /* Per hidden path, the rule that hides it (an index into hide_rules):
   * what the audit log and -v name when the agent meets it. */
  size_t *hidden_rule;
  /* The rules as they are named: "hide /x" (--hide, "hide"), "built-in
   * secret ~/.ssh" (the default list), ... each text once. */
  char **hide_rules;
  size_t nhide_rules;
  /* The rules' paths (and their rule indexes) as policy_expand_hidden
   * found them, freed only by policy_free: usbox expands them after
   * cloning the sandbox's first process, and a free there writes to pages
   * the two share copy-on-write (a page copied for each). */
  char **hidden_given;
  size_t *hidden_given_rule;
  size_t nhidden_given;
  struct policy_hidden_id *hidden_ids; /* the hidden objects that exist at start */
  size_t nhidden_ids;
  bool default_hidden; /* add the built-in list of secrets (on unless told) */
  bool private_tmp;    /* a fresh /tmp (on unless a mount of /tmp is given) */
  struct net_policy net; /* the network (policy/net.h) */
  struct env_policy env; /* the agent's environment (policy/env.h) */
  struct exec_rules exec; /* which programs may run (policy/exec_rules.h) */
  /* presets (policy/preset.h) */
  char preset[16];        /* the last one applied, or "" */
  bool exec_program_only; /* exec.allow gets the program itself (and its #! interpreter) */
  bool audit_all;         /* every decision in an audit log, by default in the state dir */
  bool from_file;         /* a --policy file was read */
  struct limits_config limits; /* limits/limits.h */
  /* capabilities the agent keeps (bit N: capability N): --cap-add's until
   * policy_resolve_caps, then the whole set */
  uint64_t keep_caps;
  uint64_t drop_caps; /* --cap-drop's: taken from the default set */
  char hostname[65];     /* of the sandbox's UTS namespace ("usbox") */
  struct policy_process process;
  struct policy_overlay overlay;
  /* a Docker/OCI seccomp profile applied on top of usbox's table
   * (policy/seccomp_profile.h), read once the capabilities are known; or
   * NULL */
  char *seccomp_profile;
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/* --rw SPEC / --ro SPEC where SPEC is PATH or SRC:DEST. Relative paths are
 * taken from the current directory. */
int policy_add_bind(struct policy *p, const char *spec, bool writable, usbox_err_t *err);
/* A bind of the host path source (made absolute, symlinks resolved) at the
 * view path dest. */
int policy_add_mount(struct policy *p, const char *source, const char *dest, bool writable,
                     usbox_err_t *err);
/* Whether a mount of the policy's is at the view path dest. */
bool policy_has_mount_at(const struct policy *p, const char *dest);
/* The host directory shown as the view's "/" (the host's "/" unless a
 * mount at "/" says otherwise). */
const char *policy_root_source(const struct policy *p);
/* --hide PATH / "hide": [PATH]; its rule is named "hide PATH". */
int policy_add_hidden(struct policy *p, const char *path, usbox_err_t *err);
/* A path hidden for another reason: its rule is named "WHY PATH" ("OCI
 * maskedPaths /proc/kcore"). */
int policy_add_hidden_by(struct policy *p, const char *path, const char *why, usbox_err_t *err);
/* The rule that hides hidden path i. */
const char *policy_hidden_rule(const struct policy *p, size_t i);
int policy_add_tmpfs(struct policy *p, const char *dest, usbox_err_t *err);
/* --cap-add NAME: CAP_NET_BIND_SERVICE or NET_BIND_SERVICE (any case), or ALL */
int policy_add_cap(struct policy *p, const char *name, usbox_err_t *err);
/* --cap-drop NAME (or ALL): not kept, unless --cap-add names it (as
 * Docker: --cap-drop ALL --cap-add CHOWN keeps CHOWN only). */
int policy_drop_cap(struct policy *p, const char *name, usbox_err_t *err);

/* What a root agent keeps unless told otherwise: root in a default
 * container, for what it owns. The capabilities that override file
 * permissions count only in writable places (common/deputy.h); set*id is
 * not here (on the host's user namespace it would reach other users' files
 * in the read-only view), nor anything that administers the system. */
#define POLICY_ROOT_DEFAULT_CAPS                                                                   \
  ((1ull << 0) /* CHOWN */ | (1ull << 1) /* DAC_OVERRIDE */ | (1ull << 3) /* FOWNER */ |         \
   (1ull << 4) /* FSETID */ | (1ull << 5) /* KILL */ | (1ull << 10) /* NET_BIND_SERVICE */)
/* The agent's set, once it is known whether the agent is root: the root
 * default less --cap-drop's, plus --cap-add's. */
void policy_resolve_caps(struct policy *p, bool agent_is_root);
int policy_set_hostname(struct policy *p, const char *name, usbox_err_t *err);
/* --overlay[=disk|memory[:SIZE]] (mode NULL: disk); "none" turns it off. */
int policy_set_overlay(struct policy *p, const char *mode, usbox_err_t *err);
/* --home overlay|ro: the agent's home copy-on-write (the default of usbox
 * exec) or read-only like the rest of the host. */
int policy_set_home(struct policy *p, const char *mode, usbox_err_t *err);
/* --user USER[:GROUP]: the agent's uid and gid (numbers or the host's
 * names; without GROUP, USER's primary group, or the same number), with no
 * supplementary groups. */
int policy_set_user(struct policy *p, const char *spec, usbox_err_t *err);
/* --chdir DIR / "process": {"cwd": DIR}: where the program starts, a path
 * of the view (a relative one is taken from usbox's current directory). */
int policy_set_cwd(struct policy *p, const char *dir, usbox_err_t *err);
/* --seccomp-profile FILE / "seccomp_profile": the last one given wins.
 * A relative FILE is taken from the current directory. */
int policy_set_seccomp_profile(struct policy *p, const char *file, usbox_err_t *err);
/* Merge a JSON policy file (docs/policy.md, policy/json.c): its values
 * are applied over what p has, as flags are. An error names the JSON path
 * of the problem ("policy FILE: .mounts[1].destination: ..."). */
int policy_load_file(struct policy *p, const char *file, usbox_err_t *err);
int policy_load_json(struct policy *p, const char *text, usbox_err_t *err);
/* The same from text read elsewhere, its errors named "policy NAME: ...". */
int policy_load_named(struct policy *p, const char *text, const char *name, usbox_err_t *err);
/* A policy file's text (at most 64 KiB), malloc'd; NULL with err. */
char *policy_read_file(const char *file, usbox_err_t *err);
/* The policy in the same format, with every key the reader accepts (the
 * defaults included), so that it reads back as the same policy: a cJSON
 * object (cjson/cJSON.h), or NULL when memory is short. For a policy not
 * finished: after policy_finish the hidden paths are the expanded view
 * paths; "hide" lists the rules given with --hide and "hide". */
struct cJSON;
struct cJSON *policy_to_json(const struct policy *p);

/* The view's defaults, which policy_finish adds first: the private /tmp
 * (unless a mount names /tmp), the read-only host root (unless a mount
 * names /), one mount per destination, parents before children. What
 * `usbox policy check` shows is the policy from here. */
int policy_complete_view(struct policy *p, usbox_err_t *err);
/* Complete the policy: the view's defaults, the built-in hidden paths
 * (expanded for every /home/<user> and /root), and the checks that need
 * the whole picture (duplicate destinations, a path bound and hidden). */
int policy_finish(struct policy *p, usbox_err_t *err);
/* policy_finish but the last step, policy_expand_hidden: the hidden paths
 * are still the rules (host paths). usbox exec expands them while the
 * sandbox's first process makes its namespaces (sentry/supervisor.c). */
int policy_finish_rules(struct policy *p, usbox_err_t *err);

/* The hidden rules (host paths) into view paths and identities: symlinked
 * parents and hidden symlinks followed on the host, the host's other mounts
 * of the same objects, every bind that shows them (policy/hidden.c). Called
 * by policy_finish, or after policy_finish_rules. */
int policy_expand_hidden(struct policy *p, usbox_err_t *err);

/* The built-in hidden paths: relative to each home directory, absolute,
 * and directories whose every entry is hidden (policy_finish also hides
 * the socket $SSH_AUTH_SOCK names). */
extern const char *const policy_default_hidden_home[];
extern const char *const policy_default_hidden_abs[];
extern const char *const policy_default_hidden_each[];

/* path made absolute from the current directory, and normalised. */
int policy_absolute(const char *path, char *out, size_t size, usbox_err_t *err);
/* Lexically normalise an absolute path into out: collapse "//", drop ".",
 * resolve ".." (never above "/"). Returns 0 or -1 if it is not absolute or
 * too long. (Unit-tested.) */
int policy_normalize(const char *path, char *out, size_t size);

#endif
