#!/usr/bin/env bash
# Quality and speed of the image input in one command: a real-photo benchmark
# made by dg-mkbench from the installed photo packages, `dupgraph run` and
# `dupgraph exact` on 2 ranks with configs/demo.ini, pair precision/recall/F1
# per transform and strength, recall against exact, a threshold sweep, and
# dg-embed-bench's decode rate beside the job's embed rate.  Prints everything
# and saves it to build/eval-images/eval.txt.  Options go to the script:
#   jobs/eval_images.sh                    # about a minute
#   jobs/eval_images.sh --ranks 4 --thresholds 0.7,0.72,0.75
#   jobs/eval_images.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  echo "eval_images: no build/ folder: run jobs/setup.sh first" >&2
  exit 1
fi
ninja -C build dupgraph dg-mkbench dg-embed-bench >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
exec /usr/bin/python3 jobs/eval_images.py "$@"
