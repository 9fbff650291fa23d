#!/usr/bin/env bash
# Set up (install + build) and run the whole test suite: unit tests under
# mpirun with 1, 2 and 4 ranks, and the end-to-end tests; then the same
# tests built with ASan + UBSan in build-asan/ (a leak or undefined behaviour
# fails a test), plus a short run of each fuzzer (suite 'fuzz', jobs/fuzz.sh).
#   jobs/test.sh [meson test options]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs/setup.sh
[ -f build-asan/build.ninja ] ||
  meson setup build-asan -Db_sanitize=address,undefined --buildtype=debugoptimized -Dwerror=false
ninja -C build-asan
status=0
meson test -C build --print-errorlogs "$@" || status=$?
meson test -C build-asan --print-errorlogs "$@" || status=$?
exit $status
