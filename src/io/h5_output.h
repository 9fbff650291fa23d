/* h5_output.h - the output file.  The io/ modules alone call
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
 *   /edges/verify         float32 (format 4): the verifier's score of the pair,
 *                         NaN when verification did not run
 *   /centroids            C x K x D float32
 *   /embeddings           N x D float32 (optional)
 *   /projection           optional datasets of the image embedder (see input/pca.h)
 *   /items/{shard, key, url, caption}, /shards/{path, status}  with
 *                         input.shards (optional, format 4): the item's shard
 *                         (int32 index into /shards/path), its WebDataset key
 *                         and KEY.json's url and caption (strings, "" when
 *                         absent); per shard its path and listing status
 *   /inputs/{path, rows}  input.embeddings: the files in id order and their
 *                         rows; /items/shard int32: each item's file (index
 *                         into /inputs/path).  Optional, no format change.
 *   root attributes: format, format_version, program_version, config, seed,
 *   ranks, seconds_<stage>, n_items, n_failed, n_edges, n_components, n_removed,
 *   n_filtered (with the filter; filtered items are not counted as failed);
 *   format 3 adds the settings typed, so no reader parses the config text:
 *   mode ("run"/"exact"), embedder ("embeddings", "vectors", "descriptor",
 *   "mobilenet_v2"), pairs_threshold (float32), cluster_k, cluster_clusterings,
 *   cluster_probes (int64; K, C and m the search used) and graph_keep;
 *   format 4 adds /edges/verify and verify_enabled (int32 0/1),
 *   verify_threshold (float32), n_candidates, n_verified, n_rejected (int64;
 *   without verification n_candidates = n_verified = n_edges); optional in
 *   format 4 (written since verify.agree_above): verify_agree_above and
 *   verify_agree_threshold (float32; 1 and the default when off); optional in
 *   format 4 (readers of older files find neither): /items/best_match (int64,
 *   -1 for none), /items/best_sim (float32, NaN for none) and graph_edges
 *   ("all": /edges holds every pair; "forest": a spanning forest of them)
 *
 * The output is written collectively (MPI-IO) to "<path>.tmp" and renamed by
 * rank 0 once closed, so a reader never sees a half-written file.
 */
#ifndef DUPGRAPH_IO_H5_OUTPUT_H
#define DUPGRAPH_IO_H5_OUTPUT_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/edges.h"

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

/* Extra columns: per item (this rank's rows, like /items/status) or small
 * tables identical on every rank (rank 0's rows are written).  Strings are
 * stored as fixed-length NUL-padded UTF-8, like /items/path. */
typedef enum { DG_COL_INT32, DG_COL_STATUS, DG_COL_STRING } dg_column_type;
typedef struct dg_extra_column {
    const char *name;    /* absolute, e.g. "/items/key" */
    dg_column_type type; /* DG_COL_STATUS: int8 with the item statuses' enum type */
    int per_item;        /* 1: items->n local rows; 0: n_rows rows, the same on every rank */
    int64_t n_rows;
    const void *data;    /* int32_t *, int8_t * or char ** (a NULL string is written as "") */
} dg_extra_column;
/* The input's files in id order (input.embeddings): file f holds ids
 * first[f] .. first[f + 1] - 1.  Identical on all ranks. */
typedef struct dg_input_files {
    const char *const *path;
    const int64_t *first; /* n + 1 */
    int n;
} dg_input_files;

/* What a finished run writes.  Arrays marked "local" hold this rank's n
 * items; the rest are identical on every rank. */
typedef struct dg_output {
    const char *config_text;
    /* typed settings (format 3): "run"/"exact"; "embeddings", "vectors",
     * "descriptor" or "mobilenet_v2"; pairs.threshold; m; "first"/"central" */
    const char *mode, *embedder;
    float threshold;
    int probes;
    const char *keep_policy;
    uint64_t seed;
    const dg_items *items;      /* local: status, width/height, path, vec */
    const int64_t *component;   /* local */
    const int8_t *keep;         /* local */
    const float *best_sim;      /* local: the best match's similarity, NaN for none */
    const int64_t *best_match;  /* local: -1 for none */
    const char *edge_output;    /* graph.edges: "all" or "forest" */
    const int32_t *cluster;     /* local, n x clusterings */
    int clusterings;
    int64_t k;
    const float *centroids;     /* clusterings x k x d, may be NULL when clusterings = 0 (exact) */
    const dg_edges *edges;      /* local share, sorted, src in own range */
    /* verification (format 4): the scores beside edges (local; NULL when it
     * did not run: /edges/verify is then NaN), the setting and the global
     * candidate counts (candidates = edges + rejected when it ran) */
    const float *edge_verify;
    int verify_enabled;
    float verify_threshold;
    float verify_agree_above, verify_agree_threshold;
    int64_t n_candidates, n_rejected;
    int write_embeddings;
    const dg_stage_time *times;
    int n_times;
    const dg_extra_dataset *extra;
    int n_extra;
    const dg_extra_column *columns;
    int n_columns;
    dg_input_files inputs; /* n = 0: none (no /inputs, no /items/shard) */
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

#endif
