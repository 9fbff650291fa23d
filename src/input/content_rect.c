/* content_rect.c - finds a photo inside a frame: application chrome (title
 * bar, toolbar, side panel, text) or a phone-story canvas filled with a
 * blurred copy.  Uniform bars are the border trimming's job (descriptor.c);
 * this file only looks inside the rectangle it is given, and describes
 * nothing.
 *
 * A whole image is first tried as a story canvas (story()): rows (columns)
 * of a blurred fill have almost no sharpness, the photo's clearly more,
 * with a step at its sides and bars of equal depth on either side.
 *
 * The region is averaged to a luminance grid of square blocks (longer side
 * at most GRID_MAX cells).  A frame is accepted when a rectangle
 *   - has a sharp straight edge along every side that is not the region's
 *     own bound (EDGE_SHARE of the side's cells step by EDGE_STEP or more),
 *   - is framed on two opposite sides at least (a flat sky above a horizon
 *     frames one side only),
 *   - covers AREA_MIN..AREA_MAX of the region,
 *   - and holds clearly more detail than its frame (cells whose local
 *     gradient reaches DETAIL_STEP: inside at least DETAIL_GAP more, and
 *     DETAIL_RATIO times, the frame's share), or, framed on all four
 *     sides, CLOSED_GAP more or a crisp outline (a smooth photo in busy
 *     chrome); beside a flat frame (a blurred fill, a plain page) a little
 *     detail inside is enough.
 * A pasted photo skips the detail tests (a photo of sky or fog has little
 * detail of its own) and may be as small as PASTED_AREA_MIN: a closed
 * rectangle with a flat page (one colour) beyond two of its sides at least,
 * whose sides step along most of their length and never run through flat
 * page, and which holds some detail or, a smooth gradient, a spread of
 * luminance or colour (spread_in()); or a rectangle between two sides at
 * equal distances from the bounds (a story canvas, a pillarbox) over a
 * fill of little detail.
 * A closed rectangle whose inside is a flat ground with ink strokes
 * (ink_on_flat()) is no frame at all: a see-through logo box over a flat
 * part of the photo.  Nor is one whose photo runs on beyond both sides of
 * a framed pair (see_through(): the texture along either side continues
 * across it, as under a see-through box), nor one framed on three sides
 * whose two sides that meet the region's bound both end short of it.
 * Beside flat cells a softer step counts as an edge (a dark photo on dark
 * chrome; a photo over its own darkened blurred copy).  A pasted photo wins
 * over any other frame and is not looked into further.
 * Candidate sides are the grid lines crossed by the longest straight runs
 * of edge cells (at most CANDIDATES per direction, plus the region's
 * bounds and the mirror images of the longest lines).  Two candidate sides
 * whose runs start or end together also give a corner frame closed where
 * they end (corner_frames()): a photo's top and bottom may be too short
 * for a run of their own (a narrow photo) or step too little (a dark photo
 * on dark chrome), while its sides end there.  Of the accepted
 * rectangles a closed one (framed on all four sides) wins over an open
 * one, then the largest detail contrast; a closed winner is tightened (see
 * tighten()).  The winner's framed sides then move, within REFINE cells,
 * to the pixel line of the largest step (refine()).
 */
#include "input/content_rect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX 128
#define MIN_CELLS 24       /* smaller grids are left alone */
#define EDGE_STEP 0.06f    /* luminance step across a side (full scale 1) */
#define EDGE_SHARE 0.7     /* of a side's cells that must step */
#define SOFT_STEP 0.025    /* a step beside a flat side (flat_beside) */
#define FLAT_TOL 0.012     /* luminance range of flat cells */
#define RUN_MIN 0.2        /* shortest straight run of a candidate, of the grid side */
#define CANDIDATES 10      /* candidate lines per direction */
#define MIRRORED 2         /* mirrored candidate lines per direction */
#define PEAK_GAP 1         /* a candidate is the longest run within this many lines */
#define DETAIL_STEP 0.04f  /* central-difference gradient of a detailed cell */
#define DETAIL_GAP 0.3     /* inside share minus frame share, frame on 2 or 3 sides */
#define DETAIL_RATIO 2.0   /* inside share over frame share, frame on 2 or 3 sides */
#define DETAIL_MIN 0.45    /* inside share, at least */
#define OUTWARD 3          /* parallel lines beyond a side, one must be smooth */
#define BEYOND_SHARE 0.3   /* of that line's cells that may step */
#define CLOSED_GAP 0.05    /* inside minus frame share, frame on all four sides */
#define CLOSED_MIN 0.1     /* inside share, frame on all four sides */
#define FLAT_FRAME 0.05    /* detail share of a frame that counts as flat */
#define FLAT_MIN 0.15      /* inside share, flat frame */
#define FLAT_OPEN_SIDE_MIN 0.1 /* detail share along an open side, flat frame */
#define CRISP_SHARE 0.9    /* of every side's cells that step: a crisp outline */
#define PASTED_SHARE 0.8   /* of a pasted photo's side that must step */
#define TIGHTEN_MAX 0.25   /* of a closed frame's side, how far tighten() moves a side in */
#define PASTED_BONUS 10.0  /* score of a pasted photo, over a closed frame's CLOSED_BONUS + 1 at most */
#define CLOSED_BONUS 3.0   /* score of a closed frame over an open one's 1 (din - dout in -1..1) */
#define OPEN_SIDE_MIN 0.3  /* detail share along a side at the region's bound */
#define AREA_MIN 0.18
#define PASTED_AREA_MIN 0.05 /* of a pasted photo (crisp outline) */
#define UNIFORM_TOL 0.03   /* luminance range along a flat frame side */
#define UNIFORM_SIDES 2    /* of a pasted closed photo's four */
#define FAR_SHARE 0.5      /* of the far side of a centred photo's pair */
#define THROUGH_SHARE 0.1  /* of a side that may run through flat page */
#define PAGE_SHARE 0.65    /* of a pasted photo's side beside a flat page */
#define PASTED_DETAIL 0.02 /* detail share inside a pasted photo, at least (no bare page) ... */
#define PASTED_SPREAD 0.08 /* ... or this luminance or chroma spread (a smooth gradient) */
#define FILL_DETAIL 0.15   /* detail share of the bars of a centred pasted photo */
#define FILL_RATIO 3.0     /* or the photo's detail share over theirs */
#define REFINE 1           /* cells a frame's side may move to its sharpest pixel line */
#define CLEAR 2            /* cells between a side and the strips faces_in() compares */
#define HALF_SHARE 0.4     /* of a side closing one side's end that must step (corner_frames()) */
#define CENTRE_TOL 2       /* cells between the bar depths of a centred photo */
#define AREA_MAX 0.9
#define SEE_SHIFT 4     /* cells a texture may shift between the rows through_corr() compares */
#define SEE_TEXTURE 0.01 /* mean change between cells along them: a texture, not JPEG noise */
#define SEE_R 0.2        /* their correlation: the photo runs on across a side */
#define NEST_MAX 3 /* frames within frames: window border, chrome, photo */
#define STORY_BINS 512     /* rows (columns) of a story canvas's profiles, at most */
#define STORY_BAR_MIN 0.07 /* depth of each bar of a story canvas, of the side (a 2:3 photo in 9:16: 0.08) */
#define STORY_PHOTO_MIN 0.3 /* the photo's extent between them, of the side */
#define STORY_CENTRE 0.02  /* bar depths differ by at most this of the side, plus a bin */
#define STORY_RATIO 2.0    /* photo rows over the fill's sharpest row ... */
#define STORY_FLOOR 0.5    /* ... plus this (luminance levels of 255: JPEG noise) */
/* ... or this much, when the fill is the photo enlarged and blurred
 * (fill_is_photo()): a smooth photo's rows (sky, fog, a render) are sharp
 * by a few tenths of a level, its blurred fill's by a few hundredths */
#define STORY_FLOOR_LOW 0.05
#define FILL_CELLS 8       /* cells across a bar that fill_is_photo() compares */
#define FILL_SD 0.5        /* levels: the least spread of those cells (a flat bar shows nothing) */
#define FILL_CORR 0.8      /* their correlation with the photo's cells they enlarge, ... */
/* ... and the least-squares gain from those to them at most this: the
 * low floor asks for a darkened fill (dg-mkbench darkens by 0.6; the tune
 * stories it takes show 0.31-0.64), as a smooth gradient's own
 * continuation beyond a band of it can match the band enlarged (a pillar
 * through a logo on a gradient: gain 0.99) */
#define FILL_GAIN 0.8
#define STORY_EDGE 3       /* bins next to each side whose mean sharpness counts */
#define STORY_SHARE 0.5    /* of the photo's bins that must be that sharp */
#define STORY_SEGMENTS 3   /* parts along a top or bottom side, each standing out of the fill */
#define STORY_SEGMENTS_SIDE 8 /* along a left or right one: less than a window's title bar */
#define BAND 2 /* cells next to a side counted neither inside nor frame */
#define GROUND_SHARE 0.5   /* of a closed rectangle's inside within FLAT_TOL of its median: a flat ground ... */
#define INK_STEP 0.1       /* ... with ink: cells this far from it ... */
#define INK_SHARE 0.05     /* ... on this share of the inside at least, ... */
#define SIDE_INK 0.5       /* ... and on at most this share of the cells along any one side */

