/* graph.c - the graph stage: routing edges to the rank that owns their src
 * id, distributed connected components and the choice of the one item kept
 * per component.  It does not find pairs (pairs.c, exact.c) or manage the
 * edge list itself (edges.c).
 *
 * Every exchange moves fixed-size records with one MPI_Alltoallv, counts in
 * records of a contiguous datatype, after an MPI_Alltoall of int64 counts
 * that also checks they fit an MPI int.  Each public function is collective
 * and returns the same status on every rank (dg_agree), so a failure on one
 * rank never leaves the others waiting in a collective.
 *
 * Components: label[i] starts at the item's own id.  A round fetches the
 * labels of the remote endpoints, then hooks each edge (u, v) whose labels
 * differ: with m = min(label(u), label(v)), the endpoint with the larger
 * label and that larger label's own item both take min(current, m).  Hooking
 * the label's item, not only the endpoint, is what lets long chains merge in
 * a few rounds (endpoint-only propagation needs about as many rounds as the
 * chain is long).  Pointer jumping, label(u) = label(label(u)), then runs
 * until no label changes anywhere.  Why the result is the lowest id:
 * labels only decrease, and every update writes the label of an item of the
 * same component, so a label is always an id in its component and
 * label(x) <= x.  When a round's hooking changes nothing, every edge has
 * equal labels at both ends, so labels are constant on a component; its
 * lowest id m has label(m) <= m, and label(m) is an id in the component,
 * hence >= m: the constant is m.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "search/forest.h"

/* ---- fixed-size record exchange ---------------------------------------- */

typedef struct xchg {
    const dg_ctx *ctx;
    int64_t *scount, *rcount; /* records to / from each rank */
    int64_t nsend, nrecv;
    int *sc, *sd, *rc, *rd; /* the same as MPI ints, with displacements */
} xchg;

static void xchg_free(xchg *x)
{
    free(x->scount);
    free(x->rcount);
    free(x->sc);
    free(x->sd);
    free(x->rc);
    free(x->rd);
    memset(x, 0, sizeof *x);
}

/* Collective: allocates the count arrays; DG_FAIL on every rank if any failed. */
static int xchg_init(xchg *x, const dg_ctx *ctx, dg_err *err)
{
    size_t p = (size_t)ctx->size;
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
    x->scount = dg_calloc(p, sizeof *x->scount, err);
    x->rcount = dg_calloc(p, sizeof *x->rcount, err);
    x->sc = dg_alloc(p, sizeof *x->sc, err);
    x->sd = dg_alloc(p, sizeof *x->sd, err);
    x->rc = dg_alloc(p, sizeof *x->rc, err);
    x->rd = dg_alloc(p, sizeof *x->rd, err);
    int rc = x->scount && x->rcount && x->sc && x->sd && x->rc && x->rd ? DG_OK : DG_FAIL;
    if (dg_agree(ctx, rc, err) != DG_OK) {
        xchg_free(x);
        return DG_FAIL;
    }
    return DG_OK;
}

/* Counts records per owner rank of ids[0..m) (any order). */
static void xchg_count_owners(xchg *x, int64_t n_total, const int64_t *ids, int64_t m)
{
    memset(x->scount, 0, (size_t)x->ctx->size * sizeof *x->scount);
    for (int64_t k = 0; k < m; k++)
        x->scount[dg_range_owner(n_total, x->ctx->size, ids[k])]++;
}

/* Collective: sends x->scount (zeroed when rc is a failure) and receives
 * x->rcount; fails if either total exceeds what an MPI int can address.
 * Does not agree: the caller allocates its buffers and then calls dg_agree. */
static int xchg_counts(xchg *x, int rc, dg_err *err)
{
    int p = x->ctx->size;
    if (rc != DG_OK)
        memset(x->scount, 0, (size_t)p * sizeof *x->scount);
    MPI_Alltoall(x->scount, 1, MPI_INT64_T, x->rcount, 1, MPI_INT64_T, x->ctx->comm);
    x->nsend = x->nrecv = 0;
    for (int r = 0; r < p; r++) {
        x->nsend += x->scount[r];
        x->nrecv += x->rcount[r];
    }
    if (rc == DG_OK && (x->nsend > INT_MAX || x->nrecv > INT_MAX))
        rc = dg_fail(err, "graph exchange of %lld records out, %lld in exceeds the MPI limit of %d per rank",
                     (long long)x->nsend, (long long)x->nrecv, INT_MAX);
    return rc;
}

/* Collective: one MPI_Alltoallv of rec_size-byte records laid out by the
 * counts of the last xchg_counts (both totals already checked). */
