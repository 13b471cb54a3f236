#!/usr/bin/env bash
# Process model: exit status, death by signal, usbox's own errors, signal
# forwarding, fail-closed on usbox's death, no fd leak, background children
# killed at exit, stdin, and an interactive shell on a pty.
. "$(dirname "$0")/lib.sh"

ulimit -c 0 # crashes below must not leave core files around

# ---------------------------------------------------------------- exit status

for code in 0 1 3 255; do
  expect_exit "$code" "exit $code passes through" -- "$USBOX" exec -- sh -c "exit $code"
done
expect_exit 0 "options end at the program: usbox exec ls -la" -- "$USBOX" exec ls -la /
expect_exit 2 "the program's own status from its own flag" -- "$USBOX" exec ls --no-such-flag

# ---------------------------------------------------------------- killed by a signal

expect_exit 143 "kill -TERM \$\$ -> 143" -- "$USBOX" exec -- sh -c 'kill -TERM $$'
expect_exit 137 "kill -KILL \$\$ -> 137" -- "$USBOX" exec -- sh -c 'kill -KILL $$'
expect_exit 134 "abort() -> 134" -- "$USBOX" exec -- python3 -c 'import os; os.abort()'

cat >"$TMPROOT/crash.c" <<'EOF'
#include <stdio.h>
int main(void)
{
  volatile int *p = (int *)16;
  printf("about to crash\n");
  fflush(stdout);
  return *p;
}
EOF
if gcc -o "$TMPROOT/crash" "$TMPROOT/crash.c"; then
  expect_exit 139 "SIGSEGV of a C program -> 139" -- "$USBOX" exec -- "$TMPROOT/crash"
  expect_grep "crashing program's output before the crash" "about to crash" "$OUT"
else
  fail "gcc could not build the crash program"
fi
expect_exit 139 "SIGSEGV of python3 (ctypes) -> 139" -- \
  "$USBOX" exec -- python3 -c 'import ctypes; ctypes.string_at(0)'

# ---------------------------------------------------------------- usbox's own errors

# one_usbox_line NAME: $ERR holds exactly one line, from usbox
one_usbox_line() {
  local lines
  lines=$(wc -l <"$ERR")
  if [ "$lines" = 1 ] && grep -q '^usbox' "$ERR"; then
    pass "$1: one line from usbox on stderr"
  else
    fail "$1: stderr is not one usbox line ($lines lines)"
    show stderr "$ERR"
  fi
}

expect_exit 125 "unknown option -> 125" -- "$USBOX" exec --no-such-option -- true
one_usbox_line "unknown option"
expect_exit 125 "unknown short option -> 125" -- "$USBOX" exec -Z true
one_usbox_line "unknown short option"
expect_exit 125 "--audit without its argument -> 125" -- "$USBOX" exec --audit
one_usbox_line "--audit without argument"
expect_exit 125 "no program -> 125" -- "$USBOX" exec
one_usbox_line "no program"
expect_exit 125 "only -- and no program -> 125" -- "$USBOX" exec --
one_usbox_line "-- and no program"

expect_exit 127 "program not found -> 127" -- "$USBOX" exec -- no-such-program-xyz
one_usbox_line "program not found"
expect_grep "not-found message names the program" "no-such-program-xyz" "$ERR"
expect_exit 127 "missing absolute path -> 127" -- "$USBOX" exec -- "$TMPROOT/nowhere/prog"
expect_grep "message names the missing path" "nowhere/prog" "$ERR"

printf '#!/bin/sh\necho should not run\n' >"$TMPROOT/notexec"
chmod 644 "$TMPROOT/notexec"
mkdir -p "$TMPROOT/adir" "$TMPROOT/bin"
expect_exit 126 "non-executable file -> 126" -- "$USBOX" exec -- "$TMPROOT/notexec"
one_usbox_line "non-executable file"
expect_grep "126 message names the file" "notexec" "$ERR"
expect_exit 126 "a directory -> 126" -- "$USBOX" exec -- "$TMPROOT/adir"
one_usbox_line "a directory"
cp "$TMPROOT/notexec" "$TMPROOT/bin/only-in-path"
expect_exit 126 "non-executable file found on PATH -> 126" -- \
  env PATH="$TMPROOT/bin:$PATH" "$USBOX" exec -- only-in-path
