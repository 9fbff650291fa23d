"""Probe: accepted pairs by embedding cosine and by whether the verifier
placed one image on the other nearly in place (scale within 6%, rotation
under 1.5 degrees), tune split, the adopted dg-verify-pairs.  If copies at
such a placement always had a high cosine, a low cosine there could veto a
match like the held-out summer_1am crops' (cosine 0.6, in place).
usage: placement_cosine_probe.py DG_VERIFY_PAIRS"""
import collections
import sys

import numpy as np

from probe_lib import SPLITS, accepted, seed_data

for w in SPLITS["tune"]:
    d = seed_data(w, sys.argv[1])
    r, sim = d["rows"], d["sim"]
    acc = accepted(r)
    in_place = (np.abs(r[:, 6] - 1) < 0.06) & (np.abs(r[:, 7]) < 1.5)
    ov, fa = acc & (d["variant_pair"] >= 0), acc & ~d["same"]
    print(w.rsplit("/", 1)[1])
    for lo, hi in ((0.29, 0.5), (0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9)):
        b = (sim >= lo) & (sim < hi)
        print(f"  cosine {lo:.2f}-{hi:.2f}, in place: (original, variant) {(ov & b & in_place).sum():4d}, "
              f"false {(fa & b & in_place).sum():4d}; elsewhere: {(ov & b & ~in_place).sum():4d}, {(fa & b & ~in_place).sum():4d}")
    kinds = collections.Counter(d["variant_kind"][d["variant_pair"][ov & in_place & (sim < 0.7)]])
    print("  in place with cosine < 0.7, by transform:", kinds.most_common(5))
