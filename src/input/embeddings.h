/* embeddings.h - input.embeddings: HDF5 datasets of precomputed vectors in
 * one or more files (a list, glob patterns, virtual datasets; see
 * emb_sources.h), each rank reading its own rows (embeddings.c). */
#ifndef DUPGRAPH_INPUT_EMBEDDINGS_H
#define DUPGRAPH_INPUT_EMBEDDINGS_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/emb_sources.h"

/* Expands spec (input.embeddings) and checks that every file holds
 * `dataset` as a 2-D float32/float16 dataset of one D; a virtual dataset
 * becomes its sources.  Any rank may call it (no MPI-IO).  The reason names
 * the file and dataset when it fails. */
int dg_h5_probe_sources(const char *spec, const char *dataset, dg_emb_sources *s, dg_err *err);
/* The same, giving only the total shape. */
int dg_h5_probe_embeddings(const char *spec, const char *dataset, int64_t *n, int *d, dg_err *err);
/* Collective: rank 0 probes, every rank receives the list. */
int dg_h5_embeddings_sources(const dg_ctx *ctx, const char *spec, const char *dataset, dg_emb_sources *s,
                             dg_err *err);

/* Collective: each rank reads its own row range (dg_range_lo) as hyperslabs
 * of the segments it overlaps and normalises it (dg_items_normalize). */
int dg_h5_read_sources(const dg_ctx *ctx, const dg_emb_sources *s, dg_items *items, dg_err *err);
/* Both steps for spec. */
int dg_h5_read_embeddings(const dg_ctx *ctx, const char *spec, const char *dataset, dg_items *items,
                          dg_err *err);

#endif
