#!/usr/bin/env bash
# Attacks on the defences of the security issue, one program per class
# (tests/attacks/attack_*.c), run inside usbox through lib.sh's shim:
#
#   1. deputy rights        attack_deputy        xattrs, others' files, low ports,
#                                                RLIMIT_FSIZE, others' sockets, a race
#   2. hidden by identity   attack_hidden_alias  symlinked homes, binds, host bind
#                                                mounts, hard links, /proc, .., a
#                                                hidden directory made after start
#   3. no window            attack_getdents_race, attack_reopen
#   4. devices, setuid      attack_devices
#   5. unix addresses       attack_unix
#
# Each program prints "ok NAME" / "FAIL NAME: detail" (tests/attacks/attack.h)
# and its races say how often each side was hit. This script builds the host
# fixtures, checks from the host that nothing changed (checksums, getfattr,
# getcap, modes, listings), shows for every class that the same attack
# succeeds natively (the detectors detect), and removes everything it made
# on the host, mounts included, however it ends.
. "$(dirname "$0")/lib.sh" || exit 1
# everything below makes paths under the scratch root: never without one
: "${TMPROOT:?lib.sh sets TMPROOT}"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
for prog in attack_deputy attack_hidden_alias attack_getdents_race attack_reopen attack_devices \
  attack_unix; do
  [ -x "$ATTACKS/$prog" ] || { echo "missing attack program $ATTACKS/$prog" >&2; exit 1; }
done
for tool in setpriv getfattr getcap mknod; do
  command -v "$tool" >/dev/null ||
    { echo "missing $tool (packages attr, libcap2-bin, util-linux)" >&2; exit 1; }
done
RACE_SECONDS=${RACE_SECONDS:-2}
OTHER_ID=4243 USER_ID=4242

# ---------------------------------------------------------------- cleanup
# Host paths outside $TMPROOT and host mounts made here; undone at exit,
# mounts first (a bind mount left behind would keep the directories busy).
HOST_MOUNTS=()
HOST_PATHS=()
cleanup_security() {
  local m p
  for m in "${HOST_MOUNTS[@]}"; do umount -l -- "$m" 2>/dev/null; done
  for p in "${HOST_PATHS[@]}"; do rm -rf -- "$p"; done
}
# shellcheck disable=SC2154 # _rc is set by the trap itself
trap '_rc=$?; cleanup_security; (exit $_rc); _on_exit' EXIT
trap 'exit 143' TERM INT HUP

# host_scratch VAR NAME: VAR gets a new scratch directory of the host
# outside $TMPROOT (the view shows /var/tmp read-only, from the host root),
# removed at exit. (Not a $(...): the list of paths lives in this shell.)
host_scratch() {
  local d
  mkdir -p /var/tmp
  d=$(mktemp -d "/var/tmp/usbox-sec-$2.XXXXXX") || exit 1
  HOST_PATHS+=("$d")
  chmod 755 "$d"
  printf -v "$1" %s "$d"
}

