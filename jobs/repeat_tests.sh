#!/usr/bin/env bash
# Runs meson tests several times in a row, quiet or beside a CPU load, and
# writes one JSON line per run (test, run, result, seconds, load average
# before and after) to a result file: the evidence that a test does not
# depend on the machine's speed.
#   jobs/repeat_tests.sh [--runs N] [--load] [--out FILE] TEST...
#   --load   runs `stress-ng --cpu 2` (one worker per core) beside the tests
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10 load=0 out=""
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --load) load=1; shift ;;
    --out) out=$2; shift 2 ;;
    -*) echo "repeat_tests: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
(($#)) || { echo "usage: jobs/repeat_tests.sh [--runs N] [--load] [--out FILE] TEST..." >&2; exit 2; }
[ -n "$out" ] || out="results/repeat_$( ((load)) && echo loaded || echo quiet ).jsonl"
mkdir -p "$(dirname "$out")"
: > "$out"
stress_pid=""
if ((load)); then
  command -v stress-ng >/dev/null || { echo "repeat_tests: stress-ng is not installed" >&2; exit 2; }
  stress-ng --cpu 2 --timeout 0 --quiet &
  stress_pid=$!
  trap 'kill $stress_pid 2>/dev/null; wait $stress_pid 2>/dev/null || true' EXIT
  sleep 2
fi
rev=$(git rev-parse --short HEAD)
failed=0
for ((i = 1; i <= runs; i++)); do
  for t in "$@"; do
    before=$(cut -d' ' -f1 /proc/loadavg)
    t0=$(date +%s.%N)
    if meson test -C build "$t" --logbase "repeat-$t-$i" --print-errorlogs >"build/repeat-$t-$i.log" 2>&1; then result=OK; else result=FAIL; failed=$((failed + 1)); fi
    t1=$(date +%s.%N)
    after=$(cut -d' ' -f1 /proc/loadavg)
    printf '{"test": "%s", "run": %d, "result": "%s", "seconds": %.1f, "load_before": %s, "load_after": %s, "stress": %s, "git": "%s"}\n' \
      "$t" "$i" "$result" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$before" "$after" "$( ((load)) && echo true || echo false)" "$rev" | tee -a "$out"
  done
done
echo "repeat_tests: $((runs * $#)) runs, $failed failed -> $out"
((failed == 0))
