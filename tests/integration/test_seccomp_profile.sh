#!/usr/bin/env bash
# Seccomp profiles (`--seccomp-profile FILE`, the policy's "seccomp_profile"):
# Podman's default profile runs real programs as natively; a profile denies
# more than usbox but never less (what usbox denies stays denied with
# usbox's errno, even where the profile says ALLOW); argument conditions,
# KILL, capabilities and the policy key work; usbox's own start-up never
# runs under the profile; a bad profile is one line and exit 125.
. "$(dirname "$0")/lib.sh"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
PODMAN=/usr/share/containers/seccomp.json
P=$TMPROOT/profiles
mkdir -p "$P"

# profile NAME DEFAULT_ACTION ENTRIES_JSON: writes $P/NAME.json
profile() {
  printf '{"defaultAction": "%s", "syscalls": [%s]}\n' "$2" "$3" >"$P/$1.json"
}

# ---------------------------------------------------------------- Podman's default

if [ -r "$PODMAN" ]; then
  USBOX_EXEC_ARGS=(--seccomp-profile "$PODMAN")
  same_as_native "podman profile: sh" -- sh -c 'echo hi; ls / >/dev/null; mkdir d && cd d && pwd; exit 3'
  same_as_native "podman profile: python3" -- python3 -c '
import os, subprocess, tempfile
print(os.uname().sysname, len(os.listdir("/")) > 0)
with tempfile.TemporaryDirectory(dir=".") as d:
    open(os.path.join(d, "f"), "w").write("x")
    print(sorted(os.listdir(d)))
print(subprocess.run(["echo", "child"], capture_output=True, text=True).stdout.strip())'
  same_as_native "podman profile: git" -- sh -c 'git init -q r && cd r && echo a >a &&
git add a && git -c user.email=u@e -c user.name=u commit -q -m m && git log --format=%s'
  USBOX_EXEC_ARGS=()
  # It ALLOWs ptrace, unshare, mount, keyctl, process_vm_readv, ...: every
  # denial of usbox's table holds, with usbox's errno (denied.c checks each;
  # the calls the sentry refuses after checking their arguments may carry the
  # profile's errno instead, which comes first).
  expect_exit 0 "podman profile: usbox's denials hold (attacks/denied)" -- \
    "$USBOX" exec --seccomp-profile "$PODMAN" -- "$ATTACKS/denied"
else
  fail "no $PODMAN: run scripts/install-deps (golang-github-containers-common)"
fi

# ---------------------------------------------------------------- deny more

profile deny_mkdir SCMP_ACT_ALLOW \
  '{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}'
D=$TMPROOT/host
mkdir -p "$D"
expect_exit 1 "profile denies mkdir" -- \
  "$USBOX" exec --seccomp-profile "$P/deny_mkdir.json" -- mkdir "$D/x"
expect_grep "mkdir: Operation not permitted" "cannot create directory.*Operation not permitted" "$ERR"
[ -e "$D/x" ] && fail "mkdir under the profile made $D/x"
expect_exit 0 "mkdir without the profile" -- "$USBOX" exec -- mkdir "$D/x"
[ -d "$D/x" ] || fail "mkdir without the profile did not make $D/x"

# the policy file's key, a path relative to the current directory
printf '{"seccomp_profile": "profiles/deny_mkdir.json"}\n' >"$TMPROOT/policy.json"
expect_exit 1 "policy \"seccomp_profile\" denies mkdir" -- \
  sh -c "cd '$TMPROOT' && exec '$USBOX' exec --policy policy.json -- mkdir '$D/y'"
expect_grep "policy key: Operation not permitted" "Operation not permitted" "$ERR"

# ---------------------------------------------------------------- never grant

# A profile that allows everything, naming what usbox denies: still denied.
profile allow_all SCMP_ACT_ALLOW \
  '{"names": ["ptrace", "bpf", "unshare", "setns", "mount", "io_uring_setup"], "action": "SCMP_ACT_ALLOW"},
   {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22}'
expect_exit 0 "ALLOW-everything profile: usbox's denials hold (attacks/denied)" -- \
  "$USBOX" exec --seccomp-profile "$P/allow_all.json" -- "$ATTACKS/denied"
PY_DENIED='
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    r = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    print(name, r, os.strerror(ctypes.get_errno()) if r < 0 else "")
call("ptrace", 101, 0, 0, 0, 0)            # PTRACE_TRACEME
call("bpf", 321, 0, 0, 0)
call("unshare", 272, 0x10000000)           # CLONE_NEWUSER
call("io_uring_setup", 425, 1, 0)'
expect_exit 0 "ALLOW of ptrace, bpf, unshare, io_uring" -- \
  "$USBOX" exec --seccomp-profile "$P/allow_all.json" -- python3 -c "$PY_DENIED"
expect_eq "ptrace, bpf, unshare, io_uring stay denied" \
  "ptrace -1 Operation not permitted|bpf -1 Operation not permitted|unshare -1 Operation not permitted|io_uring_setup -1 Function not implemented" \
  "$(paste -sd'|' "$OUT")"

# ---------------------------------------------------------------- arguments

profile personality SCMP_ACT_ALLOW \
  '{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
    "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_NE"}]}'
