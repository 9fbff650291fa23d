#!/usr/bin/python3
"""Benchmark: dupgraph against faiss on generated embeddings, with one result file.

For each corpus size (default 200k x 128 and 1M x 128) this script
  1. generates the corpus with jobs/synth_embeddings.py (cached in --workdir),
  2. runs `dupgraph run` under mpirun (--ranks ranks, one OpenBLAS thread
     each, `--set job.resume=false` so no checkpoint of an earlier run is
     reused, `--set output.summary=PATH.json`) and takes its figures from that
     JSON summary: seconds per stage, pairs compared and pair seconds per
     rank, executed flops, memory estimate and peak RSS per rank, bytes sent.
     Its wall time is the whole mpirun command's, from process start until
     the output file is on disk, timed from outside,
  3. measures recall against an exact reference: `dupgraph exact` (same
     flags) + `dupgraph compare` when N <= --exact-max-n; otherwise the exact
     neighbours of --queries random items, found by faiss IndexFlatIP against
     all N (the reference pairs are those touching the sample).  Recall comes
     with a 95% Wilson score interval over the reference pairs and their
     number (pairs sharing an item are not independent: the interval is
     approximate),
  4. faiss IVF-Flat (python3-faiss, inner product, nlist = dupgraph's K,
     spherical k-means with dupgraph's iteration count, --ranks threads) is
     trained on exactly the points dupgraph's first clustering trains on
     (dupgraph's sample is a hash of (cluster seed, item id): kmeans.c; the
     count is checked against the job's summary).  nprobe is tuned here, untimed,
     until faiss's recall reaches dupgraph's; then a separate
     `/usr/bin/python3 jobs/bench_embeddings.py --faiss-worker ...` process
     reads the same HDF5 file, normalises, trains, adds, range-searches,
     de-duplicates and re-scores, and writes its edge list to HDF5; its wall
     time is taken from outside, from process start to exit.  If that run
     finds fewer edges than dupgraph (both keep only exactly re-scored true
     pairs, so fewer edges = lower recall), nprobe is raised and it runs again,
  5. with the exact reference, faiss IndexFlatIP range_search over all N in a
     worker process the same way, against `dupgraph exact`'s wall time.
The OpenBLAS sgemm peak (same libopenblas.so.0 as dupgraph: numpy's
libblas.so.3 is Debian's openblas-pthread wrapper) is measured at the start and
the end (the better of the two is the peak) with one process and with --ranks
concurrent single-thread processes.

GFLOP/s of the pair stage count useful work only: 2 * D flops per pair
compared (i<j within a cluster, query x member), over all ranks, divided by the
slowest rank's pair seconds.  The arithmetic the blocked sgemm executes and
discards (full squares of small clusters, the lower half of diagonal blocks)
is reported separately as the ratio executed / useful.

Both sides use dupgraph's criterion for a pair: float32 vectors L2-normalised
in double, similarity re-scored in double, rounded to float32 and kept when
>= float32(threshold).  faiss gets radius threshold - 1e-4 (the slack
dupgraph's sgemm filter uses) and its candidates are re-scored the same way.
faiss writes only the edge list; dupgraph also writes components and the
kept items.

One result file, --json (default results/bench_<label>.json; --quick:
build/bench_quick.json): the command line, git revision and dirty flag, the
binary's hash, the machine, load average before and after the benchmark and
every timed part, the CPU share other processes used meanwhile, every figure,
and "readme": the strings README.md quotes (tests/check_readme_figures.py
checks them), with the figure block as "readme_block".  The printed report
is saved next to it in --workdir.  Nothing here fails on time.

    jobs/bench.sh --sizes 200000x128               # results/bench_200k.json
    jobs/bench.sh --sizes 1000000x128              # results/bench_1m.json
    jobs/bench.sh --quick                          # 50k x 64 smoke run
    jobs/bench.sh --sizes 200000x128 --set cluster.clusterings=3 --label 200k_c3
A timed part during which other processes kept more than --busy-cores cores
busy is run again (--retries), and the quietest attempt is kept; every
attempt's load is in the result file.
"""
import time

_T_START = time.perf_counter()  # the faiss worker's clock, before its heavy imports

import argparse  # noqa: E402
import configparser  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

WORKER = len(sys.argv) > 1 and sys.argv[1] == "--faiss-worker"


def _ranks_from_argv():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--ranks", type=int, default=2)
    return p.parse_known_args()[0].ranks


# faiss gets the same number of cores as dupgraph's ranks; OpenBLAS reads
# this once, when numpy/faiss load it.  The worker gets it from its parent.
if not WORKER:
    os.environ["OPENBLAS_NUM_THREADS"] = str(_ranks_from_argv())

import faiss  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))  # dgtools
from dgtools import output, summary  # noqa: E402
from dgtools.bench import Report, wilson  # noqa: E402
from dgtools.machine import Meter, blas_library, mpi_env, utc_now, wait_idle  # noqa: E402
import dgtools.machine  # noqa: E402

_T_IMPORTED = time.perf_counter()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
RESCORE_EPS = 1e-4
FORMAT, FORMAT_VERSION = "dupgraph-bench", 2
NPROBES = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024]

SGEMM_PROBE = r"""
import sys, time
import numpy as np
m, n, k = (int(v) for v in sys.argv[1:4])
start_at, end_at = float(sys.argv[4]), float(sys.argv[5])
rng = np.random.default_rng(0)
a = rng.standard_normal((m, k), dtype=np.float32)
b = rng.standard_normal((n, k), dtype=np.float32)
c = np.empty((m, n), dtype=np.float32)
np.matmul(a, b.T, out=c)
while time.time() < start_at:
    np.matmul(a, b.T, out=c)
count, t0 = 0, time.time()
while True:
    np.matmul(a, b.T, out=c)
    count += 1
    t = time.time()
    if t >= end_at:
        break
print(2.0 * m * n * k * count / (t - t0) * 1e-9)
"""


class BenchError(RuntimeError):
    pass


def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        n, d = item.lower().split("x")
        sizes.append((int(float(n)), int(d)))
    return sizes


