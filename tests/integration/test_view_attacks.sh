#!/usr/bin/env bash
# Attacks on the filesystem view (tests/attacks/view_*.c, run inside the
# sandbox): TOCTOU on path buffers, execve/chdir races, symlink swaps, and
# /proc as a way out. Each program prints "ok NAME" / "FAIL NAME: detail"
# and also requires that its race hit both sides; this script adds what only
# the host can see: the forbidden files are unchanged, nothing was created
# where the view forbids it.
. "$(dirname "$0")/lib.sh"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
for prog in view_toctou view_dirfd_swap view_exec_race view_symlink_swap view_proc_escape; do
  [ -x "$ATTACKS/$prog" ] || { echo "missing attack program $ATTACKS/$prog" >&2; exit 1; }
done
RACE_SECONDS=${RACE_SECONDS:-2}

CREATED=()
cleanup_view() {
  local p
  for p in "${CREATED[@]}"; do rm -rf -- "$p"; done
}
# shellcheck disable=SC2154 # _rc is set by the trap itself
trap '_rc=$?; cleanup_view; (exit $_rc); _on_exit' EXIT
trap 'exit 143' TERM INT HUP

# run_view_attack LABEL DIR [usbox options] -- PROG [ARGS...]: PROG from
# $ATTACKS in the sandbox (through lib.sh's shim), cwd DIR; every FAIL line
# fails this test, the exit status must match the lines.
run_view_attack() {
  local label=$1 dir=$2
  shift 2
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local prog=$1
  shift
  local -a cmd=("$USBOX" exec "${opts[@]}" -- "$ATTACKS/$prog" "$@")
  [ "$label" != "${label%-native}" ] && cmd=("$ATTACKS/$prog" --native "$@")
  local out=$TMPROOT/$label.out err=$TMPROOT/$label.err
  (
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    cd "$dir" && exec timeout -k 5 "$CMD_TIMEOUT" "${cmd[@]}"
  ) </dev/null >"$out" 2>"$err"
  local rc=$? nok nfail line
  nok=$(grep -c '^ok ' "$out")
  nfail=$(grep -c '^FAIL ' "$out")
  while IFS= read -r line; do
    fail "$label: ${line#FAIL }"
  done < <(grep '^FAIL ' "$out")
  local want=0
  [ "$nfail" -gt 0 ] && want=1
  if [ $((nok + nfail)) -eq 0 ]; then
    fail "$label: no check reported anything (exit status $rc)"
    show stdout "$out"
    show stderr "$err"
  elif [ "$rc" != "$want" ]; then
    fail "$label: exit status $rc after $nok ok and $nfail FAIL lines, expected $want"
    tail -5 "$out" | sed 's/^/  | /' >&2
    show stderr "$err"
  elif [ "$nfail" -eq 0 ]; then
    pass "$label: $nok checks"
  fi
  # the races' counts (how often each side was hit) are worth seeing
  [ "$label" = "${label%-native}" ] && grep '^# ' "$out" | sed "s/^# /  note ($label): /"
  if grep -qE 'unexpected notification|receiving a notification failed|answering [0-9]+ failed' "$err"; then
    fail "$label: usbox warned about its own operation"
    show stderr "$err"
  fi
  return 0
}
devino() { stat -L -c '%d:%i' "$1"; }
sum() { find "$@" -printf '%p %y %m %s %T@ %l\n' 2>/dev/null | sort; find "$@" -type f -exec md5sum {} + 2>/dev/null | sort; }
same_sum() {
  local name=$1 before=$2 after=$3
  if cmp -s "$before" "$after"; then
    pass "$name"
  else
    fail "$name"
    diff -u "$before" "$after" | head -30 | sed 's/^/  | /' >&2
  fi
}

