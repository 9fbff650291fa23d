#!/usr/bin/env bash
# Set up (install + build) and run the whole test suite: unit tests under
# mpirun with 1, 2 and 4 ranks, and the end-to-end tests.
#   jobs/test.sh [meson test options]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/setup.sh
meson test -C build --print-errorlogs "$@"