typedef struct grid {
    int w, h;
    float lum[GRID_MAX * GRID_MAX];
    float cb[GRID_MAX * GRID_MAX], cr[GRID_MAX * GRID_MAX]; /* B - Y, R - Y: soft steps only */
    /* hcum[y][x]: edge cells on grid line y (between rows y-1 and y) left of x;
     * vcum[x][y]: edge cells on grid line x above y; sat: detailed cells. */
    short hcum[(GRID_MAX + 1) * (GRID_MAX + 1)];
    short vcum[(GRID_MAX + 1) * (GRID_MAX + 1)];
    int sat[(GRID_MAX + 1) * (GRID_MAX + 1)];
    /* Whether 2 x 3 cells lie within FLAT_TOL of each other: flat_h[r * w
     * + x] rows r and r + 1, columns x - 1 .. x + 1; flat_v[y * w + c]
     * columns c and c + 1, rows y - 1 .. y + 1 (clamped to the grid). */
    unsigned char flat_h[GRID_MAX * GRID_MAX], flat_v[GRID_MAX * GRID_MAX];
} grid;

/* Mean luminance (full scale 1) of every f x f block of r from its top
 * left corner (the last f - 1 pixels of a side may be left out), and its
 * chroma (B - Y, R - Y) from the pixels. */
static void sample(const dg_pixels *img, const dg_lum_plane *lp, dg_rect r, int f, grid *g)
{
    for (int i = 0; i < g->h; i++)
        for (int j = 0; j < g->w; j++) {
            double acc = 0, r_acc = 0, b_acc = 0;
            for (int y = r.y0 + i * f; y < r.y0 + (i + 1) * f; y++) {
                size_t at = (size_t)y * (size_t)img->w + (size_t)(r.x0 + j * f);
                const unsigned char *p = img->rgb + 3 * at;
                const double *l = lp->v + at;
                for (int x = 0; x < f; x++, p += 3) {
                    acc += l[x];
                    r_acc += p[0];
                    b_acc += p[2];
                }
            }
            double n = 255.0 * f * f;
            g->lum[i * g->w + j] = (float)(acc / n);
            g->cb[i * g->w + j] = (float)((b_acc - acc) / n);
            g->cr[i * g->w + j] = (float)((r_acc - acc) / n);
        }
}

static inline float lum(const grid *g, int x, int y)
{
    return g->lum[y * g->w + x];
}

static inline float min2(float a, float b)
{
    return a < b ? a : b;
}

static inline float max2(float a, float b)
{
    return a > b ? a : b;
}

/* lo[x], hi[x]: the least and greatest of row[x - 1], row[x], row[x + 1]
 * (x clamped to 0 .. w - 1), for x in 0 .. w - 1 (w >= 2). */
static void row_range(const float *row, int w, float *lo, float *hi)
{
    lo[0] = min2(row[0], row[1]);
    hi[0] = max2(row[0], row[1]);
    for (int x = 1; x < w - 1; x++) {
        lo[x] = min2(min2(row[x - 1], row[x]), row[x + 1]);
        hi[x] = max2(max2(row[x - 1], row[x]), row[x + 1]);
    }
    lo[w - 1] = min2(row[w - 2], row[w - 1]);
    hi[w - 1] = max2(row[w - 2], row[w - 1]);
}

/* Fills flat_h and flat_v (see grid) from the ranges of three cells in a
 * line, two such triples side by side: exact minima and maxima, so the
 * same answers as comparing the six cells one by one, in far fewer steps
 * (every grid line's every cell asks, tables()). */
static void flats(grid *g)
{
    int w = g->w, h = g->h;
    float lo[2][GRID_MAX], hi[2][GRID_MAX];
    row_range(g->lum, w, lo[0], hi[0]);
    for (int r = 0; r + 1 < h; r++) {
        const float *lo0 = lo[r & 1], *hi0 = hi[r & 1];
        float *lo1 = lo[(r + 1) & 1], *hi1 = hi[(r + 1) & 1];
        row_range(g->lum + (r + 1) * w, w, lo1, hi1);
        for (int x = 0; x < w; x++)
            g->flat_h[r * w + x] = max2(hi0[x], hi1[x]) - min2(lo0[x], lo1[x]) <= FLAT_TOL;
    }
    for (int y = 0; y < h; y++) {
        const float *a = g->lum + (y > 0 ? y - 1 : 0) * w, *b = g->lum + y * w;
        const float *c = g->lum + (y < h - 1 ? y + 1 : h - 1) * w;
        float vlo[GRID_MAX], vhi[GRID_MAX];
        for (int x = 0; x < w; x++) {
            vlo[x] = min2(min2(a[x], b[x]), c[x]);
            vhi[x] = max2(max2(a[x], b[x]), c[x]);
        }
        for (int x = 0; x + 1 < w; x++)
            g->flat_v[y * w + x] = max2(vhi[x], vhi[x + 1]) - min2(vlo[x], vlo[x + 1]) <= FLAT_TOL;
    }
}

/* Whether the 2 x 3 cells on one side of a grid line at `along` (the two
 * nearest the line, and their neighbours along it) are within FLAT_TOL of
 * each other: a page, a bar or a blurred fill, not a photo's texture. */
static int flat_beside(const grid *g, int line, int dir, int along, int vertical)
{
    int first = dir < 0 ? line - 2 : line; /* the first of the two rows or columns */
    return vertical ? g->flat_v[along * g->w + first] : g->flat_h[first * g->w + along];
}

/* |sum of the two cells before grid line `line` - the two after| in plane
 * v (row stride w) at `along`. */
static float step(const float *v, int w, int line, int along, int vertical)
{
    float a, b;
    if (vertical) {
        a = v[along * w + line - 2] + v[along * w + line - 1];
        b = v[along * w + line] + v[along * w + line + 1];
    } else {
        a = v[(line - 2) * w + along] + v[(line - 1) * w + along];
        b = v[line * w + along] + v[(line + 1) * w + along];
    }
    return fabsf(a - b); /* b - a is -(a - b) exactly: no branch */
}

/* A step across grid line y at column x, or across grid line x at row y
 * (vertical = 1), compares the two cells on either side with the two
 * beyond them, so an edge smeared over two cells by resampling still
 * counts.  Beside a flat side (flat_beside) a step of SOFT_STEP in
 * luminance or either chroma is enough: a dark photo on a dark page (a
 * dark green forest on grey chrome), a photo above the darkened blurred
 * copy of a story canvas.  Lines too close to the bound have no step.
 * d, db, dr: step() of luminance and chroma; flat: flat_beside on either
 * side; soft: soft_step(). */
static inline int edge_rule(float d, float db, float dr, int flat, float soft)
{
    /* bitwise, not short-circuit: no branch, so the row loops vectorise */
    return (d >= 2 * EDGE_STEP) | (((d >= soft) | (db >= soft) | (dr >= soft)) & flat);
}

/* 2 * SOFT_STEP (a double) as the least float at or above it: a float
 * step reaches this exactly when, widened to double, it reaches 2 *
 * SOFT_STEP, and the row loops stay in single precision. */
static float soft_step(void)
{
    float t = (float)(2 * SOFT_STEP);
    return (double)t < 2 * SOFT_STEP ? nextafterf(t, 1.0f) : t;
}

/* e[x]: whether horizontal grid line y has an edge at column x (edge_rule),
 * for every column: one branch-free pass along the rows, which the
 * compiler turns into vector code (cell by cell, with branches, these
 * tables were most of the box's time). */
static void hline_edges(const grid *g, int y, unsigned char *e)
{
    int w = g->w;
    if (y < 2 || y > g->h - 2) {
        memset(e, 0, (size_t)w);
        return;
    }
    const unsigned char *fa = g->flat_h + (y - 2) * w, *fb = g->flat_h + y * w;
    float soft = soft_step();
    for (int x = 0; x < w; x++)
        e[x] = (unsigned char)edge_rule(step(g->lum, w, y, x, 0), step(g->cb, w, y, x, 0), step(g->cr, w, y, x, 0),
                                        fa[x] | fb[x], soft);
}

/* e[x]: whether vertical grid line x has an edge at row y, for x in 0 .. w. */
static void vline_edges(const grid *g, int y, unsigned char *e)
{
    int w = g->w;
    const unsigned char *f = g->flat_v + y * w;
    float soft = soft_step();
    e[0] = e[1] = e[w - 1] = e[w] = 0;
    for (int x = 2; x <= w - 2; x++)
        e[x] = (unsigned char)edge_rule(step(g->lum, w, x, y, 1), step(g->cb, w, x, y, 1), step(g->cr, w, x, y, 1),
                                        f[x - 2] | f[x], soft);
}

/* e[x]: whether cell (x, y) is detailed (its central-difference gradient
 * reaches DETAIL_STEP; the grid's outer cells are not), for every column. */
static void detailed_row(const grid *g, int y, unsigned char *e)
{
    int w = g->w;
    if (y < 1 || y > g->h - 2) {
        memset(e, 0, (size_t)w);
        return;
    }
    const float *up = g->lum + (y - 1) * w, *row = g->lum + y * w, *down = g->lum + (y + 1) * w;
    e[0] = e[w - 1] = 0;
    for (int x = 1; x < w - 1; x++)
        e[x] = fabsf(row[x + 1] - row[x - 1]) + fabsf(down[x] - up[x]) >= DETAIL_STEP;
}

