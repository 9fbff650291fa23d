/* test_exchange.c - the cluster plan and the item exchange.
 *
 * Every rank generates the full data set (vectors, statuses, probed
 * clusters) from a seed and keeps its own range, so each rank can compute
 * the expected plan and the expected bucket for itself and compare.  Run
 * under mpirun with 1, 2 and 4 ranks; every rank runs every test so the
 * collectives match, and assertions after collectives use values agreed by
 * all ranks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <unistd.h>

#include "dupgraph/exchange.h"

/* Failure details: stderr on rank 0, a saved copy of it on other ranks,
 * whose cmocka report (stdout and stderr) is silenced. */
static FILE *diag;

static int silence_other_ranks(int rank)
{
    diag = stderr;
    if (rank == 0)
        return 0;
    FILE *copy = fdopen(dup(fileno(stderr)), "w");
    if (!copy || !freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
        return -1;
    setvbuf(copy, NULL, _IOLBF, 0);
    diag = copy;
    return 0;
}

static int all_ranks(int ok)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

static dg_ctx world(void)
{
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_WORLD, 1e9);
    ctx.quiet = 1;
    return ctx;
}

/* ---- dg_assign_owners ---------------------------------------------------- */

static void assign(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner, double *max,
                   double *mean)
{
    dg_err err;
    assert_int_equal(dg_assign_owners(k, members, queries, p, owner, max, mean, &err), DG_OK);
}

static void owners_go_heaviest_first_to_least_loaded(void **state)
{
    (void)state;
    int32_t owner[6];
    double max, mean;

    /* Work n^2/2: 50, 0.5, 12.5, 12.5, 2.  50 fills rank 0, the rest rank 1. */
    const int64_t m1[] = {10, 1, 5, 5, 2}, q1[] = {0, 0, 0, 0, 0};
    assign(5, m1, q1, 2, owner, &max, &mean);
    const int32_t want1[] = {0, 1, 1, 1, 1};
    assert_memory_equal(owner, want1, sizeof want1);
    assert_true(max == 50.0 && mean == 38.75);

    /* Work n^2/2 + q*n: 8, 16, 10, 0 on three ranks. */
    const int64_t m2[] = {4, 4, 2, 0}, q2[] = {0, 2, 4, 9};
    assign(4, m2, q2, 3, owner, &max, &mean);
    const int32_t want2[] = {2, 0, 1, 2};
    assert_memory_equal(owner, want2, sizeof want2);
    assert_true(max == 16.0 && mean == 34.0 / 3.0);

    /* Equal clusters: round robin (ties go to the lower cluster, then rank). */
    const int64_t m3[] = {3, 3, 3, 3, 3, 3}, q3[] = {1, 1, 1, 1, 1, 1};
    assign(6, m3, q3, 3, owner, &max, &mean);
    const int32_t want3[] = {0, 1, 2, 0, 1, 2};
    assert_memory_equal(owner, want3, sizeof want3);
    assert_true(max == 15.0 && mean == 15.0);

    /* More ranks than clusters. */
    assign(2, m3, q3, 5, owner, &max, &mean);
    assert_true(owner[0] == 0 && owner[1] == 1 && max == 7.5 && mean == 3.0);
}

/* The naive greedy: scan all clusters for the heaviest unassigned, then all
 * ranks for the least loaded. */
static void naive_assign(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner,
                         double *max)
{
    double *load = calloc((size_t)p, sizeof(double)), *cost = malloc(sizeof(double) * (size_t)k);
    assert_true(load && cost);
    for (int64_t c = 0; c < k; c++) {
        owner[c] = -1;
        cost[c] = (double)members[c] * (double)members[c] / 2.0 + (double)queries[c] * (double)members[c];
    }
    for (int64_t step = 0; step < k; step++) {
        int64_t best = -1;
        for (int64_t c = 0; c < k; c++)
            if (owner[c] < 0 && (best < 0 || cost[c] > cost[best]))
                best = c;
        int r = 0;
        for (int s = 1; s < p; s++)
            if (load[s] < load[r])
                r = s;
        owner[best] = r;
        load[r] += cost[best];
    }
    *max = 0.0;
    for (int r = 0; r < p; r++)
        *max = load[r] > *max ? load[r] : *max;
    free(load);
    free(cost);
}

