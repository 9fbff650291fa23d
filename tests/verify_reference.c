/* verify_reference.c - the verifier as it was before it was made fast
 * (graph/verify.c at e685b6d, unchanged but for this comment, the
 * function's name and the in-place placement added since): test_verify checks that dg_verify_score gives the very
 * same scores on real pairs.  See graph/verify.c for the method. */
#include "verify_reference.h"

#include <math.h>
#include <string.h>

#include "input/signature.h"

#define SIDE DG_SIG_SIDE
#define OUTSIDE 96.0f /* coarse cost of a probe sample off the reference (values 0..255) */
#define DETAIL_R 3 /* the detail plane subtracts the mean of (2 DETAIL_R + 1)^2 pixels */
#define SLACK 2.0f    /* full-level pixels a placement may stick out */
#define N_REFINE 2
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
 * little, the local contrast stays. */
static void detail(plane *p)
{
    float sum = 0.0f;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            float acc = 0.0f;
            int n = 0;
            for (int yy = y - DETAIL_R; yy <= y + DETAIL_R; yy++)
                for (int xx = x - DETAIL_R; xx <= x + DETAIL_R; xx++)
                    if (yy >= 0 && yy < p->h && xx >= 0 && xx < p->w) {
                        acc += p->v[yy * p->w + xx];
                        n++;
                    }
            float d = p->v[y * p->w + x] - acc / (float)n;
            p->d[y * p->w + x] = d;
            sum += fabsf(d);
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
    float rad = pl->deg * (float)(M_PI / 180.0), c = cosf(rad) * pl->s, sn = sinf(rad) * pl->s;
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

/* Bilinear value of r at (x, y); 0 when the point is off the plane. */
static inline int sample(const plane *r, const float *v, float x, float y, float *out)
{
    if (x < -0.5f || y < -0.5f || x > (float)r->w - 0.5f || y > (float)r->h - 0.5f)
        return 0;
    x = x < 0.0f ? 0.0f : x > (float)(r->w - 1) ? (float)(r->w - 1) : x;
    y = y < 0.0f ? 0.0f : y > (float)(r->h - 1) ? (float)(r->h - 1) : y;
    int ix = (int)x, iy = (int)y;
    ix = ix >= r->w - 1 ? (r->w > 1 ? r->w - 2 : 0) : ix;
    iy = iy >= r->h - 1 ? (r->h > 1 ? r->h - 2 : 0) : iy;
    float fx = x - (float)ix, fy = y - (float)iy;
    const float *p = v + iy * r->w + ix;
    int dx = r->w > 1, dy = r->h > 1 ? r->w : 0;
    float top = p[0] + fx * (p[dx] - p[0]), bottom = p[dy] + fx * (p[dy + dx] - p[dy]);
    *out = top + fy * (bottom - top);
    return 1;
}

/* Mean cost of the probe's samples (every stride-th pixel) under t. */
static float cost(const plane *ref, const plane *probe, const affine *t, int stride, int use_detail)
{
    float sum = 0.0f;
    int n = 0;
    for (int y = stride / 2; y < probe->h; y += stride)
        for (int x = stride / 2; x < probe->w; x += stride) {
            float rv, X = t->x0 + (float)x * t->dxx + (float)y * t->dxy, Y = t->y0 + (float)x * t->dyx + (float)y * t->dyy;
            float pv = (use_detail ? probe->d : probe->v)[y * probe->w + x];
            if (!sample(ref, use_detail ? ref->d : ref->v, X, Y, &rv))
                sum += use_detail ? fabsf(pv) + ref->d_mean : OUTSIDE;
            else
                sum += fabsf(rv - pv);
            n++;
        }
    return n ? sum / (float)n : INFINITY;
}

/* A placement's cost at full (f = 1, stride 2) or half level (f = 2). */
static float cost_at(const plane *ref, const plane *probe, int pw, int ph, const placement *pl, float f, int stride)
{
    affine t = map_of(pl, pw, ph, f);
    return cost(ref, probe, &t, stride, f == 1.0f);
}

/* Step 1 for one direction and mirror: the cheapest placement. */
static placement coarse(const plane *ref4, const plane *probe4, int rw, int rh, int pw, int ph, int dir, int mirror)
{
    placement best = {.dir = dir, .mirror = mirror, .cost = INFINITY};
    for (size_t k = 0; k < sizeof SCALES / sizeof SCALES[0]; k++) {
        float s = SCALES[k], ew = s * (float)pw, eh = s * (float)ph;
        float xlo = ew <= rw ? 0.5f * ew : 0.5f * (float)rw, xhi = ew <= rw ? (float)rw - 0.5f * ew : xlo;
        float ylo = eh <= rh ? 0.5f * eh : 0.5f * (float)rh, yhi = eh <= rh ? (float)rh - 0.5f * eh : ylo;
        for (float ty = ylo - SLACK; ty <= yhi + SLACK + 1e-3f; ty += COARSE_STEP)
            for (float tx = xlo - SLACK; tx <= xhi + SLACK + 1e-3f; tx += COARSE_STEP) {
                placement pl = {dir, mirror, s, 0.0f, tx, ty, 0.0f};
                pl.cost = cost_at(ref4, probe4, pw, ph, &pl, 4.0f, 1);
                if (pl.cost < best.cost)
                    best = pl;
            }
    }
    return best;
}

/* A pattern search at full level: each of `moves` steps (+-tx, +-ty,
 * +-scale, +-rotation) taken while it lowers the cost, at most 4 passes a
 * round, the steps halving every round. */
static placement pattern_search(const plane *ref, const plane *probe, placement pl, int rounds, int moves)
{
    float step_t = 1.0f, step_s = 0.04f, step_a = 2.0f;
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
                q.cost = cost_at(ref, probe, probe->w, probe->h, &q, 1.0f, FINE_STRIDE);
                if (q.cost < pl.cost) {
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

/* Step 2, one path: rotations (at the coarse scale and at the inscribed
 * rectangle's), then a pattern search at full level; with
 * unrotated_first, one round of the search over tx, ty and scale before
 * the rotations.  Both paths are scored. */
static placement refine(const plane *ref, const plane *probe, placement pl, int unrotated_first)
{
    pl.cost = cost_at(ref, probe, probe->w, probe->h, &pl, 1.0f, FINE_STRIDE);
    if (unrotated_first)
        pl = pattern_search(ref, probe, pl, 1, 6);
    placement start = pl;
    float aspect = probe->w >= probe->h ? (float)probe->w / (float)probe->h : (float)probe->h / (float)probe->w;
    for (size_t k = 0; k < sizeof ANGLES / sizeof ANGLES[0]; k++)
        for (int cropped = 0; cropped < 2; cropped++) {
            placement q = start;
            q.deg = ANGLES[k];
            if (cropped) { /* the largest rectangle of the probe's shape inside it turned by deg */
                float rad = fabsf(q.deg) * (float)(M_PI / 180.0);
                q.s *= 1.0f / (cosf(rad) + aspect * sinf(rad));
            }
            q.cost = cost_at(ref, probe, probe->w, probe->h, &q, 1.0f, FINE_STRIDE);
            if (q.cost < pl.cost)
                pl = q;
        }
    return pattern_search(ref, probe, pl, 3, 8);
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

/* Step 3: blocks off the reference weigh 1 and disagree. */
static float block_score(const plane *ref, const plane *probe, const placement *pl)
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    int bw = probe->w / BLOCK, bh = probe->h / BLOCK;
    if (bw < 1 || bh < 1)
        return 0.0f;
    int ox = (probe->w - bw * BLOCK) / 2, oy = (probe->h - bh * BLOCK) / 2;
    float agree = 0.0f, total = 0.0f;
    for (int by = 0; by < bh; by++)
        for (int bx = 0; bx < bw; bx++) {
            float p[BLOCK * BLOCK], r[BLOCK * BLOCK], w = 1.0f;
            int inside = 1, n = 0;
            for (int y = oy + by * BLOCK; inside && y < oy + (by + 1) * BLOCK; y++)
                for (int x = ox + bx * BLOCK; inside && x < ox + (bx + 1) * BLOCK; x++) {
                    float X = t.x0 + (float)x * t.dxx + (float)y * t.dxy, Y = t.y0 + (float)x * t.dyx + (float)y * t.dyy;
                    inside = sample(ref, ref->v, X, Y, &r[n]);
                    p[n++] = probe->v[y * probe->w + x];
                }
            if (inside)
                agree += block_agreement(p, r, n, &w);
            total += w;
        }
    return agree / total;
}

/* The detail difference at a placement, plainly: sum |probe detail -
 * reference detail| over sum (|probe detail| + |reference detail|) over the
 * probe's pixels on the reference; 1 without overlap, 0 when both are flat. */
static float detail_diff(const plane *ref, const plane *probe, const placement *pl)
{
    affine t = map_of(pl, probe->w, probe->h, 1.0f);
    float diff = 0.0f, mass = 0.0f;
    int on = 0;
    for (int y = 0; y < probe->h; y++)
        for (int x = 0; x < probe->w; x++) {
            float r, p = probe->d[y * probe->w + x];
            float X = t.x0 + (float)x * t.dxx + (float)y * t.dxy, Y = t.y0 + (float)x * t.dyx + (float)y * t.dyy;
            if (!sample(ref, ref->d, X, Y, &r))
                continue;
            diff += fabsf(p - r);
            mass += fabsf(p) + fabsf(r);
            on++;
        }
    return on == 0 ? 1.0f : mass > 0.0f ? diff / mass : 0.0f;
}

float verify_reference_score(const uint8_t *a, const uint8_t *b, dg_verify_match *match)
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
    int sure = 0;
    for (int i = 0; i < N_REFINE && !sure; i++)
        for (int unrotated_first = 0; unrotated_first < 2 && !sure; unrotated_first++) {
            const plane *ref = &full[1 - cand[i].dir], *probe = &full[cand[i].dir];
            placement pl = refine(ref, probe, cand[i], unrotated_first);
            float s = block_score(ref, probe, &pl);
            if (s > best) {
                best = s;
                if (match)
                    *match = (dg_verify_match){s, pl.dir, pl.mirror, pl.s, pl.deg, pl.tx, pl.ty, 0.0f};
                /* added in session 11: a copy beyond doubt ends the search */
                sure = s >= SURE_SCORE && detail_diff(ref, probe, &pl) <= SURE_DETAIL;
            }
        }
    if (full[0].w == full[1].w && full[0].h == full[1].h) { /* added at DG_DESC_VERSION 5: one shape, in place */
        placement pl = {0, 0, 1.0f, 0.0f, 0.5f * (float)full[1].w, 0.5f * (float)full[1].h, 0.0f};
        float s = block_score(&full[1], &full[0], &pl);
        if (s > best) {
            best = s;
            if (match)
                *match = (dg_verify_match){s, pl.dir, pl.mirror, pl.s, pl.deg, pl.tx, pl.ty, 0.0f /* not compared */};
        }
    }
    return best;
}
