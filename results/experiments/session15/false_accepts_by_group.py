#!/usr/bin/python3
"""Where the tune split's false accepts lie, before and after the watermark fill
(session 15): every candidate pair of the tune job outputs of dg-mkbench seeds
1-3 scored as jobs/verify_pairs.py scores them (cosine in [pairs.threshold,
verify.accept_above), accepted at configs/demo.ini's rule), for the code before
(its own outputs, threshold 0.3, verifier) and after (threshold 0.34): the
false accepts, the pairs of groups they join, and how many of the false
accepts after lie in pairs of groups the false accepts before already joined.

    results/experiments/session15/false_accepts_by_group.py BEFORE_BUILD AFTER_BUILD
    (BEFORE_BUILD: a build of 153372f whose quality-tune* folders hold its tune outputs)
"""
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
sys.path[:0] = [os.path.join(ROOT, "jobs"), os.path.join(ROOT, "python")]
import verify_pairs as vp  # noqa: E402
from dgtools import quality  # noqa: E402


def false_accepts(build, lo, seed):
    work = quality.workdir(build, "tune", seed)
    sd = vp.score_seed(build, work, lo, 0.9, 100000000, os.path.join(build, "dg-verify-pairs"))
    acc = ((sd["score"] >= 0.55) & (sd["detail"] <= 0.35)) | ((sd["sim"] >= 0.7) & (sd["score"] >= 0.5))
    bad = acc & ~sd["same"]
    g0, g1 = sd["groups"][0][bad], sd["groups"][1][bad]
    return [tuple(sorted((int(a), int(b)))) for a, b in zip(g0, g1)]


before_build, after_build = sys.argv[1:3]
for seed in (1, 2, 3):
    fb, fa = false_accepts(before_build, 0.30, seed), false_accepts(after_build, 0.34, seed)
    gb, ga = set(fb), set(fa)
    inside = sum(p in gb for p in fa)
    print(f"seed {seed}: false accepts {len(fb)} -> {len(fa)}, pairs of groups joined {len(gb)} -> {len(ga)} "
          f"({len(ga - gb)} new, {len(gb - ga)} gone); after, {inside} of {len(fa)} false accepts lie in pairs of "
          f"groups joined before")
    for p in sorted(ga - gb):
        print(f"    new: groups {p}: {fa.count(p)} false accepts")