# The tree. A/S holds the sources (hidden at their own paths), A/V the view:
#   V/rw  --rw of S/rw                 (the allowed side of every race)
#   V/hb  --rw of S/hb, V/hb/hd hidden (the secret and an evil program)
#   V/ro  --ro of S/ro                 (a file that must not change)
A=$TMPROOT/a
mkdir -p "$A"/S/{rw,hb/hd,ro/dir} "$A"/V/{rw,hb,ro}
SECRET="USBOX-VIEW-SECRET-$$-$RANDOM"
echo "$SECRET" >"$A/S/hb/hd/secret"
echo keep >"$A/S/hb/keep"
echo "ro-content-$$" >"$A/S/ro/rofile"
printf '#!/bin/sh\necho ALLOWED-RAN\n' >"$A/S/rw/allowed.sh"
printf '#!/bin/sh\necho HIDDEN-PROGRAM-RAN-%s\n' "$$" >"$A/S/hb/hd/evil.sh"
chmod +x "$A/S/rw/allowed.sh" "$A/S/hb/hd/evil.sh"
# A program outside the view: the host's /tmp is not the sandbox's.
OUT_DIR=/tmp/usbox-view-outside-$$
CREATED+=("$OUT_DIR")
mkdir -p "$OUT_DIR"
printf '#!/bin/sh\necho OUTSIDE-PROGRAM-RAN-%s\n' "$$" >"$OUT_DIR/evil.sh"
chmod +x "$OUT_DIR/evil.sh"
# A read-only file of the host root (not a bind): a scratch file in /var/tmp.
mkdir -p /var/tmp
VT=$(mktemp -d /var/tmp/usbox-view-attacks.XXXXXX)
CREATED+=("$VT")
echo "host-ro-content-$$" >"$VT/rofile"
chmod 755 "$VT"

VIEW=(--hide "$A/S" --rw "$A/S/rw:$A/V/rw" --rw "$A/S/hb:$A/V/hb" --hide "$A/V/hb/hd" --ro "$A/S/ro:$A/V/ro")
sum "$A/S/hb/hd" "$A/S/ro" "$VT" /etc/shadow >"$TMPROOT/forbidden.before"
# (test_view.sh, which ctest may run meanwhile, makes and removes its own
# usbox-view-vdir/victim/redirect-PID entries in /etc: not ours to judge)
etc_list() { ls -A /etc | grep -Ev '^usbox-view-(vdir|victim|redirect)-[0-9]+$'; }
etc_list >"$TMPROOT/etc.before"

# ---------------------------------------------------------------- TOCTOU on path buffers

run_view_attack toctou-hidden-file "$A/V/rw" "${VIEW[@]}" -- view_toctou --kind hidden \
  --allowed "$A/V/rw/allowed" --forbidden "$A/V/hb/hd/secret" --forbidden-id "$(devino "$A/S/hb/hd/secret")" \
  --secret "$SECRET" --seconds "$RACE_SECONDS"
run_view_attack toctou-etc-shadow "$A/V/rw" "${VIEW[@]}" -- view_toctou --kind hidden \
  --allowed "$A/V/rw/allowed" --forbidden /etc/shadow --forbidden-id "$(devino /etc/shadow)" \
  --secret "root:" --seconds "$RACE_SECONDS"
# relative paths from the directory that holds the hidden one
run_view_attack toctou-hidden-relative "$A/V/hb" "${VIEW[@]}" -- view_toctou --kind hidden \
  --allowed keep --forbidden hd/secret --forbidden-id "$(devino "$A/S/hb/hd/secret")" \
  --secret "$SECRET" --seconds "$RACE_SECONDS"
run_view_attack toctou-ro-bind "$A/V/rw" "${VIEW[@]}" -- view_toctou --kind readonly \
  --allowed "$A/V/rw/allowed" --forbidden "$A/V/ro/rofile" --forbidden-id "$(devino "$A/S/ro/rofile")" \
  --seconds "$RACE_SECONDS"
run_view_attack toctou-ro-host "$A/V/rw" "${VIEW[@]}" -- view_toctou --kind readonly \
  --allowed "$A/V/rw/allowed" --forbidden "$VT/rofile" --forbidden-id "$(devino "$VT/rofile")" \
  --seconds "$RACE_SECONDS"

