/* test_pairs.c - the blocked pair search equals a naive double loop.
 *
 * Random unit vectors with planted near-duplicates (noise levels spread so
 * that similarities fall on both sides of the thresholds).  Within, between,
 * bucket and the exact ring over MPI_COMM_WORLD must give the same edge set
 * with the same similarities as a naive loop over dg_sim_exact, for block
 * sizes that do and do not divide the set sizes, in float32 (sgemm) and,
 * where the CPU has AVX512-BF16, in bfloat16.  Run under mpirun with 1, 2
 * and 4 ranks; every rank runs every test so the collectives match.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <unistd.h>

#include "mpi_harness.h"
#include "search/bf16_block.h"
#include "search/edges.h"
#include "search/exact.h"
#include "search/forest.h"
#include "search/pairs.h"

enum { SEED = 20240611 };

/* ---- data ---------------------------------------------------------------- */

static double gauss(uint64_t seed, uint64_t i)
{
    double u1 = dg_unit(dg_mix64(seed ^ (2 * i))) + 1e-12;
    double u2 = dg_unit(dg_mix64(seed ^ (2 * i + 1)));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void normalize(float *v, int d)
{
    double ss = 0.0;
    for (int k = 0; k < d; k++)
        ss += (double)v[k] * v[k];
    for (int k = 0; k < d; k++)
        v[k] = (float)(v[k] / sqrt(ss));
}

/* n unit vectors; about half are noisy copies of an earlier vector, with
 * noise from none (exact copy) to enough to fall below 0.9. */
static float *make_data(uint64_t seed, int64_t n, int d)
{
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)d);
    assert_non_null(x);
    for (int64_t i = 0; i < n; i++) {
        float *v = x + i * d;
        uint64_t h = dg_mix64(seed * 7919 + (uint64_t)i);
        uint64_t base = (uint64_t)(i * d) * 4 + seed;
        if (i > 0 && (h & 1)) {
            const float *src = x + (int64_t)((h >> 8) % (uint64_t)i) * d;
            double noise = 0.3 * dg_unit(dg_mix64(h));
            for (int k = 0; k < d; k++)
                v[k] = (float)(src[k] + noise * gauss(base, (uint64_t)k) / sqrt((double)d));
        } else {
            for (int k = 0; k < d; k++)
                v[k] = (float)gauss(base, (uint64_t)k);
        }
        normalize(v, d);
    }
    return x;
}

static int64_t *make_ids(int64_t n, int64_t first)
{
    int64_t *id = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    assert_non_null(id);
    for (int64_t i = 0; i < n; i++)
        id[i] = first + i;
    return id;
}

/* ---- reference and comparison ------------------------------------------- */

static void push_or_fail(dg_edges *e, int64_t a, int64_t b, float sim)
{
    dg_err err;
    assert_int_equal(dg_edges_push(e, a, b, sim, &err), DG_OK);
}

static void naive_between(const float *a, const int64_t *ida, int64_t na, const float *b, const int64_t *idb,
                          int64_t nb, int d, float t, int triangle, dg_edges *out)
{
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = triangle ? i + 1 : 0; j < nb; j++) {
            if (ida[i] == idb[j])
                continue;
            float s = dg_sim_exact(a + i * d, b + j * d, d);
            if (s >= t)
                push_or_fail(out, ida[i], idb[j], s);
        }
}

static void sort_unique(dg_edges *e)
{
    dg_err err;
    assert_int_equal(dg_edges_sort_unique(e, &err), DG_OK);
}

/* Same pairs, bit-identical similarities (both sorted). */
static int edges_equal(const dg_edges *a, const dg_edges *b)
{
    if (a->n != b->n) {
        fprintf(dgt_diag(), "edge counts differ: %lld vs %lld\n", (long long)a->n, (long long)b->n);
        return 0;
    }
    for (int64_t i = 0; i < a->n; i++)
        if (a->src[i] != b->src[i] || a->dst[i] != b->dst[i] || memcmp(&a->sim[i], &b->sim[i], sizeof(float))) {
            fprintf(dgt_diag(), "edge %lld differs: (%lld,%lld,%.9g) vs (%lld,%lld,%.9g)\n", (long long)i,
                    (long long)a->src[i], (long long)a->dst[i], a->sim[i], (long long)b->src[i],
                    (long long)b->dst[i], b->sim[i]);
            return 0;
        }
    return 1;
}

static const int blocks[] = {0, 1, 7, 64, 100, 333, 4096};
#define N_BLOCKS ((int)(sizeof blocks / sizeof blocks[0]))

