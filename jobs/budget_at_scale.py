#!/usr/bin/python3
"""The verifier's budget at corpus sizes beyond the benchmark's: an estimate from a
quality benchmark job output (issue 13, web scale).

A copy whose embedding similarity to its photo lies in [pairs.threshold,
verify.accept_above) becomes an edge only if the verifier accepts it, and the budget
(verify.max_candidates = K) verifies it only when it ranks among the K most similar
candidates of one of its two items.  In a corpus of N distinct photos an item's
candidates are its own copies plus the unrelated photos above the threshold, a share of
N, so past some N a copy of middling similarity falls out of both items' top K.

From the job output of jobs/quality_bench.py (run.h5: items, stored embeddings, edges) of
a split and seed, for every (original, variant) pair in that range: the number of items
of other groups (distractors: the benchmark's distinct photos, hard negatives included)
more similar to each of its two items than the pair is, and of its own group.  Scaled
to N distractors two ways:
  - per item: each item's own share of distractors above the pair's similarity, times N
    (an item whose ~3000 distractors all lie below counts none at any N: optimistic);
  - pooled: the share of all distractor pairs above it, times N (every item alike).
A pair is within the budget when its rank at one of its items is below K.  Per N: the
share of these candidates within the budget, and the copies still joined to their photo
by an edge (at or above accept_above, or an edge of the run that stays within the
budget) over all copies.  Distractors as similar as the benchmark's (built with hard
negatives) make the figures pessimistic; a web corpus's own duplicates are not counted.
Nothing is chosen from these figures.

    jobs/budget_at_scale.py [--build build] [--split heldout] [--seeds 1,2,3]
                            [--sizes 1e4,1e5,1e6,1e7] [--config configs/demo.ini] [--out FILE]
"""
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import output, quality  # noqa: E402
from dgtools.imagebench import Truth, truth_table  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "jobs"))
from verify_pairs import effective_config  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--split", default="heldout", choices=("tune", "heldout"))
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--sizes", default="1e4,1e5,1e6,1e7", help="corpus sizes N (distinct photos)")
    ap.add_argument("--config", default="configs/demo.ini")
    ap.add_argument("--out", default=None, help="default results/budget_at_scale_SPLIT.json")
    return ap.parse_args()


def settings(build, config):
    """pairs.threshold, verify.accept_above and verify.max_candidates as the job reads the config."""
    cp = effective_config(build, config)
    return (round(cp.getfloat("pairs", "threshold"), 6), round(cp.getfloat("verify", "accept_above"), 6),
            cp.getint("verify", "max_candidates"))


def seed_ranks(work, lo, hi):
    """The copies of one job output: their similarities, whether the run joined them by an
    edge, and for those in [lo, hi) the distractors and own-group items above them at each end."""
    out = output.read(os.path.join(work, "run.h5"), items=("path", "status"), embeddings=True)
    # both sides as real paths: a work folder reached through a link stores the linked path
    paths = [os.path.realpath(p.decode() if isinstance(p, bytes) else p) for p in out.items["path"]]
    truth = Truth(truth_table(os.path.join(os.path.realpath(work), "corpus"), paths))
    usable = output.usable(out.items["status"])
    emb = np.where(usable[:, None], out.embeddings.astype(np.float32), 0.0)
    sims = emb @ emb.T
    g = truth.group
    other = (g[:, None] != g[None, :]) & usable[None, :] & usable[:, None]
    v = np.flatnonzero(truth.variant & usable)
    o = truth.original[v]
    keep = (o >= 0) & usable[np.maximum(o, 0)]
    v, o = v[keep], o[keep]
    c = sims[v, o]
    key = lambda a, b: np.minimum(a, b).astype(np.int64) * truth.n + np.maximum(a, b)  # noqa: E731
    edged = np.isin(key(v, o), key(out.src, out.dst))
    cand = (c >= lo) & (c < hi)
    ends = []
    for a, b, s in zip(v[cand], o[cand], c[cand]):
        row = []
        for x in (a, b):
            own = (g == g[x]) & usable
            own[x] = False
            row += [int(np.sum(sims[x][other[x]] > s)), int(np.sum(sims[x][own] > s)) - 1, int(other[x].sum())]
        ends.append(row)  # own-group count excludes the partner itself
    pooled = np.sort(sims[np.triu(other, 1)])
    return {"sim": c, "edged": edged, "cand": cand, "ends": np.array(ends, float).reshape(-1, 6),
            "pooled": pooled, "items": int(usable.sum())}


