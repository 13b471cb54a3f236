#!/bin/bash
# Relative names after the working directory moves or is renamed: usbox
# keeps the name of each thread's working directory (vfs/walk.c
# cwd_view_name) instead of asking the kernel at every relative call, and
# must resolve exactly as the kernel would, natively and under the same
# credentials (root, root without capabilities, an unprivileged uid).
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || { echo "test_cwd: setpriv is needed" >&2; exit 1; }

PROBE=$SRCDIR/tests/integration/cwd_probe.py
USER_ID=4242
chmod 711 "$TMPROOT"
W=$TMPROOT/cwd
mkdir -p "$W" && chmod 755 "$W"
cp "$PROBE" "$W/cwd_probe.py" && chmod 644 "$W/cwd_probe.py"
USBOX_NB=$(usbox_for_nobody)
DROP=(--inh-caps=-all --ambient-caps=-all --bounding-set=-all --nnp)

# run SET SIDE: the probe in a fresh $W/SET.SIDE, while this script renames
# the directory the probe sits in (the host's change) when it asks
run() {
  local base=$W/$1.$2 owner=0:0
  local -a cmd
  case $1.$2 in
    root.native) cmd=() ;;
    root.usbox) cmd=("$USBOX" exec --) ;;
    nocaps.native) cmd=(setpriv --clear-groups "${DROP[@]}") ;;
    nocaps.usbox) cmd=(setpriv --clear-groups "$USBOX" exec --cap-drop ALL --) ;;
    user.native) cmd=(setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups "${DROP[@]}"); owner=$USER_ID:$USER_ID ;;
    user.usbox) cmd=(setpriv --reuid=$USER_ID --regid=$USER_ID --clear-groups "$USBOX_NB" exec --); owner=$USER_ID:$USER_ID ;;
  esac
  rm -rf "$base" && mkdir "$base" && chown "$owner" "$base"
  (for _ in $(seq 3000); do [ -e "$base/ready" ] && break; sleep 0.01; done
   mv "$base/a" "$base/a3" && touch "$base/moved") &
  track_bg $!
  timeout -k 5 "$CMD_TIMEOUT" "${cmd[@]}" /usr/bin/python3 "$W/cwd_probe.py" "$base" \
    >"$W/$1.$2.out" 2>"$W/$1.$2.err"
  echo "rc=$?" >>"$W/$1.$2.out"
}

for set in root nocaps user; do
  run "$set" native
  run "$set" usbox
  n=$(grep -c '^ok ' "$W/$set.native.out")
  expect_eq "$set: the probe checks 11 things natively" 11 "$n"
  if diff "$W/$set.native.out" "$W/$set.usbox.out" >"$W/$set.diff"; then
    pass "$set: relative names resolve as natively"
  else
    fail "$set: relative names differ from native: $(tr '\n' ' ' <"$W/$set.diff") $(head -c 300 "$W/$set.usbox.err")"
  fi
done
finish
