/* neural.h - the MobileNetV2 network in the job (neural.c): the
 * mobilenet_v2 embedder (embedder.h, dg_embedder_mobilenet: decode every
 * listed image at the network's scale, run it, keep the pooled features as
 * the embedding and the class probabilities for the filter) and the
 * filter's classification of items another embedder embedded.
 */
#ifndef DUPGRAPH_INPUT_NEURAL_H
#define DUPGRAPH_INPUT_NEURAL_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/manifest.h"
#include "input/mobilenet.h"
#include "input/shard_input.h"

typedef struct dg_neural_stats {
    int64_t n_local;     /* items this rank listed */
    int64_t n_run;       /* images this rank ran through the network */
    double seconds_read, seconds_decode, seconds_preprocess, seconds_network; /* this rank */
    double flops;        /* this rank's network FLOPs */
} dg_neural_stats;

/* Collective: loads cfg's embed.weights (agreed over ranks) and logs the
 * network's shape. */
int dg_neural_load(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, dg_err *err);

/* Collective: the class probabilities (malloc'd, n x net->n_classes) of
 * the usable items already in items (listed and embedded by another
 * method); statuses are left as they are, an item that does not decode now
 * gets a NaN row. */
int dg_neural_classify(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, const dg_items *items,
                       dg_shard_source *shards, float **probs, dg_neural_stats *st, dg_err *err);

#endif
