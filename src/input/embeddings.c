/* embeddings.c - precomputed embeddings as input: the serial probe that
 * checks the file, dataset, shape and dtype before any work starts, and the
 * collective read in which each rank takes its own row range as a
 * hyperslab, converted to float32 by HDF5 and L2-normalised.  The output
 * file is h5_output.c's; this module only reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "input/embeddings.h"

#include "io/h5_open.h"

#define MAX_DIM 65536
#define MAX_CHUNKS_PER_READ 1024

/* Existence and kind of the file, with the reason in the user's terms. */
static int check_file(const char *path, dg_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: not a regular file", path);
    return DG_OK;
}

static void describe_type(hid_t type, char *buf, size_t len)
{
    size_t bits = H5Tget_size(type) * 8;
    switch (H5Tget_class(type)) {
    case H5T_INTEGER:
        snprintf(buf, len, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_FLOAT:
        snprintf(buf, len, "float%zu", bits);
        break;
    case H5T_STRING:
        snprintf(buf, len, "string");
        break;
    case H5T_COMPOUND:
        snprintf(buf, len, "compound");
        break;
    case H5T_ENUM:
        snprintf(buf, len, "enum");
        break;
    default:
        snprintf(buf, len, "of HDF5 class %d", (int)H5Tget_class(type));
        break;
    }
}

static int check_type(hid_t dset, const char *path, const char *dataset, dg_err *err)
{
    hid_t type = H5Dget_type(dset);
    if (type < 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot read the dtype of dataset %s", path, dataset);
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    char name[64];
    describe_type(type, name, sizeof name);
    H5Tclose(type);
    if (cls != H5T_FLOAT || (size != 4 && size != 2))
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s has dtype %s, expected float32 or float16", path,
                       dataset, name);
    return DG_OK;
}

static int check_shape(hid_t dset, const char *path, const char *dataset, int64_t *n, int *d, dg_err *err)
{
    hid_t space = H5Dget_space(dset);
    if (space < 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot read the shape of dataset %s", path, dataset);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank == 2)
        H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    if (rank != 2)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s has rank %d, expected 2 (N x D)", path, dataset, rank);
    if (dims[0] < 1)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s has no rows (shape 0 x %llu)", path, dataset,
                       (unsigned long long)dims[1]);
    if (dims[1] < 1 || dims[1] > MAX_DIM)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s has %llu columns, expected 1..%d (D)", path, dataset,
                       (unsigned long long)dims[1], MAX_DIM);
    size_t cells, bytes;
    if (dims[0] > (hsize_t)INT64_MAX || dg_mul_size((size_t)dims[0], (size_t)dims[1], &cells, err) != DG_OK ||
        dg_mul_size(cells, sizeof(float), &bytes, err) != DG_OK)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s is too large (%llu x %llu)", path, dataset,
                       (unsigned long long)dims[0], (unsigned long long)dims[1]);
    *n = (int64_t)dims[0];
    *d = (int)dims[1];
    return DG_OK;
}

/* Opens `dataset` in an open file and checks it; *dset stays open on success. */
static int open_embeddings(hid_t file, const char *path, const char *dataset, hid_t *dset, int64_t *n, int *d,
                           dg_err *err)
{
    char detail[256];
    hid_t obj = H5Oopen(file, dataset, H5P_DEFAULT);
    if (obj < 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: no dataset %s (%s)", path, dataset,
                       dg_h5_detail(detail, sizeof detail));
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: %s is not a dataset", path, dataset);
    }
    if (check_shape(obj, path, dataset, n, d, err) != DG_OK || check_type(obj, path, dataset, err) != DG_OK) {
        H5Dclose(obj);
        return DG_FAIL;
    }
    *dset = obj;
    return DG_OK;
}

