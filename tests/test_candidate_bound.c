/* test_candidate_bound.c - search/candidate_bound.c: the candidate pairs a
 * rank holds, bounded while the search runs, leave the verifier's budget
 * exactly what it is over all the candidates (graph/verify_budget.h's rule,
 * computed here serially), whatever the order the pairs come in and with
 * pairs found more than once; and the bound holds far fewer pairs. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "budget_reference.h"
#include "search/candidate_bound.h"

#define N_ITEMS 200
#define KEEP_ABOVE 0.9f

/* The budget's rule over e, serially: in[i] = 1 when pair i is at or above
 * KEEP_ABOVE or reaches the k-th largest similarity below KEEP_ABOVE of
 * one of its items (all of them with fewer than k). */
static void budget(const dg_edges *e, int k, unsigned char *in)
{
    float cut[N_ITEMS];
    dgt_budget_cutoffs(e, N_ITEMS, k, KEEP_ABOVE, cut);
    for (int64_t i = 0; i < e->n; i++)
        in[i] = e->sim[i] >= KEEP_ABOVE || e->sim[i] >= cut[e->src[i]] || e->sim[i] >= cut[e->dst[i]];
}

/* The pairs the budget takes from e, as a sorted unique list. */
static void taken(const dg_edges *e, int k, dg_edges *out)
{
    unsigned char *in = malloc((size_t)e->n + 1);
    assert_non_null(in);
    budget(e, k, in);
    memset(out, 0, sizeof *out);
    dg_err err = {0};
    for (int64_t i = 0; i < e->n; i++)
        if (in[i])
            assert_int_equal(dg_edges_push(out, e->src[i], e->dst[i], e->sim[i], &err), DG_OK);
    assert_int_equal(dg_edges_sort_unique(out, &err), DG_OK);
    free(in);
}

/* Every pair of `all` pushed twice, in a shuffled order, into a list
 * bounded after every push (hold 64) and once more at the end; the budget
 * over the bounded list takes the same pairs, with the same similarities,
 * as over all the pairs.  For k = 1, 3, 8 at two densities (about 20 and
 * 80 candidates per item). */
