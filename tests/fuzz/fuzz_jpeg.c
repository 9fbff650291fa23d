/* fuzz_jpeg.c - libFuzzer harness for the image path of a crawl's files:
 * dg_decode_memory (the marker scan up to the frame header, the size and
 * process checks, libjpeg-turbo's DCT-scaled decode, CMYK conversion, the
 * missing-rows judgement) and then the descriptor and its quantisation,
 * with one decoder reused across inputs as on a rank.
 *
 * Checked beyond "no crash, no UB, no leak": the status is a decode status
 * with a reason unless ok; a usable image has pixels of a sane size; every
 * descriptor value is finite and in [-1, 1], with and without flip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "input/decode.h"
#include "input/descriptor.h"
#include "input/pca.h"

/* embed.max_pixels of the default configuration. */
#define MAX_PIXELS 100000000

static dg_decoder decoder;

static void check(int ok, const char *what, const dg_decode_result *res)
{
    if (!ok) {
        fprintf(stderr, "fuzz_jpeg: %s (status %s, %d x %d, '%s')\n", what, dg_status_name(res->status), res->width,
                res->height, res->msg);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    dg_err err;
    if (dg_decoder_init(&decoder, MAX_PIXELS, DG_DESC_SIZE, &err) != DG_OK) {
        fprintf(stderr, "fuzz_jpeg: %s\n", err.msg);
        abort();
    }
    return 0;
}

static void check_descriptor(const dg_decode_result *res, int flip)
{
    float desc[DG_DESC_DIM];
    int16_t q[DG_DESC_DIM];
    int box[DG_BOX_LEN];
    dg_content_box(&res->image, box);
    check(0 <= box[0] && box[0] <= box[2] && box[2] <= res->image.w && 0 <= box[1] && box[1] <= box[3] &&
              box[3] <= res->image.h,
          "content box outside the image", res);
    dg_descriptor(&res->image, box, flip, desc);
    for (int i = 0; i < DG_DESC_DIM; i++)
        check(isfinite(desc[i]) && desc[i] >= -1.0f && desc[i] <= 1.0f, "descriptor value outside [-1, 1]", res);
    dg_descriptor_quantise(desc, q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dg_decode_result res;
    dg_decode_memory(&decoder, data, size, &res);
    check(res.status >= DG_ST_OK && res.status <= DG_ST_TOO_LARGE && res.status != DG_ST_MISSING &&
              res.status != DG_ST_UNREADABLE,
          "not a decode status", &res);
    check(res.status == DG_ST_OK || res.msg[0] != '\0', "failure without a reason", &res);
    if (!dg_status_usable((int8_t)res.status))
        return 0;
    const dg_pixels *img = &res.image;
    check(img->rgb && img->w >= 1 && img->h >= 1 && img->w <= res.width && img->h <= res.height &&
              (int64_t)img->w * img->h <= MAX_PIXELS,
          "usable image with bad pixels", &res);
    check_descriptor(&res, 0);
    check_descriptor(&res, 1);
    return 0;
}
