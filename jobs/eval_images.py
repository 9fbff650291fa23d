#!/usr/bin/python3
"""Quality and speed of the image input on a real-photo benchmark, in one run.

  1. Corpus: the JPEG files of the installed photo packages (by default
     lomiri-wallpapers-16.04, mate-backgrounds and plasma-workspace-wallpapers;
     whichever are installed, said at the start) go through dg-mkbench, which
     writes originals, a variant per transform and strength, distractors and
     truth.csv (cached in --workdir while the inputs are the same).
  2. `dupgraph run` and `dupgraph exact` under mpirun on --ranks ranks with the
     settings of --config (configs/demo.ini) and --set input.manifest=...;
     exact runs at the lowest of --thresholds so that its stored similarities
     give every threshold by filtering (it stores only edges >= its threshold).
  3. Quality against truth.csv (a true pair = two files of the same group):
     per transform and strength, recall over the (original, variant) pairs and
     precision over the edges that touch a variant of that kind; the mild and
     strong sub-corpora (originals + distractors + the variants of that
     strength, all pairs); all pairs, from edges and from components; the
     recall of the clustered search against exact on the same embeddings; the
     same figures at each threshold from exact's similarities; and the
     similarities that decide them (lowest original-variant, highest between
     different groups), computed from the stored /embeddings.
  4. Speed: build/dg-embed-bench on the same files (libjpeg-turbo's own decode
     at the embedder's scale, then the embedder's per-item path and its
     projection, one process), beside the job's embed stage in images/s per
     rank (seconds_embed and n_items / ranks of the output file; the fastest
     of --speed-runs runs of the job).
Everything printed is also saved to WORKDIR/eval.txt.  Nothing fails on the
figures: the targets (mild variants: precision >= 0.99, recall >= 0.95) are
printed as met or missed.  Exit status != 0 only when something did not run.

    jobs/eval_images.sh                          # everything, about a minute
    jobs/eval_images.py --ranks 4 --distractors 4
    jobs/eval_images.py --photos /some/folder/of/photos --size 640
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))  # dgtools
from dgtools import components, imagebench, output, summary  # noqa: E402
from dgtools.imagebench import (Truth, component_prf, edge_arrays, installed,  # noqa: E402
                                package_jpegs, subset_prf, truth_table, variant_prf)
from dgtools.bench import Report  # noqa: E402

PACKAGES = ["lomiri-wallpapers-16.04", "mate-backgrounds", "plasma-workspace-wallpapers"]
TARGET_PRECISION, TARGET_RECALL = 0.99, 0.95


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build", help="build folder with dupgraph, dg-mkbench, dg-embed-bench")
    p.add_argument("--workdir", default="build/eval-images", help="corpus, outputs, logs and eval.txt")
    p.add_argument("--config", default="configs/demo.ini")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="further config overrides for both runs")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--packages", default=",".join(PACKAGES),
                   help="Debian photo packages to use if installed (comma-separated)")
    p.add_argument("--photos", help="a folder or manifest of photos instead of the packages")
    p.add_argument("--seed", type=int, default=1, help="dg-mkbench seed")
    p.add_argument("--size", default="1024", help="dg-mkbench --size (originals fit N x N)")
    p.add_argument("--distractors", type=int, default=8)
    p.add_argument("--max-originals", type=int, help="dg-mkbench --max-originals (default: all others)")
    p.add_argument("--thresholds", default="0.70,0.75,0.80")
    p.add_argument("--speed-runs", type=int, default=3, help="runs of the job for its embed rate (>= 1)")
    p.add_argument("--repeat", type=int, default=3, help="dg-embed-bench passes")
    p.add_argument("--fresh", action="store_true", help="rebuild the corpus even if cached")
    a = p.parse_args()
    a.thresholds = sorted(float(t) for t in a.thresholds.split(","))
    a.speed_runs = max(1, a.speed_runs)
    return a


# ---- corpus -------------------------------------------------------------------

def photo_source(args, say):
    """The --photos argument for dg-mkbench: the user's, or a list of the packages' JPEG files."""
    if args.photos:
        say(f"photos: {args.photos}")
        return args.photos
    wanted = [p for p in args.packages.split(",") if p]
    have = [p for p in wanted if installed(p)]
    if not have:
        raise SystemExit(f"eval_images: none of the photo packages is installed: {', '.join(wanted)} "
                         "(apt-get install one, or give --photos)")
    files, used = [], []
    for p in have:
        jpegs = package_jpegs(p)
        files += jpegs
        used.append(f"{p} ({len(jpegs)} JPEG files)")
    missing = [p for p in wanted if p not in have]
    say(f"photos from: {', '.join(used)}" + (f"; not installed, skipped: {', '.join(missing)}" if missing else ""))
    os.makedirs(args.workdir, exist_ok=True)
    listing = os.path.join(args.workdir, "photos.txt")
    with open(listing, "w") as f:
        f.write("".join(x + "\n" for x in sorted(files)))
    return listing


def make_corpus(args, say):
    source = photo_source(args, say)
    out = os.path.join(args.workdir, "corpus")
    cmd = [os.path.join(args.build, "dg-mkbench"), "--photos", source, "--out", out, "--seed", str(args.seed),
           "--distractors", str(args.distractors), "--size", args.size]
    if args.max_originals is not None:
        cmd += ["--max-originals", str(args.max_originals)]
    imagebench.run_mkbench(cmd, source, "eval-stamp.json", args.fresh, say, "eval_images")
    sources = [line for line in open(os.path.join(out, "sources.txt")) if not line.startswith("#")]
    roles = [line.split("\t")[1] for line in sources if not line.startswith("-")]
    say(f"corpus: {out}: {roles.count('original')} originals, {roles.count('distractor')} distractors, "
        f"{sum(1 for line in sources if line.startswith('-'))} source files left out as the same photo "
        "(sources.txt)")
    return out


# ---- running the job -------------------------------------------------------------

def run_job(args, mode, manifest, out, sets, log):
    """One `dupgraph MODE` under mpirun, its log saved; returns the command, the
    log text and the job's JSON summary (output.summary = OUT.summary.json)."""
    summary_path = out + ".summary.json"
    cmd = ["mpirun", "--oversubscribe", "-np", str(args.ranks), "-x", "OPENBLAS_NUM_THREADS",
           os.path.join(args.build, "dupgraph"), mode, "-c", args.config, "-o", out,
           "--set", f"input.manifest={manifest}", "--set", "output.embeddings=float32",
           "--set", "job.resume=false", *summary.set_args(summary_path)]
    for s in list(args.set) + list(sets):
        cmd += ["--set", s]
    try:
        text, s, _ = summary.run(cmd, summary_path, log, tail=40, header="$ " + shlex.join(cmd) + "\n")
    except summary.JobFailed as e:
        raise SystemExit(f"eval_images: {mode} failed ({e})") from None
    return cmd, text, s


