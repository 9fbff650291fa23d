#!/usr/bin/python3
"""Hostile input through the whole job under mpirun with 1, 2 and 4 ranks, and
the accounting that must hold whatever comes in: items in = items ok + items
failed, no item lost or counted twice.

Image input: a manifest mixing good JPEGs (baseline, progressive, arithmetic,
grayscale, a near-copy, one listed twice, one with a non-UTF-8 name) with
every bad-input class the project knows: bad JPEGs of every decode status
(empty, corrupt, not_image, unsupported, too_large, ok_with_warning), a folder,
a FIFO, a symbolic-link loop, /dev/zero through a link, /dev/null, a socket,
a dangling link, a missing file, a path through a file and a 300 MB sparse
file.  Checked for each rank count: the job ends (no entry can make it hang),
/items/path is the manifest's entries in order, /items/id is 0..N-1, n_items
equals the manifest's entries, every entry has its expected status, n_failed
is the number of unusable items, each unusable item has exactly one log line,
and statuses, paths and components are identical for 1, 2 and 4 ranks; the
report on the result does not wait on an image replaced by a FIFO.  input.dir
on the same folder lists exactly the JPEG-named regular files (and links to
them) once each and never descends into a link loop, and a folder nested
deeper than the stack would allow a recursive walk is listed.

Embedding input: rows with NaN, +-Inf, all zeros, huge and tiny values, in
float32 and float16, contiguous or chunked by single rows or oddly: bad rows
are bad_vector and counted, good ones are searched, chunking changes nothing; a dataset claiming 2^40 rows stops the job with a clear error
before any work, and no output file; input and output paths longer than an
INI line and than 256 bytes run, and the report reads their config attribute.
"""
import os
import shutil
import socket
import subprocess
import sys
import unittest

import h5py
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

STATUS = {name: i for i, name in enumerate(["ok", "ok_with_warning", "missing", "unreadable", "empty", "corrupt",
                                             "not_image", "unsupported", "too_large", "bad_vector"])}
RANKS = (1, 2, 4)
PHOTO_PACKAGE = "lomiri-wallpapers-16.04"  # real photographs (jobs/setup.sh installs it)
TIMEOUT = 300


def ppm(w, h, seed):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    img = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))[:h, :w]
    return b"P6 %d %d 255\n" % (w, h) + img.tobytes()


def photo_ppm(w, h):
    """A real photograph from PHOTO_PACKAGE, resized, as PPM bytes: the near
    copy must be a copy of a photo, not of random blocks, whose re-encode at
    quality 60 is not a near copy for any descriptor."""
    out = subprocess.run(["dpkg", "-L", PHOTO_PACKAGE], capture_output=True, text=True)
    if out.returncode != 0:
        raise unittest.SkipTest(f"Debian package {PHOTO_PACKAGE} is not installed (jobs/setup.sh installs it)")
    path = sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))[0]
    img = Image.open(path).convert("RGB").resize((w, h), Image.LANCZOS)
    return b"P6 %d %d 255\n" % (w, h) + img.tobytes()


def cjpeg(data, *opts):
    return subprocess.run(["cjpeg", *opts], input=data, capture_output=True, check=True).stdout


def sof_offset(data):
    """Offset of the first SOFn marker (its 0xFF byte)."""
    i = 2
    while i + 4 <= len(data):
        marker, seglen = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return i
        i += 2 + seglen
    raise AssertionError("no SOF marker")


def patched(data, at, new):
    return data[:at] + bytes(new) + data[at + len(new):]


def good_files():
    """name -> JPEG bytes of usable images (all 'ok')."""
    files = {f"good{i}.jpg": cjpeg(ppm(96, 72, i), "-quality", "85") for i in range(1, 10)}
    files["good0.jpg"] = cjpeg(photo_ppm(96, 72), "-quality", "85")
    files["near_copy_of_good0.jpg"] = cjpeg(photo_ppm(96, 72), "-quality", "60")
    files["progressive.jpg"] = cjpeg(ppm(80, 80, 20), "-progressive")
    files["arithmetic.jpg"] = cjpeg(ppm(80, 80, 21), "-arithmetic")
    files["grayscale.jpg"] = cjpeg(ppm(64, 64, 22), "-grayscale")
    return files


