#!/usr/bin/env bash
# /proc/self, /proc/thread-self, /dev/fd and /dev/std* mean the agent (the
# calling process), never usbox's sentry that performs the path call.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- python3

# Every check prints "name: True" and is run natively too, so a check that
# is wrong natively shows up as a failure of the native run, not of usbox.
proc_py() {
  cat >procself.py <<'EOF'
import os, sys, threading, subprocess
pid = os.getpid()
def check(name, f):
    try:
        v = f()
    except Exception as e:
        v = "%s: %s" % (type(e).__name__, e)
    print("%s: %s" % (name, v))

check("readlink /proc/self is the pid", lambda: os.readlink("/proc/self") == str(pid))
check("/proc/self/stat field 1 is the pid",
      lambda: open("/proc/self/stat").read().split()[0] == str(pid))
check("/proc/self/status Pid", lambda: "Pid:\t%d\n" % pid in open("/proc/self/status").read())
check("os.stat /proc/self is /proc/pid",
      lambda: os.stat("/proc/self").st_ino == os.stat("/proc/%d" % pid).st_ino)
fd = os.open("data.txt", os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"payload")
check("readlink /proc/self/fd/N of an opened file",
      lambda: os.readlink("/proc/self/fd/%d" % fd) == os.path.abspath("data.txt"))
check("open /proc/self/fd/N reopens that file",
      lambda: open("/proc/self/fd/%d" % fd).read() == "payload")
check("os.stat /dev/fd/N is the file",
      lambda: os.stat("/dev/fd/%d" % fd).st_ino == os.fstat(fd).st_ino)
def fds_match():
    have = set()
    for n in range(1024):
        try:
            os.fstat(n)
            have.add(n)
        except OSError:
            pass
    listed = set(int(x) for x in os.listdir("/proc/self/fd"))
    extra = listed - have  # listdir's own directory fd
    return have <= listed and len(extra) == 1, sorted(have)
check("os.listdir /proc/self/fd equals the fds the process has", fds_match)
dfd = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
check("readlink relative to an open /proc/self/fd dirfd",
      lambda: os.readlink(str(fd), dir_fd=dfd) == os.path.abspath("data.txt"))
check("/proc/self/cwd", lambda: os.readlink("/proc/self/cwd") == os.getcwd())
check("/proc/self/exe", lambda: os.readlink("/proc/self/exe") == os.path.realpath(sys.executable))
check("/proc/self/root", lambda: os.readlink("/proc/self/root"))
check("/proc/self/cmdline",
      lambda: open("/proc/self/cmdline", "rb").read().split(b"\0")[1:3] == [b"procself.py", b"arg1"])
check("/proc/self/environ",
      lambda: b"PROCSELF_MARK=here" in open("/proc/self/environ", "rb").read().split(b"\0"))
r, w = os.pipe()
os.write(w, b"through the pipe")
os.close(w)
check("open /dev/fd/N of a pipe", lambda: open("/dev/fd/%d" % r).read())
check("sys.stdin via /dev/stdin", lambda: open("/dev/stdin").read())
os.chdir("/tmp")
check("/proc/self/cwd follows chdir", lambda: os.readlink("/proc/self/cwd"))
def in_thread(out):
    tid = threading.get_native_id()
    try:
        st = open("/proc/thread-self/status").read()
        out.append("Pid:\t%d\n" % tid in st and "Tgid:\t%d\n" % pid in st)
        out.append(os.readlink("/proc/thread-self") == "%d/task/%d" % (pid, tid))
        out.append(open("/proc/self/stat").read().split()[0] == str(pid))
        out.append(tid != pid)
    except Exception as e:
        out.append(repr(e))
res = []
t = threading.Thread(target=in_thread, args=(res,))
t.start(); t.join()
check("/proc/thread-self in a second thread", lambda: res)
def child():
    p = subprocess.Popen(["readlink", "/proc/self"], stdout=subprocess.PIPE, text=True)
    out = p.communicate()[0].strip()
    return out == str(p.pid) and out != str(pid)
check("/proc/self in a child process is the child", child)
EOF
  printf 'from stdin\n' >stdin.txt
}

same_as_native "python3: /proc/self, /proc/thread-self, /dev/fd" --setup proc_py \
  -- env PROCSELF_MARK=here python3 procself.py arg1
