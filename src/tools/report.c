/* report.c - `dupgraph report`: gathers what a person needs to judge a run
 * from an output file (headline counts, the largest duplicate groups, pair
 * samples on both sides of the threshold), makes thumbnails of the items it
 * shows (thumbnail.c) and writes one static HTML page (see report.h).  It
 * reads through io/h5_file.h (the facts and settings) and io/h5_columns.h:
 * the per-item columns whole, the edges in bounded row ranges, embeddings
 * only for a bounded set of items.
 */
#include "tools/report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/h5_columns.h"
#include "io/h5_file.h"
#include "search/pairs.h"
#include "tools/sweep.h"
#include "tools/thumbnail.h"

#define EDGE_CHUNK_ROWS ((int64_t)1 << 18)
#define SIZE_BUCKETS 64
/* The sweep: up to SWEEP_STEPS stricter rules of each kind, SWEEP_STEP apart. */
#define SWEEP_STEPS 8
#define SWEEP_STEP 0.05f
#define SWEEP_ROWS (2 * (SWEEP_STEPS + 1))
/* Bytes of a thumbnail's path, OUTDIR/thumbs/ID.jpg. */
#define THUMB_DST_MAX (DG_PATH_MAX + 64)

void dg_report_params_default(dg_report_params *p)
{
    *p = (dg_report_params){.groups = 20,
                            .members = 12,
                            .pairs = 12,
                            .band = 0.05f,
                            .below_items = 4096,
                            .thumb_size = 160,
                            .thumb_quality = 80};
}

/* A duplicate group (component of two or more usable items) on the page. */
typedef struct group {
    int64_t label; /* the component id */
    int64_t size;
    int64_t kept;  /* -1 if no member is kept */
    int64_t edges;
    float sim_min, sim_max;
    int n_shown;
    int64_t *shown; /* ids, kept first, then members in id order */
    float *to_kept; /* per shown member: its edge to the kept item, NAN if none */
    float *best;    /* per shown member: its strongest edge, NAN if none */
} group;

/* Sorted lookup from a key (component label or item id) to a group and a
 * place in it. */
typedef struct slot {
    int64_t key;
    int group;
    int index;
} slot;

typedef struct pair {
    int64_t a, b;
    float sim;
    uint64_t hash;
} pair;

/* The `cap` pairs with the smallest hash seen so far, sorted by hash. */
typedef struct sample {
    pair *p;
    int n, cap;
} sample;

/* A shown item: its path and its thumbnail, if one could be made. */
typedef struct thumb {
    int64_t id;
    char *path;
    int ok;
    int w, h;
} thumb;

typedef struct report {
    const char *path;
    const char *outdir;
    const dg_report_params *p;
    dg_report_counts *counts;
    dg_h5_facts facts;
    float threshold;
    int64_t n;
    int8_t *status;
    int8_t *keep;
    int64_t *component;
    int64_t usable;
    int64_t by_status[DG_ST_COUNT + 1];
    int64_t n_groups, grouped; /* groups of two or more, items in them */
    int64_t size_hist[SIZE_BUCKETS];
    group *groups;
    int n_shown_groups;
    slot *by_label; /* shown groups by component label */
    slot *by_id;    /* shown members by id */
    int n_by_id;
    sample above, below;
    /* the run's rule, then stricter similarities, then (verified runs) the
     * run's similarity with stricter verifier scores */
    dg_sweep_row sweep[SWEEP_ROWS];
    int n_sim_rows, n_verify_rows;
    thumb *thumbs;
    int n_thumbs;
} report;

static int cmp_slot(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static const slot *find_slot(const slot *s, int n, int64_t key)
{
    slot probe = {key, 0, 0};
    return n > 0 ? bsearch(&probe, s, (size_t)n, sizeof *s, cmp_slot) : NULL;
}

static uint64_t pair_hash(int64_t a, int64_t b)
{
    return dg_mix64((uint64_t)a ^ dg_mix64((uint64_t)b));
}

/* ---- samples ------------------------------------------------------------ */

static int sample_init(sample *s, int cap, dg_err *err)
{
    s->n = 0;
    s->cap = cap;
    s->p = dg_alloc((size_t)cap, sizeof *s->p, err);
    return s->p ? DG_OK : DG_FAIL;
}

static void sample_offer(sample *s, int64_t a, int64_t b, float sim)
{
    uint64_t h = pair_hash(a, b);
    if (s->cap == 0 || (s->n == s->cap && h >= s->p[s->n - 1].hash))
        return;
    int at = s->n < s->cap ? s->n++ : s->n - 1;
    while (at > 0 && s->p[at - 1].hash > h) {
        s->p[at] = s->p[at - 1];
        at--;
    }
    s->p[at] = (pair){a, b, sim, h};
}

static int cmp_sim_up(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->sim != y->sim)
        return x->sim < y->sim ? -1 : 1;
    return (x->hash > y->hash) - (x->hash < y->hash);
}

static int cmp_sim_down(const void *a, const void *b)
{
    return cmp_sim_up(b, a);
}

/* ---- per-item columns and the group statistics ------------------------- */

/* The threshold the run used (the typed attribute, or for files of format 1
 * and 2 the config text, as dg_h5_read_facts takes it). */
static int read_threshold(report *r, dg_err *err)
{
    float t = r->facts.settings.threshold;
    if (!(t > 0.0f && t <= 1.0f))
        return dg_failc(err, DG_E_INPUT, "%s: the run's pairs.threshold is not known (neither a pairs_threshold "
                        "attribute nor a config attribute that gives it)", r->path);
    r->threshold = t;
    return DG_OK;
}

