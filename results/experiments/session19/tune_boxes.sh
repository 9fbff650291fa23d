#!/bin/bash
# Content and watermark boxes of every tune image (dg-mkbench seeds 1-3 in
# BUILD/quality-tune*), with BUILD's library:
#   results/experiments/session19/tune_boxes.sh BUILD OUT
# Run once with a build of the code before a change and once after, then
#   diff <(cut -d' ' -f1-8 BEFORE) <(cut -d' ' -f1-8 AFTER)     # the boxes that changed
#   grep screenshot OUT > SS; screenshot_boxes.py SS           # screenshot boxes against the photo
#   iou_changes.py SS_BEFORE SS_AFTER                          # each changed screenshot box
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=$1
OUT=$2
cc -O2 -Isrc -Iinclude -I"$BUILD/include" results/experiments/session15/overlay_probe.c "$BUILD/libdupgraph.a" \
  -o "$BUILD/overlay_probe" $(pkg-config --libs libturbojpeg spng libwebp libwebpdemux) -lm
list=$(mktemp)
ls "$PWD/$BUILD"/quality-tune{,-seed2,-seed3}/corpus/images/*/*.jpg > "$list"
"$BUILD/overlay_probe" "$list" > "$OUT"
rm -f "$list"
