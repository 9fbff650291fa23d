/* embeddings.c - precomputed embeddings as input: the serial probe (rank 0)
 * that checks every listed file, its dataset, shape and dtype before any
 * work starts and resolves virtual datasets into their sources, and the
 * collective read in which each rank takes its own row range as hyperslabs
 * of the files it overlaps, converted to float32 (float16 by float16.c, other
 * types by HDF5) and L2-normalised.
 * The list itself is emb_sources.c's; the output file is h5_output.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "input/embeddings.h"
#include "input/float16.h"

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

/* ---- probing (rank 0, serial HDF5) --------------------------------------- */

static hid_t open_serial(const char *path, dg_err *err)
{
    char detail[256];
    if (check_file(path, err) != DG_OK)
        return -1;
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 < 0) {
        dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot read (%s)", path, dg_h5_detail(detail, sizeof detail));
        return -1;
    }
    if (is_hdf5 == 0) {
        dg_failc(err, DG_E_INPUT, "input.embeddings %s: not an HDF5 file", path);
        return -1;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot open (%s)", path, dg_h5_detail(detail, sizeof detail));
    return file;
}

/* Every file the input holds must have the first file's D. */
static int check_dim(const dg_emb_sources *s, const char *path, const char *dataset, int d, dg_err *err)
{
    if (s->d == 0 || s->d == d)
        return DG_OK;
    return dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s has D = %d, but %s has D = %d", path, dataset, d,
                   s->n_inputs ? s->inputs[0] : "the first file", s->d);
}

/* A dataset with external storage (jobs/npy_to_h5.py's view of a .npy
 * file) depends on its external files too. */
