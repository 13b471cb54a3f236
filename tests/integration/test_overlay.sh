#!/usr/bin/env bash
# --overlay and sessions (docs/overlay.md): real tools work on a
# copy-on-write tree, the host stays byte-for-byte unchanged until
# `usbox commit`, diff says exactly what changed, commit applies it (all of
# it, or the paths named; a path the host changed since is a conflict), and
# hiding holds for a hard link of a hidden file under an overlay.
. "$(dirname "$0")/lib.sh"

# The trees live outside the scratch root (the test shim binds that
# writable) and outside /tmp (the sandbox's own): in /var/tmp. usbox runs
# without the shim: nothing inside needs the source or build trees.
W=$(mktemp -d /var/tmp/usbox-ovl.XXXXXX)
trap 'rc=$?; rm -rf "$W"; (exit $rc); _on_exit' EXIT
USBOX=$USBOX_REAL
export USBOX_STATE_DIR=$TMPROOT/state
export H=$W/host # the host tree the agent works on (the functions run inside read it)
export G=$W/git W  # a git repository, its own session

# what a tree is: every path with its type, mode, size, link target and bytes
manifest() {
  (cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum)
}

setup_host() {
  rm -rf "$H" && mkdir -p "$H/src/sub" "$H/gone/deep" "$H/keepdir"
  echo alpha >"$H/src/a.txt"
  echo beta >"$H/src/sub/b.txt"
  printf 'line1\nline2\nline3\n' >"$H/edit.txt"
  echo old >"$H/gone/deep/x"
  echo same >"$H/keepdir/same"
  printf '\0\1\2binary' >"$H/blob.bin"
  echo mode >"$H/mode.sh"
  ln -s src/a.txt "$H/link"
  tar -C "$H/src" -czf "$W/src.tgz" .
}
setup_host
manifest "$H" >"$TMPROOT/host.before"
src_inode=$(stat -c %i "$H/src")

# ---- tools on an overlaid tree; the host unchanged ----
agent_work() {
  cd "$H" &&
    mv src moved &&                     # mv of a directory
    rm -rf gone &&                      # rm -rf of a subtree
    mkdir -p unpacked && tar -C unpacked -xzf "$W/src.tgz" &&
    sed -i 's/line2/LINE2/' edit.txt &&
    chmod 755 mode.sh &&
    printf 'new\n' >new.txt &&
    /usr/bin/python3 -c 'import os; os.makedirs("py/pkg"); open("py/pkg/m.py","w").write("x = 1\n")' &&
    printf '\3\4' >>blob.bin &&
    ln -sf moved/a.txt link &&
    cat moved/sub/b.txt edit.txt && find . | LC_ALL=C sort
}
expect_exit 0 "tools work on an overlaid tree" -- \
  "$USBOX" exec --session s1 -- bash -c "$(declare -f agent_work); agent_work"
grep -q LINE2 "$OUT" && pass "the agent sees its own changes" || fail "the agent does not see its edit"
manifest "$H" >"$TMPROOT/host.after"
if cmp -s "$TMPROOT/host.before" "$TMPROOT/host.after"; then
  pass "the host tree is byte-for-byte unchanged after the run"
else
  fail "the host changed before commit"
  diff "$TMPROOT/host.before" "$TMPROOT/host.after" | head -20
fi

# ---- diff ----
expect_exit 0 "usbox diff --stat" -- "$USBOX" diff s1 --stat
sed "s|$H|H|g" "$OUT" >"$TMPROOT/stat.got"
cat >"$TMPROOT/stat.want" <<'WANT'
M  H/blob.bin  (binary)
M  H/edit.txt  | +1 -1
D  H/gone/
M  H/link
M  H/mode.sh  (mode 0644 -> 0755)
R  H/src/ -> H/moved/
A  H/new.txt  | +1 -0
A  H/py/
A  H/py/pkg/
A  H/py/pkg/m.py  | +1 -0
A  H/unpacked/
A  H/unpacked/a.txt  | +1 -0
A  H/unpacked/sub/
A  H/unpacked/sub/b.txt  | +1 -0
14 changes
WANT
if cmp -s "$TMPROOT/stat.want" "$TMPROOT/stat.got"; then
  pass "diff --stat lists exactly the changes, in order"
else
  fail "diff --stat differs from the expected"
  diff "$TMPROOT/stat.want" "$TMPROOT/stat.got"
