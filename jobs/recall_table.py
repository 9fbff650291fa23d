#!/usr/bin/python3
"""The recall table and the scaling model, in one run.

  1. Corpus: jobs/synth_embeddings.py, 200k x 128, seed 3, spread 4 (diffuse
     topics, so one clustering with one probe misses a real share of the
     pairs), cached in --workdir.
  2. `dupgraph exact` once: the reference edge list.
  3. `dupgraph run` for every K in --ks, C in --cs and m in --ms, plus the
     config's default (auto K, its C and m), each under mpirun on --ranks
     ranks with one OpenBLAS thread, and `dupgraph compare RUN exact` for the
     recall.  Costs per run: the job's own total seconds, kmeans + assign,
     exchange and pairs seconds (the output file's seconds_<stage>), the
     candidate pairs compared over all ranks and clusterings (the summary's
     "pairs per rank" line), peak RSS, and the CPU seconds other processes
     used meanwhile (the machine may be shared: then the seconds are inflated).
  4. The table as markdown (printed, and saved to --out) and the cheapest run
     reaching each of a few recall levels.
  5. The scaling model: per-item costs measured in these runs (k-means
     seeding on rank 0, Lloyd iterations, assignment and pair rates, exchange
     handling per byte, graph per item) extrapolated to --model-n items of
     --model-d dims on each of --model-ranks ranks with the auto K rule and
     the default C and m, with stated network and file-system bandwidths;
     memory per rank by the formula `dupgraph` prints before work (job.c,
     memory_estimate; checked here against every run's printed estimate).
     Printed and saved to --model-out.
Every run's parsed figures go to --json; --from-json redoes steps 4-5 from it
without running anything.  Nothing fails on the figures.

    jobs/recall_table.sh                         # ~15 min idle, longer on a shared machine
    jobs/recall_table.py --quick                 # 20k items, 8 runs, ~1 min
    jobs/recall_table.py --from-json build/recall_table.json --model-n 1e9
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import time

import h5py

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MIB = 1048576.0
ROUND_BYTES = 64 * MIB  # DG_EXCHANGE_ROUND_BYTES (exchange.h)
POOL_PER_K, POOL_MIN = 4, 1024  # k-means++ pool on rank 0 (kmeans.c)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--spread", type=float, default=4.0)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--ks", default="256,1024,4096")
    ap.add_argument("--cs", default="1,2,3,5")
    ap.add_argument("--ms", default="1,2,3")
    ap.add_argument("--quick", action="store_true", help="20k items, K 64/256, C 1/2, m 1/3")
    ap.add_argument("--dupgraph", default="build/dupgraph")
    ap.add_argument("--config", default="configs/default.ini")
    ap.add_argument("--workdir", default="build/recall")
    ap.add_argument("--out", default="build/recall_table.md")
    ap.add_argument("--model-out", default="build/scaling_model.md")
    ap.add_argument("--json", default="build/recall_table.json")
    ap.add_argument("--idle-wait", type=float, default=15.0,
                    help="before each run, wait up to this many seconds for the machine to be idle")
    ap.add_argument("--retries", type=int, default=1,
                    help="repeat a run during which other processes kept --busy-cores busy, keep the quietest")
    ap.add_argument("--busy-cores", type=float, default=0.5)
    ap.add_argument("--reuse-quiet", metavar="JSON",
                    help="take the runs of an earlier --json that were quiet (<= --busy-cores), run the rest")
    ap.add_argument("--from-json", help="skip the runs: table and model from this file")
    ap.add_argument("--model-n", type=float, default=5e9)
    ap.add_argument("--model-d", type=int, default=256)
    ap.add_argument("--model-ranks", default="256,1024,4096")
    ap.add_argument("--net-gbs", type=float, default=10.0, help="network GB/s per rank (Alltoallv, Allreduce)")
    ap.add_argument("--read-gbs", type=float, default=5.0, help="aggregate parallel HDF5 read GB/s")
    ap.add_argument("--write-gbs", type=float, default=5.0, help="aggregate parallel HDF5 write GB/s")
    a = ap.parse_args()
    if a.quick:
        a.n, a.ks, a.cs, a.ms = 20000, "64,256", "1,2", "1,3"
    return a


def ints(text):
    return [int(v) for v in text.split(",") if v]


# ---- running the job ---------------------------------------------------------

def cpu_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        v = [int(t) for t in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait):
    """Waits (up to max_wait s) until the machine is under 10% busy over 1 s;
    returns the last busy fraction."""
    t_end = time.monotonic() + max_wait
    while True:
        b0, t0 = cpu_busy_seconds(), time.monotonic()
        time.sleep(1.0)
        busy = (cpu_busy_seconds() - b0) / ((time.monotonic() - t0) * (os.cpu_count() or 1))
        if busy < 0.10 or time.monotonic() >= t_end:
            return busy


def children_cpu_seconds():
    t = os.times()
    return t.children_user + t.children_system


def mpi_env():
    env = dict(os.environ)
    env.update(OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    return env


def ensure_corpus(a, say):
    path = os.path.join(a.workdir, f"corpus_{a.n}x{a.d}_s{a.seed}_sp{a.spread:g}.h5")
    if not os.path.exists(path):
        say(f"generating {path}")
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "jobs/synth_embeddings.py"), path + ".tmp",
                        "--n", str(a.n), "--d", str(a.d), "--seed", str(a.seed), "--spread", str(a.spread)],
                       check=True)
        os.replace(path + ".tmp", path)
    return path


NUMS = r"((?: [0-9.e+]+)+)"


def parse_log(text):
    """The figures of rank 0's log that the output file does not hold."""
    def one(pat, conv=float):
        m = re.search(pat, text)
        return conv(m.group(1)) if m else None
    out = {"total": one(r"summary: total ([0-9.]+) s"),
           "bytes_per_item": one(r"summary: rank 0 sent ([0-9.]+) bytes per local item"),
           "mem_estimate_mib": one(r"memory estimate per rank: ([0-9.]+) MiB")}
    # the per-rank list is printed for up to 16 ranks; max and max/mean always
    m = re.search(r"summary: pairs per rank((?: [0-9.e+]+)*) \(max ([0-9.e+]+), max/mean ([0-9.]+)\)", text)
    out["pairs_per_rank"] = [float(v) for v in m.group(1).split()] if m else []
    out["pairs_max"], out["pairs_max_over_mean"] = (float(m.group(2)), float(m.group(3))) if m else (None, None)
    m = re.search(r"summary: seconds per rank" + NUMS + r" \(max/mean", text)
    out["pair_seconds_per_rank"] = [float(v) for v in m.group(1).split()] if m else []
    m = re.search(r"summary: peak RSS per rank" + NUMS + r" MiB", text)
    out["rss_mib"] = [float(v) for v in m.group(1).split()] if m else []
    out["kmeans"] = [{"sample": int(m.group(1)), "seeding": float(m.group(2)), "iterations": int(m.group(3)),
                      "lloyd": float(m.group(4))}
                     for m in re.finditer(r"k-means: K=\d+ D=\d+ sample=(\d+), seeding ([0-9.]+)s, (\d+) "
                                          r"iterations ([0-9.]+)s", text)]
    out["plan_imbalance"] = [float(m.group(1)) for m in re.finditer(r"plan: .*\(imbalance ([0-9.]+)\)", text)]
    return out