def size_label(n):
    if n % 1000000 == 0:
        return f"{n // 1000000}m"
    if n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200000x128,1000000x128", help="comma list of NxD (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 50000x64, fewer sample queries, shorter peaks, --json build/bench_quick.json")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks = faiss threads (default %(default)s)")
    ap.add_argument("--config", default="configs/default.ini")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="extra dupgraph config override (repeatable)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed and sampling seed")
    ap.add_argument("--workdir", default="build/bench", help="corpora, outputs and logs (default %(default)s)")
    ap.add_argument("--label", help="names the result file results/bench_<label>.json (default: the sizes, e.g. 200k)")
    ap.add_argument("--json", help="the result file (default results/bench_<label>.json)")
    ap.add_argument("--exact-max-n", type=int, default=300000,
                    help="run `dupgraph exact` and faiss IndexFlatIP over all N up to this N (default %(default)s);"
                         " above it recall is estimated from sample queries")
    ap.add_argument("--queries", type=int, help="sample queries for the recall estimate (default 10000, quick 2000)")
    ap.add_argument("--peak-seconds", type=float, default=2.0, help="duration of each sgemm peak measurement")
    ap.add_argument("--idle-wait", type=float,
                    help="before each timed part wait up to this many seconds for a quiet machine (default 30, quick 5)")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a timed part again if other processes kept --busy-cores busy meanwhile (default 1)")
    ap.add_argument("--busy-cores", type=float, default=0.2,
                    help="cores other processes may keep busy during a timed part before it is repeated")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the whole benchmark (dupgraph and faiss alike) at this nice value, e.g. -10 as root on a"
                         " shared machine (default %(default)s)")
    ap.add_argument("--fresh", action="store_true", help="regenerate cached corpora")
    ap.add_argument("--dupgraph", default="build/dupgraph")
    ap.add_argument("--from-json", metavar="FILE",
                    help="measure nothing: rewrite FILE's README strings and figure block from its figures")
    a = ap.parse_args()
    if a.quick:
        a.sizes = "50000x64"
        a.peak_seconds = min(a.peak_seconds, 1.0)
    if a.idle_wait is None:
        a.idle_wait = 5.0 if a.quick else 30.0
    if a.queries is None:
        a.queries = 2000 if a.quick else 10000
    a.sizes = parse_sizes(a.sizes)
    if a.label is None:
        a.label = "quick" if a.quick else "_".join(size_label(n) for n, _ in a.sizes)
    if a.json is None:
        a.json = "build/bench_quick.json" if a.quick else f"results/bench_{a.label}.json"
    return a


def the_command():
    """How this script was started, as one would type it in the project folder."""
    return dgtools.machine.the_command(ROOT, "BENCH_ENTRY")


# ---- provenance: git, binary, machine (python/dgtools/machine.py) ----------------

def git_state():
    return dgtools.machine.git_state(ROOT)


def binary_state(a):
    return dgtools.machine.binary_state(ROOT, a.dupgraph)


def machine():
    return dict(dgtools.machine.describe(), faiss=faiss.__version__)


def quietest(a, say, name, attempt):
    """Runs attempt() (which returns a dict with "meter") up to 1 + --retries
    times while other processes kept more than --busy-cores cores busy; keeps
    the quietest attempt and records every attempt's load."""
    best, tries = None, []
    for i in range(1 + max(0, a.retries)):
        busy = wait_idle(a.idle_wait, say)
        res = attempt()
        res["meter"]["busy_share_before_start"] = busy
        tries.append(res["meter"])
        if best is None or res["meter"]["other_cores"] < best["meter"]["other_cores"]:
            best = res
        if best["meter"]["other_cores"] <= a.busy_cores:
            break
        if i < a.retries:
            say(f"  other processes kept {res['meter']['other_cores']:.2f} cores busy during {name}: once more")
    best["attempts"] = tries
    return best


# ---- sgemm peak -------------------------------------------------------------------

