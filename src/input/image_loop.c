/* image_loop.c - the decode loop both image embedders share (descriptor:
 * embed.c, network: neural.c).  See image_loop.h. */
#include "input/image_loop.h"
#include "input/signature.h"

int dg_image_loop_run(const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_image_loop *loop,
                      dg_err *err)
{
    dg_decoder dec;
    if (dg_decoder_init(&dec, cfg->max_pixels, loop->min_side, err) != DG_OK)
        return DG_FAIL;
    dg_progress prog;
    dg_progress_begin(&prog, ctx, loop->progress, items->n);
    int rc = DG_OK;
    for (int64_t i = 0; rc == DG_OK && i < items->n; i++) {
        if (dg_stop_poll(ctx, DG_STOP_EMBED)) {
            rc = dg_failc(err, DG_E_STOPPED, DG_STOP_REASON);
            break;
        }
        if (loop->keep_status && !dg_status_usable(items->status[i]))
            continue;
        dg_decode_result res;
        dg_decode_file(&dec, items->path[i], &res);
        loop->seconds_read += res.seconds_read;
        loop->seconds_decode += res.seconds_decode;
        if (!loop->keep_status) {
            items->status[i] = (int8_t)res.status;
            items->width[i] = res.width;
            items->height[i] = res.height;
        }
        int usable = dg_status_usable((int8_t)res.status);
        if (res.status != DG_ST_OK && (!loop->keep_status || !usable))
            dg_log_rank(ctx, "%s: %s: %s", items->path[i], dg_status_name(res.status), res.msg);
        if (usable && items->sig && !loop->keep_status) /* a second pass decodes at another scale */
            dg_signature_make(&res.image, items->sig + (size_t)i * DG_SIG_BYTES);
        if (usable)
            rc = loop->step(loop->state, i, &res.image, err);
        dg_progress_update(&prog, i + 1);
    }
    dg_decoder_free(&dec);
    return rc;
}
