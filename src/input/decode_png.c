/* decode_png.c - one PNG in memory to reduced RGB with libspng: the header
 * size check before decoding, 8-bit RGB straight from libspng (it converts
 * palette and gray, and 16-bit samples by their high byte), RGBA over white
 * when the image has an alpha channel or a tRNS chunk, then the area
 * reduction (decode_pixels.c), and the turn of an eXIf chunk's orientation.
 * libspng reads no APNG chunks: the default image, which is an animation's
 * first frame, is what it decodes, and an acTL chunk marks the result
 * ok_with_warning. */
#include "input/decode_format.h"
#include "input/exif_orientation.h"

#include <spng.h>
#include <string.h>

/* Ancillary chunks kept in memory at most (text, ICC profiles, APNG frames
 * held as unknown chunks); past it the file is corrupt, not a memory bomb.
 * It bounds one chunk too: a compressed chunk (iCCP, zTXt) inflates beyond
 * its own size, and beyond the file's (a 13 KB wallpaper with a 9 KB
 * profile: libspng inflates into a buffer that doubles). */
#define PNG_CACHE_LIMIT ((size_t)64 << 20)

static int has_alpha(spng_ctx *ctx, const struct spng_ihdr *ihdr)
{
    struct spng_trns trns;
    if (ihdr->color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA || ihdr->color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA)
        return 1;
    return spng_get_trns(ctx, &trns) == 0;
}

static int is_animated(spng_ctx *ctx)
{
    uint32_t n = 0;
    if (spng_get_unknown_chunks(ctx, NULL, &n) != 0 || n == 0)
        return 0;
    struct spng_unknown_chunk chunks[64];
    if (n > sizeof chunks / sizeof chunks[0])
        n = sizeof chunks / sizeof chunks[0]; /* acTL comes before IDAT, so among the first */
    if (spng_get_unknown_chunks(ctx, chunks, &n) != 0)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (memcmp(chunks[i].type, "acTL", 4) == 0)
            return 1;
    return 0;
}

static dg_status decode_ctx(dg_decoder *dec, spng_ctx *ctx, const unsigned char *buf, size_t len,
                            dg_decode_result *res)
{
    struct spng_ihdr ihdr;
    int rc = spng_set_png_buffer(ctx, buf, len);
    if (rc == 0)
        rc = spng_set_chunk_limits(ctx, PNG_CACHE_LIMIT, PNG_CACHE_LIMIT);
    if (rc == 0)
        rc = spng_set_option(ctx, SPNG_KEEP_UNKNOWN_CHUNKS, 1);
    if (rc == 0)
        rc = spng_get_ihdr(ctx, &ihdr);
    if (rc != 0)
        return dg_decode_set(res, DG_ST_CORRUPT, "PNG header: %s", spng_strerror(rc));
    if (ihdr.width == 0 || ihdr.height == 0 || ihdr.width > INT32_MAX || ihdr.height > INT32_MAX)
        return dg_decode_set(res, DG_ST_CORRUPT, "PNG of %u x %u pixels", ihdr.width, ihdr.height);
    int w = (int)ihdr.width, h = (int)ihdr.height;
    if (dg_decode_check_size(dec, w, h, res) != DG_ST_OK)
        return res->status;
    int alpha = has_alpha(ctx, &ihdr);
    int fmt = alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    size_t bytes = 0;
    rc = spng_decoded_image_size(ctx, fmt, &bytes);
    if (rc != 0)
        return dg_decode_set(res, DG_ST_CORRUPT, "PNG: %s", spng_strerror(rc));
    if (dg_decode_grow(dec, bytes) != DG_OK)
        return dg_decode_set(res, DG_ST_TOO_LARGE, "out of memory for %d x %d pixels", w, h);
    rc = spng_decode_image(ctx, dec->pix, bytes, fmt, alpha ? SPNG_DECODE_TRNS : 0);
    if (rc != 0)
        return dg_decode_set(res, DG_ST_CORRUPT, "PNG data: %s", spng_strerror(rc));
    if (alpha)
        dg_decode_flatten(dec->pix, (size_t)w * (size_t)h);
    dg_decode_shrink(dec, w, h, res);
    /* The chunks after the image up to IEND: damage there is what a missing
     * EOI is for JPEG, a warning. */
    rc = spng_decode_chunks(ctx);
    if (is_animated(ctx))
        dg_decode_set(res, DG_ST_OK_WITH_WARNING, "animated PNG: first frame only");
    else if (rc != 0)
        dg_decode_set(res, DG_ST_OK_WITH_WARNING, "PNG after the image data: %s", spng_strerror(rc));
    else
        dg_decode_set(res, DG_ST_OK, "%s", "");
    struct spng_exif exif;
    int o = spng_get_exif(ctx, &exif) == 0 ? dg_exif_orientation((const unsigned char *)exif.data, exif.length) : 1;
    return dg_decode_turn(dec, o, res);
}

dg_status dg_decode_png(dg_decoder *dec, const unsigned char *buf, size_t len, dg_decode_result *res)
{
    spng_ctx *ctx = spng_ctx_new(0);
    if (!ctx)
        return dg_decode_set(res, DG_ST_UNREADABLE, "cannot create a libspng context (out of memory?)");
    dg_status st = decode_ctx(dec, ctx, buf, len, res);
    spng_ctx_free(ctx);
    return st;
}
