"""Helpers shared by the end-to-end tests: running dupgraph under mpirun,
writing configs, and the test runner.  Reading output files, components and
the JSON summary are python/dgtools' (re-exported here for the tests)."""
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE_ROOT = os.environ.get("DG_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "python"))  # dgtools, without installing it
from dgtools import components, output, summary  # noqa: E402,F401
from dgtools.output import edge_dict, read_edges, read_items, usable  # noqa: E402,F401

DUPGRAPH = os.environ.get("DUPGRAPH", "build/dupgraph")
SYNTH = os.path.join(SOURCE_ROOT, "jobs", "synth_embeddings.py")
PYTHON = "/usr/bin/python3"

# meson's exit code for a skipped test (protocol 'exitcode')
SKIP_EXIT = 77
# The job's exit status per kind of failure (dg_exit_status in src/core/common.c).
EXIT = {"failed": 1, "usage": 2, "config": 3, "input": 4, "output": 5, "memory": 6, "checkpoint": 7,
        "stopped": 75}

MPI_ENV = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def workdir(name):
    return tempfile.mkdtemp(prefix=f"dg-{name}-")


def synth(path, n, d, seed=1, extra=()):
    subprocess.run([PYTHON, SYNTH, path, "--n", str(n), "--d", str(d), "--seed", str(seed), *extra], check=True)


def write_config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def cpu_has_bf16():
    """Whether the CPU has AVX512-BF16, which job.precision = auto uses."""
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx512_bf16" in line for line in f)


def dupgraph(args, ranks=None, check=True, timeout=900):
    """Runs dupgraph (under mpirun when ranks is given); returns CompletedProcess."""
    cmd = [DUPGRAPH, *args]
    if ranks is not None:
        cmd = ["mpirun", "--oversubscribe", "-np", str(ranks), *cmd]
    env = dict(os.environ, **MPI_ENV)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def run_notebook(result, keep_list, figures, timeout):
    """Runs jobs/notebooks/explore.ipynb headless on the output file `result`,
    writing its keep list and figures; returns the error outputs of its cells."""
    import nbclient
    import nbformat
    notebooks = os.path.join(SOURCE_ROOT, "jobs", "notebooks")
    os.makedirs(figures, exist_ok=True)
    env = {"DUPGRAPH_RESULT": result, "DUPGRAPH_KEEP_LIST": keep_list, "DUPGRAPH_FIGURES": figures,
           "DUPGRAPH_HEADLESS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits them
    try:
        nb = nbformat.read(os.path.join(notebooks, "explore.ipynb"), as_version=4)
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": notebooks}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def main():
    """Runs the unittest tests of the calling script (__main__) at verbosity 2
    and exits: 1 if any test failed or errored (or succeeded where a failure
    was expected, or none ran), else 77, meson's SKIP, if any test was
    skipped (a SkipTest in setUpClass skips the whole class), else 0.  The
    skipped tests and their reasons are listed at the end.  Command-line
    arguments are left to the script (meson passes tool paths); to run one
    test: cd tests && /usr/bin/python3 -m unittest -v e2e_NAME.Class.test."""
    result = unittest.main(argv=sys.argv[:1], verbosity=2, exit=False).result
    sys.stdout.flush()
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    out = sys.stderr
    for test, reason in result.skipped:
        print(f"dgtest: SKIPPED {test}: {reason}", file=out)
    if bad:
        print(f"dgtest: {bad} failed or errored, {len(result.skipped)} skipped", file=out)
        sys.exit(1)
    if result.skipped:
        print(f"dgtest: {len(result.skipped)} skipped, exit {SKIP_EXIT} (meson: skipped; tests/summarize_results.py "
              "counts it as failed unless tests/optional_tests.txt lists it)", file=out)
        sys.exit(SKIP_EXIT)
    if result.testsRun == 0:
        print("dgtest: no test ran", file=out)
        sys.exit(1)
    sys.exit(0)
