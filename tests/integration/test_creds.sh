#!/usr/bin/env bash
# "The deputy never has more rights than the agent": every host operation
# usbox performs for an agent thread must get exactly what that thread would
# get from the kernel itself. tests/attacks/creds_probe.c holds ONE table of
# operations (open, create, link, chmod, chown, utimens, truncate under
# RLIMIT_FSIZE, xattrs, access, exec, chdir, /proc/self/fd, inotify, unix
# and TCP sockets, objects reached only through a held fd); for each
# credential set below the probe runs natively under those credentials (the
# reference, twice: it must be deterministic) and inside usbox under the same
# ones, each time on a freshly built fixture, and the two outputs must be the
# same line by line: result, errno and what is seen afterwards. The host
# state of the fixture after each run (modes, owners, sizes, times, every
# xattr by getfattr, file capabilities by getcap) must be the same too: an
# operation that fails natively must leave no trace on the host from usbox.
#
#   CREDS_ONLY=rootnocaps,user   run these credential sets only
#   KEEP_TMP=1                   keep the outputs ($TMPROOT/creds/SET.*)
#
# Credential sets (the probe's uid "me", another user 4243 "other", a
# supplementary group 4244 "group" that every set has):
#   rootnocaps        root without capabilities (--cap-drop ALL)
#   user              uid 4242; usbox itself run as 4242 (user namespace)
#   user_under_root   uid 4242 and no capabilities, usbox run as root (the
#                     agent drops to 4242 inside with setpriv)
#   cap_chown, cap_dac_override, cap_fowner
#                     root keeping that one capability (--cap-drop ALL --cap-add)
. "$(dirname "$0")/lib.sh"

: "${ATTACKS:?ATTACKS must be the directory of the built attack programs}"
[ -x "$ATTACKS/creds_probe" ] || { echo "missing $ATTACKS/creds_probe" >&2; exit 1; }
for tool in setpriv getfattr getcap; do
  command -v "$tool" >/dev/null || { echo "test_creds: $tool is needed (scripts/install-deps)" >&2; exit 1; }
done

ALL_SETS=(rootnocaps user user_under_root cap_chown cap_dac_override cap_fowner)
USER_ID=4242 OTHER_ID=4243 GROUP_ID=4244

# Differences that are not the deputy's: a call the kernel performs for the
# agent itself (not emulated) inside the user namespace of a usbox run
# without root, where the other ids are unmapped. SET:OP -> the exact usbox
# line expected instead of the native one.
declare -A KNOWN=(
  # fchown is passed to the kernel: uid 4243 does not exist in the agent's
  # namespace (EINVAL), natively it is someone else's (EPERM)
  ["user:fchown_other.mine"]="-1 EINVAL mode=f0644 own=me:mygid"
  # the sentry sends for the agent; without root it cannot vouch for the
  # agent's pid (CAP_SYS_ADMIN), so a receiver sees usbox's pid
  ["user:sendmsg_unix.plain"]="5 - sender=pid:notself,uid:me,gid:mygid"
  ["user:sendmsg_unix.scm_creds_self"]="5 - sender=pid:notself,uid:me,gid:mygid"
)

# Where usbox is stricter than the kernel on purpose (docs/security.md): the
# row's usbox result must match the pattern, in every set where it differs
# from native; the host state of those rows is checked by check_stricter.
declare -A STRICTER=(
  # a re-open through /proc/self/fd gets no more than the open file's access
  [reopen_procfd_rw.other_0666]='^-1 EACCES'
  [reopen_procfd_rw.other_0644]='^-1 EACCES'
  [reopen_procfd_rw.mine_0444]='^-1 EACCES'
  [held_reopen_procfd_rw.other_0644]='^-1 EACCES'
  # no setuid or setgid file on the host, whoever asks
  [chmod_suid.mine]='^0 - mode=f0755'
  [chmod_suid.other_0755]='^0 - mode=f0755'
  [chmod_sgid.mine_mygid]='^0 - mode=f0755'
  [chmod_sgid.mine_group]='^0 - mode=f0755'
  [fchmod_sgid.mine_othergid]='^0 - mode=f0755'
  [held_chmod_sgid_procfd.mine_othergid]='^0 - mode=f0755'
)

