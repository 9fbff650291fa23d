/* fuzz_h5_build.h - shared by the two HDF5 harnesses: turning fuzzer bytes
 * into a well-formed HDF5 file whose *content* is hostile (shapes, absurd
 * dimensions, dtypes, layouts, filters, attribute shapes, links), written to
 * a per-process file in /dev/shm for the reader under test.
 *
 * The harnesses build files through the HDF5 API rather than mutating file
 * bytes: the target is dupgraph's validation of what a file claims, not
 * libhdf5's own format parser (upstream's to fuzz).  Claimed sizes are
 * either small enough to read for real or absurd (2^44 elements and up, no
 * storage behind them): a reader must refuse the absurd ones with an error
 * before allocating, which libFuzzer's malloc limit would otherwise report.
 */
#ifndef FUZZ_H5_BUILD_H
#define FUZZ_H5_BUILD_H

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fuzzer's bytes, consumed from the front; zeros once exhausted. */
typedef struct fz_bytes {
    const uint8_t *p;
    size_t n;
} fz_bytes;

static inline unsigned fz_take(fz_bytes *b, unsigned mod)
{
    unsigned v = 0;
    if (b->n) {
        v = *b->p++;
        b->n--;
    }
    return mod ? v % mod : v;
}

/* A dimension: empty, small, a few hundred, or absurd (2^44 and up). */
static inline hsize_t fz_dim(fz_bytes *b)
{
    switch (fz_take(b, 4)) {
    case 0: return fz_take(b, 0) % 3;
    case 1: return 1 + fz_take(b, 16);
    case 2: return 1 + (fz_take(b, 0) | (fz_take(b, 2) << 8));
    default: return (hsize_t)1 << (44 + fz_take(b, 19));
    }
}

/* float16 as h5py writes it, and a bfloat16-like 2-byte float. */
static inline hid_t fz_float2(int bfloat)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (bfloat) {
        H5Tset_fields(t, 15, 7, 8, 0, 7);
        H5Tset_size(t, 2);
        H5Tset_ebias(t, 127);
    } else {
        H5Tset_fields(t, 15, 10, 5, 0, 10);
        H5Tset_size(t, 2);
        H5Tset_ebias(t, 15);
    }
    return t;
}

/* An element type; the caller closes it. */
static inline hid_t fz_type(fz_bytes *b)
{
    hid_t t;
    switch (fz_take(b, 14)) {
    case 0: return H5Tcopy(H5T_IEEE_F32LE);
    case 1: return H5Tcopy(H5T_IEEE_F32BE);
    case 2: return fz_float2(0);
    case 3: return fz_float2(1);
    case 4: return H5Tcopy(H5T_IEEE_F64LE);
    case 5: return H5Tcopy(H5T_STD_I32LE);
    case 6: return H5Tcopy(H5T_STD_U8LE);
    case 7: return H5Tcopy(H5T_STD_I64BE);
    case 8:
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 1 + fz_take(b, 16));
        return t;
    case 9:
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        return t;
    case 10:
        t = H5Tcreate(H5T_COMPOUND, 8);
        H5Tinsert(t, "a", 0, H5T_IEEE_F32LE);
        H5Tinsert(t, "b", 4, H5T_IEEE_F32LE);
        return t;
    case 11: {
        t = H5Tenum_create(H5T_NATIVE_INT8);
        for (int8_t v = 0; v < 3; v++) {
            char name[2] = {(char)('a' + v), 0};
            H5Tenum_insert(t, name, &v);
        }
        return t;
    }
    case 12: {
        hsize_t len = 1 + fz_take(b, 4);
        return H5Tarray_create2(H5T_IEEE_F32LE, 1, &len);
    }
    default: return H5Tvlen_create(H5T_IEEE_F32LE);
    }
}

/* A dataspace of rank 0..3 (scalar, or simple), or a null dataspace. */
static inline hid_t fz_space(fz_bytes *b, int want_rank, hsize_t *dims, int *rank)
{
    int r = want_rank >= 0 && fz_take(b, 8) ? want_rank : (int)fz_take(b, 5) - 1;
    *rank = r;
    if (r < 0)
        return H5Screate(H5S_NULL);
    if (r == 0)
        return H5Screate(H5S_SCALAR);
    for (int i = 0; i < r; i++)
        dims[i] = fz_dim(b);
    return H5Screate_simple(r, dims, NULL);
}

