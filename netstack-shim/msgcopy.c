/* What the agent sends, copied out of its memory (netstack-shim/msgcopy.h). */
#include "netstack-shim/msgcopy.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/deputy.h"
#include "netstack-shim/sockaddr.h"

void net_msg_release(struct net_msg_copy *mc)
{
  free(mc->data);
  free(mc->ctl);
  for (int i = 0; i < mc->ntaken; i++)
    close(mc->taken[i]);
  mc->data = mc->ctl = NULL;
  mc->ntaken = 0;
}

int net_read_sockaddr(struct net_ctx *ctx, uint64_t addr, int len, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  int r = net_addrlen_check(len);
  if (r < 0)
    return r;
  return len == 0 ? 0 : ctx->ops->read(ctx, addr, ss, (size_t)len);
}

int net_read_data(struct net_ctx *ctx, const struct iovec *iov, size_t n,
                  struct net_msg_copy *mc)
{
  size_t total;
  int r = net_iov_total(iov, n, &total);
  if (r < 0)
    return r;
  mc->truncated = total > NET_SEND_MAX;
  if (mc->truncated)
    total = NET_SEND_MAX; /* a stream takes it as a short write; else EMSGSIZE */
  mc->data = malloc(total > 0 ? total : 1);
  if (mc->data == NULL)
    return -ENOMEM;
  size_t got = 0;
  for (size_t i = 0; i < n && got < total; i++) {
    size_t take = iov[i].iov_len < total - got ? iov[i].iov_len : total - got;
    r = take > 0 ? ctx->ops->read(ctx, (uint64_t)(uintptr_t)iov[i].iov_base, mc->data + got,
                                  take)
                 : 0;
    if (r < 0)
      return r;
    got += take;
  }
  mc->iov = (struct iovec){.iov_base = mc->data, .iov_len = total};
  mc->m.msg_iov = &mc->iov;
  mc->m.msg_iovlen = 1;
  return 0;
}

/* The control data of the agent's um, at most NET_CTL_MAX bytes. */
static int read_control(struct net_ctx *ctx, const struct msghdr *um, struct net_msg_copy *mc)
{
  if (um->msg_controllen > NET_CTL_MAX)
    return -ENOBUFS;
  mc->ctllen = um->msg_controllen;
  if ((mc->ctl = malloc(mc->ctllen)) == NULL)
    return -ENOMEM;
  int r = ctx->ops->read(ctx, (uint64_t)(uintptr_t)um->msg_control, mc->ctl, mc->ctllen);
  if (r < 0)
    return r;
  mc->m.msg_control = mc->ctl;
  mc->m.msg_controllen = mc->ctllen;
  return 0;
}

int net_read_msg(struct net_ctx *ctx, const struct msghdr *um, struct net_msg_copy *mc)
{
  memset(&mc->m, 0, sizeof mc->m);
  int namelen = net_msg_namelen(um->msg_name, (int)um->msg_namelen);
  if (namelen < 0)
    return namelen;
  mc->has_name = namelen > 0;
  if (mc->has_name) {
    mc->namelen = (socklen_t)namelen;
    int r = net_read_sockaddr(ctx, (uint64_t)(uintptr_t)um->msg_name, namelen, &mc->name);
    if (r < 0)
      return r;
  }
  if (um->msg_iovlen > NET_IOV_MAX)
    return -EMSGSIZE;
  struct iovec iov[NET_IOV_MAX];
  int r = um->msg_iovlen > 0 ? ctx->ops->read(ctx, (uint64_t)(uintptr_t)um->msg_iov, iov,
                                              um->msg_iovlen * sizeof iov[0])
                             : 0;
  if (r < 0 || (r = net_read_data(ctx, iov, um->msg_iovlen, mc)) < 0)
    return r;
  return um->msg_controllen > 0 ? read_control(ctx, um, mc) : 0;
}

/* ---- control messages ---- */

/* SCM_RIGHTS names the agent's fds; the sentry sends: each becomes the
 * sentry's copy of the same file (the receiver gets what the agent meant).
 * net_cmsg_step counted them; n is checked again against taken[]. */
static int take_rights(struct net_ctx *ctx, struct net_msg_copy *mc, struct cmsghdr *c,
                       size_t n)
{
  if (n > NET_SCM_MAX_FD - (size_t)mc->ntaken)
    return -EINVAL;
  uint8_t *p = CMSG_DATA(c);
  for (size_t i = 0; i < n; i++) {
    int fd;
    memcpy(&fd, p + i * sizeof fd, sizeof fd);
    int local = ctx->ops->getfd(ctx, fd);
    if (local < 0)
      return local == -ESRCH ? local : -EBADF;
    mc->taken[mc->ntaken++] = local;
    memcpy(p + i * sizeof local, &local, sizeof local);
  }
  return 0;
}

bool net_can_vouch_pid(void)
{
  static int can = -1;
  if (can < 0) {
    struct deputy_creds own;
    deputy_own_creds(&own);
    can = (own.cap_eff >> CAP_SYS_ADMIN) & 1;
  }
  return can == 1;
}

/* SCM_CREDENTIALS: only the agent's own (what the kernel allows an
 * unprivileged sender), its pid put in the sentry's pid namespace, where the
 * kernel reads it (the sentry's own pid where it cannot vouch: a receiver
 * then sees usbox's pid, never a refusal the agent would not get). Anything
 * else would be the sentry's privilege. */
static int check_creds(const struct net_caller *me, struct cmsghdr *c, struct ucred u)
{
  if (u.pid != me->ns_tgid || (u.uid != me->uid && u.uid != me->euid && u.uid != me->suid) ||
      (u.gid != me->gid && u.gid != me->egid && u.gid != me->sgid))
    return -EPERM;
  u.pid = net_can_vouch_pid() ? me->tgid : getpid();
  memcpy(CMSG_DATA(c), &u, sizeof u);
  return 0;
}

int net_add_own_creds(struct net_msg_copy *mc, const struct net_caller *me)
{
  size_t add = CMSG_SPACE(sizeof(struct ucred));
  uint8_t *ctl = realloc(mc->ctl, mc->ctllen + add);
  if (ctl == NULL)
    return -ENOMEM;
  memset(ctl + mc->ctllen, 0, add);
  struct cmsghdr *c = (struct cmsghdr *)(ctl + mc->ctllen);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_CREDENTIALS;
  c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
  struct ucred u = {.pid = me->tgid, .uid = me->uid, .gid = me->gid};
  memcpy(CMSG_DATA(c), &u, sizeof u);
  mc->ctl = ctl;
  mc->ctllen += add;
  mc->m.msg_control = ctl;
  mc->m.msg_controllen = mc->ctllen;
  mc->vouched_creds = true;
  return 0;
}

int net_prepare_control(struct net_ctx *ctx, struct net_msg_copy *mc)
{
  struct net_caller me;
  int r = ctx->ops->identify(ctx, &me);
  if (r < 0)
    return r;
  struct net_cmsg m = {.hdr = NULL};
  while ((r = net_cmsg_step(mc->ctl, mc->ctllen, &m)) > 0) {
    if (m.kind == NET_CMSG_RIGHTS)
      r = take_rights(ctx, mc, m.hdr, m.nfds);
    else if (m.kind == NET_CMSG_CREDS)
      mc->vouched_creds = (r = check_creds(&me, m.hdr, m.creds)) == 0;
    if (r < 0)
      return r;
  }
  return r;
}