static int add_external_deps(hid_t dcpl, dg_emb_sources *s, dg_err *err)
{
    int count = H5Pget_external_count(dcpl);
    for (int i = 0; i < count; i++) {
        char name[DG_PATH_MAX] = "";
        off_t offset;
        hsize_t size;
        if (H5Pget_external(dcpl, (unsigned)i, sizeof name, name, &offset, &size) < 0)
            return dg_failc(err, DG_E_INPUT, "input.embeddings: cannot read external file %d of a dataset", i);
        name[sizeof name - 1] = '\0';
        if (dg_emb_sources_add_dep(s, name, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

/* One mapping of a virtual dataset: virtual rows [lo, lo + rows) from
 * source rows [src_lo, ...) of dataset `dset` in file `file`. */
typedef struct vds_map {
    int64_t lo, rows, src_lo;
    int whole; /* the source selection is ALL: rows must be all of the source's */
    char file[DG_PATH_MAX], dset[256];
} vds_map;

/* A selection that is one block of whole rows [*lo, *lo + *rows) of width d. */
static int row_block(hid_t space, int d, int64_t *lo, int64_t *rows)
{
    hsize_t start[2], end[2];
    if (H5Sget_simple_extent_ndims(space) != 2 || H5Sget_select_bounds(space, start, end) < 0)
        return 0;
    hssize_t points = H5Sget_select_npoints(space);
    if (start[1] != 0 || end[1] + 1 != (hsize_t)d || points != (hssize_t)((end[0] - start[0] + 1) * (hsize_t)d))
        return 0;
    *lo = (int64_t)start[0];
    *rows = (int64_t)(end[0] - start[0] + 1);
    return 1;
}

static int read_map(hid_t dcpl, size_t i, int d, vds_map *m)
{
    hid_t vspace = H5Pget_virtual_vspace(dcpl, i), sspace = H5Pget_virtual_srcspace(dcpl, i);
    int64_t src_rows = 0;
    m->src_lo = 0;
    int ok = vspace >= 0 && sspace >= 0 && row_block(vspace, d, &m->lo, &m->rows);
    m->whole = ok && H5Sget_select_type(sspace) == H5S_SEL_ALL;
    if (ok && !m->whole)
        ok = row_block(sspace, d, &m->src_lo, &src_rows) && src_rows == m->rows;
    if (ok)
        ok = H5Pget_virtual_filename(dcpl, i, m->file, sizeof m->file) > 0 &&
             H5Pget_virtual_dsetname(dcpl, i, m->dset, sizeof m->dset) > 0 &&
             strlen(m->file) + 1 < sizeof m->file && strlen(m->dset) + 1 < sizeof m->dset;
    if (vspace >= 0)
        H5Sclose(vspace);
    if (sspace >= 0)
        H5Sclose(sspace);
    return ok;
}

static int cmp_map(const void *a, const void *b)
{
    const vds_map *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* A source file's name as HDF5 resolves it: "." is the virtual file itself,
 * a relative name is taken from the virtual file's folder. */
static int source_path(const char *vds, const char *name, char *out, size_t len)
{
    const char *slash = strrchr(vds, '/');
    int w;
    if (strcmp(name, ".") == 0)
        w = snprintf(out, len, "%s", vds);
    else if (name[0] == '/' || !slash)
        w = snprintf(out, len, "%s", name);
    else
        w = snprintf(out, len, "%.*s/%s", (int)(slash - vds), vds, name);
    return w >= 0 && (size_t)w < len;
}

/* Opens a mapping's source and adds it as a segment. */
static int add_source(const char *vds, const vds_map *m, int d, dg_emb_sources *s, dg_err *err)
{
    char path[DG_PATH_MAX];
    if (!source_path(vds, m->file, path, sizeof path))
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: source file name %s is too long", vds, m->file);
    hid_t file = open_serial(path, err), dset = -1;
    int64_t n = 0;
    int sd = 0;
    int rc = file < 0 ? DG_FAIL : open_embeddings(file, path, m->dset, &dset, &n, &sd, err);
    hid_t dcpl = rc == DG_OK ? H5Dget_create_plist(dset) : -1;
    if (rc == DG_OK && (dcpl < 0 || H5Pget_layout(dcpl) == H5D_VIRTUAL))
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: source %s:%s is itself virtual (not supported)", vds, path,
                      m->dset);
    if (rc == DG_OK && (sd != d || (m->whole && n != m->rows) || m->src_lo + m->rows > n))
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: source %s:%s is %lld x %d, the mapping needs rows %lld..%lld "
                      "of D = %d", vds, path, m->dset, (long long)n, sd, (long long)m->src_lo,
                      (long long)(m->src_lo + m->rows), d);
    if (rc == DG_OK)
        rc = add_external_deps(dcpl, s, err);
    if (rc == DG_OK && dg_emb_sources_add_dep(s, path, err) == DG_OK)
        rc = dg_emb_sources_add_segment(s, path, m->dset, m->src_lo, m->rows, err);
    else if (rc == DG_OK)
        rc = DG_FAIL;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (dset >= 0)
        H5Dclose(dset);
    if (file >= 0)
        H5Fclose(file);
    return rc;
}

/* A virtual dataset is read through its sources (parallel HDF5 1.10 cannot
 * read a VDS through MPI-IO): every mapping must be a block of whole rows
 * from a block of whole rows, and together they must tile the n rows. */
static int add_virtual(const char *path, const char *dataset, hid_t dcpl, int64_t n, int d, dg_emb_sources *s,
                       dg_err *err)
{
    size_t count = 0;
    if (H5Pget_virtual_count(dcpl, &count) < 0 || count == 0)
        return dg_failc(err, DG_E_INPUT, "input.embeddings %s: virtual dataset %s has no mappings", path, dataset);
    vds_map *map = dg_alloc(count, sizeof *map, err);
    if (!map)
        return DG_FAIL;
    int rc = DG_OK;
    for (size_t i = 0; rc == DG_OK && i < count; i++)
        if (!read_map(dcpl, i, d, &map[i]))
            rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: mapping %zu of virtual dataset %s is not a block of whole "
                          "rows from a block of whole rows (not supported)", path, i, dataset);
    if (rc == DG_OK)
        qsort(map, count, sizeof *map, cmp_map);
    for (size_t i = 0, next = 0; rc == DG_OK && i <= count; i++) {
        int64_t at = i < count ? map[i].lo : n;
        if (at != (int64_t)next)
            rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: virtual dataset %s %s at row %lld (rows must be mapped "
                          "once each)", path, dataset, at > (int64_t)next ? "leaves rows unmapped" : "maps rows twice",
                          (long long)(at > (int64_t)next ? (int64_t)next : at));
        else if (i < count)
            next = (size_t)(map[i].lo + map[i].rows);
    }
    for (size_t i = 0; rc == DG_OK && i < count; i++)
        rc = add_source(path, &map[i], d, s, err);
    free(map);
    return rc;
}

/* One listed file: its dataset as one segment, or a VDS's sources. */
static int probe_input(const char *path, const char *dataset, dg_emb_sources *s, dg_err *err)
{
    hid_t file = open_serial(path, err), dset = -1, dcpl = -1;
    int64_t n = 0;
    int d = 0;
    int rc = file < 0 ? DG_FAIL : open_embeddings(file, path, dataset, &dset, &n, &d, err);
    if (rc == DG_OK)
        rc = check_dim(s, path, dataset, d, err);
    if (rc == DG_OK && (dcpl = H5Dget_create_plist(dset)) < 0)
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: cannot read the layout of dataset %s", path, dataset);
    if (rc == DG_OK && H5Pget_layout(dcpl) == H5D_VIRTUAL) {
        rc = dg_emb_sources_add_dep(s, path, err);
        if (rc == DG_OK)
            rc = add_virtual(path, dataset, dcpl, n, d, s, err);
    } else if (rc == DG_OK) {
        rc = add_external_deps(dcpl, s, err);
        if (rc == DG_OK)
            rc = dg_emb_sources_add_dep(s, path, err);
        if (rc == DG_OK)
            rc = dg_emb_sources_add_segment(s, path, dataset, 0, n, err);
    }
    if (rc == DG_OK)
        rc = dg_emb_sources_add_input(s, path, n, err);
    s->d = d;
    s->n_total += n;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (dset >= 0)
        H5Dclose(dset);
    if (file >= 0)
        H5Fclose(file);
    return rc;
}

static int probe_sources(const char *spec, const char *dataset, dg_emb_sources *s, dg_err *err)
{
    char **files = NULL;
    int n_files = 0;
    memset(s, 0, sizeof *s);
    int rc = dg_emb_expand(spec, &files, &n_files, err);
    for (int i = 0; rc == DG_OK && i < n_files; i++)
        rc = probe_input(files[i], dataset, s, err);
    dg_emb_free_strings(files, n_files);
    if (rc != DG_OK)
        dg_emb_sources_free(s);
    return rc;
}

int dg_h5_probe_sources(const char *spec, const char *dataset, dg_emb_sources *s, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = probe_sources(spec, dataset, s, err);
    dg_h5_quiet_end(&quiet);
    return rc;
}

int dg_h5_probe_embeddings(const char *spec, const char *dataset, int64_t *n, int *d, dg_err *err)
{
    dg_emb_sources s;
    int rc = dg_h5_probe_sources(spec, dataset, &s, err);
    *n = s.n_total;
    *d = s.d;
    dg_emb_sources_free(&s);
    return rc;
}

int dg_h5_embeddings_sources(const dg_ctx *ctx, const char *spec, const char *dataset, dg_emb_sources *s,
                             dg_err *err)
{
    int rc = DG_OK;
    memset(s, 0, sizeof *s);
    if (ctx->rank == 0)
        rc = dg_h5_probe_sources(spec, dataset, s, err);
    rc = dg_emb_sources_bcast(ctx, s, rc, err);
    if (rc != DG_OK)
        dg_emb_sources_free(s);
    return rc;
}

/* ---- the collective read ------------------------------------------------- */

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

/* This rank's part of one segment: `rows` rows from file row `src` into
 * `dst` (rows may be 0: the rank still takes part in every read). */
typedef struct part {
    hsize_t src, rows;
    float *dst;
    int d;
} part;

/* IEEE binary16 in the machine's byte order: read raw and widened by
 * dg_half_to_float (float16.h says why).  Any other 16-bit float (bfloat16,
 * the other byte order) is left to HDF5's conversion. */
static int is_native_half(hid_t dset)
{
    hid_t t = H5Dget_type(dset);
    if (t < 0)
        return 0;
    size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
    int half = H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 2 &&
               H5Tget_order(t) == H5Tget_order(H5T_NATIVE_FLOAT) &&
               H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos == 15 && epos == 10 && esize == 5 &&
               mpos == 0 && msize == 10 && H5Tget_ebias(t) == 15 && H5Tget_norm(t) == H5T_NORM_IMPLIED;
    H5Tclose(t);
    return half;
}

/* Where the part's rows land: float32 rows in place, or raw halves in the
 * second half of the same bytes, widened in place after the read. */
typedef struct landing {
    hid_t mem_type;
    size_t elem;
    char *base;
} landing;

/* One collective read of rows [first, first + rows) of the part. */
static herr_t read_block(hid_t dset, hid_t fspace, hid_t dxpl, const part *p, const landing *to, hsize_t first,
                         hsize_t rows)
{
    hsize_t start[2] = {p->src + first, 0};
    hsize_t count[2] = {rows, (hsize_t)p->d};
    hid_t mspace = H5Screate_simple(2, count, NULL);
    herr_t st = mspace < 0 ? -1 : 0;
    if (st >= 0 && rows == 0)
        st = (H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0) ? -1 : 0;
    else if (st >= 0)
        st = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    float dummy = 0.0f;
    void *buf = rows ? (void *)(to->base + (size_t)first * (size_t)p->d * to->elem) : (void *)&dummy;
    if (st >= 0)
        st = H5Dread(dset, to->mem_type, mspace, fspace, dxpl, buf);
    if (mspace >= 0)
        H5Sclose(mspace);
    return st;
}

/* Collective over the segment's ranks: the part, in as many blocks as the
 * rank with the most blocks needs. */
static int read_rows(const dg_ctx *ctx, hid_t dset, const part *p, const dg_emb_segment *seg, dg_err *err)
{
    char detail[256] = "no detail from HDF5";
    hsize_t step = rows_per_read(dset, p->d), n = p->rows;
    long long mine = (long long)((n + step - 1) / step), reads = 0;
    MPI_Allreduce(&mine, &reads, 1, MPI_LONG_LONG, MPI_MAX, ctx->comm);
    hid_t fspace = H5Dget_space(dset);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    size_t values = (size_t)p->rows * (size_t)p->d;
    int half = is_native_half(dset);
    landing to = {H5T_NATIVE_FLOAT, sizeof(float), (char *)p->dst};
    if (half) /* no offset on a null dst: a rank without rows reads into a dummy */
        to = (landing){H5Dget_type(dset), sizeof(uint16_t), p->dst ? (char *)((uint16_t *)p->dst + values) : NULL};
    int ready = fspace >= 0 && dxpl >= 0 && to.mem_type >= 0 && H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) >= 0;
    /* No rank may skip a collective read that the others enter. */
    int rc = dg_agree(ctx, ready ? DG_OK : dg_failc(err, DG_E_INPUT, "input.embeddings %s: HDF5 setup failed", seg->path),
                      err);
    herr_t st = 0;
    for (long long r = 0; rc == DG_OK && r < reads; r++) {
        hsize_t first = (hsize_t)r * step < n ? (hsize_t)r * step : n;
        hsize_t rows = n - first < step ? n - first : step;
        /* After a failure the rank still joins the remaining reads, with none. */
        if (read_block(dset, fspace, dxpl, p, &to, first, st < 0 ? 0 : rows) < 0 && st >= 0) {
            dg_h5_detail(detail, sizeof detail);
            st = -1;
        }
    }
    if (rc == DG_OK && st < 0)
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: reading rows %lld..%lld of dataset %s failed (%s)", seg->path,
                     (long long)p->src, (long long)(p->src + p->rows), seg->dataset, detail);
    if (rc == DG_OK && half && values)
        dg_half_to_float((const uint16_t *)to.base, p->dst, values);
    if (half && to.mem_type >= 0)
        H5Tclose(to.mem_type);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (fspace >= 0)
        H5Sclose(fspace);
    return rc;
}

