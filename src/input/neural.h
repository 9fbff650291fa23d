/* neural.h - the embed stage with the MobileNetV2 network (neural.c): decode
 * every listed image at the network's scale, run it, keep the pooled
 * features as the embedding and the class probabilities for the filter.
 */
#ifndef DUPGRAPH_INPUT_NEURAL_H
#define DUPGRAPH_INPUT_NEURAL_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/manifest.h"
#include "input/mobilenet.h"

typedef struct dg_neural_stats {
    int64_t n_local;     /* items this rank listed */
    int64_t n_run;       /* images this rank ran through the network */
    double seconds_read, seconds_decode, seconds_preprocess, seconds_network; /* this rank */
    double flops;        /* this rank's network FLOPs */
} dg_neural_stats;

/* Collective: lists cfg's input (as dg_embed_images does), decodes this
 * rank's share at the network's scale, runs the network in batches of
 * DG_MOBILENET_BATCH and fills items (d = net->d_features, the features
 * L2-normalised; status, width, height, path) and *probs (malloc'd, n x
 * net->n_classes; NaN rows for unusable items).  A bad image gets a status
 * and a log line, never a failure. */
int dg_neural_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, dg_pathlist *listed,
                           dg_items *items, float **probs, dg_neural_stats *st, dg_err *err);

/* Collective: the class probabilities (malloc'd, n x net->n_classes) of
 * the usable items already in items (listed and embedded by another
 * method); statuses are left as they are, an item that does not decode now
 * gets a NaN row. */
int dg_neural_classify(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, const dg_items *items,
                       float **probs, dg_neural_stats *st, dg_err *err);

#endif