static int load_columns(report *r, dg_err *err)
{
    r->n = r->facts.n_items;
    r->status = dg_alloc((size_t)r->n, 1, err);
    r->keep = dg_alloc((size_t)r->n, 1, err);
    r->component = dg_alloc((size_t)r->n, sizeof *r->component, err);
    if (!r->status || !r->keep || !r->component ||
        dg_h5_read_item_column(r->path, "status", 0, r->n, DG_H5_INT8, r->status, err) != DG_OK ||
        dg_h5_read_item_column(r->path, "keep", 0, r->n, DG_H5_INT8, r->keep, err) != DG_OK ||
        dg_h5_read_item_column(r->path, "component", 0, r->n, DG_H5_INT64, r->component, err) != DG_OK)
        return DG_FAIL;
    for (int64_t i = 0; i < r->n; i++) {
        int8_t s = r->status[i];
        r->by_status[s >= 0 && s < DG_ST_COUNT ? s : DG_ST_COUNT]++;
        r->usable += dg_status_usable(s);
        if (r->component[i] < 0 || r->component[i] >= r->n)
            return dg_failc(err, DG_E_INPUT, "%s: /items/component[%lld] = %lld is not an item id", r->path, (long long)i,
                           (long long)r->component[i]);
    }
    return DG_OK;
}

/* Orders groups by size (largest first), then by label. */
static int group_before(int64_t size_a, int64_t label_a, const group *b)
{
    return size_a > b->size || (size_a == b->size && label_a < b->label);
}

/* Keeps the p->groups largest groups in r->groups, sorted. */
static void offer_group(report *r, int64_t label, int64_t size)
{
    int cap = r->p->groups;
    if (cap == 0 || (r->n_shown_groups == cap && !group_before(size, label, &r->groups[cap - 1])))
        return;
    int at = r->n_shown_groups < cap ? r->n_shown_groups++ : cap - 1;
    while (at > 0 && group_before(size, label, &r->groups[at - 1])) {
        r->groups[at].label = r->groups[at - 1].label;
        r->groups[at].size = r->groups[at - 1].size;
        at--;
    }
    r->groups[at].label = label;
    r->groups[at].size = size;
}

static int size_bucket(int64_t size)
{
    int b = 0;
    while (size > 1 && b < SIZE_BUCKETS - 1) {
        size >>= 1;
        b++;
    }
    return b;
}

static int find_groups(report *r, dg_err *err)
{
    int64_t *size = dg_calloc((size_t)r->n, sizeof *size, err);
    if (!size)
        return DG_FAIL;
    for (int64_t i = 0; i < r->n; i++)
        if (dg_status_usable(r->status[i]))
            size[r->component[i]]++;
    for (int64_t label = 0; label < r->n; label++) {
        if (size[label] < 2)
            continue;
        r->n_groups++;
        r->grouped += size[label];
        r->size_hist[size_bucket(size[label])]++;
        offer_group(r, label, size[label]);
    }
    free(size);
    return DG_OK;
}

static int alloc_groups(report *r, dg_err *err)
{
    int g = r->p->groups, m = r->p->members;
    r->groups = dg_calloc((size_t)g, sizeof *r->groups, err);
    r->by_label = dg_alloc((size_t)g, sizeof *r->by_label, err);
    r->by_id = dg_alloc((size_t)g * (size_t)m, sizeof *r->by_id, err);
    if (!r->groups || !r->by_label || !r->by_id)
        return DG_FAIL;
    for (int i = 0; i < g; i++) {
        group *gr = &r->groups[i];
        gr->shown = dg_alloc((size_t)m, sizeof *gr->shown, err);
        gr->to_kept = dg_alloc((size_t)m, sizeof *gr->to_kept, err);
        gr->best = dg_alloc((size_t)m, sizeof *gr->best, err);
        if (!gr->shown || !gr->to_kept || !gr->best)
            return DG_FAIL;
    }
    return DG_OK;
}

/* The kept item and the first members in id order of every shown group. */
static void pick_members(report *r)
{
    int m = r->p->members;
    for (int g = 0; g < r->n_shown_groups; g++) {
        r->by_label[g] = (slot){r->groups[g].label, g, 0};
        r->groups[g].kept = -1;
        r->groups[g].n_shown = 1; /* index 0 is the kept item's */
    }
    qsort(r->by_label, (size_t)r->n_shown_groups, sizeof *r->by_label, cmp_slot);
    for (int64_t i = 0; i < r->n; i++) {
        const slot *s = dg_status_usable(r->status[i]) ? find_slot(r->by_label, r->n_shown_groups, r->component[i])
                                                       : NULL;
        if (!s)
            continue;
        group *gr = &r->groups[s->group];
        if (r->keep[i] && gr->kept < 0)
            gr->kept = gr->shown[0] = i;
        else if (gr->n_shown < m)
            gr->shown[gr->n_shown++] = i;
    }
    for (int g = 0; g < r->n_shown_groups; g++) {
        group *gr = &r->groups[g];
        if (gr->kept < 0)
            memmove(gr->shown, gr->shown + 1, (size_t)--gr->n_shown * sizeof *gr->shown);
        gr->sim_min = INFINITY;
        gr->sim_max = -INFINITY;
        for (int k = 0; k < gr->n_shown; k++) {
            gr->to_kept[k] = gr->best[k] = NAN;
            r->by_id[r->n_by_id++] = (slot){gr->shown[k], g, k};
        }
    }
    qsort(r->by_id, (size_t)r->n_by_id, sizeof *r->by_id, cmp_slot);
}

/* ---- the edge pass ------------------------------------------------------ */

static void note_member(report *r, int64_t id, int64_t other, float sim)
{
    const slot *s = find_slot(r->by_id, r->n_by_id, id);
    if (!s)
        return;
    group *gr = &r->groups[s->group];
    if (isnan(gr->best[s->index]) || sim > gr->best[s->index])
        gr->best[s->index] = sim;
    if (other == gr->kept)
        gr->to_kept[s->index] = sim;
}

static int note_edge(report *r, int64_t a, int64_t b, float sim, dg_err *err)
{
    if (a < 0 || a >= r->n || b < 0 || b >= r->n)
        return dg_failc(err, DG_E_INPUT, "%s: edge (%lld, %lld) is not between two of its %lld items", r->path, (long long)a,
                       (long long)b, (long long)r->n);
    const slot *s = find_slot(r->by_label, r->n_shown_groups, r->component[a]);
    if (s) {
        group *gr = &r->groups[s->group];
        gr->edges++;
        gr->sim_min = fminf(gr->sim_min, sim);
        gr->sim_max = fmaxf(gr->sim_max, sim);
        note_member(r, a, b, sim);
        note_member(r, b, a, sim);
    }
    if (sim < r->threshold + r->p->band)
        sample_offer(&r->above, a, b, sim);
    return DG_OK;
}

