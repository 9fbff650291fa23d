"""Session-13 probes: a dg-verify-pairs binary (a patched build's; environment
variables pass to it) scored on every candidate pair of the tune split's three
dg-mkbench seeds (session 12's probe_lib, over jobs/verify_pairs.py's
score_seed), on a grid with lower detail cut-offs than verify_pairs.py's,
against the adopted verifier's record (AGAINST, default
results/verify_pairs_tune_whitening13.json) under verify_pairs.py's rule: the
highest recall at no more false accepts and false group pairs.

    DG_TRIM=0.25 /usr/bin/python3 grid_probe.py BINARY [AGAINST] > NAME.txt
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../../.."))
sys.path.insert(0, os.path.join(ROOT, "jobs"))
sys.path.insert(0, os.path.join(ROOT, "results/experiments/session12"))
import probe_lib  # noqa: E402
import verify_pairs  # noqa: E402

THRESHOLDS = [0.55, 0.58, 0.60, 0.63, 0.66, 0.70]
MAX_DETAIL_DIFF = [0.25, 0.30, 0.35, 0.40, 0.45, 0.50]


def seeds_data(binary):
    data = []
    for seed, work in enumerate(probe_lib.SPLITS["tune"], 1):
        d = probe_lib.seed_data(work, binary)
        d["seed"] = seed
        data.append(d)
    return data


def main():
    binary = sys.argv[1]
    env = {k: v for k, v in os.environ.items() if k.startswith("DG_")}
    verify_pairs.THRESHOLDS, verify_pairs.MAX_DETAIL_DIFF = THRESHOLDS, MAX_DETAIL_DIFF
    rows = verify_pairs.grid(seeds_data(binary))
    against = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "results/verify_pairs_tune_whitening13.json")
    earlier = json.load(open(against))
    bound, best = verify_pairs.choose(rows, earlier)
    print(f"binary {binary}, environment {env}; tune seeds 1-3")
    print(f"bound ({os.path.relpath(against, ROOT)} at its setting): recall {bound['recall']:.4f}, false accepts "
          f"{bound['false_accepts']}, false group pairs {bound['false_group_pairs']}")
    print(" threshold max_detail  recall  false_acc  group_pairs")
    for r in rows:
        ok = r["false_accepts"] <= bound["false_accepts"] and r["false_group_pairs"] <= bound["false_group_pairs"]
        print(f"   {r['verify_threshold']:.2f}      {r['max_detail_diff']:.2f}    {r['recall']:.4f}  "
              f"{r['false_accepts']:>8}  {r['false_group_pairs']:>5}{'  within the bound' if ok else ''}")
    print(f"rule's choice: {best['verify_threshold']:.2f} / {best['max_detail_diff']:.2f}, recall {best['recall']:.4f}, "
          f"false accepts {best['false_accepts']}, false group pairs {best['false_group_pairs']}" if best else "none")


if __name__ == "__main__":
    main()
