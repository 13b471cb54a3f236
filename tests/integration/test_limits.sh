#!/usr/bin/env bash
# Resource limits (issue 5): memory (OOM -> 137 and a line), pids (a fork
# bomb contained), cpus (CPU time over wall time), timeout (124, SIGTERM then
# SIGKILL after the grace), nofile; the cgroups gone after every run, even
# after usbox is SIGKILLed (the next start removes them); bad values 125;
# without root, the rlimit fallback or a clear refusal.
. "$(dirname "$0")/lib.sh"

cd "$TMPROOT" || exit 1

# The test runs in cgroups of its own, one below its cgroup in every
# hierarchy (v2 and the v1 ones usbox uses). A usbox makes its cgroups below
# its own and removes stale ones only there, so the sandboxes other tests
# start and clean up beside this one (with limits of their own) never show
# in what this test counts, and never remove what it expects to find.
PRIV=usbox-limits-test.$$
priv_dirs=()
own_cgroups=$(cat /proc/self/cgroup) # read once: it changes as the test moves
while IFS=: read -r _ controllers path; do
  case ",$controllers," in
    ,,) mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -n 1) ;;
    *,memory,* | *,pids,* | *,cpu,*) mnt=$(findmnt -rn -t cgroup -o TARGET,OPTIONS |
      awk -v c="${controllers%%,*}" '$2 ~ "(^|,)"c"(,|$)" {print $1; exit}') ;;
    *) continue ;;
  esac
  [ -n "$mnt" ] && [ -w "$mnt$path" ] || continue
  d="$mnt${path%/}/$PRIV"
  mkdir -p "$d" && echo $$ >"$d/cgroup.procs" && priv_dirs+=("$d")
