/* checkpoint.h - resumable runs: the checkpoint folder of a job, the
 * fingerprints that decide whether a saved stage may be reused.
 *
 * Folder: "<output.path>.ckpt/", created at the start of every run and
 * removed after the output file has been written.  It holds
 *   items.h5          after the embed/read stage: N x D vectors, statuses,
 *                     image sizes (image input) and what the embedder saves
 *                     (the descriptor: its learned projection);
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
 *               sections of the canonical config, and the input's identity
 *               (the embedder's, input/embedder.h): for input.embeddings
 *               the file's size and modification time (ns); for
 *               vectors held by the caller their content; for input.manifest / input.dir the listed paths in
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
#ifndef DUPGRAPH_CORE_CHECKPOINT_H
#define DUPGRAPH_CORE_CHECKPOINT_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/embedder.h"
#include "search/edges.h"

typedef struct dg_ckpt {
    char dir[DG_PATH_MAX];
    int resume;             /* job.resume: reuse matching files */
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
 * rank's range of the saved N) and what the embedder saved beside them
 * (e->load; image embedders then hand their listed paths to the items,
 * e->adopt), sets *loaded = 1 and logs "reusing checkpoint: ...".
 * Otherwise *loaded = 0 and items is untouched.  The input's identity is
 * the embedder's (e->identify). */
int dg_ckpt_load_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, dg_items *items,
                       int *loaded, dg_err *err);

/* Collective: writes items.h5: the items (sizes too for image embedders)
 * and what the embedder saves beside them (e->save). */
int dg_ckpt_save_items(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, const dg_items *items,
                       dg_err *err);

/* Collective: the fingerprints from the embedder's identity of the items,
 * for an embedder whose stage is not saved (vectors the caller holds: their
 * content, so finished clusterings still resume). */
int dg_ckpt_identify(const dg_ctx *ctx, const dg_config *cfg, dg_ckpt *ck, dg_embedder *e, const dg_items *items,
                     dg_err *err);

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

#endif