static void tables(grid *g)
{
    int W = g->w + 1, H = g->h + 1;
    unsigned char e[GRID_MAX + 1];
    flats(g);
    for (int y = 0; y < H; y++) {
        hline_edges(g, y, e);
        g->hcum[y * W] = 0;
        for (int x = 0; x < g->w; x++)
            g->hcum[y * W + x + 1] = (short)(g->hcum[y * W + x] + e[x]);
    }
    for (int x = 0; x < W; x++)
        g->vcum[x * H] = 0;
    for (int y = 0; y < g->h; y++) {
        vline_edges(g, y, e);
        for (int x = 0; x < W; x++)
            g->vcum[x * H + y + 1] = (short)(g->vcum[x * H + y] + e[x]);
    }
    for (int x = 0; x < W; x++)
        g->sat[x] = 0;
    for (int y = 0; y < g->h; y++) {
        int row = 0;
        detailed_row(g, y, e);
        g->sat[(y + 1) * W] = 0;
        for (int x = 0; x < g->w; x++) {
            row += e[x];
            g->sat[(y + 1) * W + x + 1] = g->sat[y * W + x + 1] + row;
        }
    }
}

/* Edge cells on line `line` between `a` and `b` (cells along it). */
static int edges(const grid *g, int line, int a, int b, int vertical)
{
    const short *c = vertical ? g->vcum + line * (g->h + 1) : g->hcum + line * (g->w + 1);
    return c[b] - c[a];
}

static int detail_in(const grid *g, int x0, int y0, int x1, int y1)
{
    int W = g->w + 1;
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > g->w ? g->w : x1;
    y1 = y1 > g->h ? g->h : y1;
    if (x1 <= x0 || y1 <= y0)
        return 0;
    return g->sat[y1 * W + x1] - g->sat[y0 * W + x1] - g->sat[y1 * W + x0] + g->sat[y0 * W + x0];
}

/* Longest run of edge cells along a line, a one-cell gap allowed; its
 * first cell in *start. */
static int longest_run(const grid *g, int line, int vertical, int *start)
{
    int n = vertical ? g->h : g->w, best = 0, run = 0, gap = 0;
    *start = 0;
    for (int i = 0; i < n; i++) {
        if (edges(g, line, i, i + 1, vertical)) {
            run += 1 + gap;
            gap = 0;
        } else if (run && !gap) {
            gap = 1;
        } else {
            run = 0;
            gap = 0;
        }
        if (run > best) {
            best = run;
            *start = i + 1 - run;
        }
    }
    return best;
}

/* The longest runs (longest_run) of every line of both directions: run[v]
 * and from[v] for lines 0 .. n of direction v (0: horizontal lines), and
 * the lines that are candidate peaks (see candidates()), longest first. */
typedef struct runs {
    int run[2][GRID_MAX + 1], from[2][GRID_MAX + 1];
    int peaks[2][GRID_MAX + 1], np[2];
} runs;

static void find_runs(const grid *g, runs *R)
{
    for (int v = 0; v < 2; v++) {
        int n = v ? g->w : g->h, span = v ? g->h : g->w, *run = R->run[v], *peaks = R->peaks[v], np = 0;
        for (int l = 0; l <= n; l++)
            run[l] = longest_run(g, l, v, &R->from[v][l]);
        for (int l = 2; l <= n - 2; l++) {
            if (run[l] < RUN_MIN * span)
                continue;
            int peak = 1;
            for (int d = -PEAK_GAP; d <= PEAK_GAP && peak; d++)
                if (d && l + d >= 0 && l + d <= n && (run[l + d] > run[l] || (run[l + d] == run[l] && d < 0)))
                    peak = 0;
            if (peak)
                peaks[np++] = l;
        }
        for (int i = 0; i < np && i < CANDIDATES; i++) { /* the longest first */
            int k = i;
            for (int j = i + 1; j < np; j++)
                k = run[peaks[j]] > run[peaks[k]] ? j : k;
            int t = peaks[i];
            peaks[i] = peaks[k];
            peaks[k] = t;
        }
        R->np[v] = np < CANDIDATES ? np : CANDIDATES;
    }
}

/* Whether line l is within PEAK_GAP of one of out[0..m). */
static int near_any(const int *out, int m, int l)
{
    for (int j = 0; j < m; j++)
        if (abs(out[j] - l) <= PEAK_GAP)
            return 1;
    return 0;
}

/* The region's bounds, the lines of the CANDIDATES longest straight runs
 * (each a local maximum within PEAK_GAP lines), the mirror images of
 * those that run across the whole region (the far side of a centred photo
 * may step too little for a run of its own: a dark photo above a darkened
 * fill), sorted; returns the count (at most CANDIDATES + 2 + MIRRORED). */
static int candidates(const grid *g, const runs *R, int vertical, int *out)
{
    int n = vertical ? g->w : g->h, span = vertical ? g->h : g->w;
    const int *run = R->run[vertical], *peaks = R->peaks[vertical], np = R->np[vertical];
    int m = 0;
    out[m++] = 0;
    for (int i = 0; i < np; i++)
        out[m++] = peaks[i];
    out[m++] = n;
    for (int i = 0, added = 0; i < np && added < MIRRORED; i++) {
        int l = n - peaks[i];
        if (run[peaks[i]] < CRISP_SHARE * span || near_any(out, m, l))
            continue;
        out[m++] = l;
        added++;
    }
    for (int i = 1; i < m; i++) /* insertion sort */
        for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
            int t = out[j - 1];
            out[j - 1] = out[j];
            out[j] = t;
        }
    return m;
}

/* Whether grid line `line` is a side of a framed photo between cells a
 * and b along it: a sharp edge along `share` of it, and a smooth line (few
 * edges) among the OUTWARD nearest parallel lines beyond it (direction
 * `out`, starting two lines out, clear of the edge itself).  Texture has
 * edges on every line; chrome has gaps between its text lines. */
static int side(const grid *g, int line, int out, int a, int b, int vertical, double share)
{
    int n = vertical ? g->w : g->h;
    if (edges(g, line, a, b, vertical) < share * (b - a))
        return 0;
    for (int k = 2; k < 2 + OUTWARD; k++) {
        int beyond = line + out * k;
        if (beyond < 0 || beyond > n || edges(g, beyond, a, b, vertical) <= BEYOND_SHARE * (b - a))
            return 1;
    }
    return 0;
}

/* Whether the photo's texture runs on across grid line `line` (direction
 * `out`), from a to b along it: the changes along the row (column) just
 * clear of the edge beyond, and along the one just clear of it within,
 * correlate (best of a few shifts, for slanted texture).  A see-through
 * box over a photo (a watermark) shows the photo under it, paled; a
 * frame's own chrome, bars or blurred fill do not continue the photo. */
static double through_corr(const grid *g, int line, int out, int a, int b, int vertical)
{
    int n = vertical ? g->w : g->h, o = out < 0 ? line - 2 : line + 1, i = out < 0 ? line + 1 : line - 2;
    if (o < 0 || o >= n || i < 0 || i >= n || b - a < 4 * SEE_SHIFT)
        return 0;
    float dout[GRID_MAX], din[GRID_MAX];
    double ao = 0, ai = 0;
    int m = b - a - 1;
    for (int k = a; k + 1 < b; k++) {
        dout[k - a] = vertical ? lum(g, o, k + 1) - lum(g, o, k) : lum(g, k + 1, o) - lum(g, k, o);
        din[k - a] = vertical ? lum(g, i, k + 1) - lum(g, i, k) : lum(g, k + 1, i) - lum(g, k, i);
        ao += fabsf(dout[k - a]);
        ai += fabsf(din[k - a]);
    }
    if (ao < SEE_TEXTURE * m || ai < SEE_TEXTURE * m) /* a flat frame or inside: nothing runs on */
        return 0;
    double best = 0;
    for (int s = -SEE_SHIFT; s <= SEE_SHIFT; s++) {
        double so = 0, si = 0, soo = 0, sii = 0, soi = 0;
        int c = m - 2 * SEE_SHIFT;
        for (int k = SEE_SHIFT; k < m - SEE_SHIFT; k++) {
            double x = dout[k], y = din[k + s];
            so += x, si += y, soo += x * x, sii += y * y, soi += x * y;
        }
        double vo = soo - so * so / c, vi = sii - si * si / c;
        if (vo > 0 && vi > 0) {
            double r = (soi - so * si / c) / sqrt(vo * vi);
            best = r > best ? r : best;
        }
    }
    return best;
}

/* Whether the photo runs on beyond both sides of a framed pair of
 * rectangle (x0, y0, x1, y1) (through_corr()): a see-through box over it,
 * not a frame.  Asked of a rectangle framed() accepts only when it would
 * win (the slowest test). */
static int see_through(const grid *g, int x0, int y0, int x1, int y1)
{
    return (y0 > 0 && y1 < g->h && through_corr(g, y0, -1, x0, x1, 0) >= SEE_R &&
            through_corr(g, y1, 1, x0, x1, 0) >= SEE_R) ||
           (x0 > 0 && x1 < g->w && through_corr(g, x0, -1, y0, y1, 1) >= SEE_R &&
            through_corr(g, x1, 1, y0, y1, 1) >= SEE_R);
}

