#!/usr/bin/python3
"""Probe: would a third acceptance tier (verifier score >= S with detail difference <= D, beside
configs/demo.ini's two) take the tune lowq strong copies of smooth renders (score 0.92, detail
0.35-0.5)?  On the tune candidates (cosine 0.34..0.9) of seeds 1-3, counts what each (S, D) adds.
    /usr/bin/python3 results/experiments/session16/score_tier_probe.py > score_tier_probe.txt
(from the repository root, after the tune runs)."""
import os, subprocess, sys
import h5py, numpy as np
sys.path.insert(0, "python")
from dgtools.imagebench import Truth, truth_table
from dgtools import quality
tot = {}
for work in ["build/quality-tune", "build/quality-tune-seed2", "build/quality-tune-seed3"]:
    work = os.path.realpath(work)
    with h5py.File(os.path.join(work, "run.h5"), "r") as f:
        emb = f["embeddings"][:]; paths = [p.decode() for p in f["items/path"][:]]
    t = Truth(truth_table(os.path.join(work, "corpus"), paths))
    i, j, sim = quality.cosine_pairs_above(emb, 0.34)
    c = sim < 0.9
    i, j, sim = i[c], j[c], sim[c]
    pf = "/tmp/tier.pairs"
    np.savetxt(pf, np.stack([i, j], 1), fmt="%d")
    out = subprocess.run(["build/dg-verify-pairs", os.path.join(work, "verify_pairs.manifest"), pf], capture_output=True, text=True, check=True).stdout
    rows = np.loadtxt(out.splitlines(), ndmin=2)
    score, det = rows[:, 2], rows[:, 3]
    now = ((sim >= 0.7) & (score >= 0.5)) | ((score >= 0.55) & (det <= 0.35))
    same = t.group[i] == t.group[j]
    ov = same & ((t.original[i] == j) | (t.original[j] == i))
    for S in (0.85, 0.9, 0.95):
        for D in (0.4, 0.45, 0.5, 0.6):
            extra = ~now & (score >= S) & (det <= D)
            k = (S, D)
            a = tot.setdefault(k, [0, 0, 0])
            a[0] += int((extra & ov).sum()); a[1] += int((extra & same).sum()); a[2] += int((extra & ~same).sum())
for k, (ov, same, false) in sorted(tot.items()):
    print(f"score >= {k[0]} detail <= {k[1]}: +{ov} (original, variant) pairs, +{same} same-group pairs, +{false} false accepts")
