#!/usr/bin/env bash
# One leg of the two-machine conformance suite (SPEC §9): `vmci agent` on one machine, `vmci conformance --peer`
# on another, both on one simulator fabric; the agent's machine and the suite's machine have different CIDs.
#
#   eng/guest/two-machine.sh --vmci DIR --bundle DIR --out DIR [--agent SIDE] [--suite SIDE]
#                            [--fabric DIR] [--port N] [--filter PATTERN] [--no-skips [--allow-skip TEXT]...] [--name LEG]
#
#   --vmci DIR      the published vmci tool (DIR/vmci): dotnet publish src/VmciCli -c Release -r linux-x64 --self-contained -o DIR
#   --bundle DIR    the published conformance bundle (DIR/Conformance):
#                   dotnet publish tests/Conformance -c Release -r linux-x64 --self-contained -o DIR
#   --out DIR       the leg's output: two-machine.junit.xml (the suite's cases), agent.log, suite.log, and per guest
#                   side its eng/guest-run.sh output folder (agent-guest/, suite-guest/)
#   --agent SIDE    where `vmci agent --bind vmci://*:PORT` runs (default sim:3)
#   --suite SIDE    where `vmci conformance --peer vmci://AGENT-CID:PORT` runs (default sim:2)
#                   A SIDE is one of
#                     sim:CID    a process on this machine, simulator backend, machine CID of the fabric
#                     guest:CID  a QEMU guest that is machine CID of the fabric, vsock backend (real guest kernel):
#                                eng/guest-run.sh --fabric DIR --cid CID (needs its vhost-user device)
#   --fabric DIR    the simulator fabric both sides share (default: a fresh one, removed at the end)
#   --port N        the agent's port (default 5000)
#   --filter PAT    only the cases whose method matches PAT (vmci conformance --filter)
#   --no-skips      a skipped case fails the leg (every case must have run)
#   --allow-skip TEXT  with --no-skips: a case whose skip reason contains TEXT may skip (a reason the leg cannot run
#                   it by design, e.g. a suite in a guest cannot reach the host's fabric to partition it); repeatable
#   --name LEG      the leg's name in the summary line (default: AGENT-SIDE↔SUITE-SIDE)
#
# Both directions of roles are two calls, e.g. the simulator leaf as CI runs it:
#   eng/guest/two-machine.sh --vmci artifacts/vmci --bundle artifacts/guest-bundle --out artifacts/two-sim-a --agent sim:3 --suite sim:2
#   eng/guest/two-machine.sh --vmci artifacts/vmci --bundle artifacts/guest-bundle --out artifacts/two-sim-b --agent sim:2 --suite sim:3
# and with real guest kernels through the fabric (host ↔ guest, guest ↔ guest):
#   eng/guest/two-machine.sh ... --agent guest:3 --suite sim:2      eng/guest/two-machine.sh ... --agent sim:2 --suite guest:3
#   eng/guest/two-machine.sh ... --agent guest:3 --suite guest:4
# (Every case runs with the listener on either machine whatever the roles; the roles decide which process drives.)
#
# Environment: GUEST_TIMEOUT (seconds, per guest; eng/guest-run.sh), READY_TIMEOUT (seconds the agent may take to
# listen; default 120, 600 when it is a guest).
# Prints one closing line: `two-machine LEG: N passed, N failed, N skipped`.
# Exit code: 0 when the suite passed (and, with --no-skips, skipped nothing); 1 when a case failed or was skipped
# under --no-skips; 3 when the suite could not run; 2 for a usage error; 125 when the agent did not start.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
usage="usage: eng/guest/two-machine.sh --vmci DIR --bundle DIR --out DIR [--agent SIDE] [--suite SIDE] [--fabric DIR] [--port N] [--filter PAT] [--no-skips [--allow-skip TEXT]...] [--name LEG]"
die() { printf 'two-machine: %s\n' "$1" >&2; exit "${2:-2}"; }

