/* netstack-shim's plumbing driven through a context of the test's own
 * making (netstack-shim/ctx.h), no sentry and no agent: "agent memory" is
 * this process's, its fds are this process's. What a send carries is
 * copied once (a change after the copy changes nothing), SCM_RIGHTS
 * becomes the sentry's copies of the same files, SCM_CREDENTIALS must be
 * the caller's own, nothing is acted on after a failed validation, and a
 * send goes out on the sentry's copy of the socket with the audit notes
 * said. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netstack-shim/ctx.h"
#include "netstack-shim/hostsock.h"
#include "netstack-shim/msgcopy.h"
#include "netstack-shim/net.h"
#include "netstack-shim/route.h"

struct fake {
  bool gone;   /* validate and identify answer -ESRCH */
  int reads;   /* memory reads since the last validate */
  int signals; /* sent to the caller */
  char dest[NET_NOTE_DEST_MAX];
  char rule[NET_NOTE_RULE_MAX];
};

static struct fake *fake_of(struct net_ctx *ctx)
{
  return ctx->owner;
}

static int fake_read(struct net_ctx *ctx, uint64_t addr, void *buf, size_t len)
{
  fake_of(ctx)->reads++;
  memcpy(buf, (const void *)(uintptr_t)addr, len);
  return 0;
}

static int fake_validate(struct net_ctx *ctx)
{
  if (fake_of(ctx)->gone)
    return -ESRCH;
  fake_of(ctx)->reads = 0;
  return 0;
}

static int fake_getfd(struct net_ctx *ctx, int fd)
{
  (void)ctx;
  int local = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return local < 0 ? -EBADF : local;
}

static int fake_setfd(struct net_ctx *ctx, int target, int src)
{
  (void)ctx;
  return dup2(src, target) < 0 ? -errno : 0;
}

static int fake_identify(struct net_ctx *ctx, struct net_caller *out)
{
  if (fake_of(ctx)->gone)
    return -ESRCH;
  memset(out, 0, sizeof *out);
  out->tgid = out->ns_tgid = getpid();
  out->uid = out->euid = out->suid = getuid();
  out->gid = out->egid = out->sgid = getgid();
  deputy_own_creds(&out->creds);
  return 0;
}

static int fake_open_unix(struct net_ctx *ctx, const char *path, bool *writable_place)
{
  *writable_place = false;
  (void)ctx, (void)path;
  return -ENOENT;
}

static void fake_interruptible(struct net_ctx *ctx, bool on)
{
  (void)ctx, (void)on;
}

static void fake_signal(struct net_ctx *ctx, int sig)
{
  (void)sig;
  fake_of(ctx)->signals++;
}

static void fake_note(struct net_ctx *ctx, enum net_note what, const char *text)
{
  struct fake *f = fake_of(ctx);
  if (what == NET_NOTE_DEST)
    snprintf(f->dest, sizeof f->dest, "%s", text);
  else
    snprintf(f->rule, sizeof f->rule, "%s", text);
}

static const struct net_caller_ops fake_ops = {
    .read = fake_read,
    .validate = fake_validate,
    .getfd = fake_getfd,
    .setfd = fake_setfd,
    .identify = fake_identify,
    .open_unix = fake_open_unix,
    .interruptible = fake_interruptible,
    .signal = fake_signal,
    .note = fake_note,
};

static struct fake fake;
static struct net_ctx ctx = {.ops = &fake_ops, .owner = &fake};

static int setup(void **state)
{
  (void)state;
  memset(&fake, 0, sizeof fake);
  /* --net host's state: enough for a socket's namespace to be known */
  struct net_config cfg = {.filtered = false};
  struct netns_fds fds = {.n = 0};
  usbox_err_t err;
  return net_start(&cfg, &fds, &err);
}

static int teardown(void **state)
{
  (void)state;
  net_stop();
  return 0;
}

/* A message with a name, two iovecs and an SCM_RIGHTS of fd. */
struct agent_msg {
  struct sockaddr_in name;
  char a[4], b[3];
  struct iovec iov[2];
  _Alignas(struct cmsghdr) uint8_t ctl[CMSG_SPACE(sizeof(struct ucred))];
  struct msghdr m;
};

static void make_agent_msg(struct agent_msg *am, int fd)
{
  memset(am, 0, sizeof *am);
  am->name = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(80)};
  memcpy(am->a, "abcd", 4);
  memcpy(am->b, "efg", 3);
  am->iov[0] = (struct iovec){am->a, 4};
  am->iov[1] = (struct iovec){am->b, 3};
  struct cmsghdr *c = (struct cmsghdr *)am->ctl;
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  am->m = (struct msghdr){.msg_name = &am->name,
                          .msg_namelen = sizeof am->name,
                          .msg_iov = am->iov,
                          .msg_iovlen = 2,
                          .msg_control = am->ctl,
                          .msg_controllen = CMSG_SPACE(sizeof(int))};
}

static void test_message_copied_once(void **state)
{
  (void)state;
  struct agent_msg am;
  make_agent_msg(&am, STDIN_FILENO);
  cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
  assert_int_equal(net_read_msg(&ctx, &am.m, &mc), 0);
  assert_true(fake.reads > 0); /* validate must follow before acting */
  /* the agent changes everything after the copy: the copy stands */
  am.name.sin_port = htons(22);
  memcpy(am.a, "XXXX", 4);
  assert_true(mc.has_name);
  assert_int_equal(mc.namelen, sizeof am.name);
  assert_int_equal(ntohs(((struct sockaddr_in *)&mc.name)->sin_port), 80);
  assert_int_equal(mc.iov.iov_len, 7);
  assert_memory_equal(mc.data, "abcdefg", 7);
  assert_int_equal(mc.ctllen, CMSG_SPACE(sizeof(int)));
  assert_false(mc.truncated);
}

