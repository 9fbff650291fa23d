/* decode_format.h - what the per-format decoders (decode.c for JPEG,
 * decode_png.c, decode_webp.c) share: the result's status and reason, the
 * decoder's pixel buffer, the header size check and the pixel steps
 * (decode_pixels.c).  Private to src/input/decode*.c. */
#ifndef DUPGRAPH_INPUT_DECODE_FORMAT_H
#define DUPGRAPH_INPUT_DECODE_FORMAT_H

#include "input/decode.h"

/* The background alpha is composited over (white). */
#define DG_DECODE_BACKGROUND 255

/* Sets res->status and its reason (printf-style); returns st. */
dg_status dg_decode_set(dg_decode_result *res, dg_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* *buf (of *cap bytes) holds at least `bytes`; DG_FAIL when memory is
 * short.  dg_decode_grow: for dec->pix. */
int dg_decode_grow_buffer(unsigned char **buf, size_t *cap, size_t bytes);
int dg_decode_grow(dg_decoder *dec, size_t bytes);

/* Records the stored size in res and refuses more than embed.max_pixels
 * (DG_ST_TOO_LARGE) before anything is decoded; DG_ST_OK otherwise. */
dg_status dg_decode_check_size(const dg_decoder *dec, int w, int h, dg_decode_result *res);

/* The size the JPEG path would decode the same w x h to: the smallest of
 * libjpeg-turbo's scales M/8 (M = 1..8) with both sides >= min_side, so a
 * PNG or WebP copy of a JPEG reaches the descriptor at the JPEG's own size. */
void dg_decode_target(int w, int h, int min_side, int *ow, int *oh);

/* RGBA (not premultiplied) to RGB over DG_DECODE_BACKGROUND, in place. */
void dg_decode_flatten(unsigned char *px, size_t pixels);

/* Area-average resampling of packed RGB from w x h to ow x oh (each no
 * larger), in place. */
void dg_decode_reduce(unsigned char *rgb, int w, int h, int ow, int oh);

/* The RGB pixels in dec->pix at w x h become the usable result as they are
 * (take) or reduced to dg_decode_target for dec->min_side first (shrink). */
void dg_decode_take(dg_decoder *dec, int w, int h, dg_decode_result *res);
void dg_decode_shrink(dg_decoder *dec, int w, int h, dg_decode_result *res);

/* A usable result's pixels turned as EXIF orientation o says a viewer
 * shows them (exif_orientation.h), its width and height with them; nothing
 * for o = 1 (or 0: no tag) or an unusable result.  Returns res->status
 * (DG_ST_TOO_LARGE when memory is short). */
dg_status dg_decode_turn(dg_decoder *dec, int o, dg_decode_result *res);

int dg_decode_is_png(const unsigned char *buf, size_t len);
int dg_decode_is_webp(const unsigned char *buf, size_t len);

/* Decode buf (its signature already checked) into res. */
dg_status dg_decode_png(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res);
dg_status dg_decode_webp(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res);

#endif