static inline int fz_is_vlen(hid_t type)
{
    return H5Tget_class(type) == H5T_VLEN || H5Tis_variable_str(type) > 0;
}

/* Element count of a dataspace (0 for null); -1 above `limit`. */
static inline hssize_t fz_cells(hid_t space, hssize_t limit)
{
    hssize_t n = H5Sget_simple_extent_npoints(space);
    return n < 0 || n > limit ? -1 : n;
}

/* Raw element bytes cycled from the input (at least one byte of pattern). */
static inline void *fz_fill(fz_bytes *b, size_t bytes)
{
    uint8_t *buf = malloc(bytes ? bytes : 1);
    if (!buf)
        return NULL;
    size_t pat = b->n ? b->n : 1;
    for (size_t i = 0; i < bytes; i++)
        buf[i] = b->n ? b->p[i % pat] : (uint8_t)i;
    return buf;
}

/* Writes `bytes` of raw data to a dataset when its elements are fixed-size
 * and few enough; a failure only leaves the data unwritten. */
static inline void fz_write_data(fz_bytes *b, hid_t dset, hid_t type, hid_t space)
{
    hssize_t cells = fz_cells(space, (hssize_t)1 << 18);
    if (cells <= 0 || fz_is_vlen(type))
        return;
    void *buf = fz_fill(b, (size_t)cells * H5Tget_size(type));
    if (buf)
        H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
}

/* Dataset creation properties: contiguous, chunked (maybe filtered) or
 * compact.  Absurd shapes get chunked storage, which costs nothing. */
static inline hid_t fz_dcpl(fz_bytes *b, int rank, const hsize_t *dims)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned layout = fz_take(b, 3);
    int huge = 0;
    for (int i = 0; i < rank; i++)
        huge |= dims[i] > 65536;
    if (rank > 0 && (layout == 1 || huge)) {
        hsize_t chunk[3];
        for (int i = 0; i < rank; i++) {
            /* At most 64 chunks along a stored dimension: tiny chunks are
             * legal but only slow (HDF5 itself, not the reader under test). */
            chunk[i] = 1 + fz_take(b, 64);
            if (dims[i] <= 65536 && chunk[i] < (dims[i] + 63) / 64)
                chunk[i] = (dims[i] + 63) / 64;
            if (dims[i] && chunk[i] > dims[i])
                chunk[i] = dims[i];
        }
        H5Pset_chunk(dcpl, rank, chunk);
        switch (fz_take(b, 4)) {
        case 1: H5Pset_deflate(dcpl, 1); break;
        case 2: H5Pset_shuffle(dcpl); break;
        case 3: H5Pset_fletcher32(dcpl); break;
        default: break;
        }
    } else if (layout == 2) {
        H5Pset_layout(dcpl, H5D_COMPACT);
    }
    return dcpl;
}

/* A dataset `name` with fuzzed type, shape (rank `want_rank` most of the
 * time, -1 for any), layout and data; groups on the way are created. */
static inline void fz_dataset(fz_bytes *b, hid_t file, const char *name, int want_rank)
{
    hsize_t dims[3] = {0, 0, 0};
    int rank;
    hid_t type = fz_type(b);
    hid_t space = fz_space(b, want_rank, dims, &rank);
    hid_t dcpl = fz_dcpl(b, rank, dims);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dset = H5Dcreate2(file, name, type, space, lcpl, dcpl, H5P_DEFAULT);
    if (dset >= 0) {
        fz_write_data(b, dset, type, space);
        H5Dclose(dset);
    }
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(type);
}

/* Something other than a dataset at `name`. */
static inline void fz_not_dataset(fz_bytes *b, hid_t file, const char *name)
{
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    switch (fz_take(b, 4)) {
    case 0: {
        hid_t g = H5Gcreate2(file, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0)
            H5Gclose(g);
        break;
    }
    case 1: H5Lcreate_soft("/nowhere", file, name, lcpl, H5P_DEFAULT); break;
    case 2: H5Lcreate_external("/nonexistent-dg-fuzz.h5", "/x", file, name, lcpl, H5P_DEFAULT); break;
    default: {
        hid_t t = H5Tcopy(H5T_IEEE_F32LE);
        H5Tcommit2(file, name, t, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Tclose(t);
        break;
    }
    }
    H5Pclose(lcpl);
}

/* Path of this process's scratch file (tmpfs when available). */
static inline void fz_path(const char *what, char *path, size_t len)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, len, "%s/dg-fuzz-%s-%ld.h5", dir, what, (long)getpid());
}

#endif
