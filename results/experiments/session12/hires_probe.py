"""Probe: the detail difference at 64 pixels (verify_hires_detail.patch) of
the pairs the 32-pixel verifier accepts at 0.55 / 0.45, tune split: how many
(original, variant) pairs a cut would lose against the false accepts it
removes.  usage: hires_probe.py PATCHED_DG_VERIFY_PAIRS"""
import collections
import sys

import numpy as np

from probe_lib import SPLITS, accepted, seed_data

for w in SPLITS["tune"]:
    d = seed_data(w, sys.argv[1])
    r = d["rows"]
    acc = accepted(r)
    ov, fa = acc & (d["variant_pair"] >= 0), acc & ~d["same"]
    for col, radius in ((10, 3), (11, 6)):
        h = r[:, col]
        print(f"{w.rsplit('/', 1)[1]} window radius {radius}: verified (original, variant) pairs accepted {ov.sum()}, "
              f"false accepts {fa.sum()}")
        print("  (original, variant) percentiles 90/95/98/99/100:", np.round(np.percentile(h[ov], [90, 95, 98, 99, 100]), 3))
        print("  false accepts percentiles 0/10/50:", np.round(np.percentile(h[fa], [0, 10, 50]), 3))
        for t in (0.25, 0.3, 0.35, 0.4):
            lost = ov & (h > t)
            print(f"    cut at {t}: pairs lost {lost.sum()}, false accepts removed {(fa & (h > t)).sum()};",
                  collections.Counter(d["variant_kind"][d["variant_pair"][lost]]).most_common(3))
