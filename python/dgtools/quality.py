"""The held-out quality benchmark's rules (jobs/quality_bench.py): the scene
list and its fixed tune / held-out split, the one code path that chooses
thresholds (it accepts tune items only), pair precision / recall / F1 on a
dg-mkbench corpus, and an independent 64-bit DCT pHash.

    scenes = quality.load_scenes("jobs/quality/scenes.tsv")   # checked: split = split_of(id)
    quality.split_of("mate-backgrounds:ladybird")             # "tune" or "heldout", by a fixed hash
    ts = quality.TuneSet(items_scene_ids, scenes)             # HeldOutError if any item is held out
    t, table = quality.choose_threshold(ts, scores, same, n_true, candidates)

The split: sha256("dupgraph-quality-split-v1:" + scene id), first 8 hex digits as
a fraction of 2^32, below TUNE_FRACTION -> tune.  A scene is one source photo:
the tiles or pan crops cut from it are its groups and never straddle the split.
Adding scenes never moves an existing one.
"""
import hashlib
import os

import numpy as np

from .imagebench import prf

SPLIT_SALT = "dupgraph-quality-split-v1:"
TUNE_FRACTION = 0.5
SPLITS = ("tune", "heldout")
SCENE_COLUMNS = ("scene_id", "package", "file", "kind", "cut", "split")


class HeldOutError(ValueError):
    """Tuning code was given an item of a held-out scene (or of no known scene)."""


def workdir(build, split, seed=1):
    """jobs/quality_bench.py's default work folder (corpus, run, logs) for a split and dg-mkbench
    seed: BUILD/quality-SPLIT for seed 1, BUILD/quality-SPLIT-seedS for another, so runs at
    several seeds keep their corpora side by side."""
    return os.path.join(build, f"quality-{split}" + ("" if seed == 1 else f"-seed{seed}"))


def split_of(scene_id):
    """'tune' or 'heldout' for a scene id, from a fixed hash (never from the data)."""
    h = hashlib.sha256((SPLIT_SALT + scene_id).encode("utf-8")).hexdigest()
    return "tune" if int(h[:8], 16) / 2.0 ** 32 < TUNE_FRACTION else "heldout"


def load_scenes(path):
    """{scene_id: row dict} from the scene list; ValueError if a row's split is
    not split_of(its id), an id repeats, or a row is malformed."""
    scenes = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != len(SCENE_COLUMNS):
                raise ValueError(f"{path}:{n}: {len(cols)} columns, want {len(SCENE_COLUMNS)}")
            row = dict(zip(SCENE_COLUMNS, cols))
            sid = row["scene_id"]
            if sid in scenes:
                raise ValueError(f"{path}:{n}: scene {sid} listed twice")
            if row["split"] not in SPLITS or row["split"] != split_of(sid):
                raise ValueError(f"{path}:{n}: scene {sid} has split {row['split']}, "
                                 f"the fixed rule says {split_of(sid)}")
            scenes[sid] = row
    return scenes


class TuneSet:
    """The items a threshold may be chosen on: every one must belong to a scene
    of the tune split.  Construct it from the scene id of each item."""

    def __init__(self, item_scenes, scenes):
        item_scenes = list(item_scenes)
        bad = sorted({s for s in item_scenes if s not in scenes or scenes[s]["split"] != "tune"})
        if bad:
            raise HeldOutError(f"refusing to tune on {len(bad)} scene(s) outside the tune split, "
                               f"e.g. {bad[0]}")
        self.item_scenes = item_scenes
        self.scenes = scenes
        self.n = len(item_scenes)


