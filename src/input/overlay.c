/* overlay.c - a watermark box over a photo (overlay.h).
 *
 * The content box is averaged to a luminance grid of square cells (longer
 * side at most GRID_MAX).  A side of a box is a grid line along which the
 * two cells on one side differ from the two on the other by STEP or more,
 * all with one sign (a translucent white box brightens whatever lies
 * under it; an opaque box differs from the photo by its own colour).
 * Candidates are pairs of horizontal runs of such steps, the top one
 * stepping into the box and the bottom one out of it, that start and end
 * together; the vertical lines at their ends must step the same way along
 * SIDE_SHARE of the height, unless the box runs off the photo's left or
 * right side there.  Then what the box holds (holds_overlay()): around it
 * a smooth photo (sky, fog, a gradient: where a box costs a copy its
 * match; over texture the verifier copes, and planks and windows look
 * like boxes), along its sides inside the photo seen through it (an affine
 * map of the outside with a slope of RING_KEEP at most), and ink inside (a
 * disc, a word).  Of the candidates the largest wins.
 *
 * Filling (dg_overlay_fill) is a transfinite blend of the rows and columns
 * around the box: exact for a flat or linear surround, which is where it
 * is found.
 */
#include "input/overlay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GRID_MAX 128
#define MIN_CELLS 24   /* smaller grids are left alone */
#define STEP 0.04f     /* luminance step across a side (full scale 1) */
#define GAP 2          /* cells a run of steps may miss in a row */
#define SIDE_SHARE 0.8 /* of a side's cells that must step */
#define END_TOL 2      /* cells between the ends of the top and bottom runs */
#define MIN_W 0.2      /* of the grid's width, narrowest box */
#define MIN_H 6        /* cells, lowest box */
#define ASPECT_MAX 8   /* width over height, at most (a horizon is no box) */
#define OVERLAY_AREA_MIN 0.02
#define OVERLAY_AREA_MAX 0.25
#define RUNS_MAX 8         /* longest runs kept per grid line */
#define RING_IN 2          /* cells inside the sides, the inner ring */
#define RING_OUT 2         /* cells outside them, the outer ring */
#define SMOOTH_RANGE 0.06f /* 3 x 3 luminance range of a smooth cell around the box ... */
#define SMOOTH_SHARE 0.5   /* ... on this share of its outer ring */
#define RING_KEEP 0.6      /* of the photo's contrast a box may let through */
#define RING_FIT 0.04      /* luminance off that fit a ring cell may be ... */
#define RING_STRAY 0.3     /* ... on this share of them */
#define INK_RANGE 0.12f    /* 3 x 3 luminance range of an ink cell */
#define INK_SHARE 0.04     /* of the inside */
/* of the inside: a logo box's disc and word (tune: 0.54-0.86), not the
 * few strokes of a smooth photo pasted in a window (0.04-0.08) */
#define LOGO_INK 0.25

typedef struct grid {
    int w, h;
    float lum[GRID_MAX * GRID_MAX];
} grid;

typedef struct run {
    int y, a, b, sign; /* grid line y, cells [a, b), sign of (below - above) */
} run;

/* Mean luminance (full scale 1) of every f x f block of box. */
static void sample(const dg_lum_plane *lum, const int box[4], int f, grid *g)
{
    g->w = (box[2] - box[0]) / f;
    g->h = (box[3] - box[1]) / f;
    for (int i = 0; i < g->h; i++)
        for (int j = 0; j < g->w; j++) {
            double acc = 0;
            for (int y = box[1] + i * f; y < box[1] + (i + 1) * f; y++) {
                const double *row = &lum->v[(size_t)y * (size_t)lum->w + (size_t)(box[0] + j * f)];
                for (int x = 0; x < f; x++)
                    acc += row[x];
            }
            g->lum[i * g->w + j] = (float)(acc / (255.0 * f * f));
        }
}

static inline float at(const grid *g, int x, int y)
{
    return g->lum[y * g->w + x];
}

