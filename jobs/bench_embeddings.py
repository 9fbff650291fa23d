#!/usr/bin/python3
"""Benchmark: dupgraph against faiss on generated embeddings, in one run.

For each corpus size (default 200k x 128 and 1M x 128) this script
  1. generates the corpus with jobs/synth_embeddings.py (cached in --workdir),
  2. runs `dupgraph run` under mpirun (--ranks ranks, one OpenBLAS thread each)
     and reads its per-stage seconds, edges, pair-stage rate, bytes exchanged
     per item and each rank's peak RSS (/usr/bin/time -f %M around each rank),
  3. measures recall against an exact reference: `dupgraph exact` + `dupgraph
     compare` when N <= --exact-max-n; otherwise the exact neighbours of a
     random sample of --queries items, found by faiss IndexFlatIP against all
     N, giving a ratio estimate with its standard error,
  4. times faiss (python3-faiss) doing the same job on the same vectors and
     the same number of cores: IVF-Flat (inner product, nlist = dupgraph's K,
     trained on dupgraph's sample size with its iteration count, spherical),
     nprobe raised until its recall reaches dupgraph's (with a sampled
     reference, also until it finds as many edges: both sides keep only
     exactly re-scored true edges); train + add + range_search
     (+ de-duplication and re-scoring) at that nprobe,
  5. times faiss IndexFlatIP range_search over all N against `dupgraph exact`.
The OpenBLAS sgemm peak (same libopenblas.so.0 as dupgraph: numpy's
libblas.so.3 is Debian's openblas-pthread wrapper) is measured at the start and
the end (the better of the two is the peak) with one process and with --ranks
concurrent single-thread processes.

Both sides use dupgraph's criterion for a pair: float32 vectors L2-normalised
in double, similarity re-scored in double, rounded to float32 and kept when
>= float32(threshold).  faiss gets radius threshold - 1e-4 (the slack
dupgraph's sgemm filter uses) and its candidates are re-scored the same way.

Everything is printed as plain text (also saved next to --json) and written as
JSON to --json.  Nothing here fails on time: the figures are for reading.

    jobs/bench_embeddings.py                       # 200k x 128 and 1M x 128
    jobs/bench_embeddings.py --quick               # 50k x 64 smoke run
    jobs/bench_embeddings.py --sizes 200000x128 --set cluster.clusterings=3
    jobs/bench_embeddings.py --nice -10      # shared machine: own session, higher priority
Each timed part reports the cores it used and the CPU time other processes
took meanwhile, so a disturbed figure is visible as such.
"""
import argparse
import configparser
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time


def _ranks_from_argv():
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--ranks", type=int, default=2)
    return p.parse_known_args()[0].ranks


# faiss gets the same number of cores as dupgraph's ranks; OpenBLAS reads
# this once, when numpy/faiss load it.
os.environ["OPENBLAS_NUM_THREADS"] = str(_ranks_from_argv())

import faiss  # noqa: E402
import h5py  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESCORE_EPS = 1e-4
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


class Report:
    """Prints lines as they come and keeps them for the text file."""

    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        for line in str(text).split("\n"):
            print(line, flush=True)
            self.lines.append(line)

    def save(self, path):
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


# ---- command line ---------------------------------------------------------

def parse_sizes(text):
    sizes = []
    for item in text.split(","):
        n, d = item.lower().split("x")
        sizes.append((int(float(n)), int(d)))
    return sizes


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200000x128,1000000x128", help="comma list of NxD (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 50000x64, fewer sample queries, shorter peaks")
    ap.add_argument("--ranks", type=int, default=2, help="MPI ranks = faiss threads (default %(default)s)")
    ap.add_argument("--config", default="configs/default.ini")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                    help="extra dupgraph config override (repeatable)")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed and sampling seed")
    ap.add_argument("--workdir", default="build/bench", help="corpora, outputs and logs (default %(default)s)")
    ap.add_argument("--json", default="build/bench.json", help="machine-readable results (default %(default)s)")
    ap.add_argument("--exact-max-n", type=int, default=300000,
                    help="run `dupgraph exact` and faiss IndexFlatIP over all N up to this N (default %(default)s);"
                         " above it recall is estimated from sample queries")
    ap.add_argument("--queries", type=int, help="sample queries for the recall estimate (default 10000, quick 2000)")
    ap.add_argument("--peak-seconds", type=float, default=2.0, help="duration of each sgemm peak measurement")
    ap.add_argument("--idle-wait", type=float,
                    help="before each timed part wait up to this many seconds for a quiet machine (default 60, quick 5)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the whole benchmark (dupgraph and faiss alike) at this nice value, e.g. -10 as root on a"
                         " shared machine (default %(default)s)")
    ap.add_argument("--fresh", action="store_true", help="regenerate cached corpora")
    ap.add_argument("--dupgraph", default="build/dupgraph")
    a = ap.parse_args()
    if a.quick:
        a.sizes = "50000x64"
        a.peak_seconds = min(a.peak_seconds, 1.0)
    if a.idle_wait is None:
        a.idle_wait = 5.0 if a.quick else 60.0
    if a.queries is None:
        a.queries = 2000 if a.quick else 10000
    a.sizes = parse_sizes(a.sizes)
    return a


