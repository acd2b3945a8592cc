#!/usr/bin/env bash
# Build the integration-test images locally, with nothing pulled from a registry.
#
#   eng/docker/build-images.sh [PUBLISH_DIR [EXE_NAME]]
#
# 1. vmci-harness/base:bookworm — `debootstrap --variant=minbase bookworm` (cached), trimmed, then
#    `docker import`ed: libc, libstdc++, libgcc, zlib, OpenSSL (.NET's RandomNumberGenerator on Linux); enough for a self-contained .NET program with
#    InvariantGlobalization (no ICU).
# 2. vmci-harness/peer:dev — the base plus PUBLISH_DIR (a self-contained linux-x64 publish output)
#    copied to /opt/vmci-peer; its entry point runs /opt/vmci-peer/EXE_NAME with the container's
#    command as arguments. EXE_NAME defaults to the name of the only *.runtimeconfig.json in PUBLISH_DIR.
#    Without PUBLISH_DIR only the base image is built.
#
# Each image carries the label vmci-harness.input-hash; an image whose inputs did not change is
# not rebuilt. Environment:
#   DEBIAN_MIRROR      (default http://deb.debian.org/debian)
#   VMCI_HARNESS_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/vmci-harness): the debootstrap cache
#   BASE_IMAGE / PEER_IMAGE to override the image names; DOCKER (default /usr/bin/docker)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
docker_bin="${DOCKER:-/usr/bin/docker}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
cache="${VMCI_HARNESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmci-harness}"
base_image="${BASE_IMAGE:-vmci-harness/base:bookworm}"
peer_image="${PEER_IMAGE:-vmci-harness/peer:dev}"
label=vmci-harness.input-hash

suite=bookworm
variant=minbase
includes=libstdc++6,libgcc-s1,zlib1g,libssl3
# Removed from the root file system after debootstrap: not needed at run time.
trim=(var/cache/apt var/lib/apt/lists usr/share/doc usr/share/man usr/share/info usr/share/locale)

log() { printf '[build-images %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
sha() { sha256sum | cut -c1-64; }
image_label() { "$docker_bin" image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null || true; }

# The image a rebuild replaced, once nothing refers to it any more (no tag, no container).
remove_if_dangling() {
  [[ -n "$1" ]] || return 0
  if [[ -z "$("$docker_bin" image inspect -f '{{join .RepoTags ","}}' "$1" 2>/dev/null)" ]]; then
    "$docker_bin" image rm "$1" >/dev/null 2>&1 || true
  fi
}

build_base() {
  local hash rootfs tmp start old_id
  hash="$(printf '%s\n' "$suite" "$variant" "$includes" "${trim[@]}" | sha)"
  if [[ "$(image_label "$base_image")" == "$hash" ]]; then
    log "$base_image is up to date (input hash ${hash:0:12})"
    return
  fi
  rootfs="$cache/rootfs-$suite-${hash:0:12}"
  if [[ ! -f "$rootfs/.vmci-harness-complete" ]]; then
    command -v debootstrap >/dev/null || { echo "error: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
    tmp="$rootfs.tmp"
    rm -rf "$tmp" && mkdir -p "$cache"
    log "debootstrap --variant=$variant --include=$includes $suite from $mirror"
    start=$SECONDS
    if ! debootstrap --variant="$variant" --include="$includes" "$suite" "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1; then
      echo "error: debootstrap failed; last lines of $cache/debootstrap.log:" >&2
      tail -n 20 "$cache/debootstrap.log" >&2
      exit 1
    fi
    for d in "${trim[@]}"; do rm -rf "${tmp:?}/$d" && mkdir -p "$tmp/$d"; done
    touch "$tmp/.vmci-harness-complete"
    rm -rf "$rootfs" && mv "$tmp" "$rootfs"
    log "debootstrap done in $((SECONDS - start))s ($(du -sh "$rootfs" | cut -f1))"
  else
    log "reusing cached root file system $rootfs"
  fi
  old_id="$("$docker_bin" image inspect -f '{{.Id}}' "$base_image" 2>/dev/null || true)"
  start=$SECONDS
  tar --numeric-owner --exclude=./.vmci-harness-complete -C "$rootfs" -c . |
    "$docker_bin" import \
      --change "LABEL $label=$hash" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/sh"]' \
      - "$base_image" >/dev/null
  remove_if_dangling "$old_id"
  log "imported $base_image in $((SECONDS - start))s"
}

build_peer() {
  local dir="$1" exe="${2:-}" hash start configs old_id
  [[ -d "$dir" ]] || { echo "error: publish directory '$dir' does not exist" >&2; exit 1; }
  dir="$(cd "$dir" && pwd)"
  if [[ -z "$exe" ]]; then
    mapfile -t configs < <(cd "$dir" && ls -- *.runtimeconfig.json 2>/dev/null)
    [[ ${#configs[@]} -eq 1 ]] || { echo "error: pass EXE_NAME: found ${#configs[@]} *.runtimeconfig.json in $dir" >&2; exit 1; }
    exe="${configs[0]%.runtimeconfig.json}"
  fi
  [[ -x "$dir/$exe" ]] || { echo "error: '$dir/$exe' is not an executable (expected a self-contained linux-x64 publish)" >&2; exit 1; }
  [[ -f "$dir/libcoreclr.so" ]] || { echo "error: $dir is not self-contained (no libcoreclr.so); publish with -r linux-x64 --self-contained" >&2; exit 1; }
  hash="$( {
    "$docker_bin" image inspect -f '{{.Id}}' "$base_image"
    printf '%s\n' "$exe"
    cat "$here/peer.Dockerfile"
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha)"
  if [[ "$(image_label "$peer_image")" == "$hash" ]]; then
    log "$peer_image is up to date (input hash ${hash:0:12})"
    return
  fi
  old_id="$("$docker_bin" image inspect -f '{{.Id}}' "$peer_image" 2>/dev/null || true)"
  start=$SECONDS
  DOCKER_BUILDKIT=0 "$docker_bin" build --quiet --network none --pull=false \
    -f "$here/peer.Dockerfile" \
    --build-arg "BASE_IMAGE=$base_image" --build-arg "PEER_EXE=$exe" \
    --label "$label=$hash" -t "$peer_image" "$dir" >/dev/null
  log "built $peer_image ($exe from $dir) in $((SECONDS - start))s"
  remove_if_dangling "$old_id"
}

build_base
if [[ $# -ge 1 ]]; then
  build_peer "$1" "${2:-}"
fi
"$docker_bin" image ls --filter "reference=vmci-harness/*" --format '{{.Repository}}:{{.Tag}}  {{.Size}}'
