#!/usr/bin/python3
"""e2e_mobilenet: our C MobileNetV2 against the reference, TF.js.

dg-mobilenet decodes real photographs (the lomiri-wallpapers-16.04 package)
and writes the preprocessed input tensor, its 1792 pooled features and its 5
class probabilities.  tests/tfjs_reference.cjs runs the nsfwjs graph model
with @tensorflow/tfjs's pure-JS CPU backend (pinned, build/tfjs-ref) on the
identical input tensor, so the check isolates the network: cosine of the
features >= 0.999999 and the probabilities within 1e-5 for every image (the
README quotes these bounds; measured here: >= 0.9999999 and <= 1.2e-6).  Also:
our resize matches a numpy transcription of TF.js's resizeBilinear, the
weights file carries its provenance and licence, and a weights file whose
tensor has the wrong shape is refused.

Usage: e2e_mobilenet.py DG_MOBILENET"""
import glob
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

import dgtest

ROOT = dgtest.SOURCE_ROOT
WEIGHTS = os.environ.get("DG_MOBILENET_WEIGHTS", os.path.join(ROOT, "build", "mobilenet_v2.h5"))
MODEL_DIR = os.path.join(ROOT, "build", "nsfwjs", "mobilenet_v2_mid")
TFJS = os.path.join(ROOT, "build", "tfjs-ref")
PHOTOS = sorted(glob.glob("/usr/share/backgrounds/*_by_*.jpg"))[:8]
SIZE = 224


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, **dgtest.MPI_ENV), **kw)
    return proc


def check_provenance():
    with h5py.File(WEIGHTS, "r") as f:
        a = f.attrs
        assert a["package"] == "nsfwjs" and a["package_version"] == "4.4.0", dict(a)
        assert a["license"] == "MIT" and "MIT" in a["license_text"]
        assert "model.min.js" in a["source_sha256"]
        assert f["tensors/dense/kernel"].shape == (1792, 5)


def check_against_tfjs(tool, work):
    prefix = os.path.join(work, "c")
    proc = run([tool, "run", WEIGHTS, prefix, *PHOTOS])
    assert proc.returncode == 0, proc.stderr
    proc = run(["node", os.path.join(ROOT, "tests", "tfjs_reference.cjs"), TFJS, MODEL_DIR, prefix + ".input.f32",
                str(len(PHOTOS)), str(SIZE), os.path.join(work, "tfjs")])
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout.strip())
    n = len(PHOTOS)
    ours = np.fromfile(prefix + ".features.f32", np.float32).reshape(n, -1)
    ref = np.fromfile(os.path.join(work, "tfjs.features.f32"), np.float32).reshape(n, -1)
    assert ours.shape == (n, 1792) and ref.shape == ours.shape
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    p = np.fromfile(prefix + ".probs.f32", np.float32).reshape(n, 5)
    q = np.fromfile(os.path.join(work, "tfjs.probs.f32"), np.float32).reshape(n, 5)
    diff = np.abs(p - q).max(axis=1)
    for path, c, d in zip(PHOTOS, cos, diff):
        print(f"{os.path.basename(path)}: feature cosine {c:.7f}, max |dp| {d:.2e}")
    assert cos.min() >= 0.999999, cos
    assert diff.max() <= 1e-5, diff
    assert np.abs(p.sum(1) - 1).max() < 1e-5
    # not a degenerate pass: the photos differ from each other
    assert (ours @ ours.T / np.outer(np.linalg.norm(ours, axis=1), np.linalg.norm(ours, axis=1))).min() < 0.95
    return prefix


def resize_reference(rgb, size):
    """TF.js CPU resizeBilinear(x / 255, [size, size], alignCorners=true)."""
    h, w, _ = rgb.shape
    x = rgb.astype(np.float32) / np.float32(255)
    out = np.empty((size, size, 3), np.float32)
    ry, rx = (h - 1) / (size - 1), (w - 1) / (size - 1)
    for y in range(size):
        sy = ry * y
        y0, y1 = int(np.floor(sy)), min(h - 1, int(np.ceil(sy)))
        fy = sy - y0
        sx = rx * np.arange(size)
        x0 = np.floor(sx).astype(int)
        x1 = np.minimum(w - 1, np.ceil(sx).astype(int))
        fx = (sx - x0)[:, None]
        top = x[y0, x0].astype(np.float64) + (x[y0, x1].astype(np.float64) - x[y0, x0]) * fx
        bot = x[y1, x0].astype(np.float64) + (x[y1, x1].astype(np.float64) - x[y1, x0]) * fx
        out[y] = top + (bot - top) * fy
    return out


def check_preprocessing(tool, work):
    """Our resize against the transcription, on a smooth 4:4:4 JPEG written
    by PIL that both PIL and libjpeg-turbo decode at full scale (no side
    could shrink and stay >= 224)."""
    from PIL import Image
    yy, xx = np.mgrid[0:250, 0:300].astype(np.float64)
    rgb = np.stack([128 + 100 * np.sin(xx / 17), 128 + 100 * np.cos(yy / 23), (xx + yy) % 256], -1)
    rgb = np.clip(rgb, 0, 255).astype(np.uint8)
    path = os.path.join(work, "small.jpg")
    Image.fromarray(rgb).save(path, quality=100, subsampling=0)
    decoded = np.asarray(Image.open(path).convert("RGB"))
    prefix = os.path.join(work, "small")
    proc = run([tool, "run", WEIGHTS, prefix, path])
    assert proc.returncode == 0, proc.stderr
    ours = np.fromfile(prefix + ".input.f32", np.float32).reshape(SIZE, SIZE, 3)
    ref = resize_reference(decoded, SIZE)
    # libjpeg-turbo and PIL's libjpeg may round a few pixel values differently
    err = np.abs(ours - ref)
    print(f"preprocessing: max |diff| {err.max():.4f}, mean {err.mean():.2e}")
    assert err.mean() < 2e-3 and err.max() < 0.05


def check_bad_weights(tool, work):
    bad = os.path.join(work, "bad.h5")
    shutil.copy(WEIGHTS, bad)
    with h5py.File(bad, "r+") as f:
        name = "tensors/MobilenetV2/expanded_conv_3/project/Conv2D_weights"
        w = f[name][:]
        del f[name]
        f[name] = w[:, :, :-1, :]
    proc = run([tool, "run", bad, os.path.join(work, "bad"), PHOTOS[0]])
    assert proc.returncode != 0 and "shape" in proc.stderr, proc.stderr
    print("wrong tensor shape refused:", proc.stderr.strip().splitlines()[-1])


def main():
    tool = sys.argv[1]
    assert len(PHOTOS) >= 4, "lomiri-wallpapers-16.04 is not installed"
    assert os.path.exists(WEIGHTS), f"{WEIGHTS} missing: run jobs/setup_mobilenet.sh"
    work = dgtest.workdir("mobilenet")
    check_provenance()
    check_against_tfjs(tool, work)
    check_preprocessing(tool, work)
    check_bad_weights(tool, work)
    shutil.rmtree(work)
    print("e2e_mobilenet: OK")


if __name__ == "__main__":
    main()
