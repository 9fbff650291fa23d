/* recode.c - one RGB image to JPEG, PNG or WebP bytes in memory (recode.h).
 * The encoders' own defaults otherwise: libspng's zlib level and filter
 * choice, libwebp's simple API (method 4). */
#include "bench/recode.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <webp/encode.h>

const char *dg_recode_name(dg_recode_format f)
{
    static const char *names[DG_RECODE_COUNT] = {"jpeg", "png", "webp_lossless", "webp_lossy"};
    return (unsigned)f < DG_RECODE_COUNT ? names[f] : "?";
}

static int encode_png(const dg_image *im, uint8_t **out, size_t *len, dg_err *err)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    if (!ctx)
        return dg_fail(err, "cannot create a libspng encoder");
    struct spng_ihdr ihdr = {.width = (uint32_t)im->w, .height = (uint32_t)im->h, .bit_depth = 8,
                             .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
    size_t bytes = (size_t)im->w * (size_t)im->h * 3;
    int rc = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    if (rc == 0)
        rc = spng_set_ihdr(ctx, &ihdr);
    if (rc == 0)
        rc = spng_encode_image(ctx, im->px, bytes, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (rc == 0)
        *out = spng_get_png_buffer(ctx, len, &rc); /* ours now: allocated with malloc */
    spng_ctx_free(ctx);
    if (rc != 0)
        return dg_fail(err, "PNG encoding: %s", spng_strerror(rc));
    return DG_OK;
}

static int encode_webp(const dg_image *im, int lossless, uint8_t **out, size_t *len, dg_err *err)
{
    uint8_t *webp = NULL;
    int stride = im->w * 3;
    size_t n = lossless ? WebPEncodeLosslessRGB(im->px, im->w, im->h, stride, &webp)
                        : WebPEncodeRGB(im->px, im->w, im->h, stride, DG_RECODE_WEBP_QUALITY, &webp);
    if (n == 0) {
        WebPFree(webp);
        return dg_fail(err, "WebP encoding of %d x %d pixels failed", im->w, im->h);
    }
    *out = malloc(n); /* libwebp's buffer is freed with WebPFree: hand out a plain one */
    if (*out)
        memcpy(*out, webp, n);
    WebPFree(webp);
    if (!*out)
        return dg_fail(err, "out of memory (%zu bytes)", n);
    *len = n;
    return DG_OK;
}

int dg_recode(dg_jpeg_codec *codec, const dg_image *im, dg_recode_format f, uint8_t **out, size_t *len,
              dg_err *err)
{
    *out = NULL;
    *len = 0;
    switch (f) {
    case DG_RECODE_JPEG: return dg_jpeg_encode(codec, im, DG_RECODE_JPEG_QUALITY, 0, out, len, err);
    case DG_RECODE_PNG: return encode_png(im, out, len, err);
    case DG_RECODE_WEBP_LOSSLESS: return encode_webp(im, 1, out, len, err);
    case DG_RECODE_WEBP_LOSSY: return encode_webp(im, 0, out, len, err);
    default: return dg_fail(err, "unknown format %d", (int)f);
    }
}
