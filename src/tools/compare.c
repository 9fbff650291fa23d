/* compare.c - matching two sorted edge lists: the recall of the clustered
 * search against the exact one, and the check that it has no false edge. */
#include "tools/compare.h"

#include <math.h>

#include "io/h5_columns.h"

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

int dg_compare_files(const char *path_a, const char *path_b, FILE *out, dg_err *err)
{
    dg_edges a = {0}, b = {0};
    int rc = dg_h5_read_edges(path_a, &a, err);
    if (rc == DG_OK)
        rc = dg_h5_read_edges(path_b, &b, err);
    if (rc == DG_OK) {
        dg_edge_match m;
        dg_compare_edges(&a, &b, &m);
        fprintf(out, "edges_a: %lld\nedges_b: %lld\nedges_both: %lld\n", (long long)m.a, (long long)m.b,
                (long long)m.both);
        fprintf(out, "recall: %.6f\nprecision: %.6f\nmax_sim_diff: %.3g\n", m.recall, m.precision,
                m.max_sim_diff);
    }
    dg_edges_free(&a);
    dg_edges_free(&b);
    return rc;
}
