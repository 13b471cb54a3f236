/* Devices, set-id bits and file capabilities: what the agent could leave on
 * (or use from) the host's filesystem to gain privileges there.
 *
 *   attack_devices --dir D [--dev PATH]... [--caps] [--setuid-prog P]
 *
 * --dev: a character device node the script copied into a visible place
 * (c 1 3, /dev/null's numbers: harmless, so that natively it simply works).
 * Every bind is nodev: opening it must fail (EACCES or EPERM), by every way
 * there is to open it. D is a writable directory: there the agent makes
 * its own files set-id (chmod, fchmod, fchmodat, fchmodat2, /proc/self/fd,
 * O_CREAT, O_TMPFILE, mknod) and hard-links a set-id program of the host
 * (--setuid-prog, e.g. /usr/bin/su) in; no file of D may end up with a
 * set-id bit, and no device node may be made. --caps: the agent runs with
 * --cap-add ALL, and tries security.capability as well. The script checks
 * the host afterwards (find -perm /6000, getcap -r). */
#include "attack.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static const char *dir;

static const char *procfd(int fd)
{
  static char buf[64];
  snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
  return buf;
}

static const char *in_dir(const char *name)
{
  static char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* ---- device nodes ---- */

/* fd is an open device (the attack worked): use it, so that the native
 * run shows that the node really is a device. */
static void device_denied(const char *name, int fd)
{
  int e = errno;
  if (fd < 0) {
    check(name, e == EACCES || e == EPERM, "got -1 %s, want EACCES or EPERM", errname(e));
    return;
  }
  struct stat st;
  fstat(fd, &st);
  fail(name, "opened (%s, %u:%u)", S_ISCHR(st.st_mode) ? "a character device" : "not a device",
       major(st.st_rdev), minor(st.st_rdev));
  close(fd);
}

static void open_device(const char *dev)
{
  static const struct {
    const char *label;
    int flags;
  } modes[] = {{"O_RDONLY", O_RDONLY}, {"O_WRONLY", O_WRONLY}, {"O_RDWR", O_RDWR}};
  char n[PATH_MAX + 64];
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    snprintf(n, sizeof n, "open %s %s", dev, modes[i].label);
    errno = 0;
    device_denied(n, open(dev, modes[i].flags | O_CLOEXEC));
  }
  /* an O_PATH fd (usbox makes it a read-only open of the object) re-opened */
  errno = 0;
  int p = open(dev, O_PATH | O_CLOEXEC);
  snprintf(n, sizeof n, "open %s O_PATH", dev);
  if (p >= 0 || errno == EACCES || errno == EPERM)
    ok(n); /* an O_PATH fd is no access to the device */
  else
    fail(n, "got -1 %s", errname(errno));
  if (p >= 0) {
    snprintf(n, sizeof n, "re-open %s through /proc/self/fd/N O_RDWR", dev);
    errno = 0;
    device_denied(n, open(procfd(p), O_RDWR | O_CLOEXEC));
    close(p);
  }
  /* through a symlink of the agent's own */
  unlink(in_dir("devlink"));
  if (symlink(dev, in_dir("devlink")) == 0) {
    snprintf(n, sizeof n, "open a symlink to %s O_RDWR", dev);
    errno = 0;
    device_denied(n, open(in_dir("devlink"), O_RDWR | O_CLOEXEC));
    unlink(in_dir("devlink"));
  }
}

static void make_devices(void)
{
  static const struct {
    const char *name;
    mode_t type;
    unsigned maj, min;
  } nodes[] = {
      {"null-copy", S_IFCHR, 1, 3}, {"random-copy", S_IFCHR, 1, 8}, {"loop-copy", S_IFBLK, 7, 0}};
  for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    char n[128];
    snprintf(n, sizeof n, "mknod %s %c %u %u 0666", nodes[i].name,
             nodes[i].type == S_IFCHR ? 'c' : 'b', nodes[i].maj, nodes[i].min);
    errno = 0;
    int r = mknod(in_dir(nodes[i].name), nodes[i].type | 0666, makedev(nodes[i].maj, nodes[i].min));
    check(n, r < 0 && errno == EPERM, "got %s", r == 0 ? "a device node" : errname(errno));
  }
}

/* ---- set-id bits ---- */

/* What a change left: the file must have no set-id bit. */
static void no_setid(const char *name, const char *path, long r)
{
  int e = errno;
  struct stat st;
  if (lstat(path, &st) < 0) {
    check(name, r < 0, "the call gave %ld but the file is gone: %s", r, errname(errno));
    return;
  }
  check(name, (st.st_mode & (S_ISUID | S_ISGID)) == 0, "mode %04o (the call gave %s)",
        st.st_mode & 07777, r < 0 ? errname(e) : "success");
}