done <<<"$own_cgroups"
[ ${#priv_dirs[@]} -gt 0 ] || fail "could not put the test in cgroups of its own"

# every usbox-* cgroup directory below the test's own (v2 and v1)
all_usbox_cgroups() {
  find /sys/fs/cgroup -maxdepth 8 -type d -path "*/$PRIV/*" -name 'usbox-[0-9]*' 2>/dev/null | sort
}
others=$(for d in $(all_usbox_cgroups); do
  kill -0 "${d##*usbox-}" 2>/dev/null && echo "$d"
done)
cgroups_left() {
  all_usbox_cgroups | grep -vxF -e "${others:-/nothing}"
}
expect_eq "no usbox cgroup before the tests" "" "$(cgroups_left)"

# ---------------------------------------------------------------- memory

hog='
import sys
chunks = []
for i in range(int(sys.argv[1])):
    chunks.append(bytearray(10 << 20))  # 10 MB, touched (zero-filled)
print("allocated", len(chunks) * 10, "MB")'
expect_exit 137 "--memory 64M: a program touching 300 MB is killed" -- \
  "$USBOX" exec --memory 64M -- python3 -c "$hog" 30
expect_grep "usbox says the memory limit was hit" "usbox: the agent hit the memory limit .--memory 67108864 bytes" "$ERR"
expect_exit 0 "--memory 64M: a program using 20 MB runs" -- \
  "$USBOX" exec --memory 64M -- python3 -c "$hog" 2
expect_eq "and finishes" "allocated 20 MB" "$(cat "$OUT")"
expect_eq "no usbox cgroup left after the memory runs" "" "$(cgroups_left)"

# The work usbox does for the agent counts against its limits (issue 16).
# A symlink flood in the private /tmp: the links are made by the gofer; on
# fb0db48 60,000 links with long targets took 234 MB of host memory while
# the sandbox's cgroup showed none. Natively a 64M memory cgroup OOM-kills
# it at ~10,000 links: here too (or it finds /tmp full first).
cat >"$TMPROOT/links.py" <<'EOF'
import os, sys
target = "t" * 3000
n = 0
try:
    for i in range(60000):
        os.symlink(target + str(i), "/tmp/l%d" % i)
        n += 1
except OSError as e:
    print("stopped at", n, e.strerror)
    sys.exit(3)
print("made", n)
EOF
"$USBOX" exec --memory 64M -- python3 "$TMPROOT/links.py" >"$OUT" 2>"$ERR"
rc=$?
if { [ "$rc" = 137 ] && grep -q "hit the memory limit" "$ERR"; } ||
  { [ "$rc" = 3 ] && grep -q "^stopped at" "$OUT"; }; then
  pass "--memory 64M stops a symlink flood in /tmp (status $rc: $(head -c 100 "$OUT"))"
else
  fail "--memory 64M and a symlink flood: status $rc, $(head -c 200 "$OUT") $(head -c 200 "$ERR")"
fi
expect_eq "--memory 64M: /tmp and /dev/shm hold 64M at most" "65536 65536" \
  "$("$USBOX" exec --memory 64M -- sh -c 'echo $(df -k /tmp | awk "NR==2 {print \$2}") $(df -k /dev/shm | awk "NR==2 {print \$2}")')"

# --cpus 0.2 holds the sandbox to 0.2 CPUs with the sentry's and gofer's
# work for it included: a loop of emulated stats (each costs far more CPU
# in usbox than in the agent) for 4 s. On fb0db48 this used ~0.98 CPUs.
# (The interpreter itself, not a launcher script that would add its own
# processes to the count.)
PY=$(python3 -c 'import sys; print(sys.executable)')
cat >"$TMPROOT/cpu.py" <<'EOF'
import resource, subprocess, sys, time
work = ("import os, time\nend = time.monotonic() + 4\nn = 0\n"
        "while time.monotonic() < end:\n    os.stat('/etc/hostname'); n += 1\nprint(n)")
t0 = time.monotonic()
p = subprocess.run(sys.argv[1:] + [sys.executable, "-c", work], capture_output=True, text=True)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%d %s %.3f %.2f" % (p.returncode, p.stdout.strip() or 0, (ru.ru_utime + ru.ru_stime) / wall, wall))
EOF
read -r rc stats cpus wall < <("$PY" "$TMPROOT/cpu.py" "$USBOX_REAL" exec --ro "$TMPROOT" --cpus 0.2 --)
if [ "$rc" = 0 ] && [ "$stats" -gt 500 ] && awk -v c="$cpus" 'BEGIN { exit !(c <= 0.25) }'; then
  pass "--cpus 0.2: usbox, gofer and agent together used $cpus CPUs ($stats stats in ${wall}s)"
else
  fail "--cpus 0.2: status $rc, $stats stats, $cpus CPUs over ${wall}s (at most 0.25 expected)"
fi
expect_eq "no usbox cgroup left after the flood and the CPU run" "" "$(cgroups_left)"

# ---------------------------------------------------------------- pids

# a fork bomb, bounded by --timeout so it cannot outlive the test
# (the shell may give up by itself when its fork fails: 2; or run into the
# timeout: 124)
timeout -k 5 60 "$USBOX" exec --pids 32 --timeout 3 --timeout-grace 1 -- \
  sh -c 'b() { b & b; }; b 2>/dev/null # usbox-fork-bomb' >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ] || [ "$rc" = 124 ]; then
  pass "--pids 32: a fork bomb is contained and ends (status $rc)"
else
  fail "--pids 32: the fork bomb ended with status $rc"
fi
sleep 0.2
expect_eq "no process of the fork bomb is left on the host" "" "$(pgrep -f 'usbox-fork-bomb' | grep -vx "$$")"
expect_exit 0 "--pids 20: forks beyond it fail with EAGAIN" -- \
  "$USBOX" exec --pids 20 -- python3 -c '
import os, errno
kids, err = [], None
for i in range(40):
    try:
        pid = os.fork()
    except OSError as e:
        err = errno.errorcode[e.errno]; break
    if pid == 0:
        import time; time.sleep(3); os._exit(0)
    kids.append(pid)
print(len(kids) < 20, err)
for k in kids: os.kill(k, 9)'
expect_eq "fewer than 20 forks, then EAGAIN" "True EAGAIN" "$(cat "$OUT")"

# ---------------------------------------------------------------- cpus

# a busy loop for 2 s of wall time gets about 1 s of CPU at --cpus 0.5
cpu_probe='
import os, time
t0 = time.time()
while time.time() - t0 < 2.0:
    pass
c = os.times()
print("%.2f" % ((c.user + c.system) / (time.time() - t0)))'
expect_exit 0 "--cpus 0.5: a busy loop" -- "$USBOX" exec --cpus 0.5 -- python3 -c "$cpu_probe"
ratio=$(cat "$OUT")
if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.2 && r <= 0.75) }'; then
  pass "--cpus 0.5: CPU time / wall time is $ratio"
