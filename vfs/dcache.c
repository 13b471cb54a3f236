#include "vfs/dcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/strset.h"
#include "gofer/ops.h"
#include "vfs/dirwatch.h"

#define DIR_BUCKETS 1024

/* The last events of a watch, by number: what each named (the hash of
 * the entry a named group's event changed, WATCH_ANY_NAME for the
 * directory itself, an event naming nothing, or a lost queue). */
#define WATCH_RECENT 16
#define WATCH_ANY_NAME 0
struct watch_event {
  uint64_t number; /* the watch's count of events once it was read */
  uint64_t name;
};

/* A change watch on a kept directory's inode (vfs/dirwatch.h; one per
 * inode: the directory kept on two mounts shares it), and how many events
 * have been read for it. */
struct dcache_watch {
  struct dcache_watch *next; /* in watch_buckets, while live */
  bool live;                 /* marked, and in watch_buckets */
  int refs;
  uint64_t changes;
  uint64_t saved; /* checks it made needless */
  uint64_t hash;
  struct watch_event recent[WATCH_RECENT]; /* event n at n % WATCH_RECENT */
  struct dirwatch_key key; /* last: allocated to its length */
};

/* A watch with this many more events than checks it saved is given up
 * (watch_event_locked): a directory the agent keeps changing (the one a
 * loop creates and removes files in, tar's current directory) sent an
 * event per call, and reading it cost what the ctime read it saved did,
 * when any answer depended on that directory at all. */
#define WATCH_HOT_MARGIN 64

/* A directory some answers depend on: its fd, shared by those answers. */
struct dcache_dir {
  struct dcache_dir *next; /* in dir_buckets */
  int fd;
  uint64_t ino;
  uint32_t dev_major, dev_minor;
  uint32_t mnt_id; /* the mount the fd is on: one kept per directory and mount */
  int refs;
  struct dcache_watch *watch; /* NULL: none (its ctime is read at each check) */
  /* Its own ctime as last read, and its watch's count of events before
   * that read (UNSEEN: none): while the count is the same, the ctime is
   * (dir_ctime_quiet). */
  int64_t ctime_sec;
  uint32_t ctime_nsec;
  uint64_t ctime_seen;
};

/* No count of events: the directory's ctime must be read. */
#define UNSEEN UINT64_MAX

/* One directory of an answer, as the walk found it. seen: its watch's
 * count of events when its ctime was last found as recorded (UNSEEN: not
 * since a watch was on it), so that the same count later means nothing
 * changed it since. */
struct dcache_dep {
  struct dcache_dir *dir;
  int64_t ctime_sec;
  uint32_t ctime_nsec;
  uint64_t seen;
};

struct dcache_entry {
  struct dcache_entry *next;
  uint64_t hash;
  uint64_t gen; /* dcache.next_gen when it was made (dcache_seen) */
  int mount;
  uint16_t walk;
  int creds_id;
  char *rel;
  struct gofer_rep rep; /* as the gofer gave it (its stx refreshed at each hit) */
  char *link;           /* GOFER_AT_LINK: the link's text */
  int obj_fd;           /* the object reached, or -1 (an error, a link) */
  struct dcache_dir *obj_dir; /* a directory's own answer: obj_fd is this kept
                               * directory's fd (a reference held, not a copy) */
  int lends;                  /* obj_fd lent out (dcache_lookup_obj); lock held */
  bool dead;                  /* removed while lent: freed when the last comes back */
  uint32_t ndeps;
  struct dcache_dep deps[];
};

static struct dcache_entry *find(struct dcache *c, int mount, const char *rel, uint16_t walk,
                                 int creds_id);
static int creds_id_for(struct dcache *c, const struct deputy_creds *creds);
static void add_dir_locked(struct dcache *c, int mount, int creds_id, const char *rel,
                           const struct dcache_dep *deps, uint32_t ndeps, struct dcache_dir *dir);

/* ---- the kernel and the filesystems ---- */

/* Multigrain timestamps (Linux 6.13): a change right after a ctime was read
 * gets a newer one, so "ctime unchanged" means "nothing changed". */
static bool kernel_has_mgtime(void)
{
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
    return false;
  return major > 6 || (major == 6 && minor >= 13);
}

bool dcache_fs_type_has_mgtime(unsigned long f_type)
{
  switch (f_type) {
  case 0xEF53:     /* ext2/3/4 */
  case 0x58465342: /* xfs */
  case 0x9123683E: /* btrfs */
  case 0x01021994: /* tmpfs */
    return true;
  default:
    return false;
  }
}

static bool fs_type_has_mgtime(int fd)
{
  struct statfs sfs;
  return fstatfs(fd, &sfs) == 0 && dcache_fs_type_has_mgtime((unsigned long)sfs.f_type);
}

void dcache_note_dev(struct dcache *c, dev_t dev, bool mgtime)
{
  for (size_t i = 0; i < c->ndevs; i++)
    if (c->devs[i].dev == dev)
      return;
  /* (an overlay: a change made in one of its layers directly sends no
   * event for the overlay's inode, so its ctime is read at every check) */
  if (c->ndevs < DCACHE_MAX_DEVS)
    c->devs[c->ndevs++] = (struct dcache_dev){.dev = dev, .mgtime = mgtime, .notify = false};
}

/* fd's filesystem as the cache knows it (asked once per device), or NULL. */
static struct dcache_dev *dev_of(struct dcache *c, int fd)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return NULL;
  for (size_t i = 0; i < c->ndevs; i++)
    if (c->devs[i].dev == st.st_dev)
      return &c->devs[i];
  bool ok = fs_type_has_mgtime(fd);
  if (c->ndevs == DCACHE_MAX_DEVS)
    return NULL;
  c->devs[c->ndevs] = (struct dcache_dev){.dev = st.st_dev, .mgtime = ok, .notify = ok};
  return &c->devs[c->ndevs++];
}

/* The filesystem of a directory whose snapshot says its device: the one
 * the cache has asked about already, found without a system call (an
 * fstat per directory kept was a third of a git run's fstats), else as
 * dev_of. */
static struct dcache_dev *dev_of_snap(struct dcache *c, const struct gofer_keep_snap *snap,
                                            int fd)
{
  dev_t dev = makedev(snap->dev_major, snap->dev_minor);
  for (size_t i = 0; i < c->ndevs; i++)
    if (c->devs[i].dev == dev)
      return &c->devs[i];
  return dev_of(c, fd);
}

/* Whether fd's filesystem keeps multigrain ctimes. */
static bool fs_has_mgtime(struct dcache *c, int fd)
{
  const struct dcache_dev *d = dev_of(c, fd);
  return d != NULL && d->mgtime;
}

