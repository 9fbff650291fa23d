#!/usr/bin/python3
"""The memory estimate the job prints (and checks against job.max_memory)
before any work, against the peak RSS every rank measures (output.summary):
within 25% on an embeddings run of hundreds of MiB at 2 and 4 ranks, and an
upper bound for image input, whose estimate carries the JPEG decoder's
worst case; image input is refused before the first image is decoded.
With job.max_memory below that estimate the exchange runs in task rounds:
the estimate then fits the cap and every rank's peak stays within the cap
and within 25% of the estimate.
`dupgraph estimate` gives the very estimate (and K) the job printed, without
running anything.  Registered for the plain build only: ASan's shadow memory
is not the job's."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

N, D = 600000, 64
PHOTOS = "lomiri-wallpapers-16.04"


def package_photos():
    out = subprocess.run(["dpkg", "-L", PHOTOS], capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.split() if p.lower().endswith(".jpg"))


class MemoryEstimate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("memory")
        cls.config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        cls.corpus = os.path.join(cls.dir, "corpus.h5")
        dgtest.synth(cls.corpus, N, D, seed=31)
        cls.manifest = os.path.join(cls.dir, "photos.txt")
        with open(cls.manifest, "w") as f:
            f.write("".join(p + "\n" for p in package_photos()))

    def run_job(self, name, ranks, sets, check=True):
        out = os.path.join(self.dir, name + ".h5")
        js = os.path.join(self.dir, name + ".json")
        args = ["run", "-c", self.config, "-o", out, "--set", f"output.summary={js}", "--set", "job.resume=false"]
        for kv in sets:
            args += ["--set", kv]
        proc = dgtest.dupgraph(args, ranks=ranks, check=check)
        return proc, (dgtest.summary.read(js) if proc.returncode == 0 else None)

    def test_estimate_within_25_percent_of_every_ranks_peak_rss(self):
        for ranks in (2, 4):
            with self.subTest(ranks=ranks):
                _, s = self.run_job(f"emb{ranks}", ranks, [f"input.embeddings={self.corpus}"])
                est = s["memory"]["estimate_bytes"]
                self.assertGreater(est, 150 * 2**20, "a run big enough that the runtime does not dominate")
                rss = s["memory"]["peak_rss_bytes"]
                self.assertEqual(len(rss), ranks)
                for r, peak in enumerate(rss):
                    ratio = peak / est
                    print(f"{ranks} ranks, rank {r}: peak RSS {peak / 2**20:.0f} MiB, "
                          f"estimate {est / 2**20:.0f} MiB, ratio {ratio:.2f}")
                    self.assertLess(abs(ratio - 1.0), 0.25, f"rank {r}: peak/estimate {ratio:.2f}")
                self.assert_estimate_command_agrees(s, ranks)

    def assert_estimate_command_agrees(self, s, ranks):
        proc = dgtest.dupgraph(["estimate", "--items", str(N), "--dim", str(D), "--ranks", str(ranks),
                                "-c", self.config])
        e = json.loads(proc.stdout)
        self.assertEqual((e["format"], e["items"], e["dim"], e["ranks"]), ("dupgraph-estimate", N, D, ranks))
        self.assertEqual((e["k"], e["clusterings"], e["probes"]), (s["k"], s["clusterings"], s["probes"]))
        self.assertEqual(e["sample"], min(64 * e["k"], N), "cluster.sample = auto: 64 x K")
        self.assertEqual(e["memory"]["estimate_parts_bytes"], s["memory"]["estimate_parts_bytes"])
        self.assertEqual(e["memory"]["estimate_bytes"], s["memory"]["estimate_bytes"])

    def test_rounds_keep_every_ranks_peak_within_max_memory(self):
        cap = 300 * 2**20
        _, s = self.run_job("capped2", 2, [f"input.embeddings={self.corpus}", f"job.max_memory={cap}"])
        rounds = [c["plan"]["rounds"] for c in s["per_clustering"]]
        est = s["memory"]["estimate_bytes"]
        print(f"job.max_memory = 300 MiB, 2 ranks: rounds per clustering {rounds}, estimate {est / 2**20:.0f} MiB")
        self.assertTrue(all(r >= 2 for r in rounds), rounds)
        self.assertLessEqual(est, cap)
        for r, peak in enumerate(s["memory"]["peak_rss_bytes"]):
            print(f"rank {r}: peak RSS {peak / 2**20:.0f} MiB, ratio to estimate {peak / est:.2f}")
            self.assertLessEqual(peak, cap, f"rank {r} went over job.max_memory")
            self.assertLess(abs(peak / est - 1.0), 0.25, f"rank {r}: peak/estimate {peak / est:.2f}")
        e = json.loads(dgtest.dupgraph(["estimate", "--items", str(N), "--dim", str(D), "--ranks", "2", "-c",
                                        self.config, "--set", f"job.max_memory={cap}"]).stdout)
        self.assertEqual(e["memory"]["estimate_bytes"], est, "dupgraph estimate prints the capped estimate")

    def test_image_input_estimate_bounds_the_peak_rss(self):
        for method in ("descriptor", "mobilenet_v2"):
            with self.subTest(method=method):
                weights = os.path.join(os.path.dirname(os.path.abspath(dgtest.DUPGRAPH)), "mobilenet_v2.h5")
                _, s = self.run_job(f"img_{method}", 2, [f"input.manifest={self.manifest}", f"embed.method={method}",
                                                          f"embed.weights={weights}", "embed.max_pixels=20M"])
                est, parts = s["memory"]["estimate_bytes"], s["memory"]["estimate_parts_bytes"]
                self.assertGreaterEqual(parts["embed"], 8 * 20 * 2**20, "the decoder's bound is counted")
                if method == "mobilenet_v2":
                    self.assertGreater(parts["embed"], 8 * 20 * 2**20 + 20 * 2**20, "and the network's buffers")
                self.assertEqual(s["items"]["ok"], len(package_photos()), "every photo is below 20 Mpx")
                for r, peak in enumerate(s["memory"]["peak_rss_bytes"]):
                    print(f"{method}, rank {r}: peak RSS {peak / 2**20:.0f} MiB <= estimate {est / 2**20:.0f} MiB")
                    self.assertLessEqual(peak, est)

    def test_image_input_over_max_memory_stops_before_decoding(self):
        out = os.path.join(self.dir, "refused.h5")
        proc = dgtest.dupgraph(["run", "-c", self.config, "-o", out, "--set", f"input.manifest={self.manifest}",
                                "--set", "job.max_memory=300M"], ranks=2, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["memory"])
        err = [line for line in proc.stderr.splitlines() if line.startswith("dupgraph: error:")][-1]
        self.assertIn("exceeds job.max_memory = 300.0 MiB", err)
        self.assertIn("bounds the JPEG decoder at embed.max_pixels = 100000000; lower embed.max_pixels", err)
        self.assertIn("stage list", proc.stderr)
        self.assertNotIn("stage embed", proc.stderr, "refused before any image is decoded")
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".ckpt"))


if __name__ == "__main__":
    dgtest.main()
