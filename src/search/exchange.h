/* exchange.h - moving items to the ranks that own their clusters.
 *
 * For one clustering, every usable item has its m nearest clusters (from
 * dg_nearest_centroids): it travels to the owner of the first as a member and
 * to the owners of the others as a query.  Clusters are given to ranks so
 * that the expected pair work (n^2/2 + q*n for n members, q queries) is
 * balanced; the plan is computed identically on every rank from global
 * counts (MPI_Allreduce), then items move with one MPI_Alltoallv.
 *
 * Skew: a cluster whose work exceeds half a rank's fair share (total work /
 * P, P > 1) is split.  Its members are cut into `parts` and its queries into
 * `query_parts` by a hash of the item id (dg_item_part); every block of its
 * member x member triangle (member parts a <= b) and of its queries x
 * members (query part a, member part b) becomes a task of its own, sized
 * about a quarter of the fair share.  Tasks are given to ranks like whole
 * clusters, and an item goes once to every rank holding a task that needs
 * its part.  Each pair of the cluster is still searched exactly once.
 *
 * graph.edges = forest needs the same tasks for any P, because each task
 * drops the pairs its own union-find finds redundant (search/forest.h): it
 * splits as if for split_ranks = dg_fixed_split_ranks(K) = K / 16 ranks (at
 * least 1), whatever P is, also at P = 1.  Up to P = K / 16 (16 clusters a
 * rank; K ~ sqrt(2.5 N) is 2^17 at N = 5e9, so 8192 ranks) that splits at
 * least as finely as the rule for P, so the busiest rank keeps within
 * 1.5 x the mean.  Beyond it, clusters of up to 8 x the mean cluster work
 * stay whole and the imbalance can reach 8 P / K - but then there are too
 * few clusters per rank for whole clusters to balance well anyway, and
 * more clusters (cluster.k) is the remedy.  The price at small P is more
 * splitting than needed: a split cluster's items travel to up to min(P,
 * parts) ranks and a near-copy group in it costs up to 2 (parts + query
 * parts) edges a copy (a forest edge and a best match from each task that
 * reads its part; parts are at most about sqrt(K / 2)), still O(n), before
 * the cut to one spanning forest.
 * graph.edges = all keeps the rule for P (its edges never depend on the
 * split).  A split by rows for rounds (below) depends on P through
 * job.max_memory, so a forest cut that way can still differ with P.
 *
 * Rounds (job.max_memory set): a plan with max_rows > 0 also groups each
 * rank's tasks, in plan order, into rounds whose received rows (the
 * distinct parts its tasks read) stay within max_rows; a cluster with more
 * rows than that is split (as above) so that any one task fits.  Every
 * rank takes part in each of the plan's `rounds` exchanges (the most any
 * rank needs), and a round moves only the records of its own tasks, so a
 * rank holds one round's bucket at a time.  An item goes again to a rank
 * only when two of that rank's tasks reading its part fell in different
 * rounds.
 */
#ifndef DUPGRAPH_EXCHANGE_H
#define DUPGRAPH_EXCHANGE_H

#include <stdint.h>

#include "dupgraph/context.h"
#include "dupgraph/items.h"

/* One piece of pair work.  A whole cluster (DG_TASK_CLUSTER, parts 0, 0)
 * is its members x members plus its queries x members; a split cluster has
 * DG_TASK_MEMBERS tasks (member parts a <= b) and DG_TASK_QUERIES tasks
 * (query part a x member part b). */
enum { DG_TASK_CLUSTER = 0, DG_TASK_MEMBERS = 1, DG_TASK_QUERIES = 2 };

typedef struct dg_task {
    int32_t cluster;
    int32_t kind;  /* DG_TASK_* */
    int32_t a, b;  /* parts */
    int32_t owner; /* rank that runs it */
    double work;   /* expected pair comparisons */
    int32_t round; /* of its owner's rounds (0 without rounds) */
} dg_task;

