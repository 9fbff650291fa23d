/* verify.c - the verifier of a candidate pair (verify.h).
 *
 * Either signature may be the cropped one, so both directions are tried:
 * the probe (one thumbnail, possibly mirrored) is placed inside the
 * reference (the other) by a similarity transform.  Coarse to fine:
 *   1. at quarter resolution, every scale of SCALES (probe side /
 *      reference side, 1 down to 0.6) and every translation on a grid of
 *      COARSE_STEP full-level pixels that keeps the probe inside the
 *      reference (give or take SLACK), no rotation; cost = mean absolute
 *      difference of the equalised values (a sample outside the reference
 *      costs OUTSIDE);
 *   2. the best placement of each (direction, mirror), the N_REFINE best of
 *      those refined at full resolution, twice: rotations of ANGLES (at the
 *      coarse scale and at that of a rotated copy cropped to fill its
 *      frame), then a pattern search over translation, scale and rotation
 *      with halving steps; and the same after one unrotated round of that
 *      search (a crop's coarse placement a pixel off can otherwise settle
 *      rotated);
 *      the full-level cost is that of the detail (the equalised values
 *      minus their local mean; a sample outside the reference costs its
 *      own detail plus the reference's mean detail);
 *   3. the score of each refined placement: the share of the probe's 4 x 4
 *      blocks that lie inside the reference and agree (similar values, or
 *      correlated texture where both are textured), so an overlay or a
 *      changed region only costs its own blocks; the higher score wins,
 *      and a copy beyond doubt (SURE_SCORE with SURE_DETAIL) ends step 2
 *      at once; thumbnails of one shape are also scored unmoved.
 * With a match, also the detail difference at the winning placement
 * (detail_diff; verify.max_detail_diff rejects on it).
 * Samples are bilinear.  The shortcuts (column positions shared by the
 * rows and the coarse placements, a cost that stops once it cannot win, a
 * second path not run or scored where it would repeat the first) keep
 * every sum term by term, so the scores are those of the plain method
 * (tests/verify_reference.c; test_verify compares).  About 100
 * microseconds per pair (dg-embed-bench prints the measured cost).
 */
#include "graph/verify.h"

#include <math.h>
#include <string.h>

#include "input/signature.h"

#define SIDE DG_SIG_SIDE
#define OUTSIDE 96.0f /* coarse cost of a probe sample off the reference (values 0..255) */
#define DETAIL_R 3 /* the detail plane subtracts the mean of (2 DETAIL_R + 1)^2 pixels */
#define SLACK 2.0f    /* full-level pixels a placement may stick out */
#define N_REFINE 2
/* keep_best: a placement this good ends the search (tune split: the same
 * decisions at verify.max_detail_diff 0.4 and above, jobs/verify_pairs.py) */
#define SURE_SCORE 0.85f
#define SURE_DETAIL 0.4f
#define COARSE_STEP 3.0f /* full-level pixels between coarse translations */
#define FINE_STRIDE 3   /* every FINE_STRIDE-th probe pixel while refining */
#define BLOCK 4
/* block_agreement: a side is textured with a standard deviation of
 * TEXTURE_SD or more; textured blocks agree with a correlation of MIN_CORR
 * and means closer than TEXTURE_DIFF, flat ones (weight FLAT_WEIGHT) with
 * means closer than FLAT_DIFF.  Means, not pixels, because an overlay
 * moves every rank of the equalised thumbnail a little. */
#define FLAT_DIFF 24.0f
#define FLAT_WEIGHT 0.25f
#define TEXTURE_SD 10.0f
#define MIN_CORR 0.6f
#define TEXTURE_DIFF 48.0f

static const float SCALES[] = {1.0f, 0.9f, 0.8f, 0.7f, 0.6f};
static const float ANGLES[] = {-8.0f, -4.0f, 4.0f, 8.0f};

typedef struct plane {
    int w, h; /* row stride w */
    float v[SIDE * SIDE]; /* rank-equalised values */
    float d[SIDE * SIDE]; /* detail: v minus its local mean (what alignment compares) */
    float d_mean;         /* mean |d| */
} plane;

typedef struct placement {
    int dir; /* 1: the probe is b */
    int mirror;
    float s, deg, tx, ty; /* tx, ty: the probe's centre in reference pixels (full level) */
    float cost;
} placement;

/* The affine map of probe level pixels to reference level coordinates at
 * level factor f: X = x0 + x dxx + y dxy (pixel centres at integers). */
