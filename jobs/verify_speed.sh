#!/usr/bin/env bash
# Verification stage speed (issue 13): dg-embed-bench on one dg-mkbench
# corpus of the lomiri-wallpapers photos (every transform), with the
# verifier of this checkout and the verifier before it was made fast
# (BEFORE, default e685b6d: built in a detached worktree under /tmp with
# this checkout's dg-embed-bench sources).  Prints both reports and writes
# results/verify_speed.json (both figure sets, the command, the revisions,
# the load average before and after the runs, the README's figures; the
# timings are thread CPU time, which other processes inflate less than wall
# time, but they still share caches and memory bandwidth).  The two
# binaries run in turns, ROUNDS times each (before, after, before, ...), and
# each keeps, stage by stage, its fastest round: a host whose speed drifts
# between runs minutes apart then favours neither; the K ratios are
# computed again from the fastest decode-only, embedding and pair times.
#   [VERIFY_SPEED_NOTE='what else ran'] jobs/verify_speed.sh [--out FILE] [--repeat R] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=results/verify_speed.json
REPEAT=3
ROUNDS=2
BEFORE=${BEFORE:-e685b6d}
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: jobs/verify_speed.sh [--out FILE] [--repeat R] [--rounds N]" >&2; exit 2 ;;
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
# a revision whose descriptor and signature find the content box themselves
# (before the decode loop computed it once, as e685b6d): the benchmark's
# calls in its API; its content box line then times nothing
if ! grep -q 'dg_descriptor(.*box' "$OLD/src/input/descriptor.h"; then
  sed -i -e 's|dg_content_box(&res.image, box);|(void)box;|' \
    -e 's|dg_descriptor(&res.image, box, |dg_descriptor(\&res.image, |' \
    -e 's|dg_signature_make(&res.image, box, |dg_signature_make(\&res.image, |' "$OLD/src/apps/embed_bench_main.c"
fi
# a revision before DG_BOX_LEN (the watermark box, session 15): a content box of 4 ints
grep -q 'DG_BOX_LEN' "$OLD/src/input/descriptor.h" ||
  sed -i -e 's|int box\[DG_BOX_LEN\];|int box[4];|' "$OLD/src/apps/embed_bench_main.c"
meson setup "$OLD/build" "$OLD" --buildtype=release >/dev/null
ninja -C "$OLD/build" dg-embed-bench >/dev/null

export OPENBLAS_NUM_THREADS=1
HERE=$(pwd)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
cd "$WORK/corpus"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: before ($BEFORE)"
  "$OLD/build/dg-embed-bench" --manifest manifest.txt --repeat "$REPEAT" --json "$WORK/before.$round.json"
  echo "== round $round: after ($(git -C "$HERE" rev-parse --short HEAD))"
  "$HERE/build/dg-embed-bench" --manifest manifest.txt --repeat "$REPEAT" --json "$WORK/after.$round.json"
done
cd "$HERE"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

/usr/bin/python3 - "$WORK" "$OUT" "$BEFORE" "jobs/verify_speed.sh $*" "$REPEAT" "$LOAD_BEFORE" "$LOAD_AFTER" \
  "${VERIFY_SPEED_NOTE:-}" "$ROUNDS" <<'PY'
import copy, json, os, subprocess, sys, datetime
work, out, before_rev, command, repeat, load_before, load_after, note, rounds = sys.argv[1:]


def fastest(runs):
    """One figure set from dg-embed-bench runs of one binary: each stage's least time (highest
    rate) over the runs, and the K ratios again from the fastest decode-only, embedding and pair
    times (as dg-embed-bench computes them: item = embed + K pair, ratio = decode only / item)."""
    best = copy.deepcopy(runs[0])
    for key in ("decode_only_images_per_s", "embed_images_per_s", "verify_pairs_per_s"):
        best[key] = max(r[key] for r in runs)
    best["verify_us_per_pair"] = min(r["verify_us_per_pair"] for r in runs)
    for stage in best["embed_stages_cpu_us"]:
        best["embed_stages_cpu_us"][stage] = min(r["embed_stages_cpu_us"][stage] for r in runs)
    decode, embed, pair = 1 / best["decode_only_images_per_s"], 1 / best["embed_images_per_s"], 1 / best[
        "verify_pairs_per_s"]
    for k, v in best["embed_plus_k_pairs"].items():
        item = embed + int(k) * pair
        v["images_per_s"], v["ratio_to_decode_only"] = 1 / item, decode / item
    best["timing"] = f"thread CPU time, fastest pass, fastest of {len(runs)} rounds stage by stage"
    return best


runs = {side: [json.load(open(f"{work}/{side}.{r}.json")) for r in range(1, int(rounds) + 1)]
        for side in ("before", "after")}
before, after = fastest(runs["before"]), fastest(runs["after"])
rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                       text=True).stdout.strip() != ""
def ratios(r):
    return ", ".join(f"{r['embed_plus_k_pairs'][k]['ratio_to_decode_only']:.2f}" for k in ("1", "5", "10", "20"))
readme = {
    "pairs": f"{after['pairs']} pairs ({after['pairs_same_photo']} of a photo with its copy) from "
             f"{after['files']} files",
    "verify": f"{before['verify_us_per_pair']:.0f} -> {after['verify_us_per_pair']:.0f} us per pair, "
              f"{before['verify_pairs_per_s']:.0f} -> {after['verify_pairs_per_s']:.0f} pairs/s",
    "decode": f"libjpeg-turbo decode only {after['decode_only_images_per_s']:.0f} images/s, embedding "
              f"(decode, content box, descriptor, signature) {after['embed_images_per_s']:.0f} images/s per core "
              f"(before: {before['decode_only_images_per_s']:.0f} and {before['embed_images_per_s']:.0f}; "
              f"decode only is the same libjpeg-turbo code in both)",
    "ratio": f"K = 1, 5, 10, 20: {ratios(after)} of decode only (before: {ratios(before)})",
    "target": "at least 0.5 of decode only per core (issue 13)",
    "stages": "per image (cpu): " + ", ".join(f"{name} {after['embed_stages_cpu_us'][key]:.0f} us" for name, key in (
        ("decode", "decode"), ("content box", "content_box"), ("descriptor", "descriptor"),
        ("signature", "signature"))),
    "stages_before": "per image (cpu), before -> after: " + ", ".join(
        f"{name} {before['embed_stages_cpu_us'][key]:.0f} -> {after['embed_stages_cpu_us'][key]:.0f} us"
        for name, key in (("decode", "decode"), ("content box", "content_box"), ("descriptor", "descriptor"),
                          ("signature", "signature"))),
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
    "rounds": int(rounds),
    "runs": runs,
    "machine": {"cpus": os.cpu_count(), "load_average_before": [float(x) for x in load_before.split()],
                "load_average_after": [float(x) for x in load_after.split()],
                "nice": os.nice(0), "note": note},
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
