/* item_best.h - each item's most similar pairs (item_best.c): the step the
 * verifier's budget (graph/verify_budget.h) and the search's bound on the
 * candidates a rank holds (search/candidate_bound.h) share. */
#ifndef DUPGRAPH_SEARCH_ITEM_BEST_H
#define DUPGRAPH_SEARCH_ITEM_BEST_H

#include <stdint.h>

/* One end of a pair: the item and the pair's similarity. */
typedef struct dg_item_sim {
    int64_t id;
    float sim;
} dg_item_sim;

/* Sorts v[0..n) by id, then by similarity, largest first, and moves the
 * first k entries of each id to the front, in that order; returns their
 * count.  The k-th of an id's run, when it has k, is its k-th largest
 * similarity. */
int64_t dg_best_per_item(dg_item_sim *v, int64_t n, int k);

/* Each item's cut-off: sorts v[0..n) as dg_best_per_item and moves, for
 * each id with k entries or more, one entry (id, its k-th largest
 * similarity) to the front, in id order; returns their count.  Ids with
 * fewer than k have none (every pair of theirs is within a budget of k). */
int64_t dg_kth_per_item(dg_item_sim *v, int64_t n, int k);

#endif
