#!/usr/bin/env bash
# Verification stage speed (issue 13): dg-embed-bench on one dg-mkbench
# corpus of the lomiri-wallpapers photos (every transform), with the
# verifier of this checkout and the verifier before it was made fast
# (BEFORE, default e685b6d: built in a detached worktree under /tmp with
# this checkout's dg-embed-bench sources).  Prints both reports and writes
# results/verify_speed.json (both figure sets, the command, the revisions,
# the README's figures).
#   jobs/verify_speed.sh [--out FILE] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/verify_speed.json
REPEAT=3
BEFORE=${BEFORE:-e685b6d}
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    *) echo "usage: jobs/verify_speed.sh [--out FILE] [--repeat R]" >&2; exit 2 ;;
  esac
done
if [ ! -f build/build.ninja ]; then
  echo "verify_speed: no build/ folder: run jobs/setup.sh first" >&2
  exit 1
fi
ninja -C build dg-embed-bench dg-mkbench >/dev/null
WORK=$(mktemp -d /tmp/verify_speed.XXXXXX)
OLD="$WORK/before"
cleanup() { git worktree remove --force "$OLD" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# the corpus: 8 photos with every transform, 4 more alone
dpkg -L lomiri-wallpapers-16.04 | grep '\.jpg$' | sort | head -12 > "$WORK/photos.txt"
build/dg-mkbench --photos "$WORK/photos.txt" --out "$WORK/corpus" --max-originals 8 --distractors 4 \
  --transforms all >/dev/null

# the verifier before, with this checkout's benchmark
git worktree add --detach "$OLD" "$BEFORE" >/dev/null 2>&1
cp src/apps/embed_bench_main.c src/apps/verify_bench.c src/apps/verify_bench.h src/apps/cli.c src/apps/cli.h \
  "$OLD/src/apps/"
sed -i "s|\['src/apps/embed_bench_main.c'\] + cli_sources|['src/apps/embed_bench_main.c', 'src/apps/verify_bench.c'] + cli_sources|" \
  "$OLD/meson.build"
meson setup "$OLD/build" "$OLD" --buildtype=release >/dev/null
ninja -C "$OLD/build" dg-embed-bench >/dev/null

export OPENBLAS_NUM_THREADS=1
HERE=$(pwd)
cd "$WORK/corpus"
echo "== before ($BEFORE)"
"$OLD/build/dg-embed-bench" --manifest manifest.txt --repeat "$REPEAT" --json "$WORK/before.json"
echo "== after ($(git -C "$HERE" rev-parse --short HEAD))"
"$HERE/build/dg-embed-bench" --manifest manifest.txt --repeat "$REPEAT" --json "$WORK/after.json"
cd "$HERE"

/usr/bin/python3 - "$WORK" "$OUT" "$BEFORE" "jobs/verify_speed.sh $*" "$REPEAT" <<'PY'
import json, subprocess, sys, datetime
work, out, before_rev, command, repeat = sys.argv[1:]
before = json.load(open(f"{work}/before.json"))
after = json.load(open(f"{work}/after.json"))
rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                       text=True).stdout.strip() != ""
def ratios(r):
    return ", ".join(f"{r['embed_plus_k_pairs'][k]['ratio_to_decode_only']:.2f}" for k in ("1", "5", "20"))
readme = {
    "pairs": f"{after['pairs']} pairs ({after['pairs_same_photo']} of a photo with its copy) from "
             f"{after['files']} files",
    "verify": f"{before['verify_us_per_pair']:.0f} -> {after['verify_us_per_pair']:.0f} us per pair, "
              f"{before['verify_pairs_per_s']:.0f} -> {after['verify_pairs_per_s']:.0f} pairs/s",
    "decode": f"libjpeg-turbo decode only {after['decode_only_images_per_s']:.0f} images/s, embedding "
              f"(decode, descriptor, signature) {after['embed_images_per_s']:.0f} images/s per core",
    "ratio": f"K = 1, 5, 20: {ratios(after)} of decode only (before: {ratios(before)})",
    "passed": f"{after['passed_same_photo']} of {after['pairs_same_photo']} copies and "
              f"{after['passed_other_photo']} others pass (before: {before['passed_same_photo']}, "
              f"{before['passed_other_photo']})",
}
doc = {
    "benchmark": "verification stage speed (dg-embed-bench, one process, one thread, thread CPU time)",
    "command": command,
    "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "git": {"revision": rev, "dirty": dirty, "before_revision": before_rev},
    "corpus": "dg-mkbench --max-originals 8 --distractors 4 --transforms all of the first 12 "
              "lomiri-wallpapers-16.04 photos",
    "repeat": int(repeat),
    "before": before,
    "after": after,
    "readme": readme,
}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
print(f"verify_speed: wrote {out}")
for k, v in readme.items():
    print(f"  {k}: {v}")
PY
