/* pca.c - the corpus-level projection of the image embedder: exact integer
 * moment sums of the quantised descriptors, added over ranks, the
 * eigendecomposition of their covariance on rank 0 (LAPACK dsyev), and the
 * blocked projection of every rank's descriptors with cblas_sgemm.
 *
 * Why integers: the descriptors are quantised to int16, so every product
 * is an integer below 2^30 and the sums over a chunk of CHUNK_ROWS rows stay
 * below 2^53: cblas_dsyrk computes them exactly, whatever its blocking, and
 * int64 sums are associative.  The covariance is therefore the same bits for
 * any rank count, and rank 0 alone decomposes it so that no rank can differ.
 * The projection runs on blocks of exactly PROJECT_ROWS rows aligned to
 * global ids (rows of other ranks zero), so a row always meets the same
 * sgemm call shape at the same position: OpenBLAS's result for a row does
 * depend on where in the block it sits.
 *
 * Whitening: component k is scaled by 1 / sqrt(lambda_k + eps lambda_1)
 * with eps = WHITEN_EPS + d_in / n (n usable items).  Whitening separates
 * different photographs far better (the largest similarity between
 * different photos of a dg-mkbench corpus of Debian's wallpapers, 56 photos
 * x 26 variants, fell from 0.84 to 0.62-0.69 at the same duplicate recall),
 * but it also amplifies the weakest directions, in which copies of one
 * photograph differ; the fewer items, the more of those directions are
 * estimated from copies alone, so the regulariser grows as n shrinks (as in
 * shrinkage estimators of the covariance).  On that corpus eps of about 0.1
 * to 0.25 was best; on 15 photos x 7 (tests/test_embed.c) 0.1 pushed a
 * cropped copy down to 0.72, the d_in / n term keeps it at 0.85.
 *
 * With embed.whitening = learned the covariance is first taken into the
 * space of the learned whitening W (input/whitening.h): W C W, whose
 * eigenvectors v give the rows W v, so the projection still applies to the
 * descriptor itself; eps is then the one learned with W.
 */
#include "input/pca.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input/descriptor.h"
#include "input/embed.h"
#include "input/whitening.h"

#define CHUNK_ROWS 4096
#define PROJECT_ROWS 256
#define WHITEN_EPS 0.1

/* LAPACK's symmetric eigensolver as exported by OpenBLAS (Fortran ABI with
 * hidden string lengths). */
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                   double *w, double *work, const int *lwork, int *info, size_t jobz_len,
                   size_t uplo_len);

/* n, then d sums, then d*d cross sums (upper triangle filled). */
typedef struct moments {
    int d;
    int64_t *buf;
} moments;

static int64_t *m_count(const moments *m) { return m->buf; }
static int64_t *m_sum(const moments *m) { return m->buf + 1; }
static int64_t *m_cross(const moments *m) { return m->buf + 1 + m->d; }

static size_t moments_len(int d) { return 1 + (size_t)d + (size_t)d * (size_t)d; }

/* Exact sums of this rank's usable rows. */
static int local_moments(const int16_t *q, const int8_t *status, int64_t n, moments *m, dg_err *err)
{
    int d = m->d;
    double *chunk = dg_alloc((size_t)CHUNK_ROWS * (size_t)d, sizeof(double), err);
    double *c = dg_alloc((size_t)d * (size_t)d, sizeof(double), err);
    if (!chunk || !c) {
        free(chunk);
        free(c);
        return DG_FAIL;
    }
    int rows = 0;
    for (int64_t i = 0; i <= n; i++) {
        if (i < n && dg_status_usable(status[i])) {
            const int16_t *row = q + (size_t)i * (size_t)d;
            for (int j = 0; j < d; j++) {
                chunk[(size_t)rows * (size_t)d + (size_t)j] = row[j];
                m_sum(m)[j] += row[j];
            }
            rows++;
            m_count(m)[0]++;
        }
        if (rows == CHUNK_ROWS || (i == n && rows > 0)) {
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, rows, 1.0, chunk, d, 0.0, c, d);
            for (int a = 0; a < d; a++)
                for (int b = a; b < d; b++)
                    m_cross(m)[(size_t)a * (size_t)d + (size_t)b] += (int64_t)llrint(c[(size_t)a * (size_t)d + (size_t)b]);
            rows = 0;
        }
    }
    free(chunk);
    free(c);
    return DG_OK;
}

