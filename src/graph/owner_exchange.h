/* owner_exchange.h - the bookkeeping of the exchanges between the rank that
 * holds an edge and the owner of its other item (owner_exchange.c), shared
 * by the verification stage and its budget: MPI_Alltoallv counts and
 * displacements, and the other ranks' items an edge list points at. */
#ifndef DUPGRAPH_GRAPH_OWNER_EXCHANGE_H
#define DUPGRAPH_GRAPH_OWNER_EXCHANGE_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "search/edges.h"

/* Per rank: send counts and displacements, receive counts and displacements. */
typedef struct dg_owner_counts {
    int *sc, *sd, *rc, *rd;
} dg_owner_counts;

int dg_owner_counts_alloc(dg_owner_counts *c, int p, dg_err *err);
void dg_owner_counts_free(dg_owner_counts *c);

/* Collective: with the send counts set, exchanges them (MPI_Alltoall), sets
 * both displacements and returns the number of elements to receive. */
int64_t dg_owner_counts_exchange(const dg_ctx *ctx, dg_owner_counts *c);

/* The sorted unique dst ids held by other ranks of the edges with use[i]
 * (use NULL: every edge), and for each edge the index of its dst among
 * them (-1: held here, or not used).  *ids is malloc'd (NULL when *m = 0). */
int dg_remote_ids(const dg_items *items, const dg_edges *e, const unsigned char *use, int64_t **ids, int64_t *m,
                  int64_t *where, dg_err *err);

#endif
