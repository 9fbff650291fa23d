/* edits.c - the primitive image edits of the benchmark corpus: crop,
 * flip, brightness, contrast, gamma, saturation, grayscale, channel gains,
 * gaussian blur, borders, rotation, pasting, filled (translucent)
 * rectangles and discs, and text drawn with a built-in 5x7 font.
 * Resizing lives in raster.c; the parameter table and the drawing of
 * parameters live in xform.c. */
#include "bench/edits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline uint8_t clamp_u8(double v)
{
    return (uint8_t)(v <= 0.0 ? 0 : (v >= 255.0 ? 255 : (int)(v + 0.5)));
}

static inline double luma(const uint8_t *p)
{
    return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
}

static size_t n_bytes(const dg_image *im)
{
    return (size_t)im->w * (size_t)im->h * 3;
}

int dg_img_crop(const dg_image *in, int x, int y, int w, int h, dg_image *out, dg_err *err)
{
    if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > in->w || y + h > in->h)
        return dg_fail(err, "crop %dx%d+%d+%d outside %dx%d", w, h, x, y, in->w, in->h);
    if (dg_image_alloc(out, w, h, err) != DG_OK)
        return DG_FAIL;
    for (int r = 0; r < h; r++)
        memcpy(dg_image_at(out, 0, r), dg_image_at(in, x, y + r), (size_t)w * 3);
    return DG_OK;
}

int dg_img_hflip(const dg_image *in, dg_image *out, dg_err *err)
{
    if (dg_image_alloc(out, in->w, in->h, err) != DG_OK)
        return DG_FAIL;
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            memcpy(dg_image_at(out, in->w - 1 - x, y), dg_image_at(in, x, y), 3);
    return DG_OK;
}

static void apply_lut(dg_image *im, const uint8_t lut[256])
{
    size_t n = n_bytes(im);
    for (size_t i = 0; i < n; i++)
        im->px[i] = lut[im->px[i]];
}

void dg_img_brightness(dg_image *im, int delta)
{
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = clamp_u8(v + delta);
    apply_lut(im, lut);
}

void dg_img_contrast(dg_image *im, double factor)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += luma(im->px + 3 * i);
    double mean = sum / (double)n;
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = clamp_u8(mean + factor * (v - mean));
    apply_lut(im, lut);
}

void dg_img_gamma(dg_image *im, double gamma)
{
    uint8_t lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = clamp_u8(255.0 * pow(v / 255.0, gamma));
    apply_lut(im, lut);
}

void dg_img_saturation(dg_image *im, double factor)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = im->px + 3 * i;
        double y = luma(p);
        for (int c = 0; c < 3; c++)
            p[c] = clamp_u8(y + factor * (p[c] - y));
    }
}

void dg_img_grayscale(dg_image *im)
{
    size_t n = (size_t)im->w * (size_t)im->h;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = im->px + 3 * i;
        uint8_t y = clamp_u8(luma(p));
        p[0] = p[1] = p[2] = y;
    }
}

/* Normalised gaussian taps -r..r in k[0..2r]. */
static float *gauss_kernel(double sigma, int *radius, dg_err *err)
{
    int r = (int)ceil(3.0 * sigma);
    float *k = dg_alloc((size_t)(2 * r + 1), sizeof(float), err);
    if (!k)
        return NULL;
    double sum = 0.0;
    for (int i = -r; i <= r; i++)
        sum += exp(-0.5 * i * i / (sigma * sigma));
    for (int i = -r; i <= r; i++)
        k[i + r] = (float)(exp(-0.5 * i * i / (sigma * sigma)) / sum);
    *radius = r;
    return k;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void blur_rows(const dg_image *in, const float *k, int r, float *tmp)
{
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++) {
            float acc[3] = {0, 0, 0};
            for (int i = -r; i <= r; i++) {
                const uint8_t *p = dg_image_at(in, clampi(x + i, 0, in->w - 1), y);
                acc[0] += k[i + r] * p[0];
                acc[1] += k[i + r] * p[1];
                acc[2] += k[i + r] * p[2];
            }
            memcpy(tmp + ((size_t)y * (size_t)in->w + (size_t)x) * 3, acc, sizeof acc);
        }
}