void dcache_init(struct dcache *c)
{
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
  const char *off = getenv("USBOX_NO_DCACHE");
  c->enabled = kernel_has_mgtime() && (off == NULL || *off == '\0' || strcmp(off, "0") == 0);
  struct rlimit rl;
  size_t budget = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (size_t)(rl.rlim_cur / 8) : 128;
  c->max_fds = budget < DCACHE_MAX_FDS ? budget : DCACHE_MAX_FDS;
  c->dir_buckets = calloc(DIR_BUCKETS, sizeof *c->dir_buckets);
  if (c->dir_buckets == NULL)
    c->enabled = false;
  for (size_t i = 0; i < DCACHE_MAX_ROOTS; i++)
    c->roots[i] = -1;
  /* without it (no fanotify, too many groups), every check reads ctimes */
  c->watch_fd = c->enabled ? dirwatch_open_named(&c->watch_named, &c->watch_files) : -1;
  atomic_init(&c->watch_pending, true);
}

int dcache_take_watch_fd(struct dcache *c)
{
  pthread_mutex_lock(&c->lock);
  int fd = c->watch_fd;
  c->watch_fd = -1; /* (every watch is given up with it: their marks go with the group) */
  c->files_changed = true;
  for (size_t b = 0; b < DCACHE_WATCH_BUCKETS; b++)
    for (struct dcache_watch *w = c->watch_buckets[b]; w != NULL; w = w->next)
      w->live = false;
  memset(c->watch_buckets, 0, sizeof c->watch_buckets);
  pthread_mutex_unlock(&c->lock);
  return fd;
}

void dcache_note_changes(struct dcache *c)
{
  atomic_store(&c->watch_pending, true);
}

int dcache_watch_file(struct dcache *c, int fd)
{
  if (c->watch_fd < 0 || !c->watch_files)
    return -EOPNOTSUPP;
  return dirwatch_mark_file(c->watch_fd, fd);
}

static void drain_pending_locked(struct dcache *c);

bool dcache_files_unchanged(struct dcache *c)
{
  pthread_mutex_lock(&c->lock);
  drain_pending_locked(c);
  bool unchanged = c->watch_fd >= 0 && !c->files_changed;
  pthread_mutex_unlock(&c->lock);
  return unchanged;
}

bool dcache_dev_plain(struct dcache *c, dev_t dev)
{
  bool plain = false;
  pthread_mutex_lock(&c->lock);
  for (size_t i = 0; i < c->ndevs; i++)
    if (c->devs[i].dev == dev)
      plain = c->devs[i].notify;
  pthread_mutex_unlock(&c->lock);
  return plain;
}

int dcache_set_root(struct dcache *c, int mount, int fd)
{
  if (mount < 0 || mount >= DCACHE_MAX_ROOTS)
    return -EINVAL;
  if (!c->enabled)
    return 0;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0)
    return -errno;
  if (c->roots[mount] >= 0)
    close(c->roots[mount]);
  c->roots[mount] = copy;
  return 0;
}

/* ---- watches: fanotify marks on the kept directories (vfs/dirwatch.h) ---- */

static struct dcache_watch **watch_slot(struct dcache *c, const struct dirwatch_key *key,
                                        uint64_t hash)
{
  struct dcache_watch **p = &c->watch_buckets[hash % DCACHE_WATCH_BUCKETS];
  while (*p != NULL && !((*p)->hash == hash && dirwatch_key_eq(&(*p)->key, key)))
    p = &(*p)->next;
  return p;
}

/* A watch on directory fd's inode, or NULL (no group, a filesystem whose
 * changes do not all reach it or that has no file handles, no room: its
 * ctime is read at each check). Every event on the inode counts as a
 * change. Lock held. */
static struct dcache_watch *watch_take(struct dcache *c, const struct gofer_keep_snap *snap,
                                       int fd)
{
  struct dcache_dev *dev = c->watch_fd >= 0 ? dev_of_snap(c, snap, fd) : NULL;
  if (dev == NULL || !dev->notify)
    return NULL;
  /* the fsid asked once per device (an fstatfs per directory kept was a
   * twelfth of a git run's system calls in the sentry beside the mark) */
  _Static_assert(sizeof dev->fsid == DIRWATCH_FSID_LEN, "a device's fsid as a key's");
  if (!dev->fsid_known && dirwatch_fsid_of(fd, dev->fsid) == 0)
    dev->fsid_known = true;
  struct dirwatch_key key;
  if (!dev->fsid_known || dirwatch_key_with_fsid(fd, dev->fsid, &key) < 0)
    return NULL;
  uint64_t hash = dirwatch_key_hash(&key);
  struct dcache_watch **p = watch_slot(c, &key, hash);
  if (*p != NULL) { /* the inode is watched already (another mount's fd of it) */
    (*p)->refs++;
    return *p;
  }
  /* (sized to its key: ext4's handles are 8 bytes of the 128 allowed) */
  struct dcache_watch *w = malloc(offsetof(struct dcache_watch, key.bytes) + key.len);
  if (w == NULL || dirwatch_mark(c->watch_fd, fd, DIRWATCH_CTIME, true) < 0) {
    free(w);
    return NULL;
  }
  /* field by field: a whole-struct store would write past the key's length */
  w->next = NULL, w->live = true, w->refs = 1, w->changes = 0, w->saved = 0, w->hash = hash;
  memset(w->recent, 0, sizeof w->recent); /* (number 0: no event is numbered 0) */
  memcpy(&w->key, &key, offsetof(struct dirwatch_key, bytes) + key.len);
  *p = w;
  return w;
}

/* w no longer watched: unmarked through fd, a kept fd of its inode. */
static void watch_end(struct dcache *c, struct dcache_watch *w, int fd)
{
  dirwatch_mark(c->watch_fd, fd, DIRWATCH_CTIME, false);
  *watch_slot(c, &w->key, w->hash) = w->next;
  w->live = false; /* its directories' ctimes are read at every check from now on */
}

static void watch_put(struct dcache *c, struct dcache_watch *w, int fd)
{
  if (w == NULL || --w->refs > 0)
    return;
  if (w->live)
    watch_end(c, w, fd);
  free(w);
}

/* The directory's count of events, or UNSEEN when it has no live watch. */
static uint64_t watch_changes(const struct dcache_dir *d)
{
  return d->watch != NULL && d->watch->live ? d->watch->changes : UNSEEN;
}

/* d's ctime read now (x), its watch's count `changes` read before. */
static void dir_ctime_note(struct dcache_dir *d, const struct statx *x, uint64_t changes)
{
  if (!(x->stx_mask & STATX_CTIME))
    return;
  d->ctime_sec = x->stx_ctime.tv_sec;
  d->ctime_nsec = x->stx_ctime.tv_nsec;
  d->ctime_seen = changes;
}

/* d's ctime as last read is its ctime now: no event since that read. */
static bool dir_ctime_quiet(const struct dcache_dir *d)
{
  uint64_t changes = watch_changes(d);
  return changes != UNSEEN && changes == d->ctime_seen;
}

