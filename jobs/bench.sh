#!/usr/bin/env bash
# The benchmark in one command: dupgraph run / exact under mpirun against
# faiss IVF-Flat and IndexFlatIP on generated embeddings (200k x 128 and
# 1M x 128 on 2 ranks by default), printed and saved to build/bench.{txt,json}.
# Assumes the build exists (jobs/setup.sh).  Options go to the script, e.g.
#   jobs/bench.sh --quick                  # 50k x 64 smoke run, about a minute
#   jobs/bench.sh --sizes 200000x128 --set cluster.clusterings=3
#   jobs/bench.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/dupgraph ]; then
  echo "bench: build/dupgraph is missing: run jobs/setup.sh first" >&2
  exit 1
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec /usr/bin/python3 jobs/bench_embeddings.py "$@"
