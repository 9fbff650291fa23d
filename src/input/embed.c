/* embed.c - the descriptor embedder (embedder.h): the shared decode loop
 * (image_loop.c) hands it each usable image, whose descriptor it quantises;
 * after the loop it learns the projection over all ranks, projects and
 * normalises, and accounts for every item (counts, time).  Its state in the
 * checkpoint and in the output is the projection (/projection/ *).  The
 * pieces it strings together are manifest.c, decode.c, descriptor.c and
 * pca.c. */
#include "input/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/decode.h"
#include "input/descriptor.h"
#include "input/embedder.h"
#include "input/image_loop.h"
#include "input/manifest.h"
#include "input/pca.h"
#include "input/whitening.h"

static void count_statuses(const dg_ctx *ctx, const dg_items *items, dg_embed_stats *st)
{
    int64_t counts[DG_ST_COUNT] = {0};
    for (int64_t i = 0; i < items->n; i++)
        counts[items->status[i]]++;
    MPI_Allreduce(counts, st->status_count, DG_ST_COUNT, MPI_INT64_T, MPI_SUM, ctx->comm);
    st->n_items = items->n_total;
    st->n_usable = st->status_count[DG_ST_OK] + st->status_count[DG_ST_OK_WITH_WARNING];
}

static void log_summary(const dg_ctx *ctx, const dg_embed_model *model)
{
    const dg_embed_stats *st = &model->stats;
    char failed[512] = "";
    size_t len = 0;
    for (int s = DG_ST_OK_WITH_WARNING; s < DG_ST_COUNT && len < sizeof failed; s++)
        if (st->status_count[s] > 0)
            len += (size_t)snprintf(failed + len, sizeof failed - len, ", %lld %s",
                                    (long long)st->status_count[s], dg_status_name((dg_status)s));
    dg_log(ctx, "embed: %lld images, %lld usable%s", (long long)st->n_items, (long long)st->n_usable, failed);
    double work = st->seconds_read + st->seconds_decode + st->seconds_box + st->seconds_descriptor +
                  st->seconds_signature + st->seconds_project;
    dg_log(ctx,
           "embed: rank 0 did %lld images in %.2fs (%.0f/s): read %.2fs, decode %.2fs (%.0f%%), "
           "content box %.2fs, descriptor %.2fs, signature %.2fs, projection %.3fs; PCA %.3fs",
           (long long)st->n_local, work, work > 0 ? (double)st->n_local / work : 0.0, st->seconds_read,
           st->seconds_decode, work > 0 ? 100.0 * st->seconds_decode / work : 0.0, st->seconds_box,
           st->seconds_descriptor, st->seconds_signature, st->seconds_project, st->seconds_pca);
    if (model->fallback)
        dg_log(ctx, "embed: only %lld usable image(s) without variance: no PCA, the embedding is the first "
                    "%d descriptor values", (long long)model->n_fit, model->d);
}

static int check_config(const dg_config *cfg, dg_err *err)
{
    if (!DG_INPUT_IS_IMAGES(cfg->input_kind))
        return dg_fail(err, "image input needs input.manifest, input.dir or input.shards");
    if (cfg->embed_dim < 1 || cfg->embed_dim > DG_DESC_DIM)
        return dg_fail(err, "embed.dim = %d: must be between 1 and the descriptor length %d", cfg->embed_dim,
                       DG_DESC_DIM);
    if (dg_whitening_learned(cfg) && dg_whitening_desc_version != DG_DESC_VERSION)
        return dg_fail(err, "the learned whitening (src/input/whitening_table.c) is for descriptor version %d, this "
                       "is version %d: rerun jobs/learn_whitening.py, or set embed.whitening = corpus",
                       dg_whitening_desc_version, DG_DESC_VERSION);
    return DG_OK;
}

/* ---- the descriptor embedder --------------------------------------------- */

typedef struct descriptor_state {
    dg_image_input in; /* first: the image embedders' shared part */
    dg_embed_model model;
    int16_t *q;        /* n x DG_DESC_DIM quantised descriptors until the projection */
    int flip;
    dg_embed_stats st;
} descriptor_state;

static int descriptor_prepare(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, int64_t *n_total, int *d,
                              dg_err *err)
{
    descriptor_state *s = e->state = dg_calloc(1, sizeof(descriptor_state), err);
    if (dg_agree(ctx, s ? DG_OK : DG_FAIL, err) != DG_OK || dg_image_input_prepare(&s->in, ctx, cfg, err) != DG_OK)
        return DG_FAIL;
    *n_total = s->in.listed.n_total;
    *d = e->d = cfg->embed_dim;
    return DG_OK;
}

