#!/usr/bin/python3
"""Session-14 probe: could the verifier stop early on pairs it will reject?  A
dg-verify-pairs patched to print three more columns (early_exit_columns.patch): the block
score of the first refined path, the best coarse cost (quarter level, equalised values) and
the first refined placement's full-level cost before any search, on the tune split's
candidates (seeds 1-3, jobs/verify_pairs.py's score_seed).  For each column and cut: the
share of candidates a shortcut at that cut would stop early, and the config rule's figures
if they were all rejected (recall, true and false accepts, false group pairs).
    early_exit_probe.py VERIFIER [BUILD]   (from the repository root or anywhere)"""
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
sys.path.insert(0, os.path.join(ROOT, "jobs"))
verifier = os.path.abspath(sys.argv[1])
os.chdir(ROOT)
import verify_pairs as vp  # noqa: E402

build = sys.argv[2] if len(sys.argv) > 2 else "build-x"
cfg = vp.effective_config(build, "configs/demo.ini")
lo, hi = cfg.getfloat("pairs", "threshold"), cfg.getfloat("verify", "accept_above")
t, d = cfg.getfloat("verify", "threshold"), cfg.getfloat("verify", "max_detail_diff")
agree = (cfg.getfloat("verify", "agree_above"), cfg.getfloat("verify", "agree_threshold"))
seeds = []
for seed in (1, 2, 3):
    sd = vp.score_seed(build, vp.quality.workdir(build, "tune", seed), lo, hi, cfg.getint("embed", "max_pixels"),
                       verifier)
    sd["seed"] = seed
    seeds.append(sd)
acc = [((sd["score"] >= t) & (sd["detail"] <= d)) | vp.agreeing(sd, agree) for sd in seeds]
base = vp.tally(seeds, acc)
print(f"config rule, every candidate verified: {base}")
acc_all = np.concatenate(acc)
same = np.concatenate([sd["same"] for sd in seeds])
final = np.concatenate([sd["score"] for sd in seeds])
columns = ((10, "first path score", "below", (0.1, 0.2, 0.3, 0.4)),
           (11, "best coarse cost", "above", None), (12, "first full-level cost", "above", None))
for col, name, side, cuts in columns:
    v = np.concatenate([sd["rows"][:, col] for sd in seeds])
    print(f"\n{name}: accepted same-group pairs, percentiles 50/90/99/max "
          f"{np.round(np.percentile(v[acc_all & same], [50, 90, 99, 100]), 3)}; "
          f"rejected, percentiles 10/50/90 {np.round(np.percentile(v[~acc_all], [10, 50, 90]), 3)}")
    if col == 10:
        print(f"  the first path scores below the final score in {np.mean(v < final):.3f} of the candidates")
    cuts = cuts or [float(np.quantile(v, q)) for q in (0.5, 0.7, 0.8, 0.9)]
    for c in cuts:
        stop = [(sd["rows"][:, col] < c) if side == "below" else (sd["rows"][:, col] > c) for sd in seeds]
        r = vp.tally(seeds, [a & ~s for a, s in zip(acc, stop)])
        share = np.mean(np.concatenate(stop))
        print(f"  stop {side} {c:7.3f} ({share:.2f} of candidates): recall {r['recall']:.4f} (all verified "
              f"{base['recall']:.4f}), true {r['true_accepts']}, false {r['false_accepts']}, "
              f"groups {r['false_group_pairs']}")