typedef struct affine {
    float x0, y0, dxx, dxy, dyx, dyy;
} affine;

static void load(const uint8_t *sig, plane *p)
{
    p->w = sig[1];
    p->h = sig[2];
    const uint8_t *px = sig + DG_SIG_HEADER;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++)
            p->v[y * p->w + x] = px[y * SIDE + x];
}

/* The detail plane: an overlay or a crop shifts every equalised rank a
 * little, the local contrast stays.  The window sums come from an integral
 * image: the values are whole numbers, so any order of summing gives the
 * same exact sum. */
static void detail(plane *p)
{
    int ii[(SIDE + 1) * (SIDE + 1)], st = p->w + 1;
    for (int x = 0; x <= p->w; x++)
        ii[x] = 0;
    for (int y = 0; y < p->h; y++) {
        int row = 0;
        ii[(y + 1) * st] = 0;
        for (int x = 0; x < p->w; x++) {
            row += (int)p->v[y * p->w + x];
            ii[(y + 1) * st + x + 1] = ii[y * st + x + 1] + row;
        }
    }
    float sum = 0.0f;
    for (int y = 0; y < p->h; y++) {
        int y0 = y - DETAIL_R < 0 ? 0 : y - DETAIL_R, y1 = y + DETAIL_R >= p->h ? p->h : y + DETAIL_R + 1;
        for (int x = 0; x < p->w; x++) {
            int x0 = x - DETAIL_R < 0 ? 0 : x - DETAIL_R, x1 = x + DETAIL_R >= p->w ? p->w : x + DETAIL_R + 1;
            int acc = ii[y1 * st + x1] - ii[y0 * st + x1] - ii[y1 * st + x0] + ii[y0 * st + x0];
            float d = p->v[y * p->w + x] - (float)acc / (float)((y1 - y0) * (x1 - x0));
            p->d[y * p->w + x] = d;
            sum += fabsf(d);
        }
    }
    p->d_mean = p->w > 0 && p->h > 0 ? sum / (float)(p->w * p->h) : 0.0f;
}

static void halve(const plane *in, plane *out)
{
    out->w = in->w / 2;
    out->h = in->h / 2;
    for (int y = 0; y < out->h; y++)
        for (int x = 0; x < out->w; x++) {
            const float *r0 = in->v + 2 * y * in->w + 2 * x, *r1 = r0 + in->w;
            out->v[y * out->w + x] = 0.25f * (r0[0] + r0[1] + r1[0] + r1[1]);
        }
}

/* The map of pl for a probe of full size pw x ph at level factor f. */
static affine map_of(const placement *pl, int pw, int ph, float f)
{
    float rad = pl->deg * (float)(M_PI / 180.0);
    /* no rotation (every coarse placement): cosf(0) = 1, sinf(+-0) = +-0 */
    float c = rad == 0.0f ? pl->s : cosf(rad) * pl->s, sn = rad == 0.0f ? rad * pl->s : sinf(rad) * pl->s;
    float m = pl->mirror ? -1.0f : 1.0f;
    /* full-level probe coordinates about its centre: u = (x + 0.5) f - pw / 2 */
    float u0 = 0.5f * f - 0.5f * (float)pw, v0 = 0.5f * f - 0.5f * (float)ph;
    float a = c * m, b = -sn, cc = sn * m, d = c;
    affine t;
    t.x0 = (a * u0 + b * v0 + pl->tx) / f - 0.5f;
    t.y0 = (cc * u0 + d * v0 + pl->ty) / f - 0.5f;
    t.dxx = a;
    t.dxy = b;
    t.dyx = cc;
    t.dyy = d;
    return t;
}

/* One coordinate of a bilinear sample on a side of n pixels: whether it
 * lies on the plane, the first of its two pixels and the weight of the
 * second. */
typedef struct axis {
    int in, i;
    float f;
} axis;

static inline axis axis_at(float x, int n)
{
    axis a;
    a.in = !(x < -0.5f || x > (float)n - 0.5f);
    x = x < 0.0f ? 0.0f : x > (float)(n - 1) ? (float)(n - 1) : x;
    a.i = (int)x;
    a.i = a.i >= n - 1 ? (n > 1 ? n - 2 : 0) : a.i;
    a.f = x - (float)a.i;
    return a;
}

