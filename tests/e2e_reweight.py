#!/usr/bin/python3
"""e2e_reweight: a planted distribution shift on real photographs, partly
undone by the re-weighting.

Corpus: dg-mkbench on the lomiri-wallpapers-16.04 photographs (each with 25
transformed copies, 320 px).  The job embeds with the descriptor and
filters with the network's Drawing class at 0.4, so it removes mostly the
copies of the drawing-like photos (kind B: a photo whose copies' median
Drawing score is >= 0.2; about half of B goes, 1-2% of the others).
Checked: B's share of the kept items is below 0.7 of its share before
filtering; weighted by /items/weight, B's share closes at least 30% of the
gap to its pre-filter share (measured: 0.333 before, 0.202 kept, 0.256
weighted, 41%); the log reports the kept mean embedding moving back.  The
10% target of issue 8 is met by the synthetic planted shift of test_filter,
where survival within a kind is not a function of the embedding; here it is
(the copies a filter spares differ from the ones it removes, in the
embedding too), so 1 / p(kept | x) cannot refill what was removed.  The job
runs with embed.whitening = corpus, the projection these figures were
measured with: the learned whitening makes copies of one photo alike by
design, so survival is less visible in the embedding and the weights close
less of the gap (27% on this corpus, measured at the change).

usage: e2e_reweight.py PATH/TO/dg-mkbench"""
import csv
import os
import subprocess
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

MKBENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "dg-mkbench")
WEIGHTS = os.environ.get("DG_MOBILENET_WEIGHTS", os.path.join(dgtest.SOURCE_ROOT, "build", "mobilenet_v2.h5"))


def main():
    out = subprocess.run(["dpkg", "-L", "lomiri-wallpapers-16.04"], capture_output=True, text=True)
    photos = sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))
    assert len(photos) >= 10, "lomiri-wallpapers-16.04 is not installed"
    work = dgtest.workdir("reweight")
    listing = os.path.join(work, "photos.txt")
    with open(listing, "w") as f:
        f.write("".join(p + "\n" for p in photos))
    corpus = os.path.join(work, "corpus")
    subprocess.run([MKBENCH, "--photos", listing, "--out", corpus, "--seed", "5", "--max-originals", str(len(photos)),
                    "--size", "320"], check=True, capture_output=True)
    res = os.path.join(work, "out.h5")
    proc = dgtest.dupgraph(["run", "-c", os.path.join(dgtest.SOURCE_ROOT, "configs", "demo.ini"), "-o", res,
                            "--set", f"input.manifest={corpus}/manifest.txt", "--set", "job.resume=false",
                            "--set", f"embed.weights={WEIGHTS}", "--set", "filter.enabled=true",
                            "--set", "filter.classes=Drawing", "--set", "filter.threshold=0.4",
                            "--set", "embed.whitening=corpus"], ranks=2)
    log = proc.stdout + proc.stderr
    with h5py.File(res, "r") as f:
        paths = [os.path.relpath(p.decode(), corpus) for p in f["items/path"][:]]
        score = f["items/filter_score"][:]
        kept = f["items/filtered"][:] == 0
        usable = np.isfinite(score)
        w = f["items/weight"][:]
    with open(os.path.join(corpus, "truth.csv")) as f:
        group = {r["path"]: r["group"] for r in csv.DictReader(f)}
    g = np.array([group[p] for p in paths])
    median = {k: np.median(score[g == k]) for k in set(g)}
    b = np.array([median[k] >= 0.2 for k in g]) & usable
    kept &= usable
    before, after = b[usable].mean(), b[kept].mean()
    weighted = (w * b).sum() / w[kept].sum()
    print(f"kind B (drawing-like, {len({k for k in set(g) if median[k] >= 0.2})} photos): share {before:.3f} before "
          f"the filter, {after:.3f} kept, {weighted:.3f} kept and weighted; B kept {kept[b].mean():.2f}, "
          f"others kept {kept[usable & ~b].mean():.2f}")
    print("\n".join(line for line in log.splitlines() if "filter:" in line or "reweight:" in line))
    assert after < 0.7 * before, "the filter did not remove mostly kind B"
    assert abs(weighted - before) <= 0.7 * abs(after - before), "the weights close less than 30% of B's gap"
    assert "of the shift undone" in log
    subprocess.run(["rm", "-rf", work], check=True)
    print("e2e_reweight: OK")


if __name__ == "__main__":
    main()
