/* h5_file.h - an output file read serially as a whole (h5_file.c): opening
 * it read-only after the format name and version check every reader
 * (info, compare, export, report, tests) starts with, its root attributes
 * as C values, and the facts a reader needs before it reads any rows: the
 * counts, the settings of the run, the datasets' shapes and the stage
 * times.  The rows themselves are h5_columns.h's; writing is h5_output.h's.
 */
#ifndef DUPGRAPH_IO_H5_FILE_H
#define DUPGRAPH_IO_H5_FILE_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"

/* A string attribute as a malloc'd C string (NULL if absent or not a
 * string); a numeric scalar attribute converted to mtype (DG_FAIL if absent
 * or of another shape). */
char *dg_h5_attr_text(hid_t obj, const char *name);
int dg_h5_attr_number(hid_t obj, const char *name, hid_t mtype, void *value);

/* What a reader does with an open output file (path for its messages). */
typedef int (*dg_h5_reader)(hid_t file, const char *path, void *arg, dg_err *err);

/* Every serial read of an output file: opens it read-only with HDF5's error
 * printing off, checks its format name and version (DG_FORMAT_VERSION_MIN to
 * DG_FORMAT_VERSION; DG_E_INPUT with the reason otherwise), stores the
 * version in *version (may be NULL), runs read and closes the file. */
int dg_h5_with_output(const char *path, int *version, dg_h5_reader read, void *arg, dg_err *err);

/* Shape of dataset `name` (rank 1 to 3); DG_FAIL if it is absent or of
 * another rank. */
int dg_h5_dataset_shape(hid_t file, const char *name, int *rank, hsize_t dims[3]);

#define DG_H5_MAX_TIMES 32

/* The settings the run used.  Format 3 stores them as typed root attributes;
 * for files of format 1 and 2 they are taken from the config text (threshold,
 * clusterings, probes, keep) and the datasets (K), and mode and embedder are
 * "?" (typed = 0). */
typedef struct dg_h5_settings {
    int typed;
    char mode[16];     /* "run", "exact" */
    char embedder[32]; /* "embeddings", "vectors", "descriptor", "mobilenet_v2" */
    char keep[16];     /* graph.keep: "first", "central" */
    float threshold;   /* pairs.threshold; NAN when not known */
    int64_t k;         /* K the search used (0 in exact mode) */
    int64_t clusterings, probes; /* C and m (-1 when not known) */
    int verify_enabled;     /* format 4: candidates were verified (0 before format 4) */
    float verify_threshold; /* verify.threshold; NAN when not verified */
    float verify_agree_above, verify_agree_threshold; /* verify.agree_*; NAN when not verified or not stored */
    int forest;             /* graph.edges = forest: /edges is a spanning forest of the pairs,
                             * not every pair (0 for "all" and files before format 4) */
} dg_h5_settings;

/* The headline facts of an output file. */
typedef struct dg_h5_facts {
    int format_version;
    int64_t n_items, n_failed, n_edges, n_components, n_removed;
    int64_t n_filtered; /* -1 when absent (run without the filter) */
    int ranks;
    uint64_t seed;
    dg_h5_settings settings;
    int clusterings;       /* columns of /items/cluster (0 when absent: exact mode) */
    int64_t centroid_dims[3]; /* C x K x D of /centroids (zeros when absent) */
    int embedding_dim;     /* columns of /embeddings (0 when absent) */
    size_t path_len;       /* bytes of one /items/path entry, without a terminator */
    char *config;          /* the config attribute, malloc'd ("" when absent) */
    char *program_version; /* malloc'd ("?" when absent) */
    int n_times;           /* seconds_<stage> attributes, in the order written */
    struct {
        char name[64];
        double seconds;
    } times[DG_H5_MAX_TIMES];
} dg_h5_facts;

/* Opens, checks and closes the file.  The counts must be present and agree
 * with the rows of /items/path and /edges (a damaged file fails here, before
 * a reader sizes anything by them). */
int dg_h5_read_facts(const char *path, dg_h5_facts *facts, dg_err *err);
void dg_h5_facts_free(dg_h5_facts *facts);

#endif