# ---- environment, machine load and sgemm peak -------------------------------

def cpu_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class CpuMeter:
    """CPU seconds used by other processes while a measurement ran: the
    machine may be shared, and then the figures are not clean."""

    def __enter__(self):
        self.busy, self.own, self.t = cpu_busy_seconds(), own_cpu_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.used = own_cpu_seconds() - self.own
        self.foreign = max(0.0, (cpu_busy_seconds() - self.busy) - self.used)
        self.seconds = time.perf_counter() - self.t
        return False

    def note(self):
        return (f"this benchmark used {self.used / self.seconds:.2f} cores on average; other processes used "
                f"{self.foreign:.1f} CPU-s during these {self.seconds:.1f} s")


def wait_idle(max_wait, say):
    """Waits (up to max_wait s) until the machine is less than 10% busy over 1 s."""
    t_end = time.monotonic() + max_wait
    while True:
        b0, t0 = cpu_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (cpu_busy_seconds() - b0) / ((time.monotonic() - t0) * (os.cpu_count() or 1))
        if busy < 0.10 or time.monotonic() >= t_end:
            break
    if busy >= 0.10:
        say(f"  (machine still {100 * busy:.0f}% busy after waiting {max_wait:.0f} s: figures may be disturbed)")
    return busy


def mpi_env(threads=1):
    env = dict(os.environ)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return env


def git_state():
    """HEAD commit and whether sources differ from it (the binary may include uncommitted work)."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "include", "meson.build"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes in src/include/meson.build" if dirty else "")
    except OSError:
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def sgemm_rate(m, n, k, procs, seconds):
    """Aggregate GFLOP/s of `procs` concurrent single-thread sgemm loops."""
    start_at = time.time() + 1.5
    end_at = start_at + seconds
    cmd = [sys.executable, "-c", SGEMM_PROBE, str(m), str(n), str(k), repr(start_at), repr(end_at)]
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
    with CpuMeter() as cm:
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
    return peaks


def blas_library():
    """The OpenBLAS file numpy really calls (resolved through alternatives)."""
    try:
        import numpy.core._multiarray_umath as mu
        out = subprocess.run(["ldd", mu.__file__], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "libopenblas" in line or "libblas" in line:
                path = line.split("=>")[-1].split("(")[0].strip()
                if "libopenblas" in line:
                    return os.path.realpath(path)
        return "libblas.so.3 (not OpenBLAS?)"
    except (ImportError, OSError):
        return "unknown"


# ---- corpus and vectors -----------------------------------------------------

def ensure_corpus(n, d, seed, workdir, fresh, say):
    path = os.path.join(workdir, f"emb_{n}x{d}_seed{seed}.h5")
    if os.path.exists(path) and not fresh:
        with h5py.File(path, "r") as f:
            if f["/embeddings"].shape == (n, d):
                say(f"corpus {path} (cached)")
                return path
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "jobs", "synth_embeddings.py"), path, "--n", str(n),
                    "--d", str(d), "--seed", str(seed)], check=True)
    say(f"corpus {path} generated in {time.perf_counter() - t0:.1f} s")
    return path


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


# ---- dupgraph ---------------------------------------------------------------

SUMMARY_PATTERNS = {
    "pairs_rank0": r"summary: rank 0 compared ([0-9.e+]+) pairs at ([0-9.e+]+) pairs/s \(([0-9.]+) GFLOP/s",
    "bytes_per_item": r"summary: rank 0 sent ([0-9.]+) bytes per local item",
    "total": r"summary: total ([0-9.]+) s",
    "mem_estimate_mib": r"memory estimate per rank: ([0-9.]+) MiB",
    "edges": r"summary: (\d+) duplicate edges, (\d+) components, (\d+) items removed",
}


def parse_log(text):
    out = {}
    for key, pat in SUMMARY_PATTERNS.items():
        m = re.search(pat, text)
        if m:
            out[key] = [float(g) for g in m.groups()]
    nums = r"((?: [0-9.e+]+)+)"
    for key, pat in (("pairs_per_rank", r"summary: pairs per rank" + nums + r" \("),
                     ("pair_seconds_per_rank", r"summary: seconds per rank" + nums + r" \("),
                     ("rss_self_mib", r"summary: peak RSS per rank" + nums + r" MiB")):
        m = re.search(pat, text)
        if m:
            out[key] = [float(v) for v in m.group(1).split()]
    out["stages"] = {m.group(1): float(m.group(2))
                     for m in re.finditer(r"summary:\s{3}(\w+)\s+([0-9.]+) s", text)}
    out["plans"] = [[float(g) for g in m.groups()] for m in
                    re.finditer(r"plan: max rank load ([0-9.e+]+) pairs, mean ([0-9.e+]+) \(imbalance ([0-9.]+)\)",
                                text)]
    out["kmeans"] = [[int(m.group(1)), int(m.group(2)), float(m.group(3))] for m in
                     re.finditer(r"k-means: K=(\d+) D=\d+ sample=(\d+),.* imbalance ([0-9.]+)", text)]
    return out


def read_rss(rss_dir, ranks):
    """Peak RSS (MiB) per rank from /usr/bin/time's files; [] if unavailable."""
    out = []
    for r in range(ranks):
        try:
            with open(os.path.join(rss_dir, f"rank{r}")) as f:
                out.append(int(f.read().split()[-1]) / 1024.0)
        except (OSError, ValueError, IndexError):
            return []
    shutil.rmtree(rss_dir, ignore_errors=True)
    return out


