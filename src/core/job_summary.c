/* job_summary.c - rank 0's closing summary lines and the JSON summary file
 * (output.summary).  See job_summary.h.
 *
 * The file (format "dupgraph-summary", version 2; python/dgtools/summary.py
 * reads it) holds program_version, mode (run or exact), ranks, input,
 * output, dim, k, clusterings (C), probes; items {total, ok, failed,
 * filtered, by_status {name: count}}; edges, components, removed; seconds
 * {total, <stage>: s}; memory {estimate_bytes, estimate_parts_bytes {runtime,
 * items, results, probes, embed, kmeans, exchange, graph, exact},
 * peak_rss_bytes [per rank], peak_rss_max_bytes}; pairs {compared [per rank],
 * seconds [per rank], flops_executed [per rank], compared_total,
 * flops_useful} over the whole run; exchange {bytes_sent [per rank]};
 * items_per_rank [per rank]; and (version 2) per_clustering, one entry per
 * clustering in order:
 *   clustering   its index c
 *   reused       true when it came from the checkpoint: the four figures
 *                below are then null (nothing was measured in this run)
 *   kmeans       {k, dim, sample (points trained on), seeding_seconds,
 *                iterations, lloyd_seconds, objective, imbalance (both of
 *                the last iteration)}
 *   plan         {max_load, mean_load (expected pair comparisons per rank),
 *                imbalance (max/mean), clusters_split, tasks,
 *                unsplit_max_load (max_load had nothing been split),
 *                round_bytes (per rank and MPI_Alltoallv round), rounds (task
 *                rounds, job.max_memory)}
 *   pairs        {compared, seconds, flops_executed: [per rank]}
 *   exchange     {bytes_sent, bucket_rows (the largest round's): [per rank]}
 * In exact mode the one clustering only gives /items/cluster: plan, pairs
 * and exchange are null (the run's pairs are the totals above). */
#include "core/job_summary.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Per-rank figures gathered to rank 0, one row of F_COUNT per rank, and
 * one row of G_COUNT per clustering and rank. */
enum { F_RSS, F_ITEMS, F_COMPARED, F_PAIR_SECONDS, F_FLOPS, F_SENT, F_COUNT };
enum { G_COMPARED, G_PAIR_SECONDS, G_FLOPS, G_SENT, G_ROWS, G_COUNT };

static double peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss * 1024.0 : 0.0; /* KiB */
}

static double column_max(const double *rows, int p, int col)
{
    double m = 0.0;
    for (int r = 0; r < p; r++)
        m = rows[r * F_COUNT + col] > m ? rows[r * F_COUNT + col] : m;
    return m;
}

static double column_sum(const double *rows, int p, int col)
{
    double s = 0.0;
    for (int r = 0; r < p; r++)
        s += rows[r * F_COUNT + col];
    return s;
}

/* Rank 0 only. */
static void log_peak_rss(const dg_ctx *ctx, const double *rows, double estimate)
{
    enum { LISTED = 16 };
    char line[LISTED * 12] = "";
    size_t len = 0;
    for (int r = 0; ctx->size <= LISTED && r < ctx->size && len < sizeof line; r++)
        len += (size_t)snprintf(line + len, sizeof line - len, " %.0f", rows[r * F_COUNT + F_RSS] / 1048576.0);
    double max = column_max(rows, ctx->size, F_RSS);
    dg_log(ctx, "summary: peak RSS per rank%s MiB (max %.0f, mean %.0f); estimate %.0f MiB (max/estimate %.2f)",
           line, max / 1048576.0, column_sum(rows, ctx->size, F_RSS) / ctx->size / 1048576.0, estimate / 1048576.0,
           estimate > 0 ? max / estimate : 0.0);
}

