/* test_content_rect.c - the photo inside a frame (src/input/content_rect.c)
 * on real photographs (lomiri-wallpapers-16.04 in /usr/share/backgrounds)
 * framed by dg-mkbench's own compositing (src/bench/compose.c), at the size
 * the job's decoder hands the descriptor (longer side 160 px): unframed
 * photos, phone-story letterboxes (of smooth and of textured photos),
 * application-window screenshots (of narrow photos in dark windows too)
 * and a translucent watermark box (no frame). */
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
#include "bench/edits.h"
#include "full_image.h"
#include "input/content_rect.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "tools/raster.h"

#define PHOTO_DIR "/usr/share/backgrounds/"
#define RENDER "/usr/share/plymouth/themes/homeworld/plymouth_background_homeworld.png" /* desktop-base */
#define SIDE 640 /* dg-mkbench --size */
#define SEEN 160 /* longer side as the job decodes such a corpus */
#define TOL 0.04 /* of the image side */
/* of 32: 7 before the closed-frame rules (DG_DESC_VERSION 3), 16 with them,
 * 25 with the pasted-photo rules (DG_DESC_VERSION 4), 29 with corner frames,
 * 31 (DG_DESC_VERSION 13), 32 with corner frames as pasted photos */
#define MIN_SCREENSHOTS 30
/* of 8: 3 before the pasted-photo rules (DG_DESC_VERSION 4), 6 with them,
 * 8 with the story canvas's sharpness profiles (DG_DESC_VERSION 6) */
#define MIN_LETTERBOXES 8
/* of 7 textured photos on a story canvas: 3 before the sharpness profiles
 * (DG_DESC_VERSION 6) */
#define MIN_STORIES 7
/* of 8 on a wide canvas: 6 before side bars were looked for in the
 * sharpness profiles too */
#define MIN_PILLARBOXES 8
/* of 30 narrow photos in dark windows: 0 before corner frames, 9 with them
 * (8 with DG_DESC_VERSION 11, which took the page right of a side panel for a
 * photo: the photo ran along its right side), 12 once a corner frame could
 * be a pasted photo (DG_DESC_VERSION 14), 14 with a photo found by its
 * colour on the page (DG_DESC_VERSION 19) */
#define MIN_NARROW_DARK 13
/* of 90 portrait and square photos beside a side panel: 44 before a corner
 * frame could be a pasted photo and faces_in() looked past an edge's smear
 * (DG_DESC_VERSION 14), 49 with them, 52 with a photo found by its colour
 * on the page (DG_DESC_VERSION 19).  Most of the rest have the toolbar's
 * or the address field's line as their top, or the caption lines inside
 * (58 when a crisp bottom needs no page beyond it, which lets a logo box
 * pass too: results/experiments/session19/crisp_bottom_probe.patch) */
#define MIN_PORTRAIT_BESIDE_PANEL 50
/* of the screenshots found, to the pixel: 1 with DG_DESC_VERSION 3, 2 before
 * a pasted photo's sides were moved to their sharpest pixel line, 20 after,
 * 25 with corner frames, 28 (DG_DESC_VERSION 14) */
#define MIN_EXACT 26
/* of 60 smooth gradients in windows: 14 before a pasted photo could be told from a bare page
 * by its spread (DG_DESC_VERSION 10), 17 with it, 20 with DG_DESC_VERSION 14, 30 with a photo
 * found by its colour on the page (DG_DESC_VERSION 19) */
#define MIN_SMOOTH_IN_WINDOW 28
/* of 24 windows around a dark render: 12 before a flat ground's ink had to
 * keep clear of its sides unless the ground goes on beyond them
 * (DG_DESC_VERSION 11, 12), 22 with it, 24 with DG_DESC_VERSION 14 */
#define MIN_DARK_RENDER_IN_WINDOW 22
/* of 72 pan crops of the smooth renders in windows: 60 before a photo
 * could be found by its colour on the page (page_photo.c, DG_DESC_VERSION
 * 19), 66 with it */
#define MIN_SMOOTH_PANS_IN_WINDOW 64
/* of 24 smooth renders on a story canvas: 14 (DG_DESC_VERSION 12).  A
 * sharpness floor (STORY_FLOOR) of 0.05 levels instead of 0.5 finds 16, but
 * then a band through a logo on a smooth gradient passes for a story's
 * photo (test_overlay's smooth photos: 12 of 15 boxes cut instead of 3;
 * results/experiments/session18/README.md).  16 with that floor where the
 * fill is the photo enlarged and darkened (DG_DESC_VERSION 15), and
 * test_overlay's boxes as before */
#define MIN_SMOOTH_STORIES 16
/* of 342 panoramas on a story canvas: 226 (DG_DESC_VERSION 18); 220 when
 * dg_overlay_is_box took a band across the whole width for a logo box
 * (a version of session 20) */
