#!/usr/bin/python3
"""How much the quality benchmark's figures move with the transform seed
(issue 13): runs jobs/quality_bench.py on one split for several dg-mkbench
seeds (the same photos, each copy made with other random parameters: crop
positions, overlay texts, rotation angles, qualities) and writes the spread
of every target and of the overall figures to results/quality_SPLIT_seeds.json.

A per-transform recall counts about a hundred pairs, so one more or one fewer
pair found moves it by 0.01; the spread across seeds says which differences
between two runs, or between a figure and its target, are larger than the
benchmark's own noise.  Nothing here is chosen: the held-out runs read the tune
split's choices (results/quality_tune.json) as jobs/quality_bench.sh does.

    jobs/quality_seeds.py [--split heldout] [--seeds 1,2,3] [--build build] [--out FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import time

WIDE = 0.02  # a spread worth a row in the README's table: two pairs of a hundred

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import quality  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", default="heldout", choices=["tune", "heldout"])
    p.add_argument("--seeds", default="1,2,3", help="dg-mkbench seeds, comma-separated")
    p.add_argument("--build", default="build")
    p.add_argument("--out", help="default results/quality_SPLIT_seeds.json")
    args = p.parse_args()
    try:
        args.seeds = [int(s) for s in args.seeds.split(",")]
    except ValueError:
        p.error(f"--seeds: expected comma-separated integers, got {args.seeds}")
    if len(args.seeds) < 2 or len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds: give two or more different seeds")
    args.out = args.out or f"results/quality_{args.split}_seeds.json"
    return args


def run_seed(args, seed):
    """One quality_bench.py run; returns its result file's contents."""
    work = quality.workdir(args.build, args.split, seed)
    out = work + ".json"
    cmd = [sys.executable, "jobs/quality_bench.py", "--split", args.split, "--build", args.build, "--seed", str(seed),
           "--workdir", work, "--out", out]
    print(f"quality_seeds: seed {seed}: {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def spread(values):
    present = [v for v in values if v is not None]
    return {"min": min(present), "mean": sum(present) / len(present), "max": max(present)} if present else None


def aggregate(args, runs):
    """Per target (by its name): its value and verdict per seed and their spread; the overall
    figures per seed."""
    names = []
    for r in runs:
        names += [v["what"] for v in r["verdicts"] if v["what"] not in names]
    targets = []
    for name in names:
        per = [next((v for v in r["verdicts"] if v["what"] == name), None) for r in runs]
        values = [v["value"] if v else None for v in per]
        targets.append({"what": name, "target": next(v["target"] for v in per if v), "values": values,
                        "met": [v["met"] if v else None for v in per], "spread": spread(values)})
    overall = []
    for seed, r in zip(args.seeds, runs):
        o, p = r["dupgraph"]["overall"], r["phash"]["overall"]
        overall.append({"seed": seed, "precision": o["precision"], "recall": o["recall"], "f1": o["f1"],
                        "phash_f1": p["f1"], "targets_met": sum(v["met"] for v in r["verdicts"]),
                        "targets": len(r["verdicts"]), "component_recall": r["components"]["component_recall"],
                        "scored_per_item": r["candidate_cost"]["scored_per_item"]})
    return targets, overall


def readme_figures(args, targets, overall):
    """The README's block (per seed: the overall F1s, and every target some seed misses or whose
    value moves by WIDE or more, and the overall ones; the result file keeps them all) and the
    strings it quotes."""
    seeds = " | ".join(f"seed {s}" for s in args.seeds)
    lines = [f"{args.split} split, dg-mkbench seeds {', '.join(map(str, args.seeds))}; the targets some seed misses "
             f"or that move by {WIDE} or more:", "",
             f"| figure | target | {seeds} | spread (max - min) | met |",
             "|---|---|" + "---|" * len(args.seeds) + "---|---|"]
    readme = {"seeds": " ".join(map(str, args.seeds)), "wide": str(WIDE)}

    def row(name, target, values, met):
        cells = " | ".join("-" if v is None else f"{v:.3f}" for v in values)
        present = [v for v in values if v is not None]
        width = f"{max(present) - min(present):.3f}"
        judged = sum(1 for m in met if m is not None)
        met_n = f"{sum(1 for m in met if m)} of {judged}" if judged else ""
        lines.append(f"| {name} | {target} | {cells} | {width} | {met_n} |")
        readme[name] = f"{name} {target} {cells} {width} {met_n}"

    for key, label in (("f1", "overall F1"), ("phash_f1", "pHash F1 on the same pairs")):
        row(label, "", [o[key] for o in overall], [None] * len(overall))
    for t in targets:  # the rows worth reading: a target some seed misses, or one that moves
        if t["what"].startswith("overall") or False in t["met"] or t["spread"]["max"] - t["spread"]["min"] >= WIDE:
            row(t["what"], t["target"], t["values"], t["met"])
    met = ", ".join(f"{o['targets_met']} of {o['targets']}" for o in overall)
    lines += ["", f"Targets met per seed: {met}."]
    readme["targets met"] = met
    return "\n".join(lines), readme


def main():
    args = parse_args()
    os.chdir(ROOT)
    t0 = time.time()
    runs = [run_seed(args, s) for s in args.seeds]
    targets, overall = aggregate(args, runs)
    block, readme = readme_figures(args, targets, overall)
    print(block)
    git = runs[0]["git"]
    result = {"benchmark": "quality benchmark across dg-mkbench seeds (issue 13)", "split": args.split,
              "seeds": args.seeds, "command": "jobs/quality_seeds.py " + " ".join(sys.argv[1:]),
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0)), "git": git,
              "runs": [{"seed": s, "command": r["command"], "job": r["job"]["command"]} for s, r in zip(args.seeds, runs)],
              "overall": overall, "targets": targets, "readme": readme, "readme_block": block,
              "seconds": round(time.time() - t0, 1)}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"(wrote {args.out})")


if __name__ == "__main__":
    main()
