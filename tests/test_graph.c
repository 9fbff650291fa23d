/* test_graph.c - the graph stage under mpirun (1, 2, 4 ranks): edge
 * de-duplication, connected components and the kept item per component,
 * each checked against a naive serial reference.
 *
 * Every rank builds the same global graph from a seed and is dealt a
 * deterministic share of its edges (with duplicates, not necessarily edges
 * it owns).  Checks are reduced over ranks before asserting, so every rank
 * fails the same test and the collectives stay matched (tests/mpi_harness.h).
 */
#include "graph/graph.h"
#include "search/forest.h"
#include "mpi_harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct graph {
    int64_t n;    /* items */
    int64_t m;    /* edges */
    int64_t *a, *b;
} graph;

/* What every test gets: a quiet context on MPI_COMM_WORLD. */
static dg_ctx *ctx_of(void **state)
{
    return *state;
}

static int64_t lo_of(const dg_ctx *ctx, int64_t n)
{
    return dg_range_lo(n, ctx->size, ctx->rank);
}

static int64_t n_of(const dg_ctx *ctx, int64_t n)
{
    return dg_range_lo(n, ctx->size, ctx->rank + 1) - lo_of(ctx, n);
}

static void graph_init(graph *g, int64_t n, int64_t cap)
{
    g->n = n;
    g->m = 0;
    g->a = calloc((size_t)cap + 1, sizeof *g->a);
    g->b = calloc((size_t)cap + 1, sizeof *g->b);
    assert_non_null(g->a);
    assert_non_null(g->b);
}

static void graph_add(graph *g, int64_t a, int64_t b)
{
    g->a[g->m] = a;
    g->b[g->m] = b;
    g->m++;
}

static void graph_free(graph *g)
{
    free(g->a);
    free(g->b);
}

static uint64_t hash2(uint64_t seed, uint64_t x)
{
    return dg_mix64(seed ^ dg_mix64(x));
}

/* The similarity of a pair, the same wherever the pair is found. */
static float sim_of(int64_t a, int64_t b)
{
    int64_t lo = a < b ? a : b, hi = a < b ? b : a;
    return 0.5f + (float)(hash2(7, (uint64_t)(lo * 1000003 + hi)) % 1000) / 2000.0f;
}

