/* item_best.c - see item_best.h. */
#include "search/item_best.h"

#include <stdlib.h>

/* By id, then by similarity, largest first. */
static int cmp_item_sim(const void *pa, const void *pb)
{
    const dg_item_sim *a = pa, *b = pb;
    if (a->id != b->id)
        return (a->id > b->id) - (a->id < b->id);
    return (a->sim < b->sim) - (a->sim > b->sim);
}

int64_t dg_best_per_item(dg_item_sim *v, int64_t n, int k)
{
    if (n > 0)
        qsort(v, (size_t)n, sizeof *v, cmp_item_sim);
    int64_t m = 0, run = 0;
    for (int64_t i = 0; i < n; i++) {
        run = i > 0 && v[i].id == v[i - 1].id ? run + 1 : 0;
        if (run < k)
            v[m++] = v[i];
    }
    return m;
}

int64_t dg_kth_per_item(dg_item_sim *v, int64_t n, int k)
{
    int64_t m = dg_best_per_item(v, n, k), n_cuts = 0;
    /* the write position never passes the read position */
    for (int64_t i = 0, run = 0; i < m; i++) {
        run = i > 0 && v[i].id == v[i - 1].id ? run + 1 : 0;
        if (run == k - 1)
            v[n_cuts++] = v[i];
    }
    return n_cuts;
}
