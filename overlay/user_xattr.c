#include "overlay/user_xattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "common/cleanup.h"

#define LIST_MAX 65536
#define VALUE_MAX 65536

static bool carried(const char *name)
{
  return strncmp(name, "user.", 5) == 0 && strncmp(name, "user.overlay.", 13) != 0;
}

/* fd's attribute names (NUL-separated) into a buffer of LIST_MAX; the
 * length, or -1. ENOTSUP (a filesystem without them) is an empty list. */
static ssize_t list_names(int fd, char *buf)
{
  ssize_t n = flistxattr(fd, buf, LIST_MAX);
  if (n < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
    return 0;
  return n;
}

/* name's value on fd into buf (VALUE_MAX); its length, or -1 */
static ssize_t value_of(int fd, const char *name, char *buf)
{
  return fgetxattr(fd, name, buf, VALUE_MAX);
}

/* Every carried attribute of a is on b with the same value. */
static bool contained(int a, int b, char *names, char *va, char *vb)
{
  ssize_t n = list_names(a, names);
  if (n < 0)
    return false;
  for (char *p = names; p < names + n; p += strlen(p) + 1) {
    if (!carried(p))
      continue;
    ssize_t la = value_of(a, p, va), lb = value_of(b, p, vb);
    if (la < 0 || la != lb || memcmp(va, vb, (size_t)la) != 0)
      return false;
  }
  return true;
}

bool user_xattrs_equal(int a, int b)
{
  cleanup_free char *names = malloc(LIST_MAX), *va = malloc(VALUE_MAX), *vb = malloc(VALUE_MAX);
  if (names == NULL || va == NULL || vb == NULL)
    return false;
  return contained(a, b, names, va, vb) && contained(b, a, names, va, vb);
}

int user_xattrs_copy(int from, int to)
{
  cleanup_free char *names = malloc(LIST_MAX), *value = malloc(VALUE_MAX);
  if (names == NULL || value == NULL)
    return errno = ENOMEM, -1;
  ssize_t n = list_names(from, names);
  for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
    ssize_t len = carried(p) ? value_of(from, p, value) : -2;
    if (len == -1 || (len >= 0 && fsetxattr(to, p, value, (size_t)len, 0) < 0))
      return -1;
  }
  if (n < 0)
    return -1;
  /* then what to has and from lacks */
  n = list_names(to, names);
  for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1)
    if (carried(p) && fgetxattr(from, p, NULL, 0) < 0 && errno == ENODATA &&
        fremovexattr(to, p) < 0 && errno != ENODATA)
      return -1;
  return n < 0 ? -1 : 0;
}