/* A random permutation of 0..n-1, the same on every rank. */
static int64_t *permutation(int64_t n, uint64_t seed)
{
    int64_t *p = malloc(((size_t)n + 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(hash2(seed, (uint64_t)i) % (uint64_t)(i + 1));
        int64_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* Deals `copies` copies of every edge to ranks chosen by hashing (seed, edge,
 * copy); endpoint order is flipped on odd copies. */
static void deal_edges(const dg_ctx *ctx, const graph *g, uint64_t seed, int copies, dg_edges *out)
{
    dg_err err;
    memset(out, 0, sizeof *out);
    for (int64_t k = 0; k < g->m; k++)
        for (int c = 0; c < copies; c++) {
            if ((int)(hash2(seed, (uint64_t)(k * 8 + c)) % (uint64_t)ctx->size) != ctx->rank)
                continue;
            int64_t a = c % 2 ? g->b[k] : g->a[k], b = c % 2 ? g->a[k] : g->b[k];
            assert_int_equal(dg_edges_push(out, a, b, sim_of(a, b), &err), DG_OK);
        }
}

static int64_t uf_find(int64_t *parent, int64_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Serial union-find; the root of each set is its lowest id. */
static int64_t *reference_labels(const graph *g)
{
    int64_t *parent = malloc(((size_t)g->n + 1) * sizeof *parent);
    assert_non_null(parent);
    for (int64_t i = 0; i < g->n; i++)
        parent[i] = i;
    for (int64_t k = 0; k < g->m; k++) {
        int64_t ra = uf_find(parent, g->a[k]), rb = uf_find(parent, g->b[k]);
        if (ra < rb)
            parent[rb] = ra;
        else
            parent[ra] = rb;
    }
    for (int64_t i = 0; i < g->n; i++)
        parent[i] = uf_find(parent, i);
    return parent;
}

typedef struct edge_list {
    int64_t m;
    int64_t *src, *dst;
    float *sim;
} edge_list;

static void edge_list_free(edge_list *l)
{
    free(l->src);
    free(l->dst);
    free(l->sim);
}

/* Concatenates every rank's edges, in rank order. */
static edge_list gather_edges(const dg_ctx *ctx, const dg_edges *e)
{
    int mine = (int)e->n;
    int *counts = malloc((size_t)ctx->size * sizeof *counts);
    int *displs = malloc((size_t)ctx->size * sizeof *displs);
    assert_true(counts && displs);
    MPI_Allgather(&mine, 1, MPI_INT, counts, 1, MPI_INT, ctx->comm);
    edge_list l = {0};
    for (int r = 0; r < ctx->size; r++) {
        displs[r] = (int)l.m;
        l.m += counts[r];
    }
    l.src = malloc(((size_t)l.m + 1) * sizeof *l.src);
    l.dst = malloc(((size_t)l.m + 1) * sizeof *l.dst);
    l.sim = malloc(((size_t)l.m + 1) * sizeof *l.sim);
    assert_true(l.src && l.dst && l.sim);
    MPI_Allgatherv(e->src, mine, MPI_INT64_T, l.src, counts, displs, MPI_INT64_T, ctx->comm);
    MPI_Allgatherv(e->dst, mine, MPI_INT64_T, l.dst, counts, displs, MPI_INT64_T, ctx->comm);
    MPI_Allgatherv(e->sim, mine, MPI_FLOAT, l.sim, counts, displs, MPI_FLOAT, ctx->comm);
    free(counts);
    free(displs);
    return l;
}

static int cmp_pair(const void *pa, const void *pb)
{
    const int64_t *a = pa, *b = pb;
    if (a[0] != b[0])
        return (a[0] > b[0]) - (a[0] < b[0]);
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* The graph's edges as (min, max) pairs, sorted and unique: 2 x m int64. */
static int64_t *reference_edges(const graph *g, int64_t *m)
{
    int64_t *p = malloc((2 * (size_t)g->m + 2) * sizeof *p);
    assert_non_null(p);
    for (int64_t k = 0; k < g->m; k++) {
        p[2 * k] = g->a[k] < g->b[k] ? g->a[k] : g->b[k];
        p[2 * k + 1] = g->a[k] < g->b[k] ? g->b[k] : g->a[k];
    }
    qsort(p, (size_t)g->m, 2 * sizeof *p, cmp_pair);
    int64_t out = 0;
    for (int64_t k = 0; k < g->m; k++)
        if (out == 0 || cmp_pair(&p[2 * k], &p[2 * (out - 1)]) != 0) {
            p[2 * out] = p[2 * k];
            p[2 * out + 1] = p[2 * k + 1];
            out++;
        }
    *m = out;
    return p;
}

/* ---- graphs ------------------------------------------------------------- */

/* A path over all n items, visiting them in a random order. */
static void make_chain(graph *g, int64_t n, uint64_t seed)
{
    int64_t *p = permutation(n, seed);
    graph_init(g, n, n);
    for (int64_t i = 0; i + 1 < n; i++)
        graph_add(g, p[i], p[i + 1]);
    free(p);
}

static void make_star(graph *g, int64_t n, int64_t center)
{
    graph_init(g, n, n);
    for (int64_t i = 0; i < n; i++)
        if (i != center)
            graph_add(g, center, i);
}

/* Many small groups (random sizes 1..6, random members) plus random edges
 * inside them; about a sixth of the items are isolated. */
static void make_groups(graph *g, int64_t n, uint64_t seed)
{
    int64_t *p = permutation(n, seed);
    graph_init(g, n, 4 * n);
    for (int64_t at = 0; at < n;) {
        int64_t size = 1 + (int64_t)(hash2(seed + 1, (uint64_t)at) % 6);
        if (at + size > n)
            size = n - at;
        for (int64_t j = 1; j < size; j++) {
            graph_add(g, p[at + j - 1], p[at + j]); /* keeps the group connected */
            int64_t other = (int64_t)(hash2(seed + 2, (uint64_t)(at + j)) % (uint64_t)size);
            if (other != j)
                graph_add(g, p[at + j], p[at + other]);
        }
        at += size;
    }
    free(p);
}

/* ---- dedup -------------------------------------------------------------- */

/* Checks e holds exactly the reference edges of g with src in this rank's
 * range, sorted, and that the concatenation over ranks is the sorted set. */
static int check_dedup(const dg_ctx *ctx, const graph *g, const dg_edges *e)
{
    int ok = 1;
    int64_t lo = lo_of(ctx, g->n), hi = lo + n_of(ctx, g->n);
    for (int64_t i = 0; i < e->n && ok; i++) {
        if (e->src[i] < lo || e->src[i] >= hi)
            ok = dgt_note("edge %lld has src %lld outside [%lld, %lld)", (long long)i, (long long)e->src[i],
                          (long long)lo, (long long)hi);
        else if (i > 0 && cmp_pair((int64_t[]){e->src[i - 1], e->dst[i - 1]}, (int64_t[]){e->src[i], e->dst[i]}) >= 0)
            ok = dgt_note("edges %lld and %lld not strictly increasing", (long long)i - 1, (long long)i);
    }
    edge_list all = gather_edges(ctx, e);
    int64_t m;
    int64_t *ref = reference_edges(g, &m);
    if (ok && all.m != m)
        ok = dgt_note("%lld edges over all ranks, expected %lld", (long long)all.m, (long long)m);
    for (int64_t k = 0; k < m && ok; k++)
        if (all.src[k] != ref[2 * k] || all.dst[k] != ref[2 * k + 1] || all.sim[k] != sim_of(ref[2 * k], ref[2 * k + 1]))
            ok = dgt_note("edge %lld is (%lld, %lld), expected (%lld, %lld)", (long long)k,
                          (long long)all.src[k], (long long)all.dst[k], (long long)ref[2 * k],
                          (long long)ref[2 * k + 1]);
    free(ref);
    edge_list_free(&all);
    return dgt_all_ranks(ok);
}

static void dedup_leaves_unique_sorted_edges_on_src_owner(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    graph g;
    int64_t n = 997;
    graph_init(&g, n, 3000);
    for (int64_t k = 0; k < 3000; k++) {
        int64_t a = (int64_t)(hash2(11, (uint64_t)k) % (uint64_t)n);
        int64_t b = (int64_t)(hash2(12, (uint64_t)k) % 40); /* repeats pairs often */
        if ((a + b + 1) % n != a)
            graph_add(&g, a, (a + b + 1) % n);
    }
    dg_edges e;
    deal_edges(ctx, &g, 5, 3, &e);
    dg_err err = {0};
    assert_int_equal(dg_graph_dedup(ctx, n, &e, &err), DG_OK);
    assert_true(check_dedup(ctx_of(state), &g, &e));
    dg_edges_free(&e);
    graph_free(&g);
}

static void dedup_with_more_ranks_than_items(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    graph g;
    graph_init(&g, 3, 3);
    graph_add(&g, 2, 1);
    graph_add(&g, 0, 2);
    graph_add(&g, 0, 1);
    dg_edges e = {0};
    dg_err err = {0};
    for (int64_t k = 0; k < g.m; k++) /* every rank has every edge */
        assert_int_equal(dg_edges_push(&e, g.a[k], g.b[k], sim_of(g.a[k], g.b[k]), &err), DG_OK);
    assert_int_equal(dg_graph_dedup(ctx, g.n, &e, &err), DG_OK);
    assert_true(check_dedup(ctx_of(state), &g, &e));
    dg_edges_free(&e);
    graph_free(&g);
}

static void dedup_of_no_edges_is_empty(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    dg_edges e = {0};
    dg_err err = {0};
    assert_int_equal(dg_graph_dedup(ctx, 100, &e, &err), DG_OK);
    assert_true(dgt_all_ranks(e.n == 0));
    dg_edges_free(&e);
}

static void dedup_rejects_out_of_range_edge_on_every_rank(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    dg_edges e = {0};
    dg_err err = {0};
    assert_int_equal(dg_edges_push(&e, 1, 2, 0.9f, &err), DG_OK);
    if (ctx->rank == ctx->size - 1)
        assert_int_equal(dg_edges_push(&e, 5, 100 + 3, 0.9f, &err), DG_OK);
    assert_int_equal(dg_graph_dedup(ctx, 100, &e, &err), DG_FAIL);
    assert_true(dgt_all_ranks(strstr(err.msg, "(5, 103)") != NULL));
    dg_edges_free(&e);
}

/* ---- components ---------------------------------------------------------- */

/* Runs dedup (when asked) and components on g dealt over the ranks, checks
 * the labels against union-find; returns the rounds (same on every rank). */
static int check_components(const dg_ctx *ctx, const graph *g, int dedup)
{
    dg_edges e;
    dg_err err = {0};
    deal_edges(ctx, g, 99, 2, &e);
    if (dedup)
        assert_int_equal(dg_graph_dedup(ctx, g->n, &e, &err), DG_OK);
    int64_t lo = lo_of(ctx, g->n), n = n_of(ctx, g->n);
    int64_t *label = malloc(((size_t)n + 1) * sizeof *label);
    assert_non_null(label);
    int rounds = -1;
    assert_int_equal(dg_graph_components(ctx, g->n, lo, n, &e, label, &rounds, &err), DG_OK);
    int64_t *ref = reference_labels(g);
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++)
        if (label[i] != ref[lo + i])
            ok = dgt_note("item %lld has label %lld, union-find says %lld", (long long)(lo + i),
                          (long long)label[i], (long long)ref[lo + i]);
    int low = 0, high = 0;
    MPI_Allreduce(&rounds, &low, 1, MPI_INT, MPI_MIN, ctx->comm);
    MPI_Allreduce(&rounds, &high, 1, MPI_INT, MPI_MAX, ctx->comm);
    assert_true(dgt_all_ranks(ok));
    assert_int_equal(low, high);
    free(ref);
    free(label);
    dg_edges_free(&e);
    return rounds;
}

static void components_of_long_chain_are_lowest_ids(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    make_chain(&g, 10000, 3);
    int rounds = check_components(ctx, &g, 1);
    /* a few rounds, not one per chain link: hooking reaches label roots */
    assert_in_range(rounds, 2, 30);
    graph_free(&g);
}

static void components_of_star_are_lowest_ids(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    make_star(&g, 3001, 1777);
    assert_in_range(check_components(ctx, &g, 1), 2, 10);
    graph_free(&g);
}

static void components_of_many_small_groups_are_lowest_ids(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    make_groups(&g, 5003, 17);
    assert_in_range(check_components(ctx, &g, 1), 2, 30);
    graph_free(&g);
}

static void components_of_random_sparse_graph_are_lowest_ids(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    int64_t n = 4000;
    graph_init(&g, n, 1800); /* mean degree 0.9, below the giant component: sizes of all kinds */
    for (int64_t k = 0; k < 1800; k++) {
        int64_t a = (int64_t)(hash2(21, (uint64_t)k) % (uint64_t)n);
        int64_t b = (int64_t)(hash2(22, (uint64_t)k) % (uint64_t)n);
        if (a != b)
            graph_add(&g, a, b);
    }
    check_components(ctx, &g, 1);
    graph_free(&g);
}

static void components_accept_edges_on_any_rank(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    make_groups(&g, 2000, 23);
    check_components(ctx, &g, 0);
    graph_free(&g);
    make_chain(&g, 3000, 29);
    check_components(ctx, &g, 0);
    graph_free(&g);
}

static void components_of_empty_graph_are_own_ids_in_one_round(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    int64_t sizes[] = {0, 1, 3, 1000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        graph_init(&g, sizes[s], 0);
        assert_int_equal(check_components(ctx, &g, 1), 1);
        graph_free(&g);
    }
}

static void components_with_more_ranks_than_items(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    graph g;
    graph_init(&g, 3, 2);
    graph_add(&g, 2, 1);
    check_components(ctx, &g, 1);
    graph_add(&g, 0, 2);
    check_components(ctx, &g, 1);
    graph_free(&g);
}

static void components_reject_wrong_item_range(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    dg_edges e = {0};
    dg_err err = {0};
    int64_t label[200];
    int rounds;
    int64_t lo = lo_of(ctx, 100), n = n_of(ctx, 100) + (ctx->rank == 0);
    assert_int_equal(dg_graph_components(ctx, 100, lo, n, &e, label, &rounds, &err), DG_FAIL);
    assert_true(dgt_all_ranks(strstr(err.msg, "holds items") != NULL));
}

/* ---- keep ---------------------------------------------------------------- */

typedef struct keep_case {
    graph g;
    int8_t *status;     /* global */
    float *centrality;  /* global */
    int64_t *ref_label; /* global */
} keep_case;

/* Groups over usable items only; every seventh item is unusable (and has
 * no edges); centralities take four values (many ties) and some NaN. */
static void keep_case_init(keep_case *kc, int64_t n, uint64_t seed)
{
    int64_t *p = permutation(n, seed);
    kc->status = malloc((size_t)n + 1);
    kc->centrality = malloc(((size_t)n + 1) * sizeof *kc->centrality);
    assert_true(kc->status && kc->centrality);
    graph_init(&kc->g, n, 2 * n);
    int64_t prev = -1;
    for (int64_t k = 0; k < n; k++) {
        int64_t id = p[k];
        uint64_t h = hash2(seed + 3, (uint64_t)id);
        kc->status[id] = id % 7 == 3 ? DG_ST_CORRUPT : DG_ST_OK;
        kc->centrality[id] = h % 13 == 0 ? NAN : (float)(h % 4) * 0.25f;
        if (kc->status[id] != DG_ST_OK)
            continue;
        if (prev >= 0 && hash2(seed + 4, (uint64_t)k) % 5 != 0) /* 1 in 5 starts a new group */
            graph_add(&kc->g, prev, id);
        prev = id;
    }
    free(p);
    kc->ref_label = reference_labels(&kc->g);
}

static void keep_case_free(keep_case *kc)
{
    free(kc->status);
    free(kc->centrality);
    free(kc->ref_label);
    graph_free(&kc->g);
}

static int better(float ca, int64_t ia, float cb, int64_t ib)
{
    ca = isnan(ca) ? -INFINITY : ca;
    cb = isnan(cb) ? -INFINITY : cb;
    return ca != cb ? ca > cb : ia < ib;
}

/* Naive: the best usable member of each component by the policy. */
static int8_t *reference_keep(const keep_case *kc, dg_keep_policy policy)
{
    int64_t n = kc->g.n;
    int64_t *best = malloc(((size_t)n + 1) * sizeof *best);
    int8_t *keep = calloc((size_t)n + 1, 1);
    assert_true(best && keep);
    for (int64_t i = 0; i < n; i++)
        best[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = kc->ref_label[i], *b = &best[c];
        if (!dg_status_usable(kc->status[i]))
            continue;
        if (*b < 0 || (policy == DG_KEEP_FIRST ? i < *b : better(kc->centrality[i], i, kc->centrality[*b], *b)))
            *b = i;
    }
    for (int64_t i = 0; i < n; i++)
        keep[i] = best[kc->ref_label[i]] == i;
    free(best);
    return keep;
}

static void check_keep(const dg_ctx *ctx, const keep_case *kc, dg_keep_policy policy)
{
    int64_t n_total = kc->g.n, lo = lo_of(ctx, n_total), n = n_of(ctx, n_total);
    dg_edges e;
    dg_err err = {0};
    deal_edges(ctx, &kc->g, 31, 2, &e);
    assert_int_equal(dg_graph_dedup(ctx, n_total, &e, &err), DG_OK);
    int64_t *label = malloc(((size_t)n + 1) * sizeof *label);
    int8_t *keep = malloc((size_t)n + 1);
    assert_true(label && keep);
    int rounds;
    assert_int_equal(dg_graph_components(ctx, n_total, lo, n, &e, label, &rounds, &err), DG_OK);
    assert_int_equal(dg_graph_keep(ctx, n_total, lo, n, label, kc->status + lo, kc->centrality + lo, policy,
                                   keep, &err),
                     DG_OK);
    int8_t *ref = reference_keep(kc, policy);
    int ok = 1;
    for (int64_t i = 0; i < n && ok; i++)
        if (keep[i] != ref[lo + i])
            ok = dgt_note("item %lld keep %d, expected %d (label %lld)", (long long)(lo + i), keep[i],
                          ref[lo + i], (long long)label[i]);
    assert_true(dgt_all_ranks(ok));
    free(ref);
    free(keep);
    free(label);
    dg_edges_free(&e);
}

static void keep_first_keeps_lowest_usable_id(void **state)
{
    keep_case kc;
    keep_case_init(&kc, 3001, 41);
    check_keep(ctx_of(state), &kc, DG_KEEP_FIRST);
    keep_case_free(&kc);
}

static void keep_central_keeps_most_central_ties_to_lowest_id(void **state)
{
    keep_case kc;
    keep_case_init(&kc, 3001, 43);
    check_keep(ctx_of(state), &kc, DG_KEEP_CENTRAL);
    keep_case_free(&kc);
}

static void keep_central_of_one_big_component(void **state)
{
    keep_case kc;
    keep_case_init(&kc, 2000, 47);
    /* link the groups into one: the winner is a single item across ranks */
    graph *g = &kc.g;
    int64_t prev = -1;
    for (int64_t i = 0; i < g->n; i++)
        if (dg_status_usable(kc.status[i])) {
            if (prev >= 0)
                graph_add(g, prev, i);
            prev = i;
        }
    free(kc.ref_label);
    kc.ref_label = reference_labels(g);
    check_keep(ctx_of(state), &kc, DG_KEEP_CENTRAL);
    check_keep(ctx_of(state), &kc, DG_KEEP_FIRST);
    keep_case_free(&kc);
}

static void keep_rejects_unusable_item_with_edges(void **state)
{
    dg_ctx *ctx = ctx_of(state);
    int64_t n_total = 10, lo = lo_of(ctx, n_total), n = n_of(ctx, n_total);
    int64_t label[10];
    int8_t status[10], keep[10];
    float cent[10];
    dg_err err = {0};
    for (int policy = DG_KEEP_FIRST; policy <= DG_KEEP_CENTRAL; policy++) {
        /* item 9 is unusable but labelled 0: it was in a component */
        for (int64_t i = 0; i < n; i++) {
            label[i] = lo + i == 9 ? 0 : lo + i;
            status[i] = lo + i == 9 ? DG_ST_MISSING : DG_ST_OK;
            cent[i] = 1.0f;
        }
        assert_int_equal(dg_graph_keep(ctx, n_total, lo, n, label, status, cent, (dg_keep_policy)policy, keep, &err),
                         DG_FAIL);
        assert_true(dgt_all_ranks(strstr(err.msg, "unusable item 9") != NULL));
    }
    /* item 0 is unusable and the label of item 9: only the owner of 0 sees it */
    for (int64_t i = 0; i < n; i++) {
        label[i] = lo + i == 9 ? 0 : lo + i;
        status[i] = lo + i == 0 ? DG_ST_MISSING : DG_ST_OK;
    }
    assert_int_equal(dg_graph_keep(ctx, n_total, lo, n, label, status, cent, DG_KEEP_CENTRAL, keep, &err), DG_FAIL);
    assert_true(dgt_all_ranks(strstr(err.msg, "unusable item 0") != NULL));
}

/* ---- main ---------------------------------------------------------------- */

static int group_setup(void **state)
{
    dg_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx)
        return -1;
    *ctx = dgt_quiet_ctx(MPI_COMM_WORLD);
    *state = ctx;
    return 0;
}

static int group_teardown(void **state)
{
    free(*state);
    return 0;
}

/* dg_graph_forest on the random graph's edges (dealt twice, flipped)
 * against the serial maximum spanning forest of all of them: the same
 * edges for any rank count, n - components of them, and components over
 * the forest equal the reference (union-find over every edge). */
static void forest_spans_the_components_of_all_edges(void **state)
{
    const dg_ctx *ctx = ctx_of(state);
    dg_err err = {0};
    graph g;
    int64_t n = 3000;
    graph_init(&g, n, 2600);
    for (int64_t k = 0; k < 2600; k++) {
        int64_t a = (int64_t)(hash2(31, (uint64_t)k) % (uint64_t)n);
        int64_t b = (int64_t)(hash2(32, (uint64_t)k) % (uint64_t)n);
        if (a != b)
            graph_add(&g, a, b);
    }
    dg_edges e, serial = {0};
    deal_edges(ctx, &g, 5, 2, &e);
    for (int64_t k = 0; k < g.m; k++)
        assert_int_equal(dg_edges_push(&serial, g.a[k], g.b[k], sim_of(g.a[k], g.b[k]), &err), DG_OK);
    assert_int_equal(dg_edges_sort_unique(&serial, &err), DG_OK);
    assert_int_equal(dg_edges_spanning_forest(&serial, NULL, &err), DG_OK);
    assert_int_equal(dg_graph_dedup(ctx, n, &e, &err), DG_OK);
    int64_t lo = lo_of(ctx, n), nl = n_of(ctx, n);
    int64_t *label = malloc(((size_t)nl + 1) * sizeof *label);
    assert_non_null(label);
    int rounds;
    float *score = NULL;
    assert_int_equal(dg_graph_components(ctx, n, lo, nl, &e, label, &rounds, &err), DG_OK);
    assert_int_equal(dg_graph_forest(ctx, n, lo, nl, label, &e, &score, &err), DG_OK);
    /* the forest's own components are the reference's */
    int64_t *ref = reference_labels(&g), roots = 0;
    for (int64_t i = 0; i < n; i++)
        roots += ref[i] == i;
    int64_t *flabel = malloc(((size_t)nl + 1) * sizeof *flabel);
    assert_non_null(flabel);
    assert_int_equal(dg_graph_components(ctx, n, lo, nl, &e, flabel, &rounds, &err), DG_OK);
    int ok = 1;
    for (int64_t i = 0; i < nl && ok; i++)
        if (flabel[i] != ref[lo + i])
            ok = dgt_note("item %lld: forest label %lld, reference %lld", (long long)(lo + i), (long long)flabel[i],
                          (long long)ref[lo + i]);
    /* this rank's share is the serial forest's edges with src in its range */
    int64_t k = 0;
    for (int64_t i = 0; i < serial.n && ok; i++) {
        if (serial.src[i] < lo || serial.src[i] >= lo + nl)
            continue;
        if (k >= e.n || e.src[k] != serial.src[i] || e.dst[k] != serial.dst[i] || e.sim[k] != serial.sim[i])
            ok = dgt_note("forest edge %lld differs from the serial forest's (%lld, %lld)", (long long)k,
                          (long long)serial.src[i], (long long)serial.dst[i]);
        k++;
    }
    if (ok && k != e.n)
        ok = dgt_note("%lld forest edges here, the serial forest has %lld", (long long)e.n, (long long)k);
    int64_t total = 0;
    MPI_Allreduce(&e.n, &total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    assert_true(dgt_all_ranks(ok));
    assert_int_equal(total, n - roots);
    assert_true(total < g.m); /* the graph has cycles, so the forest dropped edges */
    free(ref);
    free(label);
    free(flabel);
    dg_edges_free(&e);
    dg_edges_free(&serial);
    graph_free(&g);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dedup_leaves_unique_sorted_edges_on_src_owner),
        cmocka_unit_test(dedup_with_more_ranks_than_items),
        cmocka_unit_test(dedup_of_no_edges_is_empty),
        cmocka_unit_test(dedup_rejects_out_of_range_edge_on_every_rank),
        cmocka_unit_test(components_of_long_chain_are_lowest_ids),
        cmocka_unit_test(components_of_star_are_lowest_ids),
        cmocka_unit_test(components_of_many_small_groups_are_lowest_ids),
        cmocka_unit_test(components_of_random_sparse_graph_are_lowest_ids),
        cmocka_unit_test(components_accept_edges_on_any_rank),
        cmocka_unit_test(components_of_empty_graph_are_own_ids_in_one_round),
        cmocka_unit_test(components_with_more_ranks_than_items),
        cmocka_unit_test(components_reject_wrong_item_range),
        cmocka_unit_test(keep_first_keeps_lowest_usable_id),
        cmocka_unit_test(keep_central_keeps_most_central_ties_to_lowest_id),
        cmocka_unit_test(keep_central_of_one_big_component),
        cmocka_unit_test(keep_rejects_unusable_item_with_edges),
        cmocka_unit_test(forest_spans_the_components_of_all_edges),
    };
    return DGT_RUN(argc, argv, tests, group_setup, group_teardown);
}
