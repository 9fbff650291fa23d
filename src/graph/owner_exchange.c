/* owner_exchange.c - see owner_exchange.h. */
#include "graph/owner_exchange.h"

#include <stdlib.h>

int dg_owner_counts_alloc(dg_owner_counts *c, int p, dg_err *err)
{
    c->sc = dg_calloc((size_t)p, sizeof(int), err);
    c->sd = dg_calloc((size_t)p, sizeof(int), err);
    c->rc = dg_calloc((size_t)p, sizeof(int), err);
    c->rd = dg_calloc((size_t)p, sizeof(int), err);
    return c->sc && c->sd && c->rc && c->rd ? DG_OK : DG_FAIL;
}

void dg_owner_counts_free(dg_owner_counts *c)
{
    free(c->sc);
    free(c->sd);
    free(c->rc);
    free(c->rd);
}

int64_t dg_owner_counts_exchange(const dg_ctx *ctx, dg_owner_counts *c)
{
    int p = ctx->size;
    MPI_Alltoall(c->sc, 1, MPI_INT, c->rc, 1, MPI_INT, ctx->comm);
    c->sd[0] = c->rd[0] = 0;
    for (int r = 1; r < p; r++) {
        c->sd[r] = c->sd[r - 1] + c->sc[r - 1];
        c->rd[r] = c->rd[r - 1] + c->rc[r - 1];
    }
    int64_t n = 0;
    for (int r = 0; r < p; r++)
        n += c->rc[r];
    return n;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

int dg_remote_ids(const dg_items *items, const dg_edges *e, const unsigned char *use, int64_t **ids, int64_t *m,
                  int64_t *where, dg_err *err)
{
    *ids = NULL;
    *m = 0;
    int64_t n = 0, end = items->lo + items->n;
    for (int64_t i = 0; i < e->n; i++) {
        where[i] = -1;
        n += e->dst[i] >= end && (!use || use[i]);
    }
    if (n == 0)
        return DG_OK;
    int64_t *v = dg_alloc((size_t)n, sizeof *v, err);
    if (!v)
        return DG_FAIL;
    n = 0;
    for (int64_t i = 0; i < e->n; i++)
        if (e->dst[i] >= end && (!use || use[i]))
            v[n++] = e->dst[i];
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int64_t u = 0;
    for (int64_t i = 0; i < n; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    for (int64_t i = 0; i < e->n; i++) {
        if (e->dst[i] >= end && (!use || use[i])) {
            const int64_t *hit = bsearch(&e->dst[i], v, (size_t)u, sizeof *v, cmp_i64);
            where[i] = hit - v;
        }
    }
    *ids = v;
    *m = u;
    return DG_OK;
}
