/* test_transform.c - the benchmark transforms (bench/edits.c, bench/xform.c), the
 * resampler and JPEG round trip (raster.c) and dg-mkbench's duplicate-photo
 * key (mkbench_photos.c), each checked against a naive reference or an
 * exact expected value.  No MPI. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/compose.h"
#include "bench/edits.h"
#include "bench/mkbench_photos.h"
#include "bench/xform.h"
#include "tools/raster.h"

/* Reproducible noise image: every channel uniform in lo..hi. */
static void noise_image(dg_image *im, int w, int h, int lo, int hi, uint64_t seed)
{
    dg_err err;
    assert_int_equal(dg_image_alloc(im, w, h, &err), DG_OK);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        im->px[i] = (uint8_t)(lo + (int)(dg_unit(dg_mix64(seed + i)) * (hi - lo + 1)));
}

/* A smooth colour image with some texture, like a photo. */
static void smooth_image(dg_image *im, int w, int h)
{
    dg_err err;
    assert_int_equal(dg_image_alloc(im, w, h, &err), DG_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = dg_image_at(im, x, y);
            p[0] = (uint8_t)(40 + 150.0 * x / w);
            p[1] = (uint8_t)(60 + 100.0 * y / h + 20.0 * sin(x * 0.2));
            p[2] = (uint8_t)(128 + 60.0 * cos((x + y) * 0.05));
        }
}

static void fill(dg_image *im, uint8_t r, uint8_t g, uint8_t b)
{
    for (size_t i = 0; i < (size_t)im->w * im->h; i++) {
        im->px[3 * i] = r;
        im->px[3 * i + 1] = g;
        im->px[3 * i + 2] = b;
    }
}

static double mean_value(const dg_image *im)
{
    double s = 0.0;
    size_t n = (size_t)im->w * im->h * 3;
    for (size_t i = 0; i < n; i++)
        s += im->px[i];
    return s / (double)n;
}

/* Sum of squared differences between horizontal and vertical neighbours. */
static double hf_energy(const dg_image *im)
{
    double e = 0.0;
    for (int y = 0; y + 1 < im->h; y++)
        for (int x = 0; x + 1 < im->w; x++)
            for (int c = 0; c < 3; c++) {
                double v = dg_image_at(im, x, y)[c];
                double dx = v - dg_image_at(im, x + 1, y)[c];
                double dy = v - dg_image_at(im, x, y + 1)[c];
                e += dx * dx + dy * dy;
            }
    return e;
}

static void resize_gives_requested_size_and_keeps_flat_colour(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    assert_int_equal(dg_image_alloc(&in, 97, 61, &err), DG_OK);
    fill(&in, 10, 200, 77);
    int sizes[][2] = {{40, 25}, {23, 61}, {150, 90}, {1, 1}};
    for (size_t k = 0; k < 4; k++) {
        assert_int_equal(dg_image_resize(&in, sizes[k][0], sizes[k][1], &out, &err), DG_OK);
        assert_int_equal(out.w, sizes[k][0]);
        assert_int_equal(out.h, sizes[k][1]);
        for (int i = 0; i < out.w * out.h; i++) {
            assert_int_equal(out.px[3 * i], 10);
            assert_int_equal(out.px[3 * i + 1], 200);
            assert_int_equal(out.px[3 * i + 2], 77);
        }
        dg_image_free(&out);
    }
    dg_image_free(&in);
}

/* Halving with the triangle filter: taps 1/8, 3/8, 3/8, 1/8 on each axis. */
static void resize_by_half_matches_naive_triangle_filter(void **state)
{
    (void)state;
    static const double tap[4] = {0.125, 0.375, 0.375, 0.125};
    dg_image in, out;
    dg_err err;
    noise_image(&in, 40, 30, 0, 255, 7);
    assert_int_equal(dg_image_resize(&in, 20, 15, &out, &err), DG_OK);
    for (int y = 0; y < 15; y++)
        for (int x = 0; x < 20; x++)
            for (int c = 0; c < 3; c++) {
                double ref = 0.0;
                for (int j = 0; j < 4; j++)
                    for (int i = 0; i < 4; i++) {
                        int sx = 2 * x - 1 + i, sy = 2 * y - 1 + j;
                        sx = sx < 0 ? 0 : (sx >= 40 ? 39 : sx);
                        sy = sy < 0 ? 0 : (sy >= 30 ? 29 : sy);
                        ref += tap[i] * tap[j] * dg_image_at(&in, sx, sy)[c];
                    }
                assert_true(fabs(dg_image_at(&out, x, y)[c] - ref) <= 1.0);
            }
    dg_image_free(&in);
    dg_image_free(&out);
}

