/* h5io.h - every HDF5 file dupgraph reads or writes.  This module alone calls
 * H5D/H5F/H5S; the layout of the output file (format version
 * DG_FORMAT_VERSION) is defined here and in README.md:
 *
 *   /items/{id, path, status, width, height, component, keep}  N rows
 *   /items/cluster        N x C int32 (home cluster per clustering, -1 unusable)
 *   /items/{filter_score, filtered, class_prob}  with filter.enabled (format 2):
 *                         float32 summed probability of the unwanted classes
 *                         (NaN: not scored), int8 1 = removed by the filter,
 *                         N x n_classes float32 head probabilities
 *   /items/weight         float32, with re-weighting (format 2): 1/p(kept),
 *                         mean 1 over kept items, 0 for the others
 *   /edges/{src, dst, sim} each duplicate pair once, src < dst, sorted
 *   /centroids            C x K x D float32
 *   /embeddings           N x D float32 (optional)
 *   /projection           optional datasets of the image embedder (see embed.h)
 *   root attributes: format, format_version, program_version, config, seed,
 *   ranks, seconds_<stage>, n_items, n_failed, n_edges, n_components, n_removed,
 *   n_filtered (with the filter; filtered items are not counted as failed)
 *
 * The output is written collectively (MPI-IO) to "<path>.tmp" and renamed by
 * rank 0 once closed, so a reader never sees a half-written file.
 */
#ifndef DUPGRAPH_H5IO_H
#define DUPGRAPH_H5IO_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "dupgraph/pairs.h"

/* Checks that path holds `dataset` as a 2-D float32/float16 dataset and
 * returns its shape; any rank may call it (no MPI-IO).  The reason names the
 * file and dataset when it fails. */
int dg_h5_probe_embeddings(const char *path, const char *dataset, int64_t *n, int *d, dg_err *err);

/* Collective: each rank reads its own row range as a hyperslab and
 * normalises it (dg_items_normalize). */
int dg_h5_read_embeddings(const dg_ctx *ctx, const char *path, const char *dataset, dg_items *items,
                          dg_err *err);

typedef struct dg_stage_time {
    const char *name; /* e.g. "read", "cluster", "pairs" */
    double seconds;
} dg_stage_time;

/* Extra float32 datasets stored as-is (e.g. the embedder's projection). */
typedef struct dg_extra_dataset {
    const char *name; /* absolute path, e.g. "/projection/matrix" */
    int rank;         /* 1 or 2 */
    int64_t dims[2];
    const float *data; /* identical on all ranks; rank 0's copy is written */
} dg_extra_dataset;

/* What a finished run writes.  Arrays marked "local" hold this rank's n
 * items; the rest are identical on every rank. */
typedef struct dg_output {
    const char *config_text;
    uint64_t seed;
    const dg_items *items;      /* local: status, width/height, path, vec */
    const int64_t *component;   /* local */
    const int8_t *keep;         /* local */
    const int32_t *cluster;     /* local, n x clusterings */
    int clusterings;
    int64_t k;
    const float *centroids;     /* clusterings x k x d, may be NULL when clusterings = 0 (exact) */
    const dg_edges *edges;      /* local share, sorted, src in own range */
    int write_embeddings;
    const dg_stage_time *times;
    int n_times;
    const dg_extra_dataset *extra;
    int n_extra;
    /* global counts */
    int64_t n_failed, n_edges, n_components, n_removed;
    /* the filter and re-weighting (written when write_filter / write_weight
     * is set, the same on every rank) */
    int write_filter, write_weight;
    const float *filter_score;  /* local */
    const int8_t *filtered;     /* local */
    const float *class_prob;    /* local, n x n_classes */
    int n_classes;
    const float *weight;        /* local */
    int64_t n_filtered;
} dg_output;

int dg_h5_write_output(const dg_ctx *ctx, const char *path, const dg_output *out, dg_err *err);

/* Serial readers for `compare`, `info` and tests. */
int dg_h5_read_edges(const char *path, dg_edges *edges, dg_err *err);
/* Prints a human summary of an output file to stdout. */
int dg_h5_print_info(const char *path, dg_err *err);

/* ---- Serial readers of /items, /edges and /embeddings rows and of the root
 * attributes (h5_items.c), for `export` and `report`.  Each call opens the
 * file read-only, checks its format and version, reads, and closes it, so a
 * caller can stream a large file in bounded row ranges. */

#define DG_H5_MAX_TIMES 32

/* The headline facts of an output file. */
typedef struct dg_h5_facts {
    int64_t n_items, n_failed, n_edges, n_components, n_removed;
    int ranks;
    int clusterings;   /* columns of /items/cluster (0 when absent: exact mode) */
    int embedding_dim; /* columns of /embeddings (0 when absent) */
    size_t path_len;   /* bytes of one /items/path entry, without a terminator */
    char *config;      /* the config attribute, malloc'd ("" when absent) */
    char *program_version; /* malloc'd ("?" when absent) */
    int n_times;       /* seconds_<stage> attributes, in the order written */
    struct {
        char name[64];
        double seconds;
    } times[DG_H5_MAX_TIMES];
} dg_h5_facts;

int dg_h5_read_facts(const char *path, dg_h5_facts *facts, dg_err *err);
void dg_h5_facts_free(dg_h5_facts *facts);

/* Element types a column can be read as (converted by HDF5). */
typedef enum { DG_H5_INT8, DG_H5_INT32, DG_H5_INT64, DG_H5_FLOAT } dg_h5_type;

/* Rows [lo, lo + count) of the 1-D column /items/<column> ("status", "keep",
 * "component", "width", ...) as `type`.  /items/status, an enum over int8,
 * reads as DG_H5_INT8 (its dg_status values). */
int dg_h5_read_item_column(const char *path, const char *column, int64_t lo, int64_t count, dg_h5_type type,
                           void *buf, dg_err *err);

/* Rows [lo, lo + count) of column `clustering` of /items/cluster. */
int dg_h5_read_item_clusters(const char *path, int clustering, int64_t lo, int64_t count, int32_t *buf,
                             dg_err *err);

/* Paths of rows [lo, lo + count), or (the _at form) of the n given ids in
 * the given order: entry i is a NUL-terminated string at buf + i * stride;
 * stride must be at least facts.path_len + 1. */
int dg_h5_read_item_paths(const char *path, int64_t lo, int64_t count, char *buf, size_t stride, dg_err *err);
int dg_h5_read_item_paths_at(const char *path, const int64_t *ids, int64_t n, char *buf, size_t stride,
                             dg_err *err);

/* Rows of /embeddings (N x d, float32) at the n given ids: out is n x d. */
int dg_h5_read_embeddings_at(const char *path, const int64_t *ids, int64_t n, int d, float *out, dg_err *err);

/* Rows [lo, lo + count) of /edges/{src,dst,sim}. */
int dg_h5_read_edge_rows(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                         dg_err *err);

#endif
