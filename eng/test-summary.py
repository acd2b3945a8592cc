#!/usr/bin/env python3
"""Sums JUnit XML files (given as paths or folders) and prints one closing line: 'tests: N passed, N failed, N skipped'.
An argument LEG=PATH names a leg (a leaf of the suite run somewhere: 'guest (direct)=artifacts/guest-direct'): the
closing line then also gives each leg's counts, '... | LEG: N passed, N failed, N skipped | ...'.
Exits 1 when a test failed or when no test ran at all. With --exit-failures: exits with the number of failed
cases (capped at 254), 255 when no test ran. With --no-skips: a skipped case counts as failed, unless its skip message
contains the TEXT of an --allow-skip=TEXT (repeatable: a reason a leg cannot run a case by design)."""
import pathlib
import sys
import xml.etree.ElementTree as ET

args = [a for a in sys.argv[1:] if not a.startswith("--")]  # LEG=PATH or PATH
flags = {a for a in sys.argv[1:] if a.startswith("--") and "=" not in a}
allowed_skips = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--allow-skip=")]


def count(path):
    """(passed, failed, skipped) of the JUnit files at path (a file or a folder); prints each failed case."""
    p = pathlib.Path(path)
    files = sorted(p.rglob("*.xml")) if p.is_dir() else [p]
    passed = failed = skipped = 0
    for f in files:
        root = ET.parse(f).getroot()
        if root.tag not in ("testsuites", "testsuite"):
            continue
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"FAILED: {case.get('classname')}.{case.get('name')}")
            elif case.find("skipped") is not None:
                skipped += 1
                reason = (case.find("skipped").get("message") or "") + (case.find("skipped").text or "")
                if "--no-skips" in flags and not any(text in reason for text in allowed_skips):
                    failed += 1
                    print(f"SKIPPED (not allowed here): {case.get('classname')}.{case.get('name')}")
            else:
                passed += 1
    return passed, failed, skipped


def line(counts):
    return f"{counts[0]} passed, {counts[1]} failed, {counts[2]} skipped"


total = [0, 0, 0]
legs = []
for arg in args:
    label, sep, path = arg.rpartition("=")
    counts = count(path)
    total = [t + c for t, c in zip(total, counts)]
    if sep and label:
        legs.append(f"{label}: {line(counts)}")
print("tests: " + " | ".join([line(total)] + legs))
passed, failed, _ = total
if "--exit-failures" in flags:
    sys.exit(255 if passed + failed == 0 else min(failed, 254))
sys.exit(1 if failed or passed == 0 else 0)
