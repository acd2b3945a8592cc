#!/usr/bin/env bash
# Throughput through the vhost-user device, next to vsock_loopback in the same guest (docs/vhost-user.md):
# boots one guest (CID 3 of a fresh fabric; vsock_loopback loaded beside the device for the comparison only) and
# moves SIZE MiB with socat (-b 131072) three ways, ROUNDS times each, alternating:
#   guest → host      socat in the guest → the device → `vmci cat --listen` on the fabric (CID 2), to /dev/null
#   host → guest      `vmci cat` on the fabric (CID 2) → the device → socat VSOCK-LISTEN in the guest
#   loopback          socat → socat through CID 1 (vsock_loopback), both ends in the guest
# With --pair: boots two guests (CIDs 3 and 4, one device each) and moves SIZE MiB from socat in guest 3 to socat in
# guest 4, ROUNDS times (guest → guest through the fabric).
# Rates are timed in the guest from the first byte to the end of stream (receiving side) or over the whole send
# (sending side, guest → host). Prints one line per measurement, the medians, and where the host's CPU went during
# each transfer (eng/guest/host-cpu.py: the guest's vCPUs, QEMU's other threads, the device, vmci cat).
#
#   eng/guest/fabric-bench.sh [--pair] [VMCI] [SIZE_MIB] [ROUNDS]   (defaults: artifacts/vmci/vmci, 256, 3)
#   eng/guest/fabric-bench.sh guest|pair-a|pair-b RUN SIZE_MIB ROUNDS  (the guest halves; run by the first form)
set -euo pipefail

if [[ "${1:-}" == guest || "${1:-}" == pair-a || "${1:-}" == pair-b ]]; then
  role="$1" run="$2" size=$(( $3 * 1048576 )) rounds="$4"
  out="${VMCI_GUEST_OUT:?}"
  now() { date +%s%N; }
  rate() { echo "$(( $1 * 1000 / (($3 - $2) / 1000) ))"; } # bytes, start ns, end ns -> KB/s (1000-based ms)
  # sink PORT NAME: listens, times from the first byte to the end of stream, writes NAME's rate.
  # listening PORT: until a vsock socket listens on PORT (ss needs vsock_diag; socat starts slowly: its binary comes over 9p).
  listening() { until ss -l --vsock | grep -q ":$1 "; do sleep 0.1; done; }
  sink() {
    socat -u -b 131072 "VSOCK-LISTEN:$1" STDOUT | { head -c 1 >/dev/null; s=$(now); n=$(wc -c); e=$(now); rate "$n" "$s" "$e" >"$out/$2"; }
  }
  if [[ "$role" == pair-b ]]; then
    for r in $(seq "$rounds"); do
      sink 5003 "pair.$r" &
      listening 5003
      echo "$r" >"$out/ready.$r"
      wait
      echo "guest→guest round $r: $(cat "$out/pair.$r") KB/s"
    done
    exit 0
  fi
  if [[ "$role" == pair-a ]]; then
    for r in $(seq "$rounds"); do
      until [ -s "$run/b/ready.$r" ]; do sleep 0.1; done
      socat -u -b 131072 "OPEN:/dev/zero,readbytes=$size" VSOCK-CONNECT:4:5003
    done
    exit 0
  fi
  for r in $(seq "$rounds"); do
    # guest → host: the host's sink for this round listens on the port in RUN/host.port.ROUND
    until [ -s "$run/host.port.$r" ]; do sleep 0.1; done
    s=$(now)
    socat -u -b 131072 "OPEN:/dev/zero,readbytes=$size" "VSOCK-CONNECT:2:$(cat "$run/host.port.$r")"
    e=$(now)
    echo "guest→host round $r: $(rate "$size" "$s" "$e") KB/s"
    # host → guest: listen, tell the host, wait for the stream to end
    sink 5001 "in.$r" &
    listening 5001
    echo "$r" >"$out/ready.$r"
    wait
    echo "host→guest round $r: $(cat "$out/in.$r") KB/s"
    # loopback, for comparison: both ends in this guest, through CID 1
    sink 5002 "loop.$r" &
    listening 5002
    socat -u -b 131072 "OPEN:/dev/zero,readbytes=$size" VSOCK-CONNECT:1:5002
    wait
    echo "loopback round $r: $(cat "$out/loop.$r") KB/s"
  done
  exit 0
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
pair=0
if [[ "${1:-}" == --pair ]]; then
  pair=1
  shift