/* The bilinear positions (axis_at) of the coordinates c[k] + add, k < n,
 * on a side of `side` pixels; axis_at written so that the compiler
 * vectorises the loop (the coordinates are finite). */
static void axes(const float *c, float add, int n, int side, int *in, int *i, float *f)
{
    float hi = (float)side - 0.5f, last = (float)(side - 1);
    int top = side > 1 ? side - 2 : 0;
    for (int k = 0; k < n; k++) {
        float x = c[k] + add;
        in[k] = (x >= -0.5f) & (x <= hi);
        x = x < 0.0f ? 0.0f : x;
        x = x > last ? last : x;
        int ix = (int)x;
        ix = ix >= side - 1 ? top : ix;
        i[k] = ix;
        f[k] = x - (float)ix;
    }
}

/* The bilinear values of the reference's plane `vals` at probe row y,
 * columns x0 .. x0 + n - 1, under t: out[k], and on[k] whether the sample
 * lies on the reference (its value is then meaningless).  The coordinates
 * are (x0 + x dxx) + y dxy and (y0 + x dyx) + y dyy, the values top +
 * fy (bottom - top) of the two rows' interpolations: the same operations
 * as cost()'s, computed a row at a time so that the compiler vectorises
 * the positions. */
static void row_samples(const plane *ref, const float *vals, const affine *t, int y, int x0, int n, float *out,
                        int *on)
{
    float cx[SIDE], cy[SIDE], fx[SIDE], fy[SIDE];
    int inx[SIDE], iny[SIDE], ix[SIDE], iy[SIDE];
    for (int k = 0; k < n; k++) {
        cx[k] = t->x0 + (float)(x0 + k) * t->dxx;
        cy[k] = t->y0 + (float)(x0 + k) * t->dyx;
    }
    axes(cx, (float)y * t->dxy, n, ref->w, inx, ix, fx);
    axes(cy, (float)y * t->dyy, n, ref->h, iny, iy, fy);
    int dx = ref->w > 1, dy = ref->h > 1 ? ref->w : 0;
    for (int k = 0; k < n; k++) {
        const float *p = vals + iy[k] * ref->w + ix[k];
        float top = p[0] + fx[k] * (p[dx] - p[0]), bottom = p[dy] + fx[k] * (p[dy + dx] - p[dy]);
        out[k] = top + fy[k] * (bottom - top);
        on[k] = inx[k] & iny[k];
    }
}

/* Mean cost of the probe's detail samples (every FINE_STRIDE-th pixel)
 * under t, or INFINITY as soon as the mean is sure to reach bound (the
 * terms are not negative, so the partial sum only grows: a placement that
 * would lose the comparison with bound loses it either way).  A sample's
 * coordinates are (x0 + x dxx) + y dxy and (y0 + x dyx) + y dyy, as
 * row_samples()'s, with the column terms computed once.  Without rotation
 * (dxy = dyx = +-0) the x positions are the same on every row and the y
 * position the same along a row (up to the sign of a zero term, which
 * changes no sample). */
static float cost(const plane *ref, const plane *probe, const affine *t, float bound)
{
    const int stride = FINE_STRIDE, first = stride / 2;
    int nx = probe->w > first ? (probe->w - first + stride - 1) / stride : 0;
    int ny = probe->h > first ? (probe->h - first + stride - 1) / stride : 0;
    if (nx == 0 || ny == 0)
        return INFINITY;
    float n = (float)(nx * ny), cx[SIDE], cy[SIDE], fx[SIDE], fy[SIDE];
    /* sum >= bound n, tested exactly in double (no division per row),
     * implies sum / n >= bound once rounded: the exit never rejects a
     * placement the mean would keep, and a placement it lets finish still
     * has a mean >= bound, which loses the caller's comparison all the same */
    double bound_n = (double)bound * (double)n;
    int inx[SIDE], iny[SIDE], ix[SIDE], iy[SIDE];
    for (int k = 0; k < nx; k++) {
        cx[k] = t->x0 + (float)(first + k * stride) * t->dxx;
        cy[k] = t->y0 + (float)(first + k * stride) * t->dyx;
    }
    const float *rv = ref->d;
    int dx = ref->w > 1, dy = ref->h > 1 ? ref->w : 0;
    int separable = t->dxy == 0.0f && t->dyx == 0.0f;
    float sum = 0.0f;
    for (int j = 0; j < ny; j++) {
        int y = first + j * stride;
        if (j == 0 || !separable)
            axes(cx, (float)y * t->dxy, nx, ref->w, inx, ix, fx);
        if (separable) {
            axis a = axis_at(cy[0] + (float)y * t->dyy, ref->h);
            for (int k = 0; k < nx; k++) {
                iny[k] = a.in;
                iy[k] = a.i;
                fy[k] = a.f;
            }
        } else {
            axes(cy, (float)y * t->dyy, nx, ref->h, iny, iy, fy);
        }
        const float *pr = probe->d + y * probe->w + first;
        for (int k = 0; k < nx; k++) {
            if (!inx[k] || !iny[k]) {
                sum += fabsf(pr[k * stride]) + ref->d_mean; /* off the reference */
                continue;
            }
            const float *p = rv + iy[k] * ref->w + ix[k];
            float top = p[0] + fx[k] * (p[dx] - p[0]), bottom = p[dy] + fx[k] * (p[dy + dx] - p[dy]);
            sum += fabsf(top + fy[k] * (bottom - top) - pr[k * stride]);
        }
        if ((double)sum >= bound_n)
            return INFINITY;
    }
    return sum / n;
}