typedef struct dg_cluster_plan {
    int64_t k;
    int32_t *owner;    /* k: rank that computes the cluster's pairs; -1 when split */
    int64_t *members;  /* k: global member counts */
    int64_t *queries;  /* k: global query counts */
    double max_load;   /* largest per-rank expected work, in pair comparisons */
    double mean_load;
    int32_t *parts;       /* k: member parts (1 unless split) */
    int32_t *query_parts; /* k: query parts (1 unless split) */
    int64_t n_tasks;
    dg_task *task;           /* ordered by (cluster, kind, a, b) */
    int64_t split;           /* clusters split into several tasks */
    double unsplit_max_load; /* max_load had no cluster been split */
    int64_t round_bytes;     /* bytes a rank sends (with max_rows: and receives) per MPI_Alltoallv round */
    int64_t max_rows;        /* bucket rows a round may hold; 0: one round, no limit */
    double row_bytes;        /* memory per bucket row, for messages */
    int32_t rounds;          /* task rounds, the same on every rank (1 without max_rows) */
    int64_t round_rows;      /* most rows any (rank, round) receives (0 without max_rows) */
    /* Units: one part of a split cluster in one role.  Cluster c's member
     * parts are units unit_base[c] .. + parts[c] - 1, its query parts the
     * next query_parts[c]; unit_base[c] is -1 for a whole cluster. */
    int64_t n_units;
    int64_t *unit_base; /* k */
    int64_t *unit_rows; /* n_units: global items in each unit (rounds only) */
    int32_t split_ranks; /* input: split for load as if for this many ranks; 0: for P */
} dg_cluster_plan;

/* Clusters per rank of the rank-count-free split rule (see above). */
#define DG_CLUSTERS_PER_SPLIT_RANK 16

/* split_ranks for graph.edges = forest: K / 16, at least 1. */
int32_t dg_fixed_split_ranks(int64_t k);

/* Default round_bytes: the exchange's send and receive buffers stay near
 * this size however many records a rank moves. */
#define DG_EXCHANGE_ROUND_BYTES ((int64_t)64 << 20)

/* near is items->n x m cluster indices (rows of unusable items ignored).
 * split_ranks: 0 to split for load for the communicator's size, else as if
 * for that many ranks (dg_fixed_split_ranks).
 * max_rows > 0: tasks in rounds of at most max_rows received rows per rank
 * (fails with DG_E_MEMORY, naming the cluster, when one task cannot fit;
 * row_bytes, the memory of a bucket row, only sizes that message). */
int dg_plan_clusters(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m, int64_t k,
                     int32_t split_ranks, int64_t max_rows, double row_bytes, dg_cluster_plan *plan, dg_err *err);
void dg_cluster_plan_free(dg_cluster_plan *plan);

/* Pure part of dg_plan_clusters (unit-testable): from plan->k,
 * plan->members, plan->queries, plan->split_ranks and plan->max_rows (set
 * by the caller), decides the splits for p ranks (or split_ranks) and fills
 * the tasks and units; rounds stay 1 until dg_plan_rounds. */
int dg_plan_from_counts(dg_cluster_plan *plan, int p, dg_err *err);

/* Pure: with plan->max_rows > 0 and plan->unit_rows filled, puts each
 * rank's tasks, in plan order, into rounds (a new round when the next task's
 * new rows would overflow max_rows) and sets rounds and round_rows; a task
 * that alone has more than max_rows rows fails with DG_E_MEMORY.  Without
 * max_rows: one round. */
int dg_plan_rounds(dg_cluster_plan *plan, int p, dg_err *err);

/* The part (0 .. parts-1) of a split cluster that item `id` falls in, as a
 * member (parts = plan->parts[cluster]) or as a query (query_parts). */
int32_t dg_item_part(int64_t id, int32_t cluster, int32_t parts);

/* Pure part of the plan (unit-testable): assigns k clusters to p ranks,
 * heaviest first (ties: lower cluster index) to the least-loaded rank (ties:
 * lower rank).  Fails only when its O(k + p) scratch cannot be allocated. */
int dg_assign_owners(int64_t k, const int64_t *members, const int64_t *queries, int p, int32_t *owner,
                     double *max_load, double *mean_load, dg_err *err);

/* The items a rank received, sorted by (cluster, is_query, part, id), and
 * the tasks of the plan this rank runs on them. */
typedef struct dg_bucket {
    int64_t n;
    int d;
    int64_t *id;
    int32_t *cluster;
    int8_t *is_query;
    float *vec;    /* n x d */
    int32_t *part; /* n: part of its cluster in its role (0 unless split) */
    int64_t n_tasks;
    dg_task *task; /* this rank's tasks, in plan order */
} dg_bucket;

/* Collective; on failure every rank returns DG_FAIL and out is empty.
 * Moves the records of the tasks of task round `round` (0 .. plan->rounds
 * - 1) and leaves those tasks in out.
 * Records move in rounds of plan->round_bytes per rank, each arriving
 * vector going straight to its row of the bucket, so the exchange holds
 * little more than the bucket itself.
 * *bytes_sent: bytes this rank sent to other ranks (its own records that
 * stay local are not counted). */
int dg_exchange(const dg_ctx *ctx, const dg_items *items, const int32_t *near, int m,
                const dg_cluster_plan *plan, int round, dg_bucket *out, int64_t *bytes_sent, dg_err *err);
void dg_bucket_free(dg_bucket *b);

#endif
