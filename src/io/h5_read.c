/* h5_read.c - serial readers of output files (for `compare`, `info` and
 * tests): the format check every reader starts with, the edge list, and the
 * human summary of a file.  Writing the file is h5_output.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/h5_read.h"

#include "io/h5_open.h"

/* Rows of /items/status counted per read. */
#define STATUS_CHUNK ((hsize_t)1 << 20)

/* A string attribute, variable or fixed length, as a malloc'd C string. */
/* Shape of a dataset; DG_FAIL if it does not exist. */
static int dataset_dims(hid_t file, const char *name, int *rank, hsize_t dims[3])
{
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return DG_FAIL;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? -1 : H5Dget_space(dset);
    *rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (*rank >= 0 && *rank <= 3)
        H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return *rank >= 0 && *rank <= 3 ? DG_OK : DG_FAIL;
}

/* Whether a dataset holds all of its elements (see dg_h5_fully_stored). */
static int stored_in_full(hid_t file, const char *name)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    int full = dset >= 0 && dg_h5_fully_stored(dset);
    if (dset >= 0)
        H5Dclose(dset);
    return full;
}

static int read_column(hid_t file, const char *name, hid_t mtype, void *buf)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    herr_t st = dset < 0 ? -1 : H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (dset >= 0)
        H5Dclose(dset);
    return st < 0 ? DG_FAIL : DG_OK;
}

static int read_edge_columns(hid_t file, const char *path, dg_edges *edges, dg_err *err)
{
    int rank[3];
    hsize_t dims[3][3];
    if (H5Lexists(file, "/edges", H5P_DEFAULT) <= 0 || dataset_dims(file, "/edges/src", &rank[0], dims[0]) ||
        dataset_dims(file, "/edges/dst", &rank[1], dims[1]) || dataset_dims(file, "/edges/sim", &rank[2], dims[2]))
        return dg_failc(err, DG_E_INPUT, "%s: /edges/{src,dst,sim} missing", path);
    if (rank[0] != 1 || rank[1] != 1 || rank[2] != 1 || dims[1][0] != dims[0][0] || dims[2][0] != dims[0][0])
        return dg_failc(err, DG_E_INPUT, "%s: /edges/{src,dst,sim} are not columns of one length", path);
    if (!stored_in_full(file, "/edges/src") || !stored_in_full(file, "/edges/dst") ||
        !stored_in_full(file, "/edges/sim"))
        return dg_failc(err, DG_E_INPUT, "%s: /edges claims %llu rows but does not store them (damaged file)", path,
                       (unsigned long long)dims[0][0]);
    int64_t n = (int64_t)dims[0][0];
    edges->src = dg_alloc((size_t)n, sizeof *edges->src, err);
    edges->dst = dg_alloc((size_t)n, sizeof *edges->dst, err);
    edges->sim = dg_alloc((size_t)n, sizeof *edges->sim, err);
    if (!edges->src || !edges->dst || !edges->sim)
        return DG_FAIL;
    edges->n = edges->cap = n;
    if (n > 0 && (read_column(file, "/edges/src", H5T_NATIVE_INT64, edges->src) ||
                  read_column(file, "/edges/dst", H5T_NATIVE_INT64, edges->dst) ||
                  read_column(file, "/edges/sim", H5T_NATIVE_FLOAT, edges->sim)))
        return dg_failc(err, DG_E_INPUT, "%s: reading /edges failed", path);
    return DG_OK;
}

int dg_h5_read_edges(const char *path, dg_edges *edges, dg_err *err)
{
    memset(edges, 0, sizeof *edges);
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_output(path, err);
    int rc = file < 0 ? DG_FAIL : read_edge_columns(file, path, edges, err);
    if (file >= 0)
        H5Fclose(file);
    dg_h5_quiet_end(&quiet);
    if (rc != DG_OK)
        dg_edges_free(edges);
    return rc;
}

