#!/bin/bash
# Instructions per image in dg_content_box and per pair in dg_verify_score,
# counted by callgrind, at two revisions: BEFORE (default 51e39db, session
# 17's start, built in a detached worktree) and BUILD's (default build/).
# This VM's CPU times move by 10-30% between runs minutes apart; the
# instruction counts of the same inputs do not.  Inputs: the first 600
# images of the tune corpus at seed 1 (jobs/quality_bench.py --split tune)
# and 1500 of its candidate pairs (verify_pairs.pairs, which
# jobs/verify_pairs.py writes), drawn with a fixed random source.  The
# checksums cover every box, and every score, detail difference and
# placement: equal checksums, equal outputs.
# Prints the counts and writes them, with the README's sentence, to
# results/experiments/session17/instructions.json, or to $OUT.
#   results/experiments/session17/instructions.sh [BUILD] > instructions.txt
#   BEFORE=REV OUT=FILE.json results/experiments/session17/instructions.sh build > FILE.txt
set -euo pipefail
cd "$(dirname "$0")/../../.."
BUILD=${1:-build}
BEFORE=${BEFORE:-51e39db}
here=results/experiments/session17
work=$(mktemp -d /tmp/instructions.XXXXXX)
trap 'git worktree remove --force "$work/before" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/before" "$BEFORE" >/dev/null 2>&1
meson setup "$work/before/build" "$work/before" --buildtype=release >/dev/null
ninja -C "$work/before/build" libdupgraph.a >/dev/null
ninja -C "$BUILD" libdupgraph.a >/dev/null
libs="$(pkg-config --libs libturbojpeg spng libwebp libwebpdemux) -lm"
for side in before after; do
  src=$([ "$side" = before ] && echo "$work/before" || echo .)
  bld=$([ "$side" = before ] && echo "$work/before/build" || echo "$BUILD")
  for prog in box_instructions verify_instructions; do
    # shellcheck disable=SC2086
    cc -O2 -I"$src/src" -I"$src/include" -I"$bld/include" "$here/$prog.c" "$bld/libdupgraph.a" \
      -o "$work/$prog.$side" $libs
  done
done
ls "$PWD/$BUILD"/quality-tune/corpus/images/*/*.jpg > "$work/all.txt"
head -600 "$work/all.txt" > "$work/images.txt"
shuf -n 1500 --random-source=<(yes) "$BUILD/quality-tune/verify_pairs.pairs" | sort -n > "$work/pairs.txt"

# FUNCTION PROGRAM ARGS...: "INSTRUCTIONS OUTPUT" for FUNCTION and what it calls
count() {
  local fn=$1
  shift
  local out
  out=$(valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --toggle-collect="$fn" "$@" 2>"$work/cg.err")
  echo "$(grep -o 'Collected : [0-9]*' "$work/cg.err" | awk '{print $3}') $out"
}
AFTER=$(git rev-parse --short HEAD)
echo "# results/experiments/session17/instructions.sh $BUILD: before $BEFORE, after $AFTER"
declare -A counts
for what in box verify; do
  if [ "$what" = box ]; then
    fn=dg_content_box unit=image n=600
    set -- "$work/images.txt"
  else
    fn=dg_verify_score unit=pair n=1500
    set -- "$BUILD/quality-tune/verify_pairs.manifest" "$work/pairs.txt"
  fi
  read -r b_ins b_out < <(count "$fn" "$work/${what}_instructions.before" "$@")
  read -r a_ins a_out < <(count "$fn" "$work/${what}_instructions.after" "$@")
  echo "$fn: before $b_ins ($((b_ins / n)) per $unit), after $a_ins ($((a_ins / n)) per $unit)," \
    "change $(awk -v a="$a_ins" -v b="$b_ins" 'BEGIN {printf "%+.1f%%", 100 * (a - b) / b}')"
  echo "  before: $b_out"
  echo "  after:  $a_out"
  [ "$b_out" = "$a_out" ] || echo "  OUTPUTS DIFFER"
  counts[$what]="$b_ins $a_ins $n $([ "$b_out" = "$a_out" ] && echo same || echo different)"
done
/usr/bin/python3 - "${OUT:-$here/instructions.json}" "$BEFORE" "$AFTER" ${counts[box]} ${counts[verify]} <<'PY'
import json, sys
out, before, after = sys.argv[1:4]
bb, ba, bn, bs, vb, va, vn, vs = sys.argv[4:12]
def line(b, a, n, unit):
    b, a, n = int(b), int(a), int(n)
    return f"{b / n / 1e6:.2f} -> {a / n / 1e6:.2f} million instructions per {unit} ({100 * (a - b) / b:+.1f}%)"
doc = {
    "benchmark": "instructions (callgrind) in dg_content_box over 600 tune images and in dg_verify_score over "
                 "1500 tune candidate pairs, at two revisions, with checksums of every output",
    "command": f"BEFORE={before} results/experiments/session17/instructions.sh build",
    "git": {"before": before, "after": after},
    "readme": {
        "content_box": line(bb, ba, bn, "image") + f", boxes {bs} on {bn} images",
        "verify": line(vb, va, vn, "pair") + f", scores and placements {vs} on {vn} pairs",
    },
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
PY
