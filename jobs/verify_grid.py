#!/usr/bin/python3
"""Chooses configs/demo.ini's verify.threshold and verify.accept_above on the
tune split of the held-out quality benchmark (issue 13): jobs/quality_bench.py
--split tune for every pair of the grid (with the config's other settings),
then the highest tune recall whose tune precision is at least MIN_PRECISION
(the 0.99 target with a margin: the tune split holds few hard negatives);
ties go to the higher precision.  Writes results/verify_grid_tune.json (every
run's precision and recall, the rule, the choice).  Never reads held-out
items: quality_bench's tune split only.

    jobs/verify_grid.py [--build build] [--out results/verify_grid_tune.json]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
THRESHOLDS = [0.55, 0.58, 0.60, 0.63, 0.66, 0.70]
ACCEPT_ABOVE = [0.90, 0.92, 0.94]  # below 0.9 more pairs would be taken on the embedding alone
MIN_PRECISION = 0.995


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--out", default="results/verify_grid_tune.json")
    args = p.parse_args()
    os.chdir(ROOT)
    t0 = time.time()
    rows = []
    for vt in THRESHOLDS:
        for aa in ACCEPT_ABOVE:
            out = os.path.join(args.build, f"verify_grid_{vt}_{aa}.json")
            cmd = [sys.executable, "jobs/quality_bench.py", "--split", "tune", "--build", args.build, "--out", out,
                   "--set", f"verify.threshold={vt}", "--set", f"verify.accept_above={aa}"]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                o = json.load(f)["dupgraph"]["overall"]
            rows.append({"verify_threshold": vt, "accept_above": aa, "precision": o["precision"],
                         "recall": o["recall"]})
            print(f"verify.threshold {vt:.2f} accept_above {aa:.2f}: precision {o['precision']:.4f} "
                  f"recall {o['recall']:.4f}")
    ok = [r for r in rows if r["precision"] >= MIN_PRECISION]
    best = max(ok, key=lambda r: (r["recall"], r["precision"]))
    print(f"chosen: verify.threshold {best['verify_threshold']}, accept_above {best['accept_above']} "
          f"(tune precision {best['precision']:.4f}, recall {best['recall']:.4f})")
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with open(args.out, "w") as f:
        json.dump({"benchmark": "verify_grid", "split": "tune", "git": git,
                   "command": "jobs/verify_grid.py " + " ".join(sys.argv[1:]),
                   "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                   "rule": f"highest tune recall with tune precision >= {MIN_PRECISION}; ties: higher precision",
                   "rows": rows, "chosen": best, "seconds": round(time.time() - t0, 1)}, f, indent=1)
    print(f"(wrote {args.out})")


if __name__ == "__main__":
    main()
