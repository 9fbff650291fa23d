/* h5_items.h - serial readers of row ranges of an output file, for export
 * and report (h5_items.c). */
#ifndef DUPGRAPH_IO_H5_ITEMS_H
#define DUPGRAPH_IO_H5_ITEMS_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"

/* Each call opens the
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
