#!/usr/bin/python3
"""End to end on a generated embedding corpus with planted near-duplicate
groups, under mpirun with 1, 2 and 4 ranks: run's edges are a subset of
exact's, recall >= 0.97 with the default config, and the graph is the same
whatever the number of ranks."""
import os
import subprocess
import sys
import unittest

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

N, D = 20000, 64
BAD_ROWS = 3


class EmbeddingsEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("e2e")
        cls.corpus = os.path.join(cls.dir, "corpus.h5")
        # spread 4: diffuse topics, so one clustering with one probe finds only ~0.92 of the pairs
        dgtest.synth(cls.corpus, N, D, seed=7, extra=["--bad-rows", str(BAD_ROWS), "--spread", "4"])
        # the default config, with only the input and output set
        cls.config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        cls.sets = ["--set", f"input.embeddings={cls.corpus}"]
        cls.out = {}
        for ranks in (1, 2, 4):
            path = os.path.join(cls.dir, f"run_np{ranks}.h5")
            proc = dgtest.dupgraph(["run", "-c", cls.config, "-o", path, *cls.sets], ranks=ranks)
            cls.out[ranks] = path
            cls.log = proc.stderr
        cls.exact = os.path.join(cls.dir, "exact_np2.h5")
        dgtest.dupgraph(["exact", "-c", cls.config, "-o", cls.exact, *cls.sets], ranks=2)

    def test_run_edges_are_subset_of_exact(self):
        run, exact = dgtest.edge_dict(self.out[2]), dgtest.edge_dict(self.exact)
        self.assertGreater(len(exact), 1000, "the corpus should have many duplicate pairs")
        false_edges = set(run) - set(exact)
        self.assertEqual(false_edges, set())

    def test_recall_against_exact_at_least_097(self):
        run, exact = dgtest.edge_dict(self.out[2]), dgtest.edge_dict(self.exact)
        recall = len(set(run) & set(exact)) / len(exact)
        print(f"recall against exact: {recall:.4f} ({len(run)} of {len(exact)} edges)")
        self.assertGreaterEqual(recall, 0.97)

    def test_exact_edges_equal_numpy_brute_force(self):
        with h5py.File(self.corpus, "r") as f:
            x = f["embeddings"][:].astype(np.float64)
        norms = np.linalg.norm(x, axis=1)
        good = np.isfinite(norms) & (norms > 0)
        x = np.where(good[:, None], x, 0) / np.where(good, norms, 1)[:, None]
        exact = dgtest.edge_dict(self.exact)
        ref = {}
        for lo in range(0, N, 4096):
            s = x[lo:lo + 4096] @ x.T
            for i, j in zip(*np.nonzero(s >= 0.9)):
                if lo + i < j:
                    ref[(lo + i, int(j))] = s[i, j]
        # pairs within float rounding of the threshold may go either way
        borderline = {p for p, v in ref.items() if abs(v - 0.9) < 1e-5}
        self.assertEqual(set(exact) - borderline, set(ref) - borderline)
        worst = max(abs(exact[p] - ref[p]) for p in set(exact) & set(ref))
        self.assertLess(worst, 1e-5)

    def test_edges_same_for_1_2_4_ranks(self):
        base = dgtest.edge_dict(self.out[1])
        for ranks in (2, 4):
            other = dgtest.edge_dict(self.out[ranks])
            self.assertEqual(set(other), set(base), f"edge set differs with {ranks} ranks")
            diff = max(abs(other[p] - base[p]) for p in base)
            self.assertLessEqual(diff, 1e-5)

    def test_components_and_keep_same_for_1_2_4_ranks(self):
        base = dgtest.read_items(self.out[1])
        for ranks in (2, 4):
            other = dgtest.read_items(self.out[ranks])
            for key in ("component", "keep", "status", "cluster"):
                np.testing.assert_array_equal(other[key], base[key], err_msg=f"{key} with {ranks} ranks")

    def test_components_match_components_of_edges(self):
        out = dgtest.output.read(self.out[2])
        ref = dgtest.components.labels(N, out.src, out.dst)
        np.testing.assert_array_equal(out.items["component"], ref)
        # keep = first: exactly the lowest id of each component of usable items
        np.testing.assert_array_equal(out.items["keep"] == 1, dgtest.components.keep(ref, out.usable, "first"))
        self.assertEqual(dgtest.components.removed(ref, out.usable), out.attrs["n_removed"])

    def test_bad_rows_recorded_not_lost(self):
        items = dgtest.read_items(self.out[4])
        self.assertEqual(len(items["id"]), N)
        np.testing.assert_array_equal(items["id"], np.arange(N))
        bad = np.nonzero(items["status"] == 9)[0]
        self.assertEqual(len(bad), BAD_ROWS)
        src, dst, _ = dgtest.read_edges(self.out[4])
        self.assertFalse(np.isin(bad, np.concatenate([src, dst])).any())

    def test_edges_sorted_unique_src_lt_dst(self):
        src, dst, sim = dgtest.read_edges(self.out[4])
        self.assertTrue((src < dst).all())
        key = src * N + dst
        self.assertTrue((np.diff(key) > 0).all())
        self.assertTrue((sim >= 0.9).all())

    def test_output_reads_into_pandas(self):
        with h5py.File(self.out[2], "r") as f:
            attrs = dict(f.attrs)
            edges = pd.DataFrame({k: f["edges"][k][:] for k in f["edges"]})
            items = pd.DataFrame({k: f["items"][k][:] for k in f["items"] if f["items"][k].ndim == 1})
            n_clusterings, k_used, d = f["centroids"].shape
            cluster_shape = f["items/cluster"].shape
        self.assertEqual(attrs["format"], "dupgraph")
        self.assertEqual(int(attrs["format_version"]), 4)
        self.assertEqual(int(attrs["ranks"]), 2)
        self.assertIn("threshold", attrs["config"])
        # the settings typed (format 3), as the run used them
        self.assertEqual(attrs["mode"], "run")
        self.assertEqual(attrs["embedder"], "embeddings")
        self.assertEqual(attrs["graph_keep"], "first")
        self.assertAlmostEqual(float(attrs["pairs_threshold"]), 0.9, places=6)
        self.assertEqual(int(attrs["cluster_clusterings"]), n_clusterings)
        self.assertEqual(int(attrs["cluster_k"]), k_used)
        self.assertGreaterEqual(int(attrs["cluster_probes"]), 1)
        self.assertEqual(int(attrs["n_items"]), N)
        self.assertEqual(int(attrs["n_failed"]), BAD_ROWS)
        self.assertEqual(int(attrs["n_edges"]), len(edges))
        self.assertEqual(cluster_shape, (N, n_clusterings))
        self.assertEqual(d, D)
        self.assertEqual(len(items), N)
        self.assertEqual(list(edges.columns), ["dst", "sim", "src", "verify"])
        # vectors have no pixels: verification is off and no edge carries a verifier score
        self.assertEqual(int(attrs["verify_enabled"]), 0)
        self.assertTrue(edges["verify"].isna().all())
        self.assertEqual(int(items["keep"].sum()) + int(attrs["n_removed"]), N - BAD_ROWS)

    def test_compare_command_reports_recall(self):
        proc = dgtest.dupgraph(["compare", self.out[1], self.exact])
        fields = dict(line.split(": ") for line in proc.stdout.strip().splitlines())
        self.assertEqual(float(fields["precision"]), 1.0)
        self.assertGreaterEqual(float(fields["recall"]), 0.97)

    def test_info_command_summarises(self):
        proc = dgtest.dupgraph(["info", self.out[1]])
        self.assertIn("edges", proc.stdout)
        self.assertIn(str(N), proc.stdout)

    def test_keep_central_one_per_component(self):
        path = os.path.join(self.dir, "central.h5")
        dgtest.dupgraph(["run", "-c", self.config, "-o", path, *self.sets, "--set", "graph.keep=central"], ranks=2)
        items = dgtest.read_items(path)
        ok = dgtest.usable(items["status"])
        kept = pd.Series(items["keep"][ok]).groupby(items["component"][ok]).sum()
        self.assertTrue((kept == 1).all())
        first = dgtest.read_items(self.out[2])
        self.assertTrue((items["keep"] != first["keep"]).any(), "central should differ from first somewhere")

    def test_float32_and_bfloat16_blocks_write_the_same_file(self):
        """job.precision changes the arithmetic of the similarity blocks, not
        the results: every dataset byte for byte (centroids, assignments,
        edges, similarities, components) at 2 ranks."""
        import h5py
        if not dgtest.cpu_has_bf16():
            self.skipTest("this CPU has no AVX512-BF16")
        outs = {}
        for precision in ("float32", "bfloat16"):
            path = os.path.join(self.dir, f"precision_{precision}.h5")
            proc = dgtest.dupgraph(["run", "-c", self.config, "-o", path, *self.sets, "--set",
                                    f"job.precision={precision}"], ranks=2)
            self.assertIn(f"similarity blocks in {precision}", proc.stderr)
            outs[precision] = path
        with h5py.File(outs["float32"]) as a, h5py.File(outs["bfloat16"]) as b:
            names = []
            a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            self.assertIn("edges/sim", names)
            self.assertIn("centroids", names)
            for name in names:
                self.assertEqual(a[name][()].tobytes(), b[name][()].tobytes(), name)

    def test_log_has_stages_and_summary(self):
        for word in ("stage k-means", "stage pairs", "summary:", "memory estimate"):
            self.assertIn(word, self.log)


if __name__ == "__main__":
    dgtest.main()