/* Step across horizontal grid line y (between rows y - 1 and y) at column
 * x: the two rows below minus the two above, halved (an edge smeared over
 * two rows by resampling still counts).  2 <= y <= h - 2. */
static inline float hstep(const grid *g, int y, int x)
{
    return 0.5f * (at(g, x, y) + at(g, x, y + 1) - at(g, x, y - 1) - at(g, x, y - 2));
}

/* Step across vertical grid line x at row y: right minus left. */
static inline float vstep(const grid *g, int x, int y)
{
    return 0.5f * (at(g, x, y) + at(g, x + 1, y) - at(g, x - 1, y) - at(g, x - 2, y));
}

static inline int steps(float d, int sign)
{
    return sign > 0 ? d >= STEP : d <= -STEP;
}

/* Keeps r among the RUNS_MAX longest in out (n of them so far). */
static int keep_run(run *out, int n, run r)
{
    if (n < RUNS_MAX) {
        out[n] = r;
        return n + 1;
    }
    int shortest = 0;
    for (int i = 1; i < n; i++)
        if (out[i].b - out[i].a < out[shortest].b - out[shortest].a)
            shortest = i;
    if (r.b - r.a > out[shortest].b - out[shortest].a)
        out[shortest] = r;
    return n;
}

/* Runs of steps of one sign along horizontal line y (GAP misses allowed
 * inside a run), at least min_len long, the RUNS_MAX longest; returns how
 * many were written to out. */
static int line_runs(const grid *g, int y, int min_len, run *out)
{
    int n = 0;
    for (int sign = -1; sign <= 1; sign += 2)
        for (int x = 0, start = -1, last = -1; x <= g->w; x++) {
            if (x < g->w && steps(hstep(g, y, x), sign)) {
                start = start < 0 ? x : start;
                last = x;
            } else if (start >= 0 && (x == g->w || x - last > GAP)) {
                if (last + 1 - start >= min_len)
                    n = keep_run(out, n, (run){y, start, last + 1, sign});
                start = -1;
            }
        }
    return n;
}

/* Share of rows y0 .. y1 - 1 at which vertical line x steps with sign, the
 * best of lines x - 1 .. x + 1. */
static double side_share(const grid *g, int x, int y0, int y1, int sign)
{
    int best = 0;
    for (int l = x - 1; l <= x + 1; l++) {
        if (l < 2 || l > g->w - 2)
            continue;
        int n = 0;
        for (int y = y0; y < y1; y++)
            n += steps(vstep(g, l, y), sign);
        best = n > best ? n : best;
    }
    return y1 > y0 ? (double)best / (y1 - y0) : 0.0;
}

/* Share of columns x0 .. x1 - 1 at which horizontal line y steps. */
static double top_share(const grid *g, int y, int x0, int x1, int sign)
{
    int n = 0;
    for (int x = x0; x < x1; x++)
        n += steps(hstep(g, y, x), sign);
    return x1 > x0 ? (double)n / (x1 - x0) : 0.0;
}

/* Luminance range of the 3 x 3 cells about (x, y), clipped to the grid. */
static float range3(const grid *g, int x, int y)
{
    float lo = at(g, x, y), hi = lo;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int u = x + dx, v = y + dy;
            if (u < 0 || v < 0 || u >= g->w || v >= g->h)
                continue;
            lo = at(g, u, v) < lo ? at(g, u, v) : lo;
            hi = at(g, u, v) > hi ? at(g, u, v) : hi;
        }
    return hi - lo;
}

/* Share of the inside cells [x0, x1) x [y0, y1) with a 3 x 3 luminance
 * range of INK_RANGE or more: the strokes of a disc or a word.  The two
 * outermost rings are left out: a cell's 3 x 3 range next to a side that
 * is a cell off on the grid is the box's own edge, not ink (a dark render
 * pasted on a page, taken for a box, would have nothing else). */