# The directory behind a dirfd number swapped (dup2) during *at calls: a twin
# of the hidden directory and of the read-only file in a writable place.
mkdir -p "$A/S/rw/twin/hd"
run_view_attack dirfd-swap-hidden "$A/V/rw" "${VIEW[@]}" -- view_dirfd_swap --kind hidden \
  --dir-a "$A/V/rw/twin" --dir-b "$A/V/hb" --name hd/secret --forbidden-id "$(devino "$A/S/hb/hd/secret")" \
  --secret "$SECRET" --seconds "$RACE_SECONDS"
run_view_attack dirfd-swap-ro "$A/V/rw" "${VIEW[@]}" -- view_dirfd_swap --kind readonly \
  --dir-a "$A/V/rw/twin" --dir-b "$A/V/ro" --name rofile --forbidden-id "$(devino "$A/S/ro/rofile")" \
  --seconds "$RACE_SECONDS"

# ---------------------------------------------------------------- execve and chdir races

run_view_attack exec-race-hidden "$A/V/rw" "${VIEW[@]}" -- view_exec_race \
  --allowed "$A/V/rw/allowed.sh" --forbidden "$A/V/hb/hd/evil.sh" --marker "HIDDEN-PROGRAM-RAN" \
  --seconds "$RACE_SECONDS" --chdir-forbidden "$A/V/hb/hd" --chdir-id "$(devino "$A/S/hb/hd")"
run_view_attack exec-race-outside "$A/V/rw" "${VIEW[@]}" -- view_exec_race \
  --allowed "$A/V/rw/allowed.sh" --forbidden "$OUT_DIR/evil.sh" --marker "OUTSIDE-PROGRAM-RAN" \
  --seconds "$RACE_SECONDS" --chdir-forbidden "$OUT_DIR" --chdir-id "$(devino "$OUT_DIR")"
# the markers must also not be in anything usbox printed
if grep -qE 'HIDDEN-PROGRAM-RAN|OUTSIDE-PROGRAM-RAN' "$TMPROOT"/exec-race-*.err; then
  fail "exec races: a forbidden program's marker reached stderr"
else
  pass "exec races: no forbidden marker anywhere in the output"
fi

# ---------------------------------------------------------------- symlink swap races

mkdir -p "$A/S/rw/swap-hidden" "$A/S/rw/swap-ro" "$A/S/rw/swap-etc" "$A/S/rw/swap-rel" "$A/S/rw/swap-host"
run_view_attack swap-to-hidden "$A/V/rw" "${VIEW[@]}" -- view_symlink_swap \
  --dir "$A/V/rw/swap-hidden" --target "$A/V/hb/hd" --seconds "$RACE_SECONDS"
run_view_attack swap-to-ro-bind "$A/V/rw" "${VIEW[@]}" -- view_symlink_swap \
  --dir "$A/V/rw/swap-ro" --target "$A/V/ro/dir" --seconds "$RACE_SECONDS"
run_view_attack swap-to-etc "$A/V/rw" "${VIEW[@]}" -- view_symlink_swap \
  --dir "$A/V/rw/swap-etc" --target /etc --seconds "$RACE_SECONDS"
run_view_attack swap-to-hidden-relative "$A/V/rw" "${VIEW[@]}" -- view_symlink_swap \
  --dir "$A/V/rw/swap-rel" --target ../../hb/hd --seconds "$RACE_SECONDS"
# the bind's source at its host path (hidden in the view)
run_view_attack swap-to-hidden-source "$A/V/rw" "${VIEW[@]}" -- view_symlink_swap \
  --dir "$A/V/rw/swap-host" --target "$A/S/ro/dir" --seconds "$RACE_SECONDS"
for d in swap-hidden swap-ro swap-etc swap-rel swap-host; do
  n=$(find "$A/S/rw/$d/real" "$A/S/rw/$d/swap" -mindepth 1 2>/dev/null | wc -l)
  expect_eq "$d: the real directory got entries, on the host" yes "$([ "$n" -gt 0 ] && echo yes)"
done

# ---------------------------------------------------------------- /proc escapes