/* Arithmetics to run every search in: float32, and bfloat16 where the CPU
 * has it (dg_pair_opts.bfloat16 = 0, 1). */
static int n_precisions(void)
{
    return dg_bf16_available() ? 2 : 1;
}

/* ---- tests ----------------------------------------------------------------- */

static void sim_exact_is_rounded_double_dot(void **state)
{
    (void)state;
    const int d = 200;
    float a[200], b[200];
    double ref = 0.0;
    for (int k = 0; k < d; k++) {
        a[k] = (float)gauss(1, (uint64_t)k);
        b[k] = (float)gauss(2, (uint64_t)k);
        ref += (double)a[k] * (double)b[k];
    }
    assert_true(dg_sim_exact(a, b, d) == (float)ref);
    assert_true(dg_sim_exact(b, a, d) == dg_sim_exact(a, b, d));
}

/* A threshold exactly equal to a pair's similarity keeps that pair. */
static float threshold_on_a_pair(const float *x, int64_t n, int d)
{
    for (int64_t i = 1; i < n; i++)
        for (int64_t j = 0; j < i; j++) {
            float s = dg_sim_exact(x + i * d, x + j * d, d);
            if (s > 0.93f && s < 0.99f)
                return s;
        }
    fail_msg("no planted pair between 0.93 and 0.99");
    return 0.0f;
}

static void within_equals_naive_for_every_block_size(void **state)
{
    (void)state;
    const int64_t n = 601;
    const int d = 48;
    float *x = make_data(SEED, n, d);
    int64_t *id = make_ids(n, 1000);
    float thresholds[] = {0.3f, 0.9f, 0.97f, threshold_on_a_pair(x, n, d)};
    for (int t = 0; t < 4; t++) {
        dg_edges ref = {0};
        naive_between(x, id, n, x, id, n, d, thresholds[t], 1, &ref);
        sort_unique(&ref);
        assert_true(ref.n > 0);
        for (int bi = 0; bi < N_BLOCKS * n_precisions(); bi++) {
            int bf16 = bi >= N_BLOCKS, block = blocks[bi % N_BLOCKS];
            dg_edges got = {0};
            dg_pair_stats st = {0, 0.0, 0.0};
            dg_err err;
            dg_pair_opts o = {thresholds[t], block, bf16, NULL};
            assert_int_equal(dg_pairs_within(x, id, n, d, &o, &got, &st, &err), DG_OK);
            int64_t raw = got.n;
            sort_unique(&got);
            assert_int_equal(raw, got.n); /* each pair reported once */
            if (!edges_equal(&got, &ref))
                fail_msg("within: block %d threshold %.9g bfloat16 %d differs from the naive loop", block,
                         thresholds[t], bf16);
            assert_int_equal(st.compared, n * (n - 1) / 2);
            assert_true(st.flops >= 2.0 * d * (double)st.compared);
            if (!bf16) /* bfloat16 also counts its padding to whole tiles */
                assert_true(st.flops <= 2.0 * d * (double)n * (double)n);
            dg_edges_free(&got);
        }
        dg_edges_free(&ref);
    }
    free(x);
    free(id);
}

/* Thresholds set exactly to pairs' exact similarities: the sgemm value of
 * such a pair is often an ulp or two below, so only re-scoring keeps it. */
static void pairs_exactly_at_threshold_are_kept(void **state)
{
    (void)state;
    const int64_t n = 300;
    const int d = 96;
    float *x = make_data(SEED + 4, n, d);
    int64_t *id = make_ids(n, 0);
    int tried = 0;
    for (int64_t i = 1; i < n && tried < 64; i++)
        for (int64_t j = 0; j < i && tried < 64; j++) {
            float t = dg_sim_exact(x + i * d, x + j * d, d);
            if (t < 0.5f || t > 0.999f)
                continue;
            tried++;
            for (int bf16 = 0; bf16 < n_precisions(); bf16++) {
                dg_edges got = {0};
                dg_err err;
                dg_pair_opts o = {t, 0, bf16, NULL};
                assert_int_equal(dg_pairs_within(x, id, n, d, &o, &got, NULL, &err), DG_OK);
                int found = 0;
                for (int64_t e = 0; e < got.n; e++) {
                    assert_true(got.sim[e] >= t);
                    found |= got.src[e] == j && got.dst[e] == i && got.sim[e] == t;
                }
                dg_edges_free(&got);
                if (!found)
                    fail_msg("pair (%lld,%lld) at exactly the threshold %.9g was dropped (bfloat16 %d)", (long long)j,
                             (long long)i, t, bf16);
            }
        }
    assert_int_equal(tried, 64);
    free(x);
    free(id);
}

