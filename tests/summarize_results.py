#!/usr/bin/python3
"""Summarizes meson test logs: a skipped test fails the run unless it is optional.

    tests/summarize_results.py [--optional FILE] TESTLOG.json ...
    e.g. tests/summarize_results.py build/meson-logs/testlog.json build-asan/meson-logs/testlog.json

Reads each build's meson-logs/testlog.json (one JSON object per test) and the
optional-tests list (default: tests/optional_tests.txt beside this script; one
meson test name per line with a `#` reason, an entry without a reason does not
count).  Prints the skipped tests, marking which are optional, the failed ones,
and as its last line exactly

    N passed, N failed, N skipped

where each test run counts once: passed = OK or EXPECTEDFAIL; skipped = SKIP of
a test on the optional list; failed = everything else, including a SKIP of a
test not on the list, and a missing, unreadable or empty log counts as one
failure.  Exit status 1 if anything failed, else 0.  Standard library only.
"""
import argparse
import json
import os
import re
import sys

PASS = ("OK", "EXPECTEDFAIL")
HERE = os.path.dirname(os.path.abspath(__file__))


def read_optional(path):
    """{name: reason} of the list's entries that give a reason; warnings for the rest."""
    optional, warnings = {}, []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            entry, _, reason = line.partition("#")
            entry, reason = entry.strip(), reason.strip()
            if not entry:
                continue
            if len(entry.split()) != 1:
                warnings.append(f"{path}:{lineno}: '{entry}' is not one test name; ignored")
            elif not reason:
                warnings.append(f"{path}:{lineno}: {entry} gives no '# reason'; not optional")
            else:
                optional[entry] = reason
    return optional, warnings


def short_name(name):
    """'dupgraph:e2e / e2e_images' -> 'e2e_images' (the name `meson test` takes)."""
    return name.rsplit(" / ", 1)[-1].rsplit(":", 1)[-1]


def skip_reason(record):
    """The lines where the test said why it skipped (dgtest.main, the fuzz tests),
    else its last line of output."""
    text = (record.get("stdout") or "") + "\n" + (record.get("stderr") or "")
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    said = [x for x in lines if re.search(r"\bSKIP(PED)?\b", x)]
    return "; ".join(said[:3]) if said else (lines[-1] if lines else "no output")


def shown(path):
    """The path relative to the current folder when under it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def build_label(log):
    """build/meson-logs/testlog.json -> build"""
    folder = os.path.dirname(os.path.dirname(os.path.abspath(log)))
    return os.path.basename(folder) or log


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", metavar="TESTLOG.json")
    ap.add_argument("--optional", default=os.path.join(HERE, "optional_tests.txt"),
                    help="optional-tests list (default: %(default)s)")
    args = ap.parse_args()

    passed = failed = skipped = 0
    problems = []  # lines about failures other than tests' own
    try:
        optional, warnings = read_optional(args.optional)
    except OSError as e:
        optional, warnings = {}, []
        problems.append(f"cannot read the optional-tests list {args.optional}: {e.strerror} (counts as one failure)")
        failed += 1
    for w in warnings:
        print(f"warning: {w}")

    skips, failures = [], []
    for log in args.logs:
        label = build_label(log)
        if not os.path.exists(log):
            problems.append(f"{label}: {log} is missing: its tests did not run (counts as one failure)")
            failed += 1
            continue
        records = []
        try:
            with open(log) as f:
                for line in f:
                    if line.strip():
                        records.append(json.loads(line))
        except (OSError, ValueError) as e:
            problems.append(f"{label}: {log} is unreadable ({e}) (counts as one failure)")
            failed += 1
            continue
        if not records:
            problems.append(f"{label}: {log} holds no test result (counts as one failure)")
            failed += 1
            continue
        for r in records:
            name, result = short_name(r.get("name", "?")), r.get("result", "?")
            if result in PASS:
                passed += 1
            elif result == "SKIP":
                reason = optional.get(name) or optional.get(r.get("name"))
                skips.append((label, name, reason, skip_reason(r)))
                if reason:
                    skipped += 1
                else:
                    failed += 1
            else:
                failures.append(f"{label}: {name} {result} (exit {r.get('returncode')})")
                failed += 1

    if skips:
        print(f"skipped tests ({len(skips)}; optional ones listed in {shown(args.optional)}):")
        for label, name, reason, said in skips:
            mark = f"optional: {reason}" if reason else "NOT OPTIONAL, counts as failed"
            print(f"  {label}: {name} [{mark}] -- {said}")
    else:
        print("skipped tests: none")
    if failures:
        print(f"failed tests ({len(failures)}):")
        for line in failures:
            print(f"  {line}")
    for line in problems:
        print(line)
    not_optional = sum(1 for s in skips if not s[2])
    if not_optional:
        print(f"{not_optional} skipped test(s) not listed in {shown(args.optional)} count as failed "
              "(a skip proves nothing; list a test there with a '# reason' only if skipping it is acceptable)")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
