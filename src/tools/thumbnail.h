/* thumbnail.h - the report's JPEG thumbnails (thumbnail.c). */
#ifndef DUPGRAPH_TOOLS_THUMBNAIL_H
#define DUPGRAPH_TOOLS_THUMBNAIL_H

#include "tools/raster.h"

typedef struct dg_thumbnailer {
    dg_jpeg_codec codec;
    int size;
    int quality;
} dg_thumbnailer;

int dg_thumbnailer_init(dg_thumbnailer *t, int size, int quality, dg_err *err);
void dg_thumbnailer_free(dg_thumbnailer *t);

/* Writes a JPEG thumbnail of the JPEG at `src` to `dst`, fitted into
 * size x size (never enlarged): decoded at the smallest DCT scale that still
 * covers that size, then resampled.  Its size goes to *w, *h. */
int dg_thumbnail_write(dg_thumbnailer *t, const char *src, const char *dst, int *w, int *h, dg_err *err);

#endif
