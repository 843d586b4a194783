"""Run one test tier, then print (and record) one summary line for it.

    run_tier.py NAME [--junit FILE] -- COMMAND...   run a tier
    run_tier.py --report DIR                         print every recorded summary; fail if any failed

Counts come from the JUnit XML a tier writes (pytest) or from the last line the tier's own script
prints in the form ``TIER-COUNTS passed=N failed=N skipped=N``. A tier that ran no test at all is a
failure: an empty run must never look like a green one.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

COUNTS_RE = re.compile(r"TIER-COUNTS passed=(\d+) failed=(\d+) skipped=(\d+)")
TIERS = ("sanity", "unit", "lint", "integration", "faults", "node", "molecule")


def junit_counts(path: str) -> tuple[int, int, int]:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def run(name: str, junit: str | None, command: list[str], results: str) -> int:
    os.makedirs(results, exist_ok=True)
    if junit and os.path.exists(junit):
        os.remove(junit)
    start = time.monotonic()
    last_counts = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            sys.stdout.write(line)
            match = COUNTS_RE.search(line)
            if match:
                last_counts = tuple(int(g) for g in match.groups())
    rc = proc.returncode
    seconds = time.monotonic() - start
    if junit and os.path.exists(junit):
        passed, failed, skipped = junit_counts(junit)
    elif last_counts:
        passed, failed, skipped = last_counts
    else:
        passed = failed = skipped = 0
    if passed + failed == 0:
        status, rc = "FAILED (no test ran)", rc or 1
    elif rc != 0 or failed:
        status, rc = "FAILED", rc or 1
    else:
        status = "PASSED"
    line = f"{name:<12} {status:<21} passed={passed} failed={failed} skipped={skipped} ({seconds:.0f}s)"
    with open(os.path.join(results, f"{name}.summary"), "w", encoding="utf-8") as handle:
        handle.write(line + "\n")
    print(f"\n== {line}")
    return rc


def report(results: str) -> int:
    print("\n== make test summary")
    rc = 0
    for name in TIERS:
        path = os.path.join(results, f"{name}.summary")
        if not os.path.exists(path):
            print(f"{name:<12} FAILED (tier did not report)")
            rc = 1
            continue
        with open(path, encoding="utf-8") as handle:
            line = handle.read().strip()
        print(line)
        if " PASSED " not in f" {line} ":
            rc = 1
    print("== overall:", "PASSED" if rc == 0 else "FAILED")
    return rc


def main() -> int:
    argv = sys.argv[1:]
    # Everything after "--" is the tier's command; split first so argparse never sees its options.
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    options = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?")
    parser.add_argument("--junit")
    parser.add_argument("--report", metavar="DIR")
    args = parser.parse_args(options)
    if args.report:
        return report(args.report)
    if not args.name or not command:
        parser.error("a tier name and a command after -- are required")
    results = os.path.join(os.environ.get("BUILD", ".build"), "results")
    return run(args.name, args.junit, command, results)


if __name__ == "__main__":
    sys.exit(main())