static void fit_size_keeps_aspect_and_never_enlarges(void **state)
{
    (void)state;
    int w, h;
    dg_fit_size(4000, 3000, 1024, 1024, &w, &h);
    assert_int_equal(w, 1024);
    assert_int_equal(h, 768);
    dg_fit_size(3000, 4000, 1024, 1024, &w, &h);
    assert_int_equal(w, 768);
    assert_int_equal(h, 1024);
    dg_fit_size(500, 300, 1024, 1024, &w, &h);
    assert_int_equal(w, 500);
    assert_int_equal(h, 300);
    dg_fit_size(2000, 1000, 1600, 400, &w, &h);
    assert_int_equal(w, 800);
    assert_int_equal(h, 400);
}

static void crop_copies_the_rectangle_and_rejects_outside(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    noise_image(&in, 50, 40, 0, 255, 3);
    assert_int_equal(dg_img_crop(&in, 7, 5, 30, 20, &out, &err), DG_OK);
    assert_int_equal(out.w, 30);
    assert_int_equal(out.h, 20);
    for (int y = 0; y < 20; y++)
        for (int x = 0; x < 30; x++)
            assert_memory_equal(dg_image_at(&out, x, y), dg_image_at(&in, x + 7, y + 5), 3);
    dg_image_free(&out);
    assert_int_equal(dg_img_crop(&in, 21, 0, 30, 20, &out, &err), DG_FAIL);
    assert_null(out.px);
    dg_image_free(&in);
}

static void hflip_mirrors_and_twice_is_identity(void **state)
{
    (void)state;
    dg_image in, once, twice;
    dg_err err;
    noise_image(&in, 33, 21, 0, 255, 11);
    assert_int_equal(dg_img_hflip(&in, &once, &err), DG_OK);
    for (int y = 0; y < 21; y++)
        for (int x = 0; x < 33; x++)
            assert_memory_equal(dg_image_at(&once, x, y), dg_image_at(&in, 32 - x, y), 3);
    assert_memory_not_equal(once.px, in.px, (size_t)33 * 21 * 3);
    assert_int_equal(dg_img_hflip(&once, &twice, &err), DG_OK);
    assert_memory_equal(twice.px, in.px, (size_t)33 * 21 * 3);
    dg_image_free(&in);
    dg_image_free(&once);
    dg_image_free(&twice);
}

static void border_adds_bars_around_unchanged_image(void **state)
{
    (void)state;
    static const uint8_t red[3] = {200, 10, 20};
    dg_image in, out;
    dg_err err;
    noise_image(&in, 30, 20, 0, 255, 5);
    assert_int_equal(dg_img_border(&in, 3, 4, 5, 6, red, &out, &err), DG_OK);
    assert_int_equal(out.w, 30 + 5 + 6);
    assert_int_equal(out.h, 20 + 3 + 4);
    for (int y = 0; y < out.h; y++)
        for (int x = 0; x < out.w; x++) {
            int inside = x >= 5 && x < 35 && y >= 3 && y < 23;
            const uint8_t *want = inside ? dg_image_at(&in, x - 5, y - 3) : red;
            assert_memory_equal(dg_image_at(&out, x, y), want, 3);
        }
    dg_image_free(&in);
    dg_image_free(&out);
}

static void rotate_size_is_the_inscribed_rectangle(void **state)
{
    (void)state;
    int w, h;
    dg_rotate_size(400, 300, 0.0, &w, &h);
    assert_int_equal(w, 400);
    assert_int_equal(h, 300);
    /* 10 degrees: k = min(400/(400c+300s), 300/(400s+300c)) = 0.8222 */
    dg_rotate_size(400, 300, 10.0, &w, &h);
    assert_int_equal(w, 328);
    assert_int_equal(h, 246);
    dg_rotate_size(400, 300, -10.0, &w, &h);
    assert_int_equal(w, 328);
    assert_int_equal(h, 246);
}

