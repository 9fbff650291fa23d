#!/usr/bin/python3
"""The job's own decoder through python/dgtools/native.py (ctypes over
BUILD/libdupgraph.so, its structure layouts checked on loading) against
python3-pil on files with an EXIF orientation: a real photo of
lomiri-wallpapers-16.04 stored as a camera stores it for each of the 8
orientations, in JPEG, PNG and lossless WebP, decodes to exactly the pixels
of PIL's ImageOps.exif_transpose.  Plain build only (tests/meson.build): a
sanitized library cannot be loaded into python3."""
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dgtest  # noqa: E402
from dgtools import native  # noqa: E402

try:
    from PIL import Image, ImageOps
except ImportError:  # pragma: no cover
    Image = None


class NativeDecoder(unittest.TestCase):
    PHOTO = "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg"  # lomiri-wallpapers-16.04
    # what a camera stores for each EXIF orientation, from the upright picture (PIL's names)
    STORED = {1: None, 2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_90", 7: "TRANSVERSE", 8: "ROTATE_270"}

    # JPEG 4:4:4 (no chroma upsampling to differ), PNG (eXIf chunk), lossless WebP (EXIF chunk)
    FORMATS = (("jpg", {"quality": 95, "subsampling": 0}), ("png", {}), ("webp", {"lossless": True}))

    def test_exif_orientation_as_pil_shows_it(self):
        """Each orientation's sideways or mirrored file (odd sides) decodes to exactly the pixels
        python3-pil's ImageOps.exif_transpose gives, width and height as shown, in each format; the
        layout of the ctypes mirrors is checked on loading."""
        build = os.path.dirname(os.path.abspath(dgtest.DUPGRAPH))
        if Image is None or not os.path.exists(self.PHOTO):
            self.skipTest("python3-pil and lomiri-wallpapers-16.04 are needed (jobs/setup.sh installs them)")
        upright = Image.open(self.PHOTO).convert("RGB").resize((301, 203))
        with tempfile.TemporaryDirectory() as tmp, native.Decoder(build, min_side=1 << 20) as dec:
            for ext, options in self.FORMATS:
                for o, op in self.STORED.items():
                    stored = upright if op is None else upright.transpose(getattr(Image.Transpose, op))
                    exif = Image.Exif()
                    exif[0x0112] = o
                    path = os.path.join(tmp, f"o{o}.{ext}")
                    stored.save(path, exif=exif.tobytes(), **options)
                    self.assertEqual(Image.open(path).getexif().get(0x0112), o, f"{ext}: no orientation written")
                    want = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
                    res = dec.result(path)
                    self.assertEqual((res.width, res.height), (301, 203), f"{ext} orientation {o}")
                    np.testing.assert_array_equal(dec.decode(path), want, f"{ext} orientation {o}")


if __name__ == "__main__":
    dgtest.main()