def sgemm_rate(m, n, k, procs, seconds):
    """Aggregate GFLOP/s of `procs` concurrent single-thread sgemm loops."""
    start_at = time.time() + 1.5
    end_at = start_at + seconds
    cmd = [PY, "-c", SGEMM_PROBE, str(m), str(n), str(k), repr(start_at), repr(end_at)]
    ps = [subprocess.Popen(cmd, env=mpi_env(1), stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    rates = []
    for p in ps:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise BenchError("sgemm probe failed")
        rates.append(float(out.strip()))
    return sum(rates), rates


def measure_peaks(shapes, procs, seconds, idle_wait, say, when, peaks=None):
    """sgemm GFLOP/s per shape, 1 process and `procs` concurrent ones; with
    earlier `peaks`, keeps the better of the two measurements (a peak)."""
    peaks = peaks if peaks is not None else {}
    say(f"OpenBLAS sgemm at the {when} (numpy -> libblas.so.3 -> {blas_library()}), single-thread processes, "
        f"{seconds:.1f} s each:")
    wait_idle(idle_wait, say)
    with Meter() as cm:
        for name, (m, n, k) in shapes.items():
            one, _ = sgemm_rate(m, n, k, 1, seconds)
            many, each = sgemm_rate(m, n, k, procs, seconds)
            say(f"  {name:<10} {m}x{n}x{k}: 1 core {one:7.1f} GFLOP/s | {procs} cores {many:7.1f} GFLOP/s "
                f"({many / procs:.1f} per core)")
            p = peaks.setdefault(name, {"shape": [m, n, k], "one_core": 0.0, "all_cores": 0.0, "runs": []})
            p["runs"].append({"when": when, "one_core": one, "all_cores": many, "per_process": each})
            p["one_core"] = max(p["one_core"], one)
            p["all_cores"] = max(p["all_cores"], many)
            p["per_core_when_all_busy"] = p["all_cores"] / procs
    say(f"  ({cm.note()})")
    peaks.setdefault("meters", []).append({"when": when, **cm.record()})
    return peaks


# ---- corpus and vectors -----------------------------------------------------

def ensure_corpus(n, d, seed, workdir, fresh, say):
    path = os.path.join(workdir, f"emb_{n}x{d}_seed{seed}.h5")
    cmd = [PY, "jobs/synth_embeddings.py", os.path.relpath(path, ROOT), "--n", str(n), "--d", str(d),
           "--seed", str(seed)]
    if os.path.exists(path) and not fresh:
        with h5py.File(path, "r") as f:
            if f["/embeddings"].shape == (n, d):
                say(f"corpus {os.path.relpath(path, ROOT)} (cached)")
                return path, cmd
    t0 = time.perf_counter()
    subprocess.run(cmd[:2] + [path + ".tmp"] + cmd[3:], check=True, cwd=ROOT)
    os.replace(path + ".tmp", path)
    say(f"corpus {os.path.relpath(path, ROOT)} generated in {time.perf_counter() - t0:.1f} s")
    return path, cmd


def load_normalised(path, dataset):
    """float32 rows L2-normalised in double as dupgraph does; bad rows zeroed.
    Returns (x, ok) with ok the mask of usable rows."""
    with h5py.File(path, "r") as f:
        ds = f[dataset]
        n, d = ds.shape
        x = np.empty((n, d), dtype=np.float32)
        ok = np.zeros(n, dtype=bool)
        step = 1 << 16
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            b = ds[lo:hi].astype(np.float64)
            ss = np.einsum("ij,ij->i", b, b)
            good = np.isfinite(b).all(axis=1) & np.isfinite(ss) & (ss > 0)
            inv = np.where(good, 1.0 / np.sqrt(np.where(good, ss, 1.0)), 0.0)
            x[lo:hi] = (b * inv[:, None]).astype(np.float32)
            ok[lo:hi] = good
    return x, ok


_U64 = np.uint64


def _mix64(x):
    """dg_mix64 (include/dupgraph/common.h) on uint64 arrays (wrapping)."""
    with np.errstate(over="ignore"):
        x = x + _U64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


def dupgraph_training_ids(ok, cluster_seed, sample, clustering=0):
    """The items dupgraph's k-means of `clustering` trains on (kmeans.c
    in_sample): usable items whose hash dg_mix64(seed_c ^ dg_mix64(id)), as a
    unit double, is below sample / N, with seed_c = dg_mix64(cluster.seed + c)
    (job.c); all usable items when sample >= N."""
    n = len(ok)
    ids = np.flatnonzero(ok)
    if sample >= n:
        return ids
    seed_c = _mix64(np.array([cluster_seed + clustering], dtype=np.uint64))[0]
    h = _mix64(seed_c ^ _mix64(ids.astype(np.uint64)))
    unit = (h >> _U64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return ids[unit < float(sample) / float(n)]


def rescore_keep(x, a, b, threshold):
    """Mask of pairs (a[i], b[i]) whose double similarity, as float32, is >= threshold."""
    keep = np.empty(len(a), dtype=bool)
    step = 1 << 18
    for lo in range(0, len(a), step):
        hi = min(len(a), lo + step)
        s = np.einsum("ij,ij->i", x[a[lo:hi]].astype(np.float64), x[b[lo:hi]].astype(np.float64))
        keep[lo:hi] = s.astype(np.float32) >= np.float32(threshold)
    return keep


def pair_keys(src, dst, n):
    lo = np.minimum(src, dst).astype(np.int64)
    hi = np.maximum(src, dst).astype(np.int64)
    return lo * np.int64(n) + hi


def read_edge_keys(path, n):
    with h5py.File(path, "r") as f:
        return np.unique(pair_keys(f["edges/src"][:], f["edges/dst"][:], n))


def range_keys(index, x, qids, threshold, n):
    """Unique canonical pair keys found by range-searching rows qids, self
    pairs dropped, candidates re-scored like dupgraph.  index labels are ids."""
    q = np.ascontiguousarray(x[qids])
    lims, _, labels = index.range_search(q, float(threshold - RESCORE_EPS))
    src = np.repeat(qids.astype(np.int64), np.diff(lims).astype(np.int64))
    dst = labels.astype(np.int64)
    other = src != dst
    keys = np.unique(pair_keys(src[other], dst[other], n))
    lo, hi = keys // n, keys % n
    return keys[rescore_keep(x, lo, hi, threshold)]


def build_ivf(x, ids, train_ids, k, iterations, seed):
    d = x.shape[1]
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, k, faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True
    index.cp.niter = iterations
    index.cp.seed = seed
    index.cp.max_points_per_centroid = -(-len(train_ids) // k) + 1  # all of dupgraph's sample, no subsampling
    t0 = time.perf_counter()
    index.train(np.ascontiguousarray(x[train_ids]))
    t1 = time.perf_counter()
    index.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
    t2 = time.perf_counter()
    return index, t1 - t0, t2 - t1


# ---- the faiss worker: a process of its own, timed from outside ----------------

def worker_main(argv):
    """--faiss-worker: read the HDF5 embeddings, normalise, (IVF: train on
    dupgraph's sample of clustering 0, add) search, de-duplicate and re-score,
    write the edge list to HDF5; its internal split as JSON on stdout."""
    ap = argparse.ArgumentParser(prog="bench_embeddings.py --faiss-worker")
    ap.add_argument("--index", choices=("ivf", "flat"), required=True)
    ap.add_argument("--embeddings", required=True)
    ap.add_argument("--dataset", default="/embeddings")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--nlist", type=int)
    ap.add_argument("--nprobe", type=int)
    ap.add_argument("--iterations", type=int)
    ap.add_argument("--cluster-seed", type=int, help="dupgraph's cluster.seed (selects its training sample)")
    ap.add_argument("--sample", type=int, help="dupgraph's effective cluster.sample")
    ap.add_argument("--faiss-seed", type=int, default=1)
    w = ap.parse_args(argv)
    faiss.omp_set_num_threads(w.threads)
    sec = {"import": _T_IMPORTED - _T_START}
    t = time.perf_counter()
    x, ok = load_normalised(w.embeddings, w.dataset)
    n = len(x)
    ids = np.flatnonzero(ok)
    sec["read"] = time.perf_counter() - t
    info = {"index": w.index, "threads": w.threads, "n": n, "usable": int(len(ids))}
    if w.index == "ivf":
        t = time.perf_counter()
        train_ids = dupgraph_training_ids(ok, w.cluster_seed, w.sample)
        sec["sample"] = time.perf_counter() - t
        index, sec["train"], sec["add"] = build_ivf(x, ids, train_ids, w.nlist, w.iterations, w.faiss_seed)
        index.nprobe = w.nprobe
        info.update(nlist=w.nlist, nprobe=w.nprobe, train_points=int(len(train_ids)), iterations=w.iterations)
    else:
        index = faiss.IndexIDMap(faiss.IndexFlatIP(x.shape[1]))
        t = time.perf_counter()
        index.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
        sec["add"] = time.perf_counter() - t
    t = time.perf_counter()
    lims, _, labels = index.range_search(np.ascontiguousarray(x[ids]), float(w.threshold - RESCORE_EPS))
    sec["search"] = time.perf_counter() - t
    t = time.perf_counter()
    src = np.repeat(ids.astype(np.int64), np.diff(lims).astype(np.int64))
    dst = labels.astype(np.int64)
    del labels
    other = src != dst
    keys = np.unique(pair_keys(src[other], dst[other], n))
    lo, hi = keys // n, keys % n
    sims = np.empty(len(keys), dtype=np.float32)
    step = 1 << 18
    for s0 in range(0, len(keys), step):
        s1 = min(len(keys), s0 + step)
        sims[s0:s1] = np.einsum("ij,ij->i", x[lo[s0:s1]].astype(np.float64),
                                x[hi[s0:s1]].astype(np.float64)).astype(np.float32)
    keep = sims >= np.float32(w.threshold)
    lo, hi, sims = lo[keep], hi[keep], sims[keep]
    sec["dedup_rescore"] = time.perf_counter() - t
    t = time.perf_counter()
    with h5py.File(w.out, "w") as f:
        f.create_dataset("edges/src", data=lo)
        f.create_dataset("edges/dst", data=hi)
        f.create_dataset("edges/sim", data=sims)
        f.attrs["index"] = w.index
    sec["write"] = time.perf_counter() - t
    sec["total_inside"] = time.perf_counter() - _T_START
    info.update(seconds=sec, edges=int(len(lo)), candidates=int(len(keys)),
                peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    print(json.dumps(info))
    return 0


# ---- dupgraph -------------------------------------------------------------------

def trimmed_summary(s):
    s = dict(s)
    items = s.pop("items", {})
    s["items"] = {k: v for k, v in items.items() if k != "by_status"}
    return s


def run_dupgraph(a, mode, emb, out_path, say):
    """`dupgraph MODE` under mpirun, timed from outside (process start to exit,
    the output complete on disk); figures from its JSON summary."""
    summary_path = out_path + ".summary.json"
    rel = lambda p: os.path.relpath(p, ROOT)  # noqa: E731
    job = [a.dupgraph, mode, "-c", a.config, "-o", rel(out_path), "--set", f"input.embeddings={rel(emb)}",
           "--set", "job.resume=false", *summary.set_args(rel(summary_path))]
    for s in a.set:
        job += ["--set", s]
    cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks), "-x", "OPENBLAS_NUM_THREADS"] + job
    command = "OPENBLAS_NUM_THREADS=1 " + " ".join(shlex.quote(v) for v in cmd)
    say(f"$ {command}")

    def attempt():
        try:
            _, s, m = summary.run(cmd, summary_path, out_path + ".log", cwd=ROOT)
        except summary.JobFailed as e:
            raise BenchError(f"dupgraph {mode} failed ({e})") from None
        say(f"  {mode}: wall {m.seconds:.2f} s (mpirun, process start to exit), job total "
            f"{s['seconds']['total']:.2f} s; {m.note()}")
        return {"meter": m.record(), "summary": s, "edge_keys": read_edge_keys(out_path, s["items"]["total"])}

    res = quietest(a, say, f"dupgraph {mode}", attempt)
    res["command"] = command
    with h5py.File(out_path, "r") as f:
        res["config"] = output.parse_config(output.read_attrs(f)["config"])  # {section: {key: typed value}}
    return res


def job_params(run, n):
    """The parameters the job really used (its summary and the config it stored)."""
    s, cluster = run["summary"], run["config"]["cluster"]
    k = int(s["k"])
    sample = cluster["sample"]
    sample = min(64 * k if sample == "auto" or int(sample) <= 0 else int(sample), n)
    return {"k": k, "k_setting": str(cluster["k"]), "sample": sample, "iterations": int(cluster["iterations"]),
            "clusterings": int(s["clusterings"]), "probes": int(s["probes"]),
            "threshold": float(run["config"]["pairs"]["threshold"]), "block": int(run["config"]["pairs"]["block"]),
            "cluster_seed": int(cluster["seed"])}


def compare(a, run_path, exact_path):
    out = subprocess.run([os.path.join(ROOT, a.dupgraph), "compare", run_path, exact_path], capture_output=True,
                         text=True, check=True).stdout
    return {k: float(v) for k, v in (line.split(": ", 1) for line in out.strip().splitlines())}


def job_figures(run, d, peaks, ranks, say, label):
    """The figures of one dupgraph run from its summary: stages, useful
    GFLOP/s against the sgemm peak, memory, exchange."""
    s = run["summary"]
    m = run["meter"]
    stages = {k: v for k, v in s["seconds"].items() if k != "total"}
    compared = [float(v) for v in s["pairs"]["compared"]]
    pair_s = [float(v) for v in s["pairs"]["seconds"]]
    executed = [float(v) for v in s["pairs"]["flops_executed"]]
    useful = 2.0 * d * sum(compared)
    slowest = max(pair_s) if pair_s else 0.0
    fig = {"command": run["command"], "wall_seconds": m["wall_seconds"], "job_seconds": s["seconds"]["total"],
           "stage_seconds": stages, "edges": int(s["edges"]), "components": int(s["components"]),
           "removed": int(s["removed"]), "k": int(s["k"]), "clusterings": int(s["clusterings"]),
           "probes": int(s["probes"]), "load": m, "attempts": run["attempts"],
           "pairs_compared_per_rank": compared, "pairs_compared": sum(compared), "pair_seconds_per_rank": pair_s,
           "pair_seconds_slowest_rank": slowest, "flops_useful": useful, "flops_executed": sum(executed),
           "executed_per_useful": sum(executed) / useful if useful else None,
           "useful_gflops": useful / slowest * 1e-9 if slowest > 0 else None,
           "useful_gflops_per_rank": [2.0 * d * c / t * 1e-9 if t > 0 else None for c, t in zip(compared, pair_s)],
           "memory_estimate_bytes": s["memory"]["estimate_bytes"],
           "peak_rss_bytes_per_rank": s["memory"]["peak_rss_bytes"],
           "peak_rss_over_estimate": max(s["memory"]["peak_rss_bytes"]) / s["memory"]["estimate_bytes"],
           "bytes_sent_per_rank": s["exchange"]["bytes_sent"], "items_per_rank": s["items_per_rank"],
           "bytes_sent_per_item": sum(s["exchange"]["bytes_sent"]) / max(1, s["items"]["total"]),
           "kmeans": [c["kmeans"] for c in summary.measured(s)],
           "plan_imbalance": [c["plan"]["imbalance"] for c in summary.measured(s) if c["plan"]],
           "summary": trimmed_summary(s)}
    say(f"{label}: wall {fig['wall_seconds']:.2f} s from process start to output on disk (mpirun); job's own "
        f"total {fig['job_seconds']:.2f} s")
    say("  stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    say(f"  edges {fig['edges']}, components {fig['components']}, removed {fig['removed']}")
    say(f"  pairs compared {fig['pairs_compared']:.4g} ({' + '.join(f'{v:.4g}' for v in compared)} per rank), pair "
        f"seconds per rank {' '.join(f'{v:.2f}' for v in pair_s)}")
    if fig["useful_gflops"] is not None:
        say(f"  useful work {fig['useful_gflops']:.1f} GFLOP/s over {ranks} ranks (2 D per pair compared / slowest "
            f"rank's pair seconds; against the sgemm peak at the end); the sgemm executed "
            f"{fig['executed_per_useful']:.2f} times the useful arithmetic (discarded block parts)")
    say(f"  peak RSS per rank {' '.join(f'{v / 2**20:.0f}' for v in fig['peak_rss_bytes_per_rank'])} MiB, estimate "
        f"{fig['memory_estimate_bytes'] / 2**20:.0f} MiB (max/estimate {fig['peak_rss_over_estimate']:.2f}); "
        f"{fig['bytes_sent_per_item']:.0f} bytes sent per item in the exchange")
    return fig


# ---- recall references --------------------------------------------------------

class Reference:
    """Exact duplicate pairs: all of them, or those touching sampled items."""

    def __init__(self, n, keys, sample=None, partners=None, method=""):
        self.n, self.keys, self.sample, self.partners, self.method = n, keys, sample, partners, method

    @property
    def complete(self):
        return self.sample is None

    def recall(self, found_keys):
        found = int(np.isin(self.keys, found_keys, assume_unique=True).sum())
        lo, hi = wilson(found, len(self.keys))
        return {"value": found / len(self.keys) if len(self.keys) else 1.0, "ci95": [lo, hi], "found": found,
                "reference_pairs": int(len(self.keys)), "missed": int(len(self.keys) - found),
                "sampled_items": None if self.complete else int(len(self.sample)),
                "interval": "Wilson score, 95%, over the reference pairs", "reference": self.method}

    def false_edges(self, found_keys):
        """Found pairs not in the reference (among those it can judge)."""
        if self.complete:
            return int(len(found_keys) - np.isin(found_keys, self.keys, assume_unique=True).sum())
        lo, hi = found_keys // self.n, found_keys % self.n
        touch = np.isin(lo, self.sample) | np.isin(hi, self.sample)
        return int((~np.isin(found_keys[touch], self.keys)).sum())


def sample_reference(x, ids, threshold, queries, seed, n, say):
    """Exact neighbours (>= threshold) of `queries` random usable items by faiss
    IndexFlatIP against all of them."""
    rng = np.random.default_rng(seed + 7)
    sample = np.sort(rng.choice(ids, size=min(queries, len(ids)), replace=False))
    flat = faiss.IndexIDMap(faiss.IndexFlatIP(x.shape[1]))
    t0 = time.perf_counter()
    flat.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
    lims, _, labels = flat.range_search(np.ascontiguousarray(x[sample]), float(threshold - RESCORE_EPS))
    t1 = time.perf_counter()
    src = np.repeat(sample, np.diff(lims).astype(np.int64))
    dst = labels.astype(np.int64)
    keep = src != dst
    keep[keep] = rescore_keep(x, src[keep], dst[keep], threshold)
    keys = np.unique(pair_keys(src[keep], dst[keep], n))
    say(f"reference: exact neighbours of {len(sample)} random items against all {len(ids)} (faiss IndexFlatIP, "
        f"{t1 - t0:.1f} s): {len(keys)} distinct pairs")
    method = (f"exact neighbours of {len(sample)} random items (faiss IndexFlatIP against all {len(ids)}, re-scored "
              f"in double); the reference pairs are all exact pairs touching them")
    ref = Reference(n, keys, sample=sample, partners=np.unique(np.concatenate([sample, dst[keep]])), method=method)
    return ref, {"sampled_items": int(len(sample)), "reference_pairs": int(len(keys)), "seconds": t1 - t0}


# ---- faiss ------------------------------------------------------------------

def tune_nprobe(x, ids, ref, par, train_ids, n, target, seed, say):
    """Untimed: the first nprobe whose recall reaches `target`.  With a
    sampled reference only the sampled items and their true partners are
    searched (both ends of every reference pair: the recall is exact for it)."""
    index, t_train, t_add = build_ivf(x, ids, train_ids, par["k"], par["iterations"], seed)
    say(f"faiss IVF-Flat nprobe tuning (untimed): nlist {par['k']}, trained on {len(train_ids)} points (dupgraph's "
        f"clustering 0 sample), {par['iterations']} spherical iterations; train {t_train:.1f} s, add {t_add:.1f} s; "
        f"target recall {target:.6f}")
    qids = ids if ref.complete else ref.partners
    sweep, chosen = [], None
    for nprobe in [p for p in NPROBES if p <= par["k"]] or [par["k"]]:
        index.nprobe = nprobe
        t0 = time.perf_counter()
        keys = range_keys(index, x, qids, par["threshold"], n)
        dt = time.perf_counter() - t0
        r = ref.recall(keys)
        sweep.append({"nprobe": nprobe, "recall": r["value"], "found": r["found"], "seconds": dt,
                      "queries": int(len(qids))})
        say(f"  nprobe {nprobe:4d}: recall {r['value']:.6f} ({r['found']} of {r['reference_pairs']}; "
            f"{len(qids)} queries, {dt:.2f} s)")
        if r["value"] >= target:
            chosen = nprobe
            break
    return sweep, chosen


def run_worker(a, say, name, args, out_path, n):
    """One faiss worker process, timed from outside; returns its figures and edges."""
    cmd = [PY, "jobs/bench_embeddings.py", "--faiss-worker", "--out", os.path.relpath(out_path, ROOT),
           "--threads", str(a.ranks)] + args
    command = f"OPENBLAS_NUM_THREADS={a.ranks} " + " ".join(shlex.quote(v) for v in cmd)
    say(f"$ {command}")

    def attempt():
        if os.path.exists(out_path):
            os.remove(out_path)
        with Meter() as m:
            p = subprocess.run(cmd, env=mpi_env(a.ranks), cwd=ROOT, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError(f"faiss worker failed (exit {p.returncode}):\n{p.stderr[-2000:]}")
        info = json.loads(p.stdout.strip().splitlines()[-1])
        say(f"  {name}: wall {m.seconds:.2f} s (process start to exit, result on disk); inside: "
            + ", ".join(f"{k} {v:.2f}" for k, v in info["seconds"].items()) + f"; {m.note()}")
        return {"meter": m.record(), "worker": info, "edge_keys": read_edge_keys(out_path, n)}

    res = quietest(a, say, name, attempt)
    res["command"] = command
    return res


def worker_figures(res, ref, label):
    w = res["worker"]
    fig = {"command": res["command"], "wall_seconds": res["meter"]["wall_seconds"], "seconds_inside": w["seconds"],
           "edges": int(len(res["edge_keys"])), "peak_rss_bytes": w["peak_rss_bytes"], "threads": w["threads"],
           "load": res["meter"], "attempts": res["attempts"], "recall": ref.recall(res["edge_keys"]),
           "false_edges": ref.false_edges(res["edge_keys"])}
    for k in ("nlist", "nprobe", "train_points", "iterations"):
        if k in w:
            fig[k] = w[k]
    return fig


def faiss_ivf(a, emb, x, ids, ok, ref, par, n, target, run_edges, say):
    train_ids = dupgraph_training_ids(ok, par["cluster_seed"], par["sample"])
    sweep, chosen = tune_nprobe(x, ids, ref, par, train_ids, n, target, a.seed, say)
    res = {"tuning": sweep, "train_points": int(len(train_ids)), "runs": []}
    if chosen is None:
        say("  faiss did not reach dupgraph's recall with nprobe <= K")
        return res, None
    out = os.path.join(ROOT, a.workdir, f"{n}x{x.shape[1]}.faiss_ivf.h5")
    keys = None
    for nprobe in [p for p in NPROBES if chosen <= p <= par["k"]]:
        args = ["--index", "ivf", "--embeddings", os.path.relpath(emb, ROOT), "--threshold", repr(par["threshold"]),
                "--nlist", str(par["k"]), "--nprobe", str(nprobe), "--iterations", str(par["iterations"]),
                "--cluster-seed", str(par["cluster_seed"]), "--sample", str(par["sample"]),
                "--faiss-seed", str(a.seed)]
        w = run_worker(a, say, f"faiss IVF-Flat nprobe {nprobe}", args, out, n)
        fig = worker_figures(w, ref, "ivf")
        res["runs"].append({k: v for k, v in fig.items() if k not in ("attempts",)})
        keys = w["edge_keys"]
        say(f"  nprobe {nprobe}: {fig['edges']} edges (dupgraph run {run_edges}), recall {fig['recall']['value']:.6f} "
            f"(95% CI {fig['recall']['ci95'][0]:.4f}-{fig['recall']['ci95'][1]:.4f})")
        if fig["edges"] >= run_edges and fig["recall"]["value"] >= target:
            res.update(fig)
            res["nprobe"] = nprobe
            return res, keys
        say("  fewer edges (or lower recall) than dupgraph, both sides keep only true pairs: next nprobe")
    say("  faiss did not find as many edges as dupgraph with nprobe <= K")
    return res, keys


# ---- one corpus size ----------------------------------------------------------

def bench_size(a, n, d, peaks, say):
    workdir = os.path.join(ROOT, a.workdir)
    emb, corpus_cmd = ensure_corpus(n, d, a.seed, workdir, a.fresh, say)
    res = {"n": n, "d": d, "ranks": a.ranks, "corpus": {"path": os.path.relpath(emb, ROOT),
                                                         "command": " ".join(corpus_cmd)}}
    tag = os.path.join(workdir, f"{n}x{d}")

    run = run_dupgraph(a, "run", emb, tag + ".run.h5", say)
    par = job_params(run, n)
    res["params"] = par
    say(f"dupgraph config: K {par['k']} (cluster.k = {par['k_setting']}), C {par['clusterings']}, m {par['probes']}, "
        f"sample {par['sample']}, iterations {par['iterations']}, threshold {par['threshold']:g}, block {par['block']}")
    res["run"] = job_figures(run, d, peaks, a.ranks, say, "dupgraph run")
    run_keys = run["edge_keys"]

    t0 = time.perf_counter()
    x, ok = load_normalised(emb, "/embeddings")
    ids = np.flatnonzero(ok)
    say(f"vectors loaded and normalised for the reference and tuning in {time.perf_counter() - t0:.2f} s "
        f"({len(ids)} usable of {n})")
    train_ids = dupgraph_training_ids(ok, par["cluster_seed"], par["sample"])
    trained = run["summary"]["per_clustering"][0]["kmeans"]["sample"]
    res["faiss_training_sample"] = {"points": int(len(train_ids)), "dupgraph_clustering0_points": trained,
                                    "same": trained == len(train_ids)}
    if trained != len(train_ids):
        raise BenchError(f"dupgraph's training sample has {trained} points, the reimplemented hash gives "
                         f"{len(train_ids)}: kmeans.c's sampling changed; fix dupgraph_training_ids")
    say(f"faiss trains on dupgraph's clustering 0 sample: {len(train_ids)} points (the job's summary: {trained})")

    if n <= a.exact_max_n:
        ex = run_dupgraph(a, "exact", emb, tag + ".exact.h5", say)
        res["exact"] = job_figures(ex, d, peaks, a.ranks, say, "dupgraph exact")
        ref = Reference(n, ex["edge_keys"], method="all pairs of `dupgraph exact` (every pair compared)")
        cmp_ = compare(a, tag + ".run.h5", tag + ".exact.h5")
        res["run"]["precision_vs_exact"] = cmp_.get("precision")
    else:
        ref, info = sample_reference(x, ids, par["threshold"], a.queries, a.seed, n, say)
        res["sample_reference"] = info
    res["run"]["recall"] = rec = ref.recall(run_keys)
    res["run"]["false_edges"] = ref.false_edges(run_keys)
    say(f"dupgraph run recall {rec['value']:.6f}, 95% CI {rec['ci95'][0]:.4f}-{rec['ci95'][1]:.4f} (Wilson, "
        f"{rec['found']} of {rec['reference_pairs']} reference pairs"
        + ("" if ref.complete else f" touching {rec['sampled_items']} sampled items") + f"); false edges "
        f"{res['run']['false_edges']}")

    faiss.omp_set_num_threads(a.ranks)
    res["faiss_ivf"], ivf_keys = faiss_ivf(a, emb, x, ids, ok, ref, par, n, rec["value"], len(run_keys), say)
    ivf = res["faiss_ivf"]
    if ivf_keys is not None and "wall_seconds" in ivf:
        both = int(np.isin(run_keys, ivf_keys, assume_unique=True).sum())
        ivf["edges_both"] = both
        ivf["wall_over_run_wall"] = ivf["wall_seconds"] / res["run"]["wall_seconds"]
        say(f"faiss IVF-Flat wall / dupgraph run wall: {ivf['wall_over_run_wall']:.2f} "
            f"({ivf['wall_seconds']:.2f} s / {res['run']['wall_seconds']:.2f} s, both from process start to result "
            f"on disk); edges in both {both}, only dupgraph {len(run_keys) - both}, only faiss {len(ivf_keys) - both}")
    if ref.complete:
        out = tag + ".faiss_flat.h5"
        args = ["--index", "flat", "--embeddings", os.path.relpath(emb, ROOT), "--threshold", repr(par["threshold"])]
        w = run_worker(a, say, "faiss IndexFlatIP", args, out, n)
        res["faiss_flat"] = flat = worker_figures(w, ref, "flat")
        flat["wall_over_exact_wall"] = flat["wall_seconds"] / res["exact"]["wall_seconds"]
        say(f"faiss IndexFlatIP: {flat['edges']} edges, recall vs dupgraph exact {flat['recall']['value']:.6f}, extra "
            f"edges {flat['false_edges']}; wall / dupgraph exact wall {flat['wall_over_exact_wall']:.2f} "
            f"({flat['wall_seconds']:.2f} s / {res['exact']['wall_seconds']:.2f} s)")
    return res


# ---- README figures -------------------------------------------------------------

def f1(v):
    return "-" if v is None else f"{v:.1f}"


def f_pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def f_mpairs(v):
    return f"{v / 1e6:.0f}M" if v >= 1e7 else f"{v / 1e6:.1f}M"


def f_rss(fig):
    if "peak_rss_bytes_per_rank" in fig:
        return (" / ".join(f"{v / 2**20:.0f}" for v in fig["peak_rss_bytes_per_rank"])
                + f" (estimate {fig['memory_estimate_bytes'] / 2**20:.0f})")
    return f"{fig['peak_rss_bytes'] / 2**20:.0f}"


def split_text(fig):
    if "stage_seconds" in fig:
        return ", ".join(f"{k} {v:.1f}" for k, v in fig["stage_seconds"].items() if v >= 0.05) + \
            f" (job total {fig['job_seconds']:.1f})"
    s = fig["seconds_inside"]
    parts = [(k, s[k]) for k in ("import", "read", "sample", "train", "add", "search", "dedup_rescore", "write")
             if k in s]
    return ", ".join(f"{k.replace('_', ' + ')} {v:.1f}" for k, v in parts if v >= 0.05)


def readme_figures(doc):
    """The markdown figure block README.md quotes and the strings it prints
    (tests/check_readme_figures.py compares the two)."""
    R = {}
    cols = ["N x D", "program", "wall s", "inside (s)", "faiss wall / dupgraph wall", "edges", "recall", "95% CI",
            "missed", "reference pairs", "pairs compared", "useful GFLOP/s", "% of sgemm peak", "executed / useful",
            "peak RSS MiB per rank", "bytes sent / item", "other processes' CPU"]
    rows = []
    for r in doc["results"]:
        sz = f"{r['n']} x {r['d']}"
        key = size_label(r["n"])
        R[f"{key}_size"] = sz
        par = r["params"]
        entries = [("run", r["run"], f"`dupgraph run` (K {par['k']}, C {par['clusterings']}, m {par['probes']})")]
        ivf = r.get("faiss_ivf", {})
        if "wall_seconds" in ivf:
            entries.append(("ivf", ivf, f"faiss IVF-Flat (nlist {ivf['nlist']}, nprobe {ivf['nprobe']})"))
        if "exact" in r:
            entries.append(("exact", r["exact"], "`dupgraph exact`"))
        if "faiss_flat" in r:
            entries.append(("flat", r["faiss_flat"], "faiss IndexFlatIP"))
        for name, fig, prog in entries:
            p = f"{key}_{name}"
            ratio = fig.get("wall_over_run_wall", fig.get("wall_over_exact_wall"))
            rec = fig.get("recall")
            job = "stage_seconds" in fig
            cells = {
                "program": prog,
                "wall_s": f1(fig["wall_seconds"]),
                "inside_s": split_text(fig),
                "ratio": f"{ratio:.2f}" if ratio is not None else "-",
                "edges": str(fig["edges"]),
                "recall": f"{rec['value']:.5f}" if rec else "1 (reference)",
                "ci95": f"{rec['ci95'][0]:.5f}–{rec['ci95'][1]:.5f}" if rec else "-",
                "missed": str(rec["missed"]) if rec else "-",
                "reference_pairs": (str(rec["reference_pairs"]) + ("" if rec["sampled_items"] is None else
                                    f" (of {rec['sampled_items']} sampled items)")) if rec else "-",
                "pairs_compared": f_mpairs(fig["pairs_compared"]) if job else "-",
                "useful_gflops": f1(fig.get("useful_gflops")) if job else "-",
                "share_of_peak": f_pct(fig.get("useful_share_of_peak")) if job else "-",
                "executed_per_useful": f"{fig['executed_per_useful']:.2f}" if job and fig["executed_per_useful"]
                else "-",
                "peak_rss": f_rss(fig),
                "bytes_per_item": f"{fig['bytes_sent_per_item']:.0f}" if job else "-",
                "other_cpu": f_pct(fig["load"]["other_cpu_share"]),
            }
            if name == "exact":
                cells["recall"], cells["ci95"], cells["reference_pairs"] = "1 (reference)", "-", "-"
                cells["missed"] = "-"
            for k, v in cells.items():
                R[f"{p}_{k}"] = v
            rows.append([sz] + list(cells.values()))
    m, pk = doc["machine"], doc["sgemm_gflops"]["peak"]
    R.update(ranks=str(doc["ranks"]), ci_level="95%", cpus=str(m["logical_cpus"]), cpu_model=str(m.get("cpu_model")),
             sgemm_peak_all=f"{pk['all_cores']:.1f}", sgemm_peak_one=f"{pk['one_core']:.1f}",
             load1_before=f"{doc['load']['before'][0]:.2f}", load1_after=f"{doc['load']['after'][0]:.2f}",
             other_cpu_share=f_pct(doc["load"]["other_cpu_share"]),
             minutes=f"{doc['load']['wall_seconds'] / 60:.1f} minutes", git=doc["git"]["short"],
             threshold=f"{doc['results'][0]['params']['threshold']:g}" if doc["results"] else "-")
    table = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" if i in (0, 1, 3, 7, 9, 14) else "---:"
                                                           for i in range(len(cols))) + "|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    path = doc["result_file"]
    dirty = " (uncommitted changes in the build's sources)" if doc["git"]["dirty_sources"] else ""
    text = [f"<!-- figures: {path} -->",
            f"{path}, made by `{doc['command']}` at git {R['git']}{dirty} on {m.get('cpu_model')}, "
            f"{R['cpus']} CPUs, {R['ranks']} ranks / {R['ranks']} faiss threads. "
            f"Load average (one minute) {R['load1_before']} before, {R['load1_after']} after; other processes used "
            f"{R['other_cpu_share']} of the CPU over the run's {R['minutes']} (per program: last column). "
            f"sgemm peak in the same run: {R['sgemm_peak_all']} GFLOP/s on {R['ranks']} single-thread processes "
            f"({R['sgemm_peak_one']} on one). faiss IVF-Flat is compared with `dupgraph run`"
            + (", faiss IndexFlatIP with `dupgraph exact`." if any("faiss_flat" in r for r in doc["results"])
               else "; no exact run at this size: recall is against the exact neighbours of sampled items."),
            "", *table, "<!-- /figures -->"]
    return R, "\n".join(text)


def plain_table(doc, say):
    say("")
    say("== summary ==")
    for r in doc["results"]:
        say(f"{r['n']} x {r['d']}:")
        run, ivf = r["run"], r.get("faiss_ivf", {})
        rec = run["recall"]
        say(f"  dupgraph run    wall {run['wall_seconds']:7.2f} s  recall {rec['value']:.6f} "
            f"[{rec['ci95'][0]:.4f}, {rec['ci95'][1]:.4f}] over {rec['reference_pairs']} pairs  useful "
            f"{f1(run.get('useful_gflops'))} GFLOP/s ({f_pct(run.get('useful_share_of_peak'))} of peak)  other CPU "
            f"{f_pct(run['load']['other_cpu_share'])}")
        if "wall_seconds" in ivf:
            rec = ivf["recall"]
            say(f"  faiss IVF-Flat  wall {ivf['wall_seconds']:7.2f} s  recall {rec['value']:.6f} "
                f"[{rec['ci95'][0]:.4f}, {rec['ci95'][1]:.4f}]  nprobe {ivf['nprobe']}  wall ratio faiss/dupgraph "
                f"{ivf['wall_over_run_wall']:.2f}  other CPU {f_pct(ivf['load']['other_cpu_share'])}")
        if "exact" in r:
            say(f"  dupgraph exact  wall {r['exact']['wall_seconds']:7.2f} s  useful "
                f"{f1(r['exact'].get('useful_gflops'))} GFLOP/s  other CPU {f_pct(r['exact']['load']['other_cpu_share'])}")
        if "faiss_flat" in r:
            fl = r["faiss_flat"]
            say(f"  faiss FlatIP    wall {fl['wall_seconds']:7.2f} s  recall {fl['recall']['value']:.6f}  wall ratio "
                f"faiss/dupgraph exact {fl['wall_over_exact_wall']:.2f}  other CPU {f_pct(fl['load']['other_cpu_share'])}")
    say("wall: from process start to the result file on disk, timed from outside (mpirun for dupgraph, a separate "
        "/usr/bin/python3 process for faiss); useful GFLOP/s: 2 D flops per pair compared over all ranks / slowest "
        "rank's pair seconds; recall with a 95% Wilson interval over the reference pairs.")


# ---- main -------------------------------------------------------------------------

def prioritise(nice):
    """Runs this process and everything it starts at `nice` (own session, so
    the kernel's autogroup nice applies too)."""
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "--wait", sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroups: the process nice value below is enough
    os.setpriority(os.PRIO_PROCESS, 0, nice)


def config_block(a):
    """pairs.block as the job will see it: --set, else the config file."""
    for s in reversed(a.set):
        if s.startswith("pairs.block="):
            return int(s.split("=", 1)[1])
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    cp.read(os.path.join(ROOT, a.config))
    return cp.getint("pairs", "block", fallback=512)


def strip_keys(obj):
    """Drops in-memory arrays (edge keys) before the JSON dump."""
    if isinstance(obj, dict):
        return {k: strip_keys(v) for k, v in obj.items() if k != "edge_keys"}
    if isinstance(obj, list):
        return [strip_keys(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj


def rerender(path):
    """--from-json: the README strings and block again from a result file's
    measured figures (which are kept as they are); "rendered_by" names this."""
    with open(path) as f:
        doc = json.load(f)
    doc["readme"], doc["readme_block"] = readme_figures(doc)
    doc["rendered_by"] = {"command": the_command(), "when_utc": utc_now(),
                          "git": dgtools.machine.git(ROOT, "rev-parse", "--short", "HEAD")}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(doc["readme_block"])
    return 0


def main():
    a = parse_args()
    if a.from_json:
        return rerender(a.from_json)
    os.makedirs(os.path.join(ROOT, a.workdir), exist_ok=True)
    if not os.path.exists(os.path.join(ROOT, a.dupgraph)):
        sys.exit(f"bench: {a.dupgraph} not found: build first (jobs/setup.sh)")
    if a.nice:
        prioritise(a.nice)
    say = Report()
    command = the_command()
    started = utc_now()
    git0, bin0, mach = git_state(), binary_state(a), machine()
    say(f"$ {command}")
    say(f"dupgraph benchmark, {started}, {mach.get('cpu_model')}, {os.cpu_count()} CPUs, {a.ranks} ranks, faiss "
        f"{faiss.__version__}, numpy {np.__version__}, nice {os.getpriority(os.PRIO_PROCESS, 0)}")
    say(f"git {git0['short']}{' (dirty: ' + ', '.join(git0['dirty_files']) + ')' if git0['dirty'] else ''}; "
        f"{a.dupgraph} sha256 {bin0['sha256'][:12]}, build up to date: {bin0.get('build_up_to_date')}")
    with Meter() as whole:
        say(f"load average at start: {' '.join(f'{v:.2f}' for v in whole.load_before)}")
        block = config_block(a)
        shapes = {"peak": (4096, 4096, 256)}
        for d in sorted({d for _, d in a.sizes}):
            shapes[f"pair_d{d}"] = (block, block, d)
        peaks = measure_peaks(shapes, a.ranks, a.peak_seconds, a.idle_wait, say, "start")
        results, failed = [], []
        for n, d in a.sizes:
            say("")
            say(f"== {n} x {d}, {a.ranks} ranks ==")
            try:
                results.append(bench_size(a, n, d, peaks, say))
            except BenchError as e:
                say(f"FAILED: {e}")
                failed.append({"n": n, "d": d, "error": str(e)})
        say("")
        measure_peaks(shapes, a.ranks, a.peak_seconds, a.idle_wait, say, "end", peaks)
    # the peak is the better of start and end: the shares of it are set now
    say(f"pair stage, useful GFLOP/s against the {a.ranks}-process sgemm peak (best of start and end, "
        f"{peaks['peak']['all_cores']:.1f} GFLOP/s):")
    for r in results:
        for key in ("run", "exact"):
            fig = r.get(key)
            if fig and fig.get("useful_gflops") is not None:
                fig["sgemm_peak_all_cores_gflops"] = peaks["peak"]["all_cores"]
                fig["useful_share_of_peak"] = fig["useful_gflops"] / peaks["peak"]["all_cores"]
                same = peaks.get(f"pair_d{r['d']}", {})
                ps = same.get("all_cores")
                fig["useful_share_of_same_shape_sgemm"] = fig["useful_gflops"] / ps if ps else None
                say(f"  {r['n']}x{r['d']} {key:<5}: {fig['useful_gflops']:.1f} GFLOP/s = "
                    f"{100 * fig['useful_share_of_peak']:.0f}% of the peak, "
                    f"{100 * fig['useful_share_of_same_shape_sgemm']:.0f}% of same-shape sgemm "
                    f"({'x'.join(map(str, same['shape']))}: {ps:.1f})")
    git1, bin1 = git_state(), binary_state(a)
    json_path = a.json if os.path.isabs(a.json) else os.path.join(ROOT, a.json)
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "command": command, "started_utc": started,
           "finished_utc": utc_now(), "git": git0, "git_at_end": git1, "binary": bin0, "binary_at_end": bin1,
           "binary_changed_during_run": bin0["sha256"] != bin1["sha256"], "machine": mach, "ranks": a.ranks,
           "config": a.config, "sets": a.set, "label": a.label,
           "result_file": os.path.relpath(json_path, ROOT),
           "definitions": {
               "wall_seconds": "from process start to the result file on disk, timed from outside: the whole mpirun "
                               "command for dupgraph, a separate /usr/bin/python3 process for faiss (import, read "
                               "HDF5, normalise, train, add, search, de-duplicate, re-score, write)",
               "useful_gflops": "2 * D * pairs compared (i<j within a cluster, query x member) summed over ranks / "
                                "the slowest rank's pair-stage seconds; executed / useful is the sgemm's arithmetic "
                                "including the discarded parts of blocks",
               "recall": "found / reference pairs with a 95% Wilson score interval; with a sampled reference the "
                         "reference pairs are all exact pairs touching the sampled items (pairs sharing an item are "
                         "not independent, so the interval is approximate)",
               "faiss_training": "faiss IVF-Flat trains on exactly the items dupgraph's clustering 0 trains on "
                                 "(kmeans.c's hash sample, recomputed and checked against the job's summary), spherical, "
                                 "dupgraph's iteration count; dupgraph trains C clusterings, faiss one",
               "other_cpu_share": "CPU seconds the machine was busy beyond this benchmark's own processes / (wall * "
                                  "logical CPUs)"},
           "load": {"before": whole.load_before, "after": whole.load_after, **whole.record()},
           "sgemm_gflops": peaks, "results": results, "failed": failed}
    doc = strip_keys(doc)
    plain_table(doc, say)
    if results:
        doc["readme"], doc["readme_block"] = readme_figures(doc)
        say("")
        say("README block:")
        say(doc["readme_block"])
    os.makedirs(os.path.dirname(json_path), exist_ok=True)
    with open(json_path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(json_path + ".tmp", json_path)
    txt = os.path.join(ROOT, a.workdir, f"bench_{a.label}.txt")
    say(f"written {os.path.relpath(json_path, ROOT)} (and this report, {os.path.relpath(txt, ROOT)})")
    say.save(txt)
    return 0 if not failed else 1


if __name__ == "__main__":
    if WORKER:
        sys.exit(worker_main(sys.argv[2:]))
    sys.exit(main())
