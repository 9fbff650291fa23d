#!/usr/bin/python3
"""Weak scaling with oversubscribed ranks: the same load per rank (PER_RANK
items of D dims, synthetic with planted groups) on 1, 2, 4, 8 and 16 ranks.
Per rank count: bytes each rank sent in the exchange (per item), peak RSS per
rank against the printed estimate, seconds per stage, and the share of each
rank's wall time spent inside MPI calls (libdg_mpitime.so preloaded, see
src/bench/mpi_time.c), with the largest contributors.

On a 2-core machine, 16 ranks share 2 cores: wall seconds and the MPI share
grow with oversubscription (a rank waits in a collective while the others
are scheduled), so they are reported with the rank-to-core ratio; bytes
and memory per rank do not depend on it.

    jobs/weak_scaling.py --per-rank 20000 --dim 128 --ranks 1,2,4,8,16 \
        --out results/weak_scaling.json
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1048576.0


def one_run(work, p, per_rank, dim, seed):
    n = p * per_rank
    corpus = os.path.join(work, f"corpus_{p}.h5")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "jobs", "synth_embeddings.py"), corpus, "--n", str(n),
                    "--d", str(dim), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    times = os.path.join(work, f"mpitime_{p}")
    os.makedirs(times)
    summary = os.path.join(work, f"summary_{p}.json")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OPENBLAS_NUM_THREADS="1")
    cmd = ["mpirun", "--oversubscribe", "-np", str(p), "-x", "OPENBLAS_NUM_THREADS",
           "-x", f"LD_PRELOAD={ROOT}/build/libdg_mpitime.so", "-x", f"DG_MPITIME_DIR={times}",
           os.path.join(ROOT, "build", "dupgraph"), "run", "-c", os.path.join(ROOT, "configs", "default.ini"),
           "-o", os.path.join(work, f"out_{p}.h5"), "--set", f"input.embeddings={corpus}",
           "--set", "job.resume=false", "--set", f"output.summary={summary}"]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{p} ranks failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    s = json.load(open(summary))
    ranks = sorted((json.load(open(f)) for f in glob.glob(os.path.join(times, "rank_*.json"))),
                   key=lambda r: r["rank"])
    share = [r["mpi_seconds"] / r["wall_seconds"] for r in ranks]
    by_fn = {}
    for r in ranks:
        for fn, v in r["functions"].items():
            by_fn[fn] = by_fn.get(fn, 0.0) + v["seconds"] / len(ranks)
    top = sorted(by_fn.items(), key=lambda kv: -kv[1])[:4]
    sent = s["exchange"]["bytes_sent"]
    rss = s["memory"]["peak_rss_bytes"]
    est = s["memory"]["estimate_bytes"]
    os.remove(corpus)
    return {
        "ranks": p, "items": n, "k": s["k"], "cores": os.cpu_count(),
        "ranks_per_core": p / os.cpu_count(),
        "command": " ".join(cmd).replace(work, "$W").replace(ROOT, "$ROOT"),
        "seconds_wall": wall, "seconds": s["seconds"],
        "bytes_sent_per_rank": sent, "bytes_sent_per_item": sum(sent) / n,
        "peak_rss_bytes_per_rank": rss, "memory_estimate_bytes": est,
        "mpi_share_per_rank": share, "mpi_share_mean": sum(share) / len(share),
        "mpi_seconds_by_function_mean": by_fn, "top_mpi_functions": [fn for fn, _ in top],
        "edges": s["edges"], "components": s["components"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-rank", type=int, default=20000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--ranks", default="1,2,4,8,16")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not os.path.exists(os.path.join(ROOT, "build", "libdg_mpitime.so")):
        sys.exit("build/libdg_mpitime.so is missing: run ninja -C build")
    work = tempfile.mkdtemp(prefix="dg-weak-")
    runs = []
    try:
        for p in [int(x) for x in a.ranks.split(",")]:
            r = one_run(work, p, a.per_rank, a.dim, a.seed)
            print(f"{p:3d} ranks: {r['items']} items, K {r['k']}, {r['seconds_wall']:.1f} s wall, "
                  f"{r['bytes_sent_per_item']:.0f} B sent/item, peak RSS {max(r['peak_rss_bytes_per_rank']) / MIB:.0f} "
                  f"MiB (est {r['memory_estimate_bytes'] / MIB:.0f}), MPI share {r['mpi_share_mean']:.2f} "
                  f"({', '.join(r['top_mpi_functions'][:2])})", flush=True)
            runs.append(r)
    finally:
        shutil.rmtree(work)
    res = {
        "command": "jobs/weak_scaling.py " + " ".join(sys.argv[1:]),
        "per_rank": a.per_rank, "dim": a.dim, "runs": runs,
        "readme": {
            "per_rank": a.per_rank, "dim": a.dim, "cores": os.cpu_count(),
            "rows": [{
                "ranks": r["ranks"], "items": r["items"], "k": r["k"],
                "bytes_sent_per_item": round(r["bytes_sent_per_item"], 1),
                "max_sent_mib_per_rank": round(max(r["bytes_sent_per_rank"]) / MIB, 1),
                "peak_rss_mib": round(max(r["peak_rss_bytes_per_rank"]) / MIB, 1),
                "estimate_mib": round(r["memory_estimate_bytes"] / MIB, 1),
                "mpi_share": round(r["mpi_share_mean"], 3),
                "seconds_wall": round(r["seconds_wall"], 1),
            } for r in runs],
        },
    }
    json.dump(res, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