# An unprivileged user must be able to reach the scratch root and run the
# programs: copies of them, and of usbox (lib.sh).
chmod 711 "$TMPROOT"
PROGS=$TMPROOT/progs
mkdir -p "$PROGS"
cp "$ATTACKS"/attack_* "$PROGS/" && chmod 755 "$PROGS" "$PROGS"/*
USBOX_NB=$(usbox_for_nobody)
DROP_CAPS=(setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all --nnp)
AS_USER=(setpriv "--reuid=$USER_ID" "--regid=$USER_ID" --clear-groups)

# ---------------------------------------------------------------- running an attack
# sec_exec LABEL DIR STDIN STDOUT -- CMD...: CMD in DIR with only fds 0-2
# open, stdout to STDOUT ("" means $TMPROOT/LABEL.out), stderr to
# $TMPROOT/LABEL.err. Returns CMD's status.
sec_exec() {
  local label=$1 dir=$2 stdin=$3 out=${4:-$TMPROOT/$1.out}
  shift 4
  [ "$1" = -- ] && shift
  (
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    cd "$dir" && exec timeout -k 5 "$CMD_TIMEOUT" "$@"
  ) <"$stdin" >"$out" 2>"$TMPROOT/$label.err"
}

# sec_judge LABEL WANT RC [STDOUT]: the lines of a finished run.
#   WANT pass: every line ok, exit status 0 (1 with FAIL lines: under usbox
#   that is also usbox passing the agent's status on); no sanitizer report
#   and no warning of usbox about its own operation on stderr.
#   WANT fail: a native run, where the attacks work: it must report FAIL
#   lines (the callers then grep for the lines that must be there).
sec_judge() {
  local label=$1 want=$2 rc=$3 out=${4:-$TMPROOT/$1.out} err=$TMPROOT/$1.err
  local nok nfail line
  nok=$(grep -c '^ok ' "$out")
  nfail=$(grep -c '^FAIL ' "$out")
  if [ "$want" = fail ]; then
    if [ "$nfail" -gt 0 ]; then
      pass "$label: natively the attacks work ($nfail of $((nok + nfail)) checks report them)"
    else
      fail "$label: natively no attack worked: the checks cannot fail (exit status $rc)"
      show stdout "$out"
      show stderr "$err"
    fi
    return 0
  fi
  while IFS= read -r line; do
    fail "$label: ${line#FAIL }"
  done < <(grep '^FAIL ' "$out")
  local want_rc=0
  [ "$nfail" -gt 0 ] && want_rc=1
  if [ $((nok + nfail)) -eq 0 ]; then
    fail "$label: no check reported anything (exit status $rc)"
    show stdout "$out"
    show stderr "$err"
  elif [ "$rc" != "$want_rc" ]; then
    # 124/137: timeout; 128+N: killed by signal N (usbox crashed or killed the agent)
    fail "$label: exit status $rc after $nok ok and $nfail FAIL lines, expected $want_rc"
    tail -5 "$out" | sed 's/^/  | /' >&2
    show stderr "$err"
  elif [ "$nfail" -eq 0 ]; then
    pass "$label: $nok checks"
  fi
  grep '^# ' "$out" | sed "s/^# /  note ($label): /"
  if grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer' \
    "$err"; then
    fail "$label: a sanitizer report on stderr"
    show stderr "$err"
  fi
  local own='unexpected notification|receiving a notification failed|answering [0-9]+ failed'
  if grep -qE "$own|could not return" "$err"; then
    fail "$label: usbox warned about its own operation"
    show stderr "$err"
  fi
  return 0
}

# run_sec LABEL WANT DIR STDIN STDOUT -- CMD...: sec_exec, then sec_judge.
run_sec() {
  local label=$1 want=$2 dir=$3 stdin=$4 out=$5
  shift 5
  sec_exec "$label" "$dir" "$stdin" "$out" "$@"
  sec_judge "$label" "$want" $? "$out"
}

# same_file NAME BEFORE AFTER: two listings must be equal.
same_file() {
  local name=$1 before=$2 after=$3
  if cmp -s "$before" "$after"; then
    pass "$name"
  else
    fail "$name"
    diff -u "$before" "$after" | head -30 | sed 's/^/  | /' >&2
  fi
}

# What the host shows of a tree: every entry's type, mode, owner, size,
# mtime and link target, every file's checksum, every xattr (all
# namespaces: root sees trusted.* and security.*).
host_state() {
  find "$@" -printf '%p %y %m %U:%G %s %T@ %l\n' 2>/dev/null | sort
  find "$@" -type f -exec md5sum {} + 2>/dev/null | sort
  getfattr -R -P -d -m - -e hex --absolute-names "$@" 2>/dev/null
}
# Privileges on the host: set-id files, file capabilities, trusted xattrs.
host_privileges() {
  find "$@" -perm /6000 -printf 'setid %p %m\n' 2>/dev/null | sort
  getcap -r "$@" 2>/dev/null | sed 's/^/fcap /' | sort
  getfattr -R -P -d -m '^(trusted|security)\.' --absolute-names "$@" 2>/dev/null | grep -v '^#' |
    grep . | sed 's/^/xattr /'
}
# expect_changed NAME BEFORE AFTER: a native run must have changed the host
# (the host check can fail).
expect_changed() {
  if cmp -s "$2" "$3"; then
    fail "$1: the listings before and after are the same"
  else
    pass "$1"
  fi
}
expect_empty() {
  local name=$1 file=$2
  if [ -s "$file" ]; then
    fail "$name"
    show "$(basename "$file")" "$file"
  else
    pass "$name"
  fi
}

# ================================================================ 1. deputy rights
# A root agent without capabilities (usbox's default), an agent that drops
# to uid 4242 itself, and usbox run by uid 4242: each may do to the host
# only what the kernel lets it do.
DEP=$TMPROOT/deputy
mkdir -p "$DEP/root" "$DEP/user" "$DEP/socks"
chmod 777 "$DEP/root"
chown "$USER_ID:$USER_ID" "$DEP/user"
chmod 755 "$DEP" "$DEP/socks"
echo "another uid's file" >"$DEP/other"
chown "$OTHER_ID:$OTHER_ID" "$DEP/other"
chmod 644 "$DEP/other"
touch -d '2001-01-01 00:00:00' "$DEP/other"
# a sticky directory of another uid, with that uid's file and directory
mkdir -p "$DEP/sticky/victim-dir"
echo "another uid's file in a sticky directory" >"$DEP/sticky/victim"
chown -R "$OTHER_ID:$OTHER_ID" "$DEP/sticky"
chmod 1777 "$DEP/sticky"
"$PROGS/attack_deputy" --listen "$DEP/socks" --owner "$OTHER_ID" >"$TMPROOT/listener.out" 2>&1 &
LISTENER=$!
track_bg "$LISTENER"
for _ in $(seq 100); do [ -S "$DEP/socks/dgram.sock" ] && break; sleep 0.05; done
if [ ! -S "$DEP/socks/dgram.sock" ]; then
  fail "deputy: the listener did not start"
  show listener "$TMPROOT/listener.out"
fi
host_state "$DEP/other" "$DEP/sticky" >"$TMPROOT/deputy.other.before"
dep_args() {
  echo --dir "$DEP/$1" --other "$DEP/other" --sticky "$DEP/sticky" \
    --sock "$DEP/socks/stream.sock" --dgram "$DEP/socks/dgram.sock" --seconds "$RACE_SECONDS"
}
# shellcheck disable=SC2046 # dep_args prints words without blanks
{
  run_sec deputy-root-nocaps pass "$TMPROOT" /dev/null "" -- "$USBOX" exec --cap-drop ALL -- \
    "$PROGS/attack_deputy" $(dep_args root)
  run_sec deputy-drops-to-user pass "$TMPROOT" /dev/null "" -- \
    "$USBOX" exec --cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID -- \
    "$PROGS/attack_deputy" --drop-uid "$USER_ID" $(dep_args user)
  run_sec deputy-usbox-as-user pass "$TMPROOT" /dev/null "" -- "${AS_USER[@]}" "$USBOX_NB" exec -- \
    "$PROGS/attack_deputy" $(dep_args user)
  # the expectations are the kernel's: natively, without capabilities, the same
  run_sec deputy-native-nocaps pass "$TMPROOT" /dev/null "" -- "${DROP_CAPS[@]}" \
    "$PROGS/attack_deputy" --native $(dep_args root)
}
# credentials are per thread: one thread drops to uid 4242 by the raw call,
# another stays root and keeps opening root's 0600 file
echo "root's secret" >"$DEP/root-only"
chmod 600 "$DEP/root-only"
run_sec deputy-thread-creds pass "$TMPROOT" /dev/null "" -- \
  "$USBOX" exec --cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID -- \
  "$PROGS/attack_deputy" --root-only "$DEP/root-only" --thread-uid "$USER_ID" \
  --seconds "$RACE_SECONDS"
# (the detector: a thread that "drops" to uid 0 opens it)
run_sec deputy-thread-creds-native fail "$TMPROOT" /dev/null "" -- "$PROGS/attack_deputy" \
  --native --root-only "$DEP/root-only" --thread-uid 0 --seconds 1
host_state "$DEP/other" "$DEP/sticky" >"$TMPROOT/deputy.other.after"
same_file "deputy: another uid's files are unchanged on the host (owner, mode, times, xattrs)" \
  "$TMPROOT/deputy.other.before" "$TMPROOT/deputy.other.after"
host_privileges "$DEP" >"$TMPROOT/deputy.privileges"
expect_empty "deputy: no file capability, trusted.* or set-id bit on the host" \
  "$TMPROOT/deputy.privileges"
find "$DEP" -name big -size +4096c -printf '%p %s\n' >"$TMPROOT/deputy.big"
expect_empty "deputy: no file grew past RLIMIT_FSIZE on the host" "$TMPROOT/deputy.big"
grep -v '^listening$' "$DEP/socks/listener.log" >"$TMPROOT/deputy.reached"
expect_empty "deputy: nothing reached another uid's sockets" "$TMPROOT/deputy.reached"

# The detectors: natively as root every attack works, and the host checks
# above see it (a copy of the fixture, so the checks stay meaningful).
NDEP=$TMPROOT/deputy-native
mkdir -p "$NDEP/root"
cp -a "$DEP/other" "$DEP/sticky" "$NDEP/"
host_state "$NDEP/other" "$NDEP/sticky" >"$TMPROOT/ndeputy.other.before"
run_sec deputy-native-root fail "$TMPROOT" /dev/null "" -- "$PROGS/attack_deputy" --native \
  --dir "$NDEP/root" --other "$NDEP/other" --sticky "$NDEP/sticky" \
  --sock "$DEP/socks/stream.sock" --dgram "$DEP/socks/dgram.sock" --seconds 1
for line in 'security.capability on my file: setxattr: got 0' \
  'trusted.\* on my file: fsetxattr: got 0' 'chown another uid.s file: fchownat.*got 0' \
  'chmod another uid.s file: fchmodat.*got 0' \
  'utimens another uid.s file: utimensat\(fd, NULL, times, 0\): got 0' \
  'bind TCP 127.0.0.1:80: got' 'connect to another uid.s 0600 stream socket: got 0' \
  'xattr race: never set' 'sticky: unlink another uid.s file: got 0' \
  'hard link to another uid.s file \(protected_hardlinks\): got 0'; do
  expect_grep "deputy detector: natively $line" "^FAIL $line" "$TMPROOT/deputy-native-root.out"
done
host_state "$NDEP/other" "$NDEP/sticky" >"$TMPROOT/ndeputy.other.after"
expect_changed "deputy detector: the host check sees another uid's file changed natively" \
  "$TMPROOT/ndeputy.other.before" "$TMPROOT/ndeputy.other.after"
host_privileges "$NDEP" >"$TMPROOT/ndeputy.privileges"
expect_grep "deputy detector: the host check sees the file capability set natively" \
  '^fcap .*cap_net_raw' "$TMPROOT/ndeputy.privileges"
expect_grep "deputy detector: the listener saw the native connection" '^accepted' \
  "$DEP/socks/listener.log"
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null

# ================================================================ 2. hidden by identity
# A home reached through a symlink, its secrets hidden by rules that name
# the symlinked path; the same objects under every other name the host
# offers (layout: tests/attacks/attack_hidden_alias.c).
host_scratch HID hidden
SECRET="USBOX-HIDDEN-SECRET-$$-$RANDOM"
mkdir -p "$HID/real/home/.secret" "$HID/real/home/sub" "$HID/creds" "$HID/bindalias"
echo "$SECRET" >"$HID/real/home/.secret/key"
echo "$SECRET" >"$HID/creds/key"
echo visible >"$HID/real/home/visible.txt"
printf '#!/bin/sh\necho ALLOWED-RAN\n' >"$HID/real/home/sub/ok.sh"
chmod 755 "$HID/real/home/sub/ok.sh"
ln -s real/home "$HID/fakehome"
ln -s "$HID/creds" "$HID/real/home/.aws"
ln -s real/home/.secret "$HID/pointer"
ln "$HID/real/home/.secret/key" "$HID/hardlink-key"
# a hidden ELF program, and a hard link of it in a visible place
cp "$PROGS/attack_hidden_alias" "$HID/real/home/.secret/prog"
ln "$HID/real/home/.secret/prog" "$HID/hardlink-prog"
# a host bind mount of the hidden directory, made before usbox starts
if mount --bind "$HID/real/home/.secret" "$HID/bindalias"; then
  HOST_MOUNTS+=("$HID/bindalias")
else
  fail "hidden: could not bind-mount the hidden directory on the host"
fi
HVIEW=$TMPROOT/hidden-view
mkdir -p "$HVIEW/home" "$HVIEW/real" "$HVIEW/sub"
HIDE_OPTS=(--hide "$HID/fakehome/.secret" --hide "$HID/fakehome/.aws"
  --hide "$HID/fakehome/.late" --ro "$HID/fakehome:$HVIEW/home" --ro "$HID/real:$HVIEW/real"
  --ro "$HID/real/home/sub:$HVIEW/sub")
host_state "$HID/real/home/.secret" "$HID/creds" "$HID/hardlink-key" "$HID/hardlink-prog" \
  >"$TMPROOT/hidden.before"

# run_hidden LABEL WANT ALIAS -- CMD...: the program in the background; once
# it says it started, the host makes the late hidden directory and tells
# it so, then the run is judged.
run_hidden() {
  local label=$1 want=$2 alias=$3
  shift 3
  [ "$1" = -- ] && shift
  local started=$TMPROOT/$label.started made=$TMPROOT/$label.made late=$HID/real/home/.late
  rm -rf "$late" "$started" "$made"
  sec_exec "$label" "$TMPROOT" /dev/null "" -- "$@" --host "$HID" --alias "$alias" \
    --secret "$SECRET" --key-id "$(stat -c '%d:%i' "$HID/real/home/.secret/key")" \
    --started "$started" --late-made "$made" --seconds "$RACE_SECONDS" &
  local pid=$! i
  track_bg "$pid"
  for ((i = 0; i < 1200; i++)); do
    [ -e "$started" ] || ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.05
  done
  mkdir -p "$late"
  echo "$SECRET" >"$late/key"
  # an ELF program (a script's interpreter would open it through the sentry)
  cp "$PROGS/attack_hidden_alias" "$late/run"
  touch "$made"
  wait_bg "$pid" "$CMD_TIMEOUT"
  sec_judge "$label" "$want" $?
}
run_hidden hidden-alias pass "$HVIEW" -- "$USBOX" exec "${HIDE_OPTS[@]}" -- \
  "$PROGS/attack_hidden_alias"
host_state "$HID/real/home/.secret" "$HID/creds" "$HID/hardlink-key" "$HID/hardlink-prog" \
  >"$TMPROOT/hidden.after"
same_file "hidden: the secrets are unchanged on the host" "$TMPROOT/hidden.before" \
  "$TMPROOT/hidden.after"
# natively the binds are symlinks to the same places: every name works
NHVIEW=$TMPROOT/hidden-native-view
mkdir -p "$NHVIEW"
ln -s "$HID/fakehome" "$NHVIEW/home"
ln -s "$HID/real" "$NHVIEW/real"
ln -s "$HID/real/home/sub" "$NHVIEW/sub"
run_hidden hidden-alias-native fail "$NHVIEW" -- "$PROGS/attack_hidden_alias" --native
for line in 'the secret via the symlinked home' 'the secret via a hard link made on the host' \
  'the secret via a host bind mount' 'the hidden symlink.s target' \
  "'..' from a bind of a sibling, cwd" \
  'the home.s listing' '/proc/self/mountinfo names no hidden path' \
  'late: the secret via its canonical path' 'late: the home.s listing' \
  'execve of a program in the late hidden directory fails' 'late chdir race, then ./run from there: the hidden program never ran' \
  'late exec race: the hidden program never ran' \
  'exec race, a hard link of the hidden program: the hidden program never ran'; do
  expect_grep "hidden detector: natively FAIL $line" "^FAIL $line" \
    "$TMPROOT/hidden-alias-native.out"
done
rm -rf "$HID/real/home/.late"

# ================================================================ 3. no window
# getdents on an fd number that a thread keeps re-pointing (dup2) between a
# directory holding a hidden name and an innocent one.
GD=$TMPROOT/getdents
mkdir -p "$GD/a" "$GD/b"
echo secret >"$GD/a/hidden-name"
touch "$GD/a/seen-a" "$GD/b/seen-b"
GD_ARGS=(--dir-a "$GD/a" --dir-b "$GD/b" --hidden hidden-name --seen-a seen-a --seen-b seen-b)
run_sec getdents-race pass "$TMPROOT" /dev/null "" -- "$USBOX" exec --hide "$GD/a/hidden-name" -- \
  "$PROGS/attack_getdents_race" "${GD_ARGS[@]}" --seconds "$RACE_SECONDS"
run_sec getdents-race-native fail "$TMPROOT" /dev/null "" -- "$PROGS/attack_getdents_race" \
  --native "${GD_ARGS[@]}" --seconds 10
expect_grep "getdents detector: natively the hidden name is listed in the race" \
  '^FAIL getdents64 race: the hidden name never listed: listed [1-9]' \
  "$TMPROOT/getdents-race-native.out"

# Re-opens: stdin redirected from a host file the view shows read-only
# (under /var/tmp, not bound), stdout to another one. A second run on
# another such file changes its metadata through the fd it holds and
# through /proc/self/fd/0 (ending with a truncation).
host_scratch RO reopen
STDIN_TEXT="STDIN-TEXT-$$-$RANDOM"
for f in stdin-file stdin-meta; do
  printf '%s\nthe rest of the host file\n' "$STDIN_TEXT" >"$RO/$f"
  chmod 644 "$RO/$f"
  touch -d '2001-01-01 00:00:00' "$RO/$f"
done
mkdir -p "$TMPROOT/reopen"
host_state "$RO/stdin-file" >"$TMPROOT/reopen.before"
host_state "$RO/stdin-meta" >"$TMPROOT/reopen-metadata.before"
REOPEN_ARGS=(--stdin-text "$STDIN_TEXT" --writable "$TMPROOT/reopen")
run_sec reopen pass "$TMPROOT" "$RO/stdin-file" "$RO/stdout-file" -- "$USBOX" exec -- \
  "$PROGS/attack_reopen" "${REOPEN_ARGS[@]}" --seconds "$RACE_SECONDS"
run_sec reopen-metadata pass "$TMPROOT" "$RO/stdin-meta" "" -- "$USBOX" exec -- \
  "$PROGS/attack_reopen" "${REOPEN_ARGS[@]}" --metadata
host_state "$RO/stdin-file" >"$TMPROOT/reopen.after"
same_file "reopen: stdin's host file is unchanged (content, mode, times, xattrs)" \
  "$TMPROOT/reopen.before" "$TMPROOT/reopen.after"
host_state "$RO/stdin-meta" >"$TMPROOT/reopen-metadata.after"
same_file "reopen-metadata: stdin's host file is unchanged (content, mode, times, xattrs)" \
  "$TMPROOT/reopen-metadata.before" "$TMPROOT/reopen-metadata.after"
for f in stdin-file stdin-meta; do
  expect_eq "reopen: $f still holds its text on the host" "$STDIN_TEXT" "$(head -1 "$RO/$f")"
done
# natively (root) the re-opens write to the file, and the host check sees it
mkdir -p "$TMPROOT/reopen-native"
for mode in reopen metadata; do
  printf '%s\nthe rest of the host file\n' "$STDIN_TEXT" >"$RO/native-$mode"
  chmod 644 "$RO/native-$mode"
  host_state "$RO/native-$mode" >"$TMPROOT/reopen-native-$mode.before"
done
NREOPEN_ARGS=(--native --stdin-text "$STDIN_TEXT" --writable "$TMPROOT/reopen-native")
run_sec reopen-native fail "$TMPROOT" "$RO/native-reopen" "" -- "$PROGS/attack_reopen" \
  "${NREOPEN_ARGS[@]}" --seconds 1
run_sec reopen-metadata-native fail "$TMPROOT" "$RO/native-metadata" "" -- \
  "$PROGS/attack_reopen" "${NREOPEN_ARGS[@]}" --metadata
expect_grep "reopen detector: natively /proc/self/fd/0 opens for writing" \
  '^FAIL open /proc/self/fd/0 O_RDWR: .*stdin.s host file' "$TMPROOT/reopen-native.out"
expect_grep "reopen detector: natively the dup2 race opens stdin for writing" \
  '^FAIL dup2 race: stdin.s host file never opened for writing' "$TMPROOT/reopen-native.out"
expect_grep "reopen detector: natively stdin's file is hard-linked into the writable directory" \
  '^FAIL hard link stdin.s file in: linkat\(/proc/self/fd/0' "$TMPROOT/reopen-native.out"
expect_grep "reopen detector: natively truncate(/proc/self/fd/0) works" \
  '^FAIL truncate\(/proc/self/fd/0\): it worked' "$TMPROOT/reopen-metadata-native.out"
for mode in reopen metadata; do
  host_state "$RO/native-$mode" >"$TMPROOT/reopen-native-$mode.after"
  expect_changed "reopen detector: the host check sees the file changed natively ($mode)" \
    "$TMPROOT/reopen-native-$mode.before" "$TMPROOT/reopen-native-$mode.after"
done

# ================================================================ 4. devices, setuid, capabilities
# Device nodes copied by the host into visible places: read-only (under
# /var/tmp, from the host root) and writable (the scratch root, bound).
host_scratch DV devices
mknod "$DV/null-copy" c 1 3
mknod "$DV/random-copy" c 1 8
mkdir -p "$TMPROOT/devices" "$TMPROOT/devices-own" "$TMPROOT/devices-caps"
mknod "$TMPROOT/devices/null-rw" c 1 3
chmod 666 "$DV/null-copy" "$DV/random-copy" "$TMPROOT/devices/null-rw"
SETUID_PROG=$(find /usr/bin /bin -maxdepth 1 -type f -perm -4000 2>/dev/null | head -1)
DEV_ARGS=(--dev "$DV/null-copy" --dev "$DV/random-copy" --dev "$TMPROOT/devices/null-rw")
[ -n "$SETUID_PROG" ] && DEV_ARGS+=(--setuid-prog "$SETUID_PROG")
run_sec devices pass "$TMPROOT" /dev/null "" -- "$USBOX" exec -- \
  "$PROGS/attack_devices" --dir "$TMPROOT/devices-own" "${DEV_ARGS[@]}"
run_sec devices-cap-add-all pass "$TMPROOT" /dev/null "" -- "$USBOX" exec --cap-add ALL -- \
  "$PROGS/attack_devices" --dir "$TMPROOT/devices-caps" "${DEV_ARGS[@]}" --caps
host_privileges "$TMPROOT/devices-own" "$TMPROOT/devices-caps" "$DV" >"$TMPROOT/devices.privileges"
expect_empty "devices: no set-id bit, file capability or trusted.* on the host" \
  "$TMPROOT/devices.privileges"
find "$TMPROOT/devices-own" "$TMPROOT/devices-caps" \( -type c -o -type b \) \
  >"$TMPROOT/devices.nodes"
expect_empty "devices: the agent made no device node on the host" "$TMPROOT/devices.nodes"
mkdir -p "$TMPROOT/devices-native"
run_sec devices-native fail "$TMPROOT" /dev/null "" -- "$PROGS/attack_devices" --native \
  --dir "$TMPROOT/devices-native" "${DEV_ARGS[@]}" --caps
for line in "open $DV/null-copy O_RDWR: opened" 'chmod 4755 my file' 'fchmod\(fd, 06755\) my file' \
  'open\(O_CREAT, 04755\)' 'setxattr security.capability'; do
  expect_grep "devices detector: natively FAIL $line" "^FAIL $line" "$TMPROOT/devices-native.out"
done
host_privileges "$TMPROOT/devices-native" >"$TMPROOT/devices-native.privileges"
expect_grep "devices detector: the host check sees set-id files made natively" '^setid ' \
  "$TMPROOT/devices-native.privileges"
expect_grep "devices detector: the host check sees a file capability set natively" '^fcap ' \
  "$TMPROOT/devices-native.privileges"

# ================================================================ 5. unix socket addresses
mkdir -p "$TMPROOT/unix" "$TMPROOT/unix-nocaps" "$TMPROOT/unix-native"
# (a root agent without capabilities: by default it keeps DAC_OVERRIDE, which
# opens mode-0 sockets in its writable places as natively; test_cap_scope
# checks it does not on the read-only host)
run_sec unix pass "$TMPROOT" /dev/null "" -- "$USBOX" exec --cap-drop ALL -- "$PROGS/attack_unix" \
  --dir "$TMPROOT/unix"
# the table is the kernel's: natively, without capabilities, every row holds
run_sec unix-native-nocaps pass "$TMPROOT" /dev/null "" -- "${DROP_CAPS[@]}" "$PROGS/attack_unix" \
  --native --dir "$TMPROOT/unix-nocaps"
run_sec unix-native-root fail "$TMPROOT" /dev/null "" -- "$PROGS/attack_unix" --native \
  --dir "$TMPROOT/unix-native"
expect_grep "unix detector: natively root connects to a socket of mode 0" \
  '^FAIL connect to a socket of mode 0: got 0' "$TMPROOT/unix-native-root.out"

finish
