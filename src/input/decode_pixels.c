/* decode_pixels.c - the steps every image format shares after its own
 * decoder (decode_format.h): the status and reason of a result, the
 * decoder's growing pixel buffer, the header size check, the pixel work
 * for formats without a scaled decode (alpha over a white background, the
 * area-average reduction to the size the JPEG path would give) and the
 * turn an EXIF orientation asks for. */
#include "input/decode_format.h"
#include "input/exif_orientation.h"

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

int dg_decode_grow_buffer(unsigned char **buf, size_t *cap, size_t bytes)
{
    if (bytes <= *cap)
        return DG_OK;
    unsigned char *nb = realloc(*buf, bytes);
    if (!nb)
        return DG_FAIL;
    *buf = nb;
    *cap = bytes;
    return DG_OK;
}

int dg_decode_grow(dg_decoder *dec, size_t bytes)
{
    return dg_decode_grow_buffer(&dec->pix, &dec->pix_cap, bytes);
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

static int scaled(int a, int eighths)
{
    return (int)(((int64_t)a * eighths + 7) / 8);
}

void dg_decode_target(int w, int h, int min_side, int *ow, int *oh)
{
    int m = 1;
    while (m < 8 && (scaled(w, m) < min_side || scaled(h, m) < min_side))
        m++;
    *ow = scaled(w, m);
    *oh = scaled(h, m);
}

void dg_decode_flatten(unsigned char *px, size_t pixels)
{
    for (size_t i = 0; i < pixels; i++) {
        unsigned a = px[4 * i + 3], back = DG_DECODE_BACKGROUND * (255 - a);
        for (int c = 0; c < 3; c++)
            px[3 * i + c] = (unsigned char)((px[4 * i + c] * a + back + 127) / 255);
    }
}

/* Source pixel span [a, b) of output index o when n pixels become on:
 * the first and last source pixels and their coverage (weights). */
typedef struct span {
    int first, last;
    double w_first, w_last;
} span;

static span cover(int o, int n, int on)
{
    double a = (double)o * n / on, b = (double)(o + 1) * n / on;
    span s = {(int)a, (int)b, 0, 0};
    if (s.last >= n || (double)s.last == b)
        s.last--;
    s.w_first = s.first == s.last ? b - a : (s.first + 1) - a;
    s.w_last = s.first == s.last ? s.w_first : b - s.last;
    return s;
}

static double weight(const span *s, int i)
{
    return i == s->first ? s->w_first : i == s->last ? s->w_last : 1.0;
}

/* In place is safe: output pixel (x, y), written at index y*ow + x, reads
 * source pixels from row >= y and column >= x, so at index >= y*w + x: its
 * own output index or later, never one already written. */
void dg_decode_reduce(unsigned char *rgb, int w, int h, int ow, int oh)
{
    if (ow == w && oh == h)
        return;
    for (int oy = 0; oy < oh; oy++) {
        span sy = cover(oy, h, oh);
        for (int ox = 0; ox < ow; ox++) {
            span sx = cover(ox, w, ow);
            double sum[3] = {0, 0, 0}, area = 0;
            for (int y = sy.first; y <= sy.last; y++) {
                double wy = weight(&sy, y);
                const unsigned char *p = rgb + ((size_t)y * (size_t)w + (size_t)sx.first) * 3;
                for (int x = sx.first; x <= sx.last; x++, p += 3) {
                    double wt = wy * weight(&sx, x);
                    sum[0] += wt * p[0];
                    sum[1] += wt * p[1];
                    sum[2] += wt * p[2];
                    area += wt;
                }
            }
            unsigned char *o = rgb + ((size_t)oy * (size_t)ow + (size_t)ox) * 3;
            for (int c = 0; c < 3; c++)
                o[c] = (unsigned char)(sum[c] / area + 0.5);
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
    int ow, oh;
    dg_decode_target(w, h, dec->min_side, &ow, &oh);
    dg_decode_reduce(dec->pix, w, h, ow, oh);
    dg_decode_take(dec, ow, oh, res);
}

int dg_decode_is_png(const unsigned char *buf, size_t len)
{
    return len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0;
}

int dg_decode_is_webp(const unsigned char *buf, size_t len)
{
    return len >= 12 && memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WEBP", 4) == 0;
}

dg_status dg_decode_turn(dg_decoder *dec, int o, dg_decode_result *res)
{
    if (o < 2 || o > 8 || (res->status != DG_ST_OK && res->status != DG_ST_OK_WITH_WARNING))
        return res->status;
    int w = res->image.w, h = res->image.h, ow, oh;
    if (dg_decode_grow_buffer(&dec->turned, &dec->turned_cap, (size_t)w * (size_t)h * 3) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory turning %d x %d pixels", w, h);
    dg_exif_turn(dec->pix, w, h, o, dec->turned, &ow, &oh);
    unsigned char *px = dec->pix; /* swap: the stored pixels' buffer serves the next turn */
    size_t cap = dec->pix_cap;
    dec->pix = dec->turned;
    dec->pix_cap = dec->turned_cap;
    dec->turned = px;
    dec->turned_cap = cap;
    dg_decode_take(dec, ow, oh, res);
    if (ow != w) {
        int stored_w = res->width;
        res->width = res->height;
        res->height = stored_w;
    }
    return res->status;
}
