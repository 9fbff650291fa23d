/* h5_checkpoint.c - the HDF5 side of checkpoints: one file of row-partitioned
 * arrays plus int64 root attributes, written collectively through MPI-IO to
 * "<path>.tmp" and published by rename, and read back by any rank layout
 * (each rank takes its own rows with a collective hyperslab read).  What the
 * arrays mean, and when a file may be reused, is checkpoint.c's; the output
 * file is h5_output.c's.
 */
#include <stdio.h>
#include <string.h>

#include "io/h5_checkpoint.h"

#include "io/h5_file.h"
#include "io/h5_open.h"
#include "io/h5_rows.h"

static hid_t mem_type(dg_ck_type t)
{
    switch (t) {
    case DG_CK_INT8: return H5T_NATIVE_INT8;
    case DG_CK_UINT8: return H5T_NATIVE_UINT8;
    case DG_CK_INT32: return H5T_NATIVE_INT32;
    case DG_CK_INT64: return H5T_NATIVE_INT64;
    case DG_CK_FLOAT32: return H5T_NATIVE_FLOAT;
    }
    return H5T_NATIVE_INT8;
}

static hid_t file_type(dg_ck_type t)
{
    switch (t) {
    case DG_CK_INT8: return H5T_STD_I8LE;
    case DG_CK_UINT8: return H5T_STD_U8LE;
    case DG_CK_INT32: return H5T_STD_I32LE;
    case DG_CK_INT64: return H5T_STD_I64LE;
    case DG_CK_FLOAT32: return H5T_IEEE_F32LE;
    }
    return H5T_STD_I8LE;
}

static int array_rank(const dg_ck_array *a)
{
    return a->cols > 0 ? 2 : 1;
}

/* The rows of a this rank moves, as the row layer sees them. */
static dg_h5_rows rows_of(const dg_ck_array *a)
{
    dg_h5_rows r = {array_rank(a), {(hsize_t)a->rows_total, (hsize_t)a->cols, 0}, (hsize_t)a->row_lo,
                    (hsize_t)a->rows};
    return r;
}

/* Reads or writes this rank's rows of an open dataset, collectively. */
static herr_t transfer_rows(hid_t dset, const dg_ck_array *a, int write)
{
    dg_h5_rows r = rows_of(a);
    return dg_h5_transfer_rows(dset, mem_type(a->type), &r, a->data, write);
}

static herr_t write_array(hid_t file, const dg_ck_array *a)
{
    dg_h5_rows r = rows_of(a);
    hid_t dset = dg_h5_create_rows(file, a->name, file_type(a->type), &r);
    herr_t st = dset < 0 ? -1 : transfer_rows(dset, a, 1);
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    return st;
}

static herr_t write_attr(hid_t file, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? -1 : H5Acreate2(file, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = attr < 0 ? -1 : H5Awrite(attr, mtype, value);
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    return st;
}

/* Attributes are metadata: every rank writes the same values. */
static herr_t write_contents(hid_t file, uint64_t fingerprint, const dg_ck_attr *attrs, int n_attrs,
                             const dg_ck_array *arrays, int n_arrays, const char **what)
{
    *what = "the attributes";
    herr_t st = write_attr(file, "fingerprint", H5T_STD_U64LE, H5T_NATIVE_UINT64, &fingerprint);
    for (int i = 0; st >= 0 && i < n_attrs; i++)
        st = write_attr(file, attrs[i].name, H5T_STD_I64LE, H5T_NATIVE_INT64, &attrs[i].value);
    for (int i = 0; st >= 0 && i < n_arrays; i++) {
        *what = arrays[i].name;
        st = write_array(file, &arrays[i]);
    }
    return st;
}

static int write_file(const dg_ctx *ctx, const char *path, const char *tmp, uint64_t fingerprint,
                      const dg_ck_attr *attrs, int n_attrs, const dg_ck_array *arrays, int n_arrays, dg_err *err)
{
    char detail[256];
    hid_t file = dg_h5_create_tmp(ctx, tmp, 0);
    if (file < 0)
        dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: cannot create %s (%s)", path, tmp, dg_h5_detail(detail, sizeof detail));
    if (dg_agree(ctx, file < 0 ? DG_FAIL : DG_OK, err) != DG_OK) {
        if (file >= 0)
            H5Fclose(file);
        return DG_FAIL;
    }
    const char *what = "";
    herr_t st = write_contents(file, fingerprint, attrs, n_attrs, arrays, n_arrays, &what);
    int rc = st < 0 ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: writing %s failed (%s)", path, what,
                              dg_h5_detail(detail, sizeof detail))
                    : DG_OK;
    if (H5Fclose(file) < 0 && rc == DG_OK)
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: closing failed (%s)", path, dg_h5_detail(detail, sizeof detail));
    return dg_agree(ctx, rc, err);
}

