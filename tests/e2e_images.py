#!/usr/bin/python3
"""End-to-end test of image input under mpirun: a small real-photo corpus made
by dg-mkbench (6 originals x 26 files + 2 distractors from the Debian package
lomiri-wallpapers-16.04, fitted to 320 px) with bad files mixed into its
manifest (truncated, zero bytes, random bytes, a cut PNG, a GIF, text, a 60000 x 60000
frame header, 12-bit samples, a folder, a missing entry) runs with 1, 2 and 4
ranks and configs/demo.ini's settings (with a verifier budget small enough
to leave candidates out in this small corpus).  Checked: the job completes; every good
file is embedded (ok, or ok_with_warning for a file missing its last bytes)
and each bad file has its status and a log line; n_items is the manifest's
line count; the duplicate components match truth.csv (every mild variant with
its original, no component spans two photos); statuses, embeddings, edges and
components are bit-identical for 1, 2 and 4 ranks, and so is the number of
candidates the verifier's budget left out (at least one), and with the
search's candidate lists bounded by the budget (verify.max_held = 1, 1 and
4 ranks) the output is the same; input.dir on the same
folder lists the same image-named files (JPEG, PNG, WebP), sorted, with the same statuses and
the same duplicate groups.

usage: e2e_images.py PATH/TO/dg-mkbench
"""
import csv
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import unittest
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402
from dgtools import frame  # noqa: E402

PACKAGE = "lomiri-wallpapers-16.04"
MKBENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "dg-mkbench")
CONFIG = os.path.join(dgtest.SOURCE_ROOT, "configs", "demo.ini")
STATUS = dgtest.output.STATUS
RANKS = (1, 2, 4)
BUDGET = 15  # verify.max_candidates for these runs (see run_job)
IMAGE_NAME = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp")


def package_photos():
    out = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True)
    if out.returncode != 0:
        raise unittest.SkipTest(f"Debian package {PACKAGE} is not installed (jobs/setup.sh installs it)")
    return sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))


def sof_offset(data):
    """Offset of the SOFn marker's segment length (the byte after 0xFF 0xCn)."""
    i = 2
    while i + 4 <= len(data):
        marker, seglen = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return i + 2
        i += 2 + seglen
    raise AssertionError("no SOF marker")


