#!/usr/bin/env bash
# Real QEMU guests on a simulator fabric, end to end: every "Done when" leg of issue 15, one line per leg
# ("fabric-e2e: PASS <leg>" or "fabric-e2e: FAIL <leg>: why"), exit code 1 when any leg failed. It publishes nothing.
#
#   eng/guest/fabric-e2e.sh VMCI_DIR BUNDLE_DIR [OUT]
#     VMCI_DIR    the published vmci tool:    dotnet publish src/VmciCli/VmciCli.csproj -c Release -r linux-x64 --self-contained -o VMCI_DIR
#     BUNDLE_DIR  the published conformance bundle: dotnet publish tests/Conformance/Conformance.csproj -c Release -r linux-x64 --self-contained -o BUNDLE_DIR
#     OUT         logs and JUnit (default artifacts/fabric-e2e); OUT/conformance/conformance.junit.xml for the summary
#
# Legs (guests under TCG; one pair of guests, then one guest):
#   pair (two guests, CIDs 3 and 4, booted at the same time, each with its own vhost-user device — `vmci vhost`, started
#   by eng/guest-run.sh --fabric — on one fabric whose host side, CID 2, runs here; the guest half is fabric-guest.sh):
#     ping-echo       the host's `vmci echo` answers `vmci ping vmci://2:P` from guest 3, and guest 3's echo answers the
#                     host's `vmci ping vmci://3:P`
#     guest-to-guest  guest 3 sends 32 MiB to guest 4 (socat → vmci cat), checksummed, under topology open
#     vmware-refusal  under topology vmware the same connect is refused the way a virtio guest can be refused: the
#                     device's RST, ECONNRESET (VMware's own vmci transport refuses with ENETUNREACH before sending
#                     anything; a virtio driver has no such policy hook); the host stays reachable
#     peer-cids       every accept reports the other side's real CID: the host sees 3, guest 3 sees 2, guest 4 sees 3
#   conformance       the whole conformance bundle in a guest (CID 3) whose only vsock transport is the device; exactly
#                     one case may skip, and says why (a virtio guest without vsock_loopback cannot reach its own CID)
#
# Environment: FABRIC_E2E_LEGS (default "pair conformance": run only these).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
usage="usage: eng/guest/fabric-e2e.sh VMCI_DIR BUNDLE_DIR [OUT]"
[[ $# -ge 2 && $# -le 3 ]] || { echo "$usage" >&2; exit 2; }
vmci="$(realpath "$1")/vmci"
bundle="$(realpath "$2")"
out="${3:-$repo/artifacts/fabric-e2e}"
legs="${FABRIC_E2E_LEGS:-pair conformance}"
[[ -x "$vmci" ]] || { echo "fabric-e2e: no vmci tool at $vmci; $usage" >&2; exit 2; }
[[ " $legs " != *" conformance "* || -x "$bundle/Conformance" ]] || { echo "fabric-e2e: no conformance bundle at $bundle (no $bundle/Conformance); $usage" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/a" "$out/b" "$out/conformance"
out="$(cd "$out" && pwd -P)"
started=$SECONDS
say() { echo "fabric-e2e: $*"; }

# shellcheck disable=SC2016 # the checks of leg are evaluated by it
pair() {
fabric="$(mktemp -d)" # short: socket paths under it must fit sun_path
pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$fabric"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "fabric-e2e: $*"; }
fail() { echo "fabric-e2e: FAIL: $*" >&2; exit 1; }

# wait_for FILE: until FILE is there and not empty, while both guests run (at most 900 s).
wait_for() {
  local i=0
  until [[ -s "$1" ]]; do
    ((++i < 9000)) || fail "gave up waiting for $1"
    for pid in "$a_pid" "$b_pid"; do
      kill -0 "$pid" 2>/dev/null || { [[ -s "$1" ]] || fail "a guest ended before $1 appeared (see $out/a.log, $out/b.log)"; }
    done
    sleep 0.1
  done
}

# port_of LOG: the port in the "listening on vmci://*:P" line of a vmci echo or cat log.
port_of() {
  local i=0 port=""
  while [[ -z "$port" ]]; do
    port="$(sed -n -e 's/^cat: listening on vmci:\/\/[^:]*:\([0-9]*\).*/\1/p' -e 's/^echo: listening on vmci:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$1" | head -n 1)"
    ((++i < 600)) || fail "no listening line in $1: $(cat "$1")"
    [[ -n "$port" ]] || sleep 0.1
  done
  echo "$port"
}

say "fabric $fabric, topology $("$vmci" sim topology open --fabric "$fabric")"
say "host side (CID 2): vmci echo and vmci cat --listen"
"$vmci" echo --fabric "$fabric" --cid 2 --bind 'vmci://*:*' >"$out/host-echo.log" 2>&1 &
pids+=($!)
echo "hello from CID 2" | "$vmci" cat --listen --fabric "$fabric" --cid 2 'vmci://*:*' >"$out/host-cat.out" 2>"$out/host-cat.log" &
pids+=($!)
printf 'ECHO_PORT=%s\nCAT_PORT=%s\n' "$(port_of "$out/host-echo.log")" "$(port_of "$out/host-cat.log")" >"$out/host.env.tmp"
mv "$out/host.env.tmp" "$out/host.env"

say "booting guest a (CID 3) and guest b (CID 4)"
GUEST_OUT="$out/a" GUEST_TIMEOUT=900 VMCI_TOOL="$vmci" "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 3 \
  "$repo/eng/guest/fabric-guest.sh" a "$out" "$vmci" >"$out/a.log" 2>&1 &
a_pid=$!
pids+=("$a_pid")
GUEST_OUT="$out/b" GUEST_TIMEOUT=900 VMCI_TOOL="$vmci" "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 4 \
  "$repo/eng/guest/fabric-guest.sh" b "$out" "$vmci" >"$out/b.log" 2>&1 &
b_pid=$!
pids+=("$b_pid")

wait_for "$out/a/echo.port"
say "1b. NetMQ ping from the host side to guest a's echo (vmci://3:$(cat "$out/a/echo.port"))"
"$vmci" ping --fabric "$fabric" --cid 2 "vmci://3:$(cat "$out/a/echo.port")" -c 5 -i 50 -W 20000 >"$out/host-ping.log" 2>&1 ||
  fail "ping from the host to guest a: $(cat "$out/host-ping.log")"
wait_for "$out/a/cat.port"
say "3. raw stream from the host side to guest a's cat (vmci://3:$(cat "$out/a/cat.port"))"
echo "hello from CID 2" | "$vmci" cat --fabric "$fabric" --cid 2 "vmci://3:$(cat "$out/a/cat.port")" >"$out/from-guest.txt" 2>"$out/host-connect.log" ||
  fail "cat from the host to guest a: $(cat "$out/host-connect.log")"
wait_for "$out/a/g2g.done"
wait_for "$out/b/recv.sha256"
say "2. topology vmware for the second half"
"$vmci" sim topology vmware --fabric "$fabric" >/dev/null
echo vmware >"$out/vmware"

a_rc=0
b_rc=0
wait "$a_pid" || a_rc=$?
wait "$b_pid" || b_rc=$?
say "guest a exited $a_rc, guest b exited $b_rc"
failed=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then say "  ok: $1"; else echo "fabric-e2e:   not ok: $1" >&2; failed=1; fi
}
check "guest a (CID 3) passed every step (ping, cat, echo, cat --listen, 32 MiB, vmware refusal)" test "$a_rc" -eq 0
check "guest b (CID 4) passed every step" test "$b_rc" -eq 0
check "1a. the host's echo answered guest a" grep -q "5 sent, 5 received" "$out/a/program.log"
check "1b. guest a's echo answered the host" grep -q "5 sent, 5 received" "$out/host-ping.log"
check "2. guest b received the 32 MiB intact" cmp -s "$out/a/sent.sha256" "$out/b/recv.sha256"
check "2. vmware: guest a → guest b refused with ECONNRESET" grep -q "Connection reset by peer" "$out/a/vmware.err"
check "3. the host's accept reports CID 3" grep -q "connection from vmci://3:" "$out/host-cat.log"
check "3. guest a's accept reports CID 2" grep -q "connection from vmci://2:" "$out/a/cat-listen.log"
check "3. guest b's accept reports CID 3" grep -q "connection from vmci://3:" "$out/b/recv.log"
check "the guests' greetings arrived" grep -q "hello from CID 3" "$out/host-cat.out"
if ((failed)); then
  for f in a b; do echo "--- guest $f (tail of $out/$f.log)" >&2; tail -n 25 "$out/$f.log" >&2; done
fi
# One line per leg, from the checks above.
leg() { # leg NAME DETAIL CHECK-COMMANDS (each a quoted command line)
  local name="$1" detail="$2" ok=1 c
  shift 2
  for c in "$@"; do eval "$c" >/dev/null 2>&1 || ok=0; done
  if ((ok)); then echo "fabric-e2e: PASS $name: $detail"; else echo "fabric-e2e: FAIL $name: $detail"; echo "$name" >>"$out/failed-legs"; fi
}
leg ping-echo "host echo (CID 2) answers guest 3's ping, guest 3's echo answers the host's ping" \
  'grep -q "5 sent, 5 received" "$out/a/program.log"' 'grep -q "5 sent, 5 received" "$out/host-ping.log"'
leg guest-to-guest "32 MiB guest 3 → guest 4, sha256 equal, topology open ($(cat "$out/a/g2g.rate" 2>/dev/null || echo '? KB/s'))" \
  'cmp -s "$out/a/sent.sha256" "$out/b/recv.sha256"' 'test -s "$out/b/recv.sha256"'
leg vmware-refusal "guest 3 → guest 4 refused with ECONNRESET under topology vmware, nothing accepted, host still reachable" \
  'grep -q "Connection reset by peer" "$out/a/vmware.err"' 'test -s "$out/a/finished"' 'test -s "$out/b/finished"'
leg peer-cids "accepts report the real peer: host sees 3, guest 3 sees 2, guest 4 sees 3" \
  'grep -q "connection from vmci://3:" "$out/host-cat.log"' 'grep -q "connection from vmci://2:" "$out/a/cat-listen.log"' \
  'grep -q "connection from vmci://3:" "$out/b/recv.log"' 'grep -q "hello from CID 3" "$out/host-cat.out"'
((failed == 0))
}

conformance() {
  local dir fabric_dir rc=0
  dir="$out/conformance"
  fabric_dir="$(mktemp -d)"
  say "conformance bundle in guest CID 3, the device its only vsock transport"
  GUEST_TIMEOUT="${GUEST_TIMEOUT:-1200}" GUEST_OUT="$dir" VMCI_TOOL="$vmci" "$repo/eng/guest-run.sh" --fabric "$fabric_dir" --cid 3 \
    "$bundle/Conformance" -noColor -trait- Backend=peer -result-junit "$dir/conformance.junit.xml" >"$out/conformance.log" 2>&1 || rc=$?
  rm -rf "$fabric_dir"
  local summary
  if summary="$("$repo/eng/guest/check-junit.sh" "$dir/conformance.junit.xml" \
    Conformance.NetMq.KernelNetMqTests.Connect_ToLocalCidLoopback_MessagesFlow 2>&1)" && [[ "$rc" -eq 0 ]]; then
    echo "fabric-e2e: PASS conformance: $(echo "$summary" | head -n 1 | sed 's/^check-junit: [^:]*: //')"
  else
    echo "$summary" >&2
    tail -n 30 "$out/conformance.log" >&2
    echo "fabric-e2e: FAIL conformance: guest exit code $rc; $(echo "$summary" | head -n 1 | sed 's/^check-junit: [^:]*: //')"
    echo conformance >>"$out/failed-legs"
  fi
}

for l in $legs; do
  case "$l" in
    pair)
      t=$SECONDS
      # In a subshell: its waits may give up (exit), its trap stops the host side and the guests; the legs still report.
      (pair) || { [[ -s "$out/failed-legs" ]] || { echo "fabric-e2e: FAIL pair: the guests did not get through (see $out/a.log, $out/b.log)"; echo pair >>"$out/failed-legs"; }; }
      say "pair took $((SECONDS - t)) s"
      ;;
    conformance)
      t=$SECONDS
      conformance
      say "conformance took $((SECONDS - t)) s"
      ;;
    *) echo "fabric-e2e: unknown leg $l (FABRIC_E2E_LEGS: pair conformance)" >&2; exit 2 ;;
  esac
done
if [[ -s "$out/failed-legs" ]]; then
  say "FAILED legs: $(tr '\n' ' ' <"$out/failed-legs")in $((SECONDS - started)) s"
  exit 1
fi
say "all legs passed in $((SECONDS - started)) s"
