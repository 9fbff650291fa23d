/* job_memory.h - the per-rank memory model the job prints (and checks
 * against job.max_memory) before any work starts.  Private to the driver. */
#ifndef DUPGRAPH_JOB_MEMORY_H
#define DUPGRAPH_JOB_MEMORY_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "input/embedder.h"

/* What the estimate is computed from: all known before the corpus is read. */
typedef struct dg_memory_inputs {
    int exact;          /* exact mode (ring of rank blocks) instead of the clustered search */
    int ranks;
    int64_t n_total;    /* items listed in the input */
    int d;              /* embedding dimension */
    int64_t k, sample;  /* effective K and k-means sample */
    int probes, clusterings, block;
    int forest;         /* graph.edges = forest: edges bounded by the items */
    double max_memory;  /* job.max_memory, bytes; > 0: the exchange runs in rounds within it */
    dg_embedder_memory input; /* the embedder's items and working set, the filter's network added */
} dg_memory_inputs;

/* Bytes per rank: the long-lived arrays plus the largest working set of
 * one stage (see job_memory.c for each term). */
typedef struct dg_memory_model {
    double runtime, items, results, probes;
    double embed, kmeans, exchange, graph, exact;
    double row_bytes;     /* one exchanged bucket row, with the pair stage's share */
    double bucket_budget; /* rounds: bytes one round's bucket may take (<= 0: none left); else 0 */
    double net_round_bytes; /* rounds: bytes per MPI_Alltoallv round and buffer; else 0 */
} dg_memory_model;

/* The inputs of a job on n_total items of d dimensions over `ranks` ranks
 * with cfg's settings (K and the sample resolved as the job resolves them);
 * the embedder's share is left zero for the caller to fill. */
void dg_memory_inputs_for(const dg_config *cfg, int exact, int ranks, int64_t n_total, int d, dg_memory_inputs *in);

void dg_memory_estimate(const dg_memory_inputs *in, dg_memory_model *mm);
double dg_memory_total(const dg_memory_model *mm);

#endif