#define MIN_PANORAMA_STORIES 222

static const char *const photos[] = {
    "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Wine_by_Jakkub_Mede.jpg",
    "aitzgorri_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg", "sunset_by_Aitzol_Berasategi.jpg",
};
#define N_PHOTOS ((int)(sizeof photos / sizeof photos[0]))
/* The package's other, more textured photos (moss, leaves, patterns). */
static const char *const textured[] = {
    "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg", "analogpattern_by_Peter_Nerlich.jpg",
    "free_by_Peter_Nerlich.jpg",   "friends_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
    "umang_by_Abhishek_Mudgal.jpg",
};
#define N_TEXTURED ((int)(sizeof textured / sizeof textured[0]))

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
    dg_lum_plane lum;
    assert_int_equal(dg_lum_plane_init(&lum, &px), DG_OK);
    dg_rect r = dg_content_rect(&px, &lum, (dg_rect){0, 0, im->w, im->h});
    dg_lum_plane_free(&lum);
    return r;
}

/* Whether r is within tol of the image's sides of the expected fractions. */
static int near_within(dg_rect r, const dg_image *im, double x0, double y0, double x1, double y1, double tol)
{
    double w = im->w, h = im->h;
    return fabs(r.x0 / w - x0) <= tol && fabs(r.x1 / w - x1) <= tol && fabs(r.y0 / h - y0) <= tol &&
           fabs(r.y1 / h - y1) <= tol;
}

