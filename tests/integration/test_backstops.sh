#!/usr/bin/env bash
# The kernel backstops (issue 5), read back from inside the sandbox, as root
# and as an unprivileged user: namespaces (pid with usbox's init as pid 1,
# mount, net, uts, ipc, cgroup; user without root), capabilities dropped,
# no_new_privs, the seccomp filter, and Landlock denying what the sentry
# would have allowed had its table been wrong (--TESTONLY-pass hands a call
# to the kernel unchecked, so only the backstops are left to stop it).
. "$(dirname "$0")/lib.sh"

STATUS_KEYS='^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):'
zero=0000000000000000
all_dropped="CapInh:	$zero
CapPrm:	$zero
CapEff:	$zero
CapBnd:	$zero
CapAmb:	$zero
NoNewPrivs:	1
Seccomp:	2"

cd "$TMPROOT" || exit 1

# ---------------------------------------------------------------- capabilities, no_new_privs, seccomp

expect_exit 0 "root, --cap-drop ALL: read /proc/self/status" -- \
  "$USBOX" exec --cap-drop ALL -- grep -E "$STATUS_KEYS" /proc/self/status
expect_eq "root, --cap-drop ALL: every capability dropped (bounding set too), no_new_privs, filter on" \
  "$all_dropped" "$(cat "$OUT")"
# by default root keeps a container root's own: CHOWN, DAC_OVERRIDE, FOWNER,
# FSETID, KILL, NET_BIND_SERVICE (bits 0 1 3 4 5 10), bounding set the same
expect_exit 0 "root by default" -- "$USBOX" exec -- grep -E '^Cap(Prm|Eff|Bnd|Inh|Amb):' /proc/self/status
expect_eq "root keeps CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE only" \
  "CapInh:	$zero
CapPrm:	000000000000043b
CapEff:	000000000000043b
CapBnd:	000000000000043b
CapAmb:	$zero" "$(cat "$OUT")"
expect_exit 0 "--cap-drop one of them" -- \
  "$USBOX" exec --cap-drop DAC_OVERRIDE --cap-drop CAP_KILL -- grep -E '^CapEff:' /proc/self/status
expect_eq "--cap-drop takes them from the default" "CapEff:	0000000000000419" "$(cat "$OUT")"
expect_exit 125 "--cap-drop of an unknown capability is refused" -- "$USBOX" exec --cap-drop NOPE -- true

expect_exit 0 "--cap-drop ALL --cap-add NET_BIND_SERVICE" -- \
  "$USBOX" exec --cap-drop ALL --cap-add NET_BIND_SERVICE -- grep -E '^Cap(Eff|Bnd):' /proc/self/status
expect_eq "--cap-add keeps that one capability only" "CapEff:	0000000000000400
CapBnd:	0000000000000400" "$(cat "$OUT")"
expect_exit 125 "--cap-add of an unknown capability is refused" -- "$USBOX" exec --cap-add CAP_NOPE -- true
expect_grep "one clear line about it" "unknown capability CAP_NOPE" "$ERR"

# root without CAP_CHOWN cannot give a file away (natively root can)
mkdir -p "$TMPROOT/own" && echo x >"$TMPROOT/own/f"
expect_exit 0 "natively, root chowns a file to uid 1234" -- chown 1234 "$TMPROOT/own/f"
chown 0 "$TMPROOT/own/f"
expect_exit 1 "in the sandbox, root without CAP_CHOWN (--cap-drop ALL) cannot" -- \
  "$USBOX" exec --cap-drop ALL --rw "$TMPROOT/own" -- chown 1234 "$TMPROOT/own/f"
expect_grep "chown says why" "Operation not permitted" "$ERR"
expect_eq "the file is still root's on the host" 0 "$(stat -c %u "$TMPROOT/own/f")"
expect_exit 0 "with --cap-drop ALL --cap-add CHOWN it can" -- \
  "$USBOX" exec --cap-drop ALL --cap-add CHOWN --rw "$TMPROOT/own" -- chown 1234 "$TMPROOT/own/f"
expect_eq "and the host sees the new owner" 1234 "$(stat -c %u "$TMPROOT/own/f")"
chown 0 "$TMPROOT/own/f"
expect_exit 0 "by default root can too, in a writable place" -- \
  "$USBOX" exec --rw "$TMPROOT/own" -- chown 1234 "$TMPROOT/own/f"
expect_eq "the host sees that owner" 1234 "$(stat -c %u "$TMPROOT/own/f")"
chown 0 "$TMPROOT/own/f"
expect_exit 1 "and not in a read-only one" -- \
  "$USBOX" exec --ro "$TMPROOT/own" -- chown 1234 "$TMPROOT/own/f"
expect_eq "the read-only file is still root's" 0 "$(stat -c %u "$TMPROOT/own/f")"

