/* h5_columns.c - serial readers of the rows of an output file (see
 * h5_columns.h): row ranges or listed rows of the /items columns, of /edges
 * and of /embeddings, the whole edge list, and the status counts.  Every call
 * opens the file through h5_file.c (format and version checked), reads and
 * closes it again, so callers stream a large file in bounded pieces.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5_columns.h"

#include "io/h5_file.h"
#include "io/h5_open.h"

/* The rows a read selects along a dataset's first dimension: a range, or
 * the listed ids in their order (when ids is not NULL). */
typedef struct row_sel {
    int64_t lo;
    int64_t count;
    const int64_t *ids;
} row_sel;

/* Which part of a dataset a read takes along its second dimension. */
enum { ALL_COLUMNS = -1 };

static int check_rows(const char *name, const row_sel *r, hsize_t n, dg_err *err)
{
    if (!r->ids) {
        if (r->lo < 0 || r->count < 0 || (hsize_t)r->lo + (hsize_t)r->count > n)
            return dg_failc(err, DG_E_INPUT, "%s: rows %lld..%lld are outside its %llu rows", name, (long long)r->lo,
                           (long long)(r->lo + r->count), (unsigned long long)n);
        return DG_OK;
    }
    for (int64_t i = 0; i < r->count; i++)
        if (r->ids[i] < 0 || (hsize_t)r->ids[i] >= n)
            return dg_failc(err, DG_E_INPUT, "%s: row %lld is outside its %llu rows", name, (long long)r->ids[i],
                           (unsigned long long)n);
    return DG_OK;
}

/* Selects the rows (and one column, or all `cols` columns) in fspace. */
static herr_t select_rows(hid_t fspace, int rank, const row_sel *r, int col, hsize_t cols)
{
    hsize_t width = rank == 1 ? 1 : (col == ALL_COLUMNS ? cols : 1);
    if (!r->ids) {
        hsize_t start[2] = {(hsize_t)r->lo, col == ALL_COLUMNS ? 0 : (hsize_t)col};
        hsize_t count[2] = {(hsize_t)r->count, width};
        return H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    }
    /* A point selection is read in the order its points are listed. */
    size_t points = (size_t)r->count * (size_t)width;
    hsize_t *coord = malloc(points * (size_t)rank * sizeof *coord);
    if (!coord)
        return -1;
    for (size_t p = 0; p < points; p++) {
        coord[p * (size_t)rank] = (hsize_t)r->ids[p / width];
        if (rank == 2)
            coord[p * 2 + 1] = col == ALL_COLUMNS ? p % width : (hsize_t)col;
    }
    herr_t st = H5Sselect_elements(fspace, H5S_SELECT_SET, points, coord);
    free(coord);
    return st;
}

/* Reads the selected rows of an open dataset into buf as mtype. */
static herr_t read_selection(hid_t dset, int rank, const hsize_t dims[2], const row_sel *r, int col, hid_t mtype,
                             void *buf)
{
    hsize_t cells = (hsize_t)r->count * (rank == 2 && col == ALL_COLUMNS ? dims[1] : 1);
    hid_t fspace = H5Dget_space(dset);
    hid_t mspace = H5Screate_simple(1, &cells, NULL);
    herr_t st = (fspace < 0 || mspace < 0) ? -1 : select_rows(fspace, rank, r, col, dims[1]);
    if (st >= 0)
        st = H5Dread(dset, mtype, mspace, fspace, H5P_DEFAULT, buf);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (fspace >= 0)
        H5Sclose(fspace);
    return st;
}

/* How a read converts: the memory type (closed by the caller when owned). */
typedef hid_t (*mtype_fn)(hid_t ftype, const void *arg);

typedef struct read_req {
    const char *name;  /* dataset */
    int want_rank;     /* 1 or 2 */
    int col;           /* column of a 2-D dataset, or ALL_COLUMNS */
    hsize_t want_cols; /* required width when col == ALL_COLUMNS (0: any) */
    mtype_fn mtype;    /* returns a memory type of its own, or -1 */
    const void *arg;
    const char *as;    /* what mtype converts to, for messages */
} read_req;

