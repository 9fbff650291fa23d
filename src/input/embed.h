/* embed.h - the descriptor embedder (embed.c; its interface is embedder.h,
 * dg_embedder_descriptor): decode every listed image, describe it, learn
 * the projection over all ranks and project.  See manifest.h, decode.h,
 * descriptor.h and pca.h for the pieces.
 */
#ifndef DUPGRAPH_INPUT_EMBED_H
#define DUPGRAPH_INPUT_EMBED_H

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/manifest.h"
#include "input/pca.h"

/* The descriptor embedder's stage outside the job (tests, dg-embed-bench):
 * embeds this rank's share of the listed input (dg_list_input; the paths
 * move from `listed` into items), learns the PCA projection over all ranks
 * and fills items (n_total, lo, n, d = cfg->embed_dim, vec L2-normalised,
 * status, width, height, path malloc'd per item).  A bad image never fails
 * the call: it gets a status, a log line (dg_log_rank) and a zero row.
 * Collective. */
int dg_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed, dg_items *items,
                    dg_embed_model *model, dg_err *err);

#endif
