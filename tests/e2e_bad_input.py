#!/usr/bin/python3
"""Bad configuration and bad input stop the job before any work, with a
one-line reason naming the problem, a non-zero exit and no output file."""
import os
import sys
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402


class BadInputStopsEarly(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("bad")
        cls.good = os.path.join(cls.dir, "good.h5")
        dgtest.synth(cls.good, 500, 16)
        with h5py.File(os.path.join(cls.dir, "rank3.h5"), "w") as f:
            f["embeddings"] = np.zeros((10, 4, 4), np.float32)
        with h5py.File(os.path.join(cls.dir, "int.h5"), "w") as f:
            f["embeddings"] = np.zeros((10, 4), np.int32)
        with open(os.path.join(cls.dir, "text.h5"), "w") as f:
            f.write("not hdf5\n")

    def expect_failure(self, config_text, *sets, message, ranks=2, code="config"):
        cfg = dgtest.write_config(os.path.join(self.dir, "job.ini"), config_text)
        out = os.path.join(self.dir, "out.h5")
        proc = dgtest.dupgraph(["run", "-c", cfg, "-o", out, *sets], ranks=ranks, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT[code], proc.stderr[-2000:])
        errors = [line for line in proc.stderr.splitlines() if line.startswith("dupgraph: error:")]
        self.assertEqual(len(errors), 1, proc.stderr)
        self.assertIn(message, errors[0])
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".tmp"))
        self.assertNotIn("stage k-means", proc.stderr, "no work may start")

    def test_unknown_key(self):
        self.expect_failure(f"[input]\nembeddings = {self.good}\n[cluster]\nkk = 4\n", message="unknown key [cluster] kk")

    def test_unknown_key_in_set(self):
        self.expect_failure(f"[input]\nembeddings = {self.good}\n", "--set", "pairs.treshold=0.8",
                            message="unknown key pairs.treshold")

    def test_bad_value(self):
        self.expect_failure(f"[input]\nembeddings = {self.good}\n[pairs]\nthreshold = high\n",
                            message="pairs.threshold")

    def test_missing_input_file(self):
        missing = os.path.join(self.dir, "nope.h5")
        self.expect_failure(f"[input]\nembeddings = {missing}\n", message=missing, code="input")

    def test_not_hdf5(self):
        self.expect_failure(f"[input]\nembeddings = {self.dir}/text.h5\n", message="text.h5", code="input")

    def test_missing_dataset(self):
        self.expect_failure(f"[input]\nembeddings = {self.good}\ndataset = /vectors\n", message="/vectors", code="input")

    def test_wrong_rank(self):
        self.expect_failure(f"[input]\nembeddings = {self.dir}/rank3.h5\n", message="rank 3", code="input")

    def test_wrong_dtype(self):
        self.expect_failure(f"[input]\nembeddings = {self.dir}/int.h5\n", message="int", code="input")

    def test_two_inputs(self):
        self.expect_failure(f"[input]\nembeddings = {self.good}\ndir = {self.dir}\n", message="more than one input")

    def test_no_input(self):
        self.expect_failure("[pairs]\nthreshold = 0.9\n", message="no input")

    def test_output_folder_missing(self):
        cfg = dgtest.write_config(os.path.join(self.dir, "job.ini"), f"[input]\nembeddings = {self.good}\n")
        out = os.path.join(self.dir, "no", "such", "out.h5")
        proc = dgtest.dupgraph(["run", "-c", cfg, "-o", out], ranks=2, check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("does not exist", proc.stderr)

    def test_summary_folder_missing_stops_before_work(self):
        cfg = dgtest.write_config(os.path.join(self.dir, "job.ini"), f"[input]\nembeddings = {self.good}\n")
        out = os.path.join(self.dir, "summary_refused.h5")
        summary = os.path.join(self.dir, "no", "such", "summary.json")
        proc = dgtest.dupgraph(["run", "-c", cfg, "-o", out, "--set", f"output.summary={summary}"], ranks=2,
                               check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["output"])
        self.assertIn(f"output.summary {summary}: folder", proc.stderr)
        self.assertNotIn("stage read", proc.stderr)
        self.assertFalse(os.path.exists(out))

    def test_missing_config(self):
        proc = dgtest.dupgraph(["run", "-c", os.path.join(self.dir, "none.ini")], ranks=1, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["config"])
        self.assertIn("cannot read config", proc.stderr)

    def test_set_input_replaces_config_input(self):
        # the config names a missing manifest; --set input.embeddings replaces it
        cfg = dgtest.write_config(os.path.join(self.dir, "replace.ini"), "[input]\nmanifest = /nonexistent.txt\n")
        out = os.path.join(self.dir, "replaced.h5")
        dgtest.dupgraph(["run", "-c", cfg, "-o", out, "--set", f"input.embeddings={self.good}"], ranks=2)
        self.assertTrue(os.path.exists(out))

    def test_usage_errors(self):
        for args in (["frobnicate"], ["run"], ["compare", "a.h5"]):
            proc = dgtest.dupgraph(args, check=False)
            self.assertEqual(proc.returncode, dgtest.EXIT["usage"], args)
            self.assertIn("dupgraph", proc.stderr)
        self.assertEqual(dgtest.dupgraph(["--help"]).returncode, 0)
        self.assertIn("dupgraph", dgtest.dupgraph(["--version"]).stdout)


if __name__ == "__main__":
    dgtest.main()