static int read_checked(hid_t file, const char *path, const read_req *q, const row_sel *r, void *buf,
                        dg_err *err)
{
    int rank = 0;
    hsize_t dims[3];
    char detail[256];
    if (dg_h5_dataset_shape(file, q->name, &rank, dims) != DG_OK || rank != q->want_rank)
        return dg_failc(err, DG_E_INPUT, "%s: no %d-D dataset %s", path, q->want_rank, q->name);
    if (rank == 2 && ((q->col != ALL_COLUMNS && (hsize_t)q->col >= dims[1]) ||
                      (q->col == ALL_COLUMNS && q->want_cols && dims[1] != q->want_cols)))
        return dg_failc(err, DG_E_INPUT, "%s: %s has %llu columns", path, q->name, (unsigned long long)dims[1]);
    if (check_rows(q->name, r, dims[0], err) != DG_OK)
        return DG_FAIL;
    if (r->count == 0)
        return DG_OK;
    hid_t dset = H5Dopen2(file, q->name, H5P_DEFAULT);
    if (dset >= 0 && !dg_h5_fully_stored(dset)) {
        H5Dclose(dset);
        return dg_failc(err, DG_E_INPUT, "%s: %s claims %llu rows but does not store them (damaged file)", path, q->name,
                       (unsigned long long)dims[0]);
    }
    hid_t ftype = dset < 0 ? -1 : H5Dget_type(dset);
    hid_t mtype = ftype < 0 ? -1 : q->mtype(ftype, q->arg);
    herr_t st = mtype < 0 ? -1 : read_selection(dset, rank, dims, r, q->col, mtype, buf);
    if (st < 0)
        dg_h5_detail(detail, sizeof detail);
    if (mtype >= 0)
        H5Tclose(mtype);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (dset >= 0)
        H5Dclose(dset);
    if (mtype < 0 && ftype >= 0)
        return dg_failc(err, DG_E_INPUT, "%s: %s cannot be read as %s", path, q->name, q->as);
    if (st < 0)
        return dg_failc(err, DG_E_INPUT, "%s: reading %s failed (%s)", path, q->name, detail);
    return DG_OK;
}

typedef struct rows_job {
    const read_req *q;
    const row_sel *r;
    void *buf;
} rows_job;

static int rows_open(hid_t file, const char *path, void *arg, dg_err *err)
{
    rows_job *j = arg;
    return read_checked(file, path, j->q, j->r, j->buf, err);
}

static int read_rows(const char *path, const read_req *q, const row_sel *r, void *buf, dg_err *err)
{
    rows_job j = {q, r, buf};
    return dg_h5_with_output(path, NULL, rows_open, &j, err);
}

static hid_t native_type(dg_h5_type type)
{
    switch (type) {
    case DG_H5_INT8:
        return H5T_NATIVE_INT8;
    case DG_H5_INT32:
        return H5T_NATIVE_INT32;
    case DG_H5_INT64:
        return H5T_NATIVE_INT64;
    case DG_H5_FLOAT:
        return H5T_NATIVE_FLOAT;
    }
    return -1;
}

static const char *type_name(dg_h5_type type)
{
    static const char *const names[] = {"int8", "int32", "int64", "float32"};
    return names[type];
}

/* Numbers convert as usual; an enum over one byte (the status column)
 * reads as its integer values, which HDF5 does not convert by itself. */
static hid_t numeric_mtype(hid_t ftype, const void *arg)
{
    dg_h5_type type = *(const dg_h5_type *)arg;
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls == H5T_ENUM)
        return type == DG_H5_INT8 && H5Tget_size(ftype) == 1 ? H5Tcopy(ftype) : -1;
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        return -1;
    return H5Tcopy(native_type(type));
}

/* Fixed-length strings of any size become NUL-terminated ones of `stride`. */
static hid_t string_mtype(hid_t ftype, const void *arg)
{
    size_t stride = *(const size_t *)arg;
    if (H5Tget_class(ftype) != H5T_STRING || H5Tis_variable_str(ftype) != 0 || H5Tget_size(ftype) >= stride)
        return -1;
    hid_t mtype = H5Tcopy(H5T_C_S1);
    /* HDF5 does not convert between character sets: keep the file's. */
    if (mtype >= 0 && (H5Tset_size(mtype, stride) < 0 || H5Tset_strpad(mtype, H5T_STR_NULLTERM) < 0 ||
                       H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0)) {
        H5Tclose(mtype);
        return -1;
    }
    return mtype;
}

