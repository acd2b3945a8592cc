#!/usr/bin/env bash
# Throughput through the vhost-user device, next to vsock_loopback in the same guest (docs/vhost-user.md):
# boots one guest (CID 3 of a fresh fabric; vsock_loopback loaded beside the device for the comparison only) and
# moves SIZE MiB three ways, ROUNDS times each, alternating:
#   guest → host      the guest's sender → the device → `vmci cat --listen` on the fabric (CID 2), to /dev/null
#   host → guest      `vmci cat` on the fabric (CID 2) → the device → the guest's sink
#   loopback          sender → sink through CID 1 (vsock_loopback), both in the guest
# The guest's endpoints: socat (-b 131072, from /dev/zero, the sink behind a pipe; the default) or, with --tool python,
# eng/guest/vsock-stream.py (1 MiB buffers, no /dev/zero, no pipe: less guest CPU per byte); --window BYTES gives its
# sockets that SO_VM_SOCKETS_BUFFER_SIZE instead of the kernel's 256 KiB (the most a Linux guest keeps in flight).
# With --pair: boots two guests (CIDs 3 and 4, one device each) and moves SIZE MiB from guest 3 to guest 4, ROUNDS
# times (guest → guest through the fabric).
# Every rate is timed at the receiving side, from the first byte to the end of stream (guest → host: on the host,
# behind `vmci cat`), so no process start-up is in it. Prints one line per measurement, the medians, the device /
# loopback ratio of each round (the two transfers of a round run back to back, so a slow spell of the TCG guest touches
# both), the device's hand-offs with the guest per MiB and the timings of both sides (its closing line), and where the host's CPU went during each transfer (eng/guest/host-cpu.py:
# the guest's vCPUs, QEMU's other threads, the device, vmci cat).
#
#   eng/guest/fabric-bench.sh [--pair] [--tool socat|python] [--window BYTES] [VMCI] [SIZE_MIB] [ROUNDS]  (defaults: artifacts/vmci/vmci, 256, 3)
#   eng/guest/fabric-bench.sh guest|pair-a|pair-b RUN SIZE_MIB ROUNDS TOOL [WINDOW]  (the guest halves; run by the first form)
set -euo pipefail

if [[ "${1:-}" == guest || "${1:-}" == pair-a || "${1:-}" == pair-b ]]; then
  role="$1" run="$2" size=$(( $3 * 1048576 )) rounds="$4" tool="${5:-socat}" window="${6:-}"
  out="${VMCI_GUEST_OUT:?}"
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
  now() { date +%s%N; }
  rate() { echo "$(( $1 * 1000 / (($3 - $2) / 1000) ))"; } # bytes, start ns, end ns -> KB/s (1000-based ms)
  # listening PORT: until a vsock socket listens on PORT (ss needs vsock_diag; socat starts slowly: its binary comes over 9p).
  listening() { until ss -l --vsock | grep -q ":$1 "; do sleep 0.1; done; }
  # sink PORT NAME: listens, times from the first byte to the end of stream, writes NAME's rate.
  sink() {
    if [[ "$tool" == python ]]; then
      python3 "$here/vsock-stream.py" sink "$1" "$out/$2" ${window:+"$window"}
      return
    fi
    socat -u -b 131072 "VSOCK-LISTEN:$1" STDOUT | { head -c 1 >/dev/null; s=$(now); n=$(wc -c); e=$(now); rate "$n" "$s" "$e" >"$out/$2"; }
  }
  # send_to CID PORT: sends SIZE bytes.
  send_to() {
    if [[ "$tool" == python ]]; then
      python3 "$here/vsock-stream.py" send "$1" "$2" "$size" ${window:+"$window"}
    else
      socat -u -b 131072 "OPEN:/dev/zero,readbytes=$size" "VSOCK-CONNECT:$1:$2"
    fi
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
      send_to 4 5003
    done
    exit 0
  fi
  for r in $(seq "$rounds"); do
    # guest → host: the host's sink for this round listens on the port in RUN/host.port.ROUND
    until [ -s "$run/host.port.$r" ]; do sleep 0.1; done
    send_to 2 "$(cat "$run/host.port.$r")"
    until [ -s "$run/host.rate.$r" ]; do sleep 0.1; done
    echo "guest→host round $r: $(cat "$run/host.rate.$r") KB/s"
    # host → guest: listen, tell the host, wait for the stream to end
    sink 5001 "in.$r" &
    listening 5001
    echo "$r" >"$out/ready.$r"
    wait
    echo "host→guest round $r: $(cat "$out/in.$r") KB/s"
    # loopback, for comparison: both ends in this guest, through CID 1
    sink 5002 "loop.$r" &
    listening 5002
    send_to 1 5002
    wait
    echo "loopback round $r: $(cat "$out/loop.$r") KB/s"
  done
  exit 0
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
pair=0
tool=socat
window=
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --pair) pair=1; shift ;;
    --tool) [[ "${2:-}" == socat || "${2:-}" == python ]] || { echo "fabric-bench: --tool takes socat or python" >&2; exit 2; }; tool="$2"; shift 2 ;;
    --window)
      if ! [[ "${2:-}" =~ ^[1-9][0-9]{3,9}$ ]] || (($2 < 4096 || $2 > 1073741824)); then
        echo "fabric-bench: --window takes a byte count from 4096 to 1073741824" >&2
        exit 2
      fi
      window="$2"
      shift 2 ;;
    *) echo "fabric-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -z "$window" || "$tool" == python ]] || { echo "fabric-bench: --window needs --tool python" >&2; exit 2; }
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
  # A host sink still waiting for a guest that failed early is not in pids (it runs inside a pipeline): anything on
  # this run's fabric goes.
  pkill -TERM -f -- "--fabric $fabric " 2>/dev/null || true
  rm -rf "$fabric"
}
trap cleanup EXIT

