"""The verifier variants of session 12 against the adopted one
(results/verify_pairs_tune_sure_stop.json), from their jobs/verify_pairs.py
results in this folder: at the configured 0.55 / 0.45, and at the setting
jobs/verify_pairs.py's rule would choose (highest recall at no more false
accepts and false group pairs than the adopted verifier)."""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = ["screenshot mild", "rotate strong", "offcrop strong", "logo strong"]


def row(path):
    d = json.load(open(path))
    at = next(r for r in d["grid"] if abs(r["verify_threshold"] - 0.55) < 1e-6 and abs(r["max_detail_diff"] - 0.45) < 1e-6)
    c = (d.get("against") or {}).get("chosen") or {}
    m = d["misses_at_config"]
    miss = " ".join(f"{m[k]['score'] + m[k]['detail']:3d}" for k in KINDS)
    rule = f"{c['verify_threshold']:.2f}/{c['max_detail_diff']:.2f} {c['recall']:.4f} {c['false_accepts']:4d}" if c else "-"
    return f"{d.get('label', '')[:44]:44s} {at['recall']:.4f} {at['false_accepts']:5d} {at['false_group_pairs']:3d} | {rule:24s} | {miss}"


print(f"{'verifier':44s} {'recall':6s} {'FA':>5s} {'GP':>3s} | {'rule: setting recall FA':24s} | score+detail misses: "
      + ", ".join(KINDS))
print(row(os.path.join(HERE, "../../verify_pairs_tune_sure_stop.json")))
for f in sorted(glob.glob(os.path.join(HERE, "verify_pairs_*.json"))):
    print(row(f))
