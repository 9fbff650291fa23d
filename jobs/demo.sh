#!/usr/bin/env bash
# The demo: set up (install + build), make the built-in demo corpus from real
# photographs shipped by a Debian package, run the job on 2 ranks, summarise.
#   jobs/demo.sh [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/setup.sh
ranks=${1:-2}
jobs/make_demo_corpus.sh build/demo-corpus
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mpirun --oversubscribe -np "$ranks" -x OPENBLAS_NUM_THREADS build/dupgraph run -c configs/demo.ini -o build/demo.h5
build/dupgraph info build/demo.h5
