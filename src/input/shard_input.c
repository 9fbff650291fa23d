/* shard_input.c - input.shards in the job: the collective listing (rank 0
 * names and stats the shards, every rank lists a run of them, the counts are
 * gathered) and the per-rank reader of an id range.  The archive itself is
 * shards.c's.  See shard_input.h. */
#include "input/shard_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "input/decode.h"

/* KEY.json sidecars larger than this are not read (img2dataset's are < 4 KiB). */
#define MAX_SIDECAR_BYTES ((int64_t)1 << 20)
/* url and caption are kept up to this many bytes. */
#define MAX_TEXT 2048

int64_t dg_shard_member_cap(int64_t max_pixels)
{
    int64_t cap = (int64_t)DG_EMBED_MAX_FILE_BYTES;
    if (max_pixels > 0 && max_pixels < (cap >> 3))
        cap = 8 * max_pixels + ((int64_t)1 << 20);
    return cap < (int64_t)DG_EMBED_MAX_FILE_BYTES ? cap : (int64_t)DG_EMBED_MAX_FILE_BYTES;
}

void dg_shard_plan_free(dg_shard_plan *plan)
{
    for (int i = 0; plan->path && i < plan->n; i++)
        free(plan->path[i]);
    free(plan->path);
    free(plan->bytes);
    free(plan->mtime_ns);
    free(plan->status);
    free(plan->others);
    free(plan->first);
    memset(plan, 0, sizeof *plan);
}

/* ---- the listing ------------------------------------------------------------ */

/* Rank 0's names and stats, sent to every rank as NUL-separated text and
 * two int64 per shard. */
