/* test_verify.c - the verifier of candidate pairs (graph/verify.c) on real
 * photographs from Debian's lomiri-wallpapers-16.04 (skipped when it is not
 * installed), with copies made by our own edits (bench/edits.c): copies
 * under crop + rotation, mirror, a text band and a logo box pass, two tiles of one
 * photo sharing little and two different photos are rejected; on every
 * dg-mkbench transform of three photos, and across photos, the verifier
 * gives the very scores of the plain reference implementation
 * (verify_reference.c, the verifier before it was made fast).  Signatures
 * are made from the photos at about the embedders' decode size.  No MPI. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "bench/compose.h"
#include "bench/edits.h"
#include "bench/xform.h"
#include "graph/verify.h"
#include "graph/verify_edges.h"
#include "input/descriptor.h"
#include "input/signature.h"
#include "tools/raster.h"
#include "verify_reference.h"

#define PHOTO_A "/usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg"
#define PHOTO_B "/usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg"
#define PHOTO_C "/usr/share/backgrounds/Dragonfly_by_Bolly.jpg"
#define THRESHOLD 0.6f /* verify.threshold's default */
/* a tune-split scene of the quality benchmark (jobs/quality/scenes.tsv):
 * water ripples, whose 2 x 2 tiles agree block by block */
#define PHOTO_TEXTURE "/usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg"
#define MAX_DETAIL_DIFF 0.45f /* verify.max_detail_diff's default */

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
    int box[DG_BOX_LEN];
    dg_content_box(&px, box);
    dg_signature_make(&px, box, sig);
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

/* A see-through logo box near the centre (dg-mkbench's strong logo): on
 * the first photo the alignment search, pulled by the box, settles off the
 * copy's own placement (0.52 without the in-place placement of thumbnails
 * of one shape, 0.62 with it). */
