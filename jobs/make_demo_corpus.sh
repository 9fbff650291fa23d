#!/usr/bin/env bash
# Builds the built-in demo corpus with dg-mkbench from the real photographs
# of the Debian package lomiri-wallpapers-16.04 (installed by jobs/setup.sh;
# nothing is downloaded here).  The package ships 15 JPEG wallpapers, one
# resolution each, all distinct: 14 photographs and one digital artwork
# (umang_by_Abhishek_Mudgal.jpg).  In path order the first 12 become
# originals with 25 variants each; the last 3 (seeding, sunset, umang) are
# distractors.  Originals are downscaled to fit 640x640.
#   jobs/make_demo_corpus.sh [OUTDIR [SEED]]     (default build/demo-corpus, seed 1)
# Writes OUTDIR/manifest.txt, truth.csv, transforms.txt, sources.txt and
# OUTDIR/images/ (315 JPEG files, about 15 MB, a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-build/demo-corpus}
seed=${2:-1}
package=lomiri-wallpapers-16.04
mkbench=${DG_MKBENCH:-build/dg-mkbench}

if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
  echo "make_demo_corpus: package $package is not installed (run jobs/setup.sh)" >&2
  exit 1
fi
if [ -z "${DG_MKBENCH:-}" ] && [ -f build/build.ninja ]; then
  ninja -C build dg-mkbench >/dev/null
fi
if [ ! -x "$mkbench" ]; then
  echo "make_demo_corpus: $mkbench not built (run jobs/setup.sh)" >&2
  exit 1
fi

list=$(mktemp)
trap 'rm -f "$list"' EXIT
dpkg -L "$package" | grep -iE '\.jpe?g$' | LC_ALL=C sort > "$list"
count=$(wc -l < "$list")
if [ "$count" -lt 15 ]; then
  echo "make_demo_corpus: $package lists $count JPEG files, expected 15" >&2
  exit 1
fi

mkdir -p "$out"
rm -rf "$out/images" "$out/manifest.txt" "$out/truth.csv" "$out/transforms.txt" "$out/sources.txt"
"$mkbench" --photos "$list" --out "$out" --seed "$seed" \
  --max-originals 12 --distractors 3 --size 640x640
