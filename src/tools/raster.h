/* raster.h - the 8-bit RGB image the benchmark tool works on, its
 * resampling, and JPEG load/save through the turbojpeg API.
 *
 * This is the benchmark generator's image layer (dg-mkbench), not the job's
 * decoder: it favours output quality and exact reproducibility over speed.
 * Owned memory: dg_image.px is malloc'd by whichever function fills the
 * struct and released by dg_image_free.
 */
#ifndef DUPGRAPH_RASTER_H
#define DUPGRAPH_RASTER_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"

/* Row-major, 3 bytes per pixel (R, G, B), no padding between rows. */
typedef struct dg_image {
    int w;
    int h;
    uint8_t *px;
} dg_image;

/* Sources above this many pixels are refused before decoding. */
#define DG_RASTER_MAX_PIXELS ((int64_t)1 << 28)

int dg_image_alloc(dg_image *im, int w, int h, dg_err *err);
void dg_image_free(dg_image *im);
int dg_image_copy(const dg_image *src, dg_image *dst, dg_err *err);

static inline uint8_t *dg_image_at(const dg_image *im, int x, int y)
{
    return im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
}

/* Resamples to w x h with a separable triangle filter whose support widens
 * with the reduction factor (area-averaging when shrinking, bilinear when
 * enlarging), so strong reductions do not alias. */
int dg_image_resize(const dg_image *src, int w, int h, dg_image *dst, dg_err *err);

/* Largest size with src's aspect ratio that fits in max_w x max_h; never
 * enlarges (returns the source size if it already fits). */
void dg_fit_size(int w, int h, int max_w, int max_h, int *out_w, int *out_h);

/* One turbojpeg handle for each direction; one codec per thread of work. */
typedef struct dg_jpeg_codec {
    void *dec;
    void *enc;
} dg_jpeg_codec;

int dg_jpeg_codec_init(dg_jpeg_codec *codec, dg_err *err);
void dg_jpeg_codec_free(dg_jpeg_codec *codec);

/* Reads the dimensions from a JPEG header in memory. */
int dg_jpeg_header(dg_jpeg_codec *codec, const uint8_t *buf, size_t len, int *w, int *h,
                   dg_err *err);

/* Decodes a JPEG in memory to RGB, fitted into max_w x max_h (<= 0: no
 * limit): it decodes at the smallest DCT scale that is still at least the
 * fitted size, then resamples to the exact fitted size. */
int dg_jpeg_decode(dg_jpeg_codec *codec, const uint8_t *buf, size_t len, int max_w, int max_h,
                   dg_image *out, dg_err *err);

/* Encodes to a malloc'd buffer (*out, *out_len; free with free()): 4:2:0
 * colour at `quality`, or a single-component grayscale JPEG when gray. */
int dg_jpeg_encode(dg_jpeg_codec *codec, const dg_image *im, int quality, int gray, uint8_t **out,
                   size_t *out_len, dg_err *err);

/* Whole-file helpers around the two functions above. */
int dg_read_file(const char *path, uint8_t **buf, size_t *len, dg_err *err);
int dg_jpeg_load(dg_jpeg_codec *codec, const char *path, int max_w, int max_h, dg_image *out,
                 dg_err *err);
int dg_jpeg_save(dg_jpeg_codec *codec, const dg_image *im, int quality, int gray, const char *path,
                 dg_err *err);

#endif