PY_PERS='
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for p in (0, 8, 0xffffffff):
    r = libc.personality(ctypes.c_ulong(p))
    print(hex(p), "ok" if r >= 0 else os.strerror(ctypes.get_errno()))'
expect_exit 0 "personality with the args profile" -- \
  "$USBOX" exec --seccomp-profile "$P/personality.json" -- python3 -c "$PY_PERS"
expect_eq "personality denied unless arg0 == 0" \
  "0x0 ok|0x8 Operation not permitted|0xffffffff Operation not permitted" "$(paste -sd'|' "$OUT")"
expect_exit 0 "personality without a profile" -- "$USBOX" exec -- python3 -c "$PY_PERS"
expect_eq "personality without a profile: all ok" "0x0 ok|0x8 ok|0xffffffff ok" "$(paste -sd'|' "$OUT")"

# ---------------------------------------------------------------- kill

for act in SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS; do
  profile "kill_$act" SCMP_ACT_ALLOW "{\"names\": [\"mkdir\"], \"action\": \"$act\"}"
  expect_exit 159 "$act kills the program (SIGSYS: 128+31)" -- \
    "$USBOX" exec --seccomp-profile "$P/kill_$act.json" -- mkdir "$D/k"
done
[ -e "$D/k" ] && fail "a killed mkdir made $D/k"

# ---------------------------------------------------------------- capabilities

profile caps SCMP_ACT_ALLOW \
  '{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_CHOWN"]}}'
expect_exit 1 "excludes.caps: denied without CAP_CHOWN" -- \
  "$USBOX" exec --cap-drop CHOWN --seccomp-profile "$P/caps.json" -- mkdir "$D/c"
expect_exit 0 "excludes.caps: allowed with CAP_CHOWN (a root agent's by default)" -- \
  "$USBOX" exec --seccomp-profile "$P/caps.json" -- mkdir "$D/c"

# ---------------------------------------------------------------- start-up

# What usbox's launcher and the sandbox's init call (vfork, prctl, waits,
# signals) killed by the profile: the program still runs, because only the
# agent runs under it. execve denied: the program cannot be run (126).
profile startup SCMP_ACT_ALLOW \
  '{"names": ["vfork", "prctl", "wait4", "waitid", "rt_sigtimedwait", "kill", "setsid",
              "pipe2", "seccomp", "pidfd_open", "sethostname", "pivot_root"],
    "action": "SCMP_ACT_KILL_PROCESS"}'
expect_exit 0 "usbox's start-up is not under the profile" -- \
  "$USBOX" exec --seccomp-profile "$P/startup.json" -- echo started
expect_grep "the program ran" "^started$" "$OUT"
profile noexec SCMP_ACT_ALLOW '{"names": ["execve"], "action": "SCMP_ACT_ERRNO"}'
expect_exit 126 "a profile that denies execve: 126" -- \
  "$USBOX" exec --seccomp-profile "$P/noexec.json" -- true
expect_grep "cannot execute" "^usbox: cannot execute .*true: Operation not permitted$" "$ERR"

# ---------------------------------------------------------------- bad profiles

# one line naming the JSON path, exit 125, and the program never ran
bad() {
  local name=$1 file=$2 want=$3
  rm -f "$D/ran"
  expect_exit 125 "$name" -- "$USBOX" exec --seccomp-profile "$file" -- touch "$D/ran"
  expect_eq "$name: the message" "$want" "$(cat "$ERR")"
  [ -e "$D/ran" ] && fail "$name: the program ran"
}
profile bad_action SCMP_ACT_ALLOW \
  '{"names": ["a"], "action": "SCMP_ACT_ALLOW"}, {"names": ["b"], "action": "SCMP_ACT_ALLOW"},
   {"names": ["c"], "action": "SCMP_ACT_ALLOW"}, {"names": ["d"], "action": "SCMP_ACT_FOO"}'
bad "unknown action" "$P/bad_action.json" \
  "usbox: seccomp profile $P/bad_action.json: .syscalls[3].action: unknown action \"SCMP_ACT_FOO\""
profile notify SCMP_ACT_ALLOW '{"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}'
bad "SCMP_ACT_NOTIFY" "$P/notify.json" \
  "usbox: seccomp profile $P/notify.json: .syscalls[0].action: SCMP_ACT_NOTIFY is refused: usbox's sentry is the only supervisor of the agent's calls"
printf '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/l.sock"}' >"$P/listener.json"
bad "listenerPath" "$P/listener.json" \
  "usbox: seccomp profile $P/listener.json: .listenerPath: refused: a profile cannot hand the agent's calls to another supervisor (usbox's sentry is the only one)"
printf '{"defaultAction": "SCMP_ACT_ALLOW",' >"$P/truncated.json"
bad "invalid JSON" "$P/truncated.json" \
  "usbox: seccomp profile $P/truncated.json: invalid JSON at byte 34 (near \",\")"
bad "missing file" "$P/nosuch.json" \
  "usbox: seccomp profile $P/nosuch.json: No such file or directory"
printf '{"seccomp_profile": 1}\n' >"$TMPROOT/badpolicy.json"
expect_exit 125 "policy: seccomp_profile not a string" -- \
  "$USBOX" exec --policy "$TMPROOT/badpolicy.json" -- true

finish
