#!/usr/bin/python3
"""Ink clear of a flat ground's sides (session 16) on the tune split, the job
end to end: jobs/quality_bench.py --split tune --seed S --out
results/experiments/session16/tune_after_seedS.json for S = 1, 2, 3, against
session 15's final figures on the same dg-mkbench corpora
(results/experiments/session15/tune_after_seedS.json: a5f8a1b; its later
commits gave the same signatures and boxes).  Prints overall precision,
recall, the hard negatives, the pairs verified per item and every transform
whose count of (original, variant) pairs found moved, pooled over the seeds.

    results/experiments/session16/tune_before_after.py > tune_before_after.txt
"""
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SESSION15 = os.path.join(HERE, "..", "session15")
spec = importlib.util.spec_from_file_location("tune_before_after_s15", os.path.join(SESSION15, "tune_before_after.py"))
s15 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s15)
s15.compare(os.path.join(SESSION15, "tune_after_seed{seed}.json"), os.path.join(HERE, "tune_after_seed{seed}.json"))