def load_output(path):
    out = output.read(path, items=("path", "status", "component"), embeddings=True)
    res = dict(out.items, src=out.src, dst=out.dst, sim=out.sim, emb=out.embeddings, attrs=out.attrs)
    res["cfg"] = out.config  # {section: {key: typed value}}
    return res


# ---- pair metrics (dgtools.imagebench) ----------------------------------------------

def kind_rows(truth, src, dst, good, sims_ov):
    rows = []
    for kind, strength in truth.kinds:
        items = np.flatnonzero(truth.variant & (truth.transform == kind) & (truth.strength == strength))
        p, r, f, n, found, ne = variant_prf(truth, src, dst, good, items)
        rows.append((kind, strength, n, found, r, ne, p, f, sims_ov[items].min(), sims_ov[items].mean()))
    return rows


def print_kind_table(say, rows):
    say(f"{'transform':<11} {'strength':<8} {'pairs':>5} {'found':>5} {'recall':>7} {'edges':>6} "
        f"{'precision':>9} {'F1':>6}  {'min sim':>7} {'mean sim':>8}")
    for k, s, n, found, r, ne, p, f, smin, smean in rows:
        say(f"{k:<11} {s:<8} {n:>5} {found:>5} {r:>7.3f} {ne:>6} {p:>9.4f} {f:>6.3f}  {smin:>7.3f} {smean:>8.3f}")


