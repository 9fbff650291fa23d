/* kmeans_seed.c - the initial centroids of the k-means training, with the
 * work spread over the ranks (see kmeans_seed.h).
 *
 * Distances are exact integers on coordinates quantised to 2^14, so a
 * point's squared distance to a seed is 0 iff the vectors are equal and
 * every sum below is exact.  The weighted k-means++ draw is the one place
 * that needs all ranks at once: each rank holds a contiguous run of the
 * points in global order and their scores (weight x squared distance); the
 * ranks' score totals are gathered, the draw picks a rank and a position
 * within it, and the chosen point is broadcast.  This is the same draw a
 * single process makes over all points, so the seeds do not depend on the
 * rank count; a rank does points/P of the scoring per seed.
 */
#include "search/kmeans_seed.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEED_SCALE 16384.0 /* 2^14: integer coordinates */
#define POOL_PER_K 4
#define POOL_MIN 1024
#define KPP_SALT 0x6b6d65616e732b2bULL
#define PAR_SALT 0x6b6d65616e737c7cULL
#define PAR_ROUNDS 5         /* k-means|| rounds (Bahmani et al. find ~5 enough) */
#define PAR_EXTRA_ROUNDS 20  /* further rounds while there are fewer candidates than K */
#define PAR_OVERSAMPLING 2.0 /* expected candidates per centroid over the PAR_ROUNDS rounds */

/* ---- exact integer distances ------------------------------------------- */

static void quantize(const float *x, int64_t n, int d, int16_t *q, int64_t *qn)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t ss = 0;
        for (int j = 0; j < d; j++) {
            size_t at = (size_t)i * (size_t)d + (size_t)j;
            q[at] = (int16_t)lrint(x[at] * SEED_SCALE);
            ss += (int64_t)q[at] * q[at];
        }
        qn[i] = ss;
    }
}

/* |partial sums| <= |a||b| <= ~2^28 for unit vectors at SEED_SCALE: no
 * int32 overflow. */
static int32_t dot_int16(const int16_t *a, const int16_t *b, int d)
{
    int32_t s = 0;
    for (int j = 0; j < d; j++)
        s += (int32_t)a[j] * (int32_t)b[j];
    return s;
}

/* Uniform integer in [0, bound) from the next PRNG state. */
static int64_t draw(uint64_t *state, int64_t bound)
{
    *state = dg_mix64(*state);
    return (int64_t)(((unsigned __int128)*state * (uint64_t)bound) >> 64);
}

static int64_t pick_weighted(const int64_t *w, int64_t n, int64_t target)
{
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++) {
        acc += w[i];
        if (acc > target)
            return i;
    }
    return n - 1;
}

/* ---- points scored against the seeds chosen so far --------------------- */

typedef struct seed_set {
    int64_t n;
    int d;
    const float *vec;  /* n x d: this rank's points, in global order */
    const int64_t *w;  /* n weights; NULL: every weight 1 */
    int16_t *q;        /* n x d quantised */
    int64_t *qn;       /* n squared norms of q */
    int64_t *mind;     /* squared distance to the nearest seed so far */
    int32_t *near;     /* that seed's number (k-means|| candidates) */
    int64_t *score;    /* w x mind: the weight of the next draw */
} seed_set;

static void set_free(seed_set *t)
{
    free(t->q);
    free(t->qn);
    free(t->mind);
    free(t->near);
    free(t->score);
}

static int set_init(seed_set *t, const float *vec, int64_t n, int d, const int64_t *w, dg_err *err)
{
    *t = (seed_set){n, d, vec, w, NULL, NULL, NULL, NULL, NULL};
    t->q = dg_alloc((size_t)n * (size_t)d, sizeof(int16_t), err);
    t->qn = dg_alloc((size_t)n, sizeof(int64_t), err);
    t->mind = dg_alloc((size_t)n, sizeof(int64_t), err);
    t->near = dg_alloc((size_t)n, sizeof(int32_t), err);
    t->score = dg_alloc((size_t)n, sizeof(int64_t), err);
    if (!t->q || !t->qn || !t->mind || !t->near || !t->score)
        return DG_FAIL;
    quantize(vec, n, d, t->q, t->qn);
    for (int64_t i = 0; i < n; i++) {
        t->mind[i] = INT64_MAX;
        t->near[i] = -1;
        t->score[i] = w ? w[i] : 1; /* before the first seed: drawn by weight alone */
    }
    return DG_OK;
}

/* Lowers the points' distances with the new seeds c (nc x d quantised,
 * numbered from `first`); returns the sum of the scores. */