/* The hash an entry's name is remembered by (never WATCH_ANY_NAME). */
static uint64_t name_hash(const char *name)
{
  return strset_hash(STRSET_HASH_INIT, name, strlen(name)) | 1;
}

/* w counts an event, of the entry whose name hashes to name. */
static void watch_count(struct dcache_watch *w, uint64_t name)
{
  w->changes++;
  w->recent[w->changes % WATCH_RECENT] = (struct watch_event){w->changes, name};
}

/* Whether every event w counted after `since`, up to `now`, named an entry
 * other than the one whose name hashes to name (false when one is no
 * longer remembered): the one lookup in that directory an answer depends
 * on is as it was then. A change to the directory itself names none. */
static bool others_only(const struct dcache_watch *w, uint64_t since, uint64_t now, uint64_t name)
{
  if (since == UNSEEN || now - since > WATCH_RECENT)
    return false;
  for (uint64_t n = since + 1; n <= now; n++) {
    const struct watch_event *ev = &w->recent[n % WATCH_RECENT];
    if (ev->number != n || ev->name == WATCH_ANY_NAME || ev->name == name)
      return false;
  }
  return true;
}

/* Every watch counts a change (the queue overflowed: events were lost). */
static void all_changed_locked(struct dcache *c)
{
  for (size_t b = 0; b < DCACHE_WATCH_BUCKETS; b++)
    for (struct dcache_watch *w = c->watch_buckets[b]; w != NULL; w = w->next)
      watch_count(w, WATCH_ANY_NAME);
}

/* A kept directory w watches: an fd of w's inode (a given-up watch is
 * unmarked through it). Lock held. */
static int watched_dir_fd(const struct dcache *c, const struct dcache_watch *w)
{
  for (size_t b = 0; b < DIR_BUCKETS; b++)
    for (const struct dcache_dir *d = c->dir_buckets[b]; d != NULL; d = d->next)
      if (d->watch == w)
        return d->fd;
  return -1;
}

static void watch_event_locked(void *ctx, const struct dirwatch_event *ev)
{
  struct dcache *c = ctx;
  if (ev->all || ev->file_changed)
    c->files_changed = true;
  if (ev->all) {
    all_changed_locked(c);
    return;
  }
  struct dcache_watch *w = *watch_slot(c, &ev->key, dirwatch_key_hash(&ev->key));
  if (w == NULL)
    return; /* a watch removed meanwhile */
  watch_count(w, c->watch_named && ev->name != NULL ? name_hash(ev->name) : WATCH_ANY_NAME);
  if (w->changes > w->saved + WATCH_HOT_MARGIN) { /* given up: no more events */
    int fd = watched_dir_fd(c, w);
    if (fd >= 0)
      watch_end(c, w, fd);
  }
}

/* The events queued since the last read, counted on their watches. A read
 * that left room for one more event of any size took every event there
 * was: no second read to hear EAGAIN. Lock held. */
static void drain_locked(struct dcache *c)
{
  char buf[8192] __attribute__((aligned(8)));
  for (;;) {
    ssize_t n = read(c->watch_fd, buf, sizeof buf);
    if (n <= 0)
      return; /* EAGAIN: none left */
    dirwatch_parse(buf, (size_t)n, watch_event_locked, c);
    if ((size_t)n + DIRWATCH_EVENT_MAX <= sizeof buf)
      return;
  }
}

/* drain_locked when a call's poll said events may wait (dcache_note_changes). */
static void drain_pending_locked(struct dcache *c)
{
  if (c->watch_fd >= 0 && atomic_exchange(&c->watch_pending, false))
    drain_locked(c);
}

/* ---- directories ---- */

static size_t dir_slot(uint64_t ino, uint32_t major, uint32_t minor, uint32_t mnt_id)
{
  uint64_t h =
      (ino ^ (uint64_t)mnt_id << 40) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)major << 32 | minor);
  return (size_t)(h >> 20) % DIR_BUCKETS;
}

/* The kept directory for snap, taking fd (closed when one is kept already),
 * or NULL. The same directory on another mount is another: an fd carries
 * its mount's flags (a --ro and a --rw bind of one host directory). */
/* The kept directory with snap's identity (inode, device, mount), or NULL. */
static struct dcache_dir *dir_find(const struct dcache *c, const struct gofer_keep_snap *snap)
{
  size_t slot = dir_slot(snap->ino, snap->dev_major, snap->dev_minor, snap->mnt_id);
  for (struct dcache_dir *d = c->dir_buckets[slot]; d != NULL; d = d->next)
    if (d->ino == snap->ino && d->dev_major == snap->dev_major &&
        d->dev_minor == snap->dev_minor && d->mnt_id == snap->mnt_id)
      return d;
  return NULL;
}

static struct dcache_dir *dir_take(struct dcache *c, const struct gofer_keep_snap *snap, int fd)
{
  size_t slot = dir_slot(snap->ino, snap->dev_major, snap->dev_minor, snap->mnt_id);
  struct dcache_dir *d = dir_find(c, snap);
  if (d != NULL) {
    close(fd); /* the same directory: its fd pins the inode and the mount, so the ids are its */
    d->refs++;
    return d;
  }
  d = malloc(sizeof *d);
  if (d == NULL) {
    close(fd);
    return NULL;
  }
  *d = (struct dcache_dir){.next = c->dir_buckets[slot], .fd = fd, .ino = snap->ino,
                           .dev_major = snap->dev_major, .dev_minor = snap->dev_minor,
                           .mnt_id = snap->mnt_id, .refs = 1,
                           .watch = watch_take(c, snap, fd), .ctime_seen = UNSEEN};
  c->dir_buckets[slot] = d;
  c->nfds++;
  return d;
}

static void dir_put(struct dcache *c, struct dcache_dir *d)
{
  if (--d->refs > 0)
    return;
  struct dcache_dir **p =
      &c->dir_buckets[dir_slot(d->ino, d->dev_major, d->dev_minor, d->mnt_id)];
  while (*p != d)
    p = &(*p)->next;
  *p = d->next;
  watch_put(c, d->watch, d->fd);
  close(d->fd);
  c->nfds--;
  free(d);
}

/* ---- entries ---- */

