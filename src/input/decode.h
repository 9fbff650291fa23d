/* decode.h - decoding one image file (JPEG with libjpeg-turbo, PNG with
 * libspng, WebP with libwebp; chosen by the first bytes, never the name),
 * never fatal for the job: every outcome is a dg_status (decode.c, and
 * decode_png.c, decode_webp.c behind it).
 *
 * Every format gives the same result: packed 8-bit RGB reduced to the
 * smallest size with both sides >= min_side (JPEG in the DCT domain, PNG
 * and WebP after or while decoding).  Alpha (PNG alpha channels and tRNS,
 * WebP alpha) is composited over white; 16-bit PNG samples are scaled to 8
 * bits (the high byte); an animation (APNG, animated WebP) gives its first
 * frame and DG_ST_OK_WITH_WARNING.  An image whose EXIF data (a JPEG's
 * APP1 segment, a PNG's eXIf chunk, a WebP's EXIF chunk) gives an
 * orientation is turned as a viewer shows it (exif_orientation.h).
 */
#ifndef DUPGRAPH_INPUT_DECODE_H
#define DUPGRAPH_INPUT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "dupgraph/common.h"

#define DG_EMBED_MAX_FILE_BYTES ((size_t)256 << 20)
#define DG_EMBED_MAX_MISSING_ROWS 0.05

/* Packed RGB, 3 bytes per pixel, rows without padding. */
typedef struct dg_pixels {
    int w, h;
    const unsigned char *rgb;
} dg_pixels;

/* One per rank, reused for every file: the turbojpeg handle and buffers
 * (PNG and WebP contexts are made per file: they hold no state worth
 * keeping). */
typedef struct dg_decoder {
    void *tj;           /* tjhandle */
    int64_t max_pixels; /* <= 0: no limit */
    int min_side;       /* decode to the smallest scale with both sides >= this */
    unsigned char *file;
    size_t file_cap;
    unsigned char *pix;
    size_t pix_cap;
    unsigned char *turned; /* pixels turned by an EXIF orientation, then swapped with pix */
    size_t turned_cap;
} dg_decoder;

typedef struct dg_decode_result {
    dg_status status;
    int width, height;  /* of the image as shown (its EXIF orientation applied); 0 when its
                           header was not read */
    dg_pixels image;     /* usable statuses only; valid until the next call */
    char msg[256];      /* reason of a failure or warning, "" for ok */
    double seconds_read, seconds_decode;
} dg_decode_result;

int dg_decoder_init(dg_decoder *dec, int64_t max_pixels, int min_side, dg_err *err);
/* sizeof(dg_decoder) and sizeof(dg_decode_result), for the ctypes mirrors of
 * python/dgtools/native.py to check their layout against. */
size_t dg_decoder_bytes(void);
size_t dg_decode_result_bytes(void);
void dg_decoder_free(dg_decoder *dec);
void dg_decode_file(dg_decoder *dec, const char *path, dg_decode_result *res);
/* Same from bytes in memory (tests, fuzzing); never reads the file system. */
void dg_decode_memory(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res);

#endif