/* A = items [0, 500), B = items [300, 677): the shared ids are skipped. */
static void between_equals_naive_and_skips_equal_ids(void **state)
{
    (void)state;
    const int d = 40;
    float *x = make_data(SEED + 1, 677, d);
    int64_t *id = make_ids(677, 0);
    const float *a = x, *b = x + 300 * d;
    const int64_t *ida = id, *idb = id + 300;
    const int64_t na = 500, nb = 377;
    for (int t = 0; t < 2; t++) {
        float thr = t ? 0.95f : 0.5f;
        dg_edges ref = {0};
        naive_between(a, ida, na, b, idb, nb, d, thr, 0, &ref);
        int64_t ref_raw = ref.n;
        sort_unique(&ref);
        for (int bi = 0; bi < N_BLOCKS * n_precisions(); bi++) {
            dg_edges got = {0};
            dg_pair_stats st = {0, 0.0, 0.0};
            dg_err err;
            dg_pair_opts o = {thr, blocks[bi % N_BLOCKS], bi >= N_BLOCKS, NULL};
            assert_int_equal(dg_pairs_between(a, ida, na, b, idb, nb, d, &o, &got, &st, &err), DG_OK);
            assert_int_equal(got.n, ref_raw);
            for (int64_t e = 0; e < got.n; e++)
                assert_true(got.src[e] < got.dst[e]);
            sort_unique(&got);
            if (!edges_equal(&got, &ref))
                fail_msg("between: block %d threshold %.2f bfloat16 %d differs from the naive loop",
                         blocks[bi % N_BLOCKS], thr, bi >= N_BLOCKS);
            assert_int_equal(st.compared, na * nb);
            dg_edges_free(&got);
        }
        dg_edges_free(&ref);
    }
    free(x);
    free(id);
}

/* The bfloat16 block against double dot products: every similarity within
 * dg_bf16_margin(d), padding rows and columns zero, for odd and even d and
 * for block shapes that are not whole tiles.  Adversarial rows (all terms of
 * one sign, halfway between bfloat16 values) push the rounding error to the
 * same side; the largest error seen must still be within the margin but
 * not far below it (the bound is not vacuous). */
static void bf16_block_within_its_margin(void **state)
{
    (void)state;
    if (!dg_bf16_available()) {
        skip();
        return;
    }
    const int dims[] = {1, 7, 16, 33, 64, 129, 256};
    double worst_share = 0.0;
    for (int di = 0; di < 7; di++) {
        const int d = dims[di];
        const int64_t nr = 13, nc = 45;
        float *x = make_data(SEED + 6 + (uint64_t)d, nr + nc, d);
        /* rows 0-1 of each side: every component 1.00390625 * 2^-k rounded
         * halfway, all positive, then normalised */
        for (int v = 0; v < 2; v++)
            for (int side = 0; side < 2; side++) {
                float *row = x + (side ? nr + v : v) * d;
                for (int k = 0; k < d; k++)
                    row[k] = 1.0f + 0x1p-9f + (float)(k % 3) * 0x1p-7f;
                normalize(row, d);
            }
        const float *rows = x, *cols = x + nr * d;
        int64_t pr = dg_bf16_rows(nr), pc = dg_bf16_cols(nc);
        uint32_t *a = malloc(sizeof *a * (size_t)(pr * dg_bf16_words(d)));
        uint32_t *b = malloc(sizeof *b * (size_t)(pc * dg_bf16_words(d)));
        float *sims = malloc(sizeof *sims * (size_t)(pr * pc));
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(sims);
        dg_bf16_pack_rows(rows, nr, d, a);
        dg_bf16_pack_cols(cols, nc, d, b);
        dg_bf16_block(a, nr, b, nc, d, sims, pc);
        float margin = dg_bf16_margin(d);
        for (int64_t i = 0; i < pr; i++)
            for (int64_t j = 0; j < pc; j++) {
                float got = sims[i * pc + j];
                if (i >= nr || j >= nc) {
                    assert_true(got == 0.0f);
                    continue;
                }
                double exact = 0.0;
                for (int k = 0; k < d; k++)
                    exact += (double)rows[i * d + k] * cols[j * d + k];
                double e = fabs((double)got - exact);
                if (e > margin)
                    fail_msg("d %d, (%lld, %lld): bfloat16 %.7f, exact %.7f, error %.2e above the margin %.2e", d,
                             (long long)i, (long long)j, (double)got, exact, e, (double)margin);
                worst_share = e / margin > worst_share ? e / margin : worst_share;
            }
        free(a);
        free(b);
        free(sims);
        free(x);
    }
    if (worst_share < 0.2)
        fail_msg("largest error only %.3f of the margin: the adversarial rows did not round to one side", worst_share);
}

