#!/usr/bin/python3
"""The verifier on the tune split's candidate pairs, in seconds (issue 13):
a verifier change measured without a benchmark run per setting.

For each dg-mkbench seed, the tune corpus and its job output from
jobs/quality_bench.py --split tune (run first if missing): every pair of
items whose stored embeddings have a cosine in [pairs.threshold,
verify.accept_above) is a candidate, as when the job verifies every
candidate (verify.max_candidates = 0) and its search misses nothing.
dg-verify-pairs (this checkout's verifier, with the config's
embed.max_pixels) scores them all.  Then, for every
verify.threshold x verify.max_detail_diff of the grid, pooled over the
seeds:
  - recall: the share of (original, variant) pairs taken (cosine at or
    above accept_above, or a candidate the verifier accepts);
  - false accepts: candidate pairs of different groups accepted, and the
    distinct pairs of groups they join;
and at the config's setting, per transform and strength, the pairs missed
and why (not a candidate, the score, the detail check).
With --against an earlier result (the verifier before a change, same seeds
and config), the setting is chosen by a rule: the highest recall whose
false accepts and false group pairs are both at most those of the earlier
verifier at its configured setting (a change may take more copies, not
more wrong pairs); ties go to fewer false accepts.

It never reads held-out items: the tune split's work folders only.  The
figures bound what the job gets (its clustered search and budget can only
lose pairs), so compare settings and verifiers with them, not with the
benchmark's.

    jobs/verify_pairs.py [--build build] [--config configs/demo.ini] [--seeds 1,2,3]
                         [--label NAME] [--out FILE] [--against EARLIER.json]
                         [--verifier PATH]

--verifier judges another dg-verify-pairs (a patched build's, say) on
BUILD's work folders and config, so no second set of tune outputs is made.
"""
import argparse
import configparser
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import machine, quality  # noqa: E402
from dgtools.imagebench import Truth, truth_table  # noqa: E402

THRESHOLDS = [0.55, 0.58, 0.60, 0.63, 0.66, 0.70]
MAX_DETAIL_DIFF = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 1.0]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--config", default="configs/demo.ini")
    ap.add_argument("--seeds", default="1,2,3", help="dg-mkbench seeds of the tune corpora, comma-separated")
    ap.add_argument("--label", default="", help="a name for this verifier in the output (e.g. a branch)")
    ap.add_argument("--out", default=None, help="JSON result (default BUILD/verify_pairs.json)")
    ap.add_argument("--verifier", default=None,
                    help="a dg-verify-pairs to judge instead of BUILD's (BUILD's work folders and config are used)")
    ap.add_argument("--against", default=None,
                    help="an earlier verify_pairs result: choose the setting by the rule against it")
    return ap.parse_args()


def effective_config(build, config):
    """The job's own reading of the config (every key): `dupgraph config -c CONFIG`."""
    text = subprocess.run([os.path.join(build, "dupgraph"), "config", "-c", config], check=True,
                          capture_output=True, text=True).stdout
    cp = configparser.ConfigParser(inline_comment_prefixes=(";",))
    cp.read_string(text)
    return cp


def tune_output(build, config, seed):
    """The seed's tune work folder with its job output, made by quality_bench when missing."""
    work = quality.workdir(build, "tune", seed)
    if not os.path.exists(os.path.join(work, "run.h5")):
        subprocess.run([sys.executable, "jobs/quality_bench.py", "--split", "tune", "--build", build,
                        "--config", config, "--seed", str(seed), "--workdir", work,
                        "--out", os.path.join(build, f"verify_pairs_bench_seed{seed}.json")],
                       check=True, stdout=subprocess.DEVNULL)
    return work


