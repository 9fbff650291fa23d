/* estimate.h - `dupgraph estimate`: what `dupgraph run` would print before
 * any work for N items of D dimensions on P ranks - its K (cluster.k = auto
 * resolved) and training sample, and its per-rank memory estimate term by
 * term - computed by the job's own functions (dg_config_effective_k,
 * core/job_memory.c), as JSON, without running anything.  The input is
 * modelled as an embeddings file, whose reader adds nothing to the model
 * beyond the vectors; image input's share depends on its listing and is
 * refused here (the job prints it before the first image is decoded).
 *
 * Output (format "dupgraph-estimate", version 1): program_version, items,
 * dim, ranks, k, sample, clusterings and probes (as configured), memory
 * {estimate_bytes, estimate_parts_bytes {runtime, items, results, probes,
 * embed, kmeans, exchange, graph, exact}} as in the job's JSON summary.
 */
#ifndef DUPGRAPH_TOOLS_ESTIMATE_H
#define DUPGRAPH_TOOLS_ESTIMATE_H

#include <stdint.h>
#include <stdio.h>

#include "dupgraph/config.h"

int dg_estimate_print(const dg_config *cfg, int64_t n_items, int d, int ranks, FILE *out, dg_err *err);

#endif
