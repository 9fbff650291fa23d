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

void dg_owner_counts_free(dg_owner_counts *c);

/* Collective: c (allocated here) for sending ids[0..k) (sorted, so grouped
 * by owner) to their owners, exchanged (MPI_Alltoall), with both
 * displacements; *nrecv the number of ids this rank receives.  rc: this
 * rank's state so far (DG_FAIL when its own preparation failed); returns
 * the state agreed by every rank, c freed on failure. */
int dg_owner_counts_for(const dg_ctx *ctx, int rc, int64_t n_total, const int64_t *ids, int64_t k,
                        dg_owner_counts *c, int64_t *nrecv, dg_err *err);

/* The sorted unique dst ids held by other ranks of the edges with use[i]
 * (use NULL: every edge), and for each edge the index of its dst among
 * them (-1: held here, or not used).  *ids is malloc'd (NULL when *m = 0). */
int dg_remote_ids(const dg_items *items, const dg_edges *e, const unsigned char *use, int64_t **ids, int64_t *m,
                  int64_t *where, dg_err *err);

#endif