/* Whether the two framed sides of a photo centred between bars are a pair:
 * one steps along PASTED_SHARE of its length, the other at least along
 * FAR_SHARE (a fill darkened from the photo's own colours may nearly match
 * it there). */
static int bar_sides(const grid *g, int x0, int y0, int x1, int y1)
{
    int vertical = y0 == 0; /* bars left and right */
    int la = vertical ? x0 : y0, lb = vertical ? x1 : y1, a = vertical ? y0 : x0, b = vertical ? y1 : x1;
    return (side(g, la, -1, a, b, vertical, PASTED_SHARE) && side(g, lb, 1, a, b, vertical, FAR_SHARE)) ||
           (side(g, la, -1, a, b, vertical, FAR_SHARE) && side(g, lb, 1, a, b, vertical, PASTED_SHARE));
}

/* Whether every side of a closed rectangle steps along CRISP_SHARE of its
 * length: a pasted photo's outline, which needs no detail contrast (a
 * smooth photo inside busy application chrome). */
static int crisp(const grid *g, int x0, int y0, int x1, int y1)
{
    return edges(g, y0, x0, x1, 0) >= CRISP_SHARE * (x1 - x0) && edges(g, y1, x0, x1, 0) >= CRISP_SHARE * (x1 - x0) &&
           edges(g, x0, y0, y1, 1) >= CRISP_SHARE * (y1 - y0) && edges(g, x1, y0, y1, 1) >= CRISP_SHARE * (y1 - y0);
}

/* Whether the cells of row (vertical = 0) or column `cell` between a and b
 * along it lie within UNIFORM_TOL of each other; out of the grid: no. */
static int uniform(const grid *g, int cell, int a, int b, int vertical)
{
    if (cell < 0 || cell >= (vertical ? g->w : g->h))
        return 0;
    float lo = 2, hi = -1;
    for (int i = a; i < b; i++) {
        float v = vertical ? lum(g, cell, i) : lum(g, i, cell);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    return hi - lo <= UNIFORM_TOL;
}

/* The row (column when vertical) OUTWARD cells beyond side k (top,
 * bottom, left, right) of rectangle r (x0, y0, x1, y1), clear of the
 * edge's smear, and the cells a..b along it beside the rectangle: where
 * the frame around a closed rectangle is looked at.  cell may be off the
 * grid. */
typedef struct outward {
    int cell, a, b, vertical;
} outward;

static outward outward_of(const int r[4], int k)
{
    const int cells[4] = {r[1] - OUTWARD, r[3] + OUTWARD - 1, r[0] - OUTWARD, r[2] + OUTWARD - 1};
    int vertical = k >= 2;
    return (outward){cells[k], vertical ? r[1] : r[0], vertical ? r[3] : r[2], vertical};
}

/* Sides of a closed rectangle along which the frame is one flat colour
 * (a page around a pasted photo; not the photo around a watermark box),
 * looked at outward_of() them; bit k for side k. */
static int uniform_sides(const grid *g, int x0, int y0, int x1, int y1)
{
    int r[4] = {x0, y0, x1, y1}, bits = 0;
    for (int k = 0; k < 4; k++) {
        outward o = outward_of(r, k);
        bits |= uniform(g, o.cell, o.a, o.b, o.vertical) << k;
    }
    return bits;
}

/* Whether a flat area runs across grid line `line` (flat and unbroken on
 * both sides) along more than THROUGH_SHARE of the cells between a and b:
 * the line is no photo's edge there, but a page going on. */
static int through(const grid *g, int line, int a, int b, int vertical)
{
    int n = 0;
    for (int i = a; i < b; i++)
        n += !edges(g, line, i, i + 1, vertical) && flat_beside(g, line, -1, i, vertical) &&
             flat_beside(g, line, 1, i, vertical);
    return n > THROUGH_SHARE * (b - a);
}

/* Whether a closed rectangle is a photo pasted into a page: the frame is
 * flat beyond UNIFORM_SIDES of its sides at least, and every side steps
 * along PASTED_SHARE of its length, or along PAGE_SHARE beside the flat
 * page (a dark photo's edge on dark chrome), and no side runs through
 * flat page (through()).  The sides in bit masks `loose` and `half` (top,
 * bottom, left, right) close a corner frame (corner_frames()): the
 * parallel sides ending there are the evidence, so they need not step, or
 * only along HALF_SHARE.  Returns the number of flat sides, or 0. */
static int pasted_outline(const grid *g, int x0, int y0, int x1, int y1, int loose, int half)
{
    double need[4];
    for (int k = 0; k < 4; k++)
        need[k] = loose >> k & 1 ? 0.0 : half >> k & 1 ? HALF_SHARE : PAGE_SHARE;
    if (edges(g, y0, x0, x1, 0) < need[0] * (x1 - x0) || edges(g, y1, x0, x1, 0) < need[1] * (x1 - x0) ||
        edges(g, x0, y0, y1, 1) < need[2] * (y1 - y0) || edges(g, x1, y0, y1, 1) < need[3] * (y1 - y0))
        return 0; /* the cheap test first: this runs for every candidate rectangle */
    int flat = uniform_sides(g, x0, y0, x1, y1), n = 0;
    for (int k = 0; k < 4; k++) {
        n += flat >> k & 1;
        if (!((loose | half | flat) >> k & 1)) /* neither closing a corner frame nor beside a flat page */
            need[k] = PASTED_SHARE;
    }
    if (n < UNIFORM_SIDES)
        return 0;
    return side(g, y0, -1, x0, x1, 0, need[0]) && side(g, y1, 1, x0, x1, 0, need[1]) &&
                   side(g, x0, -1, y0, y1, 1, need[2]) && side(g, x1, 1, y0, y1, 1, need[3]) &&
                   !through(g, y0, x0, x1, 0) && !through(g, y1, x0, x1, 0) && !through(g, x0, y0, y1, 1) &&
                   !through(g, x1, y0, y1, 1)
               ? n
               : 0;
}

/* Whether, beyond some side of `outline` (outward_of()), the frame lies
 * within FLAT_TOL of luminance m along GROUND_SHARE of the side: the
 * rectangle's ground is the page going on around it, so its ink is what
 * lies on that page (a photo beside a panel's text), however it meets the
 * rectangle's sides. */
static int ground_goes_on(const grid *g, const int outline[4], float m)
{
    for (int k = 0; k < 4; k++) {
        outward o = outward_of(outline, k);
        int near = 0;
        if (o.cell < 0 || o.cell >= (o.vertical ? g->w : g->h) || o.b <= o.a)
            continue;
        for (int i = o.a; i < o.b; i++)
            near += fabsf((o.vertical ? lum(g, o.cell, i) : lum(g, i, o.cell)) - m) <= FLAT_TOL;
        if (near >= GROUND_SHARE * (o.b - o.a))
            return 1;
    }
    return 0;
}

/* Whether the cells of rectangle (x0, y0, x1, y1) are a flat ground with
 * ink: GROUND_SHARE of them within FLAT_TOL of their median, INK_SHARE at
 * INK_STEP from it or more, and the ink clear of the rectangle's sides (at
 * most SIDE_INK of the cells along each) unless the ground goes on beyond
 * its outline (ground_goes_on()).  A see-through box with a disc and a word
 * over a flat part of a photo (a logo, a watermark) looks so: its ink is
 * set in from the box's sides; so does a page with a photo and text lines
 * on it.  A photo does not, even one of fog (no ink on it), of a smooth sky
 * (no flat ground), or a dark render on a page whose bright streak, or
 * whose own edge, runs along a side. */
static int ink_on_flat(const grid *g, int x0, int y0, int x1, int y1, const int outline[4])
{
    int hist[256] = {0}, n = (x1 - x0) * (y1 - y0), below = 0, med = 0;
    if (x1 - x0 < 3 || y1 - y0 < 3)
        return 0; /* no cell clear of the sides to hold ink */
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            float v = lum(g, x, y);
            hist[v <= 0 ? 0 : v >= 1 ? 255 : (int)(v * 255)]++;
        }
    while (below + hist[med] <= n / 2)
        below += hist[med++];
    float m = (med + 0.5f) / 255, ground = 0, ink = 0;
    int side_ink[4] = {0}; /* top, bottom, left, right */
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            float d = lum(g, x, y) - m;
            d = d < 0 ? -d : d;
            ground += d <= FLAT_TOL;
            ink += d >= INK_STEP;
            side_ink[0] += (d >= INK_STEP) & (y == y0);
            side_ink[1] += (d >= INK_STEP) & (y == y1 - 1);
            side_ink[2] += (d >= INK_STEP) & (x == x0);
            side_ink[3] += (d >= INK_STEP) & (x == x1 - 1);
        }
    int clear = side_ink[0] <= SIDE_INK * (x1 - x0) && side_ink[1] <= SIDE_INK * (x1 - x0) &&
                side_ink[2] <= SIDE_INK * (y1 - y0) && side_ink[3] <= SIDE_INK * (y1 - y0);
    return ground >= GROUND_SHARE * n && ink >= INK_SHARE * n && (clear || ground_goes_on(g, outline, m));
}

