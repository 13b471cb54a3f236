/* dcache_dir_hold and dcache_lookup_obj: a directory, or a walk's object,
 * of the walk cache lent without a copy. The fd is the cache's own, stays
 * open while held even when every answer that kept it is gone, and closes
 * when the last of them and the hold are. And the mount roots
 * (dcache_set_root): answered from their fds from the first walk on, for
 * any credentials, and again after the cache forgot them. And a file's
 * watch (dcache_watch_file): what a second name of it does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gofer/protocol.h"
#include "vfs/dcache.h"

struct tree {
  char root[PATH_MAX];
  struct dcache dc;
  struct deputy_creds creds;
};

/* The walks of "d" and "d/f", attributes wanted as they are now. */
#define D_ATTRS(t) ((struct dcache_query){.rel = "d", .creds = &(t)->creds, .attrs = true})
#define ROOT_OF(m, who, w)                                                                         \
  ((struct dcache_query){.mount = (m), .rel = "", .walk = (w), .creds = (who), .attrs = true})
#define F_ATTRS(t) ((struct dcache_query){.rel = "d/f", .creds = &(t)->creds, .attrs = true})

static int open_fds(void)
{
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  while (readdir(d) != NULL)
    n++;
  closedir(d);
  return n;
}

static struct gofer_keep_snap snap_of(int fd)
{
  struct statx x;
  assert_int_equal(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, &x), 0);
  return gofer_snap_of(&x);
}

/* The answer a GOFER_WALK_KEEP walk of rel ("d", "d/f") gives: the root
 * and each directory on the way kept, then the last component itself as
 * the walk's object (its own fd, not a kept directory). */
#define WALK_MAX 4
static void insert_walk(struct tree *t, const char *rel)
{
  char path[PATH_MAX * 2];
  int fds[WALK_MAX + 1];
  struct gofer_keep_snap snaps[WALK_MAX];
  int n = snprintf(path, sizeof path, "%s", t->root), nfds = 0;
  fds[nfds++] = open(path, O_PATH | O_CLOEXEC);
  assert_true(fds[0] >= 0);
  for (const char *c = rel; *c != '\0' && nfds <= WALK_MAX; nfds++) {
    size_t len = strcspn(c, "/");
    n += snprintf(path + n, sizeof path - (size_t)n, "/%.*s", (int)len, c);
    snaps[nfds - 1] = snap_of(fds[nfds - 1]);
    fds[nfds] = open(path, O_PATH | O_CLOEXEC);
    assert_true(fds[nfds] >= 0);
    c += len + (c[len] == '/');
  }
  struct gofer_rep rep = {.magic = GOFER_MAGIC, .status = GOFER_DONE, .has_stat = 1,
                          .nkeep = (uint32_t)nfds, .keep_dirs = (uint32_t)(nfds - 1),
                          .keep_off = 0,
                          .data_len = (uint32_t)((size_t)(nfds - 1) * sizeof snaps[0])};
  assert_int_equal(statx(fds[nfds - 1], "", AT_EMPTY_PATH, GOFER_STATX_MASK, &rep.stx), 0);
  dcache_insert(&t->dc, &(struct dcache_answer){.mount = 0, .rel = rel, .walk = 0,
                                                .creds = &t->creds, .rep = &rep,
                                                .data = (const char *)snaps, .fds = fds});
}

static int setup(void **state)
{
  struct tree *t = calloc(1, sizeof *t);
  snprintf(t->root, sizeof t->root, "/tmp/usbox-dcache.XXXXXX");
  assert_non_null(mkdtemp(t->root));
  char path[PATH_MAX * 2];
  snprintf(path, sizeof path, "%s/d", t->root);
  assert_int_equal(mkdir(path, 0755), 0);
  snprintf(path, sizeof path, "%s/d/f", t->root);
  int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
  dcache_init(&t->dc);
  if (!t->dc.enabled)
    fail_msg("the walk cache is off on this kernel (no multigrain ctimes): nothing to test");
  t->creds.ngroups = 0;
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct tree *t = *state;
  dcache_destroy(&t->dc);
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", t->root);
  free(t);
  return 0;
}