static void xchg_run(xchg *x, const void *send, void *recv, size_t rec_size)
{
    int sd = 0, rd = 0;
    for (int r = 0; r < x->ctx->size; r++) {
        x->sc[r] = (int)x->scount[r];
        x->rc[r] = (int)x->rcount[r];
        x->sd[r] = sd;
        x->rd[r] = rd;
        sd += x->sc[r];
        rd += x->rc[r];
    }
    MPI_Datatype rec;
    MPI_Type_contiguous((int)rec_size, MPI_BYTE, &rec);
    MPI_Type_commit(&rec);
    MPI_Alltoallv(send, x->sc, x->sd, rec, recv, x->rc, x->rd, rec, x->ctx->comm);
    MPI_Type_free(&rec);
}

/* Turns the last exchange around, so replies go back in request order. */
static void xchg_reverse(xchg *x)
{
    int64_t *t = x->scount;
    x->scount = x->rcount;
    x->rcount = t;
    int64_t n = x->nsend;
    x->nsend = x->nrecv;
    x->nrecv = n;
}

/* Checks that this rank's item range is the one dg_range_lo assigns. */
static int check_range(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, dg_err *err)
{
    int64_t want_lo = dg_range_lo(n_total, ctx->size, ctx->rank);
    int64_t want_n = dg_range_lo(n_total, ctx->size, ctx->rank + 1) - want_lo;
    if (n_total < 0 || lo != want_lo || n != want_n)
        return dg_fail(err, "graph: rank %d holds items [%lld, +%lld) but owns [%lld, +%lld) of %lld", ctx->rank,
                       (long long)lo, (long long)n, (long long)want_lo, (long long)want_n, (long long)n_total);
    return DG_OK;
}

/* ---- dedup -------------------------------------------------------------- */

typedef struct edge_rec {
    int64_t src, dst;
    float sim;
    int32_t pad; /* zeroed, so the bytes sent are all defined */
} edge_rec;

static int check_edges(const dg_edges *e, int64_t n_total, dg_err *err)
{
    for (int64_t i = 0; i < e->n; i++)
        if (e->src[i] < 0 || e->src[i] >= e->dst[i] || e->dst[i] >= n_total)
            return dg_fail(err, "graph: edge (%lld, %lld) is not 0 <= src < dst < %lld", (long long)e->src[i],
                           (long long)e->dst[i], (long long)n_total);
    return DG_OK;
}

/* Edge records grouped by the rank owning src; fills x->scount. */
static edge_rec *pack_edges(xchg *x, int64_t n_total, const dg_edges *e, dg_err *err)
{
    int p = x->ctx->size;
    edge_rec *out = dg_alloc((size_t)e->n, sizeof *out, err);
    int64_t *next = dg_alloc((size_t)p, sizeof *next, err);
    if (!out || !next) {
        free(out);
        free(next);
        return NULL;
    }
    xchg_count_owners(x, n_total, e->src, e->n);
    next[0] = 0;
    for (int r = 1; r < p; r++)
        next[r] = next[r - 1] + x->scount[r - 1];
    for (int64_t i = 0; i < e->n; i++) {
        int r = dg_range_owner(n_total, p, e->src[i]);
        out[next[r]++] = (edge_rec){e->src[i], e->dst[i], e->sim[i], 0};
    }
    free(next);
    return out;
}

static int unpack_edges(dg_edges *e, const edge_rec *rows, int64_t n, dg_err *err)
{
    e->src = dg_alloc((size_t)n, sizeof *e->src, err);
    e->dst = dg_alloc((size_t)n, sizeof *e->dst, err);
    e->sim = dg_alloc((size_t)n, sizeof *e->sim, err);
    if (!e->src || !e->dst || !e->sim) {
        dg_edges_free(e);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < n; i++) {
        e->src[i] = rows[i].src;
        e->dst[i] = rows[i].dst;
        e->sim[i] = rows[i].sim;
    }
    e->n = e->cap = n;
    return DG_OK;
}

int dg_graph_dedup(const dg_ctx *ctx, int64_t n_total, dg_edges *edges, dg_err *err)
{
    xchg x;
    if (xchg_init(&x, ctx, err) != DG_OK)
        return DG_FAIL;
    edge_rec *send = NULL, *recv = NULL;
    int rc = check_edges(edges, n_total, err);
    if (rc == DG_OK && !(send = pack_edges(&x, n_total, edges, err)))
        rc = DG_FAIL;
    rc = xchg_counts(&x, rc, err);
    if (rc == DG_OK && !(recv = dg_alloc((size_t)x.nrecv, sizeof *recv, err)))
        rc = DG_FAIL;
    if (dg_agree(ctx, rc, err) != DG_OK) {
        free(send);
        free(recv);
        xchg_free(&x);
        return DG_FAIL;
    }
    xchg_run(&x, send, recv, sizeof *recv);
    free(send);
    dg_edges_free(edges);
    rc = unpack_edges(edges, recv, x.nrecv, err);
    free(recv);
    xchg_free(&x);
    if (rc == DG_OK)
        rc = dg_edges_sort_unique(edges, err);
    return dg_agree(ctx, rc, err);
}

