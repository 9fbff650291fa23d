#!/usr/bin/env bash
# Set up (install + build) and run the whole test suite: unit tests under
# mpirun with 1, 2 and 4 ranks, and the end-to-end tests; then the same
# tests built with ASan + UBSan in build-asan/ (a leak or undefined behaviour
# fails a test), then a short run of each libFuzzer harness (suite 'fuzz',
# built by meson with -Dfuzz=true and clang-14 in build-fuzz/).
# Ends with tests/summarize_results.py over the three builds' logs: its last
# line is "N passed, N failed, N skipped", and a skipped test not listed in
# tests/optional_tests.txt counts as failed (so does a build whose tests did
# not run, e.g. build-fuzz without clang-14); the exit status is non-zero if
# anything failed.
#   jobs/test.sh [meson test options]   (options also select the fuzz tests)
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=(build/meson-logs/testlog.json build-asan/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json)
# A log left by an earlier run must not stand in for tests that did not run.
rm -f "${LOGS[@]}"
status=0
if jobs/setup.sh &&
   { [ -f build-asan/build.ninja ] ||
     meson setup build-asan -Db_sanitize=address,undefined --buildtype=debugoptimized -Dwerror=false; } &&
   ninja -C build-asan; then
  meson test -C build --print-errorlogs "$@" || status=$?
  meson test -C build-asan --print-errorlogs "$@" || status=$?
  # b_lundef=false: a clang-sanitized shared library leaves the sanitizer's
  # symbols to the program that loads it.
  if { [ -f build-fuzz/build.ninja ] ||
       CC=clang-14 meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
         --buildtype=debugoptimized -Dwerror=false; } && ninja -C build-fuzz; then
    meson test -C build-fuzz --suite fuzz --print-errorlogs "$@" || status=$?
  else
    status=1
    echo "test: build-fuzz could not be set up or built (clang-14 missing?); the fuzzers did not run" >&2
  fi
else
  status=1
  echo "test: setup or build failed; no test ran" >&2
fi
/usr/bin/python3 tests/summarize_results.py "${LOGS[@]}" || status=1
exit $status
