"""Probe: stricter acceptance for mirrored matches only, applied to the adopted verifier's output
(the placement it found is kept; a mirrored match must reach a higher score or a lower detail
difference), on the tune split with the render scenes, pooled over seeds 1-3.  Recall bound and
false accepts as jobs/verify_pairs.py counts them.  usage: mirror_rule_probe.py DG_VERIFY_PAIRS"""
import sys

import numpy as np

from probe_lib import SPLITS, seed_data

data = [seed_data(w, sys.argv[1]) for w in SPLITS["tune"]]


def figures(t_mirror, d_mirror, t=0.55, d=0.45):
    found = n_var = false = 0
    groups = set()
    for k, sd in enumerate(data):
        r = sd["rows"]
        acc = (r[:, 2] >= t) & (r[:, 3] <= d)
        acc &= (r[:, 5] == 0) | ((r[:, 2] >= t_mirror) & (r[:, 3] <= d_mirror))
        taken = sd["direct"].copy()
        vp = sd["variant_pair"][acc]
        taken[vp[vp >= 0]] = True
        found += int(taken.sum())
        n_var += sd["n_variants"]
        bad = acc & ~sd["same"]
        false += int(bad.sum())
        ga, gb = sd["groups"]
        groups |= {(k, min(a, b), max(a, b)) for a, b in zip(ga[bad], gb[bad])}
    return found / n_var, false, len(groups)


print("mirrored matches need   recall  false_accepts  false_group_pairs")
for tm, dm in ((0.55, 0.45), (0.55, 0.35), (0.55, 0.30), (0.55, 0.25), (0.70, 0.45), (0.85, 0.45), (0.70, 0.30),
               (0.85, 0.30), (2.0, 0.0)):
    rec, fa, gp = figures(tm, dm)
    print(f"score >= {tm:.2f}, detail <= {dm:.2f}:  {rec:.4f}  {fa:6d}  {gp:4d}" + ("  (none accepted)" if tm > 1 else ""))