static int near_rect(dg_rect r, const dg_image *im, double x0, double y0, double x1, double y1)
{
    return near_within(r, im, x0, y0, x1, y1, TOL);
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

/* Whether the photo, fitted centred into a canvas of this aspect ratio
 * filled with its own blurred, darkened copy, is found: by the content
 * rectangle of the whole canvas, or (whole_box) through the border trimming
 * as the descriptor uses it (dg_content_box). */
static int canvas_photo_found(const char *photo, double aspect, int whole_box, const char *what)
{
    static const uint8_t black[3] = {0, 0, 0};
    dg_image im, framed;
    dg_err err;
    load(photo, &im);
    assert_int_equal(dg_compose_letterbox(&im, aspect, 1, black, &framed, &err), DG_OK);
    int pw, ph;
    dg_fit_size(im.w, im.h, framed.w, framed.h, &pw, &ph);
    double x0 = (double)((framed.w - pw) / 2) / framed.w, y0 = (double)((framed.h - ph) / 2) / framed.h;
    shrink(&framed);
    dg_rect r = content(&framed);
    if (whole_box) {
        dg_pixels px = {framed.w, framed.h, framed.px};
        int b[DG_BOX_LEN];
        dg_content_box(&px, b);
        r = (dg_rect){b[0], b[1], b[2], b[3]};
    }
    int ok = near_rect(r, &framed, x0, y0, 1 - x0, 1 - y0); /* centred */
    printf("%s %-40s box %d %d %d %d of %dx%d: %s\n", what, photo, r.x0, r.y0, r.x1, r.y1, framed.w, framed.h,
           ok ? "found" : "not found");
    dg_image_free(&framed);
    dg_image_free(&im);
    return ok;
}

/* Phone-story canvas (9:16) filled with a blurred, darkened copy. */
static void letterboxed_copy_gives_the_photo(void **state)
{
    (void)state;
    int found = 0;
    for (int i = 0; i < N_PHOTOS; i++)
        found += canvas_photo_found(photos[i], 0.5625, 0, "letterbox");
    printf("letterbox: %d of %d\n", found, N_PHOTOS);
    assert_true(found >= MIN_LETTERBOXES);
}

/* Story canvases of the package's other, more textured photos (moss,
 * leaves, patterns: the blurred fill keeps some of their detail), through
 * the border trimming as the descriptor uses it. */
static void story_canvas_of_textured_photo_gives_the_photo(void **state)
{
    (void)state;
    int found = 0;
    for (int i = 0; i < N_TEXTURED; i++)
        found += canvas_photo_found(textured[i], 0.5625, 1, "story");
    printf("story: %d of %d\n", found, N_TEXTURED);
    assert_true(found >= MIN_STORIES);
}

/* A wide canvas (2.4:1) filled with a blurred, darkened copy: the photo
 * between bars left and right. */
static void pillarboxed_copy_gives_the_photo(void **state)
{
    (void)state;
    int found = 0;
    for (int i = 0; i < N_PHOTOS; i++)
        found += canvas_photo_found(photos[i], 2.4, 1, "pillarbox");
    printf("pillarbox: %d of %d\n", found, N_PHOTOS);
    assert_true(found >= MIN_PILLARBOXES);
}

/* Where compose puts the photo in a w x h screenshot: the box of a flat
 * stand-in of the photo's size in a marker colour the chrome never uses. */
static void pasted_box(const dg_image *photo, double frac, int panel, int dark, double box[4])
{
    static const uint8_t marker[3] = {1, 254, 3};
    dg_image flat, shot;
    dg_err err;
    assert_int_equal(dg_image_alloc(&flat, photo->w, photo->h, &err), DG_OK);
    dg_img_fill_rect(&flat, 0, 0, flat.w, flat.h, marker, 1.0);
    assert_int_equal(dg_compose_screenshot(&flat, frac, panel, dark, "GALLERY", &shot, &err), DG_OK);
    int x0 = shot.w, y0 = shot.h, x1 = 0, y1 = 0;
    for (int y = 0; y < shot.h; y++)
        for (int x = 0; x < shot.w; x++) {
            const uint8_t *p = shot.px + ((size_t)y * (size_t)shot.w + (size_t)x) * 3;
            if (p[0] == marker[0] && p[1] == marker[1] && p[2] == marker[2]) {
                x0 = x < x0 ? x : x0;
                y0 = y < y0 ? y : y0;
                x1 = x + 1 > x1 ? x + 1 : x1;
                y1 = y + 1 > y1 ? y + 1 : y1;
            }
        }
    assert_true(x1 > x0 && y1 > y0);
    box[0] = (double)x0 / shot.w;
    box[1] = (double)y0 / shot.h;
    box[2] = (double)x1 / shot.w;
    box[3] = (double)y1 / shot.h;
    dg_image_free(&flat);
    dg_image_free(&shot);
}

/* Application windows around the photo, light and dark, with and without a
 * side panel and caption lines (dg-mkbench's mild and strong screenshots). */
static void screenshot_gives_the_photo(void **state)
{
    (void)state;
    static const struct {
        double frac;
        int panel;
    } kinds[] = {{0.85, 0}, {0.62, 1}};
    int found = 0, exact = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS; i++) {
        dg_image im;
        load(photos[i], &im);
        for (int k = 0; k < 2; k++)
            for (int dark = 0; dark < 2; dark++) {
                dg_image shot;
                dg_err err;
                double box[4];
                pasted_box(&im, kinds[k].frac, kinds[k].panel, dark, box);
                assert_int_equal(dg_compose_screenshot(&im, kinds[k].frac, kinds[k].panel, dark, "GALLERY", &shot, &err),
                                 DG_OK);
                shrink(&shot);
                dg_pixels px = {shot.w, shot.h, shot.px};
                int b[DG_BOX_LEN];
                dg_content_box(&px, b); /* with the border trimming, as the descriptor uses it */
                int ok = near_rect((dg_rect){b[0], b[1], b[2], b[3]}, &shot, box[0], box[1], box[2], box[3]);
                printf("screenshot %-40s panel %d %s: %s\n", photos[i], kinds[k].panel, dark ? "dark " : "light",
                       ok ? "found" : "not found");
                found += ok;
                /* to the pixel or so (1.5 px of SEEN): the search's PCA
                 * space is sensitive to a shift of a few pixels */
                exact += near_within((dg_rect){b[0], b[1], b[2], b[3]}, &shot, box[0], box[1], box[2], box[3],
                                     1.5 / SEEN);
                tried++;
                dg_image_free(&shot);
            }
        dg_image_free(&im);
    }
    printf("screenshot: %d of %d, %d of them to the pixel\n", found, tried, exact);
    assert_true(found >= MIN_SCREENSHOTS);
    assert_true(exact >= MIN_EXACT);
}

/* Narrow photos (a strip from the middle, a third as wide as high) in dark
 * application windows, with and without a side panel and caption lines:
 * the photo's top and bottom are too short for candidate lines of their
 * own and step little against the dark page, so its sides end where it
 * does (corner frames). */
static void narrow_photo_in_dark_window_gives_the_photo(void **state)
{
    (void)state;
    int found = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS + N_TEXTURED; i++) {
        dg_image im, strip;
        dg_err err;
        load(i < N_PHOTOS ? photos[i] : textured[i - N_PHOTOS], &im);
        int sw = im.h * 3 / 10;
        assert_true(sw <= im.w);
        assert_int_equal(dg_img_crop(&im, (im.w - sw) / 2, 0, sw, im.h, &strip, &err), DG_OK);
        for (int panel = 0; panel < 2; panel++) {
            double frac = panel ? 0.62 : 0.85, box[4];
            dg_image shot;
            pasted_box(&strip, frac, panel, 1, box);
            assert_int_equal(dg_compose_screenshot(&strip, frac, panel, 1, "GALLERY", &shot, &err), DG_OK);
            shrink(&shot);
            dg_pixels px = {shot.w, shot.h, shot.px};
            int b[DG_BOX_LEN];
            dg_content_box(&px, b);
            int ok = near_rect((dg_rect){b[0], b[1], b[2], b[3]}, &shot, box[0], box[1], box[2], box[3]);
            printf("narrow dark %-40s panel %d box %d %d %d %d: %s\n", i < N_PHOTOS ? photos[i] : textured[i - N_PHOTOS], panel,
                   b[0], b[1], b[2], b[3], ok ? "found" : "not found");
            found += ok;
            tried++;
            dg_image_free(&shot);
        }
        dg_image_free(&strip);
        dg_image_free(&im);
    }
    printf("narrow dark: %d of %d\n", found, tried);
    assert_true(found >= MIN_NARROW_DARK);
}

