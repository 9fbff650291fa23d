/* compose.c - the composite edits of the benchmark corpus: letterboxing
 * into a canvas of another aspect ratio (solid bars or a blurred fill), a
 * logo or watermark box over the photo, and a procedurally drawn
 * application window around it (a screenshot).  Pixels are drawn with the
 * primitives of edits.c and the resampler of raster.c; nothing here decodes
 * or saves. */
#include "bench/compose.h"

#include <math.h>
#include <string.h>

#include "bench/edits.h"

static int max_i(int a, int b)
{
    return a > b ? a : b;
}

/* in scaled to cover w x h (centre crop), blurred at 1/8 scale, darkened. */
static int blurred_cover(const dg_image *in, int w, int h, dg_image *out, dg_err *err)
{
    double s = fmax((double)w / in->w, (double)h / in->h);
    int cw = (int)fmin(in->w, ceil(w / s)), ch = (int)fmin(in->h, ceil(h / s));
    dg_image crop = {0}, small = {0}, blur = {0};
    int rc = dg_img_crop(in, (in->w - cw) / 2, (in->h - ch) / 2, cw, ch, &crop, err);
    if (rc == DG_OK)
        rc = dg_image_resize(&crop, max_i(1, w / 8), max_i(1, h / 8), &small, err);
    if (rc == DG_OK)
        rc = dg_img_blur(&small, 2.5, &blur, err);
    if (rc == DG_OK)
        rc = dg_image_resize(&blur, w, h, out, err);
    if (rc == DG_OK) {
        const double dim[3] = {0.6, 0.6, 0.6};
        dg_img_channel_gains(out, dim);
    }
    dg_image_free(&crop);
    dg_image_free(&small);
    dg_image_free(&blur);
    return rc;
}

int dg_compose_letterbox(const dg_image *in, double aspect, int blurred_fill, const uint8_t rgb[3],
                         dg_image *out, dg_err *err)
{
    if (!(aspect > 0.05 && aspect < 20.0))
        return dg_fail(err, "letterbox aspect %g out of range", aspect);
    int side = max_i(in->w, in->h);
    int cw = aspect >= 1.0 ? side : max_i(1, (int)lround(side * aspect));
    int ch = aspect >= 1.0 ? max_i(1, (int)lround(side / aspect)) : side;
    int pw, ph;
    dg_fit_size(in->w, in->h, cw, ch, &pw, &ph);
    dg_image photo = {0};
    int rc = dg_image_resize(in, pw, ph, &photo, err);
    if (rc == DG_OK && blurred_fill)
        rc = blurred_cover(in, cw, ch, out, err);
    else if (rc == DG_OK && dg_image_alloc(out, cw, ch, err) == DG_OK)
        dg_img_fill_rect(out, 0, 0, cw, ch, rgb, 1.0);
    else
        rc = DG_FAIL;
    if (rc == DG_OK)
        dg_img_paste(out, &photo, (cw - pw) / 2, (ch - ph) / 2);
    dg_image_free(&photo);
    return rc;
}

int dg_compose_logo(const dg_image *in, double area, double cx, double cy, const uint8_t bg[3],
                    const uint8_t ink[3], double alpha, const char *text, dg_image *out, dg_err *err)
{
    if (!(area > 0.0 && area < 0.5))
        return dg_fail(err, "logo area %g out of range", area);
    if (dg_image_copy(in, out, err) != DG_OK)
        return DG_FAIL;
    /* A box 3.5 times as wide as high (icon + a short word). */
    double box_area = area * in->w * in->h;
    int bh = max_i(8, (int)lround(sqrt(box_area / 3.5)));
    int bw = max_i(16, (int)lround(box_area / bh));
    bw = bw > in->w ? in->w : bw;
    bh = bh > in->h ? in->h : bh;
    int x = (int)lround(cx * in->w - bw / 2.0), y = (int)lround(cy * in->h - bh / 2.0);
    x = x < 0 ? 0 : (x + bw > in->w ? in->w - bw : x);
    y = y < 0 ? 0 : (y + bh > in->h ? in->h - bh : y);
    dg_img_fill_rect(out, x, y, bw, bh, bg, alpha);
    int r = bh * 3 / 10;
    dg_img_disc(out, x + bh / 2, y + bh / 2, r, ink);
    int room = bw - bh - bh / 4;
    size_t n = strlen(text);
    int scale = (int)fmax(1.0, fmin(bh * 0.45 / 7.0, n ? room / (6.0 * (double)n) : 1.0));
    dg_img_text(out, x + bh, y + (bh - 7 * scale) / 2, scale, ink, text);
    return DG_OK;
}

/* Grey "text" lines (blocks of varying length), as a page's body text looks
 * at a glance. */
