"""Which (original, variant) pairs the held-out job lost to the verifier's budget: pairs the
verifier accepts at 0.55 / 0.45 (every candidate scored by dg-verify-pairs) that are not edges of
the job's output, with each pair's rank by cosine among the candidates below accept_above of
either item (the budget keeps a pair ranked within verify.max_candidates = 30 on one side).
Reads the held-out job output to explain misses; chooses nothing.
usage: budget_losses.py DG_VERIFY_PAIRS [WORK_FOLDER]"""
import collections
import os
import sys

import h5py
import numpy as np

from probe_lib import SPLITS, accepted, seed_data

work = sys.argv[2] if len(sys.argv) > 2 else SPLITS["heldout"][0]
d = seed_data(work, sys.argv[1])
with h5py.File(os.path.join(work, "run.h5"), "r") as f:
    ids, src, dst = f["items/id"][:], f["edges/src"][:], f["edges/dst"][:]
at = np.empty(ids.max() + 1, int)
at[ids] = np.arange(len(ids))
n = d["items"]
edges = set((np.minimum(at[src], at[dst]) * n + np.maximum(at[src], at[dst])).tolist())
r = d["rows"]
ci, cj = r[:, 0].astype(np.int64), r[:, 1].astype(np.int64)
rank_i, rank_j, seen = np.zeros(len(ci), int), np.zeros(len(ci), int), np.zeros(n, int)
for p in np.argsort(-d["sim"], kind="stable"):
    seen[ci[p]] += 1
    seen[cj[p]] += 1
    rank_i[p], rank_j[p] = seen[ci[p]], seen[cj[p]]
copies = accepted(r) & (d["variant_pair"] >= 0)
lost = collections.Counter()
found = collections.Counter()
for p in np.flatnonzero(copies):
    kind = d["variant_kind"][d["variant_pair"][p]]
    if int(min(ci[p], cj[p]) * n + max(ci[p], cj[p])) in edges:
        found[kind] += 1
    else:
        lost[(kind, "both ranks > 30" if min(rank_i[p], rank_j[p]) > 30 else "a rank <= 30")] += 1
print(f"{os.path.basename(work)}: verified copies the job kept {sum(found.values())}, lost {sum(lost.values())}")
for (kind, why), c in sorted(lost.items(), key=lambda kv: -kv[1]):
    print(f"  {kind:20s} {c} lost ({why}); {found[kind]} kept")