static int probe_file(const char *path, const char *dataset, int64_t *n, int *d, dg_err *err)
{
    char detail[256];
    if (check_file(path, err) != DG_OK)
        return DG_FAIL;
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 < 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot read (%s)", path, dg_h5_detail(detail, sizeof detail));
    if (is_hdf5 == 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: not an HDF5 file", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot open (%s)", path, dg_h5_detail(detail, sizeof detail));
    hid_t dset = -1;
    int rc = open_embeddings(file, path, dataset, &dset, n, d, err);
    if (rc == DG_OK)
        H5Dclose(dset);
    H5Fclose(file);
    return rc;
}

int dg_h5_probe_embeddings(const char *path, const char *dataset, int64_t *n, int *d, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = probe_file(path, dataset, n, d, err);
    dg_h5_quiet_end(&quiet);
    return rc;
}

static hid_t open_parallel(const dg_ctx *ctx, const char *path, dg_err *err)
{
    char detail[256];
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = -1;
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, ctx->comm, MPI_INFO_NULL) >= 0)
        file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    /* Taken before H5Pclose, which clears HDF5's error stack. */
    if (file < 0)
        dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot open as HDF5 (%s)", path, dg_h5_detail(detail, sizeof detail));
    if (fapl >= 0)
        H5Pclose(fapl);
    return file;
}

/* Rows per collective read.  HDF5's collective read of a chunked dataset
 * keeps several KiB per chunk it touches (about 8 KiB measured with HDF5
 * 1.10), so a file chunked by single rows (as appending writers make them)
 * would cost gigabytes per rank in one read: such files are read in blocks
 * of rows touching at most MAX_CHUNKS_PER_READ chunks.  Contiguous and
 * compact datasets are read at once. */
static hsize_t rows_per_read(hid_t dset, int d)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    hsize_t chunk[2] = {0, 0};
    int chunked = dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (!chunked || chunk[0] == 0 || chunk[1] == 0)
        return (hsize_t)INT64_MAX;
    hsize_t across = ((hsize_t)d + chunk[1] - 1) / chunk[1];
    hsize_t bands = across < MAX_CHUNKS_PER_READ ? MAX_CHUNKS_PER_READ / across : 1;
    return bands * chunk[0];
}

/* One collective read of rows [lo + first, lo + first + rows) of this
 * rank's share (rows may be 0: every rank takes part in every read). */
static herr_t read_block(hid_t dset, hid_t fspace, hid_t dxpl, const dg_items *items, hsize_t first, hsize_t rows)
{
    hsize_t start[2] = {(hsize_t)items->lo + first, 0};
    hsize_t count[2] = {rows, (hsize_t)items->d};
    hid_t mspace = H5Screate_simple(2, count, NULL);
    herr_t st = mspace < 0 ? -1 : 0;
    if (st >= 0 && rows == 0)
        st = (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0) ? -1 : 0;
    else if (st >= 0)
        st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    float dummy = 0.0f;
    float *buf = rows ? items->vec + (size_t)first * (size_t)items->d : &dummy;
    if (st >= 0)
        st = H5Dread(dset, H5T_NATIVE_FLOAT, mspace, fspace, dxpl, buf);
    if (mspace >= 0)
        H5Sclose(mspace);
    return st;
}

/* Collective read of this rank's rows [lo, lo+n) into items->vec, in as
 * many blocks as the rank with the most blocks needs. */
