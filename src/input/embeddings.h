/* embeddings.h - input.embeddings: an HDF5 dataset of precomputed vectors,
 * each rank reading its own rows (embeddings.c). */
#ifndef DUPGRAPH_INPUT_EMBEDDINGS_H
#define DUPGRAPH_INPUT_EMBEDDINGS_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"

/* Checks that path holds `dataset` as a 2-D float32/float16 dataset and
 * returns its shape; any rank may call it (no MPI-IO).  The reason names the
 * file and dataset when it fails. */
int dg_h5_probe_embeddings(const char *path, const char *dataset, int64_t *n, int *d, dg_err *err);

/* Collective: each rank reads its own row range as a hyperslab and
 * normalises it (dg_items_normalize). */
int dg_h5_read_embeddings(const dg_ctx *ctx, const char *path, const char *dataset, dg_items *items,
                          dg_err *err);

#endif
