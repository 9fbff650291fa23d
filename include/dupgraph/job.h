/* job.h - the whole pipeline as one collective call: the job driver.
 *
 * This is the one place that turns a failure on any rank into a clean,
 * collective exit: every stage ends with dg_agree, and the first failing
 * rank's reason is returned on all ranks.
 */
#ifndef DUPGRAPH_JOB_H
#define DUPGRAPH_JOB_H

#include "dupgraph/config.h"
#include "dupgraph/context.h"

typedef enum {
    DG_MODE_RUN,   /* clustered search: C clusterings, m probes */
    DG_MODE_EXACT  /* every pair compared (brute force), the recall reference */
} dg_mode;

int dg_job_run(const dg_ctx *ctx, const dg_config *cfg, dg_mode mode, dg_err *err);

#endif