def score_seed(build, work, lo, hi, max_pixels, verifier=None):
    """Every candidate pair of one tune output scored: arrays i, j, group-equal, score, detail_diff,
    the (original, variant) pairs taken on the embedding alone, and the verifier's time per pair.
    verifier: a dg-verify-pairs to run instead of BUILD's (a patched one may print more columns
    after the usual ten; "rows" keeps them all, "sim" the candidates' cosines)."""
    work = os.path.realpath(work)  # run.h5 holds real paths; truth_table compares them with the corpus folder
    with h5py.File(os.path.join(work, "run.h5"), "r") as f:
        emb = f["embeddings"][:]
        paths = [p.decode() for p in f["items/path"][:]]
    truth = Truth(truth_table(os.path.join(work, "corpus"), paths))
    i, j, sim = quality.cosine_pairs_above(emb, lo)
    cand = sim < hi
    with open(os.path.join(work, "verify_pairs.manifest"), "w") as f:
        f.write("".join(p + "\n" for p in paths))
    pairs_file = os.path.join(work, "verify_pairs.pairs")
    np.savetxt(pairs_file, np.stack([i[cand], j[cand]], 1), fmt="%d")
    run = subprocess.run([verifier or os.path.join(build, "dg-verify-pairs"), "--max-pixels", str(max_pixels),
                          os.path.join(work, "verify_pairs.manifest"), pairs_file],
                         check=True, capture_output=True, text=True)
    rows = np.loadtxt(run.stdout.splitlines(), ndmin=2)
    if len(rows) != int(cand.sum()) or (len(rows) and not np.array_equal(rows[:, 0], i[cand])):
        raise SystemExit(f"verify_pairs: dg-verify-pairs answered {len(rows)} of {int(cand.sum())} pairs")
    us = float(run.stderr.rsplit("(", 1)[1].split()[0]) if len(rows) else 0.0
    g = truth.group
    v = np.flatnonzero(truth.variant)
    o = truth.original[v]
    key = lambda a, b: np.minimum(a, b).astype(np.int64) * truth.n + np.maximum(a, b)  # noqa: E731
    direct = np.isin(key(v, o), key(i[~cand], j[~cand]))
    ci, cj = i[cand], j[cand]
    variant_pair = np.full(len(ci), -1)  # index into v of the (original, variant) pair a candidate is
    pos = {int(k): n for n, k in enumerate(key(v, o))}
    for n, k in enumerate(key(ci, cj)):
        variant_pair[n] = pos.get(int(k), -1)
    return {"same": g[ci] == g[cj], "groups": (g[ci], g[cj]),
            "variant_kind": np.array([f"{truth.transform[x]} {truth.strength[x]}" for x in v]),
            "score": rows[:, 2] if len(rows) else np.zeros(0),
            "detail": rows[:, 3] if len(rows) else np.zeros(0), "variant_pair": variant_pair,
            "direct": direct, "n_variants": len(v), "candidates": int(cand.sum()), "us_per_pair": us,
            "items": truth.n, "rows": rows, "sim": sim[cand]}


def agreeing(sd, agree):
    """The candidates the config's second way in takes whatever the detail: cosine >= agree_above
    and score >= agree_threshold (agree = (agree_above, agree_threshold); None or agree_above >= 1:
    none)."""
    if agree is None or agree[0] >= 1.0:
        return np.zeros(len(sd["score"]), bool)
    return (sd["sim"] >= agree[0]) & (sd["score"] >= agree[1])


def tally(seeds_data, accepted):
    """The figures of one acceptance (a mask over each seed's candidates): recall of the (original,
    variant) pairs (taken by an accepted candidate or on the embedding alone), true and false accepts,
    and the pairs of groups the false ones join."""
    found = n_var = false = tp = 0
    false_groups = set()
    for sd, acc in zip(seeds_data, accepted):
        taken = sd["direct"].copy()
        vp = sd["variant_pair"][acc]
        taken[vp[vp >= 0]] = True
        found += int(taken.sum())
        n_var += sd["n_variants"]
        bad = acc & ~sd["same"]
        false += int(bad.sum())
        tp += int((acc & sd["same"]).sum())
        ga, gb = sd["groups"]
        false_groups |= {(sd["seed"], min(a, b), max(a, b)) for a, b in zip(ga[bad], gb[bad])}
    return {"recall": found / n_var, "true_accepts": tp, "false_accepts": false,
            "false_group_pairs": len(false_groups)}


def grid(seeds_data, agree=None):
    """Each (verify.threshold, verify.max_detail_diff) with the config's verify.agree_* (agreeing())."""
    rows = []
    for t in THRESHOLDS:
        for d in MAX_DETAIL_DIFF:
            acc = [((sd["score"] >= t) & (sd["detail"] <= d)) | agreeing(sd, agree) for sd in seeds_data]
            rows.append({"verify_threshold": t, "max_detail_diff": d, **tally(seeds_data, acc)})
    return rows


def misses(seeds_data, threshold, max_detail, agree=None):
    """Per transform and strength, pooled over the seeds, the (original, variant) pairs not taken at a
    setting and why: not a candidate (cosine below pairs.threshold: the embedding), a verifier score
    below threshold, or a detail difference above max_detail (none of them taken by agreeing())."""
    out = {}
    for sd in seeds_data:
        reason = np.full(sd["n_variants"], "embedding", dtype=object)
        reason[sd["direct"]] = "found"
        vp = sd["variant_pair"]
        k = vp >= 0
        why = np.where(sd["score"][k] < threshold, "score", np.where(sd["detail"][k] > max_detail, "detail", "found"))
        reason[vp[k]] = np.where(agreeing(sd, agree)[k], "found", why)
        for kind, why in zip(sd["variant_kind"], reason):
            row = out.setdefault(str(kind), {"pairs": 0, "embedding": 0, "score": 0, "detail": 0})
            row["pairs"] += 1
            if why != "found":
                row[why] += 1
    return dict(sorted(out.items()))


def at_setting(result):
    """The grid row of a result's configured setting."""
    c = result["config_setting"]
    return next(r for r in result["grid"] if abs(r["verify_threshold"] - c["verify_threshold"]) < 1e-6
                and abs(r["max_detail_diff"] - c["max_detail_diff"]) < 1e-6)


