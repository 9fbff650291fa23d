#!/usr/bin/python3
"""Images of the installed Debian packages that are in neither split of the quality benchmark
(jobs/quality/scenes.tsv: no file of a listed scene's folder, no desktop-base art, no icons), cut as
the benchmark cuts its photos (whole, 2 x 2 tiles, 3 pans of 0.4 of the width) at 640 px, in colour
and in grayscale, saved as JPEG quality 90 into OUT: a check for content boxes a rule makes up on
photos nobody tuned on.
    unused_images.py OUT      # then: ls OUT/*.jpg > LIST; BUILD/overlay_probe LIST > BOXES
"""
import os
import sys

from PIL import Image

ROOTS = ["/usr/share/backgrounds", "/usr/share/wallpapers", "/usr/share/lxqt/wallpapers"]
HERE = os.path.dirname(os.path.abspath(__file__))
SCENES = os.path.join(HERE, "..", "..", "..", "jobs", "quality", "scenes.tsv")


def unused():
    used = [line.split("\t")[2] for line in open(SCENES) if not line.startswith("#") and line.count("\t") >= 5]
    folders = {p.split("/contents/")[0] for p in used if "/contents/" in p}
    out = []
    for root in ROOTS:
        for d, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                p = os.path.join(d, f)
                if not f.lower().endswith((".jpg", ".jpeg", ".png")) or p in used:
                    continue
                if any(p.startswith(folder + "/") for folder in folders):
                    continue
                out.append(p)
    return out


def main():
    dest = sys.argv[1]
    os.makedirs(dest, exist_ok=True)
    n = 0
    for i, p in enumerate(unused()):
        im = Image.open(p).convert("RGB")
        im.thumbnail((1280, 1280))
        W, H = im.size
        pieces = {"whole": im}
        for tx in range(2):
            for ty in range(2):
                pieces[f"tile{tx}{ty}"] = im.crop((tx * W // 2, ty * H // 2, (tx + 1) * W // 2, (ty + 1) * H // 2))
        for k in range(3):
            pieces[f"pan{k}"] = im.crop((int(0.3 * k * W), 0, int((0.3 * k + 0.4) * W), int(0.9 * H)))
        for name, piece in pieces.items():
            piece = piece.copy()
            piece.thumbnail((640, 640))
            piece.save(os.path.join(dest, f"{i:03d}_{name}.jpg"), quality=90)
            piece.convert("L").convert("RGB").save(os.path.join(dest, f"{i:03d}_{name}_gray.jpg"), quality=90)
            n += 2
    print(f"{n} images of {i + 1} unused files in {dest}")


if __name__ == "__main__":
    main()