sets=("${ALL_SETS[@]}")
if [ -n "${CREDS_ONLY:-}" ]; then
  IFS=, read -r -a sets <<<"$CREDS_ONLY"
  for s in "${sets[@]}"; do
    [[ " ${ALL_SETS[*]} " == *" $s "* ]] || { echo "CREDS_ONLY: unknown set $s (${ALL_SETS[*]})" >&2; exit 2; }
  done
fi

# Everything lives under the scratch root (bound writable in every usbox
# run), reachable by uid 4242: the probe, the fixture, the listeners.
chmod 711 "$TMPROOT"
W=$TMPROOT/creds
mkdir -p "$W" && chmod 755 "$W"
cp "$ATTACKS/creds_probe" "$W/creds_probe" && chmod 755 "$W/creds_probe"
PROBE=$W/creds_probe FIX=$W/fx SOCKS=$W/socks
USBOX_NB=$(usbox_for_nobody)

"$PROBE" list >"$W/table" || { echo "creds_probe list failed" >&2; exit 1; }
NOPS=$(wc -l <"$W/table")
dups=$(sort "$W/table" | uniq -d)
if [ "$NOPS" -lt 100 ] || [ -n "$dups" ]; then
  echo "the probe's table is wrong: $NOPS rows, duplicated: $dups" >&2
  exit 1
fi

# Unix sockets owned by the other user, started natively as root: streams
# 0600, 0660 (group), 0666 and 0666 in a directory only it can search;
# datagrams 0600 and 0666.
"$PROBE" listen "$SOCKS" --other $OTHER_ID:$OTHER_ID --group $GROUP_ID >"$W/listen.out" 2>&1 &
track_bg $!
disown $! # lib.sh kills it at exit; no "Killed" notice from bash
for _ in $(seq 100); do grep -q '^ready$' "$W/listen.out" && break; sleep 0.05; done
grep -q '^ready$' "$W/listen.out" || { echo "the unix listeners did not start" >&2; cat "$W/listen.out" >&2; exit 1; }

# ---------------------------------------------------------------- credential sets

# set_creds SET: NATIVE (the command prefix of the reference run), INSIDE
# (usbox under the same credentials), ME (the probe's ids, for the
# fixture), CAPEFF (the capabilities the reference must have), RUN_OPTS.
set_creds() {
  local set=$1 cap=${1#cap_}
  local -a drop=(--inh-caps=-all --ambient-caps=-all --bounding-set=-all --nnp)
  local -a user=("--reuid=$USER_ID" "--regid=$USER_ID" "--groups=$GROUP_ID")
  RUN_OPTS=()
  case $set in
    rootnocaps)
      ME=0:0 CAPEFF=0000000000000000
      NATIVE=(setpriv "--groups=$GROUP_ID" "${drop[@]}")
      INSIDE=(setpriv "--groups=$GROUP_ID" "$USBOX" exec --cap-drop ALL --) ;;
    user)
      ME=$USER_ID:$USER_ID CAPEFF=0000000000000000 RUN_OPTS=(--unmapped)
      NATIVE=(setpriv "${user[@]}" "${drop[@]}")
      INSIDE=(setpriv "${user[@]}" "$USBOX_NB" exec --) ;;
    user_under_root)
      ME=$USER_ID:$USER_ID CAPEFF=0000000000000000
      NATIVE=(setpriv "${user[@]}" "${drop[@]}")
      INSIDE=(setpriv "--groups=$GROUP_ID" "$USBOX" exec --cap-add CAP_SETUID --cap-add CAP_SETGID
              --cap-add CAP_SETPCAP -- "${NATIVE[@]}") ;;
    cap_*)
      ME=0:0
      case $cap in
        chown) CAPEFF=0000000000000001 ;;
        dac_override) CAPEFF=0000000000000002 ;;
        fowner) CAPEFF=0000000000000008 ;;
      esac
      NATIVE=(setpriv "--groups=$GROUP_ID" "--inh-caps=-all,+$cap" "--ambient-caps=-all,+$cap"
              "--bounding-set=-all,+$cap" --nnp)
      INSIDE=(setpriv "--groups=$GROUP_ID" "$USBOX" exec --cap-drop ALL --cap-add "CAP_${cap^^}" --) ;;
  esac
}

