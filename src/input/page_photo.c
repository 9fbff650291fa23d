/* page_photo.c - a photo pasted on a flat page, found by its colour
 * (page_photo.h).
 *
 * The page is the commonest colour bin (2^BIN_SHIFT levels a channel)
 * when it holds at least PAGE_SHARE of the pixels: a flat colour, since a
 * smooth sky or fog spreads over several bins.  (A page colour on a bin's
 * edge spreads too, and is then no page: counting the pixels near the
 * bin's mean instead took fog tiles and a render's flat ground for pages
 * on the tune split.)  A pixel is unlike the page when a channel differs
 * from the bin's mean by more than PAGE_TOL.  Rows and columns unlike the page
 * almost all along (BAND_SHARE) are chrome across the window and are left
 * out, so that a toolbar touching the photo's top does not join it; a page
 * with no such band is no window (a logo box over fog is a compact region
 * on a flat ground too).  The photo is the 8-connected region of the rest
 * with the largest bounding box that covers AREA_MIN .. AREA_MAX of the
 * image, is at most SIDE_MAX of either side and MIN_SIDE pixels at least,
 * lies CLEAR of the bounds (2 pixels at least) and is filled to FILL_MIN:
 * text lines, icons and side panels are smaller, open to a bound or not
 * filled. */
#include "input/page_photo.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#define BIN_SHIFT 4
#define PAGE_SHARE 0.33
#define PAGE_TOL 10
#define BAND_SHARE 0.95
#define AREA_MIN 0.04
#define AREA_MAX 0.8
#define SIDE_MAX 0.9
#define FILL_MIN 0.75
#define CLEAR 0.02
#define MIN_SIDE 8

#define LEVELS (256 >> BIN_SHIFT)

static int bin_of(const unsigned char *p)
{
    return ((p[0] >> BIN_SHIFT) * LEVELS + (p[1] >> BIN_SHIFT)) * LEVELS + (p[2] >> BIN_SHIFT);
}

static int unlike(const unsigned char *p, const int page[3])
{
    return abs(p[0] - page[0]) > PAGE_TOL || abs(p[1] - page[1]) > PAGE_TOL || abs(p[2] - page[2]) > PAGE_TOL;
}

/* The page's colour (the mean of its bin) when the image has one. */
static int page_colour(const dg_pixels *img, int page[3])
{
    int hist[LEVELS * LEVELS * LEVELS] = {0}, best = 0;
    size_t n = (size_t)img->w * (size_t)img->h;
    for (size_t i = 0; i < n; i++)
        hist[bin_of(img->rgb + 3 * i)]++;
    for (int b = 1; b < LEVELS * LEVELS * LEVELS; b++)
        best = hist[b] > hist[best] ? b : best;
    if (hist[best] < PAGE_SHARE * (double)n)
        return 0;
    int64_t sum[3] = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        if (bin_of(img->rgb + 3 * i) == best)
            for (int c = 0; c < 3; c++)
                sum[c] += img->rgb[3 * i + c];
    for (int c = 0; c < 3; c++)
        page[c] = (int)((sum[c] + hist[best] / 2) / hist[best]);
    return 1;
}

/* Leaves out of mask (w x h) the rows and columns set almost all along;
 * returns how many there were (-1: out of memory). */
static int clear_bands(unsigned char *mask, int w, int h)
{
    unsigned char *band_row = calloc((size_t)h + (size_t)w, 1);
    if (!band_row)
        return -1;
    unsigned char *band_col = band_row + h;
    int bands = 0;
    /* both directions' bands from the mask before either is cleared */
    for (int y = 0; y < h; y++) {
        int k = 0;
        for (int x = 0; x < w; x++)
            k += mask[(size_t)y * w + x];
        band_row[y] = k > BAND_SHARE * w;
        bands += band_row[y];
    }
    for (int x = 0; x < w; x++) {
        int k = 0;
        for (int y = 0; y < h; y++)
            k += mask[(size_t)y * w + x];
        band_col[x] = k > BAND_SHARE * h;
        bands += band_col[x];
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (band_row[y] || band_col[x])
                mask[(size_t)y * w + x] = 0;
    free(band_row);
    return bands;
}

/* The region of `start` (cleared from mask as it is visited): its pixel
 * count and bounding box.  stack holds w x h indices. */
static int region(int w, int h, unsigned char *mask, int *stack, int start, dg_rect *box)
{
    int top = 0, count = 0;
    *box = (dg_rect){start % w, start / w, start % w + 1, start / w + 1};
    mask[start] = 0;
    stack[top++] = start;
    while (top > 0) {
        int i = stack[--top], x = i % w, y = i / w;
        count++;
        box->x0 = x < box->x0 ? x : box->x0;
        box->x1 = x + 1 > box->x1 ? x + 1 : box->x1;
        box->y0 = y < box->y0 ? y : box->y0;
        box->y1 = y + 1 > box->y1 ? y + 1 : box->y1;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int u = x + dx, v = y + dy;
                if (u < 0 || v < 0 || u >= w || v >= h || !mask[v * w + u])
                    continue;
                mask[v * w + u] = 0;
                stack[top++] = v * w + u;
            }
    }
    return count;
}

static int photo_like(int w, int h, const dg_rect *b, int count)
{
    int bw = b->x1 - b->x0, bh = b->y1 - b->y0;
    double area = (double)bw * bh, all = (double)w * h;
    double cx = CLEAR * w > 2 ? CLEAR * w : 2, cy = CLEAR * h > 2 ? CLEAR * h : 2;
    return area >= AREA_MIN * all && area <= AREA_MAX * all && bw >= MIN_SIDE && bh >= MIN_SIDE &&
           bw <= SIDE_MAX * w && bh <= SIDE_MAX * h && count >= FILL_MIN * area && b->x0 >= cx && b->y0 >= cy &&
           b->x1 <= w - cx && b->y1 <= h - cy;
}

int dg_page_photo(const dg_pixels *img, dg_rect *photo)
{
    int page[3], w = img->w, h = img->h;
    size_t n = (size_t)w * (size_t)h;
    /* the regions' pixels are indexed by int (the decoder hands over
     * images reduced to a small size; larger ones have no page here) */
    if (w < 1 || h < 1 || n > INT_MAX || !page_colour(img, page))
        return 0;
    unsigned char *mask = malloc(n);
    int *stack = malloc(n * sizeof *stack);
    double best = 0.0;
    if (mask && stack) {
        for (size_t i = 0; i < n; i++)
            mask[i] = (unsigned char)unlike(img->rgb + 3 * i, page);
        if (clear_bands(mask, w, h) > 0)
            for (int i = 0; i < (int)n; i++) {
                if (!mask[i])
                    continue;
                dg_rect b;
                int count = region(w, h, mask, stack, i, &b);
                double area = (double)(b.x1 - b.x0) * (b.y1 - b.y0);
                if (area > best && photo_like(w, h, &b, count)) {
                    best = area;
                    *photo = b;
                }
            }
    }
    free(mask);
    free(stack);
    return best > 0.0;
}