/* A hold lends the kept fd: no new fd, the same number each time. */
static void test_hold_lends_the_kept_fd(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d/f");
  int before = open_fds();
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc), held2 = DCACHE_LEND_INIT(&t->dc);
  int fd = dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &held);
  assert_true(fd >= 0);
  assert_int_equal(held.fd, fd);
  assert_non_null(held.dir); /* d is a kept directory of the d/f answer */
  assert_int_equal(open_fds(), before);
  int fd2 = dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &held2);
  assert_int_equal(fd2, fd);
  assert_int_equal(open_fds(), before);
  dcache_lend_drop(&held2);
  dcache_lend_drop(&held);
  assert_int_equal(open_fds(), before);
  assert_true(fcntl(fd, F_GETFD) >= 0); /* still the cache's */
}

/* A walk that ends at a directory keeps it as its object, not as a kept
 * directory: holding it lends the answer, and giving it back leaves the
 * cache's fd open (closing it would hand its number to the next file
 * opened, for the cache to act on). */
static void test_hold_of_a_walked_directory(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d");
  int before = open_fds();
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
  int fd = dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &held);
  assert_true(fd >= 0);
  assert_true(held.dir != NULL || held.entry != NULL); /* lent, not a copy */
  assert_int_equal(open_fds(), before);
  dcache_lend_drop(&held);
  assert_int_equal(open_fds(), before);
  assert_true(fcntl(fd, F_GETFD) >= 0);
  struct dcache_lend again = DCACHE_LEND_INIT(&t->dc);
  assert_int_equal(dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &again), fd);
  dcache_lend_drop(&again);
}

/* A walked directory that is also kept as a directory (a walk passed it
 * since): held, its answer lends the kept directory, and its own fd is
 * closed (one fd fewer; a walk below it needs no copy). */
static void test_walked_directory_adopts_the_kept_one(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d");
  insert_walk(t, "d/f"); /* d kept as a directory of d/f's answer */
  int before = open_fds();
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
  int fd = dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &held);
  assert_true(fd >= 0);
  assert_non_null(held.dir); /* the kept directory, not the answer's own fd */
  assert_int_equal(open_fds(), before - 1);
  dcache_lend_drop(&held);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  assert_int_equal(st.st_ino, x.stx_ino);
}

/* The answers that kept d forgotten while it is held: its fd stays open
 * (another thread's close could otherwise hand its number to a new file
 * mid-operation), and closes with the hold. */
static void test_held_outlives_its_answers(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d/f");
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
  int fd = dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &held);
  assert_true(fd >= 0);
  struct stat before;
  assert_int_equal(fstat(fd, &before), 0);
  dcache_forget(&t->dc, 0, "", true); /* every answer of the mount */
  struct dcache_lend none = DCACHE_LEND_INIT(&t->dc);
  assert_int_equal(dcache_dir_hold(&t->dc, &D_ATTRS(t), &x, NULL, &none), -1);
  assert_int_equal(none.fd, -1);
  struct stat now;
  assert_int_equal(fstat(fd, &now), 0);
  assert_int_equal(now.st_ino, before.st_ino);
  dcache_lend_drop(&held);
  assert_int_equal(fcntl(fd, F_GETFD), -1);
  assert_int_equal(errno, EBADF);
}

/* A query for identity only (a create's or a removal's parent) is
 * answered without reading the object's attributes again: its device,
 * inode and type as ever, its mode as of the answer's making; a query
 * for attributes then reads them, even right after in the same call (the
 * call's memory held no attributes), and remembers them for the next. */
