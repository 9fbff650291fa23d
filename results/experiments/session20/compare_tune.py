"""Tune-split job figures before and after a change, seed by seed: precision, recall, false edges,
every transform whose found count moved, photos merged away.  Reads quality_bench.py outputs only.
usage: compare_tune.py BEFORE_SEED1 BEFORE_SEED2 BEFORE_SEED3 AFTER_SEED1 AFTER_SEED2 AFTER_SEED3
(before this session: git show d77323d:results/quality_tune.json and
d77323d:results/experiments/session19/tune_seeds/tune_seed{2,3}.json)"""
import json
import sys

if len(sys.argv) != 7:
    sys.exit(__doc__)
for s in range(3):
    a = json.load(open(sys.argv[1 + s]))
    b = json.load(open(sys.argv[4 + s]))
    A, B = a["dupgraph"], b["dupgraph"]
    oa, ob = A["overall"], B["overall"]
    ha, hb = A["hard_negatives"], B["hard_negatives"]
    print(f"seed {s + 1}: precision {oa['precision']:.4f} -> {ob['precision']:.4f}  "
          f"recall {oa['recall']:.4f} -> {ob['recall']:.4f}  "
          f"false edges between pieces {ha['edges']} -> {hb['edges']}, "
          f"between photos {ha['other_false_edges']} -> {hb['other_false_edges']}")
    fa = {(t["transform"], t["strength"]): t["found"] for t in A["transforms"]}
    fb = {(t["transform"], t["strength"]): t["found"] for t in B["transforms"]}
    moved = [f"{k[0]} {k[1]} {fa[k]} -> {fb[k]}" for k in fa if fa[k] != fb.get(k)]
    print("    found:", ", ".join(moved) or "no transform moved")
    ca, cb = a["components"], b["components"]
    print(f"    photos merged away {ca['photos_merged_away']} -> {cb['photos_merged_away']}, "
          f"component recall {ca['component_recall']:.4f} -> {cb['component_recall']:.4f}")
