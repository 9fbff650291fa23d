/* forest.h - graph.edges = forest inside the pair search (forest.c).
 *
 * Each task of a rank's pair search (a whole cluster or one block of a
 * split one, exchange.h) keeps a union-find over its items and pushes an
 * edge only when it joins two of its sets, so a group of g near-copies
 * costs at most g - 1 edges per task instead of g (g - 1) / 2.  Beside it,
 * every item's best match in the task (highest exact similarity, ties to
 * the lowest id) is tracked and pushed as an edge at the task's end: the
 * union of these over tasks and clusterings holds every item's global best
 * match, so /items/best_match is the same as in all mode.
 *
 * Verification: only pairs at or above `certain` (verify.accept_above, which
 * the verifier never rejects; pairs.threshold without verification) are
 * united and tracked; the pairs below it are pushed one by one, to be
 * verified before they join anything.  So no pair a later stage rejects can
 * have stood in for another in the forest.
 */
#ifndef DUPGRAPH_SEARCH_FOREST_H
#define DUPGRAPH_SEARCH_FOREST_H

#include <stdint.h>

#include "dupgraph/common.h"
#include "search/edges.h"

/* Union-find over 0..n-1 (path halving; the larger root joins the smaller,
 * so the result depends only on the order of the unions). */
typedef struct dg_uf {
    int64_t n;
    int64_t *parent;
} dg_uf;

int dg_uf_init(dg_uf *u, int64_t n, dg_err *err);
void dg_uf_free(dg_uf *u);
int64_t dg_uf_find(dg_uf *u, int64_t x);
/* 1 if x and y were in different sets (now joined), else 0. */
int dg_uf_union(dg_uf *u, int64_t x, int64_t y);

/* Keeps the edges of a maximum spanning forest of e (order: higher sim
 * first, then lower (src, dst)), sorted by (src, dst).  The forest is the
 * unique one of that order, so it does not depend on e's order. */
int dg_edges_spanning_forest(dg_edges *e, float *score, dg_err *err);

/* The state of one bucket's forest search.  The union-find and the best
 * matches are started afresh for every task (dg_forest_task_begin), so what
 * a task pushes depends only on its own pairs, never on which other tasks
 * ran before it on the same rank: with a split rule that does not depend on
 * the rank count (exchange.h), the pushed edges and so the final maximum
 * spanning forest are the same for any number of ranks. */
typedef struct dg_forest {
    float certain;    /* pairs at or above are united; below are pushed as they come */
    float best_slack; /* bound on |block similarity - exact| for unit vectors (dg_block_margin) */
    int64_t n_ids;
    int64_t *ids;     /* n_ids distinct ids of the bucket, sorted */
    int64_t *row_ix;  /* bucket row -> index into ids */
    dg_uf uf;
    float *best_sim;  /* n_ids, -inf when none */
    int64_t *best_id; /* n_ids, -1 when none */
} dg_forest;

int dg_forest_init(dg_forest *f, const int64_t *row_ids, int64_t rows, int d, float certain, dg_err *err);
void dg_forest_free(dg_forest *f);
/* Makes each of the indices ix[0..n) (into f->ids) a set of its own with no
 * best match, before a task whose items they are. */
void dg_forest_task_begin(dg_forest *f, const int64_t *ix, int64_t n);
/* Pushes the best match of each of ix[0..n) (once per mutual pair), after
 * the task: the union over tasks holds every item's global best match. */
int dg_forest_push_best(const dg_forest *f, const int64_t *ix, int64_t n, dg_edges *out, dg_err *err);

#endif
