#!/usr/bin/env bash
# The benchmark in one command: dupgraph run / exact under mpirun against
# faiss IVF-Flat and IndexFlatIP on generated embeddings (2 ranks, 2 faiss
# threads), both sides timed from process start to result on disk; one
# result file, results/bench_<label>.json (command, git revision, machine,
# load, every figure; see jobs/bench_embeddings.py).
# Assumes the build exists (jobs/setup.sh).  Options go to the script, e.g.
#   jobs/bench.sh --sizes 200000x128       # results/bench_200k.json
#   jobs/bench.sh --sizes 1000000x128      # results/bench_1m.json
#   jobs/bench.sh                          # both sizes: results/bench_200k_1m.json
#   jobs/bench.sh --quick                  # 50k x 64 smoke run, build/bench_quick.json
#   jobs/bench.sh --sizes 200000x128 --set cluster.clusterings=3 --label 200k_c3
#   jobs/bench.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/dupgraph ]; then
  echo "bench: build/dupgraph is missing: run jobs/setup.sh first" >&2
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export BENCH_ENTRY=jobs/bench.sh
exec /usr/bin/python3 jobs/bench_embeddings.py "$@"
