/* compose.h - composite edits of the benchmark corpus (compose.c): the photo
 * framed by something drawn around it (letterbox canvas, application
 * window) or with something drawn over it (logo, watermark box).  Built on
 * the primitives of edits.h; each writes a newly allocated `out`. */
#ifndef DUPGRAPH_BENCH_COMPOSE_H
#define DUPGRAPH_BENCH_COMPOSE_H

#include <stdint.h>

#include "dupgraph/common.h"
#include "tools/raster.h"

/* The photo fitted (never cropped) into a canvas of aspect ratio `aspect`
 * (width / height) whose longer side is the photo's longer side, centred.
 * blurred_fill = 0: bars of `rgb`; 1: the canvas is a blurred, darkened copy
 * of the photo scaled to cover it (as phones and social sites do). */
int dg_compose_letterbox(const dg_image *in, double aspect, int blurred_fill, const uint8_t rgb[3],
                         dg_image *out, dg_err *err);

/* A logo over the photo: a box of `area` (fraction of the image area) with
 * its centre at (cx, cy) in [0, 1] (kept inside the image), filled with
 * `bg` at opacity `alpha`, holding a disc icon in `ink` and `text` in ink. */
int dg_compose_logo(const dg_image *in, double area, double cx, double cy, const uint8_t bg[3],
                    const uint8_t ink[3], double alpha, const char *text, dg_image *out, dg_err *err);

/* A screenshot of an application window showing the photo: title bar with
 * window buttons and a title, a toolbar with an address field, a status
 * bar, and with side_panel a list panel on the left and lines of text under
 * the photo.  The window is 16:10, as wide as the photo's longer side; the
 * photo is scaled to `photo_frac` of the content area's width (fitted in its
 * height too).
 * dark selects a dark theme. */
int dg_compose_screenshot(const dg_image *in, double photo_frac, int side_panel, int dark,
                          const char *title, dg_image *out, dg_err *err);

#endif
