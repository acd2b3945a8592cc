#!/bin/sh
# Runs PROGRAM [ARGS...] on this machine's real AF_VSOCK, inside a guest: the QEMU guest of
# eng/guest-run.sh, or a VMware VM (a Vagrant provisioner calls this same script). It knows nothing about
# the hypervisor: it makes sure a vsock transport is loaded — one already loaded is kept (the QEMU guest on a
# simulator fabric comes with vmw_vsock_virtio_transport and must not get vsock_loopback), else
# vmw_vsock_vmci_transport under VMware, else vsock_loopback — runs the program with VMCI_BACKEND=vsock
# (VMCI_TRANSPORT_MODE, direct or relay, is passed on from the environment) and writes into the output folder:
#   program.log  (the program's stdout and stderr, also echoed here)
#   exit-code    (the program's exit code)
#
#   VMCI_GUEST_OUT=/path/to/out eng/guest/run-bundle.sh ./Conformance -junit /path/to/out/kernel.junit.xml
#
# Environment: VMCI_GUEST_OUT (output folder, default ./guest-out), VSOCK_MODULE_DIR (optional folder of
# .ko files for insmod when modprobe cannot find the modules).
# Exit code: the program's; 125 when no vsock transport can be loaded or the program is missing.
set -u

out="${VMCI_GUEST_OUT:-./guest-out}"
if [ $# -lt 1 ]; then
  echo "run-bundle: usage: VMCI_GUEST_OUT=DIR run-bundle.sh PROGRAM [ARGS...]" >&2
  exit 125
fi
mkdir -p "$out" || exit 125

loaded() { grep -q "^$1 " /proc/modules 2>/dev/null; }

# Loads module $1 with modprobe, or with insmod from VSOCK_MODULE_DIR; true when it is (now) loaded.
load() {
  loaded "$1" && return 0
  if command -v modprobe >/dev/null 2>&1 && modprobe "$1" 2>/dev/null; then
    return 0
  fi
  if [ -n "${VSOCK_MODULE_DIR:-}" ] && [ -f "$VSOCK_MODULE_DIR/$1.ko" ]; then
    insmod "$VSOCK_MODULE_DIR/$1.ko" 2>/dev/null && return 0
  fi
  loaded "$1"
}

transport=""
if loaded vmw_vsock_vmci_transport || loaded vsock_loopback || loaded vmw_vsock_virtio_transport; then
  transport="$(grep -o -E '^(vmw_vsock_vmci_transport|vsock_loopback|vmw_vsock_virtio_transport) ' /proc/modules | tr '\n' ' ')"
elif [ -e /sys/bus/pci/drivers/vmw_vmci ] || grep -q -i vmware /sys/class/dmi/id/sys_vendor 2>/dev/null; then
  load vmw_vsock_vmci_transport && transport="vmw_vsock_vmci_transport"
fi
if [ -z "$transport" ]; then
  load vsock_loopback && transport="vsock_loopback"
fi
if [ -z "$transport" ]; then
  echo "run-bundle: no vsock transport: none loaded, and neither vmw_vsock_vmci_transport nor vsock_loopback could be loaded" >&2
  echo 125 >"$out/exit-code"
  exit 125
fi
echo "run-bundle: vsock transport: $transport; /dev/vsock: $([ -e /dev/vsock ] && echo present || echo absent)"
echo "run-bundle: VMCI_TRANSPORT_MODE=${VMCI_TRANSPORT_MODE:-} (empty: direct, the default)"

program="$1"
shift
if [ ! -x "$program" ] && ! command -v "$program" >/dev/null 2>&1; then
  echo "run-bundle: program '$program' not found or not executable" >&2
  echo 125 >"$out/exit-code"
  exit 125
fi

echo "run-bundle: start $(date -u +%H:%M:%S) (uptime $(cut -d' ' -f1 /proc/uptime) s): $program $*"
# The program writes to its log file, not to a pipe, and the log is echoed by a tail that ends with the program: a child
# it leaves behind (a test that failed before its socat's peer came) must not hold the runner's pipe open — the end of
# the program would never be seen.
: >"$out/program.log"
VMCI_BACKEND=vsock "$program" "$@" >>"$out/program.log" 2>&1 </dev/null &
program_pid=$!
tail -n +1 -f --pid="$program_pid" "$out/program.log" &
tail_pid=$!
rc=0
wait "$program_pid" || rc=$?
wait "$tail_pid"
echo "$rc" >"$out/exit-code"
echo "run-bundle: end $(date -u +%H:%M:%S) (uptime $(cut -d' ' -f1 /proc/uptime) s), exit code $rc"
exit "$rc"