/* Counts of each status value in /items/status, read in bounded chunks;
 * values outside the enum land in counts[DG_ST_COUNT]. */
static int count_statuses(hid_t file, int64_t counts[DG_ST_COUNT + 1])
{
    hid_t dset = H5Dopen2(file, "/items/status", H5P_DEFAULT);
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    hid_t fspace = dset < 0 ? -1 : H5Dget_space(dset);
    int8_t *buf = malloc(STATUS_CHUNK);
    hsize_t n = 0;
    herr_t st = (type < 0 || fspace < 0 || !buf || H5Tget_size(type) != 1 || !dg_h5_fully_stored(dset) ||
                 H5Sget_simple_extent_ndims(fspace) != 1 || H5Sget_simple_extent_dims(fspace, &n, NULL) < 0)
                    ? -1
                    : 0;
    for (hsize_t at = 0; st >= 0 && at < n; at += STATUS_CHUNK) {
        hsize_t count = n - at < STATUS_CHUNK ? n - at : STATUS_CHUNK;
        hid_t mspace = H5Screate_simple(1, &count, NULL);
        st = mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &at, NULL, &count, NULL);
        if (st >= 0)
            st = H5Dread(dset, type, mspace, fspace, H5P_DEFAULT, buf);
        for (hsize_t i = 0; st >= 0 && i < count; i++)
            counts[buf[i] >= 0 && buf[i] < DG_ST_COUNT ? buf[i] : DG_ST_COUNT]++;
        if (mspace >= 0)
            H5Sclose(mspace);
    }
    free(buf);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (type >= 0)
        H5Tclose(type);
    if (dset >= 0)
        H5Dclose(dset);
    return st < 0 ? DG_FAIL : DG_OK;
}

/* The value of `key = value` in INI text, or "?" when absent (files of
 * format 1 and 2, which have no pairs_threshold attribute). */
static void config_value(const char *text, const char *key, char *value, size_t len)
{
    snprintf(value, len, "?");
    size_t klen = strlen(key);
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        while (n > 0 && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
        size_t i = klen;
        if (n > klen && strncmp(line, key, klen) == 0) {
            while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i < n && line[i] == '=') {
                for (i++; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
                    ;
                size_t vend = n;
                while (vend > i && strchr(" \t\r", line[vend - 1]))
                    vend--;
                snprintf(value, len, "%.*s", (int)(vend - i), line + i);
                return;
            }
        }
        if (!end)
            return;
        line = end + 1;
    }
}

typedef struct stage_sum {
    int stages;
    double seconds;
} stage_sum;

static herr_t print_seconds(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    stage_sum *sum = data;
    double seconds = 0.0;
    if (strncmp(name, "seconds_", 8) != 0 || dg_h5_attr_number(obj, name, H5T_NATIVE_DOUBLE, &seconds) != DG_OK)
        return 0;
    printf("%s %s %.2f", sum->stages++ ? "," : "", name + 8, seconds);
    sum->seconds += seconds;
    return 0;
}

/* Stage times in the order written (name order for files that do not
 * track attribute creation order). */
static void print_times(hid_t file)
{
    stage_sum sum = {0, 0.0};
    printf("  seconds      ");
    hsize_t at = 0;
    if (H5Aiterate2(file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, print_seconds, &sum) < 0) {
        at = 0;
        sum = (stage_sum){0, 0.0};
        H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, &at, print_seconds, &sum);
    }
    printf(" (total %.2f)\n", sum.seconds);
}

static void print_statuses(hid_t file)
{
    int64_t counts[DG_ST_COUNT + 1] = {0};
    printf("  status       ");
    if (count_statuses(file, counts) != DG_OK) {
        printf(" unreadable\n");
        return;
    }
    const char *sep = " ";
    for (int s = 0; s <= DG_ST_COUNT; s++) {
        if (counts[s] == 0)
            continue;
        printf("%s%s %lld", sep, s < DG_ST_COUNT ? dg_status_name((dg_status)s) : "invalid", (long long)counts[s]);
        sep = ", ";
    }
    printf("\n");
}

