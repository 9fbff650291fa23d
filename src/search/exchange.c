/* exchange.c - the cluster plan and the item exchange of one clustering.
 *
 * The plan counts each cluster's members and queries over all ranks
 * (MPI_Allreduce), splits the clusters too heavy for one rank into tasks
 * (blocks of their pair work, see exchange.h) and gives tasks to ranks by
 * expected pair work, the same way on every rank.  The exchange then sends
 * every usable item to each rank that needs it: the owner of its home
 * cluster (as a member) and the owners of its other probed clusters (as a
 * query), or for a split cluster every rank with a task on the item's part,
 * in rounds of MPI_Alltoallv of fixed-size records, and sorts what arrived
 * into a bucket ordered by (cluster, is_query, part, id).  The part is not
 * sent: the receiver recomputes it from the id.  Which clusters an item
 * probes comes from kmeans.c; what happens to a bucket is pairs.c.
 *
 * Vectors travel as float32.  float16 would halve the bytes (144 instead of
 * 272 per record at D = 64) but not the memory (sgemm needs float32 rows, so
 * the bucket would be converted back), and the pair search must re-score
 * with the original floats: a float16 dot product of unit vectors is off by
 * up to ~2e-4 (measured; DG_SIM_RESCORE_EPS is 1e-4), so it would need a
 * wider candidate margin and a second exchange fetching the float32 vectors
 * of every candidate pair.  Measured at 1M x 64 on 2 ranks, MPI_Alltoallv is
 * 0.33 s of a 1.7 s exchange (packing, sorting and page faults are the
 * rest), so float16 would save about a tenth of the exchange: not worth
 * giving up exact similarities or adding the second round trip.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search/exchange.h"

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

/* Greedy balancing of n pieces of work: heaviest first (ties: lower index)
 * to the least-loaded rank (ties: lower rank). */
