#!/usr/bin/python3
"""Held-out quality benchmark of the image input (issue 13): pair precision,
recall and F1 of `dupgraph run` per transform, per kind of photo and overall,
beside an independent pHash on the same pairs, on one split of a fixed scene
list.

  1. Scenes: jobs/quality/scenes.tsv lists the photographs (one scene = one
     source photo of a Debian package, with its kind and how it is cut) and
     its split, `tune` or `heldout`, fixed by a hash of the scene id
     (python/dgtools/quality.py).  --split picks one; the packages must be
     installed (jobs/quality_bench.sh installs them); PNG photographs are
     converted to JPEG (quality 95, python3-pil) into WORKDIR/sources.
  2. Corpus: dg-mkbench --transforms all: every scene gives one image or
     several distinct ones (cut=tiles:CxR, cut=pan:N: different groups of one
     scene, the hard negatives), each with a variant per transform and
     strength (WORKDIR/corpus/transforms.txt says what each does).
  3. `mpirun -np RANKS dupgraph run -c CONFIG` (configs/demo.ini: the default
     configuration for images) with --set overrides; output.embeddings =
     float32 so every pair's cosine can be computed afterwards.
  4. Figures (a true pair = two items of one group): precision over all edges;
     recall over the (original, variant) pairs; per transform and strength the
     recall of its (original, variant) pairs and the precision of the edges
     touching its variants; targets per class (crops split at 20% of the area
     removed); per kind of photo; edges between different groups of one scene
     (hard negatives); all same-group pairs; a threshold sweep from the stored
     embeddings (exact cosine in float64, every pair above --sweep-min), with
     the share of pairs of distinct photos (originals of different scenes)
     above each threshold; the candidate cost: pairs the verifier scored per
     item, and that share at the search threshold (the verifier's work per
     item grows with it times the number of photos, or the budget
     verify.max_candidates bounds it); what deduplication then does (it keeps
     one item per component): the copies that end in their original's
     component, and the photos merged away (an original whose component is
     kept through another photo's item).
  5. pHash (64-bit DCT of a 32 x 32 Lanczos-resized luminance, numpy; python3-pil
     decodes): a pair is predicted when the Hamming distance is <= T.
Thresholds (pHash's T and the descriptor threshold with the best F1) are
chosen on the tune split only (quality.choose_threshold refuses anything
else) and saved in its result file; a held-out run reads them from there
(--tuned) and never chooses anything.  Result: --out (results/quality_SPLIT.json)
with the command, git revision, packages and versions, every figure.

    jobs/quality_bench.sh --split tune        # first: chooses pHash's T
    jobs/quality_bench.sh --split heldout     # the figures to report
    jobs/quality_bench.sh --split heldout --set pairs.threshold=0.7 --out build/q.json
"""
import argparse
import json
import os
import shlex
import sys
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))  # dgtools
from dgtools import imagebench, machine, output, quality, summary  # noqa: E402
from dgtools.bench import Report  # noqa: E402
from dgtools.imagebench import Truth, installed, package_version, prf, truth_table  # noqa: E402

TARGET_PRECISION = 0.99
TARGET_RECALL = 0.95          # overall and every single transform ...
TARGET_RECALL_HARD = 0.80     # ... except rotations with a crop and crops removing over 20% of the area
ROTATIONS = ("rotate", "rotcrop")
CROPS = ("crop", "offcrop")
PHASH_CANDIDATES = list(range(0, 33))
SIM_CANDIDATES = [round(0.20 + 0.01 * k, 2) for k in range(76)]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--split", required=True, choices=quality.SPLITS)
    p.add_argument("--build", default="build")
    p.add_argument("--workdir", help="corpus, output, logs (default build/quality-SPLIT, or "
                   "build/quality-SPLIT-seedS for --seed S other than 1)")
    p.add_argument("--config", default="configs/demo.ini")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--scenes", default="jobs/quality/scenes.tsv")
    p.add_argument("--size", default="640", help="dg-mkbench --size")
    p.add_argument("--seed", type=int, default=1, help="dg-mkbench --seed")
    p.add_argument("--sweep-min", type=float, default=0.2, help="lowest cosine of the sweep")
    p.add_argument("--tuned", default="results/quality_tune.json",
                   help="held-out runs read the tune-chosen thresholds from this file")
    p.add_argument("--out", help="result file (default results/quality_SPLIT.json)")
    p.add_argument("--fresh", action="store_true", help="rebuild the corpus even if cached")
    a = p.parse_args()
    a.workdir = a.workdir or quality.workdir(a.build, a.split, a.seed)
    a.out = a.out or os.path.join("results", f"quality_{a.split}.json")
    return a


