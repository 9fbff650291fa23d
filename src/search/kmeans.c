/* kmeans.c - the [cluster] stage: distributed spherical k-means and the
 * nearest-centroid search that the exchange stage reuses.
 *
 * Training sees only a hashed sample of the usable items (membership depends
 * on (seed, global id) alone).  Seeding (kmeans_seed.c: k-means++ over a
 * pool of the sample, or k-means||) uses integer coordinates and is spread
 * over the ranks, so the seeds are exact whatever the CPU; Lloyd iterations sum each rank's
 * assignments in int64 fixed point before one MPI_Allreduce, so every rank
 * count produces bit-identical centroids.  This module does not decide K or
 * the sample size (the config does) and does not move items between ranks
 * (exchange.c does).
 */
#include "search/kmeans.h"

#include "search/bf16_block.h"
#include "search/kmeans_seed.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIX_SCALE 16777216.0 /* 2^24: fixed point of coordinate sums and similarities */
#define UNIT_TOLERANCE 1e-3  /* |norm^2 - 1| accepted for a training vector */
#define BLOCK_ROWS 512
#define BLOCK_FLOATS (1 << 22) /* similarity block bound: 16 MiB */
#define SCAN_CHUNK 64

void dg_kmeans_params_default(dg_kmeans_params *p)
{
    p->k = 1024;
    p->iterations = 20;
    p->sample = 64 * 1024;
    p->seed = 1;
    p->seeding = DG_SEEDING_KMEANSPP;
    p->bfloat16 = 0;
}

/* ---- nearest centroids ------------------------------------------------ */

/* Inserts (s, j) into the best *n of m kept in (s desc, j asc) order.
 * Callers scan j ascending, so an equal similarity never displaces a lower
 * index. */
static void best_insert(double *ds, int32_t *dj, int *n, int m, double s, int32_t j)
{
    if (*n == m && !(s > ds[m - 1]))
        return;
    int pos = *n < m ? (*n)++ : m - 1;
    while (pos > 0 && s > ds[pos - 1]) {
        ds[pos] = ds[pos - 1];
        dj[pos] = dj[pos - 1];
        pos--;
    }
    ds[pos] = s;
    dj[pos] = j;
}

/* The c best entries of one row of k similarities.  Chunks with no entry
 * above the current c-th best are skipped by a branch-free count. */
static void row_candidates(const float *s, int64_t k, int c, double *cs, int32_t *cj)
{
    int n = 0;
    int64_t j = 0;
    for (; j < c; j++)
        best_insert(cs, cj, &n, c, s[j], (int32_t)j);
    for (; j < k; j += SCAN_CHUNK) {
        int64_t end = j + SCAN_CHUNK < k ? j + SCAN_CHUNK : k;
        float worst = (float)cs[c - 1];
        int above = 0;
        for (int64_t t = j; t < end; t++)
            above += s[t] > worst;
        if (!above)
            continue;
        for (int64_t t = j; t < end; t++)
            best_insert(cs, cj, &n, c, s[t], (int32_t)t);
    }
}

double dg_dot_double(const float *a, const float *b, int d)
{
    double p[4] = {0.0, 0.0, 0.0, 0.0};
    int j = 0;
    for (; j + 4 <= d; j += 4)
        for (int t = 0; t < 4; t++)
            p[t] += (double)a[j + t] * (double)b[j + t];
    for (; j < d; j++)
        p[0] += (double)a[j] * (double)b[j];
    return (p[0] + p[1]) + (p[2] + p[3]);
}

/* Every centroid whose block similarity is at or above `band` re-scored in
 * double; the best m written to idx (and sim) in (similarity desc, index
 * asc) order. */