static void owners_equal_naive_greedy_on_random_counts(void **state)
{
    (void)state;
    enum { K = 300 };
    int64_t members[K], queries[K];
    int32_t owner[K], want[K];
    for (int trial = 0; trial < 4; trial++) {
        for (int c = 0; c < K; c++) {
            uint64_t h = dg_mix64((uint64_t)(trial * K + c));
            members[c] = (int64_t)(h % 50) * (int64_t)(h % 7); /* many repeats and zeros */
            queries[c] = (int64_t)((h >> 20) % 90);
        }
        int p = 1 + 3 * trial;
        double max, mean, want_max;
        assign(K, members, queries, p, owner, &max, &mean);
        naive_assign(K, members, queries, p, want, &want_max);
        assert_memory_equal(owner, want, sizeof owner);
        assert_true(max == want_max);
    }
}

/* ---- a deterministic data set --------------------------------------------- */

typedef struct dataset {
    int64_t n;
    int d, m;
    int64_t k;
    float *vec;     /* n x d */
    int8_t *status; /* n */
    int32_t *near;  /* n x m, distinct clusters; garbage for unusable items */
} dataset;

static int already_probed(const int32_t *row, int j, int32_t c)
{
    for (int t = 0; t < j; t++)
        if (row[t] == c)
            return 1;
    return 0;
}

/* Probes are distinct and skewed (low cluster numbers are popular); the
 * probe rows of unusable items hold out-of-range garbage that must be
 * ignored. */
static void make_dataset(dataset *s, int64_t n, int d, int m, int64_t k, uint64_t seed)
{
    s->n = n;
    s->d = d;
    s->m = m;
    s->k = k;
    s->vec = malloc(sizeof(float) * (size_t)(n * d + 1));
    s->status = malloc((size_t)n + 1);
    s->near = malloc(sizeof(int32_t) * (size_t)(n * m + 1));
    assert_true(s->vec && s->status && s->near);
    for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            s->vec[i * d + j] = (float)dg_unit(dg_mix64(seed ^ (uint64_t)(i * d + j))) - 0.5f;
        s->status[i] = (int8_t)(i % 13 == 5 ? DG_ST_MISSING : i % 17 == 3 ? DG_ST_BAD_VECTOR : DG_ST_OK);
        int32_t *row = s->near + i * m;
        uint64_t h = dg_mix64(seed + (uint64_t)i);
        for (int j = 0; j < m; j++) {
            if (!dg_status_usable(s->status[i])) {
                row[j] = j % 2 ? -1 : (int32_t)k + 5;
                continue;
            }
            do {
                h = dg_mix64(h);
                double u = dg_unit(h);
                row[j] = (int32_t)((double)k * u * u);
            } while (already_probed(row, j, row[j]));
        }
    }
}

static void free_dataset(dataset *s)
{
    free(s->vec);
    free(s->status);
    free(s->near);
}

/* This rank's items and probe rows (pointing into the full set). */
static void own_range(const dataset *s, dg_items *items, const int32_t **near)
{
    dg_ctx ctx = world();
    int64_t lo = dg_range_lo(s->n, ctx.size, ctx.rank), hi = dg_range_lo(s->n, ctx.size, ctx.rank + 1);
    dg_err err;
    assert_int_equal(dg_items_alloc(items, s->n, lo, hi - lo, s->d, 0, &err), DG_OK);
    if (hi > lo) {
        memcpy(items->vec, s->vec + lo * s->d, sizeof(float) * (size_t)((hi - lo) * s->d));
        memcpy(items->status, s->status + lo, (size_t)(hi - lo));
    }
    *near = s->near + lo * s->m;
}

