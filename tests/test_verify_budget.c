/* test_verify_budget.c - the verifier's budget per item (verify_budget.h)
 * under mpirun (1, 2, 4 ranks): which candidate pairs are left unverified,
 * against a serial reference and against the property the budget promises.
 *
 * Every rank builds the same candidate pairs from a seed (similarities on a
 * 0.01 grid, so ties at an item's cut-off are common) and keeps those whose
 * lower id it owns, as dg_graph_dedup leaves them.  Checks are reduced over
 * ranks before asserting (tests/mpi_harness.h).
 */
#include "graph/verify_budget.h"
#include "budget_reference.h"
#include "mpi_harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_ITEMS 240
#define ACCEPT_ABOVE 0.9f

/* This rank's share: the pairs whose src it owns. */
static void own_pairs(const dg_ctx *ctx, const dg_edges *all, dg_items *items, dg_edges *mine)
{
    memset(items, 0, sizeof *items);
    items->n_total = N_ITEMS;
    items->lo = dg_range_lo(N_ITEMS, ctx->size, ctx->rank);
    items->n = dg_range_lo(N_ITEMS, ctx->size, ctx->rank + 1) - items->lo;
    memset(mine, 0, sizeof *mine);
    dg_err err = {0};
    for (int64_t i = 0; i < all->n; i++)
        if (all->src[i] >= items->lo && all->src[i] < items->lo + items->n)
            assert_int_equal(dg_edges_push(mine, all->src[i], all->dst[i], all->sim[i], &err), DG_OK);
}

/* The flags of dg_verify_budget equal the serial reference's on every
 * rank's pairs, some pairs are over, and each item keeps at least its k
 * most similar candidates (or all of them) while the kept pairs are at
 * most k per item: for k = 3 and 8 at two densities. */
static void budget_equals_serial_reference_for_any_rank_count(void **state)
{
    (void)state;
    dg_ctx world = dgt_quiet_ctx(MPI_COMM_WORLD);
    const dg_ctx *ctx = &world;
    static const int ks[] = {3, 8};
    static const double densities[] = {0.05, 0.2};
    for (size_t ki = 0; ki < 2; ki++)
        for (size_t di = 0; di < 2; di++) {
            int k = ks[ki];
            dg_edges all, mine;
            dg_items items;
            dgt_candidate_pairs(N_ITEMS, densities[di], 17 + di, &all);
            own_pairs(ctx, &all, &items, &mine);
            unsigned char *over = calloc((size_t)mine.n + 1, 1);
            dg_err err = {0};
            int ok = over && dg_verify_budget(ctx, &items, k, ACCEPT_ABOVE, &mine, over, &err) == DG_OK;
            float cut[N_ITEMS];
            dgt_budget_cutoffs(&all, N_ITEMS, k, ACCEPT_ABOVE, cut);
            /* kept[i]: item i's candidate pairs below accept_above left to verify; need[i]: all of them */
            int64_t kept[N_ITEMS] = {0}, need[N_ITEMS] = {0}, counts[2] = {0, 0};
            for (int64_t i = 0; ok && i < mine.n; i++) {
                float s = mine.sim[i];
                int want = s < ACCEPT_ABOVE && s < cut[mine.src[i]] && s < cut[mine.dst[i]];
                if (over[i] != want)
                    ok = dgt_note("k %d: pair (%lld, %lld) sim %.2f: over %d, reference %d", k,
                                  (long long)mine.src[i], (long long)mine.dst[i], (double)s, over[i], want);
                if (s < ACCEPT_ABOVE) {
                    need[mine.src[i]]++, need[mine.dst[i]]++;
                    kept[mine.src[i]] += !over[i], kept[mine.dst[i]] += !over[i];
                    counts[0] += !over[i];
                    counts[1] += over[i];
                }
            }
            MPI_Allreduce(MPI_IN_PLACE, kept, N_ITEMS, MPI_INT64_T, MPI_SUM, ctx->comm);
            MPI_Allreduce(MPI_IN_PLACE, need, N_ITEMS, MPI_INT64_T, MPI_SUM, ctx->comm);
            MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
            for (int64_t i = 0; ok && i < N_ITEMS; i++)
                if (kept[i] < (need[i] < k ? need[i] : k))
                    ok = dgt_note("k %d: item %lld keeps %lld of %lld candidates", k, (long long)i,
                                  (long long)kept[i], (long long)need[i]);
            if (ok && counts[1] == 0)
                ok = dgt_note("k %d density %.2f: no pair over the budget", k, densities[di]);
            if (ok && counts[0] > (int64_t)k * N_ITEMS)
                ok = dgt_note("k %d: %lld pairs kept, more than k per item", k, (long long)counts[0]);
            free(over);
            dg_edges_free(&all);
            dg_edges_free(&mine);
            assert_true(dgt_all_ranks(ok));
        }
}

/* Without a budget nothing is over, and the pairs at or above accept_above
 * are never over whatever the budget. */
static void no_budget_and_accepted_pairs_are_never_over(void **state)
{
    (void)state;
    dg_ctx world = dgt_quiet_ctx(MPI_COMM_WORLD);
    const dg_ctx *ctx = &world;
    dg_edges all, mine;
    dg_items items;
    dgt_candidate_pairs(N_ITEMS, 0.3, 5, &all);
    own_pairs(ctx, &all, &items, &mine);
    unsigned char *over = malloc((size_t)mine.n + 1);
    dg_err err = {0};
    int ok = over != NULL;
    if (ok) {
        memset(over, 7, (size_t)mine.n + 1);
        ok = dg_verify_budget(ctx, &items, 0, ACCEPT_ABOVE, &mine, over, &err) == DG_OK;
    }
    for (int64_t i = 0; ok && i < mine.n; i++)
        if (over[i])
            ok = dgt_note("no budget: pair %lld over", (long long)i);
    if (ok)
        ok = dg_verify_budget(ctx, &items, 1, ACCEPT_ABOVE, &mine, over, &err) == DG_OK;
    int64_t accepted = 0;
    for (int64_t i = 0; ok && i < mine.n; i++) {
        accepted += mine.sim[i] >= ACCEPT_ABOVE;
        if (mine.sim[i] >= ACCEPT_ABOVE && over[i])
            ok = dgt_note("pair %lld of sim %.2f over", (long long)i, (double)mine.sim[i]);
    }
    MPI_Allreduce(MPI_IN_PLACE, &accepted, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (ok && accepted == 0)
        ok = dgt_note("no pair at or above accept_above: the test checks nothing");
    free(over);
    dg_edges_free(&all);
    dg_edges_free(&mine);
    assert_true(dgt_all_ranks(ok));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(budget_equals_serial_reference_for_any_rank_count),
        cmocka_unit_test(no_budget_and_accepted_pairs_are_never_over),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
