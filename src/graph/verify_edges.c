/* verify_edges.c - the distributed verification stage (verify_edges.h).
 * The edges arrive routed by their lower id (dg_graph_dedup), so each pair
 * is scored exactly once, on the rank that holds one of its signatures;
 * the other signature comes from its owner.  The remote ids are sorted and
 * unique, fetched in rounds of at most round_bytes of signatures, and each
 * round scores the edges whose other end it brought.  The score is a pure
 * function of the two signatures, so the kept edges are the same for any
 * rank count. */
#include "graph/verify_edges.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/owner_exchange.h"
#include "graph/verify.h"
#include "graph/verify_budget.h"
#include "input/signature.h"

/* Collective: the signatures of ids[0..k) (sorted, all held elsewhere)
 * into out (k x DG_SIG_BYTES); k may be 0. */
static int fetch(const dg_ctx *ctx, const dg_items *items, const int64_t *ids, int64_t k, uint8_t *out,
                 dg_verify_stats *st, dg_err *err)
{
    dg_owner_counts c;
    int64_t nreq;
    if (dg_owner_counts_for(ctx, DG_OK, items->n_total, ids, k, &c, &nreq, err) != DG_OK)
        return DG_FAIL;
    int64_t *req = dg_alloc((size_t)nreq, sizeof *req, err);
    uint8_t *reply = dg_alloc((size_t)nreq, DG_SIG_BYTES, err);
    int rc = (nreq == 0 || (req && reply)) && nreq * DG_SIG_BYTES <= INT_MAX ? DG_OK : DG_FAIL;
    if (rc != DG_OK && (req && reply))
        dg_fail(err, "verify: %lld signature requests exceed the MPI count limit", (long long)nreq);
    if (dg_agree(ctx, rc, err) == DG_OK) {
        MPI_Alltoallv(ids, c.sc, c.sd, MPI_INT64_T, req, c.rc, c.rd, MPI_INT64_T, ctx->comm);
        for (int64_t i = 0; i < nreq; i++) {
            int64_t local = req[i] - items->lo;
            memcpy(reply + (size_t)i * DG_SIG_BYTES, items->sig + (size_t)local * DG_SIG_BYTES, DG_SIG_BYTES);
        }
        MPI_Datatype sig;
        MPI_Type_contiguous(DG_SIG_BYTES, MPI_BYTE, &sig);
        MPI_Type_commit(&sig);
        MPI_Alltoallv(reply, c.rc, c.rd, sig, out, c.sc, c.sd, sig, ctx->comm);
        MPI_Type_free(&sig);
        st->fetched += k;
        st->bytes_sent += k * (int64_t)sizeof(int64_t) + nreq * DG_SIG_BYTES;
        st->rounds++;
    }
    free(req);
    free(reply);
    dg_owner_counts_free(&c);
    return rc;
}

/* Scores the edges to verify (use[i]) whose dst index lies in [k0, k0 +
 * k) (k0 = -1: the local ones) with the fetched signatures. */
static void score_edges(const dg_items *items, const dg_edges *e, const unsigned char *use, const int64_t *where,
                        int64_t k0, int64_t k, const uint8_t *fetched, const dg_verify_params *vp, float *score,
                        dg_verify_stats *st)
{
    double t0 = dg_now();
    for (int64_t i = 0; i < e->n; i++) {
        const uint8_t *b;
        if (!use[i])
            continue;
        if (k0 < 0 && where[i] < 0)
            b = items->sig + (size_t)(e->dst[i] - items->lo) * DG_SIG_BYTES;
        else if (k0 >= 0 && where[i] >= k0 && where[i] < k0 + k)
            b = fetched + (size_t)(where[i] - k0) * DG_SIG_BYTES;
        else
            continue;
        const uint8_t *a = items->sig + (size_t)(e->src[i] - items->lo) * DG_SIG_BYTES;
        dg_verify_match m;
        score[i] = dg_verify_score(a, b, &m);
        /* a rejected pair's score becomes NaN, which keep_passing drops */
        if (!dg_verify_passes(vp, e->sim[i], score[i], m.detail_diff))
            score[i] = NAN;
    }
    st->seconds_scoring += dg_now() - t0;
}

