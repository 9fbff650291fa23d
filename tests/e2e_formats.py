#!/usr/bin/python3
"""End-to-end test of the image formats under mpirun: real photos of the Debian
package lomiri-wallpapers-16.04, fitted to 1024 px and saved as JPEG, each with
copies made here by python3-pil from the JPEG's decoded pixels: lossless PNG
(RGB, and RGBA with an opaque alpha channel), lossless WebP, lossy WebP, a
palette PNG, a lossless PNG named .jpg, an APNG, an animated WebP whose
first frame is the photo, and the JPEG's pixels stored sideways (turned 90
degrees anticlockwise) in a JPEG whose EXIF orientation (6) turns them back,
as a camera stores a portrait photo.  One manifest mixes them all; `dupgraph run` with
configs/demo.ini's settings runs on it with 1, 2 and 4 ranks.

Checked: every file is read by its content (ok; ok_with_warning for the two
animations, with a "first frame" log line); statuses, edges and components
are identical for 1, 2 and 4 ranks; every lossless copy is an edge of its JPEG
source with similarity >= MIN_SIM (0.98), and every copy is in its source's
component; no component spans two photos; the sideways copy is an edge of
its JPEG with similarity >= MIN_SIM_TURNED (a lossy copy).
"""
import os
import shutil
import subprocess
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402

try:
    from PIL import Image, features
except ImportError:  # pragma: no cover
    Image = None

PACKAGE = "lomiri-wallpapers-16.04"
CONFIG = os.path.join(dgtest.SOURCE_ROOT, "configs", "demo.ini")
STATUS = dgtest.output.STATUS
RANKS = (1, 2, 4)
N_PHOTOS = 5
LOSSLESS = ("png", "rgba_png", "webp_lossless", "png_named_jpg", "apng", "anim_webp")
ANIMATED = ("apng", "anim_webp")
# A lossless copy's pixels are the JPEG's at full size; the JPEG itself is
# decoded at 1/8 in the DCT domain, the copy reduced by area averages, so the
# descriptors differ slightly (measured: >= 0.998 on these photos with the
# corpus-only projection; >= 0.986 with the learned whitening, in whose space
# such differences, never shown by the tune split's copies, weigh more).
MIN_SIM = 0.98
# The sideways copy is re-encoded (quality 92): its pixels are the JPEG's up
# to that rounding once turned back (measured: 0.975 for one of these photos,
# above 0.9999 for the other four).
MIN_SIM_TURNED = 0.95
EXIF_ORIENTATION = 0x0112


def package_photos():
    out = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True)
    if out.returncode != 0:
        raise unittest.SkipTest(f"Debian package {PACKAGE} is not installed (jobs/setup.sh installs it)")
    return sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))


def make_copies(src, folder, stem):
    """Writes stem.jpg and its copies into folder; returns {kind: path}."""
    img = Image.open(src).convert("RGB")
    img.thumbnail((1024, 1024))  # the JPEG path then decodes at 1/8: 8 x 8 block means
    jpeg = os.path.join(folder, stem + ".jpg")
    img.save(jpeg, quality=92, subsampling=0)  # 4:4:4: no chroma upsampling to differ
    px = Image.open(jpeg).convert("RGB")  # the JPEG's decoded pixels
    inverted = Image.eval(px, lambda v: 255 - v)
    paths = {"jpeg": jpeg}

    def out(kind, name):
        paths[kind] = os.path.join(folder, f"{stem}_{name}")
        return paths[kind]

    px.save(out("png", "lossless.png"))
    rgba = px.copy()
    rgba.putalpha(255)
    rgba.save(out("rgba_png", "rgba.png"))
    px.save(out("webp_lossless", "lossless.webp"), lossless=True)
    px.save(out("webp_lossy", "lossy.webp"), quality=85)
    px.quantize(256).save(out("palette_png", "palette.png"))
    px.save(out("png_named_jpg", "really_png.jpg"), format="PNG")
    px.save(out("apng", "anim.png"), save_all=True, append_images=[inverted], duration=100)
    px.save(out("anim_webp", "anim.webp"), save_all=True, append_images=[inverted], duration=100, lossless=True)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored row 0 is shown as the right column: turn 90 degrees clockwise
    px.transpose(Image.Transpose.ROTATE_90).save(out("exif_turned", "sideways_exif6.jpg"), quality=92, subsampling=0,
                                                 exif=exif.tobytes())
    return paths


