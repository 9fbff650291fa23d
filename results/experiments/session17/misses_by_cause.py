#!/usr/bin/python3
"""The tune split's missed (original, variant) pairs by cause, from the job outputs of
jobs/quality_bench.py --split tune at seeds 1-3 (BUILD/quality-tune{,-seed2,-seed3}/run.h5):
  below     cosine of the stored embeddings under pairs.threshold 0.34: never a candidate;
  budget    under the 40th best candidate cosine of both items (verify.max_candidates = 40, as
            verify_budget.c ranks them, pairs of cosine >= accept_above 0.9 left out): not verified;
  verifier  a candidate within the budget that is no edge: the verifier's score or detail check
            (or, rarely, the clustered search missed it).
Each miss is printed with the verifier's score and detail difference from BUILD's dg-verify-pairs.
    /usr/bin/python3 results/experiments/session17/misses_by_cause.py [BUILD] > misses_by_cause.txt
"""
import collections
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools.imagebench import Truth, truth_table  # noqa: E402

THRESHOLD, ACCEPT_ABOVE, BUDGET = 0.34, 0.9, 40


def misses(build, work):
    with h5py.File(os.path.join(work, "run.h5"), "r") as f:
        emb = f["embeddings"][:]
        paths = [p.decode() for p in f["items/path"][:]]
        src, dst = f["edges/src"][:], f["edges/dst"][:]
    t = Truth(truth_table(os.path.join(work, "corpus"), paths))
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sim = e @ e.T
    np.fill_diagonal(sim, -2)
    counted = np.where((sim >= THRESHOLD) & (sim < ACCEPT_ABOVE), sim, -2)
    cut = np.sort(counted, axis=1)[:, -BUDGET]
    edges = set(zip(np.minimum(src, dst).tolist(), np.maximum(src, dst).tolist()))
    rows = []
    for b in np.flatnonzero(t.original != np.arange(len(paths))):
        a = t.original[b]
        if (min(a, b), max(a, b)) in edges:
            continue
        s = sim[a, b]
        cause = "below" if s < THRESHOLD else "budget" if s < ACCEPT_ABOVE and s < cut[a] and s < cut[b] else "verifier"
        rows.append((a, b, s, cause))
    with tempfile.NamedTemporaryFile("w", suffix=".pairs") as pf:
        pf.write("".join(f"{min(a, b)} {max(a, b)}\n" for a, b, _, _ in rows))
        pf.flush()
        out = subprocess.run([os.path.join(build, "dg-verify-pairs"), os.path.join(work, "verify_pairs.manifest"),
                              pf.name], capture_output=True, text=True, check=True).stdout
    ver = {(int(r.split()[0]), int(r.split()[1])): r.split()[2:4] for r in out.splitlines()}
    return [(cause, t.transform[b], t.strength[b], paths[b].split("corpus/images/")[1], s,
             *map(float, ver[(min(a, b), max(a, b))])) for a, b, s, cause in rows]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    total = collections.Counter()
    for seed, work in ((1, "quality-tune"), (2, "quality-tune-seed2"), (3, "quality-tune-seed3")):
        rows = misses(build, os.path.join(build, work))
        count = collections.Counter(r[0] for r in rows)
        total.update(count)
        print(f"# seed {seed} ({build}/{work}): {len(rows)} missed, " +
              ", ".join(f"{k} {count[k]}" for k in ("below", "budget", "verifier")))
        for cause, kind, strength, path, s, score, detail in sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3])):
            print(f"{cause:8s} {kind:10s} {strength:6s} {path:34s} cos {s:.3f} score {score:.3f} detail {detail:.3f}")
    print("# seeds 1-3: " + ", ".join(f"{k} {total[k]}" for k in ("below", "budget", "verifier")))


if __name__ == "__main__":
    main()
