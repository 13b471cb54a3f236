/* Credential comparison probe: "the deputy never has more rights than the
 * agent". ONE table of operations, each run against its own fresh fixture
 * directory; run natively under some credentials and inside usbox under the
 * same ones, the two outputs must be identical
 * (tests/integration/test_creds.sh compares them).
 *
 *   creds_probe list                                    the table's names
 *   creds_probe setup FIX --me U:G --other U:G --group G
 *                         (as root) build the fixture: FIX/NAME per row
 *   creds_probe run FIX --other U:G --group G --socks DIR [--unmapped]
 *                         run the table; one line per row, then "end N"
 *   creds_probe listen DIR --other U:G --group G
 *                         (as root) unix sockets owned by the other user:
 *                         streams DIR/s600, s660 (group), s666 and
 *                         private/s666 (in a directory only it can search),
 *                         datagrams d600, d666; prints "ready", then serves
 *   creds_probe snapshot FIX
 *                         the host state of the fixture: type, mode, owner,
 *                         size and mtime per path (the script adds the
 *                         xattrs with getfattr and getcap)
 *
 * A run prints "where seccomp=N", "creds ..." (ids, groups, capabilities,
 * no_new_privs: must be the same natively and in usbox), one line per row,
 * then "end N". A row's line is `NAME RET ERRNO [OBSERVABLES]`: RET is the
 * call's result ("fd" for a new descriptor), ERRNO its errno name or "-",
 * then what can be seen afterwards (mode and owner by stat, size, mtime, SIGXFSZ received,
 * the value read back). Owners are printed by role (me, other, root, group,
 * ...); with --unmapped (usbox without root: a user namespace mapping only
 * the caller's ids) every id but the caller's own prints as "x", since
 * inside the namespace the others all read as the overflow id.
 *
 * Each row names the directory it runs in (FIX/NAME, its owner and mode)
 * and the object "t" in it; the operation acts on NAME/t or creates
 * NAME/new. Nothing is shared between rows, so the order does not matter
 * and a row's result cannot depend on another's. */
#include "attack.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sys/time.h>
#include <time.h>
#include <utime.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define FIXED_TIME 1000000000 /* every fixture object's mtime */
#define SET_TIME 23456        /* what the utime rows set */
#define FSIZE_LIMIT 4096      /* RLIMIT_FSIZE of the truncate rows */

/* ------------------------------------------------------------------ ids */

enum who { W_NONE, W_ME, W_MYG, W_OT, W_OTG, W_GRP, W_ROOT };

static struct {
  uid_t me, other;
  gid_t mygid, othergid, group;
  bool unmapped;
  const char *fixture, *socks;
} g;

static unsigned id_of(enum who w)
{
  switch (w) {
  case W_ME: return g.me;
  case W_MYG: return g.mygid;
  case W_OT: return g.other;
  case W_OTG: return g.othergid;
  case W_GRP: return g.group;
  default: return 0;
  }
}

static const char *uid_name(uid_t u, char *buf, size_t n)
{
  if (u == g.me)
    return "me";
  if (g.unmapped)
    return "x";
  if (u == g.other)
    return "other";
  if (u == 0)
    return "root";
  snprintf(buf, n, "%u", u);
  return buf;
}

static const char *gid_name(gid_t id, char *buf, size_t n)
{
  if (id == g.mygid)
    return "mygid";
  if (g.unmapped)
    return "x";
  if (id == g.othergid)
    return "othergid";
  if (id == g.group)
    return "group";
  if (id == 0)
    return "root";
  snprintf(buf, n, "%u", id);
  return buf;
}

static bool parse_ids(const char *s, unsigned *u, unsigned *gg)
{
  return sscanf(s, "%u:%u", u, gg) == 2;
}

/* ------------------------------------------------------------------ results */

struct res {
  long ret;
  int err;
  bool fd;
  char obs[512];
};

struct ctx {
  char d[PATH_MAX]; /* NAME */
  char t[PATH_MAX]; /* NAME/t, or the listener's socket */
  char n[PATH_MAX]; /* NAME/new: does not exist */
};

static void done(struct res *r, long ret)
{
  r->ret = ret;
  r->err = ret < 0 ? errno : 0;
}

/* A new descriptor: only whether there is one is compared. */
static void done_fd(struct res *r, int fd)
{
  done(r, fd);
  r->fd = true;
  if (fd >= 0)
    close(fd);
}

__attribute__((format(printf, 2, 3))) static void obs(struct res *r, const char *fmt, ...)
{
  size_t len = strlen(r->obs);
  if (len + 2 >= sizeof r->obs)
    return;
  r->obs[len++] = ' ';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->obs + len, sizeof r->obs - len, fmt, ap);
  va_end(ap);
}

enum { O_MODE = 1, O_OWN = 2, O_SIZE = 4, O_MTIME = 8, O_NLINK = 16 };

static char type_char(mode_t m)
{
  return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISFIFO(m) ? 'p'
       : S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' : '?';
}

static void time_text(time_t t, char *buf, size_t n)
{
  time_t now = time(NULL);
  if (t == FIXED_TIME)
    snprintf(buf, n, "fixed");
  else if (t > now - 86400 && t < now + 86400)
    snprintf(buf, n, "now");
  else
    snprintf(buf, n, "%lld", (long long)t);
}

static void obs_st(struct res *r, const struct stat *st, unsigned what)
{
  char a[16], b[16], tm[32];
  if (what & O_MODE)
    obs(r, "mode=%c%04o", type_char(st->st_mode), st->st_mode & 07777);
  if (what & O_OWN)
    obs(r, "own=%s:%s", uid_name(st->st_uid, a, sizeof a), gid_name(st->st_gid, b, sizeof b));
  if (what & O_SIZE)
    obs(r, "size=%lld", (long long)st->st_size);
  if (what & O_NLINK)
    obs(r, "nlink=%lu", (unsigned long)st->st_nlink);
  if (what & O_MTIME) {
    time_text(st->st_mtime, tm, sizeof tm);
    obs(r, "mtime=%s", tm);
  }
}

/* What path looks like now (not following a last symlink). */
static void obs_path(struct res *r, const char *path, unsigned what)
{
  struct stat st;
  if (what == 0)
    return;
  if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    obs(r, "stat=%s", errname(errno));
  else
    obs_st(r, &st, what);
}

static void obs_fd(struct res *r, int fd, unsigned what)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    obs(r, "fstat=%s", errname(errno));
  else
    obs_st(r, &st, what);
}

/* The descriptor an fd row acts on; failing to get it fails the row. */
static int pre(struct res *r, const char *path, int flags)
{
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0) {
    done(r, -1);
    obs(r, "pre-open");
  }
  return fd;
}

/* ------------------------------------------------------------------ operations */

typedef void op_fn(const struct ctx *c, struct res *r);

/* a call on the object t, then t is looked at */
#define ON_T(fn, expr, what)                                                                       \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    done(r, (expr));                                                                               \
    obs_path(r, c->t, what);                                                                       \
  }
/* a call creating new, then new is looked at */
#define ON_NEW(fn, expr, what)                                                                     \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    done(r, (expr));                                                                               \
    obs_path(r, c->n, what);                                                                       \
  }
/* a call on a descriptor of t opened with flags, then t is looked at */
#define ON_FD(fn, flags, expr, what)                                                               \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    int fd = pre(r, c->t, (flags));                                                                \
    if (fd < 0)                                                                                    \
      return;                                                                                      \
    done(r, (expr));                                                                               \
    obs_path(r, c->t, what);                                                                       \
    close(fd);                                                                                     \
  }
/* an open of t returning a descriptor */
#define OPEN_T(fn, flags)                                                                          \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    done_fd(r, open(c->t, (flags) | O_CLOEXEC));                                                   \
  }

/* ---- open */
OPEN_T(op_open_r, O_RDONLY)
OPEN_T(op_open_w, O_WRONLY)
OPEN_T(op_open_rw, O_RDWR)
OPEN_T(op_open_noatime, O_RDONLY | O_NOATIME)
OPEN_T(op_open_dir, O_RDONLY | O_DIRECTORY)
OPEN_T(op_open_creat_existing, O_WRONLY | O_CREAT)

static void op_open_trunc(const struct ctx *c, struct res *r)
{
  done_fd(r, open(c->t, O_WRONLY | O_TRUNC | O_CLOEXEC));
  obs_path(r, c->t, O_SIZE);
}

