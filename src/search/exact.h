/* exact.h - the `exact` mode: every pair of usable items compared, the
 * recall reference (exact.c). */
#ifndef DUPGRAPH_SEARCH_EXACT_H
#define DUPGRAPH_SEARCH_EXACT_H

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/pairs.h"

/* Brute force over all usable items of all ranks (the `exact` mode): the
 * rank blocks circulate in a ring so each pair of blocks meets once. */
int dg_pairs_exact(const dg_ctx *ctx, const dg_items *items, const dg_pair_opts *o, dg_edges *out,
                   dg_pair_stats *st, dg_err *err);

#endif
