#!/usr/bin/python3
"""Learns the built-in descriptor's whitening from the tune split of the
held-out quality benchmark (issue 13) and writes it as C source
(src/input/whitening_table.c), with its evaluation (results/whitening_tune.json).

Learned whitening (as in Radenovic, Tolias and Chum, "CNN image retrieval
learns from BoW", 2016): from the descriptor differences of every (original,
copy) pair of the tune corpus, C_S = mean of d d^T plus a ridge r tr(C_S)/D I;
W = C_S^(-1/2) makes the directions in which copies of one photo differ as
small as any other.  The job then learns its projection from the corpus as
before, but in W's space: the covariance W C W, its top embed.dim
eigenvectors, partially whitened with the floor (eps + D / n) lambda_1
(src/input/pca.c).  Only the corpus-independent W (and eps) come from here.

Choices (r, eps) are made on the tune split alone, by halves: the tune scenes
are split in two (alternate scene ids), W is learned on one half and scored on
the other, both ways.  The score of a setting is the recall of (original,
copy) pairs at the similarity threshold where it finds as many false
candidates per item (pairs of different groups, the verifier's work) as the
corpus-only projection finds at its default threshold; the setting with the
best mean recall wins (within TIE, the larger ridge: a whitening that
amplifies less the differences the tune copies never show, such as another
decoder's rounding), and W is then learned on the whole tune split; the
pairs.threshold to use with it is the mean of the two halves' thresholds.  Items
of held-out scenes are refused (quality.TuneSet).

    jobs/quality_bench.sh --split tune     # first: builds the tune corpus
    jobs/learn_whitening.py [--build build] [--workdir build/quality-tune]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import native, quality  # noqa: E402
from dgtools.imagebench import Truth, truth_table  # noqa: E402

RIDGES = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
TIE = 0.001  # mean recalls this close count as equal: the larger ridge wins
EPSILONS = [0.1, 0.25, 0.5, 1.0]
CORPUS_EPS = 0.1        # WHITEN_EPS of src/input/pca.c: the corpus-only projection
DEFAULT_THRESHOLD = 0.5  # configs/demo.ini's pairs.threshold before this whitening
DIM = 64                 # embed.dim's default
GRID = np.round(np.arange(0.20, 0.801, 0.01), 2)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--workdir", default="build/quality-tune", help="jobs/quality_bench.sh --split tune's")
    p.add_argument("--scenes", default="jobs/quality/scenes.tsv")
    p.add_argument("--table", default="src/input/whitening_table.c")
    p.add_argument("--out", default="results/whitening_tune.json")
    return p.parse_args()


def scene_photos(scenes, workdir):
    """{photo path: scene id} for every listed scene, as quality_bench.jpeg_source names them (the
    package's JPEG, or WORKDIR/sources/ID.jpg for a PNG), without touching the files."""
    out = {}
    for sid, s in scenes.items():
        path = s["file"]
        if not path.lower().endswith((".jpg", ".jpeg")):
            path = os.path.join(workdir, "sources", sid.replace(":", "__") + ".jpg")
        out[os.path.abspath(path)] = sid
    return out


def tune_items(args):
    """Paths, groups, originals' rows and scene halves of the tune corpus; refuses held-out items."""
    scenes = quality.load_scenes(args.scenes)
    corpus = os.path.join(args.workdir, "corpus")
    if not os.path.exists(os.path.join(corpus, "truth.csv")):
        raise SystemExit(f"learn_whitening: no corpus in {corpus}: run jobs/quality_bench.sh --split tune first")
    photo_scene = scene_photos(scenes, args.workdir)
    with open(os.path.join(corpus, "manifest.txt")) as f:
        paths = [os.path.join(corpus, line.rstrip("\n")) for line in f if line.strip()]
    t = Truth(truth_table(corpus, paths))
    unknown = sorted({p for p in t.t["original"] if os.path.abspath(p) not in photo_scene})
    if unknown:
        raise quality.HeldOutError(f"learn_whitening: {len(unknown)} photo(s) of no listed scene, e.g. {unknown[0]}")
    item_scene = [photo_scene[os.path.abspath(p)] for p in t.t["original"]]
    quality.TuneSet(item_scene, scenes)  # raises on any held-out item
    return paths, t, np.array(item_scene)


def copy_pairs(t, mask):
    """(original, copy) index pairs of the items in mask."""
    group = np.asarray(t.group)
    orig = {g: i for i, g in enumerate(group) if mask[i] and not t.variant[i]}
    return np.array([(orig[g], i) for i, g in enumerate(group) if mask[i] and t.variant[i]])


def learn_w(x, pairs, ridge):
    d = x[pairs[:, 0]] - x[pairs[:, 1]]
    cs = d.T @ d / len(d)
    cs += ridge * np.trace(cs) / cs.shape[0] * np.eye(cs.shape[0])
    w, v = np.linalg.eigh(cs)
    return (v / np.sqrt(w)) @ v.T


def project(x, w, eps):
    """pca.c's projection of the corpus x in W's space (W = identity: the corpus-only one), L2-normalised."""
    mu = x.mean(0)
    c = np.cov(x.T, ddof=1)
    c = w @ c @ w.T
    lam, vec = np.linalg.eigh(c)
    lam, vec = lam[::-1][:DIM], vec[:, ::-1][:, :DIM]
    floor = (eps + x.shape[1] / len(x)) * lam[0]
    p = (vec / np.sqrt(np.maximum(lam, 0) + floor)).T @ w
    e = (x - mu) @ p.T
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def curve(e, pairs, group):
    """Per threshold of GRID: copy recall and false candidates per item."""
    cs = np.sum(e[pairs[:, 0]] * e[pairs[:, 1]], 1)
    s = e @ e.T
    iu = np.triu_indices(len(e), 1)
    false_sims = np.sort(s[iu][group[iu[0]] != group[iu[1]]])
    false_above = len(false_sims) - np.searchsorted(false_sims, GRID, side="left")
    return [(float(th), float(np.mean(cs >= th)), 2.0 * float(fa) / len(e)) for th, fa in zip(GRID, false_above)]


def at_budget(rows, budget):
    """The row of the lowest threshold whose false candidates per item are <= budget."""
    ok = [r for r in rows if r[2] <= budget]
    return min(ok, key=lambda r: r[0]) if ok else rows[-1]


def write_table(path, w, ridge, eps, meta):
    d = w.shape[0]
    lines = [
        "/* whitening_table.c - GENERATED by jobs/learn_whitening.py; do not edit.",
        " * The built-in descriptor's learned whitening (input/whitening.h): W =",
        f" * C_S^(-1/2) of the (original, copy) differences of the tune split, ridge {ridge},",
        f" * and the partial whitening's eps chosen with it ({eps}).",
        f" * Learned from {meta['items']} items ({meta['pairs']} pairs) of {meta['scenes']} tune scenes",
        f" * at {meta['git']} ({meta['command']}). */",
        '#include "input/whitening.h"',
        "",
        f"#if DG_DESC_DIM != {d}",
        '#error "the whitening table is for another descriptor length: rerun jobs/learn_whitening.py"',
        "#endif",
        "",
        f"const int dg_whitening_desc_version = {meta['desc_version']};",
        f"const double dg_whitening_eps = {eps!r};",
        "",
        f"const float dg_whitening_matrix[DG_DESC_DIM * DG_DESC_DIM] = {{",
    ]
    flat = [f"{v:#.7g}f" for v in w.astype(np.float32).ravel()]  # "#": always a decimal point
    for k in range(0, len(flat), 6):
        lines.append("    " + ", ".join(flat[k:k + 6]) + ",")
    lines.append("};")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def desc_version():
    with open(os.path.join(ROOT, "src/input/descriptor.h")) as f:
        for line in f:
            if line.startswith("#define DG_DESC_VERSION"):
                return int(line.split()[2])
    raise SystemExit("learn_whitening: DG_DESC_VERSION not found")


def main():
    args = parse_args()
    os.chdir(ROOT)
    t0 = time.time()
    paths, t, scene = tune_items(args)
    with native.Describer(args.build) as d:
        x = d.describe(paths)
    group = np.asarray(t.group)
    names = sorted(set(scene))
    half_a = np.isin(scene, names[::2])
    print(f"learn_whitening: {len(paths)} tune items of {len(names)} scenes, descriptors {time.time() - t0:.1f} s")

    halves = []
    for name, fit, score in (("A->B", half_a, ~half_a), ("B->A", ~half_a, half_a)):
        pairs_fit = copy_pairs(t, fit)
        idx = np.flatnonzero(score)
        remap = {j: k for k, j in enumerate(idx)}
        pairs_score = np.array([(remap[a], remap[b]) for a, b in copy_pairs(t, score)])
        base = curve(project(x[score], np.eye(x.shape[1]), CORPUS_EPS), pairs_score, group[score])
        budget = [r for r in base if r[0] == DEFAULT_THRESHOLD][0]
        half = {"half": name, "corpus_only": {"threshold": budget[0], "recall": budget[1],
                                              "false_per_item": budget[2]}, "settings": []}
        for ridge in RIDGES:
            w = learn_w(x, pairs_fit, ridge)  # pairs_fit: indices into x, all inside fit
            for eps in EPSILONS:
                rows = curve(project(x[score], w, eps), pairs_score, group[score])
                th, rec, fpi = at_budget(rows, budget[2])
                half["settings"].append({"ridge": ridge, "eps": eps, "threshold": th, "recall": rec,
                                         "false_per_item": fpi})
        halves.append(half)
        print(f"  {name}: corpus-only at {budget[0]}: recall {budget[1]:.4f}, {budget[2]:.1f} false candidates "
              "per item")
    table = []
    for k, s in enumerate(halves[0]["settings"]):
        other = halves[1]["settings"][k]
        table.append({"ridge": s["ridge"], "eps": s["eps"], "mean_recall": (s["recall"] + other["recall"]) / 2,
                      "recall": [s["recall"], other["recall"]], "threshold": [s["threshold"], other["threshold"]]})
    for r in table:
        print(f"  ridge {r['ridge']:<6} eps {r['eps']:<5} recall {r['recall'][0]:.4f} / {r['recall'][1]:.4f} "
              f"(thresholds {r['threshold'][0]:.2f} / {r['threshold'][1]:.2f})")
    top = max(r["mean_recall"] for r in table)
    best = max((r for r in table if r["mean_recall"] >= top - TIE), key=lambda r: (r["ridge"], -r["eps"]))
    base_mean = sum(h["corpus_only"]["recall"] for h in halves) / 2
    threshold = round(sum(best["threshold"]) / 2, 2)
    print(f"chosen: ridge {best['ridge']}, eps {best['eps']}: mean recall {best['mean_recall']:.4f} against "
          f"{base_mean:.4f} for the corpus-only projection at the same false candidates per item; its pairs.threshold "
          f"{threshold} (the halves' mean)")

    w = learn_w(x, copy_pairs(t, np.ones(len(paths), bool)), best["ridge"])
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src"]).returncode != 0:
        git += "+changes"
    command = "jobs/learn_whitening.py " + " ".join(sys.argv[1:])
    meta = {"items": len(paths), "pairs": int(t.variant.sum()), "scenes": len(names), "git": git,
            "command": command.strip(), "desc_version": desc_version()}
    write_table(args.table, w, best["ridge"], best["eps"], meta)
    result = {"benchmark": "learn_whitening", "split": "tune", "command": command.strip(), "git": git,
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "meta": meta,
              "rule": "best mean recall over the two halves at the corpus-only projection's false candidates "
                      f"per item at pairs.threshold {DEFAULT_THRESHOLD}; within {TIE} of it, the larger ridge, "
                      "then the smaller eps",
              "halves": halves, "table": table, "chosen": {"ridge": best["ridge"], "eps": best["eps"], "pairs_threshold": threshold},
              "corpus_only_mean_recall": base_mean, "seconds": round(time.time() - t0, 1)}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"(wrote {args.table} and {args.out})")


if __name__ == "__main__":
    main()