static void test_identity_only_reads_no_attributes(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d/f");
  char path[PATH_MAX * 2];
  snprintf(path, sizeof path, "%s/d/f", t->root);
  struct stat was;
  assert_int_equal(stat(path, &was), 0);
  assert_int_equal(chmod(path, 0600), 0); /* f's own change: no directory's */
  struct dcache_seen seen = {0};
  struct dcache_query ident = F_ATTRS(t);
  ident.attrs = false;
  struct gofer_rep rep;
  struct dcache_lend a = DCACHE_LEND_INIT(&t->dc);
  assert_true(dcache_lookup_obj(&t->dc, &ident, &rep, NULL, 0, &a, &seen));
  dcache_lend_drop(&a);
  assert_int_equal(rep.stx.stx_ino, (uint64_t)was.st_ino);
  assert_int_equal(makedev(rep.stx.stx_dev_major, rep.stx.stx_dev_minor), was.st_dev);
  assert_int_equal(rep.stx.stx_mode, was.st_mode); /* as inserted: 0644 */
  assert_false(seen.attrs);
  assert_true(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, &a, &seen));
  dcache_lend_drop(&a);
  assert_int_equal(rep.stx.stx_mode, S_IFREG | 0600); /* read now */
  assert_true(seen.attrs);
  assert_int_equal(chmod(path, 0640), 0);
  assert_true(dcache_lookup_obj(&t->dc, &ident, &rep, NULL, 0, &a, &seen));
  dcache_lend_drop(&a);
  assert_int_equal(rep.stx.stx_mode, S_IFREG | 0600); /* the call's memory */
  assert_true(seen.attrs);
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
  struct dcache_query d_ident = D_ATTRS(t);
  d_ident.attrs = false;
  assert_true(dcache_dir_hold(&t->dc, &d_ident, &x, NULL, &held) >= 0);
  assert_true(S_ISDIR(x.stx_mode));
  dcache_lend_drop(&held);
  assert_true(dcache_dir_hold(&t->dc, &d_ident, NULL, NULL, &held) >= 0);
  dcache_lend_drop(&held);
}

/* "d/f" answered from the cache (its fd lent and given back). */
static void lookup_f(struct tree *t)
{
  struct gofer_rep rep;
  struct dcache_lend a = DCACHE_LEND_INIT(&t->dc);
  assert_true(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, &a, NULL));
  dcache_lend_drop(&a);
}

/* A path under the tree. */
static const char *in_tree(struct tree *t, const char *rel)
{
  static char path[4][PATH_MAX * 2];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, sizeof path[0], "%s/%s", t->root, rel);
  return p;
}

static void touch(struct tree *t, const char *rel)
{
  int fd = open(in_tree(t, rel), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
}

/* The watches: a directory checked once is not checked again while its
 * watch has no event; a change in it (noted: dcache_note_changes, as every
 * call does at its start) to another entry than the one the answer looked
 * up there needs no check either (a named group); one to that entry, or to
 * the directory itself, makes the next answer read its ctime and look its
 * one step up again. The other directory's stays unread throughout. */
static void test_watched_directories(void **state)
{
  struct tree *t = *state;
  if (t->dc.watch_fd < 0 || !t->dc.watch_named)
    fail_msg("no fanotify group naming entries here: nothing to test");
  insert_walk(t, "d/f");
  lookup_f(t);
  unsigned long checked = t->dc.stats.checked, quiet = t->dc.stats.quiet;
  assert_int_equal(checked, 2); /* the root and d, never checked since their watches */
  lookup_f(t);
  assert_int_equal(t->dc.stats.checked, checked);
  assert_int_equal(t->dc.stats.quiet, quiet + 2);
  touch(t, "d/next-door");
  dcache_note_changes(&t->dc);
  lookup_f(t);
  assert_int_equal(t->dc.stats.checked, checked); /* "next-door" is not "f" */
  assert_int_equal(t->dc.stats.named, 1);
  assert_int_equal(t->dc.stats.relooked, 0);
  assert_int_equal(t->dc.stats.quiet, quiet + 3); /* the root */
  /* f itself renamed away and back: the same object, looked up again */
  assert_int_equal(rename(in_tree(t, "d/f"), in_tree(t, "d/g")), 0);
  assert_int_equal(rename(in_tree(t, "d/g"), in_tree(t, "d/f")), 0);
  dcache_note_changes(&t->dc);
  lookup_f(t);
  assert_int_equal(t->dc.stats.checked, checked + 1);
  assert_int_equal(t->dc.stats.relooked, 1);
  /* d's own mode (its search permission): no entry named, looked up again */
  assert_int_equal(chmod(in_tree(t, "d"), 0711), 0);
  dcache_note_changes(&t->dc);
  lookup_f(t);
  assert_int_equal(t->dc.stats.checked, checked + 2);
  assert_int_equal(t->dc.stats.relooked, 2);
  assert_int_equal(t->dc.stats.named, 1);
  /* f replaced by another file: looked up, not the same: not answered */
  touch(t, "d/other");
  assert_int_equal(rename(in_tree(t, "d/other"), in_tree(t, "d/f")), 0);
  dcache_note_changes(&t->dc);
  struct gofer_rep rep;
  assert_false(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, NULL, NULL));
}

