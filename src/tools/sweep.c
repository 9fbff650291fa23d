/* sweep.c - items removed under a stricter edge rule (see sweep.h): a
 * union-find with path halving over the item ids, joined by the edges the
 * rule keeps. */
#include "tools/sweep.h"

#include <math.h>
#include <stdlib.h>

#include "io/h5_columns.h"

#define CHUNK_ROWS ((int64_t)1 << 18)

int dg_edge_rule_keeps(const dg_edge_rule *rule, float sim, float verify)
{
    if (!(sim >= rule->min_sim))
        return 0;
    if (isnan(verify) || !(rule->min_verify > 0.0f) || verify >= rule->min_verify)
        return 1;
    return rule->agree_sim > 0.0f && sim >= rule->agree_sim && verify >= rule->agree_verify;
}

void dg_sweep_reset(int64_t *parent, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        parent[i] = i;
}

static int64_t root(int64_t *parent, int64_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

int64_t dg_sweep_block(int64_t *parent, const int64_t *src, const int64_t *dst, const float *sim, const float *verify,
                       int64_t count, const dg_edge_rule *rule, const dg_edge_rule *looser, dg_sweep_dropped dropped,
                       void *arg)
{
    int64_t joins = 0;
    for (int64_t i = 0; i < count; i++) {
        if (!dg_edge_rule_keeps(rule, sim[i], verify[i])) {
            if (dropped && looser && dg_edge_rule_keeps(looser, sim[i], verify[i]))
                dropped(arg, src[i], dst[i], sim[i], verify[i]);
            continue;
        }
        int64_t a = root(parent, src[i]), b = root(parent, dst[i]);
        if (a == b)
            continue;
        /* the lower root wins, so the result does not depend on edge order */
        if (a < b)
            parent[b] = a;
        else
            parent[a] = b;
        joins++;
    }
    return joins;
}

/* Keeps the DG_SWEEP_SAMPLE dropped pairs of smallest hash, sorted by it. */
static void offer_dropped(void *arg, int64_t src, int64_t dst, float sim, float verify)
{
    dg_sweep_row *row = arg;
    uint64_t h = dg_mix64((uint64_t)src ^ dg_mix64((uint64_t)dst));
    if (row->n_dropped == DG_SWEEP_SAMPLE && h >= row->dropped[DG_SWEEP_SAMPLE - 1].hash)
        return;
    int at = row->n_dropped < DG_SWEEP_SAMPLE ? row->n_dropped++ : DG_SWEEP_SAMPLE - 1;
    while (at > 0 && row->dropped[at - 1].hash > h) {
        row->dropped[at] = row->dropped[at - 1];
        at--;
    }
    row->dropped[at] = (dg_sweep_pair){src, dst, sim, verify, h};
}

int dg_sweep_file(const char *path, int64_t n_items, int64_t n_edges, dg_sweep_row *rows, int first, int n_rows,
                  dg_err *err)
{
    int64_t cap = n_edges < CHUNK_ROWS ? (n_edges > 0 ? n_edges : 1) : CHUNK_ROWS;
    int64_t *parent = dg_alloc((size_t)(n_items > 0 ? n_items : 1), sizeof *parent, err);
    int64_t *src = parent ? dg_alloc((size_t)cap, sizeof *src, err) : NULL;
    int64_t *dst = src ? dg_alloc((size_t)cap, sizeof *dst, err) : NULL;
    float *sim = dst ? dg_alloc((size_t)cap, sizeof *sim, err) : NULL;
    float *verify = sim ? dg_alloc((size_t)cap, sizeof *verify, err) : NULL;
    int rc = verify ? DG_OK : DG_FAIL;
    for (int r = first; rc == DG_OK && r < n_rows; r++) {
        dg_sweep_row *row = &rows[r];
        const dg_edge_rule *looser = r > 0 ? &rows[r - 1].rule : NULL;
        row->edges = row->removed = 0;
        row->n_dropped = 0;
        dg_sweep_reset(parent, n_items);
        for (int64_t lo = 0; rc == DG_OK && lo < n_edges; lo += cap) {
            int64_t count = n_edges - lo < cap ? n_edges - lo : cap;
            rc = dg_h5_read_edge_rows_verify(path, lo, count, src, dst, sim, verify, err);
            for (int64_t i = 0; rc == DG_OK && i < count; i++)
                if (src[i] < 0 || src[i] >= n_items || dst[i] < 0 || dst[i] >= n_items)
                    rc = dg_failc(err, DG_E_INPUT, "%s: edge (%lld, %lld) is not between two of its %lld items", path,
                                  (long long)src[i], (long long)dst[i], (long long)n_items);
                else
                    row->edges += dg_edge_rule_keeps(&row->rule, sim[i], verify[i]);
            if (rc == DG_OK)
                row->removed += dg_sweep_block(parent, src, dst, sim, verify, count, &row->rule, looser,
                                               offer_dropped, row);
        }
    }
    free(parent);
    free(src);
    free(dst);
    free(sim);
    free(verify);
    return rc;
}