def run_dupgraph(a, mode, emb, out_path, say):
    """Runs `dupgraph MODE` under mpirun; returns parsed log + wall time."""
    exe = os.path.join(ROOT, a.dupgraph)
    job = [exe, mode, "-c", os.path.join(ROOT, a.config), "-o", out_path, "--set", f"input.embeddings={emb}"]
    for s in a.set:
        job += ["--set", s]
    rss_dir = out_path + ".rss"
    shutil.rmtree(rss_dir, ignore_errors=True)
    wrap = []
    if os.path.exists("/usr/bin/time"):
        # a file per rank: a line on stderr after the rank's exit can be lost by mpirun's forwarding
        os.makedirs(rss_dir)
        wrap = ["sh", "-c", 'exec /usr/bin/time -o "' + rss_dir + '/rank${OMPI_COMM_WORLD_RANK:-0}" -f "%M" "$@"', "sh"]
    cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks), "-x", "OPENBLAS_NUM_THREADS"] + wrap + job
    say(f"$ {' '.join(cmd[:6])} ... {mode}")
    wait_idle(a.idle_wait, say)
    with CpuMeter() as cm:
        p = subprocess.run(cmd, env=mpi_env(1), cwd=ROOT, capture_output=True, text=True)
    wall = cm.seconds
    log_path = out_path + ".log"
    with open(log_path, "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0:
        tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-8:])
        raise BenchError(f"dupgraph {mode} failed (exit {p.returncode}), log {log_path}:\n{tail}")
    info = parse_log(p.stderr + p.stdout)
    info["rss_mib"] = read_rss(rss_dir, a.ranks)
    info["wall"] = wall
    info["foreign_cpu"] = cm.foreign
    info["cores_used"] = cm.used / cm.seconds
    info["log"] = log_path
    with h5py.File(out_path, "r") as f:
        info["attrs"] = {k: (v.item() if hasattr(v, "item") else str(v)) for k, v in f.attrs.items()
                         if k != "config"}
        info["config"] = str(f.attrs["config"])
        info["centroids_shape"] = f["centroids"].shape
    return info


def config_value(text, section, key):
    sec = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            sec = line.strip("[]")
        elif sec == section and "=" in line:
            k, v = (s.strip() for s in line.split("=", 1))
            if k == key:
                return v
    raise BenchError(f"config attribute has no {section}.{key}")


def job_params(info, n):
    """The parameters the job really used.  K is read from the output's
    /centroids (C x K x D), so a change of the auto rule needs no change here;
    the sample size follows dupgraph's rule (cluster.sample, auto = 64 x K)."""
    cfg = info["config"]
    k = info["centroids_shape"][1]
    if info["kmeans"] and info["kmeans"][0][0] != k:
        raise BenchError(f"K of /centroids ({k}) differs from dupgraph's log ({info['kmeans'][0][0]})")
    sample = config_value(cfg, "cluster", "sample")
    sample = min(64 * k if sample == "auto" or int(sample) <= 0 else int(sample), n)
    return {
        "k": k, "k_setting": config_value(cfg, "cluster", "k"), "sample": sample,
        "iterations": int(config_value(cfg, "cluster", "iterations")),
        "clusterings": int(config_value(cfg, "cluster", "clusterings")),
        "probes": int(config_value(cfg, "cluster", "probes")),
        "threshold": float(config_value(cfg, "pairs", "threshold")),
        "block": int(config_value(cfg, "pairs", "block")),
        "seed": int(config_value(cfg, "cluster", "seed")),
    }


def compare(a, run_path, exact_path):
    out = subprocess.run([os.path.join(ROOT, a.dupgraph), "compare", run_path, exact_path], capture_output=True,
                         text=True, check=True).stdout
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+): ([0-9.e+-]+)$", out, re.M)}


