#!/usr/bin/python3
"""The recall table and the scaling model, in one run, with one result file.

  1. Corpus: jobs/synth_embeddings.py, 200k x 128, seed 3, spread 4 (diffuse
     topics, so one clustering with one probe misses a real share of the
     pairs), cached in --workdir.
  2. `dupgraph exact` once: the reference edge list.
  3. `dupgraph run` for every K in --ks, C in --cs and m in --ms, plus the
     config's default (auto K, its C and m), each under mpirun on --ranks
     ranks with one OpenBLAS thread, and `dupgraph compare RUN exact` for the
     recall (with a 95% Wilson interval over the exact pairs).  Every
     dupgraph call passes job.resume=false and output.summary=PATH.json; the
     figures come from that JSON summary (seconds per stage, pairs compared
     and pair seconds per rank, flops, memory estimate, peak RSS, bytes
     sent, K, C, m, and per clustering the k-means figures (sample, seeding
     and Lloyd seconds, iterations) and the pair plan's imbalance); no log
     text is parsed.  Around every run: the load
     average before and after, and the CPU seconds other processes used
     meanwhile (/proc/stat minus our own children), as a share of all cores.
  4. The table as markdown (printed, and saved to --out) and the cheapest run
     reaching each of a few recall levels.
  5. The scaling model: per-rank rates measured in these runs (k-means
     seeding rate, Lloyd iterations, assignment and pair rates, exchange
     handling per byte, graph per item) extrapolated to --model-n items of
     --model-d dims on each of --model-ranks ranks with the auto K rule and
     the default C and m, with stated network and file-system bandwidths;
     auto K, the training sample and the memory per rank come from
     `dupgraph estimate` (the job's own functions: dg_config_effective_k,
     src/core/job_memory.c; checked here against every run's summary).
     Printed and saved to --model-out.
  6. One result file, --json (default results/recall_table.json): the
     command, git revision and dirty flag, the binary's hash, the machine,
     every run's figures and load, the exact run, the model's inputs and
     outputs, and "readme": a name for every figure README.md quotes mapped
     to the exact string it prints (tests/check_readme_figures.py checks the
     README's figure blocks against those strings).
--from-json FILE redoes steps 4-6 from FILE's measured runs without running
anything (the file keeps the measuring command; "rendered_by" names the
re-rendering one).  Nothing fails on the figures.

    jobs/recall_table.sh                         # ~20 min idle, longer on a shared machine
    jobs/recall_table.sh --quick                 # 20k items, 9 runs, ~1 min (build/recall_table_quick.json)
    jobs/recall_table.sh --from-json results/recall_table.json --model-n 1e9 --json build/model_1e9.json
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))  # dgtools
from dgtools import machine, summary  # noqa: E402
from dgtools.bench import Report, wilson  # noqa: E402
from dgtools.machine import git_state, utc_now, wait_idle  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MIB = 1048576.0
GIB = 1073741824.0
POOL_PER_K, POOL_MIN = 4, 1024  # k-means++ pool (kmeans_seed.c)
FORMAT, FORMAT_VERSION = "dupgraph-recall-table", 1


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
    ap.add_argument("--quick", action="store_true",
                    help="20k items, K 64/256, C 1/2, m 1/3; --json defaults to build/recall_table_quick.json")
    ap.add_argument("--dupgraph", default="build/dupgraph")
    ap.add_argument("--config", default="configs/default.ini")
    ap.add_argument("--workdir", default="build/recall")
    ap.add_argument("--out", default="build/recall_table.md")
    ap.add_argument("--model-out", default="build/scaling_model.md")
    ap.add_argument("--json", help="the result file (default results/recall_table.json)")
    ap.add_argument("--idle-wait", type=float, default=15.0,
                    help="before each run, wait up to this many seconds for the machine to be idle")
    ap.add_argument("--retries", type=int, default=1,
                    help="repeat a run during which other processes kept --busy-cores busy, keep the quietest")
    ap.add_argument("--busy-cores", type=float, default=0.5)
    ap.add_argument("--reuse-quiet", metavar="JSON",
                    help="take the runs of an earlier result file that were quiet (<= --busy-cores), run the rest")
    ap.add_argument("--from-json", help="skip the runs: table, model and result file from this file's runs")
    ap.add_argument("--model-n", type=float, default=5e9)
    ap.add_argument("--model-d", type=int, default=256)
    ap.add_argument("--model-ranks", default="256,1024,4096")
    ap.add_argument("--net-gbs", type=float, default=10.0, help="network GB/s per rank (Alltoallv, Allreduce)")
    ap.add_argument("--read-gbs", type=float, default=5.0, help="aggregate parallel HDF5 read GB/s")
    ap.add_argument("--write-gbs", type=float, default=5.0, help="aggregate parallel HDF5 write GB/s")
    ap.add_argument("--collective-us", type=float, default=5.0,
                    help="latency of one small collective per tree level (x log2 P), microseconds")
    ap.add_argument("--scale-coarse-probes", type=int, default=8,
                    help="the scale settings' cluster.coarse_probes (two_level assignment)")
    ap.add_argument("--scale-max-memory-gib", type=float, default=8.0,
                    help="the scale settings' job.max_memory per rank, GiB")
    a = ap.parse_args()
    if a.quick:
        a.n, a.ks, a.cs, a.ms = 20000, "64,256", "1,2", "1,3"
    if a.json is None:
        a.json = "build/recall_table_quick.json" if a.quick else "results/recall_table.json"
    return a


def ints(text):
    return [int(v) for v in text.split(",") if v]


def the_command():
    """How this script was started, as one would type it in the project folder."""
    return machine.the_command(ROOT, "RECALL_TABLE_ENTRY")


def corpus_command(a, path):
    return ["/usr/bin/python3", "jobs/synth_embeddings.py", path, "--n", str(a.n), "--d", str(a.d),
            "--seed", str(a.seed), "--spread", f"{a.spread:g}"]


def ensure_corpus(a, say):
    path = os.path.join(a.workdir, f"corpus_{a.n}x{a.d}_s{a.seed}_sp{a.spread:g}.h5")
    if not os.path.exists(path):
        say(f"generating {path}")
        subprocess.run(corpus_command(a, path + ".tmp"), check=True, cwd=ROOT)
        os.replace(path + ".tmp", path)
    return path


def trimmed_summary(s):
    """The job's JSON summary without what is the same in every run."""
    s = dict(s)
    s.pop("items", None)
    for key in ("input", "output", "format", "format_version"):
        s.pop(key, None)
    return s


