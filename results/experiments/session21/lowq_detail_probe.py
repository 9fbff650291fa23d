#!/usr/bin/python3
"""Probe (not adopted): a relaxed detail cut-off for candidate pairs where either item is a
low-quality JPEG, its quality estimated from its luminance quantisation table against the IJG
standard table.  Every candidate pair of the tune job outputs at seeds 1-3 scored by
dg-verify-pairs (jobs/verify_pairs.py's score_seed), then the config's rule (0.55 / 0.35, or cosine
>= 0.7 and score >= 0.5) with a second way in: quality <= Q, score >= T, detail <= D.
    /usr/bin/python3 results/experiments/session21/lowq_detail_probe.py [BUILD] > lowq_detail_probe.txt
"""
import os, sys
import numpy as np
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, 'jobs')); sys.path.insert(0, os.path.join(ROOT, 'python'))
import verify_pairs as vp
from PIL import Image
import h5py

STD = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
       18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99]

def quality(path):
    try:
        im = Image.open(path)
        q = im.quantization[0]
    except Exception:
        return 100
    # PIL gives the table in zigzag order; compare sums (order free)
    s = 100.0 * sum(q) / sum(STD)   # scale percent
    return 100 - s / 2 if s <= 100 else 5000 / s

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build'))
data = []
for s, w in [(1, 'quality-tune'), (2, 'quality-tune-seed2'), (3, 'quality-tune-seed3')]:
    sd = vp.score_seed(build, os.path.join(build, w), 0.34, 0.9, 100000000)
    sd['seed'] = s
    with h5py.File(os.path.join(build, w, 'run.h5')) as f:
        paths = [p.decode() for p in f['items/path'][:]]
    sd['q'] = np.array([quality(p) for p in paths])
    sd['rows_ij'] = sd['rows'][:, :2].astype(int)
    data.append(sd)

def base(sd):
    return ((sd['score'] >= 0.55) & (sd['detail'] <= 0.35)) | ((sd['sim'] >= 0.7) & (sd['score'] >= 0.5))

b = vp.tally(data, [base(sd) for sd in data])
print('base', b)
qs = np.concatenate([sd['q'] for sd in data]); print('quality percentiles', np.percentile(qs, [1, 5, 10, 25, 50, 90]))
for QMAX in (30, 40, 50):
    for D in (0.40, 0.45, 0.50):
        for T in (0.55, 0.6, 0.7, 0.8):
            acc = []
            for sd in data:
                ij = sd['rows_ij']; lowq = np.minimum(sd['q'][ij[:, 0]], sd['q'][ij[:, 1]]) <= QMAX
                acc.append(base(sd) | (lowq & (sd['score'] >= T) & (sd['detail'] <= D)))
            r = vp.tally(data, acc)
            print(f'q<={QMAX} T {T} D {D}: recall {r["recall"]:.4f} (+{(r["recall"]-b["recall"])*sum(sd["n_variants"] for sd in data):.0f}) false {r["false_accepts"]} (+{r["false_accepts"]-b["false_accepts"]}) groups {r["false_group_pairs"]}')
