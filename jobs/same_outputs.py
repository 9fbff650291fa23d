#!/usr/bin/python3
"""Checks that two dupgraph binaries write the same output on the e2e corpora.

For a refactor that must not change results (issue 12's move of the tree):
runs OLD and NEW on the demo photo corpus (built-in descriptor), on synthetic
embeddings (clustered search and exact mode) at 1, 2 and 4 ranks, and
compares every dataset byte for byte and every root attribute except the
timings (seconds_*) and program_version; in the config attribute, keys that
NEW adds are not differences (lines OLD has and NEW lacks or changed are).  Prints one line per case and
exits 1 on any difference.

    jobs/same_outputs.py OLD_DUPGRAPH NEW_DUPGRAPH [--work DIR] [--mkbench BIN]
"""
import argparse
import os
import subprocess
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_ATTRS = ("program_version",)


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def mpi_env():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return env


def run(binary, ranks, mode, sets, out):
    cmd = ["mpirun", "-np", str(ranks), binary, mode, "-c", os.path.join(ROOT, "configs", "default.ini"), "-o", out,
           "--set", "job.resume=false"]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True, env=mpi_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def objects(f):
    found = {}
    f.visititems(lambda name, obj: found.setdefault(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def differences(a_path, b_path):
    out = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        da, db = objects(a), objects(b)
        if sorted(da) != sorted(db):
            out.append("datasets differ: %s vs %s" % (sorted(set(da) - set(db)), sorted(set(db) - set(da))))
        for name in sorted(set(da) & set(db)):
            x, y = da[name], db[name]
            if x.dtype != y.dtype or x.shape != y.shape:
                out.append("%s: %s %s vs %s %s" % (name, x.dtype, x.shape, y.dtype, y.shape))
            elif x.size and np.asarray(x[()]).tobytes() != np.asarray(y[()]).tobytes():
                out.append("%s: values differ" % name)
        keys = lambda f: {k for k in f.attrs if not k.startswith("seconds_") and k not in SKIP_ATTRS}
        if keys(a) != keys(b):
            out.append("root attributes differ: %s" % sorted(keys(a) ^ keys(b)))
        for k in sorted(keys(a) & keys(b)):
            if k == "config":
                out += config_differences(a.attrs[k], b.attrs[k])
            elif np.asarray(a.attrs[k]).tobytes() != np.asarray(b.attrs[k]).tobytes():
                out.append("attribute %s: %r vs %r" % (k, a.attrs[k], b.attrs[k]))
    return out


def config_differences(old, new):
    """The config attribute: a key NEW adds (at its default, by the cases'
    settings) is not a difference; a changed or missing line is."""
    text = lambda v: v.decode() if isinstance(v, bytes) else str(v)  # noqa: E731
    lo, ln = text(old).splitlines(), text(new).splitlines()
    gone = [x for x in lo if x not in ln]
    return ["config: lines only in OLD: %s" % gone] if gone else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--work", default="/tmp/dg-same-outputs")
    ap.add_argument("--mkbench", default=os.path.join(ROOT, "build", "dg-mkbench"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    corpus = os.path.join(a.work, "corpus")
    if not os.path.exists(os.path.join(corpus, "manifest.txt")):
        sh([os.path.join(ROOT, "jobs", "make_demo_corpus.sh"), corpus], env=dict(os.environ, DG_MKBENCH=a.mkbench))
    emb = os.path.join(a.work, "emb.h5")
    if not os.path.exists(emb):
        sh(["/usr/bin/python3", os.path.join(ROOT, "jobs", "synth_embeddings.py"), "--n", "20000", "--d", "48",
            "--bad-rows", "5", emb])
    cases = [
        ("photos", "run", ["input.manifest=" + os.path.join(corpus, "manifest.txt"), "output.embeddings=float32",
                           "pairs.threshold=0.75", "graph.keep=central"]),
        ("embeddings", "run", ["input.embeddings=" + emb, "output.embeddings=float32"]),
        ("embeddings-exact", "exact", ["input.embeddings=" + emb]),
    ]
    failed = 0
    for label, mode, sets in cases:
        for ranks in (1, 2, 4):
            outs = []
            # Both write the same path (it is stored in the config attribute),
            # then the result is moved aside.
            out = os.path.join(a.work, "%s-%d.h5" % (label, ranks))
            for tag, binary in (("old", a.old), ("new", a.new)):
                run(binary, ranks, mode, sets, out)
                os.replace(out, out[:-3] + "-" + tag + ".h5")
                outs.append(out[:-3] + "-" + tag + ".h5")
            diff = differences(*outs)
            failed += bool(diff)
            print("%-17s %d ranks: %s" % (label, ranks, "same" if not diff else "; ".join(diff)), flush=True)
    print("%d of %d cases differ" % (failed, 3 * len(cases)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
