#!/usr/bin/python3
"""Chooses configs/demo.ini's verifier settings on the tune split of the
held-out quality benchmark (issue 13): jobs/quality_bench.py --split tune for
every setting of a grid (with the config's other settings), then one by a
fixed rule.  Never reads held-out items: quality_bench's tune split only.

  thresholds: verify.threshold x verify.accept_above; the highest tune recall
      whose tune precision is at least MIN_PRECISION (the 0.99 target with a
      margin: the tune split holds few hard negatives); ties go to the higher
      precision; every candidate verified (verify.max_candidates = 0: the
      budget is chosen after, at these thresholds).  When no setting reaches
      MIN_PRECISION the rule chooses nothing ("chosen": null) and the config
      stays as it is.
      -> results/verify_grid_tune.json
  budget: verify.max_candidates (0 = every candidate verified, the
      reference); the smallest budget whose tune recall is at most
      BUDGET_RECALL_LOSS below the reference's: the verifier's work bounded
      per item at no real cost in recall; when no budget of the grid keeps
      that recall, "chosen": null and the config stays.
      -> results/verify_budget_tune.json

With --seeds 1,2,3 every setting runs on the tune corpora of those
dg-mkbench seeds (the same tune photos, copies with other random
parameters; seed S > 1 in BUILD/quality-tune-seedS) and the rule reads
their edges and pairs together: three times the pairs of one seed.

    jobs/verify_grid.py thresholds [--build build] [--out FILE] [--seeds 1,2,3]
    jobs/verify_grid.py budget [--build build] [--out FILE] [--seeds 1,2,3]
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import quality  # noqa: E402
THRESHOLDS = [0.55, 0.58, 0.60, 0.63, 0.66, 0.70]
ACCEPT_ABOVE = [0.90, 0.92, 0.94]  # below 0.9 more pairs would be taken on the embedding alone
MIN_PRECISION = 0.995
BUDGETS = [0, 5, 10, 15, 20, 30, 40]
BUDGET_RECALL_LOSS = 0.001


def tune_run(build, name, sets, seeds):
    """quality_bench --split tune with the --set overrides, once per dg-mkbench seed (the same tune
    photos, copies with other random parameters): overall precision and recall over the seeds'
    edges and pairs together, pairs scored per item; and each seed's."""
    edges = correct = pairs = found = scored = items = 0
    per_seed = []
    for seed in seeds:
        work = quality.workdir(build, "tune", seed)
        out = os.path.join(build, f"verify_grid_{name}" + ("" if seed == 1 else f"_seed{seed}") + ".json")
        cmd = [sys.executable, "jobs/quality_bench.py", "--split", "tune", "--build", build, "--seed", str(seed),
               "--workdir", work, "--out", out]
        for s in sets:
            cmd += ["--set", s]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            res = json.load(f)
        o, cost = res["dupgraph"]["overall"], res["candidate_cost"]
        edges, correct = edges + o["edges"], correct + o["correct_edges"]
        pairs, found = pairs + o["variant_pairs"], found + o["found"]
        scored, items = scored + cost["scored"], items + cost["items"]
        per_seed.append({"seed": seed, "precision": o["precision"], "recall": o["recall"]})
    row = {"precision": correct / edges if edges else 1.0, "recall": found / pairs,
           "scored_per_item": round(scored / items, 2)}
    if len(seeds) > 1:
        row["per_seed"] = per_seed
    return row


def grid_thresholds(build, seeds):
    rows = []
    for vt in THRESHOLDS:
        for aa in ACCEPT_ABOVE:
            r = {"verify_threshold": vt, "accept_above": aa}
            r.update(tune_run(build, f"{vt}_{aa}", [f"verify.threshold={vt}", f"verify.accept_above={aa}",
                                                    "verify.max_candidates=0"], seeds))
            rows.append(r)
            print(f"verify.threshold {vt:.2f} accept_above {aa:.2f}: precision {r['precision']:.4f} "
                  f"recall {r['recall']:.4f}")
    ok = [r for r in rows if r["precision"] >= MIN_PRECISION]
    best = max(ok, key=lambda r: (r["recall"], r["precision"])) if ok else None
    rule = (f"highest tune recall with tune precision >= {MIN_PRECISION}; ties: higher precision; "
            "no choice when no setting reaches that precision (the config then stays as it is)")
    return rows, best, rule, f"no setting reaches tune precision {MIN_PRECISION}"


def grid_budget(build, seeds):
    rows = []
    for k in BUDGETS:
        r = {"max_candidates": k}
        r.update(tune_run(build, f"budget_{k}", [f"verify.max_candidates={k}"], seeds))
        rows.append(r)
        print(f"verify.max_candidates {k}: precision {r['precision']:.4f} recall {r['recall']:.4f}, "
              f"{r['scored_per_item']} pairs verified per item")
    ref = rows[0]["recall"]
    ok = [r for r in rows[1:] if r["recall"] >= ref - BUDGET_RECALL_LOSS]
    best = min(ok, key=lambda r: r["max_candidates"]) if ok else None
    rule = (f"smallest budget with tune recall >= the unbudgeted run's minus {BUDGET_RECALL_LOSS}; "
            "no choice when no budget of the grid keeps that recall (the config then stays as it is)")
    return rows, best, rule, f"no budget of {BUDGETS[1:]} keeps tune recall within {BUDGET_RECALL_LOSS} of {ref:.4f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("grid", choices=("thresholds", "budget"))
    p.add_argument("--build", default="build")
    p.add_argument("--out", help="default results/verify_grid_tune.json or results/verify_budget_tune.json")
    p.add_argument("--seeds", default="1", help="dg-mkbench seeds of the tune corpora, comma-separated (default 1)")
    args = p.parse_args()
    try:
        seeds = [int(x) for x in args.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds: expected comma-separated integers, got {args.seeds}")
    out = args.out or ("results/verify_grid_tune.json" if args.grid == "thresholds"
                       else "results/verify_budget_tune.json")
    os.chdir(ROOT)
    t0 = time.time()
    rows, best, rule, none = (grid_thresholds if args.grid == "thresholds" else grid_budget)(args.build, seeds)
    print("chosen: " + (", ".join(f"{k} {v}" for k, v in best.items()) if best else
                        f"none: {none}; leave the config as it is"))
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    with open(out, "w") as f:
        json.dump({"benchmark": "verify_grid", "grid": args.grid, "split": "tune", "git": git,
                   "command": "jobs/verify_grid.py " + " ".join(sys.argv[1:]),
                   "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)),
                   "seeds": seeds, "rule": rule, "rows": rows, "chosen": best, "seconds": round(time.time() - t0, 1)}, f, indent=1)
    print(f"(wrote {out})")


if __name__ == "__main__":
    main()