static int read_rows(const dg_ctx *ctx, hid_t dset, const dg_items *items, const char *path, const char *dataset,
                     dg_err *err)
{
    char detail[256] = "no detail from HDF5";
    hsize_t step = rows_per_read(dset, items->d), n = (hsize_t)items->n;
    long long mine = (long long)((n + step - 1) / step), reads = 0;
    MPI_Allreduce(&mine, &reads, 1, MPI_LONG_LONG, MPI_MAX, ctx->comm);
    hid_t fspace = H5Dget_space(dset);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    int ready = fspace >= 0 && dxpl >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
    /* No rank may skip a collective read that the others enter. */
    int rc = dg_agree(ctx, ready ? DG_OK : dg_failc(err, DG_E_INPUT, "input.embeddings %s: HDF5 setup failed", path), err);
    herr_t st = 0;
    for (long long r = 0; rc == DG_OK && r < reads; r++) {
        hsize_t first = (hsize_t)r * step < n ? (hsize_t)r * step : n;
        hsize_t rows = n - first < step ? n - first : step;
        /* After a failure the rank still joins the remaining reads, with none. */
        if (read_block(dset, fspace, dxpl, items, first, st < 0 ? 0 : rows) < 0 && st >= 0) {
            dg_h5_detail(detail, sizeof detail);
            st = -1;
        }
    }
    if (rc == DG_OK && st < 0)
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: reading rows %lld..%lld of dataset %s failed (%s)", path,
                     (long long)items->lo, (long long)(items->lo + items->n), dataset, detail);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (fspace >= 0)
        H5Sclose(fspace);
    return rc;
}

/* Every step ends in dg_agree, so all ranks leave at the same point. */
static int read_parallel(const dg_ctx *ctx, const char *path, const char *dataset, dg_items *items, dg_err *err)
{
    if (dg_agree(ctx, check_file(path, err), err) != DG_OK)
        return DG_FAIL;
    hid_t file = open_parallel(ctx, path, err);
    if (dg_agree(ctx, file < 0 ? DG_FAIL : DG_OK, err) != DG_OK) {
        if (file >= 0)
            H5Fclose(file);
        return DG_FAIL;
    }
    hid_t dset = -1;
    int64_t n = 0;
    int d = 0;
    int rc = open_embeddings(file, path, dataset, &dset, &n, &d, err);
    if (rc == DG_OK) {
        int64_t lo = dg_range_lo(n, ctx->size, ctx->rank);
        rc = dg_items_alloc(items, n, lo, dg_range_lo(n, ctx->size, ctx->rank + 1) - lo, d, 0, err);
        if (rc != DG_OK) {
            dg_err why = *err;
            rc = dg_failc(err, why.code, "input.embeddings %s: dataset %s of %lld x %d: %.300s", path, dataset,
                          (long long)n, d, why.msg);
        }
    }
    rc = dg_agree(ctx, rc, err);
    if (rc == DG_OK)
        rc = dg_agree(ctx, read_rows(ctx, dset, items, path, dataset, err), err);
    if (dset >= 0)
        H5Dclose(dset);
    int closed = H5Fclose(file) < 0 ? dg_failc(err, DG_E_INPUT, "input.embeddings %s: closing the file failed", path) : DG_OK;
    return rc == DG_OK ? dg_agree(ctx, closed, err) : DG_FAIL;
}

/* One line per bad row (the first few on each rank), so a NaN row in a huge
 * file is visible without flooding the log. */
static void log_bad_rows(const dg_ctx *ctx, const dg_items *items, const char *path)
{
    enum { MAX_LINES = 10 };
    int64_t bad = 0;
    for (int64_t i = 0; i < items->n; i++) {
        if (items->status[i] != DG_ST_BAD_VECTOR)
            continue;
        if (bad++ < MAX_LINES && !ctx->quiet)
            dg_log_rank(ctx, "input.embeddings %s: row %lld has NaN/Inf or zero norm (bad_vector)", path,
                        (long long)(items->lo + i));
    }
    if (bad > MAX_LINES && !ctx->quiet)
        dg_log_rank(ctx, "input.embeddings %s: %lld more bad rows on this rank", path, (long long)(bad - MAX_LINES));
}

int dg_h5_read_embeddings(const dg_ctx *ctx, const char *path, const char *dataset, dg_items *items,
                          dg_err *err)
{
    memset(items, 0, sizeof *items);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = read_parallel(ctx, path, dataset, items, err);
    dg_h5_quiet_end(&quiet);
    if (rc != DG_OK) {
        dg_items_free(items);
        return DG_FAIL;
    }
    if (dg_items_normalize(items) > 0)
        log_bad_rows(ctx, items, path);
    return DG_OK;
}