static void op_open_creat(const struct ctx *c, struct res *r)
{
  done_fd(r, open(c->n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  obs_path(r, c->n, O_MODE | O_OWN);
}

static void op_open_tmpfile(const struct ctx *c, struct res *r)
{
  int fd = open(c->d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
  if (fd >= 0)
    obs_fd(r, fd, O_MODE | O_OWN | O_NLINK);
  done_fd(r, fd);
}

/* O_CREAT when no descriptor is left (RLIMIT_NOFILE): EMFILE, and no file */
static void op_open_creat_emfile(const struct ctx *c, struct res *r)
{
  struct rlimit old, lim;
  getrlimit(RLIMIT_NOFILE, &old);
  int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
  close(lowest);
  lim.rlim_cur = (rlim_t)lowest;
  lim.rlim_max = old.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  done_fd(r, open(c->n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  setrlimit(RLIMIT_NOFILE, &old);
  obs_path(r, c->n, O_MODE);
}

static void op_reopen_rw(const struct ctx *c, struct res *r)
{
  int fd = pre(r, c->t, O_RDONLY);
  if (fd < 0)
    return;
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  done_fd(r, open(p, O_RDWR | O_CLOEXEC));
  close(fd);
}

static void op_stat(const struct ctx *c, struct res *r)
{
  struct stat st;
  done(r, fstatat(AT_FDCWD, c->t, &st, AT_SYMLINK_NOFOLLOW));
  if (r->ret == 0)
    obs_st(r, &st, O_MODE | O_OWN | O_SIZE);
}

/* ---- creating, linking, removing */
ON_NEW(op_mkdir, mkdir(c->n, 0777), O_MODE | O_OWN)
ON_NEW(op_mkfifo, mknod(c->n, S_IFIFO | 0666, 0), O_MODE | O_OWN)
ON_NEW(op_mknod_chr, mknod(c->n, S_IFCHR | 0666, makedev(1, 3)), O_MODE | O_OWN)
ON_NEW(op_symlink, symlink("target", c->n), O_MODE | O_OWN)
ON_T(op_link, link(c->t, c->n), O_NLINK)
ON_T(op_unlink, unlink(c->t), O_MODE)
ON_T(op_rmdir, rmdir(c->t), O_MODE)
ON_T(op_rename, rename(c->t, c->n), O_MODE)

/* linkat of a descriptor: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; through
 * /proc/self/fd with AT_SYMLINK_FOLLOW it does not (but protected_hardlinks
 * applies) */
ON_FD(op_linkat_empty, O_RDONLY, linkat(fd, "", AT_FDCWD, c->n, AT_EMPTY_PATH), O_NLINK)
static void op_linkat_procfd(const struct ctx *c, struct res *r)
{
  int fd = pre(r, c->t, O_RDONLY);
  if (fd < 0)
    return;
  char pp[64];
  snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
  done(r, linkat(AT_FDCWD, pp, AT_FDCWD, c->n, AT_SYMLINK_FOLLOW));
  obs_path(r, c->t, O_NLINK);
  close(fd);
}

#define TMPFILE_LINK(fn, expr)                                                                     \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    int fd = open(c->d, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);                                   \
    if (fd < 0) {                                                                                  \
      done(r, -1);                                                                                 \
      obs(r, "pre-open");                                                                          \
      return;                                                                                      \
    }                                                                                              \
    char pp[64];                                                                                   \
    snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);                                               \
    done(r, (expr));                                                                               \
    obs_path(r, c->n, O_MODE | O_OWN);                                                             \
    close(fd);                                                                                     \
  }
TMPFILE_LINK(op_tmpfile_linkat_empty, linkat(fd, "", AT_FDCWD, c->n, AT_EMPTY_PATH))
TMPFILE_LINK(op_tmpfile_linkat_procfd, linkat(AT_FDCWD, pp, AT_FDCWD, c->n, AT_SYMLINK_FOLLOW))

/* RENAME_WHITEOUT leaves a whiteout (a 0/0 character device): CAP_MKNOD */
ON_T(op_rename_whiteout, syscall(SYS_renameat2, AT_FDCWD, c->t, AT_FDCWD, c->n, RENAME_WHITEOUT),
     O_MODE)

/* ---- modes */
ON_T(op_chmod, chmod(c->t, 0640), O_MODE)
ON_T(op_chmod_suid, chmod(c->t, 04755), O_MODE)
ON_T(op_chmod_sgid, chmod(c->t, 02755), O_MODE)
ON_FD(op_fchmod, O_RDONLY, fchmod(fd, 0640), O_MODE)
ON_FD(op_fchmod_sgid, O_RDONLY, fchmod(fd, 02755), O_MODE)
ON_FD(op_fchmodat_opath, O_PATH, syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH), O_MODE)
ON_FD(op_fchmodat_rdfd, O_RDONLY, syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH), O_MODE)

/* ---- owners */
ON_T(op_chown_me, chown(c->t, g.me, (gid_t)-1), O_MODE | O_OWN)
ON_T(op_chown_other, chown(c->t, g.other, (gid_t)-1), O_MODE | O_OWN)
ON_T(op_chgrp_group, chown(c->t, (uid_t)-1, g.group), O_MODE | O_OWN)
ON_T(op_chgrp_other, chown(c->t, (uid_t)-1, g.othergid), O_MODE | O_OWN)
ON_T(op_chown_noop, chown(c->t, (uid_t)-1, (gid_t)-1), O_MODE | O_OWN)
ON_T(op_lchown_other, lchown(c->t, g.other, (gid_t)-1), O_OWN)
ON_T(op_lchown_me, lchown(c->t, g.me, (gid_t)-1), O_OWN)
ON_FD(op_fchown_other, O_RDONLY, fchown(fd, g.other, (gid_t)-1), O_MODE | O_OWN)
ON_FD(op_fchown_me, O_RDONLY, fchown(fd, g.me, (gid_t)-1), O_MODE | O_OWN)
ON_FD(op_fchownat_opath_other, O_PATH, fchownat(fd, "", g.other, (gid_t)-1, AT_EMPTY_PATH),
      O_MODE | O_OWN)
ON_FD(op_fchownat_opath_me, O_PATH, fchownat(fd, "", g.me, (gid_t)-1, AT_EMPTY_PATH),
      O_MODE | O_OWN)
ON_FD(op_fchownat_rdfd_me, O_RDONLY, fchownat(fd, "", g.me, (gid_t)-1, AT_EMPTY_PATH),
      O_MODE | O_OWN)

/* ---- times */
static const struct timespec set_times[2] = {{SET_TIME, 0}, {SET_TIME, 0}};
ON_T(op_utime_null, utimensat(AT_FDCWD, c->t, NULL, 0), O_MTIME)
ON_T(op_utime_set, utimensat(AT_FDCWD, c->t, set_times, 0), O_MTIME)
ON_FD(op_utime_empty_null, O_PATH, utimensat(fd, "", NULL, AT_EMPTY_PATH), O_MTIME)
ON_FD(op_utime_empty_set, O_PATH, utimensat(fd, "", set_times, AT_EMPTY_PATH), O_MTIME)
ON_FD(op_futimens_null, O_RDONLY, futimens(fd, NULL), O_MTIME)
ON_FD(op_futimens_set, O_RDONLY, futimens(fd, set_times), O_MTIME)

static const struct timeval set_tv[2] = {{SET_TIME, 0}, {SET_TIME, 0}};
static const struct utimbuf set_utb = {SET_TIME, SET_TIME};
ON_T(op_utime_legacy_null, utime(c->t, NULL), O_MTIME)
ON_T(op_utime_legacy_set, utime(c->t, &set_utb), O_MTIME)
ON_T(op_utimes_set, utimes(c->t, set_tv), O_MTIME)
ON_T(op_futimesat_set, syscall(SYS_futimesat, AT_FDCWD, c->t, set_tv), O_MTIME)

/* ---- sizes, under RLIMIT_FSIZE */
static volatile sig_atomic_t xfsz_count;
static void on_xfsz(int sig)
{
  (void)sig;
  xfsz_count++;
}

static struct rlimit limit_fsize(void)
{
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim.rlim_cur = FSIZE_LIMIT;
  lim.rlim_max = old.rlim_max;
  if (setrlimit(RLIMIT_FSIZE, &lim) < 0)
    perror("setrlimit");
  xfsz_count = 0;
  return old;
}

static void unlimit_fsize(struct res *r, const struct rlimit *old)
{
  setrlimit(RLIMIT_FSIZE, old);
  obs(r, "sigxfsz=%d", (int)xfsz_count);
}

/* a size change of t (by path, or by a descriptor opened for writing)
 * under a soft RLIMIT_FSIZE of FSIZE_LIMIT */
#define LIMITED(fn, expr)                                                                          \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    struct rlimit old = limit_fsize();                                                             \
    done(r, (expr));                                                                               \
    unlimit_fsize(r, &old);                                                                        \
    obs_path(r, c->t, O_SIZE);                                                                     \
  }
#define LIMITED_FD(fn, expr)                                                                       \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    int fd = pre(r, c->t, O_WRONLY);                                                               \
    if (fd < 0)                                                                                    \
      return;                                                                                      \
    struct rlimit old = limit_fsize();                                                             \
    done(r, (expr));                                                                               \
    unlimit_fsize(r, &old);                                                                        \
    obs_path(r, c->t, O_SIZE);                                                                     \
    close(fd);                                                                                     \
  }
LIMITED(op_truncate_big, truncate(c->t, 2 * FSIZE_LIMIT))
LIMITED(op_truncate_small, truncate(c->t, FSIZE_LIMIT / 2))
LIMITED(op_truncate_at_limit, truncate(c->t, FSIZE_LIMIT))
LIMITED_FD(op_ftruncate_big, ftruncate(fd, 2 * FSIZE_LIMIT))
LIMITED_FD(op_ftruncate_small, ftruncate(fd, FSIZE_LIMIT / 2))
ON_T(op_truncate, truncate(c->t, 2), O_SIZE)