int dg_h5_read_item_column(const char *path, const char *column, int64_t lo, int64_t count, dg_h5_type type,
                           void *buf, dg_err *err)
{
    char name[128];
    if ((size_t)snprintf(name, sizeof name, "/items/%s", column) >= sizeof name || native_type(type) < 0)
        return dg_failc(err, DG_E_INPUT, "%s: bad column request '%s'", path, column);
    read_req q = {name, 1, ALL_COLUMNS, 0, numeric_mtype, &type, type_name(type)};
    row_sel r = {lo, count, NULL};
    return read_rows(path, &q, &r, buf, err);
}

int dg_h5_read_item_clusters(const char *path, int clustering, int64_t lo, int64_t count, int32_t *buf,
                             dg_err *err)
{
    dg_h5_type type = DG_H5_INT32;
    if (clustering < 0)
        return dg_failc(err, DG_E_INPUT, "%s: bad clustering %d", path, clustering);
    read_req q = {"/items/cluster", 2, clustering, 0, numeric_mtype, &type, "int32"};
    row_sel r = {lo, count, NULL};
    return read_rows(path, &q, &r, buf, err);
}

/* Strings are read into a packed buffer of `stride`-byte entries. */
static int read_paths(const char *path, const row_sel *r, char *buf, size_t stride, dg_err *err)
{
    read_req q = {"/items/path", 1, ALL_COLUMNS, 0, string_mtype, &stride,
                  "fixed-length strings that fit the given stride"};
    return read_rows(path, &q, r, buf, err);
}

int dg_h5_read_strings(const char *path, const char *name, int64_t lo, int64_t count, char *buf, size_t stride,
                       dg_err *err)
{
    read_req q = {name, 1, ALL_COLUMNS, 0, string_mtype, &stride, "fixed-length strings that fit the given stride"};
    row_sel r = {lo, count, NULL};
    return read_rows(path, &q, &r, buf, err);
}

int dg_h5_read_item_paths(const char *path, int64_t lo, int64_t count, char *buf, size_t stride, dg_err *err)
{
    row_sel r = {lo, count, NULL};
    return read_paths(path, &r, buf, stride, err);
}

int dg_h5_read_item_paths_at(const char *path, const int64_t *ids, int64_t n, char *buf, size_t stride,
                             dg_err *err)
{
    row_sel r = {0, n, ids};
    return read_paths(path, &r, buf, stride, err);
}

int dg_h5_read_embeddings_at(const char *path, const int64_t *ids, int64_t n, int d, float *out, dg_err *err)
{
    dg_h5_type type = DG_H5_FLOAT;
    if (d < 1)
        return dg_failc(err, DG_E_INPUT, "%s: bad embedding dimension %d", path, d);
    read_req q = {"/embeddings", 2, ALL_COLUMNS, (hsize_t)d, numeric_mtype, &type, "float32"};
    row_sel r = {0, n, ids};
    return read_rows(path, &q, &r, out, err);
}

typedef struct edges_job {
    row_sel r;
    int64_t *src, *dst;
    float *sim;
    float *verify; /* NULL: not read */
} edges_job;

/* Rows r of the three edge columns of an open file. */
static int edge_rows_open(hid_t file, const char *path, void *arg, dg_err *err)
{
    edges_job *j = arg;
    const row_sel *r = &j->r;
    int64_t *src = j->src, *dst = j->dst;
    float *sim = j->sim;
    dg_h5_type t64 = DG_H5_INT64, tf = DG_H5_FLOAT;
    read_req qs = {"/edges/src", 1, ALL_COLUMNS, 0, numeric_mtype, &t64, "int64"};
    read_req qd = {"/edges/dst", 1, ALL_COLUMNS, 0, numeric_mtype, &t64, "int64"};
    read_req qf = {"/edges/sim", 1, ALL_COLUMNS, 0, numeric_mtype, &tf, "float32"};
    int rc = read_checked(file, path, &qs, r, src, err);
    if (rc == DG_OK)
        rc = read_checked(file, path, &qd, r, dst, err);
    if (rc == DG_OK)
        rc = read_checked(file, path, &qf, r, sim, err);
    if (rc != DG_OK || !j->verify)
        return rc;
    /* Files before format 4 were not verified: every edge stood on its similarity. */
    if (H5Lexists(file, "/edges/verify", H5P_DEFAULT) <= 0) {
        for (int64_t i = 0; i < r->count; i++)
            j->verify[i] = NAN;
        return DG_OK;
    }
    read_req qv = {"/edges/verify", 1, ALL_COLUMNS, 0, numeric_mtype, &tf, "float32"};
    return read_checked(file, path, &qv, r, j->verify, err);
}

