#!/usr/bin/env bash
# The recall table in one command: `dupgraph run` for K in {256, 1024, 4096},
# C in {1, 2, 3, 5}, m in {1, 2, 3} and the default config on 200k x 128
# generated embeddings (spread 4: diffuse topics), recall of each against
# `dupgraph exact` (95% Wilson interval), its seconds per stage, pairs
# compared and arithmetic (read from each run's output.summary JSON), the
# load around each run; then the scaling model (N = 5e9, D = 256 on 256 /
# 1024 / 4096 ranks) from the measured per-rank rates.  Writes the result
# file results/recall_table.json (command, git revision, machine, every run,
# the model's inputs and outputs, and the "readme" figures README.md quotes)
# and build/recall_table.md, build/scaling_model.md.  Assumes the build
# exists (jobs/setup.sh).
#   jobs/recall_table.sh                   # ~20 min on 2 idle cores
#   jobs/recall_table.sh --quick           # 20k items, 9 runs, ~1 min (build/recall_table_quick.json)
#   jobs/recall_table.sh --from-json results/recall_table.json --net-gbs 25 --json build/net25.json
#   jobs/recall_table.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/dupgraph ]; then
  echo "recall_table: build/dupgraph is missing: run jobs/setup.sh first" >&2
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export RECALL_TABLE_ENTRY=jobs/recall_table.sh
exec /usr/bin/python3 jobs/recall_table.py "$@"
