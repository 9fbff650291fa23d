/* test_verify.c - the verifier of candidate pairs (graph/verify.c) on real
 * photographs from Debian's lomiri-wallpapers-16.04 (skipped when it is not
 * installed), with copies made by our own edits (bench/edits.c): copies
 * under crop + rotation, mirror and a text band pass, two tiles of one
 * photo sharing little and two different photos are rejected.  Signatures
 * are made from the photos at about the embedders' decode size.  No MPI. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "bench/edits.h"
#include "graph/verify.h"
#include "input/signature.h"
#include "tools/raster.h"

#define PHOTO_A "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg"
#define PHOTO_B "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg"
#define THRESHOLD 0.5f /* verify.threshold's default */

static int have_photos(void)
{
    return access(PHOTO_A, R_OK) == 0 && access(PHOTO_B, R_OK) == 0;
}

/* The photo fitted into 512 x 512 (edits run at that size). */
static void load(const char *path, dg_image *im)
{
    dg_jpeg_codec codec;
    dg_err err;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_jpeg_load(&codec, path, 512, 512, im, &err), DG_OK);
    dg_jpeg_codec_free(&codec);
}

/* The signature of im at the embedders' scale (shorter side about 64). */
static void signature(const dg_image *im, uint8_t *sig)
{
    dg_image small;
    dg_err err;
    int w = im->w * 64 / (im->w < im->h ? im->w : im->h), h = im->h * 64 / (im->w < im->h ? im->w : im->h);
    assert_int_equal(dg_image_resize(im, w, h, &small, &err), DG_OK);
    dg_pixels px = {small.w, small.h, small.px};
    dg_signature_make(&px, sig);
    dg_image_free(&small);
}

static float score_of(const dg_image *a, const dg_image *b)
{
    uint8_t sa[DG_SIG_BYTES], sb[DG_SIG_BYTES];
    signature(a, sa);
    signature(b, sb);
    float s = dg_verify_score(sa, sb, NULL);
    assert_true(fabsf(s - dg_verify_score(sb, sa, NULL)) < 0.25f); /* about symmetric */
    print_message("      score %.3f\n", (double)s);
    return s;
}

static void crop_and_rotation_passes(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, crop, rot;
    dg_err err;
    load(PHOTO_A, &a);
    /* an off-centre crop keeping 80% of each side, then 7 degrees */
    assert_int_equal(dg_img_crop(&a, a.w / 5, a.h / 10, a.w * 4 / 5, a.h * 4 / 5, &crop, &err), DG_OK);
    assert_int_equal(dg_img_rotate(&crop, 7.0, &rot, &err), DG_OK);
    assert_true(score_of(&a, &rot) >= THRESHOLD);
    dg_image_free(&a);
    dg_image_free(&crop);
    dg_image_free(&rot);
}

static void mirrored_copy_passes(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, flip;
    dg_err err;
    load(PHOTO_B, &a);
    assert_int_equal(dg_img_hflip(&a, &flip, &err), DG_OK);
    assert_true(score_of(&a, &flip) >= 0.8f);
    dg_image_free(&a);
    dg_image_free(&flip);
}

static void text_band_copy_passes(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, text;
    dg_err err;
    load(PHOTO_A, &a);
    assert_int_equal(dg_image_copy(&a, &text, &err), DG_OK);
    const uint8_t bg[3] = {250, 250, 250}, fg[3] = {20, 20, 20};
    dg_img_text_band(&text, text.h - text.h / 8, text.h / 8, bg, fg, "WEEKEND TRIP 07-2018");
    assert_true(score_of(&a, &text) >= THRESHOLD);
    dg_image_free(&a);
    dg_image_free(&text);
}

static void tiles_of_one_photo_are_rejected(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, left, right;
    dg_err err;
    load(PHOTO_B, &a);
    /* the left and right 55%: a tenth of the width in common */
    int w = a.w * 55 / 100;
    assert_int_equal(dg_img_crop(&a, 0, 0, w, a.h, &left, &err), DG_OK);
    assert_int_equal(dg_img_crop(&a, a.w - w, 0, w, a.h, &right, &err), DG_OK);
    assert_true(score_of(&left, &right) < THRESHOLD);
    dg_image_free(&a);
    dg_image_free(&left);
    dg_image_free(&right);
}

static void different_photos_are_rejected(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, b;
    load(PHOTO_A, &a);
    load(PHOTO_B, &b);
    assert_true(score_of(&a, &b) < THRESHOLD);
    dg_image_free(&a);
    dg_image_free(&b);
}

static void missing_signature_scores_minus_one(void **state)
{
    (void)state;
    uint8_t none[DG_SIG_BYTES] = {0}, flat[DG_SIG_BYTES];
    uint8_t rgb[16 * 16 * 3];
    for (int i = 0; i < 16 * 16 * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    dg_pixels px = {16, 16, rgb};
    dg_signature_make(&px, flat);
    assert_true(dg_signature_present(flat));
    assert_true(dg_verify_score(none, flat, NULL) == -1.0f);
    assert_true(dg_verify_score(flat, flat, NULL) >= 0.99f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crop_and_rotation_passes),
        cmocka_unit_test(mirrored_copy_passes),
        cmocka_unit_test(text_band_copy_passes),
        cmocka_unit_test(tiles_of_one_photo_are_rejected),
        cmocka_unit_test(different_photos_are_rejected),
        cmocka_unit_test(missing_signature_scores_minus_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