/* Portrait and square photos (2:3, 3:4 and 1:1 strips from the middle) in
 * windows with a side panel and caption lines, as dg-mkbench's strong
 * screenshots draw them (photo width 0.62 of the content area; these are
 * as high as the room above the caption allows): the photo is about a sixth
 * of the window, under the area of a frame found by its detail, and its
 * top may barely step against the page (a dark forest under dark chrome)
 * or, a smooth photo, hold less detail than the cells its own edge makes
 * detailed beyond its sides. */
static void portrait_photo_beside_panel_gives_the_photo(void **state)
{
    (void)state;
    static const int aspects[][2] = {{2, 3}, {3, 4}, {1, 1}}; /* width : height */
    int found = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS + N_TEXTURED; i++) {
        const char *name = i < N_PHOTOS ? photos[i] : textured[i - N_PHOTOS];
        dg_image im;
        load(name, &im);
        for (int a = 0; a < 3; a++)
            for (int dark = 0; dark < 2; dark++) {
                double box[4];
                dg_image strip, shot;
                dg_err err;
                int sw = im.h * aspects[a][0] / aspects[a][1], sh = im.h;
                if (sw > im.w) { /* a portrait photo: its full width, cut in height */
                    sw = im.w;
                    sh = im.w * aspects[a][1] / aspects[a][0];
                }
                assert_int_equal(dg_img_crop(&im, (im.w - sw) / 2, (im.h - sh) / 2, sw, sh, &strip, &err), DG_OK);
                pasted_box(&strip, 0.62, 1, dark, box);
                assert_int_equal(dg_compose_screenshot(&strip, 0.62, 1, dark, "GALLERY", &shot, &err), DG_OK);
                shrink(&shot);
                dg_pixels px = {shot.w, shot.h, shot.px};
                int b[DG_BOX_LEN];
                dg_content_box(&px, b);
                int ok = near_rect((dg_rect){b[0], b[1], b[2], b[3]}, &shot, box[0], box[1], box[2], box[3]);
                printf("portrait %-40s %d:%d %s box %d %d %d %d photo %.0f %.0f %.0f %.0f: %s\n", name, aspects[a][0],
                       aspects[a][1], dark ? "dark " : "light", b[0], b[1], b[2], b[3], box[0] * shot.w, box[1] * shot.h,
                       box[2] * shot.w, box[3] * shot.h, ok ? "found" : "not found");
                found += ok;
                tried++;
                dg_image_free(&shot);
                dg_image_free(&strip);
            }
        dg_image_free(&im);
    }
    printf("portrait beside a panel: %d of %d\n", found, tried);
    assert_true(found >= MIN_PORTRAIT_BESIDE_PANEL);
}

/* Smooth gradients (our photos reduced to 3 x 2 pixels and enlarged again,
 * cut as the benchmark's pan crops, 0.4 of the width: the render
 * wallpapers' kind of photo) in application windows, light and dark, with
 * and without a side panel: a pasted photo with no detail of its own, told
 * from a bare page by its spread of luminance or colour. */
static void smooth_gradient_in_window_gives_the_photo(void **state)
{
    (void)state;
    int found = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS + N_TEXTURED; i++) {
        dg_image im, tiny, smooth, strip;
        dg_err err;
        load(i < N_PHOTOS ? photos[i] : textured[i - N_PHOTOS], &im);
        assert_int_equal(dg_image_resize(&im, 3, 2, &tiny, &err), DG_OK);
        assert_int_equal(dg_image_resize(&tiny, im.w, im.h, &smooth, &err), DG_OK);
        int sw = im.w * 4 / 10;
        assert_int_equal(dg_img_crop(&smooth, (im.w - sw) / 2, 0, sw, im.h, &strip, &err), DG_OK);
        for (int panel = 0; panel < 2; panel++)
            for (int dark = 0; dark < 2; dark++) {
                double frac = panel ? 0.62 : 0.85, box[4];
                dg_image shot;
                pasted_box(&strip, frac, panel, dark, box);
                assert_int_equal(dg_compose_screenshot(&strip, frac, panel, dark, "GALLERY", &shot, &err), DG_OK);
                shrink(&shot);
                dg_pixels px = {shot.w, shot.h, shot.px};
                int b[DG_BOX_LEN];
                dg_content_box(&px, b);
                int ok = near_rect((dg_rect){b[0], b[1], b[2], b[3]}, &shot, box[0], box[1], box[2], box[3]);
                found += ok;
                tried++;
                dg_image_free(&shot);
            }
        dg_image_free(&strip);
        dg_image_free(&smooth);
        dg_image_free(&tiny);
        dg_image_free(&im);
    }
    printf("smooth gradient in a window: %d of %d\n", found, tried);
    assert_true(found >= MIN_SMOOTH_IN_WINDOW);
}

