/* context.h - what every distributed stage is handed: the communicator, this
 * rank's place in it, and the logging settings.  This is the only shared
 * state of a run; there are no globals.
 *
 * Logging: rank 0 prints stage lines and progress to stderr, prefixed with
 * the wall time since the job started.  Any rank may print a per-item
 * failure line with dg_log_rank (prefixed with its rank).
 */
#ifndef DUPGRAPH_CONTEXT_H
#define DUPGRAPH_CONTEXT_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "dupgraph/common.h"

typedef struct dg_ctx {
    MPI_Comm comm;
    int rank;
    int size;
    double t0;               /* dg_now() at job start */
    double progress_seconds; /* interval between progress lines */
    int quiet;               /* suppress rank-0 log lines (unit tests) */
    /* Set to non-zero by the job's SIGTERM/SIGINT handler (core/stop.h);
     * long loops check it and return DG_STOP_REASON.  NULL: never set. */
    volatile sig_atomic_t *stop;
    /* Testing (job.stop_at): raises *stop at an exact, counted point instead
     * of whenever a signal happens to land.  NULL: no such point. */
    struct dg_stop_point *stop_at;
} dg_ctx;

void dg_ctx_init(dg_ctx *ctx, MPI_Comm comm, double progress_seconds);

/* The reason a long loop returns when it sees the stop flag (local check,
 * no MPI: the job driver agrees on stops at its safe points). */
#define DG_STOP_REASON "stopped by a signal"

static inline int dg_stop_requested(const dg_ctx *ctx)
{
    return ctx->stop && *ctx->stop;
}

/* The places where a stop can be raised on purpose (job.stop_at = STAGE:COUNT):
 * before the COUNT-th image a rank embeds, as the COUNT-th k-means or exchange
 * stage begins, before the COUNT-th cluster task a rank searches (counted over
 * all clusterings).  Each rank counts its own polls, so a point past a rank's
 * share is never reached on that rank. */
typedef enum dg_stop_stage {
    DG_STOP_NONE = 0,
    DG_STOP_EMBED,
    DG_STOP_KMEANS,
    DG_STOP_EXCHANGE,
    DG_STOP_PAIRS
} dg_stop_stage;

typedef struct dg_stop_point {
    dg_stop_stage stage;
    int64_t at;   /* 1-based count of polls of `stage` */
    int64_t seen; /* polls of `stage` so far on this rank */
} dg_stop_point;

/* A poll from inside `stage`: counts it against ctx->stop_at, raises the
 * stop flag when the point is reached (exactly as SIGTERM would), and
 * returns whether a stop is requested. */
int dg_stop_poll(const dg_ctx *ctx, dg_stop_stage stage);

void dg_log(const dg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dg_log_rank(const dg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Progress of a long stage on rank 0: items done, rate and ETA, printed at
 * most every ctx->progress_seconds, never per item.  `done` and `total` are
 * this rank's counts; ranks hold equal shares, so they stand for the whole. */
typedef struct dg_progress {
    const dg_ctx *ctx;
    const char *what;
    int64_t total;
    double t_start;
    double t_last;
} dg_progress;

void dg_progress_begin(dg_progress *p, const dg_ctx *ctx, const char *what, int64_t total);
void dg_progress_update(dg_progress *p, int64_t done);

/* Collective error agreement: every rank passes its own rc; if any rank
 * failed, every rank returns DG_FAIL and err holds the reason of the lowest
 * failing rank, prefixed with "rank R: ".  Call it at the end of each stage
 * so one rank's failure ends the whole job instead of hanging it.  Calling
 * it again after a failure was agreed keeps the message as it is. */
int dg_agree(const dg_ctx *ctx, int rc, dg_err *err);

#endif
