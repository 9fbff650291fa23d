/* test_exchange.c - the cluster plan and the item exchange.
 *
 * Every rank generates the full data set (vectors, statuses, probed
 * clusters) from a seed and keeps its own range, so each rank can compute
 * the expected plan and the expected bucket for itself and compare.  Run
 * under mpirun with 1, 2 and 4 ranks; every rank runs every test so the
 * collectives match, and assertions after collectives use values agreed by
 * all ranks.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <unistd.h>

#include "mpi_harness.h"
#include "search/exchange.h"

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
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
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

/* ---- dg_plan_from_counts: splitting ------------------------------------------ */

static void plan_split_of(dg_cluster_plan *plan, int64_t k, const int64_t *members, const int64_t *queries, int p,
                          int32_t split_ranks)
{
    memset(plan, 0, sizeof *plan);
    plan->k = k;
    plan->split_ranks = split_ranks;
    plan->members = malloc(sizeof(int64_t) * (size_t)k);
    plan->queries = malloc(sizeof(int64_t) * (size_t)k);
    assert_true(plan->members && plan->queries);
    memcpy(plan->members, members, sizeof(int64_t) * (size_t)k);
    memcpy(plan->queries, queries, sizeof(int64_t) * (size_t)k);
    dg_err err;
    assert_int_equal(dg_plan_from_counts(plan, p, &err), DG_OK);
}

static void plan_of(dg_cluster_plan *plan, int64_t k, const int64_t *members, const int64_t *queries, int p)
{
    plan_split_of(plan, k, members, queries, p, 0);
}

static int plans_equal(const dg_cluster_plan *a, const dg_cluster_plan *b)
{
    size_t k = (size_t)a->k;
    if (a->k != b->k || a->n_tasks != b->n_tasks || a->split != b->split || a->max_load != b->max_load ||
        a->mean_load != b->mean_load || a->unsplit_max_load != b->unsplit_max_load ||
        memcmp(a->owner, b->owner, k * sizeof *a->owner) || memcmp(a->parts, b->parts, k * sizeof *a->parts) ||
        memcmp(a->query_parts, b->query_parts, k * sizeof *a->query_parts))
        return 0;
    for (int64_t t = 0; t < a->n_tasks; t++) {
        const dg_task *x = &a->task[t], *y = &b->task[t];
        if (x->cluster != y->cluster || x->kind != y->kind || x->a != y->a || x->b != y->b || x->owner != y->owner ||
            x->work != y->work)
            return 0;
    }
    return 1;
}

/* Clusters near the mean work stay whole: one task each, owned as
 * dg_assign_owners would; on one rank nothing is ever split. */
static void plan_keeps_clusters_whole_without_skew(void **state)
{
    (void)state;
    enum { K = 120 };
    int64_t members[K], queries[K];
    for (int c = 0; c < K; c++) {
        uint64_t h = dg_mix64((uint64_t)c + 77);
        members[c] = 50 + (int64_t)(h % 60);
        queries[c] = (int64_t)((h >> 16) % 100);
    }
    int32_t owner[K];
    double max, mean;
    assign(K, members, queries, 4, owner, &max, &mean);
    dg_cluster_plan plan;
    plan_of(&plan, K, members, queries, 4);
    assert_int_equal(plan.split, 0);
    assert_int_equal(plan.n_tasks, K);
    assert_memory_equal(plan.owner, owner, sizeof owner);
    assert_true(plan.max_load == max && plan.mean_load == mean && plan.unsplit_max_load == max);
    for (int c = 0; c < K; c++) {
        const dg_task *t = &plan.task[c];
        assert_true(t->cluster == c && t->kind == DG_TASK_CLUSTER && t->owner == owner[c] && t->a == 0 && t->b == 0);
        assert_true(plan.parts[c] == 1 && plan.query_parts[c] == 1);
    }
    dg_cluster_plan_free(&plan);

    members[3] = 5000; /* far above everything else, but one rank */
    plan_of(&plan, K, members, queries, 1);
    assert_true(plan.split == 0 && plan.n_tasks == K && plan.owner[3] == 0);
    dg_cluster_plan_free(&plan);
}

