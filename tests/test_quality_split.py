#!/usr/bin/python3
"""The held-out quality benchmark's split (jobs/quality/scenes.tsv,
python/dgtools/quality.py): the tuning code paths (quality_bench.py and
learn_whitening.py) refuse held-out items, the
split is the fixed hash rule (same ids -> same split; adding scenes moves
none), no scene is in both splits, the file's rows follow the rule, and the
pHash is the textbook one.  No image of the corpus is decoded.

usage: test_quality_split.py   (DG_SOURCE_ROOT: the project folder)
"""
import os
import sys
import tempfile

import numpy as np

ROOT = os.environ.get("DG_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, os.path.join(ROOT, "jobs"))
from dgtools import quality  # noqa: E402

SCENES = os.path.join(ROOT, "jobs", "quality", "scenes.tsv")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}")


def raises(exc, fn, *a, **k):
    try:
        fn(*a, **k)
    except exc:
        return True
    return False


def scene_file_follows_the_rule_and_splits_are_disjoint():
    scenes = quality.load_scenes(SCENES)  # raises if a row's split is not the rule's
    tune = {s for s, r in scenes.items() if r["split"] == "tune"}
    held = {s for s, r in scenes.items() if r["split"] == "heldout"}
    check(not tune & held, "a scene id is in both splits")
    check(tune | held == set(scenes), "a scene is in neither split")
    check(len(tune) >= 0.3 * len(scenes) and len(held) >= 0.3 * len(scenes),
          f"unbalanced split: {len(tune)} tune, {len(held)} held out")
    ids = [line.split("\t")[0] for line in open(SCENES) if line.strip() and not line.startswith("#")]
    check(len(ids) == len(set(ids)), "a scene id is listed twice")
    # tiles and pan crops are cut from one row's photo, so they cannot straddle the split
    files = [line.split("\t")[2] for line in open(SCENES) if line.strip() and not line.startswith("#")]
    check(len(files) == len(set(files)), "one photo file is two scenes")
    return scenes


def split_is_stable():
    scenes = quality.load_scenes(SCENES)
    for sid, row in scenes.items():
        check(quality.split_of(sid) == row["split"] == quality.split_of(str(sid)), f"{sid}: split not stable")
    # fixed values: changing the salt or the fraction would reshuffle every result
    check(quality.split_of("mate-backgrounds:ladybird") == "heldout", "split rule changed (ladybird)")
    check(quality.split_of("lxqt-themes:fog") == "tune", "split rule changed (fog)")
    # adding scenes (a new package) moves none of the old ones
    more = {f"new-package:photo{k}": quality.split_of(f"new-package:photo{k}") for k in range(200)}
    check(all(quality.split_of(s) == r["split"] for s, r in scenes.items()), "adding scenes moved a scene")
    share = sum(v == "tune" for v in more.values()) / len(more)
    check(0.35 < share < 0.65, f"the rule puts {share:.2f} of new scenes in tune")


def bad_scene_file_is_refused():
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        sid = "mate-backgrounds:ladybird"  # held out by the rule
        f.write(f"{sid}\tmate-backgrounds\t/x.jpg\tanimal\twhole\ttune\n")
    check(raises(ValueError, quality.load_scenes, f.name), "a row claiming the wrong split was accepted")
    with open(f.name, "w") as g:
        g.write(f"{sid}\tmate-backgrounds\t/x.jpg\tanimal\twhole\theldout\n" * 2)
    check(raises(ValueError, quality.load_scenes, f.name), "a repeated scene id was accepted")
    os.unlink(f.name)


def tuning_refuses_held_out_items():
    scenes = quality.load_scenes(SCENES)
    tune_ids = [s for s, r in scenes.items() if r["split"] == "tune"]
    held_ids = [s for s, r in scenes.items() if r["split"] == "heldout"]
    scores = np.array([0.9, 0.8, 0.3])
    same = np.array([True, True, False])
    ts = quality.TuneSet([tune_ids[0], tune_ids[1], tune_ids[0]], scenes)
    best, table = quality.choose_threshold(ts, scores, same, 2, [0.2, 0.5, 0.85])
    check(best == 0.5 and len(table) == 3, f"tune items: best {best}")
    # one held-out item among tune items: refused at construction
    check(raises(quality.HeldOutError, quality.TuneSet, [tune_ids[0], held_ids[0]], scenes),
          "TuneSet accepted a held-out item")
    check(raises(quality.HeldOutError, quality.TuneSet, ["no-such-package:photo"], scenes),
          "TuneSet accepted an item of no known scene")
    # anything but a TuneSet is refused, and a TuneSet changed afterwards is re-checked
    check(raises(quality.HeldOutError, quality.choose_threshold, [held_ids[0]] * 3, scores, same, 2, [0.5]),
          "choose_threshold accepted a plain list")
    ts.item_scenes.append(held_ids[0])
    check(raises(quality.HeldOutError, quality.choose_threshold, ts, scores, same, 2, [0.5]),
          "choose_threshold accepted a TuneSet holding a held-out item")


