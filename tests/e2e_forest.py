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
        cls.out, cls.log, cls.paths = {}, {}, {}
        for keep in ("first", "central"):
            for mode, ranks_list in (("all", (2,)), ("forest", (1, 2, 4))):
                for ranks in ranks_list:
                    path = os.path.join(cls.dir, f"{mode}_{keep}_np{ranks}.h5")
                    proc = dgtest.dupgraph(["run", "-c", config, "-o", path, "--set", f"input.embeddings={corpus}",
                                            "--set", f"graph.edges={mode}", "--set", f"graph.keep={keep}"],
                                           ranks=ranks)
                    cls.out[mode, keep, ranks] = read(path)
                    cls.paths[mode, keep, ranks] = path
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

    def compare(self, a, b):
        proc = dgtest.dupgraph(["compare", self.paths[a], self.paths[b]])
        return dict(line.split(": ", 1) for line in proc.stdout.strip().splitlines())

    def test_compare_forest_against_all_by_components(self):
        n_all = len(self.out["all", "first", 2][1]["src"])
        for ranks in (1, 2, 4):
            n_forest = len(self.out["forest", "first", ranks][1]["src"])
            for a, b in ((("forest", "first", ranks), ("all", "first", 2)),
                         (("all", "first", 2), ("forest", "first", ranks))):
                c = self.compare(a, b)
                self.assertEqual(c["rule"], "components")
                self.assertEqual(c["forest"], "a" if a[0] == "forest" else "b")
                self.assertEqual(float(c["recall"]), 1.0)
                self.assertEqual(float(c["precision"]), 1.0)
                self.assertEqual(int(c["items_component_differs"]), 0)
                self.assertEqual(int(c["pairs_together_a_apart_b"]), 0)
                self.assertEqual(int(c["pairs_together_b_apart_a"]), 0)
                # the giant group alone: COPIES (COPIES + 1) / 2 item pairs together
                self.assertGreaterEqual(int(c["pairs_together_a"]), COPIES * (COPIES + 1) // 2)
                self.assertEqual(int(c["edges_both"]), n_forest)  # every forest edge is an all-mode pair
                self.assertEqual(sorted((int(c["edges_a"]), int(c["edges_b"]))), sorted((n_all, n_forest)))

    def test_compare_counts_component_disagreements(self):
        """A file whose components differ: items moved out of the giant group
        show up as pairs together in one file and apart in the other."""
        import shutil
        path = os.path.join(self.dir, "split.h5")
        shutil.copy(self.paths["forest", "first", 2], path)
        with h5py.File(path, "r+") as f:
            comp = f["items"]["component"][:]
            label = np.bincount(comp).argmax()
            moved = np.flatnonzero(comp == label)[-10:]
            comp[moved] = moved  # ten members made singletons (labels stay the lowest id)
            f["items"]["component"][:] = comp
        self.paths["split"] = path
        c = self.compare("split", ("all", "first", 2))
        g = int((self.out["all", "first", 2][0]["component"] == label).sum())
        self.assertEqual(int(c["items_component_differs"]), 10)
        self.assertEqual(int(c["pairs_together_a_apart_b"]), 0)
        # each moved item parted from the g - 1 others, minus the pairs among the ten counted twice
        self.assertEqual(int(c["pairs_together_b_apart_a"]), 10 * (g - 1) - 45)
        self.assertLess(float(c["recall"]), 1.0)

    def test_compare_all_against_all_still_matches_edges(self):
        c = self.compare(("all", "first", 2), ("all", "central", 2))
        self.assertEqual(set(c), {"edges_a", "edges_b", "edges_both", "recall", "precision", "max_sim_diff"})
        self.assertEqual(float(c["recall"]), 1.0)
        self.assertEqual(int(c["edges_both"]), len(self.out["all", "first", 2][1]["src"]))

    def test_info_says_forest(self):
        self.assertIn("graph.edges = forest", dgtest.dupgraph(["info", self.paths["forest", "first", 2]]).stdout)
        self.assertNotIn("graph.edges = forest", dgtest.dupgraph(["info", self.paths["all", "first", 2]]).stdout)

    def test_export_keep_lists_equal_all_mode(self):
        got = {}
        for key in (("all", "first", 2), ("forest", "first", 1), ("forest", "first", 4),
                    ("all", "central", 2), ("forest", "central", 2)):
            base = os.path.join(self.dir, "export_" + "_".join(map(str, key)))
            proc = dgtest.dupgraph(["export", self.paths[key], "--keep-list", base + ".keep",
                                    "--removed", base + ".removed", "--edges", base + ".csv"])
            self.assertEqual("spanning forest" in proc.stdout, key[0] == "forest", proc.stdout)
            with open(base + ".keep") as k, open(base + ".removed") as r:
                got[key] = (k.read(), r.read())
        self.assertGreater(len(got["all", "first", 2][1]), 0)
        for keep in ("first", "central"):
            for key in got:
                if key[1] == keep:
                    self.assertEqual(got[key], got["all", keep, 2], key)

    def sweep_rows(self, html):
        import re
        table = html[html.index('id="sweep"'):]
        table = table[:table.index("</table>")]
        return [(float(v), int(e), int(r)) for v, e, r in
                re.findall(r"<tr><td>([0-9.]+)[^<]*</td><td>(\d+)</td><td>(\d+)</td>", table)]

    def test_report_removal_at_the_run_threshold_equals_all_mode(self):
        rows = {}
        for mode in ("all", "forest"):
            out = os.path.join(self.dir, f"report_{mode}")
            dgtest.dupgraph(["report", self.paths[mode, "first", 2], "-o", out])
            with open(os.path.join(out, "index.html")) as f:
                html = f.read()
            rows[mode] = self.sweep_rows(html)
            self.assertEqual("lower bound" in html, mode == "forest")
        self.assertGreater(len(rows["forest"]), 1)
        self.assertEqual(rows["forest"][0][2], rows["all"][0][2])  # the run's row: the same removals
        self.assertEqual(rows["forest"][0][2], int((~self.out["all", "first", 2][0]["keep"].astype(bool)).sum()))
        for (vf, _, rf), (va, _, ra) in zip(rows["forest"], rows["all"]):
            self.assertEqual(vf, va)
            self.assertLessEqual(rf, ra)  # a stricter row over a forest: a lower bound

    def test_dgtools_on_forest_equal_all_mode_at_the_run_threshold(self):
        sys.path.insert(0, os.path.join(dgtest.SOURCE_ROOT, "python"))
        sys.path.insert(0, os.path.join(dgtest.SOURCE_ROOT, "jobs", "notebooks"))
        import dupgraph_reader
        from dgtools import output
        res = {m: dupgraph_reader.load(self.paths[m, "first", 2]) for m in ("all", "forest")}
        self.assertTrue(res["forest"].forest)
        self.assertFalse(res["all"].forest)
        self.assertTrue(output.read(self.paths["forest", "first", 2]).forest)
        self.assertFalse(output.read(self.paths["all", "first", 2]).forest)
        n_removed = int(res["all"].attrs["n_removed"])
        self.assertGreater(n_removed, 0)
        for m in ("all", "forest"):
            self.assertEqual(res[m].removed_at(), n_removed)
            self.assertEqual(res[m].keep_list(), res["all"].keep_list())
        pd_equal = res["forest"].components[["size", "kept"]].equals(res["all"].components[["size", "kept"]])
        self.assertTrue(pd_equal)
        tf, ta = res["forest"].threshold_table(), res["all"].threshold_table()
        self.assertEqual(tf["removed"].iloc[0], ta["removed"].iloc[0])
        self.assertEqual(list(tf["exact"]), [True] + [False] * (len(tf) - 1))
        self.assertTrue(ta["exact"].all())
        self.assertTrue((tf["removed"] <= ta["removed"]).all())
        self.assertEqual(res["forest"].summary()["edges are"], "a spanning forest")

    def test_notebook_runs_on_a_forest_file_and_keeps_what_all_mode_keeps(self):
        keep = os.path.join(self.dir, "nb_keep.txt")
        errors = dgtest.run_notebook(self.paths["forest", "first", 2], keep, os.path.join(self.dir, "nb_figures"),
                                     timeout=300)
        self.assertEqual(errors, [])
        base = os.path.join(self.dir, "nb_all")
        dgtest.dupgraph(["export", self.paths["all", "first", 2], "--keep-list", base + ".keep"])
        with open(keep) as a, open(base + ".keep") as b:
            self.assertEqual(a.read(), b.read())


if __name__ == "__main__":
    dgtest.main()
