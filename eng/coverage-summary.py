#!/usr/bin/env python3
"""Prints the merged line coverage of every Cobertura file under a folder (a line counts once, covered if any run hit it)."""
import pathlib
import sys
import xml.etree.ElementTree as ET

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "artifacts/test-results")
lines = {}
per_package = {}
for report in sorted(root.rglob("coverage.cobertura.xml")):
    for package in ET.parse(report).getroot().iter("package"):
        name = package.get("name")
        for cls in package.iter("class"):
            for line in cls.iter("line"):
                key = (name, cls.get("filename"), line.get("number"))
                hit = int(line.get("hits", "0")) > 0
                lines[key] = lines.get(key, False) or hit
if not lines:
    print("coverage: no Cobertura reports found under", root)
    sys.exit(1)
for (name, _, _), hit in lines.items():
    covered, total = per_package.get(name, (0, 0))
    per_package[name] = (covered + hit, total + 1)
for name, (covered, total) in sorted(per_package.items()):
    print(f"coverage: {name:<16} {covered:>6}/{total:<6} lines  {100.0 * covered / total:5.1f}%")
covered = sum(lines.values())
print(f"coverage: {'total':<16} {covered:>6}/{len(lines):<6} lines  {100.0 * covered / len(lines):5.1f}%")
