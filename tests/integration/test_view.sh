#!/usr/bin/env bash
# The sandbox's filesystem view (docs/vfs.md), rule by rule: the default
# policy (hidden secrets, read-only host, private /tmp, minimal /dev), the
# --rw/--ro/--hide/--tmpfs/--policy flags, bad flags, symlinks and `..`,
# /proc, dirfd walks, rename/link across binds, and real programs.
#
# Probes are python3 scripts run inside the sandbox that print one line per
# call, "NAME: RESULT" (RESULT is the value, "ok", or the errno name); the
# expected lines are listed next to each probe (expect_lines). Where the
# kernel itself can give the reference answer (same_as_native, or real bind
# mounts in `unshare -m`), it does. Host state is checked after each run:
# writes through --rw land on the host, nothing else changes.
. "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------- helpers

# Throwaway host state outside $TMPROOT, removed at exit (before lib.sh's own
# exit handler, whose status is kept).
CREATED=()
HUSER=usbox-test-user-$$-$RANDOM
H=/home/$HUSER
[ -d /home ] || CREATED+=(/home) # a minimal container may have none
cleanup_view() {
  local p
  [ -n "${HOST_PIDS:-}" ] && kill -KILL $HOST_PIDS 2>/dev/null
  rm -rf -- "$H"
  for p in "${CREATED[@]}"; do rm -rf -- "$p"; done
}
# shellcheck disable=SC2154 # _rc is set by the trap itself
trap '_rc=$?; cleanup_view; (exit $_rc); _on_exit' EXIT
trap 'exit 143' TERM INT HUP

PY=$TMPROOT/py
mkdir -p "$PY"
PRELUDE='import os, sys, errno, stat, ctypes, threading
def res(f):
    try:
        v = f()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "ok" if v is None else v
def t(name, f):
    print("%s: %s" % (name, res(f)), flush=True)
libc = ctypes.CDLL(None, use_errno=True)
def cres(r):
    return "ok" if r >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
def access(p, mode):
    return cres(libc.access(os.fsencode(p), mode))
def statx(p, flags=0, dirfd=-100):
    buf = ctypes.create_string_buffer(256)
    return cres(libc.statx(dirfd, os.fsencode(p), flags, 0xfff, buf))
def write(p, text, mode="w"):
    with open(p, mode) as f:
        f.write(text)
def read(p):
    with open(p) as f:
        return f.read()
def creat(p, flags=0):
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY | flags, 0o644))
def ls(p):
    return " ".join(sorted(os.listdir(p)))
def same(a, b):
    x, y = os.stat(a), os.stat(b)
    return (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino)
'
# pyscript NAME: the probe $PY/NAME.py from stdin, after the prelude.
pyscript() { { printf '%s\n' "$PRELUDE"; cat; } >"$PY/$1.py"; }

# box OUT [usbox exec options] -- CMD...: the bare default policy (no shim
# binds), cwd /; stdout in OUT, stderr in OUT.err; returns the status.
box() {
  local out=$1
  shift
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  (cd / && exec timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec "${opts[@]}" -- "$@") \
    </dev/null >"$out" 2>"$out.err"
}
# sbox OUT DIR [options] -- CMD...: through the shim (--rw $TMPROOT, source
# and build trees read-only), cwd DIR.
sbox() {
  local out=$1 dir=$2
  shift 2
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  (cd "$dir" && exec timeout -k 5 "$CMD_TIMEOUT" "$USBOX" exec "${opts[@]}" -- "$@") \
    </dev/null >"$out" 2>"$out.err"
}

# expect_lines LABEL FILE: every line on stdin must be a line of FILE (each
# miss is a failure of its own; all found is one pass). A line starting with
# "~ " is an extended regex for a whole line. Feed it with a here-document
# or `< <(...)`, not a pipe (a pipe would run it in a subshell).
expect_lines() {
  local label=$1 file=$2 line key n=0 bad=0
  while IFS= read -r line; do
    [ -z "$line" ] && continue
    n=$((n + 1))
    if [ "${line#\~ }" != "$line" ]; then
      grep -qxE -- "${line#\~ }" "$file" && continue
    else
      grep -qxF -- "$line" "$file" && continue
    fi
    bad=$((bad + 1))
    key=${line#\~ }
    key=${key%%: *}
    fail "$label: expected [${line#\~ }], got [$(grep -F -- "$key: " "$file" | head -1)]"
  done
  [ "$bad" -eq 0 ] && pass "$label: $n results as expected"
  [ "$bad" -gt 0 ] && [ ! -s "$file" ] && show "stderr (no output at all)" "$file.err"
  if [ -s "$file.err" ] && grep -qE 'Traceback|unexpected notification|answering [0-9]+ failed' "$file.err"; then
    fail "$label: the probe or usbox complained"
    show stderr "$file.err"
  fi
  return 0
}

# snapshot PATH...: names, types, modes, owners, sizes, mtimes, ctimes and
# contents of PATH and, for a directory, what is under it ($SNAP_DEPTH
# levels, default 1). A chmod, chown, utime or xattr change moves the ctime.
snapshot() {
  local p
  for p in "$@"; do
    if [ -d "$p" ]; then
      find "$p" -xdev -mindepth 0 -maxdepth "${SNAP_DEPTH:-1}" -printf '%p %y %m %U %G %s %T@ %C@ %l\n' 2>/dev/null | sort
      find "$p" -xdev -mindepth 0 -maxdepth "${SNAP_DEPTH:-1}" -type f -exec md5sum {} + 2>/dev/null | sort
    else
      stat -c '%n %F %a %u %g %s %Y %Z %h' "$p" 2>&1
      [ -f "$p" ] && md5sum "$p"
    fi
  done
}
same_snapshot() {
  local name=$1 before=$2 after=$3
  if cmp -s "$before" "$after"; then
    pass "$name"
  else
    fail "$name"
    diff -u "$before" "$after" | head -30 | sed 's/^/  | /' >&2
  fi
}

# ---------------------------------------------------------------- default policy: hidden secrets

# A throwaway home with every default secret, created before usbox starts
# (the list is computed from /home/* at start).
HIDDEN_HOME=(.ssh .gnupg .aws .docker .netrc .git-credentials .bash_history .kube .config/gcloud .azure .password-store)
mkdir -p "$H"/.pyenv/bin "$H"/.config/other
for n in "${HIDDEN_HOME[@]}"; do
  case $n in
    .netrc | .git-credentials | .bash_history) echo "SECRET-$n" >"$H/$n" ;;
    *) mkdir -p "$H/$n" && echo "SECRET-$n" >"$H/$n/key" ;;
  esac
done
printf '#!/bin/sh\necho pyenv-tool-works\n' >"$H/.pyenv/bin/tool"
chmod +x "$H/.pyenv/bin/tool"
echo visible-config >"$H/.config/other/file"
echo bashrc >"$H/.bashrc"
# Default secrets outside homes that this host lacks: made for the run only.
for p in /run/docker.sock /run/containerd /run/podman; do
  if [ ! -e "$p" ] && [ ! -L "$p" ]; then
    CREATED+=("$p")
    case $p in
      *.sock) echo SECRET-sock >"$p" ;;
      *) mkdir "$p" && echo SECRET >"$p/key" ;;
    esac
  fi
done
HIDDEN_ABS=(/etc/shadow /etc/shadow- /etc/gshadow /etc/gshadow- /etc/sudoers /etc/sudoers.d
  /run/docker.sock /var/run/docker.sock /run/containerd /run/podman /proc/kcore /sys/firmware)

pyscript hidden <<'EOF'
# argv: paths that must not exist in any way
for p in sys.argv[1:]:
    t("stat " + p, lambda: os.stat(p))
    t("lstat " + p, lambda: os.lstat(p))
    t("statx " + p, lambda: statx(p, 0x100))
    t("open " + p, lambda: os.open(p, os.O_RDONLY))
    t("open O_PATH " + p, lambda: os.open(p, os.O_PATH | os.O_NOFOLLOW))
    t("access " + p, lambda: access(p, 0))
    t("readlink " + p, lambda: os.readlink(p))
    t("listdir " + p, lambda: os.listdir(p))
    t("listxattr " + p, lambda: os.listxattr(p))
    t("chdir " + p, lambda: os.chdir(p))
    t("child " + p, lambda: os.stat(p + "/key"))
    t("exec " + p, lambda: os.execv(p, [p]))
EOF
hidden_paths=()
for n in "${HIDDEN_HOME[@]}"; do hidden_paths+=("$H/$n"); done
for n in .ssh .gnupg .aws .docker .kube .config/gcloud .azure .password-store; do hidden_paths+=("$H/$n/key"); done
hidden_paths+=("${HIDDEN_ABS[@]}")
for n in "${HIDDEN_HOME[@]}"; do hidden_paths+=("/root/$n"); done
# other spellings of the same paths
hidden_paths+=("$H/./.ssh/key" "$H//.ssh//key" "$H/.pyenv/../.ssh/key" "/home/../home/$HUSER/.aws/key"
  "$H/.ssh/" "$H/.config/./gcloud/key" "/etc/../etc/shadow" "//etc//shadow" "/etc/./shadow"
  "etc/shadow" "home/$HUSER/.netrc" "./etc/gshadow" "/proc/../etc/shadow" "/run/../run/docker.sock")
box "$TMPROOT/hidden.out" -- python3 -c "$(cat "$PY/hidden.py")" "${hidden_paths[@]}"
for p in "${hidden_paths[@]}"; do
  for op in stat lstat statx open "open O_PATH" access readlink listdir listxattr chdir child exec; do
    echo "$op $p: ENOENT"
  done
done >"$TMPROOT/hidden.want"
expect_lines "default hidden" "$TMPROOT/hidden.out" <"$TMPROOT/hidden.want"
missing=""
for p in /etc/shadow /etc/gshadow "$H/.ssh/key" /run/docker.sock /run/containerd /sys/firmware; do
  [ -e "$p" ] || missing+=" $p"
done
expect_eq "the hidden secrets exist on the host (6 checked; missing:${missing:- none})" "" "$missing"

# Absent from the parent's listing: the sandbox lists what the host lists,
# minus the hidden names.
pyscript listing <<'EOF'
for d in sys.argv[1:]:
    t("ls " + d, lambda: ls(d))
EOF
list_dirs=("$H" "$H/.config" /root /etc /run /var/run /sys /proc)
(cd / && python3 "$PY/listing.py" "${list_dirs[@]}" >"$TMPROOT/listing.native")
box "$TMPROOT/listing.out" -- python3 -c "$(cat "$PY/listing.py")" "${list_dirs[@]}"
# The names of the built-in lists (policy/policy.c) in each listed directory.
home_re='\.ssh|\.gnupg|\.password-store|\.1password|\.op|\.aws|\.azure|\.oci|\.bluemix|\.s3cfg|\.boto'
home_re+='|\.databrickscfg|\.kaggle|\.fly|\.terraformrc|\.vault-token|\.kube|\.docker|\.git-credentials|\.netrc'
home_re+='|\.npmrc|\.yarnrc|\.yarnrc\.yml|\.pypirc|\.pgpass|\.my\.cnf|\.mylogin\.cnf|\.bash_history|\.zsh_history'
home_re+='|\.zhistory|\.sh_history|\.histfile|\.python_history|\.node_repl_history|\.psql_history|\.mysql_history'
home_re+='|\.sqlite_history|\.rediscli_history|\.lesshst|\.mozilla'
config_re='gcloud|op|doctl|hcloud|rclone|gh|hub|glab-cli|github-copilot|google-chrome|chromium'
run_re='docker\.sock|containerd|podman|crio|buildkit|k3s|libvirt|snapd\.socket|snapd-snap\.socket|secrets'
hidden_re_of() {
  case $1 in
    "$H" | /root) echo "^($home_re)\$" ;;
    "$H/.config") echo "^($config_re)\$" ;;
    /etc) echo '^(shadow|shadow-|gshadow|gshadow-|sudoers|sudoers\.d|krb5\.keytab)$' ;;
    /run | /var/run) echo "^($run_re)\$" ;;
    /sys) echo '^firmware$' ;;
  esac
}
for d in "$H" "$H/.config" /root /etc /run /var/run /sys; do
  want=$(grep -F "ls $d: " "$TMPROOT/listing.native" | head -1 | sed "s|^ls $d: ||" | tr ' ' '\n' |
    grep -vE "$(hidden_re_of "$d")" | tr '\n' ' ' | sed 's/ $//')
  got=$(grep -F "ls $d: " "$TMPROOT/listing.out" | head -1 | sed "s|^ls $d: ||")
  expect_eq "listing of $d is the host's minus the hidden names" "$want" "$got"
done
got=$(grep -F "ls /proc: " "$TMPROOT/listing.out" | head -1)
if [ -n "$got" ] && ! echo "$got" | tr ' ' '\n' | grep -qx kcore && echo "$got" | tr ' ' '\n' | grep -qx self; then
  pass "kcore absent from the sandbox's /proc listing"
else
  fail "kcore listed in /proc, or /proc not listed: ${got:0:200}"
fi
# and `ls -a` itself
(cd / && ls -a "$H" | grep -vE "$(hidden_re_of "$H")") >"$TMPROOT/ls.native"
(cd / && timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec -- ls -a "$H") >"$TMPROOT/ls.out" 2>&1
if cmp -s "$TMPROOT/ls.native" "$TMPROOT/ls.out"; then
  pass "ls -a of a home: the host's entries minus the secrets"
else
  fail "ls -a of a home differs"
  diff "$TMPROOT/ls.native" "$TMPROOT/ls.out" | head -20 | sed 's/^/  | /' >&2
fi
expect_exit 2 "ls of a hidden directory fails like a missing one" -- \
  sh -c "cd / && exec '$USBOX_REAL' exec -- ls '$H/.ssh'"
