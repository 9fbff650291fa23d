#!/usr/bin/python3
"""Where the verifier's work goes on the tune candidates, by outcome (session 18).
PROBE is dg-verify-pairs built with verify_cost_probe.patch (probe_rec.h in src/graph/): after
the usual ten columns it prints, per pair, the cost() calls, the coarse costs of the two refined
candidates, the first path's full-level cost and score, the second path's score and the score of
the thumbnails in place (-2 when their shapes differ).  The candidates are those of
jobs/verify_pairs.py (every pair of the tune outputs with a cosine in [pairs.threshold, 0.9)).
A pair passes as the job decides (verify.threshold 0.55 with max_detail_diff 0.35, or cosine >= 0.7
with a score >= 0.5).
    /usr/bin/python3 results/experiments/session18/verify_cost_by_outcome.py PROBE [THRESHOLD] > verify_cost_by_outcome.txt
"""
import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
spec = importlib.util.spec_from_file_location("vp", os.path.join(ROOT, "jobs", "verify_pairs.py"))
vp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vp)


def main():
    probe, lo = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.34
    parts = [vp.score_seed(os.path.join(ROOT, "build"), os.path.join(ROOT, "build", w), lo, 0.9, 0, verifier=probe)
             for w in ("quality-tune", "quality-tune-seed2", "quality-tune-seed3")]
    R = np.concatenate([p["rows"] for p in parts])
    sim = np.concatenate([p["sim"] for p in parts])
    same = np.concatenate([p["same"] for p in parts])
    sc, det, calls, in_place = R[:, 2], R[:, 3], R[:, 10], R[:, 23]
    passed = ((sc >= 0.55) & (det <= 0.35)) | ((sim >= 0.7) & (sc >= 0.5))
    print(f"tune seeds 1-3, candidates {lo} <= cosine < 0.9: {len(R)} pairs, {int(passed.sum())} pass")
    print(f"cost() calls per pair: mean {calls.mean():.1f}, passing {calls[passed].mean():.1f}, "
          f"rejected {calls[~passed].mean():.1f}; percentiles 5/25/50/75/95: {np.percentile(calls, [5, 25, 50, 75, 95])}")
    print("\nby outcome (same = one photo's copies):")
    for name, m in (("same, pass", same & passed), ("same, rejected", same & ~passed),
                    ("different, pass", ~same & passed), ("different, rejected", ~same & ~passed)):
        print(f"  {name:20s} {int(m.sum()):6d} pairs, {calls[m].sum() / calls.sum():.3f} of the cost() calls")
    print("\nearly cues, passing pairs against rejected ones (percentiles 0.1/1/5/50 and 50/95/99):")
    for name, col in (("coarse cost", 13), ("first path score", 19)):
        v = R[:, col]
        print(f"  {name}: passing {np.round(np.percentile(v[passed], [0.1, 1, 5, 50]), 3)}, "
              f"rejected {np.round(np.percentile(v[~passed], [50, 95, 99]), 3)}")
    shape = in_place > -2
    print(f"\nthumbnails of one shape: {int(shape.sum())} pairs, {calls[shape].sum() / calls.sum():.3f} of the calls")
    for t in (0.7, 0.8, 0.85, 0.9):
        m = in_place >= t
        print(f"  scored >= {t} in place: {int(m.sum())} pairs ({int(passed[m].sum())} pass), "
              f"{calls[m].sum() / calls.sum():.3f} of the calls")


if __name__ == "__main__":
    main()
