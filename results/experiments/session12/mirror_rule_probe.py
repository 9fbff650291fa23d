"""Probe: stricter acceptance for mirrored matches only, applied to the adopted verifier's output
(the placement it found is kept; a mirrored match must reach a higher score or a lower detail
difference), on the tune split with the render scenes, pooled over seeds 1-3.  Recall bound and
false accepts as jobs/verify_pairs.py counts them.  usage: mirror_rule_probe.py DG_VERIFY_PAIRS"""
import sys

import numpy as np

from probe_lib import SPLITS, seed_data, verify_pairs

data = [seed_data(w, sys.argv[1]) for w in SPLITS["tune"]]


def figures(t_mirror, d_mirror):
    """jobs/verify_pairs.py's grid row at 0.55 / 0.45, with mirrored matches short of the stricter
    pair (t_mirror, d_mirror) scored -1 (rejected)."""
    stricter = []
    for k, sd in enumerate(data):
        r = sd["rows"]
        fails = (r[:, 5] == 1) & ((r[:, 2] < t_mirror) | (r[:, 3] > d_mirror))
        stricter.append(dict(sd, seed=k + 1, score=np.where(fails, -1.0, sd["score"])))
    row = next(x for x in verify_pairs.grid(stricter) if x["verify_threshold"] == 0.55 and x["max_detail_diff"] == 0.45)
    return row["recall"], row["false_accepts"], row["false_group_pairs"]


print("mirrored matches need   recall  false_accepts  false_group_pairs")
for tm, dm in ((0.55, 0.45), (0.55, 0.35), (0.55, 0.30), (0.55, 0.25), (0.70, 0.45), (0.85, 0.45), (0.70, 0.30),
               (0.85, 0.30), (2.0, 0.0)):
    rec, fa, gp = figures(tm, dm)
    print(f"score >= {tm:.2f}, detail <= {dm:.2f}:  {rec:.4f}  {fa:6d}  {gp:4d}" + ("  (none accepted)" if tm > 1 else ""))