expect_grep "ls says No such file or directory" "No such file or directory" "$ERR"
expect_exit 1 "cat /etc/shadow fails" -- sh -c "cd / && exec '$USBOX_REAL' exec -- cat /etc/shadow"
expect_grep "cat says No such file or directory" "No such file or directory" "$ERR"

# Whole homes stay visible: tools there work, other dotfiles are readable.
box "$TMPROOT/home.out" -- sh -c "'$H/.pyenv/bin/tool'; cat '$H/.config/other/file' '$H/.bashrc'; ls '$H/.config'"
expect_eq "a home's tools, config and dotfiles are visible" \
  "pyenv-tool-works
visible-config
bashrc
other" "$(cat "$TMPROOT/home.out")"
same_as_native "python3 from the host (its home, its libraries) runs" -- \
  python3 -c 'import json, sqlite3, ssl, sys; print(json.dumps([1]), sqlite3.sqlite_version_info >= (3,), ssl.OPENSSL_VERSION.split()[0], sys.prefix)'

# ---------------------------------------------------------------- default policy: the host is read-only

pyscript rofs <<'EOF'
d, victim, vdir = sys.argv[1:4]
new = os.path.join(d, "usbox-view-new-%d" % os.getpid())
t("read victim", lambda: read(victim))
t("creat", lambda: creat(new))
t("creat excl", lambda: creat(new, os.O_EXCL))
t("O_TMPFILE", lambda: os.open(d, os.O_TMPFILE | os.O_WRONLY, 0o600))
t("mkdir", lambda: os.mkdir(new))
t("mkfifo", lambda: os.mkfifo(new))
t("symlink", lambda: os.symlink("x", new))
t("link", lambda: os.link(victim, new))
t("open O_WRONLY", lambda: os.open(victim, os.O_WRONLY))
t("open O_RDWR", lambda: os.open(victim, os.O_RDWR))
t("open O_APPEND", lambda: os.open(victim, os.O_WRONLY | os.O_APPEND))
t("open O_TRUNC", lambda: os.open(victim, os.O_RDONLY | os.O_TRUNC))
t("access W_OK", lambda: access(victim, 2))
t("unlink", lambda: os.unlink(victim))
t("rmdir", lambda: os.rmdir(vdir))
t("rename", lambda: os.rename(victim, new))
t("rename into dir", lambda: os.rename(victim, vdir + "/x"))
t("chmod", lambda: os.chmod(victim, 0o600))
t("chown", lambda: os.chown(victim, 1, 1))
t("lchown", lambda: os.lchown(victim, 1, 1))
t("utime", lambda: os.utime(victim, (1, 1)))
t("utime now", lambda: os.utime(victim))
t("truncate", lambda: os.truncate(victim, 0))
t("setxattr", lambda: os.setxattr(victim, "user.usbox", b"1"))
t("removexattr", lambda: os.removexattr(victim, "user.usbox"))
fd = os.open(victim, os.O_RDONLY)
t("fchmod", lambda: os.fchmod(fd, 0o600))
t("fchown", lambda: os.fchown(fd, 1, 1))
t("fsetxattr", lambda: os.setxattr(fd, "user.usbox", b"1"))
t("futimens", lambda: os.utime(fd, (1, 1)))
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
t("openat dirfd creat", lambda: os.open("usbox-view-at", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dfd))
t("mkdirat dirfd", lambda: os.mkdir("usbox-view-at", dir_fd=dfd))
os.fchdir(dfd)
t("fchdir then mkdir", lambda: os.mkdir("usbox-view-rel"))
t("fchdir then creat", lambda: creat("usbox-view-rel"))
t("statvfs read-only", lambda: bool(os.statvfs(d).f_flag & os.ST_RDONLY))
EOF
HOMEDIR=${HOME:-/root}
[ -d "$HOMEDIR" ] || HOMEDIR=/root
for d in /etc /usr "$HOMEDIR" "$H"; do
  victim=$d/usbox-view-victim-$$
  vdir=$d/usbox-view-vdir-$$
  CREATED+=("$victim" "$vdir")
  echo victim-content >"$victim"
  chmod 644 "$victim"
  mkdir "$vdir"
  { ls -A "$d" | grep usbox-view; snapshot "$victim" "$vdir/."; } >"$TMPROOT/ro.before"
  # the home is copy-on-write by default (checked below): --home ro makes
  # it read-only like the rest of the host
  box "$TMPROOT/ro.out" --home ro -- python3 -c "$(cat "$PY/rofs.py")" "$d" "$victim" "$vdir"
  { ls -A "$d" | grep usbox-view; snapshot "$victim" "$vdir/."; } >"$TMPROOT/ro.after"
  {
    echo "read victim: victim-content
"
    for op in creat "creat excl" O_TMPFILE mkdir mkfifo symlink link "open O_WRONLY" "open O_RDWR" \
      "open O_APPEND" "open O_TRUNC" "access W_OK" unlink rmdir rename "rename into dir" chmod chown \
      lchown utime "utime now" truncate setxattr removexattr fchmod fchown fsetxattr futimens \
      "openat dirfd creat" "mkdirat dirfd" "fchdir then mkdir" "fchdir then creat"; do
      echo "$op: EROFS"
    done
    echo "statvfs read-only: True"
  } >"$TMPROOT/ro.want"
  expect_lines "read-only $d" "$TMPROOT/ro.out" <"$TMPROOT/ro.want"
  same_snapshot "read-only $d: nothing changed on the host" "$TMPROOT/ro.before" "$TMPROOT/ro.after"
  rm -rf -- "$victim" "$vdir"
done
# ---------------------------------------------------------------- the home: copy-on-write by default
hvictim=$HOMEDIR/usbox-view-cow-$$
CREATED+=("$hvictim" "$HOMEDIR/usbox-view-new-$$")
echo host-content >"$hvictim"
snapshot "$hvictim" >"$TMPROOT/cow.before"
box "$TMPROOT/cow.out" -- sh -c "cat $hvictim && echo agent >$hvictim && echo new >$HOMEDIR/usbox-view-new-$$ &&
  cat $hvictim $HOMEDIR/usbox-view-new-$$ && mkdir -p $HOMEDIR/.cache/usbox-view-$$ && echo made"
expect_eq "the home is writable, copy-on-write" "$(printf 'host-content\nagent\nnew\nmade')" "$(cat "$TMPROOT/cow.out")"
snapshot "$hvictim" >"$TMPROOT/cow.after"
same_snapshot "the home's writes never reach the host" "$TMPROOT/cow.before" "$TMPROOT/cow.after"
[ ! -e "$HOMEDIR/usbox-view-new-$$" ] && [ ! -e "$HOMEDIR/.cache/usbox-view-$$" ] &&
  pass "nothing new in the host's home" || fail "the agent's file reached the host's home"
box "$TMPROOT/cow2.out" -- sh -c "cat $HOMEDIR/usbox-view-new-$$ 2>&1; ls -d $HOMEDIR/.ssh 2>&1"
grep -q "No such file" "$TMPROOT/cow2.out" && pass "the next run starts from the host's home again" ||
  fail "a run saw the last run's home: $(cat "$TMPROOT/cow2.out")"
rm -f -- "$hvictim"

expect_exit 2 "shell redirection into /etc fails" -- \
  sh -c "cd / && exec '$USBOX_REAL' exec -- sh -c 'echo x > /etc/usbox-view-redirect-$$'"
expect_grep "... with Read-only file system" "Read-only file system" "$ERR"
[ -e "/etc/usbox-view-redirect-$$" ] && { fail "/etc/usbox-view-redirect-$$ was created"; rm -f "/etc/usbox-view-redirect-$$"; }

# ---------------------------------------------------------------- default policy: private /tmp

host_tmp=/tmp/usbox-view-host-$$
CREATED+=("$host_tmp" "/tmp/usbox-view-sbx-$$" "/tmp/usbox-view-sbxdir-$$")
echo host-tmp >"$host_tmp"
pyscript tmp <<'EOF'
host, mine = sys.argv[1:3]
t("listing at start", lambda: ls("/tmp"))
t("host file", lambda: os.stat(host))
t("mode", lambda: oct(stat.S_IMODE(os.stat("/tmp").st_mode)))
t("not the host's /tmp", lambda: os.stat("/tmp").st_dev != os.stat("/").st_dev)
t("create", lambda: write("/tmp/" + mine, "sandbox-tmp"))
t("read back", lambda: read("/tmp/" + mine))
t("mkdir", lambda: os.mkdir("/tmp/" + mine + "dir"))
t("listing after", lambda: ls("/tmp"))
t("writable", lambda: not (os.statvfs("/tmp").f_flag & os.ST_RDONLY))
EOF
# (mounts of other tests running beside this one, under their own scratch
# directories, come and go: not this test's)
host_mounts() {
  awk -v own="$TMPROOT" '{ p = $5 }
    index(p, own) == 1 || p !~ /\/usbox-(view-attacks|sec|view-host|it|vfsctx|soak)[.-]/ { print p }' \
    /proc/self/mountinfo | sort
}
host_mounts >"$TMPROOT/mounts.before"
snapshot "$host_tmp" >"$TMPROOT/tmp.before"
box "$TMPROOT/tmp1.out" -- python3 -c "$(cat "$PY/tmp.py")" "$host_tmp" "usbox-view-sbx-$$"
expect_lines "private /tmp, first run" "$TMPROOT/tmp1.out" <<EOF
listing at start: 
host file: ENOENT
mode: 0o1777
not the host's /tmp: True
create: ok
read back: sandbox-tmp
mkdir: ok
listing after: usbox-view-sbx-$$ usbox-view-sbx-$$dir
writable: True
EOF
[ ! -e "/tmp/usbox-view-sbx-$$" ] && [ ! -e "/tmp/usbox-view-sbx-$$dir" ] &&
  pass "the sandbox's /tmp file is not on the host's /tmp" || fail "/tmp/usbox-view-sbx-$$ appeared on the host"
box "$TMPROOT/tmp2.out" -- python3 -c "$(cat "$PY/tmp.py")" "$host_tmp" "usbox-view-sbx-$$"
expect_lines "private /tmp, second run: the first run's files are gone" "$TMPROOT/tmp2.out" <<EOF
listing at start: 
listing after: usbox-view-sbx-$$ usbox-view-sbx-$$dir
EOF
snapshot "$host_tmp" >"$TMPROOT/tmp.after"
same_snapshot "the host's /tmp file is untouched by two runs" "$TMPROOT/tmp.before" "$TMPROOT/tmp.after"
host_mounts >"$TMPROOT/mounts.after"
same_snapshot "no mount left on the host" "$TMPROOT/mounts.before" "$TMPROOT/mounts.after"

# ---------------------------------------------------------------- default policy: /dev

host_shm=/dev/shm/usbox-view-host-$$
CREATED+=("$host_shm" "/dev/shm/usbox-view-sbx-$$" "/dev/usbox-view-$$")
echo host-shm >"$host_shm"
DEV_ALLOWED="fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
pyscript dev <<'EOF'
host_shm, mine = sys.argv[1:3]
t("listing", lambda: ls("/dev"))
t("shm listing at start", lambda: ls("/dev/shm"))
t("host shm file", lambda: os.stat(host_shm))
for n in sys.argv[3:]:
    t("host device " + n, lambda: os.stat("/dev/" + n))
    t("host device open " + n, lambda: os.open("/dev/" + n, os.O_RDONLY))
t("write /dev/null", lambda: write("/dev/null", "x"))
t("read /dev/null", lambda: read("/dev/null"))
t("read /dev/zero", lambda: open("/dev/zero", "rb").read(8) == bytes(8))
t("write /dev/full", lambda: os.write(os.open("/dev/full", os.O_WRONLY), b"x"))
t("read /dev/urandom", lambda: len(open("/dev/urandom", "rb").read(16)))
t("read /dev/random", lambda: len(open("/dev/random", "rb").read(16)))
t("null is the null device", lambda: (os.major(os.stat("/dev/null").st_rdev), os.minor(os.stat("/dev/null").st_rdev)))
t("shm file", lambda: write("/dev/shm/" + mine, "in-shm"))
t("shm read back", lambda: read("/dev/shm/" + mine))
def shared():
    from multiprocessing import shared_memory
    a = shared_memory.SharedMemory(create=True, size=4096)
    a.buf[:5] = b"hello"
    b = shared_memory.SharedMemory(name=a.name)
    v = bytes(b.buf[:5])
    b.close(); a.close(); a.unlink()
    return v.decode()
t("multiprocessing shared memory", shared)
def pty():
    m, s = os.openpty()
    os.write(m, b"ping\n")
    return os.read(s, 5).decode().strip(), os.ttyname(s).startswith("/dev/pts/")
t("openpty", pty)
t("mkfifo in /dev", lambda: os.mkfifo("/dev/usbox-view-%s" % mine.split("-")[-1]))
t("creat in /dev", lambda: creat("/dev/usbox-view-%s" % mine.split("-")[-1]))
EOF
hidden_devs=()
while IFS= read -r n; do
  case " $DEV_ALLOWED " in *" $n "*) ;; *) hidden_devs+=("$n") ;; esac
done < <(ls -A /dev)
expect_eq "the host has devices beyond the minimal set" yes "$([ ${#hidden_devs[@]} -gt 3 ] && echo yes)"
box "$TMPROOT/dev.out" -- python3 -c "$(cat "$PY/dev.py")" "$host_shm" "usbox-view-sbx-$$" "${hidden_devs[@]}"
{
  cat <<EOF
listing: $DEV_ALLOWED
shm listing at start: 
host shm file: ENOENT
write /dev/null: ok
read /dev/null: 
read /dev/zero: True
write /dev/full: ENOSPC
read /dev/urandom: 16
read /dev/random: 16
null is the null device: (1, 3)
shm file: ok
shm read back: in-shm
multiprocessing shared memory: hello
openpty: ('ping', True)
mkfifo in /dev: EROFS
creat in /dev: EROFS
EOF
  for n in "${hidden_devs[@]}"; do echo "host device $n: ENOENT"; echo "host device open $n: ENOENT"; done
} >"$TMPROOT/dev.want"
expect_lines "/dev" "$TMPROOT/dev.out" <"$TMPROOT/dev.want"
[ ! -e "/dev/shm/usbox-view-sbx-$$" ] && [ ! -e "/dev/usbox-view-$$" ] &&
  pass "/dev/shm is private: nothing reached the host's /dev or /dev/shm" || fail "a sandbox /dev file reached the host"
