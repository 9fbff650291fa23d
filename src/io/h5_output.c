/* h5_output.c - the output file: its layout (format DG_FORMAT_VERSION, see
 * h5_output.h and README.md), written collectively by all ranks through MPI-IO,
 * and its atomic publication.  Every dataset is created by all ranks with
 * its global shape; each rank writes its own rows with a collective
 * transfer, and a rank with nothing to write takes part with an empty
 * selection.  The file is written as "<path>.tmp", closed on every rank and
 * renamed by rank 0, so a reader never sees a half-written file; on failure
 * the temporary file is removed.  Reading output files is h5_file.c's and h5_columns.c's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5_output.h"

#include "io/h5_open.h"
#include "io/h5_rows.h"

/* Rows of /items/path converted per collective write: bounds the buffer of
 * fixed-length strings to about this many bytes. */
#define PATH_BUFFER_BYTES ((size_t)16 << 20)

/* Global facts every rank agrees on before the file is created. */
typedef struct layout {
    int64_t n_items;  /* N */
    int64_t n_edges;  /* rows of /edges */
    int64_t edge_lo;  /* first row of /edges written by this rank */
} layout;

typedef struct writer {
    const dg_ctx *ctx;
    const char *path; /* final name, for messages */
    hid_t file;
    char detail[256]; /* HDF5's reason for the first failure */
} writer;

/* Keeps HDF5's reason for a failure: it must be taken at once, as the next
 * API call (even a close) clears the error stack. */
static void note(writer *w)
{
    if (w->detail[0] == '\0')
        dg_h5_detail(w->detail, sizeof w->detail);
}


/* A local array that must be present when this rank has rows for it. */
static int need(const void *p, int64_t rows, const char *what, dg_err *err)
{
    if (!p && rows > 0)
        return dg_failc(err, DG_E_OUTPUT, "output: %s is missing", what);
    return DG_OK;
}

static int check_extra(const dg_extra_dataset *e, dg_err *err)
{
    if (!e->name || e->name[0] != '/')
        return dg_failc(err, DG_E_OUTPUT, "output: extra dataset name '%s' is not an absolute path", e->name ? e->name : "");
    if (e->rank < 1 || e->rank > 2 || e->dims[0] < 0 || (e->rank == 2 && e->dims[1] < 0))
        return dg_failc(err, DG_E_OUTPUT, "output: extra dataset %s has a bad shape (rank %d)", e->name, e->rank);
    int64_t cells = e->dims[0] * (e->rank == 2 ? e->dims[1] : 1);
    return need(e->data, cells, e->name, err);
}

static int check_local(const dg_output *out, dg_err *err)
{
    const dg_items *it = out->items;
    int64_t n = it->n;
    if (need(it->status, n, "items->status", err) || need(out->component, n, "component", err) ||
        need(out->keep, n, "keep", err) || need(out->cluster, out->clusterings > 0 ? n : 0, "cluster", err) ||
        need(it->vec, out->write_embeddings ? n : 0, "items->vec", err) ||
        need(out->filter_score, out->write_filter ? n : 0, "filter_score", err) ||
        need(out->filtered, out->write_filter ? n : 0, "filtered", err) ||
        need(out->class_prob, out->write_filter ? n : 0, "class_prob", err) ||
        need(out->weight, out->write_weight ? n : 0, "weight", err))
        return DG_FAIL;
    if (out->write_filter && (out->n_classes < 1 || out->n_classes > 64))
        return dg_failc(err, DG_E_OUTPUT, "output: %d filter classes", out->n_classes);
    if (out->clusterings < 0 || (out->clusterings > 0 && (out->k < 1 || !out->centroids)))
        return dg_failc(err, DG_E_OUTPUT, "output: %d clusterings need K >= 1 and centroids (K = %lld)", out->clusterings,
                       (long long)out->k);
    if (out->edges && out->edges->n > 0 && (!out->edges->src || !out->edges->dst || !out->edges->sim))
        return dg_failc(err, DG_E_OUTPUT, "output: edge arrays are missing");
    for (int i = 0; i < out->n_extra; i++)
        if (check_extra(&out->extra[i], err) != DG_OK)
            return DG_FAIL;
    for (int i = 0; i < out->n_columns; i++) {
        const dg_extra_column *c = &out->columns[i];
        if (!c->name || c->name[0] != '/' || c->n_rows < 0 ||
            need(c->data, c->per_item ? n : c->n_rows, c->name, err) != DG_OK)
            return dg_failc(err, DG_E_OUTPUT, "output: extra column %d (%s) is malformed", i, c->name ? c->name : "");
    }
    for (int i = 0; i < out->n_times; i++)
        if (!out->times[i].name || strlen(out->times[i].name) > 100)
            return dg_failc(err, DG_E_OUTPUT, "output: stage time %d has no usable name", i);
    return DG_OK;
}

