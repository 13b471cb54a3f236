/* A bundle's config.json (OCI runtime-spec 1.x) onto usbox's layers: the
 * rootfs becomes the view's root, mounts binds and tmpfs, maskedPaths hidden
 * paths, process.* the agent's settings, linux.resources the limits. What
 * usbox provides itself (/proc, /dev, devpts, /dev/shm) is taken as given;
 * what it accepts without applying is reported through the note hook (the
 * runtime's --log); what it cannot honour is an error naming the JSON path.
 * docs/oci.md has the whole mapping. */
#ifndef USBOX_OCI_SPEC_H
#define USBOX_OCI_SPEC_H

#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/userns.h"
#include "policy/policy.h"

/* The namespaces a container may join by path, as a pod's containers
 * join the pod's (docs/oci.md "Pods") */
enum oci_ns_kind { OCI_NS_NET, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_KINDS };

struct oci_spec {
  char bundle[PATH_MAX]; /* absolute */
  char rootfs[PATH_MAX]; /* absolute host path of root.path */
  bool readonly;
  char **args; /* NULL-terminated */
  char **env;  /* NULL-terminated: the container's whole environment */
  bool terminal;
  char *annotations; /* the "annotations" object as JSON text ("{}" if none) */
  char *seccomp;     /* linux.seccomp as JSON text, or NULL (policy/seccomp_profile.h) */
  char *hooks;       /* the "hooks" object as JSON text ("{}" if none): oci/hooks.h */
  /* linux.namespaces with a path (a pod's): joined by the monitor, NULL:
   * a new one (oci/container.c says why the monitor holds them) */
  char *ns_path[OCI_NS_KINDS];
  /* a user namespace (linux.namespaces "user") with linux.uidMappings and
   * gidMappings: the monitor runs the sandbox in it (oci/container.c) */
  bool userns;
  char *userns_path; /* the namespace's path (a pod's), or NULL: a new one */
  struct userns_config idmap; /* with a path: its own maps, read at create */
  bool netns_new; /* "network" without a path (made in the user namespace) */
  bool hostname; /* config.json names one (with a joined UTS namespace,
                    the host name is only set when it does) */
  /* mount points missing in the rootfs, made at create (as runc makes them) */
  size_t nmissing;
  struct oci_missing {
    char *dest;
    bool dir;
  } *missing;
};

/* Things accepted but not applied (apparmorProfile, cgroupsPath, ...), one
 * line each, for the runtime's log. */
typedef void (*oci_note_fn)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct oci_load_options {
  const char *bundle; /* directory holding config.json */
  /* the engine's defaults for every container: a policy file (policy.md),
   * read before the config and its annotations; NULL: none */
  const char *defaults;
  oci_note_fn note;
  void *note_ctx;
};

/* Read bundle/config.json into s and p (policy_init'ed by the caller;
 * policy_finish is the caller's, after). Nothing on the host changes. */
int oci_spec_load(const struct oci_load_options *o, struct oci_spec *s, struct policy *p,
                  usbox_err_t *err);

/* Parse the JSON text of a config (the fuzz target's entry: no file, no
 * host lookups beyond realpath of the rootfs and bind sources). */
int oci_spec_parse(const struct oci_load_options *o, const char *text, struct oci_spec *s,
                   struct policy *p, usbox_err_t *err);

/* A process object alone (runc exec's --process file): args, env,
 * terminal into s, the rest into p->process and p->keep_caps. */
int oci_spec_parse_process(const char *text, struct oci_spec *s, struct policy *p,
                           usbox_err_t *err);

/* Make the mount points the rootfs lacks (inside it, following no symlink
 * out of it), as runc does before mounting. */
int oci_spec_make_mount_points(const struct oci_spec *s, usbox_err_t *err);

/* s->idmap fits the config: uid 0 and gid 0 mapped (the monitor runs as
 * them), and process.user's ids. */
int oci_spec_check_idmap(const struct oci_spec *s, const struct policy *p, usbox_err_t *err);

void oci_spec_free(struct oci_spec *s);

/* How big a config.json may be (runc has no bound; 16 MiB is far past any
 * real one), for `create` and for `exec`, which reads its process. */
#define OCI_CONFIG_MAX (16u << 20)

/* A whole JSON file as text (path "-": stdin), refused past about max
 * bytes; free() it. NULL with err. */
char *oci_read_text(const char *path, size_t max, usbox_err_t *err);

/* A LinuxResources object (`update --resources`) into u: memory.limit,
 * pids.limit, cpu.quota/period; -1 is no limit, 0 or absent unchanged.
 * What usbox does not apply is noted (one line each). */
#include "oci/runtime.h"
int oci_update_parse(const char *json, struct oci_update *u, oci_note_fn note, void *note_ctx,
                     usbox_err_t *err);

/* runc's rule for container ids: [A-Za-z0-9_+.-]+, not "." or "..". */
bool oci_valid_id(const char *id);

#endif
