/* test_filter.c - the content filter and the re-weighting (filter.c):
 * class lists, the filter decision against a naive reference, a planted
 * distribution shift that the weights must undo, and weights that are
 * bit-identical whatever the number of ranks. */
#include "input/filter.h"
#include "mpi_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 32

static double gauss(uint64_t seed, uint64_t i)
{
    double u1 = dg_unit(dg_mix64(seed ^ dg_mix64(2 * i))) + 1e-300;
    double u2 = dg_unit(dg_mix64(seed ^ dg_mix64(2 * i + 1)));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* ---- filter ------------------------------------------------------------- */

static char classes[5][32] = {"Drawing", "Hentai", "Neutral", "Porn", "Sexy"};

static void class_list_names_classes_without_case(void **state)
{
    (void)state;
    dg_err err;
    unsigned mask = 0;
    assert_int_equal(dg_filter_class_mask("Hentai,porn, SEXY", classes, 5, &mask, &err), DG_OK);
    assert_int_equal(mask, (1u << 1) | (1u << 3) | (1u << 4));
    assert_int_equal(dg_filter_class_mask("Drawing", classes, 5, &mask, &err), DG_OK);
    assert_int_equal(mask, 1u);
    assert_int_equal(dg_filter_class_mask("Porn,Violence", classes, 5, &mask, &err), DG_FAIL);
    assert_non_null(strstr(err.msg, "Violence"));
    assert_int_equal(dg_filter_class_mask("Porn,,Sexy", classes, 5, &mask, &err), DG_FAIL);
}

static void filter_matches_naive_reference(void **state)
{
    (void)state;
    enum { N = 500 };
    float probs[N * 5], score[N];
    int8_t status[N], filtered[N], before[N];
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int k = 0; k < 5; k++)
            s += probs[i * 5 + k] = (float)dg_unit(dg_mix64((uint64_t)i * 5 + k));
        for (int k = 0; k < 5; k++)
            probs[i * 5 + k] = (float)(probs[i * 5 + k] / s);
        before[i] = status[i] = i % 17 == 0 ? DG_ST_CORRUPT : (i % 13 == 0 ? DG_ST_OK_WITH_WARNING : DG_ST_OK);
    }
    unsigned mask = (1u << 3) | (1u << 4);
    float cut = 0.4f - 0.05f;
    int64_t n = dg_filter_apply(probs, 5, mask, cut, N, status, score, filtered);
    int64_t expect = 0;
    for (int i = 0; i < N; i++) {
        float s = (float)((double)probs[i * 5 + 3] + probs[i * 5 + 4]);
        int usable = before[i] != DG_ST_CORRUPT;
        int out = usable && s >= cut;
        expect += out;
        assert_int_equal(filtered[i], out);
        assert_int_equal(status[i], out ? DG_ST_FILTERED : before[i]);
        if (usable)
            assert_float_equal(score[i], s, 0.0f);
        else
            assert_true(isnan(score[i]));
    }
    assert_int_equal(n, expect);
    assert_true(expect > 50 && expect < 450);
}

/* ---- re-weighting ------------------------------------------------------- */

/* A corpus of two kinds, A (70%) and B (30%), around orthogonal directions
 * with a within-kind spread.  The filter removes mostly B: with `sharp`, as a
 * function of the embedding (the B items on one side of a within-kind
 * direction, about 60% of B, and the A items far out along another, about
 * 5% of A); else at random within each kind (65% of B, 5% of A), as when
 * the filter's score depends on more than the embedding shows. */
typedef struct corpus {
    int64_t n_total, lo, n;
    float *x;
    int8_t *usable, *kept, *is_b;
} corpus;

static void make_corpus(corpus *c, int64_t n_total, int rank, int size, int sharp)
{
    c->n_total = n_total;
    c->lo = dg_range_lo(n_total, size, rank);
    c->n = dg_range_lo(n_total, size, rank + 1) - c->lo;
    c->x = calloc((size_t)(c->n ? c->n : 1) * D, sizeof(float));
    c->usable = calloc((size_t)(c->n ? c->n : 1), 1);
    c->kept = calloc((size_t)(c->n ? c->n : 1), 1);
    c->is_b = calloc((size_t)(c->n ? c->n : 1), 1);
    for (int64_t i = 0; i < c->n; i++) {
        uint64_t id = (uint64_t)(c->lo + i);
        float *x = c->x + i * D;
        int b = dg_unit(dg_mix64(id ^ 0xb)) < 0.3;
        double ss = 0;
        for (int j = 0; j < D; j++) {
            x[j] = (float)(0.7 * gauss(77, id * D + j) / sqrt(D) + (j == (b ? 1 : 0)));
            ss += (double)x[j] * x[j];
        }
        for (int j = 0; j < D; j++)
            x[j] = (float)(x[j] / sqrt(ss));
        c->is_b[i] = (int8_t)b;
        c->usable[i] = id % 50 != 7; /* a few failed items take no part */
        double u = dg_unit(dg_mix64(id ^ 0xf17e));
        if (sharp)
            c->kept[i] = b ? x[2] < -0.03f : x[3] < 0.16f;
        else
            c->kept[i] = u >= (b ? 0.65 : 0.05);
    }
}

static void corpus_free(corpus *c)
{
    free(c->x);
    free(c->usable);
    free(c->kept);
    free(c->is_b);
}