static void rotate_zero_is_identity_and_ninety_matches_naive(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    noise_image(&in, 24, 24, 0, 255, 9);
    assert_int_equal(dg_img_rotate(&in, 0.0, &out, &err), DG_OK);
    assert_memory_equal(out.px, in.px, (size_t)24 * 24 * 3);
    dg_image_free(&out);
    /* Counter-clockwise: the top-right corner comes to the top-left. */
    assert_int_equal(dg_img_rotate(&in, 90.0, &out, &err), DG_OK);
    assert_int_equal(out.w, 24);
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 24; x++)
            assert_memory_equal(dg_image_at(&out, x, y), dg_image_at(&in, 23 - y, x), 3);
    dg_image_free(&out);
    dg_image_free(&in);
}

static void rotate_leaves_no_unfilled_corner(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    assert_int_equal(dg_image_alloc(&in, 160, 90, &err), DG_OK);
    fill(&in, 250, 250, 250);
    for (double deg = -10.0; deg <= 10.0; deg += 2.5) {
        assert_int_equal(dg_img_rotate(&in, deg, &out, &err), DG_OK);
        assert_true(out.w <= 160 && out.h <= 90);
        for (int i = 0; i < out.w * out.h * 3; i++)
            assert_int_equal(out.px[i], 250);
        dg_image_free(&out);
    }
    dg_image_free(&in);
}

static void grayscale_has_equal_channels_at_luminance(void **state)
{
    (void)state;
    dg_image im, ref;
    dg_err err;
    noise_image(&im, 20, 10, 0, 255, 13);
    assert_int_equal(dg_image_copy(&im, &ref, &err), DG_OK);
    dg_img_grayscale(&im);
    for (int i = 0; i < 200; i++) {
        const uint8_t *p = im.px + 3 * i, *q = ref.px + 3 * i;
        double y = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2];
        assert_int_equal(p[0], p[1]);
        assert_int_equal(p[1], p[2]);
        assert_true(fabs(p[0] - y) <= 0.5 + 1e-9);
    }
    dg_image_free(&im);
    dg_image_free(&ref);
}

static void brightness_shifts_every_channel(void **state)
{
    (void)state;
    dg_image im, ref;
    dg_err err;
    noise_image(&im, 30, 30, 20, 200, 17);
    assert_int_equal(dg_image_copy(&im, &ref, &err), DG_OK);
    dg_img_brightness(&im, 30);
    assert_true(fabs(mean_value(&im) - mean_value(&ref) - 30.0) < 1e-9);
    dg_img_brightness(&im, 100); /* clamps at 255 */
    for (int i = 0; i < 30 * 30 * 3; i++)
        assert_int_equal(im.px[i], ref.px[i] + 130 > 255 ? 255 : ref.px[i] + 130);
    dg_image_free(&im);
    dg_image_free(&ref);
}

static double luma_std(const dg_image *im, double *mean)
{
    double s = 0.0, ss = 0.0;
    size_t n = (size_t)im->w * im->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = im->px + 3 * i;
        double y = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
        s += y;
        ss += y * y;
    }
    *mean = s / (double)n;
    return sqrt(ss / (double)n - *mean * *mean);
}

static void contrast_scales_spread_around_the_mean(void **state)
{
    (void)state;
    dg_image im;
    double m0, m1;
    noise_image(&im, 40, 40, 90, 170, 19);
    double s0 = luma_std(&im, &m0);
    dg_img_contrast(&im, 1.5);
    double s1 = luma_std(&im, &m1);
    assert_true(fabs(m1 - m0) < 1.0);
    assert_true(fabs(s1 / s0 - 1.5) < 0.05);
    dg_image_free(&im);
}

static void gamma_and_saturation_match_their_formulas(void **state)
{
    (void)state;
    dg_image im, ref;
    dg_err err;
    noise_image(&im, 16, 16, 0, 255, 23);
    assert_int_equal(dg_image_copy(&im, &ref, &err), DG_OK);
    dg_img_gamma(&im, 1.0);
    assert_memory_equal(im.px, ref.px, (size_t)16 * 16 * 3);
    dg_img_gamma(&im, 2.0);
    for (int i = 0; i < 16 * 16 * 3; i++)
        assert_true(fabs(im.px[i] - 255.0 * pow(ref.px[i] / 255.0, 2.0)) <= 0.5 + 1e-9);
    memcpy(im.px, ref.px, (size_t)16 * 16 * 3);
    dg_img_saturation(&im, 1.0);
    assert_memory_equal(im.px, ref.px, (size_t)16 * 16 * 3);
    dg_img_saturation(&im, 0.0);
    dg_img_grayscale(&ref);
    for (int i = 0; i < 16 * 16 * 3; i++)
        assert_true(abs(im.px[i] - ref.px[i]) <= 1);
    dg_image_free(&im);
    dg_image_free(&ref);
}