/* A placement's cost (cost()); INFINITY once sure to be >= bound. */
static float cost_at(const plane *ref, const plane *probe, const placement *pl, float bound)
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    return cost(ref, probe, &t, bound);
}

/* The coarse placements (no rotation) of one scale and tx share their
 * columns: the reference's rows interpolated at the probe's column
 * positions (row_samples()'s `top` and `bottom`, the same operations)
 * serve every ty.  The quarter level is at most QSIDE pixels a side. */
#define QSIDE (SIDE / 4)
#define MAX_TX ((int)(SIDE / COARSE_STEP) + 4)

typedef struct columns {
    int in[QSIDE];
    float h[QSIDE][QSIDE]; /* [reference row][probe column] */
} columns;

static void columns_at(const plane *ref, const plane *probe, const affine *t, columns *c)
{
    int ix[QSIDE];
    float cx[QSIDE], fx[QSIDE];
    for (int k = 0; k < probe->w; k++)
        cx[k] = t->x0 + (float)k * t->dxx;
    axes(cx, 0.0f, probe->w, ref->w, c->in, ix, fx);
    int dx = ref->w > 1;
    for (int r = 0; r < ref->h; r++)
        for (int k = 0; k < probe->w; k++) {
            const float *p = ref->v + r * ref->w + ix[k];
            c->h[r][k] = p[0] + fx[k] * (p[dx] - p[0]);
        }
}

/* cost() of a coarse placement (stride 1, values) from its columns. */
static float coarse_cost(const plane *ref, const plane *probe, const columns *c, const affine *t, float bound)
{
    float n = (float)(probe->w * probe->h), sum = 0.0f;
    double bound_n = (double)bound * (double)n; /* as in cost() */
    int dy = ref->h > 1;
    for (int j = 0; j < probe->h; j++) {
        axis a = axis_at(t->y0 + (float)j * t->dyy, ref->h);
        const float *pr = probe->v + j * probe->w, *top = c->h[a.i], *bottom = c->h[a.i + dy];
        for (int k = 0; k < probe->w; k++)
            sum += a.in && c->in[k] ? fabsf(top[k] + a.f * (bottom[k] - top[k]) - pr[k]) : OUTSIDE;
        if ((double)sum >= bound_n)
            return INFINITY;
    }
    return sum / n;
}

/* Step 1 for one direction and mirror: the cheapest placement, the first
 * in the order (scale, ty, tx) among equals. */
