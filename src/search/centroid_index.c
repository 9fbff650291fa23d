/* centroid_index.c - two-level nearest-centroid search (centroid_index.h). */
#include "search/centroid_index.h"
#include "search/kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_ROWS 1024 /* rows per coarse search block */

int64_t dg_centroid_index_groups(int64_t k)
{
    int64_t kc = llround(sqrt((double)k));
    return kc < 1 ? 1 : kc > k ? k : kc;
}

void dg_centroid_index_free(dg_centroid_index *ix)
{
    free(ix->coarse);
    free(ix->start);
    free(ix->member);
    memset(ix, 0, sizeof *ix);
}

/* New coarse centroids: the normalised sum of their members (double, index
 * order); a group without members or direction keeps its centroid. */
static void coarse_update(const float *centroids, int64_t k, int d, const int32_t *group, int64_t kc, double *sum,
                          float *coarse)
{
    memset(sum, 0, sizeof(double) * (size_t)kc * (size_t)d);
    for (int64_t j = 0; j < k; j++)
        for (int t = 0; t < d; t++)
            sum[(size_t)group[j] * (size_t)d + (size_t)t] += centroids[(size_t)j * (size_t)d + (size_t)t];
    for (int64_t g = 0; g < kc; g++) {
        const double *s = sum + (size_t)g * (size_t)d;
        double ss = 0.0;
        for (int t = 0; t < d; t++)
            ss += s[t] * s[t];
        if (ss == 0.0)
            continue;
        double inv = 1.0 / sqrt(ss);
        for (int t = 0; t < d; t++)
            coarse[(size_t)g * (size_t)d + (size_t)t] = (float)(s[t] * inv);
    }
}

/* The groups as lists of members, empty groups dropped. */
static int index_lists(const int32_t *group, int64_t k, int d, int64_t kc, float *coarse, dg_centroid_index *ix,
                       dg_err *err)
{
    int64_t *count = dg_calloc((size_t)kc, sizeof(int64_t), err);
    ix->start = dg_alloc((size_t)kc + 1, sizeof(int64_t), err);
    ix->member = dg_alloc((size_t)k, sizeof(int32_t), err);
    int64_t *renum = dg_alloc((size_t)kc, sizeof(int64_t), err);
    if (!count || !ix->start || !ix->member || !renum) {
        free(count);
        free(renum);
        return DG_FAIL;
    }
    for (int64_t j = 0; j < k; j++)
        count[group[j]]++;
    int64_t g2 = 0;
    ix->start[0] = 0;
    for (int64_t g = 0; g < kc; g++) {
        if (!count[g])
            continue;
        renum[g] = g2;
        memmove(coarse + (size_t)g2 * (size_t)d, coarse + (size_t)g * (size_t)d, sizeof(float) * (size_t)d);
        ix->start[g2 + 1] = ix->start[g2] + count[g];
        g2++;
    }
    ix->kc = g2;
    int64_t *fill = count; /* reused: next free slot of each kept group */
    for (int64_t g = 0; g < g2; g++)
        fill[g] = ix->start[g];
    for (int64_t j = 0; j < k; j++)
        ix->member[fill[renum[group[j]]]++] = (int32_t)j;
    free(count);
    free(renum);
    return DG_OK;
}

int dg_centroid_index_build(const float *centroids, int64_t k, int d, int64_t kc, int iterations,
                            dg_centroid_index *ix, dg_err *err)
{
    memset(ix, 0, sizeof *ix);
    if (k <= 0 || d <= 0 || kc <= 0 || kc > k || iterations < 0)
        return dg_fail(err, "centroid index: bad sizes K=%lld, D=%d, K_c=%lld", (long long)k, d, (long long)kc);
    ix->k = k;
    ix->d = d;
    ix->coarse = dg_alloc((size_t)kc * (size_t)d, sizeof(float), err);
    int32_t *group = dg_alloc((size_t)k, sizeof(int32_t), err);
    double *sum = dg_alloc((size_t)kc * (size_t)d, sizeof(double), err);
    int rc = ix->coarse && group && sum ? DG_OK : DG_FAIL;
    if (rc == DG_OK)
        for (int64_t g = 0; g < kc; g++) /* strided: spread over the centroids' order */
            memcpy(ix->coarse + (size_t)g * (size_t)d, centroids + (size_t)(g * k / kc) * (size_t)d,
                   sizeof(float) * (size_t)d);
    for (int it = 0; rc == DG_OK && it <= iterations; it++) {
        rc = dg_nearest_centroids(centroids, k, d, ix->coarse, kc, 1, 0, group, NULL, err);
        if (rc == DG_OK && it < iterations)
            coarse_update(centroids, k, d, group, kc, sum, ix->coarse);
    }
    if (rc == DG_OK)
        rc = index_lists(group, k, d, kc, ix->coarse, ix, err);
    free(group);
    free(sum);
    if (rc != DG_OK)
        dg_centroid_index_free(ix);
    return rc;
}