static int task_reads(const dg_task *t, int is_query, int32_t part)
{
    if (t->kind == DG_TASK_CLUSTER)
        return 1;
    if (t->kind == DG_TASK_QUERIES)
        return is_query ? part == t->a : part == t->b;
    return !is_query && (part == t->a || part == t->b);
}

/* Tasks of cluster c covering the member pair (parts pi, pj), or the query
 * in part pq against the member in part pm: counted naively over all tasks. */
static int covering_member_pair(const dg_cluster_plan *plan, int32_t c, int32_t pi, int32_t pj)
{
    int n = 0;
    for (int64_t t = 0; t < plan->n_tasks; t++) {
        const dg_task *x = &plan->task[t];
        if (x->cluster != c || x->kind == DG_TASK_QUERIES)
            continue;
        n += x->kind == DG_TASK_CLUSTER || (x->a == pi && x->b == pj) || (x->a == pj && x->b == pi);
    }
    return n;
}

static int covering_query_pair(const dg_cluster_plan *plan, int32_t c, int32_t pq, int32_t pm)
{
    int n = 0;
    for (int64_t t = 0; t < plan->n_tasks; t++) {
        const dg_task *x = &plan->task[t];
        if (x->cluster == c && x->kind != DG_TASK_MEMBERS)
            n += x->kind == DG_TASK_CLUSTER || (x->a == pq && x->b == pm);
    }
    return n;
}

/* Members get ids 0..n-1 and queries n..n+q-1 (any distinct ids do). */
static void check_cluster_coverage(const dg_cluster_plan *plan, int32_t c)
{
    int64_t n = plan->members[c], q = plan->queries[c];
    int32_t parts = plan->owner[c] >= 0 ? 1 : plan->parts[c];
    int32_t qparts = plan->owner[c] >= 0 ? 1 : plan->query_parts[c];
    int32_t *part = malloc(sizeof(int32_t) * (size_t)(n + q + 1));
    assert_non_null(part);
    for (int64_t i = 0; i < n + q; i++)
        part[i] = dg_item_part(i, c, i < n ? parts : qparts);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++)
            if (covering_member_pair(plan, c, part[i], part[j]) != 1)
                fail_msg("cluster %d: member pair (%lld, %lld) covered %d times", c, (long long)i, (long long)j,
                         covering_member_pair(plan, c, part[i], part[j]));
    for (int64_t i = n; i < n + q; i++)
        for (int64_t j = 0; j < n; j++)
            if (covering_query_pair(plan, c, part[i], part[j]) != 1)
                fail_msg("cluster %d: query %lld x member %lld covered %d times", c, (long long)i, (long long)j,
                         covering_query_pair(plan, c, part[i], part[j]));
    free(part);
}

/* A giant cluster (and one with a giant query list) on 2..16 ranks: split
 * into tasks that cover every member pair and every query x member pair
 * exactly once, whose work adds up to the cluster's, with the busiest rank
 * within 1.5 x the mean. */
