#!/usr/bin/python3
"""How often a logo strong copy's content box is the logo box, or a band through it, and how often
its watermark box is found: the drawn box recomputed from dg-mkbench's parameters (truth.csv:
area, x, y; src/bench/compose.c's geometry) scaled to the decoded image, against the boxes
results/experiments/session15/overlay_probe.c prints (extra_tune_seeds.sh or
session19/tune_boxes.sh write such lists; other lines are skipped).
    /usr/bin/python3 logo_boxes.py BOXES...
"""
import csv
import math
import sys

from PIL import Image


def drawn_box(w, h, area, px, py):
    cx, cy, a = 0.35 + 0.3 * px, 0.35 + 0.3 * py, area * w * h
    bh = int(max(8, round(math.sqrt(a / 3.5))))
    bw = int(max(16, round(a / bh)))
    bw, bh = min(bw, w), min(bh, h)
    x, y = int(round(cx * w - bw / 2.0)), int(round(cy * h - bh / 2.0))
    x = 0 if x < 0 else (w - bw if x + bw > w else x)
    y = 0 if y < 0 else (h - bh if y + bh > h else y)
    return x, y, x + bw, y + bh


def overlap(a, b):
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def area(a):
    return (a[2] - a[0]) * (a[3] - a[1])


def main():
    truths = {}
    for f in sys.argv[1:]:
        n = mostly = found = 0
        for line in open(f):
            p = line.split()
            if not p[0].endswith('logo_strong.jpg'):
                continue
            root, rel = p[0].split('/images/')[0], 'images/' + p[0].split('/images/')[1]
            if root not in truths:
                truths[root] = {r['path']: r for r in csv.DictReader(open(root + '/truth.csv'))}
            par = dict(kv.split('=') for kv in truths[root][rel]['params'].split(';') if '=' in kv)
            w, h = int(p[1]), int(p[2])
            box, ov = [int(v) for v in p[3:7]], [int(v) for v in p[8:12]]
            sw, sh = Image.open(p[0]).size
            d = [v * w / sw for v in drawn_box(sw, sh, float(par['area']), float(par['x']), float(par['y']))]
            n += 1
            mostly += 2 * overlap(box, d) >= area(box)
            if p[7] == '1':
                inter = overlap(ov, d)
                found += inter / (area(ov) + area(d) - inter) >= 0.6
        print(f"{f}: logo strong {n}, content box mostly inside the logo box {mostly}, watermark box found {found}")


main()
