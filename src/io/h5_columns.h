/* h5_columns.h - serial readers of the rows of an output file, for info,
 * compare, export, report and tests (h5_columns.c): row ranges or listed
 * rows of its columns, the whole edge list, the status counts.  Each call
 * opens the file read-only through dg_h5_with_output (format and version
 * checked), reads, and closes it, so a caller can stream a large file in
 * bounded row ranges; a dataset that claims rows it does not store fails
 * (DG_E_INPUT) before it is read.  What to size the reads by (n_items,
 * n_edges, the path length, D) is in dg_h5_facts (h5_file.h).
 */
#ifndef DUPGRAPH_IO_H5_COLUMNS_H
#define DUPGRAPH_IO_H5_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "search/edges.h"

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

/* A 1-D fixed-length string dataset (/items/key, /shards/path): its rows
 * and the bytes of one entry; then rows [lo, lo + count) of it as above
 * (stride at least len + 1). */
int dg_h5_string_shape(const char *path, const char *name, int64_t *rows, size_t *len, dg_err *err);
int dg_h5_read_strings(const char *path, const char *name, int64_t lo, int64_t count, char *buf, size_t stride,
                       dg_err *err);

/* Rows of /embeddings (N x d, float32) at the n given ids: out is n x d. */
int dg_h5_read_embeddings_at(const char *path, const int64_t *ids, int64_t n, int d, float *out, dg_err *err);

/* Rows [lo, lo + count) of /edges/{src,dst,sim}. */
int dg_h5_read_edge_rows(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                         dg_err *err);

/* The same rows with /edges/verify beside them: the verifier's score, NAN
 * for an edge accepted on its similarity alone and for every edge of a file
 * older than format 4 (which has no such column). */
int dg_h5_read_edge_rows_verify(const char *path, int64_t lo, int64_t count, int64_t *src, int64_t *dst, float *sim,
                                float *verify, dg_err *err);

/* The whole of /edges (compare, tests); edges is freed on failure. */
int dg_h5_read_edges(const char *path, dg_edges *edges, dg_err *err);

/* Items of each dg_status in /items/status (read in bounded chunks; values
 * outside the enum are counted in counts[DG_ST_COUNT]). */
int dg_h5_count_statuses(const char *path, int64_t n_items, int64_t counts[DG_ST_COUNT + 1], dg_err *err);

#endif
