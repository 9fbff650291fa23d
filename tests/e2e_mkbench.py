#!/usr/bin/python3
"""End-to-end test of dg-mkbench on real photographs from the Debian package
lomiri-wallpapers-16.04: builds a small corpus from a folder that also holds
a smaller copy of one photo under a resolution name, a wallpaper-style
folder (one photo as images/WxH.jpg plus a screenshot) and a broken file,
then checks the manifest, that every file exists and decodes, that truth.csv
is consistent, that the duplicate-photo rule left the copies out, and that
the same seed gives the same bytes.  A second corpus with --transforms all
from a manifest that cuts one photo into tiles and one into a pan series
checks the web-copy transforms on real photos (sizes, letterbox bars, the
logo box, screenshot window, low-quality recompression, crops, combos), the
pieces' geometry (distinct groups, overlap at most a quarter) and that the
same seed gives the same bytes.

usage: e2e_mkbench.py PATH/TO/dg-mkbench
"""
import csv
import hashlib
import os
import subprocess
import sys
import tempfile

PACKAGE = "lomiri-wallpapers-16.04"
TRANSFORMS = ["resize", "jpeg", "crop", "hflip", "brightness", "contrast", "gamma",
              "saturation", "grayscale", "blur", "border", "rotate", "text"]
VARIANTS = {(t, s) for t in TRANSFORMS for s in ("mild", "strong")} - {("hflip", "strong")}


def fail(msg):
    print(f"e2e_mkbench: FAIL: {msg}")
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def package_photos():
    try:
        out = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        fail(f"Debian package {PACKAGE} is not installed (jobs/setup.sh installs it)")
    photos = sorted(p for p in out.stdout.split() if p.lower().endswith(".jpg"))
    check(len(photos) >= 4, f"{PACKAGE} ships only {len(photos)} JPEG files")
    return photos


def jpeg_info(path):
    """(width, height, components) from the SOF marker."""
    data = open(path, "rb").read()
    check(data[:2] == b"\xff\xd8", f"{path}: no JPEG SOI marker")
    i = 2
    while i + 4 <= len(data):
        check(data[i] == 0xFF, f"{path}: bad marker at {i}")
        marker, seglen = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h = int.from_bytes(data[i + 5:i + 7], "big")
            w = int.from_bytes(data[i + 7:i + 9], "big")
            return w, h, data[i + 9]
        i += 2 + seglen
    fail(f"{path}: no SOF marker")


def decodes(path):
    r = subprocess.run(["djpeg", "-outfile", os.devnull, path], capture_output=True)
    return r.returncode == 0 and not r.stderr


