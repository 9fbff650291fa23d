#!/usr/bin/python3
"""The watermark fill on the tune split, the job end to end (session 15):
jobs/quality_bench.py --split tune --seed S for S = 1, 2, 3, with the code
before (153372f: tune_before_seedS.json) and after (a5f8a1b: the watermark
fill, smooth pasted photos, the whitening learned again and pairs.threshold
0.34: tune_after_seedS.json),
on the same dg-mkbench corpora.  Prints overall precision, recall, the hard
negatives, the pairs verified per item and every transform whose count of
(original, variant) pairs found moved, pooled over the seeds.

    results/experiments/session15/tune_before_after.py > tune_before_after.txt
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def figures(path):
    d = json.load(open(os.path.join(HERE, path)))
    o, h = d["dupgraph"]["overall"], d["dupgraph"]["hard_negatives"]
    found = {f"{x['transform']} {x['strength']}": (x["found"], x["pairs"]) for x in d["dupgraph"]["transforms"]}
    return o, h, found, d["candidate_cost"]["scored_per_item"]


def compare(before, after):
    """Prints the comparison; before and after: file name patterns with {seed}, beside this script
    or absolute."""
    pooled = {}
    for seed in (1, 2, 3):
        ob, hb, fb, cb = figures(before.format(seed=seed))
        oa, ha, fa, ca = figures(after.format(seed=seed))
        print(f"seed {seed}: precision {ob['precision']:.4f} -> {oa['precision']:.4f}, recall {ob['recall']:.4f} -> "
              f"{oa['recall']:.4f}, hard-negative edges {hb['edges']} -> {ha['edges']} joining {hb['group_pairs']} -> "
              f"{ha['group_pairs']} pairs of groups, pairs verified per item {cb:.1f} -> {ca:.1f}")
        for k in fb:
            p = pooled.setdefault(k, [0, 0, 0])
            p[0] += fb[k][0]
            p[1] += fa[k][0]
            p[2] += fb[k][1]
    print("(original, variant) pairs found, seeds 1-3 pooled, where they moved:")
    for k, (b, a, pairs) in sorted(pooled.items()):
        if b != a:
            print(f"  {k:20s} {b} -> {a} of {pairs}")


if __name__ == "__main__":
    compare("tune_before_seed{seed}.json", "tune_after_seed{seed}.json")
