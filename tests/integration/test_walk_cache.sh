#!/usr/bin/env bash
# The walk cache (vfs/dcache.h): the sentry answers stats of paths it walked
# recently without asking the gofer, and opens them itself. What a program sees must still be what
# the kernel shows now. Each check here changes something between two stats
# of the same path inside the sandbox and compares with what the host sees
# at that moment: the host replacing, growing, chmod-ing, deleting and
# re-creating a file and swapping a directory on the path (in lockstep with
# the agent, through two FIFOs, so changes land right after a cached
# answer); the agent growing a file through its own fd (a write the sentry
# never sees); a directory's permissions taken away from an unprivileged
# agent; a removed file's space given back while the sandbox runs. And the
# cache is on, so these checks exercise it.
. "$(dirname "$0")/lib.sh"

cd "$TMPROOT" # a directory every sandbox here shows (ctest's may not be)
W=$TMPROOT/wc
mkdir -p "$W/sub"
echo one >"$W/sub/f"

# ---- the cache answers ----
"$USBOX" exec -v -- sh -c "for i in 1 2 3 4 5 6 7 8; do stat $W/sub/f >/dev/null; done" \
  >/dev/null 2>"$TMPROOT/v.err"
answered=$(sed -n 's/.*walk cache: \([0-9]*\) answered.*/\1/p' "$TMPROOT/v.err")
[ "${answered:-0}" -ge 7 ] && pass "repeated stats are answered by the walk cache ($answered)" ||
  { fail "the walk cache answered ${answered:-nothing}"; show stderr "$TMPROOT/v.err"; }

# ---- from the first walk: the mount roots are the cache's from the start ----
# (vfs/dcache.c root_answer_locked: a fresh sandbox's first walks, the
# agent's execve among them, start at a mount root the cache answers, and
# go on name by name as the agent; the gofer is asked for none of them)
"$USBOX" exec -v --ro "$W" -- sh -c "stat -c '%i %s %F' / $W $W/sub/f $W/none 2>&1" \
  >"$TMPROOT/first.out" 2>"$TMPROOT/first.err"
expect_eq "first walks from the mount roots answer what the host has" \
  "$(stat -c '%i %s %F' / "$W" "$W/sub/f" "$W/none" 2>&1 | sed 's/^stat: //')" \
  "$(sed 's/^stat: //' "$TMPROOT/first.out")"
first_asks=$(sed -n 's/.* \([0-9]*\) asked the gofer.*/\1/p' "$TMPROOT/first.err")
expect_eq "and none of them asked the gofer" "0" "${first_asks:-nothing}"

# ---- names in a directory a walk went through: the sentry's own lookup ----
# (the root mount, two levels below any mount root: the directories a walk
# passes are kept as answers of their own, not only the mount root)
echo two >"$W/sub/g"
"$USBOX" exec -v -- sh -c "stat -c '%i %s' $W/sub/f $W/sub/g $W/sub/none 2>&1" \
  >"$TMPROOT/local.out" 2>"$TMPROOT/local.err"
local_n=$(sed -n 's/.*answered, \([0-9]*\) more by a lookup of the sentry.s own.*/\1/p' "$TMPROOT/local.err")
[ "${local_n:-0}" -ge 2 ] && pass "a sibling in a directory a walk passed is looked up by the sentry ($local_n)" ||
  { fail "no lookup of the sentry's own (${local_n:-nothing})"; show stderr "$TMPROOT/local.err"; }
expect_eq "what those lookups answer is what the host has" \
  "$(stat -c '%i %s' "$W/sub/f" "$W/sub/g" "$W/sub/none" 2>&1 | sed 's/^stat: //')" \
  "$(sed 's/^stat: //' "$TMPROOT/local.out")"
rm -f "$W/sub/g"

# ---- walks below a cached directory: the sentry's own steps, name by name ----
# Directories no walk has passed yet, below one the cache holds: each name
# looked up by the sentry (vfs/ops.c local_walk), a link met on the way
# followed by the VFS, a walk stopped where the host stops it; the gofer is
# not asked for each new directory.
D=$W/deep
mkdir -p "$D"/{a,b,c,d,e}/sub/more
for x in a b c d e; do echo "$x" >"$D/$x/sub/more/f"; done
echo file >"$D/file"
ln -s a "$D/lnk"
deep_paths="$D/a/sub/more/f $D/b/sub/more/f $D/c/sub/more/f $D/d/sub/more/f $D/e/sub/more/f
  $D/lnk/sub/more/f $D/a/none/more/f $D/file/sub $D/b/sub/more/none"
