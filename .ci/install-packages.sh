#!/usr/bin/env bash
# Installs the Debian packages CI needs: QEMU and busybox for the real-kernel guest, socat as a foreign vsock
# peer there, Docker's engine and debootstrap for the container tests, shellcheck and vagrant for the lint step.
# python3-zmq: a real libzmq client for the `vmci forward` tests (Debian's /usr/bin/python3).
# The package lists are refreshed every time: the guest runner downloads Debian's kernel package with apt-get.
set -euo pipefail
packages=(qemu-system-x86 busybox-static cpio socat shellcheck docker.io debootstrap vagrant python3 python3-zmq)
apt-get update -qq
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "packages present: ${packages[*]}"
