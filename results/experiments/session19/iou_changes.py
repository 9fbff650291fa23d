#!/usr/bin/python3
"""Each screenshot box that differs between two box lists (tune_boxes.sh outputs), with its IoU
against the photo (screenshot_boxes.py): "IoU_before -> IoU_after copy box -> box".
    /usr/bin/python3 iou_changes.py BOXES_BEFORE BOXES_AFTER
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from screenshot_boxes import boxes  # noqa: E402


def by_copy(path):
    return {r[1]: (r[0], r[2]) for rows in boxes(path).values() for r in rows}


def main():
    a, b = by_copy(sys.argv[1]), by_copy(sys.argv[2])
    for k in sorted(a):
        if a[k] != b[k]:
            print('%.2f -> %.2f %s %s -> %s' % (a[k][0], b[k][0], k, a[k][1], b[k][1]))


main()
