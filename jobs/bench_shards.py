#!/usr/bin/python3
"""Reading images from WebDataset tar shards against reading the same photos as
loose files: a dg-mkbench corpus of real photos (lomiri-wallpapers-16.04) is
packed into shards of KEY.jpg + KEY.json + KEY.txt like img2dataset's output,
then `dupgraph run` embeds it on P ranks from input.shards and from
input.manifest (same bytes, same ids).  Prints the embed stage's items/s per
rank for each (from the JSON summary) and checks the two graphs are the same;
writes results/bench_shards.json with the command.

usage: jobs/bench_shards.py [--ranks 2] [--originals 12] [--size 512] [--shards 8] [--repeat 3]
"""
import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from dgtools import summary  # noqa: E402

BUILD = os.path.join(ROOT, "build")
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OPENBLAS_NUM_THREADS="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def photos():
    out = subprocess.run(["dpkg", "-L", "lomiri-wallpapers-16.04"], capture_output=True, text=True, check=True)
    return sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))


def pack(corpus, rel, shard_dir, n_shards):
    os.makedirs(shard_dir, exist_ok=True)
    per = (len(rel) + n_shards - 1) // n_shards
    for s in range(n_shards):
        with tarfile.open(os.path.join(shard_dir, f"{s:05d}.tar"), "w") as tar:
            for j, path in enumerate(rel[s * per:(s + 1) * per]):
                key = f"{s:05d}{j:04d}"
                with open(os.path.join(corpus, path), "rb") as f:
                    data = f.read()
                side = json.dumps({"url": f"https://example.org/{path}", "caption": path, "key": key,
                                   "status": "success"}).encode()
                for name, body in ((key + ".jpg", data), (key + ".json", side), (key + ".txt", path.encode())):
                    info = tarfile.TarInfo(name)
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))


def run(work, name, input_set, ranks):
    out, summ = os.path.join(work, name + ".h5"), os.path.join(work, name + ".json")
    cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), os.path.join(BUILD, "dupgraph"), "run", "-c",
           os.path.join(ROOT, "configs", "demo.ini"), "-o", out, "--set", input_set, "--set", "job.resume=false",
           "--set", f"output.summary={summ}"]
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    s = summary.read(summ)
    return s, out


def same_graph(a, b):
    """The same edges, components and keeps (the ids are the same by construction)."""
    import h5py
    import numpy as np
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        return all(np.array_equal(fa[n][:], fb[n][:]) for n in
                   ("edges/src", "edges/dst", "edges/sim", "items/component", "items/keep"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--originals", type=int, default=12)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dg-bench-shards-") as work:
        listing = os.path.join(work, "photos.txt")
        with open(listing, "w") as f:
            f.write("".join(p + "\n" for p in photos()))
        corpus = os.path.join(work, "corpus")
        subprocess.run([os.path.join(BUILD, "dg-mkbench"), "--photos", listing, "--out", corpus, "--seed", "7",
                        "--max-originals", str(a.originals), "--distractors", "3", "--size", str(a.size)],
                       check=True, capture_output=True)
        with open(os.path.join(corpus, "truth.csv")) as f:
            rel = sorted(r["path"] for r in csv.DictReader(f))
        pack(corpus, rel, os.path.join(work, "shards"), a.shards)
        manifest = os.path.join(work, "loose.txt")
        per = (len(rel) + a.shards - 1) // a.shards
        with open(manifest, "w") as f:  # the shards' id order: shard by shard
            f.write("".join(os.path.join(corpus, p) + "\n" for s in range(a.shards) for p in rel[s * per:(s + 1) * per]))
        rates = {"shards": [], "loose": []}
        outs = {}
        for _ in range(a.repeat):  # alternated, so both see the same machine load
            for kind, input_set in (("shards", f"input.shards={work}/shards/*.tar"), ("loose", f"input.manifest={manifest}")):
                s, outs[kind] = run(work, kind, input_set, a.ranks)
                n = s["items"]["total"]
                rates[kind].append(n / a.ranks / s["seconds"]["embed"])
        same = same_graph(outs["shards"], outs["loose"])
    best = {k: max(v) for k, v in rates.items()}
    result = {
        "command": "jobs/bench_shards.py " + " ".join(sys.argv[1:]),
        "ranks": a.ranks, "items": n, "shards": a.shards, "photo_side": a.size,
        "embed_items_per_s_per_rank": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "same_graph": same,
        "readme": {"ranks": str(a.ranks), "items": str(n), "shards": str(a.shards), "photo_side": str(a.size),
                   "shards_items_per_s_per_rank": round(best["shards"], 1),
                   "loose_items_per_s_per_rank": round(best["loose"], 1),
                   "shards_over_loose": round(best["shards"] / best["loose"], 2)},
    }
    print(json.dumps(result, indent=1))
    with open(os.path.join(ROOT, "results", "bench_shards.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