else
  fail "--cpus 0.5: CPU time / wall time is '$ratio' (want 0.2-0.75: at most half a CPU, and some)"
fi

# ---------------------------------------------------------------- timeout

start=$(date +%s%N)
expect_exit 124 "--timeout 1: sleep 30 ends with 124" -- "$USBOX" exec --timeout 1 -- sleep 30
elapsed=$((($(date +%s%N) - start) / 1000000))
expect_grep "usbox says the time ran out" "usbox: the agent ran out of time .--timeout 1 s" "$ERR"
if [ "$elapsed" -lt 2500 ]; then pass "--timeout 1 took ${elapsed} ms"; else fail "--timeout 1 took ${elapsed} ms"; fi
expect_exit 124 "--timeout 1 --timeout-grace 1: a program ignoring SIGTERM is killed" -- \
  "$USBOX" exec --timeout 1 --timeout-grace 1 -- sh -c 'trap "" TERM; echo started; sleep 30; echo not-reached'
expect_eq "it got SIGTERM first, and was not reached after" started "$(cat "$OUT")"
expect_grep "usbox says it killed it after the grace" "killed after the grace" "$ERR"
# as timeout(1): 124 whenever the time ran out, however the program ended
expect_exit 124 "--timeout: a program handling SIGTERM" -- \
  "$USBOX" exec --timeout 1 -- sh -c 'trap "echo got TERM; exit 7" TERM; sleep 30 & wait'
expect_eq "ran its handler" "got TERM" "$(cat "$OUT")"
expect_exit 0 "--timeout longer than the program changes nothing" -- \
  "$USBOX" exec --timeout 30 -- true

# ---------------------------------------------------------------- nofile

expect_exit 0 "--nofile 32" -- "$USBOX" exec --nofile 32 -- python3 -c '
import os, resource, errno
print(resource.getrlimit(resource.RLIMIT_NOFILE))
fds = []
try:
    for i in range(40):
        fds.append(os.open("/etc/hostname", os.O_RDONLY))
except OSError as e:
    print(errno.errorcode[e.errno], len(fds) < 32)'
expect_eq "the limit is 32 and the 40 opens stop at EMFILE" "(32, 32)
EMFILE True" "$(cat "$OUT")"

# The limit is the agent's, not usbox's: its own start-up (the view's /dev,
# the network's sockets) needs more than 8 fds. The agent counts the same
# opens to EMFILE as natively under the same limit, set by --nofile or
# inherited from the caller (usbox raises its own).
count_opens='ulimit -n; for i in 3 4 5 6 7 8 9 10; do eval "exec $i</etc/hostname" 2>/dev/null || { echo "EMFILE at $i"; break; }; done'
expect_exit 0 "--nofile 8, natively (prlimit)" -- prlimit --nofile=8 bash -c "$count_opens"
native_opens=$(cat "$OUT")
expect_exit 0 "--nofile 8 starts the sandbox" -- "$USBOX" exec --nofile 8 -- bash -c "$count_opens"
expect_eq "--nofile 8: the agent's limit and opens as natively" "$native_opens" "$(cat "$OUT")"
# (the real binary: the shim's /bin/sh opens its script at fd 10)
expect_exit 0 "an inherited soft limit of 8 starts the sandbox" -- \
  sh -c 'ulimit -Sn 8; cd / && exec "$@"' sh "$USBOX_REAL" exec -- bash -c "$count_opens"
