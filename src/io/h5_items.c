/* h5_items.c - serial readers of an output file for `export` and `report`:
 * the root attributes (counts, config, stage times), row ranges or listed
 * rows of the /items columns, of /edges and of /embeddings.  Every call opens
 * the file read-only, checks the format name and version, reads one
 * selection and closes everything again, so callers stream a large file in
 * bounded pieces.  Writing is h5_output.c's; `compare` and `info` use
 * h5_read.c.
 */
#include <stdlib.h>
#include <string.h>

#include "io/h5_items.h"

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

/* Shape of a dataset: rank (1 or 2) and dims; DG_FAIL if absent or other. */
static int dataset_shape(hid_t file, const char *name, int *rank, hsize_t dims[2])
{
    dims[0] = dims[1] = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return DG_FAIL;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? -1 : H5Dget_space(dset);
    *rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    int ok = *rank == 1 || *rank == 2;
    if (ok)
        H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? DG_OK : DG_FAIL;
}

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
    hsize_t dims[2];
    char detail[256];
    if (dataset_shape(file, q->name, &rank, dims) != DG_OK || rank != q->want_rank)
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

static int read_rows(const char *path, const read_req *q, const row_sel *r, void *buf, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_output(path, err);
    int rc = file < 0 ? DG_FAIL : read_checked(file, path, q, r, buf, err);
    if (file >= 0)
        H5Fclose(file);
    dg_h5_quiet_end(&quiet);
    return rc;
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

int dg_h5_read_edge_rows(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                         dg_err *err)
{
    dg_h5_type t64 = DG_H5_INT64, tf = DG_H5_FLOAT;
    read_req qs = {"/edges/src", 1, ALL_COLUMNS, 0, numeric_mtype, &t64, "int64"};
    read_req qd = {"/edges/dst", 1, ALL_COLUMNS, 0, numeric_mtype, &t64, "int64"};
    read_req qf = {"/edges/sim", 1, ALL_COLUMNS, 0, numeric_mtype, &tf, "float32"};
    row_sel r = {lo, count, NULL};
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_output(path, err);
    int rc = file < 0 ? DG_FAIL : DG_OK;
    if (rc == DG_OK)
        rc = read_checked(file, path, &qs, &r, src, err);
    if (rc == DG_OK)
        rc = read_checked(file, path, &qd, &r, dst, err);
    if (rc == DG_OK)
        rc = read_checked(file, path, &qf, &r, sim, err);
    if (file >= 0)
        H5Fclose(file);
    dg_h5_quiet_end(&quiet);
    return rc;
}

static herr_t take_time(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    dg_h5_facts *f = data;
    double seconds = 0.0;
    if (f->n_times == DG_H5_MAX_TIMES || strncmp(name, "seconds_", 8) != 0 ||
        dg_h5_attr_number(obj, name, H5T_NATIVE_DOUBLE, &seconds) != DG_OK)
        return 0;
    snprintf(f->times[f->n_times].name, sizeof f->times[f->n_times].name, "%s", name + 8);
    f->times[f->n_times++].seconds = seconds;
    return 0;
}

/* Stage times in the order written (name order for files that do not
 * track the creation order of attributes). */
static void read_times(hid_t file, dg_h5_facts *f)
{
    hsize_t at = 0;
    f->n_times = 0;
    if (H5Aiterate2(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, take_time, f) < 0) {
        at = 0;
        f->n_times = 0;
        H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &at, take_time, f);
    }
}

/* The fixed length of /items/path (0 when it is not a fixed-length string). */
static size_t path_length(hid_t file)
{
    hid_t dset = H5Lexists(file, "/items/path", H5P_DEFAULT) > 0 ? H5Dopen2(file, "/items/path", H5P_DEFAULT) : -1;
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    size_t len = 0;
    if (type >= 0 && H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0)
        len = H5Tget_size(type);
    if (type >= 0)
        H5Tclose(type);
    if (dset >= 0)
        H5Dclose(dset);
    return len;
}

static int read_facts_open(hid_t file, const char *path, dg_h5_facts *f, dg_err *err)
{
    const char *names[] = {"n_items", "n_failed", "n_edges", "n_components", "n_removed"};
    int64_t *values[] = {&f->n_items, &f->n_failed, &f->n_edges, &f->n_components, &f->n_removed};
    for (int i = 0; i < 5; i++) {
        if (dg_h5_attr_number(file, names[i], H5T_NATIVE_INT64, values[i]) != DG_OK)
            return dg_failc(err, DG_E_INPUT, "%s: the %s attribute is missing", path, names[i]);
        if (*values[i] < 0)
            return dg_failc(err, DG_E_INPUT, "%s: %s = %lld (damaged file)", path, names[i], (long long)*values[i]);
    }
    dg_h5_attr_number(file, "ranks", H5T_NATIVE_INT, &f->ranks);
    int rank = 0;
    hsize_t dims[2];
    if (dataset_shape(file, "/items/cluster", &rank, dims) == DG_OK && rank == 2)
        f->clusterings = (int)dims[1];
    if (dataset_shape(file, "/embeddings", &rank, dims) == DG_OK && rank == 2 && dims[0] == (hsize_t)f->n_items)
        f->embedding_dim = (int)dims[1];
    f->path_len = path_length(file);
    if (f->path_len == 0)
        return dg_failc(err, DG_E_INPUT, "%s: /items/path is missing or not a fixed-length string", path);
    /* Readers stream n_items rows: the attribute must describe the columns. */
    if (dataset_shape(file, "/items/path", &rank, dims) != DG_OK || rank != 1 || dims[0] != (hsize_t)f->n_items)
        return dg_failc(err, DG_E_INPUT, "%s: n_items = %lld but /items/path has %llu rows (damaged file)", path,
                       (long long)f->n_items, (unsigned long long)dims[0]);
    if (dataset_shape(file, "/edges/src", &rank, dims) != DG_OK || rank != 1 || dims[0] != (hsize_t)f->n_edges)
        return dg_failc(err, DG_E_INPUT, "%s: n_edges = %lld but /edges/src has %llu rows (damaged file)", path,
                       (long long)f->n_edges, (unsigned long long)dims[0]);
    f->config = dg_h5_attr_text(file, "config");
    f->program_version = dg_h5_attr_text(file, "program_version");
    if (!f->config)
        f->config = strdup("");
    if (!f->program_version)
        f->program_version = strdup("?");
    if (!f->config || !f->program_version)
        return dg_failc(err, DG_E_INPUT, "%s: out of memory reading attributes", path);
    read_times(file, f);
    return DG_OK;
}

int dg_h5_read_facts(const char *path, dg_h5_facts *facts, dg_err *err)
{
    memset(facts, 0, sizeof *facts);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_output(path, err);
    int rc = file < 0 ? DG_FAIL : read_facts_open(file, path, facts, err);
    if (file >= 0)
        H5Fclose(file);
    dg_h5_quiet_end(&quiet);
    if (rc != DG_OK)
        dg_h5_facts_free(facts);
    return rc;
}

void dg_h5_facts_free(dg_h5_facts *facts)
{
    free(facts->config);
    free(facts->program_version);
    facts->config = NULL;
    facts->program_version = NULL;
}
