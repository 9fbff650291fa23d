/* page_photo.h - a photo pasted on a flat page, found by its colour
 * (page_photo.c): the fallback of the content box (descriptor.c) where
 * neither a border nor a frame is found (content_rect.c looks for the
 * photo's straight edges and its detail).  A photo of fog or of a night sky in a browser
 * window has neither edges that step all along nor detail of its own,
 * but it differs from the page around it. */
#ifndef DUPGRAPH_INPUT_PAGE_PHOTO_H
#define DUPGRAPH_INPUT_PAGE_PHOTO_H

#include "input/content_rect.h"
#include "input/decode.h"

/* Whether img is mostly one flat colour (a page) with a compact rectangle
 * of other colours clear of its bounds: of the connected regions of
 * pixels unlike the page, once the bands across the whole image (a title
 * bar, a toolbar: a page has one at least) are left out, the one with the
 * largest bounding box that it fills for the most part.  Returns 1 and
 * that box in *photo, or 0 (no such page or region, more than INT_MAX
 * pixels, or out of memory).  Pure function of the pixels. */
int dg_page_photo(const dg_pixels *img, dg_rect *photo);

#endif