static void blur_reduces_high_frequency_energy(void **state)
{
    (void)state;
    dg_image in, mild, strong;
    dg_err err;
    noise_image(&in, 64, 48, 0, 255, 29);
    assert_int_equal(dg_img_blur(&in, 0.8, &mild, &err), DG_OK);
    assert_int_equal(dg_img_blur(&in, 2.0, &strong, &err), DG_OK);
    double e0 = hf_energy(&in), e1 = hf_energy(&mild), e2 = hf_energy(&strong);
    assert_true(e1 < 0.3 * e0);
    assert_true(e2 < 0.2 * e1);
    assert_true(fabs(mean_value(&strong) - mean_value(&in)) < 2.0);
    dg_image_free(&mild);
    assert_int_equal(dg_img_blur(&in, 0.0, &mild, &err), DG_FAIL);
    dg_image_free(&in);
    dg_image_free(&strong);
}

static void text_band_changes_only_the_band(void **state)
{
    (void)state;
    static const uint8_t bg[3] = {10, 20, 30}, fg[3] = {250, 240, 230};
    dg_image im, ref;
    dg_err err;
    noise_image(&im, 200, 100, 0, 255, 31);
    assert_int_equal(dg_image_copy(&im, &ref, &err), DG_OK);
    dg_img_text_band(&im, 85, 15, bg, fg, "HELLO 2024");
    size_t n_bg = 0, n_fg = 0;
    for (int y = 0; y < 100; y++)
        for (int x = 0; x < 200; x++) {
            const uint8_t *p = dg_image_at(&im, x, y);
            if (y < 85) {
                assert_memory_equal(p, dg_image_at(&ref, x, y), 3);
                continue;
            }
            int is_bg = !memcmp(p, bg, 3), is_fg = !memcmp(p, fg, 3);
            assert_true(is_bg || is_fg);
            n_bg += (size_t)is_bg;
            n_fg += (size_t)is_fg;
        }
    /* Ten 5x7 glyphs at scale 1 light up well over a hundred pixels. */
    assert_true(n_fg > 100);
    assert_true(n_bg > n_fg);
    dg_image_free(&im);
    dg_image_free(&ref);
}

static void jpeg_round_trip_at_quality_90_is_close(void **state)
{
    (void)state;
    dg_jpeg_codec codec;
    dg_image in, out;
    dg_err err;
    uint8_t *buf;
    size_t len;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    smooth_image(&in, 160, 120);
    assert_int_equal(dg_jpeg_encode(&codec, &in, 90, 0, &buf, &len, &err), DG_OK);
    assert_true(len > 100 && len < (size_t)160 * 120 * 3);
    assert_int_equal(dg_jpeg_decode(&codec, buf, len, 0, 0, &out, &err), DG_OK);
    assert_int_equal(out.w, 160);
    assert_int_equal(out.h, 120);
    double mad = 0.0;
    for (int i = 0; i < 160 * 120 * 3; i++)
        mad += abs(out.px[i] - in.px[i]);
    assert_true(mad / (160.0 * 120 * 3) < 3.0);
    dg_image_free(&out);
    /* Decoding into a smaller box fits the aspect ratio exactly. */
    assert_int_equal(dg_jpeg_decode(&codec, buf, len, 64, 64, &out, &err), DG_OK);
    assert_int_equal(out.w, 64);
    assert_int_equal(out.h, 48);
    dg_image_free(&out);
    free(buf);
    assert_int_equal(dg_jpeg_encode(&codec, &in, 90, 1, &buf, &len, &err), DG_OK);
    assert_int_equal(dg_jpeg_decode(&codec, buf, len, 0, 0, &out, &err), DG_OK);
    for (int i = 0; i < 160 * 120; i++) {
        assert_int_equal(out.px[3 * i], out.px[3 * i + 1]);
        assert_int_equal(out.px[3 * i], out.px[3 * i + 2]);
    }
    free(buf);
    dg_image_free(&out);
    uint8_t junk[64] = {0xFF, 0xD8, 0xFF, 0xE0};
    assert_int_equal(dg_jpeg_decode(&codec, junk, sizeof junk, 0, 0, &out, &err), DG_FAIL);
    dg_image_free(&in);
    dg_jpeg_codec_free(&codec);
}

