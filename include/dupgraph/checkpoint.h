/* checkpoint.h - resumable runs: the checkpoint folder of a job, the
 * fingerprints that decide whether a saved stage may be reused, and the stop
 * flag that SIGTERM/SIGINT raise.
 *
 * Folder: "<output.path>.ckpt/", created at the start of every run and
 * removed after the output file has been written.  It holds
 *   items.h5          after the embed/read stage: N x D vectors, statuses,
 *                     image sizes and (image input) the learned projection;
 *   clustering_C.h5   after clustering C: its K x D centroids, every item's
 *                     home cluster (and, for C = 0, its centrality), and the
 *                     de-duplicated edges this clustering found.
 * Every file is written collectively by item ranges (or sorted edge ranges)
 * to "<name>.tmp", synced and renamed, so a killed job leaves either the
 * complete file or a ".tmp" that is never read.  A resumed job with any
 * number of ranks reads its own ranges back; item paths are listed again
 * from the input, not stored.
 *
 * Fingerprints (64-bit hashes, stored as the attribute `fingerprint`):
 *   items:      program version, descriptor version, the [input] and [embed]
 *               sections of the canonical config, and the input's identity:
 *               for input.embeddings the file's size and modification time
 *               (ns); for input.manifest / input.dir the listed paths in
 *               order (a content hash, computed in parallel and independent
 *               of the rank count; image files themselves are taken as
 *               immutable - stat'ing billions of them would cost more than
 *               it saves).
 *   clustering: the items fingerprint, the mode and the [cluster] and
 *               [pairs] sections.
 * [output], [graph] and [job] do not enter: changing the keep policy, the
 * output name's extras or job.* settings does not invalidate saved work.
 * A file whose fingerprint differs is logged and recomputed; a file that
 * matches but cannot be read or holds impossible values is an error (the
 * reason names the file: delete the folder or set job.resume = false).
 */
#ifndef DUPGRAPH_CHECKPOINT_H
#define DUPGRAPH_CHECKPOINT_H

#include <signal.h>
#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/embed.h"
#include "dupgraph/items.h"
#include "dupgraph/pairs.h"

/* ---- stop requests (signals) -------------------------------------------- */

/* The handlers in place before dg_stop_install. */
typedef struct dg_stop_saved {
    struct sigaction term, intr;
} dg_stop_saved;

/* Clears the stop flag, installs handlers for SIGTERM and SIGINT that only
 * set it, and returns it (for dg_ctx.stop).  The flag is the one piece of
 * global state in the library: a signal handler can reach nothing else. */
volatile sig_atomic_t *dg_stop_install(dg_stop_saved *saved);
void dg_stop_restore(const dg_stop_saved *saved);

/* Collective: 1 on every rank if any rank's ctx->stop is set. */
int dg_stop_agree(const dg_ctx *ctx);

/* ---- the checkpoint of one job ------------------------------------------- */

typedef struct dg_ckpt {
    char dir[DG_PATH_MAX];
    int resume;             /* job.resume: reuse matching files */
    int image_input;
    uint64_t config_items;  /* hash of what the embed/read stage depends on */
    uint64_t config_search; /* hash of what a clustering depends on */
    int have_input;         /* items_fp is known */
    uint64_t items_fp;
    uint64_t search_fp;
} dg_ckpt;

/* Collective: names the folder after cfg->output_path, creates it (rank 0)
 * and hashes the config.  exact_mode enters the clustering fingerprint. */
int dg_ckpt_init(const dg_ctx *ctx, const dg_config *cfg, int exact_mode, dg_ckpt *ck, dg_err *err);

/* Collective.  With job.resume and a matching items.h5: fills items (this
 * rank's range of the saved N; image input: the paths move from `listed`,
 * the input as dg_list_input listed it; NULL for embeddings input) and model
 * (image input; may be NULL otherwise), sets *loaded = 1 and logs "reusing
 * checkpoint: ...".  Otherwise *loaded = 0 and items is untouched. */
int dg_ckpt_load_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_pathlist *listed,
                       dg_items *items, dg_embed_model *model, int *loaded, dg_err *err);

/* Collective: writes items.h5 (model: image input only, else NULL). */
int dg_ckpt_save_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, const dg_items *items,
                       const dg_embed_model *model, dg_err *err);

