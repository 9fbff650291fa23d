/* kmeans.h - distributed spherical k-means and nearest-centroid search.
 *
 * Training runs on a sample chosen by hashing (seed, global id), so the
 * sample does not depend on how items are split over ranks.  Seeding
 * (k-means++ over a pool of the sample, or k-means|| over all of it) is
 * spread over the ranks and exact (kmeans_seed.h); Lloyd iterations
 * assign each rank's sample points with cblas_sgemm and sum them into int64
 * fixed point before MPI_Allreduce, so the centroids are bit-identical for
 * any number of ranks.  Empty clusters are re-seeded with the sample points
 * worst served by their centroid.
 */
#ifndef DUPGRAPH_KMEANS_H
#define DUPGRAPH_KMEANS_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"

typedef struct dg_kmeans_params {
    int64_t k;
    int iterations;
    int64_t sample; /* points used for training (all usable items if >= N) */
    uint64_t seed;
    dg_seeding seeding;
    int bfloat16; /* nearest centroids in bfloat16 (job.precision; same centroids either way) */
} dg_kmeans_params;

void dg_kmeans_params_default(dg_kmeans_params *p);

/* One entry per Lloyd iteration. */
typedef struct dg_kmeans_stats {
    double objective; /* mean cosine similarity of sample points to their centroid */
    double imbalance; /* K * sum(n_k^2) / (sum n_k)^2: 1 = perfectly even */
    int64_t reseeded; /* empty clusters re-seeded in this iteration */
    double seconds;
} dg_kmeans_stats;

/* The training as a whole, the same on every rank (seconds: rank 0's). */
typedef struct dg_kmeans_totals {
    int64_t sample;         /* points trained on, over all ranks */
    int iterations;
    double seeding_seconds; /* the seeding (p->seeding), with its collectives */
    double lloyd_seconds;   /* the Lloyd iterations */
    double objective;       /* of the last iteration (0 without iterations) */
    double imbalance;       /* of the last iteration (0 without iterations) */
} dg_kmeans_totals;

/* Trains K unit-norm centroids (k x d, row-major) from the usable items of
 * all ranks.  Collective.  stats may be NULL, else holds p->iterations
 * entries; totals may be NULL. */
int dg_kmeans_train(const dg_ctx *ctx, const dg_items *items, const dg_kmeans_params *p,
                    float *centroids, dg_kmeans_stats *stats, dg_kmeans_totals *totals, dg_err *err);

/* For each of n unit vectors: the m most similar of k unit centroids,
 * most similar first (idx n x m, sim n x m; sim may be NULL).  Block
 * similarities come from cblas_sgemm or, with bfloat16, the bfloat16 kernel
 * (search/bf16_block.h); every centroid within twice the arithmetic's error
 * bound of the block's m-th best is re-scored in double, and the best m by
 * (similarity desc, index asc) are kept.  So the result is the exact m
 * nearest whatever the blocking or arithmetic.  Pure compute, no MPI. */
int dg_nearest_centroids(const float *x, int64_t n, int d, const float *centroids, int64_t k, int m, int bfloat16,
                         int32_t *idx, float *sim, dg_err *err);

/* Double-precision dot product in a fixed order (four interleaved partial
 * sums), so equal inputs give equal results wherever they are computed. */
double dg_dot_double(const float *a, const float *b, int d);

#endif
