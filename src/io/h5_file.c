/* h5_file.c - an output file read serially as a whole: the format check,
 * root attributes and the facts readers start from (see h5_file.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/h5_file.h"

#include "dupgraph/config.h"
#include "io/h5_open.h"

char *dg_h5_attr_text(hid_t obj, const char *name)
{
    hid_t attr = dg_h5_open_scalar_attr(obj, name);
    hid_t ftype = attr < 0 ? -1 : H5Aget_type(attr);
    char *text = NULL;
    if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING) {
        hid_t mtype = H5Tcopy(ftype);
        if (H5Tis_variable_str(ftype) > 0) {
            char *vl = NULL;
            if (mtype >= 0 && H5Aread(attr, mtype, &vl) >= 0 && vl) {
                text = strdup(vl);
                H5free_memory(vl);
            }
        } else {
            size_t size = H5Tget_size(ftype);
            text = calloc(size + 1, 1);
            if (text && (mtype < 0 || H5Aread(attr, mtype, text) < 0)) {
                free(text);
                text = NULL;
            }
        }
        if (mtype >= 0)
            H5Tclose(mtype);
    }
    if (ftype >= 0)
        H5Tclose(ftype);
    if (attr >= 0)
        H5Aclose(attr);
    return text;
}

int dg_h5_attr_number(hid_t obj, const char *name, hid_t mtype, void *value)
{
    hid_t attr = dg_h5_open_scalar_attr(obj, name);
    herr_t st = attr < 0 ? -1 : H5Aread(attr, mtype, value);
    if (attr >= 0 && H5Aclose(attr) < 0)
        st = -1;
    return st < 0 ? DG_FAIL : DG_OK;
}

static int check_format(hid_t file, const char *path, int *version, dg_err *err)
{
    char *format = dg_h5_attr_text(file, "format");
    int same = format && strcmp(format, DG_FORMAT_NAME) == 0;
    free(format);
    if (!same)
        return dg_failc(err, DG_E_INPUT, "%s: not a dupgraph output file (no format = \"%s\" attribute)", path,
                        DG_FORMAT_NAME);
    if (dg_h5_attr_number(file, "format_version", H5T_NATIVE_INT, version) != DG_OK)
        return dg_failc(err, DG_E_INPUT, "%s: dupgraph output file without a format_version", path);
    if (*version < DG_FORMAT_VERSION_MIN || *version > DG_FORMAT_VERSION)
        return dg_failc(err, DG_E_INPUT, "%s: dupgraph output format version %d, this program reads versions %d to %d",
                        path, *version, DG_FORMAT_VERSION_MIN, DG_FORMAT_VERSION);
    return DG_OK;
}

static hid_t open_output(const char *path, int *version, dg_err *err)
{
    char detail[256];
    struct stat st;
    int v = 0;
    if (stat(path, &st) != 0) {
        dg_failc(err, DG_E_INPUT, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (H5Fis_hdf5(path) <= 0) {
        dg_failc(err, DG_E_INPUT, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        dg_failc(err, DG_E_INPUT, "%s: cannot open (%s)", path, dg_h5_detail(detail, sizeof detail));
        return -1;
    }
    if (check_format(file, path, &v, err) != DG_OK) {
        H5Fclose(file);
        return -1;
    }
    if (version)
        *version = v;
    return file;
}

int dg_h5_with_output(const char *path, int *version, dg_h5_reader read, void *arg, dg_err *err)
{
    dg_h5_quiet quiet;
    dg_h5_quiet_begin(&quiet);
    hid_t file = open_output(path, version, err);
    int rc = file < 0 ? DG_FAIL : read(file, path, arg, err);
    if (file >= 0)
        H5Fclose(file);
    dg_h5_quiet_end(&quiet);
    return rc;
}

int dg_h5_dataset_shape(hid_t file, const char *name, int *rank, hsize_t dims[3])
{
    dims[0] = dims[1] = dims[2] = 0;
    *rank = -1;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return DG_FAIL;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? -1 : H5Dget_space(dset);
    *rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    int ok = *rank >= 1 && *rank <= 3 && H5Sget_simple_extent_dims(space, dims, NULL) >= 0;
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? DG_OK : DG_FAIL;
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

/* A string attribute copied into a fixed buffer ("?" when absent). */
static void attr_into(hid_t file, const char *name, char *buf, size_t len)
{
    char *text = dg_h5_attr_text(file, name);
    snprintf(buf, len, "%s", text ? text : "?");
    free(text);
}

/* Format 3: the settings as the run wrote them. */
static int typed_settings(hid_t file, dg_h5_settings *s)
{
    if (dg_h5_attr_number(file, "pairs_threshold", H5T_NATIVE_FLOAT, &s->threshold) != DG_OK ||
        dg_h5_attr_number(file, "cluster_k", H5T_NATIVE_INT64, &s->k) != DG_OK ||
        dg_h5_attr_number(file, "cluster_clusterings", H5T_NATIVE_INT64, &s->clusterings) != DG_OK ||
        dg_h5_attr_number(file, "cluster_probes", H5T_NATIVE_INT64, &s->probes) != DG_OK)
        return DG_FAIL;
    /* format 4: whether candidates were verified, and against what */
    int64_t verified = 0;
    s->verify_threshold = NAN;
    if (dg_h5_attr_number(file, "verify_enabled", H5T_NATIVE_INT64, &verified) == DG_OK && verified &&
        dg_h5_attr_number(file, "verify_threshold", H5T_NATIVE_FLOAT, &s->verify_threshold) == DG_OK)
        s->verify_enabled = 1;
    else
        s->verify_threshold = NAN;
    s->verify_agree_above = s->verify_agree_threshold = NAN;
    if (s->verify_enabled &&
        (dg_h5_attr_number(file, "verify_agree_above", H5T_NATIVE_FLOAT, &s->verify_agree_above) != DG_OK ||
         dg_h5_attr_number(file, "verify_agree_threshold", H5T_NATIVE_FLOAT, &s->verify_agree_threshold) != DG_OK))
        s->verify_agree_above = s->verify_agree_threshold = NAN;
    attr_into(file, "mode", s->mode, sizeof s->mode);
    attr_into(file, "embedder", s->embedder, sizeof s->embedder);
    attr_into(file, "graph_keep", s->keep, sizeof s->keep);
    char edges[16];
    attr_into(file, "graph_edges", edges, sizeof edges); /* format 4; "all" files before it */
    s->forest = !strcmp(edges, "forest");
    s->typed = 1;
    return DG_OK;
}

