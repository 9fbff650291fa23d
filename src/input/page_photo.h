/* page_photo.h - a photo pasted on a flat page, found by its colour
 * (page_photo.c): the fallback of the content box (descriptor.c) where
 * content_rect.c, which looks for the photo's straight edges and its
 * detail, finds no frame.  A photo of fog or of a night sky in a browser
 * window has neither edges that step all along nor detail of its own,
 * but it differs from the page around it. */
#ifndef DUPGRAPH_INPUT_PAGE_PHOTO_H
#define DUPGRAPH_INPUT_PAGE_PHOTO_H

#include "input/content_rect.h"
#include "input/decode.h"

/* Whether img is mostly one flat colour (a page) with a compact
 * rectangle of other colours clear of its bounds: the largest connected
 * region of pixels unlike the page, once the bands across the whole image
 * (a title bar, a toolbar: a page has one at least) are left out, that
 * fills most of its bounding box.  Returns 1 and that box in *photo, or 0 (no such page, no such
 * region, or out of memory).  Pure function of the pixels. */
int dg_page_photo(const dg_pixels *img, dg_rect *photo);

#endif
