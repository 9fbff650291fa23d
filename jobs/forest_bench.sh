#!/bin/bash
# Giant duplicate group in forest mode: N x 64 float32 synthetic embeddings
# with one planted group of COPIES near-identical copies, on RANKS ranks;
# peak RSS per rank against the printed estimate, edges written, seconds per
# stage, into OUT_JSON (its "readme" object feeds the README figures).  The
# run and the figures are jobs/scale_proof.py's, without the recall sample.
#   jobs/forest_bench.sh [N] [COPIES] [RANKS] [OUT_JSON]
set -euo pipefail
N=${1:-2000000}; COPIES=${2:-200000}; RANKS=${3:-2}; OUT=${4:-results/forest_2m.json}
exec /usr/bin/python3 "$(dirname "$0")/scale_proof.py" --n "$N" --copies "$COPIES" --ranks "$RANKS" \
    --dtype float32 --queries 0 --out "$OUT"
