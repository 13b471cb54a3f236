#!/usr/bin/env bash
# The capabilities that override file permissions and ownership
# (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
# CAP_FSETID) count only where the view lets the agent write
# (common/deputy.h, deputy_scope). A root agent that keeps them (here
# --cap-add ALL) reads, lists, connects to and changes another user's
# files in a --rw bind, as root in a container would; on the read-only
# host it sees it is a root without them: another user's 0600 file, 0700
# directory and 0600 socket are refused. On the host's files a chown never
# keeps a setuid or setgid bit (no CAP_FSETID there).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "test_cap_scope: needs root (the agent is root keeping capabilities)" >&2; exit 1; }
OTHER=4243
for d in ro rw; do
  mkdir -p "$TMPROOT/$d/closed"
  echo "secret of $d" >"$TMPROOT/$d/secret"
  echo "inside $d" >"$TMPROOT/$d/closed/f"
  chown -R "$OTHER:$OTHER" "$TMPROOT/$d/secret" "$TMPROOT/$d/closed"
  chmod 0600 "$TMPROOT/$d/secret"
  chmod 0700 "$TMPROOT/$d/closed"
done
cp /bin/true "$TMPROOT/rw/suid" && chown "$OTHER:$OTHER" "$TMPROOT/rw/suid" && chmod 6755 "$TMPROOT/rw/suid"
echo mine >"$TMPROOT/rw/mine"
chmod 755 "$TMPROOT"

# unix sockets of the other user, mode 0600, one in each place
cat >"$TMPROOT/sock.py" <<'EOF'
import os, socket, sys, threading
socks = []
for d in ("ro", "rw"):
    p = os.path.join(sys.argv[1], d, "sock")
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(4)
    os.chown(p, int(sys.argv[2]), int(sys.argv[2])); os.chmod(p, 0o600); socks.append(s)
    threading.Thread(target=lambda s=s: [c.sendall(b"hello") for c, _ in iter(s.accept, None)], daemon=True).start()
open(os.path.join(sys.argv[1], "sock.ready"), "w").close()
threading.Event().wait()
EOF
python3 "$TMPROOT/sock.py" "$TMPROOT" "$OTHER" &
track_bg $!
for _ in $(seq 100); do [ -e "$TMPROOT/sock.ready" ] && break; sleep 0.05; done

cat >"$TMPROOT/agent.py" <<'EOF'
import os, socket, sys
base = sys.argv[1]
def step(name, fn):
    try: r = "ok " + str(fn())
    except OSError as e: r = os.strerror(e.errno)
    print("%s: %s" % (name, r), flush=True)
def connect(p):
    s = socket.socket(socket.AF_UNIX); s.connect(p); return s.recv(10).decode()
for d in ("ro", "rw"):
    p = os.path.join(base, d)
    step(d + " read", lambda: open(os.path.join(p, "secret")).read().strip())
    step(d + " list", lambda: sorted(os.listdir(os.path.join(p, "closed"))))
    step(d + " connect", lambda: connect(os.path.join(p, "sock")))
step("rw chown", lambda: os.chown(os.path.join(base, "rw", "mine"), 4243, 4243))
step("rw chmod other", lambda: os.chmod(os.path.join(base, "rw", "secret"), 0o640))
step("rw chown suid", lambda: os.chown(os.path.join(base, "rw", "suid"), 0, 0))
step("ro chmod other", lambda: os.chmod(os.path.join(base, "ro", "secret"), 0o644))
EOF

run_agent() {
  "$USBOX" exec --cap-add ALL --ro "$TMPROOT/ro" --rw "$TMPROOT/rw" -- python3 "$TMPROOT/agent.py" "$TMPROOT"
}
expect_exit 0 "a root agent keeping every capability" -- run_agent
cp "$OUT" "$TMPROOT/agent.out"
want() { expect_grep "$1" "^$1: $2\$" "$TMPROOT/agent.out"; }
want "ro read" "Permission denied"
want "ro list" "Permission denied"
want "ro connect" "Permission denied"
want "rw read" "ok secret of rw"
want "rw list" "ok \['f'\]"
want "rw connect" "ok hello"
want "rw chown" "ok None"
want "rw chmod other" "ok None"
want "rw chown suid" "ok None"
want "ro chmod other" "Read-only file system"
expect_eq "the chown reached the host" "4243:4243" "$(stat -c %u:%g "$TMPROOT/rw/mine")"
expect_eq "the chmod of another user's file reached the host" "640" "$(stat -c %a "$TMPROOT/rw/secret")"
expect_eq "a chown on the host cleared setuid and setgid" "0:0 755" "$(stat -c '%u:%g %a' "$TMPROOT/rw/suid")"
expect_eq "the read-only place is unchanged" "600 $OTHER" "$(stat -c '%a %u' "$TMPROOT/ro/secret")"
# natively, root with every capability does all of it (the reference)
expect_eq "natively root reads the read-only one" "secret of ro" "$(cat "$TMPROOT/ro/secret")"

# Lingering (common/deputy.h): after a scope that changed only the
# effective set, the sentry reads the next call's arguments, takes its dirfd
# and reads its working directory with that set still in place, unless it
# takes its own first. Each of these must work as natively, in either order
# of a read-only place (the scope has no override capability) and a writable
# one: a path relative to the working directory (/proc/TID/cwd is
# ptrace-checked against the effective set), one relative to a dirfd
# (pidfd_getfd), an agent that made itself non-dumpable (process_vm_readv
# then wants CAP_SYS_PTRACE), one whose effective set is smaller than its
# permitted one, and another thread and process of the agent.
cat >"$TMPROOT/linger.py" <<'EOF'
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
home = os.getcwd()
def round_trip(tag):
    open('/etc/hostname').read()
    with open('made', 'w') as f:
        f.write(tag)
    os.chdir('/etc'); open('hostname').read(); os.stat('passwd')
    os.chdir(home)
    d = os.open('/etc', os.O_RDONLY); os.stat('passwd', dir_fd=d); os.close(d)
    d = os.open('.', os.O_RDONLY); os.stat('made', dir_fd=d); os.unlink('made', dir_fd=d); os.close(d)
    print(tag, 'ok')
round_trip('plain')
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
round_trip('not dumpable')
libc.prctl(4, 1, 0, 0, 0)
class Hdr(ctypes.Structure): _fields_ = [('v', ctypes.c_uint32), ('pid', ctypes.c_int)]
class Data(ctypes.Structure): _fields_ = [('e', ctypes.c_uint32), ('p', ctypes.c_uint32), ('i', ctypes.c_uint32)]
h, d = Hdr(0x20080522, 0), (Data * 2)()
assert libc.capget(ctypes.byref(h), d) == 0
d[0].e &= ~1  # CAP_CHOWN: permitted, no longer effective
assert libc.capset(ctypes.byref(h), d) == 0
round_trip('effective below permitted')
t = threading.Thread(target=round_trip, args=('thread',)); t.start(); t.join()
pid = os.fork()
if pid == 0:
    round_trip('child'); os._exit(0)
os.waitpid(pid, 0)
EOF
same_as_native "calls after a lingering deputy scope" -- python3 "$TMPROOT/linger.py"
finish
