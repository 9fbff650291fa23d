/* compare.c - matching two sorted edge lists: the recall of the clustered
 * search against the exact one, and the check that it has no false edge;
 * with a forest-mode file, the same by components (compare.h). */
#include "tools/compare.h"

#include <math.h>
#include <stdlib.h>

#include "io/h5_columns.h"
#include "io/h5_file.h"

void dg_compare_edges(const dg_edges *a, const dg_edges *b, dg_edge_match *out)
{
    int64_t i = 0, j = 0, both = 0;
    double diff = 0.0;
    while (i < a->n && j < b->n) {
        if (a->src[i] == b->src[j] && a->dst[i] == b->dst[j]) {
            double d = fabs((double)a->sim[i] - (double)b->sim[j]);
            if (d > diff)
                diff = d;
            both++;
            i++;
            j++;
        } else if (a->src[i] < b->src[j] || (a->src[i] == b->src[j] && a->dst[i] < b->dst[j])) {
            i++;
        } else {
            j++;
        }
    }
    out->a = a->n;
    out->b = b->n;
    out->both = both;
    out->recall = b->n ? (double)both / (double)b->n : 1.0;
    out->precision = a->n ? (double)both / (double)a->n : 1.0;
    out->max_sim_diff = diff;
}

int64_t dg_compare_edges_joined(const dg_edges *e, const int64_t *component, int64_t n)
{
    int64_t joined = 0;
    for (int64_t i = 0; i < e->n; i++) {
        int64_t u = e->src[i], v = e->dst[i];
        if (u >= 0 && u < n && v >= 0 && v < n && component[u] == component[v])
            joined++;
    }
    return joined;
}

typedef struct label_pair {
    int64_t x, y;
} label_pair;

static int by_x_then_y(const void *p, const void *q)
{
    const label_pair *a = p, *b = q;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->y > b->y) - (a->y < b->y);
}

/* Over pairs sorted by (x, y): the item pairs sharing x (*same_x) and
 * sharing both (*same_xy): a run of r equal keys holds r (r - 1) / 2. */
static void count_runs(const label_pair *p, int64_t n, int64_t *same_x, int64_t *same_xy)
{
    *same_x = *same_xy = 0;
    for (int64_t i = 0, rx = 0, rxy = 0; i < n; i++) {
        rx = i > 0 && p[i].x == p[i - 1].x ? rx + 1 : 0;
        rxy = rx > 0 && p[i].y == p[i - 1].y ? rxy + 1 : 0;
        *same_x += rx;
        *same_xy += rxy;
    }
}

int dg_compare_partitions(const int64_t *comp_a, const int64_t *comp_b, int64_t n, dg_partition_match *out,
                          dg_err *err)
{
    *out = (dg_partition_match){0};
    label_pair *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p)
        return dg_failc(err, DG_E_MEMORY, "compare: no memory for %lld component labels", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        p[i] = (label_pair){comp_a[i], comp_b[i]};
        out->items_differ += comp_a[i] != comp_b[i];
    }
    qsort(p, (size_t)n, sizeof *p, by_x_then_y);
    count_runs(p, n, &out->pairs_a, &out->pairs_both);
    for (int64_t i = 0; i < n; i++)
        p[i] = (label_pair){comp_b[i], comp_a[i]};
    qsort(p, (size_t)n, sizeof *p, by_x_then_y);
    int64_t both = 0;
    count_runs(p, n, &out->pairs_b, &both);
    free(p);
    return DG_OK;
}

/* /items/component of a file of n items, malloc'd into *out. */
static int read_components(const char *path, int64_t n, int64_t **out, dg_err *err)
{
    *out = malloc((size_t)(n > 0 ? n : 1) * sizeof **out);
    if (!*out)
        return dg_failc(err, DG_E_MEMORY, "compare: no memory for %lld components", (long long)n);
    return n > 0 ? dg_h5_read_item_column(path, "component", 0, n, DG_H5_INT64, *out, err) : DG_OK;
}

