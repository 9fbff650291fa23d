"""The job's JSON summary (config key output.summary = PATH, written by rank 0
at the end of a run, src/job_summary.c), and the few figures only its log holds.

    args = ["run", ..., *summary.set_args("out.summary.json")]
    s = summary.read("out.summary.json")
    log, s, meter = summary.run(cmd, "out.summary.json", "out.log")   # cmd carries set_args(...)
    s["k"], s["clusterings"], s["probes"], s["edges"], s["seconds"]["pairs"]
    s["memory"]["estimate_bytes"], s["memory"]["peak_rss_bytes"]    # per rank
    s["pairs"]["compared"], s["pairs"]["seconds"]                    # per rank

Fields (format "dupgraph-summary", version 1): program_version, mode (run or
exact), ranks, input, output, dim, k, clusterings, probes; items {total, ok,
failed, filtered, by_status {name: count}}; edges, components, removed;
seconds {total, <stage>: s}; memory {estimate_bytes, estimate_parts_bytes
{runtime, items, results, probes, embed, kmeans, exchange, graph, exact},
peak_rss_bytes [per rank], peak_rss_max_bytes}; pairs {compared [per rank],
seconds [per rank], flops_executed [per rank], compared_total, flops_useful};
exchange {bytes_sent [per rank]}; items_per_rank [per rank].

The summary does not hold the k-means line of each clustering (sample size,
seeding and Lloyd seconds, iterations, objective, imbalance), the pair plan
lines (imbalance, clusters split) nor the pairs per rank of each clustering:
log_figures() reads those from the log text, the one place a script parses
the log.
"""
import json
import os
import re
import subprocess

from .machine import Meter, mpi_env

FORMAT = "dupgraph-summary"
FORMAT_VERSIONS = (1,)


class FormatError(ValueError):
    """The file is not a dupgraph JSON summary this reader understands."""


def set_args(path):
    """The command-line arguments that make the job write its summary to path."""
    return ["--set", f"output.summary={path}"]


def check(s, where="summary"):
    if s.get("format") != FORMAT or s.get("format_version") not in FORMAT_VERSIONS:
        raise FormatError(f"{where}: not a dupgraph summary of version {FORMAT_VERSIONS} "
                          f"(format {s.get('format')!r}, version {s.get('format_version')!r})")
    return s


def read(path):
    """The summary as a dict (json), its format checked."""
    with open(path) as f:
        return check(json.load(f), path)


class JobFailed(RuntimeError):
    """The job exited with an error; the message ends with the log's last lines."""


def run(cmd, summary_path, log_path, cwd=None, env=None, tail=8, header=""):
    """Runs a dupgraph command line (mpirun ... dupgraph run|exact ..., which
    must carry set_args(summary_path)) with a Meter around it, saves header +
    its output to log_path and returns (log text, summary, meter); JobFailed
    (exit status, log path and its last `tail` lines) if it fails.  env
    defaults to machine.mpi_env(1)."""
    if os.path.exists(summary_path):
        os.remove(summary_path)
    with Meter() as meter:
        p = subprocess.run(cmd, cwd=cwd, env=env or mpi_env(1), capture_output=True, text=True)
    log = p.stdout + p.stderr
    with open(log_path, "w") as f:
        f.write(header + log)
    if p.returncode != 0:
        last = "\n".join(log.strip().splitlines()[-tail:])
        raise JobFailed(f"exit {p.returncode}, log {log_path}:\n{last}")
    return log, read(summary_path), meter


def stage_seconds(s):
    """{stage: seconds} without the total."""
    return {k: v for k, v in s["seconds"].items() if k != "total"}


# ---- what only the log holds -------------------------------------------------------

_KMEANS = re.compile(r"k-means: K=(\d+) D=(\d+) sample=(\d+), seeding ([0-9.]+)s, (\d+) iterations ([0-9.]+)s, "
                     r"objective ([0-9.eE+-]+|nan|-?inf), imbalance ([0-9.]+|nan|inf)")
_PLAN = re.compile(r"plan: max rank load [0-9.eE+-]+ pairs, mean [0-9.eE+-]+ \(imbalance ([0-9.]+|nan|inf)\)")
_SPLIT = re.compile(r"plan: (\d+) of (\d+) clusters split.*max rank load ([0-9.eE+-]+), ([0-9.eE+-]+) "
                    r"without splitting")
_PAIRS = re.compile(r"\] pairs: pairs per rank ([0-9eE+.\s-]+?) \(max [0-9eE+.-]+, max/mean ([0-9.]+)\)")


def log_figures(log):
    """The figures of a run's log text that its JSON summary does not hold:
      kmeans:          [{k, d, sample, seeding_seconds, iterations, lloyd_seconds,
                         objective, imbalance}] one per clustering (src/kmeans.c)
      plan_imbalance:  [max rank load / mean] one per clustering's pair plan (src/job.c)
      splits:          [{split, clusters, max_load, unsplit_max_load}] one per plan
                       that split a cluster (src/exchange.c)
      pairs_per_rank:  [([pairs compared on each rank], max/mean)] one per clustering"""
    kmeans = [{"k": int(m[1]), "d": int(m[2]), "sample": int(m[3]), "seeding_seconds": float(m[4]),
               "iterations": int(m[5]), "lloyd_seconds": float(m[6]), "objective": float(m[7]),
               "imbalance": float(m[8])} for m in _KMEANS.finditer(log)]
    return {"kmeans": kmeans,
            "plan_imbalance": [float(m[1]) for m in _PLAN.finditer(log)],
            "splits": [{"split": int(m[1]), "clusters": int(m[2]), "max_load": float(m[3]),
                        "unsplit_max_load": float(m[4])} for m in _SPLIT.finditer(log)],
            "pairs_per_rank": [([float(v) for v in m[1].split()], float(m[2])) for m in _PAIRS.finditer(log)]}
