#!/usr/bin/env bash
# CPython's own tests (issue 15), run natively and inside usbox under the
# same credentials, compared test by test: root keeping what usbox's root
# agent keeps by default (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
# NET_BIND_SERVICE: setpriv natively; the tests work in a writable place,
# where those count inside too) and an unprivileged uid (usbox runs
# rootless then). A test whose result differs
# fails this, unless cpython-known.txt lists it with the reason. Not part
# of the integration label: scripts/test runs it on its own, in the plain
# build (it takes minutes, and timing tests must not share the machine).
. "$(dirname "$0")/../integration/lib.sh"

CONF=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
testdir=$($PY -c 'import os, test; print(os.path.dirname(test.__file__))')
[ -e "$testdir/test_os.py" ] ||
  { fail "CPython's tests are needed (scripts/install-deps: libpython3.11-testsuite)"; finish; }
MODULES=(test_os test_shutil test_tarfile test_pathlib test_tempfile test_subprocess test_socket
         test_posix test_glob test_fileio test_stat test_zipfile test_fcntl test_pty test_mmap
         test_selectors test_posixpath test_genericpath)
# VSOCK tests wait for a host that a Firecracker VM's vsock never answers
ARGS=(-m test -v -i '*VSOCK*' "${MODULES[@]}")
NOBODY=65534
ROOT_CAPS=+chown,+dac_override,+fowner,+fsetid,+kill,+net_bind_service

# suite LABEL WHO WHERE [MODULE METHOD]: run the modules, or one test
# (WHO: root|user; WHERE: native|usbox)
suite() {
  local label=$1 who=$2 where=$3 dir=$TMPROOT/$1
  local -a args=("${ARGS[@]}")
  [ $# -ge 5 ] && args=(-m test -v "$4" -m "$5")
  mkdir -p "$dir"
  [ "$who" = user ] && chown "$NOBODY:$NOBODY" "$dir"
  local run=()
  case $who/$where in
    root/native) run=(setpriv "--bounding-set=-all,$ROOT_CAPS" "--inh-caps=-all,$ROOT_CAPS"
                      "--ambient-caps=-all,$ROOT_CAPS" --no-new-privs "$PY") ;;
    root/usbox) run=("$USBOX" exec --rw "$dir" -- "$PY") ;;
    user/native) run=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --no-new-privs "$PY") ;;
    user/usbox) run=(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$NOBODY_USBOX" exec
                     --rw "$dir" -- "$PY") ;;
  esac
  (cd "$dir" && HOME=$dir timeout -k 10 1200 "${run[@]}" "${args[@]}" >"$dir.log" 2>&1)
  echo "$label: $(tail -n 1 "$dir.log")"
  $PY "$CONF/unittest_results.py" "$dir.log" >"$dir.res"
}

# retry WHO: a test that differs is run again alone, natively and inside,
# before it counts (timing and port races make a few of CPython's tests
# flaky on a busy machine); one that agrees the second time is listed as
# such. Echoes how many still differ.
retry() {
  local who=$1 left=0 id method class module
  while read -r id; do
    method=${id%% *}
    class=${id#*(}; class=${class%)}
    module=${class#test.}; module=${module%%.*}
    local r_native r_inside
    for where in native usbox; do
      suite "$who-retry-$where" "$who" "$where" "$module" "$method" >/dev/null
    done
    r_native=$(grep -F -- "$id " "$TMPROOT/$who-retry-native.res" | awk '{print $NF}')
    r_inside=$(grep -F -- "$id " "$TMPROOT/$who-retry-usbox.res" | awk '{print $NF}')
    if [ -n "$r_native" ] && [ "$r_native" = "$r_inside" ]; then
      echo "$who: $id differed once, agreed when run again ($r_native)" >&2
    else
      left=$((left + 1))
    fi
  done < <(sed -n 's/^DIFFERS: \(.*\): native .*$/\1/p' "$TMPROOT/$who.diff")
  echo "$left"
}

# compare WHO: every test's result natively and inside
compare() {
  local who=$1 native=$TMPROOT/$1-native.res inside=$TMPROOT/$1-usbox.res
  local n
  n=$(wc -l <"$native")
  [ "$n" -gt 1500 ] || { fail "$who: the native run reported only $n tests"; return; }
  $PY - "$native" "$inside" "$who" "$CONF/cpython-known.txt" >"$TMPROOT/$who.diff" <<'PYEOF'
import re, sys
native, inside, who, known_file = sys.argv[1:5]
def load(p):
    return dict(l.rstrip("\n").rsplit(" ", 1) for l in open(p) if l.strip())
a, b = load(native), load(inside)
known = []
for line in open(known_file):
    if line.startswith("#") or not line.strip():
        continue
    creds, regex, why = line.rstrip("\n").split("\t")
    if creds in (who, "any"):
        known.append((re.compile(regex), why))
bad = 0
for t in sorted(set(a) | set(b)):
    ra, rb = a.get(t, "missing"), b.get(t, "missing")
    if ra == rb:
        continue
    why = next((w for r, w in known if r.search(t)), None)
    print(("known: " if why else "DIFFERS: ") + f"{t}: native {ra}, usbox {rb}" + (f" ({why})" if why else ""))
    bad += why is None
print(f"total {len(a)} native, {len(b)} inside, {bad} unexplained")
PYEOF
  local unexplained
  unexplained=$(sed -n 's/^total .*, \([0-9]*\) unexplained$/\1/p' "$TMPROOT/$who.diff")
  grep -c '^known:' "$TMPROOT/$who.diff" | xargs -I{} echo "$who: {} known differences"
  if [ "${unexplained:-1}" != 0 ] && [ "${unexplained:-1}" -le 5 ]; then
    unexplained=$(retry "$who")
  fi
  if [ "${unexplained:-1}" = 0 ]; then
    pass "$who: every test of $n has the same result natively and inside usbox"
  else
    fail "$who: results differ: $(grep -c '^DIFFERS' "$TMPROOT/$who.diff") tests"
    grep '^DIFFERS' "$TMPROOT/$who.diff" | head -n 40 >&2
  fi
}

chmod 711 "$TMPROOT"
NOBODY_USBOX=$(usbox_for_nobody)
suite root-native root native
suite root-usbox root usbox
compare root
suite user-native user native
suite user-usbox user usbox
compare user
finish
