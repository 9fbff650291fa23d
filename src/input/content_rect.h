/* content_rect.h - where the photo is inside a frame (content_rect.c).
 */
#ifndef DUPGRAPH_INPUT_CONTENT_RECT_H
#define DUPGRAPH_INPUT_CONTENT_RECT_H

#include "input/decode.h"
#include "input/lum_plane.h"

typedef struct dg_rect {
    int x0, y0, x1, y1; /* half-open pixel bounds */
} dg_rect;

/* The textured rectangle inside `within` that a frame of low detail
 * surrounds (application chrome around a photo, a blurred fill around a
 * phone-story photo), or `within` itself when there is no such frame.  lum:
 * img's luminance (lum_plane.h).  Pure function of the pixels; no
 * allocation. */
dg_rect dg_content_rect(const dg_pixels *img, const dg_lum_plane *lum, dg_rect within);

#endif