/* What one clustering leaves behind.  cluster is the job's n x clusterings
 * table (column c is this clustering's home clusters); centrality (n floats)
 * is saved and restored for clustering 0 only. */
typedef struct dg_ckpt_clustering {
    int c;
    int clusterings;
    int64_t k;
    float *centroids; /* k x d, identical on every rank */
    int32_t *cluster; /* n x clusterings, this rank's items */
    float *centrality;
} dg_ckpt_clustering;

/* Collective: writes clustering_<c>.h5 with `edges`, this clustering's
 * edges, sorted and unique with src in this rank's item range. */
int dg_ckpt_save_clustering(const dg_ctx *ctx, const dg_ckpt *ck, const dg_items *items,
                            const dg_ckpt_clustering *cl, const dg_edges *edges, dg_err *err);

/* Collective.  With job.resume and a matching clustering_<c>.h5: fills the
 * centroids, column c of cluster (and centrality for c = 0), appends the
 * saved edges whose src is in this rank's range to edges (sorted, unique),
 * sets *loaded = 1 and logs "reusing clustering c".  Else *loaded = 0. */
int dg_ckpt_load_clustering(const dg_ctx *ctx, const dg_ckpt *ck, const dg_items *items,
                            const dg_ckpt_clustering *cl, dg_edges *edges, int *loaded, dg_err *err);

/* Collective: rank 0 removes the files dupgraph wrote in the folder and the
 * folder itself.  Never fails the job: a leftover is logged as a warning. */
void dg_ckpt_remove(const dg_ctx *ctx, const dg_ckpt *ck);
/* Collective, after a failure: rank 0 removes the folder if no stage was
 * saved in it (nothing to resume from). */
void dg_ckpt_tidy(const dg_ctx *ctx, const dg_ckpt *ck);

/* ---- the HDF5 layer (h5_checkpoint.c) ------------------------------------ */

typedef enum { DG_CK_INT8, DG_CK_INT32, DG_CK_INT64, DG_CK_FLOAT32 } dg_ck_type;

/* A dataset of rows_total x cols (cols 0: 1-D) of which this rank holds the
 * rows [row_lo, row_lo + rows) in data. */
typedef struct dg_ck_array {
    const char *name; /* absolute, e.g. "/items/vec" */
    dg_ck_type type;
    int64_t rows_total;
    int64_t cols;
    int64_t row_lo;
    int64_t rows;
    void *data;
} dg_ck_array;

/* An int64 root attribute. */
typedef struct dg_ck_attr {
    const char *name;
    int64_t value;
} dg_ck_attr;

/* Collective: creates "<path>.tmp" with the fingerprint, the attributes and
 * the arrays, then rank 0 syncs and renames it to path (or removes it after
 * a failure on any rank). */
int dg_h5_ckpt_write(const dg_ctx *ctx, const char *path, uint64_t fingerprint, const dg_ck_attr *attrs,
                     int n_attrs, const dg_ck_array *arrays, int n_arrays, dg_err *err);

/* An open checkpoint file (collective MPI-IO access). */
typedef struct dg_ck_file {
    const dg_ctx *ctx;
    const char *path;
    int64_t h5; /* hid_t */
} dg_ck_file;

/* Collective open; reads the fingerprint attribute. */
int dg_h5_ckpt_open(const dg_ctx *ctx, const char *path, dg_ck_file *f, uint64_t *fingerprint, dg_err *err);
/* Local: an int64 root attribute. */
int dg_h5_ckpt_attr(const dg_ck_file *f, const char *name, int64_t *value, dg_err *err);
/* Collective: checks the dataset's shape against a's and reads a's rows. */
int dg_h5_ckpt_read(const dg_ck_file *f, const dg_ck_array *a, dg_err *err);
/* Local: in the sorted 1-D int64 dataset `name`, the rows whose values lie
 * in [lo, hi) (binary search, O(log rows) single-value reads). */
int dg_h5_ckpt_find_rows(const dg_ck_file *f, const char *name, int64_t lo, int64_t hi, int64_t *row_lo,
                         int64_t *row_hi, dg_err *err);
/* Collective close; a failure to close is reported only if rc was DG_OK. */
int dg_h5_ckpt_close(dg_ck_file *f, int rc, dg_err *err);

#endif