# ---- corpus ---------------------------------------------------------------------

def check_packages(scenes, say):
    pkgs = sorted({s["package"] for s in scenes})
    missing = [p for p in pkgs if not installed(p)]
    if missing:
        raise SystemExit(f"quality_bench: packages not installed: {' '.join(missing)} "
                         f"(jobs/quality_bench.sh installs them; or apt-get install {' '.join(missing)})")
    versions = {p: package_version(p) for p in pkgs}
    say("packages: " + ", ".join(f"{p} {v}" for p, v in versions.items()))
    return versions


def jpeg_source(scene, workdir):
    """The scene's photo as a JPEG path: the package's file, or a quality-95 JPEG of a PNG."""
    path = scene["file"]
    if not os.path.isfile(path):
        raise SystemExit(f"quality_bench: {scene['scene_id']}: {path} is missing (package {scene['package']})")
    if path.lower().endswith((".jpg", ".jpeg")):
        return path
    from PIL import Image
    out = os.path.join(workdir, "sources", scene["scene_id"].replace(":", "__") + ".jpg")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with Image.open(path) as im:
            im.convert("RGB").save(out + ".tmp", "JPEG", quality=95)
        os.replace(out + ".tmp", out)
    return os.path.abspath(out)


def make_corpus(args, scenes, say):
    os.makedirs(args.workdir, exist_ok=True)
    photo_scene = {}
    lines = []
    for s in scenes:
        src = jpeg_source(s, args.workdir)
        photo_scene[src] = s["scene_id"]
        lines.append(src + ("" if s["cut"] == "whole" else f"\tcut={s['cut']}"))
    listing = os.path.join(args.workdir, "photos.txt")
    with open(listing, "w") as f:
        f.write("".join(x + "\n" for x in lines))
    out = os.path.join(args.workdir, "corpus")
    cmd = [os.path.join(args.build, "dg-mkbench"), "--photos", listing, "--out", out, "--seed", str(args.seed),
           "--size", args.size, "--transforms", "all"]
    imagebench.run_mkbench(cmd, listing, "quality-stamp.json", args.fresh, say, "quality_bench")
    return out, cmd, photo_scene


# ---- the job ----------------------------------------------------------------------

def run_job(args, manifest, say):
    out = os.path.join(args.workdir, "run.h5")
    summary_path = out + ".summary.json"
    cmd = ["mpirun", "--oversubscribe", "-np", str(args.ranks), "-x", "OPENBLAS_NUM_THREADS",
           os.path.join(args.build, "dupgraph"), "run", "-c", args.config, "-o", out,
           "--set", f"input.manifest={manifest}", "--set", "output.embeddings=float32",
           "--set", "job.resume=false", *summary.set_args(summary_path)]
    for s in args.set:
        cmd += ["--set", s]
    say("$ " + shlex.join(cmd))
    try:
        _, s, meter = summary.run(cmd, summary_path, os.path.join(args.workdir, "run.log"), tail=40,
                                  header="$ " + shlex.join(cmd) + "\n")
    except summary.JobFailed as e:
        raise SystemExit(f"quality_bench: dupgraph run failed ({e})") from None
    return cmd, s, meter, output.read(out, items=("path", "status", "component", "keep"), embeddings=True)


# ---- figures ------------------------------------------------------------------------

def params_of(text):
    return dict(kv.split("=", 1) for kv in str(text).split(";") if "=" in kv)


def crop_removed(transform, params):
    """Area fraction a crop-like variant removed (its own or a combo part's), else 0."""
    p = params_of(params)
    if transform in CROPS:
        return float(p["area_removed"])
    return max([float(v) for k, v in p.items() if k in ("crop.area_removed", "offcrop.area_removed")] or [0.0])