static void logo_box_copy_passes(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    const char *photos[] = {"/usr/share/backgrounds/free_by_Peter_Nerlich.jpg",
                            "/usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg",
                            "/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg"};
    const double at[][2] = {{0.608, 0.644}, {0.45, 0.4}, {0.608, 0.644}};
    const uint8_t white[3] = {255, 255, 255}, ink[3] = {20, 20, 20};
    for (int k = 0; k < 3; k++) {
        dg_image a, logo;
        dg_err err;
        load(photos[k], &a);
        assert_int_equal(dg_compose_logo(&a, 0.137, at[k][0], at[k][1], white, ink, 0.55, "MYBLOG", &logo, &err),
                         DG_OK);
        assert_true(score_of(&a, &logo) >= THRESHOLD);
        dg_image_free(&a);
        dg_image_free(&logo);
    }
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

/* The box (x0, y0)..(x1, y1) of im in fractions of its sides. */
static void crop_frac(const dg_image *im, double x0, double y0, double x1, double y1, dg_image *out)
{
    dg_err err;
    int px = (int)(x0 * im->w), py = (int)(y0 * im->h);
    assert_int_equal(dg_img_crop(im, px, py, (int)(x1 * im->w) - px, (int)(y1 * im->h) - py, out, &err), DG_OK);
}

/* dg-mkbench's pan:3 hard negatives (each 0.4 of the width and 0.9 of the
 * height, neighbours sharing a quarter of their area) are rejected, while
 * an off-centre crop keeping 75% of the area and a centre crop pass: a copy
 * contains most of the other image, two pan crops only overlap.  (The
 * verifier places one image inside the other, so a partial overlap is
 * never an alignment it can score high.) */
static void pan_crops_are_rejected_crops_pass(void **state)
{
    (void)state;
    if (!have_photos())
        skip();
    dg_image a, pan1, pan2, pan3, off, centre;
    load(PHOTO_A, &a);
    crop_frac(&a, 0.0, 0.0, 0.4, 0.9, &pan1);
    crop_frac(&a, 0.3, 0.05, 0.7, 0.95, &pan2);
    crop_frac(&a, 0.6, 0.1, 1.0, 1.0, &pan3);
    crop_frac(&a, 0.134, 0.134, 1.0, 1.0, &off); /* 0.866^2 = 75% of the area, a corner kept */
    crop_frac(&a, 0.1, 0.1, 0.9, 0.9, &centre);
    assert_true(score_of(&pan1, &pan2) < THRESHOLD);
    assert_true(score_of(&pan2, &pan3) < THRESHOLD);
    assert_true(score_of(&pan1, &pan3) < THRESHOLD);
    assert_true(score_of(&a, &off) >= THRESHOLD);
    assert_true(score_of(&a, &centre) >= THRESHOLD);
    dg_image *all[] = {&a, &pan1, &pan2, &pan3, &off, &centre};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        dg_image_free(all[i]);
}

static float detail_diff_of(const dg_image *a, const dg_image *b, float *score)
{
    uint8_t sa[DG_SIG_BYTES], sb[DG_SIG_BYTES];
    dg_verify_match m;
    signature(a, sa);
    signature(b, sb);
    *score = dg_verify_score(sa, sb, &m);
    assert_true(m.score == *score);
    assert_true(m.detail_diff >= 0.0f && m.detail_diff <= 1.0f);
    print_message("      score %.3f detail_diff %.3f\n", (double)*score, (double)m.detail_diff);
    return m.detail_diff;
}

/* Two tiles of a ripple texture that share no pixel pass the block score
 * but not the detail check (verify.max_detail_diff); copies of a photo pass
 * both: a mirror, a centre crop, a text band, crop + rotation.  A 75%-area
 * off-centre crop passes the block score only: its detail difference (0.49)
 * is above the default 0.45, the price of rejecting the tiles (0.46) once
 * the search aligns them better (results/verify_pairs_tune.json: on the
 * tune candidates the 0.45 check keeps 98.8% of the true pairs 0.5 keeps,
 * with half the false accepts). */
static void texture_tiles_fail_the_detail_check(void **state)
{
    (void)state;
    if (!have_photos() || access(PHOTO_TEXTURE, R_OK) != 0)
        skip();
    dg_image t, t1, t2, a, flip, off, centre, text, crop, rot;
    dg_err err;
    float s;
    load(PHOTO_TEXTURE, &t);
    crop_frac(&t, 0.015, 0.015, 0.485, 0.485, &t1); /* dg-mkbench's tiles:2x2 */
    crop_frac(&t, 0.515, 0.015, 0.985, 0.485, &t2);
    assert_true(detail_diff_of(&t1, &t2, &s) > MAX_DETAIL_DIFF);
    assert_true(s >= THRESHOLD); /* what the block score alone lets through */
    load(PHOTO_A, &a);
    assert_int_equal(dg_img_hflip(&a, &flip, &err), DG_OK);
    crop_frac(&a, 0.134, 0.0, 1.0, 0.866, &off);
    assert_true(detail_diff_of(&a, &off, &s) > MAX_DETAIL_DIFF);
    assert_true(s >= THRESHOLD);
    crop_frac(&a, 0.1, 0.1, 0.9, 0.9, &centre);
    assert_int_equal(dg_image_copy(&a, &text, &err), DG_OK);
    const uint8_t bg[3] = {250, 250, 250}, fg[3] = {20, 20, 20};
    dg_img_text_band(&text, text.h - text.h / 8, text.h / 8, bg, fg, "WEEKEND TRIP 07-2018");
    crop_frac(&a, 0.2, 0.1, 1.0, 0.9, &crop);
    assert_int_equal(dg_img_rotate(&crop, 7.0, &rot, &err), DG_OK);
    const dg_image *copies[] = {&flip, &centre, &text, &rot};
    for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
        assert_true(detail_diff_of(&a, copies[i], &s) <= MAX_DETAIL_DIFF);
        assert_true(s >= THRESHOLD);
    }
    dg_image *all[] = {&t, &t1, &t2, &a, &flip, &off, &centre, &text, &crop, &rot};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        dg_image_free(all[i]);
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

/* The fast verifier and the reference on one ordered pair: the same
 * decision at THRESHOLD and at 0.5, the same score and transform. */
static void same_as_reference(const uint8_t *a, const uint8_t *b, int *passed)
{
    dg_verify_match fast, ref;
    float s = dg_verify_score(a, b, &fast), r = verify_reference_score(a, b, &ref);
    assert_true((s >= THRESHOLD) == (r >= THRESHOLD));
    assert_true((s >= 0.5f) == (r >= 0.5f));
    assert_true(fabsf(s - r) <= 1e-6f);
    assert_true(fast.probe_is_b == ref.probe_is_b && fast.mirror == ref.mirror);
    assert_true(fabsf(fast.scale - ref.scale) <= 1e-6f && fabsf(fast.degrees - ref.degrees) <= 1e-6f);
    assert_true(fabsf(fast.tx - ref.tx) <= 1e-6f && fabsf(fast.ty - ref.ty) <= 1e-6f);
    *passed += r >= THRESHOLD;
}

/* Every transform of dg-mkbench at both strengths, of three photos: each
 * copy against its photo and against another photo, both orders. */
static void scores_equal_the_reference(void **state)
{
    (void)state;
    if (!have_photos() || access(PHOTO_C, R_OK) != 0)
        skip();
    const char *photos[3] = {PHOTO_A, PHOTO_B, PHOTO_C};
    uint8_t orig[3][DG_SIG_BYTES];
    dg_image im[3];
    for (int p = 0; p < 3; p++) {
        load(photos[p], &im[p]);
        signature(&im[p], orig[p]);
    }
    int pairs = 0, copies = 0, passed_copies = 0, passed_others = 0;
    for (int p = 0; p < 3; p++)
        for (int kind = 0; kind < DG_XF_COUNT; kind++)
            for (int st = DG_MILD; st <= DG_STRONG; st++) {
                if (!dg_xform_exists((dg_xform_kind)kind, (dg_strength)st))
                    continue;
                dg_xform xf;
                dg_image out;
                dg_err err;
                uint8_t sig[DG_SIG_BYTES];
                dg_xform_draw(&xf, (dg_xform_kind)kind, (dg_strength)st, 7, (uint64_t)p);
                assert_int_equal(dg_xform_apply(&xf, &im[p], &out, &err), DG_OK);
                signature(&out, sig);
                dg_image_free(&out);
                const uint8_t *other = orig[(p + 1) % 3];
                same_as_reference(orig[p], sig, &passed_copies);
                same_as_reference(sig, orig[p], &passed_copies);
                same_as_reference(other, sig, &passed_others);
                same_as_reference(sig, other, &passed_others);
                pairs += 4;
                copies += 2;
            }
    print_message("      %d pairs equal: %d of %d copy pairs and %d of %d other-photo pairs pass\n", pairs,
                  passed_copies, copies, passed_others, pairs - copies);
    /* both decisions occur, so the comparison covers each side of the threshold */
    assert_true(passed_copies > copies / 2 && passed_others < (pairs - copies) / 2);
    for (int p = 0; p < 3; p++)
        dg_image_free(&im[p]);
}

/* verify_edges.h's decision: the cut-offs, or a lower score where the
 * embedding already agrees (verify.agree_above), detail unchecked there. */
static void verified_pairs_pass_by_cutoffs_or_agreement(void **state)
{
    (void)state;
    dg_verify_params vp = {.threshold = 0.55f, .accept_above = 0.9f, .max_detail_diff = 0.35f,
                           .agree_above = 0.7f, .agree_threshold = 0.5f};
    assert_true(dg_verify_passes(&vp, 0.4f, 0.55f, 0.35f));
    assert_false(dg_verify_passes(&vp, 0.4f, 0.9f, 0.36f));  /* details differ: a tile of one texture */
    assert_false(dg_verify_passes(&vp, 0.69f, 0.54f, 0.1f)); /* below agree_above: verify.threshold */
    assert_true(dg_verify_passes(&vp, 0.7f, 0.5f, 0.9f));    /* agreeing embedding: the detail is not asked */
    assert_false(dg_verify_passes(&vp, 0.8f, 0.49f, 0.0f));
    assert_false(dg_verify_passes(&vp, 0.8f, -1.0f, 0.0f)); /* no signature */
    assert_false(dg_verify_passes(&vp, 0.8f, NAN, 0.0f));
    vp.agree_above = 1.0f; /* off */
    vp.agree_threshold = 0.0f;
    assert_false(dg_verify_passes(&vp, 1.0f, 0.5f, 0.9f));
}

static void missing_signature_scores_minus_one(void **state)
{
    (void)state;
    uint8_t none[DG_SIG_BYTES] = {0}, flat[DG_SIG_BYTES];
    uint8_t rgb[16 * 16 * 3];
    for (int i = 0; i < 16 * 16 * 3; i++)
        rgb[i] = (uint8_t)(i * 7);
    dg_pixels px = {16, 16, rgb};
    int box[DG_BOX_LEN];
    dg_content_box(&px, box);
    dg_signature_make(&px, box, flat);
    assert_true(dg_signature_present(flat));
    assert_true(dg_verify_score(none, flat, NULL) == -1.0f);
    assert_true(dg_verify_score(flat, flat, NULL) >= 0.99f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verified_pairs_pass_by_cutoffs_or_agreement),
        cmocka_unit_test(crop_and_rotation_passes),
        cmocka_unit_test(mirrored_copy_passes),
        cmocka_unit_test(text_band_copy_passes),
        cmocka_unit_test(logo_box_copy_passes),
        cmocka_unit_test(tiles_of_one_photo_are_rejected),
        cmocka_unit_test(pan_crops_are_rejected_crops_pass),
        cmocka_unit_test(texture_tiles_fail_the_detail_check),
        cmocka_unit_test(different_photos_are_rejected),
        cmocka_unit_test(scores_equal_the_reference),
        cmocka_unit_test(missing_signature_scores_minus_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
