/* Paths as text. */
#ifndef USBOX_COMMON_PATH_H
#define USBOX_COMMON_PATH_H

#include <stdbool.h>
#include <string.h>

/* Whether the absolute path is dir or below it, component-wise ("/a/bc" is
 * not below "/a/b"). */
static inline bool path_at_or_below(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return path[0] == '/';
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

#endif