/* Whether the cells of rectangle (x0, y0, x1, y1) spread over
 * PASTED_SPREAD or more (10th to 90th percentile) of luminance or of
 * either chroma: a smooth gradient (a render, a sky) has no detail of its
 * own but is no bare page either, nor a page with a strip of chrome. */
static int spread_in(const grid *g, int x0, int y0, int x1, int y1)
{
    const float *plane[3] = {g->lum, g->cb, g->cr};
    int n = (x1 - x0) * (y1 - y0);
    for (int c = 0; c < 3 && n > 0; c++) {
        int hist[512] = {0}; /* values -1..1 in steps of 1/256 */
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++) {
                int b = (int)((plane[c][y * g->w + x] + 1.0f) * 256.0f);
                hist[b < 0 ? 0 : b > 511 ? 511 : b]++;
            }
        int lo = -1, hi = -1;
        for (int b = 0, below = 0; b < 512; b++) {
            below += hist[b];
            lo = lo < 0 && below > 0.1 * n ? b : lo;
            hi = hi < 0 && below >= 0.9 * n ? b : hi;
        }
        if ((hi - lo) / 256.0 >= PASTED_SPREAD)
            return 1;
    }
    return 0;
}

/* Whether grid line `line` between cells a and b along it is a side that
 * joins the ends of two sides (`loose`: it need not step) or the end of
 * one side to the other running on (`half`: it steps along HALF_SHARE),
 * whatever lies beyond (see corner_frames()). */
static int loose_side(const grid *g, int line, int a, int b, int vertical, int loose, int half)
{
    return loose || (half && edges(g, line, a, b, vertical) >= HALF_SHARE * (b - a));
}

/* Detail contrast of rectangle (x0, y0, x1, y1) against its frame, or a
 * negative value when it is no framed photo (see the file comment); the
 * sides in bit masks `loose` and `half` (top, bottom, left, right) are
 * loose_side()s. */
static double framed(const grid *g, int x0, int y0, int x1, int y1, double area_min, int loose, int half)
{
    double area = (double)(x1 - x0) * (y1 - y0), all = (double)g->w * g->h;
    if (area < PASTED_AREA_MIN * all || area > AREA_MAX * all)
        return -1;
    int top = y0 > 0, bottom = y1 < g->h, left = x0 > 0, right = x1 < g->w;
    if (!(top && bottom) && !(left && right))
        return -1;
    int sides = !((top && !loose_side(g, y0, x0, x1, 0, loose & 1, half & 1) && !side(g, y0, -1, x0, x1, 0, EDGE_SHARE)) ||
                  (bottom && !loose_side(g, y1, x0, x1, 0, loose & 2, half & 2) && !side(g, y1, 1, x0, x1, 0, EDGE_SHARE)) ||
                  (left && !loose_side(g, x0, y0, y1, 1, loose & 4, half & 4) && !side(g, x0, -1, y0, y1, 1, EDGE_SHARE)) ||
                  (right && !loose_side(g, x1, y0, y1, 1, loose & 8, half & 8) && !side(g, x1, 1, y0, y1, 1, EDGE_SHARE)));
    int closed = top && bottom && left && right;
    /* Framed on three sides, the two parallel sides that meet the region's
     * bound do not both end short of it: the photo goes on there, not a
     * box inside the photo (a watermark), its sides ending together. */
    int k = BAND + 1, wk = g->w - k, hk = g->h - k;
    if (top + bottom + left + right == 3 &&
        ((!left && edges(g, y0, 0, k, 0) < k - 1 && edges(g, y1, 0, k, 0) < k - 1) ||
         (!right && edges(g, y0, wk, g->w, 0) < k - 1 && edges(g, y1, wk, g->w, 0) < k - 1) ||
         (!top && edges(g, x0, 0, k, 1) < k - 1 && edges(g, x1, 0, k, 1) < k - 1) ||
         (!bottom && edges(g, x0, hk, g->h, 1) < k - 1 && edges(g, x1, hk, g->h, 1) < k - 1)))
        return -1;
    /* A pasted photo: a crisp outline in a flat page, or a pair of sides at
     * equal distances from the bounds (a story canvas or a pillarbox
     * centres its photo) with a fill of little detail beyond.  Smaller, and
     * free of the detail tests: a photo of sky or fog has little detail of
     * its own. */
    int bars = ((top && bottom && !left && !right && abs(y0 - (g->h - y1)) <= CENTRE_TOL) ||
                (left && right && !top && !bottom && abs(x0 - (g->w - x1)) <= CENTRE_TOL)) &&
               bar_sides(g, x0, y0, x1, y1);
    int flat_sides = closed ? pasted_outline(g, x0, y0, x1, y1, loose, half) : 0;
    if (!sides && !bars && !flat_sides)
        return -1;
    int ix0 = x0 + BAND * left, iy0 = y0 + BAND * top, ix1 = x1 - BAND * right, iy1 = y1 - BAND * bottom;
    int ox0 = x0 - BAND * left, oy0 = y0 - BAND * top, ox1 = x1 + BAND * right, oy1 = y1 + BAND * bottom;
    double in_area = (double)(ix1 - ix0) * (iy1 - iy0);
    double out_area = all - (double)(ox1 - ox0) * (oy1 - oy0);
    if (in_area <= 0 || out_area <= 0)
        return -1;
    int outline[4] = {x0, y0, x1, y1};
    if (closed &&
        (ink_on_flat(g, ix0, iy0, ix1, iy1, outline) || ink_on_flat(g, x0 + 1, y0 + 1, x1 - 1, y1 - 1, outline)))
        return -1;
    double din = detail_in(g, ix0, iy0, ix1, iy1) / in_area;
    double dout = (detail_in(g, 0, 0, g->w, g->h) - detail_in(g, ox0, oy0, ox1, oy1)) / out_area;
    int pasted = ((bars && (dout <= FILL_DETAIL || din >= FILL_RATIO * dout)) || flat_sides) &&
                 (din >= PASTED_DETAIL || (flat_sides && spread_in(g, ix0, iy0, ix1, iy1)));
    if (!pasted && (!sides || area < area_min * all))
        return -1;
    /* Above any other frame; closed first, then the one with more sides in
     * a flat page, then the larger (a line inside a photo outlines a part
     * of it). */
    if (pasted)
        return PASTED_BONUS + closed + flat_sides + area / all;
    /* An unframed side must run through the photo itself, not through the
     * frame's own flat bars (a title bar above a photo framed left and right);
     * less of it beside a flat frame. */
    int strip = BAND + 1;
    double open_min = dout <= FLAT_FRAME ? FLAT_OPEN_SIDE_MIN : OPEN_SIDE_MIN;
    if ((!top && detail_in(g, x0, y0, x1, y0 + strip) < open_min * strip * (x1 - x0)) ||
        (!bottom && detail_in(g, x0, y1 - strip, x1, y1) < open_min * strip * (x1 - x0)) ||
        (!left && detail_in(g, x0, y0, x0 + strip, y1) < open_min * strip * (y1 - y0)) ||
        (!right && detail_in(g, x1 - strip, y0, x1, y1) < open_min * strip * (y1 - y0)))
        return -1;
    /* A frame with (almost) no detail of its own, a blurred fill or a flat
     * page, asks less of the photo: a smooth photo still stands out. */
    double need = dout <= FLAT_FRAME ? FLAT_MIN : closed ? CLOSED_MIN : DETAIL_MIN;
    if (din < need)
        return -1;
    if (closed ? din < dout + CLOSED_GAP && !crisp(g, x0, y0, x1, y1)
               : dout > FLAT_FRAME && (din < dout + DETAIL_GAP || din < DETAIL_RATIO * dout))
        return -1;
    return din - dout + (closed ? CLOSED_BONUS : 1.0); /* din - dout > -1: positive */
}

/* A closed frame whose side runs along the chrome's last bar (the photo
 * sits a cell or two below a toolbar, too close for both to be candidate
 * peaks of one frame) has that side moved in to the first candidate line
 * within TIGHTEN_MAX that still gives a crisp closed frame.  It keeps
 * three sides of a frame already accepted, so it may be smaller. */