/* B's share before filtering, among the kept, and among the kept weighted. */
static void shares(const corpus *c, const float *w, double out[3])
{
    double loc[6] = {0}, glob[6];
    for (int64_t i = 0; i < c->n; i++) {
        if (!c->usable[i])
            continue;
        loc[0] += 1, loc[1] += c->is_b[i];
        if (c->kept[i]) {
            loc[2] += 1, loc[3] += c->is_b[i];
            loc[4] += w[i], loc[5] += c->is_b[i] ? w[i] : 0.0;
        }
    }
    MPI_Allreduce(loc, glob, 6, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    out[0] = glob[1] / glob[0];
    out[1] = glob[3] / glob[2];
    out[2] = glob[5] / glob[4];
}

static const dg_reweight_params defaults = {1000, 0.0, 50.0}; /* configs/default.ini */

/* Runs the re-weighting on the planted corpus; sh gets B's shares. */
static int planted(int sharp, double sh[3], dg_reweight_stats *st)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    corpus c;
    make_corpus(&c, 4000, rank, size, sharp);
    float *w = calloc(4000, sizeof(float));
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_err err;
    int ok = dg_reweight(&ctx, c.x, c.n, D, c.usable, c.kept, &defaults, w, st, &err) == DG_OK;
    shares(&c, w, sh);
    if (rank == 0)
        printf("%s filter: B share %.3f before the filter, %.3f kept, %.3f kept and weighted; loss %.4f -> %.4f; "
               "mean shift %.4f -> %.4f\n", sharp ? "sharp" : "random", sh[0], sh[1], sh[2], st->loss_first,
               st->loss_last, st->shift_unweighted, st->shift_weighted);
    ok = ok && sh[1] < 0.7 * sh[0]; /* the filter did shift the corpus */
    double mean = 0, cnt = 0;
    for (int64_t i = 0; i < c.n; i++) {
        ok = ok && (c.usable[i] && c.kept[i] ? w[i] > 0 : w[i] == 0.0f);
        if (c.usable[i] && c.kept[i])
            mean += w[i], cnt += 1;
    }
    double g[2] = {mean, cnt};
    MPI_Allreduce(MPI_IN_PLACE, g, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    ok = ok && fabs(g[0] / g[1] - 1.0) < 1e-4 && st->max_weight <= defaults.max_weight + 1e-6;
    free(w);
    corpus_free(&c);
    return ok;
}

static void weights_restore_planted_shift(void **state)
{
    (void)state;
    double sh[3];
    dg_reweight_stats st;
    int ok = planted(0, sh, &st);
    ok = ok && fabs(sh[2] - sh[0]) <= 0.10 * sh[0]; /* the weights undo it within 10% */
    ok = ok && st.shift_weighted < 0.25 * st.shift_unweighted;
    assert_true(dgt_all_ranks(ok));
}

/* A filter the regression can reproduce leaves kept items with p(kept)
 * near 1 where it is sure: weights cannot refill what the filter emptied,
 * but they still undo most of the kind-level shift. */
static void sharp_filter_shift_mostly_undone(void **state)
{
    (void)state;
    double sh[3];
    dg_reweight_stats st;
    int ok = planted(1, sh, &st);
    ok = ok && fabs(sh[2] - sh[0]) <= 0.4 * fabs(sh[1] - sh[0]);
    ok = ok && st.shift_weighted < 0.5 * st.shift_unweighted;
    assert_true(dgt_all_ranks(ok));
}

/* The same weights from the world split into `size` ranks and from rank 0
 * alone holding every item. */
static void weights_equal_for_any_rank_count(void **state)
{
    (void)state;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    corpus mine, all;
    make_corpus(&mine, 1500, rank, size, 1);
    make_corpus(&all, 1500, 0, 1, 1);
    float *w = calloc(1500, sizeof(float)), *w1 = calloc(1500, sizeof(float));
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD), self = dgt_quiet_ctx(MPI_COMM_SELF);
    dg_err err;
    dg_reweight_stats st, st1;
    dg_reweight_params p = {80, 1e-2, 20.0};
    int ok = dg_reweight(&ctx, mine.x, mine.n, D, mine.usable, mine.kept, &p, w, &st, &err) == DG_OK;
    ok = ok && dg_reweight(&self, all.x, all.n, D, all.usable, all.kept, &p, w1, &st1, &err) == DG_OK;
    ok = ok && memcmp(w, w1 + mine.lo, sizeof(float) * (size_t)mine.n) == 0;
    ok = ok && st.loss_last == st1.loss_last && st.shift_weighted == st1.shift_weighted;
    free(w), free(w1);
    corpus_free(&mine), corpus_free(&all);
    assert_true(dgt_all_ranks(ok));
}

static void nothing_filtered_gives_unit_weights(void **state)
{
    (void)state;
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    corpus c;
    make_corpus(&c, 300, rank, size, 0);
    for (int64_t i = 0; i < c.n; i++)
        c.kept[i] = 1;
    float *w = calloc(300, sizeof(float));
    dg_ctx ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    dg_err err;
    dg_reweight_stats st;
    int ok = dg_reweight(&ctx, c.x, c.n, D, c.usable, c.kept, &defaults, w, &st, &err) == DG_OK;
    for (int64_t i = 0; i < c.n; i++)
        ok = ok && w[i] == (c.usable[i] ? 1.0f : 0.0f);
    ok = ok && st.shift_unweighted == 0.0 && st.shift_weighted == 0.0;
    free(w);
    corpus_free(&c);
    assert_true(dgt_all_ranks(ok));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(class_list_names_classes_without_case),
        cmocka_unit_test(filter_matches_naive_reference),
        cmocka_unit_test(weights_restore_planted_shift),
        cmocka_unit_test(sharp_filter_shift_mostly_undone),
        cmocka_unit_test(weights_equal_for_any_rank_count),
        cmocka_unit_test(nothing_filtered_gives_unit_weights),
    };
    return DGT_RUN(argc, argv, tests, NULL, NULL);
}