static void split_tasks_cover_every_pair_once(void **state)
{
    (void)state;
    enum { K = 9 };
    const int64_t members[K] = {40, 420, 35, 0, 60, 3, 55, 47, 38};
    const int64_t queries[K] = {10, 130, 20, 7, 1400, 2, 0, 30, 25};
    const int ranks[] = {2, 3, 4, 7, 16};
    for (int ri = 0; ri < 5; ri++) {
        dg_cluster_plan plan;
        plan_of(&plan, K, members, queries, ranks[ri]);
        assert_true(plan.owner[1] == -1 && plan.parts[1] > 1);
        assert_true(plan.split >= 1 && plan.max_load <= 1.5 * plan.mean_load * (1 + 1e-12));
        assert_true(plan.max_load < plan.unsplit_max_load);
        for (int32_t c = 0; c < K; c++) {
            double work = 0.0;
            for (int64_t t = 0; t < plan.n_tasks; t++) {
                const dg_task *x = &plan.task[t];
                if (x->cluster != c)
                    continue;
                work += x->work;
                assert_true(x->owner >= 0 && x->owner < ranks[ri]);
                assert_true(x->a >= 0 && x->b >= 0 && x->b < plan.parts[c]);
                assert_true(x->a < (x->kind == DG_TASK_QUERIES ? plan.query_parts[c] : plan.parts[c]));
            }
            double want = (double)members[c] * members[c] / 2.0 + (double)queries[c] * members[c];
            assert_true(fabs(work - want) <= 1e-9 * (want + 1.0));
            check_cluster_coverage(&plan, c);
        }
        for (int64_t t = 1; t < plan.n_tasks; t++) {
            const dg_task *x = &plan.task[t - 1], *y = &plan.task[t];
            int64_t kx = ((int64_t)x->cluster * 4 + x->kind) << 40 | (int64_t)x->a << 20 | x->b;
            int64_t ky = ((int64_t)y->cluster * 4 + y->kind) << 40 | (int64_t)y->a << 20 | y->b;
            assert_true(kx < ky);
        }
        dg_cluster_plan_free(&plan);
    }
}

/* graph.edges = forest: split as if for K / 16 ranks, so that the tasks
 * (cluster, kind, parts, work) are the same for any rank count, 1 included,
 * and cover every pair once; only their owners follow P.  At P = K / 16
 * the plan is the one of the rule for P. */
static void fixed_split_gives_the_same_tasks_for_any_rank_count(void **state)
{
    (void)state;
    assert_int_equal(dg_fixed_split_ranks(1), 1);
    assert_int_equal(dg_fixed_split_ranks(31), 1);
    assert_int_equal(dg_fixed_split_ranks(32), 2);
    assert_int_equal(dg_fixed_split_ranks(128), 8);
    assert_int_equal(dg_fixed_split_ranks((int64_t)1 << 17), 8192);
    assert_int_equal(dg_fixed_split_ranks((int64_t)1 << 40), INT32_MAX);
    enum { K = 64 };
    int64_t members[K], queries[K];
    for (int c = 0; c < K; c++) {
        uint64_t h = dg_mix64((uint64_t)c + 5);
        members[c] = 20 + (int64_t)(h % 30);
        queries[c] = (int64_t)((h >> 16) % 60);
    }
    members[7] = 600; /* a near-copy group */
    queries[40] = 900;
    int32_t split_ranks = dg_fixed_split_ranks(K);
    dg_cluster_plan one, plan, for_p;
    plan_split_of(&one, K, members, queries, 1, split_ranks);
    assert_true(one.split >= 1 && one.owner[7] == -1 && one.parts[7] > 1);
    check_cluster_coverage(&one, 7);
    check_cluster_coverage(&one, 40);
    const int ranks[] = {2, 3, 4, 7, 16};
    for (size_t i = 0; i < sizeof ranks / sizeof *ranks; i++) {
        plan_split_of(&plan, K, members, queries, ranks[i], split_ranks);
        assert_true(plan.split == one.split && plan.n_tasks == one.n_tasks);
        assert_memory_equal(plan.parts, one.parts, K * sizeof *one.parts);
        assert_memory_equal(plan.query_parts, one.query_parts, K * sizeof *one.query_parts);
        for (int64_t t = 0; t < one.n_tasks; t++) {
            const dg_task *x = &plan.task[t], *y = &one.task[t];
            assert_true(x->cluster == y->cluster && x->kind == y->kind && x->a == y->a && x->b == y->b &&
                        x->work == y->work);
        }
        plan_of(&for_p, K, members, queries, ranks[i]);
        if (ranks[i] == split_ranks)
            assert_true(plans_equal(&plan, &for_p));
        dg_cluster_plan_free(&for_p);
        dg_cluster_plan_free(&plan);
    }
    dg_cluster_plan_free(&one);
}