fi
expect_exit 0 "diff of a path inside a renamed directory" -- "$USBOX" diff --stat s1 "$H/moved/sub/b.txt"
expect_eq "shows the directory's rename (applied whole)" "R  $H/src/ -> $H/moved/
1 change" "$(cat "$OUT")"
expect_exit 0 "usbox diff (patch)" -- "$USBOX" diff s1 "$H/edit.txt"
expect_grep "a unified diff of a text change" '^\+LINE2$' "$OUT"
expect_grep "the old line too" '^-line2$' "$OUT"
expect_exit 0 "usbox diff --json" -- "$USBOX" diff s1 --json "$H/mode.sh" "$H/blob.bin"
/usr/bin/python3 - "$OUT" "$H" <<'PY' && pass "diff --json: paths, kinds, modes, binary" || fail "diff --json content"
import json, sys
v = json.load(open(sys.argv[1])); h = sys.argv[2]
want = [(h + "/blob.bin", "modified", True), (h + "/mode.sh", "mode", False)]
got = [(c["path"], c["change"], c["binary"]) for c in v]
assert got == want, got
assert v[1]["old_mode"] == "0644" and v[1]["new_mode"] == "0755", v[1]
PY

# ---- a session goes on; a conflict; a partial commit; the rest ----
expect_exit 0 "a later run continues the session" -- \
  "$USBOX" exec --session s1 -- sh -c "cat $H/new.txt && echo more >>$H/new.txt"
expect_eq "it saw the first run's file" "new" "$(cat "$OUT")"
echo "host edit" >>"$H/edit.txt" # the person changes a file the agent changed
expect_exit 1 "commit refuses a conflict" -- "$USBOX" commit s1
expect_grep "the conflict is named" "edit.txt: changed on the host" "$ERR"
[ ! -e "$H/new.txt" ] && pass "nothing applied on a conflict" || fail "commit applied despite a conflict"
expect_exit 0 "a partial commit of paths without conflict" -- "$USBOX" commit s1 "$H/new.txt" "$H/py"
[ "$(cat "$H/new.txt")" = "$(printf 'new\nmore')" ] && [ -f "$H/py/pkg/m.py" ] &&
  pass "the named paths are applied" || fail "partial commit did not apply new.txt/py"
[ -d "$H/src" ] && [ ! -e "$H/moved" ] && pass "the others are not" || fail "partial commit applied more"
expect_exit 0 "commit --force applies the rest" -- "$USBOX" commit --force s1
expect_exit 0 "the view inside, after" -- "$USBOX" exec --session s1 -- bash -c \
  "$(declare -f manifest); manifest $H"
cp "$OUT" "$TMPROOT/inside"
manifest "$H" >"$TMPROOT/host.committed"
if cmp -s "$TMPROOT/inside" "$TMPROOT/host.committed"; then
  pass "after commit the host matches what the agent saw"
else
  fail "host and sandbox differ after commit"
  diff "$TMPROOT/inside" "$TMPROOT/host.committed" | head -20
fi
expect_exit 0 "nothing left to diff" -- "$USBOX" diff s1 --stat
expect_eq "diff after commit" "0 changes" "$(cat "$OUT")"
expect_eq "a renamed directory is renamed on the host (its inode kept)" "$src_inode" \
  "$(stat -c %i "$H/moved")"

