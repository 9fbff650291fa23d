#!/usr/bin/python3
"""End-to-end test of input.shards (WebDataset tar shards as img2dataset writes
them) under mpirun.  A real-photo corpus made by dg-mkbench (4 originals x 26
files + 2 distractors from lomiri-wallpapers-16.04, fitted to 256 px) is packed
with Python's tarfile into 4 shards of KEY.jpg + KEY.json (url, caption, key,
status) + KEY.txt, the sidecar before the image in some shards and after it
in others, plus: a member larger than the cap embed.max_pixels gives
(too_large), a non-image member, a shard truncated in the middle of an image
(the members before it kept, that image corrupt) and a file that is not a tar
(recorded in /shards/status, no items); the first two photos of shard 00000
are stored as a lossless PNG and a lossless WebP of the JPEG (python3-pil),
by content under their .png/.webp member names.  Checked: with 1, 2 and 4 ranks the
statuses, embeddings, edges, components and keeps are identical, and identical
to a manifest run over the same photos as loose files (same bytes, same ids);
a brace pattern names the same shards as the glob; /items/{shard,key,url,
caption} and /items/path match what was packed; `export --remove-keys` writes
one sorted key file per shard (empty when nothing is removed) equal to the
removed items; a resumed run reuses the checkpoint and still fills the
metadata columns; `dupgraph report` shows thumbnails of shard members
(JPEG, PNG and WebP, read from the tar) and no "no preview" box.

usage: e2e_shards.py PATH/TO/dg-mkbench
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import unittest

import h5py
import numpy as np
from PIL import Image, features

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402
from dgtools import frame  # noqa: E402

PACKAGE = "lomiri-wallpapers-16.04"
MKBENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "dg-mkbench")
CONFIG = os.path.join(dgtest.SOURCE_ROOT, "configs", "demo.ini")
RANKS = (1, 2, 4)
MAX_PIXELS = 100000  # member cap: 8 x 100000 + 1 MiB = 1,848,576 bytes
BIG_MEMBER = 2_500_000


# Members of shard 00000 re-encoded losslessly from their JPEG's pixels (index: format).
RECODED = {0: "png", 1: "webp"}


def recode(src, folder, fmt):
    """A lossless PNG or WebP of the JPEG at src, written to folder; its path."""
    path = os.path.join(folder, os.path.splitext(os.path.basename(src))[0] + "." + fmt)
    with Image.open(src) as im:
        rgb = im.convert("RGB")
    rgb.save(path, lossless=True)  # PNG is always lossless; WebP is when asked
    return path


def package_photos():
    out = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True)
    if out.returncode != 0:
        raise unittest.SkipTest(f"Debian package {PACKAGE} is not installed (jobs/setup.sh installs it)")
    return sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 1700000000
    tar.addfile(info, io.BytesIO(data))


def read_output(path):
    with h5py.File(path, "r") as f:
        out = {k: f["items"][k][:] for k in f["items"]}
        out["edges"] = {k: f["edges"][k][:] for k in ("src", "dst", "sim")}
        out["embeddings"] = f["embeddings"][:]
        if "shards" in f:
            out["shards"] = {k: f["shards"][k][:] for k in f["shards"]}
        status_enum = h5py.check_enum_dtype(f["items"]["status"].dtype)
        out["status_name"] = {v: k for k, v in status_enum.items()}
    return out


def text(col):
    return [x.decode() if isinstance(x, bytes) else x for x in col]


class ShardJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not features.check("webp"):
            raise unittest.SkipTest("python3-pil with WebP support is needed")
        photos = package_photos()
        cls.dir = dgtest.workdir("shards")
        listing = os.path.join(cls.dir, "photos.txt")
        with open(listing, "w") as f:
            f.write("".join(p + "\n" for p in photos[:6]))
        corpus = os.path.join(cls.dir, "corpus")
        subprocess.run([MKBENCH, "--photos", listing, "--out", corpus, "--seed", "5", "--max-originals", "4",
                        "--distractors", "2", "--size", "256"], check=True, capture_output=True)
        with open(os.path.join(corpus, "truth.csv")) as f:
            rel = sorted(r["path"] for r in csv.DictReader(f))
        cls.pack(corpus, rel)
        cls.out, cls.log = {}, {}
        pattern = os.path.join(cls.shard_dir, "*.tar")
        for np_ in RANKS:
            cls.out[np_], cls.log[np_] = cls.run_job(f"input.shards={pattern}", f"s{np_}.h5", np_)
        brace = os.path.join(cls.shard_dir, "{00000..00005}.tar")
        cls.brace_out, _ = cls.run_job(f"input.shards={brace}", "brace.h5", 2)
        cls.loose_out, _ = cls.run_job(f"input.manifest={cls.manifest}", "loose.h5", 2)

    @classmethod
    def pack(cls, corpus, rel):
        """Shards 00000..00003 of the photos (json before the jpg in odd shards), a big
        member and a non-image member in 00001, 00004 truncated inside its 4th image,
        00005 not a tar.  cls.expected: per item id (key, url, caption, loose path or
        None, expected status or None)."""
        cls.shard_dir = os.path.join(cls.dir, "shards")
        os.makedirs(cls.shard_dir)
        cls.expected = []
        recoded = os.path.join(cls.dir, "recoded")
        os.makedirs(recoded)
        cls.manifest = os.path.join(cls.dir, "loose.txt")
        chunks = [rel[0:30], rel[30:52], rel[52:90], rel[90:]]
        for s, chunk in enumerate(chunks):
            with tarfile.open(os.path.join(cls.shard_dir, f"{s:05d}.tar"), "w", format=tarfile.GNU_FORMAT) as tar:
                for j, path in enumerate(chunk):
                    key = f"{s:05d}{j:04d}"
                    fmt = RECODED.get(j, "jpg") if s == 0 else "jpg"
                    source = os.path.join(corpus, path)
                    if fmt != "jpg":
                        source = recode(source, recoded, fmt)
                    with open(source, "rb") as f:
                        data = f.read()
                    meta = {"url": f"https://example.org/{path}", "caption": f"photo {path} \u00e9",
                            "key": key, "status": "success"}
                    sidecar = json.dumps(meta).encode()
                    if s % 2:
                        add(tar, key + ".json", sidecar)
                    add(tar, key + "." + fmt, data)
                    if not s % 2:
                        add(tar, key + ".json", sidecar)
                    add(tar, key + ".txt", meta["caption"].encode())
                    cls.expected.append((key, meta["url"], meta["caption"], source, None))
                    if s == 1 and j == 5:
                        add(tar, "big0001.jpg", os.urandom(BIG_MEMBER))
                        add(tar, "readme.md", b"not an image\n")
                        cls.expected.append(("big0001", "", "", None, "too_large"))
        # truncated: three photos, then the 4th cut in the middle of its data
        trunc = os.path.join(cls.shard_dir, "00004.tar")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for j, path in enumerate(rel[:4]):
                with open(os.path.join(corpus, path), "rb") as f:
                    add(tar, f"t{j:03d}.jpg", f.read())
        whole = buf.getvalue()
        last_size = os.path.getsize(os.path.join(corpus, rel[3]))
        # the 4th member's header starts with its name; its data follow 512 bytes on: keep half
        start4 = whole.find(b"t003.jpg")
        assert start4 > 0
        cut = start4 + 512 + last_size // 2
        with open(trunc, "wb") as f:
            f.write(whole[:cut])
        for j in range(3):
            cls.expected.append((f"t{j:03d}", "", "", os.path.join(corpus, rel[j]), None))
        cls.expected.append(("t003", "", "", None, "corrupt"))
        with open(os.path.join(cls.shard_dir, "00005.tar"), "w") as f:
            f.write("this is not a tar archive\n" * 40)
        # the loose twin: the same photos in id order; items without a photo are missing files
        with open(cls.manifest, "w") as f:
            for key, _, _, path, _ in cls.expected:
                f.write((path or os.path.join(cls.dir, "absent", key + ".jpg")) + "\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def run_job(cls, input_set, name, ranks, extra=("--set", "job.resume=false"), check=True):
        out = os.path.join(cls.dir, name)
        proc = dgtest.dupgraph(["run", "-c", CONFIG, "-o", out, "--set", input_set, *extra,
                                "--set", "output.embeddings=float32", "--set", f"embed.max_pixels={MAX_PIXELS}"],
                               ranks=ranks, timeout=600, check=check)
        return (read_output(out) if check else None), proc.stdout + proc.stderr

    def statuses(self, out):
        return [out["status_name"][int(s)] for s in out["status"]]

    def test_every_image_member_is_an_item_with_its_status(self):
        out = self.out[1]
        self.assertEqual(len(out["status"]), len(self.expected))
        st = self.statuses(out)
        for i, (key, _, _, path, want) in enumerate(self.expected):
            if want:
                self.assertEqual(st[i], want, key)
            else:
                self.assertIn(st[i], ("ok", "ok_with_warning"), key)

    def test_same_results_for_1_2_4_ranks_and_the_brace_pattern(self):
        ref = self.out[1]
        for other in [self.out[2], self.out[4], self.brace_out]:
            for col in ("status", "component", "keep", "shard", "key", "url", "caption", "path", "embeddings"):
                np.testing.assert_array_equal(ref[col], other[col], err_msg=col)
            for col in ("src", "dst", "sim"):
                np.testing.assert_array_equal(ref["edges"][col], other["edges"][col])
        self.assertGreater(len(ref["edges"]["src"]), 50)

    def test_same_graph_as_the_loose_files(self):
        sh, loose = self.out[2], self.loose_out
        usable = np.isin(sh["status"], [0, 1])
        np.testing.assert_array_equal(usable, np.isin(loose["status"], [0, 1]))
        np.testing.assert_array_equal(sh["embeddings"][usable], loose["embeddings"][usable])
        for col in ("src", "dst", "sim"):
            np.testing.assert_array_equal(sh["edges"][col], loose["edges"][col])
        np.testing.assert_array_equal(sh["component"], loose["component"])
        np.testing.assert_array_equal(sh["keep"], loose["keep"])

    def test_metadata_columns(self):
        out = self.out[4]
        paths = text(out["shards"]["path"])
        self.assertEqual([os.path.basename(p) for p in paths], [f"{s:05d}.tar" for s in range(6)])
        names = self.out[4]["status_name"]
        self.assertEqual([names[int(s)] for s in out["shards"]["status"]],
                         ["ok", "ok", "ok", "ok", "corrupt", "unsupported"])
        keys, urls, caps, items_path = text(out["key"]), text(out["url"]), text(out["caption"]), text(out["path"])
        for i, (key, url, caption, _, _) in enumerate(self.expected):
            self.assertEqual(keys[i], key)
            self.assertEqual(urls[i], url)
            self.assertEqual(caps[i], caption)
            shard = paths[out["shard"][i]]
            self.assertTrue(items_path[i].startswith(shard + ":"), items_path[i])
        self.assertTrue(items_path[0].endswith(":000000000.png"))
        self.assertTrue(items_path[1].endswith(":000000001.webp"))
        # the notebook's reader gives them as text too
        items = frame.load(os.path.join(self.dir, "s4.h5")).items
        self.assertEqual(list(items["key"]), keys)
        self.assertEqual(list(items["caption"]), caps)

    def test_bad_shards_and_members_are_logged(self):
        log = self.log[2]
        self.assertIn("00005.tar: unsupported", log)
        self.assertIn("00004.tar: corrupt", log)
        self.assertIn("big0001.jpg: too_large", log)
        self.assertIn("t003.jpg: corrupt", log)
        # members not items: 4 shards' .json and .txt plus readme.md
        n_photos = sum(1 for e in self.expected if e[3])
        self.assertIn(f"{2 * (n_photos - 3) + 1} other members not items", log)

    def test_remove_keys_lists_the_removed_items_per_shard(self):
        h5 = os.path.join(self.dir, "s2.h5")
        keys_dir = os.path.join(self.dir, "keys")
        dgtest.dupgraph(["export", h5, "--remove-keys", keys_dir])
        out = self.out[2]
        paths = text(out["shards"]["path"])
        removed = {os.path.basename(p)[:-4] + ".txt": [] for p in paths}
        for i, key in enumerate(text(out["key"])):
            if out["status"][i] in (0, 1) and not out["keep"][i]:
                removed[os.path.basename(paths[out["shard"][i]])[:-4] + ".txt"].append(key)
        self.assertEqual(sorted(os.listdir(keys_dir)), sorted(removed))
        self.assertGreater(sum(len(v) for v in removed.values()), 20)
        for name, want in removed.items():
            with open(os.path.join(keys_dir, name)) as f:
                self.assertEqual(f.read(), "".join(k + "\n" for k in sorted(want)), name)
        self.assertEqual(os.path.getsize(os.path.join(keys_dir, "00005.txt")), 0)

    def test_report_shows_thumbnails_of_shard_members(self):
        h5 = os.path.join(self.dir, "s2.h5")
        report = os.path.join(self.dir, "report")
        proc = dgtest.dupgraph(["report", h5, "-o", report])
        self.assertNotIn("without a preview", proc.stdout)
        with open(os.path.join(report, "index.html")) as f:
            html = f.read()
        self.assertNotIn("no preview", html)
        refs = set(re.findall(r'<img src="thumbs/(\d+)\.jpg"', html))
        self.assertGreater(len(refs), 20)
        # the PNG and WebP members (ids 0 and 1) are in their photo's group, shown first by id
        self.assertLessEqual({"0", "1"}, refs)
        for ref in refs:
            with Image.open(os.path.join(report, "thumbs", ref + ".jpg")) as im:
                self.assertEqual(im.format, "JPEG")
                self.assertLessEqual(max(im.size), 160)
                self.assertGreater(np.asarray(im.convert("L")).std(), 5.0, ref)

    def test_resumed_run_keeps_the_metadata(self):
        pattern = os.path.join(self.shard_dir, "*.tar")
        _, log = self.run_job(f"input.shards={pattern}", "resume.h5", 4, ("--set", "job.stop_after=embed"),
                              check=False)
        self.assertIn("stopped", log)
        again, log = self.run_job(f"input.shards={pattern}", "resume.h5", 2, ("--set", "job.resume=true"))
        self.assertIn("reusing checkpoint: embed stage", log)
        for col in ("key", "url", "caption", "path", "shard", "status", "component", "keep"):
            np.testing.assert_array_equal(self.out[1][col], again[col], err_msg=col)


if __name__ == "__main__":
    dgtest.main()
