#include "common/log.h"
#include "vfs/vfs.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/path.h"
#include "gofer/client.h"
#include "gofer/ops.h"
#include "vfs/overlay_track.h"
#include "vfs/walk.h"

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U
#endif

/* ---- the mount table ---- */

size_t vfs_mount_dests(const struct policy *p, const char *dests[VFS_MAX_MOUNTS],
                       bool writable[VFS_MAX_MOUNTS], bool host_backed[VFS_MAX_MOUNTS])
{
  size_t n = 0;
  /* /dev is the host's device nodes (read-only), /dev/shm the sandbox's
   * tmpfs, /dev/mqueue the mqueue filesystem of the sandbox's own IPC
   * namespace (vfs/mountns.c): the agent's own queues, which it may make,
   * read (their QSIZE line) and remove as files there */
  static const char *const fixed[] = {"/dev", "/dev/shm", "/dev/mqueue", "/proc"};
  static const bool fixed_writable[] = {false, true, true, false};
  static const bool fixed_host[] = {true, false, false, true};
  enum { NFIXED = sizeof fixed / sizeof fixed[0] };
  for (size_t i = 0; i < p->nmounts && n < VFS_MAX_MOUNTS - NFIXED; i++) {
    writable[n] = p->mounts[i].writable;
    host_backed[n] = p->mounts[i].kind == MOUNT_BIND;
    dests[n++] = p->mounts[i].dest;
  }
  for (size_t i = 0; i < NFIXED; i++) {
    if (policy_has_mount_at(p, fixed[i])) /* a bind at /dev/shm: the policy's */
      continue;
    writable[n] = fixed_writable[i];
    host_backed[n] = fixed_host[i];
    dests[n++] = fixed[i];
  }
  return n;
}

static int by_dest_len_desc(const void *a, const void *b)
{
  const struct vfs_mount *x = a, *y = b;
  return x->dest_len < y->dest_len ? 1 : x->dest_len > y->dest_len ? -1 : 0;
}

/* The policy's rule names; a policy made without them (a test's) has one,
 * "hide". */