def make_photo_folder(root, photos):
    """Three real photos + a small copy of the first under a resolution name,
    a wallpaper folder holding the fourth photo twice, and a broken file."""
    os.makedirs(f"{root}/small")
    os.makedirs(f"{root}/Wall/contents/images")
    for p in photos[:3]:
        os.symlink(p, f"{root}/{os.path.basename(p)}")
    stem = os.path.basename(photos[0])[:-4]
    small = f"{root}/small/{stem}_800x600.jpg"
    subprocess.run(f"djpeg -scale 1/4 '{photos[0]}' | cjpeg -quality 85 > '{small}'",
                   shell=True, check=True)
    os.symlink(photos[3], f"{root}/Wall/contents/images/5000x3000.jpg")
    subprocess.run(f"djpeg -scale 1/8 '{photos[3]}' | cjpeg > '{root}/Wall/contents/screenshot.jpg'",
                   shell=True, check=True)
    with open(f"{root}/broken.jpg", "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + b"\x00" * 60)
    return small


def run_mkbench(exe, photos_dir, out, seed):
    r = subprocess.run([exe, "--photos", photos_dir, "--out", out, "--seed", str(seed),
                        "--distractors", "1", "--size", "320x320"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"dg-mkbench failed ({r.returncode}): {r.stderr}")
    check("broken.jpg" in r.stderr, "no warning about the broken file")
    return r


def read_corpus(out):
    manifest = open(f"{out}/manifest.txt").read().split("\n")
    check(manifest[-1] == "", "manifest does not end with a newline")
    manifest = manifest[:-1]
    with open(f"{out}/truth.csv", newline="") as f:
        header = f.readline().strip()
        rows = list(csv.DictReader(f, fieldnames=header.split(",")))
    check(header == "path,group,original,transform,strength,params", f"truth header: {header}")
    return manifest, rows


def check_files(out, manifest, rows):
    check([r["path"] for r in rows] == manifest, "truth.csv rows are not in manifest order")
    check(len(set(manifest)) == len(manifest), "duplicate paths in the manifest")
    check(manifest != sorted(manifest), "manifest order is not shuffled")
    for p in manifest:
        check(not os.path.isabs(p), f"absolute path in manifest: {p}")
        full = f"{out}/{p}"
        check(os.path.isfile(full), f"listed file missing: {p}")
        check(decodes(full), f"listed file does not decode cleanly: {p}")


def check_truth(out, rows, photos, small):
    by_group = {}
    for r in rows:
        by_group.setdefault(int(r["group"]), []).append(r)
    originals = [g for g, rs in by_group.items() if any(r["transform"] == "original" for r in rs)]
    distractors = [g for g, rs in by_group.items() if any(r["transform"] == "distractor" for r in rs)]
    # 4 distinct photos (3 loose + the wallpaper folder), 1 of them a distractor.
    check(len(originals) == 3 and len(distractors) == 1,
          f"{len(originals)} originals, {len(distractors)} distractors (want 3, 1)")
    check(len(rows) == 3 * (1 + len(VARIANTS)) + 1, f"{len(rows)} items, want {3 * 26 + 1}")
    used = {r["original"] for r in rows}
    check(small not in used and not any("screenshot" in u or "broken" in u for u in used),
          f"a duplicate or broken file was used: {sorted(used)}")
    check(len(used) == 4, f"{len(used)} source photos used, want 4")
    for g, rs in by_group.items():
        check(len({r["original"] for r in rs}) == 1, f"group {g} mixes source photos")
        check(all(r["path"].startswith(f"images/g{g:04d}/") for r in rs), f"group {g} paths")
        base = [r for r in rs if r["transform"] in ("original", "distractor")]
        check(len(base) == 1 and base[0]["strength"] == "none", f"group {g}: original row")
        w0, h0, _ = jpeg_info(f"{out}/{base[0]['path']}")
        check(max(w0, h0) == 320, f"group {g}: original is {w0}x{h0}, not fitted to 320")
        variants = [r for r in rs if r is not base[0]]
        if g in distractors:
            check(not variants, f"distractor group {g} has variants")
            continue
        check({(r["transform"], r["strength"]) for r in variants} == VARIANTS,
              f"group {g}: wrong set of variants")
        check(all(r["strength"] in ("mild", "strong") for r in variants), "bad strength value")
        for r in variants:
            check_variant(out, r, w0, h0)


def check_variant(out, r, w0, h0):
    w, h, comps = jpeg_info(f"{out}/{r['path']}")
    params = dict(kv.split("=", 1) for kv in r["params"].split(";") if kv)
    t, s = r["transform"], r["strength"]
    check(comps == (1 if (t, s) == ("grayscale", "strong") else 3), f"{r['path']}: {comps} components")
    if t == "resize":
        scale = float(params["scale"])
        check(abs(w - w0 * scale) <= 1 and abs(h - h0 * scale) <= 1, f"{r['path']}: {w}x{h}")
        check((0.7 <= scale <= 0.9) if s == "mild" else (0.3 <= scale <= 0.5), f"scale {scale}")
    elif t == "crop":
        removed = 1 - w * h / (w0 * h0)
        lo, hi = (0.05, 0.12) if s == "mild" else (0.15, 0.25)
        check(lo - 0.02 <= removed <= hi + 0.02, f"{r['path']}: removed {removed:.3f}")
    elif t == "rotate":
        deg = abs(float(params["degrees"]))
        check((2 <= deg <= 4) if s == "mild" else (6 <= deg <= 10), f"rotate {deg}")
        check(w < w0 and h < h0, f"{r['path']}: rotation not cropped ({w}x{h})")
    elif t == "border":
        check(h > h0 and (w > w0) == (s == "strong"), f"{r['path']}: border {w}x{h}")
    elif t == "jpeg":
        q = int(params["quality"])
        check((70 <= q <= 90) if s == "mild" else (15 <= q <= 30), f"quality {q}")
    else:
        check((w, h) == (w0, h0), f"{r['path']}: {t} changed the size to {w}x{h}")


def check_sources(out, small):
    text = open(f"{out}/sources.txt").read()
    check("same photo as" in text and small in text, "sources.txt does not list the small copy")
    check("screenshot.jpg" in text and "unreadable" in text, "sources.txt misses screenshot/broken")
    docs = open(f"{out}/transforms.txt").read()
    for t in TRANSFORMS:
        check(f"\n{t}\n" in docs, f"transforms.txt does not document {t}")


def digest(out, manifest):
    h = hashlib.sha256()
    for name in ["manifest.txt", "truth.csv"] + manifest:
        h.update(open(f"{out}/{name}", "rb").read())
    return h.hexdigest()


def check_usage_errors(exe, tmp):
    r = subprocess.run([exe, "--photos", tmp], capture_output=True, text=True)
    check(r.returncode == 2 and "--out" in r.stderr, f"missing --out: rc {r.returncode}")
    r = subprocess.run([exe, "--photos", f"{tmp}/nope", "--out", f"{tmp}/x"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "nope" in r.stderr, f"missing photos: rc {r.returncode}")


NEW = ["tint", "letterbox", "logo", "screenshot", "rotcrop", "offcrop", "lowq", "combo"]


def pixels(path):
    from PIL import Image  # python3-pil (jobs/setup.sh)
    import numpy as np
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def run_all(exe, manifest, out, seed):
    r = subprocess.run([exe, "--photos", manifest, "--out", out, "--seed", str(seed), "--size", "320x320",
                        "--transforms", "all"], capture_output=True, text=True)
    check(r.returncode == 0, f"dg-mkbench --transforms all failed ({r.returncode}): {r.stderr}")


def check_pieces(out, rows, photos):
    by_group = {}
    for r in rows:
        by_group.setdefault(int(r["group"]), []).append(r)
    check(len(by_group) == 4 + 3 + 1, f"{len(by_group)} groups, want 4 tiles + 3 pan crops + 1 whole")
    per_group = 1 + 2 * (len(TRANSFORMS) + len(NEW)) - 1
    check(all(len(rs) == per_group for rs in by_group.values()), f"a group does not have {per_group} items")
    boxes = {}
    for g, rs in by_group.items():
        o = next(r for r in rs if r["transform"] == "original")
        params = dict(kv.split("=", 1) for kv in o["params"].split(";"))
        if "box" in params:
            boxes[g] = (o["original"], [float(v) for v in params["box"].split(":")], params["piece"])
    check(sum(b[2].startswith("tile") for b in boxes.values()) == 4, "not 4 tiles")
    check(sum(b[2].startswith("pan") for b in boxes.values()) == 3, "not 3 pan crops")
    for a in boxes:
        for b in boxes:
            (pa, ba, _), (pb, bb, _) = boxes[a], boxes[b]
            if a >= b or pa != pb:
                continue
            w = max(0.0, min(ba[2], bb[2]) - max(ba[0], bb[0]))
            h = max(0.0, min(ba[3], bb[3]) - max(ba[1], bb[1]))
            smaller = min((ba[2] - ba[0]) * (ba[3] - ba[1]), (bb[2] - bb[0]) * (bb[3] - bb[1]))
            check(w * h <= 0.25 * smaller + 1e-9, f"pieces {a} and {b} share {w * h / smaller:.2f} of their area")
    for g, rs in by_group.items():
        o = next(r for r in rs if r["transform"] == "original")
        w0, h0, _ = jpeg_info(f"{out}/{o['path']}")
        check(max(w0, h0) == 320, f"group {g}: original {w0}x{h0} not fitted to 320")
        for r in rs:
            if r["transform"] in NEW:
                check_new_variant(out, r, o, w0, h0)


def check_new_variant(out, r, orig_row, w0, h0):
    import numpy as np
    path = f"{out}/{r['path']}"
    w, h, comps = jpeg_info(path)
    params = dict(kv.split("=", 1) for kv in r["params"].split(";") if kv)
    t, s = r["transform"], r["strength"]
    check(decodes(path), f"{path} does not decode cleanly")
    if t == "letterbox":
        aspect = float(params["aspect"])
        check(abs(w / h - aspect) < 0.02 and max(w, h) == max(w0, h0), f"{path}: canvas {w}x{h}, aspect {aspect}")
        px = pixels(path)
        if s == "mild":  # solid bars: the first and last rows (or columns) are one colour
            edge = np.concatenate([px[0], px[-1]]) if w0 / h0 > aspect else np.concatenate([px[:, 0], px[:, -1]])
            check(np.ptp(edge, axis=0).max() <= 12, f"{path}: no solid bars (spread {np.ptp(edge, axis=0).max()})")
    elif t == "logo":
        check((w, h) == (w0, h0), f"{path}: logo changed the size")
        diff = pixels(path) - pixels(f"{out}/{orig_row['path']}")
        area = float(params["area"])
        if s == "mild":  # opaque: the pixels that changed a lot span a box of about that area
            ys, xs = np.nonzero(np.abs(diff).max(axis=2) > 40)
            check(len(ys) > 0, f"{path}: no logo drawn")
            box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1) / (w * h)
            check(0.5 * area < box < 1.5 * area, f"{path}: changed box {box:.3f} of the image, logo area {area}")
        else:  # translucent white box around (0.35 + 0.3 x, 0.35 + 0.3 y): brighter inside, unchanged outside
            bh = (area * w * h / 3.5) ** 0.5
            bw = area * w * h / bh
            cx, cy = (0.35 + 0.3 * float(params["x"])) * w, (0.35 + 0.3 * float(params["y"])) * h
            x0 = min(max(round(cx - bw / 2), 0), w - round(bw))  # kept inside the image, as compose.c does
            y0 = min(max(round(cy - bh / 2), 0), h - round(bh))
            inside = np.zeros((h, w), bool)
            inside[y0 + 2:y0 + round(bh) - 2, x0 + 2:x0 + round(bw) - 2] = True
            check(diff[inside].mean() > 8, f"{path}: the watermark box is not brighter ({diff[inside].mean():.1f})")
            check(np.abs(diff[~inside]).mean() < 4, f"{path}: pixels outside the box changed")
    elif t == "screenshot":
        check(w == max(w0, h0) and h == w * 10 // 16, f"{path}: window {w}x{h}")
    elif t == "lowq":
        q, scale = int(params["quality"]), float(params["scale"])
        check((25 <= q <= 30) if s == "mild" else (15 <= q <= 22), f"{path}: quality {q}")
        check(abs(w - w0 * scale) <= 1 and abs(h - h0 * scale) <= 1, f"{path}: {w}x{h} at scale {scale}")
    elif t == "offcrop":
        removed = 1 - w * h / (w0 * h0)
        lo, hi = (0.10, 0.20) if s == "mild" else (0.20, 0.30)
        check(lo - 0.02 <= removed <= hi + 0.02, f"{path}: removed {removed:.3f}")
    elif t == "rotcrop":
        check(w < w0 and h < h0, f"{path}: not cropped ({w}x{h})")
    elif t == "combo":
        check(params.get("parts", "").count("+") == 1, f"{path}: combo parts {params.get('parts')}")
    elif t == "tint":
        check((w, h) == (w0, h0), f"{path}: tint changed the size")


def check_all_transforms(exe, photos, tmp):
    manifest = f"{tmp}/cuts.txt"
    with open(manifest, "w") as f:
        f.write(f"{photos[0]}\tcut=tiles:2x2\n{photos[1]}\tcut=pan:3\n{photos[2]}\n")
    run_all(exe, manifest, f"{tmp}/all1", 3)
    manifest_1, rows = read_corpus(f"{tmp}/all1")
    check_files(f"{tmp}/all1", manifest_1, rows)
    check_pieces(f"{tmp}/all1", rows, photos)
    run_all(exe, manifest, f"{tmp}/all2", 3)
    check(digest(f"{tmp}/all1", manifest_1) == digest(f"{tmp}/all2", manifest_1),
          "--transforms all: same seed gave different output")
    docs = open(f"{tmp}/all1/transforms.txt").read()
    for t in NEW:
        check(f"\n{t}\n" in docs, f"transforms.txt does not document {t}")
    with open(manifest, "a") as f:
        f.write(f"{photos[3]}\tcut=tiles:9x9\n")
    r = subprocess.run([exe, "--photos", manifest, "--out", f"{tmp}/bad"], capture_output=True, text=True)
    check(r.returncode == 1 and "tiles:9x9" in r.stderr, f"a bad cut was accepted: rc {r.returncode}")
    r = subprocess.run([exe, "--photos", manifest, "--out", f"{tmp}/bad", "--transforms", "crop,nope"],
                       capture_output=True, text=True)
    check(r.returncode == 2 and "nope" in r.stderr, f"an unknown transform was accepted: rc {r.returncode}")
    return len(manifest_1)


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DG_MKBENCH", "build/dg-mkbench")
    photos = package_photos()
    with tempfile.TemporaryDirectory() as tmp:
        src = f"{tmp}/photos"
        small = make_photo_folder(src, photos)
        run_mkbench(exe, src, f"{tmp}/a", 5)
        manifest, rows = read_corpus(f"{tmp}/a")
        check_files(f"{tmp}/a", manifest, rows)
        check_truth(f"{tmp}/a", rows, photos, small)
        check_sources(f"{tmp}/a", small)
        run_mkbench(exe, src, f"{tmp}/b", 5)
        check(digest(f"{tmp}/a", manifest) == digest(f"{tmp}/b", manifest),
              "same seed gave different output")
        run_mkbench(exe, src, f"{tmp}/c", 6)
        manifest_c, rows_c = read_corpus(f"{tmp}/c")
        check(sorted(manifest_c) == sorted(manifest) and manifest_c != manifest,
              "another seed should give the same files in another order")
        params_a = {r["path"]: r["params"] for r in rows}
        check(any(params_a[r["path"]] != r["params"] for r in rows_c), "seed ignored")
        check_usage_errors(exe, tmp)
        n_all = check_all_transforms(exe, photos, tmp)
    print(f"e2e_mkbench: {len(manifest)} items (classic) and {n_all} items (--transforms all, tiles, pan) "
          f"from {PACKAGE} checked")


if __name__ == "__main__":
    main()
