#!/usr/bin/env bash
# Set up (install + build) and run the whole test suite: unit tests under
# mpirun with 1, 2 and 4 ranks, and the end-to-end tests; then the same
# tests built with ASan + UBSan in build-asan/ (a leak or undefined behaviour
# fails a test), plus a short run of each fuzzer (suite 'fuzz', jobs/fuzz.sh).
# Ends with tests/summarize_results.py over both builds' logs: its last line
# is "N passed, N failed, N skipped", and a skipped test not listed in
# tests/optional_tests.txt counts as failed (so does a build whose tests did
# not run); the exit status is non-zero if anything failed.
#   jobs/test.sh [meson test options]
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=(build/meson-logs/testlog.json build-asan/meson-logs/testlog.json)
# A log left by an earlier run must not stand in for tests that did not run.
rm -f "${LOGS[@]}"
status=0
if jobs/setup.sh &&
   { [ -f build-asan/build.ninja ] ||
     meson setup build-asan -Db_sanitize=address,undefined --buildtype=debugoptimized -Dwerror=false; } &&
   ninja -C build-asan; then
  meson test -C build --print-errorlogs "$@" || status=$?
  meson test -C build-asan --print-errorlogs "$@" || status=$?
else
  status=1
  echo "test: setup or build failed; no test ran" >&2
fi
/usr/bin/python3 tests/summarize_results.py "${LOGS[@]}" || status=1
exit $status
