/* owner_exchange.c - see owner_exchange.h. */
#include "graph/owner_exchange.h"

#include <limits.h>
#include <stdlib.h>

void dg_owner_counts_free(dg_owner_counts *c)
{
    free(c->sc);
    free(c->sd);
    free(c->rc);
    free(c->rd);
    *c = (dg_owner_counts){0};
}

int dg_owner_counts_for(const dg_ctx *ctx, int rc, int64_t n_total, const int64_t *ids, int64_t k,
                        dg_owner_counts *c, int64_t *nrecv, dg_err *err)
{
    int p = ctx->size;
    *c = (dg_owner_counts){0};
    *nrecv = 0;
    if (rc == DG_OK) {
        c->sc = dg_calloc((size_t)p, sizeof(int), err);
        c->sd = dg_calloc((size_t)p, sizeof(int), err);
        c->rc = dg_calloc((size_t)p, sizeof(int), err);
        c->rd = dg_calloc((size_t)p, sizeof(int), err);
        rc = c->sc && c->sd && c->rc && c->rd ? DG_OK : DG_FAIL;
    }
    if (rc == DG_OK && k > INT_MAX)
        rc = dg_fail(err, "%lld ids to send exceed the MPI count limit", (long long)k);
    for (int64_t i = 0; rc == DG_OK && i < k; i++)
        c->sc[dg_range_owner(n_total, p, ids[i])]++;
    if ((rc = dg_agree(ctx, rc, err)) == DG_OK) {
        MPI_Alltoall(c->sc, 1, MPI_INT, c->rc, 1, MPI_INT, ctx->comm);
        for (int r = 0; r < p; r++)
            *nrecv += c->rc[r];
        if (*nrecv > INT_MAX)
            rc = dg_fail(err, "%lld ids to receive exceed the MPI count limit", (long long)*nrecv);
        rc = dg_agree(ctx, rc, err);
    }
    if (rc != DG_OK) {
        dg_owner_counts_free(c);
        return rc;
    }
    for (int r = 1; r < p; r++) {
        c->sd[r] = c->sd[r - 1] + c->sc[r - 1];
        c->rd[r] = c->rd[r - 1] + c->rc[r - 1];
    }
    return DG_OK;
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
    int64_t u = dg_ids_sort_unique(v, n);
    for (int64_t i = 0; i < e->n; i++)
        if (e->dst[i] >= end && (!use || use[i]))
            where[i] = dg_ids_index(v, u, e->dst[i]);
    *ids = v;
    *m = u;
    return DG_OK;
}