static void tighten(const grid *g, const int *ys, int ny, const int *xs, int nx, int *x0, int *y0, int *x1, int *y1)
{
    int dy = (int)(TIGHTEN_MAX * (*y1 - *y0)), dx = (int)(TIGHTEN_MAX * (*x1 - *x0));
    for (int i = 0; i < ny && ys[i] < *y1; i++)
        if (ys[i] > *y0 && ys[i] <= *y0 + dy && framed(g, *x0, ys[i], *x1, *y1, AREA_MIN / 2, 0, 0) > 0 &&
            crisp(g, *x0, ys[i], *x1, *y1) && !see_through(g, *x0, ys[i], *x1, *y1)) {
            *y0 = ys[i];
            break;
        }
    for (int i = ny - 1; i >= 0 && ys[i] > *y0; i--)
        if (ys[i] < *y1 && ys[i] >= *y1 - dy && framed(g, *x0, *y0, *x1, ys[i], AREA_MIN / 2, 0, 0) > 0 &&
            crisp(g, *x0, *y0, *x1, ys[i]) && !see_through(g, *x0, *y0, *x1, ys[i])) {
            *y1 = ys[i];
            break;
        }
    for (int i = 0; i < nx && xs[i] < *x1; i++)
        if (xs[i] > *x0 && xs[i] <= *x0 + dx && framed(g, xs[i], *y0, *x1, *y1, AREA_MIN / 2, 0, 0) > 0 &&
            crisp(g, xs[i], *y0, *x1, *y1) && !see_through(g, xs[i], *y0, *x1, *y1)) {
            *x0 = xs[i];
            break;
        }
    for (int i = nx - 1; i >= 0 && xs[i] > *x0; i--)
        if (xs[i] < *x1 && xs[i] >= *x1 - dx && framed(g, *x0, *y0, xs[i], *y1, AREA_MIN / 2, 0, 0) > 0 &&
            crisp(g, *x0, *y0, xs[i], *y1) && !see_through(g, *x0, *y0, xs[i], *y1)) {
            *x1 = xs[i];
            break;
        }
}

/* The pixel line within REFINE cells of `at` (a grid side in pixels,
 * between lo and hi exclusive) across which the luminance steps most, on
 * average over pixels a..b along it: the frame's edge to the pixel (a
 * cell of the grid is up to f pixels, and the search's PCA space is
 * sensitive to a shift of a few). */
static int refine(const dg_lum_plane *lp, int at, int lo, int hi, int a, int b, int f, int vertical)
{
    int best_at = at;
    double best = -1;
    for (int l = at - REFINE * f; l <= at + REFINE * f; l++) {
        if (l <= lo || l >= hi)
            continue;
        double sum = 0;
        for (int i = a; i < b; i++) {
            double d = vertical ? dg_lum_at(lp, l, i) - dg_lum_at(lp, l - 1, i)
                                : dg_lum_at(lp, i, l) - dg_lum_at(lp, i, l - 1);
            sum += d < 0 ? -d : d;
        }
        if (sum > best) {
            best = sum;
            best_at = l;
        }
    }
    return best_at;
}

/* Profiles across `vertical` = 0 (rows) or 1 (columns) of r, one row
 * (column) every k (at most STORY_BINS bins): s[i], the sharpness along
 * row i * k, mean |luminance difference| of neighbouring pixels (a blurred
 * fill has almost none; a photo's texture, even the noise of its smooth
 * parts, more); g[i], the step to it from row (i - 1) * k, mean |luminance
 * difference| (g[0] = 0); from s[(1 + j) * STORY_BINS] and
 * g[(1 + j) * STORY_BINS] the same along part j of `parts` (at most
 * STORY_SEGMENTS_SIDE) of the row, read from the luminance plane.
 * Returns the bin count. */
static int profiles(const dg_lum_plane *lp, dg_rect r, int vertical, int parts, float *s, float *g, int *k)
{
    int n = vertical ? r.x1 - r.x0 : r.y1 - r.y0, len = vertical ? r.y1 - r.y0 : r.x1 - r.x0;
    /* pixel a of a row (column) lies `along` on, the next row (column) `across` */
    size_t along = vertical ? (size_t)lp->w : 1, across = vertical ? 1 : (size_t)lp->w;
    const double *first = lp->v + (size_t)r.y0 * (size_t)lp->w + (size_t)r.x0;
    *k = (n + STORY_BINS - 1) / STORY_BINS;
    int bins = n / *k;
    for (int i = 0; i < bins; i++) {
        double along_sum[STORY_SEGMENTS_SIDE] = {0}, across_sum[STORY_SEGMENTS_SIDE] = {0};
        const double *line = first + (size_t)(i * *k) * across, *prev = i > 0 ? line - (size_t)*k * across : line;
        /* part j holds the pixels a with a * parts / len = j: a0 <= a < a1 */
        for (int j = 0; j < parts; j++)
            for (int a = (j * len + parts - 1) / parts, a1 = ((j + 1) * len + parts - 1) / parts; a < a1; a++) {
                double v = line[a * along];
                double d = a + 1 < len ? line[(a + 1) * along] - v : 0;
                double e = i > 0 ? v - prev[a * along] : 0;
                along_sum[j] += fabs(d); /* not a branch on the sign: the noise makes it unpredictable */
                across_sum[j] += fabs(e);
            }
        double all = 0, all_across = 0;
        for (int j = 0; j < parts; j++) {
            int a0 = (j * len + parts - 1) / parts, a1 = ((j + 1) * len + parts - 1) / parts;
            all += along_sum[j];
            all_across += across_sum[j];
            s[(1 + j) * STORY_BINS + i] = (float)(along_sum[j] / (a1 - a0 - (j == parts - 1)));
            g[(1 + j) * STORY_BINS + i] = (float)(across_sum[j] / (a1 - a0));
        }
        s[i] = (float)(all / (len - 1));
        g[i] = (float)(all_across / len);
    }
    return bins;
}

/* Counts of the bins of a sharpness profile (n of them) at least as sharp
 * as STORY_RATIO times a fill plus a floor, as prefix sums: above[f][m]
 * of s[0..m) for the f-th fill looked at.  story()'s fills grow, but for a
 * step back and forth of its far side, as its sides move in, so a few
 * entries, the oldest replaced first, serve almost every question. */
#define SHARP_FILLS 4
typedef struct sharp_counts {
    int n, used, next;
    float fill[SHARP_FILLS];
    int above[SHARP_FILLS][STORY_BINS + 1];
} sharp_counts;

/* The prefix counts for `fill` (need: its threshold), made when missing. */
static const int *counts_for(sharp_counts *c, const float *s, float fill, double need)
{
    for (int i = 0; i < c->used; i++)
        if (c->fill[i] == fill)
            return c->above[i];
    int k = c->next;
    c->next = (k + 1) % SHARP_FILLS;
    c->used += c->used < SHARP_FILLS;
    c->fill[k] = fill;
    c->above[k][0] = 0;
    for (int i = 0; i < c->n; i++)
        c->above[k][i + 1] = c->above[k][i] + (s[i] >= need);
    return c->above[k];
}

/* Whether STORY_SHARE (share) of the photo's bins lo..hi in sharpness
 * profile s are at least STORY_RATIO times as sharp as the fill's sharpest
 * (out of the bars 0..lo - 1 and hi + 1..n: the bin next to each side is
 * left out, resampling mixes it), plus sharp_floor; *need is that.  pre[m]
 * and suf[m]: the largest of s[0..m) and s[m..n) (0 when empty), so the
 * fill costs nothing, and the count comes from c. */
static int sharper(sharp_counts *c, const float *s, const float *pre, const float *suf, int lo, int hi, double share,
                   double sharp_floor, double *need)
{
    float fill = pre[lo - 1] > suf[hi + 1] ? pre[lo - 1] : suf[hi + 1];
    *need = STORY_RATIO * fill + sharp_floor;
    const int *above = counts_for(c, s, fill, *need);
    return above[hi] - above[lo] >= share * (hi - lo);
}

/* How clearly the photo's side at bin `at` (its first bin when out = -1,
 * one past its last when out = 1) stands out of the fill: the sharpness of
 * its STORY_EDGE bins next to the side over need_s, or the step across the
 * side (a bin either way: resampling mixes one) over need_g, whichever is
 * more (a smooth edge of the photo, sky, still steps from the fill). */
static double story_edge(const float *s, const float *g, int at, int out, double need_s, double need_g)
{
    double sharp = 0, stepped = 0;
    for (int i = 0; i < STORY_EDGE; i++)
        sharp += s[out < 0 ? at + i : at - 1 - i] / (double)STORY_EDGE;
    for (int l = at - 1; l <= at + 1; l++)
        stepped = g[l] > stepped ? g[l] : stepped;
    sharp /= need_s;
    stepped /= need_g;
    return sharp > stepped ? sharp : stepped;
}

/* A story canvas: the photo spans the width (height), between two bars
 * above and below (left and right) of equal depth (within STORY_CENTRE) of
 * a blurred fill.  Seen in the profiles across the bars (profiles()):
 * STORY_SHARE of the photo's bins at least STORY_RATIO times as sharp as
 * the fill's sharpest, plus `sharp_floor`, and each side standing out of the fill (story_edge()) in
 * each of `parts` along it (a sharp box over a smooth photo, a logo over
 * fog, steps along a part only; a window's chrome beside a photo has a
 * title bar and a status bar beyond its ends); the bin next to each side
 * is left out of the fill (resampling mixes it).
 * The grid's luminance edges miss this when the fill, darkened from the
 * photo's own colours, matches it along much of a side, or when the
 * blurred copy of a textured photo keeps detail at the grid's scale.  Of
 * the pairs of sides, the one whose weakest part stands out most.  Returns
 * whether found, and the photo's framed sides in bins in *lo, *hi. */