static void empty_sets_give_no_edges(void **state)
{
    (void)state;
    float v[4] = {1, 0, 0, 0};
    int64_t id = 5;
    dg_edges got = {0};
    dg_pair_stats st = {0, 0.0, 0.0};
    dg_err err;
    dg_pair_opts o = {0.5f, 0, 0, NULL};
    assert_int_equal(dg_pairs_within(v, &id, 0, 4, &o, &got, &st, &err), DG_OK);
    assert_int_equal(dg_pairs_within(v, &id, 1, 4, &o, &got, &st, &err), DG_OK);
    assert_int_equal(dg_pairs_between(v, &id, 1, v, &id, 0, 4, &o, &got, &st, &err), DG_OK);
    assert_int_equal(dg_pairs_between(v, &id, 1, v, &id, 1, 4, &o, &got, &st, &err), DG_OK);
    assert_int_equal(got.n, 0);
    assert_int_equal(dg_pairs_within(v, &id, 1, 0, &o, &got, &st, &err), DG_FAIL);
    assert_true(strlen(err.msg) > 0);
    dg_edges_free(&got);
}

/* ---- bucket ------------------------------------------------------------------ */

typedef struct cluster_shape {
    int members, queries;
} cluster_shape;

/* A bucket whose rows are the data rows in order, grouped into clusters of
 * the given shapes (ids of queries repeat member ids of other clusters). */
static void make_bucket(dg_bucket *b, const float *x, int64_t n_data, int d, const cluster_shape *shape, int k)
{
    int64_t n = 0;
    for (int c = 0; c < k; c++)
        n += shape[c].members + shape[c].queries;
    b->n = n;
    b->d = d;
    b->id = malloc(sizeof(int64_t) * (size_t)n);
    b->cluster = malloc(sizeof(int32_t) * (size_t)n);
    b->is_query = malloc((size_t)n);
    b->vec = malloc(sizeof(float) * (size_t)(n * d));
    b->part = calloc((size_t)n, sizeof(int32_t));
    b->task = calloc((size_t)k, sizeof(dg_task));
    assert_true(b->id && b->cluster && b->is_query && b->vec && b->part && b->task);
    int64_t row = 0, next_member = 0;
    for (int c = 0; c < k; c++) {
        b->task[c] = (dg_task){3 * c + 1, DG_TASK_CLUSTER, 0, 0, 0, 0.0, 0};
        for (int i = 0; i < shape[c].members + shape[c].queries; i++, row++) {
            int q = i >= shape[c].members;
            int64_t src = q ? (int64_t)(dg_mix64((uint64_t)row) % (uint64_t)n_data) : next_member++;
            b->id[row] = src;
            b->cluster[row] = 3 * c + 1;
            b->is_query[row] = (int8_t)q;
            memcpy(b->vec + row * d, x + src * d, sizeof(float) * (size_t)d);
        }
    }
    b->n_tasks = k;
}

static void naive_bucket(const dg_bucket *b, float t, dg_edges *out)
{
    for (int64_t first = 0; first < b->n;) {
        int64_t m = first, end;
        while (m < b->n && b->cluster[m] == b->cluster[first] && !b->is_query[m])
            m++;
        for (end = m; end < b->n && b->cluster[end] == b->cluster[first]; end++)
            ;
        const float *mv = b->vec + first * b->d;
        naive_between(mv, b->id + first, m - first, mv, b->id + first, m - first, b->d, t, 1, out);
        naive_between(b->vec + m * b->d, b->id + m, end - m, mv, b->id + first, m - first, b->d, t, 0, out);
        first = end;
    }
}

