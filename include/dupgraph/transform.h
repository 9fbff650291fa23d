/* transform.h - the image transforms of the benchmark corpus (dg-mkbench):
 * geometric and photometric edits of an RGB image, each with parameters
 * drawn reproducibly from (seed, photo, transform, strength).
 *
 * Two layers: the primitives (dg_img_*), which take explicit parameters and
 * are what the unit tests check, and dg_xform, a transform with its drawn
 * parameters, which dg_xform_apply turns into calls to the primitives.
 * A primitive writing to `out` allocates it (free with dg_image_free); one
 * that edits in place says so.
 */
#ifndef DUPGRAPH_TRANSFORM_H
#define DUPGRAPH_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"
#include "dupgraph/raster.h"

/* ---- primitives ---- */

/* Copies the w x h rectangle at (x, y); it must lie inside the image. */
int dg_img_crop(const dg_image *in, int x, int y, int w, int h, dg_image *out, dg_err *err);
int dg_img_hflip(const dg_image *in, dg_image *out, dg_err *err);
/* In place: adds delta to every channel (clamped to 0..255). */
void dg_img_brightness(dg_image *im, int delta);
/* In place: scales each channel's distance from the mean luminance. */
void dg_img_contrast(dg_image *im, double factor);
/* In place: v -> 255 * (v / 255)^gamma. */
void dg_img_gamma(dg_image *im, double gamma);
/* In place: scales each channel's distance from the pixel's luminance. */
void dg_img_saturation(dg_image *im, double factor);
/* In place: every channel set to the Rec.601 luminance. */
void dg_img_grayscale(dg_image *im);
/* Separable gaussian, radius ceil(3 sigma), edges clamped. */
int dg_img_blur(const dg_image *in, double sigma, dg_image *out, dg_err *err);
/* Pads with solid bars of `rgb`; out is (l + w + r) x (t + h + b). */
int dg_img_border(const dg_image *in, int top, int bottom, int left, int right,
                  const uint8_t rgb[3], dg_image *out, dg_err *err);
/* Output size of dg_img_rotate: the largest centred rectangle with the
 * input's aspect ratio that stays inside the rotated image. */
void dg_rotate_size(int w, int h, double degrees, int *out_w, int *out_h);
/* Rotates counter-clockwise by `degrees` (bilinear) and crops to
 * dg_rotate_size, so no corner is left unfilled. */
int dg_img_rotate(const dg_image *in, double degrees, dg_image *out, dg_err *err);
/* In place: fills rows y0 .. y0+band_h-1 with `bg` and draws `text` (upper
 * case, digits, space and . - ! : %) in `fg` with the built-in 5x7 font,
 * scaled to about 60% of the band height, from the band's left margin.
 * Pixels outside the band are not touched. */
void dg_img_text_band(dg_image *im, int y0, int band_h, const uint8_t bg[3], const uint8_t fg[3],
                      const char *text);

/* ---- transforms with drawn parameters ---- */

typedef enum dg_xform_kind {
    DG_XF_RESIZE = 0,
    DG_XF_JPEG,
    DG_XF_CROP,
    DG_XF_HFLIP,
    DG_XF_BRIGHTNESS,
    DG_XF_CONTRAST,
    DG_XF_GAMMA,
    DG_XF_SATURATION,
    DG_XF_GRAYSCALE,
    DG_XF_BLUR,
    DG_XF_BORDER,
    DG_XF_ROTATE,
    DG_XF_TEXT,
    DG_XF_COUNT
} dg_xform_kind;

typedef enum dg_strength { DG_MILD = 0, DG_STRONG = 1 } dg_strength;

/* JPEG quality of every saved variant except the `jpeg` transform's. */
#define DG_XFORM_SAVE_QUALITY 90

typedef struct dg_xform {
    dg_xform_kind kind;
    dg_strength strength;
    double amount;     /* the transform's main parameter (scale, fraction, factor, ...) */
    double pos_x;      /* position in [0,1) where one is needed (crop, text band) */
    double pos_y;
    uint8_t color[3];  /* bars / band colour */
    uint8_t ink[3];    /* text colour */
    int quality;       /* JPEG quality the result is saved with */
    int gray_jpeg;     /* save as a one-component JPEG */
    char text[32];
} dg_xform;

const char *dg_xform_name(dg_xform_kind kind);
const char *dg_strength_name(dg_strength s);
/* Whether the kind has a variant at this strength (hflip has no parameter:
 * it only exists as mild). */
int dg_xform_exists(dg_xform_kind kind, dg_strength s);
/* One line describing what the transform does and its range at strength s,
 * formatted from the same table the parameters are drawn from. */
void dg_xform_doc(dg_xform_kind kind, dg_strength s, char *buf, size_t len);

/* Draws the parameters of (kind, s) for photo `photo` from `seed`: the same
 * arguments always give the same parameters, independent of call order. */
void dg_xform_draw(dg_xform *xf, dg_xform_kind kind, dg_strength s, uint64_t seed, uint64_t photo);
/* The drawn parameters as "name=value;..." (no commas), for truth.csv. */
void dg_xform_params(const dg_xform *xf, char *buf, size_t len);
/* Applies xf to in; out is allocated (the JPEG quality is applied when
 * saving with xf->quality / xf->gray_jpeg, not here). */
int dg_xform_apply(const dg_xform *xf, const dg_image *in, dg_image *out, dg_err *err);

#endif