static int64_t set_update(seed_set *t, const int16_t *c, const int64_t *cn, int64_t nc, int32_t first)
{
    int d = t->d;
    int64_t total = 0;
    for (int64_t i = 0; i < t->n; i++) {
        const int16_t *qi = t->q + (size_t)i * (size_t)d;
        for (int64_t j = 0; j < nc; j++) {
            int64_t d2 = t->qn[i] + cn[j] - 2 * (int64_t)dot_int16(qi, c + (size_t)j * (size_t)d, d);
            if (d2 < t->mind[i]) {
                t->mind[i] = d2;
                t->near[i] = first + (int32_t)j;
            }
        }
        t->score[i] = (t->w ? t->w[i] : 1) * t->mind[i];
        total += t->score[i];
    }
    return total;
}

/* k-means++ by weight x squared distance over the points of every rank's
 * set (n_global of them, for the message).  Collective. */
static int kpp_spread(const dg_ctx *ctx, seed_set *t, int64_t k, uint64_t seed, const char *what,
                      int64_t n_global, float *centroids, dg_err *err)
{
    int d = t->d;
    int64_t *totals = dg_alloc((size_t)ctx->size, sizeof(int64_t), err);
    int16_t *qc = dg_alloc((size_t)d, sizeof(int16_t), err);
    if (dg_agree(ctx, totals && qc ? DG_OK : DG_FAIL, err) != DG_OK) {
        free(totals);
        free(qc);
        return DG_FAIL;
    }
    int64_t mine = 0, qcn;
    for (int64_t i = 0; i < t->n; i++)
        mine += t->score[i];
    uint64_t state = seed ^ KPP_SALT;
    int rc = DG_OK;
    for (int64_t c = 0; c < k; c++) {
        MPI_Allgather(&mine, 1, MPI_INT64_T, totals, 1, MPI_INT64_T, ctx->comm);
        int64_t total = 0;
        for (int r = 0; r < ctx->size; r++)
            total += totals[r];
        if (total == 0) {
            rc = dg_fail(err, "k-means: the %s of %lld points has only %lld distinct vectors, fewer than "
                         "K=%lld; lower cluster.k", what, (long long)n_global, (long long)c, (long long)k);
            break;
        }
        int64_t target = draw(&state, total);
        int owner = 0;
        while (target >= totals[owner]) /* the rank whose run of scores holds target */
            target -= totals[owner++];
        float *row = centroids + (size_t)c * (size_t)d;
        if (ctx->rank == owner)
            memcpy(row, t->vec + (size_t)pick_weighted(t->score, t->n, target) * (size_t)d,
                   sizeof(float) * (size_t)d);
        MPI_Bcast(row, d, MPI_FLOAT, owner, ctx->comm);
        if (c + 1 == k)
            break;
        quantize(row, 1, d, qc, &qcn);
        mine = set_update(t, qc, &qcn, 1, (int32_t)c);
    }
    free(totals);
    free(qc);
    return rc;
}

/* ---- k-means++ over the seeding pool ------------------------------------ */

/* The pool-th smallest sample hash over all ranks, by bisection on the hash
 * value (hashes are distinct: dg_mix64 is a bijection). */
