#!/usr/bin/python3
"""The tune split's missed (original, copy) pairs of one transform, with the copy's content box and
a rough class (whole window; cut at the photo's right side, where the dark theme's chrome beyond it
was trimmed as a uniform border; a part of the photo; other), from the job outputs of
jobs/quality_bench.py --split tune at seeds 1-3 and the build's dg-verify-pairs and overlay_probe
(results/experiments/session15/overlay_detection.sh builds it).  A pair is taken as configs/demo.ini
takes it: cosine >= 0.9, or >= 0.34 and (cosine >= 0.7 and score >= 0.5, or score >= 0.55 and
detail <= 0.35); the job's search and budget can only lose more.

    /usr/bin/python3 results/experiments/session16/screenshot_misses.py [BUILD] [TRANSFORM] [STRENGTH]
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools.imagebench import Truth, truth_table  # noqa: E402


def misses(build, work, kind, strength):
    with h5py.File(os.path.join(work, "run.h5"), "r") as f:
        emb = f["embeddings"][:]
        paths = [p.decode() for p in f["items/path"][:]]
    t = Truth(truth_table(os.path.join(work, "corpus"), paths))
    v = np.flatnonzero((t.transform == kind) & (t.strength == strength))
    o = t.original[v]
    e = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    cos = (e[v] * e[o]).sum(1)
    with tempfile.NamedTemporaryFile("w", suffix=".pairs") as pf:
        pf.write("".join(f"{min(a, b)} {max(a, b)}\n" for a, b in zip(o, v)))
        pf.flush()
        out = subprocess.run([os.path.join(build, "dg-verify-pairs"), os.path.join(work, "verify_pairs.manifest"),
                              pf.name], capture_output=True, text=True, check=True).stdout
    rows = {(int(r.split()[0]), int(r.split()[1])): r.split()[2:] for r in out.splitlines()}
    for a, b, c in zip(o, v, cos):
        score, detail = (float(x) for x in rows[(min(a, b), max(a, b))][:2])
        if not (c >= 0.9 or (c >= 0.34 and ((c >= 0.7 and score >= 0.5) or (score >= 0.55 and detail <= 0.35)))):
            yield paths[b], c, score, detail


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    kind, strength = (sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else ("screenshot", "strong")
    found = [m for s in ("", "-seed2", "-seed3")
             for m in misses(build, os.path.realpath(os.path.join(build, "quality-tune" + s)), kind, strength)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as lf:
        lf.write("".join(p + "\n" for p, *_ in found))
        lf.flush()
        boxes = subprocess.run([os.path.join(build, "overlay_probe"), lf.name], capture_output=True, text=True,
                               check=True).stdout.splitlines()
    classes = {}
    for (path, c, score, detail), line in zip(found, boxes):
        w, h, x0, y0, x1, y1 = (int(x) for x in line.split()[1:7])
        cls = ("whole window" if (x0, y0, x1, y1) == (0, 0, w, h) else
               "cut at the photo's right side" if (x0, y0, y1) == (0, 0, h) else
               "part of the photo" if x1 - x0 < 0.22 * w or y1 - y0 < 0.45 * h else "other")
        classes.setdefault(cls, []).append(f"{os.path.relpath(path, os.path.join(ROOT, build))} box {x0},{y0}-{x1},{y1} "
                                           f"cos {c:.3f} score {score:.3f} detail {detail:.3f}")
    print(f"# {kind} {strength}: {len(found)} tune pairs missed (seeds 1-3)")
    for cls, rows in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        print(f"{cls}: {len(rows)}")
        for r in sorted(rows):
            print("  " + r)


if __name__ == "__main__":
    main()
