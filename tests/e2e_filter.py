#!/usr/bin/python3
"""e2e_filter: the neural embedder, the content filter and re-weighting in
the job, under mpirun with 1, 2 and 4 ranks.

Corpus: the lomiri-wallpapers-16.04 photographs fitted to 320 px, a
near-duplicate (recompressed, slightly cropped) of the first eight, and a
file that is not a JPEG.  With embed.method = mobilenet_v2 and the filter on
the head's Drawing class (its threshold set to the median score, so about
half the usable items go): the filtered items have status `filtered`, are
in no edge and are counted in n_filtered, not in n_failed; /items/
{filter_score, filtered, class_prob, weight} hold what the network and the
regression gave (score = the Drawing probability, weights mean 1 over kept
items and 0 elsewhere); the duplicate pairs that survive the filter are
found on the learned embedding; every output dataset is bit-identical for 1,
2 and 4 ranks; the descriptor embedding with the filter gets the same class
probabilities from its own pass; without the filter, a run stopped after the
embed stage on 2 ranks resumes on 4 with the same embeddings; `info` and the
notebook reader read the file.

usage: e2e_filter.py"""
import glob
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402
from dgtools import frame  # noqa: E402

WEIGHTS = os.environ.get("DG_MOBILENET_WEIGHTS", os.path.join(dgtest.SOURCE_ROOT, "build", "mobilenet_v2.h5"))
FILTERED = 10  # dg_status DG_ST_FILTERED
N_DUP = 8