/* ---- xattrs */
/* security.capability v2: cap_net_raw+ep (a row sets this one) */
static const struct vfs_cap_data fcap_net_raw = {
    .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
    .data = {{.permitted = 1u << CAP_NET_RAW}}};
/* cap_net_admin+ep (the fixture's files with XA_FCAP have this one) */
static const struct vfs_cap_data fcap_net_admin = {
    .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
    .data = {{.permitted = 1u << CAP_NET_ADMIN}}};
#define FCAP "security.capability"

static void obs_value(struct res *r, const char *v, long n)
{
  char hex[2 * 64 + 1] = "";
  for (long i = 0; i < n && i < 64; i++)
    snprintf(hex + 2 * i, 3, "%02x", (unsigned char)v[i]);
  obs(r, "value=%s", n > 0 ? hex : "(none)");
}

/* t's xattr names as the caller may list them, sorted */
static void obs_names(struct res *r, const char *buf, long n)
{
  const char *names[32];
  int k = 0;
  for (long i = 0; i < n && k < 32; i += (long)strlen(buf + i) + 1)
    names[k++] = buf + i;
  for (int i = 1; i < k; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      const char *x = names[j];
      names[j] = names[j - 1];
      names[j - 1] = x;
    }
  char out[256] = "";
  for (int i = 0; i < k; i++)
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", names[i]);
  obs(r, "names=%s", k ? out : "(none)");
}

#define GETX(fn, getter, path, name)                                                               \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    char v[256];                                                                                   \
    long n = getter(path, name, v, sizeof v);                                                     \
    done(r, n);                                                                                    \
    if (n >= 0)                                                                                    \
      obs_value(r, v, n);                                                                          \
  }
#define LISTX(fn, lister, path)                                                                    \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    char v[1024];                                                                                  \
    long n = lister(path, v, sizeof v);                                                            \
    done(r, n);                                                                                    \
    if (n >= 0)                                                                                    \
      obs_names(r, v, n);                                                                          \
  }

ON_T(op_setx_user, setxattr(c->t, "user.x", "new", 3, 0), 0)
ON_T(op_setx_trusted, setxattr(c->t, "trusted.x", "new", 3, 0), 0)
ON_T(op_lsetx_trusted, lsetxattr(c->t, "trusted.x", "new", 3, 0), 0)
ON_FD(op_fsetx_trusted, O_RDONLY, fsetxattr(fd, "trusted.x", "new", 3, 0), 0)
ON_T(op_setx_fcap, setxattr(c->t, FCAP, &fcap_net_raw, XATTR_CAPS_SZ_2, 0), 0)
ON_T(op_lsetx_fcap, lsetxattr(c->t, FCAP, &fcap_net_raw, XATTR_CAPS_SZ_2, 0), 0)
ON_FD(op_fsetx_fcap, O_RDONLY, fsetxattr(fd, FCAP, &fcap_net_raw, XATTR_CAPS_SZ_2, 0), 0)
ON_T(op_removex_user, removexattr(c->t, "user.x"), 0)
ON_T(op_removex_trusted, removexattr(c->t, "trusted.x"), 0)
ON_T(op_lremovex_trusted, lremovexattr(c->t, "trusted.x"), 0)
GETX(op_getx_user, getxattr, c->t, "user.x")
GETX(op_getx_trusted, getxattr, c->t, "trusted.x")
GETX(op_lgetx_trusted, lgetxattr, c->t, "trusted.x")
GETX(op_getx_fcap, getxattr, c->t, FCAP)
GETX(op_getx_proc_fcap, getxattr, "/proc/self/status", FCAP)
GETX(op_getx_proc_selinux, getxattr, "/proc/self/status", "security.selinux")
/* ---- /proc: what the host kernel tells depends on the reader's
 * capabilities (CAP_SYSLOG, CAP_SYS_ADMIN), which must be the agent's */
