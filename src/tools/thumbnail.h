/* thumbnail.h - the report's JPEG thumbnails (thumbnail.c), of image files
 * and of members of tar shards, in any format the job reads (JPEG, PNG,
 * WebP: the job's own decoder, input/decode.h). */
#ifndef DUPGRAPH_TOOLS_THUMBNAIL_H
#define DUPGRAPH_TOOLS_THUMBNAIL_H

#include "input/decode.h"
#include "tools/raster.h"

typedef struct dg_thumbnailer {
    dg_decoder dec;       /* reads every format, reduced to about size */
    dg_jpeg_codec codec;  /* writes the thumbnails */
    int size;
    int quality;
    unsigned char *member; /* a shard member's bytes */
    size_t member_cap;
} dg_thumbnailer;

int dg_thumbnailer_init(dg_thumbnailer *t, int size, int quality, dg_err *err);
void dg_thumbnailer_free(dg_thumbnailer *t);

/* Writes a JPEG thumbnail of the image file `src` to `dst`, fitted into
 * size x size (never enlarged): decoded by the job's decoder to the smallest
 * size with both sides >= size (DCT scaling for JPEG), then resampled.  Its
 * size goes to *w, *h. */
int dg_thumbnail_write(dg_thumbnailer *t, const char *src, const char *dst, int *w, int *h, dg_err *err);

/* One wanted thumbnail of a member of a tar shard. */
typedef struct dg_member_thumb {
    const char *member; /* in: the member's name in the archive */
    const char *dst;    /* in: where its thumbnail goes */
    int ok, w, h;       /* out: written, and its size */
    char why[512];      /* out: the reason when not written */
} dg_member_thumb;

/* Walks the tar shard at `shard` once (input/shards.h) and writes the
 * thumbnail of each of the n wanted members (first member of that name);
 * a member the walk does not reach gets the reason (not in the shard, or
 * the shard's damage). */
void dg_thumbnail_shard(dg_thumbnailer *t, const char *shard, dg_member_thumb *want, int n);

#endif
