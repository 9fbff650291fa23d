#!/bin/bash
# Would a tune photo cut as a pan series behave like held-out summer_1am (neighbouring crops
# accepted)?  Five tune photos with the most sky, cut pan:3 by dg-mkbench (originals only are
# compared); each pair of crops scored by dg-verify-pairs.  usage: tune_pan_cuts.sh BUILD
set -euo pipefail
BUILD=$(realpath "${1:-build-x}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '%s\tcut=pan:3\n' /usr/share/lxqt/wallpapers/this-is-not-windows.jpg /usr/share/lxqt/wallpapers/fog.jpg \
  /usr/share/backgrounds/mate/nature/Dune.jpg /usr/share/wallpapers/Kite/contents/images/2560x1600.jpg \
  /usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg > "$W/photos.txt"
"$BUILD/dg-mkbench" --photos "$W/photos.txt" --out "$W/corpus" --transforms jpeg --size 640 > /dev/null
for g in $(seq 0 14); do printf '%s/corpus/images/g%04d/original.jpg\n' "$W" "$g"; done > "$W/m.txt"
for b in 0 3 6 9 12; do printf '%d %d\n%d %d\n%d %d\n' $b $((b + 1)) $((b + 1)) $((b + 2)) $b $((b + 2)); done > "$W/p.txt"
echo "# groups 0-2 this-is-not-windows, 3-5 fog, 6-8 Dune, 9-11 Kite, 12-14 ColdRipple (pan 1/3, 2/3, 3/3)"
echo "# i j score detail_diff probe_is_b mirror scale degrees tx ty  (accepted at 0.55 / 0.45?)"
"$BUILD/dg-verify-pairs" "$W/m.txt" "$W/p.txt" 2>/dev/null |
  awk '{print $0 "  " (($3 >= 0.55 && $4 <= 0.45) ? "accepted" : "rejected")}'