static void bounded_list_keeps_what_the_budget_takes(void **state)
{
    (void)state;
    static const int ks[] = {1, 3, 8};
    static const double densities[] = {0.1, 0.4};
    for (size_t di = 0; di < 2; di++)
        for (size_t ki = 0; ki < 3; ki++) {
            int k = ks[ki];
            dg_edges all, held = {0}, want, got;
            dgt_candidate_pairs(N_ITEMS, densities[di], 11 + di, &all);
            int64_t n = 2 * all.n, *order = malloc((size_t)n * sizeof *order);
            assert_non_null(order);
            for (int64_t i = 0; i < n; i++)
                order[i] = i % all.n;
            for (int64_t i = n - 1; i > 0; i--) { /* Fisher-Yates with a fixed seed */
                int64_t j = (int64_t)(dg_unit(dg_mix64(1000 + (uint64_t)i)) * (double)(i + 1));
                int64_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            dg_candidate_bound b = {k, KEEP_ABOVE, 64, 0, 0};
            dg_err err = {0};
            int64_t most = 0;
            for (int64_t i = 0; i < n; i++) {
                int64_t p = order[i];
                assert_int_equal(dg_edges_push(&held, all.src[p], all.dst[p], all.sim[p], &err), DG_OK);
                assert_int_equal(dg_bound_candidates(&b, &held, &err), DG_OK);
                most = held.n > most ? held.n : most;
            }
            b.hold = 1;
            assert_int_equal(dg_bound_candidates(&b, &held, &err), DG_OK);
            taken(&all, k, &want);
            taken(&held, k, &got);
            assert_int_equal(got.n, want.n);
            assert_memory_equal(got.src, want.src, (size_t)want.n * sizeof *want.src);
            assert_memory_equal(got.dst, want.dst, (size_t)want.n * sizeof *want.dst);
            assert_memory_equal(got.sim, want.sim, (size_t)want.n * sizeof *want.sim);
            assert_true(b.dropped > 0);
            assert_true(b.bounded > 1);
            /* bounded once more at the end, the list is what the budget takes; at the higher density
             * (about 80 candidates per item) it never held 60% of the pairs */
            assert_int_equal(held.n, want.n);
            if (densities[di] > 0.3)
                assert_true(most < all.n * 6 / 10);
            free(order);
            dg_edges_free(&all);
            dg_edges_free(&held);
            dg_edges_free(&want);
            dg_edges_free(&got);
        }
}

/* Below hold, without a budget, without a hold or without a bound, the
 * list is left as it is (unsorted, repeats kept). */
static void nothing_is_dropped_without_a_bound(void **state)
{
    (void)state;
    dg_edges e = {0};
    dg_err err = {0};
    for (int i = 0; i < 50; i++)
        assert_int_equal(dg_edges_push(&e, 49 - i, 60 + i % 3, 0.3f + 0.001f * (float)i, &err), DG_OK);
    assert_int_equal(dg_edges_push(&e, 0, 60, 0.5f, &err), DG_OK); /* a repeat */
    dg_edges copy = {0};
    for (int64_t i = 0; i < e.n; i++)
        assert_int_equal(dg_edges_push(&copy, e.src[i], e.dst[i], e.sim[i], &err), DG_OK);
    dg_candidate_bound below = {1, KEEP_ABOVE, 52, 0, 0}, no_budget = {0, KEEP_ABOVE, 1, 0, 0},
                       no_hold = {1, KEEP_ABOVE, 0, 0, 0};
    assert_int_equal(dg_bound_candidates(&below, &e, &err), DG_OK);
    assert_int_equal(dg_bound_candidates(&no_budget, &e, &err), DG_OK);
    assert_int_equal(dg_bound_candidates(&no_hold, &e, &err), DG_OK);
    assert_int_equal(dg_bound_candidates(NULL, &e, &err), DG_OK);
    assert_int_equal(e.n, copy.n);
    assert_memory_equal(e.src, copy.src, (size_t)e.n * sizeof *e.src);
    assert_memory_equal(e.dst, copy.dst, (size_t)e.n * sizeof *e.dst);
    assert_memory_equal(e.sim, copy.sim, (size_t)e.n * sizeof *e.sim);
    assert_int_equal(below.bounded + no_budget.bounded + no_hold.bounded, 0);
    dg_edges_free(&e);
    dg_edges_free(&copy);
}

/* Item 0 paired with items 1..40 at falling similarities (0.84 .. 0.45)
 * and 5 pairs at or above KEEP_ABOVE, k = 10: each partner has no other
 * pair, so every pair is within a partner's budget and stays; hold becomes
 * twice what remains.  Then each partner gets 10 pairs of 0.86 elsewhere:
 * item 0's pairs beyond its ten best are now below both cut-offs and go. */
static void drops_only_pairs_below_both_cutoffs(void **state)
{
    (void)state;
    dg_err err = {0};
    dg_edges e = {0};
    for (int j = 1; j <= 40; j++)
        assert_int_equal(dg_edges_push(&e, 0, j, 0.85f - 0.01f * (float)j, &err), DG_OK);
    for (int j = 1; j <= 5; j++)
        assert_int_equal(dg_edges_push(&e, 100, 100 + j, KEEP_ABOVE + 0.01f * (float)j, &err), DG_OK);
    dg_candidate_bound b = {10, KEEP_ABOVE, 1, 0, 0};
    assert_int_equal(dg_bound_candidates(&b, &e, &err), DG_OK);
    assert_int_equal(e.n, 45);
    assert_int_equal(b.dropped, 0);
    assert_int_equal(b.hold, 90);
    for (int j = 1; j <= 40; j++)
        for (int x = 0; x < 10; x++)
            assert_int_equal(dg_edges_push(&e, j, 200 + x, 0.86f, &err), DG_OK);
    b.hold = 1;
    assert_int_equal(dg_bound_candidates(&b, &e, &err), DG_OK);
    int64_t of_zero = 0, accepted = 0;
    for (int64_t i = 0; i < e.n; i++) {
        of_zero += e.src[i] == 0;
        accepted += e.sim[i] >= KEEP_ABOVE;
        if (e.src[i] == 0)
            assert_true(e.dst[i] <= 10); /* item 0's ten best: partners 1..10 */
    }
    assert_int_equal(of_zero, 10);
    assert_int_equal(accepted, 5);
    assert_int_equal(b.dropped, 30);
    dg_edges_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bounded_list_keeps_what_the_budget_takes),
        cmocka_unit_test(nothing_is_dropped_without_a_bound),
        cmocka_unit_test(drops_only_pairs_below_both_cutoffs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
