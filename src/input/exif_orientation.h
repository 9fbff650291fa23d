/* exif_orientation.h - the EXIF Orientation of an image (exif_orientation.c):
 * a camera stores a portrait photo's pixels sideways and says in its APP1
 * segment how to turn them, and browsers turn them.  A copy re-encoded
 * upright (tag dropped) is then the same picture in other pixels; the
 * decoder turns the stored pixels as a browser would so both reach the
 * descriptor alike. */
#ifndef DUPGRAPH_INPUT_EXIF_ORIENTATION_H
#define DUPGRAPH_INPUT_EXIF_ORIENTATION_H

#include <stddef.h>

/* The Orientation (tag 0x0112 of IFD0: 1..8) of EXIF data p[0..n): a TIFF
 * header and its IFDs, either byte order, after the "Exif\0\0" of a JPEG's
 * APP1 segment or without it (PNG's eXIf chunk; WebP's EXIF chunk either
 * way); 1 when it has no such tag or is damaged.  Reads nothing outside
 * p[0..n). */
int dg_exif_orientation(const unsigned char *p, size_t n);

/* The picture orientation o (1..8) shows: packed RGB src of w x h turned
 * into dst (w * h * 3 bytes, not src), *ow x *oh (w and h swapped for 5..8).
 * Where the stored first row and column go: 1 top and left, 2 top and
 * right, 3 bottom and right, 4 bottom and left, 5 left and top, 6 right and
 * top, 7 right and bottom, 8 left and bottom. */
void dg_exif_turn(const unsigned char *src, int w, int h, int o, unsigned char *dst, int *ow, int *oh);

#endif
