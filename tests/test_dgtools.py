#!/usr/bin/python3
"""Unit tests of python/dgtools without running the job: components and keep
policies on known graphs (and against a plain union-find on a random one),
the typed config, an output file written here with h5py read back, the
format checks, the JSON summary reader, running a command for its summary
and log (summary.run), and the clusterings measured in a run."""
import json
import os
import sys
import tempfile
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402
from dgtools import components, machine, output, summary  # noqa: E402


def union_find(n, src, dst):
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for a, b in zip(src, dst):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


CONFIG = "[input]\nembeddings = x.h5\n\n[cluster]\nk = auto\nclusterings = 2\n\n[pairs]\nthreshold = 0.9\n" \
         "\n[embed]\nflip = true\n"


class Components(unittest.TestCase):
    def test_known_graph(self):
        # 0-3-4 chain given out of order, 5-6, 1 and 2 alone, 7-8-9 through the high id first
        src, dst = [3, 5, 0, 8, 7], [4, 6, 3, 9, 9]
        label = components.labels(10, src, dst)
        np.testing.assert_array_equal(label, [0, 1, 2, 0, 0, 5, 5, 7, 7, 7])
        usable = np.ones(10, bool)
        usable[6] = False  # (the job gives an unusable item no edges; here only keep and count look at it)
        np.testing.assert_array_equal(np.flatnonzero(components.keep(label, usable)), [0, 1, 2, 5, 7])
        self.assertEqual(components.count(label, usable), 5)
        self.assertEqual(components.removed(label, usable), 9 - 5)

    def test_central_keeps_the_highest_centrality_ties_to_the_lower_id(self):
        label = components.labels(6, [0, 1, 3], [1, 2, 4])
        usable = np.array([1, 1, 1, 1, 1, 0], bool)
        cent = np.array([0.5, 0.9, 0.9, np.nan, 0.1, 1.0], np.float32)
        np.testing.assert_array_equal(np.flatnonzero(components.keep(label, usable, "central", cent)), [1, 4])
        with self.assertRaises(ValueError):
            components.keep(label, usable, "central")

    def test_random_graph_equals_union_find(self):
        rng = np.random.default_rng(5)
        n = 3000
        src, dst = rng.integers(0, n, 2500), rng.integers(0, n, 2500)
        np.testing.assert_array_equal(components.labels(n, src, dst), union_find(n, src.tolist(), dst.tolist()))
        self.assertEqual(len(components.labels(4, [], [])), 4)


class OutputFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="dg-dgtools-")
        cls.path = os.path.join(cls.dir, "out.h5")
        with h5py.File(cls.path, "w") as f:
            f.attrs.update({"format": "dupgraph", "format_version": np.int32(2), "config": CONFIG,
                            "n_items": np.int64(4), "n_edges": np.int64(1), "seconds_pairs": 1.5})
            f["items/id"] = np.arange(4, dtype=np.int64)
            f["items/status"] = np.array([0, 1, 2, 0], np.int8)
            f["items/path"] = np.array([b"a.jpg", b"b.jpg", b"c\xff.jpg", b"d.jpg"], dtype=h5py.string_dtype("ascii"))
            f["edges/src"], f["edges/dst"] = np.array([0], np.int64), np.array([1], np.int64)
            f["edges/sim"] = np.array([0.95], np.float32)

    def test_read_typed(self):
        out = output.read(self.path)
        self.assertEqual(out.attrs["n_items"], 4)
        self.assertIsInstance(out.attrs["n_items"], int)
        self.assertIsInstance(out.attrs["seconds_pairs"], float)
        self.assertEqual(out.config["cluster"], {"k": "auto", "clusterings": 2})
        self.assertIs(out.config["embed"]["flip"], True)
        self.assertEqual(out.threshold, 0.9)
        self.assertEqual(out.setting("input", "embeddings"), "x.h5")
        np.testing.assert_array_equal(out.usable, [True, True, False, True])
        self.assertEqual(out.edge_dict(), {(0, 1): float(np.float32(0.95))})
        self.assertEqual(out.paths()[2], "c\udcff.jpg")
        self.assertEqual(output.edge_dict(self.path), out.edge_dict())
        self.assertEqual(sorted(output.read_items(self.path, ["status"])), ["status"])

    def test_settings_typed_from_format_3_else_from_the_config(self):
        old = output.read(self.path)
        self.assertEqual(old.settings, {"mode": None, "embedder": None, "pairs_threshold": 0.9, "cluster_k": None,
                                        "cluster_clusterings": 2, "cluster_probes": None, "graph_keep": None,
                                        "graph_edges": "all"})
        self.assertFalse(old.forest)
        path = os.path.join(self.dir, "out3.h5")
        with h5py.File(self.path, "r") as a, h5py.File(path, "w") as b:
            for name in ("items", "edges"):
                a.copy(name, b)
            b.attrs.update(dict(a.attrs))
            # typed values that differ from the config text win
            b.attrs.update({"format_version": np.int32(3), "mode": "run", "embedder": "embeddings",
                            "pairs_threshold": np.float32(0.8), "cluster_k": np.int64(5),
                            "cluster_clusterings": np.int64(3), "cluster_probes": np.int64(2), "graph_keep": "first"})
        new = output.read(path)
        self.assertEqual(new.threshold, float(np.float32(0.8)))
        self.assertEqual((new.settings["cluster_k"], new.settings["cluster_clusterings"], new.settings["embedder"]),
                         (5, 3, "embeddings"))
        self.assertFalse(new.forest)  # format 3: every pair

    def test_forest_mode_is_read_from_graph_edges(self):
        path = os.path.join(self.dir, "out4.h5")
        with h5py.File(self.path, "r") as a, h5py.File(path, "w") as b:
            for name in ("items", "edges"):
                a.copy(name, b)
            b.attrs.update(dict(a.attrs))
            b.attrs.update({"format_version": np.int32(4), "graph_edges": "forest"})
        out = output.read(path)
        self.assertTrue(out.forest)
        self.assertEqual(out.settings["graph_edges"], "forest")
        with h5py.File(path, "r+") as b:
            b.attrs["graph_edges"] = "all"
        self.assertFalse(output.read(path).forest)

    def test_other_formats_are_refused(self):
        self.assertIsNone(output.check_format("f.h5", {"format": b"dupgraph", "format_version": 1}))
        with self.assertRaisesRegex(output.FormatError, "version 5"):
            output.check_format("f.h5", {"format": "dupgraph", "format_version": 5})
        with self.assertRaisesRegex(output.FormatError, "not a dupgraph output file"):
            output.check_format("f.h5", {"format": "other"})


