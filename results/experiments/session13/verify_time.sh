#!/usr/bin/env bash
# Session-13 probe: the verifier's time per pair on 20000 candidate pairs of the
# tune split (build-x/quality-tune, seed 1; jobs/quality_bench.py --split tune),
# src/graph/verify.c as it is (-O3, the release build's flags), with wider
# vectors and reassociated sums (-march=x86-64-v3 -ffast-math: other sums,
# other checksum), and with verify_eight_lane_sums.patch (eight partial sums
# in a fixed order, so that the compiler may vectorise them).  One process,
# thread CPU time; compare within one run.
#   results/experiments/session13/verify_time.sh > verify_time.txt
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$ROOT"
/usr/bin/python3 "$HERE/signatures_of_manifest.py" build-x build-x/quality-tune/verify_pairs.manifest "$W/tune.sig"
shuf -n 20000 --random-source=<(yes) build-x/quality-tune/verify_pairs.pairs > "$W/pairs"
cp src/graph/verify.c "$W/verify_lanes.c"
patch -s "$W/verify_lanes.c" "$HERE/verify_eight_lane_sums.patch"
INC="-D_GNU_SOURCE -Isrc -Iinclude -Ibuild-x/include -Ibuild-x"
run() {
  local name=$1 src=$2; shift 2
  gcc -std=c11 -fPIC "$@" $INC "$HERE/verify_time.c" "$src" -lm -o "$W/t"
  echo "$name ($*): $("$W/t" "$W/tune.sig" "$W/pairs")"
}
run "verify.c" src/graph/verify.c -O3
run "verify.c" src/graph/verify.c -O3 -march=x86-64-v3 -ffast-math
run "eight lane sums" "$W/verify_lanes.c" -O3
run "eight lane sums" "$W/verify_lanes.c" -O3 -march=x86-64-v3
