#!/usr/bin/env python3
"""Sums JUnit XML reports (lit, pytest, the sanitizer lit run) into one
closing line for CI, 'N passed, N failed', after one line per report (with
its skipped count). Exits non-zero on failures or when nothing ran."""
import os
import sys
import xml.etree.ElementTree as ET


def count(path):
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


totals = [0, 0, 0]
for path in sys.argv[1:]:
    counts = count(path)
    name = os.path.splitext(os.path.basename(path))[0]
    print(f"  {name}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped")
    totals = [t + c for t, c in zip(totals, counts)]
passed, failed, skipped = totals
print(f"  total skipped: {skipped}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
