#!/bin/bash
# Which images of the tune corpora (dg-mkbench seeds 1-3 in BUILD/quality-tune*)
# get a watermark box (src/input/overlay.c), by transform:
#   results/experiments/session15/overlay_detection.sh [BUILD] > overlay_detection.txt
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
here=results/experiments/session15
cc -O2 -Isrc -Iinclude -I"$BUILD/include" "$here/overlay_probe.c" "$BUILD/libdupgraph.a" -o "$BUILD/overlay_probe" \
  $(pkg-config --libs libturbojpeg spng libwebp libwebpdemux) -lm
list=$(mktemp)
ls "$PWD/$BUILD"/quality-tune{,-seed2,-seed3}/corpus/images/*/*.jpg > "$list"
echo "# $BUILD/overlay_probe on $(wc -l < "$list") tune images, git $(git rev-parse --short HEAD)"
echo "# transform images with_a_box"
"$BUILD/overlay_probe" "$list" | awk '{k=$1; sub(/.*\//,"",k); sub(/\.jpg$/,"",k); n[k]++; d[k]+=$8}
  END {for (k in n) print k, n[k], d[k]+0}' | sort
rm -f "$list"