int dg_h5_read_edge_rows(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                         dg_err *err)
{
    edges_job j = {{lo, count, NULL}, src, dst, sim, NULL};
    return dg_h5_with_output(path, NULL, edge_rows_open, &j, err);
}

int dg_h5_read_edge_rows_verify(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                                float *verify, dg_err *err)
{
    edges_job j = {{lo, count, NULL}, src, dst, sim, verify};
    return dg_h5_with_output(path, NULL, edge_rows_open, &j, err);
}

/* The rows of 1-D dataset `name`, which must store every one of them: the
 * size of a whole read is known to be real before anything is allocated. */
static int stored_rows(hid_t file, const char *path, const char *name, int64_t *n, dg_err *err)
{
    int rank = 0;
    hsize_t dims[3];
    if (dg_h5_dataset_shape(file, name, &rank, dims) != DG_OK || rank != 1)
        return dg_failc(err, DG_E_INPUT, "%s: no 1-D dataset %s", path, name);
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    int full = dset >= 0 && dg_h5_fully_stored(dset);
    if (dset >= 0)
        H5Dclose(dset);
    if (!full)
        return dg_failc(err, DG_E_INPUT, "%s: %s claims %llu rows but does not store them (damaged file)", path, name,
                        (unsigned long long)dims[0]);
    *n = (int64_t)dims[0];
    return DG_OK;
}

typedef struct string_shape {
    const char *name;
    int64_t rows;
    size_t len;
} string_shape;

static int string_shape_open(hid_t file, const char *path, void *arg, dg_err *err)
{
    string_shape *s = arg;
    if (stored_rows(file, path, s->name, &s->rows, err) != DG_OK)
        return DG_FAIL;
    hid_t dset = H5Dopen2(file, s->name, H5P_DEFAULT);
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    int ok = type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0;
    s->len = ok ? H5Tget_size(type) : 0;
    if (type >= 0)
        H5Tclose(type);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? DG_OK : dg_failc(err, DG_E_INPUT, "%s: %s is not a fixed-length string dataset", path, s->name);
}

int dg_h5_string_shape(const char *path, const char *name, int64_t *rows, size_t *len, dg_err *err)
{
    string_shape s = {name, 0, 0};
    if (dg_h5_with_output(path, NULL, string_shape_open, &s, err) != DG_OK)
        return DG_FAIL;
    *rows = s.rows;
    *len = s.len;
    return DG_OK;
}

static int read_all_edges(hid_t file, const char *path, void *arg, dg_err *err)
{
    dg_edges *edges = arg;
    int64_t n = 0;
    if (stored_rows(file, path, "/edges/src", &n, err) != DG_OK)
        return DG_FAIL;
    edges->src = dg_alloc((size_t)n, sizeof *edges->src, err);
    edges->dst = dg_alloc((size_t)n, sizeof *edges->dst, err);
    edges->sim = dg_alloc((size_t)n, sizeof *edges->sim, err);
    if (!edges->src || !edges->dst || !edges->sim)
        return DG_FAIL;
    edges->n = edges->cap = n;
    edges_job j = {{0, n, NULL}, edges->src, edges->dst, edges->sim, NULL};
    return edge_rows_open(file, path, &j, err);
}

int dg_h5_read_edges(const char *path, dg_edges *edges, dg_err *err)
{
    memset(edges, 0, sizeof *edges);
    int rc = dg_h5_with_output(path, NULL, read_all_edges, edges, err);
    if (rc != DG_OK)
        dg_edges_free(edges);
    return rc;
}

int dg_h5_count_statuses(const char *path, int64_t n_items, int64_t counts[DG_ST_COUNT + 1], dg_err *err)
{
    const int64_t chunk = (int64_t)1 << 20;
    int8_t *buf = dg_alloc((size_t)(n_items < chunk ? n_items : chunk), 1, err);
    if (!buf && n_items > 0)
        return DG_FAIL;
    int rc = DG_OK;
    memset(counts, 0, (DG_ST_COUNT + 1) * sizeof *counts);
    for (int64_t at = 0; rc == DG_OK && at < n_items; at += chunk) {
        int64_t count = n_items - at < chunk ? n_items - at : chunk;
        rc = dg_h5_read_item_column(path, "status", at, count, DG_H5_INT8, buf, err);
        for (int64_t i = 0; rc == DG_OK && i < count; i++)
            counts[buf[i] >= 0 && buf[i] < DG_ST_COUNT ? buf[i] : DG_ST_COUNT]++;
    }
    free(buf);
    return rc;
}
