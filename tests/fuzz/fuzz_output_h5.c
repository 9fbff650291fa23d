/* fuzz_output_h5.c - libFuzzer harness for the readers of output files:
 * the format check, facts and typed settings (io/h5_file.c), the row and
 * edge readers (io/h5_columns.c), and `compare`, `info` and `export` on
 * top of them, on files built from the input by fuzz_h5_build.h.  Each root attribute
 * and dataset of the format is present with its proper type and shape,
 * absent, stored with another shape (an array where a scalar belongs) or
 * with an arbitrary type and shape.
 *
 * Checked beyond "no crash, no UB, no leak": a refusal has a reason, and an
 * edge list that reads compares equal to itself (unless the file's facts,
 * or a forest's components, do not read).
 */
#include <stdio.h>

#include "fuzz_h5_build.h"
#include "io/h5_columns.h"
#include "io/h5_file.h"
#include "tools/compare.h"
#include "tools/export.h"
#include "tools/info.h"

static FILE *devnull;

static void check(int ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_output_h5: %s (%s)\n", what, detail);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    devnull = fopen("/dev/null", "w");
    return devnull ? 0 : -1;
}

/* `count` elements of one value (a pointer for variable-length strings). */
static void attr_write(hid_t obj, const char *name, hid_t type, hid_t space, const void *value, size_t count)
{
    hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0)
        return;
    size_t size = H5Tget_size(type);
    unsigned char *buf = calloc(count ? count : 1, size);
    for (size_t i = 0; buf && i < count; i++)
        memcpy(buf + i * size, value, size);
    if (buf && count)
        H5Awrite(attr, type, buf);
    free(buf);
    H5Aclose(attr);
}

/* Attribute `name`: proper (scalar of `type` holding `value`), absent, an
 * array of that value, or anything else. */
static void fz_attr(fz_bytes *b, hid_t obj, const char *name, hid_t type, const void *value)
{
    unsigned how = fz_take(b, 6);
    hid_t space;
    if (how == 0)
        return;
    if (how <= 2 || how == 3) {
        hsize_t n = how == 3 ? 1 + fz_take(b, 8) : 1;
        space = how == 3 ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_SCALAR);
        attr_write(obj, name, type, space, value, (size_t)n);
    } else {
        hsize_t dims[3];
        int rank;
        hid_t t = fz_type(b);
        space = fz_space(b, how == 4 ? 0 : -1, dims, &rank);
        hid_t attr = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
        hssize_t cells = fz_cells(space, 4096);
        if (attr >= 0 && cells > 0 && !fz_is_vlen(t)) {
            void *buf = fz_fill(b, (size_t)cells * H5Tget_size(t));
            if (buf)
                H5Awrite(attr, t, buf);
            free(buf);
        }
        if (attr >= 0)
            H5Aclose(attr);
        H5Tclose(t);
    }
    H5Sclose(space);
}

/* A string attribute: variable-length, or fixed-length of a fuzzed size. */
static void fz_text_attr(fz_bytes *b, hid_t obj, const char *name, const char *text)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (fz_take(b, 2)) {
        H5Tset_size(t, H5T_VARIABLE);
        fz_attr(b, obj, name, t, &text);
    } else {
        size_t size = 1 + fz_take(b, 24);
        char *fixed = calloc(size, 1);
        if (fixed) {
            memcpy(fixed, text, strlen(text) < size ? strlen(text) : size);
            H5Tset_size(t, size);
            fz_attr(b, obj, name, t, fixed);
        }
        free(fixed);
    }
    H5Tclose(t);
}