static int scan_edges(report *r, dg_err *err)
{
    int64_t total = r->facts.n_edges, cap = total < EDGE_CHUNK_ROWS ? total : EDGE_CHUNK_ROWS;
    int64_t *src = dg_alloc((size_t)cap, sizeof *src, err);
    int64_t *dst = dg_alloc((size_t)cap, sizeof *dst, err);
    float *sim = dg_alloc((size_t)cap, sizeof *sim, err);
    int rc = src && dst && sim ? DG_OK : DG_FAIL;
    for (int64_t lo = 0; rc == DG_OK && lo < total; lo += cap) {
        int64_t count = total - lo < cap ? total - lo : cap;
        rc = dg_h5_read_edge_rows(r->path, lo, count, src, dst, sim, err);
        for (int64_t i = 0; rc == DG_OK && i < count; i++)
            rc = note_edge(r, src[i], dst[i], sim[i], err);
    }
    free(src);
    free(dst);
    free(sim);
    if (rc == DG_OK)
        qsort(r->above.p, (size_t)r->above.n, sizeof *r->above.p, cmp_sim_up);
    return rc;
}

/* ---- pairs below the threshold (from /embeddings) ----------------------- */

typedef struct member {
    int32_t cluster;
    int64_t id;
} member;

static int cmp_member(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct quota {
    uint64_t order;
    int32_t cluster;
    int64_t take;
} quota;

static int cmp_quota(const void *a, const void *b)
{
    const quota *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->cluster > y->cluster) - (x->cluster < y->cluster);
}

/* Home clusters of clustering 0 (one cluster 0 for all items in exact mode);
 * -1 for unusable items. */
static int32_t *home_clusters(report *r, int32_t *k, dg_err *err)
{
    int32_t *home = dg_calloc((size_t)r->n, sizeof *home, err);
    if (!home)
        return NULL;
    if (r->facts.clusterings > 0 && dg_h5_read_item_clusters(r->path, 0, 0, r->n, home, err) != DG_OK) {
        free(home);
        return NULL;
    }
    *k = 1;
    for (int64_t i = 0; i < r->n; i++) {
        if (!dg_status_usable(r->status[i]))
            home[i] = -1;
        else if (home[i] >= *k)
            *k = home[i] + 1;
    }
    return home;
}

/* How many items of each cluster to take: clusters in hash order, each
 * whole until the budget runs out (the last one cut short).  *quotas is
 * indexed by cluster. */
static int64_t *cluster_quotas(const int32_t *home, int64_t n, int32_t k, int64_t budget, dg_err *err)
{
    int64_t *take = dg_calloc((size_t)k, sizeof *take, err);
    quota *q = dg_alloc((size_t)k, sizeof *q, err);
    if (!take || !q) {
        free(take);
        free(q);
        return NULL;
    }
    for (int32_t c = 0; c < k; c++)
        q[c] = (quota){dg_mix64((uint64_t)c), c, 0};
    for (int64_t i = 0; i < n; i++)
        if (home[i] >= 0)
            q[home[i]].take++;
    qsort(q, (size_t)k, sizeof *q, cmp_quota);
    for (int32_t c = 0; c < k && budget > 0; c++) {
        int64_t t = q[c].take < 2 ? 0 : (q[c].take < budget ? q[c].take : budget);
        take[q[c].cluster] = t;
        budget -= t;
    }
    free(q);
    return take;
}

/* The chosen items, grouped by cluster and in id order within one. */
static member *choose_members(report *r, int64_t *n_members, dg_err *err)
{
    int32_t k = 0;
    int32_t *home = home_clusters(r, &k, err);
    int64_t *take = home ? cluster_quotas(home, r->n, k, r->p->below_items, err) : NULL;
    member *m = take ? dg_alloc((size_t)r->p->below_items, sizeof *m, err) : NULL;
    *n_members = 0;
    for (int64_t i = 0; m && i < r->n; i++)
        if (home[i] >= 0 && take[home[i]] > 0) {
            take[home[i]]--;
            m[(*n_members)++] = (member){home[i], i};
        }
    if (m)
        qsort(m, (size_t)*n_members, sizeof *m, cmp_member);
    free(home);
    free(take);
    return m;
}

/* Pairs within each cluster run of the chosen items whose similarity lies
 * in [threshold - band, threshold). */
static void sample_below(report *r, const member *m, int64_t n, const float *vec, int d)
{
    for (int64_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && m[hi].cluster == m[lo].cluster; hi++)
            ;
        for (int64_t i = lo; i < hi; i++)
            for (int64_t j = i + 1; j < hi; j++) {
                float s = dg_sim_exact(vec + (size_t)i * (size_t)d, vec + (size_t)j * (size_t)d, d);
                if (s < r->threshold && s >= r->threshold - r->p->band)
                    sample_offer(&r->below, m[i].id, m[j].id, s);
            }
    }
}

static int find_below(report *r, dg_err *err)
{
    int d = r->facts.embedding_dim;
    r->counts->below_available = d > 0;
    if (d == 0 || r->p->below_items < 2)
        return DG_OK;
    int64_t n = 0;
    member *m = choose_members(r, &n, err);
    int64_t *ids = m ? dg_alloc((size_t)n, sizeof *ids, err) : NULL;
    float *vec = ids ? dg_alloc((size_t)n * (size_t)d, sizeof *vec, err) : NULL;
    int rc = vec ? DG_OK : DG_FAIL;
    for (int64_t i = 0; rc == DG_OK && i < n; i++)
        ids[i] = m[i].id;
    if (rc == DG_OK)
        rc = dg_h5_read_embeddings_at(r->path, ids, n, d, vec, err);
    if (rc == DG_OK) {
        sample_below(r, m, n, vec, d);
        qsort(r->below.p, (size_t)r->below.n, sizeof *r->below.p, cmp_sim_down);
    }
    free(m);
    free(ids);
    free(vec);
    return rc;
}