/* Collective over the segment's ranks; every step ends in dg_agree, so they
 * all leave at the same point.  The file may have changed since the probe:
 * its shape is checked again. */
static int read_segment(const dg_ctx *ctx, const dg_emb_segment *seg, const part *p, dg_err *err)
{
    if (dg_agree(ctx, check_file(seg->path, err), err) != DG_OK)
        return DG_FAIL;
    hid_t file = open_parallel(ctx, seg->path, err);
    if (dg_agree(ctx, file < 0 ? DG_FAIL : DG_OK, err) != DG_OK) {
        if (file >= 0)
            H5Fclose(file);
        return DG_FAIL;
    }
    hid_t dset = -1;
    int64_t n = 0;
    int d = 0;
    int rc = open_embeddings(file, seg->path, seg->dataset, &dset, &n, &d, err);
    if (rc == DG_OK && (d != p->d || n < seg->src_lo + seg->rows))
        rc = dg_failc(err, DG_E_INPUT, "input.embeddings %s: dataset %s is now %lld x %d, it was probed with rows %lld..%lld "
                      "of D = %d (changed during the run?)", seg->path, seg->dataset, (long long)n, d,
                      (long long)seg->src_lo, (long long)(seg->src_lo + seg->rows), p->d);
    rc = dg_agree(ctx, rc, err);
    if (rc == DG_OK)
        rc = dg_agree(ctx, read_rows(ctx, dset, p, seg, err), err);
    if (dset >= 0)
        H5Dclose(dset);
    int closed = H5Fclose(file) < 0 ? dg_failc(err, DG_E_INPUT, "input.embeddings %s: closing the file failed", seg->path)
                                    : DG_OK;
    return rc == DG_OK ? dg_agree(ctx, closed, err) : DG_FAIL;
}

