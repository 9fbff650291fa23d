/* filter.h - the two pre-training mitigations that run before the
 * duplicate search on image input: the content filter and re-weighting.
 *
 * Filter: an item's score is the summed probability of the unwanted head
 * classes (filter.classes) that the network gave it; a usable item whose
 * score reaches filter.threshold - filter.margin is filtered: its status
 * becomes DG_ST_FILTERED, so the search skips it.  The margin removes more
 * than the threshold alone would, as the method prefers.
 *
 * Re-weighting: filtering shifts the distribution (it removes more of some
 * kinds of image than of others).  A logistic regression on the embedding,
 * fitted over every item that was usable before filtering, predicts "kept";
 * a kept item's weight is 1 / p(kept | x), clipped at max_weight and
 * normalised to mean 1 over the kept items (0 for filtered and failed
 * items).  The fit is full-batch gradient descent (Nesterov momentum, step
 * 1/L with L the bound that L2-normalised inputs give); every sum over items
 * (gradient, weights, means) is taken in 2^-32 fixed point in int64 and
 * added over ranks with MPI_Allreduce, so the result is bit-identical for
 * any number of ranks.
 */
#ifndef DUPGRAPH_FILTER_H
#define DUPGRAPH_FILTER_H

#include <stdint.h>

#include "dupgraph/common.h"
#include "dupgraph/context.h"

/* Bit k set: class k of names[0..n_names) is listed in the comma-separated
 * text (names compared without case).  Fails naming an unknown class. */
int dg_filter_class_mask(const char *text, char names[][32], int n_names, unsigned *mask, dg_err *err);

/* score[i] = sum of probs[i][k] over the classes in mask; a usable item
 * with score >= cut gets status DG_ST_FILTERED and filtered[i] = 1.
 * Unusable items get score NaN and filtered 0.  Returns the items filtered. */
int64_t dg_filter_apply(const float *probs, int n_classes, unsigned mask, float cut, int64_t n, int8_t *status,
                        float *score, int8_t *filtered);

typedef struct dg_reweight_params {
    int iterations;
    double l2;
    double max_weight;
} dg_reweight_params;

typedef struct dg_reweight_stats {
    int64_t n_fit, n_kept;  /* all ranks */
    double loss_first, loss_last;  /* mean logistic loss + penalty */
    int64_t n_clipped;
    double min_weight, max_weight;
    /* how far the mean embedding of the kept items is from that of all
     * usable items before filtering, unweighted and weighted */
    double shift_unweighted, shift_weighted;
} dg_reweight_stats;

/* Collective.  x: n rows of d floats (L2-normalised embeddings); usable[i]
 * (before filtering) and kept[i] select the rows; weight gets n values.
 * Fewer than one kept or one filtered item: every kept item weighs 1. */
int dg_reweight(const dg_ctx *ctx, const float *x, int64_t n, int d, const int8_t *usable, const int8_t *kept,
                const dg_reweight_params *p, float *weight, dg_reweight_stats *st, dg_err *err);

#endif
