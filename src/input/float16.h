/* float16.h - IEEE binary16 to float32, for embeddings stored as float16.
 *
 * HDF5 1.10 converts float16 with its generic soft conversion, about ten
 * times slower than reading the bytes (measured: 15 s instead of 1.3 s for
 * 1M x 64 on 2 ranks), so embeddings.c reads the raw halves and widens them
 * here. */
#ifndef DG_INPUT_FLOAT16_H
#define DG_INPUT_FLOAT16_H

#include <stddef.h>
#include <stdint.h>

/* out[i] = the exact float32 value of the binary16 in[i] (NaN payloads
 * kept in the high mantissa bits), for i = 0 .. n-1 in order.  In-place use
 * where `in` is the second half of `out`'s bytes ((const uint16_t *)out +
 * n) is allowed: element i is read before any write reaches it. */
void dg_half_to_float(const uint16_t *in, float *out, size_t n);

#endif