static void test_rights_become_the_sentry_copies(void **state)
{
  (void)state;
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  struct agent_msg am;
  make_agent_msg(&am, p[0]);
  {
    cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
    assert_int_equal(net_read_msg(&ctx, &am.m, &mc), 0);
    assert_int_equal(net_prepare_control(&ctx, &mc), 0);
    assert_int_equal(mc.ntaken, 1);
    int sent;
    memcpy(&sent, CMSG_DATA((struct cmsghdr *)mc.ctl), sizeof sent);
    assert_int_equal(sent, mc.taken[0]);
    assert_int_not_equal(sent, p[0]);
    struct stat a, b;
    assert_int_equal(fstat(p[0], &a), 0);
    assert_int_equal(fstat(sent, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  }
  /* an fd the caller does not have: EBADF, as the kernel */
  make_agent_msg(&am, 4000);
  cleanup_msg struct net_msg_copy bad = {.ntaken = 0};
  assert_int_equal(net_read_msg(&ctx, &am.m, &bad), 0);
  assert_int_equal(net_prepare_control(&ctx, &bad), -EBADF);
  close(p[0]);
  close(p[1]);
}

static void put_creds(struct agent_msg *am, struct ucred u)
{
  struct cmsghdr *c = (struct cmsghdr *)am->ctl;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof u);
  memcpy(CMSG_DATA(c), &u, sizeof u);
  am->m.msg_controllen = CMSG_SPACE(sizeof u);
}

static void test_credentials_must_be_own(void **state)
{
  (void)state;
  struct agent_msg am;
  make_agent_msg(&am, -1);
  struct ucred own = {.pid = getpid(), .uid = getuid(), .gid = getgid()};
  put_creds(&am, own);
  cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
  assert_int_equal(net_read_msg(&ctx, &am.m, &mc), 0);
  assert_int_equal(net_prepare_control(&ctx, &mc), 0);
  assert_true(mc.vouched_creds);
  /* another process's pid: that would be the sentry's privilege */
  struct ucred other = own;
  other.pid = getpid() + 1;
  put_creds(&am, other);
  cleanup_msg struct net_msg_copy mc2 = {.ntaken = 0};
  assert_int_equal(net_read_msg(&ctx, &am.m, &mc2), 0);
  assert_int_equal(net_prepare_control(&ctx, &mc2), -EPERM);
  assert_false(mc2.vouched_creds);
}

static void test_nothing_acted_on_a_stale_call(void **state)
{
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  fake.gone = true;
  {
    cleanup_net_call struct net_call nc = {.sock = -1};
    assert_int_equal(net_call_begin(&ctx, sv[0], &nc), -ESRCH);
  }
  fake.gone = false;
  cleanup_net_call struct net_call nc = {.sock = -1};
  assert_int_equal(net_call_begin(&ctx, sv[0], &nc), 0);
  assert_int_equal(nc.si.domain, AF_UNIX);
  assert_int_equal(nc.si.type, SOCK_DGRAM);
  assert_false(nc.si.host);
  assert_int_not_equal(nc.sock, sv[0]);
  close(sv[0]);
  close(sv[1]);
}

static void test_send_on_the_copy(void **state)
{
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  struct agent_msg am;
  make_agent_msg(&am, -1);
  am.m.msg_name = NULL;
  am.m.msg_namelen = 0;
  am.m.msg_control = NULL;
  am.m.msg_controllen = 0;
  cleanup_msg struct net_msg_copy mc = {.ntaken = 0};
  assert_int_equal(net_read_msg(&ctx, &am.m, &mc), 0);
  cleanup_net_call struct net_call nc = {.sock = -1};
  assert_int_equal(net_call_begin(&ctx, sv[0], &nc), 0);
  assert_int_equal(fake.reads, 0); /* begin validated */
  struct net_result r = net_send(&nc, &mc, 0);
  assert_false(r.gone);
  assert_int_equal(r.err, 0);
  assert_int_equal(r.val, 7);
  assert_string_equal(fake.dest, "the connected peer");
  assert_string_equal(fake.rule, "checked when it was connected");
  char got[16];
  assert_int_equal(recv(sv[1], got, sizeof got, MSG_DONTWAIT), 7);
  assert_memory_equal(got, "abcdefg", 7);
  /* EPIPE: the caller gets the SIGPIPE the kernel would send it */
  close(sv[1]);
  int st[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st), 0);
  close(st[1]);
  cleanup_net_call struct net_call ns = {.sock = -1};
  assert_int_equal(net_call_begin(&ctx, st[0], &ns), 0);
  r = net_send(&ns, &mc, 0);
  assert_int_equal(r.err, EPIPE);
  assert_int_equal(fake.signals, 1);
  r = net_send(&ns, &mc, MSG_NOSIGNAL);
  assert_int_equal(fake.signals, 1);
  close(st[0]);
  close(sv[0]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_message_copied_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rights_become_the_sentry_copies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_credentials_must_be_own, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nothing_acted_on_a_stale_call, setup, teardown),
      cmocka_unit_test_setup_teardown(test_send_on_the_copy, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