def run_job(a, mode, corpus, out, sets, say):
    """One `dupgraph MODE` under mpirun: its summary and load."""
    summary_path = out + ".summary.json"
    tail = [mode, "-c", a.config, "-o", os.path.relpath(out, ROOT),
            "--set", f"input.embeddings={os.path.relpath(corpus, ROOT)}", "--set", "job.resume=false",
            *summary.set_args(os.path.relpath(summary_path, ROOT))]
    for s in sets:
        tail += ["--set", s]
    cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks), "-x", "OPENBLAS_NUM_THREADS", a.dupgraph] + tail
    idle = wait_idle(a.idle_wait) if a.idle_wait > 0 else None
    try:
        _, s, m = summary.run(cmd, summary_path, out + ".log", cwd=ROOT, tail=6)
    except summary.JobFailed as e:
        sys.exit(f"recall_table: dupgraph {mode} {' '.join(sets)} failed ({e})")
    r = m.record()
    done = summary.measured(s)
    info = {"mode": mode, "command": " ".join(shlex.quote(v) for v in cmd), "sets": sets,
            "summary": trimmed_summary(s), "kmeans": [c["kmeans"] for c in done],
            "plan_imbalance": [c["plan"]["imbalance"] for c in done if c["plan"]],
            "mpirun_seconds": r["wall_seconds"], "own_cpu_seconds": r["own_cpu_seconds"],
            "other_cpu_seconds": r["other_cpu_seconds"], "other_cores": r["other_cores"],
            "other_cpu_share": r["other_cpu_share"], "load_before": r["load_before"], "load_after": r["load_after"],
            "busy_share_before_start": idle}
    say(f"  {mode} {' '.join(sets) or '(config defaults)'}: {s['seconds']['total']:.1f} s, "
        f"{s['edges']} edges, load {r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f}, "
        f"other processes {r['other_cpu_seconds']:.0f} CPU-s ({r['other_cpu_share']:.0%} of the CPU)")
    return info


def foreign_cores(info):
    """Cores other processes kept busy on average during a run."""
    return info["other_cores"]


def quiet_run(a, mode, corpus, out, sets, say):
    """run_job, repeated up to --retries times while the machine was busy; the
    quietest attempt is kept, every attempt's load is recorded."""
    best, attempts = None, []
    for _ in range(1 + a.retries):
        info = run_job(a, mode, corpus, out, sets, say)
        attempts.append({k: info[k] for k in ("mpirun_seconds", "other_cpu_seconds", "other_cpu_share",
                                              "load_before", "load_after")}
                        | {"total_seconds": info["summary"]["seconds"]["total"]})
        if best is None or foreign_cores(info) < foreign_cores(best):
            best = info
        if foreign_cores(best) <= a.busy_cores:
            break
    best["attempts"] = attempts
    return best


def compare(a, out, exact):
    p = subprocess.run([os.path.join(ROOT, a.dupgraph), "compare", out, exact], capture_output=True, text=True,
                       check=True)
    vals = dict(line.split(": ", 1) for line in p.stdout.strip().splitlines())
    return {"run_edges": int(vals["edges_a"]), "exact_pairs": int(vals["edges_b"]),
            "found": int(vals["edges_both"]), "precision": float(vals["precision"]),
            "max_sim_diff": float(vals["max_sim_diff"])}


def configurations(a):
    runs = [{"k": k, "c": c, "m": m} for k in ints(a.ks) for m in ints(a.ms) for c in ints(a.cs)]
    return runs + [{"k": "auto", "c": None, "m": None, "default": True}]


def run_key(cfg):
    return "default" if cfg.get("default") else f"{cfg['k']},{cfg['c']},{cfg['m']}"


def reusable(a, say):
    """Quiet runs of an earlier result file on the same corpus and ranks, by run_key."""
    if not a.reuse_quiet:
        return {}
    with open(a.reuse_quiet) as f:
        old = json.load(f)
    c = old.get("corpus", {})
    if [c.get(k) for k in ("n", "d", "seed", "spread")] + [old.get("ranks")] != [a.n, a.d, a.seed, a.spread,
                                                                                 a.ranks]:
        say(f"{a.reuse_quiet}: another corpus or rank count, nothing reused")
        return {}
    keep = {run_key(r): r for r in old["runs"] if foreign_cores(r) <= a.busy_cores}
    if foreign_cores(old["exact"]) <= a.busy_cores:
        keep["exact"] = old["exact"]
    say(f"{a.reuse_quiet}: reusing {len(keep)} quiet runs")
    return keep


