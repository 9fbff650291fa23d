/* embed.c - the embed stage of the job: list the input, decode and describe
 * this rank's share, learn the projection over all ranks, project and
 * normalise, and account for every item (status, log line, counts, time).
 * The pieces it strings together are manifest.c, decode.c, descriptor.c
 * and pca.c. */
#include "input/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/decode.h"
#include "input/descriptor.h"
#include "input/manifest.h"
#include "input/pca.h"

/* Decodes and describes every local item: q gets the quantised descriptor
 * of each usable item, statuses and sizes go to items. */
static int describe_all(const dg_ctx *ctx, const dg_config *cfg, dg_items *items, int16_t *q,
                        dg_embed_stats *st, dg_err *err)
{
    dg_decoder dec;
    if (dg_decoder_init(&dec, cfg->max_pixels, DG_DESC_SIZE, err) != DG_OK)
        return DG_FAIL;
    dg_progress prog;
    dg_progress_begin(&prog, ctx, "embed", items->n);
    float desc[DG_DESC_DIM];
    int rc = DG_OK;
    for (int64_t i = 0; i < items->n; i++) {
        if (dg_stop_poll(ctx, DG_STOP_EMBED)) {
            rc = dg_failc(err, DG_E_STOPPED, DG_STOP_REASON);
            break;
        }
        dg_decode_result res;
        dg_decode_file(&dec, items->path[i], &res);
        st->seconds_read += res.seconds_read;
        st->seconds_decode += res.seconds_decode;
        items->status[i] = (int8_t)res.status;
        items->width[i] = res.width;
        items->height[i] = res.height;
        if (res.status != DG_ST_OK)
            dg_log_rank(ctx, "%s: %s: %s", items->path[i], dg_status_name(res.status), res.msg);
        if (dg_status_usable(items->status[i])) {
            double t = dg_now();
            dg_descriptor(&res.image, cfg->flip, desc);
            dg_descriptor_quantise(desc, q + (size_t)i * DG_DESC_DIM);
            st->seconds_descriptor += dg_now() - t;
        }
        dg_progress_update(&prog, i + 1);
    }
    dg_decoder_free(&dec);
    return rc;
}

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
    double work = st->seconds_read + st->seconds_decode + st->seconds_descriptor + st->seconds_project;
    dg_log(ctx,
           "embed: rank 0 did %lld images in %.2fs (%.0f/s): read %.2fs, decode %.2fs (%.0f%%), "
           "descriptor %.2fs, projection %.3fs; PCA %.3fs",
           (long long)st->n_local, work, work > 0 ? (double)st->n_local / work : 0.0, st->seconds_read,
           st->seconds_decode, work > 0 ? 100.0 * st->seconds_decode / work : 0.0, st->seconds_descriptor,
           st->seconds_project, st->seconds_pca);
    if (model->fallback)
        dg_log(ctx, "embed: only %lld usable image(s) without variance: no PCA, the embedding is the first "
                    "%d descriptor values", (long long)model->n_fit, model->d);
}

static int check_config(const dg_config *cfg, dg_err *err)
{
    if (cfg->input_kind != DG_INPUT_MANIFEST && cfg->input_kind != DG_INPUT_DIR)
        return dg_fail(err, "image input needs input.manifest or input.dir");
    if (cfg->embed_dim < 1 || cfg->embed_dim > DG_DESC_DIM)
        return dg_fail(err, "embed.dim = %d: must be between 1 and the descriptor length %d", cfg->embed_dim,
                       DG_DESC_DIM);
    return DG_OK;
}

/* Everything after listing: decode, fit, project, normalise. */
static int embed_listed(const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_embed_model *model,
                        dg_err *err)
{
    dg_embed_stats st;
    memset(&st, 0, sizeof st);
    st.n_local = items->n;
    int16_t *q = dg_calloc((size_t)items->n, sizeof(int16_t) * DG_DESC_DIM, err);
    int rc = q ? describe_all(ctx, cfg, items, q, &st, err) : DG_FAIL;
    if ((rc = dg_agree(ctx, rc, err)) != DG_OK) {
        free(q);
        return DG_FAIL;
    }
    count_statuses(ctx, items, &st);
    double t = dg_now();
    rc = dg_pca_fit(ctx, q, items->status, items->n, cfg->embed_dim, cfg->flip, model, err);
    st.seconds_pca = dg_now() - t;
    if (rc == DG_OK) {
        t = dg_now();
        rc = dg_pca_project(model, q, items->status, items->lo, items->n, items->vec, err);
        if (rc == DG_OK)
            dg_items_normalize(items);
        st.seconds_project = dg_now() - t;
    }
    free(q);
    if ((rc = dg_agree(ctx, rc, err)) != DG_OK)
        return DG_FAIL;
    model->stats = st;
    return DG_OK;
}

int dg_embed_images(const dg_ctx *ctx, const dg_config *cfg, dg_pathlist *listed, dg_items *items,
                    dg_embed_model *model, dg_err *err)
{
    memset(items, 0, sizeof *items);
    memset(model, 0, sizeof *model);
    if (dg_agree(ctx, check_config(cfg, err), err) != DG_OK)
        return DG_FAIL;
    int rc = dg_items_from_list(items, listed, cfg->embed_dim, err);
    if (dg_agree(ctx, rc, err) != DG_OK || embed_listed(ctx, cfg, items, model, err) != DG_OK) {
        dg_items_free(items);
        dg_embed_model_free(model);
        return DG_FAIL;
    }
    log_summary(ctx, model);
    return DG_OK;
}
