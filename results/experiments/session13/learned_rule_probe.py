"""Session-13 probe: would a learned acceptance rule over the verifier's
outputs and the pair's cosine beat the two cut-offs (verify.threshold 0.55,
verify.max_detail_diff 0.45)?  A logistic regression (numpy, Newton steps,
a small ridge) on (cosine, score, detail) or on those with mirror, scale,
|degrees| and products, trained on the candidate pairs of one half of the
tune scenes (alternate source photos) and scored on the other half's, both
ways; pairs across the halves are left out.  The cut is also chosen as a
rule would choose it, on the training half alone (verify_pairs.py's rule:
the highest recall at no more false accepts and false group pairs than the
cut-offs give there), and scored on the other half.  Recall counts the half's
(original, variant) pairs (taken by an accepted candidate or on the
embedding alone), false accepts and false group pairs its accepted pairs of
two groups, as jobs/verify_pairs.py counts them.

    /usr/bin/python3 learned_rule_probe.py BINARY > learned_rule_probe.txt
"""
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../../.."))
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, HERE)
from dgtools.imagebench import Truth, truth_table  # noqa: E402
import grid_probe  # noqa: E402
import probe_lib  # noqa: E402  (session 12's, on grid_probe's path)

CUTS = [-2.0, -1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]


def add_halves(d, work):
    """Each group's half (its source photo's position in sorted order, mod 2); per candidate the
    half of both groups (-1 across halves); per variant its half."""
    work = os.path.realpath(work)
    with h5py.File(os.path.join(work, "run.h5"), "r") as f:
        paths = [p.decode() for p in f["items/path"][:]]
    t = Truth(truth_table(os.path.join(work, "corpus"), paths))
    source = {}
    with open(os.path.join(work, "corpus", "sources.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                cols = line.split("\t")
                source[int(cols[0][1:])] = cols[2]
    half = {s: k % 2 for k, s in enumerate(sorted(set(source.values())))}
    group_half = {g: half[s] for g, s in source.items()}
    ga, gb = d["groups"]
    ha, hb = np.array([group_half[g] for g in ga]), np.array([group_half[g] for g in gb])
    d["pair_half"] = np.where(ha == hb, ha, -1)
    d["variant_half"] = np.array([group_half[g] for g in t.group[np.flatnonzero(t.variant)]])


def features(d, rich):
    r, sim = d["rows"], d["sim"]
    score, det = r[:, 2], r[:, 3]
    cols = [sim, score, det]
    if rich:
        cols += [r[:, 5], r[:, 6], np.abs(r[:, 7]), score * det, sim * score, sim * det, score ** 2, det ** 2,
                 sim ** 2]
    return np.stack(cols, 1)


def fit(x, y):
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.c_[(x - mu) / sd, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    for _ in range(30):
        p = 1 / (1 + np.exp(-z @ w))
        h = (z * (p * (1 - p))[:, None]).T @ z + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(h, z.T @ (p - y) + 1e-3 * w)
    return lambda x: np.c_[(x - mu) / sd, np.ones(len(x))] @ w


def counts(data, accepted, half):
    found = n_var = false = 0
    groups = set()
    for k, (d, acc) in enumerate(zip(data, accepted)):
        acc = acc & (d["pair_half"] == half)
        taken = d["direct"].copy()
        vp = d["variant_pair"][acc]
        taken[vp[vp >= 0]] = True
        mine = d["variant_half"] == half
        found += int(taken[mine].sum())
        n_var += int(mine.sum())
        bad = acc & ~d["same"]
        false += int(bad.sum())
        ga, gb = d["groups"]
        groups |= {(k, min(a, b), max(a, b)) for a, b in zip(ga[bad], gb[bad])}
    return found / n_var, false, len(groups)


def evaluate(data, accepted, half):
    recall, false, groups = counts(data, accepted, half)
    return f"recall {recall:.4f}  false accepts {false:>6}  false group pairs {groups:>4}"


def rule_cut(data, logits, rect, half):
    """verify_pairs.py's rule on one half: of the cuts (0.1 apart), the highest recall at no more false
    accepts and false group pairs than the cut-offs give there; None when no cut is within both."""
    _, bound_false, bound_groups = counts(data, rect, half)
    best = None
    for c in np.round(np.arange(-3.0, 6.01, 0.1), 1):
        recall, false, groups = counts(data, [lg >= c for lg in logits], half)
        if false <= bound_false and groups <= bound_groups and (best is None or recall > best[1]):
            best = (c, recall)
    return best[0] if best else None


def main():
    data = grid_probe.seeds_data(sys.argv[1])
    for d, work in zip(data, probe_lib.SPLITS["tune"]):
        add_halves(d, work)
    for rich in (False, True):
        print("features: cosine, score, detail" + (", mirror, scale, |degrees| and products" if rich else ""))
        for test in (0, 1):
            train = 1 - test
            x = np.concatenate([features(d, rich)[d["pair_half"] == train] for d in data])
            y = np.concatenate([d["same"][d["pair_half"] == train] for d in data]).astype(float)
            model = fit(x, y)
            rect = [(d["rows"][:, 2] >= 0.55) & (d["rows"][:, 3] <= 0.45) for d in data]
            print(f"  trained on half {train}, scored on half {test}")
            print(f"    cut-offs 0.55 / 0.45:  {evaluate(data, rect, test)}")
            logits = [model(features(d, rich)) for d in data]
            for c in CUTS:
                print(f"    logit >= {c:4.1f}:       {evaluate(data, [lg >= c for lg in logits], test)}")
            cut = rule_cut(data, logits, rect, train)
            print(f"    the rule's cut on the training half: {cut}")
            if cut is not None:
                print(f"    that cut on this half: {evaluate(data, [lg >= cut for lg in logits], test)}")


if __name__ == "__main__":
    main()