deep_asks() { # the gofer's walks for a stat of $D, then of the paths given
  "$USBOX" exec -v -- sh -c "stat -c %i '$D' >/dev/null; stat -c '%i %s %F' $* 2>&1" \
    2>"$TMPROOT/deep.err" >"$TMPROOT/deep.out"
  sed -n 's/.* \([0-9]*\) asked the gofer.*/\1/p' "$TMPROOT/deep.err"
}
one=$(deep_asks "$D/a/sub/more/f")
# shellcheck disable=SC2086 # the list is split on purpose
all=$(deep_asks $deep_paths)
expect_eq "walks below a cached directory answer what the host has" \
  "$(cd / && stat -c '%i %s %F' $deep_paths 2>&1 | sed 's/^stat: //')" \
  "$(sed 's/^stat: //' "$TMPROOT/deep.out")"
if [ -n "$one" ] && [ -n "$all" ] && [ $((all - one)) -lt 4 ]; then
  pass "and the gofer is not asked for each new directory (asked $one, then $all times)"
else
  fail "the gofer was asked for new directories below a cached one (${one:-?}, then ${all:-?})"
  show stderr "$TMPROOT/deep.err"
fi

# The agent's side of a check in lockstep with the host: state() twice
# (walked, then answered from the cache), then the host changes something
# and says what it has; state() must say the same. $1 defines state() (d:
# the directory the FIFOs are in).
lockstep_agent() {
  printf 'import os, sys\nd, n = sys.argv[1], int(sys.argv[2])\n%s\n' "$1"
  cat <<'PY'
to_host = open(d + "/to_host", "w", buffering=1)
to_agent = open(d + "/to_agent")
bad = 0
for i in range(n):
    state(); state()
    to_host.write("go\n")
    want = to_agent.readline().rstrip("\n")
    got = state()
    if got != want:
        bad += 1
        print("round %d: saw %s, the host has %s" % (i, got, want))
print("mismatches", bad)
PY
}

# ---- a link on the path (merged /usr: /bin, /lib): answered from the cache ----
# A walk that meets a link the cache holds stops there without a lookup
# (vfs/dcache.c link_on_path_locked); the link replaced on the host (its
# directory's ctime moves) is seen at once, in lockstep with the agent.
L=$W/links
mkdir -p "$L/a" "$L/b"
echo in-a >"$L/a/f"
echo in-b-longer >"$L/b/f"
ln -s a "$L/lnk"
link_local() { # the sentry's own lookups for N stats and opens through the link
  "$USBOX" exec -v -- sh -c "i=0; while [ \$i -lt $1 ]; do [ -e $L/lnk/f ] && : <$L/lnk/f;
    i=\$((i + 1)); done" 2>"$TMPROOT/link.err" >/dev/null
  sed -n 's/.*answered, \([0-9]*\) more by a lookup of the sentry.s own.*/\1/p' "$TMPROOT/link.err"
}
l2=$(link_local 2) l12=$(link_local 12)
if [ -n "$l2" ] && [ -n "$l12" ] && [ "$l12" -eq "$l2" ]; then
  pass "walks through a link the cache holds need no lookup of the sentry's own ($l2, then $l12)"
else
  fail "each walk through the link was looked up again (${l2:-?}, then ${l12:-?})"
  show stderr "$TMPROOT/link.err"
fi
mkfifo "$L/to_host" "$L/to_agent"
lockstep_agent 'def state():
    st = os.stat(d + "/lnk/f")
    return "%d %d %s" % (st.st_ino, st.st_size, os.readlink(d + "/lnk"))' >"$L/agent.py"
cat >"$L/host.py" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
to_host = open(d + "/to_host")
to_agent = open(d + "/to_agent", "w", buffering=1)
for i in range(n):
    if to_host.readline() == "":
        break
    os.symlink("b" if i % 2 == 0 else "a", d + "/lnk.new")
    os.rename(d + "/lnk.new", d + "/lnk")
    st = os.stat(d + "/lnk/f")
    to_agent.write("%d %d %s\n" % (st.st_ino, st.st_size, os.readlink(d + "/lnk")))
PY
python3 "$L/host.py" "$L" 100 &
lhost=$!
track_bg "$lhost"
"$USBOX" exec -- python3 "$L/agent.py" "$L" 100 >"$TMPROOT/link.out" 2>&1
kill "$lhost" 2>/dev/null
wait "$lhost"
grep -q '^mismatches 0$' "$TMPROOT/link.out" &&
  pass "100 links replaced on the host between two stats through them: each seen at once" ||
  { fail "a stat through a replaced link answered the old target"; show agent "$TMPROOT/link.out"; }

