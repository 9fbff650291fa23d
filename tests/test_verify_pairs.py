#!/usr/bin/python3
"""jobs/verify_pairs.py and dg-verify-pairs.

1. grid() and choose() on hand-made scored candidates whose answer is known:
   recall counts (original, variant) pairs taken on the embedding or by the
   verifier, false accepts and the group pairs they join per seed, and the
   rule takes the highest recall within the earlier verifier's false accepts;
   misses() says why each (original, variant) pair was not taken.
2. dg-verify-pairs on real photographs (lomiri-wallpapers-16.04): a photo
   against itself scores 1 with detail difference about 0, against another photo
   below the threshold, an unreadable file -1, every pair -1 with
   --max-pixels below the photos' size; a pair naming an item past the list
   stops with the line named.

usage: test_verify_pairs.py   (DG_SOURCE_ROOT, DG_BUILD_ROOT: project and build folders)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.environ.get("DG_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BUILD = os.environ.get("DG_BUILD_ROOT") or os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(ROOT, "jobs"))
import verify_pairs  # noqa: E402  (jobs/verify_pairs.py; its main is not run)

PHOTOS = ["/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg"]


def seed_data(seed):
    """Four candidates: two copies (one a variant pair), two of different groups (7-8 and 7-9)."""
    return {"seed": seed, "same": np.array([True, True, False, False]),
            "groups": (np.array([1, 1, 7, 7]), np.array([1, 1, 8, 9])),
            "score": np.array([0.9, 0.62, 0.65, 0.7]), "detail": np.array([0.1, 0.48, 0.3, 0.5]),
            "variant_pair": np.array([0, -1, -1, -1]), "direct": np.array([False, True, False]),
            "n_variants": 3, "variant_kind": np.array(["logo strong", "jpeg mild", "logo strong"])}


def check_grid(failures):
    rows = {(r["verify_threshold"], r["max_detail_diff"]): r for r in verify_pairs.grid([seed_data(1), seed_data(2)])}
    want = {  # (threshold, max_detail_diff): recall, true accepts, false accepts, false group pairs
        (0.60, 0.45): (4 / 6, 2, 2, 2),   # copy 0; false 7-8 (detail 0.3) in each seed
        (0.60, 0.50): (4 / 6, 4, 4, 4),   # + copy 1 (0.48), false 7-9 (0.5)
        (0.66, 1.00): (4 / 6, 2, 2, 2),   # scores 0.9 and 0.7 only
        (0.70, 0.40): (4 / 6, 2, 0, 0),
    }
    for key, (recall, tp, fa, fg) in want.items():
        r = rows[key]
        got = (r["recall"], r["true_accepts"], r["false_accepts"], r["false_group_pairs"])
        if abs(got[0] - recall) > 1e-12 or got[1:] != (tp, fa, fg):
            failures.append(f"grid at {key}: {got}, expected {(recall, tp, fa, fg)}")
    # verify.agree_*: candidate 1 (cosine 0.8, score 0.62, detail 0.48) and the false 7-9 (0.75, 0.7, 0.5)
    agreeing = [seed_data(1), seed_data(2)]
    for sd in agreeing:
        sd["sim"] = np.array([0.5, 0.8, 0.5, 0.75])
    r = {(r["verify_threshold"], r["max_detail_diff"]): r for r in verify_pairs.grid(agreeing, (0.75, 0.6))}[(0.6, 0.45)]
    if (r["true_accepts"], r["false_accepts"], r["false_group_pairs"]) != (4, 4, 4):
        failures.append(f"grid with agree_above 0.75 at (0.6, 0.45): {r}, expected 4 true, 4 false, 4 group pairs")
    r = {(r["verify_threshold"], r["max_detail_diff"]): r for r in verify_pairs.grid(agreeing, (1.0, 0.0))}[(0.6, 0.45)]
    if (r["true_accepts"], r["false_accepts"]) != (2, 2):
        failures.append(f"grid with agree_above 1 (off) at (0.6, 0.45): {r}, expected 2 true, 2 false")
    nothing = [seed_data(1)]
    nothing[0]["score"] = np.zeros(4)
    r = verify_pairs.grid(nothing)[0]
    if abs(r["recall"] - 1 / 3) > 1e-12 or r["false_accepts"]:
        failures.append(f"nothing accepted: recall {r['recall']} (expected 1/3, the pair taken on the embedding)")


def check_misses(failures):
    """Variant 0 is candidate 0 (score 0.9, detail 0.1), variant 1 taken on the embedding, variant 2
    no candidate."""
    want = {(0.60, 0.45): {"logo strong": (4, 2, 0, 0), "jpeg mild": (2, 0, 0, 0)},
            (0.95, 0.45): {"logo strong": (4, 2, 2, 0), "jpeg mild": (2, 0, 0, 0)},
            (0.60, 0.05): {"logo strong": (4, 2, 0, 2), "jpeg mild": (2, 0, 0, 0)}}
    for setting, expected in want.items():
        got = {k: (m["pairs"], m["embedding"], m["score"], m["detail"])
               for k, m in verify_pairs.misses([seed_data(1), seed_data(2)], *setting).items()}
        if got != expected:
            failures.append(f"misses at {setting}: {got}, expected {expected}")


def check_choose(failures):
    rows = [{"verify_threshold": 0.6, "max_detail_diff": 0.5, "recall": 0.90, "false_accepts": 10, "false_group_pairs": 3},
            {"verify_threshold": 0.6, "max_detail_diff": 0.45, "recall": 0.92, "false_accepts": 9, "false_group_pairs": 3},
            {"verify_threshold": 0.55, "max_detail_diff": 0.5, "recall": 0.95, "false_accepts": 11, "false_group_pairs": 3},
            {"verify_threshold": 0.55, "max_detail_diff": 0.45, "recall": 0.93, "false_accepts": 8, "false_group_pairs": 4},
            {"verify_threshold": 0.66, "max_detail_diff": 0.45, "recall": 0.92, "false_accepts": 5, "false_group_pairs": 1}]
    earlier = {"config_setting": {"verify_threshold": 0.600000024, "max_detail_diff": 0.5}, "grid": rows}
    bound, pick = verify_pairs.choose(rows, earlier)
    if bound is not rows[0]:
        failures.append(f"choose: bound {bound}, expected the earlier setting's row")
    if pick is not rows[4]:  # 0.92 twice within the bound: the one with fewer false accepts
        failures.append(f"choose: picked {pick}, expected 0.66 / 0.45")
    earlier["grid"] = [dict(rows[0], false_accepts=0, false_group_pairs=0)]
    if verify_pairs.choose(rows, earlier)[1] is not None:
        failures.append("choose: a setting picked although none is within a bound of 0 false accepts")


def check_tool(failures):
    exe = os.path.join(BUILD, "dg-verify-pairs")
    if not all(os.access(p, os.R_OK) for p in PHOTOS):
        print("SKIP tool part: lomiri-wallpapers-16.04 photos missing")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        paths, pairs, bad = (os.path.join(tmp, n) for n in ("manifest.txt", "pairs", "bad"))
        with open(paths, "w") as f:
            f.write("\n".join(PHOTOS + [os.path.join(tmp, "missing.jpg")]) + "\n")
        with open(pairs, "w") as f:
            f.write("0 0\n0 1\n2 0\n")
        run = subprocess.run([exe, paths, pairs], capture_output=True, text=True)
        rows = [line.split() for line in run.stdout.splitlines()]
        if run.returncode != 0 or len(rows) != 3:
            failures.append(f"dg-verify-pairs: exit {run.returncode}, {len(rows)} lines: {run.stderr}")
            return 0
        same, other, missing = ([float(v) for v in r] for r in rows)
        if same[:3] != [0, 0, 1.0] or not 0 <= same[3] < 0.05:
            failures.append(f"a photo against itself: {same}, expected score 1 and detail difference about 0")
        if not 0 <= other[2] < 0.6:
            failures.append(f"two different photos score {other[2]}, expected below 0.6")
        if missing[2] != -1.0:
            failures.append(f"an unreadable image scores {missing[2]}, expected -1")
        run = subprocess.run([exe, "--max-pixels", "1000", paths, pairs], capture_output=True, text=True)
        rows = [line.split() for line in run.stdout.splitlines()]
        if run.returncode != 0 or len(rows) != 3 or any(float(r[2]) != -1.0 for r in rows) \
                or "more than embed.max_pixels = 1000" not in run.stderr:
            failures.append(f"--max-pixels 1000: exit {run.returncode}, rows {rows}, stderr {run.stderr!r} "
                            "(expected every score -1, the limit named)")
        with open(bad, "w") as f:
            f.write("0 1\n0 3\n")
        run = subprocess.run([exe, paths, bad], capture_output=True, text=True)
        if run.returncode == 0 or ":2:" not in run.stderr:
            failures.append(f"an item past the list: exit {run.returncode}, stderr {run.stderr!r} (expected line 2 named)")
    return 0


def main():
    failures = []
    check_grid(failures)
    check_misses(failures)
    check_choose(failures)
    status = check_tool(failures)
    for f in failures:
        print("FAIL", f)
    if failures:
        return 1
    print("verify_pairs: grid, rule and dg-verify-pairs as expected")
    return status


if __name__ == "__main__":
    sys.exit(main())
