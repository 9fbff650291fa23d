/* emb_sources.h - where the rows of input.embeddings come from
 * (emb_sources.c): the value names one or more HDF5 files, as a
 * comma-separated list whose entries may be glob(3) patterns (each expanded
 * in sorted order, no match is an error), and the items are the rows of
 * every file's dataset in file order, then row order.  A file's dataset may
 * be a virtual dataset (VDS) that the reader resolves into its source
 * datasets (embeddings.c), so the list below is one of segments: blocks of
 * rows of one plain dataset each.  Rank 0 builds it (probe), the others
 * receive it (dg_emb_sources_bcast), so every rank reads the same list
 * whatever the file system shows it.
 */
#ifndef DUPGRAPH_INPUT_EMB_SOURCES_H
#define DUPGRAPH_INPUT_EMB_SOURCES_H

#include <stdint.h>

#include "dupgraph/context.h"

/* Rows [lo, lo + rows) of the input are rows [src_lo, src_lo + rows) of
 * `dataset` in `path` (a plain dataset: contiguous, chunked, compact or
 * external). */
typedef struct dg_emb_segment {
    char *path;
    char *dataset;
    int64_t src_lo;
    int64_t lo, rows;
} dg_emb_segment;

typedef struct dg_emb_sources {
    int n_inputs;
    char **inputs;       /* the files as listed, in id order (/inputs/path) */
    int64_t *input_lo;   /* n_inputs + 1: first id of each file, then N */
    int n_segments;
    dg_emb_segment *seg; /* in id order, tiling [0, N) */
    int n_deps;
    char **deps;         /* every file the rows depend on, for the checkpoint's identity */
    int64_t n_total;
    int d;
} dg_emb_sources;

/* The value of input.embeddings as a list of files (local; no HDF5): each
 * comma-separated entry is a path, or a glob pattern when it holds * ? or [.
 * Fails with DG_E_INPUT on a pattern without match, DG_E_CONFIG on an empty
 * entry or a file listed twice. */
int dg_emb_expand(const char *spec, char ***files, int *n_files, dg_err *err);
void dg_emb_free_strings(char **s, int n);

/* Appends to the lists (local); the strings are copied. */
int dg_emb_sources_add_input(dg_emb_sources *s, const char *path, int64_t rows, dg_err *err);
int dg_emb_sources_add_segment(dg_emb_sources *s, const char *path, const char *dataset, int64_t src_lo,
                               int64_t rows, dg_err *err);
int dg_emb_sources_add_dep(dg_emb_sources *s, const char *path, dg_err *err);

/* Collective: rank 0's list (built when rc is DG_OK there) is copied to every
 * rank; rc is agreed first. */
int dg_emb_sources_bcast(const dg_ctx *ctx, dg_emb_sources *s, int rc, dg_err *err);

/* The index of the listed file that holds id (0 <= id < N). */
int dg_emb_sources_input_of(const dg_emb_sources *s, int64_t id);

void dg_emb_sources_free(dg_emb_sources *s);

#endif
