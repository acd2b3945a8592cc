#!/usr/bin/env bash
# Packs the libraries and the tool, then builds, runs and tests samples/ against the packed packages from a local
# folder feed, as a user would (no project references). Exits non-zero on any failure.
#
#   eng/sample.sh
#
# Environment:
#   VMCI_PACKAGES  the folder feed (default artifacts/packages); SAMPLE_NO_PACK=1 uses the packages already in it
#   NUGET_PACKAGES the samples' own package cache (default artifacts/sample/nuget-packages), so a repacked 0.1.0
#                  is never confused with an older one in the user's global cache
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export VMCI_PACKAGES="${VMCI_PACKAGES:-$root/artifacts/packages}"
export NUGET_PACKAGES="${NUGET_PACKAGES:-$root/artifacts/sample/nuget-packages}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '[sample %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [[ "${SAMPLE_NO_PACK:-}" != 1 ]]; then
  log "dotnet pack Harness.sln -> $VMCI_PACKAGES"
  rm -rf "$VMCI_PACKAGES"
  dotnet pack Harness.sln -c Release -o "$VMCI_PACKAGES" -warnaserror -v quiet -nologo
fi
shopt -s nullglob
packages=("$VMCI_PACKAGES"/Vmci.Transport.*.nupkg)
[[ ${#packages[@]} -eq 1 ]] || { echo "error: expected one Vmci.Transport package in $VMCI_PACKAGES, found ${#packages[@]}" >&2; exit 1; }
VmciVersion="$(basename "${packages[0]}" .nupkg)"
export VmciVersion="${VmciVersion#Vmci.Transport.}"
log "packages $VmciVersion: $(cd "$VMCI_PACKAGES" && echo *.nupkg)"

# Every package has its metadata: README, licence expression, symbols beside it.
for nupkg in "$VMCI_PACKAGES"/*.nupkg; do
  id="$(basename "$nupkg" ".$VmciVersion.nupkg")"
  nuspec="$(unzip -p "$nupkg" "$id.nuspec")"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || { echo "error: $id has no MIT licence expression" >&2; exit 1; }
  grep -q '<readme>README.md</readme>' <<<"$nuspec" || { echo "error: $id has no README" >&2; exit 1; }
  [[ -f "${nupkg%.nupkg}.snupkg" ]] || { echo "error: $id has no symbol package" >&2; exit 1; }
done

# A repacked version must not be served from the samples' cache.
rm -rf "$NUGET_PACKAGES"/vmci.*
rm -rf samples/*/bin samples/*/obj

log "HelloVmci: dotnet run"
dotnet run --project samples/HelloVmci -c Release

log "HelloVmci.Tests: dotnet test"
dotnet test samples/HelloVmci.Tests -c Release --logger "console;verbosity=normal"

log "the vmci tool from the feed: dotnet tool install Vmci.Cli, then vmci cid on the simulator"
tools="$root/artifacts/sample/tool"
fabric="$(mktemp -d)"
trap 'rm -rf "$fabric"' EXIT
rm -rf "$tools"
dotnet tool install Vmci.Cli --version "$VmciVersion" --tool-path "$tools" --add-source "$VMCI_PACKAGES"
cid="$("$tools/vmci" cid --cid 7 --fabric "$fabric")"
[[ "$cid" == 7 ]] || { echo "error: vmci cid printed '$cid', expected 7" >&2; exit 1; }
log "ok: sample ran, its tests passed, the tool answered"
