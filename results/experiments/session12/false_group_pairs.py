"""The held-out job's false edges by pair of groups (build-x/quality-heldout*/run.h5 of
jobs/quality_bench.py --split heldout, demo.ini): which photos the wrong edges join, with the
verifier score and cosine of the two originals.  Reads the benchmark's output only; chooses nothing.
usage: false_group_pairs.py [WORK_FOLDER ...]"""
import collections
import csv
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

from probe_lib import ROOT, SPLITS

for w in sys.argv[1:] or SPLITS["heldout"]:
    with h5py.File(os.path.join(w, "run.h5"), "r") as f:
        paths = [p.decode().split("corpus/")[-1] for p in f["items/path"][:]]
        ids = f["items/id"][:]
        src, dst = f["edges/src"][:], f["edges/dst"][:]
        emb = f["embeddings"][:]
    truth = {r["path"]: r for r in csv.DictReader(open(os.path.join(w, "corpus", "truth.csv")))}
    g = np.array([int(truth[p]["group"]) for p in paths])
    at = np.empty(ids.max() + 1, int)
    at[ids] = np.arange(len(ids))
    s, d = at[src], at[dst]
    wrong = g[s] != g[d]
    pairs = collections.Counter(zip(np.minimum(g[s], g[d])[wrong], np.maximum(g[s], g[d])[wrong]))
    print(f"{os.path.basename(w)}: {len(s)} edges, {wrong.sum()} between different photos "
          f"(precision {1 - wrong.mean():.4f}), {len(pairs)} pairs of photos")
    orig = {int(r["group"]): r for r in truth.values() if r["transform"] == "original"}
    index = {p: k for k, p in enumerate(paths)}
    with tempfile.TemporaryDirectory() as tmp:
        top = pairs.most_common(4)
        with open(f"{tmp}/m", "w") as f:
            for (a, b), _ in top:
                f.write(os.path.join(w, "corpus", orig[a]["path"]) + "\n" + os.path.join(w, "corpus", orig[b]["path"]) + "\n")
        with open(f"{tmp}/p", "w") as f:
            f.write("".join(f"{2 * k} {2 * k + 1}\n" for k in range(len(top))))
        out = subprocess.run([os.path.join(ROOT, "build-x", "dg-verify-pairs"), f"{tmp}/m", f"{tmp}/p"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
    for k, ((a, b), n) in enumerate(top):
        ea, eb = emb[index[orig[a]["path"]]], emb[index[orig[b]["path"]]]
        score, detail = out[k].split()[2:4]
        print(f"  photos {a} and {b}: {n} wrong edges; originals' cosine {float(ea @ eb):.2f}, verifier score "
              f"{float(score):.2f}, detail difference {float(detail):.2f}")
        print(f"    {orig[a]['original'].split('/')[-4:]} {orig[a]['params']}")
        print(f"    {orig[b]['original'].split('/')[-4:]} {orig[b]['params']}")
