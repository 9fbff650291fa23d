/* test_compare.c - tools/compare.c's component rule: the edges whose items
 * share a component, and two labellings compared pair by pair, against
 * counts made by hand and by a plain all-pairs loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tools/compare.h"

static void edges_joined_counts_shared_components_and_ignores_bad_ids(void **state)
{
    (void)state;
    int64_t comp[5] = {0, 0, 2, 2, 4};
    int64_t src[5] = {0, 0, 2, 1, 3}, dst[5] = {1, 2, 3, 7, -1};
    float sim[5] = {0.9f, 0.9f, 0.9f, 0.9f, 0.9f};
    dg_edges e = {.src = src, .dst = dst, .sim = sim, .n = 5};
    assert_int_equal(dg_compare_edges_joined(&e, comp, 5), 2); /* (0,1) and (2,3) */
}

static void identical_partitions_agree(void **state)
{
    (void)state;
    int64_t comp[6] = {0, 0, 0, 3, 3, 5};
    dg_partition_match m;
    dg_err err = {0};
    assert_int_equal(dg_compare_partitions(comp, comp, 6, &m, &err), DG_OK);
    assert_int_equal(m.pairs_a, 3 + 1);
    assert_int_equal(m.pairs_b, 4);
    assert_int_equal(m.pairs_both, 4);
    assert_int_equal(m.items_differ, 0);
}

/* Together-in-A pairs, together-in-B pairs and both, by looking at every pair. */
static void naive(const int64_t *a, const int64_t *b, int64_t n, int64_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            out[0] += a[i] == a[j];
            out[1] += b[i] == b[j];
            out[2] += a[i] == a[j] && b[i] == b[j];
        }
}

static void split_and_merged_partitions_match_all_pairs(void **state)
{
    (void)state;
    enum { N = 300 };
    int64_t a[N], b[N], ref[3];
    srand(7);
    for (int round = 0; round < 20; round++) {
        int64_t differ = 0;
        for (int64_t i = 0; i < N; i++) {
            a[i] = rand() % (1 + round * 7); /* few large groups to many small ones */
            b[i] = rand() % 4 ? a[i] : rand() % 50;
            differ += a[i] != b[i];
        }
        dg_partition_match m;
        dg_err err = {0};
        assert_int_equal(dg_compare_partitions(a, b, N, &m, &err), DG_OK);
        naive(a, b, N, ref);
        assert_int_equal(m.pairs_a, ref[0]);
        assert_int_equal(m.pairs_b, ref[1]);
        assert_int_equal(m.pairs_both, ref[2]);
        assert_int_equal(m.items_differ, differ);
    }
}

static void no_items_is_no_pairs(void **state)
{
    (void)state;
    dg_partition_match m;
    dg_err err = {0};
    assert_int_equal(dg_compare_partitions(NULL, NULL, 0, &m, &err), DG_OK);
    assert_int_equal(m.pairs_a + m.pairs_b + m.pairs_both + m.items_differ, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edges_joined_counts_shared_components_and_ignores_bad_ids),
        cmocka_unit_test(identical_partitions_agree),
        cmocka_unit_test(split_and_merged_partitions_match_all_pairs),
        cmocka_unit_test(no_items_is_no_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