# Root bypasses permission checks, but not the need for an x bit: a mode 0644
# file is not executable for root either (as natively).
expect_exit 126 "natively the same file gives 126 too" -- bash -c "'$TMPROOT/notexec'"

# ---------------------------------------------------------------- signal forwarding

# usbox is started in the background of this script; a non-interactive shell
# would start it with SIGINT ignored, so reset that with env.
for sig in TERM INT HUP; do
  out=$TMPROOT/fwd.$sig
  env --default-signal=INT,QUIT "$USBOX" exec -- sh -c "
    trap 'echo got $sig; exit 7' $sig
    echo ready
    while :; do sleep 0.05; done" >"$out" 2>&1 &
  pid=$!
  track_bg "$pid"
  for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.05; done
  kill "-$sig" "$pid"
  wait_bg "$pid"
  rc=$?
  expect_eq "SIG$sig sent to usbox reaches the agent's trap (status)" 7 "$rc"
  expect_grep "SIG$sig: the trap ran" "^got $sig\$" "$out"
done

# An agent without a handler dies of the forwarded signal: 128+N.
env --default-signal=INT "$USBOX" exec -- sleep 1000 &
pid=$!
track_bg "$pid"
sleep 0.5
kill -USR1 "$pid"
wait_bg "$pid"
rc=$?
expect_eq "SIGUSR1 forwarded to a handler-less agent -> 138" 138 "$rc"

# ---------------------------------------------------------------- fail closed

# wait_gone_named PATTERN SECONDS: no host process matches PATTERN (pgrep -f)
wait_gone_named() {
  local i
  for i in $(seq $(($2 * 20))); do
    pgrep -f "$1" >/dev/null || return 0
    sleep 0.05
  done
  return 1
}