static uint64_t pool_threshold(const dg_ctx *ctx, const dg_sample *s, int64_t pool)
{
    if (pool >= s->total)
        return UINT64_MAX;
    uint64_t lo = 0, hi = UINT64_MAX;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int64_t below = 0;
        for (int64_t i = 0; i < s->n; i++)
            below += s->hash[i] <= mid;
        MPI_Allreduce(MPI_IN_PLACE, &below, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
        if (below >= pool)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* This rank's pool points (hash <= thr), in sample order. */
static int pool_local(const dg_sample *s, uint64_t thr, float **vec, int64_t *mine, dg_err *err)
{
    int d = s->d;
    *mine = 0;
    for (int64_t i = 0; i < s->n; i++)
        *mine += s->hash[i] <= thr;
    *vec = dg_alloc((size_t)*mine * (size_t)d, sizeof(float), err);
    if (!*vec)
        return DG_FAIL;
    for (int64_t i = 0, at = 0; i < s->n; i++)
        if (s->hash[i] <= thr)
            memcpy(*vec + (size_t)at++ * (size_t)d, s->vec + (size_t)i * (size_t)d, sizeof(float) * (size_t)d);
    return DG_OK;
}

static int seed_kmeanspp(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p, float *centroids,
                         dg_err *err)
{
    int64_t pool = POOL_PER_K * p->k > POOL_MIN ? POOL_PER_K * p->k : POOL_MIN;
    if (pool > s->total)
        pool = s->total;
    uint64_t thr = pool_threshold(ctx, s, pool);
    float *vec = NULL;
    int64_t mine = 0;
    seed_set t = {0};
    int rc = dg_agree(ctx, pool_local(s, thr, &vec, &mine, err), err);
    if (rc == DG_OK)
        rc = dg_agree(ctx, set_init(&t, vec, mine, s->d, NULL, err), err);
    if (rc == DG_OK)
        rc = kpp_spread(ctx, &t, p->k, p->seed, "seeding pool", pool, centroids, err);
    set_free(&t);
    free(vec);
    return rc;
}

/* ---- k-means|| ------------------------------------------------------------ */

/* Candidates, the same on every rank, in the order they were found (within
 * a round: global id order). */
typedef struct candidates {
    int64_t n, cap;
    float *vec;
} candidates;

/* The counter-based uniform of one sample point in one round: it depends on
 * (seed, round, global id) only, never on which rank draws it. */
static double par_unit(uint64_t seed, int round, int64_t id)
{
    return dg_unit(dg_mix64(dg_mix64(seed ^ PAR_SALT ^ (uint64_t)round) ^ (uint64_t)id));
}

/* Marks this rank's points taken in `round`: in round 0 the sample point of
 * smallest hash (a uniform choice), later each point with probability
 * min(1, l d^2 / phi). */
static int64_t par_select(const dg_sample *s, const seed_set *t, uint64_t seed, int round, double l,
                          int64_t phi, uint64_t hmin, int64_t *sel)
{
    int64_t n = 0;
    for (int64_t i = 0; i < s->n; i++) {
        int take = round == 0 ? s->hash[i] == hmin
                              : par_unit(seed, round, s->id[i]) * (double)phi < l * (double)t->mind[i];
        if (take)
            sel[n++] = i;
    }
    return n;
}

/* Appends every rank's selected points to the candidates (rank order = id
 * order).  Collective. */
static int par_gather(const dg_ctx *ctx, const dg_sample *s, const int64_t *sel, int64_t nsel, candidates *cd,
                      int64_t *added, dg_err *err)
{
    int d = s->d;
    int *count = dg_alloc((size_t)ctx->size, sizeof(int), err);
    int *displ = dg_alloc((size_t)ctx->size, sizeof(int), err);
    float *mine = dg_alloc((size_t)nsel * (size_t)d, sizeof(float), err);
    int rc = dg_agree(ctx, count && displ && mine ? DG_OK : DG_FAIL, err);
    int n = (int)nsel;
    if (rc == DG_OK)
        MPI_Allgather(&n, 1, MPI_INT, count, 1, MPI_INT, ctx->comm);
    int64_t total = 0;
    for (int r = 0; rc == DG_OK && r < ctx->size; r++)
        total += count[r];
    if (rc == DG_OK && (cd->n + total) * d > INT_MAX)
        rc = dg_fail(err, "k-means||: %lld candidates of %d values are too many; lower cluster.k or use "
                     "cluster.seeding = kmeans++", (long long)(cd->n + total), d);
    if (rc == DG_OK && cd->n + total > cd->cap) {
        int64_t cap = 2 * (cd->n + total);
        float *grown = realloc(cd->vec, sizeof(float) * (size_t)cap * (size_t)d);
        rc = grown ? DG_OK : dg_failc(err, DG_E_MEMORY, "k-means||: out of memory for %lld candidates", (long long)cap);
        if (grown) {
            cd->vec = grown;
            cd->cap = cap;
        }
    }
    rc = dg_agree(ctx, rc, err);
    if (rc == DG_OK) {
        for (int64_t i = 0; i < nsel; i++)
            memcpy(mine + (size_t)i * (size_t)d, s->vec + (size_t)sel[i] * (size_t)d, sizeof(float) * (size_t)d);
        int at = 0;
        for (int r = 0; r < ctx->size; r++) {
            count[r] *= d;
            displ[r] = at;
            at += count[r];
        }
        MPI_Allgatherv(mine, n * d, MPI_FLOAT, cd->vec + (size_t)cd->n * (size_t)d, count, displ, MPI_FLOAT,
                       ctx->comm);
        *added = total;
    }
    free(count);
    free(displ);
    free(mine);
    return rc;
}

/* Scores this rank's points against the candidates cd[first..]; returns
 * phi, the sum of squared distances over all ranks.  Collective. */
static int par_score(const dg_ctx *ctx, seed_set *t, const candidates *cd, int64_t first, int64_t *phi,
                     dg_err *err)
{
    int64_t nc = cd->n - first;
    int16_t *q = dg_alloc((size_t)nc * (size_t)t->d, sizeof(int16_t), err);
    int64_t *qn = dg_alloc((size_t)nc, sizeof(int64_t), err);
    int rc = dg_agree(ctx, q && qn ? DG_OK : DG_FAIL, err);
    if (rc == DG_OK) {
        quantize(cd->vec + (size_t)first * (size_t)t->d, nc, t->d, q, qn);
        *phi = set_update(t, q, qn, nc, (int32_t)first);
        MPI_Allreduce(MPI_IN_PLACE, phi, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    }
    free(q);
    free(qn);
    return rc;
}

/* The k-means|| rounds: candidates on every rank and, for each, the number
 * of sample points nearest to it (over all ranks).  Collective. */
static int par_rounds(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p, candidates *cd,
                      int64_t **weight, dg_err *err)
{
    seed_set t = {0};
    int64_t *sel = dg_alloc((size_t)s->n, sizeof(int64_t), err);
    int rc = dg_agree(ctx, sel ? set_init(&t, s->vec, s->n, s->d, NULL, err) : DG_FAIL, err);
    uint64_t hmin = UINT64_MAX;
    for (int64_t i = 0; i < s->n; i++)
        hmin = s->hash[i] < hmin ? s->hash[i] : hmin;
    if (rc == DG_OK)
        MPI_Allreduce(MPI_IN_PLACE, &hmin, 1, MPI_UINT64_T, MPI_MIN, ctx->comm);
    double l = PAR_OVERSAMPLING * (double)p->k / PAR_ROUNDS;
    int64_t phi = 1;
    for (int round = 0; rc == DG_OK && phi > 0 && (round <= PAR_ROUNDS || (cd->n < p->k && round <= PAR_ROUNDS +
                                                                                                   PAR_EXTRA_ROUNDS));
         round++) {
        int64_t first = cd->n, added = 0;
        int64_t nsel = par_select(s, &t, p->seed, round, l, phi, hmin, sel);
        rc = par_gather(ctx, s, sel, nsel, cd, &added, err);
        if (rc == DG_OK) {
            cd->n += added;
            rc = par_score(ctx, &t, cd, first, &phi, err);
        }
    }
    if (rc == DG_OK) {
        *weight = dg_calloc((size_t)cd->n, sizeof(int64_t), err);
        rc = dg_agree(ctx, *weight ? DG_OK : DG_FAIL, err);
    }
    if (rc == DG_OK) {
        for (int64_t i = 0; i < s->n; i++)
            (*weight)[t.near[i]]++;
        MPI_Allreduce(MPI_IN_PLACE, *weight, (int)cd->n, MPI_INT64_T, MPI_SUM, ctx->comm);
    }
    set_free(&t);
    free(sel);
    return rc;
}

static int seed_kmeans_par(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p, float *centroids,
                           dg_err *err)
{
    candidates cd = {0, 0, NULL};
    int64_t *weight = NULL;
    seed_set t = {0};
    int rc = par_rounds(ctx, s, p, &cd, &weight, err);
    if (rc == DG_OK) {
        /* every rank holds all candidates and scores its contiguous share */
        int64_t lo = dg_range_lo(cd.n, ctx->size, ctx->rank), hi = dg_range_lo(cd.n, ctx->size, ctx->rank + 1);
        rc = dg_agree(ctx, set_init(&t, cd.vec + (size_t)lo * (size_t)s->d, hi - lo, s->d, weight + lo, err), err);
    }
    if (rc == DG_OK) {
        dg_log(ctx, "k-means||: %lld candidates for K=%lld from %lld sample points", (long long)cd.n,
               (long long)p->k, (long long)s->total);
        rc = kpp_spread(ctx, &t, p->k, p->seed, "k-means|| candidates", cd.n, centroids, err);
    }
    set_free(&t);
    free(weight);
    free(cd.vec);
    return rc;
}

int dg_kmeans_seed(const dg_ctx *ctx, const dg_sample *s, const dg_kmeans_params *p, float *centroids,
                   dg_err *err)
{
    if (p->seeding == DG_SEEDING_KMEANS_PAR)
        return seed_kmeans_par(ctx, s, p, centroids, err);
    return seed_kmeanspp(ctx, s, p, centroids, err);
}