int dg_h5_ckpt_write(const dg_ctx *ctx, const char *path, uint64_t fingerprint, const dg_ck_attr *attrs,
                     int n_attrs, const dg_ck_array *arrays, int n_arrays, dg_err *err)
{
    char tmp[DG_PATH_MAX + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return dg_agree(ctx, dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: path too long", path), err);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = write_file(ctx, path, tmp, fingerprint, attrs, n_attrs, arrays, n_arrays, err);
    dg_h5_quiet_end(&quiet);
    return dg_h5_publish(ctx, tmp, path, rc, DG_E_CHECKPOINT, "checkpoint", err);
}

int dg_h5_ckpt_open(const dg_ctx *ctx, const char *path, dg_ck_file *f, uint64_t *fingerprint, dg_err *err)
{
    char detail[256];
    *f = (dg_ck_file){ctx, path, -1};
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_parallel(ctx, path);
    int rc = DG_OK;
    if (file < 0)
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: cannot open as HDF5 (%s)", path, dg_h5_detail(detail, sizeof detail));
    else if (dg_h5_attr_number(file, "fingerprint", H5T_NATIVE_UINT64, fingerprint) != DG_OK)
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: no fingerprint attribute", path);
    dg_h5_quiet_end(&quiet);
    f->h5 = file;
    if (dg_agree(ctx, rc, err) != DG_OK) {
        dg_h5_ckpt_close(f, DG_FAIL, err);
        return DG_FAIL;
    }
    return DG_OK;
}

int dg_h5_ckpt_attr(const dg_ck_file *f, const char *name, int64_t *value, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int st = dg_h5_attr_number((hid_t)f->h5, name, H5T_NATIVE_INT64, value);
    H5Eclear2(H5E_DEFAULT);
    dg_h5_quiet_end(&quiet);
    return st != DG_OK ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: attribute %s is missing", f->path, name) : DG_OK;
}

static int check_shape(const dg_ck_file *f, hid_t dset, const dg_ck_array *a, dg_err *err)
{
    hid_t space = H5Dget_space(dset);
    hsize_t dims[2] = {0, 0};
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (rank >= 1 && rank <= 2)
        H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    if (rank != array_rank(a) || dims[0] != (hsize_t)a->rows_total || (rank == 2 && dims[1] != (hsize_t)a->cols))
        return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: dataset %s has shape %llu x %llu (rank %d), expected %lld x %lld",
                       f->path, a->name, (unsigned long long)dims[0], (unsigned long long)dims[1], rank,
                       (long long)a->rows_total, (long long)a->cols);
    if (a->row_lo < 0 || a->rows < 0 || a->row_lo + a->rows > a->rows_total)
        return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: rows %lld..%lld of %s are out of range", f->path, (long long)a->row_lo,
                       (long long)(a->row_lo + a->rows), a->name);
    return DG_OK;
}

int dg_h5_ckpt_read(const dg_ck_file *f, const dg_ck_array *a, dg_err *err)
{
    char detail[256];
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t dset = H5Dopen2((hid_t)f->h5, a->name, H5P_DEFAULT);
    int rc = dset < 0 ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: no dataset %s (%s)", f->path, a->name,
                                dg_h5_detail(detail, sizeof detail))
                      : check_shape(f, dset, a, err);
    /* The read is collective: agree first, so that no rank enters it alone. */
    rc = dg_agree(f->ctx, rc, err);
    if (rc == DG_OK && transfer_rows(dset, a, 0) < 0)
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: reading rows %lld..%lld of %s failed (%s)", f->path,
                     (long long)a->row_lo, (long long)(a->row_lo + a->rows), a->name,
                     dg_h5_detail(detail, sizeof detail));
    if (dset >= 0)
        H5Dclose(dset);
    dg_h5_quiet_end(&quiet);
    return dg_agree(f->ctx, rc, err);
}

static herr_t read_one(hid_t dset, hid_t fspace, hsize_t row, int64_t *value)
{
    hsize_t one = 1;
    hid_t mspace = H5Screate_simple(1, &one, NULL);
    herr_t st = mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &row, NULL, &one, NULL);
    if (st >= 0)
        st = H5Dread(dset, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, value);
    if (mspace >= 0)
        H5Sclose(mspace);
    return st;
}

/* First row in [0, n) whose value is >= x (values sorted). */
static herr_t lower_bound(hid_t dset, hid_t fspace, hsize_t n, int64_t x, hsize_t *row)
{
    hsize_t lo = 0, hi = n;
    while (lo < hi) {
        hsize_t mid = lo + (hi - lo) / 2;
        int64_t v;
        if (read_one(dset, fspace, mid, &v) < 0)
            return -1;
        if (v < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    *row = lo;
    return 0;
}

int dg_h5_ckpt_find_rows(const dg_ck_file *f, const char *name, int64_t lo, int64_t hi, int64_t *row_lo,
                         int64_t *row_hi, dg_err *err)
{
    char detail[256];
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t dset = H5Dopen2((hid_t)f->h5, name, H5P_DEFAULT);
    hid_t fspace = dset < 0 ? -1 : H5Dget_space(dset);
    hsize_t n = 0, a = 0, b = 0;
    herr_t st = fspace < 0 || H5Sget_simple_extent_ndims(fspace) != 1 ? -1 : 0;
    if (st >= 0)
        st = H5Sget_simple_extent_dims(fspace, &n, NULL) < 0 ? -1 : 0;
    if (st >= 0)
        st = lower_bound(dset, fspace, n, lo, &a);
    if (st >= 0)
        st = lower_bound(dset, fspace, n, hi, &b);
    int rc = st < 0 ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: cannot search %s (%s)", f->path, name,
                              dg_h5_detail(detail, sizeof detail))
                    : DG_OK;
    if (fspace >= 0)
        H5Sclose(fspace);
    if (dset >= 0)
        H5Dclose(dset);
    dg_h5_quiet_end(&quiet);
    *row_lo = (int64_t)a;
    *row_hi = (int64_t)b;
    return rc;
}

int dg_h5_ckpt_close(dg_ck_file *f, int rc, dg_err *err)
{
    if (f->h5 < 0)
        return rc;
    char detail[256];
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int closed = H5Fclose((hid_t)f->h5) < 0
                     ? dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: closing failed (%s)", f->path, dg_h5_detail(detail, sizeof detail))
                     : DG_OK;
    dg_h5_quiet_end(&quiet);
    f->h5 = -1;
    if (rc != DG_OK)
        return rc;
    return dg_agree(f->ctx, closed, err);
}
