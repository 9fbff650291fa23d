"""Session-12 probes: every candidate pair of the quality benchmark's work
folders (build-x/quality-tune*, made by jobs/quality_bench.py) scored by a
dg-verify-pairs binary, through jobs/verify_pairs.py's score_seed (the
same candidates: stored embeddings, cosine in [pairs.threshold,
verify.accept_above) of configs/demo.ini).  A patched binary prints extra
columns after the usual ten; rows keeps them.

    seed_data(work_folder, verifier) -> score_seed's dict (rows, sim, same, groups, variant_pair, ...)
"""
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.."))
sys.path.insert(0, os.path.join(ROOT, "jobs"))
import verify_pairs  # noqa: E402

SPLITS = {split: [os.path.join(ROOT, "build-x", f"quality-{split}{s}") for s in ("", "-seed2", "-seed3")]
          for split in ("tune", "heldout")}


def seed_data(work, verifier):
    cfg = verify_pairs.effective_config(os.path.join(ROOT, "build-x"), os.path.join(ROOT, "configs", "demo.ini"))
    return verify_pairs.score_seed(os.path.join(ROOT, "build-x"), work, cfg.getfloat("pairs", "threshold"),
                                   cfg.getfloat("verify", "accept_above"), cfg.getint("embed", "max_pixels"),
                                   verifier=os.path.abspath(verifier))


def accepted(rows, threshold=0.55, max_detail=0.45):
    return (rows[:, 2] >= threshold) & (rows[:, 3] <= max_detail)