/* The ranks owning rows of a segment are a contiguous range r0..r1 (a rank
 * with no rows inside it takes part with none).  Each segment is read by a
 * communicator of just those ranks, made with MPI_Comm_create_group, which
 * only they call: a rank opens and reads only the files it has rows in, so
 * thousands of shards cost each rank its own few, not a collective open of
 * every file by every rank.  Every rank walks the segments in the same
 * order, so two ranks sharing segments meet them in the same order (no
 * deadlock); a single owner reads alone (MPI_COMM_SELF). */
static int segment_comm(const dg_ctx *ctx, int r0, int r1, int tag, MPI_Comm *comm)
{
    if (r0 == r1) {
        *comm = MPI_COMM_SELF;
        return DG_OK;
    }
    MPI_Group world, group;
    int range[1][3] = {{r0, r1, 1}};
    MPI_Comm_group(ctx->comm, &world);
    MPI_Group_range_incl(world, 1, range, &group);
    int rc = MPI_Comm_create_group(ctx->comm, group, tag, comm) == MPI_SUCCESS ? DG_OK : DG_FAIL;
    MPI_Group_free(&group);
    MPI_Group_free(&world);
    return rc;
}

static int read_sources(const dg_ctx *ctx, const dg_emb_sources *s, dg_items *items, dg_err *err)
{
    int rc = DG_OK;
    int64_t lo = items->lo, hi = items->lo + items->n;
    for (int i = 0; i < s->n_segments; i++) {
        const dg_emb_segment *seg = &s->seg[i];
        int r0 = dg_range_owner(s->n_total, ctx->size, seg->lo);
        int r1 = dg_range_owner(s->n_total, ctx->size, seg->lo + seg->rows - 1);
        if (ctx->rank < r0 || ctx->rank > r1)
            continue;
        int64_t a = seg->lo > lo ? seg->lo : lo, b = seg->lo + seg->rows < hi ? seg->lo + seg->rows : hi;
        part p = {(hsize_t)(seg->src_lo + a - seg->lo), (hsize_t)(b > a ? b - a : 0),
                  b > a ? items->vec + (size_t)(a - lo) * (size_t)s->d : NULL, s->d};
        MPI_Comm comm;
        if (segment_comm(ctx, r0, r1, i % 32768, &comm) != DG_OK) {
            /* MPI's default handler aborts first; kept for MPI_ERRORS_RETURN */
            return dg_failc(err, DG_E_INPUT, "input.embeddings %s: MPI_Comm_create_group failed", seg->path);
        }
        dg_ctx sub = *ctx;
        sub.comm = comm;
        MPI_Comm_rank(comm, &sub.rank);
        MPI_Comm_size(comm, &sub.size);
        /* After a failure on any of its ranks, the segment is skipped by all of them. */
        rc = dg_agree(&sub, rc, err);
        if (rc == DG_OK)
            rc = read_segment(&sub, seg, &p, err);
        if (comm != MPI_COMM_SELF)
            MPI_Comm_free(&comm);
    }
    return rc;
}