# ---- the memory devices: opened by the sentry from the cache ----
# /dev/null and the like are single bound files; opening one never blocks,
# so after the first the sentry opens them itself (vfs/ops.c mem_device).
dev_asks() {
  "$USBOX" exec -v -- sh -c "i=0; while [ \$i -lt $1 ]; do echo x >/dev/null;
    : </dev/zero; i=\$((i + 1)); done; head -c 4 /dev/zero | od -An -tx1" \
    2>"$TMPROOT/dev.err" >"$TMPROOT/dev.out"
  sed -n 's/^usbox: gofer: \([0-9]*\) requests$/\1/p' "$TMPROOT/dev.err"
}
d2=$(dev_asks 2) d12=$(dev_asks 12)
expect_eq "/dev/zero still reads zeros" "00 00 00 00" "$(xargs <"$TMPROOT/dev.out")"
if [ -n "$d2" ] && [ -n "$d12" ] && [ $((d12 - d2)) -lt 5 ]; then
  pass "opening /dev/null and /dev/zero again does not ask the gofer ($d2, then $d12 requests)"
else
  fail "each open of /dev/null or /dev/zero asked the gofer (${d2:-?}, then ${d12:-?} requests)"
  show stderr "$TMPROOT/dev.err"
fi

# ---- a create next door: the answer holds, by the event's name ----
# (vfs/dcache.c step_unchanged: the directory's watch names the entry each
# change was made to; an answer depends on the one name its walk looked up
# there, so a file made beside it needs neither a ctime read nor a lookup.
# The same entry changed on the host is the lockstep checks' below.)
"$USBOX" exec -v --rw "$W" -- python3 -c "
import os, sys
f = sys.argv[1] + '/sub/f'
seen = [os.stat(f).st_ino for i in range(2)]
open(sys.argv[1] + '/sub/next-door', 'w').close()
seen.append(os.stat(f).st_ino)
print(*seen)" "$W" >"$TMPROOT/relook.out" 2>"$TMPROOT/relook.err"
named=$(sed -n 's/.*, \([0-9]*\) without (events for other names only).*/\1/p' "$TMPROOT/relook.err")
[ "${named:-0}" -ge 1 ] && pass "after a create next door the answer holds by the event's name ($named checks)" ||
  { fail "no check was answered by the events' names (${named:-nothing})"; show stderr "$TMPROOT/relook.err"; }
ino=$(stat -c %i "$W/sub/f")
expect_eq "and answers what the host has" "$ino $ino $ino" "$(cat "$TMPROOT/relook.out")"
rm -f "$W/sub/next-door"

# ---- inotify: a directory with no event since its check is not checked again ----
"$USBOX" exec -v -- sh -c "i=0; while [ \$i -lt 20 ]; do stat -c %i $W/sub/f >/dev/null; i=\$((i + 1)); done" \
  >/dev/null 2>"$TMPROOT/quiet.err"
quiet=$(sed -n 's/.*ctimes read, \([0-9]*\) without.*/\1/p' "$TMPROOT/quiet.err")
read_ct=$(sed -n 's/.*directory checks: \([0-9]*\) ctimes read.*/\1/p' "$TMPROOT/quiet.err")
if [ -n "$quiet" ] && [ -n "$read_ct" ] && [ "$quiet" -gt "$read_ct" ]; then
  pass "20 stats of one path: $quiet directory checks without a ctime read, $read_ct with"
else
  fail "directory checks kept reading ctimes (${read_ct:-?} read, ${quiet:-?} without)"
  show stderr "$TMPROOT/quiet.err"
fi

# ---- the host changes things between two stats ----
mkfifo "$W/to_host" "$W/to_agent"
lockstep_agent 'f = d + "/sub/f"
def state():
    try:
        st = os.stat(f)
        with open(f) as x:      # an open the cache serves too
            text = x.read().replace("\n", "|")
        return "%d %d %o %s" % (st.st_ino, st.st_size, st.st_mode & 0o7777, text)
    except FileNotFoundError:
        return "gone"' >"$W/agent.py"