run_view_attack proc-escape-native "$A/S/rw" -- view_proc_escape --shadow-id "$(devino /etc/shadow)"
run_view_attack proc-escape "$A/V/rw" "${VIEW[@]}" -- view_proc_escape --shadow-id "$(devino /etc/shadow)"
run_view_attack proc-escape-default-policy "$TMPROOT" -- view_proc_escape --shadow-id "$(devino /etc/shadow)"

# ---------------------------------------------------------------- the detectors detect

# Natively nothing is hidden or read-only: the same races must then report
# the forbidden side reached, which shows that the checks above can fail.
NAT=$TMPROOT/native
mkdir -p "$NAT/hd" "$NAT/target"
echo "$SECRET" >"$NAT/hd/secret"
cp "$A/S/rw/allowed.sh" "$NAT/allowed.sh"
cp "$A/S/hb/hd/evil.sh" "$NAT/hd/evil.sh"
(cd "$NAT" && timeout -k 5 "$CMD_TIMEOUT" "$ATTACKS/view_toctou" --native --kind hidden --allowed "$NAT/allowed" \
  --forbidden "$NAT/hd/secret" --forbidden-id "$(devino "$NAT/hd/secret")" --secret "$SECRET" --seconds 10) \
  >"$TMPROOT/toctou-native.out" 2>&1
expect_grep "natively, the TOCTOU race reaches the forbidden file (the detector works)" \
  '^FAIL the forbidden file was never reached: [0-9]+ times' "$TMPROOT/toctou-native.out"
mkdir -p "$NAT/twin/hd"
echo "$SECRET" >"$NAT/hd/secret" # the native TOCTOU run may have unlinked it
(cd "$NAT" && timeout -k 5 "$CMD_TIMEOUT" "$ATTACKS/view_dirfd_swap" --native --kind hidden --dir-a "$NAT/twin" \
  --dir-b "$NAT" --name hd/secret --forbidden-id "$(devino "$NAT/hd/secret")" --secret "$SECRET" --seconds 10) \
  >"$TMPROOT/dirfd-native.out" 2>&1
expect_grep "natively, the dirfd swap reaches the forbidden file (the detector works)" \
  '^FAIL the forbidden file was never reached through the swapped dirfd: [0-9]+ times' "$TMPROOT/dirfd-native.out"
(cd "$NAT" && timeout -k 5 "$CMD_TIMEOUT" "$ATTACKS/view_exec_race" --native --allowed "$NAT/allowed.sh" \
  --forbidden "$NAT/hd/evil.sh" --marker HIDDEN-PROGRAM-RAN --seconds 10) >"$TMPROOT/exec-native.out" 2>&1
expect_grep "natively, the exec race runs the forbidden program (the detector works)" \
  '^FAIL exec race: .* never ran: its marker appeared in [1-9]' "$TMPROOT/exec-native.out"
mkdir -p "$NAT/swap"
(cd "$NAT" && timeout -k 5 "$CMD_TIMEOUT" "$ATTACKS/view_symlink_swap" --native --dir "$NAT/swap" \
  --target "$NAT/target" --seconds 3) >"$TMPROOT/swap-native.out" 2>&1
expect_eq "natively, the swap race creates entries in the target (the host check works)" yes \
  "$([ "$(find "$NAT/target" -mindepth 1 | wc -l)" -gt 0 ] && echo yes)"

# ---------------------------------------------------------------- a file handed in on stdin

# A host file opened by the caller's shell is on the host's mount, not the
# view's: the metadata calls the sentry makes on the agent's fd (fchmod,
# fchown, fsetxattr, futimens) may change it only where the view shows that
# file writable (vfs_held_info, vfs/ops.c in_view_elsewhere). Outside the
# view (the host's /tmp) and in a read-only part (not --rw): EROFS each,
# the file as it was; in a --rw directory: done, as the kernel would.
HANDED=/tmp/usbox-view-attacks-handed-$$
HRO=$TMPROOT/handed-ro HRW=$TMPROOT/handed-rw
CREATED+=("$HANDED")
mkdir -p "$HANDED" "$HRO" "$HRW"
handed_py='
import os
def t(name, f):
    try:
        f(); print(name + ": ok")
    except OSError as e:
        print(name + ": " + (os.strerror(e.errno) if e.errno != 30 else "EROFS"))
