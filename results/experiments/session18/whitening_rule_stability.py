#!/usr/bin/python3
"""How steady jobs/learn_whitening.py's choice is (session 18): its rule (the best mean recall of the
two tune halves at the corpus-only projection's false candidates per item; within TIE of it the
largest ridge, then the smallest eps; pairs.threshold the mean of the halves' thresholds) applied
again with one tune scene left out at a time, the halves otherwise as learn_whitening makes them.
Reads the tune corpus of BUILD/quality-tune (seed 1) through the job's own descriptor; tune items
only (learn_whitening's tune_items refuses held-out ones).
    nice /usr/bin/python3 results/experiments/session18/whitening_rule_stability.py [BUILD] > whitening_rule_stability.txt
"""
import collections
import importlib.util
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
spec = importlib.util.spec_from_file_location("lw", os.path.join(ROOT, "jobs", "learn_whitening.py"))
lw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lw)


def choose(x, t, group, keep, half_a):
    """learn_whitening's rule on the items in keep: (ridge, eps, threshold, margin), margin = how far the
    chosen setting's mean recall lies inside the tie band (negative: outside)."""
    table = {}
    for fit, score in ((half_a & keep, ~half_a & keep), (~half_a & keep, half_a & keep)):
        pairs_fit = lw.copy_pairs(t, fit)
        idx = np.flatnonzero(score)
        remap = {j: k for k, j in enumerate(idx)}
        pairs_score = np.array([(remap[a], remap[b]) for a, b in lw.copy_pairs(t, score)])
        base = lw.curve(lw.project(x[score], np.eye(x.shape[1]), lw.CORPUS_EPS), pairs_score, group[score])
        budget = [r for r in base if r[0] == lw.DEFAULT_THRESHOLD][0]
        for ridge in lw.RIDGES:
            w = lw.learn_w(x, pairs_fit, ridge)
            for eps in lw.EPSILONS:
                th, rec, _ = lw.at_budget(lw.curve(lw.project(x[score], w, eps), pairs_score, group[score]), budget[2])
                table.setdefault((ridge, eps), []).append((rec, th))
    mean = {k: (v[0][0] + v[1][0]) / 2 for k, v in table.items()}
    top = max(mean.values())
    best = max((k for k in mean if mean[k] >= top - lw.TIE), key=lambda k: (k[0], -k[1]))
    threshold = round((table[best][0][1] + table[best][1][1]) / 2, 2)
    return best[0], best[1], threshold, mean[best] - (top - lw.TIE)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    os.chdir(ROOT)
    args = type("A", (), {"scenes": "jobs/quality/scenes.tsv", "workdir": os.path.join(build, "quality-tune")})
    paths, t, scene = lw.tune_items(args)
    with lw.native.Describer(build) as d:
        x = d.describe(paths)
    group = np.asarray(t.group)
    names = sorted(set(scene))
    half_a = np.isin(scene, names[::2])
    everything = np.ones(len(paths), bool)
    full = choose(x, t, group, everything, half_a)
    print(f"all {len(names)} tune scenes: ridge {full[0]}, eps {full[1]}, pairs.threshold {full[2]} "
          f"(inside the tie band by {full[3]:+.5f})")
    counts = collections.Counter()
    for name in names:
        r = choose(x, t, group, scene != name, half_a)
        counts[r[:3]] += 1
        print(f"without {name:60s} ridge {r[0]:<6} eps {r[1]:<5} pairs.threshold {r[2]:.2f} (margin {r[3]:+.5f})",
              flush=True)
    print(f"\nchoices over the {len(names)} leave-one-scene-out runs:")
    for k, n in counts.most_common():
        print(f"  ridge {k[0]}, eps {k[1]}, pairs.threshold {k[2]}: {n}")


if __name__ == "__main__":
    main()
