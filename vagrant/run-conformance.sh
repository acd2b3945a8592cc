#!/usr/bin/env bash
# Before a VM deploy: publish the self-contained conformance bundle and the vmci tool into vagrant/bundle,
# bring up the VMware guests, run the bundle inside each against real VMCI (the same in-guest script CI runs
# in QEMU: eng/guest/run-bundle.sh), collect the JUnit reports into vagrant/out, destroy the VMs.
# Exit code: the number of failed cases (capped at 254); 255 when the run itself could not be made.
#
# Usage: vagrant/run-conformance.sh [--keep] [--provider vmware_desktop|libvirt]
#   --keep       leave the VMs running afterwards (for debugging; destroy with: cd vagrant && vagrant destroy -f)
#   VMCI_GUESTS, VMCI_MEMORY, VMCI_CPUS, VMCI_BOX, VMCI_CID_BASE are passed to the Vagrantfile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
keep=0
provider="${VMCI_PROVIDER:-vmware_desktop}"
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --provider) provider="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
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

echo "== results"
if ! compgen -G "$here/out/*/*.xml" >/dev/null; then
  echo "run-conformance.sh: no JUnit report came back from any guest (vagrant up exited $status)" >&2
  exit 255
fi
echo "JUnit reports: $here/out/<guest>/"
python3 "$repo/eng/test-summary.py" --exit-failures "$here/out"