static void text_lines(dg_image *im, int x, int y, int w, int h, int line_h, const uint8_t rgb[3],
                       uint64_t seed)
{
    for (int k = 0; y + (k + 1) * line_h <= y + h; k++) {
        double len = 0.45 + 0.5 * dg_unit(dg_mix64(seed + (uint64_t)k));
        dg_img_fill_rect(im, x, y + k * line_h + line_h / 4, (int)(w * len), max_i(1, line_h / 2), rgb, 1.0);
    }
}

typedef struct theme {
    uint8_t title[3], bar[3], page[3], panel[3], field[3], ink[3], faint[3];
} theme;

static const theme themes[2] = {
    {{222, 222, 222}, {242, 242, 242}, {255, 255, 255}, {235, 238, 242}, {255, 255, 255}, {40, 40, 40}, {190, 190, 190}},
    {{32, 33, 36}, {53, 54, 58}, {41, 42, 45}, {48, 49, 52}, {32, 33, 36}, {230, 230, 230}, {110, 110, 110}},
};

/* Title bar with three window buttons and a title, toolbar with an address
 * field and icons, status bar; returns the content box in *cx..*ch. */
static void draw_chrome(dg_image *im, const theme *t, const char *title, int *cx, int *cy, int *cw, int *ch)
{
    static const uint8_t buttons[3][3] = {{237, 106, 94}, {245, 191, 79}, {98, 197, 84}};
    int W = im->w, H = im->h;
    int tb = max_i(10, H / 22), tool = max_i(12, H / 16), status = max_i(6, H / 36);
    dg_img_fill_rect(im, 0, 0, W, H, t->page, 1.0);
    dg_img_fill_rect(im, 0, 0, W, tb, t->title, 1.0);
    for (int b = 0; b < 3; b++)
        dg_img_disc(im, tb / 2 + b * tb * 3 / 4, tb / 2, max_i(2, tb / 4), buttons[b]);
    int scale = max_i(1, tb / 14);
    dg_img_text(im, W / 2 - (int)strlen(title) * 3 * scale, (tb - 7 * scale) / 2, scale, t->ink, title);
    dg_img_fill_rect(im, 0, tb, W, tool, t->bar, 1.0);
    for (int k = 0; k < 3; k++)
        dg_img_fill_rect(im, tool / 4 + k * tool, tb + tool / 4, tool / 2, tool / 2, t->faint, 1.0);
    int fx = 3 * tool + tool / 2, fw = W - fx - 2 * tool;
    dg_img_fill_rect(im, fx, tb + tool / 5, fw, tool * 3 / 5, t->field, 1.0);
    dg_img_text(im, fx + tool / 4, tb + (tool - 7 * max_i(1, tool / 20)) / 2, max_i(1, tool / 20), t->ink,
                "HTTPS://WWW.EXAMPLE.COM/GALLERY");
    dg_img_fill_rect(im, 0, H - status, W, status, t->bar, 1.0);
    *cx = 0;
    *cy = tb + tool;
    *cw = W;
    *ch = H - *cy - status;
}

int dg_compose_screenshot(const dg_image *in, double photo_frac, int side_panel, int dark,
                          const char *title, dg_image *out, dg_err *err)
{
    if (!(photo_frac > 0.1 && photo_frac <= 1.0))
        return dg_fail(err, "screenshot photo fraction %g out of range", photo_frac);
    int side = max_i(in->w, in->h);
    if (dg_image_alloc(out, side, max_i(1, side * 10 / 16), err) != DG_OK)
        return DG_FAIL;
    const theme *t = &themes[dark ? 1 : 0];
    int cx, cy, cw, ch;
    draw_chrome(out, t, title, &cx, &cy, &cw, &ch);
    if (side_panel) {
        int pw = cw / 4;
        dg_img_fill_rect(out, cx, cy, pw, ch, t->panel, 1.0);
        text_lines(out, cx + pw / 8, cy + ch / 20, pw * 3 / 4, ch * 9 / 10, max_i(6, ch / 18), t->faint, 7);
        cx += pw;
        cw -= pw;
    }
    int margin = max_i(2, cw / 40);
    int avail_w = (int)(cw * photo_frac), avail_h = ch - 2 * margin;
    if (side_panel)
        avail_h = avail_h * 3 / 4; /* room for the caption lines below */
    if (avail_w < 8 || avail_h < 8) {
        dg_image_free(out);
        return dg_fail(err, "screenshot content area %dx%d too small", avail_w, avail_h);
    }
    int pw, ph;
    dg_fit_size(in->w, in->h, avail_w, avail_h, &pw, &ph);
    dg_image photo = {0};
    if (dg_image_resize(in, pw, ph, &photo, err) != DG_OK) {
        dg_image_free(out);
        return DG_FAIL;
    }
    int px = cx + (cw - pw) / 2, py = cy + margin;
    dg_img_paste(out, &photo, px, py);
    if (side_panel)
        text_lines(out, px, py + ph + margin, pw, cy + ch - (py + ph + margin), max_i(6, ch / 22), t->faint, 11);
    dg_image_free(&photo);
    return DG_OK;
}
