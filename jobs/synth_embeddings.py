#!/usr/bin/python3
"""Writes a synthetic embedding corpus with planted near-duplicate groups.

The corpus imitates image embeddings: items scatter around "topic" centres
(so k-means has structure to find), and a fraction of them are planted in
groups of near-copies of one base vector, with per-copy noise drawn so that
pair similarities spread across the usual thresholds (about 0.85 to 0.995).
Rows are shuffled so groups straddle rank boundaries.  Optional bad rows
(NaN, Inf, zero) exercise the bad-vector status.

    synth_embeddings.py OUT.h5 --n 20000 --d 64 [--seed 1] [--dup-fraction 0.1]
"""
import argparse

import h5py
import numpy as np


def make(n, d, seed, dup_fraction, topic_size, bad_rows, giant_fraction=0.0, spread=1.1, copies=0):
    rng = np.random.default_rng(seed)
    n_topics = max(1, n // topic_size)
    topics = rng.standard_normal((n_topics, d)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    x = np.empty((n, d), dtype=np.float32)
    group = np.full(n, -1, dtype=np.int64)

    n_dup = int(n * dup_fraction)
    n_giant = int(n * giant_fraction)
    n_base = n - n_dup
    chunk = 1 << 18
    for lo in range(0, n_base, chunk):
        hi = min(n_base, lo + chunk)
        t = rng.integers(0, n_topics, hi - lo)
        v = topics[t] + spread * rng.standard_normal((hi - lo, d)).astype(np.float32) / np.sqrt(d)
        x[lo:hi] = v
    if n_giant:
        # one dense region (think product photos on white): many items near one point
        centre = topics[0]
        v = centre + 0.45 * rng.standard_normal((n_giant, d)).astype(np.float32) / np.sqrt(d)
        x[:n_giant] = v

    pos = n_base
    gid = 0
    while pos < n:
        size = min(n - pos, int(rng.geometric(0.45)) + 1)
        base = x[rng.integers(n_giant, n_base) if n_base > n_giant else 0]
        base = base / np.linalg.norm(base)
        eps = rng.uniform(0.03, 0.42, size).astype(np.float32)
        noise = rng.standard_normal((size, d)).astype(np.float32) / np.sqrt(d)
        x[pos:pos + size] = base + eps[:, None] * noise
        group[pos:pos + size] = gid
        gid += 1
        pos += size

    if copies:
        # one photo copied `copies` times (re-encoded: similarities 0.99 and up),
        # overwriting the first rows of the planted groups' share
        lo = n_base if n_dup >= copies else n - copies
        base = x[rng.integers(n_giant, lo)] if lo > n_giant else x[0]
        base = base / np.linalg.norm(base)
        eps = rng.uniform(0.01, 0.08, copies).astype(np.float32)
        noise = rng.standard_normal((copies, d)).astype(np.float32) / np.sqrt(d)
        x[lo:lo + copies] = base + eps[:, None] * noise
        group[lo:lo + copies] = group.max() + 1

    x /= np.linalg.norm(x, axis=1, keepdims=True)
    perm = rng.permutation(n)
    x = x[perm]
    group = group[perm]
    for i, kind in zip(rng.choice(n, size=min(bad_rows, n), replace=False), range(bad_rows)):
        x[i] = [np.nan, np.inf, 0.0][kind % 3]
    return x, group


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dup-fraction", type=float, default=0.1)
    ap.add_argument("--topic-size", type=int, default=2000)
    ap.add_argument("--spread", type=float, default=1.1,
                    help="noise around a topic centre: larger is more uniform, harder for clustering")
    ap.add_argument("--giant-fraction", type=float, default=0.0,
                    help="share of items crowded into one dense region (skew test)")
    ap.add_argument("--copies", type=int, default=0,
                    help="one more planted group: this many near-identical copies of one item (giant duplicate group)")
    ap.add_argument("--bad-rows", type=int, default=0, help="rows set to NaN / Inf / zero")
    ap.add_argument("--dataset", default="/embeddings")
    ap.add_argument("--float16", action="store_true")
    a = ap.parse_args()
    x, group = make(a.n, a.d, a.seed, a.dup_fraction, a.topic_size, a.bad_rows, a.giant_fraction, a.spread, a.copies)
    with h5py.File(a.out, "w") as f:
        f.create_dataset(a.dataset, data=x.astype(np.float16) if a.float16 else x)
        f.create_dataset("/planted_group", data=group)
        f.attrs["generator"] = "dupgraph jobs/synth_embeddings.py"
        f.attrs["seed"] = a.seed


if __name__ == "__main__":
    main()
