/* filter.c - the content filter (class probabilities -> score -> status
 * filtered) and the re-weighting of the kept items by a distributed
 * logistic regression of "kept" on the embedding (see filter.h).  The
 * network that produces the probabilities is mobilenet.c; the job driver
 * strings the stages together. */
#include "input/filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Sums over items are taken in this fixed point so that they are exact and
 * independent of how the items are split over ranks. */
#define FIX_SCALE 4294967296.0 /* 2^32 */

static int64_t fix(double v)
{
    return (int64_t)llrint(v * FIX_SCALE);
}

int dg_filter_class_mask(const char *text, char names[][32], int n_names, unsigned *mask, dg_err *err)
{
    *mask = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *s = p;
        while (len && (*s == ' ' || *s == '\t'))
            s++, len--;
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        int k = 0;
        while (k < n_names && !(strlen(names[k]) == len && strncasecmp(names[k], s, len) == 0))
            k++;
        if (len == 0 || k == n_names)
            return dg_fail(err, "filter.classes = '%s': '%.*s' is not a class of the network's head", text, (int)len,
                           s);
        *mask |= 1u << k;
        p += strcspn(p, ",");
        p += *p == ',';
    }
    return *mask ? DG_OK : dg_fail(err, "filter.classes is empty");
}

int64_t dg_filter_apply(const float *probs, int n_classes, unsigned mask, float cut, int64_t n, int8_t *status,
                        float *score, int8_t *filtered)
{
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) {
        filtered[i] = 0;
        if (!dg_status_usable(status[i])) {
            score[i] = NAN;
            continue;
        }
        double s = 0.0;
        for (int k = 0; k < n_classes; k++)
            if (mask & (1u << k))
                s += probs[i * n_classes + k];
        score[i] = (float)s;
        if (score[i] >= cut) {
            status[i] = DG_ST_FILTERED;
            filtered[i] = 1;
            count++;
        }
    }
    return count;
}

/* ---- re-weighting --------------------------------------------------------- */

typedef struct lr_problem {
    const dg_ctx *ctx;
    const float *x;
    int64_t n;
    int d;
    const int8_t *usable, *kept;
    double n_fit, l2;
    int64_t *acc; /* d + 2 fixed-point sums: gradient, bias gradient, loss */
    int64_t *sum;
} lr_problem;

static double sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* The row's logit; the order of the sum is fixed, so it depends on the row
 * and the model alone. */
static double logit(const float *row, const double *w, int d)
{
    double z = w[d];
    for (int j = 0; j < d; j++)
        z += w[j] * row[j];
    return z;
}

/* grad (d + 1) of the mean loss + l2/2 |w|^2 at w; returns that objective. */
static double lr_gradient(lr_problem *pb, const double *w, double *grad)
{
    int d = pb->d;
    memset(pb->acc, 0, sizeof(int64_t) * (size_t)(d + 2));
    for (int64_t i = 0; i < pb->n; i++) {
        if (!pb->usable[i])
            continue;
        const float *row = pb->x + (size_t)i * d;
        double p = sigmoid(logit(row, w, d)), r = p - (pb->kept[i] ? 1.0 : 0.0);
        for (int j = 0; j < d; j++)
            pb->acc[j] += fix(r * row[j]);
        pb->acc[d] += fix(r);
        double q = pb->kept[i] ? p : 1.0 - p;
        pb->acc[d + 1] += fix(-log(q > 1e-15 ? q : 1e-15) / 64.0);
    }
    MPI_Allreduce(pb->acc, pb->sum, d + 2, MPI_INT64_T, MPI_SUM, pb->ctx->comm);
    double penalty = 0.0;
    for (int j = 0; j <= d; j++) {
        grad[j] = (double)pb->sum[j] / FIX_SCALE / pb->n_fit + (j < d ? pb->l2 * w[j] : 0.0);
        penalty += j < d ? 0.5 * pb->l2 * w[j] * w[j] : 0.0;
    }
    return (double)pb->sum[d + 1] * 64.0 / FIX_SCALE / pb->n_fit + penalty;
}

/* Nesterov-accelerated gradient descent from w = 0, step 1/L. */
static int lr_fit(lr_problem *pb, int iterations, double *w, dg_reweight_stats *st, dg_err *err)
{
    int d = pb->d;
    double *prev = dg_calloc((size_t)d + 1, sizeof(double), err);
    double *y = dg_calloc((size_t)d + 1, sizeof(double), err);
    double *grad = dg_calloc((size_t)d + 1, sizeof(double), err);
    if (!prev || !y || !grad) {
        free(prev), free(y), free(grad);
        return DG_FAIL;
    }
    double step = 1.0 / (0.5 + pb->l2); /* |x| <= 1 and the bias: L <= (1 + 1) / 4 + l2 */
    for (int it = 0; it < iterations; it++) {
        double mom = (double)it / (it + 3);
        for (int j = 0; j <= d; j++)
            y[j] = w[j] + mom * (w[j] - prev[j]);
        double obj = lr_gradient(pb, y, grad);
        if (it == 0)
            st->loss_first = obj;
        st->loss_last = obj;
        memcpy(prev, w, sizeof(double) * ((size_t)d + 1));
        for (int j = 0; j <= d; j++)
            w[j] = y[j] - step * grad[j];
    }
    free(prev), free(y), free(grad);
    return DG_OK;
}

/* Raw weights min(1/p, max) of the kept rows, their fixed-point sum (each
 * scaled by 1/max to stay within [0, 1]) and the clip count. */