vmci_dir="" bundle="" out="" agent_side="sim:3" suite_side="sim:2" fabric="" port=5000 filter="" no_skips=0 name=""
allowed_skips=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --vmci | --bundle | --out | --agent | --suite | --fabric | --port | --filter | --name)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value; $usage"
      case "$1" in
        --vmci) vmci_dir="$2" ;; --bundle) bundle="$2" ;; --out) out="$2" ;; --agent) agent_side="$2" ;;
        --suite) suite_side="$2" ;; --fabric) fabric="$2" ;; --port) port="$2" ;; --filter) filter="$2" ;; --name) name="$2" ;;
      esac
      shift 2 ;;
    --no-skips) no_skips=1; shift ;;
    --allow-skip) [[ $# -ge 2 && -n "$2" ]] || die "--allow-skip needs a value; $usage"; allowed_skips+=("--allow-skip=$2"); shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; $usage" ;;
  esac
done
[[ -n "$vmci_dir" && -n "$bundle" && -n "$out" ]] || die "--vmci, --bundle and --out are required; $usage"
vmci="$(cd "$vmci_dir" 2>/dev/null && pwd -P)/vmci"
[[ -x "$vmci" ]] || die "--vmci '$vmci_dir': no executable vmci in it (dotnet publish src/VmciCli -c Release -r linux-x64 --self-contained -o DIR)"
suite_program="$(cd "$bundle" 2>/dev/null && pwd -P)/Conformance"
[[ -x "$suite_program" ]] || die "--bundle '$bundle': no executable Conformance in it (dotnet publish tests/Conformance -c Release -r linux-x64 --self-contained -o DIR)"
[[ "$port" =~ ^[0-9]{1,10}$ && "$port" -lt 4294967295 ]] || die "--port '$port': must be 0 to 4294967294"

# A SIDE: kind (sim or guest) and CID (2 for the host, 3 or more for guests), into side_kind and side_cid.
parse_side() {
  [[ "$2" =~ ^(sim|guest):([0-9]+)$ ]] || die "$1 '$2': must be sim:CID or guest:CID"
  side_kind="${BASH_REMATCH[1]}"
  side_cid="${BASH_REMATCH[2]}"
  [[ ${#side_cid} -le 10 && "$side_cid" -ge 2 && "$side_cid" -lt 4294967295 ]] || die "$1 '$2': the CID must be a machine's, 2 to 4294967294"
}
parse_side --agent "$agent_side"
agent_kind="$side_kind" agent_cid="$side_cid"
parse_side --suite "$suite_side"
suite_kind="$side_kind" suite_cid="$side_cid"
[[ "$agent_cid" != "$suite_cid" ]] || die "--agent and --suite must be different machines (both are CID $agent_cid)"
if [[ "$agent_kind" == guest || "$suite_kind" == guest ]] && ! grep -q -- '--fabric DIR --cid N' "$repo/eng/guest-run.sh"; then
  die "a guest side needs eng/guest-run.sh --fabric DIR --cid N (the vhost-user device); this checkout's guest runner has none" 3
fi
name="${name:-$agent_side↔$suite_side}"

mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
rm -f "$out/two-machine.junit.xml" "$out/agent.log" "$out/suite.log"
own_fabric=0
if [[ -z "$fabric" ]]; then
  fabric="$(mktemp -d "${TMPDIR:-/tmp}/two-machine-fabric.XXXXXX")"
  own_fabric=1
fi
fabric="$(cd "$fabric" && pwd -P)"

agent_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ -n "$agent_pid" ]]; then
    kill -TERM "$agent_pid" 2>/dev/null || true
    wait "$agent_pid" 2>/dev/null || true
  fi
  if ((own_fabric)); then rm -rf "$fabric"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs COMMAND... as machine CID of the fabric: a process here (sim) or a QEMU guest (guest; its output folder is
# $out/ROLE-guest, where the command's files must go). It replaces the (sub)shell it runs in, so that the PID of
# `on_side ... &` is the agent's (or the guest runner's) and SIGTERM reaches it.
on_side() {
  local kind="$1" cid="$2" role="$3"
  shift 3
  if [[ "$kind" == sim ]]; then
    VMCI_BACKEND=sim VMCI_SIM_FABRIC="$fabric" VMCI_SIM_CID="$cid" exec "$@"
  else
    GUEST_OUT="$out/$role-guest" VMCI_TOOL="$vmci" exec "$repo/eng/guest-run.sh" --fabric "$fabric" --cid "$cid" "$@"
  fi
}
backend_of() { if [[ "$1" == sim ]]; then echo sim; else echo vsock; fi; }

echo "two-machine: $name: agent on $agent_side, suite on $suite_side, fabric $fabric, output $out"
started=$SECONDS

# 1. The agent, until the suite is done; its ready line says it listens.
on_side "$agent_kind" "$agent_cid" agent "$vmci" agent --backend "$(backend_of "$agent_kind")" --bind "vmci://*:$port" >"$out/agent.log" 2>&1 &
agent_pid=$!
ready_timeout="${READY_TIMEOUT:-$([[ "$agent_kind" == guest ]] && echo 600 || echo 120)}"
until grep -q 'agent: listening on' "$out/agent.log"; do
  if ! kill -0 "$agent_pid" 2>/dev/null; then
    wait "$agent_pid" && rc=0 || rc=$?
    agent_pid=""
    cat "$out/agent.log" >&2
    die "the agent on $agent_side exited ($rc) before it listened" 125
  fi
  if ((SECONDS - started >= ready_timeout)); then
    cat "$out/agent.log" >&2
    die "the agent on $agent_side did not listen within ${ready_timeout}s" 125
  fi
  sleep 0.2
done
echo "two-machine: $(grep -m 1 -o 'agent: listening on.*' "$out/agent.log" | tr -d '\r') after $((SECONDS - started)) s"

# 2. The suite's two-machine cases against it.
junit="$out/two-machine.junit.xml"
[[ "$suite_kind" == sim ]] || junit="$out/suite-guest/two-machine.junit.xml"
args=(conformance --backend "$(backend_of "$suite_kind")" --peer "vmci://$agent_cid:$port" --suite "$suite_program" --junit "$junit")
[[ -z "$filter" ]] || args+=(--filter "$filter")
[[ "$suite_kind" == sim ]] || mkdir -p "$out/suite-guest"
set +e
on_side "$suite_kind" "$suite_cid" suite "$vmci" "${args[@]}" 2>&1 | tee "$out/suite.log"
suite_rc="${PIPESTATUS[0]}"
set -e
[[ "$junit" == "$out/two-machine.junit.xml" || ! -f "$junit" ]] || cp "$junit" "$out/two-machine.junit.xml"

# 3. Stop the agent (SIGTERM: it closes what the suite left open and exits 0; a guest is powered off).
kill -TERM "$agent_pid" 2>/dev/null || true
agent_rc=0
wait "$agent_pid" || agent_rc=$?
agent_pid=""
if [[ "$agent_kind" == sim && "$agent_rc" -ne 0 ]]; then
  echo "two-machine: the agent exited $agent_rc after SIGTERM (see $out/agent.log)" >&2
  [[ "$suite_rc" -ne 0 ]] || suite_rc=1
fi

summary_flags=()
if ((no_skips)); then summary_flags+=(--no-skips "${allowed_skips[@]}"); fi
if [[ -s "$out/two-machine.junit.xml" ]]; then
  counts="$(python3 "$repo/eng/test-summary.py" "${summary_flags[@]}" "$out/two-machine.junit.xml" | tee "$out/summary.txt")" && summary_rc=0 || summary_rc=$?
  grep -v '^tests: ' "$out/summary.txt" >&2 || true
  [[ "$summary_rc" -eq 0 || "$suite_rc" -ne 0 ]] || suite_rc=1
  echo "two-machine $name: $(tail -n 1 <<<"$counts" | sed 's/^tests: //') ($((SECONDS - started)) s)"
else
  echo "two-machine $name: no JUnit report: the suite did not run (exit code $suite_rc)"
  [[ "$suite_rc" -ne 0 ]] || suite_rc=3
fi
exit "$suite_rc"