cat >"$W/host.py" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
f = d + "/sub/f"
to_host = open(d + "/to_host")
to_agent = open(d + "/to_agent", "w", buffering=1)
def swap_dir():                 # the directory on the path, replaced
    os.makedirs(d + "/new", exist_ok=True)
    with open(d + "/new/f", "w") as x:
        x.write("from the new directory " * (1 + os.getpid() % 3))
    os.rename(d + "/sub", d + "/old")
    os.rename(d + "/new", d + "/sub")
    for e in os.listdir(d + "/old"):
        os.unlink(d + "/old/" + e)
    os.rmdir(d + "/old")
changes = [
    lambda i: (open(f + ".tmp", "w").write("replaced %d\n" % i), os.rename(f + ".tmp", f)),
    lambda i: open(f, "a").write("grown\n"),
    lambda i: os.chmod(f, 0o600 if i % 2 else 0o644),
    lambda i: os.unlink(f),
    lambda i: open(f, "w").write("back %d\n" % i),
    lambda i: swap_dir(),
]
for i in range(n):
    if to_host.readline() == "":
        break
    if i % len(changes) == 4 or os.path.exists(f) or i % len(changes) == 5:
        changes[i % len(changes)](i)
    try:
        st = os.stat(f)
        text = open(f).read().replace("\n", "|")
        to_agent.write("%d %d %o %s\n" % (st.st_ino, st.st_size, st.st_mode & 0o7777, text))
    except FileNotFoundError:
        to_agent.write("gone\n")
PY
ROUNDS=300
python3 "$W/host.py" "$W" "$ROUNDS" &
host=$!
track_bg "$host"
"$USBOX" exec -- python3 "$W/agent.py" "$W" "$ROUNDS" >"$TMPROOT/agent.out" 2>&1
kill "$host" 2>/dev/null # still waiting on a FIFO only if the agent failed early
wait "$host"
grep -q '^mismatches 0$' "$TMPROOT/agent.out" &&
  pass "$ROUNDS host changes (replace, grow, chmod, delete, re-create, directory swap) seen at once by stat and open" ||
  { fail "a stat answered what the host no longer had"; show agent "$TMPROOT/agent.out"; }

# ---- the agent grows a file through its own fd ----
expect_exit 0 "writes through the agent's own fd show in the next stat, 2000 times" -- \
  "$USBOX" exec -- python3 -c "
import os
p = '$W/grow'
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for i in range(1, 2001):
    os.write(fd, b'x')
    assert os.stat(p).st_size == i, (i, os.stat(p).st_size)
    assert os.lstat(p).st_size == i
"