static void rescore_band(const float *row, int64_t k, float band, const float *x, int d, const float *centroids,
                         int m, double *ds, int32_t *dj, int32_t *idx, float *sim)
{
    int n = 0;
    for (int64_t j = 0; j < k; j += SCAN_CHUNK) {
        int64_t end = j + SCAN_CHUNK < k ? j + SCAN_CHUNK : k;
        int above = 0;
        for (int64_t t = j; t < end; t++)
            above += row[t] >= band;
        if (!above)
            continue;
        for (int64_t t = j; t < end; t++)
            if (row[t] >= band)
                best_insert(ds, dj, &n, m, dg_dot_double(x, centroids + (size_t)t * (size_t)d, d), (int32_t)t);
    }
    for (int r = 0; r < m; r++) {
        idx[r] = dj[r];
        if (sim)
            sim[r] = (float)ds[r];
    }
}

static int nearest_check(int64_t n, int d, int64_t k, int m, dg_err *err)
{
    if (n < 0 || d <= 0)
        return dg_fail(err, "nearest centroids: bad input of %lld rows x %d dims", (long long)n, d);
    if (k <= 0 || k > INT_MAX)
        return dg_fail(err, "nearest centroids: bad number of centroids %lld", (long long)k);
    if (m <= 0 || m > k)
        return dg_fail(err, "nearest centroids: asked for %d nearest of %lld centroids (need 1 <= m <= k)",
                       m, (long long)k);
    return DG_OK;
}

/* The block similarities of rows [r0, r0 + nr) of x against all k
 * centroids, ld floats per row. */
static void nearest_block(const float *xb, int64_t nr, int d, const float *centroids, int64_t k,
                          const uint32_t *packed_centroids, uint32_t *packed_rows, float *block, int64_t ld)
{
    if (packed_centroids) {
        dg_bf16_pack_rows(xb, nr, d, packed_rows);
        dg_bf16_block(packed_rows, nr, packed_centroids, k, d, block, ld);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)k, d, 1.0f, xb, d, centroids, d, 0.0f, block,
                (int)ld);
}

int dg_nearest_centroids(const float *x, int64_t n, int d, const float *centroids, int64_t k, int m, int bfloat16,
                         int32_t *idx, float *sim, dg_err *err)
{
    if (nearest_check(n, d, k, m, err) != DG_OK)
        return DG_FAIL;
    if (bfloat16 && !dg_bf16_available())
        return dg_failc(err, DG_E_CONFIG, "bfloat16 nearest centroids asked for on a CPU without AVX512-BF16");
    if (n == 0)
        return DG_OK;
    /* |block similarity - exact| <= eps for unit vectors, so the exact m
     * best are among those within 2 eps of the block's m-th best */
    float eps = dg_block_margin(d, bfloat16);
    int64_t rows = BLOCK_FLOATS / k;
    rows = rows < DG_BF16_MR ? DG_BF16_MR : rows > BLOCK_ROWS ? BLOCK_ROWS : rows;
    int64_t ld = bfloat16 ? dg_bf16_cols(k) : k, block_rows = bfloat16 ? dg_bf16_rows(rows) : rows;
    float *block = dg_alloc((size_t)block_rows * (size_t)ld, sizeof(float), err);
    uint32_t *packed_centroids = NULL, *packed_rows = NULL;
    if (bfloat16) {
        packed_centroids = dg_alloc((size_t)ld * (size_t)dg_bf16_words(d), sizeof *packed_centroids, err);
        packed_rows = dg_alloc((size_t)block_rows * (size_t)dg_bf16_words(d), sizeof *packed_rows, err);
        if (packed_centroids)
            dg_bf16_pack_cols(centroids, k, d, packed_centroids);
    }
    double *cs = dg_alloc((size_t)m, sizeof(double), err);
    int32_t *cj = dg_alloc((size_t)m, sizeof(int32_t), err);
    double *ds = dg_alloc((size_t)m, sizeof(double), err);
    int32_t *dj = dg_alloc((size_t)m, sizeof(int32_t), err);
    int rc = block && cs && cj && ds && dj && (!bfloat16 || (packed_centroids && packed_rows)) ? DG_OK : DG_FAIL;
    for (int64_t r0 = 0; rc == DG_OK && r0 < n; r0 += rows) {
        int64_t nr = n - r0 < rows ? n - r0 : rows;
        const float *xb = x + (size_t)r0 * (size_t)d;
        nearest_block(xb, nr, d, centroids, k, packed_centroids, packed_rows, block, ld);
        for (int64_t i = 0; i < nr; i++) {
            size_t out = (size_t)(r0 + i) * (size_t)m;
            const float *row = block + (size_t)i * (size_t)ld;
            row_candidates(row, k, m, cs, cj);
            rescore_band(row, k, (float)cs[m - 1] - 2 * eps, xb + (size_t)i * (size_t)d, d, centroids, m, ds, dj,
                         idx + out, sim ? sim + out : NULL);
        }
    }
    free(block);
    free(packed_centroids);
    free(packed_rows);
    free(cs);
    free(cj);
    free(ds);
    free(dj);
    return rc;
}

