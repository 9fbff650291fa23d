/* h5_rows.h - the collective row-range layer both parallel HDF5 files
 * stand on (the output file, h5_output.c, and the checkpoint files, written
 * and read back by h5_checkpoint.c): a file created as "<path>.tmp" through
 * MPI-IO, datasets whose first dimension is split into contiguous row
 * ranges, one per rank, moved with collective transfers
 * (H5FD_MPIO_COLLECTIVE) in either direction, and the publish step that
 * gives the file its name only once it is complete (h5_rows.c).  The serial
 * readers of output files are h5_file.h and h5_columns.h.
 */
#ifndef DUPGRAPH_IO_H5_ROWS_H
#define DUPGRAPH_IO_H5_ROWS_H

#include <hdf5.h>

#include "dupgraph/common.h"
#include "dupgraph/context.h"

/* A dataset's global shape and the rows [row_lo, row_lo + rows) of its first
 * dimension that this rank moves (with all of the other dimensions). */
typedef struct dg_h5_rows {
    int rank; /* 1 to 3 */
    hsize_t dims[3];
    hsize_t row_lo;
    hsize_t rows;
} dg_h5_rows;

/* Collective: creates (truncates) tmp for parallel access; ordered_attrs
 * lists root attributes in the order written.  -1 on failure (the HDF5
 * error stack holds why). */
hid_t dg_h5_create_tmp(const dg_ctx *ctx, const char *tmp, int ordered_attrs);

/* Collective: creates dataset `name` (and missing groups) of r's global
 * shape, without a fill pass (every element is written).  -1 on failure. */
hid_t dg_h5_create_rows(hid_t file, const char *name, hid_t ftype, const dg_h5_rows *r);

/* Collective: writes (write = 1) or reads this rank's rows of an open
 * dataset; buf holds r->rows rows (may be NULL when there are none).  An
 * empty dataset has no storage to address: every rank skips it alike. */
herr_t dg_h5_transfer_rows(hid_t dset, hid_t mtype, const dg_h5_rows *r, void *buf, int write);

/* Collective: opens an existing file read-only for parallel access (the
 * checkpoint files, read back by row ranges).  -1 on failure. */
hid_t dg_h5_open_parallel(const dg_ctx *ctx, const char *path);

/* Collective, after every rank closed tmp: with rc == DG_OK rank 0 syncs
 * tmp and renames it to path (the data reaches the disk before the name
 * does); otherwise, or if that fails, tmp is removed.  Failures name `what`
 * ("output", "checkpoint") and path, with the given code. */
int dg_h5_publish(const dg_ctx *ctx, const char *tmp, const char *path, int rc, dg_code code, const char *what,
                  dg_err *err);

#endif