static void op_proc_kmsg(const struct ctx *c, struct res *r)
{
  (void)c;
  done_fd(r, open("/proc/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
}

/* the first address of a file of "ADDRESS rest" lines: all zeros or not */
static void first_address(struct res *r, const char *path)
{
  FILE *f = fopen(path, "re");
  char line[256] = "";
  if (f == NULL) {
    done(r, -1);
    return;
  }
  if (fgets(line, sizeof line, f) == NULL)
    line[0] = '\0';
  fclose(f);
  done(r, 0);
  obs(r, "zero=%d", line[0] != '\0' && strspn(line, "0-") == strcspn(line, " \t"));
}

static void op_proc_kallsyms(const struct ctx *c, struct res *r)
{
  (void)c;
  first_address(r, "/proc/kallsyms");
}

static void op_proc_iomem(const struct ctx *c, struct res *r)
{
  (void)c;
  first_address(r, "/proc/iomem");
}

/* the page frame number of a page of this process's own (0 unless allowed) */
static void op_proc_pagemap(const struct ctx *c, struct res *r)
{
  (void)c;
  static volatile char page[4096] __attribute__((aligned(4096)));
  page[0] = 1;
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  uint64_t entry = 0;
  ssize_t n = fd < 0 ? -1 : pread(fd, &entry, sizeof entry, (off_t)((uintptr_t)page / 4096 * 8));
  if (fd >= 0)
    close(fd);
  done(r, n == (ssize_t)sizeof entry ? 0 : -1);
  if (n == (ssize_t)sizeof entry)
    obs(r, "pfn=%s", (entry & ((1ull << 55) - 1)) ? "real" : "zero");
}

LISTX(op_listx, listxattr, c->t)
LISTX(op_llistx, llistxattr, c->t)
LISTX(op_listx_proc, listxattr, "/proc/self/status")

/* ---- objects the agent holds but the view cannot name: t is opened, then
 * unlinked (the directory is the caller's), and the call goes through the
 * descriptor (AT_EMPTY_PATH) or its /proc/self/fd link; then the object is
 * looked at through the descriptor */
static int pre_held(struct res *r, const struct ctx *c, int flags, char pp[64])
{
  int fd = pre(r, c->t, flags);
  if (fd < 0)
    return -1;
  if (unlink(c->t) < 0) {
    done(r, -1);
    obs(r, "pre-unlink");
    close(fd);
    return -1;
  }
  snprintf(pp, 64, "/proc/self/fd/%d", fd);
  return fd;
}
#define ON_HELD(fn, flags, expr, what)                                                             \
  static void fn(const struct ctx *c, struct res *r)                                              \
  {                                                                                                \
    char pp[64];                                                                                   \
    int fd = pre_held(r, c, (flags), pp);                                                          \
    if (fd < 0)                                                                                    \
      return;                                                                                      \
    done(r, (expr));                                                                               \
    obs_fd(r, fd, what);                                                                           \
    close(fd);                                                                                     \
  }
ON_HELD(op_held_fchmodat, O_RDONLY, syscall(SYS_fchmodat2, fd, "", 0640, AT_EMPTY_PATH), O_MODE)
ON_HELD(op_held_chmod_procfd, O_RDONLY, chmod(pp, 0640), O_MODE)
ON_HELD(op_held_chmod_sgid_procfd, O_RDONLY, chmod(pp, 02755), O_MODE)
ON_HELD(op_held_fchownat_me, O_RDONLY, fchownat(fd, "", g.me, (gid_t)-1, AT_EMPTY_PATH),
        O_MODE | O_OWN)
ON_HELD(op_held_fchownat_other, O_RDONLY, fchownat(fd, "", g.other, (gid_t)-1, AT_EMPTY_PATH),
        O_MODE | O_OWN)
ON_HELD(op_held_chown_procfd_other, O_RDONLY, chown(pp, g.other, (gid_t)-1), O_MODE | O_OWN)
ON_HELD(op_held_utime_set, O_RDONLY, utimensat(fd, "", set_times, AT_EMPTY_PATH), O_MTIME)
ON_HELD(op_held_utime_null, O_RDONLY, utimensat(fd, "", NULL, AT_EMPTY_PATH), O_MTIME)
ON_HELD(op_held_utime_procfd_set, O_RDONLY, utimensat(AT_FDCWD, pp, set_times, 0), O_MTIME)
ON_HELD(op_held_truncate_procfd, O_RDONLY, truncate(pp, 2), O_SIZE)
ON_HELD(op_held_faccessat2_w, O_RDONLY, syscall(SYS_faccessat2, fd, "", W_OK, AT_EMPTY_PATH), 0)
ON_HELD(op_held_reopen_rw, O_RDONLY, ({
          int fd2_ = open(pp, O_RDWR | O_CLOEXEC);
          if (fd2_ >= 0)
            close(fd2_);
          fd2_ < 0 ? -1 : 0;
        }),
        0)
ON_HELD(op_held_setx_user, O_RDONLY, setxattr(pp, "user.x", "new", 3, 0), 0)
ON_HELD(op_held_setx_trusted, O_RDONLY, setxattr(pp, "trusted.x", "new", 3, 0), 0)
ON_HELD(op_held_setx_fcap, O_RDONLY, setxattr(pp, FCAP, &fcap_net_raw, XATTR_CAPS_SZ_2, 0), 0)
ON_HELD(op_held_removex_trusted, O_RDONLY, removexattr(pp, "trusted.x"), 0)
ON_HELD(op_held_removex_user, O_RDONLY, removexattr(pp, "user.x"), 0)
ON_HELD(op_held_getx_trusted, O_RDONLY, getxattr(pp, "trusted.x", NULL, 0), 0)
ON_HELD(op_held_listx, O_RDONLY, ({
          char names_[1024];
          long n_ = listxattr(pp, names_, sizeof names_);
          if (n_ >= 0)
            obs_names(r, names_, n_);
          n_;
        }),
        0)
ON_HELD(op_held_inotify, O_RDONLY, ({
          int ifd_ = inotify_init1(IN_CLOEXEC);
          long wd_ = inotify_add_watch(ifd_, pp, IN_ALL_EVENTS);
          int e_ = errno;
          close(ifd_);
          errno = e_;
          wd_;
        }),
        0)

/* a memfd (tmpfs: trusted.* and security.* xattrs exist there too) */
static void op_memfd_setx_trusted(const struct ctx *c, struct res *r)
{
  int fd = memfd_create("creds", MFD_CLOEXEC);
  char pp[64];
  snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
  done(r, setxattr(pp, "trusted.x", "new", 3, 0));
  close(fd);
}

/* ---- access checks */
ON_T(op_access_r, access(c->t, R_OK), 0)
ON_T(op_access_w, access(c->t, W_OK), 0)
ON_T(op_access_x, access(c->t, X_OK), 0)
ON_T(op_faccessat_w, syscall(SYS_faccessat, AT_FDCWD, c->t, W_OK), 0)
ON_T(op_faccessat2_w, syscall(SYS_faccessat2, AT_FDCWD, c->t, W_OK, 0), 0)
ON_T(op_faccessat2_eaccess_w, syscall(SYS_faccessat2, AT_FDCWD, c->t, W_OK, AT_EACCESS), 0)
ON_T(op_faccessat2_eaccess_r, syscall(SYS_faccessat2, AT_FDCWD, c->t, R_OK, AT_EACCESS), 0)
ON_FD(op_faccessat2_empty_w, O_PATH, syscall(SYS_faccessat2, fd, "", W_OK, AT_EMPTY_PATH), 0)
ON_FD(op_faccessat2_empty_eaccess_w, O_PATH,
      syscall(SYS_faccessat2, fd, "", W_OK, AT_EMPTY_PATH | AT_EACCESS), 0)

/* ---- reading names and file systems */
static void op_readlink(const struct ctx *c, struct res *r)
{
  char buf[PATH_MAX];
  long n = readlink(c->t, buf, sizeof buf - 1);
  done(r, n);
  if (n >= 0)
    obs(r, "target=%.*s", (int)n, buf);
}

static void op_statfs(const struct ctx *c, struct res *r)
{
  struct statfs sf;
  done(r, statfs(c->t, &sf));
  if (r->ret == 0)
    obs(r, "type=0x%lx", (unsigned long)sf.f_type);
}

/* ---- exec and cwd */
/* Run exec (an execve of some kind) in a child: the row's result is the
 * child's exit status (the scripts exit 7), or -1 and the errno exec failed
 * with. */
static void exec_in_child(struct res *r, const struct ctx *c, int fd,
                          void (*exec)(const struct ctx *c, int fd))
{
  struct child_result *cr = shared_result();
  pid_t pid = attack_fork();
  if (pid == 0) {
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0)
      dup2(nul, 2);
    exec(c, fd);
    cr->err = errno;
    cr->done = 1;
    _exit(127);
  }
  int st = pid < 0 ? -1 : wait_status(pid);
  if (cr->done) {
    r->ret = -1;
    r->err = cr->err;
  } else {
    r->ret = st < 0 ? -2 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  munmap(cr, sizeof *cr);
}

static char *exec_envp[] = {"PATH=/usr/bin:/bin", NULL};

static void exec_path(const struct ctx *c, int fd)
{
  char *argv[] = {(char *)c->t, NULL};
  execve(c->t, argv, exec_envp);
}

static void exec_fd(const struct ctx *c, int fd)
{
  char *argv[] = {"t", NULL};
  syscall(SYS_execveat, fd, "", argv, exec_envp, AT_EMPTY_PATH);
}

static void op_exec(const struct ctx *c, struct res *r) { exec_in_child(r, c, -1, exec_path); }

/* fexecve: execveat(fd, "", AT_EMPTY_PATH) of a descriptor opened O_RDONLY
 * (not close-on-exec: a script is read by its interpreter as /dev/fd/N) */
static void op_execveat(const struct ctx *c, struct res *r)
{
  int fd = open(c->t, O_RDONLY);
  if (fd < 0) {
    done(r, -1);
    obs(r, "pre-open");
    return;
  }
  exec_in_child(r, c, fd, exec_fd);
  close(fd);
}

static void op_chdir(const struct ctx *c, struct res *r)
{
  done(r, chdir(c->t));
  if (chdir(g.fixture) < 0) {
    perror("chdir back to the fixture");
    exit(2);
  }
}

static void op_inotify(const struct ctx *c, struct res *r)
{
  int ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0) {
    done(r, -1);
    obs(r, "pre-inotify_init1");
    return;
  }
  done(r, inotify_add_watch(ifd, c->t, IN_ALL_EVENTS));
  close(ifd);
}

/* ---- sockets */
static void op_bind_unix(const struct ctx *c, struct res *r)
{
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s/%s", g.fixture, c->n);
  done(r, bind(s, (struct sockaddr *)&un, sizeof un));
  obs_path(r, c->n, O_MODE | O_OWN);
  close(s);
}

static void op_connect_unix(const struct ctx *c, struct res *r)
{
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", c->t);
  done(r, connect(s, (struct sockaddr *)&un, sizeof un));
  close(s);
}

/* A datagram socket bound at NAME/new that reports its senders' credentials. */
static int dgram_receiver(const struct ctx *c, struct sockaddr_un *un)
{
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;
  *un = (struct sockaddr_un){.sun_family = AF_UNIX};
  snprintf(un->sun_path, sizeof un->sun_path, "%s/%s", g.fixture, c->n);
  if (s < 0 || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(s, (struct sockaddr *)un, sizeof *un) < 0) {
    perror("creds_probe: datagram receiver");
    exit(2);
  }
  return s;
}

/* What the receiver learnt about the sender. */
static void obs_sender(struct res *r, int s)
{
  char data[16], cbuf[CMSG_SPACE(sizeof(struct ucred))];
  struct iovec iov = {data, sizeof data};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                     .msg_controllen = sizeof cbuf};
  if (recvmsg(s, &m, MSG_DONTWAIT) < 0) {
    obs(r, "recv=%s", errname(errno));
    return;
  }
  struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
  if (cm == NULL || cm->cmsg_type != SCM_CREDENTIALS) {
    obs(r, "sender=(none)");
    return;
  }
  struct ucred u;
  memcpy(&u, CMSG_DATA(cm), sizeof u);
  char a[16], b[16];
  obs(r, "sender=pid:%s,uid:%s,gid:%s", u.pid == getpid() ? "self" : "notself",
      uid_name(u.uid, a, sizeof a), gid_name(u.gid, b, sizeof b));
}

/* sendmsg to a path, with SCM_CREDENTIALS when cred is given */
static long send_to(const struct sockaddr_un *to, const struct ucred *cred)
{
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char cbuf[CMSG_SPACE(sizeof(struct ucred))] = {0};
  struct iovec iov = {"hello", 5};
  struct msghdr m = {.msg_name = (void *)to, .msg_namelen = sizeof *to, .msg_iov = &iov,
                     .msg_iovlen = 1};
  if (cred != NULL) {
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_CREDENTIALS;
    cm->cmsg_len = CMSG_LEN(sizeof *cred);
    memcpy(CMSG_DATA(cm), cred, sizeof *cred);
  }
  long ret = sendmsg(s, &m, 0);
  int e = errno;
  close(s);
  errno = e;
  return ret;
}

/* a datagram to a receiver at NAME/new, with cred as SCM_CREDENTIALS */
static void send_creds(const struct ctx *c, struct res *r, const struct ucred *cred)
{
  struct sockaddr_un un;
  int s = dgram_receiver(c, &un);
  done(r, send_to(&un, cred));
  obs_sender(r, s);
  close(s);
}

static void op_send_plain(const struct ctx *c, struct res *r) { send_creds(c, r, NULL); }

static void op_send_creds_self(const struct ctx *c, struct res *r)
{
  struct ucred u = {getpid(), getuid(), getgid()};
  send_creds(c, r, &u);
}

static void op_send_creds_other_uid(const struct ctx *c, struct res *r)
{
  struct ucred u = {getpid(), g.other, getgid()};
  send_creds(c, r, &u);
}

static void op_send_creds_pid1(const struct ctx *c, struct res *r)
{
  struct ucred u = {1, getuid(), getgid()};
  send_creds(c, r, &u);
}

/* a datagram to the listener's socket t */
static void op_sendto_unix(const struct ctx *c, struct res *r)
{
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", c->t);
  done(r, send_to(&un, NULL));
}

