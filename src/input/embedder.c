/* embedder.c - choosing the embedder, running its stage (the image stage
 * around the shared decode loop), what the image embedders share, and the
 * two embedders without images: the embeddings file and the caller's
 * vectors.  The descriptor is embed.c's, the network neural.c's.  See
 * embedder.h. */
#include "input/embedder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "input/descriptor.h"
#include "input/embeddings.h"
#include "input/image_loop.h"
#include "input/signature.h"

/* ---- choosing, running, releasing ---------------------------------------- */

int dg_embedder_choose(dg_embedder *e, const dg_config *cfg, const dg_held_vectors *held, dg_err *err)
{
    memset(e, 0, sizeof *e);
    if (held)
        return dg_embedder_vectors(e, held, err);
    if (cfg->input_kind == DG_INPUT_EMBEDDINGS)
        dg_embedder_embeddings(e);
    else if (DG_INPUT_IS_IMAGES(cfg->input_kind) && cfg->embed_method == DG_EMBED_MOBILENET_V2)
        dg_embedder_mobilenet(e, cfg);
    else if (DG_INPUT_IS_IMAGES(cfg->input_kind))
        dg_embedder_descriptor(e);
    else
        return dg_failc(err, DG_E_CONFIG, "no input: set one of input.embeddings, input.manifest, input.dir, input.shards");
    return DG_OK;
}

int dg_embedder_run_images(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed,
                           dg_items *items, dg_err *err)
{
    memset(items, 0, sizeof *items);
    int rc = dg_items_from_list(items, listed, e->d, err);
    if (rc == DG_OK && cfg->verify_enabled && items->n > 0 && !(items->sig = dg_calloc((size_t)items->n, DG_SIG_BYTES, err)))
        rc = DG_FAIL;
    if (rc == DG_OK)
        rc = e->begin(e, cfg, items, err);
    dg_image_loop loop = {.progress = e->progress, .min_side = e->min_side, .content_box = e->content_box,
                          .step = e->step, .state = e, .shards = dg_embedder_shards(e)};
    if (dg_agree(ctx, rc, err) == DG_OK)
        rc = dg_agree(ctx, dg_image_loop_run(ctx, cfg, items, &loop, err), err);
    if (rc == DG_OK)
        rc = e->finish(e, ctx, cfg, items, &loop, err);
    if (rc != DG_OK)
        dg_items_free(items);
    return rc;
}

int dg_embedder_run(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_err *err)
{
    if (e->embed)
        return e->embed(e, ctx, cfg, items, err);
    dg_image_input *in = e->state;
    return dg_embedder_run_images(e, ctx, cfg, &in->listed, items, err);
}

void dg_embedder_drop_network(dg_embedder *e)
{
    if (e->net)
        dg_mobilenet_free(e->net);
    e->net = NULL;
}

void dg_embedder_release(dg_embedder *e)
{
    dg_embedder_drop_network(e);
    free(e->probs);
    e->probs = NULL;
    if (e->release)
        e->release(e);
    free(e->state);
    e->state = NULL;
}

/* ---- what the image embedders share -------------------------------------- */

/* input.shards: the collective listing; the items of this rank's range get
 * their paths, keys, urls and captions from the decode loop. */