def bad_jpegs(good):
    """name -> (bytes, expected status) for damaged JPEGs of every decode status."""
    sof = sof_offset(good)
    rng = np.random.default_rng(5)
    return {
        "empty.jpg": (b"", "empty"),
        "text.jpg": (b"not a JPEG at all\n", "not_image"),
        "png_bytes.jpg": (b"\x89PNG\r\n\x1a\n" + bytes(64), "corrupt"),
        "random.jpg": (b"\x17" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(), "not_image"),
        "soi_then_garbage.jpg": (b"\xff\xd8" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(), "corrupt"),
        "truncated_half.jpg": (good[:len(good) // 2], "corrupt"),
        "no_eoi.jpg": (good[:-2], "ok_with_warning"),
        "twelve_bit.jpg": (patched(good, sof + 4, [12]), "unsupported"),
        "lossless_sof3.jpg": (patched(good, sof, [0xFF, 0xC3]), "unsupported"),
        "hierarchical_sof5.jpg": (patched(good, sof, [0xFF, 0xC5]), "unsupported"),
        "two_components.jpg": (patched(good, sof + 9, [2]), "unsupported"),
        "frame_60000x60000.jpg": (patched(good, sof + 5, [0xEA, 0x60, 0xEA, 0x60]), "too_large"),
    }


def make_corpus(root):
    """Writes the corpus; returns [(manifest line, expected status)] in manifest order."""
    os.makedirs(os.path.join(root, "img"))
    os.makedirs(os.path.join(root, "bad"))
    good = good_files()
    entries = []
    for name, data in good.items():
        with open(os.path.join(root, "img", name), "wb") as f:
            f.write(data)
        entries.append((f"img/{name}", "ok"))
    latin1 = os.fsencode(os.path.join(root, "img")) + b"/caf\xe9.jpg"
    with open(latin1, "wb") as f:
        f.write(good["good1.jpg"])
    entries.append((b"img/caf\xe9.jpg", "ok"))
    entries.append(("img/good3.jpg", "ok"))  # listed twice: two items
    for name, (data, status) in bad_jpegs(good["good0.jpg"]).items():
        with open(os.path.join(root, "bad", name), "wb") as f:
            f.write(data)
        entries.append((f"bad/{name}", status))
    bad = os.path.join(root, "bad")
    os.makedirs(os.path.join(bad, "folder.jpg"))
    os.mkfifo(os.path.join(bad, "fifo.jpg"))
    os.symlink("loop_b.jpg", os.path.join(bad, "loop_a.jpg"))
    os.symlink("loop_a.jpg", os.path.join(bad, "loop_b.jpg"))
    os.symlink("/dev/zero", os.path.join(bad, "zero.jpg"))
    os.symlink("nowhere.jpg", os.path.join(bad, "dangling.jpg"))
    os.symlink(os.path.join(root, "img"), os.path.join(bad, "link_to_folder.jpg"))
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.path.join(bad, "socket.jpg"))
    sock.close()
    with open(os.path.join(bad, "sparse_300mb.jpg"), "wb") as f:
        f.write(good["good2.jpg"])
        f.truncate(300 << 20)
    entries += [
        ("bad/folder.jpg", "unreadable"), ("bad/fifo.jpg", "unreadable"), ("bad/loop_a.jpg", "unreadable"),
        ("bad/zero.jpg", "unreadable"), ("/dev/null", "unreadable"), ("bad/socket.jpg", "unreadable"),
        ("bad/link_to_folder.jpg", "unreadable"), ("bad/dangling.jpg", "missing"), ("bad/missing.jpg", "missing"),
        ("img/good0.jpg/inside.jpg", "missing"), ("bad/sparse_300mb.jpg", "too_large"),
    ]
    return entries


def interleave(entries):
    """Good and bad entries mixed, so that every rank's share holds both."""
    good = [e for e in entries if e[1] == "ok"]
    bad = [e for e in entries if e[1] != "ok"]
    out = []
    while good or bad:
        out += good[:1] + bad[:2]
        good, bad = good[1:], bad[2:]
    return out


def read_result(path):
    out = dgtest.output.read(path, items=("id", "path", "status", "component", "keep"))
    res = dict(out.items, attrs=out.attrs)
    res["path"] = [bytes(p) for p in res["path"]]
    return res


def run_job(workdir, name, sets, ranks):
    out = os.path.join(workdir, name)
    cfg = dgtest.write_config(os.path.join(workdir, "job.ini"),
                              "[pairs]\nthreshold = 0.9\n[job]\nresume = false\nprogress_seconds = 1\n")
    args = ["run", "-c", cfg, "-o", out]
    for s in sets:
        args += ["--set", s]
    proc = dgtest.dupgraph(args, ranks=ranks, timeout=TIMEOUT)
    return read_result(out), proc.stderr


class HostileImages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("hostile")
        cls.corpus = os.path.join(cls.dir, "corpus")
        cls.entries = interleave(make_corpus(cls.corpus))
        cls.manifest = os.path.join(cls.corpus, "manifest.txt")
        with open(cls.manifest, "wb") as f:
            f.write(b"# hostile corpus\r\n\r\n")
            for line, _ in cls.entries:
                f.write((os.fsencode(line) if isinstance(line, str) else line) + b"\r\n")
        cls.expected = []
        for line, status in cls.entries:
            raw = os.fsencode(line) if isinstance(line, str) else line
            path = raw if raw.startswith(b"/") else os.fsencode(cls.corpus) + b"/" + raw
            cls.expected.append((path, STATUS[status]))
        cls.out, cls.log = {}, {}
        for np_ in RANKS:
            cls.out[np_], cls.log[np_] = run_job(cls.dir, f"m{np_}.h5", [f"input.manifest={cls.manifest}"], np_)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["rm", "-rf", cls.dir], check=False)  # shutil.rmtree recurses too deep for deep/

    def test_items_in_equal_items_ok_plus_failed(self):
        n = len(self.expected)
        for np_ in RANKS:
            res = self.out[np_]
            attrs = res["attrs"]
            self.assertEqual(int(attrs["n_items"]), n, f"{np_} ranks")
            self.assertEqual(len(res["status"]), n)
            usable = int(np.isin(res["status"], [0, 1]).sum())
            self.assertEqual(usable + int(attrs["n_failed"]), n, f"{np_} ranks")
            self.assertEqual(int(attrs["ranks"]), np_)

    def test_no_item_lost_or_counted_twice(self):
        for np_ in RANKS:
            res = self.out[np_]
            self.assertTrue(np.array_equal(res["id"], np.arange(len(self.expected))), f"{np_} ranks")
            self.assertEqual(res["path"], [p for p, _ in self.expected], f"{np_} ranks")

    def test_every_entry_has_its_status(self):
        for np_ in RANKS:
            got = self.out[np_]["status"]
            for (path, want), st in zip(self.expected, got):
                self.assertEqual(int(st), want, f"{path!r} with {np_} ranks")

    def test_each_unusable_item_is_logged_once(self):
        for np_ in RANKS:
            lines = self.log[np_].encode(errors="surrogateescape").splitlines()
            for path, want in self.expected:
                if want in (STATUS["ok"], STATUS["ok_with_warning"]):
                    continue
                hits = [x for x in lines if path + b":" in x or path + b" " in x]
                self.assertEqual(len(hits), 1, f"{path!r} with {np_} ranks: {hits}")

    def test_same_result_for_1_2_4_ranks(self):
        ref = self.out[1]
        for np_ in RANKS[1:]:
            for key in ("status", "component", "keep"):
                self.assertTrue(np.array_equal(self.out[np_][key], ref[key]), f"{key} differs for {np_} ranks")
        comp = dict(zip(ref["path"], ref["component"]))
        img = os.fsencode(self.corpus) + b"/img/"
        self.assertEqual(comp[img + b"good0.jpg"], comp[img + b"near_copy_of_good0.jpg"], "near copy not found")

    def test_report_does_not_wait_on_a_fifo(self):
        """An image replaced by a FIFO after the run: the report shows no preview for it, and ends."""
        good0 = os.path.join(self.corpus, "img", "good0.jpg")
        os.rename(good0, good0 + ".bak")
        try:
            os.mkfifo(good0)
            proc = dgtest.dupgraph(["report", os.path.join(self.dir, "m2.h5"), "-o", os.path.join(self.dir, "rep")],
                                   timeout=60)
        finally:
            os.unlink(good0)
            os.rename(good0 + ".bak", good0)
        self.assertIn("without a preview", proc.stdout)
        self.assertIn("good0.jpg", proc.stdout)

    def test_input_dir_lists_regular_jpeg_files_once(self):
        res, _ = run_job(self.dir, "dir.h5", [f"input.dir={self.corpus}"], 2)
        want = []
        for root, dirs, files in os.walk(os.fsencode(self.corpus)):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
                p = os.path.join(root, name)
                if name.lower().endswith((b".jpg", b".jpeg", b".jpe", b".jfif")) and os.path.isfile(p):
                    want.append(p)
        self.assertEqual(res["path"], sorted(want))
        self.assertEqual(int(res["attrs"]["n_items"]), len(want))
        self.assertEqual(int(np.isin(res["status"], [0, 1]).sum()) + int(res["attrs"]["n_failed"]), len(want))

    def test_input_dir_deeper_than_a_recursive_walk_allows(self):
        root = os.path.join(self.dir, "deep")
        depth = (4000 - len(root)) // 2
        path = root
        os.mkdir(path)
        for _ in range(depth):
            path += "/a"
            os.mkdir(path)
        with open(os.path.join(root, "img.jpg"), "wb") as f:
            f.write(good_files()["good0.jpg"])
        with open(os.path.join(path, "deepest.jpg"), "wb") as f:
            f.write(good_files()["good1.jpg"])
        res, _ = run_job(self.dir, "deep.h5", [f"input.dir={root}"], 1)
        self.assertEqual(len(res["path"]), 2)
        self.assertEqual(list(res["status"]), [0, 0])


