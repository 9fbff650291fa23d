"""The job's JSON summary (config key output.summary = PATH, written by rank 0
at the end of a run, src/core/job_summary.c): every figure scripts read from
a run, so none of them parses the log.

    args = ["run", ..., *summary.set_args("out.summary.json")]
    s = summary.read("out.summary.json")
    log, s, meter = summary.run(cmd, "out.summary.json", "out.log")   # cmd carries set_args(...)
    s["k"], s["clusterings"], s["probes"], s["edges"], s["seconds"]["pairs"]
    s["memory"]["estimate_bytes"], s["memory"]["peak_rss_bytes"]    # per rank
    s["pairs"]["compared"], s["pairs"]["seconds"]                    # per rank
    for c in summary.measured(s):                                    # per clustering
        c["kmeans"]["sample"], c["plan"]["imbalance"], c["pairs"]["compared"]

Fields (format "dupgraph-summary", version 2): program_version, mode (run or
exact), ranks, input, output, dim, k, clusterings (C), probes; items {total,
ok, failed, filtered, by_status {name: count}}; edges, components, removed;
seconds {total, <stage>: s}; memory {estimate_bytes, estimate_parts_bytes
{runtime, items, results, probes, embed, kmeans, exchange, graph, exact},
peak_rss_bytes [per rank], peak_rss_max_bytes}; pairs {compared [per rank],
seconds [per rank], flops_executed [per rank], compared_total, flops_useful}
over the whole run; exchange {bytes_sent [per rank]}; items_per_rank [per
rank]; per_clustering, one entry per clustering in order (added in version 2):
  clustering   its index
  reused       true when it came from the checkpoint; kmeans, plan, pairs
               and exchange are then null (nothing was measured this run)
  kmeans       {k, dim, sample (points trained on), seeding_seconds,
               iterations, lloyd_seconds, objective, imbalance} (objective
               and imbalance of the last iteration)
  plan         {max_load, mean_load (expected pair comparisons per rank),
               imbalance (max/mean), clusters_split, tasks, unsplit_max_load
               (max_load had nothing been split), round_bytes (per rank and
               exchange round), rounds (task rounds under job.max_memory;
               1 without it)}
  pairs        {compared, seconds, flops_executed: [per rank]}
  exchange     {bytes_sent, bucket_rows (the largest round's): [per rank]}
In exact mode the one clustering only places items (/items/cluster): its
plan, pairs and exchange are null; the pairs are the run's totals.
Version 1 (without per_clustering) is refused: its figures were in the log.
"""
import json
import os
import subprocess

from .machine import Meter, mpi_env

FORMAT = "dupgraph-summary"
FORMAT_VERSIONS = (2,)


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


def measured(s):
    """The per_clustering entries computed in this run (not reused from a checkpoint)."""
    return [c for c in s["per_clustering"] if not c["reused"]]