static uint64_t key_hash(int mount, uint16_t walk, int creds_id, const char *rel)
{
  uint64_t h = 1469598103934665603ull ^ (uint64_t)mount ^ ((uint64_t)walk << 16) ^
               ((uint64_t)creds_id << 24);
  for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

/* e, out of the table (lock held): freed, or once its fd is back. */
static void entry_free(struct dcache *c, struct dcache_entry *e)
{
  if (e->lends > 0) {
    e->dead = true;
    return;
  }
  for (uint32_t i = 0; i < e->ndeps; i++)
    dir_put(c, e->deps[i].dir);
  if (e->obj_dir != NULL) {
    dir_put(c, e->obj_dir);
  } else if (e->obj_fd >= 0) {
    close(e->obj_fd);
    c->nfds--;
  }
  free(e->rel);
  free(e->link);
  free(e);
  c->nentries--;
}

static void entry_remove(struct dcache *c, struct dcache_entry *e)
{
  struct dcache_entry **p = &c->buckets[e->hash % DCACHE_BUCKETS];
  while (*p != e)
    p = &(*p)->next;
  *p = e->next;
  entry_free(c, e);
}

static void flush_locked(struct dcache *c)
{
  for (size_t b = 0; b < DCACHE_BUCKETS; b++)
    while (c->buckets[b] != NULL) {
      struct dcache_entry *e = c->buckets[b];
      c->buckets[b] = e->next;
      entry_free(c, e);
    }
  c->ncreds = 0;
  c->stats.flushes++;
}

/* Room for more: answers dropped bucket by bucket from where the last
 * round stopped, until a quarter of either bound is free (the others, the
 * mount roots and hot directories among them, stay). Lock held. */
static void evict_some_locked(struct dcache *c)
{
  size_t want_entries = DCACHE_MAX_ENTRIES * 3 / 4, want_fds = c->max_fds * 3 / 4;
  for (size_t n = 0; n < DCACHE_BUCKETS && (c->nentries > want_entries || c->nfds > want_fds);
       n++) {
    size_t b = c->evict_cursor++ % DCACHE_BUCKETS;
    while (c->buckets[b] != NULL) {
      struct dcache_entry *e = c->buckets[b];
      c->buckets[b] = e->next;
      entry_free(c, e);
    }
  }
  c->stats.flushes++;
}

void dcache_forget(struct dcache *c, int mount, const char *rel, bool subtree)
{
  if (!c->enabled || rel == NULL)
    return;
  size_t len = strlen(rel);
  while (len > 0 && rel[len - 1] == '/') /* an entry op's "name/" */
    len--;
  pthread_mutex_lock(&c->lock);
  if (!subtree && rel[len] == '\0') { /* its own answers only: by their keys */
    for (size_t id = 0; id < c->ncreds; id++)
      for (uint16_t walk = 0; walk <= GOFER_NOFOLLOW_LAST; walk += GOFER_NOFOLLOW_LAST) {
        struct dcache_entry *e = find(c, mount, rel, walk, (int)id);
        if (e != NULL)
          entry_remove(c, e);
      }
    pthread_mutex_unlock(&c->lock);
    return;
  }
  for (size_t b = 0; b < DCACHE_BUCKETS && c->nentries > 0; b++)
    for (struct dcache_entry **p = &c->buckets[b]; *p != NULL;) {
      struct dcache_entry *e = *p;
      bool below = e->mount == mount && strncmp(e->rel, rel, len) == 0 &&
                   (e->rel[len] == '\0' || e->rel[len] == '/' || len == 0);
      if (below) {
        *p = e->next;
        entry_free(c, e);
      } else {
        p = &e->next;
      }
    }
  pthread_mutex_unlock(&c->lock);
}

void dcache_destroy(struct dcache *c)
{
  if (c->dir_buckets != NULL)
    flush_locked(c);
  free(c->dir_buckets);
  c->dir_buckets = NULL;
  for (size_t i = 0; i < DCACHE_MAX_ROOTS; i++)
    if (c->roots[i] >= 0)
      close(c->roots[i]), c->roots[i] = -1;
  if (c->watch_fd >= 0)
    close(c->watch_fd);
  c->watch_fd = -1;
  pthread_mutex_destroy(&c->lock);
}

/* ---- credentials: what a walk is checked as ---- */

static bool same_creds(const struct deputy_creds *a, const struct deputy_creds *b)
{
  return a->fsuid == b->fsuid && a->fsgid == b->fsgid && a->cap_eff == b->cap_eff &&
         a->ngroups == b->ngroups && a->ngroups >= 0 && a->ngroups <= DEPUTY_MAX_GROUPS &&
         memcmp(a->groups, b->groups, (size_t)a->ngroups * sizeof a->groups[0]) == 0;
}

static int creds_find(const struct dcache *c, const struct deputy_creds *creds)
{
  for (size_t i = 0; i < c->ncreds; i++)
    if (same_creds(&c->creds[i], creds))
      return (int)i;
  return -1;
}

/* ---- lookup ---- */

/* Following the last component or not gives the same answer when it is no
 * symlink (an object of another kind, or nothing there): an answer kept for
 * the other flag serves. */
static struct dcache_entry *find_answer(struct dcache *c, int mount, const char *rel,
                                        uint16_t walk, int creds_id)
{
  struct dcache_entry *e = find(c, mount, rel, walk, creds_id);
  if (e != NULL)
    return e;
  e = find(c, mount, rel, walk ^ GOFER_NOFOLLOW_LAST, creds_id);
  bool no_link = e != NULL && e->rep.status == GOFER_DONE &&
                 (e->rep.err != 0 || !S_ISLNK(e->rep.stx.stx_mode));
  return no_link ? e : NULL;
}

static struct dcache_entry *find(struct dcache *c, int mount, const char *rel, uint16_t walk,
                                 int creds_id)
{
  uint64_t h = key_hash(mount, walk, creds_id, rel);
  for (struct dcache_entry *e = c->buckets[h % DCACHE_BUCKETS]; e != NULL; e = e->next)
    if (e->hash == h && e->mount == mount && e->walk == walk && e->creds_id == creds_id &&
        strcmp(e->rel, rel) == 0)
      return e;
  return NULL;
}

/* Where component i of rel starts (rel itself for 0), or NULL: the name a
 * walk looked up in its i-th directory. */
static const char *nth_component(const char *rel, uint32_t i)
{
  const char *p = rel;
  for (; i > 0 && p != NULL; i--)
    p = (p = strchr(p, '/')) != NULL ? p + 1 : NULL;
  return p;
}

/* Component i of rel, or false. */
static bool component(const char *rel, uint32_t i, char out[NAME_MAX + 1])
{
  const char *p = nth_component(rel, i);
  if (p == NULL)
    return false;
  size_t n = strcspn(p, "/");
  if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
    return false;
  memcpy(out, p, n);
  out[n] = '\0';
  return true;
}

/* Whether name, looked up in dir now as creds (the deputy: the kernel
 * checks the caller's search permission), is the object (ino, dev) and
 * nothing else: one name, no link followed, never above dir. */
static bool same_step(int dir, const char *name, const struct deputy_creds *creds, uint64_t ino,
                      uint32_t major, uint32_t minor)
{
  if (deputy_active() || deputy_enter(creds, 0) < 0)
    return false;
  int fd = (int)gofer_step(dir, name); /* the gofer's own step */
  deputy_leave();
  if (fd < 0)
    return false;
  struct statx x;
  bool same = statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO, &x) == 0 &&
              x.stx_ino == ino && x.stx_dev_major == major && x.stx_dev_minor == minor;
  close(fd);
  return same;
}