static int share_names(const dg_ctx *ctx, const dg_config *cfg, dg_shard_plan *plan, dg_err *err)
{
    dg_pathlist names = {0};
    char *text = NULL;
    long long len = 0, n = 0;
    int rc = DG_OK;
    if (ctx->rank == 0) {
        rc = dg_shards_names(cfg->input_path, &names, err);
        for (int64_t i = 0; rc == DG_OK && i < names.n; i++)
            len += (long long)strlen(names.path[i]) + 1;
        n = names.n;
        if (rc == DG_OK && (n > INT32_MAX / 4 || len > INT32_MAX))
            rc = dg_failc(err, DG_E_INPUT, "input.shards: %lld shards are too many", n);
        if (rc == DG_OK && !(text = dg_alloc((size_t)len + 1, 1, err)))
            rc = DG_FAIL;
        for (int64_t i = 0, off = 0; rc == DG_OK && i < names.n; i++) {
            size_t l = strlen(names.path[i]) + 1;
            memcpy(text + off, names.path[i], l);
            off += (int64_t)l;
        }
    }
    if (dg_agree(ctx, rc, err) != DG_OK)
        goto done;
    long long head[2] = {n, len};
    MPI_Bcast(head, 2, MPI_LONG_LONG, 0, ctx->comm);
    n = head[0];
    len = head[1];
    plan->n = (int)n;
    plan->path = dg_calloc((size_t)n, sizeof(char *), err);
    plan->bytes = dg_calloc((size_t)n, sizeof(int64_t), err);
    plan->mtime_ns = dg_calloc((size_t)n, sizeof(int64_t), err);
    plan->status = dg_calloc((size_t)n, sizeof(int8_t), err);
    plan->others = dg_calloc((size_t)n, sizeof(int64_t), err);
    plan->first = dg_calloc((size_t)n + 1, sizeof(int64_t), err);
    if (ctx->rank != 0)
        text = dg_alloc((size_t)len + 1, 1, err);
    rc = plan->path && plan->bytes && plan->mtime_ns && plan->status && plan->others && plan->first && text
             ? DG_OK : DG_FAIL;
    if (dg_agree(ctx, rc, err) != DG_OK)
        goto done;
    MPI_Bcast(text, (int)len, MPI_CHAR, 0, ctx->comm);
    for (int i = 0, off = 0; rc == DG_OK && i < plan->n; i++) {
        if (!(plan->path[i] = strdup(text + off)))
            rc = dg_failc(err, DG_E_INPUT, "out of memory listing shards");
        off += (int)strlen(text + off) + 1;
    }
    if (ctx->rank == 0)
        for (int i = 0; i < plan->n; i++) {
            struct stat st;
            int ok = stat(plan->path[i], &st) == 0;
            plan->bytes[i] = ok ? (int64_t)st.st_size : -1;
            plan->mtime_ns[i] = ok ? (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec : 0;
        }
    rc = dg_agree(ctx, rc, err);
    if (rc == DG_OK) {
        MPI_Bcast(plan->bytes, plan->n, MPI_INT64_T, 0, ctx->comm);
        MPI_Bcast(plan->mtime_ns, plan->n, MPI_INT64_T, 0, ctx->comm);
    }
done:
    dg_pathlist_free(&names);
    free(text);
    return rc;
}

/* This rank lists its run of shards; the records (status, images, others)
 * are gathered to every rank. */
static int list_runs(const dg_ctx *ctx, dg_shard_plan *plan, dg_err *err)
{
    int P = ctx->size;
    int *first = dg_calloc((size_t)P + 1, sizeof(int), err);
    int *counts = dg_calloc((size_t)P, sizeof(int), err);
    int *displs = dg_calloc((size_t)P, sizeof(int), err);
    int64_t *all = dg_calloc((size_t)plan->n * 3 + 1, sizeof(int64_t), err);
    int64_t *mine = NULL;
    int rc = first && counts && displs && all ? DG_OK : DG_FAIL;
    if (rc == DG_OK) {
        dg_shards_split(plan->bytes, plan->n, P, first);
        for (int p = 0; p < P; p++) {
            counts[p] = 3 * (first[p + 1] - first[p]);
            displs[p] = 3 * first[p];
        }
        rc = (mine = dg_calloc((size_t)counts[ctx->rank] + 1, sizeof(int64_t), err)) ? DG_OK : DG_FAIL;
    }
    if (dg_agree(ctx, rc, err) != DG_OK)
        goto done;
    for (int s = first[ctx->rank], k = 0; s < first[ctx->rank + 1]; s++, k++) {
        dg_shard_listing lst;
        dg_shard_list(plan->path[s], NULL, 0, &lst);
        if (lst.status != DG_ST_OK)
            dg_log_rank(ctx, "shard %s: %s: %s (%lld images listed before)", plan->path[s], dg_status_name(lst.status),
                        lst.msg, (long long)lst.images);
        mine[3 * k] = lst.status;
        mine[3 * k + 1] = lst.images;
        mine[3 * k + 2] = lst.others;
    }
    MPI_Allgatherv(mine, counts[ctx->rank], MPI_INT64_T, all, counts, displs, MPI_INT64_T, ctx->comm);
    plan->first[0] = 0;
    for (int s = 0; s < plan->n; s++) {
        plan->status[s] = (int8_t)all[3 * s];
        plan->first[s + 1] = plan->first[s] + all[3 * s + 1];
        plan->others[s] = all[3 * s + 2];
    }
done:
    free(first);
    free(counts);
    free(displs);
    free(all);
    free(mine);
    return rc;
}

int dg_shard_plan_build(const dg_ctx *ctx, const dg_config *cfg, dg_shard_plan *plan, dg_err *err)
{
    memset(plan, 0, sizeof *plan);
    plan->max_member = dg_shard_member_cap(cfg->max_pixels);
    if (share_names(ctx, cfg, plan, err) != DG_OK || list_runs(ctx, plan, err) != DG_OK) {
        dg_shard_plan_free(plan);
        return DG_FAIL;
    }
    int64_t others = 0, bytes = 0, bad = 0;
    for (int s = 0; s < plan->n; s++) {
        others += plan->others[s];
        bytes += plan->bytes[s] > 0 ? plan->bytes[s] : 0;
        bad += plan->status[s] != DG_ST_OK;
    }
    dg_log(ctx, "list: %lld images in %d shards (%.1f MiB) of %s; %lld other members not items; %lld shards "
                "damaged or unreadable",
           (long long)plan->first[plan->n], plan->n, (double)bytes / 1048576.0, cfg->input_path, (long long)others,
           (long long)bad);
    return DG_OK;
}

uint64_t dg_shard_plan_identity(const dg_shard_plan *plan)
{
    uint64_t h = dg_hash_bytes(0x5a4d5348u, &plan->n, sizeof plan->n);
    for (int s = 0; s < plan->n; s++) {
        int64_t fields[3] = {plan->bytes[s], plan->mtime_ns[s], plan->first[s + 1] - plan->first[s]};
        h = dg_hash_bytes(dg_hash_string(h, plan->path[s]), fields, sizeof fields);
    }
    return h;
}

/* ---- metadata ------------------------------------------------------------------ */

int dg_shard_meta_alloc(dg_shard_meta *meta, int64_t n, dg_err *err)
{
    memset(meta, 0, sizeof *meta);
    meta->n = n;
    meta->shard = dg_calloc((size_t)n + 1, sizeof(int32_t), err);
    meta->key = dg_calloc((size_t)n + 1, sizeof(char *), err);
    meta->url = dg_calloc((size_t)n + 1, sizeof(char *), err);
    meta->caption = dg_calloc((size_t)n + 1, sizeof(char *), err);
    if (!meta->shard || !meta->key || !meta->url || !meta->caption) {
        dg_shard_meta_free(meta);
        return DG_FAIL;
    }
    for (int64_t i = 0; i < n; i++)
        meta->shard[i] = -1;
    return DG_OK;
}

void dg_shard_meta_free(dg_shard_meta *meta)
{
    for (int64_t i = 0; i < meta->n; i++) {
        if (meta->key)
            free(meta->key[i]);
        if (meta->url)
            free(meta->url[i]);
        if (meta->caption)
            free(meta->caption[i]);
    }
    free(meta->shard);
    free(meta->key);
    free(meta->url);
    free(meta->caption);
    memset(meta, 0, sizeof *meta);
}

/* ---- the reader -------------------------------------------------------------------- */

struct dg_shard_reader {
    const dg_shard_plan *plan;
    dg_shard_meta *meta;
    int64_t lo, hi, next; /* global ids: the range and the next one handed over */
    int read_data;
    int shard;            /* open (or failed) shard, -1 before the first */
    dg_shard_walk *w;     /* NULL: none open, or the open failed (shard_status says why) */
    dg_shard_listing lst;
    int64_t seen;         /* image members of the shard walked so far */
    int ended;            /* the shard ended (or broke) before all its listed images */
    int64_t last;         /* local index of the last item handed over, -1: none in this shard */
    char pending_key[DG_PATH_MAX]; /* a KEY.json met before its image */
    char url[MAX_TEXT], caption[MAX_TEXT];
    int have_pending;
    unsigned char *buf;
    size_t cap;
};

int dg_shard_reader_open(const dg_shard_plan *plan, dg_shard_meta *meta, int64_t lo, int64_t n, int read_data,
                         dg_shard_reader **r, dg_err *err)
{
    dg_shard_reader *sr = dg_calloc(1, sizeof *sr, err);
    if (!sr)
        return DG_FAIL;
    *sr = (dg_shard_reader){.plan = plan, .meta = meta, .lo = lo, .hi = lo + n, .next = lo, .read_data = read_data,
                            .shard = -1, .last = -1};
    *r = sr;
    return DG_OK;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static void set_text(char **slot, const char *s)
{
    free(*slot);
    *slot = dup_or_empty(s);
}

/* A sidecar: to the last item when it is its sample, else kept for the
 * image that follows. */
static void take_sidecar(dg_shard_reader *r, const dg_member *m)
{
    char key[DG_PATH_MAX], msg[64];
    dg_shard_key(m->name, key, sizeof key);
    int to_last = r->last >= 0 && r->meta->key[r->last] && strcmp(r->meta->key[r->last], key) == 0;
    int ahead = r->next < r->hi && r->plan->first[r->shard] + r->seen == r->next;
    if ((!to_last && !ahead) || m->size > MAX_SIDECAR_BYTES ||
        dg_shard_read(r->w, m->size, &r->buf, &r->cap, msg, sizeof msg) != DG_OK)
        return;
    dg_shard_sidecar((const char *)r->buf, (size_t)m->size, r->url, r->caption, MAX_TEXT);
    if (to_last) {
        set_text(&r->meta->url[r->last], r->url);
        set_text(&r->meta->caption[r->last], r->caption);
    } else {
        snprintf(r->pending_key, sizeof r->pending_key, "%s", key);
        r->have_pending = 1;
    }
}

/* Reads the rest of the last item's sample (a KEY.json after KEY.jpg), up
 * to the next image or the next key. */
static void finish_sample(dg_shard_reader *r)
{
    while (r->w && !r->ended && r->last >= 0) {
        dg_member m;
        char key[DG_PATH_MAX];
        if (dg_shard_next(r->w, &m, &r->lst) <= 0)
            break;
        dg_shard_key(m.name, key, sizeof key);
        if (m.kind == DG_MEMBER_IMAGE || strcmp(key, r->meta->key[r->last]) != 0)
            break;
        if (m.kind == DG_MEMBER_JSON)
            take_sidecar(r, &m);
    }
}

static void close_shard(dg_shard_reader *r)
{
    finish_sample(r);
    dg_shard_close(r->w);
    r->w = NULL;
    r->last = -1;
    r->have_pending = 0;
}

/* Opens the shard holding id r->next. */
static void open_shard(dg_shard_reader *r)
{
    const dg_shard_plan *p = r->plan;
    int s = r->shard < 0 ? 0 : r->shard;
    while (s < p->n && p->first[s + 1] <= r->next)
        s++;
    r->shard = s;
    r->seen = 0;
    r->ended = 0;
    dg_shard_open(p->path[s], NULL, 0, &r->w, &r->lst);
    if (!r->w)
        r->ended = 1;
}

/* Fills the item for global id r->next (local index) and its metadata. */
static void hand_over(dg_shard_reader *r, dg_shard_item *it, const char *member)
{
    int64_t i = r->next - r->lo;
    const char *shard_path = r->plan->path[r->shard];
    char key[DG_PATH_MAX];
    dg_shard_key(member, key, sizeof key);
    memset(it, 0, sizeof *it);
    it->i = i;
    size_t len = strlen(shard_path) + strlen(member) + 2;
    if ((it->path = malloc(len)))
        snprintf(it->path, len, "%s:%s", shard_path, member);
    r->meta->shard[i] = r->shard;
    set_text(&r->meta->key[i], key);
    int sidecar = r->have_pending && strcmp(r->pending_key, key) == 0;
    set_text(&r->meta->url[i], sidecar ? r->url : "");
    set_text(&r->meta->caption[i], sidecar ? r->caption : "");
    r->have_pending = 0;
    r->last = i;
    r->next++;
}

/* An item of a shard that ended before it: the shard's reason. */
static void hand_over_lost(dg_shard_reader *r, dg_shard_item *it)
{
    char member[64];
    snprintf(member, sizeof member, "#%lld", (long long)r->seen);
    dg_status st = r->lst.status != DG_ST_OK ? r->lst.status : DG_ST_CORRUPT;
    char why[256];
    snprintf(why, sizeof why, "the shard ends before its image %lld: %.200s", (long long)r->seen,
             r->lst.msg[0] ? r->lst.msg : "changed since it was listed");
    hand_over(r, it, member);
    it->status = st;
    snprintf(it->msg, sizeof it->msg, "%s", why);
    r->seen++;
}

int dg_shard_reader_next(dg_shard_reader *r, dg_shard_item *it)
{
    while (r->next < r->hi) {
        if (r->shard < 0 || r->next >= r->plan->first[r->shard + 1]) {
            close_shard(r);
            open_shard(r);
        }
        if (r->ended) {
            hand_over_lost(r, it);
            return 1;
        }
        dg_member m;
        int got = dg_shard_next(r->w, &m, &r->lst);
        if (got <= 0) {
            r->ended = 1;
            continue;
        }
        if (m.kind == DG_MEMBER_JSON) {
            take_sidecar(r, &m);
            continue;
        }
        if (m.kind != DG_MEMBER_IMAGE)
            continue;
        int64_t id = r->plan->first[r->shard] + r->seen++;
        if (id < r->next)
            continue; /* before this rank's range: its data are skipped */
        hand_over(r, it, m.name);
        it->status = DG_ST_OK;
        if (!r->read_data)
            return 1;
        if (m.size > r->plan->max_member) {
            it->status = DG_ST_TOO_LARGE;
            snprintf(it->msg, sizeof it->msg, "member of %lld bytes, more than the %lld-byte cap (embed.max_pixels)",
                     (long long)m.size, (long long)r->plan->max_member);
        } else if (dg_shard_read(r->w, m.size, &r->buf, &r->cap, it->msg, sizeof it->msg) != DG_OK) {
            it->status = DG_ST_CORRUPT;
        } else {
            it->data = r->buf;
            it->len = (size_t)m.size;
        }
        return 1;
    }
    return 0;
}

void dg_shard_reader_close(dg_shard_reader *r)
{
    if (!r)
        return;
    close_shard(r);
    free(r->buf);
    free(r);
}