/* ---- thumbnails --------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    return (*x > *y) - (*x < *y);
}

/* Every item the page shows, sorted and distinct. */
static int64_t *shown_ids(const report *r, int *n, dg_err *err)
{
    size_t cap = (size_t)r->n_by_id + 2 * (size_t)(r->above.n + r->below.n) + 2 * SWEEP_ROWS * DG_SWEEP_SAMPLE;
    int64_t *ids = dg_alloc(cap, sizeof *ids, err);
    if (!ids)
        return NULL;
    size_t k = 0;
    for (int i = 0; i < r->n_by_id; i++)
        ids[k++] = r->by_id[i].key;
    const sample *both[2] = {&r->above, &r->below};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < both[s]->n; i++) {
            ids[k++] = both[s]->p[i].a;
            ids[k++] = both[s]->p[i].b;
        }
    for (int w = 0; w < r->n_sim_rows + r->n_verify_rows; w++)
        for (int i = 0; i < r->sweep[w].n_dropped; i++) {
            ids[k++] = r->sweep[w].dropped[i].a;
            ids[k++] = r->sweep[w].dropped[i].b;
        }
    qsort(ids, k, sizeof *ids, cmp_id);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || ids[i] != ids[u - 1])
            ids[u++] = ids[i];
    *n = (int)u;
    return ids;
}

static int make_dir(const char *dir, dg_err *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dg_failc(err, DG_E_OUTPUT, "%s: cannot create: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dg_failc(err, DG_E_OUTPUT, "%s: not a folder", dir);
    return DG_OK;
}

static int thumb_dst(const report *r, int64_t id, char *dst, size_t cap, dg_err *e)
{
    if ((size_t)snprintf(dst, cap, "%s/thumbs/%lld.jpg", r->outdir, (long long)id) < cap)
        return DG_OK;
    snprintf(e->msg, sizeof e->msg, "%s: path too long", r->outdir);
    return DG_FAIL;
}

static void count_thumb(report *r, const thumb *th, const char *why)
{
    if (th->ok) {
        r->counts->thumbnails++;
        return;
    }
    if (r->counts->thumbnails_failed++ == 0)
        snprintf(r->counts->first_failure, sizeof r->counts->first_failure, "%s", why);
}

static void make_thumb(report *r, dg_thumbnailer *t, thumb *th)
{
    char dst[THUMB_DST_MAX];
    const char *src = th->path;
    dg_err e = {0};
    if (src[0] == '\0')
        snprintf(e.msg, sizeof e.msg, "item %lld has no image path (embedding input)", (long long)th->id);
    else if (thumb_dst(r, th->id, dst, sizeof dst, &e) == DG_OK)
        th->ok = dg_thumbnail_write(t, src, dst, &th->w, &th->h, &e) == DG_OK;
    count_thumb(r, th, e.msg);
}

/* The shard an item path "SHARD:MEMBER" names (input.shards runs): the
 * longest of the n shard paths followed by ':' that starts it, and its
 * member; -1 for a file path. */
static int shard_of(const char *path, const char *shards, size_t stride, int64_t n, const char **member)
{
    int best = -1;
    size_t best_len = 0;
    for (int64_t s = 0; s < n; s++) {
        const char *sp = shards + (size_t)s * stride;
        size_t len = strlen(sp);
        if (len >= best_len && strncmp(path, sp, len) == 0 && path[len] == ':') {
            best = (int)s;
            best_len = len;
        }
    }
    *member = best >= 0 ? path + best_len + 1 : NULL;
    return best;
}

/* The thumbnails of the items in shard s (shard[i] == s, member[i] their
 * member names): one walk of it. */
static int shard_thumbs(report *r, dg_thumbnailer *t, const char *shard_path, int s, const int *shard,
                        const char **member, dg_err *err)
{
    int n = 0;
    for (int i = 0; i < r->n_thumbs; i++)
        n += shard[i] == s;
    if (n == 0)
        return DG_OK;
    dg_member_thumb *want = dg_calloc((size_t)n, sizeof *want, err);
    char *dsts = want ? dg_alloc((size_t)n, THUMB_DST_MAX, err) : NULL;
    int *item = dsts ? dg_alloc((size_t)n, sizeof *item, err) : NULL;
    int rc = item ? DG_OK : DG_FAIL;
    int k = 0;
    for (int i = 0; rc == DG_OK && i < r->n_thumbs; i++) {
        if (shard[i] != s)
            continue;
        char *dst = dsts + (size_t)k * THUMB_DST_MAX;
        dg_err e = {0};
        if (thumb_dst(r, r->thumbs[i].id, dst, THUMB_DST_MAX, &e) != DG_OK) {
            count_thumb(r, &r->thumbs[i], e.msg);
            continue;
        }
        want[k].member = member[i];
        want[k].dst = dst;
        item[k++] = i;
    }
    if (rc == DG_OK && k > 0)
        dg_thumbnail_shard(t, shard_path, want, k);
    for (int j = 0; rc == DG_OK && j < k; j++) {
        thumb *th = &r->thumbs[item[j]];
        th->ok = want[j].ok;
        th->w = want[j].w;
        th->h = want[j].h;
        count_thumb(r, th, want[j].why);
    }
    free(want);
    free(dsts);
    free(item);
    return rc;
}

/* /shards/path of an input.shards run; none (*n = 0) in other outputs. */
static int read_shard_paths(const report *r, char **buf, size_t *stride, int64_t *n, dg_err *err)
{
    size_t len = 0;
    dg_err absent = {0};
    *buf = NULL;
    *n = 0;
    if (dg_h5_string_shape(r->path, "/shards/path", n, &len, &absent) != DG_OK || *n == 0) {
        *n = 0;
        return DG_OK;
    }
    *stride = len + 1;
    *buf = dg_alloc((size_t)*n, *stride, err);
    if (!*buf)
        return DG_FAIL;
    return dg_h5_read_strings(r->path, "/shards/path", 0, *n, *buf, *stride, err);
}

/* Thumbnails of files one by one, then of shard members one shard walk at a time. */
static int fill_thumbs(report *r, dg_thumbnailer *t, dg_err *err)
{
    char *shards = NULL;
    size_t stride = 0;
    int64_t n_shards = 0;
    int *shard = dg_alloc((size_t)r->n_thumbs + 1, sizeof *shard, err);
    const char **member = shard ? dg_alloc((size_t)r->n_thumbs + 1, sizeof *member, err) : NULL;
    int rc = member ? read_shard_paths(r, &shards, &stride, &n_shards, err) : DG_FAIL;
    for (int i = 0; rc == DG_OK && i < r->n_thumbs; i++) {
        shard[i] = shard_of(r->thumbs[i].path, shards, stride, n_shards, &member[i]);
        if (shard[i] < 0)
            make_thumb(r, t, &r->thumbs[i]);
    }
    for (int64_t s = 0; rc == DG_OK && s < n_shards; s++)
        rc = shard_thumbs(r, t, shards + (size_t)s * stride, (int)s, shard, member, err);
    free(shards);
    free(shard);
    free(member);
    return rc;
}

static int make_thumbs(report *r, dg_err *err)
{
    char dir[DG_PATH_MAX + 16];
    int n = 0;
    int64_t *ids = shown_ids(r, &n, err);
    size_t stride = r->facts.path_len + 1;
    char *paths = ids ? dg_alloc((size_t)n, stride, err) : NULL;
    r->thumbs = paths ? dg_calloc((size_t)n, sizeof *r->thumbs, err) : NULL;
    dg_thumbnailer t = {0};
    int rc = r->thumbs ? DG_OK : DG_FAIL;
    if (rc == DG_OK && (size_t)snprintf(dir, sizeof dir, "%s/thumbs", r->outdir) >= sizeof dir)
        rc = dg_failc(err, DG_E_OUTPUT, "%s: path too long", r->outdir);
    if (rc == DG_OK)
        rc = make_dir(dir, err);
    if (rc == DG_OK)
        rc = dg_h5_read_item_paths_at(r->path, ids, n, paths, stride, err);
    for (int i = 0; rc == DG_OK && i < n; i++) {
        r->thumbs[i].id = ids[i];
        r->thumbs[i].path = strdup(paths + (size_t)i * stride);
        r->n_thumbs = i + 1;
        if (!r->thumbs[i].path)
            rc = dg_fail(err, "out of memory");
    }
    if (rc == DG_OK)
        rc = dg_thumbnailer_init(&t, r->p->thumb_size, r->p->thumb_quality, err);
    if (rc == DG_OK)
        rc = fill_thumbs(r, &t, err);
    dg_thumbnailer_free(&t);
    free(ids);
    free(paths);
    return rc;
}

static const thumb *find_thumb(const report *r, int64_t id)
{
    int lo = 0, hi = r->n_thumbs;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (r->thumbs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_thumbs && r->thumbs[lo].id == id ? &r->thumbs[lo] : NULL;
}

/* ---- the page ----------------------------------------------------------- */

/* Text for an HTML element or a quoted attribute value. */
static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
        }
    }
}

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<title>dupgraph report</title>\n<style>\n"
    "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}\n"
    "h1{margin-top:0}\nh2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
    "table{border-collapse:collapse}\ntd,th{padding:.25em .7em;text-align:left;vertical-align:top}\n"
    "table.facts th{font-weight:normal;color:#555}\n"
    ".items{display:flex;flex-wrap:wrap;gap:.6em}\n"
    "figure{margin:0;padding:.35em;width:172px;background:#fff;border:2px solid #ddd;border-radius:4px}\n"
    "figure.kept{border-color:#2a8a3a}\nfigure.removed{border-color:#c0504d}\n"
    "figure img{display:block;margin:0 auto}\n"
    ".noimg{width:160px;height:100px;background:#eee;color:#777;display:flex;align-items:center;"
    "justify-content:center;font-size:.8em}\n"
    "figcaption{font-size:.75em;margin-top:.3em;overflow-wrap:anywhere}\n"
    ".path{color:#555;font-family:monospace}\n.sim{font-size:1.3em;font-family:monospace}\n"
    "table.pairs td:first-child{width:12em}\n"
    "table.sweep td{vertical-align:top;padding:.2em .6em}\n.drop{display:inline-flex;gap:.3em;margin:.2em}\n"
    ".drop img{width:80px;height:auto}\n"
    ".tag{font-weight:bold}\n.note{color:#555}\n"
    "</style>\n</head>\n<body>\n";

