#!/usr/bin/env bash
# The default home (docs/overlay.md "The agent's home"): package managers
# write where they expect without flags (npm's cache, pip --user's
# site-packages), the program then finds what they installed, and the
# host's home is unchanged afterwards. Also: mount points the host lacks
# are made in the view, never on the host.
. "$(dirname "$0")/lib.sh"

# outside the scratch root (the shim binds it writable) and /tmp (private)
W=$(mktemp -d /var/tmp/usbox-home.XXXXXX)
trap 'rc=$?; rm -rf "$W"; (exit $rc); _on_exit' EXIT
HOMEDIR=$(getent passwd "$(id -u)" | cut -d: -f6)
export HOME=$HOMEDIR

home_manifest() {
  (cd "$HOMEDIR" && find . -xdev -path ./.ssh -prune -o -printf '%p %y %m %s %T@\n' 2>/dev/null |
    LC_ALL=C sort)
}

# ---- npm install of a package from a local tarball ----
mkdir -p "$W/pkg" "$W/app"
cat >"$W/pkg/package.json" <<'JSON'
{"name": "usbox-demo", "version": "1.0.0", "main": "index.js"}
JSON
echo 'module.exports = () => "usbox-demo works";' >"$W/pkg/index.js"
(cd "$W/pkg" && npm pack --silent >/dev/null 2>&1) || fail "npm pack (natively) failed"
echo '{"name": "app", "version": "1.0.0"}' >"$W/app/package.json"
home_manifest >"$W/home.before"
expect_exit 0 "npm install of a local tarball, default home" -- "$USBOX_REAL" exec --rw "$W/app" \
  --chdir "$W/app" -- sh -c "npm install --no-audit --no-fund --offline $W/pkg/usbox-demo-1.0.0.tgz >/dev/null &&
    ls -d \$HOME/.npm/_cacache >/dev/null && node -e 'console.log(require(\"usbox-demo\")())'"
expect_eq "the installed package loads" "usbox-demo works" "$(tail -1 "$OUT")"
[ -d "$W/app/node_modules/usbox-demo" ] && pass "node_modules is in the --rw project" ||
  fail "no node_modules in the project"

# ---- pip install --user of a local wheel ----
mkdir -p "$W/py/usboxdemo"
echo 'def hello(): return "usboxdemo works"' >"$W/py/usboxdemo/__init__.py"
cat >"$W/py/setup.py" <<'PY'
from setuptools import setup
setup(name="usboxdemo", version="1.0", packages=["usboxdemo"])
PY
(cd "$W/py" && /usr/bin/python3 -m pip wheel --no-deps --no-build-isolation -q -w "$W/wheels" . \
  >/dev/null 2>&1) || fail "building the wheel (natively) failed"
wheel=$(ls "$W"/wheels/*.whl 2>/dev/null | head -1)
expect_exit 0 "pip install --user of a local wheel, default home" -- "$USBOX_REAL" exec -- sh -c \
  "/usr/bin/python3 -m pip install --user --no-index --break-system-packages -q $wheel 2>&1 &&
   /usr/bin/python3 -c 'import usboxdemo, sys; print(usboxdemo.hello())'"
expect_eq "the user-installed module imports" "usboxdemo works" "$(tail -1 "$OUT")"
home_manifest >"$W/home.after"
if cmp -s "$W/home.before" "$W/home.after"; then
  pass "the host's home is unchanged"
else
  fail "the host's home changed"
  diff "$W/home.before" "$W/home.after" | head
fi
expect_exit 0 "the next run starts from the host's home" -- "$USBOX_REAL" exec -- \
  /usr/bin/python3 -c 'import importlib.util as u; print(u.find_spec("usboxdemo") is None)'
expect_eq "the module is gone" "True" "$(cat "$OUT")"
expect_exit 1 "--home ro: the home is read-only" -- "$USBOX_REAL" exec --home ro -- \
  sh -c 'touch "$HOME/usbox-home-test" 2>/dev/null'

# ---- an XDG base directory outside the home ----
# (XDG_CACHE_HOME=/var/cache/x and the like): copy-on-write as the home is;
# without the variable the same place is read-only, as the root is
mkdir -p "$W/xdg-cache" && echo host >"$W/xdg-cache/f"
expect_exit 0 "XDG_CACHE_HOME outside the home is writable" -- env XDG_CACHE_HOME="$W/xdg-cache" \
  "$USBOX_REAL" exec -- sh -c 'echo agent >"$XDG_CACHE_HOME/f" && mkdir -p "$XDG_CACHE_HOME/pip" && cat "$XDG_CACHE_HOME/f"'
expect_eq "the agent sees its write" agent "$(cat "$OUT")"
[ "$(cat "$W/xdg-cache/f")" = host ] && [ ! -e "$W/xdg-cache/pip" ] &&
  pass "XDG: the host's directory is unchanged" || fail "XDG: the host's cache was written"
expect_exit 2 "without XDG_CACHE_HOME it is read-only" -- env -u XDG_CACHE_HOME \
  "$USBOX_REAL" exec -- sh -c "echo agent >'$W/xdg-cache/f'"

# ---- mount points the host lacks ----
mkdir -p "$W/proj" && echo p >"$W/proj/file"
mp=/usbox-mp-$$
expect_exit 0 "--rw and --tmpfs at paths the host lacks" -- "$USBOX_REAL" exec \
  --rw "$W/proj:$mp/work" --tmpfs "$mp/scratch" -- sh -c \
  "cat $mp/work/file && echo w >$mp/work/new && touch $mp/scratch/x && ls $mp | tr '\n' ' '; touch /usbox-mp-top 2>&1 | grep -c 'Read-only'"
expect_eq "both are there, the root still read-only" "$(printf 'p\nscratch work 1')" "$(cat "$OUT")"
[ ! -e "$mp" ] && [ ! -e /usbox-mp-top ] && pass "nothing made on the host's /" || fail "the host's / was written"
[ "$(cat "$W/proj/new")" = w ] && pass "the --rw bind is the host's" || fail "--rw write lost"

# ---- the walk cache answers in the home overlay ----
# (both layers keep multigrain ctimes: ext4 or the like under a tmpfs upper;
# the sandbox tells the sentry so, vfs/overlay_mount.c) The same absent name
# stat'ed 2 and 12 times (the shell's own test: no program started): with
# the cache, the gofer is not asked 10 times more.
gofer_asks() {
  "$USBOX_REAL" exec -v -- sh -c "i=0; while [ \$i -lt $1 ]; do
    [ -e '$HOMEDIR/.usbox-no-such-$$' ]; i=\$((i + 1)); done; true" 2>&1 |
    sed -n 's/.* \([0-9]*\) asked the gofer.*/\1/p'
}
fs=$(stat -f -c %T "$HOMEDIR")
case $fs in
ext2/ext3 | xfs | btrfs | tmpfs)
  a2=$(gofer_asks 2) a12=$(gofer_asks 12)
  if [ -n "$a2" ] && [ -n "$a12" ] && [ $((a12 - a2)) -lt 5 ]; then
    pass "stats in the home overlay are answered by the walk cache (gofer asked $a2 and $a12 times)"
  else
    fail "the walk cache does not answer in the home overlay (gofer asked ${a2:-?} and ${a12:-?} times)"
  fi ;;
*) pass "the home is on $fs, which keeps no multigrain ctimes: nothing cached there" ;;
esac
finish