/* ---- connected components ---------------------------------------------- */

typedef struct proposal {
    int64_t id, label;
} proposal;

typedef struct cc_state {
    xchg x;
    int64_t n_total, lo, n;
    int64_t *label; /* caller's array, n */
    /* Remote endpoints of the local edges (sorted unique) and their labels
     * as fetched at the start of the round. */
    int64_t n_ghost;
    int64_t *ghost, *ghost_label;
    /* Two per edge: a local index >= 0, or -(ghost index) - 1. */
    int64_t *ref;
    int64_t n_edges;
    /* Hooking proposals for labels held elsewhere, this round. */
    proposal *prop;
    int64_t n_prop, cap_prop;
    /* Pointer jumping: per-item state and the remote labels asked for. */
    int8_t *jump;
    int64_t *ask, *ask_label;
} cc_state;

enum { JUMP_ACTIVE = 0, JUMP_DONE = 1, JUMP_ASKED = 2 };

static void cc_free(cc_state *s)
{
    xchg_free(&s->x);
    free(s->ghost);
    free(s->ghost_label);
    free(s->ref);
    free(s->prop);
    free(s->jump);
    free(s->ask);
    free(s->ask_label);
}

static int is_local(const cc_state *s, int64_t id)
{
    return id >= s->lo && id < s->lo + s->n;
}

static int check_endpoints(const dg_edges *e, int64_t n_total, dg_err *err)
{
    for (int64_t i = 0; i < e->n; i++)
        if (e->src[i] < 0 || e->src[i] >= n_total || e->dst[i] < 0 || e->dst[i] >= n_total)
            return dg_fail(err, "graph: edge (%lld, %lld) has an id outside [0, %lld)", (long long)e->src[i],
                           (long long)e->dst[i], (long long)n_total);
    return DG_OK;
}

/* Finds the remote endpoints and the reference of every endpoint. */
static int cc_setup_ghosts(cc_state *s, const dg_edges *e, dg_err *err)
{
    s->n_edges = e->n;
    s->ref = dg_alloc(2 * (size_t)e->n, sizeof *s->ref, err);
    s->ghost = dg_alloc(2 * (size_t)e->n, sizeof *s->ghost, err);
    if (!s->ref || !s->ghost)
        return DG_FAIL;
    for (int64_t i = 0; i < 2 * e->n; i++) {
        int64_t id = i % 2 ? e->dst[i / 2] : e->src[i / 2];
        if (!is_local(s, id))
            s->ghost[s->n_ghost++] = id;
    }
    s->n_ghost = dg_ids_sort_unique(s->ghost, s->n_ghost);
    s->ghost_label = dg_alloc((size_t)s->n_ghost, sizeof *s->ghost_label, err);
    if (!s->ghost_label)
        return DG_FAIL;
    for (int64_t i = 0; i < 2 * e->n; i++) {
        int64_t id = i % 2 ? e->dst[i / 2] : e->src[i / 2];
        s->ref[i] = is_local(s, id) ? id - s->lo : -dg_ids_index(s->ghost, s->n_ghost, id) - 1;
    }
    return DG_OK;
}

static int cc_init(cc_state *s, const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const dg_edges *e,
                   int64_t *label, dg_err *err)
{
    memset(s, 0, sizeof *s);
    if (xchg_init(&s->x, ctx, err) != DG_OK)
        return DG_FAIL;
    s->n_total = n_total;
    s->lo = lo;
    s->n = n;
    s->label = label;
    int rc = check_range(ctx, n_total, lo, n, err);
    if (rc == DG_OK)
        rc = check_endpoints(e, n_total, err);
    if (rc == DG_OK)
        rc = cc_setup_ghosts(s, e, err);
    if (rc == DG_OK) {
        s->jump = dg_alloc((size_t)n, sizeof *s->jump, err);
        s->ask = dg_alloc((size_t)n, sizeof *s->ask, err);
        s->ask_label = dg_alloc((size_t)n, sizeof *s->ask_label, err);
        if (!s->jump || !s->ask || !s->ask_label)
            rc = DG_FAIL;
    }
    for (int64_t i = 0; rc == DG_OK && i < n; i++)
        label[i] = lo + i;
    return dg_agree(ctx, rc, err);
}

/* Collective: out[k] = current label of ids[k], sorted (so grouped by
 * owner; local ids are allowed). */