static void draw_is_reproducible_and_within_ranges(void **state)
{
    (void)state;
    for (uint64_t photo = 0; photo < 200; photo++) {
        dg_xform a, b;
        for (int k = 0; k < DG_XF_COUNT; k++)
            for (int s = DG_MILD; s <= DG_STRONG; s++) {
                dg_xform_draw(&a, (dg_xform_kind)k, (dg_strength)s, 42, photo);
                dg_xform_draw(&b, (dg_xform_kind)k, (dg_strength)s, 42, photo);
                assert_memory_equal(&a, &b, sizeof a);
            }
        dg_xform_draw(&a, DG_XF_RESIZE, DG_MILD, 42, photo);
        assert_true(a.amount >= 0.7 && a.amount <= 0.9);
        dg_xform_draw(&a, DG_XF_RESIZE, DG_STRONG, 42, photo);
        assert_true(a.amount >= 0.3 && a.amount <= 0.5);
        dg_xform_draw(&a, DG_XF_JPEG, DG_MILD, 42, photo);
        assert_true(a.quality >= 70 && a.quality <= 90);
        dg_xform_draw(&a, DG_XF_JPEG, DG_STRONG, 42, photo);
        assert_true(a.quality >= 15 && a.quality <= 30);
        dg_xform_draw(&a, DG_XF_CROP, DG_STRONG, 42, photo);
        assert_true(a.amount >= 0.15 && a.amount <= 0.25);
        dg_xform_draw(&a, DG_XF_ROTATE, DG_MILD, 42, photo);
        assert_true(fabs(a.amount) >= 2.0 && fabs(a.amount) <= 4.0);
        dg_xform_draw(&a, DG_XF_ROTATE, DG_STRONG, 42, photo);
        assert_true(fabs(a.amount) >= 6.0 && fabs(a.amount) <= 10.0);
        dg_xform_draw(&a, DG_XF_GAMMA, DG_STRONG, 42, photo);
        assert_true(fabs(log(a.amount)) > 0.30); /* beyond every mild gamma */
    }
    dg_xform a, b;
    dg_xform_draw(&a, DG_XF_BLUR, DG_MILD, 1, 0);
    dg_xform_draw(&b, DG_XF_BLUR, DG_MILD, 2, 0);
    assert_true(a.amount != b.amount);
    assert_false(dg_xform_exists(DG_XF_HFLIP, DG_STRONG));
    assert_true(dg_xform_exists(DG_XF_HFLIP, DG_MILD));
}

static void apply_gives_the_documented_geometry(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    dg_xform xf;
    smooth_image(&in, 400, 300);
    for (uint64_t photo = 0; photo < 10; photo++) {
        dg_xform_draw(&xf, DG_XF_RESIZE, DG_STRONG, 5, photo);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_int_equal(out.w, (int)floor(400 * xf.amount + 0.5));
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_CROP, DG_MILD, 5, photo);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        double removed = 1.0 - (double)out.w * out.h / (400.0 * 300.0);
        assert_true(fabs(removed - xf.amount) < 0.01);
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_BORDER, DG_STRONG, 5, photo);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_int_equal(out.w, 400 + 2 * (int)lround(400 * xf.amount));
        assert_int_equal(out.h, 300 + 2 * (int)lround(300 * xf.amount));
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_BORDER, DG_MILD, 5, photo);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_int_equal(out.w, 400);
        dg_image_free(&out);
        for (int k = 0; k < DG_XF_COUNT; k++) {
            dg_xform_draw(&xf, (dg_xform_kind)k, DG_STRONG, 5, photo);
            assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
            assert_true(out.w > 100 && out.h > 75);
            dg_image_free(&out);
        }
    }
    dg_image_free(&in);
}

