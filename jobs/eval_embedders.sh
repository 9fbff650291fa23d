#!/usr/bin/env bash
# Both embedders on the same real-photo benchmark, side by side: runs
# jobs/eval_images.py once with the descriptor (configs/demo.ini, threshold
# 0.75) and once with embed.method = mobilenet_v2 (threshold 0.85, where its
# precision on this benchmark is about 0.99), then prints pair precision,
# recall and F1 and the job's embed rate (images/s per rank) of each.  Full
# reports: build/eval-descriptor/eval.txt and build/eval-mobilenet_v2/eval.txt.
#   jobs/eval_embedders.sh [options for eval_images.py, e.g. --ranks 4]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/mobilenet_v2.h5 ] || jobs/setup_mobilenet.sh build
ninja -C build dupgraph dg-mkbench dg-embed-bench >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
/usr/bin/python3 jobs/eval_images.py --workdir build/eval-descriptor "$@" >/dev/null
/usr/bin/python3 jobs/eval_images.py --workdir build/eval-mobilenet_v2 --set embed.method=mobilenet_v2 \
  --set embed.weights=build/mobilenet_v2.h5 --set pairs.threshold=0.85 --thresholds 0.80,0.85,0.90 "$@" >/dev/null
/usr/bin/python3 - build/eval-descriptor/eval.txt build/eval-mobilenet_v2/eval.txt <<'PY'
import re, sys
rows = [("mild (original, variant) pairs", r"^mild   \(original, variant\) pairs.*precision (\S+)\s+recall (\S+)\s+F1 (\S+)"),
        ("strong (original, variant) pairs", r"^strong \(original, variant\) pairs.*precision (\S+)\s+recall (\S+)\s+F1 (\S+)"),
        ("all pairs, edges", r"^all pairs \(.*edges:\s+precision (\S+)\s+recall (\S+)\s+F1 (\S+)")]
texts = [open(p).read() for p in sys.argv[1:]]
print(f"{'':34} {'descriptor':>24} {'mobilenet_v2':>24}")
print(f"{'':34} {'P      R      F1':>24} {'P      R      F1':>24}")
for name, pat in rows:
    cells = []
    for t in texts:
        m = re.search(pat, t, re.M)
        cells.append(" ".join(m.groups()) if m else "?")
    print(f"{name:34} {cells[0]:>24} {cells[1]:>24}")
for label, pat in (("pairs.threshold", r"pairs\.threshold = (\S+), against"),):
    print(f"{label:34} " + " ".join(f"{(re.search(pat, t).group(1) if re.search(pat, t) else '?'):>24}" for t in texts))
rates = []
for t in texts:
    r = [float(x) for x in re.findall(r"ranks \d+: ([\d.]+) images/s per rank", t)]
    rates.append(f"{max(r):.1f}" if r else "?")
print(f"{'job embed stage, images/s per rank':34} {rates[0]:>24} {rates[1]:>24}")
PY