class Items:
    """Per item: truth, scene, kind, target class."""

    def __init__(self, truth, photo_scene, scenes):
        self.truth = truth
        self.n = truth.n
        srcs = truth.t["original"].to_numpy()
        self.scene = np.array([photo_scene[os.path.abspath(p)] for p in srcs])
        self.kind = np.array([scenes[s]["kind"] for s in self.scene])
        self.package = np.array([scenes[s]["package"] for s in self.scene])
        self.cls = np.array([self.target_class(t, s, prm) for t, s, prm in
                             zip(truth.transform, truth.strength, truth.t["params"])], dtype=object)

    @staticmethod
    def target_class(transform, strength, params):
        if transform in ("original", "distractor"):
            return ""
        if transform in CROPS:
            return f"{transform} {strength} " + (">20%" if crop_removed(transform, params) > 0.20 else "<=20%")
        return f"{transform} {strength}"


def class_target(cls):
    t = cls.split()[0]
    if t == "combo":
        return None  # two edits: reported, not a single transform
    return TARGET_RECALL_HARD if t in ROTATIONS or cls.endswith(">20%") else TARGET_RECALL


class Scorer:
    """A predicted pair list (src < dst) against the truth."""

    def __init__(self, items, src, dst):
        t = items.truth
        self.items, self.src, self.dst = items, np.asarray(src, np.int64), np.asarray(dst, np.int64)
        self.good = t.group[self.src] == t.group[self.dst]
        keys = self.src * t.n + self.dst
        v = np.flatnonzero(t.variant)
        o = t.original[v]
        self.found = np.zeros(t.n, bool)
        self.found[v] = np.isin(np.minimum(v, o) * t.n + np.maximum(v, o), keys)

    def over(self, variants, touching=None):
        """recall over the (original, variant) pairs of `variants`; precision over
        the edges touching `touching` (default: those variants)."""
        mask = np.zeros(self.items.n, bool)
        mask[variants if touching is None else touching] = True
        touch = mask[self.src] | mask[self.dst]
        n_found = int(self.found[variants].sum())
        p, r, f = prf(int((self.good & touch).sum()), int(touch.sum()), len(variants))
        r = n_found / len(variants) if len(variants) else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"pairs": len(variants), "found": n_found, "recall": r, "edges": int(touch.sum()),
                "precision": p, "f1": f}

    def overall(self):
        t = self.items.truth
        v = np.flatnonzero(t.variant)
        p, r, f = prf(int(self.good.sum()), len(self.src), len(v))
        r = float(self.found[v].mean()) if len(v) else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        all_true = t.true_pairs(np.ones(t.n, bool))
        _, r_all, f_all = prf(int(self.good.sum()), len(self.src), all_true)
        return {"edges": len(self.src), "correct_edges": int(self.good.sum()), "precision": p,
                "variant_pairs": len(v), "found": int(self.found[v].sum()), "recall": r, "f1": f,
                "all_true_pairs": all_true, "recall_all_pairs": r_all, "f1_all_pairs": f_all}

    def hard_negatives(self):
        """False edges inside one scene (between its tiles / pan crops and their
        variants) and elsewhere; group_pairs: distinct pairs of groups they join
        (one confused pair of images gives up to 42 x 42 false edges)."""
        sc, g = self.items.scene, self.items.truth.group
        same_scene = (sc[self.src] == sc[self.dst]) & ~self.good
        other = ~self.good & ~same_scene
        pairs = (lambda m: len(set(zip(g[self.src[m]].tolist(), g[self.dst[m]].tolist()))))
        return {"edges": int(same_scene.sum()), "group_pairs": pairs(same_scene),
                "other_false_edges": int(other.sum()), "other_false_group_pairs": pairs(other)}


def hard_negative_pairs(items):
    """Pairs of items of one scene in different groups (tiles / pan crops and their variants)."""
    n = 0
    for s in np.unique(items.scene):
        m = items.scene == s
        k = int(m.sum())
        n += k * (k - 1) // 2 - items.truth.true_pairs(m)
    return n


def figures(items, scorer):
    t = items.truth
    res = {"overall": scorer.overall(), "hard_negatives": scorer.hard_negatives()}
    res["transforms"] = []
    for kind, strength in t.kinds:
        v = np.flatnonzero(t.variant & (t.transform == kind) & (t.strength == strength))
        res["transforms"].append({"transform": kind, "strength": strength, **scorer.over(v)})
    res["classes"] = []
    for cls in sorted(set(items.cls[t.variant])):
        v = np.flatnonzero(t.variant & (items.cls == cls))
        res["classes"].append({"class": cls, "target_recall": class_target(cls), **scorer.over(v)})
    for name, attr in (("kinds", items.kind), ("packages", items.package)):
        res[name] = []
        for k in sorted(set(attr)):
            v = np.flatnonzero(t.variant & (attr == k))
            res[name].append({name[:-1]: k, "scenes": len(set(items.scene[attr == k])),
                              **scorer.over(v, np.flatnonzero(attr == k))})
    return res