def bench_tunes_only_through_the_guard():
    """quality_bench.py's tune(): the held-out items of a real scene list are refused."""
    import quality_bench  # noqa: E402  (jobs/quality_bench.py; its main is not run)
    scenes = quality.load_scenes(SCENES)
    held = [s for s, r in scenes.items() if r["split"] == "heldout"][:2]

    class FakeItems:  # the two attributes tune() reads, for 3 items of held-out scenes
        scene = np.array([held[0], held[0], held[1]])
        truth = type("T", (), {"group": np.array([0, 0, 1]), "original": np.array([0, 0, 2]),
                               "variant": np.array([False, True, False])})()
    src, dst, score = np.array([0, 0]), np.array([1, 2]), np.array([0.9, 0.1])
    check(raises(quality.HeldOutError, quality_bench.tune, FakeItems, scenes, src, dst, score, [0.5], True),
          "quality_bench.tune accepted held-out items")


def whitening_learns_from_tune_items_only():
    """learn_whitening.tune_items: a corpus holding a held-out scene's copies is refused, one of a
    tune scene's is taken (truth and manifest only; nothing is decoded)."""
    import learn_whitening  # noqa: E402  (jobs/learn_whitening.py; its main is not run)
    scenes = quality.load_scenes(SCENES)
    for split in ("heldout", "tune"):
        scene = next(r for r in scenes.values() if r["split"] == split and r["file"].lower().endswith(".jpg"))
        with tempfile.TemporaryDirectory() as work:
            os.makedirs(os.path.join(work, "corpus"))
            with open(os.path.join(work, "corpus", "truth.csv"), "w") as f:
                f.write("path,group,original,transform,strength,params\n"
                        f"images/g0000/original.jpg,0,{scene['file']},original,none,\n"
                        f"images/g0000/jpeg_mild.jpg,0,{scene['file']},jpeg,mild,quality=60\n")
            with open(os.path.join(work, "corpus", "manifest.txt"), "w") as f:
                f.write("images/g0000/original.jpg\nimages/g0000/jpeg_mild.jpg\n")
            args = type("A", (), {"scenes": SCENES, "workdir": work})()
            if split == "heldout":
                check(raises(quality.HeldOutError, learn_whitening.tune_items, args),
                      "learn_whitening accepted a held-out scene's items")
            else:
                paths, t, item_scene = learn_whitening.tune_items(args)
                check(len(paths) == 2 and list(item_scene) == [scene["scene_id"]] * 2,
                      "learn_whitening refused or misread a tune scene's items")


def phash_is_the_textbook_one():
    rng = np.random.default_rng(1)
    img = rng.random((32, 32)) * 200 + np.tile(np.arange(32, dtype=float) * 1.5, (32, 1))
    h = quality.phash_pixels(img)
    check(h == quality.phash_pixels(img + 10), "pHash changed with a brightness shift (only DC moves)")
    check(int(quality.hamming(h, quality.phash_pixels(img[:, ::-1]))[0]) > 0, "mirror gave the same hash")
    hs = np.array([quality.phash_pixels(rng.random((32, 32)) * 255) for _ in range(50)], np.uint64)
    i, j, d = quality.pairs_below(hs, 64)
    check(len(i) == 50 * 49 // 2, "pairs_below missed pairs")
    ref = [bin(int(hs[a]) ^ int(hs[b])).count("1") for a, b in zip(i, j)]
    check(list(d) == ref, "Hamming distances wrong")


def main():
    scene_file_follows_the_rule_and_splits_are_disjoint()
    split_is_stable()
    bad_scene_file_is_refused()
    tuning_refuses_held_out_items()
    bench_tunes_only_through_the_guard()
    whitening_learns_from_tune_items_only()
    phash_is_the_textbook_one()
    if failures:
        print(f"test_quality_split: {len(failures)} failure(s)")
        sys.exit(1)
    print("test_quality_split: all checks passed")


if __name__ == "__main__":
    main()
