/* compare.h - recall and precision of one output's edges against another's
 * (typically `run` against `exact`). */
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

/* Reads both files' edges and prints the match as `key: value` lines. */
int dg_compare_files(const char *path_a, const char *path_b, FILE *out, dg_err *err);

#endif
