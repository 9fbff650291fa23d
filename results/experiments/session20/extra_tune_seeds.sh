#!/bin/bash
# Content and watermark boxes of screenshot and logo copies of the tune photos at dg-mkbench seeds
# 4-13 (more draws of the tune split than the benchmark's seeds 1-3; no held-out photo), with
# BUILD's library:
#   results/experiments/session20/extra_tune_seeds.sh BUILD OUT
# Needs BUILD/quality-tune/photos.txt (jobs/quality_bench.sh --split tune) and writes the
# corpora to BUILD/extra-tune-seeds/seedS once.  Then
#   grep screenshot OUT > SS; results/experiments/session19/screenshot_boxes.py SS
#   results/experiments/session20/logo_boxes.py OUT
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=$1
OUT=$2
for s in 4 5 6 7 8 9 10 11 12 13; do
  d="$BUILD/extra-tune-seeds/seed$s"
  [ -f "$d/truth.csv" ] || "$BUILD/dg-mkbench" --photos "$BUILD/quality-tune/photos.txt" --out "$d" --seed $s \
    --size 640 --transforms screenshot,logo > /dev/null
done
cc -O2 -Isrc -Iinclude -I"$BUILD/include" results/experiments/session15/overlay_probe.c "$BUILD/libdupgraph.a" \
  -o "$BUILD/overlay_probe" $(pkg-config --libs libturbojpeg spng libwebp libwebpdemux) -lm
list=$(mktemp)
ls "$PWD/$BUILD"/extra-tune-seeds/seed*/images/*/*.jpg > "$list"
"$BUILD/overlay_probe" "$list" > "$OUT"
rm -f "$list"
