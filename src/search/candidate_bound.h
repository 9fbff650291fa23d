/* candidate_bound.h - keeps the candidate pairs a rank holds during the
 * search within what the verifier's budget can use (candidate_bound.c).
 *
 * With a budget of K pairs per item (verify.max_candidates), a candidate
 * below verify.accept_above is verified only when its similarity reaches
 * the K-th largest among the candidates of one of its two items
 * (graph/verify_budget.h).  In any subset of the candidates an item's K-th
 * largest is no higher than in the whole set, so a pair below both its
 * items' K-th values within a subset is beyond the budget in the whole set
 * too: dropping it changes nothing the job outputs.  Without the bound the
 * candidates per item grow with the corpus (the share of unrelated photos
 * above pairs.threshold is fixed), and a rank's list with its square.
 */
#ifndef DUPGRAPH_SEARCH_CANDIDATE_BOUND_H
#define DUPGRAPH_SEARCH_CANDIDATE_BOUND_H

#include <stdint.h>

#include "search/edges.h"

typedef struct dg_candidate_bound {
    int per_item;     /* K; <= 0: nothing is dropped */
    float keep_above; /* pairs at or above are edges without the verifier: never dropped */
    int64_t hold;     /* a list is bounded once it holds this many pairs; <= 0: never */
    int64_t dropped;  /* pairs dropped, summed over the calls (a pair found again may count again) */
    int64_t bounded;  /* times a list was bounded */
} dg_candidate_bound;

/* When e holds b->hold pairs or more: sorts and de-duplicates e
 * (dg_edges_sort_unique), then drops each pair below keep_above whose
 * similarity is below the per_item-th largest of both its items among e's
 * pairs below keep_above (pairs tied with it stay).  When more than half
 * of hold remains, hold becomes twice what remains, so that a list of
 * pairs within the budget is not sorted again at every call.  b NULL or
 * per_item <= 0: nothing is done. */
int dg_bound_candidates(dg_candidate_bound *b, dg_edges *e, dg_err *err);

#endif
