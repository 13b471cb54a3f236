/* A user namespace with id mappings (OCI linux.uidMappings/gidMappings),
 * entered by the process that then runs the whole sandbox: the OCI
 * monitor, and so the sentry and the gofer it forks (docs/oci.md "User
 * namespaces" says why the deputy must live in it: invariant 2). */
#ifndef USBOX_COMMON_USERNS_H
#define USBOX_COMMON_USERNS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* the kernel's bound on the lines of uid_map and gid_map */
#define USERNS_MAX_MAPS 340

struct userns_map {
  uint32_t inside, outside, count;
};

struct userns_config {
  const char *path; /* an existing namespace to join (its maps below, read
                       with userns_read_maps), or NULL: a new one */
  size_t nuid, ngid;
  struct userns_map uid[USERNS_MAX_MAPS], gid[USERNS_MAX_MAPS];
};

/* The host id that id `inside` maps to, or -1 when it is not mapped. */
int64_t userns_to_host(const struct userns_map *maps, size_t n, uint32_t inside);
/* The other way: the id host id `outside` has inside, or -1. */
int64_t userns_to_inside(const struct userns_map *maps, size_t n, uint32_t outside);

/* Each range non-empty, within 32 bits, and no two overlapping inside or
 * outside (what the kernel refuses, said earlier and with the field's
 * name); `what` names the list in the message. */
int userns_check_maps(const struct userns_map *maps, size_t n, const char *what,
                      usbox_err_t *err);

/* The maps of the user namespace at path (a /proc/PID/ns/user), read from
 * a child that joins it; the namespace must be a child of the caller's
 * (the maps then name the caller's ids). Root only. */
int userns_read_maps(const char *path, struct userns_config *u, usbox_err_t *err);

/* The calling process (single-threaded, with CAP_SETUID and CAP_SETGID
 * over the maps' outside ids) moves into a new user namespace with u's
 * maps (or joins u->path) and becomes its uid 0 and gid 0 with no supplementary group: from
 * then on its capabilities are those of that namespace's root, which the
 * kernel honours only over what the maps reach. */
int userns_enter(const struct userns_config *u, usbox_err_t *err);

#endif