static void item_parts_are_in_range_and_even(void **state)
{
    (void)state;
    enum { N = 60000, PARTS = 7 };
    int64_t count[PARTS] = {0};
    for (int64_t id = 0; id < N; id++) {
        int32_t part = dg_item_part(id * 3 + 1, 5, PARTS);
        assert_true(part >= 0 && part < PARTS);
        count[part]++;
        assert_int_equal(dg_item_part(id, 5, 1), 0);
    }
    for (int i = 0; i < PARTS; i++)
        assert_true(count[i] > N / PARTS * 0.95 && count[i] < N / PARTS * 1.05);
    /* The same id falls in different parts for different clusters. */
    int differ = 0;
    for (int64_t id = 0; id < 100; id++)
        differ += dg_item_part(id, 1, PARTS) != dg_item_part(id, 2, PARTS);
    assert_true(differ > 50);
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
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_err err;
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, 0, 0, 0.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));

    int64_t *members = malloc(sizeof(int64_t) * (size_t)s.k), *queries = malloc(sizeof(int64_t) * (size_t)s.k);
    assert_true(members && queries);
    naive_counts(&s, members, queries);
    dg_cluster_plan want;
    plan_of(&want, s.k, members, queries, ctx.size);
    int ok = plan.k == s.k && !memcmp(plan.members, members, sizeof(int64_t) * (size_t)s.k) &&
             !memcmp(plan.queries, queries, sizeof(int64_t) * (size_t)s.k) && plans_equal(&plan, &want);
    /* The counts are skewed, so the plan is not trivially even. */
    ok = ok && members[0] > 4 * members[s.k - 1];
    assert_true(dgt_all_ranks(ok));
    free(members);
    free(queries);
    dg_cluster_plan_free(&want);
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
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_err err = {0};
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, 0, 0, 0.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_FAIL && strstr(err.msg, "item 299") && plan.owner == NULL));
    dg_items_free(&items);
    free_dataset(&s);
}

/* ---- dg_exchange ------------------------------------------------------------- */

typedef struct expected {
    int32_t cluster;
    int8_t is_query;
    int32_t part;
    int64_t id;
} expected;

static int cmp_expected(const void *pa, const void *pb)
{
    const expected *a = pa, *b = pb;
    if (a->cluster != b->cluster)
        return a->cluster < b->cluster ? -1 : 1;
    if (a->is_query != b->is_query)
        return a->is_query < b->is_query ? -1 : 1;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    return a->id < b->id ? -1 : (a->id > b->id);
}

static int32_t naive_part(const dg_cluster_plan *plan, int64_t id, int32_t c, int is_query)
{
    if (plan->owner[c] >= 0)
        return 0;
    return dg_item_part(id, c, is_query ? plan->query_parts[c] : plan->parts[c]);
}

/* Rank r needs a record when one of its tasks reads the record's part. */
static int rank_needs(const dg_cluster_plan *plan, int r, int32_t c, int is_query, int32_t part)
{
    for (int64_t t = 0; t < plan->n_tasks; t++)
        if (plan->task[t].owner == r && plan->task[t].cluster == c && task_reads(&plan->task[t], is_query, part))
            return 1;
    return 0;
}

/* The records this rank should hold, from the full data set, how many
 * records it sends to other ranks, and how many records all ranks hold. */
static expected *expected_bucket(const dataset *s, const dg_cluster_plan *plan, int rank, int size, int64_t *n,
                                 int64_t *remote, int64_t *all)
{
    int64_t cap = s->n * s->m * size + 1;
    expected *e = malloc(sizeof(expected) * (size_t)cap);
    assert_non_null(e);
    int64_t lo = dg_range_lo(s->n, size, rank), hi = dg_range_lo(s->n, size, rank + 1);
    *n = *remote = *all = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!dg_status_usable(s->status[i]))
            continue;
        for (int j = 0; j < s->m; j++) {
            int32_t c = s->near[i * s->m + j];
            int32_t part = naive_part(plan, i, c, j > 0);
            for (int r = 0; r < size; r++) {
                if (!rank_needs(plan, r, c, j > 0, part))
                    continue;
                (*all)++;
                if (r == rank)
                    e[(*n)++] = (expected){c, (int8_t)(j > 0), part, i};
                if (i >= lo && i < hi && r != rank)
                    (*remote)++;
            }
        }
    }
    qsort(e, (size_t)*n, sizeof *e, cmp_expected);
    return e;
}

