/* pairs.c - the similarity search inside vector sets: within one set,
 * between two sets, and over every cluster of an exchanged bucket.
 *
 * Similarities of a block of rows against a block of columns come from one
 * cblas_sgemm, or from the bfloat16 kernel (bf16_block.c, about three times
 * sgemm's rate where the CPU has AVX512-BF16), into a block x block scratch
 * buffer (diagonal blocks of a set against itself are halved first, so
 * little of the unused lower triangle is computed).  A row of that buffer is
 * first checked for any candidate (sim >= threshold - eps, eps the
 * arithmetic's error bound) in a vectorisable loop; only rows with
 * candidates are walked, and each candidate is re-scored in double
 * precision (dg_sim_exact) and kept if that is >= the threshold.  So the
 * edges and their similarities do not depend on blocking or arithmetic.
 *
 * Stats are added to the caller's dg_pair_stats: `compared` counts the
 * pairs searched (i < j within a set, all pairs between sets), `flops` the
 * 2*d per similarity computed, so flops / (2*d*compared) - 1 is the work
 * spent on unused similarities (and on the bfloat16 kernel's padding).
 *
 * The pair search does no MPI (the exact mode's ring lives in exact.c, the
 * edge list in edges.c); the one collective here gathers per-rank stats for
 * the log.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "search/pairs.h"

#include "search/bf16_block.h"
#include "search/edges.h"
#include "search/forest.h"

/* Rows and columns per block when the caller passes block <= 0.  Measured
 * here (one core, sgemm of 512 x 512 blocks at ~120 GFLOP/s): the 1 MiB
 * block of similarities stays in L2, 2048 x 2048 drops to ~75% of that
 * rate, and for d = 64..512 the pair search with 512 ran within a few
 * percent of 256 and 1024 (80-95% of the sgemm rate). */
enum { DEFAULT_BLOCK = 512 };

static int64_t effective_block(int block)
{
    return block > 0 ? block : DEFAULT_BLOCK;
}

float dg_sim_exact(const float *a, const float *b, int d)
{
    double s = 0.0;
    for (int k = 0; k < d; k++)
        s += (double)a[k] * (double)b[k];
    return (float)s;
}

/* One rectangular search: rows x cols, where rows [0, tri) are the same
 * items as cols [0, tri) (so for those only j > i counts) and the remaining
 * rows are a different set (every column counts; equal ids are skipped). */
typedef struct rect {
    const float *rows;
    const int64_t *rid;
    int64_t nr;
    int64_t tri;
    const float *cols;
    const int64_t *cid;
    int64_t nc;
    int d;
    const int64_t *rix, *cix; /* forest mode: rows' and columns' indices in the forest's ids */
} rect;

typedef struct search {
    float threshold;
    float eps;       /* bound on |block similarity - exact| */
    float candidate; /* threshold - eps */
    int64_t block;
    float *sims;     /* block x block (bfloat16: padded to whole tiles) */
    int64_t ld;      /* floats per row of sims */
    uint32_t *packed_rows, *packed_cols; /* bfloat16 only: the block's vectors, packed */
    dg_edges *out;
    dg_candidate_bound *bound;
    dg_forest *forest; /* graph.edges = forest: NULL for every pair */
    int64_t compared;
    double flops;
} search;

int dg_pair_opts_from_config(const dg_config *cfg, dg_pair_opts *o, dg_err *err)
{
    *o = (dg_pair_opts){cfg->threshold, cfg->block, 0, NULL};
    return dg_bf16_resolve(cfg->precision, &o->bfloat16, err);
}

static int search_init(search *s, const dg_pair_opts *o, int d, int64_t max_rows, int64_t max_cols, dg_edges *out,
                       dg_err *err)
{
    *s = (search){.threshold = o->threshold, .block = effective_block(o->block), .out = out, .bound = o->bound};
    if (o->bfloat16 && !dg_bf16_available())
        return dg_failc(err, DG_E_CONFIG, "bfloat16 pair search asked for on a CPU without AVX512-BF16");
    s->eps = o->bfloat16 ? dg_bf16_margin(d) : DG_SIM_RESCORE_EPS;
    s->candidate = o->threshold - s->eps;
    int64_t br = max_rows < s->block ? max_rows : s->block;
    int64_t bc = max_cols < s->block ? max_cols : s->block;
    br = br > 0 ? br : 1;
    bc = bc > 0 ? bc : 1;
    if (o->bfloat16) {
        br = dg_bf16_rows(br);
        bc = dg_bf16_cols(bc);
        s->packed_rows = dg_alloc((size_t)br * (size_t)dg_bf16_words(d), sizeof *s->packed_rows, err);
        s->packed_cols = dg_alloc((size_t)bc * (size_t)dg_bf16_words(d), sizeof *s->packed_cols, err);
        if (!s->packed_rows || !s->packed_cols)
            return DG_FAIL;
    }
    s->ld = bc;
    size_t cells;
    if (dg_mul_size((size_t)br, (size_t)bc, &cells, err) != DG_OK)
        return DG_FAIL;
    s->sims = dg_alloc(cells, sizeof(float), err);
    return s->sims ? DG_OK : DG_FAIL;
}

