/* test_kmeans.c - distributed spherical k-means and nearest-centroid search.
 *
 * Runs under mpirun with 1, 2 or 4 ranks.  Every rank generates the same
 * full data set and keeps its dg_range_lo share; every check is agreed over
 * all ranks before it is asserted, so a failure on one rank fails every rank
 * instead of leaving the others waiting in a collective.
 */
#include "mpi_harness.h"
#include "search/bf16_block.h"
#include "search/centroid_index.h"
#include "search/kmeans.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* Standard normal from a counter (Box-Muller), reproducible on every rank. */
static double gauss(uint64_t seed, uint64_t i)
{
    double u1 = dg_unit(dg_mix64(seed ^ dg_mix64(2 * i))) + 1e-300;
    double u2 = dg_unit(dg_mix64(seed ^ dg_mix64(2 * i + 1)));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void normalize(float *v, int d)
{
    double ss = 0.0;
    for (int j = 0; j < d; j++)
        ss += (double)v[j] * v[j];
    for (int j = 0; j < d; j++)
        v[j] = (float)(v[j] / sqrt(ss));
}

static double dot(const float *a, const float *b, int d)
{
    double s = 0.0;
    for (int j = 0; j < d; j++)
        s += (double)a[j] * (double)b[j];
    return s;
}

/* A whole data set, identical on every rank. */
typedef struct dataset {
    int64_t n;
    int d;
    float *vec;
    int8_t *status;
    int *label; /* generating blob, or -1 */
} dataset;

static void dataset_alloc(dataset *ds, int64_t n, int d)
{
    ds->n = n;
    ds->d = d;
    ds->vec = calloc((size_t)(n * d), sizeof(float));
    ds->status = calloc((size_t)n, sizeof(int8_t));
    ds->label = calloc((size_t)n, sizeof(int));
    assert_non_null(ds->vec);
    assert_non_null(ds->status);
    assert_non_null(ds->label);
}

static void dataset_free(dataset *ds)
{
    free(ds->vec);
    free(ds->status);
    free(ds->label);
}

/* Blob b has size[b] points around a random unit centre (centres written to
 * `centres`, b_count x d), with per-coordinate noise sigma.  Points are
 * interleaved across blobs so every rank holds some of each. */
static void make_blobs(dataset *ds, int b_count, const int *size, int d, double sigma, uint64_t seed,
                       float *centres)
{
    int64_t n = 0;
    for (int b = 0; b < b_count; b++)
        n += size[b];
    dataset_alloc(ds, n, d);
    for (int b = 0; b < b_count; b++) {
        for (int j = 0; j < d; j++)
            centres[b * d + j] = (float)gauss(seed, (uint64_t)(b * d + j));
        normalize(centres + b * d, d);
    }
    int left[64];
    memcpy(left, size, sizeof(int) * (size_t)b_count);
    for (int64_t i = 0, b = 0; i < n; b = (b + 1) % b_count) {
        if (!left[b])
            continue;
        left[b]--;
        ds->label[i] = (int)b;
        for (int j = 0; j < d; j++)
            ds->vec[i * d + j] =
                centres[b * d + j] + (float)(sigma * gauss(seed + 1, (uint64_t)(i * d + j)));
        normalize(ds->vec + i * d, d);
        i++;
    }
}

/* This rank's contiguous share of the data set on communicator comm. */
static void take_share(const dataset *ds, MPI_Comm comm, dg_items *it)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int64_t lo = dg_range_lo(ds->n, size, rank), hi = dg_range_lo(ds->n, size, rank + 1);
    dg_err err;
    assert_int_equal(dg_items_alloc(it, ds->n, lo, hi - lo, ds->d, 0, &err), DG_OK);
    memcpy(it->vec, ds->vec + lo * ds->d, sizeof(float) * (size_t)((hi - lo) * ds->d));
    memcpy(it->status, ds->status + lo, (size_t)(hi - lo));
}

static int train_totals(const dataset *ds, MPI_Comm comm, const dg_kmeans_params *p, float *centroids,
                        dg_kmeans_stats *stats, dg_kmeans_totals *totals, dg_err *err)
{
    dg_ctx ctx = dgt_quiet_ctx(comm);
    dg_items it;
    take_share(ds, comm, &it);
    int rc = dg_kmeans_train(&ctx, &it, p, centroids, stats, totals, err);
    dg_items_free(&it);
    return rc;
}

static int train(const dataset *ds, MPI_Comm comm, const dg_kmeans_params *p, float *centroids,
                 dg_kmeans_stats *stats, dg_err *err)
{
    return train_totals(ds, comm, p, centroids, stats, NULL, err);
}

/* The m best of k by a plain double loop: (sim desc, index asc). */
static void naive_nearest(const float *x, int d, const float *c, int64_t k, int m, int32_t *idx,
                          double *sim)
{
    double *s = malloc(sizeof(double) * (size_t)k);
    char *used = calloc((size_t)k, 1);
    assert_non_null(s);
    assert_non_null(used);
    for (int64_t j = 0; j < k; j++)
        s[j] = dot(x, c + j * d, d);
    for (int r = 0; r < m; r++) {
        int64_t best = -1;
        for (int64_t j = 0; j < k; j++)
            if (!used[j] && (best < 0 || s[j] > s[best]))
                best = j;
        used[best] = 1;
        idx[r] = (int32_t)best;
        sim[r] = s[best];
    }
    free(s);
    free(used);
}

