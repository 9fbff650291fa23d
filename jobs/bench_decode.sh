#!/usr/bin/env bash
# Decode rate of each format (issue 14): dg-decode-bench on the Debian
# photos under /usr/share/backgrounds, saved again by our own code as JPEG,
# PNG, lossless and lossy WebP at each size; the job's decoder (to the
# embedder's pixels) against libjpeg-turbo's, libspng's and libwebp's own
# decode of the same bytes, one thread, CPU time, median of the passes.
# Prints the table and writes results/bench_decode.json (the command, every
# figure, the README's figures under "readme").
#   jobs/bench_decode.sh [--out FILE] [--photos N] [--sizes S,S] [--min-side M] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/bench_decode.json
ARGS=()
COMMAND="jobs/bench_decode.sh $*"
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --photos) ARGS+=(--max-photos "$2"); shift 2 ;;
    --sizes|--min-side|--repeat) ARGS+=("$1" "$2"); shift 2 ;;
    *) echo "usage: jobs/bench_decode.sh [--out FILE] [--photos N] [--sizes S,S] [--min-side M] [--repeat R]" >&2
       exit 2 ;;
  esac
done
if [ ! -f build/build.ninja ]; then
  echo "bench_decode: no build/ folder: run jobs/setup.sh first" >&2
  exit 1
fi
ninja -C build dg-decode-bench >/dev/null
build/dg-decode-bench --photos /usr/share/backgrounds "${ARGS[@]}" --json "$OUT" --command "${COMMAND% }"
echo "bench_decode: wrote $OUT"