static double ink_share(const grid *g, int x0, int y0, int x1, int y1)
{
    int n = 0, ink = 0;
    for (int y = y0 + 2; y < y1 - 2; y++)
        for (int x = x0 + 2; x < x1 - 2; x++) {
            n++;
            ink += range3(g, x, y) >= INK_RANGE;
        }
    return n > 0 ? (double)ink / n : 0.0;
}

/* The cells RING_IN inside and RING_OUT outside a rectangle's sides
 * (corners left out) in pairs, and how many of the outside ones are
 * smooth. */
typedef struct ring {
    float in[4 * GRID_MAX], out[4 * GRID_MAX];
    int n, smooth;
} ring;

/* Adds the pair of inside cell (xi, yi) and outside cell (xo, yo), unless
 * the outside one is off the grid. */
static void ring_add(const grid *g, ring *r, int xi, int yi, int xo, int yo)
{
    if (xo < 0 || yo < 0 || xo >= g->w || yo >= g->h)
        return;
    r->in[r->n] = at(g, xi, yi);
    r->out[r->n++] = at(g, xo, yo);
    r->smooth += range3(g, xo, yo) <= SMOOTH_RANGE;
}

static void ring_of(const grid *g, int x0, int y0, int x1, int y1, ring *r)
{
    r->n = r->smooth = 0;
    for (int x = x0 + RING_IN; x < x1 - RING_IN; x++) {
        ring_add(g, r, x, y0 + RING_IN, x, y0 - RING_OUT);
        ring_add(g, r, x, y1 - 1 - RING_IN, x, y1 - 1 + RING_OUT);
    }
    for (int y = y0 + RING_IN; y < y1 - RING_IN; y++) {
        ring_add(g, r, x0 + RING_IN, y, x0 - RING_OUT, y);
        ring_add(g, r, x1 - 1 - RING_IN, y, x1 - 1 + RING_OUT, y);
    }
}

/* The least-squares line in = a out + b through the pairs k with use[k],
 * its slope held to 0 .. RING_KEEP (a box lets the photo through, up to
 * its transparency, or not; it never inverts it). */
static void fit_line(const float *in, const float *out, const unsigned char *use, int n, double *a, double *b)
{
    double so = 0, si = 0, soo = 0, soi = 0, m = 0;
    for (int k = 0; k < n; k++)
        if (use[k]) {
            so += out[k];
            si += in[k];
            soo += (double)out[k] * out[k];
            soi += (double)out[k] * in[k];
            m++;
        }
    double var = soo - so * so / m;
    *a = var > 1e-9 ? (soi - so * si / m) / var : 0.0;
    *a = *a < 0 ? 0 : *a > RING_KEEP ? RING_KEEP : *a;
    *b = (si - *a * so) / m;
}

static int cmp_float(const void *p, const void *q)
{
    float a = *(const float *)p, b = *(const float *)q;
    return (a > b) - (a < b);
}

/* The median of v[0..n) (n >= 1; v is reordered). */
static float median(float *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return v[n / 2];
}

/* Whether the rectangle holds an overlay rather than frames a photo or is
 * a part of one (a plank, a window): SMOOTH_SHARE of the cells around it
 * smooth; along its sides the inside is the outside seen through a box,
 * inside = a outside + b with a at most RING_KEEP (an opaque box: 0; a
 * translucent one: its transparency), to within RING_FIT for all but
 * RING_STRAY of the cells (ink near a side); and it holds ink. */