def run_job(a, mode, corpus, out, sets, say):
    """One `dupgraph MODE` under mpirun; its log figures, stage seconds and load."""
    cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks), "-x", "OPENBLAS_NUM_THREADS",
           os.path.join(ROOT, a.dupgraph), mode, "-c", os.path.join(ROOT, a.config), "-o", out,
           "--set", f"input.embeddings={corpus}", "--set", "job.resume=false"]
    for s in sets:
        cmd += ["--set", s]
    if a.idle_wait > 0:
        wait_idle(a.idle_wait)
    load = os.getloadavg()[0]
    busy0, own0, t0 = cpu_busy_seconds(), children_cpu_seconds(), time.perf_counter()
    p = subprocess.run(cmd, env=mpi_env(), cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    own = children_cpu_seconds() - own0
    foreign = max(0.0, cpu_busy_seconds() - busy0 - own)
    log = p.stdout + p.stderr
    with open(out + ".log", "w") as f:
        f.write(log)
    if p.returncode != 0:
        tail = "\n".join(log.strip().splitlines()[-6:])
        sys.exit(f"recall_table: dupgraph {mode} {' '.join(sets)} failed (exit {p.returncode}):\n{tail}")
    info = parse_log(log)
    with h5py.File(out, "r") as f:
        info["seconds"] = {k[len("seconds_"):]: float(v) for k, v in f.attrs.items() if k.startswith("seconds_")}
        info["n_edges"] = int(f.attrs["n_edges"])
        info["k_out"] = int(f["centroids"].shape[1]) if "centroids" in f else None
    info.update(mpirun_wall=wall, cpu=own, foreign_cpu=foreign, load1=load)
    if info["pairs_per_rank"]:
        info["pairs_total"] = sum(info["pairs_per_rank"])
    elif info["pairs_max"] is not None:
        info["pairs_total"] = info["pairs_max"] * a.ranks / info["pairs_max_over_mean"]
    say(f"  {mode} {' '.join(sets) or '(config defaults)'}: {info['total']:.1f} s, "
        f"{info['n_edges']} edges, load {load:.2f}, other processes {foreign:.0f} CPU-s")
    return info


def foreign_cores(info):
    """Cores other processes kept busy on average during a run."""
    return info["foreign_cpu"] / info["mpirun_wall"] if info["mpirun_wall"] > 0 else 0.0


def quiet_run(a, mode, corpus, out, sets, say):
    """run_job, repeated up to --retries times while the machine was busy."""
    best = None
    for _ in range(1 + a.retries):
        info = run_job(a, mode, corpus, out, sets, say)
        if best is None or foreign_cores(info) < foreign_cores(best):
            best = info
        if foreign_cores(best) <= a.busy_cores:
            break
    return best


def recall_of(a, out, exact):
    p = subprocess.run([os.path.join(ROOT, a.dupgraph), "compare", out, exact], capture_output=True, text=True,
                       check=True)
    vals = dict(line.split(": ", 1) for line in p.stdout.strip().splitlines())
    return float(vals["recall"]), float(vals["precision"])


def configurations(a):
    runs = [{"k": k, "c": c, "m": m} for k in ints(a.ks) for m in ints(a.ms) for c in ints(a.cs)]
    return runs + [{"k": "auto", "c": None, "m": None, "default": True}]


def run_key(cfg):
    return "default" if cfg.get("default") else f"{cfg['k']},{cfg['c']},{cfg['m']}"


def reusable(a, say):
    """Quiet runs of an earlier --json on the same corpus and ranks, by run_key."""
    if not a.reuse_quiet:
        return {}
    with open(a.reuse_quiet) as f:
        old = json.load(f)
    if [old[k] for k in ("n", "d", "seed", "spread", "ranks")] != [a.n, a.d, a.seed, a.spread, a.ranks]:
        say(f"{a.reuse_quiet}: another corpus or rank count, nothing reused")
        return {}
    keep = {run_key(r): r for r in old["runs"] if foreign_cores(r) <= a.busy_cores}
    if foreign_cores(old["exact"]) <= a.busy_cores:
        keep["exact"] = old["exact"]
    say(f"{a.reuse_quiet}: reusing {len(keep)} quiet runs")
    return keep


def run_all(a, say):
    os.makedirs(os.path.join(ROOT, a.workdir), exist_ok=True)
    a.workdir = os.path.join(ROOT, a.workdir)
    corpus = ensure_corpus(a, say)
    head = git_head()
    old = reusable(a, say)
    exact = os.path.join(a.workdir, "exact.h5")
    if "exact" in old and os.path.exists(exact):
        ref = old["exact"]
    else:
        say(f"exact reference on {a.ranks} ranks (every pair)")
        ref = quiet_run(a, "exact", corpus, exact, [], say)
    rows = []
    for cfg in configurations(a):
        if run_key(cfg) in old:
            rows.append(old[run_key(cfg)])
            continue
        sets = [] if cfg.get("default") else [f"cluster.k={cfg['k']}", f"cluster.clusterings={cfg['c']}",
                                              f"cluster.probes={cfg['m']}"]
        out = os.path.join(a.workdir, "run.h5")
        info = quiet_run(a, "run", corpus, out, sets, say)
        info["recall"], info["precision"] = recall_of(a, out, exact)
        info.update(cfg)
        if cfg.get("default"):
            info["k"] = info["k_out"]
            info["c"] = len(info["kmeans"])
            info["m"] = default_probes(a)
        rows.append(info)
        os.remove(out)
    return {"n": a.n, "d": a.d, "seed": a.seed, "spread": a.spread, "ranks": a.ranks, "exact": ref,
            "runs": rows, "git": head, "dupgraph": a.dupgraph, "config": a.config}


def default_probes(a):
    """m of the default run, from the config file (the log does not print it)."""
    section = None
    with open(os.path.join(ROOT, a.config)) as f:
        for line in f:
            line = line.split(";")[0].strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "cluster" and line.startswith("probes"):
                return int(line.split("=")[1])
    raise SystemExit("recall_table: no [cluster] probes in " + a.config)


def git_head():
    """HEAD, and whether the tracked sources differ from it (the binary may hold uncommitted work)."""
    p = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h"], capture_output=True, text=True)
    q = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", "src", "include"],
                       capture_output=True, text=True)
    return p.stdout.strip() + (" (+ uncommitted changes in src/include)" if q.stdout.strip() else "")