def make_corpus(folder):
    from PIL import Image
    photos = sorted(glob.glob("/usr/share/backgrounds/*_by_*.jpg"))
    assert len(photos) >= 12, "lomiri-wallpapers-16.04 is not installed"
    pairs = []
    for i, src in enumerate(photos):
        im = Image.open(src).convert("RGB")
        im.thumbnail((320, 320))
        im.save(os.path.join(folder, f"p{i:02d}.jpg"), quality=92)
        if i < N_DUP:
            w, h = im.size
            im.crop((w // 40, h // 40, w - w // 40, h - h // 40)).save(os.path.join(folder, f"p{i:02d}_dup.jpg"),
                                                                     quality=60)
            pairs.append((f"p{i:02d}.jpg", f"p{i:02d}_dup.jpg"))
    with open(os.path.join(folder, "zz_not_a_jpeg.jpg"), "wb") as f:
        f.write(b"GIF89a not really")
    return pairs


def config(folder, out, method, threshold):
    return dgtest.write_config(os.path.join(os.path.dirname(out), os.path.basename(out) + ".ini"), f"""
[input]
dir = {folder}
[output]
path = {out}
embeddings = float32
[cluster]
clusterings = 2
[pairs]
threshold = 0.85
[embed]
method = {method}
weights = {WEIGHTS}
[filter]
enabled = true
classes = Drawing
threshold = {threshold}
""")


def load(path):
    out = dgtest.output.read(path, embeddings=True)
    d = dict(out.items, attrs=out.attrs, embeddings=out.embeddings,
             edges={"src": out.src, "dst": out.dst, "sim": out.sim})
    d["paths"] = [os.path.basename(p) for p in out.paths()]
    return d


def run(folder, work, method, threshold, ranks):
    out = os.path.join(work, f"{method}_{ranks}.h5")
    proc = dgtest.dupgraph(["run", "-c", config(folder, out, method, threshold)], ranks=ranks)
    return load(out), proc.stdout + proc.stderr


def main():
    assert os.path.exists(WEIGHTS), f"{WEIGHTS} missing: run jobs/setup_mobilenet.sh"
    work = dgtest.workdir("filter")
    folder = os.path.join(work, "corpus")
    os.makedirs(folder)
    pairs = make_corpus(folder)

    # the Drawing scores without filtering anything (threshold 1: nothing reaches it)
    probe, _ = run(folder, work, "mobilenet_v2", 1.0, 1)
    usable = probe["status"] <= 1
    scores = probe["filter_score"][usable]
    assert np.allclose(scores, probe["class_prob"][usable, 0]) and probe["filtered"].sum() == 0
    threshold = float(np.median(scores))

    runs = {}
    for ranks in (1, 2, 4):
        runs[ranks], log = run(folder, work, "mobilenet_v2", threshold, ranks)
    r = runs[1]
    for ranks in (2, 4):
        for key in ("status", "filter_score", "filtered", "class_prob", "weight", "component", "keep", "embeddings"):
            assert np.array_equal(runs[ranks][key], r[key], equal_nan=True), (key, ranks)
        for key in ("src", "dst", "sim"):
            assert np.array_equal(runs[ranks]["edges"][key], r["edges"][key]), (key, ranks)
    print(log[log.find("filter:"):].splitlines()[0])
    print([line for line in log.splitlines() if "reweight:" in line])

    filtered = r["filtered"] == 1
    assert np.array_equal(filtered, r["status"] == FILTERED)
    assert np.array_equal(filtered, usable & (r["filter_score"] >= np.float32(threshold)))
    assert 0.3 * usable.sum() <= filtered.sum() <= 0.7 * usable.sum(), filtered.sum()
    assert int(r["attrs"]["n_filtered"]) == filtered.sum() and int(r["attrs"]["n_failed"]) == 1
    assert r["attrs"]["format_version"] == 4
    ids = np.flatnonzero(filtered)
    assert not np.isin(r["edges"]["src"], ids).any() and not np.isin(r["edges"]["dst"], ids).any()
    kept = usable & ~filtered
    w = r["weight"]
    assert np.all(w[~kept] == 0) and np.all(w[kept] > 0) and abs(w[kept].mean() - 1) < 1e-4
    assert np.allclose(np.linalg.norm(r["embeddings"][usable], axis=1), 1, atol=1e-5)
    assert r["embeddings"].shape[1] == 1792

    # near-duplicates that both survive the filter are found on the learned embedding
    edges = {(r["paths"][a], r["paths"][b]) for a, b in zip(r["edges"]["src"], r["edges"]["dst"])}
    index = {p: i for i, p in enumerate(r["paths"])}
    surviving = [(a, b) for a, b in pairs if kept[index[a]] and kept[index[b]]]
    found = [pb for pb in surviving if pb in edges]
    print(f"duplicates: {len(found)} of {len(surviving)} surviving planted pairs found, {len(edges)} edges")
    assert surviving and len(found) == len(surviving)

    # the descriptor embedding with the filter: the same probabilities from its own pass
    desc, _ = run(folder, work, "descriptor", threshold, 2)
    assert np.array_equal(desc["class_prob"], r["class_prob"], equal_nan=True)
    assert np.array_equal(desc["filtered"], r["filtered"])

    # mobilenet_v2 without the filter resumes from its saved embed stage with another rank count
    out = os.path.join(work, "resumed.h5")
    cfg = config(folder, out, "mobilenet_v2", threshold)
    stop = dgtest.dupgraph(["run", "-c", cfg, "--set", "filter.enabled=false", "--set", "job.stop_after=embed"],
                           ranks=2, check=False)
    assert stop.returncode != 0 and "stop_after" in stop.stderr, stop.stderr
    resumed = dgtest.dupgraph(["run", "-c", cfg, "--set", "filter.enabled=false"], ranks=4)
    assert "reusing checkpoint: embed stage" in resumed.stdout + resumed.stderr
    again = load(out)
    assert np.array_equal(again["embeddings"], r["embeddings"]) and np.array_equal(again["width"], r["width"])
    assert np.all(again["status"][usable] <= 1) and "filter_score" not in again

    info = dgtest.dupgraph(["info", os.path.join(work, "mobilenet_v2_1.h5")]).stdout
    assert "version 4" in info and f"filtered {filtered.sum()}" in info, info
    res = frame.load(os.path.join(work, "mobilenet_v2_1.h5"))
    assert "weight" in res.items.columns and int(res.items["filtered"].sum()) == filtered.sum()
    subprocess.run(["rm", "-rf", work], check=True)
    print("e2e_filter: OK")


if __name__ == "__main__":
    main()