static void letterbox_keeps_the_photo_whole_between_bars(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    const uint8_t black[3] = {0, 0, 0};
    smooth_image(&in, 400, 300);
    assert_int_equal(dg_compose_letterbox(&in, 1.0, 0, black, &out, &err), DG_OK);
    assert_int_equal(out.w, 400);
    assert_int_equal(out.h, 400);
    for (int y = 0; y < 50; y++) /* bars of 50 rows above and below, the photo unscaled */
        for (int x = 0; x < 400; x += 7) {
            assert_memory_equal(dg_image_at(&out, x, y), black, 3);
            assert_memory_equal(dg_image_at(&out, x, 399 - y), black, 3);
        }
    for (int y = 0; y < 300; y += 13)
        assert_memory_equal(dg_image_at(&out, 0, 50 + y), dg_image_at(&in, 0, y), 400 * 3);
    dg_image_free(&out);
    /* a portrait canvas with a blurred fill: the photo's rows are still there */
    assert_int_equal(dg_compose_letterbox(&in, 0.5625, 1, black, &out, &err), DG_OK);
    assert_int_equal(out.h, 400);
    assert_int_equal(out.w, 225);
    assert_true(mean_value(&out) > 10.0);
    dg_image_free(&out);
    assert_int_equal(dg_compose_letterbox(&in, 0.0, 0, black, &out, &err), DG_FAIL);
    dg_image_free(&in);
}

static void logo_changes_only_a_box_of_the_given_area(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    const uint8_t bg[3] = {250, 250, 250}, ink[3] = {10, 10, 10};
    noise_image(&in, 400, 300, 60, 190, 3);
    assert_int_equal(dg_compose_logo(&in, 0.04, 0.88, 0.9, bg, ink, 1.0, "NEWS24", &out, &err), DG_OK);
    int x0 = 400, y0 = 300, x1 = -1, y1 = -1;
    long changed = 0;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 400; x++)
            if (memcmp(dg_image_at(&in, x, y), dg_image_at(&out, x, y), 3)) {
                changed++;
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
    double box = (double)(x1 - x0 + 1) * (y1 - y0 + 1);
    assert_true(fabs(box / (0.04 * 400 * 300) - 1.0) < 0.15); /* the box has the drawn area */
    assert_true(changed > 0.9 * box);                          /* and is opaque */
    assert_true(x0 > 200 && y0 > 150);                         /* in the bottom-right corner */
    dg_image_free(&out);
    /* translucent: every pixel of the box moves towards white, none reaches it */
    assert_int_equal(dg_compose_logo(&in, 0.12, 0.5, 0.5, bg, ink, 0.55, "STOCK", &out, &err), DG_OK);
    const uint8_t *c = dg_image_at(&out, 200, 150 - 18), *o = dg_image_at(&in, 200, 150 - 18);
    assert_true(c[0] > o[0] && c[0] < 250);
    dg_image_free(&out);
    dg_image_free(&in);
}

static void screenshot_is_a_16_10_window_holding_the_photo(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    smooth_image(&in, 400, 300);
    for (int panel = 0; panel <= 1; panel++) {
        assert_int_equal(dg_compose_screenshot(&in, panel ? 0.6 : 0.9, panel, panel, "PHOTOS", &out, &err), DG_OK);
        assert_int_equal(out.w, 400);
        assert_int_equal(out.h, 250);
        /* the title bar's first row is one colour apart from the window buttons */
        const uint8_t *t = dg_image_at(&out, 399, 0);
        assert_memory_equal(dg_image_at(&out, 200, 0), t, 3);
        dg_image_free(&out);
    }
    dg_image_free(&in);
}

