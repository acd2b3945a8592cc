#!/usr/bin/env bash
# Start Debian's dockerd (docker.io) with no networking of its own, idempotently.
#
# Containers of the integration tests run with --network none, so the daemon needs no bridge and
# must not touch iptables. If /var/run/docker.sock already answers, nothing is started.
#
# Environment:
#   DOCKERD_LOG             log file (default: artifacts/dockerd.log under the repo root)
#   DOCKERD_TIMEOUT         seconds to wait for the socket to answer (default: 60)
#   DOCKERD_STORAGE_DRIVER  e.g. "vfs" when overlay2 does not work on the machine (default: engine's choice)
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
sock=/var/run/docker.sock
log="${DOCKERD_LOG:-$repo_root/artifacts/dockerd.log}"
timeout="${DOCKERD_TIMEOUT:-60}"
dockerd_bin="${DOCKERD:-/usr/sbin/dockerd}"
docker_bin="${DOCKER:-/usr/bin/docker}"

answers() {
  "$docker_bin" -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

if answers; then
  echo "dockerd already answers on $sock (server $("$docker_bin" -H "unix://$sock" version --format '{{.Server.Version}}'))"
  exit 0
fi

if [[ ! -x "$dockerd_bin" ]]; then
  echo "error: $dockerd_bin not found; install Debian's docker.io package" >&2
  exit 1
fi
if [[ "$(id -u)" -ne 0 ]]; then
  echo "error: dockerd must be started as root (run this script with sudo)" >&2
  exit 1
fi

args=(--bridge=none --iptables=false --ip6tables=false --host "unix://$sock")
if [[ -n "${DOCKERD_STORAGE_DRIVER:-}" ]]; then
  args+=(--storage-driver="$DOCKERD_STORAGE_DRIVER")
fi

mkdir -p "$(dirname "$log")"
touch "$log"
log_start=$(($(wc -l <"$log") + 1))
show_log() { tail -n +"$log_start" "$log" | tail -n 30 >&2; }
echo "starting $dockerd_bin ${args[*]} (log: $log)"
nohup "$dockerd_bin" "${args[@]}" >>"$log" 2>&1 </dev/null &
pid=$!

start=$SECONDS
until answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "error: dockerd (pid $pid) exited before $sock answered; last lines of $log:" >&2
    show_log
    exit 1
  fi
  if (( SECONDS - start >= timeout )); then
    echo "error: $sock did not answer within ${timeout}s (dockerd pid $pid still running); last lines of $log:" >&2
    show_log
    exit 1
  fi
  sleep 0.5
done
echo "dockerd (pid $pid) answers on $sock after $((SECONDS - start))s; storage driver: $("$docker_bin" info --format '{{.Driver}}')"