def run_all(a, say):
    a.workdir = os.path.join(ROOT, a.workdir)
    os.makedirs(a.workdir, exist_ok=True)
    started = utc_now()
    git0, bin0 = git_state(ROOT), machine.binary_state(ROOT, a.dupgraph)
    corpus = ensure_corpus(a, say)
    old = reusable(a, say)
    exact = os.path.join(a.workdir, "exact.h5")
    if "exact" in old and os.path.exists(exact):
        ref = old["exact"]
    else:
        say(f"exact reference on {a.ranks} ranks (every pair)")
        ref = quiet_run(a, "exact", corpus, exact, [], say)
    runs = []
    for cfg in configurations(a):
        if run_key(cfg) in old:
            runs.append(old[run_key(cfg)])
            continue
        sets = [] if cfg.get("default") else [f"cluster.k={cfg['k']}", f"cluster.clusterings={cfg['c']}",
                                              f"cluster.probes={cfg['m']}"]
        out = os.path.join(a.workdir, "run.h5")
        info = quiet_run(a, "run", corpus, out, sets, say)
        info.update(compare(a, out, exact))
        s = info["summary"]
        info.update(k=s["k"], c=s["clusterings"], m=s["probes"], default=bool(cfg.get("default")))
        runs.append(info)
        os.remove(out)
    git1, bin1 = git_state(ROOT), machine.binary_state(ROOT, a.dupgraph)
    if bin1["sha256"] != bin0["sha256"]:
        say("recall_table: WARNING: build/dupgraph changed during the runs (someone rebuilt it)")
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "command": the_command(), "cwd": ROOT,
            "started_utc": started, "finished_utc": utc_now(), "git": git0, "git_at_end": git1,
            "binary": bin0, "binary_changed_during_runs": bin1["sha256"] != bin0["sha256"],
            "machine": machine.describe(libraries=False), "config": a.config, "ranks": a.ranks, "openblas_threads": 1,
            "corpus": {"n": a.n, "d": a.d, "seed": a.seed, "spread": a.spread,
                       "command": " ".join(corpus_command(a, os.path.relpath(corpus, ROOT)))},
            "grid": {"ks": ints(a.ks), "cs": ints(a.cs), "ms": ints(a.ms)},
            "load_policy": {"idle_wait_seconds": a.idle_wait, "retries": a.retries, "busy_cores": a.busy_cores},
            "exact": ref, "runs": runs}


# ---- the rows and the table -------------------------------------------------------

def seed_pool(k, sample):
    return min(max(POOL_PER_K * k, POOL_MIN), sample)


def pairs_total(r):
    return r["summary"]["pairs"]["compared_total"]


def kmeans_assign_gflop(r, n, d):
    """Arithmetic of k-means (k-means++ seeding pool x K x D multiply-adds, Lloyd
    sample x K x 2D per iteration) and assignment (C x N x K x 2D), counted
    from the sizes the summary reports: the useful work, whatever the load."""
    k = r["k"]
    km = sum(2.0 * seed_pool(k, x["sample"]) * k * d + 2.0 * x["sample"] * k * d * x["iterations"]
             for x in r["kmeans"])
    return (km + 2.0 * r["c"] * n * k * d) / 1e9


def row_of(r, n, d):
    """One table row's figures, unrounded."""
    s = r["summary"]
    lo, hi = wilson(r["found"], r["exact_pairs"])
    stages = {k: v for k, v in s["seconds"].items() if k != "total"}
    return {"K": r["k"], "C": r["c"], "m": r["m"], "default": r.get("default", False),
            "recall": r["found"] / r["exact_pairs"] if r["exact_pairs"] else 1.0, "recall_ci95": [lo, hi],
            "exact_pairs": r["exact_pairs"], "found": r["found"], "missed": r["exact_pairs"] - r["found"],
            "run_edges": r["run_edges"], "precision": r["precision"],
            "wall_seconds": s["seconds"]["total"], "mpirun_seconds": r["mpirun_seconds"],
            "stage_seconds": stages,
            "kmeans_assign_seconds": stages.get("kmeans", 0.0) + stages.get("assign", 0.0),
            "pairs_compared": pairs_total(r), "pairs_compared_per_rank": s["pairs"]["compared"],
            "gflop_pairs_useful": s["pairs"]["flops_useful"] / 1e9,
            "gflop_pairs_executed": sum(s["pairs"]["flops_executed"]) / 1e9,
            "gflop_kmeans_assign": kmeans_assign_gflop(r, n, d),
            "load_before": r["load_before"], "load_after": r["load_after"],
            "other_cpu_seconds": r["other_cpu_seconds"], "other_cpu_share": r["other_cpu_share"],
            "attempts": len(r.get("attempts", [1])),
            "memory_estimate_bytes": s["memory"]["estimate_bytes"],
            "peak_rss_max_bytes": s["memory"]["peak_rss_max_bytes"],
            "bytes_sent": s.get("exchange", {}).get("bytes_sent")}


def exact_row(ref, d):
    s = ref["summary"]
    return {"wall_seconds": s["seconds"]["total"], "mpirun_seconds": ref["mpirun_seconds"],
            "stage_seconds": {k: v for k, v in s["seconds"].items() if k != "total"},
            "edges": s["edges"], "pairs_compared": pairs_total(ref),
            "gflop_pairs_useful": s["pairs"]["flops_useful"] / 1e9,
            "gflop_pairs_executed": sum(s["pairs"]["flops_executed"]) / 1e9,
            "load_before": ref["load_before"], "load_after": ref["load_after"],
            "other_cpu_seconds": ref["other_cpu_seconds"], "other_cpu_share": ref["other_cpu_share"],
            "memory_estimate_bytes": s["memory"]["estimate_bytes"],
            "peak_rss_max_bytes": s["memory"]["peak_rss_max_bytes"]}