static int bucket_matches(const dg_bucket *b, const dataset *s, const expected *e, int64_t n)
{
    if (b->n != n || b->d != s->d) {
        fprintf(dgt_diag(), "bucket holds %lld records of %d dims, expected %lld of %d\n", (long long)b->n, b->d,
                (long long)n, s->d);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) {
        if (b->cluster[i] != e[i].cluster || b->is_query[i] != e[i].is_query || b->id[i] != e[i].id ||
            b->part[i] != e[i].part || memcmp(b->vec + i * s->d, s->vec + e[i].id * s->d, sizeof(float) * (size_t)s->d)) {
            fprintf(dgt_diag(), "record %lld: got (%d,%d,%d,%lld), expected (%d,%d,%d,%lld) or its vector differs\n",
                    (long long)i, b->cluster[i], b->is_query[i], b->part[i], (long long)b->id[i], e[i].cluster,
                    e[i].is_query, e[i].part, (long long)e[i].id);
            return 0;
        }
    }
    return 1;
}

/* The bucket's tasks are exactly the plan's tasks of this rank, in order. */
static int bucket_tasks_match(const dg_bucket *b, const dg_cluster_plan *plan, int rank)
{
    int64_t at = 0;
    for (int64_t t = 0; t < plan->n_tasks; t++) {
        if (plan->task[t].owner != rank)
            continue;
        if (at >= b->n_tasks || b->task[at].cluster != plan->task[t].cluster || b->task[at].kind != plan->task[t].kind ||
            b->task[at].a != plan->task[t].a || b->task[at].b != plan->task[t].b)
            return 0;
        at++;
    }
    return at == b->n_tasks;
}

/* Bytes sent are whole records of at least id + cluster + flag + vector. */
static int bytes_plausible(int64_t bytes, int64_t remote, int d)
{
    if (remote == 0)
        return bytes == 0;
    int64_t rec = bytes / remote;
    return bytes % remote == 0 && rec >= 13 + 4 * d && rec <= 16 + 4 * d;
}

/* round_bytes > 0 replaces the plan's bytes per exchange round. */
static void exchange_case(int64_t n, int d, int m, int64_t k, uint64_t seed, int64_t round_bytes)
{
    dataset s;
    make_dataset(&s, n, d, m, k, seed);
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_bucket b;
    dg_err err;
    int64_t bytes = -1;
    int rc = dg_plan_clusters(&ctx, &items, near, m, k, 0, 0, 0.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));
    if (round_bytes > 0)
        plan.round_bytes = round_bytes;
    rc = dg_exchange(&ctx, &items, near, m, &plan, 0, &b, &bytes, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));
    int64_t n_want, remote, want_all;
    expected *e = expected_bucket(&s, &plan, ctx.rank, ctx.size, &n_want, &remote, &want_all);
    int ok = bucket_matches(&b, &s, e, n_want) && bytes_plausible(bytes, remote, d) &&
             bucket_tasks_match(&b, &plan, ctx.rank);
    int64_t total = b.n, all = 0, usable = 0;
    MPI_Allreduce(&total, &all, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (int64_t i = 0; i < n; i++)
        usable += dg_status_usable(s.status[i]);
    /* Without splits every probe travels once; a split cluster's items may
     * go to several ranks. */
    ok = ok && all == want_all && (plan.split > 0 ? all >= usable * m : all == usable * m);
    assert_true(dgt_all_ranks(ok));
    free(e);
    dg_bucket_free(&b);
    dg_cluster_plan_free(&plan);
    dg_items_free(&items);
    free_dataset(&s);
}

static void exchange_delivers_each_probe_once_sorted_and_intact(void **state)
{
    (void)state;
    exchange_case(3000, 24, 4, 53, 21, 0);
}

/* Rounds of a few records each (a record is 16 + 4d bytes): the same
 * bucket as one round. */
static void exchange_in_many_small_rounds(void **state)
{
    (void)state;
    exchange_case(3000, 24, 4, 53, 21, 4096);
    exchange_case(700, 3, 2, 20, 24, 1);
}

