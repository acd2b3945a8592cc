#!/bin/sh
# Starts `vmci agent` in this guest on real vsock, in the background, for the two-machine cases driven from another
# machine (`vmci conformance --backend vsock --peer vmci://THIS-CID:PORT`), and returns once it listens. A Vagrant
# provisioner runs it after eng/guest/run-bundle.sh (which loaded the vsock transport); it runs as root.
#
#   eng/guest/agent.sh PATH/TO/vmci [PORT] [LOG]
#
# PORT: the agent's port (default 5000). LOG: its output (default /var/log/vmci-agent.log). Under systemd the agent
# is the transient unit vmci-agent (stop: systemctl stop vmci-agent); otherwise a nohup process (its PID in LOG.pid).
# A running agent is stopped first. Prints the agent's ready line and this machine's CID.
# Exit code: 0 when the agent listens; 1 when it exited or did not listen within 60 s.
set -eu
vmci="${1:?usage: agent.sh PATH/TO/vmci [PORT] [LOG]}"
port="${2:-5000}"
log="${3:-/var/log/vmci-agent.log}"
mkdir -p "$(dirname "$log")"
: >"$log"

if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop vmci-agent 2>/dev/null || true
  systemctl reset-failed vmci-agent 2>/dev/null || true
  systemd-run --unit vmci-agent --collect --property=StandardOutput="append:$log" --property=StandardError="append:$log" \
    "$vmci" agent --backend vsock --bind "vmci://*:$port" >/dev/null
  running() { systemctl is-active --quiet vmci-agent; }
else
  if [ -f "$log.pid" ]; then kill "$(cat "$log.pid")" 2>/dev/null || true; fi
  nohup "$vmci" agent --backend vsock --bind "vmci://*:$port" >>"$log" 2>&1 </dev/null &
  echo $! >"$log.pid"
  running() { kill -0 "$(cat "$log.pid")" 2>/dev/null; }
fi

i=0
until grep -q '^agent: listening on' "$log"; do
  if ! running || [ "$i" -ge 600 ]; then
    echo "agent.sh: vmci agent did not start listening on port $port:" >&2
    cat "$log" >&2
    exit 1
  fi
  i=$((i + 1))
  sleep 0.1
done
grep -m 1 '^agent: listening on' "$log"
echo "agent.sh: this machine's CID: $("$vmci" cid --backend vsock 2>&1)"
