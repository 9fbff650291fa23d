/* edges.c - the growable edge list shared by the pair search, the exact
 * mode and the graph stage: append, sort and de-duplicate. */
#include <stdlib.h>
#include <string.h>

#include "search/edges.h"

int dg_edges_push(dg_edges *e, int64_t a, int64_t b, float sim, dg_err *err)
{
    if (e->n == e->cap) {
        int64_t cap = e->cap ? e->cap * 2 : 1024;
        int64_t *src = realloc(e->src, (size_t)cap * sizeof *src);
        if (src)
            e->src = src;
        int64_t *dst = realloc(e->dst, (size_t)cap * sizeof *dst);
        if (dst)
            e->dst = dst;
        float *s = realloc(e->sim, (size_t)cap * sizeof *s);
        if (s)
            e->sim = s;
        if (!src || !dst || !s)
            return dg_fail(err, "out of memory growing the edge list to %lld edges", (long long)cap);
        e->cap = cap;
    }
    e->src[e->n] = a < b ? a : b;
    e->dst[e->n] = a < b ? b : a;
    e->sim[e->n] = sim;
    e->n++;
    return DG_OK;
}

void dg_edges_free(dg_edges *e)
{
    free(e->src);
    free(e->dst);
    free(e->sim);
    memset(e, 0, sizeof *e);
}

typedef struct edge_row {
    int64_t src, dst;
    float sim;
} edge_row;

static int cmp_edge_row(const void *pa, const void *pb)
{
    const edge_row *a = pa, *b = pb;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    if (a->dst != b->dst)
        return a->dst < b->dst ? -1 : 1;
    return 0;
}

int dg_edges_sort_unique(dg_edges *e, dg_err *err)
{
    if (e->n == 0)
        return DG_OK;
    edge_row *rows = dg_alloc((size_t)e->n, sizeof *rows, err);
    if (!rows)
        return DG_FAIL;
    for (int64_t i = 0; i < e->n; i++)
        rows[i] = (edge_row){e->src[i], e->dst[i], e->sim[i]};
    qsort(rows, (size_t)e->n, sizeof *rows, cmp_edge_row);
    int64_t out = 0;
    for (int64_t i = 0; i < e->n; i++) {
        if (out > 0 && rows[i].src == e->src[out - 1] && rows[i].dst == e->dst[out - 1])
            continue;
        e->src[out] = rows[i].src;
        e->dst[out] = rows[i].dst;
        e->sim[out] = rows[i].sim;
        out++;
    }
    e->n = out;
    free(rows);
    return DG_OK;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int64_t dg_ids_sort_unique(int64_t *ids, int64_t m)
{
    if (m == 0)
        return 0;
    qsort(ids, (size_t)m, sizeof *ids, cmp_i64);
    int64_t out = 1;
    for (int64_t k = 1; k < m; k++)
        if (ids[k] != ids[out - 1])
            ids[out++] = ids[k];
    return out;
}

int64_t dg_ids_index(const int64_t *ids, int64_t n, int64_t id)
{
    const int64_t *hit = n > 0 ? bsearch(&id, ids, (size_t)n, sizeof *ids, cmp_i64) : NULL;
    return hit ? hit - ids : -1;
}
