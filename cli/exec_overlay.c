#include "cli/exec_overlay.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"

int overlay_run_prepare(struct policy *p, struct overlay_run *run, usbox_err_t *err)
{
  if (run->session_name != NULL) {
    if (p->overlay.mode == OVERLAY_MEMORY)
      return usbox_err_set(err, EINVAL, "--session keeps the overlay on disk: it cannot be "
                                        "--overlay=memory");
    if (session_check_name(run->session_name, err) < 0)
      return -1;
    p->overlay.mode = OVERLAY_DISK;
  }
  /* no sandbox sees any session's files, its own included (they are its
   * upper layers: overlayfs must not be shown them as lower ones) */
  char root[PATH_MAX];
  if (session_root(root, err) < 0)
    return p->overlay.mode == OVERLAY_DISK ? -1 : (usbox_err_clear(err), 0);
  return policy_add_hidden(p, root, err);
}

/* A mount point usbox makes in an overlaid tree (the host lacks it) is
 * usbox's, not the agent's change: noted so that review leaves it out. */
static int note_mount_point(const struct policy *p, const char *session_dir, const char *dest,
                            usbox_err_t *err)
{
  const struct policy_mount *owner = NULL;
  for (size_t j = 0; j < p->nmounts; j++) {
    const struct policy_mount *m = &p->mounts[j];
    if (m->overlay && strcmp(m->dest, dest) != 0 && path_at_or_below(dest, m->dest) &&
        (owner == NULL || strlen(m->dest) > strlen(owner->dest)))
      owner = m;
  }
  if (owner == NULL)
    return 0;
  const char *rel = strcmp(owner->dest, "/") == 0 ? dest + 1 : dest + strlen(owner->dest) + 1;
  char host[PATH_MAX * 2];
  snprintf(host, sizeof host, "%s/%s", strcmp(owner->source, "/") == 0 ? "" : owner->source, rel);
  struct stat st;
  if (lstat(host, &st) == 0 || errno != ENOENT)
    return 0;
  return session_layer_note_made(session_dir, owner->source, rel, err);
}

int overlay_run_start(struct policy *p, struct overlay_run *run, usbox_err_t *err)
{
  p->overlay.userxattr = geteuid() != 0;
  if (p->overlay.mode != OVERLAY_DISK)
    return 0;
  if (session_open(&run->session, run->session_name, false, err) < 0)
    return -1;
  run->open = true;
  p->overlay.kept = !run->session.anonymous;
  free(p->overlay.dir);
  if ((p->overlay.dir = strdup(run->session.dir)) == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  static const char *const fixed[] = {"/dev", "/proc"};
  for (size_t i = 0; i < 2; i++)
    if (note_mount_point(p, run->session.dir, fixed[i], err) < 0)
      return -1;
  for (size_t i = 0; i < p->nmounts; i++)
    if (note_mount_point(p, run->session.dir, p->mounts[i].dest, err) < 0)
      return -1;
  return 0;
}

/* Whether no upper layer holds anything. */
static bool nothing_written(const struct session *s)
{
  struct session_layer *layers;
  size_t n;
  usbox_err_t err = {0};
  if (session_layers(s, &layers, &n, &err) < 0)
    return false;
  bool empty = true;
  for (size_t i = 0; i < n && empty; i++) {
    char upper[PATH_MAX + 8];
    snprintf(upper, sizeof upper, "%s/upper", layers[i].dir);
    cleanup_closedir DIR *d = opendir(upper);
    struct dirent *e;
    while (d != NULL && empty && (e = readdir(d)) != NULL)
      empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  }
  free(layers);
  return empty;
}

void overlay_run_end(struct overlay_run *run, int code, bool verbose)
{
  if (!run->open)
    return;
  struct session *s = &run->session;
  usbox_err_t err = {0};
  if (!s->anonymous && session_record_baselines(s, &err) < 0)
    usbox_err_print(&err);
  bool failed_start = code == 125 && s->created && nothing_written(s);
  if (verbose && !s->anonymous && !failed_start)
    fprintf(stderr, "usbox: session %s kept in %s: usbox diff %s, usbox commit %s, usbox "
                    "discard %s\n", s->name, s->dir, s->name, s->name, s->name);
  session_close(s, !failed_start);
  run->open = false;
}
