#!/usr/bin/env bash
# Session-14 probe: the verifier's cost knobs (src/graph/verify.c constants
# and loop counts) against its decisions on the tune split.  Each variant is
# verify.c with one sed expression, built as dg-verify-pairs in its own
# detached worktree of HEAD under /tmp and judged by jobs/verify_pairs.py
# --against results/verify_pairs_tune_agree.json (recall, false accepts,
# false group pairs at the config's setting and the rule's choice; us per
# pair per seed, thread CPU time: compare within one run of this script).
#   results/experiments/session14/knob_probe.sh NAME 'SED' [NAME 'SED' ...] > knob_probe.txt
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
cd "$ROOT"
while (($#)); do
  name=$1 expr=$2; shift 2
  W=/tmp/knob_$name
  rm -rf "$W"; git worktree add -q --detach "$W" HEAD
  sed -i -e "$expr" "$W/src/graph/verify.c"
  (cd "$W" && meson setup build >/dev/null && ninja -C build dg-verify-pairs >/dev/null)
  echo "== $name: $expr ($(cd "$W" && git diff --shortstat))"
  /usr/bin/python3 jobs/verify_pairs.py --build build-x --verifier "$W/build/dg-verify-pairs" \
    --against results/verify_pairs_tune_agree.json --out "$HERE/knob_$name.json" --label "$name" 2>&1 | \
    grep -E "us per pair|<- config|chosen"
  git worktree remove --force "$W"
done