# ---- a file the agent removes gives its space back at once ----
# (the cache holds an fd of what it answered for: removing it must let go)
dd if=/dev/zero of="$W/big" bs=1M count=256 status=none && sync
before=$(df --output=avail -k "$W" | tail -1)
after=$("$USBOX" exec -- sh -c "stat $W/big >/dev/null && stat $W/big >/dev/null && rm $W/big && sync &&
  df --output=avail -k $W | tail -1")
freed=$(( (${after:-0} - before) / 1024 ))
[ "$freed" -ge 200 ] && pass "removing a file the sandbox stat'ed frees its 256 MiB at once (${freed} MiB)" ||
  fail "removing a stat'ed file freed ${freed} MiB of 256 inside the sandbox"

# ---- permissions taken away from an unprivileged agent ----
chmod 711 "$TMPROOT"
U=$(usbox_for_nobody)
P=$TMPROOT/perm
mkdir -p "$P/closed" && echo x >"$P/closed/f" && chmod 755 "$P" "$P/closed" && chmod 644 "$P/closed/f"
echo y >"$P/pf" && chmod 644 "$P/pf"
mkfifo -m 666 "$P/to_host" "$P/to_agent"
chmod 777 "$P"
cat >"$P/agent.py" <<'PY'
import os, sys
d = sys.argv[1]
to_host = open(d + "/to_host", "w", buffering=1)
to_agent = open(d + "/to_agent")
def now():
    try:
        os.stat(d + "/closed/f"); a = "ok"
    except PermissionError:
        a = "denied"
    try:
        open(d + "/pf").close(); b = "ok"
    except PermissionError:
        b = "denied"
    # access(2) (real ids) and faccessat2(AT_EACCESS): walks the cache
    # answers, the check made on its fd as the caller
    c = "ok" if os.access(d + "/pf", os.R_OK) else "denied"
    e = "ok" if os.access(d + "/pf", os.R_OK, effective_ids=True) else "denied"
    return ",".join((a, b, c, e))
seen = []
for i in range(40):
    now(); now()
    to_host.write("go\n")
    want = to_agent.readline().strip()
    got = now()
    seen.append(got == ",".join([want] * 4))
    if got != ",".join([want] * 4):
        print("round", i, "saw", got, "the host has", want)
print("agreed", sum(seen), "of", len(seen))
PY
# perm_rounds: the host's side, 40 rounds of taking the permissions away
# and giving them back, in lockstep with the agent.
perm_rounds() {
  exec <"$P/to_host" 3>"$P/to_agent"
  for i in $(seq 40); do
    read -r _ || break
    if [ $((i % 2)) = 1 ]; then
      chmod 700 "$P/closed"; chmod 600 "$P/pf"; echo denied >&3
    else
      chmod 755 "$P/closed"; chmod 644 "$P/pf"; echo ok >&3
    fi
  done
}
perm_rounds &
changer=$!
track_bg "$changer"
runuser -u nobody -- "$U" exec -- python3 "$P/agent.py" "$P" >"$TMPROOT/perm.out" 2>&1
kill "$changer" 2>/dev/null # still waiting on a FIFO only if the agent failed early
wait "$changer"
grep -q '^agreed 40 of 40$' "$TMPROOT/perm.out" &&
  pass "0700 on a directory and 0600 on a file, made by the host, deny the next stat, open and access checks of an unprivileged agent; 0755/0644 allow them again" ||
  { fail "a stat kept a permission the agent no longer had"; show agent "$TMPROOT/perm.out"; }

# The same with usbox as root and the agent root without capabilities, the
# files nobody's: a directory's mode changed sets its ctime, and the step
# the cache then looks up again in it must be the agent's (a lookup with
# usbox's own rights would still succeed and keep serving the answer).
chown nobody "$P/closed" "$P/closed/f" "$P/pf"
perm_rounds &
changer=$!
track_bg "$changer"
"$USBOX" exec --cap-drop ALL -- python3 "$P/agent.py" "$P" >"$TMPROOT/perm-root.out" 2>&1
kill "$changer" 2>/dev/null
wait "$changer"
grep -q '^agreed 40 of 40$' "$TMPROOT/perm-root.out" &&
  pass "the same for a root agent without capabilities on another uid's files" ||
  { fail "a stat kept a permission a root agent without capabilities no longer had"; show agent "$TMPROOT/perm-root.out"; }

# ---- renames and links in cached directories: the sentry's own ----
# Both directories are walked first (so the cache holds them); then links
# and renames, good and failing, as the kernel answers them natively on a
# copy of the same tree; then the host is checked.
RL=$TMPROOT/rltree
rl_script='
import os, sys
d = sys.argv[1]
os.stat(d + "/d1/a"); os.stat(d + "/d2/x")        # both directories cached
out = []
def step(what, f):
    try:
        f(); out.append(what + " ok")
    except OSError as e:
        out.append("%s errno %d" % (what, e.errno))
step("link", lambda: os.link(d + "/d1/a", d + "/d1/b"))
step("link over an existing name", lambda: os.link(d + "/d1/a", d + "/d2/x"))
step("rename across directories", lambda: os.rename(d + "/d1/b", d + "/d2/c"))
step("rename of a missing name", lambda: os.rename(d + "/d1/none", d + "/d2/none"))
step("rename over a file", lambda: os.rename(d + "/d2/c", d + "/d2/x"))
step("rename of a directory", lambda: os.rename(d + "/d2", d + "/d3"))
step("rename into a file", lambda: os.rename(d + "/d1/a", d + "/d3/x/y"))
out.append("d1 %s d3 %s links %d" % (sorted(os.listdir(d + "/d1")), sorted(os.listdir(d + "/d3")),
                                    os.stat(d + "/d1/a").st_nlink))
out.append("d3/x is d1/a: %s" % (os.stat(d + "/d3/x").st_ino == os.stat(d + "/d1/a").st_ino))
print("\n".join(out))
'
for t in native sandbox; do
  rm -rf "$RL.$t"
  mkdir -p "$RL.$t/d1" "$RL.$t/d2"
  echo data >"$RL.$t/d1/a"
  echo other >"$RL.$t/d2/x"
done
python3 -c "$rl_script" "$RL.native" >"$TMPROOT/rl-native.out" 2>&1
"$USBOX" exec -v -- python3 -c "$rl_script" "$RL.sandbox" >"$TMPROOT/rl-sandbox.out" 2>"$TMPROOT/rl-sandbox.err"
grep -q '^d3/x is d1/a: True$' "$TMPROOT/rl-native.out" ||
  fail "sanity: natively the script does not end as it should: $(cat "$TMPROOT/rl-native.out")"
expect_eq "links and renames in cached directories answer as the kernel does" \
  "$(cat "$TMPROOT/rl-native.out")" "$(cat "$TMPROOT/rl-sandbox.out")"
expect_eq "and leave the host as the kernel does" \
  "$(cd "$RL.native" && find . | sort)" "$(cd "$RL.sandbox" && find . | sort)"
grep -q 'd3/x is d1/a: True' "$TMPROOT/rl-sandbox.out" &&
  pass "the renamed link is the same file on the host" ||
  { fail "the renamed link is not d1/a's inode on the host"; show sandbox "$TMPROOT/rl-sandbox.out"; show stderr "$TMPROOT/rl-sandbox.err"; }
rm -rf "$RL.native" "$RL.sandbox"

# ---- access and readlink of objects the cache holds: the sentry's own ----
# (vfs/ops.c cached_object_op: on the cache's fd of the object the VFS
# resolved, with the gofer's own act, as the caller) Every mode, real and
# effective ids, links followed or not, compared with the kernel under the
# same credentials: root, root without capabilities, an unprivileged uid;
# and none of it asks the gofer.
A=$TMPROOT/acc
mkdir -p "$A/dir755" "$A/dir700" && chmod 755 "$A" "$A/dir755" && chmod 700 "$A/dir700"
for m in 644 600 755 000; do echo x >"$A/f$m" && chmod $m "$A/f$m"; done
echo y >"$A/dir700/inner" && chmod 644 "$A/dir700/inner"
ln -sfn f644 "$A/link_f644" && ln -sfn nowhere "$A/link_dangling" && ln -sfn dir755 "$A/link_dir"
cat >"$TMPROOT/acc.py" <<'PY'
import os, sys
d = sys.argv[1]
names = ["f644", "f600", "f755", "f000", "dir755", "dir700", "dir700/inner", "link_f644",
         "link_dangling", "link_dir", "link_dir/", "none"]
modes = ((os.F_OK, "F"), (os.R_OK, "R"), (os.W_OK, "W"), (os.X_OK, "X"),
         (os.R_OK | os.W_OK | os.X_OK, "RWX"))
for rnd in range(2):  # the second round: the cache's answers
    for n in names:
        p = os.path.join(d, n)
        row = [n]
        for mode, mname in modes:
            for eff in (False, True):
                for follow in (True, False):
                    r = os.access(p, mode, effective_ids=eff, follow_symlinks=follow)
                    row.append("%s%d%d=%d" % (mname, eff, follow, r))
        try:
            row.append("link=" + os.readlink(p))
        except OSError as e:
            row.append("link=errno%d" % e.errno)
        print(" ".join(row))
PY
chmod 644 "$TMPROOT/acc.py"
DROP=(--inh-caps=-all --ambient-caps=-all --bounding-set=-all)
# what: a label; name: a script in $TMPROOT/NAME.py, run on $A natively and
# under usbox (with the options after name) as root, as root without
# capabilities (setpriv) and as nobody, the outputs compared; the root run
# under usbox asks the gofer nothing. Each native output stays in
# $TMPROOT/NAME.CREDS.native.
under_three_creds() {
  local what=$1 name=$2 py=$TMPROOT/$2.py
  shift 2
  /usr/bin/python3 "$py" "$A" >"$TMPROOT/$name.root.native" 2>&1
  "$USBOX" exec -v "$@" -- /usr/bin/python3 "$py" "$A" >"$TMPROOT/$name.usbox" 2>"$TMPROOT/$name.err"
  expect_eq "$what as root: as the kernel answers" \
    "$(cat "$TMPROOT/$name.root.native")" "$(cat "$TMPROOT/$name.usbox")"
  expect_eq "and the gofer is asked nothing" "0" \
    "$(sed -n 's/^usbox: gofer: \([0-9]*\) requests$/\1/p' "$TMPROOT/$name.err")"
  setpriv --clear-groups "${DROP[@]}" /usr/bin/python3 "$py" "$A" >"$TMPROOT/$name.nocaps.native" 2>&1
  setpriv --clear-groups "$USBOX" exec --cap-drop ALL "$@" -- /usr/bin/python3 "$py" "$A" \
    >"$TMPROOT/$name.usbox" 2>&1
  expect_eq "$what as root without capabilities: as the kernel answers" \
    "$(cat "$TMPROOT/$name.nocaps.native")" "$(cat "$TMPROOT/$name.usbox")"
  runuser -u nobody -- /usr/bin/python3 "$py" "$A" >"$TMPROOT/$name.nobody.native" 2>&1
  runuser -u nobody -- "$U" exec "$@" -- /usr/bin/python3 "$py" "$A" >"$TMPROOT/$name.usbox" 2>&1
  expect_eq "$what as an unprivileged uid: as the kernel answers" \
    "$(cat "$TMPROOT/$name.nobody.native")" "$(cat "$TMPROOT/$name.usbox")"
}
under_three_creds "access and readlink" acc
# statfs too (the type and sizes: the free counts move)
expect_eq "statfs of cached objects: as the kernel answers" \
  "$(stat -f -c '%T %s %S %b %f' "$A" "$A/f644" "$A/dir755" /usr /dev/null 2>&1 | awk '{print $1, $2, $3, $4}')" \
  "$("$USBOX" exec -v -- stat -f -c '%T %s %S %b %f' "$A" "$A/f644" "$A/dir755" /usr /dev/null 2>"$TMPROOT/sfs.err" | awk '{print $1, $2, $3, $4}')"
expect_eq "and asks the gofer nothing" "0" \
  "$(sed -n 's/^usbox: gofer: \([0-9]*\) requests$/\1/p' "$TMPROOT/sfs.err")"
grep -q '^f600 F01=1 .* R01=0 ' "$TMPROOT/acc.nobody.native" ||
  fail "sanity: natively nobody may read f600: $(grep '^f600' "$TMPROOT/acc.nobody.native" | head -1)"

# extended attributes read from cached objects: getxattr, lgetxattr,
# listxattr and llistxattr on the cache's fd, as the caller (a file
# nobody may read: EACCES for nobody; search permission on the way: dir700;
# a value larger than a first guess: the size query, then the read). `ls -l`
# asks for ACLs, so without this nearly every `ls -l` started the gofer.
setfattr_py='import os, sys
for p, n, v in ((sys.argv[1] + "/f644", "user.a", b"1"), (sys.argv[1] + "/f000", "user.b", b"2"),
                (sys.argv[1] + "/dir700/inner", "user.c", b"x" * 3000),
                (sys.argv[1] + "/dir755", "user.d", b"")):
    os.setxattr(p, n, v)'
/usr/bin/python3 -c "$setfattr_py" "$A"
cat >"$TMPROOT/xattr.py" <<'PY'
import os, sys
d = sys.argv[1]
for rnd in range(2):  # the second round: the cache's answers
    for n in ("f644", "f000", "dir755", "dir700/inner", "link_f644", "link_dangling", "none"):
        p = os.path.join(d, n)
        row = [n]
        for follow in (True, False):
            try:
                row.append("list=" + ",".join(sorted(os.listxattr(p, follow_symlinks=follow))))
            except OSError as e:
                row.append("list=errno%d" % e.errno)
            for name in ("user.a", "user.b", "user.c", "user.d", "user.none"):
                try:
                    v = os.getxattr(p, name, follow_symlinks=follow)
                    row.append("%s=%d:%s" % (name, len(v), v[:8].decode()))
                except OSError as e:
                    row.append("%s=errno%d" % (name, e.errno))
        print(" ".join(row))
PY
chmod 644 "$TMPROOT/xattr.py"
under_three_creds "xattrs of cached objects" xattr
grep -q '^dir700/inner list=user.c user.a=errno61 user.b=errno61 user.c=3000:xxxxxxxx ' "$TMPROOT/xattr.root.native" ||
  fail "sanity: natively dir700/inner's xattr does not read as set: $(grep '^dir700' "$TMPROOT/xattr.root.native" | head -1)"
grep -q '^f000 list=user.b user.a=errno13 user.b=errno13 ' "$TMPROOT/xattr.nobody.native" ||
  fail "sanity: natively nobody may read f000's xattrs (but list them): $(grep '^f000' "$TMPROOT/xattr.nobody.native" | head -1)"

# and written: setxattr (create, replace) and removexattr, each undone
# before the script ends so every run starts from the same tree (a file
# the caller may not write: EACCES; a symlink: EPERM for user.*)
cat >"$TMPROOT/xattrw.py" <<'PY'
import os, sys
d = sys.argv[1]
def t(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return "errno%d" % e.errno
for rnd in range(2):
    for n in ("f644", "f000", "dir755", "dir700/inner", "link_f644", "none"):
        p = os.path.join(d, n)
        row = [n]
        for follow in (True, False):
            row.append(t(lambda: os.setxattr(p, "user.w", b"v1", os.XATTR_CREATE, follow_symlinks=follow)))
            row.append(t(lambda: os.setxattr(p, "user.w", b"v2", os.XATTR_CREATE, follow_symlinks=follow)))
            row.append(t(lambda: os.setxattr(p, "user.w", b"v3", os.XATTR_REPLACE, follow_symlinks=follow)))
            row.append(t(lambda: os.setxattr(p, "user.x", b"v", os.XATTR_REPLACE, follow_symlinks=follow)))
            try:
                row.append("w=" + os.getxattr(p, "user.w", follow_symlinks=follow).decode())
            except OSError as e:
                row.append("w=errno%d" % e.errno)
            row.append(t(lambda: os.removexattr(p, "user.w", follow_symlinks=follow)))
            row.append(t(lambda: os.removexattr(p, "user.w", follow_symlinks=follow)))
        print(" ".join(row))
PY
chmod 644 "$TMPROOT/xattrw.py"
under_three_creds "xattrs set and removed on cached objects" xattrw --rw "$A"
grep -q '^f644 ok errno17 ok errno61 w=v3 ok errno61 ' "$TMPROOT/xattrw.root.native" ||
  fail "sanity: natively root does not set, replace and remove user.w: $(grep '^f644' "$TMPROOT/xattrw.root.native" | head -1)"
grep -q '^f644 errno13 ' "$TMPROOT/xattrw.nobody.native" ||
  fail "sanity: natively nobody may set user.w on f644: $(grep '^f644' "$TMPROOT/xattrw.nobody.native" | head -1)"
expect_eq "and leave the host's xattrs as they were" "user.a" \
  "$(/usr/bin/python3 -c 'import os, sys; print(",".join(sorted(os.listxattr(sys.argv[1]))))' "$A/f644")"

# truncate(2) by path of a cached object: the sentry's too, RLIMIT_FSIZE
# the agent's (tests/integration/test_creds.sh compares every credential
# set with the kernel; here: the same answers, and no gofer)
TR=$TMPROOT/trunc
mkdir -p "$TR" && chmod 755 "$TR"
trunc_py='import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
f = sys.argv[1] + "/f"
os.truncate(f, 100)
print(os.stat(f).st_size)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
for size in (8192, 50):
    try:
        os.truncate(f, size)
        print(size, "ok", os.stat(f).st_size)
    except OSError as e:
        print(size, "errno", e.errno, os.stat(f).st_size)'
echo hello >"$TR/f"
/usr/bin/python3 -c "$trunc_py" "$TR" >"$TMPROOT/trunc.native" 2>&1
echo hello >"$TR/f"
"$USBOX" exec -v --rw "$TR" -- /usr/bin/python3 -c "$trunc_py" "$TR" >"$TMPROOT/trunc.usbox" 2>"$TMPROOT/trunc.err"
grep -q '^8192 errno 27 100$' "$TMPROOT/trunc.native" ||
  fail "sanity: natively truncate past RLIMIT_FSIZE is not EFBIG: $(cat "$TMPROOT/trunc.native")"
expect_eq "truncate(2) by path of a cached object: as the kernel answers, RLIMIT_FSIZE included" \
  "$(cat "$TMPROOT/trunc.native")" "$(cat "$TMPROOT/trunc.usbox")"
expect_eq "and asks the gofer nothing" "0" \
  "$(sed -n 's/^usbox: gofer: \([0-9]*\) requests$/\1/p' "$TMPROOT/trunc.err")"
rm -rf "$TR"

# ---- one host directory bound twice, read-only and writable ----
# The cache keeps one fd per directory and mount: an fd carries its mount's
# flags, so the read-only bind's fd must not serve a create through the
# writable one (EROFS where the kernel would create), nor the writable one's
# a create through the read-only bind (the view refuses that first anyway).
TB=$TMPROOT/twice
mkdir -p "$TB" && echo x >"$TB/x"
expect_exit 0 "a --ro and a --rw bind of one directory: each keeps its own flags, whichever the cache saw first" -- \
  "$USBOX" exec --ro "$TB:/ro" --rw "$TB:/rw" -- sh -c '
stat /ro/x >/dev/null && ls /ro >/dev/null && touch /rw/made-after-ro || exit 1
stat /rw/x >/dev/null && ls /rw >/dev/null
if touch /ro/made-through-ro 2>/dev/null; then exit 2; fi
touch /rw/made-after-rw || exit 3'
expect_eq "and the host has what the writable bind made, nothing else" \
  "made-after-ro made-after-rw x" "$(cd "$TB" && echo *)"
rm -rf "$TB"

finish
