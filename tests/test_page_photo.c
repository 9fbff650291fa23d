/* test_page_photo.c - a photo pasted on a flat page, found by its colour
 * (src/input/page_photo.c).  desktop-base's smooth renders (a night sky, a
 * gradient: no edge that steps all along, no detail) cut as the
 * benchmark's pan crops, each on a light and a dark page with a bar across
 * its top (dg_img_border, then a band: the photo's box is known to the
 * pixel); the same pages without the bar (a compact region on a flat
 * ground is no window: a logo box over fog looks like that); and real
 * photographs and the renders whole, as the job's decoder hands them over
 * (no page). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>

#include "bench/compose.h"
#include "bench/edits.h"
#include "full_image.h"
#include "input/decode.h"
#include "input/descriptor.h"
#include "input/page_photo.h"
#include "tools/raster.h"

#define PAN_H 120 /* the pan's height on the page, pixels */
#define MARGIN 30 /* page around the pan, pixels */
#define BAR 10    /* the bar across the page's top, pixels */
#define EDGE_TOL 2 /* pixels a found side may lie inside the pan's (a dark pan's edge on a dark page) */
/* of the 24 pasted pans: 22 when written (the moonlight pans' dark foot
 * matches the dark page and is left out of two boxes) */
#define MIN_FOUND 22

static const uint8_t pages[2][3] = {{242, 242, 244}, {40, 42, 46}};
static const uint8_t bar_colour[3] = {90, 120, 200};

#define N_PANS (3 * N_SMOOTH_RENDERS)
#define LEFT (MARGIN + 20) /* page left of the pan, pixels: the page is not symmetric */

/* Pan n % 3 of 3 of render n / 3 (0.4 of its width, 0.9 of its height),
 * PAN_H high, on page colour p: MARGIN around it and BAR more above, with
 * or without the bar drawn across the top.  *pasted: where the pan lies. */
static void page_of(int n, int p, int bar, dg_image *page, dg_rect *pasted)
{
    dg_image render, cut, pan;
    dg_err err;
    load_full_image(smooth_renders[n / 3], &render);
    int k = n % 3, x0 = (int)(0.3 * k * render.w), y0 = (int)(0.05 * k * render.h), w = (int)(0.4 * render.w),
        h = (int)(0.9 * render.h);
    assert_int_equal(dg_img_crop(&render, x0, y0, w, h, &cut, &err), DG_OK);
    assert_int_equal(dg_image_resize(&cut, w * PAN_H / h, PAN_H, &pan, &err), DG_OK);
    assert_int_equal(dg_img_border(&pan, MARGIN + BAR, MARGIN, LEFT, MARGIN, pages[p], page, &err), DG_OK);
    if (bar)
        dg_img_fill_rect(page, 0, 0, page->w, BAR, bar_colour, 1.0);
    *pasted = (dg_rect){LEFT, MARGIN + BAR, LEFT + pan.w, MARGIN + BAR + pan.h};
    dg_image_free(&pan);
    dg_image_free(&cut);
    dg_image_free(&render);
}

static int page_photo_of(const dg_image *im, dg_rect *r)
{
    dg_pixels px = {im->w, im->h, im->px};
    return dg_page_photo(&px, r);
}

/* The box never reaches beyond the pan; at most its own pixels that match
 * the page (EDGE_TOL along a side) are left out. */
static int fits(dg_rect r, dg_rect pasted)
{
    return r.x0 >= pasted.x0 && r.y0 >= pasted.y0 && r.x1 <= pasted.x1 && r.y1 <= pasted.y1 &&
           r.x0 - pasted.x0 <= EDGE_TOL && r.y0 - pasted.y0 <= EDGE_TOL && pasted.x1 - r.x1 <= EDGE_TOL &&
           pasted.y1 - r.y1 <= EDGE_TOL;
}

static void pasted_render_is_found(void **state)
{
    (void)state;
    int found = 0, tried = 0;
    for (int n = 0; n < N_PANS; n++)
        for (int p = 0; p < 2; p++) {
            dg_image page;
            dg_rect r = {0, 0, 0, 0}, pasted;
            page_of(n, p, 1, &page, &pasted);
            int got = page_photo_of(&page, &r), ok = got && fits(r, pasted);
            if (!ok)
                printf("%s pan %d/3 on page %d: %s %d,%d-%d,%d (pasted %d,%d-%d,%d)\n", smooth_renders[n / 3], n % 3 + 1,
                       p, got ? "box" : "none", r.x0, r.y0, r.x1, r.y1, pasted.x0, pasted.y0, pasted.x1, pasted.y1);
            found += ok;
            tried++;
            dg_image_free(&page);
        }
    printf("pasted renders found: %d of %d\n", found, tried);
    assert_true(found >= MIN_FOUND);
}

/* Without a bar across it the page is no window: nothing is found. */
static void page_without_bar_has_no_photo(void **state)
{
    (void)state;
    for (int n = 0; n < N_PANS; n++)
        for (int p = 0; p < 2; p++) {
            dg_image page;
            dg_rect r, pasted;
            page_of(n, p, 0, &page, &pasted);
            assert_false(page_photo_of(&page, &r));
            dg_image_free(&page);
        }
}

