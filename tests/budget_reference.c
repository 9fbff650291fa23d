/* budget_reference.c - see budget_reference.h. */
#include "budget_reference.h"

#include <math.h>
#include <stdlib.h>

#include "dupgraph/common.h"

void dgt_candidate_pairs(int64_t n_items, double density, uint64_t seed, dg_edges *e)
{
    *e = (dg_edges){0};
    dg_err err = {0};
    for (int64_t a = 0; a < n_items; a++)
        for (int64_t b = a + 1; b < n_items; b++) {
            uint64_t h = dg_mix64(seed ^ (uint64_t)(a * n_items + b));
            if (dg_unit(h) < density && dg_edges_push(e, a, b, 0.3f + 0.01f * (float)(dg_mix64(h) % 70), &err) != DG_OK)
                abort();
        }
}

static int cmp_desc(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    return (a < b) - (a > b);
}

void dgt_budget_cutoffs(const dg_edges *e, int64_t n_items, int k, float accept_above, float *cut)
{
    float *s = malloc((size_t)(e->n + 1) * sizeof *s);
    if (!s)
        abort();
    for (int64_t x = 0; x < n_items; x++) {
        int64_t n = 0;
        for (int64_t i = 0; i < e->n; i++)
            if ((e->src[i] == x || e->dst[i] == x) && e->sim[i] < accept_above)
                s[n++] = e->sim[i];
        qsort(s, (size_t)n, sizeof *s, cmp_desc);
        cut[x] = n >= k ? s[k - 1] : -INFINITY;
    }
    free(s);
}
