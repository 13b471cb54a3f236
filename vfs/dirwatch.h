/* Change watches on directories' own inodes, for the walk cache
 * (vfs/dcache.c): one fanotify group reporting file handles
 * (FAN_REPORT_FID), an inode mark per directory, events named by the
 * directory's fsid and file handle.
 *
 * Why fanotify and not inotify: an inotify watch on a directory always
 * covers its children too (FS_EVENT_ON_CHILD), so a watch asking for
 * IN_ATTRIB (the directory's own chmod, chown, ACL, xattr: what its
 * permissions for a walk depend on) makes the kernel walk every dentry it
 * has cached under that directory to flag it as watched, under a lock:
 * 0.3-1.5 ms for /, /usr/bin or /etc here, 13 ms for a /tmp with many
 * cached negative entries, on the first call of every program that walks
 * them. A fanotify mark without FAN_EVENT_ON_CHILD asks for the
 * directory's own events only (5-8 µs a mark), and it still gets every
 * change that sets the directory's ctime: entries created, removed or
 * renamed in it (FAN_CREATE, FAN_DELETE, FAN_MOVED_FROM, FAN_MOVED_TO,
 * with FAN_ONDIR for subdirectories), its own attributes (FAN_ATTRIB),
 * itself moved or removed (FAN_MOVE_SELF, FAN_DELETE_SELF); a child's own
 * attributes are no longer reported (the cache reads an object's
 * attributes from its fd at every answer anyway).
 *
 * The same holds across groups: the kernel walks the children when the
 * union of an inode's marks first watches children, so one inotify watch
 * (FS_EVENT_ON_CHILD) beside a mark asking for FAN_ATTRIB costs the walk
 * again (/etc, where the hidden paths' watch was, 0.85 ms a run): usbox's
 * other directory watch (sentry/hidden_watch.c) is a group of these too.
 *
 * Unprivileged processes may make such a group (Linux 5.13); the key of
 * a directory is what name_to_handle_at(AT_HANDLE_FID) gives for it
 * (Linux 6.5), documented to be the handle fanotify reports. Without
 * either, no watch is made and the cache reads ctimes. */
#ifndef USBOX_VFS_DIRWATCH_H
#define USBOX_VFS_DIRWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* fsid (8 bytes), then a struct file_handle (handle_bytes, handle_type,
 * up to MAX_HANDLE_SZ bytes): as an event's FID record holds them. */
#define DIRWATCH_KEY_MAX (8 + 8 + 128)
struct dirwatch_key {
  uint32_t len;
  unsigned char bytes[DIRWATCH_KEY_MAX];
};

/* The largest event a group sends: metadata, one FID record (with a
 * named group's, the entry's name and its NUL after the handle). */
#define DIRWATCH_EVENT_MAX (24 + 4 + DIRWATCH_KEY_MAX + 256)

/* A new group (non-blocking, close-on-exec), or -1 with errno. */
int dirwatch_open(void);

/* A group whose events also name the entry a change was made to
 * (FAN_REPORT_DFID_NAME, Linux 5.9): a create, removal or rename in a
 * watched directory is one event per name (two for a rename inside it),
 * each keyed by the directory; the directory's own changes (its
 * attributes, itself removed or moved) name no entry. Where the kernel
 * has no such groups, an ordinary one (events name no entry). *named
 * says which; *files whether its marks on files hear every change of
 * their link count (dirwatch_mark_file). */
int dirwatch_open_named(bool *named, bool *files);

/* The key of directory fd (any fd of it, O_PATH too). 0, or -errno. */
int dirwatch_key_of(int fd, struct dirwatch_key *key);

/* The key's two parts: the fsid of fd's filesystem (the same for every
 * directory of one device, so a caller may keep it), and the key made of
 * a known fsid and fd's handle. 0, or -errno. */
#define DIRWATCH_FSID_LEN 8
int dirwatch_fsid_of(int fd, unsigned char fsid[DIRWATCH_FSID_LEN]);
int dirwatch_key_with_fsid(int fd, const unsigned char fsid[DIRWATCH_FSID_LEN],
                           struct dirwatch_key *key);

/* What a mark asks for (a group's marks all ask for the same). */
enum dirwatch_what {
  DIRWATCH_CTIME, /* every change that sets the directory's ctime (the walk cache) */
  DIRWATCH_NAMES, /* entries made, removed, moved in or out (hidden paths made later) */
};

/* Marks (add) or unmarks the inode of directory fd in group. 0, or -errno. */
int dirwatch_mark(int group, int fd, enum dirwatch_what what, bool add);

/* Marks the inode of fd (a non-directory; any fd of it, O_PATH too) for
 * changes of its attributes, its link count included: link(2) of it
 * anywhere, unlink(2) of any of its names. Such an event is the group's
 * only one with dirwatch_event.file_changed. Needs read permission on the
 * file. 0, or -errno. */
int dirwatch_mark_file(int group, int fd);
uint64_t dirwatch_key_hash(const struct dirwatch_key *key);
bool dirwatch_key_eq(const struct dirwatch_key *a, const struct dirwatch_key *b);

/* What one event says: a change to the directory with key, or that any
 * directory may have changed (the queue overflowed, or an event without a
 * usable FID record: the caller must count a change on every watch). */
struct dirwatch_event {
  bool all;
  struct dirwatch_key key;
  /* A named group's: the entry changed in that directory (NUL-terminated,
   * within the event); NULL: any of its entries, or the directory itself */
  const char *name;
  /* a file marked with dirwatch_mark_file changed (an event with .all
   * may have been one too: lost events are any) */
  bool file_changed;
};

/* Calls fn for each event in buf (len bytes read from the group); bytes
 * past the last whole event are ignored. Returns the number of events. */
size_t dirwatch_parse(const void *buf, size_t len,
                      void (*fn)(void *ctx, const struct dirwatch_event *ev), void *ctx);

#endif
