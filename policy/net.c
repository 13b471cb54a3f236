#include "policy/net.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "policy/policy.h"

/* Host sockets that resolve any name (so they would turn DNS into a way
 * out) or reach the host's services wholesale. Hidden in filtered mode
 * unless the policy binds them. */
static const char *const net_hidden_sockets[] = {
    "/run/systemd/resolve/io.systemd.Resolve",
    "/run/systemd/resolve/io.systemd.Resolve.Monitor",
    "/run/nscd/socket",
    "/run/dbus/system_bus_socket", /* org.freedesktop.resolve1 resolves names too */
    NULL,
};

void net_policy_init(struct net_policy *n)
{
  memset(n, 0, sizeof *n);
  n->mode = NET_MODE_FILTERED;
}

void net_policy_free(struct net_policy *n)
{
  free(n->rules);
  memset(n, 0, sizeof *n);
}

int net_policy_add_allow(struct net_policy *n, const char *spec, usbox_err_t *err)
{
  struct net_rule r;
  if (net_rule_parse(spec, &r, err) < 0)
    return -1;
  struct net_rule *grown = realloc(n->rules, (n->nrules + 1) * sizeof *grown);
  if (grown == NULL)
    return usbox_err_set(err, ENOMEM, "allocating the policy");
  n->rules = grown;
  n->rules[n->nrules++] = r;
  return 0;
}

int net_policy_set_mode(struct net_policy *n, const char *mode, usbox_err_t *err)
{
  n->mode_none = false;
  if (strcmp(mode, "filtered") == 0) {
    n->mode = NET_MODE_FILTERED;
  } else if (strcmp(mode, "none") == 0) {
    n->mode = NET_MODE_FILTERED;
    n->mode_none = true;
  } else if (strcmp(mode, "host") == 0) {
    n->mode = NET_MODE_HOST;
  } else {
    return usbox_err_set(err, EINVAL, "--net %s: expected filtered, none or host", mode);
  }
  return 0;
}

/* ADDR, ADDR:PORT, [V6]:PORT or a bare IPv6 address into a sockaddr. */
static int parse_endpoint(const char *text, uint16_t default_port, struct sockaddr_storage *ss,
                          socklen_t *len)
{
  char host[128];
  const char *port = NULL;
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (close == NULL || (close[1] != '\0' && close[1] != ':'))
      return -1;
    snprintf(host, sizeof host, "%.*s", (int)(close - text - 1), text + 1);
    port = close[1] == ':' ? close + 2 : NULL;
  } else {
    const char *colon = strchr(text, ':');
    bool bare_v6 = colon != NULL && strchr(colon + 1, ':') != NULL;
    snprintf(host, sizeof host, "%.*s", colon && !bare_v6 ? (int)(colon - text) : (int)strlen(text),
             text);
    port = colon && !bare_v6 ? colon + 1 : NULL;
  }
  long p = default_port;
  if (port != NULL) {
    char *end;
    p = strtol(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || p < 1 || p > 65535)
      return -1;
  }
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *in = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)p);
    *len = sizeof *in;
  } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)p);
    *len = sizeof *in6;
  } else {
    return -1;
  }
  return 0;
}

int net_policy_set_dns_upstream(struct net_policy *n, const char *addr, usbox_err_t *err)
{
  if (parse_endpoint(addr, 53, &n->upstream, &n->upstream_len) < 0)
    return usbox_err_set(err, EINVAL,
                         "--dns-upstream %s: expected ADDR, ADDR:PORT or [IPV6]:PORT", addr);
  return 0;
}

static int json_allow(struct net_policy *n, const cJSON *arr, usbox_err_t *err)
{
  if (!cJSON_IsArray(arr))
    return usbox_err_set(err, EINVAL, ".network.allow: must be an array of strings");
  const cJSON *item;
  int i = 0;
  cJSON_ArrayForEach(item, arr)
  {
    if (!cJSON_IsString(item))
      return usbox_err_set(err, EINVAL, ".network.allow[%d]: must be a string", i);
    if (net_policy_add_allow(n, item->valuestring, err) < 0)
      return usbox_err_wrap(err, ".network.allow[%d]", i);
    i++;
  }
  return 0;
}

int net_policy_load_json(struct net_policy *n, const struct cJSON *obj, usbox_err_t *err)
{
  if (!cJSON_IsObject(obj))
    return usbox_err_set(err, EINVAL, ".network: must be an object");
  const cJSON *f;
  cJSON_ArrayForEach(f, obj)
  {
    const char *k = f->string;
    bool is_string = cJSON_IsString(f);
    if (strcmp(k, "allow") == 0) {
      if (json_allow(n, f, err) < 0)
        return -1;
    } else if (strcmp(k, "mode") == 0 && is_string) {
      if (net_policy_set_mode(n, f->valuestring, err) < 0)
        return usbox_err_wrap(err, ".network.mode");
    } else if (strcmp(k, "dns_upstream") == 0 && is_string) {
      if (net_policy_set_dns_upstream(n, f->valuestring, err) < 0)
        return usbox_err_wrap(err, ".network.dns_upstream");
    } else if (strcmp(k, "mode") == 0 || strcmp(k, "dns_upstream") == 0) {
      return usbox_err_set(err, EINVAL, ".network.%s: must be a string", k);
    } else {
      return usbox_err_set(err, EINVAL, ".network.%.64s: unknown field (allow, mode, dns_upstream)",
                           k);
    }
  }
  return 0;
}