static void new_transforms_draw_in_range_and_apply(void **state)
{
    (void)state;
    dg_image in, out;
    dg_err err;
    dg_xform xf;
    smooth_image(&in, 400, 300);
    for (uint64_t photo = 0; photo < 40; photo++) {
        dg_xform_draw(&xf, DG_XF_LOWQ, DG_MILD, 9, photo);
        assert_true(xf.quality >= 25 && xf.quality <= 30 && xf.amount >= 0.55 && xf.amount <= 0.75);
        dg_xform_draw(&xf, DG_XF_LOWQ, DG_STRONG, 9, photo);
        assert_true(xf.quality >= 15 && xf.quality <= 22 && xf.amount >= 0.30 && xf.amount <= 0.45);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_int_equal(out.w, (int)floor(400 * xf.amount + 0.5));
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_OFFCROP, DG_STRONG, 9, photo);
        assert_true(xf.amount >= 0.20 && xf.amount <= 0.30);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_true(fabs(1.0 - out.w * out.h / (400.0 * 300.0) - xf.amount) < 0.01);
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_ROTCROP, DG_STRONG, 9, photo);
        assert_true(fabs(xf.amount) >= 3.0 && fabs(xf.amount) <= 6.0 && xf.amount2 >= 0.10 && xf.amount2 <= 0.20);
        int rw, rh;
        dg_rotate_size(400, 300, xf.amount, &rw, &rh);
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        assert_true(fabs(1.0 - (double)out.w * out.h / ((double)rw * rh) - xf.amount2) < 0.02);
        dg_image_free(&out);
        dg_xform_draw(&xf, DG_XF_COMBO, DG_MILD, 9, photo);
        assert_true(xf.part[0] != DG_XF_COMBO && xf.part[1] != DG_XF_COMBO && xf.part[0] != xf.part[1]);
        char params[320];
        dg_xform_params(&xf, params, sizeof params);
        assert_non_null(strstr(params, "parts="));
        assert_null(strchr(params, ','));
        assert_int_equal(dg_xform_apply(&xf, &in, &out, &err), DG_OK);
        dg_image_free(&out);
    }
    assert_int_equal(dg_xform_by_name("screenshot"), DG_XF_SCREENSHOT);
    assert_int_equal(dg_xform_by_name("nope"), -1);
    dg_image_free(&in);
}

static void photo_key_merges_resolutions_and_variants(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/usr/share/backgrounds/mate/abstract/Elephants_3840x2160.jpg", "elephants"},
        {"/usr/share/backgrounds/mate/abstract/Elephants.jpg", "elephants"},
        {"/w/Autumn/contents/images/1920x1080.jpg", "autumn"},
        {"/w/Autumn/contents/screenshot.jpg", "autumn"},
        {"/w/Flow/contents/images_dark/5120x2880.jpg", "flow"},
        {"pics/Photo-800x600.JPEG", "photo"},
        {"x1920.jpg", "x1920"},
        {"a/b.c/Sunset.jpg", "sunset"},
        {"1920x1080.jpg", ""},
    };
    char key[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mk_photo_key(cases[i][0], key, sizeof key);
        assert_string_equal(key, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resize_gives_requested_size_and_keeps_flat_colour),
        cmocka_unit_test(resize_by_half_matches_naive_triangle_filter),
        cmocka_unit_test(fit_size_keeps_aspect_and_never_enlarges),
        cmocka_unit_test(crop_copies_the_rectangle_and_rejects_outside),
        cmocka_unit_test(hflip_mirrors_and_twice_is_identity),
        cmocka_unit_test(border_adds_bars_around_unchanged_image),
        cmocka_unit_test(rotate_size_is_the_inscribed_rectangle),
        cmocka_unit_test(rotate_zero_is_identity_and_ninety_matches_naive),
        cmocka_unit_test(rotate_leaves_no_unfilled_corner),
        cmocka_unit_test(grayscale_has_equal_channels_at_luminance),
        cmocka_unit_test(brightness_shifts_every_channel),
        cmocka_unit_test(contrast_scales_spread_around_the_mean),
        cmocka_unit_test(gamma_and_saturation_match_their_formulas),
        cmocka_unit_test(blur_reduces_high_frequency_energy),
        cmocka_unit_test(text_band_changes_only_the_band),
        cmocka_unit_test(jpeg_round_trip_at_quality_90_is_close),
        cmocka_unit_test(draw_is_reproducible_and_within_ranges),
        cmocka_unit_test(apply_gives_the_documented_geometry),
        cmocka_unit_test(photo_key_merges_resolutions_and_variants),
        cmocka_unit_test(letterbox_keeps_the_photo_whole_between_bars),
        cmocka_unit_test(logo_changes_only_a_box_of_the_given_area),
        cmocka_unit_test(screenshot_is_a_16_10_window_holding_the_photo),
        cmocka_unit_test(new_transforms_draw_in_range_and_apply),
    };
    cmocka_set_message_output(CM_OUTPUT_STDOUT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