static int holds_overlay(const grid *g, int x0, int y0, int x1, int y1)
{
    ring r;
    ring_of(g, x0, y0, x1, y1, &r);
    int n = r.n;
    const float *in = r.in, *out = r.out;
    float res[4 * GRID_MAX];
    unsigned char use[4 * GRID_MAX];
    if (n < 8 || r.smooth < SMOOTH_SHARE * n || ink_share(g, x0, y0, x1, y1) < INK_SHARE)
        return 0;
    /* the line through all pairs, then through the better half of them
     * (ink near a side is far off any line) */
    double a, b;
    memset(use, 1, (size_t)n);
    fit_line(in, out, use, n, &a, &b);
    for (int k = 0; k < n; k++)
        res[k] = fabsf(in[k] - (float)(a * out[k] + b));
    float mid = median(res, n); /* reorders res */
    for (int k = 0; k < n; k++)
        use[k] = fabsf(in[k] - (float)(a * out[k] + b)) <= mid;
    fit_line(in, out, use, n, &a, &b);
    int off = 0;
    for (int k = 0; k < n; k++)
        off += fabs(in[k] - (a * out[k] + b)) > RING_FIT;
    return off <= RING_STRAY * n;
}

/* The grid of box: its cell side in pixels, or 0 when the box is too
 * small to look into. */
static int grid_of(const dg_lum_plane *lum, const int box[4], grid *g)
{
    int bw = box[2] - box[0], bh = box[3] - box[1], longer = bw > bh ? bw : bh;
    int f = (longer + GRID_MAX - 1) / GRID_MAX;
    if (f < 1 || bw / f < MIN_CELLS || bh / f < MIN_CELLS)
        return 0;
    sample(lum, box, f, g);
    return f;
}

/* Region's grid in g, and in c the cells of rectangle r (image pixels)
 * on it: those wholly inside r, clipped to the grid.  0 when the region is
 * too small to look into (grid_of()). */
static int grid_cells(const dg_lum_plane *lum, const int region[4], const int r[4], grid *g, int c[4])
{
    int f = grid_of(lum, region, g);
    if (!f)
        return 0;
    c[0] = (r[0] - region[0] + f - 1) / f;
    c[1] = (r[1] - region[1] + f - 1) / f;
    c[2] = (r[2] - region[0]) / f;
    c[3] = (r[3] - region[1]) / f;
    c[0] = c[0] < 0 ? 0 : c[0];
    c[1] = c[1] < 0 ? 0 : c[1];
    c[2] = c[2] > g->w ? g->w : c[2];
    c[3] = c[3] > g->h ? g->h : c[3];
    return 1;
}

int dg_overlay_is_box(const dg_lum_plane *lum, const int region[4], const int r[4])
{
    grid g;
    int c[4];
    if (!grid_cells(lum, region, r, &g, c))
        return 0;
    int x0 = c[0], y0 = c[1], x1 = c[2], y1 = c[3];
    /* a photo pasted on a story canvas spans it, one in a window is large */
    return x0 > END_TOL && y0 > END_TOL && x1 < g.w - END_TOL && y1 < g.h - END_TOL && y1 - y0 >= MIN_H &&
           (double)(x1 - x0) * (y1 - y0) <= OVERLAY_AREA_MAX * g.w * g.h && holds_overlay(&g, x0, y0, x1, y1);
}

int dg_overlay_has_logo_ink(const dg_lum_plane *lum, const int region[4], const int r[4])
{
    grid g;
    int c[4];
    return grid_cells(lum, region, r, &g, c) && ink_share(&g, c[0], c[1], c[2], c[3]) >= LOGO_INK;
}