/* One item: thumbnail (or a box saying there is none), a caption in our
 * own words (never data from the file) and the escaped path. */
static void write_figure(FILE *f, const report *r, int64_t id, const char *cls, const char *caption)
{
    const thumb *t = find_thumb(r, id);
    fprintf(f, "<figure class=\"%s\">", cls);
    if (t && t->ok)
        fprintf(f, "<img src=\"thumbs/%lld.jpg\" width=\"%d\" height=\"%d\" alt=\"item %lld\">", (long long)id,
                t->w, t->h, (long long)id);
    else
        fputs("<div class=\"noimg\">no preview</div>", f);
    fprintf(f, "<figcaption>%s<br>#%lld <span class=\"path\">", caption, (long long)id);
    html_text(f, t ? t->path : "");
    fputs("</span></figcaption></figure>\n", f);
}

static void write_fact(FILE *f, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void write_fact(FILE *f, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(f, "<tr><th>%s</th><td>", name);
    vfprintf(f, fmt, ap);
    fputs("</td></tr>\n", f);
    va_end(ap);
}

static double percent(int64_t a, int64_t b)
{
    return b > 0 ? 100.0 * (double)a / (double)b : 0.0;
}

static void write_failures(FILE *f, const report *r)
{
    int64_t failed = r->n - r->usable;
    fprintf(f, "<tr><th>failed</th><td>%lld", (long long)failed);
    const char *sep = " (";
    for (int s = 0; s <= DG_ST_COUNT; s++) {
        if (dg_status_usable((int8_t)s) || r->by_status[s] == 0)
            continue;
        fprintf(f, "%s%s %lld", sep, s < DG_ST_COUNT ? dg_status_name((dg_status)s) : "invalid",
                (long long)r->by_status[s]);
        sep = ", ";
    }
    fputs(failed ? ")</td></tr>\n" : "</td></tr>\n", f);
}

static void write_times(FILE *f, const report *r)
{
    double total = 0.0;
    fputs("<tr><th>time per stage</th><td>", f);
    for (int i = 0; i < r->facts.n_times; i++) {
        fprintf(f, "%s%s %.2f s", i ? ", " : "", r->facts.times[i].name, r->facts.times[i].seconds);
        total += r->facts.times[i].seconds;
    }
    fprintf(f, "%s(total %.2f s)</td></tr>\n", r->facts.n_times ? " " : "", total);
}

static void write_facts(FILE *f, const report *r)
{
    const dg_h5_facts *x = &r->facts;
    fputs("<h1>dupgraph report</h1>\n<p class=\"path\">", f);
    html_text(f, r->path);
    fputs("</p>\n<table class=\"facts\">\n", f);
    write_fact(f, "items", "%lld (%lld usable)", (long long)r->n, (long long)r->usable);
    write_failures(f, r);
    if (x->settings.forest)
        write_fact(f, "edges", "%lld: a spanning forest of the duplicate pairs (<code>graph.edges = forest</code>), "
                   "enough for the components and keeps but not every pair", (long long)x->n_edges);
    else
        write_fact(f, "duplicate pairs (edges)", "%lld", (long long)x->n_edges);
    write_fact(f, "components", "%lld, of which %lld duplicate groups of 2 or more items holding %lld items",
               (long long)x->n_components, (long long)r->n_groups, (long long)r->grouped);
    write_fact(f, "removed", "%lld (%.2f%% of usable items)", (long long)x->n_removed,
               percent(x->n_removed, r->usable));
    write_fact(f, "threshold", "cosine similarity &ge; %.4g", (double)r->threshold);
    if (x->settings.verify_enabled && x->settings.verify_agree_above < 1.0f)
        write_fact(f, "verification",
                   "a candidate below <code>verify.accept_above</code> needs a verifier score &ge; %.4g (from "
                   "similarity %.4g: &ge; %.4g)",
                   (double)x->settings.verify_threshold, (double)x->settings.verify_agree_above,
                   (double)x->settings.verify_agree_threshold);
    else if (x->settings.verify_enabled)
        write_fact(f, "verification", "a candidate below <code>verify.accept_above</code> needs a verifier score &ge; %.4g",
                   (double)x->settings.verify_threshold);
    if (x->clusterings)
        write_fact(f, "search", "%d clusterings", x->clusterings);
    else
        write_fact(f, "search", "exact (all pairs)");
    write_fact(f, "run", "dupgraph %s on %d ranks", x->program_version, x->ranks);
    write_times(f, r);
    fputs("</table>\n<p><a href=\"#groups\">largest groups</a> &middot; <a href=\"#above\">pairs just above "
          "the threshold</a> &middot; <a href=\"#below\">pairs just below it</a> &middot; <a href=\"#sweep\">around the "
          "threshold</a></p>\n",
          f);
}

static void write_histogram(FILE *f, const report *r)
{
    if (r->n_groups == 0)
        return;
    fputs("<h2>Group sizes</h2>\n<table class=\"facts\">\n<tr><th>items in group</th><th>groups</th></tr>\n", f);
    for (int b = 1; b < SIZE_BUCKETS; b++) {
        if (r->size_hist[b] == 0)
            continue;
        long long lo = 1LL << b, hi = b < 62 ? (1LL << (b + 1)) - 1 : lo;
        if (hi > lo)
            fprintf(f, "<tr><td>%lld&ndash;%lld</td><td>%lld</td></tr>\n", lo, hi, (long long)r->size_hist[b]);
        else
            fprintf(f, "<tr><td>%lld</td><td>%lld</td></tr>\n", lo, (long long)r->size_hist[b]);
    }
    fputs("</table>\n", f);
}

static void member_caption(const group *gr, int k, char *text, size_t len)
{
    if (gr->shown[k] == gr->kept)
        snprintf(text, len, "<span class=\"tag\">kept</span>");
    else if (!isnan(gr->to_kept[k]))
        snprintf(text, len, "<span class=\"tag\">removed</span> %.4f to kept", (double)gr->to_kept[k]);
    else if (!isnan(gr->best[k]))
        snprintf(text, len, "<span class=\"tag\">removed</span> no direct edge to kept; strongest %.4f",
                 (double)gr->best[k]);
    else
        snprintf(text, len, "<span class=\"tag\">removed</span>");
}

static void write_group(FILE *f, const report *r, int g)
{
    const group *gr = &r->groups[g];
    char caption[160];
    fprintf(f, "<h3>Group %d: %lld items (component %lld), %lld %sedges", g + 1, (long long)gr->size,
            (long long)gr->label, (long long)gr->edges, r->facts.settings.forest ? "forest " : "");
    if (gr->edges > 0)
        fprintf(f, ", similarity %.4f&ndash;%.4f", (double)gr->sim_min, (double)gr->sim_max);
    fputs("</h3>\n<div class=\"items\">\n", f);
    for (int k = 0; k < gr->n_shown; k++) {
        member_caption(gr, k, caption, sizeof caption);
        write_figure(f, r, gr->shown[k], gr->shown[k] == gr->kept ? "kept" : "removed", caption);
    }
    fputs("</div>\n", f);
    if (gr->size > gr->n_shown)
        fprintf(f, "<p class=\"note\">and %lld more items not shown</p>\n", (long long)(gr->size - gr->n_shown));
}

static void write_groups(FILE *f, const report *r)
{
    fprintf(f, "<h2 id=\"groups\">Largest duplicate groups (%d of %lld)</h2>\n", r->n_shown_groups, (long long)r->n_groups);
    if (r->n_shown_groups == 0)
        fputs("<p class=\"note\">No duplicates were found at this threshold.</p>\n", f);
    for (int g = 0; g < r->n_shown_groups; g++)
        write_group(f, r, g);
}

static void write_pair_item(FILE *f, const report *r, int64_t id)
{
    int kept = r->keep[id] != 0;
    write_figure(f, r, id, kept ? "kept" : "removed",
                 kept ? "<span class=\"tag\">kept</span>" : "<span class=\"tag\">removed</span>");
}

/* One row per pair: similarity, what the graph made of it, both items. */
static void write_pairs(FILE *f, const report *r, const sample *s, int below)
{
    fputs("<table class=\"pairs\">\n<tr><th>similarity</th><th>item</th><th>item</th></tr>\n", f);
    for (int i = 0; i < s->n; i++) {
        const pair *p = &s->p[i];
        const char *note = !below ? "a duplicate pair (edge)"
                           : r->component[p->a] == r->component[p->b] ? "no edge, but one group through other pairs"
                                                                      : "no edge; in different groups";
        fprintf(f, "<tr><td><span class=\"sim\">%.4f</span><br><span class=\"note\">%s</span></td><td>\n",
                (double)p->sim, note);
        write_pair_item(f, r, p->a);
        fputs("</td><td>\n", f);
        write_pair_item(f, r, p->b);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void write_samples(FILE *f, const report *r)
{
    double t = r->threshold, band = r->p->band;
    fprintf(f, "<h2 id=\"above\">Pairs just above the threshold (%.4f to %.4f)</h2>\n", t, t + band);
    if (r->facts.settings.forest)
        fputs("<p class=\"note\">Sampled from the spanning forest the run stored (<code>graph.edges = "
              "forest</code>), not from every duplicate pair.</p>\n",
              f);
    if (r->above.n == 0)
        fputs("<p class=\"note\">No duplicate pair lies in this range.</p>\n", f);
    else
        write_pairs(f, r, &r->above, 0);
    fprintf(f, "<h2 id=\"below\">Pairs just below the threshold (%.4f to %.4f)</h2>\n", t - band, t);
    if (!r->counts->below_available)
        fputs("<p class=\"note\">Pairs below the threshold are not stored in the output file. Run the job with "
              "<code>output.embeddings = float32</code> to see a sample of them here.</p>\n",
              f);
    else if (r->below.n == 0)
        fprintf(f, "<p class=\"note\">No pair in this range among the %lld sampled items that share a home "
                   "cluster.</p>\n",
                (long long)r->p->below_items);
    else
        write_pairs(f, r, &r->below, 1);
}

static void write_sweep_table(FILE *f, const report *r, const dg_sweep_row *rows, int n, int by_verify)
{
    fprintf(f, "<table class=\"sweep\">\n<tr><th>%s</th><th>edges</th><th>removed items</th><th>%% of usable</th>"
               "<th>vs the run</th><th>a sample of the pairs this step drops</th></tr>\n",
            by_verify ? "verifier score &ge;" : "similarity &ge;");
    for (int i = 0; i < n; i++) {
        const dg_sweep_row *w = &rows[i];
        fprintf(f, "<tr><td>%.2f%s</td><td>%lld</td><td>%lld</td><td>%.2f</td><td>%+lld</td><td>\n",
                (double)(by_verify ? w->rule.min_verify : w->rule.min_sim), i == 0 ? " (the run)" : "",
                (long long)w->edges, (long long)w->removed, percent(w->removed, r->usable),
                (long long)(w->removed - rows[0].removed));
        for (int k = 0; k < w->n_dropped; k++) {
            const dg_sweep_pair *p = &w->dropped[k];
            char caption[96];
            if (isnan(p->verify))
                snprintf(caption, sizeof caption, "similarity %.3f", (double)p->sim);
            else
                snprintf(caption, sizeof caption, "similarity %.3f, verifier %.3f", (double)p->sim, (double)p->verify);
            fputs("<div class=\"drop\">", f);
            write_figure(f, r, p->a, "member", caption);
            write_figure(f, r, p->b, "member", "");
            fputs("</div>\n", f);
        }
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* How the removed items change with a stricter rule, from the stored edges. */
static void write_sweep(FILE *f, const report *r)
{
    fputs("<h2 id=\"sweep\">Around the threshold</h2>\n<p class=\"note\">Items each stricter rule would remove, "
          "counted from the stored edges (a looser rule needs a new run: weaker pairs are not stored; the pairs "
          "just below the threshold further down show what it would add).",
          f);
    if (r->facts.settings.forest)
        fputs(" This run stored a spanning forest of its pairs (<code>graph.edges = forest</code>): the row of the "
              "run is exact, but a stricter row counts only the forest's edges that pass it, while every pair "
              "passing it would join at least as much, so its removed items are a lower bound on what the same "
              "run in <code>graph.edges = all</code> mode would show, and its edges are forest edges.",
              f);
    if (r->n_verify_rows)
        fputs(" Candidate pairs below <code>verify.accept_above</code> became edges only when the verifier scored "
              "them at least <code>verify.threshold</code>; the second table raises that score.",
              f);
    fputs("</p>\n", f);
    write_sweep_table(f, r, r->sweep, r->n_sim_rows, 0);
    if (r->n_verify_rows)
        write_sweep_table(f, r, r->sweep + r->n_sim_rows, r->n_verify_rows, 1);
}

static int write_page(const report *r, dg_err *err)
{
    char path[DG_PATH_MAX + 32], tmp[DG_PATH_MAX + 32];
    if ((size_t)snprintf(path, sizeof path, "%s/index.html", r->outdir) >= sizeof path ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/index.html.tmp", r->outdir) >= sizeof tmp)
        return dg_failc(err, DG_E_OUTPUT, "%s: path too long", r->outdir);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return dg_failc(err, DG_E_OUTPUT, "%s: cannot create: %s", tmp, strerror(errno));
    fputs(page_head, f);
    write_facts(f, r);
    write_histogram(f, r);
    write_groups(f, r);
    write_sweep(f, r);
    write_samples(f, r);
    fputs("</body>\n</html>\n", f);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        unlink(tmp);
        return dg_failc(err, DG_E_OUTPUT, "%s: write failed", tmp);
    }
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return dg_failc(err, DG_E_OUTPUT, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
    }
    return DG_OK;
}

/* ---- around the threshold ----------------------------------------------- */

/* The rules of the table: the run's own first (it must remove what the run
 * removed), then stricter similarities at the run's verifier threshold,
 * then, for a verified run, stricter verifier scores at its similarity
 * (verify.threshold's: pairs the run took through verify.agree_above keep
 * the run's verify.agree_threshold).
 * The second group restarts from the run's rule (a copy of the first row),
 * so its first dropped sample is taken against the run's rule too. */
static int sweep(report *r, dg_err *err)
{
    const dg_h5_settings *st = &r->facts.settings;
    float v0 = st->verify_enabled ? st->verify_threshold : NAN;
    /* the run's second way in (verify.agree_above < 1), when the file says */
    float a_sim = st->verify_agree_above < 1.0f ? st->verify_agree_above : NAN, a0 = st->verify_agree_threshold;
    dg_sweep_row *row = r->sweep;
    row[0] = (dg_sweep_row){.rule = {r->threshold, v0, a_sim, a0}};
    int n = 1;
    for (int k = 1; k <= SWEEP_STEPS && r->threshold + k * SWEEP_STEP < 1.0f; k++)
        row[n++] = (dg_sweep_row){.rule = {r->threshold + k * SWEEP_STEP, v0, a_sim, a0}};
    r->n_sim_rows = n;
    if (dg_sweep_file(r->path, r->n, r->facts.n_edges, row, 0, n, err) != DG_OK)
        return DG_FAIL;
    if (!st->verify_enabled)
        return DG_OK;
    dg_sweep_row *vrow = row + n;
    vrow[0] = row[0];
    int m = 1;
    for (int k = 1; k <= SWEEP_STEPS && v0 + k * SWEEP_STEP < 1.0f; k++)
        vrow[m++] = (dg_sweep_row){.rule = {r->threshold, v0 + k * SWEEP_STEP, a_sim, a0}};
    if (m == 1)
        return DG_OK;
    r->n_verify_rows = m;
    /* vrow[0], the run's rule, is counted above already */
    return dg_sweep_file(r->path, r->n, r->facts.n_edges, vrow, 1, m, err);
}

/* ---- the whole report --------------------------------------------------- */

static void report_free(report *r)
{
    dg_h5_facts_free(&r->facts);
    free(r->status);
    free(r->keep);
    free(r->component);
    for (int g = 0; r->groups && g < r->p->groups; g++) {
        free(r->groups[g].shown);
        free(r->groups[g].to_kept);
        free(r->groups[g].best);
    }
    free(r->groups);
    free(r->by_label);
    free(r->by_id);
    free(r->above.p);
    free(r->below.p);
    for (int i = 0; i < r->n_thumbs; i++)
        free(r->thumbs[i].path);
    free(r->thumbs);
}

static int check_params(const dg_report_params *p, dg_err *err)
{
    if (p->groups < 0 || p->groups > 10000 || p->members < 1 || p->members > 1000 || p->pairs < 0 ||
        p->pairs > 10000 || !(p->band > 0.0f && p->band <= 2.0f) || p->below_items < 0)
        return dg_fail(err, "report: parameters out of range");
    return DG_OK;
}

static int build(report *r, dg_err *err)
{
    if (check_params(r->p, err) != DG_OK || dg_h5_read_facts(r->path, &r->facts, err) != DG_OK ||
        read_threshold(r, err) != DG_OK || load_columns(r, err) != DG_OK || alloc_groups(r, err) != DG_OK ||
        find_groups(r, err) != DG_OK || sample_init(&r->above, r->p->pairs, err) != DG_OK ||
        sample_init(&r->below, r->p->pairs, err) != DG_OK)
        return DG_FAIL;
    pick_members(r);
    if (scan_edges(r, err) != DG_OK || find_below(r, err) != DG_OK || sweep(r, err) != DG_OK ||
        make_dir(r->outdir, err) != DG_OK ||
        make_thumbs(r, err) != DG_OK)
        return DG_FAIL;
    r->counts->groups = r->n_shown_groups;
    r->counts->pairs_above = r->above.n;
    r->counts->pairs_below = r->below.n;
    return write_page(r, err);
}

int dg_report(const char *path, const char *outdir, const dg_report_params *p, dg_report_counts *counts,
              dg_err *err)
{
    report r;
    memset(&r, 0, sizeof r);
    memset(counts, 0, sizeof *counts);
    r.path = path;
    r.outdir = outdir;
    r.p = p;
    r.counts = counts;
    int rc = build(&r, err);
    report_free(&r);
    return rc;
}

int dg_report_command(int argc, char *const *argv, FILE *out, dg_err *err)
{
    const char *outdir = NULL;
    if (argc < 1 || argv[0][0] == '-')
        return dg_failc(err, DG_E_USAGE, "report needs an output file: report OUT.h5 -o OUTDIR");
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "-o") != 0 && strcmp(argv[i], "--output") != 0)
            return dg_failc(err, DG_E_USAGE, "report: unknown option '%s' (see dupgraph --help)", argv[i]);
        if (i + 1 >= argc)
            return dg_failc(err, DG_E_USAGE, "report: %s needs a folder", argv[i]);
        outdir = argv[i + 1];
    }
    if (!outdir)
        return dg_failc(err, DG_E_USAGE, "report needs -o OUTDIR");
    dg_report_params p;
    dg_report_counts c;
    dg_report_params_default(&p);
    if (dg_report(argv[0], outdir, &p, &c, err) != DG_OK)
        return DG_FAIL;
    fprintf(out, "report: %s/index.html (%d groups, %d pairs above and %d below the threshold, %d thumbnails)\n",
            outdir, c.groups, c.pairs_above, c.pairs_below, c.thumbnails);
    if (!c.below_available)
        fprintf(out, "report: no /embeddings in %s: run the job with output.embeddings = float32 to sample pairs "
                     "below the threshold\n",
                argv[0]);
    if (c.thumbnails_failed)
        fprintf(out, "report: %d items without a preview; the first: %s\n", c.thumbnails_failed, c.first_failure);
    return DG_OK;
}