static int cc_fetch(cc_state *s, const int64_t *ids, int64_t m, int64_t *out, dg_err *err)
{
    xchg *x = &s->x;
    xchg_count_owners(x, s->n_total, ids, m);
    int rc = xchg_counts(x, DG_OK, err);
    int64_t *req = NULL, *rep = NULL;
    if (rc == DG_OK) {
        req = dg_alloc((size_t)x->nrecv, sizeof *req, err);
        rep = dg_alloc((size_t)x->nrecv, sizeof *rep, err);
        if (!req || !rep)
            rc = DG_FAIL;
    }
    if (dg_agree(x->ctx, rc, err) != DG_OK) {
        free(req);
        free(rep);
        return DG_FAIL;
    }
    xchg_run(x, ids, req, sizeof *req);
    for (int64_t k = 0; k < x->nrecv; k++)
        rep[k] = s->label[req[k] - s->lo];
    xchg_reverse(x);
    xchg_run(x, rep, out, sizeof *rep);
    free(req);
    free(rep);
    return DG_OK;
}

static int cc_push_proposal(cc_state *s, int64_t id, int64_t label, dg_err *err)
{
    if (s->n_prop == s->cap_prop) {
        int64_t cap = s->cap_prop ? 2 * s->cap_prop : 1024;
        size_t bytes;
        if (dg_mul_size((size_t)cap, sizeof *s->prop, &bytes, err) != DG_OK)
            return DG_FAIL;
        proposal *p = realloc(s->prop, bytes);
        if (!p)
            return dg_fail(err, "out of memory growing hooking proposals to %lld", (long long)cap);
        s->prop = p;
        s->cap_prop = cap;
    }
    s->prop[s->n_prop++] = (proposal){id, label};
    return DG_OK;
}

/* label(id) = min(label(id), m): applied here when local, else queued. */
static int cc_propose(cc_state *s, int64_t id, int64_t m, int *changed, dg_err *err)
{
    if (!is_local(s, id))
        return cc_push_proposal(s, id, m, err);
    if (m < s->label[id - s->lo]) {
        s->label[id - s->lo] = m;
        *changed = 1;
    }
    return DG_OK;
}

/* The same for the endpoint behind ref; a ghost's cached label is lowered
 * too, so later edges of this round see it. */
static int cc_propose_ref(cc_state *s, int64_t ref, int64_t m, int *changed, dg_err *err)
{
    if (ref >= 0)
        return cc_propose(s, s->lo + ref, m, changed, err);
    int64_t g = -ref - 1;
    if (m >= s->ghost_label[g])
        return DG_OK;
    s->ghost_label[g] = m;
    return cc_push_proposal(s, s->ghost[g], m, err);
}

static int64_t cc_ref_label(const cc_state *s, int64_t ref)
{
    return ref >= 0 ? s->label[ref] : s->ghost_label[-ref - 1];
}