/* ---- nearest centroids ------------------------------------------------ */

/* n random rows against k centroids, some rows equal to centroids, some
 * centroids duplicated (exact ties) or differing by a few ulps (near ties the
 * float sgemm cannot order, many rows close to them), checked for every m against the naive
 * loop: same indices in the same order, similarities within float rounding. */
static int nearest_agrees(int64_t n, int d, int64_t k, const int *ms, int n_ms, uint64_t seed)
{
    int m_max = 0;
    for (int t = 0; t < n_ms; t++)
        m_max = ms[t] > m_max ? ms[t] : m_max;
    float *x = malloc(sizeof(float) * (size_t)(n * d));
    float *c = malloc(sizeof(float) * (size_t)(k * d));
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)(n * m_max));
    float *sim = malloc(sizeof(float) * (size_t)(n * m_max));
    int32_t *ref = malloc(sizeof(int32_t) * (size_t)k);
    double *ref_sim = malloc(sizeof(double) * (size_t)k);
    assert_true(x && c && idx && sim && ref && ref_sim);
    for (int64_t j = 0; j < k * d; j++)
        c[j] = (float)gauss(seed, (uint64_t)j);
    for (int64_t j = 0; j < k; j++)
        normalize(c + j * d, d);
    /* ties: centroid 3 appears three times, 10 twice */
    memcpy(c + 5 * d, c + 3 * d, sizeof(float) * (size_t)d);
    memcpy(c + 6 * d, c + 3 * d, sizeof(float) * (size_t)d);
    memcpy(c + 20 * d, c + 10 * d, sizeof(float) * (size_t)d);
    /* near tie, below float precision of the sgemm: 8 is 7 nudged by a few ulps */
    memcpy(c + 8 * d, c + 7 * d, sizeof(float) * (size_t)d);
    for (int j = 0; j < d; j += 2)
        c[8 * d + j] = nextafterf(nextafterf(c[7 * d + j], 1.0f), 1.0f);
    for (int64_t i = 0; i < n * d; i++)
        x[i] = (float)gauss(seed + 1, (uint64_t)i);
    for (int64_t i = 0; i < n; i++) {
        if (i % 7 == 0)
            memcpy(x + i * d, c + ((i / 7) % k) * d, sizeof(float) * (size_t)d);
        if (i % 11 == 0)
            memcpy(x + i * d, c + (i % 2 ? 3 : 10) * d, sizeof(float) * (size_t)d);
        if (i % 5 == 1)
            for (int j = 0; j < d; j++)
                x[i * d + j] = c[7 * d + j] + 1e-3f * x[i * d + j];
        normalize(x + i * d, d);
    }
    int ok = 1;
    /* float32, then bfloat16 where the CPU has it: both the exact nearest */
    for (int t = 0; t < n_ms * (dg_bf16_available() ? 2 : 1) && ok; t++) {
        int m = ms[t % n_ms], bf16 = t >= n_ms;
        dg_err err;
        ok = dg_nearest_centroids(x, n, d, c, k, m, bf16, idx, sim, &err) == DG_OK;
        for (int64_t i = 0; i < n && ok; i++) {
            naive_nearest(x + i * d, d, c, k, m, ref, ref_sim);
            for (int r = 0; r < m; r++) {
                if (idx[i * m + r] != ref[r] || fabs(sim[i * m + r] - ref_sim[r]) > 1e-6) {
                    ok = 0;
                    dgt_note("row %lld, %d-th nearest (m=%d, bfloat16 %d): got %d (%.9f), want %d (%.9f)", (long long)i,
                             r, m, bf16, idx[i * m + r], sim[i * m + r], ref[r], ref_sim[r]);
                }
            }
        }
    }
    free(x);
    free(c);
    free(idx);
    free(sim);
    free(ref);
    free(ref_sim);
    return ok;
}

static void nearest_matches_naive_reference_with_ties(void **state)
{
    (void)state;
    const int ms[] = {1, 2, 3, 5, 37};
    /* 1300 rows: blocks of 512 rows plus a partial one */
    assert_true(dgt_all_ranks(nearest_agrees(1300, 20, 37, ms, 5, 11)));
}

static void nearest_matches_naive_reference_with_many_centroids(void **state)
{
    (void)state;
    const int ms[] = {1, 4};
    /* so many centroids that a block holds only a few dozen rows */
    assert_true(dgt_all_ranks(nearest_agrees(300, 8, 70000, ms, 2, 12)));
}

