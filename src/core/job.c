/* job.c - the job driver: runs the stages (README "Method") in order on every
 * rank, checks agreement after each, logs stage times on rank 0 and hands
 * the results to the output writer.  It owns no algorithm of its own; each
 * stage lives in its module (input/, search/, graph/, io/).  The first
 * stage is the embedder's (input/embedder.h), chosen once from the input:
 * the driver holds no branch on the input kind or embed method.
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
#include "graph/verify_edges.h"
#include "input/embedder.h"
#include "input/filter.h"
#include "input/mobilenet.h"
#include "input/neural.h"
#include "input/signature.h"
#include "io/h5_output.h"
#include "search/candidate_bound.h"
#include "search/centroid_index.h"
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

#define MAX_STAGES 14
#define MAX_EXTRA 8
#define COARSE_ITERATIONS 10 /* Lloyd steps of the two-level index over the centroids */

typedef struct job_state {
    const dg_ctx *ctx;
    const dg_config *cfg;
    dg_mode mode;
    dg_embedder emb; /* the first stage (input/embedder.h), chosen once */
    dg_items items;
    /* the content filter (issue 8): the embedder's network, or its own
     * loaded before the memory check; freed after the filter */
    dg_mobilenet *net;
    dg_mobilenet own_net;
    int have_own_net;
    float *probs;        /* local n x n_classes, the network's head */
    int n_classes;
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
    float *edge_verify; /* local, beside edges: the verifier's scores (verification on) */
    dg_job_verify verify;
    int64_t *label;
    int8_t *keep;
    float *best_sim;     /* local: the best match's similarity, NaN for none */
    int64_t *best_match; /* local: -1 for none */
    dg_stage_time times[MAX_STAGES];
    int n_times;
    double stage_t0;
    int64_t exchanged_bytes;
    dg_pair_opts pair_opts; /* pairs.threshold, block, the resolved precision, the bound below */
    dg_candidate_bound bound; /* the verifier's budget while the search holds candidates (verify.max_held) */
    dg_pair_stats pair_stats;
    dg_clustering_figures *figures; /* one per clustering, for the summary */
    dg_memory_model memory; /* per rank, as printed before work */
    int64_t max_rows;       /* job.max_memory set: bucket rows per task round (exchange.h); else 0 */
    int64_t net_round_bytes; /* job.max_memory set: bytes per MPI_Alltoallv round; else 0 */
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

/* Everything that can be checked without touching the corpus: the output
 * folder exists and is writable (the embedder checks its input). */
static int check_outputs(const job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    int rc = DG_OK;
    if (js->ctx->rank == 0) {
        rc = check_output_folder("output.path", cfg->output_path, err);
        if (rc == DG_OK && cfg->output_summary[0])
            rc = check_output_folder("output.summary", cfg->output_summary, err);
    }
    return dg_agree(js->ctx, rc, err);
}

/* The embedder checks its input and lists, probes or loads what its stage
 * needs, so the memory check knows every size before the first item is
 * read; the filter gets the embedder's network or loads its own. */
static int prepare_input(job_state *js, int64_t *n_total, int *d, dg_err *err)
{
    dg_embedder *e = &js->emb;
    const dg_config *cfg = js->cfg;
    if (e->prepare_title)
        stage_begin(js, e->prepare_title);
    int rc = e->prepare(e, js->ctx, cfg, n_total, d, err);
    if (e->prepare_title)
        stage_end(js, e->prepare_stage);
    if (rc != DG_OK || !cfg->filter_enabled)
        return rc;
    if (!e->images)
        return dg_failc(err, DG_E_CONFIG, "filter.enabled needs image input (input.manifest, input.dir or input.shards)");
    js->net = e->net;
    if (!js->net) {
        if (dg_neural_load(js->ctx, cfg, &js->own_net, err) != DG_OK)
            return DG_FAIL;
        js->have_own_net = 1;
        js->net = &js->own_net;
    }
    js->n_classes = js->net->n_classes;
    return DG_OK;
}

/* The networks are freed once the filter has run. */
static void drop_networks(job_state *js)
{
    dg_embedder_drop_network(&js->emb);
    if (js->have_own_net)
        dg_mobilenet_free(&js->own_net);
    js->have_own_net = 0;
    js->net = NULL;
}

static int run_embedder(job_state *js, dg_err *err)
{
    dg_embedder *e = &js->emb;
    stage_begin(js, e->title);
    int rc = dg_embedder_run(e, js->ctx, js->cfg, &js->items, err);
    stage_end(js, e->stage);
    return dg_agree(js->ctx, rc, err);
}

/* The embed/read stage, or its checkpoint; a computed stage is saved.  An
 * embedder whose stage is not saved (the caller holds the vectors) only
 * names its input for the clusterings' fingerprints; one that is not
 * reusable (it must run for what it does not save) is saved but recomputed. */
static int items_stage(job_state *js, dg_err *err)
{
    dg_embedder *e = &js->emb;
    int loaded = 0, rc = DG_OK;
    js->stage_t0 = dg_now();
    if (!e->saved) {
        if (run_embedder(js, err) != DG_OK)
            return DG_FAIL;
        return dg_ckpt_identify(js->ctx, js->cfg, &js->ckpt, e, &js->items, err);
    }
    if (e->reusable)
        rc = dg_ckpt_load_items(js->ctx, js->cfg, &js->ckpt, e, &js->items, &loaded, err);
    stage_end(js, "checkpoint");
    js->saved += loaded;
    if (rc != DG_OK || loaded)
        return rc;
    if (run_embedder(js, err) != DG_OK)
        return DG_FAIL;
    stage_begin(js, "checkpoint (save items)");
    rc = dg_ckpt_save_items(js->ctx, js->cfg, &js->ckpt, e, &js->items, err);
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
    js->probs = js->emb.probs; /* the embedder's network gave them with the embedding */
    js->emb.probs = NULL;
    stage_begin(js, js->probs ? "filter (+ reweight)" : "filter (mobilenet_v2 classes + filter + reweight)");
    dg_neural_stats st;
    if (!js->probs && dg_neural_classify(js->ctx, cfg, js->net, &js->items, dg_embedder_shards(&js->emb), &js->probs, &st,
                                           err) != DG_OK) {
        stage_end(js, "filter");
        return DG_FAIL;
    }
    unsigned mask = 0;
    int64_t n = js->items.n;
    int rc = dg_filter_class_mask(cfg->filter_classes, js->net->classes, js->n_classes, &mask, err);
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
        snprintf(stage, sizeof stage, "the %s stage", js->emb.stage);
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
 * then (the embedder's prepare: the dataset's shape, the listing). */
static int check_memory(job_state *js, int64_t n_total, int d, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    dg_memory_inputs in;
    dg_memory_inputs_for(cfg, js->mode == DG_MODE_EXACT, js->ctx->size, n_total, d, &in);
    js->emb.memory(&js->emb, cfg, &in.input);
    if (js->have_own_net) /* the filter's */
        in.input.network += dg_mobilenet_bytes(&js->own_net);
    dg_memory_model *mm = &js->memory;
    dg_memory_estimate(&in, mm);
    double est = dg_memory_total(mm), mib = 1048576.0;
    dg_log(js->ctx,
           "memory estimate per rank: %.1f MiB = runtime %.0f + items %.1f + results %.1f + probes %.1f + the "
           "largest of embed %.1f, k-means %.1f, %s %.1f, graph %.1f (MiB; edges extra, ~80 bytes each)",
           est / mib, mm->runtime / mib, mm->items / mib, mm->results / mib, mm->probes / mib, mm->embed / mib,
           mm->kmeans / mib, in.exact ? "exact ring" : "exchange", (mm->exchange + mm->exact) / mib,
           mm->graph / mib);
    if (cfg->max_memory > 0 && !in.exact) {
        /* below one MiB the rounds would be a pass over every item for a
         * handful of rows each */
        if (mm->bucket_budget < mib)
            return dg_failc(err, DG_E_MEMORY,
                            "job.max_memory = %.1f MiB leaves %.1f MiB per rank for the exchanged bucket after "
                            "the fixed terms (runtime, items, results, probes) and the headroom: raise it or use "
                            "more ranks",
                            (double)cfg->max_memory / mib, mm->bucket_budget / mib);
        js->max_rows = (int64_t)(mm->bucket_budget / mm->row_bytes);
        js->net_round_bytes = (int64_t)mm->net_round_bytes;
        dg_log(js->ctx, "memory: the exchange runs in rounds of at most %lld bucket rows (%.1f MiB) per rank",
               (long long)js->max_rows, mm->bucket_budget / mib);
    }
    if (cfg->max_memory <= 0 || est <= (double)cfg->max_memory)
        return DG_OK;
    double decoder = in.input.decoder; /* job_memory.c */
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
    js->best_sim = dg_alloc(n, sizeof(float), err);
    js->best_match = dg_alloc(n, sizeof(int64_t), err);
    js->figures = dg_calloc((size_t)js->clusterings, sizeof *js->figures, err);
    if (!js->centroids || !js->cluster || !js->centrality || !js->label || !js->keep || !js->best_sim || !js->best_match || !js->figures)
        return DG_FAIL;
    for (size_t i = 0; i < cells; i++)
        js->cluster[i] = -1;
    return DG_OK;
}

/* Every item's m nearest centroids by cluster.assign: flat, or two-level
 * through a coarse index that every rank builds alike from the centroids. */
static int assign_items(job_state *js, const float *cent, int m, int32_t *near, float *near_sim, dg_err *err)
{
    const dg_items *it = &js->items;
    if (js->cfg->assign == DG_ASSIGN_FLAT)
        return dg_nearest_centroids(it->vec, it->n, it->d, cent, js->k, m, js->pair_opts.bfloat16, near, near_sim,
                                    err);
    dg_centroid_index ix;
    double t0 = dg_now();
    if (dg_centroid_index_build(cent, js->k, it->d, dg_centroid_index_groups(js->k), COARSE_ITERATIONS, &ix, err) !=
        DG_OK)
        return DG_FAIL;
    dg_log(js->ctx, "two-level assignment: %lld coarse groups of the K=%lld centroids (%.2fs), %d probed per item",
           (long long)ix.kc, (long long)js->k, dg_now() - t0, js->cfg->coarse_probes);
    int rc = dg_nearest_centroids_two_level(&ix, cent, it->vec, it->n, js->cfg->coarse_probes, m, near, near_sim, err);
    dg_centroid_index_free(&ix);
    return rc;
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
    kp.seeding = cfg->seeding;
    kp.bfloat16 = js->pair_opts.bfloat16;
    float *cent = js->centroids + (size_t)c * (size_t)js->k * (size_t)js->items.d;
    dg_clustering_figures *fig = &js->figures[c];

    stage_begin(js, "k-means");
    dg_stop_poll(js->ctx, DG_STOP_KMEANS); /* honoured at the next poll or safe point, as a signal here is */
    int rc = dg_kmeans_train(js->ctx, &js->items, &kp, cent, NULL, &fig->kmeans, err);
    stage_end(js, "kmeans");
    if (rc == DG_OK) {
        fig->measured = 1;
        dg_log(js->ctx, "clustering %d: K=%lld, sample %lld, objective %.4f, imbalance %.2f", c, (long long)js->k,
               (long long)kp.sample, fig->kmeans.objective, fig->kmeans.imbalance);
    }
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;

    stage_begin(js, "assign (nearest centroids)");
    rc = assign_items(js, cent, m, near, near_sim, err);
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

/* The plan's figures, for the summary. */
static void record_plan(dg_clustering_figures *fig, const dg_cluster_plan *plan)
{
    fig->searched = 1;
    fig->max_load = plan->max_load;
    fig->mean_load = plan->mean_load;
    fig->unsplit_max_load = plan->unsplit_max_load;
    fig->clusters_split = plan->split;
    fig->tasks = plan->n_tasks;
    fig->round_bytes = plan->round_bytes;
    fig->rounds = plan->rounds;
}

/* Whether candidate pairs go through the verification stage. */
static int verifies(const job_state *js)
{
    return js->cfg->verify_enabled && js->emb.images;
}

/* Task round r of the plan: its exchange, then its pair search into
 * `fresh`; the bucket is freed before the next round.  This rank's bytes,
 * pairs and largest bucket go to fig. */
static int search_round(job_state *js, const dg_cluster_plan *plan, int r, const int32_t *near, int m,
                        dg_clustering_figures *fig, dg_edges *fresh, dg_err *err)
{
    dg_bucket bucket = {0};
    int64_t bytes = 0;
    if (r > 0) /* round 0's exchange goes on from the plan's stage */
        stage_begin(js, "exchange (MPI_Alltoallv)");
    int rc = dg_exchange(js->ctx, &js->items, near, m, plan, r, &bucket, &bytes, err);
    stage_end(js, "exchange");
    js->exchanged_bytes += bytes;
    fig->bytes_sent += bytes;
    fig->bucket_rows = bucket.n > fig->bucket_rows ? bucket.n : fig->bucket_rows;
    if (dg_agree(js->ctx, rc, err) != DG_OK) {
        dg_bucket_free(&bucket);
        return DG_FAIL;
    }
    stage_begin(js, "pairs (blocked sgemm)");
    dg_pair_stats st = {0};
    /* forest mode: pairs the verifier would reject must not join the
     * forest, so only those it accepts unverified do (search/forest.h) */
    float certain = verifies(js) ? js->cfg->verify_accept_above : js->cfg->threshold;
    const float *forest = js->cfg->edges == DG_EDGES_FOREST ? &certain : NULL;
    rc = dg_pairs_bucket(js->ctx, &bucket, &js->pair_opts, forest, fresh, &st, err);
    fig->pairs.compared += st.compared;
    fig->pairs.flops += st.flops;
    fig->pairs.seconds += st.seconds;
    js->pair_stats.compared += st.compared;
    js->pair_stats.flops += st.flops;
    js->pair_stats.seconds += st.seconds;
    stage_end(js, "pairs");
    dg_bucket_free(&bucket);
    return dg_agree(js->ctx, rc, err);
}

/* This clustering's edges into `fresh`, de-duplicated (src in own range). */
static int search_clustering(job_state *js, int c, const int32_t *near, int m, dg_edges *fresh, dg_err *err)
{
    dg_cluster_plan plan = {0};
    dg_clustering_figures *fig = &js->figures[c];
    stage_begin(js, "exchange (MPI_Alltoallv)");
    dg_stop_poll(js->ctx, DG_STOP_EXCHANGE);
    /* forest mode: the same tasks for any rank count, so the same forest */
    int32_t split_ranks = js->cfg->edges == DG_EDGES_FOREST ? dg_fixed_split_ranks(js->k) : 0;
    int rc = dg_plan_clusters(js->ctx, &js->items, near, m, js->k, split_ranks, js->max_rows, js->memory.row_bytes,
                              &plan, err);
    if (rc != DG_OK)
        stage_end(js, "exchange");
    if (rc == DG_OK && js->net_round_bytes > 0)
        plan.round_bytes = js->net_round_bytes;
    if (rc == DG_OK) {
        record_plan(fig, &plan);
        dg_log(js->ctx, "plan: max rank load %.3g pairs, mean %.3g (imbalance %.2f)", plan.max_load,
               plan.mean_load, plan.mean_load > 0 ? plan.max_load / plan.mean_load : 1.0);
    }
    for (int r = 0; rc == DG_OK && r < plan.rounds; r++) {
        if (plan.rounds > 1)
            dg_log(js->ctx, "round %d of %d", r + 1, plan.rounds);
        rc = search_round(js, &plan, r, near, m, fig, fresh, err);
    }
    if (rc == DG_OK)
        dg_pair_stats_log(js->ctx, "pairs", &fig->pairs, fig->bucket_rows);
    dg_cluster_plan_free(&plan);
    if (rc != DG_OK)
        return DG_FAIL;
    stage_begin(js, "dedup edges");
    rc = dg_graph_dedup(js->ctx, js->items.n_total, fresh, err);
    if (rc == DG_OK)
        rc = dg_bound_candidates(js->pair_opts.bound, fresh, err);
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
    if (rc == DG_OK)
        rc = dg_bound_candidates(js->pair_opts.bound, &js->edges, err);
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
            rc = search_clustering(js, c, near, js->probes, &fresh, err);
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
    rc = dg_pairs_exact(js->ctx, &js->items, &js->pair_opts, &js->edges, &js->pair_stats, err);
    stage_end(js, "pairs");
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;
    stage_begin(js, "dedup edges");
    rc = dg_graph_dedup(js->ctx, js->items.n_total, &js->edges, err);
    stage_end(js, "graph");
    return dg_agree(js->ctx, rc, err);
}

/* Candidate pairs become edges when the verifier confirms them (image input
 * with verify.enabled; inputs without pixels have no signatures). */
static int verify_stage(job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    if (!cfg->verify_enabled)
        return DG_OK;
    if (!verifies(js)) {
        dg_log(js->ctx, "verify: the %s input has no pixels, so no signatures: verification is off", js->emb.name);
        return DG_OK;
    }
    stage_begin(js, "verify (candidate pairs, aligned thumbnails)");
    dg_verify_stats st = {0};
    dg_verify_params vp = {cfg->verify_threshold,       cfg->verify_accept_above, cfg->verify_max_detail_diff,
                           cfg->verify_agree_above,     cfg->verify_agree_threshold, cfg->verify_max_candidates,
                           DG_VERIFY_ROUND_BYTES};
    int rc = dg_verify_edges(js->ctx, &js->items, &vp, &js->edges, &js->edge_verify, &st, err);
    stage_end(js, "verify");
    if (dg_agree(js->ctx, rc, err) != DG_OK)
        return DG_FAIL;
    int64_t sums[7] = {st.candidates, st.rejected,    st.bytes_sent,    st.fetched,
                       st.accepted,   st.over_budget, js->bound.dropped};
    MPI_Allreduce(MPI_IN_PLACE, sums, 7, MPI_INT64_T, MPI_SUM, js->ctx->comm);
    double seconds = st.seconds_scoring;
    MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_SUM, js->ctx->comm);
    int64_t usable = 0;
    for (int64_t i = 0; i < js->items.n; i++)
        usable += dg_status_usable(js->items.status[i]);
    MPI_Allreduce(MPI_IN_PLACE, &usable, 1, MPI_INT64_T, MPI_SUM, js->ctx->comm);
    int records = js->mode == DG_MODE_RUN ? js->probes * js->clusterings : 0;
    js->verify = (dg_job_verify){
        .enabled = 1,
        .threshold = cfg->verify_threshold,
        .candidates = sums[0],
        .rejected = sums[1],
        .accepted = sums[4],
        .over_budget = sums[5],
        .max_candidates = cfg->verify_max_candidates,
        .dropped_held = sums[6],
        .bytes_sent = sums[2],
        .bytes_in_exchange = (double)usable * records * DG_SIG_BYTES,
        .seconds_scoring = seconds,
        .rounds = st.rounds,
    };
    if (js->pair_opts.bound)
        dg_log(js->ctx, "verify: %lld candidate pairs dropped while the search held them (beyond the budget of both "
                        "their items among the pairs held; verify.max_held %lld; a pair found and dropped again "
                        "counts again)",
               (long long)sums[6], (long long)cfg->verify_max_held);
    dg_log(js->ctx, "verify: %lld candidate pairs: %lld accepted unverified (sim >= %g), %lld beyond the budget "
                    "of %d per item (verify.max_candidates; not edges), %lld verified, %lld rejected; %lld "
                    "signatures fetched (%lld bytes with the requests) in %d rounds",
           (long long)sums[0], (long long)sums[4], (double)cfg->verify_accept_above, (long long)sums[5],
           cfg->verify_max_candidates, (long long)(sums[0] - sums[1] - sums[4] - sums[5]), (long long)sums[1],
           (long long)sums[3], (long long)sums[2], st.rounds);
    return DG_OK;
}

static int build_graph(job_state *js, dg_err *err)
{
    stage_begin(js, "components + keep");
    int rounds = 0;
    const dg_items *it = &js->items;
    /* before the forest is taken: the edges still hold every best match */
    int rc = dg_graph_best(js->ctx, it->n_total, it->lo, it->n, &js->edges, js->best_sim, js->best_match, err);
    if (rc == DG_OK)
        rc = dg_graph_components(js->ctx, it->n_total, it->lo, it->n, &js->edges, js->label, &rounds, err);
    if (rc == DG_OK)
        rc = dg_graph_keep(js->ctx, it->n_total, it->lo, it->n, js->label, it->status, js->centrality, js->cfg->keep,
                           js->keep, err);
    if (rc == DG_OK && js->cfg->edges == DG_EDGES_FOREST)
        rc = dg_graph_forest(js->ctx, it->n_total, it->lo, it->n, js->label, &js->edges, &js->edge_verify, err);
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
    if (js->emb.datasets) /* the descriptor's /projection/ * */
        rc = js->emb.datasets(&js->emb, extra, MAX_EXTRA, &n_extra, err);
    dg_extra_column columns[MAX_EXTRA];
    int n_columns = 0;
    if (rc == DG_OK && js->emb.columns) /* input.shards: /items/{shard,key,url,caption}, /shards/ * */
        rc = js->emb.columns(&js->emb, columns, MAX_EXTRA, &n_columns);
    dg_input_files inputs = {NULL, NULL, 0};
    if (js->emb.inputs)
        js->emb.inputs(&js->emb, &inputs);
    const dg_config *cfg = js->cfg;
    dg_output out = {
        .config_text = config_text,
        .mode = js->mode == DG_MODE_RUN ? "run" : "exact",
        .embedder = js->emb.name,
        .threshold = cfg->threshold,
        .probes = js->probes,
        .keep_policy = dg_config_enum_name("graph.keep", cfg->keep),
        .seed = js->cfg->seed,
        .items = &js->items,
        .component = js->label,
        .keep = js->keep,
        .best_sim = js->best_sim,
        .best_match = js->best_match,
        .edge_output = dg_config_enum_name("graph.edges", cfg->edges),
        .cluster = js->cluster,
        .clusterings = js->clusterings,
        .k = js->k,
        .centroids = js->centroids,
        .edges = &js->edges,
        .edge_verify = js->edge_verify,
        .verify_enabled = js->verify.enabled,
        .verify_threshold = cfg->verify_threshold,
        .verify_agree_above = cfg->verify_agree_above,
        .verify_agree_threshold = cfg->verify_agree_threshold,
        .n_candidates = js->verify.enabled ? js->verify.candidates : counts->edges,
        .n_rejected = js->verify.rejected,
        .write_embeddings = js->cfg->output_embeddings == DG_EMB_OUT_FLOAT32,
        .times = js->times,
        .n_times = js->n_times,
        .extra = extra,
        .n_extra = n_extra,
        .columns = columns,
        .n_columns = n_columns,
        .inputs = inputs,
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
        .verify = js->verify,
        .per_clustering = js->figures,
    };
    return dg_job_summarize(js->ctx, js->cfg, &r, err);
}

static void free_state(job_state *js)
{
    dg_items_free(&js->items);
    drop_networks(js);
    dg_embedder_release(&js->emb);
    free(js->probs);
    free(js->filter_score);
    free(js->filtered);
    free(js->weight);
    dg_edges_free(&js->edges);
    free(js->edge_verify);
    free(js->centroids);
    free(js->cluster);
    free(js->centrality);
    free(js->label);
    free(js->keep);
    free(js->best_sim);
    free(js->best_match);
    free(js->figures);
}

/* Everything before the first stage: output and input checked, the input
 * listed or probed, the memory estimate printed and checked, the
 * checkpoint folder ready. */
static int prepare(job_state *js, dg_err *err)
{
    const dg_config *cfg = js->cfg;
    int64_t n_total = 0;
    int d = 0;
    int rc = dg_agree(js->ctx, dg_pair_opts_from_config(cfg, &js->pair_opts, err), err);
    if (rc == DG_OK)
        rc = check_outputs(js, err);
    if (rc == DG_OK)
        rc = prepare_input(js, &n_total, &d, err);
    if (rc == DG_OK)
        dg_log(js->ctx, "pairs: similarity blocks in %s%s", js->pair_opts.bfloat16 ? "bfloat16" : "float32",
               js->pair_opts.bfloat16 ? " (AVX512-BF16), candidates within its error bound re-scored in double" : "");
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
    if (verifies(js) && cfg->verify_max_candidates > 0 && cfg->verify_max_held > 0) {
        js->bound = (dg_candidate_bound){cfg->verify_max_candidates, cfg->verify_accept_above, cfg->verify_max_held,
                                         0, 0};
        js->pair_opts.bound = &js->bound;
        dg_log(js->ctx, "memory: a rank's candidate pairs are bounded by the verifier's budget once it holds "
                        "verify.max_held = %lld of them (%.0f MiB at 20 bytes a pair; the list's growth and the bounding "
                        "take up to about 3 times that)",
               (long long)cfg->verify_max_held, 20.0 * (double)cfg->verify_max_held / 1048576.0);
    }
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
    drop_networks(&js);
    if (rc == DG_OK) {
        search_settings(&js);
        rc = dg_agree(ctx, alloc_results(&js, err), err);
    }
    if (rc == DG_OK)
        rc = find_edges(&js, err);
    if (rc == DG_OK)
        rc = verify_stage(&js, err);
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
 * or by the job.stop_at test point.  held: the caller's vectors, or NULL. */
static int run_with_stop_flag(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, const dg_held_vectors *held,
                              dg_err *err)
{
    job_state js = {.cfg = cfg, .mode = mode};
    if (dg_agree(ctx, dg_embedder_choose(&js.emb, cfg, held, err), err) != DG_OK) {
        dg_embedder_release(&js.emb);
        return DG_FAIL;
    }
    dg_ctx run = *ctx;
    dg_stop_saved saved;
    dg_stop_point stop_at = {(dg_stop_stage)cfg->stop_at_stage, cfg->stop_at, 0};
    run.stop_at = cfg->stop_at_stage != DG_STOP_NONE ? &stop_at : NULL;
    run.stop = dg_stop_install(&saved);
    js.ctx = &run;
    int rc = run_job(js, err);
    dg_stop_restore(&saved);
    return rc;
}

int dg_job_run(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, dg_err *err)
{
    return run_with_stop_flag(ctx, cfg, mode, NULL, err);
}

int dg_job_run_vectors(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, const float *vec, int64_t n_local,
                       int d, dg_err *err)
{
    dg_config own = *cfg;
    own.input_kind = DG_INPUT_VECTORS;
    snprintf(own.input_path, sizeof own.input_path, "(vectors in memory)");
    dg_held_vectors held = {vec, n_local, d};
    return run_with_stop_flag(ctx, &own, mode, &held, err);
}