def choose_threshold(tune, scores, same, n_true, candidates, similar_above=True, counted=None):
    """The candidate with the best F1 on the tune items (ties: the first).
    tune: a TuneSet (anything else is refused); scores: one score per candidate
    pair of tune items (every pair that any candidate predicts); same: whether
    the pair is a true pair (precision); counted: the true pairs the recall
    counts (default: same), n_true their number; similar_above: a pair is
    predicted when score >= t (True, similarities) or score <= t (False,
    distances).  Returns (best candidate, [(t, precision, recall, f1), ...])."""
    if not isinstance(tune, TuneSet):
        raise HeldOutError("choose_threshold takes a TuneSet (tune-split items only)")
    for s in tune.item_scenes:  # re-checked: a TuneSet's list may have been changed after construction
        if tune.scenes.get(s, {}).get("split") != "tune":
            raise HeldOutError(f"refusing to tune on scene {s}: not in the tune split")
    scores = np.asarray(scores)
    same = np.asarray(same, bool)
    counted = same if counted is None else np.asarray(counted, bool)
    table = []
    for t in candidates:
        pred = scores >= t if similar_above else scores <= t
        p, _, _ = prf(int((pred & same).sum()), int(pred.sum()), n_true)
        r = int((pred & counted).sum()) / n_true if n_true else 1.0
        table.append((t, p, r, 2 * p * r / (p + r) if p + r else 0.0))
    best = max(range(len(table)), key=lambda i: (table[i][3], -i))
    return table[best][0], table


# ---- pHash (independent of the job's descriptor: PIL decode, numpy DCT) -----

def _dct_matrix(n):
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT32 = _dct_matrix(32)


def phash_pixels(gray32):
    """64-bit pHash of a 32 x 32 grayscale array: 2-D DCT-II, the top-left 8 x 8
    coefficients (DC included) against their median, as one uint64."""
    d = _DCT32 @ np.asarray(gray32, np.float64) @ _DCT32.T
    low = d[:8, :8].ravel()
    bits = low > np.median(low)
    return np.uint64(int("".join("1" if b else "0" for b in bits), 2))


def phash_file(path):
    """pHash of an image file: decoded by python3-pil, luminance, 32 x 32 Lanczos."""
    from PIL import Image  # only the benchmark needs PIL
    with Image.open(path) as im:
        g = im.convert("L").resize((32, 32), Image.LANCZOS)
    return phash_pixels(np.asarray(g))


_POP16 = np.array([bin(i).count("1") for i in range(1 << 16)], np.uint8)


def hamming(a, b):
    """Bitwise Hamming distances between uint64 hash arrays (broadcast)."""
    x = np.ascontiguousarray(np.atleast_1d(np.bitwise_xor(np.asarray(a, np.uint64), np.asarray(b, np.uint64))))
    return _POP16[x.view(np.uint16).reshape(x.shape + (4,))].sum(axis=-1, dtype=np.int64)


def _pairs_by_block(n, block, score, keep, dtype):
    """(i, j, score) of every pair i < j of n rows whose score keep() accepts;
    score(lo, hi) gives rows lo..hi-1 against all n rows."""
    out_i, out_j, out_s = [], [], []
    for lo in range(0, n, block):
        s = score(lo, min(lo + block, n))
        ii, jj = np.nonzero(keep(s))
        ii = ii + lo
        upper = ii < jj
        out_i.append(ii[upper])
        out_j.append(jj[upper])
        out_s.append(s[ii[upper] - lo, jj[upper]])
    cat = (lambda xs, t: np.concatenate(xs).astype(t) if xs else np.zeros(0, t))
    return cat(out_i, np.int64), cat(out_j, np.int64), cat(out_s, dtype)


def pairs_below(hashes, max_dist, block=2048):
    """(i, j, distance) of every pair i < j with Hamming distance <= max_dist."""
    h = np.asarray(hashes, np.uint64)
    return _pairs_by_block(len(h), block, lambda lo, hi: hamming(h[lo:hi, None], h[None, :]),
                           lambda d: d <= max_dist, np.int64)


def cosine_pairs_above(emb, min_sim, block=2048):
    """(i, j, cosine) of every pair i < j whose cosine (float64, rows normalised)
    is >= min_sim, computed block by block."""
    e = np.asarray(emb, np.float64)
    norm = np.linalg.norm(e, axis=1)
    e = e / np.where(norm > 0, norm, 1.0)[:, None]
    return _pairs_by_block(len(e), block, lambda lo, hi: e[lo:hi] @ e.T, lambda s: s >= min_sim, np.float64)