static void bucket_equals_naive_per_cluster(void **state)
{
    (void)state;
    const int d = 32;
    const cluster_shape shape[] = {{0, 5}, {1, 0}, {1, 3}, {150, 40}, {7, 300}, {90, 0}, {2, 2}, {260, 130}};
    const int k = (int)(sizeof shape / sizeof shape[0]);
    int64_t n_data = 0;
    for (int c = 0; c < k; c++)
        n_data += shape[c].members;
    float *x = make_data(SEED + 2, n_data, d);
    dg_bucket b;
    make_bucket(&b, x, n_data, d, shape, k);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_SELF, 1e9);
    ctx.quiet = 1;
    for (int t = 0; t < 2; t++) {
        float thr = t ? 0.92f : 0.4f;
        dg_edges ref = {0};
        naive_bucket(&b, thr, &ref);
        sort_unique(&ref);
        assert_true(ref.n > 0);
        for (int bi = 0; bi < N_BLOCKS * n_precisions(); bi++) {
            dg_edges got = {0};
            dg_pair_stats st = {0, 0.0, 0.0};
            dg_err err;
            dg_pair_opts o = {thr, blocks[bi % N_BLOCKS], bi >= N_BLOCKS, NULL};
            assert_int_equal(dg_pairs_bucket(&ctx, &b, &o, NULL, &got, &st, &err), DG_OK);
            sort_unique(&got);
            if (!edges_equal(&got, &ref))
                fail_msg("bucket: block %d threshold %.2f bfloat16 %d differs from the naive loop", blocks[bi % N_BLOCKS],
                         thr, bi >= N_BLOCKS);
            assert_true(st.flops >= 2.0 * d * (double)st.compared);
            dg_edges_free(&got);
        }
        dg_edges_free(&ref);
    }
    dg_bucket_free(&b);
    free(x);
}

/* ---- split clusters ------------------------------------------------------------ */

typedef struct bucket_row {
    int32_t cluster, part;
    int8_t is_query;
    int64_t id;
} bucket_row;

static int cmp_bucket_row(const void *pa, const void *pb)
{
    const bucket_row *a = pa, *b = pb;
    if (a->cluster != b->cluster)
        return a->cluster < b->cluster ? -1 : 1;
    if (a->is_query != b->is_query)
        return a->is_query < b->is_query ? -1 : 1;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Every row of every cluster of the plan, parted as the plan says and
 * sorted like an exchanged bucket; no tasks yet. */
static void make_parted_bucket(dg_bucket *b, const float *x, int64_t n_data, int d, const cluster_shape *shape,
                               const dg_cluster_plan *plan)
{
    int64_t n = 0;
    for (int64_t c = 0; c < plan->k; c++)
        n += shape[c].members + shape[c].queries;
    bucket_row *rows = malloc(sizeof *rows * (size_t)n);
    assert_non_null(rows);
    int64_t row = 0, next_member = 0;
    for (int32_t c = 0; c < plan->k; c++)
        for (int i = 0; i < shape[c].members + shape[c].queries; i++, row++) {
            int q = i >= shape[c].members;
            int64_t id = q ? (int64_t)(dg_mix64((uint64_t)row ^ 99) % (uint64_t)n_data) : next_member++;
            int32_t parts = plan->owner[c] >= 0 ? 1 : q ? plan->query_parts[c] : plan->parts[c];
            rows[row] = (bucket_row){c, dg_item_part(id, c, parts), (int8_t)q, id};
        }
    qsort(rows, (size_t)n, sizeof *rows, cmp_bucket_row);
    memset(b, 0, sizeof *b);
    b->n = n;
    b->d = d;
    b->id = malloc(sizeof(int64_t) * (size_t)n);
    b->cluster = malloc(sizeof(int32_t) * (size_t)n);
    b->is_query = malloc((size_t)n);
    b->part = malloc(sizeof(int32_t) * (size_t)n);
    b->vec = malloc(sizeof(float) * (size_t)(n * d));
    b->task = malloc(sizeof(dg_task) * (size_t)plan->n_tasks);
    assert_true(b->id && b->cluster && b->is_query && b->part && b->vec && b->task);
    for (int64_t i = 0; i < n; i++) {
        b->id[i] = rows[i].id;
        b->cluster[i] = rows[i].cluster;
        b->is_query[i] = rows[i].is_query;
        b->part[i] = rows[i].part;
        memcpy(b->vec + i * d, x + rows[i].id * d, sizeof(float) * (size_t)d);
    }
    free(rows);
}

/* The plan's tasks of rank r become the bucket's tasks. */
static void take_tasks(dg_bucket *b, const dg_cluster_plan *plan, int r)
{
    b->n_tasks = 0;
    for (int64_t t = 0; t < plan->n_tasks; t++)
        if (plan->task[t].owner == r)
            b->task[b->n_tasks++] = plan->task[t];
}

/* A cluster far above a rank's fair share is cut into tasks over 4 ranks;
 * running every rank's tasks finds the edges of the whole clusters and
 * searches each pair exactly once. */
static void split_cluster_tasks_equal_whole_clusters(void **state)
{
    (void)state;
    const int d = 24, p = 4;
    const cluster_shape shape[] = {{1500, 400}, {300, 100}, {50, 20}, {0, 5}, {40, 0}, {1, 900}};
    const int k = (int)(sizeof shape / sizeof shape[0]);
    dg_cluster_plan plan = {0};
    plan.k = k;
    plan.members = calloc((size_t)k, sizeof(int64_t));
    plan.queries = calloc((size_t)k, sizeof(int64_t));
    assert_true(plan.members && plan.queries);
    int64_t n_data = 0;
    double want_compared = 0.0;
    for (int c = 0; c < k; c++) {
        plan.members[c] = shape[c].members;
        plan.queries[c] = shape[c].queries;
        n_data += shape[c].members;
        want_compared += shape[c].members * (shape[c].members - 1.0) / 2.0 + (double)shape[c].queries * shape[c].members;
    }
    dg_err err;
    assert_int_equal(dg_plan_from_counts(&plan, p, &err), DG_OK);
    assert_true(plan.split >= 1 && plan.owner[0] == -1 && plan.parts[0] > 1);
    float *x = make_data(SEED + 3, n_data, d);
    dg_bucket b;
    make_parted_bucket(&b, x, n_data, d, shape, &plan);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_SELF, 1e9);
    ctx.quiet = 1;
    const float thr = 0.9f;
    dg_edges ref = {0};
    naive_bucket(&b, thr, &ref);
    sort_unique(&ref);
    assert_true(ref.n > 0);
    const int split_blocks[] = {0, 7, 100};
    for (int bi = 0; bi < 3 * n_precisions(); bi++) {
        dg_edges got = {0};
        dg_pair_stats st = {0, 0.0, 0.0};
        dg_pair_opts o = {thr, split_blocks[bi % 3], bi >= 3, NULL};
        for (int r = 0; r < p; r++) {
            take_tasks(&b, &plan, r);
            assert_int_equal(dg_pairs_bucket(&ctx, &b, &o, NULL, &got, &st, &err), DG_OK);
        }
        sort_unique(&got);
        if (!edges_equal(&got, &ref))
            fail_msg("split tasks with block %d (bfloat16 %d) differ from whole clusters", split_blocks[bi % 3],
                     bi >= 3);
        assert_true((double)st.compared == want_compared);
        dg_edges_free(&got);
    }
    dg_edges_free(&ref);
    dg_bucket_free(&b);
    dg_cluster_plan_free(&plan);
    free(x);
}