/* A hold for a snapshot (ctime_only: the ctime a lookup in the directory
 * depends on) takes the directory's ctime as last read while its watch had
 * no event since, and with a named group after events too: an answer made
 * on that snapshot holds the count of events read before it, so an entry
 * made since under another name leaves it as it is (no ctime read), and
 * one made under its own name (here: where it said there was none) makes
 * it stale. */
static void test_snapshot_ctime_from_a_quiet_watch(void **state)
{
  struct tree *t = *state;
  if (t->dc.watch_fd < 0 || !t->dc.watch_named)
    fail_msg("no fanotify group naming entries here: nothing to test");
  insert_walk(t, "d/f");
  lookup_f(t); /* d's ctime read (a check of d/f's answer): noted */
  struct statx now;
  assert_int_equal(statx(AT_FDCWD, in_tree(t, "d"), 0, STATX_CTIME, &now), 0);
  struct dcache_query snap = D_ATTRS(t);
  snap.ctime_only = true;
  struct statx x;
  struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
  unsigned long quiet = t->dc.stats.quiet, checked = t->dc.stats.checked;
  assert_true(dcache_dir_hold(&t->dc, &snap, &x, NULL, &held) >= 0);
  dcache_lend_drop(&held);
  assert_int_equal(t->dc.stats.checked, checked + 1); /* the root: d's answer's first check */
  assert_int_equal(t->dc.stats.quiet, quiet + 1);     /* d's own ctime, not read */
  assert_int_equal(x.stx_ctime.tv_sec, now.stx_ctime.tv_sec);
  assert_int_equal(x.stx_ctime.tv_nsec, now.stx_ctime.tv_nsec);
  touch(t, "d/new"); /* an event since d's ctime was read */
  dcache_note_changes(&t->dc);
  checked = t->dc.stats.checked;
  assert_true(dcache_dir_hold(&t->dc, &snap, &x, NULL, &held) >= 0);
  assert_int_equal(t->dc.stats.checked, checked); /* not read again: d's as last read */
  assert_int_equal(x.stx_ctime.tv_sec, now.stx_ctime.tv_sec);
  assert_int_equal(x.stx_ctime.tv_nsec, now.stx_ctime.tv_nsec);
  /* "d/g" looked up after that snapshot: not there */
  struct gofer_rep none = {.magic = GOFER_MAGIC, .status = GOFER_DONE, .err = ENOENT};
  dcache_insert_child(&t->dc, &(struct dcache_child){
                                  .rel = "d/g", .parent_rel = "d", .creds = &t->creds,
                                  .rep = &none, .dir_fd = -1, .dir_kept = held.dir,
                                  .dir_snap = gofer_snap_of(&x), .obj_fd = -1});
  dcache_lend_drop(&held);
  struct dcache_query g = {.rel = "d/g", .creds = &t->creds, .attrs = true};
  struct gofer_rep rep;
  assert_true(dcache_lookup_obj(&t->dc, &g, &rep, NULL, 0, NULL, NULL));
  assert_int_equal(rep.err, ENOENT);
  checked = t->dc.stats.checked;
  touch(t, "d/h");
  dcache_note_changes(&t->dc);
  assert_true(dcache_lookup_obj(&t->dc, &g, &rep, NULL, 0, NULL, NULL));
  assert_int_equal(rep.err, ENOENT);
  assert_int_equal(t->dc.stats.checked, checked); /* "new" and "h" only: nothing read */
  touch(t, "d/g");
  dcache_note_changes(&t->dc);
  assert_false(dcache_lookup_obj(&t->dc, &g, &rep, NULL, 0, NULL, NULL));
}

/* "d/f" renamed away and back: two events naming f, the answer's own step. */
static void churn_f(struct tree *t)
{
  assert_int_equal(rename(in_tree(t, "d/f"), in_tree(t, "d/f.tmp")), 0);
  assert_int_equal(rename(in_tree(t, "d/f.tmp"), in_tree(t, "d/f")), 0);
}