static placement coarse(const plane *ref4, const plane *probe4, int rw, int rh, int pw, int ph, int dir, int mirror)
{
    placement best = {.dir = dir, .mirror = mirror, .cost = INFINITY};
    if (probe4->w < 1 || probe4->h < 1)
        return best;
    for (size_t k = 0; k < sizeof SCALES / sizeof SCALES[0]; k++) {
        float s = SCALES[k], ew = s * (float)pw, eh = s * (float)ph;
        float xlo = ew <= rw ? 0.5f * ew : 0.5f * (float)rw, xhi = ew <= rw ? (float)rw - 0.5f * ew : xlo;
        float ylo = eh <= rh ? 0.5f * eh : 0.5f * (float)rh, yhi = eh <= rh ? (float)rh - 0.5f * eh : ylo;
        float txs[MAX_TX];
        columns cols[MAX_TX];
        int m = 0;
        for (float tx = xlo - SLACK; tx <= xhi + SLACK + 1e-3f && m < MAX_TX; tx += COARSE_STEP) {
            placement pl = {dir, mirror, s, 0.0f, tx, 0.0f, 0.0f};
            affine t = map_of(&pl, pw, ph, 4.0f);
            columns_at(ref4, probe4, &t, &cols[m]);
            txs[m++] = tx;
        }
        for (float ty = ylo - SLACK; ty <= yhi + SLACK + 1e-3f; ty += COARSE_STEP)
            for (int i = 0; i < m; i++) {
                placement pl = {dir, mirror, s, 0.0f, txs[i], ty, 0.0f};
                affine t = map_of(&pl, pw, ph, 4.0f);
                pl.cost = coarse_cost(ref4, probe4, &cols[i], &t, best.cost);
                if (pl.cost < best.cost)
                    best = pl;
            }
    }
    return best;
}

/* The placements the pattern search has costed since its best last
 * moved, and the best before that.  The best cost only falls, so none of
 * them can beat the current best: a step undone, or a neighbour tried
 * before an iteration without a move, is skipped with the same outcome as
 * costing it again.  Placements are compared by their bits (equal bits,
 * equal cost). */
#define MAX_VISITED (1 + 8)
typedef struct visited {
    int n;
    uint64_t at[MAX_VISITED][2];
} visited;

static void placement_key(const placement *q, uint64_t k[2])
{
    float key[4] = {q->tx, q->ty, q->s, q->deg};
    memcpy(k, key, 2 * sizeof *k);
}

/* Whether q was costed since the best moved; if not, it is noted. */
static int seen_before(visited *v, const placement *q)
{
    uint64_t k[2];
    placement_key(q, k);
    for (int i = 0; i < v->n; i++)
        if (((v->at[i][0] ^ k[0]) | (v->at[i][1] ^ k[1])) == 0)
            return 1;
    if (v->n < MAX_VISITED) {
        v->at[v->n][0] = k[0];
        v->at[v->n][1] = k[1];
        v->n++;
    }
    return 0;
}

/* The best moved from `from`: only `from` is worth remembering. */
static void moved_from(visited *v, const placement *from)
{
    placement_key(from, v->at[0]);
    v->n = 1;
}

/* A pattern search at full level from pl: each of `moves` steps (+-tx,
 * +-ty, +-scale, then +-rotation when moves = 8) taken while it lowers the
 * cost, at most 4 passes a round, the steps halving every round. */
static placement pattern_search(const plane *ref, const plane *probe, placement pl, int rounds, int moves)
{
    float step_t = 1.0f, step_s = 0.04f, step_a = 2.0f;
    visited seen = {0};
    for (int round = 0; round < rounds; round++) {
        for (int moved = 1, it = 0; moved && it < 4; it++) {
            moved = 0;
            for (int k = 0; k < moves; k++) {
                placement q = pl;
                float sign = (k & 1) ? -1.0f : 1.0f;
                switch (k >> 1) {
                case 0: q.tx += sign * step_t; break;
                case 1: q.ty += sign * step_t; break;
                case 2: q.s *= 1.0f + sign * step_s; break;
                default: q.deg += sign * step_a; break;
                }
                if (seen_before(&seen, &q))
                    continue;
                q.cost = cost_at(ref, probe, &q, pl.cost);
                if (q.cost < pl.cost) {
                    moved_from(&seen, &pl);
                    pl = q;
                    moved = 1;
                }
            }
        }
        step_t *= 0.5f;
        step_s *= 0.5f;
        step_a *= 0.5f;
    }
    return pl;
}

/* The scale of the largest rectangle of the probe's aspect ratio inside
 * the probe turned by deg: what a copy rotated and cropped to fill its
 * frame keeps of the original's side. */
static float inscribed_scale(const plane *probe, float deg)
{
    float rad = fabsf(deg) * (float)(M_PI / 180.0);
    float aspect = probe->w >= probe->h ? (float)probe->w / (float)probe->h : (float)probe->h / (float)probe->w;
    return 1.0f / (cosf(rad) + aspect * sinf(rad));
}

/* Rotations of ANGLES about pl (costed), each at pl's scale and at that
 * times inscribed_scale, then a pattern search over translation, scale and
 * rotation.  The unrotated coarse search cannot see a rotation, and
 * settles a copy rotated by 6-10 degrees and cropped near the scale of the
 * whole reference, a step of 0.2 or more the search does not climb. */