box "$TMPROOT/devnull.out" -- sh -c 'echo x >/dev/null && echo y 2>/dev/null && cat </dev/null && cat /dev/null'
expect_eq "shell redirections to and from /dev/null" y "$(cat "$TMPROOT/devnull.out")"

# /dev/mqueue: the mqueue filesystem of the sandbox's own IPC namespace.
# The agent's queues (mq_open) are listed, read (QSIZE) and removed there
# as files; a queue of the host's is neither there nor reachable by
# mq_open, and stays as it was.
MQ_PY='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [(n, ctypes.c_long) for n in ("flags", "maxmsg", "msgsize", "curmsgs", "p0", "p1", "p2", "p3")]
def mq(name, flags):
    fd = libc.mq_open(name.encode(), flags, 0o600, None)
    if fd < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return fd
def send(name, msg):
    fd = mq(name, os.O_CREAT | os.O_RDWR)
    if libc.mq_send(fd, msg.encode(), len(msg), 0) < 0:
        raise OSError(ctypes.get_errno(), "mq_send")
    os.close(fd)
def state(name):
    fd = mq(name, os.O_RDONLY | os.O_NONBLOCK)
    a = Attr()
    libc.mq_getattr(fd, ctypes.byref(a))
    buf = ctypes.create_string_buffer(a.msgsize)
    n = libc.mq_receive(fd, buf, a.msgsize, None) if a.curmsgs else 0
    return "%d %s" % (a.curmsgs, buf.raw[:max(n, 0)].decode())
'
{
  printf '%s\n' "$MQ_PY"
  cat <<'EOF'
op, name = sys.argv[1:3]
if op == "make": send(name, "host-msg")
elif op == "state":
    try: print(state(name))
    except OSError as e: print(os.strerror(e.errno))
elif op == "unlink": libc.mq_unlink(name.encode())
EOF
} >"$PY/mqhost.py"
host_mq=/usbox-view-host-$$
own_mq=usbox-view-sbx-$$
/usr/bin/python3 "$PY/mqhost.py" make "$host_mq"
{
  printf '%s\n' "$MQ_PY"
  cat <<'EOF'
host, own = sys.argv[1], sys.argv[2]
t("listing at start", lambda: ls("/dev/mqueue"))
t("host queue by mq_open", lambda: mq(host, os.O_RDONLY))
t("host queue as a file", lambda: os.stat("/dev/mqueue" + host))
t("own queue made", lambda: send("/" + own, "hello"))
t("listing", lambda: ls("/dev/mqueue"))
t("its file", lambda: read("/dev/mqueue/" + own).split()[0])
t("removed as a file", lambda: os.unlink("/dev/mqueue/" + own))
t("gone for mq_open", lambda: mq("/" + own, os.O_RDONLY))
t("a file made there is a queue", lambda: (creat("/dev/mqueue/" + own + "f"), state("/" + own + "f"))[1])
t("no directories", lambda: os.mkdir("/dev/mqueue/d"))
t("mount", lambda: [l.split()[4:6] + l.split(" - ")[1].split()[:1] for l in open("/proc/self/mountinfo") if " /dev/mqueue " in l][0])
EOF
} | pyscript mq
box "$TMPROOT/mq.out" -- python3 -c "$(cat "$PY/mq.py")" "$host_mq" "$own_mq"
expect_lines "/dev/mqueue" "$TMPROOT/mq.out" <<EOF
listing at start: 
host queue by mq_open: ENOENT
host queue as a file: ENOENT
own queue made: ok
listing: $own_mq
its file: QSIZE:5
removed as a file: ok
gone for mq_open: ENOENT
a file made there is a queue: 0 
no directories: EPERM
~ mount: \['/dev/mqueue', 'rw,nosuid,nodev,noexec[^']*', 'mqueue'\]
EOF
expect_eq "/dev/mqueue: the host's queue is as it was" "1 host-msg" \
  "$(/usr/bin/python3 "$PY/mqhost.py" state "$host_mq")"
expect_eq "/dev/mqueue: the sandbox's queues never reached the host" "No such file or directory" \
  "$(/usr/bin/python3 "$PY/mqhost.py" state "/${own_mq}f")"
/usr/bin/python3 "$PY/mqhost.py" unlink "$host_mq"

# ---------------------------------------------------------------- --rw, --ro, SRC:DEST, --hide, --tmpfs, --policy

# make_bind_tree B: sources in B/S, destinations (host dirs and files that the
# binds cover) in B/V.
make_bind_tree() {
  local b=$1
  mkdir -p "$b"/S/{rw1/sub,rw2,ro1/rsub,ro2,hb/hd,rw3,emptysrc} "$b"/V/{rw1,rw2,ro1,hb,tfs,empty}
  echo rw1-a >"$b/S/rw1/a"
  echo rw2-b >"$b/S/rw2/b"
  echo ro1-r >"$b/S/ro1/r"
  echo ro2-x >"$b/S/ro2/x"
  echo rwfile >"$b/S/rwfile"
  echo rofile >"$b/S/rofile"
  echo SECRET-hf >"$b/S/hb/hf"
  echo SECRET-hd >"$b/S/hb/hd/secret"
  echo keep >"$b/S/hb/keep"
  mkdir -p "$b/S/hb/deep/hd2"
  echo SECRET-hd2 >"$b/S/hb/deep/hd2/secret"
  echo covered >"$b/V/rw1/covered"
  echo covered2 >"$b/V/tfs/covered2"
  : >"$b/V/rwf"
  : >"$b/V/rof"
}
# bind_flags B: the flags of that policy, in the array BIND_FLAGS.
bind_flags() {
  local b=$1
  BIND_FLAGS=(--rw "$b/S/rw1:$b/V/rw1" --rw "$b/S/rw2:$b/V/rw2" --ro "$b/S/ro1:$b/V/ro1"
    --ro "$b/S/ro2"
    --rw "$b/S/hb:$b/V/hb" --hide "$b/V/hb/hf" --hide "$b/V/hb/hd" --hide "$b/V/hb/future"
    --hide "$b/V/hb/deep/hd2"
    --tmpfs "$b/V/tfs" --tmpfs "/tmp/usbox-tfs2-$$" --rw "$b/S/rw3:/tmp/usbox-rw3-$$"
    --ro "$b/S/emptysrc:$b/V/empty")
}
bind_json() {
  local b=$1
  cat <<EOF
{
  "mounts": [
    {"type": "bind", "source": "$b/S/rw1", "destination": "$b/V/rw1", "writable": true},
    {"source": "$b/S/rw2", "destination": "$b/V/rw2", "writable": true},
    {"type": "bind", "source": "$b/S/ro1", "destination": "$b/V/ro1", "writable": false},
    {"source": "$b/S/ro2"},
    {"source": "$b/S/hb", "destination": "$b/V/hb", "writable": true},
    {"type": "tmpfs", "destination": "$b/V/tfs"},
    {"type": "tmpfs", "destination": "/tmp/usbox-tfs2-$$"},
    {"source": "$b/S/rw3", "destination": "/tmp/usbox-rw3-$$", "writable": true},
    {"source": "$b/S/emptysrc", "destination": "$b/V/empty"}
  ],
  "hide": ["$b/V/hb/hf", "$b/V/hb/hd", "$b/V/hb/future", "$b/V/hb/deep/hd2"]
}
EOF
}
pyscript binds <<'EOF'
B, tag = sys.argv[1:3]
V = B + "/V"
S = B + "/S"
t("rw1 listing", lambda: ls(V + "/rw1"))
t("rw1 read", lambda: read(V + "/rw1/a"))
t("rw1 create", lambda: write(V + "/rw1/new", "new-from-sandbox"))
t("rw1 append", lambda: write(V + "/rw1/a", "more\n", "a"))
t("rw1 mkdir", lambda: os.mkdir(V + "/rw1/newdir"))
t("rw1 chmod", lambda: os.chmod(V + "/rw1/a", 0o600))
t("rw1 symlink", lambda: os.symlink("a", V + "/rw1/lnk"))
t("rw1 rename", lambda: os.rename(V + "/rw1/sub", V + "/rw1/sub2"))
t("rw1 unlink", lambda: (creat(V + "/rw1/gone"), os.unlink(V + "/rw1/gone"))[1])
t("rw1 writable", lambda: not (os.statvfs(V + "/rw1").f_flag & os.ST_RDONLY))
t("ro1 listing", lambda: ls(V + "/ro1"))
t("ro1 read", lambda: read(V + "/ro1/r"))
t("ro1 create", lambda: creat(V + "/ro1/new"))
t("ro1 mkdir", lambda: os.mkdir(V + "/ro1/newdir"))
t("ro1 open O_WRONLY", lambda: os.open(V + "/ro1/r", os.O_WRONLY))
t("ro1 unlink", lambda: os.unlink(V + "/ro1/r"))
t("ro1 rmdir", lambda: os.rmdir(V + "/ro1/rsub"))
t("ro1 rename", lambda: os.rename(V + "/ro1/r", V + "/ro1/r2"))
t("ro1 chmod", lambda: os.chmod(V + "/ro1/r", 0o600))
t("ro1 utime", lambda: os.utime(V + "/ro1/r", (1, 1)))
t("ro1 truncate", lambda: os.truncate(V + "/ro1/r", 0))
t("ro1 symlink", lambda: os.symlink("r", V + "/ro1/lnk"))
t("ro1 setxattr", lambda: os.setxattr(V + "/ro1/r", "user.x", b"1"))
t("ro1 fchmod", lambda: os.fchmod(os.open(V + "/ro1/r", os.O_RDONLY), 0o600))
t("ro1 read-only", lambda: bool(os.statvfs(V + "/ro1").f_flag & os.ST_RDONLY))
t("ro2 read at its own path", lambda: read(S + "/ro2/x"))
t("ro2 create under a writable parent bind", lambda: creat(S + "/ro2/new"))
t("hb listing", lambda: ls(V + "/hb"))
t("hb keep", lambda: read(V + "/hb/keep"))
for n in ("hf", "hd", "hd/secret", "future"):
    p = V + "/hb/" + n
    t("hidden %s stat" % n, lambda: os.stat(p))
    t("hidden %s lstat" % n, lambda: os.lstat(p))
    t("hidden %s open" % n, lambda: os.open(p, os.O_RDONLY))
    t("hidden %s access" % n, lambda: access(p, 0))
    t("hidden %s readlink" % n, lambda: os.readlink(p))
    t("hidden %s creat" % n, lambda: creat(p))
    t("hidden %s creat excl" % n, lambda: creat(p, os.O_EXCL))
    t("hidden %s mkdir" % n, lambda: os.mkdir(p))
    t("hidden %s mkfifo" % n, lambda: os.mkfifo(p))
    t("hidden %s symlink" % n, lambda: os.symlink("keep", p))
    t("hidden %s link" % n, lambda: os.link(V + "/hb/keep", p))
    t("hidden %s rename onto" % n, lambda: os.rename(V + "/hb/keep", p))
    t("hidden %s rename away" % n, lambda: os.rename(p, V + "/hb/stolen"))
    t("hidden %s unlink" % n, lambda: os.unlink(p))
    t("hidden %s rmdir" % n, lambda: os.rmdir(p))
    t("hidden %s chmod" % n, lambda: os.chmod(p, 0o777))
    t("hidden %s utime" % n, lambda: os.utime(p, (1, 1)))
    t("hidden %s chdir" % n, lambda: os.chdir(p))
    t("hidden %s listdir" % n, lambda: os.listdir(p))
    t("hidden %s child creat" % n, lambda: creat(p + "/x"))
