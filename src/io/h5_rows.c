/* h5_rows.c - the row-range layer of the collective HDF5 writers (see
 * h5_rows.h). */
#include "io/h5_rows.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

hid_t dg_h5_create_tmp(const dg_ctx *ctx, const char *tmp, int ordered_attrs)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t file = -1;
    if (fapl >= 0 && fcpl >= 0 && H5Pset_fapl_mpio(fapl, ctx->comm, MPI_INFO_NULL) >= 0 &&
        (!ordered_attrs || H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0))
        file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
    if (fcpl >= 0)
        H5Pclose(fcpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return file;
}

hid_t dg_h5_create_rows(hid_t file, const char *name, hid_t ftype, const dg_h5_rows *r)
{
    hid_t space = H5Screate_simple(r->rank, r->dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = -1;
    if (space >= 0 && lcpl >= 0 && dcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0 &&
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0)
        dset = H5Dcreate2(file, name, ftype, space, lcpl, dcpl, H5P_DEFAULT);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (lcpl >= 0)
        H5Pclose(lcpl);
    if (space >= 0)
        H5Sclose(space);
    return dset;
}

hid_t dg_h5_open_parallel(const dg_ctx *ctx, const char *path)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = -1;
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, ctx->comm, MPI_INFO_NULL) >= 0)
        file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return file;
}

herr_t dg_h5_transfer_rows(hid_t dset, hid_t mtype, const dg_h5_rows *r, void *buf, int write)
{
    hsize_t global = 1;
    for (int i = 0; i < r->rank; i++)
        global *= r->dims[i];
    if (global == 0)
        return 0;
    hsize_t start[3] = {r->row_lo, 0, 0}, count[3] = {r->rows, 0, 0};
    for (int i = 1; i < r->rank; i++)
        count[i] = r->dims[i];
    hid_t fspace = H5Dget_space(dset);
    hid_t mspace = H5Screate_simple(r->rank, count, NULL);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    herr_t st = (fspace < 0 || mspace < 0 || dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0) ? -1 : 0;
    /* A rank without rows still takes part, with empty selections. */
    if (st >= 0 && r->rows == 0)
        st = (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0) ? -1 : 0;
    else if (st >= 0)
        st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ? -1 : 0;
    int64_t dummy = 0;
    void *data = r->rows > 0 ? buf : &dummy;
    if (st >= 0)
        st = write ? H5Dwrite(dset, mtype, mspace, fspace, dxpl, data) : H5Dread(dset, mtype, mspace, fspace, dxpl, data);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return st;
}

static int sync_and_rename(const char *tmp, const char *path, dg_code code, const char *what, dg_err *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return dg_failc(err, code, "%s %s: cannot sync %s: %s", what, path, tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, path) != 0)
        return dg_failc(err, code, "%s %s: cannot rename %s to it: %s", what, path, tmp, strerror(errno));
    return DG_OK;
}

int dg_h5_publish(const dg_ctx *ctx, const char *tmp, const char *path, int rc, dg_code code, const char *what,
                  dg_err *err)
{
    if (rc != DG_OK) {
        if (ctx->rank == 0)
            unlink(tmp);
        MPI_Barrier(ctx->comm);
        return DG_FAIL;
    }
    if (ctx->rank == 0 && (rc = sync_and_rename(tmp, path, code, what, err)) != DG_OK)
        unlink(tmp);
    return dg_agree(ctx, rc, err);
}
