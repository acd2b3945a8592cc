#!/usr/bin/env bash
# Runs PROGRAM [ARGS...] inside a throw-away QEMU guest (Debian's kernel, TCG, no network) with a real AF_VSOCK.
# Never opens AF_VSOCK on this machine. Two kinds of guest:
#
#   eng/guest-run.sh PROGRAM [ARGS...]
#       the kernel's vsock_loopback module: local CID 1, the guest talks to itself only.
#   eng/guest-run.sh --fabric DIR --cid N PROGRAM [ARGS...]
#       the guest is CID N of the simulator fabric DIR: a vhost-user-vsock-pci device served by `vmci vhost`
#       (started before QEMU, stopped after it; its log is vhost.log in the output folder) and the guest's
#       vmw_vsock_virtio_transport — no vsock_loopback. It reaches the host side (CID 2: `vmci ... --fabric DIR`),
#       other guests of the fabric (topology permitting) and itself through CID 1; they reach any of its ports.
#
#   eng/guest-run.sh tests/Conformance/bin/Release/net10.0/linux-x64/publish/Conformance -junit artifacts/guest/kernel.junit.xml
#
# The host's root is shared read-only and the guest chroots into it, so PROGRAM, its arguments and the
# working directory keep their host paths. The guest's own writable scratch space is a tmpfs on /run
# (TMPDIR=/run/tmp, HOME=/run/home); the host's /tmp stays visible, read-only.
# The output folder (GUEST_OUT, default artifacts/guest) is shared writable at the same path: what the
# program writes there (JUnit XML, logs) is on the host afterwards, with console.log and program.log.
# In the guest, eng/guest/run-bundle.sh runs the program with VMCI_BACKEND=vsock (VMCI_TRANSPORT_MODE when set
# here, and, with --fabric, VMCI_GUEST_CID=N).
# Several guests at once (e.g. a pair on one fabric): one GUEST_OUT each (a guest locks its output folder);
# everything else (socket, initramfs, work files) is private to each run.
#
# Environment: VMCI_TRANSPORT_MODE (passed into the guest), GUEST_OUT (output folder), GUEST_TIMEOUT (seconds,
# default 540), GUEST_CACHE (kernel cache, default .cache/guest in the repo), GUEST_KERNEL_VERSION (default: what
# linux-image-amd64 depends on), GUEST_EXTRA_MODULES (more kernel modules, e.g. vsock_loopback beside the device
# for a comparison), VMCI_TOOL (with --fabric: the vmci executable; default artifacts/vmci/vmci, the output of
# `dotnet publish src/VmciCli -c Release -r linux-x64 --self-contained -o artifacts/vmci`).
# Exit code: the program's; 124 when the guest timed out; 125 when the guest never reported one or, with
# --fabric, when the device could not start or failed.
set -euo pipefail

