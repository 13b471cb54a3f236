#include "netstack-shim/sockaddr.h"

#include <errno.h>
#include <string.h>
#include <sys/types.h>
#include <sys/un.h>

#define SUN_PATH_OFF offsetof(struct sockaddr_un, sun_path)

_Static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == NET_UNIX_PATH_MAX,
               "sun_path is the kernel's UNIX_PATH_MAX");

int net_addrlen_check(int len)
{
  return len < 0 || (size_t)len > sizeof(struct sockaddr_storage) ? -EINVAL : 0;
}

int net_msg_namelen(const void *name, int namelen)
{
  if (name == NULL)
    return 0;
  if (namelen < 0)
    return -EINVAL;
  /* the kernel clamps here (a longer buffer is harmless to read from);
   * only the plain address calls refuse a long length */
  if ((size_t)namelen > sizeof(struct sockaddr_storage))
    return (int)sizeof(struct sockaddr_storage);
  return namelen;
}

int net_iov_total(const struct iovec *iov, size_t n, size_t *total)
{
  size_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    if ((ssize_t)iov[i].iov_len < 0 || sum + iov[i].iov_len < sum)
      return -EINVAL;
    sum += iov[i].iov_len;
  }
  *total = sum;
  return 0;
}

int net_unix_addr_decode(const void *sa, size_t len, struct net_unix_addr *out)
{
  memset(out, 0, sizeof *out);
  /* unix_validate_addr: at least one byte of sun_path, at most all of it */
  if (len <= SUN_PATH_OFF || len > sizeof(struct sockaddr_un))
    return -EINVAL;
  sa_family_t family;
  memcpy(&family, sa, sizeof family);
  if (family != AF_UNIX)
    return -EINVAL;
  const char *path = (const char *)sa + SUN_PATH_OFF;
  size_t room = len - SUN_PATH_OFF; /* 1..NET_UNIX_PATH_MAX */
  if (path[0] == '\0') {
    out->kind = NET_UNIX_ABSTRACT;
    out->len = room - 1;
    memcpy(out->name, path + 1, out->len);
    return 0;
  }
  /* unix_mkname_bsd puts a NUL at sa + len: the name is what comes before
   * it, or before an earlier NUL */
  out->kind = NET_UNIX_PATH;
  out->len = strnlen(path, room);
  memcpy(out->name, path, out->len);
  out->name[out->len] = '\0';
  return 0;
}
