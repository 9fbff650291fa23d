#!/usr/bin/python3
"""The sbatch script on a real single-node Slurm cluster (slurm/testcluster.sh
starts munged, slurmctld and slurmd under a temporary folder and stops them by
pid afterwards): a 2-task job writes the same graph as mpirun; a job cancelled
as its pair stage starts (scancel) and submitted again reuses its read stage
and writes the identical output; nothing is left running."""
import os
import socket
import subprocess
import sys
import time
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

TESTCLUSTER = os.path.join(dgtest.SOURCE_ROOT, "slurm", "testcluster.sh")
SBATCH_SCRIPT = os.path.join(dgtest.SOURCE_ROOT, "slurm", "dupgraph.sbatch")
SMALL_N, SMALL_D = 20000, 64
BIG_N, BIG_D = 200000, 64
BIG_SETS = ["cluster.k=64", "pairs.block=64", "job.progress_seconds=1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_text(path):
    with open(path) as f:
        return f.read()


def same_graph(test, path, ref):
    with h5py.File(path, "r") as a, h5py.File(ref, "r") as b:
        for key in ("edges/src", "edges/dst", "edges/sim", "items/component", "items/keep", "items/cluster",
                    "items/status", "centroids"):
            np.testing.assert_array_equal(a[key][:], b[key][:], err_msg=key)


class SbatchOnTestCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("slurm")
        os.chmod(cls.dir, 0o755)  # munged wants the folders above its socket open to all
        cls.cluster = os.path.join(cls.dir, "cluster")
        cls.env = dict(os.environ, **dgtest.MPI_ENV, SLURM_CONF=os.path.join(cls.cluster, "slurm.conf"),
                       DUPGRAPH=os.path.abspath(dgtest.DUPGRAPH), DG_SLURMCTLD_PORT=str(free_port()),
                       DG_SLURMD_PORT=str(free_port()),
                       # the test node claims 4 CPUs on 2 cores: idle ranks must yield, not spin
                       OMPI_MCA_mpi_yield_when_idle="1")
        cls.config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        # Stopped even when setUpClass fails half-way (tearDownClass would not run).
        cls.addClassCleanup(cls.stop_cluster)
        t = time.time()
        subprocess.run([TESTCLUSTER, "start", cls.cluster], env=cls.env, check=True, timeout=60)
        print(f"test cluster up in {time.time() - t:.1f}s")
        cls.small = os.path.join(cls.dir, "small.h5")
        cls.big = os.path.join(cls.dir, "big.h5")
        dgtest.synth(cls.small, SMALL_N, SMALL_D, seed=21, extra=["--bad-rows", "2"])
        dgtest.synth(cls.big, BIG_N, BIG_D, seed=22)

    @classmethod
    def stop_cluster(cls):
        subprocess.run([TESTCLUSTER, "stop", cls.cluster], env=cls.env, timeout=120)
        left = subprocess.run(["pgrep", "-af", cls.dir], capture_output=True, text=True).stdout.strip()
        steps = subprocess.run(["pgrep", "-a", "slurmstepd"], capture_output=True, text=True).stdout.strip()
        assert not left and not steps, f"processes left running:\n{left}\n{steps}"

    def mpirun_reference(self, corpus, name, sets):
        out = os.path.join(self.dir, name)
        args = ["run", "-c", self.config, "-o", out, "--set", f"input.embeddings={corpus}"]
        for kv in sets:
            args += ["--set", kv]
        dgtest.dupgraph(args, ranks=2)
        return out

    def submit(self, corpus, out, sets=(), tasks=2):
        cmd = ["sbatch", "--parsable", f"--ntasks-per-node={tasks}", f"--chdir={self.dir}", SBATCH_SCRIPT,
               self.config, f"input.embeddings={corpus}", f"output.path={out}", *sets]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, f"{' '.join(cmd)}:\n{proc.stderr}")
        return proc.stdout.strip().split(";")[0]

    def log(self, job):
        path = os.path.join(self.dir, f"slurm-{job}.out")
        return read_text(path) if os.path.exists(path) else ""

    def wait(self, job, timeout=300):
        """Polls squeue until the job has left the queue; its final state."""
        deadline = time.time() + timeout
        while subprocess.run(["squeue", "-h", "-j", job], env=self.env, capture_output=True, text=True).stdout.strip():
            if time.time() > deadline:
                subprocess.run(["scancel", job], env=self.env)
                self.fail(f"job {job} still queued after {timeout}s:\n{self.log(job)[-3000:]}")
            time.sleep(0.2)
        info = subprocess.run(["scontrol", "show", "job", job, "-o"], env=self.env, capture_output=True, text=True,
                              check=True).stdout
        fields = dict(f.split("=", 1) for f in info.split() if "=" in f)
        return fields["JobState"], fields["ExitCode"]

    def test_sbatch_2_and_4_tasks_give_the_mpirun_graph(self):
        ref = self.mpirun_reference(self.small, "small_mpirun.h5", [])
        for tasks in (2, 4):  # 4 tasks fit on 2 cores: the node claims 4 CPUs
            out = os.path.join(self.dir, f"small_sbatch_{tasks}.h5")
            t = time.time()
            job = self.submit(self.small, out, tasks=tasks)
            state, code = self.wait(job)
            print(f"sbatch job {job} ({tasks} tasks): {state} in {time.time() - t:.1f}s")
            log = self.log(job)
            self.assertEqual((state, code), ("COMPLETED", "0:0"), log[-3000:])
            self.assertIn(f"run on {tasks} ranks", log)
            with h5py.File(out, "r") as f:
                self.assertEqual(int(f.attrs["ranks"]), tasks)
            same_graph(self, out, ref)
            self.assertFalse(os.path.exists(out + ".ckpt"))

    def test_scancel_then_resubmit_gives_identical_output(self):
        # scancel as the pair stage starts; where the signal lands depends on
        # the machine's speed, so only what holds wherever it lands is asserted
        ref = self.mpirun_reference(self.big, "big_mpirun.h5", BIG_SETS)
        out = os.path.join(self.dir, "big_sbatch.h5")
        job = self.submit(self.big, out, BIG_SETS)
        deadline = time.time() + 300
        while "stage pairs" not in self.log(job):
            self.assertLess(time.time(), deadline, f"no pair stage within 300 s:\n{self.log(job)[-3000:]}")
            time.sleep(0.02)
        t = time.time()
        subprocess.run(["scancel", job], env=self.env, check=True)
        state, code = self.wait(job)
        print(f"cancelled job {job} left the queue {time.time() - t:.2f}s after scancel ({state})")
        log = self.log(job)
        if state == "COMPLETED":  # finished before the signal: nothing to resume
            self.assertEqual(code, "0:0")
            same_graph(self, out, ref)
            return
        self.assertEqual(state, "CANCELLED", log[-3000:])
        self.assertIn("dupgraph: error: stopped by a signal", log)
        self.assertIn("resubmit the same command to resume", log)
        self.assertFalse(os.path.exists(out))
        saved = sorted(f for f in os.listdir(out + ".ckpt") if not f.endswith(".tmp"))
        self.assertEqual(saved, sorted(["items.h5", "clustering_0.h5", "clustering_1.h5"][:len(saved)]))
        self.assertIn("items.h5", saved, "the read stage was saved before the pair stage began")

        job = self.submit(self.big, out, BIG_SETS)
        state, code = self.wait(job)
        log = self.log(job)
        self.assertEqual((state, code), ("COMPLETED", "0:0"), log[-3000:])
        self.assertIn(f"reusing checkpoint: read stage ({BIG_N} items", log)
        self.assertNotIn("stage read", log)
        same_graph(self, out, ref)
        self.assertFalse(os.path.exists(out + ".ckpt"))

    def test_bad_argument_fails_the_job(self):
        job = self.submit(self.small, os.path.join(self.dir, "never.h5"), ["not-a-setting"])
        state, code = self.wait(job)
        self.assertEqual((state, code), ("FAILED", "2:0"))
        self.assertIn("'not-a-setting' is not section.key=value", self.log(job))


if __name__ == "__main__":
    dgtest.main()
