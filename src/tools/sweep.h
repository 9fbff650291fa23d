/* sweep.h - how many items a stricter edge rule would remove (sweep.c):
 * the "around the threshold" table of `dupgraph report`.
 *
 * A rule keeps an edge when its similarity is at least min_sim and, for an
 * edge the verifier scored, its score is at least min_verify, or at least
 * agree_verify when its similarity reaches agree_sim (verify.agree_above);
 * an edge accepted on its similarity alone (verify NAN:
 * verify.accept_above, or no verification) stands on min_sim only.  The items a rule removes are the
 * joins that succeed when its edges are added to a union-find over the
 * items: a component of c usable items keeps one and removes c - 1.  Only
 * rules stricter than the run's can be counted: weaker edges are not in the
 * file.  Memory: 8 bytes per item.
 */
#ifndef DUPGRAPH_TOOLS_SWEEP_H
#define DUPGRAPH_TOOLS_SWEEP_H

#include <stdint.h>

#include "dupgraph/common.h"

typedef struct dg_edge_rule {
    float min_sim;
    float min_verify; /* NAN or <= 0: the verifier's score is not looked at */
    float agree_sim, agree_verify; /* agree_sim NAN or <= 0: no such second way in */
} dg_edge_rule;

int dg_edge_rule_keeps(const dg_edge_rule *rule, float sim, float verify);

/* One pass over a block of edges for one rule: the joins the rule's edges
 * make in `parent` (n items; start with dg_sweep_reset).  Edges the rule
 * drops but `looser` keeps are offered to `dropped(arg, src, dst, sim,
 * verify)` when given (the report samples them). */
typedef void (*dg_sweep_dropped)(void *arg, int64_t src, int64_t dst, float sim, float verify);

void dg_sweep_reset(int64_t *parent, int64_t n);
int64_t dg_sweep_block(int64_t *parent, const int64_t *src, const int64_t *dst, const float *sim, const float *verify,
                       int64_t count, const dg_edge_rule *rule, const dg_edge_rule *looser, dg_sweep_dropped dropped,
                       void *arg);

/* ---- the table over an output file ------------------------------------- */

#define DG_SWEEP_SAMPLE 3

typedef struct dg_sweep_pair {
    int64_t a, b;
    float sim, verify;
    uint64_t hash;
} dg_sweep_pair;

/* One rule's figures: the edges it keeps, the items it removes, and up to
 * DG_SWEEP_SAMPLE of the edges it drops that the row before it kept (the
 * pairs with the smallest hash of their ids: the same on every run). */
typedef struct dg_sweep_row {
    dg_edge_rule rule;
    int64_t edges, removed;
    int n_dropped;
    dg_sweep_pair dropped[DG_SWEEP_SAMPLE];
} dg_sweep_row;

/* Fills rows[i].edges, .removed and .dropped for rows[i].rule, i from
 * `first` (rows before it are already counted), each row stricter than the
 * one before, from the output file at path (n_items items, n_edges edges),
 * reading the edges once per row in bounded chunks. */
int dg_sweep_file(const char *path, int64_t n_items, int64_t n_edges, dg_sweep_row *rows, int first, int n_rows,
                  dg_err *err);

#endif