/* ---- the training sample --------------------------------------------- */

static void sample_free(dg_sample *s)
{
    free(s->id);
    free(s->hash);
    free(s->vec);
    free(s->fix);
    memset(s, 0, sizeof *s);
}

static uint64_t item_hash(uint64_t seed, int64_t g)
{
    return dg_mix64(seed ^ dg_mix64((uint64_t)g));
}

static int in_sample(const dg_items *items, const dg_kmeans_params *p, int64_t i)
{
    if (!dg_status_usable(items->status[i]))
        return 0;
    if (p->sample >= items->n_total)
        return 1;
    double frac = (double)p->sample / (double)items->n_total;
    return dg_unit(item_hash(p->seed, items->lo + i)) < frac;
}

/* Copies one sample point, refusing vectors that are not unit length (the
 * integer bounds of seeding and fixed-point sums rely on it). */
static int sample_put(dg_sample *s, const dg_items *items, uint64_t seed, int64_t i, int64_t at,
                      dg_err *err)
{
    int d = items->d;
    const float *v = items->vec + (size_t)i * (size_t)d;
    double ss = 0.0;
    for (int j = 0; j < d; j++)
        ss += (double)v[j] * v[j];
    if (!(fabs(ss - 1.0) <= UNIT_TOLERANCE))
        return dg_fail(err, "k-means: item %lld is not unit length (norm^2 = %g)",
                       (long long)(items->lo + i), ss);
    s->id[at] = items->lo + i;
    s->hash[at] = item_hash(seed, items->lo + i);
    memcpy(s->vec + (size_t)at * (size_t)d, v, sizeof(float) * (size_t)d);
    for (int j = 0; j < d; j++)
        s->fix[(size_t)at * (size_t)d + (size_t)j] = (int32_t)llrint(v[j] * FIX_SCALE);
    return DG_OK;
}

/* This rank's sample points (local, no MPI). */
static int sample_build(const dg_items *items, const dg_kmeans_params *p, dg_sample *s, dg_err *err)
{
    memset(s, 0, sizeof *s);
    s->d = items->d;
    for (int64_t i = 0; i < items->n; i++)
        s->n += in_sample(items, p, i);
    size_t cells = (size_t)s->n * (size_t)s->d;
    s->id = dg_alloc((size_t)s->n, sizeof(int64_t), err);
    s->hash = dg_alloc((size_t)s->n, sizeof(uint64_t), err);
    s->vec = dg_alloc(cells, sizeof(float), err);
    s->fix = dg_alloc(cells, sizeof(int32_t), err);
    if (!s->id || !s->hash || !s->vec || !s->fix)
        return DG_FAIL;
    int64_t at = 0;
    for (int64_t i = 0; i < items->n; i++)
        if (in_sample(items, p, i) && sample_put(s, items, p->seed, i, at++, err) != DG_OK)
            return DG_FAIL;
    return DG_OK;
}

/* ---- Lloyd iterations ------------------------------------------------ */

typedef struct lloyd_work {
    int32_t *idx;   /* sample n: assigned centroid */
    float *sim;     /* sample n: similarity to it */
    int64_t *acc;   /* k*d sums, k counts, 1 objective (fixed point) */
    int64_t *empty; /* k: clusters to re-seed */
} lloyd_work;

static void work_free(lloyd_work *w)
{
    free(w->idx);
    free(w->sim);
    free(w->acc);
    free(w->empty);
}