static int copy_hide_rules(struct vfs *v, const struct policy *p)
{
  size_t n = p->nhide_rules > 0 ? p->nhide_rules : 1;
  v->hide_rules = calloc(n, sizeof *v->hide_rules);
  if (v->hide_rules == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    if ((v->hide_rules[v->nhide_rules++] =
             strdup(p->nhide_rules > 0 ? p->hide_rules[i] : "hide")) == NULL)
      return -1;
  return 0;
}

/* A hidden non-directory with one name, found again by it and watched for
 * a second (dcache_watch_file); false when it is not that object any more,
 * has another name already, or cannot be watched. The sentry's own act,
 * before the agent runs: a mark on the inode, nothing done to it. */
static bool watch_hidden_file(struct vfs *v, const struct policy_hidden_id *id)
{
  if (id->one_link_path == NULL)
    return false;
  cleanup_close int fd = open(id->one_link_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  /* marked, then found with one link: a link made after this fstat is an
   * event, one made before shows in st_nlink */
  return fd >= 0 && dcache_watch_file(&v->dcache, fd) == 0 && fstat(fd, &st) == 0 &&
         st.st_dev == id->dev && st.st_ino == id->ino && st.st_nlink == 1;
}

static void note_alias_dev(struct vfs *v, dev_t dev)
{
  for (size_t i = 0; i < v->nhidden_alias_devs; i++)
    if (v->hidden_alias_devs[i] == dev)
      return;
  size_t room = sizeof v->hidden_alias_devs / sizeof v->hidden_alias_devs[0];
  if (v->nhidden_alias_devs == room)
    v->hidden_alias_anywhere = true;
  else
    v->hidden_alias_devs[v->nhidden_alias_devs++] = dev;
}

/* Which devices may hold a second name of a hidden non-directory
 * (vfs_hidden_alias_possible): where one is not watched for it. */
static void watch_hidden_files(struct vfs *v, const struct policy *p)
{
  if (!v->dcache.watch_files)
    v->hidden_alias_anywhere = true; /* (no mark would be heard: none made) */
  for (size_t i = 0; i < p->nhidden_ids && !v->hidden_alias_anywhere; i++)
    if (p->hidden_ids[i].dir)
      continue;
    else if (watch_hidden_file(v, &p->hidden_ids[i]))
      v->nhidden_watched++;
    else
      note_alias_dev(v, p->hidden_ids[i].dev);
}

bool vfs_hidden_alias_possible(struct vfs *v, dev_t dir_dev)
{
  if (v->nhidden_ids == 0)
    return false;
  if (v->hidden_alias_anywhere || !dcache_dev_plain(&v->dcache, dir_dev))
    return true;
  for (size_t i = 0; i < v->nhidden_alias_devs; i++)
    if (v->hidden_alias_devs[i] == dir_dev)
      return true;
  return !dcache_files_unchanged(&v->dcache);
}

int vfs_prepare(struct vfs *v, const struct policy *p, struct gofer_client *gofer,
                usbox_err_t *err)
{
  memset(v, 0, sizeof *v);
  dcache_init(&v->dcache);
  v->gofer = gofer;
  if (copy_hide_rules(v, p) < 0)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  v->hidden = calloc(p->nhidden + 1, sizeof *v->hidden);
  v->hidden_rule = calloc(p->nhidden + 1, sizeof *v->hidden_rule);
  if (v->hidden == NULL || v->hidden_rule == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  for (size_t i = 0; i < p->nhidden; i++) {
    v->hidden_rule[v->nhidden] = p->hidden_rule != NULL ? p->hidden_rule[i] : 0;
    if ((v->hidden[v->nhidden++] = strdup(p->hidden[i])) == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the hidden list");
  }
  if (vfs_hidden_index_build(&v->hidden_index, v->hidden, v->nhidden) < 0)
    return usbox_err_set(err, ENOMEM, "indexing the hidden list");
  if (p->nhidden_ids > 0) {
    v->hidden_ids = calloc(p->nhidden_ids, sizeof *v->hidden_ids);
    if (v->hidden_ids == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the hidden list");
    memcpy(v->hidden_ids, p->hidden_ids, p->nhidden_ids * sizeof *v->hidden_ids);
    v->nhidden_ids = p->nhidden_ids;
    for (size_t i = 0; i < v->nhidden_ids; i++)
      v->hidden_ids[i].one_link_path = NULL; /* (the policy's) */
    watch_hidden_files(v, p);
  }
  return 0;
}

int vfs_set_mounts(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
                   usbox_err_t *err)
{
  const char *dests[VFS_MAX_MOUNTS];
  bool writable[VFS_MAX_MOUNTS], host_backed[VFS_MAX_MOUNTS];
  size_t n = vfs_mount_dests(p, dests, writable, host_backed);
  if (n != nfds)
    return usbox_err_set(err, EINVAL, "the agent handed over %zu mounts, expected %zu", nfds, n);
  for (size_t i = 0; i < n; i++) {
    struct vfs_mount *m = &v->mounts[v->nmounts++];
    struct stat st;
    m->dest = strdup(dests[i]);
    if (i < p->nmounts && p->mounts[i].kind == MOUNT_BIND &&
        (m->source = strdup(p->mounts[i].source)) == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the mount table");
    m->dest_len = strlen(dests[i]);
    m->writable = writable[i];
    m->host_backed = host_backed[i];
    m->overlay = i < p->nmounts && p->mounts[i].overlay;
    m->index = (int)i;
    if (m->dest == NULL)
      return usbox_err_set(err, ENOMEM, "allocating the mount table");
    struct statx stx;
    if (fstat(fds[i], &st) < 0 || statx(fds[i], "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0)
      return usbox_err_set(err, errno, "mount %s", m->dest);
    m->mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
    m->mnt_id_unique = statx(fds[i], "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &stx) == 0 &&
                               (stx.stx_mask & STATX_MNT_ID_UNIQUE)
                           ? stx.stx_mnt_id
                           : 0;
    m->kind = strcmp(m->dest, "/proc") == 0 ? VFS_MOUNT_PROC
              : S_ISDIR(st.st_mode)         ? VFS_MOUNT_FS
                                            : VFS_MOUNT_FILE;
    /* the walk cache answers the root itself, and walks on from it,
     * without the gofer (dcache_set_root): an O_PATH fd, opened in the
     * view by the sandbox's first process, used with the agent's
     * credentials for every lookup below it (vfs/ops.c local_step) */
    int kept = m->kind == VFS_MOUNT_FS ? dcache_set_root(&v->dcache, m->index, fds[i]) : 0;
    if (kept < 0)
      return usbox_err_set(err, -kept, "keeping the root of %s", m->dest);
  }
  for (size_t i = 0; i < v->nmounts; i++)
    if (v->mounts[i].kind == VFS_MOUNT_PROC) {
      v->proc_state = calloc(1, sizeof *v->proc_state);
      if (v->proc_state == NULL)
        return usbox_err_set(err, ENOMEM, "allocating the /proc state");
      v->proc_state->nmounts = n;
      for (size_t j = 0; j < n; j++)
        v->proc_state->mounts[j].fd = -1;
      int idx = v->mounts[i].index;
      v->proc_state->mounts[idx].fd = fcntl(fds[idx], F_DUPFD_CLOEXEC, 3);
      v->proc_state->mounts[idx].procfs = true;
      if (v->proc_state->mounts[idx].fd < 0)
        return usbox_err_set(err, errno, "keeping /proc");
      struct stat pst;
      if (fstat(v->proc_state->mounts[idx].fd, &pst) == 0)
        v->proc_dev = pst.st_dev;
    }
  qsort(v->mounts, v->nmounts, sizeof v->mounts[0], by_dest_len_desc);
  return 0;
}

int vfs_init(struct vfs *v, const struct policy *p, const int *fds, size_t nfds,
             struct gofer_client *gofer, usbox_err_t *err)
{
  if (vfs_prepare(v, p, gofer, err) < 0)
    return -1;
  return vfs_set_mounts(v, p, fds, nfds, err);
}

int vfs_take_watch_fd(struct vfs *v)
{
  return dcache_take_watch_fd(&v->dcache);
}

void vfs_destroy(struct vfs *v)
{
  overlay_track_close(v->track); /* its files flushed, in every case */
  v->track = NULL;
  if (!usbox_frees_memory())
    return;
  dcache_destroy(&v->dcache);
  if (v->proc_state != NULL) {
    for (size_t i = 0; i < v->proc_state->nmounts; i++)
      if (v->proc_state->mounts[i].fd >= 0)
        close(v->proc_state->mounts[i].fd);
    free(v->proc_state);
    v->proc_state = NULL;
  }
  for (size_t i = 0; i < v->nmounts; i++) {
    free(v->mounts[i].dest);
    free(v->mounts[i].source);
  }
  v->nmounts = 0;
  for (size_t i = 0; i < v->nhidden; i++)
    free(v->hidden[i]);
  vfs_hidden_index_free(&v->hidden_index);
  free(v->hidden);
  v->hidden = NULL;
  v->nhidden = 0;
  free(v->hidden_rule);
  v->hidden_rule = NULL;
  for (size_t i = 0; i < v->nhide_rules; i++)
    free(v->hide_rules[i]);
  free(v->hide_rules);
  v->hide_rules = NULL;
  v->nhide_rules = 0;
  free(v->hidden_ids);
  v->hidden_ids = NULL;
  v->nhidden_ids = 0;
  for (size_t i = 0; i < v->nfilters; i++) {
    for (size_t j = 0; j < v->filters[i].nnames; j++)
      free(v->filters[i].names[j]);
    free(v->filters[i].names);
  }
  free(v->filters);
  v->filters = NULL;
  v->nfilters = 0;
}

/* The name of rule i (an index the policy gave). */
static const char *rule_name(const struct vfs *v, size_t i)
{
  return i < v->nhide_rules ? v->hide_rules[i] : "hide";
}

const char *vfs_hidden_by(const struct vfs *v, const char *view)
{
  /* the path itself and each ancestor: one hash, extended a byte at a time */
  uint64_t h = STRSET_HASH_INIT;
  size_t value;
  for (size_t i = 0;; i++) {
    if (i > 1 && (view[i] == '/' || view[i] == '\0') &&
        strset_find(&v->hidden_index.paths, view, i, h, &value))
      return rule_name(v, value < v->nhidden ? v->hidden_rule[value] : SIZE_MAX);
    if (view[i] == '\0')
      return NULL;
    h = strset_hash(h, view + i, 1);
  }
}

void vfs_set_overlay_track(struct vfs *v, struct overlay_track *t)
{
  v->track = t;
  for (size_t i = 0; i < v->nmounts; i++)
    if (v->mounts[i].overlay && v->mounts[i].writable)
      v->mounts[i].track = t;
}

void vfs_set_dev_aliases(struct vfs *v, const struct vfs_dev_alias *a, size_t n)
{
  v->naliases = n < VFS_MAX_DEV_ALIASES ? n : VFS_MAX_DEV_ALIASES;
  memcpy(v->aliases, a, v->naliases * sizeof *a);
  for (size_t i = 0; i < v->naliases; i++)
    dcache_note_dev(&v->dcache, (dev_t)v->aliases[i].dev, v->aliases[i].mgtime != 0);
}

/* (dev, ino) as the view shows it, turned into the host's identity when an
 * overlay shows it (vfs/dev_alias.h); *xor: what to apply to other inode
 * numbers of that device. */
static dev_t host_dev_of(const struct vfs *v, dev_t dev, uint64_t *xor)
{
  *xor = 0;
  for (size_t i = 0; i < v->naliases; i++)
    if (v->aliases[i].dev == (uint64_t)dev) {
      *xor = v->aliases[i].ino_xor;
      return (dev_t)v->aliases[i].host_dev;
    }
  return dev;
}

const char *vfs_hidden_id_by(const struct vfs *v, dev_t dev, ino_t ino)
{
  uint64_t xor;
  dev = host_dev_of(v, dev, &xor);
  ino = (ino_t)((uint64_t)ino ^ xor);
  for (size_t i = 0; i < v->nhidden_ids; i++)
    if (v->hidden_ids[i].dev == dev && v->hidden_ids[i].ino == ino)
      return rule_name(v, v->hidden_ids[i].rule);
  return NULL;
}

bool vfs_mnt_host_backed(const struct vfs *v, uint64_t mnt_id)
{
  for (size_t i = 0; i < v->nmounts; i++)
    if (!v->mounts[i].host_backed && v->mounts[i].mnt_id == mnt_id && mnt_id != 0)
      return false;
  return true;
}

bool vfs_node_host_backed(const struct vfs *v, const struct vfs_node *n)
{
  /* an object the agent holds is judged by where it is, not by the name
   * the kernel gives it (a host file usbox was handed may have a name that
   * is a private place in the view) */
  if (n->obj_fd < 0)
    return n->mount == NULL || n->mount->host_backed;
  struct statx stx;
  if (n->obj_fd < 0 || statx(n->obj_fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 ||
      !(stx.stx_mask & STATX_MNT_ID))
    return true;
  return vfs_mnt_host_backed(v, stx.stx_mnt_id);
}

int vfs_host_to_view(const struct vfs *v, const char *host, char view[PATH_MAX])
{
  for (size_t i = 0; i < v->nmounts; i++) { /* longest destination first */
    const struct vfs_mount *m = &v->mounts[i];
    if (m->source == NULL)
      continue;
    size_t sl = strlen(m->source);
    bool root = strcmp(m->source, "/") == 0;
    if (!root && (strncmp(host, m->source, sl) != 0 || (host[sl] != '\0' && host[sl] != '/')))
      continue;
    const char *rest = root ? host : host + sl;
    int n = snprintf(view, PATH_MAX, "%s%s", strcmp(m->dest, "/") == 0 && rest[0] ? "" : m->dest,
                     rest);
    if (n <= 0 || n >= PATH_MAX)
      continue;
    if (vfs_mount_of(v, view) == m) /* not covered by a deeper mount */
      return 0;
  }
  return -ENOENT;
}

/* Whether a mountinfo file lists mount mnt_id. */
static bool mountinfo_has(const char *path, uint64_t mnt_id)
{
  char line[512];
  cleanup_fclose FILE *f = fopen(path, "re");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    unsigned long long id;
    if (sscanf(line, "%llu ", &id) == 1 && id == mnt_id)
      return true;
    /* a line longer than the buffer: skip its rest */
    while (strchr(line, '\n') == NULL && fgets(line, sizeof line, f) != NULL)
      ;
  }
  return false;
}

bool vfs_mount_in_view(struct vfs_ctx *ctx, uint64_t mnt_id)
{
  struct vfs_caller me;
  if (vfs_caller(ctx, 0, &me) < 0)
    return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mountinfo", (int)me.tgid);
  return mountinfo_has(path, mnt_id);
}

/* statmount(2) (Linux 6.8; the namespace argument 6.11): whether the
 * mount with unique id mnt_id is in the mount namespace ns_id (0: usbox's
 * own). 1, 0, or -1 when the kernel cannot say. */
#define STATMOUNT_MNT_BASIC_ 0x2U
static int mount_in_ns(uint64_t mnt_id, uint64_t ns_id)
{
  struct {
    uint32_t size, spare;
    uint64_t mnt_id, param, mnt_ns_id;
  } req = {.size = ns_id ? 32 : 24, .mnt_id = mnt_id, .param = STATMOUNT_MNT_BASIC_,
           .mnt_ns_id = ns_id};
  uint64_t buf[64]; /* struct statmount: its fixed part is 512 bytes */
  if (syscall(457 /* statmount */, &req, buf, sizeof buf, 0) == 0)
    return 1;
  return errno == ENOENT ? 0 : -1;
}

/* Older kernels: the mount tables. */
static enum vfs_held_place place_by_tables(struct vfs_ctx *ctx, int fd)
{
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
    return VFS_HELD_ON_HOST; /* not known: the strictest */
  if (vfs_mount_in_view(ctx, stx.stx_mnt_id))
    return VFS_HELD_IN_VIEW;
  /* usbox's own mount namespace is the host's */
  return mountinfo_has("/proc/self/mountinfo", stx.stx_mnt_id) ? VFS_HELD_ON_HOST
                                                                : VFS_HELD_INTERNAL;
}

/* The view's own mount with this unique id, or NULL. */
static const struct vfs_mount *view_mount_unique(const struct vfs *v, uint64_t mnt_id)
{
  for (size_t i = 0; i < v->nmounts && mnt_id != 0; i++)
    if (v->mounts[i].mnt_id_unique == mnt_id)
      return &v->mounts[i];
  return NULL;
}

/* The exact answer, from the unique id of fd's mount (never reused): one of
 * the view's own mounts is in the view (the agent can unmount nothing, and
 * an id is never given to another mount); any other is looked up. */
static enum vfs_held_place place_by_unique(struct vfs_ctx *ctx, int fd, uint64_t mnt_id)
{
  const struct vfs *v = ctx->vfs;
  if (view_mount_unique(v, mnt_id) != NULL)
    return VFS_HELD_IN_VIEW;
  if (v->agent_mntns_id != 0) {
    int in_view = mount_in_ns(mnt_id, v->agent_mntns_id);
    int on_host = in_view == 0 ? mount_in_ns(mnt_id, 0) : -1;
    if (in_view == 1)
      return VFS_HELD_IN_VIEW;
    if (in_view == 0 && on_host >= 0)
      return on_host ? VFS_HELD_ON_HOST : VFS_HELD_INTERNAL;
  }
  return place_by_tables(ctx, fd);
}

enum vfs_held_place vfs_held_place(struct vfs_ctx *ctx, int fd)
{
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &stx) == 0 &&
      (stx.stx_mask & STATX_MNT_ID_UNIQUE))
    return place_by_unique(ctx, fd, stx.stx_mnt_id);
  return place_by_tables(ctx, fd);
}

int vfs_held_info(struct vfs_ctx *ctx, int fd, struct vfs_held *out)
{
  const struct vfs *v = ctx->vfs;
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID_UNIQUE, &stx) < 0)
    return -errno;
  vfs_statx_to_stat(&stx, &out->st);
  if (!(stx.stx_mask & STATX_MNT_ID_UNIQUE)) { /* older kernels: by the reused ids */
    struct vfs_node n = VFS_NODE_INIT;
    n.obj_fd = fd; /* borrowed */
    out->host_backed = vfs_node_host_backed(v, &n);
    out->place = place_by_tables(ctx, fd);
    return 0;
  }
  const struct vfs_mount *m = view_mount_unique(v, stx.stx_mnt_id);
  out->host_backed = m == NULL || m->host_backed; /* as vfs_mnt_host_backed */
  out->place = m != NULL ? VFS_HELD_IN_VIEW : place_by_unique(ctx, fd, stx.stx_mnt_id);
  return 0;
}

const struct vfs_mount *vfs_mount_of(const struct vfs *v, const char *view)
{
  for (size_t i = 0; i < v->nmounts; i++) {
    const struct vfs_mount *m = &v->mounts[i];
    if (m->dest_len == 1 ||
        (strncmp(view, m->dest, m->dest_len) == 0 &&
         (view[m->dest_len] == '\0' || view[m->dest_len] == '/')))
      return m;
  }
  return NULL; /* no "/" mount: cannot happen after policy_finish */
}

const char *vfs_mount_rel(const struct vfs_mount *m, const char *view)
{
  if (m->dest_len == 1)
    return view + 1;
  return view[m->dest_len] == '/' ? view + m->dest_len + 1 : "";
}

void vfs_statx_to_stat(const struct statx *x, struct stat *st)
{
  memset(st, 0, sizeof *st);
  st->st_dev = makedev(x->stx_dev_major, x->stx_dev_minor);
  st->st_ino = x->stx_ino;
  st->st_mode = x->stx_mode;
  st->st_nlink = x->stx_nlink;
  st->st_uid = x->stx_uid;
  st->st_gid = x->stx_gid;
  st->st_rdev = makedev(x->stx_rdev_major, x->stx_rdev_minor);
  st->st_size = (off_t)x->stx_size;
  st->st_blksize = x->stx_blksize;
  st->st_blocks = (blkcnt_t)x->stx_blocks;
  st->st_atim = (struct timespec){x->stx_atime.tv_sec, x->stx_atime.tv_nsec};
  st->st_mtim = (struct timespec){x->stx_mtime.tv_sec, x->stx_mtime.tv_nsec};
  st->st_ctim = (struct timespec){x->stx_ctime.tv_sec, x->stx_ctime.tv_nsec};
}

void vfs_node_release(struct vfs_node *n)
{
  if (n->obj_fd >= 0)
    close(n->obj_fd);
  n->obj_fd = -1;
}

const char *vfs_split_last(const char *path, char *dir, size_t dirsize)
{
  size_t len = strlen(path);
  size_t end = len;
  while (end > 0 && path[end - 1] == '/') /* trailing slashes belong to the last */
    end--;
  if (end == 0) { /* "" or only slashes */
    snprintf(dir, dirsize, "%s", len > 0 ? "/" : ".");
    return ".";
  }
  size_t start = end;
  while (start > 0 && path[start - 1] != '/')
    start--;
  if (start == 0)
    snprintf(dir, dirsize, ".");
  else if (start == 1)
    snprintf(dir, dirsize, "/");
  else
    snprintf(dir, dirsize, "%.*s", (int)(start - 1), path);
  return path + start;
}

/* ---- listings ---- */

static int add_filter_name(struct vfs *v, dev_t dev, ino_t ino, const char *name)
{
  struct vfs_listing_filter *f = NULL;
  for (size_t i = 0; i < v->nfilters; i++)
    if (v->filters[i].dev == dev && v->filters[i].ino == ino)
      f = &v->filters[i];
  if (f == NULL) {
    struct vfs_listing_filter *grown = realloc(v->filters, (v->nfilters + 1) * sizeof *grown);
    if (grown == NULL)
      return -1;
    v->filters = grown;
    f = &v->filters[v->nfilters++];
    *f = (struct vfs_listing_filter){.dev = dev, .ino = ino};
  }
  char **names = realloc(f->names, (f->nnames + 1) * sizeof *names);
  if (names == NULL)
    return -1;
  f->names = names;
  if ((f->names[f->nnames] = strdup(name)) == NULL)
    return -1;
  f->nnames++;
  return 0;
}

/* The length of a canonical path's parent ("/etc/shadow" -> 4, "/x" -> 1). */
static size_t parent_len_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash == path ? 1 : (size_t)(slash - path);
}

void vfs_hidden_index_free(struct vfs_hidden_index *x)
{
  strset_free(&x->paths);
  strset_free(&x->parents);
  free(x->next_in_group);
  free(x->group_first);
  free(x->parent_len);
  memset(x, 0, sizeof *x);
}

int vfs_hidden_index_build(struct vfs_hidden_index *x, char *const *hidden, size_t n)
{
  memset(x, 0, sizeof *x);
  x->next_in_group = calloc(n + 1, sizeof *x->next_in_group);
  x->group_first = calloc(n + 1, sizeof *x->group_first);
  x->parent_len = calloc(n + 1, sizeof *x->parent_len);
  size_t *last = calloc(n + 1, sizeof *last); /* per group: its last member so far */
  int rc = x->next_in_group && x->group_first && x->parent_len && last &&
                   strset_init(&x->paths, n) == 0 && strset_init(&x->parents, n) == 0
               ? 0
               : -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t idx = i, group = x->ngroups;
    x->parent_len[i] = parent_len_of(hidden[i]);
    x->next_in_group[i] = SIZE_MAX;
    if (strset_insert(&x->paths, hidden[i], strlen(hidden[i]), &idx) < 0 ||
        strset_insert(&x->parents, hidden[i], x->parent_len[i], &group) < 0) {
      rc = -1;
      break;
    }
    if (group == x->ngroups)
      x->group_first[x->ngroups++] = i; /* a parent not seen before */
    else
      x->next_in_group[last[group]] = i;
    last[group] = i;
  }
  free(last);
  if (rc < 0)
    vfs_hidden_index_free(x);
  return rc;
}

/* The identity of a directory, as the gofer walks: following no symlink on
 * the way or at the end (in the sandbox's first process, inside the view). */
static struct vfs_hidden_parent identify_dir(const char *path)
{
  struct vfs_hidden_parent out = {.listed = false};
  struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
    out = (struct vfs_hidden_parent){.listed = true, .dev = st.st_dev, .ino = st.st_ino};
  if (fd >= 0)
    close(fd);
  return out;
}

int vfs_identify_hidden_parents(const struct policy *p, struct vfs_hidden_parent *out, int max)
{
  struct vfs_hidden_index x;
  if (vfs_hidden_index_build(&x, p->hidden, p->nhidden) < 0)
    return -1;
  int n = x.ngroups <= (size_t)max ? (int)x.ngroups : -1;
  for (int g = 0; g < n; g++) {
    size_t first = x.group_first[g];
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)x.parent_len[first], p->hidden[first]);
    out[g] = identify_dir(parent);
  }
  vfs_hidden_index_free(&x);
  return n;
}

/* The identity of hidden path i's parent, asked of the gofer (when the
 * sandbox's first process could not report them all). */
static int ask_gofer_parent(struct vfs *v, struct vfs_ctx *ctx, const char *parent,
                            struct vfs_hidden_parent *out, usbox_err_t *err)
{
  *out = (struct vfs_hidden_parent){.listed = false};
  const struct vfs_mount *m = vfs_mount_of(v, parent);
  if (m->kind == VFS_MOUNT_FILE)
    return 0;
  struct gofer_rep rep;
  int r = vfs_gofer(ctx,
                    &(struct vfs_gofer_req){.op = GOFER_WALK, .mount = m,
                                            .rel = vfs_mount_rel(m, parent)},
                    &rep, NULL, 0, NULL);
  if (r < 0)
    return usbox_err_set(err, -r, "asking the gofer about %s", parent);
  if (rep.err != 0 || rep.status != GOFER_DONE || !rep.has_stat || !S_ISDIR(rep.stx.stx_mode))
    return 0; /* not there, or behind a symlink: nothing to list */
  *out = (struct vfs_hidden_parent){
      .listed = true,
      .dev = makedev(rep.stx.stx_dev_major, rep.stx.stx_dev_minor),
      .ino = rep.stx.stx_ino};
  return 0;
}

/* Hidden entries must be absent from their parent's listing: remember each
 * such parent by identity (the listing of a directory that appears later is
 * filtered by its view path: vfs_hidden_names_in). */
static int build_listing_filters(struct vfs *v, struct vfs_ctx *ctx,
                                 const struct vfs_hidden_parent *known, int nknown,
                                 usbox_err_t *err)
{
  const struct vfs_hidden_index *x = &v->hidden_index;
  bool reported = nknown >= 0 && (size_t)nknown == x->ngroups;
  for (size_t g = 0; g < x->ngroups; g++) {
    size_t first = x->group_first[g];
    struct vfs_hidden_parent id;
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%.*s", (int)x->parent_len[first], v->hidden[first]);
    if (reported)
      id = known[g];
    else if (ask_gofer_parent(v, ctx, parent, &id, err) < 0)
      return -1;
    for (size_t i = first; id.listed && i != SIZE_MAX; i = x->next_in_group[i]) {
      const char *name = v->hidden[i] + x->parent_len[i] + (x->parent_len[i] > 1);
      if (add_filter_name(v, (dev_t)id.dev, (ino_t)id.ino, name) < 0)
        return usbox_err_set(err, ENOMEM, "allocating listing filters");
    }
  }
  return 0;
}

bool vfs_is_proc_root(const struct vfs *v, dev_t dev, ino_t ino)
{
  return v->proc_state != NULL && dev == v->proc_dev && ino == 1; /* procfs root inode */
}

size_t vfs_filter_proc_root(struct vfs_ctx *ctx, void *buf, size_t len, size_t name_off)
{
  char *p = buf;
  size_t in = 0, out = 0;
  while (in + name_off <= len) {
    unsigned short reclen;
    memcpy(&reclen, p + in + 16, sizeof reclen);
    if (reclen <= name_off || in + reclen > len)
      break;
    const char *name = p + in + name_off;
    bool numeric = name[0] >= '0' && name[0] <= '9';
    /* a process entry stays only if the walk would let the agent reach it */
    char path[64];
    snprintf(path, sizeof path, "/proc/%.20s", name);
    struct vfs_node n = VFS_NODE_INIT;
    bool keep = !numeric || vfs_lookup_quiet(ctx, path, &n) == 0;
    vfs_node_release(&n);
    if (keep) {
      if (out != in)
        memmove(p + out, p + in, reclen);
      out += reclen;
    }
    in += reclen;
  }
  return out;
}

size_t vfs_hidden_names_in(const struct vfs *v, const char *dirview, const char **names,
                           size_t max)
{
  const struct vfs_hidden_index *x = &v->hidden_index;
  size_t len = strlen(dirview), group, n = 0;
  if (!strset_find(&x->parents, dirview, len, strset_hash(STRSET_HASH_INIT, dirview, len), &group))
    return 0;
  for (size_t i = x->group_first[group]; i != SIZE_MAX && n < max; i = x->next_in_group[i])
    names[n++] = v->hidden[i] + x->parent_len[i] + (x->parent_len[i] > 1);
  return n;
}

const struct vfs_listing_filter *vfs_listing_filter(const struct vfs *v, dev_t dev, ino_t ino)
{
  for (size_t i = 0; i < v->nfilters; i++)
    if (v->filters[i].dev == dev && v->filters[i].ino == ino)
      return &v->filters[i];
  return NULL;
}

size_t vfs_filter_dirents(const struct vfs_listing_filter *f, void *buf, size_t len,
                          size_t name_off)
{
  char *p = buf;
  size_t in = 0, out = 0;
  /* both layouts keep d_reclen at offset 16 (after d_ino and d_off) */
  while (in + name_off <= len) {
    unsigned short reclen;
    memcpy(&reclen, p + in + 16, sizeof reclen);
    if (reclen <= name_off || in + reclen > len)
      break; /* malformed: keep nothing past it */
    const char *name = p + in + name_off;
    bool drop = false;
    for (size_t i = 0; i < f->nnames && !drop; i++)
      drop = strncmp(name, f->names[i], reclen - name_off) == 0;
    if (!drop) {
      if (out != in)
        memmove(p + out, p + in, reclen);
      out += reclen;
    }
    in += reclen;
  }
  return out;
}

size_t vfs_filter_hidden_inodes(const struct vfs *v, dev_t dev, void *buf, size_t len,
                                size_t name_off)
{
  bool any = false;
  uint64_t xor;
  dev = host_dev_of(v, dev, &xor);
  for (size_t i = 0; i < v->nhidden_ids && !any; i++)
    any = v->hidden_ids[i].dev == dev;
  if (!any)
    return len;
  char *p = buf;
  size_t in = 0, out = 0;
  while (in + name_off <= len) {
    unsigned short reclen;
    uint64_t ino; /* d_ino leads both dirent layouts */
    memcpy(&reclen, p + in + 16, sizeof reclen);
    memcpy(&ino, p + in, sizeof ino);
    if (reclen <= name_off || in + reclen > len)
      break;
    const char *name = p + in + name_off;
    bool dots = name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
    /* "." and ".." stay: ".." of a bind's root is its source's parent */
    if (dots || !vfs_is_hidden_id(v, dev, (ino_t)(ino ^ xor))) {
      if (out != in)
        memmove(p + out, p + in, reclen);
      out += reclen;
    }
    in += reclen;
  }
  return out;
}

int vfs_set_agent(struct vfs *v, pid_t agent, const struct vfs_hidden_parent *parents,
                  int nparents, usbox_err_t *err)
{
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)agent);
  if (stat(path, &st) < 0)
    return usbox_err_set(err, errno, "reading the agent's mount namespace");
  v->agent_mntns = st.st_ino;
  v->agent_mntns_dev = st.st_dev;
  cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  /* NS_GET_MNTNS_ID (Linux 6.9): without it, vfs_held_place reads mountinfo */
  if (nsfd < 0 || ioctl(nsfd, _IOR(0xb7, 0x5, uint64_t), &v->agent_mntns_id) < 0)
    v->agent_mntns_id = 0;
  /* a call of the sentry's own, as root of nothing: the filters are read
   * with the sentry's identity */
  struct vfs_ctx own = vfs_ctx_own(v);
  return build_listing_filters(v, &own, parents, nparents, err);
}

