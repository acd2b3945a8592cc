#!/usr/bin/env python3
"""Where the host's CPU goes during eng/guest/fabric-bench.sh (docs/vhost-user.md, "Performance").

  host-cpu.py sample OUT.csv    samples every 0.25 s until SIGTERM: the machine's busy time and the CPU time of each
                                party of the bench — the guest's vCPU threads (QEMU's "CPU n/TCG"; also the busiest
                                one alone: is a transfer serial in the guest?), QEMU's other threads,
                                the vhost-user device (`vmci vhost`), the host's sink (`vmci cat --listen`) and source
                                (`vmci cat` connecting)
  host-cpu.py summary OUT.csv   sorts the intervals into the bench's three transfers by who worked — the sink: guest →
                                host; the source: host → guest; neither, the device idle and the vCPUs busy: loopback —
                                and prints, per transfer, each party's share in cores (1.00 = one core all the time)

Under TCG the guest's vCPUs are ordinary host threads: whatever the host side of a transfer takes (device, `vmci cat`,
QEMU's main loop) is CPU the guest's vCPUs cannot have once the host's cores are all busy. The figures say how much.
"""
import csv
import os
import re
import signal
import sys
import time

PARTIES = ["vcpu", "busiest_vcpu", "qemu", "device", "sink", "source"]
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def ticks(stat_path):
    """utime + stime of a process or thread (fields 14 and 15 of its stat line), in clock ticks; 0 if it is gone."""
    try:
        with open(stat_path, encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def party_of(cmdline):
    words = cmdline.split("\0")
    program = os.path.basename(words[0]) if words else ""
    if program.startswith("qemu-system"):
        return "qemu"
    if program == "vmci" or (len(words) > 1 and os.path.basename(words[1]) in ("vmci", "vmci.dll")):
        if "vhost" in words:
            return "device"
        if "cat" in words:
            return "sink" if "--listen" in words else "source"
    return None


def snapshot():
    """The machine's busy and idle ticks, and the CPU ticks of every process (or QEMU thread) of a party, by (party, id)."""
    times = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        party = party_of(cmdline)
        if party is None:
            continue
        if party != "qemu":
            times[(party, pid)] = ticks(f"/proc/{pid}/stat")
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm", encoding="ascii", errors="replace") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            times[("vcpu" if re.fullmatch(r"CPU \d+/TCG", comm) else "qemu", tid)] = ticks(f"/proc/{pid}/task/{tid}/stat")
    with open("/proc/stat", encoding="ascii") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return time.monotonic(), sum(cpu) - idle, idle, times


def sample(path):
    """One row per interval: its length, the machine's busy and idle ticks in it, each party's ticks in it (only
    processes seen at both ends count: one that ended in between takes its ticks with it)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(path, "w", newline="", encoding="ascii") as f:
        out = csv.writer(f)
        out.writerow(["seconds", "busy", "idle"] + PARTIES)
        before = snapshot()
        while not stop:
            time.sleep(0.25)
            after = snapshot()
            parties = dict.fromkeys(PARTIES, 0)
            for key, value in after[3].items():
                if key in before[3]:
                    used = max(value - before[3][key], 0)
                    parties[key[0]] += used
                    if key[0] == "vcpu":
                        parties["busiest_vcpu"] = max(parties["busiest_vcpu"], used)
            out.writerow([f"{after[0] - before[0]:.3f}", after[1] - before[1], after[2] - before[2]] + [parties[p] for p in PARTIES])
            f.flush()
            before = after


def summary(path):
    with open(path, encoding="ascii") as f:
        rows = [[float(v) for v in r] for r in list(csv.reader(f))[1:]]
    phases = {}
    for row in rows:
        seconds = row[0]
        if seconds <= 0:
            continue
        delta = {name: row[i] / TICK / seconds for i, name in enumerate(["seconds", "busy", "idle"] + PARTIES) if i > 0}
        machine = delta["busy"] / (delta["busy"] + delta["idle"]) * CORES if delta["busy"] + delta["idle"] > 0 else 0
        if delta["sink"] > 0.05:
            phase = "guest → host"
        elif delta["source"] > 0.05:
            phase = "host → guest"
        elif delta["device"] < 0.02 and delta["vcpu"] > 1.0:
            phase = "loopback"
        else:
            continue  # between transfers (socat starting, waits), or a mix
        total = phases.setdefault(phase, dict.fromkeys(["seconds", "machine"] + PARTIES, 0.0))
        total["seconds"] += seconds
        total["machine"] += machine * seconds
        for p in PARTIES:
            total[p] += delta[p] * seconds
    print(f"host CPU by party, in cores (this host has {CORES}); time-weighted means over the intervals of each transfer:")
    print(f"{'transfer':<14}{'seconds':>8}{'machine':>9}{'vCPUs':>7}{'busiest':>9}{'QEMU':>7}{'device':>8}{'vmci cat':>10}")
    for phase in ("guest → host", "host → guest", "loopback"):
        if phase not in phases:
            continue
        t = phases[phase]
        s = t["seconds"]
        print(f"{phase:<14}{s:>8.1f}{t['machine'] / s:>9.2f}{t['vcpu'] / s:>7.2f}{t['busiest_vcpu'] / s:>9.2f}{t['qemu'] / s:>7.2f}"
              f"{t['device'] / s:>8.2f}{(t['sink'] + t['source']) / s:>10.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("sample", "summary"):
        sys.exit(f"usage: {sys.argv[0]} sample|summary OUT.csv")
    (sample if sys.argv[1] == "sample" else summary)(sys.argv[2])