/* A directory that sends many more events than checks its watch saves
 * (one the agent keeps changing the answer's own entry in) loses its
 * watch: its ctime is read at each check from then on, and its events no
 * longer come. Events for other entries save their checks and keep it
 * (a directory tar or git makes files in). The events are read after each
 * change, as the sentry reads them at each call. */
static void test_hot_directory_loses_its_watch(void **state)
{
  struct tree *t = *state;
  if (t->dc.watch_fd < 0 || !t->dc.watch_named)
    fail_msg("no fanotify group naming entries here: nothing to test");
  insert_walk(t, "d/f");
  lookup_f(t);
  /* 70 files made and removed next door (each one event: merged), saved */
  for (int i = 0; i < 70; i++) {
    touch(t, "d/churn");
    assert_int_equal(unlink(in_tree(t, "d/churn")), 0);
    dcache_note_changes(&t->dc);
    lookup_f(t);
  }
  assert_int_equal(t->dc.stats.named, 70);
  touch(t, "d/churn");
  char buf[4096];
  assert_true(read(t->dc.watch_fd, buf, sizeof buf) > 0); /* still watched */
  dcache_note_changes(&t->dc);
  /* 80 renames of f itself (the queue merges each name's two events of a
   * rename into one: 160 events), none saved */
  for (int i = 0; i < 80; i++) {
    churn_f(t);
    dcache_note_changes(&t->dc);
    lookup_f(t);
  }
  unsigned long checked = t->dc.stats.checked, quiet = t->dc.stats.quiet;
  for (int i = 0; i < 2; i++) {
    dcache_note_changes(&t->dc);
    lookup_f(t);
  }
  assert_int_equal(t->dc.stats.checked, checked + 2); /* d, each time */
  assert_int_equal(t->dc.stats.quiet, quiet + 2);     /* the root, watched still */
  touch(t, "d/again"); /* d changed again: */
  assert_int_equal(read(t->dc.watch_fd, buf, sizeof buf), -1); /* no event */
  assert_int_equal(errno, EAGAIN);
}

/* A walk's object (a file: no kept directory) lent: the cache's own fd, no
 * new one; its answer dropped meanwhile, the fd stays open until it comes
 * back, then closes. */
static void test_lent_file_outlives_its_answer(void **state)
{
  struct tree *t = *state;
  insert_walk(t, "d/f");
  int before = open_fds();
  struct gofer_rep rep;
  struct dcache_lend a = DCACHE_LEND_INIT(&t->dc), b = DCACHE_LEND_INIT(&t->dc);
  assert_true(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, &a, NULL));
  assert_true(a.fd >= 0);
  assert_non_null(a.entry);
  assert_true(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, &b, NULL));
  assert_int_equal(b.fd, a.fd);
  assert_int_equal(open_fds(), before);
  struct stat st;
  assert_int_equal(fstat(a.fd, &st), 0);
  dcache_forget(&t->dc, 0, "d/f", false);
  struct dcache_lend none = DCACHE_LEND_INIT(&t->dc);
  assert_false(dcache_lookup_obj(&t->dc, &F_ATTRS(t), &rep, NULL, 0, &none, NULL));
  assert_int_equal(none.fd, -1);
  int fd = a.fd;
  dcache_lend_drop(&a);
  assert_int_equal(fcntl(fd, F_GETFD) >= 0, 1); /* b still has it */
  dcache_lend_drop(&b);
  assert_int_equal(fcntl(fd, F_GETFD), -1);
  assert_int_equal(errno, EBADF);
}

/* Without its root, a mount's "" is the gofer's (a miss); with it, the
 * root's answer is there for any credentials, its attributes as they are
 * now, lent as a kept directory (no new fd per lookup). */