class HostileEmbeddings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = dgtest.workdir("hostile-emb")
        rng = np.random.default_rng(11)
        n, d = 400, 24
        x = rng.standard_normal((n, d))
        x[1] = x[0] + 1e-3  # a duplicate pair
        bad = {7: np.nan, 50: np.inf, 51: -np.inf, 120: 0.0, 233: np.nan, 399: 0.0}
        for row, value in bad.items():
            if value == 0.0:
                x[row] = 0.0
            else:
                x[row, row % d] = value
        x[300] *= 1e30  # huge but finite in float32: usable
        x[301] *= 1e-30  # tiny: usable
        cls.bad_rows = sorted(bad)
        cls.n = n
        cls.files = {}
        for dtype in ("float32", "float16"):
            path = os.path.join(cls.dir, f"{dtype}.h5")
            with np.errstate(over="ignore"):
                data = x.astype(dtype)
            if dtype == "float16":
                data[300] = x[0].astype(dtype)  # 1e30 overflows float16
                data[301] = x[2].astype(dtype)
            with h5py.File(path, "w") as f:
                f["embeddings"] = data
            cls.files[dtype] = path
        # the same float32 rows chunked by single rows (as appending writers do) and oddly
        for name, chunks in (("row_chunks", (1, d)), ("odd_chunks", (7, 5))):
            path = os.path.join(cls.dir, f"{name}.h5")
            with h5py.File(path, "w") as f:
                f.create_dataset("embeddings", data=x.astype("float32"), chunks=chunks)
            cls.files[name] = path
        cls.huge = os.path.join(cls.dir, "claims_2e40_rows.h5")
        with h5py.File(cls.huge, "w") as f:
            f.create_dataset("embeddings", shape=(1 << 40, 8), dtype="float32", chunks=(1024, 8))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_bad_rows_are_counted_for_1_2_4_ranks(self):
        first = {}
        for dtype, path in self.files.items():
            ref = None
            for np_ in RANKS:
                res, _ = run_job(self.dir, f"e{np_}.h5", [f"input.embeddings={path}"], np_)
                status = res["status"]
                self.assertEqual(int(res["attrs"]["n_items"]), self.n)
                self.assertTrue(np.array_equal(res["id"], np.arange(self.n)))
                self.assertEqual(list(np.flatnonzero(status == STATUS["bad_vector"])), self.bad_rows, dtype)
                self.assertEqual(int(res["attrs"]["n_failed"]), len(self.bad_rows))
                self.assertEqual(int((status == 0).sum()) + int(res["attrs"]["n_failed"]), self.n)
                self.assertEqual(res["component"][1], res["component"][0], "duplicate pair not found")
                if ref is None:
                    ref = first[dtype] = res
                for key in ("status", "component", "keep"):
                    self.assertTrue(np.array_equal(res[key], ref[key]), f"{dtype} {key} with {np_} ranks")
        for chunked in ("row_chunks", "odd_chunks"):
            for key in ("status", "component", "keep"):
                self.assertTrue(np.array_equal(first[chunked][key], first["float32"][key]), f"{chunked} {key}")

    def test_paths_longer_than_256_bytes_run_and_report(self):
        """Beyond an INI line (198) and Open MPI 4.1's MPI-IO name buffer (256)."""
        folder = os.path.join(self.dir, "d" * 120, "e" * 140)
        os.makedirs(folder)
        path = os.path.join(folder, "emb.h5")
        shutil.copy(self.files["float32"], path)
        res, _ = run_job(folder, "long.h5", [f"input.embeddings={path}"], 2)
        self.assertEqual(int(res["attrs"]["n_items"]), self.n)
        self.assertIn(path, res["attrs"]["config"])
        proc = dgtest.dupgraph(["report", os.path.join(folder, "long.h5"), "-o", os.path.join(self.dir, "rep")],
                               timeout=60)
        self.assertIn("index.html", proc.stdout)

    def test_absurd_row_count_is_a_clear_error(self):
        out = os.path.join(self.dir, "huge.h5")
        cfg = dgtest.write_config(os.path.join(self.dir, "huge.ini"), f"[input]\nembeddings = {self.huge}\n")
        proc = dgtest.dupgraph(["run", "-c", cfg, "-o", out], ranks=2, check=False, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, dgtest.EXIT["memory"], proc.stderr[-2000:])
        errors = [x for x in proc.stderr.splitlines() if x.startswith("dupgraph: error:")]
        self.assertEqual(len(errors), 1, proc.stderr[-2000:])
        self.assertIn("claims_2e40_rows.h5", errors[0])
        self.assertNotIn("AddressSanitizer", proc.stderr)
        self.assertFalse(os.path.exists(out) or os.path.exists(out + ".tmp"))


if __name__ == "__main__":
    dgtest.main()
