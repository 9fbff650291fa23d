#!/usr/bin/python3
"""graph.edges = forest against all, end to end under mpirun with 1, 2 and 4
ranks, on synthetic embeddings with planted groups and one group of 3000
near-identical copies: the same components, keeps (first and central) and
best matches as all mode, at most n_items - n_components edges, every one
of them a pair all mode found with the same similarity, and the same
components, keeps, best matches and forest (/edges) for 1, 2 and 4 ranks,
with the group's cluster split into the same tasks at every rank count."""
import os
import re
import sys
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

N, D, COPIES = 20000, 64, 3000


def read(path):
    with h5py.File(path, "r") as f:
        items = {k: f["items"][k][:] for k in ("component", "keep", "best_match", "best_sim")}
        edges = {k: f["edges"][k][:] for k in ("src", "dst", "sim")}
        return items, edges, f.attrs["graph_edges"]


class ForestEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("forest")
        corpus = os.path.join(cls.dir, "corpus.h5")
        dgtest.synth(corpus, N, D, seed=11, extra=["--copies", str(COPIES)])
        config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        cls.out, cls.log = {}, {}
        for keep in ("first", "central"):
            for mode, ranks_list in (("all", (2,)), ("forest", (1, 2, 4))):
                for ranks in ranks_list:
                    path = os.path.join(cls.dir, f"{mode}_{keep}_np{ranks}.h5")
                    proc = dgtest.dupgraph(["run", "-c", config, "-o", path, "--set", f"input.embeddings={corpus}",
                                            "--set", f"graph.edges={mode}", "--set", f"graph.keep={keep}"],
                                           ranks=ranks)
                    cls.out[mode, keep, ranks] = read(path)
                    cls.log[mode, keep, ranks] = proc.stderr + proc.stdout

    def test_forest_components_keeps_and_best_equal_all(self):
        for keep in ("first", "central"):
            a, _, mode_a = self.out["all", keep, 2]
            self.assertEqual(mode_a, "all")
            for ranks in (1, 2, 4):
                f, _, mode_f = self.out["forest", keep, ranks]
                self.assertEqual(mode_f, "forest")
                for k in ("component", "keep", "best_match"):
                    np.testing.assert_array_equal(a[k], f[k], err_msg=f"{k}, keep={keep}, {ranks} ranks")
                np.testing.assert_array_equal(a["best_sim"], f["best_sim"])

    def test_forest_edges_equal_for_1_2_4_ranks(self):
        for keep in ("first", "central"):
            _, ref, _ = self.out["forest", keep, 1]
            for ranks in (2, 4):
                _, e, _ = self.out["forest", keep, ranks]
                for k in ("src", "dst", "sim"):
                    np.testing.assert_array_equal(ref[k], e[k], err_msg=f"edges/{k}, keep={keep}, {ranks} ranks")

    def test_giant_cluster_split_into_the_same_tasks_at_every_rank_count(self):
        split = re.compile(r"plan: (\d+) of (\d+) clusters split, (\d+) tasks in all; largest: cluster \d+ "
                           r"\((\d+) members, \d+ queries\) in (\d+) member x (\d+) query parts")
        plans = {}
        for ranks in (1, 2, 4):
            log = self.log["forest", "first", ranks]
            plans[ranks] = split.findall(log)
            self.assertTrue(plans[ranks], f"no cluster split on {ranks} ranks:\n{log[-3000:]}")
            # the group's cluster, cut into several member parts
            self.assertTrue(any(int(members) >= COPIES and int(parts) > 1
                                for _, _, _, members, parts, _ in plans[ranks]), plans[ranks])
        print(f"plans (split, k, tasks, members, parts, query parts): {plans[1]}")
        self.assertEqual(plans[1], plans[2])
        self.assertEqual(plans[1], plans[4])

    def test_giant_group_is_one_component(self):
        items, _, _ = self.out["forest", "first", 2]
        _, sizes = np.unique(items["component"], return_counts=True)
        self.assertGreaterEqual(sizes.max(), COPIES)

    def test_forest_is_a_spanning_forest_of_all_mode_pairs(self):
        _, all_edges, _ = self.out["all", "first", 2]
        pairs = {(s, d): v for s, d, v in zip(all_edges["src"], all_edges["dst"], all_edges["sim"])}
        for ranks in (1, 2, 4):
            items, e, _ = self.out["forest", "first", ranks]
            n_comp = len(np.unique(items["component"]))
            self.assertLessEqual(len(e["src"]), N - n_comp)
            # spanning: a forest with n - components edges over the same components
            self.assertEqual(len(e["src"]), N - n_comp)
            for s, d, v in zip(e["src"], e["dst"], e["sim"]):
                self.assertEqual(pairs[(s, d)], v)
            self.assertTrue(np.all(items["component"][e["src"]] == items["component"][e["dst"]]))
        print(f"edges: all {len(all_edges['src'])}, forest {len(e['src'])}")

    def test_best_match_is_an_edge_and_the_highest(self):
        items, _, _ = self.out["all", "first", 2]
        _, e, _ = self.out["all", "first", 2]
        best = np.full(N, -np.inf)
        np.maximum.at(best, e["src"], e["sim"])
        np.maximum.at(best, e["dst"], e["sim"])
        has = items["best_match"] >= 0
        np.testing.assert_array_equal(has, np.isfinite(best))
        np.testing.assert_array_equal(items["best_sim"][has], best[has].astype(np.float32))


if __name__ == "__main__":
    dgtest.main()