# children_of PID: pids of PID's children (all threads)
children_of() { cat /proc/"$1"/task/*/children 2>/dev/null; }

# wait_child_named PID NAME: print the pid of PID's descendant running NAME
# (the agent is a grandchild of usbox: the sandbox's init is between them)
wait_child_named() {
  local c
  for _ in $(seq 100); do
    for c in $(children_of "$1") $(for g in $(children_of "$1"); do children_of "$g"; done); do
      if [ "$(cat /proc/"$c"/comm 2>/dev/null)" = "$2" ]; then
        echo "$c"
        return 0
      fi
    done
    sleep 0.05
  done
  return 1
}

"$USBOX" exec -- sleep 1000 &
pid=$!
track_bg "$pid"
if child=$(wait_child_named "$pid" sleep); then
  track_bg "$child"
  { kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
  if wait_gone "$child" 3; then
    pass "usbox killed: its agent (sleep) is gone"
  else
    fail "usbox killed: agent $child still alive: $(grep State /proc/"$child"/status)"
  fi
else
  fail "could not find the sleep started by usbox"
  kill -KILL "$pid"
fi

# A grandchild does not outlive usbox either: the sandbox's init dies with
# usbox (PDEATHSIG), and with it the whole pid namespace. The kernel sends
# that signal at the very end of usbox's exit, which a large address space
# (ASan's) under load can delay past a second; whatever the grandchild
# tries meanwhile fails (the listener is gone: fail closed). So: it never
# gets anything done, and it is gone soon after.
res=$TMPROOT/orphan.result
"$USBOX" exec -- sh -c '
  exec 3>"$1"
  ( echo ready >&3
    sleep 1.5
    if cat /etc/hostname >/dev/null 2>&1; then echo opened >&3; else echo failed >&3; fi
    exec sleep 1000.375 ) &
  exec sleep 1000.25' sh "$res" 2>"$TMPROOT/orphan.err" &
pid=$!
track_bg "$pid"
for _ in $(seq 100); do grep -q ready "$res" 2>/dev/null && break; sleep 0.05; done
{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
gone=no
for _ in $(seq 200); do pgrep -f 'sleep 1000\.375' >/dev/null || { gone=yes; break; }; sleep 0.05; done
sleep 2 # past the grandchild's try, had it survived
expect_eq "a grandchild of a killed usbox gets nothing done" "ready" "$(grep -v failed "$res" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
expect_eq "and is gone within 10 s" yes "$gone"
expect_eq "nothing of the sandbox is left after usbox's SIGKILL" "" "$(pgrep -f 'sleep 1000.25')"

# ---------------------------------------------------------------- no fd leak

# natively, with every fd above 2 closed first (this script may have more)
native_fds=$(python3 -c 'import os; os.closerange(3, 1 << 20); os.execvp("ls", ["ls", "/proc/self/fd"])' | tr '\n' ' ')
expect_eq "sanity: natively, clean ls /proc/self/fd is 0 1 2 3" "0 1 2 3 " "$native_fds"
expect_exit 0 "ls /proc/self/fd under usbox" -- "$USBOX" exec -- ls /proc/self/fd
expect_eq "fds under usbox: 0 1 2 and ls's own" "$native_fds" "$(tr '\n' ' ' <"$OUT")"
expect_exit 0 "ls -l /proc/self/fd under usbox" -- "$USBOX" exec -- ls -l /proc/self/fd
expect_eq "ls -l /proc/self/fd lists 4 fds" 4 "$(grep -c -- '->' "$OUT")"

(
  exec 7</etc/passwd 8>"$TMPROOT/x" 9<>"$TMPROOT/y"
  "$USBOX" exec -- ls /proc/self/fd >"$TMPROOT/fds.out" 2>&1
  "$USBOX" exec -- python3 -c 'import os; print(sorted(os.listdir("/proc/self/fd"), key=int))' \
    >"$TMPROOT/fds.py" 2>&1
  ls /proc/self/fd >"$TMPROOT/fds.native"
)
expect_eq "sanity: natively, fds 7 8 9 are inherited" "7 8 9" "$(echo $(grep -x '[789]' "$TMPROOT/fds.native"))"
expect_eq "usbox started with fds 7 8 9 open: agent has only 0 1 2 (+ls's)" "0 1 2 3" "$(echo $(cat "$TMPROOT/fds.out"))"
expect_eq "python3 listdir /proc/self/fd under usbox with extra fds" "['0', '1', '2', '3']" "$(cat "$TMPROOT/fds.py")"

# ---------------------------------------------------------------- nothing passes for usbox after it returned
# The fsnotify groups (the hidden paths' watch, the walk cache's) are
# released by a short-lived child after usbox exits
# (common/close_detached.c): it must not carry usbox's command line
# (pgrep -f, ps), and it must end.
MARK="usbox-cmdline-mark-$$"
"$USBOX" exec -- /bin/true "$MARK"
expect_eq "right after usbox returned, no process carries its command line" "" \
  "$(pgrep -af -- "$MARK")"
# (other tests' helpers come and go within tens of ms: one seen twice,
# half a second apart, and not a zombie, is stuck)
live_closers() { pgrep -x usbox-close | xargs -r ps -o pid=,stat= -p | awk '$2 !~ /Z/ {print $1}' | sort; }
sleep 0.5
first=$(live_closers)
sleep 0.5
expect_eq "no usbox-close process lives on" "" "$(comm -12 <(echo "$first") <(live_closers))"

# ---------------------------------------------------------------- background children killed

expect_exit 0 "agent leaves a background sleep" -- \
  "$USBOX" exec -- sh -c 'sleep 1000.5 & echo $!'
# the pid the agent sees is its namespace's; on the host, find it by name
if wait_gone_named 'sleep 1000.5' 2; then
  pass "background child is gone after usbox returns"
else
  fail "background child still alive after usbox returned: $(pgrep -af 'sleep 1000.5')"
  pkill -KILL -f 'sleep 1000.5'
fi

expect_exit 0 "agent leaves an orphaned setsid grandchild" -- \
  "$USBOX" exec -- sh -c '(exec setsid sleep 1000.75) & echo $!; sleep 0.2'
if wait_gone_named 'sleep 1000.75' 2; then
  pass "setsid grandchild is gone after usbox returns"
else
  fail "setsid grandchild still alive after usbox returned: $(pgrep -af 'sleep 1000.75')"
  pkill -KILL -f 'sleep 1000.75'
fi

# A child the caller already had when it exec'd usbox is not the sandbox's:
# natively it survives the exec, so it must survive usbox too. (bash -c's
# background job is a child of the process that becomes usbox.)
FPID=$TMPROOT/foreign.pid
expect_exit 0 "a shell's background job, then exec usbox" -- \
  bash -c "sleep 1000.25 & echo \$! >'$FPID'; exec '$USBOX' exec -- true"
fpid=$(cat "$FPID" 2>/dev/null)
if [ -n "$fpid" ] && kill -0 "$fpid" 2>/dev/null && grep -q 'sleep' "/proc/$fpid/cmdline" 2>/dev/null; then
  pass "the caller's own background job survives usbox"
  kill -KILL "$fpid"
else
  fail "usbox killed a process it did not start (pid ${fpid:-?})"
fi

# ---------------------------------------------------------------- stdin

expect_eq "stdin passes through (echo hi | usbox exec -- cat)" hi \
  "$(echo hi | timeout 30 "$USBOX" exec -- cat)"
expect_eq "large stdin through a pipe" 200000 \
  "$(seq 200000 | timeout 30 "$USBOX" exec -- wc -l)"
seq 1000 >"$TMPROOT/in.txt"
expect_eq "stdin redirected from a file" "$(md5sum <"$TMPROOT/in.txt")" \
  "$(timeout 30 "$USBOX" exec -- md5sum <"$TMPROOT/in.txt")"
expect_eq "stdout into a closed pipe: SIGPIPE as natively" \
  "$(yes | head -n 1; echo "${PIPESTATUS[0]}")" \
  "$(timeout 30 "$USBOX" exec -- yes | head -n 1; echo "${PIPESTATUS[0]}")"

# ---------------------------------------------------------------- interactive shell on a pty

# ptyrun.py USBOX ITEM...: run `usbox exec -- bash -i` on a new pty; each ITEM
# is written to the terminal (backslash escapes allowed), or, as WAIT:TEXT,
# waits until the terminal has shown TEXT. Prints the output and STATUS=N.
cat >"$TMPROOT/ptyrun.py" <<'EOF'
import os, pty, select, sys, time
usbox, items = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(usbox, [usbox, "exec", "--", "bash", "--norc", "--noprofile", "-i"])
out = b""
deadline = time.time() + 30
next_write = time.time() + 0.3
while time.time() < deadline:
    if items and items[0].startswith("WAIT:"):
        if items[0][5:].encode() in out:
            items.pop(0)
            next_write = time.time() + 0.5
    elif items and time.time() >= next_write:
        os.write(fd, items.pop(0).encode().decode("unicode_escape").encode())
        next_write = time.time() + 0.3
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        out += data
else:
    os.kill(pid, 9)
    print("TIMEOUT waiting for", items[:1])
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("\nSTATUS=%d" % os.waitstatus_to_exitcode(status))
EOF
timeout 60 python3 "$TMPROOT/ptyrun.py" "$USBOX" 'echo $((6*7)); exit 5\n' >"$TMPROOT/pty.out" 2>&1
expect_grep "interactive bash on a pty computes 42" '42$' "$TMPROOT/pty.out"
expect_grep "interactive bash on a pty exits 5" '^STATUS=5' "$TMPROOT/pty.out"
# Ctrl-C from the terminal reaches the foreground job inside the sandbox.
timeout 60 python3 "$TMPROOT/ptyrun.py" "$USBOX" 'echo st$((1+1))rt; sleep 100\n' 'WAIT:st2rt' '\x03' \
  'echo after-$((1+1)); exit 3\n' >"$TMPROOT/pty2.out" 2>&1
expect_grep "Ctrl-C interrupts sleep in the sandboxed shell" 'after-2$' "$TMPROOT/pty2.out"
expect_grep "and the shell then exits 3" '^STATUS=3' "$TMPROOT/pty2.out"

# The caller's terminal is intact after an agent's hostile ioctls: a line
# discipline (N_NULL shows nothing) would outlive the sandbox. ttyioctl.py
# [USBOX exec --]: the ioctl on a pty's slave given as stdin, natively or in
# usbox; then what the terminal's line discipline is.
cat >"$TMPROOT/ttyioctl.py" <<'EOF'
import fcntl, os, struct, subprocess, sys
TIOCSETD, TIOCGETD, N_NULL = 0x5423, 0x5424, 27
master, slave = os.openpty()
agent = ("import fcntl, struct\n"
         "try: fcntl.ioctl(0, %d, struct.pack('i', %d)); print('set')\n"
         "except OSError as e: print('refused', e.errno)\n") % (TIOCSETD, N_NULL)
out = subprocess.run(sys.argv[1:] + ["python3", "-c", agent], stdin=slave,
                     capture_output=True, text=True, timeout=60).stdout.strip()
ld = struct.unpack("i", fcntl.ioctl(slave, TIOCGETD, struct.pack("i", 0)))[0]
print(out, "discipline", ld)
EOF
expect_eq "natively, TIOCSETD N_NULL changes the terminal (the check can fail)" \
  "set discipline 27" "$(python3 "$TMPROOT/ttyioctl.py")"
expect_eq "in the sandbox it is refused and the terminal keeps N_TTY" \
  "refused 1 discipline 0" "$(python3 "$TMPROOT/ttyioctl.py" "$USBOX" exec --)"

# The agent has a terminal of its own, relayed to the caller's (sentry/
# tty_relay.h): it starts with the caller's settings and window size, gets
# SIGWINCH when the caller's window changes, and what it does to its
# terminal (settings, a line discipline, exclusive mode, output stopped with
# TCXONC) does not reach the caller's. ttyrelay.py CMD...: runs CMD python3
# -c AGENT as the session leader of a new pty (the "caller's terminal"),
# resizes it when the agent is ready, and says what the terminal is like
# after. Natively the agent breaks it in every way (the checks can fail).
cat >"$TMPROOT/ttyrelay.py" <<'EOF'
import fcntl, os, select, struct, sys, termios, time
TIOCGETD, TIOCGEXCL = 0x5424, 0x80045440
AGENT = r'''
import fcntl, os, signal, struct, sys, termios, time
def size():
    return "%dx%d" % struct.unpack("HHHH", fcntl.ioctl(0, termios.TIOCGWINSZ, b"\0" * 8))[:2]
print("tty", os.ttyname(0).startswith("/dev/pts/"), "size", size())
got = []
signal.signal(signal.SIGWINCH, lambda *a: got.append(1))
print("ready", flush=True)
t = time.time()
while not got and time.time() < t + 10:
    time.sleep(0.05)
print("winch", bool(got), size())
a = termios.tcgetattr(0)
a[3] &= ~(termios.ECHO | termios.ICANON)
termios.tcsetattr(0, termios.TCSANOW, a)
try:
    fcntl.ioctl(0, 0x5423, struct.pack("i", 27)); r = "set"
except OSError as e:
    r = "refused"
fcntl.ioctl(0, termios.TIOCEXCL)
print("hostile", r, flush=True)
time.sleep(0.3)
termios.tcflow(1, termios.TCOOFF)
'''
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 31, 97, 0, 0))
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for i in (0, 1, 2):
        os.dup2(slave, i)
    os.execvp(sys.argv[1], sys.argv[1:] + ["python3", "-c", AGENT])
os.set_blocking(master, False)
out, resized, status, deadline = b"", False, None, time.time() + 40
while time.time() < deadline:
    select.select([master], [], [], 0.05)
    try:
        out += os.read(master, 4096)
    except OSError:
        pass
    if b"ready" in out and not resized:
        time.sleep(0.2)
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        resized = True
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            status, deadline = os.waitstatus_to_exitcode(st), time.time() + 0.3
    elif b"hostile" in out:
        break
for line in out.decode(errors="replace").replace("\r", "").splitlines():
    if line.split(" ")[0] in ("tty", "winch", "hostile"):
        print(line)
try:
    same = termios.tcgetattr(slave) == before
except termios.error:  # N_NULL answers nothing
    same = False
ld = struct.unpack("i", fcntl.ioctl(slave, TIOCGETD, b"\0" * 4))[0]
excl = struct.unpack("i", fcntl.ioctl(slave, TIOCGEXCL, b"\0" * 4))[0]
os.set_blocking(slave, False)
try:
    os.write(slave, b"ping\n")
    time.sleep(0.2)
    flows = b"ping" in os.read(master, 4096)
except OSError:
    flows = False
print("after: settings %s, discipline %d, exclusive %d, output %s, status %s" % (
    "kept" if same else "changed", ld, excl, "flows" if flows else "stopped", status))
EOF
expect_eq "natively: the agent sees its terminal, its size and a resize" \
  "tty True size 31x97|winch True 40x120|after: settings changed, discipline 27, exclusive 1, output stopped, status 1" \
  "$(timeout 90 python3 "$TMPROOT/ttyrelay.py" env | paste -sd '|')"
expect_eq "in usbox: the same, and the caller's terminal is intact after its hostile ioctls" \
  "tty True size 31x97|winch True 40x120|hostile refused|after: settings kept, discipline 0, exclusive 0, output flows, status 0" \
  "$(timeout 90 python3 "$TMPROOT/ttyrelay.py" "$USBOX" exec -- | paste -sd '|')"

finish