static void naive_counts(const dataset *s, int64_t *members, int64_t *queries)
{
    memset(members, 0, sizeof(int64_t) * (size_t)s->k);
    memset(queries, 0, sizeof(int64_t) * (size_t)s->k);
    for (int64_t i = 0; i < s->n; i++)
        if (dg_status_usable(s->status[i]))
            for (int j = 0; j < s->m; j++)
                (j == 0 ? members : queries)[s->near[i * s->m + j]]++;
}

/* ---- dg_plan_clusters ------------------------------------------------------- */

static void plan_counts_equal_naive_count(void **state)
{
    (void)state;
    dataset s;
    make_dataset(&s, 2000, 8, 3, 37, 11);
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = world();
    dg_cluster_plan plan;
    dg_err err;
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, &plan, &err);
    assert_true(all_ranks(rc == DG_OK));

    int64_t *members = malloc(sizeof(int64_t) * (size_t)s.k), *queries = malloc(sizeof(int64_t) * (size_t)s.k);
    int32_t *owner = malloc(sizeof(int32_t) * (size_t)s.k);
    assert_true(members && queries && owner);
    naive_counts(&s, members, queries);
    double max, mean;
    assign(s.k, members, queries, ctx.size, owner, &max, &mean);
    int ok = plan.k == s.k && !memcmp(plan.members, members, sizeof(int64_t) * (size_t)s.k) &&
             !memcmp(plan.queries, queries, sizeof(int64_t) * (size_t)s.k) &&
             !memcmp(plan.owner, owner, sizeof(int32_t) * (size_t)s.k) && plan.max_load == max &&
             plan.mean_load == mean;
    /* The counts are skewed, so the plan is not trivially even. */
    ok = ok && members[0] > 4 * members[s.k - 1];
    assert_true(all_ranks(ok));
    free(members);
    free(queries);
    free(owner);
    dg_cluster_plan_free(&plan);
    dg_items_free(&items);
    free_dataset(&s);
}

/* A usable item on the last rank probing cluster k fails every rank. */
static void out_of_range_probe_fails_every_rank(void **state)
{
    (void)state;
    dataset s;
    make_dataset(&s, 300, 4, 2, 10, 12);
    s.near[(s.n - 1) * s.m + 1] = (int32_t)s.k;
    s.status[s.n - 1] = DG_ST_OK;
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = world();
    dg_cluster_plan plan;
    dg_err err = {{0}};
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, &plan, &err);
    assert_true(all_ranks(rc == DG_FAIL && strstr(err.msg, "item 299") && plan.owner == NULL));
    dg_items_free(&items);
    free_dataset(&s);
}

/* ---- dg_exchange ------------------------------------------------------------- */

typedef struct expected {
    int32_t cluster;
    int8_t is_query;
    int64_t id;
} expected;

static int cmp_expected(const void *pa, const void *pb)
{
    const expected *a = pa, *b = pb;
    if (a->cluster != b->cluster)
        return a->cluster < b->cluster ? -1 : 1;
    if (a->is_query != b->is_query)
        return a->is_query < b->is_query ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

/* The records this rank should hold, from the full data set, and how many
 * records it sends to other ranks. */
static expected *expected_bucket(const dataset *s, const int32_t *owner, int rank, int size, int64_t *n,
                                 int64_t *remote)
{
    expected *e = malloc(sizeof(expected) * (size_t)(s->n * s->m + 1));
    assert_non_null(e);
    int64_t lo = dg_range_lo(s->n, size, rank), hi = dg_range_lo(s->n, size, rank + 1);
    *n = 0;
    *remote = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!dg_status_usable(s->status[i]))
            continue;
        for (int j = 0; j < s->m; j++) {
            int32_t c = s->near[i * s->m + j];
            if (owner[c] == rank)
                e[(*n)++] = (expected){c, (int8_t)(j > 0), i};
            if (i >= lo && i < hi && owner[c] != rank)
                (*remote)++;
        }
    }
    qsort(e, (size_t)*n, sizeof *e, cmp_expected);
    return e;
}

