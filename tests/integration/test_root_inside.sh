#!/usr/bin/env bash
# Root inside the sandbox (issue 15): by default a root agent keeps what
# root keeps in a default container, for what it owns (CHOWN,
# DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE), so tar -x of
# other owners' files, chown, chmod and permission overrides work in its
# writable places, as natively for root with those capabilities (setpriv);
# --cap-drop ALL is root without any, as natively without them; --user
# runs the program as another user. (test_cap_scope.sh: those capabilities
# count for nothing on the read-only host.)
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "test_root_inside: needs root" >&2; exit 1; }
ROOT_CAPS=+chown,+dac_override,+fowner,+fsetid,+kill,+net_bind_service
chmod 755 "$TMPROOT"

# as: run CMD with root's default capabilities natively (setpriv); inside
# usbox the sandbox already gave them (its bounding set is already cut)
cat >"$TMPROOT/as" <<EOF
#!/bin/sh
set=\$1; shift
if grep -q '^CapBnd:.*ffff' /proc/self/status; then
  case \$set in
    root) exec setpriv --bounding-set=-all,$ROOT_CAPS --inh-caps=-all,$ROOT_CAPS \
            --ambient-caps=-all,$ROOT_CAPS --no-new-privs "\$@" ;;
    nocaps) exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs "\$@" ;;
  esac
fi
exec "\$@"
EOF
chmod 755 "$TMPROOT/as"
AS=$TMPROOT/as

# an archive of files with other owners, modes and times
mkdir -p "$TMPROOT/src/tree/sub"
echo a >"$TMPROOT/src/tree/a"; echo b >"$TMPROOT/src/tree/sub/b"; ln -s a "$TMPROOT/src/tree/link"
chown 4243:4244 "$TMPROOT/src/tree/a"; chown -h 4245:4245 "$TMPROOT/src/tree/link"
chown 4246:4247 "$TMPROOT/src/tree/sub" "$TMPROOT/src/tree/sub/b"
chmod 0640 "$TMPROOT/src/tree/a"; chmod 0700 "$TMPROOT/src/tree/sub"
touch -h -d '2001-02-03 04:05:06' "$TMPROOT/src/tree/a" "$TMPROOT/src/tree/sub/b" "$TMPROOT/src/tree/link"
tar -C "$TMPROOT/src" -cf "$TMPROOT/tree.tar" tree
LIST='find tree | sort | while read -r f; do stat -c "%n %u:%g %A" "$f"; [ -f "$f" ] && [ ! -L "$f" ] && stat -c %Y "$f"; done'

same_as_native "root: tar -x keeps other owners, modes and times (a writable place)" -- \
  "$AS" root sh -c "tar -xf $TMPROOT/tree.tar; echo tar=\$?; $LIST"
same_as_native "root: chown, chmod, reading others' files (a writable place)" -- \
  "$AS" root sh -c "tar -xf $TMPROOT/tree.tar && cat tree/sub/b && chmod 0604 tree/a &&
    chown 4250:4251 tree/sub/b && chown -h 0:0 tree/link && touch -d @1000000000 tree/a; echo rc=\$?; $LIST"
same_as_native "root: python's tarfile extracts as root does" -- \
  "$AS" root python3 -c "
import tarfile, os, stat
tarfile.open('$TMPROOT/tree.tar').extractall('.')
for root, dirs, files in sorted(os.walk('tree')):
    for n in sorted(dirs + files):
        st = os.lstat(os.path.join(root, n))  # (links and directories: made now)
        print(n, st.st_uid, st.st_gid, oct(st.st_mode), int(st.st_mtime) if stat.S_ISREG(st.st_mode) else '')"
USBOX_EXEC_ARGS=(--cap-drop ALL)
same_as_native "--cap-drop ALL: tar -x fails to give files away, as natively without capabilities" -- \
  "$AS" nocaps sh -c "tar -xf $TMPROOT/tree.tar; echo tar=\$?; $LIST"
USBOX_EXEC_ARGS=()

# the private /tmp is a writable place too
expect_exit 0 "root: tar -x in the private /tmp" -- \
  "$USBOX" exec -- sh -c "cd /tmp && tar -xf $TMPROOT/tree.tar && stat -c '%u:%g %a' tree/a tree/sub/b"
expect_eq "owners and modes as archived" "4243:4244 640
4246:4247 644" "$(cat "$OUT")"

# ---------------------------------------------------------------- --user

mkdir -p "$TMPROOT/u" && chmod 777 "$TMPROOT/u"
expect_exit 0 "--user 4242:4243" -- "$USBOX" exec --user 4242:4243 --rw "$TMPROOT/u" -- \
  sh -c "id -u; id -g; id -G; grep ^CapEff: /proc/self/status; touch $TMPROOT/u/made"
expect_eq "the program's ids, no groups, no capabilities" "4242
4243
4243
CapEff:	0000000000000000" "$(cat "$OUT")"
expect_eq "what it made is the user's on the host" 4242:4243 "$(stat -c %u:%g "$TMPROOT/u/made")"
expect_exit 0 "--user nobody (a name)" -- "$USBOX" exec --user nobody -- id -un
expect_eq "the host's user nobody" nobody "$(cat "$OUT")"
# natively the same user, with that capability kept as ambient, has the
# same sets (and binds below 1024; natively the test takes a free port)
native_user() { setpriv --reuid=4242 --regid=4242 --clear-groups --inh-caps=-all,+net_bind_service \
  --ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service --no-new-privs "$@"; }
expect_exit 0 "natively: uid 4242 keeping NET_BIND_SERVICE" -- native_user \
  sh -c 'grep -E "^Cap(Eff|Amb):" /proc/self/status; /usr/bin/python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(\"bound\")"'
cp "$OUT" "$TMPROOT/native-user.out"
expect_exit 0 "inside: --user 4242 --cap-add NET_BIND_SERVICE" -- \
  "$USBOX" exec --user 4242 --cap-add NET_BIND_SERVICE -- \
  sh -c 'grep -E "^Cap(Eff|Amb):" /proc/self/status; /usr/bin/python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 80)); print(\"bound\")"'
expect_eq "the same capabilities as natively, and port 80" "$(cat "$TMPROOT/native-user.out")" "$(cat "$OUT")"
expect_exit 125 "--user of a user that does not exist" -- "$USBOX" exec --user no-such-user-here -- true
expect_grep "says which" "no user no-such-user-here" "$ERR"
USBOX_NB=$(usbox_for_nobody)
expect_exit 125 "--user without root" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
  "$USBOX_NB" exec --user 0 -- true
expect_grep "says why" "needs usbox run as root" "$ERR"
finish