/* Consistent /edges of a few rows, or each column fuzzed on its own. */
static void fz_edges(fz_bytes *b, hid_t file)
{
    static const char *const cols[] = {"/edges/src", "/edges/dst", "/edges/sim"};
    if (fz_take(b, 3)) {
        for (int i = 0; i < 3; i++)
            if (fz_take(b, 8))
                fz_dataset(b, file, cols[i], 1);
        return;
    }
    hsize_t n = fz_take(b, 32);
    hid_t space = H5Screate_simple(1, &n, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t types[] = {H5T_STD_I64LE, H5T_STD_I64LE, H5T_IEEE_F32LE};
    for (int i = 0; i < 3; i++) {
        hid_t dset = H5Dcreate2(file, cols[i], types[i], space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (dset >= 0) {
            void *buf = fz_fill(b, (size_t)n * H5Tget_size(types[i]));
            if (buf && n)
                H5Dwrite(dset, types[i], H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            free(buf);
            H5Dclose(dset);
        }
    }
    H5Pclose(lcpl);
    H5Sclose(space);
}

static int build_file(fz_bytes *b, const char *path)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0)
        return -1;
    const int version = DG_FORMAT_VERSION, ranks = 2;
    const int64_t counts[5] = {40, 3, 7, 33, 7};
    const double seconds = 1.5;
    const uint64_t seed = 1234;
    char config[256];
    size_t clen = fz_take(b, sizeof config);
    snprintf(config, sizeof config, "[pairs]\nthreshold = %.*s\n", (int)(clen < b->n ? clen : b->n), (const char *)b->p);
    fz_text_attr(b, file, "format", fz_take(b, 8) ? DG_FORMAT_NAME : "dupgraph2");
    fz_attr(b, file, "format_version", H5T_NATIVE_INT, &version);
    fz_text_attr(b, file, "program_version", DG_VERSION);
    fz_text_attr(b, file, "config", config);
    fz_attr(b, file, "seed", H5T_NATIVE_UINT64, &seed);
    fz_attr(b, file, "ranks", H5T_NATIVE_INT, &ranks);
    static const char *const count_names[] = {"n_items", "n_failed", "n_edges", "n_components", "n_removed"};
    for (int i = 0; i < 5; i++)
        fz_attr(b, file, count_names[i], H5T_NATIVE_INT64, &counts[i]);
    /* format 3's typed settings */
    const float threshold = 0.9f;
    const int64_t search[3] = {3, 2, 2};
    static const char *const search_names[] = {"cluster_k", "cluster_clusterings", "cluster_probes"};
    fz_attr(b, file, "pairs_threshold", H5T_NATIVE_FLOAT, &threshold);
    for (int i = 0; i < 3; i++)
        fz_attr(b, file, search_names[i], H5T_NATIVE_INT64, &search[i]);
    fz_text_attr(b, file, "mode", "run");
    fz_text_attr(b, file, "embedder", "embeddings");
    fz_text_attr(b, file, "graph_keep", "first");
    for (unsigned i = 0, n = fz_take(b, 4); i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "seconds_%c", 'a' + (char)fz_take(b, 26));
        fz_attr(b, file, name, H5T_NATIVE_DOUBLE, &seconds);
    }
    fz_edges(b, file);
    static const char *const sets[] = {"/items/status", "/centroids", "/items/cluster", "/embeddings",
                                       "/items/path",   "/items/keep", "/items/id"};
    static const int ranks_of[] = {1, 3, 2, 2, 1, 1, 1};
    for (int i = 0; i < 7; i++)
        if (fz_take(b, 2))
            fz_dataset(b, file, sets[i], ranks_of[i]);
    return H5Fclose(file) < 0 ? -1 : 0;
}

/* The facts, then `export` of all three lists (which streams every row). */
static void analyst_readers(const char *path)
{
    dg_err err = {0};
    dg_h5_facts facts;
    if (dg_h5_read_facts(path, &facts, &err) == DG_OK) {
        check(facts.path_len > 0 && facts.config && facts.program_version, "facts incomplete", path);
        dg_h5_facts_free(&facts);
    } else {
        check(err.msg[0] != '\0', "read_facts failed without a reason", "");
    }
    char keep[160], removed[160], edges[160];
    snprintf(keep, sizeof keep, "%s.keep", path);
    snprintf(removed, sizeof removed, "%s.removed", path);
    snprintf(edges, sizeof edges, "%s.edges", path);
    dg_export_files files = {keep, removed, edges, NULL}; /* no remove-keys folder */
    dg_export_counts counts;
    err.msg[0] = '\0';
    if (dg_export(path, &files, &counts, &err) != DG_OK)
        check(err.msg[0] != '\0', "export failed without a reason", "");
    unlink(keep);
    unlink(removed);
    unlink(edges);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_bytes b = {data, size};
    char path[128];
    fz_path("out", path, sizeof path);
    if (build_file(&b, path) != 0) {
        unlink(path);
        return 0;
    }
    dg_err err = {0};
    dg_edges edges;
    if (dg_h5_read_edges(path, &edges, &err) == DG_OK) {
        check(edges.n >= 0 && (edges.n == 0 || (edges.src && edges.dst && edges.sim)), "edges without arrays", "");
        dg_edges_free(&edges);
        /* compare also reads the file's facts (the edges' mode) and, for a
         * forest, the components: only those may stop it, with a reason */
        dg_h5_facts facts;
        dg_err facts_err = {0};
        int facts_read = dg_h5_read_facts(path, &facts, &facts_err) == DG_OK;
        int forest = facts_read && facts.settings.forest;
        if (facts_read)
            dg_h5_facts_free(&facts);
        err.msg[0] = '\0';
        int compared = dg_compare_files(path, path, devnull, &err) == DG_OK;
        check(compared || (err.msg[0] != '\0' && (!facts_read || forest)), "edges read but do not compare", err.msg);
    } else {
        check(err.msg[0] != '\0', "read_edges failed without a reason", "");
    }
    err.msg[0] = '\0';
    if (dg_info_print(path, devnull, &err) != DG_OK)
        check(err.msg[0] != '\0', "print_info failed without a reason", "");
    analyst_readers(path);
    unlink(path);
    return 0;
}
