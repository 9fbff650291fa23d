/* overlay.h - a watermark box over a photo (overlay.c): found once per
 * image inside its content box, then filled in from its surroundings in
 * the descriptor's and the signature's own rasters, so that a copy with a
 * logo box describes (nearly) what its original describes.
 */
#ifndef DUPGRAPH_INPUT_OVERLAY_H
#define DUPGRAPH_INPUT_OVERLAY_H

#include "input/lum_plane.h"

/* Writes to ov (x0, y0, x1, y1, half-open image pixels) the watermark box
 * inside box (the content box) and returns 1, or returns 0 and zeros ov.
 * A watermark box is an axis-aligned rectangle of OVERLAY_AREA_MIN ..
 * OVERLAY_AREA_MAX of the box, clear of its bounds, with a straight step
 * of one sign (inside brighter, or inside darker) along all four sides,
 * and inside a flat ground with ink (a disc, a word).  Pure function of the
 * image's luminance (lum_plane.h); no allocation. */
int dg_overlay_find(const dg_lum_plane *lum, const int box[4], int ov[4]);

/* Whether rectangle r (image pixels) inside region holds a watermark box
 * rather than a photo: clear of region's bounds, at most OVERLAY_AREA_MAX
 * of it, and the ring and ink tests of dg_overlay_find on r as it lies in
 * region, without its side tests (whoever found r has seen its sides).
 * For the content box: a logo box over a smooth photo can look like a
 * photo pasted on a flat page.  (A band across region's whole width is
 * none: a logo box as wide as a narrow portrait passes the ring and ink
 * tests, but so does a panorama on a story canvas.) */
int dg_overlay_is_box(const dg_lum_plane *lum, const int region[4], const int r[4]);

/* Whether rectangle r (image pixels, clipped to region) holds a logo's
 * ink on region's grid, as dg_overlay_find's ink test counts it: a logo
 * box's disc and word cover much of its inside, a smooth photo pasted in a
 * window that passes for a box has a few strokes (a horizon, a pole). */
int dg_overlay_has_logo_ink(const dg_lum_plane *lum, const int region[4], const int r[4]);

/* Fills cells [r[0], r[2]) x [r[1], r[3]) of plane v (w x h, row stride w)
 * from the cells around them: each filled cell blends the straight lines
 * between the nearest cells left and right of the rectangle and above and
 * below it, the nearer pair weighing more.  Sides at the plane's bounds
 * give nothing.  r is clipped to the plane; nothing happens when it is
 * empty or covers the whole plane. */
void dg_overlay_fill(float *v, int w, int h, const int r[4]);

/* The cells of a w x h raster of box that ov (image pixels) covers, one
 * cell more on every side (the box's blurred edge): r, half-open. */
void dg_overlay_cells(const int box[4], const int ov[4], int w, int h, int r[4]);

#endif