static void nearest_does_not_depend_on_blocking(void **state)
{
    (void)state;
    enum { N = 1200, D = 24, K = 50, M = 3 };
    float *x = malloc(sizeof(float) * N * D), c[K * D];
    int32_t idx_all[N * M], idx_one[M];
    float sim_all[N * M], sim_one[M];
    assert_non_null(x);
    for (int i = 0; i < N * D; i++)
        x[i] = (float)gauss(21, (uint64_t)i);
    for (int i = 0; i < K * D; i++)
        c[i] = (float)gauss(22, (uint64_t)i);
    for (int i = 0; i < N; i++)
        normalize(x + i * D, D);
    for (int j = 0; j < K; j++)
        normalize(c + j * D, D);
    dg_err err;
    assert_int_equal(dg_nearest_centroids(x, N, D, c, K, M, 0, idx_all, sim_all, &err), DG_OK);
    int ok = 1;
    /* one row at a time, in float32 and (where the CPU has it) bfloat16 */
    for (int bf16 = 0; bf16 < (dg_bf16_available() ? 2 : 1); bf16++)
        for (int i = 0; i < N; i++) {
            assert_int_equal(dg_nearest_centroids(x + i * D, 1, D, c, K, M, bf16, idx_one, sim_one, &err), DG_OK);
            ok &= memcmp(idx_one, idx_all + i * M, sizeof idx_one) == 0;
            ok &= memcmp(sim_one, sim_all + i * M, sizeof sim_one) == 0;
        }
    free(x);
    assert_true(dgt_all_ranks(ok));
}

static void nearest_rejects_bad_arguments(void **state)
{
    (void)state;
    float x[4] = {1, 0, 0, 0}, c[8] = {1, 0, 0, 0, 0, 1, 0, 0};
    int32_t idx[4];
    dg_err err = {0};
    assert_int_equal(dg_nearest_centroids(x, 1, 4, c, 2, 3, 0, idx, NULL, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, "m <= k"));
    assert_int_equal(dg_nearest_centroids(x, 1, 4, c, 2, 0, 0, idx, NULL, &err), DG_FAIL);
    assert_int_equal(dg_nearest_centroids(x, 1, 4, c, 0, 1, 0, idx, NULL, &err), DG_FAIL);
    assert_int_equal(dg_nearest_centroids(x, 1, 0, c, 2, 1, 0, idx, NULL, &err), DG_FAIL);
    assert_int_equal(dg_nearest_centroids(x, 0, 4, c, 2, 1, 0, idx, NULL, &err), DG_OK);
    assert_int_equal(dg_nearest_centroids(x, 1, 4, c, 2, 2, 0, idx, NULL, &err), DG_OK);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 1);
}

/* ---- training ---------------------------------------------------------- */

enum { BLOBS = 8, BLOB_D = 32, BLOB_ITERS = 10 };

/* Eight tight blobs of different sizes plus a ninth blob of unusable items
 * (which must not attract a centroid). */
static void blob_data(dataset *ds, float *centres, int *sizes)
{
    for (int b = 0; b <= BLOBS; b++)
        sizes[b] = 40 + 15 * b;
    make_blobs(ds, BLOBS + 1, sizes, BLOB_D, 0.005, 5, centres);
    for (int64_t i = 0; i < ds->n; i++)
        if (ds->label[i] == BLOBS)
            ds->status[i] = DG_ST_CORRUPT;
}

static void kmeans_finds_well_separated_blobs(void **state)
{
    (void)state;
    dataset ds;
    float centres[(BLOBS + 1) * BLOB_D], cent[BLOBS * BLOB_D];
    int sizes[BLOBS + 1];
    blob_data(&ds, centres, sizes);
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = BLOBS;
    p.iterations = BLOB_ITERS;
    p.sample = ds.n;
    p.seed = 3;
    dg_err err;
    assert_int_equal(train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err), DG_OK);

    int32_t *idx = malloc(sizeof(int32_t) * (size_t)ds.n);
    assert_non_null(idx);
    assert_int_equal(dg_nearest_centroids(ds.vec, ds.n, BLOB_D, cent, BLOBS, 1, 0, idx, NULL, &err), DG_OK);
    int blob_of[BLOBS], ok = 1;
    for (int b = 0; b < BLOBS; b++)
        blob_of[b] = -1;
    for (int64_t i = 0; i < ds.n; i++) {
        int b = ds.label[i];
        if (b == BLOBS)
            continue;
        if (blob_of[b] < 0)
            blob_of[b] = idx[i];
        ok &= blob_of[b] == idx[i]; /* a blob maps to one centroid */
    }
    for (int b = 0; b < BLOBS; b++) {
        for (int b2 = 0; b2 < b; b2++)
            ok &= blob_of[b] != blob_of[b2]; /* and no two blobs share one */
        ok &= dot(cent + blob_of[b] * BLOB_D, centres + b * BLOB_D, BLOB_D) > 0.999;
        ok &= fabs(dot(cent + b * BLOB_D, cent + b * BLOB_D, BLOB_D) - 1.0) < 1e-6;
    }
    free(idx);
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

/* Stats of converged blobs checked against a naive recomputation from the
 * final centroids: objective = mean similarity to the nearest centroid,
 * imbalance = K * sum n_k^2 / N^2 of the known blob sizes; the totals hold
 * the usable points trained on and the last iteration's figures. */
