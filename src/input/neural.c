/* neural.c - the mobilenet_v2 embedder (embedder.h) and the filter's
 * classification: the shared decode loop (image_loop.c) hands each usable
 * image, decoded at the network's input scale, to a step that preprocesses
 * it as nsfwjs does and runs MobileNetV2 a batch at a time, keeping the
 * pooled features (the embedding, L2-normalised) and the class
 * probabilities (for the filter).  The network is mobilenet.c; the
 * descriptor embedder is embed.c. */
#include "input/neural.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input/embedder.h"
#include "input/image_loop.h"
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

/* Queues a usable image; a full batch runs. */
typedef struct runner {
    batch b;
    float *features; /* n x d_features, or NULL: classification only */
    float *probs;    /* n x n_classes */
    dg_neural_stats *st;
} runner;

static int runner_step(runner *r, int64_t i, const dg_pixels *image, dg_err *err)
{
    const dg_mobilenet *net = r->b.net;
    size_t per = (size_t)net->size * net->size * 3;
    double t = dg_now();
    dg_mobilenet_preprocess(image, net->size, r->b.input + per * (size_t)r->b.n);
    r->st->seconds_preprocess += dg_now() - t;
    r->b.row[r->b.n++] = i;
    return r->b.n == DG_MOBILENET_BATCH ? batch_run(&r->b, r->features, r->probs, r->st, err) : DG_OK;
}

static int classify_step(void *state, int64_t i, const dg_pixels *image, const int *box, dg_err *err)
{
    (void)box;
    return runner_step(state, i, image, err);
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

int dg_neural_load(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, dg_err *err)
{
    if (dg_agree(ctx, dg_mobilenet_load(cfg->embed_weights, net, err), err) != DG_OK)
        return DG_FAIL;
    dg_log(ctx, "mobilenet_v2: %d layers, %d features, %d classes, %.2f GFLOP per image, from %s", net->n_layers,
           net->d_features, net->n_classes, net->flops_per_image * 1e-9, cfg->embed_weights);
    return DG_OK;
}

int dg_neural_classify(const dg_ctx *ctx, const dg_config *cfg, dg_mobilenet *net, const dg_items *items,
                       dg_shard_source *shards, float **probs, dg_neural_stats *st, dg_err *err)
{
    memset(st, 0, sizeof *st);
    st->n_local = items->n;
    runner r = {.st = st};
    int rc = (*probs = nan_probs(items->n, net->n_classes, err)) ? DG_OK : DG_FAIL;
    r.probs = *probs;
    if (rc == DG_OK)
        rc = batch_init(&r.b, net, err);
    dg_image_loop loop = {.progress = "embed (mobilenet_v2)", .min_side = net->size, .keep_status = 1,
                          .step = classify_step, .state = &r, .shards = shards};
    if (dg_agree(ctx, rc, err) == DG_OK) {
        rc = dg_image_loop_run(ctx, cfg, (dg_items *)items, &loop, err);
        if (rc == DG_OK)
            rc = batch_run(&r.b, NULL, r.probs, st, err);
    }
    batch_free(&r.b);
    st->seconds_read = loop.seconds_read;
    st->seconds_decode = loop.seconds_decode;
    if (dg_agree(ctx, rc, err) != DG_OK) {
        free(*probs);
        *probs = NULL;
        return DG_FAIL;
    }
    log_stats(ctx, st);
    return DG_OK;
}

/* ---- the mobilenet_v2 embedder ------------------------------------------- */

typedef struct network_state {
    dg_image_input in; /* first: the image embedders' shared part */
    dg_mobilenet net;
    runner r;
    dg_neural_stats st;
} network_state;

/* Lists the input and loads the network, so the memory check knows its size. */
static int network_prepare(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, int64_t *n_total, int *d,
                           dg_err *err)
{
    network_state *s = e->state = dg_calloc(1, sizeof(network_state), err);
    if (dg_agree(ctx, s ? DG_OK : DG_FAIL, err) != DG_OK || dg_image_input_prepare(&s->in, ctx, cfg, err) != DG_OK)
        return DG_FAIL;
    *n_total = s->in.listed.n_total;
    if (dg_neural_load(ctx, cfg, &s->net, err) != DG_OK)
        return DG_FAIL;
    e->net = &s->net;
    *d = e->d = s->net.d_features;
    e->min_side = s->net.size;
    return DG_OK;
}

static void network_memory(const dg_embedder *e, const dg_config *cfg, dg_embedder_memory *m)
{
    const network_state *s = e->state;
    memset(m, 0, sizeof *m);
    dg_image_input_memory(&s->in, cfg, m);
    m->network = e->net ? dg_mobilenet_bytes(e->net) : 0.0;
}

static int network_begin(dg_embedder *e, const dg_config *cfg, const dg_items *items, dg_err *err)
{
    (void)cfg;
    network_state *s = e->state;
    memset(&s->st, 0, sizeof s->st);
    s->st.n_local = items->n;
    free(e->probs);
    if (!(e->probs = nan_probs(items->n, s->net.n_classes, err)))
        return DG_FAIL;
    s->r = (runner){.features = items->vec, .probs = e->probs, .st = &s->st};
    return batch_init(&s->r.b, &s->net, err);
}

static int network_step(void *state, int64_t i, const dg_pixels *image, const int *box, dg_err *err)
{
    (void)box;
    network_state *s = ((dg_embedder *)state)->state;
    return runner_step(&s->r, i, image, err);
}

/* The last batch; the features normalised. */
static int network_finish(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items,
                          const dg_image_loop *loop, dg_err *err)
{
    (void)cfg;
    network_state *s = e->state;
    int rc = batch_run(&s->r.b, s->r.features, s->r.probs, &s->st, err);
    batch_free(&s->r.b);
    memset(&s->r.b, 0, sizeof s->r.b);
    s->st.seconds_read = loop->seconds_read;
    s->st.seconds_decode = loop->seconds_decode;
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    dg_items_normalize(items);
    log_stats(ctx, &s->st);
    return DG_OK;
}

static void network_release(dg_embedder *e)
{
    network_state *s = e->state;
    if (!s)
        return;
    batch_free(&s->r.b);
    memset(&s->r.b, 0, sizeof s->r.b);
    dg_image_input_free(&s->in);
}

/* The class probabilities are not saved: with the filter the stage runs
 * again (its one pass gives features and probabilities). */
void dg_embedder_mobilenet(dg_embedder *e, const dg_config *cfg)
{
    *e = (dg_embedder){
        .name = dg_config_enum_name("embed.method", DG_EMBED_MOBILENET_V2),
        .title = "embed (decode + mobilenet_v2)",
        .stage = "embed",
        .images = 1,
        .saved = 1,
        .reusable = !cfg->filter_enabled,
        .prepare_title = "list (manifest or folder)",
        .prepare_stage = "list",
        .prepare = network_prepare,
        .memory = network_memory,
        .progress = "embed (mobilenet_v2)",
        .begin = network_begin,
        .step = network_step,
        .finish = network_finish,
        .identify = dg_image_input_identify,
        .adopt = dg_image_input_adopt,
        .columns = dg_image_input_columns,
        .release = network_release,
    };
}
