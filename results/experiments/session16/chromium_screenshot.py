#!/usr/bin/python3
"""How often headless chromium's --screenshot of the report misses its thumbnails.

Usage: chromium_screenshot.py REPORT_DIR N [--load K] [chromium flags...]

REPORT_DIR holds index.html written by `dupgraph report` (e2e_analyst's temporary folder keeps
one). Takes N screenshots of it at 1200x900, each with a fresh profile, and prints per shot the
number of distinct colours (e2e_analyst asks for more than 1000; a capture with the thumbnails has
about 73758 on that report, one taken before they are drawn about 490). --load K runs K busy
loops beside it, as a loaded CI machine would.
"""
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image


def main():
    report, n, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    load = 0
    if rest[:1] == ["--load"]:
        load, rest = int(rest[1]), rest[2:]
    burners = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(load)]
    counts = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(n):
                shot = f"{tmp}/shot{i}.png"
                subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                "--no-first-run", f"--user-data-dir={tmp}/profile{i}", "--window-size=1200,900",
                                *rest, f"--screenshot={shot}", f"file://{report}/index.html"],
                               capture_output=True, timeout=120, check=True)
                px = np.asarray(Image.open(shot).convert("RGB"))
                counts.append(len(np.unique(px.reshape(-1, 3), axis=0)))
                print(i, counts[-1], flush=True)
    finally:
        for b in burners:
            b.kill()
    print(f"flags {' '.join(rest) or '(none)'}, load {load}: {n} shots, "
          f"{sum(c <= 1000 for c in counts)} without thumbnails (<= 1000 colours), "
          f"{sum(1000 < c < max(counts) for c in counts)} partial, colours min {min(counts)} max {max(counts)}")


if __name__ == "__main__":
    main()
