#!/usr/bin/python3
"""Flat vs two-level centroid search, k-means++ vs k-means|| seeding.

  1. Corpus: jobs/synth_embeddings.py (--n x --d, seed 3, spread 4: diffuse
     topics, planted duplicate groups), cached in --workdir.
  2. `dupgraph exact` once: the reference edges.
  3. For each K in --ks: `dupgraph run` with cluster.assign = flat and
     k-means++ seeding; with two_level at each of --probes coarse probes
     (same seed, so the same centroids: checked on the stored /centroids);
     and flat with k-means|| seeding.  All under mpirun on --ranks ranks,
     one OpenBLAS thread, C = 1 clustering, m = 3 probes, --iterations
     Lloyd steps on a --sample point sample (set so the K = 16384 runs
     finish on a small machine; the same for every run).
  4. Per run: recall against exact (`dupgraph compare`, 95% Wilson
     interval), seconds of seeding (summary per_clustering kmeans
     seeding_seconds) and of the assign stage, the share of items whose
     nearest centroid (/items/cluster) differs from the flat run's, and the
     k-means objective.
  5. The table (printed, saved to --out) and one result file, --json
     (default results/assign_table.json): command, git revision, machine,
     corpus, every run, and "readme": the strings README.md quotes.

    jobs/assign_table.sh            # 200k x 64, K 1024/4096/16384
    jobs/assign_table.sh --quick    # 20k x 32, K 256/1024
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))  # dgtools
from dgtools import machine, output, summary  # noqa: E402
from dgtools.bench import Report, wilson  # noqa: E402
from dgtools.machine import git_state, utc_now  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FORMAT, FORMAT_VERSION = "dupgraph-assign-table", 1


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--spread", type=float, default=4.0)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--ks", default="1024,4096,16384")
    ap.add_argument("--probes", default="2,8", help="cluster.coarse_probes values of the two-level runs")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--sample", type=int, default=50000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dupgraph", default="build/dupgraph")
    ap.add_argument("--config", default="configs/default.ini")
    ap.add_argument("--workdir", default="build/assign")
    ap.add_argument("--out", default="build/assign_table.md")
    ap.add_argument("--json")
    a = ap.parse_args()
    if a.quick:
        a.n, a.d, a.ks, a.sample = 20000, 32, "256,1024", 20000
    if a.json is None:
        a.json = "build/assign_table_quick.json" if a.quick else "results/assign_table.json"
    return a


def ints(text):
    return [int(v) for v in text.split(",") if v]


def corpus(a, say):
    path = os.path.join(ROOT, a.workdir, f"corpus_{a.n}x{a.d}_s{a.seed}_sp{a.spread:g}.h5")
    cmd = ["/usr/bin/python3", "jobs/synth_embeddings.py", path + ".tmp", "--n", str(a.n), "--d", str(a.d),
           "--seed", str(a.seed), "--spread", f"{a.spread:g}"]
    if not os.path.exists(path):
        say(f"generating {path}")
        subprocess.run(cmd, check=True, cwd=ROOT)
        os.replace(path + ".tmp", path)
    return path, " ".join(cmd).replace(".tmp", "")


def run_job(a, mode, data, out, sets, say):
    summary_path = out + ".summary.json"
    cmd = ["mpirun", "--oversubscribe", "-np", str(a.ranks), "-x", "OPENBLAS_NUM_THREADS", a.dupgraph, mode,
           "-c", a.config, "-o", os.path.relpath(out, ROOT), "--set", f"input.embeddings={os.path.relpath(data, ROOT)}",
           "--set", "job.resume=false", *summary.set_args(os.path.relpath(summary_path, ROOT))]
    for s in sets:
        cmd += ["--set", s]
    try:
        _, s, meter = summary.run(cmd, summary_path, out + ".log", cwd=ROOT, tail=6)
    except summary.JobFailed as e:
        sys.exit(f"assign_table: dupgraph {mode} {' '.join(sets)} failed ({e})")
    r = meter.record()
    say(f"  {mode} {' '.join(sets)}: {s['seconds']['total']:.1f} s, other processes {r['other_cores']:.2f} cores")
    return {"command": " ".join(shlex.quote(v) for v in cmd), "sets": sets, "seconds": s["seconds"],
            "kmeans": [c["kmeans"] for c in summary.measured(s)], "edges": s["edges"],
            "other_cores": r["other_cores"], "load_before": r["load_before"], "load_after": r["load_after"]}


def compare(a, out, exact):
    p = subprocess.run([os.path.join(ROOT, a.dupgraph), "compare", out, exact], capture_output=True, text=True,
                       check=True)
    vals = dict(line.split(": ", 1) for line in p.stdout.strip().splitlines())
    found, n = int(vals["edges_both"]), int(vals["edges_b"])
    lo, hi = wilson(found, n)
    return {"found": found, "exact_pairs": n, "recall": found / n, "recall_ci95": [lo, hi]}


def clusters_and_centroids(path):
    import h5py
    with h5py.File(path, "r") as f:
        return f["items"]["cluster"][:, 0].copy(), f["centroids"][:]


def variants(a):
    v = [("flat", "kmeans++", None)]
    v += [("two_level", "kmeans++", p) for p in ints(a.probes)]
    return v + [("flat", "kmeans||", None)]


def run_all(a, say):
    os.makedirs(os.path.join(ROOT, a.workdir), exist_ok=True)
    started, git0 = utc_now(), git_state(ROOT)
    data, corpus_cmd = corpus(a, say)
    exact_out = os.path.join(ROOT, a.workdir, "exact.h5")
    say(f"exact reference on {a.ranks} ranks")
    exact = run_job(a, "exact", data, exact_out, [], say)
    runs = []
    for k in ints(a.ks):
        flat_cluster = flat_cent = None
        for assign, seeding, probes in variants(a):
            sets = [f"cluster.k={k}", "cluster.clusterings=1", "cluster.probes=3", f"cluster.iterations={a.iterations}",
                    f"cluster.sample={a.sample}", f"cluster.assign={assign}", f"cluster.seeding={seeding}"]
            if probes:
                sets.append(f"cluster.coarse_probes={probes}")
            out = os.path.join(ROOT, a.workdir, "run.h5")
            info = run_job(a, "run", data, out, sets, say)
            info.update(compare(a, out, exact_out), k=k, assign=assign, seeding=seeding, coarse_probes=probes)
            cl, cent = clusters_and_centroids(out)
            usable = cl >= 0
            if flat_cent is None:
                flat_cluster, flat_cent = cl, cent
            if seeding == "kmeans++":
                if not np.array_equal(cent, flat_cent):
                    sys.exit("assign_table: centroids differ between runs of the same seed and seeding")
                info["nearest_differs_share"] = float(np.mean(cl[usable] != flat_cluster[usable]))
            os.remove(out)
            runs.append(info)
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "command": machine.the_command(ROOT, "ASSIGN_TABLE_ENTRY"),
            "started_utc": started, "finished_utc": utc_now(), "git": git0, "machine": machine.describe(libraries=False),
            "ranks": a.ranks, "openblas_threads": 1,
            "corpus": {"n": a.n, "d": a.d, "seed": a.seed, "spread": a.spread, "command": corpus_cmd},
            "fixed_settings": {"clusterings": 1, "probes": 3, "iterations": a.iterations, "sample": a.sample},
            "exact": exact, "runs": runs}


def name(r):
    if r["assign"] == "two_level":
        return f"K{r['k']}_two_level_p{r['coarse_probes']}"
    return f"K{r['k']}_flat" + ("_par" if r["seeding"] == "kmeans||" else "")


def render(data):
    readme = {"n": str(data["corpus"]["n"]), "d": str(data["corpus"]["d"]), "ranks": str(data["ranks"]),
              "sample": str(data["fixed_settings"]["sample"]), "iterations": str(data["fixed_settings"]["iterations"])}
    lines = [f"{data['corpus']['n']} x {data['corpus']['d']} (spread {data['corpus']['spread']:g}), {data['ranks']} "
             f"ranks, C = 1, m = 3, {data['fixed_settings']['iterations']} Lloyd iterations on "
             f"{data['fixed_settings']['sample']} points; exact pairs {data['runs'][0]['exact_pairs']}",
             "", "| K | assign | seeding | coarse probes | recall vs exact | nearest differs | seeding s | assign s |"
             " objective | total s |", "|---:|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in data["runs"]:
        n = name(r)
        km = r["kmeans"][0]
        f = {"recall": f"{r['recall']:.4f}", "ci": f"{r['recall_ci95'][0]:.4f}-{r['recall_ci95'][1]:.4f}",
             "differs": f"{100 * r['nearest_differs_share']:.2f}%" if "nearest_differs_share" in r else "-",
             "seeding": f"{km['seeding_seconds']:.2f}", "assign": f"{r['seconds'].get('assign', 0.0):.2f}",
             "objective": f"{km['objective']:.4f}", "total": f"{r['seconds']['total']:.1f}"}
        readme.update({f"{n}_{key}": v for key, v in f.items()})
        lines.append(f"| {r['k']} | {r['assign']} | {r['seeding']} | {r['coarse_probes'] or '-'} | {f['recall']} "
                     f"({f['ci']}) | {f['differs']} | {f['seeding']} | {f['assign']} | {f['objective']} | "
                     f"{f['total']} |")
    for r in data["runs"]:
        if r["assign"] == "two_level":
            flat = next(x for x in data["runs"] if x["k"] == r["k"] and x["assign"] == "flat"
                        and x["seeding"] == "kmeans++")
            readme[f"{name(r)}_assign_speedup"] = f"{flat['seconds']['assign'] / r['seconds']['assign']:.1f}x"
    return "\n".join(lines), readme


def main():
    a = parse_args()
    say = Report()
    data = run_all(a, say)
    md, readme = render(data)
    say("")
    say(md)
    data["readme"] = readme
    for path, text in ((a.out, md + "\n"), (a.json, json.dumps(data, indent=1) + "\n")):
        full = os.path.join(ROOT, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full + ".tmp", "w") as f:
            f.write(text)
        os.replace(full + ".tmp", full)
    say(f"\nsaved {a.json}, {a.out}")


if __name__ == "__main__":
    main()