/* A w x h light page with a bar of bar_h rows across its top (with three
 * window buttons, so that it is no uniform border to trim) and rect r
 * filled in another colour (only its outline, 4 pixels wide, when
 * hollow). */
static void drawn_page(int w, int h, int bar_h, dg_rect r, int hollow, dg_image *out)
{
    static const uint8_t ink[3] = {90, 60, 40}, button[3] = {230, 80, 60};
    dg_err err;
    assert_int_equal(dg_image_alloc(out, w, h, &err), DG_OK);
    dg_img_fill_rect(out, 0, 0, w, h, pages[0], 1.0);
    dg_img_fill_rect(out, 0, 0, w, bar_h, bar_colour, 1.0);
    for (int k = 0; k < 3 && bar_h >= 6; k++)
        dg_img_disc(out, bar_h * (k + 1), bar_h / 2, bar_h / 3, button);
    dg_img_fill_rect(out, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0, ink, 1.0);
    if (hollow)
        dg_img_fill_rect(out, r.x0 + 4, r.y0 + 4, r.x1 - r.x0 - 8, r.y1 - r.y0 - 8, pages[0], 1.0);
}

/* What makes a region the photo, one rule at a time, on drawn pages. */
static void region_rules(void **state)
{
    (void)state;
    static const struct {
        dg_rect r;
        int hollow, found;
        const char *what;
    } cases[] = {
        {{60, 10, 140, 90}, 0, 1, "touching the bar: the bar's rows are left out, not joined"},
        {{0, 40, 80, 100}, 0, 0, "touching the page's left bound"},
        {{60, 40, 140, 120}, 1, 0, "an outline, not filled"},
        {{5, 40, 195, 60}, 0, 0, "wider than 0.9 of the page"},
        {{60, 40, 140, 120}, 0, 1, "a filled rectangle clear of the bounds"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        dg_image page;
        dg_rect got = {0, 0, 0, 0};
        drawn_page(200, 150, 10, cases[k].r, cases[k].hollow, &page);
        int found = page_photo_of(&page, &got);
        printf("%s: %s %d,%d-%d,%d\n", cases[k].what, found ? "found" : "none", got.x0, got.y0, got.x1, got.y1);
        assert_int_equal(found, cases[k].found);
        if (found)
            assert_memory_equal(&got, &cases[k].r, sizeof got);
        dg_image_free(&page);
    }
    for (int side = 1; side <= 8; side++) { /* tiny pages: nothing, and nothing read out of bounds */
        dg_image page;
        dg_rect got;
        drawn_page(side, side, side / 2, (dg_rect){0, 0, 0, 0}, 0, &page);
        assert_false(page_photo_of(&page, &got));
        dg_image_free(&page);
    }
}

/* A logo box (a disc and a word on a flat ground) on a page with a bar is
 * such a region too; the content box leaves it out by its ink
 * (descriptor.c): the content box is the whole image. */
static void logo_box_on_page_is_no_photo(void **state)
{
    (void)state;
    static const uint8_t white[3] = {255, 255, 255}, ink[3] = {0, 0, 0};
    dg_image page, logo;
    dg_err err;
    dg_rect got;
    drawn_page(160, 100, 8, (dg_rect){0, 0, 0, 0}, 0, &page);
    assert_int_equal(dg_compose_logo(&page, 0.12, 0.5, 0.55, white, ink, 0.9, "STOCK", &logo, &err), DG_OK);
    assert_true(page_photo_of(&logo, &got));
    dg_pixels px = {logo.w, logo.h, logo.px};
    int box[DG_BOX_LEN];
    dg_content_box(&px, box);
    printf("logo box on a page: page photo %d,%d-%d,%d, content box %d,%d-%d,%d\n", got.x0, got.y0, got.x1, got.y1,
           box[0], box[1], box[2], box[3]);
    assert_true(box[0] == 0 && box[1] == 0 && box[2] == logo.w && box[3] == logo.h);
    dg_image_free(&logo);
    dg_image_free(&page);
}

/* Real photographs (every JPEG in /usr/share/backgrounds) and the renders,
 * whole, at the size the job decodes them to: no page. */
static void whole_images_have_no_page(void **state)
{
    (void)state;
    glob_t g;
    assert_int_equal(glob("/usr/share/backgrounds/*.jpg", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10);
    dg_decoder dec;
    dg_err err;
    assert_int_equal(dg_decoder_init(&dec, 0, 64, &err), DG_OK);
    for (size_t i = 0; i < g.gl_pathc + N_SMOOTH_RENDERS; i++) {
        const char *path = i < g.gl_pathc ? g.gl_pathv[i] : smooth_renders[i - g.gl_pathc];
        dg_decode_result res;
        dg_rect r;
        dg_decode_file(&dec, path, &res);
        assert_int_equal(res.status, DG_ST_OK);
        int got = dg_page_photo(&res.image, &r);
        if (got)
            printf("%s: a page photo %d,%d-%d,%d\n", path, r.x0, r.y0, r.x1, r.y1);
        assert_false(got);
    }
    dg_decoder_free(&dec);
    globfree(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pasted_render_is_found),
        cmocka_unit_test(page_without_bar_has_no_photo),
        cmocka_unit_test(region_rules),
        cmocka_unit_test(logo_box_on_page_is_no_photo),
        cmocka_unit_test(whole_images_have_no_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
