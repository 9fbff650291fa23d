#!/usr/bin/python3
"""What the search holds with and without verify.max_held (src/search/candidate_bound.c),
and that the job's output is the same either way.

dupgraph run (configs/demo.ini, --ranks ranks) on the quality benchmark's tune corpora of
dg-mkbench seeds 1-3 in one manifest (made by jobs/quality_bench.py --split tune under
BUILD/quality-tune[-seed2,-seed3]; 9324 images).  At pairs.threshold 0.3 (the config's) an
item has few candidates in a corpus this small; lower thresholds give it as many as a larger
corpus would (the share of unrelated photos above the threshold grows as it falls), so they
stand in for scale.  Each threshold runs with verify.max_held = 0 (never bounded) and with a
small hold.  Per run: the candidate pairs that reach the verifier, the pairs dropped while
held, peak RSS per rank, seconds per stage; per threshold, whether the two outputs (edges,
similarities, verifier scores, components, keep) are identical.  Timings and RSS are of a
shared machine: compare within one run of this script.

    jobs/candidate_bound_bench.py [--build build] [--ranks 2] [--thresholds 0.3,0.15,0.1]
                                  [--hold 20000] [--out results/candidate_bound_bench.json]
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import machine, quality, summary  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--config", default="configs/demo.ini")
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--thresholds", default="0.3,0.15,0.1")
    ap.add_argument("--hold", type=int, default=20000, help="verify.max_held of the bounded runs")
    ap.add_argument("--out", default="results/candidate_bound_bench.json")
    return ap.parse_args()


def manifest(build, path):
    """The tune corpora of seeds 1-3 in one manifest (absolute paths)."""
    lines = []
    for seed in (1, 2, 3):
        corpus = os.path.realpath(os.path.join(quality.workdir(build, "tune", seed), "corpus"))
        if not os.path.exists(os.path.join(corpus, "manifest.txt")):
            raise SystemExit(f"candidate_bound_bench: no {corpus}/manifest.txt: run jobs/quality_bench.py "
                             f"--split tune --seed {seed} --build {build} first")
        with open(os.path.join(corpus, "manifest.txt")) as f:
            lines += [os.path.join(corpus, x.strip()) for x in f if x.strip()]
    with open(path, "w") as f:
        f.write("".join(x + "\n" for x in lines))
    return len(lines)


def run(args, work, listing, threshold, hold):
    out = os.path.join(work, f"t{threshold}_h{hold}.h5")
    spath = out + ".summary.json"
    cmd = ["mpirun", "--oversubscribe", "-np", str(args.ranks), "-x", "OPENBLAS_NUM_THREADS",
           os.path.join(args.build, "dupgraph"), "run", "-c", args.config, "-o", out,
           "--set", f"input.manifest={listing}", "--set", "job.resume=false",
           "--set", f"pairs.threshold={threshold}", "--set", f"verify.max_held={hold}", *summary.set_args(spath)]
    print("$ " + shlex.join(cmd), flush=True)
    _, s, _ = summary.run(cmd, spath, out + ".log", env=machine.mpi_env(1))
    with h5py.File(out, "r") as f:
        arrays = {k: f[k][:] for k in ("edges/src", "edges/dst", "edges/sim", "edges/verify", "items/component",
                                       "items/keep")}
    v = s["verify"]
    row = {"threshold": threshold, "max_held": hold, "candidates": v["candidates"], "dropped_held": v["dropped_held"],
           "over_budget": v["over_budget"], "verified": v["verified"], "edges": s["edges"],
           "peak_rss_mib": [round(b / 2**20, 1) for b in s["memory"]["peak_rss_bytes"]],
           "seconds": {k: round(x, 2) for k, x in summary.stage_seconds(s).items()},
           "seconds_total": round(s["seconds"]["total"], 2)}
    return row, arrays


def readme_block(rows, verdicts, n, args):
    """The README's figure block: one line per threshold."""
    lines = [f"Candidates held by the search (`jobs/candidate_bound_bench.py`, results/candidate_bound_bench.json: "
             f"{n} images, the tune corpora of seeds 1-3, {args.ranks} ranks, `verify.max_held` 0 against "
             f"{args.hold}):", ""]
    for v in verdicts:
        free, held = [r for r in rows if r["threshold"] == v["threshold"]]
        lines.append(f"- `pairs.threshold` {v['threshold']}: {free['candidates'] / n:.1f} -> "
                     f"{held['candidates'] / n:.1f} candidate pairs per item reach the verifier "
                     f"({held['dropped_held']} dropped while held), peak RSS of the largest rank "
                     f"{max(free['peak_rss_mib']):.0f} -> {max(held['peak_rss_mib']):.0f} MiB, pair search "
                     f"{free['seconds'].get('pairs', 0):.2f} -> {held['seconds'].get('pairs', 0):.2f} s (the sorting), "
                     f"output {'identical' if v['identical_output'] else 'DIFFERENT'}.")
    return "\n".join(lines)


def same(a, b):
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def main():
    args = parse_args()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory(prefix="dg-bound-") as work:
        listing = os.path.join(work, "manifest.txt")
        n = manifest(args.build, listing)
        for t in [float(x) for x in args.thresholds.split(",")]:
            free, a = run(args, work, listing, t, 0)
            held, b = run(args, work, listing, t, args.hold)
            rows += [free, held]
            verdicts.append({"threshold": t, "identical_output": same(a, b)})
            for r in (free, held):
                print(f"threshold {t}: max_held {r['max_held']:>7}: {r['candidates']:>9} candidates reach the "
                      f"verifier ({r['candidates'] / n:.1f} per item), {r['dropped_held']:>9} dropped while held, "
                      f"{r['verified']} verified, {r['edges']} edges; peak RSS {r['peak_rss_mib']} MiB; "
                      f"pairs {r['seconds'].get('pairs', 0)} s, graph {r['seconds'].get('graph', 0)} s, "
                      f"verify {r['seconds'].get('verify', 0)} s, total {r['seconds_total']} s", flush=True)
            print(f"threshold {t}: identical output: {verdicts[-1]['identical_output']}", flush=True)
    block = readme_block(rows, verdicts, n, args)
    print(block)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    result = {"what": "verify.max_held: candidates held by the search, bounded vs never (jobs/candidate_bound_bench.py)",
              "command": "jobs/candidate_bound_bench.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]),
              "started_utc": started, "git": rev, "items": n, "ranks": args.ranks, "config": args.config,
              "machine": machine.describe(), "runs": rows, "verdicts": verdicts,
              "readme_block": block, "readme": {"block": block}}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.out}")
    if not all(v["identical_output"] for v in verdicts):
        raise SystemExit("candidate_bound_bench: the bounded run's output differs")


if __name__ == "__main__":
    main()
