#!/usr/bin/env bash
# Set up (install + build) and run the whole test suite: unit tests under
# mpirun with 1, 2 and 4 ranks, and the end-to-end tests; then the same
# tests built with ASan + UBSan in build-asan/ (a leak or undefined behaviour
# fails a test), then a short run of each libFuzzer harness (suite 'fuzz',
# built by meson with -Dfuzz=true and clang-14 in build-fuzz/).
# Ends with tests/summarize_results.py over the three builds' logs: its last
# line is "N passed, N failed, N skipped", and a skipped test not listed in
# tests/optional_tests.txt counts as failed (so does a fuzz test skipped for
# want of clang-14, and a build whose tests did not run); the exit status is
# non-zero if anything failed.
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
  # Without clang-14 build-fuzz/ is set up with cc, where every fuzz test
  # skips (exit 77: failed unless tests/optional_tests.txt lists it); such a
  # build holds nothing to keep and is set up anew once clang-14 is there.
  # A build-fuzz/ set up with clang stays (its grown corpus with it).
  fuzz_cc=clang-14
  command -v clang-14 >/dev/null || fuzz_cc=cc
  if [ -f build-fuzz/build.ninja ]; then
    if grep -q "^C compiler for the host machine: clang" build-fuzz/meson-logs/meson-log.txt; then
      fuzz_cc=clang-14
    elif [ "$fuzz_cc" = clang-14 ]; then
      rm -rf build-fuzz
    fi
  fi
  [ "$fuzz_cc" = clang-14 ] ||
    echo "test: clang-14 not found (jobs/setup.sh installs clang-14 libclang-rt-14-dev): the fuzz tests skip" >&2
  # b_lundef=false: a clang-sanitized shared library leaves the sanitizer's
  # symbols to the program that loads it.
  if { [ -f build-fuzz/build.ninja ] ||
       CC=$fuzz_cc meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
         --buildtype=debugoptimized -Dwerror=false; } &&
     { [ "$fuzz_cc" != clang-14 ] || ninja -C build-fuzz; }; then
    # --no-rebuild: built just above (a cc build has nothing to build for skips)
    meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs "$@" || status=$?
  else
    status=1
    echo "test: build-fuzz could not be set up or built; the fuzzers did not run" >&2
  fi
else
  status=1
  echo "test: setup or build failed; no test ran" >&2
fi
/usr/bin/python3 tests/summarize_results.py "${LOGS[@]}" || status=1
exit $status