static int work_alloc(const dg_sample *s, int64_t k, lloyd_work *w, dg_err *err)
{
    memset(w, 0, sizeof *w);
    w->idx = dg_alloc((size_t)s->n, sizeof(int32_t), err);
    w->sim = dg_alloc((size_t)s->n, sizeof(float), err);
    w->acc = dg_alloc((size_t)(k * s->d + k + 1), sizeof(int64_t), err);
    w->empty = dg_alloc((size_t)k, sizeof(int64_t), err);
    return w->idx && w->sim && w->acc && w->empty ? DG_OK : DG_FAIL;
}

static void accumulate(const dg_sample *s, int64_t k, const lloyd_work *w)
{
    int d = s->d;
    int64_t *count = w->acc + (size_t)k * (size_t)d, *objective = count + k;
    memset(w->acc, 0, sizeof(int64_t) * (size_t)(k * d + k + 1));
    for (int64_t i = 0; i < s->n; i++) {
        int64_t *sum = w->acc + (size_t)w->idx[i] * (size_t)d;
        const int32_t *x = s->fix + (size_t)i * (size_t)d;
        for (int j = 0; j < d; j++)
            sum[j] += x[j];
        count[w->idx[i]]++;
        *objective += llrint(w->sim[i] * FIX_SCALE);
    }
}

/* New centroids from the global sums; returns the clusters that have no
 * direction (no points, or sums cancelling to zero) in w->empty. */
static int64_t update_centroids(const lloyd_work *w, int64_t k, int d, float *centroids)
{
    const int64_t *count = w->acc + (size_t)k * (size_t)d;
    int64_t e = 0;
    for (int64_t c = 0; c < k; c++) {
        const int64_t *sum = w->acc + (size_t)c * (size_t)d;
        double ss = 0.0;
        for (int j = 0; j < d; j++)
            ss += (double)sum[j] * (double)sum[j];
        if (count[c] == 0 || ss == 0.0) {
            w->empty[e++] = c;
            continue;
        }
        double inv = 1.0 / sqrt(ss);
        for (int j = 0; j < d; j++)
            centroids[(size_t)c * (size_t)d + (size_t)j] = (float)((double)sum[j] * inv);
    }
    return e;
}

typedef struct worst_entry {
    float sim;
    int64_t id;
    int64_t at; /* position in the local sample or the gathered set */
} worst_entry;

