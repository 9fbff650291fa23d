#!/usr/bin/env bash
# Held-out quality benchmark (issue 13): installs the photo packages the scene
# list needs (jobs/quality/scenes.tsv, as jobs/setup.sh installs its own),
# builds dupgraph and dg-mkbench, then runs jobs/quality_bench.py: a corpus
# of the chosen split's scenes made by dg-mkbench (every transform, tiles and
# pan crops as hard negatives), `dupgraph run` on 2 ranks with
# configs/demo.ini, pair precision / recall / F1 per transform and kind of
# photo beside pHash, a threshold sweep; results/quality_SPLIT.json.
# Thresholds are chosen on the tune split only, so run it first:
#   jobs/quality_bench.sh --split tune       # results/quality_tune.json (a few minutes)
#   jobs/quality_bench.sh --split heldout    # results/quality_heldout.json
#   jobs/quality_bench.sh --split heldout --set pairs.threshold=0.7 --out build/q.json
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  echo "quality_bench: no build/ folder: run jobs/setup.sh first" >&2
  exit 1
fi
PACKAGES=($(awk -F'\t' '!/^#/ && NF { print $2 }' jobs/quality/scenes.tsv | sort -u) python3-pil python3-numpy python3-pandas python3-h5py)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quality_bench: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
ninja -C build dupgraph dg-mkbench >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export QUALITY_BENCH_ENTRY=jobs/quality_bench.sh
exec /usr/bin/python3 jobs/quality_bench.py "$@"