fi
vmci="$(realpath "${1:-$repo/artifacts/vmci/vmci}")"
size_mib="${2:-256}"
rounds="${3:-3}"
out="$repo/artifacts/fabric-bench"
rm -rf "$out" && mkdir -p "$out/guest" "$out/a" "$out/b"
fabric="$(mktemp -d)"
pids=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$fabric"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

if ((pair)); then
  GUEST_EXTRA_MODULES=vsock_diag GUEST_OUT="$out/b" GUEST_TIMEOUT=1800 VMCI_TOOL="$vmci" \
    "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 4 "$repo/eng/guest/fabric-bench.sh" pair-b "$out" "$size_mib" "$rounds" >"$out/b.log" 2>&1 &
  pids+=($!)
  GUEST_OUT="$out/a" GUEST_TIMEOUT=1800 VMCI_TOOL="$vmci" \
    "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 3 "$repo/eng/guest/fabric-bench.sh" pair-a "$out" "$size_mib" "$rounds" >"$out/a.log" 2>&1
  wait "${pids[-1]}"
  tr -d '\r' <"$out/b.log" | grep '^guest→guest round' | tee "$out/run.log"
  kbs="$(sed 's/.*: \([0-9]*\) KB\/s/\1/' "$out/run.log" | median)"
  echo "median guest→guest: $((kbs * 1000 / 1048576)) MiB/s"
  exit 0
fi

# host_sink ROUND: the host's sink for a round's guest → host: one `vmci cat --listen`, its port in host.port.ROUND.
host_sink() {
  "$vmci" cat --listen --fabric "$fabric" --cid 2 'vmci://*:*' </dev/null >/dev/null 2>"$out/sink.$1.log" &
  pids+=($!)
  until grep -q 'listening on' "$out/sink.$1.log" 2>/dev/null; do sleep 0.1; done
  sed -n 's/^cat: listening on vmci:\/\/[^:]*:\([0-9]*\).*/\1/p' "$out/sink.$1.log" >"$out/host.port.tmp"
  mv "$out/host.port.tmp" "$out/host.port.$1"
}
# Where the host's CPU goes meanwhile (vCPUs, QEMU, the device, vmci cat), summed up per transfer at the end.
python3 "$repo/eng/guest/host-cpu.py" sample "$out/host-cpu.csv" &
sampler=$!
pids+=("$sampler")
(
  for r in $(seq "$rounds"); do
    host_sink "$r"
    until [[ -s "$out/guest/ready.$r" ]]; do sleep 0.1; done
    head -c $((size_mib * 1048576)) /dev/zero | "$vmci" cat --fabric "$fabric" --cid 2 vmci://3:5001 >/dev/null
  done
) &
pids+=($!)
GUEST_EXTRA_MODULES="vsock_loopback vsock_diag" GUEST_OUT="$out/guest" GUEST_TIMEOUT=1800 VMCI_TOOL="$vmci" \
  "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 3 "$repo/eng/guest/fabric-bench.sh" guest "$out" "$size_mib" "$rounds" |
  tr -d '\r' | tee "$out/run.log" | grep -E '^(guest→host|host→guest|loopback) round'
for what in guest→host host→guest loopback; do
  kbs="$(grep "^$what round" "$out/run.log" | sed 's/.*: \([0-9]*\) KB\/s/\1/' | median)"
  echo "median $what: $((kbs * 1000 / 1048576)) MiB/s"
done
kill -TERM "$sampler"
wait "$sampler" || true
python3 "$repo/eng/guest/host-cpu.py" summary "$out/host-cpu.csv"