static placement rotate_and_search(const plane *ref, const plane *probe, placement pl)
{
    placement start = pl;
    for (size_t k = 0; k < sizeof ANGLES / sizeof ANGLES[0]; k++)
        for (int cropped = 0; cropped < 2; cropped++) {
            placement q = start;
            q.deg = ANGLES[k];
            if (cropped)
                q.s *= inscribed_scale(probe, q.deg);
            q.cost = cost_at(ref, probe, &q, pl.cost);
            if (q.cost < pl.cost)
                pl = q;
        }
    return pattern_search(ref, probe, pl, 3, 8);
}

static int same_place(const placement *p, const placement *q)
{
    return p->tx == q->tx && p->ty == q->ty && p->s == q->s && p->deg == q->deg;
}

/* One block's weight in the score and its agreement: a block textured on
 * either side weighs 1 and agrees when both are textured, correlate and
 * differ little; a block flat on both sides (sky, a wall: little evidence
 * either way) weighs FLAT_WEIGHT and agrees when the values are close. */
static float block_agreement(const float *p, const float *r, int n, float *weight)
{
    float sp = 0, sr = 0, spp = 0, srr = 0, spr = 0;
    for (int i = 0; i < n; i++) {
        sp += p[i];
        sr += r[i];
        spp += p[i] * p[i];
        srr += r[i] * r[i];
        spr += p[i] * r[i];
    }
    float inv = 1.0f / (float)n, min_var = TEXTURE_SD * TEXTURE_SD;
    float vp = spp * inv - sp * sp * inv * inv, vr = srr * inv - sr * sr * inv * inv;
    float shift = fabsf(sp - sr) * inv;
    if (vp < min_var && vr < min_var) {
        *weight = FLAT_WEIGHT;
        return shift < FLAT_DIFF ? FLAT_WEIGHT : 0.0f;
    }
    *weight = 1.0f;
    if (vp < min_var || vr < min_var || shift >= TEXTURE_DIFF)
        return 0.0f;
    float cov = spr * inv - sp * sr * inv * inv;
    return cov >= MIN_CORR * sqrtf(vp * vr) ? 1.0f : 0.0f;
}

/* Step 3: blocks off the reference weigh 1 and disagree.  The reference
 * is sampled a row of blocks at a time (row_samples()); each block's
 * values go to block_agreement() in the order of its pixels. */
static float block_score(const plane *ref, const plane *probe, const placement *pl)
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    int bw = probe->w / BLOCK, bh = probe->h / BLOCK;
    if (bw < 1 || bh < 1)
        return 0.0f;
    int ox = (probe->w - bw * BLOCK) / 2, oy = (probe->h - bh * BLOCK) / 2;
    float agree = 0.0f, total = 0.0f, rows[BLOCK][SIDE];
    int on[BLOCK][SIDE];
    for (int by = 0; by < bh; by++) {
        int y0 = oy + by * BLOCK;
        for (int j = 0; j < BLOCK; j++)
            row_samples(ref, ref->v, &t, y0 + j, ox, bw * BLOCK, rows[j], on[j]);
        for (int bx = 0; bx < bw; bx++) {
            float p[BLOCK * BLOCK], r[BLOCK * BLOCK], w = 1.0f;
            int inside = 1, n = 0;
            for (int j = 0; j < BLOCK; j++)
                for (int i = bx * BLOCK; i < (bx + 1) * BLOCK; i++) {
                    inside &= on[j][i];
                    r[n] = rows[j][i];
                    p[n++] = probe->v[(y0 + j) * probe->w + ox + i];
                }
            if (inside)
                agree += block_agreement(p, r, n, &w);
            total += w;
        }
    }
    return agree / total;
}

/* The detail difference at the placement: over the probe's pixels that lie
 * on the reference, sum |probe detail - reference detail| over the sum of
 * |probe detail| + |reference detail|: near 0 for the same content, near
 * 0.7 for unrelated texture of the same strength.  Two tiles of one texture
 * (water, bark) can agree block by block at a placement that shares no
 * pixel; their details, unlike a copy's, do not match point by point.  At
 * most 1 (triangle inequality); 1 when nothing overlaps, 0 when both are
 * flat there (nothing differs). */