static int assign_costs(int64_t n, const double *cost, int p, int32_t *owner, double *max_load,
                        double *mean_load, dg_err *err)
{
    if (n < 0 || p < 1)
        return dg_fail(err, "cannot assign %lld pieces of work to %d ranks", (long long)n, p);
    cluster_cost *order = dg_alloc((size_t)n, sizeof *order, err);
    rank_load *heap = dg_alloc((size_t)p, sizeof *heap, err);
    if (!order || !heap) {
        free(order);
        free(heap);
        return DG_FAIL;
    }
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) {
        order[i] = (cluster_cost){cost[i], i};
        total += cost[i];
    }
    qsort(order, (size_t)n, sizeof *order, cmp_heaviest_first);
    /* Loads all start at zero, so ranks in order already form a heap. */
    for (int r = 0; r < p; r++)
        heap[r] = (rank_load){0.0, r};
    for (int64_t i = 0; i < n; i++) {
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

int dg_assign_owners(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner,
                     double *max_load, double *mean_load, dg_err *err)
{
    if (k < 0 || p < 1)
        return dg_fail(err, "cannot assign %lld clusters to %d ranks", (long long)k, p);
    double *cost = dg_alloc((size_t)k, sizeof *cost, err);
    if (!cost)
        return DG_FAIL;
    for (int64_t c = 0; c < k; c++)
        cost[c] = cluster_work(members[c], queries[c]);
    int rc = assign_costs(k, cost, p, owner, max_load, mean_load, err);
    free(cost);
    return rc;
}

/* ---- splitting ------------------------------------------------------------ */

/* A cluster is split when its work is above SPLIT_SHARE of a rank's fair
 * share (total work / P), into tasks of about TASK_SHARE of it.  With every
 * piece at most half the mean load, the greedy's busiest rank stays within
 * 1.5 x the mean: the last piece it got went to a rank at or below the
 * mean.  Smaller tasks would balance more finely but send a split cluster's
 * items to more ranks. */
#define SPLIT_SHARE 0.5
#define TASK_SHARE 0.25

int32_t dg_item_part(int64_t id, int32_t cluster, int32_t parts)
{
    uint64_t h = dg_mix64(dg_mix64((uint64_t)id) ^ (uint64_t)(uint32_t)cluster);
    return (int32_t)(((unsigned __int128)h * (uint64_t)(parts > 0 ? parts : 1)) >> 64);
}

/* ceil(x / step), at least 1 and at most `most` (>= 1). */
static int32_t ceil_parts(double x, double step, int64_t most)
{
    double parts = step > 0 ? ceil(x / step) : 1.0;
    double cap = most < INT32_MAX ? (double)most : (double)INT32_MAX;
    if (!(parts >= 1.0))
        parts = 1.0;
    return (int32_t)(parts < cap ? parts : cap < 1.0 ? 1.0 : cap);
}

/* Parts of cluster c when its work is too much for one rank: member parts
 * so an off-diagonal block ((n/B)^2 pairs) fits the task size, then query
 * parts so a query block ((q/Bq) x n/B) does too. */
static void split_cluster(dg_cluster_plan *plan, int64_t c, double task)
{
    double n = (double)plan->members[c], q = (double)plan->queries[c];
    int32_t b = ceil_parts(n, sqrt(task), plan->members[c]);
    plan->parts[c] = b;
    plan->query_parts[c] = ceil_parts(q * (n / b), task, plan->queries[c]);
}

static int64_t cluster_tasks(const dg_cluster_plan *plan, int64_t c)
{
    if (plan->owner[c] >= 0)
        return 1;
    int64_t b = plan->parts[c];
    return b * (b + 1) / 2 + (plan->queries[c] > 0 ? (int64_t)plan->query_parts[c] * b : 0);
}

static void add_task(dg_cluster_plan *plan, int64_t c, int32_t kind, int32_t a, int32_t b, double work)
{
    plan->task[plan->n_tasks++] = (dg_task){(int32_t)c, kind, a, b, -1, work, 0};
}

/* The tasks of cluster c, in (kind, a, b) order. */
static void add_cluster_tasks(dg_cluster_plan *plan, int64_t c)
{
    if (plan->owner[c] >= 0) {
        add_task(plan, c, DG_TASK_CLUSTER, 0, 0, cluster_work(plan->members[c], plan->queries[c]));
        return;
    }
    int32_t parts = plan->parts[c], qparts = plan->query_parts[c];
    double size = (double)plan->members[c] / parts, qsize = (double)plan->queries[c] / qparts;
    for (int32_t a = 0; a < parts; a++)
        for (int32_t b = a; b < parts; b++)
            add_task(plan, c, DG_TASK_MEMBERS, a, b, a == b ? size * size / 2.0 : size * size);
    if (plan->queries[c] > 0)
        for (int32_t a = 0; a < qparts; a++)
            for (int32_t b = 0; b < parts; b++)
                add_task(plan, c, DG_TASK_QUERIES, a, b, qsize * size);
}

int32_t dg_fixed_split_ranks(int64_t k)
{
    int64_t r = k / DG_CLUSTERS_PER_SPLIT_RANK;
    return (int32_t)(r < 1 ? 1 : r < INT32_MAX ? r : INT32_MAX);
}

/* Rounds: parts of cluster c of at most a quarter of max_rows each, so a
 * task (two parts) has about half of max_rows rows; the other half is slack
 * for the hash's unevenness.  Never fewer parts than the load split chose. */
static void split_rows(dg_cluster_plan *plan, int64_t c)
{
    double quarter = (double)plan->max_rows / 4.0;
    int32_t b = ceil_parts((double)plan->members[c], quarter, plan->members[c]);
    int32_t qb = ceil_parts((double)plan->queries[c], quarter, plan->queries[c]);
    plan->parts[c] = b > plan->parts[c] ? b : plan->parts[c];
    plan->query_parts[c] = qb > plan->query_parts[c] ? qb : plan->query_parts[c];
}

/* Marks the clusters to split (owner -1) and sets their parts: those with
 * too much work for one rank (for p ranks, or plan->split_ranks when set,
 * see exchange.h), and with rounds those with more rows than one round
 * holds. */
static void choose_splits(dg_cluster_plan *plan, int p)
{
    if (plan->split_ranks > 0)
        p = plan->split_ranks;
    double total = 0.0;
    for (int64_t c = 0; c < plan->k; c++)
        total += cluster_work(plan->members[c], plan->queries[c]);
    double fair = total / p;
    plan->split = 0;
    for (int64_t c = 0; c < plan->k; c++) {
        plan->parts[c] = 1;
        plan->query_parts[c] = 1;
        plan->owner[c] = 0;
        int by_load = p > 1 && cluster_work(plan->members[c], plan->queries[c]) > SPLIT_SHARE * fair;
        int by_rows = plan->max_rows > 0 && plan->members[c] + plan->queries[c] > plan->max_rows;
        if (!by_load && !by_rows)
            continue;
        plan->owner[c] = -1;
        if (by_load)
            split_cluster(plan, c, TASK_SHARE * fair);
        if (by_rows)
            split_rows(plan, c);
        plan->split++;
    }
}

/* Numbers the units of the split clusters (exchange.h). */
static int build_units(dg_cluster_plan *plan, dg_err *err)
{
    plan->unit_base = dg_alloc((size_t)plan->k, sizeof *plan->unit_base, err);
    if (!plan->unit_base)
        return DG_FAIL;
    int64_t units = 0;
    for (int64_t c = 0; c < plan->k; c++) {
        plan->unit_base[c] = plan->owner[c] >= 0 ? -1 : units;
        units += plan->owner[c] >= 0 ? 0 : (int64_t)plan->parts[c] + plan->query_parts[c];
    }
    plan->n_units = units;
    return DG_OK;
}

/* The (at most two) units a task of a split cluster reads. */
static int task_units(const dg_cluster_plan *plan, const dg_task *t, int64_t unit[2])
{
    int64_t base = plan->unit_base[t->cluster];
    if (t->kind == DG_TASK_QUERIES) {
        unit[0] = base + plan->parts[t->cluster] + t->a;
        unit[1] = base + t->b;
        return 2;
    }
    unit[0] = base + t->a;
    unit[1] = base + t->b;
    return t->a == t->b ? 1 : 2;
}

static int build_tasks(dg_cluster_plan *plan, dg_err *err)
{
    int64_t n = 0;
    for (int64_t c = 0; c < plan->k; c++)
        n += cluster_tasks(plan, c);
    plan->task = dg_alloc((size_t)n, sizeof *plan->task, err);
    if (!plan->task)
        return DG_FAIL;
    plan->n_tasks = 0;
    for (int64_t c = 0; c < plan->k; c++)
        add_cluster_tasks(plan, c);
    return DG_OK;
}

/* Balances the tasks; owner[] of unsplit clusters follows their task. */
static int assign_tasks(dg_cluster_plan *plan, int p, dg_err *err)
{
    int64_t n = plan->n_tasks;
    double *cost = dg_alloc((size_t)n, sizeof *cost, err);
    int32_t *owner = dg_alloc((size_t)n, sizeof *owner, err);
    int rc = cost && owner ? DG_OK : DG_FAIL;
    for (int64_t t = 0; rc == DG_OK && t < n; t++)
        cost[t] = plan->task[t].work;
    if (rc == DG_OK)
        rc = assign_costs(n, cost, p, owner, &plan->max_load, &plan->mean_load, err);
    for (int64_t t = 0; rc == DG_OK && t < n; t++) {
        plan->task[t].owner = owner[t];
        if (plan->task[t].kind == DG_TASK_CLUSTER)
            plan->owner[plan->task[t].cluster] = owner[t];
    }
    free(cost);
    free(owner);
    return rc;
}

/* The busiest rank's load had every cluster stayed whole (for the log). */
static int unsplit_load(dg_cluster_plan *plan, int p, dg_err *err)
{
    plan->unsplit_max_load = plan->max_load;
    if (plan->split == 0)
        return DG_OK;
    int32_t *owner = dg_alloc((size_t)plan->k, sizeof *owner, err);
    double mean;
    int rc = owner ? dg_assign_owners(plan->k, plan->members, plan->queries, p, owner, &plan->unsplit_max_load,
                                      &mean, err)
                   : DG_FAIL;
    free(owner);
    return rc;
}

static int plan_tables_alloc(dg_cluster_plan *plan, dg_err *err)
{
    size_t k = (size_t)plan->k;
    plan->owner = dg_calloc(k, sizeof *plan->owner, err);
    plan->parts = dg_calloc(k, sizeof *plan->parts, err);
    plan->query_parts = dg_calloc(k, sizeof *plan->query_parts, err);
    return plan->owner && plan->parts && plan->query_parts ? DG_OK : DG_FAIL;
}

int dg_plan_from_counts(dg_cluster_plan *plan, int p, dg_err *err)
{
    if (plan->k < 1 || plan->k > INT32_MAX || p < 1)
        return dg_fail(err, "bad cluster plan: k = %lld on %d ranks", (long long)plan->k, p);
    if (plan_tables_alloc(plan, err) != DG_OK)
        return DG_FAIL;
    plan->round_bytes = DG_EXCHANGE_ROUND_BYTES;
    plan->rounds = 1;
    choose_splits(plan, p);
    if (build_units(plan, err) != DG_OK || build_tasks(plan, err) != DG_OK || assign_tasks(plan, p, err) != DG_OK)
        return DG_FAIL;
    return unsplit_load(plan, p, err);
}

/* ---- rounds --------------------------------------------------------------- */

/* Rows task t adds to a round whose units so far carry `tag` in stamp
 * (stamp NULL: all of its rows); a whole cluster is a unit of its own. */
static int64_t new_rows(const dg_cluster_plan *plan, const dg_task *t, const int64_t *stamp, int64_t tag)
{
    if (t->kind == DG_TASK_CLUSTER)
        return plan->members[t->cluster] + plan->queries[t->cluster];
    int64_t unit[2], rows = 0;
    for (int i = task_units(plan, t, unit); i-- > 0;)
        if (!stamp || stamp[unit[i]] != tag)
            rows += plan->unit_rows[unit[i]];
    return rows;
}

static void stamp_units(const dg_cluster_plan *plan, const dg_task *t, int64_t *stamp, int64_t tag)
{
    int64_t unit[2];
    if (t->kind != DG_TASK_CLUSTER)
        for (int i = task_units(plan, t, unit); i-- > 0;)
            stamp[unit[i]] = tag;
}

static const char *task_kind_name(int32_t kind)
{
    return kind == DG_TASK_CLUSTER ? "whole" : kind == DG_TASK_MEMBERS ? "members x members" : "queries x members";
}

static int task_too_big(const dg_cluster_plan *plan, const dg_task *t, int64_t rows, dg_err *err)
{
    double mib = 1048576.0;
    return dg_failc(err, DG_E_MEMORY,
                    "cluster %d (%lld members, %lld queries): one of its tasks (%s, parts %d x %d) needs %lld "
                    "bucket rows = %.1f MiB on one rank, more than the %lld rows = %.1f MiB job.max_memory leaves "
                    "for one round of the exchange: raise job.max_memory",
                    t->cluster, (long long)plan->members[t->cluster], (long long)plan->queries[t->cluster],
                    task_kind_name(t->kind), t->a, t->b, (long long)rows, (double)rows * plan->row_bytes / mib,
                    (long long)plan->max_rows, (double)plan->max_rows * plan->row_bytes / mib);
}

/* Distinct rows of the tasks order[i, j) (one cluster's on one rank),
 * counted under a fresh tag.  Only that cluster's tasks read its units, so
 * the current round's stamps are not disturbed. */
static int64_t group_rows(const dg_cluster_plan *plan, const int64_t *order, int64_t i, int64_t j, int64_t *stamp,
                          int64_t *tag)
{
    int64_t rows = 0, scratch = ++*tag;
    for (; i < j; i++) {
        const dg_task *t = &plan->task[order[i]];
        rows += new_rows(plan, t, stamp, scratch);
        stamp_units(plan, t, stamp, scratch);
    }
    return rows;
}

/* The rounds of rank r's tasks (order[lo, hi), in plan order); tags are
 * unique per (rank, round), *tag the last one used.  A cluster's tasks on
 * the rank start a new round when they would fit one but not what is left
 * of the current one, so their parts travel once; only a cluster larger
 * than a round has parts sent to the rank in more than one round. */
static int rank_rounds(dg_cluster_plan *plan, const int64_t *order, int64_t lo, int64_t hi, int64_t *stamp,
                       int64_t *tag, dg_err *err)
{
    int32_t round = 0;
    int64_t rows = 0, round_tag = ++*tag;
    for (int64_t i = lo; i < hi; i++) {
        dg_task *t = &plan->task[order[i]];
        int64_t alone = new_rows(plan, t, NULL, 0);
        if (alone > plan->max_rows)
            return task_too_big(plan, t, alone, err);
        if (i == lo || plan->task[order[i - 1]].cluster != t->cluster) {
            int64_t j = i + 1;
            while (j < hi && plan->task[order[j]].cluster == t->cluster)
                j++;
            int64_t group = group_rows(plan, order, i, j, stamp, tag);
            if (rows > 0 && group <= plan->max_rows && rows + group > plan->max_rows) {
                round++;
                rows = 0;
                round_tag = ++*tag;
            }
        }
        int64_t add = new_rows(plan, t, stamp, round_tag);
        if (rows > 0 && rows + add > plan->max_rows) {
            round++;
            rows = 0;
            round_tag = ++*tag;
            add = alone;
        }
        stamp_units(plan, t, stamp, round_tag);
        rows += add;
        t->round = round;
        plan->round_rows = rows > plan->round_rows ? rows : plan->round_rows;
    }
    plan->rounds = round + 1 > plan->rounds ? round + 1 : plan->rounds;
    return DG_OK;
}

int dg_plan_rounds(dg_cluster_plan *plan, int p, dg_err *err)
{
    plan->rounds = 1;
    plan->round_rows = 0;
    if (plan->max_rows <= 0)
        return DG_OK;
    int64_t n = plan->n_tasks;
    int64_t *first = dg_calloc((size_t)p + 1, sizeof *first, err);
    int64_t *fill = dg_alloc((size_t)p, sizeof *fill, err);
    int64_t *order = dg_alloc((size_t)(n > 0 ? n : 1), sizeof *order, err);
    int64_t *stamp = dg_alloc((size_t)(plan->n_units > 0 ? plan->n_units : 1), sizeof *stamp, err);
    int rc = first && fill && order && stamp ? DG_OK : DG_FAIL;
    if (rc == DG_OK) {
        /* tasks by owner, each rank's in plan order */
        for (int64_t t = 0; t < n; t++)
            first[plan->task[t].owner + 1]++;
        for (int r = 0; r < p; r++)
            first[r + 1] += first[r];
        memcpy(fill, first, (size_t)p * sizeof *fill);
        for (int64_t t = 0; t < n; t++)
            order[fill[plan->task[t].owner]++] = t;
        for (int64_t u = 0; u < plan->n_units; u++)
            stamp[u] = -1;
    }
    int64_t tag = -1;
    for (int r = 0; rc == DG_OK && r < p; r++)
        rc = rank_rounds(plan, order, first[r], first[r + 1], stamp, &tag, err);
    free(first);
    free(fill);
    free(order);
    free(stamp);
    return rc;
}

/* ---- plan --------------------------------------------------------------- */

void dg_cluster_plan_free(dg_cluster_plan *plan)
{
    free(plan->owner);
    free(plan->members);
    free(plan->queries);
    free(plan->parts);
    free(plan->query_parts);
    free(plan->task);
    free(plan->unit_base);
    free(plan->unit_rows);
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
    plan->members = dg_calloc((size_t)k, sizeof *plan->members, err);
    plan->queries = dg_calloc((size_t)k, sizeof *plan->queries, err);
    return plan->members && plan->queries ? DG_OK : DG_FAIL;
}

/* One line about the splits, on rank 0. */
static void log_splits(const dg_ctx *ctx, const dg_cluster_plan *plan)
{
    if (plan->split == 0)
        return;
    int64_t big = -1;
    for (int64_t c = 0; c < plan->k; c++)
        if (plan->owner[c] < 0 && (big < 0 || cluster_work(plan->members[c], plan->queries[c]) >
                                                  cluster_work(plan->members[big], plan->queries[big])))
            big = c;
    dg_log(ctx,
           "plan: %lld of %lld clusters split, %lld tasks in all; largest: cluster %lld (%lld members, %lld "
           "queries) in %d member x %d query parts; max rank load %.3g, %.3g without splitting",
           (long long)plan->split, (long long)plan->k, (long long)plan->n_tasks, (long long)big,
           (long long)plan->members[big], (long long)plan->queries[big], plan->parts[big], plan->query_parts[big],
           plan->max_load, plan->unsplit_max_load);
}

/* Rounds: the global size of every unit, for dg_plan_rounds.  Collective. */
static int count_units(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m,
                       dg_cluster_plan *plan, dg_err *err)
{
    if (plan->n_units > INT_MAX)
        return dg_agree(ctx, dg_fail(err, "plan: %lld parts of split clusters", (long long)plan->n_units), err);
    plan->unit_rows = dg_calloc((size_t)(plan->n_units > 0 ? plan->n_units : 1), sizeof *plan->unit_rows, err);
    if (dg_agree(ctx, plan->unit_rows ? DG_OK : DG_FAIL, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < items->n; i++) {
        if (!dg_status_usable(items->status[i]))
            continue;
        for (int j = 0; j < m; j++) {
            int32_t c = near[i * m + j];
            if (plan->unit_base[c] >= 0)
                plan->unit_rows[plan->unit_base[c] + (j > 0 ? plan->parts[c] : 0) +
                                dg_item_part(items->lo + i, c, j > 0 ? plan->query_parts[c] : plan->parts[c])]++;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, plan->unit_rows, (int)plan->n_units, MPI_INT64_T, MPI_SUM, ctx->comm);
    return DG_OK;
}

int dg_plan_clusters(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m, int64_t k,
                     int32_t split_ranks, int64_t max_rows, double row_bytes, dg_cluster_plan *plan, dg_err *err)
{
    memset(plan, 0, sizeof *plan);
    plan->split_ranks = split_ranks;
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
    plan->max_rows = max_rows > 0 ? max_rows : 0;
    plan->row_bytes = row_bytes;
    rc = dg_agree(ctx, dg_plan_from_counts(plan, ctx->size, err), err);
    if (rc == DG_OK && plan->max_rows > 0) {
        rc = count_units(ctx, items, near, m, plan, err);
        /* the same plan everywhere: every rank fails alike */
        if (rc == DG_OK)
            rc = dg_agree(ctx, dg_plan_rounds(plan, ctx->size, err), err);
    }
    if (rc != DG_OK) {
        dg_cluster_plan_free(plan);
        return DG_FAIL;
    }
    log_splits(ctx, plan);
    if (plan->max_rows > 0)
        dg_log(ctx, "plan: %d round%s of at most %lld bucket rows (%.1f MiB) per rank; largest %lld rows", plan->rounds,
               plan->rounds == 1 ? "" : "s", (long long)plan->max_rows, (double)plan->max_rows * row_bytes / 1048576.0,
               (long long)plan->round_rows);
    return DG_OK;
}

/* ---- routes ----------------------------------------------------------- */

/* Where a record goes: a rank, in one task round. */
typedef struct dest {
    int32_t rank, round;
} dest;

/* Where the records of a split cluster go: unit u's (rank, round) pairs,
 * sorted and distinct, are to[start[u] .. start[u+1]).  A whole cluster's
 * records go to its owner in the round of its one task, round[c]. */
typedef struct routes {
    int64_t *start; /* units + 1 */
    dest *to;
    int32_t *round; /* k */
} routes;

static void routes_free(routes *rt)
{
    free(rt->start);
    free(rt->to);
    free(rt->round);
}

static int cmp_dest(const void *pa, const void *pb)
{
    const dest *a = pa, *b = pb;
    if (a->rank != b->rank)
        return (a->rank > b->rank) - (a->rank < b->rank);
    return (a->round > b->round) - (a->round < b->round);
}

/* Sorts each unit's destinations and drops repeats, compacting to[] in
 * place. */
static void routes_unique(routes *rt, int64_t units)
{
    int64_t out = 0, from = 0;
    for (int64_t u = 0; u < units; u++) {
        int64_t to = rt->start[u + 1];
        qsort(rt->to + from, (size_t)(to - from), sizeof *rt->to, cmp_dest);
        rt->start[u] = out;
        for (int64_t i = from; i < to; i++)
            if (i == from || cmp_dest(&rt->to[i], &rt->to[i - 1]) != 0)
                rt->to[out++] = rt->to[i];
        from = to;
    }
    rt->start[units] = out;
}

static int routes_build(const dg_cluster_plan *plan, routes *rt, dg_err *err)
{
    memset(rt, 0, sizeof *rt);
    int64_t units = plan->n_units;
    rt->start = dg_calloc((size_t)units + 1, sizeof *rt->start, err);
    rt->round = dg_calloc((size_t)plan->k, sizeof *rt->round, err);
    if (!rt->start || !rt->round)
        return DG_FAIL;
    int64_t unit[2];
    for (int64_t t = 0; t < plan->n_tasks; t++) {
        if (plan->task[t].kind == DG_TASK_CLUSTER)
            rt->round[plan->task[t].cluster] = plan->task[t].round;
        else
            for (int i = task_units(plan, &plan->task[t], unit); i-- > 0;)
                rt->start[unit[i] + 1]++;
    }
    for (int64_t u = 0; u < units; u++)
        rt->start[u + 1] += rt->start[u];
    rt->to = dg_alloc((size_t)(rt->start[units] > 0 ? rt->start[units] : 1), sizeof *rt->to, err);
    int64_t *fill = dg_alloc((size_t)(units > 0 ? units : 1), sizeof *fill, err);
    if (!rt->to || !fill) {
        free(fill);
        return DG_FAIL;
    }
    memcpy(fill, rt->start, (size_t)units * sizeof *fill);
    for (int64_t t = 0; t < plan->n_tasks; t++)
        if (plan->task[t].kind != DG_TASK_CLUSTER)
            for (int i = task_units(plan, &plan->task[t], unit); i-- > 0;)
                rt->to[fill[unit[i]]++] = (dest){plan->task[t].owner, plan->task[t].round};
    free(fill);
    routes_unique(rt, units);
    return DG_OK;
}

/* The part of an item in cluster c in one role. */
static int32_t part_in(const dg_cluster_plan *plan, int64_t id, int32_t c, int is_query)
{
    if (plan->owner[c] >= 0)
        return 0;
    return dg_item_part(id, c, is_query ? plan->query_parts[c] : plan->parts[c]);
}

/* Where an item's record for cluster c in one role goes: *count
 * destinations starting at the returned pointer (`one` holds a whole
 * cluster's). */
static const dest *destinations(const dg_cluster_plan *plan, const routes *rt, int64_t id, int32_t c,
                                int is_query, dest *one, int64_t *count)
{
    if (plan->owner[c] >= 0) {
        *one = (dest){plan->owner[c], rt->round[c]};
        *count = 1;
        return one;
    }
    int64_t u = plan->unit_base[c] + (is_query ? plan->parts[c] : 0) + part_in(plan, id, c, is_query);
    *count = rt->start[u + 1] - rt->start[u];
    return rt->to + rt->start[u];
}

/* ---- exchange ----------------------------------------------------------- */

/* One record on the wire: id (int64) at 0, cluster (int32) at 8, is_query
 * (int8) at 12, three zero bytes, then d floats at 16 so they stay aligned. */
enum { REC_ID = 0, REC_CLUSTER = 8, REC_QUERY = 12, REC_VEC = 16 };

/* A received record before sorting: its sort key and where its vector is. */
typedef struct record_key {
    int64_t order; /* cluster << 32 | is_query << 31 | part */
    int64_t id;
    int64_t at; /* row of its vector in the arrival-order array */
} record_key;

typedef struct wire {
    const dg_ctx *ctx;
    const dg_items *items;
    const int32_t *near;
    int m;
    const dg_cluster_plan *plan;
    const routes *rt;
    int32_t round; /* the task round being moved */
    size_t rec; /* bytes per record */
    int64_t *count; /* p: records per destination */
    int *send_count, *send_displ, *recv_count, *recv_displ; /* one round, in records */
    char *send, *recv;
    int64_t n_send, n_recv; /* one round */
    record_key *key;        /* every record received, in arrival order */
    float *vec;             /* their vectors */
    int64_t n_key, cap;
} wire;

static void round_free(wire *w)
{
    free(w->send);
    free(w->recv);
    w->send = w->recv = NULL;
}

static void wire_free(wire *w)
{
    round_free(w);
    free(w->count);
    free(w->send_count);
    free(w->send_displ);
    free(w->recv_count);
    free(w->recv_displ);
    free(w->key);
    free(w->vec);
}

static int wire_alloc(wire *w, const dg_ctx *ctx, const dg_items *items, dg_err *err)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->items = items;
    w->rec = REC_VEC + (size_t)items->d * sizeof(float);
    size_t p = (size_t)ctx->size;
    w->count = dg_calloc(p, sizeof *w->count, err);
    w->send_count = dg_calloc(p, sizeof(int), err);
    w->send_displ = dg_calloc(p, sizeof(int), err);
    w->recv_count = dg_calloc(p, sizeof(int), err);
    w->recv_displ = dg_calloc(p, sizeof(int), err);
    return w->count && w->send_count && w->send_displ && w->recv_count && w->recv_displ ? DG_OK : DG_FAIL;
}

/* Prefix sums of per-rank counts; fails when a count or an offset would
 * not fit the int that MPI_Alltoallv takes. */
static int fill_displ(const int64_t *count, int p, int *count_out, int *displ, int64_t *total, dg_err *err)
{
    int64_t sum = 0;
    for (int r = 0; r < p; r++) {
        if (count[r] > INT_MAX || sum > INT_MAX)
            return dg_fail(err, "exchange: %lld records for rank %d at offset %lld exceed one MPI_Alltoallv "
                                "(INT_MAX records); use fewer ranks per node or fewer probes",
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

/* w->count = records per destination of local items [lo, hi). */
static void count_range(wire *w, int64_t lo, int64_t hi)
{
    memset(w->count, 0, (size_t)w->ctx->size * sizeof *w->count);
    dest one;
    int64_t n_to;
    const dg_items *it = w->items;
    for (int64_t i = lo; i < hi; i++)
        if (dg_status_usable(it->status[i]))
            for (int j = 0; j < w->m; j++) {
                const dest *to = destinations(w->plan, w->rt, it->lo + i, w->near[i * w->m + j], j > 0, &one, &n_to);
                for (int64_t t = 0; t < n_to; t++)
                    if (to[t].round == w->round)
                        w->count[to[t].rank]++;
            }
}

/* Packs the records of items [lo, hi) ordered by destination (send_displ
 * must be set). */
static int pack_range(wire *w, int64_t lo, int64_t hi, dg_err *err)
{
    int p = w->ctx->size;
    w->send = dg_alloc((size_t)w->n_send, w->rec, err);
    int *cursor = dg_alloc((size_t)p, sizeof *cursor, err);
    if (!w->send || !cursor) {
        free(cursor);
        return DG_FAIL;
    }
    memcpy(cursor, w->send_displ, (size_t)p * sizeof *cursor);
    dest one;
    int64_t n_to;
    const dg_items *it = w->items;
    for (int64_t i = lo; i < hi; i++) {
        if (!dg_status_usable(it->status[i]))
            continue;
        const float *vec = it->vec + (size_t)i * (size_t)it->d;
        for (int j = 0; j < w->m; j++) {
            int32_t c = w->near[i * w->m + j];
            const dest *to = destinations(w->plan, w->rt, it->lo + i, c, j > 0, &one, &n_to);
            for (int64_t t = 0; t < n_to; t++)
                if (to[t].round == w->round)
                    pack_record(w->send + (size_t)cursor[to[t].rank]++ * w->rec, it->lo + i, c, j > 0, vec,
                                it->d);
        }
    }
    free(cursor);
    return DG_OK;
}

/* Receive counts of this round from every rank, then its receive buffer. */
static int plan_round_receives(wire *w, dg_err *err)
{
    int p = w->ctx->size;
    MPI_Alltoall(w->send_count, 1, MPI_INT, w->recv_count, 1, MPI_INT, w->ctx->comm);
    for (int r = 0; r < p; r++)
        w->count[r] = w->recv_count[r];
    if (fill_displ(w->count, p, w->recv_count, w->recv_displ, &w->n_recv, err) != DG_OK)
        return DG_FAIL;
    if (w->n_key + w->n_recv > w->cap)
        return dg_fail(err, "exchange: %lld records arrived, %lld were announced", (long long)(w->n_key + w->n_recv),
                       (long long)w->cap);
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

/* The round's records join the keys and the vector array. */
static void take_records(wire *w)
{
    int d = w->items->d;
    for (int64_t i = 0; i < w->n_recv; i++) {
        const char *at = w->recv + (size_t)i * w->rec;
        int64_t id;
        int32_t c;
        int8_t q;
        memcpy(&id, at + REC_ID, sizeof id);
        memcpy(&c, at + REC_CLUSTER, sizeof c);
        memcpy(&q, at + REC_QUERY, sizeof q);
        int64_t part = part_in(w->plan, id, c, q);
        int64_t row = w->n_key++;
        w->key[row] = (record_key){(int64_t)c << 32 | (int64_t)(q != 0) << 31 | part, id, row};
        memcpy(w->vec + (size_t)row * (size_t)d, at + REC_VEC, (size_t)d * sizeof(float));
    }
}

/* One round: items [lo, hi) of this rank to wherever they go.  Collective. */
static int move_round(wire *w, int64_t lo, int64_t hi, dg_err *err)
{
    count_range(w, lo, hi);
    int rc = fill_displ(w->count, w->ctx->size, w->send_count, w->send_displ, &w->n_send, err);
    if (rc == DG_OK)
        rc = pack_range(w, lo, hi, err);
    rc = dg_agree(w->ctx, rc, err);
    if (rc == DG_OK)
        rc = dg_agree(w->ctx, plan_round_receives(w, err), err);
    if (rc == DG_OK) {
        move_records(w);
        take_records(w);
    }
    round_free(w);
    return rc;
}

/* Records each rank gets over all rounds: allocates the keys and vectors;
 * *remote = records this rank sends to others; *rounds agreed by all.
 * Collective. */
static int plan_totals(wire *w, int64_t *remote, int *rounds, dg_err *err)
{
    int p = w->ctx->size;
    count_range(w, 0, w->items->n);
    int64_t *in = dg_alloc((size_t)p, sizeof *in, err);
    if (dg_agree(w->ctx, in ? DG_OK : DG_FAIL, err) != DG_OK) {
        free(in);
        return DG_FAIL;
    }
    MPI_Alltoall(w->count, 1, MPI_INT64_T, in, 1, MPI_INT64_T, w->ctx->comm);
    int64_t sent = 0, received = 0;
    for (int r = 0; r < p; r++) {
        sent += w->count[r];
        received += in[r];
    }
    *remote = sent - w->count[w->ctx->rank];
    free(in);
    int64_t round = w->plan->round_bytes > (int64_t)w->rec ? w->plan->round_bytes : (int64_t)w->rec;
    int64_t need = ((int64_t)w->rec * sent + round - 1) / round;
    /* rounds (job.max_memory): the receive buffer is bounded too */
    if (w->plan->max_rows > 0 && ((int64_t)w->rec * received + round - 1) / round > need)
        need = ((int64_t)w->rec * received + round - 1) / round;
    MPI_Allreduce(MPI_IN_PLACE, &need, 1, MPI_INT64_T, MPI_MAX, w->ctx->comm);
    *rounds = (int)(need < 1 ? 1 : need < INT_MAX ? need : INT_MAX);
    w->cap = received;
    size_t cells;
    int rc = dg_mul_size((size_t)received, (size_t)w->items->d, &cells, err);
    if (rc == DG_OK) {
        w->key = dg_alloc((size_t)received, sizeof *w->key, err);
        w->vec = dg_alloc(cells, sizeof *w->vec, err);
        rc = w->key && w->vec ? DG_OK : DG_FAIL;
    }
    return dg_agree(w->ctx, rc, err);
}

static int cmp_record_key(const void *pa, const void *pb)
{
    const record_key *a = pa, *b = pb;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Moves row key[i].at of vec to row i for every i, in place, following
 * the cycles of the permutation (tmp holds one row). */
static void permute_rows(float *vec, int d, record_key *key, int64_t n, float *tmp)
{
    size_t row = (size_t)d * sizeof(float);
    for (int64_t s = 0; s < n; s++) {
        if (key[s].at == s)
            continue;
        memcpy(tmp, vec + (size_t)s * (size_t)d, row);
        for (int64_t j = s;;) {
            int64_t from = key[j].at;
            key[j].at = j;
            if (from == s) {
                memcpy(vec + (size_t)j * (size_t)d, tmp, row);
                break;
            }
            memcpy(vec + (size_t)j * (size_t)d, vec + (size_t)from * (size_t)d, row);
            j = from;
        }
    }
}

void dg_bucket_free(dg_bucket *b)
{
    free(b->id);
    free(b->cluster);
    free(b->is_query);
    free(b->vec);
    free(b->part);
    free(b->task);
    memset(b, 0, sizeof *b);
}

/* The plan's tasks that this rank runs in task round `round`. */
static int bucket_tasks(dg_bucket *b, const dg_cluster_plan *plan, int rank, int32_t round, dg_err *err)
{
    int64_t n = 0;
    for (int64_t t = 0; t < plan->n_tasks; t++)
        n += plan->task[t].owner == rank && plan->task[t].round == round;
    b->task = dg_alloc((size_t)n, sizeof *b->task, err);
    if (!b->task)
        return DG_FAIL;
    for (int64_t t = 0; t < plan->n_tasks; t++)
        if (plan->task[t].owner == rank && plan->task[t].round == round)
            b->task[b->n_tasks++] = plan->task[t];
    return DG_OK;
}

/* Sorts the received records by (cluster, is_query, part, id) into the
 * bucket, which takes over the vector array. */
static int bucket_from_keys(wire *w, dg_bucket *b, dg_err *err)
{
    int64_t n = w->n_key;
    int d = w->items->d;
    qsort(w->key, (size_t)n, sizeof *w->key, cmp_record_key);
    float *tmp = dg_alloc((size_t)d, sizeof *tmp, err);
    if (!tmp)
        return DG_FAIL;
    permute_rows(w->vec, d, w->key, n, tmp);
    free(tmp);
    b->n = n;
    b->d = d;
    b->vec = w->vec;
    w->vec = NULL;
    b->id = dg_alloc((size_t)n, sizeof *b->id, err);
    b->cluster = dg_alloc((size_t)n, sizeof *b->cluster, err);
    b->is_query = dg_alloc((size_t)n, sizeof *b->is_query, err);
    b->part = dg_alloc((size_t)n, sizeof *b->part, err);
    if (!b->id || !b->cluster || !b->is_query || !b->part)
        return DG_FAIL;
    for (int64_t i = 0; i < n; i++) {
        b->id[i] = w->key[i].id;
        b->cluster[i] = (int32_t)(w->key[i].order >> 32);
        b->is_query[i] = (int8_t)(w->key[i].order >> 31 & 1);
        b->part[i] = (int32_t)(w->key[i].order & INT32_MAX);
    }
    return DG_OK;
}

/* The plan must come from the same communicator size. */
static int check_owners(const dg_cluster_plan *plan, int p, dg_err *err)
{
    for (int64_t c = 0; c < plan->k; c++)
        if (plan->owner[c] < -1 || plan->owner[c] >= p)
            return dg_fail(err, "exchange: cluster %lld is owned by rank %d of %d", (long long)c, plan->owner[c], p);
    for (int64_t t = 0; t < plan->n_tasks; t++)
        if (plan->task[t].owner < 0 || plan->task[t].owner >= p)
            return dg_fail(err, "exchange: task %lld is owned by rank %d of %d", (long long)t, plan->task[t].owner,
                           p);
    return DG_OK;
}

int dg_exchange(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m,
                const dg_cluster_plan *plan, int round, dg_bucket *out, int64_t *bytes_sent, dg_err *err)
{
    memset(out, 0, sizeof *out);
    *bytes_sent = 0;
    wire w;
    routes rt = {0};
    int rc = wire_alloc(&w, ctx, items, err);
    w.near = near;
    w.m = m;
    w.plan = plan;
    w.rt = &rt;
    w.round = round;
    if (rc == DG_OK && m < 1)
        rc = dg_fail(err, "exchange: %d probes", m);
    if (rc == DG_OK && (round < 0 || round >= plan->rounds))
        rc = dg_fail(err, "exchange: round %d of %d", round, plan->rounds);
    if (rc == DG_OK)
        rc = check_owners(plan, ctx->size, err);
    if (rc == DG_OK)
        rc = check_near(items, near, m, plan->k, err);
    if (rc == DG_OK)
        rc = routes_build(plan, &rt, err);
    int64_t remote = 0;
    int rounds = 0;
    if (dg_agree(ctx, rc, err) == DG_OK)
        rc = plan_totals(&w, &remote, &rounds, err);
    else
        rc = DG_FAIL;
    for (int r = 0; rc == DG_OK && r < rounds; r++)
        rc = move_round(&w, dg_range_lo(items->n, rounds, r), dg_range_lo(items->n, rounds, r + 1), err);
    if (rc == DG_OK) {
        *bytes_sent = remote * (int64_t)w.rec;
        rc = bucket_from_keys(&w, out, err);
        if (rc == DG_OK)
            rc = bucket_tasks(out, plan, ctx->rank, round, err);
        rc = dg_agree(ctx, rc, err);
    }
    routes_free(&rt);
    wire_free(&w);
    if (rc != DG_OK)
        dg_bucket_free(out);
    return rc;
}