def verdicts(fig):
    o = fig["overall"]
    rows = [("overall precision", o["precision"], TARGET_PRECISION), ("overall recall", o["recall"], TARGET_RECALL)]
    rows += [(f"recall {c['class']}", c["recall"], c["target_recall"]) for c in fig["classes"]
             if c["target_recall"] is not None]
    return [{"what": w, "value": v, "target": t, "met": bool(v >= t)} for w, v, t in rows]


# ---- sweeps and tuning -------------------------------------------------------------------

def sweep_rows(items, src, dst, score, candidates, similar_above, distinct=None):
    """Per candidate threshold: the figures of the pairs it keeps and, given the similarities of the
    pairs of distinct photos (distinct_photo_sims), the share of those it keeps."""
    rows = []
    for c in candidates:
        keep = score >= c if similar_above else score <= c
        o = Scorer(items, src[keep], dst[keep]).overall()
        row = {"threshold": c, "edges": o["edges"], "precision": o["precision"], "recall": o["recall"],
               "f1": o["f1"], "recall_all_pairs": o["recall_all_pairs"]}
        if distinct is not None:
            row["distinct_photo_share"] = float((distinct >= c).mean()) if len(distinct) else 0.0
        rows.append(row)
    return rows


def tune(items, scenes, src, dst, score, candidates, similar_above):
    """The candidate with the best F1 (precision over all pairs, recall over
    (original, variant) pairs) on tune items only (quality.choose_threshold)."""
    ts = quality.TuneSet(items.scene.tolist(), scenes)
    t = items.truth
    same = t.group[src] == t.group[dst]
    orig = t.original
    counted = same & ((orig[src] == dst) | (orig[dst] == src))  # (original, variant) pairs
    best, _ = quality.choose_threshold(ts, score, same, int(t.variant.sum()), candidates,
                                       similar_above=similar_above, counted=counted)
    return best


# ---- report -----------------------------------------------------------------------------------

def print_tables(say, ours, ph, threshold, phash_t):
    say(f"\n== per transform: dupgraph (threshold {threshold:g}) | pHash (Hamming <= {phash_t}); recall over "
        "(original, variant) pairs, precision over the edges touching the variants")
    say(f"{'transform':<11} {'strength':<8} {'pairs':>5} | {'recall':>6} {'prec':>6} {'F1':>6} | "
        f"{'pHash R':>7} {'P':>6} {'F1':>6}")
    for a, b in zip(ours["transforms"], ph["transforms"]):
        say(f"{a['transform']:<11} {a['strength']:<8} {a['pairs']:>5} | {a['recall']:>6.3f} {a['precision']:>6.3f} "
            f"{a['f1']:>6.3f} | {b['recall']:>7.3f} {b['precision']:>6.3f} {b['f1']:>6.3f}")
    say("\n== target classes (crops split at 20% of the area removed)")
    say(f"{'class':<28} {'pairs':>5} {'recall':>7} {'target':>6}  | {'pHash R':>7}")
    for a, b in zip(ours["classes"], ph["classes"]):
        tgt = "-" if a["target_recall"] is None else f"{a['target_recall']:.2f}"
        ok = "" if a["target_recall"] is None else ("met" if a["recall"] >= a["target_recall"] else "MISSED")
        say(f"{a['class']:<28} {a['pairs']:>5} {a['recall']:>7.3f} {tgt:>6} {ok:<6}| {b['recall']:>7.3f}")
    for name, key in (("kind of photo", "kinds"), ("package", "packages")):
        say(f"\n== per {name} (precision over the edges touching its items)")
        for a, b in zip(ours[key], ph[key]):
            say(f"{a[key[:-1]]:<28} {a['scenes']:>2} scenes {a['pairs']:>5} pairs: recall {a['recall']:.3f} "
                f"precision {a['precision']:.3f} F1 {a['f1']:.3f} | pHash recall {b['recall']:.3f} precision "
                f"{b['precision']:.3f} F1 {b['f1']:.3f}")