# host_state: what the host holds in the fixture, by root's tools.
host_state() {
  "$PROBE" snapshot "$FIX" | sed 's/^/stat /'
  getfattr -R -h -d -m - -e hex --absolute-names "$FIX" 2>/dev/null |
    awk -v root="$FIX/" '/^# file: / { f = substr($0, 9); sub("^" root, "", f); next }
                         /=/ { print "xattr " f " " $0 }'
  getcap -r "$FIX" 2>/dev/null | sed "s|^$FIX/|fcap |"
}

# run_side SET TAG native|usbox: a fresh fixture, the probe run, the host
# state after it. Output in $W/SET.TAG.{out,err,rc,host}.
run_side() {
  local set=$1 tag=$2 mode=$3 base=$W/$1.$2
  rm -rf "$FIX"
  if ! "$PROBE" setup "$FIX" --me "$ME" --other $OTHER_ID:$OTHER_ID --group $GROUP_ID \
      >"$base.setup" 2>&1; then
    fail "$set: building the fixture failed"
    show setup "$base.setup"
    return 1
  fi
  local -a cmd=("${NATIVE[@]}")
  [ "$mode" = usbox ] && cmd=("${INSIDE[@]}")
  cmd+=("$PROBE" run "$FIX" --other "$OTHER_ID:$OTHER_ID" --group "$GROUP_ID" --socks "$SOCKS"
        "${RUN_OPTS[@]}")
  (
    for fd in "/proc/$BASHPID/fd"/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    cd "$W" && exec timeout -k 5 "$CMD_TIMEOUT" env HOME=/nonexistent "${cmd[@]}"
  ) </dev/null >"$base.out" 2>"$base.err"
  echo $? >"$base.rc"
  host_state | sort >"$base.host"
}

# complete SET TAG: the run started where it should (natively: no seccomp
# filter; in usbox: filtered), ran every row of the table in order and
# ended; otherwise nothing it printed means anything.
complete() {
  local set=$1 tag=$2 base=$W/$1.$2 want=0
  [ "$tag" = usbox ] && want=2
  local rc
  rc=$(cat "$base.rc")
  if [ "$rc" != 0 ] || [ "$(sed -n 1p "$base.out")" != "where seccomp=$want" ] ||
     ! sed -n 2p "$base.out" | grep -q '^creds ' || [ "$(tail -n 1 "$base.out")" != "end $NOPS" ] ||
     ! sed '1,2d;$d' "$base.out" | cut -d' ' -f1 | cmp -s - "$W/table"; then
    fail "$set: the $tag run did not run the table to the end (status $rc, $(grep -cvE '^(where|creds|end) ' "$base.out") of $NOPS rows, want \"where seccomp=$want\" first)"
    tail -n 5 "$base.out" >"$base.tail"
    show "$tag stdout (tail)" "$base.tail"
    show "$tag stderr" "$base.err"
    return 1
  fi
}

# rows FILE: "NAME<TAB>rest" for each row of a run's output.
rows() { sed '1,2d;$d' "$1" | sed 's/ /\t/'; }

# compare_rows A B: "NAME<TAB>A's result<TAB>B's result" for each row that
# differs between two runs' outputs.
compare_rows() {
  awk -F '\t' 'NR == FNR { a[$1] = $2; next } ($1 in a) && a[$1] != $2 { print $1 "\t" a[$1] "\t" $2 }' \
    <(rows "$1") <(rows "$2")
}

