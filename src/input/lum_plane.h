/* lum_plane.h - an image's luminance, computed once per image for the
 * content box's several passes over it (content_rect.c, overlay.c).
 * Each pixel holds 0.299 R + 0.587 G + 0.114 B (0..255) in double, the
 * very value those passes computed per pixel before, so that their sums
 * come out the same. */
#ifndef DUPGRAPH_INPUT_LUM_PLANE_H
#define DUPGRAPH_INPUT_LUM_PLANE_H

#include <stddef.h>

#include "input/decode.h"

typedef struct dg_lum_plane {
    int w, h;
    double *v; /* w * h, row stride w; owned */
} dg_lum_plane;

/* Fills p from img; DG_OK, or DG_FAIL out of memory (p->v NULL then).
 * Free with dg_lum_plane_free either way. */
int dg_lum_plane_init(dg_lum_plane *p, const dg_pixels *img);

void dg_lum_plane_free(dg_lum_plane *p);

/* The luminance of pixel (x, y). */
static inline double dg_lum_at(const dg_lum_plane *p, int x, int y)
{
    return p->v[(size_t)y * (size_t)p->w + (size_t)x];
}

#endif