expect_eq "inherited limit 8: the agent's limit and opens as natively" "$native_opens" "$(cat "$OUT")"

# ---------------------------------------------------------------- the cgroups

"$USBOX" exec --memory 256M --pids 64 --cpus 1 -- cat /proc/self/cgroup >"$TMPROOT/cg.in" 2>&1
if grep -q '^[0-9]*:memory:/$' "$TMPROOT/cg.in" && grep -q '^[0-9]*:pids:/$' "$TMPROOT/cg.in"; then
  pass "inside, its cgroups are the root of its cgroup namespace"
else
  fail "inside, /proc/self/cgroup: $(cat "$TMPROOT/cg.in")"
fi
# (a FIFO's open is the gofer's, which starts at the run's first request)
"$USBOX" exec --memory 256M --pids 64 -- sh -c 'mkfifo /tmp/f && exec 3<>/tmp/f && exec sleep 60.417' &
pid=$!
track_bg "$pid"
for _ in $(seq 100); do [ -n "$(cgroups_left)" ] && break; sleep 0.05; done
made=$(cgroups_left)
if grep -q "/memory/.*usbox-$pid$" <<<"$made" && grep -q "/pids/.*usbox-$pid$" <<<"$made"; then
  pass "while it runs, the sandbox has its cgroups (usbox-$pid)"
else
  fail "cgroups while running: '$made'"
fi
# the memory limit on usbox-<pid>/sandbox (the agent's and the gofer's),
# pids on sandbox/agent, usbox itself in usbox-<pid>/usbox
# (v1 where this host has that controller as v1, else v2)
cg_dir() {
  local d
  d=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "usbox-$pid" -path "*/$1/*" | head -1)
  [ -n "$d" ] || d=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "usbox-$pid" -path '*unified*' | head -1)
  [ -n "$d" ] || d=$(find /sys/fs/cgroup -maxdepth 1 -type d -name "usbox-$pid" | head -1)
  echo "$d"
}
D=$(cg_dir memory)
# (the gofer starts after the cgroups are made, at the agent's FIFO open)
for _ in $(seq 100); do [ -n "$(cat "$D/sandbox/gofer/cgroup.procs")" ] && break; sleep 0.05; done
lim=$(cat "$D/sandbox/memory.limit_in_bytes" "$D/sandbox/memory.max" 2>/dev/null | head -1)
P=$(cg_dir pids)
if [ "$lim" = 268435456 ] && [ "$(cat "$P/sandbox/agent/pids.max")" = 64 ] &&
  grep -qx "$pid" "$D/usbox/cgroup.procs" && [ -n "$(cat "$D/sandbox/gofer/cgroup.procs")" ] &&
  [ -n "$(cat "$D/sandbox/agent/cgroup.procs")" ]; then
  pass "the limits are written in it, usbox, the gofer and the agent each in their leaf"
else
  fail "the limits or processes are not where expected (memory in $D: $lim; pids in $P: $(cat "$P/sandbox/agent/pids.max"); usbox $pid: $(cat "$D/usbox/cgroup.procs" | tr "\n" " "))"
fi
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
sleep 0.3
expect_eq "usbox SIGKILLed: its cgroups are still there" "$made" "$(cgroups_left)"
expect_eq "the sandbox's processes are gone all the same" "" "$(pgrep -f 'sleep 60.417$' | xargs -r ps -o pid= -o args= -p | grep -v "$USBOX")"
expect_exit 0 "the next start with a limit" -- "$USBOX" exec --pids 64 -- true
expect_eq "has removed them" "" "$(cgroups_left)"

# ---------------------------------------------------------------- bad values

