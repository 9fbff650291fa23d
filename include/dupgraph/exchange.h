/* exchange.h - moving items to the ranks that own their clusters.
 *
 * For one clustering, every usable item has its m nearest clusters (from
 * dg_nearest_centroids): it travels to the owner of the first as a member and
 * to the owners of the others as a query.  Clusters are given to ranks so
 * that the expected pair work (n^2/2 + q*n for n members, q queries) is
 * balanced; the plan is computed identically on every rank from global
 * counts (MPI_Allreduce), then items move with one MPI_Alltoallv.
 */
#ifndef DUPGRAPH_EXCHANGE_H
#define DUPGRAPH_EXCHANGE_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"

typedef struct dg_cluster_plan {
    int64_t k;
    int32_t *owner;    /* k: rank that computes the cluster's pairs */
    int64_t *members;  /* k: global member counts */
    int64_t *queries;  /* k: global query counts */
    double max_load;   /* largest per-rank expected work, in pair comparisons */
    double mean_load;
} dg_cluster_plan;

/* near is items->n x m cluster indices (rows of unusable items ignored). */
int dg_plan_clusters(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m, int64_t k,
                     dg_cluster_plan *plan, dg_err *err);
void dg_cluster_plan_free(dg_cluster_plan *plan);

/* Pure part of the plan (unit-testable): assigns k clusters to p ranks,
 * heaviest first (ties: lower cluster index) to the least-loaded rank (ties:
 * lower rank).  Fails only when its O(k + p) scratch cannot be allocated. */
int dg_assign_owners(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner,
                     double *max_load, double *mean_load, dg_err *err);

/* The items a rank received: sorted by (cluster, is_query, id). */
typedef struct dg_bucket {
    int64_t n;
    int d;
    int64_t *id;
    int32_t *cluster;
    int8_t *is_query;
    float *vec; /* n x d */
} dg_bucket;

/* Collective; on failure every rank returns DG_FAIL and out is empty.
 * *bytes_sent: bytes this rank sent to other ranks (its own records that
 * stay local are not counted). */
int dg_exchange(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m,
                const dg_cluster_plan *plan, dg_bucket *out, int64_t *bytes_sent, dg_err *err);
void dg_bucket_free(dg_bucket *b);

#endif