static void descriptor_memory(const dg_embedder *e, const dg_config *cfg, dg_embedder_memory *m)
{
    const descriptor_state *s = e->state;
    memset(m, 0, sizeof *m);
    dg_image_input_memory(&s->in, cfg, m);
}

static int descriptor_begin(dg_embedder *e, const dg_config *cfg, const dg_items *items, dg_err *err)
{
    descriptor_state *s = e->state;
    memset(&s->st, 0, sizeof s->st);
    s->st.n_local = items->n;
    s->flip = cfg->flip;
    dg_embed_model_free(&s->model);
    memset(&s->model, 0, sizeof s->model);
    if (check_config(cfg, err) != DG_OK)
        return DG_FAIL;
    s->q = dg_calloc((size_t)items->n, sizeof(int16_t) * DG_DESC_DIM, err);
    return s->q ? DG_OK : DG_FAIL;
}

/* The quantised descriptor of a usable image (box: its content box, which
 * the loop computes, content_box). */
static int descriptor_step(void *state, int64_t i, const dg_pixels *image, const int *box, dg_err *err)
{
    (void)err;
    descriptor_state *s = ((dg_embedder *)state)->state;
    float desc[DG_DESC_DIM];
    double t = dg_now();
    dg_descriptor(image, box, s->flip, desc);
    dg_descriptor_quantise(desc, s->q + (size_t)i * DG_DESC_DIM);
    s->st.seconds_descriptor += dg_now() - t;
    return DG_OK;
}

/* After the loop: learn the projection over all ranks, project, normalise. */
static int descriptor_finish(dg_embedder *e, const dg_ctx *ctx, const dg_config *cfg, dg_items *items,
                             const dg_image_loop *loop, dg_err *err)
{
    descriptor_state *s = e->state;
    dg_embed_stats *st = &s->st;
    dg_embed_model *model = &s->model;
    st->seconds_read = loop->seconds_read;
    st->seconds_decode = loop->seconds_decode;
    st->seconds_box = loop->seconds_box;
    st->seconds_signature = loop->seconds_signature;
    count_statuses(ctx, items, st);
    double t = dg_now();
    int rc = dg_pca_fit(ctx, s->q, items->status, items->n, cfg->embed_dim, cfg->flip,
                        dg_whitening_learned(cfg), model, err);
    st->seconds_pca = dg_now() - t;
    if (rc == DG_OK) {
        t = dg_now();
        rc = dg_pca_project(model, s->q, items->status, items->lo, items->n, items->vec, err);
        if (rc == DG_OK)
            dg_items_normalize(items);
        st->seconds_project = dg_now() - t;
    }
    free(s->q);
    s->q = NULL;
    if ((rc = dg_agree(ctx, rc, err)) != DG_OK) {
        dg_embed_model_free(model);
        return DG_FAIL;
    }
    model->stats = *st;
    log_summary(ctx, model);
    return DG_OK;
}

/* The learned projection: attributes and replicated arrays (rank 0 writes). */
static void descriptor_save(const dg_embedder *e, const dg_ctx *ctx, dg_embedder_saved *out)
{
    const dg_embed_model *m = &((const descriptor_state *)e->state)->model;
    int64_t r = ctx->rank == 0;
    out->arrays[0] = (dg_ck_array){"/model/mean", DG_CK_FLOAT32, m->d_in, 0, 0, r * m->d_in, m->mean};
    out->arrays[1] = (dg_ck_array){"/model/matrix", DG_CK_FLOAT32, m->d, m->d_in, 0, r * m->d, m->matrix};
    out->arrays[2] = (dg_ck_array){"/model/eigenvalues", DG_CK_FLOAT32, m->d, 0, 0, r * m->d, m->eigenvalues};
    out->arrays[3] = (dg_ck_array){"/model/info", DG_CK_FLOAT32, 4, 0, 0, r * 4, (void *)m->info};
    out->n_arrays = 4;
    out->attrs[0] = (dg_ck_attr){"model_d_in", m->d_in};
    out->attrs[1] = (dg_ck_attr){"model_d", m->d};
    out->attrs[2] = (dg_ck_attr){"model_flip", m->flip};
    out->attrs[3] = (dg_ck_attr){"model_fallback", m->fallback};
    out->attrs[4] = (dg_ck_attr){"model_n_fit", m->n_fit};
    out->n_attrs = 5;
}