static void test_root_answered_from_its_fd(void **state)
{
  struct tree *t = *state;
  struct gofer_rep rep;
  struct statx x;
  assert_false(dcache_lookup_obj(&t->dc, &ROOT_OF(0, &t->creds, 0), &rep, NULL, 0, NULL, NULL));
  int root = open(t->root, O_PATH | O_CLOEXEC);
  assert_true(root >= 0);
  assert_int_equal(dcache_set_root(&t->dc, 0, root), 0);
  assert_int_equal(dcache_set_root(&t->dc, DCACHE_MAX_ROOTS, root), -EINVAL);
  struct stat st;
  assert_int_equal(fstat(root, &st), 0);
  close(root); /* the cache has its own copy */
  assert_false(dcache_lookup_obj(&t->dc, &ROOT_OF(1, &t->creds, 0), &rep, NULL, 0, NULL, NULL));
  struct deputy_creds other = {.fsuid = 4321, .fsgid = 4321, .ngroups = 0};
  char path[PATH_MAX * 2];
  snprintf(path, sizeof path, "%s/new", t->root);
  assert_int_equal(mkdir(path, 0700), 0); /* the root's ctime and nlink change */
  const struct deputy_creds *who[] = {&t->creds, &other};
  for (size_t i = 0; i < 2; i++) {
    assert_true(dcache_lookup_obj(&t->dc, &ROOT_OF(0, who[i], GOFER_NOFOLLOW_LAST), &rep, NULL,
                                  0, NULL, NULL));
    assert_int_equal(rep.status, GOFER_DONE);
    assert_int_equal(rep.err, 0);
    assert_int_equal(rep.stx.stx_ino, st.st_ino);
    assert_int_equal(rep.stx.stx_nlink, st.st_nlink + 1);
    int before = open_fds();
    struct dcache_lend held = DCACHE_LEND_INIT(&t->dc);
    int fd = dcache_dir_hold(&t->dc, &ROOT_OF(0, who[i], 0), &x, NULL, &held);
    assert_true(fd >= 0);
    assert_non_null(held.dir);
    assert_int_equal(x.stx_ino, st.st_ino);
    assert_int_equal(open_fds(), before);
    dcache_lend_drop(&held);
  }
  dcache_forget(&t->dc, 0, "", true); /* every answer of the mount: the root's comes back */
  assert_true(dcache_lookup_obj(&t->dc, &ROOT_OF(0, &t->creds, 0), &rep, NULL, 0, NULL, NULL));
  assert_int_equal(rep.stx.stx_ino, st.st_ino);
}

/* A file marked with dcache_watch_file: dcache_files_unchanged while
 * nothing happens to it, or to its directory's other entries; false from
 * the first change of its link count (a second name made elsewhere, read
 * once the call's poll says events wait), and false for good after (the
 * name removed again). A directory cannot be marked so in a group that
 * would not hear it; with no group nothing is unchanged. */
static void test_file_watch(void **state)
{
  struct tree *t = *state;
  if (!t->dc.watch_files)
    fail_msg("no fanotify group here hears a file's links: nothing to test");
  int f = open(in_tree(t, "d/f"), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  assert_true(f >= 0);
  assert_int_equal(dcache_watch_file(&t->dc, f), 0);
  close(f);
  assert_true(dcache_files_unchanged(&t->dc));
  touch(t, "d/next-door");
  dcache_note_changes(&t->dc);
  assert_true(dcache_files_unchanged(&t->dc));
  assert_int_equal(link(in_tree(t, "d/f"), in_tree(t, "alias")), 0);
  assert_true(dcache_files_unchanged(&t->dc)); /* (no poll said so yet) */
  dcache_note_changes(&t->dc);
  assert_false(dcache_files_unchanged(&t->dc));
  assert_int_equal(unlink(in_tree(t, "alias")), 0);
  dcache_note_changes(&t->dc);
  assert_false(dcache_files_unchanged(&t->dc));
  assert_true(dcache_dev_plain(&t->dc, 0) == false); /* a device never asked about */
  int fd = dcache_take_watch_fd(&t->dc);
  close(fd);
  assert_false(dcache_files_unchanged(&t->dc));
  assert_int_equal(dcache_watch_file(&t->dc, 0), -EOPNOTSUPP);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_hold_lends_the_kept_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hold_of_a_walked_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_walked_directory_adopts_the_kept_one, setup, teardown),
      cmocka_unit_test_setup_teardown(test_held_outlives_its_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lent_file_outlives_its_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_identity_only_reads_no_attributes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_watched_directories, setup, teardown),
      cmocka_unit_test_setup_teardown(test_snapshot_ctime_from_a_quiet_watch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hot_directory_loses_its_watch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_answered_from_its_fd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_watch, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
