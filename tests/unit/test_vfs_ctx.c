/* The VFS as a layer of its own: a real view (a read-only host root, a
 * writable bind, a hidden file) over a real gofer, driven through a
 * vfs_ctx of the test's making, with no sentry and no agent process. What
 * the test's caller hooks say is what the VFS acts on: its credentials (the
 * deputy refuses what the kernel would refuse that caller), whether its
 * arguments still stand, its fds. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/openat2.h>
#include <unistd.h>

#include <cmocka.h>

#include "gofer/client.h"
#include "gofer/gofer.h"
#include "policy/policy.h"
#include "vfs/vfs.h"

/* ---- the test's caller ---- */

struct test_caller {
  struct vfs_ctx ctx;
  int validate_rc; /* what validate answers */
  int validations; /* how many times the VFS asked */
  bool as_nobody;  /* identify as uid/gid 65534 with no capability */
};

static struct test_caller *caller_of(struct vfs_ctx *ctx)
{
  return ctx->owner;
}

static int t_validate(struct vfs_ctx *ctx)
{
  struct test_caller *c = caller_of(ctx);
  c->validations++;
  return c->validate_rc;
}

static int t_identify(struct vfs_ctx *ctx, unsigned what, struct vfs_caller *out)
{
  (void)what;
  memset(out, 0, sizeof *out);
  out->tgid = getpid();
  out->ns_tid = out->ns_tgid = getpid();
  deputy_own_creds(&out->creds);
  if (caller_of(ctx)->as_nobody) {
    struct deputy_creds *d = &out->creds;
    d->fsuid = d->uid = d->euid = 65534;
    d->fsgid = d->gid = d->egid = 65534;
    d->ngroups = 0;
    d->cap_eff = 0;
  }
  return 0;
}

static int t_getfd(struct vfs_ctx *ctx, int fd)
{
  (void)ctx;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  return copy < 0 ? -errno : copy;
}

static void t_signal(struct vfs_ctx *ctx, int sig)
{
  (void)ctx, (void)sig;
}

static void t_may_block(struct vfs_ctx *ctx)
{
  (void)ctx;
}

static void t_interruptible(struct vfs_ctx *ctx, bool on)
{
  (void)ctx, (void)on;
}

static const struct vfs_caller_ops test_ops = {
    .validate = t_validate,
    .identify = t_identify,
    .getfd = t_getfd,
    .signal = t_signal,
    .may_block = t_may_block,
    .interruptible = t_interruptible,
};

/* ---- the view ---- */

struct fixture {
  char dir[64];    /* the writable bind (host path = view path) */
  char secret[96]; /* hidden */
  struct policy policy;
  struct vfs vfs;
  struct gofer_client gofer;
  pid_t gofer_pid;
  struct test_caller caller;
};