static int fresh(const char *name)
{
  unlink(in_dir(name));
  return open(in_dir(name), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
}

static void chmod_own_file(void)
{
  close(fresh("f"));
  const char *f = strdup(in_dir("f"));
  no_setid("chmod 4755 my file", f, chmod(f, 04755));
  no_setid("chmod 2755 my file", f, chmod(f, 02755));
  no_setid("chmod 6755 my file", f, chmod(f, 06755));
  no_setid("fchmodat 4755 my file", f, fchmodat(AT_FDCWD, f, 04755, 0));
  no_setid("fchmodat2 4755 my file", f, syscall(SYS_fchmodat2, AT_FDCWD, f, 04755, 0));
  int fd = open(f, O_RDONLY | O_CLOEXEC);
  no_setid("fchmod(fd, 06755) my file", f, fchmod(fd, 06755));
  no_setid("fchmod(fd, 04711) my file", f, fchmod(fd, 04711));
  no_setid("chmod(/proc/self/fd/N, 04755) my file", f, chmod(procfd(fd), 04755));
  no_setid("fchmodat(fd, \"\", 02755, AT_EMPTY_PATH)", f,
           syscall(SYS_fchmodat2, fd, "", 02755, AT_EMPTY_PATH));
  close(fd);
  free((void *)f);
}

static void create_setid(void)
{
  unlink(in_dir("creat"));
  int fd = open(in_dir("creat"), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 04755);
  no_setid("open(O_CREAT, 04755)", in_dir("creat"), fd);
  if (fd >= 0)
    close(fd);
  unlink(in_dir("creat"));
  fd = creat(in_dir("creat"), 06755);
  no_setid("creat(06755)", in_dir("creat"), fd);
  if (fd >= 0)
    close(fd);
  unlink(in_dir("mknod"));
  no_setid("mknod(S_IFREG|04755)", in_dir("mknod"), mknod(in_dir("mknod"), S_IFREG | 04755, 0));
  /* an anonymous file made set-id, then given a name */
  unlink(in_dir("tmpfile"));
  fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 04755);
  if (fd >= 0) {
    fchmod(fd, 04755);
    long r = linkat(AT_FDCWD, procfd(fd), AT_FDCWD, in_dir("tmpfile"), AT_SYMLINK_FOLLOW);
    no_setid("O_TMPFILE 04755 linked in", in_dir("tmpfile"), r);
    close(fd);
  } else {
    note("O_TMPFILE: %s", errname(errno));
  }
}

/* A set-id program of the host given a name in the writable directory. */
static void link_setid_program(const char *prog)
{
  unlink(in_dir("linked"));
  no_setid("link(set-id program, D/linked)", in_dir("linked"), link(prog, in_dir("linked")));
  unlink(in_dir("linked"));
  int fd = open(prog, O_RDONLY | O_CLOEXEC);
  no_setid("linkat(/proc/self/fd/N of a set-id program, AT_SYMLINK_FOLLOW)", in_dir("linked"),
           linkat(AT_FDCWD, procfd(fd), AT_FDCWD, in_dir("linked"), AT_SYMLINK_FOLLOW));
  unlink(in_dir("linked"));
  no_setid("linkat(fd of a set-id program, \"\", AT_EMPTY_PATH)", in_dir("linked"),
           linkat(fd, "", AT_FDCWD, in_dir("linked"), AT_EMPTY_PATH));
  unlink(in_dir("linked"));
  if (fd >= 0)
    close(fd);
}

/* ---- file capabilities (with --cap-add ALL the agent has CAP_SETFCAP) ---- */

static const struct vfs_cap_data fcap_blob = {.magic_etc =
                                                  VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE,
                                              .data = {{.permitted = 1u << CAP_NET_RAW}}};

static void no_fcap(const char *name, const char *path, long r)
{
  int e = errno;
  char v[64];
  ssize_t n = getxattr(path, "security.capability", v, sizeof v);
  check(name, r < 0 && n < 0, "the call gave %s, the file has %s", r < 0 ? errname(e) : "success",
        n >= 0 ? "security.capability" : "none");
}

static void file_caps(void)
{
  close(fresh("capped"));
  const char *f = strdup(in_dir("capped"));
  int fd = open(f, O_RDONLY | O_CLOEXEC);
  no_fcap("setxattr security.capability", f,
          setxattr(f, "security.capability", &fcap_blob, XATTR_CAPS_SZ_2, 0));
  no_fcap("lsetxattr security.capability", f,
          lsetxattr(f, "security.capability", &fcap_blob, XATTR_CAPS_SZ_2, 0));
  no_fcap("fsetxattr security.capability", f,
          fsetxattr(fd, "security.capability", &fcap_blob, XATTR_CAPS_SZ_2, 0));
  no_fcap("setxattr security.capability via /proc/self/fd/N", f,
          setxattr(procfd(fd), "security.capability", &fcap_blob, XATTR_CAPS_SZ_2, 0));
  close(fd);
  free((void *)f);
}

int main(int argc, char **argv)
{
  argc = attack_init(argc, argv);
  const char *devs[8], *prog = NULL;
  int ndevs = 0;
  bool caps = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(argv[i], "--dev") == 0 && i + 1 < argc && ndevs < 8)
      devs[ndevs++] = argv[++i];
    else if (strcmp(argv[i], "--setuid-prog") == 0 && i + 1 < argc)
      prog = argv[++i];
    else if (strcmp(argv[i], "--caps") == 0)
      caps = true;
  }
  if (dir == NULL) {
    fprintf(stderr, "usage: attack_devices --dir D [--dev PATH]... [--caps] [--setuid-prog P]\n");
    return 2;
  }
  umask(022);
  for (int i = 0; i < ndevs; i++)
    open_device(devs[i]);
  make_devices();
  chmod_own_file();
  create_setid();
  if (prog != NULL)
    link_setid_program(prog);
  if (caps)
    file_caps();
  return attack_finish("attack_devices");
}
