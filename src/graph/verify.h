/* verify.h - the second, more exact comparison of a candidate pair
 * (verify.c): two signatures (input/signature.h) aligned by a similarity
 * transform, scored by the share of local blocks that agree.  Pure C, no
 * MPI, no allocation: a pure function of the two signatures. */
#ifndef DUPGRAPH_GRAPH_VERIFY_H
#define DUPGRAPH_GRAPH_VERIFY_H

#include <stdint.h>

/* The transform found: the probe (the signature whose content lies inside
 * the other's) maps into the reference by mirror, scale and rotation about
 * its centre, then to (tx, ty) in the reference's pixels. */
typedef struct dg_verify_match {
    float score;     /* as dg_verify_score */
    int probe_is_b;  /* 1: b lies inside a */
    int mirror;
    float scale, degrees, tx, ty;
    /* at this transform, over the overlap: sum |detail a - detail b| / sum
     * (|detail a| + |detail b|), detail = thumbnail minus its 7 x 7 local
     * mean; copies ~0.1-0.45, tiles of one texture ~0.45-0.8; 1: no overlap */
    float detail_diff;
} dg_verify_match;

/* The score in [0, 1]: of the probe's 4 x 4-pixel blocks, the share that
 * lies inside the reference after alignment and agrees with it there.  A
 * copy under mirror, crop (the smaller keeps >= ~45% of the larger's
 * sides), rotation up to ~10 degrees, borders, overlays, blur or heavy
 * JPEG scores high; different photos, or tiles of one photo sharing little,
 * score low.  -1 when either signature is absent.  match may be NULL. */
float dg_verify_score(const uint8_t *a, const uint8_t *b, dg_verify_match *match);

#endif