def report_job(info, d, say, label):
    st = info["stages"]
    total = info.get("total", [sum(st.values())])[0]
    say(f"{label}: total {total:.2f} s (job), mpirun wall {info['wall']:.2f} s ({info['cores_used']:.2f} cores used "
        f"on average; other processes used {info['foreign_cpu']:.1f} CPU-s meanwhile)")
    say("  stages: " + ", ".join(f"{k} {v:.2f}" for k, v in st.items()))
    if "edges" in info:
        e = info["edges"]
        say(f"  edges {int(e[0])}, components {int(e[1])}, removed {int(e[2])}")
    fig = {"total": total, "wall": info["wall"], "stages": st, "foreign_cpu": info["foreign_cpu"]}
    if "pairs_rank0" in info:
        cmp_, rate, gflops = info["pairs_rank0"]
        useful = 2.0 * d * rate * 1e-9
        say(f"  pair stage, rank 0: {cmp_:.4g} pairs compared, {rate:.4g} pairs/s, sgemm {gflops:.1f} GFLOP/s "
            f"({useful:.1f} GFLOP/s on kept-triangle pairs; fraction of the sgemm peak at the end)")
        fig.update(pairs_rank0=cmp_, pairs_per_s_rank0=rate, gflops_rank0=gflops, useful_gflops_rank0=useful)
    if "pairs_per_rank" in info and "pair_seconds_per_rank" in info:
        pr, sr = info["pairs_per_rank"], info["pair_seconds_per_rank"]
        total_pairs = sum(pr)
        say(f"  pairs per rank {' '.join(f'{v:.4g}' for v in pr)} (total {total_pairs:.4g}); pair seconds per rank "
            f"{' '.join(f'{v:.2f}' for v in sr)}; all ranks {total_pairs / max(sr):.4g} pairs/s (total / slowest rank)")
        fig.update(pairs_per_rank=pr, pair_seconds_per_rank=sr, pairs_total=total_pairs,
                   pairs_per_s_all=total_pairs / max(sr) if max(sr) > 0 else None)
    if info["plans"]:
        imb = [p[2] for p in info["plans"]]
        say("  plan: expected-work imbalance (max/mean rank load) per clustering " + ", ".join(f"{v:.2f}" for v in imb))
        fig["plan_imbalance"] = imb
    if info["kmeans"]:
        say("  k-means cluster-size imbalance per clustering: " + ", ".join(f"{k[2]:.2f}" for k in info["kmeans"]))
        fig["kmeans_imbalance"] = [k[2] for k in info["kmeans"]]
    if "bytes_per_item" in info:
        say(f"  exchange: rank 0 sent {info['bytes_per_item'][0]:.1f} bytes per local item")
        fig["bytes_per_item"] = info["bytes_per_item"][0]
    if info["rss_mib"]:
        est = info.get("mem_estimate_mib", [float("nan")])[0]
        own = info.get("rss_self_mib")
        say("  peak RSS per rank (/usr/bin/time): " + ", ".join(f"{v:.0f}" for v in info["rss_mib"])
            + f" MiB; dupgraph's own getrusage: {', '.join(f'{v:.0f}' for v in own) if own else '-'} MiB; "
            f"its estimate {est:.0f} MiB per rank")
        fig.update(rss_mib=info["rss_mib"], rss_self_mib=own, mem_estimate_mib=est)
    return fig


# ---- faiss ------------------------------------------------------------------

def range_keys(index, x, qids, threshold, n):
    """Unique canonical pair keys found by range-searching rows qids, self
    pairs dropped, candidates re-scored like dupgraph.  index labels are ids."""
    q = np.ascontiguousarray(x[qids])
    lims, _, labels = index.range_search(q, float(threshold - RESCORE_EPS))
    src = np.repeat(qids.astype(np.int64), np.diff(lims).astype(np.int64))
    dst = labels.astype(np.int64)
    other = src != dst
    src, dst = src[other], dst[other]
    keys = np.unique(pair_keys(src, dst, n))
    lo, hi = keys // n, keys % n
    return keys[rescore_keep(x, lo, hi, threshold)]


