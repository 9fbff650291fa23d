/* job.h - the whole pipeline as one collective call: the job driver.
 *
 * This is the one place that turns a failure on any rank into a clean,
 * collective exit: every stage ends with dg_agree, and the first failing
 * rank's reason is returned on all ranks.
 */
#ifndef DUPGRAPH_JOB_H
#define DUPGRAPH_JOB_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"

typedef enum {
    DG_MODE_RUN,   /* clustered search: C clusterings, m probes */
    DG_MODE_EXACT  /* every pair compared (brute force), the recall reference */
} dg_mode;

/* Collective: the job on the input cfg names (fails with DG_E_CONFIG when it
 * names none); the output goes to cfg->output_path. */
int dg_job_run(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, dg_err *err);

/* Collective: the job on vectors the caller holds.  Rank r passes its
 * contiguous share, rows [dg_range_lo(N, P, r), dg_range_lo(N, P, r + 1)) of
 * the N x d float32 row-major matrix, where N is the sum of n_local over the
 * P ranks (another split fails with DG_E_INPUT on every rank).  The job
 * copies and L2-normalises them (NaN/Inf/zero rows become bad_vector
 * items).  cfg's input section is ignored; the output goes to
 * cfg->output_path as for any input.  The read stage is not checkpointed
 * (the caller holds the vectors); finished clusterings are, fingerprinted
 * by the vectors' content, so a rerun with the same vectors resumes. */
int dg_job_run_vectors(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, const float *vec, int64_t n_local,
                       int d, dg_err *err);

#endif