/* Fewer items than ranks: some ranks send and receive nothing. */
static void exchange_handles_ranks_without_items(void **state)
{
    (void)state;
    exchange_case(3, 5, 2, 4, 22, 0);
}

static void exchange_single_probe(void **state)
{
    (void)state;
    exchange_case(500, 7, 1, 9, 23, 0);
}

/* ---- every pair once, through the exchange ----------------------------------- */

/* A pair a task searches: (cluster, row id, column id), the row a query for
 * query x member pairs, the smaller id first for member pairs. */
typedef struct pair_key {
    int64_t cluster, row, col;
} pair_key;

static int cmp_pair_key(const void *pa, const void *pb)
{
    const pair_key *a = pa, *b = pb;
    if (a->cluster != b->cluster)
        return a->cluster < b->cluster ? -1 : 1;
    if (a->row != b->row)
        return a->row < b->row ? -1 : 1;
    return (a->col > b->col) - (a->col < b->col);
}

typedef struct pair_list {
    pair_key *key;
    int64_t n, cap;
} pair_list;

static void pair_push(pair_list *l, int64_t c, int64_t row, int64_t col, int ordered)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->key = realloc(l->key, sizeof *l->key * (size_t)l->cap);
        assert_non_null(l->key);
    }
    int swap = !ordered && row > col;
    l->key[l->n++] = (pair_key){c, swap ? col : row, swap ? row : col};
}

/* Pairs of one task, read from the bucket rows it names (a plain scan). */
static void task_pairs(const dg_bucket *b, const dg_task *t, pair_list *out)
{
    for (int64_t i = 0; i < b->n; i++) {
        if (b->cluster[i] != t->cluster)
            continue;
        int row_query = t->kind == DG_TASK_QUERIES || (t->kind == DG_TASK_CLUSTER && b->is_query[i]);
        int row_ok = t->kind == DG_TASK_CLUSTER ? 1 : b->is_query[i] == row_query && b->part[i] == t->a;
        if (!row_ok)
            continue;
        for (int64_t j = 0; j < b->n; j++) {
            if (b->cluster[j] != t->cluster || b->is_query[j] || (t->kind != DG_TASK_CLUSTER && b->part[j] != t->b))
                continue;
            if (row_query)
                pair_push(out, t->cluster, b->id[i], b->id[j], 1);
            else if ((t->kind == DG_TASK_MEMBERS && t->a != t->b) || b->id[i] < b->id[j])
                pair_push(out, t->cluster, b->id[i], b->id[j], 0);
        }
    }
}

/* Every member pair of each cluster and every (query, member) pair. */
static void naive_pairs(const dataset *s, pair_list *out)
{
    for (int64_t i = 0; i < s->n; i++)
        for (int64_t j = 0; j < s->n && dg_status_usable(s->status[i]); j++) {
            if (!dg_status_usable(s->status[j]) || i == j)
                continue;
            int32_t cj = s->near[j * s->m];
            if (i < j && s->near[i * s->m] == cj)
                pair_push(out, cj, i, j, 1);
            for (int q = 1; q < s->m; q++)
                if (s->near[i * s->m + q] == cj)
                    pair_push(out, cj, i, j, 1);
        }
}

