/* descriptor.c - the built-in near-duplicate descriptor: from RGB pixels of
 * any size to DG_DESC_DIM floats that change little under resizing,
 * recompression, blur, photometric edits, grayscale conversion, moderate
 * crops, borders, overlays near the edges and small rotations, and a lot
 * between different photographs.  It is a pure function of the pixels and
 * their content box (no state, no allocation); decoding and the
 * corpus-level projection live elsewhere.
 *
 * Steps: the content box (dg_content_box, which the caller runs once per
 * image and hands in, the signature uses it too): uniform borders trimmed
 * (bars ending in a sharp edge), a frame left out (or, where neither is
 * found, a photo pasted on a flat page: page_photo.h), and the watermark
 * box inside (overlay.h); leave out MARGIN of each remaining side; area-average
 * the rest to a DG_DESC_SIZE square, the watermark box filled in from its
 * surroundings there; equalise the luminance by rank (monotone brightness,
 * contrast or gamma changes give nearly the same result); weight it with a
 * window that fades in from the edges; then three cues, each scaled to a
 * fixed length:
 *   DCT    the lowest frequencies (u + v < 8, no DC) of the windowed
 *          luminance averaged to 32 x 32 (weight W_DCT),
 *   HOG    gradient-orientation histograms, 4 x 4 cells x 8 unsigned
 *          orientations, soft-binned in space and angle, window-weighted,
 *          magnitudes clamped, square-rooted (weight W_HOG),
 *   colour mean chroma on a 4 x 4 grid, absolute (not normalised) and
 *          lightly weighted, so that grayscale conversion moves it little.
 * The weights, margin and window were chosen on a dg-mkbench corpus of
 * Debian's wallpapers (see tests/test_embed.c for the checked numbers).
 * With flip each cue is made mirror-invariant: for every pair of values
 * (a, b) that a horizontal mirror exchanges (with sign s) the cue keeps
 * (a + s b) / sqrt 2 and |a - s b| / sqrt 2, which preserves its length.
 */
#include "input/descriptor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "input/content_rect.h"
#include "input/decode.h"
#include "input/overlay.h"
#include "input/page_photo.h"
#include "input/pca.h"

#define S DG_DESC_SIZE
#define DCT_N 32
#define DCT_BAND 8 /* coefficients with u + v < DCT_BAND */
#define GRID 4
#define BINS 8
#define EQ_LEVELS 1024
/* Gradient magnitudes count up to HOG_CLAMP (equalised luminance, central
 * difference): the edges of overlaid text and logos are the strongest in
 * an image and would otherwise outweigh the photo's own (chosen on the
 * tune split of jobs/quality_bench.sh). */
#define HOG_CLAMP 0.15f

#define W_DCT 0.5f
#define W_HOG 1.0f
#define W_COLOR 0.15f
#define COLOR_GAIN 3.0f /* chroma (-0.5..0.5 of full scale) to about -1..1 */

/* A line of the border counts as uniform when TRIM_SHARE of its pixels are
 * within TRIM_TOL of the edge's colour; a bar must end in an edge (a line
 * with fewer than TRIM_EDGE of its pixels near the bar's colour) and is at
 * most TRIM_MAX of the side. */
#define TRIM_TOL 12
#define TRIM_SHARE 0.97
#define TRIM_MAX 0.3
#define TRIM_EDGE 0.5

#define MARGIN 0.1 /* of each side, left out after trimming */
#define RAMP 0.25  /* of the kept side, over which the window rises */

/* ---- border trimming ------------------------------------------------------ */

static const unsigned char *px(const dg_pixels *img, int x, int y)
{
    return img->rgb + ((size_t)y * (size_t)img->w + (size_t)x) * 3;
}

static int near(const unsigned char *p, const int ref[3])
{
    return abs(p[0] - ref[0]) <= TRIM_TOL && abs(p[1] - ref[1]) <= TRIM_TOL && abs(p[2] - ref[2]) <= TRIM_TOL;
}

/* Share of the pixels of the line from (x,y) stepping (dx,dy) for n pixels
 * that are within TRIM_TOL of ref. */
static double line_share(const dg_pixels *img, int x, int y, int dx, int dy, int n, const int ref[3])
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += near(px(img, x + i * dx, y + i * dy), ref);
    return (double)ok / n;
}