# ---------------------------------------------------------------- namespaces

ns_list="pid mnt net uts ipc cgroup"
ns_probe='for n in '"$ns_list"'; do readlink /proc/self/ns/$n; done'
expect_exit 0 "root: the namespaces of the agent" -- "$USBOX" exec -- sh -c "$ns_probe"
cp "$OUT" "$TMPROOT/ns.in"
sh -c "$ns_probe" >"$TMPROOT/ns.host"
for n in $ns_list; do
  inside=$(grep "^$n:" "$TMPROOT/ns.in")
  host=$(grep "^$n:" "$TMPROOT/ns.host")
  if [ -n "$inside" ] && [ "$inside" != "$host" ]; then
    pass "root: a $n namespace of its own ($inside, host $host)"
  else
    fail "root: $n namespace: inside '$inside', host '$host'"
  fi
done
expect_exit 0 "root: pid 1 and the agent's pid" -- \
  "$USBOX" exec -- sh -c 'echo "$$ $PPID"; cat /proc/1/comm; ls /proc | grep "^[0-9]" | sort -n | tr "\n" " "'
expect_eq "the agent is pid 2, its parent usbox's init (pid 1)" "2 1
usbox-init" "$(head -n 2 "$OUT")"
# the shell, ls and grep: a handful of pids, nothing of the host's hundreds
if [[ "$(tail -n 1 "$OUT")" =~ ^1\ 2\ ([3-9]\ ){1,4}$ ]]; then
  pass "only the sandbox's processes exist in its /proc ($(tail -n 1 "$OUT"))"
else
  fail "/proc lists: $(tail -n 1 "$OUT")"
fi
expect_exit 0 "root: host name" -- "$USBOX" exec -- hostname
expect_eq "the host name is the sandbox's" usbox "$(cat "$OUT")"
expect_exit 0 "--hostname" -- "$USBOX" exec --hostname build-7 -- hostname
expect_eq "--hostname sets it" build-7 "$(cat "$OUT")"
expect_eq "the host's name is unchanged" "$(cat /proc/sys/kernel/hostname)" "$(hostname)"
expect_exit 0 "root: /proc/self/cgroup" -- "$USBOX" exec -- cat /proc/self/cgroup
if [ -s "$OUT" ] && ! grep -qv ':/$' "$OUT"; then
  pass "every cgroup line is the namespace's root (cgroup namespace)"
else
  fail "cgroup lines outside the namespace root: $(cat "$OUT")"
fi
expect_exit 0 "root: network devices" -- "$USBOX" exec -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
expect_eq "only the sandbox's loopback" lo "$(cat "$OUT")"
# a segment of the host's: procfs would show it to the sentry, which opens
# /proc in the host's IPC namespace; the sandbox has its own
host_shm=$(ipcmk -M 4096 | sed -n 's/.*id: *\([0-9]*\).*/\1/p')
[ -n "$host_shm" ] || fail "ipcmk made no segment"
host_key=$(ipcs -m | awk -v id="$host_shm" '$2 == id {print $1}')
expect_exit 0 "root: System V IPC" -- "$USBOX" exec -- sh -c 'ipcs -m; cat /proc/sysvipc/shm 2>&1; true'
if grep -q -- "$host_key" "$OUT"; then
  fail "a shared memory segment of the host is visible: $(cat "$OUT")"
else
  pass "no shared memory segment of the host is visible (ipcs, /proc/sysvipc)"
fi
expect_grep "/proc/sysvipc does not exist in the view" 'No such file or directory' "$OUT"
ipcrm -m "$host_shm"
# POSIX message queues: the sandbox's own work (Landlock allows its own
# mqueue filesystem), a queue of the host's does not exist there
mq_name=/usbox-test-$$
cat >"$TMPROOT/mq.py" <<'EOF'
import ctypes, os, sys
rt = ctypes.CDLL("librt.so.1", use_errno=True)
def op(name, flags):
    fd = rt.mq_open(name.encode(), flags, 0o600, None)
    return "ok" if fd >= 0 else os.strerror(ctypes.get_errno())
if sys.argv[1] == "make": print(op(sys.argv[2], os.O_CREAT | os.O_RDWR))
elif sys.argv[1] == "unlink": rt.mq_unlink(sys.argv[2].encode())
elif sys.argv[1] == "exists": print(op(sys.argv[2], os.O_RDWR))
else: print("host:", op(sys.argv[2], os.O_RDWR), "own:", op(sys.argv[2] + "-own", os.O_CREAT | os.O_RDWR))
EOF
expect_eq "a host queue is made" ok "$(python3 "$TMPROOT/mq.py" make "$mq_name")"
expect_exit 0 "root: POSIX message queues" -- "$USBOX" exec -- python3 "$TMPROOT/mq.py" probe "$mq_name"
expect_eq "the host's queue does not exist inside; the sandbox's own work" \
  "host: No such file or directory own: ok" "$(cat "$OUT")"