def strength_ov(truth, src, dst, good, strength):
    return variant_prf(truth, src, dst, good, np.flatnonzero(truth.variant & (truth.strength == strength)))


def fmt(p, r, f):
    return f"precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}"


# ---- sections -----------------------------------------------------------------------

def section_quality(say, truth, run, threshold, sims_ov):
    src, dst, good = edge_arrays(run["src"], run["dst"], truth)
    say(f"\n== quality: clustered search (dupgraph run), pairs.threshold = {threshold:g}, against truth.csv")
    say("per transform: pairs/found/recall = (original, variant) pairs found as edges; edges/precision = the "
        "edges touching a variant of that kind, and the share of them inside one group; sim = cosine of "
        "the (original, variant) pairs")
    print_kind_table(say, kind_rows(truth, src, dst, good, sims_ov))
    verdicts = []
    for strength in ("mild", "strong"):
        p, r, f, n, found, _ = strength_ov(truth, src, dst, good, strength)
        say(f"{strength:<6} (original, variant) pairs ({found}/{n} found): {fmt(p, r, f)}")
        if strength == "mild":
            verdicts.append(("mild (original, variant) pairs", p, r))
    for strength in ("mild", "strong"):
        mask = truth.subset(strength)
        p, r, f = subset_prf(truth, src, dst, good, mask)
        say(f"{strength:<6} sub-corpus, all pairs ({int(mask.sum())} items, {truth.true_pairs(mask)} true pairs), "
            f"edges:      {fmt(p, r, f)}")
        pc, rc, fc = component_prf(truth, run["component"], mask)
        say(f"{strength:<6} sub-corpus, all pairs, same component:                   {fmt(pc, rc, fc)}")
        if strength == "mild":
            verdicts += [("mild sub-corpus, edges", p, r), ("mild sub-corpus, components", pc, rc)]
    everything = np.ones(truth.n, bool)
    p, r, f = subset_prf(truth, src, dst, good, everything)
    say(f"all pairs ({truth.n} items, {truth.true_pairs(everything)} true pairs, {len(src)} edges), edges:"
        f"         {fmt(p, r, f)}")
    p, r, f = component_prf(truth, run["component"], everything)
    say(f"all pairs, same component:                                        {fmt(p, r, f)}")
    say(f"targets on the mild variants (precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}):")
    for what, p, r in verdicts:
        ok = p >= TARGET_PRECISION and r >= TARGET_RECALL
        say(f"  {what:<32} precision {p:.4f} recall {r:.4f}: {'met' if ok else 'MISSED'}")


def section_vs_exact(say, run, exact, threshold):
    say(f"\n== clustered search against exact (threshold {threshold:g}, same embeddings)")
    same = run["emb"].shape == exact["emb"].shape and np.array_equal(run["emb"], exact["emb"])
    say(f"embeddings of the two runs: {'bit-identical' if same else 'DIFFERENT'} {run['emb'].shape}")
    t = np.float32(threshold)
    keep = exact["sim"] >= t
    ex = dict(zip(zip(exact["src"][keep].tolist(), exact["dst"][keep].tolist()), exact["sim"][keep].tolist()))
    rn = dict(zip(zip(run["src"].tolist(), run["dst"].tolist()), run["sim"].tolist()))
    common = [k for k in rn if k in ex]
    extra = len(rn) - len(common)
    diff = max((abs(rn[k] - ex[k]) for k in common), default=0.0)
    say(f"exact edges >= {threshold:g}: {len(ex)}; clustered search found {len(common)}: "
        f"recall {len(common) / len(ex) if ex else 1.0:.4f}; edges not in exact: {extra}; "
        f"max |sim difference| on common edges: {diff:.3g}")
    missed = sorted((ex[k], k) for k in ex if k not in rn)
    if missed:
        say("missed by the clustered search (sim, ids): " +
            ", ".join(f"{s:.3f} {k}" for s, k in missed[-10:]))