/* deps[i]'s directory changed (its ctime is now *now): the one step taken
 * in it, looked up again. An answer depends on each directory only
 * through the one name it looked up there, so if that name still reaches
 * the same object (the next kept directory, or the object itself), the
 * answer holds as of now: now was read before the lookup, as the gofer
 * reads a snapshot before its step (a later change gets a later ctime).
 * A create next door (git's objects, tar -x) then costs one lookup instead
 * of the whole answer. Not for a step to a link or a failed lookup (no
 * object to compare): those are walked again. */
static bool step_still_leads(struct dcache_entry *e, uint32_t i, const struct statx *now,
                             const struct deputy_creds *creds)
{
  char name[NAME_MAX + 1];
  uint64_t ino;
  uint32_t major, minor;
  if (i + 1 < e->ndeps) {
    const struct dcache_dir *next = e->deps[i + 1].dir;
    ino = next->ino, major = next->dev_major, minor = next->dev_minor;
  } else {
    struct statx o;
    if (e->obj_fd < 0 || e->rep.status != GOFER_DONE || e->rep.err != 0 ||
        statx(e->obj_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_INO, &o) < 0)
      return false;
    ino = o.stx_ino, major = o.stx_dev_major, minor = o.stx_dev_minor;
  }
  if (!component(e->rel, i, name) ||
      !same_step(e->deps[i].dir->fd, name, creds, ino, major, minor))
    return false;
  e->deps[i].ctime_sec = now->stx_ctime.tv_sec;
  e->deps[i].ctime_nsec = now->stx_ctime.tv_nsec;
  return true;
}

/* Whether deps[i]'s directory, watched by a named group, had events since
 * its ctime was found as recorded for other entries only than the one
 * name e's walk looked up in it (a file made next door): that lookup is
 * as it was. Events are read before each call (dcache_note_changes) and
 * the kernel queues one before the change it reports returns, so no
 * change made before this call is missed. */
static bool step_unchanged(const struct dcache_entry *e, uint32_t i, uint64_t changes)
{
  char name[NAME_MAX + 1];
  const struct dcache_dep *dep = &e->deps[i];
  return component(e->rel, i, name) && others_only(dep->dir->watch, dep->seen, changes,
                                                   name_hash(name));
}

/* Every directory as it was (or its one step unchanged), and the object's
 * attributes now (obj NULL: not read). */
static bool still_valid(struct dcache *c, struct dcache_entry *e,
                        const struct deputy_creds *creds, struct statx *obj)
{
  for (uint32_t i = 0; i < e->ndeps; i++) {
    struct dcache_dep *dep = &e->deps[i];
    /* counted before the ctime is read: an event for a change after that
     * read is counted later, and the next check reads the ctime again */
    uint64_t changes = watch_changes(dep->dir);
    if (changes != UNSEEN && changes == dep->seen) {
      c->stats.quiet++; /* no event since its ctime was found as recorded */
      dep->dir->watch->saved++;
      continue;
    }
    if (changes != UNSEEN && step_unchanged(e, i, changes)) {
      c->stats.named++; /* only other names changed since */
      dep->dir->watch->saved++;
      dep->seen = changes;
      continue;
    }
    struct statx x;
    c->stats.checked++;
    if (statx(dep->dir->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_CTIME, &x) < 0 ||
        !(x.stx_mask & STATX_CTIME))
      return false;
    dir_ctime_note(dep->dir, &x, changes);
    if (x.stx_ctime.tv_sec != dep->ctime_sec || x.stx_ctime.tv_nsec != dep->ctime_nsec) {
      if (!step_still_leads(e, i, &x, creds))
        return false;
      c->stats.relooked++;
    }
    dep->seen = changes;
  }
  if (e->obj_fd < 0 || obj == NULL)
    return true;
  uint64_t changes = e->obj_dir != NULL ? watch_changes(e->obj_dir) : UNSEEN;
  if (statx(e->obj_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, GOFER_STATX_MASK, obj) < 0)
    return false;
  if (e->obj_dir != NULL)
    dir_ctime_note(e->obj_dir, obj, changes);
  return true;
}

/* A kept directory's attributes for a snapshot (dcache_query.ctime_only):
 * its identity, as ever, and its ctime as last read, which no event since
 * has changed; or, with a named group, which events since may have (the
 * answer a step after this snapshot makes depends on the one name it
 * looks up: it holds the count read before that ctime (snap_seen), and
 * an event since for that name, as for any other, sends its first check
 * to the ctime and the step again). false: they must be read. */
static bool snapshot_quiet(struct dcache *c, const struct dcache_entry *e, struct statx *obj)
{
  const struct dcache_dir *d = e->obj_dir;
  if (d == NULL)
    return false;
  bool quiet = dir_ctime_quiet(d);
  /* (events the answer's first check can still read by name: more, and
   * it would look its step up again where reading the ctime now costs a
   * statx) */
  uint64_t changes = watch_changes(d);
  bool named = c->watch_named && changes != UNSEEN && d->ctime_seen != UNSEEN &&
               changes - d->ctime_seen <= WATCH_RECENT;
  if (!quiet && !named)
    return false;
  *obj = e->rep.stx;
  obj->stx_ctime.tv_sec = d->ctime_sec;
  obj->stx_ctime.tv_nsec = d->ctime_nsec;
  if (quiet)
    c->stats.quiet++;
  else
    c->stats.named++;
  d->watch->saved++;
  return true;
}

/* The answer seen last in this call, unchanged since (the same entry, not
 * one made since at its address): its object's attributes as read then
 * (attrs: only if they were read). */
static bool seen_again(const struct dcache_seen *seen, const struct dcache_entry *e,
                       bool attrs, struct statx *obj)
{
  if (seen == NULL || seen->entry != e || seen->gen != e->gen || e->obj_fd < 0 ||
      (attrs && !seen->attrs))
    return false;
  *obj = seen->obj;
  return true;
}

/* Whether e still answers q: seen again in this call, or checked now (and
 * then remembered in seen). *obj: the object's attributes, as q asks. */
static bool answer_holds(struct dcache *c, struct dcache_entry *e, const struct dcache_query *q,
                         struct dcache_seen *seen, struct statx *obj)
{
  if (seen_again(seen, e, q->attrs, obj))
    return true;
  if (q->attrs && q->ctime_only && still_valid(c, e, q->creds, NULL) && snapshot_quiet(c, e, obj))
    return true; /* (not remembered in seen: the other attributes are as then) */
  if (!still_valid(c, e, q->creds, q->attrs ? obj : NULL))
    return false;
  if (!q->attrs)
    *obj = e->rep.stx; /* the identity and type, as ever; the rest as then */
  if (seen != NULL && e->obj_fd >= 0)
    *seen = (struct dcache_seen){.entry = e, .gen = e->gen, .obj = *obj, .attrs = q->attrs};
  return true;
}

