#!/bin/sh
# The guest half of eng/guest/fabric-e2e.sh, run inside a QEMU guest that is a CID of a simulator fabric
# (eng/guest-run.sh --fabric DIR --cid N, whose device is the only vsock transport). Roles:
#   a (CID 3): pings the host's `vmci echo`, says hello to the host's `vmci cat --listen`, serves `vmci echo` and
#              `vmci cat --listen` for the host, sends 32 MiB to guest b with socat, then (topology vmware) tries b again
#   b (CID 4): receives the 32 MiB with `vmci cat --listen` and checksums them, then listens again for the vmware try
# It meets the host and the other guest through files: its own output folder (VMCI_GUEST_OUT, read by the host and by
# the other guest through the read-only host root) and the host's run folder RUN (read-only here).
#
#   fabric-guest.sh a|b RUN VMCI
# Exit code: 0 when every step of the role did what it must.
set -eu
role="${1:?usage: fabric-guest.sh a|b RUN VMCI}"
run="${2:?usage: fabric-guest.sh a|b RUN VMCI}"
vmci="${3:?usage: fabric-guest.sh a|b RUN VMCI}"
out="${VMCI_GUEST_OUT:?VMCI_GUEST_OUT is not set (run through eng/guest/run-bundle.sh)}"
tmp="${TMPDIR:-/tmp}"

other=b
[ "$role" = a ] || other=a

say() { echo "fabric-guest $role: $*"; }
# A failure leaves a mark that the other guest sees, so that it stops waiting for this one.
fail() { say "FAIL: $*" >&2; echo "$*" >"$out/failed"; exit 1; }

# wait_for FILE: until FILE exists (the host or the other guest writes it), at most 600 s; stops when the other guest failed.
wait_for() {
  i=0
  while [ ! -s "$1" ]; do
    [ ! -s "$run/$other/failed" ] || fail "guest $other failed: $(cat "$run/$other/failed")"
    i=$((i + 1))
    [ "$i" -lt 3000 ] || fail "gave up waiting for $1"
    sleep 0.2
  done
}

# listen_port LOG: the port a `vmci cat --listen` or `vmci echo` printed in LOG (waits for it).
listen_port() {
  i=0
  while :; do
    port="$(sed -n -e 's/^cat: listening on vmci:\/\/[^:]*:\([0-9]*\).*/\1/p' -e 's/^echo: listening on vmci:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$1" | head -n 1)"
    [ -z "$port" ] || { echo "$port"; return 0; }
    i=$((i + 1))
    [ "$i" -lt 3000 ] || fail "no listening line in $1: $(cat "$1")"
    sleep 0.2
  done
}

say "local CID $("$vmci" cid --backend vsock)"
case "$role" in
  a)
    wait_for "$run/host.env"
    ECHO_PORT="$(sed -n 's/^ECHO_PORT=\([0-9]*\)$/\1/p' "$run/host.env")"
    CAT_PORT="$(sed -n 's/^CAT_PORT=\([0-9]*\)$/\1/p' "$run/host.env")"
    say "1. NetMQ ping from the guest to the host's echo (vmci://2:$ECHO_PORT)"
    "$vmci" ping --backend vsock "vmci://2:$ECHO_PORT" -c 5 -i 50 -W 20000 || fail "ping to the host failed"
    say "2. raw stream to the host's cat (vmci://2:$CAT_PORT): the host's accept must report CID 3"
    echo "hello from CID 3" | "$vmci" cat --backend vsock "vmci://2:$CAT_PORT" >"$out/host-reply.txt" || fail "cat to the host failed"
    say "3. NetMQ echo in the guest, pinged from the host side"
    "$vmci" echo --backend vsock --bind 'vmci://*:*' --count 5 >"$out/echo.log" 2>&1 &
    echo_pid=$!
    listen_port "$out/echo.log" >"$out/echo.port"
    wait "$echo_pid" || fail "the guest's echo failed: $(cat "$out/echo.log")"
    say "4. raw stream from the host to the guest's cat: the guest's accept must report CID 2"
    echo "hello from CID 3" | "$vmci" cat --listen --backend vsock 'vmci://*:*' >"$out/from-host.txt" 2>"$out/cat-listen.log" &
    cat_pid=$!
    listen_port "$out/cat-listen.log" >"$out/cat.port"
    wait "$cat_pid" || fail "the guest's cat --listen failed: $(cat "$out/cat-listen.log")"
    say "5. 32 MiB to guest b (CID 4) with socat, checksummed"
    head -c 33554432 /dev/urandom >"$tmp/data"
    sha256sum <"$tmp/data" | cut -d' ' -f1 >"$out/sent.sha256"
    wait_for "$run/b/recv.port"
    start=$(date +%s%N)
    socat -u -b 131072 "OPEN:$tmp/data" "VSOCK-CONNECT:4:$(cat "$run/b/recv.port")" || fail "socat to guest b failed"
    end=$(date +%s%N)
    echo "$(( 33554432 * 1000 / ((end - start) / 1000) )) KB/s" >"$out/g2g.rate"
    say "   sent 32 MiB in $(( (end - start) / 1000000 )) ms"
    echo sent >"$out/g2g.done"
    say "6. topology vmware: guest b must be refused the way a virtio guest is refused (the device's RST: ECONNRESET)"
    wait_for "$run/vmware"
    wait_for "$run/b/recv2.port"
    # socat, not a .NET program: its blocking connect reports the kernel's errno however slow the emulated guest is.
    if socat -u OPEN:/dev/null "VSOCK-CONNECT:4:$(cat "$run/b/recv2.port")" 2>"$out/vmware.err"; then
      fail "under the vmware topology guest a reached guest b"
    fi
    grep -q "Connection reset by peer" "$out/vmware.err" || fail "refused, but not with ECONNRESET: $(cat "$out/vmware.err")"
    say "   refused: $(cat "$out/vmware.err")"
    "$vmci" ping --backend vsock "vmci://2:$ECHO_PORT" -c 1 -W 20000 >/dev/null || fail "under vmware the host is no longer reachable"
    echo finished >"$out/finished"
    ;;
  b)
    say "1. receive from guest a with vmci cat --listen"
    "$vmci" cat --listen --backend vsock 'vmci://*:*' </dev/null >"$tmp/recv" 2>"$out/recv.log" &
    cat_pid=$!
    listen_port "$out/recv.log" >"$out/recv.port"
    wait "$cat_pid" || fail "cat --listen failed: $(cat "$out/recv.log")"
    sha256sum <"$tmp/recv" | cut -d' ' -f1 >"$out/recv.sha256"
    say "   received $(wc -c <"$tmp/recv") bytes; $(grep 'connection from' "$out/recv.log")"
    say "2. listen again for guest a's try under the vmware topology"
    "$vmci" cat --listen --backend vsock 'vmci://*:*' </dev/null >"$tmp/recv2" 2>"$out/recv2.log" &
    listen2_pid=$!
    listen_port "$out/recv2.log" >"$out/recv2.port"
    wait_for "$run/a/finished"
    kill "$listen2_pid" 2>/dev/null || true
    wait "$listen2_pid" 2>/dev/null || true
    if grep -q 'connection from' "$out/recv2.log"; then
      fail "a connection arrived under the vmware topology: $(cat "$out/recv2.log")"
    fi
    echo finished >"$out/finished"
    ;;
  *)
    fail "unknown role $role"
    ;;
esac
say "passed"