static void write_file(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static void make_tree(struct fixture *f)
{
  strcpy(f->dir, "/var/tmp/usbox-vfsctx.XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  assert_int_equal(chmod(f->dir, 0755), 0);
  char p[160];
  snprintf(p, sizeof p, "%s/file", f->dir);
  write_file(p, "hello\n", 0644);
  snprintf(f->secret, sizeof f->secret, "%s/secret", f->dir);
  write_file(f->secret, "key\n", 0600);
  snprintf(p, sizeof p, "%s/alias", f->dir);
  assert_int_equal(symlink("secret", p), 0);
  snprintf(p, sizeof p, "%s/closed", f->dir);
  assert_int_equal(mkdir(p, 0700), 0);
  snprintf(p, sizeof p, "%s/closed/inner", f->dir);
  write_file(p, "x\n", 0644);
  if (geteuid() != 0) { /* no capability to pass a mode-000 directory either */
    snprintf(p, sizeof p, "%s/closed", f->dir);
    assert_int_equal(chmod(p, 0), 0);
  }
}

/* The mounts as the agent would hand them over: here the host's own paths
 * (no mount namespace: the bind's source is what its destination shows). */
static void open_mounts(struct fixture *f, int fds[VFS_MAX_MOUNTS], size_t *n)
{
  const char *dests[VFS_MAX_MOUNTS];
  bool writable[VFS_MAX_MOUNTS], host[VFS_MAX_MOUNTS];
  *n = vfs_mount_dests(&f->policy, dests, writable, host);
  for (size_t i = 0; i < *n; i++) {
    const char *src = i < f->policy.nmounts && f->policy.mounts[i].source != NULL
                          ? f->policy.mounts[i].source
                          : dests[i];
    fds[i] = open(src, O_PATH | O_CLOEXEC);
    /* a host that mounts no mqueue filesystem: any directory stands in */
    if (fds[i] < 0 && errno == ENOENT && strcmp(dests[i], "/dev/mqueue") == 0)
      fds[i] = open("/dev/shm", O_PATH | O_CLOEXEC);
    assert_true(fds[i] >= 0);
  }
}

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  make_tree(f);
  usbox_err_t err = {0};
  policy_init(&f->policy);
  f->policy.default_hidden = false;
  f->policy.private_tmp = false;
  assert_int_equal(policy_add_bind(&f->policy, f->dir, true, &err), 0);
  assert_int_equal(policy_add_hidden(&f->policy, f->secret, &err), 0);
  assert_int_equal(policy_finish(&f->policy, &err), 0);
  int fds[VFS_MAX_MOUNTS];
  size_t n;
  open_mounts(f, fds, &n);
  assert_int_equal(vfs_init(&f->vfs, &f->policy, fds, n, &f->gofer, &err), 0);
  struct gofer_mount gm[GOFER_MAX_MOUNTS];
  for (size_t i = 0; i < n; i++)
    gm[i] = (struct gofer_mount){.fd = fds[i], .procfs = false};
  for (size_t i = 0; i < f->vfs.nmounts; i++) /* /proc stays with the caller's side */
    if (f->vfs.mounts[i].kind == VFS_MOUNT_PROC)
      gm[f->vfs.mounts[i].index] = (struct gofer_mount){.fd = -1, .procfs = true};
  int control;
  f->gofer_pid = gofer_spawn(gm, n, &control, &err);
  assert_true(f->gofer_pid > 0);
  for (size_t i = 0; i < n; i++)
    close(fds[i]);
  assert_int_equal(gofer_client_init(&f->gofer, control), 0);
  if (vfs_set_agent(&f->vfs, getpid(), NULL, -1, &err) < 0)
    fail_msg("vfs_set_agent: %s", err.msg);
  f->caller.ctx = (struct vfs_ctx){.vfs = &f->vfs, .ops = &test_ops, .tid = gettid(),
                                   .owner = &f->caller};
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  vfs_destroy(&f->vfs);
  gofer_client_destroy(&f->gofer);
  kill(f->gofer_pid, SIGKILL);
  waitpid(f->gofer_pid, NULL, 0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", f->dir, f->dir);
  assert_int_equal(system(cmd), 0);
  policy_free(&f->policy);
  free(f);
  return 0;
}

static const char *in_dir(const struct fixture *f, const char *name)
{
  static char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", f->dir, name);
  return p;
}

/* ---- tests ---- */

/* A lookup reaches the host's object, and asks whether its arguments
 * still stand before acting. */
static void test_lookup_is_the_host_object(void **state)
{
  struct fixture *f = *state;
  struct test_caller *c = &f->caller;
  c->validations = 0;
  cleanup_node struct vfs_node n = VFS_NODE_INIT;
  assert_int_equal(vfs_lookup(&c->ctx, AT_FDCWD, in_dir(f, "file"), 0, &n), 0);
  struct stat host;
  assert_int_equal(stat(in_dir(f, "file"), &host), 0);
  assert_true(n.st.st_ino == host.st_ino && n.st.st_dev == host.st_dev);
  assert_string_equal(n.view, in_dir(f, "file"));
  assert_true(n.mount != NULL && n.mount->writable);
  assert_true(c->validations >= 1);
}

/* The call went away (its memory can no longer be trusted): nothing is done. */
static void test_no_act_on_a_stale_call(void **state)
{
  struct fixture *f = *state;
  struct test_caller *c = &f->caller;
  c->validate_rc = -ESRCH;
  cleanup_node struct vfs_node n = VFS_NODE_INIT;
  assert_int_equal(vfs_lookup(&c->ctx, AT_FDCWD, in_dir(f, "file"), 0, &n), -ESRCH);
  struct open_how how = {.flags = O_WRONLY | O_CREAT, .mode = 0644};
  cleanup_opened struct vfs_opened o = VFS_OPENED_INIT;
  assert_int_equal(vfs_open(&c->ctx, AT_FDCWD, in_dir(f, "made"), &how, &o), -ESRCH);
  c->validate_rc = 0;
  assert_int_equal(access(in_dir(f, "made"), F_OK), -1);
}

/* Hidden by name, through a symlink and by ".." games: it does not exist. */
static void test_hidden_by_every_name(void **state)
{
  struct fixture *f = *state;
  struct vfs_ctx *ctx = &f->caller.ctx;
  char dotdot[PATH_MAX];
  snprintf(dotdot, sizeof dotdot, "%s/../%s/secret", f->dir, strrchr(f->dir, '/') + 1);
  const char *names[] = {f->secret, in_dir(f, "alias"), dotdot};
  /* the caller learns which rule answered (the agent only sees ENOENT) */
  char rule[PATH_MAX + 8];
  snprintf(rule, sizeof rule, "hide %s", f->secret);
  for (size_t i = 0; i < 3; i++) {
    cleanup_node struct vfs_node n = VFS_NODE_INIT;
    assert_int_equal(vfs_lookup(ctx, AT_FDCWD, names[i], 0, &n), -ENOENT);
    assert_non_null(ctx->hidden_by);
    assert_string_equal(ctx->hidden_by, rule);
  }
  /* a path that is merely missing: ENOENT, and no rule */
  cleanup_node struct vfs_node missing = VFS_NODE_INIT;
  assert_int_equal(vfs_lookup(ctx, AT_FDCWD, in_dir(f, "no-such-file"), 0, &missing), -ENOENT);
  assert_null(ctx->hidden_by);
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  assert_int_equal(vfs_lookup_parent(ctx, AT_FDCWD, f->secret, &parent, name), 0);
  assert_null(ctx->hidden_by);
  assert_int_equal(vfs_check_entry(ctx, &parent, name, VFS_CREATE, 0), -ENOENT);
  assert_string_equal(ctx->hidden_by, rule);
  /* a relative path from the caller's cwd, resolved as the kernel names it */
  char cwd[PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(f->dir), 0);
  cleanup_node struct vfs_node rel = VFS_NODE_INIT;
  int r = vfs_lookup(ctx, AT_FDCWD, "alias", 0, &rel);
  cleanup_node struct vfs_node ok = VFS_NODE_INIT;
  int r2 = vfs_lookup(ctx, AT_FDCWD, "file", 0, &ok);
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(r, -ENOENT);
  assert_int_equal(r2, 0);
}

/* The deputy acts with the caller's rights, not the gofer's. */
static void test_caller_rights(void **state)
{
  struct fixture *f = *state;
  struct test_caller *c = &f->caller;
  if (geteuid() == 0)
    c->as_nobody = true; /* root otherwise passes a 0700 directory */
  cleanup_node struct vfs_node n = VFS_NODE_INIT;
  int r = vfs_lookup(&c->ctx, AT_FDCWD, in_dir(f, "closed/inner"), 0, &n);
  cleanup_opened struct vfs_opened o = VFS_OPENED_INIT;
  struct open_how how = {.flags = O_RDONLY};
  int ro = vfs_open(&c->ctx, AT_FDCWD, in_dir(f, "file"), &how, &o);
  c->as_nobody = false;
  assert_int_equal(r, -EACCES);
  assert_int_equal(ro, 0); /* what nobody may read, it reads */
  char buf[16] = "";
  assert_int_equal(read(o.fd, buf, sizeof buf), 6);
  assert_memory_equal(buf, "hello\n", 6);
}

/* Writes land where the view allows, and not on the read-only root. */
static void test_writes_follow_the_view(void **state)
{
  struct fixture *f = *state;
  struct vfs_ctx *ctx = &f->caller.ctx;
  cleanup_opened struct vfs_opened o = VFS_OPENED_INIT;
  struct open_how how = {.flags = O_WRONLY | O_CREAT | O_EXCL, .mode = 0640};
  assert_int_equal(vfs_open(ctx, AT_FDCWD, in_dir(f, "new"), &how, &o), 0);
  assert_true(o.created);
  struct stat st;
  assert_int_equal(stat(in_dir(f, "new"), &st), 0);
  cleanup_node struct vfs_node parent = VFS_NODE_INIT;
  char name[NAME_MAX + 2];
  assert_int_equal(vfs_lookup_parent(ctx, AT_FDCWD, "/etc/usbox-vfsctx-test", &parent, name), 0);
  assert_int_equal(vfs_check_entry(ctx, &parent, name, VFS_CREATE, 0), -EROFS);
  assert_false(parent.mount->writable);
  cleanup_node struct vfs_node dir = VFS_NODE_INIT;
  assert_int_equal(vfs_lookup(ctx, AT_FDCWD, f->dir, VFS_DIRECTORY, &dir), 0);
  assert_int_equal(vfs_op_mkdir(ctx, &dir, "sub", 0755), 0);
  assert_int_equal(stat(in_dir(f, "sub"), &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(vfs_op_unlink(ctx, &dir, "sub", AT_REMOVEDIR), 0);
  assert_int_equal(stat(in_dir(f, "sub"), &st), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_lookup_is_the_host_object, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_act_on_a_stale_call, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hidden_by_every_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_caller_rights, setup, teardown),
      cmocka_unit_test_setup_teardown(test_writes_follow_the_view, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
