/* job_memory.c - the per-rank memory model.  With n = N/P items per rank,
 * m probes, C clusterings, K clusters, s = S/P sample points and r = n m
 * exchanged records, the long-lived arrays are
 *   runtime   Open MPI, HDF5 and OpenBLAS themselves (measured ~30 MiB)
 *   items     n (4D + 1): vectors and statuses; the embedder adds its own
 *             (input/embedder.h; image input: 24 n for sizes and path
 *             pointers and the path strings themselves)
 *   results   4 C K D centroids + n (4C + 25): clusters, centrality,
 *             component labels, keep flags, best matches and similarities
 *   probes    8 n m: the nearest clusters and their similarities
 * and on top the largest working set of one stage:
 *   embed     the embedder's working set (dg_embedder_memory), for image
 *             input: 2 n DG_DESC_DIM quantised descriptors until the
 *             projection, the network (weights, activations) when one runs,
 *             and the decoder: 8 bytes per pixel of embed.max_pixels, because
 *             libjpeg-turbo holds a progressive JPEG's whole coefficient array
 *             (2 bytes x 4 components at 4:4:4 CMYK) whatever the output
 *             scale - the bound, not the typical use (4:2:0 photos need 3)
 *   k-means   s (8D + 48): sample vectors, fixed-point copies, ids, hashes,
 *             assignments; + 8 K (D + 2) sums + a 16 MiB similarity block
 *             + 2 K D for the centroids packed as bfloat16 (job.precision;
 *             counted with float32 blocks too)
 *   exchange  r (4D + 41): received vectors (they become the bucket) and
 *             sort keys, then the bucket's id/cluster/part columns; + the
 *             send and receive buffers of one round (at most
 *             DG_EXCHANGE_ROUND_BYTES each).  With job.max_memory set the
 *             bucket is searched in task rounds (search/exchange.h): the
 *             fixed terms above, the two network buffers and the pair
 *             search's similarity block (4 block^2) are taken from
 *             15/16 of job.max_memory (the rest is headroom); of what is left the two network buffers take
 *             at most an eighth each (the MPI_Alltoallv rounds shrink to
 *             fit) and the rest is the budget of one task round's bucket,
 *             so the exchange term is the smaller of r rows and that
 *             budget, and the total stays within job.max_memory
 *   graph     48 n: component and keep state per item
 *   exact     3 n (4D + 8): own and two visiting blocks in the ring
 * graph.edges = forest bounds the edges by the items: each task pushes at
 * most two per row it reads (a forest edge and a best match), and a whole
 * cluster's task reads each of its bucket rows once, so with every item a
 * duplicate a rank holds up to 2 n m C edges at 40 bytes (the list at
 * double capacity), held across clusterings and so counted in results.  A
 * split cluster's part is read by each of its tasks that uses it, so a
 * near-copy group in a split cluster costs up to 2 (parts + query parts)
 * edges a copy (parts at most about sqrt(K / 2) under forest mode's split,
 * search/exchange.h): not
 * in the estimate, which takes split clusters to hold a small share of the
 * items.  The
 * search's union-find and best matches take 28 bytes per bucket row,
 * counted in exchange.  With graph.edges = all, edges come on top (about
 * 80 bytes per edge a rank holds while the graph is built: a group of g
 * near-copies is g^2/2 of them), as does a split giant cluster's extra
 * copies (logged as rows per rank after each exchange). */
#include "core/job_memory.h"

#include <math.h>

#include "search/exchange.h"

static double max2(double a, double b)
{
    return a > b ? a : b;
}

double dg_memory_total(const dg_memory_model *mm)
{
    double work = max2(max2(mm->embed, mm->kmeans), max2(mm->exchange, max2(mm->graph, mm->exact)));
    return mm->runtime + mm->items + mm->results + mm->probes + work;
}

void dg_memory_inputs_for(const dg_config *cfg, int exact, int ranks, int64_t n_total, int d, dg_memory_inputs *in)
{
    int64_t k = dg_config_effective_k(cfg, n_total);
    *in = (dg_memory_inputs){
        .exact = exact,
        .ranks = ranks,
        .n_total = n_total,
        .d = d,
        .k = k,
        .sample = dg_config_effective_sample(cfg, k, n_total),
        .probes = cfg->probes,
        .clusterings = cfg->clusterings,
        .block = cfg->block,
        .forest = cfg->edges == DG_EDGES_FOREST,
        .max_memory = (double)cfg->max_memory,
    };
}

void dg_memory_estimate(const dg_memory_inputs *in, dg_memory_model *mm)
{
    double n = ceil((double)in->n_total / in->ranks), k = (double)in->k, d = in->d;
    double m = in->exact ? 1.0 : (in->probes < k ? in->probes : k);
    double c = in->exact ? 1.0 : in->clusterings;
    double s = ceil((double)in->sample / in->ranks);
    double block = 512.0 * k < (double)(1 << 22) ? 512.0 * k : (double)(1 << 22);
    *mm = (dg_memory_model){0};
    mm->runtime = 32.0 * 1048576.0;
    const dg_embedder_memory *em = &in->input;
    mm->items = n * (4.0 * d + 1.0) + (em->item_bytes * n + em->item_fixed);
    mm->results = 4.0 * c * k * d + n * (4.0 * c + 25.0) + (in->forest ? 40.0 * 2.0 * n * m * c : 0.0);
    mm->probes = 8.0 * n * m;
    mm->embed = em->work_per_item * n + em->network + em->decoder;
    mm->kmeans = s * (8.0 * d + 48.0) + 8.0 * k * (d + 2.0) + 4.0 * block + 2.0 * k * d;
    mm->graph = 48.0 * n;
    double round = n * m * (4.0 * d + 16.0);
    round = round < (double)DG_EXCHANGE_ROUND_BYTES ? round : (double)DG_EXCHANGE_ROUND_BYTES;
    mm->row_bytes = 4.0 * d + 41.0 + (in->forest ? 28.0 : 0.0);
    if (in->exact) {
        mm->exact = 3.0 * n * (4.0 * d + 8.0) + 4.0 * (double)in->block * in->block;
        return;
    }
    double bucket = n * m * mm->row_bytes;
    if (in->max_memory > 0) {
        double block = in->block > 0 ? in->block : 512.0; /* pairs.c's default */
        /* The model is within a few percent of the measured peak (e2e_memory);
         * a sixteenth of the cap is kept for what it leaves out (allocator
         * slack, a round's edges, small tables) so the peak stays under it. */
        double avail = in->max_memory * (15.0 / 16.0) -
                       (mm->runtime + mm->items + mm->results + mm->probes + 4.0 * block * block);
        round = round < avail / 8.0 ? round : max2(avail / 8.0, 0.0);
        mm->net_round_bytes = round;
        mm->bucket_budget = avail - 2.0 * round;
        bucket = bucket < mm->bucket_budget ? bucket : max2(mm->bucket_budget, 0.0);
    }
    mm->exchange = bucket + 2.0 * round;
}
