#!/bin/bash
# Giant duplicate group in forest mode: N x 64 synthetic embeddings with one
# planted group of COPIES near-identical copies, on RANKS ranks; peak RSS per
# rank against the printed estimate, edges written, seconds per stage, into
# results/forest_<tag>.json (its "readme" object feeds the README figures).
#   jobs/forest_bench.sh [N] [COPIES] [RANKS] [OUT_JSON]
set -euo pipefail
N=${1:-2000000}; COPIES=${2:-200000}; RANKS=${3:-2}; OUT=${4:-results/forest_2m.json}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/dg-forest-bench.XXXXXX)
/usr/bin/python3 "$ROOT/jobs/synth_embeddings.py" "$W/corpus.h5" --n "$N" --d 64 --seed 5 --copies "$COPIES"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
CMD=(mpirun --oversubscribe -np "$RANKS" /usr/bin/time -f "rss_kib %M" "$ROOT/build/dupgraph" run
     -c "$ROOT/configs/default.ini" -o "$W/out.h5" --set "input.embeddings=$W/corpus.h5"
     --set graph.edges=forest --set "output.summary=$W/summary.json")
START=$(date +%s.%N)
"${CMD[@]}" 2> "$W/log.txt"
END=$(date +%s.%N)
/usr/bin/python3 - "$W" "$OUT" "$N" "$COPIES" "$RANKS" "$START" "$END" "${CMD[*]}" <<'PY'
import json, re, sys
import h5py
w, out, n, copies, ranks, start, end, cmd = sys.argv[1:]
log = open(f"{w}/log.txt").read()
rss = [int(x) * 1024 for x in re.findall(r"rss_kib (\d+)", log)]
summary = json.load(open(f"{w}/summary.json"))
with h5py.File(f"{w}/out.h5", "r") as f:
    attrs = {k: f.attrs[k] for k in ("n_edges", "n_components", "n_items")}
    seconds = {k[len("seconds_"):]: float(v) for k, v in f.attrs.items() if k.startswith("seconds_")}
    comp = f["items/component"][:]
import numpy as np
largest = int(np.unique(comp, return_counts=True)[1].max())
def find(o, key):
    if isinstance(o, dict):
        if key in o:
            return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None:
                return r
    return None
est = find(summary, "estimate_bytes")
mib = 1048576.0
res = {
    "command": f"jobs/forest_bench.sh {n} {copies} {ranks} {out}",
    "run": cmd.replace(w, "$W"),
    "items": int(n), "copies": int(copies), "ranks": int(ranks),
    "edges_written": int(attrs["n_edges"]), "components": int(attrs["n_components"]),
    "largest_component": largest,
    "all_mode_edges_of_the_group": int(copies) * (int(copies) - 1) // 2,
    "peak_rss_bytes_per_rank": rss, "memory_estimate_bytes_per_rank": est,
    "seconds_per_stage": seconds, "seconds_wall": float(end) - float(start),
    "readme": {
        "items": int(n), "copies": int(copies), "ranks": int(ranks),
        "edges_written": int(attrs["n_edges"]),
        "largest_component": largest,
        "peak_rss_mib": round(max(rss) / mib, 1), "estimate_mib": round(est / mib, 1),
        "seconds_pairs": round(seconds.get("pairs", 0.0), 1),
        "seconds_wall": round(float(end) - float(start), 1),
    },
}
json.dump(res, open(out, "w"), indent=1)
print(json.dumps(res["readme"]))
PY
rm -rf "$W"