/* Rule "components": see compare.h. */
static int compare_components(const char *path_a, const char *path_b, const dg_h5_facts *fa, const dg_h5_facts *fb,
                              const dg_edges *a, const dg_edges *b, FILE *out, dg_err *err)
{
    if (fa->n_items != fb->n_items)
        return dg_failc(err, DG_E_INPUT, "compare: %s has %lld items but %s has %lld: components cannot be compared",
                        path_a, (long long)fa->n_items, path_b, (long long)fb->n_items);
    int64_t n = fa->n_items, *ca = NULL, *cb = NULL;
    dg_partition_match pm;
    int rc = read_components(path_a, n, &ca, err);
    if (rc == DG_OK)
        rc = read_components(path_b, n, &cb, err);
    if (rc == DG_OK)
        rc = dg_compare_partitions(ca, cb, n, &pm, err);
    if (rc == DG_OK) {
        dg_edge_match m;
        dg_compare_edges(a, b, &m);
        int64_t b_in_a = dg_compare_edges_joined(b, ca, n), a_in_b = dg_compare_edges_joined(a, cb, n);
        const char *forests = fa->settings.forest && fb->settings.forest ? "a b" : fa->settings.forest ? "a" : "b";
        fprintf(out, "rule: components\nforest: %s\n", forests);
        fprintf(out, "edges_a: %lld\nedges_b: %lld\nedges_both: %lld\n", (long long)m.a, (long long)m.b,
                (long long)m.both);
        fprintf(out, "edges_b_joined_in_a: %lld\nedges_a_joined_in_b: %lld\n", (long long)b_in_a, (long long)a_in_b);
        fprintf(out, "recall: %.6f\nprecision: %.6f\nmax_sim_diff: %.3g\n",
                m.b ? (double)b_in_a / (double)m.b : 1.0, m.a ? (double)a_in_b / (double)m.a : 1.0, m.max_sim_diff);
        fprintf(out, "items: %lld\nitems_component_differs: %lld\n", (long long)n, (long long)pm.items_differ);
        fprintf(out, "pairs_together_a: %lld\npairs_together_b: %lld\n", (long long)pm.pairs_a,
                (long long)pm.pairs_b);
        fprintf(out, "pairs_together_a_apart_b: %lld\npairs_together_b_apart_a: %lld\n",
                (long long)(pm.pairs_a - pm.pairs_both), (long long)(pm.pairs_b - pm.pairs_both));
    }
    free(ca);
    free(cb);
    return rc;
}

int dg_compare_files(const char *path_a, const char *path_b, FILE *out, dg_err *err)
{
    dg_h5_facts fa, fb;
    if (dg_h5_read_facts(path_a, &fa, err) != DG_OK)
        return DG_FAIL;
    if (dg_h5_read_facts(path_b, &fb, err) != DG_OK) {
        dg_h5_facts_free(&fa);
        return DG_FAIL;
    }
    dg_edges a = {0}, b = {0};
    int rc = dg_h5_read_edges(path_a, &a, err);
    if (rc == DG_OK)
        rc = dg_h5_read_edges(path_b, &b, err);
    if (rc == DG_OK && (fa.settings.forest || fb.settings.forest)) {
        rc = compare_components(path_a, path_b, &fa, &fb, &a, &b, out, err);
    } else if (rc == DG_OK) {
        dg_edge_match m;
        dg_compare_edges(&a, &b, &m);
        fprintf(out, "edges_a: %lld\nedges_b: %lld\nedges_both: %lld\n", (long long)m.a, (long long)m.b,
                (long long)m.both);
        fprintf(out, "recall: %.6f\nprecision: %.6f\nmax_sim_diff: %.3g\n", m.recall, m.precision,
                m.max_sim_diff);
    }
    dg_edges_free(&a);
    dg_edges_free(&b);
    dg_h5_facts_free(&fa);
    dg_h5_facts_free(&fb);
    return rc;
}