static int shards_prepare(dg_image_input *in, const dg_ctx *ctx, const dg_config *cfg, dg_err *err)
{
    dg_shard_source *src = in->shards = dg_calloc(1, sizeof *src, err);
    if (dg_agree(ctx, src ? DG_OK : DG_FAIL, err) != DG_OK || dg_shard_plan_build(ctx, cfg, &src->plan, err) != DG_OK)
        return DG_FAIL;
    int64_t n = src->plan.first[src->plan.n];
    in->listed.n_total = n;
    in->listed.lo = dg_range_lo(n, ctx->size, ctx->rank);
    in->listed.n = dg_range_lo(n, ctx->size, ctx->rank + 1) - in->listed.lo;
    if (dg_agree(ctx, dg_shard_meta_alloc(&src->meta, in->listed.n, err), err) != DG_OK)
        return DG_FAIL;
    /* per item: "SHARD:MEMBER", the key and about 256 bytes of url and
     * caption (img2dataset's are shorter), each with malloc's overhead */
    size_t longest = 0;
    for (int s = 0; s < src->plan.n; s++)
        if (strlen(src->plan.path[s]) > longest)
            longest = strlen(src->plan.path[s]);
    in->path_bytes = (double)in->listed.n * ((double)longest + 64.0 + 32.0 + 256.0 + 4 * 16.0 + 28.0);
    MPI_Allreduce(MPI_IN_PLACE, &in->path_bytes, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
    return DG_OK;
}

int dg_image_input_prepare(dg_image_input *in, const dg_ctx *ctx, const dg_config *cfg, dg_err *err)
{
    if (cfg->input_kind == DG_INPUT_SHARDS)
        return shards_prepare(in, ctx, cfg, err);
    int rc = DG_OK;
    struct stat st;
    if (ctx->rank == 0 && stat(cfg->input_path, &st) != 0)
        rc = dg_failc(err, DG_E_INPUT, "input.%s %s: %s", cfg->input_kind == DG_INPUT_MANIFEST ? "manifest" : "dir",
                      cfg->input_path, strerror(errno));
    if (dg_agree(ctx, rc, err) != DG_OK || dg_list_input(ctx, cfg, &in->listed, err) != DG_OK)
        return DG_FAIL;
    dg_log(ctx, "list: %lld images in %s", (long long)in->listed.n_total, cfg->input_path);
    in->path_bytes = 0.0;
    for (int64_t i = 0; i < in->listed.n; i++)
        in->path_bytes += (double)strlen(in->listed.path[i]) + 1.0 + 16.0; /* + malloc's overhead */
    MPI_Allreduce(MPI_IN_PLACE, &in->path_bytes, 1, MPI_DOUBLE, MPI_MAX, ctx->comm);
    return DG_OK;
}

/* Each item adds a hash of (global index, path); the sum over ranks does
 * not depend on how they are split. */
int dg_image_input_identify(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, const dg_items *items,
                            uint64_t *id, dg_err *err)
{
    (void)cfg;
    (void)err;
    const dg_image_input *in = e->state;
    if (in->shards) { /* the same on every rank; the items' paths follow from it */
        *id = dg_shard_plan_identity(&in->shards->plan);
        return DG_OK;
    }
    const dg_pathlist *pl = &in->listed;
    char *const *path = items ? items->path : pl->path;
    int64_t lo = items ? items->lo : pl->lo, n = items ? items->n : pl->n;
    int64_t n_total = items ? items->n_total : pl->n_total;
    uint64_t local = 0, sum = 0;
    for (int64_t i = 0; i < n; i++)
        local += dg_mix64(dg_hash_string((uint64_t)(lo + i), path[i] ? path[i] : ""));
    MPI_Allreduce(&local, &sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    *id = dg_hash_bytes(sum, &n_total, sizeof n_total);
    return DG_OK;
}

/* Shards: the items read back get their paths and metadata from a walk
 * over their members' headers and sidecars (no image is read). */
static int shards_adopt(dg_shard_source *src, dg_items *items, dg_err *err)
{
    dg_shard_reader *r;
    if (dg_shard_reader_open(&src->plan, &src->meta, items->lo, items->n, 0, &r, err) != DG_OK)
        return DG_FAIL;
    dg_shard_item it;
    while (dg_shard_reader_next(r, &it) > 0) {
        free(items->path[it.i]);
        items->path[it.i] = it.path;
    }
    dg_shard_reader_close(r);
    return DG_OK;
}

/* The listed paths go to the items read back (same ranges by construction). */
int dg_image_input_adopt(dg_embedder *e, dg_items *items, const char *path, dg_err *err)
{
    dg_image_input *in = e->state;
    dg_pathlist *pl = &in->listed;
    if (pl->n_total != items->n_total || pl->lo != items->lo || pl->n != items->n)
        return dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: holds %lld items, the input lists %lld", path,
                        (long long)items->n_total, (long long)pl->n_total);
    if (in->shards)
        return shards_adopt(in->shards, items, err);
    for (int64_t i = 0; i < items->n; i++) {
        items->path[i] = pl->path[i];
        pl->path[i] = NULL;
    }
    return DG_OK;
}

/* See core/job_memory.c: sizes and path pointers per item (and the
 * verification signature), the path strings, the quantised descriptors
 * until the projection and the decoder at 8 bytes per pixel of
 * embed.max_pixels. */
void dg_image_input_memory(const dg_image_input *in, const dg_config *cfg, dg_embedder_memory *m)
{
    m->item_bytes = 24.0 + (cfg->verify_enabled ? DG_SIG_BYTES : 0.0);
    m->item_fixed = in->path_bytes;
    m->work_per_item = 2.0 * DG_DESC_DIM;
    m->decoder = 8.0 * (double)cfg->max_pixels;
}

void dg_image_input_free(dg_image_input *in)
{
    dg_pathlist_free(&in->listed);
    if (in->shards) {
        dg_shard_plan_free(&in->shards->plan);
        dg_shard_meta_free(&in->shards->meta);
        free(in->shards);
        in->shards = NULL;
    }
}

dg_shard_source *dg_embedder_shards(const dg_embedder *e)
{
    return e->images && e->state ? ((const dg_image_input *)e->state)->shards : NULL;
}

/* Shards: /items/{shard,key,url,caption} and /shards/{path,status}. */
int dg_image_input_columns(const dg_embedder *e, dg_extra_column *out, int max, int *n_out)
{
    const dg_shard_source *src = dg_embedder_shards(e);
    *n_out = 0;
    if (!src || max < 6)
        return DG_OK;
    const dg_shard_meta *m = &src->meta;
    const dg_shard_plan *p = &src->plan;
    out[0] = (dg_extra_column){"/items/shard", DG_COL_INT32, 1, 0, m->shard};
    out[1] = (dg_extra_column){"/items/key", DG_COL_STRING, 1, 0, m->key};
    out[2] = (dg_extra_column){"/items/url", DG_COL_STRING, 1, 0, m->url};
    out[3] = (dg_extra_column){"/items/caption", DG_COL_STRING, 1, 0, m->caption};
    out[4] = (dg_extra_column){"/shards/path", DG_COL_STRING, 0, p->n, p->path};
    out[5] = (dg_extra_column){"/shards/status", DG_COL_STATUS, 0, p->n, p->status};
    *n_out = 6;
    return DG_OK;
}

/* ---- input.embeddings ---------------------------------------------------- */

/* The list of files and segments (emb_sources.h), the same on every rank. */
static int embeddings_prepare(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, int64_t *n_total, int *d,
                              dg_err *err)
{
    dg_emb_sources *s = dg_calloc(1, sizeof *s, err);
    if (dg_agree(ctx, s ? DG_OK : DG_FAIL, err) != DG_OK)
        return DG_FAIL;
    e->state = s;
    if (dg_h5_embeddings_sources(ctx, cfg->input_path, cfg->input_dataset, s, err) != DG_OK)
        return DG_FAIL;
    *n_total = s->n_total;
    *d = s->d;
    if (s->n_inputs > 1 || s->n_segments > 1)
        dg_log(ctx, "input.embeddings: %d files, %d source datasets, %lld x %d", s->n_inputs, s->n_segments,
               (long long)s->n_total, s->d);
    return DG_OK;
}

static int embeddings_read(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_err *err)
{
    (void)cfg;
    return dg_agree(ctx, dg_h5_read_sources(ctx, e->state, items, err), err);
}

/* Every file the rows depend on (the listed files, a virtual dataset's
 * sources, external storage), by path, size and modification time, stat'ed
 * by rank 0. */
static int embeddings_identify(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, const dg_items *items,
                               uint64_t *id, dg_err *err)
{
    (void)cfg;
    (void)items;
    const dg_emb_sources *s = e->state;
    int rc = DG_OK;
    *id = 0;
    for (int i = 0; ctx->rank == 0 && rc == DG_OK && i < s->n_deps; i++) {
        struct stat st;
        if (stat(s->deps[i], &st) != 0) {
            rc = dg_failc(err, DG_E_INPUT, "input %s: %s", s->deps[i], strerror(errno));
            break;
        }
        int64_t fields[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
        *id = dg_hash_bytes(dg_hash_string(*id, s->deps[i]), fields, sizeof fields);
    }
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    MPI_Bcast(id, 1, MPI_UINT64_T, 0, ctx->comm);
    return DG_OK;
}

static void embeddings_inputs(const dg_embedder *e, dg_input_files *out)
{
    const dg_emb_sources *s = e->state;
    *out = (dg_input_files){(const char *const *)s->inputs, s->input_lo, s->n_inputs};
}

static void embeddings_release(dg_embedder *e)
{
    if (e->state)
        dg_emb_sources_free(e->state);
}

static void no_memory(const dg_embedder *e, const dg_config *cfg, dg_embedder_memory *m)
{
    (void)e;
    (void)cfg;
    memset(m, 0, sizeof *m);
}

void dg_embedder_embeddings(dg_embedder *e)
{
    *e = (dg_embedder){
        .name = "embeddings",
        .title = "read (embeddings, collective HDF5)",
        .stage = "read",
        .saved = 1,
        .reusable = 1,
        .prepare = embeddings_prepare,
        .memory = no_memory,
        .embed = embeddings_read,
        .identify = embeddings_identify,
        .inputs = embeddings_inputs,
        .release = embeddings_release,
    };
}

/* ---- vectors the caller holds -------------------------------------------- */

/* The caller's vectors (not ours to free) and their total over ranks,
 * counted once by prepare. */
typedef struct vectors_state {
    dg_held_vectors held;
    int64_t n_total;
} vectors_state;

/* Every rank's share must be the one dg_range_lo gives it, with the same
 * dimension everywhere. */
static int vectors_prepare(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, int64_t *n_total, int *d,
                           dg_err *err)
{
    (void)cfg;
    vectors_state *s = e->state;
    const dg_held_vectors *v = &s->held;
    int64_t n = v->n;
    int dims[2] = {v->d, -v->d};
    MPI_Allreduce(&n, &s->n_total, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    MPI_Allreduce(MPI_IN_PLACE, dims, 2, MPI_INT, MPI_MIN, ctx->comm);
    *n_total = s->n_total;
    *d = dims[0];
    int64_t want = dg_range_lo(*n_total, ctx->size, ctx->rank + 1) - dg_range_lo(*n_total, ctx->size, ctx->rank);
    int rc = DG_OK;
    if (dims[0] != -dims[1] || dims[0] < 1)
        rc = dg_failc(err, DG_E_INPUT, "vectors: the dimension must be the same positive number on every rank");
    else if (n != want || (n > 0 && !v->vec))
        rc = dg_failc(err, DG_E_INPUT, "vectors: rank %d holds %lld rows, its share of %lld is %lld (dg_range_lo)",
                      ctx->rank, (long long)n, (long long)*n_total, (long long)want);
    return dg_agree(ctx, rc, err);
}

/* Copied and L2-normalised. */
static int vectors_copy(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_err *err)
{
    (void)cfg;
    const vectors_state *s = e->state;
    const dg_held_vectors *v = &s->held;
    int64_t lo = dg_range_lo(s->n_total, ctx->size, ctx->rank);
    int rc = dg_items_alloc(items, s->n_total, lo, v->n, v->d, 0, err);
    if (dg_agree(ctx, rc, err) != DG_OK)
        return DG_FAIL;
    if (v->n > 0)
        memcpy(items->vec, v->vec, (size_t)v->n * (size_t)v->d * sizeof(float));
    int64_t bad = dg_items_normalize(items);
    MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT64_T, MPI_SUM, ctx->comm);
    if (bad > 0)
        dg_log(ctx, "read: %lld vectors with NaN/Inf or zero norm are bad_vector items", (long long)bad);
    return DG_OK;
}

/* The vectors' content (normalised), independent of the rank count. */
static int vectors_identify(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, const dg_items *items,
                            uint64_t *id, dg_err *err)
{
    (void)e;
    (void)cfg;
    (void)err;
    uint64_t local = 0, sum = 0;
    size_t row = (size_t)items->d * sizeof(float);
    for (int64_t i = 0; i < items->n; i++)
        local += dg_mix64(dg_hash_bytes((uint64_t)(items->lo + i), items->vec + (size_t)i * (size_t)items->d, row));
    MPI_Allreduce(&local, &sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    *id = dg_hash_bytes(sum, &items->n_total, sizeof items->n_total);
    return DG_OK;
}

int dg_embedder_vectors(dg_embedder *e, const dg_held_vectors *held, dg_err *err)
{
    vectors_state *s = dg_calloc(1, sizeof *s, err);
    if (!s)
        return DG_FAIL;
    s->held = *held;
    *e = (dg_embedder){
        .name = "vectors",
        .title = "read (vectors in memory)",
        .stage = "read",
        .prepare = vectors_prepare,
        .memory = no_memory,
        .embed = vectors_copy,
        .identify = vectors_identify,
        .state = s,
    };
    return DG_OK;
}