static long bind_inet(int type, int port)
{
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  long ret = bind(s, (struct sockaddr *)&in, sizeof in);
  int e = errno;
  close(s);
  errno = e;
  return ret;
}

ON_T(op_bind_tcp80, bind_inet(SOCK_STREAM, 80), 0)
ON_T(op_bind_tcp0, bind_inet(SOCK_STREAM, 0), 0)
ON_T(op_bind_udp80, bind_inet(SOCK_DGRAM, 80), 0)

static void op_bind_tcp6_80(const struct ctx *c, struct res *r)
{
  int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(80),
                             .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  done(r, bind(s, (struct sockaddr *)&in6, sizeof in6));
  close(s);
}

/* ------------------------------------------------------------------ the table */

/* An object of the fixture: type (0 none, f file "hello", x script that
 * exits 7, d directory, l symlink to "target", s the listener's socket of
 * this mode), owner, group, mode. */
struct obj {
  char type;
  enum who uid, gid;
  mode_t mode;
};
enum { XA = 1, /* user.x=u, trusted.x=t on t */ XFCAP = 2 /* security.capability */ };

struct op {
  const char *name;
  struct obj dir, t;
  unsigned extra;
  op_fn *run;
};

#define MYDIR {'d', W_ME, W_MYG, 0755}
#define MY0000DIR {'d', W_ME, W_MYG, 0000}
#define OTDIR {'d', W_OT, W_OTG, 0755}
#define OTDIR0711 {'d', W_OT, W_OTG, 0711}
#define NOSEARCH {'d', W_OT, W_OTG, 0700}
#define GRPDIR {'d', W_OT, W_GRP, 0770}
#define SGIDDIR {'d', W_OT, W_GRP, 02777}
#define STICKY {'d', W_OT, W_OTG, 01777}
#define MINE(m) {'f', W_ME, W_MYG, m}
#define MINE_OTG(m) {'f', W_ME, W_OTG, m}
#define MINE_GRP(m) {'f', W_ME, W_GRP, m}
#define OTHERS(m) {'f', W_OT, W_OTG, m}
#define GROUPS(m) {'f', W_OT, W_GRP, m}
#define SCRIPT(u, gg, m) {'x', u, gg, m}
#define LINK(u, gg) {'l', u, gg, 0777}
#define DIR(u, gg, m) {'d', u, gg, m}
#define SOCK(m) {'s', W_OT, W_OTG, m}
#define PRIVATE 01000 /* SOCK: the one in the listener's directory "private" (other's, 0700) */
#define DGRAM 02000   /* SOCK: a datagram socket (dNNN), not a stream one (sNNN) */
#define NONE {0, W_NONE, W_NONE, 0}