def print_overall(say, name, fig, hn_pairs):
    o, h = fig["overall"], fig["hard_negatives"]
    say(f"{name:<8} precision {o['precision']:.4f} ({o['correct_edges']}/{o['edges']} edges)  recall "
        f"{o['recall']:.4f} ({o['found']}/{o['variant_pairs']} (original, variant) pairs)  F1 {o['f1']:.4f}  | "
        f"all same-group pairs: recall {o['recall_all_pairs']:.4f} F1 {o['f1_all_pairs']:.4f}\n"
        f"{'':<8} hard negatives (one scene, different groups): {h['edges']} of {hn_pairs} pairs are edges, joining "
        f"{h['group_pairs']} pairs of groups; other false edges {h['other_false_edges']} "
        f"({h['other_false_group_pairs']} pairs of groups)")


def component_figures(items, component, keep, usable):
    """What deduplication does with the graph (it keeps one item per component): a copy goes with its
    photo when it ends in its original's component (the pair need not be an edge); a photo is merged
    away when its original lies in a component whose kept item is of another photo (its component is
    kept through that photo, so the original is removed with no copy of it kept there)."""
    t = items.truth
    v = np.flatnonzero(t.variant & (t.original >= 0) & usable)
    v = v[usable[t.original[v]]]
    together = int((component[v] == component[t.original[v]]).sum())
    kept_group = {int(c): t.group[i] for i, c in enumerate(component) if keep[i] and usable[i]}
    originals = np.flatnonzero((t.transform == "original") & usable)
    merged = sorted(int(t.group[i]) for i in originals if kept_group.get(int(component[i]), t.group[i]) != t.group[i])
    return {"copies": len(v), "copies_with_original": together, "component_recall": together / max(len(v), 1),
            "photos": len(originals), "photos_merged_away": len(merged), "merged_groups": merged}


def distinct_photo_sims(items, embeddings, usable):
    """Cosines of every pair of distinct photos: the originals of different scenes."""
    orig = np.flatnonzero(~items.truth.variant & usable)
    e = embeddings[orig].astype(np.float64)
    iu = np.triu_indices(len(orig), 1)
    distinct = items.scene[orig][iu[0]] != items.scene[orig][iu[1]]
    return (e @ e.T)[iu][distinct]


def candidate_cost(items, distinct, threshold, verify):
    """What the search threshold costs: candidate pairs the verifier scored per item, those its
    budget (verify.max_candidates) left out, and the share of pairs of distinct photos at or above
    the threshold, which without a budget grows the verifier's work per item in proportion to the
    corpus: about share x N at N photos."""
    above = int((distinct >= threshold).sum())
    on = bool(verify and verify.get("enabled"))
    scored = (verify["verified"] + verify["rejected"]) if on else 0
    return {"items": items.n, "candidates": verify.get("candidates", 0) if verify else 0, "scored": scored,
            "scored_per_item": scored / items.n, "max_candidates": verify.get("max_candidates", 0) if on else 0,
            "over_budget": verify.get("over_budget", 0) if on else 0, "distinct_photo_pairs": len(distinct),
            "distinct_photo_pairs_above": above, "share_above": above / max(len(distinct), 1)}


def readme_figures(split, ours, ph, threshold, phash_t, cost, comps):
    """The figure block README.md quotes and every string in it
    (tests/check_readme_figures.py checks the two agree)."""
    o, po = ours["overall"], ph["overall"]
    fig = {"overall": f"| all transforms | {o['variant_pairs']} | {o['precision']:.3f} | {o['recall']:.3f} | "
                      f"{o['f1']:.3f} | {po['precision']:.3f} | {po['recall']:.3f} | {po['f1']:.3f} |",
           "settings": f"search {threshold:g}, pHash Hamming <= {phash_t}"}
    rows = [fig["overall"]]
    for a, b in zip(ours["classes"], ph["classes"]):
        tgt = "" if a["target_recall"] is None else f" (target {a['target_recall']:.2f})"
        row = (f"| {a['class']}{tgt} | {a['pairs']} | | {a['recall']:.3f} | | | {b['recall']:.3f} | |")
        fig["class " + a["class"]] = row
        rows.append(row)
    share = (f"of the pairs of distinct photos (originals of different scenes) {cost['share_above']:.2e} are at "
             f"or above the search threshold")
    if cost["max_candidates"] > 0:
        fig["cost"] = (f"the verifier scored {cost['scored']} candidate pairs, {cost['scored_per_item']:.1f} per item, "
                       f"and left {cost['over_budget']} out (verify.max_candidates = {cost['max_candidates']}: "
                       f"at most {cost['max_candidates']} per item on average at any corpus size); {share}, which "
                       f"without the budget would make about {cost['share_above']:.2e} x N pairs per item at N "
                       f"distinct photos")
    else:
        fig["cost"] = (f"the verifier scored {cost['scored']} candidate pairs, {cost['scored_per_item']:.1f} per item; "
                       f"{share}, so at N distinct photos the verifier scores about {cost['share_above']:.2e} x N "
                       f"pairs per item")
    fig["components"] = (f"{comps['copies_with_original']} of the {comps['copies']} copies end in their original's "
                         f"component ({comps['component_recall']:.3f}), so deduplication removes them with it; "
                         f"{comps['photos_merged_away']} of the {comps['photos']} photos are merged away (the "
                         f"original's component is kept through another photo)")
    block = (f"{split} split, {fig['settings']}:\n\n"
             "| pairs | (original, variant) pairs | precision | recall | F1 | pHash precision | pHash recall | "
             "pHash F1 |\n|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + f"\n\nCost: {fig['cost']}."
             f"\n\nComponents: {fig['components']}.")
    return fig, block


