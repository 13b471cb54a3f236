#include "gofer/protocol.h"

#include <string.h>

bool gofer_path_valid(const char *path, uint32_t len_with_nul)
{
  if (len_with_nul == 0 || len_with_nul > PATH_MAX || path[len_with_nul - 1] != '\0')
    return false;
  size_t len = len_with_nul - 1;
  if (strlen(path) != len)
    return false; /* an embedded NUL */
  if (len == 0)
    return true;
  if (path[0] == '/' || path[len - 1] == '/')
    return false;
  const char *c = path;
  while (*c != '\0') {
    size_t n = strcspn(c, "/");
    if (n == 0 || n > NAME_MAX)
      return false;
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
      return false;
    c += n;
    if (*c == '/')
      c++;
  }
  return true;
}

bool gofer_name_valid(const char *name)
{
  size_t n = strcspn(name, "/");
  if (n == 0 || n > NAME_MAX)
    return false;
  return name[n] == '\0' || (name[n] == '/' && name[n + 1] == '\0');
}
