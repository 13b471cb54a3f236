/* The extended attributes a commit carries from the upper layer to the
 * host: the user.* namespace only, and not overlayfs's own (user.overlay.*,
 * the whiteouts and opaque marks of a layer mounted with userxattr). Never
 * security.* (a file capability an upper could hold must not reach the
 * host) nor trusted.*. docs/overlay.md. */
#ifndef USBOX_OVERLAY_USER_XATTR_H
#define USBOX_OVERLAY_USER_XATTR_H

#include <stdbool.h>

/* Whether fds a and b (regular files or directories) carry the same user
 * attributes, names and values. An fd whose attributes cannot be read
 * counts as having none. */
bool user_xattrs_equal(int a, int b);

/* Make to's user attributes from's: set each of from's, remove those from
 * lacks. 0, or -1 with errno. */
int user_xattrs_copy(int from, int to);

#endif
