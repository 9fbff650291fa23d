/* signature.h - the per-item signature the verification stage compares
 * (signature.c, graph/verify.c): a small luminance thumbnail of the image
 * without its uniform borders, aspect ratio kept, equalised by rank.
 *
 * Layout of the DG_SIG_BYTES bytes: [0] DG_SIG_VERSION (0: no signature),
 * [1] width, [2] height (the longer side is DG_SIG_SIDE), [3] zero, then
 * DG_SIG_SIDE x DG_SIG_SIDE pixels row-major with a row stride of
 * DG_SIG_SIDE (cells beyond width x height are zero).
 */
#ifndef DUPGRAPH_INPUT_SIGNATURE_H
#define DUPGRAPH_INPUT_SIGNATURE_H

#include <stdint.h>

#include "input/decode.h"
#include "input/descriptor.h"

#define DG_SIG_SIDE 32
#define DG_SIG_HEADER 4
#define DG_SIG_BYTES (DG_SIG_HEADER + DG_SIG_SIDE * DG_SIG_SIDE)
#define DG_SIG_VERSION 11
/* The shorter side of a thumbnail is at least this (very long panoramas
 * are squeezed). */
#define DG_SIG_MIN_SIDE 8

/* Writes the signature of an image (any size >= 1 x 1) whose content box
 * is box (dg_content_box of the same pixels, input/descriptor.h).  Pure
 * function of the pixels and box. */
void dg_signature_make(const dg_pixels *img, const int box[DG_BOX_LEN], uint8_t *sig);

/* The signature of an image file as the built-in embedder decodes it:
 * dg_decode_file with dec (initialised with min_side DG_DESC_SIZE; its
 * max_pixels, as the job's embed.max_pixels, refuses larger images as
 * DG_ST_TOO_LARGE before decoding), dg_content_box, dg_signature_make
 * (signature_file.c).  Returns res->status; on an unusable status sig is
 * zeros (no signature) and res->msg says why.  For tools: the job's decode
 * loop (image_loop.c) makes the same calls with the descriptor in between
 * and each step timed. */
dg_status dg_signature_of_file(dg_decoder *dec, const char *path, uint8_t *sig, dg_decode_result *res);

/* Whether sig holds a signature (items without pixels have zeros). */
static inline int dg_signature_present(const uint8_t *sig)
{
    return sig[0] == DG_SIG_VERSION && sig[1] > 0 && sig[2] > 0;
}

#endif