# renaming the parent of a hidden directory would carry the hidden entry to
# a path the policy does not name: refused, and the entry stays hidden
t("hidden parent rename", lambda: os.rename(V + "/hb/deep", V + "/hb/deep2"))
t("hidden parent rename target", lambda: os.stat(V + "/hb/deep2"))
t("hidden after the rename: stat", lambda: os.stat(V + "/hb/deep/hd2/secret"))
t("hidden after the rename: open", lambda: os.open(V + "/hb/deep/hd2/secret", os.O_RDONLY))
t("hidden after the rename: listing", lambda: ls(V + "/hb/deep"))
t("hidden after the rename: rename it out", lambda: os.rename(V + "/hb/deep/hd2", V + "/hb/hd2"))
t("the old path stays hidden", lambda: os.mkdir(V + "/hb/deep/hd2"))
t("tfs listing at start", lambda: ls(V + "/tfs"))
t("tfs write", lambda: write(V + "/tfs/" + tag, "in-tmpfs"))
t("tfs read back", lambda: read(V + "/tfs/" + tag))
t("tfs2 listing at start", lambda: ls("/tmp/usbox-tfs2-%s" % tag))
t("tfs2 write", lambda: write("/tmp/usbox-tfs2-%s/f" % tag, "x"))
t("rw3 in the private /tmp", lambda: write("/tmp/usbox-rw3-%s/c" % tag, "rw3-written"))
t("rw3 read back", lambda: read("/tmp/usbox-rw3-%s/c" % tag))
t("/tmp listing", lambda: ls("/tmp"))
t("empty ro bind listing", lambda: ls(V + "/empty"))
EOF
# Directories of the host's /tmp that the view binds into its private /tmp
# (the test's scratch tree, and the checkout when it lives under /tmp, as
# on CI): their first components appear in its listing, nothing else.
TMP_MOUNT_POINTS="(usbox-it\\.[A-Za-z0-9]+ )?"
for d in "$PWD" "$SRCDIR"; do
  case $d in /tmp/?*)
    c=${d#/tmp/}; c=${c%%/*}
    TMP_MOUNT_POINTS="(${c//./\\.} )?$TMP_MOUNT_POINTS" ;;
  esac
done
# the expected lines of binds.py (argument: the tag)
binds_want() {
  cat <<EOF
rw1 listing: a sub
rw1 read: rw1-a
rw1 create: ok
rw1 append: ok
rw1 mkdir: ok
rw1 chmod: ok
rw1 symlink: ok
rw1 rename: ok
rw1 unlink: ok
rw1 writable: True
ro1 listing: r rsub
ro1 read: ro1-r
ro2 read at its own path: ro2-x
ro2 create under a writable parent bind: EROFS
hb listing: deep keep
hidden parent rename: EBUSY
hidden parent rename target: ENOENT
hidden after the rename: stat: ENOENT
hidden after the rename: open: ENOENT
hidden after the rename: listing: 
hidden after the rename: rename it out: ENOENT
the old path stays hidden: ENOENT
hb keep: keep
tfs listing at start: 
tfs write: ok
tfs read back: in-tmpfs
tfs2 listing at start: 
tfs2 write: ok
rw3 in the private /tmp: ok
rw3 read back: rw3-written
~ /tmp listing: ${TMP_MOUNT_POINTS}usbox-rw3-$1 usbox-tfs2-$1
empty ro bind listing: 
ro1 read-only: True
EOF
  local op n
  for op in create mkdir "open O_WRONLY" unlink rmdir rename chmod utime truncate symlink setxattr fchmod; do
    echo "ro1 $op: EROFS"
  done
  for n in hf hd hd/secret future; do
    for op in stat lstat open access readlink creat "creat excl" mkdir mkfifo symlink link "rename onto" \
      "rename away" unlink rmdir chmod utime chdir listdir "child creat"; do
      echo "hidden $n $op: ENOENT"
    done
  done
}
# host state after binds.py
check_bind_host() {
  local label=$1 b=$2
  expect_eq "$label: a file created through --rw is on the host" new-from-sandbox "$(cat "$b/S/rw1/new" 2>&1)"
  expect_eq "$label: an append through --rw is on the host" "rw1-a
more" "$(cat "$b/S/rw1/a" 2>&1)"
  expect_eq "$label: chmod, mkdir, symlink, rename, unlink through --rw" "600 d lnk->a sub2 gone" \
    "$(stat -c %a "$b/S/rw1/a") $([ -d "$b/S/rw1/newdir" ] && echo d) lnk->$(readlink "$b/S/rw1/lnk") $(ls "$b/S/rw1" | grep sub) $([ -e "$b/S/rw1/gone" ] || echo gone)"
  expect_eq "$label: the covered host directory is untouched" covered "$(ls -A "$b/V/rw1")"
  expect_eq "$label: the --ro tree is untouched" "$(cat "$b.ro.sum")" "$(SNAP_DEPTH=5 snapshot "$b/S/ro1" "$b/S/ro2")"
  expect_eq "$label: hidden entries untouched on the host" "deep hd hf keep|SECRET-hf|SECRET-hd|secret|SECRET-hd2" \
    "$(ls "$b/S/hb" | tr '\n' ' ' | sed 's/ $//')|$(cat "$b/S/hb/hf")|$(cat "$b/S/hb/hd/secret")|$(ls "$b/S/hb/hd")|$(cat "$b/S/hb/deep/hd2/secret")"
  expect_eq "$label: the tmpfs covered the host directory, which is untouched" covered2 "$(ls -A "$b/V/tfs")"
  expect_eq "$label: the bind in the private /tmp wrote its source" rw3-written "$(cat "$b/S/rw3/c" 2>&1)"
  expect_eq "$label: the private /tmp mount points are not on the host" "" \
    "$(ls -d /tmp/usbox-rw3-$$ /tmp/usbox-tfs2-$$ 2>/dev/null)"
  expect_eq "$label: nothing appeared in the host's mount point directories" "" \
    "$(find "$b/V/hb" "$b/V/ro1" "$b/V/rw2" "$b/V/empty" -mindepth 1)"
}

B1=$TMPROOT/e1
make_bind_tree "$B1"
SNAP_DEPTH=5 snapshot "$B1/S/ro1" "$B1/S/ro2" >"$B1.ro.sum"
bind_flags "$B1"
sbox "$TMPROOT/binds1.out" / "${BIND_FLAGS[@]}" -- python3 "$PY/binds.py" "$B1" $$
expect_lines "flags" "$TMPROOT/binds1.out" < <(binds_want $$)
check_bind_host flags "$B1"
# a second run: the tmpfs are fresh again
sbox "$TMPROOT/binds1b.out" / "${BIND_FLAGS[@]}" -- sh -c "ls -A '$B1/V/tfs'; ls -A /tmp/usbox-tfs2-$$; echo end"
expect_eq "a --tmpfs is empty again in the next run" end "$(cat "$TMPROOT/binds1b.out")"

# The same policy as a JSON file: the same results.
B2=$TMPROOT/e2
make_bind_tree "$B2"
SNAP_DEPTH=5 snapshot "$B2/S/ro1" "$B2/S/ro2" >"$B2.ro.sum"
bind_json "$B2" >"$TMPROOT/policy.json"
sbox "$TMPROOT/binds2.out" / --policy "$TMPROOT/policy.json" -- python3 "$PY/binds.py" "$B2" $$
expect_lines "--policy JSON" "$TMPROOT/binds2.out" < <(binds_want $$)
check_bind_host "--policy JSON" "$B2"
sed "s|$B2|B|g" "$TMPROOT/binds2.out" >"$TMPROOT/binds2.norm"
sed "s|$B1|B|g" "$TMPROOT/binds1.out" >"$TMPROOT/binds1.norm"
if cmp -s "$TMPROOT/binds1.norm" "$TMPROOT/binds2.norm"; then
  pass "--policy JSON gives exactly what the flags give"
else
  fail "--policy JSON differs from the flags"
  diff "$TMPROOT/binds1.norm" "$TMPROOT/binds2.norm" | head -20 | sed 's/^/  | /' >&2
fi
# More hidden paths than the sandbox's first process reports (96): the
# sentry then asks the gofer for their directories. Both ways, listings
# leave exactly the hidden names out.
MH=$TMPROOT/manyhide
mkdir -p "$MH/d"
for i in $(seq 1 120); do echo "secret $i" >"$MH/d/f$i"; done
echo kept >"$MH/d/kept"
for n in 10 120; do
  hides=()
  for i in $(seq 1 "$n"); do hides+=(--hide "$MH/d/f$i"); done
  box "$TMPROOT/manyhide-$n.out" --ro "$MH" "${hides[@]}" -- ls "$MH/d"
  want=$( (echo kept; for i in $(seq $((n + 1)) 120); do echo "f$i"; done) | sort)
  expect_eq "--hide of $n files in one directory: the listing shows only the others" \
    "$want" "$(sort "$TMPROOT/manyhide-$n.out")"
done

# default_hide false: the built-in secrets are back
echo '{"default_hide": false}' >"$TMPROOT/nohide.json"
box "$TMPROOT/nohide.out" --policy "$TMPROOT/nohide.json" -- sh -c "head -c 5 /etc/shadow; echo; cat '$H/.ssh/key'"
expect_eq '"default_hide": false shows the default secrets' "$(head -c 5 /etc/shadow)
SECRET-.ssh" "$(cat "$TMPROOT/nohide.out")"
echo '{"default_hide": true}' >"$TMPROOT/hide.json"
box "$TMPROOT/hide.out" --policy "$TMPROOT/hide.json" -- sh -c "cat /etc/shadow '$H/.ssh/key'; echo \$?"
expect_eq '"default_hide": true hides them' 1 "$(cat "$TMPROOT/hide.out")"
# an explicit bind of a default secret wins over the default hiding
box "$TMPROOT/bindsecret.out" --ro "$H/.ssh" -- cat "$H/.ssh/key"
expect_eq "--ro of a default secret shows it" SECRET-.ssh "$(cat "$TMPROOT/bindsecret.out")"

# File binds: a single file at another path, read-only and writable (in a
# run of their own, so that the directory rules above do not depend on them).
pyscript filebinds <<'EOF'
B = sys.argv[1]
t("rwf read", lambda: read(B + "/V/rwf"))
t("rwf write", lambda: write(B + "/V/rwf", "rwfile-written"))
t("rwf unlink", lambda: os.unlink(B + "/V/rwf"))
t("rof read", lambda: read(B + "/V/rof"))
t("rof write", lambda: os.open(B + "/V/rof", os.O_WRONLY))
t("rof chmod", lambda: os.chmod(B + "/V/rof", 0o600))
t("rofile at its own path", lambda: read(B + "/S/rofile"))
t("rofile at its own path write", lambda: os.open(B + "/S/rofile", os.O_WRONLY | os.O_APPEND))
EOF
sbox "$TMPROOT/filebinds.out" / --rw "$B1/S/rwfile:$B1/V/rwf" --ro "$B1/S/rofile:$B1/V/rof" --ro "$B1/S/rofile" -- \
  python3 "$PY/filebinds.py" "$B1"
expect_lines "file binds" "$TMPROOT/filebinds.out" <<EOF
rwf read: rwfile
rwf write: ok
rwf unlink: EBUSY
rof read: rofile
rof write: EROFS
rof chmod: EROFS
rofile at its own path: rofile
rofile at its own path write: EROFS
EOF
expect_eq "file binds: a write to a file bind reaches its source" rwfile-written "$(cat "$B1/S/rwfile")"
expect_eq "file binds: the covered host files are untouched" "0 0" "$(stat -c %s "$B1/V/rwf" "$B1/V/rof" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "file binds: the --ro file is untouched" "rofile 644" "$(cat "$B1/S/rofile") $(stat -c %a "$B1/S/rofile")"

# ---------------------------------------------------------------- bad flags and bad policies

BF=$TMPROOT/bad
mkdir -p "$BF/src" "$BF/dst"
echo '{"mounts": [' >"$BF/invalid.json"
printf '{"mounts": [],\n "hide": \n}\n' >"$BF/invalid-lines.json" # the text near the error holds a newline
echo '{"mountz": []}' >"$BF/unknown.json"
echo "{\"mounts\": [{\"source\": \"$BF/src\", \"dest\": \"$BF/dst\"}]}" >"$BF/unknown-mount-field.json"
echo "{\"mounts\": [{\"type\": \"overlay\", \"source\": \"$BF/src\"}]}" >"$BF/bad-type.json"
echo '{"hide": "/etc"}' >"$BF/hide-string.json"
echo '[]' >"$BF/array.json"
echo "{\"mounts\": [{\"source\": \"$BF/src\", \"writable\": \"yes\"}]}" >"$BF/bad-writable.json"
echo "{\"mounts\": [{\"source\": \"$BF/src\", \"destination\": \"rel/dst\"}]}" >"$BF/relative.json"
echo "{\"mounts\": [{\"source\": \"$BF/src\", \"destination\": \"/tmp/usbox-bad-$$\"}, {\"type\": \"tmpfs\", \"destination\": \"/tmp/usbox-bad-$$\"}]}" >"$BF/twice.json"
echo "{\"mounts\": [{\"source\": \"$BF/nonexistent\", \"destination\": \"/tmp/usbox-bad-$$\"}]}" >"$BF/nosource.json"
echo '{"default_hide": "no"}' >"$BF/default-hide.json"
bad_cases=(
  "nonexistent --rw source|--rw $BF/nonexistent"
  "nonexistent --ro source with a destination|--ro $BF/nonexistent:/tmp/usbox-bad-$$"
  "relative destination|--rw $BF/src:rel/dst"
  "relative --tmpfs|--tmpfs rel/dst"
  "two mounts at one destination|--rw $BF/src:/tmp/usbox-bad-$$ --ro /etc:/tmp/usbox-bad-$$"
  "a bind and a tmpfs at one destination|--tmpfs $BF/dst --rw $BF/src:$BF/dst"
  "the same --rw twice|--rw $BF/src --rw $BF/src"
  "--hide /|--hide /"
  "--hide //|--hide //."
  "a path both bound and hidden|--rw $BF/src:/tmp/usbox-bad-$$ --hide /tmp/usbox-bad-$$"
  "a path both hidden and bound|--hide $BF/dst --ro $BF/src:$BF/dst"
  "--rw without a path|--rw"
  "--rw with an empty path|--rw ="
  "--hide with an empty path|--hide ="
  "--policy of a missing file|--policy $BF/nonexistent.json"
  "invalid JSON|--policy $BF/invalid.json"
  "invalid JSON, a newline near the error|--policy $BF/invalid-lines.json"
  "unknown JSON field|--policy $BF/unknown.json"
  "unknown mount field|--policy $BF/unknown-mount-field.json"
  "unknown mount type|--policy $BF/bad-type.json"
  "hide is not a list|--policy $BF/hide-string.json"
  "top level is not an object|--policy $BF/array.json"
  "writable is not a boolean|--policy $BF/bad-writable.json"
  "relative destination in JSON|--policy $BF/relative.json"
  "two mounts at one destination in JSON|--policy $BF/twice.json"
  "nonexistent source in JSON|--policy $BF/nosource.json"
  "default_hide is not a boolean|--policy $BF/default-hide.json"
  "JSON and a flag at one destination|--policy $BF/twice.json --rw $BF/src:/tmp/usbox-bad-$$"
)
SNAP_DEPTH=3 snapshot "$BF" >"$TMPROOT/bad.before"
# (other tests, which ctest runs alongside, make and remove their own
# usbox-* scratch entries in /var/tmp: not the failed starts')
roots_listing() { ls -A / /var/tmp /dev/shm 2>&1 | grep -Ev '^usbox-(view-attacks|sec|view-host|it|vfsctx|soak)[.-]'; }
roots_listing >"$TMPROOT/badroot.before"
for c in "${bad_cases[@]}"; do
  name=${c%%|*}
  read -ra args <<<"${c#*|}"
  for i in "${!args[@]}"; do [ "${args[$i]}" = = ] && args[$i]=""; done
  (cd / && exec timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec "${args[@]}" -- sh -c "echo ran >$BF/ran") \
    </dev/null >"$TMPROOT/bad.out" 2>"$TMPROOT/bad.err"
  rc=$?
  lines=$(wc -l <"$TMPROOT/bad.err")
  if [ "$rc" = 125 ] && [ "$lines" = 1 ] && grep -q '^usbox: ' "$TMPROOT/bad.err" && [ ! -s "$TMPROOT/bad.out" ] &&
    [ ! -e "$BF/ran" ] && [ ! -e "/tmp/usbox-bad-$$" ]; then
    pass "bad policy, $name: exit 125, one line: $(cat "$TMPROOT/bad.err")"
  else
    fail "bad policy, $name: status $rc, $lines stderr lines, ran=$([ -e "$BF/ran" ] && echo yes || echo no)"
    show stderr "$TMPROOT/bad.err"
    rm -f "$BF/ran"
  fi
done
SNAP_DEPTH=3 snapshot "$BF" >"$TMPROOT/bad.after"
roots_listing >"$TMPROOT/badroot.after"
same_snapshot "failed starts created nothing next to the sources and destinations" "$TMPROOT/bad.before" "$TMPROOT/bad.after"
same_snapshot "failed starts created nothing in /, /var/tmp, /dev/shm" "$TMPROOT/badroot.before" "$TMPROOT/badroot.after"
# a good policy with the same shapes starts (the bad cases fail for their reason)
(cd / && timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec --rw "$BF/src:/tmp/usbox-bad-$$" --hide "$BF/dst" -- \
  sh -c "echo ran >/tmp/usbox-bad-$$/ran") </dev/null >"$TMPROOT/good.out" 2>&1
expect_eq "the control case starts and writes through its bind" ran "$(cat "$BF/src/ran" 2>&1)"

# ---------------------------------------------------------------- symlinks and `..`

# L/host/src is bound --rw at L/vp/dest. Its host parent L/host (with a
# marker) is hidden, its view parent L/vp has another marker. Hidden inside
# the bind: hd/ and hf. L/outside is a hidden host directory.
L=$TMPROOT/l
mkdir -p "$L"/host/src/{hd,sub/deep} "$L"/vp/dest "$L"/outside "$L"/host/src2 "$L"/tmpdest
echo parent-host-marker >"$L/host/parent-host-marker"
echo view-parent-marker >"$L/vp/view-parent-marker"
echo SECRET-HD >"$L/host/src/hd/secret"
echo SECRET-HF >"$L/host/src/hf"
echo okfile-content >"$L/host/src/okfile"
echo OUTSIDE-SECRET >"$L/outside/file"
up16=$(printf '../%.0s' $(seq 16))
(
  cd "$L/host/src" || exit 1
  ln -s hd/secret rel_hd
  ln -s ./sub/../hd/secret rel_hd_dots
  ln -s hf rel_hf
  ln -s hd rel_hd_dir
  ln -s "$L/vp/dest/hd/secret" abs_hd
  ln -s "$L/host/src/hd/secret" abs_hd_host
  ln -s /etc/shadow shadow
  ln -s "${up16}etc/shadow" shadow_rel
  ln -s chain2 chain1 && ln -s chain3 chain2 && ln -s /etc/shadow chain3
  ln -s okchain2 okchain1 && ln -s okfile okchain2
  ln -s loop2 loop1 && ln -s loop1 loop2 && ln -s selfloop selfloop
  ln -s .. up && ln -s ../.. upup && ln -s "${up16}" root_up
  ln -s /proc/self proc && ln -s /proc/self/fd/0 procfd0 && ln -s /proc/self/root procroot
  ln -s /proc/self/root/etc/shadow proc_shadow && ln -s /proc/self/cwd proc_cwd
  ln -s "$L/vp/dest/okfile" viewabs
  ln -s "$L/host/src/okfile" hostabs
  ln -s "$L/outside/file" outside
  ln -s ../dest/hd/secret hd_via_up
  ln -s /etc/hostname etc_hostname
  ln -s sub/deep/../../okfile dots_ok
  ln -s "$L/vp/view-parent-marker" to_view_parent
  ln -s "$L/host/parent-host-marker" to_host_parent
)
pyscript syml <<'EOF'
L, hostname_content = sys.argv[1:3]
D = L + "/vp/dest"
os.chdir(D)
for n in ("rel_hd", "rel_hd_dots", "rel_hf", "abs_hd", "abs_hd_host", "shadow", "shadow_rel", "chain1",
          "hostabs", "outside", "hd_via_up", "proc_shadow", "to_host_parent"):
    t(n + " stat", lambda: os.stat(n))
    t(n + " open", lambda: os.open(n, os.O_RDONLY))
    t(n + " creat", lambda: creat(n))
    t(n + " lstat is a link", lambda: stat.S_ISLNK(os.lstat(n).st_mode))
    t(n + " via abs path", lambda: os.stat(D + "/" + n))
t("rel_hd_dir/secret", lambda: os.stat("rel_hd_dir/secret"))
t("rel_hd_dir/new creat", lambda: creat("rel_hd_dir/new"))
t("rel_hd_dir listdir", lambda: os.listdir("rel_hd_dir/"))
t("linkat AT_SYMLINK_FOLLOW through rel_hd", lambda: cres(libc.linkat(-100, b"rel_hd", -100, b"stolen", 0x400)))
t("linkat AT_SYMLINK_FOLLOW through okchain1", lambda: (cres(libc.linkat(-100, b"okchain1", -100, b"hardok", 0x400)), os.path.islink("hardok"), read("hardok")))
t("a new link to /etc/shadow can be made", lambda: os.symlink("/etc/shadow", "newlink"))
t("... and leads nowhere", lambda: os.open("newlink", os.O_RDONLY))
t("okchain1", lambda: read("okchain1"))
t("viewabs", lambda: read("viewabs"))
t("dots_ok", lambda: read("dots_ok"))
t("etc_hostname", lambda: read("etc_hostname").rstrip("\n") == hostname_content)
t("etc_hostname write", lambda: os.open("etc_hostname", os.O_WRONLY))
t("to_view_parent", lambda: read("to_view_parent"))
for n in ("loop1", "selfloop"):
    t(n + " stat", lambda: os.stat(n))
    t(n + " open", lambda: os.open(n, os.O_RDONLY))
    t(n + " creat", lambda: creat(n))
# `..`
t("/../../.. is /", lambda: same("/../../..", "/"))
t("/../etc/hostname", lambda: read("/../../etc/hostname").rstrip("\n") == hostname_content)
t("root_up is /", lambda: same("root_up", "/"))
t("root_up/etc/shadow", lambda: os.stat("root_up/etc/shadow"))
t("many .. from cwd is /", lambda: same("../" * 40, "/"))
t("dest/.. is the view parent", lambda: same(D + "/..", L + "/vp"))
t("dest/.. listing", lambda: ls(D + "/.."))
t("dest/../view-parent-marker", lambda: read(D + "/../view-parent-marker"))
t("dest/../parent-host-marker", lambda: os.stat(D + "/../parent-host-marker"))
t("up is the view parent", lambda: same("up", L + "/vp"))
t("up/view-parent-marker", lambda: read("up/view-parent-marker"))
t("up/parent-host-marker", lambda: os.stat("up/parent-host-marker"))
t("upup is L", lambda: same("upup", L))
t("sub/deep/../../.. is the view parent", lambda: same("sub/deep/../../..", L + "/vp"))
t("the bind's host parent is hidden", lambda: os.stat(L + "/host"))
dfd = os.open(D, os.O_RDONLY | os.O_DIRECTORY)
t("dirfd ../view-parent-marker", lambda: os.stat("../view-parent-marker", dir_fd=dfd) is not None)
t("dirfd ../parent-host-marker", lambda: os.stat("../parent-host-marker", dir_fd=dfd))
os.chdir("..")
t("chdir .. from the bind root", lambda: os.getcwd())
t("its /proc/self/cwd", lambda: os.readlink("/proc/self/cwd"))
os.chdir(D + "/sub/deep")
os.chdir("../../..")
t("chdir ../../.. from inside the bind", lambda: os.getcwd())
os.chdir(D)
# /proc/self through symlinks
t("proc/status is mine", lambda: [l for l in read("proc/status").splitlines() if l.startswith("Pid:")][0].split()[1] == str(os.getpid()))
t("procfd0 is my stdin", lambda: (os.stat("procfd0").st_ino, os.stat("procfd0").st_dev) == (os.fstat(0).st_ino, os.fstat(0).st_dev))
t("procroot is /", lambda: same("procroot", "/"))
t("procroot listing", lambda: ls("procroot") == ls("/"))
t("proc_cwd is the cwd", lambda: same("proc_cwd", "."))
t("proc/cwd/okfile", lambda: read("proc/cwd/okfile"))
t("proc/root/etc/shadow", lambda: os.stat("proc/root/etc/shadow"))
EOF
hostname_content=$(cat /etc/hostname)
sbox "$TMPROOT/syml.out" / --rw "$L/host/src:$L/vp/dest" --hide "$L/vp/dest/hd" --hide "$L/vp/dest/hf" \
  --hide "$L/host" --hide "$L/outside" -- python3 "$PY/syml.py" "$L" "$hostname_content"
{
  for n in rel_hd rel_hd_dots rel_hf abs_hd abs_hd_host shadow shadow_rel chain1 hostabs outside hd_via_up \
    proc_shadow to_host_parent; do
    echo "$n stat: ENOENT"
    echo "$n open: ENOENT"
    case $n in
      shadow | shadow_rel | chain1 | proc_shadow) echo "~ $n creat: (ENOENT|EROFS)" ;;
      *) echo "$n creat: ENOENT" ;;
    esac
    echo "$n lstat is a link: True"
    echo "$n via abs path: ENOENT"
  done
  cat <<EOF
