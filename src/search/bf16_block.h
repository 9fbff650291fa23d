/* bf16_block.h - a block of similarities computed in bfloat16.
 *
 * The pair search's inner product of a block of rows with a block of
 * columns, with both rounded to bfloat16 (8 significant bits) and multiplied
 * by AVX512-BF16 (VDPBF16PS: two products summed into each float32 lane).
 * A similarity of vectors of norm <= 1 is then off by at most
 * dg_bf16_margin(d); the pair search widens its candidate margin to that and
 * re-scores every candidate in double, so its edges and similarities are
 * the same as with sgemm (search/pairs.c).
 *
 * Layouts: rows are packed as pairs of bfloat16 (one uint32 per two
 * dimensions, odd d padded with a zero), DG_BF16_MR rows per tile; columns
 * as panels of DG_BF16_NR columns, dimension pair by dimension pair.  Rows
 * and columns are padded with zero vectors to whole tiles and panels, so
 * the product is dg_bf16_rows(nr) x dg_bf16_cols(nc) floats.
 */
#ifndef DUPGRAPH_SEARCH_BF16_BLOCK_H
#define DUPGRAPH_SEARCH_BF16_BLOCK_H

#include <stdint.h>

#include "dupgraph/common.h"
#include "dupgraph/config.h"

enum { DG_BF16_MR = 6, DG_BF16_NR = 32 };

/* Whether this CPU has AVX512-BF16 (the kernel's only requirement). */
int dg_bf16_available(void);

/* job.precision resolved for this CPU: *use = 1 for bfloat16 (auto where
 * the CPU has AVX512-BF16); bfloat16 on a CPU without it is refused
 * (DG_E_CONFIG). */
int dg_bf16_resolve(dg_precision precision, int *use, dg_err *err);

/* Bound on |bfloat16 similarity - exact similarity| for vectors of norm at
 * most 1 (a little over) in d dimensions. */
float dg_bf16_margin(int d);

/* Bound on |block similarity - exact similarity| for unit vectors in d
 * dimensions: dg_bf16_margin(d) with bfloat16, else sgemm's float32 bound. */
float dg_block_margin(int d, int bfloat16);

/* Rows and columns after padding to whole tiles and panels. */
int64_t dg_bf16_rows(int64_t n);
int64_t dg_bf16_cols(int64_t n);

/* uint32 words one packed vector of d dimensions takes. */
int dg_bf16_words(int d);

/* Packs n rows (row-major, n x d floats) into dg_bf16_rows(n) x
 * dg_bf16_words(d) words.  Requires dg_bf16_available(). */
void dg_bf16_pack_rows(const float *x, int64_t n, int d, uint32_t *out);

/* Packs n columns (row-major, n x d floats) into dg_bf16_cols(n) x
 * dg_bf16_words(d) words.  Requires dg_bf16_available(). */
void dg_bf16_pack_cols(const float *x, int64_t n, int d, uint32_t *out);

/* sims[i * ld + j] = row i . column j for i < dg_bf16_rows(nr), j <
 * dg_bf16_cols(nc), with ld >= dg_bf16_cols(nc).  Requires
 * dg_bf16_available(). */
void dg_bf16_block(const uint32_t *rows, int64_t nr, const uint32_t *cols, int64_t nc, int d, float *sims,
                   int64_t ld);

#endif
