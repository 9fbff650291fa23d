/* centroid_index.h - two-level nearest-centroid search.
 *
 * A small spherical k-means over the K centroids groups them under
 * K_c coarse centroids; an item is compared with the coarse centroids, then
 * only with the centroids of its nearest `probes` groups.  The cost per item
 * falls from K x D to about (K_c + probes x K / K_c) x D; with probes >= K_c
 * every centroid is a candidate and the result is the flat search's.
 * Everything here is pure compute on data every rank holds alike (the
 * trained centroids), so every rank builds the same index.
 */
#ifndef DUPGRAPH_CENTROID_INDEX_H
#define DUPGRAPH_CENTROID_INDEX_H

#include <stdint.h>

#include "dupgraph/common.h"

typedef struct dg_centroid_index {
    int64_t k;      /* fine centroids */
    int d;
    int64_t kc;     /* non-empty coarse groups */
    float *coarse;  /* kc x d, unit length */
    int64_t *start; /* kc + 1: group g holds member[start[g] .. start[g + 1]) */
    int32_t *member; /* k fine indices, ascending within a group */
} dg_centroid_index;

/* K_c for K centroids: round(sqrt(K)), at least 1. */
int64_t dg_centroid_index_groups(int64_t k);

/* Groups the k centroids (k x d, unit length) under at most kc coarse
 * centroids (kc <= k): strided initial centroids, `iterations` Lloyd steps
 * with double sums in index order; empty groups are dropped. */
int dg_centroid_index_build(const float *centroids, int64_t k, int d, int64_t kc, int iterations,
                            dg_centroid_index *ix, dg_err *err);
void dg_centroid_index_free(dg_centroid_index *ix);

/* dg_nearest_centroids' contract (m most similar of the candidates, scored
 * in double, ordered by (similarity desc, index asc)) where the candidates
 * are the members of the item's `probes` nearest coarse groups, and of
 * further groups in coarse order while those hold fewer than m. */
int dg_nearest_centroids_two_level(const dg_centroid_index *ix, const float *centroids, const float *x,
                                   int64_t n, int probes, int m, int32_t *idx, float *sim, dg_err *err);

#endif
