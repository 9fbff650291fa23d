/* verify_edges.h - the verification stage (verify_edges.c): every candidate
 * pair of the search is scored by the verifier (verify.h) on the rank that
 * owns its lower id, and kept as an edge when dg_verify_passes accepts it.  The signature of the other item is fetched from its owner
 * (MPI_Alltoallv of requested ids, then of signatures, in rounds bounded in
 * bytes), so the stage moves candidates x DG_SIG_BYTES rather than a
 * signature with every record of the exchange.  A budget per item
 * (verify_budget.h) may leave the least similar candidates unverified. */
#ifndef DUPGRAPH_GRAPH_VERIFY_EDGES_H
#define DUPGRAPH_GRAPH_VERIFY_EDGES_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/edges.h"

/* Signatures fetched per round and rank are at most this many bytes. */
#define DG_VERIFY_ROUND_BYTES ((int64_t)32 << 20)

typedef struct dg_verify_params {
    float threshold;     /* verifier score an edge needs */
    float accept_above;  /* edges of sim >= this are kept unverified (score NaN) */
    float max_detail_diff; /* verified edges need dg_verify_match.detail_diff <= this (1: off) */
    float agree_above;     /* ... or, at sim >= this, a score >= agree_threshold whatever the detail */
    float agree_threshold;
    int max_candidates;    /* verified pairs per item (verify_budget.h); 0: every candidate */
    int64_t round_bytes; /* signatures a rank receives per round, at most */
} dg_verify_params;

/* Whether a verified pair of similarity sim, verifier score and detail
 * difference detail is an edge: score >= threshold with detail <=
 * max_detail_diff, or, where the embedding already agrees (sim >=
 * agree_above < 1), score >= agree_threshold.  A NaN score passes neither,
 * nor does -1 (no signature). */
static inline int dg_verify_passes(const dg_verify_params *vp, float sim, float score, float detail)
{
    if (score >= vp->threshold && detail <= vp->max_detail_diff)
        return 1;
    return vp->agree_above < 1.0f && sim >= vp->agree_above && score >= vp->agree_threshold && score >= 0.0f;
}

/* This rank's figures (the caller sums them over ranks). */
typedef struct dg_verify_stats {
    int64_t candidates;     /* pairs scored */
    int64_t accepted;       /* of them, kept unverified (sim >= accept_above) */
    int64_t rejected;       /* of them, verified and below the threshold */
    int64_t over_budget;    /* of them, not verified: beyond both items' max_candidates (not edges) */
    int64_t fetched;        /* signatures fetched from other ranks */
    int64_t bytes_sent;     /* request ids and signatures this rank sent */
    int rounds;             /* MPI_Alltoallv rounds (the same on every rank) */
    double seconds_scoring; /* this rank's time in the verifier */
} dg_verify_stats;

/* Collective.  edges: sorted and unique with src in this rank's item range
 * (after dg_graph_dedup); items->sig on every rank that holds items.  Keeps
 * the edges within the budget that dg_verify_passes accepts, and those of
 * sim >= accept_above, in order, and their scores in *score (malloc'd,
 * edges->n after the call; NULL for none). */
int dg_verify_edges(const dg_ctx *ctx, const dg_items *items, const dg_verify_params *vp, dg_edges *edges,
                    float **score, dg_verify_stats *st, dg_err *err);

#endif