def sorted_runs(data):
    return sorted(data["runs"], key=lambda r: (r["k"], r["m"], r["c"]))


# The strings the README prints, one function per kind of figure.
def f_recall(v):
    return f"{v:.4f}"


def f_ci(lo, hi):
    return f"{lo:.4f}–{hi:.4f}"


def f_s(v):
    return f"{v:.1f}"


def f_pairs(v):
    return f"{v / 1e6:.0f}M"


def f_gflop(v):
    return f"{v:.0f}"


def f_share(v):
    return f"{100 * v:.0f}%"


def f_load(v):
    return f"{v:.2f}"


def row_name(r):
    return "default" if r.get("default") else f"K{r['K']}_C{r['C']}_m{r['m']}"


def row_cells(row):
    """The table cells of one row, by figure name."""
    return {"recall": f_recall(row["recall"]), "recall_ci95": f_ci(*row["recall_ci95"]),
            "missed": str(row["missed"]), "wall_s": f_s(row["wall_seconds"]),
            "kmeans_assign_s": f_s(row["kmeans_assign_seconds"]),
            "exchange_s": f_s(row["stage_seconds"].get("exchange", 0.0)),
            "pairs_s": f_s(row["stage_seconds"].get("pairs", 0.0)), "pairs_compared": f_pairs(row["pairs_compared"]),
            "gflop": f"{f_gflop(row['gflop_kmeans_assign'])} / {f_gflop(row['gflop_pairs_useful'])}",
            "other_cpu": f_share(row["other_cpu_share"])}


