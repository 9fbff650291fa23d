/* full_image.c - see full_image.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "full_image.h"
#include "input/decode.h"

void load_full_image(const char *path, dg_image *im)
{
    dg_decoder dec;
    dg_decode_result res;
    dg_err err;
    assert_int_equal(dg_decoder_init(&dec, 0, 1 << 20, &err), DG_OK);
    dg_decode_file(&dec, path, &res);
    /* the decoder owns the pixels: copy, free it, then assert */
    int status = res.status, alloc = status == DG_ST_OK ? dg_image_alloc(im, res.image.w, res.image.h, &err) : DG_FAIL;
    if (alloc == DG_OK)
        memcpy(im->px, res.image.rgb, (size_t)im->w * (size_t)im->h * 3);
    dg_decoder_free(&dec);
    assert_int_equal(status, DG_ST_OK);
    assert_int_equal(alloc, DG_OK);
}

const char *const smooth_renders[N_SMOOTH_RENDERS] = {
    "/usr/share/plymouth/themes/homeworld/plymouth_background_homeworld.png",
    "/usr/share/plymouth/themes/joy/background.png",
    "/usr/share/plymouth/themes/moonlight/background.png",
    "/usr/share/plymouth/themes/spacefun/background.png",
};