def section_thresholds(say, truth, exact, thresholds):
    say(f"\n== thresholds, from exact's stored similarities (exact ran at {thresholds[0]:g})")
    say(f"{'threshold':>9} {'edges':>6} | {'all pairs: P':>12} {'R':>6} {'F1':>6} | {'mild sub-corpus: P':>18} "
        f"{'R':>6} {'F1':>6} | {'mild (orig,var) R':>17} | {'strong (orig,var) R':>19} | {'components: P':>13} "
        f"{'R':>6}")
    everything = np.ones(truth.n, bool)
    for th in thresholds:
        keep = exact["sim"] >= np.float32(th)
        src, dst, good = edge_arrays(exact["src"][keep], exact["dst"][keep], truth)
        p, r, f = subset_prf(truth, src, dst, good, everything)
        pm, rm, fm = subset_prf(truth, src, dst, good, truth.subset("mild"))
        _, r_mild, *_ = strength_ov(truth, src, dst, good, "mild")
        _, r_strong, *_ = strength_ov(truth, src, dst, good, "strong")
        pc, rc, _ = component_prf(truth, components.labels(truth.n, src, dst), everything)
        say(f"{th:>9.2f} {len(src):>6} | {p:>12.4f} {r:>6.4f} {f:>6.4f} | {pm:>18.4f} {rm:>6.4f} {fm:>6.4f} | "
            f"{r_mild:>17.4f} | {r_strong:>19.4f} | {pc:>13.4f} {rc:>6.4f}")


def section_separation(say, truth, emb, sim, sims_ov, n_show=8):
    say("\n== separation (cosine similarities from /embeddings, every pair)")
    diff = truth.group[:, None] != truth.group[None, :]
    iu = np.triu_indices(truth.n, 1)
    dmask = diff[iu]
    dvals = sim[iu][dmask]
    order = np.argsort(-dvals)[:n_show]
    path = truth.t["path"].to_numpy()
    low = np.flatnonzero(truth.variant)
    low = low[np.argsort(sims_ov[low])][:n_show]
    say(f"lowest (original, variant) similarities (of {int(truth.variant.sum())}):")
    for i in low:
        say(f"  {sims_ov[i]:.4f}  {path[i]}  ({truth.t['params'][i]})")
    say(f"highest similarities between different groups (of {len(dvals)} pairs):")
    for k in order:
        a, b = iu[0][dmask][k], iu[1][dmask][k]
        say(f"  {dvals[k]:.4f}  {path[a]}  {path[b]}")


def embed_rate(res):
    a = res["attrs"]
    n, ranks, sec = int(a["n_items"]), int(a["ranks"]), float(a["seconds_embed"])
    return n / ranks / sec, sec, n, ranks


def section_speed(say, args, manifest, run, outputs, logs, loads):
    say("\n== speed")
    cfg = run["cfg"]
    cmd = [os.path.join(args.build, "dg-embed-bench"), "--manifest", manifest, "--repeat", str(args.repeat),
           "--dim", str(cfg["embed"]["dim"]), "--max-pixels", str(cfg["embed"]["max_pixels"])]
    if not cfg["embed"]["flip"]:
        cmd.append("--no-flip")
    say(f"load average before dg-embed-bench: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} cores; other work on the machine slows both sides)")
    say("$ " + shlex.join(cmd))
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if r.returncode != 0:
        raise SystemExit(f"eval_images: dg-embed-bench failed:\n{r.stderr}")
    for line in r.stdout.rstrip().splitlines():
        say(line)
    bench = {m.group(1): (float(m.group(2)), float(m.group(3)))
             for m in re.finditer(r"^\s+\((?:a|b)\) (.+?)\s+[\d.]+ s\s+([\d.]+)/s\s+[\d.]+ s\s+([\d.]+)/s$",
                                  r.stdout, re.M)}
    say(f"job embed stage ({args.ranks} ranks, {len(outputs)} run(s) of dupgraph run; seconds_embed is rank 0's "
        "wall time of the stage: listing, decode, descriptor, PCA, projection):")
    rates = []
    for out, log, load in zip(outputs, logs, loads):
        rate, sec, n, ranks = embed_rate(out)
        rates.append(rate)
        line = next((x for x in log.splitlines() if "embed: rank 0 did" in x), "")
        say(f"  seconds_embed {sec:.3f} s, n_items {n}, ranks {ranks}: {rate:.1f} images/s per rank "
            f"(load average {load:.2f} before the run)")
        say(f"    log: {line.strip()}")
    nan = (float("nan"), float("nan"))
    rows = [("libjpeg-turbo decode only, same files and scale (dg-embed-bench)",
             bench.get("libjpeg-turbo decode only (tjDecompress2)", nan)),
            ("embedder per item + projection, one process (dg-embed-bench)",
             bench.get("embedder total (read + decode + descriptor + projection)", nan)),
            (f"job embed stage per rank, fastest of {len(rates)} run(s) (dupgraph run)", (max(rates), None))]
    say("side by side (images/s per core; cpu = per second of the process's own CPU time, which other "
        "work on the machine does not inflate):")
    for what, (wall, cpu) in rows:
        say(f"  {what:<68} {wall:9.1f} wall" + (f" {cpu:9.1f} cpu" if cpu is not None else ""))