static int worst_cmp(const void *a, const void *b)
{
    const worst_entry *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim < y->sim ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* This rank's e worst-served sample points, by (similarity asc, id asc). */
static int local_worst(const dg_sample *s, const float *sim, int64_t e, worst_entry **out, int *n_out,
                       dg_err *err)
{
    worst_entry *w = dg_alloc((size_t)s->n, sizeof *w, err);
    if (!w)
        return DG_FAIL;
    for (int64_t i = 0; i < s->n; i++)
        w[i] = (worst_entry){sim[i], s->id[i], i};
    qsort(w, (size_t)s->n, sizeof *w, worst_cmp);
    *out = w;
    *n_out = (int)(e < s->n ? e : s->n);
    return DG_OK;
}

/* Every rank's proposals (sim, id, vector) on every rank. */
typedef struct proposals {
    float *sim;
    int64_t *id;
    float *vec;
    int total;
} proposals;

static void proposals_free(proposals *pr)
{
    free(pr->sim);
    free(pr->id);
    free(pr->vec);
}

static int allgather_layout(const dg_ctx *ctx, int mine, int **count, int **displ, int *total,
                            dg_err *err)
{
    *count = dg_alloc((size_t)ctx->size, sizeof(int), err);
    *displ = dg_alloc((size_t)ctx->size, sizeof(int), err);
    if (dg_agree(ctx, *count && *displ ? DG_OK : DG_FAIL, err) != DG_OK)
        return DG_FAIL;
    MPI_Allgather(&mine, 1, MPI_INT, *count, 1, MPI_INT, ctx->comm);
    *total = 0;
    for (int r = 0; r < ctx->size; r++) {
        (*displ)[r] = *total;
        *total += (*count)[r];
    }
    return DG_OK;
}

static int exchange_proposals(const dg_ctx *ctx, const dg_sample *s, const worst_entry *mine, int n,
                              proposals *pr, dg_err *err)
{
    int d = s->d, *count = NULL, *displ = NULL;
    float *sim = dg_alloc((size_t)n, sizeof(float), err);
    int64_t *id = dg_alloc((size_t)n, sizeof(int64_t), err);
    float *vec = dg_alloc((size_t)n * (size_t)d, sizeof(float), err);
    int rc = dg_agree(ctx, sim && id && vec ? DG_OK : DG_FAIL, err);
    if (rc == DG_OK)
        rc = allgather_layout(ctx, n, &count, &displ, &pr->total, err);
    if (rc == DG_OK) {
        pr->sim = dg_alloc((size_t)pr->total, sizeof(float), err);
        pr->id = dg_alloc((size_t)pr->total, sizeof(int64_t), err);
        pr->vec = dg_alloc((size_t)pr->total * (size_t)d, sizeof(float), err);
        rc = dg_agree(ctx, pr->sim && pr->id && pr->vec ? DG_OK : DG_FAIL, err);
    }
    if (rc == DG_OK) {
        for (int i = 0; i < n; i++) {
            sim[i] = mine[i].sim;
            id[i] = mine[i].id;
            memcpy(vec + (size_t)i * (size_t)d, s->vec + (size_t)mine[i].at * (size_t)d,
                   sizeof(float) * (size_t)d);
        }
        MPI_Allgatherv(sim, n, MPI_FLOAT, pr->sim, count, displ, MPI_FLOAT, ctx->comm);
        MPI_Allgatherv(id, n, MPI_INT64_T, pr->id, count, displ, MPI_INT64_T, ctx->comm);
        for (int r = 0; r < ctx->size; r++) {
            count[r] *= d;
            displ[r] *= d;
        }
        MPI_Allgatherv(vec, n * d, MPI_FLOAT, pr->vec, count, displ, MPI_FLOAT, ctx->comm);
    }
    free(count);
    free(displ);
    free(sim);
    free(id);
    free(vec);
    return rc;
}

/* Gives each of the e directionless clusters (ascending index) one of the e
 * sample points worst served by their centroid, chosen identically on every
 * rank by (similarity asc, global id asc).  Collective. */
static int reseed(const dg_ctx *ctx, const dg_sample *s, const lloyd_work *w, int64_t e, float *centroids,
                  dg_err *err)
{
    worst_entry *mine = NULL, *all = NULL;
    proposals pr;
    memset(&pr, 0, sizeof pr);
    int n = 0;
    int rc = dg_agree(ctx, local_worst(s, w->sim, e, &mine, &n, err), err);
    if (rc == DG_OK)
        rc = exchange_proposals(ctx, s, mine, n, &pr, err);
    if (rc == DG_OK) {
        all = dg_alloc((size_t)pr.total, sizeof *all, err);
        rc = dg_agree(ctx, all ? DG_OK : DG_FAIL, err);
    }
    if (rc == DG_OK) {
        for (int i = 0; i < pr.total; i++)
            all[i] = (worst_entry){pr.sim[i], pr.id[i], i};
        qsort(all, (size_t)pr.total, sizeof *all, worst_cmp);
        for (int64_t t = 0; t < e; t++)
            memcpy(centroids + (size_t)w->empty[t] * (size_t)s->d,
                   pr.vec + (size_t)all[t].at * (size_t)s->d, sizeof(float) * (size_t)s->d);
    }
    free(mine);
    free(all);
    proposals_free(&pr);
    return rc;
}

static double imbalance(const int64_t *count, int64_t k)
{
    double sum = 0.0, sq = 0.0;
    for (int64_t c = 0; c < k; c++) {
        sum += (double)count[c];
        sq += (double)count[c] * (double)count[c];
    }
    return sum > 0 ? (double)k * sq / (sum * sum) : 0.0;
}

/* One assignment + update.  Collective. */
static int lloyd_step(const dg_ctx *ctx, const dg_sample *s, int64_t k, int bfloat16, float *centroids, lloyd_work *w,
                      dg_kmeans_stats *st, dg_err *err)
{
    double t0 = dg_now();
    int d = s->d;
    int rc = dg_nearest_centroids(s->vec, s->n, d, centroids, k, 1, bfloat16, w->idx, w->sim, err);
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    accumulate(s, k, w);
    MPI_Allreduce(MPI_IN_PLACE, w->acc, (int)(k * d + k + 1), MPI_INT64_T, MPI_SUM, ctx->comm);
    int64_t e = update_centroids(w, k, d, centroids);
    if (e > 0 && reseed(ctx, s, w, e, centroids, err) != DG_OK)
        return DG_FAIL;
    st->objective = (double)w->acc[k * d + k] / FIX_SCALE / (double)s->total;
    st->imbalance = imbalance(w->acc + (size_t)k * (size_t)d, k);
    st->reseeded = e;
    st->seconds = dg_now() - t0;
    return DG_OK;
}

/* ---- training ---------------------------------------------------------- */

static int train_check(const dg_items *items, const dg_kmeans_params *p, dg_err *err)
{
    if (p->k <= 0 || p->k > INT32_MAX)
        return dg_fail(err, "k-means: bad K=%lld", (long long)p->k);
    if (p->iterations < 0)
        return dg_fail(err, "k-means: bad number of iterations %d", p->iterations);
    if (p->sample <= 0)
        return dg_fail(err, "k-means: bad sample size %lld", (long long)p->sample);
    if (items->d <= 0 || p->k * (items->d + 1) + 1 > INT_MAX)
        return dg_fail(err, "k-means: K=%lld x D=%d centroids are too many", (long long)p->k,
                       items->d);
    return DG_OK;
}

static int train_sample(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p,
                        float *centroids, dg_kmeans_stats *stats, dg_kmeans_totals *tot, dg_err *err)
{
    if (s->total < p->k)
        return dg_fail(err, "k-means: the training sample has %lld usable points, fewer than K=%lld",
                       (long long)s->total, (long long)p->k);
    double t0 = dg_now();
    if (dg_kmeans_seed(ctx, s, p, centroids, err) != DG_OK)
        return DG_FAIL;
    double t_seed = dg_now() - t0;
    lloyd_work w;
    int rc = dg_agree(ctx, work_alloc(s, p->k, &w, err), err);
    dg_kmeans_stats st = {0};
    for (int it = 0; rc == DG_OK && it < p->iterations; it++) {
        rc = lloyd_step(ctx, s, p->k, p->bfloat16, centroids, &w, &st, err);
        if (stats)
            stats[it] = st;
    }
    work_free(&w);
    if (rc != DG_OK)
        return rc;
    *tot = (dg_kmeans_totals){s->total, p->iterations, t_seed, dg_now() - t0 - t_seed, st.objective, st.imbalance};
    dg_log(ctx, "k-means: K=%lld D=%d sample=%lld, seeding %.2fs, %d iterations %.2fs, objective %.6f, "
                "imbalance %.3f", (long long)p->k, s->d, (long long)tot->sample, tot->seeding_seconds,
           tot->iterations, tot->lloyd_seconds, tot->objective, tot->imbalance);
    return DG_OK;
}

int dg_kmeans_train(const dg_ctx *ctx, const dg_items *items, const dg_kmeans_params *p,
                    float *centroids, dg_kmeans_stats *stats, dg_kmeans_totals *totals, dg_err *err)
{
    if (train_check(items, p, err) != DG_OK)
        return DG_FAIL;
    dg_sample s;
    dg_kmeans_totals own;
    int rc = dg_agree(ctx, sample_build(items, p, &s, err), err);
    if (rc == DG_OK) {
        s.total = s.n;
        MPI_Allreduce(MPI_IN_PLACE, &s.total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
        rc = train_sample(ctx, &s, p, centroids, stats, totals ? totals : &own, err);
    }
    sample_free(&s);
    return rc;
}