static const struct op table[] = {
    /* open: modes, owners, groups, flags */
    {"open_r.mine_0644", MYDIR, MINE(0644), 0, op_open_r},
    {"open_r.mine_0000", MYDIR, MINE(0000), 0, op_open_r},
    {"open_r.other_0600", MYDIR, OTHERS(0600), 0, op_open_r},
    {"open_r.other_0644", MYDIR, OTHERS(0644), 0, op_open_r},
    {"open_r.group_0640", MYDIR, GROUPS(0640), 0, op_open_r},
    {"open_r.in_nosearch", NOSEARCH, MINE(0644), 0, op_open_r},
    {"open_w.mine_0444", MYDIR, MINE(0444), 0, op_open_w},
    {"open_w.mine_0644", MYDIR, MINE(0644), 0, op_open_w},
    {"open_w.other_0644", MYDIR, OTHERS(0644), 0, op_open_w},
    {"open_w.other_0666", MYDIR, OTHERS(0666), 0, op_open_w},
    {"open_w.group_0640", MYDIR, GROUPS(0640), 0, op_open_w},
    {"open_w.group_0660", MYDIR, GROUPS(0660), 0, op_open_w},
    {"open_rw.mine_0600", MYDIR, MINE(0600), 0, op_open_rw},
    {"open_rw.other_0644", MYDIR, OTHERS(0644), 0, op_open_rw},
    {"open_rw.other_0666", MYDIR, OTHERS(0666), 0, op_open_rw},
    {"open_trunc.other_0644", MYDIR, OTHERS(0644), 0, op_open_trunc},
    {"open_trunc.other_0666", MYDIR, OTHERS(0666), 0, op_open_trunc},
    {"open_dir.other_0711", MYDIR, DIR(W_OT, W_OTG, 0711), 0, op_open_dir},
    {"open_dir.other_0755", MYDIR, DIR(W_OT, W_OTG, 0755), 0, op_open_dir},
    {"open_creat.mine_dir", MYDIR, NONE, 0, op_open_creat},
    {"open_creat.other_dir", OTDIR, NONE, 0, op_open_creat},
    {"open_creat.group_dir", GRPDIR, NONE, 0, op_open_creat},
    {"open_creat.setgid_dir", SGIDDIR, NONE, 0, op_open_creat},
    {"open_creat.sticky_existing_other", STICKY, OTHERS(0666), 0, op_open_creat_existing},
    {"open_noatime.mine_0644", MYDIR, MINE(0644), 0, op_open_noatime},
    {"open_noatime.other_0644", MYDIR, OTHERS(0644), 0, op_open_noatime},
    {"open_creat_emfile.mine_dir", MYDIR, NONE, 0, op_open_creat_emfile},
    {"open_tmpfile.mine_dir", MYDIR, NONE, 0, op_open_tmpfile},
    {"open_tmpfile.other_dir", OTDIR, NONE, 0, op_open_tmpfile},
    {"reopen_procfd_rw.other_0666", MYDIR, OTHERS(0666), 0, op_reopen_rw},
    {"reopen_procfd_rw.other_0644", MYDIR, OTHERS(0644), 0, op_reopen_rw},
    {"reopen_procfd_rw.mine_0444", MYDIR, MINE(0444), 0, op_reopen_rw},
    {"stat.in_nosearch", NOSEARCH, MINE(0644), 0, op_stat},
    {"stat.in_0711", OTDIR0711, OTHERS(0600), 0, op_stat},
    /* creating, linking, removing */
    {"mkdir.mine_dir", MYDIR, NONE, 0, op_mkdir},
    {"mkdir.other_dir", OTDIR, NONE, 0, op_mkdir},
    {"mkdir.setgid_dir", SGIDDIR, NONE, 0, op_mkdir},
    {"mkfifo.mine_dir", MYDIR, NONE, 0, op_mkfifo},
    {"mkfifo.other_dir", OTDIR, NONE, 0, op_mkfifo},
    {"mknod_chr.mine_dir", MYDIR, NONE, 0, op_mknod_chr},
    {"symlink.mine_dir", MYDIR, NONE, 0, op_symlink},
    {"symlink.other_dir", OTDIR, NONE, 0, op_symlink},
    {"symlink.group_dir", GRPDIR, NONE, 0, op_symlink},
    {"link.mine_0644", MYDIR, MINE(0644), 0, op_link},
    {"link.other_0600", MYDIR, OTHERS(0600), 0, op_link},
    {"link.other_0644", MYDIR, OTHERS(0644), 0, op_link},
    {"link.other_0666", MYDIR, OTHERS(0666), 0, op_link},
    {"link.in_other_dir", OTDIR, MINE(0644), 0, op_link},
    {"linkat_empty.mine_0644", MYDIR, MINE(0644), 0, op_linkat_empty},
    {"linkat_procfd_follow.mine_0644", MYDIR, MINE(0644), 0, op_linkat_procfd},
    {"linkat_procfd_follow.other_0644", MYDIR, OTHERS(0644), 0, op_linkat_procfd},
    {"linkat_empty.tmpfile", MYDIR, NONE, 0, op_tmpfile_linkat_empty},
    {"linkat_procfd_follow.tmpfile", MYDIR, NONE, 0, op_tmpfile_linkat_procfd},
    {"unlink.sticky_other", STICKY, OTHERS(0666), 0, op_unlink},
    {"unlink.sticky_mine", STICKY, MINE(0644), 0, op_unlink},
    {"unlink.other_dir", OTDIR, MINE(0644), 0, op_unlink},
    {"unlink.group_dir", GRPDIR, OTHERS(0644), 0, op_unlink},
    {"rmdir.sticky_other", STICKY, DIR(W_OT, W_OTG, 0777), 0, op_rmdir},
    {"rename.sticky_other", STICKY, OTHERS(0666), 0, op_rename},
    {"rename.sticky_mine", STICKY, MINE(0644), 0, op_rename},
    {"rename.other_dir", OTDIR, MINE(0644), 0, op_rename},
    {"rename.mine_dir", MYDIR, OTHERS(0600), 0, op_rename},
    {"rename_whiteout.mine", MYDIR, MINE(0644), 0, op_rename_whiteout},
    /* modes */
    {"chmod.mine", MYDIR, MINE(0644), 0, op_chmod},
    {"chmod.other_0644", MYDIR, OTHERS(0644), 0, op_chmod},
    {"chmod.other_0666", MYDIR, OTHERS(0666), 0, op_chmod},
    {"fchmod.mine", MYDIR, MINE(0644), 0, op_fchmod},
    {"fchmod.other_0644", MYDIR, OTHERS(0644), 0, op_fchmod},
    {"fchmodat_empty_opath.mine", MYDIR, MINE(0644), 0, op_fchmodat_opath},
    {"fchmodat_empty_opath.other_0644", MYDIR, OTHERS(0644), 0, op_fchmodat_opath},
    {"fchmodat_empty_rdfd.other_0644", MYDIR, OTHERS(0644), 0, op_fchmodat_rdfd},
    {"chmod_suid.mine", MYDIR, MINE(0755), 0, op_chmod_suid},
    {"chmod_suid.other_0755", MYDIR, OTHERS(0755), 0, op_chmod_suid},
    {"chmod_sgid.mine_mygid", MYDIR, MINE(0755), 0, op_chmod_sgid},
    {"chmod_sgid.mine_group", MYDIR, MINE_GRP(0755), 0, op_chmod_sgid},
    {"chmod_sgid.mine_othergid", MYDIR, MINE_OTG(0755), 0, op_chmod_sgid},
    {"fchmod_sgid.mine_othergid", MYDIR, MINE_OTG(0755), 0, op_fchmod_sgid},
    /* owners */
    {"chown_me.other_0644", MYDIR, OTHERS(0644), 0, op_chown_me},
    {"chown_other.mine", MYDIR, MINE(0644), 0, op_chown_other},
    {"chown_other.mine_suid", MYDIR, MINE(04755), 0, op_chown_other},
    {"chgrp_group.mine", MYDIR, MINE(0644), 0, op_chgrp_group},
    {"chgrp_group.mine_suid", MYDIR, MINE(06755), 0, op_chgrp_group},
    {"chgrp_group.other_0644", MYDIR, OTHERS(0644), 0, op_chgrp_group},
    {"chgrp_other.mine", MYDIR, MINE(0644), 0, op_chgrp_other},
    {"chown_noop.other_0644", MYDIR, OTHERS(0644), 0, op_chown_noop},
    {"fchown_other.mine", MYDIR, MINE(0644), 0, op_fchown_other},
    {"fchown_me.other_0644", MYDIR, OTHERS(0644), 0, op_fchown_me},
    {"fchownat_empty_opath_other.mine", MYDIR, MINE(0644), 0, op_fchownat_opath_other},
    {"fchownat_empty_opath_me.other_0644", MYDIR, OTHERS(0644), 0, op_fchownat_opath_me},
    {"fchownat_empty_rdfd_me.other_0644", MYDIR, OTHERS(0644), 0, op_fchownat_rdfd_me},
    {"lchown_other.mine_symlink", MYDIR, LINK(W_ME, W_MYG), 0, op_lchown_other},
    {"lchown_me.other_symlink", MYDIR, LINK(W_OT, W_OTG), 0, op_lchown_me},
    /* times */
    {"utime_null.mine", MYDIR, MINE(0644), 0, op_utime_null},
    {"utime_null.other_0644", MYDIR, OTHERS(0644), 0, op_utime_null},
    {"utime_null.other_0666", MYDIR, OTHERS(0666), 0, op_utime_null},
    {"utime_set.mine", MYDIR, MINE(0644), 0, op_utime_set},
    {"utime_set.other_0666", MYDIR, OTHERS(0666), 0, op_utime_set},
    {"utime_empty_null.other_0644", MYDIR, OTHERS(0644), 0, op_utime_empty_null},
    {"utime_empty_null.other_0666", MYDIR, OTHERS(0666), 0, op_utime_empty_null},
    {"utime_empty_set.other_0666", MYDIR, OTHERS(0666), 0, op_utime_empty_set},
    {"futimens_null.other_0644", MYDIR, OTHERS(0644), 0, op_futimens_null},
    {"futimens_null.other_0666", MYDIR, OTHERS(0666), 0, op_futimens_null},
    {"futimens_set.other_0644", MYDIR, OTHERS(0644), 0, op_futimens_set},
    {"futimens_set.mine", MYDIR, MINE(0644), 0, op_futimens_set},
    {"utime_legacy_null.other_0644", MYDIR, OTHERS(0644), 0, op_utime_legacy_null},
    {"utime_legacy_null.other_0666", MYDIR, OTHERS(0666), 0, op_utime_legacy_null},
    {"utime_legacy_set.other_0666", MYDIR, OTHERS(0666), 0, op_utime_legacy_set},
    {"utimes_set.other_0666", MYDIR, OTHERS(0666), 0, op_utimes_set},
    {"utimes_set.mine", MYDIR, MINE(0644), 0, op_utimes_set},
    {"futimesat_set.other_0666", MYDIR, OTHERS(0666), 0, op_futimesat_set},
    /* sizes */
    {"truncate_beyond_fsize.mine", MYDIR, MINE(0644), 0, op_truncate_big},
    {"truncate_to_fsize.mine", MYDIR, MINE(0644), 0, op_truncate_at_limit},
    {"truncate_within_fsize.mine", MYDIR, MINE(0644), 0, op_truncate_small},
    {"ftruncate_beyond_fsize.mine", MYDIR, MINE(0644), 0, op_ftruncate_big},
    {"ftruncate_within_fsize.mine", MYDIR, MINE(0644), 0, op_ftruncate_small},
    {"truncate.other_0644", MYDIR, OTHERS(0644), 0, op_truncate},
    {"truncate.other_0666", MYDIR, OTHERS(0666), 0, op_truncate},
    /* xattrs */
    {"setxattr_user.mine", MYDIR, MINE(0644), 0, op_setx_user},
    {"setxattr_user.other_0644", MYDIR, OTHERS(0644), 0, op_setx_user},
    {"setxattr_user.other_0666", MYDIR, OTHERS(0666), 0, op_setx_user},
    {"setxattr_trusted.mine", MYDIR, MINE(0644), 0, op_setx_trusted},
    {"lsetxattr_trusted.mine", MYDIR, MINE(0644), 0, op_lsetx_trusted},
    {"fsetxattr_trusted.mine", MYDIR, MINE(0644), 0, op_fsetx_trusted},
    {"setxattr_fcap.mine", MYDIR, MINE(0755), 0, op_setx_fcap},
    {"lsetxattr_fcap.mine", MYDIR, MINE(0755), 0, op_lsetx_fcap},
    {"fsetxattr_fcap.mine", MYDIR, MINE(0755), 0, op_fsetx_fcap},
    {"setxattr_fcap.other_0777", MYDIR, OTHERS(0777), 0, op_setx_fcap},
    {"getxattr_user.mine", MYDIR, MINE(0644), XA, op_getx_user},
    {"getxattr_user.other_0600", MYDIR, OTHERS(0600), XA, op_getx_user},
    {"getxattr_trusted.mine", MYDIR, MINE(0644), XA, op_getx_trusted},
    {"lgetxattr_trusted.mine", MYDIR, MINE(0644), XA, op_lgetx_trusted},
    {"getxattr_fcap.mine", MYDIR, MINE(0755), XFCAP, op_getx_fcap},
    {"getxattr_fcap.other_0700", MYDIR, OTHERS(0700), XFCAP, op_getx_fcap},
    {"listxattr.mine", MYDIR, MINE(0644), XA | XFCAP, op_listx},
    {"llistxattr.mine", MYDIR, MINE(0644), XA | XFCAP, op_llistx},
    {"removexattr_user.mine", MYDIR, MINE(0644), XA, op_removex_user},
    {"removexattr_user.other_0644", MYDIR, OTHERS(0644), XA, op_removex_user},
    {"removexattr_trusted.mine", MYDIR, MINE(0644), XA, op_removex_trusted},
    {"lremovexattr_trusted.mine", MYDIR, MINE(0644), XA, op_lremovex_trusted},
    {"getxattr_proc.fcap", MYDIR, NONE, 0, op_getx_proc_fcap},
    {"proc_kmsg.open", MYDIR, NONE, 0, op_proc_kmsg},
    {"proc_kallsyms.first", MYDIR, NONE, 0, op_proc_kallsyms},
    {"proc_iomem.first", MYDIR, NONE, 0, op_proc_iomem},
    {"proc_pagemap.own", MYDIR, NONE, 0, op_proc_pagemap},
    {"getxattr_proc.selinux", MYDIR, NONE, 0, op_getx_proc_selinux},
    {"listxattr_proc.status", MYDIR, NONE, 0, op_listx_proc},
    /* held objects: unlinked after opening, reached by AT_EMPTY_PATH or /proc/self/fd */
    {"held_fchmodat_empty.other_0644", MYDIR, OTHERS(0644), 0, op_held_fchmodat},
    {"held_fchmodat_empty.mine", MYDIR, MINE(0644), 0, op_held_fchmodat},
    {"held_chmod_procfd.other_0644", MYDIR, OTHERS(0644), 0, op_held_chmod_procfd},
    {"held_chmod_sgid_procfd.mine_othergid", MYDIR, MINE_OTG(0755), 0, op_held_chmod_sgid_procfd},
    {"held_fchownat_empty_me.other_0644", MYDIR, OTHERS(0644), 0, op_held_fchownat_me},
    {"held_fchownat_empty_other.mine", MYDIR, MINE(0644), 0, op_held_fchownat_other},
    {"held_chown_procfd_other.mine", MYDIR, MINE(0644), 0, op_held_chown_procfd_other},
    {"held_utime_empty_set.other_0644", MYDIR, OTHERS(0644), 0, op_held_utime_set},
    {"held_utime_empty_null.other_0644", MYDIR, OTHERS(0644), 0, op_held_utime_null},
    {"held_utime_procfd_set.other_0644", MYDIR, OTHERS(0644), 0, op_held_utime_procfd_set},
    {"held_truncate_procfd.other_0644", MYDIR, OTHERS(0644), 0, op_held_truncate_procfd},
    {"held_truncate_procfd.mine_0644", MYDIR, MINE(0644), 0, op_held_truncate_procfd},
    {"held_faccessat2_empty_w.other_0644", MYDIR, OTHERS(0644), 0, op_held_faccessat2_w},
    {"held_reopen_procfd_rw.other_0644", MYDIR, OTHERS(0644), 0, op_held_reopen_rw},
    {"held_setxattr_user_procfd.other_0644", MYDIR, OTHERS(0644), 0, op_held_setx_user},
    {"held_setxattr_trusted_procfd.mine", MYDIR, MINE(0644), 0, op_held_setx_trusted},
    {"held_setxattr_fcap_procfd.mine", MYDIR, MINE(0755), 0, op_held_setx_fcap},
    {"held_removexattr_trusted_procfd.mine", MYDIR, MINE(0644), XA, op_held_removex_trusted},
    {"held_removexattr_user_procfd.other_0644", MYDIR, OTHERS(0644), XA, op_held_removex_user},
    {"held_getxattr_trusted_procfd.mine", MYDIR, MINE(0644), XA, op_held_getx_trusted},
    {"held_listxattr_procfd.mine", MYDIR, MINE(0644), XA | XFCAP, op_held_listx},
    {"held_inotify_procfd.other_0644", MYDIR, OTHERS(0644), 0, op_held_inotify},
    {"memfd_setxattr_trusted_procfd", MYDIR, NONE, 0, op_memfd_setx_trusted},
    /* access checks */
    {"access_r.other_0600", MYDIR, OTHERS(0600), 0, op_access_r},
    {"access_r.other_0644", MYDIR, OTHERS(0644), 0, op_access_r},
    {"access_r.group_0640", MYDIR, GROUPS(0640), 0, op_access_r},
    {"access_r.in_nosearch", NOSEARCH, MINE(0644), 0, op_access_r},
    {"access_w.mine_0444", MYDIR, MINE(0444), 0, op_access_w},
    {"access_w.other_0644", MYDIR, OTHERS(0644), 0, op_access_w},
    {"access_x.mine_0644", MYDIR, MINE(0644), 0, op_access_x},
    {"access_x.mine_0755", MYDIR, MINE(0755), 0, op_access_x},
    {"access_x.other_0700", MYDIR, OTHERS(0700), 0, op_access_x},
    {"faccessat_w.other_0644", MYDIR, OTHERS(0644), 0, op_faccessat_w},
    {"faccessat_w.other_0666", MYDIR, OTHERS(0666), 0, op_faccessat_w},
    {"faccessat2_w.other_0644", MYDIR, OTHERS(0644), 0, op_faccessat2_w},
    {"faccessat2_eaccess_w.other_0644", MYDIR, OTHERS(0644), 0, op_faccessat2_eaccess_w},
    {"faccessat2_eaccess_w.other_0666", MYDIR, OTHERS(0666), 0, op_faccessat2_eaccess_w},
    {"faccessat2_eaccess_r.other_0600", MYDIR, OTHERS(0600), 0, op_faccessat2_eaccess_r},
    {"faccessat2_eaccess_r.group_0640", MYDIR, GROUPS(0640), 0, op_faccessat2_eaccess_r},
    {"faccessat2_empty_w.other_0644", MYDIR, OTHERS(0644), 0, op_faccessat2_empty_w},
    {"faccessat2_empty_eaccess_w.other_0644", MYDIR, OTHERS(0644), 0,
     op_faccessat2_empty_eaccess_w},
    /* names and file systems */
    {"readlink.mine_symlink", MYDIR, LINK(W_ME, W_MYG), 0, op_readlink},
    {"readlink.in_nosearch", NOSEARCH, LINK(W_OT, W_OTG), 0, op_readlink},
    {"statfs.mine_0644", MYDIR, MINE(0644), 0, op_statfs},
    {"statfs.in_nosearch", NOSEARCH, MINE(0644), 0, op_statfs},
    /* exec and cwd */
    {"execve.mine_0644", MYDIR, SCRIPT(W_ME, W_MYG, 0644), 0, op_exec},
    {"execve.mine_0755", MYDIR, SCRIPT(W_ME, W_MYG, 0755), 0, op_exec},
    {"execve.other_0700", MYDIR, SCRIPT(W_OT, W_OTG, 0700), 0, op_exec},
    {"execve.other_0755", MYDIR, SCRIPT(W_OT, W_OTG, 0755), 0, op_exec},
    {"execve.in_nosearch", NOSEARCH, SCRIPT(W_ME, W_MYG, 0755), 0, op_exec},
    {"execveat_empty.mine_0644", MYDIR, SCRIPT(W_ME, W_MYG, 0644), 0, op_execveat},
    {"execveat_empty.mine_0755", MYDIR, SCRIPT(W_ME, W_MYG, 0755), 0, op_execveat},
    {"execveat_empty.other_0644", MYDIR, SCRIPT(W_OT, W_OTG, 0644), 0, op_execveat},
    {"chdir.other_0700", MYDIR, DIR(W_OT, W_OTG, 0700), 0, op_chdir},
    {"chdir.other_0711", MYDIR, DIR(W_OT, W_OTG, 0711), 0, op_chdir},
    {"chdir.mine_0000", MYDIR, DIR(W_ME, W_MYG, 0000), 0, op_chdir},
    {"inotify.other_0711_dir", MYDIR, DIR(W_OT, W_OTG, 0711), 0, op_inotify},
    {"inotify.other_0755_dir", MYDIR, DIR(W_OT, W_OTG, 0755), 0, op_inotify},
    {"inotify.other_0600", MYDIR, OTHERS(0600), 0, op_inotify},
    /* sockets */
    {"bind_unix.mine_dir", MYDIR, NONE, 0, op_bind_unix},
    {"bind_unix.other_dir", OTDIR, NONE, 0, op_bind_unix},
    {"bind_unix.group_dir", GRPDIR, NONE, 0, op_bind_unix},
    {"connect_unix.other_0600", MYDIR, SOCK(0600), 0, op_connect_unix},
    {"connect_unix.other_0660_group", MYDIR, SOCK(0660), 0, op_connect_unix},
    {"connect_unix.other_0666", MYDIR, SOCK(0666), 0, op_connect_unix},
    {"connect_unix.other_0666_in_nosearch", MYDIR, SOCK(PRIVATE | 0666), 0, op_connect_unix},
    {"sendto_unix.other_0600", MYDIR, SOCK(DGRAM | 0600), 0, op_sendto_unix},
    {"sendto_unix.other_0666", MYDIR, SOCK(DGRAM | 0666), 0, op_sendto_unix},
    {"sendmsg_unix.plain", MYDIR, NONE, 0, op_send_plain},
    {"sendmsg_unix.scm_creds_self", MYDIR, NONE, 0, op_send_creds_self},
    {"sendmsg_unix.scm_creds_other_uid", MYDIR, NONE, 0, op_send_creds_other_uid},
    {"sendmsg_unix.scm_creds_pid1", MYDIR, NONE, 0, op_send_creds_pid1},
    {"bind_tcp.port80", MYDIR, NONE, 0, op_bind_tcp80},
    {"bind_tcp.port0", MYDIR, NONE, 0, op_bind_tcp0},
    {"bind_udp.port80", MYDIR, NONE, 0, op_bind_udp80},
    {"bind_tcp6.port80", MYDIR, NONE, 0, op_bind_tcp6_80},
};
#define TABLE_SIZE (sizeof table / sizeof table[0])

