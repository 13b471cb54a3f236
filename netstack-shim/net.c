/* The sandbox's network state, its start and stop, and the decision on a
 * destination (netstack-shim/net.h). */
#include "netstack-shim/net.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "netstack-shim/learned.h"
#include "netstack-shim/resolver.h"

struct net_state {
  const struct net_rule *rules;
  size_t nrules;
  bool filtered;
  struct net_learned_cache learned;
  struct net_resolver *resolver;
  struct net_relay *relay; /* name rules without /any-protocol: their connections' check */
  struct net_dest resolvers[NETNS_MAX_RESOLVERS]; /* its addresses, its port */
  size_t nresolvers;
  uint64_t host_cookie; /* SO_NETNS_COOKIE of the sentry's (the host's) namespace */
  net_audit_fn audit;
  void *audit_ctx;
};

/* One sandbox per usbox process; set before the receivers start. */
static struct net_state *net_state;

bool net_ready(void)
{
  return net_state != NULL;
}

bool net_unfiltered(void)
{
  return net_state != NULL && !net_state->filtered;
}

struct net_relay *net_relay_get(void)
{
  return net_state->relay;
}

uint64_t net_host_cookie(void)
{
  return net_state->host_cookie;
}

struct net_decision net_decide_dest(struct net_ctx *ctx, const struct net_dest *d)
{
  struct net_state *s = net_state;
  uint64_t now = net_now();
  struct net_learned found[16];
  size_t n = net_learned_find(&s->learned, &d->addr, now, found, 16);
  struct net_decision dec =
      net_decide(s->rules, s->nrules, found, n, s->resolvers, s->nresolvers, d, now);
  char text[128];
  net_dest_format(d, text, sizeof text);
  net_note_dest(ctx, "%s", text);
  if (dec.verdict == NET_INSPECT)
    net_note_rule(ctx, "net-allow %s (%s resolved here): only a connection naming it",
                  s->rules[dec.rule].text, found[dec.learned].name);
  else if (dec.rule >= 0 && dec.learned >= 0)
    net_note_rule(ctx, "net-allow %s (%s resolved here)", s->rules[dec.rule].text,
                  found[dec.learned].name);
  else if (dec.rule >= 0)
    net_note_rule(ctx, "net-allow %s", s->rules[dec.rule].text);
  else if (dec.verdict == NET_DENY)
    net_note_refusal(ctx, "%s", dec.why);
  else
    net_note_rule(ctx, "%s", dec.why);
  return dec;
}

/* ---- start and stop ---- */

static void log_dns(void *ctx, const char *name, bool allowed, const struct net_rule *rule,
                    int rcode, const char *refused)
{
  struct net_state *s = ctx;
  if (s->audit == NULL)
    return;
  char why[400];
  if (refused != NULL)
    snprintf(why, sizeof why, "net-allow %s: %s", rule != NULL ? rule->text : "", refused);
  else if (allowed && rule == NULL)
    snprintf(why, sizeof why, "the sandbox's own host name: its loopback");
  else if (allowed)
    snprintf(why, sizeof why, "net-allow %s", rule->text);
  else
    snprintf(why, sizeof why, "no --net-allow rule names it: NXDOMAIN");
  /* the resolver does not know which process asked: no pid */
  struct net_audit_line line = {
      .syscall = "dns",
      .arg = name,
      .decision = allowed && refused == NULL ? "emulate" : "deny",
      .result = rcode,
      .rule = why,
  };
  s->audit(s->audit_ctx, &line);
}

static int netns_cookie(uint64_t *out, usbox_err_t *err)
{
  cleanup_close int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof *out;
  if (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, out, &len) < 0)
    return usbox_err_set(err, errno,
                         "reading the network namespace cookie (the network filter needs "
                         "Linux 5.14 or later)");
  return 0;
}

/* The warnings a configuration that cannot resolve its allowed names
 * deserves: the run goes on (literal addresses still work). */
static void warn_unresolvable(const struct net_config *cfg, const struct netns_fds *fds)
{
  bool names = false;
  for (size_t i = 0; i < cfg->nrules; i++)
    names |= cfg->rules[i].kind != NET_HOST_IP;
  if (names && cfg->upstream_len == 0)
    usbox_warn("no DNS server in /etc/resolv.conf: allowed names will not resolve "
               "(--dns-upstream ADDR)");
  if (names && fds->n == 0)
    usbox_warn("the sandbox's resolver could not listen on the host's nameserver addresses: "
               "allowed names will not resolve");
}

static int start_filtered(struct net_state *s, const struct net_config *cfg,
                          struct netns_fds *fds, usbox_err_t *err)
{
  if (fds->n < 0 || fds->n > NET_RESOLVER_MAX_FDS)
    return usbox_err_set(err, EINVAL, "bad resolver sockets from the agent process");
  if (netns_cookie(&s->host_cookie, err) < 0)
    return -1;
  if (net_learned_init(&s->learned) < 0)
    return usbox_err_set(err, ENOMEM, "allocating the network state");
  for (size_t i = 0; i < cfg->nresolvers && i < NETNS_MAX_RESOLVERS; i++)
    s->resolvers[s->nresolvers++] = (struct net_dest){
        .addr = cfg->resolvers[i], .port = cfg->resolver_port, .proto = IPPROTO_UDP};
  warn_unresolvable(cfg, fds);
  struct net_resolver_config rc = {
      .nfds = fds->n,
      .upstream = cfg->upstream,
      .upstream_len = cfg->upstream_len,
      .rules = cfg->rules,
      .nrules = cfg->nrules,
      .learned = &s->learned,
      .log = log_dns,
      .log_ctx = s,
      .own_name = cfg->hostname,
  };
  memcpy(rc.udp_fd, fds->dns_udp, sizeof rc.udp_fd);
  memcpy(rc.tcp_fd, fds->dns_tcp, sizeof rc.tcp_fd);
  if (net_resolver_start(&s->resolver, &rc, err) < 0)
    return -1;
  fds->n = 0; /* the resolver's now */
  if (fds->nrelay == 0)
    return 0;
  struct net_relay_config relay = {
      .listen_fd = {fds->relay[0], fds->relay[1]},
      .rules = cfg->rules,
      .nrules = cfg->nrules,
      .audit = cfg->audit,
      .audit_ctx = cfg->audit_ctx,
  };
  fds->nrelay = 0; /* the relay's now, even if it fails to start */
  if (net_relay_start(&s->relay, &relay, err) < 0) {
    net_resolver_stop(s->resolver);
    s->resolver = NULL;
    return -1;
  }
  return 0;
}

int net_start(const struct net_config *cfg, struct netns_fds *fds, usbox_err_t *err)
{
  struct net_state *s = calloc(1, sizeof *s);
  if (s == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the network state");
  s->rules = cfg->rules;
  s->nrules = cfg->nrules;
  s->filtered = cfg->filtered;
  s->audit = cfg->audit;
  s->audit_ctx = cfg->audit_ctx;
  if (s->filtered && start_filtered(s, cfg, fds, err) < 0) {
    net_learned_destroy(&s->learned);
    free(s);
    return -1;
  }
  net_state = s;
  return 0;
}

void net_stop(void)
{
  struct net_state *s = net_state;
  if (s == NULL)
    return;
  net_relay_stop(s->relay);
  net_resolver_stop(s->resolver);
  net_learned_destroy(&s->learned);
  net_state = NULL;
  free(s);
}