# ---- main -----------------------------------------------------------------------------

def main():
    args = parse_args()
    say = Report()
    os.makedirs(args.workdir, exist_ok=True)
    say(f"eval_images: {time.strftime('%Y-%m-%d %H:%M:%S')}, config {args.config}"
        + (f" with {' '.join(args.set)}" if args.set else "") + f", {args.ranks} ranks")
    corpus = make_corpus(args, say)
    manifest = os.path.abspath(os.path.join(corpus, "manifest.txt"))
    run_out = os.path.join(args.workdir, "run.h5")
    exact_out = os.path.join(args.workdir, "exact.h5")
    run_load = os.getloadavg()[0]
    cmd, run_log, run_summary = run_job(args, "run", manifest, run_out, [], os.path.join(args.workdir, "run.log"))
    say("$ " + shlex.join(cmd))
    run = load_output(run_out)
    threshold = run["cfg"]["pairs"]["threshold"]
    lowest = min(args.thresholds + [threshold])
    cmd, _, _ = run_job(args, "exact", manifest, exact_out, [f"pairs.threshold={lowest}"],
                     os.path.join(args.workdir, "exact.log"))
    say("$ " + shlex.join(cmd))
    exact = load_output(exact_out)

    truth = Truth(truth_table(corpus, run["path"]))
    by_status = run_summary["items"]["by_status"]
    cfg = run["cfg"]
    say(f"items: {truth.n}; statuses: " + ", ".join(f"{c} {name}" for name, c in by_status.items() if c)
        + f"; embed.dim {cfg['embed']['dim']}, embed.flip {str(cfg['embed']['flip']).lower()}, "
        f"K {cfg['cluster']['k']} (K={run_summary['k']}), clusterings {run_summary['clusterings']}, "
        f"probes {run_summary['probes']}")
    emb = run["emb"].astype(np.float64)
    sim = emb @ emb.T
    sims_ov = np.where(truth.original >= 0, sim[np.arange(truth.n), np.maximum(truth.original, 0)], np.nan)

    section_quality(say, truth, run, threshold, sims_ov)
    section_vs_exact(say, run, exact, threshold)
    section_thresholds(say, truth, exact, sorted(set(args.thresholds + [threshold])))
    section_separation(say, truth, emb, sim, sims_ov)

    outputs, logs, loads = [run], [run_log], [run_load]
    for k in range(1, args.speed_runs):
        out = os.path.join(args.workdir, f"speed{k}.h5")
        loads.append(os.getloadavg()[0])
        _, log, _ = run_job(args, "run", manifest, out, [], os.path.join(args.workdir, f"speed{k}.log"))
        outputs.append(load_output(out))
        logs.append(log)
    section_speed(say, args, manifest, run, outputs, logs, loads)
    say.save(os.path.join(args.workdir, "eval.txt"))
    print(f"(saved to {os.path.join(args.workdir, 'eval.txt')})")


if __name__ == "__main__":
    sys.exit(main())
