#!/usr/bin/env bash
# The assignment table in one command: flat vs two-level nearest-centroid
# search (cluster.assign, cluster.coarse_probes) and k-means++ vs k-means||
# seeding (cluster.seeding) at K = 1024 / 4096 / 16384 on generated
# embeddings with planted duplicates; recall of each run against
# `dupgraph exact`, the share of items whose nearest centroid differs from
# the flat run's, seconds of seeding and assignment.  Writes
# results/assign_table.json (command, git revision, machine, every run, the
# "readme" figures) and build/assign_table.md.  Assumes the build exists.
#   jobs/assign_table.sh                 # 200k x 64, ~10-15 min on 2 loaded cores
#   jobs/assign_table.sh --quick         # 20k x 32, K 256/1024, ~1 min (build/assign_table_quick.json)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/dupgraph ]; then
  echo "assign_table: build/dupgraph is missing: run jobs/setup.sh first" >&2
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export ASSIGN_TABLE_ENTRY=jobs/assign_table.sh
exec /usr/bin/python3 jobs/assign_table.py "$@"