/* im through a JPEG (quality 90) and the job's decoder dec: its content box
 * in b, and whether that lies near the rectangle want (fractions x0, y0,
 * x1, y1 of the sides); *w, *h the decoded size. */
static int box_through_jpeg(dg_jpeg_codec *codec, dg_decoder *dec, const dg_image *im, const double want[4],
                            int b[DG_BOX_LEN], int *w, int *h)
{
    dg_decode_result res;
    dg_err err;
    uint8_t *jpeg = NULL;
    size_t len = 0;
    assert_int_equal(dg_jpeg_encode(codec, im, 90, 0, &jpeg, &len, &err), DG_OK);
    dg_decode_memory(dec, jpeg, len, &res);
    assert_int_equal(res.status, DG_ST_OK);
    free(jpeg);
    dg_content_box(&res.image, b);
    dg_image seen = {res.image.w, res.image.h, NULL}; /* near_rect reads the size only */
    *w = seen.w;
    *h = seen.h;
    return near_rect((dg_rect){b[0], b[1], b[2], b[3]}, &seen, want[0], want[1], want[2], want[3]);
}

/* photo on a phone-story canvas of aspect ratio `aspect`, the rest filled
 * with its blurred, darkened copy (dg_compose_letterbox), through
 * box_through_jpeg(): whether the content box lies near the photo, centred
 * on the canvas; b, *w, *h as box_through_jpeg's. */
static int story_box(dg_jpeg_codec *codec, dg_decoder *dec, const dg_image *photo, double aspect, int b[DG_BOX_LEN],
                     int *w, int *h)
{
    static const uint8_t black[3] = {0, 0, 0};
    dg_image canvas;
    dg_err err;
    int fw, fh;
    assert_int_equal(dg_compose_letterbox(photo, aspect, 1, black, &canvas, &err), DG_OK);
    dg_fit_size(photo->w, photo->h, canvas.w, canvas.h, &fw, &fh);
    double x0 = (double)((canvas.w - fw) / 2) / canvas.w, y0 = (double)((canvas.h - fh) / 2) / canvas.h;
    const double want[4] = {x0, y0, 1 - x0, 1 - y0};
    int ok = box_through_jpeg(codec, dec, &canvas, want, b, w, h);
    dg_image_free(&canvas);
    return ok;
}

/* Pan k of 3 of render as the benchmark cuts pan series (0.4 of the
 * width, 0.9 of the height, each 0.3 of the width and 0.05 of the height
 * on from the last), fit to SIDE. */
static void render_pan(const dg_image *render, int k, dg_image *photo)
{
    dg_image pan;
    dg_err err;
    int x0 = (int)(0.3 * k * render->w), y0 = (int)(0.05 * k * render->h), pw, ph;
    assert_int_equal(dg_img_crop(render, x0, y0, (int)(0.4 * render->w), (int)(0.9 * render->h), &pan, &err), DG_OK);
    dg_fit_size(pan.w, pan.h, SIDE, SIDE, &pw, &ph);
    assert_int_equal(dg_image_resize(&pan, pw, ph, photo, &err), DG_OK);
    dg_image_free(&pan);
}

/* photo pasted in an application window as dg-mkbench's screenshots are
 * (photo_frac of the page, with or without a side panel, light or dark),
 * through box_through_jpeg(): whether the content box lies near the
 * photo; b, *w, *h as box_through_jpeg's. */
static int window_box(dg_jpeg_codec *codec, dg_decoder *dec, const dg_image *photo, double frac, int panel, int dark,
                      int b[DG_BOX_LEN], int *w, int *h)
{
    double box[4];
    dg_image shot;
    dg_err err;
    pasted_box(photo, frac, panel, dark, box);
    assert_int_equal(dg_compose_screenshot(photo, frac, panel, dark, "GALLERY", &shot, &err), DG_OK);
    int ok = box_through_jpeg(codec, dec, &shot, box, b, w, h);
    dg_image_free(&shot);
    return ok;
}

/* The 3 pans (render_pan()) of each of the n renders, each pasted in
 * windows (window_box()) at fracs[f] of the page beside a side panel or
 * not (panels[f]), light and dark: how many content boxes lie near the
 * photo, of *tried; the others are printed. */
