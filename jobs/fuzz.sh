#!/usr/bin/env bash
# Runs the libFuzzer harnesses of tests/fuzz/ (config, manifest, JPEG decode
# + descriptor, embeddings input, output readers) for longer than the test
# suite does.  They are built by meson with -Dfuzz=true in build-fuzz/
# (clang-14, ASan + UBSan; set up here if missing) and run as the meson
# suite 'fuzz', which starts from the committed seeds tests/fuzz/corpus/NAME/
# plus what earlier runs found (build-fuzz/tests/fuzz-corpus/NAME/).  A
# finding (crash, UB, leak, timeout, out-of-memory) fails its test; the input
# is saved beside the corpus as fuzz-corpus/NAME-crash-*.
#   jobs/fuzz.sh [SECONDS] [NAME ...]   # default 60 s each, every harness
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
B=${FUZZ_BUILD_DIR:-build-fuzz}
command -v clang-14 >/dev/null || { echo "fuzz: clang-14 not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
if [ -f "$B/build.ninja" ] && ! grep -q "^C compiler for the host machine: clang" "$B/meson-logs/meson-log.txt"; then
  echo "fuzz: $B was set up without clang (its fuzz tests only skip); remove it and run again" >&2
  exit 1
fi
# b_lundef=false: a clang-sanitized shared library leaves the sanitizer's
# symbols to the program that loads it.
[ -f "$B/build.ninja" ] ||
  CC=clang-14 meson setup "$B" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debugoptimized -Dwerror=false >/dev/null
ninja -C "$B" >/dev/null
tests=()
for name in "$@"; do tests+=("fuzz_$name"); done
FUZZ_SECONDS=$secs meson test -C "$B" --suite fuzz --print-errorlogs --timeout-multiplier 0 "${tests[@]}"
