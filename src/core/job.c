/* job.c - the job driver: runs the stages (README "Method") in order on every
 * rank, checks agreement after each, logs stage times on rank 0 and hands
 * the results to the output writer.  It owns no algorithm of its own; each
 * stage lives in its module (input/, search/, graph/, io/).
 *
 * Clusterings are processed one after another and the edges are
 * de-duplicated after each, so memory does not grow with C.
 *
 * Resumable runs (core/checkpoint.h): the embed/read stage and each finished
 * clustering are saved in "<output>.ckpt/" and reused when their
 * fingerprint matches.  SIGTERM/SIGINT only raise ctx->stop; the job stops
 * at the next safe point (after a saved stage, or inside the embed and pair
 * loops) on every rank together and says how to resume.
 */
#include "dupgraph/job.h"
#include "core/checkpoint.h"
#include "core/job_memory.h"
#include "core/job_summary.h"
#include "core/stop.h"
#include "graph/graph.h"
#include "input/embed.h"
#include "input/embeddings.h"
#include "input/filter.h"
#include "input/manifest.h"
#include "input/mobilenet.h"
#include "input/neural.h"
#include "input/pca.h"
#include "io/h5_output.h"
#include "search/edges.h"
#include "search/exact.h"
#include "search/exchange.h"
#include "search/kmeans.h"
#include "search/pairs.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STAGES 12
#define MAX_EXTRA 8

typedef struct job_state {
    const dg_ctx *ctx;
    const dg_config *cfg;
    dg_mode mode;
    dg_items items;
    dg_pathlist listed; /* image input: the listed paths until the items adopt them */
    const float *vectors; /* input held by the caller (dg_job_run_vectors): vectors_n x vectors_d */
    int64_t vectors_n;
    int vectors_d;
    dg_embed_model model;
    /* embed.method = mobilenet_v2 and the filter (issue 8) */
    dg_mobilenet net;    /* loaded before the memory check, freed after the filter */
    int have_net;
    float *probs;        /* local n x n_classes, the network's head */
    int n_classes;
    char classes[DG_MOBILENET_MAX_CLASSES][32];
    float *filter_score; /* local */
    int8_t *filtered;    /* local */
    float *weight;       /* local, with reweight.enabled */
    int64_t n_filtered;
    int64_t k;
    int probes;       /* m, at most K */
    int clusterings;  /* clusterings computed (1 in exact mode: for /items/cluster and centrality) */
    float *centroids; /* clusterings x k x d */
    int32_t *cluster; /* n x clusterings */
    float *centrality;/* n: similarity to the home centroid of clustering 0 */
    dg_edges edges;
    int64_t *label;
    int8_t *keep;
    dg_stage_time times[MAX_STAGES];
    int n_times;
    double stage_t0;
    int64_t exchanged_bytes;
    dg_pair_stats pair_stats;
    dg_memory_model memory; /* per rank, as printed before work */
    dg_ckpt ckpt;
    const char *stage; /* the running stage, for the stop message */
    int in_clustering; /* c + 1 while clustering c runs, else 0 */
    int stopped;       /* err already says why the job stopped */
    int saved;         /* stages in the checkpoint (saved or reused) */
} job_state;

static void stage_begin(job_state *js, const char *what)
{
    dg_log(js->ctx, "stage %s ...", what);
    js->stage = what;
    js->stage_t0 = dg_now();
}

static void stage_end(job_state *js, const char *name)
{
    double s = dg_now() - js->stage_t0;
    for (int i = 0; i < js->n_times; i++)
        if (strcmp(js->times[i].name, name) == 0) {
            js->times[i].seconds += s;
            return;
        }
    if (js->n_times < MAX_STAGES)
        js->times[js->n_times++] = (dg_stage_time){name, s};
}