/* Inserts (s, j) into the n best of at most m, kept by (s desc, j asc). */
static void best_insert(double *bs, int32_t *bj, int *n, int m, double s, int32_t j)
{
    if (*n == m && (s < bs[m - 1] || (s == bs[m - 1] && j > bj[m - 1])))
        return;
    int pos = *n < m ? (*n)++ : m - 1;
    while (pos > 0 && (s > bs[pos - 1] || (s == bs[pos - 1] && j < bj[pos - 1]))) {
        bs[pos] = bs[pos - 1];
        bj[pos] = bj[pos - 1];
        pos--;
    }
    bs[pos] = s;
    bj[pos] = j;
}

/* One row: the members of its groups in coarse order (cg, mc of them). */
static void row_search(const dg_centroid_index *ix, const float *centroids, const float *x, const int32_t *cg, int mc,
                       int probes, int m, double *bs, int32_t *bj, int32_t *idx, float *sim)
{
    int n = 0;
    int64_t seen = 0;
    for (int r = 0; r < mc && (r < probes || seen < m); r++) {
        int32_t g = cg[r];
        for (int64_t t = ix->start[g]; t < ix->start[g + 1]; t++) {
            int32_t j = ix->member[t];
            best_insert(bs, bj, &n, m, dg_dot_double(x, centroids + (size_t)j * (size_t)ix->d, ix->d), j);
        }
        seen += ix->start[g + 1] - ix->start[g];
    }
    for (int r = 0; r < m; r++) {
        idx[r] = bj[r];
        if (sim)
            sim[r] = (float)bs[r];
    }
}

int dg_nearest_centroids_two_level(const dg_centroid_index *ix, const float *centroids, const float *x,
                                   int64_t n, int probes, int m, int32_t *idx, float *sim, dg_err *err)
{
    if (m <= 0 || m > ix->k || probes <= 0)
        return dg_fail(err, "two-level search: asked for %d nearest of %lld centroids with %d coarse probes", m,
                       (long long)ix->k, probes);
    /* enough groups to hold m centroids (each group holds at least one) */
    int64_t want = probes > m ? probes : m;
    int mc = (int)(want < ix->kc ? want : ix->kc);
    int64_t rows = n < SEARCH_ROWS ? n : SEARCH_ROWS;
    int32_t *cg = dg_alloc((size_t)rows * (size_t)mc, sizeof(int32_t), err);
    double *bs = dg_alloc((size_t)m, sizeof(double), err);
    int32_t *bj = dg_alloc((size_t)m, sizeof(int32_t), err);
    int rc = cg && bs && bj ? DG_OK : DG_FAIL;
    for (int64_t r0 = 0; rc == DG_OK && r0 < n; r0 += rows) {
        int64_t nr = n - r0 < rows ? n - r0 : rows;
        const float *xb = x + (size_t)r0 * (size_t)ix->d;
        rc = dg_nearest_centroids(xb, nr, ix->d, ix->coarse, ix->kc, mc, 0, cg, NULL, err);
        for (int64_t i = 0; rc == DG_OK && i < nr; i++) {
            size_t out = (size_t)(r0 + i) * (size_t)m;
            row_search(ix, centroids, xb + (size_t)i * (size_t)ix->d, cg + (size_t)i * (size_t)mc, mc, probes, m,
                       bs, bj, idx + out, sim ? sim + out : NULL);
        }
    }
    free(cg);
    free(bs);
    free(bj);
    return rc;
}
