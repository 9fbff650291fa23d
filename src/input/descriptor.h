/* descriptor.h - the built-in near-duplicate descriptor of one image
 * (descriptor.c).
 *

 */
#ifndef DUPGRAPH_INPUT_DESCRIPTOR_H
#define DUPGRAPH_INPUT_DESCRIPTOR_H

#include "input/decode.h"

#define DG_DESC_SIZE 64       /* working raster side, pixels */
#define DG_DESC_DCT_DIM 35    /* low-frequency DCT coefficients, DC excluded */
#define DG_DESC_HOG_DIM 128   /* 4 x 4 cells x 8 orientations */
#define DG_DESC_COLOR_DIM 32  /* 4 x 4 cells x 2 chroma channels */
#define DG_DESC_DIM (DG_DESC_DCT_DIM + DG_DESC_HOG_DIM + DG_DESC_COLOR_DIM)
#define DG_DESC_VERSION 19

/* Ints of dg_content_box's answer: [0..3] the content box, [4..7] the
 * watermark box inside it (overlay.h), zeros when there is none. */
#define DG_BOX_LEN 8

/* The photo the descriptor describes: the image without its uniform
 * borders (letterbox bars ending in a sharp edge) and, inside them, without a
 * frame (content_rect.h): box[0..3] = {x0, y0, x1, y1}, half-open; and the
 * watermark box inside it that both fill in (dg_overlay_find), box[4..7].
 * The signature (signature.h) describes the same box; it is the costly part
 * of both, so the decode loop computes it once per image and hands it to
 * each.  It holds the image's luminance (lum_plane.h) meanwhile; without
 * the memory for it, the box is the whole image, with no watermark box. */
void dg_content_box(const dg_pixels *img, int box[DG_BOX_LEN]);

/* Whether box (dg_content_box's) holds a watermark box. */
static inline int dg_box_has_overlay(const int box[DG_BOX_LEN])
{
    return box[6] > box[4] && box[7] > box[5];
}

/* Writes the DG_DESC_DIM raw descriptor of an image (any size >= 1 x 1)
 * whose content box is box (dg_content_box of the same pixels).  Every
 * value lies in [-1, 1].  Pure function of the pixels, box and flip. */
void dg_descriptor(const dg_pixels *img, const int box[DG_BOX_LEN], int flip, float *out);

#endif