static void raw_weights(const lr_problem *pb, const double *w, double max_weight, float *weight, int64_t *local)
{
    for (int64_t i = 0; i < pb->n; i++) {
        weight[i] = 0.0f;
        if (!pb->usable[i] || !pb->kept[i])
            continue;
        double p = sigmoid(logit(pb->x + (size_t)i * pb->d, w, pb->d));
        double r = p > 1.0 / max_weight ? 1.0 / p : max_weight;
        local[1] += r >= max_weight;
        weight[i] = (float)r;
        local[0] += fix(r / max_weight);
    }
}

/* |mean(kept, weighted) - mean(all usable)| and the unweighted one. */
static int measure_shift(lr_problem *pb, const float *weight, double max_weight, dg_reweight_stats *st,
                         dg_err *err)
{
    int d = pb->d;
    int64_t *loc = dg_calloc((size_t)d * 3, sizeof(int64_t), err);
    int64_t *glob = dg_calloc((size_t)d * 3, sizeof(int64_t), err);
    if (!loc || !glob) {
        free(loc), free(glob);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < pb->n; i++) {
        if (!pb->usable[i])
            continue;
        const float *row = pb->x + (size_t)i * d;
        for (int j = 0; j < d; j++) {
            loc[j] += fix(row[j]);
            if (pb->kept[i]) {
                loc[d + j] += fix(row[j]);
                loc[2 * d + j] += fix(weight[i] / max_weight * row[j]);
            }
        }
    }
    MPI_Allreduce(loc, glob, 3 * d, MPI_INT64_T, MPI_SUM, pb->ctx->comm);
    double su = 0.0, sw = 0.0, nk = (double)st->n_kept;
    for (int j = 0; j < d; j++) {
        double all = glob[j] / FIX_SCALE / pb->n_fit, kept = glob[d + j] / FIX_SCALE / nk;
        double wk = glob[2 * d + j] / FIX_SCALE * max_weight / nk; /* weights have mean 1 over the kept */
        su += (kept - all) * (kept - all);
        sw += (wk - all) * (wk - all);
    }
    st->shift_unweighted = sqrt(su);
    st->shift_weighted = sqrt(sw);
    free(loc), free(glob);
    return DG_OK;
}

static void weight_range(const dg_ctx *ctx, const float *weight, const int8_t *usable, const int8_t *kept,
                         int64_t n, dg_reweight_stats *st)
{
    double lo = INFINITY, hi = 0.0;
    for (int64_t i = 0; i < n; i++)
        if (usable[i] && kept[i]) {
            lo = weight[i] < lo ? weight[i] : lo;
            hi = weight[i] > hi ? weight[i] : hi;
        }
    MPI_Allreduce(&lo, &st->min_weight, 1, MPI_DOUBLE, MPI_MIN, ctx->comm);
    MPI_Allreduce(&hi, &st->max_weight, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
}

static int count_rows(const dg_ctx *ctx, const int8_t *usable, const int8_t *kept, int64_t n,
                      dg_reweight_stats *st)
{
    int64_t local[2] = {0, 0}, global[2];
    for (int64_t i = 0; i < n; i++) {
        local[0] += usable[i] != 0;
        local[1] += usable[i] && kept[i];
    }
    MPI_Allreduce(local, global, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
    st->n_fit = global[0];
    st->n_kept = global[1];
    return st->n_kept > 0 && st->n_kept < st->n_fit;
}

static int fit_and_weigh(lr_problem *pb, const dg_reweight_params *p, float *weight, dg_reweight_stats *st,
                         dg_err *err)
{
    double *w = dg_calloc((size_t)pb->d + 1, sizeof(double), err);
    if (!w)
        return DG_FAIL;
    int rc = lr_fit(pb, p->iterations, w, st, err);
    if (rc == DG_OK) {
        int64_t local[2] = {0, 0}, global[2];
        raw_weights(pb, w, p->max_weight, weight, local);
        MPI_Allreduce(local, global, 2, MPI_INT64_T, MPI_SUM, pb->ctx->comm);
        st->n_clipped = global[1];
        double mean_raw = global[0] / FIX_SCALE * p->max_weight / (double)st->n_kept;
        for (int64_t i = 0; i < pb->n; i++)
            weight[i] = (float)(weight[i] / mean_raw);
    }
    free(w);
    return rc;
}

int dg_reweight(const dg_ctx *ctx, const float *x, int64_t n, int d, const int8_t *usable, const int8_t *kept,
                const dg_reweight_params *p, float *weight, dg_reweight_stats *st, dg_err *err)
{
    memset(st, 0, sizeof *st);
    lr_problem pb = {ctx, x, n, d, usable, kept, 0.0, p->l2, NULL, NULL};
    int shifted = count_rows(ctx, usable, kept, n, st);
    pb.n_fit = (double)st->n_fit;
    pb.acc = dg_calloc((size_t)d + 2, sizeof(int64_t), err);
    pb.sum = dg_calloc((size_t)d + 2, sizeof(int64_t), err);
    int rc = pb.acc && pb.sum ? DG_OK : DG_FAIL;
    if (dg_agree(ctx, rc, err) == DG_OK && shifted) {
        rc = fit_and_weigh(&pb, p, weight, st, err);
    } else if (rc == DG_OK) {
        for (int64_t i = 0; i < n; i++)
            weight[i] = usable[i] && kept[i] ? 1.0f : 0.0f;
    }
    if (dg_agree(ctx, rc, err) == DG_OK && st->n_kept > 0) {
        weight_range(ctx, weight, usable, kept, n, st);
        rc = measure_shift(&pb, weight, shifted ? p->max_weight : 1.0, st, err);
    }
    free(pb.acc);
    free(pb.sum);
    return dg_agree(ctx, rc, err);
}
