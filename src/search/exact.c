/* exact.c - the `exact` mode: every usable item against every other, over
 * all ranks, with no clustering.  Used as ground truth for recall and for
 * corpora small enough to afford it.
 *
 * Each rank compacts its usable rows (with their global ids) into one block.
 * Blocks circulate in a ring: at step s every rank holds the block of rank
 * (r - s) mod P and compares it with its own, for s = 1 .. floor(P/2); step
 * 0 compares the own block with itself.  For even P, the two ranks of a pair
 * at distance P/2 meet on both sides, so each of them takes half of the
 * rows (which keeps P = 2 balanced).  So each pair of items is compared
 * exactly once in the job.  The next block travels (non-blocking) while the
 * current one is searched.
 * Pair search itself is pairs.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "search/exact.h"

#include "search/edges.h"
#include "search/pairs.h"

typedef struct block {
    int64_t n;
    int64_t *id;
    float *vec;
} block;

static void block_free(block *b)
{
    free(b->id);
    free(b->vec);
    memset(b, 0, sizeof *b);
}

static int block_alloc(block *b, int64_t n, int d, dg_err *err)
{
    memset(b, 0, sizeof *b);
    size_t cells;
    if (dg_mul_size((size_t)n, (size_t)d, &cells, err) != DG_OK)
        return DG_FAIL;
    b->id = dg_alloc((size_t)n, sizeof *b->id, err);
    b->vec = dg_alloc(cells, sizeof *b->vec, err);
    if (!b->id || !b->vec) {
        block_free(b);
        return DG_FAIL;
    }
    return DG_OK;
}

static int64_t count_usable(const dg_items *items)
{
    int64_t n = 0;
    for (int64_t i = 0; i < items->n; i++)
        n += dg_status_usable(items->status[i]);
    return n;
}

static int compact_usable(const dg_items *items, block *own, dg_err *err)
{
    if (block_alloc(own, count_usable(items), items->d, err) != DG_OK)
        return DG_FAIL;
    size_t row = (size_t)items->d * sizeof(float);
    for (int64_t i = 0; i < items->n; i++) {
        if (!dg_status_usable(items->status[i]))
            continue;
        own->id[own->n] = items->lo + i;
        memcpy(own->vec + (size_t)own->n * (size_t)items->d, items->vec + (size_t)i * (size_t)items->d, row);
        own->n++;
    }
    return DG_OK;
}

/* The ring's state on one rank: its own block, two buffers for visiting
 * blocks, and the MPI type of one vector row. */
typedef struct ring {
    const dg_ctx *ctx;
    int d;
    block own;
    block buf[2];
    MPI_Datatype row;
} ring;

static void ring_free(ring *g)
{
    block_free(&g->own);
    block_free(&g->buf[0]);
    block_free(&g->buf[1]);
    if (g->row != MPI_DATATYPE_NULL)
        MPI_Type_free(&g->row);
}

/* Local setup: compaction and buffers sized for the largest block.
 * Collective (the largest block is agreed with MPI_Allreduce). */
static int ring_init(ring *g, const dg_ctx *ctx, const dg_items *items, dg_err *err)
{
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    g->d = items->d;
    g->row = MPI_DATATYPE_NULL;
    int rc = compact_usable(items, &g->own, err);
    int64_t mine = rc == DG_OK ? g->own.n : 0, largest = 0;
    MPI_Allreduce(&mine, &largest, 1, MPI_INT64_T, MPI_MAX, ctx->comm);
    if (rc == DG_OK && largest > INT_MAX)
        rc = dg_fail(err, "exact mode: a rank holds %lld usable items, more than one MPI message allows",
                     (long long)largest);
    if (rc == DG_OK && ctx->size > 1)
        for (int k = 0; k < 2 && rc == DG_OK; k++)
            rc = block_alloc(&g->buf[k], largest, items->d, err);
    if (rc == DG_OK) {
        MPI_Type_contiguous(items->d, MPI_FLOAT, &g->row);
        MPI_Type_commit(&g->row);
    }
    return dg_agree(ctx, rc, err);
}

/* Starts passing `cur` on to rank r+1 and receiving the next block from
 * rank r-1 into `next`.  Block sizes go first (blocking, tiny). */
