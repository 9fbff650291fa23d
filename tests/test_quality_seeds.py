#!/usr/bin/python3
"""The quality benchmark's seed spread (jobs/quality_seeds.py aggregate and
readme_figures) on hand-made runs whose answer is known: a target's values
and verdicts per seed, its spread, a target one seed has no pairs for (shown
as "-" and left out of the spread and the count), and every figure of the
README block listed among the strings check_readme_figures.py accepts.

usage: test_quality_seeds.py   (DG_SOURCE_ROOT: the project folder)
"""
import os
import sys

ROOT = os.environ.get("DG_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "jobs"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import check_readme_figures  # noqa: E402  (its NUMBER: what the README check counts as a figure)
import quality_seeds  # noqa: E402  (jobs/quality_seeds.py; its main is not run)


def run(recall, logo, crop):
    verdicts = [{"what": "overall recall", "value": recall, "target": 0.95, "met": recall >= 0.95},
                {"what": "recall logo strong", "value": logo, "target": 0.95, "met": logo >= 0.95}]
    if crop is not None:  # a crop class a seed's random crops left empty has no verdict
        verdicts.append({"what": "recall crop strong >20%", "value": crop, "target": 0.8, "met": crop >= 0.8})
    return {"verdicts": verdicts,
            "dupgraph": {"overall": {"precision": 0.99, "recall": recall, "f1": 0.97}},
            "phash": {"overall": {"f1": 0.8}},
            "components": {"component_recall": 0.98},
            "candidate_cost": {"scored_per_item": 13.0}}


def main():
    args = type("A", (), {"split": "heldout", "seeds": [1, 2, 3]})()
    runs = [run(0.96, 0.90, 0.85), run(0.94, 0.96, None), run(0.97, 0.93, 0.75)]
    steady = {"what": "recall blur mild", "value": 1.0, "target": 0.95, "met": True}
    for r in runs:
        r["verdicts"].append(dict(steady))
    targets, overall = quality_seeds.aggregate(args, runs)
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    by = {t["what"]: t for t in targets}
    logo = by["recall logo strong"]
    check(logo["values"] == [0.90, 0.96, 0.93] and logo["met"] == [False, True, False], f"logo per seed: {logo}")
    check(abs(logo["spread"]["min"] - 0.90) < 1e-12 and abs(logo["spread"]["max"] - 0.96) < 1e-12
          and abs(logo["spread"]["mean"] - 0.93) < 1e-12, f"logo spread: {logo['spread']}")
    crop = by["recall crop strong >20%"]
    check(crop["values"] == [0.85, None, 0.75] and crop["met"] == [True, None, False], f"crop per seed: {crop}")
    check(abs(crop["spread"]["mean"] - 0.80) < 1e-12, f"crop spread leaves the missing seed out: {crop['spread']}")
    check([o["targets_met"] for o in overall] == [3, 2, 2] and [o["targets"] for o in overall] == [4, 3, 4],
          f"targets met per seed: {overall}")

    block, readme = quality_seeds.readme_figures(args, targets, overall)
    check("| recall crop strong >20% | 0.8 | 0.850 | - | 0.750 | 0.100 | 1 of 2 |" in block,
          "crop row: missing seed as '-', spread and count over the seeds that have it")
    check("| recall logo strong | 0.95 | 0.900 | 0.960 | 0.930 | 0.060 | 1 of 3 |" in block, "logo row")
    check("Targets met per seed: 3 of 4, 2 of 3, 2 of 4." in block, "targets met line")
    check("recall blur mild" in by and "recall blur mild" not in block,
          "a target every seed meets with the same value is in the file, not in the README's table")
    check("| overall F1 |  | 0.970 | 0.970 | 0.970 | 0.000 |  |" in block, "overall F1 row: no target, no verdict")
    quoted = set()
    for v in readme.values():
        quoted.update(check_readme_figures.NUMBER.findall(v))
    numbers = set(check_readme_figures.NUMBER.findall(block))
    check(numbers <= quoted, f"block figures not listed under readme: {sorted(numbers - quoted)}")

    for f in failures:
        print("FAIL:", f)
    print(f"test_quality_seeds: {'ok' if not failures else f'{len(failures)} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
