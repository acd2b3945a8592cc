#!/usr/bin/env bash
# Checks that a vmci bind in direct mode opens no TCP listener: starts `vmci echo --bind vmci://*:*` on a private
# simulator fabric (VMCI_TRANSPORT_MODE=direct), waits until it listens, and asks `ss -ltnp` for the process's
# listening TCP sockets: there must be none. As a control the same in relay mode must show its hidden one.
#
#   eng/no-tcp-listener.sh artifacts/vmci/vmci
# Exit code: 0 when direct mode shows no TCP listener (and relay mode shows one), 1 otherwise.
set -euo pipefail
vmci="${1:?usage: no-tcp-listener.sh PATH/TO/vmci}"
command -v ss >/dev/null || { echo "no-tcp-listener: ss (iproute2) is missing" >&2; exit 1; }
work="$(mktemp -d)"
pid=""
cleanup() {
  [[ -z "$pid" ]] || kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Prints how many TCP sockets the vmci echo process of mode $1 listens on.
listeners() {
  local mode="$1" i
  : >"$work/echo.log"
  VMCI_TRANSPORT_MODE="$mode" VMCI_BACKEND=sim VMCI_SIM_FABRIC="$work/fabric" "$vmci" echo --bind 'vmci://*:*' >"$work/echo.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    grep -q '^echo: listening on vmci://' "$work/echo.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/echo.log" >&2; return 1; }
    sleep 0.1
  done
  grep -q '^echo: listening on vmci://' "$work/echo.log" || { echo "no-tcp-listener: vmci echo did not start" >&2; return 1; }
  ss -Hltnp | grep -c "pid=$pid," || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

direct="$(listeners direct)"
relay="$(listeners relay)"
echo "no-tcp-listener: vmci echo --bind vmci://*:* listens on $direct TCP socket(s) in direct mode, $relay in relay mode (ss -ltnp)"
[[ "$direct" -eq 0 ]] || { echo "no-tcp-listener: FAIL: direct mode opened a TCP listener" >&2; exit 1; }
[[ "$relay" -ge 1 ]] || { echo "no-tcp-listener: FAIL: the relay control shows no listener: is ss seeing the process at all?" >&2; exit 1; }
