/* neural.c - the embed stage with the neural embedder: decode this rank's
 * images at the network's input scale, preprocess them as nsfwjs does, run
 * MobileNetV2 a batch at a time and keep the pooled features (the
 * embedding, L2-normalised) and the class probabilities (for the filter).
 * The network is mobilenet.c; the descriptor embedder is embed.c. */
#include "input/neural.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input/mobilenet.h"

typedef struct batch {
    dg_mobilenet *net;
    float *input;     /* DG_MOBILENET_BATCH x size x size x 3 */
    float *features;  /* DG_MOBILENET_BATCH x d_features */
    float *probs;     /* DG_MOBILENET_BATCH x n_classes */
    int64_t row[DG_MOBILENET_BATCH];
    int n;
} batch;

static int batch_init(batch *b, dg_mobilenet *net, dg_err *err)
{
    memset(b, 0, sizeof *b);
    b->net = net;
    size_t per = (size_t)net->size * net->size * 3;
    b->input = dg_alloc(per * DG_MOBILENET_BATCH, sizeof(float), err);
    b->features = dg_alloc((size_t)net->d_features * DG_MOBILENET_BATCH, sizeof(float), err);
    b->probs = dg_alloc((size_t)net->n_classes * DG_MOBILENET_BATCH, sizeof(float), err);
    return b->input && b->features && b->probs ? DG_OK : DG_FAIL;
}

static void batch_free(batch *b)
{
    free(b->input);
    free(b->features);
    free(b->probs);
}

/* Runs the queued images; features (or NULL) and probs get their rows. */
static int batch_run(batch *b, float *features, float *probs, dg_neural_stats *st, dg_err *err)
{
    if (b->n == 0)
        return DG_OK;
    const dg_mobilenet *net = b->net;
    double t = dg_now();
    if (dg_mobilenet_forward(b->net, b->input, b->n, b->features, b->probs, err) != DG_OK)
        return DG_FAIL;
    st->seconds_network += dg_now() - t;
    st->n_run += b->n;
    st->flops += b->n * net->flops_per_image;
    for (int i = 0; i < b->n; i++) {
        if (features)
            memcpy(features + (size_t)b->row[i] * net->d_features, b->features + (size_t)i * net->d_features,
                   sizeof(float) * (size_t)net->d_features);
        memcpy(probs + (size_t)b->row[i] * net->n_classes, b->probs + (size_t)i * net->n_classes,
               sizeof(float) * (size_t)net->n_classes);
    }
    b->n = 0;
    return DG_OK;
}

/* Every local item (set_status: all, recording statuses and sizes; else the
 * usable ones only) through the network. */
static int run_items(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, dg_items *items, int set_status,
                     float *features, float *probs, dg_neural_stats *st, dg_err *err)
{
    dg_decoder dec;
    batch b;
    if (dg_decoder_init(&dec, cfg->max_pixels, net->size, err) != DG_OK)
        return DG_FAIL;
    int rc = batch_init(&b, net, err);
    dg_progress prog;
    dg_progress_begin(&prog, ctx, "embed (mobilenet_v2)", items->n);
    size_t per = (size_t)net->size * net->size * 3;
    for (int64_t i = 0; rc == DG_OK && i < items->n; i++) {
        if (dg_stop_poll(ctx, DG_STOP_EMBED)) {
            rc = dg_failc(err, DG_E_STOPPED, DG_STOP_REASON);
            break;
        }
        if (!set_status && !dg_status_usable(items->status[i]))
            continue;
        dg_decode_result res;
        dg_decode_file(&dec, items->path[i], &res);
        st->seconds_read += res.seconds_read;
        st->seconds_decode += res.seconds_decode;
        if (set_status) {
            items->status[i] = (int8_t)res.status;
            items->width[i] = res.width;
            items->height[i] = res.height;
        }
        if (res.status != DG_ST_OK && (set_status || !dg_status_usable((int8_t)res.status)))
            dg_log_rank(ctx, "%s: %s: %s", items->path[i], dg_status_name(res.status), res.msg);
        if (dg_status_usable((int8_t)res.status)) {
            double t = dg_now();
            dg_mobilenet_preprocess(&res.image, net->size, b.input + per * (size_t)b.n);
            st->seconds_preprocess += dg_now() - t;
            b.row[b.n++] = i;
            if (b.n == DG_MOBILENET_BATCH)
                rc = batch_run(&b, features, probs, st, err);
        }
        dg_progress_update(&prog, i + 1);
    }
    if (rc == DG_OK)
        rc = batch_run(&b, features, probs, st, err);
    batch_free(&b);
    dg_decoder_free(&dec);
    return rc;
}

static float *nan_probs(int64_t n, int n_classes, dg_err *err)
{
    float *p = dg_alloc((size_t)(n > 0 ? n : 1) * (size_t)n_classes, sizeof(float), err);
    for (size_t i = 0; p && i < (size_t)n * (size_t)n_classes; i++)
        p[i] = NAN;
    return p;
}

static void log_stats(const dg_ctx *ctx, const dg_neural_stats *st)
{
    double work = st->seconds_read + st->seconds_decode + st->seconds_preprocess + st->seconds_network;
    dg_log(ctx,
           "embed: rank 0 ran %lld images through mobilenet_v2 in %.2fs (%.1f/s): read %.2fs, decode %.2fs, "
           "preprocess %.2fs, network %.2fs (%.1f GFLOP/s)",
           (long long)st->n_run, work, work > 0 ? (double)st->n_run / work : 0.0, st->seconds_read,
           st->seconds_decode, st->seconds_preprocess, st->seconds_network,
           st->seconds_network > 0 ? st->flops / st->seconds_network * 1e-9 : 0.0);
}

int dg_neural_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, dg_pathlist *listed,
                           dg_items *items, float **probs, dg_neural_stats *st, dg_err *err)
{
    memset(items, 0, sizeof *items);
    memset(st, 0, sizeof *st);
    *probs = NULL;
    int rc = dg_items_from_list(items, listed, net->d_features, err);
    st->n_local = items->n;
    if (rc == DG_OK && !(*probs = nan_probs(items->n, net->n_classes, err)))
        rc = DG_FAIL;
    if (dg_agree(ctx, rc, err) == DG_OK)
        rc = run_items(ctx, cfg, net, items, 1, items->vec, *probs, st, err);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        dg_items_free(items);
        free(*probs);
        *probs = NULL;
        return DG_FAIL;
    }
    dg_items_normalize(items);
    log_stats(ctx, st);
    return DG_OK;
}

int dg_neural_classify(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, const dg_items *items,
                       float **probs, dg_neural_stats *st, dg_err *err)
{
    memset(st, 0, sizeof *st);
    st->n_local = items->n;
    int rc = (*probs = nan_probs(items->n, net->n_classes, err)) ? DG_OK : DG_FAIL;
    if (dg_agree(ctx, rc, err) == DG_OK)
        rc = run_items(ctx, cfg, net, (dg_items *)items, 0, NULL, *probs, st, err);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        free(*probs);
        *probs = NULL;
        return DG_FAIL;
    }
    log_stats(ctx, st);
    return DG_OK;
}