static float detail_diff(const plane *ref, const plane *probe, const placement *pl)
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    float diff = 0.0f, mass = 0.0f, r[SIDE];
    int on[SIDE], n = 0;
    for (int y = 0; y < probe->h; y++) {
        row_samples(ref, ref->d, &t, y, 0, probe->w, r, on);
        for (int x = 0; x < probe->w; x++) {
            if (!on[x])
                continue;
            float p = probe->d[y * probe->w + x];
            diff += fabsf(p - r[x]);
            mass += fabsf(p) + fabsf(r[x]);
            n++;
        }
    }
    return n == 0 ? 1.0f : mass > 0.0f ? diff / mass : 0.0f;
}

/* Step 3 for one refined placement: its score, kept in best / win when
 * higher.  Returns whether the best is now a copy beyond doubt (a score of
 * SURE_SCORE or more with details differing SURE_DETAIL or less): the
 * other refinements could only raise the score, so they are skipped. */
static int keep_best(const plane *ref, const plane *probe, const placement *pl, float *best, placement *win)
{
    float s = block_score(ref, probe, pl);
    if (!(s > *best))
        return 0;
    *best = s;
    *win = *pl;
    return s >= SURE_SCORE && detail_diff(ref, probe, pl) <= SURE_DETAIL;
}

float dg_verify_score(const uint8_t *a, const uint8_t *b, dg_verify_match *match)
{
    if (match)
        memset(match, 0, sizeof *match);
    if (!dg_signature_present(a) || !dg_signature_present(b)) {
        if (match)
            match->score = -1.0f;
        return -1.0f;
    }
    plane full[2], half[2], quarter[2];
    load(a, &full[0]);
    load(b, &full[1]);
    for (int i = 0; i < 2; i++) {
        halve(&full[i], &half[i]);
        halve(&half[i], &quarter[i]);
        detail(&full[i]);
    }
    placement cand[4];
    for (int dir = 0; dir < 2; dir++)
        for (int mirror = 0; mirror < 2; mirror++) {
            const plane *ref = &full[1 - dir], *probe = &full[dir];
            cand[2 * dir + mirror] =
                coarse(&quarter[1 - dir], &quarter[dir], ref->w, ref->h, probe->w, probe->h, dir, mirror);
        }
    /* the N_REFINE cheapest, in a fixed order for equal costs */
    for (int i = 0; i < N_REFINE; i++)
        for (int j = i + 1; j < 4; j++)
            if (cand[j].cost < cand[i].cost) {
                placement t = cand[i];
                cand[i] = cand[j];
                cand[j] = t;
            }
    float best = -1.0f;
    placement win = cand[0];
    int sure = 0;
    for (int i = 0; i < N_REFINE && !sure; i++) {
        const plane *ref = &full[1 - cand[i].dir], *probe = &full[cand[i].dir];
        placement pl = cand[i];
        pl.cost = cost_at(ref, probe, &pl, INFINITY);
        placement first = rotate_and_search(ref, probe, pl);
        sure = keep_best(ref, probe, &first, &best, &win);
        if (sure)
            break;
        /* Step 2's second path: from where one unrotated round of the
         * search takes pl.  A coarse placement a pixel or two off (the
         * quarter level is 8 pixels a side) can make a rotation look
         * cheaper than the right translation, and the first path then
         * settles rotated.  When that round does not move, or both paths
         * end in one place, the second would repeat the first. */
        placement shifted = pattern_search(ref, probe, pl, 1, 6);
        if (same_place(&shifted, &pl))
            continue;
        placement second = rotate_and_search(ref, probe, shifted);
        if (!same_place(&second, &first))
            sure = keep_best(ref, probe, &second, &best, &win);
    }
    /* Thumbnails of one shape are scored in place too: an overlay (a logo
     * box, a caption) pulls the search above off by a pixel or a few
     * percent of scale, where its blocks no longer agree. */
    if (full[0].w == full[1].w && full[0].h == full[1].h) {
        placement same = {0, 0, 1.0f, 0.0f, 0.5f * (float)full[1].w, 0.5f * (float)full[1].h, 0.0f};
        float s = block_score(&full[1], &full[0], &same);
        if (s > best) {
            best = s;
            win = same;
        }
    }
    if (match)
        *match = (dg_verify_match){best, win.dir, win.mirror, win.s, win.deg, win.tx, win.ty,
                                   detail_diff(&full[1 - win.dir], &full[win.dir], &win)};
    return best;
}