/* Global counts and this rank's offsets; checks that the ranks' item
 * ranges tile 0..N-1 in rank order and that the counts match the rows. */
static int make_layout(const dg_ctx *ctx, const dg_output *out, layout *lay, dg_err *err)
{
    /* A rank without items still takes part in the reductions below. */
    const dg_items none = {0};
    const dg_items *it = out->items ? out->items : &none;
    int64_t local[2] = {it->n, out->edges ? out->edges->n : 0};
    int64_t total[2] = {0, 0}, before[2] = {0, 0};
    MPI_Allreduce(local, total, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Exscan(local, before, 2, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (ctx->rank == 0)
        before[0] = before[1] = 0;
    *lay = (layout){total[0], total[1], before[1]};
    int rc = out->items ? check_local(out, err) : dg_failc(err, DG_E_OUTPUT, "output: no items");
    if (rc == DG_OK && total[0] != it->n_total)
        rc = dg_failc(err, DG_E_OUTPUT, "output: ranks hold %lld items, expected N = %lld", (long long)total[0],
                     (long long)it->n_total);
    if (rc == DG_OK && before[0] != it->lo)
        rc = dg_failc(err, DG_E_OUTPUT, "output: items start at %lld here, expected %lld (ranges in rank order)",
                     (long long)it->lo, (long long)before[0]);
    if (rc == DG_OK && total[1] != out->n_edges)
        rc = dg_failc(err, DG_E_OUTPUT, "output: ranks hold %lld edges, but n_edges = %lld", (long long)total[1],
                     (long long)out->n_edges);
    return dg_agree(ctx, rc, err);
}

/* Collective write of this rank's rows of an open dataset. */
static herr_t write_rows(writer *w, hid_t dset, hid_t mtype, const dg_h5_rows *s, const void *buf)
{
    herr_t st = dg_h5_transfer_rows(dset, mtype, s, (void *)buf, 1);
    if (st < 0)
        note(w);
    return st;
}

static hid_t create_dataset(writer *w, const char *name, hid_t ftype, const dg_h5_rows *s)
{
    hid_t dset = dg_h5_create_rows(w->file, name, ftype, s);
    if (dset < 0)
        note(w);
    return dset;
}

static int write_failed(writer *w, const char *name, dg_err *err)
{
    note(w);
    return dg_failc(err, DG_E_OUTPUT, "output %s: writing %s failed (%s)", w->path, name, w->detail);
}

/* Creates `name` and writes this rank's rows of it in one collective call. */
static int write_dataset(writer *w, const char *name, hid_t ftype, hid_t mtype, const dg_h5_rows *s,
                         const void *buf, dg_err *err)
{
    hid_t dset = create_dataset(w, name, ftype, s);
    herr_t st = dset < 0 ? -1 : write_rows(w, dset, mtype, s, buf);
    if (dset >= 0 && H5Dclose(dset) < 0) {
        note(w);
        st = -1;
    }
    return dg_agree(w->ctx, st < 0 ? write_failed(w, name, err) : DG_OK, err);
}

/* A temporary buffer every rank must have before the next collective call. */
static void *scratch(writer *w, size_t count, size_t size, dg_err *err)
{
    void *p = dg_calloc(count, size, err);
    if (dg_agree(w->ctx, p ? DG_OK : DG_FAIL, err) != DG_OK) {
        free(p);
        return NULL;
    }
    return p;
}

static dg_h5_rows item_slab(const dg_items *it, const layout *lay, int cols)
{
    dg_h5_rows s = {cols ? 2 : 1, {(hsize_t)lay->n_items, (hsize_t)cols, 0}, (hsize_t)it->lo, (hsize_t)it->n};
    return s;
}

static int write_ids(writer *w, const dg_items *it, const layout *lay, dg_err *err)
{
    int64_t *id = scratch(w, (size_t)it->n, sizeof *id, err);
    if (!id)
        return DG_FAIL;
    for (int64_t i = 0; i < it->n; i++)
        id[i] = it->lo + i;
    dg_h5_rows s = item_slab(it, lay, 0);
    int rc = write_dataset(w, "/items/id", H5T_STD_I64LE, H5T_NATIVE_INT64, &s, id, err);
    free(id);
    return rc;
}

/* Rows [first, first + rows) of strs as NUL-padded fixed strings. */
static void fill_strings(char *const *strs, int64_t first, int64_t rows, size_t len, char *buf)
{
    memset(buf, 0, (size_t)rows * len);
    for (int64_t i = 0; strs && i < rows; i++)
        if (strs[first + i])
            memcpy(buf + (size_t)i * len, strs[first + i], strlen(strs[first + i]));
}

/* A string column: n local rows from row_lo of n_global.  Written in rounds
 * of a bounded number of rows (every rank takes part in every round) so
 * that long strings cannot blow up the buffer. */
static int write_strings(writer *w, const char *name, char *const *strs, int64_t n, int64_t row_lo,
                         int64_t n_global, dg_err *err)
{
    unsigned long long mine_len = 0, str_len = 0;
    for (int64_t i = 0; strs && i < n; i++)
        if (strs[i] && strlen(strs[i]) > mine_len)
            mine_len = strlen(strs[i]);
    MPI_Allreduce(&mine_len, &str_len, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, w->ctx->comm);
    size_t len = str_len > 0 ? (size_t)str_len : 1;
    int64_t per_round = (int64_t)(PATH_BUFFER_BYTES / len);
    if (per_round < 1)
        per_round = 1;
    char *buf = scratch(w, (size_t)(n < per_round ? n : per_round) + 1, len, err);
    if (!buf)
        return DG_FAIL;
    hid_t type = H5Tcopy(H5T_C_S1);
    herr_t st = type < 0 ? -1 : 0;
    if (st >= 0)
        st = (H5Tset_size(type, len) < 0 || H5Tset_strpad(type, H5T_STR_NULLPAD) < 0 ||
              H5Tset_cset(type, H5T_CSET_UTF8) < 0) ? -1 : 0;
    dg_h5_rows s = {1, {(hsize_t)n_global, 0, 0}, (hsize_t)row_lo, (hsize_t)n};
    hid_t dset = st < 0 ? -1 : create_dataset(w, name, type, &s);
    st = dset < 0 ? -1 : 0;
    long long mine = (n + per_round - 1) / per_round, rounds = 0;
    MPI_Allreduce(&mine, &rounds, 1, MPI_LONG_LONG, MPI_MAX, w->ctx->comm);
    for (long long r = 0; dset >= 0 && r < rounds; r++) {
        int64_t first = r * per_round < n ? r * per_round : n;
        int64_t rows = n - first < per_round ? n - first : per_round;
        fill_strings(strs, first, rows, len, buf);
        dg_h5_rows part = {1, {(hsize_t)n_global, 0, 0}, (hsize_t)(row_lo + first), (hsize_t)rows};
        if (write_rows(w, dset, type, &part, buf) < 0)
            st = -1;
    }
    if (dset >= 0 && H5Dclose(dset) < 0)
        st = -1;
    if (type >= 0)
        H5Tclose(type);
    free(buf);
    return dg_agree(w->ctx, st < 0 ? write_failed(w, name, err) : DG_OK, err);
}

static int write_paths(writer *w, const dg_items *it, const layout *lay, dg_err *err)
{
    return write_strings(w, "/items/path", it->path, it->n, it->lo, lay->n_items, err);
}

/* The enum of item statuses over int8, named as dg_status_name. */
static hid_t status_type(void)
{
    hid_t type = H5Tenum_create(H5T_NATIVE_INT8);
    for (int s = 0; type >= 0 && s < DG_ST_COUNT; s++) {
        int8_t value = (int8_t)s;
        if (H5Tenum_insert(type, dg_status_name((dg_status)s), &value) < 0) {
            H5Tclose(type);
            type = -1;
        }
    }
    return type;
}

static int write_status(writer *w, const dg_items *it, const layout *lay, dg_err *err)
{
    hid_t type = status_type();
    if (dg_agree(w->ctx, type < 0 ? write_failed(w, "/items/status", err) : DG_OK, err) != DG_OK) {
        if (type >= 0)
            H5Tclose(type);
        return DG_FAIL;
    }
    dg_h5_rows s = item_slab(it, lay, 0);
    int rc = write_dataset(w, "/items/status", type, type, &s, it->status, err);
    H5Tclose(type);
    return rc;
}

/* Width and height, zeros when the input had no images. */
static int write_sizes(writer *w, const dg_items *it, const layout *lay, dg_err *err)
{
    int32_t *zeros = scratch(w, (size_t)it->n, sizeof *zeros, err);
    if (!zeros)
        return DG_FAIL;
    dg_h5_rows s = item_slab(it, lay, 0);
    int rc = write_dataset(w, "/items/width", H5T_STD_I32LE, H5T_NATIVE_INT32, &s, it->width ? it->width : zeros,
                           err);
    if (rc == DG_OK)
        rc = write_dataset(w, "/items/height", H5T_STD_I32LE, H5T_NATIVE_INT32, &s,
                           it->height ? it->height : zeros, err);
    free(zeros);
    return rc;
}

/* Format 2: the content filter's and the re-weighting's columns. */
static int write_filter_columns(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_items *it = out->items;
    dg_h5_rows s = item_slab(it, lay, 0);
    if (out->write_filter) {
        dg_h5_rows p = item_slab(it, lay, out->n_classes);
        if (write_dataset(w, "/items/filter_score", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, out->filter_score, err) ||
            write_dataset(w, "/items/filtered", H5T_STD_I8LE, H5T_NATIVE_INT8, &s, out->filtered, err) ||
            write_dataset(w, "/items/class_prob", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &p, out->class_prob, err))
            return DG_FAIL;
    }
    if (out->write_weight)
        return write_dataset(w, "/items/weight", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, out->weight, err);
    return DG_OK;
}

static int write_items(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_items *it = out->items;
    dg_h5_rows s = item_slab(it, lay, 0);
    if (write_ids(w, it, lay, err) != DG_OK || write_paths(w, it, lay, err) != DG_OK ||
        write_status(w, it, lay, err) != DG_OK || write_sizes(w, it, lay, err) != DG_OK ||
        write_dataset(w, "/items/component", H5T_STD_I64LE, H5T_NATIVE_INT64, &s, out->component, err) != DG_OK ||
        write_dataset(w, "/items/keep", H5T_STD_I8LE, H5T_NATIVE_INT8, &s, out->keep, err) != DG_OK)
        return DG_FAIL;
    if (out->best_match &&
        (write_dataset(w, "/items/best_match", H5T_STD_I64LE, H5T_NATIVE_INT64, &s, out->best_match, err) != DG_OK ||
         write_dataset(w, "/items/best_sim", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, out->best_sim, err) != DG_OK))
        return DG_FAIL;
    if (out->clusterings > 0) {
        dg_h5_rows c = item_slab(it, lay, out->clusterings);
        if (write_dataset(w, "/items/cluster", H5T_STD_I32LE, H5T_NATIVE_INT32, &c, out->cluster, err) != DG_OK)
            return DG_FAIL;
    }
    return write_filter_columns(w, out, lay, err);
}

static int write_edges(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_edges *e = out->edges;
    dg_h5_rows s = {1, {(hsize_t)lay->n_edges, 0, 0}, (hsize_t)lay->edge_lo, (hsize_t)(e ? e->n : 0)};
    if (write_dataset(w, "/edges/src", H5T_STD_I64LE, H5T_NATIVE_INT64, &s, e ? e->src : NULL, err) != DG_OK ||
        write_dataset(w, "/edges/dst", H5T_STD_I64LE, H5T_NATIVE_INT64, &s, e ? e->dst : NULL, err) != DG_OK)
        return DG_FAIL;
    if (write_dataset(w, "/edges/sim", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, e ? e->sim : NULL, err) != DG_OK)
        return DG_FAIL;
    /* format 4: the verifier's score, NaN for edges that were not verified
     * (verification off) */
    const float *verify = out->edge_verify;
    float *nan = NULL;
    if (!verify || !out->verify_enabled) {
        if (!(nan = scratch(w, (size_t)(e ? e->n : 0) + 1, sizeof *nan, err)))
            return DG_FAIL;
        for (int64_t i = 0; e && i < e->n; i++)
            nan[i] = NAN;
        verify = nan;
    }
    int rc = write_dataset(w, "/edges/verify", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, verify, err);
    free(nan);
    return rc;
}

/* The extra columns (h5_output.h). */
static int write_columns(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_items *it = out->items;
    int root = w->ctx->rank == 0;
    for (int i = 0; i < out->n_columns; i++) {
        const dg_extra_column *c = &out->columns[i];
        int64_t n = c->per_item ? it->n : root ? c->n_rows : 0;
        int64_t lo = c->per_item ? it->lo : 0, n_global = c->per_item ? lay->n_items : c->n_rows;
        dg_h5_rows s = {1, {(hsize_t)n_global, 0, 0}, (hsize_t)lo, (hsize_t)n};
        int rc;
        if (c->type == DG_COL_STRING) {
            rc = write_strings(w, c->name, (char *const *)c->data, n, lo, n_global, err);
        } else if (c->type == DG_COL_INT32) {
            rc = write_dataset(w, c->name, H5T_STD_I32LE, H5T_NATIVE_INT32, &s, c->data, err);
        } else {
            hid_t type = status_type();
            rc = dg_agree(w->ctx, type < 0 ? write_failed(w, c->name, err) : DG_OK, err);
            if (rc == DG_OK)
                rc = write_dataset(w, c->name, type, type, &s, c->data, err);
            if (type >= 0)
                H5Tclose(type);
        }
        if (rc != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

/* /inputs/path: the listed files, rank 0's copy (identical on every rank). */
static int write_input_paths(writer *w, const dg_input_files *in, dg_err *err)
{
    int64_t n = w->ctx->rank == 0 ? in->n : 0;
    return write_strings(w, "/inputs/path", (char *const *)in->path, n, 0, in->n, err);
}

/* /inputs/{path, rows} and each item's file, /items/input (not /items/shard,
 * which indexes tar shards). */
static int write_inputs(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_input_files *in = &out->inputs;
    const dg_items *it = out->items;
    if (in->n < 1)
        return DG_OK;
    int64_t *rows = scratch(w, (size_t)in->n, sizeof *rows, err);
    int32_t *file = rows ? scratch(w, (size_t)it->n + 1, sizeof *file, err) : NULL;
    if (!file) {
        free(rows);
        return DG_FAIL;
    }
    for (int f = 0; f < in->n; f++)
        rows[f] = in->first[f + 1] - in->first[f];
    int f = 0;
    for (int64_t i = 0; i < it->n; i++) {
        while (f + 1 < in->n && in->first[f + 1] <= it->lo + i)
            f++;
        file[i] = f;
    }
    dg_h5_rows r = {1, {(hsize_t)in->n, 0, 0}, 0, w->ctx->rank == 0 ? (hsize_t)in->n : 0};
    dg_h5_rows s = item_slab(it, lay, 0);
    int rc = write_input_paths(w, in, err);
    if (rc == DG_OK)
        rc = write_dataset(w, "/inputs/rows", H5T_STD_I64LE, H5T_NATIVE_INT64, &r, rows, err);
    if (rc == DG_OK)
        rc = write_dataset(w, "/items/input", H5T_STD_I32LE, H5T_NATIVE_INT32, &s, file, err);
    free(rows);
    free(file);
    return rc;
}

/* Centroids, embeddings and the extra datasets. */
static int write_vectors(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const dg_items *it = out->items;
    int root = w->ctx->rank == 0;
    if (out->clusterings > 0) {
        dg_h5_rows s = {3, {(hsize_t)out->clusterings, (hsize_t)out->k, (hsize_t)it->d}, 0,
                  root ? (hsize_t)out->clusterings : 0};
        if (write_dataset(w, "/centroids", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, out->centroids, err) != DG_OK)
            return DG_FAIL;
    }
    if (out->write_embeddings) {
        dg_h5_rows s = item_slab(it, lay, it->d);
        if (write_dataset(w, "/embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, it->vec, err) != DG_OK)
            return DG_FAIL;
    }
    for (int i = 0; i < out->n_extra; i++) {
        const dg_extra_dataset *e = &out->extra[i];
        dg_h5_rows s = {e->rank, {(hsize_t)e->dims[0], (hsize_t)e->dims[1], 0}, 0, root ? (hsize_t)e->dims[0] : 0};
        if (write_dataset(w, e->name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &s, e->data, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

/* A scalar root attribute. */
static int attr_write(writer *w, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? -1 : H5Acreate2(w->file, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = attr < 0 ? -1 : H5Awrite(attr, mtype, value);
    if (st < 0)
        note(w);
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    if (space >= 0)
        H5Sclose(space);
    return st < 0 ? DG_FAIL : DG_OK;
}

/* A variable-length UTF-8 string: h5py reads it as str. */
static int attr_string(writer *w, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    int rc = DG_FAIL;
    if (type >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, H5T_CSET_UTF8) >= 0)
        rc = attr_write(w, name, type, type, &value);
    if (type >= 0)
        H5Tclose(type);
    return rc;
}

static int attr_int(writer *w, const char *name, int value)
{
    return attr_write(w, name, H5T_STD_I32LE, H5T_NATIVE_INT, &value);
}

static int attr_int64(writer *w, const char *name, int64_t value)
{
    return attr_write(w, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

static int write_times(writer *w, const dg_output *out, const char **failed)
{
    char name[128];
    for (int i = 0; i < out->n_times; i++) {
        snprintf(name, sizeof name, "seconds_%s", out->times[i].name);
        if (attr_write(w, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &out->times[i].seconds) != DG_OK) {
            *failed = out->times[i].name;
            return DG_FAIL;
        }
    }
    return DG_OK;
}

/* Root attributes; written by every rank with identical values. */
static int write_attributes(writer *w, const dg_output *out, const layout *lay, dg_err *err)
{
    const char *failed = "the format attributes";
    int rc = (attr_string(w, "format", DG_FORMAT_NAME) || attr_int(w, "format_version", DG_FORMAT_VERSION) ||
              attr_string(w, "program_version", DG_VERSION) ||
              attr_string(w, "config", out->config_text ? out->config_text : "") ||
              attr_write(w, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &out->seed) ||
              attr_int(w, "ranks", w->ctx->size))
                 ? DG_FAIL
                 : write_times(w, out, &failed);
    if (rc == DG_OK) {
        failed = "the count attributes";
        rc = (attr_int64(w, "n_items", lay->n_items) || attr_int64(w, "n_failed", out->n_failed) ||
              attr_int64(w, "n_edges", out->n_edges) || attr_int64(w, "n_components", out->n_components) ||
              attr_int64(w, "n_removed", out->n_removed) ||
              (out->write_filter && attr_int64(w, "n_filtered", out->n_filtered)))
                 ? DG_FAIL
                 : DG_OK;
    }
    if (rc == DG_OK) { /* the settings a reader needs, typed (format 3) */
        failed = "the search attributes";
        rc = (attr_string(w, "mode", out->mode ? out->mode : "") ||
              attr_string(w, "embedder", out->embedder ? out->embedder : "") ||
              attr_write(w, "pairs_threshold", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &out->threshold) ||
              attr_int64(w, "cluster_k", out->k) || attr_int64(w, "cluster_clusterings", out->clusterings) ||
              attr_int64(w, "cluster_probes", out->probes) || attr_string(w, "graph_keep", out->keep_policy ? out->keep_policy : "") ||
              attr_string(w, "graph_edges", out->edge_output ? out->edge_output : "all"))
                 ? DG_FAIL
                 : DG_OK;
    }
    if (rc == DG_OK) { /* format 4 */
        failed = "the verify attributes";
        rc = (attr_int(w, "verify_enabled", out->verify_enabled) ||
              attr_write(w, "verify_threshold", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &out->verify_threshold) ||
              attr_write(w, "verify_agree_above", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &out->verify_agree_above) ||
              attr_write(w, "verify_agree_threshold", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                         &out->verify_agree_threshold) ||
              attr_int64(w, "n_candidates", out->n_candidates) ||
              attr_int64(w, "n_verified", out->n_candidates - out->n_rejected) ||
              attr_int64(w, "n_rejected", out->n_rejected))
                 ? DG_FAIL
                 : DG_OK;
    }
    return dg_agree(w->ctx, rc != DG_OK ? write_failed(w, failed, err) : DG_OK, err);
}

static int writer_open(const dg_ctx *ctx, const char *path, const char *tmp, writer *w, dg_err *err)
{
    /* Root attributes listed in the order written (seconds_* in stage order). */
    w->file = dg_h5_create_tmp(ctx, tmp, 1);
    if (w->file < 0)
        note(w);
    int rc = w->file < 0 ? dg_failc(err, DG_E_OUTPUT, "output %s: cannot create %s (%s)", path, tmp, w->detail) : DG_OK;
    return dg_agree(ctx, rc, err);
}

/* Closes everything; a failure to close counts only if all went well so far
 * (rc is then agreed again; a failed rc already was). */
static int writer_close(writer *w, int rc, dg_err *err)
{
    char detail[256];
    int closed = DG_OK;
    if (w->file >= 0 && H5Fclose(w->file) < 0)
        closed = dg_failc(err, DG_E_OUTPUT, "output %s: closing the file failed (%s)", w->path, dg_h5_detail(detail, sizeof detail));
    if (w->file < 0 || rc != DG_OK)
        return rc;
    return dg_agree(w->ctx, closed, err);
}

static int write_file(const dg_ctx *ctx, const char *path, const char *tmp, const dg_output *out, dg_err *err)
{
    layout lay;
    writer w = {ctx, path, -1, ""};
    if (make_layout(ctx, out, &lay, err) != DG_OK)
        return DG_FAIL;
    int rc = writer_open(ctx, path, tmp, &w, err);
    if (rc == DG_OK)
        rc = write_attributes(&w, out, &lay, err);
    if (rc == DG_OK)
        rc = write_items(&w, out, &lay, err);
    if (rc == DG_OK)
        rc = write_columns(&w, out, &lay, err);
    if (rc == DG_OK)
        rc = write_edges(&w, out, &lay, err);
    if (rc == DG_OK)
        rc = write_vectors(&w, out, &lay, err);
    if (rc == DG_OK)
        rc = write_inputs(&w, out, &lay, err);
    return writer_close(&w, rc, err);
}

int dg_h5_write_output(const dg_ctx *ctx, const char *path, const dg_output *out, dg_err *err)
{
    char tmp[DG_PATH_MAX + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return dg_failc(err, DG_E_OUTPUT, "output %s: path too long", path);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = write_file(ctx, path, tmp, out, err);
    rc = dg_h5_publish(ctx, tmp, path, rc, DG_E_OUTPUT, "output", err);
    dg_h5_quiet_end(&quiet);
    return rc;
}
