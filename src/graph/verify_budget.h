/* verify_budget.h - the verifier's budget per item (verify_budget.c).
 *
 * Of the candidate pairs below verify.accept_above, a pair is verified only
 * when it is among the `per_item` most similar such pairs of one of its two
 * items (pairs tied with that similarity count too).  At a fixed
 * pairs.threshold the share of unrelated photos above it is fixed, so
 * without a budget the verifier's work per item grows with the corpus; with
 * it, at most per_item pairs per item are scored on average, whatever the
 * corpus size.  A copy is near the top of its photo's candidates, so the
 * pairs left out are mostly the unrelated ones.  The cut-offs come from
 * every rank's pairs and a pair's similarity does not depend on where it
 * was found, so the pairs left out are the same for any rank count.
 */
#ifndef DUPGRAPH_GRAPH_VERIFY_BUDGET_H
#define DUPGRAPH_GRAPH_VERIFY_BUDGET_H

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/edges.h"

/* Collective.  edges: sorted and unique with src in this rank's item range
 * (dg_graph_dedup).  Sets over[i] = 1 for the edges below accept_above that
 * are beyond the budget of both their items, 0 for the others; with
 * per_item <= 0 there is no budget (all 0, nothing exchanged). */
int dg_verify_budget(const dg_ctx *ctx, const dg_items *items, int per_item, float accept_above,
                     const dg_edges *edges, unsigned char *over, dg_err *err);

#endif
