/* image_loop.h - the one decode loop of the image embedders (image_loop.c):
 * every listed image of this rank decoded in turn, its status and size
 * recorded, a log line per bad image, progress, the stop poll; each usable
 * image goes to the embedder's per-image step, and its verification
 * signature (input/signature.h) into items->sig when that is allocated.
 * The content box both the signature and the descriptor describe is
 * computed here, once per image, and handed to both.
 * The bytes come from each item's file, or with input.shards from the
 * rank's shard reader (input/shard_input.h), which streams the shards of
 * its range once, in order, and names the items as it goes.
 */
#ifndef DUPGRAPH_INPUT_IMAGE_LOOP_H
#define DUPGRAPH_INPUT_IMAGE_LOOP_H

#include <stdint.h>

#include "dupgraph/config.h"
#include "dupgraph/context.h"
#include "dupgraph/items.h"
#include "input/decode.h"
#include "input/shard_input.h"

typedef struct dg_image_loop {
    const char *progress;  /* the progress line's title */
    int min_side;          /* the decoder's output scale (dg_decoder_init) */
    /* 0: every item is decoded, its status, width and height recorded;
     * 1: the items were embedded before (statuses kept): only the usable
     *    ones are decoded, and a log line is written only for one that
     *    does not decode now */
    int keep_status;
    /* 1: the step uses each image's content box (dg_content_box) */
    int content_box;
    /* Called with each usable decoded image (valid during the call), its
     * local index and its content box: computed once per image when the
     * step asks for it (content_box) or a signature is made (which uses
     * it too), else NULL.  A failure ends the loop. */
    int (*step)(void *state, int64_t i, const dg_pixels *image, const int *box, dg_err *err);
    void *state;
    /* input.shards: the shards and this rank's per-item metadata, filled as
     * the members are read (the items' paths too, when NULL); NULL: files */
    dg_shard_source *shards;
    /* this rank's seconds, added to */
    double seconds_read, seconds_decode, seconds_box, seconds_signature;
} dg_image_loop;

/* Local (no collective): runs the loop over items->path[0..n).  The stop
 * flag is polled (dg_stop_poll, DG_STOP_EMBED) before each item, so
 * job.stop_at = embed:N stops before this rank's N-th image with
 * DG_E_STOPPED.  A bad image never fails the loop. */
int dg_image_loop_run(const dg_ctx *ctx, const dg_config *cfg, dg_items *items, dg_image_loop *loop,
                      dg_err *err);

#endif
