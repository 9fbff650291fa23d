/* pca.h - the projection learned on the corpus from quantised descriptors
 * (pca.c).
 *
 * Projection
 *   Every usable item's descriptor, quantised to integers, enters sums that
 *   are exact in int64 and added over ranks with MPI_Allreduce, so the
 *   covariance, and with it every embedding, is bit-identical for any number
 *   of ranks.  Rank 0 takes the top embed.dim eigenvectors (LAPACK dsyev),
 *   partially whitened (see pca.c), and broadcasts them; every rank applies
 *   them with cblas_sgemm and L2-normalises the result.  Fewer than two
 *   usable items (or no variance at all): the projection falls back to the
 *   first embed.dim descriptor coordinates, and says so in the log.
 */
#ifndef DUPGRAPH_INPUT_PCA_H
#define DUPGRAPH_INPUT_PCA_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "input/descriptor.h"
#include "io/h5_output.h"

/* Quantisation of descriptor values for the exact PCA sums. */
#define DG_DESC_QUANT 32767.0f

typedef struct dg_embed_stats {
    int64_t n_items;                  /* all ranks */
    int64_t n_usable;                 /* all ranks */
    int64_t status_count[DG_ST_COUNT]; /* all ranks */
    /* this rank's seconds */
    double seconds_read, seconds_decode, seconds_box, seconds_descriptor, seconds_signature;
    double seconds_pca, seconds_project;
    int64_t n_local;                  /* items this rank embedded */
} dg_embed_stats;

/* The learned projection: vec = normalise(matrix * (x - mean)) where x is
 * the dequantised descriptor (q / DG_DESC_QUANT). */
typedef struct dg_embed_model {
    int d_in;            /* DG_DESC_DIM */
    int d;               /* embed.dim */
    int flip;
    int fallback;        /* 1: too few usable items, first d coordinates */
    int64_t n_fit;       /* usable items the projection was learned on */
    float *mean;         /* d_in */
    float *matrix;       /* d x d_in, row-major, whitening included */
    float *eigenvalues;  /* d, descending */
    float info[4];       /* DG_DESC_VERSION, DG_DESC_SIZE, flip, DG_DESC_QUANT */
    dg_embed_stats stats;
} dg_embed_model;

void dg_embed_model_free(dg_embed_model *model);

/* The model as datasets for the output file: /projection/mean (d_in),
 * /projection/matrix (d x d_in), /projection/eigenvalues (d) and
 * /projection/info (DG_DESC_VERSION, DG_DESC_SIZE, flip, DG_DESC_QUANT).
 * The pointers refer into model.  max must be at least 4. */
int dg_embed_model_datasets(const dg_embed_model *model, dg_extra_dataset *out, int max, int *n_out,
                            dg_err *err);

/* Collective pieces of dg_embed_images, for tests and benchmarks:
 * q holds n rows of DG_DESC_DIM quantised descriptors (rows of unusable
 * items are ignored); learns the model on the usable rows of all ranks,
 * in the learned whitening's space when `learned` (input/whitening.h). */
int dg_pca_fit(const dg_ctx *ctx, const int16_t *q, const int8_t *status, int64_t n, int d, int flip, int learned,
               dg_embed_model *model, dg_err *err);
/* vec (n x model->d) = model applied to the n rows of q, whose first row is
 * item first_id; rows of unusable items are zero (not yet normalised).  A
 * row's result depends only on its data and global id, never on n or on
 * the other rows (so on no rank layout). */
int dg_pca_project(const dg_embed_model *model, const int16_t *q, const int8_t *status, int64_t first_id,
                   int64_t n, float *vec, dg_err *err);
/* Quantises one descriptor for dg_pca_fit (round to nearest, clamped). */
void dg_descriptor_quantise(const float *x, int16_t *q);

#endif
