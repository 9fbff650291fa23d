/* compare.h - recall and precision of one output's edges against another's
 * (typically `run` against `exact`).
 *
 * Rule "edges" (both files graph.edges = all): the edge lists are matched.
 * Rule "components" (either file graph.edges = forest, whose /edges is a
 * spanning forest of its pairs, not every pair): what both files guarantee
 * is compared instead, their /items/component.  Recall is then the share of
 * B's edges whose two items share a component in A (at least the edge
 * recall, since a missed pair may still be joined through others), precision
 * the share of A's edges joined in B, and the partitions are compared pair
 * by pair: pairs of items together in one file and apart in the other. */
#ifndef DUPGRAPH_COMPARE_H
#define DUPGRAPH_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "search/edges.h"

typedef struct dg_edge_match {
    int64_t a, b, both; /* edges in A, in B, in both */
    double recall;      /* both / b (1 when B is empty) */
    double precision;   /* both / a (1 when A is empty) */
    double max_sim_diff;/* largest |sim_A - sim_B| over shared edges */
} dg_edge_match;

/* Both edge lists sorted and unique (as stored in output files). */
void dg_compare_edges(const dg_edges *a, const dg_edges *b, dg_edge_match *out);

/* Edges of e whose two items have the same component label (component has
 * n entries; an edge with an id outside [0, n) counts as apart). */
int64_t dg_compare_edges_joined(const dg_edges *e, const int64_t *component, int64_t n);

/* Two labellings of the same n items compared as partitions. */
typedef struct dg_partition_match {
    int64_t pairs_a, pairs_b;  /* pairs of items in one component of A, of B */
    int64_t pairs_both;        /* ... of both */
    int64_t items_differ;      /* items whose component label differs */
} dg_partition_match;

int dg_compare_partitions(const int64_t *comp_a, const int64_t *comp_b, int64_t n, dg_partition_match *out,
                          dg_err *err);

/* Reads both files and prints the match as `key: value` lines: rule
 * "edges" prints edges_a/b/both, recall, precision and max_sim_diff, as
 * always; rule "components" starts with `rule: components` and which files
 * are forests, and adds the partition figures. */
int dg_compare_files(const char *path_a, const char *path_b, FILE *out, dg_err *err);

#endif