static int read_parallel(const dg_ctx *ctx, const dg_emb_sources *s, dg_items *items, dg_err *err)
{
    int64_t lo = dg_range_lo(s->n_total, ctx->size, ctx->rank);
    int rc = dg_items_alloc(items, s->n_total, lo, dg_range_lo(s->n_total, ctx->size, ctx->rank + 1) - lo, s->d, 0, err);
    if (rc != DG_OK) {
        dg_err why = *err;
        rc = dg_failc(err, why.code, "input.embeddings %s: %lld x %d: %.300s", s->n_inputs ? s->inputs[0] : "",
                      (long long)s->n_total, s->d, why.msg);
    }
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    return dg_agree(ctx, read_sources(ctx, s, items, err), err);
}

/* One line per bad row (the first few on each rank), so a NaN row in a huge
 * file is visible without flooding the log. */
/* The listed file holding global row `id`, for the log. */
static const char *file_of(const dg_emb_sources *s, int64_t id)
{
    return s->n_inputs ? s->inputs[dg_emb_sources_input_of(s, id)] : "";
}

static void log_bad_rows(const dg_ctx *ctx, const dg_items *items, const dg_emb_sources *s)
{
    enum { MAX_LINES = 10 };
    int64_t bad = 0;
    for (int64_t i = 0; i < items->n; i++) {
        if (items->status[i] != DG_ST_BAD_VECTOR)
            continue;
        if (bad++ < MAX_LINES && !ctx->quiet)
            dg_log_rank(ctx, "input.embeddings %s: item %lld has NaN/Inf or zero norm (bad_vector)",
                        file_of(s, items->lo + i), (long long)(items->lo + i));
    }
    if (bad > MAX_LINES && !ctx->quiet)
        dg_log_rank(ctx, "input.embeddings: %lld more bad rows on this rank", (long long)(bad - MAX_LINES));
}

int dg_h5_read_sources(const dg_ctx *ctx, const dg_emb_sources *s, dg_items *items, dg_err *err)
{
    memset(items, 0, sizeof *items);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    int rc = read_parallel(ctx, s, items, err);
    dg_h5_quiet_end(&quiet);
    if (rc != DG_OK) {
        dg_items_free(items);
        return DG_FAIL;
    }
    if (dg_items_normalize(items) > 0)
        log_bad_rows(ctx, items, s);
    return DG_OK;
}

int dg_h5_read_embeddings(const dg_ctx *ctx, const char *spec, const char *dataset, dg_items *items, dg_err *err)
{
    dg_emb_sources s;
    memset(items, 0, sizeof *items);
    if (dg_h5_embeddings_sources(ctx, spec, dataset, &s, err) != DG_OK)
        return DG_FAIL;
    int rc = dg_h5_read_sources(ctx, &s, items, err);
    dg_emb_sources_free(&s);
    return rc;
}
