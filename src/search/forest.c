/* forest.c - the union-find, the bucket state of the forest search
 * (forest.h) and the maximum spanning forest of an edge list.  The pair
 * scan itself stays in pairs.c. */
#include "search/forest.h"

#include "search/bf16_block.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int dg_uf_init(dg_uf *u, int64_t n, dg_err *err)
{
    u->n = n;
    u->parent = dg_alloc((size_t)(n > 0 ? n : 1), sizeof *u->parent, err);
    if (!u->parent)
        return DG_FAIL;
    for (int64_t i = 0; i < n; i++)
        u->parent[i] = i;
    return DG_OK;
}

void dg_uf_free(dg_uf *u)
{
    free(u->parent);
    memset(u, 0, sizeof *u);
}

int64_t dg_uf_find(dg_uf *u, int64_t x)
{
    while (u->parent[x] != x) {
        u->parent[x] = u->parent[u->parent[x]];
        x = u->parent[x];
    }
    return x;
}

int dg_uf_union(dg_uf *u, int64_t x, int64_t y)
{
    x = dg_uf_find(u, x);
    y = dg_uf_find(u, y);
    if (x == y)
        return 0;
    if (x < y)
        u->parent[y] = x;
    else
        u->parent[x] = y;
    return 1;
}

typedef struct ranked {
    int64_t src, dst;
    float sim, score;
} ranked;

static int cmp_order(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->sim != b->sim)
        return a->sim > b->sim ? -1 : 1;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return (a->dst > b->dst) - (a->dst < b->dst);
}

static int cmp_pair(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return (a->dst > b->dst) - (a->dst < b->dst);
}

int dg_edges_spanning_forest(dg_edges *e, float *score, dg_err *err)
{
    if (e->n == 0)
        return DG_OK;
    ranked *r = dg_alloc((size_t)e->n, sizeof *r, err);
    int64_t *ids = dg_alloc(2 * (size_t)e->n, sizeof *ids, err);
    dg_uf uf = {0};
    int rc = r && ids ? DG_OK : DG_FAIL;
    int64_t m = 0;
    if (rc == DG_OK) {
        for (int64_t i = 0; i < e->n; i++) {
            r[i] = (ranked){e->src[i], e->dst[i], e->sim[i], score ? score[i] : NAN};
            ids[m++] = e->src[i];
            ids[m++] = e->dst[i];
        }
        m = dg_ids_sort_unique(ids, m);
        rc = dg_uf_init(&uf, m, err);
    }
    if (rc == DG_OK) {
        qsort(r, (size_t)e->n, sizeof *r, cmp_order);
        int64_t k = 0;
        for (int64_t i = 0; i < e->n; i++)
            if (dg_uf_union(&uf, dg_ids_index(ids, m, r[i].src), dg_ids_index(ids, m, r[i].dst)))
                r[k++] = r[i];
        qsort(r, (size_t)k, sizeof *r, cmp_pair);
        for (int64_t i = 0; i < k; i++) {
            e->src[i] = r[i].src;
            e->dst[i] = r[i].dst;
            e->sim[i] = r[i].sim;
            if (score)
                score[i] = r[i].score;
        }
        e->n = k;
    }
    dg_uf_free(&uf);
    free(r);
    free(ids);
    return rc;
}

typedef struct id_row {
    int64_t id, row;
} id_row;

static int cmp_id_row(const void *pa, const void *pb)
{
    const id_row *a = pa, *b = pb;
    if (a->id != b->id)
        return (a->id > b->id) - (a->id < b->id);
    return (a->row > b->row) - (a->row < b->row);
}

int dg_forest_init(dg_forest *f, const int64_t *row_ids, int64_t rows, int d, float certain, dg_err *err)
{
    memset(f, 0, sizeof *f);
    f->certain = certain;
    f->best_slack = dg_block_margin(d, 0);
    size_t n = (size_t)(rows > 0 ? rows : 1);
    id_row *s = dg_alloc(n, sizeof *s, err);
    f->ids = dg_alloc(n, sizeof *f->ids, err);
    f->row_ix = dg_alloc(n, sizeof *f->row_ix, err);
    if (!s || !f->ids || !f->row_ix) {
        free(s);
        dg_forest_free(f);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < rows; i++)
        s[i] = (id_row){row_ids[i], i};
    qsort(s, (size_t)rows, sizeof *s, cmp_id_row);
    for (int64_t i = 0; i < rows; i++) {
        if (f->n_ids == 0 || f->ids[f->n_ids - 1] != s[i].id)
            f->ids[f->n_ids++] = s[i].id;
        f->row_ix[s[i].row] = f->n_ids - 1;
    }
    free(s);
    f->best_sim = dg_alloc((size_t)(f->n_ids > 0 ? f->n_ids : 1), sizeof *f->best_sim, err);
    f->best_id = dg_alloc((size_t)(f->n_ids > 0 ? f->n_ids : 1), sizeof *f->best_id, err);
    if (!f->best_sim || !f->best_id || dg_uf_init(&f->uf, f->n_ids, err) != DG_OK) {
        dg_forest_free(f);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < f->n_ids; i++) {
        f->best_sim[i] = -INFINITY;
        f->best_id[i] = -1;
    }
    return DG_OK;
}

void dg_forest_free(dg_forest *f)
{
    free(f->ids);
    free(f->row_ix);
    free(f->best_sim);
    free(f->best_id);
    dg_uf_free(&f->uf);
    memset(f, 0, sizeof *f);
}

void dg_forest_task_begin(dg_forest *f, const int64_t *ix, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        f->uf.parent[ix[i]] = ix[i];
        f->best_sim[ix[i]] = -INFINITY;
        f->best_id[ix[i]] = -1;
    }
}

int dg_forest_push_best(const dg_forest *f, const int64_t *ix, int64_t n, dg_edges *out, dg_err *err)
{
    for (int64_t k = 0; k < n; k++) {
        int64_t i = ix[k], j = f->best_id[i];
        if (j < 0)
            continue;
        /* a mutual pair is pushed once, from its lower id */
        int64_t jx = dg_ids_index(f->ids, f->n_ids, j);
        if (f->best_id[jx] == f->ids[i] && j < f->ids[i])
            continue;
        if (dg_edges_push(out, f->ids[i], j, f->best_sim[i], err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}