/* The folder a file will be written to exists and is writable. */
static int check_output_folder(const char *key, const char *path, dg_err *err)
{
    char copy[DG_PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dg_failc(err, DG_E_OUTPUT, "%s %s: folder %s does not exist", key, path, dir);
    if (access(dir, W_OK) != 0)
        return dg_failc(err, DG_E_OUTPUT, "%s %s: folder %s is not writable", key, path, dir);
    return DG_OK;
}

/* Vectors held by the caller: every rank's share must be the one
 * dg_range_lo gives it, with the same dimension everywhere. */
static int check_vectors(const job_state *js, int64_t *n_total, int *d, dg_err *err)
{
    const dg_ctx *ctx = js->ctx;
    int64_t n = js->vectors_n;
    int dims[2] = {js->vectors_d, -js->vectors_d};
    MPI_Allreduce(&n, n_total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Allreduce(MPI_IN_PLACE, dims, 2, MPI_INT, MPI_MIN, ctx->comm);
    *d = dims[0];
    int64_t want = dg_range_lo(*n_total, ctx->size, ctx->rank + 1) - dg_range_lo(*n_total, ctx->size, ctx->rank);
    int rc = DG_OK;
    if (dims[0] != -dims[1] || dims[0] < 1)
        rc = dg_failc(err, DG_E_INPUT, "vectors: the dimension must be the same positive number on every rank");
    else if (n != want || (n > 0 && !js->vectors))
        rc = dg_failc(err, DG_E_INPUT, "vectors: rank %d holds %lld rows, its share of %lld is %lld (dg_range_lo)",
                      ctx->rank, (long long)n, (long long)*n_total, (long long)want);
    return dg_agree(ctx, rc, err);
}

/* The caller's vectors as items: copied and L2-normalised. */
static int read_vectors(job_state *js, dg_err *err)
{
    const dg_ctx *ctx = js->ctx;
    int64_t n_total = js->vectors_n;
    MPI_Allreduce(MPI_IN_PLACE, &n_total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    int64_t lo = dg_range_lo(n_total, ctx->size, ctx->rank);
    if (dg_items_alloc(&js->items, n_total, lo, js->vectors_n, js->vectors_d, 0, err) != DG_OK)
        return DG_FAIL;
    if (js->vectors_n > 0)
        memcpy(js->items.vec, js->vectors, (size_t)js->vectors_n * (size_t)js->vectors_d * sizeof(float));
    int64_t bad = dg_items_normalize(&js->items);
    MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (bad > 0)
        dg_log(ctx, "read: %lld vectors with NaN/Inf or zero norm are bad_vector items", (long long)bad);
    return DG_OK;
}

/* Everything that can be checked without touching the corpus: input exists
 * and has the right shape, the output folder exists and is writable. */
static int check_inputs(const job_state *js, int64_t *n_items, int *d, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    int rc = DG_OK;
    *n_items = 0;
    *d = 0;
    if (js->ctx->rank == 0) {
        struct stat st;
        rc = check_output_folder("output.path", cfg->output_path, err);
        if (rc == DG_OK && cfg->output_summary[0])
            rc = check_output_folder("output.summary", cfg->output_summary, err);
        if (rc == DG_OK && cfg->input_kind == DG_INPUT_EMBEDDINGS)
            rc = dg_h5_probe_embeddings(cfg->input_path, cfg->input_dataset, n_items, d, err);
        else if (rc == DG_OK && DG_INPUT_IS_IMAGES(cfg->input_kind) && stat(cfg->input_path, &st) != 0)
            rc = dg_failc(err, DG_E_INPUT, "input.%s %s: %s", cfg->input_kind == DG_INPUT_MANIFEST ? "manifest" : "dir",
                         cfg->input_path, strerror(errno));
    }
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;
    MPI_Bcast(n_items, 1, MPI_INT64_T, 0, js->ctx->comm);
    MPI_Bcast(d, 1, MPI_INT, 0, js->ctx->comm);
    return cfg->input_kind == DG_INPUT_VECTORS ? check_vectors(js, n_items, d, err) : DG_OK;
}

/* The network's pass over the items: with embed.method = mobilenet_v2 it
 * embeds the listed images (features and probabilities), else it only
 * classifies the items the descriptor embedded (for the filter). */
static int run_network(job_state *js, int embed, dg_err *err)
{
    dg_neural_stats st;
    int rc;
    if (embed)
        rc = dg_neural_embed_images(js->ctx, js->cfg, &js->net, &js->listed, &js->items, &js->probs, &st, err);
    else
        rc = dg_neural_classify(js->ctx, js->cfg, &js->net, &js->items, &js->probs, &st, err);
    return rc;
}

static int neural_embedding(const dg_config *cfg)
{
    return DG_INPUT_IS_IMAGES(cfg->input_kind) && cfg->embed_method == DG_EMBED_MOBILENET_V2;
}

/* Image input: lists the manifest or folder (each rank keeps its share) and
 * loads the network if the embedder or the filter runs one, so the memory
 * check knows every size before the first image is decoded.  Sets the
 * item count and dimension the check needs. */
static int prepare_images(job_state *js, int64_t *n_total, int *d, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    stage_begin(js, "list (manifest or folder)");
    int rc = dg_list_input(js->ctx, cfg, &js->listed, err);
    stage_end(js, "list");
    if (rc != DG_OK)
        return DG_FAIL;
    dg_log(js->ctx, "list: %lld images in %s", (long long)js->listed.n_total, cfg->input_path);
    *n_total = js->listed.n_total;
    *d = cfg->embed_dim;
    if (!neural_embedding(cfg) && !cfg->filter_enabled)
        return DG_OK;
    rc = dg_agree(js->ctx, dg_mobilenet_load(cfg->embed_weights, &js->net, err), err);
    if (rc != DG_OK)
        return DG_FAIL;
    js->have_net = 1;
    dg_log(js->ctx, "mobilenet_v2: %d layers, %d features, %d classes, %.2f GFLOP per image, from %s",
           js->net.n_layers, js->net.d_features, js->net.n_classes, js->net.flops_per_image * 1e-9,
           cfg->embed_weights);
    js->n_classes = js->net.n_classes;
    memcpy(js->classes, js->net.classes, sizeof js->classes);
    if (neural_embedding(cfg))
        *d = js->net.d_features;
    return DG_OK;
}

static int load_items(job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    int rc;
    if (neural_embedding(cfg)) {
        stage_begin(js, "embed (decode + mobilenet_v2)");
        rc = run_network(js, 1, err);
        stage_end(js, "embed");
    } else if (cfg->input_kind == DG_INPUT_VECTORS) {
        stage_begin(js, "read (vectors in memory)");
        rc = read_vectors(js, err);
        stage_end(js, "read");
    } else if (cfg->input_kind == DG_INPUT_EMBEDDINGS) {
        stage_begin(js, "read (embeddings, collective HDF5)");
        rc = dg_h5_read_embeddings(js->ctx, cfg->input_path, cfg->input_dataset, &js->items, err);
        stage_end(js, "read");
    } else {
        stage_begin(js, "embed (decode + descriptor + PCA)");
        rc = dg_embed_images(js->ctx, cfg, &js->listed, &js->items, &js->model, err);
        stage_end(js, "embed");
    }
    return dg_agree(js->ctx, rc, err);
}

/* The embed/read stage, or its checkpoint; a computed stage is saved.  The
 * network's class probabilities are not saved: with the filter and
 * embed.method = mobilenet_v2 the stage is recomputed (its one pass gives
 * both), with the descriptor the filter's pass runs after it. */
static int items_stage(job_state *js, dg_err *err)
{
    int projection = DG_INPUT_IS_IMAGES(js->cfg->input_kind) && !neural_embedding(js->cfg), loaded = 0;
    dg_embed_model *model = projection ? &js->model : NULL;
    int rc = DG_OK;
    js->stage_t0 = dg_now();
    if (js->cfg->input_kind == DG_INPUT_VECTORS) { /* the caller holds them: nothing to save or reuse */
        if (load_items(js, err) != DG_OK)
            return DG_FAIL;
        dg_ckpt_identify_vectors(js->ctx, &js->ckpt, &js->items);
        return DG_OK;
    }
    if (!(js->cfg->filter_enabled && neural_embedding(js->cfg)))
        rc = dg_ckpt_load_items(js->ctx, js->cfg, &js->ckpt, &js->listed, &js->items, model, &loaded, err);
    stage_end(js, "checkpoint");
    js->saved += loaded;
    if (rc != DG_OK || loaded)
        return rc;
    if (load_items(js, err) != DG_OK)
        return DG_FAIL;
    stage_begin(js, "checkpoint (save items)");
    rc = dg_ckpt_save_items(js->ctx, js->cfg, &js->ckpt, &js->items, model, err);
    stage_end(js, "checkpoint");
    js->saved += rc == DG_OK;
    return rc;
}

static void log_reweight(const job_state *js, const dg_reweight_stats *st)
{
    double undone = st->shift_unweighted > 0 ? 100.0 * (1.0 - st->shift_weighted / st->shift_unweighted) : 0.0;
    dg_log(js->ctx, "reweight: logistic regression of kept on %lld items, loss %.4f -> %.4f; weights %.3f..%.3f "
                    "(%lld clipped at %g), mean 1 over %lld kept",
           (long long)st->n_fit, st->loss_first, st->loss_last, st->min_weight, st->max_weight,
           (long long)st->n_clipped, js->cfg->reweight_max_weight, (long long)st->n_kept);
    dg_log(js->ctx, "reweight: kept items' mean embedding is %.4f from the pre-filter mean, %.4f weighted "
                    "(%.1f%% of the shift undone)",
           st->shift_unweighted, st->shift_weighted, undone);
}

static int reweight(job_state *js, const int8_t *usable, dg_err *err)
{
    int64_t n = js->items.n;
    int8_t *kept = dg_alloc((size_t)n, 1, err);
    js->weight = dg_alloc((size_t)n, sizeof(float), err);
    int rc = dg_agree(js->ctx, (kept && js->weight) || n == 0 ? DG_OK : DG_FAIL, err);
    if (rc == DG_OK) {
        for (int64_t i = 0; i < n; i++)
            kept[i] = !js->filtered[i];
        dg_reweight_params p = {js->cfg->reweight_iterations, js->cfg->reweight_l2, js->cfg->reweight_max_weight};
        dg_reweight_stats st;
        rc = dg_reweight(js->ctx, js->items.vec, n, js->items.d, usable, kept, &p, js->weight, &st, err);
        if (rc == DG_OK)
            log_reweight(js, &st);
    }
    free(kept);
    return rc;
}

/* The content filter (and re-weighting) between the embed stage and the
 * search: filtered items get status `filtered`, so the search skips them. */
static int filter_stage(job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    if (!cfg->filter_enabled)
        return DG_OK;
    stage_begin(js, js->probs ? "filter (+ reweight)" : "filter (mobilenet_v2 classes + filter + reweight)");
    if (!js->probs && run_network(js, 0, err) != DG_OK) {
        stage_end(js, "filter");
        return DG_FAIL;
    }
    unsigned mask = 0;
    int64_t n = js->items.n;
    int rc = dg_filter_class_mask(cfg->filter_classes, js->classes, js->n_classes, &mask, err);
    int8_t *usable = dg_alloc((size_t)n, 1, err);
    js->filter_score = dg_alloc((size_t)n, sizeof(float), err);
    js->filtered = dg_alloc((size_t)n, 1, err);
    if (rc == DG_OK && n > 0 && (!usable || !js->filter_score || !js->filtered))
        rc = DG_FAIL;
    if (dg_agree(js->ctx, rc, err) == DG_OK) {
        for (int64_t i = 0; i < n; i++)
            usable[i] = dg_status_usable(js->items.status[i]);
        float cut = cfg->filter_threshold - cfg->filter_margin;
        int64_t mine = dg_filter_apply(js->probs, js->n_classes, mask, cut, n, js->items.status, js->filter_score,
                                       js->filtered);
        MPI_Allreduce(&mine, &js->n_filtered, 1, MPI_INT64_T, MPI_SUM, js->ctx->comm);
        dg_log(js->ctx, "filter: %lld items filtered (classes %s, score >= %g = threshold %g - margin %g)",
               (long long)js->n_filtered, cfg->filter_classes, (double)cut, (double)cfg->filter_threshold,
               (double)cfg->filter_margin);
        if (cfg->reweight_enabled)
            rc = reweight(js, usable, err);
    } else {
        rc = DG_FAIL;
    }
    free(usable);
    stage_end(js, "filter");
    return dg_agree(js->ctx, rc, err);
}

static int stop_message(job_state *js, const char *what, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    const char *again = cfg->stop_after != DG_STOP_AFTER_NONE || cfg->stop_at_stage != DG_STOP_NONE
                            ? "run again with job.stop_after = none and job.stop_at = none"
                            : "resubmit the same command";
    js->stopped = 1;
    if (!js->saved)
        return dg_failc(err, DG_E_STOPPED, "%s, before any stage was finished: %s to start again", what, again);
    return dg_failc(err, DG_E_STOPPED, "%s; the finished stages are saved in %s: %s to resume", what, js->ckpt.dir, again);
}

/* How a raised stop flag came about, for the stop message: job.stop_at
 * raises the flag exactly as a signal does. */
static const char *stop_cause(const job_state *js)
{
    return js->cfg->stop_at_stage != DG_STOP_NONE ? "by a signal or job.stop_at" : "by a signal";
}

/* A safe point after stage `done` (0: embed/read, c + 1: clustering c) has
 * been saved: every rank stops if a signal reached any rank, or if
 * job.stop_after names this stage. */
static int safe_point(job_state *js, int done, dg_err *err)
{
    int by_signal = dg_stop_agree(js->ctx);
    if (!by_signal && js->cfg->stop_after != done)
        return DG_OK;
    char what[160];
    char stage[32];
    if (done == 0)
        snprintf(stage, sizeof stage, "the %s stage", DG_INPUT_IS_IMAGES(js->cfg->input_kind) ? "embed" : "read");
    else
        snprintf(stage, sizeof stage, "clustering %d", done - 1);
    snprintf(what, sizeof what, "stopped %s after %s", by_signal ? stop_cause(js) : "as job.stop_after asks",
             stage);
    return stop_message(js, what, err);
}

/* After a failed stage (collective): if a stage loop gave up because of a
 * signal, the reason becomes the stop message. */
static void explain_stop(job_state *js, dg_err *err)
{
    if (js->stopped || !dg_stop_agree(js->ctx) || err->code != DG_E_STOPPED)
        return;
    char what[200];
    if (js->in_clustering)
        snprintf(what, sizeof what, "stopped %s during stage %s of clustering %d", stop_cause(js), js->stage,
                 js->in_clustering - 1);
    else
        snprintf(what, sizeof what, "stopped %s during stage %s", stop_cause(js), js->stage ? js->stage : "start");
    stop_message(js, what, err);
}

/* The memory model (job_memory.c) for the whole job, printed and checked
 * against job.max_memory before any work: every input's size is known by
 * then (embeddings: the dataset's shape; images: the listing). */
static int check_memory(job_state *js, int64_t n_total, int d, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    double path_bytes = 0.0;
    for (int64_t i = 0; i < js->listed.n; i++)
        path_bytes += (double)strlen(js->listed.path[i]) + 1.0 + 16.0; /* + malloc's overhead */
    MPI_Allreduce(MPI_IN_PLACE, &path_bytes, 1, MPI_DOUBLE, MPI_MAX, js->ctx->comm);
    dg_memory_inputs in = {
        .exact = js->mode == DG_MODE_EXACT,
        .ranks = js->ctx->size,
        .n_total = n_total,
        .d = d,
        .k = js->k,
        .sample = dg_config_effective_sample(cfg, js->k, n_total),
        .probes = cfg->probes,
        .clusterings = cfg->clusterings,
        .block = cfg->block,
        .image_input = DG_INPUT_IS_IMAGES(cfg->input_kind),
        .path_bytes = path_bytes,
        .max_pixels = cfg->max_pixels,
        .network = js->have_net ? dg_mobilenet_bytes(&js->net) : 0.0,
    };
    dg_memory_model *mm = &js->memory;
    dg_memory_estimate(&in, mm);
    double est = dg_memory_total(mm), mib = 1048576.0;
    dg_log(js->ctx,
           "memory estimate per rank: %.1f MiB = runtime %.0f + items %.1f + results %.1f + probes %.1f + the "
           "largest of embed %.1f, k-means %.1f, %s %.1f, graph %.1f (MiB; edges extra, ~80 bytes each)",
           est / mib, mm->runtime / mib, mm->items / mib, mm->results / mib, mm->probes / mib, mm->embed / mib,
           mm->kmeans / mib, in.exact ? "exact ring" : "exchange", (mm->exchange + mm->exact) / mib,
           mm->graph / mib);
    if (cfg->max_memory <= 0 || est <= (double)cfg->max_memory)
        return DG_OK;
    double decoder = in.image_input ? 8.0 * (double)cfg->max_pixels : 0.0; /* job_memory.c */
    if (decoder > est / 2)
        return dg_failc(err, DG_E_MEMORY, "memory estimate %.1f MiB per rank exceeds job.max_memory = %.1f MiB: %.1f MiB of it "
                       "bounds the JPEG decoder at embed.max_pixels = %lld; lower embed.max_pixels",
                       est / mib, (double)cfg->max_memory / mib, decoder / mib, (long long)cfg->max_pixels);
    return dg_failc(err, DG_E_MEMORY, "memory estimate %.1f MiB per rank exceeds job.max_memory = %.1f MiB: use more ranks",
                   est / mib, (double)cfg->max_memory / mib);
}

static int alloc_results(job_state *js, dg_err *err)
{
    size_t n = (size_t)js->items.n, cells, cent;
    if (dg_mul_size(n, (size_t)js->clusterings, &cells, err) != DG_OK ||
        dg_mul_size((size_t)js->clusterings * (size_t)js->k, (size_t)js->items.d, &cent, err) != DG_OK)
        return DG_FAIL;
    js->centroids = dg_alloc(cent, sizeof(float), err);
    js->cluster = dg_alloc(cells, sizeof(int32_t), err);
    js->centrality = dg_calloc(n, sizeof(float), err);
    js->label = dg_alloc(n, sizeof(int64_t), err);
    js->keep = dg_calloc(n, sizeof(int8_t), err);
    if (!js->centroids || !js->cluster || !js->centrality || !js->label || !js->keep)
        return DG_FAIL;
    for (size_t i = 0; i < cells; i++)
        js->cluster[i] = -1;
    return DG_OK;
}

/* Trains clustering c and finds every item's m nearest clusters (near is
 * n x m, -1 rows for unusable items). */
static int cluster_and_probe(job_state *js, int c, int m, int32_t *near, float *near_sim, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    dg_kmeans_params kp;
    dg_kmeans_params_default(&kp);
    kp.k = js->k;
    kp.iterations = cfg->iterations;
    kp.sample = dg_config_effective_sample(cfg, js->k, js->items.n_total);
    kp.seed = dg_mix64(cfg->seed + (uint64_t)c);
    float *cent = js->centroids + (size_t)c * (size_t)js->k * (size_t)js->items.d;
    dg_kmeans_stats *stats = dg_calloc((size_t)kp.iterations, sizeof *stats, err);
    if (!stats)
        return DG_FAIL;

    stage_begin(js, "k-means");
    dg_stop_poll(js->ctx, DG_STOP_KMEANS); /* honoured at the next poll or safe point, as a signal here is */
    int rc = dg_kmeans_train(js->ctx, &js->items, &kp, cent, stats, err);
    stage_end(js, "kmeans");
    if (rc == DG_OK) {
        const dg_kmeans_stats *last = &stats[kp.iterations - 1];
        dg_log(js->ctx, "clustering %d: K=%lld, sample %lld, objective %.4f, imbalance %.2f", c, (long long)js->k,
               (long long)kp.sample, last->objective, last->imbalance);
    }
    free(stats);
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;

    stage_begin(js, "assign (nearest centroids)");
    rc = dg_nearest_centroids(js->items.vec, js->items.n, js->items.d, cent, js->k, m, near, near_sim, err);
    if (rc == DG_OK)
        for (int64_t i = 0; i < js->items.n; i++) {
            if (!dg_status_usable(js->items.status[i])) {
                for (int j = 0; j < m; j++)
                    near[i * m + j] = -1;
                continue;
            }
            js->cluster[i * js->clusterings + c] = near[i * m];
            if (c == 0)
                js->centrality[i] = near_sim[i * m];
        }
    stage_end(js, "assign");
    return dg_agree(js->ctx, rc, err);
}

/* This clustering's edges into `fresh`, de-duplicated (src in own range). */
static int search_clustering(job_state *js, const int32_t *near, int m, dg_edges *fresh, dg_err *err)
{
    dg_cluster_plan plan = {0};
    dg_bucket bucket = {0};
    int64_t bytes = 0;
    stage_begin(js, "exchange (MPI_Alltoallv)");
    dg_stop_poll(js->ctx, DG_STOP_EXCHANGE);
    int rc = dg_plan_clusters(js->ctx, &js->items, near, m, js->k, &plan, err);
    if (rc == DG_OK)
        rc = dg_exchange(js->ctx, &js->items, near, m, &plan, &bucket, &bytes, err);
    stage_end(js, "exchange");
    js->exchanged_bytes += bytes;
    if (dg_agree(js->ctx, rc, err) == DG_OK) {
        dg_log(js->ctx, "plan: max rank load %.3g pairs, mean %.3g (imbalance %.2f)", plan.max_load,
               plan.mean_load, plan.mean_load > 0 ? plan.max_load / plan.mean_load : 1.0);
        stage_begin(js, "pairs (blocked sgemm)");
        dg_pair_stats st = {0};
        rc = dg_pairs_bucket(js->ctx, &bucket, js->cfg->threshold, js->cfg->block, fresh, &st, err);
        js->pair_stats.compared += st.compared;
        js->pair_stats.flops += st.flops;
        js->pair_stats.seconds += st.seconds;
        stage_end(js, "pairs");
        rc = dg_agree(js->ctx, rc, err);
        if (rc == DG_OK)
            dg_pair_stats_log(js->ctx, "pairs", &st, bucket.n);
    } else {
        rc = DG_FAIL;
    }
    dg_bucket_free(&bucket);
    dg_cluster_plan_free(&plan);
    if (rc != DG_OK)
        return DG_FAIL;
    stage_begin(js, "dedup edges");
    rc = dg_graph_dedup(js->ctx, js->items.n_total, fresh, err);
    stage_end(js, "graph");
    return dg_agree(js->ctx, rc, err);
}

/* Both lists hold sorted, unique edges with src in this rank's range, so
 * the union is local. */
static int merge_edges(job_state *js, const dg_edges *fresh, dg_err *err)
{
    int rc = DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < fresh->n; i++)
        rc = dg_edges_push(&js->edges, fresh->src[i], fresh->dst[i], fresh->sim[i], err);
    if (rc == DG_OK)
        rc = dg_edges_sort_unique(&js->edges, err);
    return dg_agree(js->ctx, rc, err);
}

static dg_ckpt_clustering clustering_view(const job_state *js, int c)
{
    size_t cent = (size_t)c * (size_t)js->k * (size_t)js->items.d;
    return (dg_ckpt_clustering){c, js->clusterings, js->k, js->centroids + cent, js->cluster, js->centrality};
}

/* Clustering c of the run mode: reused from its checkpoint, or computed and
 * saved; its edges join js->edges either way. */
static int run_clustering(job_state *js, int c, int32_t *near, float *near_sim, dg_err *err)
{
    dg_edges fresh = {0};
    dg_ckpt_clustering cl = clustering_view(js, c);
    int loaded = 0;
    js->stage_t0 = dg_now();
    int rc = dg_ckpt_load_clustering(js->ctx, &js->ckpt, &js->items, &cl, &fresh, &loaded, err);
    stage_end(js, "checkpoint");
    if (rc == DG_OK && !loaded) {
        rc = cluster_and_probe(js, c, js->probes, near, near_sim, err);
        if (rc == DG_OK)
            rc = search_clustering(js, near, js->probes, &fresh, err);
        if (rc == DG_OK) {
            stage_begin(js, "checkpoint (save clustering)");
            rc = dg_ckpt_save_clustering(js->ctx, &js->ckpt, &js->items, &cl, &fresh, err);
            stage_end(js, "checkpoint");
        }
    }
    if (rc == DG_OK)
        rc = merge_edges(js, &fresh, err);
    js->saved += rc == DG_OK;
    dg_edges_free(&fresh);
    return rc;
}

static int find_edges(job_state *js, dg_err *err)
{
    int m = js->probes;
    size_t cells = (size_t)js->items.n * (size_t)m;
    int32_t *near = dg_alloc(cells, sizeof(int32_t), err);
    float *near_sim = dg_alloc(cells, sizeof(float), err);
    int rc = near && near_sim ? DG_OK : DG_FAIL;
    rc = dg_agree(js->ctx, rc, err);
    for (int c = 0; rc == DG_OK && c < js->clusterings; c++) {
        js->in_clustering = c + 1;
        if (js->mode == DG_MODE_EXACT)
            rc = cluster_and_probe(js, c, m, near, near_sim, err);
        else if ((rc = run_clustering(js, c, near, near_sim, err)) == DG_OK)
            rc = safe_point(js, c + 1, err);
        if (rc == DG_OK)
            js->in_clustering = 0;
    }
    free(near);
    free(near_sim);
    if (rc != DG_OK || js->mode == DG_MODE_RUN)
        return rc;

    stage_begin(js, "pairs (exact: every pair, ring of rank blocks)");
    rc = dg_pairs_exact(js->ctx, &js->items, js->cfg->threshold, js->cfg->block, &js->edges, &js->pair_stats, err);
    stage_end(js, "pairs");
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;
    stage_begin(js, "dedup edges");
    rc = dg_graph_dedup(js->ctx, js->items.n_total, &js->edges, err);
    stage_end(js, "graph");
    return dg_agree(js->ctx, rc, err);
}

static int build_graph(job_state *js, dg_err *err)
{
    stage_begin(js, "components + keep");
    int rounds = 0;
    int rc = dg_graph_components(js->ctx, js->items.n_total, js->items.lo, js->items.n, &js->edges, js->label,
                                 &rounds, err);
    if (rc == DG_OK)
        rc = dg_graph_keep(js->ctx, js->items.n_total, js->items.lo, js->items.n, js->label, js->items.status,
                           js->centrality, js->cfg->keep, js->keep, err);
    stage_end(js, "graph");
    if (rc == DG_OK)
        dg_log(js->ctx, "components found in %d rounds", rounds);
    return dg_agree(js->ctx, rc, err);
}

static void count_results(const job_state *js, dg_job_counts *out)
{
    int64_t local[4 + DG_ST_COUNT] = {0};
    local[1] = js->edges.n;
    for (int64_t i = 0; i < js->items.n; i++) {
        int8_t st = js->items.status[i];
        local[4 + st]++;
        if (!dg_status_usable(st)) {
            local[0] += st != DG_ST_FILTERED;
            continue;
        }
        if (js->label[i] == js->items.lo + i)
            local[2]++;
        if (!js->keep[i])
            local[3]++;
    }
    int64_t global[4 + DG_ST_COUNT];
    MPI_Allreduce(local, global, 4 + DG_ST_COUNT, MPI_INT64_T, MPI_SUM, js->ctx->comm);
    out->failed = global[0];
    out->edges = global[1];
    out->components = global[2];
    out->removed = global[3];
    memcpy(out->by_status, global + 4, sizeof out->by_status);
}

static int write_output(job_state *js, const dg_job_counts *counts, dg_err *err)
{
    char *config_text = dg_config_to_text(js->cfg);
    if (!config_text)
        return dg_agree(js->ctx, dg_failc(err, DG_E_MEMORY, "out of memory formatting the config"), err);
    dg_extra_dataset extra[MAX_EXTRA];
    int n_extra = 0;
    int rc = DG_OK;
    if (DG_INPUT_IS_IMAGES(js->cfg->input_kind) && !neural_embedding(js->cfg))
        rc = dg_embed_model_datasets(&js->model, extra, MAX_EXTRA, &n_extra, err);
    const dg_config *cfg = js->cfg;
    static const char *const embedders[] = {"none", "embeddings", "descriptor", "descriptor", "vectors"};
    dg_output out = {
        .config_text = config_text,
        .mode = js->mode == DG_MODE_RUN ? "run" : "exact",
        .embedder = neural_embedding(cfg) ? "mobilenet_v2" : embedders[cfg->input_kind],
        .threshold = cfg->threshold,
        .probes = js->probes,
        .keep_policy = cfg->keep == DG_KEEP_CENTRAL ? "central" : "first",
        .seed = js->cfg->seed,
        .items = &js->items,
        .component = js->label,
        .keep = js->keep,
        .cluster = js->cluster,
        .clusterings = js->clusterings,
        .k = js->k,
        .centroids = js->centroids,
        .edges = &js->edges,
        .write_embeddings = js->cfg->output_embeddings == DG_EMB_OUT_FLOAT32,
        .times = js->times,
        .n_times = js->n_times,
        .extra = extra,
        .n_extra = n_extra,
        .n_failed = counts->failed,
        .n_edges = counts->edges,
        .n_components = counts->components,
        .n_removed = counts->removed,
        .write_filter = js->cfg->filter_enabled,
        .write_weight = js->cfg->filter_enabled && js->cfg->reweight_enabled,
        .filter_score = js->filter_score,
        .filtered = js->filtered,
        .class_prob = js->probs,
        .n_classes = js->n_classes,
        .weight = js->weight,
        .n_filtered = js->n_filtered,
    };
    stage_begin(js, "write (collective parallel HDF5)");
    if (dg_agree(js->ctx, rc, err) == DG_OK)
        rc = dg_h5_write_output(js->ctx, js->cfg->output_path, &out, err);
    else
        rc = DG_FAIL;
    stage_end(js, "write");
    free(config_text);
    return rc;
}

/* Collective: the closing summary (log lines and output.summary). */
static int summarize(const job_state *js, const dg_job_counts *counts, double seconds, dg_err *err)
{
    dg_pair_stats_log(js->ctx, "summary", &js->pair_stats, js->items.n);
    dg_job_report r = {
        .exact = js->mode == DG_MODE_EXACT,
        .n_items = js->items.n_total,
        .n_local = js->items.n,
        .counts = *counts,
        .k = js->k,
        .clusterings = js->clusterings,
        .probes = js->probes,
        .d = js->items.d,
        .times = js->times,
        .n_times = js->n_times,
        .seconds_total = seconds,
        .pairs = js->pair_stats,
        .exchanged_bytes = js->exchanged_bytes,
        .memory = js->memory,
    };
    return dg_job_summarize(js->ctx, js->cfg, &r, err);
}

static void free_state(job_state *js)
{
    dg_items_free(&js->items);
    dg_pathlist_free(&js->listed);
    if (js->have_net)
        dg_mobilenet_free(&js->net);
    if (DG_INPUT_IS_IMAGES(js->cfg->input_kind))
        dg_embed_model_free(&js->model);
    free(js->probs);
    free(js->filter_score);
    free(js->filtered);
    free(js->weight);
    dg_edges_free(&js->edges);
    free(js->centroids);
    free(js->cluster);
    free(js->centrality);
    free(js->label);
    free(js->keep);
}

/* Everything before the first stage: inputs checked, image input listed,
 * the memory estimate printed and checked, the checkpoint folder ready. */
static int prepare(job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    int64_t n_total = 0;
    int d = 0;
    int rc = check_inputs(js, &n_total, &d, err);
    if (rc == DG_OK && DG_INPUT_IS_IMAGES(cfg->input_kind))
        rc = prepare_images(js, &n_total, &d, err);
    if (rc == DG_OK) {
        js->k = dg_config_effective_k(cfg, n_total);
        rc = dg_agree(js->ctx, check_memory(js, n_total, d, err), err);
    }
    if (rc == DG_OK)
        rc = dg_ckpt_init(js->ctx, cfg, js->mode == DG_MODE_EXACT, &js->ckpt, err);
    return rc;
}

/* K and m for the search, once the items are known. */
static void search_settings(job_state *js)
{
    const dg_config *cfg = js->cfg;
    js->k = dg_config_effective_k(cfg, js->items.n_total);
    if (cfg->k > js->k)
        dg_log(js->ctx, "warning: cluster.k = %lld is above the number of items; using K = %lld", (long long)cfg->k,
               (long long)js->k);
    js->probes = js->mode == DG_MODE_RUN ? cfg->probes : 1;
    if (js->probes > js->k) {
        dg_log(js->ctx, "warning: cluster.probes = %d is above K = %lld; probing all %lld clusters", js->probes,
               (long long)js->k, (long long)js->k);
        js->probes = (int)js->k;
    }
    js->clusterings = js->mode == DG_MODE_RUN ? cfg->clusterings : 1;
}

/* js: the input and mode set, the rest zero (taken by value: the job's
 * working state lives here until it returns). */
static int run_job(job_state js, dg_err *err)
{
    double t0 = dg_now();
    const dg_ctx *ctx = js.ctx;
    const dg_config *cfg = js.cfg;
    dg_mode mode = js.mode;
    dg_log(ctx, "dupgraph %s: %s on %d ranks, input %s", DG_VERSION, mode == DG_MODE_RUN ? "run" : "exact",
           ctx->size, cfg->input_path);
    int rc = prepare(&js, err);
    if (rc == DG_OK)
        rc = items_stage(&js, err);
    if (rc == DG_OK)
        rc = safe_point(&js, 0, err);
    if (rc == DG_OK)
        rc = filter_stage(&js, err);
    if (js.have_net) {
        dg_mobilenet_free(&js.net);
        js.have_net = 0;
    }
    if (rc == DG_OK) {
        search_settings(&js);
        rc = dg_agree(ctx, alloc_results(&js, err), err);
    }
    if (rc == DG_OK)
        rc = find_edges(&js, err);
    if (rc == DG_OK)
        rc = build_graph(&js, err);
    dg_job_counts counts = {0};
    if (rc == DG_OK) {
        count_results(&js, &counts);
        rc = write_output(&js, &counts, err);
    }
    if (rc == DG_OK) {
        dg_ckpt_remove(ctx, &js.ckpt);
        rc = summarize(&js, &counts, dg_now() - t0, err);
    } else {
        explain_stop(&js, err);
        dg_ckpt_tidy(ctx, &js.ckpt);
    }
    free_state(&js);
    return rc;
}

/* The stop flag is raised by SIGTERM/SIGINT for the duration of the job,
 * or by the job.stop_at test point. */
static int run_with_stop_flag(const dg_ctx *ctx, job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    dg_ctx run = *ctx;
    dg_stop_saved saved;
    dg_stop_point stop_at = {(dg_stop_stage)cfg->stop_at_stage, cfg->stop_at, 0};
    run.stop_at = cfg->stop_at_stage != DG_STOP_NONE ? &stop_at : NULL;
    run.stop = dg_stop_install(&saved);
    js->ctx = &run;
    int rc = run_job(*js, err);
    dg_stop_restore(&saved);
    return rc;
}

int dg_job_run(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, dg_err *err)
{
    if (cfg->input_kind == DG_INPUT_NONE || cfg->input_kind == DG_INPUT_VECTORS)
        return dg_failc(err, DG_E_CONFIG, "no input: set one of input.embeddings, input.manifest, input.dir");
    job_state js = {.cfg = cfg, .mode = mode};
    return run_with_stop_flag(ctx, &js, err);
}

int dg_job_run_vectors(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, const float *vec, int64_t n_local,
                       int d, dg_err *err)
{
    dg_config own = *cfg;
    own.input_kind = DG_INPUT_VECTORS;
    snprintf(own.input_path, sizeof own.input_path, "(vectors in memory)");
    job_state js = {.cfg = &own, .mode = mode, .vectors = vec, .vectors_n = n_local, .vectors_d = d};
    return run_with_stop_flag(ctx, &js, err);
}
