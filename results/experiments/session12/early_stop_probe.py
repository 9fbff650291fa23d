"""Probe: could the verifier stop early on pairs it will reject?  With
verify_early_stop_columns.patch dg-verify-pairs prints the cheapest coarse
cost (step 1) and the best score after the first candidate's first
refinement path.  For cuts on each, tune split: the share of candidate
pairs that would stop there against the pairs accepted at 0.55 / 0.45
that would be lost.  usage: early_stop_probe.py PATCHED_DG_VERIFY_PAIRS"""
import sys

import numpy as np

from probe_lib import SPLITS, accepted, seed_data

for w in SPLITS["tune"]:
    d = seed_data(w, sys.argv[1])
    r = d["rows"]
    acc = accepted(r)
    coarse, first = r[:, 10], r[:, 11]
    print(f"{w.rsplit('/', 1)[1]}: {len(r)} candidates, {acc.sum()} accepted")
    print("  coarse cost percentiles 25/50/75, accepted:", np.round(np.percentile(coarse[acc], [25, 50, 75]), 1),
          "rejected:", np.round(np.percentile(coarse[~acc], [25, 50, 75]), 1))
    for t in (25, 30, 35):
        print(f"    stop at coarse cost >= {t}: stops {np.mean(coarse >= t):.3f} of pairs, accepted lost {(acc & (coarse >= t)).sum()}")
    for t in (0.1, 0.2, 0.3):
        print(f"    stop at first-path score < {t}: stops {np.mean(first < t):.3f} of pairs, accepted lost {(acc & (first < t)).sum()}")