def png_bytes():
    """A valid 2 x 2 RGB PNG."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + bytes([200, 30, 30] * 2) for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def make_bad_files(corpus, source_rel):
    """Writes corpus/bad/*; returns [(manifest line, expected status)].  source_rel is a
    corpus JPEG the damaged copies are made from."""
    with open(os.path.join(corpus, source_rel), "rb") as f:
        good = f.read()
    bad = os.path.join(corpus, "bad")
    os.makedirs(os.path.join(bad, "folder.jpg"))
    sof = sof_offset(good)
    huge = bytearray(good)
    huge[sof + 3:sof + 7] = struct.pack(">HH", 60000, 60000)
    twelve = bytearray(good)
    twelve[sof + 2] = 12
    rnd = random.Random(7)
    noise = bytes([0x17]) + bytes(rnd.randrange(256) for _ in range(4095))
    files = {
        "truncated_half.jpg": (good[:len(good) // 2], "corrupt"),
        "truncated_tail.jpg": (good[:-2], "ok_with_warning"),
        "empty.jpg": (b"", "empty"),
        "random.jpg": (noise, "not_image"),
        "png_cut.jpg": (png_bytes()[:40], "corrupt"),
        "gif.png": (b"GIF89a" + bytes(20), "unsupported"),
        "text.jpg": (b"this is not a JPEG file\n", "not_image"),
        "huge_header.jpg": (bytes(huge), "too_large"),
        "twelve_bit.jpg": (bytes(twelve), "unsupported"),
    }
    for name, (data, _) in files.items():
        write(os.path.join(bad, name), data)
    entries = [(f"bad/{name}", status) for name, (_, status) in files.items()]
    return entries + [("bad/folder.jpg", "unreadable"), ("bad/missing.jpg", "missing")]


def spread(lines, extra):
    """lines with the extra lines inserted at evenly spaced positions (every rank gets some)."""
    out = list(lines)
    step = max(1, len(out) // (len(extra) + 1))
    for k, line in enumerate(extra):
        out.insert((k + 1) * step + k, line)
    return out


def read_output(path):
    out = dgtest.output.read(path, items=("path", "status", "component", "keep"), embeddings=True)
    res = dict(out.items, src=out.src, dst=out.dst, sim=out.sim, emb=out.embeddings, attrs=out.attrs)
    res["path"] = [os.path.normpath(p) for p in out.paths()]
    with h5py.File(path, "r") as f:
        res["verify"] = f["edges/verify"][:]
    return res


def partition(paths, component, status):
    """The duplicate groups of usable items, as a set of frozensets of paths."""
    groups = {}
    for p, c, s in zip(paths, component, status):
        if dgtest.usable(s):
            groups.setdefault(int(c), set()).add(p)
    return {frozenset(g) for g in groups.values()}


class ImageJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        photos = package_photos()
        cls.dir = dgtest.workdir("images")
        listing = os.path.join(cls.dir, "photos.txt")
        with open(listing, "w") as f:
            f.write("".join(p + "\n" for p in photos[:8]))
        cls.corpus = os.path.join(cls.dir, "corpus")
        subprocess.run([MKBENCH, "--photos", listing, "--out", cls.corpus, "--seed", "3", "--max-originals", "6",
                        "--distractors", "2", "--size", "320"], check=True, capture_output=True)
        with open(os.path.join(cls.corpus, "truth.csv")) as f:
            rows = list(csv.DictReader(f))
        cls.truth = {os.path.normpath(os.path.join(cls.corpus, r["path"])): r for r in rows}
        source = next(r for r in rows if r["transform"] == "original")
        bad = make_bad_files(cls.corpus, source["path"])
        cls.expected = {os.path.normpath(os.path.join(cls.corpus, line)): status for line, status in bad}
        # a good file missing its last two bytes is still that photo
        cls.truth[os.path.normpath(os.path.join(cls.corpus, "bad/truncated_tail.jpg"))] = dict(
            source, transform="truncated_tail", strength="mild")
        with open(os.path.join(cls.corpus, "manifest.txt")) as f:
            lines = [line.rstrip("\n") for line in f]
        cls.manifest = os.path.join(cls.corpus, "manifest-with-bad.txt")
        with open(cls.manifest, "w") as f:
            f.write("".join(x + "\n" for x in spread(lines, [line for line, _ in bad])))
        cls.n_lines = len(lines) + len(bad)
        cls.out, cls.log = {}, {}
        for np_ in RANKS:
            cls.out[np_], cls.log[np_] = cls.run_job(f"input.manifest={cls.manifest}", f"m{np_}.h5", np_)
        cls.dir_out, _ = cls.run_job(f"input.dir={cls.corpus}", "dir.h5", 2)
        # the search's candidate lists bounded by the budget after every block (verify.max_held 1)
        cls.held = {np_: cls.run_job(f"input.manifest={cls.manifest}", f"held{np_}.h5", np_, ["verify.max_held=1"])
                    for np_ in (1, 4)}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def run_job(cls, input_set, name, ranks, more=()):
        out = os.path.join(cls.dir, name)
        # a group of 26 files gives an item about 25 candidates: a budget below that leaves some out,
        # whatever budget configs/demo.ini sets for real corpora
        sets = [input_set, "job.resume=false", "output.embeddings=float32", f"verify.max_candidates={BUDGET}", *more]
        proc = dgtest.dupgraph(["run", "-c", CONFIG, "-o", out] + [a for x in sets for a in ("--set", x)],
                               ranks=ranks, timeout=300)
        return read_output(out), proc.stdout + proc.stderr

    def test_job_counts_every_manifest_line(self):
        for np_ in RANKS:
            attrs = self.out[np_]["attrs"]
            self.assertEqual(int(attrs["n_items"]), self.n_lines)
            self.assertEqual(len(self.out[np_]["path"]), self.n_lines)
            self.assertEqual(int(attrs["ranks"]), np_)
            unusable = sum(1 for s in self.expected.values() if s not in ("ok", "ok_with_warning"))
            self.assertEqual(int(attrs["n_failed"]), unusable)

    def test_every_good_file_is_embedded(self):
        res = self.out[2]
        for p, s, v in zip(res["path"], res["status"], res["emb"]):
            if p in self.expected:
                continue
            self.assertIn(p, self.truth, p)
            self.assertEqual(s, STATUS["ok"], p)
            self.assertAlmostEqual(float(np.linalg.norm(v.astype(np.float64))), 1.0, places=5, msg=p)

    def test_each_bad_file_has_its_status_and_a_log_line(self):
        res = self.out[2]
        got = dict(zip(res["path"], res["status"]))
        for p, name in self.expected.items():
            self.assertEqual(got[p], STATUS[name], f"{p}: {name} expected")
            if name != "ok_with_warning":
                self.assertFalse(res["emb"][res["path"].index(p)].any(), f"{p}: an unusable row must be zero")
            lines = [x for x in self.log[2].splitlines() if p in x]
            self.assertTrue(any(name in x for x in lines), f"no log line for {p} ({name})")

    def test_duplicate_groups_match_truth(self):
        res = self.out[2]
        by_comp = {}
        for p, c, s in zip(res["path"], res["component"], res["status"]):
            if dgtest.usable(s):
                by_comp.setdefault(int(c), set()).add(self.truth[p]["group"])
        for comp, groups in by_comp.items():
            self.assertEqual(len(groups), 1, f"component {comp} mixes groups {sorted(groups)}")
        comp_of = dict(zip(res["path"], res["component"]))
        originals = {r["group"]: p for p, r in self.truth.items() if r["transform"] == "original"}
        self.assertEqual(len(originals), 6)
        n_mild = 0
        for p, r in self.truth.items():
            if r["strength"] == "mild":
                n_mild += 1
                self.assertEqual(comp_of[p], comp_of[originals[r["group"]]], f"{p} not with its original")
        self.assertGreaterEqual(n_mild, 6 * 13)
        # each original keeps exactly one item of its component
        keep = dict(zip(res["path"], res["keep"]))
        for g, orig in originals.items():
            members = [p for p in res["path"] if comp_of[p] == comp_of[orig]]
            self.assertEqual(sum(int(keep[p]) for p in members), 1, f"group {g}")

    def test_result_is_identical_for_1_2_4_ranks(self):
        ref = self.out[1]
        for np_ in RANKS[1:]:
            res = self.out[np_]
            self.assertEqual(res["path"], ref["path"])
            for key in ("status", "emb", "src", "dst", "sim", "component", "keep"):
                self.assertTrue(np.array_equal(res[key], ref[key]), f"{key} differs between 1 and {np_} ranks")
            # the verified edge list and its scores (NaN: accepted unverified)
            self.assertTrue(np.array_equal(res["verify"], ref["verify"], equal_nan=True),
                            f"verify differs between 1 and {np_} ranks")
            for a in ("n_candidates", "n_rejected"):
                self.assertEqual(int(res["attrs"][a]), int(ref["attrs"][a]), f"{a}: 1 and {np_} ranks")
        self.assertGreater(len(ref["src"]), 6 * 26 * 25 // 4, "too few edges to compare")
        self.assertEqual(int(ref["attrs"]["verify_enabled"]), 1)
        self.assertGreater(int(np.isfinite(ref["verify"]).sum()), 0, "no edge was verified")
        # the verifier's budget (verify.max_candidates) left pairs out, the same number for every rank count
        budget = {np_: re.search(r"verify: \d+ candidate pairs: \d+ accepted unverified \(sim >= [\d.]+\), (\d+) beyond "
                                 r"the budget of (\d+) per item", self.log[np_]) for np_ in RANKS}
        for np_, m in budget.items():
            self.assertIsNotNone(m, f"no budget line in the log of {np_} ranks")
        self.assertEqual(int(budget[1].group(2)), BUDGET, "the budget line names another budget")
        self.assertGreater(int(budget[1].group(1)), 0, "the budget left no pair out: its path is not tested")
        self.assertEqual({m.group(1) for m in budget.values()}, {budget[1].group(1)})

    def test_candidates_dropped_while_held_change_no_output(self):
        """verify.max_held = 1: every rank bounds its candidate list by the budget after every block of
        the search and every merge; the pairs it drops were beyond the budget anyway, so the graph, the
        verifier's scores and the pairs it rejected are those of the unbounded runs, for 1 and 4 ranks.
        One rank holds every candidate of a clustering after its de-duplication, so it drops pairs there
        (found again by the next clustering, they reach the verifier all the same)."""
        ref = self.out[1]
        dropped = {}
        for np_, (res, log) in self.held.items():
            for key in ("src", "dst", "sim", "component", "keep"):
                self.assertTrue(np.array_equal(res[key], ref[key]), f"{key} differs, {np_} ranks, verify.max_held = 1")
            self.assertTrue(np.array_equal(res["verify"], ref["verify"], equal_nan=True))
            self.assertEqual(int(res["attrs"]["n_rejected"]), int(ref["attrs"]["n_rejected"]))
            m = re.search(r"verify: (\d+) candidate pairs dropped while the search held them", log)
            self.assertIsNotNone(m, f"no line on the dropped candidates, {np_} ranks")
            dropped[np_] = int(m.group(1))
        self.assertGreater(dropped[1], 0, "nothing was dropped on 1 rank: the bound is not tested")
        default = re.search(r"verify: (\d+) candidate pairs dropped while the search held them", self.log[1])
        self.assertIsNotNone(default, "no line on the dropped candidates at the default verify.max_held")
        self.assertEqual(int(default.group(1)), 0, "the default verify.max_held bounds this small corpus")

    def test_edges_follow_the_run_rule_and_the_frame_counts_them(self):
        """configs/demo.ini's two ways in (verify.threshold with the detail check, verify.agree_above at
        verify.agree_threshold): every verified edge passes one of them, and the notebook frame's count
        at the run's own rule is the run's."""
        res, attrs = self.out[2], self.out[2]["attrs"]
        t, above, at = (float(attrs[k]) for k in ("verify_threshold", "verify_agree_above", "verify_agree_threshold"))
        self.assertLess(above, 1.0, "configs/demo.ini sets verify.agree_above")
        v, s = res["verify"], res["sim"]
        scored = np.isfinite(v)
        passes = (v >= np.float32(t)) | ((s >= np.float32(above)) & (v >= np.float32(at)))
        self.assertTrue(passes[scored].all(), "a verified edge passes neither way in")
        through_agreement = int((scored & (v < np.float32(t))).sum())
        print(f"      {int(scored.sum())} verified edges, {through_agreement} of them through verify.agree_above")
        out = frame.load(os.path.join(self.dir, "m2.h5"))
        self.assertEqual(out.verify_agree, (float(np.float32(above)), float(np.float32(at))))
        self.assertEqual(out.removed_at(verify=out.verify_threshold), int(attrs["n_removed"]))
        # the same file told that its run asked more (verify.threshold at the median verified score) and
        # agreed from the median similarity at any score: removed_at against a plain union-find
        told = os.path.join(self.dir, "m2-told.h5")
        shutil.copy(os.path.join(self.dir, "m2.h5"), told)
        rule = (float(np.median(v[scored])), float(np.median(s[scored])), 0.0)
        with h5py.File(told, "r+") as f:
            for key, value in zip(("verify_threshold", "verify_agree_above", "verify_agree_threshold"), rule):
                f.attrs[key] = np.float32(value)
        kept = ~scored | (v >= np.float32(rule[0])) | (s >= np.float32(rule[1]))
        self.assertTrue(0 < int((scored & ~kept).sum()) and int((scored & kept & (v < np.float32(rule[0]))).sum()) > 0)
        usable = dgtest.output.usable(res["status"])
        parent = list(range(len(usable)))

        def root(x):
            while parent[x] != x:
                x = parent[x]
            return x
        joins = 0
        for a, b in zip(res["src"][kept], res["dst"][kept]):
            ra, rb = root(int(a)), root(int(b))
            if ra != rb and usable[a] and usable[b]:
                parent[max(ra, rb)] = min(ra, rb)
                joins += 1
        self.assertEqual(frame.load(told).removed_at(verify=rule[0]), joins)

    def test_input_dir_lists_the_same_image_files_sorted(self):
        listed = []
        for root, dirs, files in os.walk(self.corpus):
            listed += [os.path.normpath(os.path.join(root, f)) for f in files if f.lower().endswith(IMAGE_NAME)]
        expected = sorted(listed, key=os.fsencode)
        res = self.dir_out
        self.assertEqual(res["path"], expected)
        by_manifest = self.out[2]
        from_manifest = {p for p in by_manifest["path"] if p.lower().endswith(IMAGE_NAME) and os.path.isfile(p)}
        self.assertEqual(set(res["path"]), from_manifest)
        status_m = dict(zip(by_manifest["path"], by_manifest["status"]))
        for p, s in zip(res["path"], res["status"]):
            self.assertEqual(s, status_m[p], p)
        self.assertEqual(partition(res["path"], res["component"], res["status"]),
                         partition(by_manifest["path"], by_manifest["component"], by_manifest["status"]))


if __name__ == "__main__":
    dgtest.main()