rel_hd_dir/secret: ENOENT
rel_hd_dir/new creat: ENOENT
rel_hd_dir listdir: ENOENT
linkat AT_SYMLINK_FOLLOW through rel_hd: ENOENT
linkat AT_SYMLINK_FOLLOW through okchain1: ('ok', False, 'okfile-content\n')
a new link to /etc/shadow can be made: ok
... and leads nowhere: ENOENT
okchain1: okfile-content
viewabs: okfile-content
dots_ok: okfile-content
etc_hostname: True
etc_hostname write: EROFS
to_view_parent: view-parent-marker
loop1 stat: ELOOP
loop1 open: ELOOP
loop1 creat: ELOOP
selfloop stat: ELOOP
selfloop open: ELOOP
selfloop creat: ELOOP
/../../.. is /: True
/../etc/hostname: True
root_up is /: True
root_up/etc/shadow: ENOENT
many .. from cwd is /: True
dest/.. is the view parent: True
dest/.. listing: dest view-parent-marker
dest/../view-parent-marker: view-parent-marker
dest/../parent-host-marker: ENOENT
up is the view parent: True
up/view-parent-marker: view-parent-marker
up/parent-host-marker: ENOENT
upup is L: True
sub/deep/../../.. is the view parent: True
the bind's host parent is hidden: ENOENT
dirfd ../view-parent-marker: True
dirfd ../parent-host-marker: ENOENT
chdir .. from the bind root: $L/vp
its /proc/self/cwd: $L/vp
chdir ../../.. from inside the bind: $L/vp
proc/status is mine: True
procfd0 is my stdin: True
procroot is /: True
procroot listing: True
proc_cwd is the cwd: True
proc/cwd/okfile: okfile-content
proc/root/etc/shadow: ENOENT
EOF
} >"$TMPROOT/syml.want"
expect_lines "symlinks and .." "$TMPROOT/syml.out" <"$TMPROOT/syml.want"
expect_eq "symlinks: nothing created in the hidden places on the host" "secret|hd hf okfile|file" \
  "$(ls "$L/host/src/hd")|$(ls "$L/host/src" | grep -E '^(hd|hf|okfile|stolen|new)$' | tr '\n' ' ' | sed 's/ $//')|$(ls "$L/outside")"
expect_eq "symlinks: the hidden contents are untouched" "SECRET-HD SECRET-HF" "$(cat "$L/host/src/hd/secret") $(cat "$L/host/src/hf")"
# the shell's view of `..` at a bind root
sbox "$TMPROOT/cddot.out" "$L/vp/dest" --rw "$L/host/src:$L/vp/dest" --hide "$L/host" -- \
  sh -c 'ls ..; cd .. && pwd; cd dest/sub/deep && cd ../../.. && pwd -P'
expect_eq "ls .. and cd .. at a bind root" "dest
view-parent-marker
$L/vp
$L/vp" "$(cat "$TMPROOT/cddot.out")"
# a bind whose destination is in the private /tmp: its parent is a fresh directory there
sbox "$TMPROOT/tmpdest.out" / --rw "$L/host/src2:/tmp/usbox-pd-$$/dest" -- \
  python3 -c "import os; print(sorted(os.listdir('/tmp/usbox-pd-$$/dest/..')), os.path.samefile('/tmp/usbox-pd-$$/dest/../..', '/tmp'))"
expect_eq ".. of a bind in the private /tmp" "['dest'] True" "$(cat "$TMPROOT/tmpdest.out")"