static int story(const float *s, const float *g, int n, int parts, double sharp_floor, int *lo, int *hi)
{
    int bar_min = (int)ceil(STORY_BAR_MIN * n), tol = 1 + (int)(STORY_CENTRE * n);
    bar_min = bar_min > 3 ? bar_min : 3;
    /* running maxima (exact in any order): s_pre[m], s_suf[m], g_suf[m] the
     * largest of s[0..m), s[m..n), g[m..n); 0 when empty */
    float s_pre[STORY_BINS + 1], s_suf[STORY_BINS + 1], g_suf[STORY_BINS + 1];
    s_pre[0] = 0;
    for (int i = 0; i < n; i++)
        s_pre[i + 1] = s[i] > s_pre[i] ? s[i] : s_pre[i];
    s_suf[n] = g_suf[n] = 0;
    for (int i = n - 1; i >= 0; i--) {
        s_suf[i] = s[i] > s_suf[i + 1] ? s[i] : s_suf[i + 1];
        g_suf[i] = g[i] > g_suf[i + 1] ? g[i] : g_suf[i + 1];
    }
    sharp_counts counts = {.n = n};
    double best = 0;
    float top_g = 0; /* the largest of g[1..t - 2) */
    for (int i = 1; i < bar_min - 2; i++)
        top_g = g[i] > top_g ? g[i] : top_g;
    for (int t = bar_min; t < n / 2; t++) {
        if (t > bar_min && t - 3 >= 1)
            top_g = g[t - 3] > top_g ? g[t - 3] : top_g;
        for (int b = t - tol; b <= t + tol; b++) {
            int y1 = n - b;
            if (b < bar_min || y1 - t < STORY_PHOTO_MIN * n || y1 - t < 2 * STORY_EDGE)
                continue;
            float fill_g = top_g > g_suf[y1 + 2] ? top_g : g_suf[y1 + 2];
            double need_s, need_g = STORY_RATIO * fill_g + sharp_floor;
            if (!sharper(&counts, s, s_pre, s_suf, t, y1, STORY_SHARE, sharp_floor, &need_s))
                continue;
            double score = 1e30; /* the side standing out least, in the segment standing out least */
            for (int j = 1; j <= parts; j++) {
                const float *sj = s + j * STORY_BINS, *gj = g + j * STORY_BINS;
                double top = story_edge(sj, gj, t, -1, need_s, need_g), bottom = story_edge(sj, gj, y1, 1, need_s, need_g);
                score = top < score ? top : score;
                score = bottom < score ? bottom : score;
            }
            if (score >= 1 && score > best) {
                best = score;
                *lo = t;
                *hi = y1;
            }
        }
    }
    return best > 0;
}

/* Mean of luminance plane lp over the pixels [x0, x1) x [y0, y1), the
 * bounds rounded to whole pixels and clamped to r (at least one pixel). */
static double mean_over(const dg_lum_plane *lp, dg_rect r, double x0, double y0, double x1, double y1)
{
    int a0 = (int)floor(x0), a1 = (int)ceil(x1), b0 = (int)floor(y0), b1 = (int)ceil(y1);
    a0 = a0 < r.x0 ? r.x0 : a0 > r.x1 - 1 ? r.x1 - 1 : a0;
    b0 = b0 < r.y0 ? r.y0 : b0 > r.y1 - 1 ? r.y1 - 1 : b0;
    a1 = a1 > r.x1 ? r.x1 : a1 <= a0 ? a0 + 1 : a1;
    b1 = b1 > r.y1 ? r.y1 : b1 <= b0 ? b0 + 1 : b1;
    double sum = 0;
    for (int y = b0; y < b1; y++)
        for (int x = a0; x < a1; x++)
            sum += dg_lum_at(lp, x, y);
    return sum / ((double)(a1 - a0) * (b1 - b0));
}

/* mean_over() in the frame where a story's bars lie above and below the
 * photo: x across the bars, y along the canvas, both from within's
 * corner (swapped when the bars are left and right: vertical). */
static double bar_frame_mean(const dg_lum_plane *lp, dg_rect within, dg_rect clamp, int vertical, double x0,
                             double y0, double x1, double y1)
{
    return vertical ? mean_over(lp, clamp, within.x0 + y0, within.y0 + x0, within.x0 + y1, within.y0 + x1)
                    : mean_over(lp, clamp, within.x0 + x0, within.y0 + y0, within.x0 + x1, within.y0 + y1);
}

/* Whether the bars of a story canvas `within` around the photo between
 * pixel lines lo and hi (columns when vertical) show the photo scaled to
 * cover the canvas (centred), as a story's blurred fill does: square cells
 * (FILL_CELLS across a bar) of the bars, clear of the photo's sides by a
 * quarter cell, against the means of the photo's cells they enlarge, by
 * correlation, so the blur does not matter, with a gain below FILL_GAIN
 * (darkened).  A flat bar (under FILL_SD) shows nothing.  A band of a
 * smooth gradient (through a logo on it, say) is no story: the gradient
 * goes on beyond it steeper than the band enlarged, or about as steep. */
static int fill_is_photo(const dg_lum_plane *lp, dg_rect within, int vertical, int lo, int hi)
{
    /* in the frame where the bars lie above and below: across = x, along = y */
    double W = vertical ? within.y1 - within.y0 : within.x1 - within.x0;
    double H = vertical ? within.x1 - within.x0 : within.y1 - within.y0, ph = hi - lo;
    double cover = H / ph > 1.0 ? H / ph : 1.0, c = W / FILL_CELLS, gap = 0.25 * c;
    double a[4 * FILL_CELLS * FILL_CELLS], p[4 * FILL_CELLS * FILL_CELLS];
    dg_rect photo = vertical ? (dg_rect){within.x0 + lo, within.y0, within.x0 + hi, within.y1}
                             : (dg_rect){within.x0, within.y0 + lo, within.x1, within.y0 + hi};
    int n = 0;
    for (int bar = 0; bar < 2; bar++) {
        double y0 = bar ? hi + gap : 0, y1 = bar ? H : lo - gap; /* the bar, clear of the photo */
        if (y1 - y0 < 1)
            return 0;
        int rows = (int)((y1 - y0) / c);
        rows = rows < 1 ? 1 : rows > 2 * FILL_CELLS ? 2 * FILL_CELLS : rows;
        double ch = (y1 - y0) / rows;
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < FILL_CELLS; j++) {
                /* the cell, and where the cover puts it on the photo (photo's own frame) */
                double cx0 = j * c, cx1 = cx0 + c, cy0 = y0 + i * ch, cy1 = cy0 + ch;
                double ux0 = (cx0 - W / 2) / cover + W / 2, ux1 = (cx1 - W / 2) / cover + W / 2;
                double uy0 = (cy0 - H / 2) / cover + ph / 2 + lo, uy1 = (cy1 - H / 2) / cover + ph / 2 + lo;
                a[n] = bar_frame_mean(lp, within, within, vertical, cx0, cy0, cx1, cy1);
                p[n] = bar_frame_mean(lp, within, photo, vertical, ux0, uy0, ux1, uy1);
                n++;
            }
    }
    double sa = 0, sp = 0, saa = 0, spp = 0, sap = 0;
    for (int i = 0; i < n; i++) {
        sa += a[i];
        sp += p[i];
        saa += a[i] * a[i];
        spp += p[i] * p[i];
        sap += a[i] * p[i];
    }
    double va = saa / n - (sa / n) * (sa / n), vp = spp / n - (sp / n) * (sp / n), cov = sap / n - sa * sp / n / n;
    return va >= FILL_SD * FILL_SD && vp > 0 && cov >= FILL_CORR * sqrt(va * vp) && cov <= FILL_GAIN * vp;
}

/* The photo of a story canvas (story()) spanning the width or the height
 * of `within`, its other sides at their sharpest pixel lines (refine());
 * `within` when there is none.  The photo must be sharper than the fill
 * by STORY_FLOOR, or by STORY_FLOOR_LOW when the fill is the photo
 * enlarged (fill_is_photo()). */
static dg_rect story_rect(const dg_lum_plane *lp, dg_rect within)
{
    float s[(1 + STORY_SEGMENTS_SIDE) * STORY_BINS], g[(1 + STORY_SEGMENTS_SIDE) * STORY_BINS];
    int k, lo = 0, hi = 0, w = within.x1 - within.x0, h = within.y1 - within.y0;
    if (w < MIN_CELLS || h < MIN_CELLS)
        return within;
    dg_rect r = within;
    for (int vertical = 0; vertical < 2; vertical++) {
        int len = vertical ? h : w, parts = vertical ? STORY_SEGMENTS_SIDE : STORY_SEGMENTS;
        int n = profiles(lp, within, vertical, parts, s, g, &k);
        if (!story(s, g, n, parts, STORY_FLOOR, &lo, &hi) &&
            !(story(s, g, n, parts, STORY_FLOOR_LOW, &lo, &hi) && fill_is_photo(lp, within, vertical, lo * k, hi * k)))
            continue;
        int a = len / 8, b = len - len / 8; /* along the middle of the sides */
        if (vertical) {
            r.x0 = refine(lp, within.x0 + lo * k, within.x0, within.x0 + hi * k, within.y0 + a, within.y0 + b, k, 1);
            r.x1 = refine(lp, within.x0 + hi * k, r.x0, within.x1, within.y0 + a, within.y0 + b, k, 1);
        } else {
            r.y0 = refine(lp, within.y0 + lo * k, within.y0, within.y0 + hi * k, within.x0 + a, within.x0 + b, k, 0);
            r.y1 = refine(lp, within.y0 + hi * k, r.y0, within.y1, within.x0 + a, within.x0 + b, k, 0);
        }
        break;
    }
    return r;
}