static int bucket_matches(const dg_bucket *b, const dataset *s, const expected *e, int64_t n)
{
    if (b->n != n || b->d != s->d) {
        fprintf(diag, "bucket holds %lld records of %d dims, expected %lld of %d\n", (long long)b->n, b->d,
                (long long)n, s->d);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (b->cluster[i] != e[i].cluster || b->is_query[i] != e[i].is_query || b->id[i] != e[i].id ||
            memcmp(b->vec + i * s->d, s->vec + e[i].id * s->d, sizeof(float) * (size_t)s->d)) {
            fprintf(diag, "record %lld: got (%d,%d,%lld), expected (%d,%d,%lld) or its vector differs\n",
                    (long long)i, b->cluster[i], b->is_query[i], (long long)b->id[i], e[i].cluster, e[i].is_query,
                    (long long)e[i].id);
            return 0;
        }
    }
    return 1;
}

/* Bytes sent are whole records of at least id + cluster + flag + vector. */
static int bytes_plausible(int64_t bytes, int64_t remote, int d)
{
    if (remote == 0)
        return bytes == 0;
    int64_t rec = bytes / remote;
    return bytes % remote == 0 && rec >= 13 + 4 * d && rec <= 16 + 4 * d;
}

static void exchange_case(int64_t n, int d, int m, int64_t k, uint64_t seed)
{
    dataset s;
    make_dataset(&s, n, d, m, k, seed);
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = world();
    dg_cluster_plan plan;
    dg_bucket b;
    dg_err err;
    int64_t bytes = -1;
    int rc = dg_plan_clusters(&ctx, &items, near, m, k, &plan, &err);
    assert_true(all_ranks(rc == DG_OK));
    rc = dg_exchange(&ctx, &items, near, m, &plan, &b, &bytes, &err);
    assert_true(all_ranks(rc == DG_OK));
    int64_t n_want, remote;
    expected *e = expected_bucket(&s, plan.owner, ctx.rank, ctx.size, &n_want, &remote);
    int ok = bucket_matches(&b, &s, e, n_want) && bytes_plausible(bytes, remote, d);
    int64_t total = b.n, all = 0, usable = 0;
    MPI_Allreduce(&total, &all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (int64_t i = 0; i < n; i++)
        usable += dg_status_usable(s.status[i]);
    ok = ok && all == usable * m;
    assert_true(all_ranks(ok));
    free(e);
    dg_bucket_free(&b);
    dg_cluster_plan_free(&plan);
    dg_items_free(&items);
    free_dataset(&s);
}

static void exchange_delivers_each_probe_once_sorted_and_intact(void **state)
{
    (void)state;
    exchange_case(3000, 24, 4, 53, 21);
}

/* Fewer items than ranks: some ranks send and receive nothing. */
static void exchange_handles_ranks_without_items(void **state)
{
    (void)state;
    exchange_case(3, 5, 2, 4, 22);
}

static void exchange_single_probe(void **state)
{
    (void)state;
    exchange_case(500, 7, 1, 9, 23);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    if (silence_other_ranks(rank) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(owners_go_heaviest_first_to_least_loaded),
        cmocka_unit_test(owners_equal_naive_greedy_on_random_counts),
        cmocka_unit_test(plan_counts_equal_naive_count),
        cmocka_unit_test(out_of_range_probe_fails_every_rank),
        cmocka_unit_test(exchange_delivers_each_probe_once_sorted_and_intact),
        cmocka_unit_test(exchange_handles_ranks_without_items),
        cmocka_unit_test(exchange_single_probe),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}