/* The plan for p ranks of clusters shaped like `shape`, split as if for
 * split_ranks ranks (graph.edges = forest). */
static void fixed_split_plan(dg_cluster_plan *plan, const cluster_shape *shape, int k, int p, int32_t split_ranks)
{
    memset(plan, 0, sizeof *plan);
    plan->k = k;
    plan->split_ranks = split_ranks;
    plan->members = calloc((size_t)k, sizeof(int64_t));
    plan->queries = calloc((size_t)k, sizeof(int64_t));
    assert_true(plan->members && plan->queries);
    for (int c = 0; c < k; c++) {
        plan->members[c] = shape[c].members;
        plan->queries[c] = shape[c].queries;
    }
    dg_err err;
    assert_int_equal(dg_plan_from_counts(plan, p, &err), DG_OK);
}

/* graph.edges = forest: with the split fixed, the edges pushed over all
 * ranks (forest edges, best matches, sorted and de-duplicated) are the same
 * whether the tasks run on 1, 2 or 4 ranks or in reverse order, because
 * each task has its own union-find and best matches; and they are fewer
 * than all mode's, all among them, spanning the same components. */
static void forest_edges_do_not_depend_on_which_tasks_share_a_rank(void **state)
{
    (void)state;
    const int d = 24;
    const cluster_shape shape[] = {{1500, 400}, {300, 100}, {50, 20}, {0, 5}, {40, 0}, {1, 900}};
    const int k = (int)(sizeof shape / sizeof shape[0]);
    int64_t n_data = 0;
    for (int c = 0; c < k; c++)
        n_data += shape[c].members;
    float *x = make_data(SEED + 5, n_data, d);
    dg_cluster_plan plan;
    fixed_split_plan(&plan, shape, k, 1, 4);
    assert_true(plan.owner[0] == -1 && plan.parts[0] > 1);
    dg_bucket b;
    make_parted_bucket(&b, x, n_data, d, shape, &plan);
    dg_cluster_plan_free(&plan);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_SELF, 1e9);
    ctx.quiet = 1;
    dg_err err;
    const float thr = 0.9f;
    dg_edges ref = {0}, all = {0};
    const int ranks[] = {1, 2, 4};
    /* float32 at 1, 2, 4 ranks, then bfloat16 (where the CPU has it) */
    for (int i = 0; i < 3 * n_precisions(); i++) {
        fixed_split_plan(&plan, shape, k, ranks[i % 3], 4);
        dg_edges got = {0};
        dg_pair_opts o = {thr, 0, i >= 3, NULL};
        for (int r = 0; r < ranks[i % 3]; r++) {
            take_tasks(&b, &plan, r);
            assert_int_equal(dg_pairs_bucket(&ctx, &b, &o, &thr, &got, NULL, &err), DG_OK);
        }
        dg_cluster_plan_free(&plan);
        sort_unique(&got);
        if (i == 0) {
            ref = got;
            continue;
        }
        if (!edges_equal(&got, &ref))
            fail_msg("forest edges of %d ranks (bfloat16 %d) differ from 1 rank in float32", ranks[i % 3], i >= 3);
        dg_edges_free(&got);
    }
    /* every task on one rank, backwards */
    fixed_split_plan(&plan, shape, k, 1, 4);
    take_tasks(&b, &plan, 0);
    for (int64_t t = 0; t < b.n_tasks / 2; t++) {
        dg_task swap = b.task[t];
        b.task[t] = b.task[b.n_tasks - 1 - t];
        b.task[b.n_tasks - 1 - t] = swap;
    }
    dg_edges back = {0};
    dg_pair_opts o = {thr, 0, n_precisions() - 1, NULL};
    assert_int_equal(dg_pairs_bucket(&ctx, &b, &o, &thr, &back, NULL, &err), DG_OK);
    sort_unique(&back);
    if (!edges_equal(&back, &ref))
        fail_msg("forest edges of tasks in reverse order differ");
    naive_bucket(&b, thr, &all);
    sort_unique(&all);
    assert_true(ref.n > 0 && ref.n < all.n);
    /* pairs all mode finds, with its similarities; as many spanning-forest
     * edges (so the same components) */
    for (int64_t i = 0, j = 0; i < ref.n; i++) {
        while (j < all.n && (all.src[j] < ref.src[i] || (all.src[j] == ref.src[i] && all.dst[j] < ref.dst[i])))
            j++;
        assert_true(j < all.n && all.src[j] == ref.src[i] && all.dst[j] == ref.dst[i] && all.sim[j] == ref.sim[i]);
    }
    assert_int_equal(dg_edges_spanning_forest(&ref, NULL, &err), DG_OK);
    assert_int_equal(dg_edges_spanning_forest(&all, NULL, &err), DG_OK);
    assert_int_equal(ref.n, all.n);
    dg_edges_free(&back);
    dg_edges_free(&all);
    dg_edges_free(&ref);
    dg_bucket_free(&b);
    dg_cluster_plan_free(&plan);
    free(x);
}