static void ring_start(ring *g, const block *cur, block *next, MPI_Request req[4])
{
    int p = g->ctx->size, r = g->ctx->rank;
    int to = (r + 1) % p, from = (r + p - 1) % p;
    MPI_Sendrecv(&cur->n, 1, MPI_INT64_T, to, 0, &next->n, 1, MPI_INT64_T, from, 0, g->ctx->comm,
                 MPI_STATUS_IGNORE);
    MPI_Irecv(next->id, (int)next->n, MPI_INT64_T, from, 1, g->ctx->comm, &req[0]);
    MPI_Irecv(next->vec, (int)next->n, g->row, from, 2, g->ctx->comm, &req[1]);
    MPI_Isend(cur->id, (int)cur->n, MPI_INT64_T, to, 1, g->ctx->comm, &req[2]);
    MPI_Isend(cur->vec, (int)cur->n, g->row, to, 2, g->ctx->comm, &req[3]);
}

/* For even P, the blocks of ranks r and r + P/2 meet at step P/2 on both
 * ranks: the lower rank's block A is split in two halves of rows, the lower
 * rank compares the first half with B and the upper rank the second. */
static int ring_half_step(const ring *g, const block *cur, const dg_pair_opts *o, dg_edges *out,
                          dg_pair_stats *st, dg_err *err)
{
    int lower = g->ctx->rank < g->ctx->size / 2;
    const block *a = lower ? &g->own : cur, *b = lower ? cur : &g->own;
    int64_t half = a->n / 2, lo = lower ? 0 : half, hi = lower ? half : a->n;
    return dg_pairs_between(a->vec + (size_t)lo * (size_t)g->d, a->id + lo, hi - lo, b->vec, b->id, b->n, g->d,
                            o, out, st, err);
}

static int ring_step(const ring *g, int s, const block *cur, const dg_pair_opts *o, dg_edges *out,
                     dg_pair_stats *st, dg_err *err)
{
    if (s == 0)
        return dg_pairs_within(g->own.vec, g->own.id, g->own.n, g->d, o, out, st, err);
    if (g->ctx->size % 2 == 0 && 2 * s == g->ctx->size)
        return ring_half_step(g, cur, o, out, st, err);
    return dg_pairs_between(g->own.vec, g->own.id, g->own.n, cur->vec, cur->id, cur->n, g->d, o, out, st, err);
}

static int ring_run(ring *g, const dg_pair_opts *o, dg_edges *out, dg_pair_stats *st, dg_err *err)
{
    int steps = g->ctx->size / 2, rc = DG_OK;
    const block *cur = &g->own;
    dg_progress prog;
    dg_progress_begin(&prog, g->ctx, "exact (ring steps)", steps + 1);
    for (int s = 0; s <= steps; s++) {
        MPI_Request req[4];
        block *next = &g->buf[(s + 1) % 2];
        if (s < steps)
            ring_start(g, cur, next, req);
        /* A failed rank keeps passing blocks so no other rank waits forever. */
        if (rc == DG_OK)
            rc = ring_step(g, s, cur, o, out, st, err);
        if (s < steps)
            MPI_Waitall(4, req, MPI_STATUSES_IGNORE);
        cur = next;
        dg_progress_update(&prog, s + 1);
    }
    return rc;
}

int dg_pairs_exact(const dg_ctx *ctx, const dg_items *items, const dg_pair_opts *o, dg_edges *out,
                   dg_pair_stats *st, dg_err *err)
{
    double t = dg_now();
    ring g;
    if (ring_init(&g, ctx, items, err) != DG_OK) {
        ring_free(&g);
        return DG_FAIL;
    }
    dg_log(ctx, "exact: %lld usable items on rank 0, %d ring steps", (long long)g.own.n, ctx->size / 2);
    dg_pair_stats local = {0, 0.0, 0.0};
    int rc = ring_run(&g, o, out, &local, err);
    ring_free(&g);
    if (st) {
        st->compared += local.compared;
        st->flops += local.flops;
        st->seconds += dg_now() - t;
    }
    return dg_agree(ctx, rc, err);
}