same_as_native "python3: same, stdin from a file" --setup proc_py \
  -- bash -c 'env PROCSELF_MARK=here python3 procself.py arg1 <stdin.txt'

# ---------------------------------------------------------------- shell and coreutils

same_as_native "echo hi | cat /dev/stdin" -- sh -c 'echo hi | cat /dev/stdin'
same_as_native "/dev/stdout, /dev/stderr, /dev/fd/1 as redirection targets" -- sh -c '
echo to-stdout >/dev/stdout; echo to-stderr >/dev/stderr; echo to-fd1 >/dev/fd/1
echo appended >>/dev/stdout'
same_as_native "cat /proc/self/fd/0 of a redirected file" -- sh -c '
echo content >f; cat /proc/self/fd/0 <f; readlink /proc/self/fd/0 <f; cat /dev/fd/0 <f'
same_as_native "readlink /proc/self/exe is the program itself" -- sh -c '
readlink /proc/self/exe; realpath /proc/self/exe; cat /proc/self/comm'
same_as_native "/proc/self/cmdline, cwd, root of a child" -- sh -c '
tr "\0" " " </proc/self/cmdline; echo; cat /proc/self/cmdline | tr "\0" " "; echo
mkdir d && cd d && readlink /proc/self/cwd && readlink /proc/self/root && ls /proc/self/cwd/..'
same_as_native "ls /dev/fd/ and ls -l /dev/fd/ entry count" -- sh -c '
ls /dev/fd/; ls -l /dev/fd/ | grep -c -- "->"; ls /proc/self/fd/ | wc -l'
same_as_native "a symlink to /proc/self, and .. inside /proc/self" -- sh -c '
ln -s /proc/self myself
cat myself/cmdline | tr "\0" " "; echo
tr "\0" " " <myself/cmdline; echo
test -d /proc/self/fd/.. && echo dotdot-is-dir
cat /proc/self/../self/comm'
same_as_native "stat -L /dev/stdin of a pipe and of a file" -- sh -c '
echo x | stat -L -c %F /dev/stdin; stat -L -c %F /dev/stdin </dev/null
echo x >f; stat -L -c "%F %s" /dev/stdin <f'

same_as_native "/proc/self and /proc/thread-self are symlinks (lstat, readlink)" -- sh -c '
stat -c %F /proc/self /proc/thread-self; stat -L -c %F /proc/self
test -L /proc/self && echo is-symlink
ls -ld /proc/self | cut -c1
readlink /proc/self >/dev/null && echo readlink-self-ok
readlink /proc/thread-self | grep -c /task/
[ "$(realpath /proc/self)" = "/proc/$(readlink /proc/self)" ] && echo realpath-ok
python3 -c "import os; print(os.path.islink(\"/proc/self\"), os.path.realpath(\"/proc/self\") == \"/proc/%d\" % os.getpid())"'

# The pid that /proc/self and /proc/thread-self show is the caller's.
expect_exit 0 "cat /proc/thread-self/status" -- \
  "$USBOX" exec -- sh -c 'echo $$; exec cat /proc/thread-self/status'
p=$(head -n 1 "$OUT")
expect_grep "Pid line is the calling process's pid" "^Pid:[[:space:]]+$p\$" "$OUT"
expect_grep "Tgid line too" "^Tgid:[[:space:]]+$p\$" "$OUT"
expect_exit 0 "readlink /proc/self in an exec'd shell" -- \
  "$USBOX" exec -- sh -c 'echo $$; exec readlink /proc/self'
expect_eq "readlink /proc/self is the pid" "$(head -n 1 "$OUT")" "$(sed -n 2p "$OUT")"
expect_exit 0 "/proc/self/stat of an exec'd cat" -- \
  "$USBOX" exec -- sh -c 'echo $$; exec cat /proc/self/stat'
expect_eq "stat field 1 is the pid" "$(head -n 1 "$OUT")" "$(sed -n 2p "$OUT" | cut -d' ' -f1)"
expect_exit 0 "python3: readlink /proc/self/exe" -- \
  "$USBOX" exec -- python3 -c 'import os, sys; print(os.readlink("/proc/self/exe") == os.path.realpath(sys.executable))'
expect_eq "python3 /proc/self/exe is python itself" True "$(cat "$OUT")"

finish
