#!/usr/bin/python3
"""The held-out quality benchmark's component figures (jobs/quality_bench.py
component_figures): what deduplication does with a run's components, on a
hand-made truth whose answer is known: copies counted with their original
only when both are usable and share a component, and a photo merged away
when its original's component is kept through another photo's item.

usage: test_quality_components.py   (DG_SOURCE_ROOT: the project folder)
"""
import os
import sys

import numpy as np

ROOT = os.environ.get("DG_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "jobs"))
import quality_bench  # noqa: E402  (jobs/quality_bench.py; its main is not run)


class Truth:
    # items 0..6: photo 0 = original 0 with copies 1, 2 and 6 (6 unusable); photo 1 = original 3
    # with copy 4; photo 2 = original 5 alone
    group = np.array([0, 0, 0, 1, 1, 2, 0])
    original = np.array([0, 0, 0, 3, 3, 5, 0])
    transform = np.array(["original", "jpeg", "crop", "original", "blur", "original", "logo"])
    variant = transform != "original"


class Items:
    truth = Truth()


def main():
    usable = np.array([True] * 6 + [False])
    # components: {0, 1} kept 0; {2} kept 2; {3, 4, 5} kept 3 (photo 2 merged into photo 1); 6 alone
    component = np.array([0, 0, 2, 3, 3, 3, 6])
    keep = np.array([1, 0, 1, 1, 0, 0, 0])
    c = quality_bench.component_figures(Items, component, keep, usable)
    failures = []
    if (c["copies"], c["copies_with_original"]) != (3, 2):
        failures.append(f"copies {c['copies']} with original {c['copies_with_original']}, expected 3 and 2")
    if (c["photos"], c["merged_groups"]) != (3, [2]):
        failures.append(f"photos {c['photos']} merged {c['merged_groups']}, expected 3 and [2]")
    # the kept item on photo 2's side instead: photo 1 is the one merged away
    c = quality_bench.component_figures(Items, component, np.array([1, 0, 1, 0, 0, 1, 0]), usable)
    if c["merged_groups"] != [1]:
        failures.append(f"kept item of photo 2: merged {c['merged_groups']}, expected [1]")
    for f in failures:
        print(f"FAIL: {f}")
    print("component figures: " + ("failed" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