t("fchmod", lambda: os.fchmod(0, 0o600))
t("fchown", lambda: os.fchown(0, 0, 0))
t("fsetxattr", lambda: os.setxattr(0, "user.usbox", b"1"))
t("futimens", lambda: os.utime(0, (1, 1)))'
for where in "$HANDED" "$HRO" "$HRW"; do
  echo handed >"$where/f"
  chmod 644 "$where/f"
  stat -c '%a %u %g %Y' "$where/f" >"$TMPROOT/handed.before"
  rw=()
  [ "$where" = "$HRW" ] && rw=(--rw "$HRW")
  (cd / && exec timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec "${rw[@]}" -- python3 -c "$handed_py") \
    <"$where/f" >"$TMPROOT/handed.out" 2>&1
  stat -c '%a %u %g %Y' "$where/f" >"$TMPROOT/handed.after"
  case $where in
  "$HRW")
    expect_eq "a host file handed in on stdin, in a --rw directory: changed, as the kernel would" \
      "$(printf '%s: ok\n' fchmod fchown fsetxattr futimens)" "$(cat "$TMPROOT/handed.out")"
    expect_eq "and the host sees it" "600 0 0 1" "$(cat "$TMPROOT/handed.after")"
    ;;
  *)
    what="outside the view"
    [ "$where" = "$HRO" ] && what="in a read-only part of the view"
    expect_eq "a host file $what, handed in on stdin: its metadata calls EROFS" \
      "$(printf '%s: EROFS\n' fchmod fchown fsetxattr futimens)" "$(cat "$TMPROOT/handed.out")"
    expect_eq "and the file is as it was ($what)" "$(cat "$TMPROOT/handed.before")" \
      "$(cat "$TMPROOT/handed.after")"
    ;;
  esac
done

# ---------------------------------------------------------------- a directory handed in from outside

# A directory of the host's the view does not show (under the host's
# /tmp; the view's /tmp is private), in the agent's hands. (The probe is
# bound in: a checkout may itself live under the host's /tmp.) As stdin usbox
# refuses it. Sent over a socket that is stdin (a host process's choice):
# fchdir to it is the kernel's, so the working directory leaves the view:
# walks from the fd find nothing, relative chdir and unix bind from there
# are refused (the bind once made its socket in the host's directory), and
# what the sentry resolves from the kernel's name for it lands in the view
# (the probe made that path in its private /tmp). The host's directory is
# unchanged.
if [ -x "$ATTACKS/oci_probe" ]; then
  OUTSIDE=/tmp/usbox-view-attacks-outside-$$
  CREATED+=("$OUTSIDE")
  mkdir -p "$OUTSIDE" && echo "$SECRET" >"$OUTSIDE/secret"
  outside_list() { (cd "$OUTSIDE" && find . -printf '%p %y %s\n' | sort; cat secret); }
  outside_list >"$TMPROOT/outside.before"
  (cd / && exec timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec --ro "$ATTACKS" -- "$ATTACKS/oci_probe" dir 0) \
    <"$OUTSIDE" >"$TMPROOT/outside.out" 2>&1
  rc=$?
  expect_eq "a host directory as stdin: usbox refuses to start (125)" 125 "$rc"
  expect_grep "and says why" 'fd 0 .stdin. is a directory' "$TMPROOT/outside.out"
  (cd / && exec timeout -k 5 "$CMD_TIMEOUT" /usr/bin/python3 -c '
import os, socket, sys
a, b = socket.socketpair()
d = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 0)
    os.execv(sys.argv[2], sys.argv[2:])
b.close()
socket.send_fds(a, [b"d"], [d])
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$OUTSIDE" "$USBOX_REAL" exec --ro "$ATTACKS" -- \
    "$ATTACKS/oci_probe" recv-dir 0) >"$TMPROOT/outside.out" 2>&1
  cat >"$TMPROOT/outside.want" <<EOF