# Symlink semantics the kernel defines, compared with native runs: 40 links
# are followed, the 41st is ELOOP; `..` after a symlink to a directory is the
# target's parent; O_NOFOLLOW, O_CREAT through dangling links.
link_chain_py() {
  cat >chain.py <<'EOF'
import os, errno
def r(f):
    try:
        return f()
    except OSError as e:
        return errno.errorcode[e.errno]
open("target", "w").write("end")
for n in (40, 41):
    os.symlink("target", "c%d_%d" % (n, n))
    for i in range(n - 1, 0, -1):
        os.symlink("c%d_%d" % (n, i + 1), "c%d_%d" % (n, i))
    print(n, "links:", r(lambda: open("c%d_1" % n).read()))
os.makedirs("a/b/c")
os.symlink("a/b/c", "toc")
print("toc/..:", r(lambda: sorted(os.listdir("toc/.."))))
print("toc/../../b:", r(lambda: os.path.isdir("toc/../../b")))
os.symlink("nowhere/x", "dangling_dir")
print("creat through a link into a missing dir:", r(lambda: os.open("dangling_dir", os.O_CREAT | os.O_WRONLY)))
os.symlink("made", "dangling")
print("creat through a dangling link:", r(lambda: os.close(os.open("dangling", os.O_CREAT | os.O_WRONLY))), os.path.exists("made"))
print("O_NOFOLLOW:", r(lambda: os.open("toc", os.O_RDONLY | os.O_NOFOLLOW)))
print("trailing slash on a link to a dir:", r(lambda: os.path.isdir("toc/")))
print("symlink to itself with a slash:", r(lambda: (os.symlink("s/", "s"), os.stat("s"))[1]))
print("readlink of a non-link:", r(lambda: os.readlink("target")))
EOF
}
same_as_native "symlink chains, loops, dangling links" --setup link_chain_py -- python3 chain.py

# ---------------------------------------------------------------- /proc

# Host processes (not in the sandbox): one with its cwd in a hidden directory
# and a hidden file open as fd 3, one with that file mapped.
(cd "$L/host" && exec 3<"$L/outside/file" && exec sleep 300) </dev/null >/dev/null 2>&1 &
HP1=$!
python3 -c '
import mmap, sys, time
f = open(sys.argv[1], "rb")
m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
for line in open("/proc/self/maps"):
    if line.rstrip().endswith(sys.argv[1]):
        print(line.split()[0], flush=True)
        break
time.sleep(300)' "$L/outside/file" </dev/null >"$TMPROOT/map.range" 2>/dev/null &
HP2=$!
HOST_PIDS="$HP1 $HP2"
track_bg "$HP1"
track_bg "$HP2"
for _ in $(seq 100); do [ -s "$TMPROOT/map.range" ] && break; sleep 0.05; done
MAPRANGE=$(cat "$TMPROOT/map.range")
expect_eq "the host helper mapped the hidden file" yes "$([ -n "$MAPRANGE" ] && [ -e "/proc/$HP2/map_files/$MAPRANGE" ] && echo yes)"
pyscript proc <<'EOF'
L, hp1, hp2, maprange = sys.argv[1:5]
D = L + "/vp/dest"
pid = os.getpid()
t("self", lambda: os.readlink("/proc/self") == str(pid))
t("thread-self", lambda: os.readlink("/proc/thread-self") == "%d/task/%d" % (pid, threading.get_native_id()))
box = {}
def in_thread():
    box["r"] = res(lambda: os.readlink("/proc/thread-self") == "%d/task/%d" % (pid, threading.get_native_id()))
    box["s"] = res(lambda: read("/proc/thread-self/status").count("Pid:\t%d\n" % threading.get_native_id()) == 1)
th = threading.Thread(target=in_thread); th.start(); th.join()
t("thread-self in a thread", lambda: box["r"])
t("thread-self/status in a thread", lambda: box["s"])
t("self/status", lambda: read("/proc/self/status").count("Pid:\t%d\n" % pid) == 1)
fd = os.open(D + "/okfile", os.O_RDONLY)
t("self/fd/N names the view path", lambda: os.readlink("/proc/self/fd/%d" % fd) == D + "/okfile")
t("self/fd/N is the file", lambda: (os.stat("/proc/self/fd/%d" % fd).st_ino == os.fstat(fd).st_ino))
t("self/fd/N reopened", lambda: read("/proc/self/fd/%d" % fd))
t("dev/fd/N reopened", lambda: read("/dev/fd/%d" % fd))
os.chdir(D + "/sub")
t("self/cwd", lambda: os.readlink("/proc/self/cwd") == D + "/sub")
t("self/cwd/..", lambda: same("/proc/self/cwd/..", D))
t("self/cwd/../okfile", lambda: read("/proc/self/cwd/../okfile"))
t("self/root", lambda: os.readlink("/proc/self/root"))
t("self/root is /", lambda: same("/proc/self/root", "/"))
t("self/root listing", lambda: ls("/proc/self/root") == ls("/"))
t("self/root/..", lambda: same("/proc/self/root/..", "/"))
t("self/root/etc/shadow", lambda: os.stat("/proc/self/root/etc/shadow"))
t("self/root/tmp is the private /tmp", lambda: ls("/proc/self/root/tmp") == ls("/tmp"))
t("self/root + hidden bind parent", lambda: os.stat("/proc/self/root" + L + "/host"))
t("self/exe", lambda: os.readlink("/proc/self/exe") == os.path.realpath(sys.executable))
t("self/exe is the program", lambda: same("/proc/self/exe", os.path.realpath(sys.executable)))
t("self/exe reads as ELF", lambda: open("/proc/self/exe", "rb").read(4))
t("self/mem reads my memory", lambda: (lambda b: os.pread(os.open("/proc/self/mem", os.O_RDONLY), 8, ctypes.addressof(b)) == b.raw[:8])(ctypes.create_string_buffer(b"MARKER-1234")))
# host processes do not exist for the sandbox; its pid 1 (usbox's init) is not inspectable
for p in ("1", hp1, hp2):
    for sub in ("root", "cwd", "exe", "fd/0", "fd/1", "fd/3", "root/etc/shadow", "root/etc/hostname",
                "cwd/parent-host-marker", "task/%s/root" % p, "task/%s/cwd" % p, "task/%s/fd/3" % p,
                "root/proc/self/root", "ns/mnt", "map_files/" + maprange):
        q = "/proc/%s/%s" % (p, sub)
        t("host %s stat" % q, lambda: os.stat(q))
        t("host %s open" % q, lambda: os.open(q, os.O_RDONLY))
    for sub in ("root", "cwd"):
        q = "/proc/%s/%s" % (p, sub)
        t("host %s listdir" % q, lambda: os.listdir(q))
        t("host %s chdir" % q, lambda: os.chdir(q))
    for sub in ("root", "cwd", "exe", "fd/3", "task/%s/cwd" % p):
        q = "/proc/%s/%s" % (p, sub)
        t("host %s readlink" % q, lambda: os.readlink(q))
    t("host %s mem" % p, lambda: os.open("/proc/%s/mem" % p, os.O_RDONLY))
    t("host %s listed" % p, lambda: str(p) in os.listdir("/proc"))
t("usbox mem", lambda: os.open("/proc/%d/mem" % os.getppid(), os.O_RDONLY))
t("usbox root", lambda: os.stat("/proc/%d/root" % os.getppid()))
t("usbox fd/0", lambda: os.stat("/proc/%d/fd/0" % os.getppid()))
t("usbox listed", lambda: str(os.getppid()) in os.listdir("/proc"))
# a process of the sandbox: its magic links are its view
import subprocess
c = subprocess.Popen(["sleep", "30"], cwd=D)
import time
for _ in range(100):
    if os.readlink("/proc/%d/exe" % c.pid).endswith("sleep"):
        break
    time.sleep(0.02)
t("child cwd", lambda: os.readlink("/proc/%d/cwd" % c.pid) == D)
t("child root", lambda: os.readlink("/proc/%d/root" % c.pid))
t("child root/etc/shadow", lambda: os.stat("/proc/%d/root/etc/shadow" % c.pid))
t("child cwd/okfile", lambda: read("/proc/%d/cwd/okfile" % c.pid))
t("child exe", lambda: same("/proc/%d/exe" % c.pid, "/proc/%d/exe" % c.pid) and os.path.basename(os.readlink("/proc/%d/exe" % c.pid)))
t("child fd/1", lambda: (os.stat("/proc/%d/fd/1" % c.pid).st_ino == os.fstat(1).st_ino))
c.kill(); c.wait()
t("kcore", lambda: os.stat("/proc/kcore"))
t("kcore listed", lambda: "kcore" in os.listdir("/proc"))
t("open /proc/sys for writing", lambda: os.open("/proc/sys/kernel/hostname", os.O_WRONLY))
t("open /proc/sysrq-trigger for writing", lambda: os.open("/proc/sysrq-trigger", os.O_WRONLY))
EOF
sbox "$TMPROOT/proc.out" / --rw "$L/host/src:$L/vp/dest" --hide "$L/vp/dest/hd" --hide "$L/host" --hide "$L/outside" -- \
  python3 "$PY/proc.py" "$L" "$HP1" "$HP2" "$MAPRANGE"
{
  cat <<EOF
self: True
thread-self: True
thread-self in a thread: True
thread-self/status in a thread: True
self/status: True
self/fd/N names the view path: True
self/fd/N is the file: True
self/fd/N reopened: okfile-content
dev/fd/N reopened: okfile-content
self/cwd: True
self/cwd/..: True
self/cwd/../okfile: okfile-content
self/root: /
self/root is /: True
self/root listing: True
self/root/..: True
self/root/etc/shadow: ENOENT
self/root/tmp is the private /tmp: True
self/root + hidden bind parent: ENOENT
self/exe: True
self/exe is the program: True
self/exe reads as ELF: b'\x7fELF'
self/mem reads my memory: True
usbox mem: EACCES
usbox root: EACCES
usbox fd/0: EACCES
usbox listed: True
child cwd: True
child root: /
child root/etc/shadow: ENOENT
child cwd/okfile: okfile-content
child exe: sleep
child fd/1: True
kcore: ENOENT
kcore listed: False
open /proc/sys for writing: EROFS
open /proc/sysrq-trigger for writing: $([ -e /proc/sysrq-trigger ] && echo EROFS || echo ENOENT)
EOF
  # host processes do not exist for the sandbox (its own pid namespace);
  # its pid 1 is usbox's init, whose guarded entries are refused
  for p in 1 "$HP1" "$HP2"; do
    e=ENOENT listed=False
    [ "$p" = 1 ] && e=EACCES listed=True
    for sub in root cwd exe fd/0 fd/1 fd/3 root/etc/shadow root/etc/hostname cwd/parent-host-marker \
      "task/$p/root" "task/$p/cwd" "task/$p/fd/3" root/proc/self/root ns/mnt "map_files/$MAPRANGE"; do
      echo "host /proc/$p/$sub stat: $e"
      echo "host /proc/$p/$sub open: $e"
    done
    for sub in root cwd; do
      for op in listdir chdir; do echo "host /proc/$p/$sub $op: $e"; done
    done
    for sub in root cwd exe fd/3 "task/$p/cwd"; do echo "host /proc/$p/$sub readlink: $e"; done
    echo "host $p mem: $e"
    echo "host $p listed: $listed"
  done
} >"$TMPROOT/proc.want"
expect_lines "/proc" "$TMPROOT/proc.out" <"$TMPROOT/proc.want"
{ kill -KILL $HOST_PIDS && wait $HOST_PIDS; } 2>/dev/null
HOST_PIDS=

# Files the agent inherits as its standard streams, wherever they live on the
# host, are the agent's own through /dev/std* and /proc/self/fd (as natively).
stdio_probe() {
  local where=$1 dir=$2
  mkdir -p "$dir"
  echo "stdin-content" >"$dir/in"
  : >"$dir/out"
  # stdout in append mode: every reopening of it writes at its end too
  (cd / && timeout -k 5 "$CMD_TIMEOUT" "$USBOX_REAL" exec -- sh -c \
    'cat /dev/stdin; cat /proc/self/fd/0; echo to-dev-stdout >>/dev/stdout; echo to-fd-1 >>/proc/self/fd/1; echo st=$?' \
    <"$dir/in" >>"$dir/out" 2>"$dir/err")
  expect_eq "inherited stdin/stdout files in $where" "stdin-content
stdin-content
to-dev-stdout
to-fd-1
st=0" "$(cat "$dir/out")"
  [ -s "$dir/err" ] && show stderr "$dir/err"
}
stdio_probe "the host's /tmp (private in the view)" "$TMPROOT/stdio"
mkdir -p /var/tmp
VT=$(mktemp -d /var/tmp/usbox-view.XXXXXX)
CREATED+=("$VT")
stdio_probe "/var/tmp (read-only in the view)" "$VT"

# ---------------------------------------------------------------- dirfd walks

