/* recode.h - a benchmark photo saved again in each format the job reads
 * (recode.c): JPEG with libjpeg-turbo (through raster.h), PNG with libspng,
 * WebP lossless and lossy with libwebp, all to memory.  For dg-decode-bench
 * and its test; not part of libdupgraph. */
#ifndef DUPGRAPH_BENCH_RECODE_H
#define DUPGRAPH_BENCH_RECODE_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "tools/raster.h"

#define DG_RECODE_JPEG_QUALITY 90 /* 4:2:0, as dg-mkbench saves */
#define DG_RECODE_WEBP_QUALITY 85

typedef enum dg_recode_format {
    DG_RECODE_JPEG = 0,
    DG_RECODE_PNG,
    DG_RECODE_WEBP_LOSSLESS,
    DG_RECODE_WEBP_LOSSY,
    DG_RECODE_COUNT
} dg_recode_format;

/* "jpeg", "png", "webp_lossless", "webp_lossy". */
const char *dg_recode_name(dg_recode_format f);

/* im encoded as f into a malloc'd *out of *len bytes (free with free()). */
int dg_recode(dg_jpeg_codec *codec, const dg_image *im, dg_recode_format f, uint8_t **out, size_t *len,
              dg_err *err);

#endif
