#!/usr/bin/env bash
# Installs whatever of dupgraph's Debian 12 packages is missing, then
# configures and builds the project in build/.  Safe to run repeatedly.
#   jobs/setup.sh            # install + build
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build and run
  build-essential meson ninja-build pkg-config
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools
  libopenblas-dev libturbojpeg0-dev libjpeg62-turbo-dev libjpeg-turbo-progs libspng-dev libwebp-dev
  libinih-dev libjansson-dev libarchive-dev
  # what `pkg-config --static dupgraph` names through libarchive (the installed static library, e2e_install)
  nettle-dev libacl1-dev liblzma-dev libzstd-dev liblz4-dev libbz2-dev zlib1g-dev libxml2-dev
  # tests, benchmarks, notebooks
  libcmocka-dev python3-h5py python3-numpy python3-pandas python3-faiss
  # the example notebook and the report test (headless browser, PNG reader)
  python3-nbclient python3-ipykernel python3-matplotlib python3-pil chromium
  # real photographs for the demo corpus and the image tests; a render (test_content_rect)
  lomiri-wallpapers-16.04 desktop-base
  # libFuzzer for the fuzzers (jobs/fuzz.sh, the fuzz tests of build-fuzz/ run by jobs/test.sh)
  clang-14 libclang-rt-14-dev
  # Slurm for the sbatch tests (slurm/testcluster.sh runs the daemons itself, no systemd)
  slurmctld slurmd slurm-client munge
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm fetch the neural embedder's weights (jobs/setup_mobilenet.sh);
# Debian's packages unless some node is installed already
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ -f build/build.ninja ] || meson setup build --buildtype=release
ninja -C build
jobs/setup_mobilenet.sh build