# Native semantics, compared with a native run.
dirfd_py() {
  cat >dirfd.py <<'EOF'
import os, errno, ctypes
libc = ctypes.CDLL(None, use_errno=True)
def r(name, f):
    try:
        v = f()
    except OSError as e:
        v = errno.errorcode[e.errno]
    print(name + ":", v)
def c(ret):
    return "ok" if ret >= 0 else errno.errorcode[ctypes.get_errno()]
O = os.O_RDONLY | os.O_DIRECTORY
os.makedirs("base/sub")
open("base/f", "w").write("f-content")
d = os.open("base", O)
r("openat", lambda: os.read(os.open("f", os.O_RDONLY, dir_fd=d), 20))
r("fstatat", lambda: os.stat("f", dir_fd=d).st_size)
r("mkdirat", lambda: os.mkdir("m", dir_fd=d))
r("openat O_CREAT", lambda: os.close(os.open("m/new", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=d)))
r("unlinkat", lambda: os.unlink("m/new", dir_fd=d))
r("unlinkat AT_REMOVEDIR", lambda: os.rmdir("m", dir_fd=d))
r("symlinkat + readlinkat", lambda: (os.symlink("f", "l", dir_fd=d), os.readlink("l", dir_fd=d))[1])
r("renameat", lambda: os.rename("l", "sub/l", src_dir_fd=d, dst_dir_fd=d))
r("openat ..", lambda: sorted(os.listdir(os.open("..", O, dir_fd=d))))
r("fstatat ../base is base", lambda: os.stat("../base", dir_fd=d).st_ino == os.fstat(d).st_ino)
r("openat ../../.. from a subdir dirfd", lambda: os.stat("sub/../../base/f", dir_fd=d).st_size)
os.mkdir("moved")
os.rename("base", "moved/base2")
r("renamed: openat f", lambda: os.read(os.open("f", os.O_RDONLY, dir_fd=d), 20))
r("renamed: mkdirat", lambda: os.mkdir("new", dir_fd=d))
r("renamed: it is in the new place", lambda: os.path.isdir("moved/base2/new"))
r("renamed: .. is the new parent", lambda: sorted(os.listdir(os.open("..", O, dir_fd=d))))
r("renamed: readlinkat sub/l", lambda: os.readlink("sub/l", dir_fd=d))
fd = os.open("moved/base2/f", os.O_RDONLY)
buf = ctypes.create_string_buffer(256)
r("statx AT_EMPTY_PATH", lambda: c(libc.statx(fd, b"", 0x1000, 0xfff, buf)))
r("newfstatat AT_EMPTY_PATH", lambda: c(libc.syscall(262, fd, b"", buf, 0x1000)))
r("statx empty path without AT_EMPTY_PATH", lambda: c(libc.statx(fd, b"", 0, 0xfff, buf)))
r("fchownat AT_EMPTY_PATH", lambda: c(libc.fchownat(fd, b"", -1, -1, 0x1000)))
r("linkat AT_EMPTY_PATH", lambda: c(libc.linkat(fd, b"", -100, b"linked", 0x1000)))
r("the link", lambda: open("linked").read())
r("faccessat2 AT_EMPTY_PATH", lambda: c(libc.syscall(439, fd, b"", 4, 0x1000)))
r("dirfd of a file", lambda: os.stat("x", dir_fd=fd))
r("a bad dirfd", lambda: os.stat("x", dir_fd=999))
r("absolute path ignores the dirfd", lambda: os.stat("/", dir_fd=fd).st_ino == os.stat("/").st_ino)
p = os.open("moved", os.O_PATH | os.O_DIRECTORY)
r("O_PATH dirfd", lambda: os.stat("base2/f", dir_fd=p).st_size)
os.fchdir(d)
r("fchdir then relative", lambda: sorted(os.listdir(".")))
r("fchdir then ..", lambda: sorted(os.listdir("..")))
EOF
}
same_as_native "dirfd walks: *at calls, .., a renamed directory, AT_EMPTY_PATH" --setup dirfd_py -- python3 dirfd.py
dirfd_removed_py() {
  cat >removed.py <<'EOF'
import os, errno
def r(name, f):
    try:
        v = f()
    except OSError as e:
        v = errno.errorcode[e.errno]
    print(name + ":", v)
os.makedirs("gone/sub")
g = os.open("gone", os.O_RDONLY | os.O_DIRECTORY)
os.rmdir("gone/sub")
os.rmdir("gone")
r("removed: openat O_CREAT", lambda: os.open("x", os.O_CREAT | os.O_WRONLY, 0o600, dir_fd=g))
r("removed: mkdirat", lambda: os.mkdir("x", dir_fd=g))
r("removed: fstatat .", lambda: os.stat(".", dir_fd=g).st_nlink)
r("removed: fstatat ..", lambda: os.stat("..", dir_fd=g).st_ino == os.stat(".").st_ino)
r("removed: fchdir + getcwd", lambda: (os.fchdir(g), os.getcwd())[1].endswith("/gone"))
EOF
}
same_as_native "dirfd of a removed directory" --setup dirfd_removed_py -- python3 removed.py

# In the view: dirfds of a --ro bind, of a bind root, of a directory holding
# hidden entries.
B3=$TMPROOT/e3
make_bind_tree "$B3"
echo rofile >"$B3/S/rofile"
pyscript dirfdview <<'EOF'
B = sys.argv[1]
V = B + "/V"
O = os.O_RDONLY | os.O_DIRECTORY
ro = os.open(V + "/ro1", O)
t("ro dirfd openat", lambda: read("/proc/self/fd/%d/r" % ro))
t("ro dirfd openat O_CREAT", lambda: os.open("new", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=ro))
t("ro dirfd mkdirat", lambda: os.mkdir("new", dir_fd=ro))
t("ro dirfd unlinkat", lambda: os.unlink("r", dir_fd=ro))
t("ro dirfd renameat", lambda: os.rename("r", "r2", src_dir_fd=ro, dst_dir_fd=ro))
t("ro dirfd symlinkat", lambda: os.symlink("r", "l", dir_fd=ro))
t("ro dirfd fchmodat", lambda: os.chmod("r", 0o600, dir_fd=ro))
t("ro dirfd utimensat", lambda: os.utime("r", (1, 1), dir_fd=ro))
t("ro dirfd fchownat AT_EMPTY_PATH", lambda: cres(libc.fchownat(ro, b"", 1, 1, 0x1000)))
t("ro dirfd fchmod", lambda: os.fchmod(ro, 0o700))
rf = os.open(V + "/ro1/r", os.O_RDONLY)
t("ro file linkat AT_EMPTY_PATH into a rw bind", lambda: cres(libc.linkat(rf, b"", -100, os.fsencode(V + "/rw1/linked"), 0x1000)))
t("ro file futimens", lambda: cres(libc.futimens(rf, None)))
rw = os.open(V + "/rw1", O)
t("bind root dirfd ../rw2/b", lambda: read("/proc/self/fd/%d/../rw2/b" % rw))
t("bind root dirfd openat ../rw2/b", lambda: os.read(os.open("../rw2/b", os.O_RDONLY, dir_fd=rw), 20))
t("bind root dirfd .. is V", lambda: os.stat("..", dir_fd=rw).st_ino == os.stat(V).st_ino)
t("bind root dirfd ../rw1/covered", lambda: os.stat("../rw1/covered", dir_fd=rw))
t("bind root dirfd mkdirat", lambda: os.mkdir("fromdirfd", dir_fd=rw))
t("bind root dirfd ../ro1 openat O_CREAT", lambda: os.open("../ro1/new", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=rw))
hb = os.open(V + "/hb", O)
for n in ("hf", "hd", "hd/secret", "./hd/../hf", "../hb/hd/secret", "future"):
    t("hb dirfd stat " + n, lambda: os.stat(n, dir_fd=hb))
    t("hb dirfd open " + n, lambda: os.open(n, os.O_RDONLY, dir_fd=hb))
    t("hb dirfd creat " + n, lambda: os.open(n, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=hb))
    t("hb dirfd mkdirat " + n, lambda: os.mkdir(n, dir_fd=hb))
    t("hb dirfd unlinkat " + n, lambda: os.unlink(n, dir_fd=hb))
os.fchdir(hb)
t("hb fchdir stat hd/secret", lambda: os.stat("hd/secret"))
t("hb fchdir listdir", lambda: ls("."))
sub = os.open(V + "/rw1/sub", O)
os.mkdir(V + "/rw1/newparent")
os.rename(V + "/rw1/sub", V + "/rw1/newparent/sub")
t("renamed dirfd: .. is the new parent", lambda: os.stat("..", dir_fd=sub).st_ino == os.stat(V + "/rw1/newparent").st_ino)
t("renamed dirfd: mkdirat", lambda: os.mkdir("made", dir_fd=sub))
t("renamed dirfd: /proc/self/fd name", lambda: os.readlink("/proc/self/fd/%d" % sub) == V + "/rw1/newparent/sub")
tmp = os.open("/tmp", O)
t("private /tmp dirfd creat", lambda: os.close(os.open("dirfd-file", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=tmp)))
t("private /tmp dirfd ..", lambda: os.stat("..", dir_fd=tmp).st_ino == os.stat("/").st_ino)
EOF
SNAP_DEPTH=5 snapshot "$B3/S" >"$TMPROOT/e3.before"
bind_flags "$B3"
sbox "$TMPROOT/dirfdview.out" / "${BIND_FLAGS[@]}" -- python3 "$PY/dirfdview.py" "$B3"
{
  cat <<EOF
ro dirfd openat: ro1-r
ro dirfd openat O_CREAT: EROFS
ro dirfd mkdirat: EROFS
ro dirfd unlinkat: EROFS
ro dirfd renameat: EROFS
ro dirfd symlinkat: EROFS
ro dirfd fchmodat: EROFS
ro dirfd utimensat: EROFS
ro dirfd fchownat AT_EMPTY_PATH: EROFS
ro dirfd fchmod: EROFS
ro file linkat AT_EMPTY_PATH into a rw bind: EXDEV
ro file futimens: EROFS
bind root dirfd ../rw2/b: rw2-b
bind root dirfd openat ../rw2/b: b'rw2-b\n'
bind root dirfd .. is V: True
bind root dirfd ../rw1/covered: ENOENT
bind root dirfd mkdirat: ok
bind root dirfd ../ro1 openat O_CREAT: EROFS
hb fchdir stat hd/secret: ENOENT
hb fchdir listdir: deep keep
renamed dirfd: .. is the new parent: True
renamed dirfd: mkdirat: ok
renamed dirfd: /proc/self/fd name: True
private /tmp dirfd creat: ok
private /tmp dirfd ..: True
EOF
  for n in hf hd hd/secret ./hd/../hf ../hb/hd/secret future; do
    for op in stat open creat mkdirat unlinkat; do echo "hb dirfd $op $n: ENOENT"; done
  done
} >"$TMPROOT/dirfdview.want"
expect_lines "dirfds in the view" "$TMPROOT/dirfdview.out" <"$TMPROOT/dirfdview.want"
expect_eq "dirfds: the writes landed where the view put them" "fromdirfd made" \
  "$(ls "$B3/S/rw1" | grep -x fromdirfd) $(ls "$B3/S/rw1/newparent/sub")"
SNAP_DEPTH=5 snapshot "$B3/S/ro1" "$B3/S/hb" | sort >"$TMPROOT/e3.after"
grep -E "^($B3/S/ro1|$B3/S/hb)|  $B3/S/(ro1|hb)" "$TMPROOT/e3.before" | sort >"$TMPROOT/e3.before2"
same_snapshot "dirfds: the --ro and hidden trees are untouched" "$TMPROOT/e3.before2" "$TMPROOT/e3.after"

# ---------------------------------------------------------------- rename and link across binds

# The reference is the kernel with the same binds as real mounts
# (unshare -m); the sandbox must answer the same, and the expected answers
# are spelled out too.
pyscript xbind <<'EOF'
B = sys.argv[1]
V = B + "/V"
creat(V + "/rw1/x"); os.mkdir(V + "/rw1/xd"); creat(V + "/rw2/y"); creat(B + "/pf")
t("rename a file across rw binds", lambda: os.rename(V + "/rw1/x", V + "/rw2/x"))
t("rename a directory across rw binds", lambda: os.rename(V + "/rw1/xd", V + "/rw2/xd"))
t("rename within a bind", lambda: (os.rename(V + "/rw1/x", V + "/rw1/x2"), os.rename(V + "/rw1/x2", V + "/rw1/x"))[0])
t("rename from a bind to its parent mount", lambda: os.rename(V + "/rw1/x", B + "/x"))
t("rename from the parent mount into a bind", lambda: os.rename(B + "/pf", V + "/rw1/pf"))
t("rename from a ro bind into a rw bind", lambda: os.rename(V + "/ro1/r", V + "/rw1/r"))
t("rename from a rw bind into a ro bind", lambda: os.rename(V + "/rw1/x", V + "/ro1/x"))
t("rename within a ro bind", lambda: os.rename(V + "/ro1/r", V + "/ro1/r2"))
t("rename onto a mount point", lambda: os.rename(B + "/pf", V + "/rw2"))
t("rename an empty directory onto a writable mount point", lambda: (os.mkdir(B + "/pd2"), os.rename(B + "/pd2", V + "/rw2"))[1])
t("rename a directory onto a mount point", lambda: (os.mkdir(B + "/pd"), os.rename(B + "/pd", V + "/empty"))[1])
t("rename a mount point", lambda: os.rename(V + "/rw2", V + "/rw2b"))
t("rename a mount point into itself", lambda: os.rename(V + "/rw1", V + "/rw1/inner"))
t("rename inside a bind onto the bind root", lambda: os.rename(V + "/rw1/xd", V + "/rw1"))
t("rmdir a mount point", lambda: os.rmdir(V + "/empty"))
t("rmdir a writable mount point", lambda: os.rmdir(V + "/rw2"))
t("unlink a mount point", lambda: os.unlink(V + "/rw2"))
t("unlink a directory holding mount points", lambda: os.unlink(V))
t("link from a ro bind into a rw bind", lambda: os.link(V + "/ro1/r", V + "/rw1/r"))
t("link across rw binds", lambda: os.link(V + "/rw1/x", V + "/rw2/x"))
t("link from the parent mount into a bind", lambda: os.link(B + "/pf", V + "/rw1/pf"))
t("link within a bind", lambda: os.link(V + "/rw1/x", V + "/rw1/xl"))
t("renameat2 EXCHANGE across binds", lambda: cres(libc.renameat2(-100, os.fsencode(V + "/rw1/x"), -100, os.fsencode(V + "/rw2/y"), 2)))
t("renameat2 NOREPLACE across binds", lambda: cres(libc.renameat2(-100, os.fsencode(V + "/rw1/x"), -100, os.fsencode(V + "/rw2/z"), 1)))
t("renameat2 EXCHANGE within a bind", lambda: cres(libc.renameat2(-100, os.fsencode(V + "/rw1/x"), -100, os.fsencode(V + "/rw1/xl"), 2)))
t("state", lambda: "%s | %s | %s" % (ls(V + "/rw1"), ls(V + "/rw2"), ls(V + "/ro1")))
EOF
B4=$TMPROOT/e4
B5=$TMPROOT/e5
make_bind_tree "$B4"
make_bind_tree "$B5"
# the native reference: the same binds as real mounts in a private namespace
unshare -m --propagation private sh -ec '
  B=$1
  mount --bind "$B" "$B"
  mount --bind "$B/S/rw1" "$B/V/rw1"
  mount --bind "$B/S/rw2" "$B/V/rw2"
  mount --bind "$B/S/ro1" "$B/V/ro1" && mount -o remount,bind,ro "$B/V/ro1"
  mount --bind "$B/S/emptysrc" "$B/V/empty" && mount -o remount,bind,ro "$B/V/empty"
  exec python3 "$2" "$B"' sh "$B4" "$PY/xbind.py" >"$TMPROOT/xbind.native" 2>&1