def choose(rows, earlier):
    """The rule (module doc): the highest recall at no more false accepts and false group pairs than
    the earlier verifier at its setting; ties to fewer false accepts."""
    bound = at_setting(earlier)
    ok = [r for r in rows if r["false_accepts"] <= bound["false_accepts"]
          and r["false_group_pairs"] <= bound["false_group_pairs"]]
    return bound, max(ok, key=lambda r: (r["recall"], -r["false_accepts"])) if ok else None


def main():
    args = parse_args()
    os.chdir(ROOT)
    t0 = time.time()
    seeds = [int(s) for s in args.seeds.split(",")]
    cfg = effective_config(args.build, args.config)
    lo, hi = cfg.getfloat("pairs", "threshold"), cfg.getfloat("verify", "accept_above")
    data = []
    for seed in seeds:
        sd = score_seed(args.build, tune_output(args.build, args.config, seed), lo, hi,
                        cfg.getint("embed", "max_pixels"), verifier=args.verifier)
        sd["seed"] = seed
        data.append(sd)
        print(f"seed {seed}: {sd['items']} items, {sd['candidates']} candidate pairs "
              f"({int(sd['same'].sum())} of one group), {sd['us_per_pair']:.1f} us per pair")
    agree = (round(cfg.getfloat("verify", "agree_above"), 4), round(cfg.getfloat("verify", "agree_threshold"), 4))
    rows = grid(data, agree)
    now = (round(cfg.getfloat("verify", "threshold"), 4), round(cfg.getfloat("verify", "max_detail_diff"), 4))
    print(f"\nverifier {args.label or '(this checkout)'}: candidates {lo:g} <= cosine < {hi:g}, seeds {args.seeds}"
          + (f"; every row also takes cosine >= {agree[0]:g} at score >= {agree[1]:g} (verify.agree_*)"
             if agree[0] < 1.0 else ""))
    print(" threshold max_detail  recall  true_acc  false_acc  false_group_pairs")
    for r in rows:
        mark = " <- config" if (r["verify_threshold"], r["max_detail_diff"]) == now else ""
        print(f"   {r['verify_threshold']:.2f}      {r['max_detail_diff']:.2f}    {r['recall']:.4f}  "
              f"{r['true_accepts']:>7}  {r['false_accepts']:>9}  {r['false_group_pairs']:>9}{mark}")
    missed = misses(data, *now, agree)
    print(f"\nmissed (original, variant) pairs at the config's {now[0]:.2f} / {now[1]:.2f}, pooled over the seeds:")
    print(" transform             pairs  embedding  score  detail")
    for kind, m in sorted(missed.items(), key=lambda km: -(km[1]["embedding"] + km[1]["score"] + km[1]["detail"])):
        if m["embedding"] + m["score"] + m["detail"]:
            print(f" {kind:<20} {m['pairs']:>6} {m['embedding']:>10} {m['score']:>6} {m['detail']:>7}")
    out = args.out or os.path.join(args.build, "verify_pairs.json")
    result = {"what": "the verifier on every tune candidate pair (issue 13): recall bound and false accepts",
              "label": args.label, "verifier": args.verifier or os.path.join(args.build, "dg-verify-pairs"),
              "command": machine.the_command(ROOT, None), "started_utc": machine.utc_now(),
              "git": machine.git_state(ROOT), "config": args.config, "candidates": [lo, hi], "seeds": seeds,
              "per_seed": [{"seed": sd["seed"], "items": sd["items"], "candidates": sd["candidates"],
                            "us_per_pair": sd["us_per_pair"]} for sd in data],
              "config_setting": {"verify_threshold": now[0], "max_detail_diff": now[1], "agree_above": agree[0],
                                 "agree_threshold": agree[1]},
              "grid": rows, "misses_at_config": missed, "seconds": round(time.time() - t0, 1)}
    if args.against:
        with open(args.against) as f:
            earlier = json.load(f)
        if earlier["seeds"] != seeds or earlier["candidates"] != [lo, hi]:
            raise SystemExit(f"verify_pairs: {args.against} has other seeds or candidates than this run")
        bound, pick = choose(rows, earlier)
        result["against"] = {"file": args.against, "label": earlier["label"], "git": earlier["git"]["commit"],
                             "bound": bound, "chosen": pick}
        print(f"\nagainst {args.against} ({earlier['label']}) at its setting {bound['verify_threshold']:.2f} / "
              f"{bound['max_detail_diff']:.2f}: recall {bound['recall']:.4f}, false accepts {bound['false_accepts']}, "
              f"false group pairs {bound['false_group_pairs']}")
        print("chosen (highest recall at no more false accepts and group pairs): " + (
            f"verify.threshold {pick['verify_threshold']:.2f}, verify.max_detail_diff {pick['max_detail_diff']:.2f}: "
            f"recall {pick['recall']:.4f}, false accepts {pick['false_accepts']}, false group pairs "
            f"{pick['false_group_pairs']}" if pick else "none"))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