/* ------------------------------------------------------------------ setup */

static void die(const char *what, const char *path)
{
  fprintf(stderr, "creds_probe: %s %s: %s\n", what, path, strerror(errno));
  exit(2);
}

static void make_obj(const char *path, const struct obj *o)
{
  static const char hello[] = "hello", script[] = "#!/bin/sh\nexit 7\n";
  if (o->type == 'd') {
    if (mkdir(path, 0700) < 0)
      die("mkdir", path);
  } else if (o->type == 'l') {
    if (symlink("target", path) < 0)
      die("symlink", path);
  } else {
    const char *text = o->type == 'x' ? script : hello;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
      die("create", path);
    close(fd);
  }
}

/* Owner, then mode (a chown clears set-id bits), then xattrs (a chown
 * clears security.capability), then the time. */
static void finish_obj(const char *path, const struct obj *o, unsigned extra)
{
  if (lchown(path, id_of(o->uid), id_of(o->gid)) < 0)
    die("lchown", path);
  if (o->type != 'l' && chmod(path, o->mode) < 0)
    die("chmod", path);
  if ((extra & XA) && (lsetxattr(path, "user.x", "u", 1, 0) < 0 ||
                       lsetxattr(path, "trusted.x", "t", 1, 0) < 0))
    die("setxattr (the fixture needs user.* and trusted.* xattrs)", path);
  if ((extra & XFCAP) && lsetxattr(path, FCAP, &fcap_net_admin, XATTR_CAPS_SZ_2, 0) < 0)
    die("setxattr " FCAP, path);
  struct timespec ts[2] = {{FIXED_TIME, 0}, {FIXED_TIME, 0}};
  if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
    die("utimensat", path);
}

