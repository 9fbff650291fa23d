/* test_decode_bench.c - what dg-decode-bench compares is the same decode:
 * a real photo (lomiri-wallpapers-16.04) fitted to 300 x 225 and saved by
 * bench/recode.c in each format; the job's decoder (input/decode.h) and the
 * libraries' own decoders (bench/decode_ref.c) agree on its size, the
 * lossless copies decode to the very pixels saved, the JPEG at the job's
 * DCT scale is byte for byte the job's pixels, and every format reaches the
 * embedder at the same size.  No timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/decode_ref.h"
#include "bench/recode.h"
#include "input/decode.h"
#include "input/descriptor.h"

#define PHOTO "/usr/share/backgrounds/free_by_Peter_Nerlich.jpg"
#define FIT 300

typedef struct fixture {
    dg_jpeg_codec codec;
    dg_decoder dec;
    dg_ref_decoder ref;
    dg_image photo;
    uint8_t *buf[DG_RECODE_COUNT];
    size_t len[DG_RECODE_COUNT];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    dg_err err = {0};
    if (!fx || dg_jpeg_codec_init(&fx->codec, &err) != DG_OK || dg_decoder_init(&fx->dec, 0, DG_DESC_SIZE, &err) != DG_OK ||
        dg_ref_init(&fx->ref, &err) != DG_OK || dg_jpeg_load(&fx->codec, PHOTO, FIT, FIT, &fx->photo, &err) != DG_OK) {
        fprintf(stderr, "setup: %s (the photo is in the Debian package lomiri-wallpapers-16.04)\n", err.msg);
        return -1;
    }
    for (int f = 0; f < DG_RECODE_COUNT; f++)
        if (dg_recode(&fx->codec, &fx->photo, (dg_recode_format)f, &fx->buf[f], &fx->len[f], &err) != DG_OK) {
            fprintf(stderr, "setup: %s: %s\n", dg_recode_name((dg_recode_format)f), err.msg);
            return -1;
        }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    for (int f = 0; f < DG_RECODE_COUNT; f++)
        free(fx->buf[f]);
    dg_image_free(&fx->photo);
    dg_ref_free(&fx->ref);
    dg_decoder_free(&fx->dec);
    dg_jpeg_codec_free(&fx->codec);
    free(fx);
    return 0;
}

static int ref_full(fixture *fx, dg_recode_format f, int *w, int *h)
{
    dg_err err = {0};
    int rc = f == DG_RECODE_JPEG  ? dg_ref_jpeg(&fx->ref, fx->buf[f], fx->len[f], 0, 0, w, h, &err)
             : f == DG_RECODE_PNG ? dg_ref_png(&fx->ref, fx->buf[f], fx->len[f], w, h, &err)
                                  : dg_ref_webp(&fx->ref, fx->buf[f], fx->len[f], w, h, &err);
    if (rc != DG_OK)
        fprintf(stderr, "%s: %s\n", dg_recode_name(f), err.msg);
    return rc;
}

static void every_decoder_reads_the_stored_size(void **state)
{
    fixture *fx = *state;
    assert_int_equal(fx->photo.w, FIT);
    assert_int_equal(fx->photo.h, 225); /* the photo is 4:3 */
    for (int f = 0; f < DG_RECODE_COUNT; f++) {
        int w = 0, h = 0;
        assert_int_equal(ref_full(fx, (dg_recode_format)f, &w, &h), DG_OK);
        assert_int_equal(w, fx->photo.w);
        assert_int_equal(h, fx->photo.h);
        dg_decode_result res;
        dg_decode_memory(&fx->dec, fx->buf[f], fx->len[f], &res);
        assert_int_equal(res.status, DG_ST_OK);
        assert_int_equal(res.width, fx->photo.w);
        assert_int_equal(res.height, fx->photo.h);
    }
}

static void lossless_copies_decode_to_the_saved_pixels(void **state)
{
    fixture *fx = *state;
    const dg_recode_format lossless[] = {DG_RECODE_PNG, DG_RECODE_WEBP_LOSSLESS};
    size_t bytes = (size_t)fx->photo.w * (size_t)fx->photo.h * 3;
    for (size_t k = 0; k < 2; k++) {
        int w = 0, h = 0;
        assert_int_equal(ref_full(fx, lossless[k], &w, &h), DG_OK);
        assert_memory_equal(fx->ref.pix, fx->photo.px, bytes);
    }
    /* the lossy ones do not */
    int w = 0, h = 0;
    assert_int_equal(ref_full(fx, DG_RECODE_WEBP_LOSSY, &w, &h), DG_OK);
    assert_memory_not_equal(fx->ref.pix, fx->photo.px, bytes);
}

static void jpeg_at_the_jobs_scale_is_the_jobs_decode(void **state)
{
    fixture *fx = *state;
    dg_decode_result res;
    dg_decode_memory(&fx->dec, fx->buf[DG_RECODE_JPEG], fx->len[DG_RECODE_JPEG], &res);
    assert_int_equal(res.status, DG_ST_OK);
    /* 300 x 225 to both sides >= 64: 3/8 scale, 113 x 85 */
    assert_int_equal(res.image.w, 113);
    assert_int_equal(res.image.h, 85);
    int w = 0, h = 0;
    dg_err err = {0};
    assert_int_equal(dg_ref_jpeg(&fx->ref, fx->buf[DG_RECODE_JPEG], fx->len[DG_RECODE_JPEG], res.image.w, res.image.h,
                                 &w, &h, &err),
                     DG_OK);
    assert_int_equal(w, res.image.w);
    assert_int_equal(h, res.image.h);
    assert_memory_equal(fx->ref.pix, res.image.rgb, (size_t)w * (size_t)h * 3);
}

static void every_format_reaches_the_embedder_at_the_jpegs_size(void **state)
{
    fixture *fx = *state;
    for (int f = 0; f < DG_RECODE_COUNT; f++) {
        dg_decode_result res;
        dg_decode_memory(&fx->dec, fx->buf[f], fx->len[f], &res);
        assert_int_equal(res.status, DG_ST_OK);
        assert_int_equal(res.image.w, 113);
        assert_int_equal(res.image.h, 85);
    }
}

static void formats_are_told_apart_by_their_bytes(void **state)
{
    fixture *fx = *state;
    assert_memory_equal(fx->buf[DG_RECODE_JPEG], "\xff\xd8", 2);
    assert_memory_equal(fx->buf[DG_RECODE_PNG], "\x89PNG", 4);
    assert_memory_equal(fx->buf[DG_RECODE_WEBP_LOSSLESS] + 8, "WEBPVP8L", 8);
    assert_memory_equal(fx->buf[DG_RECODE_WEBP_LOSSY] + 8, "WEBPVP8 ", 8);
    assert_string_equal(dg_recode_name(DG_RECODE_WEBP_LOSSY), "webp_lossy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_decoder_reads_the_stored_size),
        cmocka_unit_test(lossless_copies_decode_to_the_saved_pixels),
        cmocka_unit_test(jpeg_at_the_jobs_scale_is_the_jobs_decode),
        cmocka_unit_test(every_format_reaches_the_embedder_at_the_jpegs_size),
        cmocka_unit_test(formats_are_told_apart_by_their_bytes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