/* ---- policy checks ---- */

/* A change the checks let through, on a kept session's copy-on-write
 * mount: what the host has there is recorded first (vfs/overlay_track.h). */
static void note_change(const struct vfs_mount *m, const char *view)
{
  if (m->track == NULL || m->source == NULL)
    return;
  char host[PATH_MAX];
  const char *rest = strcmp(m->dest, "/") == 0 ? view : view + m->dest_len;
  if (snprintf(host, sizeof host, "%s%s", strcmp(m->source, "/") == 0 ? "" : m->source, rest) <
      (int)sizeof host)
    overlay_track_note(m->track, host);
}

static bool is_below(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* Whether a hidden path or a mount point of the view lies below view. */
static bool holds_hidden_or_mount(const struct vfs *v, const char *view)
{
  for (size_t i = 0; i < v->nhidden; i++)
    if (is_below(v->hidden[i], view))
      return true;
  for (size_t i = 0; i < v->nmounts; i++)
    if (is_below(v->mounts[i].dest, view))
      return true;
  return false;
}

/* A busy entry (a mount point, a holder of hidden paths) of type is_dir,
 * met by a call expecting obj_type. */
static int busy_entry(bool is_dir, mode_t obj_type)
{
  if (obj_type == 0)
    return -EBUSY;
  if (obj_type == S_IFDIR && !is_dir)
    return -ENOTDIR;
  if (obj_type != S_IFDIR && is_dir)
    return -EISDIR;
  return -EBUSY;
}

int vfs_check_entry(struct vfs_ctx *ctx, const struct vfs_node *parent, const char *name,
                    enum vfs_entry_op op, mode_t obj_type)
{
  const struct vfs *v = ctx->vfs;
  size_t len = strcspn(name, "/");
  if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
    return 0; /* the kernel refuses these itself, with the right errno */
  if (parent->mount == NULL)
    return -ENOENT;
  char view[PATH_MAX];
  struct path_buf b = path_buf_at(view, sizeof view);
  path_buf_puts(&b, parent->view);
  if (strcmp(parent->view, "/") != 0)
    path_buf_put(&b, "/", 1);
  path_buf_put(&b, name, len);
  if (b.len >= sizeof view)
    return -ENAMETOOLONG;
  const char *by = vfs_hidden_by(v, view);
  if (by != NULL)
    return vfs_hidden_enoent(ctx, by);
  const struct vfs_mount *m = vfs_mount_of(v, view);
  if (m != parent->mount && strcmp(m->dest, view) == 0) /* a mount point of the view */
    return op == VFS_CREATE ? -EEXIST : busy_entry(m->kind != VFS_MOUNT_FILE, obj_type);
  /* Renaming (or replacing) a directory that holds a hidden path or a mount
   * point would carry it to a path the view does not know: refused, as the
   * kernel refuses to move a mount point's parent in use. */
  if (op == VFS_REMOVE && obj_type != S_IFREG && holds_hidden_or_mount(v, view))
    return busy_entry(true, obj_type);
  /* (a plain unlink, obj_type S_IFREG, removes no directory: the kernel
   * answers EISDIR for one, as busy_entry would; the scan of every hidden
   * path and mount was the most of the sentry's own work in an unlink) */
  if (!parent->mount->writable)
    return -EROFS;
  note_change(parent->mount, view);
  return 0;
}

int vfs_check_modify(const struct vfs_node *obj)
{
  /* an object with no path (a pipe, a socket) is not part of any mount */
  if (obj->mount == NULL)
    return 0;
  if (!obj->mount->writable)
    return -EROFS;
  note_change(obj->mount, obj->view);
  return 0;
}

/* ---- lookups ---- */

static int prepare(struct vfs_ctx *ctx, const char *path, int vflags)
{
  if (ctx->ops->validate(ctx) < 0) /* invariant 2: memory read, now check the id */
    return -ESRCH;
  if (path[0] == '\0' && !(vflags & VFS_EMPTY_PATH))
    return -ENOENT;
  return vfs_caller_ready(ctx);
}

int vfs_lookup(struct vfs_ctx *ctx, int dirfd, const char *path, int vflags,
               struct vfs_node *out)
{
  return vfs_lookup_access(ctx, dirfd, path, vflags, -1, false, out); /* no check */
}

int vfs_lookup_access(struct vfs_ctx *ctx, int dirfd, const char *path, int vflags,
                      int mode, bool real_ids, struct vfs_node *out)
{
  int r = prepare(ctx, path, vflags);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start(&w, ctx, dirfd, path, vflags);
  w.final_access_mode = mode;
  w.final_access_real = real_ids;
  if (r == 0)
    r = walker_run(&w, vflags, out);
  walker_release(&w);
  return r;
}

/* A lookup on a path of the sentry's own making (no agent memory read). */
int vfs_lookup_quiet(struct vfs_ctx *ctx, const char *path, struct vfs_node *out)
{
  int r = vfs_caller_ready(ctx);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start(&w, ctx, AT_FDCWD, path, VFS_NOFOLLOW);
  if (r == 0)
    r = walker_run(&w, VFS_NOFOLLOW, out);
  walker_release(&w);
  return r;
}

int vfs_lookup_parent(struct vfs_ctx *ctx, int dirfd, const char *path,
                      struct vfs_node *parent, char name[NAME_MAX + 2])
{
  int r = prepare(ctx, path, 0);
  if (r < 0)
    return r;
  struct walker w;
  r = walker_start(&w, ctx, dirfd, path, 0);
  if (r == 0)
    r = walker_run_parent(&w, parent, name);
  walker_release(&w);
  return r;
}