static int descriptor_load(dg_embedder *e, const dg_ck_file *f, dg_err *err)
{
    descriptor_state *s = e->state;
    dg_embed_model *m = &s->model;
    int64_t v[5];
    const char *names[5] = {"model_d_in", "model_d", "model_flip", "model_fallback", "model_n_fit"};
    int rc = DG_OK;
    dg_embed_model_free(m);
    memset(m, 0, sizeof *m);
    for (int i = 0; rc == DG_OK && i < 5; i++)
        rc = dg_h5_ckpt_attr(f, names[i], &v[i], err);
    if (rc == DG_OK && (v[0] < 1 || v[0] > 65536 || v[1] < 1 || v[1] > 65536))
        rc = dg_failc(err, DG_E_CHECKPOINT, "checkpoint %s: impossible model shape %lld x %lld", f->path,
                      (long long)v[1], (long long)v[0]);
    if (rc == DG_OK) {
        *m = (dg_embed_model){.d_in = (int)v[0], .d = (int)v[1], .flip = (int)v[2], .fallback = (int)v[3],
                              .n_fit = v[4]};
        m->mean = dg_alloc((size_t)m->d_in, sizeof(float), err);
        m->matrix = dg_alloc((size_t)m->d * (size_t)m->d_in, sizeof(float), err);
        m->eigenvalues = dg_alloc((size_t)m->d, sizeof(float), err);
        rc = m->mean && m->matrix && m->eigenvalues ? DG_OK : DG_FAIL;
    }
    if (dg_agree(f->ctx, rc, err) != DG_OK)
        return DG_FAIL;
    dg_embedder_saved saved;
    descriptor_save(e, f->ctx, &saved);
    for (int i = 0; i < saved.n_arrays; i++) {
        saved.arrays[i].rows = saved.arrays[i].rows_total; /* every rank reads the whole model */
        if (dg_h5_ckpt_read(f, &saved.arrays[i], err) != DG_OK)
            return DG_FAIL;
    }
    return DG_OK;
}

static int descriptor_datasets(const dg_embedder *e, dg_extra_dataset *out, int max, int *n_out, dg_err *err)
{
    return dg_embed_model_datasets(&((const descriptor_state *)e->state)->model, out, max, n_out, err);
}

static void descriptor_release(dg_embedder *e)
{
    descriptor_state *s = e->state;
    if (!s)
        return;
    dg_image_input_free(&s->in);
    dg_embed_model_free(&s->model);
    free(s->q);
    s->q = NULL;
}

void dg_embedder_descriptor(dg_embedder *e)
{
    *e = (dg_embedder){
        .name = dg_config_enum_name("embed.method", DG_EMBED_DESCRIPTOR),
        .title = "embed (decode + descriptor + PCA)",
        .stage = "embed",
        .images = 1,
        .saved = 1,
        .reusable = 1,
        .prepare_title = "list (manifest or folder)",
        .prepare_stage = "list",
        .prepare = descriptor_prepare,
        .memory = descriptor_memory,
        .min_side = DG_DESC_SIZE,
        .content_box = 1,
        .progress = "embed",
        .begin = descriptor_begin,
        .step = descriptor_step,
        .finish = descriptor_finish,
        .identify = dg_image_input_identify,
        .save = descriptor_save,
        .load = descriptor_load,
        .adopt = dg_image_input_adopt,
        .columns = dg_image_input_columns,
        .datasets = descriptor_datasets,
        .release = descriptor_release,
    };
}

/* The same stage outside the job (tests, dg-embed-bench). */
int dg_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed, dg_items *items,
                    dg_embed_model *model, dg_err *err)
{
    memset(items, 0, sizeof *items);
    memset(model, 0, sizeof *model);
    descriptor_state s;
    memset(&s, 0, sizeof s);
    dg_embedder e;
    dg_embedder_descriptor(&e);
    e.state = &s;
    e.d = cfg->embed_dim;
    int rc = dg_agree(ctx, check_config(cfg, err), err);
    if (rc == DG_OK)
        rc = dg_embedder_run_images(&e, ctx, cfg, listed, items, err);
    free(s.q);
    if (rc != DG_OK) {
        dg_embed_model_free(&s.model);
        return DG_FAIL;
    }
    *model = s.model;
    return DG_OK;
}