recvmsg: ok
fstat: directory
dotdot shadow: ENOENT
secret: ENOENT
dot: ENOENT
listing: secret
fchdir: ok
getcwd: (unreachable)$OUTSIDE
cwd secret: ENOENT
bind relative: ENOENT
mkdir relative: ok
chdir ..: ENOENT
getcwd after: (unreachable)$OUTSIDE
EOF
  expect_eq "a host directory sent over stdin reaches nothing outside the view" \
    "$(cat "$TMPROOT/outside.want")" "$(cat "$TMPROOT/outside.out")"
  outside_list >"$TMPROOT/outside.after"
  same_sum "the host directory handed in is unchanged" "$TMPROOT/outside.before" "$TMPROOT/outside.after"
else
  fail "the probe $ATTACKS/oci_probe was not built"
fi

# ---------------------------------------------------------------- creates on hidden names and aliases

# O_CREAT | O_EXCL is first tried in the parent the walk reached (vfs/ops.c
# create_excl_first): a hidden name, a name under a hidden directory and a
# hard link of the secret made on the host in a writable place must not be
# created, opened or truncated, whatever the flags; a new name next to
# them must be (so the probe cannot pass by failing everything).
ln "$A/S/hb/hd/secret" "$A/S/rw/alias-secret"
cat >"$A/S/rw/creates.py" <<'PY'
import os, sys, errno
rw, hb = sys.argv[1], sys.argv[2]
def try_open(path, flags):
    try:
        fd = os.open(path, flags | os.O_RDWR, 0o600)
    except OSError as e:
        return errno.errorcode[e.errno]
    data = os.read(fd, 200)
    os.close(fd)
    return "opened (%d bytes)" % len(data)
for path in (rw + "/alias-secret", hb + "/hd", hb + "/hd/secret", hb + "/hd/new"):
    for name, flags in (("excl", os.O_CREAT | os.O_EXCL), ("creat", os.O_CREAT),
                        ("trunc", os.O_CREAT | os.O_TRUNC)):
        r = try_open(path, flags)
        print("%s %s %s" % ("FAIL" if r.startswith("opened") else "ok", os.path.basename(path), name), r)
print("new", try_open(rw + "/creates-new", os.O_CREAT | os.O_EXCL))
PY
"$USBOX" exec "${VIEW[@]}" -- python3 "$A/V/rw/creates.py" "$A/V/rw" "$A/V/hb" \
  >"$TMPROOT/creates.out" 2>&1
if grep -q '^FAIL' "$TMPROOT/creates.out" || [ "$(grep -c '^ok ' "$TMPROOT/creates.out")" != 12 ]; then
  fail "creates on hidden names and aliases: none opens or makes anything"
  show output "$TMPROOT/creates.out"
else
  pass "creates on hidden names and aliases: none opens or makes anything"
fi
expect_eq "and a new name next to them is made" "new opened (0 bytes)" \
  "$(grep '^new ' "$TMPROOT/creates.out")"
# the alias is not there for a create either, as for a plain open or a
# stat: ENOENT (it was ELOOP, after 16 creates that met the name)
expect_eq "a create of the alias answers ENOENT, whatever the flags" \
  "ok alias-secret excl ENOENT|ok alias-secret creat ENOENT|ok alias-secret trunc ENOENT" \
  "$(grep ' alias-secret ' "$TMPROOT/creates.out" | paste -sd'|')"
expect_eq "the alias still holds the secret" "$SECRET" "$(cat "$A/S/rw/alias-secret")"
expect_eq "nothing new in the hidden directory" "evil.sh secret" "$(ls "$A/S/hb/hd" | xargs)"

# ---------------------------------------------------------------- second names of a hidden file

