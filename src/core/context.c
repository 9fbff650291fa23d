/* context.c - rank-0 logging, progress lines and the collective error
 * agreement that turns one rank's failure into a clean exit of all. */
#include "dupgraph/context.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void dg_ctx_init(dg_ctx *ctx, MPI_Comm comm, double progress_seconds)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->comm = comm;
    MPI_Comm_rank(comm, &ctx->rank);
    MPI_Comm_size(comm, &ctx->size);
    ctx->t0 = dg_now();
    ctx->progress_seconds = progress_seconds;
}

static void vlog(const dg_ctx *ctx, int with_rank, const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    if (with_rank)
        fprintf(stderr, "[%8.2fs] rank %d: %s\n", dg_now() - ctx->t0, ctx->rank, line);
    else
        fprintf(stderr, "[%8.2fs] %s\n", dg_now() - ctx->t0, line);
    fflush(stderr);
}

void dg_log(const dg_ctx *ctx, const char *fmt, ...)
{
    if (ctx->rank != 0 || ctx->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, 0, fmt, ap);
    va_end(ap);
}

void dg_log_rank(const dg_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, 1, fmt, ap);
    va_end(ap);
}

void dg_progress_begin(dg_progress *p, const dg_ctx *ctx, const char *what, int64_t total)
{
    p->ctx = ctx;
    p->what = what;
    p->total = total;
    p->t_start = p->t_last = dg_now();
}

void dg_progress_update(dg_progress *p, int64_t done)
{
    double now = dg_now();
    if (p->ctx->rank != 0 || now - p->t_last < p->ctx->progress_seconds)
        return;
    p->t_last = now;
    double rate = (double)done / (now - p->t_start + 1e-9);
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0.0;
    dg_log(p->ctx, "%s: %lld/%lld on rank 0 (%.1f%%), %.0f/s per rank, ETA %.0fs", p->what,
           (long long)done, (long long)p->total, p->total ? 100.0 * (double)done / (double)p->total : 100.0,
           rate, eta);
}

int dg_agree(const dg_ctx *ctx, int rc, dg_err *err)
{
    /* [0]: lowest failing rank (size if none); [1]: 1 only if every rank
     * failed, which means an earlier dg_agree already shared the reason. */
    int mine[2] = {rc == DG_OK ? ctx->size : ctx->rank, rc == DG_OK ? 0 : 1};
    int agreed[2];
    MPI_Allreduce(mine, agreed, 2, MPI_INT, MPI_MIN, ctx->comm);
    int first = agreed[0];
    if (first == ctx->size)
        return DG_OK;
    char msg[sizeof err->msg];
    int code = err->code;
    if (ctx->rank == first)
        snprintf(msg, sizeof msg, "%s", err->msg);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, ctx->comm);
    MPI_Bcast(&code, 1, MPI_INT, first, ctx->comm);
    err->code = (dg_code)code;
    if (ctx->size > 1 && !agreed[1])
        snprintf(err->msg, sizeof err->msg, "rank %d: %.490s", first, msg);
    else
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    return DG_FAIL;
}

int dg_stop_poll(const dg_ctx *ctx, dg_stop_stage stage)
{
    dg_stop_point *p = ctx->stop_at;
    if (p && ctx->stop && p->stage == stage && ++p->seen == p->at)
        *ctx->stop = 1;
    return dg_stop_requested(ctx);
}