class Formats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if Image is None or not features.check("webp"):
            raise unittest.SkipTest("python3-pil with WebP support is needed")
        photos = package_photos()[:N_PHOTOS]
        cls.dir = dgtest.workdir("formats")
        cls.copies = [make_copies(p, cls.dir, f"photo{i}") for i, p in enumerate(photos)]
        manifest = os.path.join(cls.dir, "manifest.txt")
        lines = [c[kind] for kind in ("jpeg", *LOSSLESS, "webp_lossy", "palette_png", "exif_turned") for c in cls.copies]
        with open(manifest, "w") as f:
            f.write("".join(p + "\n" for p in lines))
        cls.out, cls.log = {}, {}
        for np_ in RANKS:
            path = os.path.join(cls.dir, f"m{np_}.h5")
            proc = dgtest.dupgraph(["run", "-c", CONFIG, "-o", path, "--set", f"input.manifest={manifest}",
                                    "--set", "job.resume=false"], ranks=np_, timeout=300)
            out = dgtest.output.read(path, items=("path", "status", "component"))
            cls.out[np_] = dict(out.items, src=out.src, dst=out.dst, sim=out.sim, path=out.paths())
            cls.log[np_] = proc.stdout + proc.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def index(self, res):
        return {p: i for i, p in enumerate(res["path"])}

    def test_every_file_is_read_by_its_content(self):
        res = self.out[1]
        status = dict(zip(res["path"], res["status"]))
        for c in self.copies:
            for kind, p in c.items():
                want = "ok_with_warning" if kind in ANIMATED else "ok"
                self.assertEqual(status[p], STATUS[want], f"{kind} {p}")
                if kind in ANIMATED:
                    self.assertTrue(any(p in x and "first frame" in x for x in self.log[1].splitlines()),
                                    f"no first-frame warning for {p}")

    def test_same_graph_for_1_2_4_ranks(self):
        ref = self.out[1]
        self.assertGreater(len(ref["src"]), 0)
        for np_ in RANKS[1:]:
            res = self.out[np_]
            self.assertEqual(res["path"], ref["path"])
            np.testing.assert_array_equal(res["status"], ref["status"])
            np.testing.assert_array_equal(res["src"], ref["src"])
            np.testing.assert_array_equal(res["dst"], ref["dst"])
            np.testing.assert_array_equal(res["sim"], ref["sim"])
            np.testing.assert_array_equal(res["component"], ref["component"])

    def test_lossless_copies_are_duplicates_of_their_jpeg(self):
        for np_ in RANKS:
            res = self.out[np_]
            idx = self.index(res)
            sim = {(int(a), int(b)): float(s) for a, b, s in zip(res["src"], res["dst"], res["sim"])}
            low = []
            for c in self.copies:
                j = idx[c["jpeg"]]
                for kind in LOSSLESS:
                    k = idx[c[kind]]
                    s = sim.get((min(j, k), max(j, k)))
                    self.assertIsNotNone(s, f"{kind} copy {c[kind]} is no edge of its JPEG ({np_} ranks)")
                    if s < MIN_SIM:
                        low.append(f"{kind} copy {c[kind]}: {s:.5f}")
            self.assertEqual(low, [], f"lossless copies below similarity {MIN_SIM} ({np_} ranks)")

    def test_exif_turned_copy_is_a_duplicate_of_its_jpeg(self):
        for np_ in RANKS:
            res = self.out[np_]
            idx = self.index(res)
            sim = {(int(a), int(b)): float(s) for a, b, s in zip(res["src"], res["dst"], res["sim"])}
            for c in self.copies:
                j, k = idx[c["jpeg"]], idx[c["exif_turned"]]
                s = sim.get((min(j, k), max(j, k)))
                self.assertIsNotNone(s, f"sideways copy {c['exif_turned']} is no edge of its JPEG ({np_} ranks)")
                self.assertGreaterEqual(s, MIN_SIM_TURNED, c["exif_turned"])

    def test_components_are_the_photos(self):
        res = self.out[2]
        comp = dict(zip(res["path"], res["component"]))
        photo_of = {}
        for i, c in enumerate(self.copies):
            for p in c.values():
                self.assertEqual(comp[p], comp[c["jpeg"]], f"{p} not with its JPEG")
                photo_of.setdefault(int(comp[p]), set()).add(i)
        for members in photo_of.values():
            self.assertEqual(len(members), 1, f"a component spans photos {sorted(members)}")


if __name__ == "__main__":
    dgtest.main()