check_set() {
  local set=$1
  set_creds "$set"
  run_side "$set" native1 native || return
  run_side "$set" native2 native || return
  run_side "$set" usbox usbox || return
  local tag ok=1
  for tag in native1 native2 usbox; do complete "$set" "$tag" || ok=0; done
  [ $ok = 1 ] || return

  # the reference: under the intended credentials, and deterministic
  local creds
  creds=$(sed -n 2p "$W/$set.native1.out")
  if [[ "$creds" != *"CapEff=$CAPEFF "* || "$creds" != *"NoNewPrivs=1"* ]]; then
    fail "$set: the native reference is not under the intended credentials (want CapEff=$CAPEFF): $creds"
    return
  fi
  local name va vb nondet=0
  while IFS=$'\t' read -r name va vb; do
    fail "$set: the native run is not deterministic at $name: [$va] then [$vb]"
    nondet=1
  done < <(compare_rows "$W/$set.native1.out" "$W/$set.native2.out")
  if ! cmp -s "$W/$set.native1.host" "$W/$set.native2.host"; then
    fail "$set: the host state after two native runs differs"
    diff "$W/$set.native1.host" "$W/$set.native2.host" | head -20 | sed 's/^/  | /' >&2
    nondet=1
  fi
  [ $nondet = 0 ] || return
  # the fixture's own xattrs and file capabilities are seen: the host checks
  # below can see what usbox might add or remove
  if ! grep -q '^xattr .* trusted\.x=' "$W/$set.native1.host" ||
     ! grep -q '^fcap .*cap_net_admin' "$W/$set.native1.host"; then
    fail "$set: the host checks do not see the fixture's xattrs (getfattr, getcap)"
    return
  fi
  pass "$set: the native reference is deterministic ($NOPS rows, $creds)"

  # usbox under the same credentials, row by row
  expect_eq "$set: usbox runs the agent under the same credentials" "$creds" \
    "$(sed -n 2p "$W/$set.usbox.out")"
  local differ=() known
  while IFS=$'\t' read -r name va vb; do
    known=${KNOWN["$set:$name"]-}
    if [ -n "${STRICTER[$name]-}" ] && [[ "$vb" =~ ${STRICTER[$name]} ]]; then
      echo "  stricter than the kernel on purpose ($set) $name: native [$va], usbox [$vb]"
      continue
    fi
    if [ -n "$known" ] && [ "$vb" = "$known" ]; then
      echo "  known difference ($set) $name: native [$va], usbox [$vb] (not the deputy's: see KNOWN)"
      continue
    fi
    fail "$set: $name: native [$va], usbox [$vb]"
    differ+=("$name")
  done < <(compare_rows "$W/$set.native1.out" "$W/$set.usbox.out")
  for known in "${!KNOWN[@]}"; do
    [ "${known%%:*}" = "$set" ] || continue
    name=${known#*:}
    [ "$(awk -v n="$name" '$1 == n' "$W/$set.native1.out")" = \
      "$(awk -v n="$name" '$1 == n' "$W/$set.usbox.out")" ] &&
      echo "  note ($set): the known difference $name is gone: remove it from KNOWN"
  done
  if [ ${#differ[@]} -eq 0 ]; then
    pass "$set: every row as native"
  else
    echo "  $set: ${#differ[@]} of $NOPS rows differ from native: ${differ[*]}" >&2
  fi

  # the host after the usbox run: as after the native one, but for the
  # rows usbox refuses on purpose, where no setuid or setgid bit is left
  local line strict_re
  strict_re="^(stat|xattr|fcap) ($(printf '%s\n' "${!STRICTER[@]}" | sed 's/\./\\./g' | paste -sd '|'))/"
  if grep -E "$strict_re" "$W/$set.usbox.host" | grep -qE '^stat [^ ]+ f[2-7][0-7]{3} '; then
    fail "$set: a row usbox must refuse left a setuid or setgid file on the host"
    grep -E "$strict_re" "$W/$set.usbox.host" | sed 's/^/  | /' >&2
  fi
  grep -vE "$strict_re" "$W/$set.native1.host" >"$W/$set.native1.host.cmp"
  grep -vE "$strict_re" "$W/$set.usbox.host" >"$W/$set.usbox.host.cmp"
  while IFS= read -r line; do
    fail "$set: host state after usbox differs: $line"
  done < <(diff "$W/$set.native1.host.cmp" "$W/$set.usbox.host.cmp" |
           sed -n 's/^< /native only: /p; s/^> /usbox only:  /p')
  cmp -s "$W/$set.native1.host.cmp" "$W/$set.usbox.host.cmp" &&
    pass "$set: the host holds the same after usbox as after native ($(wc -l <"$W/$set.usbox.host") lines)"
  if grep -qE 'unexpected notification|receiving a notification failed|answering [0-9]+ failed' \
      "$W/$set.usbox.err"; then
    fail "$set: usbox warned about its own operation"
    show "usbox stderr" "$W/$set.usbox.err"
  fi
}

for s in "${sets[@]}"; do
  echo "== $s"
  check_set "$s"
done
rm -rf "$FIX"
finish