# median [FORMAT]: the median of the numbers on stdin, printed with FORMAT (default %d).
median() { sort -n | awk -v fmt="${1:-%d}" '{ v[NR] = $1 } END { printf fmt "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if ((pair)); then
  GUEST_EXTRA_MODULES=vsock_diag GUEST_OUT="$out/b" GUEST_TIMEOUT=1800 VMCI_TOOL="$vmci" \
    "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 4 "$repo/eng/guest/fabric-bench.sh" pair-b "$out" "$size_mib" "$rounds" "$tool" "$window" >"$out/b.log" 2>&1 &
  pids+=($!)
  GUEST_OUT="$out/a" GUEST_TIMEOUT=1800 VMCI_TOOL="$vmci" \
    "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 3 "$repo/eng/guest/fabric-bench.sh" pair-a "$out" "$size_mib" "$rounds" "$tool" "$window" >"$out/a.log" 2>&1
  wait "${pids[-1]}"
  tr -d '\r' <"$out/b.log" | grep '^guest→guest round' | tee "$out/run.log"
  kbs="$(sed 's/.*: \([0-9]*\) KB\/s/\1/' "$out/run.log" | median)"
  echo "median guest→guest: $((kbs * 1000 / 1048576)) MiB/s"
  exit 0
fi

# host_sink ROUND: the host's sink for a round's guest → host: one `vmci cat --listen`, its port in host.port.ROUND,
# the rate from its first byte to the end of stream in host.rate.ROUND.
host_sink() {
  "$vmci" cat --listen --fabric "$fabric" --cid 2 'vmci://*:*' </dev/null 2>"$out/sink.$1.log" | {
    head -c 1 >/dev/null
    s=$(date +%s%N)
    n=$(wc -c)
    e=$(date +%s%N)
    echo "$((n * 1000 / ((e - s) / 1000)))" >"$out/host.rate.tmp.$1"
    mv "$out/host.rate.tmp.$1" "$out/host.rate.$1"
  } &
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
  "$repo/eng/guest-run.sh" --fabric "$fabric" --cid 3 "$repo/eng/guest/fabric-bench.sh" guest "$out" "$size_mib" "$rounds" "$tool" "$window" |
  tr -d '\r' | tee "$out/run.log" | grep -E '^(guest→host|host→guest|loopback) round'
for what in guest→host host→guest loopback; do
  kbs="$(grep "^$what round" "$out/run.log" | sed 's/.*: \([0-9]*\) KB\/s/\1/' | median)"
  echo "median $what: $((kbs * 1000 / 1048576)) MiB/s"
done
# ratio WHAT: WHAT's rate over the loopback rate of the same round, one line per round, sorted.
ratio() {
  awk -v what="$1" '$2 == "round" { r = $3 + 0; if ($1 == what) d[r] = $4; if ($1 == "loopback") l[r] = $4 }
    END { for (r in d) if (l[r] > 0) printf "%.2f\n", d[r] / l[r] }' "$out/run.log" | sort -n
}
for what in guest→host host→guest; do
  mapfile -t ratios < <(ratio "$what")
  echo "$what / loopback, per round: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | median %.2f)"
done
# The device's hand-offs with the guest (its closing line), per MiB it carried either way.
tr -d '\r' <"$out/guest/vhost.log" | awk '/ kicks RX / {
    for (i = 1; i <= NF; i++) {
      if ($(i + 1) == "bytes" && $(i + 2) ~ /^(guest→fabric|fabric→guest),?$/) bytes += $i
      if ($i == "wake-ups,") wakeups = $(i - 1)
      if ($i == "kicks") { kicks = $(i + 2) + $(i + 4); kick_tx = $(i + 4) }
      if ($i == "interrupts") { calls = $(i + 2) + $(i + 4); call_tx = $(i + 4) }
    }
    mib = bytes / 1048576
    if (mib > 0) printf "device hand-offs per MiB carried (%.0f MiB): %.1f kicks (TX %.1f), %.1f interrupts (TX %.1f), %.1f wake-ups\n", mib, kicks / mib, kick_tx / mib, calls / mib, call_tx / mib, wakeups / mib
    if (split($0, timing, "; the guest.s kick") == 2) print "the guest\x27s kick" timing[2]
  }'
kill -TERM "$sampler"
wait "$sampler" || true
python3 "$repo/eng/guest/host-cpu.py" summary "$out/host-cpu.csv"