static void search_done(search *s, dg_pair_stats *st, double t_start)
{
    free(s->sims);
    free(s->packed_rows);
    free(s->packed_cols);
    s->sims = NULL;
    s->packed_rows = s->packed_cols = NULL;
    if (st) {
        st->compared += s->compared;
        st->flops += s->flops;
        st->seconds += dg_now() - t_start;
    }
}

/* Any entry of row[lo, hi) at or above the candidate level.  Written as a
 * branch-free count so the compiler vectorises it: most rows have none. */
static int row_has_candidate(const float *row, int64_t lo, int64_t hi, float candidate)
{
    int hits = 0;
    for (int64_t j = lo; j < hi; j++)
        hits += row[j] >= candidate;
    return hits != 0;
}

static int rescore_row(const search *s, const rect *r, int64_t i, const float *row, int64_t c0, int64_t lo,
                       int64_t hi, dg_err *err)
{
    const float *a = r->rows + (size_t)i * (size_t)r->d;
    for (int64_t j = lo; j < hi; j++) {
        if (row[j] < s->candidate)
            continue;
        int64_t jc = c0 + j;
        if (r->rid[i] == r->cid[jc])
            continue;
        float sim = dg_sim_exact(a, r->cols + (size_t)jc * (size_t)r->d, r->d);
        if (sim >= s->threshold && dg_edges_push(s->out, r->rid[i], r->cid[jc], sim, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

/* Item x's best so far loses to (other, sim)? Higher sim, ties lower id. */
static void forest_offer(dg_forest *f, int64_t x, int64_t other, float sim)
{
    if (sim > f->best_sim[x] || (sim == f->best_sim[x] && other < f->best_id[x])) {
        f->best_sim[x] = sim;
        f->best_id[x] = other;
    }
}

/* The forest-mode scan of one row.  A certain pair (sgemm sim sure to be at
 * or above f->certain after re-scoring) is re-scored only when it could
 * join two sets or change an end's best match, which after the first rows
 * of a big group is almost never: the cost per pair is then a comparison
 * and two finds.  Other candidates are re-scored and handled as in all
 * mode, except that a certain one joins the forest. */
static int forest_row(const search *s, const rect *r, int64_t i, const float *row, int64_t c0, int64_t lo,
                      int64_t hi, dg_err *err)
{
    dg_forest *f = s->forest;
    const float *a = r->rows + (size_t)i * (size_t)r->d;
    float sure = f->certain > s->threshold ? f->certain + s->eps : s->candidate;
    int64_t ua = r->rix[i];
    for (int64_t j = lo; j < hi; j++) {
        float v = row[j];
        if (v < s->candidate)
            continue;
        int64_t jc = c0 + j, ub = r->cix[jc];
        if (ua == ub)
            continue;
        if (v >= sure && v + f->best_slack < f->best_sim[ua] && v + f->best_slack < f->best_sim[ub] &&
            dg_uf_find(&f->uf, ua) == dg_uf_find(&f->uf, ub))
            continue;
        float sim = dg_sim_exact(a, r->cols + (size_t)jc * (size_t)r->d, r->d);
        if (sim < s->threshold)
            continue;
        if (sim < f->certain) {
            if (dg_edges_push(s->out, r->rid[i], r->cid[jc], sim, err) != DG_OK)
                return DG_FAIL;
            continue;
        }
        forest_offer(f, ua, r->cid[jc], sim);
        forest_offer(f, ub, r->rid[i], sim);
        if (dg_uf_union(&f->uf, ua, ub) && dg_edges_push(s->out, r->rid[i], r->cid[jc], sim, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

/* Rows [r0, r1) against columns [c0, c1) into s->sims. */
static void block_sims(search *s, const rect *r, int64_t r0, int64_t r1, int64_t c0, int64_t c1)
{
    int64_t nr = r1 - r0, nc = c1 - c0;
    const float *rows = r->rows + (size_t)r0 * (size_t)r->d, *cols = r->cols + (size_t)c0 * (size_t)r->d;
    if (s->packed_rows) {
        dg_bf16_pack_rows(rows, nr, r->d, s->packed_rows);
        dg_bf16_pack_cols(cols, nc, r->d, s->packed_cols);
        dg_bf16_block(s->packed_rows, nr, s->packed_cols, nc, r->d, s->sims, s->ld);
        s->flops += 2.0 * r->d * (double)dg_bf16_rows(nr) * (double)dg_bf16_cols(nc);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr, (int)nc, r->d, 1.0f, rows, r->d, cols, r->d, 0.0f,
                s->sims, (int)s->ld);
    s->flops += 2.0 * r->d * (double)nr * (double)nc;
}

/* Rows [r0, r1) against columns [c0, c1): the block's similarities, then
 * the scan. */
static int search_block(search *s, const rect *r, int64_t r0, int64_t r1, int64_t c0, int64_t c1, dg_err *err)
{
    int64_t nc = c1 - c0;
    block_sims(s, r, r0, r1, c0, c1);
    for (int64_t i = r0; i < r1; i++) {
        const float *row = s->sims + (size_t)(i - r0) * (size_t)s->ld;
        int64_t lo = 0;
        if (i < r->tri)
            lo = i + 1 > c0 ? i + 1 - c0 : 0;
        if (lo >= nc)
            continue;
        s->compared += nc - lo;
        if (!row_has_candidate(row, lo, nc, s->candidate))
            continue;
        int rc = s->forest ? forest_row(s, r, i, row, c0, lo, nc, err) : rescore_row(s, r, i, row, c0, lo, nc, err);
        if (rc != DG_OK)
            return DG_FAIL;
    }
    return dg_bound_candidates(s->bound, s->out, err);
}

/* A diagonal block needs only its upper triangle: halve it while the halves
 * stay large enough for sgemm to run near its peak (measured: 128 x 128 x
 * 128 still runs at ~90% of it), computing 3/4 of the block per level. */
enum { MIN_DIAGONAL_SPLIT = 128 };

static int search_diagonal(search *s, const rect *r, int64_t lo, int64_t hi, dg_err *err)
{
    if (hi - lo < 2 * MIN_DIAGONAL_SPLIT)
        return search_block(s, r, lo, hi, lo, hi, err);
    int64_t mid = lo + (hi - lo) / 2;
    if (search_diagonal(s, r, lo, mid, err) != DG_OK || search_block(s, r, lo, mid, mid, hi, err) != DG_OK)
        return DG_FAIL;
    return search_diagonal(s, r, mid, hi, err);
}

static int search_rect(search *s, const rect *r, dg_err *err)
{
    for (int64_t r0 = 0; r0 < r->nr; r0 += s->block) {
        int64_t r1 = r0 + s->block < r->nr ? r0 + s->block : r->nr;
        for (int64_t c0 = 0; c0 < r->nc; c0 += s->block) {
            int64_t c1 = c0 + s->block < r->nc ? c0 + s->block : r->nc;
            /* Rows all inside the triangle, columns all at or left of the
             * first row: no pair with j > i in this block. */
            if (r1 <= r->tri && c1 <= r0 + 1)
                continue;
            int rc = r0 == c0 && r1 == c1 && r1 <= r->tri ? search_diagonal(s, r, r0, r1, err)
                                                          : search_block(s, r, r0, r1, c0, c1, err);
            if (rc != DG_OK)
                return DG_FAIL;
        }
    }
    return DG_OK;
}

static int check_sizes(int64_t na, int64_t nb, int d, dg_err *err)
{
    if (na < 0 || nb < 0 || d <= 0)
        return dg_fail(err, "bad pair search shape: %lld x %lld rows of %d dims", (long long)na, (long long)nb, d);
    return DG_OK;
}

int dg_pairs_within(const float *x, const int64_t *ids, int64_t n, int d, const dg_pair_opts *o, dg_edges *out,
                    dg_pair_stats *st, dg_err *err)
{
    double t = dg_now();
    search s = {0};
    if (check_sizes(n, n, d, err) != DG_OK || search_init(&s, o, d, n, n, out, err) != DG_OK) {
        search_done(&s, NULL, t);
        return DG_FAIL;
    }
    rect r = {x, ids, n, n, x, ids, n, d, NULL, NULL};
    int rc = search_rect(&s, &r, err);
    search_done(&s, st, t);
    return rc;
}

int dg_pairs_between(const float *a, const int64_t *ida, int64_t na, const float *b, const int64_t *idb,
                     int64_t nb, int d, const dg_pair_opts *o, dg_edges *out, dg_pair_stats *st, dg_err *err)
{
    double t = dg_now();
    search s = {0};
    if (check_sizes(na, nb, d, err) != DG_OK || search_init(&s, o, d, na, nb, out, err) != DG_OK) {
        search_done(&s, NULL, t);
        return DG_FAIL;
    }
    rect r = {a, ida, na, 0, b, idb, nb, d, NULL, NULL};
    int rc = search_rect(&s, &r, err);
    search_done(&s, st, t);
    return rc;
}

/* Rows [first, first + n) of the bucket: one part of a cluster in one role. */
typedef struct unit {
    int64_t first;
    int64_t n;
} unit;

/* Bucket rows are sorted by (cluster, is_query, part): the first row at or
 * after (c, q, part) by binary search. */
static int64_t lower_bound(const dg_bucket *b, int32_t c, int8_t q, int32_t part)
{
    int64_t lo = 0, hi = b->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int before = b->cluster[mid] != c ? b->cluster[mid] < c
                     : b->is_query[mid] != q ? b->is_query[mid] < q
                                             : b->part[mid] < part;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unit find_unit(const dg_bucket *b, int32_t c, int8_t q, int32_t part)
{
    int64_t first = lower_bound(b, c, q, part);
    return (unit){first, lower_bound(b, c, q, part + 1) - first};
}

static rect unit_rect(const search *s, const dg_bucket *b, unit rows, unit cols, int same)
{
    const float *rv = b->vec + (size_t)rows.first * (size_t)b->d, *cv = b->vec + (size_t)cols.first * (size_t)b->d;
    const int64_t *ix = s->forest ? s->forest->row_ix : NULL;
    return (rect){rv, b->id + rows.first, rows.n, same ? rows.n : 0, cv, b->id + cols.first, cols.n, b->d,
                  ix ? ix + rows.first : NULL, ix ? ix + cols.first : NULL};
}

/* A whole cluster: its members, then its queries.  A small cluster is one
 * rectangle of (members + queries) x members, a single sgemm; a larger one
 * searches its members as a set (so the diagonal blocks get halved) and its
 * queries against them separately. */
static int search_cluster(search *s, const dg_bucket *b, unit members, unit queries, dg_err *err)
{
    if (members.n < 2 * MIN_DIAGONAL_SPLIT) {
        rect all = unit_rect(s, b, (unit){members.first, members.n + queries.n}, members, 0);
        all.tri = members.n;
        return search_rect(s, &all, err);
    }
    rect within = unit_rect(s, b, members, members, 1);
    rect against = unit_rect(s, b, queries, members, 0);
    if (search_rect(s, &within, err) != DG_OK)
        return DG_FAIL;
    return search_rect(s, &against, err);
}

/* Rows and columns of one task; for a whole cluster, rows are its members
 * and columns its queries. */
static void task_units(const dg_bucket *b, const dg_task *t, unit *rows, unit *cols)
{
    if (t->kind == DG_TASK_CLUSTER) {
        *rows = find_unit(b, t->cluster, 0, 0);
        *cols = find_unit(b, t->cluster, 1, 0);
        return;
    }
    *rows = find_unit(b, t->cluster, t->kind == DG_TASK_QUERIES, t->a);
    *cols = find_unit(b, t->cluster, 0, t->b);
}

static double task_pairs(const dg_task *t, unit rows, unit cols)
{
    double r = (double)rows.n, c = (double)cols.n;
    if (t->kind == DG_TASK_CLUSTER)
        return r * (r - 1) / 2 + c * r;
    return t->kind == DG_TASK_MEMBERS && t->a == t->b ? r * (r - 1) / 2 : r * c;
}

static int search_units(search *s, const dg_bucket *b, const dg_task *t, unit rows, unit cols, int same,
                        dg_err *err)
{
    if (t->kind == DG_TASK_CLUSTER)
        return search_cluster(s, b, rows, cols, err);
    rect r = unit_rect(s, b, rows, cols, same);
    return search_rect(s, &r, err);
}

/* Forest mode starts every task with its own union-find and best matches
 * and pushes its best matches at its end (search/forest.h). */
static int search_task(search *s, const dg_bucket *b, const dg_task *t, dg_err *err)
{
    unit rows, cols;
    task_units(b, t, &rows, &cols);
    int same = t->kind == DG_TASK_MEMBERS && t->a == t->b;
    dg_forest *f = s->forest;
    if (!f)
        return search_units(s, b, t, rows, cols, same, err);
    const int64_t *rix = f->row_ix + rows.first, *cix = f->row_ix + cols.first;
    int64_t ncols = same ? 0 : cols.n;
    dg_forest_task_begin(f, rix, rows.n);
    dg_forest_task_begin(f, cix, ncols);
    if (search_units(s, b, t, rows, cols, same, err) != DG_OK ||
        dg_forest_push_best(f, rix, rows.n, s->out, err) != DG_OK)
        return DG_FAIL;
    return dg_forest_push_best(f, cix, ncols, s->out, err);
}

int dg_pairs_bucket(const dg_ctx *ctx, const dg_bucket *b, const dg_pair_opts *o, const float *certain,
                    dg_edges *out, dg_pair_stats *st, dg_err *err)
{
    double t = dg_now();
    search s = {0};
    dg_forest forest;
    if (check_sizes(b->n, b->n, b->d, err) != DG_OK || search_init(&s, o, b->d, b->n, b->n, out, err) != DG_OK) {
        search_done(&s, NULL, t);
        return DG_FAIL;
    }
    if (certain && dg_forest_init(&forest, b->id, b->n, b->d, *certain, err) != DG_OK) {
        search_done(&s, st, t);
        return DG_FAIL;
    }
    /* the block arithmetic bounds the error the forest may skip on */
    if (certain && forest.best_slack < s.eps)
        forest.best_slack = s.eps;
    s.forest = certain ? &forest : NULL;
    double total = 0.0;
    unit rows, cols;
    for (int64_t i = 0; i < b->n_tasks; i++) {
        task_units(b, &b->task[i], &rows, &cols);
        total += task_pairs(&b->task[i], rows, cols);
    }
    dg_progress prog;
    dg_progress_begin(&prog, ctx, "pairs (comparisons)", (int64_t)total);
    int rc = DG_OK;
    for (int64_t i = 0; i < b->n_tasks && rc == DG_OK; i++) {
        if (dg_stop_poll(ctx, DG_STOP_PAIRS)) {
            rc = dg_failc(err, DG_E_STOPPED, DG_STOP_REASON);
            break;
        }
        rc = search_task(&s, b, &b->task[i], err);
        dg_progress_update(&prog, s.compared);
    }
    if (certain)
        dg_forest_free(&forest);
    search_done(&s, st, t);
    return rc;
}

/* ---- per-rank stats ------------------------------------------------------ */

/* Ranks listed one by one; with more, only max/mean. */
enum { LOG_RANKS = 16 };

/* " v0 v1 ..." of column `col` of p rows of 3 values, or "" when p is
 * above LOG_RANKS. */
static void list_column(char *line, size_t size, const double *v, int p, int col, const char *fmt)
{
    size_t len = 0;
    line[0] = '\0';
    for (int r = 0; p <= LOG_RANKS && r < p && len < size; r++)
        len += (size_t)snprintf(line + len, size - len, fmt, v[3 * r + col]);
}

void dg_pair_stats_log(const dg_ctx *ctx, const char *what, const dg_pair_stats *st, int64_t rows)
{
    double mine[3] = {(double)st->compared, st->seconds, (double)rows};
    double max[3], sum[3], all[3 * LOG_RANKS] = {0};
    MPI_Reduce(mine, max, 3, MPI_DOUBLE, MPI_MAX, 0, ctx->comm);
    MPI_Reduce(mine, sum, 3, MPI_DOUBLE, MPI_SUM, 0, ctx->comm);
    if (ctx->size <= LOG_RANKS)
        MPI_Gather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, 0, ctx->comm);
    if (ctx->rank != 0)
        return;
    char pairs[LOG_RANKS * 24], secs[LOG_RANKS * 16], sizes[LOG_RANKS * 24];
    list_column(pairs, sizeof pairs, all, ctx->size, 0, " %.0f");
    list_column(secs, sizeof secs, all, ctx->size, 1, " %.2f");
    list_column(sizes, sizeof sizes, all, ctx->size, 2, " %.0f");
    double ratio[3];
    for (int i = 0; i < 3; i++)
        ratio[i] = sum[i] > 0 ? max[i] * ctx->size / sum[i] : 1.0;
    dg_log(ctx, "%s: pairs per rank%s (max %.4g, max/mean %.2f)", what, pairs, max[0], ratio[0]);
    dg_log(ctx, "%s: seconds per rank%s (max/mean %.2f); rows per rank%s (max %.0f, max/mean %.2f)", what, secs,
           ratio[1], sizes, max[2], ratio[2]);
}