/* Covariance (in descriptor units) from the exact sums; full symmetric. */
static void covariance(const moments *m, double *cov)
{
    int d = m->d;
    __int128 n = m_count(m)[0];
    double scale = 1.0 / ((double)n * (double)(n - 1) * (double)DG_DESC_QUANT * (double)DG_DESC_QUANT);
    for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) {
            __int128 num = n * m_cross(m)[(size_t)a * (size_t)d + (size_t)b] -
                           (__int128)m_sum(m)[a] * m_sum(m)[b];
            double v = (double)num * scale;
            cov[(size_t)a * (size_t)d + (size_t)b] = v;
            cov[(size_t)b * (size_t)d + (size_t)a] = v;
        }
}

static int eigen(double *a, double *w, int d, dg_err *err)
{
    int lwork = -1, info = 0;
    double query = 0;
    dsyev_("V", "U", &d, a, &d, w, &query, &lwork, &info, 1, 1);
    if (info != 0)
        return dg_fail(err, "dsyev workspace query failed (info %d)", info);
    lwork = (int)query;
    double *work = dg_alloc((size_t)lwork, sizeof(double), err);
    if (!work)
        return DG_FAIL;
    dsyev_("V", "U", &d, a, &d, w, work, &lwork, &info, 1, 1);
    free(work);
    if (info != 0)
        return dg_fail(err, "dsyev did not converge (info %d)", info);
    return DG_OK;
}

static int model_alloc(dg_embed_model *model, int d_in, int d, int flip, dg_err *err)
{
    model->d_in = d_in;
    model->d = d;
    model->flip = flip;
    model->mean = dg_calloc((size_t)d_in, sizeof(float), err);
    model->matrix = dg_calloc((size_t)d * (size_t)d_in, sizeof(float), err);
    model->eigenvalues = dg_calloc((size_t)d, sizeof(float), err);
    model->info[0] = DG_DESC_VERSION;
    model->info[1] = DG_DESC_SIZE;
    model->info[2] = (float)flip;
    model->info[3] = DG_DESC_QUANT;
    return model->mean && model->matrix && model->eigenvalues ? DG_OK : DG_FAIL;
}

/* Rows of the matrix: the top d eigenvectors (column-major in vecs),
 * each with its largest component positive, scaled for whitening, and
 * mapped back to descriptor space through the learned whitening w (NULL:
 * none): a component of w x is v . (w x) = (w v) . x, w symmetric. */
static void fill_projection(dg_embed_model *model, const double *vecs, const double *w, int64_t n, double eps,
                            const float *whitening)
{
    int d_in = model->d_in;
    double floor = (eps + (double)d_in / (double)n) * w[d_in - 1];
    for (int k = 0; k < model->d; k++) {
        const double *v = vecs + (size_t)(d_in - 1 - k) * (size_t)d_in;
        double lambda = fmax(w[d_in - 1 - k], 0.0);
        int arg = 0;
        for (int i = 1; i < d_in; i++)
            if (fabs(v[i]) > fabs(v[arg]))
                arg = i;
        double scale = (v[arg] < 0 ? -1.0 : 1.0) / sqrt(lambda + floor);
        float *row = model->matrix + (size_t)k * (size_t)d_in;
        for (int i = 0; i < d_in; i++) {
            double x = v[i];
            if (whitening) {
                x = 0.0;
                for (int j = 0; j < d_in; j++)
                    x += (double)whitening[(size_t)i * (size_t)d_in + (size_t)j] * v[j];
            }
            row[i] = (float)(scale * x);
        }
        model->eigenvalues[k] = (float)lambda;
    }
}

