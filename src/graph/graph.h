/* graph.h - the duplicate graph, distributed by item ranges.
 *
 * Edges are routed to the rank owning their src id, so after
 * dg_graph_dedup each rank holds the sorted, unique edges whose src lies in
 * its own range, and the concatenation over ranks is globally sorted.
 * Components are found by distributed min-label propagation with pointer
 * jumping (labels of remote items are fetched with MPI_Alltoallv); no rank
 * ever holds all edges.  A component's label is its lowest global id.
 */
#ifndef DUPGRAPH_GRAPH_H
#define DUPGRAPH_GRAPH_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "search/edges.h"

int dg_graph_dedup(const dg_ctx *ctx, int64_t n_total, dg_edges *edges, dg_err *err);

/* label[i] for the n items [lo, lo+n) this rank owns. */
int dg_graph_components(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const dg_edges *edges,
                        int64_t *label, int *rounds, dg_err *err);

/* keep[i] = 1 for the one item kept in each component of usable items, 0
 * otherwise.  DG_KEEP_FIRST keeps the lowest id (the label); DG_KEEP_CENTRAL
 * keeps the highest `centrality` (ties: lowest id). */
int dg_graph_keep(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const int64_t *label,
                  const int8_t *status, const float *centrality, dg_keep_policy policy, int8_t *keep,
                  dg_err *err);

/* Every owned item's best match over the edges (highest sim, ties to the
 * lowest id): best_match -1 and best_sim NaN when it has none.  Edges as
 * after dg_graph_dedup (src in this rank's range). */
int dg_graph_best(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const dg_edges *edges,
                  float *best_sim, int64_t *best_match, dg_err *err);

/* graph.edges = forest: reduces the edges (src in this rank's range, with
 * their verifier scores *score or NULL) to the maximum spanning forest of
 * each component (labels from dg_graph_components), returned the same way,
 * sorted by (src, dst). */
int dg_graph_forest(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const int64_t *label,
                    dg_edges *edges, float **score, dg_err *err);

#endif
