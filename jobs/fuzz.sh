#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ with clang-14 (ASan + UBSan,
# the library's sources compiled with -fsanitize=fuzzer-no-link) in
# build-fuzz/, then runs each harness for a set time, one after another.
#   jobs/fuzz.sh [SECONDS] [NAME ...]   # default 60 s each, every harness
#   jobs/fuzz.sh 0 [NAME ...]           # build only
#   NAME: config manifest jpeg embeddings_h5 output_h5
# Each run starts from the committed seed corpus tests/fuzz/corpus/NAME/ plus
# what earlier runs found (build-fuzz/corpus/NAME/).  A finding (crash, UB,
# leak, timeout, out-of-memory) is saved as build-fuzz/artifacts/NAME-*, its
# log is printed, and the script exits 1.  FUZZ_BUILD_DIR replaces
# build-fuzz/; FUZZ_NICE=0 runs at normal priority (default: nice 10).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${1:-60}
shift || true
NAMES=("$@")
((${#NAMES[@]})) || NAMES=(config manifest jpeg embeddings_h5 output_h5)
CC=${FUZZ_CC:-clang-14}
B=${FUZZ_BUILD_DIR:-build-fuzz}
PKGS="ompi-c hdf5-openmpi openblas libturbojpeg inih"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CFLAGS="-g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -I$B/include -Iinclude -Isrc $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lm"

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p "$B/obj" "$B/artifacts" "$B/logs"
# dupgraph/version.h, as meson generates it from project()'s version.
mkdir -p "$B/include/dupgraph"
version=$(sed -n "s/^  version : '\([^']*\)',$/\1/p" meson.build)
sed "s/@VERSION@/$version/" include/dupgraph/version.h.in > "$B/include/dupgraph/version.h.new"
cmp -s "$B/include/dupgraph/version.h.new" "$B/include/dupgraph/version.h" 2>/dev/null ||
  mv "$B/include/dupgraph/version.h.new" "$B/include/dupgraph/version.h"
rm -f "$B/include/dupgraph/version.h.new"

# The library's sources, as meson.build lists them; rebuilt when changed.
mapfile -t LIB_SRC < <(sed -n '/^lib_sources = files(/,/^)/p' meson.build | grep -o "'src/[a-z0-9_/]*\.c'" | tr -d "'")
build_lib() {
  local objs=() stale=()
  for src in "${LIB_SRC[@]}"; do
    local obj="$B/obj/$(basename "${src%.c}").o"
    objs+=("$obj")
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find include src -name '*.h' -newer "$obj" -print -quit)" ]; then
      stale+=("$src")
    fi
  done
  if ((${#stale[@]})); then
    printf '%s\n' "${stale[@]}" | xargs -P "$(nproc)" -I{} sh -c \
      "$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c {} -o $B/obj/\$(basename {} .c).o"
    rm -f "$B/libdupgraph-fuzz.a"
  fi
  [ -f "$B/libdupgraph-fuzz.a" ] || ar rcs "$B/libdupgraph-fuzz.a" "${objs[@]}"
}

build_harness() {
  local name=$1 exe="$B/fuzz_$1"
  if [ ! -f "$exe" ] || [ "tests/fuzz/fuzz_$name.c" -nt "$exe" ] || [ "$B/libdupgraph-fuzz.a" -nt "$exe" ]; then
    $CC $CFLAGS -Wall -Wextra -Werror $SAN -fsanitize=fuzzer "tests/fuzz/fuzz_$name.c" "$B/libdupgraph-fuzz.a" $LIBS -o "$exe"
  fi
}

build_lib
for name in "${NAMES[@]}"; do
  [ -f "tests/fuzz/fuzz_$name.c" ] || { echo "fuzz: no harness tests/fuzz/fuzz_$name.c" >&2; exit 2; }
  build_harness "$name"
done
[ "$SECS" != 0 ] || exit 0

# Leaks are checked after each input (libFuzzer); not at exit, where Open
# MPI's and HDF5's process-lifetime allocations would show (MPI_Init runs
# once per harness).  Fast unwinding: the slow one costs seconds per input
# in HDF5's malloc-heavy code.
export ASAN_OPTIONS="detect_leaks=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0:leak_check_at_exit=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export OMPI_MCA_plm=isolated OMPI_MCA_btl=self,vader OPENBLAS_NUM_THREADS=1

status=0
for name in "${NAMES[@]}"; do
  mkdir -p "$B/corpus/$name"
  log="$B/logs/$name.log"
  rc=0
  nice -n "${FUZZ_NICE:-10}" "$B/fuzz_$name" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$B/artifacts/$name-" \
    "$B/corpus/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" = 0 ]; then
    echo "fuzz_$name: ${runs:-?} inputs in ${SECS} s, corpus $(ls "$B/corpus/$name" | wc -l) files, no finding"
  else
    echo "fuzz_$name: FINDING after ${runs:-?} inputs (exit $rc); log $log, input in $B/artifacts/"
    tail -n 60 "$log"
    status=1
  fi
done
exit $status