static void blur_cols(const float *tmp, const float *k, int r, dg_image *out)
{
    size_t row = (size_t)out->w * 3;
    for (int y = 0; y < out->h; y++) {
        uint8_t *o = dg_image_at(out, 0, y);
        for (size_t c = 0; c < row; c++) {
            float acc = 0.0f;
            for (int i = -r; i <= r; i++)
                acc += k[i + r] * tmp[(size_t)clampi(y + i, 0, out->h - 1) * row + c];
            o[c] = clamp_u8(acc);
        }
    }
}

int dg_img_blur(const dg_image *in, double sigma, dg_image *out, dg_err *err)
{
    int r;
    if (!(sigma > 0.0) || sigma > 100.0)
        return dg_fail(err, "blur sigma %g out of range", sigma);
    float *k = gauss_kernel(sigma, &r, err);
    float *tmp = k ? dg_alloc(n_bytes(in), sizeof(float), err) : NULL;
    if (!tmp || dg_image_alloc(out, in->w, in->h, err) != DG_OK) {
        free(k);
        free(tmp);
        return DG_FAIL;
    }
    blur_rows(in, k, r, tmp);
    blur_cols(tmp, k, r, out);
    free(k);
    free(tmp);
    return DG_OK;
}

int dg_img_border(const dg_image *in, int top, int bottom, int left, int right,
                  const uint8_t rgb[3], dg_image *out, dg_err *err)
{
    if (top < 0 || bottom < 0 || left < 0 || right < 0)
        return dg_fail(err, "negative border");
    if (dg_image_alloc(out, in->w + left + right, in->h + top + bottom, err) != DG_OK)
        return DG_FAIL;
    size_t n = (size_t)out->w * (size_t)out->h;
    for (size_t i = 0; i < n; i++)
        memcpy(out->px + 3 * i, rgb, 3);
    for (int y = 0; y < in->h; y++)
        memcpy(dg_image_at(out, left, top + y), dg_image_at(in, 0, y), (size_t)in->w * 3);
    return DG_OK;
}

void dg_rotate_size(int w, int h, double degrees, int *out_w, int *out_h)
{
    double t = fabs(degrees) * M_PI / 180.0;
    double c = cos(t), s = sin(t);
    double k = fmin(w / (w * c + h * s), h / (w * s + h * c));
    *out_w = (int)fmax(1.0, floor(w * k));
    *out_h = (int)fmax(1.0, floor(h * k));
}

static void bilinear(const dg_image *im, double sx, double sy, uint8_t *dst)
{
    int x0 = (int)floor(sx), y0 = (int)floor(sy);
    double fx = sx - x0, fy = sy - y0;
    const uint8_t *p00 = dg_image_at(im, clampi(x0, 0, im->w - 1), clampi(y0, 0, im->h - 1));
    const uint8_t *p10 = dg_image_at(im, clampi(x0 + 1, 0, im->w - 1), clampi(y0, 0, im->h - 1));
    const uint8_t *p01 = dg_image_at(im, clampi(x0, 0, im->w - 1), clampi(y0 + 1, 0, im->h - 1));
    const uint8_t *p11 = dg_image_at(im, clampi(x0 + 1, 0, im->w - 1), clampi(y0 + 1, 0, im->h - 1));
    for (int c = 0; c < 3; c++) {
        double top = p00[c] + fx * (p10[c] - p00[c]);
        double bot = p01[c] + fx * (p11[c] - p01[c]);
        dst[c] = clamp_u8(top + fy * (bot - top));
    }
}