static int setup(const char *fixture)
{
  if (mkdir(fixture, 0755) < 0 || chmod(fixture, 0755) < 0)
    die("mkdir", fixture);
  umask(0);
  char d[PATH_MAX], t[PATH_MAX];
  for (size_t i = 0; i < TABLE_SIZE; i++) {
    const struct op *op = &table[i];
    snprintf(d, sizeof d, "%s/%s", fixture, op->name);
    snprintf(t, sizeof t, "%s/t", d);
    make_obj(d, &op->dir);
    if (op->t.type != 0 && op->t.type != 's') {
      make_obj(t, &op->t);
      finish_obj(t, &op->t, op->extra);
    }
    finish_obj(d, &op->dir, 0);
  }
  return 0;
}

/* ------------------------------------------------------------------ run */

/* Where the run is: seccomp mode 2 in usbox, 0 natively (the script checks
 * it; not compared). */
static void print_where(void)
{
  char line[256];
  int mode = -1;
  FILE *f = fopen("/proc/self/status", "re");
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "Seccomp:", 8) == 0)
      mode = atoi(line + 8);
  if (f != NULL)
    fclose(f);
  printf("where seccomp=%d\n", mode);
}

/* The credentials the run has, so that a wrong setup is seen: ids, groups,
 * capabilities, no_new_privs. */
static void print_creds(void)
{
  char a[16], b[16], line[256];
  printf("creds uid=%s gid=%s groups=", uid_name(getuid(), a, sizeof a),
         gid_name(getgid(), b, sizeof b));
  gid_t groups[64];
  int n = getgroups(64, groups);
  for (int i = 0; i < n; i++)
    printf("%s%s", i ? "," : "", gid_name(groups[i], a, sizeof a));
  FILE *f = fopen("/proc/self/status", "re");
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "CapPrm:", 7) == 0 || strncmp(line, "CapEff:", 7) == 0 ||
        strncmp(line, "CapBnd:", 7) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0) {
      line[strcspn(line, "\n")] = '\0';
      char *colon = strchr(line, ':');
      *colon = '\0';
      printf(" %s=%s", line, colon + 1 + strspn(colon + 1, " \t"));
    }
  }
  if (f != NULL)
    fclose(f);
  struct rlimit fs;
  getrlimit(RLIMIT_FSIZE, &fs);
  printf(" fsize=%s\n", fs.rlim_cur == RLIM_INFINITY ? "unlimited" : "limited");
}

static void print_res(const char *name, const struct res *r)
{
  if (r->fd && r->ret >= 0)
    printf("%s fd -%s\n", name, r->obs);
  else
    printf("%s %ld %s%s\n", name, r->ret, r->ret < 0 ? errname(r->err) : "-", r->obs);
}

/* The listener's socket of this mode (PRIVATE, DGRAM and permissions). */
static void sock_path(char *buf, size_t n, mode_t mode)
{
  snprintf(buf, n, "%s/%s%c%o", g.socks, (mode & PRIVATE) ? "private/" : "",
           (mode & DGRAM) ? 'd' : 's', mode & 0777);
}

static void run_one(const struct op *op)
{
  struct ctx c;
  snprintf(c.d, sizeof c.d, "%s", op->name);
  snprintf(c.n, sizeof c.n, "%s/new", op->name);
  if (op->t.type == 's')
    sock_path(c.t, sizeof c.t, op->t.mode);
  else
    snprintf(c.t, sizeof c.t, "%s/t", op->name);
  struct res r = {.ret = -1};
  errno = 0;
  op->run(&c, &r);
  print_res(op->name, &r);
}

static int run(void)
{
  umask(022);
  struct sigaction sa = {.sa_handler = on_xfsz};
  sigaction(SIGXFSZ, &sa, NULL);
  if (chdir(g.fixture) < 0)
    die("chdir", g.fixture);
  g.me = geteuid();
  g.mygid = getegid();
  print_where();
  print_creds();
  for (size_t i = 0; i < TABLE_SIZE; i++)
    run_one(&table[i]);
  printf("end %zu\n", TABLE_SIZE);
  return 0;
}

/* ------------------------------------------------------------------ listen */

/* One listening socket at path (a datagram one just stays bound). */
static void listen_one(const char *path, mode_t mode)
{
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
  unlink(un.sun_path);
  int dgram = (mode & DGRAM) != 0;
  int s = socket(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&un, sizeof un) < 0 || (!dgram && listen(s, 64) < 0))
    die("listen", un.sun_path);
  if (chown(un.sun_path, g.other, (mode & 0777) == 0660 ? g.group : g.othergid) < 0 ||
      chmod(un.sun_path, mode & 0777) < 0)
    die("chown/chmod", un.sun_path);
  pid_t pid = attack_fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char buf[64];
    for (;;) {
      int conn = dgram ? -1 : accept4(s, NULL, NULL, SOCK_CLOEXEC);
      if (dgram && recv(s, buf, sizeof buf, 0) < 0)
        sleep(1);
      if (conn >= 0)
        close(conn);
    }
  }
  close(s);
}

static int listen_on(const char *dir)
{
  char private[PATH_MAX], path[PATH_MAX];
  snprintf(private, sizeof private, "%s/private", dir);
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || (mkdir(private, 0700) < 0 && errno != EEXIST) ||
      chown(private, g.other, g.othergid) < 0)
    die("mkdir", dir);
  g.socks = dir;
  static const mode_t modes[] = {0600, 0660, 0666, PRIVATE | 0666, DGRAM | 0600, DGRAM | 0666};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    sock_path(path, sizeof path, modes[i]);
    listen_one(path, modes[i]);
  }
  printf("ready\n");
  fflush(stdout);
  /* the listeners never end: this waits until the test kills it */
  while (wait(NULL) > 0 || errno == EINTR)
    ;
  return 0;
}

/* ------------------------------------------------------------------ snapshot */

static const char *snap_root;

static int snap_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  char tm[32];
  time_text(st->st_mtime, tm, sizeof tm);
  const char *rel = path + strlen(snap_root);
  rel += strspn(rel, "/");
  printf("%s %c%04o %u:%u", rel[0] ? rel : ".", type_char(st->st_mode),
         st->st_mode & 07777, st->st_uid, st->st_gid);
  if (S_ISREG(st->st_mode))
    printf(" size=%lld", (long long)st->st_size);
  if (!S_ISDIR(st->st_mode))
    printf(" mtime=%s", tm);
  printf("\n");
  return 0;
}

/* ------------------------------------------------------------------ main */

static int usage(void)
{
  fprintf(stderr, "usage: creds_probe list | setup FIX --me U:G --other U:G --group G |\n"
                  "       run FIX --other U:G --group G --socks DIR [--unmapped] |\n"
                  "       listen DIR --other U:G --group G | snapshot FIX\n");
  return 2;
}

static bool parse_opts(int argc, char **argv)
{
  for (int i = 3; i < argc; i++) {
    bool more = i + 1 < argc;
    if (strcmp(argv[i], "--unmapped") == 0)
      g.unmapped = true;
    else if (more && strcmp(argv[i], "--me") == 0)
      parse_ids(argv[++i], &g.me, &g.mygid);
    else if (more && strcmp(argv[i], "--other") == 0)
      parse_ids(argv[++i], &g.other, &g.othergid);
    else if (more && strcmp(argv[i], "--group") == 0)
      g.group = (gid_t)strtoul(argv[++i], NULL, 10);
    else if (more && strcmp(argv[i], "--socks") == 0)
      g.socks = argv[++i];
    else
      return false;
  }
  return true;
}

int main(int argc, char **argv)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    for (size_t i = 0; i < TABLE_SIZE; i++)
      printf("%s\n", table[i].name);
    return 0;
  }
  if (argc < 3 || !parse_opts(argc, argv))
    return usage();
  const char *verb = argv[1];
  g.fixture = argv[2];
  if (strcmp(verb, "snapshot") == 0) {
    snap_root = g.fixture;
    return nftw(g.fixture, snap_one, 16, FTW_PHYS) == 0 ? 0 : 2;
  }
  if (g.other == 0 || g.group == 0)
    return usage();
  if (strcmp(verb, "setup") == 0)
    return setup(g.fixture);
  if (strcmp(verb, "listen") == 0)
    return listen_on(g.fixture);
  if (strcmp(verb, "run") == 0 && g.socks != NULL) {
    alarm(120); /* a hung sandbox must not hang the test */
    return run();
  }
  return usage();
}
