#!/usr/bin/python3
"""End to end: embeddings published as .npy shards.  A generated corpus with
planted near-duplicates is saved as uneven .npy shards (one of a single row,
so shards straddle every rank boundary) with CSV metadata, converted by
jobs/npy_to_h5.py (external storage: no copy; and copy mode: one HDF5 file per
shard), and run under mpirun with 1, 2 and 4 ranks on the original single file,
the list and the glob of per-shard files and both virtual-dataset files: edges,
components and keeps must be identical across all of them and all rank
counts.  A list with another D or a missing file fails before any work with
the input exit status and the file's name; the checkpoint notices a changed
shard behind a virtual dataset."""
import glob
import os
import subprocess
import sys
import time
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

N, D = 6000, 32
CUTS = [0, 1700, 1701, 3100, 6000]  # shard boundaries: 1700, 1, 1399, 2900 rows
CONVERT = os.path.join(dgtest.SOURCE_ROOT, "jobs", "npy_to_h5.py")
RANKS = (1, 2, 4)


def convert(shard_dir, out, *args):
    proc = subprocess.run([dgtest.PYTHON, CONVERT, shard_dir, out, "--pattern", "img_emb_*.npy", *args],
                          capture_output=True, text=True, check=True)
    return proc.stdout


class EmbeddingShards(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("embshards")
        cls.corpus = os.path.join(cls.dir, "corpus.h5")
        dgtest.synth(cls.corpus, N, D, seed=5, extra=["--bad-rows", "2"])
        with h5py.File(cls.corpus, "r") as f:
            x = f["embeddings"][:]
        cls.npy_dir = os.path.join(cls.dir, "npy")
        os.makedirs(cls.npy_dir)
        for i in range(len(CUTS) - 1):
            np.save(os.path.join(cls.npy_dir, f"img_emb_{i:04d}.npy"), x[CUTS[i]:CUTS[i + 1]])
            with open(os.path.join(cls.npy_dir, f"metadata_{i:04d}.csv"), "w") as f:
                f.write("key,url,caption\n")
                for j in range(CUTS[i], CUTS[i + 1]):
                    f.write(f'{j:09d},https://example.org/{j}.jpg,"photo {j}, a caption"\n')
        cls.external = os.path.join(cls.dir, "external.h5")
        cls.external_log = convert(cls.npy_dir, cls.external, "--metadata-pattern", "metadata_*.csv")
        cls.copied = os.path.join(cls.dir, "copied.h5")
        cls.copied_log = convert(cls.npy_dir, cls.copied, "--mode", "copy")
        cls.parts = sorted(glob.glob(os.path.join(cls.dir, "copied_shards", "*.h5")))
        cls.inputs = {
            "single": cls.corpus,
            "list": ",".join(cls.parts),
            "glob": os.path.join(cls.dir, "copied_shards", "*.h5"),
            "vds_external": cls.external,
            "vds_copied": cls.copied,
        }
        cls.config = os.path.join(dgtest.SOURCE_ROOT, "configs", "default.ini")
        cls.out = {}
        for name, spec in cls.inputs.items():
            for ranks in RANKS:
                path = os.path.join(cls.dir, f"{name}_np{ranks}.h5")
                dgtest.dupgraph(["run", "-c", cls.config, "-o", path, "--set", f"input.embeddings={spec}"],
                                ranks=ranks)
                cls.out[name, ranks] = path

    def test_converter_copies_nothing_in_external_mode(self):
        self.assertIn("no vector copied", self.external_log)
        self.assertIn(f"4 shards, {N} x {D} float32", self.external_log)
        # each shard dataset is the .npy file's data in place (external storage after its header)
        with h5py.File(self.external, "r") as f:
            for i in range(4):
                ext = f[f"shards/{i:06d}"].external
                self.assertEqual(len(ext), 1)
                name, offset, size = ext[0]
                self.assertEqual(os.fsdecode(name), os.path.join(self.npy_dir, f"img_emb_{i:04d}.npy"))
                self.assertEqual(size, (CUTS[i + 1] - CUTS[i]) * D * 4)
                self.assertEqual(offset + size, os.path.getsize(os.fsdecode(name)))
        # without metadata the file holds the mapping only, not the N x D x 4 bytes of vectors
        bare = os.path.join(self.dir, "bare.h5")
        convert(self.npy_dir, bare)
        self.assertLess(os.path.getsize(bare), N * D * 4 // 10)

    def test_converter_copy_mode_writes_each_shard_once(self):
        self.assertIn("each shard written once", self.copied_log)
        self.assertEqual(len(self.parts), 4)
        self.assertLess(os.path.getsize(self.copied), N * D * 4 // 10)

    def test_virtual_datasets_read_as_the_original(self):
        with h5py.File(self.corpus, "r") as f:
            x = f["embeddings"][:]
        for path in (self.external, self.copied):
            with h5py.File(path, "r") as f:
                np.testing.assert_array_equal(f["embeddings"][:], x, err_msg=path)
                np.testing.assert_array_equal(f["shards/rows"][:], np.diff(CUTS))

    def test_metadata_columns_in_row_order(self):
        with h5py.File(self.external, "r") as f:
            self.assertEqual(sorted(f["metadata"]), ["caption", "key", "url"])
            url = f["metadata/url"].asstr()[:]
            caption = f["metadata/caption"].asstr()[:]
        self.assertEqual(len(url), N)
        self.assertEqual(url[1700], "https://example.org/1700.jpg")
        self.assertEqual(caption[N - 1], f"photo {N - 1}, a caption")

    def test_edges_same_for_every_input_form_and_rank_count(self):
        base = dgtest.edge_dict(self.out["single", 1])
        self.assertGreater(len(base), 300, "the corpus should have many duplicate pairs")
        for (name, ranks), path in self.out.items():
            other = dgtest.edge_dict(path)
            self.assertEqual(set(other), set(base), f"edge set differs for {name} at {ranks} ranks")
            self.assertLessEqual(max(abs(other[p] - base[p]) for p in base), 1e-5, f"{name} at {ranks} ranks")

    def test_components_and_keep_same_for_every_input_form_and_rank_count(self):
        base = dgtest.read_items(self.out["single", 1])
        self.assertEqual(int((~dgtest.usable(base["status"])).sum()), 2, "the two bad rows are recorded")
        for (name, ranks), path in self.out.items():
            other = dgtest.read_items(path)
            for key in ("component", "keep", "status", "cluster"):
                np.testing.assert_array_equal(other[key], base[key], err_msg=f"{key}: {name} at {ranks} ranks")

    def test_output_records_files_and_each_items_file(self):
        want = np.repeat(np.arange(4), np.diff(CUTS))
        for ranks in RANKS:
            for name in ("list", "glob"):
                with h5py.File(self.out[name, ranks], "r") as f:
                    self.assertEqual(list(f["inputs/path"].asstr()[:]), self.parts)
                    np.testing.assert_array_equal(f["inputs/rows"][:], np.diff(CUTS))
                    np.testing.assert_array_equal(f["items/input"][:], want, err_msg=f"{name} at {ranks} ranks")
            with h5py.File(self.out["vds_external", ranks], "r") as f:
                self.assertEqual(list(f["inputs/path"].asstr()[:]), [self.external])
                self.assertTrue((f["items/input"][:] == 0).all())

    def test_other_dimension_fails_before_work_naming_the_file(self):
        other = os.path.join(self.dir, "other_d.h5")
        dgtest.synth(other, 50, D + 8, seed=2)
        self.expect_input_error([self.parts[0], other], other, f"has D = {D + 8}")

    def test_missing_file_fails_before_work_naming_the_file(self):
        missing = os.path.join(self.dir, "copied_shards", "missing.h5")
        self.expect_input_error([self.parts[0], missing], missing, "No such file")

    def expect_input_error(self, files, named, why):
        out = os.path.join(self.dir, "bad.h5")
        proc = dgtest.dupgraph(["run", "-c", self.config, "-o", out, "--set", "input.embeddings=" + ",".join(files)],
                               ranks=2, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["input"], proc.stderr[-2000:])
        error = [line for line in proc.stderr.splitlines() if line.startswith("dupgraph: error:")][-1]
        self.assertIn(named, error)
        self.assertIn(why, error)
        self.assertNotIn("memory estimate", proc.stderr, "it failed before the memory check, before any work")
        self.assertFalse(os.path.exists(out))

    def test_checkpoint_notices_a_changed_shard_behind_the_virtual_dataset(self):
        out = os.path.join(self.dir, "resume.h5")
        args = ["run", "-c", self.config, "-o", out, "--set", f"input.embeddings={self.external}"]
        proc = dgtest.dupgraph([*args, "--set", "job.stop_after=embed"], ranks=2, check=False)
        self.assertEqual(proc.returncode, dgtest.EXIT["stopped"], proc.stderr[-2000:])
        proc = dgtest.dupgraph([*args, "--set", "job.stop_after=embed"], ranks=2, check=False)
        self.assertIn("reusing checkpoint: read stage", proc.stderr)
        # a shard rewritten in place: same size, new modification time; the VDS file is untouched
        shard = os.path.join(self.npy_dir, "img_emb_0002.npy")
        later = time.time() + 5
        os.utime(shard, (later, later))
        proc = dgtest.dupgraph(args, ranks=2)
        self.assertNotIn("reusing checkpoint: read stage", proc.stderr)
        self.assertIn("is from another input or configuration", proc.stderr)


if __name__ == "__main__":
    dgtest.main()