int dg_img_rotate(const dg_image *in, double degrees, dg_image *out, dg_err *err)
{
    int w, h;
    dg_rotate_size(in->w, in->h, degrees, &w, &h);
    if (dg_image_alloc(out, w, h, err) != DG_OK)
        return DG_FAIL;
    /* Counter-clockwise on screen (y points down): sample the source at the
     * output position rotated clockwise about the centre. */
    double t = degrees * M_PI / 180.0;
    double c = cos(t), s = sin(t);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x + 0.5 - w / 2.0, dy = y + 0.5 - h / 2.0;
            double sx = c * dx - s * dy + in->w / 2.0 - 0.5;
            double sy = s * dx + c * dy + in->h / 2.0 - 0.5;
            bilinear(in, sx, sy, dg_image_at(out, x, y));
        }
    return DG_OK;
}

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. */
static const char font_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-!:%";
static const uint8_t font_rows[][7] = {
    {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}, {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}, {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}, {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}, {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}, {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}, {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}, {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}, {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
};

/* The glyph of c, or NULL for a blank (space or a character not in the font). */
static const uint8_t *glyph(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    const char *hit = c ? strchr(font_chars, c) : NULL;
    return hit ? font_rows[hit - font_chars] : NULL;
}

static void draw_glyph(dg_image *im, const uint8_t *g, int x0, int y0, int scale, const uint8_t fg[3])
{
    for (int r = 0; r < 7 * scale; r++)
        for (int c = 0; c < 5 * scale; c++) {
            int x = x0 + c, y = y0 + r;
            if (x < 0 || y < 0 || x >= im->w || y >= im->h)
                continue;
            if (g[r / scale] & (0x10 >> (c / scale)))
                memcpy(dg_image_at(im, x, y), fg, 3);
        }
}

int dg_img_text(dg_image *im, int x, int y, int scale, const uint8_t fg[3], const char *text)
{
    int x0 = x;
    scale = scale < 1 ? 1 : scale;
    for (const char *p = text; *p && x < im->w; p++, x += 6 * scale) {
        const uint8_t *g = glyph(*p);
        if (g)
            draw_glyph(im, g, x, y, scale, fg);
    }
    return x - x0;
}

void dg_img_text_band(dg_image *im, int y0, int band_h, const uint8_t bg[3], const uint8_t fg[3],
                      const char *text)
{
    int y1 = y0 + band_h;
    y0 = clampi(y0, 0, im->h);
    y1 = clampi(y1, 0, im->h);
    if (y1 <= y0)
        return;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < im->w; x++)
            memcpy(dg_image_at(im, x, y), bg, 3);
    int scale = (int)fmax(1.0, floor(0.6 * (y1 - y0) / 7.0));
    int ty = y0 + ((y1 - y0) - 7 * scale) / 2;
    if (ty >= y0 && ty + 7 * scale <= y1)
        dg_img_text(im, 3 * scale, ty, scale, fg, text);
}

void dg_img_fill_rect(dg_image *im, int x, int y, int w, int h, const uint8_t rgb[3], double alpha)
{
    int x0 = clampi(x, 0, im->w), x1 = clampi(x + w, 0, im->w);
    int y0 = clampi(y, 0, im->h), y1 = clampi(y + h, 0, im->h);
    double a = alpha < 0.0 ? 0.0 : (alpha > 1.0 ? 1.0 : alpha);
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) {
            uint8_t *p = dg_image_at(im, xx, yy);
            for (int c = 0; c < 3; c++)
                p[c] = clamp_u8(p[c] + a * (rgb[c] - p[c]));
        }
}

void dg_img_disc(dg_image *im, int cx, int cy, int r, const uint8_t rgb[3])
{
    for (int y = clampi(cy - r, 0, im->h); y < clampi(cy + r + 1, 0, im->h); y++)
        for (int x = clampi(cx - r, 0, im->w); x < clampi(cx + r + 1, 0, im->w); x++)
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
                memcpy(dg_image_at(im, x, y), rgb, 3);
}

void dg_img_channel_gains(dg_image *im, const double gain[3])
{
    size_t n = (size_t)im->w * (size_t)im->h;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            im->px[3 * i + c] = clamp_u8(im->px[3 * i + c] * gain[c]);
}

void dg_img_paste(dg_image *dst, const dg_image *src, int x, int y)
{
    int sx0 = x < 0 ? -x : 0, sy0 = y < 0 ? -y : 0;
    int w = clampi(dst->w - x, 0, src->w) - sx0;
    for (int r = sy0; w > 0 && r < src->h && y + r < dst->h; r++)
        memcpy(dg_image_at(dst, x + sx0, y + r), dg_image_at(src, sx0, r), (size_t)w * 3);
}

int dg_img_crop_frac(const dg_image *in, double w_frac, double h_frac, double px, double py,
                     dg_image *out, dg_err *err)
{
    int w = clampi((int)floor(in->w * w_frac + 0.5), 1, in->w);
    int h = clampi((int)floor(in->h * h_frac + 0.5), 1, in->h);
    int x = clampi((int)floor(px * (in->w - w) + 0.5), 0, in->w - w);
    int y = clampi((int)floor(py * (in->h - h) + 0.5), 0, in->h - h);
    return dg_img_crop(in, x, y, w, h, out, err);
}