# A limit only the sandbox's first process finds it cannot set (above
# fs.nr_open): it fails before it has read the hidden paths usbox resolves
# meanwhile; the line is its own, not usbox's broken pipe to it.
expect_exit 125 "--nofile above fs.nr_open" -- "$USBOX" exec --nofile 1073741824 -- true
expect_eq "--nofile above fs.nr_open: the first process's own line" \
  "usbox: --nofile 1073741824: Operation not permitted" "$(cat "$ERR")"

for bad in "--memory lots" "--memory 0" "--pids -1" "--cpus zero" "--timeout -5" "--nofile 3" "--limits sometimes"; do
  # shellcheck disable=SC2086
  expect_exit 125 "bad value: $bad" -- "$USBOX" exec $bad -- true
  if [ "$(wc -l <"$ERR")" = 1 ] && grep -q '^usbox: ' "$ERR"; then
    pass "one line for $bad"
  else
    fail "for $bad: $(cat "$ERR")"
  fi
done
expect_eq "no usbox cgroup after the bad values" "" "$(cgroups_left)"
printf '{"limits": {"memory": "64M", "timeout": 1}}' >"$TMPROOT/limits.json"
expect_exit 124 "--policy with limits: the timeout applies" -- \
  "$USBOX" exec --policy "$TMPROOT/limits.json" -- sleep 30
printf '{"limits": {"memory": "huge"}}' >"$TMPROOT/bad.json"
expect_exit 125 "--policy with a bad limit" -- "$USBOX" exec --policy "$TMPROOT/bad.json" -- true

# ---------------------------------------------------------------- without root

NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent)
RL=$TMPROOT/rootless
mkdir -p "$RL" && chmod 777 "$RL" && chmod 711 "$TMPROOT"
USBOX_NB=$(usbox_for_nobody)
IN_RL=(sh -c 'cd "$1" && shift && exec "$@"' sh "$RL" "${NOBODY[@]}")
# RLIMIT_AS is no memory limit (address space, per process: node dies
# under --memory 512M with it): --limits strict refuses, best-effort falls
# back with a warning
expect_exit 125 "as nobody: --memory 64M cannot be enforced: an error" -- \
  "${IN_RL[@]}" "$USBOX_NB" exec --rw . --memory 64M -- true
expect_grep "saying so, in one line" "^usbox: --memory cannot be enforced here [(]no writable memory cgroup; --limits best-effort" "$ERR"
expect_eq "one line" 1 "$(wc -l <"$ERR")"
expect_exit 1 "as nobody: --memory 64M --limits best-effort falls back to RLIMIT_AS" -- \
  "${IN_RL[@]}" "$USBOX_NB" exec --rw . --memory 64M --limits best-effort -- python3 -c "$hog" 30
expect_grep "with a warning that says what it does" "RLIMIT_AS limits each process" "$ERR"
expect_grep "and the allocation fails" "MemoryError" "$ERR"
expect_exit 125 "as nobody: --cpus cannot be enforced: an error" -- \
  "${IN_RL[@]}" "$USBOX_NB" exec --rw . --cpus 0.5 -- true
expect_grep "saying so" "--cpus cannot be enforced here" "$ERR"
expect_exit 0 "as nobody: --cpus with --limits best-effort runs" -- \
  "${IN_RL[@]}" "$USBOX_NB" exec --rw . --cpus 0.5 --limits best-effort -- true
expect_grep "with a warning" "not enforced" "$ERR"
expect_exit 124 "as nobody: --timeout works" -- "${IN_RL[@]}" "$USBOX_NB" exec --rw . --timeout 1 -- sleep 30
expect_eq "no usbox cgroup at the end" "" "$(cgroups_left)"

# back to where the test started, its own cgroups removed
for p in "${_bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
for d in "${priv_dirs[@]}"; do
  echo $$ >"$(dirname "$d")/cgroup.procs" 2>/dev/null
  for _ in $(seq 100); do rmdir "$d" 2>"$TMPROOT/rmdir.err" && break; sleep 0.05; done
  [ -d "$d" ] && fail "the test's cgroup $d is left: $(cat "$TMPROOT/rmdir.err")"
done
finish