/* cov <- w cov w (w symmetric, d x d), in double. */
static int whiten_covariance(double *cov, const float *w, int d, dg_err *err)
{
    double *wd = dg_alloc((size_t)d * (size_t)d, sizeof(double), err);
    double *t = dg_alloc((size_t)d * (size_t)d, sizeof(double), err);
    if (!wd || !t) {
        free(wd);
        free(t);
        return DG_FAIL;
    }
    for (size_t i = 0; i < (size_t)d * (size_t)d; i++)
        wd[i] = w[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, wd, d, cov, d, 0.0, t, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, t, d, wd, d, 0.0, cov, d);
    free(wd);
    free(t);
    return DG_OK;
}

/* The first d descriptor coordinates, not centred (a single item would be
 * its own mean, a zero vector): for fewer than two usable items or
 * descriptors without any variance. */
static void fill_fallback(dg_embed_model *model)
{
    model->fallback = 1;
    memset(model->mean, 0, sizeof(float) * (size_t)model->d_in);
    for (int k = 0; k < model->d; k++)
        model->matrix[(size_t)k * (size_t)model->d_in + (size_t)k] = 1.0f;
}

/* Rank 0: the model from the global sums, in the learned whitening's space
 * when `learned`. */
static int fit_on_root(const moments *m, int learned, dg_embed_model *model, dg_err *err)
{
    int d_in = m->d;
    int64_t n = m_count(m)[0];
    model->n_fit = n;
    for (int i = 0; i < d_in && n > 0; i++)
        model->mean[i] = (float)((double)m_sum(m)[i] / ((double)n * DG_DESC_QUANT));
    if (n < 2) {
        fill_fallback(model);
        return DG_OK;
    }
    double *cov = dg_alloc((size_t)d_in * (size_t)d_in, sizeof(double), err);
    double *w = dg_alloc((size_t)d_in, sizeof(double), err);
    int rc = cov && w ? DG_OK : DG_FAIL;
    if (rc == DG_OK) {
        covariance(m, cov);
        if (learned)
            rc = whiten_covariance(cov, dg_whitening_matrix, d_in, err);
    }
    if (rc == DG_OK)
        rc = eigen(cov, w, d_in, err);
    if (rc == DG_OK && w[d_in - 1] > 0)
        fill_projection(model, cov, w, n, learned ? dg_whitening_eps : WHITEN_EPS,
                        learned ? dg_whitening_matrix : NULL);
    else if (rc == DG_OK)
        fill_fallback(model);
    free(cov);
    free(w);
    return rc;
}

static void bcast_model(const dg_ctx *ctx, dg_embed_model *model)
{
    int64_t head[2] = {model->n_fit, model->fallback};
    MPI_Bcast(head, 2, MPI_INT64_T, 0, ctx->comm);
    model->n_fit = head[0];
    model->fallback = (int)head[1];
    MPI_Bcast(model->mean, model->d_in, MPI_FLOAT, 0, ctx->comm);
    MPI_Bcast(model->matrix, model->d * model->d_in, MPI_FLOAT, 0, ctx->comm);
    MPI_Bcast(model->eigenvalues, model->d, MPI_FLOAT, 0, ctx->comm);
}

int dg_pca_fit(const dg_ctx *ctx, const int16_t *q, const int8_t *status, int64_t n, int d, int flip, int learned,
               dg_embed_model *model, dg_err *err)
{
    memset(model, 0, sizeof *model);
    int d_in = DG_DESC_DIM;
    if (d < 1 || d > d_in)
        return dg_fail(err, "embed.dim = %d: must be between 1 and the descriptor length %d", d, d_in);
    moments m = {d_in, dg_calloc(moments_len(d_in), sizeof(int64_t), err)};
    int rc = m.buf ? local_moments(q, status, n, &m, err) : DG_FAIL;
    if (rc == DG_OK)
        rc = model_alloc(model, d_in, d, flip, err);
    if ((rc = dg_agree(ctx, rc, err)) == DG_OK) {
        MPI_Allreduce(MPI_IN_PLACE, m.buf, (int)moments_len(d_in), MPI_INT64_T, MPI_SUM, ctx->comm);
        if (ctx->rank == 0)
            rc = fit_on_root(&m, learned, model, err);
        if ((rc = dg_agree(ctx, rc, err)) == DG_OK)
            bcast_model(ctx, model);
    }
    free(m.buf);
    if (rc != DG_OK)
        dg_embed_model_free(model);
    return rc;
}

