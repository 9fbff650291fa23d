/* image_loop.c - the decode loop both image embedders share (descriptor:
 * embed.c, network: neural.c), over files or the members of tar shards.
 * See image_loop.h. */
#include "input/image_loop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/descriptor.h"
#include "input/signature.h"

/* Item i of the shard reader: decoded from memory (when `decode`), or the
 * reader's status. */
static void decode_member(dg_decoder *dec, dg_shard_reader *r, dg_items *items, int64_t i, int decode,
                          dg_decode_result *res)
{
    dg_shard_item it;
    double t = dg_now();
    if (dg_shard_reader_next(r, &it) <= 0 || it.i != i) {
        free(it.path);
        memset(res, 0, sizeof *res);
        res->status = DG_ST_MISSING;
        snprintf(res->msg, sizeof res->msg, "the shard reader lost item %lld", (long long)(items->lo + i));
        return;
    }
    double read = dg_now() - t;
    if (!items->path[i])
        items->path[i] = it.path;
    else
        free(it.path);
    if (it.status == DG_ST_OK && !decode) {
        memset(res, 0, sizeof *res);
    } else if (it.status == DG_ST_OK) {
        dg_decode_memory(dec, it.data, it.len, res);
    } else {
        memset(res, 0, sizeof *res);
        res->status = it.status;
        snprintf(res->msg, sizeof res->msg, "%s", it.msg);
    }
    res->seconds_read += read;
}

/* A usable image: its content box when the signature or the step needs
 * it, its signature, the step. */
static int image_step(dg_image_loop *loop, dg_items *items, int64_t i, const dg_pixels *image, dg_err *err)
{
    int sig = items->sig && !loop->keep_status; /* a second pass decodes at another scale */
    int box[DG_BOX_LEN];
    if (sig || loop->content_box) {
        double t = dg_now();
        dg_content_box(image, box);
        loop->seconds_box += dg_now() - t;
    }
    if (sig) {
        double t = dg_now();
        dg_signature_make(image, box, items->sig + (size_t)i * DG_SIG_BYTES);
        loop->seconds_signature += dg_now() - t;
    }
    return loop->step(loop->state, i, image, sig || loop->content_box ? box : NULL, err);
}

int dg_image_loop_run(const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_image_loop *loop,
                      dg_err *err)
{
    dg_decoder dec;
    if (dg_decoder_init(&dec, cfg->max_pixels, loop->min_side, err) != DG_OK)
        return DG_FAIL;
    dg_shard_reader *reader = NULL;
    if (loop->shards && dg_shard_reader_open(&loop->shards->plan, &loop->shards->meta, items->lo, items->n, 1, &reader,
                                             err) != DG_OK) {
        dg_decoder_free(&dec);
        return DG_FAIL;
    }
    dg_progress prog;
    dg_progress_begin(&prog, ctx, loop->progress, items->n);
    int rc = DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < items->n; i++) {
        if (dg_stop_poll(ctx, DG_STOP_EMBED)) {
            rc = dg_failc(err, DG_E_STOPPED, DG_STOP_REASON);
            break;
        }
        dg_decode_result res;
        if (reader) { /* the stream goes through every item, usable or not */
            int skip = loop->keep_status && !dg_status_usable(items->status[i]);
            decode_member(&dec, reader, items, i, !skip, &res);
            if (skip)
                continue;
        } else {
            if (loop->keep_status && !dg_status_usable(items->status[i]))
                continue;
            dg_decode_file(&dec, items->path[i], &res);
        }
        loop->seconds_read += res.seconds_read;
        loop->seconds_decode += res.seconds_decode;
        if (!loop->keep_status) {
            items->status[i] = (int8_t)res.status;
            items->width[i] = res.width;
            items->height[i] = res.height;
        }
        int usable = dg_status_usable((int8_t)res.status);
        if (res.status != DG_ST_OK && (!loop->keep_status || !usable))
            dg_log_rank(ctx, "%s: %s: %s", items->path[i] ? items->path[i] : "?", dg_status_name(res.status),
                        res.msg);
        if (usable)
            rc = image_step(loop, items, i, &res.image, err);
        dg_progress_update(&prog, i + 1);
    }
    dg_shard_reader_close(reader);
    dg_decoder_free(&dec);
    return rc;
}
