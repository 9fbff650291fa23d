/* verify_budget.c - see verify_budget.h.  Three exchanges: every rank sends
 * each item's best per_item similarities among its own pairs to the item's
 * owner (the best of the union is among the union of the bests); the owner
 * keeps the per_item-th largest as the item's cut-off; the ranks then fetch
 * the cut-offs of the other ranks' items their pairs point at. */
#include "graph/verify_budget.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/owner_exchange.h"
#include "search/item_best.h"

/* Collective: v (n entries, sorted by id) to the owners of the ids; cut[j]
 * = the k-th largest similarity of item lo + j over every rank's entries,
 * -INFINITY with fewer than k. */
static int owner_cutoffs(const dg_ctx *ctx, const dg_items *items, int k, const dg_item_sim *v, int64_t n, float *cut,
                         dg_err *err)
{
    int64_t *ids = dg_alloc((size_t)n, sizeof *ids, err);
    float *sims = dg_alloc((size_t)n, sizeof *sims, err);
    int rc = n == 0 || (ids && sims) ? DG_OK : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < n; i++) {
        ids[i] = v[i].id;
        sims[i] = v[i].sim;
    }
    dg_owner_counts c;
    int64_t nr = 0;
    dg_item_sim *got = NULL;
    int64_t *rid = NULL;
    float *rsim = NULL;
    if ((rc = dg_owner_counts_for(ctx, rc, items->n_total, ids, n, &c, &nr, err)) == DG_OK) {
        rid = dg_alloc((size_t)nr, sizeof *rid, err);
        rsim = dg_alloc((size_t)nr, sizeof *rsim, err);
        got = dg_alloc((size_t)nr, sizeof *got, err);
        rc = nr == 0 || (rid && rsim && got) ? DG_OK : DG_FAIL;
        if ((rc = dg_agree(ctx, rc, err)) == DG_OK) {
            MPI_Alltoallv(ids, c.sc, c.sd, MPI_INT64_T, rid, c.rc, c.rd, MPI_INT64_T, ctx->comm);
            MPI_Alltoallv(sims, c.sc, c.sd, MPI_FLOAT, rsim, c.rc, c.rd, MPI_FLOAT, ctx->comm);
            for (int64_t i = 0; i < nr; i++)
                got[i] = (dg_item_sim){rid[i], rsim[i]};
            nr = dg_kth_per_item(got, nr, k);
            for (int64_t j = 0; j < items->n; j++)
                cut[j] = -INFINITY;
            for (int64_t i = 0; i < nr; i++)
                cut[got[i].id - items->lo] = got[i].sim;
        }
        dg_owner_counts_free(&c);
    }
    free(ids);
    free(sims);
    free(rid);
    free(rsim);
    free(got);
    return rc;
}

/* Collective: the cut-offs of ids[0..m) (sorted, held by other ranks) into
 * out, from their owners' cut (this rank's items). */
static int fetch_cutoffs(const dg_ctx *ctx, const dg_items *items, const float *cut, const int64_t *ids, int64_t m,
                         float *out, dg_err *err)
{
    dg_owner_counts c;
    int64_t nr;
    if (dg_owner_counts_for(ctx, DG_OK, items->n_total, ids, m, &c, &nr, err) != DG_OK)
        return DG_FAIL;
    int64_t *req = dg_alloc((size_t)nr, sizeof *req, err);
    float *reply = dg_alloc((size_t)nr, sizeof *reply, err);
    int rc = nr == 0 || (req && reply) ? DG_OK : DG_FAIL;
    if ((rc = dg_agree(ctx, rc, err)) == DG_OK) {
        MPI_Alltoallv(ids, c.sc, c.sd, MPI_INT64_T, req, c.rc, c.rd, MPI_INT64_T, ctx->comm);
        for (int64_t i = 0; i < nr; i++)
            reply[i] = cut[req[i] - items->lo];
        MPI_Alltoallv(reply, c.rc, c.rd, MPI_FLOAT, out, c.sc, c.sd, MPI_FLOAT, ctx->comm);
    }
    free(req);
    free(reply);
    dg_owner_counts_free(&c);
    return rc;
}

int dg_verify_budget(const dg_ctx *ctx, const dg_items *items, int per_item, float accept_above,
                     const dg_edges *edges, unsigned char *over, dg_err *err)
{
    if (edges->n > 0)
        memset(over, 0, (size_t)edges->n);
    if (per_item <= 0)
        return DG_OK;
    int64_t n = 0;
    for (int64_t i = 0; i < edges->n; i++)
        n += edges->sim[i] < accept_above;
    unsigned char *need = dg_alloc((size_t)edges->n, 1, err);
    dg_item_sim *v = dg_alloc((size_t)(2 * n), sizeof *v, err);
    float *cut = dg_alloc((size_t)items->n, sizeof *cut, err);
    int64_t *where = dg_alloc((size_t)edges->n, sizeof *where, err);
    int rc = (edges->n == 0 || (need && where)) && (n == 0 || v) && (items->n == 0 || cut) ? DG_OK : DG_FAIL;
    int64_t m = 0;
    for (int64_t i = 0; rc == DG_OK && i < edges->n; i++) {
        need[i] = edges->sim[i] < accept_above;
        if (need[i]) {
            v[m++] = (dg_item_sim){edges->src[i], edges->sim[i]};
            v[m++] = (dg_item_sim){edges->dst[i], edges->sim[i]};
        }
    }
    int64_t *ids = NULL, nids = 0;
    float *far = NULL;
    if ((rc = dg_agree(ctx, rc, err)) == DG_OK) {
        m = dg_best_per_item(v, m, per_item);
        rc = owner_cutoffs(ctx, items, per_item, v, m, cut, err);
    }
    if (rc == DG_OK) {
        rc = dg_remote_ids(items, edges, need, &ids, &nids, where, err);
        if (rc == DG_OK && nids > 0 && !(far = dg_alloc((size_t)nids, sizeof *far, err)))
            rc = DG_FAIL;
        if ((rc = dg_agree(ctx, rc, err)) == DG_OK)
            rc = fetch_cutoffs(ctx, items, cut, ids, nids, far, err);
    }
    for (int64_t i = 0; rc == DG_OK && i < edges->n; i++) {
        if (!need[i])
            continue;
        float a = cut[edges->src[i] - items->lo];
        float b = where[i] < 0 ? cut[edges->dst[i] - items->lo] : far[where[i]];
        over[i] = edges->sim[i] < a && edges->sim[i] < b;
    }
    free(need);
    free(v);
    free(cut);
    free(where);
    free(ids);
    free(far);
    return rc;
}