int dg_overlay_find(const dg_lum_plane *lum, const int box[4], int ov[4])
{
    memset(ov, 0, 4 * sizeof *ov);
    grid g;
    int f = grid_of(lum, box, &g);
    if (!f)
        return 0;
    int min_w = (int)ceil(MIN_W * g.w);
    double all = (double)g.w * g.h, best_area = 0;
    run runs[GRID_MAX + 1][RUNS_MAX];
    int nruns[GRID_MAX + 1] = {0};
    for (int y = 2; y <= g.h - 2; y++)
        nruns[y] = line_runs(&g, y, min_w, runs[y]);
    for (int y0 = 2; y0 <= g.h - 2; y0++)
        for (int i = 0; i < nruns[y0]; i++) {
            const run *top = &runs[y0][i];
            for (int y1 = y0 + MIN_H; y1 <= g.h - 2; y1++)
                for (int j = 0; j < nruns[y1]; j++) {
                    const run *bottom = &runs[y1][j];
                    if (bottom->sign != -top->sign || abs(bottom->a - top->a) > END_TOL ||
                        abs(bottom->b - top->b) > END_TOL)
                        continue;
                    int x0 = top->a > bottom->a ? top->a : bottom->a, x1 = top->b < bottom->b ? top->b : bottom->b;
                    /* a box may run off the photo's left or right side */
                    int open_l = x0 <= END_TOL, open_r = x1 >= g.w - END_TOL;
                    x0 = open_l ? 0 : x0;
                    x1 = open_r ? g.w : x1;
                    double area = (double)(x1 - x0) * (y1 - y0);
                    if ((open_l && open_r) || x1 - x0 > ASPECT_MAX * (y1 - y0) || y1 - y0 > x1 - x0 ||
                        area < OVERLAY_AREA_MIN * all || area > OVERLAY_AREA_MAX * all || area <= best_area)
                        continue;
                    int s = top->sign;
                    if (top_share(&g, y0, x0, x1, s) < SIDE_SHARE || top_share(&g, y1, x0, x1, -s) < SIDE_SHARE ||
                        (!open_l && side_share(&g, x0, y0 + 1, y1 - 1, s) < SIDE_SHARE) ||
                        (!open_r && side_share(&g, x1, y0 + 1, y1 - 1, -s) < SIDE_SHARE) ||
                        !holds_overlay(&g, x0, y0, x1, y1))
                        continue;
                    best_area = area;
                    ov[0] = box[0] + x0 * f;
                    ov[1] = box[1] + y0 * f;
                    ov[2] = box[0] + x1 * f;
                    ov[3] = box[1] + y1 * f;
                }
        }
    return best_area > 0;
}

void dg_overlay_cells(const int box[4], const int ov[4], int w, int h, int r[4])
{
    double sx = (double)(box[2] - box[0]) / w, sy = (double)(box[3] - box[1]) / h;
    r[0] = (int)floor((ov[0] - box[0]) / sx) - 1;
    r[1] = (int)floor((ov[1] - box[1]) / sy) - 1;
    r[2] = (int)ceil((ov[2] - box[0]) / sx) + 1;
    r[3] = (int)ceil((ov[3] - box[1]) / sy) + 1;
}

/* One direction's estimate of a filled cell: the line between the cells
 * before (lo) and after (hi) the filled span [a, b) at i, or the one
 * there is; its weight falls with the distance to the nearer of them. */
static void blend(const float *v, int step, int a, int b, int i, int lo, int hi, double *acc, double *wsum)
{
    if (!lo && !hi)
        return;
    double before = lo ? v[(a - 1) * step] : v[b * step], after = hi ? v[b * step] : before;
    double t = (double)(i - a + 1) / (b - a + 1);
    double d = fmin(lo ? i - a + 1 : INFINITY, hi ? b - i : INFINITY), wt = 1.0 / (d * d);
    *acc += wt * (lo ? before + t * (after - before) : after);
    *wsum += wt;
}

void dg_overlay_fill(float *v, int w, int h, const int r[4])
{
    int x0 = r[0] < 0 ? 0 : r[0], y0 = r[1] < 0 ? 0 : r[1];
    int x1 = r[2] > w ? w : r[2], y1 = r[3] > h ? h : r[3];
    int left = x0 > 0, right = x1<w, above = y0> 0, below = y1 < h;
    if (x1 <= x0 || y1 <= y0 || (!left && !right && !above && !below))
        return;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            double acc = 0, wsum = 0;
            blend(v + y * w, 1, x0, x1, x, left, right, &acc, &wsum);
            blend(v + x, w, y0, y1, y, above, below, &acc, &wsum);
            v[y * w + x] = (float)(acc / wsum);
        }
}