/* Rank 0 only. */
static void log_summary(const dg_ctx *ctx, const dg_config *cfg, const dg_job_report *r, const double *rows)
{
    const dg_job_counts *c = &r->counts;
    int64_t n = r->n_items, filtered = c->by_status[DG_ST_FILTERED], ok = n - c->failed - filtered;
    dg_log(ctx, "summary: %lld items, %lld ok, %lld failed", (long long)n, (long long)ok, (long long)c->failed);
    if (cfg->filter_enabled)
        dg_log(ctx, "summary: %lld items removed by the content filter (not deduplicated)", (long long)filtered);
    for (int s = 0; s < DG_ST_COUNT; s++)
        if (c->by_status[s] && !dg_status_usable((int8_t)s))
            dg_log(ctx, "summary:   %s: %lld", dg_status_name((dg_status)s), (long long)c->by_status[s]);
    dg_log(ctx, "summary: %lld duplicate edges, %lld components, %lld items removed (%.2f%% of ok items)",
           (long long)c->edges, (long long)c->components, (long long)c->removed,
           ok ? 100.0 * (double)c->removed / (double)ok : 0.0);
    double compared = column_sum(rows, ctx->size, F_COMPARED);
    double seconds = column_max(rows, ctx->size, F_PAIR_SECONDS);
    if (seconds > 0)
        dg_log(ctx, "summary: %.3g pairs compared at %.3g pairs/s over all ranks; useful work %.1f GFLOP/s "
                    "(2 D per pair compared; %.2f times that was executed, counting discarded block arithmetic)",
               compared, compared / seconds, 2.0 * r->d * compared / seconds * 1e-9,
               compared > 0 ? column_sum(rows, ctx->size, F_FLOPS) / (2.0 * r->d * compared) : 0.0);
    dg_log(ctx, "summary: rank 0 sent %.1f bytes per local item in the exchange",
           r->n_local ? (double)r->exchanged_bytes / (double)r->n_local : 0.0);
    const dg_job_verify *v = &r->verify;
    if (v->enabled) {
        int64_t scored = v->candidates - v->accepted - v->over_budget;
        dg_log(ctx, "summary: verify: %lld candidate pairs (and %lld dropped while held, beyond the budget: "
                    "verify.max_held), %lld accepted unverified, %lld beyond the budget (verify.max_candidates %d), "
                    "%lld verified, %lld rejected (verify.threshold %.3g); %.1f us per pair; %lld bytes moved for it "
                    "in %d rounds (a signature with every exchanged record would have been %.0f bytes)",
               (long long)v->candidates, (long long)v->dropped_held, (long long)v->accepted,
               (long long)v->over_budget, v->max_candidates, (long long)(scored - v->rejected), (long long)v->rejected,
               (double)v->threshold,
               scored > 0 ? 1e6 * v->seconds_scoring / (double)scored : 0.0, (long long)v->bytes_sent, v->rounds,
               v->bytes_in_exchange);
    }
    log_peak_rss(ctx, rows, dg_memory_total(&r->memory));
    for (int i = 0; i < r->n_times; i++)
        dg_log(ctx, "summary:   %-9s %9.3f s", r->times[i].name, r->times[i].seconds);
    dg_log(ctx, "summary: total %.3f s, output %s", r->seconds_total, cfg->output_path);
}

/* Column col of p rows of `stride` values, one per rank. */
static json_t *strided(const double *rows, int p, int stride, int col, int integer)
{
    json_t *a = json_array();
    for (int r = 0; a && r < p; r++)
        json_array_append_new(a, integer ? json_integer((json_int_t)rows[(size_t)r * stride + col])
                                         : json_real(rows[(size_t)r * stride + col]));
    return a;
}

static json_t *column(const double *rows, int p, int col, int integer)
{
    return strided(rows, p, F_COUNT, col, integer);
}

json_t *dg_memory_estimate_json(const dg_memory_model *mm)
{
    json_t *parts = json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "runtime", mm->runtime, "items", mm->items,
                              "results", mm->results, "probes", mm->probes, "embed", mm->embed, "kmeans",
                              mm->kmeans, "exchange", mm->exchange, "graph", mm->graph, "exact", mm->exact);
    return json_pack("{s:f,s:o}", "estimate_bytes", dg_memory_total(mm), "estimate_parts_bytes", parts);
}