/* One pass over the local edges (labels of ghosts already fetched). */
static int cc_hook_edges(cc_state *s, int *changed, dg_err *err)
{
    s->n_prop = 0;
    for (int64_t e = 0; e < s->n_edges; e++) {
        int64_t ru = s->ref[2 * e], rv = s->ref[2 * e + 1];
        int64_t lu = cc_ref_label(s, ru), lv = cc_ref_label(s, rv);
        if (lu == lv)
            continue;
        int64_t m = lu < lv ? lu : lv, hi = lu < lv ? lv : lu;
        if (cc_propose_ref(s, lu < lv ? rv : ru, m, changed, err) != DG_OK ||
            cc_propose(s, hi, m, changed, err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

static int cmp_proposal(const void *pa, const void *pb)
{
    const proposal *a = pa, *b = pb;
    if (a->id != b->id)
        return (a->id > b->id) - (a->id < b->id);
    return (a->label > b->label) - (a->label < b->label);
}

/* Keeps the lowest proposal per id, sorted by id (hence grouped by owner). */
static void cc_reduce_proposals(cc_state *s)
{
    if (s->n_prop == 0)
        return;
    qsort(s->prop, (size_t)s->n_prop, sizeof *s->prop, cmp_proposal);
    int64_t out = 1;
    for (int64_t k = 1; k < s->n_prop; k++)
        if (s->prop[k].id != s->prop[out - 1].id)
            s->prop[out++] = s->prop[k];
    s->n_prop = out;
}

/* Collective: sends the queued proposals to the owners, which apply them. */
static int cc_send_proposals(cc_state *s, int rc, int *changed, dg_err *err)
{
    xchg *x = &s->x;
    if (rc == DG_OK) {
        cc_reduce_proposals(s);
        memset(x->scount, 0, (size_t)x->ctx->size * sizeof *x->scount);
        for (int64_t k = 0; k < s->n_prop; k++)
            x->scount[dg_range_owner(s->n_total, x->ctx->size, s->prop[k].id)]++;
    }
    rc = xchg_counts(x, rc, err);
    proposal *in = NULL;
    if (rc == DG_OK && !(in = dg_alloc((size_t)x->nrecv, sizeof *in, err)))
        rc = DG_FAIL;
    if (dg_agree(x->ctx, rc, err) != DG_OK) {
        free(in);
        return DG_FAIL;
    }
    xchg_run(x, s->prop, in, sizeof *in);
    for (int64_t k = 0; k < x->nrecv; k++)
        cc_propose(s, in[k].id, in[k].label, changed, err); /* local: cannot fail */
    free(in);
    return DG_OK;
}

/* Collective hooking round; *changed is global. */
static int cc_hook(cc_state *s, int *changed, dg_err *err)
{
    int mine = 0;
    if (cc_fetch(s, s->ghost, s->n_ghost, s->ghost_label, err) != DG_OK)
        return DG_FAIL;
    int rc = cc_hook_edges(s, &mine, err);
    if (cc_send_proposals(s, rc, &mine, err) != DG_OK)
        return DG_FAIL;
    MPI_Allreduce(&mine, changed, 1, MPI_INT, MPI_LOR, s->x.ctx->comm);
    return DG_OK;
}

/* label[i] = g, the label fetched for label[i]; done once label[i] is a root. */
static void cc_jump_to(cc_state *s, int64_t i, int64_t g, int *changed)
{
    if (g == s->label[i]) {
        s->jump[i] = JUMP_DONE;
        return;
    }
    s->label[i] = g;
    s->jump[i] = JUMP_ACTIVE;
    *changed = 1;
}

/* One pointer-jumping step over the items not yet pointing at a root.
 * Collective; *changed is local. */
static int cc_jump_step(cc_state *s, int *changed, dg_err *err)
{
    int64_t n_ask = 0;
    for (int64_t i = 0; i < s->n; i++) {
        int64_t t = s->label[i];
        if (s->jump[i] == JUMP_DONE)
            continue;
        if (t == s->lo + i)
            s->jump[i] = JUMP_DONE;
        else if (is_local(s, t))
            cc_jump_to(s, i, s->label[t - s->lo], changed);
        else {
            s->ask[n_ask++] = t;
            s->jump[i] = JUMP_ASKED;
        }
    }
    n_ask = dg_ids_sort_unique(s->ask, n_ask);
    if (cc_fetch(s, s->ask, n_ask, s->ask_label, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < s->n; i++)
        if (s->jump[i] == JUMP_ASKED)
            cc_jump_to(s, i, s->ask_label[dg_ids_index(s->ask, n_ask, s->label[i])], changed);
    return DG_OK;
}

/* Collective: pointer jumping until no label changes on any rank. */
static int cc_jump(cc_state *s, dg_err *err)
{
    memset(s->jump, JUMP_ACTIVE, (size_t)s->n);
    for (;;) {
        int mine = 0, any = 0;
        if (cc_jump_step(s, &mine, err) != DG_OK)
            return DG_FAIL;
        MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_LOR, s->x.ctx->comm);
        if (!any)
            return DG_OK;
    }
}

int dg_graph_components(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const dg_edges *edges,
                        int64_t *label, int *rounds, dg_err *err)
{
    cc_state s;
    *rounds = 0;
    if (cc_init(&s, ctx, n_total, lo, n, edges, label, err) != DG_OK) {
        cc_free(&s);
        return DG_FAIL;
    }
    int rc = DG_OK;
    for (;;) {
        int changed = 0;
        ++*rounds;
        if ((rc = cc_hook(&s, &changed, err)) != DG_OK || !changed)
            break;
        if ((rc = cc_jump(&s, err)) != DG_OK)
            break;
    }
    cc_free(&s);
    return rc; /* every failure above was already agreed */
}

/* ---- the kept item per component --------------------------------------- */

/* The best candidate of a label seen so far, from one rank's items. */
typedef struct candidate {
    int64_t label, id;
    float centrality; /* NaN already mapped to -inf */
    int32_t pad;
} candidate;

static float rank_value(float c)
{
    return isnan(c) ? -INFINITY : c;
}

/* a beats b: higher centrality, ties to the lower id. */
static int beats(float ca, int64_t ia, float cb, int64_t ib)
{
    if (ca != cb)
        return ca > cb;
    return ia < ib;
}

static int cmp_candidate(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    if (a->label != b->label)
        return (a->label > b->label) - (a->label < b->label);
    if (a->id == b->id)
        return 0;
    return beats(a->centrality, a->id, b->centrality, b->id) ? -1 : 1;
}

/* Labels come from dg_graph_components: an id <= the item's own, and an
 * unusable item (it carries no edges) is its own component. */
static int check_labels(int64_t lo, int64_t n, const int64_t *label, const int8_t *status, dg_err *err)
{
    for (int64_t i = 0; i < n; i++) {
        if (label[i] < 0 || label[i] > lo + i)
            return dg_fail(err, "graph: item %lld has label %lld, not an id in [0, %lld]", (long long)(lo + i),
                           (long long)label[i], (long long)(lo + i));
        if (!dg_status_usable(status[i]) && label[i] != lo + i)
            return dg_fail(err, "graph: unusable item %lld (%s) is in component %lld: it must have no edges",
                           (long long)(lo + i), dg_status_name((dg_status)status[i]), (long long)label[i]);
    }
    return DG_OK;
}

typedef struct keep_state {
    xchg x;
    int64_t n_total, lo, n;
    const int64_t *label;
    const int8_t *status;
    const float *centrality;
    candidate *out;     /* best local member per remote-or-local label, sorted by label */
    int64_t n_out;
    int64_t *out_label; /* the labels of out, for lookup */
    int64_t *winner;    /* n_out: winning id per label of out */
    float *best_c;      /* n: best centrality among members of label lo+i */
    int64_t *best_id;   /* n: its id, -1 if none */
} keep_state;

static void keep_free(keep_state *k)
{
    xchg_free(&k->x);
    free(k->out);
    free(k->out_label);
    free(k->winner);
    free(k->best_c);
    free(k->best_id);
}

/* One candidate per label from the local non-root usable items; the local
 * roots start as their own label's best. */
static int keep_candidates(keep_state *k, dg_err *err)
{
    k->out = dg_alloc((size_t)k->n, sizeof *k->out, err);
    k->out_label = dg_alloc((size_t)k->n, sizeof *k->out_label, err);
    k->winner = dg_alloc((size_t)k->n, sizeof *k->winner, err);
    k->best_c = dg_alloc((size_t)k->n, sizeof *k->best_c, err);
    k->best_id = dg_alloc((size_t)k->n, sizeof *k->best_id, err);
    if (!k->out || !k->out_label || !k->winner || !k->best_c || !k->best_id)
        return DG_FAIL;
    for (int64_t i = 0; i < k->n; i++) {
        int64_t id = k->lo + i;
        int usable = dg_status_usable(k->status[i]);
        k->best_id[i] = usable ? id : -1;
        k->best_c[i] = usable ? rank_value(k->centrality[i]) : -INFINITY;
        if (usable && k->label[i] != id)
            k->out[k->n_out++] = (candidate){k->label[i], id, rank_value(k->centrality[i]), 0};
    }
    if (k->n_out > 0)
        qsort(k->out, (size_t)k->n_out, sizeof *k->out, cmp_candidate);
    int64_t m = 0;
    for (int64_t j = 0; j < k->n_out; j++)
        if (m == 0 || k->out[j].label != k->out[m - 1].label)
            k->out[m++] = k->out[j];
    k->n_out = m;
    for (int64_t j = 0; j < m; j++)
        k->out_label[j] = k->out[j].label;
    return DG_OK;
}

/* Owner side: merges one received candidate into its label's best. */
static int keep_merge(keep_state *k, const candidate *c, dg_err *err)
{
    int64_t r = c->label - k->lo;
    if (k->best_id[r] < 0)
        return dg_fail(err, "graph: item %lld is labelled with unusable item %lld", (long long)c->id,
                       (long long)c->label);
    if (beats(c->centrality, c->id, k->best_c[r], k->best_id[r])) {
        k->best_c[r] = c->centrality;
        k->best_id[r] = c->id;
    }
    return DG_OK;
}

/* Collective: candidates to the owners of their labels, winners back.
 * Returns a status agreed by all ranks. */
static int keep_exchange(keep_state *k, int rc, dg_err *err)
{
    xchg *x = &k->x;
    if (rc == DG_OK)
        xchg_count_owners(x, k->n_total, k->out_label, k->n_out);
    rc = xchg_counts(x, rc, err);
    candidate *in = NULL;
    int64_t *rep = NULL;
    if (rc == DG_OK) {
        in = dg_alloc((size_t)x->nrecv, sizeof *in, err);
        rep = dg_alloc((size_t)x->nrecv, sizeof *rep, err);
        if (!in || !rep)
            rc = DG_FAIL;
    }
    if (dg_agree(x->ctx, rc, err) != DG_OK) {
        free(in);
        free(rep);
        return DG_FAIL;
    }
    xchg_run(x, k->out, in, sizeof *in);
    for (int64_t j = 0; j < x->nrecv && rc == DG_OK; j++)
        rc = keep_merge(k, &in[j], err);
    for (int64_t j = 0; j < x->nrecv; j++)
        rep[j] = k->best_id[in[j].label - k->lo];
    xchg_reverse(x);
    xchg_run(x, rep, k->winner, sizeof *rep);
    free(in);
    free(rep);
    return dg_agree(x->ctx, rc, err);
}

/* Collective; returns a status agreed by all ranks. */
static int keep_central(const dg_ctx *ctx, keep_state *k, int8_t *keep, dg_err *err)
{
    if (xchg_init(&k->x, ctx, err) != DG_OK)
        return DG_FAIL;
    int rc = k->centrality ? DG_OK : dg_fail(err, "graph: the central keep policy needs centralities");
    if (rc == DG_OK)
        rc = keep_candidates(k, err);
    if (keep_exchange(k, rc, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < k->n; i++) {
        int64_t id = k->lo + i;
        if (!dg_status_usable(k->status[i]))
            keep[i] = 0;
        else if (k->label[i] == id)
            keep[i] = k->best_id[i] == id;
        else
            keep[i] = k->winner[dg_ids_index(k->out_label, k->n_out, k->label[i])] == id;
    }
    return DG_OK;
}

int dg_graph_keep(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const int64_t *label,
                  const int8_t *status, const float *centrality, dg_keep_policy policy, int8_t *keep,
                  dg_err *err)
{
    int rc = check_range(ctx, n_total, lo, n, err);
    if (rc == DG_OK)
        rc = check_labels(lo, n, label, status, err);
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    if (policy == DG_KEEP_FIRST) {
        for (int64_t i = 0; i < n; i++)
            keep[i] = dg_status_usable(status[i]) && label[i] == lo + i;
        return DG_OK;
    }
    keep_state k = {.n_total = n_total, .lo = lo, .n = n, .label = label, .status = status,
                    .centrality = centrality};
    rc = keep_central(ctx, &k, keep, err);
    keep_free(&k);
    return rc;
}

/* ---- best matches and the spanning forest (graph.edges) ----------------- */

typedef struct match_rec {
    int64_t id, other;
    float sim;
    int32_t pad;
} match_rec;

static void offer(float *best_sim, int64_t *best_match, int64_t r, int64_t other, float sim)
{
    if (sim > best_sim[r] || (sim == best_sim[r] && other < best_match[r])) {
        best_sim[r] = sim;
        best_match[r] = other;
    }
}

int dg_graph_best(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const dg_edges *edges,
                  float *best_sim, int64_t *best_match, dg_err *err)
{
    xchg x;
    if (xchg_init(&x, ctx, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < n; i++) {
        best_sim[i] = NAN;
        best_match[i] = -1;
    }
    float *bs = dg_alloc((size_t)(n > 0 ? n : 1), sizeof *bs, err);
    match_rec *send = dg_alloc((size_t)(edges->n > 0 ? edges->n : 1), sizeof *send, err);
    int64_t *dst = dg_alloc((size_t)(edges->n > 0 ? edges->n : 1), sizeof *dst, err);
    match_rec *recv = NULL;
    int rc = bs && send && dst ? check_range(ctx, n_total, lo, n, err) : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < n; i++)
        bs[i] = -INFINITY;
    for (int64_t e = 0; rc == DG_OK && e < edges->n; e++) {
        if (edges->src[e] < lo || edges->src[e] >= lo + n)
            rc = dg_fail(err, "graph: edge (%lld, %lld) is not routed to its src's rank", (long long)edges->src[e],
                         (long long)edges->dst[e]);
        else
            offer(bs, best_match, edges->src[e] - lo, edges->dst[e], edges->sim[e]);
        dst[e] = edges->dst[e];
    }
    /* the dst side goes to its owner; edges are sorted by (src, dst), so
     * group the records by dst's owner */
    int64_t *next = rc == DG_OK ? dg_calloc((size_t)ctx->size, sizeof *next, err) : NULL;
    if (rc == DG_OK && !next)
        rc = DG_FAIL;
    if (rc == DG_OK) {
        xchg_count_owners(&x, n_total, dst, edges->n);
        for (int r = 1; r < ctx->size; r++)
            next[r] = next[r - 1] + x.scount[r - 1];
        for (int64_t e = 0; e < edges->n; e++)
            send[next[dg_range_owner(n_total, ctx->size, dst[e])]++] =
                (match_rec){edges->dst[e], edges->src[e], edges->sim[e], 0};
    }
    free(next);
    rc = xchg_counts(&x, rc, err);
    if (rc == DG_OK && !(recv = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *recv, err)))
        rc = DG_FAIL;
    if (dg_agree(ctx, rc, err) == DG_OK) {
        xchg_run(&x, send, recv, sizeof *recv);
        for (int64_t k = 0; k < x.nrecv; k++)
            offer(bs, best_match, recv[k].id - lo, recv[k].other, recv[k].sim);
        for (int64_t i = 0; i < n; i++)
            if (best_match[i] >= 0)
                best_sim[i] = bs[i];
        rc = DG_OK;
    } else {
        rc = DG_FAIL;
    }
    free(bs);
    free(send);
    free(dst);
    free(recv);
    xchg_free(&x);
    return rc;
}

typedef struct forest_rec {
    int64_t src, dst;
    float sim, score;
} forest_rec;

/* Collective: edges (with their scores) to the ranks owning owner_id[e];
 * replaces the local lists.  Returns an agreed status. */
static int route_edges(const dg_ctx *ctx, int64_t n_total, dg_edges *e, float **score, const int64_t *owner_id,
                       dg_err *err)
{
    xchg x;
    if (xchg_init(&x, ctx, err) != DG_OK)
        return DG_FAIL;
    int p = ctx->size;
    forest_rec *send = dg_alloc((size_t)(e->n > 0 ? e->n : 1), sizeof *send, err);
    int64_t *next = dg_calloc((size_t)p, sizeof *next, err);
    forest_rec *recv = NULL;
    int rc = send && next ? DG_OK : DG_FAIL;
    if (rc == DG_OK) {
        xchg_count_owners(&x, n_total, owner_id, e->n);
        for (int r = 1; r < p; r++)
            next[r] = next[r - 1] + x.scount[r - 1];
        for (int64_t i = 0; i < e->n; i++)
            send[next[dg_range_owner(n_total, p, owner_id[i])]++] =
                (forest_rec){e->src[i], e->dst[i], e->sim[i], *score ? (*score)[i] : NAN};
    }
    rc = xchg_counts(&x, rc, err);
    if (rc == DG_OK && !(recv = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *recv, err)))
        rc = DG_FAIL;
    float *sc = NULL;
    if (rc == DG_OK && *score && !(sc = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *sc, err)))
        rc = DG_FAIL;
    if (dg_agree(ctx, rc, err) == DG_OK) {
        xchg_run(&x, send, recv, sizeof *recv);
        free(send);
        send = NULL;
        dg_edges_free(e);
        e->src = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *e->src, err);
        e->dst = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *e->dst, err);
        e->sim = dg_alloc((size_t)(x.nrecv > 0 ? x.nrecv : 1), sizeof *e->sim, err);
        rc = e->src && e->dst && e->sim ? DG_OK : DG_FAIL;
        for (int64_t k = 0; rc == DG_OK && k < x.nrecv; k++) {
            e->src[k] = recv[k].src;
            e->dst[k] = recv[k].dst;
            e->sim[k] = recv[k].sim;
            if (sc)
                sc[k] = recv[k].score;
        }
        e->n = e->cap = rc == DG_OK ? x.nrecv : 0;
        if (*score) {
            free(*score);
            *score = sc;
            sc = NULL;
        }
    } else {
        rc = DG_FAIL;
    }
    free(sc);
    free(send);
    free(next);
    free(recv);
    xchg_free(&x);
    return dg_agree(ctx, rc, err);
}

