/* pairs.h - similarity search inside a set of vectors, in blocks.
 *
 * Similarities of a block of rows against a block of columns come from one
 * cblas_sgemm, or from the bfloat16 kernel (search/bf16_block.h), into a
 * block-sized buffer (never an n x n matrix).  A pair whose block similarity
 * is within the arithmetic's error bound of the threshold or above
 * (DG_SIM_RESCORE_EPS for sgemm, dg_bf16_margin(d) for bfloat16) is
 * re-scored as a double-precision dot product and kept if that is >= the
 * threshold; the stored similarity is the re-scored one.  So the edge set and
 * the similarities depend neither on blocking, nor on the arithmetic, nor on
 * the number of ranks.
 */
#ifndef DUPGRAPH_SEARCH_PAIRS_H
#define DUPGRAPH_SEARCH_PAIRS_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/candidate_bound.h"
#include "search/edges.h"
#include "search/exchange.h"

#define DG_SIM_RESCORE_EPS 1e-4f

/* What a pair search keeps and how it computes its blocks. */
typedef struct dg_pair_opts {
    float threshold; /* pairs at or above are kept */
    int block;       /* rows and columns per block; <= 0: the default */
    int bfloat16;    /* blocks in bfloat16 (requires dg_bf16_available()) */
    /* NULL, or the verifier's budget: after each block the output list is
     * bounded by it (search/candidate_bound.h), so the pairs it drops are
     * never verified in any case */
    dg_candidate_bound *bound;
} dg_pair_opts;

/* The options of a job's configuration (job.precision resolved by
 * dg_bf16_resolve). */
int dg_pair_opts_from_config(const dg_config *cfg, dg_pair_opts *o, dg_err *err);
/* The pair functions add to the stats they are given (st may be NULL). */
typedef struct dg_pair_stats {
    int64_t compared; /* pairs searched (i < j within a set, all between sets) */
    double flops;     /* 2 * d per similarity actually computed (padding and discarded parts included) */
    double seconds;
} dg_pair_stats;

/* Double-precision dot product rounded to float: the reference similarity. */
float dg_sim_exact(const float *a, const float *b, int d);

/* All pairs i < j within one set (n x d rows, ids[i] their global ids). */
int dg_pairs_within(const float *x, const int64_t *ids, int64_t n, int d, const dg_pair_opts *o, dg_edges *out,
                    dg_pair_stats *st, dg_err *err);

/* All pairs (a_i, b_j) between two sets; pairs with equal ids are skipped. */
int dg_pairs_between(const float *a, const int64_t *ida, int64_t na, const float *b, const int64_t *idb,
                     int64_t nb, int d, const dg_pair_opts *o, dg_edges *out, dg_pair_stats *st, dg_err *err);

/* Every cluster of a bucket: members x members and queries x members.
 * certain NULL: every pair at or above the threshold; else graph.edges =
 * forest (search/forest.h) with *certain the similarity from which pairs
 * join the forest unverified. */
int dg_pairs_bucket(const dg_ctx *ctx, const dg_bucket *b, const dg_pair_opts *o, const float *certain,
                    dg_edges *out, dg_pair_stats *st, dg_err *err);

/* Collective: rank 0 logs each rank's compared pairs, seconds and `rows`
 * (bucket rows, or any per-rank size worth seeing) as "<what>: pairs per
 * rank ...", with max/mean, to show how evenly the work was spread. */
void dg_pair_stats_log(const dg_ctx *ctx, const char *what, const dg_pair_stats *st, int64_t rows);

#endif
