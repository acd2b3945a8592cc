#!/usr/bin/env bash
# Before a VM deploy: publish the self-contained conformance bundle and the vmci tool into vagrant/bundle,
# bring up the VMware guests, run the bundle inside each against real VMCI (the same in-guest script CI runs
# in QEMU: eng/guest/run-bundle.sh), start `vmci agent` in each (eng/guest/agent.sh), then run the two-machine
# cases (SPEC §9) from this host (CID 2) against every guest's agent: `vmci conformance --backend vsock --peer
# vmci://CID:PORT`, the same host-side command CI runs against QEMU guests. Collects the JUnit reports into
# vagrant/out (<guest>/conformance.junit.xml, host-<guest>/two-machine.junit.xml: one per pair), destroys the VMs.
# Exit code: the number of failed cases (capped at 254); 255 when the run itself could not be made.
#
# Usage: vagrant/run-conformance.sh [--keep] [--no-pairs] [--provider vmware_desktop|libvirt]
#   --keep       leave the VMs running afterwards (for debugging; destroy with: cd vagrant && vagrant destroy -f)
#   --no-pairs   only the in-guest runs, no host ↔ guest cases
#   The host ↔ guest cases need a Linux host with VMware's vsock (AF_VSOCK on the host, e.g. /dev/vsock) and the
#   vmware_desktop provider; elsewhere they are left out with the reason (macOS hosts: SPEC §6, not supported).
#   VMCI_GUESTS, VMCI_MEMORY, VMCI_CPUS, VMCI_BOX, VMCI_CID_BASE, VMCI_AGENT_PORT are passed to the Vagrantfile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
keep=0
pairs=1
provider="${VMCI_PROVIDER:-vmware_desktop}"
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --no-pairs) pairs=0 ;;
    --provider) provider="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run-conformance.sh: unknown argument '$1' (see --help)" >&2; exit 255 ;;
  esac
  shift
done

for tool in dotnet vagrant python3; do
  command -v "$tool" >/dev/null || { echo "run-conformance.sh: '$tool' is not on PATH" >&2; exit 255; }
done

echo "== publishing the conformance bundle and the vmci tool (linux-x64, self-contained)"
rm -rf "$here/bundle" "$here/out"
mkdir -p "$here/bundle" "$here/out"
dotnet publish "$repo/tests/Conformance/Conformance.csproj" -c Release -r linux-x64 --self-contained \
  -o "$here/bundle/conformance" -nologo -v quiet
dotnet publish "$repo/src/VmciCli/VmciCli.csproj" -c Release -r linux-x64 --self-contained \
  -o "$here/bundle/vmci" -nologo -v quiet

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if ((keep == 0)); then
    echo "== destroying the VMs"
    (cd "$here" && vagrant destroy -f) || true
  else
    echo "== VMs kept (--keep): cd vagrant && vagrant destroy -f"
  fi
}
trap cleanup EXIT

echo "== vagrant up --provider=$provider (provisioning runs the bundle in every guest)"
status=0
(cd "$here" && vagrant up --provider="$provider") || status=$?

guests="${VMCI_GUESTS:-1}"
cid_base="${VMCI_CID_BASE:-3}"
agent_port="${VMCI_AGENT_PORT:-5000}"
legs=()
for ((i = 1; i <= guests; i++)); do
  [[ ! -f "$here/out/guest$i/conformance.junit.xml" ]] || legs+=("guest$i=$here/out/guest$i/conformance.junit.xml")
done

# The host side of every pair: this machine is CID 2; each guest's agent listens on CID base+i-1.
why_no_pairs=""
if ((pairs == 0)); then
  why_no_pairs="--no-pairs"
elif [[ "$provider" != vmware_desktop ]]; then
  why_no_pairs="provider $provider: no VMCI between the host and its guests"
elif [[ "$(uname -s)" != Linux ]]; then
  why_no_pairs="the host is $(uname -s): the published vmci tool is linux-x64 (SPEC §6: no VM-host VMCI on macOS)"
elif [[ ! -e /dev/vsock ]] && ! grep -q -E '^(vsock|vmw_vsock_vmci_transport) ' /proc/modules 2>/dev/null; then
  why_no_pairs="this host has no AF_VSOCK (load VMware's vsock: modprobe vmw_vsock_vmci_transport)"
fi
if [[ -n "$why_no_pairs" ]]; then
  echo "== host ↔ guest two-machine cases: not run ($why_no_pairs)"
else
  for ((i = 1; i <= guests; i++)); do
    cid=$((cid_base + i - 1))
    pair="$here/out/host-guest$i"
    mkdir -p "$pair"
    echo "== host (CID 2) ↔ guest$i (CID $cid): vmci conformance --peer vmci://$cid:$agent_port"
    "$here/bundle/vmci/vmci" conformance --backend vsock --peer "vmci://$cid:$agent_port" \
      --suite "$here/bundle/conformance/Conformance" --junit "$pair/two-machine.junit.xml" --json "$pair/two-machine.json" \
      2>&1 | tee "$pair/conformance.log" || true
    [[ ! -f "$pair/two-machine.junit.xml" ]] || legs+=("host↔guest$i=$pair/two-machine.junit.xml")
  done
fi

echo "== results"
if ((${#legs[@]} == 0)); then
  echo "run-conformance.sh: no JUnit report came back from any guest (vagrant up exited $status)" >&2
  exit 255
fi
echo "JUnit reports: $here/out/<guest>/ (in the guest), $here/out/host-<guest>/ (host ↔ guest)"
python3 "$repo/eng/test-summary.py" --exit-failures "${legs[@]}"