static int pans_in_windows(const char *const *renders, int n, const double *fracs, const int *panels, int nf, int *tried)
{
    dg_decoder dec;
    dg_err err;
    dg_jpeg_codec codec;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_decoder_init(&dec, 0, 64, &err), DG_OK);
    int found = 0;
    *tried = 0;
    for (int i = 0; i < n; i++) {
        dg_image render;
        load_full_image(renders[i], &render);
        for (int k = 0; k < 3; k++) {
            dg_image photo;
            render_pan(&render, k, &photo);
            for (int f = 0; f < nf; f++)
                for (int dark = 0; dark < 2; dark++) {
                    int b[DG_BOX_LEN], w, h;
                    int ok = window_box(&codec, &dec, &photo, fracs[f], panels[f], dark, b, &w, &h);
                    if (!ok)
                        printf("%s pan %d/3 frac %.2f panel %d dark %d: box %d %d %d %d of %dx%d\n", renders[i], k + 1,
                               fracs[f], panels[f], dark, b[0], b[1], b[2], b[3], w, h);
                    found += ok;
                    ++*tried;
                }
            dg_image_free(&photo);
        }
        dg_image_free(&render);
    }
    dg_decoder_free(&dec);
    dg_jpeg_codec_free(&codec);
    return found;
}

/* A dark render with a bright streak along one side (desktop-base's
 * homeworld plymouth background, a tune scene of the quality benchmark, cut
 * as its pan crops are: 3 crops, 0.9 of the height) pasted in application
 * windows as dg-mkbench's screenshots are (mild: 0.8 and 0.92 of the
 * window, light and dark; strong: 0.55 and 0.7 beside a side panel).  A
 * flat ground with a bright part, as a logo box is, but the bright part
 * runs along a side: a photo's content reaches its edge, a logo's ink is
 * set in from the box's sides. */
static void dark_render_in_window_gives_the_photo(void **state)
{
    (void)state;
    static const char *const render[1] = {RENDER};
    static const double fracs[4] = {0.8, 0.92, 0.55, 0.7};
    static const int panels[4] = {0, 0, 1, 1};
    int tried, found = pans_in_windows(render, 1, fracs, panels, 4, &tried);
    printf("dark render in a window: %d of %d\n", found, tried);
    assert_true(found >= MIN_DARK_RENDER_IN_WINDOW);
}

/* desktop-base's smooth renders (a night sky, a gradient: no edge that
 * steps all along a side, no detail of their own) cut as the benchmark's
 * pan crops and pasted in application windows as dg-mkbench's strong and
 * mild screenshots are (beside a side panel at 0.55 and 0.7 of the page,
 * without one at 0.85), light and dark, through a JPEG and the job's
 * decoder: the content box is the photo, found by its colour on the page
 * (page_photo.c) where no frame is found by its edges. */
static void smooth_render_pans_in_window_give_the_photo(void **state)
{
    (void)state;
    static const double fracs[3] = {0.55, 0.7, 0.85};
    static const int panels[3] = {1, 1, 0};
    int tried, found = pans_in_windows(smooth_renders, N_SMOOTH_RENDERS, fracs, panels, 3, &tried);
    printf("smooth render pans in a window: %d of %d\n", found, tried);
    assert_true(found >= MIN_SMOOTH_PANS_IN_WINDOW);
}

/* Smooth renders (a gradient, a few soft shapes: little sharpness of their
 * own), whole and their left and right three quarters, on phone-story
 * canvases (9:16 and 1:2) filled with their blurred, darkened copy, through
 * a JPEG and the job's decoder.  The fill is smoother still, but the
 * photo's rows are sharp by a few tenths of a level only, under the
 * story's floor for many of them (the benchmark's tune renders). */
static void smooth_render_on_story_canvas_gives_the_photo(void **state)
{
    (void)state;
    static const double aspects[2] = {0.5625, 0.5};
    dg_decoder dec;
    dg_err err;
    dg_jpeg_codec codec;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_decoder_init(&dec, 0, 64, &err), DG_OK);
    int found = 0, tried = 0;
    for (int i = 0; i < N_SMOOTH_RENDERS; i++) {
        dg_image render;
        load_full_image(smooth_renders[i], &render);
        for (int k = 0; k < 3; k++) {
            dg_image part, photo;
            int pw, ph, cut = k == 0 ? 0 : render.w / 4;
            assert_int_equal(dg_img_crop(&render, k == 2 ? cut : 0, 0, render.w - cut, render.h, &part, &err), DG_OK);
            dg_fit_size(part.w, part.h, SIDE, SIDE, &pw, &ph);
            assert_int_equal(dg_image_resize(&part, pw, ph, &photo, &err), DG_OK);
            for (int a = 0; a < 2; a++) {
                int b[DG_BOX_LEN], w, h;
                int ok = story_box(&codec, &dec, &photo, aspects[a], b, &w, &h);
                printf("smooth story %s part %d aspect %.4f box %d %d %d %d of %dx%d: %s\n", smooth_renders[i], k,
                       aspects[a], b[0], b[1], b[2], b[3], w, h, ok ? "found" : "not found");
                found += ok;
                tried++;
            }
            dg_image_free(&photo);
            dg_image_free(&part);
        }
        dg_image_free(&render);
    }
    dg_decoder_free(&dec);
    dg_jpeg_codec_free(&codec);
    printf("smooth renders on a story canvas: %d of %d\n", found, tried);
    assert_true(found >= MIN_SMOOTH_STORIES);
}

