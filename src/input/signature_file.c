/* signature_file.c - the verification signature of one image file, for the
 * tools that need signatures without the job (dg-verify-pairs): decode as
 * the built-in embedder decodes (the decoder's scale and max_pixels limit),
 * content box, signature.  It owns no decoding or signature code of its
 * own: decode.c and signature.c do the work; see signature.h. */
#include "input/signature.h"

#include <string.h>

#include "input/descriptor.h"

dg_status dg_signature_of_file(dg_decoder *dec, const char *path, uint8_t *sig, dg_decode_result *res)
{
    dg_decode_file(dec, path, res);
    if (!dg_status_usable((int8_t)res->status)) {
        memset(sig, 0, DG_SIG_BYTES);
        return res->status;
    }
    int box[DG_BOX_LEN];
    dg_content_box(&res->image, box);
    dg_signature_make(&res->image, box, sig);
    return res->status;
}
