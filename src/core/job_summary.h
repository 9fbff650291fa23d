/* job_summary.h - the job's closing account: rank 0's summary log lines and,
 * with output.summary set, the same figures as a JSON file for scripts
 * (benchmarks, tests, pipelines), so nothing has to parse log text.
 * Private to the driver. */
#ifndef DUPGRAPH_JOB_SUMMARY_H
#define DUPGRAPH_JOB_SUMMARY_H

#include <jansson.h>
#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "core/job_memory.h"
#include "io/h5_output.h"
#include "search/kmeans.h"
#include "search/pairs.h"

/* One clustering's figures.  k-means and plan figures are the same on every
 * rank; pairs, bytes and bucket rows are this rank's (gathered by
 * dg_job_summarize). */
typedef struct dg_clustering_figures {
    int measured;              /* 0: reused from the checkpoint, nothing below was measured */
    int searched;              /* plan, exchange and pairs ran (run mode; exact searches once after) */
    dg_kmeans_totals kmeans;
    double max_load, mean_load; /* the pair plan (search/exchange.h), in expected pair comparisons */
    double unsplit_max_load;
    int64_t clusters_split, tasks, round_bytes;
    int rounds;                /* task rounds of the exchange and pairs (job.max_memory) */
    dg_pair_stats pairs;
    int64_t bytes_sent, bucket_rows;
} dg_clustering_figures;

/* Global counts (the same on every rank); filtered items are not failed. */
typedef struct dg_job_counts {
    int64_t failed, edges, components, removed;
    int64_t by_status[DG_ST_COUNT];
} dg_job_counts;

/* The verification stage's global figures (graph/verify_edges.h); enabled 0:
 * it did not run. */
typedef struct dg_job_verify {
    int enabled;
    float threshold;
    int64_t candidates, accepted, rejected; /* accepted: unverified, sim >= verify.accept_above */
    int64_t over_budget;       /* candidates left unverified by verify.max_candidates (not edges) */
    int max_candidates;        /* verify.max_candidates (0: no budget) */
    /* candidates dropped while the search held them, beyond the budget
     * (search/candidate_bound.h; not among `candidates`): summed over the
     * ranks and the times they were bounded, so a pair may count more than once */
    int64_t dropped_held;
    int64_t bytes_sent;        /* over all ranks: request ids and signatures */
    double bytes_in_exchange;  /* what carrying a signature with every exchanged record would have cost */
    double seconds_scoring;    /* the verifier's time, summed over ranks */
    int rounds;
} dg_job_verify;

typedef struct dg_job_report {
    int exact;
    int64_t n_items;        /* global */
    int64_t n_local;        /* this rank's items */
    dg_job_counts counts;
    int64_t k;
    int clusterings, probes, d;
    const dg_stage_time *times; /* rank 0's stage times */
    int n_times;
    double seconds_total;
    dg_pair_stats pairs;     /* this rank's */
    int64_t exchanged_bytes; /* this rank's */
    dg_memory_model memory;  /* the estimate printed before work */
    dg_job_verify verify;
    const dg_clustering_figures *per_clustering; /* `clusterings` entries */
} dg_job_report;

/* {estimate_bytes, estimate_parts_bytes {runtime, items, ...}}: the memory
 * model as the summary's `memory` holds it (and `dupgraph estimate` prints
 * it); NULL when out of memory. */
json_t *dg_memory_estimate_json(const dg_memory_model *mm);

/* Collective: gathers every rank's peak RSS, pairs and bytes, in all and
 * per clustering, logs the summary on rank 0 and, when cfg->output_summary
 * is set, writes it there as JSON (to PATH.tmp, then renamed; its fields are
 * listed in job_summary.c).  Fails only if memory or the file fails (every
 * rank returns the same). */
int dg_job_summarize(const dg_ctx *ctx, const dg_config *cfg, const dg_job_report *r, dg_err *err);

#endif
