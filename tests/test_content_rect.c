/* test_content_rect.c - the photo inside a frame (src/input/content_rect.c)
 * on real photographs (lomiri-wallpapers-16.04 in /usr/share/backgrounds)
 * framed by dg-mkbench's own compositing (src/bench/compose.c), at the size
 * the job's decoder hands the descriptor (longer side 160 px).  Screenshot
 * copies are not asserted: area-resized ones are missed here although the
 * JPEG corpus of quality_bench finds half of them (see content_rect.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/compose.h"
#include "input/content_rect.h"
#include "tools/raster.h"

#define PHOTO_DIR "/usr/share/backgrounds/"
#define SIDE 640 /* dg-mkbench --size */
#define SEEN 160 /* longer side as the job decodes such a corpus */
#define TOL 0.04 /* of the image side */

static const char *const photos[] = {
    "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg", "sunset_by_Aitzol_Berasategi.jpg",
};
#define N_PHOTOS ((int)(sizeof photos / sizeof photos[0]))

static void load(const char *name, dg_image *im)
{
    char path[512];
    snprintf(path, sizeof path, PHOTO_DIR "%s", name);
    dg_jpeg_codec codec;
    dg_err err;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_read_file(path, &buf, &len, &err), DG_OK);
    assert_int_equal(dg_jpeg_decode(&codec, buf, len, SIDE, SIDE, im, &err), DG_OK);
    free(buf);
    dg_jpeg_codec_free(&codec);
}

/* Shrinks im in place to longer side SEEN. */
static void shrink(dg_image *im)
{
    int w, h;
    dg_err err;
    dg_image small;
    dg_fit_size(im->w, im->h, SEEN, SEEN, &w, &h);
    assert_int_equal(dg_image_resize(im, w, h, &small, &err), DG_OK);
    dg_image_free(im);
    *im = small;
}

static dg_rect content(const dg_image *im)
{
    dg_pixels px = {im->w, im->h, im->px};
    return dg_content_rect(&px, (dg_rect){0, 0, im->w, im->h});
}

/* Whether r is within TOL of the image's sides of the expected fractions. */
static int near_rect(dg_rect r, const dg_image *im, double x0, double y0, double x1, double y1)
{
    double w = im->w, h = im->h;
    return fabs(r.x0 / w - x0) <= TOL && fabs(r.x1 / w - x1) <= TOL && fabs(r.y0 / h - y0) <= TOL &&
           fabs(r.y1 / h - y1) <= TOL;
}

static void unframed_photo_gives_the_whole_image(void **state)
{
    (void)state;
    for (int i = 0; i < N_PHOTOS; i++) {
        dg_image im;
        load(photos[i], &im);
        shrink(&im);
        dg_rect r = content(&im);
        assert_true(r.x0 == 0 && r.y0 == 0 && r.x1 == im.w && r.y1 == im.h);
        dg_image_free(&im);
    }
}

/* Phone-story canvas (9:16) filled with a blurred, darkened copy. */
static void letterboxed_copy_gives_the_photo(void **state)
{
    (void)state;
    static const uint8_t black[3] = {0, 0, 0};
    int found = 0;
    for (int i = 0; i < N_PHOTOS; i++) {
        dg_image im, framed;
        dg_err err;
        load(photos[i], &im);
        assert_int_equal(dg_compose_letterbox(&im, 0.5625, 1, black, &framed, &err), DG_OK);
        int pw, ph;
        dg_fit_size(im.w, im.h, framed.w, framed.h, &pw, &ph);
        double x0 = (double)((framed.w - pw) / 2) / framed.w, y0 = (double)((framed.h - ph) / 2) / framed.h;
        shrink(&framed);
        dg_rect r = content(&framed);
        int ok = near_rect(r, &framed, x0, y0, 1 - x0, 1 - y0); /* centred */
        printf("letterbox %-40s %s\n", photos[i], ok ? "found" : "not found");
        found += ok;
        dg_image_free(&framed);
        dg_image_free(&im);
    }
    printf("letterbox: %d of %d\n", found, N_PHOTOS);
    assert_true(found >= 3); /* 3 of 8 when written: photos of sky or smooth blur are missed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unframed_photo_gives_the_whole_image),
        cmocka_unit_test(letterboxed_copy_gives_the_photo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
