/* decode_ref.c - each image library's plain decode, as its documentation
 * shows it (decode_ref.h).  The only buffer is the output, grown as needed,
 * so a timed loop measures the library, not malloc. */
#include "bench/decode_ref.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>

int dg_ref_init(dg_ref_decoder *d, dg_err *err)
{
    memset(d, 0, sizeof *d);
    d->tj = tjInitDecompress();
    if (!d->tj)
        return dg_fail(err, "cannot create a libjpeg-turbo decompressor: %s", tjGetErrorStr2(NULL));
    return DG_OK;
}

void dg_ref_free(dg_ref_decoder *d)
{
    if (d->tj)
        tjDestroy(d->tj);
    free(d->pix);
    memset(d, 0, sizeof *d);
}

static int grow(dg_ref_decoder *d, size_t bytes, dg_err *err)
{
    if (bytes <= d->cap)
        return DG_OK;
    unsigned char *nb = realloc(d->pix, bytes);
    if (!nb)
        return dg_fail(err, "out of memory (%zu bytes)", bytes);
    d->pix = nb;
    d->cap = bytes;
    return DG_OK;
}

int dg_ref_jpeg(dg_ref_decoder *d, const uint8_t *buf, size_t len, int fit_w, int fit_h, int *w, int *h,
                dg_err *err)
{
    int sub = 0, cs = 0;
    if (tjDecompressHeader3(d->tj, buf, (unsigned long)len, w, h, &sub, &cs) != 0)
        return dg_fail(err, "JPEG header: %s", tjGetErrorStr2(d->tj));
    if (fit_w > 0 && fit_h > 0) {
        int n = 0;
        tjscalingfactor *sf = tjGetScalingFactors(&n);
        for (int i = 0; sf && i < n; i++) /* largest first */
            if (TJSCALED(*w, sf[i]) <= fit_w && TJSCALED(*h, sf[i]) <= fit_h) {
                *w = TJSCALED(*w, sf[i]);
                *h = TJSCALED(*h, sf[i]);
                break;
            }
    }
    if (grow(d, (size_t)*w * (size_t)*h * 3, err) != DG_OK)
        return DG_FAIL;
    if (tjDecompress2(d->tj, buf, (unsigned long)len, d->pix, *w, 0, *h, TJPF_RGB, TJFLAG_FASTUPSAMPLE) != 0)
        return dg_fail(err, "JPEG data: %s", tjGetErrorStr2(d->tj));
    return DG_OK;
}

static int png_decode(dg_ref_decoder *d, spng_ctx *ctx, const uint8_t *buf, size_t len, int *w, int *h, dg_err *err)
{
    struct spng_ihdr ihdr;
    size_t bytes = 0;
    int rc = spng_set_png_buffer(ctx, buf, len);
    if (rc == 0)
        rc = spng_get_ihdr(ctx, &ihdr);
    if (rc == 0)
        rc = spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &bytes);
    if (rc != 0)
        return dg_fail(err, "PNG header: %s", spng_strerror(rc));
    if (grow(d, bytes, err) != DG_OK)
        return DG_FAIL;
    rc = spng_decode_image(ctx, d->pix, bytes, SPNG_FMT_RGB8, 0);
    if (rc != 0)
        return dg_fail(err, "PNG data: %s", spng_strerror(rc));
    *w = (int)ihdr.width;
    *h = (int)ihdr.height;
    return DG_OK;
}

int dg_ref_png(dg_ref_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, dg_err *err)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return dg_fail(err, "cannot create a libspng context");
    int rc = png_decode(d, ctx, buf, len, w, h, err);
    spng_ctx_free(ctx);
    return rc;
}

int dg_ref_webp(dg_ref_decoder *d, const uint8_t *buf, size_t len, int *w, int *h, dg_err *err)
{
    if (!WebPGetInfo(buf, len, w, h))
        return dg_fail(err, "WebP header not understood");
    size_t bytes = (size_t)*w * (size_t)*h * 3;
    if (grow(d, bytes, err) != DG_OK)
        return DG_FAIL;
    if (!WebPDecodeRGBInto(buf, len, d->pix, bytes, *w * 3))
        return dg_fail(err, "WebP data cannot be decoded");
    return DG_OK;
}