# A name that reaches a hidden file (a hard link the host made, in a
# writable place) cannot be unlinked, renamed or linked from: ENOENT, as a
# stat says. An unlink skips that check while every hidden file has had one
# name since start (vfs_hidden_alias_possible: each is watched for a
# second), so the host makes the second name while the agent runs, after
# the agent's own unlinks in that directory took the quick way; and once
# with the name there before start (no watch: every unlink checks).
L=$TMPROOT/late
mkdir -p "$L/rw"
echo "$SECRET" >"$L/hf"
echo "$SECRET" >"$L/hf2"
ln "$L/hf2" "$L/rw/early"
cat >"$L/names.py" <<'PY'
import os, sys, time, errno
rw, name = sys.argv[1], sys.argv[2]
for i in range(3):  # the directory cached, its unlinks the quick way
    open(rw + "/warm", "w").close()
    os.unlink(rw + "/warm")
open(rw + "/ready", "w").close()
deadline = time.time() + 60
while not os.path.exists(rw + "/go") and time.time() < deadline:
    time.sleep(0.01)
def t(what, f):
    try:
        f()
        print("FAIL %s %s: done" % (name, what))
    except OSError as e:
        print("%s %s %s: %s" % ("ok" if e.errno == errno.ENOENT else "FAIL", name, what,
                                errno.errorcode[e.errno]))
p = rw + "/" + name
t("stat", lambda: os.stat(p))
t("unlink", lambda: os.unlink(p))
t("rename", lambda: os.rename(p, rw + "/moved"))
t("link", lambda: os.link(p, rw + "/copied"))
open(rw + "/plain", "w").close()  # and a name with one link still goes
os.unlink(rw + "/plain")
print("ok plain unlink")
PY
(
  timeout -k 5 "$CMD_TIMEOUT" "$USBOX" exec -v --hide "$L/hf" --rw "$L/rw" -- \
    python3 "$L/names.py" "$L/rw" late >"$TMPROOT/late.out" 2>"$TMPROOT/late.err"
) &
late_pid=$!
for _ in $(seq 600); do [ -e "$L/rw/ready" ] && break; sleep 0.1; done
ln "$L/hf" "$L/rw/late"
touch "$L/rw/go"
wait "$late_pid"
expect_eq "a second name made during the run: stat, unlink, rename, link answer ENOENT" \
  "ok late stat: ENOENT|ok late unlink: ENOENT|ok late rename: ENOENT|ok late link: ENOENT|ok plain unlink" \
  "$(paste -sd'|' "$TMPROOT/late.out")"
expect_grep "and the hidden file was watched for it" \
  'hidden files: [1-9][0-9]* watched for a second name' "$TMPROOT/late.err"
rm -f "$L/rw/ready"
timeout -k 5 "$CMD_TIMEOUT" "$USBOX" exec --hide "$L/hf2" --rw "$L/rw" -- \
  python3 "$L/names.py" "$L/rw" early >"$TMPROOT/early.out" 2>&1
expect_eq "a second name made before start: the same" \
  "ok early stat: ENOENT|ok early unlink: ENOENT|ok early rename: ENOENT|ok early link: ENOENT|ok plain unlink" \
  "$(paste -sd'|' "$TMPROOT/early.out")"
expect_eq "the host's names are all there, nothing new beside them" "early go hf hf2 late ready rw" \
  "$(ls "$L" "$L/rw" | grep -v '^$\|:$\|names.py' | sort | xargs)"
expect_eq "and the hidden files hold the secret" "$SECRET $SECRET" "$(cat "$L/rw/late" "$L/rw/early" | xargs)"

# ---------------------------------------------------------------- the host afterwards

sum "$A/S/hb/hd" "$A/S/ro" "$VT" /etc/shadow >"$TMPROOT/forbidden.after"
same_sum "the hidden, read-only and host files are untouched" "$TMPROOT/forbidden.before" "$TMPROOT/forbidden.after"
etc_list >"$TMPROOT/etc.after"
same_sum "nothing was created in /etc" "$TMPROOT/etc.before" "$TMPROOT/etc.after"
expect_eq "the secret is still the secret" "$SECRET" "$(cat "$A/S/hb/hd/secret")"

finish