class Summary(unittest.TestCase):
    def test_read_and_check(self):
        d = tempfile.mkdtemp(prefix="dg-dgtools-")
        good, bad = os.path.join(d, "s.json"), os.path.join(d, "t.json")
        with open(good, "w") as f:
            json.dump({"format": "dupgraph-summary", "format_version": 2, "k": 64,
                       "seconds": {"total": 3.0, "kmeans": 1.0, "pairs": 2.0},
                       "per_clustering": [{"clustering": 0, "reused": True, "kmeans": None},
                                          {"clustering": 1, "reused": False, "kmeans": {"sample": 4096}}]}, f)
        s = summary.read(good)
        self.assertEqual(s["k"], 64)
        self.assertEqual(summary.stage_seconds(s), {"kmeans": 1.0, "pairs": 2.0})
        self.assertEqual([c["kmeans"]["sample"] for c in summary.measured(s)], [4096])
        for version in (1, 9):  # version 1 had no per_clustering: its figures were in the log
            with open(bad, "w") as f:
                json.dump({"format": "dupgraph-summary", "format_version": version}, f)
            with self.assertRaises(summary.FormatError):
                summary.read(bad)
        self.assertEqual(summary.set_args("x.json"), ["--set", "output.summary=x.json"])

    def test_run_saves_the_log_and_reads_the_summary(self):
        d = tempfile.mkdtemp(prefix="dg-dgtools-")
        js, log = os.path.join(d, "s.json"), os.path.join(d, "job.log")
        write = ("import json, sys; print('stage one'); "
                 "json.dump({'format': 'dupgraph-summary', 'format_version': 2, 'edges': 7}, open(sys.argv[1], 'w'))")
        text, s, meter = summary.run([sys.executable, "-c", write, js], js, log, header="$ job\n")
        self.assertEqual((text, s["edges"]), ("stage one\n", 7))
        self.assertGreater(meter.record()["wall_seconds"], 0.0)
        with open(log) as f:
            self.assertEqual(f.read(), "$ job\nstage one\n")
        fail = "import sys; print('a'); print('b'); sys.exit(3)"
        with self.assertRaisesRegex(summary.JobFailed, "exit 3, log .*job.log:\nb$"):
            summary.run([sys.executable, "-c", fail], js, log, tail=1)
        self.assertFalse(os.path.exists(js), "an old summary is removed before the run")


class Machine(unittest.TestCase):
    def test_describe_and_meter(self):
        info = machine.describe(libraries=False)
        self.assertGreaterEqual(info["logical_cpus"], 1)
        with machine.Meter() as m:
            sum(range(10000))
        r = m.record()
        self.assertGreaterEqual(r["wall_seconds"], 0.0)
        self.assertGreaterEqual(r["other_cpu_seconds"], 0.0)
        self.assertEqual(len(r["load_before"]), 3)
        state = machine.git_state(dgtest.SOURCE_ROOT)
        self.assertIn("dirty_source_files", state)


if __name__ == "__main__":
    dgtest.main()