/* Formats 1 and 2: the settings from the config text, through the config
 * parser.  A run given a value longer than an INI line may be (a path set
 * with --set) stores text libinih cannot read back whole; its one
 * "threshold = X" line, as dg_config_to_text writes it, is then read
 * directly. */
static void settings_from_config(const char *config, const dg_h5_facts *f, dg_h5_settings *s)
{
    static const char key[] = "\nthreshold = ";
    *s = (dg_h5_settings){0, "?", "?", "?", NAN, f->centroid_dims[1], f->clusterings, -1, 0, NAN, NAN, NAN, 0};
    dg_config cfg;
    dg_err inner = {0};
    if (dg_config_load_text(&cfg, config, NULL, 0, &inner) == DG_OK) {
        s->threshold = cfg.threshold;
        s->probes = cfg.probes;
        snprintf(s->keep, sizeof s->keep, "%s", dg_config_enum_name("graph.keep", cfg.keep));
        return;
    }
    const char *at = strstr(config, key), *value = at ? at + sizeof key - 1 : NULL;
    char *end = NULL;
    float t = value ? strtof(value, &end) : NAN;
    if (value && end != value && (*end == '\n' || *end == '\0'))
        s->threshold = t;
}

static int read_facts_open(hid_t file, const char *path, void *arg, dg_err *err)
{
    dg_h5_facts *f = arg;
    const char *names[] = {"n_items", "n_failed", "n_edges", "n_components", "n_removed"};
    int64_t *values[] = {&f->n_items, &f->n_failed, &f->n_edges, &f->n_components, &f->n_removed};
    for (int i = 0; i < 5; i++) {
        if (dg_h5_attr_number(file, names[i], H5T_NATIVE_INT64, values[i]) != DG_OK)
            return dg_failc(err, DG_E_INPUT, "%s: the %s attribute is missing", path, names[i]);
        if (*values[i] < 0)
            return dg_failc(err, DG_E_INPUT, "%s: %s = %lld (damaged file)", path, names[i], (long long)*values[i]);
    }
    f->n_filtered = -1;
    dg_h5_attr_number(file, "n_filtered", H5T_NATIVE_INT64, &f->n_filtered);
    dg_h5_attr_number(file, "ranks", H5T_NATIVE_INT, &f->ranks);
    dg_h5_attr_number(file, "seed", H5T_NATIVE_UINT64, &f->seed);
    int rank = 0;
    hsize_t dims[3];
    if (dg_h5_dataset_shape(file, "/items/cluster", &rank, dims) == DG_OK && rank == 2)
        f->clusterings = (int)dims[1];
    if (dg_h5_dataset_shape(file, "/centroids", &rank, dims) == DG_OK && rank == 3)
        for (int i = 0; i < 3; i++)
            f->centroid_dims[i] = (int64_t)dims[i];
    if (dg_h5_dataset_shape(file, "/embeddings", &rank, dims) == DG_OK && rank == 2 &&
        dims[0] == (hsize_t)f->n_items)
        f->embedding_dim = (int)dims[1];
    f->path_len = path_length(file);
    if (f->path_len == 0)
        return dg_failc(err, DG_E_INPUT, "%s: /items/path is missing or not a fixed-length string", path);
    /* Readers stream n_items rows: the attribute must describe the columns. */
    if (dg_h5_dataset_shape(file, "/items/path", &rank, dims) != DG_OK || rank != 1 || dims[0] != (hsize_t)f->n_items)
        return dg_failc(err, DG_E_INPUT, "%s: n_items = %lld but /items/path has %llu rows (damaged file)", path,
                        (long long)f->n_items, (unsigned long long)dims[0]);
    if (dg_h5_dataset_shape(file, "/edges/src", &rank, dims) != DG_OK || rank != 1 || dims[0] != (hsize_t)f->n_edges)
        return dg_failc(err, DG_E_INPUT, "%s: n_edges = %lld but /edges/src has %llu rows (damaged file)", path,
                        (long long)f->n_edges, (unsigned long long)dims[0]);
    f->config = dg_h5_attr_text(file, "config");
    f->program_version = dg_h5_attr_text(file, "program_version");
    if (!f->config)
        f->config = strdup("");
    if (!f->program_version)
        f->program_version = strdup("?");
    if (!f->config || !f->program_version)
        return dg_failc(err, DG_E_MEMORY, "%s: out of memory reading attributes", path);
    if (f->format_version < 3 || typed_settings(file, &f->settings) != DG_OK)
        settings_from_config(f->config, f, &f->settings);
    if (f->format_version >= 3 && !f->settings.typed)
        return dg_failc(err, DG_E_INPUT, "%s: format %d without the typed settings (damaged file)", path,
                        f->format_version);
    read_times(file, f);
    return DG_OK;
}

int dg_h5_read_facts(const char *path, dg_h5_facts *facts, dg_err *err)
{
    memset(facts, 0, sizeof *facts);
    int rc = dg_h5_with_output(path, &facts->format_version, read_facts_open, facts, err);
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