/* Rank 0 gathers every rank's task pairs. */
static void gather_pairs(const pair_list *mine, pair_list *all)
{
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    int count = (int)(mine->n * 3), *counts = malloc(sizeof(int) * (size_t)ctx.size),
        *displ = malloc(sizeof(int) * (size_t)ctx.size);
    assert_true(counts && displ);
    MPI_Gather(&count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int64_t total = 0;
    for (int r = 0; ctx.rank == 0 && r < ctx.size; r++) {
        displ[r] = (int)total;
        total += counts[r];
    }
    all->n = total / 3;
    all->key = malloc(sizeof(pair_key) * (size_t)(all->n + 1));
    assert_non_null(all->key);
    MPI_Gatherv(mine->key, count, MPI_INT64_T, all->key, counts, displ, MPI_INT64_T, 0, MPI_COMM_WORLD);
    free(counts);
    free(displ);
}

/* After the exchange, the tasks of all ranks together name every member
 * pair and every query x member pair of the clustering exactly once, and
 * each rank holds the rows its tasks name. */
static void exchanged_tasks_search_every_pair_once(void **state)
{
    (void)state;
    dataset s;
    make_dataset(&s, 900, 4, 3, 11, 31);
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_bucket b;
    dg_err err;
    int64_t bytes;
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, 0, 0, 0.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));
    rc = dg_exchange(&ctx, &items, near, s.m, &plan, 0, &b, &bytes, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));
    /* The skew makes cluster 0 heavy enough to split on more than one rank. */
    assert_true(dgt_all_ranks(ctx.size == 1 ? plan.split == 0 : plan.owner[0] == -1));
    pair_list mine = {0}, all = {0}, want = {0};
    for (int64_t t = 0; t < b.n_tasks; t++)
        task_pairs(&b, &b.task[t], &mine);
    gather_pairs(&mine, &all);
    int ok = 1;
    if (ctx.rank == 0) {
        naive_pairs(&s, &want);
        qsort(all.key, (size_t)all.n, sizeof *all.key, cmp_pair_key);
        qsort(want.key, (size_t)want.n, sizeof *want.key, cmp_pair_key);
        ok = all.n == want.n && !memcmp(all.key, want.key, sizeof *all.key * (size_t)all.n);
        if (!ok)
            fprintf(dgt_diag(), "tasks name %lld pairs, expected %lld\n", (long long)all.n, (long long)want.n);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    assert_true(dgt_all_ranks(ok));
    free(mine.key);
    free(all.key);
    free(want.key);
    dg_bucket_free(&b);
    dg_cluster_plan_free(&plan);
    dg_items_free(&items);
    free_dataset(&s);
}

/* Plans with max_rows and runs every round's exchange: the tasks' pairs
 * (from the rows each round's bucket holds) into mine, this rank's bytes
 * summed over the rounds into *sent; 0 when a bucket held more than
 * max_rows rows or a task of another round or rank. */
static int exchange_rounds(const dataset *s, int64_t max_rows, int32_t *rounds, pair_list *mine, int64_t *sent)
{
    dg_items items;
    const int32_t *near;
    own_range(s, &items, &near);
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_err err;
    int rc = dg_plan_clusters(&ctx, &items, near, s->m, s->k, 0, max_rows, 100.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_OK));
    int ok = max_rows == 0 ? plan.rounds == 1 : plan.round_rows <= max_rows;
    *rounds = plan.rounds;
    *sent = 0;
    for (int r = 0; r < plan.rounds; r++) {
        dg_bucket b;
        int64_t bytes;
        rc = dg_exchange(&ctx, &items, near, s->m, &plan, r, &b, &bytes, &err);
        assert_true(dgt_all_ranks(rc == DG_OK));
        ok = ok && (max_rows == 0 || b.n <= max_rows);
        *sent += bytes;
        for (int64_t t = 0; t < b.n_tasks; t++) {
            ok = ok && b.task[t].round == r && b.task[t].owner == ctx.rank;
            task_pairs(&b, &b.task[t], mine);
        }
        dg_bucket_free(&b);
    }
    dg_cluster_plan_free(&plan);
    dg_items_free(&items);
    return ok;
}

/* With max_rows, the plan's task rounds: every (rank, round) bucket holds
 * at most max_rows rows, there are several rounds, and over all rounds the
 * tasks of all ranks still name every pair exactly once, from the rows
 * their round's bucket holds.  When no cluster is larger than a round,
 * the rounds send exactly the bytes of one round.  At 1, 2 and 4 ranks. */
