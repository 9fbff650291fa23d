"""What the real-photo benchmarks (jobs/eval_images.py, jobs/quality_bench.py)
share: the Debian photo packages (installed?, version, their JPEG files), a
dg-mkbench corpus's truth.csv in the order of an output's items, and pair
precision / recall / F1 against it.

    t = imagebench.Truth(imagebench.truth_table(corpus, out.items["path"]))
    src, dst, good = imagebench.edge_arrays(out.src, out.dst, t)
    p, r, f, n, found, n_edges = imagebench.variant_prf(t, src, dst, good, items)

A true pair is two items of the same truth.csv group.  variant_prf: recall over
the (original, variant) pairs of the given variants, precision over the edges
touching them; subset_prf: every pair inside a subset of the items.
"""
import hashlib
import json
import os
import re
import shlex
import subprocess

import numpy as np
import pandas as pd


def installed(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


def package_version(package):
    """The installed version of a Debian package, or None."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and installed(package) else None


def package_jpegs(package):
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.splitlines() if re.search(r"\.jpe?g$", p, re.I) and os.path.isfile(p))


def file_digest(path):
    """sha256 of a file's bytes (of the string itself if it is no file)."""
    h = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            h.update(f.read())
    else:
        h.update(path.encode())
    return h.hexdigest()


def run_mkbench(cmd, listing, stamp_name, fresh, say, who):
    """Runs dg-mkbench (cmd, whose --out folder is the corpus) unless that
    folder already holds a corpus made by the same command from the same
    photo listing and the same dg-mkbench binary (a stamp file in it says so);
    fresh forces a rebuild.  who names the caller in the error message."""
    out = cmd[cmd.index("--out") + 1]
    stamp = json.dumps({"cmd": cmd, "photos": file_digest(listing), "mkbench": file_digest(cmd[0])},
                       sort_keys=True)
    stamp_path = os.path.join(out, stamp_name)
    if not fresh and os.path.exists(os.path.join(out, "manifest.txt")) and os.path.exists(stamp_path) \
            and open(stamp_path).read() == stamp:
        say(f"corpus: reusing {out} (same photos and dg-mkbench; --fresh rebuilds it)")
        return
    say("$ " + shlex.join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{who}: dg-mkbench failed:\n{r.stderr}")
    say(r.stdout.strip())
    with open(stamp_path, "w") as f:
        f.write(stamp)


def truth_table(corpus, paths):
    """truth.csv rows in the order of the output's items (paths: /items/path)."""
    t = pd.read_csv(os.path.join(corpus, "truth.csv"), keep_default_na=False)
    rel = [os.path.relpath(os.path.normpath(p.decode() if isinstance(p, bytes) else p), os.path.normpath(corpus))
           for p in paths]
    t = t.set_index("path")
    missing = [p for p in rel if p not in t.index]
    if missing:
        raise SystemExit(f"{len(missing)} output items are not in truth.csv, e.g. {missing[0]}")
    return t.loc[rel].reset_index()


def prf(tp, n_pred, n_true):
    """(precision, recall, F1); an empty prediction has precision 1."""
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_true if n_true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


class Truth:
    """Groups, kinds and the original of each item, with pair helpers."""

    def __init__(self, t):
        self.t = t
        self.group = t["group"].to_numpy()
        self.transform = t["transform"].to_numpy()
        self.strength = t["strength"].to_numpy()
        self.n = len(t)
        orig = {g: i for i, (g, k) in enumerate(zip(self.group, self.transform)) if k == "original"}
        self.original = np.array([orig.get(g, -1) for g in self.group])
        self.variant = (self.transform != "original") & (self.transform != "distractor")
        self.kinds = sorted({(k, s) for k, s, v in zip(self.transform, self.strength, self.variant) if v},
                            key=lambda ks: (ks[0], ks[1] != "mild"))

    def true_pairs(self, mask):
        """Number of same-group pairs among the items in mask."""
        _, counts = np.unique(self.group[mask], return_counts=True)
        return int((counts * (counts - 1) // 2).sum())

    def subset(self, strength):
        return ~self.variant | (self.strength == strength)


def edge_arrays(src, dst, truth):
    return src.astype(np.int64), dst.astype(np.int64), truth.group[src] == truth.group[dst]


def subset_prf(truth, src, dst, good, mask):
    inside = mask[src] & mask[dst]
    return prf(int((good & inside).sum()), int(inside.sum()), truth.true_pairs(mask))


def component_prf(truth, comp, mask):
    """Pairs inside one component as the prediction, among the items in mask."""
    df = pd.DataFrame({"c": comp[mask], "g": truth.group[mask]})
    pred = int((df.groupby("c").size().pipe(lambda s: s * (s - 1) // 2)).sum())
    tp = int((df.groupby(["c", "g"]).size().pipe(lambda s: s * (s - 1) // 2)).sum())
    return prf(tp, pred, truth.true_pairs(mask))


def variant_prf(truth, src, dst, good, items):
    """Recall over the (original, variant) pairs of the given variants; precision over
    the edges touching them.  Returns (precision, recall, F1, pairs, found, edges)."""
    edge_set = set(zip(src.tolist(), dst.tolist()))
    found = sum((min(i, truth.original[i]), max(i, truth.original[i])) in edge_set for i in items)
    chosen = np.zeros(truth.n, bool)
    chosen[items] = True
    touch = chosen[src] | chosen[dst]
    p = int((good & touch).sum()) / int(touch.sum()) if touch.any() else 1.0
    r = found / len(items) if len(items) else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0), len(items), found, int(touch.sum())