/* Panoramas on phone-story canvases (9:16 and 1:2) filled with their
 * blurred, darkened copy, through a JPEG and the job's decoder: full-width
 * strips of the photos and renders, 0.35 to 0.65 of their height, from
 * their top, middle and bottom.  The photo spans the canvas's width, as a
 * logo box as wide as a narrow portrait does, and is no logo box. */
static void panorama_on_story_canvas_gives_the_photo(void **state)
{
    (void)state;
    static const double aspects[2] = {0.5625, 0.5}, high[3] = {0.35, 0.5, 0.65};
    dg_decoder dec;
    dg_err err;
    dg_jpeg_codec codec;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_decoder_init(&dec, 0, DG_DESC_SIZE, &err), DG_OK);
    int found = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS + N_TEXTURED + N_SMOOTH_RENDERS; i++) {
        dg_image im;
        if (i < N_PHOTOS + N_TEXTURED) {
            load(i < N_PHOTOS ? photos[i] : textured[i - N_PHOTOS], &im);
        } else {
            dg_image full;
            int w, h;
            load_full_image(smooth_renders[i - N_PHOTOS - N_TEXTURED], &full);
            dg_fit_size(full.w, full.h, SIDE, SIDE, &w, &h);
            assert_int_equal(dg_image_resize(&full, w, h, &im, &err), DG_OK);
            dg_image_free(&full);
        }
        for (int s = 0; s < 3; s++)
            for (int at = 0; at < 3; at++) {
                dg_image strip, photo;
                int sh = (int)(high[s] * im.h), pw, ph;
                assert_int_equal(dg_img_crop(&im, 0, (im.h - sh) * at / 2, im.w, sh, &strip, &err), DG_OK);
                dg_fit_size(strip.w, strip.h, SIDE, SIDE, &pw, &ph);
                assert_int_equal(dg_image_resize(&strip, pw, ph, &photo, &err), DG_OK);
                for (int a = 0; a < 2; a++) {
                    int b[DG_BOX_LEN], w, h;
                    found += story_box(&codec, &dec, &photo, aspects[a], b, &w, &h);
                    tried++;
                }
                dg_image_free(&photo);
                dg_image_free(&strip);
            }
        dg_image_free(&im);
    }
    dg_decoder_free(&dec);
    dg_jpeg_codec_free(&codec);
    printf("panoramas on a story canvas: %d of %d\n", found, tried);
    assert_true(found >= MIN_PANORAMA_STORIES);
}

/* A translucent watermark box near the centre (dg-mkbench's strong logo) has
 * a crisp outline but the photo around it, not a flat page: no frame. */
static void watermark_box_is_no_frame(void **state)
{
    (void)state;
    static const uint8_t white[3] = {255, 255, 255}, ink[3] = {20, 20, 20};
    for (int i = 0; i < N_PHOTOS; i++) {
        dg_image im, marked;
        dg_err err;
        load(photos[i], &im);
        assert_int_equal(dg_compose_logo(&im, 0.13, 0.5, 0.5, white, ink, 0.55, "PHOTO", &marked, &err), DG_OK);
        shrink(&marked);
        dg_pixels px = {marked.w, marked.h, marked.px};
        int b[DG_BOX_LEN];
        dg_content_box(&px, b);
        printf("watermark %-40s box %d %d %d %d of %dx%d\n", photos[i], b[0], b[1], b[2], b[3], marked.w, marked.h);
        assert_true(b[0] == 0 && b[1] == 0 && b[2] == marked.w && b[3] == marked.h);
        dg_image_free(&marked);
        dg_image_free(&im);
    }
}

/* A see-through logo box over a flat dark part of a photo (a darkened
 * photo whose shadows clip to black) has a flat page beyond its sides, as
 * a pasted photo has; its inside, a flat ground with a disc and a word,
 * tells it apart: no frame.  Found as a pasted photo before the ink test
 * (DG_DESC_VERSION 6). */
