/* candidate_bound.c - see candidate_bound.h. */
#include "search/candidate_bound.h"

#include <math.h>
#include <stdlib.h>

#include "search/item_best.h"

/* The cut-off of id among cuts[0..n) (sorted by id), -INFINITY when the
 * item has fewer than per_item pairs (all of them are within the budget). */
static float cut_of(const dg_item_sim *cuts, int64_t n, int64_t id)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (cuts[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && cuts[lo].id == id ? cuts[lo].sim : -INFINITY;
}

int dg_bound_candidates(dg_candidate_bound *b, dg_edges *e, dg_err *err)
{
    if (b == NULL || b->per_item <= 0 || b->hold <= 0 || e->n < b->hold)
        return DG_OK;
    if (dg_edges_sort_unique(e, err) != DG_OK)
        return DG_FAIL;
    int64_t below = 0;
    for (int64_t i = 0; i < e->n; i++)
        below += e->sim[i] < b->keep_above;
    dg_item_sim *v = dg_alloc((size_t)(2 * below + 1), sizeof *v, err);
    if (!v)
        return DG_FAIL;
    int64_t m = 0;
    for (int64_t i = 0; i < e->n; i++)
        if (e->sim[i] < b->keep_above) {
            v[m++] = (dg_item_sim){e->src[i], e->sim[i]};
            v[m++] = (dg_item_sim){e->dst[i], e->sim[i]};
        }
    int64_t n_cuts = dg_kth_per_item(v, m, b->per_item);
    int64_t kept = 0;
    for (int64_t i = 0; i < e->n; i++) {
        float s = e->sim[i];
        if (s >= b->keep_above || s >= cut_of(v, n_cuts, e->src[i]) || s >= cut_of(v, n_cuts, e->dst[i])) {
            e->src[kept] = e->src[i];
            e->dst[kept] = e->dst[i];
            e->sim[kept] = s;
            kept++;
        }
    }
    free(v);
    b->dropped += e->n - kept;
    b->bounded++;
    e->n = kept;
    if (kept > b->hold / 2)
        b->hold = 2 * kept;
    return DG_OK;
}