def build_ivf(x, ids, par, seed):
    d = x.shape[1]
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, par["k"], faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True
    index.cp.niter = par["iterations"]
    index.cp.seed = seed
    index.cp.max_points_per_centroid = max(256, -(-par["sample"] // par["k"]))
    rng = np.random.default_rng(seed)
    train = np.ascontiguousarray(x[np.sort(rng.choice(ids, size=min(par["sample"], len(ids)), replace=False))])
    t0 = time.perf_counter()
    index.train(train)
    t1 = time.perf_counter()
    index.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
    t2 = time.perf_counter()
    return index, t1 - t0, t2 - t1


class Reference:
    """Exact duplicate pairs: all of them (keys), or those of sampled items."""

    def __init__(self, n, keys=None, sample=None, ref_pos=None, ref_keys=None, partners=None):
        self.n = n
        self.keys = keys
        self.sample = sample
        self.ref_pos = ref_pos
        self.ref_keys = ref_keys
        self.partners = partners

    def recall(self, found_keys):
        """(recall, standard error or None)."""
        if self.keys is not None:
            hit = np.isin(self.keys, found_keys, assume_unique=True).sum()
            return (hit / len(self.keys) if len(self.keys) else 1.0), None
        found = np.isin(self.ref_keys, found_keys).astype(np.float64)
        a = np.bincount(self.ref_pos, weights=found, minlength=len(self.sample))
        b = np.bincount(self.ref_pos, minlength=len(self.sample)).astype(np.float64)
        r = a.sum() / b.sum() if b.sum() else 1.0
        q = len(self.sample)
        se = np.sqrt(((a - r * b) ** 2).sum() / (q * (q - 1))) / b.mean() if b.sum() and q > 1 else 0.0
        return r, se

    def false_edges(self, found_keys):
        """Found pairs not in the reference (among those it can judge)."""
        if self.keys is not None:
            return int(len(found_keys) - np.isin(found_keys, self.keys, assume_unique=True).sum())
        lo, hi = found_keys // self.n, found_keys % self.n
        touch = np.isin(lo, self.sample) | np.isin(hi, self.sample)
        return int((~np.isin(found_keys[touch], self.ref_keys)).sum())


def sample_reference(x, ids, par, queries, seed, n, say):
    """Exact neighbours (>= threshold) of `queries` random usable items by faiss
    IndexFlatIP against all of them; the time is a brute-force sample."""
    rng = np.random.default_rng(seed + 7)
    sample = np.sort(rng.choice(ids, size=min(queries, len(ids)), replace=False))
    flat = faiss.IndexIDMap(faiss.IndexFlatIP(x.shape[1]))
    t0 = time.perf_counter()
    flat.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
    t1 = time.perf_counter()
    lims, _, labels = flat.range_search(np.ascontiguousarray(x[sample]), float(par["threshold"] - RESCORE_EPS))
    t2 = time.perf_counter()
    pos = np.repeat(np.arange(len(sample)), np.diff(lims).astype(np.int64))
    src, dst = sample[pos], labels.astype(np.int64)
    keep = (src != dst)
    keep[keep] = rescore_keep(x, src[keep], dst[keep], par["threshold"])
    pos, src, dst = pos[keep], src[keep], dst[keep]
    say(f"reference: exact neighbours of {len(sample)} random items against all {len(ids)} "
        f"(faiss IndexFlatIP, add {t1 - t0:.2f} s, range_search {t2 - t1:.2f} s): {len(pos)} pairs")
    ref = Reference(n, sample=sample, ref_pos=pos, ref_keys=pair_keys(src, dst, n),
                    partners=np.unique(np.concatenate([sample, dst])))
    return ref, {"queries": len(sample), "pairs": int(len(pos)), "seconds": t2 - t1, "add_seconds": t1 - t0}


def sweep_ivf(index, x, ids, ref, par, n, target, say):
    """Raises nprobe until recall >= target; returns the sweep and the
    first matching nprobe (None if none up to K).  With a sampled reference
    only the sampled items and their true partners are searched (both ends
    of every reference pair, so the recall is exact for the sample)."""
    qids = ids if ref.keys is not None else ref.partners
    sweep, chosen = [], None
    for nprobe in [p for p in NPROBES if p <= par["k"]] or [par["k"]]:
        index.nprobe = nprobe
        t0 = time.perf_counter()
        keys = range_keys(index, x, qids, par["threshold"], n)
        dt = time.perf_counter() - t0
        r, se = ref.recall(keys)
        sweep.append({"nprobe": nprobe, "recall": r, "se": se, "seconds": dt, "queries": int(len(qids))})
        say(f"  nprobe {nprobe:4d}: recall {r:.6f}" + (f" +- {se:.4f}" if se is not None else "")
            + f"  ({len(qids)} queries, {dt:.2f} s)")
        if r >= target:
            chosen = nprobe
            break
    return sweep, chosen


def faiss_ivf(a, x, ids, ref, par, n, target, run_edges, say):
    """IVF-Flat at the first nprobe whose recall reaches `target`.  With a
    sampled reference the sample cannot tell recalls apart near 1, so the
    full search is then also held to finding at least `run_edges` edges:
    both sides keep only pairs whose exact similarity passes the threshold
    (no false edges), so their recalls are in the ratio of their edge counts."""
    say(f"faiss IVF-Flat: nlist {par['k']}, train on {par['sample']} random points, {par['iterations']} "
        f"spherical k-means iterations, {faiss.omp_get_max_threads()} threads; target recall {target:.6f}")
    wait_idle(a.idle_wait, say)
    with CpuMeter() as cm_build:
        index, t_train, t_add = build_ivf(x, ids, par, a.seed)
    say(f"  train {t_train:.2f} s, add {t_add:.2f} s ({cm_build.note()})")
    sweep, chosen = sweep_ivf(index, x, ids, ref, par, n, target, say)
    res = {"train": t_train, "add": t_add, "sweep": sweep, "nprobe": chosen, "full_searches": []}
    if chosen is None:
        say("  faiss did not reach the target recall with nprobe <= K")
        return res, None
    for nprobe in [p for p in NPROBES if chosen <= p <= par["k"]]:
        index.nprobe = nprobe
        wait_idle(a.idle_wait, say)
        with CpuMeter() as cm:
            keys = range_keys(index, x, ids, par["threshold"], n)
        t_search = cm.seconds
        r, se = ref.recall(keys)
        total = t_train + t_add + t_search
        res["full_searches"].append({"nprobe": nprobe, "seconds": t_search, "edges": int(len(keys))})
        res.update(nprobe=nprobe, search=t_search, total=total, recall=r, se=se, edges=int(len(keys)),
                   false_edges=ref.false_edges(keys), foreign_cpu=cm_build.foreign + cm.foreign,
                   cores_used_search=cm.used / cm.seconds)
        say(f"  at nprobe {nprobe}, all {len(ids)} queries: range_search + dedup/re-score {t_search:.2f} s, "
            f"{len(keys)} edges, recall {r:.6f}" + (f" +- {se:.4f}" if se is not None else "")
            + f"; train + add + search = {total:.2f} s ({cm.note()})")
        if ref.keys is not None or len(keys) >= run_edges:
            return res, keys
        say(f"  fewer edges than dupgraph ({len(keys)} < {run_edges}), all true ones on both sides: lower recall, "
            f"next nprobe")
    say("  faiss did not find as many edges as dupgraph with nprobe <= K")
    res.pop("total")
    return res, keys


def faiss_flat(a, x, ids, par, n, ref, say):
    index = faiss.IndexIDMap(faiss.IndexFlatIP(x.shape[1]))
    wait_idle(a.idle_wait, say)
    with CpuMeter() as cm:
        t0 = time.perf_counter()
        index.add_with_ids(x[ids] if len(ids) < len(x) else x, ids.astype(np.int64))
        t1 = time.perf_counter()
        keys = range_keys(index, x, ids, par["threshold"], n)
        t2 = time.perf_counter()
    r, _ = ref.recall(keys)
    say(f"faiss IndexFlatIP range_search, all {len(ids)} queries x {len(ids)}: add {t1 - t0:.2f} s, search + "
        f"dedup/re-score {t2 - t1:.2f} s, total {t2 - t0:.2f} s ({cm.note()})")
    say(f"  {len(keys)} edges; against dupgraph exact: recall {r:.6f}, extra edges {ref.false_edges(keys)}")
    return {"total": t2 - t0, "add": t1 - t0, "search": t2 - t1, "edges": int(len(keys)), "recall_vs_exact": r,
            "foreign_cpu": cm.foreign, "cores_used": cm.used / cm.seconds}


# ---- one corpus size ----------------------------------------------------------

def bench_size(a, n, d, say):
    workdir = os.path.join(ROOT, a.workdir)
    emb = ensure_corpus(n, d, a.seed, workdir, a.fresh, say)
    res = {"n": n, "d": d, "ranks": a.ranks}
    tag = os.path.join(workdir, f"{n}x{d}")

    run = run_dupgraph(a, "run", emb, tag + ".run.h5", say)
    par = job_params(run, n)
    res["params"] = par
    say(f"dupgraph config: K {par['k']} (cluster.k = {par['k_setting']}), C {par['clusterings']}, m {par['probes']}, sample {par['sample']}, "
        f"iterations {par['iterations']}, threshold {par['threshold']:g}, block {par['block']}")
    res["run"] = report_job(run, d, say, "dupgraph run")

    t0 = time.perf_counter()
    x, ok = load_normalised(emb, "/embeddings")
    ids = np.flatnonzero(ok)
    say(f"vectors loaded and normalised for faiss in {time.perf_counter() - t0:.2f} s ({len(ids)} usable of {n})")
    run_keys = read_edge_keys(tag + ".run.h5", n)

    if n <= a.exact_max_n:
        ex = run_dupgraph(a, "exact", emb, tag + ".exact.h5", say)
        res["exact"] = report_job(ex, d, say, "dupgraph exact")
        cmp_ = compare(a, tag + ".run.h5", tag + ".exact.h5")
        ref = Reference(n, keys=read_edge_keys(tag + ".exact.h5", n))
        res["recall"] = {"value": cmp_.get("recall"), "se": None, "precision": cmp_.get("precision"),
                         "method": "dupgraph compare against dupgraph exact", "exact_edges": int(len(ref.keys))}
        say(f"dupgraph recall against exact: {cmp_.get('recall'):.6f}, precision {cmp_.get('precision'):.6f} "
            f"({int(cmp_.get('edges_both', 0))} of {int(cmp_.get('edges_b', 0))} exact edges)")
    else:
        ref, info = sample_reference(x, ids, par, a.queries, a.seed, n, say)
        r, se = ref.recall(run_keys)
        res["recall"] = {"value": r, "se": se, "false_edges_touching_sample": ref.false_edges(run_keys),
                         "method": f"exact neighbours of {info['queries']} random items", **info}
        est = info["seconds"] * len(ids) / info["queries"]
        res["flat_estimate"] = {"seconds": est, "from_queries": info["queries"]}
        say(f"dupgraph recall (estimate): {r:.4f} +- {se:.4f} (standard error), false edges touching the sample: "
            f"{res['recall']['false_edges_touching_sample']}")
        say(f"faiss IndexFlatIP brute force over all {len(ids)} queries, extrapolated from the sample: {est:.0f} s")

    faiss.omp_set_num_threads(a.ranks)
    res["ivf"], ivf_keys = faiss_ivf(a, x, ids, ref, par, n, res["recall"]["value"], len(run_keys), say)
    if ivf_keys is not None:
        both = int(np.isin(run_keys, ivf_keys, assume_unique=True).sum())
        res["ivf"]["edges_both"] = both
        say(f"  edge sets, dupgraph run vs faiss at nprobe {res['ivf']['nprobe']}: {both} in both, "
            f"{len(run_keys) - both} only dupgraph, {len(ivf_keys) - both} only faiss")
    if res["ivf"].get("total"):
        res["ivf"]["ratio_to_job"] = res["ivf"]["total"] / res["run"]["total"]
        res["ivf"]["ratio_to_wall"] = res["ivf"]["total"] / res["run"]["wall"]
        say(f"faiss IVF-Flat / dupgraph run: {res['ivf']['ratio_to_job']:.2f}x (job total), "
            f"{res['ivf']['ratio_to_wall']:.2f}x (mpirun wall)")
    if ref.keys is not None:
        res["flat"] = faiss_flat(a, x, ids, par, n, ref, say)
        res["flat"]["ratio_to_exact"] = res["flat"]["total"] / res["exact"]["total"]
        res["flat"]["ratio_to_exact_wall"] = res["flat"]["total"] / res["exact"]["wall"]
        say(f"faiss IndexFlatIP / dupgraph exact: {res['flat']['ratio_to_exact']:.2f}x (job total), "
            f"{res['flat']['ratio_to_exact_wall']:.2f}x (mpirun wall)")
    return res


# ---- summary ------------------------------------------------------------------

def peak_fractions(results, peaks, say):
    """The pair stage's sgemm rate (rank 0, one core) against the peaks, the
    better of the start and end measurements."""
    p1 = peaks["peak"]["one_core"]
    pb = peaks["peak"]["per_core_when_all_busy"]
    say(f"pair stage against the sgemm peak (best of start and end: 1 core {p1:.1f}, per core with all cores busy "
        f"{pb:.1f} GFLOP/s):")
    for r in results:
        ps = peaks[f"pair_d{r['d']}"]["per_core_when_all_busy"]
        for mode in ("run", "exact"):
            fig = r.get(mode)
            if not fig or "gflops_rank0" not in fig:
                continue
            g = fig["gflops_rank0"]
            fig.update(frac_peak_1core=g / p1, frac_peak_busy=g / pb, frac_same_shape=g / ps)
            say(f"  {r['n']}x{r['d']} {mode:<5}: {g:.1f} GFLOP/s = {100 * g / p1:.0f}% of the 1-core peak, "
                f"{100 * g / pb:.0f}% of the per-core peak with all cores busy, {100 * g / ps:.0f}% of same-shape "
                f"sgemm ({ps:.1f})")


def fmt(v, f):
    return format(v, f) if isinstance(v, (int, float)) else "-"


def extrapolate_exact(results, say):
    """For sizes above --exact-max-n: `dupgraph exact` scaled as N^2 D from the
    largest size measured in this run, against faiss's brute force
    extrapolated from its sample queries.  Estimates, marked with ~."""
    measured = [r for r in results if "exact" in r]
    if not measured:
        return
    base = max(measured, key=lambda r: r["n"])
    for r in results:
        if "exact" in r or "flat_estimate" not in r:
            continue
        est = base["exact"]["total"] * (r["n"] / base["n"]) ** 2 * (r["d"] / base["d"])
        flat = r["flat_estimate"]["seconds"]
        r["exact_extrapolated"] = {"seconds": est, "from_n": base["n"], "flat_ratio": flat / est}
        say(f"{r['n']}x{r['d']}: dupgraph exact extrapolated from {base['n']}x{base['d']} (N^2 D): ~{est:.0f} s; "
            f"faiss IndexFlatIP extrapolated from its sample: ~{flat:.0f} s; ratio ~{flat / est:.2f}"
            f" (measure both with --exact-max-n {r['n']})")


def final_table(results, say):
    say("")
    say("== summary ==")
    head = (f"{'N x D':>13} {'K':>5} {'run s':>7} {'wall s':>7} {'recall':>15} {'pairs/s':>8} {'pair GF/s':>9} {'%peak':>6} "
            f"{'RSS MiB':>11} {'B/item':>7} {'nprobe':>6} {'faiss s':>8} {'ratio':>6} {'exact s':>8} "
            f"{'flat s':>8} {'ratio':>6}")
    say(head)
    for r in results:
        run, ivf, flat, ex = r["run"], r["ivf"], r.get("flat", {}), r.get("exact", {})
        rec = r["recall"]
        rtxt = fmt(rec["value"], ".4f") + f"+-{rec['se']:.4f}" if rec.get("se") is not None else fmt(rec["value"], ".6f")
        rss = "/".join(f"{v:.0f}" for v in run.get("rss_mib", [])) or "-"
        flat_s = flat.get("total", r.get("flat_estimate", {}).get("seconds"))
        flat_txt = fmt(flat_s, ".1f") + ("" if "total" in flat or flat_s is None else "~")
        xe = r.get("exact_extrapolated", {})
        ex_txt = fmt(ex.get("total"), ".2f") if ex else fmt(xe.get("seconds"), ".0f") + "~"
        ratio_txt = fmt(flat.get("ratio_to_exact"), ".2f") if flat else fmt(xe.get("flat_ratio"), ".2f") + "~"
        say(f"{r['n']:>8}x{r['d']:<4} {r['params']['k']:>5} {run['total']:>7.2f} {run['wall']:>7.2f} {rtxt:>15} "
            f"{fmt(run.get('pairs_per_s_all'), '.2e'):>8} {fmt(run.get('gflops_rank0'), '.1f'):>9} {fmt(100 * run['frac_peak_busy'] if 'frac_peak_busy' in run else None, '.0f'):>6} "
            f"{rss:>11} {fmt(run.get('bytes_per_item'), '.0f'):>7} {fmt(ivf.get('nprobe'), 'd'):>6} "
            f"{fmt(ivf.get('total'), '.2f'):>8} {fmt(ivf.get('ratio_to_job'), '.2f'):>6} "
            f"{ex_txt:>8} {flat_txt:>8} {ratio_txt:>6}")
    say("run s: dupgraph job total (read..write); wall: mpirun; recall against exact (+- standard error when"
        " sampled); pairs/s: pairs compared by all ranks / slowest rank's pair seconds; pair GF/s: rank 0's sgemm rate in the pair stage; %peak: of the per-core sgemm peak with all"
        " cores busy; faiss s: IVF-Flat train + add + range_search at the first nprobe reaching dupgraph's recall;"
        " ratio: faiss / dupgraph; exact s: dupgraph exact; flat s: faiss IndexFlatIP range_search; ~: extrapolated"
        " (see above).")
    noisy = disturbed(results)
    if noisy:
        say("measured while other processes used CPU (other CPU-s / available CPU-s): " + ", ".join(noisy))
    else:
        say("no measurement shared the machine with other processes beyond 5% of its CPU time")


def disturbed(results):
    cpus = os.cpu_count() or 1
    out = []
    for r in results:
        for name, fig, secs in (("run", r["run"], r["run"]["wall"]),
                                ("exact", r.get("exact"), r.get("exact", {}).get("wall")),
                                ("faiss ivf", r["ivf"], r["ivf"].get("total")),
                                ("faiss flat", r.get("flat"), r.get("flat", {}).get("total"))):
            if fig and secs and fig.get("foreign_cpu", 0.0) > 0.05 * secs * cpus:
                out.append(f"{r['n']}x{r['d']} {name} {100 * fig['foreign_cpu'] / (secs * cpus):.0f}%")
    return out


def prioritise(nice):
    """Runs this process and everything it starts (mpirun, the ranks, the
    sgemm probes; faiss is in-process) at `nice`.  With the kernel's
    autogroups, nice only orders processes of one session, so the script
    first becomes a session leader (re-executed under setsid) and sets the
    nice value of that session's autogroup too."""
    if os.getsid(0) != os.getpid():
        os.execvp("setsid", ["setsid", "--wait", sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroups: the process nice value below is enough
    os.setpriority(os.PRIO_PROCESS, 0, nice)


def autogroup():
    try:
        with open("/proc/self/autogroup") as f:
            return f.read().strip()
    except OSError:
        return "none"


def config_block(a):
    """pairs.block as the job will see it: --set, else the config file."""
    for s in reversed(a.set):
        if s.startswith("pairs.block="):
            return int(s.split("=", 1)[1])
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    cp.read(os.path.join(ROOT, a.config))
    return cp.getint("pairs", "block", fallback=512)


def main():
    a = parse_args()
    os.makedirs(os.path.join(ROOT, a.workdir), exist_ok=True)
    if not os.path.exists(os.path.join(ROOT, a.dupgraph)):
        sys.exit(f"bench: {a.dupgraph} not found: build first (jobs/setup.sh)")
    if a.nice:
        prioritise(a.nice)
    say = Report()
    say(f"dupgraph benchmark, {time.strftime('%Y-%m-%d %H:%M:%S')}, {cpu_model()}, {os.cpu_count()} CPUs, "
        f"{a.ranks} ranks, faiss {faiss.__version__}, numpy {np.__version__}, nice {os.getpriority(os.PRIO_PROCESS, 0)} ({autogroup()})")
    say(f"dupgraph {a.dupgraph} built from {git_state()}")
    say(f"load average at start: {os.getloadavg()[0]:.2f}; /usr/bin/time for per-rank RSS: "
        f"{'yes' if os.path.exists('/usr/bin/time') else 'missing (install the time package)'}")
    block = config_block(a)
    shapes = {"peak": (4096, 4096, 256)}
    for d in sorted({d for _, d in a.sizes}):
        shapes[f"pair_d{d}"] = (block, block, d)
    peaks = measure_peaks(shapes, a.ranks, a.peak_seconds, a.idle_wait, say, "start")
    results = []
    for n, d in a.sizes:
        say("")
        say(f"== {n} x {d}, {a.ranks} ranks ==")
        try:
            results.append(bench_size(a, n, d, say))
        except BenchError as e:
            say(f"FAILED: {e}")
    say("")
    measure_peaks(shapes, a.ranks, a.peak_seconds, a.idle_wait, say, "end", peaks)
    peak_fractions(results, peaks, say)
    extrapolate_exact(results, say)
    if results:
        final_table(results, say)
    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpu": cpu_model(), "cpus": os.cpu_count(),
           "ranks": a.ranks, "git": git_state(), "faiss": faiss.__version__, "blas": blas_library(), "sgemm_gflops": peaks,
           "results": results}
    json_path = os.path.join(ROOT, a.json) if not os.path.isabs(a.json) else a.json
    with open(json_path, "w") as f:
        json.dump(doc, f, indent=1, default=float)
    say.save(os.path.splitext(json_path)[0] + ".txt")
    say(f"written {json_path} and {os.path.splitext(json_path)[0] + '.txt'}")
    return 0 if len(results) == len(a.sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