static void logo_box_over_flat_dark_region_is_no_frame(void **state)
{
    (void)state;
    static const uint8_t white[3] = {255, 255, 255}, inks[2][3] = {{20, 20, 20}, {250, 250, 250}};
    static const struct {
        int ink;
        double cx;
    } cases[] = {{0, 0.35}, {0, 0.65}, {1, 0.35}};
    dg_image im;
    load("aitzgorri_by_Aitzol_Berasategi.jpg", &im);
    dg_img_brightness(&im, -140);
    for (int i = 0; i < 3; i++) {
        dg_image marked;
        dg_err err;
        assert_int_equal(dg_compose_logo(&im, 0.12, cases[i].cx, 0.5, white, inks[cases[i].ink], 0.55, "PHOTO", &marked,
                                         &err),
                         DG_OK);
        shrink(&marked);
        dg_pixels px = {marked.w, marked.h, marked.px};
        int b[DG_BOX_LEN];
        dg_content_box(&px, b);
        printf("logo over dark, ink %d at %.2f: box %d %d %d %d of %dx%d\n", cases[i].ink, cases[i].cx, b[0], b[1], b[2],
               b[3], marked.w, marked.h);
        assert_true(b[0] == 0 && b[1] == 0 && b[2] == marked.w && b[3] == marked.h);
        dg_image_free(&marked);
    }
    dg_image_free(&im);
}

/* A see-through logo box (dg-mkbench's strong logo) over a textured or
 * smooth part of a photo, saved as a JPEG of SIDE and decoded as the job
 * decodes: its top and bottom step, and the photo's own lines (or the
 * image's bound) close a band through the photo around it, but the photo
 * runs on beyond the band, paled under the box, and the band's sides end
 * short of the bound: no frame, at each of 9 places of 10 photos.  Before
 * see-through boxes (main at DG_DESC_VERSION 7): 76 of 90 whole. */
static void logo_box_gives_no_band(void **state)
{
    (void)state;
    static const uint8_t white[3] = {255, 255, 255}, ink[3] = {20, 20, 20};
    static const char *const more[] = {"../wallpapers/Kite/contents/images/2560x1600.jpg", "mate/nature/Blinds.jpg"};
    dg_jpeg_codec codec;
    dg_decoder dec;
    dg_err err;
    assert_int_equal(dg_jpeg_codec_init(&codec, &err), DG_OK);
    assert_int_equal(dg_decoder_init(&dec, 0, 64, &err), DG_OK);
    int whole = 0, tried = 0;
    for (int i = 0; i < N_PHOTOS + 2; i++) {
        const char *name = i < N_PHOTOS ? photos[i] : more[i - N_PHOTOS];
        dg_image im;
        load(name, &im);
        for (int j = 0; j < 9; j++) {
            dg_image marked;
            double cx = 0.35 + 0.15 * (j % 3), cy = 0.35 + 0.15 * (j / 3);
            assert_int_equal(dg_compose_logo(&im, 0.15, cx, cy, white, ink, 0.55, "STOCK", &marked, &err), DG_OK);
            uint8_t *jpeg = NULL;
            size_t len = 0;
            assert_int_equal(dg_jpeg_encode(&codec, &marked, 90, 0, &jpeg, &len, &err), DG_OK);
            dg_decode_result res;
            dg_decode_memory(&dec, jpeg, len, &res);
            assert_int_equal(res.status, DG_ST_OK);
            int b[DG_BOX_LEN];
            dg_content_box(&res.image, b);
            int ok = b[0] == 0 && b[1] == 0 && b[2] == res.image.w && b[3] == res.image.h;
            if (!ok)
                printf("logo band %s at %.2f %.2f: box %d %d %d %d of %dx%d\n", name, cx, cy, b[0], b[1], b[2], b[3],
                       res.image.w, res.image.h);
            whole += ok;
            tried++;
            free(jpeg);
            dg_image_free(&marked);
        }
        dg_image_free(&im);
    }
    dg_decoder_free(&dec);
    dg_jpeg_codec_free(&codec);
    printf("logo band: %d of %d whole\n", whole, tried);
    assert_int_equal(whole, tried);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unframed_photo_gives_the_whole_image),
        cmocka_unit_test(letterboxed_copy_gives_the_photo),
        cmocka_unit_test(story_canvas_of_textured_photo_gives_the_photo),
        cmocka_unit_test(pillarboxed_copy_gives_the_photo),
        cmocka_unit_test(screenshot_gives_the_photo),
        cmocka_unit_test(narrow_photo_in_dark_window_gives_the_photo),
        cmocka_unit_test(portrait_photo_beside_panel_gives_the_photo),
        cmocka_unit_test(smooth_gradient_in_window_gives_the_photo),
        cmocka_unit_test(dark_render_in_window_gives_the_photo),
        cmocka_unit_test(smooth_render_pans_in_window_give_the_photo),
        cmocka_unit_test(smooth_render_on_story_canvas_gives_the_photo),
        cmocka_unit_test(panorama_on_story_canvas_gives_the_photo),
        cmocka_unit_test(watermark_box_is_no_frame),
        cmocka_unit_test(logo_box_over_flat_dark_region_is_no_frame),
        cmocka_unit_test(logo_box_gives_no_band),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