# ---- the table -----------------------------------------------------------------

def pairs_total(r):
    return r.get("pairs_total")


def fmt_pairs(v):
    return f"{v / 1e6:.0f}M" if v is not None else "-"


def seed_pool(k, sample):
    return min(max(POOL_PER_K * k, POOL_MIN), sample)


def work_gflop(r, n, d):
    """The run's arithmetic, independent of machine load: k-means (k-means++
    seeding and Lloyd iterations) + assignment, and the pair stage (2 flops
    per multiply-add)."""
    k = r["k"]
    km = sum(2.0 * seed_pool(k, x["sample"]) * k * d + 2.0 * x["sample"] * k * d * x["iterations"]
             for x in r["kmeans"])
    return (km + 2.0 * r["c"] * n * k * d) / 1e9, (pairs_total(r) or 0) * 2.0 * d / 1e9


def table(data):
    n, d = data["n"], data["d"]
    lines = ["| K | C | m | recall | wall s | kmeans+assign s | exchange s | pairs s | pairs compared | "
             "GFLOP k-means+assign / pairs | other procs (cores) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(data["runs"], key=lambda r: (r["k"], r["m"], r["c"])):
        s = r["seconds"]
        g_km, g_pairs = work_gflop(r, n, d)
        name = f"**{r['k']}** (auto)" if r.get("default") else str(r["k"])
        lines.append(f"| {name} | {r['c']} | {r['m']} | {r['recall']:.4f} | {r['total']:.1f} | "
                     f"{s.get('kmeans', 0) + s.get('assign', 0):.1f} | {s.get('exchange', 0):.1f} | "
                     f"{s.get('pairs', 0):.1f} | {fmt_pairs(pairs_total(r))} | {g_km:.0f} / {g_pairs:.0f} | "
                     f"{foreign_cores(r):.1f} |")
    ex = data["exact"]
    lines.append(f"| exact | - | - | 1 | {ex['total']:.1f} | - | - | {ex['seconds'].get('pairs', 0):.1f} | "
                 f"{fmt_pairs(pairs_total(ex))} | - / {(pairs_total(ex) or 0) * 2.0 * d / 1e9:.0f} | "
                 f"{foreign_cores(ex):.1f} |")
    return "\n".join(lines)


def cheapest(data, levels=(0.95, 0.97, 0.99, 0.995, 0.999)):
    """The run with the least arithmetic and the fastest run at each recall level."""
    out = []
    work = {id(r): sum(work_gflop(r, data["n"], data["d"])) for r in data["runs"]}
    for lv in levels:
        ok = [r for r in data["runs"] if r["recall"] >= lv]
        if not ok:
            out.append(f"- recall >= {lv}: no configuration")
            continue
        least = min(ok, key=lambda r: work[id(r)])
        fast = min(ok, key=lambda r: r["total"])
        out.append(f"- recall >= {lv}: least work K={least['k']} C={least['c']} m={least['m']} "
                   f"({work[id(least)]:.0f} GFLOP, recall {least['recall']:.4f}); fastest "
                   f"K={fast['k']} C={fast['c']} m={fast['m']} ({fast['total']:.1f} s, recall {fast['recall']:.4f})")
    return "\n".join(out)


def header(data):
    every = data["runs"] + [data["exact"]]
    loads = [r["load1"] for r in every]
    foreign = sum(r["foreign_cpu"] for r in every)
    wall = sum(r["mpirun_wall"] for r in every)
    false_edges = [f"K={r['k']} C={r['c']} m={r['m']}" for r in data["runs"] if r["precision"] < 1.0]
    return (f"{data['n']} x {data['d']} synthetic embeddings (synth_embeddings.py --seed {data['seed']} "
            f"--spread {data['spread']:g}), {data['ranks']} ranks, one OpenBLAS thread each; "
            f"{data['exact']['n_edges']} exact edges; {data.get('dupgraph', 'build/dupgraph')} at {data['git']}.\n"
            f"Load average (1 min) at the start of the runs {min(loads):.1f}..{max(loads):.1f}; other processes "
            f"used {foreign:.0f} CPU-s during the {wall:.0f} s of runs ({foreign / wall if wall else 0:.2f} cores "
            f"on average; per run in the last column): a run with other processes busy has inflated seconds.  "
            f"Pairs compared: over all ranks and clusterings.  Wall s: the job's own total (includes ~0.3 s "
            f"saving the resume checkpoint).  Precision against exact: "
            + ("1 in every run." if not false_edges else "below 1 in " + ", ".join(false_edges) + "."))


# ---- per-item costs and the scaling model --------------------------------------

def effective_k(n):
    """cluster.k = auto (config.c, dg_config_effective_k)."""
    target = min(math.sqrt(2.5 * n), n / 128.0)
    k = 1
    while k * 1.4142 < target:
        k *= 2
    return min(k, int(n))


def record_bytes(d):
    return 16 + 4 * d  # exchange.c: id, cluster, flags, then d floats


def memory_per_rank(n_total, d, p, k, c, m, sample):
    """job.c memory_estimate (run mode, embeddings input), bytes per rank by term."""
    n, s = math.ceil(n_total / p), math.ceil(sample / p)
    block = min(512.0 * k, float(1 << 22))
    rnd = min(n * m * (4.0 * d + 16.0), ROUND_BYTES)
    mm = {"runtime": 32 * MIB, "items": n * (4.0 * d + 1.0), "results": 4.0 * c * k * d + n * (4.0 * c + 13.0),
          "probes": 8.0 * n * m, "kmeans": s * (8.0 * d + 48.0) + 8.0 * k * (d + 2.0) + 4.0 * block,
          "exchange": n * m * (4.0 * d + 41.0) + 2.0 * rnd, "graph": 48.0 * n}
    mm["total"] = mm["runtime"] + mm["items"] + mm["results"] + mm["probes"] + max(mm["kmeans"], mm["exchange"],
                                                                                   mm["graph"])
    return mm


def check_memory_formula(data, say):
    worst = 0.0
    for r in data["runs"]:
        est = memory_per_rank(data["n"], data["d"], data["ranks"], r["k"], r["c"], min(r["m"], r["k"]),
                              min(64 * r["k"], data["n"]))["total"] / MIB
        worst = max(worst, abs(est - r["mem_estimate_mib"]))
    say(f"memory formula here vs the estimate each run printed: largest difference {worst:.2f} MiB")
    return worst


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float("nan")


QUIET_CORES = 0.25  # runs during which other processes used less are "quiet"


def quiet(runs):
    """The runs least disturbed by other processes (all of them if none was quiet)."""
    return [r for r in runs if foreign_cores(r) <= QUIET_CORES] or runs


def measured_costs(data):
    """Per-rank rates from the quiet runs: seeding and Lloyd and assignment at
    the largest K (nearest the model's), pairs at the smallest K with a quiet
    run (largest clusters, nearest the model's), exchange per record byte,
    read per byte, graph per item."""
    n_rank, d, p = data["n"] / data["ranks"], data["d"], data["ranks"]
    runs = data["runs"]
    kmax = max(r["k"] for r in runs)
    calm = quiet(runs)
    kmin = min(r["k"] for r in calm)
    big = quiet([r for r in runs if r["k"] == kmax])
    seed_macs = sum(seed_pool(r["k"], x["sample"]) * r["k"] * d for r in big for x in r["kmeans"])
    seed_s = sum(x["seeding"] for r in big for x in r["kmeans"])
    lloyd_flops = sum(x["sample"] / p * r["k"] * 2 * d * x["iterations"] for r in big for x in r["kmeans"])
    lloyd_s = sum(x["lloyd"] for r in big for x in r["kmeans"])
    assign_flops = sum(r["c"] * n_rank * r["k"] * 2 * d for r in big)
    assign_s = sum(r["seconds"]["assign"] for r in big)
    pair_rates = {}
    for k in sorted({r["k"] for r in runs}):
        rs = quiet([r for r in runs if r["k"] == k and pairs_total(r)])
        flops = sum(pairs_total(r) * 2 * d for r in rs)
        rank_s = sum(sum(r.get("pair_seconds_per_rank") or [r["seconds"]["pairs"]] * p) for r in rs)
        pair_rates[k] = flops / rank_s if rs else float("nan")
    exch = [r["seconds"]["exchange"] / (r["c"] * n_rank * min(r["m"], r["k"]) * record_bytes(d)) for r in calm]
    return {
        "k_seed": kmax, "seed_macs_per_s": seed_macs / seed_s if seed_s else float("inf"),
        "lloyd_flops_per_s": lloyd_flops / lloyd_s, "assign_flops_per_s": assign_flops / assign_s,
        "k_pairs": kmin, "pair_flops_per_s": pair_rates[kmin], "pair_rates_by_k": pair_rates,
        "exchange_s_per_byte": median(exch),
        "read_s_per_byte": median([r["seconds"]["read"] / (n_rank * 4 * d) for r in calm]),
        "graph_s_per_item": median([r["seconds"]["graph"] / n_rank for r in calm]),
        "edges_per_item": data["exact"]["n_edges"] / data["n"],
        "plan_imbalance": max(v for r in runs for v in r["plan_imbalance"] or [1.0]),
        "quiet_runs": len(calm), "runs": len(runs),
        "iterations": runs[0]["kmeans"][0]["iterations"],
    }


def model(costs, n, d, p, c, m, a):
    """Seconds per stage and memory per rank for n items of d dims on p ranks."""
    k = effective_k(n)
    sample = min(64 * k, n)
    nr = n / p
    net, rec = a.net_gbs * 1e9, record_bytes(d)
    pool = seed_pool(k, sample)
    seed = pool * k * d / costs["seed_macs_per_s"] + pool * 4 * d / net
    lloyd = sample / p * k * 2 * d / costs["lloyd_flops_per_s"] + 2 * 8 * (k * (d + 1) + 1) / net
    pairs_per_clustering = n * (n / k) * (2 * m - 1) / 2
    edges = costs["edges_per_item"] * n
    t = {
        "read": max(nr * 4 * d * costs["read_s_per_byte"], n * 4 * d / (a.read_gbs * 1e9)),
        "kmeans seeding (rank 0)": c * seed,
        "kmeans Lloyd": c * costs["iterations"] * lloyd,
        "assign": c * nr * k * 2 * d / costs["assign_flops_per_s"],
        "exchange": c * nr * m * rec * (costs["exchange_s_per_byte"] + (p - 1) / p / net),
        "pairs": c * pairs_per_clustering / p * 2 * d / costs["pair_flops_per_s"] * costs["plan_imbalance"],
        "graph": nr * costs["graph_s_per_item"],
        "write": (n * (27 + 4 * c) + edges * 20 + c * k * d * 4) / (a.write_gbs * 1e9),
    }
    mem = memory_per_rank(n, d, p, k, c, m, sample)
    mem["edges"] = 80.0 * edges / p
    mem["rank0 seeding pool"] = pool * (4 * d + 2 * d + 16)
    return {"k": k, "sample": sample, "pairs": c * pairs_per_clustering, "seconds": t, "memory": mem}


def human_s(s):
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h")


def model_text(data, a, say):
    costs = measured_costs(data)
    d0 = data["d"]
    c = next(r["c"] for r in data["runs"] if r.get("default"))
    m = next(r["m"] for r in data["runs"] if r.get("default"))
    ranks = ints(a.model_ranks)
    n, d = a.model_n, a.model_d
    res = {p: model(costs, n, d, p, c, m, a) for p in ranks}
    k = res[ranks[0]]["k"]
    out = [f"Measured per rank on this machine ({data['n']} x {d0}, {data['ranks']} ranks; rates in flops of "
           f"2 per multiply-add):",
           f"- k-means++ seeding on rank 0 at K={costs['k_seed']}: "
           f"{costs['seed_macs_per_s'] / 1e9:.2f} G int16 multiply-adds/s (pool 4K points x K seeds x D)",
           f"- Lloyd iterations at K={costs['k_seed']}: {costs['lloyd_flops_per_s'] / 1e9:.1f} GFLOP/s "
           f"(sample/P x K x 2D per iteration)",
           f"- assign at K={costs['k_seed']}: {costs['assign_flops_per_s'] / 1e9:.1f} GFLOP/s (N/P x K x 2D)",
           "- pairs: " + ", ".join(f"K={kk} {v / 1e9:.1f}" for kk, v in costs["pair_rates_by_k"].items()) +
           f" GFLOP/s (2D per candidate pair; K={costs['k_pairs']} used: the largest clusters with a quiet run)",
           f"- exchange: {costs['exchange_s_per_byte'] * 1e9:.2f} ns per record byte handled (pack, "
           f"shared-memory Alltoallv, sort); read {costs['read_s_per_byte'] * 1e9:.2f} ns/byte; graph "
           f"{costs['graph_s_per_item'] * 1e9:.0f} ns/item; {costs['edges_per_item']:.3f} edges/item; "
           f"plan imbalance <= {costs['plan_imbalance']:.2f}; from the {costs['quiet_runs']} of "
           f"{costs['runs']} runs during which other processes used <= {QUIET_CORES} cores",
           "",
           f"Model: N = {n:.3g}, D = {d}, auto K = {k}, sample {res[ranks[0]]['sample']:.3g}, C = {c}, m = {m}; "
           f"{res[ranks[0]]['pairs']:.3g} candidate pairs; network {a.net_gbs:g} GB/s per rank, HDF5 read "
           f"{a.read_gbs:g} GB/s and write {a.write_gbs:g} GB/s aggregate.",
           "",
           "| stage | " + " | ".join(f"P = {p}" for p in ranks) + " |",
           "|---|" + "---:|" * len(ranks)]
    for st in res[ranks[0]]["seconds"]:
        out.append(f"| {st} | " + " | ".join(human_s(res[p]["seconds"][st]) for p in ranks) + " |")
    out.append("| **total** | " + " | ".join(f"**{human_s(sum(res[p]['seconds'].values()))}**" for p in ranks)
               + " |")
    for term in ("items", "results", "probes", "kmeans", "exchange", "graph", "total", "edges",
                 "rank0 seeding pool"):
        label = {"total": "**memory per rank (printed estimate)**", "edges": "+ edges (80 B each)",
                 "rank0 seeding pool": "+ rank 0 seeding pool"}.get(term, f"memory: {term}")
        out.append(f"| {label} | " + " | ".join(f"{res[p]['memory'][term] / 2**30:.2f} GiB" for p in ranks) + " |")
    text = "\n".join(out)
    say(text)
    return text, costs, res


def main():
    a = parse_args()
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)
    saved = [a.out, a.model_out]
    if a.from_json:
        with open(a.from_json) as f:
            data = json.load(f)
    else:
        data = run_all(a, say)
        with open(os.path.join(ROOT, a.json), "w") as f:
            json.dump(data, f, indent=1)
        saved.append(a.json)
    md = header(data) + "\n\n" + table(data) + "\n\nCheapest run per recall level:\n" + cheapest(data) + "\n"
    say("")
    say(md)
    with open(os.path.join(ROOT, a.out), "w") as f:
        f.write(md)
    check_memory_formula(data, say)
    say("")
    text, _, _ = model_text(data, a, say)
    with open(os.path.join(ROOT, a.model_out), "w") as f:
        f.write(text + "\n")
    say("\nsaved " + ", ".join(saved))


if __name__ == "__main__":
    main()