/* Drops the edges the verifier rejected (a NaN score, score_edges) and
 * those beyond the budget (over[i]), keeping the order. */
static void keep_passing(dg_edges *e, float *score, const unsigned char *over, const dg_verify_params *vp,
                         dg_verify_stats *st)
{
    int64_t k = 0;
    for (int64_t i = 0; i < e->n; i++) {
        if (e->sim[i] >= vp->accept_above) {
            score[i] = NAN;
            st->accepted++;
        } else if (over[i]) {
            st->over_budget++;
            continue;
        } else if (isnan(score[i])) {
            st->rejected++;
            continue;
        }
        e->src[k] = e->src[i];
        e->dst[k] = e->dst[i];
        e->sim[k] = e->sim[i];
        score[k++] = score[i];
    }
    st->candidates += e->n;
    e->n = k;
}

int dg_verify_edges(const dg_ctx *ctx, const dg_items *items, const dg_verify_params *vp, dg_edges *edges,
                    float **score, dg_verify_stats *st, dg_err *err)
{
    *score = NULL;
    int64_t *ids = NULL, m = 0;
    int64_t *where = dg_alloc((size_t)edges->n, sizeof *where, err);
    float *sc = dg_alloc((size_t)edges->n, sizeof *sc, err);
    unsigned char *over = dg_alloc((size_t)edges->n, 1, err), *use = dg_alloc((size_t)edges->n, 1, err);
    int rc = edges->n == 0 || (where && sc && over && use) ? DG_OK : DG_FAIL;
    if (rc == DG_OK && edges->n > 0 && !items->sig)
        rc = dg_fail(err, "verify: rank %d holds edges but no signatures", ctx->rank);
    if ((rc = dg_agree(ctx, rc, err)) == DG_OK)
        rc = dg_verify_budget(ctx, items, vp->max_candidates, vp->accept_above, edges, over, err);
    for (int64_t i = 0; rc == DG_OK && i < edges->n; i++)
        use[i] = edges->sim[i] < vp->accept_above && !over[i];
    if (rc == DG_OK)
        rc = dg_remote_ids(items, edges, use, &ids, &m, where, err);
    int64_t per_round = vp->round_bytes / DG_SIG_BYTES > 0 ? vp->round_bytes / DG_SIG_BYTES : 1;
    int64_t rounds = (m + per_round - 1) / per_round;
    uint8_t *fetched = dg_alloc((size_t)(m < per_round ? m : per_round), DG_SIG_BYTES, err);
    if (rc == DG_OK && m > 0 && !fetched)
        rc = DG_FAIL;
    MPI_Allreduce(MPI_IN_PLACE, &rounds, 1, MPI_INT64_T, MPI_MAX, ctx->comm);
    if (dg_agree(ctx, rc, err) == DG_OK) {
        score_edges(items, edges, use, where, -1, 0, NULL, vp, sc, st);
        for (int64_t r = 0; rc == DG_OK && r < rounds; r++) {
            int64_t k0 = r * per_round < m ? r * per_round : m;
            int64_t k = m - k0 < per_round ? m - k0 : per_round;
            rc = fetch(ctx, items, m ? ids + k0 : NULL, k, fetched, st, err);
            if (rc == DG_OK)
                score_edges(items, edges, use, where, k0, k, fetched, vp, sc, st);
        }
    }
    if (rc == DG_OK) {
        keep_passing(edges, sc, over, vp, st);
        *score = sc;
        sc = NULL;
    }
    free(ids);
    free(where);
    free(fetched);
    free(sc);
    free(over);
    free(use);
    return rc;
}