die() { printf 'guest-run: %s\n' "$*" >&2; exit 125; }
usage="usage: eng/guest-run.sh [--fabric DIR --cid N] PROGRAM [ARGS...]"
fabric=""
cid=""
while [[ $# -gt 0 && "$1" == --* ]]; do
  case "$1" in
    --fabric) [[ $# -ge 2 ]] || die "$usage"; fabric="$2"; shift 2 ;;
    --cid) [[ $# -ge 2 && "$2" =~ ^[0-9]+$ ]] || die "--cid takes a decimal CID; $usage"; cid="$2"; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option $1; $usage" ;;
  esac
done
[[ $# -ge 1 ]] || die "$usage"
[[ -z "$fabric" && -z "$cid" ]] || [[ -n "$fabric" && -n "$cid" ]] || die "--fabric and --cid go together; $usage"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cache="${GUEST_CACHE:-$repo/.cache/guest}"
out="${GUEST_OUT:-$repo/artifacts/guest}"
timeout_s="${GUEST_TIMEOUT:-540}"
mkdir -p "$cache" "$out"
cache="$(cd "$cache" && pwd -P)"
out="$(cd "$out" && pwd -P)"
cwd="$(pwd -P)"

program="$1"
shift
[[ "$program" == */* ]] || program="$(command -v "$program" || true)"
[[ -n "$program" && -e "$program" ]] || die "program '$1' not found"
program="$(cd "$(dirname "$program")" && pwd -P)/$(basename "$program")"
for arg in "$program" "$@" "$out" "$cwd"; do
  [[ "$arg" != *$'\n'* ]] || die "arguments and paths must not contain newlines"
done
for tool in qemu-system-x86_64 busybox cpio apt-get dpkg; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install --no-install-recommends qemu-system-x86 busybox-static cpio)"
done
if [[ -n "$fabric" ]]; then
  vmci_tool="${VMCI_TOOL:-$repo/artifacts/vmci/vmci}"
  [[ -x "$vmci_tool" ]] || die "no vmci tool at $vmci_tool: set VMCI_TOOL or publish it (dotnet publish src/VmciCli -c Release -r linux-x64 --self-contained -o artifacts/vmci)"
  mkdir -p "$fabric"
  fabric="$(cd "$fabric" && pwd -P)"
fi
# One guest per output folder: the lock lives as long as this script.
exec 9>"$out/.guest-run.lock"
flock -n 9 || die "another guest is using the output folder $out (give each guest its own GUEST_OUT)"

# 1. Debian's kernel: downloaded once, unpacked with dpkg -x, never installed.
ver="${GUEST_KERNEL_VERSION:-$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n 1)}"
[[ -n "$ver" ]] || die "cannot find the kernel version (apt-cache depends linux-image-amd64); run apt-get update"
kdir="$cache/linux-$ver"
if [[ ! -f "$kdir/boot/vmlinuz-$ver" ]]; then
  echo "guest-run: fetching linux-image-$ver into $cache"
  (cd "$cache" && rm -f linux-image-"$ver"_*.deb && apt-get download "linux-image-$ver" >/dev/null 2>&1) ||
    die "apt-get download linux-image-$ver failed"
  rm -rf "$kdir.partial" && dpkg -x "$cache"/linux-image-"$ver"_*.deb "$kdir.partial" && mv "$kdir.partial" "$kdir"
  rm -f "$cache"/linux-image-"$ver"_*.deb
fi
moddir="$kdir/lib/modules/$ver/kernel"

# 2. The initramfs: busybox, the modules (dependencies first, from each .ko's modinfo), the command and /init.
work="$(mktemp -d)"
qemu_pid=""
device_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  [[ -z "$qemu_pid" ]] || kill -KILL "$qemu_pid" 2>/dev/null || true
  if [[ -n "$device_pid" ]]; then
    kill -TERM "$device_pid" 2>/dev/null || true
    wait "$device_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,mnt/host,modules}
cp "$(command -v busybox)" "$root/bin/busybox"

declare -A seen=()
order=()
add_module() {
  local name="$1" file deps dep
  [[ -z "${seen[$name]:-}" ]] || return 0
  seen[$name]=1
  file="$(find "$moddir" -name "$name.ko" -print -quit)"
  if [[ -z "$file" ]]; then
    grep -q "/$name.ko\$" "$kdir/lib/modules/$ver/modules.builtin" 2>/dev/null && return 0
    echo "guest-run: module $name not found (optional)" >&2
    return 0
  fi
  deps="$(grep -a -o 'depends=[^[:cntrl:]]*' "$file" | head -n 1 | cut -d= -f2)"
  for dep in ${deps//,/ }; do add_module "${dep//-/_}"; done
  cp "$file" "$root/modules/"
  order+=("$name")
}
transport=vsock_loopback
[[ -z "$fabric" ]] || transport=vmw_vsock_virtio_transport
# shellcheck disable=SC2086 # GUEST_EXTRA_MODULES is a list
for m in virtio_pci 9pnet_virtio 9p "$transport" ${GUEST_EXTRA_MODULES:-}; do add_module "$m"; done
printf '%s\n' "${order[@]}" >"$root/modules/order"
printf '%s\n' "$out" "$cwd" "$repo/eng/guest/run-bundle.sh" "$program" "$@" >"$root/command"
# The guest starts from an empty environment; these variables are passed in when set (plain words only).
passed=(VMCI_TRANSPORT_MODE)
: >"$root/environment"
for name in "${passed[@]}"; do
  value="${!name:-}"
  [[ -n "$value" ]] || continue
  [[ "$value" =~ ^[A-Za-z0-9_.-]+$ ]] || die "$name='$value': only letters, digits, _ . - are passed into the guest"
  printf '%s=%s\n' "$name" "$value" >>"$root/environment"
done
[[ -z "$cid" ]] || printf 'VMCI_GUEST_CID=%s\n' "$cid" >>"$root/environment"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "guest: kernel $(uname -r) up after $(cut -d' ' -f1 /proc/uptime) s"
while read -r m; do insmod "/modules/$m.ko" || echo "guest: insmod $m failed"; done </modules/order
echo "guest: vsock modules: $(grep -o -E '^(vsock_loopback|vmw_vsock_virtio_transport) ' /proc/modules | tr '\n' ' ')"
ip link set lo up
set --
{ read -r out; read -r cwd; while IFS= read -r a; do set -- "$@" "$a"; done; } </command
rc=125
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 host /mnt/host; then
  mount -t proc proc /mnt/host/proc && mount -t sysfs sys /mnt/host/sys && mount -t devtmpfs dev /mnt/host/dev &&
    mount -t tmpfs run /mnt/host/run && mkdir -p /mnt/host/run/tmp /mnt/host/run/home &&
    mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 out "/mnt/host$out" &&
    chroot /mnt/host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/run/home TMPDIR=/run/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 VMCI_GUEST_OUT="$out" $(cat /environment) \
      /bin/sh -c 'cd "$1" && shift && exec /bin/sh "$@"' guest "$cwd" "$@"
  rc=$?
else
  echo "guest: mounting the host root failed"; dmesg | tail -n 30
fi
sync
echo "GUEST-EXIT-CODE=$rc"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

# 3. With --fabric: the vhost-user device, listening before QEMU starts (QEMU connects once, at start).
vsock_device=()
if [[ -n "$fabric" ]]; then
  socket="$work/vhost.sock"
  "$vmci_tool" vhost --fabric "$fabric" --cid "$cid" --socket "$socket" >"$out/vhost.log" 2>&1 &
  device_pid=$!
  for _ in $(seq 600); do
    grep -q '^vhost: listening on ' "$out/vhost.log" && break
    kill -0 "$device_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^vhost: listening on ' "$out/vhost.log"; then
    cat "$out/vhost.log" >&2
    die "the vhost-user device for CID $cid did not start (see $out/vhost.log)"
  fi
  # The device maps guest RAM: it must be a shared memfd.
  # shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
  vsock_device=(-object "memory-backend-memfd,id=mem,size=2048M,share=on" -machine memory-backend=mem
    -chardev "socket,id=vhu0,path=$socket" -device vhost-user-vsock-pci,chardev=vhu0)
fi

# 4. Boot under TCG (KVM hangs on this kind of machine) with our own timeout; the console goes to console.log.
console="$out/console.log"
echo "guest-run: booting Linux $ver under TCG (timeout ${timeout_s}s), output in $out${fabric:+, CID $cid of fabric $fabric}"
start=$(date +%s)
: >"$console"
# debug-threads: the vCPU threads are named "CPU n/TCG" (eng/guest/host-cpu.py tells them from QEMU's other threads).
qemu-system-x86_64 -name guest,debug-threads=on -accel tcg,thread=multi -cpu max -m 2048 -smp 2 -nographic -no-reboot -nic none \
  "${vsock_device[@]}" \
  -kernel "$kdir/boot/vmlinuz-$ver" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap" \
  </dev/null >"$console" 2>&1 &
qemu_pid=$!
tail -n +1 -f --pid="$qemu_pid" "$console" &
tail_pid=$!
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
  if (($(date +%s) - start >= timeout_s)); then
    timed_out=1
    kill -KILL "$qemu_pid" 2>/dev/null || true
    break
  fi
  sleep 1
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
wait "$tail_pid" 2>/dev/null || true
echo "guest-run: guest ran $(($(date +%s) - start)) s"

if [[ -n "$device_pid" ]]; then
  # QEMU is gone, so the device has ended or ends now (TERM is its normal stop: exit code 0).
  kill -TERM "$device_pid" 2>/dev/null || true
  device_rc=0
  wait "$device_pid" || device_rc=$?
  device_pid=""
  if ((device_rc != 0)); then
    tail -n 5 "$out/vhost.log" >&2
    die "the vhost-user device for CID $cid failed (exit code $device_rc, see $out/vhost.log)"
  fi
fi

rc="$(sed -n 's/^GUEST-EXIT-CODE=\([0-9]*\).*/\1/p' "$console" | tail -n 1)"
if ((timed_out)); then
  echo "guest-run: TIMEOUT after ${timeout_s}s; guest killed" >&2
  exit 124
fi
[[ -n "$rc" ]] || die "the guest ended without reporting an exit code (see $console)"
echo "guest-run: program exit code $rc"
exit "$rc"
