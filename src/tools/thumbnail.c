/* thumbnail.c - the small JPEG previews of the report: the original image
 * decoded with libjpeg-turbo's DCT-domain scaling, resampled to fit, and
 * encoded again, all through the raster module (raster.c).  Which images
 * get a thumbnail and where they are linked is report.c's.
 */
#include <string.h>
#include <unistd.h>

#include "tools/thumbnail.h"

int dg_thumbnailer_init(dg_thumbnailer *t, int size, int quality, dg_err *err)
{
    memset(t, 0, sizeof *t);
    if (size < 8 || size > 4096 || quality < 1 || quality > 100)
        return dg_fail(err, "thumbnail size %d or quality %d out of range", size, quality);
    t->size = size;
    t->quality = quality;
    return dg_jpeg_codec_init(&t->codec, err);
}

void dg_thumbnailer_free(dg_thumbnailer *t)
{
    dg_jpeg_codec_free(&t->codec);
}

int dg_thumbnail_write(dg_thumbnailer *t, const char *src, const char *dst, int *w, int *h, dg_err *err)
{
    dg_image im;
    *w = *h = 0;
    if (dg_jpeg_load(&t->codec, src, t->size, t->size, &im, err) != DG_OK)
        return DG_FAIL;
    int rc = dg_jpeg_save(&t->codec, &im, t->quality, 0, dst, err);
    if (rc == DG_OK) {
        *w = im.w;
        *h = im.h;
    } else {
        unlink(dst);
    }
    dg_image_free(&im);
    return rc;
}