# ---- the host changes a file while the agent, which changed it first, runs ----
echo orig >"$W/race.txt"
"$USBOX" exec --session race -- sh -c "echo agent >>$W/race.txt; sleep 3" &
racer=$!
track_bg $racer
for _ in $(seq 50); do grep -qs race.txt "$USBOX_STATE_DIR"/sessions/race/layers/*/baseline && break; sleep 0.1; done
echo host >>"$W/race.txt" # after the agent's first change: the record says "orig"
wait_bg $racer 20 >/dev/null
expect_exit 1 "a host change during the run is a conflict" -- "$USBOX" commit race
expect_grep "named" "race.txt: changed on the host" "$ERR"
expect_eq "and the host keeps its change" "$(printf 'orig\nhost')" "$(cat "$W/race.txt")"

# ---- git on an overlay ----
rm -rf "$G" && mkdir "$G" && git -C "$G" init -q && echo one >"$G/f" && git -C "$G" add f &&
  git -C "$G" -c user.name=t -c user.email=t@t commit -qm one
git_head=$(git -C "$G" rev-parse HEAD)
expect_exit 0 "git checkout -b and commit on an overlay" -- "$USBOX" exec --session g -- sh -c \
  "cd $G && git checkout -qb topic && echo two >>f && git -c user.name=t -c user.email=t@t commit -qam two && git log --oneline | wc -l"
expect_eq "the agent's repository has two commits" 2 "$(cat "$OUT")"
expect_eq "the host's repository is untouched" "$git_head" "$(git -C "$G" rev-parse HEAD)"
expect_exit 0 "commit the git session" -- "$USBOX" commit g
expect_eq "now the host has the branch" 2 "$(git -C "$G" log --oneline topic | wc -l)"
expect_exit 0 "and the repository is sound (git fsck)" -- git -C "$G" fsck

# ---- memory overlay, anonymous overlay ----
expect_exit 0 "--overlay=memory" -- "$USBOX" exec --overlay=memory -- sh -c "echo m >$H/mem && cat $H/mem"
[ ! -e "$H/mem" ] && pass "memory overlay: nothing on the host" || fail "memory overlay wrote the host"
expect_exit 0 "--overlay without a session" -- "$USBOX" exec --overlay -- sh -c "echo a >$H/anon"
[ ! -e "$H/anon" ] && pass "anonymous overlay: nothing on the host" || fail "anonymous overlay wrote the host"
expect_exit 0 "sessions" -- "$USBOX" sessions --json
/usr/bin/python3 -c 'import json,sys; n=sorted(s["name"] for s in json.load(open(sys.argv[1]))); assert n==["g","race","s1"], n' "$OUT" &&
  pass "only the named sessions are kept" || fail "sessions: $(cat "$OUT")"

# ---- hidden by identity under an overlay ----
mkdir -p "$W/secret" && echo TOPSECRET >"$W/secret/key"
ln "$W/secret/key" "$H/alias" # another name for a hidden file
expect_exit 0 "a hard link of a hidden file under an overlay" -- \
  "$USBOX" exec --hide "$W/secret" --session hid -- /usr/bin/python3 -c "
import os
p = '$H/alias'
for name, f in [('read', lambda: open(p).read()), ('open-rw', lambda: os.open(p, os.O_RDWR | os.O_CREAT)),
                ('link', lambda: os.link(p, '$H/a2')), ('rename', lambda: os.rename(p, '$H/a3')),
                ('chmod', lambda: os.chmod(p, 0o777))]:
    try:
        f(); print(name, 'allowed')
    except OSError as e:
        print(name, e.errno)
print('listed', 'alias' in os.listdir('$H'))"
# (an O_CREAT open says ENOENT as the others do; it was ELOOP, 16 creates
# that met the name)
expect_eq "every way to it is refused, and it is not listed" \
  "$(printf 'read 2\nopen-rw 2\nlink 2\nrename 2\nchmod 2\nlisted False')" "$(cat "$OUT")"
if grep -rqs TOPSECRET "$USBOX_STATE_DIR"; then fail "the hidden file was copied into a layer"; else
  pass "no layer holds the hidden file"; fi

# ---- ways around copy-on-write, as an agent would try them ----
mkdir -p "$W/cow" "$W/other" && echo host-bytes >"$W/cow/f" && echo b >"$W/other/g"
manifest "$W" >"$W/../cow.before.$$"
expect_exit 0 "writes through a /proc fd, mmap, a hard link, a rename to another bind" -- \
  "$USBOX" exec --overlay=memory --rw "$W/other" -- /usr/bin/python3 -c "
import mmap, os
f = '$W/cow/f'
ro = os.open(f, os.O_RDONLY)
try:  # re-open the read-only fd for writing through /proc (usbox bounds a
      # re-open by the open file's own access: EACCES, on any mount)
    w = os.open('/proc/self/fd/%d' % ro, os.O_WRONLY | os.O_APPEND); os.write(w, b'proc\\n'); print('proc ok')
except OSError as e: print('proc', e.errno)
try:  # a shared writable mapping of a read-only fd
    mmap.mmap(ro, 0, mmap.MAP_SHARED, mmap.PROT_WRITE); print('mmap ok')
except (OSError, ValueError) as e: print('mmap', getattr(e, 'errno', 'refused'))
os.link(f, '$W/cow/hard'); open('$W/cow/hard', 'a').write('link\\n'); print('link ok')
try:
    os.rename(f, '$W/other/moved'); print('rename ok')
except OSError as e: print('rename', e.errno)
print(open(f).read().strip().replace(chr(10), ' '))"
expect_eq "each is a write to the copy, or refused" \
  "$(printf 'proc 13\nmmap 13\nlink ok\nrename 18\nhost-bytes link')" "$(cat "$OUT")"
manifest "$W" >"$W/../cow.after.$$"
cmp -s "$W/../cow.before.$$" "$W/../cow.after.$$" && pass "and the host is unchanged" ||
  { fail "the host changed"; diff "$W/../cow.before.$$" "$W/../cow.after.$$" | head; }
rm -f "$W/../cow.before.$$" "$W/../cow.after.$$"

# ---- extended attributes, FIFOs, sockets ----
# user.* attributes and FIFOs the agent makes are committed (an attribute
# removed is removed); a socket it binds is not, and a commit that would
# include one applies nothing, naming it
X=$W/xa
rm -rf "$X" && mkdir -p "$X/d" && echo keep >"$X/f" && echo two >"$X/g"
setfattr -n user.gone -v old "$X/g"
manifest "$X" >"$TMPROOT/xa.before"
expect_exit 0 "attributes and a FIFO on an overlay" -- "$USBOX" exec --session xa -- sh -c \
  "cd $X && setfattr -n user.note -v hello f && setfattr -n user.d -v dd d && setfattr -x user.gone g &&
   echo new >n && setfattr -n user.n -v nn n && mkfifo -m 0640 p &&
   /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")' &&
   getfattr --absolute-names -d f n d | grep -c user"
expect_eq "the agent sees its attributes" 3 "$(cat "$OUT")"
manifest "$X" >"$TMPROOT/xa.after"
cmp -s "$TMPROOT/xa.before" "$TMPROOT/xa.after" && [ -z "$(getfattr --absolute-names -d "$X/f")" ] &&
  pass "attributes: the host unchanged before commit" || fail "attributes reached the host"
expect_exit 0 "diff shows attribute changes and special files" -- "$USBOX" diff --stat xa
for want in "M  $X/d/  (xattrs)" "M  $X/f  (xattrs)" "M  $X/g  (xattrs)" "A  $X/p  (fifo)" \
  "A  $X/sock  (socket)"; do
  grep -qxF "$want" "$OUT" && pass "diff: $want" || fail "diff lacks [$want]: $(cat "$OUT")"
done
expect_exit 1 "commit refuses a socket" -- "$USBOX" commit xa
expect_grep "and names it" "$X/sock is a socket" "$ERR"
manifest "$X" >"$TMPROOT/xa.after"
cmp -s "$TMPROOT/xa.before" "$TMPROOT/xa.after" && pass "a refused commit applied nothing" ||
  fail "a refused commit changed the host"
expect_exit 0 "commit the rest" -- "$USBOX" commit xa "$X/d" "$X/f" "$X/g" "$X/n" "$X/p"
expect_eq "committed: the attributes" "user.note=hello user.n=nn user.d=dd" \
  "$(getfattr --absolute-names -d "$X/f" "$X/n" "$X/d" | grep '^user' | tr -d '"' | tr '\n' ' ' | sed 's/ $//')"
[ -z "$(getfattr --absolute-names -d "$X/g")" ] && pass "committed: a removed attribute is removed" ||
  fail "committed: user.gone is still on g"
[ -p "$X/p" ] && [ "$(stat -c %a "$X/p")" = 640 ] && pass "committed: the FIFO, its mode" ||
  fail "committed: no FIFO p with mode 0640"
[ ! -e "$X/sock" ] && pass "the socket stays out" || fail "the socket was committed"
expect_exit 0 "diff after" -- "$USBOX" diff --stat xa
expect_eq "only the socket is left" "A  $X/sock  (socket)
1 change" "$(cat "$OUT")"
"$USBOX" discard xa

# ---- lifecycle and bad input ----
expect_exit 0 "discard" -- "$USBOX" discard hid
[ ! -e "$USBOX_STATE_DIR/sessions/hid" ] && pass "discard removes the session" || fail "session left"
expect_exit 125 "a bad session name" -- "$USBOX" exec --session ../x -- true
expect_grep "says why" "session name" "$ERR"
expect_exit 125 "--session with --overlay=memory" -- "$USBOX" exec --overlay=memory --session m -- true
expect_exit 125 "diff of a session that does not exist" -- "$USBOX" diff nosuch
expect_exit 125 "a bad --overlay mode" -- "$USBOX" exec --overlay=tape -- true
"$USBOX" exec --session busy -- sleep 5 &
busy=$!
track_bg $busy
for _ in $(seq 50); do [ -e "$USBOX_STATE_DIR/sessions/busy/lock" ] && break; sleep 0.1; done
sleep 0.5
expect_exit 125 "a session in use" -- "$USBOX" exec --session busy -- true
expect_grep "says it is in use" "in use" "$ERR"
expect_exit 125 "commit of a session in use" -- "$USBOX" commit busy
kill $busy 2>/dev/null
finish
