"""Session-13 probe: a second acceptance region for pairs whose embedding
already agrees.  A candidate is accepted when score >= T0 and detail
difference <= D0 (the cut-offs), or when cosine >= C1, score >= S1 and
detail difference <= D1.  Every setting of the grid is scored on one half
of the tune scenes (learned_rule_probe.py's halves); the best within the
cut-offs' false accepts and false group pairs there (verify_pairs.py's
rule) is then scored on the other half.  Last, the rule on the whole tune
split (both halves and the pairs across them), as a job setting would be
chosen, and that setting on each half.

    /usr/bin/python3 relaxed_rule_probe.py BINARY > relaxed_rule_probe.txt
"""
import itertools
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import grid_probe  # noqa: E402
import learned_rule_probe as halves  # noqa: E402
import probe_lib  # noqa: E402  (session 12's, on grid_probe's path)
import verify_pairs  # noqa: E402  (jobs/, on grid_probe's path)

GRID = list(itertools.product([0.55, 0.6, 0.65, 0.7], [0.35, 0.4, 0.45], [0.6, 0.65, 0.7, 0.75, 0.8],
                              [0.3, 0.4, 0.5], [0.45, 0.55, 0.7, 1.0]))


def accepted(d, t0, d0, c1, s1, d1):
    score, detail = d["rows"][:, 2], d["rows"][:, 3]
    return ((score >= t0) & (detail <= d0)) | ((d["sim"] >= c1) & (score >= s1) & (detail <= d1))


def pooled(data, acc):
    """verify_pairs.py's counts over every candidate pair of the three seeds."""
    t = verify_pairs.tally(data, acc)
    return t["recall"], t["false_accepts"], t["false_group_pairs"]


def show(counts):
    return f"recall {counts[0]:.4f}, false accepts {counts[1]}, false group pairs {counts[2]}"


def main():
    data = grid_probe.seeds_data(sys.argv[1])
    for d, work in zip(data, probe_lib.SPLITS["tune"]):
        halves.add_halves(d, work)
    cutoffs = [accepted(d, 0.55, 0.45, 2.0, 2.0, 0.0) for d in data]
    print("setting: (T0, D0, C1, S1, D1)")
    for h in (0, 1):
        bound = halves.counts(data, cutoffs, h)
        scored = [(p, halves.counts(data, [accepted(d, *p) for d in data], h)) for p in GRID]
        ok = [x for x in scored if x[1][1] <= bound[1] and x[1][2] <= bound[2]]
        p, c = max(ok, key=lambda x: x[1][0])
        other = 1 - h
        print(f"chosen on half {h} ({show(bound)} with the cut-offs): {p}: {show(c)}")
        print(f"  on half {other}: {show(halves.counts(data, [accepted(d, *p) for d in data], other))}; "
              f"cut-offs {show(halves.counts(data, cutoffs, other))}")
    bound = pooled(data, cutoffs)
    scored = [(p, pooled(data, [accepted(d, *p) for d in data])) for p in GRID]
    ok = sorted((x for x in scored if x[1][1] <= bound[1] and x[1][2] <= bound[2]), key=lambda x: -x[1][0])
    print(f"whole tune split, cut-offs: {show(bound)}; the best five within them:")
    for p, c in ok[:5]:
        print(f"  {p}: {show(c)}")
    p = ok[0][0]
    for h in (0, 1):
        print(f"  {p} on half {h}: {show(halves.counts(data, [accepted(d, *p) for d in data], h))}; cut-offs "
              f"{show(halves.counts(data, cutoffs, h))}")


if __name__ == "__main__":
    main()
