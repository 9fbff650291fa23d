/* test_sweep.c - tools/sweep.c: which edges a rule keeps (an edge the
 * verifier did not score stands on its similarity), the items a rule
 * removes counted by union-find, and the pairs a stricter rule drops. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tools/sweep.h"

static void rule_keeps_by_similarity_and_verifier_score(void **state)
{
    (void)state;
    dg_edge_rule r = {0.6f, 0.7f, NAN, NAN};
    assert_true(dg_edge_rule_keeps(&r, 0.6f, 0.7f));
    assert_false(dg_edge_rule_keeps(&r, 0.59f, 0.9f));
    assert_false(dg_edge_rule_keeps(&r, 0.8f, 0.69f));
    assert_true(dg_edge_rule_keeps(&r, 0.8f, NAN)); /* accepted on its similarity alone */
    assert_false(dg_edge_rule_keeps(&r, NAN, NAN));
    dg_edge_rule sim_only = {0.5f, NAN, NAN, NAN};
    assert_true(dg_edge_rule_keeps(&sim_only, 0.5f, 0.0f));
}

/* verify.agree_above: from similarity 0.8, a score of 0.5 is enough. */
static void rule_keeps_agreeing_pairs_at_their_own_score(void **state)
{
    (void)state;
    dg_edge_rule r = {0.3f, 0.55f, 0.8f, 0.5f};
    assert_true(dg_edge_rule_keeps(&r, 0.8f, 0.5f));
    assert_false(dg_edge_rule_keeps(&r, 0.79f, 0.54f)); /* below agree_sim: verify.threshold applies */
    assert_true(dg_edge_rule_keeps(&r, 0.79f, 0.55f));
    assert_false(dg_edge_rule_keeps(&r, 0.9f, 0.49f));
    assert_false(dg_edge_rule_keeps(&r, 0.29f, 0.9f)); /* min_sim first */
    dg_edge_rule off = {0.3f, 0.55f, 0.0f, 0.0f};          /* agree_sim <= 0: no second way in */
    assert_false(dg_edge_rule_keeps(&off, 0.95f, 0.1f));
}

typedef struct dropped_log {
    int n;
    int64_t src[8], dst[8];
} dropped_log;

static void log_dropped(void *arg, int64_t src, int64_t dst, float sim, float verify)
{
    (void)sim;
    (void)verify;
    dropped_log *d = arg;
    d->src[d->n] = src;
    d->dst[d->n] = dst;
    d->n++;
}

/* Items 0-1-2 a chain, 3-4 a pair, 5 alone, 6-7 joined only by a weak pair. */
static const int64_t src[] = {0, 1, 0, 3, 6};
static const int64_t dst[] = {1, 2, 2, 4, 7};
static const float sim[] = {0.95f, 0.7f, 0.65f, 0.9f, 0.55f};
static const float verify[] = {NAN, 0.8f, 0.61f, NAN, 0.9f};

static void removed_items_are_the_joins_of_the_kept_edges(void **state)
{
    (void)state;
    int64_t parent[8];
    dg_edge_rule run = {0.5f, 0.6f, NAN, NAN}, stricter_sim = {0.6f, 0.6f, NAN, NAN},
                 stricter_verify = {0.5f, 0.85f, NAN, NAN};
    dg_sweep_reset(parent, 8);
    /* the run: {0,1,2} removes 2 (the cycle edge 0-2 joins nothing), {3,4} 1, {6,7} 1 */
    assert_int_equal(dg_sweep_block(parent, src, dst, sim, verify, 5, &run, NULL, NULL, NULL), 4);
    dropped_log d = {0};
    dg_sweep_reset(parent, 8);
    /* similarity >= 0.6 drops 6-7 only */
    assert_int_equal(dg_sweep_block(parent, src, dst, sim, verify, 5, &stricter_sim, &run, log_dropped, &d), 3);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.src[0], 6);
    assert_int_equal(d.dst[0], 7);
    /* verifier >= 0.85 drops 1-2 (0.8) and 0-2 (0.61); 0-1 and 3-4 were never scored */
    d.n = 0;
    dg_sweep_reset(parent, 8);
    assert_int_equal(dg_sweep_block(parent, src, dst, sim, verify, 5, &stricter_verify, &run, log_dropped, &d), 3);
    assert_int_equal(d.n, 2);
    /* item 2 is now apart from 0 and 1, 6 and 7 still joined */
    int64_t r2 = 2, r0 = 0, r6 = 6, r7 = 7;
    while (parent[r2] != r2)
        r2 = parent[r2];
    while (parent[r0] != r0)
        r0 = parent[r0];
    while (parent[r6] != r6)
        r6 = parent[r6];
    while (parent[r7] != r7)
        r7 = parent[r7];
    assert_int_not_equal(r2, r0);
    assert_int_equal(r6, r7);
}

static void count_is_independent_of_edge_order(void **state)
{
    (void)state;
    const int64_t s2[] = {6, 3, 0, 1, 0};
    const int64_t d2[] = {7, 4, 2, 2, 1};
    const float m2[] = {0.55f, 0.9f, 0.65f, 0.7f, 0.95f};
    const float v2[] = {0.9f, NAN, 0.61f, 0.8f, NAN};
    int64_t a[8], b[8];
    dg_edge_rule run = {0.5f, 0.6f, NAN, NAN};
    dg_sweep_reset(a, 8);
    dg_sweep_reset(b, 8);
    assert_int_equal(dg_sweep_block(a, src, dst, sim, verify, 5, &run, NULL, NULL, NULL),
                     dg_sweep_block(b, s2, d2, m2, v2, 5, &run, NULL, NULL, NULL));
    for (int i = 0; i < 8; i++) /* the lower root wins: every set is labelled by its lowest id */
        assert_int_equal(a[i] == i, b[i] == i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_keeps_by_similarity_and_verifier_score),
        cmocka_unit_test(rule_keeps_agreeing_pairs_at_their_own_score),
        cmocka_unit_test(removed_items_are_the_joins_of_the_kept_edges),
        cmocka_unit_test(count_is_independent_of_edge_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
