/* h5_checkpoint.h - the HDF5 files of the checkpoint folder, written and
 * read collectively by row ranges (h5_checkpoint.c). */
#ifndef DUPGRAPH_IO_H5_CHECKPOINT_H
#define DUPGRAPH_IO_H5_CHECKPOINT_H

#include <stdint.h>

#include "dupgraph/context.h"

typedef enum { DG_CK_INT8, DG_CK_UINT8, DG_CK_INT32, DG_CK_INT64, DG_CK_FLOAT32 } dg_ck_type;

/* A dataset of rows_total x cols (cols 0: 1-D) of which this rank holds the
 * rows [row_lo, row_lo + rows) in data. */
typedef struct dg_ck_array {
    const char *name; /* absolute, e.g. "/items/vec" */
    dg_ck_type type;
    int64_t rows_total;
    int64_t cols;
    int64_t row_lo;
    int64_t rows;
    void *data;
} dg_ck_array;

/* An int64 root attribute. */
typedef struct dg_ck_attr {
    const char *name;
    int64_t value;
} dg_ck_attr;

/* Collective: creates "<path>.tmp" with the fingerprint, the attributes and
 * the arrays, then rank 0 syncs and renames it to path (or removes it after
 * a failure on any rank). */
int dg_h5_ckpt_write(const dg_ctx *ctx, const char *path, uint64_t fingerprint, const dg_ck_attr *attrs,
                     int n_attrs, const dg_ck_array *arrays, int n_arrays, dg_err *err);

/* An open checkpoint file (collective MPI-IO access). */
typedef struct dg_ck_file {
    const dg_ctx *ctx;
    const char *path;
    int64_t h5; /* hid_t */
} dg_ck_file;

/* Collective open; reads the fingerprint attribute. */
int dg_h5_ckpt_open(const dg_ctx *ctx, const char *path, dg_ck_file *f, uint64_t *fingerprint, dg_err *err);
/* Local: an int64 root attribute. */
int dg_h5_ckpt_attr(const dg_ck_file *f, const char *name, int64_t *value, dg_err *err);
/* Collective: checks the dataset's shape against a's and reads a's rows. */
int dg_h5_ckpt_read(const dg_ck_file *f, const dg_ck_array *a, dg_err *err);
/* Local: in the sorted 1-D int64 dataset `name`, the rows whose values lie
 * in [lo, hi) (binary search, O(log rows) single-value reads). */
int dg_h5_ckpt_find_rows(const dg_ck_file *f, const char *name, int64_t lo, int64_t hi, int64_t *row_lo,
                         int64_t *row_hi, dg_err *err);
/* Collective close; a failure to close is reported only if rc was DG_OK. */
int dg_h5_ckpt_close(dg_ck_file *f, int rc, dg_err *err);

#endif
