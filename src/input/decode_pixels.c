/* decode_pixels.c - the steps every image format shares after its own
 * decoder (decode_format.h): the status and reason of a result, the
 * decoder's growing pixel buffer, the header size check, and the pixel
 * work for formats without a scaled decode: alpha over a white background
 * and the area-average reduction to the embedder's working size. */
#include "input/decode_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dg_status dg_decode_set(dg_decode_result *res, dg_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
    res->status = st;
    return st;
}

int dg_decode_grow(dg_decoder *dec, size_t bytes)
{
    if (bytes <= dec->pix_cap)
        return DG_OK;
    unsigned char *nb = realloc(dec->pix, bytes);
    if (!nb)
        return DG_FAIL;
    dec->pix = nb;
    dec->pix_cap = bytes;
    return DG_OK;
}

dg_status dg_decode_check_size(const dg_decoder *dec, int w, int h, dg_decode_result *res)
{
    res->width = w;
    res->height = h;
    if (dec->max_pixels > 0 && (int64_t)w * h > dec->max_pixels)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "%d x %d pixels, more than embed.max_pixels = %lld", w, h,
                             (long long)dec->max_pixels);
    return DG_ST_OK;
}

static int ceil_div(int a, int f)
{
    return (int)(((int64_t)a + f - 1) / f);
}

int dg_decode_factor(int w, int h, int min_side)
{
    int small = w < h ? w : h;
    if (min_side < 1 || small <= min_side)
        return 1;
    int f = small / min_side; /* floor keeps ceil(small / f) >= min_side */
    while (f < DG_DECODE_MAX_FACTOR && ceil_div(small, f + 1) >= min_side)
        f++;
    return f < DG_DECODE_MAX_FACTOR ? f : DG_DECODE_MAX_FACTOR;
}

void dg_decode_flatten(unsigned char *px, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++) {
        unsigned a = px[4 * i + 3], back = DG_DECODE_BACKGROUND * (255 - a);
        for (int c = 0; c < 3; c++)
            px[3 * i + c] = (unsigned char)((px[4 * i + c] * a + back + 127) / 255);
    }
}

/* In place is safe: output pixel (x, y) is written at index y*ow + x, at or
 * before the first input pixel of its own block (y*f*w + x*f), and every
 * later block reads only pixels after that. */
void dg_decode_reduce(unsigned char *rgb, int w, int h, int f)
{
    if (f <= 1)
        return;
    int ow = ceil_div(w, f), oh = ceil_div(h, f);
    for (int oy = 0; oy < oh; oy++) {
        int y0 = oy * f, y1 = y0 + f < h ? y0 + f : h;
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * f, x1 = x0 + f < w ? x0 + f : w;
            uint64_t sum[3] = {0, 0, 0};
            for (int y = y0; y < y1; y++) {
                const unsigned char *p = rgb + ((size_t)y * (size_t)w + (size_t)x0) * 3;
                for (int x = x0; x < x1; x++, p += 3) {
                    sum[0] += p[0];
                    sum[1] += p[1];
                    sum[2] += p[2];
                }
            }
            uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
            unsigned char *o = rgb + ((size_t)oy * (size_t)ow + (size_t)ox) * 3;
            for (int c = 0; c < 3; c++)
                o[c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
}

void dg_decode_take(dg_decoder *dec, int w, int h, dg_decode_result *res)
{
    res->image.w = w;
    res->image.h = h;
    res->image.rgb = dec->pix;
}

void dg_decode_shrink(dg_decoder *dec, int w, int h, dg_decode_result *res)
{
    int f = dg_decode_factor(w, h, dec->min_side);
    dg_decode_reduce(dec->pix, w, h, f);
    dg_decode_take(dec, ceil_div(w, f), ceil_div(h, f), res);
}

int dg_decode_is_png(const unsigned char *buf, size_t len)
{
    return len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0;
}

int dg_decode_is_webp(const unsigned char *buf, size_t len)
{
    return len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0;
}
