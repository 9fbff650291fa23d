#!/usr/bin/python3
"""Proof at size: N x 64 float16 (or float32) synthetic embeddings with planted groups (a
tenth of the items in small groups, plus one giant group of COPIES copies),
one run of the job in forest mode on RANKS ranks, and what it must show:
seconds per stage, peak RSS per rank against the estimate printed before
work, edges written, and recall measured against brute force on a random
sample of query items, with a 95% Wilson lower bound.

Recall here is over the truth the job is asked for at pairs.threshold: for
each sampled query q, every item j with cos(q, j) >= threshold (brute force
over all N rows, float32, the same float16 input the job read).
  - pair recall: the share of those pairs (q, j) whose items end in the same
    component (what forest mode promises: the components of all mode);
  - query recall: the share of queries (with such a j) all of whose pairs are
    found; queries are the independent draws, so its bound is the one to quote;
  - best-match recall: the share of queries with such a j whose
    /items/best_sim equals their true best similarity (within 1e-4).

    jobs/scale_proof.py --n 10000000 --copies 200000 --ranks 2 --queries 20000 \
        --out results/scale_10m.json
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1048576.0


def wilson_lower(hits, n, z=1.96):
    """95% lower confidence bound of a proportion hits / n."""
    if n == 0:
        return float("nan")
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def run_job(work, corpus, ranks, extra):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1")
    cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), "/usr/bin/time", "-f", "rss_kib %M",
           os.path.join(ROOT, "build", "dupgraph"), "run", "-c", os.path.join(ROOT, "configs", "default.ini"),
           "-o", os.path.join(work, "out.h5"), "--set", f"input.embeddings={corpus}",
           "--set", "graph.edges=forest", "--set", f"output.summary={work}/summary.json"]
    for kv in extra:
        cmd += ["--set", kv]
    start = time.monotonic()
    with open(os.path.join(work, "log.txt"), "w") as log:
        proc = subprocess.run(cmd, stderr=log, env=env)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"job failed ({proc.returncode}); log: {work}/log.txt")
    rss = [int(x) * 1024 for x in re.findall(r"rss_kib (\d+)", open(os.path.join(work, "log.txt")).read())]
    return " ".join(cmd).replace(work, "$W").replace(ROOT, "$ROOT"), wall, rss


def brute_force_recall(corpus, out, queries, threshold, seed, block=8192):
    """Neighbours >= threshold of each sampled query, over every row."""
    with h5py.File(out, "r") as f:
        comp = f["items/component"][:]
        best_sim = f["items/best_sim"][:]
    with h5py.File(corpus, "r") as f:
        x = f["embeddings"]
        n = x.shape[0]
        q_ids = np.sort(np.random.default_rng(seed).choice(n, size=min(queries, n), replace=False))
        q = x[q_ids].astype(np.float32)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
        best = np.full(len(q_ids), -np.inf, dtype=np.float32)
        true_pairs = np.zeros(len(q_ids), dtype=np.int64)
        found = np.zeros(len(q_ids), dtype=np.int64)
        for lo in range(0, n, block):
            rows = x[lo:lo + block].astype(np.float32)
            rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-30)
            sim = q @ rows.T
            mine = np.nonzero((q_ids >= lo) & (q_ids < lo + len(rows)))[0]
            sim[mine, q_ids[mine] - lo] = -np.inf  # a query is not its own neighbour
            best = np.maximum(best, sim.max(axis=1))
            qi, jj = np.nonzero(sim >= threshold)
            np.add.at(true_pairs, qi, 1)
            np.add.at(found, qi, comp[q_ids[qi]] == comp[jj + lo])
    has = true_pairs > 0
    complete = int((found[has] == true_pairs[has]).sum())
    best_hits = int((np.abs(best_sim[q_ids[has]] - best[has]) <= 1e-4).sum())
    total, hits, m = int(true_pairs.sum()), int(found.sum()), int(has.sum())
    return {
        "queries": int(len(q_ids)), "seed": seed, "threshold": threshold,
        "queries_with_a_neighbour": m, "true_pairs": total, "pairs_found": hits,
        "pair_recall": hits / max(total, 1),
        # queries are the independent draws, so the bound is over them
        "queries_all_found": complete, "query_recall": complete / max(m, 1),
        "query_recall_lower95": wilson_lower(complete, m),
        "best_match_found": best_hits, "best_match_recall": best_hits / max(m, 1),
        "best_match_recall_lower95": wilson_lower(best_hits, m),
    }


def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--copies", type=int, default=200_000)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--queries", type=int, default=20_000, help="recall sample; 0 = no recall")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--dtype", choices=("float16", "float32"), default="float16")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra job setting")
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="dg-scale-")
    corpus = os.path.join(work, "corpus.h5")
    t0 = time.monotonic()
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "jobs", "synth_embeddings.py"), corpus, "--n", str(a.n),
                    "--d", "64", "--seed", str(a.seed), "--copies", str(a.copies)]
                   + (["--float16"] if a.dtype == "float16" else []), check=True)
    synth_s = time.monotonic() - t0
    cmd, wall, rss = run_job(work, corpus, a.ranks, a.set)
    summary = json.load(open(os.path.join(work, "summary.json")))
    out = os.path.join(work, "out.h5")
    with h5py.File(out, "r") as f:
        attrs = {k: int(f.attrs[k]) for k in ("n_edges", "n_components", "n_items")}
        seconds = {k[len("seconds_"):]: float(v) for k, v in f.attrs.items() if k.startswith("seconds_")}
        threshold = float(f.attrs["pairs_threshold"])
        largest = int(np.unique(f["items/component"][:], return_counts=True)[1].max())
    est = find(summary, "estimate_bytes")
    t0 = time.monotonic()
    recall = brute_force_recall(corpus, out, a.queries, threshold, a.seed) if a.queries else None
    recall_s = time.monotonic() - t0
    res = {
        "command": "jobs/scale_proof.py " + " ".join(sys.argv[1:]),
        "run": cmd, "items": a.n, "dim": 64, "dtype": a.dtype, "copies": a.copies, "ranks": a.ranks,
        "edges_written": attrs["n_edges"], "components": attrs["n_components"], "largest_component": largest,
        "all_mode_edges_of_the_group": a.copies * (a.copies - 1) // 2,
        "peak_rss_bytes_per_rank": rss, "memory_estimate_bytes_per_rank": est,
        "peak_over_estimate": [r / est for r in rss] if est else None,
        "seconds_per_stage": seconds, "seconds_wall": wall,
        "seconds_synth": synth_s, "seconds_recall_check": recall_s,
        "recall_sample": recall,
        "readme": {
            "items": a.n, "copies": a.copies, "ranks": a.ranks, "edges_written": attrs["n_edges"],
            "largest_component": largest,
            "peak_rss_mib": round(max(rss) / MIB, 1), "estimate_mib": round(est / MIB, 1),
            "seconds_pairs": round(seconds.get("pairs", 0.0), 1), "seconds_wall": round(wall, 1),
        },
    }
    if recall:
        res["readme"].update({
            "queries": recall["queries"], "pair_recall": round(recall["pair_recall"], 4),
            "query_recall": round(recall["query_recall"], 4),
            "query_recall_lower95": round(recall["query_recall_lower95"], 4),
            "best_match_recall": round(recall["best_match_recall"], 4),
            "best_match_recall_lower95": round(recall["best_match_recall_lower95"], 4),
        })
    json.dump(res, open(a.out, "w"), indent=1)
    print(json.dumps(res["readme"]))
    if a.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
