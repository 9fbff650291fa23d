#!/usr/bin/python3
"""Skew and memory end to end.  A corpus with 30% of its items crowded into
one dense region (jobs/synth_embeddings.py --giant-fraction), clustered with
K = 16 so that k-means leaves a giant cluster.  With 4 ranks the plan splits
it into tasks and the compared pairs per rank stay within 1.5 x the mean;
the edges equal those of 1 rank (nothing is split on one rank) and of 2
ranks, hold no pair `exact` does not find, and include every exact pair of
items that share a home cluster.  A small job.max_memory runs each
clustering in several task rounds at 1, 2 and 4 ranks and gives exactly
the same edges and components (in forest mode, the same components and
keeps, with every rank's peak RSS under the cap); one that leaves nothing for the exchanged
bucket (of the JSON summary, output.summary) stops the job before any work.  Figures
come from the summary, the splits and the pairs per rank of each clustering
from its per_clustering entries."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

N, D, K = 60000, 64, 16
MAX_OVER_MEAN = 1.5
# job.max_memory per rank count: a few MiB above the fixed buffers (runtime,
# items, results, probes), so the exchanged bucket needs several rounds
ROUND_CAP = {1: "70M", 2: "60M", 4: "48M"}
FOREST_CAP = "80M"


def pairs_per_rank(s):
    """[pairs compared on each rank] of every clustering's pair stage."""
    return [c["pairs"]["compared"] for c in s["per_clustering"]]


def splits(s):
    """[(max rank load, max rank load without splitting)] of every plan that split a cluster."""
    return [(c["plan"]["max_load"], c["plan"]["unsplit_max_load"]) for c in s["per_clustering"]
            if c["plan"]["clusters_split"] > 0]


class SkewEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("skew")
        cls.corpus = os.path.join(cls.dir, "giant.h5")
        dgtest.synth(cls.corpus, N, D, seed=3, extra=["--giant-fraction", "0.3"])
        cls.config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        cls.sets = ["--set", f"input.embeddings={cls.corpus}", "--set", f"cluster.k={K}"]
        cls.out, cls.log, cls.summary = {}, {}, {}
        for ranks in (4, 1, 2):
            path = os.path.join(cls.dir, f"run_np{ranks}.h5")
            js = os.path.join(cls.dir, f"run_np{ranks}.json")
            proc = dgtest.dupgraph(["run", "-c", cls.config, "-o", path, *cls.sets, *dgtest.summary.set_args(js)],
                                   ranks=ranks)
            cls.out[ranks], cls.log[ranks], cls.summary[ranks] = path, proc.stderr, dgtest.summary.read(js)
        cls.capped, cls.capped_summary = {}, {}
        for ranks, cap in ROUND_CAP.items():
            path = os.path.join(cls.dir, f"capped_np{ranks}.h5")
            js = os.path.join(cls.dir, f"capped_np{ranks}.json")
            dgtest.dupgraph(["run", "-c", cls.config, "-o", path, *cls.sets, "--set", f"job.max_memory={cap}",
                             *dgtest.summary.set_args(js)], ranks=ranks)
            cls.capped[ranks], cls.capped_summary[ranks] = path, dgtest.summary.read(js)
        # forest mode bounds the edges too, so the whole run stays under the cap
        cls.forest = os.path.join(cls.dir, "forest_capped_np2.h5")
        js = os.path.join(cls.dir, "forest_capped_np2.json")
        dgtest.dupgraph(["run", "-c", cls.config, "-o", cls.forest, *cls.sets, "--set", "graph.edges=forest",
                         "--set", f"job.max_memory={FOREST_CAP}", *dgtest.summary.set_args(js)], ranks=2)
        cls.forest_summary = dgtest.summary.read(js)
        cls.exact = os.path.join(cls.dir, "exact_np2.h5")
        dgtest.dupgraph(["exact", "-c", cls.config, "-o", cls.exact, *cls.sets], ranks=2)

    def test_giant_cluster_is_split_on_4_ranks(self):
        split = splits(self.summary[4])
        self.assertTrue(split, "no clustering split a cluster:\n" + self.log[4][-3000:])
        for load, unsplit in split:
            print(f"plan split: max rank load {load:.4g}, {unsplit:.4g} without splitting")
        # at least one clustering would have been clearly unbalanced unsplit
        self.assertTrue(any(unsplit > 1.3 * load for load, unsplit in split), split)

    def test_pairs_per_rank_within_factor_of_mean(self):
        per_clustering = pairs_per_rank(self.summary[4])
        self.assertEqual(len(per_clustering), 2, self.log[4][-3000:])
        for counts in per_clustering:
            print(f"pairs per rank: {' '.join(f'{c:.4g}' for c in counts)} "
                  f"(max/mean {max(counts) / np.mean(counts):.2f})")
            self.assertEqual(len(counts), 4)
            self.assertLessEqual(max(counts) / np.mean(counts), MAX_OVER_MEAN)

    def test_one_rank_splits_nothing(self):
        self.assertEqual(splits(self.summary[1]), [])
        self.assertEqual([len(c) for c in pairs_per_rank(self.summary[1])], [1, 1])

    def test_per_clustering_figures_add_up_to_the_totals(self):
        """Each clustering's pairs and bytes per rank sum to the run's totals;
        every clustering trained and was searched (nothing reused)."""
        for ranks in (1, 2, 4):
            s = self.summary[ranks]
            per = s["per_clustering"]
            self.assertEqual([c["clustering"] for c in per], list(range(s["clusterings"])))
            self.assertEqual(dgtest.summary.measured(s), per)
            for key, total in (("compared", s["pairs"]["compared"]), ("seconds", s["pairs"]["seconds"])):
                summed = np.sum([c["pairs"][key] for c in per], axis=0)
                self.assertTrue(np.allclose(summed, total, rtol=1e-9), (key, summed, total))
            sent = np.sum([c["exchange"]["bytes_sent"] for c in per], axis=0)
            self.assertEqual(sent.tolist(), s["exchange"]["bytes_sent"])
            for c in per:
                self.assertEqual((c["kmeans"]["k"], c["kmeans"]["dim"]), (K, D))
                self.assertGreaterEqual(c["kmeans"]["sample"], K)
                self.assertGreaterEqual(c["plan"]["max_load"], c["plan"]["mean_load"])
                self.assertEqual(len(c["exchange"]["bucket_rows"]), ranks)

    def test_edges_equal_unsplit_run_and_across_ranks(self):
        base = dgtest.edge_dict(self.out[1])
        self.assertGreater(len(base), 10000)
        for ranks in (2, 4):
            self.assertEqual(dgtest.edge_dict(self.out[ranks]), base, f"edges differ with {ranks} ranks")

    def test_edges_are_exacts_restricted_to_shared_clusters(self):
        run, exact = dgtest.edge_dict(self.out[4]), dgtest.edge_dict(self.exact)
        self.assertEqual(set(run) - set(exact), set(), "false edges")
        home = dgtest.read_items(self.out[4])["cluster"]
        pairs = np.array(list(exact), dtype=np.int64)
        shared = (home[pairs[:, 0]] == home[pairs[:, 1]]).any(axis=1)
        must = {tuple(p) for p in pairs[shared].tolist()}
        self.assertGreater(len(must), 10000)
        self.assertEqual(must - set(run), set(), "exact pairs in a shared cluster were missed")
        for p in must:
            self.assertEqual(run[p], exact[p])

    def test_peak_rss_and_estimate_in_summary(self):
        mem = self.summary[4]["memory"]
        rss = mem["peak_rss_bytes"]
        print(f"peak RSS per rank {' '.join(f'{v / 2**20:.0f}' for v in rss)} MiB, "
              f"estimate {mem['estimate_bytes'] / 2**20:.0f} MiB")
        self.assertEqual(len(rss), 4)
        self.assertTrue(all(v > 0 for v in rss))
        self.assertEqual(max(rss), mem["peak_rss_max_bytes"])
        self.assertGreater(mem["estimate_bytes"], 0)

    def test_same_pairs_compared_whatever_the_split(self):
        """Splitting reorganises the work but searches each pair once: the
        summary's pairs compared per rank (exact integers, summed over the
        clusterings) add up to the same whatever the number of ranks."""
        total = self.summary[1]["pairs"]["compared_total"]
        self.assertGreater(total, 0)
        for ranks in (1, 2, 4):
            pairs = self.summary[ranks]["pairs"]
            self.assertEqual(len(pairs["compared"]), ranks)
            self.assertEqual(sum(pairs["compared"]), sum(self.summary[1]["pairs"]["compared"]))
            self.assertLessEqual(abs(pairs["compared_total"] - total), 1e-9 * total)

    def test_rounds_under_max_memory_give_the_same_edges_and_components(self):
        base = dgtest.edge_dict(self.out[1])
        components = dgtest.read_items(self.out[1])["component"]
        for ranks in ROUND_CAP:
            with self.subTest(ranks=ranks):
                s = self.capped_summary[ranks]
                rounds = [c["plan"]["rounds"] for c in s["per_clustering"]]
                print(f"{ranks} ranks, job.max_memory={ROUND_CAP[ranks]}: rounds per clustering {rounds}, "
                      f"peak RSS {max(s['memory']['peak_rss_bytes']) / 2**20:.0f} MiB")
                self.assertTrue(all(r >= 2 for r in rounds), rounds)
                self.assertEqual([c["plan"]["rounds"] for c in self.summary[ranks]["per_clustering"]], [1, 1])
                self.assertEqual(dgtest.edge_dict(self.capped[ranks]), base, f"edges differ with {ranks} ranks")
                self.assertTrue(np.array_equal(dgtest.read_items(self.capped[ranks])["component"], components))
                est = s["memory"]["estimate_bytes"]
                self.assertLessEqual(est, int(ROUND_CAP[ranks][:-1]) * 2**20, "the estimate fits the cap")

    def test_forest_mode_in_rounds_stays_under_the_cap_with_the_same_components(self):
        s = self.forest_summary
        rounds = [c["plan"]["rounds"] for c in s["per_clustering"]]
        rss = s["memory"]["peak_rss_bytes"]
        print(f"forest mode, 2 ranks, job.max_memory={FOREST_CAP}: rounds per clustering {rounds}, peak RSS "
              f"{' '.join(f'{v / 2**20:.0f}' for v in rss)} MiB, "
              f"estimate {s['memory']['estimate_bytes'] / 2**20:.0f} MiB")
        self.assertTrue(all(r >= 2 for r in rounds), rounds)
        cap = int(FOREST_CAP[:-1]) * 2**20
        self.assertLessEqual(s["memory"]["estimate_bytes"], cap)
        if not os.environ.get("DG_SANITIZED"):  # ASan's shadow memory is not the job's (tests/meson.build)
            self.assertLessEqual(max(rss), cap, "a rank went over job.max_memory")
        base, got = dgtest.read_items(self.out[1]), dgtest.read_items(self.forest)
        for key in ("component", "keep"):
            self.assertTrue(np.array_equal(got[key], base[key]), key)

    def test_max_memory_below_the_fixed_buffers_fails_before_work(self):
        path = os.path.join(self.dir, "too_small.h5")
        proc = dgtest.dupgraph(["run", "-c", self.config, "-o", path, *self.sets, "--set", "job.max_memory=40M"],
                               ranks=2, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["memory"])
        self.assertIn("job.max_memory = 40.0 MiB leaves", proc.stderr)
        for stage in ("stage read", "stage k-means", "stage exchange"):
            self.assertNotIn(stage, proc.stderr)
        self.assertFalse(os.path.exists(path))


if __name__ == "__main__":
    dgtest.main()
