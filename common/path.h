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

/* snprintf(dst, size, "%s", src) without the format engine, which the
 * walk's hot path paid on every copy: what fits, NUL-terminated (size >
 * 0); returns strlen(src), so that a result >= size says it was cut. */
static inline size_t path_copy(char *dst, size_t size, const char *src)
{
  size_t len = strlen(src), n = len < size ? len : size - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
  return len;
}

#endif
