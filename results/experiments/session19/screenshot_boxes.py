#!/usr/bin/python3
"""How far each screenshot copy's content box is from the photo: the photo's rectangle recomputed
from dg-mkbench's layout (src/bench/compose.c: draw_chrome and dg_compose_screenshot), scaled to
the decoded image, and its IoU with the box results/experiments/session15/overlay_probe.c prints
(columns 4-7; tune_boxes.sh writes such a list; other transforms' lines are skipped).  Lines:
"split strength N iou>=0.8 K", then the 20 worst (or the WORST worst).
    /usr/bin/python3 screenshot_boxes.py BOXES [WORST]
"""
import csv
import os
import sys

from PIL import Image


def fit(w, h, mw, mh):
    s = 1.0
    if w > mw:
        s = mw / w
    if h * s > mh:
        s = mh / h
    if s >= 1.0:
        return w, h
    return min(mw, max(1, int(w * s + 0.5))), min(mh, max(1, int(h * s + 0.5)))


def photo_rect(ow, oh, frac, panel):
    side = max(ow, oh)
    W, H = side, max(1, side * 10 // 16)
    tb, tool, status = max(10, H // 22), max(12, H // 16), max(6, H // 36)
    cx, cy, cw, ch = 0, tb + tool, W, H - (tb + tool) - status
    if panel:
        pw = cw // 4
        cx += pw
        cw -= pw
    margin = max(2, cw // 40)
    aw, ah = int(cw * frac), ch - 2 * margin
    if panel:
        ah = ah * 3 // 4
    pw, ph = fit(ow, oh, aw, ah)
    px, py = cx + (cw - pw) // 2, cy + margin
    return W, H, (px, py, px + pw, py + ph)


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def boxes(path):
    """{(split, strength): [(iou, copy, box, photo rect, w, h)]} of a box list's screenshot lines."""
    truths, res = {}, {}
    for line in open(path):
        p, w, h, x0, y0, x1, y1, *_ = line.split()
        w, h, x0, y0, x1, y1 = map(int, (w, h, x0, y0, x1, y1))
        root, rel = p.split('/images/')[0], 'images/' + p.split('/images/')[1]
        if root not in truths:
            truths[root] = {r['path']: r for r in csv.DictReader(open(root + '/truth.csv'))}
        t = truths[root][rel]
        if t['transform'] != 'screenshot':
            continue
        kv = dict(x.split('=') for x in t['params'].split(';'))
        ow, oh = Image.open(os.path.join(root, os.path.dirname(rel), 'original.jpg')).size
        W, H, r = photo_rect(ow, oh, float(kv['photo_width']), int(kv['panel']))
        sx, sy = w / W, h / H
        T = (r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy)
        split = 'heldout' if 'heldout' in root else 'tune'
        res.setdefault((split, t['strength']), []).append(
            (iou((x0, y0, x1, y1), T), p.split('/corpus/')[0].split('/')[-1] + '/' + rel, (x0, y0, x1, y1),
             tuple(round(v, 1) for v in T), w, h))
    return res


def main():
    for k, v in sorted(boxes(sys.argv[1]).items()):
        print(*k, len(v), 'iou>=0.8', sum(i >= 0.8 for i, *_ in v))
        for r in sorted(v)[:int(sys.argv[2]) if len(sys.argv) > 2 else 20]:
            print('  %.2f %s box %s true %s size %dx%d' % r)


if __name__ == '__main__':
    main()