/* Whether one of the OUTWARD rows (vertical = 0) or columns beyond grid
 * line `line` (direction `out`) is uniform() from OUTWARD cells before a
 * to OUTWARD cells past b: the end of a photo between sides at a and b
 * in a page that goes on around it (not the photo going on, its sides
 * too soft there to step). */
static int on_page(const grid *g, int line, int out, int a, int b, int vertical)
{
    int n = vertical ? g->h : g->w;
    a = a - OUTWARD > 0 ? a - OUTWARD : 0;
    b = b + OUTWARD < n ? b + OUTWARD : n;
    for (int k = 1; k <= OUTWARD; k++)
        if (uniform(g, out < 0 ? line - k : line + k - 1, a, b, vertical))
            return 1;
    return 0;
}

/* Whether the photo between sides p and q (columns when vertical), from
 * a to b along them, lies inside both: the strip within each side holds
 * as many detailed cells as the strip beyond it, both clear of the edge
 * (not the page beside a photo, between the photo's side and the ends of
 * a panel's text lines).  The strips start CLEAR cells from the line: an
 * edge that falls inside a cell makes the cells on either side of that
 * one detailed too (their gradient spans it), and a smooth photo has no
 * detail of its own to outweigh them. */
static int faces_in(const grid *g, int p, int q, int a, int b, int vertical)
{
    int k = BAND + 1, c = CLEAR;
    if (vertical)
        return detail_in(g, p + c, a, p + c + k, b) >= detail_in(g, p - c - k, a, p - c, b) &&
               detail_in(g, q - c - k, a, q - c, b) >= detail_in(g, q + c, a, q + c + k, b);
    return detail_in(g, a, p + c, b, p + c + k) >= detail_in(g, a, p - c - k, b, p - c) &&
           detail_in(g, a, q - c - k, b, q - c) >= detail_in(g, a, q + c, b, q + c + k);
}

/* Rectangles between two candidate lines `ls` (vertical = 1: columns)
 * whose longest runs start and end together (within PEAK_GAP), closed at
 * those ends by sides that need not step, when a page goes on beyond each
 * end (on_page()): a photo's left and right sides end at its top and
 * bottom, which may be too short for a candidate run of their own (a
 * narrow photo) or step too little (a dark photo on dark chrome).  Updates
 * the best score and rectangle (framed()). */
static void corner_frames(const grid *g, const runs *R, const int *ls, int n, int vertical, double *best, int *x0,
                          int *y0, int *x1, int *y1)
{
    int hi = vertical ? g->w : g->h;
    const int *run = R->run[vertical], *from = R->from[vertical];
    for (int c = 0; c < n; c++)
        for (int d = c + 1; d < n; d++) {
            int p = ls[c], q = ls[d];
            int starts = abs(from[p] - from[q]) <= PEAK_GAP, ends = abs(from[p] + run[p] - from[q] - run[q]) <= PEAK_GAP;
            if (p == 0 || q == hi || !(starts || ends))
                continue;
            int a = from[p] > from[q] ? from[p] : from[q];
            int b = from[p] + run[p] < from[q] + run[q] ? from[p] + run[p] : from[q] + run[q];
            if ((a > 0 && !on_page(g, a, -1, p, q, !vertical)) || (b < (vertical ? g->h : g->w) && !on_page(g, b, 1, p, q, !vertical)))
                continue;
            if (!faces_in(g, p, q, a, b, vertical))
                continue;
            /* where only one of the sides ends, the side closing it must step along HALF_SHARE */
            int loose = starts | ends << 1, half = (!starts) | (!ends) << 1;
            double s = vertical ? framed(g, p, a, q, b, AREA_MIN, loose, half)
                                : framed(g, a, p, b, q, AREA_MIN, loose << 2, half << 2);
            /* the best so far between the same sides (within PEAK_GAP),
             * open at both ends (a pillarbox's photo: dark chrome taken
             * for its bars), within the corner frame (a line inside the
             * photo outlines a part of it) or around it (closed by a
             * toolbar's or an address field's line beyond the photo's
             * end, whose sides step along most of that longer side): the
             * sides end, so the photo does, and not before or after */
            int bp = vertical ? *x0 : *y0, bq = vertical ? *x1 : *y1, ba = vertical ? *y0 : *x0, bb = vertical ? *y1 : *x1;
            int same = abs(bp - p) <= PEAK_GAP && abs(bq - q) <= PEAK_GAP &&
                       ((ba == 0 && bb == (vertical ? g->h : g->w)) || (ba >= a - PEAK_GAP && bb <= b + PEAK_GAP) ||
                        (ba <= a && bb >= b));
            if ((s > *best || (s > 0 && same)) && !(vertical ? see_through(g, p, a, q, b) : see_through(g, a, p, b, q))) {
                *best = s > *best ? s : *best;
                if (vertical)
                    *x0 = p, *y0 = a, *x1 = q, *y1 = b;
                else
                    *x0 = a, *y0 = p, *x1 = b, *y1 = q;
            }
        }
}

/* One level of framing: the best framed rectangle inside `within`;
 * *pasted tells whether it is a pasted photo (no frame inside it). */
static dg_rect inner_rect(const dg_pixels *img, const dg_lum_plane *lp, dg_rect within, int *pasted)
{
    *pasted = 0;
    int w = within.x1 - within.x0, h = within.y1 - within.y0, big = w > h ? w : h;
    int f = (big + GRID_MAX - 1) / GRID_MAX;
    grid g;
    g.w = w / f;
    g.h = h / f;
    if (g.w < MIN_CELLS || g.h < MIN_CELLS)
        return within;
    sample(img, lp, within, f, &g);
    tables(&g);
    int ys[CANDIDATES + 2 + MIRRORED], xs[CANDIDATES + 2 + MIRRORED];
    runs R;
    find_runs(&g, &R);
    int ny = candidates(&g, &R, 0, ys), nx = candidates(&g, &R, 1, xs);
    double best = 0;
    int bx0 = 0, by0 = 0, bx1 = g.w, by1 = g.h;
    for (int a = 0; a < ny; a++)
        for (int b = a + 1; b < ny; b++)
            for (int c = 0; c < nx; c++)
                for (int d = c + 1; d < nx; d++) {
                    double s = framed(&g, xs[c], ys[a], xs[d], ys[b], AREA_MIN, 0, 0);
                    if (s > best && !see_through(&g, xs[c], ys[a], xs[d], ys[b])) {
                        best = s;
                        bx0 = xs[c], by0 = ys[a], bx1 = xs[d], by1 = ys[b];
                    }
                }
    corner_frames(&g, &R, xs, nx, 1, &best, &bx0, &by0, &bx1, &by1);
    corner_frames(&g, &R, ys, ny, 0, &best, &bx0, &by0, &bx1, &by1);
    *pasted = best >= PASTED_BONUS;
    if (best > 0 && !*pasted && bx0 > 0 && by0 > 0 && bx1 < g.w && by1 < g.h)
        tighten(&g, ys, ny, xs, nx, &bx0, &by0, &bx1, &by1);
    dg_rect r = {within.x0 + bx0 * f, within.y0 + by0 * f, bx1 == g.w ? within.x1 : within.x0 + bx1 * f,
                 by1 == g.h ? within.y1 : within.y0 + by1 * f};
    if (best > 0) { /* along the middle of each framed side, clear of the corners */
        int mx0 = r.x0 + (r.x1 - r.x0) / 8, mx1 = r.x1 - (r.x1 - r.x0) / 8;
        int my0 = r.y0 + (r.y1 - r.y0) / 8, my1 = r.y1 - (r.y1 - r.y0) / 8;
        dg_rect t = r;
        if (by0 > 0)
            t.y0 = refine(lp, r.y0, within.y0, r.y1, mx0, mx1, f, 0);
        if (by1 < g.h)
            t.y1 = refine(lp, r.y1, r.y0, within.y1, mx0, mx1, f, 0);
        if (bx0 > 0)
            t.x0 = refine(lp, r.x0, within.x0, r.x1, my0, my1, f, 1);
        if (bx1 < g.w)
            t.x1 = refine(lp, r.x1, r.x0, within.x1, my0, my1, f, 1);
        r = t;
    }
    return r;
}

dg_rect dg_content_rect(const dg_pixels *img, const dg_lum_plane *lum, dg_rect within)
{
    /* A story canvas (a pasted photo) first: it is a whole picture, never
     * inside a border, and its profiles are surer than the grid's edges
     * (the photo's own lines may outline a part of it). */
    if (within.x0 == 0 && within.y0 == 0 && within.x1 == img->w && within.y1 == img->h) {
        dg_rect r = story_rect(lum, within);
        if (r.x0 != within.x0 || r.y0 != within.y0 || r.x1 != within.x1 || r.y1 != within.y1)
            return r;
    }
    for (int level = 0; level < NEST_MAX; level++) {
        int pasted;
        dg_rect r = inner_rect(img, lum, within, &pasted);
        if (r.x0 == within.x0 && r.y0 == within.y0 && r.x1 == within.x1 && r.y1 == within.y1)
            break;
        within = r;
        if (pasted)
            break;
    }
    return within;
}