/* A component's edges all meet on the rank owning its label, where the
 * maximum spanning forest is taken (search/forest.h), then every kept edge
 * goes back to its src's rank.  Components were found distributed; only
 * the edges of each component, O(its size) in forest mode, meet on one
 * rank. */
int dg_graph_forest(const dg_ctx *ctx, int64_t n_total, int64_t lo, int64_t n, const int64_t *label,
                    dg_edges *edges, float **score, dg_err *err)
{
    int64_t *to = dg_alloc((size_t)(edges->n > 0 ? edges->n : 1), sizeof *to, err);
    int rc = to ? check_range(ctx, n_total, lo, n, err) : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < edges->n; i++) {
        if (edges->src[i] < lo || edges->src[i] >= lo + n)
            rc = dg_fail(err, "graph: edge (%lld, %lld) is not routed to its src's rank", (long long)edges->src[i],
                         (long long)edges->dst[i]);
        else
            to[i] = label[edges->src[i] - lo];
    }
    if (dg_agree(ctx, rc, err) != DG_OK || route_edges(ctx, n_total, edges, score, to, err) != DG_OK) {
        free(to);
        return DG_FAIL;
    }
    free(to);
    rc = dg_edges_spanning_forest(edges, *score, err);
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    to = dg_alloc((size_t)(edges->n > 0 ? edges->n : 1), sizeof *to, err);
    rc = to ? DG_OK : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < edges->n; i++)
        to[i] = edges->src[i];
    if (dg_agree(ctx, rc, err) != DG_OK || route_edges(ctx, n_total, edges, score, to, err) != DG_OK) {
        free(to);
        return DG_FAIL;
    }
    free(to);
    /* edges from several ranks arrive in rank order: sort by (src, dst) */
    rc = dg_edges_spanning_forest(edges, *score, err);
    return dg_agree(ctx, rc, err);
}
