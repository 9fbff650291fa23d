/* budget_reference.h - the verifier's budget per item (graph/verify_budget.h)
 * computed serially, and the random candidate pairs its tests draw
 * (budget_reference.c; test_verify_budget.c, test_candidate_bound.c). */
#ifndef DUPGRAPH_TESTS_BUDGET_REFERENCE_H
#define DUPGRAPH_TESTS_BUDGET_REFERENCE_H

#include <stdint.h>

#include "search/edges.h"

/* Every pair a < b of n_items with probability density, similarity on a
 * 0.01 grid in [0.3, 1) so that ties at an item's cut-off are common;
 * sorted by (src, dst). */
void dgt_candidate_pairs(int64_t n_items, double density, uint64_t seed, dg_edges *e);

/* cut[i] = the k-th largest similarity below accept_above among item i's
 * pairs in e (-INFINITY with fewer): a pair below accept_above is within
 * the budget when it reaches the cut of one of its items. */
void dgt_budget_cutoffs(const dg_edges *e, int64_t n_items, int k, float accept_above, float *cut);

#endif
