/* decode_ref.h - the image libraries' own plain decode of bytes in memory,
 * without the job's checks, reduction or alpha handling (decode_ref.c): what
 * dg-decode-bench sets the job's decoder (input/decode.h) against.  To
 * 8-bit RGB in a buffer reused from call to call; not part of libdupgraph. */
#ifndef DUPGRAPH_BENCH_DECODE_REF_H
#define DUPGRAPH_BENCH_DECODE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"

typedef struct dg_ref_decoder {
    void *tj;           /* tjhandle */
    unsigned char *pix; /* the last image's pixels */
    size_t cap;
} dg_ref_decoder;

int dg_ref_init(dg_ref_decoder *d, dg_err *err);
void dg_ref_free(dg_ref_decoder *d);

/* libjpeg-turbo: tjDecompressHeader3 + tjDecompress2 to RGB with the job's
 * flags (TJFLAG_FASTUPSAMPLE), at full size, or with fit_w, fit_h > 0 at
 * the largest DCT scale that fits in fit_w x fit_h (the job's decoded size
 * gives the job's scale).  The decoded size goes to *w, *h. */
int dg_ref_jpeg(dg_ref_decoder *d, const uint8_t *buf, size_t len, int fit_w, int fit_h, int *w, int *h,
                dg_err *err);
/* libspng: spng_decode_image to SPNG_FMT_RGB8 at full size, one context per call. */
int dg_ref_png(dg_ref_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, dg_err *err);
/* libwebp: WebPGetInfo + WebPDecodeRGBInto at full size. */
int dg_ref_webp(dg_ref_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, dg_err *err);

#endif
