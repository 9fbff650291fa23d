/* exchange.c - the cluster plan and the item exchange of one clustering.
 *
 * The plan counts each cluster's members and queries over all ranks
 * (MPI_Allreduce) and gives clusters to ranks by expected pair work, the
 * same way on every rank.  The exchange then sends every usable item to the
 * owner of its home cluster (as a member) and to the owners of its other
 * probed clusters (as a query) in one MPI_Alltoallv of fixed-size records,
 * and sorts what arrived into a bucket ordered by (cluster, is_query, id).
 * Which clusters an item probes comes from kmeans.c; what happens to a
 * bucket is pairs.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dupgraph/exchange.h"

/* ---- owner assignment --------------------------------------------------- */

typedef struct cluster_cost {
    double cost;
    int64_t index;
} cluster_cost;

static int cmp_heaviest_first(const void *pa, const void *pb)
{
    const cluster_cost *a = pa, *b = pb;
    if (a->cost != b->cost)
        return a->cost > b->cost ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

/* Min-heap of ranks keyed by (load, rank). */
typedef struct rank_load {
    double load;
    int rank;
} rank_load;

static int lighter(const rank_load *a, const rank_load *b)
{
    return a->load < b->load || (a->load == b->load && a->rank < b->rank);
}

static void sift_down(rank_load *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && lighter(&h[l], &h[m]))
            m = l;
        if (r < n && lighter(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        rank_load t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static double cluster_work(int64_t members, int64_t queries)
{
    double n = (double)members, q = (double)queries;
    return n * n / 2.0 + q * n;
}

int dg_assign_owners(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner,
                     double *max_load, double *mean_load, dg_err *err)
{
    if (k < 0 || p < 1)
        return dg_fail(err, "cannot assign %lld clusters to %d ranks", (long long)k, p);
    cluster_cost *order = dg_alloc((size_t)k, sizeof *order, err);
    rank_load *heap = dg_alloc((size_t)p, sizeof *heap, err);
    if (!order || !heap) {
        free(order);
        free(heap);
        return DG_FAIL;
    }
    double total = 0.0;
    for (int64_t c = 0; c < k; c++) {
        order[c] = (cluster_cost){cluster_work(members[c], queries[c]), c};
        total += order[c].cost;
    }
    qsort(order, (size_t)k, sizeof *order, cmp_heaviest_first);
    /* Loads all start at zero, so ranks in order already form a heap. */
    for (int r = 0; r < p; r++)
        heap[r] = (rank_load){0.0, r};
    for (int64_t i = 0; i < k; i++) {
        owner[order[i].index] = heap[0].rank;
        heap[0].load += order[i].cost;
        sift_down(heap, p, 0);
    }
    double max = 0.0;
    for (int r = 0; r < p; r++)
        max = heap[r].load > max ? heap[r].load : max;
    *max_load = max;
    *mean_load = total / p;
    free(order);
    free(heap);
    return DG_OK;
}

/* ---- plan --------------------------------------------------------------- */

void dg_cluster_plan_free(dg_cluster_plan *plan)
{
    free(plan->owner);
    free(plan->members);
    free(plan->queries);
    memset(plan, 0, sizeof *plan);
}

/* Every probe of a usable item must name a cluster in [0, k). */
static int check_near(const dg_items *items, const int32_t *near, int m, int64_t k, dg_err *err)
{
    for (int64_t i = 0; i < items->n; i++) {
        if (!dg_status_usable(items->status[i]))
            continue;
        for (int j = 0; j < m; j++) {
            int32_t c = near[i * m + j];
            if (c < 0 || c >= k)
                return dg_fail(err, "item %lld probes cluster %d, outside 0..%lld", (long long)(items->lo + i), c,
                               (long long)k - 1);
        }
    }
    return DG_OK;
}

static void count_local(const dg_items *items, const int32_t *near, int m, dg_cluster_plan *plan)
{
    for (int64_t i = 0; i < items->n; i++) {
        if (!dg_status_usable(items->status[i]))
            continue;
        plan->members[near[i * m]]++;
        for (int j = 1; j < m; j++)
            plan->queries[near[i * m + j]]++;
    }
}

static int plan_alloc(dg_cluster_plan *plan, int64_t k, dg_err *err)
{
    plan->k = k;
    plan->owner = dg_calloc((size_t)k, sizeof *plan->owner, err);
    plan->members = dg_calloc((size_t)k, sizeof *plan->members, err);
    plan->queries = dg_calloc((size_t)k, sizeof *plan->queries, err);
    return plan->owner && plan->members && plan->queries ? DG_OK : DG_FAIL;
}

int dg_plan_clusters(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m, int64_t k,
                     dg_cluster_plan *plan, dg_err *err)
{
    memset(plan, 0, sizeof *plan);
    int rc = DG_OK;
    if (k < 1 || k > INT_MAX || m < 1)
        rc = dg_fail(err, "bad cluster plan: k = %lld, %d probes", (long long)k, m);
    if (rc == DG_OK)
        rc = check_near(items, near, m, k, err);
    if (rc == DG_OK)
        rc = plan_alloc(plan, k, err);
    if (rc == DG_OK)
        count_local(items, near, m, plan);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        dg_cluster_plan_free(plan);
        return DG_FAIL;
    }
    MPI_Allreduce(MPI_IN_PLACE, plan->members, (int)k, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Allreduce(MPI_IN_PLACE, plan->queries, (int)k, MPI_INT64_T, MPI_SUM, ctx->comm);
    rc = dg_assign_owners(k, plan->members, plan->queries, ctx->size, plan->owner, &plan->max_load,
                          &plan->mean_load, err);
    if (dg_agree(ctx, rc, err) != DG_OK) {
        dg_cluster_plan_free(plan);
        return DG_FAIL;
    }
    return DG_OK;
}

/* ---- exchange ----------------------------------------------------------- */

/* One record on the wire: id (int64) at 0, cluster (int32) at 8, is_query
 * (int8) at 12, three zero bytes, then d floats at 16 so they stay aligned. */
enum { REC_ID = 0, REC_CLUSTER = 8, REC_QUERY = 12, REC_VEC = 16 };

typedef struct wire {
    const dg_ctx *ctx;
    int d;
    size_t rec; /* bytes per record */
    int *send_count, *send_displ, *recv_count, *recv_displ; /* in records, one per rank */
    char *send, *recv;
    int64_t n_send, n_recv;
} wire;

static void wire_free(wire *w)
{
    free(w->send_count);
    free(w->send_displ);
    free(w->recv_count);
    free(w->recv_displ);
    free(w->send);
    free(w->recv);
}

static int wire_alloc(wire *w, const dg_ctx *ctx, int d, dg_err *err)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->d = d;
    w->rec = REC_VEC + (size_t)d * sizeof(float);
    size_t p = (size_t)ctx->size;
    w->send_count = dg_calloc(p, sizeof(int), err);
    w->send_displ = dg_calloc(p, sizeof(int), err);
    w->recv_count = dg_calloc(p, sizeof(int), err);
    w->recv_displ = dg_calloc(p, sizeof(int), err);
    return w->send_count && w->send_displ && w->recv_count && w->recv_displ ? DG_OK : DG_FAIL;
}

/* Prefix sums of per-rank counts; fails when a count or an offset would
 * not fit the int that MPI_Alltoallv takes. */
static int fill_displ(const int64_t *count, int p, int *count_out, int *displ, int64_t *total, dg_err *err)
{
    int64_t sum = 0;
    for (int r = 0; r < p; r++) {
        if (count[r] > INT_MAX || sum > INT_MAX)
            return dg_fail(err, "exchange: %lld records for rank %d at offset %lld exceed one MPI_Alltoallv "
                                "(INT_MAX records); use more ranks or fewer probes",
                           (long long)count[r], r, (long long)sum);
        count_out[r] = (int)count[r];
        displ[r] = (int)sum;
        sum += count[r];
    }
    *total = sum;
    return DG_OK;
}

static void pack_record(char *at, int64_t id, int32_t cluster, int8_t is_query, const float *vec, int d)
{
    memset(at, 0, REC_VEC);
    memcpy(at + REC_ID, &id, sizeof id);
    memcpy(at + REC_CLUSTER, &cluster, sizeof cluster);
    memcpy(at + REC_QUERY, &is_query, sizeof is_query);
    memcpy(at + REC_VEC, vec, (size_t)d * sizeof(float));
}

/* Counts records per destination, then packs them ordered by destination. */
static int pack_sends(wire *w, const dg_items *items, const int32_t *near, int m, const int32_t *owner,
                      dg_err *err)
{
    int p = w->ctx->size;
    int64_t *count = dg_calloc((size_t)p, sizeof *count, err);
    if (!count)
        return DG_FAIL;
    for (int64_t i = 0; i < items->n; i++)
        if (dg_status_usable(items->status[i]))
            for (int j = 0; j < m; j++)
                count[owner[near[i * m + j]]]++;
    int rc = fill_displ(count, p, w->send_count, w->send_displ, &w->n_send, err);
    free(count);
    if (rc != DG_OK)
        return DG_FAIL;
    w->send = dg_alloc((size_t)w->n_send, w->rec, err);
    int *cursor = dg_alloc((size_t)p, sizeof *cursor, err);
    if (!w->send || !cursor) {
        free(cursor);
        return DG_FAIL;
    }
    memcpy(cursor, w->send_displ, (size_t)p * sizeof *cursor);
    for (int64_t i = 0; i < items->n; i++) {
        if (!dg_status_usable(items->status[i]))
            continue;
        const float *vec = items->vec + (size_t)i * (size_t)items->d;
        for (int j = 0; j < m; j++) {
            int32_t c = near[i * m + j];
            int to = owner[c];
            pack_record(w->send + (size_t)cursor[to]++ * w->rec, items->lo + i, c, j > 0, vec, items->d);
        }
    }
    free(cursor);
    return DG_OK;
}

/* Receive counts from every rank, then the receive buffer. */
static int plan_receives(wire *w, dg_err *err)
{
    int p = w->ctx->size;
    MPI_Alltoall(w->send_count, 1, MPI_INT, w->recv_count, 1, MPI_INT, w->ctx->comm);
    int64_t *count = dg_alloc((size_t)p, sizeof *count, err);
    if (!count)
        return DG_FAIL;
    for (int r = 0; r < p; r++)
        count[r] = w->recv_count[r];
    int rc = fill_displ(count, p, w->recv_count, w->recv_displ, &w->n_recv, err);
    free(count);
    if (rc != DG_OK)
        return DG_FAIL;
    w->recv = dg_alloc((size_t)w->n_recv, w->rec, err);
    return w->recv ? DG_OK : DG_FAIL;
}

static void move_records(wire *w)
{
    MPI_Datatype rec;
    MPI_Type_contiguous((int)w->rec, MPI_BYTE, &rec);
    MPI_Type_commit(&rec);
    MPI_Alltoallv(w->send, w->send_count, w->send_displ, rec, w->recv, w->recv_count, w->recv_displ, rec,
                  w->ctx->comm);
    MPI_Type_free(&rec);
}

typedef struct record_key {
    int64_t id;
    int32_t cluster;
    int8_t is_query;
    int64_t at; /* record index in the receive buffer */
} record_key;

static int cmp_record_key(const void *pa, const void *pb)
{
    const record_key *a = pa, *b = pb;
    if (a->cluster != b->cluster)
        return a->cluster < b->cluster ? -1 : 1;
    if (a->is_query != b->is_query)
        return a->is_query < b->is_query ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return 0;
}

static int bucket_alloc(dg_bucket *b, int64_t n, int d, dg_err *err)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    b->d = d;
    size_t cells;
    if (dg_mul_size((size_t)n, (size_t)d, &cells, err) != DG_OK)
        return DG_FAIL;
    b->id = dg_alloc((size_t)n, sizeof *b->id, err);
    b->cluster = dg_alloc((size_t)n, sizeof *b->cluster, err);
    b->is_query = dg_alloc((size_t)n, sizeof *b->is_query, err);
    b->vec = dg_alloc(cells, sizeof *b->vec, err);
    return b->id && b->cluster && b->is_query && b->vec ? DG_OK : DG_FAIL;
}

void dg_bucket_free(dg_bucket *b)
{
    free(b->id);
    free(b->cluster);
    free(b->is_query);
    free(b->vec);
    memset(b, 0, sizeof *b);
}

/* Sorts the received records by (cluster, is_query, id) into the bucket. */
static int unpack_sorted(const wire *w, dg_bucket *out, dg_err *err)
{
    record_key *key = dg_alloc((size_t)w->n_recv, sizeof *key, err);
    if (!key || bucket_alloc(out, w->n_recv, w->d, err) != DG_OK) {
        free(key);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < w->n_recv; i++) {
        const char *at = w->recv + (size_t)i * w->rec;
        key[i].at = i;
        memcpy(&key[i].id, at + REC_ID, sizeof key[i].id);
        memcpy(&key[i].cluster, at + REC_CLUSTER, sizeof key[i].cluster);
        memcpy(&key[i].is_query, at + REC_QUERY, sizeof key[i].is_query);
    }
    qsort(key, (size_t)w->n_recv, sizeof *key, cmp_record_key);
    for (int64_t i = 0; i < w->n_recv; i++) {
        out->id[i] = key[i].id;
        out->cluster[i] = key[i].cluster;
        out->is_query[i] = key[i].is_query;
        memcpy(out->vec + (size_t)i * (size_t)w->d, w->recv + (size_t)key[i].at * w->rec + REC_VEC,
               (size_t)w->d * sizeof(float));
    }
    free(key);
    return DG_OK;
}

static int64_t remote_bytes(const wire *w)
{
    int64_t records = w->n_send - w->send_count[w->ctx->rank];
    return records * (int64_t)w->rec;
}

/* The plan must come from the same communicator size. */
static int check_owners(const dg_cluster_plan *plan, int p, dg_err *err)
{
    for (int64_t c = 0; c < plan->k; c++)
        if (plan->owner[c] < 0 || plan->owner[c] >= p)
            return dg_fail(err, "exchange: cluster %lld is owned by rank %d of %d", (long long)c, plan->owner[c], p);
    return DG_OK;
}

int dg_exchange(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m,
                const dg_cluster_plan *plan, dg_bucket *out, int64_t *bytes_sent, dg_err *err)
{
    memset(out, 0, sizeof *out);
    *bytes_sent = 0;
    wire w;
    int rc = wire_alloc(&w, ctx, items->d, err);
    if (rc == DG_OK && m < 1)
        rc = dg_fail(err, "exchange: %d probes", m);
    if (rc == DG_OK)
        rc = check_owners(plan, ctx->size, err);
    if (rc == DG_OK)
        rc = check_near(items, near, m, plan->k, err);
    if (rc == DG_OK)
        rc = pack_sends(&w, items, near, m, plan->owner, err);
    rc = dg_agree(ctx, rc, err);
    if (rc == DG_OK)
        rc = dg_agree(ctx, plan_receives(&w, err), err);
    if (rc == DG_OK) {
        move_records(&w);
        *bytes_sent = remote_bytes(&w);
        free(w.send);
        w.send = NULL;
        rc = dg_agree(ctx, unpack_sorted(&w, out, err), err);
    }
    wire_free(&w);
    if (rc != DG_OK)
        dg_bucket_free(out);
    return rc;
}