/* The upstream as --dns-upstream takes it: ADDR:PORT, [V6]:PORT. */
static void format_endpoint(const struct sockaddr_storage *ss, char *out, size_t size)
{
  char a[INET6_ADDRSTRLEN] = "";
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
    snprintf(out, size, "[%s]:%u", a, ntohs(in6->sin6_port));
  } else {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
    snprintf(out, size, "%s:%u", a, ntohs(in->sin_port));
  }
}

struct cJSON *net_policy_to_json(const struct net_policy *n)
{
  cJSON *o = cJSON_CreateObject();
  const char *mode = n->mode == NET_MODE_HOST ? "host" : n->mode_none ? "none" : "filtered";
  cJSON *allow = NULL;
  if (cJSON_AddStringToObject(o, "mode", mode) == NULL ||
      (allow = cJSON_AddArrayToObject(o, "allow")) == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  for (size_t i = 0; i < n->nrules; i++)
    cJSON_AddItemToArray(allow, cJSON_CreateString(n->rules[i].text));
  if (n->upstream_len > 0) {
    char text[INET6_ADDRSTRLEN + 16];
    format_endpoint(&n->upstream, text, sizeof text);
    cJSON_AddStringToObject(o, "dns_upstream", text);
  }
  return o;
}

/* The nameservers of the host's resolv.conf, as glibc reads them (at most
 * three; none means 127.0.0.1). Link-local addresses with a scope are
 * skipped: the sandbox has no such interface. */
static void host_nameservers(struct net_policy *n, const char *resolv)
{
  cleanup_fclose FILE *f = fopen(resolv, "re");
  char line[512];
  while (f != NULL && fgets(line, sizeof line, f) != NULL && n->nresolvers < NET_MAX_RESOLVERS) {
    char addr[128];
    if (sscanf(line, " nameserver %127s", addr) != 1 || strchr(addr, '%') != NULL)
      continue;
    if (net_addr_parse(addr, &n->resolvers[n->nresolvers]) == 0)
      n->nresolvers++;
  }
  if (n->nresolvers == 0)
    net_addr_parse("127.0.0.1", &n->resolvers[n->nresolvers++]);
}

static bool policy_has_mount(const struct policy *p, const char *dest)
{
  for (size_t i = 0; i < p->nmounts; i++)
    if (strcmp(p->mounts[i].dest, dest) == 0)
      return true;
  return false;
}

bool net_policy_needs_relay(const struct net_policy *n)
{
  for (size_t i = 0; i < n->nrules; i++)
    if ((n->rules[i].kind == NET_HOST_NAME || n->rules[i].kind == NET_HOST_SUFFIX) &&
        !n->rules[i].any_protocol)
      return true;
  return false;
}

/* A rule that can never match anything is a mistake: said at start, not
 * left to silence. The sandbox's own host name is answered inside (its
 * loopback) and never resolved; the resolver's address and port are always
 * the sandbox's resolver (netstack-shim/rules.h, net_decide). */
static int check_rules_match(const struct policy *p, usbox_err_t *err)
{
  const struct net_policy *n = &p->net;
  char own[NET_NAME_MAX];
  bool have_own = net_name_canon(p->hostname, own, sizeof own) == 0;
  for (size_t i = 0; i < n->nrules; i++) {
    const struct net_rule *r = &n->rules[i];
    if (have_own && r->kind == NET_HOST_NAME && strcmp(r->name, own) == 0)
      return usbox_err_set(err, EINVAL,
                           "--net-allow %s: %s is the sandbox's own host name, answered inside "
                           "with its loopback: the rule can never match",
                           r->text, own);
    for (size_t k = 0; k < n->nresolvers; k++) {
      bool whole = r->prefix == (r->addr.family == AF_INET ? 32 : 128);
      if (r->kind == NET_HOST_IP && whole && net_addr_equal(&r->addr, &n->resolvers[k]) &&
          r->port_lo == NET_RESOLVER_PORT && r->port_hi == NET_RESOLVER_PORT)
        return usbox_err_set(err, EINVAL,
                             "--net-allow %s: the sandbox's resolver answers there (allowed "
                             "names are resolved through it): the rule can never match",
                             r->text);
    }
  }
  return 0;
}

int net_policy_finish(struct policy *p, usbox_err_t *err)
{
  struct net_policy *n = &p->net;
  if (n->mode_none && n->nrules > 0)
    return usbox_err_set(err, EINVAL, "--net none and --net-allow contradict each other");
  if (n->mode == NET_MODE_HOST)
    return 0;
  host_nameservers(n, "/etc/resolv.conf");
  /* upstream: the host's first nameserver, reached from the host's network */
  if (n->upstream_len == 0) {
    char text[64];
    net_addr_format(&n->resolvers[0], text, sizeof text);
    parse_endpoint(text, 53, &n->upstream, &n->upstream_len);
  }
  if (check_rules_match(p, err) < 0)
    return -1;
  for (size_t i = 0; net_hidden_sockets[i] != NULL; i++) {
    struct stat st;
    if (lstat(net_hidden_sockets[i], &st) == 0 && !policy_has_mount(p, net_hidden_sockets[i]) &&
        policy_add_hidden_by(p, net_hidden_sockets[i],
                             "filtered network: the host's resolver socket", err) < 0)
      return -1;
  }
  return 0;
}