static void rounds_fit_max_rows_and_search_every_pair_once(void **state)
{
    (void)state;
    dataset s;
    make_dataset(&s, 900, 4, 3, 11, 31);
    int64_t *members = malloc(sizeof(int64_t) * (size_t)s.k), *queries = malloc(sizeof(int64_t) * (size_t)s.k);
    assert_true(members && queries);
    naive_counts(&s, members, queries);
    int64_t largest = 0;
    for (int64_t c = 0; c < s.k; c++)
        largest = members[c] + queries[c] > largest ? members[c] + queries[c] : largest;
    free(members);
    free(queries);
    /* 2700 records in all; the skewed cluster 0 alone has more than 400 */
    const int64_t caps[] = {400, largest};
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int64_t one_round_sent;
    int32_t rounds;
    pair_list mine = {0};
    assert_true(dgt_all_ranks(exchange_rounds(&s, 0, &rounds, &mine, &one_round_sent)));
    free(mine.key);
    for (size_t ci = 0; ci < sizeof caps / sizeof *caps; ci++) {
        pair_list got = {0}, all = {0}, want = {0};
        int64_t sent;
        int ok = exchange_rounds(&s, caps[ci], &rounds, &got, &sent);
        assert_true(dgt_all_ranks(ok));
        assert_true(dgt_all_ranks(rounds >= 2 || (ci == 1 && size > 1)));
        if (ci == 1) /* no cluster larger than a round: each record travels once */
            assert_true(dgt_all_ranks(sent == one_round_sent));
        gather_pairs(&got, &all);
        if (dgt_world_rank() == 0) {
            naive_pairs(&s, &want);
            qsort(all.key, (size_t)all.n, sizeof *all.key, cmp_pair_key);
            qsort(want.key, (size_t)want.n, sizeof *want.key, cmp_pair_key);
            ok = all.n == want.n && !memcmp(all.key, want.key, sizeof *all.key * (size_t)all.n);
            if (!ok)
                fprintf(dgt_diag(), "max_rows %lld: tasks over %d rounds name %lld pairs, expected %lld\n",
                        (long long)caps[ci], rounds, (long long)all.n, (long long)want.n);
        }
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
        assert_true(dgt_all_ranks(ok));
        free(got.key);
        free(all.key);
        free(want.key);
    }
    free_dataset(&s);
}

/* A budget no task can fit (a split task reads two rows at least): refused
 * on every rank with DG_E_MEMORY naming a cluster. */
static void rounds_refuse_a_task_larger_than_max_rows(void **state)
{
    (void)state;
    dataset s;
    make_dataset(&s, 300, 4, 2, 7, 5);
    dg_items items;
    const int32_t *near;
    own_range(&s, &items, &near);
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_cluster_plan plan;
    dg_err err = {0};
    int rc = dg_plan_clusters(&ctx, &items, near, s.m, s.k, 0, 1, 100.0, &plan, &err);
    assert_true(dgt_all_ranks(rc == DG_FAIL));
    if (ctx.rank == 0)
        fprintf(dgt_diag(), "refused: %s\n", err.msg);
    assert_true(dgt_all_ranks(err.code == DG_E_MEMORY && strstr(err.msg, "cluster ") &&
                              strstr(err.msg, "job.max_memory")));
    dg_items_free(&items);
    free_dataset(&s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(owners_go_heaviest_first_to_least_loaded),
        cmocka_unit_test(owners_equal_naive_greedy_on_random_counts),
        cmocka_unit_test(plan_keeps_clusters_whole_without_skew),
        cmocka_unit_test(split_tasks_cover_every_pair_once),
        cmocka_unit_test(fixed_split_gives_the_same_tasks_for_any_rank_count),
        cmocka_unit_test(item_parts_are_in_range_and_even),
        cmocka_unit_test(plan_counts_equal_naive_count),
        cmocka_unit_test(out_of_range_probe_fails_every_rank),
        cmocka_unit_test(exchange_delivers_each_probe_once_sorted_and_intact),
        cmocka_unit_test(exchange_in_many_small_rounds),
        cmocka_unit_test(exchange_handles_ranks_without_items),
        cmocka_unit_test(exchange_single_probe),
        cmocka_unit_test(exchanged_tasks_search_every_pair_once),
        cmocka_unit_test(rounds_fit_max_rows_and_search_every_pair_once),
        cmocka_unit_test(rounds_refuse_a_task_larger_than_max_rows),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