static void line_mean(const dg_pixels *img, int x, int y, int dx, int dy, int n, int ref[3])
{
    long sum[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            sum[c] += px(img, x + i * dx, y + i * dy)[c];
    for (int c = 0; c < 3; c++)
        ref[c] = (int)((sum[c] + n / 2) / n);
}

/* Start of line k from the side of r (0 top, 1 bottom, 2 left, 3 right). */
static void line_start(const dg_rect *r, int side, int k, int *x, int *y)
{
    *x = side == 2 ? r->x0 + k : side == 3 ? r->x1 - 1 - k : r->x0;
    *y = side == 0 ? r->y0 + k : side == 1 ? r->y1 - 1 - k : r->y0;
}

/* The depth of a bar on one side: lines uniform in the colour of the
 * outermost one, ending in a clear edge (one of the next two lines mostly
 * unlike the last uniform one).  A flat sky or a gradient that fades out
 * is no bar. */
static int side_trim(const dg_pixels *img, const dg_rect *r, int side)
{
    int dx = side < 2, dy = side >= 2; /* top/bottom: the lines are rows */
    int len = dx ? r->x1 - r->x0 : r->y1 - r->y0;
    int depth = dx ? r->y1 - r->y0 : r->x1 - r->x0;
    int max = (int)(TRIM_MAX * depth);
    int ref[3], x, y, k = 0;
    line_start(r, side, 0, &x, &y);
    line_mean(img, x, y, dx, dy, len, ref);
    for (; k < max; k++) {
        line_start(r, side, k, &x, &y);
        if (line_share(img, x, y, dx, dy, len, ref) < TRIM_SHARE)
            break;
    }
    if (k == 0 || k == max)
        return 0;
    int last[3];
    line_start(r, side, k - 1, &x, &y);
    line_mean(img, x, y, dx, dy, len, last);
    for (int e = k; e < k + 2 && e < depth; e++) {
        line_start(r, side, e, &x, &y);
        if (line_share(img, x, y, dx, dy, len, last) < TRIM_EDGE)
            return e + 1 < depth / 2 ? e + 1 : k;
    }
    return 0;
}

static dg_rect trim_borders(const dg_pixels *img)
{
    dg_rect r = {0, 0, img->w, img->h};
    if (img->w < 8 || img->h < 8)
        return r;
    int top = side_trim(img, &r, 0), bottom = side_trim(img, &r, 1);
    r.y0 += top;
    r.y1 -= bottom;
    int left = side_trim(img, &r, 2), right = side_trim(img, &r, 3);
    r.x0 += left;
    r.x1 -= right;
    return r;
}

/* Whether r is the watermark box `mark` of the whole image or a band
 * through it rather than a frame of its own: at least half of r's area
 * inside mark, and r's rows within mark's (mark's height / BAND_TOL of
 * slack: a logo box is wider than high, and a band through it runs along
 * it).  When r is mark itself (every side that close), mark must also hold
 * a logo's ink: a smooth photo pasted in a window can pass for a watermark
 * box, with a few strokes only (a box found in its sky lies above its
 * lower part, outside r's rows). */
#define BAND_TOL 8
static int in_mark(const dg_lum_plane *lum, const dg_rect *r, const int mark[4])
{
    int w = (r->x1 < mark[2] ? r->x1 : mark[2]) - (r->x0 > mark[0] ? r->x0 : mark[0]);
    int h = (r->y1 < mark[3] ? r->y1 : mark[3]) - (r->y0 > mark[1] ? r->y0 : mark[1]);
    int tol = (mark[3] - mark[1]) / BAND_TOL;
    if (w <= 0 || h <= 0 || 2.0 * w * h < (double)(r->x1 - r->x0) * (r->y1 - r->y0) || r->y0 < mark[1] - tol ||
        r->y1 > mark[3] + tol)
        return 0;
    int itself = abs(r->x0 - mark[0]) <= tol && abs(r->x1 - mark[2]) <= tol && abs(r->y0 - mark[1]) <= tol &&
                 abs(r->y1 - mark[3]) <= tol;
    int image[4] = {0, 0, lum->w, lum->h};
    return !itself || dg_overlay_has_logo_ink(lum, image, mark);
}

static int same_rect(const dg_rect *a, const dg_rect *b)
{
    return a->x0 == b->x0 && a->y0 == b->y0 && a->x1 == b->x1 && a->y1 == b->y1;
}

/* The frame content_rect finds inside `within`, unless what it frames is
 * a watermark box (overlay.h): over a smooth photo, a logo box can pass
 * for a photo pasted on a flat page.  Either the frame holds one by
 * itself, or it is `mark`, the watermark box of the whole image (NULL:
 * none), or a band through it: closed by the box's top and bottom and open
 * where the photo seen through the box goes on. */
static dg_rect framed_photo(const dg_pixels *img, const dg_lum_plane *lum, dg_rect within, const int *mark)
{
    dg_rect r = dg_content_rect(img, lum, within);
    if (same_rect(&r, &within))
        return r;
    int region[4] = {within.x0, within.y0, within.x1, within.y1}, box[4] = {r.x0, r.y0, r.x1, r.y1};
    return dg_overlay_is_box(lum, region, box) || (mark && in_mark(lum, &r, mark)) ? within : r;
}

/* The photo: a frame inside the image without its uniform borders.  Bars
 * come in opposite pairs (letterbox, border); a bar on one side only is
 * more likely the flat side of an application window (dark chrome is
 * uniform within TRIM_TOL), and trimming it would leave that frame open on
 * that side, so the frame is first looked for in the whole image.  Such a
 * bar that ends inside the watermark box `mark` is sky over the box: the
 * frame is looked for in the whole image only. */
static dg_rect content(const dg_pixels *img, const dg_lum_plane *lum, const int *mark)
{
    dg_rect all = {0, 0, img->w, img->h}, t = trim_borders(img);
    int sides = (t.x0 > 0) + (t.y0 > 0) + (t.x1 < img->w) + (t.y1 < img->h);
    if (sides == 1 && mark && (mark[0] < t.x0 || mark[1] < t.y0 || mark[2] > t.x1 || mark[3] > t.y1))
        return framed_photo(img, lum, all, mark);
    if (sides == 1) {
        dg_rect r = framed_photo(img, lum, all, mark);
        if (!same_rect(&r, &all))
            return r;
    }
    return framed_photo(img, lum, t, mark);
}

/* Where content() gives the whole image (no frame, no border): a photo
 * pasted on a flat page, found by its colour (page_photo.h: a photo of fog
 * or of a night sky has neither the edges nor the detail content() asks
 * for), unless it holds a logo's ink or is a band through the watermark
 * box `mark` (in_mark()): a logo box over a flat part of a photo is a
 * compact region unlike its surroundings too.  The whole-image watermark
 * search can take such a photo for a box of its own; without ink it is
 * still the photo. */
static dg_rect page_photo(const dg_pixels *img, const dg_lum_plane *lum, const int *mark, dg_rect all)
{
    dg_rect p;
    if (!dg_page_photo(img, &p))
        return all;
    int r[4] = {p.x0, p.y0, p.x1, p.y1}, image[4] = {0, 0, img->w, img->h};
    return (mark && in_mark(lum, &p, mark)) || dg_overlay_has_logo_ink(lum, image, r) ? all : p;
}

/* The watermark box is looked for in the whole image first (content()
 * needs it) and again only inside a content box that is not the whole
 * image. */
void dg_content_box(const dg_pixels *img, int box[DG_BOX_LEN])
{
    dg_lum_plane lum;
    memset(box, 0, DG_BOX_LEN * sizeof *box);
    box[2] = img->w;
    box[3] = img->h;
    if (dg_lum_plane_init(&lum, img) == DG_OK) {
        int image[4] = {0, 0, img->w, img->h}, mark[4];
        int found = dg_overlay_find(&lum, image, mark);
        dg_rect all = {0, 0, img->w, img->h}, r = content(img, &lum, found ? mark : NULL);
        if (same_rect(&r, &all))
            r = page_photo(img, &lum, found ? mark : NULL, all);
        box[0] = r.x0;
        box[1] = r.y0;
        box[2] = r.x1;
        box[3] = r.y1;
        if (same_rect(&r, &all))
            memcpy(box + 4, mark, sizeof mark);
        else
            dg_overlay_find(&lum, box, box + 4);
    }
    dg_lum_plane_free(&lum);
}

/* ---- resampling and photometric normalisation ----------------------------- */

/* Overlap of pixel [p, p+1) with [a, b) (libm's fmin/fmax are calls). */
static inline double overlap(int p, double a, double b)
{
    double lo = p > a ? p : a, hi = p + 1 < b ? p + 1 : b;
    return hi - lo;
}

/* Area average of rect r into S x S planes of luma and two chroma channels
 * (full scale 1.0): gathers, for every output cell, the overlapping source
 * pixels weighted by the overlap. */
static void resample(const dg_pixels *img, const dg_rect *r, float *luma, float *cb, float *cr)
{
    double sx = (double)(r->x1 - r->x0) / S, sy = (double)(r->y1 - r->y0) / S;
    for (int i = 0; i < S; i++) {
        double ya = i * sy, yb = (i + 1) * sy;
        for (int j = 0; j < S; j++) {
            double xa = j * sx, xb = (j + 1) * sx;
            double acc[3] = {0, 0, 0};
            for (int y = (int)ya; y < yb && y < r->y1 - r->y0; y++) {
                double wy = overlap(y, ya, yb);
                for (int x = (int)xa; x < xb && x < r->x1 - r->x0; x++) {
                    double w = wy * overlap(x, xa, xb);
                    const unsigned char *p = px(img, r->x0 + x, r->y0 + y);
                    acc[0] += w * p[0];
                    acc[1] += w * p[1];
                    acc[2] += w * p[2];
                }
            }
            double norm = 1.0 / (255.0 * sx * sy);
            double R = acc[0] * norm, G = acc[1] * norm, B = acc[2] * norm;
            double Y = 0.299 * R + 0.587 * G + 0.114 * B;
            luma[i * S + j] = (float)Y;
            cb[i * S + j] = (float)(B - Y);
            cr[i * S + j] = (float)(R - Y);
        }
    }
}

/* Replaces each value by its mid-rank in [0,1], minus 0.5 (a histogram of
 * EQ_LEVELS levels; equal levels share their average rank). */
static void equalise(float *v, int n)
{
    int hist[EQ_LEVELS];
    memset(hist, 0, sizeof hist);
    for (int i = 0; i < n; i++) {
        int b = (int)(v[i] * (EQ_LEVELS - 1) + 0.5f);
        hist[b < 0 ? 0 : b >= EQ_LEVELS ? EQ_LEVELS - 1 : b]++;
    }
    float rank[EQ_LEVELS];
    int below = 0;
    for (int b = 0; b < EQ_LEVELS; b++) {
        rank[b] = ((float)below + 0.5f * (float)hist[b]) / (float)n;
        below += hist[b];
    }
    for (int i = 0; i < n; i++) {
        int b = (int)(v[i] * (EQ_LEVELS - 1) + 0.5f);
        v[i] = rank[b < 0 ? 0 : b >= EQ_LEVELS ? EQ_LEVELS - 1 : b] - 0.5f;
    }
}

/* ---- where to look -------------------------------------------------------- */

/* Drops MARGIN of each side: crops, overlays and captions change an image
 * most near its edges. */
static void leave_margin(dg_rect *r)
{
    int mx = (int)(MARGIN * (r->x1 - r->x0)), my = (int)(MARGIN * (r->y1 - r->y0));
    r->x0 += mx;
    r->x1 -= mx;
    r->y0 += my;
    r->y1 -= my;
}

/* Separable weight of the kept region: rises linearly from 0 at its edges
 * to 1 at RAMP of its side, so a feature crossing the edge fades in. */
static void window(float *w)
{
    for (int i = 0; i < S; i++) {
        double t = (i + 0.5) / S, e = t < 1 - t ? t : 1 - t;
        w[i] = (float)(e >= RAMP ? 1.0 : e / RAMP);
    }
}

/* ---- cues ----------------------------------------------------------------- */

static void scale_to_unit(float *v, int n, float weight)
{
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += (double)v[i] * v[i];
    float k = ss > 1e-20 ? (float)(weight / sqrt(ss)) : 0.0f;
    for (int i = 0; i < n; i++)
        v[i] *= k;
}

/* The low band of the 2-D DCT-II of the luminance averaged to 32 x 32, in
 * the order of (u + v, then v): out[k] for the k-th pair after DC. */
static void cue_dct(const float *luma, float *out)
{
    float small[DCT_N * DCT_N];
    for (int i = 0; i < DCT_N; i++)
        for (int j = 0; j < DCT_N; j++) {
            const float *p = luma + (2 * i) * S + 2 * j;
            small[i * DCT_N + j] = 0.25f * (p[0] + p[1] + p[S] + p[S + 1]);
        }
    float basis[DCT_BAND][DCT_N];
    for (int u = 0; u < DCT_BAND; u++)
        for (int x = 0; x < DCT_N; x++)
            basis[u][x] = (float)cos(M_PI * u * (2 * x + 1) / (2.0 * DCT_N));
    float rows[DCT_N][DCT_BAND]; /* per image row, horizontal frequencies */
    for (int i = 0; i < DCT_N; i++)
        for (int u = 0; u < DCT_BAND; u++) {
            float s = 0;
            for (int x = 0; x < DCT_N; x++)
                s += small[i * DCT_N + x] * basis[u][x];
            rows[i][u] = s;
        }
    int k = 0;
    for (int sum = 1; sum < DCT_BAND; sum++)
        for (int v = 0; v <= sum; v++) {
            int u = sum - v;
            float s = 0;
            for (int i = 0; i < DCT_N; i++)
                s += rows[i][u] * basis[v][i];
            out[k++] = s;
        }
}

/* floorf(v) as an int for |v| < 2^31: the conversion truncates towards
 * zero, one less below it.  The same value as (int)floorf(v), without the
 * library call floorf is on x86-64 without SSE4.1 (every vote makes three). */
static inline int floor_int(float v)
{
    int i = (int)v;
    return i - ((float)i > v);
}

/* Adds magnitude m at fractional cell coordinates (cy, cx) and orientation
 * bin position t, bilinearly in space and linearly in angle. */
static void hog_vote(float *hog, float cy, float cx, float t, float m)
{
    int y0 = floor_int(cy), x0 = floor_int(cx), b0 = floor_int(t);
    float fy = cy - (float)y0, fx = cx - (float)x0, fb = t - (float)b0;
    for (int dy = 0; dy < 2; dy++) {
        int y = y0 + dy;
        if (y < 0 || y >= GRID)
            continue;
        float wy = dy ? fy : 1 - fy;
        for (int dx = 0; dx < 2; dx++) {
            int x = x0 + dx;
            if (x < 0 || x >= GRID)
                continue;
            float w = wy * (dx ? fx : 1 - fx) * m;
            float *cell = hog + (y * GRID + x) * BINS;
            cell[((b0 % BINS) + BINS) % BINS] += w * (1 - fb);
            cell[(((b0 + 1) % BINS) + BINS) % BINS] += w * fb;
        }
    }
}

static void cue_hog(const float *luma, const float *win, float *out)
{
    memset(out, 0, sizeof(float) * DG_DESC_HOG_DIM);
    const float cell = (float)S / GRID;
    for (int y = 1; y < S - 1; y++)
        for (int x = 1; x < S - 1; x++) {
            float gx = luma[y * S + x + 1] - luma[y * S + x - 1];
            float gy = luma[(y + 1) * S + x] - luma[(y - 1) * S + x];
            float m = sqrtf(gx * gx + gy * gy);
            m = m > HOG_CLAMP ? HOG_CLAMP : m;
            if (m <= 0)
                continue;
            float theta = atan2f(gy, gx);
            if (theta < 0)
                theta += (float)M_PI;
            float t = theta * (float)(BINS / M_PI) - 0.5f;
            hog_vote(out, ((float)y + 0.5f) / cell - 0.5f, ((float)x + 0.5f) / cell - 0.5f, t, m * win[x] * win[y]);
        }
    for (int i = 0; i < DG_DESC_HOG_DIM; i++)
        out[i] = sqrtf(out[i]);
}

static void cue_color(const float *cb, const float *cr, float *out)
{
    const int c = S / GRID;
    for (int gy = 0; gy < GRID; gy++)
        for (int gx = 0; gx < GRID; gx++) {
            double a = 0, b = 0;
            for (int y = gy * c; y < (gy + 1) * c; y++)
                for (int x = gx * c; x < (gx + 1) * c; x++) {
                    a += cb[y * S + x];
                    b += cr[y * S + x];
                }
            float k = COLOR_GAIN / (float)(c * c);
            out[2 * (gy * GRID + gx)] = fmaxf(-1.0f, fminf(1.0f, (float)a * k));
            out[2 * (gy * GRID + gx) + 1] = fmaxf(-1.0f, fminf(1.0f, (float)b * k));
        }
}

/* ---- mirror invariance ---------------------------------------------------- */

/* Combines v[i] with its mirror image v[j] (sign s): see the file comment. */
static void mirror_pair(float *v, int i, int j, float s)
{
    if (i == j) {
        if (s < 0)
            v[i] = fabsf(v[i]);
        return;
    }
    if (j < i)
        return;
    float a = v[i], b = s * v[j];
    v[i] = (a + b) * (float)M_SQRT1_2;
    v[j] = fabsf(a - b) * (float)M_SQRT1_2;
}

static void mirror_dct(float *v)
{
    /* Mirroring negates the coefficients of odd horizontal frequency u. */
    int k = 0;
    for (int sum = 1; sum < DCT_BAND; sum++)
        for (int vv = 0; vv <= sum; vv++, k++)
            mirror_pair(v, k, k, ((sum - vv) & 1) ? -1.0f : 1.0f);
}

static void mirror_hog(float *v)
{
    /* Cell (y, x) <-> (y, GRID-1-x); orientation bin b <-> BINS-1-b. */
    for (int y = 0; y < GRID; y++)
        for (int x = 0; x < GRID; x++)
            for (int b = 0; b < BINS; b++) {
                int i = (y * GRID + x) * BINS + b;
                int j = (y * GRID + (GRID - 1 - x)) * BINS + (BINS - 1 - b);
                mirror_pair(v, i, j, 1.0f);
            }
}

static void mirror_color(float *v)
{
    for (int y = 0; y < GRID; y++)
        for (int x = 0; x < GRID; x++)
            for (int c = 0; c < 2; c++)
                mirror_pair(v, 2 * (y * GRID + x) + c, 2 * (y * GRID + (GRID - 1 - x)) + c, 1.0f);
}

/* ---- the descriptor ------------------------------------------------------- */

void dg_descriptor(const dg_pixels *img, const int box[DG_BOX_LEN], int flip, float *out)
{
    float luma[S * S], cb[S * S], cr[S * S];
    dg_rect r = {box[0], box[1], box[2], box[3]};
    leave_margin(&r);
    resample(img, &r, luma, cb, cr);
    if (dg_box_has_overlay(box)) {
        int kept[4] = {r.x0, r.y0, r.x1, r.y1}, cells[4];
        dg_overlay_cells(kept, box + 4, S, S, cells);
        dg_overlay_fill(luma, S, S, cells);
        dg_overlay_fill(cb, S, S, cells);
        dg_overlay_fill(cr, S, S, cells);
    }
    equalise(luma, S * S);
    float *dct = out, *hog = out + DG_DESC_DCT_DIM, *color = hog + DG_DESC_HOG_DIM;
    float win[S], windowed[S * S];
    window(win);
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++)
            windowed[i * S + j] = luma[i * S + j] * win[i] * win[j];
    cue_dct(windowed, dct);
    cue_hog(luma, win, hog);
    cue_color(cb, cr, color);
    if (flip) {
        mirror_dct(dct);
        mirror_hog(hog);
        mirror_color(color);
    }
    scale_to_unit(dct, DG_DESC_DCT_DIM, W_DCT);
    scale_to_unit(hog, DG_DESC_HOG_DIM, W_HOG);
    for (int i = 0; i < DG_DESC_COLOR_DIM; i++)
        color[i] *= W_COLOR / sqrtf((float)DG_DESC_COLOR_DIM / 4.0f);
}

void dg_descriptor_quantise(const float *x, int16_t *q)
{
    for (int i = 0; i < DG_DESC_DIM; i++) {
        float v = x[i] * DG_DESC_QUANT;
        v = v > DG_DESC_QUANT ? DG_DESC_QUANT : v < -DG_DESC_QUANT ? -DG_DESC_QUANT : v;
        q[i] = (int16_t)lrintf(v);
    }
}
