"""Probe: would colour tell the held-out summer_1am crops apart?  8 x 8
chroma maps (PIL's YCbCr, box filter): per channel, the difference of the
means and the correlation of the maps, for the two pairs of neighbouring
crops and for copies of crop 1 under colour-changing transforms.  Reads
held-out images to explain a failure; chooses nothing."""
import os

import numpy as np
from PIL import Image

from probe_lib import ROOT

H = os.path.join(ROOT, "build-x/quality-heldout/corpus/images")


def chroma(path, n=8):
    a = np.asarray(Image.open(path).convert("YCbCr").resize((n, n), Image.BOX)).astype(float)
    return a[:, :, 1] - 128, a[:, :, 2] - 128


def compare(p, q):
    out = []
    for x, y in zip(chroma(p), chroma(q)):
        dx, dy = x.ravel() - x.mean(), y.ravel() - y.mean()
        out.append(f"mean shift {x.mean() - y.mean():6.1f} correlation {(dx @ dy) / np.sqrt((dx @ dx) * (dy @ dy)):.2f}")
    return "  Cb: " + out[0] + "  Cr: " + out[1]


print("crop 1 - crop 2", compare(f"{H}/g0083/original.jpg", f"{H}/g0084/original.jpg"))
print("crop 2 - crop 3", compare(f"{H}/g0084/original.jpg", f"{H}/g0085/original.jpg"))
for t in ("tint_strong", "saturation_strong", "contrast_strong", "jpeg_strong", "logo_strong"):
    print(f"crop 1 - its {t}", compare(f"{H}/g0083/original.jpg", f"{H}/g0083/{t}.jpg"))
