#!/usr/bin/env python3
"""Sums JUnit XML files (given as paths or folders) and prints one closing line: 'tests: N passed, N failed, N skipped'.
Exits 1 when a test failed or when no test ran at all."""
import pathlib
import sys
import xml.etree.ElementTree as ET

files = []
for arg in sys.argv[1:]:
    p = pathlib.Path(arg)
    files += sorted(p.rglob("*.xml")) if p.is_dir() else [p]
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
        else:
            passed += 1
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
