#!/bin/bash
# The story canvas's sharpness floor (STORY_FLOOR, src/input/content_rect.c) swept on the tune
# corpora of seeds 1-3 (jobs/quality_bench.py --split tune made them): for each floor, the content
# boxes of all 9324 tune images (results/experiments/session15/overlay_probe.c built against a copy
# of content_rect.c with that floor), the transforms whose boxes differ from the floor 0.5's, and
# the letterbox strong boxes within IoU 0.8 of the photo (letterbox_boxes.py).
#   results/experiments/session18/floor_sweep.sh [BUILD] > floor_sweep.txt
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
here=results/experiments/session18
work=$(mktemp -d /tmp/floor_sweep.XXXXXX)
trap 'rm -rf "$work"' EXIT
ninja -C "$BUILD" libdupgraph.a >/dev/null
ls "$PWD/$BUILD"/quality-tune{,-seed2,-seed3}/corpus/images/*/*.jpg > "$work/all.txt"
libs="$(pkg-config --libs libturbojpeg spng libwebp libwebpdemux) -lm"
for floor in 0.5 0.3 0.2 0.1 0.05 0.02 0; do
  sed -E "s/^#define STORY_FLOOR [0-9.]+/#define STORY_FLOOR $floor/" src/input/content_rect.c > "$work/content_rect.c"
  # shellcheck disable=SC2086
  cc -O2 -Isrc -Iinclude -I"$BUILD/include" results/experiments/session15/overlay_probe.c "$work/content_rect.c" \
    "$BUILD/libdupgraph.a" -o "$work/probe" $libs
  "$work/probe" "$work/all.txt" | cut -d' ' -f1-8 > "$work/boxes_$floor.txt"
  echo "== STORY_FLOOR $floor"
  echo "boxes unlike the floor 0.5's, by transform: $(diff "$work/boxes_0.5.txt" "$work/boxes_$floor.txt" | grep '^>' |
    awk '{print $2}' | sed 's|.*/||; s|\.jpg$||' | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')"
  grep letterbox_strong "$work/boxes_$floor.txt" > "$work/lb.txt"
  /usr/bin/python3 "$here/letterbox_boxes.py" "$work/lb.txt" | grep -v '^  '
done
