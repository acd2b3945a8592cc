#!/bin/sh
# The deploy smoke pair on this machine's real vsock: `vmci echo` binds vmci://*:* and `vmci ping` sends it
# COUNT requests over CID 1 (loopback) — or over CID $2 when given (e.g. 2, the host, from a VMware guest).
# Run by CI inside the QEMU guest:  eng/guest-run.sh eng/guest/echo-ping.sh artifacts/vmci/vmci
# Exit code: ping's (0 when every request was answered).
set -eu
vmci="${1:?usage: echo-ping.sh PATH/TO/vmci [CID] [COUNT]}"
cid="${2:-1}"
count="${3:-5}"
out="$(mktemp -d)"
"$vmci" echo --backend vsock --bind 'vmci://*:*' --count "$count" >"$out/echo.log" 2>&1 &
echo_pid=$!
port=""
i=0
while [ -z "$port" ] && [ "$i" -lt 600 ]; do
  port="$(sed -n 's/^echo: listening on vmci:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$out/echo.log")"
  kill -0 "$echo_pid" 2>/dev/null || break
  i=$((i + 1))
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "echo-ping: vmci echo did not start:" >&2
  cat "$out/echo.log" >&2
  exit 1
fi
rc=0
"$vmci" ping --backend vsock "vmci://$cid:$port" -c "$count" -i 50 -W 10000 || rc=$?
wait "$echo_pid" || true
cat "$out/echo.log"
exit "$rc"