/* One block of PROJECT_ROWS rows starting at a global id that is a multiple
 * of PROJECT_ROWS; the local rows [from, from + rows) sit at offset `at`,
 * every other row is zero.  x = dequantised rows minus the mean (zero for
 * unusable items), y = x * matrix^T. */
static void project_block(const dg_embed_model *model, const int16_t *q, const int8_t *status, int64_t from,
                          int64_t rows, int64_t at, float *x, float *y, float *vec)
{
    int d_in = model->d_in, d = model->d;
    memset(x, 0, sizeof(float) * PROJECT_ROWS * (size_t)d_in);
    for (int64_t i = from; i < from + rows; i++) {
        if (!dg_status_usable(status[i]))
            continue;
        float *row = x + (size_t)(at + i - from) * (size_t)d_in;
        for (int j = 0; j < d_in; j++)
            row[j] = (float)q[(size_t)i * (size_t)d_in + (size_t)j] * (1.0f / DG_DESC_QUANT) - model->mean[j];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, PROJECT_ROWS, d, d_in, 1.0f, x, d_in, model->matrix,
                d_in, 0.0f, y, d);
    for (int64_t i = from; i < from + rows; i++) {
        float *out = vec + (size_t)i * (size_t)d;
        if (dg_status_usable(status[i]))
            memcpy(out, y + (size_t)(at + i - from) * (size_t)d, sizeof(float) * (size_t)d);
        else
            memset(out, 0, sizeof(float) * (size_t)d);
    }
}

int dg_pca_project(const dg_embed_model *model, const int16_t *q, const int8_t *status, int64_t first_id,
                   int64_t n, float *vec, dg_err *err)
{
    float *x = dg_alloc((size_t)PROJECT_ROWS * (size_t)model->d_in, sizeof(float), err);
    float *y = dg_alloc((size_t)PROJECT_ROWS * (size_t)model->d, sizeof(float), err);
    int rc = x && y ? DG_OK : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < n;) {
        int64_t at = (first_id + i) % PROJECT_ROWS;
        int64_t rows = PROJECT_ROWS - at < n - i ? PROJECT_ROWS - at : n - i;
        project_block(model, q, status, i, rows, at, x, y, vec);
        i += rows;
    }
    free(x);
    free(y);
    return rc;
}

void dg_embed_model_free(dg_embed_model *model)
{
    free(model->mean);
    free(model->matrix);
    free(model->eigenvalues);
    memset(model, 0, sizeof *model);
}

int dg_embed_model_datasets(const dg_embed_model *model, dg_extra_dataset *out, int max, int *n_out,
                            dg_err *err)
{
    *n_out = 0;
    if (!model->matrix)
        return dg_fail(err, "no embedding model to store");
    if (max < 4)
        return dg_fail(err, "room for %d datasets, the embedding model needs 4", max);
    out[0] = (dg_extra_dataset){"/projection/mean", 1, {model->d_in, 0}, model->mean};
    out[1] = (dg_extra_dataset){"/projection/matrix", 2, {model->d, model->d_in}, model->matrix};
    out[2] = (dg_extra_dataset){"/projection/eigenvalues", 1, {model->d, 0}, model->eigenvalues};
    out[3] = (dg_extra_dataset){"/projection/info", 1, {4, 0}, model->info};
    *n_out = 4;
    return DG_OK;
}