static json_t *memory_json(const dg_memory_model *mm, const double *rows, int p)
{
    json_t *o = dg_memory_estimate_json(mm);
    if (o && (json_object_set_new(o, "peak_rss_bytes", column(rows, p, F_RSS, 1)) != 0 ||
              json_object_set_new(o, "peak_rss_max_bytes", json_real(column_max(rows, p, F_RSS))) != 0)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *items_json(const dg_job_report *r)
{
    const dg_job_counts *c = &r->counts;
    json_t *by = json_object();
    for (int s = 0; by && s < DG_ST_COUNT; s++)
        json_object_set_new(by, dg_status_name((dg_status)s), json_integer(c->by_status[s]));
    int64_t filtered = c->by_status[DG_ST_FILTERED];
    return json_pack("{s:I,s:I,s:I,s:I,s:o}", "total", (json_int_t)r->n_items, "ok",
                     (json_int_t)(r->n_items - c->failed - filtered), "failed", (json_int_t)c->failed, "filtered",
                     (json_int_t)filtered, "by_status", by);
}

static json_t *kmeans_json(const dg_job_report *r, const dg_kmeans_totals *t)
{
    return json_pack("{s:I,s:i,s:I,s:f,s:i,s:f,s:f,s:f}", "k", (json_int_t)r->k, "dim", r->d, "sample",
                     (json_int_t)t->sample, "seeding_seconds", t->seeding_seconds, "iterations", t->iterations,
                     "lloyd_seconds", t->lloyd_seconds, "objective", t->objective, "imbalance", t->imbalance);
}

static json_t *plan_json(const dg_clustering_figures *f)
{
    return json_pack("{s:f,s:f,s:f,s:I,s:I,s:f,s:I,s:i}", "max_load", f->max_load, "mean_load", f->mean_load,
                     "imbalance", f->mean_load > 0 ? f->max_load / f->mean_load : 1.0, "clusters_split",
                     (json_int_t)f->clusters_split, "tasks", (json_int_t)f->tasks, "unsplit_max_load",
                     f->unsplit_max_load, "round_bytes", (json_int_t)f->round_bytes, "rounds", f->rounds);
}

/* Clustering c; its per-rank rows start at crows + c * G_COUNT, with a
 * stride of clusterings * G_COUNT from rank to rank. */
static json_t *clustering_json(const dg_job_report *r, int p, int c, const double *crows)
{
    const dg_clustering_figures *f = &r->per_clustering[c];
    int stride = r->clusterings * G_COUNT, at = c * G_COUNT;
    json_t *o = json_pack("{s:i,s:b}", "clustering", c, "reused", !f->measured);
    json_t *kmeans = f->measured ? kmeans_json(r, &f->kmeans) : json_null();
    json_t *plan = f->searched ? plan_json(f) : json_null();
    json_t *pairs = f->searched ? json_pack("{s:o,s:o,s:o}", "compared", strided(crows, p, stride, at + G_COMPARED, 1),
                                            "seconds", strided(crows, p, stride, at + G_PAIR_SECONDS, 0),
                                            "flops_executed", strided(crows, p, stride, at + G_FLOPS, 0))
                                : json_null();
    json_t *exchange = f->searched ? json_pack("{s:o,s:o}", "bytes_sent", strided(crows, p, stride, at + G_SENT, 1),
                                               "bucket_rows", strided(crows, p, stride, at + G_ROWS, 1))
                                   : json_null();
    if (o && kmeans && plan && pairs && exchange) {
        json_object_set_new(o, "kmeans", kmeans);
        json_object_set_new(o, "plan", plan);
        json_object_set_new(o, "pairs", pairs);
        json_object_set_new(o, "exchange", exchange);
        return o;
    }
    json_decref(o);
    json_decref(kmeans);
    json_decref(plan);
    json_decref(pairs);
    json_decref(exchange);
    return NULL;
}

static json_t *per_clustering_json(const dg_job_report *r, int p, const double *crows)
{
    json_t *a = json_array();
    for (int c = 0; a && c < r->clusterings; c++)
        if (json_array_append_new(a, clustering_json(r, p, c, crows)) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

static json_t *summary_json(const dg_ctx *ctx, const dg_config *cfg, const dg_job_report *r, const double *rows,
                            const double *crows)
{
    int p = ctx->size;
    json_t *seconds = json_pack("{s:f}", "total", r->seconds_total);
    for (int i = 0; seconds && i < r->n_times; i++)
        json_object_set_new(seconds, r->times[i].name, json_real(r->times[i].seconds));
    double compared = column_sum(rows, p, F_COMPARED);
    json_t *pairs = json_pack("{s:o,s:o,s:o,s:f,s:f}", "compared", column(rows, p, F_COMPARED, 1), "seconds",
                              column(rows, p, F_PAIR_SECONDS, 0), "flops_executed", column(rows, p, F_FLOPS, 0),
                              "compared_total", compared, "flops_useful", 2.0 * r->d * compared);
    json_t *exchange = json_pack("{s:o}", "bytes_sent", column(rows, p, F_SENT, 1));
    const dg_job_verify *v = &r->verify;
    json_t *verify = json_pack("{s:b,s:f,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:i}", "enabled", v->enabled,
                               "threshold", (double)v->threshold, "max_candidates", v->max_candidates, "candidates",
                               (json_int_t)v->candidates, "accepted_unverified", (json_int_t)v->accepted,
                               "over_budget", (json_int_t)v->over_budget, "dropped_held",
                               (json_int_t)v->dropped_held, "verified",
                               (json_int_t)(v->candidates - v->rejected - v->accepted - v->over_budget), "rejected",
                               (json_int_t)v->rejected, "bytes_sent", (json_int_t)v->bytes_sent,
                               "bytes_if_in_exchange", v->bytes_in_exchange, "seconds_scoring", v->seconds_scoring,
                               "rounds", v->rounds);
    return json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:s,s:o,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                     "format", "dupgraph-summary", "format_version", 2, "program_version", DG_VERSION, "mode",
                     r->exact ? "exact" : "run", "ranks", p, "input", cfg->input_path, "output", cfg->output_path,
                     "items", items_json(r), "edges", (json_int_t)r->counts.edges, "components",
                     (json_int_t)r->counts.components, "removed", (json_int_t)r->counts.removed, "k",
                     (json_int_t)r->k, "clusterings", r->clusterings, "probes", r->probes, "dim", r->d,
                     "seconds", seconds, "memory", memory_json(&r->memory, rows, p), "pairs", pairs, "exchange",
                     exchange, "items_per_rank", column(rows, p, F_ITEMS, 1), "verify", verify, "per_clustering",
                     per_clustering_json(r, p, crows));
}

/* Rank 0 only. */
static int write_json(const dg_ctx *ctx, const dg_config *cfg, const dg_job_report *r, const double *rows,
                      const double *crows, dg_err *err)
{
    char tmp[DG_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", cfg->output_summary);
    json_t *root = summary_json(ctx, cfg, r, rows, crows);
    int rc = root && json_dump_file(root, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) == 0 ? DG_OK : DG_FAIL;
    json_decref(root);
    if (rc == DG_OK && rename(tmp, cfg->output_summary) != 0)
        rc = DG_FAIL;
    if (rc != DG_OK) {
        remove(tmp);
        return dg_fail(err, "output.summary %s: cannot be written", cfg->output_summary);
    }
    return DG_OK;
}

/* This rank's figures of every clustering, G_COUNT each. */
static void clustering_rows(const dg_job_report *r, double *out)
{
    for (int c = 0; c < r->clusterings; c++) {
        const dg_clustering_figures *f = &r->per_clustering[c];
        double *row = out + (size_t)c * G_COUNT;
        row[G_COMPARED] = (double)f->pairs.compared;
        row[G_PAIR_SECONDS] = f->pairs.seconds;
        row[G_FLOPS] = f->pairs.flops;
        row[G_SENT] = (double)f->bytes_sent;
        row[G_ROWS] = (double)f->bucket_rows;
    }
}

int dg_job_summarize(const dg_ctx *ctx, const dg_config *cfg, const dg_job_report *r, dg_err *err)
{
    double mine[F_COUNT] = {peak_rss_bytes(), (double)r->n_local, (double)r->pairs.compared, r->pairs.seconds,
                            r->pairs.flops, (double)r->exchanged_bytes};
    int per_rank = r->clusterings * G_COUNT;
    double *rows = NULL, *crows = NULL;
    double *cmine = dg_alloc((size_t)per_rank, sizeof(double), err);
    int rc = cmine ? DG_OK : DG_FAIL;
    if (rc == DG_OK && ctx->rank == 0) {
        rows = dg_alloc((size_t)ctx->size * F_COUNT, sizeof(double), err);
        crows = rows ? dg_alloc((size_t)ctx->size * (size_t)per_rank, sizeof(double), err) : NULL;
        rc = crows ? DG_OK : DG_FAIL;
    }
    if (dg_agree(ctx, rc, err) == DG_OK) {
        clustering_rows(r, cmine);
        MPI_Gather(mine, F_COUNT, MPI_DOUBLE, rows, F_COUNT, MPI_DOUBLE, 0, ctx->comm);
        MPI_Gather(cmine, per_rank, MPI_DOUBLE, crows, per_rank, MPI_DOUBLE, 0, ctx->comm);
        if (ctx->rank == 0) {
            log_summary(ctx, cfg, r, rows);
            if (cfg->output_summary[0])
                rc = write_json(ctx, cfg, r, rows, crows, err);
        }
        rc = dg_agree(ctx, rc, err);
    } else {
        rc = DG_FAIL;
    }
    free(cmine);
    free(rows);
    free(crows);
    return rc;
}