static void kmeans_fills_stats_per_iteration(void **state)
{
    (void)state;
    dataset ds;
    float centres[(BLOBS + 1) * BLOB_D], cent[BLOBS * BLOB_D];
    int sizes[BLOBS + 1];
    blob_data(&ds, centres, sizes);
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = BLOBS;
    p.iterations = BLOB_ITERS;
    p.sample = ds.n;
    p.seed = 3;
    dg_kmeans_stats st[BLOB_ITERS + 1];
    memset(st, 0xff, sizeof st);
    dg_kmeans_totals tot;
    dg_err err;
    assert_int_equal(train_totals(&ds, MPI_COMM_WORLD, &p, cent, st, &tot, &err), DG_OK);

    double n_usable = 0, sq = 0, sim_sum = 0;
    for (int b = 0; b < BLOBS; b++) {
        n_usable += sizes[b];
        sq += (double)sizes[b] * sizes[b];
    }
    for (int64_t i = 0; i < ds.n; i++) {
        if (ds.label[i] == BLOBS)
            continue;
        int32_t ref;
        double ref_sim;
        naive_nearest(ds.vec + i * BLOB_D, BLOB_D, cent, BLOBS, 1, &ref, &ref_sim);
        sim_sum += ref_sim;
    }
    int ok = 1;
    for (int it = 0; it < BLOB_ITERS; it++) {
        ok &= st[it].reseeded == 0;
        ok &= st[it].seconds >= 0.0 && st[it].seconds < 60.0;
        ok &= st[it].objective > 0.0 && st[it].objective <= 1.0;
        ok &= st[it].imbalance >= 1.0 - 1e-12;
        if (it > 0)
            ok &= st[it].objective >= st[it - 1].objective - 1e-6;
    }
    const dg_kmeans_stats *last = &st[BLOB_ITERS - 1];
    ok &= fabs(last->objective - sim_sum / n_usable) < 1e-6;
    ok &= fabs(last->imbalance - BLOBS * sq / (n_usable * n_usable)) < 1e-12;
    ok &= st[BLOB_ITERS].reseeded == -1; /* nothing written past p.iterations */
    ok &= tot.sample == (int64_t)n_usable && tot.iterations == BLOB_ITERS;
    ok &= tot.objective == last->objective && tot.imbalance == last->imbalance;
    ok &= tot.seeding_seconds >= 0.0 && tot.lloyd_seconds >= 0.0;
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

/* Trains on COMM_WORLD and, on rank 0, on a one-rank communicator holding
 * every item: centroids and stats must be bit-identical. */
static int same_for_any_rank_count(const dataset *ds, const dg_kmeans_params *p, int64_t *reseeded)
{
    size_t bytes = sizeof(float) * (size_t)(p->k * ds->d);
    float *world = malloc(bytes), *self = malloc(bytes);
    dg_kmeans_stats *sw = calloc((size_t)p->iterations, sizeof *sw);
    dg_kmeans_stats *ss = calloc((size_t)p->iterations, sizeof *ss);
    assert_true(world && self && sw && ss);
    dg_err err;
    int ok = train(ds, MPI_COMM_WORLD, p, world, sw, &err) == DG_OK;
    if (dgt_world_rank() == 0) {
        ok &= train(ds, MPI_COMM_SELF, p, self, ss, &err) == DG_OK;
        ok &= memcmp(world, self, bytes) == 0;
        for (int it = 0; it < p->iterations; it++) {
            ok &= sw[it].objective == ss[it].objective;
            ok &= sw[it].imbalance == ss[it].imbalance;
            ok &= sw[it].reseeded == ss[it].reseeded;
        }
    }
    /* and every rank holds rank 0's centroids */
    MPI_Bcast(self, (int)(p->k * ds->d), MPI_FLOAT, 0, MPI_COMM_WORLD);
    ok &= memcmp(world, self, bytes) == 0;
    *reseeded = 0;
    for (int it = 0; it < p->iterations; it++)
        *reseeded += sw[it].reseeded;
    free(world);
    free(self);
    free(sw);
    free(ss);
    return dgt_all_ranks(ok);
}

/* Overlapping blobs, some unusable items, a hashed sample smaller than N and
 * a seeding pool smaller than the sample. */
static void centroids_equal_for_1_2_4_ranks(void **state)
{
    (void)state;
    int sizes[40];
    float centres[40 * 16];
    for (int b = 0; b < 40; b++)
        sizes[b] = 60 + 7 * b;
    dataset ds;
    make_blobs(&ds, 40, sizes, 16, 0.3, 9, centres);
    for (int64_t i = 0; i < ds.n; i += 17) {
        ds.status[i] = DG_ST_CORRUPT;
        memset(ds.vec + i * ds.d, 0, sizeof(float) * (size_t)ds.d);
    }
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = 24;
    p.iterations = 8;
    p.sample = 3000;
    p.seed = 77;
    int64_t reseeded;
    assert_true(same_for_any_rank_count(&ds, &p, &reseeded));
    if (dg_bf16_available()) {
        /* bfloat16 blocks re-score every close call: the same assignments,
         * so the same centroids as float32, for any rank count */
        p.bfloat16 = 1;
        assert_true(same_for_any_rank_count(&ds, &p, &reseeded));
        size_t bytes = sizeof(float) * (size_t)(p.k * ds.d);
        float *f32 = malloc(bytes), *b16 = malloc(bytes);
        assert_true(f32 && b16);
        dg_err err;
        int ok = train(&ds, MPI_COMM_WORLD, &p, b16, NULL, &err) == DG_OK;
        p.bfloat16 = 0;
        ok &= train(&ds, MPI_COMM_WORLD, &p, f32, NULL, &err) == DG_OK;
        ok &= memcmp(f32, b16, bytes) == 0;
        free(f32);
        free(b16);
        assert_true(dgt_all_ranks(ok));
    }
    dataset_free(&ds);
}

/* x and -x only, K = 1: the cluster's sum cancels to zero every iteration,
 * so it is re-seeded with the worst-served point: the lowest id of the
 * opposite sign, which alternates the centroid between x and -x. */
static void directionless_cluster_is_reseeded_with_worst_point(void **state)
{
    (void)state;
    enum { N = 10, D = 6, ITERS = 5 };
    dataset ds;
    dataset_alloc(&ds, N, D);
    float x[D] = {0.5f, -0.5f, 0.5f, 0.5f, 0.0f, 0.0f};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            ds.vec[i * D + j] = i % 2 ? -x[j] : x[j];
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = 1;
    p.iterations = ITERS;
    p.sample = N;
    dg_kmeans_stats st[ITERS];
    float cent[D], first[D];
    dg_err err;
    int ok = 1;
    p.iterations = 0; /* the seed alone */
    ok &= train(&ds, MPI_COMM_WORLD, &p, first, NULL, &err) == DG_OK;
    p.iterations = ITERS;
    ok &= train(&ds, MPI_COMM_WORLD, &p, cent, st, &err) == DG_OK;
    for (int it = 0; it < ITERS; it++) {
        ok &= st[it].reseeded == 1;
        ok &= st[it].objective == 0.0;
    }
    /* odd number of flips: the final centroid is the seed negated */
    for (int j = 0; j < D; j++)
        ok &= cent[j] == -first[j];
    ok &= fabs(fabs(dot(cent, x, D)) - 1.0) < 1e-7;
    int64_t reseeded;
    ok &= same_for_any_rank_count(&ds, &p, &reseeded);
    ok &= reseeded == ITERS;
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

/* Duplicates everywhere: six vectors and their negations, nine copies each,
 * K one below the number of distinct vectors.  Assignment ties are broken by
 * index; the result must still be rank-invariant. */
static void duplicates_with_k_near_distinct_count(void **state)
{
    (void)state;
    enum { DISTINCT = 12, COPIES = 9, D = 8 };
    dataset ds;
    dataset_alloc(&ds, DISTINCT * COPIES, D);
    float base[DISTINCT * D];
    for (int u = 0; u < DISTINCT / 2; u++) {
        for (int j = 0; j < D; j++)
            base[u * D + j] = (float)gauss(31, (uint64_t)(u * D + j));
        normalize(base + u * D, D);
        for (int j = 0; j < D; j++)
            base[(u + DISTINCT / 2) * D + j] = -base[u * D + j];
    }
    for (int64_t i = 0; i < ds.n; i++)
        memcpy(ds.vec + i * D, base + (i % DISTINCT) * D, sizeof(float) * D);
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = DISTINCT - 1;
    p.iterations = 6;
    p.sample = ds.n;
    int64_t reseeded;
    assert_true(same_for_any_rank_count(&ds, &p, &reseeded));
    dataset_free(&ds);
}

static void too_few_points_or_distinct_vectors_fail_clearly(void **state)
{
    (void)state;
    enum { N = 60, D = 4 };
    dataset ds;
    dataset_alloc(&ds, N, D);
    for (int i = 0; i < N; i++)
        ds.vec[i * D + i % 5 % D] = (i % 5 == 4) ? -1.0f : 1.0f; /* 5 distinct vectors */
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = 8;
    p.iterations = 2;
    p.sample = N;
    float cent[100 * D];
    dg_err err = {0};
    int ok = train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_FAIL;
    ok &= strstr(err.msg, "only 5 distinct") != NULL;
    p.k = 5;
    ok &= train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_OK;
    p.k = 61;
    ok &= train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_FAIL;
    ok &= strstr(err.msg, "fewer than K=61") != NULL;
    p.k = 4;
    ds.vec[7 * D] = 2.0f; /* not unit length */
    ok &= train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_FAIL;
    ok &= strstr(err.msg, "item 7 is not unit length") != NULL;
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

/* ---- k-means|| seeding -------------------------------------------------- */

/* The overlapping blobs of centroids_equal_for_1_2_4_ranks. */
static void overlapping_blobs(dataset *ds)
{
    int sizes[40];
    float centres[40 * 16];
    for (int b = 0; b < 40; b++)
        sizes[b] = 60 + 7 * b;
    make_blobs(ds, 40, sizes, 16, 0.3, 9, centres);
    for (int64_t i = 0; i < ds->n; i += 17) {
        ds->status[i] = DG_ST_CORRUPT;
        memset(ds->vec + i * ds->d, 0, sizeof(float) * (size_t)ds->d);
    }
}

static void kmeans_par_params(dg_kmeans_params *p, int64_t k, int iterations, int64_t sample)
{
    dg_kmeans_params_default(p);
    p->k = k;
    p->iterations = iterations;
    p->sample = sample;
    p->seed = 77;
    p->seeding = DG_SEEDING_KMEANS_PAR;
}

static void kmeans_par_centroids_equal_for_1_2_4_ranks(void **state)
{
    (void)state;
    dataset ds;
    overlapping_blobs(&ds);
    dg_kmeans_params p;
    int64_t reseeded;
    kmeans_par_params(&p, 24, 8, 3000); /* a hashed sample smaller than N */
    assert_true(same_for_any_rank_count(&ds, &p, &reseeded));
    kmeans_par_params(&p, 200, 3, ds.n); /* more candidates than one round's worth */
    assert_true(same_for_any_rank_count(&ds, &p, &reseeded));
    dataset_free(&ds);
}

/* Mean 1 - cosine of the usable points to their nearest centroid. */
static double distortion(const dataset *ds, const float *cent, int64_t k)
{
    double sum = 0.0;
    int64_t n = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        if (!dg_status_usable(ds->status[i]))
            continue;
        int32_t j;
        double sim;
        naive_nearest(ds->vec + i * ds->d, ds->d, cent, k, 1, &j, &sim);
        sum += 1.0 - sim;
        n++;
    }
    return sum / (double)n;
}

/* Seeds alone (0 iterations): K distinct usable data points.  After Lloyd:
 * the distortion within a factor of k-means++'s (stated: 1.1; seeds alone:
 * 1.5), over several seeds so one lucky draw cannot carry it. */
static void kmeans_par_seeds_are_data_points_and_compete_with_kmeanspp(void **state)
{
    (void)state;
    dataset ds;
    overlapping_blobs(&ds);
    enum { K = 40 };
    float par[K * 16], pp[K * 16];
    dg_kmeans_params p;
    dg_err err;
    int ok = 1;
    double seeds_par = 0, seeds_pp = 0, final_par = 0, final_pp = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        kmeans_par_params(&p, K, 0, ds.n);
        p.seed = seed;
        ok &= train(&ds, MPI_COMM_WORLD, &p, par, NULL, &err) == DG_OK;
        for (int c = 0; c < K; c++) {
            int found = 0;
            for (int64_t i = 0; i < ds.n && !found; i++)
                found = dg_status_usable(ds.status[i]) &&
                        memcmp(par + c * 16, ds.vec + i * 16, sizeof(float) * 16) == 0;
            ok &= found;
            for (int c2 = 0; c2 < c; c2++)
                ok &= memcmp(par + c * 16, par + c2 * 16, sizeof(float) * 16) != 0;
        }
        seeds_par += distortion(&ds, par, K);
        p.seeding = DG_SEEDING_KMEANSPP;
        ok &= train(&ds, MPI_COMM_WORLD, &p, pp, NULL, &err) == DG_OK;
        seeds_pp += distortion(&ds, pp, K);
        p.iterations = 10;
        ok &= train(&ds, MPI_COMM_WORLD, &p, pp, NULL, &err) == DG_OK;
        final_pp += distortion(&ds, pp, K);
        p.seeding = DG_SEEDING_KMEANS_PAR;
        ok &= train(&ds, MPI_COMM_WORLD, &p, par, NULL, &err) == DG_OK;
        final_par += distortion(&ds, par, K);
    }
    if (dgt_world_rank() == 0)
        printf("distortion (mean 1 - cos) over 4 seeds: seeds alone k-means|| %.5f, k-means++ %.5f; after 10 "
               "iterations %.5f, %.5f\n", seeds_par / 4, seeds_pp / 4, final_par / 4, final_pp / 4);
    ok &= seeds_par <= 1.5 * seeds_pp;
    ok &= final_par <= 1.1 * final_pp;
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

static void kmeans_par_too_few_distinct_vectors_fails_clearly(void **state)
{
    (void)state;
    enum { N = 60, D = 4 };
    dataset ds;
    dataset_alloc(&ds, N, D);
    for (int i = 0; i < N; i++)
        ds.vec[i * D + i % 5 % D] = (i % 5 == 4) ? -1.0f : 1.0f; /* 5 distinct vectors */
    dg_kmeans_params p;
    kmeans_par_params(&p, 8, 2, N);
    float cent[8 * D];
    dg_err err = {0};
    int ok = train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_FAIL;
    ok &= strstr(err.msg, "only 5 distinct") != NULL;
    p.k = 5;
    ok &= train(&ds, MPI_COMM_WORLD, &p, cent, NULL, &err) == DG_OK;
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

/* ---- two-level search ------------------------------------------------------ */

/* k random unit centroids in 40 blobs (so coarse groups mean something),
 * with exact duplicates; n rows near them, some equal to centroids. */
static void two_level_data(int64_t n, int d, int64_t k, float *x, float *c)
{
    for (int64_t j = 0; j < k; j++) {
        for (int t = 0; t < d; t++)
            c[j * d + t] = (float)(gauss(41, (uint64_t)((j % 40) * d + t)) + 0.6 * gauss(42, (uint64_t)(j * d + t)));
        normalize(c + j * d, d);
    }
    memcpy(c + 9 * d, c + 4 * d, sizeof(float) * (size_t)d);
    memcpy(c + 50 * d, c + 4 * d, sizeof(float) * (size_t)d);
    for (int64_t i = 0; i < n; i++) {
        for (int t = 0; t < d; t++)
            x[i * d + t] = c[((i * 7) % k) * d + t] + (float)(0.5 * gauss(43, (uint64_t)(i * d + t)));
        if (i % 13 == 0)
            memcpy(x + i * d, c + (i % 2 ? 4 : (i / 13) % k) * d, sizeof(float) * (size_t)d);
        normalize(x + i * d, d);
    }
}

/* The two-level rule written plainly: rank the coarse groups by double
 * similarity (desc, index asc), take the first `probes` of them and more
 * while they hold fewer than m centroids, then the m best of their members
 * by (similarity desc, index asc). */
static void naive_two_level(const dg_centroid_index *ix, const float *c, const float *x, int probes, int m,
                            int32_t *idx, double *sim)
{
    int d = ix->d;
    int32_t *order = malloc(sizeof(int32_t) * (size_t)ix->kc);
    double *gs = malloc(sizeof(double) * (size_t)ix->kc);
    char *cand = calloc((size_t)ix->k, 1);
    assert_true(order && gs && cand);
    naive_nearest(x, d, ix->coarse, ix->kc, (int)ix->kc, order, gs);
    int64_t held = 0;
    for (int64_t r = 0; r < ix->kc && (r < probes || held < m); r++)
        for (int64_t t = ix->start[order[r]]; t < ix->start[order[r] + 1]; t++, held++)
            cand[ix->member[t]] = 1;
    for (int r = 0; r < m; r++) {
        int64_t best = -1;
        double bs = 0.0;
        for (int64_t j = 0; j < ix->k; j++) {
            if (!cand[j])
                continue;
            double s = dot(x, c + j * d, d);
            if (best < 0 || s > bs) {
                best = j;
                bs = s;
            }
        }
        cand[best] = 0;
        idx[r] = (int32_t)best;
        sim[r] = bs;
    }
    free(order);
    free(gs);
    free(cand);
}

/* The index partitions the centroids: each in exactly one non-empty group,
 * ascending within it. */
static int index_partitions(const dg_centroid_index *ix)
{
    char *seen = calloc((size_t)ix->k, 1);
    int ok = seen != NULL && ix->start[0] == 0 && ix->start[ix->kc] == ix->k;
    for (int64_t g = 0; ok && g < ix->kc; g++) {
        ok &= ix->start[g + 1] > ix->start[g];
        for (int64_t t = ix->start[g]; t < ix->start[g + 1]; t++) {
            ok &= !seen[ix->member[t]];
            seen[ix->member[t]] = 1;
            if (t > ix->start[g])
                ok &= ix->member[t] > ix->member[t - 1];
        }
    }
    free(seen);
    return ok;
}

static void two_level_equals_flat_with_all_groups_and_naive_rule_with_fewer(void **state)
{
    (void)state;
    enum { N = 1500, D = 16, K = 400, MMAX = 5 };
    float *x = malloc(sizeof(float) * N * D), *c = malloc(sizeof(float) * K * D);
    int32_t *flat = malloc(sizeof(int32_t) * N * MMAX), *two = malloc(sizeof(int32_t) * N * MMAX);
    float *fs = malloc(sizeof(float) * N * MMAX), *ts = malloc(sizeof(float) * N * MMAX);
    assert_true(x && c && flat && two && fs && ts);
    two_level_data(N, D, K, x, c);
    dg_centroid_index ix;
    dg_err err;
    assert_int_equal(dg_centroid_index_groups(K), 20);
    assert_int_equal(dg_centroid_index_build(c, K, D, dg_centroid_index_groups(K), 10, &ix, &err), DG_OK);
    int ok = index_partitions(&ix) && ix.kc > 1;
    const int ms[] = {1, 3, MMAX};
    int64_t differ = 0;
    for (int t = 0; t < 3 && ok; t++) {
        int m = ms[t];
        ok &= dg_nearest_centroids(x, N, D, c, K, m, 0, flat, fs, &err) == DG_OK;
        /* all groups, and more probes than groups: the flat result, bit for bit */
        for (int probes = (int)ix.kc; probes <= (int)ix.kc + 1; probes++) {
            ok &= dg_nearest_centroids_two_level(&ix, c, x, N, probes, m, two, ts, &err) == DG_OK;
            ok &= memcmp(flat, two, sizeof(int32_t) * N * (size_t)m) == 0;
            ok &= memcmp(fs, ts, sizeof(float) * N * (size_t)m) == 0;
        }
        const int probe_counts[] = {1, 2, 3};
        for (int u = 0; u < 3; u++) {
            int probes = probe_counts[u];
            ok &= dg_nearest_centroids_two_level(&ix, c, x, N, probes, m, two, ts, &err) == DG_OK;
            for (int64_t i = 0; i < N && ok; i++) {
                int32_t ref[MMAX];
                double rs[MMAX];
                naive_two_level(&ix, c, x + i * D, probes, m, ref, rs);
                for (int r = 0; r < m; r++)
                    if (two[i * m + r] != ref[r] || fabs(ts[i * m + r] - rs[r]) > 1e-6) {
                        ok = 0;
                        dgt_note("row %lld, m=%d, probes=%d, %d-th: got %d (%.9f), want %d (%.9f)", (long long)i, m,
                                 probes, r, two[i * m + r], ts[i * m + r], ref[r], rs[r]);
                    }
                differ += memcmp(two + i * m, flat + i * m, sizeof(int32_t) * (size_t)m) != 0;
            }
        }
    }
    ok &= differ > 0; /* one probe does miss some flat neighbours here: the rule is exercised */
    dg_centroid_index_free(&ix);
    free(x);
    free(c);
    free(flat);
    free(two);
    free(fs);
    free(ts);
    assert_true(dgt_all_ranks(ok));
}

/* A single group (K_c = 1), K_c = K (one centroid per group) and bad
 * arguments. */
static void two_level_edge_cases(void **state)
{
    (void)state;
    enum { N = 200, D = 8, K = 60, M = 4 };
    float x[N * D], c[K * D], fs[N * M], ts[N * M];
    int32_t flat[N * M], two[N * M];
    two_level_data(N, D, K, x, c);
    dg_err err = {0};
    int ok = dg_nearest_centroids(x, N, D, c, K, M, 0, flat, fs, &err) == DG_OK;
    const int64_t kcs[] = {1, K};
    for (int t = 0; t < 2; t++) {
        dg_centroid_index ix;
        ok &= dg_centroid_index_build(c, K, D, kcs[t], 5, &ix, &err) == DG_OK;
        ok &= index_partitions(&ix);
        /* one probe: with K_c = K the m groups needed to hold m centroids are taken */
        ok &= dg_nearest_centroids_two_level(&ix, c, x, N, kcs[t] == 1 ? 1 : K, M, two, ts, &err) == DG_OK;
        ok &= memcmp(flat, two, sizeof flat) == 0 && memcmp(fs, ts, sizeof fs) == 0;
        ok &= dg_nearest_centroids_two_level(&ix, c, x, N, 1, M, two, ts, &err) == DG_OK;
        for (int64_t i = 0; i < N; i++)
            for (int r = 1; r < M; r++)
                ok &= ts[i * M + r] <= ts[i * M + r - 1];
        ok &= dg_nearest_centroids_two_level(&ix, c, x, N, 1, K + 1, two, ts, &err) == DG_FAIL;
        dg_centroid_index_free(&ix);
    }
    dg_centroid_index ix;
    ok &= dg_centroid_index_build(c, K, D, K + 1, 5, &ix, &err) == DG_FAIL;
    assert_true(dgt_all_ranks(ok));
}

/* Not an assertion: seeding and one Lloyd pass at a moderate size. */
static void timing_of_seeding_and_assignment(void **state)
{
    (void)state;
    enum { N = 24576, D = 128, K = 2048 };
    dataset ds;
    dataset_alloc(&ds, N, D);
    for (int64_t i = 0; i < (int64_t)N * D; i++)
        ds.vec[i] = (float)(dg_unit(dg_mix64((uint64_t)i)) - 0.5);
    for (int64_t i = 0; i < N; i++)
        normalize(ds.vec + i * D, D);
    dg_kmeans_params p;
    dg_kmeans_params_default(&p);
    p.k = K;
    p.iterations = 1;
    p.sample = N;
    float *cent = malloc(sizeof(float) * K * D);
    assert_non_null(cent);
    dg_kmeans_stats st;
    dg_kmeans_totals tot;
    dg_err err;
    int ok = 1;
    const char *names[] = {"k-means++ (pool 8192)", "k-means||"};
    int ranks;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    for (int m = 0; m < 2; m++) {
        p.seeding = m ? DG_SEEDING_KMEANS_PAR : DG_SEEDING_KMEANSPP;
        MPI_Barrier(MPI_COMM_WORLD);
        ok &= train_totals(&ds, MPI_COMM_WORLD, &p, cent, &st, &tot, &err) == DG_OK;
        if (dgt_world_rank() == 0)
            printf("timing: N=%d D=%d K=%d, %d ranks: seeding %s %.2fs, one Lloyd iteration %.2fs\n", N, D, K,
                   ranks, names[m], tot.seeding_seconds, st.seconds);
    }
    free(cent);
    dataset_free(&ds);
    assert_true(dgt_all_ranks(ok));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nearest_matches_naive_reference_with_ties),
        cmocka_unit_test(nearest_matches_naive_reference_with_many_centroids),
        cmocka_unit_test(nearest_does_not_depend_on_blocking),
        cmocka_unit_test(nearest_rejects_bad_arguments),
        cmocka_unit_test(kmeans_finds_well_separated_blobs),
        cmocka_unit_test(kmeans_fills_stats_per_iteration),
        cmocka_unit_test(centroids_equal_for_1_2_4_ranks),
        cmocka_unit_test(directionless_cluster_is_reseeded_with_worst_point),
        cmocka_unit_test(duplicates_with_k_near_distinct_count),
        cmocka_unit_test(too_few_points_or_distinct_vectors_fail_clearly),
        cmocka_unit_test(kmeans_par_centroids_equal_for_1_2_4_ranks),
        cmocka_unit_test(kmeans_par_seeds_are_data_points_and_compete_with_kmeanspp),
        cmocka_unit_test(kmeans_par_too_few_distinct_vectors_fails_clearly),
        cmocka_unit_test(two_level_equals_flat_with_all_groups_and_naive_rule_with_fewer),
        cmocka_unit_test(two_level_edge_cases),
        cmocka_unit_test(timing_of_seeding_and_assignment),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