def table(rows, ex, readme):
    lines = ["| K | C | m | recall | 95% CI | missed | wall s | k-means + assign s | exchange s | pairs s | "
             "pairs compared | GFLOP k-means+assign / pairs | other processes' CPU share |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        cells = row_cells(row)
        name = row_name(row)
        for key, v in cells.items():
            readme[f"{name}_{key}"] = v
        label = str(row["K"])
        if row["default"]:
            label = f"**{row['K']}** (default: auto)"
            readme.update(default_K=str(row["K"]), default_C=str(row["C"]), default_m=str(row["m"]))
        lines.append(f"| {label} | {row['C']} | {row['m']} | " + " | ".join(cells.values()) + " |")
    exc = {"wall_s": f_s(ex["wall_seconds"]), "pairs_s": f_s(ex["stage_seconds"].get("pairs", 0.0)),
           "pairs_compared": f_pairs(ex["pairs_compared"]), "gflop": f_gflop(ex["gflop_pairs_useful"]),
           "other_cpu": f_share(ex["other_cpu_share"])}
    for key, v in exc.items():
        readme[f"exact_{key}"] = v
    readme["exact_recall"] = "1"
    lines.append(f"| exact | - | - | 1 | - | - | {exc['wall_s']} | - | - | {exc['pairs_s']} | "
                 f"{exc['pairs_compared']} | "
                 f"- / {exc['gflop']} | {exc['other_cpu']} |")
    return "\n".join(lines)


def cheapest(rows, levels=(0.95, 0.97, 0.99, 0.995, 0.999)):
    """The row with the least arithmetic and the fastest row at each recall level."""
    out, text = [], []
    for lv in levels:
        ok = [r for r in rows if r["recall"] >= lv]
        if not ok:
            out.append({"level": lv, "least_work": None, "fastest": None})
            text.append(f"- recall >= {lv}: no configuration")
            continue
        least = min(ok, key=lambda r: r["gflop_kmeans_assign"] + r["gflop_pairs_useful"])
        fast = min(ok, key=lambda r: r["wall_seconds"])
        out.append({"level": lv, "least_work": row_name(least), "fastest": row_name(fast)})
        text.append(f"- recall >= {lv}: least work K={least['K']} C={least['C']} m={least['m']} "
                    f"({least['gflop_kmeans_assign'] + least['gflop_pairs_useful']:.0f} GFLOP, recall "
                    f"{least['recall']:.4f}); fastest K={fast['K']} C={fast['C']} m={fast['m']} "
                    f"({fast['wall_seconds']:.1f} s, recall {fast['recall']:.4f})")
    return out, "\n".join(text)


def load_figures(data):
    """The load over all runs (the kept attempt of each, and the exact run)."""
    every = data["runs"] + [data["exact"]]
    other = sum(r["other_cpu_seconds"] for r in every)
    wall = sum(r["mpirun_seconds"] for r in every)
    cores = data["machine"].get("logical_cpus") or 1
    attempts = [x for r in every for x in r.get("attempts", [])]
    return {"load1_before_min": min(r["load_before"][0] for r in every),
            "load1_before_max": max(r["load_before"][0] for r in every),
            "load1_after_min": min(r["load_after"][0] for r in every),
            "load1_after_max": max(r["load_after"][0] for r in every),
            "other_cpu_seconds": other, "run_seconds": wall,
            "other_cpu_share": other / (wall * cores) if wall else 0.0,
            "other_cpu_share_max": max(r["other_cpu_share"] for r in every),
            "runs_over_busy_cores": sum(1 for r in every if foreign_cores(r) > data["load_policy"]["busy_cores"]),
            "attempts": len(attempts) or len(every), "repeated_runs": sum(1 for r in every
                                                                         if len(r.get("attempts", [])) > 1)}


def header(data, ex, load, readme):
    c, g = data["corpus"], data["git"]
    readme.update(corpus_n=str(c["n"]), corpus_d=str(c["d"]), corpus_seed=str(c["seed"]),
                  corpus_spread=f"{c['spread']:g}", ranks=str(data["ranks"]),
                  grid_K=", ".join(map(str, data["grid"]["ks"])), grid_C=", ".join(map(str, data["grid"]["cs"])),
                  grid_m=", ".join(map(str, data["grid"]["ms"])), exact_pairs=str(ex["edges"]),
                  ci_level="95%", git_commit=g["short"], runs=str(len(data["runs"])),
                  load1_before=f"{f_load(load['load1_before_min'])}–{f_load(load['load1_before_max'])}",
                  load1_after=f"{f_load(load['load1_after_min'])}–{f_load(load['load1_after_max'])}",
                  other_cpu_share=f_share(load["other_cpu_share"]),
                  other_cpu_share_max=f_share(load["other_cpu_share_max"]),
                  run_minutes=f"{load['run_seconds'] / 60:.0f}", cpu_model=data["machine"].get("cpu_model") or "?",
                  logical_cpus=str(data["machine"].get("logical_cpus")))
    false_edges = [f"K={r['k']} C={r['c']} m={r['m']}" for r in data["runs"] if r["precision"] < 1.0]
    return (f"{c['n']} x {c['d']} synthetic embeddings (synth_embeddings.py --seed {c['seed']} "
            f"--spread {c['spread']:g}), {data['ranks']} ranks, one OpenBLAS thread each; {ex['edges']} exact "
            f"pairs; {data['binary']['path']} at {g['short']}{' (dirty sources)' if g['dirty_sources'] else ''}; "
            f"{data['machine'].get('cpu_model')}, {data['machine'].get('logical_cpus')} CPUs.\n"
            f"Load average (1 min) before the runs {readme['load1_before']}, after {readme['load1_after']}; other "
            f"processes used {load['other_cpu_seconds']:.0f} CPU-s during the {load['run_seconds']:.0f} s of runs "
            f"({readme['other_cpu_share']} of the CPU; at most {readme['other_cpu_share_max']} in one run, per run "
            f"in the last column): a run with other processes busy has inflated seconds.  Pairs compared: over all "
            f"ranks and clusterings; GFLOP pairs: 2 D per pair compared (useful work).  Wall s: the job's own "
            f"total.  Precision against exact: "
            + ("1 in every run." if not false_edges else "below 1 in " + ", ".join(false_edges) + "."))


# ---- per-rank rates and the scaling model --------------------------------------

def record_bytes(d):
    return 16 + 4 * d  # exchange.c: id, cluster, flags, then d floats


def estimate(a, n, d, p, sets):
    """`dupgraph estimate` (the job's own K rule and memory model, run mode,
    embeddings input) for n items of d dims on p ranks with --config and sets."""
    cmd = [os.path.join(ROOT, a.dupgraph), "estimate", "--items", str(int(n)), "--dim", str(d), "--ranks", str(p),
           "-c", a.config]
    for kv in sets:
        cmd += ["--set", kv]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"recall_table: {' '.join(cmd)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def memory_per_rank(est):
    """Bytes per rank by term, and their total, of a `dupgraph estimate`."""
    return {**est["memory"]["estimate_parts_bytes"], "total": est["memory"]["estimate_bytes"]}


def run_sets(k, c, m):
    return [f"cluster.k={k}", f"cluster.clusterings={c}", f"cluster.probes={m}"]


def check_memory_formula(data, a, say):
    """Largest difference between `dupgraph estimate` and the estimate each run's summary holds."""
    worst = 0.0
    for r in data["runs"]:
        est = estimate(a, data["corpus"]["n"], data["corpus"]["d"], data["ranks"], run_sets(r["k"], r["c"], r["m"]))
        worst = max(worst, abs(est["memory"]["estimate_bytes"] - r["summary"]["memory"]["estimate_bytes"]))
    say(f"`dupgraph estimate` vs the estimate in each run's summary: largest difference {worst / MIB:.2f} MiB")
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
    n, d, p = data["corpus"]["n"], data["corpus"]["d"], data["ranks"]
    n_rank = n / p
    runs = data["runs"]
    kmax = max(r["k"] for r in runs)
    calm = quiet(runs)
    kmin = min(r["k"] for r in calm)
    big = quiet([r for r in runs if r["k"] == kmax])
    sec = lambda r, st: r["summary"]["seconds"].get(st, 0.0)  # noqa: E731
    seed_macs = sum(seed_pool(r["k"], x["sample"]) * r["k"] * d for r in big for x in r["kmeans"])
    seed_s = sum(x["seeding_seconds"] for r in big for x in r["kmeans"])
    lloyd_flops = sum(x["sample"] / p * r["k"] * 2 * d * x["iterations"] for r in big for x in r["kmeans"])
    lloyd_s = sum(x["lloyd_seconds"] for r in big for x in r["kmeans"])
    assign_flops = sum(r["c"] * n_rank * r["k"] * 2 * d for r in big)
    assign_s = sum(sec(r, "assign") for r in big)
    pair_rates = {}
    for k in sorted({r["k"] for r in runs}):
        rs = quiet([r for r in runs if r["k"] == k and pairs_total(r)])
        flops = sum(r["summary"]["pairs"]["flops_useful"] for r in rs)
        rank_s = sum(sum(r["summary"]["pairs"]["seconds"]) for r in rs)
        pair_rates[str(k)] = flops / rank_s if rs and rank_s else float("nan")
    exch = [sec(r, "exchange") / (r["c"] * n_rank * min(r["m"], r["k"]) * record_bytes(d)) for r in calm]
    return {
        "k_seed": kmax, "seed_macs_per_s": seed_macs / seed_s if seed_s else float("inf"),
        "lloyd_flops_per_s": lloyd_flops / lloyd_s, "assign_flops_per_s": assign_flops / assign_s,
        "k_pairs": kmin, "pair_flops_per_s": pair_rates[str(kmin)], "pair_rates_by_k": pair_rates,
        "exchange_s_per_byte": median(exch),
        "read_s_per_byte": median([sec(r, "read") / (n_rank * 4 * d) for r in calm]),
        "graph_s_per_item": median([sec(r, "graph") / n_rank for r in calm]),
        "edges_per_item": data["exact"]["summary"]["edges"] / n,
        "plan_imbalance": max(v for r in runs for v in r["plan_imbalance"] or [1.0]),
        "quiet_runs": len(calm), "runs": len(runs), "quiet_cores": QUIET_CORES,
        "iterations": runs[0]["kmeans"][0]["iterations"],
    }


def collective_s(a, p):
    """One small collective (a seed's Allgather or Bcast) on p ranks: a tree."""
    return a.collective_us * 1e-6 * max(1.0, math.log2(p))


def model(costs, n, d, p, c, m, a, scale=False):
    """Seconds per stage and memory per rank for n items of d dims on p ranks,
    with today's defaults (k-means++ seeding spread over the ranks, flat
    assignment, no memory cap) or, with scale, the settings for scale
    (two_level assignment with --scale-coarse-probes, job.max_memory =
    --scale-max-memory-gib: the exchanged bucket handled in rounds)."""
    est = estimate(a, n, d, p, run_sets("auto", c, m) + ["cluster.sample=auto"])
    k, sample = est["k"], est["sample"]
    nr = n / p
    net, rec = a.net_gbs * 1e9, record_bytes(d)
    pool = seed_pool(k, sample)
    # kmeans_seed.c: each rank scores its share of the pool; per seed one
    # MPI_Allgather of the ranks' totals and one MPI_Bcast of the point
    seed = pool / p * k * d / costs["seed_macs_per_s"] + 2 * k * collective_s(a, p) + k * 4 * d / net
    lloyd = sample / p * k * 2 * d / costs["lloyd_flops_per_s"] + 2 * 8 * (k * (d + 1) + 1) / net
    groups = max(1, round(math.sqrt(k)))
    compared = groups + a.scale_coarse_probes * k / groups if scale else k  # centroids per item (centroid_index.c)
    pairs_per_clustering = n * (n / k) * (2 * m - 1) / 2
    edges = costs["edges_per_item"] * n
    t = {
        "read": max(nr * 4 * d * costs["read_s_per_byte"], n * 4 * d / (a.read_gbs * 1e9)),
        "kmeans seeding": c * seed,
        "kmeans Lloyd": c * costs["iterations"] * lloyd,
        "assign": c * nr * compared * 2 * d / costs["assign_flops_per_s"],
        "exchange": c * nr * m * rec * (costs["exchange_s_per_byte"] + (p - 1) / p / net),
        "pairs": c * pairs_per_clustering / p * 2 * d / costs["pair_flops_per_s"] * costs["plan_imbalance"],
        "graph": nr * costs["graph_s_per_item"],
        "write": (n * (27 + 4 * c) + edges * 20 + c * k * d * 4) / (a.write_gbs * 1e9),
    }
    mem = memory_per_rank(est)
    mem["edges"] = 80.0 * edges / p
    mem["seeding pool share"] = pool / p * (4 * d + 2 * d + 16)
    rounds = 1
    if scale:
        # the job's own budget for a round (job_memory.c); None: it does not fit the cap at all
        capped = memory_per_rank(estimate(a, n, d, p, run_sets("auto", c, m) + [
            "cluster.sample=auto", f"job.max_memory={int(a.scale_max_memory_gib * GIB)}"]))
        fits = capped["total"] <= a.scale_max_memory_gib * GIB
        rounds = math.ceil(mem["exchange"] / capped["exchange"]) if fits and capped["exchange"] > 0 else None
        mem.update({k: v for k, v in capped.items()})
    total = sum(t.values())
    return {"k": k, "sample": sample, "items_per_cluster": n / k, "pairs": c * pairs_per_clustering,
            "centroids_per_item": compared, "exchange_rounds": rounds,
            "read_bytes": n * 4 * d, "seconds": t, "seconds_total": total,
            "assign_pairs_share": (t["assign"] + t["pairs"]) / total, "memory_bytes": mem}


def human_s(s):
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h")


def f_gib(b):
    return f"{b / GIB:.1f} GiB" if b < 100 * GIB else f"{b / GIB:.0f} GiB"


def f_sci(v):
    mant, exp = f"{v:.1e}".split("e")
    return f"{mant.rstrip('0').rstrip('.')}e{int(exp)}"


def model_text(data, a, readme, say):
    costs = measured_costs(data)
    d0 = data["corpus"]["d"]
    default = next(r for r in data["runs"] if r.get("default"))
    c, m = default["c"], default["m"]
    ranks = ints(a.model_ranks)
    n, d = a.model_n, a.model_d
    res = {p: model(costs, n, d, p, c, m, a) for p in ranks}
    res_scale = {p: model(costs, n, d, p, c, m, a, scale=True) for p in ranks}
    r0 = res[ranks[0]]
    k = r0["k"]
    readme.update(
        model_N=f_sci(n), model_D=str(d), model_K=str(k), model_C=str(c), model_m=str(m),
        model_items_per_cluster=f"{r0['items_per_cluster'] / 1e3:.0f}k", model_pairs=f_sci(r0["pairs"]),
        model_P=", ".join(map(str, ranks)), model_read_TB=f"{r0['read_bytes'] / 1e12:.1f} TB",
        rate_seed=f"{costs['seed_macs_per_s'] / 1e9:.0f} G int16 multiply-adds/s",
        rate_lloyd=f"{costs['lloyd_flops_per_s'] / 1e9:.0f} GFLOP/s",
        rate_assign=f"{costs['assign_flops_per_s'] / 1e9:.0f} GFLOP/s",
        rate_pairs=f"{costs['pair_flops_per_s'] / 1e9:.0f} GFLOP/s",
        rate_exchange=f"{costs['exchange_s_per_byte'] * 1e9:.1f} ns per exchanged byte",
        rate_k_seed=str(costs["k_seed"]), rate_k_pairs=str(costs["k_pairs"]),
        rate_quiet_runs=f"{costs['quiet_runs']} of {costs['runs']}",
        edges_per_item=f"{costs['edges_per_item']:.2f}", plan_imbalance=f"{costs['plan_imbalance']:.2f}",
        assumed_net=f"{a.net_gbs:g} GB/s", assumed_read=f"{a.read_gbs:g} GB/s", assumed_write=f"{a.write_gbs:g} GB/s",
        model_pool=f_gib(r0["memory_bytes"]["seeding pool share"] * ranks[0]),
        collective_us=f"{a.collective_us:g} µs", scale_coarse_probes=str(a.scale_coarse_probes),
        scale_max_memory=f"{a.scale_max_memory_gib:g} GiB",
        scale_centroids_per_item=f"{res_scale[ranks[0]]['centroids_per_item']:.0f}")
    for p in ranks:
        r = res[p]
        t, mem = r["seconds"], r["memory_bytes"]
        readme.update({f"P{p}": str(p), f"P{p}_read": human_s(t["read"]), f"P{p}_write": human_s(t["write"]),
                       f"P{p}_seeding": human_s(t["kmeans seeding"]),
                       f"P{p}_lloyd": human_s(t["kmeans Lloyd"]), f"P{p}_assign": human_s(t["assign"]),
                       f"P{p}_exchange": human_s(t["exchange"]), f"P{p}_pairs": human_s(t["pairs"]),
                       f"P{p}_graph": human_s(t["graph"]), f"P{p}_total": human_s(r["seconds_total"]),
                       f"P{p}_memory": f_gib(mem["total"]), f"P{p}_memory_exchange": f_gib(mem["exchange"]),
                       f"P{p}_memory_edges": f_gib(mem["edges"]),
                       f"P{p}_assign_pairs_share": f_share(r["assign_pairs_share"])})
        r = res_scale[p]
        t, mem = r["seconds"], r["memory_bytes"]
        readme.update({f"S{p}_seeding": human_s(t["kmeans seeding"]), f"S{p}_lloyd": human_s(t["kmeans Lloyd"]),
                       f"S{p}_assign": human_s(t["assign"]), f"S{p}_exchange": human_s(t["exchange"]),
                       f"S{p}_pairs": human_s(t["pairs"]), f"S{p}_total": human_s(r["seconds_total"]),
                       f"S{p}_memory": f_gib(mem["total"] + mem["edges"]),
                       f"S{p}_rounds": str(r["exchange_rounds"] or "does not fit")})
    out = [f"Measured per rank on this machine ({data['corpus']['n']} x {d0}, {data['ranks']} ranks; rates in "
           f"flops of 2 per multiply-add):",
           f"- k-means++ seeding (measured when it ran on rank 0 alone) at K={costs['k_seed']}: "
           f"{costs['seed_macs_per_s'] / 1e9:.2f} G int16 multiply-adds/s (pool 4K points x K seeds x D)",
           f"- Lloyd iterations at K={costs['k_seed']}: {costs['lloyd_flops_per_s'] / 1e9:.1f} GFLOP/s "
           f"(sample/P x K x 2D per iteration)",
           f"- assign at K={costs['k_seed']}: {costs['assign_flops_per_s'] / 1e9:.1f} GFLOP/s (N/P x K x 2D)",
           "- pairs: " + ", ".join(f"K={kk} {v / 1e9:.1f}" for kk, v in costs["pair_rates_by_k"].items()) +
           f" GFLOP/s (2D per pair compared; K={costs['k_pairs']} used: the largest clusters with a quiet run)",
           f"- exchange: {costs['exchange_s_per_byte'] * 1e9:.2f} ns per record byte handled (pack, "
           f"shared-memory Alltoallv, sort); read {costs['read_s_per_byte'] * 1e9:.2f} ns/byte; graph "
           f"{costs['graph_s_per_item'] * 1e9:.0f} ns/item; {costs['edges_per_item']:.3f} edges/item; "
           f"plan imbalance <= {costs['plan_imbalance']:.2f}; from the {costs['quiet_runs']} of "
           f"{costs['runs']} runs during which other processes used <= {QUIET_CORES} cores",
           "",
           f"Model: N = {n:.3g}, D = {d}, auto K = {k}, sample {r0['sample']:.3g}, C = {c}, m = {m}; "
           f"{r0['pairs']:.3g} candidate pairs; network {a.net_gbs:g} GB/s per rank, HDF5 read "
           f"{a.read_gbs:g} GB/s and write {a.write_gbs:g} GB/s aggregate.",
           ]
    for name, rs in (("today's defaults (kmeans++ over the ranks, flat assignment, no memory cap)", res),
                     (f"scale settings (cluster.assign = two_level, coarse_probes {a.scale_coarse_probes}, "
                      f"job.max_memory = {a.scale_max_memory_gib:g}G)", res_scale)):
        out += ["", f"{name}:", "", "| stage | " + " | ".join(f"P = {p}" for p in ranks) + " |",
                "|---|" + "---:|" * len(ranks)]
        for st in r0["seconds"]:
            out.append(f"| {st} | " + " | ".join(human_s(rs[p]["seconds"][st]) for p in ranks) + " |")
        out.append("| **total** | " + " | ".join(f"**{human_s(rs[p]['seconds_total'])}**" for p in ranks) + " |")
        for term in ("items", "results", "probes", "kmeans", "exchange", "graph", "total", "edges",
                     "seeding pool share"):
            label = {"total": "**memory per rank (printed estimate)**", "edges": "+ edges (80 B each)",
                     "seeding pool share": "+ seeding pool share"}.get(term, f"memory: {term}")
            out.append(f"| {label} | " + " | ".join(f"{rs[p]['memory_bytes'][term] / GIB:.2f} GiB" for p in ranks)
                       + " |")
        out.append("| exchange rounds | " + " | ".join(str(rs[p]["exchange_rounds"] or "cap too small")
                                                        for p in ranks) + " |")
    text = "\n".join(out)
    say(text)
    assumptions = {"n": n, "d": d, "ranks": ranks, "clusterings": c, "probes": m, "auto_k": k,
                   "sample": r0["sample"], "net_gbs_per_rank": a.net_gbs, "read_gbs_aggregate": a.read_gbs,
                   "write_gbs_aggregate": a.write_gbs, "balanced_clusters": True,
                   "edges_per_item": costs["edges_per_item"], "one_core_per_rank": True,
                   "memory": "`dupgraph estimate` (src/core/job_memory.c, run mode, embeddings input) + 80 B per "
                             "edge held"}
    outputs = {str(p): {**res[p], "seconds_human": {st: human_s(v) for st, v in res[p]["seconds"].items()}}
               for p in ranks}
    outputs_scale = {str(p): {**res_scale[p], "seconds_human": {st: human_s(v) for st, v in
                                                                 res_scale[p]["seconds"].items()}} for p in ranks}
    assumptions.update(collective_us_per_level=a.collective_us, scale_coarse_probes=a.scale_coarse_probes,
                       scale_max_memory_gib=a.scale_max_memory_gib)
    return text, {"inputs": {"measured": costs, "assumed": assumptions}, "outputs": outputs,
                  "outputs_scale_settings": outputs_scale}


# ---- the result file -------------------------------------------------------------

def derived_figures(rows, readme):
    """Figures the README's prose quotes, computed from the rows."""
    by = {row_name(r): r for r in rows}
    for name, r in by.items():
        readme[f"{name}_kmeans_assign_share"] = f_share(r["kmeans_assign_seconds"] / r["wall_seconds"])
        readme[f"{name}_pairs_share"] = f_share(r["stage_seconds"].get("pairs", 0.0) / r["wall_seconds"])
        readme[f"{name}_exchange_share"] = f_share(r["stage_seconds"].get("exchange", 0.0) / r["wall_seconds"])
    d = by["default"]
    for st, v in d["stage_seconds"].items():
        readme[f"default_stage_{st}_s"] = f"{v:.2f}"
    readme["default_missed_share"] = f"{100 * d['missed'] / d['exact_pairs']:.2f}%"
    for k in sorted({r["K"] for r in rows if not r["default"]}):
        a, b = by.get(f"K{k}_C3_m1"), by.get(f"K{k}_C1_m3")
        if a and b:
            readme[f"K{k}_C1m3_over_C3m1_pairs"] = f"{b['pairs_compared'] / a['pairs_compared']:.2f}"


def render(data, a, say):
    """Table, model and readme figures from the measured runs in data."""
    n, d = data["corpus"]["n"], data["corpus"]["d"]
    readme = {}
    rows = [row_of(r, n, d) for r in sorted_runs(data)]
    ex = exact_row(data["exact"], d)
    load = load_figures(data)
    head = header(data, ex, load, readme)
    tab = table(rows, ex, readme)
    levels, cheap = cheapest(rows)
    derived_figures(rows, readme)
    md = head + "\n\n" + tab + "\n\nCheapest run per recall level:\n" + cheap + "\n"
    say("")
    say(md)
    worst = check_memory_formula(data, a, say)
    say("")
    text, mdl = model_text(data, a, readme, say)
    result = dict(data)
    result.update(rows=rows, exact_row=ex, load=load, cheapest=levels, memory_formula_max_diff_bytes=worst,
                  model=mdl, readme=readme)
    return result, md, text


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    a = parse_args()
    say = Report()
    if a.from_json:
        with open(os.path.join(ROOT, a.from_json)) as f:
            data = json.load(f)
        if data.get("format") != FORMAT:
            sys.exit(f"recall_table: {a.from_json} is not a {FORMAT} file")
        for key in ("rows", "exact_row", "load", "cheapest", "memory_formula_max_diff_bytes", "model", "readme"):
            data.pop(key, None)
        data["rendered_by"] = {"command": the_command(), "utc": utc_now(), "git": git_state(ROOT)}
    else:
        data = run_all(a, say)
    result, md, text = render(data, a, say)
    write_atomic(os.path.join(ROOT, a.out), md)
    write_atomic(os.path.join(ROOT, a.model_out), text + "\n")
    write_atomic(os.path.join(ROOT, a.json), json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    say("\nsaved " + ", ".join([a.json, a.out, a.model_out]))


if __name__ == "__main__":
    main()
