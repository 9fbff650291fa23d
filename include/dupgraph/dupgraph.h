/* dupgraph.h - the public API in one include: build a dg_ctx on an MPI
 * communicator, load a dg_config (a file or INI text), and run the job on
 * an input it names (dg_job_run) or on vectors the caller holds
 * (dg_job_run_vectors).  Link with `pkg-config --libs dupgraph`.
 */
#ifndef DUPGRAPH_DUPGRAPH_H
#define DUPGRAPH_DUPGRAPH_H

#include "dupgraph/common.h"
#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "dupgraph/job.h"
#include "dupgraph/version.h"

#endif