expect_eq "the sandbox's queue never reached the host" "No such file or directory" \
  "$(python3 "$TMPROOT/mq.py" exists "$mq_name-own")"
python3 "$TMPROOT/mq.py" unlink "$mq_name"

# ---------------------------------------------------------------- Landlock

# /proc/self/comm: the view's /proc is read-only (the sentry answers EROFS);
# handed to the kernel, the mount would allow the write, Landlock does not.
comm_probe='echo renamed >/proc/self/comm && cat /proc/self/comm'
expect_exit 0 "natively, a process renames itself through /proc/self/comm" -- sh -c "$comm_probe"
expect_exit 2 "the sentry refuses the write" -- "$USBOX" exec -- sh -c "$comm_probe"
expect_grep "as read-only" "Read-only file system" "$ERR"
expect_exit 2 "handed to the kernel unchecked, Landlock refuses it" -- \
  "$USBOX" exec --TESTONLY-pass openat -- sh -c "$comm_probe"
expect_grep "with EACCES" "Permission denied" "$ERR"
expect_grep "and the knob says it weakens the sandbox" "reach the kernel unchecked" "$ERR"

# TCP: the sentry makes the agent's connects; one the kernel made itself is
# Landlock's to refuse, even to the sandbox's own loopback.
tcp_probe='
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.socket()
try:
    c.connect(s.getsockname()); print("connected")
except OSError as e:
    print("refused", e.strerror)'
expect_exit 0 "a loopback connect in the sandbox, made by the sentry" -- \
  "$USBOX" exec -- python3 -c "$tcp_probe"
expect_eq "works" connected "$(cat "$OUT")"
expect_exit 0 "the same connect handed to the kernel" -- \
  "$USBOX" exec --TESTONLY-pass connect -- python3 -c "$tcp_probe"
expect_eq "is refused by Landlock" "refused Permission denied" "$(cat "$OUT")"
expect_exit 125 "--TESTONLY-pass of a call the sentry does not emulate" -- \
  "$USBOX" exec --TESTONLY-pass getpid -- true

# ---------------------------------------------------------------- without root

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent)
RL=$TMPROOT/rootless
mkdir -p "$RL" && chmod 777 "$RL" && chmod 711 "$TMPROOT"
USBOX_NB=$(usbox_for_nobody)
# a setuid-root copy of id: natively it runs as root, whoever starts it
cp /usr/bin/id "$RL/suid-id" && chmod 4755 "$RL/suid-id"
expect_exit 0 "natively, the setuid copy of id gives euid 0 to nobody" -- \
  "${NOBODY[@]}" "$RL/suid-id" -u
expect_eq "euid 0" 0 "$(cat "$OUT")"

rl_probe='id -u; cat /proc/self/uid_map | tr -s " " | sed "s/^ //"; grep -E "'"$STATUS_KEYS"'" /proc/self/status
hostname; echo "$$"; ./suid-id -u; echo made >made-here; echo tmp >/tmp/t && cat /tmp/t'
expect_exit 0 "as nobody: usbox exec runs" -- \
  sh -c 'cd "$1" && shift && exec "$@"' sh "$RL" "${NOBODY[@]}" "$USBOX_NB" exec --rw . -- sh -c "$rl_probe"
expect_eq "as nobody: its own uid mapped to itself, nothing kept, the sandbox's namespaces" "65534
65534 65534 1
$all_dropped
usbox
2
65534
tmp" "$(cat "$OUT")"
expect_eq "as nobody: a file made through --rw is nobody's on the host" "65534 made" \
  "$(stat -c %u "$RL/made-here") $(cat "$RL/made-here")"
expect_exit 0 "as nobody: the namespaces" -- \
  sh -c 'cd "$1" && shift && exec "$@"' sh "$RL" "${NOBODY[@]}" "$USBOX_NB" exec --rw . -- \
  sh -c "readlink /proc/self/ns/user; $ns_probe"
for n in user $ns_list; do
  inside=$(grep "^$n:" "$OUT")
  host=$(readlink /proc/self/ns/$n)
  if [ -n "$inside" ] && [ "$inside" != "$host" ]; then
    pass "as nobody: a $n namespace of its own"
  else
    fail "as nobody: $n namespace: inside '$inside', host '$host'"
  fi
done
expect_exit 2 "as nobody: Landlock refuses what the kernel is handed unchecked" -- \
  sh -c 'cd "$1" && shift && exec "$@"' sh "$RL" "${NOBODY[@]}" "$USBOX_NB" exec --rw . \
  --TESTONLY-pass openat -- sh -c "$comm_probe"
expect_grep "as nobody: with EACCES" "Permission denied" "$ERR"

finish
