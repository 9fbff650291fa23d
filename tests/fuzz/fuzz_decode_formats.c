/* fuzz_decode_formats.c - libFuzzer harness for the PNG and WebP paths of
 * dg_decode_memory (libspng with the header size check, alpha over white
 * and the area-average reduction; libwebp's header, scaled decode and
 * libwebpdemux's first frame of an animation).  Each input is tried as
 * given and behind the PNG and WebP signatures, so that mutations reach the
 * decoders instead of stopping at the format check; one decoder is reused
 * across inputs as on a rank.
 *
 * Checked beyond "no crash, no UB, no leak": the status is a decode status
 * with a reason unless ok; a usable image has pixels of a sane size, no
 * larger than the stored image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/decode.h"
#include "input/descriptor.h"

/* Small enough that huge headers are refused, not allocated. */
#define MAX_PIXELS 4000000

static dg_decoder decoder;

static void check(int ok, const char *what, const dg_decode_result *res)
{
    if (!ok) {
        fprintf(stderr, "fuzz_decode_formats: %s (status %s, %d x %d, '%s')\n", what, dg_status_name(res->status),
                res->width, res->height, res->msg);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    dg_err err;
    if (dg_decoder_init(&decoder, MAX_PIXELS, DG_DESC_SIZE, &err) != DG_OK) {
        fprintf(stderr, "fuzz_decode_formats: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void decode_one(const uint8_t *data, size_t size)
{
    dg_decode_result res;
    dg_decode_memory(&decoder, data, size, &res);
    check(res.status >= DG_ST_OK && res.status <= DG_ST_TOO_LARGE && res.status != DG_ST_MISSING &&
              res.status != DG_ST_UNREADABLE,
          "not a decode status", &res);
    check(res.status == DG_ST_OK || res.msg[0] != '\0', "failure without a reason", &res);
    if (!dg_status_usable((int8_t)res.status))
        return;
    const dg_pixels *img = &res.image;
    check(img->rgb && img->w >= 1 && img->h >= 1 && img->w <= res.width && img->h <= res.height &&
              (int64_t)img->w * img->h <= MAX_PIXELS,
          "usable image with bad pixels", &res);
}

/* The input behind a signature: PNG's 8 bytes, or a RIFF/WEBP header whose
 * size field matches the data. */
static void decode_behind(const char *sig, size_t sig_len, const uint8_t *data, size_t size, int riff)
{
    uint8_t *buf = malloc(sig_len + size);
    if (!buf)
        return;
    memcpy(buf, sig, sig_len);
    memcpy(buf + sig_len, data, size);
    if (riff) {
        uint32_t n = (uint32_t)(sig_len + size - 8);
        buf[4] = (uint8_t)n;
        buf[5] = (uint8_t)(n >> 8);
        buf[6] = (uint8_t)(n >> 16);
        buf[7] = (uint8_t)(n >> 24);
    }
    decode_one(buf, sig_len + size);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_one(data, size);
    decode_behind("\x89PNG\r\n\x1a\n", 8, data, size, 0);
    decode_behind("RIFF\0\0\0\0WEBP", 12, data, size, 1);
    return 0;
}
