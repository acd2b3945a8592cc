#!/usr/bin/env bash
# Installs the Debian packages the tests need. Idempotent; quiet when everything is there already.
set -euo pipefail
packages=(qemu-system-x86 busybox-static cpio socat shellcheck docker.io debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "packages: ${packages[*]} present"