/* C, K and D from /centroids (or /items/cluster and /embeddings). */
static void print_shape(hid_t file, const char *config)
{
    int rank = 0;
    hsize_t dims[3] = {0, 0, 0};
    long long c = 0, k = 0, d = -1;
    if (dataset_dims(file, "/centroids", &rank, dims) == DG_OK && rank == 3) {
        c = (long long)dims[0];
        k = (long long)dims[1];
        d = (long long)dims[2];
    } else if (dataset_dims(file, "/items/cluster", &rank, dims) == DG_OK && rank == 2) {
        c = (long long)dims[1];
    }
    if (d < 0 && dataset_dims(file, "/embeddings", &rank, dims) == DG_OK && rank == 2)
        d = (long long)dims[1];
    char threshold[64];
    float typed = 0.0f;
    if (dg_h5_attr_number(file, "pairs_threshold", H5T_NATIVE_FLOAT, &typed) == DG_OK)
        snprintf(threshold, sizeof threshold, "%.9g", (double)typed);
    else
        config_value(config, "threshold", threshold, sizeof threshold);
    printf("  search        C = %lld clusterings, K = %lld clusters, ", c, k);
    if (d >= 0)
        printf("D = %lld, ", d);
    else
        printf("D = ?, ");
    printf("threshold = %s%s\n", threshold, c == 0 ? " (exact search)" : "");
}

static void print_counts(hid_t file)
{
    int64_t n = 0, failed = 0, edges = 0, components = 0, removed = 0;
    dg_h5_attr_number(file, "n_items", H5T_NATIVE_INT64, &n);
    dg_h5_attr_number(file, "n_failed", H5T_NATIVE_INT64, &failed);
    dg_h5_attr_number(file, "n_edges", H5T_NATIVE_INT64, &edges);
    dg_h5_attr_number(file, "n_components", H5T_NATIVE_INT64, &components);
    dg_h5_attr_number(file, "n_removed", H5T_NATIVE_INT64, &removed);
    printf("  items         %lld (%lld failed)\n", (long long)n, (long long)failed);
    printf("  edges         %lld\n", (long long)edges);
    printf("  components    %lld\n", (long long)components);
    printf("  removed       %lld (%.2f%% of items)\n", (long long)removed,
           n > 0 ? 100.0 * (double)removed / (double)n : 0.0);
}

static void print_summary(hid_t file, const char *path, long long bytes)
{
    char *program = dg_h5_attr_text(file, "program_version");
    char *config = dg_h5_attr_text(file, "config");
    int ranks = 0;
    unsigned long long seed = 0;
    dg_h5_attr_number(file, "ranks", H5T_NATIVE_INT, &ranks);
    dg_h5_attr_number(file, "seed", H5T_NATIVE_ULLONG, &seed);
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double size = (double)bytes;
    int unit = 0;
    for (; size >= 1024.0 && unit < 4; unit++)
        size /= 1024.0;
    printf("%s: %.*f %s\n", path, unit ? 1 : 0, size, units[unit]);
    printf("  format        %s version %d, written by dupgraph %s on %d ranks, seed %llu\n", DG_FORMAT_NAME,
           DG_FORMAT_VERSION, program ? program : "?", ranks, seed);
    print_counts(file);
    print_shape(file, config ? config : "");
    print_times(file);
    print_statuses(file);
    free(config);
    free(program);
}

int dg_h5_print_info(const char *path, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = dg_h5_open_output(path, err);
    if (file >= 0) {
        struct stat st;
        print_summary(file, path, stat(path, &st) == 0 ? (long long)st.st_size : 0);
        H5Fclose(file);
    }
    dg_h5_quiet_end(&quiet);
    return file < 0 ? DG_FAIL : DG_OK;
}