def main():
    args = parse_args()
    os.chdir(ROOT)
    t0 = time.time()
    say = Report()
    scenes = quality.load_scenes(args.scenes)  # refuses a list whose splits do not follow the fixed rule
    chosen = [s for s in scenes.values() if s["split"] == args.split]
    say(f"quality_bench: split {args.split}: {len(chosen)} of {len(scenes)} scenes ({args.scenes}), "
        f"config {args.config}" + (f" with {' '.join(args.set)}" if args.set else "") + f", {args.ranks} ranks")
    tuned = None
    if args.split == "heldout":
        if not os.path.exists(args.tuned):
            raise SystemExit(f"quality_bench: {args.tuned} missing: run --split tune first (the held-out run "
                             "chooses nothing; it reads the tune-chosen thresholds)")
        with open(args.tuned) as f:
            tuned_file = json.load(f)
        if tuned_file.get("split") != "tune":
            raise SystemExit(f"quality_bench: {args.tuned} is not a tune-split result")
        tuned = tuned_file["tuned"]
    versions = check_packages(chosen, say)
    corpus, mk_cmd, photo_scene = make_corpus(args, chosen, say)
    manifest = os.path.abspath(os.path.join(corpus, "manifest.txt"))
    cmd, job_summary, meter, out = run_job(args, manifest, say)
    threshold = out.threshold
    items = Items(Truth(truth_table(corpus, out.items["path"])), photo_scene, scenes)
    t = items.truth
    bad = int((~out.usable).sum())
    say(f"items {t.n} ({int(t.variant.sum())} variants of {len(set(t.group))} groups from {len(chosen)} scenes), "
        f"not usable {bad}; job {job_summary['seconds']['total']:.1f} s")
    hn_pairs = hard_negative_pairs(items)

    ours = figures(items, Scorer(items, out.src, out.dst))
    say("\n== phash of every item (python3-pil decode, numpy DCT)")
    hashes = np.array([quality.phash_file(os.path.join(corpus, p)) for p in t.t["path"]], np.uint64)
    pi, pj, pd_ = quality.pairs_below(hashes, max(PHASH_CANDIDATES))
    si, sj, ss = quality.cosine_pairs_above(out.embeddings, args.sweep_min)
    if args.split == "tune":
        tuned = {"phash_max_distance": int(tune(items, scenes, pi, pj, pd_, PHASH_CANDIDATES, False)),
                 "descriptor_threshold": float(tune(items, scenes, si, sj, ss, SIM_CANDIDATES, True)),
                 "rule": "best F1 (precision over all pairs, recall over (original, variant) pairs) on the "
                         "tune split; candidates: Hamming 0..32, cosine 0.20..0.95 by 0.01"}
        say(f"tuned on this (tune) split: pHash Hamming <= {tuned['phash_max_distance']}, descriptor threshold "
            f"{tuned['descriptor_threshold']:.2f} (best F1)")
    else:
        say(f"thresholds chosen on the tune split ({args.tuned}): pHash Hamming <= {tuned['phash_max_distance']}, "
            f"descriptor {tuned['descriptor_threshold']:.2f}")
    T = tuned["phash_max_distance"]
    keep = pd_ <= T
    ph = figures(items, Scorer(items, pi[keep], pj[keep]))
    distinct = distinct_photo_sims(items, out.embeddings, out.usable)
    sweep = sweep_rows(items, si, sj, ss, SIM_CANDIDATES, True, distinct)
    at_tuned = next(r for r in sweep if abs(r["threshold"] - tuned["descriptor_threshold"]) < 1e-9)

    say(f"\n== overall ({args.split} split), true pair = same group")
    print_overall(say, "dupgraph", ours, hn_pairs)
    print_overall(say, "pHash", ph, hn_pairs)
    print_tables(say, ours, ph, threshold, T)
    say("\n== threshold sweep (exact cosine of the stored embeddings, not the clustered search)")
    for r in sweep[::5] + ([at_tuned] if at_tuned not in sweep[::5] else []):
        say(f"  {r['threshold']:.2f}: edges {r['edges']:>6} precision {r['precision']:.4f} recall {r['recall']:.4f} "
            f"F1 {r['f1']:.4f} (all pairs recall {r['recall_all_pairs']:.4f}); distinct photo pairs above "
            f"{r['distinct_photo_share']:.2e}")
    say(f"at the tune-chosen threshold {at_tuned['threshold']:.2f}: precision {at_tuned['precision']:.4f} recall "
        f"{at_tuned['recall']:.4f} F1 {at_tuned['f1']:.4f}")
    cost = candidate_cost(items, distinct, threshold, job_summary.get("verify"))
    say(f"\n== candidate cost: {cost['scored']} pairs scored by the verifier ({cost['scored_per_item']:.1f} per item); "
        f"{cost['distinct_photo_pairs_above']} of {cost['distinct_photo_pairs']} pairs of distinct photos at or above "
        f"the search threshold {threshold:g} ({cost['share_above']:.2e})")
    comps = component_figures(items, out.items["component"], out.items["keep"], out.usable)
    say(f"\n== components (deduplication keeps one item each): {comps['copies_with_original']} of "
        f"{comps['copies']} copies in their original's component ({comps['component_recall']:.4f}); "
        f"{comps['photos_merged_away']} of {comps['photos']} photos merged away (groups {comps['merged_groups']})")
    ver = verdicts(ours)
    say(f"\n== targets (dupgraph, {args.split} split): " + ", ".join(
        f"{v['what']} {v['value']:.3f} {'met' if v['met'] else 'MISSED'}" for v in ver if not v["met"])
        + f" ({sum(v['met'] for v in ver)} of {len(ver)} met)")

    result = {
        "benchmark": "dupgraph held-out quality (issue 13)", "split": args.split,
        "command": machine.the_command(ROOT, "QUALITY_BENCH_ENTRY"), "started_utc": machine.utc_now(),
        "git": machine.git_state(ROOT), "binary": machine.binary_state(ROOT, os.path.join(args.build, "dupgraph")),
        "seconds": round(time.time() - t0, 1), "packages": versions,
        "scenes": sorted(s["scene_id"] for s in chosen), "scene_file": args.scenes,
        "corpus": {"items": t.n, "groups": len(set(t.group)), "variants": int(t.variant.sum()),
                   "hard_negative_pairs": hn_pairs, "mkbench": mk_cmd, "not_usable": bad},
        "job": {"command": cmd, "config": args.config, "sets": args.set, "threshold": threshold,
                "ranks": args.ranks, "seconds": job_summary["seconds"], "k": job_summary["k"],
                "clusterings": job_summary["clusterings"], "probes": job_summary["probes"],
                "meter": meter.record()},
        "targets": {"precision": TARGET_PRECISION, "recall": TARGET_RECALL, "recall_rotations_and_crops_over_20":
                    TARGET_RECALL_HARD},
        "dupgraph": ours, "verdicts": ver,
        "phash": {"max_distance": T, "chosen_on": "tune", **ph},
        "sweep": {"from": "stored /embeddings, cosine in float64, every pair", "rows": sweep,
                  "at_tuned_threshold": at_tuned},
        "tuned": tuned,
    }
    result["candidate_cost"] = cost
    result["components"] = comps
    result["readme"], result["readme_block"] = readme_figures(args.split, ours, ph, threshold, T, cost, comps)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1, default=lambda x: x.item() if isinstance(x, np.generic) else str(x))
    os.replace(args.out + ".tmp", args.out)
    say.save(os.path.join(args.workdir, "report.txt"))
    print(f"(saved {args.out} and {os.path.join(args.workdir, 'report.txt')})")


if __name__ == "__main__":
    sys.exit(main())
