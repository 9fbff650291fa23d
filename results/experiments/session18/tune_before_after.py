#!/usr/bin/python3
"""The story canvas's lower sharpness floor (a probe, not adopted) on the tune split, the job end to end (session 18):
jobs/quality_bench.py --split tune --seed S for S = 1, 2, 3 before (a993db3's outputs, the same as
the session's start 9c96515: results/experiments/session16/tune_after_seedS.json) and after
(STORY_FLOOR 0.05, descriptor 13, the whitening learned again: ridge 0.03, pairs.threshold 0.32:
story_floor_probe/tune_after_seedS.json), on the same dg-mkbench corpora.  Uses session 15's comparison.

    /usr/bin/python3 results/experiments/session18/tune_before_after.py > tune_before_after.txt
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("tba", os.path.join(HERE, "..", "session15", "tune_before_after.py"))
tba = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tba)

if __name__ == "__main__":
    tba.compare(os.path.join(HERE, "..", "session16", "tune_after_seed{seed}.json"),
                os.path.join(HERE, "story_floor_probe", "tune_after_seed{seed}.json"))
