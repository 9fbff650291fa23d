#!/usr/bin/env bash
# The variants of knob_probe.txt (session 14), in one run.
cd "$(dirname "$0")"
./knob_probe.sh \
  base 's/^$//' \
  stride4 's/#define FINE_STRIDE 3 /#define FINE_STRIDE 4 /' \
  refine1 's/#define N_REFINE 2/#define N_REFINE 1/' \
  rounds2 's/return pattern_search(ref, probe, pl, 3, 8);/return pattern_search(ref, probe, pl, 2, 8);/' \
  coarse4 's/#define COARSE_STEP 3.0f/#define COARSE_STEP 4.0f/' \
  nosecond 's/if (same_place(\&shifted, \&pl))/if (1)/' \
  scale05 's/static const float SCALES\[\] = {1.0f, 0.9f, 0.8f, 0.7f, 0.6f};/static const float SCALES[] = {1.0f, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f};/' \
  detailr4 's/#define DETAIL_R 3 /#define DETAIL_R 4 /' \
  floor1 's|mass > 0.0f ? diff / mass : 0.0f;|diff / (mass + 1.0f * (float)on);|' \
  floor3 's|mass > 0.0f ? diff / mass : 0.0f;|diff / (mass + 3.0f * (float)on);|' \
  floor8 's|mass > 0.0f ? diff / mass : 0.0f;|diff / (mass + 8.0f * (float)on);|'