/* ---- exact mode over MPI_COMM_WORLD ------------------------------------------- */

/* Unusable items are exact copies of usable ones (so they would form edges
 * if they were searched), crowded into the first quarter so that the rank
 * blocks differ in size. */
static int is_unusable(int64_t id, int64_t n)
{
    return (id < n / 4 && id % 3 == 1) || id % 41 == 7;
}

static void make_items(dg_items *items, const float *x, int64_t n, int d)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int64_t lo = dg_range_lo(n, size, rank), hi = dg_range_lo(n, size, rank + 1);
    dg_err err;
    assert_int_equal(dg_items_alloc(items, n, lo, hi - lo, d, 0, &err), DG_OK);
    for (int64_t i = 0; i < hi - lo; i++) {
        int64_t g = lo + i;
        int bad = is_unusable(g, n);
        items->status[i] = (int8_t)(bad ? DG_ST_CORRUPT : (g % 2 ? DG_ST_OK_WITH_WARNING : DG_ST_OK));
        memcpy(items->vec + i * d, x + (bad ? g - 1 : g) * d, sizeof(float) * (size_t)d);
    }
}

/* Gathers every rank's edges on rank 0 (unsorted, as produced). */
static void gather_edges(const dg_edges *mine, dg_edges *all)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int n = (int)mine->n, *counts = calloc((size_t)size, sizeof(int)), *displ = calloc((size_t)size, sizeof(int));
    assert_true(counts && displ);
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int total = 0;
    for (int r = 0; r < size; r++) {
        displ[r] = total;
        total += counts[r];
    }
    memset(all, 0, sizeof *all);
    all->n = all->cap = rank == 0 ? total : 0;
    all->src = malloc(sizeof(int64_t) * (size_t)(total + 1));
    all->dst = malloc(sizeof(int64_t) * (size_t)(total + 1));
    all->sim = malloc(sizeof(float) * (size_t)(total + 1));
    assert_true(all->src && all->dst && all->sim);
    MPI_Gatherv(mine->src, n, MPI_INT64_T, all->src, counts, displ, MPI_INT64_T, 0, MPI_COMM_WORLD);
    MPI_Gatherv(mine->dst, n, MPI_INT64_T, all->dst, counts, displ, MPI_INT64_T, 0, MPI_COMM_WORLD);
    MPI_Gatherv(mine->sim, n, MPI_FLOAT, all->sim, counts, displ, MPI_FLOAT, 0, MPI_COMM_WORLD);
    free(counts);
    free(displ);
}