/* A walk of rel with no answer of its own that stops, the cache knows, at
 * a link on the way: an answer kept for one of rel's leading paths, a link
 * (every name before it is a directory that answer depends on, checked as
 * for any answer). Shortest first, the link a walk meets first; an entry
 * of another kind is passed by unchecked (a check costs a statx per
 * directory). The entry, or NULL (a stale one removed). Lock held. */
static struct dcache_entry *link_on_path_locked(struct dcache *c, int mount, const char *rel,
                                                int id, const struct deputy_creds *creds,
                                                size_t cap)
{
  char prefix[PATH_MAX];
  for (const char *slash = strchr(rel, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    size_t len = (size_t)(slash - rel);
    if (len >= sizeof prefix)
      return NULL;
    memcpy(prefix, rel, len);
    prefix[len] = '\0';
    struct dcache_entry *e = find(c, mount, prefix, 0, id);
    if (e == NULL || e->rep.status != GOFER_AT_LINK || e->link == NULL)
      continue;
    struct statx unused;
    if (strlen(e->link) + 1 > cap)
      return NULL;
    if (still_valid(c, e, creds, &unused))
      return e;
    entry_remove(c, e);
    c->stats.stale++;
    return NULL;
  }
  return NULL;
}

/* The object's fd into out, lent (lock held): the cache's own, with a
 * reference on the kept directory or on the entry. */
/* A directory reached as a walk's object holds an fd of its own; kept as a
 * directory too (a walk passed it since), the answer takes the kept one's
 * fd instead (one fd fewer), so that it is lent as a kept directory: a
 * walk below it then starts there without a copy of the fd (vfs/ops.c
 * local_walk), and the step's answer takes a reference, not a new kept
 * directory made of that copy (a git run made and closed 272 such
 * copies). Not while its own fd is lent out. Lock held. */
static void adopt_kept_dir(struct dcache *c, struct dcache_entry *e)
{
  if (e->obj_dir != NULL || e->obj_fd < 0 || e->lends > 0 || !S_ISDIR(e->rep.stx.stx_mode) ||
      !(e->rep.stx.stx_mask & STATX_MNT_ID))
    return;
  struct gofer_keep_snap snap = gofer_snap_of(&e->rep.stx);
  struct dcache_dir *d = dir_find(c, &snap);
  if (d == NULL)
    return;
  close(e->obj_fd);
  c->nfds--;
  d->refs++;
  e->obj_dir = d;
  e->obj_fd = d->fd;
}

static void give_obj(struct dcache *c, struct dcache_entry *e, struct dcache_lend *out)
{
  adopt_kept_dir(c, e);
  if (e->obj_dir != NULL) {
    e->obj_dir->refs++;
    out->dir = e->obj_dir;
  } else {
    e->lends++;
    out->entry = e;
  }
  out->fd = e->obj_fd;
}

/* The mount root's answer for creds where there is none, made from the
 * root's fd (dcache_set_root) as the gofer's walk of "" with GOFER_WALK_KEEP
 * would give it, kept as the directory entries the gofer's kept walks
 * make (add_dir_locked): the root's attributes, read from its fd on each
 * hit; no name looked up, no permission checked, no directory depended on.
 * Only on a filesystem the cache keeps answers for. The entry, or NULL (no
 * root kept, out of memory). Lock held; *id is
 * creds' number, made here when -1. */
static struct dcache_entry *root_answer_locked(struct dcache *c, int mount,
                                               const struct deputy_creds *creds, int *id)
{
  if (mount < 0 || mount >= DCACHE_MAX_ROOTS || c->roots[mount] < 0 ||
      !fs_has_mgtime(c, c->roots[mount]))
    return NULL; /* (nothing below it would be kept: the gofer's, as before) */
  if (*id < 0)
    *id = creds_id_for(c, creds); /* (may empty the cache: before the directory is taken) */
  struct statx x;
  if (statx(c->roots[mount], "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
            STATX_INO | STATX_CTIME | STATX_MNT_ID, &x) < 0)
    return NULL;
  struct gofer_keep_snap snap = gofer_snap_of(&x);
  int fd = fcntl(c->roots[mount], F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return NULL;
  if (c->nentries >= DCACHE_MAX_ENTRIES || c->nfds + 1 > c->max_fds)
    evict_some_locked(c);
  struct dcache_dir *d = dir_take(c, &snap, fd);
  if (d == NULL)
    return NULL;
  add_dir_locked(c, mount, *id, "", NULL, 0, d);
  dir_put(c, d);
  return find(c, mount, "", 0, *id);
}

/* dcache_lookup_obj; count: the answer is the caller's walk (in the
 * stats), not a directory looked for on its behalf. */
static bool lookup(struct dcache *c, const struct dcache_query *q, struct gofer_rep *rep,
                   char *data, size_t cap, struct dcache_lend *obj_out, bool count,
                   struct dcache_seen *seen)
{
  int mount = q->mount;
  const char *rel = q->rel;
  const struct deputy_creds *creds = q->creds;
  if (obj_out != NULL)
    *obj_out = (struct dcache_lend)DCACHE_LEND_INIT(c);
  if (!c->enabled || !dcache_walk_cacheable(q->walk))
    return false;
  pthread_mutex_lock(&c->lock);
  drain_pending_locked(c);
  int id = creds_find(c, creds);
  struct dcache_entry *e = id < 0 ? NULL : find_answer(c, mount, rel, q->walk, id);
  if (e == NULL && rel[0] == '\0')
    e = root_answer_locked(c, mount, creds, &id);
  struct statx obj;
  if (e == NULL && count && id >= 0) { /* a walk through a link the cache holds */
    struct dcache_entry *link = link_on_path_locked(c, mount, rel, id, creds, cap);
    if (link != NULL) {
      *rep = link->rep;
      rep->data_len = (uint32_t)strlen(link->link) + 1;
      memcpy(data, link->link, rep->data_len);
      c->stats.hits++;
      pthread_mutex_unlock(&c->lock);
      return true;
    }
  }
  bool fits = e == NULL || e->link == NULL || strlen(e->link) + 1 <= cap;
  bool hit = e != NULL && fits && answer_holds(c, e, q, seen, &obj);
  size_t link_len = hit && e->link != NULL ? strlen(e->link) + 1 : 0;
  if (!fits) {
    pthread_mutex_unlock(&c->lock); /* the caller's buffer cannot take it: ask the gofer */
    return false;
  }
  if (hit) {
    *rep = e->rep;
    if (e->obj_fd >= 0)
      rep->stx = obj;
    if (link_len > 0)
      memcpy(data, e->link, link_len);
    rep->data_len = (uint32_t)link_len;
    if (obj_out != NULL && e->obj_fd >= 0)
      give_obj(c, e, obj_out);
    c->stats.hits += count;
  } else if (e != NULL) {
    entry_remove(c, e); /* something changed: the gofer answers, and a new entry is made */
    c->stats.stale += count;
  } else {
    c->stats.misses += count;
  }
  pthread_mutex_unlock(&c->lock);
  return hit;
}

bool dcache_lookup_obj(struct dcache *c, const struct dcache_query *q, struct gofer_rep *rep,
                       char *data, size_t cap, struct dcache_lend *obj, struct dcache_seen *seen)
{
  return lookup(c, q, rep, data, cap, obj, true, seen);
}

void dcache_lend_drop(struct dcache_lend *obj)
{
  struct dcache *c = obj->cache;
  if (obj->dir != NULL || obj->entry != NULL) {
    pthread_mutex_lock(&c->lock);
    if (obj->dir != NULL)
      dir_put(c, obj->dir);
    else if (--obj->entry->lends == 0 && obj->entry->dead)
      entry_free(c, obj->entry);
    pthread_mutex_unlock(&c->lock);
  } else if (obj->fd >= 0) {
    close(obj->fd);
  }
  obj->fd = -1, obj->dir = NULL, obj->entry = NULL;
}

int dcache_dir_hold(struct dcache *c, const struct dcache_query *q, struct statx *stx,
                    struct dcache_seen *seen, struct dcache_lend *held)
{
  struct gofer_rep rep;
  if (!lookup(c, q, &rep, NULL, 0, held, false, seen))
    return -1;
  if (held->fd >= 0 && rep.status == GOFER_DONE && rep.err == 0 && S_ISDIR(rep.stx.stx_mode)) {
    if (stx != NULL)
      *stx = rep.stx;
    return held->fd;
  }
  dcache_lend_drop(held);
  return -1;
}

/* ---- insertion ---- */

/* e into its bucket, with a generation of its own. Lock held. */
static void link_locked(struct dcache *c, struct dcache_entry *e)
{
  e->gen = ++c->next_gen;
  e->next = c->buckets[e->hash % DCACHE_BUCKETS];
  c->buckets[e->hash % DCACHE_BUCKETS] = e;
}

static void close_fds(const int *fds, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    close(fds[i]);
}

/* The answers worth keeping: an object or a link reached, or a lookup that
 * failed because of what the directories hold (or let the caller see). */
static bool answer_cacheable(const struct gofer_rep *r)
{
  if (r->nkeep > GOFER_MAX_KEEP + 1 || r->keep_dirs > r->nkeep)
    return false;
  if ((uint64_t)r->keep_off + (uint64_t)r->keep_dirs * sizeof(struct gofer_keep_snap) >
      r->data_len)
    return false;
  bool reached = r->status == GOFER_DONE && r->err == 0 && r->has_stat;
  if (r->nkeep != r->keep_dirs + (reached ? 1u : 0u))
    return false;
  if (r->status == GOFER_AT_LINK)
    return r->err == 0;
  return r->status == GOFER_DONE &&
         (r->err == 0 || r->err == ENOENT || r->err == ENOTDIR || r->err == EACCES);
}

/* The credentials' number, added if new (0 entries made with none). */
static int creds_id_for(struct dcache *c, const struct deputy_creds *creds)
{
  int id = creds_find(c, creds);
  if (id >= 0)
    return id;
  if (c->ncreds == DCACHE_MAX_CREDS)
    flush_locked(c);
  c->creds[c->ncreds] = *creds;
  return (int)c->ncreds++;
}

static struct dcache_entry *entry_new(const struct dcache_answer *a, int creds_id)
{
  const struct gofer_rep *r = a->rep;
  struct dcache_entry *e = calloc(1, sizeof *e + r->keep_dirs * sizeof e->deps[0]);
  if (e == NULL)
    return NULL;
  e->mount = a->mount;
  e->walk = a->walk;
  e->creds_id = creds_id;
  e->hash = key_hash(a->mount, a->walk, creds_id, a->rel);
  e->rel = strdup(a->rel);
  e->rep = *r;
  e->rep.nkeep = e->rep.keep_dirs = e->rep.keep_off = 0;
  e->obj_fd = -1;
  if (r->status == GOFER_AT_LINK)
    e->link = strndup(a->data, r->keep_off);
  if (e->rel == NULL || (r->status == GOFER_AT_LINK && e->link == NULL)) {
    free(e->rel);
    free(e->link);
    free(e);
    return NULL;
  }
  return e;
}

/* A directory a kept walk went through, as an answer of its own (rel: the
 * walk's first components up to it; "" for the mount root): looking those
 * names up from the mount root, through deps[0..ndeps) unchanged, reaches
 * dir. A directory passed on the way is no link, so the answer serves
 * both follow flags, as any non-link's. The mount root depends on nothing:
 * it is always the same object. Lets the sentry look names up in any
 * directory a walk passed (local steps), not only where one ended. Lock
 * held. */
static void add_dir_locked(struct dcache *c, int mount, int creds_id, const char *rel,
                           const struct dcache_dep *deps, uint32_t ndeps, struct dcache_dir *dir)
{
  if (find(c, mount, rel, 0, creds_id) != NULL || c->nentries >= DCACHE_MAX_ENTRIES)
    return;
  struct dcache_entry *e = calloc(1, sizeof *e + ndeps * sizeof e->deps[0]);
  if (e == NULL || (e->rel = strdup(rel)) == NULL) {
    free(e);
    return;
  }
  e->mount = mount, e->creds_id = creds_id, e->hash = key_hash(mount, 0, creds_id, rel);
  e->rep.magic = GOFER_MAGIC;
  uint64_t changes = watch_changes(dir);
  if (statx(dir->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, GOFER_STATX_MASK, &e->rep.stx) < 0) {
    free(e->rel);
    free(e);
    return;
  }
  dir_ctime_note(dir, &e->rep.stx, changes);
  /* the kept directory's own fd: no copy, so a directory costs one fd
   * however many answers pass it or end at it */
  e->obj_fd = dir->fd;
  e->obj_dir = dir;
  dir->refs++;
  e->rep.has_stat = 1;
  for (uint32_t i = 0; i < ndeps; i++) {
    e->deps[i] = deps[i];
    deps[i].dir->refs++;
  }
  e->ndeps = ndeps;
  c->nentries++;
  link_locked(c, e);
}

/* Every directory entry answered by e's walk: the mount root and each
 * directory after it (e->deps[i] is the directory reached by the first i
 * names of e->rel). Lock held. */
static void add_dirs_locked(struct dcache *c, const struct dcache_entry *e)
{
  char prefix[PATH_MAX];
  for (uint32_t i = 0; i < e->ndeps; i++) {
    /* the first i names: up to the slash before component i */
    const char *next = nth_component(e->rel, i);
    if (next == NULL)
      return;
    size_t len = i == 0 ? 0 : (size_t)(next - e->rel) - 1;
    if (len >= sizeof prefix || (i > 0 && (len == 0 || e->rel[len - 1] == '/')))
      return; /* (an empty name: no directory answer for it) */
    memcpy(prefix, e->rel, len);
    prefix[len] = '\0';
    add_dir_locked(c, e->mount, e->creds_id, prefix, e->deps, i, e->deps[i].dir);
  }
}

void dcache_insert(struct dcache *c, const struct dcache_answer *a)
{
  const struct gofer_rep *r = a->rep;
  uint32_t nfds = r->nkeep;
  if (!c->enabled || !dcache_walk_cacheable(a->walk) || !answer_cacheable(r)) {
    close_fds(a->fds, nfds);
    return;
  }
  pthread_mutex_lock(&c->lock);
  for (uint32_t i = 0; i < r->keep_dirs; i++)
    if (!fs_has_mgtime(c, a->fds[i])) {
      pthread_mutex_unlock(&c->lock);
      close_fds(a->fds, nfds);
      return;
    }
  if (c->nentries >= DCACHE_MAX_ENTRIES || c->nfds + nfds > c->max_fds)
    evict_some_locked(c);
  int id = creds_id_for(c, a->creds);
  struct dcache_entry *old = find(c, a->mount, a->rel, a->walk, id);
  if (old != NULL)
    entry_remove(c, old);
  struct dcache_entry *e = entry_new(a, id);
  if (e == NULL) {
    pthread_mutex_unlock(&c->lock);
    close_fds(a->fds, nfds);
    return;
  }
  const struct gofer_keep_snap *snaps = (const void *)(a->data + r->keep_off);
  for (uint32_t i = 0; i < r->keep_dirs; i++) {
    struct gofer_keep_snap snap;
    memcpy(&snap, &snaps[i], sizeof snap); /* the data buffer need not be aligned */
    struct dcache_dir *d = dir_take(c, &snap, a->fds[i]);
    if (d != NULL)
      e->deps[e->ndeps++] = (struct dcache_dep){d, snap.ctime_sec, snap.ctime_nsec, UNSEEN};
  }
  if (nfds > r->keep_dirs) {
    e->obj_fd = a->fds[r->keep_dirs];
    c->nfds++;
  }
  c->nentries++;
  if (e->ndeps != r->keep_dirs) { /* out of memory on the way: not an answer to keep */
    entry_free(c, e);
  } else {
    link_locked(c, e);
    c->stats.inserted++;
    add_dirs_locked(c, e);
  }
  pthread_mutex_unlock(&c->lock);
}

/* ---- a step the sentry made itself from a cached directory ---- */

void dcache_count_local(struct dcache *c)
{
  pthread_mutex_lock(&c->lock);
  c->stats.local++;
  pthread_mutex_unlock(&c->lock);
}

/* The count of events the snapshot a step was taken after (its ctime)
 * holds for, when the kept directory's last ctime read found that ctime:
 * the count read before that read (a change since would have given the
 * directory a new ctime, multigrain; its event is counted later). A new
 * answer's first check then needs no ctime read while the events since
 * name other entries. UNSEEN: unknown. */
static uint64_t snap_seen(const struct dcache_dir *d, const struct gofer_keep_snap *snap)
{
  bool same = d->ctime_seen != UNSEEN && d->ctime_sec == snap->ctime_sec &&
              d->ctime_nsec == snap->ctime_nsec;
  return same ? d->ctime_seen : UNSEEN;
}

void dcache_insert_child(struct dcache *c, const struct dcache_child *k)
{
  const struct gofer_rep *r = k->rep;
  bool reached = r->status == GOFER_DONE && r->err == 0;
  bool ok = c->enabled && (r->status == GOFER_AT_LINK ? k->link != NULL
                           : reached                  ? k->obj_fd >= 0
                                                      : r->err == ENOENT || r->err == EACCES ||
                                                            r->err == ENOTDIR);
  pthread_mutex_lock(&c->lock);
  if (ok && k->dir_kept == NULL) { /* (a kept one's filesystem was asked when it was kept) */
    const struct dcache_dev *dev = dev_of_snap(c, &k->dir_snap, k->dir_fd);
    ok = dev != NULL && dev->mgtime;
  }
  int id = ok ? creds_find(c, k->creds) : -1;
  struct dcache_entry *parent = id < 0 ? NULL : find_answer(c, k->mount, k->parent_rel, 0, id);
  struct dcache_entry *e = NULL;
  if (parent != NULL && parent->obj_fd >= 0 && c->nentries < DCACHE_MAX_ENTRIES &&
      c->nfds + 2 <= c->max_fds) {
    struct dcache_entry *old = find(c, k->mount, k->rel, k->walk, id);
    if (old != NULL && old != parent)
      entry_remove(c, old);
    e = calloc(1, sizeof *e + (parent->ndeps + 1) * sizeof e->deps[0]);
  }
  if (e != NULL && ((e->rel = strdup(k->rel)) == NULL ||
                    (k->link != NULL && (e->link = strdup(k->link)) == NULL))) {
    free(e->rel);
    free(e);
    e = NULL;
  }
  if (e == NULL) {
    pthread_mutex_unlock(&c->lock);
    if (k->dir_fd >= 0)
      close(k->dir_fd);
    if (k->obj_fd >= 0)
      close(k->obj_fd);
    return;
  }
  e->mount = k->mount, e->walk = k->walk, e->creds_id = id;
  e->hash = key_hash(k->mount, k->walk, id, k->rel);
  e->rep = *r;
  e->rep.nkeep = e->rep.keep_dirs = e->rep.keep_off = 0;
  for (uint32_t i = 0; i < parent->ndeps; i++) {
    e->deps[i] = parent->deps[i];
    e->deps[i].dir->refs++;
  }
  e->ndeps = parent->ndeps;
  struct dcache_dir *d = k->dir_kept;
  if (d != NULL)
    d->refs++;
  else
    d = dir_take(c, &k->dir_snap, k->dir_fd);
  if (d != NULL)
    e->deps[e->ndeps++] = (struct dcache_dep){d, k->dir_snap.ctime_sec, k->dir_snap.ctime_nsec,
                                              snap_seen(d, &k->dir_snap)};
  e->obj_fd = k->obj_fd;
  if (e->obj_fd >= 0)
    c->nfds++;
  c->nentries++;
  if (d == NULL) {
    entry_free(c, e);
  } else {
    link_locked(c, e);
    c->stats.inserted++;
  }
  pthread_mutex_unlock(&c->lock);
}
