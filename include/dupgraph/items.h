/* items.h - the items one rank holds: its contiguous share of the corpus
 * with one L2-normalised vector and one status per item.
 *
 * Owned memory: every pointer is malloc'd by whoever fills the struct and
 * released by dg_items_free.  Rows of unusable items are all zero.
 */
#ifndef DUPGRAPH_ITEMS_H
#define DUPGRAPH_ITEMS_H

#include <stdint.h>

#include "dupgraph/common.h"

typedef struct dg_items {
    int64_t n_total; /* N over all ranks */
    int64_t lo;      /* global id of the first item held here */
    int64_t n;       /* items held here */
    int d;           /* vector dimension */
    float *vec;      /* n x d */
    int8_t *status;  /* n, dg_status */
    int32_t *width;  /* n, image size; 0 for embedding input (may be NULL) */
    int32_t *height; /* n (may be NULL) */
    char **path;     /* n paths of image input (may be NULL) */
    uint8_t *sig;    /* n x DG_SIG_BYTES verification signatures (input/signature.h);
                        NULL without verification or pixels; zeros for unusable items */
} dg_items;

/* Allocates vec/status (and width/height/path when with_images) for n items. */
int dg_items_alloc(dg_items *items, int64_t n_total, int64_t lo, int64_t n, int d, int with_images,
                   dg_err *err);
void dg_items_free(dg_items *items);

/* L2-normalises every row in place; rows with NaN/Inf or zero norm get
 * DG_ST_BAD_VECTOR and are zeroed; rows already unusable are zeroed.
 * Returns the number of rows newly marked DG_ST_BAD_VECTOR. */
int64_t dg_items_normalize(dg_items *items);

#endif