sbox "$TMPROOT/xbind.out" / --rw "$B5" --rw "$B5/S/rw1:$B5/V/rw1" --rw "$B5/S/rw2:$B5/V/rw2" \
  --ro "$B5/S/ro1:$B5/V/ro1" --ro "$B5/S/emptysrc:$B5/V/empty" -- python3 "$PY/xbind.py" "$B5"
cat >"$TMPROOT/xbind.want" <<'EOF'
rename a file across rw binds: EXDEV
rename a directory across rw binds: EXDEV
rename within a bind: ok
rename from a bind to its parent mount: EXDEV
rename from the parent mount into a bind: EXDEV
rename from a ro bind into a rw bind: EXDEV
rename from a rw bind into a ro bind: EXDEV
rename within a ro bind: EROFS
rename onto a mount point: EISDIR
rename a directory onto a mount point: EBUSY
rename an empty directory onto a writable mount point: EBUSY
rename a mount point: EBUSY
rename a mount point into itself: EXDEV
rename inside a bind onto the bind root: EXDEV
rmdir a mount point: EBUSY
rmdir a writable mount point: EBUSY
unlink a mount point: EISDIR
unlink a directory holding mount points: EISDIR
link from a ro bind into a rw bind: EXDEV
link across rw binds: EXDEV
link from the parent mount into a bind: EXDEV
link within a bind: ok
renameat2 EXCHANGE across binds: EXDEV
renameat2 NOREPLACE across binds: EXDEV
renameat2 EXCHANGE within a bind: ok
state: a sub x xd xl | b y | r rsub
EOF
expect_lines "rename/link across binds, native reference" "$TMPROOT/xbind.native" <"$TMPROOT/xbind.want"
expect_lines "rename/link across binds" "$TMPROOT/xbind.out" <"$TMPROOT/xbind.want"
if cmp -s "$TMPROOT/xbind.native" "$TMPROOT/xbind.out"; then
  pass "rename/link across binds: the sandbox answers as the kernel with real mounts"
else
  fail "rename/link across binds: the sandbox differs from the kernel with real mounts"
  diff "$TMPROOT/xbind.native" "$TMPROOT/xbind.out" | sed 's/^/  | /' >&2
fi
expect_eq "rename/link across binds: the host trees" "a sub x xd xl|b y|r rsub" \
  "$(ls "$B5/S/rw1" | tr '\n' ' ' | sed 's/ $//')|$(ls "$B5/S/rw2" | tr '\n' ' ' | sed 's/ $//')|$(ls "$B5/S/ro1" | tr '\n' ' ' | sed 's/ $//')"
pyscript xtmp <<'EOF'
B = sys.argv[1]
creat(B + "/V/rw1/t"); creat("/tmp/t2")
t("rename from a bind into the private /tmp", lambda: os.rename(B + "/V/rw1/t", "/tmp/t"))
t("rename from the private /tmp into a bind", lambda: os.rename("/tmp/t2", B + "/V/rw1/t2"))
t("link from the private /tmp into a bind", lambda: os.link("/tmp/t2", B + "/V/rw1/t3"))
t("rename the private /tmp", lambda: os.rename("/tmp", "/tmp2"))
t("rmdir the private /tmp", lambda: os.rmdir("/tmp"))
t("rename a --tmpfs", lambda: os.rename(B + "/V/tfs", B + "/V/tfs2"))
EOF
bind_flags "$B4"
sbox "$TMPROOT/xtmp.out" / "${BIND_FLAGS[@]}" -- python3 "$PY/xtmp.py" "$B4"
expect_lines "rename/link with the private /tmp and --tmpfs" "$TMPROOT/xtmp.out" <<'EOF'
rename from a bind into the private /tmp: EXDEV
rename from the private /tmp into a bind: EXDEV
link from the private /tmp into a bind: EXDEV
~ rename the private /tmp: (EBUSY|EROFS)
~ rmdir the private /tmp: (EBUSY|EROFS)
rename a --tmpfs: EBUSY
EOF

# ---------------------------------------------------------------- real programs

# The default policy plus --rw of the working directory, against native runs.
cat >"$TMPROOT/bin/usbox-cwd" <<SHIM
#!/bin/sh
# usbox exec with the bare default policy and the current directory writable
[ "\$1" = exec ] && shift
exec "$USBOX_REAL" exec --rw "\$(pwd -P)" "\$@"
SHIM
chmod +x "$TMPROOT/bin/usbox-cwd"
git_prog() {
  cat >run.sh <<'EOF'
set -e
export GIT_AUTHOR_DATE=2020-01-01T00:00:00Z GIT_COMMITTER_DATE=2020-01-01T00:00:00Z
export GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent-home
git init -q -b main repo
cd repo
echo hello >a.txt
mkdir d && echo x >d/b.txt
git add .
git -c user.name=t -c user.email=t@example.com commit -q -m first
echo more >>a.txt
git -c user.name=t -c user.email=t@example.com commit -q -am second
git log --format='%H %s'
git status --short
git rev-parse HEAD:d
git gc -q
git fsck --no-progress 2>&1
ls .git | sort
EOF
}
py_prog() {
  cat >run.py <<'EOF'
import os, json, tempfile, shutil, hashlib
os.makedirs("out/nested", exist_ok=True)
for i in range(20):
    with open("out/nested/f%02d.json" % i, "w") as f:
        json.dump({"i": i, "sq": i * i}, f)
with tempfile.TemporaryDirectory() as t:  # the private /tmp
    shutil.copytree("out", os.path.join(t, "copy"))
    n = len(os.listdir(os.path.join(t, "copy", "nested")))
shutil.make_archive("arch", "zip", "out")
os.rename("out/nested/f00.json", "out/first.json")
h = hashlib.sha256()
for root, dirs, files in sorted(os.walk("out")):
    for f in sorted(files):
        h.update(open(os.path.join(root, f), "rb").read())
print(n, os.path.getsize("arch.zip") > 0, h.hexdigest(), sorted(os.listdir("out")))
EOF
}
gcc_prog() {
  cat >hello.c <<'EOF'
#include <stdio.h>
#include "greet.h"
int main(void) { printf("%s %d\n", GREETING, 6 * 7); return 0; }
EOF
  echo '#define GREETING "hello from gcc"' >greet.h
  cat >Makefile <<'EOF'
all: hello
hello: hello.o
	$(CC) -o $@ $^
hello.o: hello.c greet.h
	$(CC) -O2 -c -o $@ hello.c
clean:
	rm -f hello hello.o
.PHONY: all clean
EOF
}
tar_prog() {
  mkdir -p tree/a/b && echo one >tree/a/one && echo two >tree/a/b/two && ln -s a/one tree/link
}
USBOX=$TMPROOT/bin/usbox-cwd same_as_native "git init, add, commit, gc, fsck" --setup git_prog -- sh run.sh
USBOX=$TMPROOT/bin/usbox-cwd same_as_native "python3 writing files, tempfile, zip" --setup py_prog -- python3 run.py
USBOX=$TMPROOT/bin/usbox-cwd same_as_native "gcc compiles and links, the program runs" --setup gcc_prog -- \
  sh -c 'gcc -Wall -o hello hello.c && ./hello && gcc -E -dM hello.c | grep -c GREETING'
USBOX=$TMPROOT/bin/usbox-cwd same_as_native "make builds, rebuilds nothing, cleans" --setup gcc_prog -- \
  sh -c 'make -s && ./hello && make -q; echo q=$?; make -s clean && ls'
USBOX=$TMPROOT/bin/usbox-cwd same_as_native "tar creates, lists and extracts" --setup tar_prog -- \
  sh -c 'tar czf t.tgz tree && tar tzf t.tgz | sort && mkdir x && tar xzf t.tgz -C x && diff -r tree x/tree && echo same && readlink x/tree/link'

# ---------------------------------------------------------------- hidden paths stay hidden across runs

# A default secret inside a writable bind cannot be carried out of its hidden
# path: not by renaming it, not by renaming its parent (refused with EBUSY, as
# for a directory holding a mount point) and then it. If it could, the next
# run (same policy, hiding by path) would show it.
# (This changes the throwaway home, so it runs last.)
expect_eq "a default secret in a --rw home is there on the host" "SECRET-.config/gcloud" "$(cat "$H/.config/gcloud/key")"
box "$TMPROOT/carry1.out" --rw "$H" -- sh -c "cd '$H' || exit 9
mv .config/gcloud stolen1; echo direct=\$?
mv .config .c2; echo parent=\$?
mv .c2/gcloud stolen2; echo carried=\$?
mv .c2 .config; echo back=\$?
cat stolen2/key stolen1/key .config/gcloud/key"
expect_grep "renaming a hidden directory directly fails" '^direct=1$' "$TMPROOT/carry1.out"
expect_grep "renaming the parent of a hidden directory is refused" '^parent=1$' "$TMPROOT/carry1.out"
expect_grep "the hidden directory cannot then be moved out" '^carried=1$' "$TMPROOT/carry1.out"
expect_eq "the secret stayed where it was on the host" "SECRET-.config/gcloud|" \
  "$(cat "$H/.config/gcloud/key" 2>/dev/null || cat "$H/.c2/gcloud/key" 2>/dev/null)|$(ls -d "$H/stolen1" "$H/stolen2" 2>/dev/null)"
box "$TMPROOT/carry2.out" --rw "$H" -- sh -c "cat '$H/stolen2/key' '$H/stolen1/key' '$H/.config/gcloud/key' 2>/dev/null; true"
expect_eq "the next run does not see the secret either" "" "$(cat "$TMPROOT/carry2.out")"

# ---------------------------------------------------------------- where the program starts

# From a directory the view lacks (the host's /tmp is behind the private
# one): the agent's home, with a one-line notice, not an error.
away=$(mktemp -d /tmp/usbox-chdir.XXXXXX)
expect_exit 0 "started from a directory the view lacks" -- \
  sh -c "cd '$away' && HOME=/etc exec '$USBOX_REAL' exec -- pwd"
expect_eq "it starts in its home" /etc "$(cat "$OUT")"
expect_eq "one line says so" 1 "$(wc -l <"$ERR")"
expect_grep "and why" "current directory $away is not in the sandbox's view: the program starts in /etc" "$ERR"
rmdir "$away"
expect_exit 0 "--chdir DIR" -- "$USBOX" exec --chdir /usr/share -- pwd
expect_eq "the program starts there" /usr/share "$(cat "$OUT")"
expect_exit 0 "--chdir of a relative path" -- sh -c "cd /usr && exec '$USBOX' exec --chdir lib -- pwd"
expect_eq "taken from usbox's directory" /usr/lib "$(cat "$OUT")"
printf '{"process": {"cwd": "/var"}}\n' >"$TMPROOT/cwd.json"
expect_exit 0 "policy process.cwd" -- "$USBOX" exec --policy "$TMPROOT/cwd.json" -- pwd
expect_eq "the policy's directory" /var "$(cat "$OUT")"
expect_exit 125 "--chdir of a directory the view lacks" -- "$USBOX" exec --chdir /no-such-dir-usbox -- pwd
expect_eq "one line" 1 "$(wc -l <"$ERR")"
expect_grep "naming it" "/no-such-dir-usbox is not visible in the sandbox" "$ERR"
printf '{"process": {"cwd": 1}}\n' >"$TMPROOT/cwd-bad.json"
expect_exit 125 "a policy whose process.cwd is no string" -- "$USBOX" exec --policy "$TMPROOT/cwd-bad.json" -- true

# --hide through symlinked parents: the rule is resolved on the host to the
# object it names (policy/hidden.c resolves each parent once, from its own
# parent's answer), whatever name reaches it in the view
P=$TMPROOT/parents
mkdir -p "$P/real/deep/er" "$P/real/plain"
echo hidden-one >"$P/real/deep/er/secret"
echo hidden-two >"$P/real/plain/secret"
echo shown >"$P/real/plain/other"
ln -s real "$P/alias"
ln -s alias "$P/alias2"            # a chain of links
ln -s ../real/deep "$P/real/up"    # a relative link below the link
ln -s /no-such-usbox-target "$P/dangling"
mkdir -p "$P/rw"
expect_exit 0 "--hide through symlinked parents" -- "$USBOX" exec --ro "$P" \
  --hide "$P/alias2/up/er/secret" --hide "$P/alias/plain/secret" \
  --hide "$P/dangling/x/secret" --hide "$P/real/no/such/dir/secret" -- \
  sh -c "for f in real/deep/er/secret alias/up/er/secret real/plain/secret alias2/plain/secret real/plain/other; do cat $P/\$f 2>/dev/null || echo \"\$f: absent\"; done"
for f in real/deep/er/secret alias/up/er/secret real/plain/secret alias2/plain/secret; do
  expect_grep "symlinked parents: $f hidden" "^$f: absent\$" "$OUT"
done
expect_grep "symlinked parents: the rest shown" '^shown$' "$OUT"
grep -q hidden- "$OUT" && fail "symlinked parents: a hidden file was read: $(cat "$OUT")"

finish
