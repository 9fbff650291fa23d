#!/usr/bin/env bash
# Makes the neural embedder's weights once: fetches the nsfwjs npm package
# (pinned version, tarball checked against its SHA-256), unwraps its
# mobilenet_v2_mid TF.js graph model and converts it into the HDF5 file the C
# code loads (default build/mobilenet_v2.h5).  Also installs the pinned
# @tensorflow/tfjs that tests/e2e_mobilenet.py uses as the reference
# (build/tfjs-ref).  Needs node and npm; nothing is downloaded at run time.
# Nothing here is committed: weights and node_modules stay under build/.
#   jobs/setup_mobilenet.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
nsfwjs_version=4.4.0
nsfwjs_sha256=585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382
tfjs_version=4.22.0
weights=$out/mobilenet_v2.h5

if [ ! -f "$weights" ]; then
  work=$out/nsfwjs
  rm -rf "$work"
  mkdir -p "$work"
  (cd "$work" && npm pack --silent "nsfwjs@$nsfwjs_version" >/dev/null)
  echo "$nsfwjs_sha256  $work/nsfwjs-$nsfwjs_version.tgz" | sha256sum -c --quiet
  tar -xzf "$work/nsfwjs-$nsfwjs_version.tgz" -C "$work"
  node jobs/extract_nsfwjs.cjs "$work/package" mobilenet_v2_mid "$work/mobilenet_v2_mid"
  /usr/bin/python3 jobs/convert_mobilenet.py "$work/mobilenet_v2_mid" "$work/package" "$weights"
fi

if [ ! -f "$out/tfjs-ref/node_modules/@tensorflow/tfjs/package.json" ]; then
  mkdir -p "$out/tfjs-ref"
  (cd "$out/tfjs-ref" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     npm install --no-audit --no-fund --silent "@tensorflow/tfjs@$tfjs_version")
fi