/* Rank 0's verdict on the gathered edges, shared with every rank. */
static int check_exact_on_rank0(const dg_edges *all, const float *x, int64_t n, int d, float t)
{
    int rank, ok = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        dg_edges got = *all, ref = {0};
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i + 1; j < n; j++) {
                if (is_unusable(i, n) || is_unusable(j, n))
                    continue;
                float s = dg_sim_exact(x + i * d, x + j * d, d);
                if (s >= t)
                    push_or_fail(&ref, i, j, s);
            }
        int64_t raw = got.n;
        dg_err err;
        ok = dg_edges_sort_unique(&got, &err) == DG_OK && raw == got.n && edges_equal(&got, &ref) && ref.n > 0;
        if (raw != got.n)
            fprintf(dgt_diag(), "exact: %lld edges reported more than once\n", (long long)(raw - got.n));
        dg_edges_free(&ref);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return ok;
}

static void exact_over_all_ranks_equals_naive_global_loop(void **state)
{
    (void)state;
    const int64_t n = 901;
    const int d = 24;
    float *x = make_data(SEED + 3, n, d);
    /* Unusable rows keep their copied vector: only the status excludes them. */
    int64_t usable = 0;
    for (int64_t i = 0; i < n; i++)
        usable += !is_unusable(i, n);
    dg_items items;
    make_items(&items, x, n, d);
    dg_ctx ctx;
    dg_ctx_init(&ctx, MPI_COMM_WORLD, 1e9);
    ctx.quiet = 1;
    const int exact_blocks[] = {0, 37};
    const float thresholds[] = {0.45f, 0.93f};
    for (int bi = 0; bi < 2 * n_precisions(); bi++)
        for (int t = 0; t < 2; t++) {
            dg_edges mine = {0}, all;
            dg_pair_stats st = {0, 0.0, 0.0};
            dg_err err;
            dg_pair_opts o = {thresholds[t], exact_blocks[bi % 2], bi >= 2, NULL};
            int rc = dg_pairs_exact(&ctx, &items, &o, &mine, &st, &err);
            assert_true(dgt_all_ranks(rc == DG_OK));
            int64_t compared = 0;
            MPI_Allreduce(&st.compared, &compared, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
            assert_int_equal(compared, usable * (usable - 1) / 2);
            gather_edges(&mine, &all);
            int ok = check_exact_on_rank0(&all, x, n, d, thresholds[t]);
            dg_edges_free(&mine);
            dg_edges_free(&all);
            if (!ok)
                fail_msg("exact: block %d threshold %.2f bfloat16 %d differs from the naive global loop",
                         exact_blocks[bi % 2], thresholds[t], bi >= 2);
        }
    dg_items_free(&items);
    free(x);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sim_exact_is_rounded_double_dot),
        cmocka_unit_test(within_equals_naive_for_every_block_size),
        cmocka_unit_test(pairs_exactly_at_threshold_are_kept),
        cmocka_unit_test(between_equals_naive_and_skips_equal_ids),
        cmocka_unit_test(empty_sets_give_no_edges),
        cmocka_unit_test(bf16_block_within_its_margin),
        cmocka_unit_test(bucket_equals_naive_per_cluster),
        cmocka_unit_test(split_cluster_tasks_equal_whole_clusters),
        cmocka_unit_test(forest_edges_do_not_depend_on_which_tasks_share_a_rank),
        cmocka_unit_test(exact_over_all_ranks_equals_naive_global_loop),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
