/* edges.h - a growable list of duplicate pairs, and sorted lists of the
 * item ids they hold (edges.c). */
#ifndef DUPGRAPH_SEARCH_EDGES_H
#define DUPGRAPH_SEARCH_EDGES_H

#include <stdint.h>

#include "dupgraph/common.h"

/* A growable list of edges, src < dst. */
typedef struct dg_edges {
    int64_t n;
    int64_t cap;
    int64_t *src;
    int64_t *dst;
    float *sim;
} dg_edges;

int dg_edges_push(dg_edges *e, int64_t a, int64_t b, float sim, dg_err *err); /* orders a, b */
void dg_edges_free(dg_edges *e);
/* Sorts by (src, dst) and drops repeated pairs.  Similarities of a pair
 * found twice are equal (they are re-scored exactly), so which copy stays
 * does not matter. */
int dg_edges_sort_unique(dg_edges *e, dg_err *err);

/* Item id lists: sorts ids[0..m) and drops repeats, returning the new
 * length; the index of id in sorted unique ids[0..n), or -1. */
int64_t dg_ids_sort_unique(int64_t *ids, int64_t m);
int64_t dg_ids_index(const int64_t *ids, int64_t n, int64_t id);

#endif