def at_size(sd, n_photos, k, hi):
    """Within-budget shares (per item, pooled) of the candidates and the copies still joined."""
    e, s = sd["ends"], sd["sim"][sd["cand"]]
    own_a, own_b = np.maximum(e[:, 1], 0), np.maximum(e[:, 4], 0)
    rank_a = e[:, 0] / e[:, 2] * n_photos + own_a
    rank_b = e[:, 3] / e[:, 5] * n_photos + own_b
    per_item = (rank_a < k) | (rank_b < k)
    tail = 1.0 - np.searchsorted(sd["pooled"], s, side="right") / len(sd["pooled"])
    pooled = (tail * n_photos + own_a < k) | (tail * n_photos + own_b < k)
    above = int(np.sum(sd["sim"] >= hi))
    edged_cand = sd["edged"][sd["cand"]]
    n = len(sd["sim"])
    return {"within_budget_per_item": int(per_item.sum()), "within_budget_pooled": int(pooled.sum()),
            "joined_per_item": (above + int(np.sum(edged_cand & per_item))) / n,
            "joined_pooled": (above + int(np.sum(edged_cand & pooled))) / n}


def main():
    args = parse_args()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    lo, hi, k = settings(args.build, args.config)
    sizes = [float(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    per_seed = {}
    for seed in seeds:
        work = quality.workdir(args.build, args.split, seed)
        if not os.path.exists(os.path.join(work, "run.h5")):
            raise SystemExit(f"budget_at_scale: no {work}/run.h5: run jobs/quality_bench.py --split {args.split} "
                             f"--seed {seed} --build {args.build} first")
        sd = seed_ranks(work, lo, hi)
        n, nc = len(sd["sim"]), int(sd["cand"].sum())
        row = {"items": sd["items"], "copies": n, "at_or_above_accept": int(np.sum(sd["sim"] >= hi)),
               "candidates": nc, "below_threshold": int(np.sum(sd["sim"] < lo)),
               "joined_in_run": float(np.mean((sd["sim"] >= hi) | sd["edged"])), "sizes": {}}
        for size in sizes:
            row["sizes"][f"{size:,.0f}"] = at_size(sd, size, k, hi)
        per_seed[seed] = row
        print(f"{args.split} seed {seed}: {sd['items']} items, {n} copies: {row['at_or_above_accept']} at or above "
              f"{hi:g}, {nc} candidates, {row['below_threshold']} below {lo:g}; joined by an edge in the run "
              f"{row['joined_in_run']:.3f}", flush=True)
        for size, f in row["sizes"].items():
            print(f"  N {size:>10}: candidates within the budget of {k}: {f['within_budget_per_item'] / nc:.3f} "
                  f"(per item), {f['within_budget_pooled'] / nc:.3f} (pooled); copies joined "
                  f"{f['joined_per_item']:.3f} / {f['joined_pooled']:.3f}", flush=True)
    mean = lambda key, size: float(np.mean([per_seed[s]["sizes"][size][key] for s in seeds]))  # noqa: E731
    block = [f"The budget at larger corpora (`jobs/budget_at_scale.py --split {args.split}`, "
             f"results/budget_at_scale_{args.split}.json: an estimate from the {args.split} job outputs of seeds "
             f"{args.seeds}, budget {k}; mean over the seeds). Copies joined to their photo by an edge: "
             f"{np.mean([per_seed[s]['joined_in_run'] for s in seeds]):.3f} in the benchmark's own runs; at"]
    parts = [f"{size} distinct photos {mean('joined_per_item', size):.3f} (per-item tails) to "
             f"{mean('joined_pooled', size):.3f} (pooled tail)" for size in per_seed[seeds[0]]["sizes"]]
    block.append("; ".join(parts) + ".")
    readme = " ".join(block)
    print(readme)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    result = {"what": "the verifier's budget at larger corpus sizes, estimated (jobs/budget_at_scale.py)",
              "command": "jobs/budget_at_scale.py " + " ".join(shlex.quote(x) for x in sys.argv[1:]),
              "started_utc": started, "git": rev, "split": args.split, "pairs_threshold": lo,
              "accept_above": hi, "max_candidates": k, "per_seed": per_seed, "readme_block": readme,
              "readme": {"block": readme}}
    out = args.out or os.path.join(ROOT, "results", f"budget_at_scale_{args.split}.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
