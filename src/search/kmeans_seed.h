/* kmeans_seed.h - initial centroids of the k-means training (private to
 * kmeans.c): the training sample's layout and the two seedings.
 *
 * Both seedings spread their work over the ranks and give bit-identical
 * centroids for any rank count: distances are exact integers on quantised
 * coordinates, every random choice comes from a counter-based hash or a
 * PRNG whose draws all ranks make alike, and points are taken in global id
 * order (ranks hold contiguous id ranges in rank order).
 */
#ifndef DUPGRAPH_KMEANS_SEED_H
#define DUPGRAPH_KMEANS_SEED_H

#include "search/kmeans.h"

/* This rank's training sample. */
typedef struct dg_sample {
    int64_t n;      /* points held by this rank */
    int64_t total;  /* points over all ranks */
    int d;
    int64_t *id;    /* global ids, ascending */
    uint64_t *hash; /* dg_mix64(seed ^ dg_mix64(id)) */
    float *vec;     /* n x d */
    int32_t *fix;   /* n x d, coordinates * 2^24 rounded */
} dg_sample;

/* K centroids (p->k x d) on every rank by p->seeding.  Collective.
 * DG_SEEDING_KMEANSPP: k-means++ over the seeding pool (the max(4K, 1024)
 * sample points of smallest hash), each rank scoring the pool points it
 * holds.  DG_SEEDING_KMEANS_PAR: k-means|| over the whole sample, then a
 * weighted k-means++ over its candidates, split over the ranks alike. */
int dg_kmeans_seed(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p, float *centroids,
                   dg_err *err);

#endif
