/* edits.h - the image edits of the benchmark corpus (dg-mkbench):
 * geometric and photometric edits of an RGB image, each with parameters
 * drawn reproducibly from (seed, photo, transform, strength).
 *
 * Two layers: the primitives (dg_img_*), which take explicit parameters and
 * are what the unit tests check, and dg_xform, a transform with its drawn
 * parameters, which dg_xform_apply turns into calls to the primitives.
 * A primitive writing to `out` allocates it (free with dg_image_free); one
 * that edits in place says so.
 */
#ifndef DUPGRAPH_BENCH_EDITS_H
#define DUPGRAPH_BENCH_EDITS_H

#include <stdint.h>

#include "dupgraph/common.h"
#include "tools/raster.h"

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
/* In place: draws `text` with the 5x7 font, each font pixel scale x scale,
 * top-left corner at (x, y), 6 * scale pixels per character; clipped to the
 * image.  Returns the width drawn. */
int dg_img_text(dg_image *im, int x, int y, int scale, const uint8_t fg[3], const char *text);
/* In place: blends the rectangle (clipped to the image) towards rgb by alpha
 * in [0, 1] (1 = opaque fill). */
void dg_img_fill_rect(dg_image *im, int x, int y, int w, int h, const uint8_t rgb[3], double alpha);
/* In place: an opaque disc of radius r centred at (cx, cy), clipped. */
void dg_img_disc(dg_image *im, int cx, int cy, int r, const uint8_t rgb[3]);
/* In place: multiplies each channel by its gain (a colour cast), clamped. */
void dg_img_channel_gains(dg_image *im, const double gain[3]);
/* In place: copies src into dst with src's top-left corner at (x, y), clipped. */
void dg_img_paste(dg_image *dst, const dg_image *src, int x, int y);
/* Crop of w_frac x h_frac of the image (fractions of each side) at relative
 * position (px, py) in [0, 1] of the free space: 0 = left/top, 1 = right/bottom. */
int dg_img_crop_frac(const dg_image *in, double w_frac, double h_frac, double px, double py,
                     dg_image *out, dg_err *err);

/* ---- transforms with drawn parameters ---- */

#endif
