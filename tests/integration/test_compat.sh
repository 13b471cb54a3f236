#!/usr/bin/env bash
# Emulation bugs a program can see (issue 15): tests/attacks/compat_probe.c
# holds one table of calls (the names unix sockets keep, socket() errno
# order, ...); the probe runs natively and inside usbox under the same
# credentials, each on a fresh directory at the same path, and the outputs
# must be the same line by line (as test_creds.sh does for the deputy). docs/compat.md lists what each row checks.
#
#   COMPAT_ONLY=rootnocaps,user   run these credential sets only
#   KEEP_TMP=1                    keep the outputs ($TMPROOT/compat/SET.*)
#
# Credential sets:
#   rootnocaps   root without capabilities (--cap-drop ALL)
#   user         uid 4242; usbox itself run as 4242 (a user namespace: the
#                sentry cannot chroot there)
. "$(dirname "$0")/lib.sh"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
[ -x "$ATTACKS/compat_probe" ] || { echo "missing $ATTACKS/compat_probe" >&2; exit 1; }
command -v setpriv >/dev/null || { echo "test_compat: setpriv is needed" >&2; exit 1; }

ALL_SETS=(rootnocaps user)
USER_ID=4242

sets=("${ALL_SETS[@]}")
if [ -n "${COMPAT_ONLY:-}" ]; then
  IFS=, read -r -a sets <<<"$COMPAT_ONLY"
fi

chmod 711 "$TMPROOT"
W=$TMPROOT/compat
mkdir -p "$W" && chmod 755 "$W"
cp "$ATTACKS/compat_probe" "$W/compat_probe" && chmod 755 "$W/compat_probe"
PROBE=$W/compat_probe DIR=$W/d
USBOX_NB=$(usbox_for_nobody)
"$PROBE" list >"$W/table" || { echo "compat_probe list failed" >&2; exit 1; }
NOPS=$(wc -l <"$W/table")

set_creds() {
  local -a drop=(--inh-caps=-all --ambient-caps=-all --bounding-set=-all --nnp)
  local -a user=("--reuid=$USER_ID" "--regid=$USER_ID" --clear-groups)
  case $1 in
    rootnocaps)
      OWNER=0:0
      NATIVE=(setpriv --clear-groups "${drop[@]}")
      INSIDE=(setpriv --clear-groups "$USBOX" exec --cap-drop ALL --) ;;
    user)
      OWNER=$USER_ID:$USER_ID
      NATIVE=(setpriv "${user[@]}" "${drop[@]}")
      INSIDE=(setpriv "${user[@]}" "$USBOX_NB" exec --) ;;
    *) echo "COMPAT_ONLY: unknown set $1 (${ALL_SETS[*]})" >&2; exit 2 ;;
  esac
}

# run_side SET native|usbox: the probe on a fresh $DIR; $W/SET.TAG.{out,err,rc}
run_side() {
  local base=$W/$1.$2
  local -a cmd
  rm -rf "$DIR" && mkdir "$DIR" && chown "$OWNER" "$DIR"
  cmd=("${NATIVE[@]}")
  [ "$2" = usbox ] && cmd=("${INSIDE[@]}")
  (cd "$W" && exec timeout -k 5 "$CMD_TIMEOUT" "${cmd[@]}" "$PROBE" run "$DIR") \
    >"$base.out" 2>"$base.err"
  echo $? >"$base.rc"
}

complete() {
  local base=$W/$1.$2 want=0
  [ "$2" = usbox ] && want=2
  if [ "$(cat "$base.rc")" != 0 ] || [ "$(sed -n 1p "$base.out")" != "where seccomp=$want" ] ||
     [ "$(tail -n 1 "$base.out")" != "end $NOPS" ] ||
     ! sed '1,2d;$d' "$base.out" | cut -d' ' -f1 | cmp -s - "$W/table"; then
    fail "$1: the $2 run did not run the table to the end (status $(cat "$base.rc"))"
    show "$2 stdout" "$base.out"
    show "$2 stderr" "$base.err"
    return 1
  fi
}

rows() { sed '1,2d;$d' "$1" | sed 's/ /\t/'; }

check_set() {
  local set=$1 tag ok=1 name va vb n=0
  set_creds "$set"
  for tag in native usbox; do run_side "$set" $tag; complete "$set" $tag || ok=0; done
  [ $ok = 1 ] || return
  expect_eq "$set: the same credentials inside" "$(sed -n 2p "$W/$set.native.out")" \
    "$(sed -n 2p "$W/$set.usbox.out")"
  while IFS=$'\t' read -r name va vb; do
    fail "$set: $name: native [$va], usbox [$vb]"
    n=$((n + 1))
  done < <(awk -F '\t' 'NR == FNR { a[$1] = $2; next } ($1 in a) && a[$1] != $2 { print $1 "\t" a[$1] "\t" $2 }' \
             <(rows "$W/$set.native.out") <(rows "$W/$set.usbox.out"))
  [ $n = 0 ] && pass "$set: every row as native ($NOPS rows)"
}

for s in "${sets[@]}"; do
  echo "== $s"
  check_set "$s"
done

# docs/cli.md: --cap-add ALL keeps every capability usbox has but, under
# --net filtered and none, CAP_NET_ADMIN (12) and CAP_NET_RAW (13), even
# by name; with --net host those too. (A deliberate difference: docs/compat.md.)
if [ -z "${COMPAT_ONLY:-}" ]; then
  echo "== --cap-add ALL"
  capeff() { (cd / && "$USBOX_REAL" exec "$@" -- awk '/^CapEff:/ { print $2 }' /proc/self/status); }
  own=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)
  net=$(( (1 << 12) | (1 << 13) ))
  printf -v want_filtered '%016x' $(( 0x$own & ~net ))
  expect_eq "--cap-add ALL: all of usbox's own but CAP_NET_ADMIN and CAP_NET_RAW" \
    "$want_filtered" "$(capeff --cap-add ALL)"
  expect_eq "--cap-add CAP_NET_RAW --cap-add CAP_NET_ADMIN: dropped all the same" \
    0000000000000000 "$(capeff --cap-drop ALL --cap-add CAP_NET_RAW --cap-add CAP_NET_ADMIN)"
  expect_eq "--net none --cap-add ALL: the same" "$want_filtered" \
    "$(capeff --net none --cap-add ALL)"
  expect_eq "--net host --cap-add ALL: all of usbox's own" "$own" \
    "$(capeff --net host --cap-add ALL)"
  # to a file first: grep -q stops reading at its match, and a longer help
  # would then die of SIGPIPE (the pipeline's status under pipefail)
  "$USBOX_REAL" exec --help >"$TMPROOT/help" 2>&1
  grep -q 'ALL keeps all but CAP_NET_ADMIN and CAP_NET_RAW' "$TMPROOT/help" &&
    pass "usbox exec --help says what --cap-add ALL leaves dropped" ||
    fail "usbox exec --help does not say what --cap-add ALL leaves dropped"
fi
finish
